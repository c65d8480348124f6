/* test_buf.c: the capped growable buffer. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/buf.h"

Test(buf, appends_and_stays_nul_terminated)
{
	struct ai_buf b;

	ai_buf_init(&b, 1024);
	cr_assert_str_eq(ai_buf_str(&b), "");
	cr_assert_eq(ai_buf_addstr(&b, "hello"), AI_OK);
	cr_assert_eq(ai_buf_addc(&b, ' '), AI_OK);
	cr_assert_eq(ai_buf_printf(&b, "%s %d", "world", 42), AI_OK);
	cr_assert_str_eq(b.data, "hello world 42");
	cr_assert_eq(b.len, 14);
	ai_buf_release(&b);
	ai_buf_release(&b);
}

Test(buf, refuses_to_grow_past_its_cap)
{
	struct ai_buf b;

	ai_buf_init(&b, 8);
	cr_assert_eq(ai_buf_add(&b, "12345678", 8), AI_OK);
	cr_assert_eq(ai_buf_addc(&b, '9'), AI_ERR_TOO_BIG);
	cr_assert_eq(b.len, 8, "a refused append leaves the content as it was");
	cr_assert_str_eq(b.data, "12345678");
	cr_assert_eq(ai_buf_printf(&b, "%d", 1), AI_ERR_TOO_BIG);
	ai_buf_release(&b);
}

Test(buf, a_huge_append_does_not_wrap_around)
{
	struct ai_buf b;

	ai_buf_init(&b, SIZE_MAX);
	cr_assert_eq(ai_buf_addc(&b, 'x'), AI_OK);
	cr_assert_neq(ai_buf_reserve(&b, SIZE_MAX), AI_OK);
	ai_buf_release(&b);
}

Test(buf, consume_drops_a_prefix)
{
	struct ai_buf b;

	ai_buf_init(&b, 100);
	cr_assert_eq(ai_buf_addstr(&b, "line1\nline2"), AI_OK);
	ai_buf_consume(&b, 6);
	cr_assert_str_eq(b.data, "line2");
	ai_buf_consume(&b, 100);
	cr_assert_eq(b.len, 0);
	ai_buf_release(&b);
}

Test(buf, detach_hands_over_the_memory)
{
	struct ai_buf b;
	size_t n;
	char *p;

	ai_buf_init(&b, 100);
	p = ai_buf_detach(&b, &n);
	cr_assert_not_null(p, "detaching an empty buffer gives an empty string");
	cr_assert_eq(n, 0);
	free(p);
	cr_assert_eq(ai_buf_addstr(&b, "abc"), AI_OK);
	p = ai_buf_detach(&b, &n);
	cr_assert_str_eq(p, "abc");
	cr_assert_eq(n, 3);
	cr_assert_null(b.data);
	free(p);
}
