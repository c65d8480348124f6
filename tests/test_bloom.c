/* test_bloom.c: no false negatives, few false positives. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format/bloom.h"

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

Test(idset, counts_distinct_hashes_and_fills_a_filter_holding_them)
{
	struct ai_idset s;
	uint8_t *f;
	size_t len;
	char id[32];

	ai_idset_init(&s, 1u << 20);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 3000; i++) {
			snprintf(id, sizeof id, "op-%d", i);
			ai_idset_add(&s, ai_bloom_hash(id, strlen(id)));
		}
	ai_idset_add(&s, 0);
	cr_assert_eq(ai_idset_count(&s), 3001);
	cr_assert_eq(ai_idset_filter(&s, 1u << 20, &f, &len), AI_OK);
	cr_assert_eq(len, ai_bloom_size_max(3001, 1u << 20));
	for (int i = 0; i < 3000; i++) {
		snprintf(id, sizeof id, "op-%d", i);
		cr_assert(ai_bloom_maybe(f, len, id, strlen(id)), "%s", id);
	}
	free(f);
	ai_idset_release(&s);
}

Test(idset, merge_unites_sets_and_an_overflow_means_any_id)
{
	struct ai_idset a, b;
	uint8_t *f;
	size_t len;

	ai_idset_init(&a, 100);
	ai_idset_init(&b, 100);
	for (uint64_t h = 1; h <= 50; h++)
		ai_idset_add(&a, h);
	for (uint64_t h = 26; h <= 75; h++)
		ai_idset_add(&b, h);
	ai_idset_merge(&a, &b);
	cr_assert_eq(ai_idset_count(&a), 75);
	{
		uint64_t *v, sum = 0;
		size_t n;
		cr_assert_eq(ai_idset_to_array(&a, &v, &n), AI_OK);
		cr_assert_eq(n, 75);
		for (size_t i = 0; i < n; i++)
			sum += v[i];
		cr_assert_eq(sum, 75 * 76 / 2, "every hash once");
		free(v);
	}
	for (uint64_t h = 76; h <= 200; h++)
		ai_idset_add(&b, h);
	cr_assert(b.overflow, "past its maximum the set gives up");
	ai_idset_merge(&a, &b);
	cr_assert(a.overflow);
	cr_assert_eq(ai_idset_filter(&a, 4096, &f, &len), AI_OK);
	cr_assert_null(f);
	cr_assert_eq(len, 0, "no filter: any id may be there");
	ai_idset_clear(&a);
	cr_assert_eq(ai_idset_count(&a), 0);
	cr_assert(!a.overflow);
	ai_idset_release(&a);
	ai_idset_release(&b);
}
