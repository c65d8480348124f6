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
