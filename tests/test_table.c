/* test_table.c: text tables: widths from the cells, numbers on the right,
 * long names cut in the middle to keep within the limit, whole with no
 * limit, and columns that stay put from one page to the next. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/table.h"

static const struct ai_table_col cols[] = {
	{ "app", 0, 1, 0 }, { "rows", 1, 0, 0 }, { "blob", 0, 1, 0 },
};

/* Prints the rows (each app, rows, blob) through a table of limit and
 * returns what it printed (malloc'd). */
static char *render(size_t limit, const char *const (*rows)[3], size_t n)
{
	struct ai_table t;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cr_assert_eq(ai_table_init(&t, cols, 3, limit), AI_OK);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ai_table_add(&t, rows[i]), AI_OK);
	cr_assert_eq(ai_table_flush(&t, f), AI_OK);
	ai_table_release(&t);
	fclose(f);
	return text;
}

static size_t longest_line(const char *s)
{
	size_t best = 0;

	while (*s) {
		size_t n = strcspn(s, "\n");
		if (n > best)
			best = n;
		s += n + (s[n] == '\n');
	}
	return best;
}

Test(table, fits_and_right_aligns)
{
	static const char *const rows[][3] = {
		{ "shop", "12", "a/b.blob" },
		{ "billing", "3", "" },
	};
	char *text = render(80, rows, 2);

	cr_assert_str_eq(text, "app      rows  blob\n"
	                       "shop       12  a/b.blob\n"
	                       "billing     3  -\n");
	free(text);
}

Test(table, long_names_are_cut_in_the_middle)
{
	static const char *const rows[][3] = {
		{ "a-very-long-application-name-for-the-checkout-service", "7",
		  "a-very-long-application-name-for-the-checkout-service_e9ac8620f9d44bb26523/"
		  "Requests/2026-11-20/00/57ed4010-d1d7-4a00-a92a-73f8eb74f955_20261120_000419.blob" },
	};
	char *text = render(80, rows, 1), *wide = render(0, rows, 1);

	cr_assert_eq(longest_line(text), 80, "%s", text);
	cr_assert_not_null(strstr(text, "~"));
	cr_assert_not_null(strstr(text, "\na-very-"), "%s", text);
	cr_assert_not_null(strstr(text, "000419.blob\n"), "%s", text);
	cr_assert_not_null(strstr(wide, rows[0][0]));
	cr_assert_not_null(strstr(wide, rows[0][2]));
	cr_assert_null(strstr(wide, "~"));
	free(text);
	free(wide);
}

Test(table, shorten_keeps_head_and_tail)
{
	char out[64];

	cr_assert_str_eq(ai_table_shorten("very-long-application-app-name", 16, out, sizeof out),
	                 "very-lo~app-name");
	cr_assert_str_eq(ai_table_shorten("short", 16, out, sizeof out), "short");
	/* Characters, not bytes: an e-acute is one. */
	cr_assert_str_eq(ai_table_shorten("caf\xc3\xa9-caf\xc3\xa9-caf\xc3\xa9", 7, out, sizeof out),
	                 "caf~af\xc3\xa9");
	cr_assert_eq(ai_table_strwidth("caf\xc3\xa9"), 4);
}

Test(table, columns_stay_put_across_pages)
{
	struct ai_table t;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const char *a[3] = { "shop", "1", "x" }, *b[3] = { "a-much-longer-app", "100000", "y" };

	cr_assert_eq(ai_table_init(&t, cols, 3, 80), AI_OK);
	cr_assert_eq(ai_table_add(&t, a), AI_OK);
	cr_assert_eq(ai_table_flush(&t, f), AI_OK);
	cr_assert_eq(ai_table_add(&t, b), AI_OK);
	cr_assert_eq(ai_table_flush(&t, f), AI_OK);
	ai_table_release(&t);
	fclose(f);
	/* The second page widens its columns; the first stays as printed. */
	cr_assert_str_eq(text, "app   rows  blob\n"
	                       "shop     1  x\n"
	                       "a-much-longer-app  100000  y\n");
	free(text);
}
