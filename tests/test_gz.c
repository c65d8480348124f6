/* test_gz.c: gzip member writer and multi-member reader, checked against
 * each other and against the real gzip. */
#include "config.h"
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util/buf.h"
#include "format/gz.h"

#define BIG (10 * 1024 * 1024)
#define OUT_CAP ((size_t)64 * 1024 * 1024)

static ai_result buf_sink(void *ctx, const void *p, size_t n)
{
	return ai_buf_add(ctx, p, n);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned char *random_bytes(size_t n, uint64_t seed)
{
	unsigned char *p = malloc(n ? n : 1);
	size_t i;

	cr_assert_not_null(p);
	rng_state = seed;
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(rng() >> 24);
	return p;
}

/* Telemetry-like JSON lines: compresses very well. */
static unsigned char *json_lines(size_t n)
{
	unsigned char *p = malloc(n);
	size_t off = 0;
	unsigned i = 0;

	cr_assert_not_null(p);
	while (off < n) {
		char line[160];
		int k = snprintf(line, sizeof(line),
		                 "{\"time\":\"2024-05-01T10:%02u:%02u.%03uZ\",\"name\":\"GET /api/items\",\"id\":%u}\n",
		                 i / 60 % 60, i % 60, i % 1000, i);
		size_t take = (size_t)k < n - off ? (size_t)k : n - off;

		memcpy(p + off, line, take);
		off += take;
		i++;
	}
	return p;
}

static uint32_t ref_crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

/* Writes data in pieces of `piece` bytes (0: at once; SIZE_MAX: random
 * sizes up to 200000) as one member, appended to out. */
static uint64_t compress_to(struct ai_buf *out, int level, const char *name, int64_t mtime,
                            const unsigned char *data, size_t n, size_t piece)
{
	struct ai_gz_writer *w = NULL;
	uint64_t csize = 0;
	size_t off = 0;

	cr_assert_eq(ai_gz_writer_new(&w, level, name, mtime, buf_sink, out), AI_OK);
	rng_state = 0x9e3779b97f4a7c15ull ^ n;
	while (off < n) {
		size_t k = piece == 0 ? n : piece == SIZE_MAX ? (size_t)(rng() % 200000) : piece;

		if (k > n - off)
			k = n - off;
		cr_assert_eq(ai_gz_writer_write(w, data + off, k), AI_OK);
		off += k;
	}
	cr_assert_eq(ai_gz_writer_finish(w, &csize), AI_OK);
	cr_assert_eq(ai_gz_writer_in_bytes(w), n);
	ai_gz_writer_free(w);
	return csize;
}

/* Feeds the stream in pieces (same convention as compress_to); returns
 * the first failure of feed or finish. */
static ai_result decompress_to(struct ai_buf *out, const void *data, size_t n, size_t piece,
                               uint64_t max_out, uint64_t *members)
{
	const unsigned char *p = data;
	struct ai_gz_reader *r = NULL;
	ai_result res = AI_OK;
	size_t off = 0;

	cr_assert_eq(ai_gz_reader_new(&r, max_out, buf_sink, out), AI_OK);
	rng_state = 0x51ed270b2a1c3e5dull ^ n;
	while (off < n && res == AI_OK) {
		size_t k = piece == 0 ? n : piece == SIZE_MAX ? 1 + (size_t)(rng() % 70000) : piece;

		if (k > n - off)
			k = n - off;
		res = ai_gz_reader_feed(r, p + off, k);
		off += k;
	}
	if (res == AI_OK)
		res = ai_gz_reader_finish(r, members);
	ai_gz_reader_free(r);
	return res;
}

static void assert_round_trip(int level, const unsigned char *data, size_t n,
                              size_t wpiece, size_t rpiece)
{
	struct ai_buf gz, plain;
	uint64_t members = 0, csize;

	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	csize = compress_to(&gz, level, "x.blob", 1700000000, data, n, wpiece);
	cr_assert_eq(csize, gz.len);
	cr_assert_eq(decompress_to(&plain, gz.data, gz.len, rpiece, 0, &members), AI_OK,
	             "level %d, %zu bytes, pieces %zu/%zu", level, n, wpiece, rpiece);
	cr_assert_eq(members, 1);
	cr_assert_eq(plain.len, n);
	cr_assert(n == 0 || memcmp(plain.data, data, n) == 0);
	ai_buf_release(&gz);
	ai_buf_release(&plain);
}

static char *temp_path(void)
{
	const char *dir = getenv("TMPDIR");
	char *path = NULL;
	int fd;

	cr_assert_gt(asprintf(&path, "%s/test_gz.XXXXXX", dir && *dir ? dir : "/tmp"), 0);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	return path;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

/* Runs a shell command and collects its standard output; returns its
 * exit status. */
static int run_capture(const char *cmd, struct ai_buf *out)
{
	char chunk[65536];
	FILE *f = popen(cmd, "r");
	size_t k;
	int st;

	cr_assert_not_null(f);
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cr_assert_eq(ai_buf_add(out, chunk, k), AI_OK);
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void need_gzip(void)
{
	if (system("command -v gzip >/dev/null 2>&1") != 0)
		cr_skip_test("gzip is not installed");
}

Test(gz, empty_input_makes_a_valid_member_that_reads_back_empty)
{
	assert_round_trip(6, NULL, 0, 0, 0);
	assert_round_trip(0, NULL, 0, 0, 1);
}

Test(gz, small_input_round_trips_at_every_level)
{
	static const unsigned char msg[] = "{\"name\":\"Request\",\"duration\":12}\n";
	int level;

	for (level = 0; level <= 9; level++) {
		assert_round_trip(level, msg, sizeof(msg) - 1, 0, 0);
		assert_round_trip(level, msg, sizeof(msg) - 1, 1, 1);
	}
}

Test(gz, ten_mib_of_random_bytes_round_trip_in_uneven_pieces, .timeout = 120)
{
	unsigned char *data = random_bytes(BIG, 42);

	assert_round_trip(6, data, BIG, SIZE_MAX, SIZE_MAX);
	assert_round_trip(1, data, BIG, 65536, 4093);
	assert_round_trip(0, data, BIG, 1000003, 0);
	free(data);
}

Test(gz, ten_mib_of_json_lines_round_trip_in_uneven_pieces, .timeout = 120)
{
	unsigned char *data = json_lines(BIG);

	assert_round_trip(6, data, BIG, SIZE_MAX, SIZE_MAX);
	assert_round_trip(9, data, BIG, 65537, 0);
	assert_round_trip(1, data, BIG, 0, 511);
	free(data);
}

Test(gz, json_lines_compress_well)
{
	unsigned char *data = json_lines(1 << 20);
	struct ai_buf gz;

	ai_buf_init(&gz, OUT_CAP);
	compress_to(&gz, 6, NULL, 0, data, 1 << 20, 0);
	cr_assert_lt(gz.len, (1 << 20) / 8, "got %zu bytes", gz.len);
	ai_buf_release(&gz);
	free(data);
}

Test(gz, same_input_gives_the_same_bytes_however_it_is_written, .timeout = 120)
{
	static const size_t pieces[] = { 0, 1, 7, 4096, 65535, 65536, 65537, 200001, SIZE_MAX };
	static const int levels[] = { 0, 1, 6, 9 };
	const size_t n = 3 * 1024 * 1024 + 12345;
	unsigned char *data = json_lines(n);
	size_t i, j;

	/* Mix in incompressible runs so stored and Huffman-only blocks occur. */
	rng_state = 7;
	for (i = n / 3; i < n / 3 + 300000; i++)
		data[i] = (unsigned char)(rng() >> 24);
	for (j = 0; j < sizeof(levels) / sizeof(levels[0]); j++) {
		struct ai_buf first;

		ai_buf_init(&first, OUT_CAP);
		compress_to(&first, levels[j], "app/Requests/x.blob", 1714557600, data, n, 0);
		for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
			struct ai_buf again;

			if (pieces[i] == 1 && levels[j] != 0 && levels[j] != 1)
				continue;  /* byte-wise writes are slow; levels 0 and 1 cover them */
			ai_buf_init(&again, OUT_CAP);
			compress_to(&again, levels[j], "app/Requests/x.blob", 1714557600, data, n,
			            pieces[i]);
			cr_assert_eq(again.len, first.len, "level %d piece %zu", levels[j], pieces[i]);
			cr_assert(memcmp(again.data, first.data, first.len) == 0,
			          "level %d piece %zu", levels[j], pieces[i]);
			ai_buf_release(&again);
		}
		ai_buf_release(&first);
	}
	free(data);
}

Test(gz, header_carries_name_mtime_and_level_hint)
{
	static const struct { int level; unsigned char xfl; } cases[] = {
		{ 0, 0 }, { 1, 4 }, { 5, 0 }, { 6, 0 }, { 9, 2 },
	};
	const char *name = "app_0123/Requests/2024-05-01/10/ab_20240501_100000.blob";
	size_t i, nl = strlen(name);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const unsigned char *h;
		struct ai_buf gz;

		ai_buf_init(&gz, OUT_CAP);
		compress_to(&gz, cases[i].level, name, 0x11223344, (const unsigned char *)"hi", 2, 0);
		h = (const unsigned char *)gz.data;
		cr_assert_eq(h[0], 0x1f);
		cr_assert_eq(h[1], 0x8b);
		cr_assert_eq(h[2], 8);
		cr_assert_eq(h[3], 0x08, "FLG is FNAME only");
		cr_assert_eq(h[4], 0x44);
		cr_assert_eq(h[5], 0x33);
		cr_assert_eq(h[6], 0x22);
		cr_assert_eq(h[7], 0x11);
		cr_assert_eq(h[8], cases[i].xfl, "level %d", cases[i].level);
		cr_assert_eq(h[9], 255);
		cr_assert(memcmp(h + 10, name, nl + 1) == 0, "FNAME is the name and its NUL");
		/* Trailer: CRC-32 and ISIZE of "hi". */
		cr_assert_eq(gz.data[gz.len - 4], 2);
		cr_assert_eq((unsigned char)gz.data[gz.len - 8], ref_crc32((const unsigned char *)"hi", 2) & 0xff);
		ai_buf_release(&gz);
	}
}

Test(gz, no_name_means_no_fname_and_mtime_is_clamped)
{
	struct ai_buf gz;

	ai_buf_init(&gz, OUT_CAP);
	compress_to(&gz, 6, NULL, -5, (const unsigned char *)"a", 1, 0);
	cr_assert_eq(gz.data[3], 0);
	cr_assert(memcmp(gz.data + 4, "\0\0\0\0", 4) == 0);
	ai_buf_reset(&gz);
	compress_to(&gz, 6, "", INT64_MAX, (const unsigned char *)"a", 1, 0);
	cr_assert_eq(gz.data[3], 0, "an empty name writes no FNAME");
	cr_assert(memcmp(gz.data + 4, "\xff\xff\xff\xff", 4) == 0);
	ai_buf_release(&gz);
}

Test(gz, name_ends_at_its_first_nul_and_a_too_long_name_is_refused)
{
	static const char with_nul[] = "first\0second";
	struct ai_gz_writer *w = NULL;
	struct ai_buf gz, plain;
	char *long_name = malloc(AI_GZ_NAME_MAX + 2);

	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	compress_to(&gz, 6, with_nul, 0, (const unsigned char *)"z", 1, 0);
	cr_assert(memcmp(gz.data + 10, "first\0", 6) == 0);

	memset(long_name, 'n', AI_GZ_NAME_MAX + 1);
	long_name[AI_GZ_NAME_MAX + 1] = '\0';
	cr_assert_eq(ai_gz_writer_new(&w, 6, long_name, 0, buf_sink, &gz), AI_ERR_TOO_BIG);
	cr_assert_null(w);
	long_name[AI_GZ_NAME_MAX] = '\0';
	ai_buf_reset(&gz);
	compress_to(&gz, 6, long_name, 0, (const unsigned char *)"z", 1, 0);
	cr_assert_eq(decompress_to(&plain, gz.data, gz.len, 0, 0, NULL), AI_OK);
	cr_assert_eq(plain.len, 1);
	ai_buf_release(&gz);
	ai_buf_release(&plain);
	free(long_name);
}

Test(gz, bad_level_is_refused)
{
	struct ai_gz_writer *w = NULL;
	struct ai_buf gz;

	ai_buf_init(&gz, 100);
	cr_assert_eq(ai_gz_writer_new(&w, 10, NULL, 0, buf_sink, &gz), AI_ERR_USAGE);
	cr_assert_eq(ai_gz_writer_new(&w, -1, NULL, 0, buf_sink, &gz), AI_ERR_USAGE);
	cr_assert_null(w);
	ai_gz_writer_free(NULL);
	ai_gz_reader_free(NULL);
	ai_buf_release(&gz);
}

Test(gz, writer_reports_size_and_crc_of_what_it_took)
{
	static const char check[] = "123456789";
	struct ai_gz_writer *w = NULL;
	struct ai_buf gz;

	ai_buf_init(&gz, OUT_CAP);
	cr_assert_eq(ai_gz_writer_new(&w, 6, "c", 0, buf_sink, &gz), AI_OK);
	cr_assert_eq(ai_gz_writer_crc32(w), 0);
	cr_assert_eq(ai_gz_writer_write(w, check, 4), AI_OK);
	cr_assert_eq(ai_gz_writer_write(w, check + 4, 5), AI_OK);
	cr_assert_eq(ai_gz_writer_in_bytes(w), 9);
	cr_assert_eq(ai_gz_writer_crc32(w), 0xcbf43926u);
	cr_assert_eq(ai_gz_writer_finish(w, NULL), AI_OK);
	cr_assert_eq(ai_gz_writer_write(w, "x", 1), AI_ERR_INTERNAL,
	             "a finished member takes no more data");
	ai_gz_writer_free(w);
	ai_buf_release(&gz);
}

Test(gz, one_writer_serves_many_members_via_reset)
{
	struct ai_gz_writer *w = NULL;
	struct ai_buf joined, fresh, plain;
	unsigned char *data = json_lines(300000);
	uint64_t csize, members = 0;
	int i;

	ai_buf_init(&joined, OUT_CAP);
	ai_buf_init(&fresh, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	cr_assert_eq(ai_gz_writer_new(&w, 6, "m0", 100, buf_sink, &joined), AI_OK);
	/* An abandoned member must not leak into the next one. */
	cr_assert_eq(ai_gz_writer_write(w, data, 1000), AI_OK);
	for (i = 0; i < 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "m%d", i);
		cr_assert_eq(ai_gz_writer_reset(w, name, 100 + i), AI_OK);
		cr_assert_eq(ai_gz_writer_write(w, data, 300000 - (size_t)i * 50000), AI_OK);
		cr_assert_eq(ai_gz_writer_finish(w, &csize), AI_OK);
		compress_to(&fresh, 6, name, 100 + i, data, 300000 - (size_t)i * 50000, 0);
	}
	ai_gz_writer_free(w);
	cr_assert_eq(joined.len, fresh.len);
	cr_assert(memcmp(joined.data, fresh.data, fresh.len) == 0,
	          "a reset writer makes the same bytes as a new one");
	cr_assert_eq(decompress_to(&plain, joined.data, joined.len, 0, 0, &members), AI_OK);
	cr_assert_eq(members, 5);
	cr_assert_eq(plain.len, 300000 + 250000 + 200000 + 150000 + 100000);
	ai_buf_release(&joined);
	ai_buf_release(&fresh);
	ai_buf_release(&plain);
	free(data);
}

static ai_result failing_sink(void *ctx, const void *p, size_t n)
{
	int *calls = ctx;

	return ++*calls >= 2 ? AI_ERR_IO : AI_OK;
}

Test(gz, a_sink_failure_stops_the_writer_and_sticks)
{
	unsigned char *data = random_bytes(1 << 20, 3);
	struct ai_gz_writer *w = NULL;
	int calls = 0;

	cr_assert_eq(ai_gz_writer_new(&w, 1, "f", 0, failing_sink, &calls), AI_OK);
	cr_assert_eq(ai_gz_writer_write(w, data, 1 << 20), AI_ERR_IO);
	cr_assert_eq(ai_gz_writer_write(w, data, 10), AI_ERR_IO);
	cr_assert_eq(ai_gz_writer_finish(w, NULL), AI_ERR_IO);
	ai_gz_writer_free(w);
	free(data);
}

Test(gz, a_sink_failure_stops_the_reader)
{
	unsigned char *data = random_bytes(1 << 20, 4);
	struct ai_gz_reader *r = NULL;
	struct ai_buf gz;
	int calls = 0;

	ai_buf_init(&gz, OUT_CAP);
	compress_to(&gz, 1, NULL, 0, data, 1 << 20, 0);
	cr_assert_eq(ai_gz_reader_new(&r, 0, failing_sink, &calls), AI_OK);
	cr_assert_eq(ai_gz_reader_feed(r, gz.data, gz.len), AI_ERR_IO);
	cr_assert_eq(ai_gz_reader_finish(r, NULL), AI_ERR_IO);
	ai_gz_reader_free(r);
	ai_buf_release(&gz);
	free(data);
}

/* Three members of different kinds in one file. */
static char *write_three_members(struct ai_buf *plain_all)
{
	unsigned char *a = json_lines(2000000), *b = random_bytes(300000, 9);
	struct ai_buf gz;
	char *path = temp_path();

	ai_buf_init(&gz, OUT_CAP);
	compress_to(&gz, 6, "a.blob", 1714557600, a, 2000000, SIZE_MAX);
	compress_to(&gz, 9, NULL, 0, NULL, 0, 0);
	compress_to(&gz, 0, "b.blob", 1714557601, b, 300000, 0);
	cr_assert_eq(ai_buf_add(plain_all, a, 2000000), AI_OK);
	cr_assert_eq(ai_buf_add(plain_all, b, 300000), AI_OK);
	write_file(path, gz.data, gz.len);
	ai_buf_release(&gz);
	free(a);
	free(b);
	return path;
}

Test(gz, gzip_and_zcat_read_concatenated_members)
{
	struct ai_buf want, got;
	char *path, *cmd = NULL;

	need_gzip();
	ai_buf_init(&want, OUT_CAP);
	ai_buf_init(&got, OUT_CAP);
	path = write_three_members(&want);
	cr_assert_gt(asprintf(&cmd, "gzip -dc < '%s'", path), 0);
	cr_assert_eq(run_capture(cmd, &got), 0);
	cr_assert_eq(got.len, want.len);
	cr_assert(memcmp(got.data, want.data, want.len) == 0);
	free(cmd);
	ai_buf_reset(&got);
	if (system("command -v zcat >/dev/null 2>&1") == 0) {
		cr_assert_gt(asprintf(&cmd, "zcat < '%s'", path), 0);
		cr_assert_eq(run_capture(cmd, &got), 0);
		cr_assert_eq(got.len, want.len);
		cr_assert(memcmp(got.data, want.data, want.len) == 0);
		free(cmd);
	}
	cr_assert_gt(asprintf(&cmd, "gzip -t < '%s' 2>&1", path), 0);
	ai_buf_reset(&got);
	cr_assert_eq(run_capture(cmd, &got), 0, "gzip -t: %s", ai_buf_str(&got));
	cr_assert_eq(got.len, 0, "gzip -t has no complaint: %s", ai_buf_str(&got));
	free(cmd);
	unlink(path);
	free(path);
	ai_buf_release(&want);
	ai_buf_release(&got);
}

Test(gz, gzip_l_reports_the_size_and_stored_name)
{
	unsigned char *data = json_lines(123457);
	struct ai_buf gz, out;
	char *path, *cmd = NULL;

	need_gzip();
	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&out, 1 << 20);
	compress_to(&gz, 6, "stored-name.json", 1714557600, data, 123457, 0);
	path = temp_path();
	write_file(path, gz.data, gz.len);
	cr_assert_gt(asprintf(&cmd, "gzip -l -N '%s'", path), 0);
	cr_assert_eq(run_capture(cmd, &out), 0);
	cr_assert_not_null(strstr(ai_buf_str(&out), " 123457 "), "%s", ai_buf_str(&out));
	cr_assert_not_null(strstr(ai_buf_str(&out), "stored-name.json"), "%s", ai_buf_str(&out));
	free(cmd);
	unlink(path);
	free(path);
	ai_buf_release(&gz);
	ai_buf_release(&out);
	free(data);
}

Test(gz, reads_members_made_by_gzip)
{
	unsigned char *data = json_lines(500000);
	struct ai_buf gz, plain;
	char *path, *cmd = NULL;
	struct ai_gz_reader *r = NULL;
	const char *base;

	need_gzip();
	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	path = temp_path();
	write_file(path, data, 500000);
	/* -n: no name or time; then the default, which stores the name. */
	cr_assert_gt(asprintf(&cmd, "gzip -n -c '%s'; gzip -9 -c '%s'", path, path), 0);
	cr_assert_eq(run_capture(cmd, &gz), 0);
	cr_assert_eq(ai_gz_reader_new(&r, 0, buf_sink, &plain), AI_OK);
	cr_assert_eq(ai_gz_reader_feed(r, gz.data, gz.len), AI_OK);
	cr_assert_eq(ai_gz_reader_finish(r, NULL), AI_OK);
	cr_assert_eq(plain.len, 1000000);
	cr_assert(memcmp(plain.data, data, 500000) == 0);
	cr_assert(memcmp(plain.data + 500000, data, 500000) == 0);
	base = strrchr(path, '/') + 1;
	cr_assert_str_eq(ai_gz_reader_name(r), base);
	ai_gz_reader_free(r);
	free(cmd);
	unlink(path);
	free(path);
	ai_buf_release(&gz);
	ai_buf_release(&plain);
	free(data);
}

/* A member with every optional header field, built by hand. */
static void fancy_member(struct ai_buf *out, int bad_hcrc)
{
	static const unsigned char extra[] = { 'A', 'P', 3, 0, 1, 2, 3 };
	struct ai_buf body;
	size_t hlen;
	uint32_t crc;

	ai_buf_init(&body, OUT_CAP);
	compress_to(&body, 6, NULL, 0, (const unsigned char *)"hello, fields\n", 14, 0);
	cr_assert_eq(ai_buf_add(out, "\x1f\x8b\x08\x1e\x01\x02\x03\x04\x00\x03", 10), AI_OK);
	cr_assert_eq(ai_buf_add(out, "\x07\x00", 2), AI_OK);
	cr_assert_eq(ai_buf_add(out, extra, sizeof(extra)), AI_OK);
	cr_assert_eq(ai_buf_add(out, "fancy.txt", 10), AI_OK);
	cr_assert_eq(ai_buf_add(out, "a comment", 10), AI_OK);
	hlen = out->len;
	crc = ref_crc32((const unsigned char *)out->data, hlen) ^ (bad_hcrc ? 1 : 0);
	cr_assert_eq(ai_buf_addc(out, (char)(crc & 0xff)), AI_OK);
	cr_assert_eq(ai_buf_addc(out, (char)(crc >> 8 & 0xff)), AI_OK);
	/* Our own member's body and trailer follow a 10-byte header. */
	cr_assert_eq(ai_buf_add(out, body.data + 10, body.len - 10), AI_OK);
	ai_buf_release(&body);
}

Test(gz, all_header_fields_parse_when_fed_one_byte_at_a_time)
{
	struct ai_gz_reader *r = NULL;
	struct ai_buf gz, plain;
	uint64_t members = 0;
	size_t i;

	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	fancy_member(&gz, 0);
	compress_to(&gz, 9, "second", 0, (const unsigned char *)"two", 3, 0);
	cr_assert_eq(ai_gz_reader_new(&r, 0, buf_sink, &plain), AI_OK);
	for (i = 0; i < gz.len; i++) {
		cr_assert_eq(ai_gz_reader_feed(r, gz.data + i, 1), AI_OK, "byte %zu", i);
		if (i == 30)
			cr_assert_str_eq(ai_gz_reader_name(r), "fancy.txt");
	}
	cr_assert_eq(ai_gz_reader_finish(r, &members), AI_OK);
	cr_assert_eq(members, 2);
	cr_assert_str_eq(ai_gz_reader_name(r), "second");
	cr_assert_eq(plain.len, 17);
	cr_assert(memcmp(plain.data, "hello, fields\ntwo", 17) == 0);
	ai_gz_reader_free(r);
	ai_buf_reset(&gz);
	ai_buf_reset(&plain);
	fancy_member(&gz, 1);
	cr_assert_eq(decompress_to(&plain, gz.data, gz.len, 1, 0, NULL), AI_ERR_BAD_INPUT,
	             "a wrong header CRC is refused");
	ai_buf_release(&gz);
	ai_buf_release(&plain);
}

Test(gz, a_large_stream_reads_one_byte_at_a_time)
{
	unsigned char *data = json_lines(400000);
	struct ai_buf gz, plain;

	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	compress_to(&gz, 6, "a", 1, data, 400000, 0);
	compress_to(&gz, 0, "b", 2, data, 100000, 0);
	cr_assert_eq(decompress_to(&plain, gz.data, gz.len, 1, 0, NULL), AI_OK);
	cr_assert_eq(plain.len, 500000);
	cr_assert(memcmp(plain.data, data, 400000) == 0);
	cr_assert(memcmp(plain.data + 400000, data, 100000) == 0);
	ai_buf_release(&gz);
	ai_buf_release(&plain);
	free(data);
}

struct seen {
	struct ai_gz_member m[8];
	char names[8][32];
	int n;
};

static ai_result record_member(void *ctx, const struct ai_gz_member *m)
{
	struct seen *s = ctx;

	cr_assert_lt(s->n, 8);
	s->m[s->n] = *m;
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", m->name);
	s->n++;
	return AI_OK;
}

Test(gz, member_callback_gives_offsets_sizes_and_names)
{
	unsigned char *data = json_lines(200000);
	struct ai_gz_reader *r = NULL;
	struct ai_buf gz, plain;
	struct seen seen = { .n = 0 };
	uint64_t c0, c1, c2;
	size_t i;

	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	c0 = compress_to(&gz, 6, "one", 11, data, 200000, 0);
	c1 = compress_to(&gz, 6, NULL, 12, NULL, 0, 0);
	c2 = compress_to(&gz, 1, "three", 13, data, 777, 0);
	cr_assert_eq(ai_gz_reader_new(&r, 0, buf_sink, &plain), AI_OK);
	ai_gz_reader_set_member_cb(r, record_member, &seen);
	for (i = 0; i < gz.len; i += 1000)
		cr_assert_eq(ai_gz_reader_feed(r, gz.data + i, gz.len - i < 1000 ? gz.len - i : 1000),
		             AI_OK);
	cr_assert_eq(ai_gz_reader_finish(r, NULL), AI_OK);
	cr_assert_eq(seen.n, 3);
	cr_assert_eq(seen.m[0].index, 0);
	cr_assert_eq(seen.m[0].offset, 0);
	cr_assert_eq(seen.m[0].length, c0);
	cr_assert_eq(seen.m[0].size, 200000);
	cr_assert_eq(seen.m[0].crc32, ref_crc32(data, 200000));
	cr_assert_eq(seen.m[0].mtime, 11);
	cr_assert_str_eq(seen.names[0], "one");
	cr_assert_eq(seen.m[1].offset, c0);
	cr_assert_eq(seen.m[1].length, c1);
	cr_assert_eq(seen.m[1].size, 0);
	cr_assert_str_eq(seen.names[1], "");
	cr_assert_eq(seen.m[2].index, 2);
	cr_assert_eq(seen.m[2].offset, c0 + c1);
	cr_assert_eq(seen.m[2].length, c2);
	cr_assert_eq(seen.m[2].size, 777);
	cr_assert_str_eq(seen.names[2], "three");

	/* Reset reads a new stream with the same settings. */
	ai_gz_reader_reset(r);
	seen.n = 0;
	cr_assert_eq(ai_gz_reader_feed(r, gz.data + c0 + c1, c2), AI_OK);
	cr_assert_eq(ai_gz_reader_finish(r, NULL), AI_OK);
	cr_assert_eq(seen.n, 1);
	cr_assert_eq(seen.m[0].offset, 0);
	cr_assert_eq(seen.m[0].index, 0);
	ai_gz_reader_free(r);
	ai_buf_release(&gz);
	ai_buf_release(&plain);
	free(data);
}

static ai_result refuse_member(void *ctx, const struct ai_gz_member *m)
{
	return AI_ERR_VERIFY;
}

Test(gz, member_callback_can_stop_the_read)
{
	struct ai_gz_reader *r = NULL;
	struct ai_buf gz, plain;

	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	compress_to(&gz, 6, "one", 0, (const unsigned char *)"abc", 3, 0);
	cr_assert_eq(ai_gz_reader_new(&r, 0, buf_sink, &plain), AI_OK);
	ai_gz_reader_set_member_cb(r, refuse_member, NULL);
	cr_assert_eq(ai_gz_reader_feed(r, gz.data, gz.len), AI_ERR_VERIFY);
	ai_gz_reader_free(r);
	ai_buf_release(&gz);
	ai_buf_release(&plain);
}

/* Flips the bits of mask at `at` (negative: from the end) and expects
 * refusal. Bit 0 of the last deflate byte always carries data; higher
 * bits may be padding. */
static void assert_flip_refused(const struct ai_buf *good, long at, unsigned char mask,
                                const char *what)
{
	struct ai_buf bad, plain;
	size_t pos = at < 0 ? good->len - (size_t)-at : (size_t)at;
	static const size_t pieces[] = { 0, 1, 13 };
	size_t i;

	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		ai_buf_init(&bad, OUT_CAP);
		ai_buf_init(&plain, OUT_CAP);
		cr_assert_eq(ai_buf_add(&bad, good->data, good->len), AI_OK);
		bad.data[pos] ^= (char)mask;
		cr_assert_eq(decompress_to(&plain, bad.data, bad.len, pieces[i], 0, NULL),
		             AI_ERR_BAD_INPUT, "%s (byte %zu) flipped, pieces %zu", what, pos,
		             pieces[i]);
		ai_buf_release(&bad);
		ai_buf_release(&plain);
	}
}

Test(gz, flipped_bytes_are_refused)
{
	unsigned char *data = json_lines(100000);
	struct ai_buf gz;
	size_t body_len;
	long k;

	ai_buf_init(&gz, OUT_CAP);
	compress_to(&gz, 6, "n", 0, data, 100000, 0);
	body_len = gz.len - 12 - 8;
	assert_flip_refused(&gz, 0, 0x01, "ID1");
	assert_flip_refused(&gz, 1, 0x01, "ID2");
	assert_flip_refused(&gz, 2, 0x01, "CM");
	/* Bit 4 of FLG would announce a comment that never ends: truncation. */
	assert_flip_refused(&gz, 3, 0x10, "FLG");
	for (k = 0; k < 16; k++)
		assert_flip_refused(&gz, 12 + (long)(body_len * (size_t)k / 16), 0x01, "body");
	assert_flip_refused(&gz, -9, 0x01, "last body byte");
	assert_flip_refused(&gz, -8, 0x01, "CRC");
	assert_flip_refused(&gz, -5, 0x01, "CRC high byte");
	assert_flip_refused(&gz, -4, 0x01, "ISIZE");
	assert_flip_refused(&gz, -1, 0x01, "ISIZE high byte");
	ai_buf_release(&gz);
	free(data);
}

Test(gz, reserved_flag_bits_are_refused)
{
	struct ai_buf gz, plain;

	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	compress_to(&gz, 6, NULL, 0, (const unsigned char *)"abc", 3, 0);
	gz.data[3] = (char)0x20;
	cr_assert_eq(decompress_to(&plain, gz.data, gz.len, 0, 0, NULL), AI_ERR_BAD_INPUT);
	ai_buf_release(&gz);
	ai_buf_release(&plain);
}

Test(gz, every_truncation_is_refused)
{
	unsigned char *data = random_bytes(3000, 5);
	struct ai_buf gz, plain;
	size_t cut, first;

	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	compress_to(&gz, 6, "first", 0, data, 3000, 0);
	first = gz.len;
	compress_to(&gz, 6, "second", 0, data, 100, 0);
	for (cut = 0; cut < gz.len; cut++) {
		ai_result want = cut == first ? AI_OK : AI_ERR_BAD_INPUT;

		ai_buf_reset(&plain);
		cr_assert_eq(decompress_to(&plain, gz.data, cut, 0, 0, NULL), want, "cut at %zu", cut);
		ai_buf_reset(&plain);
		if (cut % 97 == 0)
			cr_assert_eq(decompress_to(&plain, gz.data, cut, 1, 0, NULL), want,
			             "cut at %zu, byte-wise", cut);
	}
	ai_buf_release(&gz);
	ai_buf_release(&plain);
	free(data);
}

Test(gz, trailing_garbage_is_refused)
{
	static const char *const tails[] = { "x", "\x1f", "\x1f\x8b", "\0\0\0\0", "\x1f\x8b\x08\0junk" };
	static const size_t tail_lens[] = { 1, 1, 2, 4, 8 };
	struct ai_buf gz, plain;
	size_t base, i;

	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	compress_to(&gz, 6, NULL, 0, (const unsigned char *)"payload", 7, 0);
	base = gz.len;
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		gz.len = base;
		cr_assert_eq(ai_buf_add(&gz, tails[i], tail_lens[i]), AI_OK);
		ai_buf_reset(&plain);
		cr_assert_eq(decompress_to(&plain, gz.data, gz.len, 0, 0, NULL), AI_ERR_BAD_INPUT,
		             "tail %zu", i);
		ai_buf_reset(&plain);
		cr_assert_eq(decompress_to(&plain, gz.data, gz.len, 1, 0, NULL), AI_ERR_BAD_INPUT,
		             "tail %zu byte-wise", i);
	}
	ai_buf_release(&gz);
	ai_buf_release(&plain);
}

Test(gz, empty_input_is_not_a_gzip_stream)
{
	struct ai_buf plain;

	ai_buf_init(&plain, 16);
	cr_assert_eq(decompress_to(&plain, "", 0, 0, 0, NULL), AI_ERR_BAD_INPUT);
	ai_buf_release(&plain);
}

Test(gz, max_out_caps_the_total_across_members)
{
	unsigned char *data = json_lines(300000);
	struct ai_buf gz, plain;
	uint64_t members = 0;

	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	compress_to(&gz, 6, "a", 0, data, 200000, 0);
	compress_to(&gz, 6, "b", 0, data, 100000, 0);
	cr_assert_eq(decompress_to(&plain, gz.data, gz.len, 0, 300000, &members), AI_OK);
	cr_assert_eq(members, 2);
	ai_buf_reset(&plain);
	cr_assert_eq(decompress_to(&plain, gz.data, gz.len, 0, 299999, NULL), AI_ERR_TOO_BIG);
	cr_assert_leq(plain.len, 299999, "nothing past the cap reaches the sink");
	ai_buf_reset(&plain);
	cr_assert_eq(decompress_to(&plain, gz.data, gz.len, 1, 150000, NULL), AI_ERR_TOO_BIG);
	cr_assert_leq(plain.len, 150000);
	ai_buf_release(&gz);
	ai_buf_release(&plain);
	free(data);
}

Test(gz, a_small_bomb_is_stopped_by_the_cap)
{
	unsigned char *zeros = calloc(1, BIG);
	struct ai_buf gz, plain;

	cr_assert_not_null(zeros);
	ai_buf_init(&gz, OUT_CAP);
	ai_buf_init(&plain, OUT_CAP);
	compress_to(&gz, 9, NULL, 0, zeros, BIG, 0);
	cr_assert_lt(gz.len, 20000);
	cr_assert_eq(decompress_to(&plain, gz.data, gz.len, 0, 1 << 20, NULL), AI_ERR_TOO_BIG);
	cr_assert_leq(plain.len, 1 << 20);
	ai_buf_release(&gz);
	ai_buf_release(&plain);
	free(zeros);
}
