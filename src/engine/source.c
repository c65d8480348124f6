/* source.c: discovery and hour-by-hour listing of export blobs, in the
 * continuous-export, diagnostic-settings and workspace-export layouts. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/escape.h"
#include "util/log.h"
#include "cmd/options.h"
#include "engine/shard.h"
#include "engine/source.h"
#include "util/strvec.h"
#include "util/alloc.h"
#include "store/store.h"

#define HOUR (3600 * AI_NS_PER_SEC)
#define DS_PREFIX "insights-logs-"
#define WS_PREFIX "am-"
#define MAX_DS_DEPTH 14
#define MAX_LIST_JOBS 64             /* listing threads at most */

const char *ai_layout_name(enum ai_layout l)
{
	switch (l) {
	case AI_LAYOUT_CONTINUOUS:
		return "continuous-export";
	case AI_LAYOUT_DIAGNOSTIC:
		return "diagnostic-settings";
	case AI_LAYOUT_WORKSPACE:
		return "workspace-export";
	default:
		return "auto";
	}
}

ai_result ai_layout_parse(const char *s, enum ai_layout *out)
{
	if (!s || strcmp(s, "auto") == 0)
		*out = AI_LAYOUT_AUTO;
	else if (strcmp(s, "continuous-export") == 0 || strcmp(s, "continuous") == 0)
		*out = AI_LAYOUT_CONTINUOUS;
	else if (strcmp(s, "diagnostic-settings") == 0 || strcmp(s, "diagnostic") == 0)
		*out = AI_LAYOUT_DIAGNOSTIC;
	else if (strcmp(s, "workspace-export") == 0 || strcmp(s, "workspace") == 0)
		*out = AI_LAYOUT_WORKSPACE;
	else
		return AI_ERR_USAGE;
	return AI_OK;
}

enum ai_row_schema ai_layout_schema(enum ai_layout l)
{
	return l == AI_LAYOUT_DIAGNOSTIC ? AI_SCHEMA_DIAGNOSTIC
	       : l == AI_LAYOUT_WORKSPACE ? AI_SCHEMA_WORKSPACE
	                                  : AI_SCHEMA_CONTINUOUS;
}

enum ai_row_schema ai_layout_schema_named(const char *name)
{
	enum ai_layout l;

	if (!name || ai_layout_parse(name, &l) != AI_OK)
		l = AI_LAYOUT_CONTINUOUS;
	return ai_layout_schema(l);
}

int64_t ai_source_settle(enum ai_layout l, int64_t grace, int64_t late_window)
{
	return l == AI_LAYOUT_WORKSPACE && late_window > grace ? late_window : grace;
}

void ai_source_list_init(struct ai_source_list *l)
{
	memset(l, 0, sizeof *l);
}

void ai_source_list_drop_items(struct ai_source_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].app);
		free(l->items[i].type);
	}
	l->n = 0;
}

void ai_source_list_release(struct ai_source_list *l)
{
	ai_result (*flush)(void *, struct ai_source_list *);
	void *flush_ctx;
	size_t flush_every;

	if (!l)
		return;
	flush = l->flush;
	flush_ctx = l->flush_ctx;
	flush_every = l->flush_every;
	ai_source_list_drop_items(l);
	for (size_t i = 0; i < l->nquarantined; i++) {
		free(l->quarantined[i].name);
		free(l->quarantined[i].app);
		free(l->quarantined[i].type);
	}
	ai_strvec_release(&l->apps_seen);
	ai_strvec_release(&l->types_seen);
	free(l->items);
	free(l->quarantined);
	ai_source_list_init(l);
	l->flush = flush;
	l->flush_ctx = flush_ctx;
	l->flush_every = flush_every;
}

/* ----- names that cannot be archived safely ----- */

/* What is wrong with the characters of s: control characters, or bytes
 * that are not UTF-8; NULL when nothing. */
static const char *bad_chars(const char *s, const char *ctl, const char *utf8)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = ai_utf8_char((const char *)p);
		if (*p < 0x20 || *p == 0x7f || (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f))
			return ctl;
		if (!n)
			return utf8;
		p += n;
	}
	return NULL;
}

int ai_source_name_ok(const char *name, const char **reason)
{
	size_t n = strlen(name);
	const char *seg = name, *why;

	if (n && name[n - 1] == '/')
		n--; /* a folder */
	if (n == 0)
		why = "empty name";
	else if (n > AI_SOURCE_NAME_MAX)
		why = "name longer than 1024 bytes";
	else
		why = bad_chars(name, "control characters in the name", "name is not valid UTF-8");
	while (!why) {
		const char *end = memchr(seg, '/', (size_t)(name + n - seg));
		size_t len = end ? (size_t)(end - seg) : (size_t)(name + n - seg);
		if (len == 0)
			why = "an empty path segment";
		else if ((len == 1 && seg[0] == '.') ||
		         (len == 2 && seg[0] == '.' && seg[1] == '.'))
			why = "a '.' or '..' path segment";
		else if (len > AI_SOURCE_SEGMENT_MAX)
			why = "a path segment longer than 255 bytes";
		if (!end)
			break;
		seg = end + 1;
	}
	if (why && reason)
		*reason = why;
	return !why;
}

int ai_source_part_ok(const char *part, int type, const char **reason)
{
	static const char *const why[2][7] = {
		{ "empty app name", "app name longer than 255 bytes",
		  "control characters in the app name", "app name is not valid UTF-8",
		  "app name is '.' or '..'", "app name holds a slash or a backslash",
		  "app name ends with '.'" },
		{ "empty type name", "type name longer than 255 bytes",
		  "control characters in the type name", "type name is not valid UTF-8",
		  "type name is '.' or '..'", "type name holds a slash or a backslash",
		  "type name ends with '.'" },
	};
	const char *const *w = why[type ? 1 : 0];
	size_t n = strlen(part);
	const char *e = NULL;

	if (n == 0)
		e = w[0];
	else if (n > AI_SOURCE_SEGMENT_MAX)
		e = w[1];
	else if ((e = bad_chars(part, w[2], w[3])))
		;
	else if (strcmp(part, ".") == 0 || strcmp(part, "..") == 0)
		e = w[4];
	else if (strpbrk(part, "/\\"))
		e = w[5];
	else if (part[n - 1] == '.')
		e = w[6];
	if (e && reason)
		*reason = e;
	return !e;
}

/* app and type: a blob's (both or neither). */
static ai_result quarantine(struct ai_source_list *l, const char *name, const char *reason,
                            ai_time hour, const char *app, const char *type)
{
	struct ai_source_quarantined *q;

	if (AI_GROW(l->quarantined, l->nquarantined + 1, l->capquarantined) != AI_OK)
		return AI_ERR_NOMEM;
	q = &l->quarantined[l->nquarantined];
	memset(q, 0, sizeof *q);
	q->name = strdup(name);
	if (app && type) {
		q->app = strdup(app);
		q->type = strdup(type);
	}
	if (!q->name || (app && type && (!q->app || !q->type))) {
		free(q->name);
		free(q->app);
		free(q->type);
		return AI_ERR_NOMEM;
	}
	q->reason = reason;
	q->hour = hour;
	l->nquarantined++;
	return AI_OK;
}

/* Quarantines folder (a listing prefix, with its '/') when it or the app
 * or type name taken from it cannot be archived; 1 when it did (or
 * failed to: *r says). */
static int quarantine_folder(struct ai_source_list *l, const char *folder, const char *part,
                             int type, ai_result *r)
{
	const char *why;

	if (ai_source_name_ok(folder, &why) && ai_source_part_ok(part, type, &why))
		return 0;
	*r = quarantine(l, folder, why, AI_TIME_MIN, NULL, NULL);
	return 1;
}

static void lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* The name of the last folder of a prefix ("a/b/Requests/" -> "Requests"). */
static void last_folder(const char *prefix, char *out, size_t cap)
{
	const char *end = prefix + strlen(prefix) - 1, *start = end;

	while (start > prefix && start[-1] != '/')
		start--;
	snprintf(out, cap, "%.*s", (int)(end - start), start);
}

int ai_source_parse_app_folder(const char *folder, size_t len, char *app, size_t cap)
{
	const char *us = NULL;

	for (size_t i = 0; i < len; i++)
		if (folder[i] == '_')
			us = folder + i;
	if (!us || us == folder || (size_t)(folder + len - us - 1) != 32)
		return 0;
	for (const char *p = us + 1; p < folder + len; p++)
		if (!isxdigit((unsigned char)*p))
			return 0;
	if ((size_t)(us - folder) >= cap)
		return 0;
	snprintf(app, cap, "%.*s", (int)(us - folder), folder);
	lowercase(app);
	return 1;
}

/* Collects the prefixes of a page into a growing string array. */
static ai_result collect_prefixes(void *ctx, const struct ai_blob_list *page)
{
	struct ai_strvec *s = ctx;
	ai_result r = AI_OK;

	for (size_t i = 0; r == AI_OK && i < page->nprefixes; i++)
		r = ai_strvec_push(s, page->prefixes[i]);
	return r;
}

/* Appends the folders directly below prefix to out. */
static ai_result list_folders(struct ai_store *src, const char *prefix, struct ai_strvec *out)
{
	return ai_store_list_each(src, prefix, "/", collect_prefixes, out);
}

ai_result ai_source_detect(struct ai_store *src, enum ai_layout *out)
{
	struct ai_strvec top = AI_STRVEC_INIT;
	ai_result r = list_folders(src, "", &top);

	*out = AI_LAYOUT_CONTINUOUS;
	for (size_t i = 0; r == AI_OK && i < top.n; i++) {
		if (strncmp(top.v[i], DS_PREFIX, strlen(DS_PREFIX)) == 0)
			*out = AI_LAYOUT_DIAGNOSTIC;
		else if (strncmp(top.v[i], WS_PREFIX, strlen(WS_PREFIX)) == 0 &&
		         *out == AI_LAYOUT_CONTINUOUS)
			*out = AI_LAYOUT_WORKSPACE;
	}
	ai_strvec_release(&top);
	return r;
}

/* Adds the blobs of one listing page to the result, for one folder. */
struct folder {
	struct ai_source_list *out;
	const char *app;
	const char *type;
	ai_time hour;
	enum ai_layout layout;
	size_t parse_at;      /* nonzero: take the hour from the name after this many bytes */
	ai_time before;       /* with parse_at: keep hours before this */
	const struct ai_shard *shard; /* keep only this shard's partitions (NULL: all) */
};

void ai_layout_hour_folder(enum ai_layout l, ai_time hour, char *out, size_t cap)
{
	char iso[AI_TIME_STRLEN];

	ai_time_format(hour, 0, iso); /* 2026-11-20T13:00:00Z */
	if (l == AI_LAYOUT_DIAGNOSTIC || l == AI_LAYOUT_WORKSPACE)
		snprintf(out, cap, "y=%.4s/m=%.2s/d=%.2s/h=%.2s/", iso, iso + 5, iso + 8, iso + 11);
	else
		snprintf(out, cap, "%.10s/%.2s/", iso, iso + 11);
}

/* The other way round: the delivery hour a name below a type or resource
 * folder starts with; 0 when it has none. */
static int hour_from_name(const char *p, enum ai_layout l, ai_time *out)
{
	unsigned y, mo, d, h;
	int n = 0;
	char iso[32];

	if (l == AI_LAYOUT_DIAGNOSTIC || l == AI_LAYOUT_WORKSPACE) {
		if (sscanf(p, "y=%4u/m=%2u/d=%2u/h=%2u/%n", &y, &mo, &d, &h, &n) != 4 || !n)
			return 0;
	} else if (sscanf(p, "%4u-%2u-%2u/%2u/%n", &y, &mo, &d, &h, &n) != 4 || !n) {
		return 0;
	}
	snprintf(iso, sizeof iso, "%04u-%02u-%02uT%02u:00:00Z", y, mo, d, h);
	return ai_parse_time(iso, strlen(iso), out) == AI_OK;
}

/* Whether the next blob (of f, in hour) joins its partition (the last one's). */
static int same_part(const struct ai_source_item *it, const struct folder *f, ai_time hour)
{
	return it->hour == hour && strcmp(it->app, f->app) == 0 && strcmp(it->type, f->type) == 0;
}

static ai_result add_items(void *ctx, const struct ai_blob_list *page)
{
	struct folder *f = ctx;
	struct ai_source_list *l = f->out;

	for (size_t i = 0; i < page->n; i++) {
		const struct ai_blob_info *b = &page->blobs[i];
		struct ai_source_item *it;
		ai_time hour = f->hour;
		const char *why;
		if (f->parse_at) {
			if (!hour_from_name(b->name + f->parse_at, f->layout, &hour)) {
				ai_debug("source: skipping '%s' (not in a delivery-hour folder)", b->name);
				continue;
			}
			if (hour >= f->before)
				continue;
		}
		/* Another shard's partition: its run lists and archives it. */
		if (!ai_shard_owns(f->shard, f->app, f->type, hour))
			continue;
		if (!ai_source_name_ok(b->name, &why)) {
			if (quarantine(l, b->name, why, hour, f->app, f->type) != AI_OK)
				return AI_ERR_NOMEM;
			continue;
		}
		/* A page ends between partitions, or within one a quarter on. */
		if (l->flush && l->n >= l->flush_every &&
		    (!same_part(&l->items[l->n - 1], f, hour) ||
		     l->n >= l->flush_every + l->flush_every / 4)) {
			ai_result r;
			ai_source_list_sort(l);
			if ((r = l->flush(l->flush_ctx, l)) != AI_OK)
				return r;
		}
		if (AI_GROW(l->items, l->n + 1, l->cap) != AI_OK)
			return AI_ERR_NOMEM;
		it = &l->items[l->n];
		memset(it, 0, sizeof *it);
		if (ai_source_item_names(it, b->name, f->app, f->type) != AI_OK)
			return AI_ERR_NOMEM;
		it->hour = hour;
		it->size = b->size;
		memcpy(it->etag, b->etag, sizeof it->etag);
		it->last_modified = b->last_modified;
		it->append = b->type == AI_BLOB_APPEND || f->layout != AI_LAYOUT_CONTINUOUS;
		l->n++;
	}
	return AI_OK;
}

/* ----- listings in parallel ----- */

/* Over a wide-area link each listing costs a round trip, and an hourly run
 * lists one folder per app, type and hour of its window: the listings of
 * one level go out together, on up to the filter's jobs threads. */
struct par {
	size_t n;
	size_t next;                 /* atomic: the next task to take */
	int stop;                    /* atomic: a task failed, take no more */
	ai_result (*fn)(void *ctx, size_t i);
	void *ctx;
	ai_result *r;                /* each task's result */
	char (*why)[512];            /* and its error message (thread-local) */
};

static void *par_main(void *arg)
{
	struct par *p = arg;
	size_t i;

	while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED) &&
	       (i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < p->n) {
		ai_store_set_error("%s", "");
		p->r[i] = p->fn(p->ctx, i);
		if (p->r[i] != AI_OK) {
			snprintf(p->why[i], sizeof p->why[i], "%s", ai_store_last_error());
			__atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/* Runs fn(ctx, i) for each i < n on up to jobs threads, this one among
 * them. The failure of the lowest i is the result, its message set on
 * this thread; once one task fails no other starts. */
static ai_result par_run(unsigned jobs, size_t n, ai_result (*fn)(void *ctx, size_t i), void *ctx)
{
	struct par p = { n, 0, 0, fn, ctx, NULL, NULL };
	pthread_t th[MAX_LIST_JOBS];
	unsigned nth = 0;
	ai_result r = AI_OK;

	if (jobs > MAX_LIST_JOBS)
		jobs = MAX_LIST_JOBS;
	if (jobs <= 1 || n <= 1) {
		for (size_t i = 0; r == AI_OK && i < n; i++)
			r = fn(ctx, i);
		return r;
	}
	p.r = calloc(n, sizeof *p.r);
	p.why = calloc(n, sizeof *p.why);
	if (!p.r || !p.why) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	while (nth + 1 < jobs && nth + 1 < n && pthread_create(&th[nth], NULL, par_main, &p) == 0)
		nth++;
	par_main(&p);
	for (unsigned t = 0; t < nth; t++)
		pthread_join(th[t], NULL);
	for (size_t i = 0; i < n; i++) {
		if (p.r[i] != AI_OK) {
			r = p.r[i];
			ai_store_set_error("%s", p.why[i]);
			break;
		}
	}
out:
	free(p.r);
	free(p.why);
	return r;
}

/* One listing of blobs: an hour folder, or without a window start
 * everything below a type or resource folder. Each lists into its own
 * result, merged in task order after those of its window. */
struct hour_task {
	const char *base, *app, *type;   /* owned by the scan's names */
	ai_time hour;                    /* AI_TIME_MIN: everything below base */
	struct ai_source_list out;
};

/* The folder of one app and type that holds its delivery-hour folders:
 * its listings are made one by one as the scan reaches them (a window of
 * a year over a hundred apps is almost a million, so they are never all
 * held at once). */
struct hour_base {
	const char *base, *app, *type;   /* owned by the scan's names */
};

struct scan {
	struct ai_store *src;
	enum ai_layout layout;
	const struct ai_source_filter *f;
	struct ai_strvec names;          /* the bases' strings */
	struct hour_base *bases;
	size_t nbases, cap;
	size_t base_at;                  /* the next listing: of this base, */
	ai_time hour_at;                 /*   this hour */
	struct hour_task *win;           /* the listings made together */
};

static ai_result keep_name(struct scan *sc, const char *s, const char **out)
{
	ai_result r = ai_strvec_push(&sc->names, s);

	if (r == AI_OK)
		*out = sc->names.v[sc->names.n - 1];
	return r;
}

/* Queues the listings of one app and type below base, the folder that
 * holds its delivery-hour folders: those of the window one by one, or
 * without a start everything below base, taking each blob's hour from
 * its name (next_task makes them). */
static ai_result scan_hours(struct scan *sc, const char *base, const char *app, const char *type)
{
	const char *b, *a, *t;
	ai_result r = keep_name(sc, base, &b);

	if (r == AI_OK)
		r = keep_name(sc, app, &a);
	if (r == AI_OK)
		r = keep_name(sc, type, &t);
	if (r == AI_OK && (r = AI_GROW(sc->bases, sc->nbases + 1, sc->cap)) == AI_OK)
		sc->bases[sc->nbases++] = (struct hour_base){ b, a, t };
	return r;
}

/* The next listing in queue order (the bases in turn, each one's hours
 * ascending) into *t; 0 when there is none left. A shard lists only the
 * hour folders of its own partitions. */
static int next_task(struct scan *sc, struct hour_task *t)
{
	const struct ai_source_filter *f = sc->f;

	for (; sc->base_at < sc->nbases; sc->base_at++, sc->hour_at = f->from) {
		const struct hour_base *hb = &sc->bases[sc->base_at];
		if (f->from == AI_TIME_MIN) {
			*t = (struct hour_task){ hb->base, hb->app, hb->type, AI_TIME_MIN, { 0 } };
			sc->base_at++;
			return 1;
		}
		while (sc->hour_at < f->to) {
			ai_time h = sc->hour_at;
			sc->hour_at += HOUR;
			if (!ai_shard_owns(f->shard, hb->app, hb->type, h))
				continue;
			*t = (struct hour_task){ hb->base, hb->app, hb->type, h, { 0 } };
			return 1;
		}
	}
	return 0;
}

/* Lists what task t names into l. */
static ai_result list_task(struct scan *sc, struct hour_task *t, struct ai_source_list *l)
{
	struct folder fo = { l, t->app, t->type, t->hour, sc->layout, 0, 0, sc->f->shard };
	char prefix[4096], hour[64];

	if (t->hour == AI_TIME_MIN) {
		fo.hour = 0;
		fo.parse_at = strlen(t->base);
		fo.before = sc->f->to;
		return ai_store_list_each(sc->src, t->base, NULL, add_items, &fo);
	}
	ai_layout_hour_folder(sc->layout, t->hour, hour, sizeof hour);
	snprintf(prefix, sizeof prefix, "%s%s", t->base, hour);
	return ai_store_list_each(sc->src, prefix, NULL, add_items, &fo);
}

/* The listings of the window, run together: each into its own result. */
static ai_result run_window_task(void *ctx, size_t i)
{
	struct scan *sc = ctx;
	struct hour_task *t = &sc->win[i];

	return list_task(sc, t, &t->out);
}

/* Moves what one task found to the end of out, and frees its arrays. */
static ai_result take_found(struct ai_source_list *out, struct ai_source_list *l)
{
	if (AI_GROW(out->items, out->n + l->n, out->cap) != AI_OK ||
	    AI_GROW(out->quarantined, out->nquarantined + l->nquarantined, out->capquarantined) != AI_OK)
		return AI_ERR_NOMEM;
	if (l->n)
		memcpy(out->items + out->n, l->items, l->n * sizeof *l->items);
	if (l->nquarantined)
		memcpy(out->quarantined + out->nquarantined, l->quarantined,
		       l->nquarantined * sizeof *l->quarantined);
	out->n += l->n;
	out->nquarantined += l->nquarantined;
	/* Its arrays go too: a window of a million blobs is ten thousand
	 * listings, and their emptied arrays held 200 MiB. */
	free(l->items);
	free(l->quarantined);
	l->items = NULL;
	l->quarantined = NULL;
	l->n = l->cap = l->nquarantined = l->capquarantined = 0;
	return AI_OK;
}

/* Runs the queued listings and adds what they found to out, in the order
 * they were queued, a window of 4 x --jobs at a time. A run that takes
 * its listing in pages (out->flush) is handed a page whenever one has
 * filled, between two listings, so that only a window of listings is
 * held (ARCHITECTURE.md §6.3); there a listing of a whole history runs
 * alone, straight into out, where add_items cuts it into pages. */
static ai_result scan_run(struct scan *sc, struct ai_source_list *out)
{
	unsigned jobs = sc->f->jobs ? sc->f->jobs : 1;
	size_t window = 4 * (size_t)jobs, n = 0;
	struct hour_task next;
	int have;
	ai_result r = AI_OK;

	sc->base_at = 0;
	sc->hour_at = sc->f->from;
	if (!(sc->win = calloc(window, sizeof *sc->win)))
		return AI_ERR_NOMEM;
	have = next_task(sc, &next);
	while (r == AI_OK && have) {
		if (out->flush && next.hour == AI_TIME_MIN) {
			r = list_task(sc, &next, out);
			have = next_task(sc, &next);
			continue;
		}
		for (n = 0; have && n < window && !(out->flush && next.hour == AI_TIME_MIN); n++) {
			sc->win[n] = next;
			have = next_task(sc, &next);
		}
		r = par_run(jobs, n, run_window_task, sc);
		for (size_t i = 0; r == AI_OK && i < n; i++) {
			r = take_found(out, &sc->win[i].out);
			if (r == AI_OK && out->flush && out->n >= out->flush_every) {
				ai_source_list_sort(out);
				r = out->flush(out->flush_ctx, out);
			}
		}
		/* what a failure left in the window */
		for (size_t i = 0; i < n; i++)
			ai_source_list_release(&sc->win[i].out);
	}
	free(sc->win);
	sc->win = NULL;
	return r;
}

static void scan_release(struct scan *sc)
{
	free(sc->bases);
	ai_strvec_release(&sc->names);
}

/* "_<32 hex>": an app folder without its app name. */
static int no_app_name(const char *folder, size_t len)
{
	return len == 33 && folder[0] == '_' &&
	       strspn(folder + 1, "0123456789abcdefABCDEF") == 32;
}

/* The type folders of the apps a continuous-export scan takes, each
 * app's listed apart. */
struct app_types {
	struct ai_store *src;
	char **folders;              /* the apps' folders */
	struct ai_strvec *types;     /* what each holds */
};

static ai_result list_app_types(void *ctx, size_t i)
{
	struct app_types *at = ctx;

	return list_folders(at->src, at->folders[i], &at->types[i]);
}

static ai_result scan_continuous(struct scan *sc, struct ai_source_list *out)
{
	const struct ai_source_filter *f = sc->f;
	struct ai_strvec apps = { 0 }, names = { 0 };
	struct app_types at = { sc->src, NULL, NULL };
	char app[AI_SOURCE_NAME_MAX + 1], type[AI_SOURCE_NAME_MAX + 1];
	size_t napps = 0;
	ai_result r = list_folders(sc->src, "", &apps);

	if (r == AI_OK && apps.n && (!(at.folders = calloc(apps.n, sizeof *at.folders)) ||
	                             !(at.types = calloc(apps.n, sizeof *at.types))))
		r = AI_ERR_NOMEM;
	for (size_t a = 0; r == AI_OK && a < apps.n; a++) {
		size_t alen = strlen(apps.v[a]) - 1; /* without the '/' */
		if (no_app_name(apps.v[a], alen)) {
			*app = '\0';
		} else if (!ai_source_parse_app_folder(apps.v[a], alen, app, sizeof app)) {
			ai_debug("source: skipping folder '%s' (not <app>_<ikey>)", apps.v[a]);
			continue;
		}
		if ((r = ai_strvec_push_new(&out->apps_seen, app)) != AI_OK)
			break;
		if (!ai_options_match(f->apps, f->napps, app))
			continue;
		if (quarantine_folder(out, apps.v[a], app, 0, &r))
			continue;
		if ((r = ai_strvec_push(&names, app)) != AI_OK)
			break;
		at.folders[napps++] = apps.v[a];
	}
	if (r == AI_OK)
		r = par_run(f->jobs, napps, list_app_types, &at);
	for (size_t a = 0; r == AI_OK && a < napps; a++) {
		const struct ai_strvec *types = &at.types[a];
		for (size_t t = 0; r == AI_OK && t < types->n; t++) {
			last_folder(types->v[t], type, sizeof type);
			if ((r = ai_strvec_push_new(&out->types_seen, type)) != AI_OK)
				break;
			if (!ai_options_match(f->types, f->ntypes, type))
				continue;
			if (quarantine_folder(out, types->v[t], type, 1, &r))
				continue;
			r = scan_hours(sc, types->v[t], names.v[a], type);
		}
	}
	for (size_t a = 0; at.types && a < apps.n; a++)
		ai_strvec_release(&at.types[a]);
	free(at.types);
	free(at.folders);
	ai_strvec_release(&names);
	ai_strvec_release(&apps);
	return r;
}

/* Walks down a diagnostic-settings container to the resource folders,
 * the ones that hold "y=YYYY/" folders. */
static ai_result find_resources(struct ai_store *src, const char *prefix, int depth,
                                struct ai_strvec *found)
{
	struct ai_strvec kids = AI_STRVEC_INIT;
	ai_result r;

	if (depth > MAX_DS_DEPTH)
		return AI_OK;
	r = list_folders(src, prefix, &kids);
	for (size_t i = 0; r == AI_OK && i < kids.n; i++) {
		const char *last = kids.v[i] + strlen(prefix);
		if (strncmp(last, "y=", 2) == 0) {
			r = ai_strvec_push(found, prefix);
			break;
		}
		r = find_resources(src, kids.v[i], depth + 1, found);
	}
	ai_strvec_release(&kids);
	return r;
}

/* Both layouts with one container per category or table ("insights-logs-"
 * or "am-" and its name, the type), resource or workspace folders below it
 * (the app: the last folder above "y=", lowercased), and the hour folders
 * below those. A workspace export's listing of an hour folder returns the
 * blobs of its twelve 5-minute folders, rolled-over PT05M_<n>.json too. */
static ai_result scan_by_container(struct scan *sc, struct ai_source_list *out)
{
	struct ai_strvec conts = { 0 }, res = { 0 };
	char app[AI_SOURCE_NAME_MAX + 1], type[AI_SOURCE_NAME_MAX + 1];
	const struct ai_source_filter *f = sc->f;
	struct ai_store *src = sc->src;
	const char *pre = sc->layout == AI_LAYOUT_WORKSPACE ? WS_PREFIX : DS_PREFIX;
	ai_result r = list_folders(src, "", &conts);

	for (size_t c = 0; r == AI_OK && c < conts.n; c++) {
		if (strncmp(conts.v[c], pre, strlen(pre)) != 0)
			continue;
		last_folder(conts.v[c] + strlen(pre), type, sizeof type);
		if ((r = ai_strvec_push_new(&out->types_seen, type)) != AI_OK)
			break;
		if (!ai_options_match(f->types, f->ntypes, type))
			continue;
		if (quarantine_folder(out, conts.v[c], type, 1, &r))
			continue;
		ai_strvec_release(&res);
		r = find_resources(src, conts.v[c], 0, &res);
		for (size_t i = 0; r == AI_OK && i < res.n; i++) {
			/* ".../COMPONENTS/<name>/" or ".../workspaces/<name>/" */
			last_folder(res.v[i], app, sizeof app);
			lowercase(app);
			if ((r = ai_strvec_push_new(&out->apps_seen, app)) != AI_OK)
				break;
			if (!ai_options_match(f->apps, f->napps, app))
				continue;
			if (quarantine_folder(out, res.v[i], app, 0, &r))
				continue;
			r = scan_hours(sc, res.v[i], app, type);
		}
	}
	ai_strvec_release(&res);
	ai_strvec_release(&conts);
	return r;
}

/* The values of one filter list that match none of the names seen. */
static size_t unmatched_of(const char *option, char *const *values, size_t nvalues,
                           const struct ai_strvec *seen, struct ai_source_unmatched *out,
                           size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < nvalues && n < max; i++) {
		struct ai_source_unmatched *u = &out[n];
		if (ai_strvec_has_nocase(seen, values[i]))
			continue;
		u->option = option;
		u->value = values[i];
		u->known = seen->n;
		u->n = ai_strvec_nearest(seen, values[i], u->nearest,
		                         sizeof u->nearest / sizeof u->nearest[0]);
		n++;
	}
	return n;
}

size_t ai_source_unmatched(const struct ai_source_filter *f, const struct ai_source_list *l,
                           enum ai_layout layout, struct ai_source_unmatched *out, size_t max)
{
	size_t n;

	if (layout == AI_LAYOUT_DIAGNOSTIC) {
		n = unmatched_of("--type", f->types, f->ntypes, &l->types_seen, out, max);
		if (n == 0)
			n = unmatched_of("--app", f->apps, f->napps, &l->apps_seen, out, max);
	} else {
		n = unmatched_of("--app", f->apps, f->napps, &l->apps_seen, out, max);
		if (n == 0)
			n = unmatched_of("--type", f->types, f->ntypes, &l->types_seen, out, max);
	}
	return n;
}

static int item_cmp(const void *a, const void *b)
{
	const struct ai_source_item *x = a, *y = b;
	int c = strcmp(x->app, y->app);

	if (!c)
		c = strcmp(x->type, y->type);
	if (!c)
		c = x->hour < y->hour ? -1 : x->hour > y->hour;
	return c ? c : strcmp(x->name, y->name);
}

static int quarantined_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ai_source_quarantined *)a)->name,
	               ((const struct ai_source_quarantined *)b)->name);
}

ai_result ai_source_item_names(struct ai_source_item *it, const char *name, const char *app,
                               const char *type)
{
	it->name = strdup(name);
	it->app = strdup(app);
	it->type = strdup(type);
	if (it->name && it->app && it->type)
		return AI_OK;
	free(it->name);
	free(it->app);
	free(it->type);
	it->name = it->app = it->type = NULL;
	return AI_ERR_NOMEM;
}

void ai_source_list_sort(struct ai_source_list *l)
{
	if (l->n > 1)
		qsort(l->items, l->n, sizeof l->items[0], item_cmp);
}

ai_result ai_source_scan(struct ai_store *src, enum ai_layout layout,
                         const struct ai_source_filter *f, struct ai_source_list *out)
{
	struct scan sc = { src, layout, f, AI_STRVEC_INIT, NULL, 0, 0, 0, 0, NULL };
	ai_result r;

	if (layout == AI_LAYOUT_AUTO) {
		r = ai_source_detect(src, &sc.layout);
		if (r != AI_OK)
			return r;
	}
	/* The walk down to the type (or resource) folders queues their
	 * listings; they run together once it is done. */
	r = sc.layout == AI_LAYOUT_CONTINUOUS ? scan_continuous(&sc, out) : scan_by_container(&sc, out);
	if (r == AI_OK)
		r = scan_run(&sc, out);
	scan_release(&sc);
	if (r == AI_OK)
		ai_source_list_sort(out);
	if (r == AI_OK && out->nquarantined)
		qsort(out->quarantined, out->nquarantined, sizeof out->quarantined[0],
		      quarantined_cmp);
	return r;
}
