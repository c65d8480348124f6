/* hex.h: the one hexadecimal codec (either case in, lowercase out). */
#ifndef AI_HEX_H
#define AI_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

/* The value of hex digit c, or -1 when c is not one. */
int ai_hex_value(unsigned char c);

/* Writes the 2*n lowercase hex digits of p[n] and a NUL into out. */
void ai_hex(const uint8_t *p, size_t n, char *out);

/* Decodes the slen hex digits at s into exactly n bytes at out;
 * AI_ERR_BAD_INPUT unless slen == 2*n and every character is a digit. */
ai_result ai_unhex(const char *s, size_t slen, uint8_t *out, size_t n) AI_MUST_CHECK;

#endif
