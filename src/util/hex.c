/* hex.c: hexadecimal digits. */
#include "util/hex.h"

int ai_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void ai_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

ai_result ai_unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen / 2 != n || slen % 2)
		return AI_ERR_BAD_INPUT;
	for (size_t i = 0; i < n; i++) {
		int hi = ai_hex_value((unsigned char)s[2 * i]);
		int lo = ai_hex_value((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return AI_ERR_BAD_INPUT;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return AI_OK;
}
