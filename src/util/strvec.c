/* strvec.c: a growable vector of owned strings. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"
#include "util/strvec.h"

ai_result ai_strvec_pushn(struct ai_strvec *sv, const char *s, size_t n)
{
	char *copy;

	if (AI_GROW(sv->v, sv->n + 1, sv->cap) != AI_OK)
		return AI_ERR_NOMEM;
	if (!(copy = malloc(n + 1)))
		return AI_ERR_NOMEM;
	memcpy(copy, s, n);
	copy[n] = '\0';
	sv->v[sv->n++] = copy;
	return AI_OK;
}

ai_result ai_strvec_push(struct ai_strvec *sv, const char *s)
{
	return ai_strvec_pushn(sv, s, strlen(s));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ai_strvec_sort(struct ai_strvec *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof *sv->v, str_cmp);
}

int ai_strvec_has_sorted(const struct ai_strvec *sv, const char *s)
{
	return sv->n && bsearch(&s, sv->v, sv->n, sizeof *sv->v, str_cmp) != NULL;
}

ai_result ai_strvec_push_new(struct ai_strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return AI_OK;
	return ai_strvec_push(sv, s);
}

int ai_strvec_has_nocase(const struct ai_strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcasecmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

#define EDIT_MAX 255

size_t ai_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[EDIT_MAX + 1];

	if (la > EDIT_MAX || lb > EDIT_MAX)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0]; /* row[i-1][j-1] */
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

size_t ai_strvec_nearest(const struct ai_strvec *sv, const char *s, const char **out,
                         size_t max)
{
	size_t best = (size_t)-1, n = 0;

	for (size_t i = 0; i < sv->n; i++) {
		size_t d = ai_edit_distance(s, sv->v[i]);
		if (d < best) {
			best = d;
			n = 0;
		}
		if (d == best && n < max)
			out[n++] = sv->v[i];
	}
	return n;
}

void ai_strvec_release(struct ai_strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}
