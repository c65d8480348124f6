/* cmd_run.c: `aiarchive run`, the cron entry point: checks the options,
 * runs the pipeline under the lock, and prints the one-line (or JSON)
 * summary. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cmd/cmd.h"
#include "util/log.h"
#include "util/progress.h"
#include "format/minisign.h"
#include "cmd/credential.h"
#include "cmd/options.h"
#include "engine/run.h"
#include "engine/witness.h"
#include "util/clock.h"


static void print_requests(FILE *f, const struct ai_store_stats *st, int json)
{
	int first = 1;

	for (int k = 0; k < AI_REQ_KINDS; k++) {
		if (!st->requests[k] && !json)
			continue;
		if (json)
			fprintf(f, "%s\"%s\":%llu", first ? "" : ",", ai_req_kind_name((enum ai_req_kind)k),
			        (unsigned long long)st->requests[k]);
		else
			fprintf(f, "%s%s %llu", first ? "" : ", ", ai_req_kind_name((enum ai_req_kind)k),
			        (unsigned long long)st->requests[k]);
		first = 0;
	}
	if (first && !json)
		fprintf(f, "none");
}

static void print_summary(FILE *f, const struct ai_run_summary *s, int json, int dry)
{
	char wm[AI_TIME_STRLEN] = "never";

	if (s->watermark != AI_TIME_MIN && s->watermark != 0)
		ai_time_format(s->watermark, 0, wm);
	if (json) {
		fprintf(f, "{\"run_id\":\"%s\",\"dry_run\":%s,\"layout\":\"%s\",\"blobs\":%llu,"
		           "\"rows\":%llu,\"bad_rows\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,"
		           "\"packs\":%llu,\"failed\":%llu,\"pending\":%llu,\"quarantined\":%llu,"
		           "\"segment\":%lld,",
		        s->run_id, dry ? "true" : "false", ai_layout_name(s->layout),
		        (unsigned long long)s->blobs, (unsigned long long)s->rows,
		        (unsigned long long)s->bad_rows, (unsigned long long)s->bytes_in,
		        (unsigned long long)s->bytes_out, (unsigned long long)s->packs,
		        (unsigned long long)s->failed, (unsigned long long)s->pending,
		        (unsigned long long)s->quarantined, (long long)s->segment);
		/* "segment" is the last one; a large run writes several. */
		if (s->segments)
			fprintf(f, "\"segments\":{\"first\":%lld,\"last\":%lld,\"count\":%llu},",
			        (long long)s->segment_first, (long long)s->segment,
			        (unsigned long long)s->segments);
		else
			fprintf(f, "\"segments\":null,");
		fprintf(f, "\"watermark\":%s%s%s,\"sku\":\"%s\",\"duration_s\":%.3f,",
		        strcmp(wm, "never") ? "\"" : "", strcmp(wm, "never") ? wm : "null",
		        strcmp(wm, "never") ? "\"" : "", s->sku, s->seconds);
		fprintf(f, "\"archive_id\":\"%s\",\"key_id\":", s->archive_id);
		if (s->key_id[0])
			fprintf(f, "\"%s\"", s->key_id);
		else
			fprintf(f, "null");
		fprintf(f, ",\"key_rotation\":");
		if (s->rotation)
			fprintf(f, "{\"seq\":%llu,\"from\":\"%s\",\"to\":\"%s\"},",
			        (unsigned long long)s->rotation, s->rotated_from, s->key_id);
		else
			fprintf(f, "null,");
		fprintf(f, "\"requests\":{\"source\":{");
		print_requests(f, &s->src_stats, 1);
		fprintf(f, "},\"dest\":{");
		print_requests(f, &s->dest_stats, 1);
		fprintf(f, "}},\"retries\":%llu}\n",
		        (unsigned long long)(s->src_stats.retries + s->dest_stats.retries));
		return;
	}
	if (dry) {
		fprintf(f, "dry run: would archive %llu blobs (%.1f MiB)",
		        (unsigned long long)s->blobs, (double)s->bytes_in / (1 << 20));
		if (s->quarantined)
			fprintf(f, ", %llu quarantined", (unsigned long long)s->quarantined);
		fprintf(f, "; listed through %s\n", wm);
		return;
	}
	if (s->rotation)
		fprintf(f, "key rotation %llu: the archive's key is now %s (was %s)\n",
		        (unsigned long long)s->rotation, s->key_id, s->rotated_from);
	fprintf(f, "archived %llu blobs (%llu rows, %llu bad) %.1f MiB -> %.1f MiB in %llu packs",
	        (unsigned long long)s->blobs, (unsigned long long)s->rows,
	        (unsigned long long)s->bad_rows, (double)s->bytes_in / (1 << 20),
	        (double)s->bytes_out / (1 << 20), (unsigned long long)s->packs);
	if (s->segments == 1)
		fprintf(f, ", segment %lld", (long long)s->segment);
	else if (s->segments > 1 &&
	         (uint64_t)(s->segment - s->segment_first) + 1 == s->segments)
		fprintf(f, ", segments %lld-%lld", (long long)s->segment_first, (long long)s->segment);
	else if (s->segments > 1)
		fprintf(f, ", %llu segments from %lld to %lld", (unsigned long long)s->segments,
		        (long long)s->segment_first, (long long)s->segment);
	if (s->failed)
		fprintf(f, ", %llu failed", (unsigned long long)s->failed);
	if (s->quarantined)
		fprintf(f, ", %llu quarantined", (unsigned long long)s->quarantined);
	fprintf(f, "; requests: source ");
	print_requests(f, &s->src_stats, 0);
	fprintf(f, "; dest ");
	print_requests(f, &s->dest_stats, 0);
	fprintf(f, "; listed through %s; %.1f s\n", wm, s->seconds);
}

/* The shard this run is (ARCHITECTURE.md §7.8): --shard I/N, or with
 * --shards N alone I from JOB_COMPLETION_INDEX, which a Kubernetes Job of
 * completionMode Indexed gives each pod. One shard is the whole archive. */
static ai_result resolve_shard(const struct ai_options *o, struct ai_shard *out)
{
	char spec[64], why[160];
	const char *index = getenv("JOB_COMPLETION_INDEX");

	memset(out, 0, sizeof *out);
	if (!o->shard && !o->shards)
		return AI_OK;
	if (o->shard) {
		snprintf(spec, sizeof spec, "%s", o->shard);
	} else if (!index || !*index) {
		return ai_cmd_usage_error(&ai_cmd_run, "--shards %llu takes the shard from "
		                          "JOB_COMPLETION_INDEX, which is not set (or give --shard I/N)",
		                          (unsigned long long)o->shards);
	} else {
		snprintf(spec, sizeof spec, "%.20s/%llu", index, (unsigned long long)o->shards);
	}
	if (ai_shard_parse(spec, out, why, sizeof why) != AI_OK)
		return ai_cmd_usage_error(&ai_cmd_run, "%s: %s", o->shard ? "--shard" :
		                          "JOB_COMPLETION_INDEX with --shards", why);
	if (o->shard && o->shards && o->shards != out->count)
		return ai_cmd_usage_error(&ai_cmd_run, "--shard %s and --shards %llu disagree on N",
		                          o->shard, (unsigned long long)o->shards);
	if (out->count == 1)
		out->count = 0;
	return AI_OK;
}

static ai_result exec_run(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	struct ai_store *src = NULL, *dest = NULL;
	struct ai_signing_key key, old_key;
	struct ai_run_summary sum;
	struct ai_witnesses ws = { 0 };
	char run_id[64];
	double t0 = ai_clock_mono_s();
	size_t segment_members;
	struct ai_shard shard;
	struct ai_progress *progress = NULL;
	int have_key = 0, have_old = 0;
	ai_result r;

	/* The workers free the buffers of a large blob after it (run.c's
	 * budget): allocations of 256 KiB and more are mapped, so that they
	 * go back to the kernel then (main keeps the heap for the readers). */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	memset(&sum, 0, sizeof sum);
	ai_run_make_id(ai_clock_real(), run_id, sizeof run_id);
	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_run, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	/* Test hook: a segment every N members, so tests see a large run's
	 * several segments without archiving 10,000 blobs. */
	r = ai_cmd_test_number("AIARCHIVE_TEST_SEGMENT_MEMBERS", AI_RUN_SEGMENT_MEMBERS,
	                       &segment_members);
	/* A dry run only lists: it has no work to show. */
	if (r == AI_OK && !o.dry_run)
		r = ai_cmd_progress(&ai_cmd_run, ctx, &o, "blobs", 0, &progress);
	if (r != AI_OK)
		goto out;
	/* A dry run checks the key too (ARCHITECTURE.md §3.1). */
	if (!o.key) {
		r = ai_cmd_usage_error(&ai_cmd_run, "--key FILE is required (see 'aiarchive keygen')");
		goto out;
	}
	if (o.rotate_key != (o.old_key != NULL)) {
		r = ai_cmd_usage_error(&ai_cmd_run, o.rotate_key
		                       ? "--rotate-key needs --old-key FILE, the archive's current key"
		                       : "--old-key goes with --rotate-key");
		goto out;
	}
	if (o.rotate_key && o.dry_run) {
		r = ai_cmd_usage_error(&ai_cmd_run, "--rotate-key changes the archive: not in a dry run");
		goto out;
	}
	{
		enum ai_layout l;
		if (ai_layout_parse(o.layout, &l) != AI_OK) {
			r = ai_cmd_usage_error(&ai_cmd_run, "unknown layout '%s'", o.layout);
			goto out;
		}
	}
	if (o.rescan && (o.has_from || o.has_to)) {
		r = ai_cmd_usage_error(&ai_cmd_run, "--rescan lists the last DUR up to now: not with "
		                       "--from or --to");
		goto out;
	}
	if ((r = resolve_shard(&o, &shard)) != AI_OK)
		goto out;
	if (o.rotate_key && shard.count) {
		r = ai_cmd_usage_error(&ai_cmd_run, "--rotate-key: not in a shard (rotate the key "
		                       "with one run of the whole archive)");
		goto out;
	}
	if (o.lock_duration < 15 * AI_NS_PER_SEC || o.lock_duration > 60 * AI_NS_PER_SEC) {
		r = ai_cmd_usage_error(&ai_cmd_run, "--lock-duration must be between 15s and 60s");
		goto out;
	}
	r = ai_signing_key_load(o.key, &key);
	if (r != AI_OK)
		goto out;
	have_key = 1;
	if (o.old_key) {
		r = ai_signing_key_load(o.old_key, &old_key);
		if (r != AI_OK)
			goto out;
		have_old = 1;
	}
	r = ai_options_open_store(&o, "source", AI_NEED_READ, &src);
	if (r == AI_OK)
		r = ai_options_open_store(&o, "dest", AI_NEED_WRITE, &dest);
	if (r != AI_OK)
		goto out;
	ai_witnesses_init(&ws, dest);
	r = ai_options_witnesses(&o, AI_NEED_WITNESS, &ws);
	if (r != AI_OK)
		goto out;
	struct ai_run_params p = {
		.run_id = run_id,
		.o = &o,
		.src = src,
		.dest = dest,
		.key = have_key ? &key : NULL,
		.old_key = have_old ? &old_key : NULL,
		.now = ctx->now,
		.clock = ai_clock_real,
		.dry_out = o.dry_run ? ctx->out : NULL,
		.dry_json = ctx->json,
		.preflight_out = ctx->json ? NULL : ctx->out,
		.progress = progress,
		.segment_members = segment_members,
		.shard = shard,
		.witness = &ws,
	};
	r = ai_run_locked(&p, &sum);
	ai_progress_end(progress);
	progress = NULL;
	sum.seconds = ai_clock_mono_s() - t0;
	if (r == AI_OK || r == AI_ERR_PARTIAL) {
		if (ctx->verbosity >= 0 || ctx->json)
			print_summary(ctx->out, &sum, ctx->json, o.dry_run);
		if (r == AI_OK && sum.blobs == 0 && o.error_on_nothing) {
			r = AI_ERR_NOTHING;
			ai_cmd_failed(ctx, "the next run looks again",
			              "nothing new to archive (--error-on-nothing)");
		}
	}
	/* A run that lost its lock half way keeps what it committed before. */
	if (r == AI_ERR_LOCKED && sum.segments == 1)
		ai_cmd_failed(ctx, "the next run archives the rest (--wait waits for it)",
		              "%s; the segment this run committed before (%lld) stays",
		              *ai_log_first_error() ? ai_log_first_error() : ai_strerror(r),
		              (long long)sum.segment);
	else if (r == AI_ERR_LOCKED && sum.segments > 1)
		ai_cmd_failed(ctx, "the next run archives the rest (--wait waits for it)",
		              "%s; the %llu segments this run committed before (%lld-%lld) stay",
		              *ai_log_first_error() ? ai_log_first_error() : ai_strerror(r),
		              (unsigned long long)sum.segments, (long long)sum.segment_first,
		              (long long)sum.segment);
	else if (sum.failed)
		ai_cmd_failed(ctx, "nothing was recorded for them, the next run retries them",
		              "%llu of %llu blobs failed (%s)", (unsigned long long)sum.failed,
		              (unsigned long long)(sum.failed + sum.blobs),
		              sum.failure[0] ? sum.failure : ai_strerror(r));
out:
	ai_progress_end(progress);
	/* The host keeps the outcome too: a run that fails before it can
	 * write the archive's state is seen by status --prom. */
	if (dest && !o.dry_run)
		ai_options_record_outcome(&o, dest, "run", r, run_id);
	ai_witnesses_release(&ws);
	if (have_key)
		ai_signing_key_release(&key);
	if (have_old)
		ai_signing_key_release(&old_key);
	ai_store_free(src);
	ai_store_free(dest);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_run = {
	.name = "run",
	.bit = AI_CMD_RUN,
	.args = "--source URL --dest URL --key FILE [--witness URL] [--rotate-key --old-key FILE] [options]",
	.summary = "archive everything new (the cron entry point)",
	.exec = exec_run,
};
