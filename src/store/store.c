/* store.c: opens a location with the right backend and forwards every
 * call to it, keeping the shared counters and the last-error text. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/backend.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/log.h"

static __thread char last_error[512];

const char *ai_store_last_error(void)
{
	return last_error;
}

const char *ai_store_why(ai_result r)
{
	return last_error[0] ? last_error : ai_strerror(r);
}

void ai_store_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
}

const char *ai_req_kind_name(enum ai_req_kind k)
{
	static const char *const names[AI_REQ_KINDS] = {
		[AI_REQ_LIST] = "list", [AI_REQ_GET] = "get", [AI_REQ_HEAD] = "head",
		[AI_REQ_PUT] = "put", [AI_REQ_BLOCK] = "block", [AI_REQ_COMMIT] = "commit",
		[AI_REQ_APPEND] = "append", [AI_REQ_LEASE] = "lease", [AI_REQ_OTHER] = "other",
	};
	return (unsigned)k < AI_REQ_KINDS ? names[k] : "other";
}

void ai_store_count(struct ai_store *s, enum ai_req_kind k, uint64_t bytes_read,
                    uint64_t bytes_written)
{
	__atomic_add_fetch(&s->stats.requests[k], 1, __ATOMIC_RELAXED);
	if (bytes_read)
		__atomic_add_fetch(&s->stats.bytes_read, bytes_read, __ATOMIC_RELAXED);
	if (bytes_written)
		__atomic_add_fetch(&s->stats.bytes_written, bytes_written, __ATOMIC_RELAXED);
}

void ai_store_get_stats(const struct ai_store *s, struct ai_store_stats *out)
{
	const uint64_t *src = (const uint64_t *)&s->stats;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof *out / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void ai_blob_list_init(struct ai_blob_list *l)
{
	memset(l, 0, sizeof *l);
}

void ai_blob_info_release(struct ai_blob_info *info)
{
	if (!info)
		return;
	free(info->name);
	info->name = NULL;
}

void ai_blob_list_release(struct ai_blob_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		ai_blob_info_release(&l->blobs[i]);
	for (size_t i = 0; i < l->nprefixes; i++)
		free(l->prefixes[i]);
	free(l->blobs);
	free(l->prefixes);
	free(l->next_marker);
	ai_blob_list_init(l);
}

ai_result ai_store_open(struct ai_store **out, const struct ai_store_config *cfg)
{
	*out = NULL;
	last_error[0] = '\0';
	if (!cfg->url || !*cfg->url) {
		ai_store_set_error("no location given");
		return AI_ERR_CONFIG;
	}
	if (strncmp(cfg->url, "file://", 7) == 0)
		return ai_store_file_open(out, cfg->url + 7, cfg);
	if (strncmp(cfg->url, "https://", 8) == 0 || strncmp(cfg->url, "http://", 7) == 0)
		return ai_store_azure_open(out, cfg);
	ai_store_set_error("location '%.200s' is not an https://, http:// or file:// URL",
	                   cfg->url);
	return AI_ERR_CONFIG;
}

void ai_store_free(struct ai_store *s)
{
	if (s)
		s->ops->free(s);
}

const char *ai_store_credential(const struct ai_store *s)
{
	return s->credential ? s->credential : "no credential (a local directory)";
}

const char *ai_store_describe(const struct ai_store *s)
{
	return s->described;
}

int ai_store_is_remote(const struct ai_store *s)
{
	return s->remote;
}

/* Test hooks for the crash tests: with AIARCHIVE_TEST_KILL_AFTER=N the
 * process sends itself SIGKILL at the start of its Nth storage call (on
 * any store, any thread), so a test can stop a run at every point of its
 * pipeline; with AIARCHIVE_TEST_KILL_AFTER=count it prints the number of
 * calls it made to stderr at exit instead, and the numbers of its lease
 * calls (the lock's), so that a test can aim at them. AIARCHIVE_TEST_STOP_AFTER=N
 * raises SIGSTOP instead (the process waits for SIGCONT, then goes on): at
 * the start of the call, or for a lease call in its middle, where the
 * call has read the lease and not yet written it (ai_store_test_pause,
 * called by the file backend; other backends pause after the request).
 * Calls of a thread that called ai_store_test_uncounted (the lock's timed
 * renewals) are not counted: their number would depend on the clock.
 * Unset, they cost one load. */
static uint64_t kill_after;   /* 0: off; UINT64_MAX: count */
static uint64_t stop_after;   /* 0: off */
static uint64_t store_calls;  /* atomic */
static pthread_once_t kill_once = PTHREAD_ONCE_INIT;
static __thread int stop_inside; /* this thread's lease call is to pause */
static __thread int uncounted;   /* this thread's calls are not counted */

static uint64_t lease_calls[32]; /* in count mode, the numbers of the first lease calls */
static unsigned nlease_calls;     /* atomic */

static void print_calls(void)
{
	unsigned n = __atomic_load_n(&nlease_calls, __ATOMIC_RELAXED);

	fprintf(stderr, "aiarchive: test hook: %llu storage calls\n",
	        (unsigned long long)__atomic_load_n(&store_calls, __ATOMIC_RELAXED));
	fprintf(stderr, "aiarchive: test hook: lease calls");
	for (unsigned i = 0; i < n && i < sizeof lease_calls / sizeof lease_calls[0]; i++)
		fprintf(stderr, " %llu", (unsigned long long)lease_calls[i]);
	fprintf(stderr, "\n");
}

static void kill_hook_init(void)
{
	const char *v = getenv("AIARCHIVE_TEST_KILL_AFTER");
	const char *stop = getenv("AIARCHIVE_TEST_STOP_AFTER");

	if (stop && *stop)
		stop_after = strtoull(stop, NULL, 10);
	if (!v || !*v)
		return;
	if (strcmp(v, "count") == 0) {
		kill_after = UINT64_MAX;
		atexit(print_calls);
	} else {
		kill_after = strtoull(v, NULL, 10);
	}
}

static void kill_hook(int lease)
{
	uint64_t n;

	pthread_once(&kill_once, kill_hook_init);
	if ((!kill_after && !stop_after) || uncounted)
		return;
	n = __atomic_add_fetch(&store_calls, 1, __ATOMIC_RELAXED);
	if (lease && kill_after == UINT64_MAX) {
		unsigned i = __atomic_fetch_add(&nlease_calls, 1, __ATOMIC_RELAXED);
		if (i < sizeof lease_calls / sizeof lease_calls[0])
			lease_calls[i] = n;
	}
	if (n == kill_after)
		raise(SIGKILL);
	if (n == stop_after) {
		if (lease)
			stop_inside = 1;
		else
			raise(SIGSTOP);
	}
}

void ai_store_test_uncounted(void)
{
	uncounted = 1;
}

void ai_store_test_pause(void)
{
	if (stop_inside) {
		stop_inside = 0;
		raise(SIGSTOP);
	}
}

int ai_store_tracing(void)
{
	return ai_log_level >= AI_LOG_DEBUG;
}

void ai_store_trace(ai_time start, const char *method, const char *target, const char *status,
                    uint64_t sent, uint64_t received, int64_t ns, unsigned retry)
{
	char ts[AI_TIME_STRLEN];

	ai_time_format(start, 3, ts);
	ai_debug("request %s %s %s -> %s, %llu bytes sent, %llu received, %lld ms, retry %u", ts,
	         method, target, status, (unsigned long long)sent, (unsigned long long)received,
	         (long long)(ns / 1000000), retry);
}

/* One call of a backend that does not trace its requests itself: the
 * operation, the object below the location, the result. */
static void trace_call(const struct ai_store *s, const char *op, const char *name, ai_result r,
                       uint64_t sent, uint64_t received, ai_time start, int64_t t0)
{
	char target[1200];

	snprintf(target, sizeof target, "%s%s%s", s->described, name && *name ? "/" : "",
	         name ? name : "");
	ai_store_trace(start, op, target, r == AI_OK ? "ok" : ai_strerror(r), sent, received,
	               ai_clock_mono_ns() - t0, 0);
}

/* Every forwarder clears the last error first, so a stale text never
 * describes a later failure, and traces the call when the backend does
 * not (sent and received are evaluated after it). */
#define FORWARD(s, op, name, sent, received, call) \
	do { \
		ai_time start_; \
		int64_t t0_; \
		ai_result r_; \
		kill_hook(0); \
		last_error[0] = '\0'; \
		if ((s)->remote || !ai_store_tracing()) \
			return (call); \
		start_ = ai_clock_real(); \
		t0_ = ai_clock_mono_ns(); \
		r_ = (call); \
		trace_call((s), (op), (name), r_, (sent), (received), start_, t0_); \
		return r_; \
	} while (0)

ai_result ai_store_list(struct ai_store *s, const char *prefix, const char *delimiter,
                        const char *marker, unsigned max, struct ai_blob_list *out)
{
	ai_blob_list_init(out);
	FORWARD(s, "list", prefix, 0, 0,
	        s->ops->list(s, prefix, delimiter, marker, max ? max : 5000, out));
}

ai_result ai_store_read(struct ai_store *s, const char *name, uint64_t offset, uint64_t len,
                        const char *if_match, struct ai_buf *out, struct ai_blob_info *info)
{
	FORWARD(s, "read", name, 0, out ? out->len : 0, s->ops->read(s, name, offset, len, if_match, out, info));
}

ai_result ai_store_put(struct ai_store *s, const char *name, const void *p, size_t n,
                       unsigned flags, const struct ai_meta *meta, char etag_out[AI_ETAG_MAX])
{
	FORWARD(s, "put", name, n, 0, s->ops->put(s, name, p, n, flags, NULL, meta, etag_out));
}

ai_result ai_store_put_if_match(struct ai_store *s, const char *name, const void *p, size_t n,
                                const char *if_match, const struct ai_meta *meta,
                                char etag_out[AI_ETAG_MAX])
{
	if (!if_match || !*if_match)
		return AI_ERR_INTERNAL;
	FORWARD(s, "put", name, n, 0, s->ops->put(s, name, p, n, 0, if_match, meta, etag_out));
}

ai_result ai_store_put_block(struct ai_store *s, const char *name, const char *block_id,
                             const void *p, size_t n)
{
	FORWARD(s, "put-block", name, n, 0, s->ops->put_block(s, name, block_id, p, n));
}

ai_result ai_store_put_block_list(struct ai_store *s, const char *name,
                                  const char *const *block_ids, size_t n, unsigned flags,
                                  const struct ai_meta *meta, char etag_out[AI_ETAG_MAX])
{
	FORWARD(s, "put-block-list", name, 0, 0,
	        s->ops->put_block_list(s, name, block_ids, n, flags, meta, etag_out));
}

ai_result ai_store_append(struct ai_store *s, const char *name, const void *p, size_t n,
                          uint64_t expected_pos)
{
	FORWARD(s, "append", name, n, 0, s->ops->append(s, name, p, n, expected_pos));
}

ai_result ai_store_new_lease_id(char id[AI_LEASE_ID_MAX])
{
	uint8_t b[16];
	char h[33];
	ai_result r = ai_random(b, sizeof b);

	if (r != AI_OK) {
		ai_store_set_error("no random bytes for a lease id");
		return r;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	ai_hex(b, sizeof b, h);
	snprintf(id, AI_LEASE_ID_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
	         h + 20);
	return AI_OK;
}

ai_result ai_store_lease(struct ai_store *s, const char *name, enum ai_lease_action action,
                         int duration_s, char lease_id[AI_LEASE_ID_MAX])
{
	ai_result r;
	ai_time start = ai_clock_real();
	int64_t t0 = ai_clock_mono_ns();

	kill_hook(1);
	last_error[0] = '\0';
	r = s->ops->lease(s, name, action, duration_s, lease_id);
	ai_store_test_pause(); /* a backend without a pause point of its own */
	if (!s->remote && ai_store_tracing())
		trace_call(s, "lease", name, r, 0, 0, start, t0);
	return r;
}

ai_result ai_store_props(struct ai_store *s, const char *name, struct ai_blob_info *info,
                         struct ai_meta *meta)
{
	FORWARD(s, "props", name, 0, 0, s->ops->props(s, name, info, meta));
}

ai_result ai_store_set_metadata(struct ai_store *s, const char *name, const struct ai_meta *meta,
                                const char *lease_id)
{
	FORWARD(s, "set-metadata", name, 0, 0, s->ops->set_metadata(s, name, meta, lease_id));
}

ai_result ai_store_delete(struct ai_store *s, const char *name)
{
	FORWARD(s, "delete", name, 0, 0, s->ops->del(s, name));
}

ai_result ai_store_create_container(struct ai_store *s)
{
	FORWARD(s, "create-container", "", 0, 0, s->ops->create_container(s));
}

ai_result ai_store_cleanup(struct ai_store *s, ai_time before, int dry_run,
                           struct ai_store_cleanup *out)
{
	memset(out, 0, sizeof *out);
	if (!s->ops->cleanup)
		return AI_OK;
	FORWARD(s, "cleanup", "", 0, 0, s->ops->cleanup(s, before, dry_run, out));
}

ai_result ai_store_account_info(struct ai_store *s, char sku[64], char kind[64])
{
	FORWARD(s, "account-info", "", 0, 0, s->ops->account_info(s, sku, kind));
}

ai_result ai_store_service_stats(struct ai_store *s, char status[16], ai_time *last_sync)
{
	FORWARD(s, "service-stats", "", 0, 0, s->ops->service_stats(s, status, last_sync));
}

ai_result ai_store_list_each(struct ai_store *s, const char *prefix, const char *delimiter,
                             ai_store_page_fn fn, void *ctx)
{
	char *marker = NULL;
	ai_result r;

	do {
		struct ai_blob_list page;

		r = ai_store_list(s, prefix, delimiter, marker, 0, &page);
		if (r != AI_OK)
			break;
		r = fn(ctx, &page);
		if (r == AI_OK && page.next_marker) {
			if (marker && strcmp(marker, page.next_marker) == 0) {
				ai_store_set_error("listing '%s': the service repeated its continuation "
				                   "marker", prefix ? prefix : "");
				r = AI_ERR_PROTOCOL;
			}
			free(marker);
			/* Without the marker the listing would end early, unnoticed. */
			if (r == AI_OK && !(marker = strdup(page.next_marker)))
				r = AI_ERR_NOMEM;
		} else {
			free(marker);
			marker = NULL;
		}
		ai_blob_list_release(&page);
	} while (r == AI_OK && marker);
	free(marker);
	return r;
}
