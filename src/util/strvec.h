/* strvec.h: a growable vector of owned strings (like git's strvec). */
#ifndef AI_STRVEC_H
#define AI_STRVEC_H

#include <stddef.h>

#include "util/result.h"

struct ai_strvec {
	char **v; /* n strings, each owned by the vector */
	size_t n;
	size_t cap;
};

#define AI_STRVEC_INIT { NULL, 0, 0 }

/* Appends a copy of s. */
ai_result ai_strvec_push(struct ai_strvec *sv, const char *s) AI_MUST_CHECK;

/* Appends a copy of the n bytes at s, NUL-terminated. */
ai_result ai_strvec_pushn(struct ai_strvec *sv, const char *s, size_t n) AI_MUST_CHECK;

/* Sorts the strings bytewise (strcmp order). */
void ai_strvec_sort(struct ai_strvec *sv);

/* After ai_strvec_sort: whether s is in the vector (binary search). */
int ai_strvec_has_sorted(const struct ai_strvec *sv, const char *s);

/* Frees every string and the array; the vector is empty and reusable. */
void ai_strvec_release(struct ai_strvec *sv);

#endif
