/* escape.c: rendering untrusted text for a terminal (escape.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/escape.h"

size_t ai_utf8_char(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range rules out overlong forms, surrogates and
	 * code points past U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* The rendering of the character at p into r (at least 7 bytes); returns
 * how many input bytes it stands for. */
static size_t render(const char *p, char r[8])
{
	unsigned char c = (unsigned char)*p;
	size_t n = ai_utf8_char(p);

	if (c == '\\' || c == '\n' || c == '\r' || c == '\t') {
		r[0] = '\\';
		r[1] = c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		r[2] = '\0';
		return 1;
	}
	if (c < 0x20 || c == 0x7f || n == 0) {
		snprintf(r, 8, "\\x%02x", c);
		return 1;
	}
	if (n == 2 && c == 0xc2 && (unsigned char)p[1] <= 0x9f) {
		snprintf(r, 8, "\\u%04x", (unsigned char)p[1]);
		return 2;
	}
	memcpy(r, p, n);
	r[n] = '\0';
	return n;
}

char *ai_escape(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return out;
	for (const char *p = in ? in : ""; *p;) {
		char r[8];
		size_t used = render(p, r), len = strlen(r);
		if (len >= cap - o)
			break;
		memcpy(out + o, r, len);
		o += len;
		p += used;
	}
	out[o] = '\0';
	return out;
}

char *ai_escape_new(const char *in)
{
	size_t n = in ? strlen(in) : 0;
	char *out;

	/* No byte renders as more than four (a two-byte C1 control as six). */
	if (n > (SIZE_MAX - 1) / 4)
		return NULL;
	out = malloc(4 * n + 1);
	return out ? ai_escape(in, out, 4 * n + 1) : NULL;
}

void ai_escape_put(FILE *f, const char *s)
{
	char r[8];

	for (const char *p = s ? s : ""; *p;) {
		p += render(p, r);
		fputs(r, f);
	}
}

void ai_json_put(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\r')
			fputs("\\r", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}
