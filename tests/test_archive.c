/* test_archive.c: the walk of the hash chain that opening an archive, gc
 * and verify share: what it hands over for intact, missing and misplaced
 * segments, and how the callback ends it; the state a new archive gets
 * before its first segment, without which segments are refused; and the
 * pack bound's clock across a suspend of the machine. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "engine/archive.h"
#include "format/minisign.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "engine/trust.h"

#define NSEG 3
#define T0 (INT64_C(1714521600) * AI_NS_PER_SEC)

static char tmpdir[64];
static struct ai_store *dest;
static uint8_t head[AI_SHA256_LEN];
static struct ai_minisign_pubkey pub;
static struct ai_signing_key key;

/* An archive of NSEG segments, one pack each. */
static void setup(void)
{
	struct ai_store_config cfg = { 0 };
	struct ai_archive a;
	char url[128], name[32];

	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_archive.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(url, sizeof url, "file://%s/archive", tmpdir);
	cfg.url = url;
	cr_assert_eq(ai_store_open(&dest, &cfg), AI_OK);
	cr_assert_eq(ai_store_create_container(dest), AI_OK);
	cr_assert_eq(ai_signing_key_generate(&key), AI_OK);
	{
		struct ai_trust trust;
		ai_trust_init(&trust);
		ai_trust_use_key(&trust, &key);
		cr_assert_eq(ai_archive_open(&a, dest, &trust, 1), AI_OK);
		ai_trust_release(&trust);
	}
	for (int i = 0; i < NSEG; i++) {
		struct ai_segment seg;
		struct ai_pack_ref pack = { .name = name, .size = 10 };
		uint32_t idx;
		snprintf(name, sizeof name, "data/p%d.pack", i);
		ai_segment_init(&seg);
		seg.run_id = strdup("run");
		cr_assert_eq(ai_segment_add_pack(&seg, &pack, &idx), AI_OK);
		cr_assert_eq(ai_archive_commit(&a, &seg, NULL, 0, &key, T0), AI_OK);
		ai_segment_release(&seg);
	}
	memcpy(head, a.state.head_sha256, sizeof head);
	ai_signing_key_pubkey(&key, &pub);
	ai_archive_release(&a);
}

static void teardown(void)
{
	char cmd[128];

	ai_store_free(dest);
	ai_signing_key_release(&key);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(archive_walk, .init = setup, .fini = teardown);

/* What a walk handed over, one entry per call. */
struct seen {
	size_t n;
	uint64_t seq[8];
	ai_result ok[8];
	int linked[8];
	size_t stop_at;           /* the call that returns AI_ERR_NOT_FOUND (0: none) */
};

static ai_result record(void *ctx, const struct ai_archive_link *l)
{
	struct seen *s = ctx;

	cr_assert_lt(s->n, 8);
	s->seq[s->n] = l->seq;
	s->ok[s->n] = ai_archive_link_ok(l);
	s->linked[s->n] = l->linked;
	s->n++;
	return s->stop_at && s->n == s->stop_at ? AI_ERR_NOT_FOUND : AI_OK;
}

static void replace_segment(uint64_t seq, uint64_t with)
{
	char name[128], from[128];
	struct ai_buf b;

	ai_buf_init(&b, 1 << 20);
	ai_archive_segment_name(with, from, sizeof from);
	ai_archive_segment_name(seq, name, sizeof name);
	cr_assert_eq(ai_store_read(dest, from, 0, 0, NULL, &b, NULL), AI_OK);
	cr_assert_eq(ai_store_delete(dest, name), AI_OK);
	cr_assert_eq(ai_store_put(dest, name, b.data, b.len, 0, NULL, NULL), AI_OK);
	ai_buf_release(&b);
}

Test(archive_walk, an_intact_chain_links_every_segment_and_ends_at_the_head)
{
	struct ai_archive_walk w = { .from = 0, .to = NSEG };
	struct seen s = { 0 };

	cr_assert_eq(ai_archive_walk(dest, &w, record, &s), AI_OK);
	cr_assert_eq(s.n, NSEG);
	for (size_t i = 0; i < NSEG; i++) {
		cr_expect_eq(s.seq[i], i);
		cr_expect_eq(s.ok[i], AI_OK);
		cr_expect(s.linked[i], "segment %zu links to the one before", i);
	}
	cr_expect_eq(memcmp(w.head, head, sizeof head), 0);
}

Test(archive_walk, a_missing_segment_is_handed_over_and_the_next_is_unlinked)
{
	struct ai_archive_walk w = { .from = 0, .to = NSEG };
	struct seen s = { 0 };
	char name[128];

	ai_archive_segment_name(1, name, sizeof name);
	cr_assert_eq(ai_store_delete(dest, name), AI_OK);
	cr_assert_eq(ai_archive_walk(dest, &w, record, &s), AI_OK);
	cr_assert_eq(s.n, NSEG);
	cr_expect_eq(s.ok[1], AI_ERR_NOT_FOUND);
	cr_expect_not(s.linked[1]);
	cr_expect_eq(s.ok[2], AI_OK);
	cr_expect_not(s.linked[2], "nothing links to a missing segment");
}

Test(archive_walk, a_segment_under_another_number_is_refused_and_breaks_the_chain)
{
	struct ai_archive_walk w = { .from = 0, .to = NSEG };
	struct seen s = { 0 };

	replace_segment(2, 1);
	cr_assert_eq(ai_archive_walk(dest, &w, record, &s), AI_OK);
	cr_expect_eq(s.ok[2], AI_ERR_VERIFY, "segment 1's bytes say they are number 1");
	cr_expect_not(s.linked[2]);
}

Test(archive_walk, a_walk_from_the_middle_links_to_the_head_it_is_given)
{
	struct ai_archive_walk first = { .from = 0, .to = 1 }, rest = { .from = 1, .to = NSEG };
	struct seen s = { 0 };

	cr_assert_eq(ai_archive_walk(dest, &rest, record, &s), AI_OK);
	cr_expect_not(s.linked[0], "zeros are not segment 0's digest");
	memset(&s, 0, sizeof s);
	cr_assert_eq(ai_archive_walk(dest, &first, record, &s), AI_OK);
	memcpy(rest.head, first.head, sizeof rest.head);
	memset(&s, 0, sizeof s);
	cr_assert_eq(ai_archive_walk(dest, &rest, record, &s), AI_OK);
	cr_assert_eq(s.n, NSEG - 1);
	cr_expect(s.linked[0] && s.linked[1]);
}

Test(archive_walk, listed_numbers_are_read_alone_and_a_gap_is_unlinked)
{
	static const uint64_t seqs[] = { 0, 2 };
	struct ai_archive_walk w = { .seqs = seqs, .nseqs = 2 };
	struct seen s = { 0 };

	cr_assert_eq(ai_archive_walk(dest, &w, record, &s), AI_OK);
	cr_assert_eq(s.n, 2);
	cr_expect_eq(s.seq[1], 2);
	cr_expect(s.linked[0]);
	cr_expect_not(s.linked[1], "segment 1 was not read");
}

Test(archive_walk, an_open_walk_ends_where_the_callback_stops_it)
{
	struct ai_archive_walk w = { .from = 0, .to = UINT64_MAX };
	struct seen s = { .stop_at = NSEG + 1 };

	cr_expect_eq(ai_archive_walk(dest, &w, record, &s), AI_ERR_NOT_FOUND);
	cr_expect_eq(s.n, NSEG + 1);
	cr_expect_eq(s.ok[NSEG], AI_ERR_NOT_FOUND, "the first number past the chain is missing");
}

/* ---- the state ---- */

TestSuite(archive_state, .init = setup, .fini = teardown);

static ai_result open_with_key(struct ai_archive *a)
{
	struct ai_trust trust;
	ai_result r;

	ai_trust_init(&trust);
	trust.has_pubkey = 1;
	trust.pubkey = pub;
	r = ai_archive_open(a, dest, &trust, 0);
	ai_trust_release(&trust);
	return r;
}

Test(archive_state, a_new_archive_gets_its_state_before_its_first_segment)
{
	struct ai_archive a;

	/* setup never saved one: the first commit did, covering nothing. */
	cr_assert_eq(open_with_key(&a), AI_OK);
	cr_expect(a.state_found);
	cr_expect_not(a.state_missing);
	cr_expect_eq(a.probed, NSEG, "every segment is past the state");
	cr_expect_eq(a.state.next_seq, NSEG);
	cr_expect_eq(memcmp(a.state.head_sha256, head, sizeof head), 0);
	ai_archive_release(&a);
}

Test(archive_state, segments_without_a_state_are_refused_yet_folded)
{
	struct ai_archive a;

	cr_assert_eq(ai_store_delete(dest, "manifest/state"), AI_OK);
	cr_assert_eq(open_with_key(&a), AI_ERR_VERIFY);
	cr_expect(a.state_missing);
	cr_expect(strstr(ai_store_last_error(), "state 'manifest/state': missing") != NULL, "%s",
	          ai_store_last_error());
	cr_expect_eq(a.state.next_seq, NSEG, "the chain is folded all the same");
	ai_archive_release(&a);
}

Test(archive_state, an_empty_archive_without_a_state_is_empty)
{
	struct ai_archive a;
	char cmd[160];

	snprintf(cmd, sizeof cmd, "rm -rf '%s/archive/manifest'", tmpdir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(open_with_key(&a), AI_OK);
	cr_expect_not(a.state_found);
	cr_expect_not(a.state_missing);
	cr_expect_eq(a.state.next_seq, 0);
	ai_archive_release(&a);
}

/* ---- the pack bound across a suspend ---- */

/* How long the machine has been suspended, as the clocks see it:
 * CLOCK_BOOTTIME counts it, CLOCK_MONOTONIC does not. This definition
 * takes every clock_gettime call of the test program, the library's
 * included. */
static int64_t suspended_ns;
/* When set: the machine is suspended (for 2 h) from the moment this file
 * exists, so that a run is stopped right after it wrote a segment. */
static char suspend_once_there[256];

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = (int)syscall(SYS_clock_gettime, id, ts);
	int64_t add = __atomic_load_n(&suspended_ns, __ATOMIC_RELAXED);

	if (!add && *suspend_once_there && id == CLOCK_BOOTTIME &&
	    access(suspend_once_there, F_OK) == 0)
		add = 2 * 3600 * AI_NS_PER_SEC;

	if (rc == 0 && id == CLOCK_BOOTTIME && add) {
		int64_t ns = ts->tv_nsec + add % AI_NS_PER_SEC;
		ts->tv_sec += (time_t)(add / AI_NS_PER_SEC + ns / AI_NS_PER_SEC);
		ts->tv_nsec = (long)(ns % AI_NS_PER_SEC);
	}
	return rc;
}

TestSuite(archive_bound, .init = setup, .fini = teardown);

static ai_result commit_one(struct ai_archive *a, char *pack)
{
	struct ai_segment seg;
	struct ai_pack_ref ref = { .name = pack, .size = 10 };
	uint32_t idx;
	ai_result r;

	ai_segment_init(&seg);
	seg.run_id = strdup("run");
	cr_assert_eq(ai_segment_add_pack(&seg, &ref, &idx), AI_OK);
	r = ai_archive_commit(a, &seg, NULL, 0, &key, T0);
	ai_segment_release(&seg);
	return r;
}

/* A run holding a pack it committed just now is suspended with the machine
 * for two hours (gc may remove the pack from twice the bound on): it must
 * not write the segment naming it. */
Test(archive_bound, a_run_suspended_past_the_pack_bound_writes_no_segment)
{
	struct ai_archive a;
	char name[64], fresh[] = "data/fresh.pack", late[] = "data/late.pack";

	cr_assert_eq(open_with_key(&a), AI_OK);
	a.deadline_ns = ai_clock_mono_ns() + ai_pack_bound_ns();
	cr_assert_eq(commit_one(&a, fresh), AI_OK, "within the bound: %s",
	             ai_store_last_error());
	a.deadline_ns = ai_clock_mono_ns() + ai_pack_bound_ns();
	__atomic_store_n(&suspended_ns, 2 * ai_pack_bound_ns(), __ATOMIC_RELAXED);
	cr_assert_eq(commit_one(&a, late), AI_ERR_TIMEOUT,
	             "a pack committed before a 2 h suspend is past the 1 h bound");
	__atomic_store_n(&suspended_ns, 0, __ATOMIC_RELAXED);
	cr_expect(a.late);
	cr_expect(strstr(ai_store_last_error(), "more than the pack bound ago"), "%s",
	          ai_store_last_error());
	ai_archive_segment_name(NSEG + 1, name, sizeof name);
	cr_expect_eq(ai_store_props(dest, name, &(struct ai_blob_info){ 0 }, NULL),
	             AI_ERR_NOT_FOUND, "no segment written");
	ai_archive_release(&a);
}

/* A run stopped between its last check and the segment's write, for longer
 * than the pack bound, wrote the segment anyway: the packs it names are
 * looked up again, and one that gc removed meanwhile is a verification
 * failure naming it (ARCHITECTURE.md §7.3); packs still there are fine. */
Test(archive_bound, a_segment_written_late_checks_that_its_packs_are_still_there)
{
	struct ai_archive a;
	char name[64], kept[] = "data/kept.pack", gone[] = "data/gone.pack";

	cr_assert_eq(ai_store_put(dest, kept, "pack", 4, 0, NULL, NULL), AI_OK);
	cr_assert_eq(open_with_key(&a), AI_OK);
	ai_archive_segment_name(a.state.next_seq, name, sizeof name);
	snprintf(suspend_once_there, sizeof suspend_once_there, "%s/archive/%s", tmpdir, name);
	a.deadline_ns = ai_clock_mono_ns() + ai_pack_bound_ns();
	cr_expect_eq(commit_one(&a, kept), AI_OK, "its pack is there: %s", ai_store_last_error());
	ai_archive_segment_name(a.state.next_seq, name, sizeof name);
	snprintf(suspend_once_there, sizeof suspend_once_there, "%s/archive/%s", tmpdir, name);
	a.deadline_ns = ai_clock_mono_ns() + ai_pack_bound_ns();
	cr_assert_eq(commit_one(&a, gone), AI_ERR_VERIFY, "its pack is gone");
	*suspend_once_there = '\0';
	cr_expect(strstr(ai_store_last_error(), "1 of the packs it names are gone (the first: "
	                                        "'data/gone.pack')"),
	          "%s", ai_store_last_error());
	ai_archive_release(&a);
}
