/* test_shard.c: the split of `run --shard I/N` (ARCHITECTURE.md §7.8):
 * I/N parsing, the partition's shard against an independent SHA-256
 * (Python's hashlib), the lock names, the state's shard entries and what
 * the run derives from them (watermark, frontier, retries, pruning). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "engine/shard.h"
#include "format/manifest_codec.h"
#include "format/state.h"
#include "util/buf.h"

#define HOUR (3600 * AI_NS_PER_SEC)

static ai_time at(const char *iso)
{
	ai_time t = 0;

	cr_assert_eq(ai_parse_time(iso, strlen(iso), &t), AI_OK, "%s", iso);
	return t;
}

Test(shard, i_of_n_parses_and_bad_values_say_why)
{
	struct ai_shard s;
	char why[160];

	cr_assert_eq(ai_shard_parse("2/5", &s, why, sizeof why), AI_OK);
	cr_assert(s.index == 2 && s.count == 5);
	cr_assert_eq(ai_shard_parse("0/1", &s, why, sizeof why), AI_OK);
	cr_assert_eq(ai_shard_parse("1023/1024", &s, why, sizeof why), AI_OK);
	cr_assert_eq(ai_shard_parse("4/4", &s, why, sizeof why), AI_ERR_USAGE);
	cr_assert_str_eq(why, "I must be from 0 to N-1 (shards are numbered from 0): '4/4'");
	cr_assert_eq(ai_shard_parse("0/0", &s, why, sizeof why), AI_ERR_USAGE);
	cr_assert_str_eq(why, "N must be from 1 to 1024: '0/0'");
	cr_assert_eq(ai_shard_parse("0/1025", &s, why, sizeof why), AI_ERR_USAGE);
	const char *bad[] = { "", "3", "/4", "1/", "-1/4", "1/+4", " 1/4", "1/4 ", "a/b", "1/2/3",
	                      "99999999999999999999/4" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(ai_shard_parse(bad[i], &s, why, sizeof why), AI_ERR_USAGE, "'%s'", bad[i]);
		cr_assert(strstr(why, "not I/N") || strstr(why, "must be"), "'%s': %s", bad[i], why);
	}
}

/* Expected values from Python: int.from_bytes(sha256(key)[:8], 'big') % N. */
Test(shard, a_partition_falls_to_the_sha256_of_app_type_hour_modulo_n)
{
	ai_time h13 = at("2026-11-20T13:00:00Z"), h14 = at("2026-11-20T14:00:00Z");
	ai_time h17 = at("2026-12-02T17:00:00Z");

	cr_assert_eq(ai_shard_of("shop", "Requests", h13, 4), 1);
	cr_assert_eq(ai_shard_of("shop", "Requests", h13, 3), 2);
	cr_assert_eq(ai_shard_of("shop", "Requests", h13, 5), 0);
	cr_assert_eq(ai_shard_of("shop", "Requests", h13, 1024), 929);
	cr_assert_eq(ai_shard_of("shop", "Requests", h14, 4), 3);
	cr_assert_eq(ai_shard_of("shop", "Requests", h14, 5), 1);
	cr_assert_eq(ai_shard_of("billing_api", "Exceptions", h17, 5), 4);
	cr_assert_eq(ai_shard_of("billing_api", "Exceptions", h17, 1024), 308);
	cr_assert_eq(ai_shard_of("shop", "Requests", h13, 1), 0);
	struct ai_shard s = { 1, 4 }, all = { 0, 0 };
	cr_assert(ai_shard_owns(&s, "shop", "Requests", h13));
	cr_assert(!ai_shard_owns(&s, "shop", "Requests", h14));
	cr_assert(ai_shard_owns(&all, "shop", "Requests", h14), "not sharded: everything");
	cr_assert(ai_shard_owns(NULL, "shop", "Requests", h14));
}

Test(shard, each_partition_has_exactly_one_shard_and_the_split_is_even_enough)
{
	ai_time h = at("2026-11-20T00:00:00Z");
	unsigned count[4] = { 0 };

	for (int i = 0; i < 1000; i++) {
		char app[16];
		unsigned owners = 0;
		snprintf(app, sizeof app, "app%d", i % 10);
		for (uint32_t k = 0; k < 4; k++) {
			struct ai_shard s = { k, 4 };
			owners += (unsigned)ai_shard_owns(&s, app, "Requests", h + (i / 10) * HOUR);
		}
		cr_assert_eq(owners, 1);
		count[ai_shard_of(app, "Requests", h + (i / 10) * HOUR, 4)]++;
	}
	for (int k = 0; k < 4; k++)
		cr_assert(count[k] > 180 && count[k] < 320, "shard %d got %u of 1000", k, count[k]);
}

Test(shard, lock_names)
{
	char name[128];
	struct ai_shard s = { 2, 5 }, all = { 0, 0 };

	ai_shard_lock_name(&s, name, sizeof name);
	cr_assert_str_eq(name, "locks/run-shard-2-of-5");
	ai_shard_lock_name(&all, name, sizeof name);
	cr_assert_str_eq(name, "locks/run");
}

static struct ai_shard_state *entry(struct ai_state *st, uint32_t i, uint32_t n, ai_time wm,
                                    ai_time ran)
{
	struct ai_shard_state *e;

	cr_assert_eq(ai_state_add_shard(st, i, n, &e), AI_OK);
	e->watermark = wm;
	e->last_run_time = ran;
	return e;
}

Test(shard, the_state_keeps_the_entries_in_order_through_its_codec)
{
	struct ai_state st, back;
	struct ai_buf buf;
	char why[256];
	struct ai_shard_state *e;

	ai_state_init(&st);
	st.last_run_id = strdup("r");
	st.last_run_result = strdup("ok");
	st.source = strdup("file:///s");
	entry(&st, 1, 3, 7 * HOUR, 100);
	entry(&st, 0, 3, 6 * HOUR, 101);
	e = entry(&st, 1, 2, 5 * HOUR, 102);
	e->failed = 2;
	e->failed_oldest = 3 * HOUR;
	e->held = 3 * HOUR;
	e->last_run_id = strdup("run-x");
	e->last_run_result = strdup("partial");
	e->last_run_exit = 1;
	cr_assert_eq(st.nshards, 3);
	cr_assert(st.shards[0].count == 2 && st.shards[1].index == 0 && st.shards[2].index == 1,
	          "ascending by count, then index");
	ai_buf_init(&buf, 1 << 20);
	cr_assert_eq(ai_state_encode(&st, &buf), AI_OK);
	cr_assert_eq(ai_state_decode(buf.data, buf.len, &back, why, sizeof why), AI_OK, "%s", why);
	cr_assert_eq(back.nshards, 3);
	e = ai_state_find_shard(&back, 1, 2);
	cr_assert(e && e->failed == 2 && e->failed_oldest == 3 * HOUR && e->held == 3 * HOUR);
	cr_assert_str_eq(e->last_run_id, "run-x");
	cr_assert_str_eq(e->last_run_result, "partial");
	cr_assert_eq(e->last_run_exit, 1);
	cr_assert_eq(ai_state_find_shard(&back, 1, 3)->last_run_exit, -1, "unknown stays unknown");
	ai_state_release(&back);
	ai_buf_release(&buf);
	ai_state_release(&st);
}

Test(shard, watermark_frontier_retries_and_pruning)
{
	struct ai_state st;
	struct ai_shard s0 = { 0, 2 }, s1 = { 1, 2 }, n3 = { 0, 3 };

	ai_state_init(&st);
	st.watermark = 4 * HOUR;
	cr_assert_eq(ai_shard_watermark(&st, &s0), 4 * HOUR, "no entry: the archive's");
	entry(&st, 0, 2, 9 * HOUR, 200);
	cr_assert_eq(ai_shard_watermark(&st, &s0), 9 * HOUR);
	cr_assert_eq(ai_shard_watermark(&st, &s1), 4 * HOUR);
	cr_assert_eq(ai_shard_frontier(&st, 2, 0), AI_TIME_MIN, "shard 1/2 never ran");
	entry(&st, 1, 2, 8 * HOUR, 210)->held = 6 * HOUR;
	cr_assert_eq(ai_shard_frontier(&st, 2, 0), 8 * HOUR);
	cr_assert_eq(ai_shard_frontier(&st, 2, 1), 6 * HOUR, "with what a shard holds back");

	/* 1/2's failures are its own; a split of 3 retries them */
	ai_state_find_shard(&st, 1, 2)->failed = 1;
	ai_state_find_shard(&st, 1, 2)->failed_oldest = 5 * HOUR;
	cr_assert_eq(ai_shard_retry_from(&st, &s0), AI_TIME_MAX);
	cr_assert_eq(ai_shard_retry_from(&st, &s1), 5 * HOUR);
	cr_assert_eq(ai_shard_retry_from(&st, &n3), 5 * HOUR);

	/* the entries of 2 go once all of 3 ran after them */
	entry(&st, 0, 3, 10 * HOUR, 300);
	entry(&st, 1, 3, 10 * HOUR, 205);
	entry(&st, 2, 3, 10 * HOUR, 301);
	ai_shard_prune(&st, &n3);
	cr_assert_eq(st.nshards, 4, "1/3 ran before 1/2's last run: 1/2 stays");
	cr_assert_null(ai_state_find_shard(&st, 0, 2));
	ai_state_find_shard(&st, 1, 3)->last_run_time = 302;
	ai_shard_prune(&st, &n3);
	cr_assert_eq(st.nshards, 3);
	cr_assert_null(ai_state_find_shard(&st, 1, 2));
	ai_state_release(&st);
}
