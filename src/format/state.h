/* state.h: the archive state, a rebuildable summary kept next to the
 * manifest's segments: the head of the chain, watermarks, what status
 * shows, and the index (delivery hour and event hour -> segments) that lets
 * run and query read only the segments that matter. It is signed, but a
 * reader must still look for segments past its head, since a run can stop
 * between writing a segment and the state. */
#ifndef AI_STATE_H
#define AI_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "format/manifest.h"
#include "util/crypto.h"
#include "util/parse.h"
#include "util/result.h"

/* Per-partition progress that status reports. Folding segments in
 * counts members and rows and moves last_event; the rest is what the last
 * run that looked at the part found (ARCHITECTURE.md §8.4), so a state
 * rebuilt from the segments starts it unknown (0). */
struct ai_partition_state {
	char *app;
	char *type;
	ai_time archived_through; /* the recovery point: every delivery hour
	                           * before this is closed and archived; 0 unknown */
	ai_time last_event;       /* newest event time archived */
	uint64_t members;
	uint64_t rows;
	uint64_t failed;          /* blobs of the part the last run could not archive */
	ai_time failed_oldest;    /* the earliest delivery hour among them; 0 none */
	uint64_t pending;         /* blobs of closed hours only partly archived */
	uint64_t quarantined;     /* names of the part in quarantine (§4.1) */
	ai_time quarantined_oldest; /* the earliest delivery hour among them; 0 none */
	ai_time newest_blob;      /* newest Last-Modified of a source blob listed; 0 none */
};

/* One entry of an hour index: the segments holding members of that hour. */
struct ai_hour_entry {
	ai_time hour;
	uint64_t *seqs;          /* ascending */
	size_t nseqs;
};

/* A source name a run could not archive safely and left out
 * (ARCHITECTURE.md §4.1), as status shows it. */
struct ai_quarantine_entry {
	char *name;              /* a blob, or a folder (ends with '/') */
	char *reason;
	ai_time hour;            /* a blob's delivery hour; AI_TIME_MIN for a folder */
	ai_time first_seen;      /* the run that first listed it */
	ai_time last_seen;       /* the latest run that listed it */
	char *app, *type;        /* a blob's app and type; NULL for a folder */
};

/* An append blob whose last line was still incomplete when a run saw it
 * after its hour had closed (ARCHITECTURE.md §6 step 6): the tail is
 * archived as it is once a later run finds the same length. */
struct ai_tail_entry {
	char *name;
	ai_time hour;            /* its delivery hour */
	uint64_t length;         /* the blob's size then */
	ai_time seen;            /* when */
};

/* What the state keeps of one shard of a sharded run (`run --shard I/N`,
 * ARCHITECTURE.md §7.8): each shard moves only its own entry, so that one
 * shard never advances another's watermark. */
struct ai_shard_state {
	uint32_t index, count;   /* shard index of count */
	ai_time watermark;       /* delivery hours before this were listed fully for
	                          * this shard's partitions; 0 none yet */
	ai_time failed_oldest;   /* earliest delivery hour of a blob it could not
	                          * archive (its next run lists it again); 0 none */
	ai_time held;            /* earliest delivery hour it left not wholly
	                          * archived (failed, pending, quarantined); 0 none */
	uint64_t failed;         /* blobs its last run could not archive */
	char *last_run_id;
	ai_time last_run_time;
	char *last_run_result;   /* "ok", "partial" */
	int last_run_exit;       /* -1 unknown */
};

/* Bounds of the state's lists (the decoder enforces them). */
#define AI_STATE_MAX_QUARANTINED 1000
#define AI_STATE_MAX_TAILS 10000
#define AI_STATE_MAX_SHARDS 4096

struct ai_state {
	uint64_t next_seq;       /* segments 0..next_seq-1 are covered */
	uint8_t head_sha256[AI_SHA256_LEN]; /* of segment next_seq-1 */
	ai_time updated;
	ai_time watermark;       /* delivery hours before this were listed completely */
	ai_time max_lag;         /* largest (delivery hour + 1h - min event) seen, >= 0 */
	char *last_run_id;
	ai_time last_run_time;
	char *last_run_result;   /* "ok", "partial", ... */
	int last_run_exit;       /* the exit code the run's result maps to; -1 unknown */
	char *source;            /* the source location archived */
	char *layout;            /* of the last run or the newest segment folded in
	                          * (a segment's "layout"); NULL unknown */
	struct ai_partition_state *parts;
	size_t nparts;
	struct ai_hour_entry *by_delivery; /* ascending by hour */
	size_t nby_delivery;
	struct ai_hour_entry *by_event;    /* ascending by hour */
	size_t nby_event;
	uint64_t *wide_seqs;     /* segments with members spanning more than 72
	                          * event hours, too many to list (ascending) */
	size_t nwide;
	/* What runs remember of the source itself; not in any segment, so a
	 * state rebuilt from the segments starts them empty. Strictly
	 * ascending by name; change them only through the merge functions. */
	struct ai_quarantine_entry *quarantined;
	size_t nquarantined;
	struct ai_tail_entry *tails;
	size_t ntails;
	/* One entry per shard that ran, ascending by (count, index). */
	struct ai_shard_state *shards;
	size_t nshards;
};

/* Caller-held; init before use, release frees everything inside. The
 * arrays inside grow with ai_grow_uncounted (alloc.h), so fill a state only through
 * ai_state_add_segment or the decoder. */
void ai_state_init(struct ai_state *st);
void ai_state_release(struct ai_state *st);
/* Folds a committed segment (with its SHA-256) into the state: head,
 * partitions, hour indexes, max lag. Segments must be added in order:
 * a seq other than next_seq is AI_ERR_BAD_INPUT, a prev other than the
 * head AI_ERR_VERIFY (state unchanged in both cases); a segment failing
 * ai_segment_check is AI_ERR_BAD_INPUT. After AI_ERR_NOMEM the state is
 * partly updated and must only be released. */
ai_result ai_state_add_segment(struct ai_state *st, const struct ai_segment *seg,
                               const uint8_t sha256[AI_SHA256_LEN]) AI_MUST_CHECK;
/* Segment numbers whose members may hold delivery hours in [from, to)
 * (resp. event times), ascending, without duplicates; *seqs is malloc'd
 * (NULL when *n is 0; the caller frees it). The event query also returns
 * every wide segment; members without event times match no event query.
 * An empty window (to <= from) matches nothing. */
ai_result ai_state_segments_by_delivery(const struct ai_state *st, ai_time from, ai_time to,
                                        uint64_t **seqs, size_t *n) AI_MUST_CHECK;
ai_result ai_state_segments_by_event(const struct ai_state *st, ai_time from, ai_time to,
                                     uint64_t **seqs, size_t *n) AI_MUST_CHECK;

/* Whether a run looked where a name of that delivery hour (AI_TIME_MIN: a
 * folder) would have been listed, so that not finding it there means it
 * is gone. */
typedef int (*ai_state_covered_fn)(const void *ctx, const char *name, ai_time hour);

/* Records a run's quarantined names (found, copied; their reason, hour and
 * last_seen are taken, their first_seen only for a name not known yet).
 * Known names the run did not find are kept unless covered says it looked
 * for them. Past AI_STATE_MAX_QUARANTINED, the names seen longest ago are
 * dropped. On failure (AI_ERR_NOMEM) the state is unchanged. */
ai_result ai_state_merge_quarantined(struct ai_state *st, const struct ai_quarantine_entry *found,
                                     size_t n, ai_state_covered_fn covered,
                                     const void *ctx) AI_MUST_CHECK;
/* The same for the tails a run saw (found, copied, replacing any entry of
 * the same name); past AI_STATE_MAX_TAILS the oldest seen are dropped. */
ai_result ai_state_merge_tails(struct ai_state *st, const struct ai_tail_entry *found, size_t n,
                               ai_state_covered_fn covered, const void *ctx) AI_MUST_CHECK;
/* The part of app and type, or NULL. */
struct ai_partition_state *ai_state_find_part(const struct ai_state *st, const char *app,
                                              const char *type);
/* Adds the part of app and type unless it is there (AI_ERR_NOMEM). */
ai_result ai_state_add_part(struct ai_state *st, const char *app, const char *type,
                            struct ai_partition_state **out) AI_MUST_CHECK;

/* The entry of shard index of count, or NULL. */
struct ai_shard_state *ai_state_find_shard(const struct ai_state *st, uint32_t index,
                                           uint32_t count);
/* Adds that shard's entry unless it is there (AI_ERR_NOMEM; past
 * AI_STATE_MAX_SHARDS, AI_ERR_TOO_BIG). A new entry knows nothing (zeros,
 * last_run_exit -1). Pointers into shards are valid until the next add or
 * drop. */
ai_result ai_state_add_shard(struct ai_state *st, uint32_t index, uint32_t count,
                             struct ai_shard_state **out) AI_MUST_CHECK;
/* Removes entry i. */
void ai_state_drop_shard(struct ai_state *st, size_t i);

/* The state's tail entry for name, or NULL. */
const struct ai_tail_entry *ai_state_find_tail(const struct ai_state *st, const char *name);

#endif
