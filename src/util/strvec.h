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

/* Appends a copy of s unless the vector holds it already (linear search,
 * for short lists). */
ai_result ai_strvec_push_new(struct ai_strvec *sv, const char *s) AI_MUST_CHECK;

/* Whether the vector holds s, compared case-insensitively (ASCII). */
int ai_strvec_has_nocase(const struct ai_strvec *sv, const char *s);

/* Levenshtein distance between a and b, ASCII letters compared without
 * case; strings longer than 255 bytes count as far from everything. */
size_t ai_edit_distance(const char *a, const char *b);

/* The strings of sv nearest to s by ai_edit_distance (all at the least
 * distance, in the vector's order), at most max of them, into out.
 * Returns how many; 0 for an empty vector. */
size_t ai_strvec_nearest(const struct ai_strvec *sv, const char *s, const char **out,
                         size_t max);

/* Frees every string and the array; the vector is empty and reusable. */
void ai_strvec_release(struct ai_strvec *sv);

#endif
