/* gc.c: finds the objects under data/ that no segment of a fully checked
 * chain names, and removes those old enough. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/archive.h"
#include "engine/gc.h"
#include "engine/witness.h"
#include "engine/identity.h"
#include "util/alloc.h"
#include "util/log.h"

/* Deletes between two confirmations of the lock. */
#define GC_BATCH 64

#define SIG_SUFFIX ".minisig"

void ai_gc_report_init(struct ai_gc_report *rep)
{
	memset(rep, 0, sizeof *rep);
}

void ai_gc_report_release(struct ai_gc_report *rep)
{
	if (!rep)
		return;
	ai_strvec_release(&rep->packs);
	for (size_t i = 0; i < rep->nvictims; i++)
		free(rep->victims[i].name);
	free(rep->victims);
	memset(rep, 0, sizeof *rep);
}

/* What one gc carries from step to step. */
struct gc {
	const struct ai_gc_params *p;
	struct ai_gc_report *rep;
};

/* A pack some segment names, or the signature of one. */
static ai_result referenced(const struct ai_gc_report *rep, const char *name, int *yes)
{
	size_t n = strlen(name), sl = strlen(SIG_SUFFIX);
	char *base;

	*yes = ai_strvec_has_sorted(&rep->packs, name);
	if (*yes || n <= sl || strcmp(name + n - sl, SIG_SUFFIX) != 0)
		return AI_OK;
	if (!(base = strndup(name, n - sl)))
		return AI_ERR_NOMEM;
	*yes = ai_strvec_has_sorted(&rep->packs, base);
	free(base);
	return AI_OK;
}

static ai_result victim_add(struct ai_gc_report *rep, const struct ai_blob_info *b)
{
	if (AI_GROW(rep->victims, rep->nvictims + 1, rep->cap) != AI_OK)
		return AI_ERR_NOMEM;
	if (!(rep->victims[rep->nvictims].name = strdup(b->name)))
		return AI_ERR_NOMEM;
	rep->victims[rep->nvictims].size = b->size;
	rep->victims[rep->nvictims].last_modified = b->last_modified;
	rep->victims[rep->nvictims].removed = 0;
	rep->nvictims++;
	return AI_OK;
}

/* What a failed manifest read means here: anything but the service being
 * unreachable or refusing us, or a file:// object another process keeps
 * locked (busy, not changed), is an archive gc cannot trust. */
static ai_result untrusted(ai_result r)
{
	if (r == AI_ERR_AUTH || r == AI_ERR_NOMEM || r == AI_ERR_LOCKED || ai_result_transient(r))
		return r;
	return AI_ERR_VERIFY;
}

/* A listing page of segments: any numbered past the chain's end
 * (*ctx segments) is refused. */
static ai_result check_past_end(void *ctx, const struct ai_blob_list *page)
{
	uint64_t next_seq = *(const uint64_t *)ctx;

	for (size_t i = 0; i < page->n; i++) {
		unsigned long long seq;
		int end = 0;
		if (sscanf(page->blobs[i].name, "manifest/segments/%llu.seg%n", &seq, &end) == 1 &&
		    page->blobs[i].name[end] == '\0' && seq >= next_seq) {
			ai_error("segment '%s': past the end of the chain (%llu segments); "
			         "removing nothing", page->blobs[i].name, (unsigned long long)next_seq);
			return AI_ERR_VERIFY;
		}
	}
	return AI_OK;
}

/* A segment of the chain: it must be there, read, decode and link to the
 * one before; its packs are in use. */
static ai_result collect_packs(void *ctx, const struct ai_archive_link *l)
{
	struct gc *g = ctx;
	struct ai_gc_report *rep = g->rep;
	ai_result r = ai_archive_link_trusted(g->p->dest, g->p->trust, l);

	if (r == AI_ERR_NOT_FOUND) {
		ai_error("segment '%s': missing; removing nothing", l->name);
		return AI_ERR_VERIFY;
	}
	if (r != AI_OK) {
		ai_error("manifest: %s; removing nothing", ai_store_why(r));
		return untrusted(r);
	}
	if (!l->linked) {
		ai_error("segment '%s': does not link to the segment before it; removing nothing",
		         l->name);
		return AI_ERR_VERIFY;
	}
	for (size_t i = 0; i < l->seg.npacks && r == AI_OK; i++)
		r = ai_strvec_push(&rep->packs, l->seg.packs[i].name);
	if (r == AI_OK)
		rep->segments++;
	return r;
}

/* Reads every segment of the chain, checks that each links to the one
 * before and the last to the state's head, and collects their packs.
 * Refuses (AI_ERR_VERIFY) on anything it cannot account for, including a
 * segment past the end of the chain, since its packs would look unused. */
static ai_result load_chain(struct gc *g)
{
	struct ai_store *dest = g->p->dest;
	struct ai_archive a;
	struct ai_archive_walk w = { .from = 0 };
	char why[AI_TRUST_MAX_KEYS * 24 + 64];
	ai_result r;

	/* An archive with a genesis: only its key chain is trusted. */
	r = ai_archive_keys(dest, g->p->trust, 0);
	if (r != AI_OK && r != AI_ERR_NOT_FOUND) {
		ai_error("%s; removing nothing", ai_store_why(r));
		return untrusted(r);
	}
	if (ai_trust_pin_outside(g->p->trust, why, sizeof why)) {
		ai_error("dest '%s': %s; removing nothing", ai_store_describe(dest), why);
		return AI_ERR_VERIFY;
	}
	r = ai_archive_open(&a, dest, g->p->trust, 0);
	/* Packs of segments a rollback removed look unreferenced: the chain
	 * must contain what the witnesses saw (ARCHITECTURE.md §9.6). */
	r = ai_witness_check(g->p->witness, dest, g->p->trust, &a, r);
	if (r != AI_OK) {
		ai_error("manifest: %s; removing nothing", ai_store_why(r));
		ai_archive_release(&a);
		return untrusted(r);
	}
	w.to = a.state.next_seq;
	r = ai_archive_walk(dest, &w, collect_packs, g);
	if (r != AI_OK)
		goto out;
	if (memcmp(w.head, a.state.head_sha256, sizeof w.head) != 0) {
		ai_error("manifest: the chain does not end at the state's head; removing nothing");
		r = AI_ERR_VERIFY;
		goto out;
	}
	/* ai_archive_open stops at the first missing number; a segment after a
	 * gap would still be the truth about its packs. */
	r = ai_store_list_each(dest, "manifest/segments/", NULL, check_past_end, &a.state.next_seq);
	if (r != AI_OK && r != AI_ERR_VERIFY) {
		ai_error("manifest: cannot be listed (%s); removing nothing", ai_store_why(r));
		r = untrusted(r);
	}
	if (r != AI_OK)
		goto out;
	ai_strvec_sort(&g->rep->packs);
out:
	ai_archive_release(&a);
	return r;
}

/* A listing page of data/: picks the unreferenced objects changed before
 * the cutoff. */
static ai_result pick_victims(void *ctx, const struct ai_blob_list *page)
{
	struct gc *g = ctx;
	struct ai_gc_report *rep = g->rep;
	ai_result r = AI_OK;

	for (size_t i = 0; i < page->n && r == AI_OK; i++) {
		const struct ai_blob_info *b = &page->blobs[i];
		int yes;
		if (strncmp(b->name, AI_GC_DATA_PREFIX, strlen(AI_GC_DATA_PREFIX)) != 0)
			continue;
		rep->objects++;
		r = referenced(rep, b->name, &yes);
		if (r != AI_OK || yes)
			continue;
		if (b->last_modified > g->p->cutoff)
			rep->young++;
		else if ((r = victim_add(rep, b)) == AI_OK)
			rep->victim_bytes += b->size;
	}
	return r;
}

/* Lists data/ and picks the unreferenced objects changed before the cutoff. */
static ai_result find_victims(struct gc *g)
{
	ai_result r;

	r = ai_store_list_each(g->p->dest, AI_GC_DATA_PREFIX, NULL, pick_victims, g);
	if (r != AI_OK)
		ai_error("dest: cannot list '" AI_GC_DATA_PREFIX "' (%s)", ai_store_why(r));
	return r;
}

/* AI_OK when gc may go on deleting: the lock is confirmed synchronously
 * (a run may have taken it over while gc was paused); AI_ERR_LOCKED, said
 * in one line, once it is lost. */
static ai_result still_ours(struct gc *g, size_t left)
{
	ai_result r;

	if (!g->p->lock || (r = ai_lock_confirm(g->p->lock)) == AI_OK)
		return AI_OK;
	ai_error("%s; removing nothing more (%zu unreferenced objects left for a later gc)",
	         ai_store_why(r), left);
	g->rep->failed += left;
	return r;
}

/* Deletes the victims, in batches of GC_BATCH, each after the lock is
 * confirmed. Stops early when the service refuses us or the lock is lost
 * (a run may have started). */
static ai_result remove_victims(struct gc *g)
{
	struct ai_gc_report *rep = g->rep;

	for (size_t i = 0; i < rep->nvictims; i++) {
		const struct ai_gc_victim *v = &rep->victims[i];
		ai_result r;
		if (i % GC_BATCH == 0 && (r = still_ours(g, rep->nvictims - i)) != AI_OK)
			return r;
		r = ai_store_delete(g->p->dest, v->name);
		if (r == AI_OK || r == AI_ERR_NOT_FOUND) {
			ai_info("object '%s': removed (%" PRIu64 " bytes)", v->name, v->size);
			rep->removed++;
			rep->removed_bytes += v->size;
			rep->victims[i].removed = 1;
			continue;
		}
		ai_error("object '%s': cannot remove (%s)", v->name, ai_store_why(r));
		if (r == AI_ERR_AUTH)
			return r;
		rep->failed++;
	}
	return AI_OK;
}

ai_result ai_gc(const struct ai_gc_params *p, struct ai_gc_report *rep)
{
	struct gc g = { .p = p, .rep = rep };
	ai_result r;

	r = load_chain(&g);
	if (r == AI_OK)
		r = find_victims(&g);
	/* Data old enough to go without any segment is more likely a lost
	 * manifest or a wrong --dest than the leftovers of a first run that
	 * never finished (young data may be a first run's, still going). */
	if (r == AI_OK && rep->segments == 0 && rep->nvictims > 0) {
		ai_error("manifest: no segment, yet %" PRIu64 " objects under '" AI_GC_DATA_PREFIX
		         "'; removing nothing", rep->objects);
		r = AI_ERR_VERIFY;
	}
	if (r == AI_OK && !p->dry_run)
		r = remove_victims(&g);
	if (r == AI_OK && !p->dry_run)
		r = still_ours(&g, 0);
	if (r == AI_OK && ai_store_cleanup(p->dest, p->cutoff, p->dry_run, &rep->tmp) != AI_OK)
		ai_error("dest: %s", ai_store_why(AI_ERR_IO));
	return r;
}
