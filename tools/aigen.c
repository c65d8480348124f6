/* aigen.c: writes a realistic Application Insights export tree (continuous
 * export and/or diagnostic settings, or a workspace data export) with optional faults, deterministically
 * from a seed, plus a manifest of every blob for tests and benchmarks. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "aigen.h"
#include "util/parse.h"
#include "util/result.h"

#define LAYOUT_CE 1u
#define LAYOUT_DS 2u
#define LAYOUT_WS 4u

enum fault {
	F_EMPTY,
	F_CRLF,
	F_BLANK,
	F_NOFINALNL,
	F_MALFORMED,
	F_HUGE,
	F_COUNT
};

static const char *const fault_names[F_COUNT] = {
	"empty", "crlf", "blank", "nofinalnl", "malformed", "huge",
};

#define DEFAULT_HUGE (UINT64_C(64) << 20)
#define ROW_CAP (4u << 20)
#define SCRATCH_CAP (1u << 20)
#define LINE_CAP (64u << 10)
#define MAX_FAULT_SITES 16

struct opts {
	const char *out;
	const char *container;
	unsigned layouts;
	unsigned apps;
	unsigned hours;
	int64_t from;         /* ticks, on an hour */
	uint64_t seed;
	unsigned kinds;       /* bit per enum ag_kind */
	unsigned bph;
	double rpb;
	bool bph_set, rpb_set;
	double late_fraction;
	unsigned late_days;
	unsigned faults;      /* bit per enum fault */
	uint64_t huge;
	uint64_t target;
	/* workspace export */
	unsigned steps, rollover, workspaces;
	bool late_appends, split_lines;
	double dups;
	double unnamed;
};

struct site {
	uint64_t index;
	unsigned faults;
};

struct blob {
	unsigned layout;
	unsigned app;
	enum ag_kind kind;
	unsigned hour;
	unsigned j;
	uint64_t index;       /* among regular blobs; UINT64_MAX for the huge one */
	unsigned faults;
	bool late;
	uint64_t huge;        /* grow to this many bytes, 0 for a regular blob */
};

struct state {
	const struct opts *o;
	struct ag_gen gen;
	struct ag_app *apps;
	struct ag_out row, scratch, line;
	char *iobuf;
	FILE *manifest;
	FILE *faultlist;
	struct site sites[F_COUNT * MAX_FAULT_SITES];
	unsigned nsites;
	uint64_t nregular;
	double late_phase;
	char lastdir[4096];
	uint64_t blobs, bytes, rows, malformed;
};

/* ---- command line ---- */

static void usage(FILE *f)
{
	fputs("usage: aigen --out DIR [options]\n"
	      "Writes a realistic Application Insights export tree under DIR: each top-level\n"
	      "directory is a container, the files below it are blobs. Same arguments, same\n"
	      "bytes. A manifest of every blob goes to DIR/.aigen/manifest.jsonl.\n"
	      "\n"
	      "  --out DIR              output directory (created; must be empty)\n"
	      "  --layout L             continuous, diagnostic, both or workspace (default\n"
	      "                         continuous)\n"
	      "  --apps N               number of Application Insights resources (default 3)\n"
	      "  --from TIME            first delivery hour, UTC (default 2026-11-20T00)\n"
	      "  --hours H              number of delivery hours (default 3)\n"
	      "  --seed S               PRNG seed (default 1)\n"
	      "  --types LIST           comma list of type folders or categories, any case\n"
	      "                         (Requests,Rdd,... or AppRequests,AppDependencies,...);\n"
	      "                         a name selects its counterpart in the other layout too\n"
	      "  --blobs-per-hour N     continuous-export blobs per app, type and hour (default 4)\n"
	      "  --rows-per-blob N      mean rows per continuous-export blob (default 5); a\n"
	      "                         PT1H.json holds about blobs-per-hour x rows-per-blob\n"
	      "  --container NAME       continuous-export container (default appinsights-export)\n"
	      "  --late-fraction F      share of blobs holding late telemetry (default 0.02)\n"
	      "  --late-days D          how late, in days (default 2; diagnostic settings cap\n"
	      "                         it at 48 hours)\n"
	      "  --faults LIST          comma list of crlf, blank, nofinalnl, malformed, empty,\n"
	      "                         huge; each lands in a few blobs listed in the manifest\n"
	      "                         and in DIR/.aigen/faults.txt\n"
	      "  --huge-blob SIZE       add one blob of about SIZE bytes (fault huge: 64MiB)\n"
	      "                         for the first app and type in the last hour; with\n"
	      "                         --layout diagnostic that hour's PT1H.json grows instead\n"
	      "  --target-bytes SIZE    scale rows per blob (or blobs per hour, when\n"
	      "                         --rows-per-blob is given) to make about SIZE bytes,\n"
	      "                         not counting the huge blob\n"
	      "Workspace data export (--layout workspace: am-<table> containers, 5-minute\n"
	      "folders of TimeGenerated, append blobs; DIR/step-<s>/ holds the bytes step s\n"
	      "appends to each blob, DIR/all/ every blob whole; --rows-per-blob is the mean\n"
	      "number of records per table, workspace and 5-minute folder):\n"
	      "  --steps K              append steps (default 1, at most 16); the last\n"
	      "                         hour's records are spread over them\n"
	      "  --late-appends         steps 2.. also append into folders 1 to 11 hours old\n"
	      "  --rollover N           records per blob before PT05M_1.json, PT05M_2.json,\n"
	      "                         ... (default 0: never)\n"
	      "  --duplicates F         share of records delivered twice (default 0)\n"
	      "  --split-lines          a step's piece of a blob may end in mid-line, the rest\n"
	      "                         of the line coming with the next step\n"
	      "  --workspaces W         workspaces (default 1); app i goes to workspace\n"
	      "                         i mod W, named logs-ws1, logs-ws2, ...\n"
	      "  --no-resource-id F     share of records without _ResourceId (default 0)\n"
	      "\n"
	      "  --help                 show this help\n"
	      "\n"
	      "SIZE takes B, K, M, G suffixes (binary). Exit status: 0 done, 1 write error,\n"
	      "2 usage error.\n", f);
}

static int usage_error(const char *msg, const char *arg)
{
	if (arg)
		fprintf(stderr, "aigen: %s '%s' (see 'aigen --help')\n", msg, arg);
	else
		fprintf(stderr, "aigen: %s (see 'aigen --help')\n", msg);
	return 2;
}

static bool parse_uint(const char *s, uint64_t lo, uint64_t hi, unsigned *out)
{
	uint64_t v;

	if (ai_parse_u64(s, hi, &v) != AI_OK || v < lo)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_fraction(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !(v >= 0.0 && v <= 1.0))
		return false;
	*out = v;
	return true;
}

static bool parse_rows(const char *s, double *out)
{
	unsigned v;

	if (!parse_uint(s, 1, 10000000, &v))
		return false;
	*out = v;
	return true;
}

/* Splits a comma list and hands each non-empty item to fn; false (with the
 * offending item in *bad) when fn rejects one. */
static bool each_item(const char *list, bool (*fn)(const char *item, void *ctx), void *ctx,
		      char *bad, size_t badcap)
{
	char item[64];
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n >= sizeof(item)) {
			snprintf(bad, badcap, "%.*s", (int)n, p);
			return false;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (n && !fn(item, ctx)) {
			snprintf(bad, badcap, "%s", item);
			return false;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return true;
}

static bool add_type(const char *item, void *ctx)
{
	unsigned *mask = ctx;

	for (unsigned k = 0; k < AG_KIND_COUNT; k++) {
		if ((ag_kinds[k].ce && !strcasecmp(item, ag_kinds[k].ce)) ||
		    !strcasecmp(item, ag_kinds[k].ds)) {
			*mask |= 1u << k;
			return true;
		}
	}
	return false;
}

static bool add_fault(const char *item, void *ctx)
{
	unsigned *mask = ctx;

	for (unsigned f = 0; f < F_COUNT; f++) {
		if (!strcasecmp(item, fault_names[f])) {
			*mask |= 1u << f;
			return true;
		}
	}
	return false;
}

static bool valid_container(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > 63 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* Returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_OUT = 256, O_LAYOUT, O_APPS, O_FROM, O_HOURS, O_SEED, O_TYPES, O_BPH, O_RPB,
	       O_CONTAINER, O_LATE_FRACTION, O_LATE_DAYS, O_FAULTS, O_HUGE, O_TARGET, O_STEPS,
	       O_LATE_APPENDS, O_ROLLOVER, O_DUPS, O_SPLIT, O_WORKSPACES, O_UNNAMED,
	       O_HELP };
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, O_OUT },
		{ "layout", required_argument, NULL, O_LAYOUT },
		{ "apps", required_argument, NULL, O_APPS },
		{ "from", required_argument, NULL, O_FROM },
		{ "hours", required_argument, NULL, O_HOURS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "types", required_argument, NULL, O_TYPES },
		{ "blobs-per-hour", required_argument, NULL, O_BPH },
		{ "rows-per-blob", required_argument, NULL, O_RPB },
		{ "container", required_argument, NULL, O_CONTAINER },
		{ "late-fraction", required_argument, NULL, O_LATE_FRACTION },
		{ "late-days", required_argument, NULL, O_LATE_DAYS },
		{ "faults", required_argument, NULL, O_FAULTS },
		{ "huge-blob", required_argument, NULL, O_HUGE },
		{ "target-bytes", required_argument, NULL, O_TARGET },
		{ "steps", required_argument, NULL, O_STEPS },
		{ "late-appends", no_argument, NULL, O_LATE_APPENDS },
		{ "rollover", required_argument, NULL, O_ROLLOVER },
		{ "duplicates", required_argument, NULL, O_DUPS },
		{ "split-lines", no_argument, NULL, O_SPLIT },
		{ "workspaces", required_argument, NULL, O_WORKSPACES },
		{ "no-resource-id", required_argument, NULL, O_UNNAMED },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	char bad[80];
	ai_time t;
	int c, idx;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (c) {
		case O_OUT:
			o->out = optarg;
			break;
		case O_LAYOUT:
			if (!strcmp(optarg, "continuous"))
				o->layouts = LAYOUT_CE;
			else if (!strcmp(optarg, "diagnostic"))
				o->layouts = LAYOUT_DS;
			else if (!strcmp(optarg, "both"))
				o->layouts = LAYOUT_CE | LAYOUT_DS;
			else if (!strcmp(optarg, "workspace"))
				o->layouts = LAYOUT_WS;
			else
				return usage_error("--layout: want continuous, diagnostic, both or workspace, not",
						   optarg);
			break;
		case O_APPS:
			if (!parse_uint(optarg, 1, 10000, &o->apps))
				return usage_error("--apps: want 1..10000, not", optarg);
			break;
		case O_FROM:
			if (!strncmp(optarg, "now", 3) || ai_parse_time_arg(optarg, 0, &t) != AI_OK)
				return usage_error("--from: want a UTC time like 2026-11-20T00, not", optarg);
			o->from = ai_time_hour(t) / 100;
			break;
		case O_HOURS:
			if (!parse_uint(optarg, 1, 100000, &o->hours))
				return usage_error("--hours: want 1..100000, not", optarg);
			break;
		case O_SEED:
			if (ai_parse_u64(optarg, UINT64_MAX, &o->seed) != AI_OK)
				return usage_error("--seed: want an unsigned integer, not", optarg);
			break;
		case O_TYPES:
			o->kinds = 0;
			if (!each_item(optarg, add_type, &o->kinds, bad, sizeof(bad)))
				return usage_error("--types: unknown type", bad);
			if (!o->kinds)
				return usage_error("--types: empty list", NULL);
			break;
		case O_BPH:
			if (!parse_uint(optarg, 1, 100000, &o->bph))
				return usage_error("--blobs-per-hour: want 1..100000, not", optarg);
			o->bph_set = true;
			break;
		case O_RPB:
			if (!parse_rows(optarg, &o->rpb))
				return usage_error("--rows-per-blob: want 1..10000000, not", optarg);
			o->rpb_set = true;
			break;
		case O_CONTAINER:
			if (!valid_container(optarg))
				return usage_error("--container: not a valid container name:", optarg);
			o->container = optarg;
			break;
		case O_LATE_FRACTION:
			if (!parse_fraction(optarg, &o->late_fraction))
				return usage_error("--late-fraction: want 0..1, not", optarg);
			break;
		case O_LATE_DAYS:
			if (!parse_uint(optarg, 0, 3650, &o->late_days))
				return usage_error("--late-days: want 0..3650, not", optarg);
			break;
		case O_FAULTS:
			if (!each_item(optarg, add_fault, &o->faults, bad, sizeof(bad)))
				return usage_error("--faults: unknown fault", bad);
			break;
		case O_HUGE:
			if (ai_parse_size(optarg, UINT64_C(1) << 40, &o->huge) != AI_OK || !o->huge)
				return usage_error("--huge-blob: want a size like 64M, not", optarg);
			break;
		case O_TARGET:
			if (ai_parse_size(optarg, UINT64_C(1) << 44, &o->target) != AI_OK || !o->target)
				return usage_error("--target-bytes: want a size like 2G, not", optarg);
			break;
		case O_STEPS:
			if (!parse_uint(optarg, 1, AG_WS_MAX_STEPS, &o->steps))
				return usage_error("--steps: want 1..16, not", optarg);
			break;
		case O_LATE_APPENDS:
			o->late_appends = true;
			break;
		case O_ROLLOVER:
			if (!parse_uint(optarg, 0, 50000, &o->rollover))
				return usage_error("--rollover: want 0..50000, not", optarg);
			break;
		case O_DUPS:
			if (!parse_fraction(optarg, &o->dups))
				return usage_error("--duplicates: want 0..1, not", optarg);
			break;
		case O_SPLIT:
			o->split_lines = true;
			break;
		case O_WORKSPACES:
			if (!parse_uint(optarg, 1, 100, &o->workspaces))
				return usage_error("--workspaces: want 1..100, not", optarg);
			break;
		case O_UNNAMED:
			if (!parse_fraction(optarg, &o->unnamed))
				return usage_error("--no-resource-id: want 0..1, not", optarg);
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			if (optopt >= O_OUT && optopt < O_HELP)
				return usage_error("option needs an argument:", argv[optind - 1]);
			return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!o->out)
		return usage_error("--out DIR is required", NULL);
	if (o->target && o->bph_set && o->rpb_set)
		return usage_error("--target-bytes needs one of --blobs-per-hour and --rows-per-blob left free", NULL);
	if (o->layouts == LAYOUT_WS && (o->faults || o->huge || o->target))
		return usage_error("--layout workspace takes no --faults, --huge-blob or --target-bytes",
				   NULL);
	if (o->layouts != LAYOUT_WS && (o->steps > 1 || o->late_appends || o->rollover ||
					 o->dups > 0.0 || o->split_lines || o->workspaces > 1 ||
					 o->unnamed > 0.0))
		return usage_error("--steps, --late-appends, --rollover, --duplicates, --split-lines, "
				   "--workspaces and --no-resource-id are for --layout workspace",
				   NULL);
	if (o->workspaces > o->apps)
		return usage_error("--workspaces: more workspaces than --apps", NULL);
	if (o->faults & (1u << F_HUGE) && !o->huge)
		o->huge = DEFAULT_HUGE;
	if (o->huge)
		o->faults |= 1u << F_HUGE;
	return -1;
}

/* ---- helpers ---- */

static bool kind_in(const struct opts *o, unsigned layout, unsigned k)
{
	if (!(o->kinds & (1u << k)))
		return false;
	return layout == LAYOUT_CE ? ag_kinds[k].ce != NULL : true;
}

static unsigned count_kinds(const struct opts *o, unsigned layout)
{
	unsigned n = 0;

	for (unsigned k = 0; k < AG_KIND_COUNT; k++)
		n += kind_in(o, layout, k);
	return n;
}

static int first_kind(const struct opts *o, unsigned layout)
{
	for (unsigned k = 0; k < AG_KIND_COUNT; k++)
		if (kind_in(o, layout, k))
			return (int)k;
	return -1;
}

ai_result ag_mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) && errno != EEXIST) {
			*p = '/';
			return AI_ERR_IO;
		}
		*p = '/';
	}
	if (mkdir(path, 0777) && errno != EEXIST)
		return AI_ERR_IO;
	return AI_OK;
}

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return errno == ENOENT;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = false;
			break;
		}
	}
	closedir(d);
	return empty;
}

static void put_civil(struct ag_out *o, int64_t ticks, bool date, bool hour)
{
	char tmp[40];
	struct ag_out t = { tmp, 0, sizeof(tmp) };

	ag_put_time(&t, ticks, 0);
	/* "YYYY-MM-DDTHH:MM:SSZ" */
	if (date)
		ag_put(o, tmp, 10);
	if (date && hour)
		ag_putc(o, '/');
	if (hour)
		ag_put(o, tmp + 11, 2);
}

/* ---- fault sites ---- */

static struct site *site_at(struct state *st, uint64_t idx)
{
	for (unsigned i = 0; i < st->nsites; i++)
		if (st->sites[i].index == idx)
			return &st->sites[i];
	return NULL;
}

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* Spreads each requested fault over a few regular blobs, evenly with a
 * seeded offset, each on its own blob while there are enough. */
static void place_faults(struct state *st)
{
	const struct opts *o = st->o;
	uint64_t total = st->nregular;

	st->nsites = 0;
	if (!total)
		return;
	for (unsigned f = 0; f < F_COUNT; f++) {
		uint64_t n, off;

		if (f == F_HUGE || !(o->faults & (1u << f)))
			continue;
		n = total / 100;
		n = n < 2 ? 2 : n > MAX_FAULT_SITES ? MAX_FAULT_SITES : n;
		if (n > total)
			n = total;
		off = ag_mix(o->seed, 0x6661756c74 + f) % total;
		for (uint64_t j = 0; j < n; j++) {
			uint64_t p = (j * total / n + off) % total, tries = 0;
			struct site *s;

			while ((s = site_at(st, p)) && tries++ < total)
				p = (p + 1) % total;
			if (s) {
				s->faults |= 1u << f;
				continue;
			}
			st->sites[st->nsites].index = p;
			st->sites[st->nsites].faults = 1u << f;
			st->nsites++;
		}
	}
	qsort(st->sites, st->nsites, sizeof(st->sites[0]), cmp_site);
}

static unsigned faults_for(struct state *st, uint64_t idx)
{
	struct site *s = site_at(st, idx);

	return s ? s->faults : 0;
}

/* Late blobs are spread evenly: blob i is late when the running count
 * i * fraction (phase-shifted by the seed) crosses an integer. */
static bool is_late(struct state *st, uint64_t idx)
{
	double f = st->o->late_fraction;

	if (f <= 0.0)
		return false;
	return floor((double)(idx + 1) * f + st->late_phase) > floor((double)idx * f + st->late_phase);
}

/* ---- writing one blob ---- */

struct emit {
	FILE *f;
	const char *eol;
	size_t eollen;
	uint64_t bytes;
	uint64_t rows, malformed, blank;
	int64_t tmin, tmax;
	bool io_error;
};

static void emit_raw(struct emit *e, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, e->f) != n)
		e->io_error = true;
	e->bytes += n;
}

static void emit_eol(struct emit *e)
{
	emit_raw(e, e->eol, e->eollen);
}

static void gen_row(struct state *st, const struct blob *b, int64_t t, struct ag_rng *r, struct ag_row *rw)
{
	st->row.n = 0;
	st->scratch.n = 0;
	ag_row_setup(rw, &st->gen, b->app, b->kind, t, r, &st->scratch);
	if (b->layout == LAYOUT_CE)
		ag_ce_row(rw, &st->row);
	else
		ag_ds_row(rw, &st->row);
}

static void emit_row(struct state *st, struct emit *e, const struct blob *b, int64_t t,
		     struct ag_rng *r, bool last, bool nofinalnl)
{
	struct ag_row rw;

	gen_row(st, b, t, r, &rw);
	emit_raw(e, st->row.p, st->row.n);
	if (!(last && nofinalnl))
		emit_eol(e);
	e->rows++;
	if (rw.t < e->tmin)
		e->tmin = rw.t;
	if (rw.t > e->tmax)
		e->tmax = rw.t;
}

/* A line no JSON parser accepts: a cut-off row, bytes that are not UTF-8
 * before the row, or a row missing its first quote. */
static void emit_malformed(struct state *st, struct emit *e, const struct blob *b, int64_t t,
			   struct ag_rng *r)
{
	struct ag_row rw;
	uint64_t v;

	gen_row(st, b, t, r, &rw);
	v = ag_below(r, 3);
	if (v == 0) {
		size_t cut = st->row.n * (30 + ag_below(r, 60)) / 100;

		emit_raw(e, st->row.p, cut ? cut : 1);
	} else if (v == 1) {
		emit_raw(e, "\xc3\x28\xff", 3);
		emit_raw(e, st->row.p, st->row.n);
	} else {
		emit_raw(e, "{", 1);
		emit_raw(e, st->row.p + 2, st->row.n - 2);
	}
	emit_eol(e);
	e->malformed++;
}

static void emit_blank(struct emit *e, struct ag_rng *r)
{
	static const char *const blanks[] = { "", "", "   ", "\t" };
	const char *s = blanks[ag_below(r, 4)];

	emit_raw(e, s, strlen(s));
	emit_eol(e);
	e->blank++;
}

/* Event time of a continuous-export row: the blob was staged a little
 * before delivery, and its items a little before that (or days before,
 * for a late blob). */
static int64_t ce_event_time(const struct opts *o, const struct blob *b, int64_t created,
			     struct ag_rng *r)
{
	int64_t lag;

	if (b->late)
		return created - (int64_t)o->late_days * AG_TICKS_PER_DAY -
		       (int64_t)ag_below(r, (uint64_t)AG_TICKS_PER_HOUR);
	lag = AG_TICKS_PER_SEC + (int64_t)ag_below(r, 30 * (uint64_t)AG_TICKS_PER_SEC);
	if (ag_chance(r, 1, 5))
		lag += (int64_t)ag_below(r, 20 * 60 * (uint64_t)AG_TICKS_PER_SEC);
	return created - lag;
}

/* Event time of a record appended at received: seconds to minutes
 * earlier, or up to 48 hours earlier for stale telemetry. */
static int64_t ds_event_time(const struct opts *o, int64_t received, bool stale, struct ag_rng *r)
{
	int64_t lag, cap = 47 * AG_TICKS_PER_HOUR, late = (int64_t)o->late_days * AG_TICKS_PER_DAY;

	if (stale)
		return received - (late < cap ? late : cap) - (int64_t)ag_below(r, (uint64_t)AG_TICKS_PER_HOUR);
	lag = (int64_t)ag_below(r, 20 * (uint64_t)AG_TICKS_PER_SEC);
	if (ag_chance(r, 1, 8))
		lag += (int64_t)ag_below(r, 15 * 60 * (uint64_t)AG_TICKS_PER_SEC);
	return received - lag;
}

static void blob_path(struct state *st, const struct blob *b, int64_t hour_start, int64_t created,
		      struct ag_rng *r, struct ag_out *p, size_t *rel)
{
	const struct ag_app *app = &st->apps[b->app];

	ag_puts(p, st->o->out);
	ag_putc(p, '/');
	if (b->layout == LAYOUT_CE) {
		char tmp[40];
		struct ag_out t = { tmp, 0, sizeof(tmp) };

		ag_puts(p, st->o->container);
		ag_putc(p, '/');
		*rel = p->n;
		ag_puts(p, app->name);
		ag_putc(p, '_');
		ag_puts(p, app->ikey);
		ag_putc(p, '/');
		ag_puts(p, ag_kinds[b->kind].ce);
		ag_putc(p, '/');
		put_civil(p, hour_start, true, true);
		ag_putc(p, '/');
		ag_put_guid(p, r);
		ag_putc(p, '_');
		ag_put_time(&t, created, 0);
		/* yyyyMMdd_HHmmss */
		ag_put(p, tmp, 4);
		ag_put(p, tmp + 5, 2);
		ag_put(p, tmp + 8, 2);
		ag_putc(p, '_');
		ag_put(p, tmp + 11, 2);
		ag_put(p, tmp + 14, 2);
		ag_put(p, tmp + 17, 2);
		AG_LIT(p, ".blob");
	} else {
		const char *ds = ag_kinds[b->kind].ds;

		AG_LIT(p, "insights-logs-");
		ag_put_lower(p, ds);
		ag_putc(p, '/');
		*rel = p->n;
		AG_LIT(p, "resourceId=/SUBSCRIPTIONS/");
		ag_puts(p, st->gen.sub);
		AG_LIT(p, "/RESOURCEGROUPS/");
		ag_puts(p, app->rg);
		AG_LIT(p, "/PROVIDERS/MICROSOFT.INSIGHTS/COMPONENTS/");
		ag_puts(p, app->upper);
		ag_put_folder(p, hour_start);
		AG_LIT(p, "/PT1H.json");
	}
	ag_putc(p, '\0');
}

static void put_manifest_time(struct ag_out *m, const char *key, int64_t t, bool valid)
{
	ag_puts(m, key);
	if (!valid) {
		AG_LIT(m, "null");
		return;
	}
	ag_putc(m, '"');
	ag_put_time(m, t, 7);
	ag_putc(m, '"');
}

static ai_result record(struct state *st, const struct blob *b, const char *path, size_t rel,
			int64_t hour_start, const struct emit *e)
{
	const struct ag_app *app = &st->apps[b->app];
	struct ag_out *m = &st->line;
	const char *container = path + strlen(st->o->out) + 1;
	size_t clen = (size_t)(path + rel - 1 - container);
	bool first = true;

	m->n = 0;
	AG_LIT(m, "{\"container\":");
	ag_put_jstrn(m, container, clen);
	AG_LIT(m, ",\"path\":");
	ag_put_jstr(m, path + rel);
	AG_LIT(m, ",\"layout\":\"");
	ag_puts(m, b->layout == LAYOUT_CE ? "continuous" : "diagnostic");
	AG_LIT(m, "\",\"app\":");
	ag_put_jstr(m, app->name);
	AG_LIT(m, ",\"ikey\":\"");
	ag_puts(m, app->ikey);
	AG_LIT(m, "\",\"type\":\"");
	ag_puts(m, b->layout == LAYOUT_CE ? ag_kinds[b->kind].ce : ag_kinds[b->kind].ds);
	AG_LIT(m, "\",\"hour\":\"");
	ag_put_time(m, hour_start, 0);
	AG_LIT(m, "\",\"rows\":");
	ag_put_u64(m, e->rows);
	AG_LIT(m, ",\"malformed\":");
	ag_put_u64(m, e->malformed);
	AG_LIT(m, ",\"blank\":");
	ag_put_u64(m, e->blank);
	AG_LIT(m, ",\"bytes\":");
	ag_put_u64(m, e->bytes);
	put_manifest_time(m, ",\"min_time\":", e->tmin, e->rows > 0);
	put_manifest_time(m, ",\"max_time\":", e->tmax, e->rows > 0);
	AG_LIT(m, ",\"late\":");
	ag_puts(m, b->late ? "true" : "false");
	AG_LIT(m, ",\"faults\":[");
	for (unsigned f = 0; f < F_COUNT; f++) {
		if (!(b->faults & (1u << f)))
			continue;
		if (!first)
			ag_putc(m, ',');
		first = false;
		ag_putc(m, '"');
		ag_puts(m, fault_names[f]);
		ag_putc(m, '"');
		fprintf(st->faultlist, "%s\t%s\n", fault_names[f], container);
	}
	AG_LIT(m, "]}\n");
	if (fwrite(m->p, 1, m->n, st->manifest) != m->n)
		return AI_ERR_IO;
	st->blobs++;
	st->bytes += e->bytes;
	st->rows += e->rows;
	st->malformed += e->malformed;
	return AI_OK;
}

/* Picks up to n line positions (before row k) for inserted lines. */
static unsigned pick_positions(struct ag_rng *r, uint64_t rows, unsigned n, uint64_t *pos)
{
	for (unsigned i = 0; i < n; i++)
		pos[i] = ag_below(r, rows);
	return n;
}

static unsigned count_at(const uint64_t *pos, unsigned n, uint64_t k)
{
	unsigned c = 0;

	for (unsigned i = 0; i < n; i++)
		c += pos[i] == k;
	return c;
}

static ai_result write_blob(struct state *st, const struct blob *b)
{
	const struct opts *o = st->o;
	char pathbuf[4096];
	struct ag_out path = { pathbuf, 0, sizeof(pathbuf) };
	struct emit e = { .eol = "\n", .eollen = 1, .tmin = INT64_MAX, .tmax = INT64_MIN };
	struct ag_rng r;
	int64_t hour_start = o->from + (int64_t)b->hour * AG_TICKS_PER_HOUR, created = hour_start;
	uint64_t key, rows = 0, blank_pos[3], mal_pos[2];
	unsigned nblank = 0, nmal = 0;
	bool nofinalnl = b->faults & (1u << F_NOFINALNL);
	size_t rel = 0;
	char *slash;
	ai_result res = AI_OK;

	key = ag_mix(ag_mix(ag_mix(o->seed, b->layout), b->app), b->kind);
	key = ag_mix(ag_mix(key, b->hour), b->huge ? UINT64_MAX : b->j);
	ag_rng_seed(&r, key);
	if (b->layout == LAYOUT_CE) {
		/* delivered in its slot of the hour, staged seconds to minutes before */
		int64_t delivered = hour_start + (int64_t)(((double)b->j + ag_unit(&r)) *
							   (double)AG_TICKS_PER_HOUR / (o->bph + 1));

		created = delivered - (3 + (int64_t)ag_below(&r, 180)) * AG_TICKS_PER_SEC -
			  (int64_t)ag_below(&r, (uint64_t)AG_TICKS_PER_SEC);
		rows = (uint64_t)llround(o->rpb * (0.5 + ag_unit(&r)));
	} else {
		rows = (uint64_t)llround((double)o->bph * o->rpb * (0.75 + 0.5 * ag_unit(&r)));
	}
	if (rows < 1)
		rows = 1;
	blob_path(st, b, hour_start, created, &r, &path, &rel);

	slash = strrchr(pathbuf, '/');
	*slash = '\0';
	if (strcmp(pathbuf, st->lastdir)) {
		if (ag_mkdirs(pathbuf) != AI_OK) {
			fprintf(stderr, "aigen: directory '%s': %s\n", pathbuf, strerror(errno));
			return AI_ERR_IO;
		}
		snprintf(st->lastdir, sizeof(st->lastdir), "%s", pathbuf);
	}
	*slash = '/';
	e.f = fopen(pathbuf, "wb");
	if (!e.f) {
		fprintf(stderr, "aigen: file '%s': %s\n", pathbuf, strerror(errno));
		return AI_ERR_IO;
	}
	setvbuf(e.f, st->iobuf, _IOFBF, 1u << 20);
	if (b->faults & (1u << F_CRLF)) {
		e.eol = "\r\n";
		e.eollen = 2;
	}
	if (b->faults & (1u << F_BLANK))
		nblank = pick_positions(&r, rows, 1 + (unsigned)ag_below(&r, 3), blank_pos);
	if (b->faults & (1u << F_MALFORMED))
		nmal = pick_positions(&r, rows, 1 + (unsigned)ag_below(&r, 2), mal_pos);

	if (b->faults & (1u << F_EMPTY)) {
		/* nothing: an export blob created with no content */
	} else if (b->huge) {
		while (e.bytes < b->huge) {
			int64_t t;

			if (b->layout == LAYOUT_CE)
				t = ce_event_time(o, b, created, &r);
			else
				t = ds_event_time(o, hour_start + (int64_t)((double)e.bytes / (double)b->huge *
									    (double)AG_TICKS_PER_HOUR), false, &r);
			emit_row(st, &e, b, t, &r, false, false);
		}
	} else {
		for (uint64_t i = 0; i < rows; i++) {
			int64_t t, received = 0;

			if (b->layout == LAYOUT_DS)
				received = hour_start + (int64_t)(((double)i + ag_unit(&r)) *
								  (double)AG_TICKS_PER_HOUR / (double)rows);
			for (unsigned k = count_at(blank_pos, nblank, i); k; k--)
				emit_blank(&e, &r);
			for (unsigned k = count_at(mal_pos, nmal, i); k; k--) {
				t = b->layout == LAYOUT_CE ? ce_event_time(o, b, created, &r)
							   : ds_event_time(o, received, false, &r);
				emit_malformed(st, &e, b, t, &r);
			}
			if (b->layout == LAYOUT_CE)
				t = ce_event_time(o, b, created, &r);
			else
				t = ds_event_time(o, received, b->late && (i == 0 || ag_chance(&r, 1, 3)), &r);
			emit_row(st, &e, b, t, &r, i + 1 == rows, nofinalnl);
		}
	}
	if (fclose(e.f) || e.io_error) {
		fprintf(stderr, "aigen: file '%s': write failed: %s\n", pathbuf, strerror(errno));
		return AI_ERR_IO;
	}
	res = record(st, b, pathbuf, rel, hour_start, &e);
	if (res != AI_OK)
		fprintf(stderr, "aigen: manifest: write failed: %s\n", strerror(errno));
	return res;
}

/* ---- sizing ---- */

/* Mean bytes of one row (with its newline) per kind and layout, from a
 * sample drawn with its own seed so that sizing does not disturb the tree. */
static double mean_row_bytes(struct state *st, unsigned layout, enum ag_kind k)
{
	const struct opts *o = st->o;
	struct blob b = { .layout = layout, .kind = k };
	struct ag_rng r;
	struct ag_row rw;
	uint64_t sum = 0;
	const unsigned samples = 4096;

	ag_rng_seed(&r, ag_mix(ag_mix(o->seed, 0x63616c), layout * 16 + k));
	for (unsigned i = 0; i < samples; i++) {
		b.app = i % o->apps;
		gen_row(st, &b, o->from + (int64_t)ag_below(&r, (uint64_t)o->hours * AG_TICKS_PER_HOUR),
			&r, &rw);
		sum += st->row.n + 1;
	}
	return (double)sum / samples;
}

/* Solves for blobs-per-hour x rows-per-blob: every layout's volume is
 * apps x hours x that product x the mean row size of each kind. */
static void fit_target(struct state *st, struct opts *o)
{
	double per_unit = 0.0, product;

	for (unsigned layout = LAYOUT_CE; layout <= LAYOUT_DS; layout <<= 1) {
		if (!(o->layouts & layout))
			continue;
		for (unsigned k = 0; k < AG_KIND_COUNT; k++)
			if (kind_in(o, layout, k))
				per_unit += mean_row_bytes(st, layout, (enum ag_kind)k);
	}
	per_unit *= (double)o->apps * o->hours;
	if (per_unit <= 0.0)
		return;
	product = (double)o->target / per_unit;
	if (o->rpb_set) {
		double bph = floor(product / o->rpb + 0.5);

		o->bph = bph < 1.0 ? 1 : bph > 100000.0 ? 100000 : (unsigned)bph;
	} else {
		o->rpb = product / o->bph;
		if (o->rpb < 1.0)
			o->rpb = 1.0;
	}
}

/* ---- the tree ---- */

/* Writes the blobs of one app and kind, hour by hour; idx counts regular
 * blobs across the tree. huge says whether this series carries the huge
 * blob (in its last hour). */
static ai_result write_series(struct state *st, unsigned layout, unsigned a, enum ag_kind k,
			      uint64_t *idx, bool huge)
{
	const struct opts *o = st->o;
	unsigned n = layout == LAYOUT_CE ? o->bph : 1;
	ai_result r;

	for (unsigned h = 0; h < o->hours; h++) {
		bool last = h + 1 == o->hours;

		for (unsigned j = 0; j < n; j++, (*idx)++) {
			struct blob b = {
				.layout = layout, .app = a, .kind = k, .hour = h, .j = j, .index = *idx,
				.faults = faults_for(st, *idx), .late = is_late(st, *idx),
			};

			/* a PT1H.json cannot be doubled: the hour's one grows */
			if (huge && last && layout == LAYOUT_DS) {
				b.huge = o->huge;
				b.faults = 1u << F_HUGE;
				b.late = false;
			}
			if ((r = write_blob(st, &b)) != AI_OK)
				return r;
		}
		if (huge && last && layout == LAYOUT_CE) {
			struct blob b = {
				.layout = layout, .app = a, .kind = k, .hour = h, .j = o->bph,
				.index = UINT64_MAX, .faults = 1u << F_HUGE, .huge = o->huge,
			};

			if ((r = write_blob(st, &b)) != AI_OK)
				return r;
		}
	}
	return AI_OK;
}

/* The huge blob goes to the first app's first kind: continuous export
 * when that layout is written, else diagnostic settings. */
static ai_result write_tree(struct state *st)
{
	const struct opts *o = st->o;
	unsigned huge_layout = !o->huge ? 0 : o->layouts & LAYOUT_CE ? LAYOUT_CE : LAYOUT_DS;
	uint64_t idx = 0;
	ai_result r;

	for (unsigned layout = LAYOUT_CE; layout <= LAYOUT_DS; layout <<= 1) {
		int huge_kind = layout == huge_layout ? first_kind(o, layout) : -1;

		if (!(o->layouts & layout))
			continue;
		for (unsigned a = 0; a < o->apps; a++) {
			for (unsigned k = 0; k < AG_KIND_COUNT; k++) {
				if (!kind_in(o, layout, k))
					continue;
				r = write_series(st, layout, a, (enum ag_kind)k, &idx,
						 a == 0 && (int)k == huge_kind);
				if (r != AI_OK)
					return r;
			}
		}
	}
	return AI_OK;
}

static FILE *open_meta(const char *out, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/.aigen/%s", out, name);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "aigen: file '%s': %s\n", path, strerror(errno));
	return f;
}

static ai_result write_summary(struct state *st)
{
	const struct opts *o = st->o;
	FILE *f = open_meta(o->out, "summary.json");
	char from[40];
	struct ag_out t = { from, 0, sizeof(from) - 1 };
	int ok;

	if (!f)
		return AI_ERR_IO;
	ag_put_time(&t, o->from, 0);
	from[t.n] = '\0';
	fprintf(f, "{\"blobs\":%llu,\"bytes\":%llu,\"rows\":%llu,\"malformed\":%llu,"
		"\"seed\":%llu,\"from\":\"%s\",\"hours\":%u,\"apps\":%u,\"layout\":\"%s\","
		"\"blobs_per_hour\":%u,\"rows_per_blob\":%.3f,\"late_fraction\":%.4f,"
		"\"late_days\":%u,\"huge_bytes\":%llu}\n",
		(unsigned long long)st->blobs, (unsigned long long)st->bytes,
		(unsigned long long)st->rows, (unsigned long long)st->malformed,
		(unsigned long long)o->seed, from, o->hours, o->apps,
		o->layouts == (LAYOUT_CE | LAYOUT_DS) ? "both" : o->layouts == LAYOUT_CE ? "continuous" : "diagnostic",
		o->bph, o->rpb, o->late_fraction, o->late_days, (unsigned long long)o->huge);
	ok = !ferror(f);
	if (fclose(f) || !ok)
		return AI_ERR_IO;
	return AI_OK;
}

static void state_release(struct state *st);

/* --layout workspace: the tree of aigen_ws.c, and its summary. */
static int write_workspace(struct state *st, const struct opts *o)
{
	struct ag_ws_opts w = {
		.out = o->out, .from = o->from, .hours = o->hours, .seed = o->seed,
		.kinds = o->kinds, .rows = o->rpb, .steps = o->steps, .late = o->late_appends,
		.rollover = o->rollover, .dups = o->dups, .split_lines = o->split_lines,
		.workspaces = o->workspaces, .unnamed = o->unnamed,
	};
	struct ag_ws_totals t;
	FILE *f;
	ai_result r = st->faultlist ? ag_ws_tree(&w, &st->gen, st->manifest, &t) : AI_ERR_IO;
	char from[40];
	struct ag_out fo = { from, 0, sizeof from };

	ag_put_time(&fo, o->from, 0);
	ag_putc(&fo, '\0');
	if (r == AI_OK && !(f = open_meta(o->out, "summary.json")))
		r = AI_ERR_IO;
	if (r == AI_OK) {
		fprintf(f, "{\"layout\":\"workspace\",\"seed\":%llu,\"from\":\"%s\",\"hours\":%u,"
			"\"apps\":%u,\"workspaces\":%u,\"steps\":%u,\"blobs\":%llu,\"bytes\":%llu,"
			"\"rows\":%llu,\"duplicates\":%llu}\n",
			(unsigned long long)o->seed, from, o->hours, o->apps, o->workspaces, o->steps,
			(unsigned long long)t.blobs, (unsigned long long)t.bytes,
			(unsigned long long)t.rows, (unsigned long long)t.duplicates);
		if (fclose(f))
			r = AI_ERR_IO;
	}
	if (r == AI_OK && fflush(st->manifest))
		r = AI_ERR_IO;
	if (r == AI_OK)
		printf("aigen: wrote %llu blobs, %llu bytes, %llu rows (%llu duplicated) in %u "
		       "steps to %s\n", (unsigned long long)t.blobs, (unsigned long long)t.bytes,
		       (unsigned long long)t.rows, (unsigned long long)t.duplicates, o->steps, o->out);
	else
		fprintf(stderr, "aigen: %s\n", ai_strerror(r));
	state_release(st);
	return r == AI_OK ? 0 : 1;
}

static ai_result state_init(struct state *st, const struct opts *o)
{
	struct ag_rng r;
	char hex[17];
	struct ag_out h = { hex, 0, sizeof(hex) };
	uint64_t a, b;

	memset(st, 0, sizeof(*st));
	st->o = o;
	st->apps = calloc(o->apps, sizeof(*st->apps));
	st->row.p = malloc(ROW_CAP);
	st->row.cap = ROW_CAP;
	st->scratch.p = malloc(SCRATCH_CAP);
	st->scratch.cap = SCRATCH_CAP;
	st->line.p = malloc(LINE_CAP);
	st->line.cap = LINE_CAP;
	st->iobuf = malloc(1u << 20);
	if (!st->apps || !st->row.p || !st->scratch.p || !st->line.p || !st->iobuf)
		return AI_ERR_NOMEM;
	for (unsigned i = 0; i < o->apps; i++)
		ag_app_init(&st->apps[i], i, o->seed);
	st->gen.seed = o->seed;
	st->gen.apps = st->apps;
	st->gen.napps = o->apps;
	ag_rng_seed(&r, ag_mix(o->seed, 0x737562));
	a = ag_next(&r);
	b = ag_next(&r);
	ag_put_hex(&h, a, 16);
	snprintf(st->gen.sub, sizeof(st->gen.sub), "%.8s-%.4s-%.4s-", hex, hex + 8, hex + 12);
	h.n = 0;
	ag_put_hex(&h, b, 16);
	snprintf(st->gen.sub + 19, sizeof(st->gen.sub) - 19, "%.4s-%.12s", hex, hex + 4);
	for (char *c = st->gen.sub; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 32);
	st->late_phase = (double)(ag_mix(o->seed, 0x6c617465) >> 11) * 0x1.0p-53;
	return AI_OK;
}

static void state_release(struct state *st)
{
	free(st->apps);
	free(st->row.p);
	free(st->scratch.p);
	free(st->line.p);
	free(st->iobuf);
	if (st->manifest)
		fclose(st->manifest);
	if (st->faultlist)
		fclose(st->faultlist);
}

int main(int argc, char **argv)
{
	struct opts o = {
		.container = "appinsights-export",
		.layouts = LAYOUT_CE,
		.apps = 3,
		.hours = 3,
		.seed = 1,
		.kinds = (1u << AG_KIND_COUNT) - 1,
		.bph = 4,
		.rpb = 5.0,
		.late_fraction = 0.02,
		.late_days = 2,
		.steps = 1,
		.workspaces = 1,
	};
	struct state st;
	char meta[4096];
	double pool;
	int rc;
	ai_result r;

	/* 2026-11-20T00:00:00Z */
	o.from = ai_days_from_civil(2026, 11, 20) * AG_TICKS_PER_DAY;
	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if ((o.layouts & LAYOUT_CE) && !count_kinds(&o, LAYOUT_CE) &&
	    !((o.layouts & LAYOUT_DS) && count_kinds(&o, LAYOUT_DS)))
		return usage_error("--types selects nothing continuous export has", NULL);
	if (!dir_empty(o.out)) {
		fprintf(stderr, "aigen: output directory '%s' is not empty\n", o.out);
		return 1;
	}
	r = state_init(&st, &o);
	if (r != AI_OK) {
		fprintf(stderr, "aigen: %s\n", ai_strerror(r));
		state_release(&st);
		return 1;
	}
	if (o.target)
		fit_target(&st, &o);
	pool = floor((double)o.bph * o.rpb + 0.5);
	st.gen.op_pool = pool < 4.0 ? 4 : pool > 1e9 ? 1000000000u : (unsigned)pool;
	if (o.layouts & LAYOUT_CE)
		st.nregular += (uint64_t)o.apps * count_kinds(&o, LAYOUT_CE) * o.hours * o.bph;
	if (o.layouts & LAYOUT_DS)
		st.nregular += (uint64_t)o.apps * count_kinds(&o, LAYOUT_DS) * o.hours;
	place_faults(&st);

	snprintf(meta, sizeof(meta), "%s/.aigen", o.out);
	if (ag_mkdirs(meta) != AI_OK) {
		fprintf(stderr, "aigen: directory '%s': %s\n", meta, strerror(errno));
		state_release(&st);
		return 1;
	}
	st.manifest = open_meta(o.out, "manifest.jsonl");
	st.faultlist = st.manifest ? open_meta(o.out, "faults.txt") : NULL;
	if (o.layouts == LAYOUT_WS)
		return write_workspace(&st, &o);
	r = st.faultlist ? write_tree(&st) : AI_ERR_IO;
	if (r == AI_OK)
		r = write_summary(&st);
	if (r == AI_OK && (fflush(st.manifest) || fflush(st.faultlist)))
		r = AI_ERR_IO;
	if (r == AI_OK)
		printf("aigen: wrote %llu blobs, %llu bytes, %llu rows to %s\n",
		       (unsigned long long)st.blobs, (unsigned long long)st.bytes,
		       (unsigned long long)st.rows, o.out);
	state_release(&st);
	return r == AI_OK ? 0 : 1;
}
