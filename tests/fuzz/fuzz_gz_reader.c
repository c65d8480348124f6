/* fuzz_gz_reader.c: libFuzzer target for the gzip reader (and a writer
 * round trip). Not built by make; from the source tree:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *     tests/fuzz/fuzz_gz_reader.c src/format/gz.c -lz -o fuzz_gz_reader
 *   mkdir -p corpus && ./fuzz_gz_reader -max_total_time=60 corpus
 * Seed the corpus with a few small .gz files (e.g. from gzip -c) for speed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "format/gz.h"

#define CAP (256u << 10)

struct out {
	uint64_t len;
	uint64_t hash;
	uint64_t member_bytes;
};

static ai_result sink(void *ctx, const void *p, size_t n)
{
	struct out *o = ctx;
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		o->hash = (o->hash ^ s[i]) * 0x100000001b3ull;
	o->len += n;
	if (o->len > CAP)
		abort();
	return AI_OK;
}

static ai_result on_member(void *ctx, const struct ai_gz_member *m)
{
	struct out *o = ctx;

	if (strlen(m->name) > AI_GZ_NAME_MAX)
		abort();
	o->member_bytes += m->size;
	return AI_OK;
}

/* Reads data in pieces of `piece` bytes (0: at once). */
static ai_result read_all(const uint8_t *data, size_t n, size_t piece, struct out *o)
{
	struct ai_gz_reader *r = NULL;
	ai_result res;
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	o->hash = 0xcbf29ce484222325ull;
	if (ai_gz_reader_new(&r, CAP, sink, o) != AI_OK)
		abort();
	ai_gz_reader_set_member_cb(r, on_member, o);
	res = AI_OK;
	while (off < n && res == AI_OK) {
		size_t k = piece && piece < n - off ? piece : n - off;

		res = ai_gz_reader_feed(r, data + off, k);
		off += k;
	}
	if (res == AI_OK)
		res = ai_gz_reader_finish(r, NULL);
	if (res == AI_OK && o->member_bytes != o->len)
		abort();
	(void)ai_gz_reader_name(r);
	ai_gz_reader_free(r);
	return res;
}

struct collect {
	uint8_t *p;
	size_t len, cap;
};

static ai_result collect(void *ctx, const void *p, size_t n)
{
	struct collect *c = ctx;

	if (n > c->cap - c->len)
		return AI_ERR_TOO_BIG;
	memcpy(c->p + c->len, p, n);
	c->len += n;
	return AI_OK;
}

static void round_trip(const uint8_t *data, size_t n, int level)
{
	struct ai_gz_writer *w = NULL;
	struct collect c = { NULL, 0, n + n / 8 + 1024 };
	struct out o;
	uint64_t csize = 0;

	c.p = malloc(c.cap);
	if (!c.p || ai_gz_writer_new(&w, level, "fuzz", 1, collect, &c) != AI_OK ||
	    ai_gz_writer_write(w, data, n / 2) != AI_OK ||
	    ai_gz_writer_write(w, data + n / 2, n - n / 2) != AI_OK ||
	    ai_gz_writer_finish(w, &csize) != AI_OK || csize != c.len)
		abort();
	ai_gz_writer_free(w);
	if (read_all(c.p, c.len, 3, &o) != AI_OK || o.len != n)
		abort();
	free(c.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out whole, bits;
	ai_result a, b;
	size_t piece;

	if (size < 1)
		return 0;
	piece = 1 + data[0] % 37;
	a = read_all(data + 1, size - 1, 0, &whole);
	b = read_all(data + 1, size - 1, piece, &bits);
	/* Validity is a property of the bytes, not of how they arrive. */
	if ((a == AI_OK) != (b == AI_OK))
		abort();
	if (a == AI_OK && (whole.len != bits.len || whole.hash != bits.hash))
		abort();
	if (size - 1 <= 8192 && data[0] >= 0xc0)
		round_trip(data + 1, size - 1, data[0] % 10);
	return 0;
}
