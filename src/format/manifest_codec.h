/* manifest_codec.h: the manifest objects as bytes: segments, the state,
 * segment indexes, the genesis and key rotation records to and from msgpack (the wire format is described in
 * manifest_codec.c).
 *
 * Every object starts with its format name and version. Encoding is
 * deterministic, since segments are hashed and signed. Decoding is strict
 * and bounded: objects come from storage an attacker may touch. Only
 * manifest_codec.c encodes or decodes msgpack. */
#ifndef AI_MANIFEST_CODEC_H
#define AI_MANIFEST_CODEC_H

#include <stddef.h>
#include "format/genesis.h"
#include "format/manifest.h"
#include "format/segindex.h"
#include "format/state.h"
#include "util/buf.h"
#include "util/result.h"

#define AI_SEGMENT_FORMAT "aiarchive-segment"
#define AI_STATE_FORMAT "aiarchive-state"
#define AI_SEGINDEX_FORMAT "aiarchive-segment-index"
#define AI_GENESIS_FORMAT "aiarchive-genesis"
#define AI_ROTATION_FORMAT "aiarchive-key-rotation"
#define AI_MANIFEST_VERSION 1

/* Encodes to msgpack (appends to out). Deterministic: same segment, same
 * bytes. A segment that fails ai_segment_check is AI_ERR_BAD_INPUT; NULL
 * strings are written as "". On failure out keeps its old content. */
ai_result ai_segment_encode(const struct ai_segment *seg, struct ai_buf *out) AI_MUST_CHECK;
/* Decodes; AI_ERR_BAD_INPUT (with a reason in why, cap bytes) for any
 * deviation from the format: wrong name or version, missing fields,
 * wrong types, out-of-range pack index, limits exceeded. out need not be
 * initialised; on failure it is left empty (nothing to release). */
ai_result ai_segment_decode(const void *p, size_t n, struct ai_segment *out, char *why,
                            size_t cap) AI_MUST_CHECK;

/* Like ai_segment_encode (NULL strings as "", out unchanged on failure). */
ai_result ai_state_encode(const struct ai_state *st, struct ai_buf *out) AI_MUST_CHECK;
/* Like ai_segment_decode: out need not be initialised and is left empty
 * on failure. */
ai_result ai_state_decode(const void *p, size_t n, struct ai_state *out, char *why,
                          size_t cap) AI_MUST_CHECK;

/* Like ai_segment_encode; a name list or filter over its limit is
 * AI_ERR_BAD_INPUT. */
ai_result ai_segment_index_encode(const struct ai_segment_index *x,
                                  struct ai_buf *out) AI_MUST_CHECK;
/* Like ai_segment_decode. */
ai_result ai_segment_index_decode(const void *p, size_t n, struct ai_segment_index *out,
                                  char *why, size_t cap) AI_MUST_CHECK;

/* Like ai_segment_encode; ids that are not as genesis.h describes them,
 * a public key whose id is not key_id, or a rotation numbered 0 or to the
 * key it replaces are AI_ERR_BAD_INPUT. */
ai_result ai_genesis_encode(const struct ai_genesis *g, struct ai_buf *out) AI_MUST_CHECK;
/* Like ai_segment_decode, with the encoder's checks; out is plain data. */
ai_result ai_genesis_decode(const void *p, size_t n, struct ai_genesis *out, char *why,
                            size_t cap) AI_MUST_CHECK;
ai_result ai_key_rotation_encode(const struct ai_key_rotation *k,
                                 struct ai_buf *out) AI_MUST_CHECK;
ai_result ai_key_rotation_decode(const void *p, size_t n, struct ai_key_rotation *out,
                                 char *why, size_t cap) AI_MUST_CHECK;

#endif
