/* cmd_cat.c: `aiarchive cat`, the archived telemetry rows of the members
 * matching the filters, each checked against its record before any of it
 * is printed (engine/cat.c): valid JSON rows, CSV of chosen fields, or the
 * bytes as archived; in archive or event-time order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/archive.h"
#include "engine/cat.h"
#include "engine/catalog.h"
#include "cmd/cmd.h"
#include "util/progress.h"
#include "cmd/jsonout.h"
#include "util/log.h"
#include "cmd/credential.h"
#include "cmd/options.h"
#include "engine/trust.h"

/* Splits --fields into paths (pointing into names, which it fills). */
static ai_result parse_fields(const char *spec, char **names, struct ai_row_path *paths,
                              size_t *n)
{
	const char *p = spec;

	*n = 0;
	for (;;) {
		size_t k = strcspn(p, ",");
		if (*n == AI_ROW_PATH_MAX)
			return ai_cmd_usage_error(&ai_cmd_cat, "--fields: at most %d fields",
			                          AI_ROW_PATH_MAX);
		if (!(names[*n] = strndup(p, k)))
			return AI_ERR_NOMEM;
		if (ai_row_path_parse(names[*n], &paths[*n]) != AI_OK) {
			ai_cmd_usage_error(&ai_cmd_cat, "--fields: not a path: '%s' (keys joined by dots, "
			                   "at most %d)", names[*n], AI_ROW_PATH_DEPTH);
			(*n)++; /* freed by the caller */
			return AI_ERR_USAGE;
		}
		(*n)++;
		if (!p[k])
			return AI_OK;
		p += k + 1;
	}
}

/* The combinations of --format, --fields, --sort and --raw that mean
 * something. */
static ai_result check_output(const struct ai_options *o)
{
	int csv = o->format && strcmp(o->format, "csv") == 0;

	if (o->format && !csv && strcmp(o->format, "jsonl") != 0)
		return ai_cmd_usage_error(&ai_cmd_cat, "--format: '%s' is not jsonl or csv", o->format);
	if (csv && !o->fields)
		return ai_cmd_usage_error(&ai_cmd_cat, "--format csv needs --fields");
	if (o->fields && !csv)
		return ai_cmd_usage_error(&ai_cmd_cat, "--fields goes with --format csv");
	if (o->sort && strcmp(o->sort, "time") != 0)
		return ai_cmd_usage_error(&ai_cmd_cat, "--sort: '%s' is not 'time'", o->sort);
	if (o->raw && (o->format || o->sort))
		return ai_cmd_usage_error(&ai_cmd_cat, "--raw prints the members as archived: no "
		                          "--format or --sort with it");
	return AI_OK;
}

static ai_result exec_cat(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	struct ai_store *dest = NULL;
	struct ai_catalog_filter f;
	struct ai_catalog_opts copts;
	struct ai_trust trust;
	struct ai_cat_summary sum;
	char *names[AI_ROW_PATH_MAX] = { 0 };
	struct ai_row_path paths[AI_ROW_PATH_MAX];
	size_t nfields = 0;
	struct ai_progress *progress = NULL;
	ai_result r;

	ai_trust_init(&trust);
	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_cat, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	r = ai_trust_from_options(&trust, &ai_cmd_cat, &o);
	if (r != AI_OK)
		goto out;
	r = check_output(&o);
	if (r == AI_OK && o.fields)
		r = parse_fields(o.fields, names, paths, &nfields);
	if (r != AI_OK)
		goto out;
	if (!o.jobs) {
		r = ai_cmd_usage_error(&ai_cmd_cat, "--jobs must be at least 1");
		goto out;
	}
	r = ai_cmd_progress(&ai_cmd_cat, ctx, &o, "members", 1, &progress);
	if (r != AI_OK)
		goto out;
	r = ai_options_open_store(&o, "dest", AI_NEED_READ, &dest);
	if (r == AI_OK)
		r = ai_archive_require(dest);
	if (r != AI_OK)
		goto out;
	ai_catalog_filter_from_options(&f, &o);
	ai_catalog_opts_from_options(&copts, &o, dest, &trust);
	copts.verify_first = 1; /* rows go out as they are read */
	/* Test hook: the --dedupe set's slots in memory, so tests reach its
	 * temporary file without a million records. */
	size_t dedupe_mem_slots;
	r = ai_cmd_test_number("AIARCHIVE_TEST_DEDUPE_MEM_SLOTS", UINT32_MAX, &dedupe_mem_slots);
	if (r != AI_OK)
		goto out;
	struct ai_cat_params p = {
		.dest = dest,
		.f = &f,
		.copts = &copts,
		.jobs = (unsigned)o.jobs,
		.out = ctx->out,
		.dedupe = o.dedupe,
		.dedupe_mem_slots = dedupe_mem_slots,
		.raw = o.raw,
		.sort_time = o.sort != NULL,
		.fields = paths,
		.field_names = names,
		.nfields = nfields,
		.progress = progress,
	};
	r = ai_cat(&p, &sum);
	ai_progress_end(progress);
	progress = NULL;
	ai_say_trust(&trust);
	if (sum.members)
		ai_info("cat: %zu member%s, %llu bytes of packs read", sum.members,
		        sum.members == 1 ? "" : "s", (unsigned long long)sum.bytes_read);
	if (o.dedupe && sum.members)
		ai_info("cat: %llu duplicate record%s left out", (unsigned long long)sum.duplicates,
		        sum.duplicates == 1 ? "" : "s");
	if (sum.malformed)
		ai_warn("cat: left out %llu malformed row%s in %llu member%s (--raw prints the members "
		        "as archived)", (unsigned long long)sum.malformed, sum.malformed == 1 ? "" : "s",
		        (unsigned long long)sum.malformed_members, sum.malformed_members == 1 ? "" : "s");
out:
	ai_progress_end(progress);
	for (size_t i = 0; i < nfields; i++)
		free(names[i]);
	ai_store_free(dest);
	ai_trust_release(&trust);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_cat = {
	.name = "cat",
	.bit = AI_CMD_CAT,
	.args = "--dest URL [--from TIME] [--to TIME] [filters] [--sort time] [--dedupe] "
	        "[--format jsonl|csv --fields PATH,...] [--raw] [--jobs N]",
	.summary = "print archived telemetry rows (JSON Lines or CSV), verified, matching filters",
	.exec = exec_cat,
};
