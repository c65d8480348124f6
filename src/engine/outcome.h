/* outcome.h: the last outcome of `run` and of `verify` as this host saw
 * it, in a small text file under the state directory (ARCHITECTURE.md
 * §7.7), so that `status --prom` can report a run that failed before it
 * could write the archive's state, and the last verification, which
 * writes nothing into the archive. */
#ifndef AI_OUTCOME_H
#define AI_OUTCOME_H

#include "store/store.h"
#include "util/parse.h"
#include "util/result.h"

struct ai_outcome {
	char command[16];         /* "run" or "verify" */
	ai_time time;             /* when it ended */
	int exit_code;            /* what the command exited with */
	char result[16];          /* "ok", "partial", "nothing" (exit 9) or "failed" */
	char run_id[64];          /* the run's id; "" for verify */
	char error[256];          /* the failure's class (ai_strerror); "" when ok */
};

/* Fills o for command ending at now with result r (and run_id, or NULL). */
void ai_outcome_make(struct ai_outcome *o, const char *command, ai_result r, ai_time now,
                     const char *run_id);
/* Writes o as <dir>/outcome/<hash>.<command> for the archive at dest
 * (hash: ai_archive_location_hash), creating the directories (0700).
 * Failures are said in one warning line and returned. */
ai_result ai_outcome_write(const char *dir, const struct ai_store *dest,
                           const struct ai_outcome *o) AI_MUST_CHECK;
/* Reads the outcome of command for dest from dir: AI_ERR_NOT_FOUND when
 * there is none, AI_ERR_BAD_INPUT (with a warning) when the file is not
 * one. */
ai_result ai_outcome_read(const char *dir, const struct ai_store *dest, const char *command,
                          struct ai_outcome *o) AI_MUST_CHECK;

#endif
