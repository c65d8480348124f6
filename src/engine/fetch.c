/* fetch.c: one archived member read back by Range reads and checked
 * against its record, for cat and verify --data. */
#include <string.h>
#include "engine/fetch.h"

#define READ_CHUNK (4u << 20)

ai_result ai_fetch_init(struct ai_fetch *f)
{
	memset(f, 0, sizeof *f);
	ai_buf_init(&f->chunk, READ_CHUNK);
	return ai_gz_reader_new(&f->gz, 0, NULL, NULL);
}

void ai_fetch_release(struct ai_fetch *f)
{
	if (!f)
		return;
	ai_gz_reader_free(f->gz);
	ai_buf_release(&f->chunk);
	ai_hash_release(&f->sha);
	memset(f, 0, sizeof *f);
}

/* The reader's sink: the record's size caps what a member may inflate to,
 * so a forged one cannot inflate without bound. */
static ai_result inflated(void *ctx, const void *p, size_t n)
{
	struct ai_fetch *f = ctx;
	ai_result r;

	if (n > f->limit - f->size)
		return AI_ERR_TOO_BIG;
	f->size += n;
	r = ai_hash_update(&f->sha, p, n);
	if (r == AI_OK && f->sink)
		r = f->sink(f->ctx, p, n);
	return r;
}

/* Feeds the member's bytes to the reader, a chunk at a time. A fault of
 * the pack ends the reading with res->fault set and AI_OK. */
static ai_result read_member(struct ai_fetch *f, struct ai_store *dest,
                             const struct ai_fetch_record *rec, struct ai_fetch_result *res)
{
	ai_result r = AI_OK;

	for (uint64_t pos = 0; pos < rec->length && r == AI_OK; pos += f->chunk.len) {
		uint64_t want = rec->length - pos < READ_CHUNK ? rec->length - pos : READ_CHUNK;
		ai_buf_reset(&f->chunk);
		r = ai_store_read(dest, rec->pack, rec->offset + pos, want, NULL, &f->chunk, NULL);
		if (r == AI_ERR_NOT_FOUND) {
			res->fault = AI_FETCH_NO_PACK;
			return AI_OK;
		}
		if (r == AI_ERR_BAD_INPUT || (r == AI_OK && f->chunk.len != want)) {
			res->fault = AI_FETCH_SHORT;
			return AI_OK;
		}
		if (r != AI_OK) {
			res->store_failed = 1;
			return r;
		}
		res->bytes_read += f->chunk.len;
		r = ai_gz_reader_feed(f->gz, f->chunk.data, f->chunk.len);
	}
	return r;
}

ai_result ai_fetch_member(struct ai_fetch *f, struct ai_store *dest,
                          const struct ai_fetch_record *rec, ai_gz_sink sink, void *ctx,
                          struct ai_fetch_result *res)
{
	ai_result r;

	memset(res, 0, sizeof *res);
	if (!rec->length) {
		res->fault = AI_FETCH_EMPTY;
		return AI_OK;
	}
	ai_gz_reader_reset(f->gz);
	ai_gz_reader_set_sink(f->gz, inflated, f);
	f->size = 0;
	f->limit = rec->raw_size;
	f->sink = sink;
	f->ctx = ctx;
	r = ai_hash_init(&f->sha, AI_HASH_SHA256);
	if (r == AI_OK)
		r = read_member(f, dest, rec, res);
	if (r == AI_OK && res->fault == AI_FETCH_OK)
		r = ai_gz_reader_finish(f->gz, &res->members);
	res->size = f->size;
	if (!res->store_failed && (r == AI_ERR_TOO_BIG || r == AI_ERR_BAD_INPUT)) {
		res->fault = r == AI_ERR_TOO_BIG ? AI_FETCH_TOO_BIG : AI_FETCH_CORRUPT;
		r = AI_OK;
	}
	if (r != AI_OK || res->fault != AI_FETCH_OK)
		goto out;
	if (res->members != 1)
		res->fault = AI_FETCH_MEMBERS;
	else if (f->size != rec->raw_size)
		res->fault = AI_FETCH_SIZE;
	else if ((r = ai_hash_final(&f->sha, res->sha256)) == AI_OK &&
	         ai_memeq_ct(res->sha256, rec->sha256, AI_SHA256_LEN) != 0)
		res->fault = AI_FETCH_SHA256;
out:
	ai_hash_release(&f->sha);
	return r;
}
