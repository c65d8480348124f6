/* state.c: the archive state's partition summary and hour indexes: folding
 * committed segments in, and which segments a delivery or event window
 * needs.
 *
 * Index semantics (floor_hour, ai_state_hour here, rounds down to a
 * multiple of one hour): a segment's seq is listed under by_delivery hour
 * H when one of its members has floor_hour(delivery_hour) == H; under
 * by_event hour H when a member with has_time has floor_hour(min_event)
 * <= H <= floor_hour(max_event), unless that spans more than 72 hours, in
 * which case the seq goes to "wide" instead. Members without event times
 * are in no event hour, so event-time queries do not find them (queries
 * without a time window do). A query for [from, to) takes the entries
 * with floor_hour(from) <= hour < to, plus, for event time, every wide
 * seq. Per part (app, type): last_event = max(max_event) over members
 * with has_time (0 if none), members and rows are sums; archived_through
 * and the counts of failed, pending and quarantined blobs are not derived
 * from segments but set by the run that looked at the part (run.c,
 * update_partitions), so folding leaves them alone. max_lag =
 * max(floor_hour(delivery_hour) + 1h - min_event) over members with
 * has_time, never below 0. */
#include <stdlib.h>
#include <string.h>
#include "format/manifest_int.h"
#include "format/state.h"
#include "util/alloc.h"

#define HOUR (INT64_C(3600) * AI_NS_PER_SEC)
#define WIDE_HOURS 72

/* Times from storage may be anything; keep hour arithmetic in range. */
ai_time ai_state_hour(ai_time t)
{
	if (t < AI_TIME_MIN + 2 * HOUR)
		t = AI_TIME_MIN + 2 * HOUR;
	else if (t > AI_TIME_MAX - 2 * HOUR)
		t = AI_TIME_MAX - 2 * HOUR;
	return ai_time_hour(t);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- lifecycle ---- */

void ai_state_init(struct ai_state *st)
{
	memset(st, 0, sizeof *st);
	st->last_run_exit = -1;
}

static void entries_free(struct ai_hour_entry *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].seqs);
	free(v);
}

static void q_free(struct ai_quarantine_entry *q)
{
	free(q->name);
	free(q->reason);
	free(q->app);
	free(q->type);
}

static void quarantined_free(struct ai_quarantine_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		q_free(&v[i]);
	free(v);
}

static void tails_free(struct ai_tail_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].name);
	free(v);
}

void ai_state_release(struct ai_state *st)
{
	if (!st)
		return;
	free(st->last_run_id);
	free(st->last_run_result);
	free(st->source);
	free(st->layout);
	for (size_t i = 0; i < st->nparts; i++) {
		free(st->parts[i].app);
		free(st->parts[i].type);
	}
	free(st->parts);
	entries_free(st->by_delivery, st->nby_delivery);
	entries_free(st->by_event, st->nby_event);
	free(st->wide_seqs);
	quarantined_free(st->quarantined, st->nquarantined);
	tails_free(st->tails, st->ntails);
	for (size_t i = 0; i < st->nshards; i++) {
		free(st->shards[i].last_run_id);
		free(st->shards[i].last_run_result);
	}
	free(st->shards);
	ai_state_init(st);
}

static int shard_cmp(uint32_t index, uint32_t count, const struct ai_shard_state *e)
{
	if (count != e->count)
		return count < e->count ? -1 : 1;
	return index < e->index ? -1 : index > e->index;
}

struct ai_shard_state *ai_state_find_shard(const struct ai_state *st, uint32_t index,
                                           uint32_t count)
{
	for (size_t i = 0; i < st->nshards; i++)
		if (shard_cmp(index, count, &st->shards[i]) == 0)
			return &st->shards[i];
	return NULL;
}

ai_result ai_state_add_shard(struct ai_state *st, uint32_t index, uint32_t count,
                             struct ai_shard_state **out)
{
	size_t at = 0;
	ai_result r;

	if ((*out = ai_state_find_shard(st, index, count)))
		return AI_OK;
	if (st->nshards >= AI_STATE_MAX_SHARDS)
		return AI_ERR_TOO_BIG;
	while (at < st->nshards && shard_cmp(index, count, &st->shards[at]) > 0)
		at++;
	r = ai_grow_uncounted(&st->shards, st->nshards, sizeof *st->shards);
	if (r != AI_OK)
		return r;
	memmove(st->shards + at + 1, st->shards + at, (st->nshards - at) * sizeof *st->shards);
	st->nshards++;
	*out = &st->shards[at];
	memset(*out, 0, sizeof **out);
	(*out)->index = index;
	(*out)->count = count;
	(*out)->last_run_exit = -1;
	return AI_OK;
}

void ai_state_drop_shard(struct ai_state *st, size_t i)
{
	free(st->shards[i].last_run_id);
	free(st->shards[i].last_run_result);
	memmove(st->shards + i, st->shards + i + 1, (st->nshards - i - 1) * sizeof *st->shards);
	st->nshards--;
}

/* ---- folding segments in ---- */

int ai_state_part_cmp(const char *app, const char *type, const struct ai_partition_state *p)
{
	int c = strcmp(app, p->app ? p->app : "");

	return c ? c : strcmp(type, p->type ? p->type : "");
}

/* The index of the part of app and type, or where it would go (*found 0). */
static size_t part_index(const struct ai_state *st, const char *app, const char *type,
                         int *found)
{
	size_t lo = 0, hi = st->nparts;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ai_state_part_cmp(app, type, &st->parts[mid]);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct ai_partition_state *ai_state_find_part(const struct ai_state *st, const char *app,
                                              const char *type)
{
	int found;
	size_t i = part_index(st, app ? app : "", type ? type : "", &found);

	return found ? &st->parts[i] : NULL;
}

ai_result ai_state_add_part(struct ai_state *st, const char *app, const char *type,
                            struct ai_partition_state **out)
{
	struct ai_partition_state *p;
	size_t lo;
	int found;
	ai_result r;

	app = app ? app : "";
	type = type ? type : "";
	lo = part_index(st, app, type, &found);
	if (found) {
		*out = &st->parts[lo];
		return AI_OK;
	}
	r = ai_grow_uncounted(&st->parts, st->nparts, sizeof *st->parts);
	if (r != AI_OK)
		return r;
	p = &st->parts[lo];
	memmove(p + 1, p, (st->nparts - lo) * sizeof *p);
	memset(p, 0, sizeof *p);
	st->nparts++;
	p->app = strdup(app);
	p->type = strdup(type);
	if (!p->app || !p->type)
		return AI_ERR_NOMEM;
	*out = p;
	return AI_OK;
}

/* First entry whose hour is >= hour. */
static size_t lower_bound(const struct ai_hour_entry *v, size_t n, ai_time hour)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].hour < hour)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Appends seq to a strictly ascending list unless it is already last
 * (segments arrive in order, so a seq is never older than the last). */
static ai_result seqs_add(uint64_t **v, size_t *n, uint64_t seq)
{
	ai_result r;

	if (*n && (*v)[*n - 1] >= seq)
		return AI_OK;
	r = ai_grow_uncounted(v, *n, sizeof **v);
	if (r != AI_OK)
		return r;
	(*v)[(*n)++] = seq;
	return AI_OK;
}

static ai_result index_add(struct ai_hour_entry **v, size_t *n, ai_time hour, uint64_t seq)
{
	size_t i = lower_bound(*v, *n, hour);
	struct ai_hour_entry *e;
	ai_result r;

	if (i == *n || (*v)[i].hour != hour) {
		r = ai_grow_uncounted(v, *n, sizeof **v);
		if (r != AI_OK)
			return r;
		e = &(*v)[i];
		memmove(e + 1, e, (*n - i) * sizeof *e);
		e->hour = hour;
		e->seqs = NULL;
		e->nseqs = 0;
		(*n)++;
	}
	e = &(*v)[i];
	return seqs_add(&e->seqs, &e->nseqs, seq);
}

static ai_result fold_member(struct ai_state *st, const struct ai_member *m, uint64_t seq)
{
	struct ai_partition_state *p;
	ai_time dh, through, f0, f1;
	ai_result r;

	r = ai_state_add_part(st, m->app, m->type, &p);
	if (r != AI_OK)
		return r;
	p->members = add_sat(p->members, 1);
	p->rows = add_sat(p->rows, m->rows);
	dh = ai_state_hour(m->delivery_hour);
	through = dh + HOUR;
	r = index_add(&st->by_delivery, &st->nby_delivery, dh, seq);
	if (r != AI_OK || !m->has_time)
		return r;

	if (m->max_event > p->last_event)
		p->last_event = m->max_event;
	if (m->min_event < through) {
		uint64_t lag = (uint64_t)through - (uint64_t)m->min_event;

		if (lag > (uint64_t)AI_TIME_MAX)
			lag = (uint64_t)AI_TIME_MAX;
		if ((ai_time)lag > st->max_lag)
			st->max_lag = (ai_time)lag;
	}
	f0 = ai_state_hour(m->min_event);
	f1 = ai_state_hour(m->max_event);
	if (((uint64_t)f1 - (uint64_t)f0) / (uint64_t)HOUR + 1 > WIDE_HOURS)
		return seqs_add(&st->wide_seqs, &st->nwide, seq);
	for (ai_time h = f0; h <= f1; h += HOUR) {
		r = index_add(&st->by_event, &st->nby_event, h, seq);
		if (r != AI_OK)
			return r;
	}
	return AI_OK;
}

ai_result ai_state_add_segment(struct ai_state *st, const struct ai_segment *seg,
                               const uint8_t sha256[AI_SHA256_LEN])
{
	ai_result r;

	if (seg->seq != st->next_seq || seg->seq == UINT64_MAX)
		return AI_ERR_BAD_INPUT;
	if (memcmp(seg->prev, st->head_sha256, AI_SHA256_LEN))
		return AI_ERR_VERIFY;
	r = ai_segment_check(seg, NULL, 0);
	if (r != AI_OK)
		return r;
	for (size_t i = 0; i < seg->nmembers; i++) {
		r = fold_member(st, &seg->members[i], seg->seq);
		if (r != AI_OK)
			return r;
	}
	if (seg->layout && *seg->layout && !(st->layout && strcmp(st->layout, seg->layout) == 0)) {
		char *l = strdup(seg->layout);
		if (!l)
			return AI_ERR_NOMEM;
		free(st->layout);
		st->layout = l;
	}
	st->next_seq = seg->seq + 1;
	memcpy(st->head_sha256, sha256, AI_SHA256_LEN);
	return AI_OK;
}

/* ---- queries ---- */

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static ai_result collect(const struct ai_hour_entry *v, size_t nv, const uint64_t *extra,
                         size_t nextra, ai_time from, ai_time to, uint64_t **seqs,
                         size_t *n)
{
	size_t lo, hi, total = nextra, k = 0;
	uint64_t *out;

	*seqs = NULL;
	*n = 0;
	if (to <= from)
		return AI_OK;
	lo = lower_bound(v, nv, ai_state_hour(from));
	for (hi = lo; hi < nv && v[hi].hour < to; hi++)
		total += v[hi].nseqs;
	if (!total)
		return AI_OK;
	out = malloc(total * sizeof *out);
	if (!out)
		return AI_ERR_NOMEM;
	for (size_t i = lo; i < hi; i++) {
		memcpy(out + k, v[i].seqs, v[i].nseqs * sizeof *out);
		k += v[i].nseqs;
	}
	if (nextra)
		memcpy(out + k, extra, nextra * sizeof *out);
	qsort(out, total, sizeof *out, u64_cmp);
	k = 0;
	for (size_t i = 0; i < total; i++)
		if (k == 0 || out[k - 1] != out[i])
			out[k++] = out[i];
	*seqs = out;
	*n = k;
	return AI_OK;
}

ai_result ai_state_segments_by_delivery(const struct ai_state *st, ai_time from, ai_time to,
                                        uint64_t **seqs, size_t *n)
{
	return collect(st->by_delivery, st->nby_delivery, NULL, 0, from, to, seqs, n);
}

ai_result ai_state_segments_by_event(const struct ai_state *st, ai_time from, ai_time to,
                                     uint64_t **seqs, size_t *n)
{
	return collect(st->by_event, st->nby_event, st->wide_seqs, st->nwide, from, to, seqs,
	               n);
}

/* ---- what runs remember of the source ---- */

static int q_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ai_quarantine_entry *)a)->name,
	              ((const struct ai_quarantine_entry *)b)->name);
}

/* Newest last_seen first. */
static int q_age_cmp(const void *a, const void *b)
{
	const struct ai_quarantine_entry *x = a, *y = b;

	if (x->last_seen != y->last_seen)
		return x->last_seen > y->last_seen ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int t_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ai_tail_entry *)a)->name,
	              ((const struct ai_tail_entry *)b)->name);
}

static int t_age_cmp(const void *a, const void *b)
{
	const struct ai_tail_entry *x = a, *y = b;

	if (x->seen != y->seen)
		return x->seen > y->seen ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Index of name in v[0..n) (ascending by the name at the start of each
 * element of size bytes), or n. */
static size_t find_name(const void *v, size_t n, size_t size, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, *(char *const *)((const char *)v + mid * size));
		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return n;
}

static int q_copy(struct ai_quarantine_entry *to, const struct ai_quarantine_entry *from)
{
	int blob = from->app && from->type;

	*to = *from;
	to->name = strdup(from->name ? from->name : "");
	to->reason = strdup(from->reason ? from->reason : "");
	to->app = blob ? strdup(from->app) : NULL;
	to->type = blob ? strdup(from->type) : NULL;
	return to->name && to->reason && (!blob || (to->app && to->type));
}

ai_result ai_state_merge_quarantined(struct ai_state *st, const struct ai_quarantine_entry *found,
                                     size_t n, ai_state_covered_fn covered, const void *ctx)
{
	size_t cap = st->nquarantined + n, k = 0, nf;
	struct ai_quarantine_entry *v = cap ? calloc(cap, sizeof *v) : NULL;

	if (cap && !v)
		return AI_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		if (!q_copy(&v[k++], &found[i]))
			goto nomem;
	if (k > 1)
		qsort(v, k, sizeof *v, q_name_cmp);
	nf = 0; /* one entry per name */
	for (size_t i = 0; i < k; i++) {
		if (nf && strcmp(v[i].name, v[nf - 1].name) == 0) {
			q_free(&v[i]);
			continue;
		}
		v[nf++] = v[i];
	}
	k = nf;
	for (size_t i = 0; i < st->nquarantined; i++) {
		const struct ai_quarantine_entry *e = &st->quarantined[i];
		size_t at = find_name(v, nf, sizeof *v, e->name);
		if (at < nf) {
			v[at].first_seen = e->first_seen;
			continue;
		}
		if (covered && covered(ctx, e->name, e->hour))
			continue;
		if (!q_copy(&v[k++], e))
			goto nomem;
	}
	if (k > AI_STATE_MAX_QUARANTINED) {
		qsort(v, k, sizeof *v, q_age_cmp);
		for (size_t i = AI_STATE_MAX_QUARANTINED; i < k; i++)
			q_free(&v[i]);
		k = AI_STATE_MAX_QUARANTINED;
	}
	if (k > 1)
		qsort(v, k, sizeof *v, q_name_cmp);
	quarantined_free(st->quarantined, st->nquarantined);
	st->quarantined = k ? v : NULL;
	st->nquarantined = k;
	if (!k)
		free(v);
	return AI_OK;
nomem:
	quarantined_free(v, k);
	return AI_ERR_NOMEM;
}

ai_result ai_state_merge_tails(struct ai_state *st, const struct ai_tail_entry *found, size_t n,
                               ai_state_covered_fn covered, const void *ctx)
{
	size_t cap = st->ntails + n, k = 0, nf;
	struct ai_tail_entry *v = cap ? calloc(cap, sizeof *v) : NULL;

	if (cap && !v)
		return AI_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		v[k] = found[i];
		if (!(v[k++].name = strdup(found[i].name ? found[i].name : "")))
			goto nomem;
	}
	if (k > 1)
		qsort(v, k, sizeof *v, t_name_cmp);
	nf = 0;
	for (size_t i = 0; i < k; i++) {
		if (nf && strcmp(v[i].name, v[nf - 1].name) == 0)
			free(v[i].name);
		else
			v[nf++] = v[i];
	}
	k = nf;
	for (size_t i = 0; i < st->ntails; i++) {
		const struct ai_tail_entry *e = &st->tails[i];
		if (find_name(v, nf, sizeof *v, e->name) < nf)
			continue;
		if (covered && covered(ctx, e->name, e->hour))
			continue;
		v[k] = *e;
		if (!(v[k++].name = strdup(e->name)))
			goto nomem;
	}
	if (k > AI_STATE_MAX_TAILS) {
		qsort(v, k, sizeof *v, t_age_cmp);
		for (size_t i = AI_STATE_MAX_TAILS; i < k; i++)
			free(v[i].name);
		k = AI_STATE_MAX_TAILS;
	}
	if (k > 1)
		qsort(v, k, sizeof *v, t_name_cmp);
	tails_free(st->tails, st->ntails);
	st->tails = k ? v : NULL;
	st->ntails = k;
	if (!k)
		free(v);
	return AI_OK;
nomem:
	tails_free(v, k);
	return AI_ERR_NOMEM;
}

const struct ai_tail_entry *ai_state_find_tail(const struct ai_state *st, const char *name)
{
	size_t at = find_name(st->tails, st->ntails, sizeof *st->tails, name);

	return at < st->ntails ? &st->tails[at] : NULL;
}
