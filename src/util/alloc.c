/* alloc.c: array growth by doubling, with overflow checks. */
#include <stdint.h>
#include <stdlib.h>

#include "util/alloc.h"

ai_result ai_grow(void *arrp, size_t *cap, size_t n, size_t size)
{
	void **arr = arrp;
	size_t want = *cap ? *cap : 16;
	void *p;

	if (n <= *cap)
		return AI_OK;
	while (want < n) {
		if (want > SIZE_MAX / 2)
			return AI_ERR_NOMEM;
		want *= 2;
	}
	if (want > SIZE_MAX / size)
		return AI_ERR_NOMEM;
	p = realloc(*arr, want * size);
	if (!p)
		return AI_ERR_NOMEM;
	*arr = p;
	*cap = want;
	return AI_OK;
}

/* The capacity of an uncounted array of n elements: what ai_grow reaches. */
static size_t uncounted_cap(size_t n)
{
	size_t c = 16;

	if (n == 0)
		return 0;
	while (c < n && c <= SIZE_MAX / 2)
		c *= 2;
	return c;
}

ai_result ai_grow_uncounted(void *arrp, size_t n, size_t size)
{
	size_t cap = uncounted_cap(n);

	return ai_grow(arrp, &cap, n + 1, size);
}

void *ai_calloc_uncounted(size_t n, size_t size)
{
	return n ? calloc(uncounted_cap(n), size) : NULL;
}
