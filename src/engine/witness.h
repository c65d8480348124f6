/* witness.h: rollback detection (ARCHITECTURE.md §9.6). Each run leaves a
 * signed checkpoint of the chain it saw (segment count, head digest) with
 * one or more witnesses outside the archive: the host's own state
 * directory, and a store given with --witness. run, gc and verify then
 * refuse an archive whose chain does not contain the witnessed head. */
#ifndef AI_WITNESS_H
#define AI_WITNESS_H

#include <stddef.h>
#include <stdint.h>
#include "engine/archive.h"
#include "format/checkpoint.h"
#include "format/minisign.h"
#include "store/store.h"
#include "util/parse.h"
#include "util/result.h"

#define AI_WITNESS_MAX 2
#define AI_WITNESS_PREFIX "witness/"

struct ai_trust;

/* One place that keeps checkpoints. */
struct ai_witness {
	struct ai_store *store;       /* owned */
	int required;                 /* named by the operator: failing to write it fails */
	char dir[1024];               /* a local state directory to create (0700) before
	                               * the first write, or "" */
	char where[640];              /* its checkpoint's location, for messages */
	int failure_said;             /* a failed write was reported: a later one of the
	                               * same run (its last checkpoint) is not again */
};

/* The witnesses of one archive. Caller-held. */
struct ai_witnesses {
	struct ai_witness w[AI_WITNESS_MAX];
	size_t n;
	char archive[AI_CHECKPOINT_ARCHIVE_MAX]; /* the archive's identity: its location */
	char name[80];                /* its checkpoint's object name, witness/<hash>.ckpt */
	int seg0_known;
	uint8_t seg0[AI_SHA256_LEN];  /* SHA-256 of the archive's segment 0 */
	uint64_t written;             /* the segment count last written (0: none) */
	uint8_t written_head[AI_SHA256_LEN];
};

/* The archive's location as witnesses name it (without a trailing '/',
 * into archive, cap bytes) and the first 32 hex digits of its SHA-256
 * (hex): what names the files a host keeps about the archive. */
void ai_archive_location_hash(const struct ai_store *dest, char *archive, size_t cap,
                              char hex[33]);
/* mkdir -p dir, its last component mode 0700 (what a host keeps there is
 * not secret, but nobody else has any business there). Failures are set
 * as the store's error (ai_store_why). */
ai_result ai_state_dir_make(const char *dir) AI_MUST_CHECK;

/* Prepares ws for the archive at dest (no witness yet). The checkpoint's
 * name is derived from dest's location alone, never from what the archive
 * holds, so no change to the archive can make its checkpoint look absent. */
void ai_witnesses_init(struct ai_witnesses *ws, const struct ai_store *dest);
void ai_witnesses_release(struct ai_witnesses *ws);

/* Adds the checkpoint kept in the local directory dir (absolute; created
 * with mode 0700 when a run first writes there). */
ai_result ai_witnesses_add_dir(struct ai_witnesses *ws, const char *dir,
                               int required) AI_MUST_CHECK;
/* Adds a witness store (any backend); ws owns s from now on, also on failure. */
ai_result ai_witnesses_add_store(struct ai_witnesses *ws, struct ai_store *s,
                                 int required) AI_MUST_CHECK;

/* Reads witness i's checkpoint of this archive and checks it: its
 * signature with trust (public keys are looked up in dest), that it
 * parses and that it names this archive. AI_ERR_NOT_FOUND when it holds
 * none; AI_ERR_VERIFY when it does not check out (why, cap bytes, says
 * how); other results are failures to read it (the store's error set). */
ai_result ai_witness_read(struct ai_witnesses *ws, size_t i, struct ai_store *dest,
                          struct ai_trust *trust, struct ai_checkpoint *c, char *why,
                          size_t cap) AI_MUST_CHECK;

/* Judges checkpoint c against a chain of segments segments long whose
 * segment c->segments - 1 has the SHA-256 digest (NULL: it is missing).
 * AI_OK when the chain contains the witnessed head, else AI_ERR_VERIFY
 * with why ("archive rolled back: witness saw segment 42, head is 39"). */
ai_result ai_witness_judge(const struct ai_checkpoint *c, uint64_t segments,
                           const uint8_t *digest, char *why, size_t cap) AI_MUST_CHECK;

/* Checks the archive a, as ai_archive_open left it with the result
 * opened, against every witness (ws NULL: none). A witness the chain
 * contradicts, or one that does not check out, is AI_ERR_VERIFY described
 * for ai_store_why, and wins over opened: an archive that lost its state
 * with its newest segments reads as rolled back. Otherwise opened, its
 * description intact (a failed open is not checked further, except for a
 * missing state), or the failure to read a witness (a local directory not
 * required that cannot be read is only a warning). */
ai_result ai_witness_check(struct ai_witnesses *ws, struct ai_store *dest,
                           struct ai_trust *trust, const struct ai_archive *a,
                           ai_result opened) AI_MUST_CHECK;

/* ai_archive_require for the commands that check witnesses: a location
 * where nothing of the archive is left, but of which a witness holds a
 * checkpoint, is an archive (one rolled back, as ai_witness_check says);
 * with data, so is one that holds anything under data/ (gc then finds
 * packs without a manifest). */
ai_result ai_witness_require(struct ai_witnesses *ws, struct ai_store *dest,
                             struct ai_trust *trust, int data) AI_MUST_CHECK;

/* Writes a checkpoint of a's chain, signed with key, to every witness
 * (ws or key NULL: nothing), unless it is the one last written. A
 * checkpoint of a longer chain already there (a concurrent run's) is
 * kept. A witness that cannot be written is a warning, or for a required
 * one an error and the result. */
ai_result ai_witness_record(struct ai_witnesses *ws, struct ai_store *dest,
                            struct ai_trust *trust, const struct ai_archive *a,
                            const struct ai_signing_key *key, ai_time now) AI_MUST_CHECK;

#endif
