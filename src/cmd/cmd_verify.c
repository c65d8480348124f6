/* cmd_verify.c: `aiarchive verify`: signatures, the hash chain, the segment
 * indexes, optionally the data and a source window; one line per problem
 * and a summary. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/jsonout.h"
#include "cmd/cmd.h"
#include "util/progress.h"
#include "util/escape.h"
#include "util/log.h"
#include "format/minisign.h"
#include "cmd/credential.h"
#include "cmd/options.h"
#include "engine/trust.h"
#include "engine/verify.h"
#include "engine/witness.h"

/* Appends " WORD", quoted for a POSIX shell unless it needs no quotes. */
static ai_result add_word(struct ai_buf *b, const char *w)
{
	ai_result r = ai_buf_addc(b, ' ');

	if (r == AI_OK && *w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                  "0123456789_./:=,@%+-") == strlen(w))
		return ai_buf_addstr(b, w);
	if (r == AI_OK)
		r = ai_buf_addc(b, '\'');
	for (const char *p = w; r == AI_OK && *p; p++)
		r = *p == '\'' ? ai_buf_addstr(b, "'\\''") : ai_buf_addc(b, *p);
	if (r == AI_OK)
		r = ai_buf_addc(b, '\'');
	return r;
}

/* " --app a,b" when the names narrow the run (fewer than the source
 * has, few enough for the option, none with a comma in it). */
static ai_result add_filter(struct ai_buf *b, const char *option, const struct ai_strvec *names,
                            size_t seen)
{
	struct ai_buf list;
	ai_result r = AI_OK;

	if (names->n >= seen || names->n > AI_MAX_FILTERS)
		return AI_OK;
	for (size_t i = 0; i < names->n; i++)
		if (strchr(names->v[i], ','))
			return AI_OK;
	ai_buf_init(&list, 64 * 1024);
	for (size_t i = 0; r == AI_OK && i < names->n; i++) {
		if (i)
			r = ai_buf_addc(&list, ',');
		if (r == AI_OK)
			r = ai_buf_addstr(&list, names->v[i]);
	}
	if (r == AI_OK)
		r = ai_buf_printf(b, " %s", option);
	if (r == AI_OK)
		r = add_word(b, list.data ? list.data : "");
	ai_buf_release(&list);
	return r;
}

/* The run that archives what --source found missing: its source, archive,
 * delivery hours and, when they narrow it, apps and types (the key and
 * credentials are the operator's, as for any run). NULL when nothing is
 * missing or out of memory; the caller frees it. */
static char *fix_command(const struct ai_verify_report *rep, const struct ai_options *o,
                         const struct ai_store *src, const struct ai_store *dest)
{
	char from[AI_TIME_STRLEN], to[AI_TIME_STRLEN];
	struct ai_buf b;
	ai_result r;

	if (!src || !rep->fix_to)
		return NULL;
	ai_time_format(rep->fix_from, 0, from);
	ai_time_format(rep->fix_to, 0, to);
	ai_buf_init(&b, 64 * 1024);
	r = ai_buf_addstr(&b, "aiarchive run --source");
	if (r == AI_OK)
		r = add_word(&b, ai_store_describe(src));
	if (r == AI_OK)
		r = ai_buf_addstr(&b, " --dest");
	if (r == AI_OK)
		r = add_word(&b, ai_store_describe(dest));
	if (r == AI_OK && o->layout && strcmp(o->layout, "auto") != 0)
		r = ai_buf_printf(&b, " --layout %s", o->layout);
	if (r == AI_OK)
		r = ai_buf_printf(&b, " --from %.13s --to %.13s", from, to);
	if (r == AI_OK)
		r = add_filter(&b, "--app", &rep->fix_apps, rep->apps_seen);
	if (r == AI_OK)
		r = add_filter(&b, "--type", &rep->fix_types, rep->types_seen);
	if (r != AI_OK) {
		ai_buf_release(&b);
		return NULL;
	}
	return b.data;
}

static void print_json(FILE *f, const struct ai_verify_report *rep, const struct ai_options *o,
                       const struct ai_verify_params *p, const char *fix)
{
	char t[AI_TIME_STRLEN];

	fprintf(f, "{\"ok\":%s,\"errors\":%" PRIu64 ",\"warnings\":%" PRIu64 ",\"segments\":%" PRIu64
	           ",\"members\":%" PRIu64 ",\"indexes\":%" PRIu64
	           ",\"segments_without_index\":%" PRIu64 ",\"checkpoints\":%" PRIu64
	           ",\"state\":",
	        rep->errors ? "false" : "true", rep->errors, rep->warnings, rep->segments,
	        rep->members, rep->indexes, rep->unindexed, rep->checkpoints);
	if (rep->state_found)
		fprintf(f, "{\"next_seq\":%" PRIu64 "}", rep->state_next_seq);
	else
		fprintf(f, "null");
	fprintf(f, ",\"data\":");
	if (p->data) {
		fprintf(f, "{\"subset\":");
		if (o->subset)
			ai_json_string(f, o->subset);
		else
			fprintf(f, "null");
		fprintf(f, ",\"members_checked\":%" PRIu64 ",\"packs_checked\":%" PRIu64
		           ",\"bytes_read\":%" PRIu64 "}",
		        rep->members_checked, rep->packs_checked, rep->bytes_read);
	} else {
		fprintf(f, "null");
	}
	fprintf(f, ",\"source\":");
	if (p->src) {
		ai_time_format(p->from, 0, t);
		fprintf(f, "{\"from\":\"%s\",", t);
		ai_time_format(p->to, 0, t);
		fprintf(f, "\"to\":\"%s\",\"blobs\":%" PRIu64 ",\"missing\":%" PRIu64
		           ",\"quarantined\":%" PRIu64 ",\"run\":",
		        t, rep->source_blobs, rep->source_missing, rep->source_quarantined);
		if (fix)
			ai_json_string(f, fix);
		else
			fprintf(f, "null");
		fputc('}', f);
	} else {
		fprintf(f, "null");
	}
	fprintf(f, ",\"trust\":");
	ai_json_trust(f, p->trust);
	fprintf(f, ",\"problems\":[");
	for (size_t i = 0; i < rep->nproblems; i++) {
		const struct ai_verify_problem *pr = &rep->problems[i];
		fprintf(f, "%s{\"severity\":\"%s\",\"kind\":", i ? "," : "",
		        pr->warning ? "warning" : "error");
		ai_json_string(f, pr->kind);
		fprintf(f, ",\"object\":");
		ai_json_string(f, pr->object);
		fprintf(f, ",\"message\":");
		ai_json_string(f, pr->message);
		fputc('}', f);
	}
	fprintf(f, "],\"problems_unlisted\":%" PRIu64 "}\n", rep->unlisted);
}

static void print_text(FILE *f, const struct ai_verify_report *rep,
                       const struct ai_verify_params *p, const struct ai_options *o, int quiet,
                       const char *fix)
{
	for (size_t i = 0; i < rep->nproblems; i++) {
		const struct ai_verify_problem *pr = &rep->problems[i];
		if (pr->warning) {
			ai_warn("%s %s: %s", pr->kind, pr->object, pr->message);
			continue;
		}
		/* Object names come from the archive and the source. */
		fprintf(f, "%s ", pr->kind);
		ai_escape_put(f, pr->object);
		fputs(": ", f);
		ai_escape_put(f, pr->message);
		fputc('\n', f);
	}
	if (rep->unlisted)
		fprintf(f, "and %" PRIu64 " more problem%s, not listed\n",
		        rep->unlisted, rep->unlisted == 1 ? "" : "s");
	if (quiet)
		goto fix;
	fprintf(f, "verified %" PRIu64 " segment%s (%" PRIu64 " members)", rep->segments,
	        rep->segments == 1 ? "" : "s", rep->members);
	if (rep->indexes)
		fprintf(f, ", %" PRIu64 " index%s", rep->indexes, rep->indexes == 1 ? "" : "es");
	if (rep->state_found)
		fprintf(f, ", state covers %" PRIu64, rep->state_next_seq);
	if (rep->checkpoints)
		fprintf(f, ", %" PRIu64 " witness checkpoint%s", rep->checkpoints,
		        rep->checkpoints == 1 ? "" : "s");
	if (rep->unindexed)
		fprintf(f, "; %" PRIu64 " segment%s no index (%s read in full)", rep->unindexed,
		        rep->unindexed == 1 ? " has" : "s have", rep->unindexed == 1 ? "it is" : "they are");
	if (p->data)
		fprintf(f, "; data%s%s: %" PRIu64 " members, %" PRIu64 " packs, %.1f MiB read",
		        o->subset ? " " : "", o->subset ? o->subset : "", rep->members_checked,
		        rep->packs_checked, (double)rep->bytes_read / (1 << 20));
	if (p->src)
		fprintf(f, "; source: %" PRIu64 " blobs, %" PRIu64 " missing", rep->source_blobs,
		        rep->source_missing);
	if (p->src && rep->source_quarantined)
		fprintf(f, ", %" PRIu64 " quarantined", rep->source_quarantined);
	if (rep->errors)
		fprintf(f, "; %" PRIu64 " problem%s", rep->errors, rep->errors == 1 ? "" : "s");
	else
		fprintf(f, "; ok");
	if (rep->warnings)
		fprintf(f, " (%" PRIu64 " warning%s)", rep->warnings, rep->warnings == 1 ? "" : "s");
	fputc('\n', f);
fix:
	if (!fix)
		return;
	/* The one step that makes the archive complete again. */
	fputs("to archive what is missing, run (with the usual --key and credentials): ", f);
	ai_escape_put(f, fix);
	fputc('\n', f);
}

/* --subset day/M is N/M with N from the UTC day (days since 1970 modulo
 * M, plus 1): M nightly verifies re-read every member. o->subset becomes
 * the N/M it stands for. */
static ai_result subset_of_the_day(struct ai_options *o, ai_time now)
{
	unsigned long long m, day = (unsigned long long)(now / (86400 * AI_NS_PER_SEC));
	char nm[48];
	int used = 0;

	if (!o->subset || strncmp(o->subset, "day/", 4) != 0)
		return AI_OK;
	if (sscanf(o->subset, "day/%llu%n", &m, &used) != 1 || o->subset[used] != '\0' ||
	    o->subset[4] < '1' || o->subset[4] > '9' || now < 0)
		return AI_ERR_USAGE;
	snprintf(nm, sizeof nm, "%llu/%llu", day % m + 1, m);
	free(o->subset);
	o->subset = strdup(nm);
	return o->subset ? AI_OK : AI_ERR_NOMEM;
}

static ai_result exec_verify(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	struct ai_store *dest = NULL, *src = NULL;
	struct ai_trust trust;
	struct ai_verify_report rep;
	struct ai_verify_params p;
	struct ai_witnesses ws = { 0 };
	char *fix = NULL;
	ai_result r;

	memset(&p, 0, sizeof p);
	ai_trust_init(&trust);
	ai_verify_report_init(&rep);
	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_verify, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	r = ai_trust_from_options(&trust, &ai_cmd_verify, &o);
	if (r != AI_OK)
		goto out;
	r = subset_of_the_day(&o, ctx->now);
	if (r == AI_ERR_NOMEM)
		goto out;
	if (r != AI_OK || (o.subset && ai_verify_subset_parse(o.subset, &p.subset) != AI_OK)) {
		r = ai_cmd_usage_error(&ai_cmd_verify, "--subset wants N/M with 1 <= N <= M, or day/M");
		goto out;
	}
	/* A shared config's source is run's: verify compares with it only
	 * when asked, by --from and --to (or --source on the command line). */
	if (o.source && !o.has_from && !o.has_to) {
		char from[600];
		if (ai_options_origin(&o, "source", from, sizeof from) != AI_FROM_CLI) {
			ai_debug("%s: the source is not compared without --from and --to", from);
			free(o.source);
			o.source = NULL;
		}
	}
	if (o.source && (!o.has_from || !o.has_to)) {
		r = ai_cmd_usage_error(&ai_cmd_verify, "--source needs --from and --to");
		goto out;
	}
	if (ai_layout_parse(o.layout ? o.layout : "auto", &p.layout) != AI_OK) {
		r = ai_cmd_usage_error(&ai_cmd_verify, "unknown layout '%s'", o.layout);
		goto out;
	}
	r = ai_options_open_store(&o, "dest", AI_NEED_READ, &dest);
	if (r == AI_OK && o.source)
		r = ai_options_open_store(&o, "source", AI_NEED_READ, &src);
	if (r != AI_OK)
		goto out;
	ai_witnesses_init(&ws, dest);
	r = ai_options_witnesses(&o, AI_NEED_WITNESS_READ, &ws);
	if (r == AI_OK)
		r = ai_witness_require(&ws, dest, &trust, 0);
	if (r != AI_OK)
		goto out;
	/* Without --data a check reads little: no progress line. */
	if (o.data || o.subset) {
		r = ai_cmd_progress(&ai_cmd_verify, ctx, &o, "members", 0, &p.progress);
		if (r != AI_OK)
			goto out;
	}
	p.witness = &ws;
	p.dest = dest;
	p.trust = &trust;
	p.data = o.data || o.subset;
	p.jobs = (unsigned)o.jobs;
	p.src = src;
	/* Test hook: archived ranges held in memory, so tests reach the
	 * temporary file without a million members. */
	if (src && (r = ai_cmd_test_number("AIARCHIVE_TEST_RANGES_IN_MEMORY", SIZE_MAX,
	                                   &p.ranges_in_memory)) != AI_OK)
		goto out;
	if (src) {
		p.from = ai_time_hour(o.from);
		p.to = o.to;
	}
	r = ai_verify(&p, &rep);
	ai_progress_end(p.progress);
	p.progress = NULL;
	ai_say_trust(&trust);
	if (r != AI_OK)
		goto out;
	fix = fix_command(&rep, &o, src, dest);
	if (ctx->json)
		print_json(ctx->out, &rep, &o, &p, fix);
	else
		print_text(ctx->out, &rep, &p, &o, ctx->verbosity < 0, fix);
	if (rep.errors) {
		size_t i = 0;

		/* The first error, not a warning. */
		while (i + 1 < rep.nproblems && rep.problems[i].warning)
			i++;
		r = AI_ERR_VERIFY;
		if (i < rep.nproblems)
			ai_cmd_object(ctx, "%s", rep.problems[i].object);
		if (i < rep.nproblems)
			ai_cmd_failed(ctx, NULL, "%llu problem%s found (first: %s %s: %s)",
			              (unsigned long long)rep.errors, rep.errors == 1 ? "" : "s",
			              rep.problems[i].kind, rep.problems[i].object,
			              rep.problems[i].message);
	}
out:
	/* For status --prom: verify writes nothing into the archive (and no
	 * record of a location that holds none). */
	if (dest && r != AI_ERR_CONFIG)
		ai_options_record_outcome(&o, dest, "verify", r, NULL);
	ai_progress_end(p.progress);
	free(fix);
	ai_witnesses_release(&ws);
	ai_verify_report_release(&rep);
	ai_trust_release(&trust);
	ai_store_free(src);
	ai_store_free(dest);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_verify = {
	.name = "verify",
	.bit = AI_CMD_VERIFY,
	.args = "--dest URL [--pubkey FILE] [--key-id ID] [--data | --subset N/M] "
	        "[--source URL --from TIME --to TIME] [--witness URL]",
	.summary = "check signatures, the hash chain and optionally the data and the source",
	.exec = exec_verify,
};
