/* test_options.c: the option table as the command line and the config
 * file see it (the command line wins; unknown keys and bad values are
 * errors; durations, sizes and times), and the credential lookup of each
 * side as it is today: --X-sas-file, AIARCHIVE_X_SAS, --X-key-file,
 * AIARCHIVE_X_KEY, AIARCHIVE_X_CONNECTION_STRING, the first found wins. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/cmd.h"
#include "cmd/credential.h"
#include "cmd/options.h"
#include "store/store.h"
#include "util/log.h"
#include "util/parse.h"

/* A writable string, for the char * arrays of the API. */
#define S(x) ((char[]){ x })
#define SEC AI_NS_PER_SEC
#define H (INT64_C(3600) * SEC)
#define NOW (INT64_C(1714568400) * SEC + 1234) /* 2024-05-01T13:00:00Z and a bit */

static char tmpdir[256];

static const char *const env_vars[] = {
	"AIARCHIVE_CONFIG",
	"AIARCHIVE_SOURCE_SAS", "AIARCHIVE_SOURCE_KEY", "AIARCHIVE_SOURCE_CONNECTION_STRING",
	"AIARCHIVE_DEST_SAS", "AIARCHIVE_DEST_KEY", "AIARCHIVE_DEST_CONNECTION_STRING",
};

static void setup(void)
{
	const char *t = getenv("TMPDIR");

	for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
		unsetenv(env_vars[i]);
	snprintf(tmpdir, sizeof tmpdir, "%s/aiarchive-test-options-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
	/* No system's or user's config file. */
	setenv("AIARCHIVE_TEST_SYSCONF", "", 1);
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

TestSuite(options, .init = setup, .fini = teardown, .timeout = 30);

/* Writes text to a file in the test's directory; returns its path. */
static const char *write_file(const char *leaf, const char *text)
{
	static char paths[8][512];
	static int next;
	char *path = paths[next++ % 8];
	FILE *f;

	snprintf(path, 512, "%s/%s", tmpdir, leaf);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	/* Key and SAS files must be the owner's alone (util/regfile.h). */
	cr_assert_eq(chmod(path, 0600), 0);
	return path;
}

/* Parses the NULL-terminated arguments (after the command name) with the
 * config text (NULL: no -c) into o, which it initialises. */
static ai_result parse_in(FILE *out, const char *config,
                          struct ai_options *o, va_list ap)
{
	char *argv[32];
	int argc = 0;
	struct ai_ctx ctx = { .now = NOW, .out = out };
	const char *a;
	ai_result r;

	argv[argc++] = strdup("test");
	while ((a = va_arg(ap, const char *)))
		argv[argc++] = strdup(a);
	argv[argc] = NULL;
	if (config)
		ctx.config_path = write_file("test.conf", config);
	ai_options_init(o);
	r = ai_options_parse(&ai_cmd_run, &ctx, argc, argv, o);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return r;
}

static ai_result parse(const char *config, struct ai_options *o, ...)
{
	va_list ap;
	ai_result r;
	FILE *out = tmpfile();

	va_start(ap, o);
	r = parse_in(out, config, o, ap);
	va_end(ap);
	fclose(out);
	return r;
}

#define OK(call) \
	do { \
		ai_result r_ = (call); \
		cr_assert_eq(r_, AI_OK, "%s: %s", #call, ai_strerror(r_)); \
	} while (0)

/* ---- defaults and the command line ---- */

Test(options, defaults)
{
	struct ai_options o;

	OK(parse(NULL, &o, NULL));
	cr_assert_null(o.source);
	cr_assert_eq(o.jobs, 32);
	cr_assert_eq(o.pack_size, 128ULL << 20);
	cr_assert_eq(o.lookback, H);
	cr_assert_eq(o.grace, 15 * 60 * SEC);
	cr_assert_eq(o.lock_duration, 60 * SEC);
	cr_assert_eq(o.max_tries, 6);
	cr_assert_eq(o.retry_total, 120 * SEC);
	cr_assert_eq(o.connect_timeout, 10 * SEC);
	cr_assert_eq(o.stall_timeout, 30 * SEC);
	cr_assert_eq(o.older_than, 24 * H);
	cr_assert_eq(o.dry_run, 0);
	cr_assert_eq(o.has_from, 0);
	cr_assert_eq(o.napps, 0);
	ai_options_release(&o);
}

Test(options, long_and_short_options_set_their_fields)
{
	struct ai_options o;

	OK(parse(NULL, &o, "--source", "file:///src", "--dest=file:///dst", "-k", "key.sec", "-j",
	         "4", "-n", "--wait", "--app", "shop,web", "--app", "billing", "--tag", "INC-1",
	         "--layout", "diagnostic-settings", NULL));
	cr_assert_str_eq(o.source, "file:///src");
	cr_assert_str_eq(o.dest, "file:///dst");
	cr_assert_str_eq(o.key, "key.sec");
	cr_assert_str_eq(o.layout, "diagnostic-settings");
	cr_assert_eq(o.jobs, 4);
	cr_assert_eq(o.dry_run, 1);
	cr_assert_eq(o.wait, 1);
	cr_assert_eq(o.napps, 3, "a repeated list option adds to the list");
	cr_assert_str_eq(o.apps[0], "shop");
	cr_assert_str_eq(o.apps[1], "web");
	cr_assert_str_eq(o.apps[2], "billing");
	cr_assert_eq(o.ntags, 1);
	cr_assert_str_eq(o.tags[0], "INC-1");
	ai_options_release(&o);
}

Test(options, a_repeated_string_option_keeps_the_last_value)
{
	struct ai_options o;

	OK(parse(NULL, &o, "--source", "file:///a", "--source", "file:///b", NULL));
	cr_assert_str_eq(o.source, "file:///b");
	ai_options_release(&o);
}

Test(options, arguments_and_options_the_command_does_not_take_are_usage_errors)
{
	struct ai_options o;

	cr_assert_eq(parse(NULL, &o, "--no-such-option", NULL), AI_ERR_USAGE);
	ai_options_release(&o);
	cr_assert_eq(parse(NULL, &o, "-x", NULL), AI_ERR_USAGE);
	ai_options_release(&o);
	cr_assert_eq(parse(NULL, &o, "--source", "file:///a", "extra", NULL), AI_ERR_USAGE);
	ai_options_release(&o);
	cr_assert_eq(parse(NULL, &o, "--source", NULL), AI_ERR_USAGE, "a missing value");
	ai_options_release(&o);
	cr_assert_eq(parse(NULL, &o, "--output", "x", NULL), AI_ERR_USAGE,
	             "--output is an option, but not one of this command");
	ai_options_release(&o);
}

Test(options, help_prints_only_the_accepted_options)
{
	struct ai_options o;
	char text[8192];
	FILE *out = tmpfile();
	size_t n;

	cr_assert_not_null(out);
	{
		char *argv[] = { S("gc"), S("--help"), NULL };
		struct ai_ctx ctx = { .now = NOW, .out = out };
		ai_options_init(&o);
		OK(ai_options_parse(&ai_cmd_gc, &ctx, 2, argv, &o));
	}
	cr_assert_eq(o.help, 1);
	rewind(out);
	n = fread(text, 1, sizeof text - 1, out);
	text[n] = '\0';
	fclose(out);
	cr_assert(strstr(text, "usage: aiarchive gc "), "%s", text);
	cr_assert(strstr(text, "--dest URL"));
	cr_assert(strstr(text, "-n, --dry-run"));
	cr_assert(strstr(text, "-h, --help"));
	cr_assert_null(strstr(text, "--source "), "gc reads no source");
	cr_assert_null(strstr(text, "--format"), "gc prints no table");
	ai_options_release(&o);
}

/* ---- the config file ---- */

Test(options, the_command_line_beats_the_config_file)
{
	struct ai_options o;

	OK(parse("source = file:///cfg-src\n"
	         "dest = file:///cfg-dst\n"
	         "jobs = 8\n"
	         "lookback = 3h\n"
	         "dry-run = false\n",
	         &o, "--source", "file:///cli-src", "-j", "2", "--dry-run", NULL));
	cr_assert_str_eq(o.source, "file:///cli-src");
	cr_assert_str_eq(o.dest, "file:///cfg-dst", "the file fills what the command line left");
	cr_assert_eq(o.jobs, 2);
	cr_assert_eq(o.lookback, 3 * H);
	cr_assert_eq(o.dry_run, 1);
	ai_options_release(&o);
}

Test(options, a_list_on_the_command_line_replaces_the_config_files_list)
{
	struct ai_options o;

	OK(parse("app = shop,web\ntype = Requests\n", &o, "--app", "billing", NULL));
	cr_assert_eq(o.napps, 1);
	cr_assert_str_eq(o.apps[0], "billing");
	cr_assert_eq(o.ntypes, 1);
	cr_assert_str_eq(o.types[0], "Requests");
	ai_options_release(&o);
}

Test(options, config_comments_blank_lines_and_spaces_around_keys_and_values)
{
	struct ai_options o;

	OK(parse("# a comment\n"
	         "; another\n"
	         "\n"
	         "   \t\n"
	         "  source   =   file:///src  \r\n"
	         "pack-size=64MiB\n"
	         "\tgrace =30m\n"
	         "wait = yes\n",
	         &o, NULL));
	cr_assert_str_eq(o.source, "file:///src");
	cr_assert_eq(o.pack_size, 64ULL << 20);
	cr_assert_eq(o.grace, 30 * 60 * SEC);
	cr_assert_eq(o.wait, 1);
	ai_options_release(&o);
}

Test(options, config_lists_split_at_commas_and_repeated_keys_add_up)
{
	struct ai_options o;

	OK(parse("app = shop,,web\napp = billing\nsource = file:///a\nsource = file:///b\n", &o,
	         NULL));
	cr_assert_eq(o.napps, 3, "empty items are dropped");
	cr_assert_str_eq(o.apps[0], "shop");
	cr_assert_str_eq(o.apps[1], "web");
	cr_assert_str_eq(o.apps[2], "billing");
	cr_assert_str_eq(o.source, "file:///b", "a repeated string key: the last wins");
	ai_options_release(&o);
}

Test(options, config_keys_of_other_commands_are_ignored_unchecked)
{
	struct ai_options o;

	/* output and format are options, but not of this command: skipped
	 * before their values are looked at */
	OK(parse("output = /tmp/x\nformat = whatever\nolder-than = not-a-duration\n", &o, NULL));
	cr_assert_null(o.output);
	cr_assert_null(o.format);
	cr_assert_eq(o.older_than, 24 * H);
	ai_options_release(&o);
}

Test(options, an_unknown_config_key_is_an_error)
{
	struct ai_options o;

	cr_assert_eq(parse("source = file:///a\nsorce = file:///b\n", &o, NULL), AI_ERR_CONFIG);
	ai_options_release(&o);
	cr_assert_eq(parse("help = true\n", &o, NULL), AI_ERR_CONFIG, "help is no config key");
	ai_options_release(&o);
}

Test(options, a_config_line_without_equals_is_an_error)
{
	struct ai_options o;

	cr_assert_eq(parse("source file:///a\n", &o, NULL), AI_ERR_CONFIG);
	ai_options_release(&o);
	cr_assert_eq(parse("dry-run\n", &o, NULL), AI_ERR_CONFIG, "a flag needs '= true' too");
	ai_options_release(&o);
}

Test(options, a_missing_config_file_is_an_error)
{
	struct ai_options o;
	char path[600];
	char *argv[] = { S("test"), NULL };
	struct ai_ctx ctx = { .now = NOW, .out = stdout, .config_path = path };

	snprintf(path, sizeof path, "%s/none.conf", tmpdir);
	ai_options_init(&o);
	cr_assert_eq(ai_options_parse(&ai_cmd_run, &ctx, 1, argv, &o), AI_ERR_CONFIG);
	ai_options_release(&o);
}

Test(options, the_config_file_comes_from_AIARCHIVE_CONFIG_unless_one_is_given)
{
	struct ai_options o;
	char *argv[] = { S("test"), NULL };
	struct ai_ctx ctx = { .now = NOW, .out = stdout };
	const char *env_path = write_file("env.conf", "source = file:///from-env\n");

	setenv("AIARCHIVE_CONFIG", env_path, 1);
	ai_options_init(&o);
	OK(ai_options_parse(&ai_cmd_run, &ctx, 1, argv, &o));
	cr_assert_str_eq(o.source, "file:///from-env");
	ai_options_release(&o);
	ctx.config_path = write_file("given.conf", "source = file:///given\n");
	ai_options_init(&o);
	OK(ai_options_parse(&ai_cmd_run, &ctx, 1, argv, &o));
	cr_assert_str_eq(o.source, "file:///given");
	ai_options_release(&o);
}

Test(options, the_environment_beats_the_config_file_and_the_command_line_beats_both)
{
	struct ai_options o;
	char *argv[] = { S("test"), S("--jobs"), S("3"), NULL };
	struct ai_ctx ctx = { .now = NOW, .out = stdout };
	char where[128];

	ctx.config_path = write_file("c.conf", "lookback = 3h\njobs = 5\ngrace = 20m\n");
	setenv("AIARCHIVE_LOOKBACK", "2h", 1);
	setenv("AIARCHIVE_JOBS", "4", 1);
	setenv("AIARCHIVE_DRY_RUN", "yes", 1);
	setenv("AIARCHIVE_GRACE", "", 1); /* empty: as if unset */
	ai_options_init(&o);
	OK(ai_options_parse(&ai_cmd_run, &ctx, 3, argv, &o));
	cr_assert_eq(o.lookback, 2 * H);
	cr_assert_eq(o.jobs, 3);
	cr_assert_eq(o.dry_run, 1);
	cr_assert_eq(o.grace, 20 * 60 * SEC);
	cr_assert_eq(ai_options_origin(&o, "lookback", where, sizeof where), AI_FROM_ENV);
	cr_assert_str_eq(where, "AIARCHIVE_LOOKBACK");
	ai_options_release(&o);
	/* A bad value names its variable; a command without the key ignores it. */
	setenv("AIARCHIVE_LOOKBACK", "2", 1);
	ai_options_init(&o);
	cr_assert_eq(ai_options_parse(&ai_cmd_run, &ctx, 1, argv, &o), AI_ERR_CONFIG);
	cr_assert_str_eq(ctx.object, "AIARCHIVE_LOOKBACK");
	ai_options_release(&o);
	ctx.object[0] = '\0';
	ai_options_init(&o);
	OK(ai_options_parse(&ai_cmd_status, &ctx, 1, argv, &o));
	ai_options_release(&o);
	unsetenv("AIARCHIVE_LOOKBACK");
	unsetenv("AIARCHIVE_JOBS");
	unsetenv("AIARCHIVE_DRY_RUN");
	unsetenv("AIARCHIVE_GRACE");
}

Test(options, an_option_from_the_environment_ranks_with_the_environments_credentials)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential cred;
	char *argv[] = { S("test"), NULL };
	struct ai_ctx ctx = { .now = NOW, .out = stdout };
	const char *sas = write_file("s.sas", "sv=file-sas&sig=f\n");

	chmod(sas, 0600);
	ctx.config_path = write_file("c.conf", "source = file:///src\n");
	setenv("AIARCHIVE_SOURCE_SAS_FILE", sas, 1);
	ai_options_init(&o);
	OK(ai_options_parse(&ai_cmd_run, &ctx, 1, argv, &o));
	OK(ai_options_store_config(&o, "source", &cfg, &cred));
	cr_assert_eq(cred.kind, AI_CRED_SAS);
	cr_assert(strstr(cred.origin, "AIARCHIVE_SOURCE_SAS_FILE"), "%s", cred.origin);
	ai_credential_release(&cred);
	ai_options_release(&o);
	unsetenv("AIARCHIVE_SOURCE_SAS_FILE");
}

/* ---- values ---- */

struct bad_value {
	char option[24];
	char value[48];
};

ParameterizedTestParameters(options, bad_values_are_refused_on_the_command_line_and_in_the_file)
{
	static struct bad_value cases[] = {
		{ "jobs", "0" },            { "jobs", "257" },         { "jobs", "four" },
		{ "jobs", "-1" },           { "jobs", "" },            { "max-tries", "101" },
		{ "pack-size", "12XB" },    { "pack-size", "-5M" },    { "pack-size", "2TiB" },
		{ "lookback", "5 years" },  { "lookback", "1w" },      { "lookback", "400d" },
		{ "grace", "-15m" },        { "from", "yesterday" },   { "from", "2024-13-01" },
		{ "to", "now+x" },          { "app", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q" },
	};
	return cr_make_param_array(struct bad_value, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_value *c, options, bad_values_are_refused_on_the_command_line_and_in_the_file)
{
	struct ai_options o;
	char opt[40], line[80];

	snprintf(opt, sizeof opt, "--%s", c->option);
	cr_assert_eq(parse(NULL, &o, opt, c->value, NULL), AI_ERR_USAGE, "%s %s", opt, c->value);
	ai_options_release(&o);
	snprintf(line, sizeof line, "%s = %s\n", c->option, c->value);
	cr_assert_eq(parse(line, &o, NULL), AI_ERR_CONFIG, "%s", line);
	ai_options_release(&o);
}

Test(options, a_flag_in_the_config_file_takes_true_false_yes_no_1_0)
{
	static const char *yes[] = { "true", "yes", "1" }, *no[] = { "false", "no", "0" };
	struct ai_options o;
	char line[64];

	for (size_t i = 0; i < 3; i++) {
		snprintf(line, sizeof line, "dry-run = %s\n", yes[i]);
		OK(parse(line, &o, NULL));
		cr_assert_eq(o.dry_run, 1, "%s", line);
		ai_options_release(&o);
		snprintf(line, sizeof line, "dry-run = %s\n", no[i]);
		OK(parse(line, &o, NULL));
		cr_assert_eq(o.dry_run, 0, "%s", line);
		ai_options_release(&o);
	}
	cr_assert_eq(parse("dry-run = maybe\n", &o, NULL), AI_ERR_CONFIG);
	ai_options_release(&o);
	cr_assert_eq(parse("dry-run = TRUE\n", &o, NULL), AI_ERR_CONFIG, "values are lowercase");
	ai_options_release(&o);
}

struct duration_case {
	char text[16];
	int64_t ns;
};

ParameterizedTestParameters(options, durations)
{
	static struct duration_case cases[] = {
		{ "90m", 90 * 60 * SEC }, { "2h", 2 * H },     { "1d", 24 * H },
		{ "30s", 30 * SEC },      { "45s", 45 * SEC }, { "1500ms", 1500 * SEC / 1000 },
		{ "0", 0 },               { "366d", 366 * 24 * H },
	};
	return cr_make_param_array(struct duration_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct duration_case *c, options, durations)
{
	struct ai_options o;

	OK(parse(NULL, &o, "--lookback", c->text, NULL));
	cr_assert_eq(o.lookback, c->ns, "%s", c->text);
	ai_options_release(&o);
}

struct size_case {
	char text[16];
	uint64_t bytes;
};

ParameterizedTestParameters(options, sizes)
{
	static struct size_case cases[] = {
		{ "4096", 4096 },         { "2K", 2048 },          { "2KB", 2048 },
		{ "64MiB", 64ULL << 20 }, { "1G", 1ULL << 30 },    { "3GB", 3ULL << 30 },
		{ "1TiB", 1ULL << 40 },   { "7B", 7 },
	};
	return cr_make_param_array(struct size_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct size_case *c, options, sizes)
{
	struct ai_options o;

	OK(parse(NULL, &o, "--pack-size", c->text, NULL));
	cr_assert_eq(o.pack_size, c->bytes, "%s", c->text);
	ai_options_release(&o);
}

Test(options, from_and_to_take_times_hours_and_now_relative_forms)
{
	struct ai_options o;
	ai_time t;

	OK(parse(NULL, &o, "--from", "2024-04-30T22", "--to", "now-2h", NULL));
	cr_assert_eq(o.has_from, 1);
	cr_assert_eq(o.has_to, 1);
	OK(ai_parse_time("2024-04-30T22:00:00Z", 20, &t));
	cr_assert_eq(o.from, t);
	cr_assert_eq(o.to, NOW - 2 * H, "relative to the context's now");
	ai_options_release(&o);
	OK(parse("from = 2024-05-01\n", &o, NULL));
	OK(ai_parse_time("2024-05-01T00:00:00Z", 20, &t));
	cr_assert_eq(o.from, t);
	cr_assert_eq(o.has_to, 0);
	ai_options_release(&o);
}

Test(options, from_must_be_before_to)
{
	struct ai_options o;

	cr_assert_eq(parse(NULL, &o, "--from", "2024-05-01T10", "--to", "2024-05-01T10", NULL),
	             AI_ERR_USAGE);
	ai_options_release(&o);
	cr_assert_eq(parse("to = 2024-05-01T09\n", &o, "--from", "2024-05-01T10", NULL),
	             AI_ERR_USAGE, "also when one comes from the file");
	ai_options_release(&o);
}

Test(options, usage_lists_each_accepted_option_once)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ai_options_help(f, &ai_cmd_run);
	fclose(f);
	cr_assert(strstr(text, "  --source URL "), "%s", text);
	cr_assert(strstr(text, "-n, --dry-run "));
	cr_assert(strstr(text, "-k, --key FILE "));
	cr_assert_null(strstr(strstr(text, "  --source URL") + 1, "  --source URL"));
	cr_assert_null(strstr(text, "--operation-id"), "a query option is not run's");
	free(text);
}

Test(options, match_is_case_insensitive_and_an_empty_list_matches_all)
{
	char *list[] = { S("Shop"), S("web") };

	cr_assert(ai_options_match(list, 0, "anything"));
	cr_assert(ai_options_match(list, 0, NULL));
	cr_assert(ai_options_match(list, 2, "shop"));
	cr_assert(ai_options_match(list, 2, "WEB"));
	cr_assert_not(ai_options_match(list, 2, "shopping"));
	cr_assert_not(ai_options_match(list, 2, NULL));
}

/* ---- credentials ---- */

/* The store configuration of side after parsing args with config text. */
static void store_config(const char *side, struct ai_store_config *cfg,
                         struct ai_credential *cred, struct ai_options *o, const char *config,
                         ...)
{
	va_list ap;
	FILE *out = tmpfile();

	va_start(ap, config);
	OK(parse_in(out, config, o, ap));
	va_end(ap);
	fclose(out);
	OK(ai_options_store_config(o, side, cfg, cred));
}

#define A_SAS "sv=2025-11-05&se=2099-01-01T00%3A00%3A00Z&sr=c&sp=rl&sig=abc"

Test(options, no_credential_found_leaves_all_unset)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;

	store_config("source", &cfg, &c, &o, NULL, "--source", "https://a.blob.core.windows.net/c",
	             NULL);
	cr_assert_str_eq(cfg.url, "https://a.blob.core.windows.net/c");
	cr_assert_null(cfg.sas);
	cr_assert_null(cfg.account_key);
	cr_assert_null(cfg.connection_string);
	cr_assert_eq(c.kind, AI_CRED_NONE);
	cr_assert_str_eq(cfg.credential, "no credential (anonymous access)");
	ai_credential_release(&c);
	ai_options_release(&o);
}

Test(options, the_store_config_carries_the_sides_locations_and_network_options)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;

	store_config("dest", &cfg, &c, &o, NULL, "--source", "https://s/c", "--dest", "https://d/c",
	             "-j", "3", "--max-tries", "9",
	             "--retry-total", "7s", "--connect-timeout", "2s", "--stall-timeout", "5s", NULL);
	cr_assert_str_eq(cfg.url, "https://d/c");
	cr_assert_null(cfg.secondary_url, "run takes no --dest-secondary");
	cr_assert_eq(cfg.max_transfers, 3);
	cr_assert_eq(cfg.max_tries, 9);
	cr_assert_eq(cfg.retry_total_ns, 7 * SEC);
	cr_assert_eq(cfg.connect_timeout_ns, 2 * SEC);
	cr_assert_eq(cfg.stall_timeout_ns, 5 * SEC);
	ai_credential_release(&c);
	ai_options_release(&o);
}

static void set_all_env(const char *side)
{
	char name[64];

	snprintf(name, sizeof name, "AIARCHIVE_%s_SAS", side);
	setenv(name, "sv=env-sas&sig=e", 1);
	snprintf(name, sizeof name, "AIARCHIVE_%s_KEY", side);
	setenv(name, "ZW52LWtleQ==", 1);
	snprintf(name, sizeof name, "AIARCHIVE_%s_CONNECTION_STRING", side);
	setenv(name, "AccountName=a;AccountKey=Y3M=", 1);
}

Test(options, credential_order_1_a_sas_file_on_the_command_line_wins_over_everything)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;
	const char *sas = write_file("sas", "  sv=file-sas&sig=abc  \nsecond line\n");
	const char *key = write_file("key", "ZmlsZS1rZXk=\n");
	char want[600];

	set_all_env("SOURCE");
	store_config("source", &cfg, &c, &o, "source-key-file = /nonexistent\n", "--source",
	             "https://s/c", "--source-sas-file", sas, "--source-key-file", key, NULL);
	cr_assert_str_eq(cfg.sas, "sv=file-sas&sig=abc", "the first line, trimmed");
	cr_assert_null(cfg.account_key, "only one credential is taken");
	cr_assert_null(cfg.connection_string);
	snprintf(want, sizeof want, "--source-sas-file '%s'", sas);
	cr_assert_str_eq(c.origin, want);
	cr_assert_eq(c.kind, AI_CRED_SAS);
	ai_credential_release(&c);
	ai_options_release(&o);
}

Test(options, credential_order_2_a_key_file_on_the_command_line_beats_a_sas_in_the_environment)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;
	const char *key = write_file("key", "ZmlsZS1rZXk=\r\n");
	char want[600];

	/* The explicit option wins, whatever kind the environment holds. */
	set_all_env("SOURCE");
	store_config("source", &cfg, &c, &o, NULL, "--source", "https://s/c", "--source-key-file",
	             key, NULL);
	cr_assert_null(cfg.sas);
	cr_assert_str_eq(cfg.account_key, "ZmlsZS1rZXk=");
	cr_assert_null(cfg.connection_string);
	snprintf(want, sizeof want, "account key from --source-key-file '%s'", key);
	cr_assert_str_eq(cfg.credential, want);
	ai_credential_release(&c);
	ai_options_release(&o);
}

Test(options, credential_order_3_the_environment_beats_the_config_file)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;
	const char *sas = write_file("cfg.sas", A_SAS "\n");
	char config[700];

	snprintf(config, sizeof config, "# the archive\nsource-sas-file = %s\n", sas);
	setenv("AIARCHIVE_SOURCE_KEY", "ZW52LWtleQ==", 1);
	store_config("source", &cfg, &c, &o, config, "--source", "https://s/c", NULL);
	cr_assert_str_eq(cfg.account_key, "ZW52LWtleQ==");
	cr_assert_null(cfg.sas);
	cr_assert_str_eq(cfg.credential, "account key from AIARCHIVE_SOURCE_KEY");
	ai_credential_release(&c);
	ai_options_release(&o);
}

Test(options, credential_order_4_the_config_file_names_its_file_and_line)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;
	const char *sas = write_file("cfg.sas", A_SAS "\n");
	char config[700], want[1400];

	snprintf(config, sizeof config, "# the archive\nsource-sas-file = %s\n", sas);
	store_config("source", &cfg, &c, &o, config, "--source", "https://s/c", NULL);
	cr_assert_str_eq(cfg.sas, A_SAS);
	snprintf(want, sizeof want,
	         "SAS from config file '%s/test.conf' line 2 (source-sas-file '%s') "
	         "(sp=rl, se=2099-01-01T00:00:00Z)", tmpdir, sas);
	cr_assert_str_eq(cfg.credential, want);
	ai_credential_release(&c);
	ai_options_release(&o);
}

Test(options, credential_order_5_within_the_environment_sas_then_key_then_connection_string)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;

	set_all_env("SOURCE");
	store_config("source", &cfg, &c, &o, NULL, "--source", "https://s/c", NULL);
	cr_assert_str_eq(cfg.sas, "sv=env-sas&sig=e");
	cr_assert_str_eq(c.origin, "AIARCHIVE_SOURCE_SAS");
	ai_credential_release(&c);
	ai_options_release(&o);
	unsetenv("AIARCHIVE_SOURCE_SAS");
	store_config("source", &cfg, &c, &o, NULL, "--source", "https://s/c", NULL);
	cr_assert_str_eq(cfg.account_key, "ZW52LWtleQ==");
	ai_credential_release(&c);
	ai_options_release(&o);
	setenv("AIARCHIVE_SOURCE_KEY", "", 1); /* empty: as if unset */
	store_config("source", &cfg, &c, &o, NULL, "--source", "https://s/c", NULL);
	cr_assert_null(cfg.sas);
	cr_assert_null(cfg.account_key);
	cr_assert_str_eq(cfg.connection_string, "AccountName=a;AccountKey=Y3M=");
	cr_assert_str_eq(cfg.credential, "connection string from AIARCHIVE_SOURCE_CONNECTION_STRING");
	ai_credential_release(&c);
	ai_options_release(&o);
}

Test(options, credential_order_6_a_sas_in_the_url_counts_where_the_url_was_given)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;
	const char *key = write_file("key", "ZmlsZS1rZXk=\n");
	char config[700], want[700];

	setenv("AIARCHIVE_SOURCE_KEY", "ZW52LWtleQ==", 1);
	store_config("source", &cfg, &c, &o, NULL, "--source", "https://s/c?" A_SAS, NULL);
	cr_assert_str_eq(cfg.sas, A_SAS, "the command line's URL beats the environment");
	cr_assert_null(cfg.account_key);
	cr_assert_str_eq(c.origin, "the --source URL");
	ai_credential_release(&c);
	ai_options_release(&o);
	snprintf(config, sizeof config, "source = https://s/c?%s\n", A_SAS);
	store_config("source", &cfg, &c, &o, config, NULL);
	cr_assert_str_eq(cfg.account_key, "ZW52LWtleQ==", "the environment beats the config's URL");
	ai_credential_release(&c);
	ai_options_release(&o);
	unsetenv("AIARCHIVE_SOURCE_KEY");
	store_config("source", &cfg, &c, &o, config, "--source-key-file", key, NULL);
	cr_assert_str_eq(cfg.account_key, "ZmlsZS1rZXk=", "a key file given beats the config's URL");
	ai_credential_release(&c);
	ai_options_release(&o);
	store_config("source", &cfg, &c, &o, config, NULL);
	snprintf(want, sizeof want, "the source URL of config file '%s/test.conf' line 1", tmpdir);
	cr_assert_str_eq(c.origin, want);
	ai_credential_release(&c);
	ai_options_release(&o);
}

Test(options, each_side_reads_only_its_own_credentials)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;
	const char *sas = write_file("src.sas", "sv=source-only&sig=s\n");

	set_all_env("SOURCE");
	store_config("dest", &cfg, &c, &o, NULL, "--source", "https://s/c", "--dest", "https://d/c",
	             "--source-sas-file", sas, NULL);
	cr_assert_str_eq(cfg.url, "https://d/c");
	cr_assert_null(cfg.sas);
	cr_assert_null(cfg.account_key);
	cr_assert_null(cfg.connection_string);
	ai_credential_release(&c);
	ai_options_release(&o);
	setenv("AIARCHIVE_DEST_KEY", "ZGVzdA==", 1);
	store_config("dest", &cfg, &c, &o, NULL, "--dest", "https://d/c", NULL);
	cr_assert_str_eq(cfg.account_key, "ZGVzdA==");
	ai_credential_release(&c);
	ai_options_release(&o);
}

Test(options, a_named_secret_file_that_is_missing_or_empty_is_an_error)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;
	char missing[600];
	const char *empty = write_file("empty", "   \n");

	snprintf(missing, sizeof missing, "%s/missing.sas", tmpdir);
	setenv("AIARCHIVE_SOURCE_SAS", "sv=env-sas&sig=e", 1);
	OK(parse(NULL, &o, "--source", "https://s/c", "--source-sas-file", missing, NULL));
	cr_assert_eq(ai_options_store_config(&o, "source", &cfg, &c), AI_ERR_CONFIG,
	             "no fallback to the environment");
	cr_assert_null(c.secret);
	ai_options_release(&o);
	OK(parse(NULL, &o, "--source", "https://s/c", "--source-key-file", empty, NULL));
	unsetenv("AIARCHIVE_SOURCE_SAS");
	cr_assert_eq(ai_options_store_config(&o, "source", &cfg, &c), AI_ERR_CONFIG);
	ai_options_release(&o);
}

Test(options, a_sas_without_a_signature_is_a_config_error)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;

	setenv("AIARCHIVE_SOURCE_SAS", "sv=2025-11-05&sp=rl", 1);
	OK(parse(NULL, &o, "--source", "https://s/c", NULL));
	cr_assert_eq(ai_options_store_config(&o, "source", &cfg, &c), AI_ERR_CONFIG);
	ai_options_release(&o);
}

Test(options, secrets_found_are_redacted_from_messages)
{
	struct ai_options o;
	struct ai_store_config cfg;
	struct ai_credential c;
	char out[256];

	ai_redact_clear();
	setenv("AIARCHIVE_DEST_KEY", "c2VjcmV0LWtleQ==", 1);
	store_config("dest", &cfg, &c, &o, NULL, "--dest", "https://d/c", NULL);
	ai_redact("key is c2VjcmV0LWtleQ== here", out, sizeof out);
	cr_assert_null(strstr(out, "c2VjcmV0LWtleQ=="), "%s", out);
	ai_credential_release(&c);
	cr_assert_null(c.secret, "releasing clears the struct");
	ai_options_release(&o);
	ai_redact_clear();
}

Test(options, opening_a_side_without_its_location_is_a_usage_error)
{
	struct ai_options o;
	struct ai_store *s;
	char url[600];

	OK(parse(NULL, &o, NULL));
	s = (struct ai_store *)&o; /* a stale value, to see it cleared */
	cr_assert_eq(ai_options_open_store(&o, "source", AI_NEED_READ, &s), AI_ERR_USAGE);
	cr_assert_null(s);
	ai_options_release(&o);
	snprintf(url, sizeof url, "file://%s/dest", tmpdir);
	OK(parse(NULL, &o, "--dest", url, NULL));
	OK(ai_options_open_store(&o, "dest", AI_NEED_WRITE, &s));
	cr_assert_eq(ai_store_is_remote(s), 0);
	ai_store_free(s);
	ai_options_release(&o);
}

Test(options, a_sas_that_cannot_work_is_refused_before_the_store_opens)
{
	struct ai_options o;
	struct ai_store *s = NULL;

	/* No request is made: these fail on the SAS's own claims. */
	setenv("AIARCHIVE_DEST_SAS", "sv=2025-11-05&se=2020-01-01T00%3A00%3A00Z&sr=c&sp=rwl&sig=x",
	       1);
	OK(parse(NULL, &o, "--dest", "https://d.blob.core.windows.net/archive", NULL));
	cr_assert_eq(ai_options_open_store(&o, "dest", AI_NEED_READ, &s), AI_ERR_AUTH, "expired");
	cr_assert_null(s);
	setenv("AIARCHIVE_DEST_SAS", A_SAS, 1);
	cr_assert_eq(ai_options_open_store(&o, "dest", AI_NEED_WRITE, &s), AI_ERR_AUTH,
	             "read-only");
	OK(ai_options_open_store(&o, "dest", AI_NEED_READ, &s));
	ai_store_free(s);
	ai_options_release(&o);
}

Test(options, release_frees_everything_and_can_be_repeated)
{
	struct ai_options o;

	OK(parse("tag = a,b\n", &o, "--source", "x", "--app", "y", NULL));
	ai_options_release(&o);
	ai_options_release(&o);
	cr_assert_null(o.source);
	cr_assert_eq(o.napps, 0);
}

/* List items are trimmed like every other config value: "app = shop, web"
 * names "web", not " web", which no app would match. */
Test(options, spaces_around_list_items_are_dropped)
{
	struct ai_options o;

	OK(parse("app = shop, web\n", &o, "--type", "Requests , Exceptions", NULL));
	cr_assert_eq(o.napps, 2);
	cr_assert_str_eq(o.apps[1], "web");
	cr_assert_eq(o.ntypes, 2);
	cr_assert_str_eq(o.types[0], "Requests");
	cr_assert_str_eq(o.types[1], "Exceptions");
	ai_options_release(&o);
}

/* ---- the global options: one table, before or after the command ---- */

/* Parses argv (NULL-terminated, argv[0] the command) for cmd into o and
 * ctx, which it initialises (ctx's clock and output as parse_in's). */
static ai_result parse_cmd(const struct ai_cmd *cmd, struct ai_ctx *ctx, struct ai_options *o,
                           char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	*ctx = (struct ai_ctx){ .now = NOW, .out = tmpfile() };
	ai_options_init(o);
	ai_result r = ai_options_parse(cmd, ctx, argc, argv, o);
	fclose(ctx->out);
	ctx->out = NULL;
	return r;
}

Test(options, global_options_after_the_command_go_into_the_context)
{
	char conf[512];
	snprintf(conf, sizeof conf, "%s", write_file("g.conf", "lookback = 3h\n"));
	char *argv[] = { S("run"), S("--json"), S("-v"), S("--source"), S("file:///s"), S("-v"),
	                 S("-c"), conf, NULL };
	struct ai_options o;
	struct ai_ctx ctx;

	OK(parse_cmd(&ai_cmd_run, &ctx, &o, argv));
	cr_assert_eq(ctx.json, 1);
	cr_assert_eq(ctx.verbosity, 2);
	cr_assert_str_eq(ctx.config_path, conf);
	cr_assert_str_eq(o.source, "file:///s");
	cr_assert_eq(o.lookback, 3 * H, "-c after the command is read");
	cr_assert_eq(ai_log_level, AI_LOG_DEBUG, "-vv is debug");
	ai_options_release(&o);

	char *quiet[] = { S("verify"), S("-q"), NULL };
	OK(parse_cmd(&ai_cmd_verify, &ctx, &o, quiet));
	cr_assert_eq(ctx.verbosity, -1);
	cr_assert_eq(ai_log_level, AI_LOG_WARN, "-q keeps warnings");
	ai_options_release(&o);
}

Test(options, every_command_takes_every_global_option_after_its_name)
{
	char conf[512];

	snprintf(conf, sizeof conf, "%s", write_file("empty.conf", ""));
	for (size_t i = 0; ai_cmds[i]; i++) {
		char *argv[] = { S("cmd"), S("--json"), S("-q"), S("--config"), conf,
		                 S("--verbose"), S("--quiet"), NULL };
		struct ai_options o;
		struct ai_ctx ctx;

		OK(parse_cmd(ai_cmds[i], &ctx, &o, argv));
		cr_assert_eq(ctx.json, 1, "%s --json", ai_cmds[i]->name);
		cr_assert_eq(ctx.verbosity, -1, "%s -q", ai_cmds[i]->name);
		ai_options_release(&o);
	}
}

Test(options, main_parses_the_global_options_up_to_the_command)
{
	char *argv[] = { S("aiarchive"), S("-q"), S("--json"), S("-c"), S("/etc/x.conf"),
	                 S("status"), S("--dest"), S("file:///a"), NULL };
	struct ai_ctx ctx = { .now = NOW };
	int first = 0, help = 1, version = 1;

	OK(ai_options_parse_main(&ctx, 8, argv, &first, &help, &version));
	cr_assert_eq(first, 5);
	cr_assert_str_eq(argv[first], "status");
	cr_assert_eq(ctx.json, 1);
	cr_assert_eq(ctx.verbosity, -1);
	cr_assert_str_eq(ctx.config_path, "/etc/x.conf");
	cr_assert_eq(help, 0);
	cr_assert_eq(version, 0);

	char *v[] = { S("aiarchive"), S("-V"), NULL };
	OK(ai_options_parse_main(&ctx, 2, v, &first, &help, &version));
	cr_assert_eq(version, 1);
	char *h[] = { S("aiarchive"), S("--help"), NULL };
	OK(ai_options_parse_main(&ctx, 2, h, &first, &help, &version));
	cr_assert_eq(help, 1);
}

Test(options, main_refuses_a_command_option_before_the_command)
{
	char *argv[] = { S("aiarchive"), S("--dest"), S("file:///a"), S("status"), NULL };
	struct ai_ctx ctx = { .now = NOW };
	int first, help, version;

	cr_assert_eq(ai_options_parse_main(&ctx, 4, argv, &first, &help, &version), AI_ERR_USAGE);
	cr_assert_str_eq(ctx.object, "--dest");
	char *json_later[] = { S("aiarchive"), S("--frob"), S("status"), S("--json"), NULL };
	ctx = (struct ai_ctx){ .now = NOW };
	cr_assert_eq(ai_options_parse_main(&ctx, 4, json_later, &first, &help, &version),
	             AI_ERR_USAGE);
	cr_assert_eq(ctx.json, 1, "a --json after the error still asks for the JSON error");
}

Test(options, operands_only_where_the_command_takes_them)
{
	char *comp[] = { S("completion"), S("--json"), S("zsh"), NULL };
	char *two[] = { S("completion"), S("zsh"), S("bash"), NULL };
	char *run[] = { S("run"), S("extra"), S("--json"), NULL };
	struct ai_options o;
	struct ai_ctx ctx;

	OK(parse_cmd(&ai_cmd_completion, &ctx, &o, comp));
	cr_assert_str_eq(o.operand, "zsh");
	cr_assert_eq(ctx.json, 1);
	ai_options_release(&o);
	cr_assert_eq(parse_cmd(&ai_cmd_completion, &ctx, &o, two), AI_ERR_USAGE);
	ai_options_release(&o);
	cr_assert_eq(parse_cmd(&ai_cmd_run, &ctx, &o, run), AI_ERR_USAGE);
	cr_assert_str_eq(ctx.object, "extra");
	cr_assert_eq(ctx.json, 1, "the error is JSON: --json came after it");
	ai_options_release(&o);
}

Test(options, unknown_options_and_values_name_the_option)
{
	char *typo[] = { S("run"), S("--lookbak"), S("2h"), NULL };
	char *flagval[] = { S("gc"), S("--dry-run=yes"), NULL };
	char *missing[] = { S("query"), S("--from"), NULL };
	struct ai_options o;
	struct ai_ctx ctx;

	cr_assert_eq(parse_cmd(&ai_cmd_run, &ctx, &o, typo), AI_ERR_USAGE);
	cr_assert_str_eq(ctx.object, "--lookbak");
	ai_options_release(&o);
	cr_assert_eq(parse_cmd(&ai_cmd_gc, &ctx, &o, flagval), AI_ERR_USAGE);
	cr_assert_str_eq(ctx.object, "--dry-run");
	ai_options_release(&o);
	cr_assert_eq(parse_cmd(&ai_cmd_query, &ctx, &o, missing), AI_ERR_USAGE);
	cr_assert_str_eq(ctx.object, "--from");
	ai_options_release(&o);
}

Test(options, the_nearest_name_is_a_typo_or_a_prefix_away)
{
	cr_assert_str_eq(ai_options_nearest(AI_CMD_RUN, 0, "lookbak"), "lookback");
	cr_assert_str_eq(ai_options_nearest(AI_CMD_RUN, 0, "sourse=x"), "source");
	cr_assert_str_eq(ai_options_nearest(AI_CMD_RUN, 0, "jsn"), "json");
	cr_assert_str_eq(ai_options_nearest(AI_CMD_VERIFY, 0, "subst"), "subset");
	cr_assert_null(ai_options_nearest(AI_CMD_RUN, 0, "frobnicate"));
	cr_assert_null(ai_options_nearest(AI_CMD_QUERY, 0, "jobs"), "query has no --jobs");
	/* Config keys: not the global options, which are no keys. */
	cr_assert_null(ai_options_nearest(AI_CMD_RUN, 1, "jsn"));
	cr_assert_str_eq(ai_options_nearest(AI_CMD_RUN, 1, "grase"), "grace");
}

Test(options, a_duration_needs_its_unit)
{
	struct ai_options o;

	cr_assert_eq(parse(NULL, &o, "--lookback", "2", NULL), AI_ERR_USAGE);
	ai_options_release(&o);
	cr_assert_eq(parse("grace = 15\n", &o, NULL), AI_ERR_CONFIG);
	ai_options_release(&o);
	OK(parse(NULL, &o, "--rescan", "0", "--lookback", "2h", NULL));
	cr_assert_eq(o.rescan, 0);
	cr_assert_eq(o.lookback, 2 * H);
	ai_options_release(&o);
}
