/* cmd_query.c: `aiarchive query`, the list of archived members matching
 * the analyst's filters, as a table, JSON Lines or CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/jsonout.h"
#include "engine/archive.h"
#include "engine/catalog.h"
#include "cmd/cmd.h"
#include "util/crypto.h"
#include "util/escape.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/alloc.h"
#include "util/table.h"
#include "cmd/credential.h"
#include "cmd/options.h"
#include "engine/trust.h"

enum format { F_TABLE, F_JSONL, F_CSV };

/* Columns of jsonl and csv, in this order (documented in doc/analysts.md). */
enum col {
	C_BLOB, C_RANGE_START, C_RANGE_END, C_APP, C_TYPE, C_DELIVERY, C_MIN_EVENT, C_MAX_EVENT,
	C_ROWS, C_BAD_ROWS, C_RAW_SIZE, C_PACK, C_OFFSET, C_LENGTH, C_SHA256, C_SEGMENT, C_RUN_ID,
	C_TAGS, C_ETAG, C_REPLACES, NCOLS
};
static const char *const col_names[NCOLS] = {
	"blob", "range_start", "range_end", "app", "type", "delivery_hour", "min_event",
	"max_event", "rows", "bad_rows", "raw_size", "pack", "offset", "length", "sha256",
	"segment", "run_id", "tags", "etag", "replaces",
};
static const int col_numeric[NCOLS] = {
	[C_RANGE_START] = 1, [C_RANGE_END] = 1, [C_ROWS] = 1, [C_BAD_ROWS] = 1,
	[C_RAW_SIZE] = 1, [C_OFFSET] = 1, [C_LENGTH] = 1, [C_SEGMENT] = 1,
};

/* --wide: every column, short ones first and the long blob name last. */
static const enum col wide_cols[] = {
	C_APP, C_TYPE, C_DELIVERY, C_MIN_EVENT, C_MAX_EVENT, C_ROWS, C_BAD_ROWS, C_RAW_SIZE,
	C_SEGMENT, C_RUN_ID, C_TAGS, C_PACK, C_OFFSET, C_LENGTH, C_SHA256, C_RANGE_START,
	C_RANGE_END, C_ETAG, C_REPLACES, C_BLOB,
};
/* The default table, within 80 columns: what, when delivered, how many rows,
 * and the source blob, cut in the middle when the line would be too long. */
static const enum col default_cols[] = {
	C_APP, C_TYPE, C_DELIVERY, C_ROWS, C_BLOB,
};
/* Names and the like may be cut in the middle; times and numbers never. */
static const int col_shrinks[NCOLS] = {
	[C_BLOB] = 1, [C_APP] = 1, [C_TYPE] = 1, [C_PACK] = 1, [C_SHA256] = 1, [C_RUN_ID] = 1,
	[C_TAGS] = 1, [C_ETAG] = 1, [C_REPLACES] = 1,
};
#define NWIDE (sizeof wide_cols / sizeof wide_cols[0])
#define NDEFAULT (sizeof default_cols / sizeof default_cols[0])
#define TABLE_PAGE 1000

/* --group-by keys; --count is the one group of no key. */
enum key { K_APP, K_TYPE, K_HOUR, NKEYS };
static const char *const key_names[NKEYS] = { "app", "type", "hour" };

struct group {
	char *app, *type;          /* NULL unless a key */
	ai_time hour;              /* the delivery hour, 0 unless a key */
	uint64_t members, rows, bytes;
};

struct groups {
	enum key keys[NKEYS];
	size_t nkeys;
	struct group *v;
	size_t n, cap;
	size_t *slot;              /* open addressing: index + 1, 0 empty */
	size_t nslots;
};

struct query {
	FILE *out;
	enum format format;
	uint64_t matched;
	enum col cols[NCOLS];      /* the table's and the CSV's columns */
	size_t ncols;
	struct ai_table table;
	int table_ready;
	int counting;              /* --count or --group-by */
	struct groups g;
};

/* Event times keep every digit they have: 7 for Application Insights
 * (100 ns ticks), 9 only when the nanoseconds need it. */
static void format_event(ai_time t, char out[AI_TIME_STRLEN])
{
	ai_time_format(t, t % 100 ? 9 : 7, out);
}


static void csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* The cell texts of one member; "" for an absent value. Each is malloc'd. */
static ai_result cells(const struct ai_segment *seg, const struct ai_member *m,
                       const struct ai_pack_ref *pack, const char *tag_sep, char *c[NCOLS])
{
	char t[AI_TIME_STRLEN], hex[2 * AI_SHA256_LEN + 1];
	struct ai_buf tags;
	ai_result r = AI_OK;

	memset(c, 0, NCOLS * sizeof *c);
#define SET(i, ...)                                       \
	do {                                                  \
		if (asprintf(&c[i], __VA_ARGS__) < 0) {           \
			c[i] = NULL;                                  \
			r = AI_ERR_NOMEM;                             \
		}                                                 \
	} while (0)
	SET(C_BLOB, "%s", m->blob ? m->blob : "");
	SET(C_RANGE_START, "%llu", (unsigned long long)m->range_start);
	SET(C_RANGE_END, "%llu", (unsigned long long)m->range_end);
	SET(C_APP, "%s", m->app ? m->app : "");
	SET(C_TYPE, "%s", m->type ? m->type : "");
	ai_time_format(m->delivery_hour, 0, t);
	SET(C_DELIVERY, "%s", t);
	if (m->has_time) {
		format_event(m->min_event, t);
		SET(C_MIN_EVENT, "%s", t);
		format_event(m->max_event, t);
		SET(C_MAX_EVENT, "%s", t);
	} else {
		SET(C_MIN_EVENT, "%s", "");
		SET(C_MAX_EVENT, "%s", "");
	}
	SET(C_ROWS, "%llu", (unsigned long long)m->rows);
	SET(C_BAD_ROWS, "%llu", (unsigned long long)m->bad_rows);
	SET(C_RAW_SIZE, "%llu", (unsigned long long)m->raw_size);
	SET(C_PACK, "%s", pack->name ? pack->name : "");
	SET(C_OFFSET, "%llu", (unsigned long long)m->offset);
	SET(C_LENGTH, "%llu", (unsigned long long)m->length);
	ai_hex(m->sha256, AI_SHA256_LEN, hex);
	SET(C_SHA256, "%s", hex);
	SET(C_SEGMENT, "%llu", (unsigned long long)seg->seq);
	SET(C_RUN_ID, "%s", seg->run_id ? seg->run_id : "");
	SET(C_ETAG, "%s", m->etag);
	SET(C_REPLACES, "%s", m->replaces);
#undef SET
	ai_buf_init(&tags, 1 << 16);
	for (size_t i = 0; i < seg->ntags && r == AI_OK; i++)
		r = ai_buf_printf(&tags, "%s%s", i ? tag_sep : "", seg->tags[i]);
	if (r == AI_OK && !(c[C_TAGS] = strdup(ai_buf_str(&tags))))
		r = AI_ERR_NOMEM;
	ai_buf_release(&tags);
	return r;
}

static void cells_free(char *c[NCOLS])
{
	for (int i = 0; i < NCOLS; i++)
		free(c[i]);
}

static void print_jsonl(FILE *f, const struct ai_segment *seg, char *c[NCOLS])
{
	fputc('{', f);
	for (int i = 0; i < NCOLS; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", col_names[i]);
		if (i == C_TAGS) {
			fputc('[', f);
			for (size_t k = 0; k < seg->ntags; k++) {
				if (k)
					fputc(',', f);
				ai_json_string(f, seg->tags[k]);
			}
			fputc(']', f);
		} else if ((i == C_MIN_EVENT || i == C_MAX_EVENT || i == C_REPLACES) && !*c[i]) {
			fputs("null", f);
		} else if (col_numeric[i]) {
			fputs(c[i], f);
		} else {
			ai_json_string(f, c[i]);
		}
	}
	fputs("}\n", f);
}

static void print_csv_header(const struct query *q)
{
	for (size_t k = 0; k < q->ncols; k++)
		fprintf(q->out, "%s%s", k ? "," : "", col_names[q->cols[k]]);
	fputc('\n', q->out);
}

static void print_csv(const struct query *q, char *c[NCOLS])
{
	for (size_t k = 0; k < q->ncols; k++) {
		if (k)
			fputc(',', q->out);
		csv_str(q->out, c[q->cols[k]]);
	}
	fputc('\n', q->out);
}

/* One table row: the chosen cells, escaped (widths are measured on what
 * the terminal shows). */
static ai_result table_row(struct query *q, char *c[NCOLS])
{
	char *row[NCOLS];
	size_t k;
	ai_result r = AI_OK;

	for (k = 0; k < q->ncols; k++)
		if (!(row[k] = ai_escape_new(c[q->cols[k]]))) {
			r = AI_ERR_NOMEM;
			break;
		}
	if (r == AI_OK)
		r = ai_table_add(&q->table, (const char *const *)row);
	while (k--)
		free(row[k]);
	if (r == AI_OK && q->table.nrows == TABLE_PAGE)
		r = ai_table_flush(&q->table, q->out);
	return r;
}

/* ---- --count and --group-by ---- */

#define FNV_PRIME 1099511628211ULL

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * FNV_PRIME;
	return (h ^ 0xff) * FNV_PRIME;
}

struct group_key {
	const char *app, *type;    /* NULL unless a key */
	ai_time hour;
};

static uint64_t group_hash(const struct group_key *k)
{
	uint64_t h = 14695981039346656037ULL;

	h = hash_str(h, k->app);
	h = hash_str(h, k->type);
	return (h ^ (uint64_t)k->hour) * FNV_PRIME;
}

static void key_of(const struct group *x, struct group_key *k)
{
	*k = (struct group_key){ .app = x->app, .type = x->type, .hour = x->hour };
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int group_eq(const struct group *a, const struct group_key *b)
{
	return str_eq(a->app, b->app) && str_eq(a->type, b->type) && a->hour == b->hour;
}

static ai_result groups_rehash(struct groups *g)
{
	size_t n = g->nslots ? 2 * g->nslots : 64;
	size_t *slot = calloc(n, sizeof *slot);

	if (!slot)
		return AI_ERR_NOMEM;
	for (size_t i = 0; i < g->n; i++) {
		struct group_key k;
		key_of(&g->v[i], &k);
		size_t at = (size_t)(group_hash(&k) & (n - 1));
		while (slot[at])
			at = (at + 1) & (n - 1);
		slot[at] = i + 1;
	}
	free(g->slot);
	g->slot = slot;
	g->nslots = n;
	return AI_OK;
}

static int has_key(const struct groups *g, enum key k)
{
	for (size_t i = 0; i < g->nkeys; i++)
		if (g->keys[i] == k)
			return 1;
	return 0;
}

/* Adds m's counts to its group (m NULL: makes the group of no key). */
static ai_result group_add(struct groups *g, const struct ai_member *m)
{
	static const struct ai_member none;
	struct group_key want;
	struct group *x;
	size_t at;

	if (!m)
		m = &none;
	want = (struct group_key){
		.app = has_key(g, K_APP) ? (m->app ? m->app : "") : NULL,
		.type = has_key(g, K_TYPE) ? (m->type ? m->type : "") : NULL,
		.hour = has_key(g, K_HOUR) ? m->delivery_hour : 0,
	};
	if (4 * (g->n + 1) > 3 * g->nslots && groups_rehash(g) != AI_OK)
		return AI_ERR_NOMEM;
	at = (size_t)(group_hash(&want) & (g->nslots - 1));
	while (g->slot[at] && !group_eq(&g->v[g->slot[at] - 1], &want))
		at = (at + 1) & (g->nslots - 1);
	if (!g->slot[at]) {
		if (AI_GROW(g->v, g->n + 1, g->cap) != AI_OK)
			return AI_ERR_NOMEM;
		x = &g->v[g->n];
		memset(x, 0, sizeof *x);
		x->hour = want.hour;
		x->app = want.app ? strdup(want.app) : NULL;
		x->type = want.type ? strdup(want.type) : NULL;
		if ((want.app && !x->app) || (want.type && !x->type)) {
			free(x->app);
			free(x->type);
			return AI_ERR_NOMEM;
		}
		g->slot[at] = ++g->n;
	}
	if (m == &none)
		return AI_OK;
	x = &g->v[g->slot[at] - 1];
	x->members++;
	x->rows += m->rows;
	x->bytes += m->raw_size;
	return AI_OK;
}

static void groups_release(struct groups *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].app);
		free(g->v[i].type);
	}
	free(g->v);
	free(g->slot);
}

/* Groups in the order of their keys, the keys in the order given. */
static const struct groups *sort_keys;

static int group_cmp(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;

	for (size_t i = 0; i < sort_keys->nkeys; i++) {
		int c;
		switch (sort_keys->keys[i]) {
		case K_APP: c = strcmp(a->app, b->app); break;
		case K_TYPE: c = strcmp(a->type, b->type); break;
		default: c = a->hour < b->hour ? -1 : a->hour > b->hour; break;
		}
		if (c)
			return c;
	}
	return 0;
}

static const char *key_value(const struct group *x, enum key k, char t[AI_TIME_STRLEN])
{
	if (k == K_APP)
		return x->app;
	if (k == K_TYPE)
		return x->type;
	ai_time_format(x->hour, 0, t);
	return t;
}

static ai_result group_table_row(struct ai_table *t, const struct groups *g,
                                 const struct group *x, char nums[3][24])
{
	char *row[NKEYS + 3], tb[AI_TIME_STRLEN];
	size_t k;
	ai_result r = AI_OK;

	for (k = 0; k < g->nkeys; k++)
		if (!(row[k] = ai_escape_new(key_value(x, g->keys[k], tb)))) {
			r = AI_ERR_NOMEM;
			break;
		}
	if (r == AI_OK) {
		for (size_t i = 0; i < 3; i++)
			row[g->nkeys + i] = nums[i];
		r = ai_table_add(t, (const char *const *)row);
	}
	while (k--)
		free(row[k]);
	return r;
}

/* --count: one line (even when nothing matches); --group-by: one a group. */
static ai_result print_groups(struct query *q, int wide)
{
	struct groups *g = &q->g;
	static const char *const sums[3] = { "members", "rows", "bytes" };
	struct ai_table_col cols[NKEYS + 3];
	struct ai_table t = { 0 };
	char tb[AI_TIME_STRLEN], nums[3][24];
	ai_result r = AI_OK;

	if (!g->nkeys && !g->n && (r = group_add(g, NULL)) != AI_OK)
		return r;
	sort_keys = g;
	if (g->n > 1)
		qsort(g->v, g->n, sizeof *g->v, group_cmp);
	if (q->format == F_TABLE && !g->nkeys) {
		fprintf(q->out, "%llu members, %llu rows, %llu bytes\n",
		        (unsigned long long)g->v[0].members, (unsigned long long)g->v[0].rows,
		        (unsigned long long)g->v[0].bytes);
		return ferror(q->out) ? AI_ERR_IO : AI_OK;
	}
	if (q->format == F_CSV) {
		for (size_t k = 0; k < g->nkeys; k++)
			fprintf(q->out, "%s,", key_names[g->keys[k]]);
		fputs("members,rows,bytes\n", q->out);
	}
	if (q->format == F_TABLE) {
		if (!g->n)
			return AI_OK;
		for (size_t k = 0; k < g->nkeys; k++)
			cols[k] = (struct ai_table_col){ .title = key_names[g->keys[k]],
			                                 .shrink = g->keys[k] != K_HOUR };
		for (size_t i = 0; i < 3; i++)
			cols[g->nkeys + i] = (struct ai_table_col){ .title = sums[i], .right = 1 };
		r = ai_table_init(&t, cols, g->nkeys + 3, wide ? 0 : AI_TABLE_WIDTH);
	}
	for (size_t i = 0; i < g->n && r == AI_OK; i++) {
		const struct group *x = &g->v[i];
		snprintf(nums[0], sizeof nums[0], "%llu", (unsigned long long)x->members);
		snprintf(nums[1], sizeof nums[1], "%llu", (unsigned long long)x->rows);
		snprintf(nums[2], sizeof nums[2], "%llu", (unsigned long long)x->bytes);
		if (q->format == F_JSONL) {
			fputc('{', q->out);
			for (size_t k = 0; k < g->nkeys; k++) {
				fprintf(q->out, "\"%s\":", key_names[g->keys[k]]);
				ai_json_string(q->out, key_value(x, g->keys[k], tb));
				fputc(',', q->out);
			}
			fprintf(q->out, "\"members\":%s,\"rows\":%s,\"bytes\":%s}\n", nums[0], nums[1],
			        nums[2]);
		} else if (q->format == F_CSV) {
			for (size_t k = 0; k < g->nkeys; k++) {
				csv_str(q->out, key_value(x, g->keys[k], tb));
				fputc(',', q->out);
			}
			fprintf(q->out, "%s,%s,%s\n", nums[0], nums[1], nums[2]);
		} else {
			r = group_table_row(&t, g, x, nums);
			if (r == AI_OK && t.nrows == TABLE_PAGE)
				r = ai_table_flush(&t, q->out);
		}
	}
	if (q->format == F_TABLE) {
		if (r == AI_OK)
			r = ai_table_flush(&t, q->out);
		ai_table_release(&t);
	}
	if (r == AI_OK && ferror(q->out))
		r = AI_ERR_IO;
	return r;
}

static ai_result on_member(void *ctx, const struct ai_segment *seg, const struct ai_member *m,
                           const struct ai_pack_ref *pack)
{
	struct query *q = ctx;
	char *c[NCOLS];
	ai_result r;

	q->matched++;
	if (q->counting)
		return group_add(&q->g, m);
	r = cells(seg, m, pack, q->format == F_CSV ? ";" : ",", c);
	if (r == AI_OK) {
		switch (q->format) {
		case F_JSONL:
			print_jsonl(q->out, seg, c);
			break;
		case F_CSV:
			print_csv(q, c);
			break;
		case F_TABLE:
			r = table_row(q, c);
			break;
		}
	}
	cells_free(c);
	if (r == AI_OK && ferror(q->out))
		r = AI_ERR_IO;
	return r;
}

/* "a,b,c" into the indexes of names (each once); a usage error lists the
 * valid names. */
static ai_result parse_names(const char *opt, const char *list, const char *const *names,
                             size_t nnames, unsigned *out, size_t *n)
{
	char why[700];

	if (ai_table_pick(list, names, nnames, out, n, why, sizeof why) != AI_OK)
		return ai_cmd_usage_error(&ai_cmd_query, "%s: %s", opt, why);
	return AI_OK;
}

/* The shape of the output: --columns, --wide, --count, --group-by. */
static ai_result choose_output(struct query *q, const struct ai_options *o)
{
	unsigned idx[NCOLS];
	size_t n;
	ai_result r;

	q->counting = o->count || o->group_by;
	if (q->counting && o->columns)
		return ai_cmd_usage_error(&ai_cmd_query, "--columns chooses the members' columns: "
		                          "not with --count or --group-by");
	if (o->group_by) {
		r = parse_names("--group-by", o->group_by, key_names, NKEYS, idx, &n);
		if (r != AI_OK)
			return r;
		for (size_t i = 0; i < n; i++)
			q->g.keys[i] = (enum key)idx[i];
		q->g.nkeys = n;
	}
	if (o->columns) {
		r = parse_names("--columns", o->columns, col_names, NCOLS, idx, &n);
		if (r != AI_OK)
			return r;
		for (size_t i = 0; i < n; i++)
			q->cols[i] = (enum col)idx[i];
		q->ncols = n;
	} else if (q->format == F_CSV) {
		for (int i = 0; i < NCOLS; i++)
			q->cols[i] = (enum col)i;
		q->ncols = NCOLS;
	} else {
		q->ncols = o->wide ? NWIDE : NDEFAULT;
		memcpy(q->cols, o->wide ? wide_cols : default_cols, q->ncols * sizeof *q->cols);
	}
	return AI_OK;
}

static ai_result table_start(struct query *q, int wide, struct ai_table_col *tcols)
{
	for (size_t k = 0; k < q->ncols; k++)
		tcols[k] = (struct ai_table_col){ .title = col_names[q->cols[k]],
		                                  .right = col_numeric[q->cols[k]],
		                                  .shrink = col_shrinks[q->cols[k]] };
	if (ai_table_init(&q->table, tcols, q->ncols, wide ? 0 : AI_TABLE_WIDTH) != AI_OK)
		return AI_ERR_NOMEM;
	q->table_ready = 1;
	return AI_OK;
}

static ai_result exec_query(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	struct ai_store *dest = NULL;
	struct ai_catalog_filter f;
	struct ai_catalog_opts copts;
	struct ai_trust trust;
	struct query q = { .out = ctx->out };
	struct ai_table_col tcols[NCOLS];
	ai_result r;

	ai_trust_init(&trust);
	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_query, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	r = ai_trust_from_options(&trust, &ai_cmd_query, &o);
	if (r != AI_OK)
		goto out;
	/* --json: JSON Lines, whatever a config's format; another on the
	 * command line is an error. */
	if (ctx->json && o.format && strcmp(o.format, "jsonl") != 0 &&
	    strcmp(o.format, "json") != 0) {
		char from[64];
		if (ai_options_origin(&o, "format", from, sizeof from) == AI_FROM_CLI) {
			r = ai_cmd_usage_error(&ai_cmd_query, "--json prints JSON Lines: not with "
			                       "--format %s", o.format);
			goto out;
		}
		free(o.format);
		o.format = NULL;
	}
	if (!o.format)
		q.format = ctx->json || !isatty(fileno(ctx->out)) ? F_JSONL : F_TABLE;
	else if (strcmp(o.format, "table") == 0)
		q.format = F_TABLE;
	else if (strcmp(o.format, "jsonl") == 0 || strcmp(o.format, "json") == 0)
		q.format = F_JSONL;
	else if (strcmp(o.format, "csv") == 0)
		q.format = F_CSV;
	else {
		r = ai_cmd_usage_error(&ai_cmd_query, "unknown format '%s' (table, jsonl or csv)",
		                       o.format);
		goto out;
	}
	r = choose_output(&q, &o);
	if (r == AI_OK && q.format == F_TABLE && !q.counting)
		r = table_start(&q, o.wide, tcols);
	if (r != AI_OK)
		goto out;
	r = ai_options_open_store(&o, "dest", AI_NEED_READ, &dest);
	if (r == AI_OK)
		r = ai_archive_require(dest);
	if (r != AI_OK)
		goto out;
	ai_catalog_filter_from_options(&f, &o);
	ai_catalog_opts_from_options(&copts, &o, dest, &trust);
	if (q.format == F_CSV && !q.counting)
		print_csv_header(&q);
	r = ai_catalog_select(dest, &f, &copts, on_member, &q, NULL);
	ai_say_trust(&trust);
	if (r == AI_OK && q.counting)
		r = print_groups(&q, o.wide);
	if (q.table_ready && (q.table.nrows || (r == AI_OK && q.matched))) {
		ai_result fr = ai_table_flush(&q.table, q.out);
		if (r == AI_OK)
			r = fr;
	}
	if (r == AI_OK && !q.matched && q.format == F_TABLE && (!q.counting || q.g.nkeys))
		ai_info("query: no archived member matches");
	if (r == AI_ERR_IO)
		ai_error("query: writing the output failed");
out:
	if (q.table_ready)
		ai_table_release(&q.table);
	groups_release(&q.g);
	ai_store_free(dest);
	ai_trust_release(&trust);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_query = {
	.name = "query",
	.bit = AI_CMD_QUERY,
	.args = "--dest URL [--from TIME] [--to TIME] [filters] [--format table|jsonl|csv] "
	        "[--wide | --columns COL,...] [--count | --group-by KEY,...]",
	.summary = "list archived members matching filters (event time, app, type, ...)",
	.exec = exec_query,
};
