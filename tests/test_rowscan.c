/* test_rowscan.c: the row scanner validates JSON and finds the indexed
 * fields at their paths, and only there. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format/rowscan.h"

static void scan(const char *row, enum ai_row_schema schema, struct ai_row_facts *f)
{
	ai_row_scan(row, strlen(row), schema, f);
}

static char *read_sample(const char *name)
{
	char path[512];
	static char buf[8192];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "%s/%s", TEST_DATA_DIR, name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "sample %s", path);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	return buf;
}

Test(rowscan, finds_continuous_export_fields_in_the_docs_sample)
{
	struct ai_row_facts f;

	scan(read_sample("request_msdocs_example.json"), AI_SCHEMA_CONTINUOUS, &f);
	cr_assert(f.valid);
	cr_assert(f.has_time);
	cr_assert_eq(f.event_time, 1458554745 * AI_NS_PER_SEC + 733471700);
	cr_assert_str_eq(f.op_id, "fCOhCdCnZ9I=");
	cr_assert_str_eq(f.role, "", "the sample has no roleName");
}

Test(rowscan, finds_diagnostic_settings_fields_in_the_sample)
{
	struct ai_row_facts f;

	scan(read_sample("diag_AppRequests.json"), AI_SCHEMA_DIAGNOSTIC, &f);
	cr_assert(f.valid);
	cr_assert(f.has_time);
	cr_assert_eq(f.event_time, 1619736074 * AI_NS_PER_SEC + 123838100);
	cr_assert_str_eq(f.op_id, "12345");
	cr_assert_str_eq(f.role, "functionAppName goes here");
}

Test(rowscan, finds_workspace_export_fields_and_the_record_ids)
{
	struct ai_row_facts f;

	scan(read_sample("ws_AppRequests.json"), AI_SCHEMA_WORKSPACE, &f);
	cr_assert(f.valid);
	cr_assert(f.has_time);
	cr_assert_eq(f.event_time, 1619736074 * AI_NS_PER_SEC + 123838100);
	cr_assert_str_eq(f.op_id, "12345");
	cr_assert_str_eq(f.role, "functionAppName goes here");
	cr_assert_str_eq(f.item_id, "6c1f2a0e-8c0b-4f5e-9d7a-2b1c3d4e5f60");
	cr_assert_str_eq(f.id, "09d760d34d75e847");
	scan("{\"time\":\"2024-05-01T00:00:00Z\",\"Id\":\"x\"}", AI_SCHEMA_WORKSPACE, &f);
	cr_assert_not(f.has_time, "a workspace record's time is TimeGenerated");
	cr_assert_str_eq(f.item_id, "");
	cr_assert_str_eq(f.id, "x");
	scan("{\"internal\":{\"data\":{\"id\":\"ce-1\"}},\"Id\":\"y\"}", AI_SCHEMA_CONTINUOUS,
	     &f);
	cr_assert_str_eq(f.item_id, "ce-1", "continuous export: internal.data.id");
	cr_assert_str_eq(f.id, "", "and no top-level Id");
}

Test(rowscan, takes_fields_only_at_their_paths)
{
	struct ai_row_facts f;

	/* eventTime under custom dimensions or at the top must not count. */
	scan("{\"eventTime\":\"2001-01-01T00:00:00Z\",\"context\":{\"custom\":{\"dimensions\":"
	     "[{\"eventTime\":\"2002-01-01T00:00:00Z\"}]},\"data\":{\"x\":{\"eventTime\":1},"
	     "\"eventTime\":\"2021-05-10T18:10:20.4630000Z\"},\"operation\":{\"id\":\"op\\u00e9\"},"
	     "\"device\":{\"roleName\":\"web\"}}}",
	     AI_SCHEMA_CONTINUOUS, &f);
	cr_assert(f.valid);
	cr_assert_eq(f.event_time, 1620670220 * AI_NS_PER_SEC + 463000000);
	cr_assert_str_eq(f.op_id, "op\xc3\xa9");
	cr_assert_str_eq(f.role, "web");
}

Test(rowscan, key_order_does_not_matter)
{
	struct ai_row_facts f;

	scan("{\"context\":{\"device\":{\"roleName\":\"r\"},\"operation\":{\"id\":\"o\"},\"data\":"
	     "{\"eventTime\":\"2021-05-10T18:10:20.463Z\"}},\"request\":[{}]}",
	     AI_SCHEMA_CONTINUOUS, &f);
	cr_assert(f.valid && f.has_time);
	cr_assert_str_eq(f.op_id, "o");
	cr_assert_str_eq(f.role, "r");
}

struct bad {
	char row[96];
};

ParameterizedTestParameters(rowscan, rejects_malformed_rows)
{
	static struct bad v[] = {
		{ "" }, { "   " }, { "[]" }, { "{" }, { "{\"a\":}" }, { "{\"a\":1,}" },
		{ "{\"a\":1} x" }, { "{\"a\":01}" }, { "{\"a\":1.}" }, { "{\"a\":-}" },
		{ "{\"a\":\"\\x\"}" }, { "{\"a\":\"\\ud800\"}" }, { "{\"a\":tru}" },
		{ "{\"a\":\"unterminated}" }, { "{'a':1}" }, { "{\"a\" 1}" }, { "{\"a\":\"\x01\"}" },
		{ "{\"a\":\"\xc3\x28\"}" }, { "{\"a\":\"\xed\xa0\x80\"}" }, { "{\"a\":[1,2}" },
	};
	return cr_make_param_array(struct bad, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct bad *b, rowscan, rejects_malformed_rows)
{
	struct ai_row_facts f;

	scan(b->row, AI_SCHEMA_CONTINUOUS, &f);
	cr_assert_not(f.valid, "row '%s' must be invalid", b->row);
}

Test(rowscan, accepts_every_json_value_kind)
{
	struct ai_row_facts f;

	scan(" {\"a\":[true,false,null,-0.5e+3,1E2,\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\ud83d\\ude00\"],"
	     "\"b\":{},\"c\":[],\"d\":\"\xf0\x9f\x98\x80\"}\r",
	     AI_SCHEMA_DIAGNOSTIC, &f);
	cr_assert(f.valid);
	cr_assert_not(f.has_time);
}

Test(rowscan, bounds_depth_and_field_length)
{
	struct ai_row_facts f;
	char deep[400], longid[400];
	size_t n = 0;

	for (int i = 0; i < 100; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	scan(deep, AI_SCHEMA_CONTINUOUS, &f);
	cr_assert_not(f.valid);
	memset(longid, 'x', sizeof longid);
	memcpy(longid, "{\"OperationId\":\"", 16);
	memcpy(longid + 300, "\"}", 3);
	scan(longid, AI_SCHEMA_DIAGNOSTIC, &f);
	cr_assert(f.valid);
	cr_assert_str_eq(f.op_id, "", "a too long id is dropped, not truncated");
}

Test(rowscan, a_bad_time_is_not_a_time)
{
	struct ai_row_facts f;

	scan("{\"time\":\"yesterday\",\"OperationId\":\"x\"}", AI_SCHEMA_DIAGNOSTIC, &f);
	cr_assert(f.valid);
	cr_assert_not(f.has_time);
}

/* ai_row_extract over a literal row: the value text at each dotted path. */
static void extract(const char *row, const char *const *dotted, size_t n, char out[][64])
{
	struct ai_row_path paths[8];
	struct ai_row_value vals[8];

	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ai_row_path_parse(dotted[i], &paths[i]), AI_OK, "%s", dotted[i]);
	cr_assert(ai_row_extract(row, strlen(row), paths, n, vals));
	for (size_t i = 0; i < n; i++) {
		struct ai_buf b;
		ai_buf_init(&b, 1 << 20);
		cr_assert_eq(ai_row_value_text(&vals[i], &b), AI_OK);
		snprintf(out[i], 64, "%s", b.data ? b.data : "");
		ai_buf_release(&b);
	}
}

Test(rowscan, extracts_values_at_dotted_paths_and_array_indexes)
{
	static const char *const paths[] = {
		"a.b", "arr.1.x", "arr.0", "n", "t", "nul", "obj", "missing.path", "arr.7.x",
	};
	char got[9][64];

	extract("{\"a\":{\"b\":\"caf\\u00e9 \\\"q\\\"\"},\"arr\":[{\"x\":1},{\"x\":\"two\"}],"
	        "\"n\":-1.5e3,\"t\":true,\"nul\":null,\"obj\":{\"k\": [1, 2]}}",
	        paths, 8, got);
	cr_assert_str_eq(got[0], "caf\xc3\xa9 \"q\"");
	cr_assert_str_eq(got[1], "two");
	cr_assert_str_eq(got[2], "{\"x\":1}");
	cr_assert_str_eq(got[3], "-1.5e3");
	cr_assert_str_eq(got[4], "true");
	cr_assert_str_eq(got[5], "");
	cr_assert_str_eq(got[6], "{\"k\": [1, 2]}");
	cr_assert_str_eq(got[7], "");
}

Test(rowscan, extract_takes_the_first_of_duplicate_keys_and_checks_the_whole_row)
{
	static const char *const paths[] = { "k" };
	struct ai_row_path p;
	struct ai_row_value v;
	char got[1][64];

	extract("{\"k\":\"first\",\"k\":\"second\"}", paths, 1, got);
	cr_assert_str_eq(got[0], "first");
	cr_assert_eq(ai_row_path_parse("k", &p), AI_OK);
	cr_assert(!ai_row_extract("{\"k\":1,}", 8, &p, 1, &v));
	cr_assert(!ai_row_extract("[1]", 3, &p, 1, &v));
}

Test(rowscan, path_parse_rejects_empty_segments_and_too_deep_paths)
{
	struct ai_row_path p;

	cr_assert_eq(ai_row_path_parse("a.b.0", &p), AI_OK);
	cr_assert_eq(p.nseg, 3);
	cr_assert_eq(p.seglen[2], 1);
	cr_assert_neq(ai_row_path_parse("", &p), AI_OK);
	cr_assert_neq(ai_row_path_parse("a..b", &p), AI_OK);
	cr_assert_neq(ai_row_path_parse("a.", &p), AI_OK);
	cr_assert_neq(ai_row_path_parse(".a", &p), AI_OK);
	cr_assert_neq(ai_row_path_parse("a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a", &p), AI_OK);
}

Test(rowscan, a_workspace_record_names_its_app_by_its_resource_id)
{
	struct ai_row_facts f;
	char row[8192];

	scan("{\"_ResourceId\":\"/subscriptions/s/resourcegroups/rg/providers/"
	     "microsoft.insights/components/Shop-Web\",\"TimeGenerated\":\"x\"}",
	     AI_SCHEMA_WORKSPACE, &f);
	cr_assert(f.valid);
	cr_assert_str_eq(f.app, "shop-web", "the last segment, lowercased");
	scan("{\"_ResourceId\":\"\\/subscriptions\\/s\\/COMPONENTS\\/API\\/\"}", AI_SCHEMA_WORKSPACE,
	     &f);
	cr_assert_str_eq(f.app, "api", "escaped slashes and a trailing one");
	scan("{\"TimeGenerated\":\"x\"}", AI_SCHEMA_WORKSPACE, &f);
	cr_assert_str_eq(f.app, "", "none");
	scan("{\"_ResourceId\":\"\"}", AI_SCHEMA_WORKSPACE, &f);
	cr_assert_str_eq(f.app, "", "empty");
	scan("{\"_ResourceId\":\"///\"}", AI_SCHEMA_WORKSPACE, &f);
	cr_assert_str_eq(f.app, "", "no segment");
	scan("{\"_ResourceId\":7}", AI_SCHEMA_WORKSPACE, &f);
	cr_assert_str_eq(f.app, "", "not a string");
	scan("{\"x\":{\"_ResourceId\":\"/a/b\"}}", AI_SCHEMA_WORKSPACE, &f);
	cr_assert_str_eq(f.app, "", "only at the top level");
	scan("{\"_ResourceId\":\"/a/b\"}", AI_SCHEMA_DIAGNOSTIC, &f);
	cr_assert_str_eq(f.app, "", "only for workspace export");
	/* Longer than a _ResourceId is looked at: none. */
	memset(row, 'a', sizeof row);
	memcpy(row, "{\"_ResourceId\":\"/", 17);
	memcpy(row + sizeof row - 3, "\"}", 3);
	scan(row, AI_SCHEMA_WORKSPACE, &f);
	cr_assert(f.valid);
	cr_assert_str_eq(f.app, "");
}
