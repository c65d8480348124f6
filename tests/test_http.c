/* test_http.c: the HTTP engine against a scripted HTTP/1.1 server that
 * runs in the test process on 127.0.0.1; and the Azure backend where only
 * a scripted service can misbehave as the test needs. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "store/http.h"
#include "store/store.h"

/* ---- the scripted server ---- */

#define LAX_LEASE_ID "11111111-2222-4333-8444-555555555555"

#define MAX_CONNS 256
#define REQ_CAP 65536

static struct {
	int lfd;
	int port;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_t conns[MAX_CONNS];
	int nconns;          /* connections accepted */
	int open;            /* connections open now */
	int max_open;
	char last[REQ_CAP];  /* the last request, head and body */
	size_t last_len;
	/* the one blob of the scripted service under /devstoreaccount1/lost/ */
	struct {
		int exists;
		unsigned gen;    /* its ETag is "0x<gen>" */
		char body[256];
		size_t len;
		char meta[512];  /* its x-ms-meta-* header lines */
		int lose;        /* writes still to take and leave unanswered */
		int puts;        /* writes received */
	} blob;
} srv;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waits for fd to become readable; 0 when the server is stopping. */
static int wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (!atomic_load(&srv.stop))
		if (poll(&p, 1, 20) > 0)
			return 1;
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void send_all(int fd, const void *p, size_t n, int more)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));

		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, int is_head, const char *status, const char *extra,
                    const void *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Length: %zu\r\n%s\r\n",
	                 status, len, extra ? extra : "");

	/* head and body leave together: a small second segment would wait
	 * for the client's delayed ACK */
	send_all(fd, head, (size_t)n, !is_head && len);
	if (!is_head && len)
		send_all(fd, body, len, 0);
}

/* The value of header name in the request head (case aside), or "". */
static void request_header(const char *req, size_t head_len, const char *name, char *out,
                           size_t cap)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *p = strstr(req, "\r\n"); p && p < req + head_len; p = strstr(p, "\r\n")) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *end = strstr(v, "\r\n");
			while (*v == ' ')
				v++;
			snprintf(out, cap, "%.*s", (int)(end - v), v);
			return;
		}
	}
}

/* The scripted blob: conditional writes as Blob Storage answers them, and
 * writes that land but whose answer is lost (the connection reset after
 * the blob was stored). Called with srv.mu held; 0: close the connection. */
static int lost_blob(int fd, int is_head, const char *method, const char *req,
                     size_t head_len, size_t len)
{
	static const char exists[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error>"
	                             "<Code>BlobAlreadyExists</Code><Message>exists</Message></Error>";
	static const char unmet[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error>"
	                            "<Code>ConditionNotMet</Code><Message>unmet</Message></Error>";
	char inm[16], im[64], etag[32], extra[768];

	snprintf(etag, sizeof etag, "\"0x%u\"", srv.blob.gen);
	if (strcmp(method, "PUT") == 0) {
		request_header(req, head_len, "If-None-Match", inm, sizeof inm);
		request_header(req, head_len, "If-Match", im, sizeof im);
		srv.blob.puts++;
		if (strcmp(inm, "*") == 0 && srv.blob.exists) {
			respond(fd, 0, "409 The specified blob already exists.",
			        "x-ms-error-code: BlobAlreadyExists\r\n", exists, sizeof exists - 1);
			return 1;
		}
		if (im[0] && (!srv.blob.exists || strcmp(im, etag) != 0)) {
			respond(fd, 0, "412 The condition specified using HTTP conditional header(s) "
			        "is not met.", "x-ms-error-code: ConditionNotMet\r\n", unmet,
			        sizeof unmet - 1);
			return 1;
		}
		srv.blob.exists = 1;
		srv.blob.gen++;
		srv.blob.len = len - head_len < sizeof srv.blob.body ? len - head_len : 0;
		memcpy(srv.blob.body, req + head_len, srv.blob.len);
		srv.blob.meta[0] = '\0';
		for (const char *p = strstr(req, "\r\nx-ms-meta-"); p && p < req + head_len;
		     p = strstr(p + 2, "\r\nx-ms-meta-")) {
			const char *end = strstr(p + 2, "\r\n");
			size_t have = strlen(srv.blob.meta);
			snprintf(srv.blob.meta + have, sizeof srv.blob.meta - have, "%.*s\r\n",
			         (int)(end - p - 2), p + 2);
		}
		if (srv.blob.lose > 0) {
			struct linger lg = { 1, 0 };
			srv.blob.lose--;
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			return 0;
		}
		snprintf(etag, sizeof etag, "\"0x%u\"", srv.blob.gen);
		snprintf(extra, sizeof extra, "ETag: %s\r\n", etag);
		respond(fd, 0, "201 Created", extra, "", 0);
		return 1;
	}
	if (!srv.blob.exists) {
		respond(fd, is_head, "404 The specified blob does not exist.",
		        "x-ms-error-code: BlobNotFound\r\n", "", 0);
		return 1;
	}
	snprintf(extra, sizeof extra, "ETag: %s\r\nx-ms-blob-type: BlockBlob\r\n%s", etag,
	         srv.blob.meta);
	respond(fd, is_head, "200 OK", extra, srv.blob.body, srv.blob.len);
	return 1;
}

/* Answers one request; returns 0 when the connection must close. */
static int handle(int fd, const char *req, size_t head_len, size_t len)
{
	char method[16], path[256];
	int is_head;

	if (sscanf(req, "%15s %255s", method, path) != 2)
		return 0;
	is_head = strcmp(method, "HEAD") == 0;
	pthread_mutex_lock(&srv.mu);
	memcpy(srv.last, req, len);
	srv.last[len] = '\0';
	srv.last_len = len;
	pthread_mutex_unlock(&srv.mu);

	if (strcmp(path, "/hello") == 0) {
		respond(fd, is_head, "200 OK", "X-Test-Header:   Mixed Value  \r\nETag: \"0x8D\"\r\n",
		        "hello world", 11);
	} else if (strcmp(path, "/echo") == 0) {
		respond(fd, is_head, "201 Created", NULL, req, len);
	} else if (strcmp(path, "/missing") == 0) {
		respond(fd, is_head, "404 The specified blob does not exist.", NULL, "nope", 4);
	} else if (strncmp(path, "/big/", 5) == 0) {
		size_t n = strtoul(path + 5, NULL, 10);
		char *b = malloc(n);

		memset(b, 'x', n);
		respond(fd, is_head, "200 OK", NULL, b, n);
		free(b);
	} else if (strncmp(path, "/id/", 4) == 0 || strncmp(path, "/fast/", 6) == 0) {
		char body[64];
		int slow = path[1] == 'i';
		int n = snprintf(body, sizeof(body), "id-%s", path + (slow ? 4 : 6));

		/* long enough for the transfers to overlap */
		if (slow)
			sleep_ms(2);
		respond(fd, is_head, "200 OK", NULL, body, (size_t)n);
	} else if (strcmp(path, "/reset") == 0) {
		static const char part[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
		struct linger lg = { 1, 0 };

		send_all(fd, part, sizeof(part) - 1, 0);
		sleep_ms(50);
		/* a zero linger turns close into a reset */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		return 0;
	} else if (strcmp(path, "/stall") == 0) {
		static const char part[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabcde";
		int64_t end = now_ns() + 10 * (int64_t)1000000000;

		send_all(fd, part, sizeof(part) - 1, 0);
		while (!atomic_load(&srv.stop) && now_ns() < end)
			sleep_ms(20);
		return 0;
	} else if (strcmp(path, "/silent") == 0) {
		int64_t end = now_ns() + 10 * (int64_t)1000000000;

		while (!atomic_load(&srv.stop) && now_ns() < end)
			sleep_ms(20);
		return 0;
	} else if (strcmp(path, "/wait") == 0) {
		sleep_ms(600);
		respond(fd, is_head, "200 OK", NULL, "ok", 2);
	} else if (strncmp(path, "/devstoreaccount1/stuck?", 24) == 0) {
		/* a List Blobs page whose NextMarker never moves */
		static const char page[] =
			"<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults>"
			"<Blobs><Blob><Name>a</Name></Blob></Blobs>"
			"<NextMarker>again</NextMarker></EnumerationResults>";

		respond(fd, is_head, "200 OK", "Content-Type: application/xml\r\n", page,
		        sizeof(page) - 1);
	} else if (strncmp(path, "/devstoreaccount1/lost/", 23) == 0) {
		int keep;
		pthread_mutex_lock(&srv.mu);
		keep = lost_blob(fd, is_head, method, req, head_len, len);
		pthread_mutex_unlock(&srv.mu);
		return keep;
	} else if (strncmp(path, "/devstoreaccount1/lax/locks/run?", 32) == 0) {
		/* renews whatever lease id it is given, naming its own (Azurite
		 * after a lease expired) */
		respond(fd, is_head, "200 OK", "x-ms-lease-id: " LAX_LEASE_ID "\r\n", "", 0);
	} else {
		respond(fd, is_head, "400 Bad Request", NULL, "", 0);
	}
	(void)head_len;
	return 1;
}

static size_t content_length(const char *head, size_t head_len)
{
	const char *p = head;

	while (p < head + head_len) {
		const char *eol = memchr(p, '\n', (size_t)(head + head_len - p));

		if (!eol)
			break;
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			return strtoul(p + 15, NULL, 10);
		p = eol + 1;
	}
	return 0;
}

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(REQ_CAP);
	size_t len = 0;

	for (;;) {
		char *end;
		size_t head_len, total;

		while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
			ssize_t n;

			if (!wait_readable(fd) || len == REQ_CAP)
				goto out;
			n = recv(fd, buf + len, REQ_CAP - len, 0);
			if (n <= 0)
				goto out;
			len += (size_t)n;
		}
		head_len = (size_t)(end + 4 - buf);
		total = head_len + content_length(buf, head_len);
		if (total >= REQ_CAP)
			goto out;
		while (len < total) {
			ssize_t n;

			if (!wait_readable(fd))
				goto out;
			n = recv(fd, buf + len, REQ_CAP - len, 0);
			if (n <= 0)
				goto out;
			len += (size_t)n;
		}
		{
			char save = buf[total];

			buf[total] = '\0';
			if (!handle(fd, buf, head_len, total))
				goto out;
			buf[total] = save;
		}
		memmove(buf, buf + total, len - total);
		len -= total;
	}
out:
	close(fd);
	pthread_mutex_lock(&srv.mu);
	srv.open--;
	pthread_mutex_unlock(&srv.mu);
	free(buf);
	return NULL;
}

static void *accept_main(void *arg)
{
	(void)arg;
	while (wait_readable(srv.lfd)) {
		int fd = accept(srv.lfd, NULL, NULL);

		if (fd < 0)
			continue;
		pthread_mutex_lock(&srv.mu);
		if (srv.nconns == MAX_CONNS) {
			pthread_mutex_unlock(&srv.mu);
			close(fd);
			continue;
		}
		srv.open++;
		if (srv.open > srv.max_open)
			srv.max_open = srv.open;
		pthread_create(&srv.conns[srv.nconns++], NULL, conn_main, (void *)(intptr_t)fd);
		pthread_mutex_unlock(&srv.mu);
	}
	return NULL;
}

static void server_start(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int one = 1;

	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.mu, NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(srv.lfd >= 0);
	setsockopt(srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(srv.lfd, 128), 0);
	cr_assert_eq(getsockname(srv.lfd, (struct sockaddr *)&a, &alen), 0);
	srv.port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&srv.thread, NULL, accept_main, NULL), 0);
}

static void server_stop(void)
{
	int i;

	atomic_store(&srv.stop, 1);
	pthread_join(srv.thread, NULL);
	for (i = 0; i < srv.nconns; i++)
		pthread_join(srv.conns[i], NULL);
	close(srv.lfd);
	pthread_mutex_destroy(&srv.mu);
}

/* ---- helpers ---- */

static struct ai_http *http;

/* What the server saw, copied under its lock for the test thread. */
static struct {
	char last[REQ_CAP];
	size_t last_len;
	int nconns;
	int max_open;
} seen;

static void snapshot(void)
{
	pthread_mutex_lock(&srv.mu);
	memcpy(seen.last, srv.last, srv.last_len + 1);
	seen.last_len = srv.last_len;
	seen.nconns = srv.nconns;
	seen.max_open = srv.max_open;
	pthread_mutex_unlock(&srv.mu);
}

static void make_engine(unsigned max_transfers, int64_t stall_ns)
{
	struct ai_http_config cfg = {
		.max_transfers = max_transfers,
		.stall_timeout_ns = stall_ns,
		.user_agent = "test-agent/1",
	};

	cr_assert_eq(ai_http_new(&http, &cfg), AI_OK);
}

static void setup(void)
{
	/* the test server is local, whatever the environment says */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	server_start();
	make_engine(4, 0);
}

static void teardown(void)
{
	ai_http_free(http);
	http = NULL;
	server_stop();
}

static void url(char *out, size_t cap, const char *path)
{
	snprintf(out, cap, "http://127.0.0.1:%d%s", srv.port, path);
}

static ai_result fetch(const char *method, const char *path, const struct ai_http_header *h,
                     size_t nh, const char *body, size_t blen, size_t max,
                     struct ai_http_response *resp)
{
	char u[256];
	struct ai_http_request req = {
		.method = method, .url = u, .headers = h, .nheaders = nh,
		.body = body, .body_len = blen, .max_response = max,
	};

	url(u, sizeof(u), path);
	return ai_http_do(http, &req, resp);
}

/* fetch, then a snapshot of what the server saw (one caller thread only) */
static ai_result run(const char *method, const char *path, const struct ai_http_header *h,
                     size_t nh, const char *body, size_t blen, size_t max,
                     struct ai_http_response *resp)
{
	ai_result r = fetch(method, path, h, nh, body, blen, max, resp);

	snapshot();
	return r;
}

/* Counts lines of the recorded request head that start with name. */
static int sent_header_count(const char *name)
{
	const char *p = seen.last, *end = strstr(seen.last, "\r\n\r\n");
	size_t n = strlen(name);
	int count = 0;

	while (p && p < end) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			count++;
		p = strstr(p, "\r\n");
		if (p)
			p += 2;
	}
	return count;
}

static const char *request_body(void)
{
	const char *end = strstr(seen.last, "\r\n\r\n");

	return end ? end + 4 : "";
}

/* ---- tests ---- */

TestSuite(http, .init = setup, .fini = teardown, .timeout = 60);

Test(http, get_returns_status_body_and_lowercased_headers)
{
	struct ai_http_response r;
	char v[64];

	ai_http_response_init(&r);
	cr_assert_eq(run("GET", "/hello", NULL, 0, NULL, 0, 0, &r), AI_OK);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(ai_buf_str(&r.body), "hello world");
	cr_assert_eq(r.body_truncated, 0);
	cr_assert(strstr(ai_buf_str(&r.headers), "x-test-header: Mixed Value\n"),
	          "headers: %s", ai_buf_str(&r.headers));
	cr_assert(strstr(ai_buf_str(&r.headers), "content-length: 11\n"));
	cr_assert(!strstr(ai_buf_str(&r.headers), "HTTP/1.1"), "no status line among headers");
	cr_assert_str_eq(ai_http_response_header(&r, "etag", v, sizeof(v)), "\"0x8D\"");
	cr_assert_str_eq(ai_http_response_header(&r, "x-test-header", v, sizeof(v)),
	                 "Mixed Value");
	cr_assert_null(ai_http_response_header(&r, "x-absent", v, sizeof(v)));
	cr_assert_null(ai_http_response_header(&r, "x-test-header", v, 5),
	               "a value that does not fit is not cut");
	cr_assert_eq(sent_header_count("Accept"), 0, "no header the caller did not ask for");
	cr_assert_eq(sent_header_count("User-Agent"), 1);
	cr_assert(strstr(seen.last, "User-Agent: test-agent/1\r\n"));
	ai_http_response_release(&r);
}

Test(http, an_error_status_is_a_response_not_a_failure)
{
	struct ai_http_response r;

	ai_http_response_init(&r);
	cr_assert_eq(run("GET", "/missing", NULL, 0, NULL, 0, 0, &r), AI_OK);
	cr_assert_eq(r.status, 404);
	cr_assert_str_eq(ai_buf_str(&r.body), "nope");
	ai_http_response_release(&r);
}

Test(http, put_sends_exactly_the_body_with_its_length_and_nothing_added)
{
	static const struct ai_http_header h[] = {
		{ "x-ms-blob-type", "BlockBlob" },
		{ "x-ms-version", "2025-11-05" },
		{ "Content-Length", "999" }, /* stale: the real length wins */
	};
	char body[3000];
	struct ai_http_response r;

	memset(body, 'b', sizeof(body));
	body[0] = '\0'; /* binary-safe */
	ai_http_response_init(&r);
	cr_assert_eq(run("PUT", "/echo", h, 3, body, sizeof(body), 0, &r), AI_OK);
	cr_assert_eq(r.status, 201);
	cr_assert(strncmp(seen.last, "PUT /echo HTTP/1.1\r\n", 20) == 0);
	cr_assert(strstr(seen.last, "\r\nContent-Length: 3000\r\n"));
	cr_assert_eq(sent_header_count("Content-Length"), 1);
	cr_assert_eq(sent_header_count("Content-Type"), 0);
	cr_assert_eq(sent_header_count("Expect"), 0);
	cr_assert_eq(sent_header_count("Transfer-Encoding"), 0);
	cr_assert(strstr(seen.last, "\r\nx-ms-blob-type: BlockBlob\r\n"));
	cr_assert_eq(memcmp(request_body(), body, sizeof(body)), 0);
	cr_assert_eq(seen.last_len - (size_t)(request_body() - seen.last), sizeof(body));
	ai_http_response_release(&r);
}

Test(http, put_and_post_of_nothing_send_content_length_zero)
{
	struct ai_http_response r;

	ai_http_response_init(&r);
	cr_assert_eq(run("PUT", "/echo", NULL, 0, NULL, 0, 0, &r), AI_OK);
	cr_assert_eq(r.status, 201);
	cr_assert(strstr(seen.last, "\r\nContent-Length: 0\r\n"), "%s", seen.last);
	cr_assert_eq(sent_header_count("Content-Type"), 0);
	cr_assert_eq(sent_header_count("Transfer-Encoding"), 0);
	cr_assert_eq(run("POST", "/echo", NULL, 0, "", 0, 0, &r), AI_OK);
	cr_assert(strncmp(seen.last, "POST /echo HTTP/1.1\r\n", 21) == 0);
	cr_assert(strstr(seen.last, "\r\nContent-Length: 0\r\n"));
	cr_assert_eq(sent_header_count("Content-Type"), 0);
	ai_http_response_release(&r);
}

Test(http, a_given_content_type_is_sent_once)
{
	static const struct ai_http_header h[] = { { "Content-Type", "text/plain; charset=utf-8" } };
	struct ai_http_response r;

	ai_http_response_init(&r);
	cr_assert_eq(run("POST", "/echo", h, 1, "hi", 2, 0, &r), AI_OK);
	cr_assert_eq(sent_header_count("Content-Type"), 1);
	cr_assert(strstr(seen.last, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	cr_assert_str_eq(request_body(), "hi");
	ai_http_response_release(&r);
}

Test(http, headers_are_sent_exactly_as_given)
{
	static const struct ai_http_header h[] = {
		{ "x-ms-date", "Mon, 01 Jan 2024 00:00:00 GMT" },
		{ "Authorization", "SharedKey acct:c2lnbmF0dXJl" },
		{ "x-ms-meta-Owner", "alice" },
		{ "If-None-Match", "*" },
		{ "x-ms-empty", "" },
	};
	struct ai_http_response r;

	ai_http_response_init(&r);
	cr_assert_eq(run("GET", "/echo", h, 5, NULL, 0, 0, &r), AI_OK);
	cr_assert(strncmp(seen.last, "GET /echo HTTP/1.1\r\n", 20) == 0);
	cr_assert(strstr(seen.last, "\r\nx-ms-date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"));
	cr_assert(strstr(seen.last, "\r\nAuthorization: SharedKey acct:c2lnbmF0dXJl\r\n"));
	cr_assert(strstr(seen.last, "\r\nx-ms-meta-Owner: alice\r\n"));
	cr_assert(strstr(seen.last, "\r\nIf-None-Match: *\r\n"));
	cr_assert(strstr(seen.last, "\r\nx-ms-empty:"), "an empty value is still sent");
	cr_assert_eq(sent_header_count("Content-Length"), 0, "a GET has no body");
	cr_assert_str_eq(ai_buf_str(&r.body), seen.last, "the echo carries the same request");
	ai_http_response_release(&r);
}

Test(http, a_header_with_a_line_break_is_refused)
{
	static const struct ai_http_header h[] = { { "x-ms-meta-a", "b\r\nx-evil: 1" } };
	struct ai_http_response r;

	ai_http_response_init(&r);
	cr_assert_eq(run("GET", "/echo", h, 1, NULL, 0, 0, &r), AI_ERR_BAD_INPUT);
	cr_assert_eq(seen.nconns, 0, "nothing was sent");
	ai_http_response_release(&r);
}

Test(http, delete_uses_its_method)
{
	struct ai_http_response r;

	ai_http_response_init(&r);
	cr_assert_eq(run("DELETE", "/echo", NULL, 0, NULL, 0, 0, &r), AI_OK);
	cr_assert(strncmp(seen.last, "DELETE /echo HTTP/1.1\r\n", 23) == 0);
	ai_http_response_release(&r);
}

Test(http, head_returns_headers_without_waiting_for_a_body)
{
	struct ai_http_response r;
	char v[32];

	ai_http_response_init(&r);
	cr_assert_eq(run("HEAD", "/hello", NULL, 0, NULL, 0, 0, &r), AI_OK);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body.len, 0);
	cr_assert_str_eq(ai_http_response_header(&r, "content-length", v, sizeof(v)), "11");
	cr_assert(strncmp(seen.last, "HEAD /hello HTTP/1.1\r\n", 22) == 0);
	/* the connection is still in step: a GET after it works */
	cr_assert_eq(run("GET", "/hello", NULL, 0, NULL, 0, 0, &r), AI_OK);
	cr_assert_str_eq(ai_buf_str(&r.body), "hello world");
	cr_assert_eq(seen.nconns, 1);
	ai_http_response_release(&r);
}

Test(http, a_body_over_the_cap_is_truncated_and_the_connection_kept)
{
	struct ai_http_response r;

	ai_http_response_init(&r);
	cr_assert_eq(run("GET", "/big/100000", NULL, 0, NULL, 0, 100, &r), AI_OK);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body.len, 100);
	cr_assert_eq(r.body_truncated, 1);
	cr_assert_eq(run("GET", "/big/100", NULL, 0, NULL, 0, 100, &r), AI_OK);
	cr_assert_eq(r.body.len, 100);
	cr_assert_eq(r.body_truncated, 0, "a body exactly at the cap is whole");
	cr_assert_eq(seen.nconns, 1, "the rest of the long body was drained");
	ai_http_response_release(&r);
}

Test(http, a_huge_body_over_the_cap_is_cut_off_but_still_a_response)
{
	struct ai_http_response r;

	ai_http_response_init(&r);
	cr_assert_eq(run("GET", "/big/12000000", NULL, 0, NULL, 0, 10, &r), AI_OK);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body.len, 10);
	cr_assert_eq(r.body_truncated, 1);
	ai_http_response_release(&r);
}

Test(http, sequential_requests_reuse_one_connection)
{
	struct ai_http_response r;
	int i;

	ai_http_response_init(&r);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(run(i % 2 ? "PUT" : "GET", i % 2 ? "/echo" : "/hello", NULL, 0, "x", 1,
		                 0, &r), AI_OK);
		cr_assert_eq(r.status, i % 2 ? 201 : 200);
	}
	cr_assert_eq(seen.nconns, 1);
	ai_http_response_release(&r);
}

struct worker {
	const char *prefix;
	int first, count;
	int ok;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ai_http_response r;
	int i;

	ai_http_response_init(&r);
	for (i = 0; i < w->count; i++) {
		char path[32], want[32];

		snprintf(path, sizeof(path), "%s%d", w->prefix, w->first + i);
		snprintf(want, sizeof(want), "id-%d", w->first + i);
		if (fetch("GET", path, NULL, 0, NULL, 0, 0, &r) == AI_OK && r.status == 200 &&
		    strcmp(ai_buf_str(&r.body), want) == 0)
			w->ok++;
	}
	ai_http_response_release(&r);
	return NULL;
}

static int run_workers(const char *prefix, int nthreads, int per_thread)
{
	pthread_t t[16];
	struct worker w[16];
	int i, ok = 0;

	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .prefix = prefix, .first = i * per_thread,
		                    .count = per_thread };
		cr_assert_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
	}
	return ok;
}

Test(http, concurrent_callers_all_complete_within_the_connection_cap)
{
	cr_assert_eq(run_workers("/id/", 8, 4), 32);
	snapshot();
	cr_assert_leq(seen.max_open, 4, "max open connections %d", seen.max_open);
	cr_assert_geq(seen.max_open, 2, "transfers ran side by side");
}

Test(http, many_small_requests_are_fast)
{
	int64_t t0, dt;
	int ok;

	ai_http_free(http);
	make_engine(8, 0);
	t0 = now_ns();
	ok = run_workers("/fast/", 8, 625);
	dt = now_ns() - t0;
	cr_assert_eq(ok, 5000);
	cr_log_info("5000 GETs from 8 threads: %.0f ms, %.0f requests/s", (double)dt / 1e6,
	            5000 / ((double)dt / 1e9));
	cr_assert_lt(dt, 20 * (int64_t)1000000000);
}

Test(http, a_reset_mid_body_is_a_network_error)
{
	struct ai_http_response r;

	ai_http_response_init(&r);
	cr_assert_eq(run("GET", "/reset", NULL, 0, NULL, 0, 0, &r), AI_ERR_NETWORK);
	cr_assert_eq(r.status, 0, "a cut response is no response");
	cr_assert_neq(r.error[0], '\0');
	/* the engine goes on with a fresh connection */
	cr_assert_eq(run("GET", "/hello", NULL, 0, NULL, 0, 0, &r), AI_OK);
	cr_assert_eq(r.status, 200);
	ai_http_response_release(&r);
}

Test(http, a_stall_times_out_after_the_stall_timeout)
{
	struct ai_http_response r;
	int64_t t0, dt;

	ai_http_free(http);
	make_engine(4, 1000000000);
	ai_http_response_init(&r);
	t0 = now_ns();
	cr_assert_eq(run("GET", "/stall", NULL, 0, NULL, 0, 0, &r), AI_ERR_TIMEOUT);
	dt = now_ns() - t0;
	cr_assert_eq(r.status, 0);
	cr_assert_geq(dt, 900000000LL, "took %lld ms", (long long)(dt / 1000000));
	cr_assert_lt(dt, 2500000000LL, "took %lld ms", (long long)(dt / 1000000));
	cr_assert(strstr(r.error, "stalled"), "%s", r.error);

	t0 = now_ns();
	cr_assert_eq(run("GET", "/silent", NULL, 0, NULL, 0, 0, &r), AI_ERR_TIMEOUT,
	             "a server that never answers stalls too");
	dt = now_ns() - t0;
	cr_assert_lt(dt, 2500000000LL, "took %lld ms", (long long)(dt / 1000000));
	ai_http_response_release(&r);
}

static void *wait_main(void *arg)
{
	struct ai_http_response r;

	ai_http_response_init(&r);
	*(ai_result *)arg = fetch("GET", "/wait", NULL, 0, NULL, 0, 0, &r);
	if (r.status != 200)
		*(ai_result *)arg = AI_ERR_INTERNAL;
	ai_http_response_release(&r);
	return NULL;
}

Test(http, time_spent_queued_is_not_a_stall)
{
	pthread_t t[3];
	ai_result res[3];
	int i;

	/* one transfer at a time, each 0.6 s: the third waits 1.2 s in the
	 * queue, longer than the 1 s stall timeout */
	ai_http_free(http);
	make_engine(1, 1000000000);
	for (i = 0; i < 3; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, wait_main, &res[i]), 0);
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(res[i], AI_OK, "request %d: %s", i, ai_strerror(res[i]));
	}
}

Test(http, a_refused_connection_fails_fast_and_keeps_the_url_out_of_the_message)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct ai_http_response r;
	struct ai_http_request req = { .method = "GET" };
	char u[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int64_t t0, dt;

	/* a port that was just free and has no listener */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/c/blob?sv=2024&sig=c2VjcmV0%%3D",
	         ntohs(a.sin_port));
	req.url = u;
	ai_http_response_init(&r);
	t0 = now_ns();
	cr_assert_eq(ai_http_do(http, &req, &r), AI_ERR_NETWORK);
	dt = now_ns() - t0;
	cr_assert_lt(dt, 1000000000LL);
	cr_assert_eq(r.status, 0);
	cr_assert_neq(r.error[0], '\0');
	cr_assert_null(strstr(r.error, "sig"), "%s", r.error);
	cr_assert_null(strstr(r.error, "/c/blob"), "%s", r.error);
	ai_http_response_release(&r);
}

Test(http, a_response_struct_is_reset_between_requests)
{
	struct ai_http_response r;

	ai_http_response_init(&r);
	cr_assert_eq(run("GET", "/big/50", NULL, 0, NULL, 0, 10, &r), AI_OK);
	cr_assert_eq(r.body_truncated, 1);
	cr_assert_eq(run("GET", "/missing", NULL, 0, NULL, 0, 0, &r), AI_OK);
	cr_assert_eq(r.status, 404);
	cr_assert_eq(r.body_truncated, 0);
	cr_assert_str_eq(ai_buf_str(&r.body), "nope");
	cr_assert_null(strstr(ai_buf_str(&r.headers), "x-test-header"));
	ai_http_response_release(&r);
	ai_http_response_release(&r);
}

/* The Azure backend over this engine: pagers ask again while a marker
 * comes back, so one that does not move must end the listing. */
Test(http, an_azure_listing_whose_next_marker_repeats_fails_instead_of_looping)
{
	char u[256];
	struct ai_store_config cfg = { .url = u, .max_tries = 1 };
	struct ai_store *st = NULL;
	struct ai_blob_list l;

	url(u, sizeof(u), "/devstoreaccount1/stuck");
	cr_assert_eq(ai_store_open(&st, &cfg), AI_OK, "%s", ai_store_last_error());
	cr_assert_eq(ai_store_list(st, NULL, NULL, NULL, 0, &l), AI_OK, "%s",
	             ai_store_last_error());
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.next_marker, "again");
	ai_blob_list_release(&l);
	cr_assert_eq(ai_store_list(st, NULL, NULL, "before", 0, &l), AI_OK, "%s",
	             ai_store_last_error());
	cr_assert_str_eq(l.next_marker, "again");
	ai_blob_list_release(&l);
	cr_assert_eq(ai_store_list(st, NULL, NULL, "again", 0, &l), AI_ERR_PROTOCOL);
	cr_assert_eq(l.n, 0);
	cr_assert_null(l.next_marker);
	cr_assert(strstr(ai_store_last_error(), "container 'stuck': the listing does not advance"),
	          "%s", ai_store_last_error());
	ai_store_free(st);
}

/* A renewal counts only under our own lease id (ARCHITECTURE.md §7.3). */
Test(http, an_azure_renewal_that_names_another_lease_id_is_a_lost_lease)
{
	char u[256], ours[AI_LEASE_ID_MAX] = "66666666-7777-4888-9999-aaaaaaaaaaaa";
	char theirs[AI_LEASE_ID_MAX] = LAX_LEASE_ID;
	struct ai_store_config cfg = { .url = u, .max_tries = 1 };
	struct ai_store *st = NULL;

	url(u, sizeof(u), "/devstoreaccount1/lax");
	cr_assert_eq(ai_store_open(&st, &cfg), AI_OK, "%s", ai_store_last_error());
	cr_assert_eq(ai_store_lease(st, "locks/run", AI_LEASE_RENEW, 0, ours), AI_ERR_CONFLICT);
	cr_assert(strstr(ai_store_last_error(), "renewed lease '" LAX_LEASE_ID "', not ours"), "%s",
	          ai_store_last_error());
	cr_assert_eq(ai_store_lease(st, "locks/run", AI_LEASE_RENEW, 0, theirs), AI_OK, "%s",
	             ai_store_last_error());
	ai_store_free(st);
}

/* A conditional write that reached the service but whose answer was lost
 * is sent again (on a reused connection, by libcurl itself) and comes
 * back "exists" or "condition not met"; holding exactly our bytes and
 * metadata, the object is our own write (ARCHITECTURE.md §7.1). */
static struct ai_store *lost_store(void)
{
	static char u[256];
	struct ai_store_config cfg = { .url = u, .max_tries = 3 };
	struct ai_store *st = NULL;

	url(u, sizeof(u), "/devstoreaccount1/lost");
	cr_assert_eq(ai_store_open(&st, &cfg), AI_OK, "%s", ai_store_last_error());
	/* a first request leaves a connection for the write to reuse */
	cr_assert_eq(ai_store_props(st, "b", &(struct ai_blob_info){ 0 }, NULL),
	             AI_ERR_NOT_FOUND);
	return st;
}

static void lose_next_write(void)
{
	pthread_mutex_lock(&srv.mu);
	srv.blob.lose = 1;
	srv.blob.puts = 0;
	pthread_mutex_unlock(&srv.mu);
}

static struct ai_meta sig_meta(const char *value)
{
	struct ai_meta m = { .n = 1 };

	snprintf(m.kv[0].name, sizeof m.kv[0].name, "minisig_sig");
	snprintf(m.kv[0].value, sizeof m.kv[0].value, "%s", value);
	return m;
}

Test(http, an_azure_create_only_write_whose_answer_was_lost_is_our_own)
{
	struct ai_store *st = lost_store();
	struct ai_meta m = sig_meta("ours");
	char etag[AI_ETAG_MAX] = "";

	lose_next_write();
	cr_assert_eq(ai_store_put(st, "b", "segment", 7, AI_PUT_CREATE_ONLY, &m, etag), AI_OK,
	             "%s", ai_store_last_error());
	cr_assert_eq(srv.blob.puts, 2, "the lost write was sent again");
	cr_assert_str_eq(etag, "0x1", "the ETag of the object read back");
	/* another writer's object under the name is no success of ours */
	cr_assert_eq(ai_store_put(st, "b", "other", 5, AI_PUT_CREATE_ONLY, &m, NULL),
	             AI_ERR_EXISTS);
	cr_assert(strstr(ai_store_last_error(), "already exists"), "%s", ai_store_last_error());
	m = sig_meta("theirs");
	cr_assert_eq(ai_store_put(st, "b", "segment", 7, AI_PUT_CREATE_ONLY, &m, NULL),
	             AI_ERR_EXISTS, "the same bytes with another signature are not ours");
	ai_store_free(st);
}

Test(http, an_azure_if_match_write_whose_answer_was_lost_is_our_own)
{
	struct ai_store *st = lost_store();
	struct ai_meta m = sig_meta("ours");
	char e1[AI_ETAG_MAX], e2[AI_ETAG_MAX] = "";

	cr_assert_eq(ai_store_put(st, "b", "state-1", 7, 0, &m, e1), AI_OK, "%s",
	             ai_store_last_error());
	lose_next_write();
	cr_assert_eq(ai_store_put_if_match(st, "b", "state-2", 7, e1, &m, e2), AI_OK, "%s",
	             ai_store_last_error());
	cr_assert_eq(srv.blob.puts, 2, "the lost write was sent again");
	cr_assert_str_eq(e2, "0x2");
	/* a writer still holding the first ETag replaces nothing */
	cr_assert_eq(ai_store_put_if_match(st, "b", "state-3", 7, e1, &m, NULL), AI_ERR_CONFLICT);
	cr_assert(strstr(ai_store_last_error(), "replaced or removed by another writer"), "%s",
	          ai_store_last_error());
	ai_store_free(st);
}

Test(http, free_of_nothing_is_harmless)
{
	ai_http_free(NULL);
	ai_http_response_release(NULL);
}
