/* sas.c: reading a SAS token's own claims (validity, permissions, scope)
 * so that one which cannot work is refused before any request. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "store/sas.h"
#include "store/azurl.h"
#include "util/buf.h"

/* The parameters we read; others (sig, spr, sip, skoid, ...) are only
 * counted or skipped. */
enum { P_SV, P_ST, P_SE, P_SP, P_SR, P_SS, P_SRT, P_SI, P_SIG, P_COUNT };
static const char *const names[P_COUNT] = { "sv", "st", "se", "sp", "sr", "ss", "srt", "si",
                                            "sig" };

static ai_result take_time(const char *name, const char *v, ai_time *t, char *text, char *why,
                           size_t cap)
{
	size_t n = strlen(v);
	ai_result r;

	/* Azure's forms: YYYY-MM-DD, or a UTC time to the minute, second or
	 * fraction. */
	if (n == 10)
		r = ai_parse_time_arg(v, 0, t);
	else
		r = ai_parse_time(v, n, t);
	if (r != AI_OK || n >= AI_SAS_FIELD_MAX || strncmp(v, "now", 3) == 0) {
		snprintf(why, cap, "%s= is not a time: '%.40s'", name, v);
		return AI_ERR_BAD_INPUT;
	}
	memcpy(text, v, n + 1);
	return AI_OK;
}

static ai_result take_text(const char *name, const char *v, char *dst, size_t dcap, char *why,
                           size_t cap)
{
	if (strlen(v) >= dcap) {
		snprintf(why, cap, "%s= is too long", name);
		return AI_ERR_BAD_INPUT;
	}
	strcpy(dst, v);
	return AI_OK;
}

static ai_result take(struct ai_sas *s, int p, const char *v, char *why, size_t cap)
{
	switch (p) {
	case P_SV:
		return take_text("sv", v, s->version, sizeof s->version, why, cap);
	case P_ST:
		s->has_start = 1;
		return take_time("st", v, &s->start, s->start_text, why, cap);
	case P_SE:
		s->has_expiry = 1;
		return take_time("se", v, &s->expiry, s->expiry_text, why, cap);
	case P_SP:
		s->has_perms = 1;
		return take_text("sp", v, s->perms, sizeof s->perms, why, cap);
	case P_SR:
		return take_text("sr", v, s->resource, sizeof s->resource, why, cap);
	case P_SS:
		return take_text("ss", v, s->services, sizeof s->services, why, cap);
	case P_SRT:
		return take_text("srt", v, s->resource_types, sizeof s->resource_types, why, cap);
	case P_SI:
		s->has_policy = 1;
		return AI_OK;
	default:
		return AI_OK;
	}
}

ai_result ai_sas_parse(const char *token, struct ai_sas *out, char *why, size_t cap)
{
	unsigned seen[P_COUNT] = { 0 };
	struct ai_buf v;
	ai_result r = AI_OK;
	const char *p = token;

	memset(out, 0, sizeof *out);
	why[0] = '\0';
	ai_buf_init(&v, 4096);
	while (*p == '?')
		p++;
	while (*p && r == AI_OK) {
		size_t n = strcspn(p, "&"), k = strcspn(p, "=&");
		int i;

		for (i = 0; i < P_COUNT; i++)
			if (strlen(names[i]) == k && strncasecmp(p, names[i], k) == 0)
				break;
		if (i < P_COUNT) {
			if (seen[i]++) {
				snprintf(why, cap, "%s= appears twice", names[i]);
				r = AI_ERR_BAD_INPUT;
				break;
			}
			v.len = 0;
			if (k < n && ai_url_decode_query(p + k + 1, n - k - 1, &v) != AI_OK) {
				snprintf(why, cap, "%s= is not percent-encoded correctly", names[i]);
				r = AI_ERR_BAD_INPUT;
				break;
			}
			if (i != P_SIG)
				r = take(out, i, ai_buf_str(&v), why, cap);
		}
		p += n + (p[n] == '&');
	}
	if (r == AI_OK && !seen[P_SIG]) {
		snprintf(why, cap, "not a SAS token (it has no sig=)");
		r = AI_ERR_BAD_INPUT;
	}
	ai_buf_release(&v);
	return r;
}

static int has_letter(const char *set, char c)
{
	return c && strchr(set, c) != NULL;
}

ai_result ai_sas_check(const struct ai_sas *s, const char *need, int account_level, ai_time now,
                       char *why, size_t cap)
{
	char missing[32] = "", t[AI_TIME_STRLEN];
	size_t m = 0;

	why[0] = '\0';
	if (s->has_expiry && s->expiry <= now) {
		ai_time_format(now, 0, t);
		snprintf(why, cap, "expired at se=%s (now %s)", s->expiry_text, t);
		return AI_ERR_AUTH;
	}
	if (s->has_start && s->start > now) {
		ai_time_format(now, 0, t);
		snprintf(why, cap, "not valid before st=%s (now %s)", s->start_text, t);
		return AI_ERR_AUTH;
	}
	if (s->services[0] || s->resource_types[0]) {
		/* An account SAS: the blob service, containers (listing) and
		 * objects, and the service level to list an account's containers. */
		if (s->services[0] && !has_letter(s->services, 'b')) {
			snprintf(why, cap, "an account SAS without the blob service (ss=%s, needs b)",
			         s->services);
			return AI_ERR_AUTH;
		}
		const char *types = account_level ? "sco" : "co";
		char lack[4] = "";
		size_t nl = 0;
		for (const char *c = types; *c; c++)
			if (!has_letter(s->resource_types, *c))
				lack[nl++] = *c;
		lack[nl] = '\0';
		if (nl) {
			snprintf(why, cap, "an account SAS for resource types srt=%s lacks %s (needs srt=%s)",
			         s->resource_types, lack, types);
			return AI_ERR_AUTH;
		}
	} else if (s->resource[0] && strcmp(s->resource, "c") != 0 &&
	           strcmp(s->resource, "d") != 0) {
		snprintf(why, cap, "a SAS for one blob (sr=%s) cannot list a container; "
		                   "it needs a container SAS (sr=c)", s->resource);
		return AI_ERR_AUTH;
	} else if (account_level && s->resource[0]) {
		snprintf(why, cap, "a container SAS (sr=%s) cannot list the account's containers; "
		                   "it needs an account SAS", s->resource);
		return AI_ERR_AUTH;
	}
	if (!s->has_perms)
		return AI_OK; /* a stored access policy holds them */
	for (const char *c = need; *c && m + 1 < sizeof missing; c++)
		if (!has_letter(s->perms, *c))
			missing[m++] = *c;
	missing[m] = '\0';
	if (m) {
		snprintf(why, cap, "lacks permission%s %s (sp=%s; needs %s)", m > 1 ? "s" : "", missing,
		         s->perms, need);
		return AI_ERR_AUTH;
	}
	return AI_OK;
}

void ai_sas_describe(const struct ai_sas *s, char *out, size_t cap)
{
	int n = 0;

	out[0] = '\0';
	if (s->has_perms)
		n = snprintf(out, cap, "sp=%s", s->perms);
	if (s->has_expiry && n >= 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "%sse=%s", n ? ", " : "", s->expiry_text);
	if (s->has_policy && n >= 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, "%sstored access policy", n ? ", " : "");
}
