/* jsonout.c: JSON output shared by the commands. */
#include <string.h>
#include "cmd/jsonout.h"
#include "engine/trust.h"
#include "util/escape.h"
#include "util/log.h"

void ai_json_string(FILE *f, const char *s)
{
	ai_json_put(f, s);
}

void ai_json_trust(FILE *f, struct ai_trust *t)
{
	char ids[AI_TRUST_MAX_KEYS][AI_MINISIGN_KEYID_HEXLEN];
	const char *how = ai_trust_how(t);
	size_t n = ai_trust_key_ids(t, ids, AI_TRUST_MAX_KEYS);

	fprintf(f, "{\"archive_id\":");
	if (t->has_chain)
		ai_json_string(f, t->archive_id);
	else
		fputs("null", f);
	fprintf(f, ",\"key_id\":");
	if (n)
		ai_json_string(f, ids[0]);
	else
		fputs("null", f);
	fprintf(f, ",\"how\":\"%s\",\"pinned\":%s,\"keys\":[", how,
	        strcmp(how, "pinned") == 0 || strcmp(how, "pubkey") == 0 ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		ai_json_string(f, ids[i]);
	}
	fputs("]}", f);
}

void ai_say_trust(struct ai_trust *t)
{
	char line[2048];

	ai_trust_describe(t, line, sizeof line);
	ai_info("%s", line);
}
