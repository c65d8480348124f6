/* gz.h: streaming gzip members (RFC 1952) through zlib. One member per
 * input; members are deterministic (fixed MTIME passed in, OS byte 255,
 * no host fields) and carry the source name in FNAME, so a concatenation
 * of them is a valid .gz stream that zcat reads and any single member can
 * be decompressed on its own. Only gz.c includes zlib. */
#ifndef AI_GZ_H
#define AI_GZ_H

#include <stddef.h>
#include <stdint.h>
#include "result.h"

/* Receives compressed (writer) or decompressed (reader) bytes; returns
 * AI_OK to go on, anything else aborts the operation with that result. */
typedef ai_result (*ai_gz_sink)(void *ctx, const void *p, size_t n);

struct ai_gz_writer;

/* Starts one member. name goes in FNAME (may be NULL; bytes NUL and
 * non-Latin-1 are not checked, NUL truncates), mtime in MTIME (seconds
 * since the epoch, clamped to 0..UINT32_MAX), level 0..9. The sink gets
 * the compressed bytes as they are produced. Free with ai_gz_writer_free. */
ai_result ai_gz_writer_new(struct ai_gz_writer **out, int level, const char *name,
                           int64_t mtime, ai_gz_sink sink, void *ctx) AI_MUST_CHECK;
ai_result ai_gz_writer_write(struct ai_gz_writer *w, const void *p, size_t n) AI_MUST_CHECK;
/* Flushes the member trailer; *compressed gets the member's total size. */
ai_result ai_gz_writer_finish(struct ai_gz_writer *w, uint64_t *compressed) AI_MUST_CHECK;
void ai_gz_writer_free(struct ai_gz_writer *w);

struct ai_gz_reader;

/* Decompresses a stream of one or more concatenated gzip members, fed in
 * pieces; the sink gets the decompressed bytes. max_out caps the total
 * decompressed size (AI_ERR_TOO_BIG beyond it; 0 means no cap). */
ai_result ai_gz_reader_new(struct ai_gz_reader **out, uint64_t max_out,
                           ai_gz_sink sink, void *ctx) AI_MUST_CHECK;
ai_result ai_gz_reader_feed(struct ai_gz_reader *r, const void *p, size_t n) AI_MUST_CHECK;
/* Checks the input ended at a member boundary (AI_ERR_BAD_INPUT if not);
 * *members gets the number of complete members read (may be NULL). */
ai_result ai_gz_reader_finish(struct ai_gz_reader *r, uint64_t *members) AI_MUST_CHECK;
/* Name stored in the last member header read ("" if none). */
const char *ai_gz_reader_name(const struct ai_gz_reader *r);
void ai_gz_reader_free(struct ai_gz_reader *r);

#endif
