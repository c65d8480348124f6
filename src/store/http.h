/* http.h: an HTTP engine over one libcurl multi handle, driven by its own
 * I/O thread: connection reuse, a bounded number of transfers in flight,
 * connect and stall timeouts. ai_http_do is blocking and thread-safe, so
 * several caller threads share the engine and its connections. It makes
 * exactly one attempt; retries belong to the caller, which knows what is
 * idempotent. Only http.c includes curl. */
#ifndef AI_HTTP_H
#define AI_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"
#include "util/result.h"

struct ai_http;

struct ai_http_header {
	const char *name;
	const char *value;
};

struct ai_http_config {
	unsigned max_transfers;       /* transfers in flight at once (0: 16) */
	int64_t connect_timeout_ns;   /* 0: 10 s */
	int64_t stall_timeout_ns;     /* abort when no byte moves this long (0: 30 s) */
	const char *user_agent;       /* NULL: "aiarchive/<version>" */
	const char *ca_file;          /* CA bundle to verify servers with (NULL: the system's) */
	int no_proxy;                 /* never use a proxy, whatever the environment says */
};

/* Starts the engine and its I/O thread. Free with ai_http_free. */
ai_result ai_http_new(struct ai_http **out, const struct ai_http_config *cfg) AI_MUST_CHECK;
/* Stops the thread and frees everything; no call may be in progress. */
void ai_http_free(struct ai_http *h);

struct ai_http_request {
	const char *method;     /* "GET", "PUT", "HEAD", "DELETE", "POST" */
	const char *url;        /* complete and already percent-encoded */
	const struct ai_http_header *headers; /* sent exactly as given */
	size_t nheaders;
	const void *body;       /* request body (may be NULL when body_len 0) */
	size_t body_len;        /* always sent as Content-Length for PUT/POST */
	size_t max_response;    /* cap on the response body kept (0: 1 MiB); past it
	                         * the body is read and dropped so the connection
	                         * stays usable, and after 4 MiB more the transfer is
	                         * cut off (still AI_OK, body_truncated set) */
};

/* Caller-held; ai_http_response_init before use, _release after. */
struct ai_http_response {
	long status;            /* 0 when no response arrived */
	struct ai_buf body;     /* response body, up to max_response */
	int body_truncated;     /* the body was longer than max_response */
	struct ai_buf headers;  /* "name: value\n" lines, names lowercased */
	char error[256];        /* transport error text when status is 0 */
};
void ai_http_response_init(struct ai_http_response *r);
void ai_http_response_release(struct ai_http_response *r);
/* Value of a response header by lowercase name, copied into out (cap
 * bytes); NULL when absent or too long for out. */
const char *ai_http_response_header(const struct ai_http_response *r, const char *name,
                                    char *out, size_t cap);

/* Performs one request. AI_OK when any HTTP response arrived (look at
 * resp->status); AI_ERR_NETWORK for connection failures or resets,
 * AI_ERR_TIMEOUT for connect or stall timeouts; resp->error says more.
 * The response is reset first, so one response struct can be reused. */
ai_result ai_http_do(struct ai_http *h, const struct ai_http_request *req,
                     struct ai_http_response *resp) AI_MUST_CHECK;

#endif
