/* cmd_cat.c: `aiarchive cat`, the archived telemetry rows of the members
 * matching the filters, each checked against its record before any of it
 * is printed (engine/cat.c). */
#include <stdio.h>
#include <string.h>
#include "engine/archive.h"
#include "engine/cat.h"
#include "engine/catalog.h"
#include "cmd/cmd.h"
#include "cmd/jsonout.h"
#include "util/log.h"
#include "cmd/options.h"
#include "engine/trust.h"

static ai_result exec_cat(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	struct ai_store *dest = NULL;
	struct ai_catalog_filter f;
	struct ai_catalog_opts copts;
	struct ai_trust trust;
	struct ai_cat_summary sum;
	ai_result r;

	ai_trust_init(&trust);
	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_cat, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	r = ai_trust_from_options(&trust, &ai_cmd_cat, &o);
	if (r != AI_OK)
		goto out;
	if (o.format && strcmp(o.format, "jsonl") != 0) {
		r = ai_cmd_usage_error(&ai_cmd_cat,
		                       "rows are printed as archived: only --format jsonl");
		goto out;
	}
	if (!o.jobs) {
		r = ai_cmd_usage_error(&ai_cmd_cat, "--jobs must be at least 1");
		goto out;
	}
	r = ai_options_open_store(&o, "dest", &dest);
	if (r == AI_OK)
		r = ai_archive_require(dest);
	if (r != AI_OK)
		goto out;
	ai_catalog_filter_from_options(&f, &o);
	ai_catalog_opts_from_options(&copts, &o, dest, &trust);
	struct ai_cat_params p = {
		.dest = dest,
		.f = &f,
		.copts = &copts,
		.jobs = (unsigned)o.jobs,
		.out = ctx->out,
	};
	r = ai_cat(&p, &sum);
	ai_say_trust(&trust);
	if (sum.members)
		ai_info("cat: %zu member%s, %llu bytes of packs read", sum.members,
		        sum.members == 1 ? "" : "s", (unsigned long long)sum.bytes_read);
out:
	ai_store_free(dest);
	ai_trust_release(&trust);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_cat = {
	.name = "cat",
	.bit = AI_CMD_CAT,
	.args = "--dest URL [--from TIME] [--to TIME] [filters] [--jobs N]",
	.summary = "print archived telemetry rows (JSON Lines), verified, matching filters",
	.exec = exec_cat,
};
