/* test_witness.c: checkpoints of the chain kept in a local state directory
 * and in a second store: what a run writes, and the check that refuses an
 * archive whose chain no longer contains the witnessed head (rollback,
 * truncation, a rewritten head) or whose checkpoint does not verify. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "engine/archive.h"
#include "engine/trust.h"
#include "engine/witness.h"
#include "format/minisign.h"
#include "store/store.h"

#define T0 (INT64_C(1795148400) * AI_NS_PER_SEC)

static char tmpdir[64];
static struct ai_store *dest;
static struct ai_signing_key key;
static struct ai_trust trust;

static struct ai_store *open_dir(const char *sub)
{
	struct ai_store_config cfg = { 0 };
	struct ai_store *s;
	char url[128];

	snprintf(url, sizeof url, "file://%s/%s", tmpdir, sub);
	cfg.url = url;
	cr_assert_eq(ai_store_open(&s, &cfg), AI_OK);
	return s;
}

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_witness.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	dest = open_dir("archive");
	cr_assert_eq(ai_store_create_container(dest), AI_OK);
	cr_assert_eq(ai_signing_key_generate(&key), AI_OK);
	ai_trust_init(&trust);
	ai_trust_use_key(&trust, &key);
}

static void teardown(void)
{
	char cmd[128];

	ai_trust_release(&trust);
	ai_signing_key_release(&key);
	ai_store_free(dest);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(witness, .init = setup, .fini = teardown);

/* Opens the archive and commits n more segments into a. */
static void grow(struct ai_archive *a, int n)
{
	for (int i = 0; i < n; i++) {
		struct ai_segment seg;
		ai_segment_init(&seg);
		seg.run_id = strdup("run");
		cr_assert_eq(ai_archive_commit(a, &seg, NULL, 0, &key, T0), AI_OK);
		ai_segment_release(&seg);
	}
}

/* The witnesses: the state directory <tmp>/state, and <tmp>/remote. */
static void witnesses(struct ai_witnesses *ws)
{
	char dir[128];

	ai_witnesses_init(ws, dest);
	snprintf(dir, sizeof dir, "%s/state", tmpdir);
	cr_assert_eq(ai_witnesses_add_dir(ws, dir, 1), AI_OK);
	cr_assert_eq(ai_witnesses_add_store(ws, open_dir("remote"), 1), AI_OK);
}

/* Opens the archive afresh and checks it against fresh witnesses. */
static ai_result reopen_and_check(void)
{
	struct ai_witnesses ws;
	struct ai_archive a;
	ai_result r;

	witnesses(&ws);
	r = ai_archive_open(&a, dest, &trust, 0);
	r = ai_witness_check(&ws, dest, &trust, &a, r);
	ai_archive_release(&a);
	ai_witnesses_release(&ws);
	return r;
}

/* An archive of n segments whose checkpoint a run wrote. */
static void archive_of(int n)
{
	struct ai_witnesses ws;
	struct ai_archive a;

	witnesses(&ws);
	cr_assert_eq(ai_archive_open(&a, dest, &trust, 0), AI_OK);
	grow(&a, n);
	cr_assert_eq(ai_archive_save_state(&a, &key, T0), AI_OK);
	cr_assert_eq(ai_witness_record(&ws, dest, &trust, &a, &key, T0), AI_OK);
	ai_archive_release(&a);
	ai_witnesses_release(&ws);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command in the scratch directory. */
static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	snprintf(cmd, sizeof cmd, "cd '%s' && ", tmpdir);
	va_start(ap, fmt);
	vsnprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(witness, a_run_leaves_a_signed_checkpoint_in_each_witness)
{
	struct ai_witnesses ws;
	struct ai_checkpoint c;
	struct stat st;
	char why[256], path[256];

	archive_of(3);
	witnesses(&ws);
	for (size_t i = 0; i < ws.n; i++) {
		cr_assert_eq(ai_witness_read(&ws, i, dest, &trust, &c, why, sizeof why), AI_OK, "%s",
		             why);
		cr_expect_eq(c.segments, 3);
		cr_expect_str_eq(c.archive, ai_store_describe(dest));
	}
	snprintf(path, sizeof path, "%s/state", tmpdir);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0700, "the state directory is the host's alone");
	snprintf(path, sizeof path, "%s/state/%s.minisig", tmpdir, ws.name);
	cr_expect_eq(stat(path, &st), 0, "stock minisign finds the signature beside it");
	ai_witnesses_release(&ws);
	cr_expect_eq(reopen_and_check(), AI_OK);
}

Test(witness, an_archive_grown_past_the_checkpoint_passes)
{
	struct ai_archive a;

	archive_of(2);
	cr_assert_eq(ai_archive_open(&a, dest, &trust, 0), AI_OK);
	grow(&a, 2);
	cr_assert_eq(ai_archive_save_state(&a, &key, T0), AI_OK);
	ai_archive_release(&a);
	cr_expect_eq(reopen_and_check(), AI_OK, "%s", ai_store_last_error());
}

Test(witness, an_older_state_without_the_newest_segments_is_a_rollback)
{
	struct ai_archive a;

	archive_of(2);
	sh("cp archive/manifest/state st && cp archive/manifest/state.minisig st.sig");
	cr_assert_eq(ai_archive_open(&a, dest, &trust, 0), AI_OK);
	grow(&a, 1);
	cr_assert_eq(ai_archive_save_state(&a, &key, T0), AI_OK);
	{
		struct ai_witnesses ws;
		witnesses(&ws);
		cr_assert_eq(ai_witness_record(&ws, dest, &trust, &a, &key, T0), AI_OK);
		ai_witnesses_release(&ws);
	}
	ai_archive_release(&a);
	sh("rm archive/manifest/segments/000000000002.seg* archive/manifest/index/000000000002.idx* "
	   "&& cp st archive/manifest/state && cp st.sig archive/manifest/state.minisig");
	cr_expect_eq(reopen_and_check(), AI_ERR_VERIFY);
	cr_expect(strstr(ai_store_last_error(),
	                 "archive rolled back: witness saw segment 2, head is 1") != NULL, "%s",
	          ai_store_last_error());
}

Test(witness, a_truncation_that_took_the_state_reads_as_a_rollback)
{
	archive_of(3);
	sh("rm archive/manifest/state* archive/manifest/segments/00000000000[12].seg*");
	cr_expect_eq(reopen_and_check(), AI_ERR_VERIFY);
	cr_expect(strstr(ai_store_last_error(),
	                 "archive rolled back: witness saw segment 2, head is 0") != NULL, "%s",
	          ai_store_last_error());
}

Test(witness, a_lost_state_alone_stays_a_verification_failure)
{
	archive_of(2);
	sh("rm archive/manifest/state*");
	cr_expect_eq(reopen_and_check(), AI_ERR_VERIFY);
	cr_expect(strstr(ai_store_last_error(), "state 'manifest/state': missing") != NULL, "%s",
	          ai_store_last_error());
}

Test(witness, an_emptied_archive_is_a_rollback)
{
	archive_of(1);
	sh("rm -rf archive/manifest");
	cr_expect_eq(reopen_and_check(), AI_ERR_VERIFY);
	cr_expect(strstr(ai_store_last_error(), "witness saw segment 0, the archive has no segment"),
	          "%s", ai_store_last_error());
}

Test(witness, a_checkpoint_that_does_not_verify_is_not_passed_over)
{
	struct ai_signing_key other;
	struct ai_trust theirs;
	struct ai_witnesses ws;
	struct ai_archive a;

	archive_of(1);
	/* A checkpoint of an empty chain, signed by another key. */
	cr_assert_eq(ai_signing_key_generate(&other), AI_OK);
	ai_trust_init(&theirs);
	ai_trust_use_key(&theirs, &other);
	sh("rm -rf state remote");
	cr_assert_eq(ai_archive_open(&a, dest, &trust, 0), AI_OK);
	grow(&a, 1);
	witnesses(&ws);
	cr_assert_eq(ai_witness_record(&ws, dest, &theirs, &a, &other, T0), AI_OK);
	ai_witnesses_release(&ws);
	ai_archive_release(&a);
	cr_expect_eq(reopen_and_check(), AI_ERR_VERIFY);
	cr_expect(strstr(ai_store_last_error(), "does not check out") != NULL, "%s",
	          ai_store_last_error());
	ai_trust_release(&theirs);
	ai_signing_key_release(&other);
}

Test(witness, a_stale_signature_file_is_healed_by_the_one_the_checkpoint_carries)
{
	struct ai_witnesses ws;

	archive_of(1);
	witnesses(&ws);
	sh("cp state/%s.minisig old.minisig", ws.name);
	ai_witnesses_release(&ws);
	archive_of(1);
	witnesses(&ws);
	/* A run stopped between the checkpoint and its .minisig. */
	sh("cp old.minisig state/%s.minisig", ws.name);
	ai_witnesses_release(&ws);
	cr_expect_eq(reopen_and_check(), AI_OK, "%s", ai_store_last_error());
}

Test(witness, the_checkpoint_of_another_archive_is_refused)
{
	struct ai_witnesses ws, theirs;
	struct ai_store *other = open_dir("other");
	struct ai_archive a;
	char cmd[512];

	cr_assert_eq(ai_store_create_container(other), AI_OK);
	archive_of(1);
	cr_assert_eq(ai_archive_open(&a, other, &trust, 0), AI_OK);
	grow(&a, 1);
	ai_witnesses_init(&theirs, other);
	cr_assert_eq(ai_witnesses_add_store(&theirs, open_dir("remote"), 1), AI_OK);
	cr_assert_eq(ai_witness_record(&theirs, other, &trust, &a, &key, T0), AI_OK);
	/* Another archive's checkpoint, copied over this one's. */
	witnesses(&ws);
	snprintf(cmd, sizeof cmd, "rm state/%s* && cp remote/%s state/%s && "
	         "cp remote/%s.minisig state/%s.minisig", ws.name, theirs.name, ws.name,
	         theirs.name, ws.name);
	sh("%s", cmd);
	ai_witnesses_release(&ws);
	ai_witnesses_release(&theirs);
	ai_archive_release(&a);
	ai_store_free(other);
	/* Its signature names the other checkpoint, so it does not verify here. */
	cr_expect_eq(reopen_and_check(), AI_ERR_VERIFY);
	cr_expect(strstr(ai_store_last_error(), "another object") != NULL, "%s",
	          ai_store_last_error());
}

Test(witness, a_checkpoint_of_a_longer_chain_is_kept)
{
	struct ai_witnesses ws;
	struct ai_archive stale;
	struct ai_checkpoint c;
	char why[256];

	archive_of(1);
	cr_assert_eq(ai_archive_open(&stale, dest, &trust, 0), AI_OK);
	archive_of(2); /* a concurrent run went on meanwhile */
	witnesses(&ws);
	cr_assert_eq(ai_witness_record(&ws, dest, &trust, &stale, &key, T0), AI_OK);
	cr_assert_eq(ai_witness_read(&ws, 0, dest, &trust, &c, why, sizeof why), AI_OK, "%s", why);
	cr_expect_eq(c.segments, 3);
	ai_witnesses_release(&ws);
	ai_archive_release(&stale);
}

Test(witness, judges_the_head_it_saw)
{
	struct ai_checkpoint c = { .segments = 43 };
	uint8_t same[AI_SHA256_LEN] = { 0 }, other[AI_SHA256_LEN] = { 1 };
	char why[256];

	cr_expect_eq(ai_witness_judge(&c, 43, same, why, sizeof why), AI_OK);
	cr_expect_eq(ai_witness_judge(&c, 50, same, why, sizeof why), AI_OK);
	cr_expect_eq(ai_witness_judge(&c, 40, NULL, why, sizeof why), AI_ERR_VERIFY);
	cr_expect_str_eq(why, "archive rolled back: witness saw segment 42, head is 39");
	cr_expect_eq(ai_witness_judge(&c, 50, NULL, why, sizeof why), AI_ERR_VERIFY);
	cr_expect(strstr(why, "segment 42, which is missing") != NULL, "%s", why);
	cr_expect_eq(ai_witness_judge(&c, 43, other, why, sizeof why), AI_ERR_VERIFY);
	cr_expect(strstr(why, "rewritten") != NULL, "%s", why);
	c.segments = 0;
	cr_expect_eq(ai_witness_judge(&c, 0, NULL, why, sizeof why), AI_OK);
}

Test(witness, names_the_checkpoint_by_the_location_alone)
{
	struct ai_witnesses a, b;
	struct ai_store *slash = open_dir("archive/");

	ai_witnesses_init(&a, dest);
	ai_witnesses_init(&b, slash);
	cr_expect_str_eq(a.name, b.name, "a trailing '/' is the same archive");
	cr_expect_eq(strncmp(a.name, "witness/", 8), 0);
	cr_expect_eq(strlen(a.name), strlen("witness/") + 32 + strlen(".ckpt"));
	ai_store_free(slash);
}
