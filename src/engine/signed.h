/* signed.h: manifest objects that carry their own signature. The three
 * signed lines of an object's .minisig travel in its metadata, written in
 * the same request as its bytes, so no crash can part an object from its
 * signature: a missing .minisig is restored by copying those lines, never
 * by signing again (ARCHITECTURE.md §7.1). */
#ifndef AI_SIGNED_H
#define AI_SIGNED_H

#include <stddef.h>

#include "format/minisign.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/parse.h"
#include "util/result.h"

/* Signs the n bytes at p ("aiarchive <what> <name> sha256=<hex> time=<now>"),
 * writes them as name with the signature in its metadata (create-only
 * unless replace), then "<name>.minisig". AI_ERR_EXISTS when a create-only
 * name is taken: nothing else is written then. */
ai_result ai_signed_put(struct ai_store *dest, const char *name, const void *p, size_t n,
                        int replace, const struct ai_signing_key *key, const char *what,
                        ai_time now) AI_MUST_CHECK;
/* As ai_signed_put, for an object one writer at a time replaces: with an
 * if_match ETag (that of the object as last read or written), the write
 * is a replace only while the object still has it (AI_ERR_CONFLICT when
 * another writer replaced it since: nothing is written then); with an empty
 * one, create-only (AI_ERR_EXISTS when another writer created it). etag
 * receives the new object's ETag. */
ai_result ai_signed_replace(struct ai_store *dest, const char *name, const void *p, size_t n,
                            char etag[AI_ETAG_MAX], const struct ai_signing_key *key,
                            const char *what, ai_time now) AI_MUST_CHECK;

/* Rebuilds the .minisig text that name carries in its metadata into out
 * (appended). AI_ERR_NOT_FOUND when the object carries none (written by
 * an older version, or by someone without the key). The caller must verify
 * the text before using it. */
ai_result ai_signed_carried(struct ai_store *dest, const char *name,
                            struct ai_buf *out) AI_MUST_CHECK;

/* Writes text as "<name>.minisig" (replacing what is there). */
ai_result ai_signed_put_sig(struct ai_store *dest, const char *name, const char *text,
                            size_t len) AI_MUST_CHECK;

#endif
