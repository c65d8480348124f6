/* aigen.h: shared pieces of the export generator: the deterministic PRNG,
 * the fast JSON emitter, and the telemetry kinds and row generators. */
#ifndef AIGEN_H
#define AIGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "util/result.h"

/* Times are 100 ns ticks since the Unix epoch: the 7 fractional digits of
 * Application Insights timestamps, exactly. */
#define AG_TICKS_PER_SEC INT64_C(10000000)
#define AG_TICKS_PER_HOUR (3600 * AG_TICKS_PER_SEC)
#define AG_TICKS_PER_DAY (24 * AG_TICKS_PER_HOUR)

/* xoshiro256**, seeded through splitmix64. */
struct ag_rng {
	uint64_t s[4];
};

static inline uint64_t ag_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t ag_next(struct ag_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = ag_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ag_rotl(s[3], 45);
	return out;
}

/* Uniform in [0, n) for n > 0 (multiply-shift; the bias is far below
 * anything a test could notice). */
static inline uint64_t ag_below(struct ag_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)ag_next(r) * n) >> 64);
}

/* Uniform in [0, 1). */
static inline double ag_unit(struct ag_rng *r)
{
	return (double)(ag_next(r) >> 11) * 0x1.0p-53;
}

/* True with probability num/den. */
static inline bool ag_chance(struct ag_rng *r, unsigned num, unsigned den)
{
	return ag_below(r, den) < num;
}

void ag_rng_seed(struct ag_rng *r, uint64_t seed);
/* Hashes a sequence of words into one well-mixed word. */
uint64_t ag_mix(uint64_t a, uint64_t b);

/* A fixed-capacity output buffer. Rows are bounded by construction, so
 * running out of room is a bug in the generator and aborts. */
struct ag_out {
	char *p;
	size_t n;
	size_t cap;
};

void ag_overflow(void) __attribute__((noreturn));

static inline void ag_put(struct ag_out *o, const void *s, size_t n)
{
	if (n > o->cap - o->n)
		ag_overflow();
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static inline void ag_putc(struct ag_out *o, char c)
{
	if (o->n >= o->cap)
		ag_overflow();
	o->p[o->n++] = c;
}

static inline void ag_puts(struct ag_out *o, const char *s)
{
	ag_put(o, s, strlen(s));
}

/* s lowercased (ASCII). */
static inline void ag_put_lower(struct ag_out *o, const char *s)
{
	for (; *s; s++)
		ag_putc(o, *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s);
}

#define AG_LIT(o, s) ag_put((o), "" s, sizeof(s) - 1)

void ag_put_u64(struct ag_out *o, uint64_t v);
void ag_put_i64(struct ag_out *o, int64_t v);
/* v / 10^dec with exactly dec fractional digits ("12.50"). */
void ag_put_fixed(struct ag_out *o, int64_t v, unsigned dec);
/* nd lowercase hex digits of v, most significant first. */
void ag_put_hex(struct ag_out *o, uint64_t v, unsigned nd);
/* s as a quoted JSON string; bytes >= 0x80 pass through (UTF-8). */
void ag_put_jstr(struct ag_out *o, const char *s);
void ag_put_jstrn(struct ag_out *o, const char *s, size_t n);
/* "2026-11-20T13:04:05.1234567Z" with digits (0..7) fractional digits. */
void ag_put_time(struct ag_out *o, int64_t ticks, unsigned digits);
/* "/y=YYYY/m=MM/d=DD/h=HH/m=mm" for the time t (ticks). */
void ag_put_folder(struct ag_out *o, int64_t t);
/* A random (version 4) GUID, lowercase. */
void ag_put_guid(struct ag_out *o, struct ag_rng *r);

/* Telemetry kinds: one per continuous-export type folder, plus the
 * diagnostic-settings category with no continuous-export counterpart. */
enum ag_kind {
	AG_REQUEST,
	AG_EVENT,
	AG_EXCEPTION,
	AG_MESSAGE,
	AG_METRIC,
	AG_PAGEVIEW,
	AG_PAGEVIEWPERF,
	AG_PERFCOUNTER,
	AG_AVAILABILITY,
	AG_DEPENDENCY,
	AG_SYSTEMEVENT,
	AG_KIND_COUNT
};

struct ag_kind_info {
	const char *ce;     /* continuous-export folder, NULL if none */
	const char *ce_key; /* row array key */
	const char *ds;     /* diagnostic-settings category, NULL if none */
};

extern const struct ag_kind_info ag_kinds[AG_KIND_COUNT];

struct ag_app {
	char name[48];     /* lowercase resource name, the CE folder prefix */
	char upper[48];    /* the same, uppercased, as in resource ids */
	char ikey[33];
	char ikey_guid[37];
	char rg[48];       /* resource group, uppercase */
	char host[64];
	char ns[48];       /* code namespace used in stacks and logger names */
	char roles[3][48];
	unsigned nroles;
	char instances[4][48];
	unsigned ninstances;
	char resource_guid[37];
	char version[16];
	const char *sdk;
	unsigned profile;  /* selects number style and sampling behaviour */
};

struct ag_gen {
	uint64_t seed;
	const struct ag_app *apps;
	unsigned napps;
	char sub[37];      /* subscription id, uppercase */
	unsigned op_pool;  /* operations per app and event hour */
};

/* Everything one row needs; ag_row_setup fills it from the event time. */
struct ag_row {
	const struct ag_gen *g;
	const struct ag_app *app;
	unsigned appi;
	enum ag_kind kind;
	struct ag_rng *r;
	struct ag_out *scratch; /* work space for values built in pieces */
	int64_t t;             /* event time, truncated to digits */
	unsigned digits;       /* fractional digits of the CE eventTime */
	unsigned rate_x10;     /* sampling rate in tenths of a percent */
	unsigned count;        /* items this one stands for: 100 / rate */
	uint64_t op[2];        /* operation (trace) id */
	uint64_t req_span;     /* id of the operation's request */
	uint64_t span;         /* this item's own id */
	uint64_t session;
	uint64_t user;
	unsigned route;
	unsigned role;
	unsigned instance;
	unsigned loc;
	bool has_op;
	bool browser;
};

/* Picks the operation, sampling, role and the like for an item of kind k
 * at event time t (ticks). */
void ag_row_setup(struct ag_row *rw, const struct ag_gen *g, unsigned appi,
		  enum ag_kind k, int64_t t, struct ag_rng *r, struct ag_out *scratch);
/* One continuous-export row (no line terminator). */
void ag_ce_row(struct ag_row *rw, struct ag_out *o);
/* One diagnostic-settings record (no line terminator); t is its `time`. */
void ag_ds_row(struct ag_row *rw, struct ag_out *o);
/* One workspace data export record (no line terminator): the table's
 * columns, TimeGenerated its t, with _ItemId, TenantId and (named) the
 * component's _ResourceId. */
void ag_ws_row(struct ag_row *rw, struct ag_out *o, const char *tenant, bool named);
/* The workspace data export layout (aigen_ws.c). */
#define AG_WS_MAX_STEPS 16
struct ag_ws_opts {
	const char *out;
	int64_t from;         /* ticks, on an hour */
	unsigned hours;
	uint64_t seed;
	unsigned kinds;       /* bit per enum ag_kind */
	double rows;          /* mean records per table, workspace and 5-minute folder */
	unsigned steps;       /* append steps, written to step-1/ .. step-<steps>/ */
	bool late;            /* later steps append into folders 1 to 11 hours old */
	unsigned rollover;    /* records per blob before PT05M_<n>.json; 0: never */
	double dups;          /* share of records delivered twice */
	bool split_lines;     /* a step may end in the middle of a line */
	unsigned workspaces;  /* component i goes to workspace i % workspaces */
	double unnamed;       /* share of records without _ResourceId */
};
struct ag_ws_totals {
	uint64_t blobs, bytes, rows, duplicates;
};
/* Writes the tree: step-<s>/ (each blob's bytes appended in step s),
 * all/ (every blob whole), one manifest line per blob. */
ai_result ag_ws_tree(const struct ag_ws_opts *o, const struct ag_gen *g, FILE *manifest,
                     struct ag_ws_totals *t);
/* Workspace w's name ("logs-ws1", ...). */
const char *ag_ws_name(unsigned w, char *out, size_t cap);
/* mkdir -p. */
ai_result ag_mkdirs(char *path);
/* Fills app i of a tree with the given seed. */
void ag_app_init(struct ag_app *a, unsigned i, uint64_t seed);

#endif
