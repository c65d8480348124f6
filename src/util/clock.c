/* clock.c: the wall clock, and a monotonic one that counts suspends. */
#include <time.h>

#include "util/clock.h"

ai_time ai_clock_real(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (ai_time)ts.tv_sec * AI_NS_PER_SEC + ts.tv_nsec;
}

int64_t ai_clock_mono_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC stands still while the machine is suspended: a run
	 * suspended for hours would take its packs for younger than they are
	 * and name ones gc may have removed (the pack bound, ARCHITECTURE.md
	 * §7.3). CLOCK_BOOTTIME counts that time too. */
	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * AI_NS_PER_SEC + ts.tv_nsec;
}

double ai_clock_mono_s(void)
{
	return (double)ai_clock_mono_ns() / 1e9;
}
