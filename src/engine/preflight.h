/* preflight.h: the checks of a dry run (ARCHITECTURE.md §3.1): harmless
 * requests that show a real run's credentials would be enough, each
 * reported in one line ("preflight: ...") to out, or with out NULL logged
 * at info level (-v; the --json output stays JSON). Failures are logged in
 * one line too, naming the credential. */
#ifndef AI_PREFLIGHT_H
#define AI_PREFLIGHT_H

#include <stdint.h>
#include <stdio.h>
#include "store/store.h"
#include "util/result.h"

/* The reserved name of the delete probe, under locks/ where gc and verify
 * look for nothing; the run id follows. */
#define AI_PREFLIGHT_PROBE_PREFIX "locks/preflight-"

/* Prints "preflight: " and the formatted line to out (NULL: logs it). */
void ai_preflight_say(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Lists one entry at the top of side's store (list permission). */
ai_result ai_preflight_list(struct ai_store *s, const char *side, FILE *out) AI_MUST_CHECK;

/* Reads the first byte of name (read permission); name NULL: nothing
 * listed to read, said so. */
ai_result ai_preflight_read(struct ai_store *s, const char *side, const char *name,
                            FILE *out) AI_MUST_CHECK;

/* Takes the run lock name (AI_LOCK_NAME, or a shard's) and releases it at
 * once (write and lease): the lock blob is created if missing, as every
 * run does. Another run holding it is no failure: the line says so and
 * that these were not checked. */
ai_result ai_preflight_lock(struct ai_store *dest, const char *name, int64_t duration_ns,
                            const char *run_id, FILE *out) AI_MUST_CHECK;

/* Writes an empty probe object AI_PREFLIGHT_PROBE_PREFIX<run_id>,
 * create-only, and deletes it (write and delete). */
ai_result ai_preflight_delete(struct ai_store *dest, const char *run_id, FILE *out) AI_MUST_CHECK;

#endif
