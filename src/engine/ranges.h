/* ranges.h: the archived ranges of source blobs that `verify --source`
 * checks the source listing against, sorted by blob and start.
 *
 * Up to run_max ranges are held in memory. Past that they are written to
 * a temporary file in sorted runs of run_max, merged once into one sorted
 * file, and read back a block at a time, with the first range of each
 * block kept in memory to find the block (ARCHITECTURE.md §6.3): a window
 * of any size costs a few MiB of memory and about one read per listed
 * blob. */
#ifndef AI_RANGES_H
#define AI_RANGES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "util/result.h"

/* One archived range: the blob known by 96 bits of the SHA-256 of its
 * name, the ETag of the version archived by 32 (0: none recorded). */
struct ai_range {
	uint64_t name_hi;
	uint32_t name_lo;
	uint32_t etag;
	uint64_t start, end;
};

/* Ranges per block read back from the sorted file (8 KiB). */
#define AI_RANGES_BLOCK 256
/* The default run_max: 4 MiB of ranges in memory. */
#define AI_RANGES_RUN_MAX ((size_t)1 << 17)

struct ai_ranges {
	size_t run_max;              /* ranges held in memory; set before the
	                              * first add to change it (tests) */
	struct ai_range *mem;        /* the run being gathered, or all of them
	                              * when none was written */
	size_t nmem, capmem;
	FILE *runs;                  /* the sorted runs written so far */
	size_t nruns;
	FILE *sorted;                /* once finished with runs: all, merged */
	uint64_t n;                  /* ranges in all */
	struct ai_range *firsts;     /* the first range of each block of sorted */
	size_t nfirsts;
	struct ai_range block[AI_RANGES_BLOCK];
	uint64_t block_no;           /* the block in block[]; UINT64_MAX: none */
	int finished;
};

void ai_ranges_init(struct ai_ranges *s);
void ai_ranges_release(struct ai_ranges *s);

/* Order by blob, then start. */
int ai_range_cmp(const void *a, const void *b);
int ai_range_same_blob(const struct ai_range *x, const struct ai_range *y);

/* Adds one range; AI_ERR_IO when a run cannot be written to the
 * temporary file. */
ai_result ai_ranges_add(struct ai_ranges *s, const struct ai_range *a) AI_MUST_CHECK;
/* Sorts what was added (and merges the runs); nothing is added after. */
ai_result ai_ranges_finish(struct ai_ranges *s) AI_MUST_CHECK;

/* After finish: the number of ranges, the index of the first one not
 * ordered before key, and range i (i < the number; valid until the next
 * call). */
uint64_t ai_ranges_count(const struct ai_ranges *s);
ai_result ai_ranges_lower_bound(struct ai_ranges *s, const struct ai_range *key,
                                uint64_t *at) AI_MUST_CHECK;
ai_result ai_ranges_get(struct ai_ranges *s, uint64_t i, const struct ai_range **out) AI_MUST_CHECK;

#endif
