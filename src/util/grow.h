/* grow.h: arrays that carry no capacity field. Their capacity follows from
 * their length (none for 0, then the next power of two from 4), so a struct
 * holds just the pointer and the count, and whoever appends to it grows it
 * the same way. */
#ifndef AI_GROW_H
#define AI_GROW_H

#include <stddef.h>
#include "util/result.h"

/* Makes room for element n (the current length) of the array that arrp
 * points to (a T **, with size = sizeof(T)); reallocates only when n is at
 * its capacity. The array must be NULL or come from ai_grow or
 * ai_grow_calloc at its current length. On failure it is unchanged. */
ai_result ai_grow(void *arrp, size_t n, size_t size) AI_MUST_CHECK;
/* A zeroed array of n elements with the capacity for n (free() it); NULL
 * when n is 0 or on failure. */
void *ai_grow_calloc(size_t n, size_t size);

#endif
