/* member.h: turns the bytes of one source blob (or appended range) into
 * one archived gzip member while collecting what the manifest records:
 * size, SHA-256, rows, bad rows, event-time range, roles, apps (workspace
 * export) and a Bloom filter of operation ids. Bytes are archived as they are; only whole
 * lines go in, and a member always ends with a newline so that members
 * concatenate into valid JSON Lines. */
#ifndef AI_MEMBER_H
#define AI_MEMBER_H

#include <stddef.h>
#include <stdint.h>
#include "format/bloom.h"
#include "format/gz.h"
#include "format/manifest.h"
#include "util/result.h"
#include "format/rowscan.h"

struct ai_member_builder;

/* A reusable builder (compression level 0..9). */
ai_result ai_member_builder_new(struct ai_member_builder **out, int level) AI_MUST_CHECK;
void ai_member_builder_free(struct ai_member_builder *b);
/* Frees what grew large for the last member (the unfinished line, the set
 * of ids), between members. */
void ai_member_builder_trim(struct ai_member_builder *b);
/* A line longer than this is archived as it is, as one bad row, unscanned. */
#define AI_MEMBER_MAX_LINE (1u << 20)

/* Starts a member for the source blob `name` (stored in the gzip header)
 * with the given mtime; compressed bytes go to sink. */
ai_result ai_member_begin(struct ai_member_builder *b, const char *name, ai_time mtime,
                          enum ai_row_schema schema, ai_gz_sink sink, void *ctx) AI_MUST_CHECK;
/* The app of the rows that name none (workspace export, ARCHITECTURE.md
 * §4: the workspace). Call after ai_member_begin; app must stay valid
 * until ai_member_end. */
void ai_member_set_app(struct ai_member_builder *b, const char *app);
/* Feeds source bytes, in pieces of any size. */
ai_result ai_member_feed(struct ai_member_builder *b, const void *p, size_t n) AI_MUST_CHECK;
/* Ends the member. When final, a last line without a newline is archived
 * (with a newline added); otherwise it is left out for a later run and
 * *consumed says how many of the fed bytes were archived. Fills the
 * member's raw_size, sha256, rows, bad_rows, times, roles, apps and bloom
 * (the caller owns roles, apps and bloom afterwards); *compressed gets the member's
 * gzip size. */
ai_result ai_member_end(struct ai_member_builder *b, int final, struct ai_member *m,
                        uint64_t *consumed, uint64_t *compressed) AI_MUST_CHECK;

/* The operation ids of the member just ended (valid until the next
 * ai_member_begin), for a filter over many members. */
const struct ai_idset *ai_member_ids(const struct ai_member_builder *b);

#endif
