/* run.c: one archive run: plan, parallel pack building, commit. The
 * commit order is what makes a crash harmless (ARCHITECTURE.md §7): packs and
 * their signatures first, then a segment that records them, then the
 * state. A member joins a segment only once its pack is committed, so a
 * crash leaves only unreferenced packs past the last segment, and the
 * next run, which reads every committed segment, does only that work
 * again. A large run takes its listing a page at a time and commits a
 * segment per page, which keeps segments small and memory bounded. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "engine/archive.h"
#include "engine/identity.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/escape.h"
#include "util/hex.h"
#include "engine/lock.h"
#include "util/log.h"
#include "util/progress.h"
#include "engine/member.h"
#include "engine/pack.h"
#include "engine/replication.h"
#include "engine/preflight.h"
#include "engine/run.h"
#include "engine/trust.h"
#include "engine/witness.h"
#include "util/alloc.h"
#include "format/segindex.h"

#define HOUR (3600 * AI_NS_PER_SEC)
#define CHUNK (4u << 20)            /* source bytes per read, of a range with its own pack */
#define SMALL_CHUNK (1u << 20)      /* ... of a range that shares a pack */
#define BLOCK (1u << 20)            /* pack bytes per uploaded block, of a range's own pack */
#define SHARED_BLOCK (128u << 10)   /* ... of a pack that members share: each worker
                                     * holds one such block outside the budget */
#define SMALL_MEMBER (4u << 20)     /* larger sources get a pack of their own */
#define MEMBER_BUF_MAX (SMALL_MEMBER + (1u << 20)) /* a small member's compressed bytes */
/* Ranges larger than LIGHT take a share of BUFFER_BUDGET for their source
 * chunks and compressed member while the worker holds them, and the
 * worker frees those buffers after them (ARCHITECTURE.md §6.3): so many
 * workers over large blobs hold no more than that between them. */
#define LIGHT (64u << 10)
#define BUFFER_BUDGET (16u << 20)
#define MIN_SLICE 16                /* fewest blobs a partition is cut into (split_partitions) */
#define MAX_JOBS 64                 /* worker threads at most */
#define GZIP_LEVEL 6
#define MAX_SEGMENT_IDS (1u << 20) /* more distinct operation ids in a page: its
                                    * segment's index matches any (16 MiB at most) */

/* ----- a string -> uint64 map of what is archived ----- */

struct seen {
	char **keys;
	uint64_t *ends;              /* archived source bytes [0, end) */
	char **etags;                /* the newest member's ETag (NULL: none) */
	uint64_t *last_ends;         /*   and its range end: a block blob's version */
	size_t n, cap;               /* cap is a power of two */
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

/* Records a member of key ending at end, of the version etag (may be
 * NULL); members must come oldest first, so the last one names the
 * version archived last. */
static ai_result seen_put(struct seen *m, const char *key, uint64_t end, const char *etag)
{
	char *e = NULL;
	size_t i;

	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		char **keys = calloc(cap, sizeof *keys), **etags = calloc(cap, sizeof *etags);
		uint64_t *ends = calloc(cap, sizeof *ends), *last = calloc(cap, sizeof *last);
		if (!keys || !ends || !etags || !last) {
			free(keys);
			free(ends);
			free(etags);
			free(last);
			return AI_ERR_NOMEM;
		}
		for (size_t k = 0; k < m->cap; k++) {
			if (!m->keys[k])
				continue;
			for (i = str_hash(m->keys[k]) & (cap - 1); keys[i]; i = (i + 1) & (cap - 1))
				;
			keys[i] = m->keys[k];
			ends[i] = m->ends[k];
			etags[i] = m->etags[k];
			last[i] = m->last_ends[k];
		}
		free(m->keys);
		free(m->ends);
		free(m->etags);
		free(m->last_ends);
		m->keys = keys;
		m->ends = ends;
		m->etags = etags;
		m->last_ends = last;
		m->cap = cap;
	}
	if (etag && *etag && !(e = strdup(etag)))
		return AI_ERR_NOMEM;
	for (i = str_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (strcmp(m->keys[i], key) == 0) {
			if (end > m->ends[i])
				m->ends[i] = end;
			free(m->etags[i]);
			m->etags[i] = e;
			m->last_ends[i] = end;
			return AI_OK;
		}
	}
	if (!(m->keys[i] = strdup(key))) {
		free(e);
		return AI_ERR_NOMEM;
	}
	m->ends[i] = end;
	m->etags[i] = e;
	m->last_ends[i] = end;
	m->n++;
	return AI_OK;
}

/* The slot of key, or SIZE_MAX when it is not in the map. */
static size_t seen_find(const struct seen *m, const char *key)
{
	if (!m->cap)
		return SIZE_MAX;
	for (size_t i = str_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->keys[i], key) == 0)
			return i;
	return SIZE_MAX;
}

/* 1 and *end when key is archived. */
static int seen_get(const struct seen *m, const char *key, uint64_t *end)
{
	size_t i = seen_find(m, key);

	if (i == SIZE_MAX)
		return 0;
	*end = m->ends[i];
	return 1;
}

/* 1 when key is archived, with the ETag ("" when unknown) and end of the
 * member archived last. */
static int seen_version(const struct seen *m, const char *key, const char **etag, uint64_t *end)
{
	size_t i = seen_find(m, key);

	if (i == SIZE_MAX)
		return 0;
	*etag = m->etags[i] ? m->etags[i] : "";
	*end = m->last_ends[i];
	return 1;
}

static void seen_release(struct seen *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->keys[i]);
		free(m->etags[i]);
	}
	free(m->keys);
	free(m->ends);
	free(m->etags);
	free(m->last_ends);
	memset(m, 0, sizeof *m);
}

/* What seen_add_segments folds in, and the check each segment passes. */
struct seen_walk {
	struct seen *m;
	const struct seen *only;     /* only these names (NULL: every member) */
	struct ai_store *dest;
	struct ai_trust *trust;
};

static ai_result seen_fold(void *ctx, const struct ai_archive_link *l)
{
	struct seen_walk *sw = ctx;
	ai_result r = ai_archive_link_trusted(sw->dest, sw->trust, l);
	uint64_t end;

	for (size_t k = 0; r == AI_OK && k < l->seg.nmembers; k++)
		if (!sw->only || seen_get(sw->only, l->seg.members[k].blob, &end))
			r = seen_put(sw->m, l->seg.members[k].blob, l->seg.members[k].range_end,
			             l->seg.members[k].etag);
	return r;
}

/* Adds every member of the segments in seqs (ascending) to the map, of
 * the names in only (NULL: of every name). */
static ai_result seen_add_segments(struct seen *m, const struct seen *only, struct ai_store *dest,
                                   struct ai_trust *trust, const uint64_t *seqs, size_t n)
{
	struct seen_walk sw = { m, only, dest, trust };
	struct ai_archive_walk w = { .seqs = seqs, .nseqs = n };

	return n ? ai_archive_walk(dest, &w, seen_fold, &sw) : AI_OK;
}

/* ----- the plan ----- */

/* Where a work item stands; only WORK_PACKED ones reach a segment. */
enum work_state {
	WORK_PENDING,                /* not done (yet) */
	WORK_PACKED,                 /* in a committed pack, queued for a segment */
	WORK_FAILED,                 /* reported; the next run tries it again */
	WORK_PARTIAL,                /* only a partial line so far: a later run takes it */
	WORK_DONE_ELSEWHERE,         /* a concurrent run archived it first */
};

struct work {
	struct ai_source_item *item;
	uint64_t start, end;         /* source range to archive */
	int final;                   /* the source will not grow: take a last partial line */
	char replaces[AI_ETAG_MAX];  /* a block blob's new version: the ETag archived before */
	/* results */
	enum work_state state;
	ai_result err;
	struct ai_member member;     /* released once copied into a segment */
	uint64_t compressed;
	char *why;                   /* a failed blob's error, for the summary */
};

/* A member whose pack is committed, waiting for a segment. The members of
 * one pack follow each other and the first carries the pack (owning its
 * name); the others have ref.name NULL. */
struct ready {
	struct work *w;
	struct ai_pack_ref ref;   /* on a pack's first member only */
	int64_t committed_ns;     /* with ref: when the pack's commit began (monotonic) */
};

struct partition {
	size_t first, n;
};

struct run {
	const struct ai_run_params *p;
	const struct ai_options *o;
	enum ai_row_schema schema;
	int64_t settle;            /* how long after its hour a folder may change, ns */
	char run_id[64];
	struct work *work;
	size_t nwork;
	struct partition *parts;
	size_t nparts;
	size_t next_part;            /* atomic */
	int stop;                    /* atomic: a segment failed, workers stop early */
	size_t seg_max;              /* blobs per page, members per segment */
	pthread_mutex_t mu;          /* guards active and ready */
	pthread_cond_t cv;           /* a worker ended */
	pthread_mutex_t budget_mu;   /* guards budget_used */
	pthread_cond_t budget_cv;    /* a share of the budget came back */
	size_t budget_used;          /* of BUFFER_BUDGET, by the workers */
	int active;                  /* workers still running */
	struct ready *ready;
	size_t nready, capready;
	uint64_t pack_counter;       /* atomic */
	struct ai_trust trust;       /* what every manifest object read must verify with */
	struct seen foreign;         /* archived by other runs since this one planned */
	struct seen page_names;      /* the page's blob names: of the members read,
	                              * the maps of what is archived need no others */
	pthread_mutex_t ids_mu;      /* guards page_ids */
	struct ai_idset page_ids;    /* the operation ids of the page's members */
	size_t skipped_archived;     /* listed blobs the manifest already records as they are */
	/* A run over many blobs takes them a page at a time (ARCHITECTURE.md
	 * §6.3): each page is planned, archived and recorded before the scan
	 * lists the next, and only what the state needs at the end is kept. */
	struct ai_archive *a;
	struct ai_run_summary *sum;
	const struct ai_source_filter *filter;
	enum ai_layout layout;
	size_t pages;                /* pages done */
	size_t listed;               /* blobs of the pages done */
	int paging;                  /* the listing is more than one page */
	ai_result page_r;            /* a page's failure, which stopped the scan */
	uint64_t planned, planned_bytes;
	struct ai_source_list kept;  /* one item per app and type (its newest blob), and
	                              * the items of the kept work */
	struct work *kept_work;      /* work the state records at the end: not (wholly)
	                              * archived, or an incomplete last line */
	size_t *kept_item;           /* each one's item in kept */
	size_t nkept, capkept, capkept_item;
	/* A shard: the names of the state's tails and quarantined entries, and
	 * those of them its pages listed (shard_names): where it looked. */
	struct seen state_names, mine;
	int state_names_made;
	int preflight_done;          /* a dry run read one byte of a planned blob */
	char *dry_first;             /* else the first blob it listed, to read instead */
};

/* The last check before a pack name reaches a backend (ARCHITECTURE.md
 * §5): below data/, and no segment that a backend or curl would take for
 * something else ('.', '..', empty, a backslash, a trailing dot, control
 * characters). The scan has vetted app and type already. */
static int pack_name_ok(const char *name)
{
	const char *why, *p;

	if (strncmp(name, "data/", 5) != 0 || strchr(name, '\\') ||
	    !ai_source_name_ok(name, &why))
		return 0;
	for (p = strchr(name, '/'); p; p = strchr(p + 1, '/'))
		if (p[-1] == '.')
			return 0;
	return 1;
}

/* Starts the next pack for its partition:
 * data/<app>/<type>/<yyyy-MM-dd>/<HH>/<run-id>-<n>.jsonl.gz */
static ai_result new_pack(struct run *run, const struct ai_source_item *it, size_t block,
                          struct ai_pack **out)
{
	char hp[32], name[2048];
	uint64_t n = __atomic_add_fetch(&run->pack_counter, 1, __ATOMIC_RELAXED);
	int len;

	ai_layout_hour_folder(AI_LAYOUT_CONTINUOUS, it->hour, hp, sizeof hp);
	len = snprintf(name, sizeof name, "data/%s/%s/%s%s-%llu.jsonl.gz", it->app, it->type, hp,
	               run->run_id, (unsigned long long)n);
	if (len < 0 || (size_t)len >= sizeof name || !pack_name_ok(name)) {
		ai_store_set_error("pack '%.1000s': not a safe object name", name);
		return AI_ERR_INTERNAL;
	}
	return ai_pack_new(out, run->p->dest, name, block);
}

/* Queues the members of a committed pack for the next segment; takes
 * ref's name (freed here on failure). */
static ai_result publish_pack(struct run *run, struct ai_pack_ref *ref, int64_t committed_ns,
                              struct work **ws, size_t n)
{
	ai_result r = AI_OK;

	pthread_mutex_lock(&run->mu);
	r = AI_GROW(run->ready, run->nready + n, run->capready);
	if (r == AI_OK && n) {
		for (size_t i = 0; i < n; i++) {
			struct ready *e = &run->ready[run->nready + i];
			e->w = ws[i];
			memset(&e->ref, 0, sizeof e->ref);
			ws[i]->state = WORK_PACKED;
		}
		run->ready[run->nready].ref = *ref;
		run->ready[run->nready].committed_ns = committed_ns;
		ref->name = NULL;
		run->nready += n;
	}
	pthread_mutex_unlock(&run->mu);
	free(ref->name); /* a pack with no member is left unreferenced */
	ref->name = NULL;
	return r;
}

/* ----- the workers ----- */

struct worker {
	struct run *run;
	struct ai_member_builder *mb;
	struct ai_buf chunk;
	struct ai_buf member;        /* a small member's compressed bytes */
	size_t held;                 /* of the run's budget, for the range in hand */
};

static ai_result buf_sink(void *ctx, const void *p, size_t n)
{
	return ai_buf_add(ctx, p, n);
}

/* The most a range of n bytes compresses to, gzip header (the blob's name)
 * and trailer included: deflate's stored blocks add 5 bytes per 16 KiB. */
static size_t member_bound(uint64_t n)
{
	return (size_t)n + (size_t)(n / 64) + 4096 + AI_SOURCE_NAME_MAX;
}

/* Takes the budget's share for range w before the worker starts on it:
 * nothing when it is light; else its own pack's chunk and block, or a
 * chunk and the most its compressed member can take. It waits until the
 * share fits (or nothing else is held: a share larger than the budget
 * goes alone); a worker waits only here, holding nothing, so every wait
 * ends. */
static void budget_take(struct run *run, struct worker *wk, const struct work *w)
{
	uint64_t n = w->end - w->start;
	size_t cost;

	if (n <= LIGHT)
		return;
	/* and the unfinished line the builder holds, up to its longest */
	cost = n < AI_MEMBER_MAX_LINE ? (size_t)n : AI_MEMBER_MAX_LINE;
	if (n > SMALL_MEMBER)
		cost += CHUNK + BLOCK;
	else
		cost += (n < SMALL_CHUNK ? (size_t)n : SMALL_CHUNK) + member_bound(n);
	pthread_mutex_lock(&run->budget_mu);
	while (run->budget_used && run->budget_used + cost > BUFFER_BUDGET)
		pthread_cond_wait(&run->budget_cv, &run->budget_mu);
	run->budget_used += cost;
	pthread_mutex_unlock(&run->budget_mu);
	wk->held = cost;
}

/* Gives the worker's share back, and its buffers that grew past LIGHT,
 * so that they leave the process (cmd_run.c has malloc map allocations
 * that large) instead of staying with a worker that goes on with small
 * ones. */
static void budget_give(struct run *run, struct worker *wk)
{
	size_t n = wk->held;

	if (!n)
		return;
	wk->held = 0;
	ai_member_builder_trim(wk->mb);
	if (wk->chunk.alloc > LIGHT) {
		ai_buf_release(&wk->chunk);
		ai_buf_init(&wk->chunk, CHUNK);
	}
	if (wk->member.alloc > LIGHT) {
		ai_buf_release(&wk->member);
		ai_buf_init(&wk->member, MEMBER_BUF_MAX);
	}
	pthread_mutex_lock(&run->budget_mu);
	run->budget_used -= n;
	pthread_cond_broadcast(&run->budget_cv);
	pthread_mutex_unlock(&run->budget_mu);
}

/* Streams one source range through the member builder into sink. */
static ai_result build_member(struct worker *wk, struct work *w, ai_gz_sink sink, void *ctx)
{
	struct run *run = wk->run;
	const struct ai_source_item *it = w->item;
	uint64_t off = w->start, consumed;
	uint64_t chunk = w->end - w->start > SMALL_MEMBER ? CHUNK : SMALL_CHUNK;
	ai_result r;

	r = ai_member_begin(wk->mb, it->name, it->last_modified, run->schema, sink, ctx);
	if (r == AI_OK)
		ai_member_set_app(wk->mb, it->app);
	while (r == AI_OK && off < w->end) {
		uint64_t len = w->end - off < chunk ? w->end - off : chunk;
		ai_buf_reset(&wk->chunk);
		r = ai_store_read(run->p->src, it->name, off, len, NULL, &wk->chunk, NULL);
		if (r == AI_OK && wk->chunk.len != len) {
			ai_store_set_error("blob '%s': expected %llu bytes at %llu, got %zu", it->name,
			                   (unsigned long long)len, (unsigned long long)off, wk->chunk.len);
			r = AI_ERR_PROTOCOL;
		}
		if (r == AI_OK)
			r = ai_member_feed(wk->mb, wk->chunk.data, wk->chunk.len);
		off += len;
		ai_progress_add(run->p->progress, 0, len);
	}
	if (r == AI_OK)
		r = ai_member_end(wk->mb, w->final, &w->member, &consumed, &w->compressed);
	/* Its operation ids go straight into the page's set, from which its
	 * segment's index is made: a page of busy blobs holds the distinct
	 * ids once, not each member's list until the segment. */
	if (r == AI_OK) {
		pthread_mutex_lock(&run->ids_mu);
		ai_idset_merge(&run->page_ids, ai_member_ids(wk->mb));
		pthread_mutex_unlock(&run->ids_mu);
	}
	if (r != AI_OK)
		return r;
	w->end = w->start + consumed;
	return AI_OK;
}

/* Reports a failed blob in one line; it stays out of the segment and the
 * next run tries it again. */
static void fail(struct work *w, ai_result r)
{
	const char *why = ai_store_last_error();

	w->state = WORK_FAILED;
	w->err = r;
	free(w->why);
	w->why = strdup(*why ? why : ai_strerror(r));
	if (*why)
		ai_warn("%s (blob '%s' left for the next run)", why, w->item->name);
	else
		ai_warn("blob '%s': %s (left for the next run)", w->item->name, ai_strerror(r));
}

/* Frees a pack and forgets its members; when r is a failure, they failed
 * with it. */
static void end_pack(struct ai_pack **pack, struct work **members, size_t *nmembers, ai_result r)
{
	for (size_t i = 0; r != AI_OK && i < *nmembers; i++)
		fail(members[i], r);
	ai_pack_free(*pack);
	*pack = NULL;
	*nmembers = 0;
}

/* Commits a pack and queues its members for a segment. */
static void commit_pack(struct worker *wk, struct ai_pack **pack, struct work **members,
                        size_t *nmembers)
{
	struct run *run = wk->run;
	struct ai_pack_ref ref;
	ai_result r;

	if (!*pack)
		return;
	/* no later than the pack's Last-Modified, which is what gc goes by */
	int64_t t0 = ai_clock_mono_ns();
	r = ai_pack_commit(*pack, run->p->key, run->run_id, run->p->clock(), &ref);
	if (r == AI_OK)
		r = publish_pack(run, &ref, t0, members, *nmembers);
	end_pack(pack, members, nmembers, r);
}

/* A range too large to share a pack gets one of its own. */
static void do_big(struct worker *wk, struct work *w)
{
	struct ai_pack *pack = NULL;
	size_t n = 1;
	ai_result r;

	budget_take(wk->run, wk, w);
	r = new_pack(wk->run, w->item, BLOCK, &pack);

	if (r == AI_OK)
		r = build_member(wk, w, ai_pack_sink, pack);
	if (r == AI_OK && w->end == w->start) {
		w->state = WORK_PARTIAL;
		n = 0;
	}
	w->member.offset = 0;
	w->member.length = w->compressed;
	if (r == AI_OK && n)
		commit_pack(wk, &pack, &w, &n);
	else
		end_pack(&pack, &w, &n, r);
	budget_give(wk->run, wk);
}

static void do_partition(struct worker *wk, const struct partition *part)
{
	struct run *run = wk->run;
	struct ai_pack *pack = NULL;
	struct work **in_pack = calloc(part->n, sizeof *in_pack);
	size_t nin = 0;
	ai_result r;

	if (!in_pack) {
		for (size_t i = 0; i < part->n; i++)
			fail(&run->work[part->first + i], AI_ERR_NOMEM);
		return;
	}
	for (size_t i = 0; i < part->n; i++) {
		struct work *w = &run->work[part->first + i];
		if (__atomic_load_n(&run->stop, __ATOMIC_RELAXED))
			break;
		if (w->end - w->start > SMALL_MEMBER) {
			do_big(wk, w);
			ai_progress_add(run->p->progress, 1, 0);
			continue;
		}
		budget_take(run, wk, w);
		ai_buf_reset(&wk->member);
		r = build_member(wk, w, buf_sink, &wk->member);
		if (r == AI_OK && w->end == w->start && w->item->size != 0) {
			w->state = WORK_PARTIAL;
		} else if (r != AI_OK) {
			fail(w, r);
		} else {
			/* A pack is recorded in one segment: keep it within one's worth. */
			if (pack && (ai_pack_size(pack) + wk->member.len > run->o->pack_size ||
			             nin >= run->seg_max))
				commit_pack(wk, &pack, in_pack, &nin);
			if (!pack)
				r = new_pack(run, w->item, SHARED_BLOCK, &pack);
			if (r == AI_OK) {
				w->member.offset = ai_pack_size(pack);
				w->member.length = wk->member.len;
				r = ai_pack_write(pack, wk->member.data, wk->member.len);
			}
			if (r == AI_OK) {
				in_pack[nin++] = w;
			} else {
				/* The pack is unusable now: fail what it holds. */
				fail(w, r);
				end_pack(&pack, in_pack, &nin, r);
			}
		}
		budget_give(run, wk);
		ai_progress_add(run->p->progress, 1, 0);
	}
	if (__atomic_load_n(&run->stop, __ATOMIC_RELAXED))
		ai_pack_free(pack); /* nothing will record it */
	else
		commit_pack(wk, &pack, in_pack, &nin);
	free(in_pack);
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct run *run = wk->run;
	size_t i;

	while (!__atomic_load_n(&run->stop, __ATOMIC_RELAXED) &&
	       (i = __atomic_fetch_add(&run->next_part, 1, __ATOMIC_RELAXED)) < run->nparts)
		do_partition(wk, &run->parts[i]);
	pthread_mutex_lock(&run->mu);
	run->active--;
	pthread_cond_broadcast(&run->cv);
	pthread_mutex_unlock(&run->mu);
	return NULL;
}


static void stop_workers(struct run *run)
{
	__atomic_store_n(&run->stop, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&run->next_part, run->nparts, __ATOMIC_RELAXED);
}

/* A worker reads its partition's blobs one after another, a round trip
 * each, so over a wide-area link a busy partition would keep one worker
 * busy long after the others ran out of work. A partition of more than
 * twice the fair share of blobs (all blobs over the workers, at least
 * MIN_SLICE) is cut into slices of about that share, each with packs of its
 * own: more, smaller packs (two requests each to commit) for reads that go
 * on in parallel. */
static ai_result split_partitions(struct run *run, unsigned workers)
{
	size_t share = (run->nwork + workers - 1) / workers, total = 0, k = 0;
	struct partition *parts;

	if (share < MIN_SLICE)
		share = MIN_SLICE;
	for (size_t i = 0; i < run->nparts; i++)
		total += run->parts[i].n > 2 * share ? (run->parts[i].n + share - 1) / share : 1;
	if (total == run->nparts)
		return AI_OK;
	parts = calloc(total, sizeof *parts);
	if (!parts)
		return AI_ERR_NOMEM;
	for (size_t i = 0; i < run->nparts; i++) {
		const struct partition *p = &run->parts[i];
		size_t slices = p->n > 2 * share ? (p->n + share - 1) / share : 1, first = p->first;
		for (size_t j = 0; j < slices; j++) {
			/* the first n % slices slices get one blob more */
			size_t n = p->n / slices + (j < p->n % slices);
			parts[k].first = first;
			parts[k++].n = n;
			first += n;
		}
	}
	ai_debug("run: %zu partitions cut into %zu slices of about %zu blobs for %u workers",
	         run->nparts, total, share, workers);
	free(run->parts);
	run->parts = parts;
	run->nparts = total;
	return AI_OK;
}

/* Runs the workers on a page of the listing (and draws the progress
 * line); do_page records their members once they are done. */
static ai_result run_workers(struct run *run)
{
	unsigned n = run->o->jobs < 1 ? 1 : run->o->jobs > MAX_JOBS ? MAX_JOBS : (unsigned)run->o->jobs;
	struct worker *wks = calloc(n, sizeof *wks);
	pthread_t *th = calloc(n, sizeof *th);
	unsigned started = 0;
	ai_result r = AI_OK;

	if (!wks || !th) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	r = split_partitions(run, n);
	if (r != AI_OK)
		goto out;
	if (n > run->nparts)
		n = run->nparts ? (unsigned)run->nparts : 1;
	for (unsigned i = 0; i < n && r == AI_OK; i++) {
		wks[i].run = run;
		ai_buf_init(&wks[i].chunk, CHUNK);
		ai_buf_init(&wks[i].member, MEMBER_BUF_MAX);
		r = ai_member_builder_new(&wks[i].mb, GZIP_LEVEL);
	}
	pthread_mutex_lock(&run->mu);
	run->active = (int)n;
	pthread_mutex_unlock(&run->mu);
	while (r == AI_OK && started < n) {
		if (pthread_create(&th[started], NULL, worker_main, &wks[started]) != 0)
			r = AI_ERR_INTERNAL;
		else
			started++;
	}
	ai_progress_tick(run->p->progress);
	pthread_mutex_lock(&run->mu);
	run->active -= (int)(n - started);
	if (r != AI_OK)
		stop_workers(run);
	while (run->active > 0) {
		if (run->p->progress) {
			/* The condition variable waits on the monotonic clock. */
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += AI_PROGRESS_INTERVAL_NS;
			if (until.tv_nsec >= 1000000000)
				until.tv_sec++, until.tv_nsec -= 1000000000;
			pthread_cond_timedwait(&run->cv, &run->mu, &until);
			pthread_mutex_unlock(&run->mu);
			ai_progress_tick(run->p->progress);
			pthread_mutex_lock(&run->mu);
		} else {
			pthread_cond_wait(&run->cv, &run->mu);
		}
	}
	pthread_mutex_unlock(&run->mu);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	ai_progress_tick(run->p->progress);
out:
	for (unsigned i = 0; wks && i < n; i++) {
		ai_member_builder_free(wks[i].mb);
		ai_buf_release(&wks[i].chunk);
		ai_buf_release(&wks[i].member);
	}
	free(wks);
	free(th);
	return r;
}

/* ----- planning ----- */

/* 0 and AI_TIME_MIN both mean no watermark yet. */
static int watermark_known(ai_time wm)
{
	return wm != AI_TIME_MIN && wm != 0;
}

/* Works out the delivery-hour window to list. full is set when the whole
 * history must be listed (no watermark yet). */
static void plan_window(const struct ai_run_params *p, const struct ai_state *st, ai_time *from,
                        ai_time *to, int *full)
{
	const struct ai_options *o = p->o;
	ai_time wm = ai_shard_watermark(st, &p->shard), retry;

	*full = 0;
	*to = o->has_to ? o->to : ai_time_hour(p->now) + HOUR;
	if (o->has_from) {
		*from = ai_time_hour(o->from);
	} else if (watermark_known(wm)) {
		*from = ai_time_hour(wm - o->lookback);
		/* Blobs that failed are tried again, however far back
		 * (ARCHITECTURE.md §7.4): they hold back their part's
		 * recovery point, not the listing watermark. */
		for (size_t i = 0; i < st->nparts; i++)
			if (st->parts[i].failed && watermark_known(st->parts[i].failed_oldest) &&
			    st->parts[i].failed_oldest < *from)
				*from = ai_time_hour(st->parts[i].failed_oldest);
		/* and those a shard recorded (§7.8) */
		retry = ai_shard_retry_from(st, &p->shard);
		if (retry < *from)
			*from = ai_time_hour(retry);
	} else {
		*from = AI_TIME_MIN;
		*full = 1;
	}
	/* --rescan reaches further back than the lookback for late blobs; the
	 * manifest keeps what is archived from being archived again. */
	if (o->rescan && !*full && !o->has_from && ai_time_hour(p->now - o->rescan) < *from)
		*from = ai_time_hour(p->now - o->rescan);
}

/* Delivery hours before this one are closed: hour h is closed once
 * h + 1h + settle <= now (settle: --grace, or for a workspace export
 * --late-window, ARCHITECTURE.md §4). */
static ai_time first_open_hour(const struct run *run)
{
	return ai_time_hour(run->p->now - run->settle - HOUR) + HOUR;
}

/* Work items of one app, type and delivery hour share packs. */
static int same_partition(const struct ai_source_item *a, const struct ai_source_item *b)
{
	return strcmp(a->app, b->app) == 0 && strcmp(a->type, b->type) == 0 && a->hour == b->hour;
}

/* Whether a block blob's listing is the version archived last (ETag and
 * size; an ETag missing on either side compares by size alone). */
static int same_version(const char *etag, uint64_t end, const struct ai_source_item *it)
{
	return end == it->size && (!*etag || !*it->etag || strcmp(etag, it->etag) == 0);
}

/* An append blob's tail may be taken as it is once the blob stopped
 * growing: its hour is closed (hour + 1h + grace <= now) and an earlier run
 * saw it closed with this very length (the state's tails, §6 step 6). */
static int tail_steady(const struct ai_state *st, const struct ai_source_item *it)
{
	const struct ai_tail_entry *t = ai_state_find_tail(st, it->name);

	return t && t->length == it->size;
}

static ai_result make_plan(struct run *run, struct ai_source_list *items, const struct seen *seen,
                           const struct ai_state *st)
{
	size_t cap = items->n ? items->n : 1;
	ai_time first_open = first_open_hour(run);

	run->work = calloc(cap, sizeof *run->work);
	run->parts = calloc(cap, sizeof *run->parts);
	if (!run->work || !run->parts)
		return AI_ERR_NOMEM;
	for (size_t i = 0; i < items->n; i++) {
		struct ai_source_item *it = &items->items[i];
		uint64_t end = 0;
		int archived = seen_get(seen, it->name, &end);
		int closed = it->hour < first_open;
		struct work *w = &run->work[run->nwork];

		if (!it->append) {
			const char *etag = "";
			uint64_t vend = 0;
			if (archived && seen_version(seen, it->name, &etag, &vend) &&
			    same_version(etag, vend, it)) {
				run->skipped_archived++;
				continue;
			}
			w->start = 0;
			w->end = it->size;
			w->final = 1;
			if (archived) {
				/* Overwritten: the new version is archived beside the old. */
				const char *was = *etag ? etag : "unknown";
				ai_warn("blob '%s': changed since it was archived (ETag %s, %llu "
				        "bytes; now ETag %s, %llu bytes); archiving the new version",
				        it->name, was, (unsigned long long)vend,
				        *it->etag ? it->etag : "unknown", (unsigned long long)it->size);
				snprintf(w->replaces, sizeof w->replaces, "%s", was);
			}
		} else {
			w->start = archived ? end : 0;
			w->end = it->size;
			w->final = closed && tail_steady(st, it);
			if (w->end < w->start) {
				ai_warn("blob '%s': shorter (%llu) than what is archived (%llu); skipped",
				        it->name, (unsigned long long)it->size,
				        (unsigned long long)w->start);
				continue;
			}
			/* An empty blob is recorded once, when its hour is over. */
			if (w->end == w->start && (archived || !closed || it->size != 0)) {
				run->skipped_archived += archived;
				continue;
			}
		}
		w->item = it;
		if (run->nparts == 0 ||
		    !same_partition(run->work[run->parts[run->nparts - 1].first].item, it)) {
			run->parts[run->nparts].first = run->nwork;
			run->parts[run->nparts].n = 0;
			run->nparts++;
		}
		run->parts[run->nparts - 1].n++;
		run->nwork++;
	}
	return AI_OK;
}

/* ----- commit ----- */

/* The fields every segment of the run shares. */
static ai_result segment_header(struct run *run, struct ai_segment *seg, enum ai_layout layout)
{
	const struct ai_run_params *p = run->p;

	seg->run_id = strdup(run->run_id);
	seg->source = strdup(ai_store_describe(p->src));
	seg->layout = strdup(ai_layout_name(layout));
	seg->created = p->clock();
	if (!seg->run_id || !seg->source || !seg->layout)
		return AI_ERR_NOMEM;
	if (p->key) {
		struct ai_minisign_pubkey pk;
		char id[AI_MINISIGN_KEYID_HEXLEN];
		ai_signing_key_pubkey(p->key, &pk);
		ai_minisign_keyid_hex(pk.keyid, id);
		if (!(seg->key_id = strdup(id)))
			return AI_ERR_NOMEM;
	}
	for (size_t i = 0; i < p->o->ntags; i++) {
		char **v = realloc(seg->tags, (seg->ntags + 1) * sizeof *v);
		if (!v)
			return AI_ERR_NOMEM;
		seg->tags = v;
		if (!(v[seg->ntags] = strdup(p->o->tags[i])))
			return AI_ERR_NOMEM;
		seg->ntags++;
	}
	return AI_OK;
}

/* Frees a work item's member; its names belong to the source list. */
static void drop_member(struct work *w)
{
	w->member.blob = NULL;
	w->member.app = NULL;
	w->member.type = NULL;
	ai_member_release(&w->member);
}

/* Copies the batch's packs and members into seg, freeing each member. */
static ai_result fill_segment(struct ready *batch, size_t n, struct ai_segment *seg)
{
	uint32_t pack = 0;
	ai_result r = AI_OK;

	for (size_t i = 0; i < n; i++) {
		struct work *w = batch[i].w;
		if (r == AI_OK && batch[i].ref.name)
			r = ai_segment_add_pack(seg, &batch[i].ref, &pack);
		if (r == AI_OK) {
			w->member.blob = w->item->name;
			memcpy(w->member.etag, w->item->etag, sizeof w->member.etag);
			memcpy(w->member.replaces, w->replaces, sizeof w->member.replaces);
			w->member.last_modified = w->item->last_modified;
			w->member.range_start = w->start;
			w->member.range_end = w->end;
			w->member.app = w->item->app;
			w->member.type = w->item->type;
			w->member.delivery_hour = w->item->hour;
			w->member.pack = pack;
			r = ai_segment_add_member(seg, &w->member);
		}
	}
	return r;
}

/* Another run committed the number we wanted: drop what it archived and
 * try the next number. */
/* Folds a segment another writer committed past the state: verified, linked
 * to the head, and its members remembered as archived by someone else. */
static ai_result catch_up_one(void *ctx, const struct ai_archive_link *l)
{
	struct run *run = ((void **)ctx)[0];
	struct ai_archive *a = ((void **)ctx)[1];
	ai_result r = ai_archive_link_trusted(run->p->dest, &run->trust, l);
	uint64_t end;

	if (r == AI_OK && !l->linked) {
		ai_store_set_error("segment '%s': does not link to the segment before it", l->name);
		r = AI_ERR_VERIFY;
	}
	if (r == AI_OK)
		r = ai_state_add_segment(&a->state, &l->seg, l->sha256);
	/* Of the page's blobs only: a later page finds the others through
	 * the state's index of this segment (plan_page). */
	if (r == AI_OK && !(l->seg.run_id && strcmp(l->seg.run_id, run->run_id) == 0))
		for (size_t k = 0; r == AI_OK && k < l->seg.nmembers; k++)
			if (seen_get(&run->page_names, l->seg.members[k].blob, &end))
				r = seen_put(&run->foreign, l->seg.members[k].blob,
				             l->seg.members[k].range_end, l->seg.members[k].etag);
	return r;
}

/* Before a commit: the lock is confirmed (a run that lost it commits
 * nothing more), and every segment committed since the state this run
 * holds is read, so that nothing is recorded twice (ARCHITECTURE.md §7.3). */
static ai_result fence(struct run *run, struct ai_archive *a)
{
	void *ctx[2] = { run, a };
	struct ai_archive_walk w = { .from = a->state.next_seq, .to = UINT64_MAX };
	ai_result r;

	if (run->p->lock && (r = ai_lock_confirm(run->p->lock)) != AI_OK) {
		ai_error("%s; committing nothing more (the next run archives what is left)",
		         ai_store_why(r));
		return r;
	}
	memcpy(w.head, a->state.head_sha256, sizeof w.head);
	r = ai_archive_walk(run->p->dest, &w, catch_up_one, ctx);
	if (r == AI_ERR_NOT_FOUND)
		r = AI_OK;
	if (r != AI_OK)
		ai_error("manifest: %s", ai_store_why(r));
	return r;
}

/* 1 when another run archived w's range (or part of it). */
static int archived_elsewhere(const struct run *run, const struct work *w)
{
	uint64_t end;

	return seen_get(&run->foreign, w->item->name, &end) && end > w->start;
}

/* Leaves out of the batch every pack that holds a member another run has
 * archived meanwhile: a pack is recorded whole or not at all, so no source
 * byte is ever referenced twice. Its other members are left for the next
 * run. Returns the new length. */
static size_t prune_batch(struct run *run, struct ready *batch, size_t n)
{
	size_t kept = 0;

	for (size_t g = 0; g < n;) {
		size_t end = g + 1, hit = 0;
		while (end < n && !batch[end].ref.name)
			end++;
		for (size_t i = g; i < end; i++)
			hit += archived_elsewhere(run, batch[i].w);
		if (!hit) {
			memmove(batch + kept, batch + g, (end - g) * sizeof *batch);
			kept += end - g;
			g = end;
			continue;
		}
		for (size_t i = g; i < end; i++) {
			struct work *w = batch[i].w;
			if (archived_elsewhere(run, w)) {
				ai_info("blob '%s': archived by a concurrent run", w->item->name);
				w->state = WORK_DONE_ELSEWHERE;
			} else {
				ai_warn("blob '%s': its pack also holds blobs a concurrent run archived; "
				        "left for the next run", w->item->name);
				w->state = WORK_FAILED;
				w->err = AI_ERR_CONFLICT;
			}
			drop_member(w);
		}
		free(batch[g].ref.name); /* left unreferenced, for gc */
		batch[g].ref.name = NULL;
		g = end;
	}
	return kept;
}

/* Leaves out of the batch every pack committed more than the pack bound
 * ago: gc may remove it from twice the bound on (ARCHITECTURE.md §7.3). Its
 * members are left for the next run. Sets the archive's deadline for the
 * segment of the rest and returns their number. */
static size_t drop_late(struct ai_archive *a, struct ready *batch, size_t n)
{
	int64_t bound = ai_pack_bound_ns(), now = ai_clock_mono_ns(), oldest = now;
	size_t kept = 0;

	a->deadline_ns = 0;
	if (!bound)
		return n;
	for (size_t g = 0; g < n;) {
		size_t end = g + 1;
		while (end < n && !batch[end].ref.name)
			end++;
		if (now - batch[g].committed_ns <= bound) {
			if (batch[g].committed_ns < oldest)
				oldest = batch[g].committed_ns;
			memmove(batch + kept, batch + g, (end - g) * sizeof *batch);
			kept += end - g;
			g = end;
			continue;
		}
		ai_warn("pack '%s': committed %.0f s ago, longer than a segment may wait for it (was "
		        "the run stopped?); left unreferenced for gc, its %zu blobs for the next run",
		        batch[g].ref.name, (double)(now - batch[g].committed_ns) / AI_NS_PER_SEC,
		        end - g);
		for (size_t i = g; i < end; i++) {
			batch[i].w->state = WORK_FAILED;
			batch[i].w->err = AI_ERR_TIMEOUT;
			drop_member(batch[i].w);
		}
		free(batch[g].ref.name);
		batch[g].ref.name = NULL;
		g = end;
	}
	a->deadline_ns = oldest + bound;
	return kept;
}

/* Commits the batch as one segment: fenced, pruned, and again after
 * another writer took the sequence number first or the run was held up
 * past a pack's bound. */
static ai_result commit_batch(struct run *run, struct ai_archive *a, struct ready *batch,
                              size_t *n, enum ai_layout layout, struct ai_segment *seg)
{
	ai_result r = AI_ERR_EXISTS;
	/* The shards of a split commit into one chain at once: a number taken
	 * by another is the usual case there, not a sign of trouble. */
	int tries = run->p->shard.count ? 64 : 5;

	for (int attempt = 0; attempt < tries && (r == AI_ERR_EXISTS || a->late); attempt++) {
		uint8_t *bloom = NULL;
		size_t bloom_len = 0;

		if (attempt && r == AI_ERR_EXISTS && run->p->shard.count)
			usleep((useconds_t)(1000 * (1 + rand() % (10 * (attempt < 10 ? attempt : 10)))));

		ai_segment_release(seg);
		ai_segment_init(seg);
		if ((r = fence(run, a)) != AI_OK)
			return r;
		size_t before = *n;
		*n = prune_batch(run, batch, *n);
		*n = drop_late(a, batch, *n);
		/* what lies past the kept ones was moved forward or freed */
		for (size_t i = *n; i < before; i++)
			batch[i].ref.name = NULL;
		a->late = 0;
		if (!*n)
			return AI_OK;
		r = segment_header(run, seg, layout);
		if (r == AI_OK)
			r = fill_segment(batch, *n, seg);
		if (r != AI_OK) {
			ai_error("manifest: cannot build a segment: %s", ai_strerror(r));
			return r;
		}
		/* The page's ids, a superset of the segment's members' (a false
		 * match costs a read, never a miss). Without memory for the
		 * filter the index just matches any id. */
		if (ai_idset_filter(&run->page_ids, AI_SEGINDEX_MAX_BLOOM, &bloom, &bloom_len) != AI_OK)
			ai_warn("manifest: no memory for the segment's id filter");
		r = ai_archive_commit(a, seg, bloom, bloom_len, run->p->key, run->p->clock());
		free(bloom);
	}
	a->deadline_ns = 0;
	if (r == AI_ERR_VERIFY)
		ai_error("%s", ai_store_why(r));
	else if (r != AI_OK)
		ai_error("manifest: cannot commit the segment: %s", ai_store_why(r));
	return r;
}

/* Takes every ready member off the queue into *batch (malloc'd): a
 * page's (ARCHITECTURE.md §6.3), at most a quarter more than seg_max. */
static ai_result take_batch(struct run *run, struct ready **batch, size_t *n)
{
	size_t k;
	ai_result r = AI_OK;

	*batch = NULL;
	*n = 0;
	pthread_mutex_lock(&run->mu);
	if (run->nready) {
		k = run->nready;
		*batch = malloc(k * sizeof **batch);
		if (*batch) {
			memcpy(*batch, run->ready, k * sizeof **batch);
			memmove(run->ready, run->ready + k, (run->nready - k) * sizeof *run->ready);
			run->nready -= k;
			*n = k;
		} else {
			r = AI_ERR_NOMEM;
		}
	}
	pthread_mutex_unlock(&run->mu);
	return r;
}

/* Commits one segment recording the batch and counts it in sum. */
static ai_result record_batch(struct run *run, struct ai_archive *a, struct ready *batch, size_t n,
                              struct ai_run_summary *sum)
{
	struct ai_segment seg;
	ai_result r;

	ai_segment_init(&seg);
	r = commit_batch(run, a, batch, &n, sum->layout, &seg);
	for (size_t i = 0; i < n; i++)
		drop_member(batch[i].w);
	if (r == AI_OK && seg.nmembers) {
		/* A long run keeps its witnesses current; a failure is reported,
		 * and the run's last checkpoint tries again. */
		ai_result wr = ai_witness_record(run->p->witness, run->p->dest, &run->trust, a,
		                                 run->p->key, run->p->clock());
		(void)wr;
		/* Counted from what the segment holds: a concurrent run may have
		 * taken some members (see prune_batch). */
		if (sum->segment_first < 0)
			sum->segment_first = (int64_t)seg.seq;
		sum->segment = (int64_t)seg.seq;
		sum->segments++;
		for (size_t i = 0; i < seg.npacks; i++)
			sum->bytes_out += seg.packs[i].size;
		sum->packs += seg.npacks;
		for (size_t i = 0; i < seg.nmembers; i++) {
			const struct ai_member *m = &seg.members[i];
			sum->blobs++;
			sum->rows += m->rows;
			sum->bad_rows += m->bad_rows;
			sum->bytes_in += m->range_end - m->range_start;
		}
	}
	ai_segment_release(&seg);
	return r;
}

/* Records the ready members, the page's, in one segment. */
static ai_result record(struct run *run, struct ai_archive *a, struct ai_run_summary *sum)
{
	struct ready *batch;
	size_t n;
	ai_result r = take_batch(run, &batch, &n);

	if (r != AI_OK)
		ai_error("manifest: cannot build a segment: %s", ai_strerror(r));
	if (r != AI_OK || !n)
		return r;
	r = record_batch(run, a, batch, n, sum);
	for (size_t i = 0; i < n; i++)
		free(batch[i].ref.name);
	free(batch);
	return r;
}

/* The closed-hour watermark of this run: the start of its first open
 * hour, capped at the window's end. */
static ai_time closed_through(const struct run *run, ai_time to)
{
	ai_time cand = first_open_hour(run);

	return cand > to ? to : cand;
}

/* Whether the window reaches back to what was listed before (or lists the
 * whole history), so that what it finds continues the archived past. */
static int window_joins(const struct run *run, const struct ai_state *st, ai_time from, int full)
{
	ai_time wm = ai_shard_watermark(st, &run->p->shard);

	return full || (watermark_known(wm) && from <= wm);
}

/* Moves the listing watermark: every delivery hour before it was listed,
 * except for the tails that wait for a run to list them again (hold: the
 * earliest of their hours, AI_TIME_MAX when none). A failed blob does not
 * hold it: it holds its part's recovery point (update_partitions), and
 * plan_window lists its hour again. A shard moves its own entry's
 * (ARCHITECTURE.md §7.8), and the archive's once every shard of its split
 * has listed past it. */
static void update_watermark(struct run *run, struct ai_state *st, ai_time from, ai_time to,
                             int full, ai_time hold)
{
	const struct ai_options *o = run->o;
	const struct ai_shard *sh = &run->p->shard;
	ai_time cand = closed_through(run, to), *wm = &st->watermark;
	if (hold < cand)
		cand = hold;
	if (o->napps || o->ntypes)
		return; /* a filtered run did not look at everything */
	if (!window_joins(run, st, from, full))
		return; /* the window does not join the archived past */
	if (sh->count) {
		struct ai_shard_state *e = ai_state_find_shard(st, sh->index, sh->count);
		if (!e)
			return;
		wm = &e->watermark;
	}
	if (cand > *wm || !watermark_known(*wm))
		*wm = cand;
	if (sh->count) {
		ai_time all = ai_shard_frontier(st, sh->count, 0);
		if (watermark_known(all) && (all > st->watermark || !watermark_known(st->watermark)))
			st->watermark = all;
	}
}

/* Says once per run what the scan left out as unsafe (ARCHITECTURE.md
 * §4.1); ai_log escapes the names. */
static void report_quarantined(const struct ai_source_list *items)
{
	for (size_t i = 0; i < items->nquarantined; i++) {
		const struct ai_source_quarantined *q = &items->quarantined[i];
		if (q->hour == AI_TIME_MIN)
			ai_warn("folder '%s': quarantined (%s); nothing below it is archived",
			        q->name, q->reason);
		else
			ai_warn("blob '%s': quarantined (%s); it is not archived", q->name,
			        q->reason);
	}
}

/* What the run listed, for the state's lists of what it found there. */
struct looked {
	const struct ai_options *o;
	ai_time from, to;            /* from AI_TIME_MIN: the whole history */
	const struct seen *mine;     /* a shard: the names of its partitions it listed
	                              * that the state holds entries of, or knew of;
	                              * NULL: not sharded */
};

/* A name of that hour (AI_TIME_MIN: a folder) would have been listed. A
 * shard looked only where its own partitions are. */
static int run_looked(const void *ctx, const char *name, ai_time hour)
{
	const struct looked *l = ctx;
	uint64_t end;

	if (l->o->napps || l->o->ntypes)
		return 0;
	if (hour == AI_TIME_MIN)
		return 1;
	if (hour < l->from || hour >= l->to)
		return 0;
	return !l->mine || seen_get(l->mine, name, &end);
}

/* Records the quarantined names in the state, so that status shows them. */
static ai_result remember_quarantined(struct run *run, struct ai_state *st,
                                      const struct ai_source_list *items, const struct looked *l)
{
	struct ai_quarantine_entry *v = NULL;
	size_t n = items->nquarantined;
	ai_result r = AI_OK;

	if (n && !(v = calloc(n, sizeof *v)))
		return AI_ERR_NOMEM;
	for (size_t i = 0; r == AI_OK && i < n; i++) {
		const struct ai_source_quarantined *q = &items->quarantined[i];
		v[i] = (struct ai_quarantine_entry){ .name = q->name, .reason = strdup(q->reason),
		                                     .app = q->app, .type = q->type,
		                                     .hour = q->hour, .first_seen = run->p->now,
		                                     .last_seen = run->p->now };
		if (!v[i].reason)
			r = AI_ERR_NOMEM;
	}
	if (r == AI_OK)
		r = ai_state_merge_quarantined(st, v, n, run_looked, l);
	for (size_t i = 0; i < n; i++)
		free(v[i].reason);
	free(v);
	return r;
}

/* Tail entries a run need not keep: it listed their hour (and did not
 * record them again), or their hour is before what it listed, where hourly
 * runs never look again. */
static int tails_looked(const void *ctx, const char *name, ai_time hour)
{
	const struct looked *l = ctx;
	uint64_t end;

	(void)name;
	if (l->o->napps || l->o->ntypes)
		return 0;
	if (!l->mine)
		return hour < l->to;
	/* A shard knows only the names it listed; a day before its window,
	 * no shard of the split lists a tail's hour again. */
	return seen_get(l->mine, name, &end) || (l->from != AI_TIME_MIN && hour < l->from - 24 * HOUR);
}

/* Records in the state the append blobs of closed hours whose last line is
 * still incomplete after this run (ARCHITECTURE.md §6 step 6): a later run
 * that finds one with the same length takes the tail as it is. A tail seen
 * for the first time holds the watermark at its hour (*hold), so that the
 * next run lists it again; only once, so a blob that keeps growing cannot
 * hold it for ever. A failed blob keeps its entry. */
static ai_result remember_tails(struct run *run, struct ai_state *st, const struct looked *l,
                                ai_time *hold)
{
	ai_time first_open = first_open_hour(run);
	struct ai_tail_entry *v = NULL;
	size_t k = 0;
	ai_result r;

	*hold = AI_TIME_MAX;
	if (run->nwork && !(v = calloc(run->nwork, sizeof *v)))
		return AI_ERR_NOMEM;
	for (size_t i = 0; i < run->nwork; i++) {
		const struct work *w = &run->work[i];
		const struct ai_source_item *it = w->item;
		const struct ai_tail_entry *old;
		if (!it->append || it->hour >= first_open || w->final)
			continue;
		old = ai_state_find_tail(st, it->name);
		if (w->state == WORK_FAILED || w->state == WORK_PENDING) {
			if (old)
				v[k++] = *old;
			continue;
		}
		if (w->end >= it->size)
			continue; /* it ended with a whole line */
		v[k++] = (struct ai_tail_entry){ it->name, it->hour, it->size, run->p->now };
		if (!old && it->hour < *hold)
			*hold = it->hour;
	}
	r = ai_state_merge_tails(st, v, k, tails_looked, l);
	free(v);
	return r;
}

/* What one run found of a part. */
struct part_found {
	uint64_t failed, pending, quarantined;
	ai_time failed_oldest, quarantined_oldest, newest_blob;
	ai_time held;                /* the earliest hour not archived */
};

static void earliest(ai_time *at, ai_time t)
{
	if (t < *at)
		*at = t;
}

/* Whether a work item is not (wholly) archived after the run: it failed,
 * was never done, or a blob of a closed hour still lacks its last line. */
static int work_held(const struct work *w, ai_time first_open)
{
	if (w->state == WORK_FAILED || w->state == WORK_PENDING || w->state == WORK_PARTIAL)
		return 1;
	return w->item->append && w->item->hour < first_open && !w->final &&
	       w->end < w->item->size;
}

/* The found entry of the part of app and type, or NULL. */
static struct part_found *found_of(const struct ai_state *st, struct part_found *found,
                                   const char *app, const char *type)
{
	const struct ai_partition_state *ps = app && type ? ai_state_find_part(st, app, type) : NULL;

	return ps ? &found[ps - st->parts] : NULL;
}

/* What the run found of each part: newest blob listed, the blobs not
 * (wholly) archived, the quarantined names as the state now keeps them. */
static void parts_found(const struct run *run, const struct ai_source_list *items,
                        const struct ai_state *st, struct part_found *found)
{
	ai_time first_open = first_open_hour(run);
	struct part_found *f;

	for (size_t i = 0; i < st->nparts; i++)
		found[i].failed_oldest = found[i].quarantined_oldest = found[i].held = AI_TIME_MAX;
	for (size_t i = 0; i < items->n; i++) {
		const struct ai_source_item *it = &items->items[i];
		if ((f = found_of(st, found, it->app, it->type)) && it->last_modified > f->newest_blob)
			f->newest_blob = it->last_modified;
	}
	for (size_t i = 0; i < run->nwork; i++) {
		const struct work *w = &run->work[i];
		if (!work_held(w, first_open) || !(f = found_of(st, found, w->item->app, w->item->type)))
			continue;
		if (w->state == WORK_FAILED) {
			f->failed++;
			earliest(&f->failed_oldest, w->item->hour);
		} else {
			f->pending++;
		}
		earliest(&f->held, w->item->hour);
	}
	for (size_t i = 0; i < st->nquarantined; i++) {
		const struct ai_quarantine_entry *q = &st->quarantined[i];
		if (!(f = found_of(st, found, q->app, q->type)))
			continue;
		f->quarantined++;
		earliest(&f->quarantined_oldest, q->hour);
		earliest(&f->held, q->hour);
	}
}

/* Whether the run looked at app and type (its filters). */
static int run_covers(const struct run *run, const char *app, const char *type)
{
	const struct ai_options *o = run->o;

	return ai_options_match(o->apps, o->napps, app) && ai_options_match(o->types, o->ntypes, type);
}

/* The recovery point per app and type (ARCHITECTURE.md §8.4): the
 * contiguous frontier, bounded by the run's closed-hour watermark and by
 * the earliest hour of the part that is still failed, pending or
 * quarantined; with the counts status reports. Only the parts the run
 * looked at change. joined: the window reached back to the listing
 * watermark before the run (or listed the whole history). */
static ai_result update_partitions(struct run *run, struct ai_state *st,
                                   const struct ai_source_list *items, ai_time from, ai_time to,
                                   int full, int joined)
{
	const struct ai_shard *sh = &run->p->shard;
	ai_time cap = closed_through(run, to);
	ai_time all = sh->count ? ai_shard_frontier(st, sh->count, 1) : AI_TIME_MIN;
	struct part_found *found = NULL;
	ai_result r;

	/* Parts with blobs but nothing archived yet (every blob failed). */
	for (size_t i = 0; i < items->n; i++) {
		struct ai_partition_state *ps;
		if ((r = ai_state_add_part(st, items->items[i].app, items->items[i].type, &ps)) != AI_OK)
			return r;
	}
	if (st->nparts && !(found = calloc(st->nparts, sizeof *found)))
		return AI_ERR_NOMEM;
	parts_found(run, items, st, found);
	for (size_t i = 0; i < st->nparts; i++) {
		struct ai_partition_state *ps = &st->parts[i];
		struct part_found f = found[i];
		ai_time through;
		int was = watermark_known(ps->archived_through);
		if (!run_covers(run, ps->app, ps->type))
			continue;
		/* Failures of hours the window did not reach (--from), or of
		 * another shard's partitions (until its own run), still stand. */
		if (ps->failed && watermark_known(ps->failed_oldest) &&
		    (sh->count ? !ai_shard_owns(sh, ps->app, ps->type, ps->failed_oldest)
		               : !full && ps->failed_oldest < from)) {
			f.failed += ps->failed;
			earliest(&f.failed_oldest, ps->failed_oldest);
			earliest(&f.held, ps->failed_oldest);
		}
		/* A window that does not continue the archived past only ever
		 * holds the recovery point back; with nothing known it stays so. */
		through = joined || (was && from <= ps->archived_through) ? cap
		          : was ? ps->archived_through : AI_TIME_MIN;
		/* A shard sees only its own hours of the part: no further than
		 * every shard of its split has listed and holds (the split's
		 * frontier, known once each has run, ARCHITECTURE.md §7.8). */
		if (sh->count)
			through = !watermark_known(all) ? (was ? ps->archived_through : AI_TIME_MIN)
			          : all < cap ? all : cap;
		earliest(&through, f.held);
		if (through != AI_TIME_MIN)
			ps->archived_through = through;
		ps->failed = f.failed;
		ps->failed_oldest = f.failed ? f.failed_oldest : 0;
		ps->pending = f.pending;
		ps->quarantined = f.quarantined;
		ps->quarantined_oldest = f.quarantined ? f.quarantined_oldest : 0;
		if (f.newest_blob > ps->newest_blob)
			ps->newest_blob = f.newest_blob;
	}
	free(found);
	return AI_OK;
}

/* The shard's own entry: what it left not wholly archived (failed or
 * pending blobs, quarantined names of its partitions), so that its next
 * run lists the failed hours again and the split's frontier waits for
 * them. */
static void shard_holds(const struct run *run, const struct ai_state *st,
                        struct ai_shard_state *e)
{
	ai_time first_open = first_open_hour(run), held = AI_TIME_MAX, failed_at = AI_TIME_MAX;
	uint64_t failed = 0;

	for (size_t i = 0; i < run->nwork; i++) {
		const struct work *w = &run->work[i];
		if (!work_held(w, first_open))
			continue;
		if (w->state == WORK_FAILED) {
			failed++;
			earliest(&failed_at, w->item->hour);
		}
		earliest(&held, w->item->hour);
	}
	for (size_t i = 0; i < st->nquarantined; i++) {
		const struct ai_quarantine_entry *q = &st->quarantined[i];
		if (q->app && q->type && ai_shard_owns(&run->p->shard, q->app, q->type, q->hour))
			earliest(&held, q->hour);
	}
	e->failed = failed;
	e->failed_oldest = failed ? failed_at : 0;
	e->held = held == AI_TIME_MAX ? 0 : held;
}

/* The names of the shard's partitions it listed (of its earlier pages,
 * those the state holds entries of: keep_listed_names) or the state knows
 * as quarantined: where it looked (struct looked). */
static ai_result shard_names(const struct run *run, const struct ai_source_list *items,
                             const struct ai_state *st, struct seen *mine)
{
	ai_result r = AI_OK;

	for (size_t i = 0; r == AI_OK && i < run->mine.cap; i++)
		if (run->mine.keys[i])
			r = seen_put(mine, run->mine.keys[i], 0, NULL);
	for (size_t i = 0; r == AI_OK && i < items->n; i++)
		r = seen_put(mine, items->items[i].name, 0, NULL);
	for (size_t i = 0; r == AI_OK && i < items->nquarantined; i++)
		r = seen_put(mine, items->quarantined[i].name, 0, NULL);
	for (size_t i = 0; r == AI_OK && i < st->nquarantined; i++) {
		const struct ai_quarantine_entry *q = &st->quarantined[i];
		if (q->app && q->type && ai_shard_owns(&run->p->shard, q->app, q->type, q->hour))
			r = seen_put(mine, q->name, 0, NULL);
	}
	return r;
}

/* A run's result r once its blobs are done: partial when some failed,
 * and when every one failed the class of the first failure, so that
 * "nothing got through" shows in the exit code. */
static ai_result partial_result(const struct run *run, const struct ai_run_summary *sum,
                                ai_result r)
{
	if (r == AI_OK && sum->failed)
		r = AI_ERR_PARTIAL;
	if (r != AI_ERR_PARTIAL || sum->blobs != 0)
		return r;
	for (size_t i = 0; i < run->nwork; i++)
		if (run->work[i].state == WORK_FAILED) {
			ai_result e = run->work[i].err;
			if (ai_result_transient(e) || e == AI_ERR_AUTH)
				r = e;
			break;
		}
	return r;
}

static const char *hour_str(ai_time t, char out[AI_TIME_STRLEN]);

/* What the run found goes into the state st: tails, watermark,
 * quarantined names, recovery points, the last run (for a shard, in its
 * entry too). Applied again to a state re-read after another shard saved
 * one meanwhile, so it depends only on the run's own findings and st. */
static void apply_outcome(struct run *run, struct ai_state *st, const struct ai_source_list *items,
                          ai_time from, ai_time to, int full, const struct ai_run_summary *sum)
{
	const struct ai_run_params *p = run->p;
	const struct ai_shard *sh = &p->shard;
	struct seen mine = { 0 };
	struct looked looked = { p->o, full ? AI_TIME_MIN : from, to, sh->count ? &mine : NULL };
	struct ai_shard_state *e = NULL;
	ai_time hold = AI_TIME_MAX, now = p->clock();
	int joined = window_joins(run, st, from, full);
	const char *result = sum->failed ? "partial" : "ok";
	int code = ai_exit_code(partial_result(run, sum, AI_OK));

	if (sh->count && (shard_names(run, items, st, &mine) != AI_OK ||
	                  ai_state_add_shard(st, sh->index, sh->count, &e) != AI_OK)) {
		ai_warn("state: no memory to record the shard's findings");
		seen_release(&mine);
		return;
	}
	if (remember_tails(run, st, &looked, &hold) != AI_OK)
		ai_warn("state: no memory to record the incomplete last lines");
	if (remember_quarantined(run, st, items, &looked) != AI_OK)
		ai_warn("state: no memory to record the quarantined names");
	if (e) {
		/* the entry first: the split's frontier includes this run */
		shard_holds(run, st, e);
		free(e->last_run_id);
		e->last_run_id = strdup(run->run_id);
		e->last_run_time = now;
		free(e->last_run_result);
		e->last_run_result = strdup(result);
		e->last_run_exit = code;
	}
	update_watermark(run, st, from, to, full, hold);
	if (update_partitions(run, st, items, from, to, full, joined) != AI_OK)
		ai_warn("state: no memory to record the recovery point");
	if (sh->count)
		ai_shard_prune(st, sh);
	else if (!p->o->napps && !p->o->ntypes && joined)
		/* a run of the whole archive listed every shard's failed hours */
		for (size_t i = 0; i < st->nshards; i++)
			st->shards[i].failed = 0, st->shards[i].failed_oldest = st->shards[i].held = 0;
	free(st->last_run_id);
	st->last_run_id = strdup(run->run_id);
	st->last_run_time = now;
	free(st->last_run_result);
	st->last_run_result = strdup(result);
	st->last_run_exit = code;
	if (!st->source)
		st->source = strdup(ai_store_describe(p->src));
	if (!st->layout || strcmp(st->layout, ai_layout_name(run->layout)) != 0) {
		free(st->layout);
		st->layout = strdup(ai_layout_name(run->layout));
	}
	seen_release(&mine);
}

/* Whether a newer run of this shard saved the state since this one
 * started: this run lost its lock (it was paused past its lease). */
static int shard_overtaken(const struct run *run, const struct ai_state *st)
{
	const struct ai_shard *sh = &run->p->shard;
	const struct ai_shard_state *e = ai_state_find_shard(st, sh->index, sh->count);

	return e && e->last_run_id && strcmp(e->last_run_id, run->run_id) != 0 &&
	       e->last_run_time >= run->p->now;
}

/* Saves the run's findings in the state. The state is replaced only
 * while it is the one this run read (ARCHITECTURE.md §7.3): a run of the
 * whole archive that finds another state there lost its lock (exit 5). The
 * shards of a split save theirs concurrently, so a shard re-reads the
 * state (and the segments past it), applies its findings again and tries
 * once more (§7.8). AI_ERR_LOCKED when the lock was lost, or the failure
 * to read the archive again (logged); a failure to write the state is a
 * warning (the next run rebuilds it). */
static ai_result save_outcome(struct run *run, struct ai_archive *a,
                              const struct ai_source_list *items, ai_time from, ai_time to,
                              int full, const struct ai_run_summary *sum)
{
	const struct ai_run_params *p = run->p;
	ai_result r = AI_OK;

	for (int attempt = 0; attempt < 32; attempt++) {
		if (attempt) {
			ai_archive_release(a);
			r = ai_archive_open(a, p->dest, &run->trust, 1);
			a->lock = p->lock;
			a->shared = 1;
			if (r != AI_OK) {
				/* what the run committed stays; the next run rebuilds the state */
				ai_error("state '%s': not saved, the archive could not be read again "
				         "(%s)", AI_STATE_NAME, ai_store_why(r));
				return r;
			}
			if (shard_overtaken(run, &a->state)) {
				ai_store_set_error("state '%s': a newer run of shard %u/%u saved it "
				                   "meanwhile (this run lost its lock); not overwritten",
				                   AI_STATE_NAME, p->shard.index, p->shard.count);
				ai_error("%s", ai_store_why(AI_ERR_LOCKED));
				return AI_ERR_LOCKED;
			}
		}
		apply_outcome(run, &a->state, items, from, to, full, sum);
		/* A run that lost its lock writes no state: another run may have
		 * saved a newer one meanwhile (ARCHITECTURE.md §7.3). */
		if (p->lock && (r = ai_lock_confirm(p->lock)) != AI_OK) {
			ai_error("%s; state '%s' not saved", ai_store_why(r), AI_STATE_NAME);
			return r;
		}
		r = ai_archive_save_state(a, p->key, p->clock());
		/* a state that is busy rather than changed is not read again */
		if (r != AI_ERR_LOCKED || !p->shard.count || a->state_busy)
			break;
		ai_debug("state '%s': saved by another shard meanwhile; reading it again",
		         AI_STATE_NAME);
	}
	if (r == AI_ERR_LOCKED) {
		ai_error("%s", ai_store_why(r));
		return r;
	}
	if (r != AI_OK) {
		ai_warn("state '%s': not saved (%s); the next run rebuilds it", AI_STATE_NAME,
		        ai_store_why(r));
	} else {
		char w[AI_TIME_STRLEN];
		ai_time wm = ai_shard_watermark(&a->state, &p->shard);
		ai_info("run: state: saved; listed through %s (the recovery point of "
		        "each app and type: aiarchive status)",
		        watermark_known(wm) ? hour_str(wm, w) : "nothing yet");
	}
	return AI_OK;
}

void ai_run_make_id(ai_time now, char *out, size_t cap)
{
	char t[AI_TIME_STRLEN], hex[9];
	uint8_t rnd[4] = { 0 };

	if (ai_random(rnd, sizeof rnd) != AI_OK)
		memset(rnd, 0, sizeof rnd);
	ai_hex(rnd, sizeof rnd, hex);
	ai_time_format(now, 0, t); /* 2026-11-24T14:30:05Z */
	snprintf(out, cap, "%.4s%.2s%.2sT%.2s%.2s%.2sZ-%s", t, t + 5, t + 8, t + 11, t + 14, t + 17,
	         hex);
}

static void print_dry(const struct run *run, FILE *f, int json)
{
	for (size_t i = 0; i < run->nwork; i++) {
		const struct work *w = &run->work[i];
		char hp[32];
		ai_layout_hour_folder(AI_LAYOUT_CONTINUOUS, w->item->hour, hp, sizeof hp);
		if (json) {
			fputs("{\"blob\":", f);
			ai_json_put(f, w->item->name);
			fprintf(f, ",\"start\":%llu,\"end\":%llu,\"final\":%s,\"new_version\":%s,"
			        "\"app\":", (unsigned long long)w->start, (unsigned long long)w->end,
			        w->final ? "true" : "false", *w->replaces ? "true" : "false");
			ai_json_put(f, w->item->app);
			fputs(",\"type\":", f);
			ai_json_put(f, w->item->type);
			fprintf(f, ",\"hour\":\"%.*s\"}\n", (int)strcspn(hp, "/") + 3, hp);
			continue;
		}
		ai_escape_put(f, w->item->name);
		fprintf(f, "\tbytes %llu-%llu%s%s\t-> data/", (unsigned long long)w->start,
		        (unsigned long long)w->end,
		        w->final ? "" : " (up to the last complete line)",
		        *w->replaces ? " (a new version)" : "");
		ai_escape_put(f, w->item->app);
		fputc('/', f);
		ai_escape_put(f, w->item->type);
		fprintf(f, "/%s\n", hp);
	}
}

/* "2026-11-20T13", the form --from and --to take. */
static const char *hour_str(ai_time t, char out[AI_TIME_STRLEN])
{
	ai_time_format(ai_time_hour(t), 0, out);
	out[13] = '\0';
	return out;
}

/* A --app or --type value that matched no folder of the source: an error
 * for an export that must be complete (--tag, --from, --to), a warning
 * for any other run. Each is named with the nearest names listed. */
static ai_result check_filters(const struct run *run, const struct ai_source_filter *f,
                               const struct ai_source_list *items, enum ai_layout layout)
{
	const struct ai_options *o = run->o;
	struct ai_source_unmatched u[2 * AI_MAX_FILTERS];
	size_t n = ai_source_unmatched(f, items, layout, u, sizeof u / sizeof u[0]);
	int fatal = o->ntags || o->has_from || o->has_to;

	for (size_t i = 0; i < n; i++) {
		int app = strcmp(u[i].option, "--app") == 0;
		/* A workspace export is archived by workspace (§4): its blobs mix
		 * the records of every component sending to it. */
		int ws = app && layout == AI_LAYOUT_WORKSPACE;
		const char *what = ws ? "workspace" : app ? "app" : "type";
		char near[1024] = "";
		size_t len = 0;
		for (size_t k = 0; k < u[i].n && len < sizeof near; k++)
			len += (size_t)snprintf(near + len, sizeof near - len, "%s'%s'", k ? ", " : "",
			                        u[i].nearest[k]);
		ai_log(fatal ? AI_LOG_ERROR : AI_LOG_WARN,
		       "%s '%s' matches no %s in the source (%s%s%s)%s%s", u[i].option, u[i].value,
		       what, u[i].known ? "nearest: " : "it lists no ", u[i].known ? near : what,
		       u[i].known ? "" : "s",
		       fatal ? "; nothing archived, check the name" : "; nothing archived for it",
		       ws ? " (a workspace export is archived by workspace: run --app names the "
		            "workspace; query and cat --app name the component)"
		          : "");
	}
	return n && fatal ? AI_ERR_USAGE : AI_OK;
}

/* ----- a run a page at a time ----- */

/* A copy of it (its strings too) at the end of run->kept; *at: where. */
static ai_result keep_item(struct run *run, const struct ai_source_item *it, size_t *at)
{
	struct ai_source_list *k = &run->kept;
	struct ai_source_item *c;

	if (AI_GROW(k->items, k->n + 1, k->cap) != AI_OK)
		return AI_ERR_NOMEM;
	c = &k->items[k->n];
	*c = *it;
	if (ai_source_item_names(c, it->name, it->app, it->type) != AI_OK)
		return AI_ERR_NOMEM;
	*at = k->n++;
	return AI_OK;
}

/* A shard's page: the names it listed that the state holds a tail or a
 * quarantined entry of (struct looked needs no others), so that what it
 * keeps of its listing is bounded by the state, not by the listing. */
static ai_result keep_listed_names(struct run *run, const struct ai_source_list *items)
{
	const struct ai_state *st = &run->a->state;
	uint64_t end;
	ai_result r = AI_OK;

	if (!run->state_names_made) {
		for (size_t i = 0; r == AI_OK && i < st->ntails; i++)
			r = seen_put(&run->state_names, st->tails[i].name, 0, NULL);
		for (size_t i = 0; r == AI_OK && i < st->nquarantined; i++)
			r = seen_put(&run->state_names, st->quarantined[i].name, 0, NULL);
		if (r != AI_OK)
			return r;
		run->state_names_made = 1;
	}
	for (size_t i = 0; r == AI_OK && i < items->n; i++)
		if (seen_get(&run->state_names, items->items[i].name, &end))
			r = seen_put(&run->mine, items->items[i].name, 0, NULL);
	return r;
}

/* What the state needs of a page once it is archived: per app and type
 * the newest blob listed (one item each: update_partitions), and the work
 * that is not (wholly) archived or ends in an incomplete line, with its
 * item (remember_tails, update_partitions, partial_result). */
static ai_result keep_page(struct run *run, const struct ai_source_list *items)
{
	ai_time first_open = first_open_hour(run);
	struct ai_source_list *k = &run->kept;
	size_t rep = SIZE_MAX, at;
	ai_result r = AI_OK;

	if (run->p->shard.count)
		r = keep_listed_names(run, items);
	for (size_t i = 0; i < items->n && r == AI_OK; i++) {
		const struct ai_source_item *it = &items->items[i];
		if (rep == SIZE_MAX || strcmp(k->items[rep].app, it->app) != 0 ||
		    strcmp(k->items[rep].type, it->type) != 0) {
			/* The items come sorted by app and type: a new part. The
			 * representatives are the kept items with no work. */
			for (rep = 0; rep < k->n; rep++)
				if (k->items[rep].size == UINT64_MAX &&
				    strcmp(k->items[rep].app, it->app) == 0 &&
				    strcmp(k->items[rep].type, it->type) == 0)
					break;
			if (rep == k->n) {
				if ((r = keep_item(run, it, &rep)) != AI_OK)
					break;
				k->items[rep].size = UINT64_MAX;
			}
		}
		if (it->last_modified > k->items[rep].last_modified)
			k->items[rep].last_modified = it->last_modified;
	}
	for (size_t i = 0; i < run->nwork && r == AI_OK; i++) {
		struct work *w = &run->work[i];
		const struct ai_source_item *it = w->item;
		if (!work_held(w, first_open) && !(it->append && it->hour < first_open && !w->final))
			continue;
		if (AI_GROW(run->kept_work, run->nkept + 1, run->capkept) != AI_OK ||
		    AI_GROW(run->kept_item, run->nkept + 1, run->capkept_item) != AI_OK ||
		    (r = keep_item(run, it, &at)) != AI_OK) {
			r = AI_ERR_NOMEM;
			break;
		}
		drop_member(w);
		run->kept_work[run->nkept] = *w;
		run->kept_work[run->nkept].item = NULL;
		run->kept_item[run->nkept++] = at;
		w->why = NULL;
	}
	return r;
}

/* Frees the page's work. */
static void drop_page(struct run *run)
{
	seen_release(&run->foreign);
	seen_release(&run->page_names);
	ai_idset_release(&run->page_ids);
	for (size_t i = 0; i < run->nwork; i++) {
		drop_member(&run->work[i]);
		free(run->work[i].why);
	}
	/* Left only when recording failed: the run stops. */
	for (size_t i = 0; i < run->nready; i++)
		free(run->ready[i].ref.name);
	run->nready = 0;
	free(run->work);
	free(run->parts);
	run->work = NULL;
	run->parts = NULL;
	run->nwork = run->nparts = run->next_part = 0;
}

/* The page's work, from what the manifest records of its hours (of the
 * whole window when the listing is one page). */
static ai_result plan_page(struct run *run, struct ai_source_list *items)
{
	struct seen seen = { 0 };
	uint64_t *seqs = NULL;
	size_t nseqs = 0;
	ai_time lo = AI_TIME_MAX, hi = AI_TIME_MIN;
	ai_result r;

	for (size_t i = 0; i < items->n; i++) {
		earliest(&lo, items->items[i].hour);
		if (items->items[i].hour > hi)
			hi = items->items[i].hour;
	}
	if (!run->paging) {
		lo = run->filter->from;
		hi = run->filter->to - HOUR;
	}
	/* What is archived already: the segments holding these hours, of
	 * the page's blobs (those segments may hold far more). */
	r = AI_OK;
	for (size_t i = 0; r == AI_OK && i < items->n; i++)
		r = seen_put(&run->page_names, items->items[i].name, 0, NULL);
	if (r == AI_OK && lo <= hi)
		r = ai_state_segments_by_delivery(&run->a->state, lo, hi + HOUR, &seqs, &nseqs);
	if (r == AI_OK)
		r = seen_add_segments(&seen, &run->page_names, run->p->dest, &run->trust, seqs, nseqs);
	if (r == AI_OK)
		r = make_plan(run, items, &seen, &run->a->state);
	seen_release(&seen);
	free(seqs);
	if (r != AI_OK) {
		ai_error("manifest: %s", ai_store_why(r));
		return r;
	}
	{
		uint64_t bytes = 0;
		for (size_t i = 0; i < run->nwork; i++)
			bytes += run->work[i].end - run->work[i].start;
		ai_info("run: decide: %zu skipped as archived, %zu to archive (%.1f MiB) in %zu "
		        "partitions, %zu not ready (empty in an open hour, or shorter than archived)",
		        run->skipped_archived, run->nwork, (double)bytes / (1 << 20), run->nparts,
		        items->n - run->skipped_archived - run->nwork);
		run->planned += run->nwork;
		run->planned_bytes += bytes;
	}
	return AI_OK;
}

/* Plans, archives and records one page of the listing, then keeps what
 * the state needs of it and frees the rest. */
static ai_result do_page(struct run *run, struct ai_source_list *items)
{
	struct ai_run_summary *sum = run->sum;
	ai_result r, kr;

	run->skipped_archived = 0;
	r = plan_page(run, items);
	if (r == AI_OK) {
		ai_progress_total(run->p->progress, run->planned, run->planned_bytes);
		r = run_workers(run);
	}
	if (r == AI_OK)
		r = record(run, run->a, sum);
	/* Counted once recorded: a pack that waited past the bound fails its
	 * blobs only as its segment is committed (drop_late). */
	for (size_t i = 0; i < run->nwork; i++) {
		sum->failed += run->work[i].state == WORK_FAILED;
		if (run->work[i].state == WORK_FAILED && !sum->failure[0] && run->work[i].why)
			snprintf(sum->failure, sizeof sum->failure, "%s", run->work[i].why);
		sum->pending += run->work[i].state == WORK_PARTIAL;
	}
	kr = keep_page(run, items);
	if (kr != AI_OK)
		ai_error("run: out of memory");
	drop_page(run);
	run->pages++;
	return r == AI_OK ? kr : r;
}

/* A dry run's page: planned and printed, nothing archived. Its preflight
 * reads a byte of the first planned blob (or of the first listed one,
 * when nothing is to be archived; ARCHITECTURE.md §3.1). */
static ai_result dry_page(struct run *run, struct ai_source_list *items)
{
	const struct ai_run_params *p = run->p;
	ai_result r;

	run->skipped_archived = 0;
	r = plan_page(run, items);
	if (r == AI_OK && !run->preflight_done && run->nwork) {
		r = ai_preflight_read(p->src, "source", run->work[0].item->name, p->preflight_out);
		run->preflight_done = 1;
	} else if (r == AI_OK && !run->dry_first && items->n &&
	           !(run->dry_first = strdup(items->items[0].name))) {
		r = AI_ERR_NOMEM;
	}
	if (r == AI_OK) {
		print_dry(run, p->dry_out, p->dry_json);
		for (size_t i = 0; i < run->nwork; i++) {
			run->sum->blobs++;
			run->sum->bytes_in += run->work[i].end - run->work[i].start;
		}
	}
	drop_page(run);
	run->pages++;
	return r;
}

/* The scan's flush: one page, once the filters are checked (a run over
 * fewer blobs checks them after its listing, before it archives). */
static ai_result flush_page(void *ctx, struct ai_source_list *items)
{
	struct run *run = ctx;
	ai_result r = AI_OK;

	if (!run->pages && (run->o->napps || run->o->ntypes)) {
		/* Only the app and type folders: an empty window of hours. */
		struct ai_source_filter folders = *run->filter;
		struct ai_source_list names;
		ai_source_list_init(&names);
		folders.from = folders.to = run->filter->to;
		r = ai_source_scan(run->p->src, run->layout, &folders, &names);
		if (r == AI_OK)
			r = check_filters(run, run->filter, &names, run->layout);
		else
			ai_error("source: %s", ai_store_why(r));
		ai_source_list_release(&names);
	}
	run->paging = 1;
	if (r == AI_OK)
		r = run->p->dry_out ? dry_page(run, items) : do_page(run, items);
	run->listed += items->n;
	ai_source_list_drop_items(items);
	run->page_r = r;
	return r;
}

/* Once the last page is done: the kept items become the run's list (its
 * quarantined names stay) and the kept work its work. */
static void adopt_kept(struct run *run, struct ai_source_list *items)
{
	ai_source_list_drop_items(items);
	free(items->items);
	items->items = run->kept.items;
	items->n = run->kept.n;
	items->cap = run->kept.cap;
	memset(&run->kept, 0, sizeof run->kept);
	run->work = run->kept_work;
	run->nwork = run->nkept;
	for (size_t i = 0; i < run->nkept; i++)
		run->work[i].item = &items->items[run->kept_item[i]];
	run->kept_work = NULL;
	run->nkept = run->capkept = 0;
}

/* The archive's key chain into trust: dest must be an archive (`init`
 * makes one: a typo in --dest must not start a second) and p->key its
 * current key; with p->old_key, once the lock is held (write), the
 * rotation to p->key is recorded first. Without write nothing is written,
 * and a rotation is only checked. Failures are logged. */
static ai_result archive_keys(const struct ai_run_params *p, struct ai_trust *trust, int write,
                              struct ai_run_summary *sum)
{
	const char *dest = ai_store_describe(p->dest);
	int already = 0, done = 0;
	ai_result r;

	r = ai_archive_keys(p->dest, trust, write && !p->dry_out);
	if (r == AI_ERR_NOT_FOUND) {
		ai_error("dest '%s': no archive here; create it with 'aiarchive init --dest %s "
		         "--key FILE'", dest, dest);
		return AI_ERR_CONFIG;
	}
	if (r != AI_OK) {
		ai_error("keys: %s", ai_store_why(r));
		return r;
	}
	memcpy(sum->archive_id, trust->archive_id, sizeof sum->archive_id);
	if (!p->key)
		return AI_OK; /* a dry run signs nothing */
	if (p->old_key && write)
		r = ai_identity_rotate(p->dest, trust, p->old_key, p->key, p->clock(), &done);
	else if (p->old_key)
		r = ai_identity_can_rotate(trust, p->old_key, p->key, &already);
	if (r == AI_OK && (write || !p->old_key || already))
		r = ai_identity_check_key(trust, p->key);
	if (r != AI_OK) {
		ai_error("%s", ai_store_why(r));
		return r;
	}
	ai_minisign_keyid_hex(trust->chain[trust->nchain - 1].keyid, sum->key_id);
	if (done) {
		sum->rotation = trust->nchain - 1;
		ai_minisign_keyid_hex(trust->chain[trust->nchain - 2].keyid, sum->rotated_from);
		ai_info("key rotation %llu: key %s replaces key %s", (unsigned long long)sum->rotation,
		        sum->key_id, sum->rotated_from);
	}
	return AI_OK;
}

ai_result ai_run(const struct ai_run_params *p, struct ai_run_summary *sum)
{
	struct run run = { .p = p, .o = p->o };
	struct ai_archive a;
	struct ai_source_list items;
	struct ai_source_filter filter;
	enum ai_layout layout;
	ai_time from, to;
	int full, archive_open = 0;
	ai_result r;

	memset(sum, 0, sizeof *sum);
	sum->segment = -1;
	sum->segment_first = -1;
	sum->watermark = AI_TIME_MIN;
	ai_source_list_init(&items);
	pthread_mutex_init(&run.mu, NULL);
	pthread_mutex_init(&run.budget_mu, NULL);
	pthread_cond_init(&run.budget_cv, NULL);
	pthread_mutex_init(&run.ids_mu, NULL);
	ai_idset_init(&run.page_ids, MAX_SEGMENT_IDS);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&run.cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	/* The run trusts the archive's key chain; it signs with the current key. */
	ai_trust_init(&run.trust);
	run.seg_max = p->segment_members ? p->segment_members : AI_RUN_SEGMENT_MEMBERS;
	/* A page, and its segment, holds up to a quarter more than seg_max. */
	if (run.seg_max > AI_MANIFEST_MAX_MEMBERS / 2)
		run.seg_max = AI_MANIFEST_MAX_MEMBERS / 2;
	snprintf(run.run_id, sizeof run.run_id, "%s", p->run_id);
	memcpy(sum->run_id, run.run_id, sizeof sum->run_id);

	r = ai_layout_parse(p->o->layout, &layout);
	if (r == AI_OK && layout == AI_LAYOUT_AUTO)
		r = ai_source_detect(p->src, &layout);
	if (r != AI_OK) {
		ai_error("source: %s", ai_store_why(r));
		goto out;
	}
	sum->layout = layout;
	run.layout = layout;
	run.schema = ai_layout_schema(layout);
	run.settle = ai_source_settle(layout, p->o->grace, p->o->late_window);

	r = archive_keys(p, &run.trust, 1, sum);
	if (r != AI_OK)
		goto out;
	r = ai_archive_open(&a, p->dest, &run.trust, !p->dry_out);
	archive_open = 1;
	a.lock = p->lock;
	a.shared = p->shard.count > 0;
	/* Before anything is planned or written: the chain must contain what
	 * the witnesses saw (ARCHITECTURE.md §9.6). */
	r = ai_witness_check(p->witness, p->dest, &run.trust, &a, r);
	if (r != AI_OK) {
		ai_error("manifest: %s", ai_store_why(r));
		goto out;
	}
	if (p->key && !p->dry_out && (r = ai_archive_publish_key(p->dest, p->key)) != AI_OK) {
		ai_error("keys: %s", ai_store_why(r));
		goto out;
	}

	plan_window(p, &a.state, &from, &to, &full);
	sum->window_from = from;
	sum->window_to = to;
	{
		char f[AI_TIME_STRLEN], t[AI_TIME_STRLEN], w[AI_TIME_STRLEN];
		if (full)
			ai_info("run: plan: the whole history up to %s (no watermark yet)", hour_str(to, t));
		else
			ai_info("run: plan: delivery hours %s to %s (%lld hours%s; watermark %s)",
			        hour_str(from, f), hour_str(to, t), (long long)((to - from) / HOUR),
			        p->o->rescan ? ", with --rescan" : "",
			        watermark_known(a.state.watermark) ? hour_str(a.state.watermark, w)
			                                           : "none");
	}
	filter = (struct ai_source_filter){ p->o->apps, p->o->napps, p->o->types, p->o->ntypes,
	                                    full ? AI_TIME_MIN : from, to,
	                                    p->shard.count ? &p->shard : NULL, (unsigned)p->o->jobs };
	run.a = &a;
	run.sum = sum;
	run.filter = &filter;
	/* A page at a time: a dry run prints each page's plan. */
	items.flush = flush_page;
	items.flush_ctx = &run;
	items.flush_every = run.seg_max;
	r = ai_source_scan(p->src, layout, &filter, &items);
	if (r != AI_OK && run.page_r == AI_OK) {
		ai_error("source: %s", ai_store_why(r));
		goto out;
	}
	if (r == AI_OK) {
		ai_info("run: listed %zu blobs (apps seen %zu, types seen %zu, quarantined %zu)",
		        run.listed + items.n, items.apps_seen.n, items.types_seen.n,
		        items.nquarantined);
		/* A run of several pages checked them before its first. */
		if (!run.pages && (r = check_filters(&run, &filter, &items, layout)) != AI_OK)
			goto out;
		report_quarantined(&items);
		sum->quarantined = items.nquarantined;
	}
	if (r == AI_OK && p->dry_out) {
		/* The last page, then the preflight's last check: the run may
		 * read what it lists. */
		if ((items.n || !run.pages) && (r = dry_page(&run, &items)) != AI_OK)
			goto out;
		if (!run.preflight_done &&
		    (r = ai_preflight_read(p->src, "source", run.dry_first, p->preflight_out)) != AI_OK)
			goto out;
		sum->watermark = ai_shard_watermark(&a.state, &p->shard);
		goto out;
	}
	/* The last page (the only one of a run over few blobs). */
	if (r == AI_OK && (items.n || !run.pages))
		r = do_page(&run, &items);
	adopt_kept(&run, &items);
	/* Packs count once a segment records them. */
	ai_info("run: packs: %llu committed (%.1f MiB), %llu blobs failed, %llu ranges pending",
	        (unsigned long long)sum->packs, (double)sum->bytes_out / (1 << 20),
	        (unsigned long long)sum->failed, (unsigned long long)sum->pending);
	if (r == AI_OK && sum->segments)
		ai_info("run: commit: %llu members in %llu segment%s (%lld to %lld)",
		        (unsigned long long)sum->blobs, (unsigned long long)sum->segments,
		        sum->segments == 1 ? "" : "s", (long long)sum->segment_first,
		        (long long)sum->segment);
	else if (r == AI_OK)
		ai_info("run: commit: nothing to record, no segment written");
	if (r == AI_OK) {
		r = save_outcome(&run, &a, &items, from, to, full, sum);
		if (r != AI_OK)
			goto out;
		/* The segments are the truth; the state is a summary. */
		r = ai_witness_record(p->witness, p->dest, &run.trust, &a, p->key, p->clock());
	}
	sum->watermark = ai_shard_watermark(&a.state, &p->shard);
	r = partial_result(&run, sum, r);
out:
	ai_store_get_stats(p->src, &sum->src_stats);
	ai_store_get_stats(p->dest, &sum->dest_stats);
	for (size_t i = 0; i < run.nwork; i++) {
		drop_member(&run.work[i]);
		free(run.work[i].why);
	}
	for (size_t i = 0; i < run.nready; i++)
		free(run.ready[i].ref.name);
	free(run.ready);
	free(run.work);
	free(run.parts);
	for (size_t i = 0; i < run.nkept; i++)
		free(run.kept_work[i].why);
	free(run.kept_work);
	free(run.kept_item);
	ai_source_list_release(&run.kept);
	ai_source_list_release(&items);
	seen_release(&run.state_names);
	seen_release(&run.mine);
	free(run.dry_first);
	if (archive_open)
		ai_archive_release(&a);
	seen_release(&run.foreign);
	seen_release(&run.page_names);
	ai_trust_release(&run.trust);
	pthread_cond_destroy(&run.cv);
	pthread_mutex_destroy(&run.mu);
	pthread_cond_destroy(&run.budget_cv);
	pthread_mutex_destroy(&run.budget_mu);
	pthread_mutex_destroy(&run.ids_mu);
	ai_idset_release(&run.page_ids);
	return r;
}

/* A dry run's preflight (ARCHITECTURE.md §3.1), before the dry run lists
 * and plans: the signing key is the archive's current one (reading the
 * key chain: read and list), the source lists, and the archive lets this
 * run take the run lock (write and lease). The read of the source is
 * checked once the plan names a blob (ai_run). */
static ai_result preflight(const struct ai_run_params *p, struct ai_run_summary *sum)
{
	FILE *out = p->preflight_out;
	struct ai_trust trust;
	ai_result r;

	ai_trust_init(&trust);
	r = archive_keys(p, &trust, 0, sum);
	ai_trust_release(&trust);
	if (r != AI_OK)
		return r;
	if (p->key)
		ai_preflight_say(out, "signing key %s: the archive's current key (archive %s)",
		                 sum->key_id, sum->archive_id);
	ai_preflight_say(out, "dest: read and list ok (the key chain), %s",
	                 ai_store_credential(p->dest));
	r = ai_preflight_list(p->src, "source", out);
	if (r == AI_OK) {
		char name[128];
		ai_shard_lock_name(&p->shard, name, sizeof name);
		r = ai_preflight_lock(p->dest, name, p->o->lock_duration, p->run_id, out);
	}
	return r;
}

/* Whether the other kind of run holds its lock: for a shard, a run of
 * the whole archive (locks/run); for that one, any shard. Each takes its
 * own lock first and then looks, so of two that start together at least
 * one sees the other (ARCHITECTURE.md §7.8). *other names the lock. */
static ai_result other_kind_busy(const struct ai_run_params *p, char *other, size_t cap)
{
	int busy = 0;
	ai_result r;

	if (!p->shard.count)
		return ai_lock_busy_below(p->dest, AI_SHARD_LOCK_PREFIX, other, cap);
	r = ai_lock_busy(p->dest, AI_LOCK_NAME, &busy);
	snprintf(other, cap, "%s", busy ? AI_LOCK_NAME : "");
	return r;
}

/* Takes the run's lock: the whole archive's, or its shard's, which no
 * other shard waits for; then makes sure the other kind of run is not
 * going on (with --wait, waits for it, else exit 5). */
static ai_result take_lock(const struct ai_run_params *p, struct ai_lock **lock)
{
	char name[128], other[256];
	double give_up = ai_clock_mono_s() + 24 * 3600;
	ai_result r;

	ai_shard_lock_name(&p->shard, name, sizeof name);
	for (;;) {
		r = ai_lock_take_named(p->dest, name, p->o->lock_duration, p->o->wait, p->run_id, lock);
		if (r != AI_OK)
			return r;
		r = other_kind_busy(p, other, sizeof other);
		if (r != AI_OK) {
			ai_error("lock: %s", ai_store_why(r));
			break;
		}
		if (!*other)
			return AI_OK;
		ai_lock_release(*lock);
		*lock = NULL;
		if (!p->o->wait || ai_clock_mono_s() >= give_up) {
			ai_error("dest: %s holds the lock %s; a %s does not run beside it",
			         p->shard.count ? "a run of the whole archive" : "a shard's run", other,
			         p->shard.count ? "shard" : "run of the whole archive");
			return AI_ERR_LOCKED;
		}
		sleep(2);
	}
	ai_lock_release(*lock);
	*lock = NULL;
	return r;
}

ai_result ai_run_locked(const struct ai_run_params *p, struct ai_run_summary *sum)
{
	char sku[64] = "unknown";
	struct ai_lock *lock = NULL;
	ai_result r;

	memset(sum, 0, sizeof *sum);
	if (!p->o->dry_run) {
		/* Nothing is written (not even the container or the lock) into a
		 * destination that is no archive, or with another key. */
		struct ai_trust trust;
		ai_trust_init(&trust);
		r = archive_keys(p, &trust, 0, sum);
		ai_trust_release(&trust);
		if (r != AI_OK)
			return r;
		r = ai_store_create_container(p->dest);
		if (r != AI_OK) {
			ai_error("dest: %s", ai_store_why(r));
			return r;
		}
		ai_replication_check(p->dest, sku);
		r = take_lock(p, &lock);
		if (r != AI_OK)
			return r;
	} else {
		r = preflight(p, sum);
		if (r != AI_OK)
			return r;
	}
	{
		struct ai_run_params locked = *p;
		locked.lock = lock;
		r = ai_run(&locked, sum);
	}
	ai_lock_release(lock);
	/* The lock's last renewal and its release are requests of this run
	 * too: the counts are taken once the lock is gone. */
	ai_store_get_stats(p->src, &sum->src_stats);
	ai_store_get_stats(p->dest, &sum->dest_stats);
	memcpy(sum->sku, sku, sizeof sum->sku);
	return r;
}
