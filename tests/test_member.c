/* test_member.c: one source blob (or appended range) becomes one gzip
 * member: lines archived byte for byte, rows and bad rows counted, event
 * times, roles and operation ids collected, SHA-256 of what was archived,
 * and the member checked with zlib itself rather than our own reader. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "engine/member.h"
#include "format/bloom.h"
#include "format/manifest.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/parse.h"

#define T0 (INT64_C(1714521600) * AI_NS_PER_SEC) /* 2024-05-01T00:00:00Z */
#define MS (AI_NS_PER_SEC / 1000)

#define OK(call) \
	do { \
		ai_result r_ = (call); \
		cr_assert_eq(r_, AI_OK, "%s: %s", #call, ai_strerror(r_)); \
	} while (0)

/* What one member came out as. */
struct built {
	struct ai_member m;
	struct ai_buf gz;        /* the compressed member */
	uint64_t consumed, compressed;
};

static ai_result buf_sink(void *ctx, const void *p, size_t n)
{
	return ai_buf_add(ctx, p, n);
}

static void built_release(struct built *out)
{
	ai_member_release(&out->m);
	ai_buf_release(&out->gz);
}

/* Feeds data in pieces of step bytes (0: all at once) through a new
 * builder. */
static void build_in_steps(const void *data, size_t n, size_t step, int final,
                           enum ai_row_schema schema, struct built *out)
{
	struct ai_member_builder *b;
	const char *p = data;

	memset(out, 0, sizeof *out);
	ai_buf_init(&out->gz, 1 << 24);
	OK(ai_member_builder_new(&b, 6));
	OK(ai_member_begin(b, "shop_0123/Requests/2024-05-01/10/a.blob", T0, schema, buf_sink,
	                   &out->gz));
	for (size_t off = 0; off < n;) {
		size_t k = step && n - off > step ? step : n - off;
		OK(ai_member_feed(b, p + off, k));
		off += k;
	}
	OK(ai_member_end(b, final, &out->m, &out->consumed, &out->compressed));
	ai_member_builder_free(b);
}

static void build(const char *text, int final, struct built *out)
{
	build_in_steps(text, strlen(text), 0, final, AI_SCHEMA_CONTINUOUS, out);
}

/* Inflates one gzip member with zlib; *name and *mtime from its header. */
static char *gunzip(const struct ai_buf *gz, size_t *len, char name[256], uLong *mtime)
{
	z_stream zs;
	gz_header head;
	size_t cap = 1 << 20, n = 0;
	char *out = malloc(cap);
	int rc;

	cr_assert_not_null(out);
	memset(&zs, 0, sizeof zs);
	memset(&head, 0, sizeof head);
	name[0] = '\0';
	head.name = (Bytef *)name;
	head.name_max = 255;
	cr_assert_eq(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	cr_assert_eq(inflateGetHeader(&zs, &head), Z_OK);
	zs.next_in = (Bytef *)gz->data;
	zs.avail_in = (uInt)gz->len;
	do {
		if (n == cap) {
			cap *= 2;
			out = realloc(out, cap);
			cr_assert_not_null(out);
		}
		zs.next_out = (Bytef *)out + n;
		zs.avail_out = (uInt)(cap - n);
		rc = inflate(&zs, Z_NO_FLUSH);
		cr_assert(rc == Z_OK || rc == Z_STREAM_END, "inflate: %d (%s)", rc,
		          zs.msg ? zs.msg : "");
		n = cap - zs.avail_out;
	} while (rc != Z_STREAM_END);
	cr_assert_eq(zs.avail_in, 0, "bytes after the member's trailer");
	*len = n;
	if (mtime)
		*mtime = head.time;
	inflateEnd(&zs);
	return out;
}

/* Asserts the member holds exactly want (decompressed) and its SHA-256
 * and raw size describe those bytes. */
static void expect_member_bytes(const struct built *b, const char *want, size_t wlen)
{
	uint8_t sha[AI_SHA256_LEN];
	char name[256];
	size_t n;
	char *got = gunzip(&b->gz, &n, name, NULL);

	cr_assert_eq(n, wlen, "member holds %zu bytes, want %zu", n, wlen);
	cr_assert(memcmp(got, want, wlen) == 0, "member bytes differ");
	cr_assert_eq(b->m.raw_size, wlen);
	OK(ai_sha256(want, wlen, sha));
	cr_assert(memcmp(b->m.sha256, sha, sizeof sha) == 0, "sha256 is not of the archived bytes");
	cr_assert_eq(b->compressed, b->gz.len, "reported compressed size %llu, sink got %zu",
	             (unsigned long long)b->compressed, b->gz.len);
	free(got);
}

/* A continuous-export row. */
static const char *row(char *out, size_t cap, const char *time, const char *op,
                       const char *role)
{
	snprintf(out, cap,
	         "{\"request\":[{\"name\":\"GET /\"}],\"context\":{\"data\":{\"eventTime\":\"%s\"},"
	         "\"operation\":{\"id\":\"%s\"},\"device\":{\"roleName\":\"%s\"}}}",
	         time, op, role);
	return out;
}

/* ---- bytes, lines and rows ---- */

Test(member, archives_whole_lines_byte_for_byte_with_their_sha256)
{
	char r1[512], r2[512], text[1100];
	struct built b;

	snprintf(text, sizeof text, "%s\n%s\n", row(r1, sizeof r1, "2024-05-01T10:00:00Z", "a", "web"),
	         row(r2, sizeof r2, "2024-05-01T10:00:01Z", "b", "web"));
	build(text, 1, &b);
	expect_member_bytes(&b, text, strlen(text));
	cr_assert_eq(b.consumed, strlen(text));
	cr_assert_eq(b.m.rows, 2);
	cr_assert_eq(b.m.bad_rows, 0);
	built_release(&b);
}

Test(member, crlf_lines_are_archived_as_they_are_and_still_parse)
{
	char r1[512], r2[512], text[1100];
	struct built b;

	snprintf(text, sizeof text, "%s\r\n%s\r\n",
	         row(r1, sizeof r1, "2024-05-01T10:00:00Z", "a", "web"),
	         row(r2, sizeof r2, "2024-05-01T10:00:01Z", "b", "web"));
	build(text, 1, &b);
	expect_member_bytes(&b, text, strlen(text));
	cr_assert_eq(b.m.rows, 2);
	cr_assert_eq(b.m.bad_rows, 0, "the \\r before \\n is not part of the row");
	cr_assert(b.m.has_time);
	cr_assert_eq(b.m.min_event, T0 + 10 * 3600 * AI_NS_PER_SEC);
	built_release(&b);
}

Test(member, blank_lines_are_kept_but_are_neither_rows_nor_bad_rows)
{
	char r1[512], text[1100];
	struct built b;

	snprintf(text, sizeof text, "\n  \n%s\n\t\r\n\r\n",
	         row(r1, sizeof r1, "2024-05-01T10:00:00Z", "a", "web"));
	build(text, 1, &b);
	expect_member_bytes(&b, text, strlen(text));
	cr_assert_eq(b.m.rows, 1);
	cr_assert_eq(b.m.bad_rows, 0);
	built_release(&b);
}

Test(member, a_final_member_gets_a_newline_after_a_last_line_without_one)
{
	char r1[512], r2[512], text[1100], want[1200];
	struct built b;

	snprintf(text, sizeof text, "%s\n%s", row(r1, sizeof r1, "2024-05-01T10:00:00Z", "a", "w"),
	         row(r2, sizeof r2, "2024-05-01T10:00:01Z", "b", "w"));
	snprintf(want, sizeof want, "%s\n", text);
	build(text, 1, &b);
	expect_member_bytes(&b, want, strlen(want));
	cr_assert_eq(b.consumed, strlen(text), "every fed byte is archived");
	cr_assert_eq(b.m.rows, 2);
	cr_assert_eq(b.m.bad_rows, 0);
	built_release(&b);
}

Test(member, a_last_line_ending_in_cr_alone_parses_in_a_final_member)
{
	char r1[512], text[1100], want[1200];
	struct built b;

	snprintf(text, sizeof text, "%s\r", row(r1, sizeof r1, "2024-05-01T10:00:00Z", "a", "w"));
	snprintf(want, sizeof want, "%s\n", text);
	build(text, 1, &b);
	expect_member_bytes(&b, want, strlen(want));
	cr_assert_eq(b.m.rows, 1);
	cr_assert_eq(b.m.bad_rows, 0);
	built_release(&b);
}

Test(member, a_member_that_may_grow_leaves_its_partial_last_line_for_later)
{
	char r1[512], text[1100], whole[600];
	struct built b;

	snprintf(whole, sizeof whole, "%s\n", row(r1, sizeof r1, "2024-05-01T10:00:00Z", "a", "w"));
	snprintf(text, sizeof text, "%s{\"context\":{\"data\"", whole);
	build(text, 0, &b);
	expect_member_bytes(&b, whole, strlen(whole));
	cr_assert_eq(b.consumed, strlen(whole), "consumed ends after the last newline");
	cr_assert_eq(b.m.rows, 1, "the partial line is not a row yet");
	cr_assert_eq(b.m.bad_rows, 0, "nor a bad one");
	built_release(&b);
}

Test(member, a_partial_line_alone_in_a_member_that_may_grow_archives_nothing)
{
	struct built b;

	build("{\"context\":", 0, &b);
	expect_member_bytes(&b, "", 0);
	cr_assert_eq(b.consumed, 0);
	cr_assert_eq(b.m.rows, 0);
	built_release(&b);
}

Test(member, an_empty_source_is_an_empty_member)
{
	struct built b;

	build("", 1, &b);
	expect_member_bytes(&b, "", 0);
	cr_assert_eq(b.consumed, 0);
	cr_assert_eq(b.m.rows, 0);
	cr_assert_not(b.m.has_time);
	built_release(&b);
}

Test(member, bad_json_rows_are_archived_and_counted)
{
	char r1[512], text[1500];
	struct built b;

	snprintf(text, sizeof text, "%s\nnot json\n{\"context\":{\"data\":\n[1,2]\n{\"a\":1}}\n",
	         row(r1, sizeof r1, "2024-05-01T10:00:00Z", "a", "w"));
	build(text, 1, &b);
	expect_member_bytes(&b, text, strlen(text));
	cr_assert_eq(b.m.rows, 5);
	cr_assert_eq(b.m.bad_rows, 4, "bad rows: %llu", (unsigned long long)b.m.bad_rows);
	cr_assert(b.m.has_time, "the good row's time still counts");
	built_release(&b);
}

Test(member, a_bad_last_line_without_newline_is_a_bad_row)
{
	struct built b;

	build("{\"a\":1}\n{broken", 1, &b);
	expect_member_bytes(&b, "{\"a\":1}\n{broken\n", 16);
	cr_assert_eq(b.m.rows, 2);
	cr_assert_eq(b.m.bad_rows, 1);
	built_release(&b);
}

/* ---- event times ---- */

struct time_case {
	char text[40];
	int64_t sec;     /* since T0 */
	int64_t ns;
};

ParameterizedTestParameters(member, event_time_fractions)
{
	static struct time_case cases[] = {
		{ "2024-05-01T10:00:00Z", 36000, 0 },
		{ "2024-05-01T10:00:00.1Z", 36000, 100000000 },
		{ "2024-05-01T10:00:00.123Z", 36000, 123000000 },
		{ "2024-05-01T10:00:00.1234Z", 36000, 123400000 },
		{ "2024-05-01T10:00:00.12345Z", 36000, 123450000 },
		{ "2024-05-01T10:00:00.123456Z", 36000, 123456000 },
		{ "2024-05-01T10:00:00.1234567Z", 36000, 123456700 },
		{ "2024-05-01T23:59:59.9999999Z", 86399, 999999900 },
	};
	return cr_make_param_array(struct time_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct time_case *c, member, event_time_fractions)
{
	char r1[512], text[600];
	struct built b;

	snprintf(text, sizeof text, "%s\n", row(r1, sizeof r1, c->text, "a", "w"));
	build(text, 1, &b);
	cr_assert(b.m.has_time, "%s", c->text);
	cr_assert_eq(b.m.min_event, T0 + c->sec * AI_NS_PER_SEC + c->ns, "%s", c->text);
	cr_assert_eq(b.m.max_event, b.m.min_event);
	built_release(&b);
}

Test(member, event_time_range_is_the_min_and_max_whatever_the_row_order)
{
	static const char *times[] = {
		"2024-05-01T10:00:00.123Z",     "2024-05-01T09:59:59.1234Z",
		"2024-05-01T11:30:00.1234567Z", "2024-05-01T08:00:00.123456Z",
		"2024-05-01T10:00:01.12345Z",
	};
	char r[512], text[4096] = "";
	struct built b;

	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		strcat(text, row(r, sizeof r, times[i], "a", "w"));
		strcat(text, "\n");
	}
	build(text, 1, &b);
	cr_assert(b.m.has_time);
	cr_assert_eq(b.m.min_event, T0 + 8 * 3600 * AI_NS_PER_SEC + 123456000);
	cr_assert_eq(b.m.max_event, T0 + (11 * 3600 + 1800) * AI_NS_PER_SEC + 123456700);
	built_release(&b);
}

Test(member, rows_without_an_event_time_leave_the_range_unset)
{
	struct built b;

	build("{\"context\":{\"data\":{}}}\n{\"a\":1}\n", 1, &b);
	cr_assert_eq(b.m.rows, 2);
	cr_assert_eq(b.m.bad_rows, 0);
	cr_assert_not(b.m.has_time);
	built_release(&b);
}

/* ---- roles and operation ids ---- */

Test(member, distinct_roles_and_operation_ids_are_collected)
{
	char r[512], text[4096] = "";
	struct built b;

	strcat(text, row(r, sizeof r, "2024-05-01T10:00:00Z", "op-1", "web")), strcat(text, "\n");
	strcat(text, row(r, sizeof r, "2024-05-01T10:00:01Z", "op-2", "api")), strcat(text, "\n");
	strcat(text, row(r, sizeof r, "2024-05-01T10:00:02Z", "op-1", "web")), strcat(text, "\n");
	build(text, 1, &b);
	cr_assert_eq(b.m.nroles, 2);
	cr_assert(strcmp(b.m.roles[0], "web") == 0 || strcmp(b.m.roles[1], "web") == 0);
	cr_assert(strcmp(b.m.roles[0], "api") == 0 || strcmp(b.m.roles[1], "api") == 0);
	cr_assert_gt(b.m.bloom_len, 0);
	cr_assert(ai_bloom_maybe(b.m.bloom, b.m.bloom_len, "op-1", 4));
	cr_assert(ai_bloom_maybe(b.m.bloom, b.m.bloom_len, "op-2", 4));
	built_release(&b);
}

Test(member, the_builder_reports_the_distinct_operation_ids_of_the_last_member)
{
	struct ai_member_builder *mb;
	struct ai_member m = { 0 };
	struct ai_buf gz;
	uint64_t consumed, compressed;
	char r[512], text[2048] = "";

	strcat(text, row(r, sizeof r, "2024-05-01T10:00:00Z", "x", "w")), strcat(text, "\n");
	strcat(text, row(r, sizeof r, "2024-05-01T10:00:00Z", "y", "w")), strcat(text, "\n");
	strcat(text, row(r, sizeof r, "2024-05-01T10:00:00Z", "x", "w")), strcat(text, "\n");
	ai_buf_init(&gz, 1 << 20);
	OK(ai_member_builder_new(&mb, 6));
	OK(ai_member_begin(mb, "a.blob", T0, AI_SCHEMA_CONTINUOUS, buf_sink, &gz));
	OK(ai_member_feed(mb, text, strlen(text)));
	OK(ai_member_end(mb, 1, &m, &consumed, &compressed));
	cr_assert_eq(ai_idset_count(ai_member_ids(mb)), 2);
	ai_member_release(&m);
	ai_member_builder_free(mb);
	ai_buf_release(&gz);
}

Test(member, diagnostic_settings_rows_use_their_own_field_names)
{
	const char *text =
		"{\"time\":\"2024-05-01T10:00:00.1234567Z\",\"OperationId\":\"op-d\","
		"\"AppRoleName\":\"func\",\"Type\":\"AppRequests\"}\n"
		"{\"time\":\"2024-05-01T09:00:00.5Z\",\"OperationId\":\"op-e\",\"AppRoleName\":\"func\"}\n";
	struct built b;

	build_in_steps(text, strlen(text), 0, 1, AI_SCHEMA_DIAGNOSTIC, &b);
	cr_assert_eq(b.m.rows, 2);
	cr_assert_eq(b.m.bad_rows, 0);
	cr_assert(b.m.has_time);
	cr_assert_eq(b.m.min_event, T0 + 9 * 3600 * AI_NS_PER_SEC + 500 * MS);
	cr_assert_eq(b.m.max_event, T0 + 10 * 3600 * AI_NS_PER_SEC + 123456700);
	cr_assert_eq(b.m.nroles, 1);
	cr_assert_str_eq(b.m.roles[0], "func");
	cr_assert(ai_bloom_maybe(b.m.bloom, b.m.bloom_len, "op-d", 4));
	built_release(&b);
}

Test(member, at_most_16_roles_are_kept)
{
	char r[512], role[16], text[16384] = "";
	struct built b;

	for (int i = 0; i < 20; i++) {
		snprintf(role, sizeof role, "role-%02d", i);
		strcat(text, row(r, sizeof r, "2024-05-01T10:00:00Z", "op", role));
		strcat(text, "\n");
	}
	build(text, 1, &b);
	cr_assert_eq(b.m.rows, 20);
	cr_assert_eq(b.m.nroles, AI_MEMBER_MAX_ROLES);
	built_release(&b);
}

/* ---- lines too long to scan ---- */

Test(member, a_line_too_long_to_scan_is_archived_whole_as_one_bad_row)
{
	const size_t big = AI_MEMBER_MAX_LINE + 100; /* past the 1 MiB line limit */
	const char *tail = "{\"a\":1}\n{\"b\":2}";
	size_t n = big + 1 + strlen(tail);
	char *text = malloc(n + 2);
	struct built b;

	cr_assert_not_null(text);
	memset(text, 'x', big);
	text[big] = '\n';
	memcpy(text + big + 1, tail, strlen(tail));
	build_in_steps(text, n, 64u << 10, 1, AI_SCHEMA_CONTINUOUS, &b);
	text[n] = '\n';
	expect_member_bytes(&b, text, n + 1);
	cr_assert_eq(b.m.rows, 3);
	cr_assert_eq(b.m.bad_rows, 1, "the long line is one bad row");
	cr_assert_eq(b.consumed, n);
	built_release(&b);
	free(text);
}

/* ---- gzip and determinism ---- */

Test(member, the_member_is_gzip_that_zlib_reads_with_name_and_mtime)
{
	char r1[512], text[600], name[256];
	struct built b;
	uLong mtime;
	size_t n;
	char *plain;

	snprintf(text, sizeof text, "%s\n", row(r1, sizeof r1, "2024-05-01T10:00:00Z", "a", "w"));
	build(text, 1, &b);
	cr_assert_eq((unsigned char)b.gz.data[0], 0x1f);
	cr_assert_eq((unsigned char)b.gz.data[1], 0x8b);
	plain = gunzip(&b.gz, &n, name, &mtime);
	cr_assert_eq(n, strlen(text));
	cr_assert(memcmp(plain, text, n) == 0);
	cr_assert_str_eq(name, "shop_0123/Requests/2024-05-01/10/a.blob");
	cr_assert_eq(mtime, (uLong)(T0 / AI_NS_PER_SEC));
	free(plain);
	built_release(&b);
}

/* A few hundred rows of varied length, some bad, some blank, CRLF mixed in. */
static char *sample(size_t *len)
{
	struct ai_buf s;
	char r[512], t[40];

	ai_buf_init(&s, 1 << 22);
	for (int i = 0; i < 400; i++) {
		snprintf(t, sizeof t, "2024-05-01T10:%02d:%02d.%0*dZ", i % 60, (i * 7) % 60, 3 + i % 5,
		         i);
		cr_assert_eq(ai_buf_addstr(&s, row(r, sizeof r, t, i % 3 ? "op" : "other", "w")), AI_OK);
		cr_assert_eq(ai_buf_addstr(&s, i % 11 == 0 ? "\r\n" : i % 13 == 0 ? "\n\n" : "\n"), AI_OK);
		if (i % 17 == 0)
			cr_assert_eq(ai_buf_addstr(&s, "{oops\n"), AI_OK);
	}
	return ai_buf_detach(&s, len);
}

Test(member, the_same_input_gives_the_same_bytes_however_it_is_fed)
{
	size_t len;
	char *text = sample(&len);
	struct built whole, bytes, odd;

	build_in_steps(text, len, 0, 1, AI_SCHEMA_CONTINUOUS, &whole);
	build_in_steps(text, len, 1, 1, AI_SCHEMA_CONTINUOUS, &bytes);
	build_in_steps(text, len, 997, 1, AI_SCHEMA_CONTINUOUS, &odd);
	expect_member_bytes(&whole, text, len);
	cr_assert_eq(whole.gz.len, bytes.gz.len);
	cr_assert(memcmp(whole.gz.data, bytes.gz.data, whole.gz.len) == 0,
	          "byte-by-byte feeding changed the member");
	cr_assert_eq(whole.gz.len, odd.gz.len);
	cr_assert(memcmp(whole.gz.data, odd.gz.data, whole.gz.len) == 0);
	cr_assert_eq(whole.m.rows, bytes.m.rows);
	cr_assert_eq(whole.m.rows, odd.m.rows);
	cr_assert_eq(whole.m.bad_rows, bytes.m.bad_rows);
	cr_assert_eq(whole.m.bad_rows, 24, "bad rows: %llu", (unsigned long long)whole.m.bad_rows);
	cr_assert_eq(whole.m.min_event, bytes.m.min_event);
	cr_assert_eq(whole.m.max_event, odd.m.max_event);
	built_release(&whole);
	built_release(&bytes);
	built_release(&odd);
	free(text);
}

Test(member, a_reused_builder_starts_each_member_afresh)
{
	struct ai_member_builder *mb;
	struct ai_member m1 = { 0 }, m2 = { 0 };
	struct ai_buf g1, g2;
	struct built fresh;
	uint64_t consumed, compressed;
	const char *second = "{\"a\":2}\n";

	ai_buf_init(&g1, 1 << 20);
	ai_buf_init(&g2, 1 << 20);
	OK(ai_member_builder_new(&mb, 6));
	OK(ai_member_begin(mb, "shop_0123/Requests/2024-05-01/10/a.blob", T0, AI_SCHEMA_CONTINUOUS,
	                   buf_sink, &g1));
	OK(ai_member_feed(mb, "bad\nbad\n{\"partial", 18));
	OK(ai_member_end(mb, 0, &m1, &consumed, &compressed));
	OK(ai_member_begin(mb, "shop_0123/Requests/2024-05-01/10/a.blob", T0, AI_SCHEMA_CONTINUOUS,
	                   buf_sink, &g2));
	OK(ai_member_feed(mb, second, strlen(second)));
	OK(ai_member_end(mb, 1, &m2, &consumed, &compressed));
	cr_assert_eq(m2.rows, 1);
	cr_assert_eq(m2.bad_rows, 0, "the first member's bad rows do not carry over");
	cr_assert_eq(m2.raw_size, strlen(second), "nor its partial line");
	build(second, 1, &fresh);
	cr_assert_eq(g2.len, fresh.gz.len);
	cr_assert(memcmp(g2.data, fresh.gz.data, g2.len) == 0, "same bytes as a new builder");
	built_release(&fresh);
	ai_member_release(&m1);
	ai_member_release(&m2);
	ai_member_builder_free(mb);
	ai_buf_release(&g1);
	ai_buf_release(&g2);
}

Test(member, freeing_null_is_harmless)
{
	ai_member_builder_free(NULL);
}

/* One workspace-export member built from text, its rows naming none taken
 * as the workspace's. */
static void build_ws(const char *text, const char *ws, struct ai_member *m)
{
	struct ai_member_builder *mb;
	struct ai_buf gz;
	uint64_t consumed, compressed;

	memset(m, 0, sizeof *m);
	ai_buf_init(&gz, 1 << 24);
	OK(ai_member_builder_new(&mb, 6));
	OK(ai_member_begin(mb, "a.json", T0, AI_SCHEMA_WORKSPACE, buf_sink, &gz));
	ai_member_set_app(mb, ws);
	OK(ai_member_feed(mb, text, strlen(text)));
	OK(ai_member_end(mb, 1, m, &consumed, &compressed));
	ai_member_builder_free(mb);
	ai_buf_release(&gz);
}

Test(member, workspace_rows_give_the_apps_they_carry)
{
	struct ai_member m;
	char *text;
	size_t cap = (AI_MEMBER_MAX_APPS + 2) * 128, n = 0;

	build_ws("{\"_ResourceId\":\"/s/x/providers/microsoft.insights/components/Web\"}\n"
	         "{\"_ResourceId\":\"/s/x/providers/microsoft.insights/components/api\"}\n"
	         "not json, carries nothing\n"
	         "{\"_ResourceId\":\"/s/x/providers/microsoft.insights/components/WEB\"}\n",
	         "ws1", &m);
	cr_assert(m.has_apps);
	cr_assert_eq(m.napps, 2);
	cr_assert_str_eq(m.apps[0], "api", "distinct, ascending, lowercased");
	cr_assert_str_eq(m.apps[1], "web");
	ai_member_release(&m);

	build_ws("{\"_ResourceId\":\"/c/zz\"}\n{\"TimeGenerated\":\"x\"}\n", "ws1", &m);
	cr_assert_eq(m.napps, 2);
	cr_assert_str_eq(m.apps[0], "ws1", "a row naming none is the workspace's");
	cr_assert_str_eq(m.apps[1], "zz");
	ai_member_release(&m);

	build_ws("garbage\n\n", "ws1", &m);
	cr_assert_not(m.has_apps, "no valid rows: nothing recorded");
	ai_member_release(&m);

	text = malloc(cap);
	cr_assert_not_null(text);
	for (int i = 0; i <= AI_MEMBER_MAX_APPS; i++)
		n += (size_t)snprintf(text + n, cap - n, "{\"_ResourceId\":\"/c/app%d\"}\n", i);
	build_ws(text, "ws1", &m);
	cr_assert(m.has_apps);
	cr_assert_eq(m.napps, 0, "more than the manifest keeps: any app");
	ai_member_release(&m);
	free(text);
}

Test(member, other_layouts_record_no_apps)
{
	struct built b;

	build_in_steps("{\"_ResourceId\":\"/c/zz\",\"time\":\"2024-05-01T10:00:00Z\"}\n", 54, 0, 1,
	               AI_SCHEMA_DIAGNOSTIC, &b);
	cr_assert_not(b.m.has_apps);
	cr_assert_eq(b.m.napps, 0);
	built_release(&b);
}
