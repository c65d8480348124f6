/* test_store.c: the behaviour every storage backend must show, written
 * against store.h alone. By default it runs against a fresh local directory;
 * AIARCHIVE_TEST_STORE_URL (with AIARCHIVE_TEST_STORE_KEY, _SAS,
 * _CONNECTION_STRING, _SECONDARY_URL) points the same tests at Azure or
 * Azurite. Every test works under its own name prefix, so all of them can
 * share one container. AIARCHIVE_TEST_SLOW=1 runs the real-time lease tests
 * on remote stores. */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "util/crypto.h"
#include "util/hex.h"
#include "store/store.h"
#include "util/hex.h"

static struct ai_store *st;
static char url[1024];
static char tmpdir[256];
static char pfx[128];
static int64_t clock_skew; /* added to the store's clock by tests */

static ai_time test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (ai_time)ts.tv_sec * AI_NS_PER_SEC + ts.tv_nsec +
	       __atomic_load_n(&clock_skew, __ATOMIC_RELAXED);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void setup(void)
{
	struct ai_store_config cfg;
	uint8_t rnd[4];
	char hex[9];
	ai_result r;

	memset(&cfg, 0, sizeof cfg);
	if (env("AIARCHIVE_TEST_STORE_URL")) {
		snprintf(url, sizeof url, "%s", env("AIARCHIVE_TEST_STORE_URL"));
	} else {
		snprintf(tmpdir, sizeof tmpdir, "%s/aiarchive-test-store-XXXXXX",
		         env("TMPDIR") ? env("TMPDIR") : "/tmp");
		cr_assert_not_null(mkdtemp(tmpdir));
		/* a directory that does not exist yet: create_container makes it */
		snprintf(url, sizeof url, "file://%s/container", tmpdir);
	}
	cfg.url = url;
	cfg.account_key = env("AIARCHIVE_TEST_STORE_KEY");
	cfg.sas = env("AIARCHIVE_TEST_STORE_SAS");
	cfg.connection_string = env("AIARCHIVE_TEST_STORE_CONNECTION_STRING");
	cfg.secondary_url = env("AIARCHIVE_TEST_STORE_SECONDARY_URL");
	cfg.max_tries = 3;
	cfg.now = test_now;
	r = ai_store_open(&st, &cfg);
	cr_assert_eq(r, AI_OK, "open %s: %s", url, ai_store_last_error());
	r = ai_store_create_container(st);
	cr_assert_eq(r, AI_OK, "create container: %s", ai_store_last_error());
	cr_assert_eq(ai_random(rnd, sizeof rnd), AI_OK);
	ai_hex(rnd, sizeof rnd, hex);
	snprintf(pfx, sizeof pfx, "test-store/%ld-%lld-%s/", (long)getpid(),
	         (long long)time(NULL), hex);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	ai_store_free(st);
	st = NULL;
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

/* Criterion runs no .fini for a skipped test: clean up first. */
#define SKIP(...) \
	do { \
		teardown(); \
		cr_skip_test(__VA_ARGS__); \
	} while (0)

TestSuite(store, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ---- */

#define OK(call) \
	do { \
		ai_result r_ = (call); \
		cr_assert_eq(r_, AI_OK, "%s: %s (%s)", #call, ai_strerror(r_), \
		             ai_store_last_error()); \
	} while (0)

#define FAILS(want, call) \
	do { \
		ai_result r_ = (call); \
		cr_assert_eq(r_, (want), "%s: got '%s', want '%s' (%s)", #call, ai_strerror(r_), \
		             ai_strerror(want), ai_store_last_error()); \
	} while (0)

/* The full name of leaf under this test's prefix, in buf. */
static const char *N(char buf[512], const char *leaf)
{
	snprintf(buf, 512, "%s%s", pfx, leaf);
	return buf;
}

static void put_str(const char *name, const char *s, unsigned flags)
{
	OK(ai_store_put(st, name, s, strlen(s), flags, NULL, NULL));
}

/* Asserts that the whole blob name reads as want. */
static void expect_content(const char *name, const char *want)
{
	struct ai_buf b;

	ai_buf_init(&b, 1 << 20);
	OK(ai_store_read(st, name, 0, 0, NULL, &b, NULL));
	cr_assert_eq(b.len, strlen(want), "%s: %zu bytes, want %zu", name, b.len, strlen(want));
	cr_assert_str_eq(ai_buf_str(&b), want);
	ai_buf_release(&b);
}

static void expect_range(const char *name, uint64_t off, uint64_t len, const char *want)
{
	struct ai_buf b;

	ai_buf_init(&b, 1 << 20);
	OK(ai_store_read(st, name, off, len, NULL, &b, NULL));
	cr_assert_str_eq(ai_buf_str(&b), want, "%s [%" PRIu64 ", +%" PRIu64 "]", name, off, len);
	ai_buf_release(&b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists everything under prefix page by page (max per page) and returns
 * the items (blobs and prefixes) joined by '\n', checking that the pages
 * come in order. */
static char *list_joined(const char *prefix, const char *delim, unsigned max, size_t *pages)
{
	struct ai_buf all;
	char *marker = NULL, *prev = NULL;

	ai_buf_init(&all, 1 << 20);
	*pages = 0;
	do {
		struct ai_blob_list l;
		const char **items;
		size_t n = 0;

		OK(ai_store_list(st, prefix, delim, marker, max, &l));
		cr_assert_leq(l.n + l.nprefixes, max, "a page holds at most max items");
		items = calloc(l.n + l.nprefixes + 1, sizeof *items);
		cr_assert_not_null(items);
		for (size_t i = 0; i < l.n; i++)
			items[n++] = l.blobs[i].name;
		for (size_t i = 0; i < l.nprefixes; i++)
			items[n++] = l.prefixes[i];
		qsort(items, n, sizeof *items, cmp_str);
		for (size_t i = 0; i < n; i++) {
			if (prev)
				cr_assert_lt(strcmp(prev, items[i]), 0, "'%s' after '%s'", items[i],
				             prev);
			free(prev);
			prev = strdup(items[i]);
			cr_assert_eq(ai_buf_printf(&all, "%s\n", items[i]), AI_OK);
		}
		free(items);
		free(marker);
		marker = l.next_marker ? strdup(l.next_marker) : NULL;
		ai_blob_list_release(&l);
		(*pages)++;
		cr_assert_lt(*pages, 1000, "the listing never ends");
	} while (marker);
	free(prev);
	return ai_buf_detach(&all, NULL);
}

static void set_meta(struct ai_meta *m, size_t i, const char *k, const char *v)
{
	snprintf(m->kv[i].name, sizeof m->kv[i].name, "%s", k);
	snprintf(m->kv[i].value, sizeof m->kv[i].value, "%s", v);
	if (m->n <= i)
		m->n = i + 1;
}

static const char *meta_get(const struct ai_meta *m, const char *k)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcasecmp(m->kv[i].name, k) == 0)
			return m->kv[i].value;
	return NULL;
}

static enum ai_lease_state lease_of(const char *name)
{
	struct ai_blob_info info;
	enum ai_lease_state ls;

	OK(ai_store_props(st, name, &info, NULL));
	ls = info.lease;
	ai_blob_info_release(&info);
	return ls;
}

/* Lets time pass for lease tests: the injected clock on a local store,
 * real sleep elsewhere (only with AIARCHIVE_TEST_SLOW=1). */
static void pass_time(int seconds)
{
	if (ai_store_is_remote(st))
		sleep((unsigned)seconds);
	else
		__atomic_add_fetch(&clock_skew, (int64_t)seconds * AI_NS_PER_SEC, __ATOMIC_RELAXED);
}

static void need_time_travel(void)
{
	const char *slow = env("AIARCHIVE_TEST_SLOW");

	if (ai_store_is_remote(st) && !(slow && strcmp(slow, "1") == 0))
		SKIP("lease expiry on a remote store takes real time: AIARCHIVE_TEST_SLOW=1");
}

/* ---- container and account ---- */

Test(store, create_container_twice_is_fine)
{
	OK(ai_store_create_container(st));
	OK(ai_store_create_container(st));
}

Test(store, account_info_names_a_sku_and_kind)
{
	char sku[64] = "", kind[64] = "";

	OK(ai_store_account_info(st, sku, kind));
	cr_assert_neq(sku[0], '\0');
	cr_assert_neq(kind[0], '\0');
	if (!ai_store_is_remote(st)) {
		cr_assert_str_eq(sku, "local");
		cr_assert_str_eq(kind, "directory");
	}
}

Test(store, service_stats_without_a_secondary_is_a_config_error)
{
	char status[16];
	ai_time last;

	if (env("AIARCHIVE_TEST_STORE_SECONDARY_URL"))
		SKIP("a secondary is configured");
	FAILS(AI_ERR_CONFIG, ai_store_service_stats(st, status, &last));
	cr_assert_neq(ai_store_last_error()[0], '\0');
}

Test(store, service_stats_reports_the_secondary)
{
	char status[16] = "";
	ai_time last;

	if (!env("AIARCHIVE_TEST_STORE_SECONDARY_URL"))
		SKIP("no secondary: AIARCHIVE_TEST_STORE_SECONDARY_URL");
	OK(ai_store_service_stats(st, status, &last));
	cr_assert(strcmp(status, "live") == 0 || strcmp(status, "bootstrap") == 0 ||
	          strcmp(status, "unavailable") == 0, "status '%s'", status);
}

Test(store, describe_names_the_location_without_secrets)
{
	const char *d = ai_store_describe(st);

	cr_assert_not_null(d);
	cr_assert_neq(d[0], '\0');
	cr_assert_null(strstr(d, "sig="));
	if (env("AIARCHIVE_TEST_STORE_KEY"))
		cr_assert_null(strstr(d, env("AIARCHIVE_TEST_STORE_KEY")));
}

/* ---- put and read ---- */

Test(store, put_then_read_round_trips_with_ranges)
{
	char a[512];
	struct ai_buf b;

	put_str(N(a, "dir/sub/hello.txt"), "hello world", 0);
	expect_content(a, "hello world");
	expect_range(a, 0, 5, "hello");
	expect_range(a, 6, 5, "world");
	expect_range(a, 6, 0, "world");
	expect_range(a, 10, 1, "d");
	expect_range(a, 6, 1000, "world");

	ai_buf_init(&b, 64);
	cr_assert_eq(ai_buf_addstr(&b, "kept:"), AI_OK);
	OK(ai_store_read(st, a, 0, 5, NULL, &b, NULL));
	cr_assert_str_eq(ai_buf_str(&b), "kept:hello", "a read appends to the buffer");
	ai_buf_release(&b);
}

Test(store, a_range_past_the_end_is_bad_input)
{
	char a[512];
	struct ai_buf b;

	put_str(N(a, "short"), "abc", 0);
	ai_buf_init(&b, 64);
	FAILS(AI_ERR_BAD_INPUT, ai_store_read(st, a, 3, 0, NULL, &b, NULL));
	FAILS(AI_ERR_BAD_INPUT, ai_store_read(st, a, 100, 1, NULL, &b, NULL));
	cr_assert_eq(b.len, 0);
	ai_buf_release(&b);
}

Test(store, an_empty_blob_reads_as_nothing)
{
	char a[512];
	struct ai_buf b;
	struct ai_blob_info info;

	OK(ai_store_put(st, N(a, "empty"), NULL, 0, 0, NULL, NULL));
	ai_buf_init(&b, 64);
	OK(ai_store_read(st, a, 0, 0, NULL, &b, &info));
	cr_assert_eq(b.len, 0);
	cr_assert_eq(info.size, 0);
	ai_blob_info_release(&info);
	ai_buf_release(&b);
}

Test(store, a_read_larger_than_the_buffer_cap_is_too_big)
{
	char a[512];
	struct ai_buf b;

	put_str(N(a, "big"), "0123456789abcdef", 0);
	ai_buf_init(&b, 8);
	FAILS(AI_ERR_TOO_BIG, ai_store_read(st, a, 0, 0, NULL, &b, NULL));
	OK(ai_store_read(st, a, 0, 8, NULL, &b, NULL));
	cr_assert_str_eq(ai_buf_str(&b), "01234567");
	ai_buf_release(&b);
}

Test(store, a_missing_blob_is_not_found)
{
	char a[512];
	struct ai_buf b;
	struct ai_blob_info info;

	ai_buf_init(&b, 64);
	FAILS(AI_ERR_NOT_FOUND, ai_store_read(st, N(a, "missing"), 0, 0, NULL, &b, NULL));
	cr_assert_neq(ai_store_last_error()[0], '\0');
	FAILS(AI_ERR_NOT_FOUND, ai_store_props(st, a, &info, NULL));
	FAILS(AI_ERR_NOT_FOUND, ai_store_delete(st, a));
	FAILS(AI_ERR_NOT_FOUND, ai_store_append(st, a, "x", 1, AI_APPEND_ANY));
	ai_buf_release(&b);
}

Test(store, create_only_put_refuses_an_existing_name_and_keeps_it)
{
	char a[512], etag[AI_ETAG_MAX];
	struct ai_blob_info info;

	OK(ai_store_put(st, N(a, "once"), "first", 5, AI_PUT_CREATE_ONLY, NULL, etag));
	FAILS(AI_ERR_EXISTS, ai_store_put(st, a, "second", 6, AI_PUT_CREATE_ONLY, NULL, NULL));
	cr_assert_neq(strstr(ai_store_last_error(), "once"), NULL,
	              "the error names the blob: %s", ai_store_last_error());
	expect_content(a, "first");
	OK(ai_store_props(st, a, &info, NULL));
	cr_assert_str_eq(info.etag, etag, "a refused write leaves the blob as it was");
	ai_blob_info_release(&info);
}

Test(store, plain_put_overwrites_and_changes_the_etag)
{
	char a[512], e1[AI_ETAG_MAX], e2[AI_ETAG_MAX];

	OK(ai_store_put(st, N(a, "over"), "one", 3, 0, NULL, e1));
	OK(ai_store_put(st, a, "two", 3, 0, NULL, e2));
	expect_content(a, "two");
	cr_assert_str_neq(e1, e2, "same size, new content, new etag");
}

Test(store, if_match_reads_only_the_expected_version)
{
	char a[512], e1[AI_ETAG_MAX], e2[AI_ETAG_MAX];
	struct ai_buf b;
	struct ai_blob_info info;

	OK(ai_store_put(st, N(a, "cond"), "v1", 2, 0, NULL, e1));
	ai_buf_init(&b, 64);
	OK(ai_store_read(st, a, 0, 0, e1, &b, &info));
	cr_assert_str_eq(info.etag, e1);
	ai_blob_info_release(&info);
	OK(ai_store_put(st, a, "v2", 2, 0, NULL, e2));
	ai_buf_reset(&b);
	FAILS(AI_ERR_CONFLICT, ai_store_read(st, a, 0, 0, e1, &b, NULL));
	cr_assert_eq(b.len, 0);
	OK(ai_store_read(st, a, 0, 0, e2, &b, NULL));
	cr_assert_str_eq(ai_buf_str(&b), "v2");
	ai_buf_release(&b);
}

Test(store, a_put_if_match_replaces_only_the_version_it_names)
{
	char a[512], e1[AI_ETAG_MAX], e2[AI_ETAG_MAX], e3[AI_ETAG_MAX];

	OK(ai_store_put(st, N(a, "cas"), "v1", 2, 0, NULL, e1));
	OK(ai_store_put_if_match(st, a, "v2", 2, e1, NULL, e2));
	expect_content(a, "v2");
	cr_assert_str_neq(e1, e2);
	/* a writer still holding the first version's ETag changes nothing */
	FAILS(AI_ERR_CONFLICT, ai_store_put_if_match(st, a, "stale", 5, e1, NULL, e3));
	expect_content(a, "v2");
	OK(ai_store_put_if_match(st, a, "v3", 2, e2, NULL, e3));
	expect_content(a, "v3");
	/* a name that is gone has no version to match */
	OK(ai_store_delete(st, a));
	FAILS(AI_ERR_CONFLICT, ai_store_put_if_match(st, a, "v4", 2, e3, NULL, NULL));
	FAILS(AI_ERR_NOT_FOUND, ai_store_props(st, a, &(struct ai_blob_info){ 0 }, NULL));
}

struct cas_racer {
	const char *name;
	const char *etag;
	int index;
	pthread_barrier_t *start;
	ai_result r;
};

static void *race_cas(void *arg)
{
	struct cas_racer *rc = arg;
	char body[32];

	snprintf(body, sizeof body, "writer-%02d", rc->index);
	pthread_barrier_wait(rc->start);
	rc->r = ai_store_put_if_match(st, rc->name, body, strlen(body), rc->etag, NULL, NULL);
	return NULL;
}

Test(store, of_racing_writers_matching_one_etag_exactly_one_wins)
{
	enum { WRITERS = 8 };
	struct cas_racer rc[WRITERS];
	pthread_t t[WRITERS];
	pthread_barrier_t start;
	char a[512], e[AI_ETAG_MAX], want[32];
	int wins = 0, winner = -1;

	OK(ai_store_put(st, N(a, "race/state"), "v0", 2, 0, NULL, e));
	pthread_barrier_init(&start, NULL, WRITERS);
	for (int i = 0; i < WRITERS; i++) {
		rc[i] = (struct cas_racer){ .name = a, .etag = e, .index = i, .start = &start };
		cr_assert_eq(pthread_create(&t[i], NULL, race_cas, &rc[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < WRITERS; i++) {
		cr_assert(rc[i].r == AI_OK || rc[i].r == AI_ERR_CONFLICT, "writer %d: %s", i,
		          ai_strerror(rc[i].r));
		if (rc[i].r == AI_OK) {
			wins++;
			winner = i;
		}
	}
	cr_assert_eq(wins, 1);
	snprintf(want, sizeof want, "writer-%02d", winner);
	expect_content(a, want);
}

Test(store, props_report_size_type_etag_and_time)
{
	char a[512], etag[AI_ETAG_MAX];
	struct ai_blob_info info, rinfo;
	struct ai_buf b;
	ai_time before = test_now();

	OK(ai_store_put(st, N(a, "p/props.bin"), "12345678", 8, 0, NULL, etag));
	OK(ai_store_props(st, a, &info, NULL));
	cr_assert_str_eq(info.name, a);
	cr_assert_eq(info.size, 8);
	cr_assert_eq(info.type, AI_BLOB_BLOCK);
	cr_assert_str_eq(info.etag, etag);
	cr_assert_eq(info.lease, AI_LEASE_AVAILABLE);
	/* a minute of slack for remote clocks and coarse timestamps */
	cr_assert_geq(info.last_modified, before - 60 * AI_NS_PER_SEC);
	cr_assert_leq(info.last_modified, test_now() + 60 * AI_NS_PER_SEC);

	ai_buf_init(&b, 64);
	OK(ai_store_read(st, a, 2, 2, NULL, &b, &rinfo));
	cr_assert_eq(rinfo.size, 8, "the read's info gives the whole blob's size");
	cr_assert_str_eq(rinfo.etag, etag);
	ai_blob_info_release(&rinfo);
	ai_blob_info_release(&info);
	ai_buf_release(&b);
}

/* ---- metadata ---- */

Test(store, metadata_is_stored_replaced_and_moves_the_etag)
{
	char a[512], e1[AI_ETAG_MAX];
	struct ai_meta m, got;
	struct ai_blob_info info;

	memset(&m, 0, sizeof m);
	set_meta(&m, 0, "app", "web shop");
	set_meta(&m, 1, "run_id", "r-42");
	OK(ai_store_put(st, N(a, "meta"), "x", 1, 0, &m, e1));
	OK(ai_store_props(st, a, &info, &got));
	cr_assert_eq(got.n, 2);
	cr_assert_str_eq(meta_get(&got, "app"), "web shop");
	cr_assert_str_eq(meta_get(&got, "run_id"), "r-42");
	ai_blob_info_release(&info);

	memset(&m, 0, sizeof m);
	set_meta(&m, 0, "state", "done");
	OK(ai_store_set_metadata(st, a, &m, NULL));
	OK(ai_store_props(st, a, &info, &got));
	cr_assert_eq(got.n, 1, "set_metadata replaces all metadata");
	cr_assert_str_eq(meta_get(&got, "state"), "done");
	cr_assert_str_neq(info.etag, e1);
	ai_blob_info_release(&info);
	expect_content(a, "x");

	FAILS(AI_ERR_NOT_FOUND, ai_store_set_metadata(st, N(a, "meta-missing"), &m, NULL));
}

Test(store, put_replaces_metadata)
{
	char a[512];
	struct ai_meta m, got;
	struct ai_blob_info info;

	memset(&m, 0, sizeof m);
	set_meta(&m, 0, "k", "v");
	OK(ai_store_put(st, N(a, "meta2"), "x", 1, 0, &m, NULL));
	OK(ai_store_put(st, a, "y", 1, 0, NULL, NULL));
	OK(ai_store_props(st, a, &info, &got));
	cr_assert_eq(got.n, 0);
	ai_blob_info_release(&info);
}

/* ---- blocks ---- */

Test(store, blocks_commit_in_the_listed_order)
{
	char a[512], etag[AI_ETAG_MAX];
	const char *ids[] = { "YmxrLTAwMDE=", "YmxrLTAwMDI=", "YmxrLTAwMDM=" };
	const char *order[] = { ids[2], ids[0], ids[1] };
	struct ai_blob_info info;

	N(a, "blocks/pack.gz");
	OK(ai_store_put_block(st, a, ids[0], "AAAA", 4));
	OK(ai_store_put_block(st, a, ids[1], "BB", 2));
	OK(ai_store_put_block(st, a, ids[2], "C", 1));
	OK(ai_store_put_block_list(st, a, order, 3, AI_PUT_CREATE_ONLY, NULL, etag));
	expect_content(a, "CAAAABB");
	OK(ai_store_props(st, a, &info, NULL));
	cr_assert_eq(info.size, 7);
	cr_assert_eq(info.type, AI_BLOB_BLOCK);
	cr_assert_str_eq(info.etag, etag);
	ai_blob_info_release(&info);
}

Test(store, a_create_only_commit_refuses_an_existing_name)
{
	char a[512];
	const char *ids[] = { "MDAwMQ==", "MDAwMg==" };

	put_str(N(a, "blocks/exists"), "original", 0);
	OK(ai_store_put_block(st, a, ids[0], "new-", 4));
	OK(ai_store_put_block(st, a, ids[1], "data", 4));
	FAILS(AI_ERR_EXISTS, ai_store_put_block_list(st, a, ids, 2, AI_PUT_CREATE_ONLY, NULL,
	                                             NULL));
	expect_content(a, "original");
	/* the staged blocks survive a refused commit */
	OK(ai_store_put_block_list(st, a, ids, 2, 0, NULL, NULL));
	expect_content(a, "new-data");
}

Test(store, a_commit_naming_an_unknown_block_is_bad_input)
{
	char a[512];
	const char *ids[] = { "MDAwMQ==", "OTk5OQ==" };

	OK(ai_store_put_block(st, N(a, "blocks/unknown"), ids[0], "x", 1));
	FAILS(AI_ERR_BAD_INPUT, ai_store_put_block_list(st, a, ids, 2, 0, NULL, NULL));
	FAILS(AI_ERR_NOT_FOUND, ai_store_props(st, a, &(struct ai_blob_info){ 0 }, NULL));
}

Test(store, a_large_blob_goes_up_in_blocks_and_reads_back_by_range)
{
	enum { BLOCK = 256 * 1024, NBLOCKS = 5 };
	char a[512], ids[NBLOCKS][16];
	const char *idp[NBLOCKS];
	char *data = malloc((size_t)BLOCK * NBLOCKS);
	struct ai_buf b;

	cr_assert_not_null(data);
	for (size_t i = 0; i < (size_t)BLOCK * NBLOCKS; i++)
		data[i] = (char)(i * 7 + i / 1000);
	N(a, "blocks/large.bin");
	for (int i = 0; i < NBLOCKS; i++) {
		snprintf(ids[i], sizeof ids[i], "YmxrMD%c%c", 'A' + i, 'A' + i); /* same length */
		idp[i] = ids[i];
		OK(ai_store_put_block(st, a, ids[i], data + (size_t)i * BLOCK, BLOCK));
	}
	OK(ai_store_put_block_list(st, a, idp, NBLOCKS, AI_PUT_CREATE_ONLY, NULL, NULL));
	ai_buf_init(&b, (size_t)BLOCK * NBLOCKS);
	OK(ai_store_read(st, a, 0, 0, NULL, &b, NULL));
	cr_assert_eq(b.len, (size_t)BLOCK * NBLOCKS);
	cr_assert_eq(memcmp(b.data, data, b.len), 0);
	ai_buf_reset(&b);
	OK(ai_store_read(st, a, BLOCK - 10, 20, NULL, &b, NULL));
	cr_assert_eq(memcmp(b.data, data + BLOCK - 10, 20), 0, "a range across two blocks");
	ai_buf_release(&b);
	free(data);
}

/* ---- append blobs ---- */

Test(store, append_blob_takes_appends_at_the_expected_position)
{
	char a[512];
	struct ai_blob_info info;

	OK(ai_store_put(st, N(a, "log/PT1H.json"), NULL, 0, AI_PUT_APPEND_BLOB | AI_PUT_CREATE_ONLY,
	                NULL, NULL));
	OK(ai_store_props(st, a, &info, NULL));
	cr_assert_eq(info.type, AI_BLOB_APPEND);
	cr_assert_eq(info.size, 0);
	ai_blob_info_release(&info);

	OK(ai_store_append(st, a, "abc", 3, 0));
	OK(ai_store_append(st, a, "def", 3, 3));
	FAILS(AI_ERR_CONFLICT, ai_store_append(st, a, "XYZ", 3, 3));
	FAILS(AI_ERR_CONFLICT, ai_store_append(st, a, "XYZ", 3, 100));
	expect_content(a, "abcdef");
	OK(ai_store_append(st, a, "g", 1, AI_APPEND_ANY));
	expect_content(a, "abcdefg");
	expect_range(a, 3, 3, "def");
	OK(ai_store_props(st, a, &info, NULL));
	cr_assert_eq(info.size, 7);
	cr_assert_eq(info.type, AI_BLOB_APPEND);
	ai_blob_info_release(&info);
}

Test(store, each_append_changes_the_etag)
{
	char a[512], e0[AI_ETAG_MAX];
	struct ai_blob_info info;

	OK(ai_store_put(st, N(a, "log/etag"), NULL, 0, AI_PUT_APPEND_BLOB, NULL, e0));
	OK(ai_store_append(st, a, "x", 1, 0));
	OK(ai_store_props(st, a, &info, NULL));
	cr_assert_str_neq(info.etag, e0);
	ai_blob_info_release(&info);
}

Test(store, append_to_a_block_blob_is_a_conflict)
{
	char a[512];

	put_str(N(a, "block"), "data", 0);
	FAILS(AI_ERR_CONFLICT, ai_store_append(st, a, "more", 4, AI_APPEND_ANY));
	expect_content(a, "data");
}

Test(store, an_append_blob_can_be_created_only_once)
{
	char a[512];

	OK(ai_store_put(st, N(a, "log/once"), NULL, 0, AI_PUT_APPEND_BLOB | AI_PUT_CREATE_ONLY,
	                NULL, NULL));
	OK(ai_store_append(st, a, "keep", 4, 0));
	FAILS(AI_ERR_EXISTS, ai_store_put(st, a, NULL, 0, AI_PUT_APPEND_BLOB | AI_PUT_CREATE_ONLY,
	                                  NULL, NULL));
	expect_content(a, "keep");
}

/* ---- listing ---- */

Test(store, list_with_a_prefix_gives_the_names_in_order)
{
	char a[512], p[512];
	struct ai_blob_list l;
	const char *leaves[] = { "l/e.txt", "l/b/d", "l/a", "l/b/c", "l.txt", "lx/a" };
	const char *want[] = { "l/a", "l/b/c", "l/b/d", "l/e.txt" };

	for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
		put_str(N(a, leaves[i]), leaves[i], 0);
	OK(ai_store_list(st, N(p, "l/"), NULL, NULL, 0, &l));
	cr_assert_eq(l.n, 4);
	cr_assert_eq(l.nprefixes, 0);
	cr_assert_null(l.next_marker);
	for (size_t i = 0; i < 4; i++) {
		cr_assert_str_eq(l.blobs[i].name, N(a, want[i]));
		cr_assert_eq(l.blobs[i].size, strlen(want[i]));
		cr_assert_eq(l.blobs[i].type, AI_BLOB_BLOCK);
		cr_assert_neq(l.blobs[i].etag[0], '\0');
	}
	ai_blob_list_release(&l);

	/* a prefix that ends mid-segment matches names, not directories */
	OK(ai_store_list(st, N(p, "l"), NULL, NULL, 0, &l));
	cr_assert_eq(l.n, 6);
	cr_assert_str_eq(l.blobs[0].name, N(a, "l.txt"), "'.' sorts before '/'");
	cr_assert_str_eq(l.blobs[5].name, N(a, "lx/a"));
	ai_blob_list_release(&l);

	OK(ai_store_list(st, N(p, "nothing-here/"), NULL, NULL, 0, &l));
	cr_assert_eq(l.n + l.nprefixes, 0);
	ai_blob_list_release(&l);
}

Test(store, list_with_a_delimiter_rolls_names_up_into_prefixes)
{
	char a[512], p[512];
	struct ai_blob_list l;
	const char *leaves[] = { "d/a", "d/b/c", "d/b/d", "d/b/e/f", "d/e.txt", "d/g/h" };

	for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
		put_str(N(a, leaves[i]), "x", 0);
	OK(ai_store_list(st, N(p, "d/"), "/", NULL, 0, &l));
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.blobs[0].name, N(a, "d/a"));
	cr_assert_str_eq(l.blobs[1].name, N(a, "d/e.txt"));
	cr_assert_eq(l.nprefixes, 2);
	cr_assert_str_eq(l.prefixes[0], N(a, "d/b/"));
	cr_assert_str_eq(l.prefixes[1], N(a, "d/g/"));
	ai_blob_list_release(&l);

	OK(ai_store_list(st, N(p, "d/b/"), "/", NULL, 0, &l));
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.blobs[0].name, N(a, "d/b/c"));
	cr_assert_str_eq(l.blobs[1].name, N(a, "d/b/d"));
	cr_assert_eq(l.nprefixes, 1);
	cr_assert_str_eq(l.prefixes[0], N(a, "d/b/e/"));
	ai_blob_list_release(&l);

	/* the prefix may end inside a segment */
	OK(ai_store_list(st, N(p, "d/b"), "/", NULL, 0, &l));
	cr_assert_eq(l.n, 0);
	cr_assert_eq(l.nprefixes, 1);
	cr_assert_str_eq(l.prefixes[0], N(a, "d/b/"));
	ai_blob_list_release(&l);

	/* any string can be the delimiter */
	OK(ai_store_list(st, N(p, "d/"), ".", NULL, 0, &l));
	cr_assert_eq(l.n, 5);
	cr_assert_eq(l.nprefixes, 1);
	cr_assert_str_eq(l.prefixes[0], N(a, "d/e."));
	ai_blob_list_release(&l);
}

Test(store, paging_gives_every_name_once_in_order)
{
	char a[512], p[512], want[8192] = "";
	char *names[25], *got;
	size_t pages;

	for (int i = 0; i < 25; i++) {
		char leaf[64];

		if (i % 5 == 0)
			snprintf(leaf, sizeof leaf, "pg/sub%d/n%02d", i / 10, i);
		else if (i % 7 == 0)
			snprintf(leaf, sizeof leaf, "pg/n%02d.x", i);
		else
			snprintf(leaf, sizeof leaf, "pg/n%02d", i);
		put_str(N(a, leaf), leaf, 0);
		names[i] = strdup(a);
	}
	qsort(names, 25, sizeof *names, cmp_str);
	for (int i = 0; i < 25; i++) {
		strcat(want, names[i]);
		strcat(want, "\n");
		free(names[i]);
	}
	for (unsigned max = 1; max <= 7; max += 3) {
		got = list_joined(N(p, "pg/"), NULL, max, &pages);
		cr_assert_str_eq(got, want, "max %u", max);
		cr_assert_geq(pages, (25 + max - 1) / max);
		free(got);
	}
}

Test(store, paging_with_a_delimiter_gives_each_prefix_once)
{
	char a[512], p[512], want[4096] = "";
	char *got;
	size_t pages;
	const char *leaves[] = { "pd/a", "pd/b/1", "pd/b/2", "pd/b/3", "pd/c", "pd/d/1/x",
	                         "pd/d/2", "pd/e" };
	const char *items[] = { "pd/a", "pd/b/", "pd/c", "pd/d/", "pd/e" };

	for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
		put_str(N(a, leaves[i]), "x", 0);
	for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
		strcat(want, N(a, items[i]));
		strcat(want, "\n");
	}
	for (unsigned max = 1; max <= 3; max++) {
		got = list_joined(N(p, "pd/"), "/", max, &pages);
		cr_assert_str_eq(got, want, "max %u", max);
		free(got);
	}
}

/* ---- delete ---- */

Test(store, delete_removes_the_blob_from_reads_and_listings)
{
	char a[512], b[512], p[512];
	struct ai_blob_list l;
	struct ai_blob_info info;

	put_str(N(a, "del/x/gone"), "x", 0);
	put_str(N(b, "del/stays"), "y", 0);
	OK(ai_store_delete(st, a));
	FAILS(AI_ERR_NOT_FOUND, ai_store_props(st, a, &info, NULL));
	FAILS(AI_ERR_NOT_FOUND, ai_store_delete(st, a));
	OK(ai_store_list(st, N(p, "del/"), "/", NULL, 0, &l));
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.nprefixes, 0, "no empty prefix is left behind");
	cr_assert_str_eq(l.blobs[0].name, b);
	ai_blob_list_release(&l);
	/* the name can be written again, create-only */
	OK(ai_store_put(st, a, "new", 3, AI_PUT_CREATE_ONLY, NULL, NULL));
	expect_content(a, "new");
}

/* ---- leases ---- */

#define OTHER_ID "11111111-2222-4333-8444-555555555555"
#define THIRD_ID "66666666-7777-4888-9999-aaaaaaaaaaaa"

Test(store, leases_exclude_each_other)
{
	char a[512], id[AI_LEASE_ID_MAX] = "", other[AI_LEASE_ID_MAX] = OTHER_ID;
	char wrong[AI_LEASE_ID_MAX] = OTHER_ID, none[AI_LEASE_ID_MAX] = "";

	put_str(N(a, "locks/run"), "", 0);
	OK(ai_store_lease(st, a, AI_LEASE_ACQUIRE, 15, id));
	cr_assert_neq(id[0], '\0', "acquire hands out a lease id");
	cr_assert_eq(lease_of(a), AI_LEASE_LEASED);
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_ACQUIRE, 15, other));
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_ACQUIRE, -1, none));
	OK(ai_store_lease(st, a, AI_LEASE_RENEW, 0, id));
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_RENEW, 0, wrong));
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_RELEASE, 0, wrong));
	OK(ai_store_lease(st, a, AI_LEASE_RELEASE, 0, id));
	cr_assert_eq(lease_of(a), AI_LEASE_AVAILABLE);

	/* a released lease can be taken again, here with a proposed id */
	OK(ai_store_lease(st, a, AI_LEASE_ACQUIRE, -1, other));
	cr_assert_eq(strcasecmp(other, OTHER_ID), 0, "the proposed id is the lease id");
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_RELEASE, 0, id));
	OK(ai_store_lease(st, a, AI_LEASE_BREAK, 0, NULL));
	cr_assert_eq(lease_of(a), AI_LEASE_BROKEN);
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_RENEW, 0, other));
	id[0] = '\0';
	OK(ai_store_lease(st, a, AI_LEASE_ACQUIRE, 15, id));
	OK(ai_store_lease(st, a, AI_LEASE_RELEASE, 0, id));
}

Test(store, a_lease_guards_metadata_and_delete)
{
	char a[512], id[AI_LEASE_ID_MAX] = "";
	struct ai_meta m;

	memset(&m, 0, sizeof m);
	set_meta(&m, 0, "owner", "run-1");
	put_str(N(a, "locks/guarded"), "", 0);
	OK(ai_store_lease(st, a, AI_LEASE_ACQUIRE, 15, id));
	FAILS(AI_ERR_CONFLICT, ai_store_set_metadata(st, a, &m, NULL));
	FAILS(AI_ERR_CONFLICT, ai_store_set_metadata(st, a, &m, OTHER_ID));
	OK(ai_store_set_metadata(st, a, &m, id));
	FAILS(AI_ERR_CONFLICT, ai_store_delete(st, a));
	OK(ai_store_lease(st, a, AI_LEASE_RELEASE, 0, id));
	OK(ai_store_delete(st, a));
}

Test(store, lease_misuse_is_refused)
{
	char a[512], id[AI_LEASE_ID_MAX] = "";

	N(a, "locks/missing");
	FAILS(AI_ERR_NOT_FOUND, ai_store_lease(st, a, AI_LEASE_ACQUIRE, 15, id));
	put_str(a, "", 0);
	FAILS(AI_ERR_BAD_INPUT, ai_store_lease(st, a, AI_LEASE_ACQUIRE, 10, id));
	FAILS(AI_ERR_BAD_INPUT, ai_store_lease(st, a, AI_LEASE_ACQUIRE, 61, id));
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_BREAK, 0, NULL));
	snprintf(id, sizeof id, "%s", THIRD_ID);
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_RENEW, 0, id));
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_RELEASE, 0, id));
}

Test(store, an_expired_lease_is_free_to_take)
{
	char a[512], id[AI_LEASE_ID_MAX] = "", other[AI_LEASE_ID_MAX] = OTHER_ID;

	need_time_travel();
	put_str(N(a, "locks/expiring"), "", 0);
	OK(ai_store_lease(st, a, AI_LEASE_ACQUIRE, 15, id));
	pass_time(17);
	cr_assert_eq(lease_of(a), AI_LEASE_EXPIRED);
	OK(ai_store_lease(st, a, AI_LEASE_ACQUIRE, 15, other));
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_RENEW, 0, id));
	OK(ai_store_lease(st, a, AI_LEASE_RENEW, 0, other));
	OK(ai_store_lease(st, a, AI_LEASE_RELEASE, 0, other));
}

Test(store, a_break_period_holds_off_new_holders_until_it_ends)
{
	char a[512], id[AI_LEASE_ID_MAX] = "", other[AI_LEASE_ID_MAX] = OTHER_ID;

	need_time_travel();
	put_str(N(a, "locks/breaking"), "", 0);
	OK(ai_store_lease(st, a, AI_LEASE_ACQUIRE, -1, id));
	OK(ai_store_lease(st, a, AI_LEASE_BREAK, 10, NULL));
	cr_assert_eq(lease_of(a), AI_LEASE_BREAKING);
	FAILS(AI_ERR_CONFLICT, ai_store_lease(st, a, AI_LEASE_ACQUIRE, 15, other));
	pass_time(12);
	cr_assert_eq(lease_of(a), AI_LEASE_BROKEN);
	OK(ai_store_lease(st, a, AI_LEASE_ACQUIRE, 15, other));
	OK(ai_store_lease(st, a, AI_LEASE_RELEASE, 0, other));
}

/* ---- concurrency ---- */

struct racer {
	const char *name;
	int index;
	pthread_barrier_t *start;
	ai_result r;
};

static void *race_create(void *arg)
{
	struct racer *rc = arg;
	char body[32];

	snprintf(body, sizeof body, "writer-%02d", rc->index);
	pthread_barrier_wait(rc->start);
	rc->r = ai_store_put(st, rc->name, body, strlen(body), AI_PUT_CREATE_ONLY, NULL, NULL);
	return NULL;
}

Test(store, of_racing_create_only_writers_exactly_one_wins)
{
	enum { WRITERS = 8 };
	struct racer rc[WRITERS];
	pthread_t t[WRITERS];
	pthread_barrier_t start;
	char a[512], want[32];
	int wins = 0, winner = -1;

	N(a, "race/segment-000001");
	pthread_barrier_init(&start, NULL, WRITERS);
	for (int i = 0; i < WRITERS; i++) {
		rc[i] = (struct racer){ .name = a, .index = i, .start = &start };
		cr_assert_eq(pthread_create(&t[i], NULL, race_create, &rc[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < WRITERS; i++) {
		cr_assert(rc[i].r == AI_OK || rc[i].r == AI_ERR_EXISTS, "writer %d: %s", i,
		          ai_strerror(rc[i].r));
		if (rc[i].r == AI_OK) {
			wins++;
			winner = i;
		}
	}
	cr_assert_eq(wins, 1);
	snprintf(want, sizeof want, "writer-%02d", winner);
	expect_content(a, want);
}

static void *race_append(void *arg)
{
	struct racer *rc = arg;

	pthread_barrier_wait(rc->start);
	rc->r = AI_OK;
	for (int i = 0; i < 10 && rc->r == AI_OK; i++) {
		char rec[16];
		struct ai_blob_info info;

		snprintf(rec, sizeof rec, "t%d-%02d\n", rc->index, i);
		/* optimistic: read the size, append there, retry if it moved */
		for (;;) {
			uint64_t size;

			rc->r = ai_store_props(st, rc->name, &info, NULL);
			if (rc->r != AI_OK)
				break;
			size = info.size;
			ai_blob_info_release(&info);
			rc->r = ai_store_append(st, rc->name, rec, strlen(rec), size);
			if (rc->r != AI_ERR_CONFLICT)
				break;
		}
	}
	return NULL;
}

Test(store, racing_appenders_never_lose_or_mix_records)
{
	enum { WRITERS = 4 };
	struct racer rc[WRITERS];
	pthread_t t[WRITERS];
	pthread_barrier_t start;
	char a[512];
	struct ai_buf b;
	int seen[WRITERS][10];

	memset(seen, 0, sizeof seen);
	OK(ai_store_put(st, N(a, "race/PT1H.json"), NULL, 0, AI_PUT_APPEND_BLOB, NULL, NULL));
	pthread_barrier_init(&start, NULL, WRITERS);
	for (int i = 0; i < WRITERS; i++) {
		rc[i] = (struct racer){ .name = a, .index = i, .start = &start };
		cr_assert_eq(pthread_create(&t[i], NULL, race_append, &rc[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < WRITERS; i++)
		cr_assert_eq(rc[i].r, AI_OK, "appender %d: %s", i, ai_strerror(rc[i].r));
	ai_buf_init(&b, 1 << 16);
	OK(ai_store_read(st, a, 0, 0, NULL, &b, NULL));
	cr_assert_eq(b.len, (size_t)WRITERS * 10 * 6);
	for (size_t off = 0; off < b.len; off += 6) {
		int w, n;

		cr_assert_eq(sscanf(b.data + off, "t%d-%2d\n", &w, &n), 2, "record at %zu", off);
		cr_assert(w >= 0 && w < WRITERS && n >= 0 && n < 10);
		seen[w][n]++;
	}
	for (int w = 0; w < WRITERS; w++)
		for (int n = 0; n < 10; n++)
			cr_assert_eq(seen[w][n], 1, "record t%d-%02d", w, n);
	ai_buf_release(&b);
}

/* ---- request counters ---- */

Test(store, request_counters_count_each_kind)
{
	char a[512], p[512];
	struct ai_store_stats s0, s1;
	struct ai_buf b;
	struct ai_blob_list l;
	struct ai_blob_info info;
	const char *ids[] = { "MDE=" };

	ai_store_get_stats(st, &s0);
	put_str(N(a, "count/x"), "12345", 0);
	ai_buf_init(&b, 64);
	OK(ai_store_read(st, a, 0, 0, NULL, &b, NULL));
	OK(ai_store_props(st, a, &info, NULL));
	ai_blob_info_release(&info);
	OK(ai_store_list(st, N(p, "count/"), NULL, NULL, 0, &l));
	ai_blob_list_release(&l);
	OK(ai_store_put_block(st, N(p, "count/y"), ids[0], "ab", 2));
	OK(ai_store_put_block_list(st, p, ids, 1, 0, NULL, NULL));
	ai_store_get_stats(st, &s1);
	cr_assert_geq(s1.requests[AI_REQ_PUT], s0.requests[AI_REQ_PUT] + 1);
	cr_assert_geq(s1.requests[AI_REQ_GET], s0.requests[AI_REQ_GET] + 1);
	cr_assert_geq(s1.requests[AI_REQ_HEAD], s0.requests[AI_REQ_HEAD] + 1);
	cr_assert_geq(s1.requests[AI_REQ_LIST], s0.requests[AI_REQ_LIST] + 1);
	cr_assert_geq(s1.requests[AI_REQ_BLOCK], s0.requests[AI_REQ_BLOCK] + 1);
	cr_assert_geq(s1.requests[AI_REQ_COMMIT], s0.requests[AI_REQ_COMMIT] + 1);
	cr_assert_geq(s1.bytes_written, s0.bytes_written + 7);
	cr_assert_geq(s1.bytes_read, s0.bytes_read + 5);
	ai_buf_release(&b);
}

/* ---- the local directory backend's own promises ---- */

static const char *local_root(void)
{
	if (ai_store_is_remote(st))
		SKIP("local directory backend only");
	return url + strlen("file://");
}

/* A conditional replace of a blob another process keeps locked (a reader
 * stopped half way) gives up after the file store's wait as busy: a
 * conflict would say another writer had replaced it. */
Test(store, local_a_put_if_match_on_a_blob_kept_locked_is_busy_not_a_conflict)
{
	const char *root = local_root();
	char a[512], path[2048], e1[AI_ETAG_MAX];
	int fd;

	OK(ai_store_put(st, N(a, "busy/state"), "v1", 2, 0, NULL, e1));
	snprintf(path, sizeof path, "%s/%s", root, a);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "%s", path);
	cr_assert_eq(flock(fd, LOCK_SH), 0);
	FAILS(AI_ERR_LOCKED, ai_store_put_if_match(st, a, "v2", 2, e1, NULL, NULL));
	cr_assert(strstr(ai_store_last_error(), "locked by another process for over 30 s"), "%s",
	          ai_store_last_error());
	close(fd);
	expect_content(a, "v1");
	OK(ai_store_put_if_match(st, a, "v2", 2, e1, NULL, NULL));
	expect_content(a, "v2");
}

Test(store, local_names_map_to_files_under_the_root)
{
	const char *root = local_root();
	char a[512], path[2048], body[16] = "";
	FILE *f;

	put_str(N(a, "files/a/b.gz"), "content", 0);
	snprintf(path, sizeof path, "%s/%s", root, a);
	f = fopen(path, "re");
	cr_assert_not_null(f, "%s", path);
	cr_assert_not_null(fgets(body, sizeof body, f));
	fclose(f);
	cr_assert_str_eq(body, "content");
}

Test(store, local_names_cannot_escape_or_reach_the_state)
{
	char a[512];
	struct ai_buf b;
	struct ai_blob_list l;
	const char *bad[] = { "../x", "a/../../x", "a//b", "/abs", "a/", "", "./a", "a/./b",
	                      ".aiarchive-store/tmp/x", ".hidden" };

	local_root();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		FAILS(AI_ERR_BAD_INPUT, ai_store_put(st, bad[i], "x", 1, 0, NULL, NULL));
	ai_buf_init(&b, 64);
	FAILS(AI_ERR_BAD_INPUT, ai_store_read(st, "../etc/passwd", 0, 0, NULL, &b, NULL));
	ai_buf_release(&b);
	if (!tmpdir[0])
		return; /* the root listing below needs a container of our own */
	/* the state directory, busy after these writes, never shows up */
	put_str(N(a, "visible"), "x", 0);
	OK(ai_store_lease(st, a, AI_LEASE_ACQUIRE, 15, (char[AI_LEASE_ID_MAX]){ 0 }));
	OK(ai_store_list(st, NULL, NULL, NULL, 0, &l));
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.blobs[0].name, a);
	cr_assert_eq(l.blobs[0].lease, AI_LEASE_LEASED);
	ai_blob_list_release(&l);
	OK(ai_store_list(st, NULL, "/", NULL, 0, &l));
	cr_assert_eq(l.n, 0);
	cr_assert_eq(l.nprefixes, 1);
	cr_assert_str_eq(l.prefixes[0], "test-store/");
	ai_blob_list_release(&l);
}

Test(store, local_metadata_names_must_be_identifiers)
{
	char a[512];
	struct ai_meta m;

	local_root();
	memset(&m, 0, sizeof m);
	set_meta(&m, 0, "has-dash", "v");
	FAILS(AI_ERR_BAD_INPUT, ai_store_put(st, N(a, "m"), "x", 1, 0, &m, NULL));
	set_meta(&m, 0, "ok", "line\nbreak");
	FAILS(AI_ERR_BAD_INPUT, ai_store_put(st, a, "x", 1, 0, &m, NULL));
}

Test(store, local_a_missing_root_is_not_found_until_created)
{
	struct ai_store_config cfg;
	struct ai_store *s2;
	struct ai_blob_list l;
	char u[2048];

	local_root();
	memset(&cfg, 0, sizeof cfg);
	snprintf(u, sizeof u, "%s-missing/deeper", url);
	cfg.url = u;
	OK(ai_store_open(&s2, &cfg));
	cr_assert_eq(ai_store_is_remote(s2), 0);
	FAILS(AI_ERR_NOT_FOUND, ai_store_list(s2, NULL, NULL, NULL, 0, &l));
	FAILS(AI_ERR_NOT_FOUND, ai_store_put(s2, "x", "x", 1, 0, NULL, NULL));
	OK(ai_store_create_container(s2));
	OK(ai_store_put(s2, "x", "x", 1, 0, NULL, NULL));
	OK(ai_store_list(s2, NULL, NULL, NULL, 0, &l));
	cr_assert_eq(l.n, 1);
	ai_blob_list_release(&l);
	ai_store_free(s2);
}

Test(store, local_relative_paths_are_refused)
{
	struct ai_store_config cfg;
	struct ai_store *s2 = NULL;

	local_root();
	memset(&cfg, 0, sizeof cfg);
	cfg.url = "file://relative/dir";
	FAILS(AI_ERR_CONFIG, ai_store_open(&s2, &cfg));
	cr_assert_null(s2);
}

/* Files in one state subdirectory of the local root. */
static int count_state(const char *root, const char *sub)
{
	char path[2048];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "%s/.aiarchive-store/%s", root, sub);
	d = opendir(path);
	cr_assert_not_null(d, "%s", path);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

Test(store, local_state_leaves_no_garbage_behind)
{
	const char *root = local_root();
	char a[512], b[512], c[512];
	const char *ids[] = { "MDE=", "MDI=" };

	if (!tmpdir[0])
		SKIP("needs a container of our own");
	put_str(N(a, "g/a"), "one", 0);
	put_str(a, "two", 0);
	put_str(N(b, "g/b"), "b", AI_PUT_CREATE_ONLY);
	FAILS(AI_ERR_EXISTS, ai_store_put(st, b, "x", 1, AI_PUT_CREATE_ONLY, NULL, NULL));
	OK(ai_store_put(st, N(c, "g/c"), NULL, 0, AI_PUT_APPEND_BLOB, NULL, NULL));
	OK(ai_store_append(st, c, "x", 1, 0));
	OK(ai_store_delete(st, c));
	OK(ai_store_put_block(st, c, ids[0], "1", 1));
	OK(ai_store_put_block(st, c, ids[1], "2", 1));
	OK(ai_store_put_block_list(st, c, ids, 2, 0, NULL, NULL));
	expect_content(c, "12");
	cr_assert_eq(count_state(root, "props"), 3, "one sidecar per live blob");
	cr_assert_eq(count_state(root, "tmp"), 0);
	cr_assert_eq(count_state(root, "blocks"), 0, "committed blocks are dropped");
}

Test(store, local_files_put_there_by_hand_are_block_blobs)
{
	const char *root = local_root();
	char a[512], path[2048];
	struct ai_blob_info info;
	FILE *f;

	put_str(N(a, "hand/seed"), "", 0); /* makes the directory */
	snprintf(path, sizeof path, "%s/%s", root, N(a, "hand/made.json"));
	f = fopen(path, "we");
	cr_assert_not_null(f, "%s", path);
	fputs("{}\n", f);
	fclose(f);
	OK(ai_store_props(st, a, &info, NULL));
	cr_assert_eq(info.type, AI_BLOB_BLOCK);
	cr_assert_eq(info.size, 3);
	ai_blob_info_release(&info);
	expect_content(a, "{}\n");
	FAILS(AI_ERR_CONFLICT, ai_store_append(st, a, "x", 1, AI_APPEND_ANY));
}

Test(store, local_empty_directories_are_no_prefixes)
{
	const char *root = local_root();
	char a[512], p[512], path[2048];
	struct ai_blob_list l;

	put_str(N(a, "e/full/x"), "x", 0);
	snprintf(path, sizeof path, "%s/%se", root, pfx);
	cr_assert_eq(mkdir(strcat(path, "/empty"), 0777), 0, "%s", path);
	cr_assert_eq(mkdir(strcat(path, "/deeper"), 0777), 0, "%s", path);
	OK(ai_store_list(st, N(p, "e/"), "/", NULL, 0, &l));
	cr_assert_eq(l.n, 0);
	cr_assert_eq(l.nprefixes, 1);
	cr_assert_str_eq(l.prefixes[0], N(a, "e/full/"));
	ai_blob_list_release(&l);
	OK(ai_store_list(st, N(p, "e/"), NULL, NULL, 0, &l));
	cr_assert_eq(l.n, 1);
	ai_blob_list_release(&l);
}

Test(store, local_a_name_cannot_be_both_a_blob_and_a_directory)
{
	char a[512], b[512];

	local_root();
	put_str(N(a, "both"), "blob", 0);
	FAILS(AI_ERR_CONFLICT, ai_store_put(st, N(b, "both/child"), "x", 1, 0, NULL, NULL));
	expect_content(a, "blob");
}
