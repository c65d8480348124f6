/* clock.h: the one clock. Only cmd/main.c and the transport read it for
 * "now"; everything in between takes the time as an argument. */
#ifndef AI_CLOCK_H
#define AI_CLOCK_H

#include <stdint.h>

#include "util/parse.h"

/* Wall-clock time (UTC), nanoseconds since the epoch. */
ai_time ai_clock_real(void);

/* Monotonic time in nanoseconds, for durations and timeouts; it keeps
 * counting while the process is stopped and while the machine is
 * suspended (CLOCK_BOOTTIME). */
int64_t ai_clock_mono_ns(void);

/* Monotonic time in seconds, for durations in summaries. */
double ai_clock_mono_s(void);

#endif
