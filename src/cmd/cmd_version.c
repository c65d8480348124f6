/* cmd_version.c: `aiarchive version`, the program and library versions. */
#include <string.h>
#include "cmd/cmd.h"
#include "util/version.h"

static ai_result exec_version(struct ai_ctx *ctx, int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fprintf(ctx->out, "usage: aiarchive version\n");
		return AI_OK;
	}
	if (argc > 1)
		return ai_cmd_usage_error(&ai_cmd_version, "unexpected argument '%s'", argv[1]);
	if (ctx->json) {
		fprintf(ctx->out, "{\"version\":\"%s\"}\n", PACKAGE_VERSION);
		return AI_OK;
	}
	fprintf(ctx->out, "aiarchive %s\n", PACKAGE_VERSION);
	ai_print_library_versions(ctx->out);
	return AI_OK;
}

const struct ai_cmd ai_cmd_version = {
	.name = "version",
	.args = "",
	.summary = "print the version of aiarchive and its libraries",
	.exec = exec_version,
};
