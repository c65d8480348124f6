/* catalog.h: selecting archived members by filter, for query and cat:
 * which manifest segments can hold a match (the state's event-hour index),
 * which members of them match, checked against their signatures, and a
 * local cache of segments so repeated queries against a remote archive
 * read little. */
#ifndef AI_CATALOG_H
#define AI_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include "format/manifest.h"
#include "util/result.h"
#include "format/segindex.h"
#include "format/state.h"
#include "store/store.h"

/* What the analyst asked for. Lists are borrowed; an empty list matches
 * everything. Event times are [from, to); a member matches when its
 * [min_event, max_event] overlaps that window. */
struct ai_catalog_filter {
	int has_from, has_to;
	ai_time from, to;
	char *const *apps;
	size_t napps;
	char *const *types;
	size_t ntypes;
	char *const *roles;          /* member roles (cloud role names) */
	size_t nroles;
	char *const *op_ids;         /* operation ids, through the Bloom filters */
	size_t nop_ids;
	char *const *tags;           /* the run's tags, recorded per segment */
	size_t ntags;
	const char *blob;            /* NULL, or the one source blob name */
	const char *blob_prefix;     /* NULL, or what the source blob name starts with */
};

struct ai_trust;
struct ai_catalog_opts {
	int use_cache;               /* read and fill the segment cache */
	const char *cache_dir;       /* the cache root; NULL: ai_catalog_cache_root */
	struct ai_trust *trust;      /* keys to check signatures with; NULL: the
	                              * ones the archive publishes, no pin */
	int verify_first;            /* check every selected segment before the
	                              * first callback (twice the reads) */
};

struct ai_catalog_stats {
	uint64_t segments;           /* in the archive */
	uint64_t selected;           /* that the index says can hold a match */
	uint64_t from_cache;         /* of those, loaded from the cache */
	uint64_t ruled_out;          /* of those, not read: their index shows no match */
	uint64_t members_seen;
	uint64_t members_matched;
};

/* Called for each matching member, in segment order then member order.
 * pack is the member's pack in seg. A result other than AI_OK stops the
 * selection with it. */
typedef ai_result (*ai_catalog_cb)(void *ctx, const struct ai_segment *seg,
                                   const struct ai_member *m, const struct ai_pack_ref *pack);

/* Opens the archive in dest, loads only the segments that can hold a
 * match (from the cache when it verifies) and calls cb for each member
 * that matches f. Nothing unsigned is used: the state's signature, and
 * each segment's (or, for the head, the state's record of its digest),
 * must verify with opts' trust, else AI_ERR_VERIFY (logged, naming the
 * object) before any member of that segment is passed on. An archive
 * with no manifest at all is AI_ERR_CONFIG (logged). stats may be NULL. */
ai_result ai_catalog_select(struct ai_store *dest, const struct ai_catalog_filter *f,
                            const struct ai_catalog_opts *opts, ai_catalog_cb cb, void *ctx,
                            struct ai_catalog_stats *stats) AI_MUST_CHECK;

struct ai_options;
/* Fills f from the command's options (f borrows their lists). */
void ai_catalog_filter_from_options(struct ai_catalog_filter *f, const struct ai_options *o);
struct ai_trust;
/* Fills c from the command's options for reading dest with trust. */
void ai_catalog_opts_from_options(struct ai_catalog_opts *c, const struct ai_options *o,
                                  const struct ai_store *dest, struct ai_trust *trust);

/* The selection rules, exposed for tests. */

/* Segment numbers that can hold a member matching f's time window:
 * through the event-hour index (wide segments included) with a window,
 * every segment without one. *seqs is malloc'd (NULL when *n is 0). */
ai_result ai_catalog_segments(const struct ai_state *st, const struct ai_catalog_filter *f,
                              uint64_t **seqs, size_t *n) AI_MUST_CHECK;
/* 1 when f asks something a segment's index answers (apps, types, roles,
 * operation ids), so reading the small index first can save reading the
 * segment. */
int ai_catalog_index_useful(const struct ai_catalog_filter *f);
/* 0 when the index shows that no member of its segment can match f. */
int ai_catalog_index_matches(const struct ai_catalog_filter *f, const struct ai_segment_index *x);
/* 1 when seg carries one of f's tags (or f has none). */
int ai_catalog_segment_matches(const struct ai_catalog_filter *f, const struct ai_segment *seg);
/* 1 when m may carry one of f's apps (or f has none): its app, or for a
 * member that records the apps of its rows (workspace export), one of
 * those. */
int ai_catalog_member_app(const struct ai_catalog_filter *f, const struct ai_member *m);
/* 1 when m may match f: app, type, source blob name (exactly, and by
 * prefix, case-sensitive as blob names are; the segment index does not
 * know names, so every segment is read for it), event window, roles (a
 * member with the most roles the manifest keeps may hold others),
 * operation ids (Bloom). */
int ai_catalog_member_matches(const struct ai_catalog_filter *f, const struct ai_member *m);

/* The cache root: $XDG_CACHE_HOME/aiarchive, else ~/.cache/aiarchive.
 * AI_ERR_CONFIG when neither variable is usable. */
ai_result ai_catalog_cache_root(char *out, size_t cap) AI_MUST_CHECK;
/* The directory name for one archive inside the root, made from its
 * secret-free description: readable characters plus a digest, so two
 * locations never share one. */
ai_result ai_catalog_cache_key(const char *described, char *out, size_t cap) AI_MUST_CHECK;

#endif
