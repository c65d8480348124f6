/* lock.h: the run lock, a lease on a lock blob in the destination, renewed
 * by a background thread while the run goes on. A crashed run's lease
 * expires by itself and the next run takes over. Correctness never rests
 * on the lock alone: segments are written create-only. */
#ifndef AI_LOCK_H
#define AI_LOCK_H

#include <stdint.h>
#include "util/result.h"
#include "store/store.h"

#define AI_LOCK_NAME "locks/run"

struct ai_lock;

/* Acquires the lock, with a lease of duration_s (15..60) seconds and the
 * holder description (host, pid, run id) stored as the lock blob's
 * metadata. AI_ERR_LOCKED when another run holds it; with wait_s > 0,
 * keeps trying for that long first. */
ai_result ai_lock_acquire(struct ai_store *dest, int duration_s, int wait_s, const char *run_id,
                          struct ai_lock **out) AI_MUST_CHECK;
/* The same on the lock blob name (a shard's lock, shard.h). */
ai_result ai_lock_acquire_named(struct ai_store *dest, const char *name, int duration_s,
                                int wait_s, const char *run_id,
                                struct ai_lock **out) AI_MUST_CHECK;
/* ai_lock_acquire for a command: waits up to a day with wait, and says
 * what went wrong in one line (naming the holder when it is locked). */
ai_result ai_lock_take(struct ai_store *dest, int64_t duration_ns, int wait, const char *run_id,
                       struct ai_lock **out) AI_MUST_CHECK;
ai_result ai_lock_take_named(struct ai_store *dest, const char *name, int64_t duration_ns,
                             int wait, const char *run_id, struct ai_lock **out) AI_MUST_CHECK;
/* 0 while the lease is held; nonzero once a renewal failed (the run
 * should stop writing new work and finish what it can). */
int ai_lock_lost(const struct ai_lock *l);
/* Renews the lease now, for a run about to commit: AI_OK while it is still
 * ours; once another run has taken it, AI_ERR_LOCKED (and lost from then
 * on); once a renewal failed otherwise (an expired credential, the
 * network), lost from then on as well, with that failure's result. The
 * store's error says which. */
ai_result ai_lock_confirm(struct ai_lock *l) AI_MUST_CHECK;
/* Stops renewing and releases the lease. NULL-safe. */
void ai_lock_release(struct ai_lock *l);

/* Describes the current holder ("host pid N run R since T", or "" when
 * free) into out. */
ai_result ai_lock_holder(struct ai_store *dest, char *out, size_t cap) AI_MUST_CHECK;
ai_result ai_lock_holder_named(struct ai_store *dest, const char *name, char *out,
                               size_t cap) AI_MUST_CHECK;

/* Whether the lock blob name is leased now (by anyone); a missing blob is
 * free. */
ai_result ai_lock_busy(struct ai_store *dest, const char *name, int *busy) AI_MUST_CHECK;
/* The first lock blob below prefix that is leased now into which ("" when
 * none is). */
ai_result ai_lock_busy_below(struct ai_store *dest, const char *prefix, char *which,
                             size_t cap) AI_MUST_CHECK;

#endif
