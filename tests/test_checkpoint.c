/* test_checkpoint.c: the text of a witness's checkpoint: its exact bytes,
 * the round trip, and the inputs the strict parser refuses. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include "format/checkpoint.h"

#define T0 (INT64_C(1795148400) * AI_NS_PER_SEC) /* 2026-11-20T04:20:00Z */

static void sample(struct ai_checkpoint *c, uint64_t segments)
{
	memset(c, 0, sizeof *c);
	strcpy(c->archive, "https://acct.blob.core.windows.net/archive");
	c->segments = segments;
	memset(c->head, 0xab, sizeof c->head);
	memset(c->segment0, 0x01, sizeof c->segment0);
	c->time = T0;
}

Test(checkpoint, is_the_documented_text)
{
	struct ai_checkpoint c;
	struct ai_buf b;

	sample(&c, 43);
	ai_buf_init(&b, AI_CHECKPOINT_MAX);
	cr_assert_eq(ai_checkpoint_format(&c, &b), AI_OK);
	cr_expect_str_eq(ai_buf_str(&b),
	                 "aiarchive-checkpoint 1\n"
	                 "archive https://acct.blob.core.windows.net/archive\n"
	                 "segments 43\n"
	                 "head abababababababababababababababababababababababababababababababab\n"
	                 "segment0 0101010101010101010101010101010101010101010101010101010101010101\n"
	                 "time 2026-11-20T04:20:00Z\n");
	ai_buf_release(&b);
}

Test(checkpoint, of_an_empty_chain_has_no_digests)
{
	struct ai_checkpoint c, back;
	struct ai_buf b;
	char why[128];

	sample(&c, 0);
	ai_buf_init(&b, AI_CHECKPOINT_MAX);
	cr_assert_eq(ai_checkpoint_format(&c, &b), AI_OK);
	cr_expect_null(strstr(ai_buf_str(&b), "head"));
	cr_assert_eq(ai_checkpoint_parse(b.data, b.len, &back, why, sizeof why), AI_OK, "%s", why);
	cr_expect_eq(back.segments, 0);
	ai_buf_release(&b);
}

Test(checkpoint, round_trips)
{
	struct ai_checkpoint c, back;
	struct ai_buf b;
	char why[128];

	sample(&c, UINT64_MAX);
	ai_buf_init(&b, AI_CHECKPOINT_MAX);
	cr_assert_eq(ai_checkpoint_format(&c, &b), AI_OK);
	cr_assert_eq(ai_checkpoint_parse(b.data, b.len, &back, why, sizeof why), AI_OK, "%s", why);
	cr_expect_str_eq(back.archive, c.archive);
	cr_expect_eq(back.segments, c.segments);
	cr_expect_eq(memcmp(back.head, c.head, sizeof c.head), 0);
	cr_expect_eq(memcmp(back.segment0, c.segment0, sizeof c.segment0), 0);
	cr_expect_eq(back.time, c.time);
	ai_buf_release(&b);
}

Test(checkpoint, ignores_keys_a_later_version_adds)
{
	static const char text[] = "aiarchive-checkpoint 1\narchive file:///a\narchive-id 0123\n"
	                           "segments 0\ntime 2026-11-20T04:20:00Z\n";
	struct ai_checkpoint c;
	char why[128];

	cr_expect_eq(ai_checkpoint_parse(text, strlen(text), &c, why, sizeof why), AI_OK, "%s", why);
	cr_expect_str_eq(c.archive, "file:///a");
}

Test(checkpoint, refuses_an_archive_it_cannot_write_on_one_line)
{
	struct ai_checkpoint c;
	struct ai_buf b;

	sample(&c, 1);
	strcpy(c.archive, "file:///a\nsegments 99");
	ai_buf_init(&b, AI_CHECKPOINT_MAX);
	cr_expect_eq(ai_checkpoint_format(&c, &b), AI_ERR_BAD_INPUT);
	c.archive[0] = '\0';
	cr_expect_eq(ai_checkpoint_format(&c, &b), AI_ERR_BAD_INPUT);
	ai_buf_release(&b);
}

#define HEX "abababababababababababababababababababababababababababababababab"
#define OK1 "aiarchive-checkpoint 1\narchive file:///a\nsegments 1\nhead " HEX "\nsegment0 " \
            HEX "\n"

/* Strings inline: criterion copies the table into each test's process. */
struct bad_case {
	char text[400];
	char why[64];             /* a part of the reason given */
};

ParameterizedTestParameters(checkpoint, refuses)
{
	static struct bad_case cases[] = {
		{ "", "not an aiarchive checkpoint" },
		{ "aiarchive-checkpoint 2\narchive x\nsegments 0\ntime 2026-11-20T04:20:00Z\n",
		  "not an aiarchive checkpoint" },
		{ "aiarchive-checkpoint 1", "not an aiarchive checkpoint" },
		{ OK1 "time 2026-11-20T04:20:00Z", "no newline" },
		{ OK1 "time 2026-11-20T04:20:00Z\nsegments 2\n", "repeats segments" },
		{ OK1, "misses time" },
		{ "aiarchive-checkpoint 1\nsegments 0\ntime 2026-11-20T04:20:00Z\n", "misses archive" },
		{ "aiarchive-checkpoint 1\narchive a\nsegments 1\nsegment0 " HEX
		  "\ntime 2026-11-20T04:20:00Z\n", "misses head" },
		{ "aiarchive-checkpoint 1\narchive a\nsegments 0\nhead " HEX
		  "\ntime 2026-11-20T04:20:00Z\n", "covers no segment but has head" },
		{ "aiarchive-checkpoint 1\narchive a\nsegments 1\nhead abab\nsegment0 " HEX
		  "\ntime 2026-11-20T04:20:00Z\n", "bad value for head" },
		{ "aiarchive-checkpoint 1\narchive a\nsegments -1\ntime 2026-11-20T04:20:00Z\n",
		  "bad value for segments" },
		{ "aiarchive-checkpoint 1\narchive a\nsegments 18446744073709551616\n"
		  "time 2026-11-20T04:20:00Z\n", "bad value for segments" },
		{ "aiarchive-checkpoint 1\narchive a\nsegments 0\ntime yesterday\n",
		  "bad value for time" },
		{ "aiarchive-checkpoint 1\narchive \nsegments 0\ntime 2026-11-20T04:20:00Z\n",
		  "bad value for archive" },
		{ "aiarchive-checkpoint 1\narchive a\tb\nsegments 0\ntime 2026-11-20T04:20:00Z\n",
		  "control character" },
		{ "aiarchive-checkpoint 1\narchive a\nsegments 0\r\ntime 2026-11-20T04:20:00Z\n",
		  "control character" },
		{ "aiarchive-checkpoint 1\nsegments\n", "not 'key value'" },
	};
	return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *bc, checkpoint, refuses)
{
	struct ai_checkpoint c;
	char why[128] = "";

	cr_expect_eq(ai_checkpoint_parse(bc->text, strlen(bc->text), &c, why, sizeof why),
	             AI_ERR_BAD_INPUT, "accepted: %s", bc->text);
	cr_expect(strstr(why, bc->why) != NULL, "why '%s', wanted '%s'", why, bc->why);
}

Test(checkpoint, refuses_more_than_its_cap)
{
	static char big[AI_CHECKPOINT_MAX + 2];
	struct ai_checkpoint c;
	char why[128];

	memset(big, 'x', sizeof big - 1);
	memcpy(big, AI_CHECKPOINT_MAGIC "\n", strlen(AI_CHECKPOINT_MAGIC) + 1);
	cr_expect_eq(ai_checkpoint_parse(big, sizeof big - 1, &c, why, sizeof why),
	             AI_ERR_BAD_INPUT);
}
