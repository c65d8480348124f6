/* gc.h: garbage collection behind `aiarchive gc`: the packs under data/
 * that no committed segment names (left by runs that stopped before their
 * segment, ARCHITECTURE.md), removed once they are old enough, and what
 * stopped writers left in the store's own space. Nothing is removed
 * unless the whole chain reads and checks out. */
#ifndef AI_GC_H
#define AI_GC_H

#include <stddef.h>
#include <stdint.h>
#include "engine/lock.h"
#include "util/parse.h"
#include "util/result.h"
#include "store/store.h"
#include "util/strvec.h"

#define AI_GC_DATA_PREFIX "data/"

struct ai_trust;
struct ai_witnesses;

struct ai_gc_params {
	struct ai_store *dest;
	ai_time cutoff;           /* objects changed after it are young, and kept */
	int dry_run;              /* only find what would be removed */
	struct ai_lock *lock; /* held while removing (NULL in a dry run) */
	struct ai_trust *trust;   /* every manifest object must verify with it */
	struct ai_witnesses *witness; /* the chain must contain what they saw; NULL: none */
};

/* One object gc removes (or would). */
struct ai_gc_victim {
	char *name;
	uint64_t size;
	ai_time last_modified;
	int removed;              /* deleted (or gone already) */
};

/* What gc found and did. Caller-held; strings owned by it. */
struct ai_gc_report {
	struct ai_strvec packs;   /* every segment's pack names, sorted */
	struct ai_gc_victim *victims;
	size_t nvictims, cap;
	uint64_t segments;
	uint64_t objects;         /* everything under data/ */
	uint64_t young;           /* unreferenced, kept for their age */
	uint64_t victim_bytes;
	uint64_t removed, removed_bytes, failed;
	struct ai_store_cleanup tmp;
};

void ai_gc_report_init(struct ai_gc_report *rep);
void ai_gc_report_release(struct ai_gc_report *rep);

/* Reads the chain, lists data/ and removes (with dry_run, only lists) the
 * unreferenced objects changed before the cutoff. AI_OK when it ran to the
 * end, with what could not be removed counted in rep (failed, tmp.failed);
 * AI_ERR_VERIFY when the archive is not one gc can trust (logged, nothing
 * removed); else the failure that stopped it (logged). */
ai_result ai_gc(const struct ai_gc_params *p, struct ai_gc_report *rep) AI_MUST_CHECK;

#endif
