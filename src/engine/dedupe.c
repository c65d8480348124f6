/* dedupe.c: an open-addressing hash set of 16-byte record digests. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "engine/dedupe.h"
#include "util/crypto.h"

#define FIRST_SLOTS 4096

/* Slots read at once from the file table (1 KiB): at three quarters full
 * a probe rarely runs past them. */
#define FILE_BLOCK 64

void ai_dedupe_init(struct ai_dedupe *d)
{
	memset(d, 0, sizeof *d);
	d->mem_slots = AI_DEDUPE_MEM_SLOTS;
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
	if (d->file)
		fclose(d->file);
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

/* Reads (write 0) or writes n bytes at off of f, whole. */
static ai_result file_io(FILE *f, void *buf, size_t n, uint64_t off, int write)
{
	char *p = buf;

	while (n) {
		ssize_t k = write ? pwrite(fileno(f), p, n, (off_t)off) : pread(fileno(f), p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return AI_ERR_IO;
		p += k;
		off += (uint64_t)k;
		n -= (size_t)k;
	}
	return AI_OK;
}

/* The file table's probe: finds dig, or writes it into the empty slot
 * where it goes (*fresh 1). Blocks of FILE_BLOCK slots are read in turn
 * from the one holding the digest's home slot. */
static ai_result file_add(FILE *f, uint64_t nslots, const uint8_t *dig, int *fresh)
{
	uint8_t block[FILE_BLOCK][16];
	uint64_t h, i;
	ai_result r;

	*fresh = 0;
	memcpy(&h, dig, sizeof h);
	i = h & (nslots - 1);
	for (;;) {
		uint64_t first = i - i % FILE_BLOCK;
		if ((r = file_io(f, block, sizeof block, first * 16, 0)) != AI_OK)
			return r;
		for (uint64_t k = i - first; k < FILE_BLOCK; k++) {
			if (memcmp(block[k], dig, 16) == 0)
				return AI_OK;
			if (is_empty(block[k])) {
				*fresh = 1;
				memcpy(block[k], dig, 16);
				return file_io(f, block[k], 16, (first + k) * 16, 1);
			}
		}
		i = (first + FILE_BLOCK) & (nslots - 1);
	}
}

/* A new file table of nslots, all empty: a sparse file of zeros. */
static ai_result file_table(uint64_t nslots, FILE **out)
{
	FILE *f = tmpfile();

	if (!f)
		return AI_ERR_IO;
	if (ftruncate(fileno(f), (off_t)(nslots * 16)) != 0) {
		fclose(f);
		return AI_ERR_IO;
	}
	*out = f;
	return AI_OK;
}

/* Into a file table twice the size: from the memory table, or from the
 * smaller file table read in large chunks. */
static ai_result grow_to_file(struct ai_dedupe *d)
{
	uint8_t (*chunk)[16] = malloc(4096 * sizeof *chunk);
	uint64_t nslots = d->nslots ? 2 * d->nslots : FIRST_SLOTS;
	FILE *f = NULL;
	int fresh;
	ai_result r = chunk ? file_table(nslots, &f) : AI_ERR_NOMEM;

	for (uint64_t i = 0; r == AI_OK && d->slot && i < d->nslots; i++)
		if (!is_empty(d->slot[i]))
			r = file_add(f, nslots, d->slot[i], &fresh);
	for (uint64_t at = 0; r == AI_OK && d->file && at < d->nslots; at += 4096) {
		r = file_io(d->file, chunk, 4096 * sizeof *chunk, at * 16, 0);
		for (size_t k = 0; r == AI_OK && k < 4096; k++)
			if (!is_empty(chunk[k]))
				r = file_add(f, nslots, chunk[k], &fresh);
	}
	free(chunk);
	if (r != AI_OK) {
		if (f)
			fclose(f);
		return r;
	}
	unmap_slots(d);
	d->slot = NULL;
	if (d->file)
		fclose(d->file);
	d->file = f;
	d->nslots = nslots;
	return AI_OK;
}

static ai_result grow(struct ai_dedupe *d)
{
	struct ai_dedupe bigger = { 0 };

	bigger.nslots = d->nslots ? 2 * d->nslots : FIRST_SLOTS;
	if (d->file || bigger.nslots > d->mem_slots)
		return grow_to_file(d);
	bigger.mem_slots = d->mem_slots;
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
	if (d->file) {
		r = file_add(d->file, d->nslots, dig, fresh);
		d->n += (uint64_t)*fresh;
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
