/* bloom.h: Bloom filters of operation ids, one per archived member, so a
 * lookup by operation id skips members that cannot hold it. About 10 bits
 * per id and 7 probes give under 1% false positives. */
#ifndef AI_BLOOM_H
#define AI_BLOOM_H

#include <stddef.h>
#include <stdint.h>
#include "util/result.h"

#define AI_BLOOM_PROBES 7
#define AI_BLOOM_MIN_BYTES 8
#define AI_BLOOM_CAP_BYTES 4096

/* Bytes of filter for n distinct ids (8..4096). */
size_t ai_bloom_size(size_t n);
/* The 64-bit hash the filter uses for id, for callers that collect
 * distinct ids as hashes before sizing a filter. */
uint64_t ai_bloom_hash(const char *id, size_t idlen);
/* Sets the bits for a hash from ai_bloom_hash. */
void ai_bloom_add_hash(uint8_t *filter, size_t len, uint64_t h);
/* Sets the bits for id in filter (len bytes). */
void ai_bloom_add(uint8_t *filter, size_t len, const char *id, size_t idlen);
/* 1 when id may be in the filter, 0 when it is surely not. An empty
 * filter (len 0) may hold anything. */
int ai_bloom_maybe(const uint8_t *filter, size_t len, const char *id, size_t idlen);

/* A set of distinct id hashes (from ai_bloom_hash), collected before a
 * filter is sized. Past max entries it gives up: overflow is set and the
 * set stands for "any id" (no filter). */
struct ai_idset {
	uint64_t *v;             /* open addressing, 0 = empty slot */
	size_t n, cap, max;
	int has_zero;            /* the hash 0 (the empty mark) is in the set */
	int overflow;
};

void ai_idset_init(struct ai_idset *s, size_t max);
void ai_idset_release(struct ai_idset *s);
/* Empties the set, keeping its memory. */
void ai_idset_clear(struct ai_idset *s);
void ai_idset_add(struct ai_idset *s, uint64_t h);
/* Adds every hash of src (and its overflow). */
void ai_idset_merge(struct ai_idset *dst, const struct ai_idset *src);
/* The hashes held, as a malloc'd array (*out NULL when empty). */
ai_result ai_idset_to_array(const struct ai_idset *s, uint64_t **out, size_t *n) AI_MUST_CHECK;
/* Distinct hashes held. */
size_t ai_idset_count(const struct ai_idset *s);
/* A filter holding the set: *len bytes of ai_bloom_size_max(count, cap)
 * in *filter (malloc'd), or none (*filter NULL, *len 0: "any id") after an
 * overflow. */
ai_result ai_idset_filter(const struct ai_idset *s, size_t cap, uint8_t **filter, size_t *len) AI_MUST_CHECK;

/* Like ai_bloom_size with another cap. */
size_t ai_bloom_size_max(size_t n, size_t cap);

#endif
