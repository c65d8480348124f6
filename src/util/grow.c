/* grow.c: arrays whose capacity follows from their length. */
#include <stdint.h>
#include <stdlib.h>
#include "util/grow.h"

static size_t cap_for(size_t n)
{
	size_t c = 4;

	if (n == 0)
		return 0;
	while (c < n)
		c *= 2;
	return c;
}

ai_result ai_grow(void *arrp, size_t n, size_t size)
{
	void **arr = arrp;
	size_t c;
	void *p;

	if (n != 0 && (n < 4 || (n & (n - 1))))
		return AI_OK;
	c = cap_for(n + 1);
	if (c > SIZE_MAX / size)
		return AI_ERR_NOMEM;
	p = realloc(*arr, c * size);
	if (!p)
		return AI_ERR_NOMEM;
	*arr = p;
	return AI_OK;
}

void *ai_grow_calloc(size_t n, size_t size)
{
	return n ? calloc(cap_for(n), size) : NULL;
}
