/* manifest.c: segments in memory (building, releasing, checking them), and
 * the helpers the manifest's files share (manifest_int.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format/manifest.h"
#include "format/manifest_int.h"
#include "util/alloc.h"

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

void ai_manifest_strs_free(char **v, size_t n)
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
			ai_manifest_strs_free(*out, n);
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
	ai_manifest_strs_free(m->roles, m->nroles);
	ai_manifest_strs_free(m->apps, m->napps);
	free(m->bloom);
	memset(m, 0, sizeof *m);
}

void ai_segment_release(struct ai_segment *seg)
{
	if (!seg)
		return;
	free(seg->run_id);
	free(seg->key_id);
	ai_manifest_strs_free(seg->tags, seg->ntags);
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
	r = ai_grow_uncounted(&seg->members, seg->nmembers, sizeof *seg->members);
	if (r != AI_OK)
		return r;
	d = &seg->members[seg->nmembers];
	*d = *m;
	d->blob = dup_str(m->blob);
	d->app = dup_str(m->app);
	d->type = dup_str(m->type);
	d->roles = NULL;
	d->apps = NULL;
	d->bloom = NULL;
	r = AI_ERR_NOMEM;
	if ((m->blob && !d->blob) || (m->app && !d->app) || (m->type && !d->type))
		goto fail;
	if (m->nroles && !m->roles)
		goto fail_input;
	r = dup_strs(m->roles, m->nroles, &d->roles);
	if (r != AI_OK)
		goto fail;
	if (m->napps && !m->apps)
		goto fail_input;
	r = dup_strs(m->apps, m->napps, &d->apps);
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
	d->napps = d->apps ? d->napps : 0;
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
	r = ai_grow_uncounted(&seg->packs, seg->npacks, sizeof *seg->packs);
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
	if (strnlen(m->replaces, sizeof m->replaces) >= sizeof m->replaces)
		return ai_manifest_bad(why, cap, "member %zu: replaces: too long", i);
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
	if (m->napps > AI_MEMBER_MAX_APPS || (m->napps && !m->has_apps))
		return ai_manifest_bad(why, cap, "member %zu: %zu apps", i, m->napps);
	if (m->napps && !m->apps)
		return ai_manifest_bad(why, cap, "member %zu: apps missing", i);
	for (size_t j = 0; j < m->napps; j++) {
		if ((e = check_str(m->apps[j])))
			return ai_manifest_bad(why, cap, "member %zu: app %zu: %s", i, j, e);
		if (!*m->apps[j] || (j && strcmp(m->apps[j - 1], m->apps[j]) >= 0))
			return ai_manifest_bad(why, cap, "member %zu: apps not distinct and ascending",
			                       i);
	}
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
