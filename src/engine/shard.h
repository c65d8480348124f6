/* shard.h: `run --shard I/N`: which archiver of N takes a partition (app,
 * type, delivery hour), and the names a shard's run uses. The hash depends
 * only on the partition and N, so any host computes the same split, and
 * a change of N only moves partitions between shards: what is archived
 * already is found in the manifest whoever archived it (ARCHITECTURE.md
 * §7.8). */
#ifndef AI_SHARD_H
#define AI_SHARD_H

#include <stddef.h>
#include <stdint.h>
#include "util/parse.h"
#include "util/result.h"

/* Most shards of one archive (far more than a team runs hosts or pods). */
#define AI_SHARD_MAX 1024

/* One shard of count; count 0: not sharded (the whole archive). */
struct ai_shard {
	uint32_t index, count;
};

/* Parses "I/N" (0 <= I < N <= AI_SHARD_MAX). AI_ERR_USAGE with why (one
 * line) otherwise. */
ai_result ai_shard_parse(const char *s, struct ai_shard *out, char *why, size_t cap) AI_MUST_CHECK;

/* Which shard of count (>= 1) takes the partition: the first 8 bytes of
 * the SHA-256 of "<app>/<type>/<hour as 2026-11-20T13:00:00Z>", read as a
 * big-endian number, modulo count. */
uint32_t ai_shard_of(const char *app, const char *type, ai_time hour, uint32_t count);

/* Whether shard s takes the partition (always, when s is not sharded). */
int ai_shard_owns(const struct ai_shard *s, const char *app, const char *type, ai_time hour);

/* The lock of shard s: "locks/run-shard-I-of-N", or the whole archive's
 * "locks/run" (AI_LOCK_NAME) when not sharded. */
void ai_shard_lock_name(const struct ai_shard *s, char *out, size_t cap);

struct ai_state;

/* The listing watermark a run of s starts from: its own entry's, else
 * (a shard that never ran, a new N) the archive's, which holds for every
 * partition. */
ai_time ai_shard_watermark(const struct ai_state *st, const struct ai_shard *s);

/* When every shard 0..count-1 has an entry with a watermark: the lowest of
 * their watermarks (with with_held, and of the hours they hold back), which
 * holds for every partition; else AI_TIME_MIN. */
ai_time ai_shard_frontier(const struct ai_state *st, uint32_t count, int with_held);

/* The earliest delivery hour with a failed blob that a run of s (NULL or
 * not sharded: any run) lists again: its own entry's and those of other
 * splits (their partitions may be its own now); AI_TIME_MAX when none. */
ai_time ai_shard_retry_from(const struct ai_state *st, const struct ai_shard *s);

/* Drops the entries of other splits than s's once every shard of s's
 * split has run after them (their failures were listed again by then). */
void ai_shard_prune(struct ai_state *st, const struct ai_shard *s);

/* Prefix of every shard's lock name. */
#define AI_SHARD_LOCK_PREFIX "locks/run-shard-"

#endif
