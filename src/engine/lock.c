/* lock.c: the run lock: lease, renewal thread, holder metadata. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "engine/lock.h"
#include "util/clock.h"
#include "util/log.h"

struct ai_lock {
	struct ai_store *dest;
	char name[128];              /* the lock blob (AI_LOCK_NAME, or a shard's) */
	char lease_id[AI_LEASE_ID_MAX];
	int duration_s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	int lost;
	ai_result lost_r;           /* once lost: what confirm returns (below) */
	char lost_why[512];         /* and why, for its message */
};

/* What a failed renewal means. A lease taken over, broken or gone is lost
 * to another run (AI_ERR_LOCKED). Any other failure (a credential that
 * expired meanwhile, the network) leaves the run unable to tell whether it
 * still holds the lease, so it commits nothing more all the same, but the
 * failure keeps its class: exit 3 for an expired SAS, not 5, which would
 * send the operator after another run. */
static ai_result renewal_failure(ai_result r)
{
	return r == AI_ERR_CONFLICT || r == AI_ERR_NOT_FOUND ? AI_ERR_LOCKED : r;
}

/* Marks l lost by the failed renewal r (l->mu held) and says so as the
 * store's error. */
static void lose(struct ai_lock *l, ai_result r)
{
	/* ai_store_why may return the very buffer set_error writes. */
	snprintf(l->lost_why, sizeof l->lost_why, "%s", ai_store_why(r));
	l->lost_r = renewal_failure(r);
	__atomic_store_n(&l->lost, 1, __ATOMIC_RELAXED);
}

/* The store's error for a lost l. */
static void say_lost(const struct ai_lock *l)
{
	if (l->lost_r == AI_ERR_LOCKED)
		ai_store_set_error("lock '%s': no longer ours (%s)", l->name, l->lost_why);
	else
		ai_store_set_error("lock '%s': cannot be renewed, so it may no longer be ours (%s)",
		                   l->name, l->lost_why);
}

static void *renewer(void *arg)
{
	struct ai_lock *l = arg;
	struct timespec until;

	/* how many of these come depends on time: the test hooks skip them */
	ai_store_test_uncounted();
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += l->duration_s / 3 > 0 ? l->duration_s / 3 : 1;
		pthread_cond_timedwait(&l->cv, &l->mu, &until);
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		ai_result r = ai_store_lease(l->dest, l->name, AI_LEASE_RENEW, 0, l->lease_id);
		pthread_mutex_lock(&l->mu);
		if (r != AI_OK && !l->lost) {
			lose(l, r);
			ai_warn("lock '%s': renewal failed (%s); another run may take over",
			        l->name, ai_store_why(r));
		}
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* Makes sure the lock blob exists (it is an empty blob, never replaced). */
static ai_result ensure_lock_blob(struct ai_store *dest, const char *name)
{
	ai_result r = ai_store_put(dest, name, "", 0, AI_PUT_CREATE_ONLY, NULL, NULL);

	return r == AI_ERR_EXISTS ? AI_OK : r;
}

static void holder_meta(struct ai_meta *m, const char *run_id)
{
	char host[64] = "unknown";

	gethostname(host, sizeof host - 1);
	memset(m, 0, sizeof *m);
	m->n = 3;
	snprintf(m->kv[0].name, sizeof m->kv[0].name, "host");
	snprintf(m->kv[0].value, sizeof m->kv[0].value, "%s", host);
	snprintf(m->kv[1].name, sizeof m->kv[1].name, "pid");
	snprintf(m->kv[1].value, sizeof m->kv[1].value, "%ld", (long)getpid());
	snprintf(m->kv[2].name, sizeof m->kv[2].name, "run");
	snprintf(m->kv[2].value, sizeof m->kv[2].value, "%s", run_id);
}

ai_result ai_lock_acquire_named(struct ai_store *dest, const char *name, int duration_s,
                                int wait_s, const char *run_id, struct ai_lock **out)
{
	struct ai_lock *l = calloc(1, sizeof *l);
	struct ai_meta meta;
	double give_up = ai_clock_mono_s() + wait_s;
	ai_result r;

	*out = NULL;
	if (!l)
		return AI_ERR_NOMEM;
	l->dest = dest;
	snprintf(l->name, sizeof l->name, "%s", name);
	l->duration_s = duration_s < 15 ? 15 : duration_s > 60 ? 60 : duration_s;
	/* Our own id, proposed on every attempt: an acquire whose answer was
	 * lost and that is sent again is granted again, not taken for a lock
	 * another run holds (store.h). */
	r = ai_store_new_lease_id(l->lease_id);
	if (r == AI_OK)
		r = ensure_lock_blob(dest, l->name);
	while (r == AI_OK) {
		r = ai_store_lease(dest, l->name, AI_LEASE_ACQUIRE, l->duration_s, l->lease_id);
		if (r != AI_ERR_CONFLICT || ai_clock_mono_s() >= give_up)
			break;
		sleep(2);
		r = AI_OK; /* held by another run: ask again */
	}
	if (r == AI_ERR_CONFLICT) {
		free(l);
		return AI_ERR_LOCKED;
	}
	if (r != AI_OK) {
		free(l);
		return r;
	}
	holder_meta(&meta, run_id);
	if (ai_store_set_metadata(dest, l->name, &meta, l->lease_id) != AI_OK)
		ai_debug("lock '%s': cannot record the holder", l->name);
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if (pthread_create(&l->thread, NULL, renewer, l) != 0) {
		if (ai_store_lease(dest, l->name, AI_LEASE_RELEASE, 0, l->lease_id) != AI_OK)
			ai_debug("lock '%s': release failed; it expires by itself", l->name);
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv);
		free(l);
		return AI_ERR_INTERNAL;
	}
	*out = l;
	return AI_OK;
}

ai_result ai_lock_acquire(struct ai_store *dest, int duration_s, int wait_s, const char *run_id,
                          struct ai_lock **out)
{
	return ai_lock_acquire_named(dest, AI_LOCK_NAME, duration_s, wait_s, run_id, out);
}

int ai_lock_lost(const struct ai_lock *l)
{
	return __atomic_load_n(&l->lost, __ATOMIC_RELAXED);
}

ai_result ai_lock_confirm(struct ai_lock *l)
{
	ai_result r = AI_ERR_LOCKED;

	pthread_mutex_lock(&l->mu);
	if (!l->lost) {
		/* A renewal succeeds only while no other run has leased the
		 * blob since ours (also after ours expired unnoticed). */
		r = ai_store_lease(l->dest, l->name, AI_LEASE_RENEW, 0, l->lease_id);
		if (r != AI_OK)
			lose(l, r);
	}
	if (l->lost) {
		say_lost(l);
		r = l->lost_r;
	}
	pthread_mutex_unlock(&l->mu);
	return r;
}

void ai_lock_release(struct ai_lock *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	if (!l->lost && ai_store_lease(l->dest, l->name, AI_LEASE_RELEASE, 0, l->lease_id) != AI_OK)
		ai_debug("lock '%s': release failed; it expires by itself", l->name);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
}

ai_result ai_lock_holder_named(struct ai_store *dest, const char *name, char *out, size_t cap)
{
	struct ai_blob_info info = { 0 };
	struct ai_meta meta;
	ai_result r = ai_store_props(dest, name, &info, &meta);
	const char *host = "?", *pid = "?", *run = "?";

	out[0] = '\0';
	if (r == AI_ERR_NOT_FOUND)
		return AI_OK;
	if (r != AI_OK)
		return r;
	/* Leased but not named yet: the holder writes its name right after. */
	if (info.lease == AI_LEASE_LEASED && meta.n) {
		for (size_t i = 0; i < meta.n; i++) {
			if (strcmp(meta.kv[i].name, "host") == 0)
				host = meta.kv[i].value;
			else if (strcmp(meta.kv[i].name, "pid") == 0)
				pid = meta.kv[i].value;
			else if (strcmp(meta.kv[i].name, "run") == 0)
				run = meta.kv[i].value;
		}
		snprintf(out, cap, "host %s pid %s run %s", host, pid, run);
	}
	ai_blob_info_release(&info);
	return AI_OK;
}

ai_result ai_lock_holder(struct ai_store *dest, char *out, size_t cap)
{
	return ai_lock_holder_named(dest, AI_LOCK_NAME, out, cap);
}

ai_result ai_lock_take_named(struct ai_store *dest, const char *name, int64_t duration_ns,
                             int wait, const char *run_id, struct ai_lock **out)
{
	ai_result r = ai_lock_acquire_named(dest, name, (int)(duration_ns / AI_NS_PER_SEC),
	                                    wait ? 24 * 3600 : 0, run_id, out);

	if (r == AI_ERR_LOCKED) {
		char holder[256] = "";
		/* The holder writes its name right after it took the lease: a
		 * moment's wait (up to 3 s, for a loaded machine) names it rather
		 * than nobody. */
		for (int i = 0; i < 30 && !*holder; i++) {
			if (i)
				usleep(100 * 1000);
			if (ai_lock_holder_named(dest, name, holder, sizeof holder) != AI_OK)
				holder[0] = '\0';
		}
		int other = strcmp(name, AI_LOCK_NAME) != 0;
		ai_error("dest: another run holds the lock%s%s%s%s", other ? " " : "",
		         other ? name : "", *holder ? ": " : "", holder);
	} else if (r != AI_OK) {
		ai_error("lock: %s", ai_store_why(r));
	}
	return r;
}

ai_result ai_lock_busy(struct ai_store *dest, const char *name, int *busy)
{
	struct ai_blob_info info = { 0 };
	ai_result r = ai_store_props(dest, name, &info, NULL);

	*busy = 0;
	if (r == AI_ERR_NOT_FOUND)
		return AI_OK;
	if (r == AI_OK)
		*busy = info.lease == AI_LEASE_LEASED;
	ai_blob_info_release(&info);
	return r;
}

struct busy_scan {
	struct ai_store *dest;
	char *which;
	size_t cap;
};

static ai_result busy_page(void *ctx, const struct ai_blob_list *page)
{
	struct busy_scan *b = ctx;
	ai_result r = AI_OK;

	for (size_t i = 0; r == AI_OK && i < page->n && !*b->which; i++) {
		int busy = 0;
		r = ai_lock_busy(b->dest, page->blobs[i].name, &busy);
		if (r == AI_OK && busy)
			snprintf(b->which, b->cap, "%s", page->blobs[i].name);
	}
	return r;
}

ai_result ai_lock_busy_below(struct ai_store *dest, const char *prefix, char *which, size_t cap)
{
	struct busy_scan b = { dest, which, cap };

	which[0] = '\0';
	return ai_store_list_each(dest, prefix, NULL, busy_page, &b);
}

ai_result ai_lock_take(struct ai_store *dest, int64_t duration_ns, int wait, const char *run_id,
                       struct ai_lock **out)
{
	return ai_lock_take_named(dest, AI_LOCK_NAME, duration_ns, wait, run_id, out);
}
