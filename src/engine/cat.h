/* cat.h: the engine behind `aiarchive cat`: the members the catalog
 * selects, each fetched alone (fetch.h) a few at a time, its rows
 * filtered, and printed in segment and member order once it checks out. */
#ifndef AI_CAT_H
#define AI_CAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "engine/catalog.h"
#include "util/result.h"
#include "store/store.h"

/* Members fetched at once, at most. */
#define AI_CAT_MAX_JOBS 8

struct ai_cat_params {
	struct ai_store *dest;
	const struct ai_catalog_filter *f;   /* the members, and which of their rows */
	const struct ai_catalog_opts *copts;
	unsigned jobs;            /* members fetched at once (1..; AI_CAT_MAX_JOBS at most) */
	FILE *out;                /* where the rows go */
	int dedupe;               /* print each record once (engine/dedupe.h) */
};

struct ai_cat_summary {
	size_t members;           /* members fetched (0 when the selection failed) */
	uint64_t bytes_read;      /* pack bytes read for them */
	uint64_t duplicates;      /* with dedupe: rows left out as printed before */
};

/* Prints the rows of every member that matches, as archived; a member
 * that fails its check is reported (logged) and none of it printed, and
 * the others go on. AI_ERR_VERIFY when some failed; any other failure
 * (logged) stops the printing. */
ai_result ai_cat(const struct ai_cat_params *p, struct ai_cat_summary *sum) AI_MUST_CHECK;

#endif
