/* segindex.h: a segment's index: what a query needs to decide whether to
 * read the segment at all. Written next to the segment after it, signed,
 * and bound to it by its digest; a segment without one is simply read. */
#ifndef AI_SEGINDEX_H
#define AI_SEGINDEX_H

#include <stddef.h>
#include <stdint.h>
#include "format/bloom.h"
#include "format/manifest.h"
#include "util/crypto.h"
#include "util/result.h"

#define AI_SEGINDEX_MAX_NAMES 4096
#define AI_SEGINDEX_MAX_BLOOM (16u << 20)

struct ai_segment_index {
	uint64_t seq;
	uint8_t segment_sha256[AI_SHA256_LEN]; /* of the segment's bytes */
	uint64_t members;
	char **apps;             /* distinct, ascending: every member's app and
	                          * the apps it carries (workspace export) */
	size_t napps;
	char **types;            /* likewise */
	size_t ntypes;
	char **roles;            /* distinct role names, ascending */
	size_t nroles;
	int roles_complete;      /* 0: some member may hold a role not listed */
	uint8_t *bloom;          /* every member's operation ids; none: any id */
	size_t bloom_len;
};

/* Caller-held; init before use, release frees everything inside. */
void ai_segment_index_init(struct ai_segment_index *x);
void ai_segment_index_release(struct ai_segment_index *x);
/* Builds the index of seg (whose bytes have digest sha256) with a copy
 * of bloom, a filter of the distinct operation ids of all its members
 * (made with ai_idset_filter and AI_SEGINDEX_MAX_BLOOM; none, length 0,
 * when they are not known). out need not be initialised; on failure it is
 * left empty. */
ai_result ai_segment_index_build(const struct ai_segment *seg,
                                 const uint8_t sha256[AI_SHA256_LEN], const uint8_t *bloom,
                                 size_t bloom_len, struct ai_segment_index *out) AI_MUST_CHECK;

#endif
