/* aigen_ws.c: the Log Analytics workspace data export layout of aigen:
 * am-<table> containers, one folder per 5 minutes of TimeGenerated,
 * append blobs (PT05M.json, rolled over into PT05M_<n>.json), written as
 * the appends of a few steps so that a test can upload one step, run,
 * upload the next: late records appended into old folders, records
 * delivered twice, and lines cut across two steps on request. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aigen.h"
#include "util/result.h"

#define FOLDERS_PER_HOUR 12
#define FOLDER_TICKS (5 * 60 * AG_TICKS_PER_SEC)
#define MAX_BLOBS 64        /* rolled-over blobs per folder, at most */
#define LATE_MAX_AGE 11     /* hours: the export retries for up to 12 */

/* One record appended to a folder: its line in the folder's text buffer
 * and the step that appends it. */
struct rec {
	unsigned step;
	size_t off, len;
	bool dup;
};

struct folder {
	struct ag_out text;      /* every line, one after the other */
	struct rec *recs;
	size_t n, cap;
	/* per blob and step, the bytes appended */
	struct ag_out piece[MAX_BLOBS][AG_WS_MAX_STEPS + 1];
	unsigned nblobs;
};

struct ws_state {
	const struct ag_ws_opts *o;
	const struct ag_gen *g;
	struct ag_out row, scratch, path, line;
	char tenant[40];
	struct folder f;
	FILE *manifest;
	struct ag_ws_totals *t;
};

static ai_result add_rec(struct folder *f, unsigned step, const char *p, size_t n, bool dup)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct rec *v = realloc(f->recs, cap * sizeof *v);
		if (!v)
			return AI_ERR_NOMEM;
		f->recs = v;
		f->cap = cap;
	}
	if (f->text.cap - f->text.n < n + 1) {
		size_t cap = 2 * (f->text.cap + n + 1);
		char *q = realloc(f->text.p, cap);
		if (!q)
			return AI_ERR_NOMEM;
		f->text.p = q;
		f->text.cap = cap;
	}
	f->recs[f->n++] = (struct rec){ step, f->text.n, n + 1, dup };
	ag_put(&f->text, p, n);
	ag_putc(&f->text, '\n');
	return AI_OK;
}

static ai_result piece_add(struct ag_out *o, const char *p, size_t n)
{
	if (o->cap - o->n < n) {
		size_t cap = 2 * (o->cap + n);
		char *q = realloc(o->p, cap);
		if (!q)
			return AI_ERR_NOMEM;
		o->p = q;
		o->cap = cap;
	}
	ag_put(o, p, n);
	return AI_OK;
}

/* Puts n bytes at p before what o holds. */
static ai_result piece_prepend(struct ag_out *o, const char *p, size_t n)
{
	size_t had = o->n;
	ai_result r = piece_add(o, p, n); /* room for n more */

	if (r != AI_OK)
		return r;
	memmove(o->p + n, o->p, had);
	memcpy(o->p, p, n);
	return AI_OK;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* One record of component appi at t, appended in step (and, when drawn,
 * once more in the same or the next step, as the service's retries do). */
static ai_result gen_rec(struct ws_state *st, enum ag_kind k, unsigned appi, int64_t t,
                         unsigned step, struct ag_rng *r)
{
	const struct ag_ws_opts *o = st->o;
	struct ag_row rw;
	ai_result res;

	st->row.n = 0;
	st->scratch.n = 0;
	ag_row_setup(&rw, st->g, appi, k, t, r, &st->scratch);
	ag_ws_row(&rw, &st->row, st->tenant, !(o->unnamed > 0.0 && ag_unit(r) < o->unnamed));
	res = add_rec(&st->f, step, st->row.p, st->row.n, false);
	if (res == AI_OK && o->dups > 0.0 && ag_unit(r) < o->dups) {
		unsigned again = step + (unsigned)ag_below(r, 2);
		res = add_rec(&st->f, again > o->steps ? o->steps : again, st->row.p, st->row.n, true);
		st->t->duplicates++;
	}
	return res;
}

/* A component of workspace w, drawn at random. */
static unsigned pick_app(const struct ws_state *st, unsigned w, struct ag_rng *r)
{
	unsigned n = 0, i;

	for (i = w; i < st->g->napps; i += st->o->workspaces)
		n++;
	return w + (unsigned)ag_below(r, n) * st->o->workspaces;
}

/* "am-<table>/" and the blob's name below it. */
static void blob_name(struct ws_state *st, enum ag_kind k, unsigned w, int64_t start,
                      unsigned blob, struct ag_out *p, size_t *rel)
{
	char leaf[32];

	AG_LIT(p, "am-");
	ag_put_lower(p, ag_kinds[k].ds);
	ag_putc(p, '/');
	*rel = p->n;
	AG_LIT(p, "WorkspaceResourceId=/subscriptions/");
	ag_put_lower(p, st->g->sub);
	AG_LIT(p, "/resourcegroups/rg-monitoring/providers/microsoft.operationalinsights/"
	          "workspaces/");
	ag_puts(p, ag_ws_name(w, leaf, sizeof leaf));
	ag_put_folder(p, start);
	if (blob)
		snprintf(leaf, sizeof leaf, "/PT05M_%u.json", blob);
	else
		snprintf(leaf, sizeof leaf, "/PT05M.json");
	ag_puts(p, leaf);
}

static ai_result write_file(const char *dir, const char *name, const struct ag_out *data)
{
	char path[4096];
	FILE *f;
	char *slash;
	bool ok;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	slash = strrchr(path, '/');
	*slash = '\0';
	if (ag_mkdirs(path) != AI_OK) {
		fprintf(stderr, "aigen: directory '%s': %s\n", path, strerror(errno));
		return AI_ERR_IO;
	}
	*slash = '/';
	if (!(f = fopen(path, "wb"))) {
		fprintf(stderr, "aigen: file '%s': %s\n", path, strerror(errno));
		return AI_ERR_IO;
	}
	ok = fwrite(data->p, 1, data->n, f) == data->n;
	if (fclose(f) || !ok) {
		fprintf(stderr, "aigen: file '%s': write failed\n", path);
		return AI_ERR_IO;
	}
	return AI_OK;
}

/* Splits the folder's records into its blobs and steps, cuts some lines
 * across two steps (split_lines), writes step-<s>/ and all/, and the
 * manifest line of each blob. */
static ai_result flush_folder(struct ws_state *st, enum ag_kind k, unsigned w, int64_t start)
{
	const struct ag_ws_opts *o = st->o;
	struct folder *f = &st->f;
	char dir[4096];
	ai_result r = AI_OK;

	qsort(f->recs, f->n, sizeof *f->recs, rec_cmp);
	f->nblobs = 0;
	for (size_t i = 0; r == AI_OK && i < f->n; i++) {
		unsigned b = o->rollover ? (unsigned)(i / o->rollover) : 0;
		if (b >= MAX_BLOBS)
			b = MAX_BLOBS - 1;
		if (b + 1 > f->nblobs)
			f->nblobs = b + 1;
		r = piece_add(&f->piece[b][f->recs[i].step], f->text.p + f->recs[i].off,
		              f->recs[i].len);
	}
	for (unsigned b = 0; r == AI_OK && b < f->nblobs; b++) {
		struct ag_out all = { 0 };
		uint64_t rows = 0, dups = 0;
		size_t rel;

		st->path.n = 0;
		blob_name(st, k, w, start, b, &st->path, &rel);
		ag_putc(&st->path, '\0');
		/* A line cut in two: its first half in step s, the rest in s+1. */
		for (unsigned s = 1; o->split_lines && s < o->steps; s++) {
			struct ag_out *a = &f->piece[b][s], *n = &f->piece[b][s + 1];
			size_t cut, last;
			if (a->n < 2 || !n->n)
				continue;
			last = a->n - 1;
			while (last > 0 && a->p[last - 1] != '\n')
				last--;
			cut = last + (a->n - last) / 2;
			r = piece_prepend(n, a->p + cut, a->n - cut);
			if (r != AI_OK)
				break;
			a->n = cut;
		}
		for (unsigned s = 1; r == AI_OK && s <= o->steps; s++) {
			struct ag_out *p = &f->piece[b][s];
			if (!p->n)
				continue;
			snprintf(dir, sizeof dir, "%s/step-%u", o->out, s);
			r = write_file(dir, st->path.p, p);
			if (r == AI_OK)
				r = piece_add(&all, p->p, p->n);
			p->n = 0;
		}
		if (r == AI_OK) {
			snprintf(dir, sizeof dir, "%s/all", o->out);
			r = write_file(dir, st->path.p, &all);
		}
		for (size_t i = 0; i < all.n; i++)
			rows += all.p[i] == '\n';
		for (size_t i = 0; i < f->n; i++)
			if (f->recs[i].dup && (o->rollover ? i / o->rollover : 0) == b)
				dups++;
		if (r == AI_OK) {
			char tmp[40];
			struct ag_out t = { tmp, 0, sizeof tmp };

			ag_put_time(&t, start, 0);
			ag_putc(&t, '\0');
			fprintf(st->manifest,
			        "{\"container\":\"%.*s\",\"path\":\"%s\",\"layout\":\"workspace\","
			        "\"app\":\"%.*s\",\"type\":\"%s\",\"folder\":\"%s\",\"rows\":%llu,"
			        "\"duplicates\":%llu,\"bytes\":%llu}\n",
			        (int)(rel - 1), st->path.p, st->path.p + rel,
			        (int)strcspn(strstr(st->path.p, "workspaces/") + 11, "/"),
			        strstr(st->path.p, "workspaces/") + 11, ag_kinds[k].ds, tmp,
			        (unsigned long long)rows, (unsigned long long)dups,
			        (unsigned long long)all.n);
			if (ferror(st->manifest))
				r = AI_ERR_IO;
			st->t->blobs++;
			st->t->bytes += all.n;
			st->t->rows += rows;
		}
		free(all.p);
	}
	f->n = 0;
	f->text.n = 0;
	return r;
}

/* The records of one table, workspace and 5-minute folder: those of its
 * own time, spread over the steps in the last hour (the one being
 * written), and with late appends records of an older folder appended by
 * later steps. */
static ai_result gen_folder(struct ws_state *st, enum ag_kind k, unsigned w, unsigned h,
                            unsigned slot)
{
	const struct ag_ws_opts *o = st->o;
	int64_t start = o->from + (int64_t)h * AG_TICKS_PER_HOUR + (int64_t)slot * FOLDER_TICKS;
	unsigned age = o->hours - 1 - h;
	struct ag_rng r;
	uint64_t n;
	ai_result res = AI_OK;

	/* Keyed by the folder's time: the same folder gets the same records
	 * whatever --from and --hours are (as long as its age is the same). */
	ag_rng_seed(&r, ag_mix(ag_mix(ag_mix(o->seed, 0x7773), k * 1000 + w), (uint64_t)start));
	n = (uint64_t)(o->rows * (0.5 + ag_unit(&r)) + 0.5);
	if (n < 1)
		n = 1;
	for (uint64_t i = 0; res == AI_OK && i < n; i++) {
		unsigned step = age == 0 ? 1 + (unsigned)(i * o->steps / n) : 1;
		int64_t t = start + (int64_t)ag_below(&r, (uint64_t)FOLDER_TICKS);
		res = gen_rec(st, k, pick_app(st, w, &r), t, step, &r);
	}
	for (unsigned s = 2; res == AI_OK && o->late && s <= o->steps; s++) {
		if (age < 1 || age > LATE_MAX_AGE || !ag_chance(&r, 1, 3))
			continue;
		for (unsigned j = 1 + (unsigned)ag_below(&r, 2); res == AI_OK && j; j--) {
			int64_t t = start + (int64_t)ag_below(&r, (uint64_t)FOLDER_TICKS);
			res = gen_rec(st, k, pick_app(st, w, &r), t, s, &r);
		}
	}
	return res == AI_OK ? flush_folder(st, k, w, start) : res;
}

const char *ag_ws_name(unsigned w, char *out, size_t cap)
{
	snprintf(out, cap, "logs-ws%u", w + 1);
	return out;
}

ai_result ag_ws_tree(const struct ag_ws_opts *o, const struct ag_gen *g, FILE *manifest,
                     struct ag_ws_totals *t)
{
	struct ws_state st = { .o = o, .g = g, .manifest = manifest, .t = t };
	struct ag_rng r;
	struct ag_out tn = { st.tenant, 0, sizeof st.tenant };
	ai_result res = AI_OK;

	memset(t, 0, sizeof *t);
	st.row.p = malloc(st.row.cap = 4u << 20);
	st.scratch.p = malloc(st.scratch.cap = 1u << 20);
	st.path.p = malloc(st.path.cap = 4096);
	if (!st.row.p || !st.scratch.p || !st.path.p)
		res = AI_ERR_NOMEM;
	ag_rng_seed(&r, ag_mix(o->seed, 0x74656e));
	ag_put_guid(&tn, &r);
	ag_putc(&tn, '\0');
	for (unsigned k = 0; res == AI_OK && k < AG_KIND_COUNT; k++) {
		if (!(o->kinds & (1u << k)))
			continue;
		for (unsigned w = 0; res == AI_OK && w < o->workspaces; w++)
			for (unsigned h = 0; res == AI_OK && h < o->hours; h++)
				for (unsigned s = 0; res == AI_OK && s < FOLDERS_PER_HOUR; s++)
					res = gen_folder(&st, (enum ag_kind)k, w, h, s);
	}
	for (unsigned b = 0; b < MAX_BLOBS; b++)
		for (unsigned s = 0; s <= AG_WS_MAX_STEPS; s++)
			free(st.f.piece[b][s].p);
	free(st.f.text.p);
	free(st.f.recs);
	free(st.row.p);
	free(st.scratch.p);
	free(st.path.p);
	return res;
}
