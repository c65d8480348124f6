/* test_ranges.c: the archived ranges `verify --source` looks blobs up in
 * come back sorted, and each blob's are found from the first, whether they
 * stayed in memory or went through sorted runs in a temporary file. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "engine/ranges.h"

/* A fixed pseudo-random sequence (xorshift). */
static uint64_t next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* n ranges over few blobs, so one blob's ranges cross runs and blocks. */
static struct ai_range *make(size_t n, uint64_t seed, size_t blobs)
{
	struct ai_range *a = calloc(n, sizeof *a);

	cr_assert_not_null(a);
	for (size_t i = 0; i < n; i++) {
		uint64_t b = next(&seed) % blobs;
		a[i].name_hi = b * UINT64_C(0x9e3779b97f4a7c15);
		a[i].name_lo = (uint32_t)b;
		a[i].start = next(&seed) % 100000;
		a[i].end = a[i].start + 1;
		a[i].etag = (uint32_t)i;
	}
	return a;
}

static void check_like_qsort(size_t n, size_t run_max, size_t blobs)
{
	uint64_t seed = 88172645463325252ull + n;
	struct ai_range *a = make(n, seed, blobs), *want = make(n, seed, blobs);
	struct ai_ranges s;
	const struct ai_range *got;
	uint64_t at;

	ai_ranges_init(&s);
	s.run_max = run_max;
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ai_ranges_add(&s, &a[i]), AI_OK);
	cr_assert_eq(ai_ranges_finish(&s), AI_OK);
	cr_assert_eq(ai_ranges_count(&s), n);
	cr_assert_eq(!!s.sorted, n > run_max, "a temporary file only past run_max");
	qsort(want, n, sizeof *want, ai_range_cmp);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(ai_ranges_get(&s, i, &got), AI_OK);
		cr_assert_eq(ai_range_cmp(got, &want[i]), 0, "range %zu of %zu (run_max %zu)", i, n,
		             run_max);
	}
	/* Each blob's first range, from a key that starts at 0, and a blob
	 * with none. */
	for (size_t i = 0; i < n; i++) {
		struct ai_range key = want[i];
		key.start = 0;
		cr_assert_eq(ai_ranges_lower_bound(&s, &key, &at), AI_OK);
		cr_assert_leq(at, i);
		cr_assert_eq(ai_ranges_get(&s, at, &got), AI_OK);
		cr_assert(ai_range_same_blob(got, &key), "blob of range %zu found", i);
		if (at > 0) {
			cr_assert_eq(ai_ranges_get(&s, at - 1, &got), AI_OK);
			cr_assert(!ai_range_same_blob(got, &key), "range %zu: the first of its blob", i);
		}
	}
	struct ai_range none = { .name_hi = UINT64_MAX, .name_lo = UINT32_MAX };
	cr_assert_eq(ai_ranges_lower_bound(&s, &none, &at), AI_OK);
	cr_assert_eq(at, n, "past the last");
	none.name_hi = 0;
	none.name_lo = 0;
	cr_assert_eq(ai_ranges_lower_bound(&s, &none, &at), AI_OK);
	cr_assert_eq(at, 0, "before the first");
	ai_ranges_release(&s);
	free(a);
	free(want);
}

Test(ranges, few_stay_in_memory_sorted)
{
	check_like_qsort(1000, 5000, 37);
}

Test(ranges, many_go_through_sorted_runs_and_blocks)
{
	/* 10 runs, the last short; blocks of 256, the last short; one blob's
	 * ranges spread over runs and blocks. */
	check_like_qsort(9 * 1000 + 77, 1000, 37);
	check_like_qsort(9 * 1000 + 77, 1000, 5000);
	check_like_qsort(1001, 1000, 1);
	check_like_qsort(AI_RANGES_BLOCK * 4, 7, 300);
}

Test(ranges, none)
{
	struct ai_ranges s;
	uint64_t at = 9;

	ai_ranges_init(&s);
	cr_assert_eq(ai_ranges_finish(&s), AI_OK);
	cr_assert_eq(ai_ranges_count(&s), 0);
	cr_assert_eq(ai_ranges_lower_bound(&s, &(struct ai_range){ 0 }, &at), AI_OK);
	cr_assert_eq(at, 0);
	ai_ranges_release(&s);
}
