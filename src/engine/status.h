/* status.h: what `aiarchive status` reports, read from the destination:
 * the archive's state (how far each app and type reaches, the last run),
 * the account's SKU, the lock holder and, when asked, the secondary's
 * geo-replication. Printing it is the command's. */
#ifndef AI_STATUS_H
#define AI_STATUS_H

#include "engine/archive.h"
#include "engine/outcome.h"
#include "util/parse.h"
#include "util/result.h"
#include "store/store.h"

struct ai_status {
	const char *dest;         /* the location, as ai_store_describe puts it */
	char sku[64];             /* "unknown" when the account cannot tell */
	char holder[256];         /* the lock's holder, "" when it is free */
	int lock_known;           /* 0: the holder could not be read */
	int geo_asked;            /* geo and geo_sync were asked for */
	char geo[16];             /* live, bootstrap, unavailable */
	ai_time geo_sync;         /* AI_TIME_MIN if unknown */
	ai_time now;
	struct ai_archive archive;
	int archive_open;
	/* What this host recorded (outcome.h): the caller fills them in. */
	struct ai_outcome run_outcome, verify_outcome;
	int run_outcome_known, verify_outcome_known;
};

/* The last run, from the state it wrote or, when this host recorded a
 * later one (a run that failed before it could write the state) or the
 * same one (whose exit code it knows for sure), from the host's record. */
struct ai_status_run {
	int known;
	const char *id;           /* "" when the host's record has none */
	ai_time time;
	const char *result;       /* "ok", "partial", "failed", ... */
	int exit_code;            /* -1 unknown */
	const char *recorded;     /* "state" or "host" */
};
void ai_status_last_run(const struct ai_status *s, struct ai_status_run *out);

void ai_status_init(struct ai_status *s);
struct ai_trust;
/* Reads the status of dest as of now, with geo the secondary's
 * geo-replication too; the state and the segments past it must verify
 * with trust (the archive's key chain is read into it). A location that
 * is not there is an error, said in one line; one without a state is an
 * archive with no run yet. What cannot be told (SKU, lock holder, geo) is
 * said at info or warning level and left unknown. Release s with
 * ai_status_release in any case. */
ai_result ai_status_read(struct ai_status *s, struct ai_store *dest, ai_time now, int geo,
                         struct ai_trust *trust) AI_MUST_CHECK;
void ai_status_release(struct ai_status *s);

#endif
