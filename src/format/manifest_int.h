/* manifest_int.h: what the parts of the manifest (manifest.c, state.c,
 * segindex.c and manifest_codec.c) share with each other and nobody else:
 * how they report bad input, copy and free what they own, and the checks
 * the decoder builds on. Only those files include it. */
#ifndef AI_MANIFEST_INT_H
#define AI_MANIFEST_INT_H

#include <stddef.h>
#include <stdint.h>
#include "format/manifest.h"
#include "format/state.h"
#include "util/parse.h"
#include "util/result.h"

/* manifest.c */

/* Writes the reason (printf-style) into why, cap bytes (why may be NULL),
 * and returns AI_ERR_BAD_INPUT. */
ai_result ai_manifest_bad(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* *out gets a malloc'd copy of p[0..n) (NULL when n is 0; the caller
 * frees it). */
ai_result ai_manifest_memdup(const void *p, size_t n, uint8_t **out) AI_MUST_CHECK;
/* Frees n strings and the array holding them. NULL-safe. */
void ai_manifest_strs_free(char **v, size_t n);

/* ai_segment_check without the bounds on strings, roles and Bloom filters,
 * for a segment whose decoder has enforced them already. */
ai_result ai_segment_check_values(const struct ai_segment *seg, char *why,
                                  size_t cap) AI_MUST_CHECK;

/* state.c */

/* The hour the state's indexes list t under: t rounded down to its hour,
 * kept two hours from either end of ai_time so hour arithmetic cannot
 * overflow. */
ai_time ai_state_hour(ai_time t);
/* The order of the state's parts: (app, type) against p's, in byte order;
 * app and type are not NULL. */
int ai_state_part_cmp(const char *app, const char *type, const struct ai_partition_state *p);

#endif
