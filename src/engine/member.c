/* member.c: line splitting, row facts and compression for one member. */
#include <stdlib.h>
#include <string.h>
#include "format/bloom.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "engine/member.h"

#define MAX_LINE AI_MEMBER_MAX_LINE /* a row of telemetry is a few KiB */
#define MAX_ROLES 16
#define MAX_IDS (1u << 18)       /* more distinct ids: no filter (matches all) */

struct ai_member_builder {
	struct ai_gz_writer *gz;
	struct ai_hash sha;
	int sha_live;
	enum ai_row_schema schema;
	struct ai_buf carry;         /* the unfinished last line */
	int giant;                   /* inside an over-long line already emitted */
	uint64_t fed, raw;
	uint64_t rows, bad;
	int has_time;
	ai_time min, max;
	char *roles[MAX_ROLES];
	size_t nroles;
	/* Workspace export: the apps of the rows (ARCHITECTURE.md §4). */
	char **apps;
	size_t napps, last_app;
	int apps_over;               /* more than AI_MEMBER_MAX_APPS */
	int unnamed;                 /* a row names no app */
	const char *app;             /* theirs (ai_member_set_app) */
	struct ai_idset ids;         /* operation ids seen */
	int last_nl;                 /* the last byte emitted was '\n' */
	ai_result err;
};

ai_result ai_member_builder_new(struct ai_member_builder **out, int level)
{
	struct ai_member_builder *b = calloc(1, sizeof *b);
	ai_result r;

	*out = NULL;
	if (!b)
		return AI_ERR_NOMEM;
	ai_buf_init(&b->carry, MAX_LINE);
	ai_idset_init(&b->ids, MAX_IDS);
	r = ai_gz_writer_new(&b->gz, level, NULL, 0, NULL, NULL);
	if (r != AI_OK) {
		ai_member_builder_free(b);
		return r;
	}
	*out = b;
	return AI_OK;
}

static void clear_sets(struct ai_member_builder *b)
{
	for (size_t i = 0; i < b->nroles; i++)
		free(b->roles[i]);
	b->nroles = 0;
	for (size_t i = 0; i < b->napps; i++)
		free(b->apps[i]);
	b->napps = b->last_app = 0;
	b->apps_over = b->unnamed = 0;
	b->app = NULL;
	ai_idset_clear(&b->ids);
}

void ai_member_builder_trim(struct ai_member_builder *b)
{
	if (b->carry.alloc > (64u << 10)) {
		ai_buf_release(&b->carry);
		ai_buf_init(&b->carry, MAX_LINE);
	}
	if (b->ids.cap > 8192)
		ai_idset_release(&b->ids);
}

void ai_member_builder_free(struct ai_member_builder *b)
{
	if (!b)
		return;
	clear_sets(b);
	free(b->apps);
	ai_idset_release(&b->ids);
	if (b->sha_live)
		ai_hash_release(&b->sha);
	ai_buf_release(&b->carry);
	ai_gz_writer_free(b->gz);
	free(b);
}

ai_result ai_member_begin(struct ai_member_builder *b, const char *name, ai_time mtime,
                          enum ai_row_schema schema, ai_gz_sink sink, void *ctx)
{
	ai_result r;

	clear_sets(b);
	ai_buf_reset(&b->carry);
	b->giant = 0;
	b->fed = b->raw = b->rows = b->bad = 0;
	b->has_time = 0;
	b->min = b->max = 0;
	b->last_nl = 1;
	b->err = AI_OK;
	b->schema = schema;
	if (b->sha_live)
		ai_hash_release(&b->sha);
	b->sha_live = 0;
	r = ai_hash_init(&b->sha, AI_HASH_SHA256);
	if (r != AI_OK)
		return r;
	b->sha_live = 1;
	ai_gz_writer_set_sink(b->gz, sink, ctx);
	return ai_gz_writer_reset(b->gz, name, mtime / AI_NS_PER_SEC);
}

static void emit(struct ai_member_builder *b, const char *p, size_t n)
{
	if (b->err != AI_OK || n == 0)
		return;
	b->err = ai_gz_writer_write(b->gz, p, n);
	if (b->err == AI_OK)
		b->err = ai_hash_update(&b->sha, p, n);
	b->raw += n;
	b->last_nl = p[n - 1] == '\n';
}

static void add_id(struct ai_member_builder *b, const char *id)
{
	ai_idset_add(&b->ids, ai_bloom_hash(id, strlen(id)));
}

static void add_role(struct ai_member_builder *b, const char *role)
{
	for (size_t i = 0; i < b->nroles; i++)
		if (strcmp(b->roles[i], role) == 0)
			return;
	if (b->nroles < MAX_ROLES && (b->roles[b->nroles] = strdup(role)))
		b->nroles++;
}

static void add_app(struct ai_member_builder *b, const char *app)
{
	char *d;

	if (b->apps_over)
		return;
	if (b->last_app < b->napps && strcmp(b->apps[b->last_app], app) == 0)
		return;
	for (size_t i = 0; i < b->napps; i++)
		if (strcmp(b->apps[i], app) == 0) {
			b->last_app = i;
			return;
		}
	if (b->napps == AI_MEMBER_MAX_APPS) {
		b->apps_over = 1;
		return;
	}
	if (!b->apps && !(b->apps = malloc(AI_MEMBER_MAX_APPS * sizeof *b->apps))) {
		b->err = AI_ERR_NOMEM;
		return;
	}
	if (!(d = strdup(app))) {
		b->err = AI_ERR_NOMEM;
		return;
	}
	b->last_app = b->napps;
	b->apps[b->napps++] = d;
}

void ai_member_set_app(struct ai_member_builder *b, const char *app)
{
	b->app = app;
}

/* One line without its '\n'. Blank lines are neither rows nor bad rows. */
static void scan_line(struct ai_member_builder *b, const char *p, size_t n)
{
	struct ai_row_facts f;
	size_t i;

	if (n && p[n - 1] == '\r')
		n--;
	for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'); i++)
		;
	if (i == n)
		return;
	b->rows++;
	ai_row_scan(p, n, b->schema, &f);
	if (!f.valid) {
		b->bad++;
		return;
	}
	if (f.has_time) {
		if (!b->has_time || f.event_time < b->min)
			b->min = f.event_time;
		if (!b->has_time || f.event_time > b->max)
			b->max = f.event_time;
		b->has_time = 1;
	}
	if (f.op_id[0])
		add_id(b, f.op_id);
	if (f.role[0])
		add_role(b, f.role);
	if (b->schema != AI_SCHEMA_WORKSPACE)
		return;
	if (f.app[0])
		add_app(b, f.app);
	else
		b->unnamed = 1;
}

/* Lines wholly inside p[0..n) (n ends just after a '\n'). */
static void scan_lines(struct ai_member_builder *b, const char *p, size_t n)
{
	const char *end = p + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		scan_line(b, p, (size_t)(nl - p));
		p = nl + 1;
	}
}

ai_result ai_member_feed(struct ai_member_builder *b, const void *data, size_t n)
{
	const char *p = data;

	b->fed += n;
	while (n && b->err == AI_OK) {
		const char *nl;
		if (b->giant) {
			nl = memchr(p, '\n', n);
			size_t k = nl ? (size_t)(nl - p) + 1 : n;
			emit(b, p, k);
			b->giant = !nl;
			p += k;
			n -= k;
			continue;
		}
		if (b->carry.len) {
			nl = memchr(p, '\n', n);
			size_t k = nl ? (size_t)(nl - p) + 1 : n;
			if (ai_buf_add(&b->carry, p, k) != AI_OK) {
				/* Too long to scan: archive it as it is, as one bad row. */
				emit(b, b->carry.data, b->carry.len);
				ai_buf_reset(&b->carry);
				b->rows++;
				b->bad++;
				b->giant = 1;
				continue;
			}
			p += k;
			n -= k;
			if (nl) {
				scan_line(b, b->carry.data, b->carry.len - 1);
				emit(b, b->carry.data, b->carry.len);
				ai_buf_reset(&b->carry);
			}
			continue;
		}
		const char *last = memrchr(p, '\n', n);
		size_t whole = last ? (size_t)(last - p) + 1 : 0;
		if (whole) {
			scan_lines(b, p, whole);
			emit(b, p, whole);
		}
		if (n > whole && ai_buf_add(&b->carry, p + whole, n - whole) != AI_OK) {
			emit(b, p + whole, n - whole);
			b->rows++;
			b->bad++;
			b->giant = 1;
		}
		n = 0;
	}
	return b->err;
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The member's apps: those of its rows, and the builder's app for rows
 * naming none; recorded only for workspace export, when it has rows. */
static ai_result take_apps(struct ai_member_builder *b, struct ai_member *m)
{
	m->has_apps = 0;
	m->apps = NULL;
	m->napps = 0;
	if (b->schema != AI_SCHEMA_WORKSPACE || (!b->napps && !b->unnamed && !b->apps_over))
		return AI_OK;
	if (b->unnamed && b->app && *b->app)
		add_app(b, b->app);
	if (b->err != AI_OK)
		return b->err;
	if (!b->napps && !b->apps_over)
		return AI_OK;
	m->has_apps = 1;
	if (b->apps_over)
		return AI_OK;
	m->apps = malloc(b->napps * sizeof *m->apps);
	if (!m->apps)
		return AI_ERR_NOMEM;
	memcpy(m->apps, b->apps, b->napps * sizeof *m->apps);
	qsort(m->apps, b->napps, sizeof *m->apps, str_cmp);
	m->napps = b->napps;
	b->napps = b->last_app = 0;
	return AI_OK;
}

ai_result ai_member_end(struct ai_member_builder *b, int final, struct ai_member *m,
                        uint64_t *consumed, uint64_t *compressed)
{
	uint64_t left_out = 0;
	ai_result r;

	if (b->carry.len) {
		if (final) {
			scan_line(b, b->carry.data, b->carry.len);
			emit(b, b->carry.data, b->carry.len);
		} else {
			left_out = b->carry.len;
		}
		ai_buf_reset(&b->carry);
	}
	if (b->raw && !b->last_nl)
		emit(b, "\n", 1);
	if (b->err != AI_OK)
		return b->err;
	r = ai_gz_writer_finish(b->gz, compressed);
	if (r == AI_OK)
		r = ai_hash_final(&b->sha, m->sha256);
	b->sha_live = 0;
	if (r != AI_OK)
		return r;
	*consumed = b->fed - left_out;
	m->raw_size = b->raw;
	m->rows = b->rows;
	m->bad_rows = b->bad;
	m->has_time = b->has_time;
	m->min_event = b->min;
	m->max_event = b->max;
	m->roles = NULL;
	m->nroles = 0;
	if (b->nroles) {
		m->roles = malloc(b->nroles * sizeof *m->roles);
		if (!m->roles)
			return AI_ERR_NOMEM;
		memcpy(m->roles, b->roles, b->nroles * sizeof *m->roles);
		m->nroles = b->nroles;
		b->nroles = 0;
	}
	r = take_apps(b, m);
	if (r != AI_OK)
		return r;
	m->bloom = NULL;
	m->bloom_len = 0;
	/* No filter at all (length 0) means "may hold any id": only for
	 * members with more ids than are worth filtering. */
	r = ai_idset_filter(&b->ids, AI_BLOOM_CAP_BYTES, &m->bloom, &m->bloom_len);
	if (r != AI_OK)
		return r;
	return AI_OK;
}

const struct ai_idset *ai_member_ids(const struct ai_member_builder *b)
{
	return &b->ids;
}
