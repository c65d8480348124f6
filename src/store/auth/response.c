/* response.c: the JSON answers of token endpoints (a flat object of
 * strings and numbers) and their error fields; nothing here logs a token. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/auth/token.h"
#include "util/crypto.h"
#include "util/hex.h"

#define JSON_DEPTH 16

struct jcur {
	const char *p, *end;
};

static void skip_ws(struct jcur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* Reads a string at c->p (on its '"'); with out, unescaped into out (cap
 * bytes; too long is a failure). Non-ASCII \u escapes become '?'. */
static int read_string(struct jcur *c, char *out, size_t cap)
{
	size_t n = 0;

	if (c->p >= c->end || *c->p != '"')
		return 0;
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		char ch = *c->p++;
		if ((unsigned char)ch < 0x20)
			return 0;
		if (ch == '\\') {
			if (c->p >= c->end)
				return 0;
			ch = *c->p++;
			switch (ch) {
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case '"': case '\\': case '/': break;
			case 'u': {
				int v = 0;
				for (int i = 0; i < 4; i++) {
					int h = c->p < c->end ? ai_hex_value((unsigned char)*c->p++) : -1;
					if (h < 0)
						return 0;
					v = v * 16 + h;
				}
				ch = v >= 0x20 && v < 0x7f ? (char)v : '?';
				break;
			}
			default:
				return 0;
			}
		}
		if (out) {
			if (n + 1 >= cap)
				return 0;
			out[n++] = ch;
		}
	}
	if (c->p >= c->end)
		return 0;
	c->p++;
	if (out)
		out[n] = '\0';
	return 1;
}

/* Skips one value of any kind. */
static int skip_value(struct jcur *c, int depth)
{
	skip_ws(c);
	if (c->p >= c->end || depth > JSON_DEPTH)
		return 0;
	if (*c->p == '"')
		return read_string(c, NULL, 0);
	if (*c->p == '{' || *c->p == '[') {
		char close = *c->p == '{' ? '}' : ']';
		int obj = *c->p == '{';
		c->p++;
		skip_ws(c);
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 1;
		}
		for (;;) {
			if (obj) {
				skip_ws(c);
				if (!read_string(c, NULL, 0))
					return 0;
				skip_ws(c);
				if (c->p >= c->end || *c->p++ != ':')
					return 0;
			}
			if (!skip_value(c, depth + 1))
				return 0;
			skip_ws(c);
			if (c->p < c->end && *c->p == ',') {
				c->p++;
				continue;
			}
			if (c->p < c->end && *c->p == close) {
				c->p++;
				return 1;
			}
			return 0;
		}
	}
	/* a number, true, false or null */
	const char *s = c->p;
	while (c->p < c->end && (isalnum((unsigned char)*c->p) || *c->p == '-' || *c->p == '+' ||
	                         *c->p == '.'))
		c->p++;
	return c->p > s;
}

enum jkind { J_NONE, J_STRING, J_NUMBER, J_OTHER };

/* Finds key in the top-level object; a string or a number (its text) is
 * copied into out. J_NONE when absent, or the JSON is malformed, or the
 * value does not fit. */
static enum jkind find_key(const char *json, size_t len, const char *key, char *out, size_t cap)
{
	struct jcur c = { json, json + len };
	char name[64];
	enum jkind found = J_NONE;

	skip_ws(&c);
	if (c.p >= c.end || *c.p++ != '{')
		return J_NONE;
	skip_ws(&c);
	if (c.p < c.end && *c.p == '}')
		return J_NONE;
	for (;;) {
		int match;
		skip_ws(&c);
		if (c.p < c.end && *c.p == '"') {
			struct jcur save = c;
			if (!read_string(&c, name, sizeof name)) {
				/* a longer name is none of ours: skip it */
				c = save;
				if (!read_string(&c, NULL, 0))
					return J_NONE;
				name[0] = '\0';
			}
		} else {
			return J_NONE;
		}
		match = strcmp(name, key) == 0 && found == J_NONE;
		skip_ws(&c);
		if (c.p >= c.end || *c.p++ != ':')
			return J_NONE;
		skip_ws(&c);
		if (match && c.p < c.end && *c.p == '"') {
			if (!read_string(&c, out, cap))
				return J_NONE;
			found = J_STRING;
		} else if (match && c.p < c.end && (*c.p == '-' || isdigit((unsigned char)*c.p))) {
			const char *s = c.p;
			if (!skip_value(&c, 1) || (size_t)(c.p - s) >= cap)
				return J_NONE;
			memcpy(out, s, (size_t)(c.p - s));
			out[c.p - s] = '\0';
			found = J_NUMBER;
		} else {
			if (!skip_value(&c, 1))
				return J_NONE;
			if (match)
				found = J_OTHER;
		}
		skip_ws(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (c.p < c.end && *c.p == '}')
			return found == J_OTHER ? J_NONE : found;
		return J_NONE;
	}
}

const char *ai_token_json_string(const char *json, size_t len, const char *key, char *out,
                                 size_t cap)
{
	return find_key(json, len, key, out, cap) == J_STRING ? out : NULL;
}

/* A count of seconds, as a JSON number or a string of digits. */
static int seconds_field(const char *json, size_t len, const char *key, int64_t *out)
{
	char v[32], *end;
	long long x;

	if (find_key(json, len, key, v, sizeof v) == J_NONE || !isdigit((unsigned char)v[0]))
		return 0;
	errno = 0;
	x = strtoll(v, &end, 10);
	/* "3599.0" would be odd, but not wrong */
	if (*end == '.' && strspn(end + 1, "0") == strlen(end + 1))
		end += strlen(end);
	if (errno || *end || x < 0 || x > (long long)INT32_MAX * 4)
		return -1;
	*out = x;
	return 1;
}

#define TOKEN_MAX (32u << 10)

ai_result ai_token_parse(const char *json, size_t len, int64_t now, struct ai_token *out,
                         char *why, size_t whycap)
{
	char *tok = malloc(TOKEN_MAX);
	int64_t on = 0, in = 0, rin = 0;
	int h_on, h_in, h_rin;
	ai_result r = AI_ERR_PROTOCOL;

	memset(out, 0, sizeof *out);
	if (!tok)
		return AI_ERR_NOMEM;
	if (!ai_token_json_string(json, len, "access_token", tok, TOKEN_MAX) &&
	    !ai_token_json_string(json, len, "accessToken", tok, TOKEN_MAX)) {
		snprintf(why, whycap, "the answer has no access_token");
		goto out;
	}
	if (!*tok || strpbrk(tok, " \t\r\n\"")) {
		snprintf(why, whycap, "the answer's access_token is empty or malformed");
		goto out;
	}
	h_on = seconds_field(json, len, "expires_on", &on);
	h_in = seconds_field(json, len, "expires_in", &in);
	h_rin = seconds_field(json, len, "refresh_in", &rin);
	if (h_on < 0 || h_in < 0 || h_rin < 0) {
		snprintf(why, whycap, "the answer's %s is not a number of seconds",
		         h_on < 0 ? "expires_on" : h_in < 0 ? "expires_in" : "refresh_in");
		goto out;
	}
	if (h_on)
		out->expires_on = on;
	else if (h_in)
		out->expires_on = now + in;
	else {
		snprintf(why, whycap, "the answer gives neither expires_on nor expires_in");
		goto out;
	}
	if (out->expires_on <= now) {
		snprintf(why, whycap, "the token it gave has expired already");
		goto out;
	}
	if (h_rin && rin > 0)
		out->refresh_on = now + rin;
	out->access_token = strdup(tok);
	r = out->access_token ? AI_OK : AI_ERR_NOMEM;
out:
	ai_cleanse(tok, TOKEN_MAX);
	free(tok);
	if (r != AI_OK)
		out->expires_on = out->refresh_on = 0;
	return r;
}

void ai_token_release(struct ai_token *t)
{
	if (t->access_token) {
		ai_cleanse(t->access_token, strlen(t->access_token));
		free(t->access_token);
	}
	memset(t, 0, sizeof *t);
}
