/* options.c: one table of options shared by the command line and the
 * config file, where each value came from, and the store configuration of
 * each side with the credential credential.c picks (ARCHITECTURE.md §3). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "util/crypto.h"
#include "util/log.h"
#include "util/regfile.h"
#include "cmd/credential.h"
#include "cmd/options.h"
#include "engine/outcome.h"
#include "engine/witness.h"
#include "store/azurl.h"
#include "util/clock.h"
#include "store/auth/token.h"

/* K_VERBOSE and K_QUIET are -v and -q: one more, and -1. */
enum kind { K_STR, K_LIST, K_FLAG, K_UINT, K_SIZE, K_DURATION, K_TIME, K_VERBOSE, K_QUIET };

/* One row per option and meaning: an option that means one thing to some
 * commands and another to others (--from is a delivery hour to run, an
 * event time to query) has a row for each, with disjoint command sets and
 * the same field and kind. */
struct def {
	const char *name;
	int shortc;
	const char *arg;   /* its value's name in --help; NULL: a flag */
	unsigned cmds;     /* AI_CMD_* bits of the commands that take it */
	int config;        /* CFG: also a config-file key; GLOB: a global option (off is a
	                    * field of struct ai_ctx), not a key */
	enum kind kind;
	size_t off;        /* field in struct ai_options */
	size_t count_off;  /* K_LIST: its count; K_TIME: its has_ flag */
	size_t max;        /* K_LIST: capacity; K_UINT: largest value */
	const char *help;  /* one line for --help */
};

#define O(f) offsetof(struct ai_options, f)
#define C(f) offsetof(struct ai_ctx, f)
#define CONFIG_FILE_MAX (1u << 20)
#define AI_SYSTEM_CONFIG "/etc/aiarchive/aiarchive.conf"

enum {
	RUN = AI_CMD_RUN,
	QUERY = AI_CMD_QUERY,
	CAT = AI_CMD_CAT,
	VERIFY = AI_CMD_VERIFY,
	STATUS = AI_CMD_STATUS,
	GC = AI_CMD_GC,
	KEYGEN = AI_CMD_KEYGEN,
	INIT = AI_CMD_INIT,
	ALL = INIT | RUN | QUERY | CAT | VERIFY | STATUS | GC | KEYGEN | AI_CMD_VERSION |
	      AI_CMD_COMPLETION,
	MAIN = AI_CMD_MAIN,   /* before the command's name */
	GLOBAL = ALL | MAIN,  /* before or after it */
	ARCHIVE = INIT | RUN | QUERY | CAT | VERIFY | STATUS | GC, /* the commands that open --dest */
	READERS = QUERY | CAT | VERIFY | STATUS,           /* ... and only read it */
};
enum { CLI = 0, CFG = 1, GLOB = 2 };
#define IS_CFG(d) ((d)->config == CFG)
#define IS_GLOBAL(d) ((d)->config == GLOB)

static const struct def defs[] = {
	{ "source", 0, "URL", RUN | VERIFY, CFG, K_STR, O(source), 0, 0,
	  "the export container, or an account for diagnostic settings" },
	{ "source-secondary", 0, "URL", RUN | VERIFY, CFG, K_STR, O(source_secondary), 0, 0,
	  "RA-GRS read endpoint of the source" },
	{ "source-sas-file", 0, "FILE", RUN | VERIFY, CFG, K_STR, O(source_sas_file), 0, 0,
	  "SAS token for the source" },
	{ "source-key-file", 0, "FILE", RUN | VERIFY, CFG, K_STR, O(source_key_file), 0, 0,
	  "account key for the source" },
	{ "source-auth", 0, "METHOD", RUN | VERIFY, CFG, K_STR, O(source_auth), 0, 0,
	  "how to authenticate to the source (default auto; see the man page)" },
	{ "source-client-id", 0, "ID", RUN | VERIFY, CFG, K_STR, O(source_client_id), 0, 0,
	  "client id of the source's identity (default: $AZURE_CLIENT_ID)" },
	{ "layout", 0, "LAYOUT", RUN | VERIFY, CFG, K_STR, O(layout), 0, 0,
	  "source layout: auto, continuous-export, diagnostic-settings, workspace-export" },
	{ "dest", 0, "URL", ARCHIVE, CFG, K_STR, O(dest), 0, 0,
	  "the archive container (and prefix)" },
	{ "dest-secondary", 0, "URL", READERS, CFG, K_STR, O(dest_secondary), 0, 0,
	  "RA-GRS read endpoint of the archive" },
	{ "dest-sas-file", 0, "FILE", ARCHIVE, CFG, K_STR, O(dest_sas_file), 0, 0,
	  "SAS token for the archive" },
	{ "dest-key-file", 0, "FILE", ARCHIVE, CFG, K_STR, O(dest_key_file), 0, 0,
	  "account key for the archive" },
	{ "dest-auth", 0, "METHOD", ARCHIVE, CFG, K_STR, O(dest_auth), 0, 0,
	  "how to authenticate to the archive (default auto; see the man page)" },
	{ "dest-client-id", 0, "ID", ARCHIVE, CFG, K_STR, O(dest_client_id), 0, 0,
	  "client id of the archive's identity (default: $AZURE_CLIENT_ID)" },
	{ "ca-file", 0, "FILE", ARCHIVE, CFG, K_STR, O(ca_file), 0, 0,
	  "CA certificates for storage and token endpoints (default: $SSL_CERT_FILE)" },
	{ "witness", 0, "URL", RUN | GC | VERIFY, CFG, K_STR, O(witness), 0, 0,
	  "also keep the chain's checkpoint here, and check it (another account)" },
	{ "witness-sas-file", 0, "FILE", RUN | GC | VERIFY, CFG, K_STR, O(witness_sas_file), 0, 0,
	  "SAS token for the witness" },
	{ "witness-key-file", 0, "FILE", RUN | GC | VERIFY, CFG, K_STR, O(witness_key_file), 0, 0,
	  "account key for the witness" },
	{ "state-dir", 0, "DIR", RUN | GC | VERIFY | STATUS, CFG, K_STR, O(state_dir), 0, 0,
	  "where this host keeps checkpoints and outcomes (default: $STATE_DIRECTORY, ...)" },
	{ "key", 'k', "FILE", INIT | RUN, CFG, K_STR, O(key), 0, 0,
	  "private signing key" },
	/* Not config keys: a rotation is done once, by hand. */
	{ "rotate-key", 0, NULL, RUN, CLI, K_FLAG, O(rotate_key), 0, 0,
	  "make --key the archive's key, recorded signed by --old-key" },
	{ "old-key", 0, "FILE", RUN, CLI, K_STR, O(old_key), 0, 0,
	  "the archive's current private key (with --rotate-key)" },
	{ "pubkey", 'p', "FILE", QUERY | CAT | VERIFY | STATUS | GC, CFG, K_STR, O(pubkey), 0, 0,
	  "public key to trust (default: the archive's genesis key, else its published one)" },
	{ "key-id", 0, "ID", QUERY | CAT | VERIFY | STATUS | GC, CFG, K_STR, O(key_id), 0, 0,
	  "pinned signing key id (16 hex digits)" },
	{ "output", 'o', "PATH", KEYGEN, CFG, K_STR, O(output), 0, 0,
	  "where to write the private key" },
	{ "from", 0, "TIME", RUN | VERIFY, CFG, K_TIME, O(from), O(has_from), 0,
	  "first delivery hour (UTC): 2026-11-20T13, now-6h" },
	{ "to", 0, "TIME", RUN | VERIFY, CFG, K_TIME, O(to), O(has_to), 0,
	  "end of the delivery hours (UTC, exclusive)" },
	{ "from", 0, "TIME", QUERY | CAT, CFG, K_TIME, O(from), O(has_from), 0,
	  "event time from (UTC, inclusive): 2026-11-20T13:05Z, now-2h" },
	{ "to", 0, "TIME", QUERY | CAT, CFG, K_TIME, O(to), O(has_to), 0,
	  "event time to (UTC, exclusive)" },
	{ "app", 0, "NAME[,NAME]", RUN | QUERY | CAT, CFG, K_LIST, O(apps), O(napps), AI_MAX_FILTERS,
	  "only these apps" },
	{ "type", 0, "TYPE[,TYPE]", RUN | QUERY | CAT, CFG, K_LIST, O(types), O(ntypes), AI_MAX_FILTERS,
	  "only these telemetry types or categories" },
	{ "role", 0, "ROLE[,ROLE]", QUERY | CAT, CFG, K_LIST, O(roles), O(nroles), AI_MAX_FILTERS,
	  "only these cloud roles" },
	{ "operation-id", 0, "ID[,ID]", QUERY | CAT, CFG, K_LIST, O(operation_ids), O(noperation_ids),
	  AI_MAX_FILTERS, "only these operation ids" },
	{ "tag", 0, "TAG[,TAG]", RUN, CFG, K_LIST, O(tags), O(ntags), AI_MAX_TAGS,
	  "label every member this run archives (e.g. an incident id)" },
	{ "tag", 0, "TAG[,TAG]", QUERY | CAT, CFG, K_LIST, O(tags), O(ntags), AI_MAX_TAGS,
	  "only members archived with these tags" },
	{ "format", 0, "table|jsonl|csv", QUERY, CFG, K_STR, O(format), 0, 0,
	  "output format (default: table on a terminal, else jsonl)" },
	{ "blob", 0, "NAME", QUERY | CAT, CFG, K_STR, O(blob), 0, 0,
	  "only the members of this source blob (its full name)" },
	{ "blob-prefix", 0, "PREFIX", QUERY | CAT, CFG, K_STR, O(blob_prefix), 0, 0,
	  "only the members of source blobs whose names start so" },
	/* Not config keys: how one listing looks, not what it selects. */
	{ "columns", 0, "COL,...", QUERY, CLI, K_STR, O(columns), 0, 0,
	  "the table's (and CSV's) columns, in this order (a wrong name lists them)" },
	{ "columns", 0, "COL,...", STATUS, CLI, K_STR, O(columns), 0, 0,
	  "the table's columns, in this order (a wrong name lists them)" },
	{ "wide", 0, NULL, QUERY | STATUS, CLI, K_FLAG, O(wide), 0, 0,
	  "the table with every column, nothing shortened (default: fit 80 columns)" },
	{ "count", 0, NULL, QUERY, CLI, K_FLAG, O(count), 0, 0,
	  "one line: the members, rows and bytes that match" },
	{ "group-by", 0, "KEY,...", QUERY, CLI, K_STR, O(group_by), 0, 0,
	  "members, rows and bytes per app, type and/or (delivery) hour" },
	/* Not config keys for cat: a config's format is query's. */
	{ "format", 0, "jsonl|csv", CAT, CLI, K_STR, O(format), 0, 0,
	  "one JSON object a line (default), or CSV of --fields" },
	{ "fields", 0, "PATH,...", CAT, CLI, K_STR, O(fields), 0, 0,
	  "CSV columns: dotted paths, array elements by number (a.0.b)" },
	{ "sort", 0, "time", CAT, CLI, K_STR, O(sort), 0, 0,
	  "merge the rows in event-time order" },
	{ "raw", 0, NULL, CAT, CLI, K_FLAG, O(raw), 0, 0,
	  "the members' bytes exactly as archived, malformed rows too" },
	{ "cache-dir", 0, "DIR", QUERY | CAT, CFG, K_STR, O(cache_dir), 0, 0,
	  "manifest cache (default: XDG cache directory)" },
	{ "dedupe", 0, NULL, CAT, CFG, K_FLAG, O(dedupe), 0, 0,
	  "print each record once (by _ItemId, Id or the whole line)" },
	{ "no-cache", 0, NULL, QUERY | CAT, CFG, K_FLAG, O(no_cache), 0, 0,
	  "do not use the local manifest cache" },
	{ "data", 0, NULL, VERIFY, CFG, K_FLAG, O(data), 0, 0,
	  "also re-read and check archived data" },
	{ "subset", 0, "N/M", VERIFY, CFG, K_STR, O(subset), 0, 0,
	  "re-read only the Nth of M deterministic shares of the data (day/M: N follows the day)" },
	{ "prom", 0, "FILE", STATUS, CFG, K_STR, O(prom), 0, 0,
	  "write Prometheus text-format metrics to FILE" },
	{ "older-than", 0, "DUR", GC, CFG, K_DURATION, O(older_than), 0, 0,
	  "only remove objects last changed this long ago (default 24h, at least 2h)" },
	{ "dry-run", 'n', NULL, RUN | GC, CFG, K_FLAG, O(dry_run), 0, 0,
	  "print what would be done, change nothing" },
	{ "wait", 0, NULL, RUN | GC, CFG, K_FLAG, O(wait), 0, 0,
	  "wait for the run lock instead of exiting 5" },
	{ "shard", 0, "I/N", RUN, CFG, K_STR, O(shard), 0, 0,
	  "archive only the partitions that fall to shard I of N (0 <= I < N)" },
	{ "shards", 0, "N", RUN, CFG, K_UINT, O(shards), 0, 1024,
	  "N shards, I from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)" },
	{ "error-on-nothing", 0, NULL, RUN, CFG, K_FLAG, O(error_on_nothing), 0, 0,
	  "exit 9 when there is nothing new" },
	/* Not query's: it reads one object at a time. */
	{ "jobs", 'j', "N", RUN | CAT | VERIFY, CFG, K_UINT, O(jobs), 0, 64,
	  "parallel transfers (default 32, at most 64)" },
	{ "pack-size", 0, "SIZE", RUN, CFG, K_SIZE, O(pack_size), 0, 0,
	  "largest pack before it is split (default 128MiB)" },
	{ "lookback", 0, "DUR", RUN, CFG, K_DURATION, O(lookback), 0, 0,
	  "delivery hours re-listed before the watermark (default 1h)" },
	{ "rescan", 0, "DUR", RUN, CFG, K_DURATION, O(rescan), 0, 0,
	  "also re-list the delivery hours of the last DUR (late blobs; default off)" },
	{ "grace", 0, "DUR", RUN, CFG, K_DURATION, O(grace), 0, 0,
	  "how long after its hour a folder may still change (default 15m)" },
	{ "late-window", 0, "DUR", RUN, CFG, K_DURATION, O(late_window), 0, 0,
	  "workspace export: how long a 5-minute folder may grow (default 13h)" },
	{ "lock-duration", 0, "DUR", RUN | GC, CFG, K_DURATION, O(lock_duration), 0, 0,
	  "run lock lease, 15s to 60s, renewed (default 60s)" },
	{ "max-tries", 0, "N", RUN | GC, CFG, K_UINT, O(max_tries), 0, 100,
	  "attempts per request (default 6)" },
	{ "retry-total", 0, "DUR", RUN | GC, CFG, K_DURATION, O(retry_total), 0, 0,
	  "longest time spent retrying one request (default 2m)" },
	{ "connect-timeout", 0, "DUR", RUN | GC, CFG, K_DURATION, O(connect_timeout), 0, 0,
	  "TCP/TLS connect timeout (default 10s)" },
	{ "stall-timeout", 0, "DUR", RUN | GC, CFG, K_DURATION, O(stall_timeout), 0, 0,
	  "abort a transfer with no progress this long (default 30s)" },
	/* Not config keys: a terminal's matter, decided on each invocation. */
	{ "progress", 0, NULL, RUN | CAT | VERIFY, CLI, K_FLAG, O(progress), 0, 0,
	  "a progress line on stderr even off a terminal or with -q/--json" },
	{ "no-progress", 0, NULL, RUN | CAT | VERIFY, CLI, K_FLAG, O(no_progress), 0, 0,
	  "no progress line, even on a terminal" },
	/* The global options, taken before the command's name or after it. */
	{ "config", 'c', "FILE", GLOBAL, GLOB, K_STR, C(config_path), 0, 0,
	  "read options from FILE (the command line wins)" },
	{ "verbose", 'v', NULL, GLOBAL, GLOB, K_VERBOSE, C(verbosity), 0, 0,
	  "more messages (repeat for debug)" },
	{ "quiet", 'q', NULL, GLOBAL, GLOB, K_QUIET, C(verbosity), 0, 0,
	  "errors and warnings only (no summary, no progress)" },
	{ "json", 0, NULL, GLOBAL, GLOB, K_FLAG, C(json), 0, 0,
	  "machine-readable output: JSON, errors too (see JSON OUTPUT in aiarchive(1))" },
	{ "help", 'h', NULL, ALL | MAIN, CLI, K_FLAG, O(help), 0, 0,
	  "this text; 'aiarchive <command> --help' for a command" },
	{ "version", 'V', NULL, MAIN, CLI, K_FLAG, O(version), 0, 0,
	  "print the version" },
};
#define NDEFS (sizeof defs / sizeof defs[0])
_Static_assert(NDEFS <= AI_OPTIONS_ROWS, "raise AI_OPTIONS_ROWS");

void ai_options_init(struct ai_options *o)
{
	memset(o, 0, sizeof *o);
	/* Over a wide-area link each small blob is a round trip of its own:
	 * 32 in flight (AzCopy's floor) is where the figures of BENCHMARKS.md
	 * §9 stop gaining much, at little memory for small blobs. */
	o->jobs = 32;
	o->pack_size = 128ULL << 20;
	o->lookback = 3600 * AI_NS_PER_SEC;
	o->grace = 15 * 60 * AI_NS_PER_SEC;
	o->late_window = 13 * 3600 * AI_NS_PER_SEC;
	o->lock_duration = 60 * AI_NS_PER_SEC;
	o->max_tries = 6;
	o->retry_total = 120 * AI_NS_PER_SEC;
	o->connect_timeout = 10 * AI_NS_PER_SEC;
	o->stall_timeout = 30 * AI_NS_PER_SEC;
	o->older_than = 24 * 3600 * AI_NS_PER_SEC;
}

/* Twin rows share a field, so each field is cleared as it is freed. */
void ai_options_release(struct ai_options *o)
{
	for (size_t i = 0; i < NDEFS; i++) {
		char *base = (char *)o + defs[i].off;
		if (IS_GLOBAL(&defs[i]))
			continue;
		if (defs[i].kind == K_STR) {
			free(*(char **)base);
			*(char **)base = NULL;
		} else if (defs[i].kind == K_LIST) {
			size_t *n = (size_t *)((char *)o + defs[i].count_off);
			for (size_t k = 0; k < *n; k++)
				free(((char **)base)[k]);
			*n = 0;
		}
	}
	free(o->config_file);
	memset(o, 0, sizeof *o);
}

static int takes(const struct def *d, const struct ai_cmd *cmd)
{
	return (d->cmds & cmd->bit) != 0;
}

/* Stores value into the field of d; one-line error on bad values. */
static ai_result set_value(const struct ai_cmd *cmd, const struct def *d, struct ai_options *o,
                           struct ai_ctx *ctx, const char *value, const char *where)
{
	char *base = IS_GLOBAL(d) ? (char *)ctx + d->off : (char *)o + d->off;
	ai_time now = ctx->now;
	ai_result r = AI_OK;

	if (IS_GLOBAL(d) && d->kind == K_STR) {
		*(const char **)base = value; /* argv's, not ours */
		return AI_OK;
	}
	switch (d->kind) {
	case K_VERBOSE:
		(*(int *)base)++;
		break;
	case K_QUIET:
		*(int *)base = -1;
		break;
	case K_FLAG:
		if (!value || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
		    strcmp(value, "1") == 0)
			*(int *)base = 1;
		else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
		         strcmp(value, "0") == 0)
			*(int *)base = 0;
		else
			r = AI_ERR_BAD_INPUT;
		break;
	case K_STR:
		free(*(char **)base);
		if (!(*(char **)base = strdup(value)))
			return AI_ERR_NOMEM;
		break;
	case K_LIST: {
		size_t *n = (size_t *)((char *)o + d->count_off);
		const char *p = value;
		while (*p) {
			size_t len = strcspn(p, ","), skip = len + (p[len] == ',');
			/* "shop, web" names "web": an item keeps no space around it. */
			while (len && isspace((unsigned char)*p))
				p++, len--, skip--;
			while (len && isspace((unsigned char)p[len - 1]))
				len--;
			if (len) {
				if (*n == d->max) {
					ai_error("%s: %s: at most %zu values for --%s", cmd->name, where, d->max,
					         d->name);
					return AI_ERR_USAGE;
				}
				if (!(((char **)base)[*n] = strndup(p, len)))
					return AI_ERR_NOMEM;
				(*n)++;
			}
			p += skip;
		}
		break;
	}
	case K_UINT: {
		uint64_t v;
		r = ai_parse_u64(value, d->max ? d->max : UINT32_MAX, &v);
		if (r == AI_OK && v == 0)
			r = AI_ERR_BAD_INPUT;
		if (r == AI_OK)
			*(uint64_t *)base = v;
		break;
	}
	case K_SIZE:
		r = ai_parse_size(value, 1ULL << 40, (uint64_t *)base);
		break;
	case K_DURATION:
		/* A bare number is no duration: 2 what? ("0" is 0 in any unit.) */
		if (*value && strspn(value, "0123456789") == strlen(value) &&
		    strspn(value, "0") != strlen(value)) {
			ai_error("%s: %s: --%s %s: %s what? e.g. %sh, %sm or %ss", cmd->name, where,
			         d->name, value, value, value, value, value);
			return AI_ERR_USAGE;
		}
		r = ai_parse_duration(value, 366LL * 86400 * AI_NS_PER_SEC, (int64_t *)base);
		break;
	case K_TIME:
		r = ai_parse_time_arg(value, now, (ai_time *)base);
		if (r == AI_OK)
			*(int *)((char *)o + d->count_off) = 1;
		break;
	}
	if (r != AI_OK && r != AI_ERR_NOMEM && d->kind == K_TIME) {
		ai_error("%s: %s: bad value '%s' for --%s: a time is 2026-11-20T13:05:00Z (or "
		         "+HH:MM, a fraction, a space for T), 2026-11-20T13:05Z, 2026-11-20T13 or "
		         "2026-11-20 (UTC), now, or now-DUR (now-2h, now-30m, now-7d)", cmd->name,
		         where, value, d->name);
		return AI_ERR_USAGE;
	}
	if (r != AI_OK && r != AI_ERR_NOMEM) {
		char range[64] = "";
		if (d->kind == K_UINT)
			snprintf(range, sizeof range, ": a whole number from 1 to %zu",
			         d->max ? d->max : (size_t)UINT32_MAX);
		ai_error("%s: %s: bad value '%s' for --%s (%s%s)", cmd->name, where, value, d->name,
		         d->arg ? d->arg : "true/false",
		         d->kind == K_DURATION ? ": a number and a unit, ms, s, m, h or d, e.g. 90s" :
		         d->kind == K_SIZE ? ": e.g. 64MiB" : range);
		return AI_ERR_USAGE;
	}
	return r;
}

static void left_column(const struct def *d, char *buf, size_t cap)
{
	snprintf(buf, cap, "%c%c%s--%s%s%s", d->shortc ? '-' : ' ', d->shortc ? d->shortc : ' ',
	         d->shortc ? ", " : "  ", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
}

/* The width of the left column of rows in (taken by bit, global or not). */
static int column_width(unsigned bit, int global)
{
	char left[80];
	int width = 0;

	for (size_t i = 0; i < NDEFS; i++) {
		if (!(defs[i].cmds & bit) || (global >= 0 && IS_GLOBAL(&defs[i]) != global))
			continue;
		left_column(&defs[i], left, sizeof left);
		if ((int)strlen(left) > width)
			width = (int)strlen(left);
	}
	return width;
}

/* One line per option bit takes (global: only the global ones, or none
 * of them; -1: both). */
static void option_lines(FILE *f, unsigned bit, int global)
{
	char left[80];
	int width = column_width(bit, global);

	for (size_t i = 0; i < NDEFS; i++) {
		if (!(defs[i].cmds & bit) || (global >= 0 && IS_GLOBAL(&defs[i]) != global))
			continue;
		left_column(&defs[i], left, sizeof left);
		fprintf(f, "  %-*s  %s\n", width, left, defs[i].help);
	}
}

void ai_options_help_global(FILE *f)
{
	option_lines(f, MAIN, -1);
}

void ai_options_help(FILE *f, const struct ai_cmd *cmd)
{
	size_t nconfig = 0, nonconfig = 0, said = 0;

	for (size_t i = 0; i < NDEFS; i++) {
		if (!takes(&defs[i], cmd) || IS_GLOBAL(&defs[i]))
			continue;
		nconfig += IS_CFG(&defs[i]);
		nonconfig += !IS_CFG(&defs[i]);
	}
	fprintf(f, "usage: aiarchive %s%s%s\n\n%s\n\noptions:\n", cmd->name, *cmd->args ? " " : "",
	        cmd->args, cmd->summary);
	option_lines(f, cmd->bit, 0);
	if (nconfig) {
		fprintf(f, "\nIn the config file (-c FILE), \"name = value\" sets any option above");
		for (size_t i = 0; i < NDEFS; i++) {
			if (!takes(&defs[i], cmd) || IS_CFG(&defs[i]) || IS_GLOBAL(&defs[i]))
				continue;
			said++;
			fprintf(f, "%s--%s", said == 1 ? " but " : said == nonconfig ? " and " : ", ",
			        defs[i].name);
		}
		fprintf(f, ".\n");
	}
	fprintf(f, "\nglobal options (before or after '%s'):\n", cmd->name);
	option_lines(f, cmd->bit, 1);
}

static void each(unsigned bit, void (*fn)(void *ctx, const struct ai_option_info *opt),
                 void *ctx)
{
	for (size_t i = 0; i < NDEFS; i++) {
		if (!(defs[i].cmds & bit))
			continue;
		struct ai_option_info info = {
			.name = defs[i].name,
			.shortc = defs[i].shortc,
			.arg = defs[i].arg,
			.help = defs[i].help,
			.global = IS_GLOBAL(&defs[i]),
		};
		fn(ctx, &info);
	}
}

void ai_options_each(const struct ai_cmd *cmd,
                     void (*fn)(void *ctx, const struct ai_option_info *opt), void *ctx)
{
	each(cmd->bit, fn, ctx);
}

void ai_options_each_global(void (*fn)(void *ctx, const struct ai_option_info *opt), void *ctx)
{
	each(MAIN, fn, ctx);
}

/* The variable of d: AIARCHIVE_ and its name in upper case, '_' for '-'. */
static void env_name(const struct def *d, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "AIARCHIVE_%s", d->name);

	for (char *p = out + strlen("AIARCHIVE_"); p < out + (n < cap ? n : cap - 1); p++)
		*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* The command line's row of a config key for cmd: NDEFS when no command
 * has such a key (an error), *ignore when cmd does not take it. */
static size_t config_row(const struct ai_cmd *cmd, const char *key, int *ignore)
{
	size_t known = NDEFS;

	*ignore = 1;
	for (size_t i = 0; i < NDEFS; i++) {
		if (!IS_CFG(&defs[i]) || strcmp(defs[i].name, key) != 0)
			continue;
		known = i;
		if (takes(&defs[i], cmd)) {
			*ignore = 0;
			return i;
		}
	}
	return known;
}

/* Whether key names an option that has no config key (cat's --sort). */
static int cli_only(const char *key)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (!IS_CFG(&defs[i]) && strcmp(defs[i].name, key) == 0)
			return 1;
	return 0;
}

static ai_result read_config(const struct ai_cmd *cmd, const char *path,
                             const unsigned char *given, struct ai_options *o, struct ai_ctx *ctx)
{
	char line[4096], where[600], why[512];
	struct ai_buf text;
	unsigned lineno = 0;
	ai_result r = AI_OK;
	FILE *f = NULL;

	/* Read whole through the one reader that refuses a FIFO or a device
	 * instead of waiting on it; a link is followed (config management and
	 * ConfigMaps install configs as links), the config holds no secret. */
	free(o->config_file);
	if (!(o->config_file = strdup(path)))
		return AI_ERR_NOMEM;
	ai_buf_init(&text, CONFIG_FILE_MAX);
	if (ai_regfile_read(path, AI_REGFILE_FOLLOW, &text, why, sizeof why) != AI_OK) {
		ai_error("config '%s': %s", path, why);
		ai_buf_release(&text);
		return AI_ERR_CONFIG;
	}
	f = text.len ? fmemopen(text.data, text.len, "r") : NULL;
	if (text.len && !f) {
		ai_error("config '%s': %s", path, strerror(errno));
		ai_buf_release(&text);
		return AI_ERR_NOMEM;
	}
	while (r == AI_OK && f && fgets(line, sizeof line, f)) {
		char *key, *value, *eq;
		size_t i;
		int ignore;
		lineno++;
		key = trim(line);
		if (!*key || *key == '#' || *key == ';')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			ai_error("config '%s' line %u: expected 'key = value'", path, lineno);
			r = AI_ERR_CONFIG;
			break;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		i = config_row(cmd, key, &ignore);
		if (i == NDEFS) {
			const char *near = ai_options_nearest(~0u, 1, key);
			char hint[160] = "";
			if (cli_only(key))
				snprintf(hint, sizeof hint, " (--%s is an option of the command line "
				         "only; --help marks those)", key);
			else if (near)
				snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
			snprintf(ctx->object, sizeof ctx->object, "%s", path);
			ai_error("config '%s' line %u: unknown key '%s'%s", path, lineno, key, hint);
			r = AI_ERR_CONFIG;
			break;
		}
		if (ignore || given[i])
			continue;
		snprintf(where, sizeof where, "config '%s' line %u", path, lineno);
		r = set_value(cmd, &defs[i], o, ctx, value, where);
		if (r == AI_ERR_USAGE)
			r = AI_ERR_CONFIG;
		o->origin[i] = AI_FROM_CONFIG;
		o->line[i] = lineno;
	}
	if (f)
		fclose(f);
	ai_buf_release(&text);
	return r;
}

/* The variables that already mean something else: a key whose name
 * would be one is not read from the environment. */
static int documented_env(const char *name)
{
	static const char *const sides[] = { "SOURCE_", "DEST_", "WITNESS_" };
	static const char *const kinds[] = { "SAS", "KEY", "CONNECTION_STRING" };
	const char *p = name + strlen("AIARCHIVE_");

	if (strcmp(p, "CONFIG") == 0 || strcmp(p, "NOW") == 0 || strncmp(p, "TEST_", 5) == 0)
		return 1;
	for (size_t i = 0; i < 3; i++)
		for (size_t k = 0; k < 3; k++)
			if (strncmp(p, sides[i], strlen(sides[i])) == 0 &&
			    strcmp(p + strlen(sides[i]), kinds[k]) == 0)
				return 1;
	return 0;
}

/* The environment (AIARCHIVE_LOOKBACK for lookback) sets the keys cmd
 * takes that the command line did not; given then keeps the config file
 * from them. An empty variable is as if unset. */
static ai_result read_env(const struct ai_cmd *cmd, unsigned char *given, struct ai_options *o,
                          struct ai_ctx *ctx)
{
	char name[64], where[96];

	for (size_t i = 0; i < NDEFS; i++) {
		const char *v;
		ai_result r;

		if (!takes(&defs[i], cmd) || !IS_CFG(&defs[i]) || given[i])
			continue;
		env_name(&defs[i], name, sizeof name);
		if (documented_env(name) || !(v = getenv(name)) || !*v)
			continue;
		snprintf(where, sizeof where, "environment variable %s", name);
		r = set_value(cmd, &defs[i], o, ctx, v, where);
		if (r != AI_OK) {
			snprintf(ctx->object, sizeof ctx->object, "%s", name);
			return r == AI_ERR_USAGE ? AI_ERR_CONFIG : r;
		}
		given[i] = 1;
		o->origin[i] = AI_FROM_ENV;
	}
	return AI_OK;
}

/* A regular file (or a link to one) at path. */
static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The config file: -c, else AIARCHIVE_CONFIG (empty: none), else the
 * first found of the system's and the user's (NULL: none); *how says
 * which. */
static const char *config_path(const struct ai_ctx *ctx, char *buf, size_t cap, const char **how)
{
	const char *v, *home;

	if (ctx->config_path) {
		*how = "-c";
		return *ctx->config_path ? ctx->config_path : NULL;
	}
	if ((v = getenv("AIARCHIVE_CONFIG"))) {
		*how = "AIARCHIVE_CONFIG";
		return *v ? v : NULL;
	}
	*how = "found";
	v = getenv("AIARCHIVE_TEST_SYSCONF");
	if (!v)
		v = AI_SYSTEM_CONFIG;
	if (*v && exists(v))
		return v;
	/* The XDG spec ignores a relative XDG_CONFIG_HOME. */
	if ((v = getenv("XDG_CONFIG_HOME")) && *v == '/') {
		if ((size_t)snprintf(buf, cap, "%s/aiarchive/config", v) < cap && exists(buf))
			return buf;
	} else if ((home = getenv("HOME")) && *home == '/') {
		if ((size_t)snprintf(buf, cap, "%s/.config/aiarchive/config", home) < cap &&
		    exists(buf))
			return buf;
	}
	return NULL;
}

/* The pseudo-command of the options before a command's name. */
static const struct ai_cmd main_cmd = { .name = "aiarchive", .bit = AI_CMD_MAIN, .args = "" };

int ai_options_argv_has(int argc, char **argv, const char *a)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], a) == 0)
			return 1;
	return 0;
}

/* After an error: --json anywhere on the command line asks for the JSON
 * error object, even when the parser stopped before reaching it. */
static void notice_json(struct ai_ctx *ctx, int argc, char **argv)
{
	if (ai_options_argv_has(argc, argv, "--json"))
		ctx->json = 1;
}

/* -q and -v decide the log level: -q drops the summary and the
 * progress, never a warning. */
static void apply_globals(const struct ai_ctx *ctx)
{
	ai_log_level = ctx->verbosity <= 0 ? AI_LOG_WARN
	             : ctx->verbosity == 1 ? AI_LOG_INFO : AI_LOG_DEBUG;
}

/* Edit distance of a and b (each cut at 63 bytes): insertions, deletions,
 * substitutions and swaps of two neighbours ("jsno" is 1 from "json"). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strnlen(a, 63), lb = strnlen(b, 63);
	unsigned char d[64][64];

	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned char)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned char)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			unsigned v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1u < v)
				v = d[i - 1][j] + 1u;
			if (d[i][j - 1] + 1u < v)
				v = d[i][j - 1] + 1u;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1u < v)
				v = d[i - 2][j - 2] + 1u;
			d[i][j] = (unsigned char)v;
		}
	return d[la][lb];
}

const char *ai_options_nearest(unsigned bit, int config, const char *name)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, len = strcspn(name, "=");
	char given[64];

	snprintf(given, sizeof given, "%.*s", (int)(len < 63 ? len : 63), name);
	for (size_t i = 0; i < NDEFS; i++) {
		size_t d;
		if (!(defs[i].cmds & bit) || (config && !IS_CFG(&defs[i])))
			continue;
		d = distance(given, defs[i].name);
		/* A prefix of a longer name ("--look") counts as near. */
		if (strncmp(given, defs[i].name, strlen(given)) == 0 && d > 1)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = defs[i].name;
		}
	}
	/* Near: a typo or two, not another word. */
	if (!best || best_d > (len <= 4 ? 1 : len <= 8 ? 2 : 3))
		return NULL;
	return best;
}

/* The commands other than bit's that take an option named name, as
 * "run, cat and verify" (empty: none). */
static void takers(const char *name, unsigned bit, char *out, size_t cap)
{
	unsigned bits = 0;
	size_t n = 0, k = 0, len = 0;

	for (size_t i = 0; i < NDEFS; i++)
		if (strcmp(defs[i].name, name) == 0)
			bits |= defs[i].cmds & ~bit & ~(unsigned)MAIN;
	for (size_t i = 0; ai_cmds[i]; i++)
		n += (bits & ai_cmds[i]->bit) != 0;
	*out = '\0';
	for (size_t i = 0; ai_cmds[i] && len < cap; i++) {
		if (!(bits & ai_cmds[i]->bit))
			continue;
		k++;
		len += (size_t)snprintf(out + len, cap - len, "%s%s",
		                        k == 1 ? "" : k == n ? " and " : ", ", ai_cmds[i]->name);
	}
}

/* The one-line error for an unknown option (arg as given). */
static ai_result unknown_option(const struct ai_cmd *cmd, struct ai_ctx *ctx, const char *arg,
                                int shortc)
{
	char name[64], others[256], hint[320] = "";
	const char *near;

	if (shortc)
		snprintf(name, sizeof name, "-%c", shortc);
	else
		snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
	snprintf(ctx->object, sizeof ctx->object, "%s", name);
	takers(name[1] == '-' ? name + 2 : "", cmd->bit, others, sizeof others);
	near = name[1] == '-' ? ai_options_nearest(cmd->bit, 0, name + 2) : NULL;
	if (near)
		snprintf(hint, sizeof hint, "; did you mean --%s?", near);
	else if (*others && cmd == &main_cmd)
		snprintf(hint, sizeof hint, "; it is an option of %s: put it after the command's "
		         "name", others);
	else if (*others)
		snprintf(hint, sizeof hint, "; %s take%s it", others, strchr(others, ' ') ? "" : "s");
	if (cmd == &main_cmd)
		ai_error("option '%s' is unknown%s (see 'aiarchive --help')", name, hint);
	else
		ai_cmd_usage_error(cmd, "option '%s' is unknown%s", name, hint);
	return AI_ERR_USAGE;
}

/* Parses the options in argv[1..] that cmd takes into o and ctx; given
 * marks the rows set. stop: at the first argument that is no option
 * (main's, before the command's name; *next is its index), else the
 * arguments that are no options are cmd's operands. */
static ai_result parse_argv(const struct ai_cmd *cmd, struct ai_ctx *ctx, int argc, char **argv,
                            struct ai_options *o, unsigned char *given, int stop, int *next)
{
	struct option lopts[NDEFS + 1];
	char shorts[2 * NDEFS + 3];
	size_t nl = 0, ns = 0;
	int c, noperands = 0;

	shorts[ns++] = stop ? '+' : '-'; /* '-': operands in place, whatever POSIXLY_CORRECT */
	shorts[ns++] = ':';              /* a missing value is ':', not '?' */
	for (size_t i = 0; i < NDEFS; i++) {
		if (!takes(&defs[i], cmd))
			continue;
		lopts[nl++] = (struct option){ defs[i].name,
		                               defs[i].arg ? required_argument : no_argument,
		                               NULL, 1000 + (int)i };
		if (defs[i].shortc) {
			shorts[ns++] = (char)defs[i].shortc;
			if (defs[i].arg)
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	lopts[nl] = (struct option){ NULL, 0, NULL, 0 };
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		const struct def *d = NULL;
		ai_result r;

		if (c == 1) {
			if (noperands++ < cmd->operands) {
				o->operand = optarg;
				continue;
			}
			notice_json(ctx, argc, argv);
			snprintf(ctx->object, sizeof ctx->object, "%s", optarg);
			return ai_cmd_usage_error(cmd, "unexpected argument '%s'", optarg);
		}
		if (c == ':') {
			notice_json(ctx, argc, argv);
			d = optopt >= 1000 ? &defs[optopt - 1000] : NULL;
			for (size_t i = 0; !d && i < NDEFS; i++)
				if (defs[i].shortc == optopt && takes(&defs[i], cmd))
					d = &defs[i];
			if (!d)
				return unknown_option(cmd, ctx, argv[optind - 1], 0);
			snprintf(ctx->object, sizeof ctx->object, "--%s", d->name);
			if (cmd == &main_cmd) {
				ai_error("option '--%s' needs a value (%s)", d->name, d->arg);
				return AI_ERR_USAGE;
			}
			return ai_cmd_usage_error(cmd, "option '--%s' needs a value (%s)", d->name,
			                          d->arg);
		}
		if (c == '?' && optopt >= 1000) {
			notice_json(ctx, argc, argv);
			snprintf(ctx->object, sizeof ctx->object, "--%s", defs[optopt - 1000].name);
			return ai_cmd_usage_error(cmd, "option '--%s' takes no value",
			                          defs[optopt - 1000].name);
		}
		if (c == '?') {
			notice_json(ctx, argc, argv);
			return unknown_option(cmd, ctx, argv[optind - 1],
			                      optopt > 0 && optopt < 1000 ? optopt : 0);
		}
		if (c >= 1000) {
			/* getopt takes a prefix of one option for it: refused, so that
			 * "--key" never quietly means --key-id, and a new option can
			 * never make an old command line ambiguous. */
			const char *text = optarg && optind >= 2 && optarg == argv[optind - 1]
			                       ? argv[optind - 2] : argv[optind - 1];
			d = &defs[c - 1000];
			if (strncmp(text, "--", 2) == 0 &&
			    strcspn(text + 2, "=") != strlen(d->name)) {
				notice_json(ctx, argc, argv);
				snprintf(ctx->object, sizeof ctx->object, "%.*s",
				         (int)strcspn(text, "="), text);
				if (cmd == &main_cmd) {
					ai_error("option '%s' is short for '--%s': write it in full (see "
					         "'aiarchive --help')", ctx->object, d->name);
					return AI_ERR_USAGE;
				}
				return ai_cmd_usage_error(cmd, "option '%s' is short for '--%s': write "
				                          "it in full", ctx->object, d->name);
			}
		} else {
			for (size_t i = 0; !d && i < NDEFS; i++)
				if (defs[i].shortc == c && takes(&defs[i], cmd))
					d = &defs[i];
		}
		r = set_value(cmd, d, o, ctx, optarg, "command line");
		if (r != AI_OK) {
			notice_json(ctx, argc, argv);
			snprintf(ctx->object, sizeof ctx->object, "--%s", d->name);
			return r;
		}
		given[d - defs] = 1;
		if (!IS_GLOBAL(d))
			o->origin[d - defs] = AI_FROM_CLI;
	}
	/* After "--": operands too. */
	for (; !stop && optind < argc; optind++) {
		if (noperands++ < cmd->operands) {
			o->operand = argv[optind];
			continue;
		}
		notice_json(ctx, argc, argv);
		snprintf(ctx->object, sizeof ctx->object, "%s", argv[optind]);
		return ai_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	}
	if (next)
		*next = optind;
	apply_globals(ctx);
	return AI_OK;
}

/* The global options' variables (they have no config keys):
 * AIARCHIVE_JSON and AIARCHIVE_QUIET true or false, AIARCHIVE_VERBOSE
 * 0 to 2 (or true, 1); the command line's -v, -q and --json then add to
 * or override them. Empty is as if unset. */
static ai_result global_env(struct ai_ctx *ctx)
{
	static const char *const names[] = { "AIARCHIVE_JSON", "AIARCHIVE_QUIET",
		                             "AIARCHIVE_VERBOSE" };

	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(names[i]);
		int yes = v && (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0);
		int no = v && (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "0") == 0);
		if (!v || !*v)
			continue;
		if (i == 2 && strcmp(v, "2") == 0) {
			ctx->verbosity = 2;
			continue;
		}
		if (!yes && !no) {
			snprintf(ctx->object, sizeof ctx->object, "%s", names[i]);
			ai_error("environment variable %s: bad value '%s' (%s)", names[i], v,
			         i == 2 ? "0, 1 or 2" : "true or false");
			return AI_ERR_USAGE;
		}
		if (i == 0)
			ctx->json = yes;
		else if (i == 1 && yes)
			ctx->verbosity = -1;
		else if (i == 2)
			ctx->verbosity = yes;
	}
	return AI_OK;
}

ai_result ai_options_parse_main(struct ai_ctx *ctx, int argc, char **argv, int *command,
                                int *help, int *version)
{
	struct ai_options o;
	unsigned char given[NDEFS] = { 0 };
	ai_result r, env = global_env(ctx);

	ai_options_init(&o);
	apply_globals(ctx);
	r = parse_argv(&main_cmd, ctx, argc, argv, &o, given, 1, command);
	*help = o.help;
	*version = o.version;
	/* A bad variable stops every command, but not a request for help. */
	if (r == AI_OK && env != AI_OK && !o.help && !o.version &&
	    !ai_options_argv_has(argc, argv, "--help") && !ai_options_argv_has(argc, argv, "-h"))
		r = env;
	ai_options_release(&o);
	return r;
}

ai_result ai_options_parse(const struct ai_cmd *cmd, struct ai_ctx *ctx, int argc, char **argv,
                           struct ai_options *o)
{
	unsigned char given[NDEFS] = { 0 };
	char found[400]; /* a longer one is not looked for */
	const char *config, *how;
	int any_config = 0;
	ai_result r;

	for (size_t i = 0; i < NDEFS; i++)
		any_config |= takes(&defs[i], cmd) && IS_CFG(&defs[i]);
	o->cmd_bit = cmd->bit;
	o->cmd_name = cmd->name;
	r = parse_argv(cmd, ctx, argc, argv, o, given, 0, NULL);
	if (r != AI_OK)
		return r;
	if (o->help) {
		ai_options_help(ctx->out, cmd);
		return AI_OK;
	}
	/* A command without config keys (version) leaves the environment
	 * and the file alone. */
	if (!any_config)
		goto checks;
	r = read_env(cmd, given, o, ctx);
	if (r != AI_OK)
		return r;
	config = config_path(ctx, found, sizeof found, &how);
	if (config) {
		ai_info("config file '%s' (%s)", config, how);
		r = read_config(cmd, config, given, o, ctx);
		if (r != AI_OK) {
			if (!ctx->object[0])
				snprintf(ctx->object, sizeof ctx->object, "%s", config);
			return r;
		}
	}
checks:
	if (o->has_from && o->has_to && o->from >= o->to)
		return ai_cmd_usage_error(cmd, "--from must be before --to");
	return AI_OK;
}

int ai_options_match(char *const *list, size_t n, const char *value)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (value && strcasecmp(list[i], value) == 0)
			return 1;
	return 0;
}

enum ai_from ai_options_origin(const struct ai_options *o, const char *name, char *out,
                               size_t cap)
{
	enum ai_from from = AI_FROM_DEFAULT;

	for (size_t i = 0; i < NDEFS; i++) {
		if (strcmp(defs[i].name, name) != 0 || IS_GLOBAL(&defs[i]))
			continue;
		if (o->origin[i] == AI_FROM_CONFIG) {
			snprintf(out, cap, "config file '%s' line %u",
			         o->config_file ? o->config_file : "?", o->line[i]);
			return AI_FROM_CONFIG;
		}
		if (o->origin[i] == AI_FROM_ENV) {
			env_name(&defs[i], out, cap);
			return AI_FROM_ENV;
		}
		if (o->origin[i] == AI_FROM_CLI ||
		    (defs[i].kind == K_STR && *(char *const *)((const char *)o + defs[i].off)))
			from = AI_FROM_CLI;
	}
	snprintf(out, cap, "--%s", name);
	return from;
}

/* The role a token's identity needs on one side for the command. */
static const char *rbac_hint(const struct ai_options *o, int src, int wit)
{
	static __thread char hint[160];
	int writes = (o->cmd_bit & (AI_CMD_RUN | AI_CMD_GC | AI_CMD_INIT)) != 0;

	snprintf(hint, sizeof hint, "'%s' on the %s, for '%s'",
	         writes && !src ? "Storage Blob Data Contributor" : "Storage Blob Data Reader",
	         src ? "source" : wit ? "witness" : "archive", o->cmd_name ? o->cmd_name : "?");
	return hint;
}

/* The side's auth method and client id (ARCHITECTURE.md §3.2): the one
 * place that maps --X-auth METHOD onto the store's configuration. */
static ai_result side_auth(const struct ai_options *o, int src, int wit,
                           struct ai_store_config *cfg)
{
	const char *name = wit ? NULL : src ? o->source_auth : o->dest_auth;
	enum ai_auth_method m = AI_AUTH_AUTO;
	const char *ca = o->ca_file ? o->ca_file : getenv("SSL_CERT_FILE");

	if (name && ai_auth_method_parse(name, &m) != AI_OK) {
		ai_error("--%s-auth: unknown method '%s' (auto, key, sas, connection-string, "
		         "managed-identity, workload-identity, service-principal, azure-cli, "
		         "anonymous)", src ? "source" : "dest", name);
		return AI_ERR_USAGE;
	}
	cfg->auth = (int)m;
	cfg->client_id = wit ? NULL : src ? o->source_client_id : o->dest_client_id;
	cfg->ca_file = ca && *ca ? ca : NULL;
	cfg->rbac_hint = rbac_hint(o, src, wit);
	return AI_OK;
}

ai_result ai_options_store_config(const struct ai_options *o, const char *side,
                                  struct ai_store_config *cfg, struct ai_credential *cred)
{
	int src = strcmp(side, "source") == 0, wit = strcmp(side, "witness") == 0;
	ai_result r;

	memset(cfg, 0, sizeof *cfg);
	cfg->url = src ? o->source : wit ? o->witness : o->dest;
	cfg->secondary_url = src ? o->source_secondary : wit ? NULL : o->dest_secondary;
	cfg->max_transfers = (unsigned)o->jobs;
	cfg->max_tries = (unsigned)o->max_tries;
	cfg->retry_total_ns = o->retry_total;
	cfg->connect_timeout_ns = o->connect_timeout;
	cfg->stall_timeout_ns = o->stall_timeout;
	/* The credential first: it is released whatever fails after. */
	r = ai_credential_resolve(o, side, cred);
	if (r == AI_OK)
		r = side_auth(o, src, wit, cfg);
	if (r != AI_OK)
		return r;
	if (cred->kind == AI_CRED_SAS)
		cfg->sas = cred->secret;
	else if (cred->kind == AI_CRED_ACCOUNT_KEY)
		cfg->account_key = cred->secret;
	else if (cred->kind == AI_CRED_CONNECTION_STRING)
		cfg->connection_string = cred->secret;
	cfg->credential = cred->described;
	return AI_OK;
}

/* Whether url is an Azure location (a credential's claims matter), and
 * whether it names an account without a container (listing the
 * account's containers). */
static int azure_location(const char *url, int *account_level)
{
	struct ai_azurl u;
	char *sas = NULL;
	int ok;

	*account_level = 0;
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		return 0;
	ok = ai_azurl_parse(url, &u, &sas) == AI_OK;
	if (sas)
		ai_cleanse(sas, strlen(sas));
	free(sas);
	*account_level = ok && !u.container[0];
	return ok;
}

ai_result ai_options_open_store(const struct ai_options *o, const char *side, const char *need,
                                struct ai_store **out)
{
	struct ai_store_config cfg;
	struct ai_credential cred;
	int account;
	ai_result r;

	*out = NULL;
	if (!(strcmp(side, "source") == 0 ? o->source : strcmp(side, "witness") == 0 ? o->witness :
	      o->dest)) {
		ai_error("no --%s given (on the command line, in AIARCHIVE_%s or in the config file)",
		         side, strcmp(side, "source") == 0 ? "SOURCE" :
		         strcmp(side, "witness") == 0 ? "WITNESS" : "DEST");
		return AI_ERR_USAGE;
	}
	r = ai_options_store_config(o, side, &cfg, &cred);
	/* The service judges a SAS by its own clock, so the real one (not
	 * AIARCHIVE_NOW) decides here too. */
	if (r == AI_OK && need && azure_location(cfg.url, &account))
		r = ai_credential_check(&cred, side, need, account, ai_clock_real());
	if (r == AI_OK) {
		r = ai_store_open(out, &cfg);
		if (r != AI_OK)
			ai_error("%s: %s", side, ai_store_why(r));
		else
			ai_debug("%s: %s", side, ai_store_credential(*out));
	}
	ai_credential_release(&cred);
	return r;
}

ai_result ai_options_state_dir(const struct ai_options *o, char *out, size_t cap)
{
	const char *v = o->state_dir, *from = "--state-dir", *env;
	size_t n;

	if (!v && (env = getenv("STATE_DIRECTORY")) && *env) {
		v = env;
		from = "STATE_DIRECTORY";
	}
	/* The XDG spec ignores a relative XDG_STATE_HOME. */
	if (!v && (env = getenv("XDG_STATE_HOME")) && *env == '/') {
		if ((size_t)snprintf(out, cap, "%s/aiarchive", env) >= cap)
			goto too_long;
		return AI_OK;
	}
	if (!v) {
		v = "/var/lib/aiarchive";
		from = "the default";
	}
	/* systemd gives one path per StateDirectory= entry, ':'-separated. */
	n = strcmp(from, "STATE_DIRECTORY") == 0 ? strcspn(v, ":") : strlen(v);
	if (n == 0 || v[0] != '/') {
		ai_error("state directory '%.*s' (%s): not an absolute path", (int)n, v, from);
		return AI_ERR_CONFIG;
	}
	if (n >= cap)
		goto too_long;
	memcpy(out, v, n);
	out[n] = '\0';
	return AI_OK;
too_long:
	ai_error("state directory (%s): path too long", from);
	return AI_ERR_CONFIG;
}

ai_result ai_options_witnesses(const struct ai_options *o, const char *need,
                               struct ai_witnesses *ws)
{
	char dir[1024];
	struct ai_store *s = NULL;
	ai_result r;

	r = ai_options_state_dir(o, dir, sizeof dir);
	if (r != AI_OK)
		return r;
	r = ai_witnesses_add_dir(ws, dir, o->state_dir != NULL);
	if (r != AI_OK) {
		ai_error("%s", ai_store_why(r));
		return r;
	}
	if (!o->witness)
		return AI_OK;
	r = ai_options_open_store(o, "witness", need, &s);
	if (r == AI_OK)
		r = ai_witnesses_add_store(ws, s, 1);
	return r;
}

void ai_options_record_outcome(const struct ai_options *o, const struct ai_store *dest,
                               const char *command, ai_result r, const char *run_id)
{
	char dir[1024];
	struct ai_outcome oc;

	if (!dest || ai_options_state_dir(o, dir, sizeof dir) != AI_OK)
		return;
	ai_outcome_make(&oc, command, r, ai_clock_real(), run_id);
	if (ai_outcome_write(dir, dest, &oc) != AI_OK)
		return; /* said in a warning */
}

ai_result ai_options_read_outcome(const struct ai_options *o, const struct ai_store *dest,
                                  const char *command, struct ai_outcome *out)
{
	char dir[1024];

	if (ai_options_state_dir(o, dir, sizeof dir) != AI_OK)
		return AI_ERR_NOT_FOUND;
	return ai_outcome_read(dir, dest, command, out);
}
