/* archive.h: the destination side of the manifest: loading the state and
 * the segments past it, committing a new segment create-only after its
 * packs, saving the state, publishing the public key. */
#ifndef AI_ARCHIVE_H
#define AI_ARCHIVE_H

#include "format/manifest.h"
#include "format/minisign.h"
#include "util/result.h"
#include "format/state.h"
#include "store/store.h"

#define AI_KEYS_DIR "keys/"

struct ai_archive {
	struct ai_store *dest;       /* not owned */
	struct ai_state state;
	int state_found;             /* a state object was read (or saved) */
	int state_missing;           /* none was there, yet segments were: the open
	                              * failed (AI_ERR_VERIFY), the state is folded from
	                              * the chain all the same */
	uint64_t probed;             /* segments read past the stored state */
	char state_etag[AI_ETAG_MAX]; /* the state's ETag as read or last saved ("" when
	                              * there was none): a save replaces only that one */
	int64_t deadline_ns;         /* when set (run): the monotonic time by which the
	                              * segment being committed must be written, as it
	                              * names packs committed a pack bound before
	                              * (ai_pack_bound_ns); see ai_archive_commit */
	int late;                    /* ai_archive_commit found the deadline passed */
	struct ai_lock *lock;        /* when set (run): confirmed right before each
	                              * segment is written, so that a run paused after
	                              * its fence commits nothing once it lost the lock
	                              * (ARCHITECTURE.md §7.3); not owned */
	int shared;                  /* when set (a shard's run): other writers save the
	                              * state too, so one created before segment 0 by
	                              * another is fine (ARCHITECTURE.md §7.8) */
	int state_busy;              /* the last save found the state locked by another
	                              * process (file://): AI_ERR_LOCKED, but not a state
	                              * another writer changed */
};

struct ai_trust;

/* Reads the state (an absent one is an empty archive) and folds in any
 * segment committed after it, each checked with trust before it is used
 * (ARCHITECTURE.md §9); segments without a state are AI_ERR_VERIFY with
 * state_missing set (§7.2). Nothing is ever signed here: with heal, a
 * .minisig that is missing or damaged beside an object that carries a
 * valid signature is restored from that copy. An object that does not
 * verify is AI_ERR_VERIFY, described for ai_store_why with its name. */
ai_result ai_archive_open(struct ai_archive *a, struct ai_store *dest, struct ai_trust *trust,
                          int heal) AI_MUST_CHECK;
void ai_archive_release(struct ai_archive *a);

/* A reader's check of an object's bytes before they are used: kind is
 * "state" or "segment". AI_OK to use them; AI_ERR_NOT_FOUND for a segment
 * ends the chain before it; any other result stops the open with it. */
typedef ai_result (*ai_archive_check)(void *ctx, const char *kind, const char *name,
                                      const struct ai_buf *raw);
/* ai_archive_open for readers: the state and each segment past it go
 * through check first (the state twice at most, see archive.c), and
 * nothing is written. A state that is there but fails its check twice is
 * that failure (AI_ERR_VERIFY when it vanished in between); segments
 * without a state are AI_ERR_VERIFY as for ai_archive_open. */
ai_result ai_archive_open_checked(struct ai_archive *a, struct ai_store *dest,
                                  ai_archive_check check, void *ctx) AI_MUST_CHECK;

/* Whether dest holds an archive at all: a genesis, a state or a first
 * segment (an archive made before init has no genesis). AI_OK when it
 * does; else "no archive at URL" is logged and the result is AI_ERR_CONFIG
 * (exit 2), or the store's failure. Reads only. */
ai_result ai_archive_require(struct ai_store *dest) AI_MUST_CHECK;
/* The same, quiet: *present says whether dest holds an archive; any
 * other result is the store's failure. */
ai_result ai_archive_present(struct ai_store *dest, int *present) AI_MUST_CHECK;

/* Restores the .minisig of name from the signature the object carries
 * (signed.h), which the caller has checked; why says what was wrong with
 * the file. A copy, never a new signature; the outcome is logged. */
void ai_archive_restore_signature(struct ai_store *dest, const char *kind, const char *name,
                                  const char *why);

/* Reads and decodes segment seq; sha256 (may be NULL) gets the digest of
 * its bytes, raw (may be NULL) the bytes themselves. */
ai_result ai_archive_read_segment(struct ai_store *dest, uint64_t seq, struct ai_segment *seg,
                                  uint8_t sha256[AI_SHA256_LEN], struct ai_buf *raw) AI_MUST_CHECK;

/* One segment as a walk of the chain read it. */
struct ai_archive_link {
	uint64_t seq;                  /* the number in its object name */
	char name[128];                /* that object name */
	ai_result read;                /* AI_OK once its bytes were read and hashed, else why
	                                * not (AI_ERR_NOT_FOUND, AI_ERR_TOO_BIG, a store failure) */
	const struct ai_buf *raw;      /* its bytes */
	uint8_t sha256[AI_SHA256_LEN]; /* of them */
	ai_result decode;              /* once read: AI_OK when seg holds them, else why says why */
	char why[256];
	struct ai_segment seg;
	int linked;                    /* decoded, and its prev is the digest of the segment
	                                * numbered before it as this walk read it (for the
	                                * walk's first, the walk's head) */
};

/* Called for each segment a walk reaches, missing or not, in order; a
 * result other than AI_OK stops the walk with it. */
typedef ai_result (*ai_archive_walk_fn)(void *ctx, const struct ai_archive_link *l);

/* Which segments a walk reads. */
struct ai_archive_walk {
	uint64_t from, to;             /* the numbers [from, to); to UINT64_MAX: until fn stops */
	const uint64_t *seqs;          /* not NULL: these numbers (nseqs, ascending) instead */
	size_t nseqs;
	uint8_t head[AI_SHA256_LEN];   /* in: what the first links to (zeros: the chain's start);
	                                * out: the digest of the last segment read */
};

/* Reads the segments w names one at a time, each whole, hashed and
 * decoded, and hands each to fn, which judges it; the link (and its
 * bytes) is valid during the call only. AI_OK, or what fn stopped it with. */
ai_result ai_archive_walk(struct ai_store *dest, struct ai_archive_walk *w, ai_archive_walk_fn fn,
                          void *ctx) AI_MUST_CHECK;
/* What a reader that acts on a segment needs of a link: AI_OK when it
 * was read, decoded and says it is the number its name gives; else that
 * failure, described for ai_store_why. */
ai_result ai_archive_link_ok(const struct ai_archive_link *l) AI_MUST_CHECK;

/* ai_archive_link_ok, and the segment's signature checked with trust
 * (its .minisig, else the one it carries): AI_ERR_VERIFY described for
 * ai_store_why, naming the segment. */
ai_result ai_archive_link_trusted(struct ai_store *dest, struct ai_trust *trust,
                                  const struct ai_archive_link *l) AI_MUST_CHECK;

/* Gives seg the next sequence number and the chain link, writes it
 * create-only carrying its signature (signed.h) and then its .minisig,
 * then folds it into the state; last writes its index (segindex.h) with
 * bloom, the filter of all its members' operation ids (length 0: not
 * known). Segment 0 of an archive without a state object is preceded by
 * the state, so that a state exists whenever a segment does. AI_ERR_EXISTS
 * when another writer took that number first (reopen and retry). With a
 * deadline_ns that has passed when the segment is about to be written (the
 * run was stopped or starved after its checks), nothing is written: late
 * is set and the result is AI_ERR_TIMEOUT (drop the late packs and retry).
 * When the deadline passed while the segment was being written, every pack
 * it names is looked up: one that is gone is AI_ERR_VERIFY, naming it. */
ai_result ai_archive_commit(struct ai_archive *a, struct ai_segment *seg, const uint8_t *bloom,
                            size_t bloom_len, const struct ai_signing_key *key,
                            ai_time now) AI_MUST_CHECK;

/* The pack bound (ARCHITECTURE.md §7.3): a run writes no segment that names
 * a pack it committed longer ago than this by its monotonic clock (which
 * counts suspends: util/clock.h), and gc removes nothing younger than twice
 * this, so that no segment names a pack gc could have removed. One hour; the test hook AIARCHIVE_TEST_PACK_BOUND
 * (a duration) sets it, 0 turning it off (runs never drop a pack, gc keeps
 * nothing back beyond --older-than). */
int64_t ai_pack_bound_ns(void);

/* Writes the state carrying its signature, then its .minisig (both are
 * replaced each run). The state is replaced only while it is the one this
 * archive read or last saved (state_etag), created only while there is
 * none: when another writer saved one meanwhile, nothing is written and
 * the result is AI_ERR_LOCKED (a run that lost its lock; ARCHITECTURE.md
 * §7.3). */
ai_result ai_archive_save_state(struct ai_archive *a, const struct ai_signing_key *key,
                                ai_time now) AI_MUST_CHECK;

/* Publishes key's public half as keys/<KEYID>.pub (create-only; an
 * identical existing file is fine, a different one is an error). */
ai_result ai_archive_publish_key(struct ai_store *dest, const struct ai_signing_key *key) AI_MUST_CHECK;

/* Object names. */
void ai_archive_segment_name(uint64_t seq, char *out, size_t cap);
void ai_archive_index_name(uint64_t seq, char *out, size_t cap);

#endif
