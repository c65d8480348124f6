/* status.c: gathering what `aiarchive status` reports from the
 * destination: its state, SKU, lock holder and geo-replication. */
#include <string.h>
#include "engine/identity.h"
#include "engine/lock.h"
#include "engine/replication.h"
#include "engine/status.h"
#include "engine/trust.h"
#include "util/log.h"

void ai_status_init(struct ai_status *s)
{
	memset(s, 0, sizeof *s);
	s->geo_sync = AI_TIME_MIN;
}

void ai_status_release(struct ai_status *s)
{
	if (s && s->archive_open)
		ai_archive_release(&s->archive);
	if (s)
		ai_status_init(s);
}

static ai_result location_exists(struct ai_store *dest)
{
	struct ai_blob_list l;
	ai_result r;

	ai_blob_list_init(&l);
	r = ai_store_list(dest, "manifest/", NULL, NULL, 1, &l);
	ai_blob_list_release(&l);
	if (r != AI_OK)
		ai_error("dest: %s", ai_store_why(r));
	return r;
}

ai_result ai_status_read(struct ai_status *s, struct ai_store *dest, ai_time now, int geo,
                         struct ai_trust *trust)
{
	/* A missing state means "no run yet" only where the location exists. */
	ai_result r = location_exists(dest);
	char why[AI_TRUST_MAX_KEYS * 24 + 64];

	if (r != AI_OK)
		return r;
	r = ai_archive_keys(dest, trust, 0);
	if (r == AI_ERR_NOT_FOUND)
		r = AI_OK; /* made before init: the keys it publishes */
	if (r != AI_OK) {
		ai_error("dest: %s", ai_store_why(r));
		return r;
	}
	if (ai_trust_pin_outside(trust, why, sizeof why)) {
		ai_error("dest '%s': %s", ai_store_describe(dest), why);
		return AI_ERR_VERIFY;
	}
	r = ai_archive_open(&s->archive, dest, trust, 0);
	s->archive_open = 1;
	if (r != AI_OK) {
		ai_error("dest: %s", ai_store_why(r));
		return r;
	}
	s->dest = ai_store_describe(dest);
	s->now = now;
	s->geo_sync = AI_TIME_MIN;
	(void)ai_replication_sku(dest, s->sku);
	if (ai_lock_holder(dest, s->holder, sizeof s->holder) == AI_OK)
		s->lock_known = 1;
	else
		ai_info("lock: holder unknown (%s)", ai_store_last_error());
	if (geo) {
		s->geo_asked = 1;
		ai_replication_geo(dest, s->geo, &s->geo_sync);
	}
	return AI_OK;
}

void ai_status_last_run(const struct ai_status *s, struct ai_status_run *out)
{
	const struct ai_state *st = &s->archive.state;
	const struct ai_outcome *h = &s->run_outcome;
	int same;

	memset(out, 0, sizeof *out);
	out->exit_code = -1;
	if (st->last_run_id) {
		out->known = 1;
		out->id = st->last_run_id;
		out->time = st->last_run_time;
		out->result = st->last_run_result ? st->last_run_result : "";
		out->exit_code = st->last_run_exit;
		out->recorded = "state";
	}
	if (!s->run_outcome_known)
		return;
	same = out->known && strcmp(h->run_id, out->id) == 0;
	if (!same && out->known && h->time <= out->time)
		return; /* a later run, of another host, wrote the state */
	out->known = 1;
	out->id = h->run_id;
	out->time = h->time;
	out->result = h->result;
	out->exit_code = h->exit_code;
	out->recorded = "host";
}
