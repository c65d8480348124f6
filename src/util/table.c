/* table.c: text tables that fit a width, long cells cut in the middle. */
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"
#include "util/escape.h"
#include "util/table.h"

#define GAP 2
/* A column that shrinks keeps at least this much (or its title). */
#define SHRINK_FLOOR 8

ai_result ai_table_init(struct ai_table *t, const struct ai_table_col *cols, size_t ncols,
                        size_t limit)
{
	memset(t, 0, sizeof *t);
	t->cols = cols;
	t->ncols = ncols;
	t->limit = limit;
	t->width = calloc(ncols ? ncols : 1, sizeof *t->width);
	t->want = calloc(ncols ? ncols : 1, sizeof *t->want);
	return t->width && t->want ? AI_OK : AI_ERR_NOMEM;
}

static void drop_rows(struct ai_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	t->nrows = 0;
}

void ai_table_release(struct ai_table *t)
{
	if (t->cells)
		drop_rows(t);
	free(t->cells);
	free(t->width);
	free(t->want);
	memset(t, 0, sizeof *t);
}

ai_result ai_table_add(struct ai_table *t, const char *const *cells)
{
	size_t base = t->nrows * t->ncols;

	if (AI_GROW(t->cells, base + t->ncols, t->cap) != AI_OK)
		return AI_ERR_NOMEM;
	for (size_t c = 0; c < t->ncols; c++) {
		t->cells[base + c] = strdup(cells[c] && *cells[c] ? cells[c] : "-");
		if (!t->cells[base + c]) {
			while (c--)
				free(t->cells[base + c]);
			return AI_ERR_NOMEM;
		}
	}
	t->nrows++;
	return AI_OK;
}

/* The bytes of the next character at p (an invalid byte counts as one). */
static size_t char_len(const char *p)
{
	size_t n = ai_utf8_char(p);

	return n ? n : 1;
}

size_t ai_table_strwidth(const char *s)
{
	size_t w = 0;

	for (; *s; s += char_len(s))
		w++;
	return w;
}

char *ai_table_shorten(const char *s, size_t w, char *out, size_t cap)
{
	size_t n = ai_table_strwidth(s), head, tail, k = 0;
	const char *p = s;

	if (cap == 0)
		return out;
	if (n <= w || w == 0) {
		if (w == 0)
			p = "";
		snprintf(out, cap, "%s", p);
		return out;
	}
	head = (w - 1) / 2;
	tail = w - 1 - head;
	for (size_t i = 0; i < head; i++) {
		size_t l = char_len(p);
		if (k + l + 1 >= cap)
			break;
		memcpy(out + k, p, l);
		k += l;
		p += l;
	}
	if (k + 2 < cap)
		out[k++] = '~';
	/* The tail starts n - tail characters in. */
	p = s;
	for (size_t i = 0; i < n - tail; i++)
		p += char_len(p);
	snprintf(out + k, cap - k, "%s", p);
	return out;
}

static size_t floor_of(const struct ai_table *t, size_t c)
{
	size_t f = ai_table_strwidth(t->cols[c].title);

	if (t->cols[c].min > f)
		f = t->cols[c].min;
	if (f < SHRINK_FLOOR)
		f = SHRINK_FLOOR;
	if (t->header_done && t->width[c] > f)
		f = t->width[c];
	return f;
}

/* The widths of the rows held, within the limit where shrinking allows. */
static void fit(struct ai_table *t)
{
	size_t total = 0;

	for (size_t c = 0; c < t->ncols; c++) {
		size_t w = ai_table_strwidth(t->cols[c].title);
		if (t->cols[c].min > w)
			w = t->cols[c].min;
		if (t->width[c] > w)
			w = t->width[c];
		for (size_t r = 0; r < t->nrows; r++) {
			size_t l = ai_table_strwidth(t->cells[r * t->ncols + c]);
			if (l > w)
				w = l;
		}
		t->want[c] = w;
		total += w + (c ? GAP : 0);
	}
	while (t->limit && total > t->limit) {
		size_t best = t->ncols;
		for (size_t c = 0; c < t->ncols; c++)
			if (t->cols[c].shrink && t->want[c] > floor_of(t, c) &&
			    (best == t->ncols || t->want[c] > t->want[best]))
				best = c;
		if (best == t->ncols)
			break; /* as narrow as it gets */
		t->want[best]--;
		total--;
	}
	memcpy(t->width, t->want, t->ncols * sizeof *t->width);
}

static void put_cell(const struct ai_table *t, FILE *f, size_t c, const char *s)
{
	char cut[1024];
	size_t w = t->width[c], l = ai_table_strwidth(s);
	int last = c + 1 == t->ncols;

	if (l > w) {
		s = ai_table_shorten(s, w, cut, sizeof cut);
		l = ai_table_strwidth(s);
	}
	if (c)
		fputs("  ", f);
	if (t->cols[c].right)
		for (size_t i = l; i < w; i++)
			fputc(' ', f);
	fputs(s, f);
	if (!t->cols[c].right && !last)
		for (size_t i = l; i < w; i++)
			fputc(' ', f);
}

ai_result ai_table_flush(struct ai_table *t, FILE *f)
{
	/* What was fitted when the header was printed only grows, and only
	 * as far as the limit allows. */
	fit(t);
	if (!t->header_done) {
		for (size_t c = 0; c < t->ncols; c++)
			put_cell(t, f, c, t->cols[c].title);
		fputc('\n', f);
		t->header_done = 1;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++)
			put_cell(t, f, c, t->cells[r * t->ncols + c]);
		fputc('\n', f);
	}
	drop_rows(t);
	return ferror(f) ? AI_ERR_IO : AI_OK;
}

ai_result ai_table_pick(const char *list, const char *const *names, size_t nnames, unsigned *out,
                        size_t *n, char *why, size_t whycap)
{
	const char *p = list;
	char valid[512] = "";

	*n = 0;
	for (size_t i = 0; i < nnames; i++)
		snprintf(valid + strlen(valid), sizeof valid - strlen(valid), "%s%s", i ? ", " : "",
		         names[i]);
	while (*p) {
		size_t len = strcspn(p, ","), i;
		const char *w = p;
		p += len + (p[len] == ',');
		while (len && *w == ' ')
			w++, len--;
		while (len && w[len - 1] == ' ')
			len--;
		if (!len)
			continue;
		for (i = 0; i < nnames; i++)
			if (strlen(names[i]) == len && strncmp(names[i], w, len) == 0)
				break;
		if (i == nnames) {
			snprintf(why, whycap, "unknown name '%.*s' (one of %s)", (int)len, w, valid);
			return AI_ERR_USAGE;
		}
		for (size_t k = 0; k < *n; k++)
			if (out[k] == i) {
				snprintf(why, whycap, "'%s' given twice", names[i]);
				return AI_ERR_USAGE;
			}
		out[(*n)++] = (unsigned)i;
	}
	if (!*n) {
		snprintf(why, whycap, "no name given (one of %s)", valid);
		return AI_ERR_USAGE;
	}
	return AI_OK;
}
