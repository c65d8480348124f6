/* test_parse.c: number, size, duration and time parsers. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include "util/parse.h"

Test(parse, u64_is_bounded)
{
	uint64_t v;

	cr_assert_eq(ai_parse_u64("0", 10, &v), AI_OK);
	cr_assert_eq(v, 0);
	cr_assert_eq(ai_parse_u64("18446744073709551615", UINT64_MAX, &v), AI_OK);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(ai_parse_u64("18446744073709551616", UINT64_MAX, &v), AI_ERR_TOO_BIG);
	cr_assert_eq(ai_parse_u64("11", 10, &v), AI_ERR_TOO_BIG);
	cr_assert_eq(ai_parse_u64("", 10, &v), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_parse_u64("-1", 10, &v), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_parse_u64("1 ", 10, &v), AI_ERR_BAD_INPUT);
}

Test(parse, sizes_take_binary_units)
{
	uint64_t v;

	cr_assert_eq(ai_parse_size("64MiB", UINT64_MAX, &v), AI_OK);
	cr_assert_eq(v, 64ULL << 20);
	cr_assert_eq(ai_parse_size("4k", UINT64_MAX, &v), AI_OK);
	cr_assert_eq(v, 4096);
	cr_assert_eq(ai_parse_size("100", UINT64_MAX, &v), AI_OK);
	cr_assert_eq(v, 100);
	cr_assert_eq(ai_parse_size("2G", 1ULL << 30, &v), AI_ERR_TOO_BIG);
	cr_assert_eq(ai_parse_size("99999999999T", UINT64_MAX, &v), AI_ERR_TOO_BIG);
	cr_assert_eq(ai_parse_size("5 MB", UINT64_MAX, &v), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_parse_size("MB", UINT64_MAX, &v), AI_ERR_BAD_INPUT);
}

Test(parse, durations)
{
	int64_t ns;

	cr_assert_eq(ai_parse_duration("90s", INT64_MAX, &ns), AI_OK);
	cr_assert_eq(ns, 90 * AI_NS_PER_SEC);
	cr_assert_eq(ai_parse_duration("2h", INT64_MAX, &ns), AI_OK);
	cr_assert_eq(ns, 7200 * AI_NS_PER_SEC);
	cr_assert_eq(ai_parse_duration("250ms", INT64_MAX, &ns), AI_OK);
	cr_assert_eq(ns, 250000000);
	cr_assert_eq(ai_parse_duration("30", INT64_MAX, &ns), AI_OK);
	cr_assert_eq(ns, 30 * AI_NS_PER_SEC);
	cr_assert_eq(ai_parse_duration("3d", 2 * 86400 * AI_NS_PER_SEC, &ns), AI_ERR_TOO_BIG);
	cr_assert_eq(ai_parse_duration("1w", INT64_MAX, &ns), AI_ERR_BAD_INPUT);
}

struct tvec {
	char s[48];
	int64_t sec;
	int64_t frac_ns;
};

ParameterizedTestParameters(parse, iso8601_times)
{
	static struct tvec v[] = {
		{ "1970-01-01T00:00:00Z", 0, 0 },
		{ "2016-03-21T10:05:45.7334717Z", 1458554745, 733471700 },
		{ "2021-05-10T18:10:20.463Z", 1620670220, 463000000 },
		{ "2021-05-10T18:10:20.463000Z", 1620670220, 463000000 },
		{ "2021-05-10T18:10:20Z", 1620670220, 0 },
		{ "2021-05-10T20:10:20.5+02:00", 1620670220, 500000000 },
		{ "2021-05-10T16:10:20-02:00", 1620670220, 0 },
		{ "2024-02-29T23:59:59.999999999Z", 1709251199, 999999999 },
		{ "1969-12-31T23:59:59.5Z", -1, 500000000 },
		{ "2021-05-10 18:10Z", 1620670200, 0 },
	};
	return cr_make_param_array(struct tvec, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct tvec *v, parse, iso8601_times)
{
	ai_time t;

	cr_assert_eq(ai_parse_time(v->s, strlen(v->s), &t), AI_OK, "%s", v->s);
	cr_assert_eq(t, v->sec * AI_NS_PER_SEC + v->frac_ns, "%s", v->s);
}

Test(parse, rejects_malformed_times)
{
	static const char *bad[] = {
		"", "2021-05-10", "2021-05-10T18:10:20", "2021-13-01T00:00:00Z",
		"2021-02-29T00:00:00Z", "2021-05-10T24:00:00Z", "2021-05-10T18:10:20.Z",
		"2021-05-10T18:10:20.1234567890Z", "2021-05-10T18:10:20Zjunk",
		"2021-05-10T18:10:20+0200", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
		"2021-5-10T18:10:20Z", "abcd-05-10T18:10:20Z",
	};
	ai_time t;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(ai_parse_time(bad[i], strlen(bad[i]), &t), AI_ERR_BAD_INPUT, "%s",
		             bad[i]);
}

Test(parse, respects_the_given_length)
{
	const char *s = "2021-05-10T18:10:20.463Z\",\"next\"";
	ai_time t;

	cr_assert_eq(ai_parse_time(s, 24, &t), AI_OK);
	cr_assert_eq(ai_parse_time(s, 23, &t), AI_ERR_BAD_INPUT);
}

Test(parse, time_arguments_accept_short_forms)
{
	ai_time t, now = 1700000000 * AI_NS_PER_SEC;

	cr_assert_eq(ai_parse_time_arg("2024-05-01", now, &t), AI_OK);
	cr_assert_eq(t, 1714521600 * AI_NS_PER_SEC);
	cr_assert_eq(ai_parse_time_arg("2024-05-01T13", now, &t), AI_OK);
	cr_assert_eq(t, (1714521600 + 13 * 3600) * AI_NS_PER_SEC);
	cr_assert_eq(ai_parse_time_arg("2024-05-01T13:30", now, &t), AI_OK);
	cr_assert_eq(t, (1714521600 + 13 * 3600 + 1800) * AI_NS_PER_SEC);
	cr_assert_eq(ai_parse_time_arg("now", now, &t), AI_OK);
	cr_assert_eq(t, now);
	cr_assert_eq(ai_parse_time_arg("now-2h", now, &t), AI_OK);
	cr_assert_eq(t, now - 7200 * AI_NS_PER_SEC);
	cr_assert_eq(ai_parse_time_arg("yesterday", now, &t), AI_ERR_BAD_INPUT);
}

Test(parse, formats_round_trip)
{
	char s[AI_TIME_STRLEN];
	ai_time t;

	ai_time_format(1458554745 * AI_NS_PER_SEC + 733471700, 7, s);
	cr_assert_str_eq(s, "2016-03-21T10:05:45.7334717Z");
	ai_time_format(1458554745 * AI_NS_PER_SEC, 0, s);
	cr_assert_str_eq(s, "2016-03-21T10:05:45Z");
	ai_time_format(-AI_NS_PER_SEC / 2, 3, s);
	cr_assert_str_eq(s, "1969-12-31T23:59:59.500Z");
	ai_time_format_http(1704067200 * AI_NS_PER_SEC, s);
	cr_assert_str_eq(s, "Mon, 01 Jan 2024 00:00:00 GMT");
	cr_assert_eq(ai_parse_http_date("Mon, 01 Jan 2024 00:00:00 GMT", &t), AI_OK);
	cr_assert_eq(t, 1704067200 * AI_NS_PER_SEC);
	cr_assert_eq(ai_parse_http_date("Mon, 01 Foo 2024 00:00:00 GMT", &t), AI_ERR_BAD_INPUT);
}

Test(parse, hour_floor)
{
	cr_assert_eq(ai_time_hour(3600 * AI_NS_PER_SEC + 5), 3600 * AI_NS_PER_SEC);
	cr_assert_eq(ai_time_hour(-1), -3600 * AI_NS_PER_SEC);
	cr_assert_eq(ai_time_hour(0), 0);
}
