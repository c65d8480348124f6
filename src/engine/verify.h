/* verify.h: checking an archive: every manifest signature and the hash
 * chain, optionally the archived data, and that a window of the source is
 * completely archived. Problems are collected, never fatal, so one pass
 * reports them all; only storage failures stop the check. */
#ifndef AI_VERIFY_H
#define AI_VERIFY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "util/crypto.h"
#include "format/manifest.h"
#include "format/minisign.h"
#include "util/result.h"
#include "format/segindex.h"
#include "engine/source.h"
#include "format/state.h"
#include "store/store.h"
#include "engine/trust.h"

struct ai_witnesses;
struct ai_progress;

/* One thing found wrong. kind says what object is meant ("segment",
 * "segment-index", "state", "pack", "key", "manifest", "source blob",
 * "witness"); all strings are owned by the report. */
struct ai_verify_problem {
	char *kind;
	char *object;
	char *message;
	int warning;             /* worth knowing, not a failure */
};

/* What a check found and what it looked at. Caller-held. */
/* Problems a report lists; past them it only counts (a window of a
 * million blobs not archived is a million problems: 300 MiB held). */
#define AI_VERIFY_MAX_PROBLEMS 10000

struct ai_verify_report {
	struct ai_verify_problem *problems;
	size_t nproblems, cap;
	uint64_t unlisted;        /* problems past AI_VERIFY_MAX_PROBLEMS */
	uint64_t errors, warnings;
	uint64_t segments;        /* segment objects read */
	uint64_t members;         /* member records in them */
	uint64_t indexes;         /* segment index objects read */
	uint64_t unindexed;       /* segments read that have no index */
	int state_found;
	uint64_t state_next_seq;
	uint64_t members_checked; /* --data: members re-read */
	uint64_t packs_checked;   /* --data: packs read whole */
	uint64_t bytes_read;      /* --data: pack bytes read */
	uint64_t source_blobs;    /* --source: blobs in the window */
	uint64_t source_missing;  /* --source: blobs or ranges not archived */
	uint64_t checkpoints;     /* witnesses' checkpoints read and checked */
	uint64_t source_quarantined; /* --source: names left out as unsafe (warnings) */
	/* --source: what a run must list to archive what is missing (blobs not
	 * archived, ranges, versions not archived yet): delivery hours
	 * [fix_from, fix_to) (fix_to 0: nothing is missing), and the apps and
	 * types involved, each once; a filter narrows the run only when
	 * fewer than the source's apps_seen or types_seen. */
	ai_time fix_from, fix_to;
	struct ai_strvec fix_apps, fix_types;
	size_t apps_seen, types_seen;
	pthread_mutex_t mu;
};

void ai_verify_report_init(struct ai_verify_report *rep);
void ai_verify_report_release(struct ai_verify_report *rep);
/* Records a problem (thread-safe). On allocation failure the problem is
 * still counted. */
void ai_verify_add(struct ai_verify_report *rep, int warning, const char *kind,
                   const char *object, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A deterministic share of the archive: member (or pack) k of segment s
 * is in share n of m when ai_verify_hash(s, k, salt) % m == n - 1. The
 * hash depends only on those numbers, so the shares are stable across
 * runs and every item is in exactly one share. */
struct ai_verify_subset {
	uint64_t n, m;            /* m 0: everything */
};
/* Parses "N/M" (1 <= N <= M); AI_ERR_USAGE otherwise. */
ai_result ai_verify_subset_parse(const char *s, struct ai_verify_subset *out) AI_MUST_CHECK;
uint64_t ai_verify_hash(uint64_t seq, uint64_t index, uint64_t salt);
#define AI_VERIFY_SALT_MEMBER 0
#define AI_VERIFY_SALT_PACK 1
int ai_verify_subset_has(const struct ai_verify_subset *s, uint64_t seq, uint64_t index,
                         uint64_t salt);

/* What the walk learnt of one segment object, for the chain checks. */
struct ai_chain_entry {
	uint64_t name_seq;        /* the number in its object name */
	int present;              /* the .seg object exists (else only its .minisig) */
	int decoded;              /* its bytes decoded: seq and prev are meaningful */
	uint64_t seq;             /* the number it says it has */
	uint8_t prev[AI_SHA256_LEN];
	uint8_t sha256[AI_SHA256_LEN]; /* of its bytes, when present */
};

/* Checks the chain over entries sorted by name_seq: numbers contiguous
 * from 0, each segment the one its name says, each prev the SHA-256 of
 * the segment before. Reports into rep. */
void ai_verify_chain(const struct ai_chain_entry *e, size_t n, struct ai_verify_report *rep);
/* Checks that a state's head agrees with the chain: a state behind the
 * chain is a warning (a run can stop between segment and state), one
 * ahead of it or with another head hash an error. */
void ai_verify_state_head(const struct ai_state *st, const struct ai_chain_entry *e, size_t n,
                          struct ai_verify_report *rep);

/* Checks x, the decoded index object name, against segment name_seq: its
 * number, its digest of the segment's bytes (sha256; NULL when they were
 * not read) and, when seg (the decoded segment) is not NULL, the members,
 * apps, types, roles and roles_complete ai_segment_index_build finds in
 * it (the Bloom filter only its signature vouches for). Reports into rep;
 * fails only for lack of memory. */
ai_result ai_verify_index(const char *name, uint64_t name_seq, const struct ai_segment_index *x,
                          const uint8_t *sha256, const struct ai_segment *seg,
                          struct ai_verify_report *rep) AI_MUST_CHECK;

struct ai_verify_params {
	struct ai_store *dest;
	struct ai_trust *trust;   /* the keys to check signatures with */
	int data;                 /* re-read members and packs */
	struct ai_verify_subset subset;
	unsigned jobs;            /* threads for the data checks (0: 1) */
	struct ai_store *src;     /* NULL: no source check */
	enum ai_layout layout;    /* of src; AUTO detects it */
	ai_time from, to;         /* delivery hours to check in src */
	struct ai_witnesses *witness; /* checkpoints the chain must agree with; NULL: none */
	struct ai_progress *progress; /* with data: members re-read, pack bytes, segments;
	                               * NULL: none */
	size_t ranges_in_memory;  /* with src: archived ranges held before they go to a
	                           * temporary file (engine/ranges.h); 0: the default */
};

/* Runs the checks. AI_OK when they ran (look at rep->errors), else the
 * storage failure that stopped them (logged). */
ai_result ai_verify(const struct ai_verify_params *p, struct ai_verify_report *rep) AI_MUST_CHECK;

#endif
