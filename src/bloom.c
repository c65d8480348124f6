/* bloom.c: Bloom filters with double hashing over a 64-bit FNV-1a hash. */
#include "bloom.h"

size_t ai_bloom_size(size_t n)
{
	size_t bytes = (n * 10 + 7) / 8;

	if (bytes < AI_BLOOM_MIN_BYTES)
		return AI_BLOOM_MIN_BYTES;
	return bytes > AI_BLOOM_CAP_BYTES ? AI_BLOOM_CAP_BYTES : bytes;
}

/* FNV-1a, then a splitmix64 finalizer so both halves are well mixed. */
static uint64_t hash64(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

uint64_t ai_bloom_hash(const char *id, size_t idlen)
{
	return hash64(id, idlen);
}

void ai_bloom_add(uint8_t *filter, size_t len, const char *id, size_t idlen)
{
	ai_bloom_add_hash(filter, len, hash64(id, idlen));
}

void ai_bloom_add_hash(uint8_t *filter, size_t len, uint64_t h)
{
	uint64_t bits = (uint64_t)len * 8;
	uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;

	if (!len)
		return;
	for (unsigned i = 0; i < AI_BLOOM_PROBES; i++) {
		uint64_t bit = ((uint64_t)h1 + (uint64_t)i * h2) % bits;
		filter[bit / 8] |= (uint8_t)(1u << (bit % 8));
	}
}

int ai_bloom_maybe(const uint8_t *filter, size_t len, const char *id, size_t idlen)
{
	uint64_t h = hash64(id, idlen), bits = (uint64_t)len * 8;
	uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;

	if (!len)
		return 1;
	for (unsigned i = 0; i < AI_BLOOM_PROBES; i++) {
		uint64_t bit = ((uint64_t)h1 + (uint64_t)i * h2) % bits;
		if (!(filter[bit / 8] & (1u << (bit % 8))))
			return 0;
	}
	return 1;
}
