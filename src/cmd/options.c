/* options.c: one table of options shared by the command line and the
 * config file, and the credential lookup of ARCHITECTURE.md §3. */
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
#include "cmd/options.h"

enum kind { K_STR, K_LIST, K_FLAG, K_UINT, K_SIZE, K_DURATION, K_TIME };

struct def {
	const char *name;
	int shortc;
	enum kind kind;
	size_t off;        /* field in struct ai_options */
	size_t count_off;  /* K_LIST: its count; K_TIME: its has_ flag */
	size_t max;        /* K_LIST: capacity */
	const char *arg;
	const char *help;
};

#define O(f) offsetof(struct ai_options, f)

static const struct def defs[] = {
	{ "source", 0, K_STR, O(source), 0, 0, "URL", "the export container, or an account for diagnostic settings" },
	{ "source-secondary", 0, K_STR, O(source_secondary), 0, 0, "URL", "RA-GRS read endpoint of the source" },
	{ "source-sas-file", 0, K_STR, O(source_sas_file), 0, 0, "FILE", "SAS token for the source" },
	{ "source-key-file", 0, K_STR, O(source_key_file), 0, 0, "FILE", "account key for the source" },
	{ "dest", 0, K_STR, O(dest), 0, 0, "URL", "the archive container (and prefix)" },
	{ "dest-secondary", 0, K_STR, O(dest_secondary), 0, 0, "URL", "RA-GRS read endpoint of the archive" },
	{ "dest-sas-file", 0, K_STR, O(dest_sas_file), 0, 0, "FILE", "SAS token for the archive" },
	{ "dest-key-file", 0, K_STR, O(dest_key_file), 0, 0, "FILE", "account key for the archive" },
	{ "layout", 0, K_STR, O(layout), 0, 0, "L", "auto, continuous-export or diagnostic-settings" },
	{ "key", 'k', K_STR, O(key), 0, 0, "FILE", "private signing key" },
	{ "pubkey", 'p', K_STR, O(pubkey), 0, 0, "FILE", "public key to verify with (default: the published one)" },
	{ "key-id", 0, K_STR, O(key_id), 0, 0, "ID", "pinned signing key id (16 hex digits)" },
	{ "output", 'o', K_STR, O(output), 0, 0, "PATH", "where to write the private key" },
	{ "format", 0, K_STR, O(format), 0, 0, "F", "output format: table, jsonl or csv" },
	{ "prom", 0, K_STR, O(prom), 0, 0, "FILE", "write Prometheus text-format metrics to FILE" },
	{ "cache-dir", 0, K_STR, O(cache_dir), 0, 0, "DIR", "manifest cache (default: XDG cache directory)" },
	{ "subset", 0, K_STR, O(subset), 0, 0, "N/M", "check only the Nth of M deterministic shares" },
	{ "app", 0, K_LIST, O(apps), O(napps), AI_MAX_FILTERS, "NAME[,NAME]", "only these apps" },
	{ "type", 0, K_LIST, O(types), O(ntypes), AI_MAX_FILTERS, "TYPE[,TYPE]", "only these telemetry types or categories" },
	{ "role", 0, K_LIST, O(roles), O(nroles), AI_MAX_FILTERS, "ROLE[,ROLE]", "only these cloud roles" },
	{ "operation-id", 0, K_LIST, O(operation_ids), O(noperation_ids), AI_MAX_FILTERS, "ID[,ID]", "only these operation ids" },
	{ "tag", 0, K_LIST, O(tags), O(ntags), AI_MAX_TAGS, "TAG[,TAG]", "label (run) or filter (query)" },
	{ "from", 0, K_TIME, O(from), O(has_from), 0, "TIME", "start (UTC, inclusive): 2026-11-20T13, now-2h" },
	{ "to", 0, K_TIME, O(to), O(has_to), 0, "TIME", "end (UTC, exclusive)" },
	{ "jobs", 'j', K_UINT, O(jobs), 0, 256, "N", "parallel transfers" },
	{ "pack-size", 0, K_SIZE, O(pack_size), 0, 0, "SIZE", "largest pack before it is split (e.g. 128MiB)" },
	{ "lookback", 0, K_DURATION, O(lookback), 0, 0, "DUR", "delivery hours re-listed before the watermark" },
	{ "grace", 0, K_DURATION, O(grace), 0, 0, "DUR", "how long after its hour a folder may still change" },
	{ "lock-duration", 0, K_DURATION, O(lock_duration), 0, 0, "DUR", "run lock lease (15s..60s, renewed)" },
	{ "max-tries", 0, K_UINT, O(max_tries), 0, 100, "N", "attempts per request" },
	{ "retry-total", 0, K_DURATION, O(retry_total), 0, 0, "DUR", "longest time spent retrying one request" },
	{ "connect-timeout", 0, K_DURATION, O(connect_timeout), 0, 0, "DUR", "TCP/TLS connect timeout" },
	{ "stall-timeout", 0, K_DURATION, O(stall_timeout), 0, 0, "DUR", "abort a transfer with no progress this long" },
	{ "older-than", 0, K_DURATION, O(older_than), 0, 0, "DUR", "only remove objects last changed this long ago (24h)" },
	{ "dry-run", 'n', K_FLAG, O(dry_run), 0, 0, NULL, "list what would be archived (run) or removed (gc), change nothing" },
	{ "wait", 0, K_FLAG, O(wait), 0, 0, NULL, "wait for the lock instead of exiting 5" },
	{ "error-on-nothing", 0, K_FLAG, O(error_on_nothing), 0, 0, NULL, "exit 9 when there is nothing new" },
	{ "data", 0, K_FLAG, O(data), 0, 0, NULL, "also re-read and check archived data" },
	{ "no-cache", 0, K_FLAG, O(no_cache), 0, 0, NULL, "do not use the local manifest cache" },
	{ "force", 'f', K_FLAG, O(force), 0, 0, NULL, "overwrite an existing file" },
};
#define NDEFS (sizeof defs / sizeof defs[0])

void ai_options_init(struct ai_options *o)
{
	memset(o, 0, sizeof *o);
	o->jobs = 16;
	o->pack_size = 128ULL << 20;
	o->lookback = 3600 * AI_NS_PER_SEC;
	o->grace = 15 * 60 * AI_NS_PER_SEC;
	o->lock_duration = 60 * AI_NS_PER_SEC;
	o->max_tries = 6;
	o->retry_total = 120 * AI_NS_PER_SEC;
	o->connect_timeout = 10 * AI_NS_PER_SEC;
	o->stall_timeout = 30 * AI_NS_PER_SEC;
	o->older_than = 24 * 3600 * AI_NS_PER_SEC;
}

void ai_options_release(struct ai_options *o)
{
	for (size_t i = 0; i < NDEFS; i++) {
		char *base = (char *)o + defs[i].off;
		if (defs[i].kind == K_STR) {
			free(*(char **)base);
		} else if (defs[i].kind == K_LIST) {
			size_t *n = (size_t *)((char *)o + defs[i].count_off);
			for (size_t k = 0; k < *n; k++)
				free(((char **)base)[k]);
		}
	}
	memset(o, 0, sizeof *o);
}

static int accepted_has(const char *accepted, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = accepted; (p = strstr(p, name)); p += n)
		if ((p == accepted || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/* Stores value into the field of d; one-line error on bad values. */
static ai_result set_value(const struct ai_cmd *cmd, const struct def *d, struct ai_options *o,
                           const char *value, ai_time now, const char *where)
{
	char *base = (char *)o + d->off;
	ai_result r = AI_OK;

	switch (d->kind) {
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
			size_t len = strcspn(p, ",");
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
			p += len + (p[len] == ',');
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
		r = ai_parse_duration(value, 366LL * 86400 * AI_NS_PER_SEC, (int64_t *)base);
		break;
	case K_TIME:
		r = ai_parse_time_arg(value, now, (ai_time *)base);
		if (r == AI_OK)
			*(int *)((char *)o + d->count_off) = 1;
		break;
	}
	if (r != AI_OK && r != AI_ERR_NOMEM) {
		ai_error("%s: %s: bad value '%s' for --%s (%s)", cmd->name, where, value, d->name,
		         d->arg ? d->arg : "true/false");
		return AI_ERR_USAGE;
	}
	return r;
}

void ai_options_usage(FILE *f, const char *accepted)
{
	for (size_t i = 0; i < NDEFS; i++) {
		char left[64];
		if (!accepted_has(accepted, defs[i].name))
			continue;
		if (defs[i].shortc)
			snprintf(left, sizeof left, "-%c, --%s%s%s", defs[i].shortc, defs[i].name,
			         defs[i].arg ? " " : "", defs[i].arg ? defs[i].arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", defs[i].name, defs[i].arg ? " " : "",
			         defs[i].arg ? defs[i].arg : "");
		fprintf(f, "  %-30s %s\n", left, defs[i].help);
	}
	fprintf(f, "  %-30s %s\n", "-h, --help", "this text");
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

static ai_result read_config(const struct ai_cmd *cmd, const char *accepted, const char *path,
                             const unsigned char *given, struct ai_options *o, ai_time now)
{
	FILE *f = fopen(path, "r");
	char line[4096], where[600];
	unsigned lineno = 0;
	ai_result r = AI_OK;

	if (!f) {
		ai_error("config '%s': %s", path, strerror(errno));
		return AI_ERR_CONFIG;
	}
	while (r == AI_OK && fgets(line, sizeof line, f)) {
		char *key, *value, *eq;
		size_t i;
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
		for (i = 0; i < NDEFS && strcmp(defs[i].name, key) != 0; i++)
			;
		if (i == NDEFS) {
			ai_error("config '%s' line %u: unknown key '%s'", path, lineno, key);
			r = AI_ERR_CONFIG;
			break;
		}
		if (!accepted_has(accepted, key) || given[i])
			continue;
		snprintf(where, sizeof where, "config '%s' line %u", path, lineno);
		r = set_value(cmd, &defs[i], o, value, now, where);
		if (r == AI_ERR_USAGE)
			r = AI_ERR_CONFIG;
	}
	fclose(f);
	return r;
}

ai_result ai_options_parse(const struct ai_cmd *cmd, const char *accepted, struct ai_ctx *ctx,
                           int argc, char **argv, struct ai_options *o)
{
	struct option lopts[NDEFS + 2];
	unsigned char given[NDEFS] = { 0 };
	char shorts[2 * NDEFS + 4] = "+h";
	size_t nl = 0, ns = 2;
	const char *config = ctx->config_path ? ctx->config_path : getenv("AIARCHIVE_CONFIG");
	int c, idx;

	for (size_t i = 0; i < NDEFS; i++) {
		if (!accepted_has(accepted, defs[i].name))
			continue;
		lopts[nl++] = (struct option){ defs[i].name,
		                               defs[i].kind == K_FLAG ? no_argument : required_argument,
		                               NULL, 1000 + (int)i };
		if (defs[i].shortc) {
			shorts[ns++] = (char)defs[i].shortc;
			if (defs[i].kind != K_FLAG)
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	lopts[nl++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[nl] = (struct option){ NULL, 0, NULL, 0 };
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, &idx)) != -1) {
		size_t i;
		if (c == 'h') {
			fprintf(ctx->out, "usage: aiarchive %s%s%s\n\n%s\n\noptions:\n", cmd->name,
			        *cmd->args ? " " : "", cmd->args, cmd->summary);
			ai_options_usage(ctx->out, accepted);
			o->help = 1;
			return AI_OK;
		}
		if (c == '?' || c == ':') {
			if (optopt && optopt < 1000 && optopt != '?')
				return ai_cmd_usage_error(cmd, "option '-%c' is unknown or needs a value",
				                          optopt);
			return ai_cmd_usage_error(cmd, "option '%s' is unknown or needs a value",
			                          argv[optind - 1]);
		}
		if (c >= 1000) {
			i = (size_t)(c - 1000);
		} else {
			for (i = 0; i < NDEFS && defs[i].shortc != c; i++)
				;
		}
		ai_result r = set_value(cmd, &defs[i], o, optarg, ctx->now, "command line");
		if (r != AI_OK)
			return r;
		given[i] = 1;
	}
	/* No command takes arguments besides its options. */
	if (optind < argc)
		return ai_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (config) {
		ai_result r = read_config(cmd, accepted, config, given, o, ctx->now);
		if (r != AI_OK)
			return r;
	}
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

/* Reads a secret from a file: the first line, trimmed. */
static ai_result read_secret(const char *what, const char *path, char **out)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;
	char *s;

	if (!f) {
		ai_error("%s '%s': %s", what, path, strerror(errno));
		return AI_ERR_CONFIG;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	s = trim(buf);
	if (!*s) {
		ai_error("%s '%s': the file is empty", what, path);
		return AI_ERR_CONFIG;
	}
	*out = strdup(s);
	ai_cleanse(buf, sizeof buf);
	return *out ? AI_OK : AI_ERR_NOMEM;
}

static ai_result env_secret(const char *side, const char *what, char **out)
{
	char name[64];
	const char *v;

	snprintf(name, sizeof name, "AIARCHIVE_%s_%s", strcmp(side, "source") == 0 ? "SOURCE" : "DEST",
	         what);
	v = getenv(name);
	if (!v || !*v)
		return AI_OK;
	*out = strdup(v);
	return *out ? AI_OK : AI_ERR_NOMEM;
}

ai_result ai_options_store_config(const struct ai_options *o, const char *side,
                                  struct ai_store_config *cfg, struct ai_secrets *sec)
{
	int src = strcmp(side, "source") == 0;
	const char *sas_file = src ? o->source_sas_file : o->dest_sas_file;
	const char *key_file = src ? o->source_key_file : o->dest_key_file;
	ai_result r = AI_OK;

	memset(sec, 0, sizeof *sec);
	memset(cfg, 0, sizeof *cfg);
	cfg->url = src ? o->source : o->dest;
	cfg->secondary_url = src ? o->source_secondary : o->dest_secondary;
	cfg->max_transfers = (unsigned)o->jobs;
	cfg->max_tries = (unsigned)o->max_tries;
	cfg->retry_total_ns = o->retry_total;
	cfg->connect_timeout_ns = o->connect_timeout;
	cfg->stall_timeout_ns = o->stall_timeout;
	if (sas_file)
		r = read_secret("SAS file", sas_file, &sec->sas);
	if (r == AI_OK && !sec->sas)
		r = env_secret(side, "SAS", &sec->sas);
	if (r == AI_OK && !sec->sas && key_file)
		r = read_secret("key file", key_file, &sec->key);
	if (r == AI_OK && !sec->sas && !sec->key)
		r = env_secret(side, "KEY", &sec->key);
	if (r == AI_OK && !sec->sas && !sec->key)
		r = env_secret(side, "CONNECTION_STRING", &sec->connection_string);
	if (r != AI_OK)
		return r;
	if (sec->sas)
		ai_redact_add(sec->sas);
	if (sec->key)
		ai_redact_add(sec->key);
	if (sec->connection_string)
		ai_redact_add(sec->connection_string);
	cfg->sas = sec->sas;
	cfg->account_key = sec->key;
	cfg->connection_string = sec->connection_string;
	return AI_OK;
}

static void free_secret(char *s)
{
	if (s) {
		ai_cleanse(s, strlen(s));
		free(s);
	}
}

void ai_options_free_secrets(struct ai_secrets *s)
{
	free_secret(s->sas);
	free_secret(s->key);
	free_secret(s->connection_string);
	memset(s, 0, sizeof *s);
}

ai_result ai_options_open_store(const struct ai_options *o, const char *side,
                                struct ai_store **out)
{
	struct ai_store_config cfg;
	struct ai_secrets sec;
	ai_result r;

	*out = NULL;
	if (!(strcmp(side, "source") == 0 ? o->source : o->dest)) {
		ai_error("no --%s given (on the command line or in the config file)", side);
		return AI_ERR_USAGE;
	}
	r = ai_options_store_config(o, side, &cfg, &sec);
	if (r == AI_OK) {
		r = ai_store_open(out, &cfg);
		if (r != AI_OK)
			ai_error("%s: %s", side, ai_store_why(r));
	}
	ai_options_free_secrets(&sec);
	return r;
}
