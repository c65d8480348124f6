/* manifest.c: the manifest objects in memory: segments and their checks,
 * the state's partition summary and hour indexes, segment indexes.
 *
 * Index semantics (floor_hour rounds down to a multiple of one hour): a
 * segment's seq is listed under by_delivery hour H when one of its members
 * has floor_hour(delivery_hour) == H; under by_event hour H when a member
 * with has_time has floor_hour(min_event) <= H <= floor_hour(max_event),
 * unless that spans more than 72 hours, in which case the seq goes to
 * "wide" instead. Members without event times are in no event hour, so
 * event-time queries do not find them (queries without a time window do).
 * A query for [from, to) takes the entries with floor_hour(from) <= hour <
 * to, plus, for event time, every wide seq. Per part (app, type):
 * archived_through = max(floor_hour(delivery_hour) + 1h), last_event =
 * max(max_event) over members with has_time (0 if none), members and rows
 * are sums. max_lag = max(floor_hour(delivery_hour) + 1h - min_event) over
 * members with has_time, never below 0. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format/manifest.h"
#include "format/manifest_int.h"
#include "util/grow.h"

#define HOUR (INT64_C(3600) * AI_NS_PER_SEC)
#define WIDE_HOURS 72

/* ---- small helpers ---- */

static char *dup_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

ai_result ai_manifest_memdup(const void *p, size_t n, uint8_t **out)
{
	*out = NULL;
	if (!n)
		return AI_OK;
	*out = malloc(n);
	if (!*out)
		return AI_ERR_NOMEM;
	memcpy(*out, p, n);
	return AI_OK;
}

static void free_strs(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static ai_result dup_strs(char *const *v, size_t n, char ***out)
{
	*out = NULL;
	if (!n)
		return AI_OK;
	*out = calloc(n, sizeof **out);
	if (!*out)
		return AI_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		(*out)[i] = strdup(v[i] ? v[i] : "");
		if (!(*out)[i]) {
			free_strs(*out, n);
			*out = NULL;
			return AI_ERR_NOMEM;
		}
	}
	return AI_OK;
}

ai_result ai_manifest_bad(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (why && cap) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return AI_ERR_BAD_INPUT;
}

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

/* ---- segments: lifecycle ---- */

void ai_segment_init(struct ai_segment *seg)
{
	memset(seg, 0, sizeof *seg);
}

void ai_member_release(struct ai_member *m)
{
	if (!m)
		return;
	free(m->blob);
	free(m->app);
	free(m->type);
	free_strs(m->roles, m->nroles);
	free(m->bloom);
	memset(m, 0, sizeof *m);
}

void ai_segment_release(struct ai_segment *seg)
{
	if (!seg)
		return;
	free(seg->run_id);
	free(seg->key_id);
	free_strs(seg->tags, seg->ntags);
	free(seg->source);
	free(seg->layout);
	for (size_t i = 0; i < seg->npacks; i++)
		free(seg->packs[i].name);
	free(seg->packs);
	for (size_t i = 0; i < seg->nmembers; i++)
		ai_member_release(&seg->members[i]);
	free(seg->members);
	memset(seg, 0, sizeof *seg);
}

ai_result ai_segment_add_member(struct ai_segment *seg, const struct ai_member *m)
{
	struct ai_member *d;
	ai_result r;

	if (seg->nmembers >= AI_MANIFEST_MAX_MEMBERS)
		return AI_ERR_TOO_BIG;
	r = ai_grow(&seg->members, seg->nmembers, sizeof *seg->members);
	if (r != AI_OK)
		return r;
	d = &seg->members[seg->nmembers];
	*d = *m;
	d->blob = dup_str(m->blob);
	d->app = dup_str(m->app);
	d->type = dup_str(m->type);
	d->roles = NULL;
	d->bloom = NULL;
	r = AI_ERR_NOMEM;
	if ((m->blob && !d->blob) || (m->app && !d->app) || (m->type && !d->type))
		goto fail;
	if (m->nroles && !m->roles)
		goto fail_input;
	r = dup_strs(m->roles, m->nroles, &d->roles);
	if (r != AI_OK)
		goto fail;
	if (m->bloom_len && !m->bloom)
		goto fail_input;
	r = ai_manifest_memdup(m->bloom, m->bloom_len, &d->bloom);
	if (r != AI_OK)
		goto fail;
	seg->nmembers++;
	return AI_OK;
fail_input:
	r = AI_ERR_BAD_INPUT;
fail:
	d->nroles = d->roles ? d->nroles : 0;
	ai_member_release(d);
	return r;
}

ai_result ai_segment_add_pack(struct ai_segment *seg, const struct ai_pack_ref *p,
                              uint32_t *index)
{
	struct ai_pack_ref *d;
	ai_result r;

	if (seg->npacks >= UINT32_MAX)
		return AI_ERR_TOO_BIG;
	r = ai_grow(&seg->packs, seg->npacks, sizeof *seg->packs);
	if (r != AI_OK)
		return r;
	d = &seg->packs[seg->npacks];
	*d = *p;
	d->name = dup_str(p->name);
	if (p->name && !d->name)
		return AI_ERR_NOMEM;
	if (index)
		*index = (uint32_t)seg->npacks;
	seg->npacks++;
	return AI_OK;
}

/* ---- segments: consistency ---- */

static const char *check_str(const char *s)
{
	if (s && strlen(s) > AI_MANIFEST_MAX_STRING)
		return "too long";
	return NULL;
}

/* strings: 0 when the decoder has already bounded every string. */
static ai_result check_member(const struct ai_segment *seg, size_t i, int strings, char *why,
                              size_t cap)
{
	const struct ai_member *m = &seg->members[i];
	const struct ai_pack_ref *p;
	const char *e;

	if (!strings)
		goto values;
	if ((e = check_str(m->blob)))
		return ai_manifest_bad(why, cap, "member %zu: blob: %s", i, e);
	if (strnlen(m->etag, sizeof m->etag) >= sizeof m->etag)
		return ai_manifest_bad(why, cap, "member %zu: etag: too long", i);
	if ((e = check_str(m->app)))
		return ai_manifest_bad(why, cap, "member %zu: app: %s", i, e);
	if ((e = check_str(m->type)))
		return ai_manifest_bad(why, cap, "member %zu: type: %s", i, e);
	if (m->nroles > AI_MEMBER_MAX_ROLES)
		return ai_manifest_bad(why, cap, "member %zu: more than %d roles", i,
		                       AI_MEMBER_MAX_ROLES);
	if (m->nroles && !m->roles)
		return ai_manifest_bad(why, cap, "member %zu: roles missing", i);
	for (size_t j = 0; j < m->nroles; j++)
		if ((e = check_str(m->roles[j])))
			return ai_manifest_bad(why, cap, "member %zu: role %zu: %s", i, j, e);
	if (m->bloom_len > AI_BLOOM_MAX_BYTES)
		return ai_manifest_bad(why, cap, "member %zu: bloom filter of %zu bytes", i,
		                       m->bloom_len);
	if (m->bloom_len && !m->bloom)
		return ai_manifest_bad(why, cap, "member %zu: bloom filter missing", i);
values:
	if (m->range_start > m->range_end)
		return ai_manifest_bad(why, cap, "member %zu: range start %llu after end %llu", i,
		                       (unsigned long long)m->range_start,
		                       (unsigned long long)m->range_end);
	if (m->pack >= seg->npacks)
		return ai_manifest_bad(why, cap, "member %zu: pack index %u out of range", i,
		                       m->pack);
	p = &seg->packs[m->pack];
	if (m->length > p->size || m->offset > p->size - m->length)
		return ai_manifest_bad(why, cap,
		                       "member %zu: bytes %llu+%llu past the end of pack %u", i,
		                       (unsigned long long)m->offset,
		                       (unsigned long long)m->length, m->pack);
	if (m->has_time && m->min_event > m->max_event)
		return ai_manifest_bad(why, cap, "member %zu: min_event after max_event", i);
	return AI_OK;
}

static ai_result check_segment(const struct ai_segment *seg, int strings, char *why,
                               size_t cap)
{
	const char *e;
	ai_result r;

	if (!strings)
		goto members;
	if ((e = check_str(seg->run_id)))
		return ai_manifest_bad(why, cap, "run: %s", e);
	if ((e = check_str(seg->key_id)))
		return ai_manifest_bad(why, cap, "key_id: %s", e);
	if ((e = check_str(seg->source)))
		return ai_manifest_bad(why, cap, "source: %s", e);
	if ((e = check_str(seg->layout)))
		return ai_manifest_bad(why, cap, "layout: %s", e);
	if (seg->ntags && !seg->tags)
		return ai_manifest_bad(why, cap, "tags missing");
	for (size_t i = 0; i < seg->ntags; i++)
		if ((e = check_str(seg->tags[i])))
			return ai_manifest_bad(why, cap, "tag %zu: %s", i, e);
	if (seg->npacks && !seg->packs)
		return ai_manifest_bad(why, cap, "packs missing");
	for (size_t i = 0; i < seg->npacks; i++)
		if ((e = check_str(seg->packs[i].name)))
			return ai_manifest_bad(why, cap, "pack %zu: name: %s", i, e);
members:
	if (seg->nmembers > AI_MANIFEST_MAX_MEMBERS)
		return ai_manifest_bad(why, cap, "too many members (%zu)", seg->nmembers);
	if (seg->nmembers && !seg->members)
		return ai_manifest_bad(why, cap, "members missing");
	for (size_t i = 0; i < seg->nmembers; i++) {
		r = check_member(seg, i, strings, why, cap);
		if (r != AI_OK)
			return r;
	}
	return AI_OK;
}

ai_result ai_segment_check(const struct ai_segment *seg, char *why, size_t cap)
{
	return check_segment(seg, 1, why, cap);
}

ai_result ai_segment_check_values(const struct ai_segment *seg, char *why, size_t cap)
{
	return check_segment(seg, 0, why, cap);
}

/* ---- state: lifecycle ---- */

void ai_state_init(struct ai_state *st)
{
	memset(st, 0, sizeof *st);
}

static void entries_free(struct ai_hour_entry *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].seqs);
	free(v);
}

void ai_state_release(struct ai_state *st)
{
	if (!st)
		return;
	free(st->last_run_id);
	free(st->last_run_result);
	free(st->source);
	for (size_t i = 0; i < st->nparts; i++) {
		free(st->parts[i].app);
		free(st->parts[i].type);
	}
	free(st->parts);
	entries_free(st->by_delivery, st->nby_delivery);
	entries_free(st->by_event, st->nby_event);
	free(st->wide_seqs);
	memset(st, 0, sizeof *st);
}

/* ---- state: folding segments in ---- */

int ai_state_part_cmp(const char *app, const char *type, const struct ai_partition_state *p)
{
	int c = strcmp(app, p->app ? p->app : "");

	return c ? c : strcmp(type, p->type ? p->type : "");
}

static ai_result find_part(struct ai_state *st, const char *app, const char *type,
                           struct ai_partition_state **out)
{
	size_t lo = 0, hi = st->nparts;
	struct ai_partition_state *p;
	ai_result r;

	app = app ? app : "";
	type = type ? type : "";
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ai_state_part_cmp(app, type, &st->parts[mid]);

		if (c == 0) {
			*out = &st->parts[mid];
			return AI_OK;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	r = ai_grow(&st->parts, st->nparts, sizeof *st->parts);
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
	r = ai_grow(v, *n, sizeof **v);
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
		r = ai_grow(v, *n, sizeof **v);
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

	r = find_part(st, m->app, m->type, &p);
	if (r != AI_OK)
		return r;
	p->members = add_sat(p->members, 1);
	p->rows = add_sat(p->rows, m->rows);
	dh = ai_state_hour(m->delivery_hour);
	through = dh + HOUR;
	if (through > p->archived_through)
		p->archived_through = through;
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
	st->next_seq = seg->seq + 1;
	memcpy(st->head_sha256, sha256, AI_SHA256_LEN);
	return AI_OK;
}

/* ---- state: queries ---- */

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

/* ---- segment indexes ---- */

void ai_segment_index_init(struct ai_segment_index *x)
{
	memset(x, 0, sizeof *x);
}

void ai_segment_index_release(struct ai_segment_index *x)
{
	if (!x)
		return;
	free_strs(x->apps, x->napps);
	free_strs(x->types, x->ntypes);
	free_strs(x->roles, x->nroles);
	free(x->bloom);
	memset(x, 0, sizeof *x);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A growing list of distinct names: collected, then sorted and deduplicated
 * by names_finish. Past the limit it stops (*full set). */
struct names {
	char **v;
	size_t n;
	int full;
};

static ai_result names_add(struct names *l, const char *s)
{
	if (l->full)
		return AI_OK;
	/* Members of one segment share their app and type: a cheap repeat
	 * check keeps the list short before sorting. */
	if (l->n && strcmp(l->v[l->n - 1], s ? s : "") == 0)
		return AI_OK;
	if (l->n == 4 * AI_SEGINDEX_MAX_NAMES) {
		l->full = 1;
		return AI_OK;
	}
	if (ai_grow(&l->v, l->n, sizeof *l->v) != AI_OK)
		return AI_ERR_NOMEM;
	if (!(l->v[l->n] = strdup(s ? s : "")))
		return AI_ERR_NOMEM;
	l->n++;
	return AI_OK;
}

static void names_finish(struct names *l, char ***out, size_t *n)
{
	size_t k = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof *l->v, str_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (k && strcmp(l->v[k - 1], l->v[i]) == 0)
			free(l->v[i]);
		else
			l->v[k++] = l->v[i];
	}
	if (k > AI_SEGINDEX_MAX_NAMES) {
		for (size_t i = AI_SEGINDEX_MAX_NAMES; i < k; i++)
			free(l->v[i]);
		k = AI_SEGINDEX_MAX_NAMES;
		l->full = 1;
	}
	*out = l->v;
	*n = k;
}

ai_result ai_segment_index_build(const struct ai_segment *seg,
                                 const uint8_t sha256[AI_SHA256_LEN],
                                 const uint8_t *bloom, size_t bloom_len,
                                 struct ai_segment_index *out)
{
	struct names apps = { 0 }, types = { 0 }, roles = { 0 };
	int roles_capped = 0;
	ai_result r = AI_OK;

	ai_segment_index_init(out);
	out->seq = seg->seq;
	memcpy(out->segment_sha256, sha256, AI_SHA256_LEN);
	out->members = seg->nmembers;
	for (size_t i = 0; i < seg->nmembers && r == AI_OK; i++) {
		const struct ai_member *m = &seg->members[i];
		r = names_add(&apps, m->app);
		if (r == AI_OK)
			r = names_add(&types, m->type);
		for (size_t k = 0; k < m->nroles && r == AI_OK; k++)
			r = names_add(&roles, m->roles[k]);
		if (m->nroles >= AI_MEMBER_MAX_ROLES)
			roles_capped = 1;
	}
	names_finish(&apps, &out->apps, &out->napps);
	names_finish(&types, &out->types, &out->ntypes);
	names_finish(&roles, &out->roles, &out->nroles);
	/* An app or type list cut short would hide members; refuse instead. */
	if (r == AI_OK && (apps.full || types.full))
		r = AI_ERR_TOO_BIG;
	out->roles_complete = !roles.full && !roles_capped;
	if (r == AI_OK && bloom_len > AI_SEGINDEX_MAX_BLOOM)
		r = AI_ERR_BAD_INPUT;
	if (r == AI_OK && bloom_len) {
		r = ai_manifest_memdup(bloom, bloom_len, &out->bloom);
		out->bloom_len = r == AI_OK ? bloom_len : 0;
	}
	if (r != AI_OK)
		ai_segment_index_release(out);
	return r;
}
