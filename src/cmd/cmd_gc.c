/* cmd_gc.c: `aiarchive gc`: removes the packs that no committed segment
 * names (left by runs that stopped before their segment, ARCHITECTURE.md §7.2). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine/archive.h"
#include "cmd/cmd.h"
#include "cmd/jsonout.h"
#include "engine/lock.h"
#include "util/escape.h"
#include "util/log.h"
#include "cmd/options.h"
#include "engine/run.h"
#include "util/clock.h"
#include "util/strvec.h"
#include "util/alloc.h"

#define DATA_PREFIX "data/"
#define SIG_SUFFIX ".minisig"

/* One object gc removes (or would). */
struct victim {
	char *name;
	uint64_t size;
	ai_time last_modified;
};

struct gc {
	struct ai_strvec packs;  /* every segment's pack names, sorted */
	struct victim *victims;
	size_t nvictims, cap;
	uint64_t segments;
	ai_time cutoff;           /* objects changed after it are young */
	uint64_t objects;         /* everything under data/ */
	uint64_t young;           /* unreferenced, kept for their age */
	uint64_t victim_bytes;
	uint64_t removed, removed_bytes, failed;
	struct ai_store_cleanup tmp;
};

static void gc_release(struct gc *g)
{
	ai_strvec_release(&g->packs);
	for (size_t i = 0; i < g->nvictims; i++)
		free(g->victims[i].name);
	free(g->victims);
	memset(g, 0, sizeof *g);
}

/* A pack some segment names, or the signature of one. */
static ai_result referenced(const struct gc *g, const char *name, int *yes)
{
	size_t n = strlen(name), sl = strlen(SIG_SUFFIX);
	char *base;

	*yes = ai_strvec_has_sorted(&g->packs, name);
	if (*yes || n <= sl || strcmp(name + n - sl, SIG_SUFFIX) != 0)
		return AI_OK;
	if (!(base = strndup(name, n - sl)))
		return AI_ERR_NOMEM;
	*yes = ai_strvec_has_sorted(&g->packs, base);
	free(base);
	return AI_OK;
}

static ai_result victim_add(struct gc *g, const struct ai_blob_info *b)
{
	if (AI_GROW(g->victims, g->nvictims + 1, g->cap) != AI_OK)
		return AI_ERR_NOMEM;
	if (!(g->victims[g->nvictims].name = strdup(b->name)))
		return AI_ERR_NOMEM;
	g->victims[g->nvictims].size = b->size;
	g->victims[g->nvictims].last_modified = b->last_modified;
	g->nvictims++;
	return AI_OK;
}

/* What a failed manifest read means here: anything but the service being
 * unreachable or refusing us is an archive gc cannot trust. */
static ai_result untrusted(ai_result r)
{
	if (r == AI_ERR_AUTH || r == AI_ERR_NOMEM || ai_result_transient(r))
		return r;
	return AI_ERR_VERIFY;
}

/* A listing page of segments: any numbered past the chain's end
 * (*ctx segments) is refused. */
static ai_result check_past_end(void *ctx, const struct ai_blob_list *page)
{
	uint64_t next_seq = *(const uint64_t *)ctx;

	for (size_t i = 0; i < page->n; i++) {
		unsigned long long seq;
		int end = 0;
		if (sscanf(page->blobs[i].name, "manifest/segments/%llu.seg%n", &seq, &end) == 1 &&
		    page->blobs[i].name[end] == '\0' && seq >= next_seq) {
			ai_error("segment '%s': past the end of the chain (%llu segments); "
			         "removing nothing", page->blobs[i].name, (unsigned long long)next_seq);
			return AI_ERR_VERIFY;
		}
	}
	return AI_OK;
}

/* Reads every segment of the chain, checks that each links to the one
 * before and the last to the state's head, and collects their packs.
 * Refuses (AI_ERR_VERIFY) on anything it cannot account for, including a
 * segment past the end of the chain, since its packs would look unused. */
static ai_result load_chain(struct ai_store *dest, struct gc *g)
{
	struct ai_archive a;
	struct ai_segment seg;
	uint8_t sha[AI_SHA256_LEN], prev[AI_SHA256_LEN] = { 0 };
	char name[128];
	ai_result r;

	ai_segment_init(&seg);
	r = ai_archive_open(&a, dest, NULL);
	if (r != AI_OK) {
		ai_error("manifest: cannot be read (%s); removing nothing", ai_store_why(r));
		ai_archive_release(&a);
		return untrusted(r);
	}
	for (uint64_t seq = 0; seq < a.state.next_seq; seq++) {
		ai_archive_segment_name(seq, name, sizeof name);
		r = ai_archive_read_segment(dest, seq, &seg, sha, NULL);
		if (r == AI_ERR_NOT_FOUND) {
			ai_error("segment '%s': missing; removing nothing", name);
			r = AI_ERR_VERIFY;
			goto out;
		}
		if (r != AI_OK) {
			ai_error("manifest: %s; removing nothing", ai_store_why(r));
			r = untrusted(r);
			goto out;
		}
		if (memcmp(seg.prev, prev, sizeof prev) != 0) {
			ai_error("segment '%s': does not link to the segment before it; removing nothing",
			         name);
			r = AI_ERR_VERIFY;
			goto out;
		}
		for (size_t i = 0; i < seg.npacks && r == AI_OK; i++)
			r = ai_strvec_push(&g->packs, seg.packs[i].name);
		if (r != AI_OK)
			goto out;
		memcpy(prev, sha, sizeof prev);
		ai_segment_release(&seg);
		ai_segment_init(&seg);
		g->segments++;
	}
	if (memcmp(prev, a.state.head_sha256, sizeof prev) != 0) {
		ai_error("manifest: the chain does not end at the state's head; removing nothing");
		r = AI_ERR_VERIFY;
		goto out;
	}
	/* ai_archive_open stops at the first missing number; a segment after a
	 * gap would still be the truth about its packs. */
	r = ai_store_list_each(dest, "manifest/segments/", NULL, check_past_end, &a.state.next_seq);
	if (r != AI_OK && r != AI_ERR_VERIFY) {
		ai_error("manifest: cannot be listed (%s); removing nothing", ai_store_why(r));
		r = untrusted(r);
	}
	if (r != AI_OK)
		goto out;
	ai_strvec_sort(&g->packs);
out:
	ai_segment_release(&seg);
	ai_archive_release(&a);
	return r;
}

/* A listing page of data/: picks the unreferenced objects changed before
 * the cutoff. */
static ai_result pick_victims(void *ctx, const struct ai_blob_list *page)
{
	struct gc *g = ctx;
	ai_result r = AI_OK;

	for (size_t i = 0; i < page->n && r == AI_OK; i++) {
		const struct ai_blob_info *b = &page->blobs[i];
		int yes;
		if (strncmp(b->name, DATA_PREFIX, strlen(DATA_PREFIX)) != 0)
			continue;
		g->objects++;
		r = referenced(g, b->name, &yes);
		if (r != AI_OK || yes)
			continue;
		if (b->last_modified > g->cutoff)
			g->young++;
		else if ((r = victim_add(g, b)) == AI_OK)
			g->victim_bytes += b->size;
	}
	return r;
}

/* Lists data/ and picks the unreferenced objects changed before cutoff. */
static ai_result find_victims(struct ai_store *dest, struct gc *g, ai_time cutoff)
{
	ai_result r;

	g->cutoff = cutoff;
	r = ai_store_list_each(dest, DATA_PREFIX, NULL, pick_victims, g);
	if (r != AI_OK)
		ai_error("dest: cannot list '" DATA_PREFIX "' (%s)", ai_store_why(r));
	return r;
}

/* Deletes the victims. Stops early when the service refuses us or the
 * lock is lost (a run may have started). */
static ai_result remove_victims(struct ai_store *dest, struct gc *g, const struct ai_lock *lock)
{
	for (size_t i = 0; i < g->nvictims; i++) {
		const struct victim *v = &g->victims[i];
		ai_result r;
		if (lock && ai_lock_lost(lock)) {
			ai_error("dest: the lock was lost; %zu objects left for a later gc",
			         g->nvictims - i);
			g->failed += g->nvictims - i;
			return AI_OK;
		}
		r = ai_store_delete(dest, v->name);
		if (r == AI_OK || r == AI_ERR_NOT_FOUND) {
			ai_info("object '%s': removed (%" PRIu64 " bytes)", v->name, v->size);
			g->removed++;
			g->removed_bytes += v->size;
			continue;
		}
		ai_error("object '%s': cannot remove (%s)", v->name, ai_store_why(r));
		if (r == AI_ERR_AUTH)
			return r;
		g->failed++;
	}
	return AI_OK;
}

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

static void print_json(FILE *f, const struct gc *g, const struct ai_options *o,
                       const struct ai_store_stats *st, double seconds)
{
	char t[AI_TIME_STRLEN];
	int first = 1;

	fprintf(f, "{\"dry_run\":%s,\"older_than_s\":%.3f,\"segments\":%" PRIu64
	           ",\"referenced_packs\":%zu,\"objects\":%" PRIu64 ",\"unreferenced\":%" PRIu64
	           ",\"young_kept\":%" PRIu64 ",\"removed\":%" PRIu64 ",\"removed_bytes\":%" PRIu64
	           ",\"failed\":%" PRIu64 ",\"temp_files\":%" PRIu64 ",\"temp_bytes\":%" PRIu64
	           ",\"candidates\":[",
	        o->dry_run ? "true" : "false", (double)o->older_than / AI_NS_PER_SEC, g->segments,
	        g->packs.n, g->objects, (uint64_t)g->nvictims + g->young,
	        g->young, g->removed, g->removed_bytes, g->failed + g->tmp.failed, g->tmp.files,
	        g->tmp.bytes);
	for (size_t i = 0; i < g->nvictims; i++) {
		ai_time_format(g->victims[i].last_modified, 0, t);
		fprintf(f, "%s{\"name\":", i ? "," : "");
		ai_json_string(f, g->victims[i].name);
		fprintf(f, ",\"size\":%" PRIu64 ",\"last_modified\":\"%s\"}", g->victims[i].size, t);
	}
	fprintf(f, "],\"requests\":{");
	for (int k = 0; k < AI_REQ_KINDS; k++) {
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",",
		        ai_req_kind_name((enum ai_req_kind)k), st->requests[k]);
		first = 0;
	}
	fprintf(f, "},\"retries\":%" PRIu64 ",\"duration_s\":%.3f}\n", st->retries, seconds);
}

static void print_text(FILE *f, const struct gc *g, const struct ai_options *o, int quiet)
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
	           " under " DATA_PREFIX "; %" PRIu64 " younger than %s kept",
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
	struct gc g;
	char id[64], gc_id[72];
	double t0 = ai_clock_mono_s();
	ai_time cutoff;
	ai_result r;

	memset(&g, 0, sizeof g);
	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_gc, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	if (o.lock_duration < 15 * AI_NS_PER_SEC || o.lock_duration > 60 * AI_NS_PER_SEC) {
		r = ai_cmd_usage_error(&ai_cmd_gc, "--lock-duration must be between 15s and 60s");
		goto out;
	}
	cutoff = ctx->now - o.older_than;
	r = ai_options_open_store(&o, "dest", &dest);
	if (r != AI_OK)
		goto out;
	/* The lock keeps runs out between writing their packs and committing
	 * the segment that names them; a dry run changes nothing and, like
	 * run's, does without it. */
	if (!o.dry_run) {
		ai_run_make_id(ctx->now, id, sizeof id);
		snprintf(gc_id, sizeof gc_id, "gc-%s", id);
		r = ai_lock_take(dest, o.lock_duration, o.wait, gc_id, &lock);
		if (r != AI_OK)
			goto out;
	}
	r = load_chain(dest, &g);
	if (r == AI_OK)
		r = find_victims(dest, &g, cutoff);
	/* Data without any segment is more likely a lost manifest or a wrong
	 * --dest than the leftovers of a first run that never finished. */
	if (r == AI_OK && g.segments == 0 && g.objects > 0) {
		ai_error("manifest: no segment, yet %" PRIu64 " objects under '" DATA_PREFIX
		         "'; removing nothing", g.objects);
		r = AI_ERR_VERIFY;
	}
	if (r == AI_OK && !o.dry_run)
		r = remove_victims(dest, &g, lock);
	if (r == AI_OK && ai_store_cleanup(dest, cutoff, o.dry_run, &g.tmp) != AI_OK)
		ai_error("dest: %s", ai_store_why(AI_ERR_IO));
	if (r != AI_OK)
		goto out;
	ai_store_get_stats(dest, &st);
	if (ctx->json)
		print_json(ctx->out, &g, &o, &st, ai_clock_mono_s() - t0);
	else
		print_text(ctx->out, &g, &o, ctx->verbosity < 0);
	if (g.failed || g.tmp.failed)
		r = AI_ERR_PARTIAL;
out:
	ai_lock_release(lock);
	ai_store_free(dest);
	gc_release(&g);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_gc = {
	.name = "gc",
	.bit = AI_CMD_GC,
	.args = "--dest URL [--older-than DUR] [--dry-run]",
	.summary = "remove packs that stopped runs left unreferenced",
	.exec = exec_gc,
};
