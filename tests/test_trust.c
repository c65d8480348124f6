/* test_trust.c: the key rules shared by verify, query and cat (--pubkey,
 * the published key, a pinned --key-id) and the check of one signed
 * object: its signature, and a trusted comment naming it and its digest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine/archive.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "format/minisign.h"
#include "store/store.h"
#include "engine/trust.h"

static char tmpdir[64];
static struct ai_store *dest;
static struct ai_signing_key key, other;
static const char data[] = "segment bytes";

static void setup(void)
{
	struct ai_store_config cfg = { 0 };
	char url[128];

	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_trust.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(url, sizeof url, "file://%s", tmpdir);
	cfg.url = url;
	cr_assert_eq(ai_store_open(&dest, &cfg), AI_OK);
	cr_assert_eq(ai_store_create_container(dest), AI_OK);
	cr_assert_eq(ai_signing_key_generate(&key), AI_OK);
	cr_assert_eq(ai_signing_key_generate(&other), AI_OK);
	cr_assert_eq(ai_archive_publish_key(dest, &key), AI_OK);
}

static void teardown(void)
{
	char cmd[128];

	ai_store_free(dest);
	ai_signing_key_release(&key);
	ai_signing_key_release(&other);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(trust, .init = setup, .fini = teardown);

/* A signature of data by k with the trusted comment put_signature writes
 * ("aiarchive <kind> <name> sha256=<hex> time=..."), or with tc. */
static void sign(const struct ai_signing_key *k, const char *name, const char *tc,
                 struct ai_buf *out)
{
	uint8_t sha[AI_SHA256_LEN];
	char hex[2 * AI_SHA256_LEN + 1], comment[512];

	cr_assert_eq(ai_sha256(data, strlen(data), sha), AI_OK);
	ai_hex(sha, sizeof sha, hex);
	if (!tc) {
		snprintf(comment, sizeof comment, "aiarchive segment %s sha256=%s time=2024-05-01T00:00:00Z",
		         name, hex);
		tc = comment;
	}
	ai_buf_init(out, 16384);
	cr_assert_eq(ai_minisign_sign(k, data, strlen(data), tc, out), AI_OK);
}

static ai_result check(struct ai_trust *t, const char *name, const struct ai_buf *sig,
                       struct ai_trust_verdict *v)
{
	struct ai_trust_object obj = {
		.kind = "segment", .name = name, .data = data, .len = strlen(data),
	};
	return ai_trust_check(t, dest, &obj, sig->data, sig->len, v);
}

static void keyhex(const struct ai_signing_key *k, char out[AI_MINISIGN_KEYID_HEXLEN])
{
	ai_minisign_keyid_hex(k->keyid, out);
}

Test(trust, a_signature_by_the_published_key_naming_the_object_is_trusted)
{
	struct ai_trust t;
	struct ai_trust_verdict v;
	struct ai_buf sig;
	char id[AI_MINISIGN_KEYID_HEXLEN];

	ai_trust_init(&t);
	sign(&key, "manifest/segments/000000000001.seg", NULL, &sig);
	cr_expect_eq(check(&t, "manifest/segments/000000000001.seg", &sig, &v), AI_OK);
	keyhex(&key, id);
	cr_expect_str_eq(v.signer, id);
	cr_expect_str_eq(v.key, id);
	ai_buf_release(&sig);
	ai_trust_release(&t);
}

Test(trust, a_key_that_is_not_published_is_refused_and_reported_once)
{
	struct ai_trust t;
	struct ai_trust_verdict v;
	struct ai_buf sig;
	char id[AI_MINISIGN_KEYID_HEXLEN], want[64];

	ai_trust_init(&t);
	sign(&other, "s", NULL, &sig);
	cr_assert_eq(check(&t, "s", &sig, &v), AI_ERR_VERIFY);
	keyhex(&other, id);
	snprintf(want, sizeof want, "keys/%s.pub", id);
	cr_expect_eq(v.fault, AI_TRUST_NO_KEY);
	cr_expect_str_eq(v.key_name, want);
	cr_expect_str_eq(v.why, "not published");
	cr_expect(v.key_first);
	cr_assert_eq(check(&t, "s", &sig, &v), AI_ERR_VERIFY);
	cr_expect_eq(v.fault, AI_TRUST_NO_KEY);
	cr_expect_not(v.key_first, "the key is looked up once");
	ai_buf_release(&sig);
	ai_trust_release(&t);
}

Test(trust, a_pinned_key_id_refuses_every_other_signer)
{
	struct ai_trust t;
	struct ai_trust_verdict v;
	struct ai_buf sig;
	char id[AI_MINISIGN_KEYID_HEXLEN], want[128];

	ai_trust_init(&t);
	keyhex(&other, id);
	cr_assert_eq(ai_trust_parse_key_id(id, t.key_id), AI_OK);
	sign(&key, "s", NULL, &sig);
	cr_assert_eq(check(&t, "s", &sig, &v), AI_ERR_VERIFY);
	cr_expect_eq(v.fault, AI_TRUST_NOT_PINNED);
	snprintf(want, sizeof want, "signed by key %s, not the pinned key %s", v.signer, id);
	cr_expect_str_eq(v.why, want);
	keyhex(&key, id);
	cr_assert_eq(ai_trust_parse_key_id(id, t.key_id), AI_OK);
	cr_expect_eq(check(&t, "s", &sig, &v), AI_OK);
	ai_buf_release(&sig);
	ai_trust_release(&t);
}

Test(trust, a_given_public_key_is_the_only_one_trusted)
{
	struct ai_trust t;
	struct ai_trust_verdict v;
	struct ai_buf sig;
	char id[AI_MINISIGN_KEYID_HEXLEN];

	ai_trust_init(&t);
	ai_signing_key_pubkey(&other, &t.pubkey);
	t.has_pubkey = 1;
	sign(&key, "s", NULL, &sig);
	cr_assert_eq(check(&t, "s", &sig, &v), AI_ERR_VERIFY, "the published key is not consulted");
	cr_expect_eq(v.fault, AI_TRUST_BAD_SIGNATURE);
	keyhex(&other, id);
	cr_expect_str_eq(v.key, id);
	ai_buf_release(&sig);
	sign(&other, "s", NULL, &sig);
	cr_expect_eq(check(&t, "s", &sig, &v), AI_OK, "even though that key is not published");
	ai_buf_release(&sig);
	ai_trust_release(&t);
}

Test(trust, the_trusted_comment_must_name_the_object_and_its_digest)
{
	struct ai_trust t;
	struct ai_trust_verdict v;
	struct ai_buf sig;

	ai_trust_init(&t);
	sign(&key, "manifest/segments/000000000002.seg", NULL, &sig);
	cr_assert_eq(check(&t, "manifest/segments/000000000001.seg", &sig, &v), AI_ERR_VERIFY);
	cr_expect_eq(v.fault, AI_TRUST_OTHER_OBJECT);
	cr_expect(strstr(v.why, "signature is for another object"));
	ai_buf_release(&sig);
	sign(&key, "s", "aiarchive state s sha256=00 time=x", &sig);
	cr_expect_eq(check(&t, "s", &sig, &v), AI_ERR_VERIFY, "another kind");
	ai_buf_release(&sig);
	sign(&key, "s", "aiarchive segment s2 sha256=00 time=x", &sig);
	cr_expect_eq(check(&t, "s", &sig, &v), AI_ERR_VERIFY, "a longer name");
	ai_buf_release(&sig);
	sign(&key, "s", "aiarchive segment s sha256="
	                "0000000000000000000000000000000000000000000000000000000000000000 time=x",
	     &sig);
	cr_assert_eq(check(&t, "s", &sig, &v), AI_ERR_VERIFY);
	cr_expect_str_eq(v.why, "signed sha256 does not match the object");
	ai_buf_release(&sig);
	ai_trust_release(&t);
}

Test(trust, a_run_id_must_match_when_asked_for)
{
	struct ai_trust t;
	struct ai_trust_verdict v;
	struct ai_buf sig;
	uint8_t sha[AI_SHA256_LEN];
	char hex[2 * AI_SHA256_LEN + 1], tc[256];
	struct ai_trust_object obj = {
		.kind = "pack", .name = "p", .data = data, .len = strlen(data), .run_id = "r1",
	};

	ai_trust_init(&t);
	cr_assert_eq(ai_sha256(data, strlen(data), sha), AI_OK);
	ai_hex(sha, sizeof sha, hex);
	snprintf(tc, sizeof tc, "aiarchive pack p sha256=%s run=r1 time=x", hex);
	sign(&key, "p", tc, &sig);
	cr_expect_eq(ai_trust_check(&t, dest, &obj, sig.data, sig.len, &v), AI_OK);
	obj.run_id = "r";
	cr_expect_eq(ai_trust_check(&t, dest, &obj, sig.data, sig.len, &v), AI_ERR_VERIFY,
	             "a prefix of the run id is not it");
	ai_buf_release(&sig);
	ai_trust_release(&t);
}

Test(trust, a_missing_or_malformed_signature_is_refused)
{
	struct ai_trust t;
	struct ai_trust_verdict v;
	struct ai_trust_object obj = { .kind = "state", .name = "manifest/state", .data = data,
	                               .len = strlen(data) };

	ai_trust_init(&t);
	cr_assert_eq(ai_trust_check_stored(&t, dest, &obj, &v), AI_ERR_VERIFY);
	cr_expect_eq(v.fault, AI_TRUST_NO_SIGNATURE);
	cr_expect_str_eq(v.why, "signature manifest/state.minisig is missing");
	cr_assert_eq(ai_store_put(dest, "manifest/state.minisig", "junk\n", 5, 0, NULL, NULL), AI_OK);
	cr_assert_eq(ai_trust_check_stored(&t, dest, &obj, &v), AI_ERR_VERIFY);
	cr_expect_eq(v.fault, AI_TRUST_MALFORMED);
	ai_trust_release(&t);
}

Test(trust, a_stored_signature_is_read_and_checked)
{
	struct ai_trust t;
	struct ai_trust_verdict v;
	struct ai_buf sig;
	struct ai_trust_object obj = { .kind = "segment", .name = "x.seg", .data = data,
	                               .len = strlen(data) };

	ai_trust_init(&t);
	sign(&key, "x.seg", NULL, &sig);
	cr_assert_eq(ai_store_put(dest, "x.seg.minisig", sig.data, sig.len, 0, NULL, NULL), AI_OK);
	cr_expect_eq(ai_trust_check_stored(&t, dest, &obj, &v), AI_OK);
	obj.len--;
	cr_assert_eq(ai_trust_check_stored(&t, dest, &obj, &v), AI_ERR_VERIFY);
	cr_expect_eq(v.fault, AI_TRUST_BAD_SIGNATURE);
	ai_buf_release(&sig);
	ai_trust_release(&t);
}

Test(trust, key_ids_are_sixteen_hex_digits_kept_uppercase)
{
	char out[AI_MINISIGN_KEYID_HEXLEN];

	cr_expect_eq(ai_trust_parse_key_id("0123456789abcdEF", out), AI_OK);
	cr_expect_str_eq(out, "0123456789ABCDEF");
	cr_expect_eq(ai_trust_parse_key_id("0123456789ABCDE", out), AI_ERR_USAGE);
	cr_expect_eq(ai_trust_parse_key_id("0123456789ABCDEF0", out), AI_ERR_USAGE);
	cr_expect_eq(ai_trust_parse_key_id("0123456789ABCDEG", out), AI_ERR_USAGE);
	cr_expect_eq(ai_trust_parse_key_id(NULL, out), AI_ERR_USAGE);
}

Test(trust, a_public_key_that_is_not_the_pinned_one_is_a_conflict)
{
	struct ai_trust t;
	char why[128], id[AI_MINISIGN_KEYID_HEXLEN];

	ai_trust_init(&t);
	cr_expect_not(ai_trust_pubkey_conflict(&t, why, sizeof why));
	ai_signing_key_pubkey(&key, &t.pubkey);
	t.has_pubkey = 1;
	cr_expect_not(ai_trust_pubkey_conflict(&t, why, sizeof why), "no pin");
	keyhex(&key, id);
	cr_assert_eq(ai_trust_parse_key_id(id, t.key_id), AI_OK);
	cr_expect_not(ai_trust_pubkey_conflict(&t, why, sizeof why));
	keyhex(&other, id);
	cr_assert_eq(ai_trust_parse_key_id(id, t.key_id), AI_OK);
	cr_expect(ai_trust_pubkey_conflict(&t, why, sizeof why));
	cr_expect(strstr(why, "not the pinned"));
	ai_trust_release(&t);
}
