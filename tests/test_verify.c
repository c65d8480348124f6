/* test_verify.c: the pure parts of verify: deterministic subsets, the
 * hash-chain checks over segments encoded in memory, the state head, and a
 * segment index against its segment. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include "format/manifest_codec.h"
#include "engine/verify.h"

/* ---- subsets ---- */

struct subset_case {
	char text[16];
	int ok;
	uint64_t n, m;
};

ParameterizedTestParameters(verify, subset_parse)
{
	static struct subset_case cases[] = {
		{ "1/1", 1, 1, 1 },   { "1/4", 1, 1, 4 },  { "4/4", 1, 4, 4 },
		{ "12/100", 1, 12, 100 },
		{ "0/4", 0, 0, 0 },   { "5/4", 0, 0, 0 },  { "1/0", 0, 0, 0 },
		{ "1/4x", 0, 0, 0 },  { "-1/4", 0, 0, 0 }, { "1", 0, 0, 0 },
		{ "", 0, 0, 0 },      { "a/b", 0, 0, 0 },  { " 1/4", 0, 0, 0 },
		{ "1/-4", 0, 0, 0 },
	};
	return cr_make_param_array(struct subset_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct subset_case *c, verify, subset_parse)
{
	struct ai_verify_subset s;
	ai_result r = ai_verify_subset_parse(c->text, &s);

	if (!c->ok) {
		cr_assert_eq(r, AI_ERR_USAGE, "'%s' should be refused", c->text);
		return;
	}
	cr_assert_eq(r, AI_OK, "'%s' should parse", c->text);
	cr_assert_eq(s.n, c->n);
	cr_assert_eq(s.m, c->m);
}

Test(verify, subset_hash_is_a_fixed_function_of_its_inputs)
{
	/* Pinned values: a change would move items between shares and break
	 * the promise that --subset n/m checks the same items on every run. */
	cr_assert_eq(ai_verify_hash(0, 0, 0), ai_verify_hash(0, 0, 0));
	cr_assert_neq(ai_verify_hash(0, 1, 0), ai_verify_hash(1, 0, 0));
	cr_assert_neq(ai_verify_hash(3, 7, AI_VERIFY_SALT_MEMBER),
	              ai_verify_hash(3, 7, AI_VERIFY_SALT_PACK));
	cr_assert_eq(ai_verify_hash(0, 0, 0), UINT64_C(0x238275bc38fcbe91));
	cr_assert_eq(ai_verify_hash(3, 7, AI_VERIFY_SALT_PACK), UINT64_C(0x7970e130d0c7742f));
	cr_assert_eq(ai_verify_hash(123456, 99, AI_VERIFY_SALT_MEMBER), UINT64_C(0x8c0c610dcaa98416));
}

Test(verify, every_member_is_in_exactly_one_share)
{
	const uint64_t m = 7;
	uint64_t per_share[7] = { 0 };

	for (uint64_t seq = 0; seq < 20; seq++) {
		for (uint64_t i = 0; i < 100; i++) {
			int in = 0;
			for (uint64_t n = 1; n <= m; n++) {
				struct ai_verify_subset s = { .n = n, .m = m };
				if (ai_verify_subset_has(&s, seq, i, AI_VERIFY_SALT_MEMBER)) {
					in++;
					per_share[n - 1]++;
				}
			}
			cr_assert_eq(in, 1, "member %llu of segment %llu is in %d shares",
			             (unsigned long long)i, (unsigned long long)seq, in);
		}
	}
	/* 2000 items over 7 shares: about 286 each. */
	for (uint64_t n = 0; n < m; n++)
		cr_assert(per_share[n] > 200 && per_share[n] < 380, "share %llu has %llu",
		          (unsigned long long)n + 1, (unsigned long long)per_share[n]);
}

Test(verify, no_subset_and_one_of_one_select_everything)
{
	struct ai_verify_subset all = { 0 }, one = { .n = 1, .m = 1 };

	for (uint64_t i = 0; i < 100; i++) {
		cr_assert(ai_verify_subset_has(&all, 5, i, AI_VERIFY_SALT_MEMBER));
		cr_assert(ai_verify_subset_has(&one, 5, i, AI_VERIFY_SALT_PACK));
	}
}

/* ---- the chain ---- */

#define NSEG 5

/* Encodes NSEG chained segments and records them as the walk would. */
static void make_chain(struct ai_chain_entry e[NSEG])
{
	uint8_t prev[AI_SHA256_LEN] = { 0 };

	memset(e, 0, NSEG * sizeof *e);
	for (uint64_t s = 0; s < NSEG; s++) {
		struct ai_segment seg, back;
		struct ai_buf buf;
		char why[256];

		ai_segment_init(&seg);
		ai_buf_init(&buf, 1 << 20);
		seg.seq = s;
		memcpy(seg.prev, prev, sizeof prev);
		seg.created = (ai_time)s * AI_NS_PER_SEC;
		cr_assert_eq(ai_segment_encode(&seg, &buf), AI_OK);
		cr_assert_eq(ai_sha256(buf.data, buf.len, e[s].sha256), AI_OK);
		cr_assert_eq(ai_segment_decode(buf.data, buf.len, &back, why, sizeof why), AI_OK, "%s",
		             why);
		e[s].name_seq = s;
		e[s].present = 1;
		e[s].decoded = 1;
		e[s].seq = back.seq;
		memcpy(e[s].prev, back.prev, AI_SHA256_LEN);
		memcpy(prev, e[s].sha256, sizeof prev);
		ai_segment_release(&back);
		ai_segment_release(&seg);
		ai_buf_release(&buf);
	}
}

/* 1 when some problem's message contains text (and its object contains obj). */
static int has_problem(const struct ai_verify_report *rep, const char *obj, const char *text,
                       int warning)
{
	for (size_t i = 0; i < rep->nproblems; i++)
		if (rep->problems[i].warning == warning && strstr(rep->problems[i].object, obj) &&
		    strstr(rep->problems[i].message, text))
			return 1;
	return 0;
}

static void dump(const struct ai_verify_report *rep)
{
	for (size_t i = 0; i < rep->nproblems; i++)
		cr_log_info("%s %s: %s", rep->problems[i].kind, rep->problems[i].object,
		            rep->problems[i].message);
}

Test(verify, an_intact_chain_has_no_problem)
{
	struct ai_chain_entry e[NSEG];
	struct ai_verify_report rep;

	make_chain(e);
	ai_verify_report_init(&rep);
	ai_verify_chain(e, NSEG, &rep);
	dump(&rep);
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(rep.warnings, 0);
	ai_verify_report_release(&rep);
}

Test(verify, a_missing_middle_segment_is_found_by_its_number)
{
	struct ai_chain_entry e[NSEG];
	struct ai_verify_report rep;

	make_chain(e);
	memmove(&e[3], &e[4], sizeof e[0]); /* segment 3 gone, 4 still there */
	ai_verify_report_init(&rep);
	ai_verify_chain(e, NSEG - 1, &rep);
	dump(&rep);
	cr_assert_eq(rep.errors, 1);
	cr_assert(has_problem(&rep, "000000000003.seg", "missing", 0));
	ai_verify_report_release(&rep);
}

Test(verify, a_missing_first_segment_is_found)
{
	struct ai_chain_entry e[NSEG];
	struct ai_verify_report rep;

	make_chain(e);
	ai_verify_report_init(&rep);
	ai_verify_chain(e + 1, NSEG - 1, &rep);
	cr_assert_eq(rep.errors, 1);
	cr_assert(has_problem(&rep, "000000000000.seg", "missing", 0));
	ai_verify_report_release(&rep);
}

Test(verify, a_segment_whose_signature_alone_is_left_is_missing)
{
	struct ai_chain_entry e[NSEG];
	struct ai_verify_report rep;

	make_chain(e);
	e[2].present = 0;
	e[2].decoded = 0;
	ai_verify_report_init(&rep);
	ai_verify_chain(e, NSEG, &rep);
	dump(&rep);
	cr_assert_eq(rep.errors, 1);
	cr_assert(has_problem(&rep, "000000000002.seg", "missing", 0));
	ai_verify_report_release(&rep);
}

Test(verify, swapped_segments_are_reported_as_renamed_and_unchained)
{
	struct ai_chain_entry e[NSEG], t;
	struct ai_verify_report rep;

	make_chain(e);
	t = e[1];
	e[1] = e[2];
	e[2] = t;
	e[1].name_seq = 1;
	e[2].name_seq = 2;
	ai_verify_report_init(&rep);
	ai_verify_chain(e, NSEG, &rep);
	dump(&rep);
	cr_assert(has_problem(&rep, "000000000001.seg", "says it is segment 2", 0));
	cr_assert(has_problem(&rep, "000000000002.seg", "says it is segment 1", 0));
	cr_assert(has_problem(&rep, "000000000001.seg", "prev hash does not match segment 0", 0));
	cr_assert(has_problem(&rep, "000000000003.seg", "prev hash does not match segment 2", 0));
	ai_verify_report_release(&rep);
}

Test(verify, an_edited_segment_breaks_the_next_link)
{
	struct ai_chain_entry e[NSEG];
	struct ai_verify_report rep;

	make_chain(e);
	e[2].sha256[7] ^= 0x40; /* its bytes changed, so their digest did */
	ai_verify_report_init(&rep);
	ai_verify_chain(e, NSEG, &rep);
	cr_assert_eq(rep.errors, 1);
	cr_assert(has_problem(&rep, "000000000003.seg", "prev hash does not match segment 2", 0));
	ai_verify_report_release(&rep);
}

Test(verify, a_first_segment_with_a_prev_hash_is_wrong)
{
	struct ai_chain_entry e[NSEG];
	struct ai_verify_report rep;

	make_chain(e);
	e[0].prev[0] = 1;
	ai_verify_report_init(&rep);
	ai_verify_chain(e, NSEG, &rep);
	cr_assert_eq(rep.errors, 1);
	cr_assert(has_problem(&rep, "000000000000.seg", "not zero", 0));
	ai_verify_report_release(&rep);
}

Test(verify, a_large_gap_is_reported_in_bounded_lines)
{
	struct ai_chain_entry e[2];
	struct ai_verify_report rep;

	memset(e, 0, sizeof e);
	e[0].present = e[1].present = 1;
	e[1].name_seq = 1000000;
	e[1].seq = 1000000;
	ai_verify_report_init(&rep);
	ai_verify_chain(e, 2, &rep);
	cr_assert_leq(rep.nproblems, 25);
	cr_assert(has_problem(&rep, "000000000001.seg", "missing", 0));
	cr_assert(has_problem(&rep, "", "more up to segment 999999", 0));
	ai_verify_report_release(&rep);
}

/* ---- the state's head ---- */

static void state_at(struct ai_state *st, const struct ai_chain_entry *e, uint64_t next)
{
	ai_state_init(st);
	st->next_seq = next;
	if (next)
		memcpy(st->head_sha256, e[next - 1].sha256, AI_SHA256_LEN);
}

Test(verify, a_state_at_the_head_agrees)
{
	struct ai_chain_entry e[NSEG];
	struct ai_verify_report rep;
	struct ai_state st;

	make_chain(e);
	state_at(&st, e, NSEG);
	ai_verify_report_init(&rep);
	ai_verify_state_head(&st, e, NSEG, &rep);
	cr_assert_eq(rep.nproblems, 0);
	ai_verify_report_release(&rep);
	ai_state_release(&st);
}

Test(verify, a_state_behind_the_chain_is_only_a_warning)
{
	struct ai_chain_entry e[NSEG];
	struct ai_verify_report rep;
	struct ai_state st;

	make_chain(e);
	state_at(&st, e, NSEG - 2);
	ai_verify_report_init(&rep);
	ai_verify_state_head(&st, e, NSEG, &rep);
	cr_assert_eq(rep.errors, 0);
	cr_assert_eq(rep.warnings, 1);
	cr_assert(has_problem(&rep, "manifest/state", "covers 3 of 5", 1));
	ai_verify_report_release(&rep);
	ai_state_release(&st);
}

Test(verify, a_state_ahead_of_the_chain_means_truncation)
{
	struct ai_chain_entry e[NSEG];
	struct ai_verify_report rep;
	struct ai_state st;

	make_chain(e);
	state_at(&st, e, NSEG);
	ai_verify_report_init(&rep);
	ai_verify_state_head(&st, e, NSEG - 1, &rep); /* the last segment is gone */
	cr_assert_eq(rep.errors, 1);
	cr_assert(has_problem(&rep, "manifest/state", "truncation", 0));
	ai_verify_report_release(&rep);
	ai_state_release(&st);
}

Test(verify, a_state_with_another_head_hash_is_an_error)
{
	struct ai_chain_entry e[NSEG];
	struct ai_verify_report rep;
	struct ai_state st;

	make_chain(e);
	state_at(&st, e, NSEG);
	st.head_sha256[0] ^= 1;
	ai_verify_report_init(&rep);
	ai_verify_state_head(&st, e, NSEG, &rep);
	cr_assert_eq(rep.errors, 1);
	cr_assert(has_problem(&rep, "manifest/state", "head hash does not match segment 4", 0));
	ai_verify_report_release(&rep);
	ai_state_release(&st);
}

Test(verify, a_state_over_an_empty_chain_is_an_error)
{
	struct ai_verify_report rep;
	struct ai_state st;

	ai_state_init(&st);
	st.next_seq = 2;
	ai_verify_report_init(&rep);
	ai_verify_state_head(&st, NULL, 0, &rep);
	cr_assert_eq(rep.errors, 1);
	ai_verify_report_release(&rep);
	ai_state_release(&st);
}

/* ---- segment indexes ---- */

#define IDX_NAME "manifest/index/000000000003.idx"

/* Segment 3 with members of two apps, two types and three roles, its
 * digest, and the index a run writes for it. */
static void make_indexed(struct ai_segment *seg, uint8_t sha[AI_SHA256_LEN],
                         struct ai_segment_index *x)
{
	static const uint8_t bloom[64] = { 1, 2, 3 };
	char app[2][8] = { "app-b", "app-a" }, type[2][16] = { "Requests", "Exceptions" };
	char role[3][8] = { "web", "api", "worker" }, blob[] = "b.blob";
	char *roles[2];

	ai_segment_init(seg);
	seg->seq = 3;
	for (int i = 0; i < 4; i++) {
		struct ai_member m;
		memset(&m, 0, sizeof m);
		m.blob = blob;
		m.app = app[i % 2];
		m.type = type[i / 2];
		roles[0] = role[i % 3];
		roles[1] = role[(i + 1) % 3];
		m.roles = roles;
		m.nroles = 2;
		cr_assert_eq(ai_segment_add_member(seg, &m), AI_OK);
	}
	for (int i = 0; i < AI_SHA256_LEN; i++)
		sha[i] = (uint8_t)(7 * i + 1);
	cr_assert_eq(ai_segment_index_build(seg, sha, bloom, sizeof bloom, x), AI_OK);
}

/* Runs ai_verify_index over a freshly built index after edit has changed it. */
static void check_edited(void (*edit)(struct ai_segment_index *x, uint8_t *sha),
                         const char *text, struct ai_verify_report *rep)
{
	struct ai_segment seg;
	struct ai_segment_index x;
	uint8_t sha[AI_SHA256_LEN];

	make_indexed(&seg, sha, &x);
	edit(&x, sha);
	ai_verify_report_init(rep);
	cr_assert_eq(ai_verify_index(IDX_NAME, 3, &x, sha, &seg, rep), AI_OK);
	dump(rep);
	cr_assert_eq(rep->errors, 1, "one problem expected, not %llu",
	             (unsigned long long)rep->errors);
	cr_assert(has_problem(rep, IDX_NAME, text, 0), "no problem saying '%s'", text);
	cr_assert_str_eq(rep->problems[0].kind, "segment-index");
	ai_segment_index_release(&x);
	ai_segment_release(&seg);
	ai_verify_report_release(rep);
}

Test(verify, an_index_built_from_its_segment_agrees)
{
	struct ai_verify_report rep;
	struct ai_segment seg;
	struct ai_segment_index x;
	uint8_t sha[AI_SHA256_LEN];

	make_indexed(&seg, sha, &x);
	cr_assert_eq(x.napps, 2);
	cr_assert_eq(x.nroles, 3);
	ai_verify_report_init(&rep);
	cr_assert_eq(ai_verify_index(IDX_NAME, 3, &x, sha, &seg, &rep), AI_OK);
	dump(&rep);
	cr_assert_eq(rep.nproblems, 0);
	ai_segment_index_release(&x);
	ai_segment_release(&seg);
	ai_verify_report_release(&rep);
}

static void other_seq(struct ai_segment_index *x, uint8_t *sha)
{
	(void)sha;
	x->seq = 4;
}

static void other_bytes(struct ai_segment_index *x, uint8_t *sha)
{
	(void)x;
	sha[31] ^= 0x80; /* the segment read has another digest */
}

static void more_members(struct ai_segment_index *x, uint8_t *sha)
{
	(void)sha;
	x->members++;
}

static void roles_incomplete(struct ai_segment_index *x, uint8_t *sha)
{
	(void)sha;
	x->roles_complete = 0;
}

Test(verify, an_index_of_another_number_is_reported)
{
	struct ai_verify_report rep;
	check_edited(other_seq, "says it is the index of segment 4", &rep);
}

Test(verify, an_index_of_other_segment_bytes_is_reported)
{
	struct ai_verify_report rep;
	check_edited(other_bytes,
	             "segment sha256 does not match manifest/segments/000000000003.seg", &rep);
}

Test(verify, an_index_with_another_member_count_is_reported)
{
	struct ai_verify_report rep;
	check_edited(more_members, "counts 5 members, manifest/segments/000000000003.seg has 4",
	             &rep);
}

Test(verify, an_index_claiming_incomplete_roles_is_reported)
{
	struct ai_verify_report rep;
	check_edited(roles_incomplete, "roles_complete is false, but the members of", &rep);
}

/* Edits one name list of the index, reports, and puts it back so that the
 * index is released whole. */
enum list_edit { DROP_LAST, RENAME_FIRST, ADD_NAME };

static void check_list_edit(int which, enum list_edit how, const char *text)
{
	struct ai_verify_report rep;
	struct ai_segment seg;
	struct ai_segment_index x;
	uint8_t sha[AI_SHA256_LEN];
	char ***lists[3] = { &x.apps, &x.types, &x.roles };
	size_t *counts[3] = { &x.napps, &x.ntypes, &x.nroles };
	char extra[] = "zzz", other[] = "aaa";
	char **v, *saved, **grown = NULL;

	make_indexed(&seg, sha, &x);
	v = *lists[which];
	saved = v[0];
	if (how == DROP_LAST) {
		(*counts[which])--;
	} else if (how == RENAME_FIRST) {
		v[0] = other;
	} else {
		grown = malloc((*counts[which] + 1) * sizeof *grown);
		cr_assert(grown);
		memcpy(grown, v, *counts[which] * sizeof *grown);
		grown[(*counts[which])++] = extra;
		*lists[which] = grown;
	}
	ai_verify_report_init(&rep);
	cr_assert_eq(ai_verify_index(IDX_NAME, 3, &x, sha, &seg, &rep), AI_OK);
	dump(&rep);
	cr_assert_eq(rep.errors, 1);
	cr_assert(has_problem(&rep, IDX_NAME, text, 0), "no problem saying '%s'", text);
	if (how == DROP_LAST) {
		(*counts[which])++;
	} else if (how == RENAME_FIRST) {
		v[0] = saved;
	} else {
		(*counts[which])--;
		*lists[which] = v;
		free(grown);
	}
	ai_verify_report_release(&rep);
	ai_segment_index_release(&x);
	ai_segment_release(&seg);
}

Test(verify, an_index_missing_an_app_is_reported)
{
	check_list_edit(0, DROP_LAST, "apps: misses 'app-b' (lists 1, the segment's members have 2)");
}

Test(verify, an_index_with_a_wrong_type_is_reported)
{
	check_list_edit(1, RENAME_FIRST,
	                "types: lists 'aaa' where the segment's members have 'Exceptions'");
}

Test(verify, an_index_with_a_role_no_member_has_is_reported)
{
	check_list_edit(2, ADD_NAME, "roles: lists 'zzz', which no member of the segment has");
}

Test(verify, without_the_segment_only_number_and_digest_are_checked)
{
	struct ai_verify_report rep;
	struct ai_segment seg;
	struct ai_segment_index x;
	uint8_t sha[AI_SHA256_LEN];

	make_indexed(&seg, sha, &x);
	x.members = 99;
	ai_verify_report_init(&rep);
	/* Segment bytes that did not decode: the members are unknown. */
	cr_assert_eq(ai_verify_index(IDX_NAME, 3, &x, sha, NULL, &rep), AI_OK);
	cr_assert_eq(rep.nproblems, 0);
	/* Bytes not read at all: nor is the digest. */
	x.segment_sha256[0] ^= 1;
	cr_assert_eq(ai_verify_index(IDX_NAME, 3, &x, NULL, &seg, &rep), AI_OK);
	cr_assert_eq(rep.nproblems, 0);
	x.seq = 2;
	cr_assert_eq(ai_verify_index(IDX_NAME, 3, &x, NULL, NULL, &rep), AI_OK);
	cr_assert_eq(rep.errors, 1);
	ai_segment_index_release(&x);
	ai_segment_release(&seg);
	ai_verify_report_release(&rep);
}
