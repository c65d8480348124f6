/* progress.h: one progress line on stderr for run, cat and verify --data:
 * what is done of how much, bytes, rate and time left, redrawn in place
 * ("\r") at most four times a second (timed with the monotonic clock) and
 * cleared at the end. Counters may be added to from any thread; a
 * message logged meanwhile (log.h) first clears the line, which the next
 * tick draws again. Every function takes NULL as "no progress line". */
#ifndef AI_PROGRESS_H
#define AI_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

/* The shortest time between two drawings, ns. */
#define AI_PROGRESS_INTERVAL_NS 250000000LL

struct ai_progress;

/* A progress line on f for label ("run") counting unit ("blobs"); both
 * strings must outlive it. NULL when out of memory. The line is drawn at
 * the first tick. */
struct ai_progress *ai_progress_new(FILE *f, const char *label, const char *unit);

/* What there is to do, when known (0: unknown); may be raised later. */
void ai_progress_total(struct ai_progress *p, uint64_t items, uint64_t bytes);
/* Adds to what is done. */
void ai_progress_add(struct ai_progress *p, uint64_t items, uint64_t bytes);
/* Steps of the work (segments of a verify), for the time left when
 * neither total is known. */
void ai_progress_steps(struct ai_progress *p, uint64_t done, uint64_t total);

/* Draws the line unless it was drawn less than AI_PROGRESS_INTERVAL_NS
 * ago (or another thread is drawing it). */
void ai_progress_tick(struct ai_progress *p);

/* Clears the line and frees p. */
void ai_progress_end(struct ai_progress *p);

/* The line as it would be drawn now, into out (cap bytes); for tests.
 * elapsed_ns: the time since the start. */
void ai_progress_format(struct ai_progress *p, int64_t elapsed_ns, char *out, size_t cap);

#endif
