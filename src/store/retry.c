/* retry.c: when to retry a storage request and how long to wait first:
 * capped exponential backoff with jitter, bounded by attempts and time. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "util/clock.h"
#include "util/parse.h"
#include "store/retry.h"

int ai_retry_status(long status)
{
	switch (status) {
	case 408: case 429: case 500: case 502: case 503: case 504:
		return 1;
	default:
		return 0;
	}
}

/* base * 2^(attempt-1), saturating at cap. */
static int64_t backoff(int64_t base, unsigned attempt, int64_t cap)
{
	int64_t d = base > 0 ? base : 0;

	while (--attempt > 0 && d < cap)
		d = d > INT64_MAX / 2 ? INT64_MAX : d * 2;
	return d < cap ? d : cap;
}

int64_t ai_retry_delay(const struct ai_retry_policy *p, unsigned attempt, int64_t elapsed_ns,
                       int64_t retry_after_ns, double jitter)
{
	int64_t d;

	if (!p || attempt == 0 || attempt >= p->max_tries || p->max_delay_ns < 0)
		return -1;
	/* Jitter spreads clients that failed together over [0.8, 1.2). */
	if (!(jitter >= 0.0) || jitter >= 1.0)
		jitter = 0.0;
	d = (int64_t)((double)backoff(p->base_ns, attempt, p->max_delay_ns) * (0.8 + 0.4 * jitter));
	if (d > p->max_delay_ns)
		d = p->max_delay_ns;
	if (retry_after_ns >= 0) {
		/* A server asking for more than we would ever wait is better
		 * answered by failing now (as the Go SDK does). */
		if (retry_after_ns > p->max_delay_ns)
			return -1;
		if (retry_after_ns > d)
			d = retry_after_ns;
	}
	if (elapsed_ns < 0)
		elapsed_ns = 0;
	if (elapsed_ns > p->total_ns || d > p->total_ns - elapsed_ns)
		return -1;
	return d;
}

int64_t ai_retry_after_ns(const char *value, int64_t now_ns)
{
	char tmp[64];
	uint64_t secs;
	size_t n;
	ai_time t;

	if (!value)
		return -1;
	while (isspace((unsigned char)*value))
		value++;
	n = strlen(value);
	while (n && isspace((unsigned char)value[n - 1]))
		n--;
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, value, n);
	tmp[n] = '\0';
	if (isdigit((unsigned char)tmp[0])) {
		if (ai_parse_u64(tmp, (uint64_t)(INT64_MAX / AI_NS_PER_SEC), &secs) != AI_OK)
			return -1;
		return (int64_t)secs * AI_NS_PER_SEC;
	}
	if (ai_parse_http_date(tmp, &t) != AI_OK)
		return -1;
	/* A date in the past means "now". */
	return t > now_ns ? t - now_ns : 0;
}

double ai_retry_jitter(void)
{
	static __thread uint64_t state;

	if (!state)
		state = (uint64_t)ai_clock_mono_ns() ^ (uint64_t)(uintptr_t)&state;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (double)(state >> 11) / 9007199254740992.0;
}

void ai_retry_sleep(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / AI_NS_PER_SEC, .tv_nsec = ns % AI_NS_PER_SEC };

	while (nanosleep(&ts, &ts) != 0)
		;
}
