/* base64.h: RFC 4648 base64 (standard alphabet, padded). */
#ifndef AI_BASE64_H
#define AI_BASE64_H

#include <stddef.h>
#include <stdint.h>
#include "util/result.h"

/* Output size for n input bytes, including the terminating NUL. */
#define AI_BASE64_ENCLEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Encodes n bytes into out (AI_BASE64_ENCLEN(n) bytes), NUL-terminated. */
void ai_base64_encode(const void *p, size_t n, char *out);
/* Decodes slen chars of padded base64 into out (room for cap bytes); sets
 * *outlen. Whitespace and bad characters are errors. */
ai_result ai_base64_decode(const char *s, size_t slen, uint8_t *out, size_t cap,
                           size_t *outlen) AI_MUST_CHECK;

/* Encodes n bytes as unpadded base64url (RFC 4648 §5, as JWTs use) into
 * out (AI_BASE64_ENCLEN(n) bytes), NUL-terminated. */
void ai_base64url_encode(const void *p, size_t n, char *out);

#endif
