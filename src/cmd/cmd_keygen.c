/* cmd_keygen.c: `aiarchive keygen -o PATH`, a new signing key pair: the
 * private key at PATH (mode 0600, minisign format, unencrypted) and the
 * public key at PATH.pub. */
#include <stdio.h>
#include "cmd/cmd.h"
#include "util/log.h"
#include "format/minisign.h"
#include "cmd/options.h"

static ai_result exec_keygen(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	char keyid[AI_MINISIGN_KEYID_HEXLEN];
	ai_result r;

	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_keygen, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	if (!o.output) {
		r = ai_cmd_usage_error(&ai_cmd_keygen, "-o PATH is required");
		goto out;
	}
	r = ai_minisign_keygen(o.output, keyid);
	if (r != AI_OK)
		ai_cmd_object(ctx, "%s", o.output);
	if (r == AI_ERR_EXISTS)
		r = AI_ERR_CONFIG; /* never replace a key: the operator must choose */
	if (r != AI_OK)
		goto out;
	if (ctx->json)
		fprintf(ctx->out, "{\"key\":\"%s\",\"public_key\":\"%s.pub\",\"key_id\":\"%s\"}\n",
		        o.output, o.output, keyid);
	else if (ctx->verbosity >= 0)
		fprintf(ctx->out, "key id %s: private key %s (keep it secret), public key %s.pub\n",
		        keyid, o.output, o.output);
out:
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_keygen = {
	.name = "keygen",
	.bit = AI_CMD_KEYGEN,
	.args = "-o PATH",
	.summary = "create a signing key pair (PATH and PATH.pub)",
	.exec = exec_keygen,
};
