/* strvec.c: a growable vector of owned strings. */
#include <stdlib.h>
#include <string.h>

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

void ai_strvec_release(struct ai_strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}
