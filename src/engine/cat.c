/* cat.c: the archived rows of the members matching a filter: each member
 * fetched alone with Range reads, a few at a time, checked against its
 * recorded SHA-256 before any of it is printed, in segment and member
 * order as the catalog gives them (only a window of members is held at
 * once); or, for --sort time, members taken in the order of their first
 * event time (sorted in chunks, spilled to a temporary file and merged
 * when there are many) and their rows merged through a heap, a row
 * printed once no member still to come can hold an earlier one. */
#include <errno.h>
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

/* A member's output beyond this goes to a temporary file until verified;
 * up to 2 x AI_CAT_MAX_JOBS members are held at once. */
#define SPOOL_MEM (1u << 20)
/* --sort time: members sorted in memory at once; more are spilled in
 * sorted runs of this many to a temporary file and merged from it. */
#define SORT_CHUNK 4096
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
	uint64_t bytes_read;      /* pack bytes read for it */
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
	/* The members in flight: member i (in printing order) is in
	 * jobs[i % window] from when it is fed until it is printed. */
	struct job *jobs;
	size_t window;
	pthread_mutex_t mu;
	pthread_cond_t cv_done, cv_room;
	size_t njobs, next, printed; /* fed, taken by a worker, printed */
	int fed_all, stop;
	uint64_t bytes_fed, bytes_read;
	size_t order;             /* members the catalog gave so far */
	/* How printing went: a failure to print, members that failed their
	 * check, the first other failure of a member. */
	ai_result print_r, first;
	uint64_t bad;
	int header_done;
	int halted;               /* feeding stopped since the printing did */
	struct ai_cat_summary *sum;
	/* --sort time: a chunk being gathered; the runs spilled before it. */
	struct job *chunk;
	size_t nchunk;
	FILE *spill;
	struct spill_run *runs;
	size_t nruns, runs_cap;
};

/* --sort time: one sorted run of members in the spill file. */
struct spill_run {
	off_t at, end;            /* the next member's record, the run's end */
	struct job head;          /* its next member, once read */
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
	j->bytes_read = got.bytes_read;
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
		/* The feeder keeps njobs within a window of what is printed. */
		while (!c->stop && c->next >= c->njobs && !c->fed_all)
			pthread_cond_wait(&c->cv_room, &c->mu);
		if (c->stop || c->next >= c->njobs)
			break;
		struct job *j = &c->jobs[c->next++ % c->window];
		pthread_mutex_unlock(&c->mu);
		if (ready == AI_OK)
			do_job(c, &fetch, j);
		else
			job_done(j, ready);
		pthread_mutex_lock(&c->mu);
		j->done = 1;
		/* Only a bad member is worth going on after; a failing store
		 * fails every member the same way. */
		if (j->r != AI_OK && j->r != AI_ERR_VERIFY)
			c->stop = 1;
		pthread_cond_broadcast(&c->cv_done);
		pthread_cond_broadcast(&c->cv_room);
	}
	pthread_mutex_unlock(&c->mu);
	ai_fetch_release(&fetch);
	return NULL;
}

/* Frees what a member in flight owns. */
static void job_clear(struct job *j)
{
	free(j->pack);
	free(j->blob);
	free(j->app);
	spool_release(&j->out);
	memset(j, 0, sizeof *j);
}

/* A job for member m of seg (its strings copied), in catalog order. */
static ai_result job_of(struct cat *c, const struct ai_segment *seg, const struct ai_member *m,
                        const struct ai_pack_ref *pack, struct job *j)
{
	memset(j, 0, sizeof *j);
	j->pack = strdup(pack->name ? pack->name : "");
	j->blob = strdup(m->blob ? m->blob : "");
	j->app = strdup(m->app ? m->app : "");
	if (!j->pack || !j->blob || !j->app) {
		job_clear(j);
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
	j->order = c->order++;
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
	if (r == AI_ERR_IO)
		ai_error("cat --dedupe: cannot use the temporary file of the records printed: %s",
		         strerror(errno));
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

/* Waits for the oldest member in flight and prints it (or reports why it
 * failed), freeing its slot. 0 when the printing stops: writing failed,
 * or a failing store stopped the workers. */
static int print_next(struct cat *c, struct ai_cat_summary *sum)
{
	struct job *j = &c->jobs[c->printed % c->window];
	char name[2400];
	int skipped;

	pthread_mutex_lock(&c->mu);
	while (!j->done && !(c->stop && c->printed >= c->next)) {
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
	skipped = !j->done;
	pthread_mutex_unlock(&c->mu);
	if (skipped)
		return 0;
	c->bytes_read += j->bytes_read;
	if (j->r == AI_OK && c->print_r == AI_OK) {
		ai_result r = AI_OK;
		if (!c->header_done && c->p->nfields)
			r = print_csv_header(c);
		c->header_done = 1;
		if (r == AI_OK)
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
			c->print_r = r;
		}
	} else if (j->r != AI_OK) {
		job_name(j, name, sizeof name);
		ai_error("%s: %s", name, j->msg);
		if (j->r == AI_ERR_VERIFY)
			c->bad++;
		else if (c->first == AI_OK)
			c->first = j->r;
	}
	ai_progress_add(c->p->progress, 1, j->length);
	ai_progress_tick(c->p->progress);
	job_clear(j);
	pthread_mutex_lock(&c->mu);
	c->printed++;
	if (c->print_r != AI_OK)
		c->stop = 1;
	pthread_cond_broadcast(&c->cv_room);
	pthread_mutex_unlock(&c->mu);
	return 1;
}

/* Hands *j (its strings moved) to the workers, once its slot is free.
 * When the printing has stopped, c->halted says so (and the result is
 * not the cause: finish gives that). */
static ai_result feed(struct cat *c, struct job *j, struct ai_cat_summary *sum)
{
	struct job *slot;
	int stopped;

	pthread_mutex_lock(&c->mu);
	stopped = c->stop;
	pthread_mutex_unlock(&c->mu);
	while (!stopped && c->njobs >= c->printed + c->window)
		stopped = !print_next(c, sum);
	if (stopped) {
		job_clear(j);
		c->halted = 1;
		return AI_ERR_INTERNAL;
	}
	slot = &c->jobs[c->njobs % c->window];
	*slot = *j;
	memset(j, 0, sizeof *j);
	ai_buf_init(&slot->out.mem, SPOOL_MEM);
	c->bytes_fed += slot->length;
	ai_progress_total(c->p->progress, c->njobs + 1, c->bytes_fed);
	pthread_mutex_lock(&c->mu);
	c->njobs++;
	pthread_cond_broadcast(&c->cv_room);
	pthread_mutex_unlock(&c->mu);
	return AI_OK;
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

/* ---- --sort time: members sorted in chunks, spilled, merged ---- */

/* What a spilled member keeps: its place and record, and the lengths of
 * its three strings, which follow. */
struct spilled {
	uint64_t seq, range_start, range_end, offset, length, raw_size;
	ai_time min_event;
	uint64_t order;
	uint8_t sha256[AI_SHA256_LEN];
	int32_t schema, has_time, row_apps;
	uint32_t len[3];
};

static ai_result spill_write(FILE *f, const struct job *j)
{
	struct spilled x = { j->seq, j->range_start, j->range_end, j->offset, j->length,
	                     j->raw_size, j->min_event, j->order, { 0 }, (int32_t)j->schema,
	                     j->has_time, j->row_apps,
	                     { (uint32_t)strlen(j->pack), (uint32_t)strlen(j->blob),
	                       (uint32_t)strlen(j->app) } };
	const char *str[3] = { j->pack, j->blob, j->app };

	memcpy(x.sha256, j->sha256, AI_SHA256_LEN);
	if (fwrite(&x, sizeof x, 1, f) != 1)
		return AI_ERR_IO;
	for (int k = 0; k < 3; k++)
		if (x.len[k] && fwrite(str[k], 1, x.len[k], f) != x.len[k])
			return AI_ERR_IO;
	return AI_OK;
}

/* Reads the member at run->at into run->head and moves past it. */
static ai_result spill_read(FILE *f, struct spill_run *run)
{
	struct job *j = &run->head;
	struct spilled x;
	char **str[3] = { &j->pack, &j->blob, &j->app };

	memset(j, 0, sizeof *j);
	if (fseeko(f, run->at, SEEK_SET) != 0 || fread(&x, sizeof x, 1, f) != 1)
		return AI_ERR_IO;
	for (int k = 0; k < 3; k++) {
		if (!(*str[k] = malloc((size_t)x.len[k] + 1))) {
			job_clear(j);
			return AI_ERR_NOMEM;
		}
		if (x.len[k] && fread(*str[k], 1, x.len[k], f) != x.len[k]) {
			job_clear(j);
			return AI_ERR_IO;
		}
		(*str[k])[x.len[k]] = 0;
		run->at += x.len[k];
	}
	run->at += (off_t)sizeof x;
	j->seq = x.seq;
	j->range_start = x.range_start;
	j->range_end = x.range_end;
	j->offset = x.offset;
	j->length = x.length;
	j->raw_size = x.raw_size;
	j->min_event = x.min_event;
	j->order = (size_t)x.order;
	memcpy(j->sha256, x.sha256, AI_SHA256_LEN);
	j->schema = (enum ai_row_schema)x.schema;
	j->has_time = x.has_time;
	j->row_apps = x.row_apps;
	return AI_OK;
}

/* Sorts the chunk gathered and writes it to the spill file as one run. */
static ai_result spill_chunk(struct cat *c)
{
	struct spill_run *run;
	ai_result r = AI_OK;

	if (!c->nchunk)
		return AI_OK;
	if (!c->spill && !(c->spill = tmpfile()))
		return AI_ERR_IO;
	if (AI_GROW(c->runs, c->nruns + 1, c->runs_cap) != AI_OK)
		return AI_ERR_NOMEM;
	qsort(c->chunk, c->nchunk, sizeof *c->chunk, by_first_event);
	run = &c->runs[c->nruns++];
	memset(run, 0, sizeof *run);
	if (fseeko(c->spill, 0, SEEK_END) != 0 || (run->at = ftello(c->spill)) < 0)
		r = AI_ERR_IO;
	for (size_t i = 0; i < c->nchunk; i++) {
		if (r == AI_OK)
			r = spill_write(c->spill, &c->chunk[i]);
		job_clear(&c->chunk[i]);
	}
	c->nchunk = 0;
	if (r == AI_OK && (fflush(c->spill) != 0 || (run->end = ftello(c->spill)) < 0))
		r = AI_ERR_IO;
	return r;
}

/* Feeds the spilled runs in order: each run's next member, the earliest
 * first. The runs are few (members / SORT_CHUNK), so a linear scan picks. */
static ai_result spill_merge(struct cat *c, struct ai_cat_summary *sum)
{
	size_t live = 0;
	ai_result r = AI_OK;

	for (size_t k = 0; k < c->nruns && r == AI_OK; k++)
		if (c->runs[k].at < c->runs[k].end && (r = spill_read(c->spill, &c->runs[k])) == AI_OK)
			live++;
	while (r == AI_OK && live) {
		struct spill_run *min = NULL;
		for (size_t k = 0; k < c->nruns; k++)
			if (c->runs[k].head.pack &&
			    (!min || by_first_event(&c->runs[k].head, &min->head) < 0))
				min = &c->runs[k];
		r = feed(c, &min->head, sum);
		if (r == AI_OK && min->at < min->end)
			r = spill_read(c->spill, min);
		else if (r == AI_OK)
			live--;
	}
	for (size_t k = 0; k < c->nruns; k++)
		job_clear(&c->runs[k].head);
	return r;
}

/* The catalog's callback: the member to the workers, or, for --sort time,
 * into the chunk being sorted. */
static ai_result on_member(void *ctx, const struct ai_segment *seg, const struct ai_member *m,
                           const struct ai_pack_ref *pack)
{
	struct cat *c = ctx;
	struct job j;
	ai_result r = job_of(c, seg, m, pack, c->p->sort_time ? &c->chunk[c->nchunk] : &j);

	if (r != AI_OK || !c->p->sort_time)
		return r == AI_OK ? feed(c, &j, c->sum) : r;
	if (++c->nchunk == SORT_CHUNK)
		r = spill_chunk(c);
	return r;
}

/* --sort time, once the catalog is done: the members in order. */
static ai_result feed_sorted(struct cat *c, struct ai_cat_summary *sum)
{
	ai_result r = AI_OK;

	if (c->nruns) {
		r = spill_chunk(c);
		if (r == AI_ERR_IO)
			ai_error("cat --sort time: cannot write the members' temporary file");
		return r == AI_OK ? spill_merge(c, sum) : r;
	}
	qsort(c->chunk, c->nchunk, sizeof *c->chunk, by_first_event);
	for (size_t i = 0; i < c->nchunk && r == AI_OK; i++)
		r = feed(c, &c->chunk[i], sum);
	return r;
}

static ai_result start_workers(struct cat *c, pthread_t *th, unsigned nthreads,
                               unsigned *started)
{
	for (*started = 0; *started < nthreads; (*started)++)
		if (pthread_create(&th[*started], NULL, worker, c) != 0)
			break;
	if (!*started) {
		ai_error("cat: cannot start a thread");
		return AI_ERR_INTERNAL;
	}
	return AI_OK;
}

/* Prints what is still in flight, stops the workers and finishes the
 * merge; the printing's result. */
static ai_result finish(struct cat *c, pthread_t *th, unsigned started,
                        struct ai_cat_summary *sum)
{
	ai_result r;

	pthread_mutex_lock(&c->mu);
	c->fed_all = 1;
	pthread_cond_broadcast(&c->cv_room);
	pthread_mutex_unlock(&c->mu);
	while (c->printed < c->njobs && print_next(c, sum))
		;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->cv_room);
	pthread_mutex_unlock(&c->mu);
	for (unsigned t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	/* Members fed but never taken by a worker. */
	while (c->printed < c->njobs)
		job_clear(&c->jobs[c->printed++ % c->window]);
	r = c->print_r;
	if (r == AI_OK && c->p->sort_time && c->njobs) {
		r = merge_finish(c);
		if (r == AI_OK && fflush(c->out) != 0)
			r = AI_ERR_IO;
		if (r == AI_ERR_IO)
			ai_error("cat: writing the output failed");
	}
	if (c->bad)
		ai_error("cat: %llu member%s failed verification; nothing of %s was printed",
		         (unsigned long long)c->bad, c->bad == 1 ? "" : "s",
		         c->bad == 1 ? "it" : "them");
	if (r != AI_OK)
		return r;
	return c->bad ? AI_ERR_VERIFY : c->first;
}

ai_result ai_cat(const struct ai_cat_params *p, struct ai_cat_summary *sum)
{
	const struct ai_catalog_filter *f = p->f;
	struct cat c = { 0 };
	pthread_t th[AI_CAT_MAX_JOBS];
	unsigned nthreads = p->jobs < AI_CAT_MAX_JOBS ? p->jobs : AI_CAT_MAX_JOBS, started = 0;
	ai_result r, pr;

	memset(sum, 0, sizeof *sum);
	c.dest = p->dest;
	c.f = f;
	c.dedupe = p->dedupe;
	ai_dedupe_init(&c.seen);
	if (p->dedupe_mem_slots)
		c.seen.mem_slots = p->dedupe_mem_slots;
	c.p = p;
	c.sum = sum;
	c.out = p->out;
	c.window = 2 * (size_t)(nthreads ? nthreads : 1);
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
	if ((p->nfields && !(c.vals = calloc(p->nfields, sizeof *c.vals))) ||
	    !(c.jobs = calloc(c.window, sizeof *c.jobs)) ||
	    (p->sort_time && !(c.chunk = calloc(SORT_CHUNK, sizeof *c.chunk))))
		r = AI_ERR_NOMEM;
	else
		r = start_workers(&c, th, nthreads ? nthreads : 1, &started);
	if (r == AI_OK) {
		ai_progress_tick(p->progress);
		r = ai_catalog_select(p->dest, f, p->copts, on_member, &c, NULL);
		if (r == AI_OK && p->sort_time)
			r = feed_sorted(&c, sum);
		if (r == AI_ERR_NOMEM)
			ai_error("cat: out of memory");
	}
	if (started) {
		pr = finish(&c, th, started, sum);
		/* The printing stopped the selection: its own failure says why. */
		if (r == AI_OK || c.halted)
			r = pr;
	}
	if (r == AI_OK && p->nfields && !c.header_done && (r = print_csv_header(&c)) != AI_OK)
		ai_error("cat: writing the output failed");
	sum->members = c.njobs;
	sum->bytes_read = c.bytes_read;
	sum->duplicates = c.duplicates;
	ai_dedupe_release(&c.seen);
	for (size_t i = 0; c.jobs && i < c.window; i++)
		job_clear(&c.jobs[i]);
	free(c.jobs);
	for (size_t i = 0; c.chunk && i < c.nchunk; i++)
		job_clear(&c.chunk[i]);
	free(c.chunk);
	free(c.runs);
	if (c.spill)
		fclose(c.spill);
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
