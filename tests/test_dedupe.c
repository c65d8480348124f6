/* test_dedupe.c: the record set of `cat --dedupe`: a record is known by
 * its _ItemId, else its Id, else its whole line, and the set grows past
 * its first table without losing what it holds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "engine/dedupe.h"

static int add(struct ai_dedupe *d, const char *row, enum ai_row_schema schema)
{
	int fresh = -1;

	cr_assert_eq(ai_dedupe_add(d, row, strlen(row), schema, &fresh), AI_OK);
	return fresh;
}

Test(dedupe, a_record_is_known_by_its_item_id_then_its_id_then_its_line)
{
	struct ai_dedupe d;

	ai_dedupe_init(&d);
	cr_assert_eq(add(&d, "{\"_ItemId\":\"a\",\"Id\":\"1\",\"x\":1}", AI_SCHEMA_WORKSPACE), 1);
	cr_assert_eq(add(&d, "{\"x\":2,\"_ItemId\":\"a\"}", AI_SCHEMA_WORKSPACE), 0,
	             "the same _ItemId, other bytes");
	cr_assert_eq(add(&d, "{\"Id\":\"1\"}", AI_SCHEMA_WORKSPACE), 1,
	             "an Id is not an _ItemId");
	cr_assert_eq(add(&d, "{\"Id\":\"1\",\"y\":3}", AI_SCHEMA_WORKSPACE), 0);
	cr_assert_eq(add(&d, "{\"TimeGenerated\":\"t\"}", AI_SCHEMA_WORKSPACE), 1);
	cr_assert_eq(add(&d, "{\"TimeGenerated\":\"t\"}", AI_SCHEMA_WORKSPACE), 0, "the same line");
	cr_assert_eq(add(&d, "{\"TimeGenerated\": \"t\"}", AI_SCHEMA_WORKSPACE), 1,
	             "without ids, other bytes are another record");
	cr_assert_eq(add(&d, "not json", AI_SCHEMA_WORKSPACE), 1);
	cr_assert_eq(add(&d, "not json", AI_SCHEMA_WORKSPACE), 0);
	cr_assert_eq(add(&d, "{\"internal\":{\"data\":{\"id\":\"a\"}}}", AI_SCHEMA_CONTINUOUS), 0,
	             "continuous export's internal.data.id is its item id");
	cr_assert_eq(d.n, 5);
	ai_dedupe_release(&d);
}

Test(dedupe, the_set_grows_and_keeps_every_record)
{
	struct ai_dedupe d;
	char row[64];

	ai_dedupe_init(&d);
	for (int i = 0; i < 20000; i++) {
		snprintf(row, sizeof row, "{\"_ItemId\":\"%d\"}", i);
		cr_assert_eq(add(&d, row, AI_SCHEMA_DIAGNOSTIC), 1, "%d", i);
	}
	for (int i = 0; i < 20000; i += 7) {
		snprintf(row, sizeof row, "{\"_ItemId\":\"%d\",\"z\":0}", i);
		cr_assert_eq(add(&d, row, AI_SCHEMA_DIAGNOSTIC), 0, "%d", i);
	}
	cr_assert_eq(d.n, 20000);
	cr_assert_geq(3 * d.nslots, 4 * d.n, "at most three quarters full");
	ai_dedupe_release(&d);
}

/* Past its bound in memory the set moves into a temporary file and grows
 * there; every record is still known once, and only once. */
static void through_a_file(uint64_t mem_slots, int n)
{
	struct ai_dedupe d;
	char row[64];

	ai_dedupe_init(&d);
	d.mem_slots = mem_slots;
	for (int i = 0; i < n; i++) {
		snprintf(row, sizeof row, "{\"_ItemId\":\"%d\"}", i);
		cr_assert_eq(add(&d, row, AI_SCHEMA_DIAGNOSTIC), 1, "%d", i);
		if (i % 3 == 0)
			cr_assert_eq(add(&d, row, AI_SCHEMA_DIAGNOSTIC), 0, "%d again at once", i);
	}
	cr_assert_not_null(d.file, "the table is in a file");
	cr_assert_null(d.slot, "and no longer in memory");
	for (int i = 0; i < n; i++) {
		snprintf(row, sizeof row, "{\"_ItemId\":\"%d\",\"z\":0}", i);
		cr_assert_eq(add(&d, row, AI_SCHEMA_DIAGNOSTIC), 0, "%d", i);
	}
	snprintf(row, sizeof row, "{\"_ItemId\":\"%d\"}", n);
	cr_assert_eq(add(&d, row, AI_SCHEMA_DIAGNOSTIC), 1, "a new one after all");
	cr_assert_eq(d.n, (uint64_t)n + 1);
	cr_assert_geq(3 * d.nslots, 4 * d.n, "at most three quarters full");
	ai_dedupe_release(&d);
}

Test(dedupe, past_its_memory_bound_the_set_moves_to_a_file_and_grows_there)
{
	through_a_file(4096, 50000);   /* memory, then files of 8,192 to 131,072 slots */
	through_a_file(0, 10000);      /* a file from the first record */
}
