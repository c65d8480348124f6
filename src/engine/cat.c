/* cat.c: the archived rows of the members matching a filter: each member
 * fetched alone with Range reads, a few at a time, checked against its
 * recorded SHA-256 before any of it is printed, in segment and member
 * order. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/cat.h"
#include "engine/dedupe.h"
#include "engine/fetch.h"
#include "engine/source.h"
#include "util/hex.h"
#include "util/log.h"
#include "cmd/options.h"
#include "format/rowscan.h"
#include "util/alloc.h"

/* A member's output beyond this goes to a temporary file until verified. */
#define SPOOL_MEM (8u << 20)
/* Longest row the row filters look at. */
#define MAX_ROW (256u << 20)

/* A member's output, held until its digest checks out. */
struct spool {
	struct ai_buf mem;
	FILE *file;
};

struct job {
	char *pack;
	char *blob;
	uint64_t seq;
	uint64_t range_start, range_end;
	uint64_t offset, length, raw_size;
	uint8_t sha256[AI_SHA256_LEN];
	enum ai_row_schema schema;
	/* results */
	int done;
	ai_result r;
	char msg[768];
	struct spool out;
};

struct cat {
	struct ai_store *dest;
	const struct ai_catalog_filter *f;
	int row_filter;
	int dedupe;
	struct ai_dedupe seen;    /* with dedupe: the records printed */
	uint64_t duplicates;
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
	char last;
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

/* Prints the whole lines of s (the row filter made them, each with its
 * '\n') whose record c->seen does not hold yet, in order. */
static ai_result print_lines(struct cat *c, const char *p, size_t n, enum ai_row_schema schema,
                             FILE *out)
{
	const char *end = p + n;
	ai_result r = AI_OK;

	while (p < end && r == AI_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p), len = k;
		int fresh;
		if (len && p[len - 1] == '\n')
			len--;
		if (len && p[len - 1] == '\r')
			len--;
		r = ai_dedupe_add(&c->seen, p, len, schema, &fresh);
		if (r == AI_OK && !fresh)
			c->duplicates++;
		else if (r == AI_OK && fwrite(p, 1, k, out) != k)
			r = AI_ERR_IO;
		p += k;
	}
	return r;
}

/* spool_print for --dedupe: line by line through the set. */
static ai_result spool_print_dedupe(struct cat *c, struct spool *s, enum ai_row_schema schema,
                                    FILE *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	ai_result r = print_lines(c, s->mem.data, s->mem.len, schema, out);

	if (r != AI_OK || !s->file)
		return r;
	rewind(s->file);
	while (r == AI_OK && (n = getline(&line, &cap, s->file)) > 0)
		r = print_lines(c, line, (size_t)n, schema, out);
	free(line);
	if (r == AI_OK && ferror(s->file))
		r = AI_ERR_IO;
	return r;
}

static int list_has(char *const *list, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], v) == 0)
			return 1;
	return 0;
}

/* One whole line (with its terminator when it has one): kept when the
 * row matches every row filter. Blank lines and malformed rows match no
 * row filter: their facts are unknown. */
static ai_result row_line(struct member_read *mr, const char *p, size_t n)
{
	const struct ai_catalog_filter *f = mr->c->f;
	struct ai_row_facts rf;
	size_t len = n;
	ai_result r;

	if (len && p[len - 1] == '\n')
		len--;
	if (len && p[len - 1] == '\r')
		len--;
	ai_row_scan(p, len, mr->j->schema, &rf);
	if (!rf.valid)
		return AI_OK;
	if (f->has_from || f->has_to) {
		if (!rf.has_time || (f->has_from && rf.event_time < f->from) ||
		    (f->has_to && rf.event_time >= f->to))
			return AI_OK;
	}
	if (f->nop_ids && !list_has(f->op_ids, f->nop_ids, rf.op_id))
		return AI_OK;
	if (f->nroles && !ai_options_match(f->roles, f->nroles, rf.role))
		return AI_OK;
	r = spool_add(&mr->j->out, p, n);
	if (r == AI_OK && (!n || p[n - 1] != '\n'))
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
	mr->last = p[n - 1];
	if (!mr->c->row_filter)
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
	/* As archived, but rows of adjacent members must not run together. */
	if (r == AI_OK && !c->row_filter && got.size && mr.last != '\n')
		r = spool_add(&j->out, "\n", 1);
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
	if (!j->pack || !j->blob) {
		free(j->pack);
		free(j->blob);
		return AI_ERR_NOMEM;
	}
	j->seq = seg->seq;
	j->range_start = m->range_start;
	j->range_end = m->range_end;
	j->offset = m->offset;
	j->length = m->length;
	j->raw_size = m->raw_size;
	memcpy(j->sha256, m->sha256, AI_SHA256_LEN);
	j->schema = ai_layout_schema_named(seg->layout);
	c->njobs++;
	return AI_OK;
}

/* Runs the jobs on a few threads and prints them in order. */
static ai_result run_jobs(struct cat *c, unsigned nthreads, FILE *out)
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
		while (!j->done && !(c->stop && i >= c->next))
			pthread_cond_wait(&c->cv_done, &c->mu);
		int skipped = !j->done;
		pthread_mutex_unlock(&c->mu);
		if (skipped)
			break;
		if (j->r == AI_OK && r == AI_OK) {
			r = c->dedupe ? spool_print_dedupe(c, &j->out, j->schema, out)
			              : spool_print(&j->out, out);
			if (r == AI_OK && fflush(out) != 0)
				r = AI_ERR_IO;
			if (r == AI_ERR_TOO_BIG) {
				ai_error("cat: --dedupe holds at most %llu distinct records; narrow "
				         "the selection (--from, --to, --type)",
				         (unsigned long long)AI_DEDUPE_MAX);
			} else if (r != AI_OK) {
				ai_error("cat: writing the output failed");
			}
			if (r != AI_OK) {
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
	if (bad)
		ai_error("cat: %llu member%s failed verification; nothing of %s was printed",
		         (unsigned long long)bad, bad == 1 ? "" : "s", bad == 1 ? "it" : "them");
	if (r != AI_OK)
		return r;
	return bad ? AI_ERR_VERIFY : first;
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
	c.row_filter = f->has_from || f->has_to || f->nop_ids || f->nroles || p->dedupe;
	ai_dedupe_init(&c.seen);
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv_done, NULL);
	pthread_cond_init(&c.cv_room, NULL);
	r = ai_catalog_select(p->dest, f, p->copts, on_member, &c, NULL);
	if (r == AI_OK && c.njobs) {
		struct ai_store_stats before, after;

		ai_store_get_stats(p->dest, &before);
		r = run_jobs(&c, p->jobs < AI_CAT_MAX_JOBS ? p->jobs : AI_CAT_MAX_JOBS, p->out);
		ai_store_get_stats(p->dest, &after);
		sum->members = c.njobs;
		sum->bytes_read = after.bytes_read - before.bytes_read;
		sum->duplicates = c.duplicates;
	}
	ai_dedupe_release(&c.seen);
	for (size_t i = 0; i < c.njobs; i++) {
		free(c.jobs[i].pack);
		free(c.jobs[i].blob);
		spool_release(&c.jobs[i].out);
	}
	free(c.jobs);
	pthread_cond_destroy(&c.cv_room);
	pthread_cond_destroy(&c.cv_done);
	pthread_mutex_destroy(&c.mu);
	return r;
}
