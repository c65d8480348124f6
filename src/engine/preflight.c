/* preflight.c: a dry run's harmless probes of what the real run will
 * need: list, read, write with a lease, delete. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/lock.h"
#include "engine/preflight.h"
#include "util/escape.h"
#include "util/log.h"

void ai_preflight_say(FILE *out, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (!out) {
		ai_info("preflight: %s", line);
		return;
	}
	fprintf(out, "preflight: %s\n", line);
	fflush(out);
}

ai_result ai_preflight_list(struct ai_store *s, const char *side, FILE *out)
{
	struct ai_blob_list l;
	ai_result r;

	ai_blob_list_init(&l);
	r = ai_store_list(s, NULL, "/", NULL, 1, &l);
	ai_blob_list_release(&l);
	if (r != AI_OK) {
		ai_error("%s: list: %s", side, ai_store_why(r));
		return r;
	}
	ai_preflight_say(out, "%s: list ok, %s", side, ai_store_credential(s));
	return AI_OK;
}

ai_result ai_preflight_read(struct ai_store *s, const char *side, const char *name, FILE *out)
{
	struct ai_buf b;
	char *shown;
	ai_result r;

	if (!name) {
		ai_preflight_say(out, "%s: read not checked: nothing listed to read", side);
		return AI_OK;
	}
	ai_buf_init(&b, 16);
	r = ai_store_read(s, name, 0, 1, NULL, &b, NULL);
	ai_buf_release(&b);
	/* An empty blob has no first byte: the read was allowed all the same. */
	if (r == AI_ERR_BAD_INPUT)
		r = AI_OK;
	if (r != AI_OK) {
		ai_error("%s: read: %s", side, ai_store_why(r));
		return r;
	}
	shown = ai_escape_new(name);
	if (!shown)
		return AI_ERR_NOMEM;
	ai_preflight_say(out, "%s: read ok (the first byte of '%s')", side, shown);
	free(shown);
	return AI_OK;
}

ai_result ai_preflight_lock(struct ai_store *dest, const char *name, int64_t duration_ns,
                            const char *run_id, FILE *out)
{
	struct ai_lock *lock = NULL;
	char holder[512] = "";
	ai_result r;

	r = ai_lock_acquire_named(dest, name, (int)(duration_ns / AI_NS_PER_SEC), 0, run_id, &lock);
	if (r == AI_ERR_LOCKED) {
		if (ai_lock_holder_named(dest, name, holder, sizeof holder) != AI_OK)
			holder[0] = '\0';
		ai_preflight_say(out, "dest: write and lease not checked: another run holds the lock%s%s",
		                 *holder ? ": " : "", holder);
		return AI_OK;
	}
	if (r != AI_OK) {
		ai_error("dest: lock: %s", ai_store_why(r));
		return r;
	}
	ai_lock_release(lock);
	ai_preflight_say(out, "dest: write and lease ok (took and released the run lock '%s'), %s",
	                 name, ai_store_credential(dest));
	return AI_OK;
}

ai_result ai_preflight_delete(struct ai_store *dest, const char *run_id, FILE *out)
{
	char name[160];
	ai_result r;

	snprintf(name, sizeof name, "%s%s", AI_PREFLIGHT_PROBE_PREFIX, run_id);
	r = ai_store_put(dest, name, "", 0, AI_PUT_CREATE_ONLY, NULL, NULL);
	if (r != AI_OK) {
		ai_error("dest: write: %s", ai_store_why(r));
		return r;
	}
	r = ai_store_delete(dest, name);
	if (r != AI_OK) {
		ai_error("dest: delete (the probe '%s' is left behind): %s", name, ai_store_why(r));
		return r;
	}
	ai_preflight_say(out, "dest: write and delete ok (wrote and deleted '%s'), %s", name,
	                 ai_store_credential(dest));
	return AI_OK;
}
