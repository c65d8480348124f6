/* cmd_init.c: `aiarchive init --dest URL --key FILE`: makes the destination
 * an archive (a random id, the published key, a signed genesis), or adopts
 * one made before init existed once it verifies with the key. A run
 * refuses a destination init has not made an archive. */
#include <stdio.h>
#include "cmd/cmd.h"
#include "cmd/jsonout.h"
#include "cmd/credential.h"
#include "cmd/options.h"
#include "engine/identity.h"
#include "format/minisign.h"
#include "util/clock.h"
#include "util/log.h"

static ai_result exec_init(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	struct ai_store *dest = NULL;
	struct ai_signing_key key;
	struct ai_init_report rep;
	int have_key = 0;
	ai_result r;

	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_init, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	if (!o.key) {
		r = ai_cmd_usage_error(&ai_cmd_init, "--key FILE is required (see 'aiarchive keygen')");
		goto out;
	}
	r = ai_signing_key_load(o.key, &key);
	if (r != AI_OK)
		goto out;
	have_key = 1;
	r = ai_options_open_store(&o, "dest", AI_NEED_WRITE, &dest);
	if (r != AI_OK)
		goto out;
	r = ai_identity_create(dest, &key, ai_clock_real(), &rep);
	if (r != AI_OK) {
		ai_error("%s", ai_store_why(r));
		if (r == AI_ERR_EXISTS)
			r = AI_ERR_CONFIG; /* one archive per destination: the operator must choose */
		goto out;
	}
	if (rep.adopted)
		ai_info("dest '%s': the archive there (%llu segments) verifies with key %s; adopted it",
		        ai_store_describe(dest), (unsigned long long)rep.segments, rep.key_id);
	if (ctx->json) {
		fprintf(ctx->out, "{\"archive_id\":\"%s\",\"key_id\":\"%s\",\"dest\":", rep.archive_id,
		        rep.key_id);
		ai_json_string(ctx->out, ai_store_describe(dest));
		fprintf(ctx->out, ",\"adopted\":%s,\"segments\":%llu}\n",
		        rep.adopted ? "true" : "false", (unsigned long long)rep.segments);
	} else if (ctx->verbosity >= 0) {
		if (rep.adopted)
			fprintf(ctx->out, "archive %s: adopted the archive at %s (%llu segments, "
			                  "verified with key %s)\n", rep.archive_id,
			        ai_store_describe(dest), (unsigned long long)rep.segments, rep.key_id);
		else
			fprintf(ctx->out, "archive %s: created at %s with key %s\n", rep.archive_id,
			        ai_store_describe(dest), rep.key_id);
	}
out:
	if (have_key)
		ai_signing_key_release(&key);
	ai_store_free(dest);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_init = {
	.name = "init",
	.bit = AI_CMD_INIT,
	.args = "--dest URL --key FILE",
	.summary = "make the destination an archive (its id, key and signed genesis)",
	.exec = exec_init,
};
