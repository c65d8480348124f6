/* alloc.h: the one growth helper for arrays (like git's ALLOC_GROW): a
 * length, a capacity, and doubling when the next element does not fit. */
#ifndef AI_ALLOC_H
#define AI_ALLOC_H

#include <stddef.h>

#include "util/result.h"

/* Makes room for at least n elements of size bytes in *arrp (a T**),
 * whose capacity is *cap; on success *cap >= n. Doubles from 16. The
 * array is unchanged on failure (AI_ERR_NOMEM, or overflow). */
ai_result ai_grow(void *arrp, size_t *cap, size_t n, size_t size) AI_MUST_CHECK;

/* ai_grow for a typed array: AI_GROW(v, n + 1, cap) makes room for v[n]. */
#define AI_GROW(arr, n, cap) ai_grow(&(arr), &(cap), (n), sizeof *(arr))

/* Arrays that carry no capacity field: their capacity follows from their
 * length (none for 0, else the power of two from 16 at or above it), so a
 * struct holds just the pointer and the count. ai_grow_uncounted makes room
 * for element n (the current length) of *arrp (a T**); the array must be
 * NULL or come from these two at its current length. */
ai_result ai_grow_uncounted(void *arrp, size_t n, size_t size) AI_MUST_CHECK;
/* A zeroed array of n elements with the capacity for n (free() it); NULL
 * when n is 0 or on failure. */
void *ai_calloc_uncounted(size_t n, size_t size);

#endif
