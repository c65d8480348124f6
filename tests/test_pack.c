/* test_pack.c: a pack in a local (file://) destination: members appended
 * back to back, uploaded in blocks as they fill (or in one put when the
 * pack fits one block), invisible until committed, committed create-only,
 * and signed with a minisign signature that checks against the data. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine/member.h"
#include "engine/pack.h"
#include "format/gz.h"
#include "format/minisign.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/parse.h"
#include "util/hex.h"

#define T0 (INT64_C(1714521600) * AI_NS_PER_SEC) /* 2024-05-01T00:00:00Z */
#define PACK "data/shop/Requests/2024-05-01/10/20240501T110000Z-00000001-1.jsonl.gz"

static char tmpdir[256];
static struct ai_store *st;
static struct ai_signing_key key;

#define OK(call) \
	do { \
		ai_result r_ = (call); \
		cr_assert_eq(r_, AI_OK, "%s: %s (%s)", #call, ai_strerror(r_), \
		             ai_store_last_error()); \
	} while (0)

static ai_time fixed_clock(void)
{
	return T0 + 11 * 3600 * AI_NS_PER_SEC;
}

static void setup(void)
{
	struct ai_store_config cfg = { 0 };
	const char *t = getenv("TMPDIR");
	char url[512];

	snprintf(tmpdir, sizeof tmpdir, "%s/aiarchive-test-pack-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(url, sizeof url, "file://%s/dest", tmpdir);
	cfg.url = url;
	cfg.now = fixed_clock;
	OK(ai_store_open(&st, &cfg));
	OK(ai_store_create_container(st));
	OK(ai_signing_key_generate(&key));
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	ai_store_free(st);
	st = NULL;
	ai_signing_key_release(&key);
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

TestSuite(pack, .init = setup, .fini = teardown, .timeout = 30);

/* Bytes 0..n-1 of a fixed pattern that is no multiple of any block size. */
static char *pattern(size_t n)
{
	char *p = malloc(n ? n : 1);

	cr_assert_not_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + (i * 7 + i / 13) % 26);
	return p;
}

static void read_all(const char *name, struct ai_buf *out)
{
	ai_buf_init(out, 1 << 24);
	OK(ai_store_read(st, name, 0, 0, NULL, out, NULL));
}

static uint64_t requests(enum ai_req_kind k)
{
	struct ai_store_stats s;

	ai_store_get_stats(st, &s);
	return s.requests[k];
}

/* Writes data into a new pack in pieces of step bytes and commits it. */
static ai_result write_pack(const char *name, size_t block, const char *data, size_t n, size_t step,
                            struct ai_pack_ref *ref)
{
	struct ai_pack *p;
	ai_result r;

	OK(ai_pack_new(&p, st, name, block));
	for (size_t off = 0; off < n; off += step) {
		size_t k = n - off < step ? n - off : step;
		OK(ai_pack_write(p, data + off, k));
		cr_assert_eq(ai_pack_size(p), off + k);
	}
	r = ai_pack_commit(p, &key, "20240501T110000Z-00000001", fixed_clock(), ref);
	ai_pack_free(p);
	return r;
}

static void expect_pack(const char *name, const char *data, size_t n, const struct ai_pack_ref *ref)
{
	struct ai_buf got;
	uint8_t sha[AI_SHA256_LEN];

	read_all(name, &got);
	cr_assert_eq(got.len, n, "pack holds %zu bytes, want %zu", got.len, n);
	cr_assert(memcmp(got.data, data, n) == 0, "pack bytes differ");
	OK(ai_sha256(data, n, sha));
	cr_assert_str_eq(ref->name, name);
	cr_assert_eq(ref->size, n);
	cr_assert(memcmp(ref->sha256, sha, sizeof sha) == 0, "ref sha256 is not of the pack");
	ai_buf_release(&got);
}

/* ---- layout and upload ---- */

Test(pack, members_are_appended_back_to_back_at_the_reported_offsets)
{
	struct ai_pack *p;
	struct ai_pack_ref ref;
	const char *a = "first member bytes", *b = "second", *c = "third one";
	char all[64];

	OK(ai_pack_new(&p, st, PACK, 1 << 20));
	cr_assert_eq(ai_pack_size(p), 0);
	OK(ai_pack_write(p, a, strlen(a)));
	cr_assert_eq(ai_pack_size(p), strlen(a), "the next member's offset");
	OK(ai_pack_sink(p, b, strlen(b)));
	cr_assert_eq(ai_pack_size(p), strlen(a) + strlen(b));
	OK(ai_pack_write(p, c, strlen(c)));
	OK(ai_pack_commit(p, &key, "run-1", fixed_clock(), &ref));
	ai_pack_free(p);
	snprintf(all, sizeof all, "%s%s%s", a, b, c);
	expect_pack(PACK, all, strlen(all), &ref);
	free(ref.name);
}

Test(pack, a_pack_that_fits_one_block_goes_up_in_one_put)
{
	struct ai_pack_ref ref;
	char *data = pattern(1000);

	OK(write_pack(PACK, 4096, data, 1000, 100, &ref));
	expect_pack(PACK, data, 1000, &ref);
	cr_assert_eq(requests(AI_REQ_BLOCK), 0);
	cr_assert_eq(requests(AI_REQ_COMMIT), 0);
	cr_assert_eq(requests(AI_REQ_PUT), 2, "the pack and its signature");
	free(ref.name);
	free(data);
}

Test(pack, a_larger_pack_goes_up_in_blocks_as_they_fill)
{
	struct ai_pack_ref ref;
	struct ai_pack *p;
	char *data = pattern(1000);

	/* 1000 bytes in blocks of 64: 15 full blocks, then 40 bytes at commit. */
	OK(ai_pack_new(&p, st, PACK, 64));
	OK(ai_pack_write(p, data, 130));
	cr_assert_eq(requests(AI_REQ_BLOCK), 2, "full blocks are uploaded as they fill");
	OK(ai_pack_write(p, data + 130, 870));
	cr_assert_eq(requests(AI_REQ_BLOCK), 15);
	OK(ai_pack_commit(p, &key, "run-1", fixed_clock(), &ref));
	ai_pack_free(p);
	cr_assert_eq(requests(AI_REQ_BLOCK), 16);
	cr_assert_eq(requests(AI_REQ_COMMIT), 1, "one block list");
	cr_assert_eq(requests(AI_REQ_PUT), 1, "the signature");
	expect_pack(PACK, data, 1000, &ref);
	free(ref.name);
	free(data);
}

Test(pack, a_pack_of_whole_blocks_uploads_no_empty_last_block)
{
	struct ai_pack_ref ref;
	char *data = pattern(256);

	OK(write_pack(PACK, 64, data, 256, 7, &ref));
	cr_assert_eq(requests(AI_REQ_BLOCK), 4);
	cr_assert_eq(requests(AI_REQ_COMMIT), 1);
	expect_pack(PACK, data, 256, &ref);
	free(ref.name);
	free(data);
}

Test(pack, nothing_is_visible_before_the_commit_and_an_abandoned_pack_leaves_nothing)
{
	struct ai_pack *p;
	struct ai_blob_list l;
	struct ai_blob_info info;
	char *data = pattern(500);

	OK(ai_pack_new(&p, st, PACK, 64));
	OK(ai_pack_write(p, data, 500));
	cr_assert_gt(requests(AI_REQ_BLOCK), 0);
	cr_assert_eq(ai_store_props(st, PACK, &info, NULL), AI_ERR_NOT_FOUND);
	ai_pack_free(p);
	OK(ai_store_list(st, NULL, NULL, NULL, 0, &l));
	cr_assert_eq(l.n, 0, "an abandoned pack is no blob");
	ai_blob_list_release(&l);
	free(data);
}

Test(pack, the_commit_records_the_sha256_in_the_metadata)
{
	struct ai_pack_ref ref;
	struct ai_blob_info info;
	struct ai_meta meta;
	char hex[2 * AI_SHA256_LEN + 1];
	char *data = pattern(300);

	OK(write_pack(PACK, 64, data, 300, 300, &ref));
	OK(ai_store_props(st, PACK, &info, &meta));
	ai_hex(ref.sha256, AI_SHA256_LEN, hex);
	cr_assert_eq(meta.n, 1);
	cr_assert_str_eq(meta.kv[0].name, "sha256");
	cr_assert_str_eq(meta.kv[0].value, hex);
	cr_assert_eq(info.size, 300);
	ai_blob_info_release(&info);
	free(ref.name);
	free(data);
}

/* ---- create-only ---- */

Test(pack, a_second_commit_of_the_same_name_fails_as_exists_in_one_put)
{
	struct ai_pack_ref ref, ref2;
	char *a = pattern(100), *b = pattern(120);

	OK(write_pack(PACK, 4096, a, 100, 100, &ref));
	cr_assert_eq(write_pack(PACK, 4096, b, 120, 120, &ref2), AI_ERR_EXISTS);
	cr_assert_null(ref2.name);
	expect_pack(PACK, a, 100, &ref);
	free(ref.name);
	free(a);
	free(b);
}

Test(pack, a_second_commit_of_the_same_name_fails_as_exists_in_blocks)
{
	struct ai_pack_ref ref, ref2;
	char *a = pattern(1000), *b = pattern(900);

	OK(write_pack(PACK, 64, a, 1000, 333, &ref));
	cr_assert_eq(write_pack(PACK, 64, b, 900, 333, &ref2), AI_ERR_EXISTS);
	cr_assert_null(ref2.name);
	expect_pack(PACK, a, 1000, &ref);
	free(ref.name);
	free(a);
	free(b);
}

Test(pack, a_pack_whose_commit_failed_refuses_further_writes)
{
	struct ai_pack_ref ref, ref2;
	struct ai_pack *p;

	OK(write_pack(PACK, 4096, "x", 1, 1, &ref));
	OK(ai_pack_new(&p, st, PACK, 4096));
	OK(ai_pack_write(p, "y", 1));
	cr_assert_eq(ai_pack_commit(p, &key, "run-2", fixed_clock(), &ref2), AI_ERR_EXISTS);
	cr_assert_neq(ai_pack_write(p, "z", 1), AI_OK);
	cr_assert_neq(ai_pack_commit(p, &key, "run-2", fixed_clock(), &ref2), AI_OK);
	ai_pack_free(p);
	free(ref.name);
}

/* ---- signature ---- */

static void load_sig(const char *name, struct ai_buf *sig)
{
	char sig_name[1024];

	snprintf(sig_name, sizeof sig_name, "%s.minisig", name);
	read_all(sig_name, sig);
}

Test(pack, the_signature_file_verifies_against_the_pack_and_names_it)
{
	struct ai_pack_ref ref;
	struct ai_minisign_pubkey pk;
	struct ai_buf data, sig;
	char tc[AI_MINISIGN_TRUSTED_MAX + 1], hex[2 * AI_SHA256_LEN + 1], want[1024];
	const char *why = NULL;
	char *bytes = pattern(5000);

	OK(write_pack(PACK, 1024, bytes, 5000, 777, &ref));
	read_all(PACK, &data);
	load_sig(PACK, &sig);
	ai_signing_key_pubkey(&key, &pk);
	cr_assert_eq(ai_minisign_verify(&pk, data.data, data.len, sig.data, sig.len, tc, sizeof tc,
	                                &why),
	             AI_OK, "signature: %s", why ? why : "");
	ai_hex(ref.sha256, AI_SHA256_LEN, hex);
	snprintf(want, sizeof want, "aiarchive pack %s sha256=%s run=20240501T110000Z-00000001 "
	         "time=2024-05-01T11:00:00Z", PACK, hex);
	cr_assert_str_eq(tc, want);
	ai_buf_release(&data);
	ai_buf_release(&sig);
	free(ref.name);
	free(bytes);
}

Test(pack, the_signature_fails_for_other_bytes_or_another_key)
{
	struct ai_pack_ref ref;
	struct ai_minisign_pubkey pk;
	struct ai_signing_key other;
	struct ai_buf data, sig;
	char *bytes = pattern(300);

	OK(write_pack(PACK, 64, bytes, 300, 300, &ref));
	read_all(PACK, &data);
	load_sig(PACK, &sig);
	data.data[150] ^= 1;
	ai_signing_key_pubkey(&key, &pk);
	cr_assert_eq(ai_minisign_verify(&pk, data.data, data.len, sig.data, sig.len, NULL, 0, NULL),
	             AI_ERR_VERIFY, "a flipped bit must not verify");
	data.data[150] ^= 1;
	OK(ai_signing_key_generate(&other));
	ai_signing_key_pubkey(&other, &pk);
	cr_assert_eq(ai_minisign_verify(&pk, data.data, data.len, sig.data, sig.len, NULL, 0, NULL),
	             AI_ERR_VERIFY, "another key must not verify");
	ai_signing_key_release(&other);
	ai_buf_release(&data);
	ai_buf_release(&sig);
	free(ref.name);
	free(bytes);
}

/* ---- with the member builder ---- */

struct members_seen {
	uint64_t n;
	uint64_t offset[4], length[4];
};

static ai_result on_member(void *ctx, const struct ai_gz_member *m)
{
	struct members_seen *s = ctx;

	if (s->n < 4) {
		s->offset[s->n] = m->offset;
		s->length[s->n] = m->length;
	}
	s->n++;
	return AI_OK;
}

static ai_result discard(void *ctx, const void *p, size_t n)
{
	(void)ctx, (void)p, (void)n;
	return AI_OK;
}

Test(pack, members_written_through_the_sink_read_back_as_one_gzip_stream)
{
	struct ai_member_builder *mb;
	struct ai_pack *p;
	struct ai_pack_ref ref;
	struct ai_member m[3];
	uint64_t off[3], consumed, compressed;
	struct members_seen seen = { 0 };
	struct ai_gz_reader *rd;
	struct ai_buf data;
	uint64_t nmembers;
	static const char *texts[3] = { "{\"a\":1}\n", "{\"b\":2}\n{\"c\":3}\n", "{\"d\":4}\n" };

	OK(ai_member_builder_new(&mb, 6));
	OK(ai_pack_new(&p, st, PACK, 32)); /* small blocks: members cross them */
	for (int i = 0; i < 3; i++) {
		memset(&m[i], 0, sizeof m[i]);
		off[i] = ai_pack_size(p);
		OK(ai_member_begin(mb, "x.blob", T0, AI_SCHEMA_CONTINUOUS, ai_pack_sink, p));
		OK(ai_member_feed(mb, texts[i], strlen(texts[i])));
		OK(ai_member_end(mb, 1, &m[i], &consumed, &compressed));
		cr_assert_eq(ai_pack_size(p), off[i] + compressed);
	}
	OK(ai_pack_commit(p, &key, "run-1", fixed_clock(), &ref));
	ai_pack_free(p);
	ai_member_builder_free(mb);
	read_all(PACK, &data);
	OK(ai_gz_reader_new(&rd, 0, discard, NULL));
	ai_gz_reader_set_member_cb(rd, on_member, &seen);
	OK(ai_gz_reader_feed(rd, data.data, data.len));
	OK(ai_gz_reader_finish(rd, &nmembers));
	cr_assert_eq(nmembers, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(seen.offset[i], off[i], "member %d offset", i);
		cr_assert_eq(seen.length[i], (i < 2 ? off[i + 1] : ref.size) - off[i]);
		ai_member_release(&m[i]);
	}
	ai_gz_reader_free(rd);
	ai_buf_release(&data);
	free(ref.name);
}

Test(pack, freeing_null_is_harmless)
{
	ai_pack_free(NULL);
}
