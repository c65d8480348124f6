/* options.h: the options every command takes, from the command line and
 * the config file (-c FILE, "key = value" lines, keys named like the long
 * options; the command line wins), plus the credentials of ARCHITECTURE.md §3.
 * One table in options.c describes each option once: the commands that
 * take it, whether it is a config key, its --help line. */
#ifndef AI_OPTIONS_H
#define AI_OPTIONS_H

#include <stdint.h>
#include "cmd/cmd.h"
#include "util/parse.h"
#include "util/result.h"
#include "store/store.h"

#define AI_MAX_TAGS 8
#define AI_MAX_FILTERS 16

/* All options of all commands; each command accepts a subset. Strings
 * are owned by the struct (release with ai_options_release). */
struct ai_options {
	char *source, *source_secondary, *source_sas_file, *source_key_file;
	char *dest, *dest_secondary, *dest_sas_file, *dest_key_file;
	char *witness, *witness_sas_file, *witness_key_file; /* another place for checkpoints */
	char *state_dir;           /* where the host's own checkpoints live */
	char *layout;              /* auto, continuous-export, diagnostic-settings */
	char *key;                 /* signing key file (init, run) */
	char *old_key;             /* run --rotate-key: the archive's current key file */
	char *pubkey;              /* public key file (verify, query, cat) */
	char *key_id;              /* pinned key id */
	char *output;              /* keygen -o */
	char *format;              /* table, jsonl, csv */
	char *fields;              /* cat --fields: CSV columns, dotted paths */
	char *sort;                /* cat --sort: "time" */
	char *prom;                /* status --prom FILE */
	char *cache_dir;
	char *subset;              /* verify --subset n/m */
	char *apps[AI_MAX_FILTERS];
	size_t napps;
	char *types[AI_MAX_FILTERS];
	size_t ntypes;
	char *roles[AI_MAX_FILTERS];
	size_t nroles;
	char *operation_ids[AI_MAX_FILTERS];
	size_t noperation_ids;
	char *tags[AI_MAX_TAGS];
	size_t ntags;
	int has_from, has_to;
	ai_time from, to;
	uint64_t jobs;
	uint64_t pack_size;
	int64_t lookback;          /* ns */
	int64_t grace;             /* ns */
	int64_t lock_duration;     /* ns */
	uint64_t max_tries;
	int64_t retry_total;       /* ns */
	int64_t connect_timeout;   /* ns */
	int64_t stall_timeout;     /* ns */
	int64_t older_than;        /* gc: age an unreferenced object must reach, ns */
	int dry_run, wait, error_on_nothing, data, no_cache, rotate_key;
	int raw;                   /* cat --raw */
	int help;
};

/* Sets the defaults. */
void ai_options_init(struct ai_options *o);
void ai_options_release(struct ai_options *o);

/* Parses argv (argv[0] is the command name) for cmd, accepting only the
 * options the table gives to cmd, then the config file ctx->config_path
 * or $AIARCHIVE_CONFIG (keys this command does not take are ignored,
 * unknown keys are errors; a command without config keys reads no file).
 * Prints one-line errors; on --help prints ai_options_help and sets
 * o->help. Arguments other than options, and a --from not before --to,
 * are usage errors. */
ai_result ai_options_parse(const struct ai_cmd *cmd, struct ai_ctx *ctx, int argc, char **argv,
                           struct ai_options *o) AI_MUST_CHECK;

/* Prints cmd's --help to f: usage line, summary, one line per option it
 * takes, and which of them the config file may set. */
void ai_options_help(FILE *f, const struct ai_cmd *cmd);

/* One option as --help shows it. */
struct ai_option_info {
	const char *name;   /* long name, without the dashes */
	int shortc;         /* its letter, or 0 */
	const char *arg;    /* its value's name in --help, or NULL for a flag */
	const char *help;
};
/* Calls fn for each option cmd takes, in --help order (for the shell
 * completions). */
void ai_options_each(const struct ai_cmd *cmd,
                     void (*fn)(void *ctx, const struct ai_option_info *opt), void *ctx);

/* Builds the store configuration for one side ("source", "dest" or
 * "witness"): location, secondary, and credentials (first found wins:
 * --X-sas-file, AIARCHIVE_X_SAS, --X-key-file, AIARCHIVE_X_KEY,
 * AIARCHIVE_X_CONNECTION_STRING). Secret strings are malloc'd into
 * *secrets (free with ai_options_free_secrets). */
struct ai_secrets {
	char *sas;
	char *key;
	char *connection_string;
};
ai_result ai_options_store_config(const struct ai_options *o, const char *side,
                                  struct ai_store_config *cfg,
                                  struct ai_secrets *secrets) AI_MUST_CHECK;
void ai_options_free_secrets(struct ai_secrets *s);

/* Opens one side's store (see above), reporting failures in one line. */
ai_result ai_options_open_store(const struct ai_options *o, const char *side,
                                struct ai_store **out) AI_MUST_CHECK;

/* The host's state directory (ARCHITECTURE.md §9.6): --state-dir, else
 * $STATE_DIRECTORY (its first entry), $XDG_STATE_HOME/aiarchive,
 * /var/lib/aiarchive. AI_ERR_CONFIG (logged) when it is not absolute or
 * too long. */
ai_result ai_options_state_dir(const struct ai_options *o, char *out, size_t cap) AI_MUST_CHECK;

struct ai_witnesses;
/* Sets up ws (already initialised for the archive) with the archive's
 * witnesses: the checkpoint in the state directory, and --witness when
 * given (opened here; a --state-dir or --witness named by the operator is
 * required, see witness.h). Failures are reported in one line. */
ai_result ai_options_witnesses(const struct ai_options *o, struct ai_witnesses *ws) AI_MUST_CHECK;

/* Checks app/type/role filters (empty list: everything matches). */
int ai_options_match(char *const *list, size_t n, const char *value);

#endif
