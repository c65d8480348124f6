/* sharedkey.c: the Shared Key string-to-sign (standard headers, canonical
 * x-ms-* headers in the service's weighted order, canonical resource). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "store/azurl.h"
#include "util/base64.h"
#include "util/crypto.h"
#include "store/sharedkey.h"

#define PART_MAX (64 * 1024)
#define STS_MAX (1024 * 1024)

/* ---- header order ---- */

/* Level-0 weights of the service's culture-style comparison: most
 * punctuation sorts before digits, digits before letters, case is ignored,
 * and '-' and '\'' weigh nothing (they only count at level 1). Letter
 * weights are not evenly spaced, so they are listed. */
static int weight0(unsigned char c)
{
	static const unsigned short letters[26] = {
		0xe02, 0xe09, 0xe0a, 0xe1a, 0xe21, 0xe23, 0xe25, 0xe2c, 0xe32,
		0xe35, 0xe36, 0xe48, 0xe51, 0xe70, 0xe7c, 0xe7e, 0xe89, 0xe8a,
		0xe91, 0xe99, 0xe9f, 0xea2, 0xea4, 0xea6, 0xea7, 0xea9,
	};

	if (isupper(c))
		c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'z')
		return letters[c - 'a'];
	if (c == '0')
		return 0xd03;
	if (c >= '1' && c <= '9')
		return 0xd1a + 2 * (c - '1');
	switch (c) {
	case '!': return 0x71c;
	case '#': return 0x71f;
	case '$': return 0x721;
	case '%': return 0x723;
	case '&': return 0x725;
	case '*': return 0x72d;
	case '.': return 0x733;
	case '^': return 0x743;
	case '_': return 0x744;
	case '`': return 0x748;
	case '|': return 0x74c;
	case '~': return 0x750;
	case '+': return 0x803;
	default: return 0;
	}
}

static int weight1(unsigned char c)
{
	return c == '\'' ? 0x8012 : c == '-' ? 0x8212 : 0;
}

/* Weight of the character at index i of s at this level; running off the
 * end weighs 1. */
static int weight(int level, const char *s, size_t len, size_t i)
{
	if (i >= len)
		return 1;
	return level == 0 ? weight0((unsigned char)s[i]) : weight1((unsigned char)s[i]);
}

int ai_sharedkey_header_cmp(const char *a, const char *b)
{
	size_t alen = strlen(a), blen = strlen(b), i = 0, j = 0;
	int level = 0, w1, w2;

	while (level < 2) {
		/* At the last level the first ignorable character decides. */
		if (level == 1 && i != j)
			return i > j ? -1 : 1;
		w1 = weight(level, a, alen, i);
		w2 = weight(level, b, blen, j);
		if (w1 == 1 && w2 == 1) {
			level++;
			i = j = 0;
		} else if (w1 == w2) {
			i++;
			j++;
		} else if (w1 == 0) {
			i++;
		} else if (w2 == 0) {
			j++;
		} else {
			return w1 < w2 ? -1 : 1;
		}
	}
	return 0;
}

/* ---- headers ---- */

static int is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Value of the standard header name, "" when absent; sending one twice
 * gets 400 from the service, so it is refused here. */
static ai_result standard_header(const struct ai_sk_request *r, const char *name,
                                 const char **value)
{
	int found = 0;
	size_t i;

	*value = "";
	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, name) != 0)
			continue;
		if (found++)
			return AI_ERR_BAD_INPUT;
		*value = r->headers[i].value ? r->headers[i].value : "";
	}
	return AI_OK;
}

static ai_result add_standard_headers(const struct ai_sk_request *r, struct ai_buf *out)
{
	static const char *const names[] = {
		"Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
		"Content-Type", "Date", "If-Modified-Since", "If-Match", "If-None-Match",
		"If-Unmodified-Since", "Range",
	};
	const char *v;
	ai_result res = AI_OK;
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0] && res == AI_OK; i++) {
		res = standard_header(r, names[i], &v);
		/* Since 2015-02-21 a zero length is signed as an empty line. */
		if (res == AI_OK && strcmp(names[i], "Content-Length") == 0 && strcmp(v, "0") == 0)
			v = "";
		if (res == AI_OK)
			res = ai_buf_printf(out, "%s\n", v);
	}
	return res;
}

/* Trims the value and folds whitespace runs outside quoted strings into
 * one space. */
static ai_result add_folded(const char *v, struct ai_buf *out)
{
	int quoted = 0, space = 0, any = 0;
	ai_result r = AI_OK;

	for (; *v && r == AI_OK; v++) {
		if (!quoted && is_lws(*v)) {
			space = 1;
			continue;
		}
		if (space && any)
			r = ai_buf_addc(out, ' ');
		space = 0;
		any = 1;
		if (*v == '"')
			quoted = !quoted;
		if (r == AI_OK)
			r = ai_buf_addc(out, *v);
	}
	return r;
}

struct msheader {
	char *name;        /* lowercased copy */
	const char *value;
};

static int msheader_cmp(const void *pa, const void *pb)
{
	const struct msheader *a = pa, *b = pb;
	int c = ai_sharedkey_header_cmp(a->name, b->name);

	/* Names the weights cannot tell apart still need one fixed order. */
	return c ? c : strcmp(a->name, b->name);
}

static char *lowercase_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static ai_result add_canonical_headers(const struct ai_sk_request *r, struct ai_buf *out)
{
	struct msheader *h = calloc(r->nheaders ? r->nheaders : 1, sizeof *h);
	ai_result res = AI_OK;
	size_t i, n = 0;

	if (!h)
		return AI_ERR_NOMEM;
	for (i = 0; i < r->nheaders; i++) {
		if (strncasecmp(r->headers[i].name, "x-ms-", 5) != 0)
			continue;
		h[n].value = r->headers[i].value ? r->headers[i].value : "";
		if (!(h[n++].name = lowercase_dup(r->headers[i].name))) {
			res = AI_ERR_NOMEM;
			goto out;
		}
	}
	qsort(h, n, sizeof *h, msheader_cmp);
	for (i = 0; i < n && res == AI_OK; i++) {
		if (i > 0 && strcmp(h[i - 1].name, h[i].name) == 0) {
			res = AI_ERR_BAD_INPUT;
			break;
		}
		res = ai_buf_printf(out, "%s:", h[i].name);
		if (res == AI_OK)
			res = add_folded(h[i].value, out);
		if (res == AI_OK)
			res = ai_buf_addc(out, '\n');
	}
out:
	for (i = 0; i < n; i++)
		free(h[i].name);
	free(h);
	return res;
}

/* ---- resource ---- */

struct param {
	char *name;   /* decoded, lowercased */
	char *value;  /* decoded */
};

static int param_cmp(const void *pa, const void *pb)
{
	const struct param *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	return c ? c : strcmp(a->value, b->value);
}

/* Decodes s[0..n) into a new string; a decoded NUL is refused since it
 * could not be signed as the service reads it. */
static ai_result decode_dup(const char *s, size_t n, char **out)
{
	struct ai_buf b;
	ai_result r;

	ai_buf_init(&b, PART_MAX);
	r = ai_url_decode_query(s, n, &b);
	if (r == AI_OK && strlen(ai_buf_str(&b)) != b.len)
		r = AI_ERR_BAD_INPUT;
	if (r == AI_OK && !(*out = strdup(ai_buf_str(&b))))
		r = AI_ERR_NOMEM;
	ai_buf_release(&b);
	return r;
}

static ai_result parse_param(const char *s, size_t n, struct param *p)
{
	const char *eq = memchr(s, '=', n);
	size_t nlen = eq ? (size_t)(eq - s) : n;
	ai_result r;

	r = decode_dup(s, nlen, &p->name);
	if (r == AI_OK)
		r = eq ? decode_dup(eq + 1, n - nlen - 1, &p->value) : decode_dup("", 0, &p->value);
	for (char *c = p->name; r == AI_OK && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return r;
}

/* Writes "\nname:v1,v2" per distinct name, names and values sorted. */
static ai_result add_params(struct param *p, size_t n, struct ai_buf *out)
{
	ai_result r = AI_OK;
	size_t i;

	qsort(p, n, sizeof *p, param_cmp);
	for (i = 0; i < n && r == AI_OK; i++) {
		if (i > 0 && strcmp(p[i - 1].name, p[i].name) == 0)
			r = ai_buf_printf(out, ",%s", p[i].value);
		else
			r = ai_buf_printf(out, "\n%s:%s", p[i].name, p[i].value);
	}
	return r;
}

static ai_result add_query(const char *q, struct ai_buf *out)
{
	struct param *p;
	size_t i, n = 0, len, max = 1;
	ai_result r = AI_OK;

	for (i = 0; q[i]; i++)
		max += q[i] == '&';
	if (!(p = calloc(max, sizeof *p)))
		return AI_ERR_NOMEM;
	while (*q && r == AI_OK) {
		len = strcspn(q, "&");
		if (len)
			r = parse_param(q, len, &p[n++]);
		q += len + (q[len] == '&');
	}
	if (r == AI_OK)
		r = add_params(p, n, out);
	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
	return r;
}

static ai_result add_canonical_resource(const struct ai_sk_request *r, struct ai_buf *out)
{
	const char *path = r->path && *r->path ? r->path : "/";
	ai_result res = ai_buf_printf(out, "/%s%s", r->account, path);

	if (res == AI_OK && r->query)
		res = add_query(r->query, out);
	return res;
}

ai_result ai_sharedkey_string_to_sign(const struct ai_sk_request *r, struct ai_buf *out)
{
	ai_result res;

	if (!r->method || !r->account || !*r->account)
		return AI_ERR_INTERNAL;
	res = ai_buf_printf(out, "%s\n", r->method);
	if (res == AI_OK)
		res = add_standard_headers(r, out);
	if (res == AI_OK)
		res = add_canonical_headers(r, out);
	if (res == AI_OK)
		res = add_canonical_resource(r, out);
	return res;
}

ai_result ai_sharedkey_authorization(const struct ai_sk_request *r, const uint8_t *key,
                                     size_t keylen, char *out, size_t cap)
{
	uint8_t mac[AI_SHA256_LEN];
	char sig[AI_BASE64_ENCLEN(AI_SHA256_LEN)];
	struct ai_buf sts;
	ai_result res;
	int n;

	ai_buf_init(&sts, STS_MAX);
	res = ai_sharedkey_string_to_sign(r, &sts);
	if (res != AI_OK)
		goto out;
	res = ai_hmac_sha256(key, keylen, ai_buf_str(&sts), sts.len, mac);
	if (res != AI_OK)
		goto out;
	ai_base64_encode(mac, sizeof mac, sig);
	n = snprintf(out, cap, "SharedKey %s:%s", r->account, sig);
	if (n < 0 || (size_t)n >= cap)
		res = AI_ERR_TOO_BIG;
out:
	ai_cleanse(mac, sizeof mac);
	ai_buf_release(&sts);
	return res;
}
