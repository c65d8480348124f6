/* azurl.c: where an Azure Blob location points (account, container, prefix,
 * primary or secondary), from URLs and connection strings; percent-encoding. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "store/azurl.h"
#include "util/crypto.h"
#include "util/parse.h"

#define SECONDARY_SUFFIX "-secondary"
#define URL_MAX 8192

/* Azurite's well-known development account (public, documented). */
#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define DEV_ENDPOINT "http://127.0.0.1:10000/" DEV_ACCOUNT

/* ---- percent-encoding ---- */

static int unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static ai_result encode(const char *s, int keep_slash, struct ai_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	ai_result r = AI_OK;

	for (; *s && r == AI_OK; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (unreserved(c) || (keep_slash && c == '/'))
			r = ai_buf_addc(out, (char)c);
		else
			r = ai_buf_add(out, esc, 3);
	}
	return r;
}

ai_result ai_url_encode_path(const char *s, struct ai_buf *out)
{
	return encode(s, 1, out);
}

ai_result ai_url_encode_query(const char *s, struct ai_buf *out)
{
	return encode(s, 0, out);
}

static ai_result decode(const char *s, size_t n, int plus_is_space, struct ai_buf *out)
{
	ai_result r = AI_OK;
	size_t i;

	for (i = 0; i < n && r == AI_OK; i++) {
		char c = s[i];

		if (c == '%') {
			uint8_t byte;

			if (n - i < 3 || ai_unhex(s + i + 1, 2, &byte, 1) != AI_OK)
				return AI_ERR_BAD_INPUT;
			c = (char)byte;
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		r = ai_buf_addc(out, c);
	}
	return r;
}

ai_result ai_url_decode(const char *s, size_t n, struct ai_buf *out)
{
	return decode(s, n, 0, out);
}

ai_result ai_url_decode_query(const char *s, size_t n, struct ai_buf *out)
{
	return decode(s, n, 1, out);
}

/* ---- URLs ---- */

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* Azure's rule: 3-63 of lowercase letters, digits and single hyphens, a
 * letter or digit at both ends; plus the service's own $-containers. */
static int container_ok(const char *s, size_t n)
{
	static const char *const special[] = { "$root", "$logs", "$web" };
	size_t i;

	for (i = 0; i < sizeof special / sizeof special[0]; i++)
		if (n == strlen(special[i]) && memcmp(s, special[i], n) == 0)
			return 1;
	if (n < 3 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '-' && s[i + 1] == '-')
			return 0;
		if (s[i] != '-' && !islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* Sets account and secondary from a host label or a path segment. Host
 * labels are case-insensitive, so they are lowercased. */
static ai_result take_account(const char *s, size_t n, int lower, struct ai_azurl *u)
{
	size_t i;

	if (ends_with(s, n, SECONDARY_SUFFIX)) {
		u->secondary = 1;
		n -= strlen(SECONDARY_SUFFIX);
	}
	if (n == 0 || n >= sizeof u->account)
		return AI_ERR_CONFIG;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]))
			return AI_ERR_CONFIG;
		u->account[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
	}
	u->account[n] = '\0';
	return AI_OK;
}

/* Azurite's rule: IP hosts, single-label hosts (localhost, service names in
 * a compose file) and host.docker.internal carry the account in the path. */
static int path_style_host(const char *host)
{
	if (host[0] == '[' || !strchr(host, '.'))
		return 1;
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "host.docker.internal") == 0)
		return 1;
	return strspn(host, "0123456789.") == strlen(host);
}

static ai_result parse_port(const char *s, size_t n, unsigned *port)
{
	char tmp[8];
	uint64_t v;

	if (n == 0 || n >= sizeof tmp)
		return AI_ERR_CONFIG;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (ai_parse_u64(tmp, 65535, &v) != AI_OK || v == 0)
		return AI_ERR_CONFIG;
	*port = (unsigned)v;
	return AI_OK;
}

/* Splits "host[:port]" (host may be a bracketed IPv6 literal). */
static ai_result parse_authority(const char *s, size_t n, struct ai_azurl *u)
{
	const char *colon = NULL;
	size_t hostlen = n;

	if (memchr(s, '@', n))
		return AI_ERR_CONFIG; /* credentials in a URL are never ours to send */
	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			return AI_ERR_CONFIG;
		hostlen = (size_t)(close - s) + 1;
		if (hostlen < n && s[hostlen] != ':')
			return AI_ERR_CONFIG;
		colon = hostlen < n ? s + hostlen : NULL;
	} else if ((colon = memchr(s, ':', n)) != NULL) {
		hostlen = (size_t)(colon - s);
	}
	if (hostlen == 0 || hostlen >= sizeof u->host)
		return AI_ERR_CONFIG;
	for (size_t i = 0; i < hostlen; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-.[]:", s[i]))
			return AI_ERR_CONFIG;
	memcpy(u->host, s, hostlen);
	u->host[hostlen] = '\0';
	if (colon)
		return parse_port(colon + 1, n - hostlen - 1, &u->port);
	return AI_OK;
}

static ai_result parse_prefix(const char *s, size_t n, struct ai_azurl *u)
{
	struct ai_buf b;
	ai_result r;

	ai_buf_init(&b, sizeof u->prefix - 2);
	r = ai_url_decode(s, n, &b);
	if (r != AI_OK || strlen(ai_buf_str(&b)) != b.len || ai_buf_str(&b)[0] == '/') {
		r = AI_ERR_CONFIG;
		goto out;
	}
	strcpy(u->prefix, ai_buf_str(&b));
	if (b.len && u->prefix[b.len - 1] != '/')
		strcat(u->prefix, "/");
out:
	ai_buf_release(&b);
	return r;
}

static size_t seg_len(const char *p, const char *end)
{
	const char *slash = memchr(p, '/', (size_t)(end - p));

	return (size_t)((slash ? slash : end) - p);
}

/* Takes "[account/]container[/prefix]" from the path (after its '/'). */
static ai_result parse_path(const char *p, const char *end, struct ai_azurl *u)
{
	size_t n;
	ai_result r;

	if (p < end && *p == '/')
		p++;
	if (u->path_style) {
		n = seg_len(p, end);
		if ((r = take_account(p, n, 0, u)) != AI_OK)
			return r;
		p += n;
		if (p < end)
			p++;
	}
	n = seg_len(p, end);
	if (n == 0)
		return p == end ? AI_OK : AI_ERR_CONFIG;
	if (!container_ok(p, n))
		return AI_ERR_CONFIG;
	memcpy(u->container, p, n);
	u->container[n] = '\0';
	p += n;
	if (p < end)
		p++;
	return parse_prefix(p, (size_t)(end - p), u);
}

static ai_result parse_scheme(const char *url, struct ai_azurl *u, const char **rest)
{
	static const char *const schemes[] = { "https", "http" };
	size_t i, k;

	for (i = 0; i < 2; i++) {
		k = strlen(schemes[i]);
		if (strncasecmp(url, schemes[i], k) == 0 && strncmp(url + k, "://", 3) == 0) {
			strcpy(u->scheme, schemes[i]);
			*rest = url + k + 3;
			return AI_OK;
		}
	}
	return AI_ERR_CONFIG;
}

ai_result ai_azurl_parse(const char *url, struct ai_azurl *out, char **sas)
{
	const char *p, *path, *query;
	ai_result r;
	size_t n;

	memset(out, 0, sizeof *out);
	*sas = NULL;
	if (strlen(url) > URL_MAX || strchr(url, '#'))
		return AI_ERR_CONFIG;
	if ((r = parse_scheme(url, out, &p)) != AI_OK)
		return r;
	n = strcspn(p, "/?");
	if ((r = parse_authority(p, n, out)) != AI_OK)
		return r;
	out->path_style = path_style_host(out->host);
	if (!out->path_style) {
		r = take_account(out->host, strcspn(out->host, "."), 1, out);
		if (r != AI_OK)
			return r;
	}
	path = p + n;
	query = path + strcspn(path, "?");
	if (out->path_style && query - path <= 1)
		return AI_ERR_CONFIG; /* the account is missing */
	if ((r = parse_path(path, query, out)) != AI_OK)
		return r;
	if (*query == '?' && query[1]) {
		*sas = strdup(query + 1);
		if (!*sas)
			return AI_ERR_NOMEM;
	}
	return AI_OK;
}

ai_result ai_azurl_endpoint(const struct ai_azurl *u, int secondary, struct ai_buf *out)
{
	const char *sfx = secondary ? SECONDARY_SUFFIX : "";
	const char *rest;
	ai_result r;

	if (u->path_style) {
		r = ai_buf_printf(out, "%s://%s", u->scheme, u->host);
		if (r == AI_OK && u->port)
			r = ai_buf_printf(out, ":%u", u->port);
		if (r == AI_OK)
			r = ai_buf_printf(out, "/%s%s", u->account, sfx);
		return r;
	}
	rest = strchr(u->host, '.');
	if (!rest)
		return AI_ERR_CONFIG;
	r = ai_buf_printf(out, "%s://%s%s%s", u->scheme, u->account, sfx, rest);
	if (r == AI_OK && u->port)
		r = ai_buf_printf(out, ":%u", u->port);
	return r;
}

/* ---- connection strings ---- */

enum { CS_ACCOUNT, CS_KEY, CS_BLOB, CS_SAS, CS_PROTO, CS_SUFFIX, CS_DEV, CS_COUNT };

static const char *const cs_names[CS_COUNT] = {
	"AccountName", "AccountKey", "BlobEndpoint", "SharedAccessSignature",
	"DefaultEndpointsProtocol", "EndpointSuffix", "UseDevelopmentStorage",
};

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static void free_secret(char *s)
{
	if (s)
		ai_cleanse(s, strlen(s));
	free(s);
}

/* Stores one "Key=Value" pair; values keep any further '=' (base64 keys). */
static ai_result cs_pair(const char *s, size_t n, char *v[CS_COUNT])
{
	const char *eq = memchr(s, '=', n);
	const char *val;
	size_t klen, vlen, i;

	if (!eq)
		return AI_ERR_CONFIG;
	klen = (size_t)(eq - s);
	val = eq + 1;
	vlen = n - klen - 1;
	trim(&s, &klen);
	trim(&val, &vlen);
	if (klen == 0)
		return AI_ERR_CONFIG;
	for (i = 0; i < CS_COUNT; i++) {
		if (strlen(cs_names[i]) != klen || strncasecmp(s, cs_names[i], klen) != 0)
			continue;
		if (v[i] || vlen == 0)
			return AI_ERR_CONFIG;
		v[i] = strndup(val, vlen);
		return v[i] ? AI_OK : AI_ERR_NOMEM;
	}
	return AI_OK; /* other services' endpoints and future keys */
}

static ai_result set_default(char **slot, const char *value)
{
	if (*slot)
		return AI_OK;
	*slot = strdup(value);
	return *slot ? AI_OK : AI_ERR_NOMEM;
}

static ai_result cs_resolve(char *v[CS_COUNT])
{
	const char *proto = v[CS_PROTO] ? v[CS_PROTO] : "https";
	const char *suffix = v[CS_SUFFIX] ? v[CS_SUFFIX] : "core.windows.net";
	struct ai_buf b;
	size_t n;
	ai_result r;

	if (v[CS_DEV]) {
		if (strcasecmp(v[CS_DEV], "true") != 0)
			return AI_ERR_CONFIG;
		if ((r = set_default(&v[CS_ACCOUNT], DEV_ACCOUNT)) != AI_OK ||
		    (r = set_default(&v[CS_KEY], DEV_KEY)) != AI_OK ||
		    (r = set_default(&v[CS_BLOB], DEV_ENDPOINT)) != AI_OK)
			return r;
	}
	if (v[CS_BLOB]) {
		n = strlen(v[CS_BLOB]);
		while (n && v[CS_BLOB][n - 1] == '/')
			v[CS_BLOB][--n] = '\0';
		return n ? AI_OK : AI_ERR_CONFIG;
	}
	if (!v[CS_ACCOUNT] || (strcasecmp(proto, "https") != 0 && strcasecmp(proto, "http") != 0))
		return AI_ERR_CONFIG;
	ai_buf_init(&b, URL_MAX);
	r = ai_buf_printf(&b, "%s://%s.blob.%s", proto, v[CS_ACCOUNT], suffix);
	if (r == AI_OK)
		v[CS_BLOB] = ai_buf_detach(&b, NULL);
	ai_buf_release(&b);
	return r;
}

static void hand_out(char *value, char **dst)
{
	if (dst)
		*dst = value;
	else
		free_secret(value);
}

ai_result ai_connstr_parse(const char *cs, char **account, char **key, char **blob_endpoint,
                           char **sas)
{
	char **outs[] = { account, key, blob_endpoint, sas }; /* CS_ACCOUNT..CS_SAS */
	char *v[CS_COUNT] = { NULL };
	ai_result r = AI_OK;
	size_t n, i;

	for (i = 0; i < sizeof outs / sizeof outs[0]; i++)
		if (outs[i])
			*outs[i] = NULL;
	while (*cs && r == AI_OK) {
		n = strcspn(cs, ";");
		if (strspn(cs, " \t\r\n") < n)
			r = cs_pair(cs, n, v);
		cs += n + (cs[n] == ';');
	}
	if (r == AI_OK)
		r = cs_resolve(v);
	if (r != AI_OK)
		goto out;
	if (v[CS_SAS] && v[CS_SAS][0] == '?')
		memmove(v[CS_SAS], v[CS_SAS] + 1, strlen(v[CS_SAS]));
	for (i = 0; i < sizeof outs / sizeof outs[0]; i++) {
		hand_out(v[i], outs[i]);
		v[i] = NULL;
	}
out:
	for (i = 0; i < CS_COUNT; i++)
		free_secret(v[i]);
	return r;
}
