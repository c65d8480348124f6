/* test_source.c: finding export blobs in a local (file://) source, in both
 * layouts: continuous export (<app>_<ikey>/<Type>/<yyyy-MM-dd>/<HH>/...)
 * and diagnostic settings (insights-logs-<category>/resourceId=/.../
 * y=/m=/d=/h=/m=00/PT1H.json, where the source is the account: a local
 * directory's top folders play its containers), and the workspace data
 * export (am-<table>/WorkspaceResourceId=/.../y=/m=/d=/h=/m=<mm>/PT05M.json,
 * 5-minute folders). Layout detection, the
 * hour window listed without the rest of the history, filters, the app
 * name split at its last '_', and folders that fit no layout skipped. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine/source.h"
#include "store/store.h"
#include "util/parse.h"

#define S(x) ((char[]){ x })
#define H (INT64_C(3600) * AI_NS_PER_SEC)
#define T0 (INT64_C(1714521600) * AI_NS_PER_SEC) /* 2024-05-01T00:00:00Z */
#define IKEY "0123456789abcdef0123456789abcdef"
#define DS_RES "resourceId=/SUBSCRIPTIONS/1111-2222/RESOURCEGROUPS/RG-ONE/PROVIDERS/" \
               "MICROSOFT.INSIGHTS/COMPONENTS/"

static char tmpdir[256];
static struct ai_store *src;

#define OK(call) \
	do { \
		ai_result r_ = (call); \
		cr_assert_eq(r_, AI_OK, "%s: %s (%s)", #call, ai_strerror(r_), \
		             ai_store_last_error()); \
	} while (0)

static void setup(void)
{
	struct ai_store_config cfg = { 0 };
	const char *t = getenv("TMPDIR");
	char url[512];

	snprintf(tmpdir, sizeof tmpdir, "%s/aiarchive-test-source-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(url, sizeof url, "file://%s/src", tmpdir);
	cfg.url = url;
	OK(ai_store_open(&src, &cfg));
	OK(ai_store_create_container(src));
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	ai_store_free(src);
	src = NULL;
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

TestSuite(source, .init = setup, .fini = teardown, .timeout = 30);

static void put(const char *name, const char *content)
{
	OK(ai_store_put(src, name, content, strlen(content), 0, NULL, NULL));
}

static void put_append(const char *name, const char *content)
{
	OK(ai_store_put(src, name, NULL, 0, AI_PUT_APPEND_BLOB, NULL, NULL));
	if (*content)
		OK(ai_store_append(src, name, content, strlen(content), AI_APPEND_ANY));
}

/* A continuous-export blob of app/type at hour T0 + h hours. */
static void put_ce(const char *app_folder, const char *type, int h, const char *leaf)
{
	char name[1024], iso[AI_TIME_STRLEN];

	ai_time_format(T0 + h * H, 0, iso);
	snprintf(name, sizeof name, "%s/%s/%.10s/%.2s/%s", app_folder, type, iso, iso + 11, leaf);
	put(name, "{\"a\":1}\n");
}

/* A diagnostic-settings PT1H.json of category and resource at hour T0 + h. */
static void put_ds(const char *category, const char *resource, int h, const char *content)
{
	char name[1024], iso[AI_TIME_STRLEN];

	ai_time_format(T0 + h * H, 0, iso);
	snprintf(name, sizeof name, "insights-logs-%s/" DS_RES "%s/y=%.4s/m=%.2s/d=%.2s/h=%.2s/m=00/PT1H.json",
	         category, resource, iso, iso + 5, iso + 8, iso + 11);
	put_append(name, content);
}

#define WS_RES "WorkspaceResourceId=/subscriptions/1111-2222/resourcegroups/rg-one/providers/" \
               "microsoft.operationalinsights/workspaces/"

/* A workspace export blob of table and workspace at hour T0 + h, in the
 * 5-minute folder of minute min, named leaf (PT05M.json, PT05M_1.json). */
static void put_ws(const char *table, const char *ws, int h, int min, const char *leaf,
                   const char *content)
{
	char name[1024], iso[AI_TIME_STRLEN];

	ai_time_format(T0 + h * H, 0, iso);
	snprintf(name, sizeof name, "am-%s/" WS_RES "%s/y=%.4s/m=%.2s/d=%.2s/h=%.2s/m=%02d/%s",
	         table, ws, iso, iso + 5, iso + 8, iso + 11, min, leaf);
	put_append(name, content);
}

static struct ai_source_filter window(ai_time from, ai_time to)
{
	struct ai_source_filter f = { .from = from, .to = to };
	return f;
}

static void scan(enum ai_layout layout, const struct ai_source_filter *f, struct ai_source_list *l)
{
	ai_source_list_init(l);
	OK(ai_source_scan(src, layout, f, l));
}

static uint64_t list_requests(void)
{
	struct ai_store_stats s;

	ai_store_get_stats(src, &s);
	return s.requests[AI_REQ_LIST];
}

/* Hours (from T0) around a window of [10, 12): the same day, the days
 * around it, last week, last month. */
static const int history[] = { -24 * 31, -24 * 7, -14, -1, 0, 9, 12, 13, 23, 24 + 10, 48 + 11 };

/* ---- layouts ---- */

struct layout_case {
	char text[32];
	ai_result r;
	enum ai_layout layout;
};

ParameterizedTestParameters(source, layout_names_parse)
{
	static struct layout_case cases[] = {
		{ "auto", AI_OK, AI_LAYOUT_AUTO },
		{ "continuous-export", AI_OK, AI_LAYOUT_CONTINUOUS },
		{ "continuous", AI_OK, AI_LAYOUT_CONTINUOUS },
		{ "diagnostic-settings", AI_OK, AI_LAYOUT_DIAGNOSTIC },
		{ "diagnostic", AI_OK, AI_LAYOUT_DIAGNOSTIC },
		{ "workspace-export", AI_OK, AI_LAYOUT_WORKSPACE },
		{ "workspace", AI_OK, AI_LAYOUT_WORKSPACE },
		{ "", AI_ERR_USAGE, AI_LAYOUT_AUTO },
		{ "Continuous-Export", AI_ERR_USAGE, AI_LAYOUT_AUTO },
		{ "export", AI_ERR_USAGE, AI_LAYOUT_AUTO },
	};
	return cr_make_param_array(struct layout_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct layout_case *c, source, layout_names_parse)
{
	enum ai_layout l = AI_LAYOUT_AUTO;

	cr_assert_eq(ai_layout_parse(c->text, &l), c->r, "'%s'", c->text);
	if (c->r == AI_OK)
		cr_assert_eq(l, c->layout, "'%s'", c->text);
}

Test(source, no_layout_given_means_auto_and_names_round_trip)
{
	enum ai_layout l = AI_LAYOUT_CONTINUOUS;

	OK(ai_layout_parse(NULL, &l));
	cr_assert_eq(l, AI_LAYOUT_AUTO);
	cr_assert_str_eq(ai_layout_name(AI_LAYOUT_CONTINUOUS), "continuous-export");
	cr_assert_str_eq(ai_layout_name(AI_LAYOUT_DIAGNOSTIC), "diagnostic-settings");
	OK(ai_layout_parse(ai_layout_name(AI_LAYOUT_DIAGNOSTIC), &l));
	cr_assert_eq(l, AI_LAYOUT_DIAGNOSTIC);
}

Test(source, detects_continuous_export_from_app_folders)
{
	enum ai_layout l = AI_LAYOUT_AUTO;

	put_ce("shop_" IKEY, "Requests", 10, "a.blob");
	OK(ai_source_detect(src, &l));
	cr_assert_eq(l, AI_LAYOUT_CONTINUOUS);
}

Test(source, detects_diagnostic_settings_from_insights_logs_containers)
{
	enum ai_layout l = AI_LAYOUT_AUTO;

	put("am-other/x.json", "{}\n");
	put_ds("apprequests", "SHOP", 10, "{}\n");
	OK(ai_source_detect(src, &l));
	cr_assert_eq(l, AI_LAYOUT_DIAGNOSTIC);
}

Test(source, detects_a_workspace_export_from_am_containers)
{
	enum ai_layout l = AI_LAYOUT_AUTO;

	put_ws("apprequests", "law", 10, 5, "PT05M.json", "{}\n");
	OK(ai_source_detect(src, &l));
	cr_assert_eq(l, AI_LAYOUT_WORKSPACE);
}

Test(source, an_empty_source_is_taken_for_continuous_export)
{
	enum ai_layout l = AI_LAYOUT_AUTO;

	OK(ai_source_detect(src, &l));
	cr_assert_eq(l, AI_LAYOUT_CONTINUOUS);
}

Test(source, a_missing_source_directory_fails_the_scan)
{
	struct ai_store_config cfg = { 0 };
	struct ai_store *gone;
	struct ai_source_list l;
	struct ai_source_filter f = window(T0, T0 + H);
	char url[512];

	snprintf(url, sizeof url, "file://%s/nope", tmpdir);
	cfg.url = url;
	OK(ai_store_open(&gone, &cfg));
	ai_source_list_init(&l);
	cr_assert_neq(ai_source_scan(gone, AI_LAYOUT_AUTO, &f, &l), AI_OK);
	cr_assert_eq(l.n, 0);
	ai_source_list_release(&l);
	ai_store_free(gone);
}

/* ---- continuous-export app folders ---- */

struct app_case {
	char folder[128];
	int ok;
	char app[64];
};

ParameterizedTestParameters(source, app_folder_names)
{
	static struct app_case cases[] = {
		{ "shop_" IKEY, 1, "shop" },
		{ "Shop-Web_" IKEY, 1, "shop-web" },
		{ "billing_api_" IKEY, 1, "billing_api" },            /* split at the last '_' */
		{ "a_b_c_" IKEY, 1, "a_b_c" },
		{ "x_0123456789ABCDEF0123456789ABCDEF", 1, "x" },      /* uppercase hex */
		{ "_" IKEY, 0, "" },                                  /* no app name */
		{ "shop" IKEY, 0, "" },                               /* no '_' */
		{ "shop_0123456789abcdef0123456789abcde", 0, "" },    /* 31 digits */
		{ "shop_0123456789abcdef0123456789abcdef0", 0, "" },  /* 33 digits */
		{ "shop_0123456789abcdef0123456789abcdeg", 0, "" },   /* not hex */
		{ "shop_" IKEY "_x", 0, "" },                         /* ikey not last */
		{ "shop_01234567-89ab-cdef-0123-456789abcdef", 0, "" },/* dashed ikey */
		{ "", 0, "" },
	};
	return cr_make_param_array(struct app_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct app_case *c, source, app_folder_names)
{
	char app[64] = "junk";
	int ok = ai_source_parse_app_folder(c->folder, strlen(c->folder), app, sizeof app);

	cr_assert_eq(ok, c->ok, "'%s'", c->folder);
	if (ok)
		cr_assert_str_eq(app, c->app, "'%s'", c->folder);
}

Test(source, app_folder_parsing_reads_only_len_bytes_and_respects_cap)
{
	char app[8];

	/* the listing hands prefixes with their '/': only len bytes count */
	cr_assert(ai_source_parse_app_folder("shop_" IKEY "/", 37, app, sizeof app));
	cr_assert_str_eq(app, "shop");
	cr_assert_not(ai_source_parse_app_folder("shop_" IKEY "/", 38, app, sizeof app));
	cr_assert_not(ai_source_parse_app_folder("longname_" IKEY, 41, app, sizeof app),
	              "an app name that does not fit is refused, not cut");
	cr_assert(ai_source_parse_app_folder("sevench_" IKEY, 40, app, sizeof app));
	cr_assert_str_eq(app, "sevench");
}

/* ---- continuous-export scans ---- */

Test(source, lists_the_blobs_of_the_window_with_app_type_hour_and_properties)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 12 * H);
	struct ai_blob_info info;

	put_ce("Shop_" IKEY, "Requests", 10, "b.blob");
	put_ce("Shop_" IKEY, "Requests", 10, "a.blob");
	put_ce("Shop_" IKEY, "Requests", 11, "c.blob");
	put_ce("Shop_" IKEY, "Exceptions", 11, "d.blob");
	put_ce("billing_api_" IKEY, "Requests", 10, "e.blob");
	put_ce("Shop_" IKEY, "Requests", 9, "before.blob");
	put_ce("Shop_" IKEY, "Requests", 12, "after.blob");
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(l.n, 5);
	/* sorted by app, type, hour, name */
	cr_assert_str_eq(l.items[0].name, "billing_api_" IKEY "/Requests/2024-05-01/10/e.blob");
	cr_assert_str_eq(l.items[0].app, "billing_api");
	cr_assert_str_eq(l.items[1].name, "Shop_" IKEY "/Exceptions/2024-05-01/11/d.blob");
	cr_assert_str_eq(l.items[1].app, "shop", "the app name is lowercased");
	cr_assert_str_eq(l.items[1].type, "Exceptions", "the type is kept as it is");
	cr_assert_str_eq(l.items[2].name, "Shop_" IKEY "/Requests/2024-05-01/10/a.blob");
	cr_assert_str_eq(l.items[3].name, "Shop_" IKEY "/Requests/2024-05-01/10/b.blob");
	cr_assert_str_eq(l.items[4].name, "Shop_" IKEY "/Requests/2024-05-01/11/c.blob");
	cr_assert_eq(l.items[2].hour, T0 + 10 * H);
	cr_assert_eq(l.items[4].hour, T0 + 11 * H);
	OK(ai_store_props(src, l.items[2].name, &info, NULL));
	cr_assert_eq(l.items[2].size, info.size);
	cr_assert_eq(l.items[2].size, 8);
	cr_assert_str_eq(l.items[2].etag, info.etag);
	cr_assert_eq(l.items[2].last_modified, info.last_modified);
	cr_assert_eq(l.items[2].append, 0, "a block blob will not grow");
	ai_blob_info_release(&info);
	ai_source_list_release(&l);
}

Test(source, listing_a_window_reads_no_folder_outside_it)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 12 * H);
	uint64_t before, small, big;
	char leaf[64];

	put_ce("shop_" IKEY, "Requests", 10, "a.blob");
	put_ce("shop_" IKEY, "Requests", 11, "b.blob");
	before = list_requests();
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	small = list_requests() - before;
	cr_assert_gt(small, 0);
	ai_source_list_release(&l);
	/* history outside the window: other hours, days and months */
	for (size_t i = 0; i < sizeof history / sizeof history[0]; i++) {
		snprintf(leaf, sizeof leaf, "old-%d.blob", history[i]);
		put_ce("shop_" IKEY, "Requests", history[i], leaf);
	}
	before = list_requests();
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	big = list_requests() - before;
	cr_assert_eq(l.n, 2, "only the window's blobs");
	cr_assert_eq(big, small, "the history outside the window is not listed (%llu vs %llu "
	             "requests)", (unsigned long long)big, (unsigned long long)small);
	ai_source_list_release(&l);
}

Test(source, the_whole_history_before_to_is_listed_without_a_from)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(AI_TIME_MIN, T0 + 12 * H);

	put_ce("shop_" IKEY, "Requests", -24 * 30, "month-ago.blob");
	put_ce("shop_" IKEY, "Requests", 11, "b.blob");
	put_ce("shop_" IKEY, "Requests", 12, "at-to.blob");
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.items[0].hour, T0 - 24 * 30 * H, "the hour comes from the folder names");
	cr_assert_str_eq(l.items[1].name, "shop_" IKEY "/Requests/2024-05-01/11/b.blob");
	cr_assert_eq(l.items[1].hour, T0 + 11 * H);
	ai_source_list_release(&l);
}

Test(source, folders_and_files_that_fit_no_layout_are_skipped)
{
	struct ai_source_filter windows[2] = { window(T0 + 10 * H, T0 + 11 * H),
	                                       window(AI_TIME_MIN, T0 + 11 * H) };

	put("README.txt", "hello\n");
	put("notanapp/Requests/2024-05-01/10/x.blob", "{}\n");
	put("shop_123/Requests/2024-05-01/10/x.blob", "{}\n");
	put("_" IKEY "/Requests/2024-05-01/10/x.blob", "{}\n");
	put("shop_" IKEY "/loose.blob", "{}\n");
	put("shop_" IKEY "/Requests/loose.blob", "{}\n");
	put("shop_" IKEY "/Requests/garbage/10/x.blob", "{}\n");
	put("shop_" IKEY "/Requests/2024-13-45/10/x.blob", "{}\n");
	put("shop_" IKEY "/Requests/2024-05-01/xx/x.blob", "{}\n");
	put("shop_" IKEY "/Requests/2024-05-01/10/good.blob", "{}\n");
	put("shop_" IKEY "/R e q/2024-05-01/10/odd type.blob", "{}\n");
	for (int i = 0; i < 2; i++) {
		struct ai_source_list l;
		scan(AI_LAYOUT_CONTINUOUS, &windows[i], &l);
		cr_assert_eq(l.n, 2, "window %d: %zu items", i, l.n);
		cr_assert_str_eq(l.items[0].name, "shop_" IKEY "/R e q/2024-05-01/10/odd type.blob");
		cr_assert_str_eq(l.items[0].type, "R e q");
		cr_assert_str_eq(l.items[1].name, "shop_" IKEY "/Requests/2024-05-01/10/good.blob");
		ai_source_list_release(&l);
	}
}

Test(source, app_and_type_filters_ignore_case)
{
	struct ai_source_list l;
	char *apps[] = { S("SHOP") }, *types[] = { S("requests"), S("traces") };
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);

	put_ce("shop_" IKEY, "Requests", 10, "a.blob");
	put_ce("shop_" IKEY, "Exceptions", 10, "b.blob");
	put_ce("web_" IKEY, "Requests", 10, "c.blob");
	f.apps = apps;
	f.napps = 1;
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(l.n, 2);
	ai_source_list_release(&l);
	f.types = types;
	f.ntypes = 2;
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.items[0].name, "shop_" IKEY "/Requests/2024-05-01/10/a.blob");
	ai_source_list_release(&l);
	f.napps = 0;
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(l.n, 2, "types alone, every app");
	ai_source_list_release(&l);
}

Test(source, filter_values_that_match_no_folder_are_named_with_the_nearest_names)
{
	struct ai_source_list l;
	struct ai_source_unmatched u[4];
	char *apps[] = { S("shopweb"), S("SHOP") }, *types[] = { S("Request") };
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);

	put_ce("shop_" IKEY, "Requests", 10, "a.blob");
	put_ce("shopapi_" IKEY, "Event", 3, "b.blob"); /* outside the window: still seen */
	put_ce("web_" IKEY, "Traces", 10, "c.blob");
	f.apps = apps;
	f.napps = 2;
	f.types = types;
	f.ntypes = 1;
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(l.n, 0);
	cr_assert_eq(l.apps_seen.n, 3);
	cr_assert_eq(ai_source_unmatched(&f, &l, AI_LAYOUT_CONTINUOUS, u, 4), 1,
	             "an unmatched app holds back the judgement of the types");
	cr_assert_str_eq(u[0].option, "--app");
	cr_assert_str_eq(u[0].value, "shopweb");
	cr_assert_eq(u[0].known, 3);
	cr_assert_eq(u[0].n, 2, "shopweb is 3 edits from shop and from shopapi, 6 from web");
	cr_assert_str_eq(u[0].nearest[0], "shop");
	cr_assert_str_eq(u[0].nearest[1], "shopapi");
	ai_source_list_release(&l);

	f.napps = 0;
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(ai_source_unmatched(&f, &l, AI_LAYOUT_CONTINUOUS, u, 4), 1);
	cr_assert_str_eq(u[0].option, "--type");
	cr_assert_str_eq(u[0].nearest[0], "Requests");
	ai_source_list_release(&l);

	types[0] = S("REQUESTS");
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(ai_source_unmatched(&f, &l, AI_LAYOUT_CONTINUOUS, u, 4), 0,
	             "names match without case");
	ai_source_list_release(&l);
}

Test(source, edit_distance_and_nearest_names)
{
	struct ai_strvec v = AI_STRVEC_INIT;
	const char *near[3];

	cr_assert_eq(ai_edit_distance("", ""), 0);
	cr_assert_eq(ai_edit_distance("shop", "SHOP"), 0);
	cr_assert_eq(ai_edit_distance("kitten", "sitting"), 3);
	cr_assert_eq(ai_edit_distance("Request", "Requests"), 1);
	cr_assert_eq(ai_edit_distance("", "abc"), 3);
	cr_assert_eq(ai_strvec_nearest(&v, "x", near, 3), 0);
	OK(ai_strvec_push_new(&v, "Requests"));
	OK(ai_strvec_push_new(&v, "Requests"));
	OK(ai_strvec_push_new(&v, "Exceptions"));
	OK(ai_strvec_push_new(&v, "Traces"));
	cr_assert_eq(v.n, 3, "push_new keeps each name once");
	cr_assert(ai_strvec_has_nocase(&v, "traces"));
	cr_assert_eq(ai_strvec_nearest(&v, "Request", near, 3), 1);
	cr_assert_str_eq(near[0], "Requests");
	cr_assert_eq(ai_strvec_nearest(&v, "Tracez", near, 1), 1);
	cr_assert_str_eq(near[0], "Traces");
	ai_strvec_release(&v);
}

Test(source, an_append_blob_is_marked_as_one_that_may_grow)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);

	put_append("shop_" IKEY "/Requests/2024-05-01/10/a.blob", "{\"a\":1}\n{\"a\"");
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.items[0].append, 1);
	cr_assert_eq(l.items[0].size, 12);
	ai_source_list_release(&l);
}

Test(source, scanning_with_auto_detects_the_layout_first)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);

	put_ce("shop_" IKEY, "Requests", 10, "a.blob");
	scan(AI_LAYOUT_AUTO, &f, &l);
	cr_assert_eq(l.n, 1);
	ai_source_list_release(&l);
}

Test(source, an_empty_window_lists_nothing)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 10 * H);

	put_ce("shop_" IKEY, "Requests", 10, "a.blob");
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(l.n, 0);
	ai_source_list_release(&l);
}

/* ---- diagnostic settings ---- */

Test(source, diagnostic_blobs_get_category_resource_and_hour)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 12 * H);

	put_ds("apprequests", "SHOP-WEB", 10, "{}\n");
	put_ds("apprequests", "SHOP-WEB", 11, "{}\n");
	put_ds("appexceptions", "SHOP-WEB", 11, "{}\n");
	put_ds("apprequests", "BILLING", 10, "");
	put_ds("apprequests", "SHOP-WEB", 9, "{}\n");
	put_ds("apprequests", "SHOP-WEB", 12, "{}\n");
	scan(AI_LAYOUT_DIAGNOSTIC, &f, &l);
	cr_assert_eq(l.n, 4);
	cr_assert_str_eq(l.items[0].app, "billing");
	cr_assert_str_eq(l.items[0].type, "apprequests");
	cr_assert_eq(l.items[0].size, 0);
	cr_assert_str_eq(l.items[1].app, "shop-web");
	cr_assert_str_eq(l.items[1].type, "appexceptions");
	cr_assert_str_eq(l.items[2].type, "apprequests");
	cr_assert_eq(l.items[2].hour, T0 + 10 * H);
	cr_assert_eq(l.items[3].hour, T0 + 11 * H);
	cr_assert_str_eq(l.items[3].name, "insights-logs-apprequests/" DS_RES
	                 "SHOP-WEB/y=2024/m=05/d=01/h=11/m=00/PT1H.json");
	for (size_t i = 0; i < l.n; i++)
		cr_assert_eq(l.items[i].append, 1, "PT1H.json grows during its hour");
	ai_source_list_release(&l);
}

Test(source, diagnostic_window_reads_no_hour_outside_it)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);
	uint64_t before, small, big;

	put_ds("apprequests", "SHOP", 10, "{}\n");
	before = list_requests();
	scan(AI_LAYOUT_DIAGNOSTIC, &f, &l);
	small = list_requests() - before;
	ai_source_list_release(&l);
	for (size_t i = 0; i < sizeof history / sizeof history[0]; i++)
		put_ds("apprequests", "SHOP", history[i], "{}\n");
	before = list_requests();
	scan(AI_LAYOUT_DIAGNOSTIC, &f, &l);
	big = list_requests() - before;
	cr_assert_eq(l.n, 1);
	cr_assert_eq(big, small, "%llu vs %llu requests", (unsigned long long)big,
	             (unsigned long long)small);
	ai_source_list_release(&l);
}

Test(source, diagnostic_whole_history_takes_hours_from_the_names)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(AI_TIME_MIN, T0 + 11 * H);

	put_ds("apprequests", "SHOP", -24 * 60, "{}\n");
	put_ds("apprequests", "SHOP", 10, "{}\n");
	put_ds("apprequests", "SHOP", 11, "{}\n");
	put("insights-logs-apprequests/" DS_RES "SHOP/y=2024/m=05/notes.txt", "x\n");
	scan(AI_LAYOUT_DIAGNOSTIC, &f, &l);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.items[0].hour, T0 - 24 * 60 * H);
	cr_assert_eq(l.items[1].hour, T0 + 10 * H);
	ai_source_list_release(&l);
}

Test(source, diagnostic_scans_read_only_insights_logs_containers_and_filter_them)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);
	char *types[] = { S("AppRequests") }, *apps[] = { S("billing") };

	put_ds("apprequests", "SHOP", 10, "{}\n");
	put_ds("apprequests", "BILLING", 10, "{}\n");
	put_ds("apptraces", "SHOP", 10, "{}\n");
	put("am-containerlogs/" DS_RES "SHOP/y=2024/m=05/d=01/h=10/m=00/PT1H.json", "{}\n");
	put("insights-metrics-pt1m/" DS_RES "SHOP/y=2024/m=05/d=01/h=10/m=00/PT1H.json", "{}\n");
	scan(AI_LAYOUT_DIAGNOSTIC, &f, &l);
	cr_assert_eq(l.n, 3);
	ai_source_list_release(&l);
	f.types = types;
	f.ntypes = 1;
	scan(AI_LAYOUT_DIAGNOSTIC, &f, &l);
	cr_assert_eq(l.n, 2, "the category filter ignores case");
	ai_source_list_release(&l);
	f.apps = apps;
	f.napps = 1;
	scan(AI_LAYOUT_DIAGNOSTIC, &f, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.items[0].app, "billing");
	ai_source_list_release(&l);
}

/* ---- workspace export ---- */

Test(source, workspace_blobs_of_an_hour_come_from_its_5_minute_folders_with_rollovers)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);

	put_ws("apprequests", "Contoso-Logs", 10, 0, "PT05M.json", "{}\n");
	put_ws("apprequests", "Contoso-Logs", 10, 55, "PT05M.json", "{}\n");
	put_ws("apprequests", "Contoso-Logs", 10, 55, "PT05M_1.json", "{}\n");
	put_ws("appdependencies", "Contoso-Logs", 10, 30, "PT05M.json", "{}\n");
	put_ws("apprequests", "Contoso-Logs", 11, 0, "PT05M.json", "{}\n");
	put_ws("apprequests", "Contoso-Logs", 9, 55, "PT05M.json", "{}\n");
	put_ds("apprequests", "SHOP", 10, "{}\n");
	scan(AI_LAYOUT_WORKSPACE, &f, &l);
	cr_assert_eq(l.n, 4);
	cr_assert_str_eq(l.items[0].type, "appdependencies");
	for (size_t i = 0; i < l.n; i++) {
		cr_assert_str_eq(l.items[i].app, "contoso-logs", "the workspace, lowercased");
		cr_assert_eq(l.items[i].hour, T0 + 10 * H);
		cr_assert_eq(l.items[i].append, 1);
	}
	cr_assert_str_eq(l.items[3].name, "am-apprequests/" WS_RES
	                 "Contoso-Logs/y=2024/m=05/d=01/h=10/m=55/PT05M_1.json");
	ai_source_list_release(&l);
}

Test(source, workspace_window_costs_one_listing_per_hour_whatever_the_history)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 12 * H);
	uint64_t before, small, big;

	put_ws("apprequests", "law", 10, 5, "PT05M.json", "{}\n");
	before = list_requests();
	scan(AI_LAYOUT_WORKSPACE, &f, &l);
	small = list_requests() - before;
	ai_source_list_release(&l);
	for (size_t i = 0; i < sizeof history / sizeof history[0]; i++)
		for (int m = 0; m < 60; m += 5)
			put_ws("apprequests", "law", history[i], m, "PT05M.json", "{}\n");
	before = list_requests();
	scan(AI_LAYOUT_WORKSPACE, &f, &l);
	big = list_requests() - before;
	cr_assert_eq(l.n, 1, "no hour of the history is in the window");
	cr_assert_eq(big, small, "%llu vs %llu requests", (unsigned long long)big,
	             (unsigned long long)small);
	ai_source_list_release(&l);
}

Test(source, workspace_filters_take_the_table_in_any_case_and_the_workspace)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);
	char *types[] = { S("AppRequests") }, *apps[] = { S("LAW-B") };

	put_ws("apprequests", "law-a", 10, 5, "PT05M.json", "{}\n");
	put_ws("apprequests", "law-b", 10, 5, "PT05M.json", "{}\n");
	put_ws("apptraces", "law-b", 10, 5, "PT05M.json", "{}\n");
	f.types = types;
	f.ntypes = 1;
	f.apps = apps;
	f.napps = 1;
	scan(AI_LAYOUT_WORKSPACE, &f, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.items[0].app, "law-b");
	cr_assert_str_eq(l.items[0].type, "apprequests");
	ai_source_list_release(&l);
}

Test(source, workspace_whole_history_takes_hours_from_the_names)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(AI_TIME_MIN, T0 + 11 * H);

	put_ws("apprequests", "law", -24 * 30, 40, "PT05M.json", "{}\n");
	put_ws("apprequests", "law", 10, 55, "PT05M_2.json", "{}\n");
	put_ws("apprequests", "law", 11, 0, "PT05M.json", "{}\n");
	scan(AI_LAYOUT_WORKSPACE, &f, &l);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.items[0].hour, T0 - 24 * 30 * H);
	cr_assert_eq(l.items[1].hour, T0 + 10 * H);
	ai_source_list_release(&l);
}

Test(source, a_workspace_folder_settles_after_the_late_window)
{
	int64_t g = 15 * 60 * AI_NS_PER_SEC, late = 13 * H;

	cr_assert_eq(ai_source_settle(AI_LAYOUT_WORKSPACE, g, late), late);
	cr_assert_eq(ai_source_settle(AI_LAYOUT_WORKSPACE, 14 * H, late), 14 * H);
	cr_assert_eq(ai_source_settle(AI_LAYOUT_DIAGNOSTIC, g, late), g);
	cr_assert_eq(ai_source_settle(AI_LAYOUT_CONTINUOUS, g, late), g);
	cr_assert_eq(ai_layout_schema(AI_LAYOUT_WORKSPACE), AI_SCHEMA_WORKSPACE);
	cr_assert_eq(ai_layout_schema_named("workspace-export"), AI_SCHEMA_WORKSPACE);
	cr_assert_eq(ai_layout_schema_named("diagnostic-settings"), AI_SCHEMA_DIAGNOSTIC);
	cr_assert_eq(ai_layout_schema_named("something-else"), AI_SCHEMA_CONTINUOUS);
}

Test(source, a_list_can_be_released_twice_and_reused)
{
	struct ai_source_list l;
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);

	put_ce("shop_" IKEY, "Requests", 10, "a.blob");
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	ai_source_list_release(&l);
	ai_source_list_release(&l);
	cr_assert_eq(l.n, 0);
	OK(ai_source_scan(src, AI_LAYOUT_CONTINUOUS, &f, &l));
	cr_assert_eq(l.n, 1);
	ai_source_list_release(&l);
}

/* ---- names that cannot be archived safely ---- */

struct name_case {
	char name[80];
	int ok;
	char reason[64];
};

ParameterizedTestParameters(source, names_that_cannot_be_archived_safely)
{
	static struct name_case cases[] = {
		{ "shop_" IKEY "/Requests/2024-05-01/10/a.blob", 1, "" },
		{ "insights-logs-x/resourceId=/S/y=2024/PT1H.json", 1, "" },
		{ "caf\xc3\xa9/with space/a.blob", 1, "" },
		{ "a/b/", 1, "" },                                   /* a folder */
		{ "..x/.y/z..", 1, "" },                             /* dots inside segments */
		{ "a/b\nc.blob", 0, "control characters in the name" },
		{ "a/b\tc", 0, "control characters in the name" },
		{ "a\x1b[2J/b", 0, "control characters in the name" },
		{ "a/\x7f", 0, "control characters in the name" },
		{ "a/\xc2\x9b" "b", 0, "control characters in the name" },
		{ "a/\xff.blob", 0, "name is not valid UTF-8" },
		{ "", 0, "empty name" },
		{ "/", 0, "empty name" },
		{ "a//b", 0, "an empty path segment" },
		{ "/a", 0, "an empty path segment" },
		{ "a//", 0, "an empty path segment" },
		{ "a/../b", 0, "a '.' or '..' path segment" },
		{ "a/./b", 0, "a '.' or '..' path segment" },
		{ "../a", 0, "a '.' or '..' path segment" },
		{ "a/..", 0, "a '.' or '..' path segment" },
		{ "a/../", 0, "a '.' or '..' path segment" },
	};
	return cr_make_param_array(struct name_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct name_case *c, source, names_that_cannot_be_archived_safely)
{
	const char *why = "untouched";

	cr_assert_eq(ai_source_name_ok(c->name, &why), c->ok, "'%s'", c->name);
	cr_assert_str_eq(why, c->ok ? "untouched" : c->reason, "'%s'", c->name);
}

Test(source, over_long_names_and_segments_cannot_be_archived)
{
	char name[AI_SOURCE_NAME_MAX + 8];
	const char *why = NULL;

	memset(name, 'a', sizeof name);
	for (size_t i = 200; i < sizeof name; i += 201)
		name[i] = '/';
	name[AI_SOURCE_NAME_MAX] = '\0';
	cr_assert(ai_source_name_ok(name, &why), "1024 bytes are fine");
	name[AI_SOURCE_NAME_MAX] = 'a';
	name[AI_SOURCE_NAME_MAX + 1] = '\0';
	cr_assert_not(ai_source_name_ok(name, &why));
	cr_assert_str_eq(why, "name longer than 1024 bytes");
	memset(name, 'b', 256);
	name[256] = '\0';
	cr_assert_not(ai_source_name_ok(name, &why));
	cr_assert_str_eq(why, "a path segment longer than 255 bytes");
	name[255] = '\0';
	cr_assert(ai_source_name_ok(name, &why));
}

struct part_case {
	char part[32];
	int type;
	int ok;
	char reason[64];
};

ParameterizedTestParameters(source, app_and_type_names_must_be_one_safe_segment)
{
	static struct part_case cases[] = {
		{ "shop", 0, 1, "" },
		{ "Requests", 1, 1, "" },
		{ "a.b", 0, 1, "" },
		{ ".hidden", 1, 1, "" },
		{ "", 0, 0, "empty app name" },
		{ "", 1, 0, "empty type name" },
		{ "..", 0, 0, "app name is '.' or '..'" },
		{ ".", 1, 0, "type name is '.' or '..'" },
		{ "a\\..", 0, 0, "app name holds a slash or a backslash" },
		{ "a/b", 1, 0, "type name holds a slash or a backslash" },
		{ "shop.", 0, 0, "app name ends with '.'" },
		{ "we\nb", 0, 0, "control characters in the app name" },
		{ "Req\x1buests", 1, 0, "control characters in the type name" },
		{ "\xe2\x82", 1, 0, "type name is not valid UTF-8" },
	};
	return cr_make_param_array(struct part_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct part_case *c, source, app_and_type_names_must_be_one_safe_segment)
{
	const char *why = "untouched";

	cr_assert_eq(ai_source_part_ok(c->part, c->type, &why), c->ok, "'%s'", c->part);
	cr_assert_str_eq(why, c->ok ? "untouched" : c->reason, "'%s'", c->part);
}

static const struct ai_source_quarantined *find_q(const struct ai_source_list *l, const char *name)
{
	for (size_t i = 0; i < l->nquarantined; i++)
		if (strcmp(l->quarantined[i].name, name) == 0)
			return &l->quarantined[i];
	return NULL;
}

Test(source, poison_names_are_quarantined_apart_and_do_not_stop_the_rest)
{
	struct ai_source_filter windows[2] = { window(T0 + 10 * H, T0 + 11 * H),
	                                       window(AI_TIME_MIN, T0 + 11 * H) };

	put_ce("shop_" IKEY, "Requests", 10, "good.blob");
	put_ce("shop_" IKEY, "Requests", 10, "bad\nname.blob");
	put_ce("shop_" IKEY, "Requests", 10, "bad\xff.blob");
	put_ce("shop_" IKEY, "Req\x1buests", 10, "x.blob");
	put_ce("shop_" IKEY, "Requests.", 10, "x.blob");
	put_ce("we\nb_" IKEY, "Requests", 10, "x.blob");
	put_ce("_" IKEY, "Requests", 10, "x.blob");
	put_ce("web_" IKEY, "Requests", 10, "fine.blob");
	for (int i = 0; i < 2; i++) {
		struct ai_source_list l;
		const struct ai_source_quarantined *q;
		scan(AI_LAYOUT_CONTINUOUS, &windows[i], &l);
		cr_assert_eq(l.n, 2, "window %d: %zu items", i, l.n);
		cr_assert_str_eq(l.items[0].name, "shop_" IKEY "/Requests/2024-05-01/10/good.blob");
		cr_assert_str_eq(l.items[1].name, "web_" IKEY "/Requests/2024-05-01/10/fine.blob");
		cr_assert_eq(l.nquarantined, 6, "window %d: %zu quarantined", i, l.nquarantined);
		for (size_t k = 1; k < l.nquarantined; k++)
			cr_assert_lt(strcmp(l.quarantined[k - 1].name, l.quarantined[k].name), 0);
		q = find_q(&l, "shop_" IKEY "/Requests/2024-05-01/10/bad\nname.blob");
		cr_assert_not_null(q);
		cr_assert_str_eq(q->reason, "control characters in the name");
		cr_assert_eq(q->hour, T0 + 10 * H, "a blob keeps its hour");
		q = find_q(&l, "shop_" IKEY "/Requests/2024-05-01/10/bad\xff.blob");
		cr_assert_not_null(q);
		cr_assert_str_eq(q->reason, "name is not valid UTF-8");
		q = find_q(&l, "shop_" IKEY "/Req\x1buests/");
		cr_assert_not_null(q, "a bad type folder is quarantined whole");
		cr_assert_eq(q->hour, AI_TIME_MIN);
		q = find_q(&l, "shop_" IKEY "/Requests./");
		cr_assert_not_null(q);
		cr_assert_str_eq(q->reason, "type name ends with '.'");
		q = find_q(&l, "we\nb_" IKEY "/");
		cr_assert_not_null(q, "a bad app folder is quarantined whole");
		cr_assert_str_eq(q->reason, "control characters in the name");
		q = find_q(&l, "_" IKEY "/");
		cr_assert_not_null(q);
		cr_assert_str_eq(q->reason, "empty app name");
		ai_source_list_release(&l);
	}
}

Test(source, a_quarantined_folder_is_not_listed_below)
{
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 13 * H);
	struct ai_source_list l;
	uint64_t before;

	put_ce("we\nb_" IKEY, "Requests", 10, "x.blob");
	put_ce("we\nb_" IKEY, "Event", 11, "x.blob");
	before = list_requests();
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(l.n, 0);
	cr_assert_eq(l.nquarantined, 1);
	cr_assert_eq(list_requests() - before, 1, "only the top folder is listed");
	ai_source_list_release(&l);
}

Test(source, filters_leave_other_poison_names_alone)
{
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);
	char *apps[] = { S("shop") };
	struct ai_source_list l;

	put_ce("shop_" IKEY, "Requests", 10, "good.blob");
	put_ce("we\nb_" IKEY, "Requests", 10, "x.blob");
	put_ce("_" IKEY, "Requests", 10, "x.blob");
	f.apps = apps;
	f.napps = 1;
	scan(AI_LAYOUT_CONTINUOUS, &f, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.nquarantined, 0);
	ai_source_list_release(&l);
}

Test(source, diagnostic_poison_names_are_quarantined)
{
	struct ai_source_filter f = window(T0 + 10 * H, T0 + 11 * H);
	struct ai_source_list l;

	put_ds("apprequests", "SHOP", 10, "{}\n");
	put_ds("apprequests", "WE\tB", 10, "{}\n");
	put_ds("app.", "SHOP", 10, "{}\n");
	scan(AI_LAYOUT_DIAGNOSTIC, &f, &l);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.items[0].app, "shop");
	cr_assert_eq(l.nquarantined, 2);
	cr_assert_str_eq(l.quarantined[0].name, "insights-logs-app./");
	cr_assert_str_eq(l.quarantined[0].reason, "type name ends with '.'");
	cr_assert_str_eq(l.quarantined[1].name, "insights-logs-apprequests/" DS_RES "WE\tB/");
	cr_assert_str_eq(l.quarantined[1].reason, "control characters in the name");
	ai_source_list_release(&l);
}

/* The listings of a scan go out together on the filter's jobs threads;
 * what they find, quarantined names and the names seen included, is what
 * one listing after another finds, in the same order. */
Test(source, listings_in_parallel_find_what_one_at_a_time_finds)
{
	static const char *const apps[] = { "shop_" IKEY, "web_" IKEY, "billing_" IKEY, "we\nb_" IKEY };
	static const char *const types[] = { "Requests", "Rdd", "Event", "Req\x1buests" };
	struct ai_source_filter windows[2] = { window(T0 + 10 * H, T0 + 14 * H),
	                                       window(AI_TIME_MIN, T0 + 14 * H) };

	for (int a = 0; a < 4; a++)
		for (int t = 0; t < 4; t++)
			for (int h = 9; h < 15; h++) {
				put_ce(apps[a], types[t], h, "x.blob");
				put_ce(apps[a], types[t], h, h == 12 ? "bad\xff.blob" : "y.blob");
			}
	for (int w = 0; w < 2; w++) {
		struct ai_source_list one, many;
		struct ai_source_filter f = windows[w];
		scan(AI_LAYOUT_CONTINUOUS, &f, &one);
		f.jobs = 8;
		scan(AI_LAYOUT_CONTINUOUS, &f, &many);
		/* 3 x 3 good folders, 2 blobs an hour, one of them bad at hour 12;
		 * the window 4 hours, the whole history 5 */
		cr_assert_eq(one.n, 3 * 3 * (4 + (size_t)w) * 2 - 3 * 3, "window %d: %zu items", w, one.n);
		cr_assert_eq(many.n, one.n, "window %d: %zu items against %zu", w, many.n, one.n);
		for (size_t i = 0; i < one.n; i++) {
			cr_assert_str_eq(many.items[i].name, one.items[i].name);
			cr_assert_eq(many.items[i].hour, one.items[i].hour);
			cr_assert_str_eq(many.items[i].app, one.items[i].app);
			cr_assert_str_eq(many.items[i].type, one.items[i].type);
		}
		cr_assert_eq(many.nquarantined, one.nquarantined);
		cr_assert_eq(one.nquarantined, 1 + 3 + 3 * 3, "window %d: %zu quarantined", w,
		             one.nquarantined);
		for (size_t i = 0; i < one.nquarantined; i++) {
			cr_assert_str_eq(many.quarantined[i].name, one.quarantined[i].name);
			cr_assert_eq(many.quarantined[i].hour, one.quarantined[i].hour);
		}
		cr_assert_eq(many.apps_seen.n, one.apps_seen.n);
		for (size_t i = 0; i < one.apps_seen.n; i++)
			cr_assert_str_eq(many.apps_seen.v[i], one.apps_seen.v[i]);
		cr_assert_eq(many.types_seen.n, one.types_seen.n);
		for (size_t i = 0; i < one.types_seen.n; i++)
			cr_assert_str_eq(many.types_seen.v[i], one.types_seen.v[i]);
		ai_source_list_release(&one);
		ai_source_list_release(&many);
	}
}
