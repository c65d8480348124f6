/* jsonout.h: writing JSON strings, and what a reader trusts, for the
 * commands' --json output. */
#ifndef AI_JSONOUT_H
#define AI_JSONOUT_H

#include <stdio.h>

/* Writes s as a quoted JSON string (NULL as ""), escaping quotes,
 * backslashes and control characters; other bytes pass through. */
void ai_json_string(FILE *f, const char *s);

struct ai_trust;
/* Writes what t trusts as a JSON object: {"archive_id": ID or null,
 * "key_id": the first key trusted or null, "how": ai_trust_how,
 * "pinned": true for --pubkey or --key-id, "keys": [the key ids]}. */
void ai_json_trust(FILE *f, struct ai_trust *t);
/* Logs ai_trust_describe's line at info level. */
void ai_say_trust(struct ai_trust *t);

#endif
