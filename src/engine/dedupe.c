/* dedupe.c: an open-addressing hash set of 16-byte record digests. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "engine/dedupe.h"
#include "util/crypto.h"

#define FIRST_SLOTS 4096

void ai_dedupe_init(struct ai_dedupe *d)
{
	memset(d, 0, sizeof *d);
}

/* The table is mapped, not taken from the heap: the one it replaces as it
 * grows goes back to the kernel at once (the heap would keep it, and a
 * million records would cost 48 MiB, not 32). */
static void unmap_slots(struct ai_dedupe *d)
{
	if (d->slot)
		munmap(d->slot, d->nslots * sizeof *d->slot);
}

void ai_dedupe_release(struct ai_dedupe *d)
{
	unmap_slots(d);
	ai_dedupe_init(d);
}

void ai_dedupe_key(const char *row, size_t len, enum ai_row_schema schema, const char **key,
                   size_t *keylen, char *kind, struct ai_row_facts *f)
{
	ai_row_scan(row, len, schema, f);
	if (f->valid && f->item_id[0]) {
		*key = f->item_id;
		*kind = 'i';
	} else if (f->valid && f->id[0]) {
		*key = f->id;
		*kind = 'd';
	} else {
		*key = row;
		*keylen = len;
		*kind = 'l';
		return;
	}
	*keylen = strlen(*key);
}

static int is_empty(const uint8_t *s)
{
	static const uint8_t zero[16];

	return memcmp(s, zero, 16) == 0;
}

/* Finds the digest's slot: its own, or the empty one where it goes. */
static uint8_t *probe(const struct ai_dedupe *d, const uint8_t *dig)
{
	uint64_t h;

	memcpy(&h, dig, sizeof h);
	for (uint64_t i = h & (d->nslots - 1);; i = (i + 1) & (d->nslots - 1))
		if (is_empty(d->slot[i]) || memcmp(d->slot[i], dig, 16) == 0)
			return d->slot[i];
}

static ai_result grow(struct ai_dedupe *d)
{
	struct ai_dedupe bigger = { 0 };

	bigger.nslots = d->nslots ? 2 * d->nslots : FIRST_SLOTS;
	bigger.slot = mmap(NULL, bigger.nslots * sizeof *bigger.slot, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bigger.slot == MAP_FAILED)
		return AI_ERR_NOMEM;
	for (uint64_t i = 0; i < d->nslots; i++)
		if (!is_empty(d->slot[i]))
			memcpy(probe(&bigger, d->slot[i]), d->slot[i], 16);
	bigger.n = d->n;
	unmap_slots(d);
	*d = bigger;
	return AI_OK;
}

ai_result ai_dedupe_add(struct ai_dedupe *d, const char *row, size_t len,
                        enum ai_row_schema schema, int *fresh)
{
	struct ai_row_facts f;
	uint8_t dig[AI_SHA256_LEN], *s;
	const char *key;
	size_t keylen = 0;
	char kind, small[512], *tmp;
	ai_result r;

	*fresh = 0;
	ai_dedupe_key(row, len, schema, &key, &keylen, &kind, &f);
	/* The kind goes into the digest: an id never equals a whole line. */
	tmp = keylen < sizeof small ? small : malloc(keylen + 1);
	if (!tmp)
		return AI_ERR_NOMEM;
	tmp[0] = kind;
	memcpy(tmp + 1, key, keylen);
	r = ai_sha256(tmp, keylen + 1, dig);
	if (tmp != small)
		free(tmp);
	if (r != AI_OK)
		return r;
	dig[15] |= 1; /* never the empty slot's all zeros */
	/* At most three quarters full: a million records in 32 MiB. */
	if (4 * (d->n + 1) > 3 * d->nslots) {
		if (d->n >= AI_DEDUPE_MAX)
			return AI_ERR_TOO_BIG;
		if ((r = grow(d)) != AI_OK)
			return r;
	}
	s = probe(d, dig);
	if (!is_empty(s))
		return AI_OK;
	memcpy(s, dig, 16);
	d->n++;
	*fresh = 1;
	return AI_OK;
}
