/* cmd_verify.c: `aiarchive verify`: signatures, the hash chain, the segment
 * indexes, optionally the data and a source window; one line per problem
 * and a summary. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "cmd/jsonout.h"
#include "cmd/cmd.h"
#include "util/escape.h"
#include "util/log.h"
#include "format/minisign.h"
#include "cmd/options.h"
#include "engine/trust.h"
#include "engine/verify.h"
#include "engine/witness.h"

static void print_json(FILE *f, const struct ai_verify_report *rep, const struct ai_options *o,
                       const struct ai_verify_params *p)
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
		           ",\"quarantined\":%" PRIu64 "}",
		        t, rep->source_blobs, rep->source_missing, rep->source_quarantined);
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
	fprintf(f, "]}\n");
}

static void print_text(FILE *f, const struct ai_verify_report *rep,
                       const struct ai_verify_params *p, const struct ai_options *o, int quiet)
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
	if (quiet)
		return;
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
}

static ai_result exec_verify(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	struct ai_store *dest = NULL, *src = NULL;
	struct ai_trust trust;
	struct ai_verify_report rep;
	struct ai_verify_params p;
	struct ai_witnesses ws = { 0 };
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
	if (o.subset && ai_verify_subset_parse(o.subset, &p.subset) != AI_OK) {
		r = ai_cmd_usage_error(&ai_cmd_verify, "--subset wants N/M with 1 <= N <= M");
		goto out;
	}
	if (o.source && (!o.has_from || !o.has_to)) {
		r = ai_cmd_usage_error(&ai_cmd_verify, "--source needs --from and --to");
		goto out;
	}
	if (ai_layout_parse(o.layout ? o.layout : "auto", &p.layout) != AI_OK) {
		r = ai_cmd_usage_error(&ai_cmd_verify, "unknown layout '%s'", o.layout);
		goto out;
	}
	r = ai_options_open_store(&o, "dest", &dest);
	if (r == AI_OK && o.source)
		r = ai_options_open_store(&o, "source", &src);
	if (r != AI_OK)
		goto out;
	ai_witnesses_init(&ws, dest);
	r = ai_options_witnesses(&o, &ws);
	if (r == AI_OK)
		r = ai_witness_require(&ws, dest, &trust, 0);
	if (r != AI_OK)
		goto out;
	p.witness = &ws;
	p.dest = dest;
	p.trust = &trust;
	p.data = o.data || o.subset;
	p.jobs = (unsigned)o.jobs;
	p.src = src;
	if (src) {
		p.from = ai_time_hour(o.from);
		p.to = o.to;
	}
	r = ai_verify(&p, &rep);
	ai_say_trust(&trust);
	if (r != AI_OK)
		goto out;
	if (ctx->json)
		print_json(ctx->out, &rep, &o, &p);
	else
		print_text(ctx->out, &rep, &p, &o, ctx->verbosity < 0);
	if (rep.errors)
		r = AI_ERR_VERIFY;
out:
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
