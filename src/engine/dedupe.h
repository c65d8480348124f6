/* dedupe.h: the set of records `cat --dedupe` has printed. A record is
 * known by its _ItemId, else its Id, else its whole line; the set keeps a
 * 16-byte digest of that key per record (ARCHITECTURE.md §4). */
#ifndef AI_DEDUPE_H
#define AI_DEDUPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "format/rowscan.h"
#include "util/result.h"

/* At most this many distinct records: 2^32 slots of 16 bytes, 64 GiB of
 * temporary file. */
#define AI_DEDUPE_MAX (UINT64_C(3) << 30)
/* Slots held in memory (16 MiB, 786,432 records); past them the table
 * moves into a temporary file read and written a block at a time, so
 * that it lives in the page cache, not in the process. */
#define AI_DEDUPE_MEM_SLOTS (UINT64_C(1) << 20)

struct ai_dedupe {
	uint8_t (*slot)[16];         /* the table in memory, or NULL */
	FILE *file;                  /* or the table in a temporary file */
	uint64_t nslots, n;
	uint64_t mem_slots;          /* the bound; set before the first add to
	                              * change it (tests) */
};

void ai_dedupe_init(struct ai_dedupe *d);
void ai_dedupe_release(struct ai_dedupe *d);

/* The key of one row (without its line terminator) for the schema: its
 * item id, its id, or the row itself; *kind says which ('i', 'd', 'l'). */
void ai_dedupe_key(const char *row, size_t len, enum ai_row_schema schema, const char **key,
                   size_t *keylen, char *kind, struct ai_row_facts *facts);

/* Adds the row's record; *fresh is 1 when it was not in the set yet.
 * AI_ERR_TOO_BIG past AI_DEDUPE_MAX distinct records, AI_ERR_IO when the
 * temporary file cannot be made, read or written (errno says why). */
ai_result ai_dedupe_add(struct ai_dedupe *d, const char *row, size_t len,
                        enum ai_row_schema schema, int *fresh) AI_MUST_CHECK;

#endif
