/* cmd.h: the command table. Each command lives in its own cmd_*.c file
 * and is listed in cmd.c; main dispatches by name. */
#ifndef AI_CMD_H
#define AI_CMD_H

#include <stdio.h>
#include "util/parse.h"
#include "util/result.h"

/* What the global options decided, handed to every command. */
struct ai_ctx {
	const char *config_path; /* -c FILE, or NULL */
	int json;                /* --json */
	int verbosity;           /* -1 quiet, 0 normal, >0 verbose */
	ai_time now;             /* the clock, read once in main */
	FILE *out;               /* where results go (stdout) */
	/* A failing command's own words for main's closing line (ai_cmd_failed):
	 * what failed, and what the next run does about it ("" = main's). */
	char failure[512];
	char next[256];
	/* The object a failure is about (a file, a blob, an option), for
	 * --json's error object ("" = null). */
	char object[512];
};

/* One bit per command: the option table (options.c) names with them the
 * commands that take each option. */
enum {
	AI_CMD_RUN = 1 << 0,
	AI_CMD_QUERY = 1 << 1,
	AI_CMD_CAT = 1 << 2,
	AI_CMD_VERIFY = 1 << 3,
	AI_CMD_STATUS = 1 << 4,
	AI_CMD_GC = 1 << 5,
	AI_CMD_KEYGEN = 1 << 6,
	AI_CMD_VERSION = 1 << 7,
	AI_CMD_INIT = 1 << 8,
	AI_CMD_COMPLETION = 1 << 9,
	/* Not a command: the options main parses before the command's name. */
	AI_CMD_MAIN = 1 << 10,
};

struct ai_cmd {
	const char *name;
	unsigned bit;        /* its AI_CMD_* bit */
	const char *args;    /* one-line synopsis of the arguments */
	const char *summary; /* one line for --help */
	int operands;        /* arguments besides the options it takes (0 or 1) */
	/* argv[0] is the command name; prints its own usage errors. */
	ai_result (*exec)(struct ai_ctx *ctx, int argc, char **argv);
};

extern const struct ai_cmd *const ai_cmds[];

const struct ai_cmd *ai_cmd_find(const char *name);
/* Prints the global usage text to f. */
void ai_usage(FILE *f);
/* Reports a usage error for cmd in one line and returns AI_ERR_USAGE. */
ai_result ai_cmd_usage_error(const struct ai_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Says what failed (printf style) and, when next is not NULL, what the
 * next run does about it, for the one line main prints last when the
 * command exits non-zero; without it main says the first error logged, or
 * the result's message, and what its exit code means for the next run. */
void ai_cmd_failed(struct ai_ctx *ctx, const char *next, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prints that closing line for cmd's result r (not AI_OK) on stderr, and
 * with --json the error object on ctx->out as the last line. */
void ai_cmd_closing_line(const struct ai_ctx *ctx, const struct ai_cmd *cmd, ai_result r);
/* With --json, writes {"error": {"code", "exit", "message", "object"}} for
 * r on ctx->out, one line (object: ctx->object, else null). */
void ai_cmd_json_error(const struct ai_ctx *ctx, ai_result r, const char *message);
/* Names the object a failure is about, for the JSON error object. */
void ai_cmd_object(struct ai_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct ai_options;
struct ai_progress;
/* The progress line (util/progress.h) cmd draws on stderr, counting unit:
 * with --progress always; else unless --no-progress, -q or --json, when
 * stderr is a terminal and, for a command whose results go to stdout
 * while it works (rows_on_stdout), stdout is not one (the rows would cut
 * through the line). *out is NULL for none (also when out of memory);
 * --progress with --no-progress is a usage error. */
ai_result ai_cmd_progress(const struct ai_cmd *cmd, const struct ai_ctx *ctx,
                          const struct ai_options *o, const char *unit, int rows_on_stdout,
                          struct ai_progress **out) AI_MUST_CHECK;

/* A test hook: the number from 1 to max in environment variable var, or
 * 0 when it is unset or empty; anything else is a usage error (logged). */
ai_result ai_cmd_test_number(const char *var, unsigned long long max, size_t *out) AI_MUST_CHECK;

extern const struct ai_cmd ai_cmd_cat;
extern const struct ai_cmd ai_cmd_completion;
extern const struct ai_cmd ai_cmd_gc;
extern const struct ai_cmd ai_cmd_init;
extern const struct ai_cmd ai_cmd_keygen;
extern const struct ai_cmd ai_cmd_query;
extern const struct ai_cmd ai_cmd_run;
extern const struct ai_cmd ai_cmd_status;
extern const struct ai_cmd ai_cmd_verify;
extern const struct ai_cmd ai_cmd_version;

#endif
