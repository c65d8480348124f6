/* cmd_gc.c: `aiarchive gc`: removes the packs that no committed segment
 * names (left by runs that stopped before their segment, ARCHITECTURE.md §7.2). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "cmd/cmd.h"
#include "cmd/jsonout.h"
#include "engine/archive.h"
#include "engine/gc.h"
#include "engine/trust.h"
#include "engine/lock.h"
#include "engine/preflight.h"
#include "engine/witness.h"
#include "util/escape.h"
#include "util/log.h"
#include "cmd/credential.h"
#include "cmd/options.h"
#include "engine/run.h"
#include "util/clock.h"

/* "2d", "24h", "30m", "90s": the largest unit that divides d, days only
 * from two on (a day reads better as 24h). */
static void format_duration(int64_t d, char *out, size_t cap)
{
	static const struct { const char *unit; int64_t ns; } units[] = {
		{ "d", 86400 * AI_NS_PER_SEC }, { "h", 3600 * AI_NS_PER_SEC },
		{ "m", 60 * AI_NS_PER_SEC }, { "s", AI_NS_PER_SEC }, { "ms", AI_NS_PER_SEC / 1000 },
	};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (i == 0 && d < 2 * units[0].ns)
			continue;
		if (d != 0 && d % units[i].ns == 0) {
			snprintf(out, cap, "%lld%s", (long long)(d / units[i].ns), units[i].unit);
			return;
		}
	}
	snprintf(out, cap, "%llds", (long long)(d / AI_NS_PER_SEC));
}

/* JSON Lines: one object per removal (or candidate of a dry run), then
 * the summary. */
static void print_json(FILE *f, const struct ai_gc_report *g, const struct ai_options *o,
                       const struct ai_store_stats *st, double seconds)
{
	char t[AI_TIME_STRLEN];
	int first = 1;

	for (size_t i = 0; i < g->nvictims; i++) {
		ai_time_format(g->victims[i].last_modified, 0, t);
		fputs("{\"name\":", f);
		ai_json_string(f, g->victims[i].name);
		fprintf(f, ",\"size\":%" PRIu64 ",\"last_modified\":\"%s\",\"removed\":%s}\n",
		        g->victims[i].size, t, g->victims[i].removed ? "true" : "false");
	}

	fprintf(f, "{\"dry_run\":%s,\"older_than_s\":%.3f,\"segments\":%" PRIu64
	           ",\"referenced_packs\":%zu,\"objects\":%" PRIu64 ",\"unreferenced\":%" PRIu64
	           ",\"young_kept\":%" PRIu64 ",\"removed\":%" PRIu64 ",\"removed_bytes\":%" PRIu64
	           ",\"failed\":%" PRIu64 ",\"temp_files\":%" PRIu64 ",\"temp_bytes\":%" PRIu64
	           ",\"candidates\":%zu,\"requests\":{",
	        o->dry_run ? "true" : "false", (double)o->older_than / AI_NS_PER_SEC, g->segments,
	        g->packs.n, g->objects, (uint64_t)g->nvictims + g->young,
	        g->young, g->removed, g->removed_bytes, g->failed + g->tmp.failed, g->tmp.files,
	        g->tmp.bytes, g->nvictims);
	for (int k = 0; k < AI_REQ_KINDS; k++) {
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",",
		        ai_req_kind_name((enum ai_req_kind)k), st->requests[k]);
		first = 0;
	}
	fprintf(f, "},\"retries\":%" PRIu64 ",\"duration_s\":%.3f}\n", st->retries, seconds);
}

static void print_text(FILE *f, const struct ai_gc_report *g, const struct ai_options *o, int quiet)
{
	char age[32], t[AI_TIME_STRLEN];

	format_duration(o->older_than, age, sizeof age);
	if (o->dry_run) {
		for (size_t i = 0; i < g->nvictims; i++) {
			ai_time_format(g->victims[i].last_modified, 0, t);
			ai_escape_put(f, g->victims[i].name);
			fprintf(f, "\t%" PRIu64 "\t%s\n", g->victims[i].size, t);
		}
	}
	if (quiet)
		return;
	fprintf(f, "gc: %s %zu unreferenced objects (%" PRIu64 " bytes) of %" PRIu64
	           " under " AI_GC_DATA_PREFIX "; %" PRIu64 " younger than %s kept",
	        o->dry_run ? "dry run: would remove" : "removed",
	        o->dry_run ? g->nvictims : (size_t)g->removed,
	        o->dry_run ? g->victim_bytes : g->removed_bytes, g->objects, g->young,
	        age);
	if (g->tmp.files)
		fprintf(f, "; %s %" PRIu64 " temporary files (%" PRIu64 " bytes) of stopped writers",
		        o->dry_run ? "would remove" : "removed", g->tmp.files, g->tmp.bytes);
	if (g->failed + g->tmp.failed)
		fprintf(f, "; %" PRIu64 " could not be removed", g->failed + g->tmp.failed);
	fputc('\n', f);
}

static ai_result exec_gc(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	struct ai_store *dest = NULL;
	struct ai_lock *lock = NULL;
	struct ai_store_stats st;
	struct ai_gc_report rep;
	struct ai_trust trust;
	struct ai_witnesses ws = { 0 };
	char id[64], gc_id[72];
	double t0 = ai_clock_mono_s();
	ai_result r;

	ai_gc_report_init(&rep);
	ai_trust_init(&trust);
	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_gc, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	r = ai_trust_from_options(&trust, &ai_cmd_gc, &o);
	if (r != AI_OK)
		goto out;
	if (o.lock_duration < 15 * AI_NS_PER_SEC || o.lock_duration > 60 * AI_NS_PER_SEC) {
		r = ai_cmd_usage_error(&ai_cmd_gc, "--lock-duration must be between 15s and 60s");
		goto out;
	}
	/* A stopped run may still write a segment naming a pack up to the
	 * pack bound after committing it: nothing younger than twice that
	 * goes (ARCHITECTURE.md §7.3). */
	if (o.older_than < 2 * ai_pack_bound_ns()) {
		char asked[32], floor[32];
		format_duration(o.older_than, asked, sizeof asked);
		format_duration(2 * ai_pack_bound_ns(), floor, sizeof floor);
		ai_warn("gc: --older-than %s is less than the %s a stopped run may still name a pack "
		        "for; keeping everything younger than %s", asked, floor, floor);
		o.older_than = 2 * ai_pack_bound_ns();
	}
	r = ai_options_open_store(&o, "dest", AI_NEED_DELETE, &dest);
	if (r != AI_OK)
		goto out;
	ai_witnesses_init(&ws, dest);
	r = ai_options_witnesses(&o, AI_NEED_WITNESS, &ws);
	if (r == AI_OK)
		r = ai_witness_require(&ws, dest, &trust, 1);
	if (r != AI_OK)
		goto out;
	/* The lock keeps runs out between writing their packs and committing
	 * the segment that names them; a dry run removes nothing and does
	 * without it, but checks that gc could take it and delete
	 * (ARCHITECTURE.md §3.1). */
	ai_run_make_id(ctx->now, id, sizeof id);
	snprintf(gc_id, sizeof gc_id, "gc-%s", id);
	if (!o.dry_run) {
		r = ai_lock_take(dest, o.lock_duration, o.wait, gc_id, &lock);
		if (r != AI_OK)
			goto out;
	} else {
		FILE *pf = ctx->json ? NULL : ctx->out;
		r = ai_preflight_lock(dest, AI_LOCK_NAME, o.lock_duration, gc_id, pf);
		if (r == AI_OK)
			r = ai_preflight_delete(dest, gc_id, pf);
		if (r != AI_OK)
			goto out;
	}
	struct ai_gc_params p = {
		.dest = dest,
		.cutoff = ctx->now - o.older_than,
		.dry_run = o.dry_run,
		.lock = lock,
		.trust = &trust,
		.witness = &ws,
	};
	r = ai_gc(&p, &rep);
	if (r != AI_OK)
		goto out;
	ai_store_get_stats(dest, &st);
	if (ctx->json)
		print_json(ctx->out, &rep, &o, &st, ai_clock_mono_s() - t0);
	else
		print_text(ctx->out, &rep, &o, ctx->verbosity < 0);
	if (rep.failed || rep.tmp.failed)
		r = AI_ERR_PARTIAL;
out:
	ai_lock_release(lock);
	ai_witnesses_release(&ws);
	ai_store_free(dest);
	ai_gc_report_release(&rep);
	ai_trust_release(&trust);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_gc = {
	.name = "gc",
	.bit = AI_CMD_GC,
	.args = "--dest URL [--older-than DUR] [--witness URL] [--dry-run]",
	.summary = "remove packs that stopped runs left unreferenced",
	.exec = exec_gc,
};
