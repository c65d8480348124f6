/* cmd_status.c: `aiarchive status`: per app and type how far the archive
 * reaches and the lag against now (the RPO actually achieved), the last
 * run, the lock, the account's replication and, with --dest-secondary,
 * its geo-replication; as text, JSON, or a Prometheus textfile. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/jsonout.h"
#include "cmd/cmd.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/regfile.h"
#include "util/table.h"
#include "cmd/credential.h"
#include "cmd/options.h"
#include "engine/archive.h"
#include "engine/status.h"
#include "engine/trust.h"


static int known(ai_time t)
{
	return t != AI_TIME_MIN && t != 0;
}

static double seconds(ai_time t)
{
	return (double)t / (double)AI_NS_PER_SEC;
}

/* "3d04h", "2h05m", "4m10s", "12s"; negative lags (clock skew) as "0s". */
static void human_duration(ai_time d, char *out, size_t cap)
{
	int64_t s = d > 0 ? d / AI_NS_PER_SEC : 0;

	if (s >= 86400)
		snprintf(out, cap, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, cap, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, cap, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else
		snprintf(out, cap, "%" PRId64 "s", s);
}


/* How far t lies behind now, never below 0 (a clock behind the archive's). */
static ai_time behind(const struct ai_status *s, ai_time t)
{
	return s->now > t ? s->now - t : 0;
}

static void json_time(FILE *f, ai_time t)
{
	char s[AI_TIME_STRLEN];

	if (!known(t)) {
		fputs("null", f);
		return;
	}
	ai_time_format(t, 0, s);
	fprintf(f, "\"%s\"", s);
}

/* "NAME":TIME,"NAME_age_s":SECONDS, both null when t is unknown. */
static void json_time_age(FILE *f, const struct ai_status *s, const char *name, ai_time t)
{
	fprintf(f, ",\"%s\":", name);
	json_time(f, t);
	fprintf(f, ",\"%s_age_s\":", name);
	if (known(t))
		fprintf(f, "%.0f", seconds(behind(s, t)));
	else
		fputs("null", f);
}

/* One shard's entry (ARCHITECTURE.md §7.8): its watermark and last run. */
static void json_shard(FILE *f, const struct ai_status *s, const struct ai_shard_state *e,
                       size_t i)
{
	fprintf(f, "%s{\"shard\":\"%u/%u\",\"index\":%u,\"count\":%u,\"watermark\":",
	        i ? "," : "", e->index, e->count, e->index, e->count);
	json_time(f, e->watermark);
	fprintf(f, ",\"failed\":%" PRIu64, e->failed);
	json_time_age(f, s, "failed_oldest", e->failed ? e->failed_oldest : 0);
	fprintf(f, ",\"last_run\":{\"id\":");
	ai_json_string(f, e->last_run_id ? e->last_run_id : "");
	fprintf(f, ",\"time\":");
	json_time(f, e->last_run_time);
	fprintf(f, ",\"result\":");
	ai_json_string(f, e->last_run_result ? e->last_run_result : "");
	if (e->last_run_exit >= 0)
		fprintf(f, ",\"exit_code\":%d}}", e->last_run_exit);
	else
		fprintf(f, ",\"exit_code\":null}}");
}

static void print_json(FILE *f, const struct ai_status *s, struct ai_trust *trust)
{
	const struct ai_state *st = &s->archive.state;
	struct ai_status_run run;

	ai_status_last_run(s, &run);

	fprintf(f, "{\"dest\":");
	ai_json_string(f, s->dest);
	fprintf(f, ",\"sku\":");
	ai_json_string(f, s->sku);
	fprintf(f, ",\"now\":");
	json_time(f, s->now);
	fprintf(f, ",\"segments\":%" PRIu64 ",\"watermark\":", st->next_seq);
	json_time(f, st->watermark);
	fprintf(f, ",\"max_delivery_lag_s\":%.0f,\"last_run\":", seconds(st->max_lag));
	if (run.known) {
		fprintf(f, "{\"id\":");
		ai_json_string(f, run.id);
		fprintf(f, ",\"time\":");
		json_time(f, run.time);
		fprintf(f, ",\"result\":");
		ai_json_string(f, run.result);
		if (run.exit_code >= 0)
			fprintf(f, ",\"exit_code\":%d", run.exit_code);
		else
			fprintf(f, ",\"exit_code\":null");
		fprintf(f, ",\"recorded\":");
		ai_json_string(f, run.recorded);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"last_verify\":");
	if (s->verify_outcome_known) {
		fprintf(f, "{\"time\":");
		json_time(f, s->verify_outcome.time);
		fprintf(f, ",\"result\":");
		ai_json_string(f, s->verify_outcome.result);
		fprintf(f, ",\"exit_code\":%d}", s->verify_outcome.exit_code);
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"lock\":");
	if (s->lock_known) {
		fprintf(f, "{\"held\":%s,\"holder\":", *s->holder ? "true" : "false");
		if (*s->holder)
			ai_json_string(f, s->holder);
		else
			fputs("null", f);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"geo\":");
	if (s->geo_asked) {
		fprintf(f, "{\"status\":");
		ai_json_string(f, s->geo);
		fprintf(f, ",\"last_sync\":");
		json_time(f, s->geo_sync);
		if (known(s->geo_sync))
			fprintf(f, ",\"sync_lag_s\":%.0f", seconds(s->now - s->geo_sync));
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"trust\":");
	ai_json_trust(f, trust);
	fprintf(f, ",\"partitions\":[");
	for (size_t i = 0; i < st->nparts; i++) {
		const struct ai_partition_state *p = &st->parts[i];
		fprintf(f, "%s{\"app\":", i ? "," : "");
		ai_json_string(f, p->app);
		fprintf(f, ",\"type\":");
		ai_json_string(f, p->type);
		fprintf(f, ",\"archived_through\":");
		json_time(f, p->archived_through);
		fprintf(f, ",\"lag_s\":");
		if (known(p->archived_through))
			fprintf(f, "%.0f", seconds(behind(s, p->archived_through)));
		else
			fputs("null", f);
		json_time_age(f, s, "last_event", p->last_event);
		json_time_age(f, s, "newest_blob", p->newest_blob);
		fprintf(f, ",\"failed\":%" PRIu64, p->failed);
		json_time_age(f, s, "failed_oldest", p->failed ? p->failed_oldest : 0);
		fprintf(f, ",\"pending\":%" PRIu64 ",\"quarantined\":%" PRIu64, p->pending,
		        p->quarantined);
		json_time_age(f, s, "quarantined_oldest", p->quarantined ? p->quarantined_oldest : 0);
		fprintf(f, ",\"members\":%" PRIu64 ",\"rows\":%" PRIu64 "}", p->members, p->rows);
	}
	fprintf(f, "],\"shards\":[");
	for (size_t i = 0; i < st->nshards; i++)
		json_shard(f, s, &st->shards[i], i);
	fprintf(f, "],\"quarantined\":[");
	for (size_t i = 0; i < st->nquarantined; i++) {
		const struct ai_quarantine_entry *q = &st->quarantined[i];
		fprintf(f, "%s{\"name\":", i ? "," : "");
		ai_json_string(f, q->name);
		fprintf(f, ",\"reason\":");
		ai_json_string(f, q->reason);
		fprintf(f, ",\"delivery_hour\":");
		json_time(f, q->hour);
		fprintf(f, ",\"first_seen\":");
		json_time(f, q->first_seen);
		fprintf(f, ",\"last_seen\":");
		json_time(f, q->last_seen);
		fputc('}', f);
	}
	fprintf(f, "]}\n");
}

/* Prints s escaped (escape.h): names in the state come from the source,
 * the holder from the lock's metadata. */
static void put_escaped(FILE *f, const char *before, const char *s, const char *after)
{
	fputs(before, f);
	ai_escape_put(f, s);
	fputs(after, f);
}

/* "0", or "2 (3h05m)": a count and the age of the oldest one's hour. */
static void count_age(const struct ai_status *s, uint64_t n, ai_time oldest, char *out,
                      size_t cap)
{
	char d[32];

	if (!n || !known(oldest)) {
		snprintf(out, cap, "%" PRIu64, n);
		return;
	}
	human_duration(behind(s, oldest), d, sizeof d);
	snprintf(out, cap, "%" PRIu64 " (%s)", n, d);
}

/* The per-partition table's columns: --columns names, titles, today's
 * widths for --wide. */
enum pcol {
	PC_APP, PC_TYPE, PC_THROUGH, PC_LAG, PC_LAST_EVENT, PC_NEWEST_BLOB, PC_FAILED,
	PC_QUARANTINED, PC_MEMBERS, PC_ROWS, NPCOLS
};
static const struct {
	const char *name;
	struct ai_table_col col;
} pcols[NPCOLS] = {
	[PC_APP] = { "app", { "APP", 0, 1, 3 } },
	[PC_TYPE] = { "type", { "TYPE", 0, 1, 4 } },
	[PC_THROUGH] = { "archived_through", { "ARCHIVED THROUGH", 0, 0, 20 } },
	[PC_LAG] = { "lag", { "LAG", 0, 0, 8 } },
	[PC_LAST_EVENT] = { "last_event", { "LAST EVENT", 0, 0, 20 } },
	[PC_NEWEST_BLOB] = { "newest_blob", { "NEWEST BLOB", 0, 0, 20 } },
	[PC_FAILED] = { "failed", { "FAILED", 0, 0, 14 } },
	[PC_QUARANTINED] = { "quarantined", { "QUARANTINED", 0, 0, 14 } },
	[PC_MEMBERS] = { "members", { "MEMBERS", 1, 0, 8 } },
	[PC_ROWS] = { "rows", { "ROWS", 1, 0, 10 } },
};
/* Within 80 columns: how far each part reaches, how far behind, what
 * holds it back (quarantined names are listed below the table). */
static const enum pcol default_pcols[] = {
	PC_APP, PC_TYPE, PC_THROUGH, PC_LAG, PC_FAILED, PC_ROWS,
};

struct table_choice {
	enum pcol cols[NPCOLS];
	size_t ncols;
	int wide;
};

static ai_result choose_columns(const struct ai_options *o, struct table_choice *tc)
{
	const char *p = o->columns;

	tc->wide = o->wide;
	tc->ncols = 0;
	if (!p) {
		size_t n = o->wide ? NPCOLS : sizeof default_pcols / sizeof default_pcols[0];
		for (size_t i = 0; i < n; i++)
			tc->cols[i] = o->wide ? (enum pcol)i : default_pcols[i];
		tc->ncols = n;
		return AI_OK;
	}
	const char *names[NPCOLS];
	unsigned idx[NPCOLS];
	char why[700];
	for (size_t i = 0; i < NPCOLS; i++)
		names[i] = pcols[i].name;
	if (ai_table_pick(p, names, NPCOLS, idx, &tc->ncols, why, sizeof why) != AI_OK)
		return ai_cmd_usage_error(&ai_cmd_status, "--columns: %s", why);
	for (size_t i = 0; i < tc->ncols; i++)
		tc->cols[i] = (enum pcol)idx[i];
	return AI_OK;
}

/* One partition's cells, escaped where they come from the source. */
static ai_result part_cells(const struct ai_status *s, const struct ai_partition_state *p,
                            char cell[NPCOLS][AI_TIME_STRLEN + 48], char **app, char **type)
{
	memset(cell, 0, NPCOLS * sizeof cell[0]);
	*app = ai_escape_new(p->app);
	*type = ai_escape_new(p->type);
	if (!*app || !*type)
		return AI_ERR_NOMEM;
	snprintf(cell[PC_THROUGH], sizeof cell[0], "never");
	snprintf(cell[PC_LAG], sizeof cell[0], "-");
	snprintf(cell[PC_LAST_EVENT], sizeof cell[0], "-");
	snprintf(cell[PC_NEWEST_BLOB], sizeof cell[0], "-");
	if (known(p->archived_through)) {
		ai_time_format(p->archived_through, 0, cell[PC_THROUGH]);
		human_duration(behind(s, p->archived_through), cell[PC_LAG], sizeof cell[0]);
	}
	if (known(p->last_event))
		ai_time_format(p->last_event, 0, cell[PC_LAST_EVENT]);
	if (known(p->newest_blob))
		ai_time_format(p->newest_blob, 0, cell[PC_NEWEST_BLOB]);
	count_age(s, p->failed, p->failed_oldest, cell[PC_FAILED], sizeof cell[0]);
	count_age(s, p->quarantined, p->quarantined_oldest, cell[PC_QUARANTINED], sizeof cell[0]);
	snprintf(cell[PC_MEMBERS], sizeof cell[0], "%" PRIu64, p->members);
	snprintf(cell[PC_ROWS], sizeof cell[0], "%" PRIu64, p->rows);
	return AI_OK;
}

static ai_result print_parts(FILE *f, const struct ai_status *s, const struct table_choice *tc)
{
	const struct ai_state *st = &s->archive.state;
	struct ai_table_col cols[NPCOLS];
	struct ai_table t;
	char cell[NPCOLS][AI_TIME_STRLEN + 48];
	ai_result r;

	/* --wide is today's table: its widths at least. */
	for (size_t k = 0; k < tc->ncols; k++) {
		cols[k] = pcols[tc->cols[k]].col;
		if (!tc->wide)
			cols[k].min = 0;
	}
	r = ai_table_init(&t, cols, tc->ncols, tc->wide ? 0 : AI_TABLE_WIDTH);
	if (r != AI_OK)
		return r;
	fputc('\n', f);
	for (size_t i = 0; i < st->nparts && r == AI_OK; i++) {
		const char *row[NPCOLS];
		char *app = NULL, *type = NULL;
		r = part_cells(s, &st->parts[i], cell, &app, &type);
		for (size_t k = 0; r == AI_OK && k < tc->ncols; k++)
			row[k] = tc->cols[k] == PC_APP ? app : tc->cols[k] == PC_TYPE ? type :
			         cell[tc->cols[k]];
		if (r == AI_OK)
			r = ai_table_add(&t, row);
		free(app);
		free(type);
	}
	if (r == AI_OK)
		r = ai_table_flush(&t, f);
	ai_table_release(&t);
	return r;
}

/* The quarantined names: by default within 80 columns (the name cut in
 * the middle, no last-seen time); --wide every column, whole. */
static ai_result print_quarantined(FILE *f, const struct ai_state *st, int wide)
{
	static const struct ai_table_col wide_cols[] = {
		{ "FIRST SEEN", 0, 0, 20 }, { "LAST SEEN", 0, 0, 20 }, { "REASON", 0, 0, 6 },
		{ "QUARANTINED NAME", 0, 0, 0 },
	};
	static const struct ai_table_col fit_cols[] = {
		{ "FIRST SEEN", 0, 0, 0 }, { "REASON", 0, 1, 0 }, { "QUARANTINED NAME", 0, 1, 0 },
	};
	struct ai_table t;
	char first[AI_TIME_STRLEN], last[AI_TIME_STRLEN];
	ai_result r;

	if (!st->nquarantined)
		return AI_OK;
	r = wide ? ai_table_init(&t, wide_cols, 4, 0) : ai_table_init(&t, fit_cols, 3,
	                                                                AI_TABLE_WIDTH);
	if (r != AI_OK)
		return r;
	fputc('\n', f);
	for (size_t i = 0; i < st->nquarantined && r == AI_OK; i++) {
		const struct ai_quarantine_entry *q = &st->quarantined[i];
		char *reason = ai_escape_new(q->reason), *name = ai_escape_new(q->name);
		const char *wrow[4] = { first, last, reason, name }, *frow[3] = { first, reason, name };
		ai_time_format(q->first_seen, 0, first);
		ai_time_format(q->last_seen, 0, last);
		r = reason && name ? ai_table_add(&t, wide ? wrow : frow) : AI_ERR_NOMEM;
		free(reason);
		free(name);
	}
	if (r == AI_OK)
		r = ai_table_flush(&t, f);
	ai_table_release(&t);
	return r;
}

/* The shards' last runs, one line each (ARCHITECTURE.md §7.8). */
static void print_shards(FILE *f, const struct ai_state *st)
{
	char t[AI_TIME_STRLEN], w[AI_TIME_STRLEN];

	fprintf(f, "shards:    %-9s %-20s  %-20s  %s\n", "SHARD", "LISTED THROUGH", "LAST RUN AT",
	        "RESULT");
	for (size_t i = 0; i < st->nshards; i++) {
		const struct ai_shard_state *e = &st->shards[i];
		char id[32];
		snprintf(id, sizeof id, "%u/%u", e->index, e->count);
		if (known(e->watermark))
			ai_time_format(e->watermark, 0, w);
		else
			snprintf(w, sizeof w, "never");
		if (known(e->last_run_time))
			ai_time_format(e->last_run_time, 0, t);
		else
			snprintf(t, sizeof t, "never");
		fprintf(f, "           %-9s %-20s  %-20s  ", id, w, t);
		put_escaped(f, "", e->last_run_result && *e->last_run_result ? e->last_run_result : "?",
		            "");
		if (e->last_run_exit >= 0)
			fprintf(f, " (exit %d)", e->last_run_exit);
		if (e->failed)
			fprintf(f, ", %" PRIu64 " failed", e->failed);
		put_escaped(f, ", run ", e->last_run_id && *e->last_run_id ? e->last_run_id : "?", "\n");
	}
}

static ai_result print_text(FILE *f, const struct ai_status *s, const struct table_choice *tc)
{
	const struct ai_state *st = &s->archive.state;
	char t[AI_TIME_STRLEN], d[32];
	struct ai_status_run run;
	ai_result r = AI_OK;

	put_escaped(f, "archive:   ", s->dest, "");
	put_escaped(f, " (SKU ", s->sku, ")\n");
	if (s->geo_asked) {
		put_escaped(f, "geo:       ", s->geo, "");
		if (known(s->geo_sync)) {
			ai_time_format(s->geo_sync, 0, t);
			human_duration(s->now - s->geo_sync, d, sizeof d);
			fprintf(f, ", last sync %s (%s ago)", t, d);
		}
		fputc('\n', f);
	}
	ai_status_last_run(s, &run);
	if (run.known) {
		ai_time_format(run.time, 0, t);
		put_escaped(f, "last run:  ", *run.id ? run.id : "(no id)", "");
		fprintf(f, " at %s: ", t);
		put_escaped(f, "", *run.result ? run.result : "?", "");
		if (run.exit_code >= 0)
			fprintf(f, " (exit %d)", run.exit_code);
		fputc('\n', f);
	} else {
		fprintf(f, "last run:  none recorded\n");
	}
	if (s->verify_outcome_known) {
		ai_time_format(s->verify_outcome.time, 0, t);
		fprintf(f, "verified:  at %s: ", t);
		put_escaped(f, "", s->verify_outcome.result, "");
		fprintf(f, " (exit %d)\n", s->verify_outcome.exit_code);
	}
	put_escaped(f, "lock:      ", !s->lock_known ? "unknown" : *s->holder ? s->holder : "free",
	            "\n");
	if (known(st->watermark)) {
		ai_time_format(st->watermark, 0, t);
		fprintf(f, "segments:  %" PRIu64 ", source listed through %s\n", st->next_seq, t);
	} else {
		fprintf(f, "segments:  %" PRIu64 "\n", st->next_seq);
	}
	if (st->nshards)
		print_shards(f, st);
	if (st->nquarantined)
		fprintf(f, "quarantine: %zu source name%s not archived "
		           "(unsafe names, listed below)\n",
		        st->nquarantined, st->nquarantined == 1 ? "" : "s");
	if (st->nparts)
		r = print_parts(f, s, tc);
	if (r == AI_OK)
		r = print_quarantined(f, st, tc->wide);
	if (r == AI_OK && ferror(f))
		r = AI_ERR_IO;
	return r;
}

/* Label values escape backslash, double quote and newline. */
static void prom_label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The per-partition families, in the order they are written. */
enum {
	P_THROUGH, P_LAG, P_LAST_EVENT, P_NEWEST_BLOB, P_FAILED, P_FAILED_AGE, P_PENDING,
	P_QUARANTINED, P_QUARANTINED_AGE, P_MEMBERS, P_ROWS, P_N
};

static const struct {
	const char *name, *type, *help;
} part_families[P_N] = {
	{ "aiarchive_archived_through_timestamp_seconds", "gauge",
	  "The recovery point: every delivery hour before this time is closed and archived." },
	{ "aiarchive_lag_seconds", "gauge",
	  "Now minus archived through (never negative): the recovery point actually achieved." },
	{ "aiarchive_last_event_timestamp_seconds", "gauge", "Newest event time archived." },
	{ "aiarchive_newest_source_blob_timestamp_seconds", "gauge",
	  "Newest Last-Modified of a source blob a run listed." },
	{ "aiarchive_failed_blobs", "gauge",
	  "Source blobs the last run could not archive (the next run tries them again)." },
	{ "aiarchive_failed_oldest_age_seconds", "gauge",
	  "Age of the delivery hour of the oldest failed blob." },
	{ "aiarchive_pending_blobs", "gauge",
	  "Source blobs of closed hours archived only in part (their last line waits)." },
	{ "aiarchive_quarantined_blobs", "gauge",
	  "Source blob names of the part left out as unsafe." },
	{ "aiarchive_quarantined_oldest_age_seconds", "gauge",
	  "Age of the delivery hour of the oldest quarantined blob." },
	{ "aiarchive_archived_members_total", "counter",
	  "Members (source blobs or appended ranges) archived." },
	{ "aiarchive_archived_rows_total", "counter", "Telemetry rows archived." },
};

/* The sample of family which for a partition; 0 when it has none. */
static int part_value(const struct ai_status *s, const struct ai_partition_state *p, int which,
                      double *v)
{
	switch (which) {
	case P_THROUGH: *v = seconds(p->archived_through); return known(p->archived_through);
	case P_LAG: *v = seconds(behind(s, p->archived_through)); return known(p->archived_through);
	case P_LAST_EVENT: *v = seconds(p->last_event); return known(p->last_event);
	case P_NEWEST_BLOB: *v = seconds(p->newest_blob); return known(p->newest_blob);
	case P_FAILED: *v = (double)p->failed; return 1;
	case P_FAILED_AGE:
		*v = seconds(behind(s, p->failed_oldest));
		return p->failed && known(p->failed_oldest);
	case P_PENDING: *v = (double)p->pending; return 1;
	case P_QUARANTINED: *v = (double)p->quarantined; return 1;
	case P_QUARANTINED_AGE:
		*v = seconds(behind(s, p->quarantined_oldest));
		return p->quarantined && known(p->quarantined_oldest);
	case P_MEMBERS: *v = (double)p->members; return 1;
	default: *v = (double)p->rows; return 1;
	}
}

/* One family with an {app,type,layout} sample per partition that has one
 * (layout, the source's as the state records it, so that an alert can
 * allow for a workspace export's late window; left out when unknown). */
static void prom_parts(FILE *f, const struct ai_status *s, int which)
{
	const struct ai_state *st = &s->archive.state;
	const char *name = part_families[which].name;
	int head = 0;

	for (size_t i = 0; i < st->nparts; i++) {
		const struct ai_partition_state *p = &st->parts[i];
		double v;
		if (!part_value(s, p, which, &v))
			continue;
		if (!head++)
			prom_head(f, name, part_families[which].type, part_families[which].help);
		fprintf(f, "%s{app=", name);
		prom_label(f, p->app);
		fprintf(f, ",type=");
		prom_label(f, p->type);
		if (st->layout && *st->layout) {
			fprintf(f, ",layout=");
			prom_label(f, st->layout);
		}
		fprintf(f, "} %.17g\n", v);
	}
}

/* aiarchive_last_<what>_{timestamp_seconds,success,exit_code}, of "the
 * last <who>"; the exit code only when known (>= 0). */
static void prom_outcome(FILE *f, const char *what, const char *who, ai_time when,
                         int success, int exit_code)
{
	char name[64], help[128];

	snprintf(name, sizeof name, "aiarchive_last_%s_timestamp_seconds", what);
	snprintf(help, sizeof help, "When the last %s finished.", who);
	prom_head(f, name, "gauge", help);
	fprintf(f, "%s %.17g\n", name, seconds(when));
	snprintf(name, sizeof name, "aiarchive_last_%s_success", what);
	snprintf(help, sizeof help, "1 when the last %s succeeded (exit code 0).", who);
	prom_head(f, name, "gauge", help);
	fprintf(f, "%s %d\n", name, success);
	if (exit_code < 0)
		return;
	snprintf(name, sizeof name, "aiarchive_last_%s_exit_code", what);
	snprintf(help, sizeof help, "The exit code of the last %s.", who);
	prom_head(f, name, "gauge", help);
	fprintf(f, "%s %d\n", name, exit_code);
}

/* Each shard's last run and watermark, labelled shard="I/N". */
static void prom_shards(FILE *f, const struct ai_state *st)
{
	static const char *const fam[][2] = {
		{ "aiarchive_shard_last_run_timestamp_seconds", "When the shard's last run ended." },
		{ "aiarchive_shard_last_run_success", "1 when the shard's last run succeeded." },
		{ "aiarchive_shard_last_run_exit_code", "The exit code of the shard's last run." },
		{ "aiarchive_shard_watermark_timestamp_seconds",
		  "Delivery hours before this time were listed completely for the shard." },
	};

	for (size_t k = 0; k < sizeof fam / sizeof fam[0]; k++) {
		prom_head(f, fam[k][0], "gauge", fam[k][1]);
		for (size_t i = 0; i < st->nshards; i++) {
			const struct ai_shard_state *e = &st->shards[i];
			if ((k == 2 && e->last_run_exit < 0) || (k == 3 && !known(e->watermark)))
				continue;
			fprintf(f, "%s{shard=\"%u/%u\"} ", fam[k][0], e->index, e->count);
			if (k == 0)
				fprintf(f, "%.17g\n", seconds(e->last_run_time));
			else if (k == 1)
				fprintf(f, "%d\n", e->last_run_exit >= 0 ? e->last_run_exit == 0
				        : e->last_run_result && strcmp(e->last_run_result, "ok") == 0);
			else if (k == 2)
				fprintf(f, "%d\n", e->last_run_exit);
			else
				fprintf(f, "%.17g\n", seconds(e->watermark));
		}
	}
}

static void print_prom(FILE *f, const struct ai_status *s)
{
	const struct ai_state *st = &s->archive.state;
	struct ai_status_run run;

	for (int which = 0; which < P_N; which++)
		prom_parts(f, s, which);
	prom_head(f, "aiarchive_quarantined_names", "gauge",
	          "Source names left out of the archive as unsafe (status lists them).");
	fprintf(f, "aiarchive_quarantined_names %zu\n", st->nquarantined);
	prom_head(f, "aiarchive_segments", "gauge", "Manifest segments committed.");
	fprintf(f, "aiarchive_segments %" PRIu64 "\n", st->next_seq);
	if (known(st->watermark)) {
		prom_head(f, "aiarchive_watermark_timestamp_seconds", "gauge",
		          "Delivery hours before this time were listed completely.");
		fprintf(f, "aiarchive_watermark_timestamp_seconds %.17g\n", seconds(st->watermark));
	}
	ai_status_last_run(s, &run);
	if (run.known)
		prom_outcome(f, "run", "recorded run", run.time,
		             run.exit_code >= 0 ? run.exit_code == 0 : strcmp(run.result, "ok") == 0,
		             run.exit_code);
	if (st->nshards)
		prom_shards(f, st);
	if (s->verify_outcome_known)
		prom_outcome(f, "verify", "verify on this host", s->verify_outcome.time, s->verify_outcome.exit_code == 0,
		             s->verify_outcome.exit_code);
	if (s->lock_known) {
		prom_head(f, "aiarchive_lock_held", "gauge", "1 while a run holds the lock.");
		fprintf(f, "aiarchive_lock_held %d\n", *s->holder != '\0');
	}
	if (s->geo_asked) {
		prom_head(f, "aiarchive_geo_replication_live", "gauge",
		          "1 when the secondary region reports geo-replication live.");
		fprintf(f, "aiarchive_geo_replication_live %d\n", strcmp(s->geo, "live") == 0);
		if (known(s->geo_sync)) {
			prom_head(f, "aiarchive_geo_last_sync_timestamp_seconds", "gauge",
			          "Writes before this time are readable in the secondary region.");
			fprintf(f, "aiarchive_geo_last_sync_timestamp_seconds %.17g\n",
			        seconds(s->geo_sync));
		}
	}
	prom_head(f, "aiarchive_status_timestamp_seconds", "gauge", "When this status was taken.");
	fprintf(f, "aiarchive_status_timestamp_seconds %.17g\n", seconds(s->now));
}

/* Writes a fresh FILE.tmp.<random> and renames it over FILE, so the
 * collector never reads half a file and a link planted in the directory
 * (status may run as root) is never written through. */
static ai_result write_prom(const char *path, const struct ai_status *s)
{
	char tmp[4096 + 32];
	FILE *f;
	int fd, bad;

	if (ai_regfile_tmp_create(path, 0666, tmp, sizeof tmp, &fd) != AI_OK) {
		ai_error("prom '%s': cannot create a temporary file next to it: %s", path,
		         strerror(errno));
		return AI_ERR_IO;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ai_error("prom '%s': %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return AI_ERR_IO;
	}
	errno = 0;
	print_prom(f, s);
	bad = ferror(f) ? (errno ? errno : EIO) : 0;
	if (fclose(f) != 0 && !bad)
		bad = errno ? errno : EIO;
	if (bad) {
		/* a full disk shows here, at the latest when the buffer is flushed */
		ai_error("prom '%s': cannot write: %s", tmp, strerror(bad));
		unlink(tmp);
		return AI_ERR_IO;
	}
	if (rename(tmp, path) != 0) {
		ai_error("prom '%s': %s", path, strerror(errno));
		unlink(tmp);
		return AI_ERR_IO;
	}
	return AI_OK;
}

static ai_result exec_status(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	struct ai_store *dest = NULL;
	struct ai_status s;
	struct ai_trust trust;
	struct table_choice tc;
	char why[256];
	ai_result r;

	ai_status_init(&s);
	ai_trust_init(&trust);
	ai_options_init(&o);
	r = ai_options_parse(&ai_cmd_status, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	r = choose_columns(&o, &tc);
	if (r == AI_OK)
		r = ai_trust_from_options(&trust, &ai_cmd_status, &o);
	if (r != AI_OK)
		goto out;
	if (ai_trust_pubkey_conflict(&trust, why, sizeof why)) {
		ai_error("--pubkey: %s", why);
		r = AI_ERR_VERIFY;
		goto out;
	}
	r = ai_options_open_store(&o, "dest", AI_NEED_READ, &dest);
	if (r == AI_OK)
		r = ai_archive_require(dest);
	if (r != AI_OK)
		goto out;
	r = ai_status_read(&s, dest, ctx->now, o.dest_secondary != NULL, &trust);
	ai_say_trust(&trust);
	if (r != AI_OK)
		goto out;
	s.run_outcome_known =
		ai_options_read_outcome(&o, dest, "run", &s.run_outcome) == AI_OK;
	s.verify_outcome_known =
		ai_options_read_outcome(&o, dest, "verify", &s.verify_outcome) == AI_OK;
	if (o.prom) {
		r = write_prom(o.prom, &s);
		if (r != AI_OK)
			goto out;
	}
	if (ctx->json)
		print_json(ctx->out, &s, &trust);
	else if (ctx->verbosity >= 0)
		r = print_text(ctx->out, &s, &tc);
out:
	ai_status_release(&s);
	ai_trust_release(&trust);
	ai_store_free(dest);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_status = {
	.name = "status",
	.bit = AI_CMD_STATUS,
	.args = "--dest URL [--dest-secondary URL] [--prom FILE] [--pubkey FILE] [--key-id ID] "
	        "[--wide | --columns COL,...]",
	.summary = "show how far the archive reaches, the lag, the last run and replication",
	.exec = exec_status,
};
