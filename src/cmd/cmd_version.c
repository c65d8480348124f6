/* cmd_version.c: `aiarchive version`, the program and library versions. */
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "util/version.h"

static ai_result exec_version(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	ai_result r;

	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_version, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	if (ctx->json) {
		fprintf(ctx->out, "{\"version\":\"%s\"}\n", PACKAGE_VERSION);
		goto out;
	}
	fprintf(ctx->out, "aiarchive %s\n", PACKAGE_VERSION);
	ai_print_library_versions(ctx->out);
out:
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_version = {
	.name = "version",
	.bit = AI_CMD_VERSION,
	.args = "",
	.summary = "print the version of aiarchive and its libraries",
	.exec = exec_version,
};
