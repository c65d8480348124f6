/* cmd.c: the command table and the shared usage text. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/cmd.h"
#include "cmd/jsonout.h"
#include "cmd/options.h"
#include "util/log.h"
#include "util/progress.h"

const struct ai_cmd *const ai_cmds[] = {
	&ai_cmd_init,
	&ai_cmd_run,
	&ai_cmd_query,
	&ai_cmd_cat,
	&ai_cmd_verify,
	&ai_cmd_status,
	&ai_cmd_gc,
	&ai_cmd_keygen,
	&ai_cmd_version,
	&ai_cmd_completion,
	NULL,
};

const struct ai_cmd *ai_cmd_find(const char *name)
{
	for (size_t i = 0; ai_cmds[i]; i++)
		if (strcmp(ai_cmds[i]->name, name) == 0)
			return ai_cmds[i];
	return NULL;
}

void ai_usage(FILE *f)
{
	fprintf(f, "usage: aiarchive [-c FILE] [-v|-q] [--json] <command> [options]\n\n"
	           "Archives Azure Application Insights exports into a geo-redundant,\n"
	           "signed, indexed archive.\n\ncommands:\n");
	for (size_t i = 0; ai_cmds[i]; i++)
		fprintf(f, "  %-10s %s\n", ai_cmds[i]->name, ai_cmds[i]->summary);
	fprintf(f, "\nglobal options (before or after the command):\n");
	ai_options_help_global(f);
	fprintf(f, "\nexit codes: 0 ok, 1 partial, 2 usage/config, 3 auth, 4 verification failed,\n"
	           "5 locked, 6 network/service unavailable, 9 nothing new (--error-on-nothing)\n");
}

ai_result ai_cmd_usage_error(const struct ai_cmd *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ai_error("%s: %s (see 'aiarchive %s --help')", cmd->name, msg, cmd->name);
	return AI_ERR_USAGE;
}

void ai_cmd_failed(struct ai_ctx *ctx, const char *next, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->failure, sizeof ctx->failure, fmt, ap);
	va_end(ap);
	snprintf(ctx->next, sizeof ctx->next, "%s", next ? next : "");
}

/* What an exit code means for the next run (of run) and for the next
 * time another command runs: "LEAD<the next run> TAIL". */
static const struct {
	int code;
	const char *run_lead, *other_lead, *tail;
} next_steps[] = {
	{ 1, "what was recorded stays, the rest was not recorded; ", "what was done stays; ",
	  "tries again" },
	{ 2, "nothing was recorded; ", "nothing was changed; ",
	  "fails the same way until the command line or the configuration is fixed" },
	{ 3, "nothing was recorded; ", "nothing was changed; ",
	  "fails the same way until the credentials are fixed" },
	{ 4, "nothing was recorded; ", "nothing was changed; ",
	  "fails the same way until the archive (or the key trusted) is examined "
	  "(see 'aiarchive verify')" },
	{ 5, "nothing was done; ", "nothing was done; ", "tries again (--wait waits for it)" },
	{ 6, "what failed was not recorded; ", "nothing more was changed; ", "tries again" },
	{ 9, "the source had nothing new; ", "", "looks again" },
};

void ai_cmd_closing_line(const struct ai_ctx *ctx, const struct ai_cmd *cmd, ai_result r)
{
	int code = ai_exit_code(r), is_run = cmd == &ai_cmd_run;
	const char *what = ctx->failure, *first = ai_log_first_error();
	char next[512], line[2048];

	if (ctx->next[0]) {
		snprintf(next, sizeof next, "%s", ctx->next);
	} else {
		const char *lead = "", *tail = "tries again";

		for (size_t i = 0; i < sizeof next_steps / sizeof next_steps[0]; i++)
			if (next_steps[i].code == code) {
				lead = is_run ? next_steps[i].run_lead : next_steps[i].other_lead;
				tail = next_steps[i].tail;
			}
		/* Only run and gc have --wait; another command exits 5 when a
		 * file:// object stayed locked by another process. */
		if (code == 5 && !is_run && cmd != &ai_cmd_gc)
			tail = "tries again";
		snprintf(next, sizeof next, "%sthe next %s%s%s %s", lead, is_run ? "" : "'aiarchive ",
		         is_run ? "run" : cmd->name, is_run ? "" : "'", tail);
	}
	if (!what[0] && *first) {
		size_t n = strlen(cmd->name);

		/* Usage errors already start with the command's name. */
		what = first;
		if (strncmp(what, cmd->name, n) == 0 && strncmp(what + n, ": ", 2) == 0)
			what += n + 2;
	}
	if (!what[0])
		what = ai_strerror(r);
	snprintf(line, sizeof line, "%s: %s; %s; exit %d", cmd->name, what, next, code);
	/* The JSON first: with stderr on stdout, the closing line stays last. */
	ai_cmd_json_error(ctx, r, line);
	ai_say("%s", line);
}

void ai_cmd_object(struct ai_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->object, sizeof ctx->object, fmt, ap);
	va_end(ap);
}

void ai_cmd_json_error(const struct ai_ctx *ctx, ai_result r, const char *message)
{
	char clean[2048], object[1024];
	FILE *f = ctx->out ? ctx->out : stdout;

	if (!ctx->json)
		return;
	/* The same redaction as every message: no secret in the object. */
	ai_redact(message ? message : "", clean, sizeof clean);
	fprintf(f, "{\"error\":{\"code\":\"%s\",\"exit\":%d,\"message\":", ai_result_name(r),
	        ai_exit_code(r));
	ai_json_string(f, clean);
	fputs(",\"object\":", f);
	if (ctx->object[0]) {
		ai_redact(ctx->object, object, sizeof object);
		ai_json_string(f, object);
	} else {
		fputs("null", f);
	}
	fputs("}}\n", f);
	fflush(f);
}

ai_result ai_cmd_progress(const struct ai_cmd *cmd, const struct ai_ctx *ctx,
                          const struct ai_options *o, const char *unit, int rows_on_stdout,
                          struct ai_progress **out)
{
	int on;

	*out = NULL;
	if (o->progress && o->no_progress)
		return ai_cmd_usage_error(cmd, "--progress and --no-progress: give one");
	on = o->progress || (!o->no_progress && ctx->verbosity >= 0 && !ctx->json &&
	                     isatty(STDERR_FILENO) && !(rows_on_stdout && isatty(fileno(ctx->out))));
	if (on)
		*out = ai_progress_new(stderr, cmd->name, unit);
	return AI_OK;
}

ai_result ai_cmd_test_number(const char *var, unsigned long long max, size_t *out)
{
	const char *v = getenv(var);
	char *end;
	unsigned long long n;

	*out = 0;
	if (!v || !*v)
		return AI_OK;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n == 0 || n > max || *v == '-') {
		ai_error("%s: not a number from 1 to %llu: '%s'", var, max, v);
		return AI_ERR_USAGE;
	}
	*out = (size_t)n;
	return AI_OK;
}
