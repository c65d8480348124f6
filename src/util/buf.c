/* buf.c: capped growable buffer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/buf.h"

void ai_buf_init(struct ai_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void ai_buf_release(struct ai_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

void ai_buf_reset(struct ai_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

ai_result ai_buf_reserve(struct ai_buf *b, size_t n)
{
	size_t need, want;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return AI_ERR_TOO_BIG;
	need = b->len + n + 1;
	if (need <= b->alloc)
		return AI_OK;
	want = b->alloc ? b->alloc : 64;
	while (want < need)
		want = want > SIZE_MAX / 2 ? need : want * 2;
	if (b->max < SIZE_MAX && want > b->max + 1)
		want = b->max + 1;
	p = realloc(b->data, want);
	if (!p)
		return AI_ERR_NOMEM;
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->alloc = want;
	return AI_OK;
}

ai_result ai_buf_add(struct ai_buf *b, const void *p, size_t n)
{
	ai_result r = ai_buf_reserve(b, n);

	if (r != AI_OK)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return AI_OK;
}

ai_result ai_buf_addstr(struct ai_buf *b, const char *s)
{
	return ai_buf_add(b, s, strlen(s));
}

ai_result ai_buf_addc(struct ai_buf *b, char c)
{
	return ai_buf_add(b, &c, 1);
}

ai_result ai_buf_vprintf(struct ai_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	ai_result r;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return AI_ERR_INTERNAL;
	r = ai_buf_reserve(b, (size_t)n);
	if (r != AI_OK)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return AI_OK;
}

ai_result ai_buf_printf(struct ai_buf *b, const char *fmt, ...)
{
	va_list ap;
	ai_result r;

	va_start(ap, fmt);
	r = ai_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void ai_buf_consume(struct ai_buf *b, size_t n)
{
	if (n >= b->len) {
		ai_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *ai_buf_detach(struct ai_buf *b, size_t *len)
{
	char *p;

	if (!b->data && ai_buf_reserve(b, 0) != AI_OK)
		return NULL;
	p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->alloc = 0;
	return p;
}

const char *ai_buf_str(const struct ai_buf *b)
{
	return b->data ? b->data : "";
}
