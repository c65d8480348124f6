/* test_escape.c: untrusted text is rendered so that nothing in it acts on a
 * terminal or splits a line, and plain text passes unchanged. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include "util/escape.h"

struct vec {
	char in[64];
	char out[96];
};

ParameterizedTestParameters(escape, renders_what_could_act_on_a_terminal)
{
	static struct vec v[] = {
		{ "plain/name_1.blob", "plain/name_1.blob" },
		{ "line\nbreak", "line\\nbreak" },
		{ "cr\rtab\t", "cr\\rtab\\t" },
		{ "esc\x1b[31mred", "esc\\x1b[31mred" },
		{ "bell\x07 del\x7f", "bell\\x07 del\\x7f" },
		{ "back\\slash", "back\\\\slash" },
		{ "csi \xc2\x9b" "2J", "csi \\u009b2J" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "bad \xff\xfe", "bad \\xff\\xfe" },
		{ "stray \x9b", "stray \\x9b" },
		{ "overlong \xc0\xaf", "overlong \\xc0\\xaf" },
		{ "surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80" },
		{ "cut \xe2\x82", "cut \\xe2\\x82" },
	};
	return cr_make_param_array(struct vec, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct vec *v, escape, renders_what_could_act_on_a_terminal)
{
	char out[128], *dup = ai_escape_new(v->in);

	cr_assert_str_eq(ai_escape(v->in, out, sizeof out), v->out);
	cr_assert_not_null(dup);
	cr_assert_str_eq(dup, v->out);
	free(dup);
}

Test(escape, output_never_holds_a_control_byte)
{
	char in[256], out[1100];

	for (int i = 0; i < 255; i++)
		in[i] = (char)(i + 1);
	in[255] = '\0';
	ai_escape(in, out, sizeof out);
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		cr_assert(*p >= 0x20 && *p != 0x7f, "byte 0x%02x in the output", *p);
	/* and the worst case fits what ai_escape_new allocates */
	char *dup = ai_escape_new(in);
	cr_assert_str_eq(dup, out);
	free(dup);
}

Test(escape, a_rendering_that_does_not_fit_is_left_out_whole)
{
	char out[6];

	cr_assert_str_eq(ai_escape("ab\ncd", out, sizeof out), "ab\\nc");
	cr_assert_str_eq(ai_escape("abcd\n", out, sizeof out), "abcd");
	cr_assert_str_eq(ai_escape("abc\x01", out, sizeof out), "abc");
	cr_assert_str_eq(ai_escape("ab\xe2\x82\xac!", out, sizeof out), "ab\xe2\x82\xac");
	cr_assert_str_eq(ai_escape("abc\xe2\x82\xac", out, sizeof out), "abc");
	cr_assert_str_eq(ai_escape(NULL, out, sizeof out), "");
}

Test(escape, utf8_lengths)
{
	cr_assert_eq(ai_utf8_char("a"), 1);
	cr_assert_eq(ai_utf8_char(""), 1);
	cr_assert_eq(ai_utf8_char("\xc3\xa9"), 2);
	cr_assert_eq(ai_utf8_char("\xe2\x82\xac"), 3);
	cr_assert_eq(ai_utf8_char("\xf4\x8f\xbf\xbf"), 4);
	cr_assert_eq(ai_utf8_char("\xf4\x90\x80\x80"), 0); /* past U+10FFFF */
	cr_assert_eq(ai_utf8_char("\xe0\x80\x80"), 0);     /* overlong */
	cr_assert_eq(ai_utf8_char("\xc3"), 0);             /* truncated */
	cr_assert_eq(ai_utf8_char("\x80"), 0);
}

Test(escape, put_writes_what_escape_renders)
{
	char buf[64] = "";
	FILE *f = fmemopen(buf, sizeof buf, "w");

	cr_assert_not_null(f);
	ai_escape_put(f, "a\nb\\c\xc2\x85");
	ai_escape_put(f, NULL);
	fclose(f);
	cr_assert_str_eq(buf, "a\\nb\\\\c\\u0085");
}
