/* checkpoint.c: the text of a witness's checkpoint. */
#include <stdio.h>
#include <string.h>
#include "format/checkpoint.h"
#include "util/hex.h"

/* 1 when the string holds only printable ASCII (no control character). */
static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

ai_result ai_checkpoint_format(const struct ai_checkpoint *c, struct ai_buf *out)
{
	char head[2 * AI_SHA256_LEN + 1], seg0[2 * AI_SHA256_LEN + 1], when[AI_TIME_STRLEN];
	size_t n = strnlen(c->archive, sizeof c->archive);

	if (n == 0 || n == sizeof c->archive || !printable(c->archive, n))
		return AI_ERR_BAD_INPUT;
	ai_hex(c->head, sizeof c->head, head);
	ai_hex(c->segment0, sizeof c->segment0, seg0);
	ai_time_format(c->time, 0, when);
	if (c->segments)
		return ai_buf_printf(out, AI_CHECKPOINT_MAGIC "\narchive %s\nsegments %llu\nhead %s\n"
		                     "segment0 %s\ntime %s\n", c->archive,
		                     (unsigned long long)c->segments, head, seg0, when);
	return ai_buf_printf(out, AI_CHECKPOINT_MAGIC "\narchive %s\nsegments 0\ntime %s\n",
	                     c->archive, when);
}

static ai_result bad(char *why, size_t cap, const char *what, const char *key)
{
	snprintf(why, cap, "%s%s%s", what, key ? " " : "", key ? key : "");
	return AI_ERR_BAD_INPUT;
}

static ai_result digest(const char *v, size_t n, uint8_t out[AI_SHA256_LEN])
{
	if (n != 2 * AI_SHA256_LEN)
		return AI_ERR_BAD_INPUT;
	return ai_unhex(v, n, out, AI_SHA256_LEN);
}

ai_result ai_checkpoint_parse(const char *p, size_t n, struct ai_checkpoint *c, char *why,
                              size_t cap)
{
	enum { ARCHIVE, SEGMENTS, HEAD, SEGMENT0, TIME, NKEYS };
	static const char *const keys[NKEYS] = { "archive", "segments", "head", "segment0",
	                                         "time" };
	const char *end = p + n;
	const size_t magic = strlen(AI_CHECKPOINT_MAGIC);
	int seen[NKEYS] = { 0 };

	memset(c, 0, sizeof *c);
	if (n > AI_CHECKPOINT_MAX)
		return bad(why, cap, "larger than a checkpoint can be", NULL);
	if (n <= magic || memcmp(p, AI_CHECKPOINT_MAGIC "\n", magic + 1) != 0)
		return bad(why, cap, "not an aiarchive checkpoint (version 1)", NULL);
	for (p += magic + 1; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *sp, *v;
		size_t klen, vlen;
		int k;

		if (!nl)
			return bad(why, cap, "its last line has no newline", NULL);
		if (!printable(p, (size_t)(nl - p)))
			return bad(why, cap, "holds a control character", NULL);
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (!sp || sp == p)
			return bad(why, cap, "a line is not 'key value'", NULL);
		klen = (size_t)(sp - p);
		v = sp + 1;
		vlen = (size_t)(nl - v);
		for (k = 0; k < NKEYS && !(strlen(keys[k]) == klen && memcmp(p, keys[k], klen) == 0); k++)
			;
		p = nl + 1;
		if (k == NKEYS)
			continue; /* a later version's addition */
		if (seen[k]++)
			return bad(why, cap, "repeats", keys[k]);
		switch (k) {
		case ARCHIVE:
			if (vlen == 0 || vlen >= sizeof c->archive)
				return bad(why, cap, "bad value for", keys[k]);
			memcpy(c->archive, v, vlen);
			break;
		case SEGMENTS: {
			char num[24];
			if (vlen == 0 || vlen >= sizeof num)
				return bad(why, cap, "bad value for", keys[k]);
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			if (ai_parse_u64(num, UINT64_MAX, &c->segments) != AI_OK)
				return bad(why, cap, "bad value for", keys[k]);
			break;
		}
		case HEAD:
		case SEGMENT0:
			if (digest(v, vlen, k == HEAD ? c->head : c->segment0) != AI_OK)
				return bad(why, cap, "bad value for", keys[k]);
			break;
		case TIME:
			if (ai_parse_time(v, vlen, &c->time) != AI_OK)
				return bad(why, cap, "bad value for", keys[k]);
			break;
		}
	}
	if (!seen[ARCHIVE] || !seen[SEGMENTS] || !seen[TIME])
		return bad(why, cap, "misses", !seen[ARCHIVE] ? "archive" : !seen[SEGMENTS] ?
		           "segments" : "time");
	if (c->segments && (!seen[HEAD] || !seen[SEGMENT0]))
		return bad(why, cap, "misses", !seen[HEAD] ? "head" : "segment0");
	if (!c->segments && (seen[HEAD] || seen[SEGMENT0]))
		return bad(why, cap, "covers no segment but has", seen[HEAD] ? "head" : "segment0");
	return AI_OK;
}
