/* rowscan.c: a single-pass JSON validator that captures the values at a
 * few key paths. Recursive descent with a depth limit; the set of wanted
 * paths still matching at each depth is carried as a bit mask. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format/rowscan.h"
#include "util/hex.h"

#define MAX_DEPTH 64
#define NPATHS 6

enum { P_TIME, P_OP, P_ROLE, P_ITEM, P_ID, P_RESOURCE };

static const struct ai_row_path continuous_paths[NPATHS] = {
	[P_TIME] = { 3, { "context", "data", "eventTime" }, { 7, 4, 9 } },
	[P_OP] = { 3, { "context", "operation", "id" }, { 7, 9, 2 } },
	[P_ROLE] = { 3, { "context", "device", "roleName" }, { 7, 6, 8 } },
	[P_ITEM] = { 3, { "internal", "data", "id" }, { 8, 4, 2 } },
	[P_ID] = { 0, { NULL }, { 0 } },
	[P_RESOURCE] = { 0, { NULL }, { 0 } },
};

static const struct ai_row_path diagnostic_paths[NPATHS] = {
	[P_TIME] = { 1, { "time" }, { 4 } },
	[P_OP] = { 1, { "OperationId" }, { 11 } },
	[P_ROLE] = { 1, { "AppRoleName" }, { 11 } },
	[P_ITEM] = { 1, { "_ItemId" }, { 7 } },
	[P_ID] = { 1, { "Id" }, { 2 } },
	[P_RESOURCE] = { 0, { NULL }, { 0 } },
};

static const struct ai_row_path workspace_paths[NPATHS] = {
	[P_TIME] = { 1, { "TimeGenerated" }, { 13 } },
	[P_OP] = { 1, { "OperationId" }, { 11 } },
	[P_ROLE] = { 1, { "AppRoleName" }, { 11 } },
	[P_ITEM] = { 1, { "_ItemId" }, { 7 } },
	[P_ID] = { 1, { "Id" }, { 2 } },
	[P_RESOURCE] = { 1, { "_ResourceId" }, { 11 } },
};

struct scan {
	const unsigned char *p, *end;
	const struct ai_row_path *paths;
	size_t npaths;
	struct ai_row_value *vals;
	uint64_t found;  /* paths already captured (first value wins) */
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

/* Length of a valid UTF-8 sequence starting at p (lead byte >= 0x80), or 0. */
/* The value of the four hex digits at p, or -1. */
static long hex4(const unsigned char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int d = ai_hex_value(p[i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	unsigned min;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	unsigned v = c & (0x3f >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return n;
}

/* Appends code point cp as UTF-8 to dst (cap bytes incl. NUL); returns 0
 * when it does not fit. */
static int put_utf8(char *dst, size_t cap, size_t *n, unsigned cp)
{
	unsigned char b[4];
	size_t k;

	if (cp < 0x80)
		b[0] = (unsigned char)cp, k = 1;
	else if (cp < 0x800)
		b[0] = (unsigned char)(0xc0 | cp >> 6), b[1] = (unsigned char)(0x80 | (cp & 0x3f)), k = 2;
	else if (cp < 0x10000)
		b[0] = (unsigned char)(0xe0 | cp >> 12), b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
		b[2] = (unsigned char)(0x80 | (cp & 0x3f)), k = 3;
	else
		b[0] = (unsigned char)(0xf0 | cp >> 18), b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f)),
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (unsigned char)(0x80 | (cp & 0x3f)),
		k = 4;
	if (*n + k >= cap)
		return 0;
	memcpy(dst + *n, b, k);
	*n += k;
	return 1;
}
/* Parses a string at s->p (a double quote). Sets raw and rawlen to the
 * bytes between the quotes. When dst is given, also decodes into it
 * (dst_ok is cleared when it does not fit). Returns 0 on malformed input. */
static int scan_string(struct scan *s, const unsigned char **raw, size_t *rawlen, char *dst,
                       size_t cap, int *dst_ok)
{
	const unsigned char *p = s->p + 1, *end = s->end;
	size_t n = 0;

	*raw = p;
	for (;;) {
		/* Fast path: plain ASCII. */
		const unsigned char *q = p;
		while (q < end && *q >= 0x20 && *q != '"' && *q != '\\' && *q < 0x80)
			q++;
		if (dst && *dst_ok) {
			if (n + (size_t)(q - p) >= cap) {
				*dst_ok = 0;
			} else {
				memcpy(dst + n, p, (size_t)(q - p));
				n += (size_t)(q - p);
			}
		}
		p = q;
		if (p >= end)
			return 0;
		if (*p == '"')
			break;
		if (*p < 0x20)
			return 0;
		if (*p >= 0x80) {
			size_t k = utf8_len(p, end);
			if (!k)
				return 0;
			if (dst && *dst_ok) {
				if (n + k >= cap)
					*dst_ok = 0;
				else
					memcpy(dst + n, p, k), n += k;
			}
			p += k;
			continue;
		}
		/* Backslash escape. */
		if (++p >= end)
			return 0;
		unsigned cp;
		switch (*p) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u': {
			if (end - p < 5)
				return 0;
			long hi = hex4(p + 1);
			if (hi < 0)
				return 0;
			cp = (unsigned)hi;
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* A high surrogate must be followed by a low one. */
				if (end - p < 7 || p[1] != '\\' || p[2] != 'u')
					return 0;
				long lo16 = hex4(p + 3);
				if (lo16 < 0)
					return 0;
				unsigned lo = (unsigned)lo16;
				if (lo < 0xdc00 || lo > 0xdfff)
					return 0;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return 0;
			}
			break;
		}
		default:
			return 0;
		}
		if (dst && *dst_ok && !put_utf8(dst, cap, &n, cp))
			*dst_ok = 0;
		p++;
	}
	*rawlen = (size_t)(p - *raw);
	if (dst) {
		if (*dst_ok)
			dst[n] = '\0';
		else
			dst[0] = '\0';
	}
	s->p = p + 1;
	return 1;
}

static int scan_number(struct scan *s)
{
	const unsigned char *p = s->p, *end = s->end;

	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return 0;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return 0;
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return 0;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return 0;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	s->p = p;
	return 1;
}

static int scan_literal(struct scan *s, const char *word, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return 0;
	s->p += n;
	return 1;
}

/* The paths in mask whose segment at depth is the key (or array index)
 * seg: those that end there (*target) and those that go on (*sub). */
static void match_seg(const struct scan *s, uint64_t mask, int depth, const void *seg,
                      size_t seglen, uint64_t *target, uint64_t *sub)
{
	*target = *sub = 0;
	for (size_t i = 0; mask && i < s->npaths; i++) {
		const struct ai_row_path *pt = &s->paths[i];
		if (!(mask & (1ull << i)) || (size_t)depth >= pt->nseg ||
		    pt->seglen[depth] != seglen || memcmp(pt->seg[depth], seg, seglen) != 0)
			continue;
		if ((size_t)depth + 1 == pt->nseg)
			*target |= 1ull << i;
		else
			*sub |= 1ull << i;
	}
	*target &= ~s->found;
}

static int scan_value(struct scan *s, uint64_t mask, int depth);

/* One member's or element's value, captured for the paths in target. */
static int scan_member_value(struct scan *s, uint64_t target, uint64_t sub, int depth)
{
	const unsigned char *start;

	skip_ws(s);
	start = s->p;
	if (!scan_value(s, sub, depth + 1))
		return 0;
	for (size_t i = 0; target && i < s->npaths; i++)
		if (target & (1ull << i)) {
			s->vals[i].p = (const char *)start;
			s->vals[i].len = (size_t)(s->p - start);
		}
	s->found |= target;
	return 1;
}

/* An object whose members at this depth may continue the paths in mask. */
static int scan_object(struct scan *s, uint64_t mask, int depth)
{
	s->p++; /* '{' */
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 1;
	}
	for (;;) {
		const unsigned char *key;
		size_t keylen;
		uint64_t sub = 0, target = 0;

		skip_ws(s);
		if (s->p >= s->end || *s->p != '"' || !scan_string(s, &key, &keylen, NULL, 0, NULL))
			return 0;
		if (mask)
			match_seg(s, mask, depth, key, keylen, &target, &sub);
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return 0;
		s->p++;
		if (!scan_member_value(s, target, sub, depth))
			return 0;
		skip_ws(s);
		if (s->p >= s->end)
			return 0;
		if (*s->p == '}') {
			s->p++;
			return 1;
		}
		if (*s->p != ',')
			return 0;
		s->p++;
	}
}

/* An array: a path's segment of decimal digits names an element. */
static int scan_array(struct scan *s, uint64_t mask, int depth)
{
	s->p++; /* '[' */
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 1;
	}
	for (size_t k = 0;; k++) {
		uint64_t sub = 0, target = 0;
		if (mask) {
			char idx[24];
			int n = snprintf(idx, sizeof idx, "%zu", k);
			match_seg(s, mask, depth, idx, (size_t)n, &target, &sub);
		}
		if (!scan_member_value(s, target, sub, depth))
			return 0;
		skip_ws(s);
		if (s->p >= s->end)
			return 0;
		if (*s->p == ']') {
			s->p++;
			return 1;
		}
		if (*s->p != ',')
			return 0;
		s->p++;
	}
}

static int scan_value(struct scan *s, uint64_t mask, int depth)
{
	const unsigned char *raw;
	size_t rawlen;

	if (depth > MAX_DEPTH)
		return 0;
	skip_ws(s);
	if (s->p >= s->end)
		return 0;
	switch (*s->p) {
	case '{':
		return scan_object(s, mask, depth);
	case '[':
		return scan_array(s, mask, depth);
	case '"':
		return scan_string(s, &raw, &rawlen, NULL, 0, NULL);
	case 't':
		return scan_literal(s, "true", 4);
	case 'f':
		return scan_literal(s, "false", 5);
	case 'n':
		return scan_literal(s, "null", 4);
	default:
		return scan_number(s);
	}
}

int ai_row_extract(const char *row, size_t len, const struct ai_row_path *paths, size_t n,
                   struct ai_row_value *vals)
{
	struct scan s = {
		.p = (const unsigned char *)row,
		.end = (const unsigned char *)row + len,
		.paths = paths,
		.npaths = n < AI_ROW_PATH_MAX ? n : AI_ROW_PATH_MAX,
		.vals = vals,
	};

	for (size_t i = 0; i < n; i++)
		vals[i].p = NULL, vals[i].len = 0;
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return 0;
	if (!scan_object(&s, s.npaths >= 64 ? ~0ull : (1ull << s.npaths) - 1, 0))
		return 0;
	skip_ws(&s);
	return s.p == s.end;
}

ai_result ai_row_path_parse(const char *dotted, struct ai_row_path *out)
{
	const char *p = dotted;

	memset(out, 0, sizeof *out);
	for (;;) {
		size_t k = strcspn(p, ".");
		if (!k || out->nseg == AI_ROW_PATH_DEPTH)
			return AI_ERR_BAD_INPUT;
		out->seg[out->nseg] = p;
		out->seglen[out->nseg++] = k;
		if (!p[k])
			return AI_OK;
		p += k + 1;
	}
}

/* Decodes the JSON string v (quotes included) into dst (cap bytes with
 * the NUL); 0 when it is no string or does not fit. */
static int decode_string(const struct ai_row_value *v, char *dst, size_t cap)
{
	struct scan s = {
		.p = (const unsigned char *)v->p,
		.end = (const unsigned char *)v->p + v->len,
	};
	const unsigned char *raw;
	size_t rawlen;
	int ok = 1;

	if (!v->p || !v->len || *v->p != '"' || !cap)
		return 0;
	if (!scan_string(&s, &raw, &rawlen, dst, cap, &ok))
		return 0;
	return ok;
}

ai_result ai_row_value_text(const struct ai_row_value *v, struct ai_buf *out)
{
	char *tmp;
	ai_result r;

	if (!v->p || (v->len == 4 && memcmp(v->p, "null", 4) == 0))
		return AI_OK;
	if (*v->p != '"')
		return ai_buf_add(out, v->p, v->len);
	/* Decoding never lengthens a string. */
	if (!(tmp = malloc(v->len + 1)))
		return AI_ERR_NOMEM;
	r = decode_string(v, tmp, v->len + 1) ? ai_buf_add(out, tmp, strlen(tmp))
	                                      : AI_ERR_BAD_INPUT;
	free(tmp);
	return r;
}

/* The app a _ResourceId names: its last segment (trailing slashes left
 * out), lowercased; "" when there is none or it does not fit. */
static void resource_app(const struct ai_row_value *v, char *app, size_t cap)
{
	char id[AI_ROW_RESOURCE_MAX];
	size_t n, k;

	app[0] = '\0';
	if (!v->p || !decode_string(v, id, sizeof id))
		return;
	n = strlen(id);
	while (n && id[n - 1] == '/')
		n--;
	for (k = n; k && id[k - 1] != '/'; k--)
		;
	if (n == k || n - k >= cap)
		return;
	for (size_t i = k; i < n; i++)
		app[i - k] = id[i] >= 'A' && id[i] <= 'Z' ? (char)(id[i] - 'A' + 'a') : id[i];
	app[n - k] = '\0';
}

void ai_row_scan(const char *row, size_t len, enum ai_row_schema schema,
                 struct ai_row_facts *out)
{
	struct ai_row_value v[NPATHS];
	char buf[AI_ROW_FIELD_MAX];

	out->has_time = 0;
	out->event_time = 0;
	out->op_id[0] = '\0';
	out->role[0] = '\0';
	out->item_id[0] = '\0';
	out->id[0] = '\0';
	out->app[0] = '\0';
	out->valid = ai_row_extract(row, len,
	                            schema == AI_SCHEMA_DIAGNOSTIC   ? diagnostic_paths
	                            : schema == AI_SCHEMA_WORKSPACE ? workspace_paths
	                                                            : continuous_paths,
	                            NPATHS, v);
	if (!out->valid)
		return;
	if (decode_string(&v[P_TIME], buf, sizeof buf))
		out->has_time = ai_parse_time(buf, strlen(buf), &out->event_time) == AI_OK;
	if (!decode_string(&v[P_OP], out->op_id, sizeof out->op_id))
		out->op_id[0] = '\0';
	if (!decode_string(&v[P_ROLE], out->role, sizeof out->role))
		out->role[0] = '\0';
	if (!decode_string(&v[P_ITEM], out->item_id, sizeof out->item_id))
		out->item_id[0] = '\0';
	if (!decode_string(&v[P_ID], out->id, sizeof out->id))
		out->id[0] = '\0';
	resource_app(&v[P_RESOURCE], out->app, sizeof out->app);
}
