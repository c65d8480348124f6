/* run.h: the archive pipeline behind `aiarchive run`: list what is new in
 * the source a page of about AI_RUN_SEGMENT_MEMBERS blobs at a time,
 * stream each blob of a page through the member builder into packs,
 * commit the packs, then the manifest segment recording them (one per
 * page), and once the listing is done the state. */
#ifndef AI_RUN_H
#define AI_RUN_H

#include <stdint.h>
#include <stdio.h>
#include "format/genesis.h"
#include "format/minisign.h"
#include "cmd/options.h"
#include "engine/shard.h"
#include "engine/source.h"
#include "store/store.h"

/* Blobs of a page of the listing, and so members of a segment (up to a
 * quarter more: a page ends between partitions when it can). Far below
 * the decoder's AI_MANIFEST_MAX_MEMBERS: a run holds a page, and every
 * reader decodes a segment whole (about 1.7 KiB a member in memory), so
 * this bounds what any command holds (ARCHITECTURE.md §6.3). */
#define AI_RUN_SEGMENT_MEMBERS 5000

struct ai_run_summary {
	char run_id[64];
	uint64_t blobs;           /* members archived */
	uint64_t rows, bad_rows;
	uint64_t bytes_in;        /* source bytes archived */
	uint64_t bytes_out;       /* pack bytes written */
	uint64_t packs;
	uint64_t failed;          /* blobs or ranges that failed (retried next run) */
	uint64_t pending;         /* appended ranges left for a later run */
	uint64_t quarantined;     /* source names left out as unsafe
	                           * (ARCHITECTURE.md §4.1) */
	int64_t segment;          /* last segment committed, -1 if none */
	int64_t segment_first;    /* first segment committed, -1 if none */
	uint64_t segments;        /* segments committed */
	ai_time watermark;        /* archived through (AI_TIME_MIN if unknown) */
	ai_time window_from, window_to;
	double seconds;
	struct ai_store_stats src_stats, dest_stats;
	char sku[64];
	enum ai_layout layout;
	char archive_id[AI_ARCHIVE_ID_HEXLEN];
	char key_id[AI_MINISIGN_KEYID_HEXLEN];   /* the key the run signed with, "" in a dry run */
	char rotated_from[AI_MINISIGN_KEYID_HEXLEN]; /* the key this run's rotation replaced, or "" */
	uint64_t rotation;        /* the rotation record this run wrote, 0 if none */
	char failure[256];        /* the first failed blob's error, or "" */
};

struct ai_lock;
struct ai_progress;
struct ai_witnesses;

struct ai_run_params {
	const char *run_id;               /* from ai_run_make_id */
	const struct ai_options *o;
	struct ai_store *src;
	struct ai_store *dest;
	const struct ai_signing_key *key; /* the archive's current key (after old_key's
	                                   * rotation); NULL in a dry run */
	const struct ai_signing_key *old_key; /* not NULL: first rotate the archive's key
	                                   * from it to key (run --rotate-key) */
	ai_time now;                      /* decides which hours are closed */
	ai_time (*clock)(void);           /* timestamps for signatures */
	FILE *dry_out;                    /* dry run: the list goes here */
	int dry_json;                     /* ... as JSON Lines, one object a blob */
	FILE *preflight_out;              /* dry run: the preflight's lines (NULL: logged at
	                                   * info level) */
	struct ai_progress *progress;     /* the progress line (blobs, source bytes); NULL:
	                                   * none */
	size_t segment_members;           /* 0: AI_RUN_SEGMENT_MEMBERS */
	struct ai_lock *lock;             /* held run lock, confirmed before each commit;
	                                   * NULL: none (dry runs, tests) */
	struct ai_witnesses *witness;     /* checked after the open, written after each
	                                   * segment and at the end; NULL: none */
	struct ai_shard shard;            /* count 0: the whole archive; else only the
	                                   * partitions of this shard (shard.h) */
};

/* A new run id: "20261124T143005Z-1a2b3c4d" (time and randomness). */
void ai_run_make_id(ai_time now, char *out, size_t cap);

/* Runs the pipeline once, into an archive `init` made (else AI_ERR_CONFIG,
 * logged with the hint to run init) signed with its current key (else
 * AI_ERR_VERIFY), after old_key's rotation to key if asked. AI_ERR_PARTIAL
 * when some blobs failed (they are not recorded and the next run retries
 * them). */
ai_result ai_run(const struct ai_run_params *p, struct ai_run_summary *sum) AI_MUST_CHECK;

/* What `aiarchive run` does: ai_run, and outside a dry run (p->o->dry_run)
 * first checks that dest is an archive and key (or old_key) its current
 * key, writing nothing otherwise, then creates the destination's container, checks that the account is
 * geo-redundant (sum->sku, "unknown" otherwise) and holds the run lock
 * (p->o->lock_duration, p->o->wait) until ai_run returns. Failures are
 * reported in one line; sum->seconds is the caller's. */
ai_result ai_run_locked(const struct ai_run_params *p, struct ai_run_summary *sum) AI_MUST_CHECK;

#endif
