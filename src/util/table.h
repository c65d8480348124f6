/* table.h: text tables for people: columns as wide as their widest cell,
 * numbers on the right, and within a width limit (80 for a terminal's
 * default) the columns that may shrink cut in the middle with a '~'
 * ("very-lo~app-name"). Cells are printed as given: escape untrusted text
 * (escape.h) before adding it. Widths count characters (UTF-8 code
 * points), not bytes. A long listing is printed a page at a time; widths
 * only grow, so the columns stay where the first page put them. */
#ifndef AI_TABLE_H
#define AI_TABLE_H

#include <stddef.h>
#include <stdio.h>
#include "util/result.h"

/* The width a terminal table keeps within unless asked for all of it. */
#define AI_TABLE_WIDTH 80

struct ai_table_col {
	const char *title;
	int right;          /* numbers: aligned on the right */
	int shrink;         /* may be cut in the middle to fit the width */
	size_t min;         /* at least this wide (0: the title's width) */
};

struct ai_table {
	const struct ai_table_col *cols;
	size_t ncols;
	size_t limit;       /* the line width to keep within; 0: none */
	size_t *width;      /* per column, once printed */
	size_t *want;       /* per column, while fitting */
	char **cells;       /* rows * ncols, owned */
	size_t nrows, cap;
	int header_done;
};

/* cols must outlive t. limit 0: no limit, nothing is cut. */
ai_result ai_table_init(struct ai_table *t, const struct ai_table_col *cols, size_t ncols,
                        size_t limit) AI_MUST_CHECK;
void ai_table_release(struct ai_table *t);

/* Adds a row of ncols cells (copied; NULL or "" prints as "-"). */
ai_result ai_table_add(struct ai_table *t, const char *const *cells) AI_MUST_CHECK;

/* Prints the header (the first time) and the rows added since the last
 * flush, then forgets them. AI_ERR_IO when writing fails. */
ai_result ai_table_flush(struct ai_table *t, FILE *f) AI_MUST_CHECK;

/* Parses list, "a,b,c" (spaces around names ignored), into the indexes of
 * its names in names[0..nnames) (each at most once; out holds nnames).
 * AI_ERR_USAGE with why ("unknown name 'x' (one of a, b, c)", "'a' given
 * twice", "no name given (one of ...)") otherwise. */
ai_result ai_table_pick(const char *list, const char *const *names, size_t nnames, unsigned *out,
                        size_t *n, char *why, size_t whycap) AI_MUST_CHECK;

/* The characters (UTF-8 code points) of s. */
size_t ai_table_strwidth(const char *s);

/* Writes s into out (cap bytes) cut to at most w characters: the head, a
 * '~', the tail ("very-lo~app-name" for w 16), whole characters only.
 * Returns out. */
char *ai_table_shorten(const char *s, size_t w, char *out, size_t cap);

#endif
