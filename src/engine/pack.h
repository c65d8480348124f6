/* pack.h: one pack object being written to the destination: gzip members
 * appended one after another, uploaded in blocks (each with its MD5) as
 * they fill — or, when the whole pack fits in one block, in one Put Blob —
 * committed create-only, then signed with a minisign
 * signature over the whole object. Nothing of it is visible until the
 * commit, so an abandoned pack leaves only uncommitted blocks, which the
 * service discards. */
#ifndef AI_PACK_H
#define AI_PACK_H

#include <stddef.h>
#include <stdint.h>
#include "format/manifest.h"
#include "format/minisign.h"
#include "util/result.h"
#include "store/store.h"

struct ai_pack;

/* Starts a pack called name in dest; blocks of block_size bytes. */
ai_result ai_pack_new(struct ai_pack **out, struct ai_store *dest, const char *name,
                      size_t block_size) AI_MUST_CHECK;
/* Appends bytes (part of a gzip member) to the pack. */
ai_result ai_pack_write(struct ai_pack *p, const void *data, size_t n) AI_MUST_CHECK;
/* Bytes written so far: the offset of the next member. */
uint64_t ai_pack_size(const struct ai_pack *p);
/* Uploads what is left, commits the block list create-only and writes the
 * signature "<name>.minisig" create-only. ref gets the name, size and
 * SHA-256 (the caller releases ref->name). */
ai_result ai_pack_commit(struct ai_pack *p, const struct ai_signing_key *key, const char *run_id,
                         ai_time now, struct ai_pack_ref *ref) AI_MUST_CHECK;
/* Abandons or frees the pack. NULL-safe. */
void ai_pack_free(struct ai_pack *p);

/* The gzip sink that writes into a pack (ctx is the struct ai_pack). */
ai_result ai_pack_sink(void *ctx, const void *data, size_t n);

#endif
