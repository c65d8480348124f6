/* test_run.c: the archive pipeline from a local (file://) export into a
 * local archive, with the run's "now" and clock fixed: a first run archives
 * every blob, a second one nothing, the watermark and lookback decide what
 * is listed again, filters and windows, dry runs write nothing, appended
 * ranges of diagnostic-settings blobs, and a blob that cannot be read is
 * left out, reported, and archived by the next run. Results are checked
 * with zlib and the segments, not through the run's own summary alone. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "cmd/options.h"
#include "engine/archive.h"
#include "engine/gc.h"
#include "engine/identity.h"
#include "engine/lock.h"
#include "engine/run.h"
#include "format/manifest.h"
#include "format/minisign.h"
#include "format/state.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/parse.h"
/* Only for the fault-injecting source below: a store that forwards to
 * another and fails reads of one blob, as a service would. */
#include "store/backend.h"
#include "engine/trust.h"

#define S(x) ((char[]){ x })
#define SEC AI_NS_PER_SEC
#define H (INT64_C(3600) * SEC)
#define T0 (INT64_C(1714521600) * SEC) /* 2024-05-01T00:00:00Z */
/* 12:30: with the default 15 minutes' grace the hours up to 11:00 are
 * closed, 12:00 is not; the watermark can reach 12:00. */
#define NOW (T0 + 12 * H + 30 * 60 * SEC)
#define APP_SHOP "shop_0123456789abcdef0123456789abcdef"
#define APP_WEB "web_fedcba9876543210fedcba9876543210"
#define DS_RES "insights-logs-apprequests/resourceId=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/" \
               "PROVIDERS/MICROSOFT.INSIGHTS/COMPONENTS/SHOP/"

static char tmpdir[256];
static struct ai_store *src, *dst;
static struct ai_signing_key key;
static struct ai_options o;
static ai_time clock_now = NOW;

#define OK(call) \
	do { \
		ai_result r_ = (call); \
		cr_assert_eq(r_, AI_OK, "%s: %s (%s)", #call, ai_strerror(r_), \
		             ai_store_last_error()); \
	} while (0)

static ai_time test_clock(void)
{
	return clock_now;
}

static void open_store(const char *leaf, struct ai_store **s)
{
	struct ai_store_config cfg = { 0 };
	char url[512];

	snprintf(url, sizeof url, "file://%s/%s", tmpdir, leaf);
	cfg.url = url;
	cfg.now = test_clock;
	OK(ai_store_open(s, &cfg));
}

static void setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/aiarchive-test-run-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
	open_store("src", &src);
	OK(ai_store_create_container(src));
	open_store("dst", &dst);
	OK(ai_signing_key_generate(&key));
	{
		/* as `aiarchive init` does, once */
		struct ai_init_report rep;
		OK(ai_identity_create(dst, &key, T0, &rep));
	}
	ai_options_init(&o);
	o.jobs = 2;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	ai_store_free(src);
	ai_store_free(dst);
	src = dst = NULL;
	ai_signing_key_release(&key);
	/* the filters point at string literals: not the struct's to free */
	o.napps = o.ntypes = o.ntags = 0;
	ai_options_release(&o);
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

TestSuite(run, .init = setup, .fini = teardown, .timeout = 60);

/* ---- the source ---- */

static const char *row(char *out, size_t cap, int hour, int n)
{
	snprintf(out, cap,
	         "{\"context\":{\"data\":{\"eventTime\":\"2024-05-01T%02d:%02d:00.1234567Z\"},"
	         "\"operation\":{\"id\":\"op-%d-%d\"},\"device\":{\"roleName\":\"web\"}}}\n",
	         hour, n % 60, hour, n);
	return out;
}

/* A continuous-export blob of rows rows (and one bad row with bad). */
static void put_ce(const char *app, const char *type, int hour, const char *leaf, int rows,
                   int bad)
{
	char name[1024], r[512];
	struct ai_buf b;

	ai_buf_init(&b, 1 << 20);
	for (int i = 0; i < rows; i++)
		OK(ai_buf_addstr(&b, row(r, sizeof r, hour, i)));
	if (bad)
		OK(ai_buf_addstr(&b, "not json\n"));
	snprintf(name, sizeof name, "%s/%s/2024-05-01/%02d/%s", app, type, hour, leaf);
	OK(ai_store_put(src, name, b.data, b.len, 0, NULL, NULL));
	ai_buf_release(&b);
}

#define BLOB_A APP_SHOP "/Requests/2024-05-01/10/a.blob"
#define BLOB_B APP_SHOP "/Requests/2024-05-01/11/b.blob"
#define BLOB_C APP_SHOP "/Exceptions/2024-05-01/11/c.blob"
#define BLOB_D APP_WEB "/Requests/2024-05-01/10/d.blob"

/* Four blobs in four partitions (app, type, hour): 9 rows, 1 bad. */
static void put_export(void)
{
	put_ce(APP_SHOP, "Requests", 10, "a.blob", 2, 0);
	put_ce(APP_SHOP, "Requests", 11, "b.blob", 2, 1);
	put_ce(APP_SHOP, "Exceptions", 11, "c.blob", 1, 0);
	put_ce(APP_WEB, "Requests", 10, "d.blob", 3, 0);
}

/* ---- running ---- */

static ai_result run_with(struct ai_store *from, ai_time now, FILE *dry, size_t seg_members,
                          struct ai_run_summary *sum)
{
	char run_id[64];
	struct ai_run_params p = {
		.run_id = run_id,
		.o = &o,
		.src = from,
		.dest = dst,
		.key = dry ? NULL : &key,
		.now = now,
		.clock = test_clock,
		.dry_out = dry,
		.segment_members = seg_members,
	};

	clock_now = now;
	ai_run_make_id(now, run_id, sizeof run_id);
	if (!dry)
		OK(ai_store_create_container(dst)); /* as `aiarchive run` does */
	return ai_run(&p, sum);
}

static ai_result run_at(ai_time now, struct ai_run_summary *sum)
{
	return run_with(src, now, NULL, 0, sum);
}

static int unset(ai_time t)
{
	return t == 0 || t == AI_TIME_MIN;
}

/* ---- reading the archive back ---- */

/* Every blob name under prefix in st, in a malloc'd array. */
static char **names_under(struct ai_store *st, const char *prefix, size_t *n)
{
	char **v = NULL, *marker = NULL;

	*n = 0;
	do {
		struct ai_blob_list l;
		ai_result r = ai_store_list(st, prefix, NULL, marker, 0, &l);
		free(marker);
		marker = NULL;
		if (r == AI_ERR_NOT_FOUND)
			break; /* no archive directory at all */
		cr_assert_eq(r, AI_OK, "list: %s", ai_store_last_error());
		v = realloc(v, (*n + l.n + 1) * sizeof *v);
		cr_assert_not_null(v);
		for (size_t i = 0; i < l.n; i++)
			v[(*n)++] = strdup(l.blobs[i].name);
		if (l.next_marker)
			marker = strdup(l.next_marker);
		ai_blob_list_release(&l);
	} while (marker);
	return v;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static size_t count_under(struct ai_store *st, const char *prefix)
{
	size_t n;
	char **v = names_under(st, prefix, &n);

	free_names(v, n);
	return n;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void read_blob(struct ai_store *st, const char *name, struct ai_buf *out)
{
	ai_buf_init(out, 1 << 24);
	OK(ai_store_read(st, name, 0, 0, NULL, out, NULL));
}

/* Inflates a stream of gzip members with zlib, appending to out. */
static void gunzip_all(const struct ai_buf *gz, struct ai_buf *out)
{
	z_stream zs;
	char chunk[16384];
	int rc;

	memset(&zs, 0, sizeof zs);
	cr_assert_eq(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	zs.next_in = (Bytef *)gz->data;
	zs.avail_in = (uInt)gz->len;
	while (zs.avail_in) {
		zs.next_out = (Bytef *)chunk;
		zs.avail_out = sizeof chunk;
		rc = inflate(&zs, Z_NO_FLUSH);
		cr_assert(rc == Z_OK || rc == Z_STREAM_END, "inflate: %d", rc);
		OK(ai_buf_add(out, chunk, sizeof chunk - zs.avail_out));
		if (rc == Z_STREAM_END)
			cr_assert_eq(inflateReset(&zs), Z_OK); /* the next member */
	}
	do { /* output still held by zlib */
		zs.next_out = (Bytef *)chunk;
		zs.avail_out = sizeof chunk;
		rc = inflate(&zs, Z_NO_FLUSH);
		OK(ai_buf_add(out, chunk, sizeof chunk - zs.avail_out));
	} while (rc == Z_OK && zs.avail_out == 0);
	inflateEnd(&zs);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text, sorted and joined again. */
static char *sorted_lines(char *text)
{
	char **v = NULL, *save = NULL;
	size_t n = 0;
	struct ai_buf out;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		v = realloc(v, (n + 1) * sizeof *v);
		cr_assert_not_null(v);
		v[n++] = l;
	}
	if (n)
		qsort(v, n, sizeof *v, cmp_line);
	ai_buf_init(&out, 1 << 24);
	for (size_t i = 0; i < n; i++)
		OK(ai_buf_printf(&out, "%s\n", v[i]));
	free(v);
	return ai_buf_detach(&out, NULL);
}

/* Every line of every pack (decompressed by zlib), sorted. */
static char *archived_lines(void)
{
	struct ai_buf all;
	size_t n;
	char **v = names_under(dst, "data/", &n), *sorted;

	ai_buf_init(&all, 1 << 24);
	for (size_t i = 0; i < n; i++) {
		struct ai_buf gz;
		if (!ends_with(v[i], ".jsonl.gz"))
			continue;
		read_blob(dst, v[i], &gz);
		gunzip_all(&gz, &all);
		ai_buf_release(&gz);
	}
	free_names(v, n);
	sorted = sorted_lines(all.data ? all.data : S(""));
	ai_buf_release(&all);
	return sorted;
}

/* Every line of the source blobs named, sorted. */
static char *source_lines(const char *const *names, size_t n)
{
	struct ai_buf all;
	char *sorted;

	ai_buf_init(&all, 1 << 24);
	for (size_t i = 0; i < n; i++) {
		struct ai_buf b;
		read_blob(src, names[i], &b);
		OK(ai_buf_add(&all, b.data ? b.data : "", b.len));
		if (b.len && b.data[b.len - 1] != '\n')
			OK(ai_buf_addc(&all, '\n'));
		ai_buf_release(&b);
	}
	sorted = sorted_lines(all.data ? all.data : S(""));
	ai_buf_release(&all);
	return sorted;
}

static void expect_archived(const char *const *names, size_t n)
{
	char *want = source_lines(names, n), *got = archived_lines();

	cr_assert_str_eq(got, want, "the packs hold every source line exactly once");
	free(want);
	free(got);
}

static void read_segment(uint64_t seq, struct ai_segment *seg)
{
	ai_segment_init(seg);
	OK(ai_archive_read_segment(dst, seq, seg, NULL, NULL));
}

static const struct ai_member *find_member(const struct ai_segment *seg, const char *blob)
{
	for (size_t i = 0; i < seg->nmembers; i++)
		if (strcmp(seg->members[i].blob, blob) == 0)
			return &seg->members[i];
	return NULL;
}

/* The member recording blob; the test fails when there is none. */
static const struct ai_member *member_of(const struct ai_segment *seg, const char *blob)
{
	const struct ai_member *m = find_member(seg, blob);

	if (!m) {
		cr_assert_fail("'%s' is not recorded", blob);
		abort();
	}
	return m;
}

static int segment_exists(uint64_t seq)
{
	char name[128];
	struct ai_blob_info info;
	ai_result r;

	ai_archive_segment_name(seq, name, sizeof name);
	r = ai_store_props(dst, name, &info, NULL);
	if (r == AI_OK)
		ai_blob_info_release(&info);
	return r == AI_OK;
}

static ai_time state_watermark(void)
{
	struct ai_archive a;
	struct ai_trust trust;
	ai_time w;

	ai_trust_init(&trust);
	OK(ai_archive_open(&a, dst, &trust, 0));
	ai_trust_release(&trust);
	w = a.state.watermark;
	ai_archive_release(&a);
	return w;
}

/* ---- first and second runs ---- */

static const char *const all_blobs[] = { BLOB_A, BLOB_B, BLOB_C, BLOB_D };

Test(run, a_first_run_archives_every_blob)
{
	struct ai_run_summary sum;

	put_export();
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 4);
	cr_assert_eq(sum.rows, 9);
	cr_assert_eq(sum.bad_rows, 1);
	cr_assert_eq(sum.failed, 0);
	cr_assert_eq(sum.pending, 0);
	cr_assert_eq(sum.segments, 1);
	cr_assert_eq(sum.segment, 0);
	cr_assert_eq(sum.segment_first, 0);
	cr_assert_eq(sum.packs, 4, "one pack per app, type and hour");
	cr_assert_eq(sum.layout, AI_LAYOUT_CONTINUOUS, "detected");
	cr_assert_gt(sum.bytes_in, 0);
	cr_assert_gt(sum.bytes_out, 0);
	cr_assert(segment_exists(0));
	expect_archived(all_blobs, 4);
}

Test(run, the_segment_records_each_blob_with_its_range_partition_and_pack)
{
	struct ai_run_summary sum;
	struct ai_segment seg;
	struct ai_blob_info info;

	put_export();
	OK(run_at(NOW, &sum));
	read_segment(0, &seg);
	cr_assert_eq(seg.nmembers, 4);
	cr_assert_eq(seg.npacks, 4);
	cr_assert_str_eq(seg.layout, "continuous-export");
	cr_assert_str_eq(seg.run_id, sum.run_id);
	for (size_t i = 0; i < 4; i++) {
		const struct ai_member *m = member_of(&seg, all_blobs[i]);
		OK(ai_store_props(src, all_blobs[i], &info, NULL));
		cr_assert_eq(m->range_start, 0);
		cr_assert_eq(m->range_end, info.size);
		cr_assert_str_eq(m->etag, info.etag);
		cr_assert_lt(m->pack, seg.npacks);
		cr_assert_leq(m->offset + m->length, seg.packs[m->pack].size);
		cr_assert(strncmp(seg.packs[m->pack].name, "data/", 5) == 0);
		ai_blob_info_release(&info);
	}
	cr_assert_str_eq(member_of(&seg, BLOB_B)->app, "shop");
	cr_assert_str_eq(member_of(&seg, BLOB_B)->type, "Requests");
	cr_assert_eq(member_of(&seg, BLOB_B)->delivery_hour, T0 + 11 * H);
	cr_assert_eq(member_of(&seg, BLOB_B)->bad_rows, 1);
	cr_assert_eq(member_of(&seg, BLOB_D)->rows, 3);
	cr_assert_eq(member_of(&seg, BLOB_D)->min_event, T0 + 10 * H + 123456700);
	{
		const char *pack = seg.packs[member_of(&seg, BLOB_D)->pack].name;
		char want[128];
		snprintf(want, sizeof want, "data/web/Requests/2024-05-01/10/%s-", sum.run_id);
		cr_assert(strncmp(pack, want, strlen(want)) == 0 && ends_with(pack, ".jsonl.gz"),
		          "pack '%s' is named by partition and run", pack);
	}
	ai_segment_release(&seg);
}

Test(run, every_pack_and_manifest_object_is_signed_by_the_run_key)
{
	struct ai_run_summary sum;
	struct ai_minisign_pubkey pk;
	char keyid[AI_MINISIGN_KEYID_HEXLEN], pubname[64];
	const char *prefixes[] = { "data/", "manifest/" };
	size_t checked = 0;

	put_export();
	OK(run_at(NOW, &sum));
	ai_signing_key_pubkey(&key, &pk);
	ai_minisign_keyid_hex(pk.keyid, keyid);
	snprintf(pubname, sizeof pubname, "keys/%s.pub", keyid);
	cr_assert_eq(count_under(dst, pubname), 1, "the public key is published");
	for (size_t p = 0; p < 2; p++) {
		size_t n;
		char **v = names_under(dst, prefixes[p], &n);
		for (size_t i = 0; i < n; i++) {
			struct ai_buf data, sig;
			char sig_name[1100];
			const char *why = NULL;
			if (ends_with(v[i], ".minisig"))
				continue;
			snprintf(sig_name, sizeof sig_name, "%s.minisig", v[i]);
			read_blob(dst, v[i], &data);
			read_blob(dst, sig_name, &sig);
			cr_assert_eq(ai_minisign_verify(&pk, data.data ? data.data : "", data.len,
			                                sig.data, sig.len, NULL, 0, &why),
			             AI_OK, "%s: %s", v[i], why ? why : "");
			ai_buf_release(&data);
			ai_buf_release(&sig);
			checked++;
		}
		free_names(v, n);
	}
	cr_assert_geq(checked, 6, "4 packs, a segment and the state at least");
}

Test(run, a_second_run_archives_nothing_and_writes_no_segment)
{
	struct ai_run_summary sum;
	size_t objects;

	put_export();
	OK(run_at(NOW, &sum));
	objects = count_under(dst, "data/");
	OK(run_at(NOW + 10 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 0);
	cr_assert_eq(sum.failed, 0);
	cr_assert_eq(sum.segment, -1);
	cr_assert_eq(sum.segments, 0);
	cr_assert_eq(sum.packs, 0);
	cr_assert_not(segment_exists(1));
	cr_assert_eq(count_under(dst, "data/"), objects, "no new pack");
	expect_archived(all_blobs, 4);
}

Test(run, a_blob_delivered_after_a_run_is_archived_alone_by_the_next)
{
	struct ai_run_summary sum;
	struct ai_segment seg;
	static const char *const now_all[] = {
		BLOB_A, BLOB_B, BLOB_C, BLOB_D, APP_SHOP "/Requests/2024-05-01/12/late.blob",
	};

	put_export();
	OK(run_at(NOW, &sum));
	put_ce(APP_SHOP, "Requests", 12, "late.blob", 4, 0);
	OK(run_at(NOW + 10 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 1);
	cr_assert_eq(sum.rows, 4);
	cr_assert_eq(sum.segment, 1);
	read_segment(1, &seg);
	cr_assert_eq(seg.nmembers, 1);
	cr_assert_str_eq(seg.members[0].blob, now_all[4]);
	cr_assert(memcmp(seg.prev, (uint8_t[AI_SHA256_LEN]){ 0 }, AI_SHA256_LEN) != 0,
	          "segment 1 is chained to segment 0");
	ai_segment_release(&seg);
	expect_archived(now_all, 5);
}

/* ---- watermark and window ---- */

Test(run, the_watermark_moves_to_the_end_of_the_last_closed_hour)
{
	struct ai_run_summary sum;

	put_export();
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.watermark, T0 + 12 * H, "12:30 - 15m grace: hours before 12:00 are closed");
	cr_assert_eq(state_watermark(), T0 + 12 * H, "and saved in the state");
	cr_assert_eq(sum.window_to, T0 + 13 * H, "the current hour is listed too");
	OK(run_at(T0 + 15 * H + 20 * 60 * SEC, &sum));
	cr_assert_eq(sum.watermark, T0 + 15 * H);
	cr_assert_eq(sum.window_from, T0 + 11 * H, "the watermark minus 1 h of lookback");
	cr_assert_eq(sum.window_to, T0 + 16 * H);
}

Test(run, a_run_after_the_first_lists_only_from_the_watermark_minus_the_lookback)
{
	struct ai_run_summary sum;
	struct ai_segment seg;
	static const char *const want[] = {
		BLOB_A, BLOB_B, BLOB_C, BLOB_D, APP_SHOP "/Requests/2024-05-01/11/late.blob",
	};

	put_export();
	OK(run_at(NOW, &sum));
	/* late deliveries into old folders: 11:00 is within the lookback of
	 * the 12:00 watermark, 09:00 is not and is not listed again */
	put_ce(APP_SHOP, "Requests", 11, "late.blob", 1, 0);
	put_ce(APP_SHOP, "Requests", 9, "too-late.blob", 1, 0);
	OK(run_at(NOW + 5 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 1);
	read_segment(1, &seg);
	cr_assert_str_eq(seg.members[0].blob, want[4]);
	ai_segment_release(&seg);
	expect_archived(want, 5);
}

Test(run, a_run_with_from_and_to_archives_that_window_and_leaves_the_watermark)
{
	struct ai_run_summary sum;
	static const char *const want[] = { BLOB_B, BLOB_C };

	put_export();
	o.has_from = o.has_to = 1;
	o.from = T0 + 11 * H;
	o.to = T0 + 12 * H;
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 2);
	cr_assert_eq(sum.window_from, T0 + 11 * H);
	cr_assert_eq(sum.window_to, T0 + 12 * H);
	expect_archived(want, 2);
	cr_assert(unset(sum.watermark), "a window that does not join the archived past");
	o.has_from = o.has_to = 0;
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 2, "the rest, not the window again");
	cr_assert_eq(sum.watermark, T0 + 12 * H);
	expect_archived(all_blobs, 4);
}

/* ---- filters ---- */

Test(run, an_app_filter_archives_only_that_app_and_leaves_the_watermark)
{
	struct ai_run_summary sum;
	struct ai_segment seg;
	char *apps[] = { S("WEB") };
	static const char *const want[] = { BLOB_D };

	put_export();
	o.apps[0] = apps[0];
	o.napps = 1;
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 1);
	read_segment(0, &seg);
	cr_assert_str_eq(seg.members[0].blob, BLOB_D);
	ai_segment_release(&seg);
	expect_archived(want, 1);
	cr_assert(unset(sum.watermark), "a filtered run did not look at everything");
	o.napps = 0;
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 3);
	expect_archived(all_blobs, 4);
}

Test(run, a_type_filter_archives_only_that_type)
{
	struct ai_run_summary sum;
	char *types[] = { S("exceptions") };
	static const char *const want[] = { BLOB_C };

	put_export();
	o.types[0] = types[0];
	o.ntypes = 1;
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 1);
	expect_archived(want, 1);
	cr_assert(unset(state_watermark()));
}

Test(run, tags_are_recorded_in_the_segment)
{
	struct ai_run_summary sum;
	struct ai_segment seg;
	char *tags[] = { S("INC-4711"), S("replay") };

	put_export();
	o.tags[0] = tags[0];
	o.tags[1] = tags[1];
	o.ntags = 2;
	OK(run_at(NOW, &sum));
	read_segment(0, &seg);
	cr_assert_eq(seg.ntags, 2);
	cr_assert_str_eq(seg.tags[0], "INC-4711");
	cr_assert_str_eq(seg.tags[1], "replay");
	ai_segment_release(&seg);
}

/* ---- dry run ---- */

static char *dry_run(ai_time now, struct ai_run_summary *sum)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	o.dry_run = 1;
	OK(run_with(src, now, f, 0, sum));
	o.dry_run = 0;
	fclose(f);
	return text;
}

Test(run, a_dry_run_lists_what_it_would_archive_and_writes_nothing)
{
	struct ai_run_summary sum;
	size_t before;
	char *out;

	put_export();
	before = count_under(dst, "");
	out = dry_run(NOW, &sum);
	cr_assert_eq(sum.blobs, 4);
	cr_assert_gt(sum.bytes_in, 0);
	cr_assert(strstr(out, BLOB_A "\tbytes 0-"), "%s", out);
	cr_assert(strstr(out, "\t-> data/web/Requests/2024-05-01/10/\n"), "%s", out);
	cr_assert(strstr(out, BLOB_C));
	cr_assert_eq(count_under(dst, ""), before, "nothing written beyond what init wrote");
	free(out);
}

/* ai_run_locked, as `aiarchive run` calls it, into dest with key (and a
 * rotation from old). */
static ai_result run_locked_into(struct ai_store *dest, const struct ai_signing_key *k,
                                 const struct ai_signing_key *old, struct ai_run_summary *sum)
{
	char run_id[64];
	struct ai_run_params p = {
		.run_id = run_id,
		.o = &o,
		.src = src,
		.dest = dest,
		.key = k,
		.old_key = old,
		.now = NOW,
		.clock = test_clock,
		.dry_out = o.dry_run ? stdout : NULL,
	};

	clock_now = NOW;
	ai_run_make_id(NOW, run_id, sizeof run_id);
	return ai_run_locked(&p, sum);
}

Test(run, a_destination_init_has_not_made_an_archive_is_refused_and_gets_nothing)
{
	struct ai_run_summary sum;
	struct ai_store *fresh;
	struct stat sb;
	char path[600];

	put_export();
	open_store("fresh", &fresh);
	cr_assert_eq(run_locked_into(fresh, &key, NULL, &sum), AI_ERR_CONFIG, "exit 2");
	o.dry_run = 1;
	cr_assert_eq(run_locked_into(fresh, NULL, NULL, &sum), AI_ERR_CONFIG, "a dry run too");
	o.dry_run = 0;
	ai_store_free(fresh);
	snprintf(path, sizeof path, "%s/fresh", tmpdir);
	cr_assert_neq(stat(path, &sb), 0, "not even the archive directory is made");
}

Test(run, another_key_than_the_archives_is_refused_before_anything_is_written)
{
	struct ai_run_summary sum;
	struct ai_signing_key other;
	size_t before;

	put_export();
	OK(ai_signing_key_generate(&other));
	before = count_under(dst, "");
	cr_assert_eq(run_locked_into(dst, &other, NULL, &sum), AI_ERR_VERIFY, "exit 4");
	cr_assert_eq(count_under(dst, ""), before, "no lock, no key, nothing");
	ai_signing_key_release(&other);
}

Test(run, a_dry_run_checks_the_key_and_takes_and_releases_the_lock)
{
	struct ai_run_summary sum;
	struct ai_signing_key other;
	struct ai_lock *lock = NULL;

	put_export();
	OK(ai_signing_key_generate(&other));
	o.dry_run = 1;
	cr_assert_eq(run_locked_into(dst, &other, NULL, &sum), AI_ERR_VERIFY,
	             "a foreign key fails a dry run as it fails a run: exit 4");
	OK(run_locked_into(dst, &key, NULL, &sum));
	cr_assert_eq(sum.blobs, 4);
	o.dry_run = 0;
	OK(ai_lock_acquire(dst, 15, 0, "next", &lock));
	ai_lock_release(lock);
	ai_signing_key_release(&other);
}

Test(run, a_rotated_key_signs_the_next_runs_and_the_old_segments_stay_trusted)
{
	struct ai_run_summary sum;
	struct ai_signing_key next;
	struct ai_segment seg;
	char hex[AI_MINISIGN_KEYID_HEXLEN];
	struct ai_minisign_pubkey pk;

	put_ce(APP_SHOP, "Requests", 10, "a.blob", 2, 0);
	OK(run_locked_into(dst, &key, NULL, &sum));
	cr_assert_eq(sum.blobs, 1);
	OK(ai_signing_key_generate(&next));
	cr_assert_eq(run_locked_into(dst, &next, NULL, &sum), AI_ERR_VERIFY, "not without rotating");
	put_ce(APP_SHOP, "Requests", 11, "b.blob", 2, 0);
	OK(run_locked_into(dst, &next, &key, &sum));
	cr_assert_eq(sum.rotation, 1);
	cr_assert_eq(sum.blobs, 1, "the run goes on with the new key");
	ai_signing_key_pubkey(&next, &pk);
	ai_minisign_keyid_hex(pk.keyid, hex);
	cr_assert_str_eq(sum.key_id, hex);
	read_segment(1, &seg);
	cr_assert_str_eq(seg.key_id, hex, "the new segment is signed by the new key");
	ai_segment_release(&seg);
	OK(run_locked_into(dst, &next, &key, &sum));
	cr_assert_eq(sum.rotation, 0, "a repeated rotation is not made twice");
	cr_assert_eq(run_locked_into(dst, &key, NULL, &sum), AI_ERR_VERIFY, "the old key is done");
	put_ce(APP_SHOP, "Requests", 11, "c.blob", 1, 0);
	OK(run_locked_into(dst, &next, NULL, &sum));
	cr_assert_eq(sum.blobs, 1, "it reads the segments both keys signed");
	ai_signing_key_release(&next);
}

Test(run, a_dry_run_after_a_run_lists_only_what_is_new)
{
	struct ai_run_summary sum;
	size_t before, after;
	char *out;

	put_export();
	OK(run_at(NOW, &sum));
	put_ce(APP_SHOP, "Requests", 12, "late.blob", 1, 0);
	before = count_under(dst, "");
	out = dry_run(NOW, &sum);
	after = count_under(dst, "");
	cr_assert_eq(sum.blobs, 1);
	cr_assert(strstr(out, "/12/late.blob\t"), "%s", out);
	cr_assert_null(strstr(out, "a.blob"));
	cr_assert_eq(after, before, "nothing written");
	cr_assert_eq(sum.watermark, T0 + 12 * H, "the archived watermark is reported");
	free(out);
}

/* ---- a blob that cannot be read ---- */

struct fault_store {
	struct ai_store base;
	struct ai_store *inner;
	const char *fail;          /* reads of this blob fail */
};

#define INNER(s) (((struct fault_store *)(s))->inner)

static ai_result f_list(struct ai_store *s, const char *prefix, const char *delim,
                        const char *marker, unsigned max, struct ai_blob_list *out)
{
	return ai_store_list(INNER(s), prefix, delim, marker, max, out);
}

static ai_result f_read(struct ai_store *s, const char *name, uint64_t offset, uint64_t len,
                        const char *if_match, struct ai_buf *out, struct ai_blob_info *info)
{
	if (strcmp(name, ((struct fault_store *)s)->fail) == 0) {
		ai_store_set_error("blob '%s': 503 ServerBusy", name);
		return AI_ERR_UNAVAILABLE;
	}
	return ai_store_read(INNER(s), name, offset, len, if_match, out, info);
}

static ai_result f_props(struct ai_store *s, const char *name, struct ai_blob_info *info,
                         struct ai_meta *meta)
{
	return ai_store_props(INNER(s), name, info, meta);
}

static ai_result f_refuse(void)
{
	ai_store_set_error("the test source is read-only");
	return AI_ERR_INTERNAL;
}

static ai_result f_put(struct ai_store *s, const char *name, const void *p, size_t n,
                       unsigned flags, const char *if_match, const struct ai_meta *meta,
                       char etag_out[AI_ETAG_MAX])
{
	(void)s, (void)name, (void)p, (void)n, (void)flags, (void)if_match, (void)meta,
		(void)etag_out;
	return f_refuse();
}

static ai_result f_put_block(struct ai_store *s, const char *name, const char *id,
                             const void *p, size_t n)
{
	(void)s, (void)name, (void)id, (void)p, (void)n;
	return f_refuse();
}

static ai_result f_put_block_list(struct ai_store *s, const char *name, const char *const *ids,
                                  size_t n, unsigned flags, const struct ai_meta *meta,
                                  char etag_out[AI_ETAG_MAX])
{
	(void)s, (void)name, (void)ids, (void)n, (void)flags, (void)meta, (void)etag_out;
	return f_refuse();
}

static ai_result f_append(struct ai_store *s, const char *name, const void *p, size_t n,
                          uint64_t pos)
{
	(void)s, (void)name, (void)p, (void)n, (void)pos;
	return f_refuse();
}

static ai_result f_lease(struct ai_store *s, const char *name, enum ai_lease_action action,
                         int duration_s, char lease_id[AI_LEASE_ID_MAX])
{
	(void)s, (void)name, (void)action, (void)duration_s, (void)lease_id;
	return f_refuse();
}

static ai_result f_set_metadata(struct ai_store *s, const char *name, const struct ai_meta *meta,
                                const char *lease_id)
{
	(void)s, (void)name, (void)meta, (void)lease_id;
	return f_refuse();
}

static ai_result f_del(struct ai_store *s, const char *name)
{
	(void)s, (void)name;
	return f_refuse();
}

static ai_result f_create_container(struct ai_store *s)
{
	(void)s;
	return f_refuse();
}

static ai_result f_account_info(struct ai_store *s, char sku[64], char kind[64])
{
	return ai_store_account_info(INNER(s), sku, kind);
}

static ai_result f_service_stats(struct ai_store *s, char status[16], ai_time *last_sync)
{
	return ai_store_service_stats(INNER(s), status, last_sync);
}

static void f_free(struct ai_store *s)
{
	free(s->described);
	free(s);
}

static const struct ai_store_ops fault_ops = {
	.name = "fault",
	.list = f_list,
	.read = f_read,
	.put = f_put,
	.put_block = f_put_block,
	.put_block_list = f_put_block_list,
	.append = f_append,
	.lease = f_lease,
	.props = f_props,
	.set_metadata = f_set_metadata,
	.del = f_del,
	.create_container = f_create_container,
	.account_info = f_account_info,
	.service_stats = f_service_stats,
	.cleanup = NULL,
	.free = f_free,
};

/* src, except that reading blob fails. Free with ai_store_free. */
static struct ai_store *failing_reads_of(const char *blob)
{
	struct fault_store *f = calloc(1, sizeof *f);

	cr_assert_not_null(f);
	f->base.ops = &fault_ops;
	f->base.described = strdup(ai_store_describe(src));
	f->base.now = test_clock;
	f->inner = src;
	f->fail = blob;
	return &f->base;
}

/* Runs with stderr going to a file; err gets what was printed. */
static ai_result run_capturing(struct ai_store *from, struct ai_run_summary *sum, char *err,
                               size_t cap)
{
	char path[300];
	int fd, saved;
	ssize_t n;
	ai_result r;

	snprintf(path, sizeof path, "%s/stderr", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	r = run_with(from, NOW, NULL, 0, sum);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, err, cap - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	return r;
}

static void read_state(struct ai_state *st);

Test(run, a_blob_that_fails_is_left_out_reported_and_archived_by_the_next_run)
{
	struct ai_run_summary sum;
	struct ai_segment seg;
	struct ai_store *faulty = failing_reads_of(BLOB_B);
	char err[4096];
	static const char *const got_first[] = { BLOB_A, BLOB_C, BLOB_D };

	put_export();
	cr_assert_eq(run_capturing(faulty, &sum, err, sizeof err), AI_ERR_PARTIAL);
	ai_store_free(faulty);
	cr_assert_eq(sum.failed, 1);
	cr_assert_eq(sum.blobs, 3);
	cr_assert(strstr(err, "blob '" BLOB_B "'"), "the failure names the blob: %s", err);
	cr_assert(strstr(err, "503 ServerBusy"), "and says why: %s", err);
	cr_assert(strstr(err, "left for the next run"), "%s", err);
	read_segment(0, &seg);
	cr_assert_eq(seg.nmembers, 3);
	cr_assert_null(find_member(&seg, BLOB_B), "a failed blob is not recorded");
	ai_segment_release(&seg);
	expect_archived(got_first, 3);
	cr_assert_eq(sum.watermark, T0 + 12 * H, "a failed blob does not hold the listing");
	{
		struct ai_state st;
		const struct ai_partition_state *ps;
		read_state(&st);
		ps = ai_state_find_part(&st, "shop", "Requests");
		cr_assert_not_null(ps);
		cr_assert_eq(ps->archived_through, T0 + 11 * H, "but its part's recovery point");
		cr_assert_eq(ps->failed, 1);
		cr_assert_eq(ps->failed_oldest, T0 + 11 * H);
		ps = ai_state_find_part(&st, "shop", "Exceptions");
		cr_assert_eq(ps->archived_through, T0 + 12 * H, "other parts reach the closed hours");
		cr_assert_eq(ps->failed, 0);
		cr_assert_eq(st.last_run_exit, 1, "partial");
		ai_state_release(&st);
	}
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 1);
	read_segment(1, &seg);
	cr_assert_eq(seg.nmembers, 1);
	cr_assert_str_eq(seg.members[0].blob, BLOB_B);
	ai_segment_release(&seg);
	cr_assert_eq(sum.watermark, T0 + 12 * H);
	expect_archived(all_blobs, 4);
	{
		struct ai_state st;
		const struct ai_partition_state *ps;
		read_state(&st);
		ps = ai_state_find_part(&st, "shop", "Requests");
		cr_assert_eq(ps->archived_through, T0 + 12 * H, "the next run moves it");
		cr_assert_eq(ps->failed, 0);
		cr_assert_eq(ps->failed_oldest, 0);
		cr_assert_eq(st.last_run_exit, 0);
		ai_state_release(&st);
	}
}

Test(run, a_failed_blob_is_tried_again_beyond_the_lookback)
{
	struct ai_run_summary sum;
	struct ai_store *faulty = failing_reads_of(BLOB_B);
	char err[4096];
	struct ai_state st;

	put_export();
	o.lookback = 0;
	cr_assert_eq(run_capturing(faulty, &sum, err, sizeof err), AI_ERR_PARTIAL);
	ai_store_free(faulty);
	/* Three hours on, the lookback alone would list from 12:00. */
	OK(run_at(NOW + 3 * H, &sum));
	cr_assert_eq(sum.window_from, T0 + 11 * H, "the window reaches the failed hour");
	cr_assert_eq(sum.blobs, 1);
	expect_archived(all_blobs, 4);
	read_state(&st);
	cr_assert_eq(ai_state_find_part(&st, "shop", "Requests")->archived_through, T0 + 15 * H);
	cr_assert_eq(ai_state_find_part(&st, "shop", "Requests")->failed, 0);
	ai_state_release(&st);
}

Test(run, an_open_hour_never_counts_as_archived)
{
	struct ai_run_summary sum;
	struct ai_state st;
	const struct ai_partition_state *ps;

	put_export();
	/* 11:30: hour 11 is open (15 minutes' grace), yet its blobs are read. */
	OK(run_at(T0 + 11 * H + 30 * 60 * SEC, &sum));
	expect_archived(all_blobs, 4);
	read_state(&st);
	ps = ai_state_find_part(&st, "shop", "Requests");
	cr_assert_eq(ps->archived_through, T0 + 11 * H, "not past the closed hours");
	cr_assert_eq(ps->failed + ps->pending, 0);
	cr_assert_gt(ps->newest_blob, 0, "the newest source blob is recorded");
	ai_state_release(&st);
	OK(run_at(NOW, &sum));
	read_state(&st);
	cr_assert_eq(ai_state_find_part(&st, "shop", "Requests")->archived_through, T0 + 12 * H);
	ai_state_release(&st);
}

Test(run, when_every_blob_fails_the_result_says_why)
{
	struct ai_run_summary sum;
	struct ai_store *faulty = failing_reads_of(BLOB_A);
	char err[4096];

	put_ce(APP_SHOP, "Requests", 10, "a.blob", 2, 0);
	cr_assert_eq(run_capturing(faulty, &sum, err, sizeof err), AI_ERR_UNAVAILABLE,
	             "a transient failure, not just partial");
	ai_store_free(faulty);
	cr_assert_eq(sum.blobs, 0);
	cr_assert_eq(sum.failed, 1);
	cr_assert_not(segment_exists(0));
}

/* ---- segments ---- */

Test(run, a_large_run_commits_a_segment_every_segment_members)
{
	struct ai_run_summary sum;
	struct ai_segment s0, s1;

	put_export();
	OK(run_with(src, NOW, NULL, 2, &sum));
	cr_assert_eq(sum.blobs, 4);
	cr_assert_eq(sum.segments, 2);
	cr_assert_eq(sum.segment_first, 0);
	cr_assert_eq(sum.segment, 1);
	read_segment(0, &s0);
	read_segment(1, &s1);
	cr_assert_eq(s0.nmembers + s1.nmembers, 4);
	cr_assert_eq(s0.nmembers, 2);
	ai_segment_release(&s0);
	ai_segment_release(&s1);
	expect_archived(all_blobs, 4);
}

static void read_state(struct ai_state *st);

/* ---- diagnostic settings: blobs that grow ---- */

static void append_to(const char *name, const char *text)
{
	struct ai_blob_info info;

	if (ai_store_props(src, name, &info, NULL) == AI_ERR_NOT_FOUND)
		OK(ai_store_put(src, name, NULL, 0, AI_PUT_APPEND_BLOB, NULL, NULL));
	else
		ai_blob_info_release(&info);
	OK(ai_store_append(src, name, text, strlen(text), AI_APPEND_ANY));
}

#define DS_11 DS_RES "y=2024/m=05/d=01/h=11/m=00/PT1H.json"
#define DS_12 DS_RES "y=2024/m=05/d=01/h=12/m=00/PT1H.json"
#define DROW(t, op) "{\"time\":\"2024-05-01T" t "Z\",\"OperationId\":\"" op "\"," \
                    "\"AppRoleName\":\"api\"}"

Test(run, an_open_hours_blob_is_archived_to_its_last_whole_line_and_the_rest_later)
{
	struct ai_run_summary sum;
	struct ai_segment seg;
	struct ai_blob_info info;
	static const char *const both[] = { DS_11, DS_12 };

	append_to(DS_11, DROW("11:10:00.123", "a") "\n" DROW("11:20:00.1234567", "b") "\n");
	append_to(DS_12, DROW("12:01:00", "c") "\n{\"time\":\"2024-05-01T12:0");
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.layout, AI_LAYOUT_DIAGNOSTIC);
	cr_assert_eq(sum.blobs, 2);
	cr_assert_eq(sum.rows, 3);
	cr_assert_eq(sum.bad_rows, 0, "the partial line is not archived yet");
	read_segment(0, &seg);
	cr_assert_str_eq(seg.layout, "diagnostic-settings");
	cr_assert_str_eq(member_of(&seg, DS_11)->app, "shop");
	cr_assert_str_eq(member_of(&seg, DS_11)->type, "apprequests");
	cr_assert_eq(member_of(&seg, DS_11)->max_event, T0 + 11 * H + 20 * 60 * SEC + 123456700);
	cr_assert_eq(member_of(&seg, DS_12)->range_end, strlen(DROW("12:01:00", "c") "\n"));
	ai_segment_release(&seg);

	/* the line is finished, another follows, and the hour closes */
	append_to(DS_12, "2:00Z\",\"OperationId\":\"d\"}\n" DROW("12:40:00", "e") "\n");
	OK(run_at(T0 + 13 * H + 20 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 1);
	cr_assert_eq(sum.rows, 2);
	cr_assert_eq(sum.bad_rows, 0);
	read_segment(1, &seg);
	cr_assert_eq(seg.nmembers, 1);
	OK(ai_store_props(src, DS_12, &info, NULL));
	cr_assert_str_eq(seg.members[0].blob, DS_12);
	cr_assert_eq(seg.members[0].range_start, strlen(DROW("12:01:00", "c") "\n"));
	cr_assert_eq(seg.members[0].range_end, info.size);
	ai_blob_info_release(&info);
	ai_segment_release(&seg);
	expect_archived(both, 2);
	OK(run_at(T0 + 13 * H + 30 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 0, "nothing twice");
}

Test(run, an_open_hours_blob_with_only_a_partial_line_is_pending)
{
	struct ai_run_summary sum;

	append_to(DS_12, "{\"time\":\"2024-05-01T12:0");
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 0);
	cr_assert_eq(sum.pending, 1);
	cr_assert_eq(sum.failed, 0);
	cr_assert_not(segment_exists(0));
}

Test(run, a_closed_hours_last_line_without_newline_is_archived_with_one_once_it_stopped_growing)
{
	struct ai_run_summary sum;
	static const char *const want[] = { DS_11 };

	append_to(DS_11, DROW("11:10:00", "a") "\n" DROW("11:11:00", "b"));
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 1);
	cr_assert_eq(sum.rows, 1, "the last line waits for a run to see the same length");
	OK(run_at(NOW + 10 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 1);
	cr_assert_eq(sum.rows, 1);
	cr_assert_eq(sum.bad_rows, 0, "a whole row that lacked only its newline");
	expect_archived(want, 1);
	OK(run_at(NOW + 20 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 0);
}

static size_t state_tails(void)
{
	struct ai_state st;
	size_t n;

	read_state(&st);
	n = st.ntails;
	ai_state_release(&st);
	return n;
}

Test(run, a_line_completed_after_its_hour_is_archived_whole)
{
	struct ai_run_summary sum;
	struct ai_segment s1;
	static const char *const want[] = { DS_11 };

	/* 12:30: hour 11 is closed, but its last line is not finished yet */
	append_to(DS_11, DROW("11:10:00", "a") "\n{\"time\":\"2024-05-01T11:5");
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 1);
	cr_assert_eq(sum.rows, 1);
	cr_assert_eq(sum.bad_rows, 0);
	cr_assert_eq(state_tails(), 1, "the length seen is remembered");
	cr_assert_eq(sum.watermark, T0 + 11 * H, "held at the tail's hour for the next run");
	append_to(DS_11, "9:00Z\",\"OperationId\":\"b\"}\n");
	OK(run_at(NOW + 10 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 1);
	cr_assert_eq(sum.rows, 1);
	cr_assert_eq(sum.bad_rows, 0, "one valid row, not two halves");
	cr_assert_eq(sum.watermark, T0 + 12 * H);
	read_segment(1, &s1);
	cr_assert_eq(s1.members[0].range_start, strlen(DROW("11:10:00", "a") "\n"));
	ai_segment_release(&s1);
	expect_archived(want, 1);
	cr_assert_eq(state_tails(), 0);
}

Test(run, an_incomplete_tail_is_archived_as_it_is_once_a_later_run_sees_the_same_length)
{
	struct ai_run_summary sum;
	static const char *const want[] = { DS_11 };

	append_to(DS_11, DROW("11:10:00", "a") "\n{\"time\":\"2024-05-01T11:5");
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.rows, 1);
	OK(run_at(NOW + 10 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 1);
	cr_assert_eq(sum.rows, 1);
	cr_assert_eq(sum.bad_rows, 1, "archived as it is, a bad row");
	expect_archived(want, 1);
	cr_assert_eq(state_tails(), 0);
	OK(run_at(NOW + 20 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 0);
}

Test(run, a_tail_that_keeps_growing_holds_the_watermark_only_once)
{
	struct ai_run_summary sum;

	append_to(DS_11, DROW("11:10:00", "a") "\n{\"time\":");
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.watermark, T0 + 11 * H);
	append_to(DS_11, "\"2024");
	OK(run_at(NOW + 10 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 0, "still no whole line");
	cr_assert_eq(sum.watermark, T0 + 12 * H, "not held again");
	cr_assert_eq(state_tails(), 1, "the new length is remembered");
	OK(run_at(NOW + 20 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 1, "the hour is still listed: same length, taken as it is");
	cr_assert_eq(sum.bad_rows, 1);
}

Test(run, a_dry_run_says_when_a_blob_may_still_grow)
{
	struct ai_run_summary sum;
	char *out;

	append_to(DS_11, DROW("11:10:00", "a") "\n");
	append_to(DS_12, DROW("12:10:00", "b") "\n{\"time\"");
	out = dry_run(NOW, &sum);
	cr_assert_eq(sum.blobs, 2);
	cr_assert(strstr(out, DS_11 "\tbytes 0-"), "%s", out);
	cr_assert(strstr(out, " (up to the last complete line)\t-> data/shop/apprequests/"
	                      "2024-05-01/11/\n"),
	          "a closed hour's blob too, until a run has seen its length: %s", out);
	cr_assert(strstr(out, DS_12 "\tbytes 0-"), "%s", out);
	cr_assert(strstr(out, " (up to the last complete line)\t-> data/shop/apprequests/"
	                      "2024-05-01/12/\n"), "%s", out);
	free(out);
}

/* ---- block blobs overwritten in the source ---- */

/* Overwrites are seen in the hours a run lists: with the watermark at
 * 12:00 and an hour's lookback, 11:00 on. */
Test(run, an_overwritten_block_blob_is_archived_again_as_a_new_version)
{
	struct ai_run_summary sum;
	struct ai_segment s0, s1, s2;
	struct ai_blob_info info;
	char first_etag[80];

	put_export();
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 4);
	read_segment(0, &s0);
	snprintf(first_etag, sizeof first_etag, "%s", member_of(&s0, BLOB_B)->etag);
	cr_assert_str_eq(member_of(&s0, BLOB_B)->replaces, "", "a first version replaces nothing");

	/* b.blob gets another row: another size and ETag */
	put_ce(APP_SHOP, "Requests", 11, "b.blob", 3, 1);
	OK(run_at(NOW + 10 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 1, "only the changed blob");
	cr_assert_eq(sum.rows, 4);
	read_segment(1, &s1);
	cr_assert_eq(s1.nmembers, 1);
	OK(ai_store_props(src, BLOB_B, &info, NULL));
	cr_assert_str_eq(s1.members[0].blob, BLOB_B);
	cr_assert_str_eq(s1.members[0].etag, info.etag);
	cr_assert_str_eq(s1.members[0].replaces, first_etag, "linked to the version before");
	cr_assert_eq(s1.members[0].range_end, info.size);
	ai_blob_info_release(&info);
	cr_assert_not_null(find_member(&s0, BLOB_B), "the first version stays recorded");

	/* c.blob is rewritten with other bytes of the same length */
	OK(ai_store_props(src, BLOB_C, &info, NULL));
	cr_assert_lt(info.size, 4096);
	{
		char *other = malloc(info.size);
		memset(other, 'x', info.size);
		other[info.size - 1] = '\n';
		OK(ai_store_put(src, BLOB_C, other, info.size, 0, NULL, NULL));
		free(other);
	}
	OK(run_at(NOW + 20 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 1, "the same size, another ETag");
	cr_assert_eq(sum.bad_rows, 1);
	read_segment(2, &s2);
	cr_assert_str_eq(s2.members[0].blob, BLOB_C);
	cr_assert_str_eq(s2.members[0].replaces, member_of(&s0, BLOB_C)->etag);
	cr_assert_str_neq(s2.members[0].etag, s2.members[0].replaces);
	ai_blob_info_release(&info);

	OK(run_at(NOW + 30 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 0, "each version once");
	ai_segment_release(&s0);
	ai_segment_release(&s1);
	ai_segment_release(&s2);
}

Test(run, a_second_overwrite_links_to_the_latest_version)
{
	struct ai_run_summary sum;
	struct ai_segment s1, s2;

	put_ce(APP_SHOP, "Requests", 11, "b.blob", 1, 0);
	OK(run_at(NOW, &sum));
	put_ce(APP_SHOP, "Requests", 11, "b.blob", 2, 0);
	OK(run_at(NOW + 10 * 60 * SEC, &sum));
	put_ce(APP_SHOP, "Requests", 11, "b.blob", 3, 0);
	OK(run_at(NOW + 20 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 1);
	read_segment(1, &s1);
	read_segment(2, &s2);
	cr_assert_str_eq(s2.members[0].replaces, s1.members[0].etag);
	OK(run_at(NOW + 30 * 60 * SEC, &sum));
	cr_assert_eq(sum.blobs, 0);
	ai_segment_release(&s1);
	ai_segment_release(&s2);
}

/* ---- names that cannot be archived safely ---- */

#define POISON_BLOB APP_SHOP "/Requests/2024-05-01/10/bad\nname.blob"
#define POISON_APP "we\x1b[2Jb_0123456789abcdef0123456789abcdef/"

static void read_state(struct ai_state *st)
{
	struct ai_archive a;
	struct ai_trust trust;

	ai_trust_init(&trust);
	OK(ai_archive_open(&a, dst, &trust, 0));
	ai_trust_release(&trust);
	*st = a.state;
	ai_state_init(&a.state);
	ai_archive_release(&a);
}

Test(run, a_poison_name_is_quarantined_and_holds_back_nothing)
{
	struct ai_run_summary sum;
	struct ai_state st;
	char **names;
	size_t n;

	put_export();
	put_ce(APP_SHOP, "Requests", 10, "bad\nname.blob", 1, 0);
	put_ce("we\x1b[2Jb_0123456789abcdef0123456789abcdef", "Requests", 11, "x.blob", 1, 0);
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 4);
	cr_assert_eq(sum.failed, 0);
	cr_assert_eq(sum.quarantined, 2);
	cr_assert_eq(sum.watermark, T0 + 12 * H, "the watermark passes the poison's hours");
	expect_archived(all_blobs, 4);
	names = names_under(dst, "", &n);
	for (size_t i = 0; i < n; i++)
		cr_assert(strncmp(names[i], "data/", 5) == 0 ||
		          strncmp(names[i], "manifest/", 9) == 0 || strncmp(names[i], "keys/", 5) == 0,
		          "'%s' outside the layout", names[i]);
	free_names(names, n);
	read_state(&st);
	cr_assert_eq(st.nquarantined, 2);
	cr_assert_str_eq(st.quarantined[0].name, POISON_BLOB);
	cr_assert_str_eq(st.quarantined[0].reason, "control characters in the name");
	cr_assert_eq(st.quarantined[0].hour, T0 + 10 * H);
	cr_assert_eq(st.quarantined[0].first_seen, NOW);
	cr_assert_str_eq(st.quarantined[1].name, POISON_APP);
	cr_assert_eq(st.quarantined[1].hour, AI_TIME_MIN);
	cr_assert_str_eq(st.quarantined[0].app, "shop", "a blob's part is recorded");
	cr_assert_null(st.quarantined[1].app, "a folder has none");
	{
		const struct ai_partition_state *ps = ai_state_find_part(&st, "shop", "Requests");
		cr_assert_not_null(ps);
		cr_assert_eq(ps->quarantined, 1);
		cr_assert_eq(ps->quarantined_oldest, T0 + 10 * H);
		cr_assert_eq(ps->archived_through, T0 + 10 * H,
		             "the poison holds back its part's recovery point");
		ps = ai_state_find_part(&st, "web", "Requests");
		cr_assert_eq(ps->archived_through, T0 + 12 * H, "but no other part's");
		cr_assert_eq(ps->quarantined, 0);
	}
	ai_state_release(&st);

	/* An hour later: the folder is seen again, the blob's hour is no
	 * longer listed but stays on record. */
	OK(run_at(NOW + H, &sum));
	cr_assert_eq(sum.quarantined, 1);
	cr_assert_eq(sum.watermark, T0 + 13 * H);
	read_state(&st);
	cr_assert_eq(st.nquarantined, 2);
	cr_assert_eq(st.quarantined[1].first_seen, NOW);
	cr_assert_eq(st.quarantined[1].last_seen, NOW + H);
	cr_assert_eq(st.quarantined[0].last_seen, NOW);
	ai_state_release(&st);
}

Test(run, a_quarantined_name_that_is_gone_leaves_the_record)
{
	struct ai_run_summary sum;
	struct ai_state st;
	char path[1024];

	put_ce(APP_SHOP, "Requests", 12, "bad\tname.blob", 1, 0);
	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.quarantined, 1);
	snprintf(path, sizeof path, "%s/src/%s", tmpdir,
	         APP_SHOP "/Requests/2024-05-01/12/bad\tname.blob");
	cr_assert_eq(unlink(path), 0);
	OK(run_at(NOW + 10 * 60 * SEC, &sum));
	cr_assert_eq(sum.quarantined, 0);
	read_state(&st);
	cr_assert_eq(st.nquarantined, 0, "its hour was listed and it was not there");
	ai_state_release(&st);
}

Test(run, an_empty_source_archives_nothing_and_succeeds)
{
	struct ai_run_summary sum;

	OK(run_at(NOW, &sum));
	cr_assert_eq(sum.blobs, 0);
	cr_assert_eq(sum.segment, -1);
	cr_assert_not(segment_exists(0));
}

Test(run, make_id_is_the_time_and_eight_hex_digits)
{
	char a[64], b[64];

	ai_run_make_id(T0 + 14 * H + 30 * 60 * SEC + 5 * SEC, a, sizeof a);
	ai_run_make_id(T0 + 14 * H + 30 * 60 * SEC + 5 * SEC, b, sizeof b);
	cr_assert_eq(strlen(a), 25, "%s", a);
	cr_assert(strncmp(a, "20240501T143005Z-", 17) == 0, "%s", a);
	cr_assert_eq(strspn(a + 17, "0123456789abcdef"), 8, "%s", a);
	cr_assert_str_neq(a, b, "two runs in one second get two ids");
}

/* ---- a lock lost while paused (ARCHITECTURE.md §7.2, §7.3) ---- */

#define TAKER_ID "11111111-2222-4333-8444-555555555555"

/* A lock on dst that another holder has taken over since: its lease ran
 * out (the store's clock moved past it) and someone else leased the blob. */
static struct ai_lock *lost_lock(void)
{
	struct ai_lock *lock;
	char other[AI_LEASE_ID_MAX] = TAKER_ID;

	OK(ai_lock_acquire(dst, 15, 0, "first", &lock));
	clock_now += 20 * SEC;
	OK(ai_store_lease(dst, AI_LOCK_NAME, AI_LEASE_ACQUIRE, 15, other));
	return lock;
}

static void read_or_empty(const char *name, struct ai_buf *out)
{
	ai_result r = ai_store_read(dst, name, 0, 0, NULL, out, NULL);

	cr_assert(r == AI_OK || r == AI_ERR_NOT_FOUND, "%s: %s", name, ai_store_last_error());
}

Test(run, a_run_that_lost_its_lock_saves_no_state_and_says_so)
{
	struct ai_run_summary sum;
	struct ai_buf before, after;
	char run_id[64];
	struct ai_run_params p = { .run_id = run_id, .o = &o, .src = src, .dest = dst, .key = &key,
	                           .now = NOW, .clock = test_clock };

	put_export();
	OK(run_at(NOW, &sum));
	ai_buf_init(&before, 1 << 20);
	ai_buf_init(&after, 1 << 20);
	read_or_empty(AI_STATE_NAME, &before);
	clock_now = NOW;
	p.lock = lost_lock();
	ai_run_make_id(NOW, run_id, sizeof run_id);
	/* nothing new: no segment, so no fence before the state */
	cr_assert_eq(ai_run(&p, &sum), AI_ERR_LOCKED, "exit 5");
	read_or_empty(AI_STATE_NAME, &after);
	cr_assert(before.len == after.len && memcmp(before.data, after.data, before.len) == 0,
	          "the state is not written");
	ai_lock_release(p.lock);
	ai_buf_release(&before);
	ai_buf_release(&after);
}

Test(run, an_index_signature_lost_to_a_crash_is_restored_by_the_next_run)
{
	struct ai_run_summary sum;
	struct ai_buf state, sig, idx_sig, got;
	char idx[128], idx_minisig[160];

	put_export();
	OK(run_at(NOW, &sum));
	ai_buf_init(&state, 1 << 20);
	ai_buf_init(&sig, 1 << 16);
	ai_buf_init(&idx_sig, 1 << 16);
	ai_buf_init(&got, 1 << 16);
	/* the state as it was before segment 1 */
	read_blob(dst, AI_STATE_NAME, &state);
	read_blob(dst, AI_STATE_NAME ".minisig", &sig);
	put_ce(APP_SHOP, "Requests", 11, "late.blob", 2, 0);
	OK(run_at(NOW + H, &sum));
	cr_assert_eq(sum.segment, 1);
	ai_archive_index_name(1, idx, sizeof idx);
	snprintf(idx_minisig, sizeof idx_minisig, "%s.minisig", idx);
	read_blob(dst, idx_minisig, &idx_sig);
	/* a run stopped between index 1 and its .minisig, before its state */
	OK(ai_store_delete(dst, idx_minisig));
	OK(ai_store_put(dst, AI_STATE_NAME, state.data, state.len, 0, NULL, NULL));
	OK(ai_store_put(dst, AI_STATE_NAME ".minisig", sig.data, sig.len, 0, NULL, NULL));
	OK(run_at(NOW + H, &sum));
	read_blob(dst, idx_minisig, &got);
	cr_assert(got.len == idx_sig.len && memcmp(got.data, idx_sig.data, got.len) == 0,
	          "the index's .minisig is the signature it carries");
	ai_buf_release(&state);
	ai_buf_release(&sig);
	ai_buf_release(&idx_sig);
	ai_buf_release(&got);
}

Test(run, gc_that_lost_its_lock_removes_nothing)
{
	struct ai_run_summary sum;
	struct ai_gc_report rep;
	struct ai_trust trust;
	struct ai_blob_info info;
	struct ai_gc_params p = { .dest = dst, .cutoff = AI_TIME_MAX };
	static const char junk[] = AI_GC_DATA_PREFIX "shop/Requests/2024-05-01/10/x-1.jsonl.gz";

	put_export();
	OK(run_at(NOW, &sum));
	OK(ai_store_put(dst, junk, "x", 1, 0, NULL, NULL));
	ai_trust_init(&trust);
	OK(ai_archive_keys(dst, &trust, 0));
	p.trust = &trust;
	p.lock = lost_lock();
	ai_gc_report_init(&rep);
	cr_assert_eq(ai_gc(&p, &rep), AI_ERR_LOCKED, "exit 5");
	cr_assert_eq(rep.removed, 0);
	OK(ai_store_props(dst, junk, &info, NULL));
	ai_blob_info_release(&info);
	ai_gc_report_release(&rep);
	ai_lock_release(p.lock);
	ai_trust_release(&trust);
}
