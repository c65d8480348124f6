/* cat.c: the archived rows of the members matching a filter: each member
 * fetched alone with Range reads, a few at a time, checked against its
 * recorded SHA-256 before any of it is printed, in segment and member
 * order; or, for --sort time, members taken in the order of their first
 * event time and their rows merged through a heap, a row printed once no
 * member still to come can hold an earlier one. */
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/cat.h"
#include "engine/dedupe.h"
#include "engine/fetch.h"
#include "engine/source.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/progress.h"
#include "cmd/options.h"
#include "format/rowscan.h"
#include "util/alloc.h"

/* A member's output beyond this goes to a temporary file until verified. */
#define SPOOL_MEM (8u << 20)
/* Longest row the row filters look at. */
#define MAX_ROW (256u << 20)

/* Line numbers of a member's malformed rows that its report names. */
#define BAD_LINES 5

/* A member's output, held until its digest checks out. */
struct spool {
	struct ai_buf mem;
	FILE *file;
};

struct job {
	char *pack;
	char *blob;
	char *app;                /* the member's app: that of its rows naming none */
	int row_apps;             /* its rows carry their own apps (workspace export) */
	uint64_t seq;
	uint64_t range_start, range_end;
	uint64_t offset, length, raw_size;
	uint8_t sha256[AI_SHA256_LEN];
	enum ai_row_schema schema;
	int has_time;             /* min_event is the member's first event time */
	ai_time min_event;
	size_t order;             /* its place in the catalog's order */
	/* results */
	uint64_t malformed;       /* rows left out: not one JSON object */
	uint64_t bad_line[BAD_LINES];
	int done;
	ai_result r;
	char msg[768];
	struct spool out;
};

/* --sort time: a row waiting in the heap. */
struct row {
	ai_time t;
	uint64_t seq;   /* arrival order, so that equal times keep it */
	size_t len;
	char data[];
};

struct merge {
	struct row **heap;
	size_t n, cap;
	uint64_t seq;
	size_t bytes;           /* held in the heap */
	struct spool untimed;   /* rows without an event time, printed last */
	int has_last;
	ai_time last;           /* the last time printed */
	uint64_t late;          /* rows printed after a later one */
};

struct cat {
	struct ai_store *dest;
	const struct ai_catalog_filter *f;
	int dedupe;
	struct ai_dedupe seen;    /* with dedupe: the records printed */
	uint64_t duplicates;
	const struct ai_cat_params *p;
	FILE *out;
	struct merge m;
	enum ai_row_schema schema;  /* of the member being merged */
	struct ai_row_value *vals;  /* CSV: one per field */
	struct ai_buf cell, rec;
	struct job *jobs;
	size_t njobs, cap;
	pthread_mutex_t mu;
	pthread_cond_t cv_done, cv_room;
	size_t next, printed, window;
	int stop;
};

/* What one worker carries through a member's bytes. */
struct member_read {
	const struct cat *c;
	struct job *j;
	uint64_t line;
	struct ai_buf partial;
};

static ai_result spool_add(struct spool *s, const void *p, size_t n)
{
	if (!s->file && s->mem.len + n <= SPOOL_MEM)
		return ai_buf_add(&s->mem, p, n);
	if (!s->file) {
		if (!(s->file = tmpfile()))
			return AI_ERR_IO;
		if (s->mem.len && fwrite(s->mem.data, 1, s->mem.len, s->file) != s->mem.len)
			return AI_ERR_IO;
		ai_buf_release(&s->mem);
		ai_buf_init(&s->mem, SPOOL_MEM);
	}
	return fwrite(p, 1, n, s->file) == n ? AI_OK : AI_ERR_IO;
}

static void spool_release(struct spool *s)
{
	ai_buf_release(&s->mem);
	if (s->file)
		fclose(s->file);
	s->file = NULL;
}

static ai_result spool_print(struct spool *s, FILE *out)
{
	char tmp[65536];
	size_t n;

	if (s->mem.len && fwrite(s->mem.data, 1, s->mem.len, out) != s->mem.len)
		return AI_ERR_IO;
	if (!s->file)
		return AI_OK;
	rewind(s->file);
	while ((n = fread(tmp, 1, sizeof tmp, s->file)) > 0)
		if (fwrite(tmp, 1, n, out) != n)
			return AI_ERR_IO;
	return ferror(s->file) ? AI_ERR_IO : AI_OK;
}

/* Calls fn for each line of s (without its newline). */
static ai_result spool_lines(struct spool *s, ai_result (*fn)(struct cat *, const char *, size_t),
                             struct cat *c)
{
	const char *p = s->mem.data, *end = p + s->mem.len;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	ai_result r = AI_OK;

	while (p && p < end && r == AI_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
		r = fn(c, p, k);
		p += k + 1;
	}
	if (r != AI_OK || !s->file)
		return r;
	rewind(s->file);
	while (r == AI_OK && (n = getline(&line, &cap, s->file)) > 0)
		r = fn(c, line, (size_t)n - (line[n - 1] == '\n'));
	if (r == AI_OK && ferror(s->file))
		r = AI_ERR_IO;
	free(line);
	return r;
}

static int list_has(char *const *list, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], v) == 0)
			return 1;
	return 0;
}

static int blank(const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++, n--;
	return n == 0;
}

/* One whole line (with its terminator when it has one): kept when it is
 * one JSON object matching every row filter, then printed with a newline.
 * Blank lines are skipped; a malformed row is left out and counted. */
static ai_result row_line(struct member_read *mr, const char *p, size_t n)
{
	const struct ai_catalog_filter *f = mr->c->f;
	struct ai_row_facts rf;
	size_t len = n;
	ai_result r;

	mr->line++;
	if (len && p[len - 1] == '\n')
		len--;
	if (len && p[len - 1] == '\r')
		len--;
	ai_row_scan(p, len, mr->j->schema, &rf);
	if (!rf.valid) {
		if (!blank(p, len)) {
			if (mr->j->malformed < BAD_LINES)
				mr->j->bad_line[mr->j->malformed] = mr->line;
			mr->j->malformed++;
		}
		return AI_OK;
	}
	if (f->has_from || f->has_to) {
		if (!rf.has_time || (f->has_from && rf.event_time < f->from) ||
		    (f->has_to && rf.event_time >= f->to))
			return AI_OK;
	}
	if (f->nop_ids && !list_has(f->op_ids, f->nop_ids, rf.op_id))
		return AI_OK;
	if (f->nroles && !ai_options_match(f->roles, f->nroles, rf.role))
		return AI_OK;
	if (f->napps && mr->j->row_apps &&
	    !ai_options_match(f->apps, f->napps, rf.app[0] ? rf.app : mr->j->app))
		return AI_OK;
	r = spool_add(&mr->j->out, p, len);
	if (r == AI_OK)
		r = spool_add(&mr->j->out, "\n", 1);
	return r;
}

/* The fetch's sink: a member's bytes, as they inflate. */
static ai_result member_sink(void *ctx, const void *data, size_t n)
{
	struct member_read *mr = ctx;
	const char *p = data, *end = p + n;
	ai_result r = AI_OK;

	if (!n)
		return AI_OK;
	if (mr->c->p->raw)
		return spool_add(&mr->j->out, data, n);
	while (p < end && r == AI_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (!nl) {
			r = ai_buf_add(&mr->partial, p, k);
		} else if (mr->partial.len) {
			r = ai_buf_add(&mr->partial, p, k);
			if (r == AI_OK)
				r = row_line(mr, mr->partial.data, mr->partial.len);
			ai_buf_reset(&mr->partial);
		} else {
			r = row_line(mr, p, k);
		}
		p += k;
	}
	return r;
}

static void job_name(const struct job *j, char *out, size_t cap)
{
	if (j->range_start)
		snprintf(out, cap, "member '%.1000s' [%llu,%llu) (segment %llu, pack '%.1000s' offset "
		         "%llu length %llu)", j->blob, (unsigned long long)j->range_start,
		         (unsigned long long)j->range_end, (unsigned long long)j->seq, j->pack,
		         (unsigned long long)j->offset, (unsigned long long)j->length);
	else
		snprintf(out, cap, "member '%.1000s' (segment %llu, pack '%.1000s' offset %llu length "
		         "%llu)", j->blob, (unsigned long long)j->seq, j->pack,
		         (unsigned long long)j->offset, (unsigned long long)j->length);
}

/* What is wrong with a member, as cat says it. */
static void fault_msg(const struct job *j, const struct ai_fetch_result *got, char *out,
                      size_t cap)
{
	static const char *const says[] = {
		[AI_FETCH_EMPTY] = "the record gives it no bytes",
		[AI_FETCH_NO_PACK] = "pack is missing",
		[AI_FETCH_SHORT] = "pack is shorter than the record says",
		[AI_FETCH_TOO_BIG] = "decompresses to more than the record's size",
		[AI_FETCH_CORRUPT] = "not one valid gzip member (corrupt data)",
		[AI_FETCH_MEMBERS] = "not one valid gzip member (corrupt data)",
	};
	char have[2 * AI_SHA256_LEN + 1], want[2 * AI_SHA256_LEN + 1];

	if (got->fault == AI_FETCH_SIZE) {
		snprintf(out, cap, "decompresses to %llu bytes, the record says %llu",
		         (unsigned long long)got->size, (unsigned long long)j->raw_size);
	} else if (got->fault == AI_FETCH_SHA256) {
		ai_hex(got->sha256, sizeof got->sha256, have);
		ai_hex(j->sha256, sizeof j->sha256, want);
		snprintf(out, cap, "sha256 mismatch: the data has %s, the record says %s", have,
		         want);
	} else if ((size_t)got->fault < sizeof says / sizeof says[0] && says[got->fault]) {
		snprintf(out, cap, "%s", says[got->fault]);
	}
}

/* Records how a member ended; on any failure its output is dropped and
 * j->msg says why. */
static void job_done(struct job *j, ai_result r)
{
	if (r == AI_ERR_IO && !*j->msg)
		snprintf(j->msg, sizeof j->msg, "cannot hold its output (temporary file)");
	else if (r == AI_ERR_TOO_BIG && !*j->msg)
		snprintf(j->msg, sizeof j->msg, "a row is longer than %u MiB", MAX_ROW >> 20);
	else if (r != AI_OK && !*j->msg)
		snprintf(j->msg, sizeof j->msg, "%s", ai_strerror(r));
	if (r != AI_OK) {
		spool_release(&j->out);
		ai_buf_init(&j->out.mem, SPOOL_MEM);
		j->malformed = 0;
	}
	j->r = r;
}

/* Fetches, decompresses, filters and verifies one member. */
static void do_job(const struct cat *c, struct ai_fetch *fetch, struct job *j)
{
	struct member_read mr = { .c = c, .j = j };
	struct ai_fetch_record rec = {
		.pack = j->pack, .offset = j->offset, .length = j->length, .raw_size = j->raw_size,
		.sha256 = j->sha256,
	};
	struct ai_fetch_result got;
	ai_result r;

	ai_buf_init(&mr.partial, MAX_ROW);
	r = ai_fetch_member(fetch, c->dest, &rec, member_sink, &mr, &got);
	if (r != AI_OK && got.store_failed)
		snprintf(j->msg, sizeof j->msg, "%s", ai_store_why(r));
	if (r == AI_OK && got.fault != AI_FETCH_OK) {
		fault_msg(j, &got, j->msg, sizeof j->msg);
		r = AI_ERR_VERIFY;
	}
	if (r == AI_OK && mr.partial.len)
		r = row_line(&mr, mr.partial.data, mr.partial.len);
	job_done(j, r);
	ai_buf_release(&mr.partial);
}

static void *worker(void *arg)
{
	struct cat *c = arg;
	struct ai_fetch fetch;
	ai_result ready = ai_fetch_init(&fetch);

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->stop && c->next < c->njobs && c->next >= c->printed + c->window)
			pthread_cond_wait(&c->cv_room, &c->mu);
		if (c->stop || c->next >= c->njobs)
			break;
		size_t i = c->next++;
		pthread_mutex_unlock(&c->mu);
		if (ready == AI_OK)
			do_job(c, &fetch, &c->jobs[i]);
		else
			job_done(&c->jobs[i], ready);
		pthread_mutex_lock(&c->mu);
		c->jobs[i].done = 1;
		/* Only a bad member is worth going on after; a failing store
		 * fails every member the same way. */
		if (c->jobs[i].r != AI_OK && c->jobs[i].r != AI_ERR_VERIFY)
			c->stop = 1;
		pthread_cond_broadcast(&c->cv_done);
		pthread_cond_broadcast(&c->cv_room);
	}
	pthread_mutex_unlock(&c->mu);
	ai_fetch_release(&fetch);
	return NULL;
}

static ai_result on_member(void *ctx, const struct ai_segment *seg, const struct ai_member *m,
                           const struct ai_pack_ref *pack)
{
	struct cat *c = ctx;
	struct job *j;

	if (AI_GROW(c->jobs, c->njobs + 1, c->cap) != AI_OK)
		return AI_ERR_NOMEM;
	j = &c->jobs[c->njobs];
	memset(j, 0, sizeof *j);
	ai_buf_init(&j->out.mem, SPOOL_MEM);
	j->pack = strdup(pack->name ? pack->name : "");
	j->blob = strdup(m->blob ? m->blob : "");
	j->app = strdup(m->app ? m->app : "");
	if (!j->pack || !j->blob || !j->app) {
		free(j->pack);
		free(j->blob);
		free(j->app);
		return AI_ERR_NOMEM;
	}
	j->row_apps = m->has_apps;
	j->seq = seg->seq;
	j->range_start = m->range_start;
	j->range_end = m->range_end;
	j->offset = m->offset;
	j->length = m->length;
	j->raw_size = m->raw_size;
	memcpy(j->sha256, m->sha256, AI_SHA256_LEN);
	j->schema = ai_layout_schema_named(seg->layout);
	j->has_time = m->has_time;
	j->min_event = m->min_event;
	j->order = c->njobs;
	c->njobs++;
	return AI_OK;
}

/* Appends a CSV field (RFC 4180: quoted when it holds a comma, a quote
 * or a line break, quotes doubled). */
static ai_result csv_field(struct ai_buf *rec, const char *p, size_t n)
{
	ai_result r;

	if (!memchr(p, ',', n) && !memchr(p, '"', n) && !memchr(p, '\n', n) &&
	    !memchr(p, '\r', n))
		return ai_buf_add(rec, p, n);
	r = ai_buf_addc(rec, '"');
	for (size_t i = 0; i < n && r == AI_OK; i++)
		r = p[i] == '"' ? ai_buf_add(rec, "\"\"", 2) : ai_buf_addc(rec, p[i]);
	return r == AI_OK ? ai_buf_addc(rec, '"') : r;
}

/* Ends the record in c->rec (unless r failed) and prints it. */
static ai_result csv_print(struct cat *c, ai_result r)
{
	if (r == AI_OK)
		r = ai_buf_add(&c->rec, "\r\n", 2);
	if (r == AI_OK && fwrite(c->rec.data, 1, c->rec.len, c->out) != c->rec.len)
		r = AI_ERR_IO;
	return r;
}

static ai_result print_csv_header(struct cat *c)
{
	ai_result r = AI_OK;

	ai_buf_reset(&c->rec);
	for (size_t i = 0; i < c->p->nfields && r == AI_OK; i++) {
		if (i)
			r = ai_buf_addc(&c->rec, ',');
		if (r == AI_OK)
			r = csv_field(&c->rec, c->p->field_names[i], strlen(c->p->field_names[i]));
	}
	return csv_print(c, r);
}

/* With --dedupe, whether the record of a row (of the member c->schema
 * describes) was printed before: then it is counted and left out. */
static ai_result seen_before(struct cat *c, const char *p, size_t n, int *dup)
{
	int fresh = 1;
	ai_result r = AI_OK;

	*dup = 0;
	if (!c->dedupe)
		return AI_OK;
	r = ai_dedupe_add(&c->seen, p, n, c->schema, &fresh);
	if (r == AI_ERR_TOO_BIG)
		ai_error("cat: --dedupe holds at most %llu distinct records; narrow the selection "
		         "(--from, --to, --type)", (unsigned long long)AI_DEDUPE_MAX);
	if (r == AI_OK && !fresh) {
		c->duplicates++;
		*dup = 1;
	}
	return r;
}

/* Prints one row (a valid JSON object, without its newline): as it is,
 * or as a CSV record of its fields; with --dedupe once per record (unless
 * --sort time, which leaves duplicates out before the merge). */
static ai_result emit_row(struct cat *c, const char *p, size_t n)
{
	ai_result r = AI_OK;
	int dup = 0;

	if (!c->p->sort_time && (r = seen_before(c, p, n, &dup)) != AI_OK)
		return r;
	if (dup)
		return AI_OK;
	if (!c->p->nfields) {
		if (fwrite(p, 1, n, c->out) != n || putc('\n', c->out) == EOF)
			return AI_ERR_IO;
		return AI_OK;
	}
	(void)ai_row_extract(p, n, c->p->fields, c->p->nfields, c->vals);
	ai_buf_reset(&c->rec);
	for (size_t i = 0; i < c->p->nfields && r == AI_OK; i++) {
		ai_buf_reset(&c->cell);
		if (i)
			r = ai_buf_addc(&c->rec, ',');
		if (r == AI_OK)
			r = ai_row_value_text(&c->vals[i], &c->cell);
		if (r == AI_OK)
			r = csv_field(&c->rec, c->cell.data ? c->cell.data : "", c->cell.len);
	}
	return csv_print(c, r);
}

static int row_before(const struct row *a, const struct row *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static ai_result heap_push(struct merge *m, struct row *x)
{
	size_t i;

	if (AI_GROW(m->heap, m->n + 1, m->cap) != AI_OK)
		return AI_ERR_NOMEM;
	for (i = m->n++; i && row_before(x, m->heap[(i - 1) / 2]); i = (i - 1) / 2)
		m->heap[i] = m->heap[(i - 1) / 2];
	m->heap[i] = x;
	return AI_OK;
}

static struct row *heap_pop(struct merge *m)
{
	struct row *top = m->heap[0], *x = m->heap[--m->n];
	size_t i = 0;

	for (;;) {
		size_t k = 2 * i + 1;
		if (k >= m->n)
			break;
		if (k + 1 < m->n && row_before(m->heap[k + 1], m->heap[k]))
			k++;
		if (!row_before(m->heap[k], x))
			break;
		m->heap[i] = m->heap[k];
		i = k;
	}
	if (m->n)
		m->heap[i] = x;
	return top;
}

/* Prints the held rows earlier than limit (all of them when all). */
static ai_result merge_flush(struct cat *c, ai_time limit, int all)
{
	struct merge *m = &c->m;
	ai_result r = AI_OK;

	while (r == AI_OK && m->n && (all || m->heap[0]->t < limit)) {
		struct row *x = heap_pop(m);
		if (m->has_last && x->t < m->last)
			m->late++;
		m->has_last = 1;
		m->last = x->t;
		m->bytes -= x->len;
		r = emit_row(c, x->data, x->len);
		free(x);
	}
	return r;
}

/* A row of the member being merged: into the heap, or with no event time
 * to the rows printed last. */
static ai_result merge_add(struct cat *c, const char *p, size_t n)
{
	struct merge *m = &c->m;
	struct ai_row_facts rf;
	struct row *x;
	ai_result r;

	int dup;

	if ((r = seen_before(c, p, n, &dup)) != AI_OK || dup)
		return r;
	ai_row_scan(p, n, c->schema, &rf);
	if (!rf.has_time) {
		r = spool_add(&m->untimed, p, n);
		return r == AI_OK ? spool_add(&m->untimed, "\n", 1) : r;
	}
	if (m->bytes + n > AI_CAT_SORT_MEM) {
		ai_error("cat --sort time: the rows of the members whose event times overlap exceed "
		         "%u MiB; narrow --from/--to or the filters", AI_CAT_SORT_MEM >> 20);
		return AI_ERR_TOO_BIG;
	}
	if (!(x = malloc(sizeof *x + n)))
		return AI_ERR_NOMEM;
	x->t = rf.event_time;
	x->seq = m->seq++;
	x->len = n;
	memcpy(x->data, p, n);
	r = heap_push(m, x);
	if (r != AI_OK)
		free(x);
	else
		m->bytes += n;
	return r;
}

/* Prints a member that checked out: its rows, or for --sort time those
 * rows held that no member still to come can precede, its own merged in. */
static ai_result print_job(struct cat *c, struct job *j)
{
	ai_result r;

	c->schema = j->schema;
	if (!c->p->sort_time)
		return c->p->nfields || c->dedupe ? spool_lines(&j->out, emit_row, c)
		                                  : spool_print(&j->out, c->out);
	if (j->has_time && (r = merge_flush(c, j->min_event, 0)) != AI_OK)
		return r;
	return spool_lines(&j->out, merge_add, c);
}

/* The rows still held once every member is in. */
static ai_result merge_finish(struct cat *c)
{
	ai_result r = merge_flush(c, 0, 1);

	if (r == AI_OK)
		r = spool_lines(&c->m.untimed, emit_row, c);
	if (r == AI_OK && c->m.late)
		ai_warn("cat --sort time: %llu row%s came before rows already printed (their "
		        "member's recorded first event time is later)", (unsigned long long)c->m.late,
		        c->m.late == 1 ? "" : "s");
	return r;
}

static void report_malformed(const struct job *j)
{
	char name[2400], lines[128];
	size_t n = 0;

	job_name(j, name, sizeof name);
	for (uint64_t k = 0; k < j->malformed && k < BAD_LINES && n < sizeof lines; k++)
		n += (size_t)snprintf(lines + n, sizeof lines - n, "%s%llu", k ? ", " : "",
		                      (unsigned long long)j->bad_line[k]);
	ai_warn("%s: left out %llu malformed row%s (not one JSON object): line%s %s%s", name,
	        (unsigned long long)j->malformed, j->malformed == 1 ? "" : "s",
	        j->malformed == 1 ? "" : "s", lines, j->malformed > BAD_LINES ? ", ..." : "");
}

/* Runs the jobs on a few threads and prints them in order. */
static ai_result run_jobs(struct cat *c, unsigned nthreads, struct ai_cat_summary *sum)
{
	pthread_t th[AI_CAT_MAX_JOBS];
	unsigned started = 0;
	ai_result r = AI_OK, first = AI_OK;
	uint64_t bad = 0;
	char name[2400];

	c->window = 2 * (size_t)nthreads;
	for (; started < nthreads; started++)
		if (pthread_create(&th[started], NULL, worker, c) != 0)
			break;
	if (!started) {
		ai_error("cat: cannot start a thread");
		return AI_ERR_INTERNAL;
	}
	for (size_t i = 0; i < c->njobs; i++) {
		struct job *j = &c->jobs[i];
		pthread_mutex_lock(&c->mu);
		while (!j->done && !(c->stop && i >= c->next)) {
			if (!c->p->progress) {
				pthread_cond_wait(&c->cv_done, &c->mu);
				continue;
			}
			/* cv_done waits on the monotonic clock. */
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += AI_PROGRESS_INTERVAL_NS;
			if (until.tv_nsec >= 1000000000)
				until.tv_sec++, until.tv_nsec -= 1000000000;
			pthread_cond_timedwait(&c->cv_done, &c->mu, &until);
			pthread_mutex_unlock(&c->mu);
			ai_progress_tick(c->p->progress);
			pthread_mutex_lock(&c->mu);
		}
		int skipped = !j->done;
		pthread_mutex_unlock(&c->mu);
		if (skipped)
			break;
		if (j->r == AI_OK && r == AI_OK) {
			r = print_job(c, j);
			if (r == AI_OK && fflush(c->out) != 0)
				r = AI_ERR_IO;
			if (j->malformed) {
				report_malformed(j);
				sum->malformed += j->malformed;
				sum->malformed_members++;
			}
			if (r != AI_OK) {
				if (r == AI_ERR_IO)
					ai_error("cat: writing the output failed");
				else if (r == AI_ERR_NOMEM)
					ai_error("cat: out of memory");
				pthread_mutex_lock(&c->mu);
				c->stop = 1;
				pthread_mutex_unlock(&c->mu);
			}
		} else if (j->r != AI_OK) {
			job_name(j, name, sizeof name);
			ai_error("%s: %s", name, j->msg);
			if (j->r == AI_ERR_VERIFY)
				bad++;
			else if (first == AI_OK)
				first = j->r;
		}
		spool_release(&j->out);
		ai_progress_add(c->p->progress, 1, j->length);
		ai_progress_tick(c->p->progress);
		pthread_mutex_lock(&c->mu);
		c->printed = i + 1;
		pthread_cond_broadcast(&c->cv_room);
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->cv_room);
	pthread_mutex_unlock(&c->mu);
	for (unsigned t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	if (r == AI_OK && c->p->sort_time) {
		r = merge_finish(c);
		if (r == AI_OK && fflush(c->out) != 0)
			r = AI_ERR_IO;
		if (r == AI_ERR_IO)
			ai_error("cat: writing the output failed");
	}
	if (bad)
		ai_error("cat: %llu member%s failed verification; nothing of %s was printed",
		         (unsigned long long)bad, bad == 1 ? "" : "s", bad == 1 ? "it" : "them");
	if (r != AI_OK)
		return r;
	return bad ? AI_ERR_VERIFY : first;
}

/* --sort time: members by first event time (none first), else as the
 * catalog gave them. */
static int by_first_event(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	if (x->has_time != y->has_time)
		return x->has_time ? 1 : -1;
	if (x->has_time && x->min_event != y->min_event)
		return x->min_event < y->min_event ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

ai_result ai_cat(const struct ai_cat_params *p, struct ai_cat_summary *sum)
{
	const struct ai_catalog_filter *f = p->f;
	struct cat c = { 0 };
	ai_result r;

	memset(sum, 0, sizeof *sum);
	c.dest = p->dest;
	c.f = f;
	c.dedupe = p->dedupe;
	ai_dedupe_init(&c.seen);
	c.p = p;
	c.out = p->out;
	ai_buf_init(&c.m.untimed.mem, SPOOL_MEM);
	ai_buf_init(&c.cell, MAX_ROW);
	ai_buf_init(&c.rec, MAX_ROW);
	pthread_mutex_init(&c.mu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c.cv_done, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_cond_init(&c.cv_room, NULL);
	if (p->nfields && !(c.vals = calloc(p->nfields, sizeof *c.vals)))
		r = AI_ERR_NOMEM;
	else
		r = ai_catalog_select(p->dest, f, p->copts, on_member, &c, NULL);
	if (r == AI_OK && p->nfields && (r = print_csv_header(&c)) != AI_OK)
		ai_error("cat: writing the output failed");
	if (r == AI_OK && p->sort_time && c.njobs > 1)
		qsort(c.jobs, c.njobs, sizeof *c.jobs, by_first_event);
	if (r == AI_OK && c.njobs) {
		struct ai_store_stats before, after;

		if (p->progress) {
			uint64_t bytes = 0;
			for (size_t i = 0; i < c.njobs; i++)
				bytes += c.jobs[i].length;
			ai_progress_total(p->progress, c.njobs, bytes);
			ai_progress_tick(p->progress);
		}
		ai_store_get_stats(p->dest, &before);
		r = run_jobs(&c, p->jobs < AI_CAT_MAX_JOBS ? p->jobs : AI_CAT_MAX_JOBS, sum);
		ai_store_get_stats(p->dest, &after);
		sum->members = c.njobs;
		sum->bytes_read = after.bytes_read - before.bytes_read;
		sum->duplicates = c.duplicates;
	}
	ai_dedupe_release(&c.seen);
	for (size_t i = 0; i < c.njobs; i++) {
		free(c.jobs[i].pack);
		free(c.jobs[i].blob);
		free(c.jobs[i].app);
		spool_release(&c.jobs[i].out);
	}
	free(c.jobs);
	while (c.m.n)
		free(heap_pop(&c.m));
	free(c.m.heap);
	spool_release(&c.m.untimed);
	free(c.vals);
	ai_buf_release(&c.cell);
	ai_buf_release(&c.rec);
	pthread_cond_destroy(&c.cv_room);
	pthread_cond_destroy(&c.cv_done);
	pthread_mutex_destroy(&c.mu);
	return r;
}
