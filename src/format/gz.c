/* gz.c: gzip members (RFC 1952) over zlib's raw deflate: a deterministic
 * member writer and a streaming, verifying reader of concatenated members. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>
#include "format/gz.h"

/* Output chunk handed to the sink, and the writer's input block size. */
#define CHUNK (64 * 1024)

enum { ID1 = 0x1f, ID2 = 0x8b, CM_DEFLATE = 8, OS_UNKNOWN = 255 };
enum { FHCRC = 0x02, FEXTRA = 0x04, FNAME = 0x08, FCOMMENT = 0x10, FRESERVED = 0xe0 };

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

struct ai_gz_writer {
	z_stream zs;
	int level;
	ai_gz_sink sink;
	void *ctx;
	ai_result err;       /* sticky until reset */
	int finished;
	uint32_t crc;
	uint64_t in_bytes;
	uint64_t out_bytes;
	size_t out_len;
	size_t stage_len;
	unsigned char out[CHUNK];
	/* deflate sees the input only in CHUNK-sized blocks: stored blocks
	 * (level 0) are cut by what is available, so this keeps the bytes
	 * independent of how the caller splits its writes. */
	unsigned char stage[CHUNK];
};

static ai_result out_flush(struct ai_gz_writer *w)
{
	size_t n = w->out_len;

	w->out_len = 0;
	return n ? w->sink(w->ctx, w->out, n) : AI_OK;
}

static ai_result emit(struct ai_gz_writer *w, const void *p, size_t n)
{
	const unsigned char *s = p;
	ai_result r;

	while (n) {
		size_t take = CHUNK - w->out_len;

		if (take > n)
			take = n;
		memcpy(w->out + w->out_len, s, take);
		w->out_len += take;
		w->out_bytes += take;
		s += take;
		n -= take;
		if (w->out_len == CHUNK && (r = out_flush(w)) != AI_OK)
			return r;
	}
	return AI_OK;
}

/* Feeds one block (at most CHUNK bytes) to deflate. */
static ai_result wdeflate(struct ai_gz_writer *w, const unsigned char *p, size_t n,
                          int flush)
{
	ai_result r;
	int ret;

	w->zs.next_in = p;
	w->zs.avail_in = (uInt)n;
	for (;;) {
		size_t room = CHUNK - w->out_len, got;

		w->zs.next_out = w->out + w->out_len;
		w->zs.avail_out = (uInt)room;
		ret = deflate(&w->zs, flush);
		if (ret == Z_STREAM_ERROR)
			return AI_ERR_INTERNAL;
		got = room - w->zs.avail_out;
		w->out_len += got;
		w->out_bytes += got;
		if (w->out_len == CHUNK) {
			if ((r = out_flush(w)) != AI_OK)
				return r;
			continue;
		}
		/* Output room left over means deflate has taken all it was given. */
		if (flush != Z_FINISH || ret == Z_STREAM_END)
			return AI_OK;
	}
}

static ai_result check_name(const char *name)
{
	if (name && strnlen(name, AI_GZ_NAME_MAX + 1) > AI_GZ_NAME_MAX)
		return AI_ERR_TOO_BIG;
	return AI_OK;
}

static ai_result start_member(struct ai_gz_writer *w, const char *name, int64_t mtime)
{
	unsigned char h[10];
	uint32_t t;
	ai_result r;

	if (mtime < 0)
		t = 0;
	else if (mtime > (int64_t)UINT32_MAX)
		t = UINT32_MAX;
	else
		t = (uint32_t)mtime;
	w->crc = (uint32_t)crc32(0L, Z_NULL, 0);
	w->in_bytes = w->out_bytes = 0;
	w->out_len = w->stage_len = 0;
	w->finished = 0;
	w->err = AI_OK;
	if (name && !*name)
		name = NULL;
	h[0] = ID1;
	h[1] = ID2;
	h[2] = CM_DEFLATE;
	h[3] = name ? FNAME : 0;
	put32(h + 4, t);
	h[8] = w->level == 9 ? 2 : w->level == 1 ? 4 : 0;
	h[9] = OS_UNKNOWN;
	r = emit(w, h, sizeof(h));
	if (r == AI_OK && name)
		r = emit(w, name, strlen(name) + 1);
	w->err = r;
	return r;
}

ai_result ai_gz_writer_new(struct ai_gz_writer **out, int level, const char *name,
                           int64_t mtime, ai_gz_sink sink, void *ctx)
{
	struct ai_gz_writer *w = NULL;
	ai_result r;
	int ret;

	*out = NULL;
	if (level < 0 || level > 9)
		return AI_ERR_USAGE;
	if ((r = check_name(name)) != AI_OK)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return AI_ERR_NOMEM;
	w->level = level;
	w->sink = sink;
	w->ctx = ctx;
	ret = deflateInit2(&w->zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	if (ret != Z_OK) {
		free(w);
		return ret == Z_MEM_ERROR ? AI_ERR_NOMEM : AI_ERR_INTERNAL;
	}
	r = start_member(w, name, mtime);
	if (r != AI_OK) {
		ai_gz_writer_free(w);
		return r;
	}
	*out = w;
	return AI_OK;
}

ai_result ai_gz_writer_write(struct ai_gz_writer *w, const void *p, size_t n)
{
	const unsigned char *s = p;
	ai_result r = AI_OK;

	if (w->err != AI_OK)
		return w->err;
	if (w->finished)
		return AI_ERR_INTERNAL;
	if (!n)
		return AI_OK;
	w->crc = (uint32_t)crc32_z(w->crc, s, n);
	w->in_bytes += n;
	if (w->stage_len) {
		size_t take = CHUNK - w->stage_len;

		if (take > n)
			take = n;
		memcpy(w->stage + w->stage_len, s, take);
		w->stage_len += take;
		s += take;
		n -= take;
		if (w->stage_len < CHUNK)
			return AI_OK;
		w->stage_len = 0;
		if ((r = wdeflate(w, w->stage, CHUNK, Z_NO_FLUSH)) != AI_OK)
			goto out;
	}
	/* Whole blocks go to deflate straight from the caller's memory. */
	for (; n >= CHUNK; s += CHUNK, n -= CHUNK)
		if ((r = wdeflate(w, s, CHUNK, Z_NO_FLUSH)) != AI_OK)
			goto out;
	memcpy(w->stage, s, n);
	w->stage_len = n;
out:
	w->err = r;
	return r;
}

ai_result ai_gz_writer_finish(struct ai_gz_writer *w, uint64_t *compressed)
{
	unsigned char t[8];
	ai_result r;

	if (w->err != AI_OK)
		return w->err;
	if (w->finished)
		return AI_ERR_INTERNAL;
	r = wdeflate(w, w->stage, w->stage_len, Z_FINISH);
	w->stage_len = 0;
	if (r != AI_OK)
		goto out;
	put32(t, w->crc);
	put32(t + 4, (uint32_t)(w->in_bytes & 0xffffffffu));
	if ((r = emit(w, t, sizeof(t))) != AI_OK)
		goto out;
	r = out_flush(w);
	if (r == AI_OK) {
		w->finished = 1;
		if (compressed)
			*compressed = w->out_bytes;
	}
out:
	w->err = r;
	return r;
}

ai_result ai_gz_writer_reset(struct ai_gz_writer *w, const char *name, int64_t mtime)
{
	ai_result r = check_name(name);

	if (r != AI_OK)
		return r;
	if (deflateReset(&w->zs) != Z_OK) {
		w->err = AI_ERR_INTERNAL;
		return w->err;
	}
	return start_member(w, name, mtime);
}

void ai_gz_writer_set_sink(struct ai_gz_writer *w, ai_gz_sink sink, void *ctx)
{
	w->sink = sink;
	w->ctx = ctx;
}

uint64_t ai_gz_writer_in_bytes(const struct ai_gz_writer *w)
{
	return w->in_bytes;
}

uint32_t ai_gz_writer_crc32(const struct ai_gz_writer *w)
{
	return w->crc;
}

void ai_gz_writer_free(struct ai_gz_writer *w)
{
	if (!w)
		return;
	deflateEnd(&w->zs);
	free(w);
}

/* Reader states, in the order the fields appear in a member. */
enum rstate { R_FIXED, R_XLEN, R_EXTRA, R_NAME, R_COMMENT, R_HCRC, R_BODY, R_TRAILER };

struct ai_gz_reader {
	z_stream zs;
	uint64_t max_out;
	ai_gz_sink sink;
	void *ctx;
	ai_gz_member_cb member_cb;
	void *member_ctx;
	ai_result err;        /* sticky until reset */
	enum rstate st;
	unsigned char fix[10]; /* a fixed-size field gathered across feeds */
	size_t fix_len;
	unsigned flg;
	uint32_t mtime;
	uint32_t hcrc;        /* CRC-32 of the header bytes so far (FHCRC) */
	size_t skip;          /* FEXTRA bytes still to skip */
	uint64_t members;
	uint64_t in_total;    /* bytes consumed from all feeds */
	uint64_t total_out;   /* bytes handed to the sink */
	uint64_t member_start;
	uint64_t member_out;
	uint32_t crc;
	size_t name_len;
	char name[AI_GZ_NAME_MAX + 1];
	size_t out_len;
	unsigned char out[CHUNK];
};

/* Gathers the next want bytes of a fixed-size field; returns the bytes
 * taken from p, and r->fix_len == want once the field is complete. */
static size_t gather(struct ai_gz_reader *r, const unsigned char *p, size_t n,
                     size_t want)
{
	size_t take = want - r->fix_len;

	if (take > n)
		take = n;
	memcpy(r->fix + r->fix_len, p, take);
	r->fix_len += take;
	return take;
}

/* Moves to the first header field after `after` that the flags announce. */
static void header_next(struct ai_gz_reader *r, enum rstate after)
{
	r->fix_len = 0;
	if (after < R_XLEN && (r->flg & FEXTRA))
		r->st = R_XLEN;
	else if (after < R_NAME && (r->flg & FNAME))
		r->st = R_NAME;
	else if (after < R_COMMENT && (r->flg & FCOMMENT))
		r->st = R_COMMENT;
	else if (after < R_HCRC && (r->flg & FHCRC))
		r->st = R_HCRC;
	else
		r->st = R_BODY;
}

static ai_result parse_fixed(struct ai_gz_reader *r)
{
	const unsigned char *h = r->fix;

	if (h[0] != ID1 || h[1] != ID2 || h[2] != CM_DEFLATE || (h[3] & FRESERVED))
		return AI_ERR_BAD_INPUT;
	r->flg = h[3];
	r->mtime = get32(h + 4);
	r->name_len = 0;
	r->name[0] = '\0';
	r->crc = (uint32_t)crc32(0L, Z_NULL, 0);
	r->member_out = 0;
	if (inflateReset(&r->zs) != Z_OK)
		return AI_ERR_INTERNAL;
	header_next(r, R_FIXED);
	return AI_OK;
}

/* Consumes a NUL-terminated field; keeps it in name when keep is set. */
static size_t take_string(struct ai_gz_reader *r, const unsigned char *p, size_t n,
                          int keep, int *done)
{
	const unsigned char *z = memchr(p, '\0', n);
	size_t len = z ? (size_t)(z - p) : n;

	if (keep && r->name_len < AI_GZ_NAME_MAX) {
		size_t take = AI_GZ_NAME_MAX - r->name_len;

		if (take > len)
			take = len;
		memcpy(r->name + r->name_len, p, take);
		r->name_len += take;
		r->name[r->name_len] = '\0';
	}
	*done = z != NULL;
	return z ? len + 1 : len;
}

static ai_result deliver(struct ai_gz_reader *r)
{
	size_t n = r->out_len;

	if (!n)
		return AI_OK;
	r->out_len = 0;
	if (r->max_out && (r->total_out > r->max_out || n > r->max_out - r->total_out))
		return AI_ERR_TOO_BIG;
	r->total_out += n;
	return r->sink(r->ctx, r->out, n);
}

static ai_result body(struct ai_gz_reader *r, const unsigned char *p, size_t n,
                      size_t *used)
{
	uInt given = n > UINT_MAX ? UINT_MAX : (uInt)n;
	ai_result res = AI_OK;
	int ret;

	r->zs.next_in = p;
	r->zs.avail_in = given;
	for (;;) {
		size_t room = CHUNK - r->out_len, got;

		r->zs.next_out = r->out + r->out_len;
		r->zs.avail_out = (uInt)room;
		ret = inflate(&r->zs, Z_NO_FLUSH);
		got = room - r->zs.avail_out;
		if (got) {
			r->crc = (uint32_t)crc32_z(r->crc, r->out + r->out_len, got);
			r->out_len += got;
			r->member_out += got;
		}
		if (ret == Z_STREAM_END) {
			res = deliver(r);
			r->st = R_TRAILER;
			r->fix_len = 0;
			break;
		}
		if (ret == Z_MEM_ERROR) {
			res = AI_ERR_NOMEM;
			break;
		}
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			res = AI_ERR_BAD_INPUT;
			break;
		}
		if (r->out_len < CHUNK)
			break;  /* output room left: all input taken */
		if ((res = deliver(r)) != AI_OK)
			break;
	}
	*used = given - r->zs.avail_in;
	return res;
}

static ai_result trailer_done(struct ai_gz_reader *r)
{
	struct ai_gz_member m;

	if (get32(r->fix) != r->crc ||
	    get32(r->fix + 4) != (uint32_t)(r->member_out & 0xffffffffu))
		return AI_ERR_BAD_INPUT;
	m.index = r->members++;
	m.offset = r->member_start;
	m.length = r->in_total - r->member_start;
	m.size = r->member_out;
	m.crc32 = r->crc;
	m.mtime = r->mtime;
	m.name = r->name;
	r->st = R_FIXED;
	r->fix_len = 0;
	return r->member_cb ? r->member_cb(r->member_ctx, &m) : AI_OK;
}

ai_result ai_gz_reader_feed(struct ai_gz_reader *r, const void *p, size_t n)
{
	const unsigned char *s = p;
	ai_result res = AI_OK;

	if (r->err != AI_OK)
		return r->err;
	while (n && res == AI_OK) {
		enum rstate was = r->st;
		size_t used = 0;
		int done;

		switch (was) {
		case R_FIXED:
			if (r->fix_len == 0) {
				r->member_start = r->in_total;
				r->hcrc = (uint32_t)crc32(0L, Z_NULL, 0);
			}
			used = gather(r, s, n, 10);
			if (r->fix_len == 10)
				res = parse_fixed(r);
			break;
		case R_XLEN:
			used = gather(r, s, n, 2);
			if (r->fix_len == 2) {
				r->skip = (size_t)r->fix[0] | (size_t)r->fix[1] << 8;
				r->st = R_EXTRA;
				if (!r->skip)
					header_next(r, R_EXTRA);
			}
			break;
		case R_EXTRA:
			used = n < r->skip ? n : r->skip;
			r->skip -= used;
			if (!r->skip)
				header_next(r, R_EXTRA);
			break;
		case R_NAME:
		case R_COMMENT:
			used = take_string(r, s, n, was == R_NAME, &done);
			if (done)
				header_next(r, was);
			break;
		case R_HCRC:
			used = gather(r, s, n, 2);
			if (r->fix_len == 2) {
				if (((unsigned)r->fix[0] | (unsigned)r->fix[1] << 8) !=
				    (r->hcrc & 0xffffu))
					res = AI_ERR_BAD_INPUT;
				else
					header_next(r, R_HCRC);
			}
			break;
		case R_BODY:
			res = body(r, s, n, &used);
			break;
		case R_TRAILER:
			used = gather(r, s, n, 8);
			break;
		}
		/* The header CRC covers every header byte before the CRC itself. */
		if (was < R_HCRC && used)
			r->hcrc = (uint32_t)crc32_z(r->hcrc, s, used);
		r->in_total += used;
		s += used;
		n -= used;
		if (res == AI_OK && was == R_TRAILER && r->fix_len == 8)
			res = trailer_done(r);
	}
	r->err = res;
	return res;
}

ai_result ai_gz_reader_finish(struct ai_gz_reader *r, uint64_t *members)
{
	if (r->err != AI_OK)
		return r->err;
	/* Ending inside a member is truncation; ending before any is not gzip. */
	if (r->st != R_FIXED || r->fix_len || !r->members) {
		r->err = AI_ERR_BAD_INPUT;
		return r->err;
	}
	if (members)
		*members = r->members;
	return AI_OK;
}

const char *ai_gz_reader_name(const struct ai_gz_reader *r)
{
	return r->name;
}

void ai_gz_reader_set_member_cb(struct ai_gz_reader *r, ai_gz_member_cb cb, void *ctx)
{
	r->member_cb = cb;
	r->member_ctx = ctx;
}

void ai_gz_reader_set_sink(struct ai_gz_reader *r, ai_gz_sink sink, void *ctx)
{
	r->sink = sink;
	r->ctx = ctx;
}

void ai_gz_reader_reset(struct ai_gz_reader *r)
{
	r->err = AI_OK;
	r->st = R_FIXED;
	r->fix_len = 0;
	r->members = 0;
	r->in_total = 0;
	r->total_out = 0;
	r->out_len = 0;
	r->name_len = 0;
	r->name[0] = '\0';
}

ai_result ai_gz_reader_new(struct ai_gz_reader **out, uint64_t max_out,
                           ai_gz_sink sink, void *ctx)
{
	struct ai_gz_reader *r;
	int ret;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return AI_ERR_NOMEM;
	r->max_out = max_out;
	r->sink = sink;
	r->ctx = ctx;
	ret = inflateInit2(&r->zs, -15);
	if (ret != Z_OK) {
		free(r);
		return ret == Z_MEM_ERROR ? AI_ERR_NOMEM : AI_ERR_INTERNAL;
	}
	ai_gz_reader_reset(r);
	*out = r;
	return AI_OK;
}

void ai_gz_reader_free(struct ai_gz_reader *r)
{
	if (!r)
		return;
	inflateEnd(&r->zs);
	free(r);
}
