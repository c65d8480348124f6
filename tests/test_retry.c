/* test_retry.c: backoff growth and cap, jitter, Retry-After, the attempt
 * and time bounds, and which statuses are retried. */
#include <criterion/criterion.h>
#include "util/parse.h"
#include "store/retry.h"

#define MS (AI_NS_PER_SEC / 1000)
#define S AI_NS_PER_SEC

static const struct ai_retry_policy pol = {
	.max_tries = 10, .base_ns = 800 * MS, .max_delay_ns = 60 * S, .total_ns = 600 * S,
};

/* jitter 0.5 maps to a factor of exactly 1.0 */
#define MID 0.5

Test(retry, delay_doubles_then_caps)
{
	int64_t want[] = { 800 * MS, 1600 * MS, 3200 * MS, 6400 * MS, 12800 * MS, 25600 * MS,
	                   51200 * MS, 60 * S, 60 * S };

	for (unsigned a = 1; a <= 9; a++)
		cr_assert_eq(ai_retry_delay(&pol, a, 0, -1, MID), want[a - 1], "attempt %u", a);
}

Test(retry, huge_attempt_numbers_do_not_overflow)
{
	struct ai_retry_policy p = pol;

	p.max_tries = 1000;
	p.total_ns = INT64_MAX;
	cr_assert_eq(ai_retry_delay(&p, 999, 0, -1, MID), 60 * S);
}

Test(retry, jitter_stays_within_bounds)
{
	int64_t lo = ai_retry_delay(&pol, 2, 0, -1, 0.0);
	int64_t hi = ai_retry_delay(&pol, 2, 0, -1, 0.999999);

	cr_assert_eq(lo, 1280 * MS);
	cr_assert_geq(hi, 1919 * MS);
	cr_assert_lt(hi, 1920 * MS);
	for (double j = 0.0; j < 1.0; j += 0.01) {
		int64_t d = ai_retry_delay(&pol, 3, 0, -1, j);

		cr_assert_geq(d, 2560 * MS);
		cr_assert_lt(d, 3840 * MS);
	}
	/* An out-of-range draw falls back to the low end rather than misbehave. */
	cr_assert_eq(ai_retry_delay(&pol, 1, 0, -1, 7.0), 640 * MS);
	cr_assert_eq(ai_retry_delay(&pol, 1, 0, -1, -1.0), 640 * MS);
}

Test(retry, jitter_never_passes_the_cap)
{
	cr_assert_eq(ai_retry_delay(&pol, 8, 0, -1, 0.99), 60 * S);
}

Test(retry, retry_after_is_honoured)
{
	cr_assert_eq(ai_retry_delay(&pol, 1, 0, 5 * S, MID), 5 * S);
	/* A shorter hint than our own backoff does not shorten it. */
	cr_assert_eq(ai_retry_delay(&pol, 3, 0, 1 * S, MID), 3200 * MS);
	cr_assert_eq(ai_retry_delay(&pol, 1, 0, 0, MID), 800 * MS);
	cr_assert_eq(ai_retry_delay(&pol, 1, 0, 60 * S, MID), 60 * S);
}

Test(retry, retry_after_beyond_the_cap_stops)
{
	cr_assert_eq(ai_retry_delay(&pol, 1, 0, 60 * S + 1, MID), -1);
	cr_assert_eq(ai_retry_delay(&pol, 1, 0, 3600 * S, MID), -1);
}

Test(retry, attempts_are_bounded)
{
	struct ai_retry_policy p = pol;

	p.max_tries = 4;
	cr_assert_gt(ai_retry_delay(&p, 3, 0, -1, MID), 0);
	cr_assert_eq(ai_retry_delay(&p, 4, 0, -1, MID), -1);
	cr_assert_eq(ai_retry_delay(&p, 5, 0, -1, MID), -1);
	p.max_tries = 1;
	cr_assert_eq(ai_retry_delay(&p, 1, 0, -1, MID), -1);
	cr_assert_eq(ai_retry_delay(&p, 0, 0, -1, MID), -1);
	cr_assert_eq(ai_retry_delay(NULL, 1, 0, -1, MID), -1);
}

Test(retry, total_time_is_bounded)
{
	struct ai_retry_policy p = pol;

	p.total_ns = 10 * S;
	cr_assert_eq(ai_retry_delay(&p, 1, 9200 * MS, -1, MID), 800 * MS);
	cr_assert_eq(ai_retry_delay(&p, 1, 9201 * MS, -1, MID), -1);
	cr_assert_eq(ai_retry_delay(&p, 1, 11 * S, -1, MID), -1);
	cr_assert_eq(ai_retry_delay(&p, 1, 6 * S, 5 * S, MID), -1);
	cr_assert_eq(ai_retry_delay(&p, 1, INT64_MAX, -1, MID), -1);
}

Test(retry, statuses_worth_retrying)
{
	static const long yes[] = { 408, 429, 500, 502, 503, 504 };
	static const long no[] = { 0, 200, 201, 304, 400, 401, 403, 404, 409, 411, 412, 416,
	                           501, 505 };

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		cr_assert(ai_retry_status(yes[i]), "%ld", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		cr_assert(!ai_retry_status(no[i]), "%ld", no[i]);
}

Test(retry, retry_after_values)
{
	ai_time now;

	cr_assert_eq(ai_parse_http_date("Mon, 01 Jan 2024 00:00:00 GMT", &now), AI_OK);
	cr_assert_eq(ai_retry_after_ns("0", now), 0);
	cr_assert_eq(ai_retry_after_ns("120", now), 120 * S);
	cr_assert_eq(ai_retry_after_ns(" 7 \r\n", now), 7 * S);
	cr_assert_eq(ai_retry_after_ns("Mon, 01 Jan 2024 00:00:30 GMT", now), 30 * S);
	cr_assert_eq(ai_retry_after_ns("Sun, 31 Dec 2023 23:59:00 GMT", now), 0);
}

Test(retry, bad_retry_after_values)
{
	static const char *bad[] = { "", "  ", "-1", "1.5", "12s", "soon", "99999999999999999999",
	                             "Mon, 01 Jan 2024 00:00:30 UTC", "Mon, 32 Foo 2024" };

	cr_assert_eq(ai_retry_after_ns(NULL, 0), -1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(ai_retry_after_ns(bad[i], 0), -1, "%s", bad[i]);
}
