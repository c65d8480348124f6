/* buf.h: a growable byte buffer with a hard size cap (like curl's dynbuf).
 * Appends fail with AI_ERR_TOO_BIG instead of growing past the cap, so one
 * hostile input fails that input, not the run. The data is always
 * NUL-terminated (the NUL is not counted in len). */
#ifndef AI_BUF_H
#define AI_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include "util/result.h"

struct ai_buf {
	char *data;   /* NULL until the first append */
	size_t len;
	size_t alloc;
	size_t max;   /* cap on len */
};

/* Prepares b (caller-owned) with an empty content and a cap of max bytes. */
void ai_buf_init(struct ai_buf *b, size_t max);
/* Frees the memory b holds; b can be reused after ai_buf_init. NULL-safe. */
void ai_buf_release(struct ai_buf *b);
/* Empties b but keeps its memory. */
void ai_buf_reset(struct ai_buf *b);
/* Appends n bytes. */
ai_result ai_buf_add(struct ai_buf *b, const void *p, size_t n) AI_MUST_CHECK;
ai_result ai_buf_addstr(struct ai_buf *b, const char *s) AI_MUST_CHECK;
ai_result ai_buf_addc(struct ai_buf *b, char c) AI_MUST_CHECK;
ai_result ai_buf_printf(struct ai_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) AI_MUST_CHECK;
ai_result ai_buf_vprintf(struct ai_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0))) AI_MUST_CHECK;
/* Makes room for n more bytes without changing len. */
ai_result ai_buf_reserve(struct ai_buf *b, size_t n) AI_MUST_CHECK;
/* Drops the first n bytes (n <= len). */
void ai_buf_consume(struct ai_buf *b, size_t n);
/* Hands the data to the caller (free() it; never NULL on success) and
 * leaves b empty. */
char *ai_buf_detach(struct ai_buf *b, size_t *len);
/* Returns the content, "" when empty; valid until the next change. */
const char *ai_buf_str(const struct ai_buf *b);

#endif
