/* base64.c: RFC 4648 base64. */
#include "util/base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void ai_base64_encode(const void *p, size_t n, char *out)
{
	const uint8_t *in = p;
	size_t i;
	char *o = out;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		*o++ = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
}

static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

ai_result ai_base64_decode(const char *s, size_t slen, uint8_t *out, size_t cap,
                           size_t *outlen)
{
	size_t i, n = 0;

	if (slen % 4)
		return AI_ERR_BAD_INPUT;
	for (i = 0; i < slen; i += 4) {
		int v[4], pad = 0, k;
		for (k = 0; k < 4; k++) {
			char c = s[i + k];
			if (c == '=' && i + 4 == slen && k >= 2) {
				v[k] = 0;
				pad++;
			} else {
				if (pad)
					return AI_ERR_BAD_INPUT; /* data after padding */
				v[k] = value_of(c);
				if (v[k] < 0)
					return AI_ERR_BAD_INPUT;
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		             (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if (n + 3 - (size_t)pad > cap)
			return AI_ERR_TOO_BIG;
		out[n++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[n++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[n++] = (uint8_t)w;
	}
	*outlen = n;
	return AI_OK;
}

void ai_base64url_encode(const void *p, size_t n, char *out)
{
	char *o;

	ai_base64_encode(p, n, out);
	for (o = out; *o; o++) {
		if (*o == '+')
			*o = '-';
		else if (*o == '/')
			*o = '_';
		else if (*o == '=') {
			*o = '\0';
			break;
		}
	}
}
