/* checkpoint.h: the checkpoint a witness keeps of an archive's chain (what
 * segment count and head a run last saw), as a small text object that
 * minisign signs like any other (ARCHITECTURE.md §8.6, §9.6). */
#ifndef AI_CHECKPOINT_H
#define AI_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"
#include "util/crypto.h"
#include "util/parse.h"
#include "util/result.h"

#define AI_CHECKPOINT_MAGIC "aiarchive-checkpoint 1"
#define AI_CHECKPOINT_MAX 4096          /* bytes of a whole checkpoint */
#define AI_CHECKPOINT_ARCHIVE_MAX 1024  /* bytes of its archive field, NUL included */

/* What a checkpoint says. */
struct ai_checkpoint {
	char archive[AI_CHECKPOINT_ARCHIVE_MAX]; /* which archive: its location, for now */
	uint64_t segments;                       /* the chain's length, next_seq */
	uint8_t head[AI_SHA256_LEN];             /* SHA-256 of segment segments-1 */
	uint8_t segment0[AI_SHA256_LEN];         /* SHA-256 of segment 0 (with head, the
	                                          * archive's identity until it has an id) */
	ai_time time;                            /* when it was written */
};

/* Appends c's text to out:
 *
 *   aiarchive-checkpoint 1
 *   archive <location>
 *   segments <n>
 *   head <hex>           (only when n > 0)
 *   segment0 <hex>       (only when n > 0)
 *   time <UTC time>
 *
 * AI_ERR_BAD_INPUT when the archive field is empty or holds a control
 * character. */
ai_result ai_checkpoint_format(const struct ai_checkpoint *c, struct ai_buf *out) AI_MUST_CHECK;

/* Parses the n bytes at p strictly: the first line, then "key value"
 * lines each ended by a newline, archive, segments and time once each
 * (head and segment0 too when segments > 0), keys it does not know
 * ignored. AI_ERR_BAD_INPUT otherwise, why (cap bytes) saying what is
 * wrong. */
ai_result ai_checkpoint_parse(const char *p, size_t n, struct ai_checkpoint *c, char *why,
                              size_t cap) AI_MUST_CHECK;

#endif
