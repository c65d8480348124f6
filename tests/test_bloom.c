/* test_bloom.c: no false negatives, few false positives. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bloom.h"

Test(bloom, never_misses_an_added_id)
{
	size_t len = ai_bloom_size(500);
	uint8_t *f = calloc(1, len);
	char id[32];

	for (int i = 0; i < 500; i++) {
		snprintf(id, sizeof id, "op-%d", i);
		ai_bloom_add(f, len, id, strlen(id));
	}
	for (int i = 0; i < 500; i++) {
		snprintf(id, sizeof id, "op-%d", i);
		cr_assert(ai_bloom_maybe(f, len, id, strlen(id)), "%s", id);
	}
	free(f);
}

Test(bloom, false_positives_stay_near_one_percent)
{
	size_t len = ai_bloom_size(1000), hits = 0;
	uint8_t *f = calloc(1, len);
	char id[32];

	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof id, "in-%d", i);
		ai_bloom_add(f, len, id, strlen(id));
	}
	for (int i = 0; i < 100000; i++) {
		snprintf(id, sizeof id, "out-%d", i);
		hits += (size_t)ai_bloom_maybe(f, len, id, strlen(id));
	}
	cr_assert_lt(hits, 2000, "%zu false positives in 100000", hits);
	free(f);
}

Test(bloom, sizes_are_bounded)
{
	cr_assert_eq(ai_bloom_size(0), AI_BLOOM_MIN_BYTES);
	cr_assert_eq(ai_bloom_size(1000000), AI_BLOOM_CAP_BYTES);
	cr_assert(ai_bloom_maybe(NULL, 0, "x", 1), "an empty filter may hold anything");
}
