/* http.c: the HTTP engine: one libcurl multi handle driven by an I/O thread,
 * callers blocking on a per-request condition until their transfer ends. */
#include "config.h"
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include "store/http.h"
#include "util/log.h"
#include "util/clock.h"

#define DEFAULT_TRANSFERS 16
#define DEFAULT_CONNECT_NS (10 * (int64_t)1000000000)
#define DEFAULT_STALL_NS (30 * (int64_t)1000000000)
#define DEFAULT_MAX_RESPONSE ((size_t)1 << 20)
#define MAX_HEADERS_LEN ((size_t)256 << 10)
/* Past the cap the body is still read, so the connection stays reusable
 * after an unexpectedly long error page; past this many discarded bytes
 * it is cheaper to drop the connection than to drain it. */
#define MAX_DISCARD ((size_t)4 << 20)
/* Idle easy handles kept for reuse; more only when more callers wait. */
#define MAX_IDLE_EASY 64

/* One request in flight. It lives on the caller's stack: the caller
 * blocks until the I/O thread sets done. */
struct job {
	struct job *next;
	CURL *easy;
	int64_t stall_ns;
	struct ai_http_response *resp;
	pthread_cond_t cond;
	int done;               /* under h->mu */
	CURLcode rc;            /* set before done */
	size_t discarded;       /* body bytes read past the cap */
	int discard_abort;      /* stopped reading after MAX_DISCARD */
	int headers_too_big;
	int stalled;            /* aborted: nothing moved for stall_ns */
	int64_t last_move;      /* monotonic ns when a byte last moved, 0: not started */
	curl_off_t moved;       /* bytes moved at last_move */
	curl_off_t header_bytes;
	char errbuf[CURL_ERROR_SIZE];
};

struct ai_http {
	CURLM *multi;
	pthread_t thread;
	int thread_started;
	pthread_mutex_t mu;
	struct job *queue, *queue_tail; /* waiting to be added to multi */
	int stop;
	CURL *idle[MAX_IDLE_EASY];
	size_t nidle;
	unsigned max_transfers;
	long connect_ms;
	int64_t stall_ns;
	char user_agent[128];
	char *ca_file;          /* NULL: the system's CA bundle */
	int no_proxy;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void ai_http_response_init(struct ai_http_response *r)
{
	r->status = 0;
	ai_buf_init(&r->body, DEFAULT_MAX_RESPONSE);
	r->body_truncated = 0;
	ai_buf_init(&r->headers, MAX_HEADERS_LEN);
	r->error[0] = '\0';
}

void ai_http_response_release(struct ai_http_response *r)
{
	if (!r)
		return;
	ai_buf_release(&r->body);
	ai_buf_release(&r->headers);
	r->status = 0;
	r->body_truncated = 0;
	r->error[0] = '\0';
}

const char *ai_http_response_header(const struct ai_http_response *r, const char *name,
                                    char *out, size_t cap)
{
	const char *p = ai_buf_str(&r->headers);
	size_t nlen = strlen(name);

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t vlen;

		if (!eol)
			eol = p + strlen(p);
		if ((size_t)(eol - p) >= nlen + 2 && strncasecmp(p, name, nlen) == 0 &&
		    p[nlen] == ':' && p[nlen + 1] == ' ') {
			p += nlen + 2;
			vlen = (size_t)(eol - p);
			/* a cut value (an ETag, a length) would be wrong, not short */
			if (vlen >= cap)
				return NULL;
			memcpy(out, p, vlen);
			out[vlen] = '\0';
			return out;
		}
		p = *eol ? eol + 1 : eol;
	}
	return NULL;
}

/* Adds to the multi handle the queued jobs that fit under the limit. */
static void add_queued(struct ai_http *h, unsigned *inflight)
{
	struct job *add = NULL, *j, **tail = &add;

	pthread_mutex_lock(&h->mu);
	while (h->queue && *inflight < h->max_transfers) {
		j = h->queue;
		h->queue = j->next;
		if (!h->queue)
			h->queue_tail = NULL;
		j->next = NULL;
		*tail = j;
		tail = &j->next;
		(*inflight)++;
	}
	pthread_mutex_unlock(&h->mu);

	while (add) {
		CURLMcode mc;

		j = add;
		add = j->next;
		mc = curl_multi_add_handle(h->multi, j->easy);
		if (mc != CURLM_OK) {
			snprintf(j->errbuf, sizeof(j->errbuf), "%s", curl_multi_strerror(mc));
			pthread_mutex_lock(&h->mu);
			j->rc = CURLE_FAILED_INIT;
			j->done = 1;
			pthread_cond_signal(&j->cond);
			pthread_mutex_unlock(&h->mu);
			(*inflight)--;
		}
	}
}

/* Hands finished transfers back to their callers; returns how many. */
static int finish_done(struct ai_http *h, unsigned *inflight)
{
	CURLMsg *msg;
	int left, n = 0;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct job *j;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		j = (struct job *)priv;
		curl_multi_remove_handle(h->multi, easy);
		(*inflight)--;
		pthread_mutex_lock(&h->mu);
		j->rc = rc;
		j->done = 1;
		pthread_cond_signal(&j->cond);
		pthread_mutex_unlock(&h->mu);
		n++;
	}
	return n;
}

static void *io_main(void *arg)
{
	struct ai_http *h = arg;
	unsigned inflight = 0;
	int running, stop;

	for (;;) {
		pthread_mutex_lock(&h->mu);
		stop = h->stop;
		pthread_mutex_unlock(&h->mu);
		if (stop)
			break;
		add_queued(h, &inflight);
		curl_multi_perform(h->multi, &running);
		/* a finished transfer frees a slot for a queued job right away */
		if (finish_done(h, &inflight))
			continue;
		/* curl shortens the wait to its own next timeout; a new job or
		 * ai_http_free interrupts it with curl_multi_wakeup */
		curl_multi_poll(h->multi, NULL, 0, 1000, NULL);
	}
	return NULL;
}

ai_result ai_http_new(struct ai_http **out, const struct ai_http_config *cfg)
{
	struct ai_http *h = NULL;
	int64_t connect_ns, stall_ns;
	ai_result r = AI_ERR_INTERNAL;
	sigset_t all, old;
	int mu_ok = 0, rc;

	*out = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		goto out;
	h = calloc(1, sizeof(*h));
	if (!h) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	h->max_transfers = cfg && cfg->max_transfers ? cfg->max_transfers : DEFAULT_TRANSFERS;
	connect_ns = cfg && cfg->connect_timeout_ns > 0 ? cfg->connect_timeout_ns
	                                                  : DEFAULT_CONNECT_NS;
	stall_ns = cfg && cfg->stall_timeout_ns > 0 ? cfg->stall_timeout_ns : DEFAULT_STALL_NS;
	h->connect_ms = (long)((connect_ns + 999999) / 1000000);
	h->stall_ns = stall_ns;
	snprintf(h->user_agent, sizeof(h->user_agent), "%s",
	         cfg && cfg->user_agent ? cfg->user_agent : "aiarchive/" PACKAGE_VERSION);
	h->no_proxy = cfg && cfg->no_proxy;
	if (cfg && cfg->ca_file && *cfg->ca_file && !(h->ca_file = strdup(cfg->ca_file))) {
		r = AI_ERR_NOMEM;
		goto out;
	}

	if (pthread_mutex_init(&h->mu, NULL) != 0)
		goto out;
	mu_ok = 1;
	h->multi = curl_multi_init();
	if (!h->multi) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	/* HTTP/1.1 with keep-alive, one transfer per connection: the cap on
	 * transfers is also the cap on connections, and the cache keeps them
	 * all (its default size follows the count of added handles, which
	 * drops to zero between bursts) */
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)h->max_transfers);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->max_transfers);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->max_transfers);

	/* the I/O thread takes no signals: a peer closing a TLS connection
	 * must not raise SIGPIPE (curl does not guard against it with
	 * NOSIGNAL set), and SIGINT/SIGTERM belong to the callers */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&h->thread, NULL, io_main, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		goto out;
	h->thread_started = 1;
	*out = h;
	h = NULL;
	r = AI_OK;
out:
	if (h) {
		if (h->multi)
			curl_multi_cleanup(h->multi);
		if (mu_ok)
			pthread_mutex_destroy(&h->mu);
		free(h->ca_file);
		free(h);
	}
	return r;
}

void ai_http_free(struct ai_http *h)
{
	if (!h)
		return;
	if (h->thread_started) {
		pthread_mutex_lock(&h->mu);
		h->stop = 1;
		pthread_mutex_unlock(&h->mu);
		curl_multi_wakeup(h->multi);
		pthread_join(h->thread, NULL);
	}
	while (h->nidle)
		curl_easy_cleanup(h->idle[--h->nidle]);
	curl_multi_cleanup(h->multi);
	pthread_mutex_destroy(&h->mu);
	free(h->ca_file);
	free(h);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	struct ai_http_response *resp = j->resp;
	size_t len = size * n, room = resp->body.max - resp->body.len, keep;

	keep = len < room ? len : room;
	if (keep && ai_buf_add(&resp->body, data, keep) != AI_OK)
		return 0;
	if (keep < len) {
		resp->body_truncated = 1;
		j->discarded += len - keep;
		if (j->discarded > MAX_DISCARD) {
			j->discard_abort = 1;
			return 0;
		}
	}
	return len;
}

/* Keeps the header lines of the last response only (a 100 Continue or
 * a proxy's answer comes first), names lowercased, values trimmed. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	struct ai_buf *hb = &j->resp->headers;
	size_t len = size * n, i, colon;
	ai_result r = AI_OK;

	j->header_bytes += (curl_off_t)len;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		ai_buf_reset(hb);
		return size * n;
	}
	if (!len)
		return size * n;
	if (data[0] == ' ' || data[0] == '\t') {
		/* an obsolete folded line continues the previous value */
		i = 0;
		while (i < len && (data[i] == ' ' || data[i] == '\t'))
			i++;
		if (hb->len && i < len) {
			hb->data[--hb->len] = '\0';
			r = ai_buf_addc(hb, ' ');
			if (r == AI_OK)
				r = ai_buf_add(hb, data + i, len - i);
			if (r == AI_OK)
				r = ai_buf_addc(hb, '\n');
		}
		goto out;
	}
	colon = 0;
	while (colon < len && data[colon] != ':')
		colon++;
	if (colon == len || colon == 0)
		return size * n;
	for (i = 0; i < colon && r == AI_OK; i++)
		r = ai_buf_addc(hb, (char)tolower((unsigned char)data[i]));
	i = colon + 1;
	while (i < len && (data[i] == ' ' || data[i] == '\t'))
		i++;
	while (len > i && (data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	if (r == AI_OK)
		r = ai_buf_add(hb, ": ", 2);
	if (r == AI_OK)
		r = ai_buf_add(hb, data + i, len - i);
	if (r == AI_OK)
		r = ai_buf_addc(hb, '\n');
out:
	if (r != AI_OK) {
		j->headers_too_big = 1;
		return 0;
	}
	return size * n;
}

/* The stall clock: curl's own low-speed check averages over several
 * seconds, so a few early bytes would hide a stall for that long. The
 * clock starts when curl starts the transfer, not while it is queued. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct job *j = arg;
	curl_off_t moved = dlnow + ulnow + j->header_bytes;
	int64_t now = ai_clock_mono_ns();

	if (!j->last_move || moved != j->moved) {
		j->last_move = now;
		j->moved = moved;
		return 0;
	}
	if (now - j->last_move >= j->stall_ns) {
		j->stalled = 1;
		return 1;
	}
	return 0;
}

static int header_given(const struct ai_http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return 1;
	return 0;
}

/* Builds the header list: the caller's headers as given, then blanks that
 * stop curl from adding its own Accept, Expect or Content-Type. */
static ai_result build_headers(const struct ai_http_request *req, int with_body,
                               struct curl_slist **out)
{
	static const char *const suppress[] = { "Accept", "Expect", "Content-Type" };
	struct curl_slist *list = NULL, *t;
	char line[8192];
	ai_result r = AI_OK;
	size_t i;
	int n;

	for (i = 0; i < req->nheaders; i++) {
		const char *name = req->headers[i].name, *value = req->headers[i].value;

		if (!value)
			value = "";
		/* a line break would smuggle in a header of its own */
		if (!*name || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) {
			r = AI_ERR_BAD_INPUT;
			goto out;
		}
		/* curl writes Content-Length from body_len, so a stale value given
		 * here cannot break the framing */
		if (with_body && strcasecmp(name, "Content-Length") == 0)
			continue;
		/* "Name;" is curl's way to send a header with an empty value */
		if (!*value)
			n = snprintf(line, sizeof(line), "%s;", name);
		else
			n = snprintf(line, sizeof(line), "%s: %s", name, value);
		if (n < 0 || (size_t)n >= sizeof(line)) {
			r = AI_ERR_TOO_BIG;
			goto out;
		}
		t = curl_slist_append(list, line);
		if (!t) {
			r = AI_ERR_NOMEM;
			goto out;
		}
		list = t;
	}
	for (i = 0; i < sizeof(suppress) / sizeof(suppress[0]); i++) {
		if (header_given(req, suppress[i]))
			continue;
		snprintf(line, sizeof(line), "%s:", suppress[i]);
		t = curl_slist_append(list, line);
		if (!t) {
			r = AI_ERR_NOMEM;
			goto out;
		}
		list = t;
	}
out:
	if (r != AI_OK) {
		curl_slist_free_all(list);
		list = NULL;
	}
	*out = list;
	return r;
}

static CURL *easy_get(struct ai_http *h)
{
	CURL *e = NULL;

	pthread_mutex_lock(&h->mu);
	if (h->nidle)
		e = h->idle[--h->nidle];
	pthread_mutex_unlock(&h->mu);
	return e ? e : curl_easy_init();
}

/* Resets the handle (it points into the caller's request) and keeps it
 * for the next request: its buffers survive a reset. */
static void easy_put(struct ai_http *h, CURL *e)
{
	if (!e)
		return;
	curl_easy_reset(e);
	pthread_mutex_lock(&h->mu);
	if (h->nidle < MAX_IDLE_EASY) {
		h->idle[h->nidle++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&h->mu);
	if (e)
		curl_easy_cleanup(e);
}

static ai_result setup(struct ai_http *h, struct job *j, const struct ai_http_request *req,
                       struct curl_slist **hdrs)
{
	CURL *e = j->easy;
	const char *m = req->method;
	int with_body = strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0 || req->body_len > 0;
	CURLcode c = CURLE_OK;
	ai_result r;

	r = build_headers(req, with_body, hdrs);
	if (r != AI_OK) {
		snprintf(j->resp->error, sizeof(j->resp->error), "request headers: %s",
		         ai_strerror(r));
		return r;
	}
#define SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TCP_NODELAY, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, h->connect_ms);
	/* a backstop for on_progress that also makes curl revisit an idle
	 * transfer every second, which is what lets on_progress run */
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, (long)((h->stall_ns + 999999999) / 1000000000));
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, j);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file)
		SET(CURLOPT_CAINFO, h->ca_file);
	/* "" turns off every proxy, the environment's included */
	if (h->no_proxy)
		SET(CURLOPT_PROXY, "");
	SET(CURLOPT_USERAGENT, h->user_agent);
	SET(CURLOPT_HTTPHEADER, *hdrs);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, j);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, j);
	SET(CURLOPT_ERRORBUFFER, j->errbuf);
	SET(CURLOPT_PRIVATE, (char *)j);
	if (strcmp(m, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (with_body) {
		/* the body goes from memory, with its length up front: no chunked
		 * encoding, and curl can resend it itself when a reused
		 * connection turns out dead before the request went out */
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SET(CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
		if (strcmp(m, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, m);
	} else {
		SET(CURLOPT_HTTPGET, 1L);
		if (strcmp(m, "GET") != 0)
			SET(CURLOPT_CUSTOMREQUEST, m);
	}
#undef SET
	if (c != CURLE_OK) {
		snprintf(j->resp->error, sizeof(j->resp->error), "http: %s",
		         curl_easy_strerror(c));
		return c == CURLE_OUT_OF_MEMORY ? AI_ERR_NOMEM : AI_ERR_INTERNAL;
	}
	return AI_OK;
}

/* Replaces every occurrence of what in s (cap bytes) with "[url]". */
static void scrub(char *s, size_t cap, const char *what)
{
	static const char mark[] = "[url]";
	size_t wlen = strlen(what), mlen = sizeof(mark) - 1;
	char *p = s;

	if (wlen < 2)
		return;
	while ((p = strstr(p, what))) {
		size_t off = (size_t)(p - s), tail = strlen(p + wlen);

		if (off + mlen >= cap) {
			*p = '\0';
			return;
		}
		if (off + mlen + tail >= cap)
			tail = cap - 1 - off - mlen;
		memmove(p + mlen, p + wlen, tail);
		p[mlen + tail] = '\0';
		memcpy(p, mark, mlen);
		p += mlen;
	}
}

/* Describes a transport failure without the URL: curl's messages name
 * the host at most, but nothing here should carry a query (a SAS). */
static void describe(struct ai_http_response *resp, const struct job *j, const char *url)
{
	char raw[CURL_ERROR_SIZE + 256];
	const char *q = strchr(url, '?'), *path = strstr(url, "://");

	if (j->errbuf[0])
		snprintf(raw, sizeof(raw), "%s: %s", curl_easy_strerror(j->rc), j->errbuf);
	else
		snprintf(raw, sizeof(raw), "%s", curl_easy_strerror(j->rc));
	scrub(raw, sizeof(raw), url);
	if (q)
		scrub(raw, sizeof(raw), q);
	if (path && (path = strchr(path + 3, '/')))
		scrub(raw, sizeof(raw), path);
	ai_redact(raw, resp->error, sizeof(resp->error));
}

static ai_result map_result(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return AI_ERR_TIMEOUT;
	case CURLE_OUT_OF_MEMORY:
		return AI_ERR_NOMEM;
	default:
		/* refused, reset, short body, resolve failures, TLS errors:
		 * all transport failures the caller may retry */
		return AI_ERR_NETWORK;
	}
}

ai_result ai_http_do(struct ai_http *h, const struct ai_http_request *req,
                     struct ai_http_response *resp)
{
	struct job j;
	struct curl_slist *hdrs = NULL;
	ai_result r;
	long status = 0;

	resp->status = 0;
	ai_buf_reset(&resp->body);
	resp->body.max = req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE;
	resp->body_truncated = 0;
	ai_buf_reset(&resp->headers);
	resp->headers.max = MAX_HEADERS_LEN;
	resp->error[0] = '\0';

	memset(&j, 0, sizeof(j));
	j.resp = resp;
	j.stall_ns = h->stall_ns;
	if (pthread_cond_init(&j.cond, NULL) != 0)
		return AI_ERR_INTERNAL;
	j.easy = easy_get(h);
	if (!j.easy) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	r = setup(h, &j, req, &hdrs);
	if (r != AI_OK)
		goto out;

	pthread_mutex_lock(&h->mu);
	if (h->queue_tail)
		h->queue_tail->next = &j;
	else
		h->queue = &j;
	h->queue_tail = &j;
	pthread_mutex_unlock(&h->mu);
	curl_multi_wakeup(h->multi);
	pthread_mutex_lock(&h->mu);
	while (!j.done)
		pthread_cond_wait(&j.cond, &h->mu);
	pthread_mutex_unlock(&h->mu);

	curl_easy_getinfo(j.easy, CURLINFO_RESPONSE_CODE, &status);
	if (j.rc == CURLE_OK || (j.discard_abort && status)) {
		resp->status = status;
		r = AI_OK;
	} else if (j.stalled) {
		snprintf(resp->error, sizeof(resp->error), "transfer stalled: nothing moved for %lld ms",
		         (long long)(h->stall_ns / 1000000));
		r = AI_ERR_TIMEOUT;
	} else if (j.headers_too_big) {
		snprintf(resp->error, sizeof(resp->error), "response headers too large");
		ai_buf_reset(&resp->headers);
		r = AI_ERR_PROTOCOL;
	} else {
		/* a response cut short is no response: the status alone must not
		 * pass for success */
		describe(resp, &j, req->url);
		r = map_result(j.rc);
	}
out:
	easy_put(h, j.easy);
	curl_slist_free_all(hdrs);
	pthread_cond_destroy(&j.cond);
	return r;
}
