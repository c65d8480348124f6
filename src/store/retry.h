/* retry.h: the retry policy for storage requests: exponential backoff
 * with jitter, Retry-After honoured, bounded in attempts and total time.
 * Pure: the caller passes the clock readings and the random draw. */
#ifndef AI_RETRY_H
#define AI_RETRY_H

#include <stdint.h>

struct ai_retry_policy {
	unsigned max_tries;     /* attempts in all, >= 1 */
	int64_t base_ns;        /* delay before the first retry */
	int64_t max_delay_ns;   /* cap on one delay */
	int64_t total_ns;       /* no retry may start after this much time */
};

/* Is this HTTP status worth retrying (408, 429, 500, 502, 503, 504)? */
int ai_retry_status(long status);

/* Delay before attempt number `attempt` (1 for the first retry) given the
 * time already spent, a Retry-After hint (ns, <0 if none) and a uniform
 * random value in [0,1) for jitter. Returns -1 when no more attempts
 * should be made. */
int64_t ai_retry_delay(const struct ai_retry_policy *p, unsigned attempt, int64_t elapsed_ns,
                       int64_t retry_after_ns, double jitter);

/* Parses a Retry-After header value (delta seconds, or an HTTP date
 * relative to now_ns); -1 when absent or invalid. */
int64_t ai_retry_after_ns(const char *value, int64_t now_ns);

/* A uniform random value in [0,1) for jitter (per thread, not for secrets). */
double ai_retry_jitter(void);
/* Sleeps ns nanoseconds, resuming after signals. */
void ai_retry_sleep(int64_t ns);

#endif
