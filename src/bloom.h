/* bloom.h: Bloom filters of operation ids, one per archived member, so a
 * lookup by operation id skips members that cannot hold it. About 10 bits
 * per id and 7 probes give under 1% false positives. */
#ifndef AI_BLOOM_H
#define AI_BLOOM_H

#include <stddef.h>
#include <stdint.h>

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

#endif
