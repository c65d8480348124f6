/* test_identity.c: an archive's identity in a local (file://) destination:
 * init writes a genesis that the stock minisign format verifies and refuses
 * a second time, adopts an archive made before init only when it verifies
 * with the key, key rotations extend the chain a trust accepts (and
 * nothing outside it), forged or missing records are caught, and the
 * current key is the chain's last. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine/archive.h"
#include "engine/identity.h"
#include "engine/signed.h"
#include "engine/trust.h"
#include "format/manifest_codec.h"
#include "format/minisign.h"
#include "store/store.h"
#include "util/buf.h"

#define T0 (INT64_C(1714521600) * AI_NS_PER_SEC)

static char tmpdir[64];
static struct ai_store *dest;
static struct ai_signing_key k1, k2, k3;

#define OK(call) \
	do { \
		ai_result r_ = (call); \
		cr_assert_eq(r_, AI_OK, "%s: %s (%s)", #call, ai_strerror(r_), \
		             ai_store_last_error()); \
	} while (0)

static void open_dest(const char *leaf, struct ai_store **s)
{
	struct ai_store_config cfg = { 0 };
	char url[128];

	snprintf(url, sizeof url, "file://%s/%s", tmpdir, leaf);
	cfg.url = url;
	OK(ai_store_open(s, &cfg));
}

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_identity.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	open_dest("archive", &dest);
	OK(ai_signing_key_generate(&k1));
	OK(ai_signing_key_generate(&k2));
	OK(ai_signing_key_generate(&k3));
}

static void teardown(void)
{
	char cmd[128];

	ai_store_free(dest);
	ai_signing_key_release(&k1);
	ai_signing_key_release(&k2);
	ai_signing_key_release(&k3);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(identity, .init = setup, .fini = teardown);

static void key_hex(const struct ai_signing_key *k, char out[AI_MINISIGN_KEYID_HEXLEN])
{
	struct ai_minisign_pubkey pk;

	ai_signing_key_pubkey(k, &pk);
	ai_minisign_keyid_hex(pk.keyid, out);
}

static int exists(const char *name)
{
	struct ai_blob_info info;
	ai_result r = ai_store_props(dest, name, &info, NULL);

	if (r == AI_OK)
		ai_blob_info_release(&info);
	return r == AI_OK;
}

static void init_with(const struct ai_signing_key *k, struct ai_init_report *rep)
{
	OK(ai_identity_create(dest, k, T0, rep));
}

/* A signed object of kind "state" signed by k, to check a trust with. */
static ai_result check_signed_by(struct ai_trust *t, const struct ai_signing_key *k,
                                 struct ai_trust_verdict *v)
{
	static const char data[] = "some state";
	struct ai_trust_object obj = { .kind = "state", .name = "manifest/state", .data = data,
	                               .len = sizeof data - 1 };

	OK(ai_signed_put(dest, "manifest/state", data, sizeof data - 1, 1, k, "state", T0));
	return ai_trust_check_stored(t, dest, &obj, v);
}

Test(identity, init_writes_a_signed_genesis_and_publishes_the_key)
{
	struct ai_init_report rep;
	struct ai_identity id;
	struct ai_minisign_pubkey pk;
	struct ai_buf data, sig;
	char hex[AI_MINISIGN_KEYID_HEXLEN], pub[64];
	const char *why = NULL;

	init_with(&k1, &rep);
	key_hex(&k1, hex);
	cr_assert_str_eq(rep.key_id, hex);
	cr_assert_eq(strlen(rep.archive_id), 32);
	cr_assert_eq(strspn(rep.archive_id, "0123456789abcdef"), 32);
	cr_assert_not(rep.adopted);
	snprintf(pub, sizeof pub, "keys/%s.pub", hex);
	cr_assert(exists(pub), "the key is published");
	ai_buf_init(&data, 4096);
	ai_buf_init(&sig, 4096);
	OK(ai_store_read(dest, AI_GENESIS_NAME, 0, 0, NULL, &data, NULL));
	OK(ai_store_read(dest, AI_GENESIS_NAME ".minisig", 0, 0, NULL, &sig, NULL));
	ai_signing_key_pubkey(&k1, &pk);
	cr_assert_eq(ai_minisign_verify(&pk, data.data, data.len, sig.data, sig.len, NULL, 0, &why),
	             AI_OK, "%s", why ? why : "");
	cr_assert(strstr(sig.data, "trusted comment: aiarchive genesis manifest/genesis sha256="),
	          "%s", sig.data);
	OK(ai_identity_read(dest, &id, NULL, NULL));
	cr_assert_str_eq(id.archive_id, rep.archive_id);
	cr_assert_eq(id.nkeys, 1);
	cr_assert_eq(memcmp(&id.keys[0], &pk, sizeof pk), 0);
	cr_assert_eq(id.created, T0);
	ai_buf_release(&data);
	ai_buf_release(&sig);
}

Test(identity, init_twice_is_refused_naming_the_archive)
{
	struct ai_init_report rep, again;

	init_with(&k1, &rep);
	cr_assert_eq(ai_identity_create(dest, &k2, T0, &again), AI_ERR_EXISTS);
	cr_assert_str_eq(again.archive_id, rep.archive_id);
	cr_assert(strstr(ai_store_last_error(), "already an archive (id "), "%s",
	          ai_store_last_error());
	cr_assert(strstr(ai_store_last_error(), rep.archive_id));
}

Test(identity, a_destination_without_genesis_has_no_chain)
{
	struct ai_trust t;

	ai_trust_init(&t);
	cr_assert_eq(ai_archive_keys(dest, &t, 0), AI_ERR_NOT_FOUND);
	cr_assert_not(t.has_chain);
	cr_assert_str_eq(ai_trust_how(&t), "published");
	ai_trust_release(&t);
}

/* Commits n segments signed by k into dest, as a run before init did. */
static void old_archive(const struct ai_signing_key *k, int n)
{
	struct ai_trust trust;
	struct ai_archive a;

	OK(ai_store_create_container(dest));
	ai_trust_init(&trust);
	ai_trust_use_key(&trust, k);
	OK(ai_archive_open(&a, dest, &trust, 0));
	ai_trust_release(&trust);
	for (int i = 0; i < n; i++) {
		struct ai_segment seg;
		ai_segment_init(&seg);
		seg.run_id = strdup("run");
		OK(ai_archive_commit(&a, &seg, NULL, 0, k, T0));
		ai_segment_release(&seg);
	}
	OK(ai_archive_save_state(&a, k, T0));
	ai_archive_release(&a);
}

Test(identity, init_adopts_an_older_archive_signed_by_its_key)
{
	struct ai_init_report rep;

	old_archive(&k1, 2);
	init_with(&k1, &rep);
	cr_assert(rep.adopted);
	cr_assert_eq(rep.segments, 2);
	cr_assert(exists(AI_GENESIS_NAME));
}

Test(identity, init_refuses_to_adopt_what_another_key_signed)
{
	struct ai_init_report rep;

	old_archive(&k1, 1);
	cr_assert_eq(ai_identity_create(dest, &k2, T0, &rep), AI_ERR_VERIFY);
	cr_assert(strstr(ai_store_last_error(), "does not verify with key"), "%s",
	          ai_store_last_error());
	cr_assert_not(exists(AI_GENESIS_NAME), "nothing written");
}

Test(identity, rotations_extend_the_chain_and_only_its_keys_are_trusted)
{
	struct ai_init_report rep;
	struct ai_trust t, r;
	struct ai_trust_verdict v;
	char h1[AI_MINISIGN_KEYID_HEXLEN], h2[AI_MINISIGN_KEYID_HEXLEN], line[512];
	int done = 0;

	init_with(&k1, &rep);
	ai_trust_init(&t);
	OK(ai_archive_keys(dest, &t, 0));
	OK(ai_identity_check_key(&t, &k1));
	cr_assert_eq(ai_identity_check_key(&t, &k2), AI_ERR_VERIFY);
	cr_assert(strstr(ai_store_last_error(), "use --rotate-key"), "%s", ai_store_last_error());
	OK(ai_identity_rotate(dest, &t, &k1, &k2, T0, &done));
	cr_assert(done);
	cr_assert(exists("manifest/keys/000000000001.rot"));
	cr_assert(exists("manifest/keys/000000000001.rot.minisig"));
	OK(ai_identity_check_key(&t, &k2));
	cr_assert_eq(ai_identity_check_key(&t, &k1), AI_ERR_VERIFY);
	cr_assert(strstr(ai_store_last_error(), "key rotation 1 replaced it"), "%s",
	          ai_store_last_error());
	OK(ai_identity_rotate(dest, &t, &k1, &k2, T0, &done));
	cr_assert_not(done, "a retried rotation has nothing to do");
	ai_trust_release(&t);

	ai_trust_init(&r);
	OK(ai_archive_keys(dest, &r, 0));
	cr_assert_eq(r.nchain, 2);
	OK(check_signed_by(&r, &k1, &v));
	OK(check_signed_by(&r, &k2, &v));
	cr_assert_eq(check_signed_by(&r, &k3, &v), AI_ERR_VERIFY);
	cr_assert_eq(v.fault, AI_TRUST_FOREIGN_KEY);
	{
		/* A key published under keys/ is not enough. */
		char pub[64], hex[AI_MINISIGN_KEYID_HEXLEN];
		key_hex(&k3, hex);
		snprintf(pub, sizeof pub, "keys/%s.pub", hex);
		OK(ai_archive_publish_key(dest, &k3));
		cr_assert(exists(pub));
		cr_assert_eq(check_signed_by(&r, &k3, &v), AI_ERR_VERIFY);
	}
	key_hex(&k1, h1);
	key_hex(&k2, h2);
	ai_trust_describe(&r, line, sizeof line);
	cr_assert(strstr(line, "trusting key "), "%s", line);
	cr_assert(strstr(line, h1) && strstr(line, h2), "%s", line);
	cr_assert(strstr(line, "(the archive's genesis key, not pinned), rotated to "), "%s", line);
	ai_trust_release(&r);
}

Test(identity, a_pin_anchors_the_chain)
{
	struct ai_init_report rep;
	struct ai_trust t;
	struct ai_trust_verdict v;
	char h2[AI_MINISIGN_KEYID_HEXLEN], h3[AI_MINISIGN_KEYID_HEXLEN], line[512];

	init_with(&k1, &rep);
	ai_trust_init(&t);
	OK(ai_archive_keys(dest, &t, 0));
	OK(ai_identity_rotate(dest, &t, &k1, &k2, T0, NULL));
	ai_trust_release(&t);

	key_hex(&k2, h2);
	ai_trust_init(&t);
	OK(ai_trust_parse_key_id(h2, t.key_id));
	OK(ai_archive_keys(dest, &t, 0));
	OK(check_signed_by(&t, &k2, &v));
	cr_assert_eq(check_signed_by(&t, &k1, &v), AI_ERR_VERIFY, "replaced before the pin");
	cr_assert_eq(v.fault, AI_TRUST_NOT_PINNED);
	ai_trust_describe(&t, line, sizeof line);
	cr_assert(strstr(line, "trusting key "), "%s", line);
	cr_assert(strstr(line, " (pinned)"), "%s", line);
	ai_trust_release(&t);

	key_hex(&k3, h3);
	ai_trust_init(&t);
	OK(ai_trust_parse_key_id(h3, t.key_id));
	OK(ai_archive_keys(dest, &t, 0));
	cr_assert(ai_trust_pin_outside(&t, line, sizeof line));
	cr_assert(strstr(line, "the pinned key "), "%s", line);
	cr_assert(strstr(line, " is not one of this archive's keys ("), "%s", line);
	cr_assert_eq(check_signed_by(&t, &k2, &v), AI_ERR_VERIFY, "a pin outside trusts nothing");
	cr_assert_eq(v.fault, AI_TRUST_NOT_PINNED);
	cr_assert(strstr(v.why, "not the pinned key"), "%s", v.why);
	cr_assert_eq(check_signed_by(&t, &k3, &v), AI_ERR_VERIFY, "not even the pinned key");
	cr_assert_eq(v.fault, AI_TRUST_FOREIGN_KEY);
	ai_trust_release(&t);

	ai_trust_init(&t);
	t.has_pubkey = 1;
	ai_signing_key_pubkey(&k3, &t.pubkey);
	OK(ai_archive_keys(dest, &t, 0));
	cr_assert(ai_trust_pin_outside(&t, line, sizeof line));
	cr_assert_eq(check_signed_by(&t, &k2, &v), AI_ERR_VERIFY);
	cr_assert_eq(v.fault, AI_TRUST_BAD_SIGNATURE);
	cr_assert_eq(check_signed_by(&t, &k3, &v), AI_ERR_VERIFY);
	cr_assert_eq(v.fault, AI_TRUST_FOREIGN_KEY);
	ai_trust_release(&t);

	ai_trust_init(&t);
	t.has_pubkey = 1;
	ai_signing_key_pubkey(&k2, &t.pubkey);
	OK(ai_archive_keys(dest, &t, 0));
	cr_assert_eq(t.anchor, 1);
	ai_trust_describe(&t, line, sizeof line);
	cr_assert(strstr(line, " (from --pubkey)"), "%s", line);
	ai_trust_release(&t);
}

/* Writes rotation seq from the current chain's last key to to, signed by signer. */
static void forge_rotation(uint64_t seq, const char *archive_id, const struct ai_signing_key *old,
                           const struct ai_signing_key *to, const struct ai_signing_key *signer)
{
	struct ai_key_rotation k;
	struct ai_minisign_pubkey pk;
	struct ai_buf b;
	char name[64];

	memset(&k, 0, sizeof k);
	snprintf(k.archive_id, sizeof k.archive_id, "%s", archive_id);
	k.seq = seq;
	key_hex(old, k.old_key_id);
	ai_signing_key_pubkey(to, &pk);
	k.new_key = pk;
	key_hex(to, k.new_key_id);
	k.created = T0;
	ai_buf_init(&b, 4096);
	OK(ai_key_rotation_encode(&k, &b));
	ai_identity_rotation_name(seq, name, sizeof name);
	OK(ai_signed_put(dest, name, b.data, b.len, 0, signer, "key-rotation", T0));
	ai_buf_release(&b);
}

Test(identity, a_rotation_signed_by_another_key_is_refused)
{
	struct ai_init_report rep;
	struct ai_identity id;
	struct ai_trust t;

	init_with(&k1, &rep);
	forge_rotation(1, rep.archive_id, &k1, &k3, &k3);
	cr_assert_eq(ai_identity_read(dest, &id, NULL, NULL), AI_ERR_VERIFY);
	cr_assert(strstr(ai_store_last_error(), "key-rotation 'manifest/keys/000000000001.rot': "
	                                        "signed by key "), "%s", ai_store_last_error());
	cr_assert_eq(id.nkeys, 1, "the chain as far as it checks out");
	ai_trust_init(&t);
	cr_assert_eq(ai_archive_keys(dest, &t, 0), AI_ERR_VERIFY);
	ai_trust_release(&t);
}

Test(identity, a_gap_or_a_record_for_another_archive_is_refused)
{
	struct ai_init_report rep;
	struct ai_identity id;

	init_with(&k1, &rep);
	forge_rotation(2, rep.archive_id, &k1, &k2, &k1);
	cr_assert_eq(ai_identity_read(dest, &id, NULL, NULL), AI_ERR_VERIFY);
	cr_assert(strstr(ai_store_last_error(), "'manifest/keys/000000000001.rot': missing"), "%s",
	          ai_store_last_error());
	OK(ai_store_delete(dest, "manifest/keys/000000000002.rot"));
	forge_rotation(1, "ffffffffffffffffffffffffffffffff", &k1, &k2, &k1);
	cr_assert_eq(ai_identity_read(dest, &id, NULL, NULL), AI_ERR_VERIFY);
	cr_assert(strstr(ai_store_last_error(), "is for archive ffff"), "%s",
	          ai_store_last_error());
}

Test(identity, rotation_needs_the_current_key_and_never_brings_one_back)
{
	struct ai_init_report rep;
	struct ai_trust t;

	init_with(&k1, &rep);
	ai_trust_init(&t);
	OK(ai_archive_keys(dest, &t, 0));
	cr_assert_eq(ai_identity_rotate(dest, &t, &k2, &k3, T0, NULL), AI_ERR_VERIFY);
	cr_assert(strstr(ai_store_last_error(), "is not this archive's current key"), "%s",
	          ai_store_last_error());
	cr_assert_not(exists("manifest/keys/000000000001.rot"));
	cr_assert_eq(ai_identity_rotate(dest, &t, &k1, &k1, T0, NULL), AI_ERR_USAGE);
	OK(ai_identity_rotate(dest, &t, &k1, &k2, T0, NULL));
	cr_assert_eq(ai_identity_rotate(dest, &t, &k2, &k1, T0, NULL), AI_ERR_CONFIG);
	ai_trust_release(&t);
}

Test(identity, a_missing_record_signature_is_restored_by_copying)
{
	struct ai_init_report rep;
	struct ai_trust t;

	init_with(&k1, &rep);
	OK(ai_store_delete(dest, AI_GENESIS_NAME ".minisig"));
	ai_trust_init(&t);
	OK(ai_archive_keys(dest, &t, 0));
	cr_assert_not(exists(AI_GENESIS_NAME ".minisig"), "a reader writes nothing");
	OK(ai_archive_keys(dest, &t, 1));
	cr_assert(exists(AI_GENESIS_NAME ".minisig"), "restored from the carried signature");
	ai_trust_release(&t);
}
