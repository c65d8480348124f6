/* options.h: the options every command takes, from the command line and
 * the config file (-c FILE, "key = value" lines, keys named like the long
 * options; the command line wins), where each came from, and the stores
 * of each side with their credentials (credential.h, ARCHITECTURE.md §3).
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
/* Rows of the option table (options.c checks it has no more). */
#define AI_OPTIONS_ROWS 80

/* Where an option's value came from. */
enum ai_from { AI_FROM_DEFAULT = 0, AI_FROM_CLI, AI_FROM_ENV, AI_FROM_CONFIG };

/* All options of all commands; each command accepts a subset. Strings
 * are owned by the struct (release with ai_options_release). */
struct ai_options {
	char *source, *source_secondary, *source_sas_file, *source_key_file;
	char *dest, *dest_secondary, *dest_sas_file, *dest_key_file;
	char *witness, *witness_sas_file, *witness_key_file; /* another place for checkpoints */
	char *source_auth, *dest_auth;           /* auth methods (store/auth/token.h names) */
	char *source_client_id, *dest_client_id; /* token methods' client ids */
	char *ca_file;             /* CA bundle for storage and token endpoints */
	char *state_dir;           /* where the host's own checkpoints live */
	char *layout;              /* auto, continuous-export, diagnostic-settings,
	                            * workspace-export */
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
	char *shard;               /* run --shard I/N */
	uint64_t shards;           /* run --shards N (I from JOB_COMPLETION_INDEX); 0: none */
	char *columns;             /* query, status: the table's columns, a,b,c */
	char *group_by;            /* query: app,type,hour (any of them, in order) */
	char *blob;                /* query, cat: one source blob's members */
	char *blob_prefix;         /* query, cat: the members of blobs named so */
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
	int64_t rescan;            /* run: also list the delivery hours of this long ago, ns; 0: off */
	int64_t grace;             /* ns */
	int64_t late_window;       /* ns: how long a workspace export's folder may grow */
	int64_t lock_duration;     /* ns */
	uint64_t max_tries;
	int64_t retry_total;       /* ns */
	int64_t connect_timeout;   /* ns */
	int64_t stall_timeout;     /* ns */
	int64_t older_than;        /* gc: age an unreferenced object must reach, ns */
	int dry_run, wait, error_on_nothing, data, no_cache, rotate_key;
	int dedupe;                /* cat: each record once */
	int raw;                   /* cat --raw */
	int wide;                  /* query, status: every column, nothing cut */
	int count;                 /* query: counts instead of members */
	int progress, no_progress; /* run, cat, verify: the progress line forced on or off */
	int help;
	int version;               /* -V before the command (main) */
	const char *operand;       /* the command's argument (completion's shell), argv's */
	/* Where each row's value came from (ai_options_origin). */
	unsigned char origin[AI_OPTIONS_ROWS];
	unsigned line[AI_OPTIONS_ROWS];   /* AI_FROM_CONFIG: its line */
	char *config_file;                /* the config file read, or NULL */
	unsigned cmd_bit;          /* the AI_CMD_* bit of the command parsed */
	const char *cmd_name;      /* and its name (static) */
};

/* Sets the defaults. */
void ai_options_init(struct ai_options *o);
void ai_options_release(struct ai_options *o);

/* Parses argv (argv[0] is the command name) for cmd, accepting only the
 * options the table gives to cmd and the global options (-c, -v, -q,
 * --json: into ctx, in any place), then the config file ctx->config_path
 * or $AIARCHIVE_CONFIG (keys this command does not take are ignored,
 * unknown keys are errors; a command without config keys reads no file).
 * Prints one-line errors (an unknown option with the nearest name); on
 * --help prints ai_options_help and sets o->help. Arguments other than
 * options beyond cmd->operands (o->operand), and a --from not before
 * --to, are usage errors. */
ai_result ai_options_parse(const struct ai_cmd *cmd, struct ai_ctx *ctx, int argc, char **argv,
                           struct ai_options *o) AI_MUST_CHECK;

/* Parses the global options before the command's name (argv[0] is the
 * program) from the same table into ctx: *command gets the index of the
 * first argument that is no option, *help and *version whether -h or -V
 * were given. Prints one-line errors. */
ai_result ai_options_parse_main(struct ai_ctx *ctx, int argc, char **argv, int *command,
                                int *help, int *version) AI_MUST_CHECK;

/* Whether argument a is on the command line argv[1..], before a "--". */
int ai_options_argv_has(int argc, char **argv, const char *a);

/* Prints cmd's --help to f: usage line, summary, one line per option it
 * takes, which of them the config file may set, and the global options. */
void ai_options_help(FILE *f, const struct ai_cmd *cmd);
/* Prints the lines of the options main takes before a command. */
void ai_options_help_global(FILE *f);

/* The option (config: config key) of the commands in bit nearest to name
 * (a typo or two away, or a prefix), or NULL. */
const char *ai_options_nearest(unsigned bit, int config, const char *name);

/* Where option name's value came from: AI_FROM_CLI (also a field set
 * by the program, not the parser), AI_FROM_ENV, AI_FROM_CONFIG, or
 * AI_FROM_DEFAULT when nobody set it. out gets "--name", "AIARCHIVE_NAME"
 * or "config file 'F' line N". */
enum ai_from ai_options_origin(const struct ai_options *o, const char *name, char *out,
                               size_t cap);

struct ai_credential;
/* One option as --help shows it. */
struct ai_option_info {
	const char *name;   /* long name, without the dashes */
	int shortc;         /* its letter, or 0 */
	const char *arg;    /* its value's name in --help, or NULL for a flag */
	const char *help;
	int global;         /* taken before the command's name too */
};
/* Calls fn for each option cmd takes, the global ones included, in --help
 * order (for the shell completions). */
void ai_options_each(const struct ai_cmd *cmd,
                     void (*fn)(void *ctx, const struct ai_option_info *opt), void *ctx);
/* Calls fn for each option taken before a command's name. */
void ai_options_each_global(void (*fn)(void *ctx, const struct ai_option_info *opt), void *ctx);

/* Builds the store configuration for one side ("source", "dest" or
 * "witness"): location, secondary, network options, and the one
 * credential ai_credential_resolve picks (cred, released by the caller
 * with ai_credential_release; cfg points into it and into o). */
ai_result ai_options_store_config(const struct ai_options *o, const char *side,
                                  struct ai_store_config *cfg,
                                  struct ai_credential *cred) AI_MUST_CHECK;

/* Opens one side's store (see above), reporting failures in one line.
 * Unless need is NULL, a SAS credential is first checked for what the
 * command needs (AI_NEED_* of credential.h: its validity now and its
 * permission letters); one the service would refuse is AI_ERR_AUTH. */
ai_result ai_options_open_store(const struct ai_options *o, const char *side, const char *need,
                                struct ai_store **out) AI_MUST_CHECK;

ai_result ai_options_state_dir(const struct ai_options *o, char *out, size_t cap) AI_MUST_CHECK;

struct ai_witnesses;
/* Sets up ws (already initialised for the archive) with the archive's
 * witnesses: the checkpoint in the state directory, and --witness when
 * given (opened here, its credential checked for need, see
 * ai_options_open_store; a --state-dir or --witness named by the operator is
 * required, see witness.h). Failures are reported in one line. */
ai_result ai_options_witnesses(const struct ai_options *o, const char *need,
                               struct ai_witnesses *ws) AI_MUST_CHECK;

struct ai_outcome;
/* Records the outcome of command ("run", "verify") with result r for the
 * archive at dest in the host's state directory (outcome.h), timed now;
 * run_id for a run, else NULL. A failure is only a warning. */
void ai_options_record_outcome(const struct ai_options *o, const struct ai_store *dest,
                               const char *command, ai_result r, const char *run_id);
/* Reads the outcome of command for dest (AI_ERR_NOT_FOUND: none). */
ai_result ai_options_read_outcome(const struct ai_options *o, const struct ai_store *dest,
                                  const char *command, struct ai_outcome *out) AI_MUST_CHECK;

/* Checks app/type/role filters (empty list: everything matches). */
int ai_options_match(char *const *list, size_t n, const char *value);

#endif
