/* gz.h: streaming gzip members (RFC 1952) through zlib. One member per
 * input; members are deterministic (fixed MTIME passed in, OS byte 255,
 * no host fields) and carry the source name in FNAME, so a concatenation
 * of them is a valid .gz stream that zcat reads and any single member can
 * be decompressed on its own. Only gz.c includes zlib. */
#ifndef AI_GZ_H
#define AI_GZ_H

#include <stddef.h>
#include <stdint.h>
#include "util/result.h"

/* Longest FNAME, in bytes, the writer accepts and the reader keeps. */
#define AI_GZ_NAME_MAX 4096

/* Receives compressed (writer) or decompressed (reader) bytes; returns
 * AI_OK to go on, anything else aborts the operation with that result. */
typedef ai_result (*ai_gz_sink)(void *ctx, const void *p, size_t n);

struct ai_gz_writer;

/* Starts one member. name goes in FNAME (may be NULL; bytes NUL and
 * non-Latin-1 are not checked, NUL truncates), mtime in MTIME (seconds
 * since the epoch, clamped to 0..UINT32_MAX), level 0..9. The sink gets
 * the compressed bytes as they are produced, in whole 64 KiB chunks (the
 * last one of a member shorter). Free with ai_gz_writer_free.
 * The name's bytes are stored as given (UTF-8 stays UTF-8) up to its
 * terminating NUL; NULL or "" writes no FNAME field; a name longer than
 * AI_GZ_NAME_MAX bytes is refused with AI_ERR_TOO_BIG, a level outside
 * 0..9 with AI_ERR_USAGE. The bytes depend only on the input bytes,
 * level, name and mtime, not on how the input is cut into writes. */
ai_result ai_gz_writer_new(struct ai_gz_writer **out, int level, const char *name,
                           int64_t mtime, ai_gz_sink sink, void *ctx) AI_MUST_CHECK;
ai_result ai_gz_writer_write(struct ai_gz_writer *w, const void *p, size_t n) AI_MUST_CHECK;
/* Flushes the member trailer; *compressed gets the member's total size
 * (may be NULL). A failed write or finish makes every later call return
 * the same result, and a write or finish after finish is AI_ERR_INTERNAL,
 * until ai_gz_writer_reset. */
ai_result ai_gz_writer_finish(struct ai_gz_writer *w, uint64_t *compressed) AI_MUST_CHECK;
/* Starts the next member with the same level and sink, reusing the
 * deflate state; an unfinished member is dropped (bytes already handed to
 * the sink stay handed). Same name rules as ai_gz_writer_new. */
ai_result ai_gz_writer_reset(struct ai_gz_writer *w, const char *name,
                             int64_t mtime) AI_MUST_CHECK;
/* Sends the following bytes to another sink (e.g. the next pack). */
void ai_gz_writer_set_sink(struct ai_gz_writer *w, ai_gz_sink sink, void *ctx);
/* Uncompressed bytes written to the current member so far (not mod 2^32). */
uint64_t ai_gz_writer_in_bytes(const struct ai_gz_writer *w);
/* CRC-32 of those bytes, as the trailer will carry it. */
uint32_t ai_gz_writer_crc32(const struct ai_gz_writer *w);
void ai_gz_writer_free(struct ai_gz_writer *w);

struct ai_gz_reader;

/* What the reader knows of one member once its trailer has checked out. */
struct ai_gz_member {
	uint64_t index;      /* 0 for the first member since new/reset */
	uint64_t offset;     /* of its first byte in the bytes fed */
	uint64_t length;     /* compressed size, header and trailer included */
	uint64_t size;       /* decompressed size */
	uint32_t crc32;
	uint32_t mtime;      /* MTIME field as stored */
	const char *name;    /* FNAME, "" if none; valid during the call only */
};

/* Called after each member's CRC-32 and ISIZE matched; a result other than
 * AI_OK aborts the read with it. */
typedef ai_result (*ai_gz_member_cb)(void *ctx, const struct ai_gz_member *m);

/* Decompresses a stream of one or more concatenated gzip members, fed in
 * pieces; the sink gets the decompressed bytes. max_out caps the total
 * decompressed size (AI_ERR_TOO_BIG beyond it; 0 means no cap).
 * A member's bytes reach the sink (in chunks of up to 64 KiB) before its
 * trailer is checked: a caller that must not act on unverified data holds
 * them until the member callback. Bad magic, method, reserved flags,
 * header CRC, deflate data, CRC-32 or ISIZE, and bytes after the last
 * member, fail with AI_ERR_BAD_INPUT. Any failure is sticky until
 * ai_gz_reader_reset. Free with ai_gz_reader_free. */
ai_result ai_gz_reader_new(struct ai_gz_reader **out, uint64_t max_out,
                           ai_gz_sink sink, void *ctx) AI_MUST_CHECK;
ai_result ai_gz_reader_feed(struct ai_gz_reader *r, const void *p, size_t n) AI_MUST_CHECK;
/* Checks the input ended at a member boundary (AI_ERR_BAD_INPUT if not);
 * *members gets the number of complete members read (may be NULL).
 * An input with no member at all is AI_ERR_BAD_INPUT too. */
ai_result ai_gz_reader_finish(struct ai_gz_reader *r, uint64_t *members) AI_MUST_CHECK;
/* Name stored in the last member header read ("" if none). Names longer
 * than AI_GZ_NAME_MAX bytes are cut there; the bytes are as stored, not
 * checked to be text. */
const char *ai_gz_reader_name(const struct ai_gz_reader *r);
/* Calls cb (may be NULL) after each verified member. */
void ai_gz_reader_set_member_cb(struct ai_gz_reader *r, ai_gz_member_cb cb, void *ctx);
void ai_gz_reader_set_sink(struct ai_gz_reader *r, ai_gz_sink sink, void *ctx);
/* Forgets the stream read so far (and any error) to read a new one, with
 * the same cap, sink and callback, reusing the inflate state. */
void ai_gz_reader_reset(struct ai_gz_reader *r);
void ai_gz_reader_free(struct ai_gz_reader *r);

#endif
