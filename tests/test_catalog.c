/* test_catalog.c: which segments and members a query selects (event-time
 * windows with late telemetry, roles, Bloom filters, tags), the cache's
 * location and key, the segment cache checked against the archive, and
 * manifest objects refused unless the trusted key signed them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine/archive.h"
#include "format/bloom.h"
#include "engine/catalog.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "format/manifest_codec.h"
#include "format/minisign.h"
#include "store/store.h"
#include "engine/trust.h"
#include "util/hex.h"

/* A writable string, for the char * fields and lists of the API. */
#define S(x) ((char[]){ x })
#define H (INT64_C(3600) * AI_NS_PER_SEC)
#define D (24 * H)
#define T0 (INT64_C(1714521600) * AI_NS_PER_SEC) /* 2024-05-01T00:00:00Z */

/* A member of app "shop", type "Requests", delivered at hour `delivery`
 * with events in [min, max], one role and one operation id. */
static void make_member(struct ai_member *m, ai_time delivery, ai_time min, ai_time max,
                        const char *role, const char *op)
{
	static uint8_t bloom[256];
	static char blob[] = "b.blob", app[] = "shop", type[] = "Requests", role_buf[64];
	static char *roles[1] = { role_buf };

	memset(m, 0, sizeof *m);
	m->blob = blob;
	m->app = app;
	m->type = type;
	m->delivery_hour = delivery;
	m->range_end = 10;
	m->length = 20;
	m->raw_size = 10;
	m->rows = 1;
	m->has_time = 1;
	m->min_event = min;
	m->max_event = max;
	snprintf(role_buf, sizeof role_buf, "%s", role ? role : "");
	m->roles = role ? roles : NULL;
	m->nroles = role ? 1 : 0;
	memset(bloom, 0, sizeof bloom);
	if (op) {
		ai_bloom_add(bloom, sizeof bloom, op, strlen(op));
		m->bloom = bloom;
		m->bloom_len = sizeof bloom;
	}
}

static struct ai_catalog_filter window(ai_time from, ai_time to)
{
	struct ai_catalog_filter f = { .has_from = 1, .has_to = 1, .from = from, .to = to };
	return f;
}

Test(catalog_member, overlaps_the_window_half_open)
{
	struct ai_member m;
	struct ai_catalog_filter f;

	make_member(&m, T0, T0 + 10, T0 + 20, NULL, NULL);
	f = window(T0, T0 + 10);
	cr_expect_not(ai_catalog_member_matches(&f, &m), "to is exclusive");
	f = window(T0, T0 + 11);
	cr_expect(ai_catalog_member_matches(&f, &m));
	f = window(T0 + 20, T0 + 30);
	cr_expect(ai_catalog_member_matches(&f, &m), "from is inclusive");
	f = window(T0 + 21, T0 + 30);
	cr_expect_not(ai_catalog_member_matches(&f, &m));
	f = window(T0 + 12, T0 + 13);
	cr_expect(ai_catalog_member_matches(&f, &m), "a window inside the member");
}

Test(catalog_member, open_ended_windows)
{
	struct ai_member m;
	struct ai_catalog_filter f = { .has_from = 1, .from = T0 + 20 };

	make_member(&m, T0, T0 + 10, T0 + 20, NULL, NULL);
	cr_expect(ai_catalog_member_matches(&f, &m));
	f.from = T0 + 21;
	cr_expect_not(ai_catalog_member_matches(&f, &m));
	f = (struct ai_catalog_filter){ .has_to = 1, .to = T0 + 10 };
	cr_expect_not(ai_catalog_member_matches(&f, &m));
	f.to = T0 + 11;
	cr_expect(ai_catalog_member_matches(&f, &m));
}

Test(catalog_member, without_event_times_matches_only_without_window)
{
	struct ai_member m;
	struct ai_catalog_filter none = { 0 }, f = window(AI_TIME_MIN, AI_TIME_MAX);

	make_member(&m, T0, 0, 0, NULL, NULL);
	m.has_time = 0;
	cr_expect(ai_catalog_member_matches(&none, &m));
	cr_expect_not(ai_catalog_member_matches(&f, &m));
}

Test(catalog_member, app_and_type_ignore_case)
{
	struct ai_member m;
	char *apps[] = { S("other"), S("SHOP") }, *types[] = { S("requests") }, *bad[] = { S("Rdd") };
	struct ai_catalog_filter f = { .apps = apps, .napps = 2, .types = types, .ntypes = 1 };

	make_member(&m, T0, T0, T0, NULL, NULL);
	cr_expect(ai_catalog_member_matches(&f, &m));
	f.types = bad;
	cr_expect_not(ai_catalog_member_matches(&f, &m));
	f.types = NULL;
	f.ntypes = 0;
	f.napps = 1;
	cr_expect_not(ai_catalog_member_matches(&f, &m));
}

Test(catalog_member, roles_and_a_full_role_list)
{
	struct ai_member m;
	char *want[] = { S("worker") }, *many[AI_MEMBER_MAX_ROLES], web[] = "web";
	struct ai_catalog_filter f = { .roles = want, .nroles = 1 };

	make_member(&m, T0, T0, T0, "web", NULL);
	cr_expect_not(ai_catalog_member_matches(&f, &m));
	make_member(&m, T0, T0, T0, "Worker", NULL);
	cr_expect(ai_catalog_member_matches(&f, &m));
	make_member(&m, T0, T0, T0, NULL, NULL);
	cr_expect_not(ai_catalog_member_matches(&f, &m), "a member with no roles");
	for (size_t i = 0; i < AI_MEMBER_MAX_ROLES; i++)
		many[i] = web;
	m.roles = many;
	m.nroles = AI_MEMBER_MAX_ROLES;
	cr_expect(ai_catalog_member_matches(&f, &m), "a full list may have left the role out");
}

Test(catalog_member, operation_ids_through_the_bloom_filter)
{
	struct ai_member m;
	char *ids[] = { S("op-2"), S("op-1") }, *other[] = { S("4bf92f3577b34da6a3ce929d0e0e4736") };
	struct ai_catalog_filter f = { .op_ids = ids, .nop_ids = 2 };

	make_member(&m, T0, T0, T0, NULL, "op-1");
	cr_expect(ai_catalog_member_matches(&f, &m));
	f.op_ids = other;
	f.nop_ids = 1;
	cr_expect_not(ai_catalog_member_matches(&f, &m));
	m.bloom = NULL;
	m.bloom_len = 0;
	cr_expect(ai_catalog_member_matches(&f, &m), "an empty filter may hold anything");
}

Test(catalog_segment, tags)
{
	struct ai_segment seg;
	char *tags[] = { S("inc-1") }, *other[] = { S("INC-2") }, *seg_tags[] = { S("INC-1") };
	struct ai_catalog_filter f = { 0 };

	ai_segment_init(&seg);
	cr_expect(ai_catalog_segment_matches(&f, &seg));
	f.tags = tags;
	f.ntags = 1;
	cr_expect_not(ai_catalog_segment_matches(&f, &seg), "an untagged run");
	seg.tags = seg_tags;
	seg.ntags = 1;
	cr_expect(ai_catalog_segment_matches(&f, &seg));
	f.tags = other;
	cr_expect_not(ai_catalog_segment_matches(&f, &seg));
}

/* Segment seq with one member per (min, max) pair, all delivered at
 * `delivery`. */
static void add_segment(struct ai_state *st, ai_time delivery, const ai_time (*ev)[2], size_t n)
{
	struct ai_segment seg;
	struct ai_pack_ref pack = { .name = S("data/p.jsonl.gz"), .size = 1000 };
	uint8_t sha[AI_SHA256_LEN];
	uint32_t idx;

	ai_segment_init(&seg);
	seg.seq = st->next_seq;
	memcpy(seg.prev, st->head_sha256, AI_SHA256_LEN);
	cr_assert_eq(ai_segment_add_pack(&seg, &pack, &idx), AI_OK);
	for (size_t i = 0; i < n; i++) {
		struct ai_member m;
		make_member(&m, delivery, ev[i][0], ev[i][1], NULL, NULL);
		cr_assert_eq(ai_segment_add_member(&seg, &m), AI_OK);
	}
	memset(sha, (int)seg.seq + 1, sizeof sha);
	cr_assert_eq(ai_state_add_segment(st, &seg, sha), AI_OK);
	ai_segment_release(&seg);
}

static int has(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

Test(catalog_segments, event_windows_find_late_telemetry_and_skip_the_rest)
{
	struct ai_state st;
	struct ai_catalog_filter f;
	uint64_t *seqs;
	size_t n;
	const ai_time on_time[][2] = { { T0 + 10, T0 + 20 } };
	const ai_time late[][2] = { { T0 + 5 * 60 * AI_NS_PER_SEC, T0 + H / 2 } };
	const ai_time next_hour[][2] = { { T0 + H + 1, T0 + H + 2 } };
	const ai_time wide[][2] = { { T0 - 30 * D, T0 + 2 * H } };

	ai_state_init(&st);
	add_segment(&st, T0, on_time, 1);          /* 0 */
	add_segment(&st, T0 + 3 * D, late, 1);     /* 1: delivered three days late */
	add_segment(&st, T0 + H, next_hour, 1);    /* 2 */
	f = window(T0, T0 + H);
	cr_assert_eq(ai_catalog_segments(&st, &f, &seqs, &n), AI_OK);
	cr_expect_eq(n, 2);
	cr_expect(has(seqs, n, 0) && has(seqs, n, 1));
	free(seqs);
	f = window(T0 + 2 * H, T0 + 3 * H);
	cr_assert_eq(ai_catalog_segments(&st, &f, &seqs, &n), AI_OK);
	cr_expect_eq(n, 0);
	free(seqs);
	add_segment(&st, T0 + 3 * D, wide, 1);     /* 3: spans a month */
	cr_assert_eq(ai_catalog_segments(&st, &f, &seqs, &n), AI_OK);
	cr_expect_eq(n, 1);
	cr_expect(has(seqs, n, 3), "a wide segment is read for any window");
	free(seqs);
	f = (struct ai_catalog_filter){ .has_from = 1, .from = T0 + H };
	cr_assert_eq(ai_catalog_segments(&st, &f, &seqs, &n), AI_OK);
	cr_expect(n == 2 && has(seqs, n, 2) && has(seqs, n, 3), "only --from");
	free(seqs);
	f = (struct ai_catalog_filter){ 0 };
	cr_assert_eq(ai_catalog_segments(&st, &f, &seqs, &n), AI_OK);
	cr_expect_eq(n, 4, "no window: every segment");
	free(seqs);
	ai_state_release(&st);
}

Test(catalog_cache, root_follows_xdg)
{
	char out[256];

	setenv("HOME", "/home/ana", 1);
	setenv("XDG_CACHE_HOME", "/var/cache/ana", 1);
	cr_assert_eq(ai_catalog_cache_root(out, sizeof out), AI_OK);
	cr_expect_str_eq(out, "/var/cache/ana/aiarchive");
	setenv("XDG_CACHE_HOME", "relative", 1);
	cr_assert_eq(ai_catalog_cache_root(out, sizeof out), AI_OK);
	cr_expect_str_eq(out, "/home/ana/.cache/aiarchive", "a relative XDG_CACHE_HOME is ignored");
	unsetenv("XDG_CACHE_HOME");
	cr_assert_eq(ai_catalog_cache_root(out, sizeof out), AI_OK);
	cr_expect_str_eq(out, "/home/ana/.cache/aiarchive");
	unsetenv("HOME");
	cr_expect_eq(ai_catalog_cache_root(out, sizeof out), AI_ERR_CONFIG);
}

Test(catalog_cache, keys_are_safe_names_and_distinct)
{
	char a[160], b[160], c[160];

	cr_assert_eq(ai_catalog_cache_key("https://acct.blob.core.windows.net/archive", a, sizeof a),
	             AI_OK);
	cr_assert_eq(ai_catalog_cache_key("https://acct.blob.core.windows.net/archive/", b, sizeof b),
	             AI_OK);
	cr_assert_eq(ai_catalog_cache_key("../..", c, sizeof c), AI_OK);
	cr_expect(strncmp(a, "https_acct.blob.core.windows.net_archive-", 41) == 0, "%s", a);
	cr_expect_str_neq(a, b);
	cr_expect_eq(strcspn(a, "/"), strlen(a));
	cr_expect_neq(c[0], '.', "%s", c);
	cr_expect_eq(strcspn(c, "/"), strlen(c));
}

/* ---- the selection against a real (local) archive ---- */

struct seen {
	uint64_t seq[16];
	int64_t min[16];
	size_t n;
};

static ai_result collect_cb(void *ctx, const struct ai_segment *seg, const struct ai_member *m,
                            const struct ai_pack_ref *pack)
{
	struct seen *s = ctx;

	cr_assert_str_eq(pack->name, "data/p.jsonl.gz");
	cr_assert_lt(s->n, 16);
	s->seq[s->n] = seg->seq;
	s->min[s->n++] = m->min_event;
	return AI_OK;
}

static char tmpdir[64];

static void commit_segment(struct ai_archive *a, const struct ai_signing_key *key,
                           ai_time delivery, ai_time ev0, ai_time ev1)
{
	struct ai_segment seg;
	struct ai_pack_ref pack = { .name = S("data/p.jsonl.gz"), .size = 1000 };
	struct ai_member m;
	uint32_t idx;

	ai_segment_init(&seg);
	seg.run_id = strdup("run");
	cr_assert_eq(ai_segment_add_pack(&seg, &pack, &idx), AI_OK);
	make_member(&m, delivery, ev0, ev0 + 1, NULL, NULL);
	cr_assert_eq(ai_segment_add_member(&seg, &m), AI_OK);
	make_member(&m, delivery, ev1, ev1 + 1, NULL, NULL);
	cr_assert_eq(ai_segment_add_member(&seg, &m), AI_OK);
	cr_assert_eq(ai_archive_commit(a, &seg, NULL, 0, key, T0), AI_OK);
	ai_segment_release(&seg);
}

static struct ai_store *make_archive(void)
{
	struct ai_store *dest;
	struct ai_store_config cfg = { 0 };
	struct ai_signing_key key;
	struct ai_archive a;
	char url[128];

	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_catalog.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(url, sizeof url, "file://%s/archive", tmpdir);
	cfg.url = url;
	cr_assert_eq(ai_store_open(&dest, &cfg), AI_OK);
	cr_assert_eq(ai_store_create_container(dest), AI_OK);
	cr_assert_eq(ai_signing_key_generate(&key), AI_OK);
	cr_assert_eq(ai_archive_publish_key(dest, &key), AI_OK);
	{
		struct ai_trust trust;
		ai_trust_init(&trust);
		ai_trust_use_key(&trust, &key);
		cr_assert_eq(ai_archive_open(&a, dest, &trust, 1), AI_OK);
		ai_trust_release(&trust);
	}
	commit_segment(&a, &key, T0, T0 + 1, T0 + 2 * H);           /* 0 */
	/* The state the first commit saved before segment 0 covers none:
	 * kept to put back, so that every segment is past the state. */
	{
		char cmd[256];
		snprintf(cmd, sizeof cmd, "cd %s && cp archive/manifest/state state0 && "
		                          "cp archive/manifest/state.minisig state0.minisig", tmpdir);
		cr_assert_eq(system(cmd), 0);
	}
	commit_segment(&a, &key, T0 + 2 * D, T0 + 10, T0 + 5 * H);  /* 1: late */
	commit_segment(&a, &key, T0 + 3 * H, T0 + 3 * H, T0 + 3 * H); /* 2 */
	cr_assert_eq(ai_archive_save_state(&a, &key, T0), AI_OK);
	ai_archive_release(&a);
	ai_signing_key_release(&key);
	return dest;
}

static void cleanup(struct ai_store *dest)
{
	char cmd[128];

	ai_store_free(dest);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

Test(catalog_select, calls_back_in_segment_then_member_order)
{
	struct ai_store *dest = make_archive();
	struct ai_catalog_filter f = window(T0, T0 + H);
	struct ai_catalog_stats st;
	struct seen s = { 0 };

	cr_assert_eq(ai_catalog_select(dest, &f, NULL, collect_cb, &s, &st), AI_OK);
	cr_expect_eq(st.segments, 3);
	cr_expect_eq(st.selected, 2, "segment 2 holds no event of that hour");
	cr_assert_eq(s.n, 2);
	cr_expect(s.seq[0] == 0 && s.min[0] == T0 + 1);
	cr_expect(s.seq[1] == 1 && s.min[1] == T0 + 10, "the late member is found");
	cleanup(dest);
}

static ai_result stop_cb(void *ctx, const struct ai_segment *seg, const struct ai_member *m,
                         const struct ai_pack_ref *pack)
{
	(void)seg, (void)m, (void)pack;
	++*(int *)ctx;
	return AI_ERR_IO;
}

Test(catalog_select, a_callback_failure_stops_the_selection)
{
	struct ai_store *dest = make_archive();
	struct ai_catalog_filter f = { 0 };
	int calls = 0;

	cr_expect_eq(ai_catalog_select(dest, &f, NULL, stop_cb, &calls, NULL), AI_ERR_IO);
	cr_expect_eq(calls, 1);
	cleanup(dest);
}

Test(catalog_select, the_cache_is_filled_used_and_checked)
{
	struct ai_store *dest = make_archive();
	struct ai_catalog_filter f = { 0 };
	struct ai_catalog_stats st;
	char cache[128], path[512], cmd[640];
	struct ai_catalog_opts o = { .use_cache = 1, .cache_dir = cache };
	struct seen s = { 0 };
	FILE *fp;

	snprintf(cache, sizeof cache, "%s/cache", tmpdir);
	cr_assert_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, &st), AI_OK);
	cr_expect_eq(st.from_cache, 0);
	s.n = 0;
	cr_assert_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, &st), AI_OK);
	cr_expect_eq(st.from_cache, 3, "the head against the state, the others by signature");
	cr_expect_eq(s.n, 6);

	/* A cache entry that is not the archive's segment is not used. */
	snprintf(cmd, sizeof cmd, "cp %s/cache/*/segments/000000000002.seg %s/two && "
	                          "cp %s/two %s/cache/*/segments/000000000000.seg",
	         tmpdir, tmpdir, tmpdir, tmpdir);
	cr_assert_eq(system(cmd), 0);
	s.n = 0;
	cr_assert_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, &st), AI_OK);
	cr_expect_eq(st.from_cache, 2);
	cr_expect(s.n == 6 && s.seq[0] == 0 && s.min[0] == T0 + 1);
	snprintf(cmd, sizeof cmd, "ls %s/cache/*/segments/000000000001.seg", tmpdir);
	fp = popen(cmd, "r");
	cr_assert_not_null(fp);
	cr_assert_not_null(fgets(path, sizeof path, fp));
	pclose(fp);
	path[strcspn(path, "\n")] = '\0';
	fp = fopen(path, "r+b");
	cr_assert_not_null(fp);
	fputc('X', fp);
	fclose(fp);
	s.n = 0;
	cr_assert_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, &st), AI_OK);
	cr_expect_eq(st.from_cache, 2, "a damaged entry is read again");
	cr_assert_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, &st), AI_OK);
	cr_expect_eq(st.from_cache, 3, "and replaced");
	cleanup(dest);
}

/* Whoever can write the cache may plant a FIFO (a plain open would wait
 * for a writer for ever) or a link to another file: both are skipped, the
 * archive read instead, and the entry replaced without touching the
 * link's target. */
Test(catalog_select, a_fifo_or_link_in_the_cache_is_skipped_not_waited_on, .timeout = 30)
{
	struct ai_store *dest = make_archive();
	struct ai_catalog_filter f = { 0 };
	struct ai_catalog_stats st;
	char cache[128], cmd[1024];
	struct ai_catalog_opts o = { .use_cache = 1, .cache_dir = cache };
	struct seen s = { 0 };

	snprintf(cache, sizeof cache, "%s/cache", tmpdir);
	cr_assert_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, &st), AI_OK);
	snprintf(cmd, sizeof cmd, "cd %s/cache/*/segments && printf victim >%s/victim && "
	                          "rm 000000000000.seg 000000000001.seg && mkfifo 000000000000.seg && "
	                          "ln -s %s/victim 000000000001.seg", tmpdir, tmpdir, tmpdir);
	cr_assert_eq(system(cmd), 0);
	s.n = 0;
	cr_assert_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, &st), AI_OK);
	cr_expect_eq(s.n, 6);
	cr_expect_eq(st.from_cache, 1);
	snprintf(cmd, sizeof cmd, "test \"$(cat %s/victim)\" = victim && "
	                          "cd %s/cache/*/segments && test -f 000000000000.seg && "
	                          "test -f 000000000001.seg && ! test -L 000000000001.seg && "
	                          "test $(ls | wc -l) -eq 3", tmpdir, tmpdir);
	cr_expect_eq(system(cmd), 0, "the victim is untouched, the entries are files again");
	s.n = 0;
	cr_assert_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, &st), AI_OK);
	cr_expect_eq(st.from_cache, 3);
	cleanup(dest);
}

/* Whether there is an archive at all is ai_archive_require's question
 * (the commands ask it first): an empty location selects nothing. */
Test(catalog_select, an_empty_location_selects_nothing)
{
	struct ai_store *dest;
	struct ai_store_config cfg = { 0 };
	struct ai_catalog_filter f = { 0 };
	char url[128];
	int calls = 0;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_catalog.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(url, sizeof url, "file://%s", tmpdir);
	cfg.url = url;
	cr_assert_eq(ai_store_open(&dest, &cfg), AI_OK);
	cr_expect_eq(ai_catalog_select(dest, &f, NULL, stop_cb, &calls, NULL), AI_OK);
	cr_expect_eq(calls, 0);
	cr_expect_eq(ai_archive_require(dest), AI_ERR_CONFIG);
	cleanup(dest);
}

/* ---- nothing unsigned is used ---- */

/* Replaces object name in the archive of make_archive by data, signed by
 * k with put_signature's trusted comment (k NULL: the signature is left). */
static void replace_object(const char *kind, const char *name, const void *data, size_t len,
                           const struct ai_signing_key *k)
{
	char path[256], comment[512], hex[2 * AI_SHA256_LEN + 1];
	uint8_t sha[AI_SHA256_LEN];
	struct ai_buf sig;
	FILE *fp;

	snprintf(path, sizeof path, "%s/archive/%s", tmpdir, name);
	cr_assert_not_null(fp = fopen(path, "wb"));
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
	if (!k)
		return;
	cr_assert_eq(ai_sha256(data, len, sha), AI_OK);
	ai_hex(sha, sizeof sha, hex);
	snprintf(comment, sizeof comment, "aiarchive %s %s sha256=%s time=2024-05-01T00:00:00Z", kind,
	         name, hex);
	ai_buf_init(&sig, 16384);
	cr_assert_eq(ai_minisign_sign(k, data, len, comment, &sig), AI_OK);
	snprintf(path, sizeof path, "%s/archive/%s.minisig", tmpdir, name);
	cr_assert_not_null(fp = fopen(path, "wb"));
	cr_assert_eq(fwrite(sig.data, 1, sig.len, fp), sig.len);
	cr_assert_eq(fclose(fp), 0);
	ai_buf_release(&sig);
}

/* Segment seq of the archive, with one member's first event moved. */
static void forged_segment(struct ai_store *dest, uint64_t seq, struct ai_buf *out)
{
	struct ai_segment seg;

	ai_segment_init(&seg);
	cr_assert_eq(ai_archive_read_segment(dest, seq, &seg, NULL, NULL), AI_OK);
	seg.members[0].min_event = seg.members[0].max_event;
	ai_buf_init(out, 1 << 20);
	cr_assert_eq(ai_segment_encode(&seg, out), AI_OK);
	ai_segment_release(&seg);
}

Test(catalog_select, a_segment_signed_by_an_unpublished_key_stops_before_its_members)
{
	struct ai_store *dest = make_archive();
	struct ai_catalog_filter f = { 0 };
	struct ai_signing_key other;
	struct ai_buf forged;
	struct seen s = { 0 };

	cr_assert_eq(ai_signing_key_generate(&other), AI_OK);
	forged_segment(dest, 1, &forged);
	replace_object("segment", "manifest/segments/000000000001.seg", forged.data, forged.len,
	               &other);
	cr_expect_eq(ai_catalog_select(dest, &f, NULL, collect_cb, &s, NULL), AI_ERR_VERIFY);
	cr_expect_eq(s.n, 2, "segment 0's members, none of segment 1's");
	for (size_t i = 0; i < s.n; i++)
		cr_expect_eq(s.seq[i], 0);
	ai_buf_release(&forged);
	ai_signing_key_release(&other);
	cleanup(dest);
}

Test(catalog_select, an_edited_segment_or_state_is_refused)
{
	struct ai_store *dest = make_archive();
	struct ai_catalog_filter f = { 0 };
	struct ai_buf forged, st;
	struct seen s = { 0 };

	forged_segment(dest, 0, &forged);
	replace_object("segment", "manifest/segments/000000000000.seg", forged.data, forged.len,
	               NULL);
	cr_expect_eq(ai_catalog_select(dest, &f, NULL, collect_cb, &s, NULL), AI_ERR_VERIFY);
	cr_expect_eq(s.n, 0);
	cleanup(dest);

	dest = make_archive();
	ai_buf_init(&st, 1 << 20);
	cr_assert_eq(ai_store_read(dest, AI_STATE_NAME, 0, 0, NULL, &st, NULL), AI_OK);
	st.data[st.len / 2] ^= 1;
	replace_object("state", AI_STATE_NAME, st.data, st.len, NULL);
	cr_expect_eq(ai_catalog_select(dest, &f, NULL, collect_cb, &s, NULL), AI_ERR_VERIFY);
	cr_expect_eq(s.n, 0);
	ai_buf_release(&st);
	ai_buf_release(&forged);
	cleanup(dest);
}

Test(catalog_select, a_pinned_key_id_or_a_given_key_is_all_that_is_trusted)
{
	struct ai_store *dest = make_archive();
	struct ai_catalog_filter f = { 0 };
	struct ai_signing_key other;
	struct ai_trust t;
	struct ai_catalog_opts o = { .trust = &t };
	char id[AI_MINISIGN_KEYID_HEXLEN];
	struct seen s = { 0 };

	cr_assert_eq(ai_signing_key_generate(&other), AI_OK);
	ai_trust_init(&t);
	ai_minisign_keyid_hex(other.keyid, id);
	cr_assert_eq(ai_trust_parse_key_id(id, t.key_id), AI_OK);
	cr_expect_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, NULL), AI_ERR_VERIFY);
	cr_expect_eq(s.n, 0);
	ai_trust_release(&t);

	ai_trust_init(&t);
	ai_signing_key_pubkey(&other, &t.pubkey);
	t.has_pubkey = 1;
	cr_expect_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, NULL), AI_ERR_VERIFY);
	cr_expect_eq(s.n, 0);
	ai_trust_release(&t);
	ai_signing_key_release(&other);
	cleanup(dest);
}

Test(catalog_select, a_genuine_cache_entry_does_not_hide_a_replaced_segment)
{
	struct ai_store *dest = make_archive();
	struct ai_catalog_filter f = { 0 };
	struct ai_signing_key other;
	char cache[128];
	struct ai_catalog_opts o = { .use_cache = 1, .cache_dir = cache };
	struct ai_buf forged;
	struct seen s = { 0 };

	snprintf(cache, sizeof cache, "%s/cache", tmpdir);
	cr_assert_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, NULL), AI_OK);
	cr_assert_eq(ai_signing_key_generate(&other), AI_OK);
	forged_segment(dest, 1, &forged);
	replace_object("segment", "manifest/segments/000000000001.seg", forged.data, forged.len,
	               &other);
	s.n = 0;
	cr_expect_eq(ai_catalog_select(dest, &f, &o, collect_cb, &s, NULL), AI_ERR_VERIFY);
	cr_expect_eq(s.n, 2, "only segment 0's members");
	ai_buf_release(&forged);
	ai_signing_key_release(&other);
	cleanup(dest);
}

Test(catalog_select, a_segment_past_the_state_is_used_only_when_signed)
{
	struct ai_store *dest = make_archive();
	struct ai_catalog_filter f = { 0 };
	struct ai_catalog_stats st;
	struct ai_meta none = { 0 };
	char cmd[256];
	struct seen s = { 0 };

	/* A state that covers no segment: the chain is read and each
	 * segment's signature checked. A segment whose .minisig is missing
	 * still carries its signature (engine/signed.h), so it is used. */
	snprintf(cmd, sizeof cmd, "cd %s/archive/manifest && rm state state.minisig "
	                          "segments/000000000002.seg.minisig && cp ../../state0 state && "
	                          "cp ../../state0.minisig state.minisig", tmpdir);
	cr_assert_eq(system(cmd), 0);
	cr_expect_eq(ai_catalog_select(dest, &f, NULL, collect_cb, &s, &st), AI_OK);
	cr_expect_eq(st.segments, 3);
	cr_expect_eq(s.n, 6);
	/* One signed neither way is left out. */
	cr_assert_eq(ai_store_set_metadata(dest, "manifest/segments/000000000002.seg", &none, NULL),
	             AI_OK);
	s.n = 0;
	cr_expect_eq(ai_catalog_select(dest, &f, NULL, collect_cb, &s, &st), AI_OK);
	cr_expect_eq(st.segments, 2);
	cr_expect_eq(s.n, 4);
	cleanup(dest);
}

/* ---- segment indexes ---- */

Test(catalog_index, rules_out_segments_without_the_app_type_role_or_operation)
{
	static char app_a[] = "shop-web", app_b[] = "shop-api", type_r[] = "Requests",
	            role_w[] = "web", op_in[] = "op-in", op_out[] = "op-out", other[] = "nope";
	char *apps[] = { app_a, app_b }, *types[] = { type_r }, *roles[] = { role_w };
	char *want_app[] = { app_b }, *want_other[] = { other }, *want_type[] = { type_r },
	     *want_role[] = { role_w }, *want_op[] = { op_in }, *want_op_out[] = { op_out };
	uint8_t bloom[64] = { 0 };
	struct ai_segment_index x = {
		.apps = apps, .napps = 2, .types = types, .ntypes = 1, .roles = roles, .nroles = 1,
		.roles_complete = 1, .bloom = bloom, .bloom_len = sizeof bloom,
	};
	struct ai_catalog_filter f;

	ai_bloom_add(bloom, sizeof bloom, op_in, strlen(op_in));
	memset(&f, 0, sizeof f);
	cr_assert(!ai_catalog_index_useful(&f), "a time window alone needs no index");
	cr_assert(ai_catalog_index_matches(&f, &x));

	f.apps = want_app, f.napps = 1;
	cr_assert(ai_catalog_index_useful(&f));
	cr_assert(ai_catalog_index_matches(&f, &x));
	f.apps = want_other;
	cr_assert(!ai_catalog_index_matches(&f, &x), "no member of that app");
	f.napps = 0;

	f.types = want_other, f.ntypes = 1;
	cr_assert(!ai_catalog_index_matches(&f, &x));
	f.types = want_type;
	cr_assert(ai_catalog_index_matches(&f, &x));
	f.ntypes = 0;

	f.roles = want_other, f.nroles = 1;
	cr_assert(!ai_catalog_index_matches(&f, &x));
	x.roles_complete = 0;
	cr_assert(ai_catalog_index_matches(&f, &x), "an incomplete role list rules nothing out");
	f.roles = want_role;
	cr_assert(ai_catalog_index_matches(&f, &x));
	f.nroles = 0;

	f.op_ids = want_op, f.nop_ids = 1;
	cr_assert(ai_catalog_index_matches(&f, &x));
	f.op_ids = want_op_out;
	cr_assert(!ai_catalog_index_matches(&f, &x), "the filter does not hold it");
	x.bloom_len = 0;
	cr_assert(ai_catalog_index_matches(&f, &x), "no filter: any id may be there");
}

Test(catalog_member, a_workspace_member_matches_the_apps_its_rows_carry)
{
	struct ai_member m;
	char *carried[] = { S("shop-api"), S("shop-web") };
	char *web[] = { S("SHOP-WEB") }, *ws[] = { S("shop") }, *other[] = { S("billing") };
	struct ai_catalog_filter f = { .apps = web, .napps = 1 };

	make_member(&m, T0, T0, T0, NULL, NULL);
	cr_expect_not(ai_catalog_member_matches(&f, &m), "none recorded: by its app");
	f.apps = ws;
	cr_expect(ai_catalog_member_matches(&f, &m));
	m.has_apps = 1;
	m.apps = carried;
	m.napps = 2;
	cr_expect_not(ai_catalog_member_matches(&f, &m), "its app is not among those carried");
	f.apps = web;
	cr_expect(ai_catalog_member_matches(&f, &m), "ignoring case");
	f.apps = other;
	cr_expect_not(ai_catalog_member_matches(&f, &m));
	m.napps = 0;
	m.apps = NULL;
	cr_expect(ai_catalog_member_matches(&f, &m), "more than were kept: any app");
	f.napps = 0;
	cr_expect(ai_catalog_member_matches(&f, &m));
}
