/* segindex.c: a segment's index, built from the segment: its members'
 * distinct apps (with the apps their rows carry), types and roles, with the operation-id filter the caller
 * made. */
#include <stdlib.h>
#include <string.h>
#include "format/manifest_int.h"
#include "format/segindex.h"
#include "util/alloc.h"

void ai_segment_index_init(struct ai_segment_index *x)
{
	memset(x, 0, sizeof *x);
}

void ai_segment_index_release(struct ai_segment_index *x)
{
	if (!x)
		return;
	ai_manifest_strs_free(x->apps, x->napps);
	ai_manifest_strs_free(x->types, x->ntypes);
	ai_manifest_strs_free(x->roles, x->nroles);
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
	if (ai_grow_uncounted(&l->v, l->n, sizeof *l->v) != AI_OK)
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
		/* Workspace export: the apps the rows carry too (a member that
		 * may carry any leaves the index nothing to rule out by). */
		for (size_t k = 0; k < m->napps && r == AI_OK; k++)
			r = names_add(&apps, m->apps[k]);
		if (m->has_apps && !m->napps)
			apps.full = 1;
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
