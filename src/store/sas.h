/* sas.h: what a shared access signature grants, read from its query
 * parameters before it is used (ARCHITECTURE.md §3): its validity (st=,
 * se=), its permissions (sp=) and what it covers (sr= for a service SAS;
 * ss= and srt= for an account SAS). The signature itself is the service's
 * to check. */
#ifndef AI_SAS_H
#define AI_SAS_H

#include <stddef.h>
#include "util/parse.h"
#include "util/result.h"

#define AI_SAS_FIELD_MAX 40

struct ai_sas {
	char version[16];                /* sv=, "" when absent */
	int has_start, has_expiry;
	ai_time start, expiry;           /* st=, se= */
	char start_text[AI_SAS_FIELD_MAX], expiry_text[AI_SAS_FIELD_MAX]; /* decoded, as given */
	int has_perms;
	char perms[AI_SAS_FIELD_MAX];    /* sp=, as given */
	char resource[8];                /* sr= (service SAS: b, bs, bv, c, d), "" when absent */
	char services[8];                /* ss= (account SAS), "" when absent */
	char resource_types[8];          /* srt= (account SAS), "" when absent */
	int has_policy;                  /* si=: a stored access policy may hold sp and se */
};

/* Parses a SAS query string ("sv=..&se=..&sp=..&sig=.."; a leading '?'
 * is skipped). AI_ERR_BAD_INPUT, with a reason in why (no secret in it),
 * when it has no sig=, a parameter appears twice, or st=/se= is not a
 * time. */
ai_result ai_sas_parse(const char *token, struct ai_sas *out, char *why, size_t cap) AI_MUST_CHECK;

/* Whether the SAS lets a command do what it needs at time now: need lists
 * permission letters ("rl", "rwl", "rwld"; Azure's letters, w covering
 * create, lease and metadata); account_level is set when the location
 * names an account rather than a container (listing containers). AI_OK,
 * or AI_ERR_AUTH with the reason in why: expired (naming se=), not yet
 * valid (st=), missing letters, or a SAS that covers too little (a blob
 * SAS, an account SAS without the blob service or a resource type).
 * Fields a stored access policy may hold are not judged when absent. */
ai_result ai_sas_check(const struct ai_sas *s, const char *need, int account_level, ai_time now,
                       char *why, size_t cap) AI_MUST_CHECK;

/* "sp=rl, se=2026-12-02T06:00:00Z" (what is present), for messages. */
void ai_sas_describe(const struct ai_sas *s, char *out, size_t cap);

#endif
