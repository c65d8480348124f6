/* rowscan.c: a single-pass JSON validator that captures string values at
 * a few fixed key paths. Recursive descent with a depth limit; the set of
 * wanted paths still matching at each depth is carried as a bit mask. */
#include <string.h>
#include "format/rowscan.h"
#include "util/hex.h"

#define MAX_DEPTH 64
#define NPATHS 5

enum { P_TIME, P_OP, P_ROLE, P_ITEM, P_ID };

struct path {
	int len;
	const char *key[3];
	size_t keylen[3];
};

static const struct path continuous_paths[NPATHS] = {
	[P_TIME] = { 3, { "context", "data", "eventTime" }, { 7, 4, 9 } },
	[P_OP] = { 3, { "context", "operation", "id" }, { 7, 9, 2 } },
	[P_ROLE] = { 3, { "context", "device", "roleName" }, { 7, 6, 8 } },
	[P_ITEM] = { 3, { "internal", "data", "id" }, { 8, 4, 2 } },
	[P_ID] = { 0, { NULL }, { 0 } },
};

static const struct path diagnostic_paths[NPATHS] = {
	[P_TIME] = { 1, { "time" }, { 4 } },
	[P_OP] = { 1, { "OperationId" }, { 11 } },
	[P_ROLE] = { 1, { "AppRoleName" }, { 11 } },
	[P_ITEM] = { 1, { "_ItemId" }, { 7 } },
	[P_ID] = { 1, { "Id" }, { 2 } },
};

static const struct path workspace_paths[NPATHS] = {
	[P_TIME] = { 1, { "TimeGenerated" }, { 13 } },
	[P_OP] = { 1, { "OperationId" }, { 11 } },
	[P_ROLE] = { 1, { "AppRoleName" }, { 11 } },
	[P_ITEM] = { 1, { "_ItemId" }, { 7 } },
	[P_ID] = { 1, { "Id" }, { 2 } },
};

struct scan {
	const unsigned char *p, *end;
	const struct path *paths;
	struct ai_row_facts *out;
	unsigned found;  /* paths already captured (first value wins) */
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

/* Stores a captured string value for path i. */
static void capture(struct scan *s, int i, const char *decoded, int ok)
{
	struct ai_row_facts *f = s->out;

	s->found |= 1u << i;
	if (!ok)
		return;
	if (i == P_TIME)
		f->has_time = ai_parse_time(decoded, strlen(decoded), &f->event_time) == AI_OK;
	else if (i == P_OP)
		memcpy(f->op_id, decoded, strlen(decoded) + 1);
	else if (i == P_ROLE)
		memcpy(f->role, decoded, strlen(decoded) + 1);
	else if (i == P_ITEM)
		memcpy(f->item_id, decoded, strlen(decoded) + 1);
	else
		memcpy(f->id, decoded, strlen(decoded) + 1);
}

static int scan_value(struct scan *s, unsigned mask, int depth);

/* An object whose members at this depth may continue the paths in mask. */
static int scan_object(struct scan *s, unsigned mask, int depth)
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
		unsigned sub = 0, target = 0;

		skip_ws(s);
		if (s->p >= s->end || *s->p != '"' || !scan_string(s, &key, &keylen, NULL, 0, NULL))
			return 0;
		for (int i = 0; mask && i < NPATHS; i++) {
			const struct path *pt = &s->paths[i];
			if (!(mask & (1u << i)) || depth >= pt->len || pt->keylen[depth] != keylen ||
			    memcmp(pt->key[depth], key, keylen) != 0)
				continue;
			if (depth + 1 == pt->len)
				target |= 1u << i;
			else
				sub |= 1u << i;
		}
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return 0;
		s->p++;
		skip_ws(s);
		target &= ~s->found;
		if (target && s->p < s->end && *s->p == '"') {
			char buf[AI_ROW_FIELD_MAX];
			const unsigned char *raw;
			size_t rawlen;
			int ok = 1;
			if (!scan_string(s, &raw, &rawlen, buf, sizeof buf, &ok))
				return 0;
			for (int i = 0; i < NPATHS; i++)
				if (target & (1u << i))
					capture(s, i, buf, ok);
		} else if (!scan_value(s, sub, depth + 1)) {
			return 0;
		}
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

static int scan_array(struct scan *s, int depth)
{
	s->p++; /* '[' */
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 1;
	}
	for (;;) {
		if (!scan_value(s, 0, depth + 1))
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

static int scan_value(struct scan *s, unsigned mask, int depth)
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
		return scan_array(s, depth);
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

void ai_row_scan(const char *row, size_t len, enum ai_row_schema schema,
                 struct ai_row_facts *out)
{
	struct scan s = {
		.p = (const unsigned char *)row,
		.end = (const unsigned char *)row + len,
		.paths = schema == AI_SCHEMA_DIAGNOSTIC ? diagnostic_paths
		         : schema == AI_SCHEMA_WORKSPACE ? workspace_paths
		                                         : continuous_paths,
		.out = out,
	};

	out->valid = 0;
	out->has_time = 0;
	out->event_time = 0;
	out->op_id[0] = '\0';
	out->role[0] = '\0';
	out->item_id[0] = '\0';
	out->id[0] = '\0';
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return;
	if (!scan_object(&s, (1u << NPATHS) - 1, 0))
		return;
	skip_ws(&s);
	out->valid = s.p == s.end;
}
