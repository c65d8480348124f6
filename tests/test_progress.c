/* test_progress.c: the progress line: what it says, that it is drawn at
 * most four times a second however often it is ticked, and that it is
 * cleared at the end. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/clock.h"
#include "util/progress.h"

Test(progress, says_done_of_total_bytes_rate_and_time_left)
{
	FILE *f = tmpfile();
	struct ai_progress *p = ai_progress_new(f, "run", "blobs");
	char line[256];

	cr_assert_not_null(p);
	ai_progress_total(p, 10, 2 << 20);
	ai_progress_add(p, 5, 1 << 20);
	ai_progress_format(p, 2000000000LL, line, sizeof line);
	cr_assert_str_eq(line, "run: 5/10 blobs, 1.0 MiB of 2.0 MiB, 512.0 KiB/s, ETA 2s");
	/* Too early for a rate. */
	ai_progress_format(p, 100000000LL, line, sizeof line);
	cr_assert_str_eq(line, "run: 5/10 blobs, 1.0 MiB of 2.0 MiB, ETA -");
	ai_progress_end(p);
	fclose(f);
}

Test(progress, without_totals_the_steps_give_the_time_left)
{
	struct ai_progress *p = ai_progress_new(stderr, "verify", "members");
	char line[256];

	ai_progress_add(p, 300, 3000);
	ai_progress_steps(p, 1, 4);
	ai_progress_format(p, 60000000000LL, line, sizeof line);
	cr_assert_str_eq(line, "verify: 300 members, 2.9 KiB, 50 B/s, ETA 3m00s");
	/* Nothing was drawn: ending clears nothing. */
	ai_progress_end(p);
}

Test(progress, drawn_at_most_four_times_a_second_and_cleared)
{
	FILE *f = tmpfile();
	struct ai_progress *p = ai_progress_new(f, "cat", "members");
	int64_t until = ai_clock_mono_ns() + 700000000LL;
	char text[8192];
	size_t n, draws = 0, ticks = 0;

	ai_progress_total(p, 1000, 0);
	while (ai_clock_mono_ns() < until) {
		ai_progress_add(p, 1, 10);
		ai_progress_tick(p);
		ticks++;
	}
	ai_progress_end(p);
	rewind(f);
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	for (char *s = text; (s = strstr(s, "\rcat: ")); s++)
		draws++;
	/* At 0, 250 and 500 ms (a slow machine may miss one). */
	cr_assert(ticks > 100);
	cr_assert(draws >= 2 && draws <= 3, "%zu draws", draws);
	/* The end: spaces over the line, back to its start. */
	cr_assert(n > 2 && text[n - 1] == '\r');
	for (size_t i = n - 2; text[i] != '\r'; i--)
		cr_assert_eq(text[i], ' ');
}

Test(progress, null_is_no_progress_line)
{
	ai_progress_total(NULL, 1, 1);
	ai_progress_add(NULL, 1, 1);
	ai_progress_steps(NULL, 1, 1);
	ai_progress_tick(NULL);
	ai_progress_end(NULL);
}
