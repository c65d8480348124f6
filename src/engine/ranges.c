/* ranges.c: archived ranges, sorted in memory or through a temporary file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine/ranges.h"
#include "util/alloc.h"

/* Ranges per read or write of a run while merging (8 KiB each). */
#define MERGE_BUF 256

void ai_ranges_init(struct ai_ranges *s)
{
	memset(s, 0, sizeof *s);
	s->run_max = AI_RANGES_RUN_MAX;
	s->block_no = UINT64_MAX;
}

void ai_ranges_release(struct ai_ranges *s)
{
	free(s->mem);
	free(s->firsts);
	if (s->runs)
		fclose(s->runs);
	if (s->sorted)
		fclose(s->sorted);
	ai_ranges_init(s);
}

int ai_range_same_blob(const struct ai_range *x, const struct ai_range *y)
{
	return x->name_hi == y->name_hi && x->name_lo == y->name_lo;
}

int ai_range_cmp(const void *a, const void *b)
{
	const struct ai_range *x = a, *y = b;

	if (x->name_hi != y->name_hi)
		return x->name_hi < y->name_hi ? -1 : 1;
	if (x->name_lo != y->name_lo)
		return x->name_lo < y->name_lo ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Writes (write) or reads n ranges at range offset at of f, whole. */
static ai_result move_at(FILE *f, struct ai_range *a, size_t n, uint64_t at, int write)
{
	char *p = (char *)a;
	size_t left = n * sizeof *a;
	off_t off = (off_t)(at * sizeof *a);

	while (left) {
		ssize_t k = write ? pwrite(fileno(f), p, left, off) : pread(fileno(f), p, left, off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return AI_ERR_IO;
		p += k;
		off += k;
		left -= (size_t)k;
	}
	return AI_OK;
}

static ai_result write_at(FILE *f, struct ai_range *a, size_t n, uint64_t at)
{
	return move_at(f, a, n, at, 1);
}

static ai_result read_at(FILE *f, struct ai_range *a, size_t n, uint64_t at)
{
	return move_at(f, a, n, at, 0);
}

/* The gathered ranges, sorted, as the next run of the runs file: each
 * run but the last has run_max ranges, so its place needs no record. */
static ai_result write_run(struct ai_ranges *s)
{
	ai_result r;

	if (!s->runs && !(s->runs = tmpfile()))
		return AI_ERR_IO;
	qsort(s->mem, s->nmem, sizeof *s->mem, ai_range_cmp);
	r = write_at(s->runs, s->mem, s->nmem, (uint64_t)s->nruns * s->run_max);
	if (r == AI_OK) {
		s->nruns++;
		s->nmem = 0;
	}
	return r;
}

ai_result ai_ranges_add(struct ai_ranges *s, const struct ai_range *a)
{
	ai_result r;

	if (s->nmem == s->run_max && (r = write_run(s)) != AI_OK)
		return r;
	if (AI_GROW(s->mem, s->nmem + 1, s->capmem) != AI_OK)
		return AI_ERR_NOMEM;
	s->mem[s->nmem++] = *a;
	s->n++;
	return AI_OK;
}

/* One run being merged: a buffer of its ranges, refilled from the file. */
struct run_reader {
	struct ai_range buf[MERGE_BUF];
	uint64_t at, end;            /* the next range to read into buf, the end */
	size_t i, n;                 /* the next range in buf, the ranges in it */
};

static ai_result reader_fill(FILE *f, struct run_reader *rd)
{
	uint64_t left = rd->end - rd->at;

	rd->n = left < MERGE_BUF ? (size_t)left : MERGE_BUF;
	rd->i = 0;
	if (!rd->n)
		return AI_OK;
	rd->at += rd->n;
	return read_at(f, rd->buf, rd->n, rd->at - rd->n);
}

static const struct ai_range *reader_head(const struct run_reader *rd)
{
	return &rd->buf[rd->i];
}

/* A binary min-heap of run readers by their head: the runs may be many
 * (a hundred million ranges make 763), so picking the next is log(runs). */
static void heap_down(struct run_reader **h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;
		if (l < n && ai_range_cmp(reader_head(h[l]), reader_head(h[m])) < 0)
			m = l;
		if (r < n && ai_range_cmp(reader_head(h[r]), reader_head(h[m])) < 0)
			m = r;
		if (m == i)
			return;
		struct run_reader *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Appends one range to the sorted file through out (flushed when full),
 * noting the first range of each block. */
static ai_result emit(struct ai_ranges *s, struct ai_range *out, size_t *nout, uint64_t *written,
                      const struct ai_range *a)
{
	uint64_t idx = *written + *nout;
	ai_result r;

	if (idx % AI_RANGES_BLOCK == 0)
		s->firsts[s->nfirsts++] = *a;
	out[(*nout)++] = *a;
	if (*nout < MERGE_BUF)
		return AI_OK;
	r = write_at(s->sorted, out, *nout, *written);
	*written += *nout;
	*nout = 0;
	return r;
}

static ai_result merge_runs(struct ai_ranges *s)
{
	struct run_reader *rd = NULL, **heap = NULL;
	struct ai_range out[MERGE_BUF];
	uint64_t written = 0;
	size_t nheap = 0, nout = 0;
	ai_result r = AI_ERR_NOMEM;

	rd = calloc(s->nruns, sizeof *rd);
	heap = calloc(s->nruns, sizeof *heap);
	s->firsts = calloc((size_t)(s->n / AI_RANGES_BLOCK + 1), sizeof *s->firsts);
	if (!rd || !heap || !s->firsts)
		goto out;
	r = AI_ERR_IO;
	if (!(s->sorted = tmpfile()))
		goto out;
	r = AI_OK;
	for (size_t k = 0; k < s->nruns && r == AI_OK; k++) {
		rd[k].at = (uint64_t)k * s->run_max;
		rd[k].end = k + 1 < s->nruns ? rd[k].at + s->run_max : s->n;
		r = reader_fill(s->runs, &rd[k]);
		if (rd[k].n)
			heap[nheap++] = &rd[k];
	}
	for (size_t i = nheap; i-- > 0;)
		heap_down(heap, nheap, i);
	while (r == AI_OK && nheap) {
		struct run_reader *top = heap[0];
		r = emit(s, out, &nout, &written, reader_head(top));
		if (r == AI_OK && ++top->i == top->n)
			r = reader_fill(s->runs, top);
		if (!top->n)
			heap[0] = heap[--nheap];
		heap_down(heap, nheap, 0);
	}
	if (r == AI_OK && nout)
		r = write_at(s->sorted, out, nout, written);
out:
	free(rd);
	free(heap);
	return r;
}

ai_result ai_ranges_finish(struct ai_ranges *s)
{
	ai_result r;

	s->finished = 1;
	if (!s->nruns) {
		if (s->nmem)
			qsort(s->mem, s->nmem, sizeof *s->mem, ai_range_cmp);
		return AI_OK;
	}
	if (s->nmem && (r = write_run(s)) != AI_OK)
		return r;
	free(s->mem);
	s->mem = NULL;
	s->capmem = 0;
	r = merge_runs(s);
	/* The runs are in the sorted file now. */
	fclose(s->runs);
	s->runs = NULL;
	return r;
}

uint64_t ai_ranges_count(const struct ai_ranges *s)
{
	return s->n;
}

static ai_result load_block(struct ai_ranges *s, uint64_t b)
{
	uint64_t first = b * AI_RANGES_BLOCK, n = s->n - first;
	ai_result r;

	if (b == s->block_no)
		return AI_OK;
	s->block_no = UINT64_MAX;
	if (n > AI_RANGES_BLOCK)
		n = AI_RANGES_BLOCK;
	if ((r = read_at(s->sorted, s->block, (size_t)n, first)) == AI_OK)
		s->block_no = b;
	return r;
}

ai_result ai_ranges_get(struct ai_ranges *s, uint64_t i, const struct ai_range **out)
{
	ai_result r;

	if (!s->sorted) {
		*out = &s->mem[i];
		return AI_OK;
	}
	if ((r = load_block(s, i / AI_RANGES_BLOCK)) != AI_OK)
		return r;
	*out = &s->block[i % AI_RANGES_BLOCK];
	return AI_OK;
}

/* The first of a[0..n) not ordered before key, or n. */
static size_t lower_bound(const struct ai_range *a, size_t n, const struct ai_range *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ai_range_cmp(&a[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

ai_result ai_ranges_lower_bound(struct ai_ranges *s, const struct ai_range *key, uint64_t *at)
{
	size_t b, n;
	ai_result r;

	if (!s->sorted) {
		*at = lower_bound(s->mem, s->nmem, key);
		return AI_OK;
	}
	/* The first block that starts at key or after: the answer is in the
	 * block before it, or is where that block starts. */
	b = lower_bound(s->firsts, s->nfirsts, key);
	if (b == 0) {
		*at = 0;
		return AI_OK;
	}
	if ((r = load_block(s, b - 1)) != AI_OK)
		return r;
	n = b < s->nfirsts ? AI_RANGES_BLOCK : (size_t)(s->n - (uint64_t)(b - 1) * AI_RANGES_BLOCK);
	*at = (uint64_t)(b - 1) * AI_RANGES_BLOCK + lower_bound(s->block, n, key);
	return AI_OK;
}
