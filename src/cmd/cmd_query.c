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

/* The table puts short columns first and the long blob name last. */
static const enum col table_cols[] = {
	C_APP, C_TYPE, C_DELIVERY, C_MIN_EVENT, C_MAX_EVENT, C_ROWS, C_BAD_ROWS, C_RAW_SIZE,
	C_SEGMENT, C_RUN_ID, C_TAGS, C_PACK, C_OFFSET, C_LENGTH, C_SHA256, C_RANGE_START,
	C_RANGE_END, C_ETAG, C_REPLACES, C_BLOB,
};
#define NTABLE (sizeof table_cols / sizeof table_cols[0])
#define TABLE_PAGE 1000

struct query {
	FILE *out;
	enum format format;
	uint64_t matched;
	/* table: a page of rows, cells malloc'd, printed once widths are known */
	char *(*page)[NCOLS];
	size_t npage;
	size_t width[NCOLS];
	int header_done;
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

static void print_csv_header(FILE *f)
{
	for (int i = 0; i < NCOLS; i++)
		fprintf(f, "%s%s", i ? "," : "", col_names[i]);
	fputc('\n', f);
}

static void print_csv(FILE *f, char *c[NCOLS])
{
	for (int i = 0; i < NCOLS; i++) {
		if (i)
			fputc(',', f);
		csv_str(f, c[i]);
	}
	fputc('\n', f);
}

/* Widths only grow, so a long listing keeps its columns where the
 * first page put them. */
static void table_flush(struct query *q)
{
	for (size_t r = 0; r < q->npage; r++)
		for (size_t k = 0; k < NTABLE; k++) {
			size_t w = strlen(q->page[r][table_cols[k]]);
			if (w > q->width[table_cols[k]])
				q->width[table_cols[k]] = w;
		}
	if (!q->header_done) {
		for (size_t k = 0; k < NTABLE; k++) {
			enum col c = table_cols[k];
			if (strlen(col_names[c]) > q->width[c])
				q->width[c] = strlen(col_names[c]);
		}
		for (size_t k = 0; k < NTABLE; k++) {
			enum col c = table_cols[k];
			if (k + 1 == NTABLE)
				fprintf(q->out, "%s\n", col_names[c]);
			else
				fprintf(q->out, col_numeric[c] ? "%*s  " : "%-*s  ", (int)q->width[c],
				        col_names[c]);
		}
		q->header_done = 1;
	}
	for (size_t r = 0; r < q->npage; r++) {
		for (size_t k = 0; k < NTABLE; k++) {
			enum col c = table_cols[k];
			const char *v = *q->page[r][c] ? q->page[r][c] : "-";
			if (k + 1 == NTABLE)
				fprintf(q->out, "%s\n", v);
			else
				fprintf(q->out, col_numeric[c] ? "%*s  " : "%-*s  ",
				        (int)q->width[c], v);
		}
		cells_free(q->page[r]);
	}
	q->npage = 0;
}

static ai_result on_member(void *ctx, const struct ai_segment *seg, const struct ai_member *m,
                           const struct ai_pack_ref *pack)
{
	struct query *q = ctx;
	char *c[NCOLS];
	ai_result r;

	q->matched++;
	r = cells(seg, m, pack, q->format == F_CSV ? ";" : ",", c);
	if (r != AI_OK) {
		cells_free(c);
		return r;
	}
	switch (q->format) {
	case F_JSONL:
		print_jsonl(q->out, seg, c);
		break;
	case F_CSV:
		print_csv(q->out, c);
		break;
	case F_TABLE:
		/* Widths are measured on what the terminal shows. */
		for (int i = 0; i < NCOLS; i++) {
			char *e = ai_escape_new(c[i]);
			if (!e) {
				cells_free(c);
				return AI_ERR_NOMEM;
			}
			free(c[i]);
			c[i] = e;
		}
		memcpy(q->page[q->npage++], c, sizeof c);
		if (q->npage == TABLE_PAGE)
			table_flush(q);
		return AI_OK;
	}
	cells_free(c);
	return ferror(q->out) ? AI_ERR_IO : AI_OK;
}

static ai_result exec_query(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	struct ai_store *dest = NULL;
	struct ai_catalog_filter f;
	struct ai_catalog_opts copts;
	struct ai_trust trust;
	struct query q = { .out = ctx->out };
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
	if (q.format == F_TABLE && !(q.page = calloc(TABLE_PAGE, sizeof *q.page))) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	r = ai_options_open_store(&o, "dest", AI_NEED_READ, &dest);
	if (r == AI_OK)
		r = ai_archive_require(dest);
	if (r != AI_OK)
		goto out;
	ai_catalog_filter_from_options(&f, &o);
	ai_catalog_opts_from_options(&copts, &o, dest, &trust);
	if (q.format == F_CSV)
		print_csv_header(q.out);
	r = ai_catalog_select(dest, &f, &copts, on_member, &q, NULL);
	ai_say_trust(&trust);
	if (q.format == F_TABLE && (q.npage || (r == AI_OK && q.matched)))
		table_flush(&q);
	if (r == AI_OK && !q.matched && q.format == F_TABLE)
		ai_info("query: no archived member matches");
	if (r == AI_ERR_IO)
		ai_error("query: writing the output failed");
out:
	if (q.page) {
		for (size_t i = 0; i < q.npage; i++)
			cells_free(q.page[i]);
		free(q.page);
	}
	ai_store_free(dest);
	ai_trust_release(&trust);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_query = {
	.name = "query",
	.bit = AI_CMD_QUERY,
	.args = "--dest URL [--from TIME] [--to TIME] [filters] [--format table|jsonl|csv]",
	.summary = "list archived members matching filters (event time, app, type, ...)",
	.exec = exec_query,
};
