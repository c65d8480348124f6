/* cat.h: the engine behind `aiarchive cat`: the members the catalog
 * selects, each fetched alone (fetch.h) a few at a time, its rows
 * filtered, and printed in segment and member order once it checks out;
 * or merged in event-time order; as JSON Lines, CSV or the bytes as
 * archived. */
#ifndef AI_CAT_H
#define AI_CAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "engine/catalog.h"
#include "format/rowscan.h"
#include "util/result.h"
#include "store/store.h"

/* Members fetched at once, at most. */
#define AI_CAT_MAX_JOBS 8
/* --sort time: rows held in memory at once, at most (those of the members
 * whose event-time spans overlap the point the merge has reached). */
#define AI_CAT_SORT_MEM (512u << 20)

struct ai_progress;
struct ai_cat_params {
	struct ai_store *dest;
	const struct ai_catalog_filter *f;   /* the members, and which of their rows */
	const struct ai_catalog_opts *copts;
	unsigned jobs;            /* members fetched at once (1..; AI_CAT_MAX_JOBS at most) */
	FILE *out;                /* where the rows go */
	int dedupe;               /* print each record once (engine/dedupe.h) */
	size_t dedupe_mem_slots;  /* its slots in memory; 0: AI_DEDUPE_MEM_SLOTS */
	int raw;                  /* the members' bytes exactly as archived */
	int sort_time;            /* rows merged in event-time order */
	/* CSV: a header line of field_names, then one record a row of the
	 * values at fields; JSON Lines when nfields is 0. */
	const struct ai_row_path *fields;
	char *const *field_names;
	size_t nfields;
	struct ai_progress *progress; /* members printed, pack bytes; NULL: none */
};

struct ai_cat_summary {
	size_t members;           /* members fetched (0 when the selection failed) */
	uint64_t bytes_read;      /* pack bytes read for them */
	uint64_t duplicates;      /* with dedupe: rows left out as printed before */
	uint64_t malformed;       /* rows left out: not one JSON object */
	uint64_t malformed_members;
};

/* Prints the rows of every member that matches: each valid JSON row
 * (malformed ones left out, counted and reported with their pack, member
 * and line), or with raw the members' bytes as archived; a member that
 * fails its check is reported (logged) and none of it printed, and the
 * others go on. AI_ERR_VERIFY when some failed; any other failure
 * (logged) stops the printing. */
ai_result ai_cat(const struct ai_cat_params *p, struct ai_cat_summary *sum) AI_MUST_CHECK;

#endif
