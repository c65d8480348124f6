/* test_fetch.c: one archived member read back from a pack in a local
 * directory and checked against its record: the intact member, and each
 * way a pack or a record can disagree with it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine/fetch.h"
#include "format/gz.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/crypto.h"

#define PACK "data/run/p.pack"

static const char raw_a[] = "{\"a\":1}\n{\"b\":2}\n", raw_b[] = "{\"c\":3}\n";

static char tmpdir[64];
static struct ai_store *dest;
static struct ai_fetch fetch;
static uint64_t len_a, len_b;
static uint8_t sha_a[AI_SHA256_LEN];

static ai_result to_buf(void *ctx, const void *p, size_t n)
{
	return ai_buf_add(ctx, p, n);
}

/* Appends one gzip member of s to pack; returns its compressed length. */
static uint64_t add_member(struct ai_buf *pack, const char *s)
{
	struct ai_gz_writer *w;
	uint64_t n;

	cr_assert_eq(ai_gz_writer_new(&w, 6, "b.blob", 0, to_buf, pack), AI_OK);
	cr_assert_eq(ai_gz_writer_write(w, s, strlen(s)), AI_OK);
	cr_assert_eq(ai_gz_writer_finish(w, &n), AI_OK);
	ai_gz_writer_free(w);
	return n;
}

/* A pack of two members, a then b. */
static void setup(void)
{
	struct ai_store_config cfg = { 0 };
	struct ai_buf pack;
	char url[128];

	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_fetch.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(url, sizeof url, "file://%s/archive", tmpdir);
	cfg.url = url;
	cr_assert_eq(ai_store_open(&dest, &cfg), AI_OK);
	cr_assert_eq(ai_store_create_container(dest), AI_OK);
	ai_buf_init(&pack, 1 << 20);
	len_a = add_member(&pack, raw_a);
	len_b = add_member(&pack, raw_b);
	cr_assert_eq(ai_store_put(dest, PACK, pack.data, pack.len, 0, NULL, NULL), AI_OK);
	ai_buf_release(&pack);
	cr_assert_eq(ai_sha256(raw_a, strlen(raw_a), sha_a), AI_OK);
	cr_assert_eq(ai_fetch_init(&fetch), AI_OK);
}

static void teardown(void)
{
	char cmd[128];

	ai_fetch_release(&fetch);
	ai_store_free(dest);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(fetch, .init = setup, .fini = teardown);

/* The record of member a, as the manifest keeps it. */
static struct ai_fetch_record record_a(void)
{
	struct ai_fetch_record rec = {
		.pack = PACK, .offset = 0, .length = len_a, .raw_size = strlen(raw_a),
		.sha256 = sha_a,
	};
	return rec;
}

static enum ai_fetch_fault fault_of(const struct ai_fetch_record *rec,
                                    struct ai_fetch_result *got)
{
	cr_assert_eq(ai_fetch_member(&fetch, dest, rec, NULL, NULL, got), AI_OK);
	return got->fault;
}

Test(fetch, an_intact_member_reaches_the_sink_whole_and_checks_out)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;
	struct ai_buf out;

	ai_buf_init(&out, 1 << 20);
	cr_assert_eq(ai_fetch_member(&fetch, dest, &rec, to_buf, &out, &got), AI_OK);
	cr_expect_eq(got.fault, AI_FETCH_OK);
	cr_expect_eq(got.size, strlen(raw_a));
	cr_expect_eq(got.bytes_read, len_a);
	cr_expect_eq(out.len, strlen(raw_a));
	cr_expect_str_eq(ai_buf_str(&out), raw_a);
	ai_buf_release(&out);
}

Test(fetch, the_second_member_of_a_pack_is_read_by_its_offset)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;
	uint8_t sha_b[AI_SHA256_LEN];

	cr_assert_eq(ai_sha256(raw_b, strlen(raw_b), sha_b), AI_OK);
	rec.offset = len_a;
	rec.length = len_b;
	rec.raw_size = strlen(raw_b);
	rec.sha256 = sha_b;
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_OK);
	rec = record_a();
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_OK, "the reader is reused");
}

Test(fetch, another_digest_is_a_sha256_fault_naming_the_data_s_digest)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;
	uint8_t other[AI_SHA256_LEN];

	memcpy(other, sha_a, sizeof other);
	other[7] ^= 1;
	rec.sha256 = other;
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_SHA256);
	cr_expect_eq(memcmp(got.sha256, sha_a, AI_SHA256_LEN), 0);
}

Test(fetch, a_member_larger_than_its_record_is_too_big)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;

	rec.raw_size--;
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_TOO_BIG);
	rec.raw_size = 0;
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_TOO_BIG, "a size of 0 caps too");
}

Test(fetch, a_member_smaller_than_its_record_is_a_size_fault)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;

	rec.raw_size++;
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_SIZE);
	cr_expect_eq(got.size, strlen(raw_a));
}

Test(fetch, a_record_of_no_bytes_reads_nothing)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;

	rec.length = 0;
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_EMPTY);
	cr_expect_eq(got.bytes_read, 0);
}

Test(fetch, a_range_past_the_pack_is_short)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;

	rec.offset = len_b + 1;
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_SHORT);
}

Test(fetch, a_missing_pack_is_no_pack)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;

	rec.pack = "data/run/gone.pack";
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_NO_PACK);
	cr_expect_not(got.store_failed);
}

Test(fetch, two_members_in_one_range_are_refused)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;

	rec.length = len_a + len_b;
	rec.raw_size = strlen(raw_a) + strlen(raw_b);
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_MEMBERS);
	cr_expect_eq(got.members, 2);
}

Test(fetch, bytes_that_are_not_gzip_are_corrupt)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;

	rec.offset = 1;
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_CORRUPT);
	rec = record_a();
	rec.length--;
	cr_expect_eq(fault_of(&rec, &got), AI_FETCH_CORRUPT, "a truncated member");
}

static ai_result failing_sink(void *ctx, const void *p, size_t n)
{
	(void)ctx, (void)p, (void)n;
	return AI_ERR_IO;
}

Test(fetch, a_failing_sink_stops_the_fetch_with_its_result)
{
	struct ai_fetch_record rec = record_a();
	struct ai_fetch_result got;

	cr_expect_eq(ai_fetch_member(&fetch, dest, &rec, failing_sink, NULL, &got), AI_ERR_IO);
	cr_expect_not(got.store_failed);
}
