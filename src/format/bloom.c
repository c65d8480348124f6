/* bloom.c: Bloom filters with double hashing over a 64-bit FNV-1a hash. */
#include <stdlib.h>
#include <string.h>
#include "format/bloom.h"

size_t ai_bloom_size_max(size_t n, size_t cap)
{
	size_t bytes = n > SIZE_MAX / 16 ? SIZE_MAX / 8 : (n * 10 + 7) / 8;

	if (bytes < AI_BLOOM_MIN_BYTES)
		return AI_BLOOM_MIN_BYTES;
	return bytes > cap ? cap : bytes;
}

size_t ai_bloom_size(size_t n)
{
	return ai_bloom_size_max(n, AI_BLOOM_CAP_BYTES);
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

/* ---- sets of id hashes ---- */

void ai_idset_init(struct ai_idset *s, size_t max)
{
	memset(s, 0, sizeof *s);
	s->max = max;
}

void ai_idset_release(struct ai_idset *s)
{
	free(s->v);
	ai_idset_init(s, s->max);
}

void ai_idset_clear(struct ai_idset *s)
{
	if (s->v)
		memset(s->v, 0, s->cap * sizeof *s->v);
	s->n = 0;
	s->has_zero = 0;
	s->overflow = 0;
}

static void place(uint64_t *v, size_t cap, uint64_t h)
{
	size_t i;

	for (i = h & (cap - 1); v[i]; i = (i + 1) & (cap - 1))
		;
	v[i] = h;
}

void ai_idset_add(struct ai_idset *s, uint64_t h)
{
	size_t i;

	if (s->overflow)
		return;
	if (h == 0) {
		s->has_zero = 1;
		return;
	}
	/* At most half full, so probing stays short. */
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *v;
		if (!(v = calloc(cap, sizeof *v))) {
			s->overflow = 1;
			return;
		}
		for (size_t k = 0; k < s->cap; k++)
			if (s->v[k])
				place(v, cap, s->v[k]);
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	for (i = h & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == h)
			return;
	if (s->n >= s->max) {
		s->overflow = 1;
		return;
	}
	s->v[i] = h;
	s->n++;
}

void ai_idset_merge(struct ai_idset *dst, const struct ai_idset *src)
{
	if (src->overflow)
		dst->overflow = 1;
	if (src->has_zero)
		ai_idset_add(dst, 0);
	for (size_t k = 0; k < src->cap && !dst->overflow; k++)
		if (src->v[k])
			ai_idset_add(dst, src->v[k]);
}

ai_result ai_idset_to_array(const struct ai_idset *s, uint64_t **out, size_t *n)
{
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!ai_idset_count(s))
		return AI_OK;
	*out = malloc(ai_idset_count(s) * sizeof **out);
	if (!*out)
		return AI_ERR_NOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->v[i])
			(*out)[k++] = s->v[i];
	if (s->has_zero)
		(*out)[k++] = 0;
	*n = k;
	return AI_OK;
}

size_t ai_idset_count(const struct ai_idset *s)
{
	return s->n + (size_t)s->has_zero;
}

ai_result ai_idset_filter(const struct ai_idset *s, size_t cap, uint8_t **filter, size_t *len)
{
	*filter = NULL;
	*len = 0;
	if (s->overflow)
		return AI_OK;
	*len = ai_bloom_size_max(ai_idset_count(s), cap);
	*filter = calloc(1, *len);
	if (!*filter) {
		*len = 0;
		return AI_ERR_NOMEM;
	}
	for (size_t k = 0; k < s->cap; k++)
		if (s->v[k])
			ai_bloom_add_hash(*filter, *len, s->v[k]);
	if (s->has_zero)
		ai_bloom_add_hash(*filter, *len, 0);
	return AI_OK;
}
