/* azure.c: the storage interface over the Azure Blob REST API:
 * request building and Shared Key or SAS authorization, error mapping,
 * retries with backoff, and read fallback to the RA-GRS secondary. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "store/auth/token.h"
#include "store/azurl.h"
#include "util/base64.h"
#include "store/blobxml.h"
#include "util/crypto.h"
#include "store/http.h"
#include "util/log.h"
#include "store/retry.h"
#include "store/sharedkey.h"
#include "store/backend.h"
#include "util/clock.h"

/* One service version that both Azure and the pinned Azurite accept. */
#define AZ_VERSION "2025-11-05"
#define AZ_MAX_HEADERS 32
#define AZ_URL_MAX (16 * 1024)

struct azure_store {
	struct ai_store base;
	struct ai_azurl loc;
	char *endpoint;           /* primary base URL, no trailing '/' */
	char *endpoint2;          /* secondary base URL, or NULL */
	char *sas;                /* token without '?', or NULL */
	uint8_t key[64];          /* decoded account key */
	size_t keylen;            /* 0 without a key */
	struct ai_http *http;
	struct ai_retry_policy retry;
	struct ai_token_source *token; /* a token method's shared source, or NULL */
	char *rbac_hint;          /* see ai_store_config */
};

enum az_level { AZ_SERVICE, AZ_CONTAINER, AZ_BLOB };

/* One logical request; az_call turns it into attempts. */
struct az_req {
	const char *method;
	enum ai_req_kind kind;
	enum az_level level;
	const char *container;    /* for AZ_CONTAINER / AZ_BLOB */
	const char *blob;         /* full blob name inside the container */
	char what[600];           /* object named in messages: "blob 'x'" */
	const char *query;        /* encoded query without the SAS, or NULL */
	struct ai_http_header hdr[AZ_MAX_HEADERS];
	size_t nhdr;
	char values[AZ_MAX_HEADERS][128]; /* storage for formatted header values */
	size_t nvalues;
	char meta_names[AI_META_MAX][80];  /* storage for x-ms-meta-* header names */
	const void *body;
	size_t body_len;
	size_t max_response;
	int idempotent;           /* safe to send again after any failure */
	int readonly;             /* may be served by the secondary */
	int use_secondary;        /* only the secondary can answer */
	int create_only;          /* If-None-Match: * (412 means "exists") */
	int if_match;             /* If-Match: a 412 after a resend may be our own write */
	int append;               /* creates an append blob */
};

/* ----- small helpers ----- */

static void add_header(struct az_req *r, const char *name, const char *value)
{
	if (r->nhdr < AZ_MAX_HEADERS) {
		r->hdr[r->nhdr].name = name;
		r->hdr[r->nhdr].value = value;
		r->nhdr++;
	}
}

/* Adds a header whose value is formatted into the request's own storage. */
static void add_headerf(struct az_req *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_headerf(struct az_req *r, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *v;

	if (r->nvalues == AZ_MAX_HEADERS)
		return;
	v = r->values[r->nvalues++];
	va_start(ap, fmt);
	vsnprintf(v, sizeof r->values[0], fmt, ap);
	va_end(ap);
	add_header(r, name, v);
}

static void add_meta(struct az_req *r, const struct ai_meta *meta)
{
	for (size_t i = 0; meta && i < meta->n && i < AI_META_MAX; i++) {
		snprintf(r->meta_names[i], sizeof r->meta_names[0], "x-ms-meta-%s",
		         meta->kv[i].name);
		add_header(r, r->meta_names[i], meta->kv[i].value);
	}
}

/* With AI_PUT_CREATE_ONLY, If-None-Match: * makes the write fail (412)
 * where the name exists. */
static void add_create_only(struct az_req *r, unsigned flags)
{
	if (flags & AI_PUT_CREATE_ONLY) {
		add_header(r, "If-None-Match", "*");
		r->create_only = 1;
	}
}

/* Sends p as the body with a Content-MD5, the service's per-request
 * integrity check; returns the MD5 header's value (NULL if none). */
static const char *set_body(struct az_req *r, const void *p, size_t n)
{
	uint8_t md5[16];
	char b64[AI_BASE64_ENCLEN(16)];

	r->body = p;
	r->body_len = n;
	if (ai_md5(p, n, md5) != AI_OK)
		return NULL;
	ai_base64_encode(md5, sizeof md5, b64);
	add_headerf(r, "Content-MD5", "%s", b64);
	return r->nvalues ? r->values[r->nvalues - 1] : NULL;
}

static struct azure_store *az(struct ai_store *s)
{
	return (struct azure_store *)s;
}

/* Splits a store-relative name into container and blob name. */
static ai_result locate(struct azure_store *s, const char *name, struct ai_buf *container,
                        struct ai_buf *blob)
{
	ai_result r;

	if (!name || !*name) {
		ai_store_set_error("empty blob name");
		return AI_ERR_BAD_INPUT;
	}
	if (s->loc.container[0]) {
		r = ai_buf_addstr(container, s->loc.container);
		if (r == AI_OK)
			r = ai_buf_addstr(blob, s->loc.prefix);
		return r == AI_OK ? ai_buf_addstr(blob, name) : r;
	}
	const char *slash = strchr(name, '/');
	if (!slash || slash == name || !slash[1]) {
		ai_store_set_error("blob '%s': name must be 'container/blob' for an account location",
		                   name);
		return AI_ERR_BAD_INPUT;
	}
	r = ai_buf_add(container, name, (size_t)(slash - name));
	return r == AI_OK ? ai_buf_addstr(blob, slash + 1) : r;
}

/* ----- error mapping ----- */

static ai_result map_status(const struct az_req *q, long status, const char *code)
{
	if (status == 401 || status == 403)
		return AI_ERR_AUTH;
	if (status == 404)
		return AI_ERR_NOT_FOUND;
	if (status == 409) {
		if (strcmp(code, "BlobAlreadyExists") == 0 || strcmp(code, "ContainerAlreadyExists") == 0)
			return AI_ERR_EXISTS;
		return AI_ERR_CONFLICT;
	}
	if (status == 412)
		return q->create_only && strcmp(code, "ConditionNotMet") == 0 ? AI_ERR_EXISTS
		                                                             : AI_ERR_CONFLICT;
	if (status == 304)
		return AI_ERR_CONFLICT;
	if (status == 416)
		return AI_ERR_BAD_INPUT;
	if (status == 413)
		return AI_ERR_TOO_BIG;
	if (status == 400) {
		/* A body damaged on the way: sending it again may work. */
		if (strcmp(code, "Md5Mismatch") == 0 || strcmp(code, "InvalidMd5") == 0)
			return AI_ERR_NETWORK;
		if (strcmp(code, "InvalidBlockList") == 0 || strcmp(code, "InvalidBlobOrBlock") == 0 ||
		    strcmp(code, "InvalidRange") == 0)
			return AI_ERR_BAD_INPUT;
	}
	if (ai_retry_status(status))
		return AI_ERR_UNAVAILABLE;
	return AI_ERR_PROTOCOL;
}

/* Records "object: 403 Code: message" as the thread's last error. */
static void record_error(const struct azure_store *s, const struct az_req *q,
                         const struct ai_http_response *resp, const char *code, ai_result r,
                         int secondary)
{
	char msg[256] = "";
	char xcode[96] = "";
	char with[1100] = "";

	if (resp->status == 0) {
		ai_store_set_error("%s: %s%s (%s)", q->what, ai_strerror(r),
		                   secondary ? " on the secondary" : "", resp->error);
		return;
	}
	if (resp->body.len &&
	    ai_blobxml_parse_error(resp->body.data, resp->body.len, xcode, sizeof xcode, msg,
	                           sizeof msg) != AI_OK)
		msg[0] = '\0';
	if (resp->status == 403 && strcmp(code, "AuthorizationPermissionMismatch") == 0 &&
	    s->token) {
		ai_store_set_error("%s: 403 %s: the identity (%s) lacks a role: %s", q->what, code,
		                   ai_auth_method_name(ai_token_source_method(s->token)),
		                   s->rbac_hint ? s->rbac_hint
		                                       : "see the Storage Blob Data roles");
		return;
	}
	if ((resp->status == 401 || resp->status == 403) && s->token) {
		char detail[1536];
		ai_token_source_describe(s->token, detail, sizeof detail);
		ai_store_set_error("%s: %ld %s%s%s (with a %s token: %s)", q->what, resp->status,
		                   *code ? code : "error", *msg ? ": " : "", msg,
		                   ai_auth_method_name(ai_token_source_method(s->token)), detail);
		return;
	}
	/* An authentication or authorization failure names the credential. */
	if (resp->status == 401 || resp->status == 403)
		snprintf(with, sizeof with, " [with %s]", s->base.credential);
	ai_store_set_error("%s: %ld %s%s%s%s%s", q->what, resp->status, *code ? code : "error",
	                   *msg ? ": " : "", msg, secondary ? " (secondary endpoint)" : "", with);
}

/* ----- one request, with retries ----- */

/* "Bearer <token>", malloc'd (wipe it with ai_token_free). */
static ai_result ai_bearer_header(const char *token, char **out)
{
	size_t n = strlen(token);

	*out = malloc(n + 8);
	if (!*out)
		return AI_ERR_NOMEM;
	memcpy(*out, "Bearer ", 7);
	memcpy(*out + 7, token, n + 1);
	return AI_OK;
}

/* The service's challenge to get a new token: "WWW-Authenticate: Bearer
 * authorization_uri=...". */
static int bearer_challenge(const struct ai_http_response *resp)
{
	char v[1024];

	return ai_http_response_header(resp, "www-authenticate", v, sizeof v) &&
	       strncasecmp(v, "Bearer ", 7) == 0 && strstr(v, "authorization_uri=") != NULL;
}

/* The request's URL; *path_at is where its path starts and *sas_at where
 * the SAS appended to it starts (its length when there is none), so that
 * the request trace can leave it out. */
static ai_result build_url(struct azure_store *s, const struct az_req *q, int secondary,
                           struct ai_buf *url, size_t *path_at, size_t *sas_at)
{
	const char *base = secondary ? s->endpoint2 : s->endpoint;
	ai_result r = ai_buf_addstr(url, base);
	size_t scheme_end;

	/* The path starts after "scheme://host[:port]". */
	scheme_end = (size_t)(strstr(base, "://") - base) + 3;
	*path_at = scheme_end + strcspn(base + scheme_end, "/");
	if (r == AI_OK && q->level == AZ_SERVICE)
		r = ai_buf_addc(url, '/');
	if (r == AI_OK && q->level != AZ_SERVICE) {
		r = ai_buf_addc(url, '/');
		if (r == AI_OK)
			r = ai_url_encode_path(q->container, url);
	}
	if (r == AI_OK && q->level == AZ_BLOB) {
		r = ai_buf_addc(url, '/');
		if (r == AI_OK)
			r = ai_url_encode_path(q->blob, url);
	}
	if (r == AI_OK && (q->query || s->sas))
		r = ai_buf_addc(url, '?');
	if (r == AI_OK && q->query)
		r = ai_buf_addstr(url, q->query);
	*sas_at = url->len;
	if (r == AI_OK && !q->query && url->len && url->data[url->len - 1] == '?')
		*sas_at = url->len - 1;
	if (r == AI_OK && s->sas && !s->keylen) {
		if (q->query)
			r = ai_buf_addc(url, '&');
		if (r == AI_OK)
			r = ai_buf_addstr(url, s->sas);
	}
	return r;
}

/* One line of the -vv request trace for an attempt that got an answer
 * (or a transport failure): the URL up to its SAS (the trace goes through
 * the log's redaction as well). */
static void trace_attempt(const struct az_req *q, const struct ai_buf *url, size_t sas_at,
                          const struct ai_http_response *resp, ai_result r, ai_time start,
                          int64_t t0, unsigned retry)
{
	char target[2048], status[64];
	size_t n = sas_at < sizeof target - 1 ? sas_at : sizeof target - 1;

	memcpy(target, url->data, n);
	target[n] = '\0';
	if (resp->status)
		snprintf(status, sizeof status, "%ld", resp->status);
	else
		snprintf(status, sizeof status, "%s", ai_strerror(r));
	ai_store_trace(start, q->method, target, status, q->body_len, resp->body.len,
	               ai_clock_mono_ns() - t0, retry);
}

/* One attempt: sign, send, classify. retry counts the attempts before. */
static ai_result attempt(struct azure_store *s, struct az_req *q, int secondary,
                         struct ai_http_response *resp, char *code, size_t codecap,
                         unsigned retry, char **bearer)
{
	struct ai_http_header hdr[AZ_MAX_HEADERS + 4];
	struct ai_buf url;
	char date[AI_TIME_STRLEN], auth[160], clen[24];
	char *token = NULL;
	size_t n = 0, path_at, sas_at;
	ai_time start = ai_clock_real();
	int64_t t0 = ai_clock_mono_ns();
	ai_result r;

	ai_buf_init(&url, AZ_URL_MAX);
	code[0] = '\0';
	resp->status = 0;
	resp->error[0] = '\0';
	if (s->token) {
		/* *bearer keeps the header ("Bearer <token>") for a 401's discard */
		r = ai_token_acquire(s->token, &token);
		if (r != AI_OK)
			goto out;
		r = ai_bearer_header(token, bearer);
		ai_token_free(token);
		if (r != AI_OK)
			goto out;
	}
	r = build_url(s, q, secondary, &url, &path_at, &sas_at);
	if (r != AI_OK)
		goto out;
	ai_time_format_http(s->base.now(), date);
	hdr[n++] = (struct ai_http_header){ "x-ms-date", date };
	hdr[n++] = (struct ai_http_header){ "x-ms-version", AZ_VERSION };
	for (size_t i = 0; i < q->nhdr; i++)
		hdr[n++] = q->hdr[i];
	if (s->keylen) {
		/* Content-Length is signed but sent by the HTTP engine itself. */
		struct ai_http_header signed_hdr[AZ_MAX_HEADERS + 4];
		size_t ns = n;
		char *query = strchr(url.data + path_at, '?');
		char path[AZ_URL_MAX];
		size_t plen = query ? (size_t)(query - (url.data + path_at)) : strlen(url.data + path_at);

		memcpy(signed_hdr, hdr, n * sizeof hdr[0]);
		snprintf(clen, sizeof clen, "%zu", q->body_len);
		if (strcmp(q->method, "PUT") == 0 || strcmp(q->method, "POST") == 0)
			signed_hdr[ns++] = (struct ai_http_header){ "Content-Length", clen };
		memcpy(path, url.data + path_at, plen);
		path[plen] = '\0';
		struct ai_sk_request skr = {
			.method = q->method, .account = s->loc.account, .path = path,
			.query = query ? query + 1 : NULL, .headers = signed_hdr, .nheaders = ns,
		};
		r = ai_sharedkey_authorization(&skr, s->key, s->keylen, auth, sizeof auth);
		if (r != AI_OK)
			goto out;
		hdr[n++] = (struct ai_http_header){ "Authorization", auth };
	} else if (*bearer) {
		hdr[n++] = (struct ai_http_header){ "Authorization", *bearer };
	}
	struct ai_http_request req = {
		.method = q->method, .url = url.data, .headers = hdr, .nheaders = n,
		.body = q->body, .body_len = q->body_len, .max_response = q->max_response,
	};
	r = ai_http_do(s->http, &req, resp);
	if (ai_store_tracing())
		trace_attempt(q, &url, sas_at, resp, r, start, t0, retry);
	if (r != AI_OK)
		goto out;
	ai_store_count(&s->base, q->kind, resp->body.len, q->body_len);
	if (secondary)
		__atomic_add_fetch(&s->base.stats.secondary_reads, 1, __ATOMIC_RELAXED);
	if (resp->status >= 200 && resp->status < 300)
		goto out;
	if (!ai_http_response_header(resp, "x-ms-error-code", code, codecap) && resp->body.len) {
		char msg[8];
		if (ai_blobxml_parse_error(resp->body.data, resp->body.len, code, codecap, msg,
		                           sizeof msg) != AI_OK)
			code[0] = '\0';
	}
	r = map_status(q, resp->status, code);
out:
	ai_buf_release(&url);
	return r;
}

static ai_result az_call(struct azure_store *s, struct az_req *q, struct ai_http_response *resp)
{
	int64_t start = ai_clock_mono_ns();
	int secondary = q->use_secondary, secondary_ok = q->readonly && s->endpoint2;
	int challenged = 0;
	char code[96];
	ai_result r;

	if (q->use_secondary && !s->endpoint2) {
		ai_store_set_error("%s: no secondary endpoint configured", q->what);
		return AI_ERR_CONFIG;
	}
	for (unsigned tries = 1;; tries++) {
		char *bearer = NULL;
		r = attempt(s, q, secondary, resp, code, sizeof code, tries - 1, &bearer);
		if (s->token && !bearer) {
			/* no token: the token source said why */
			char why[768];
			snprintf(why, sizeof why, "%s", ai_store_last_error());
			ai_store_set_error("%s: %s", q->what, why);
			return r;
		}
		/* An expired or revoked token: the service's Bearer challenge makes
		 * the cached token go, and the request is sent once more with a
		 * new one (it was refused, so nothing happened). */
		if (r == AI_ERR_AUTH && bearer && resp->status == 401 && !challenged &&
		    bearer_challenge(resp)) {
			ai_debug("%s: 401 %s with a Bearer challenge: getting a new token", q->what,
			         *code ? code : "error");
			ai_token_discard(s->token, bearer + 7);
			ai_token_free(bearer);
			challenged = 1;
			tries--;
			continue;
		}
		ai_token_free(bearer);
		if (r == AI_OK)
			return AI_OK;
		if (!ai_result_transient(r) || !q->idempotent)
			break;
		char ra[64];
		int64_t retry_after = -1;
		if (resp->status && ai_http_response_header(resp, "retry-after", ra, sizeof ra))
			retry_after = ai_retry_after_ns(ra, s->base.now());
		int64_t delay = ai_retry_delay(&s->retry, tries, ai_clock_mono_ns() - start, retry_after,
		                               ai_retry_jitter());
		if (delay < 0)
			break;
		ai_debug("%s: %s, retrying in %lld ms", q->what,
		         resp->status ? "service busy" : ai_strerror(r), (long long)(delay / 1000000));
		__atomic_add_fetch(&s->base.stats.retries, 1, __ATOMIC_RELAXED);
		ai_retry_sleep(delay);
		/* Reads alternate to the RA-GRS secondary while the primary fails. */
		if (secondary_ok && !q->use_secondary)
			secondary = !secondary;
	}
	record_error(s, q, resp, code, r, secondary);
	return r;
}

/* ----- operations ----- */

static ai_result op_list(struct ai_store *st, const char *prefix, const char *delimiter,
                         const char *marker, unsigned max, struct ai_blob_list *out)
{
	struct azure_store *s = az(st);
	struct ai_buf container, query, full_prefix;
	struct ai_http_response resp;
	struct az_req q = { .method = "GET", .kind = AI_REQ_LIST, .idempotent = 1, .readonly = 1,
	                    .max_response = 64u << 20 };
	size_t strip = 0;
	int containers = 0;
	ai_result r;

	ai_buf_init(&container, 64);
	ai_buf_init(&query, AZ_URL_MAX);
	ai_buf_init(&full_prefix, 4096);
	ai_http_response_init(&resp);
	prefix = prefix ? prefix : "";
	if (s->loc.container[0]) {
		r = ai_buf_addstr(&container, s->loc.container);
		if (r == AI_OK)
			r = ai_buf_addstr(&full_prefix, s->loc.prefix);
		if (r == AI_OK)
			r = ai_buf_addstr(&full_prefix, prefix);
		strip = strlen(s->loc.prefix);
	} else {
		const char *slash = strchr(prefix, '/');
		if (!slash) {
			containers = 1; /* the account root: list containers */
			r = ai_buf_addstr(&full_prefix, prefix);
		} else {
			r = ai_buf_add(&container, prefix, (size_t)(slash - prefix));
			if (r == AI_OK)
				r = ai_buf_addstr(&full_prefix, slash + 1);
		}
	}
	if (r != AI_OK)
		goto out;
	r = ai_buf_addstr(&query, containers ? "comp=list" : "restype=container&comp=list");
	if (r == AI_OK && full_prefix.len) {
		r = ai_buf_addstr(&query, "&prefix=");
		if (r == AI_OK)
			r = ai_url_encode_query(full_prefix.data, &query);
	}
	if (r == AI_OK && delimiter && *delimiter && !containers) {
		r = ai_buf_addstr(&query, "&delimiter=");
		if (r == AI_OK)
			r = ai_url_encode_query(delimiter, &query);
	}
	if (r == AI_OK && marker && *marker) {
		r = ai_buf_addstr(&query, "&marker=");
		if (r == AI_OK)
			r = ai_url_encode_query(marker, &query);
	}
	if (r == AI_OK)
		r = ai_buf_printf(&query, "&maxresults=%u", max > 5000 ? 5000 : max);
	if (r != AI_OK)
		goto out;
	q.level = containers ? AZ_SERVICE : AZ_CONTAINER;
	q.container = container.data;
	if (containers)
		snprintf(q.what, sizeof q.what, "account '%s'", s->loc.account);
	else
		snprintf(q.what, sizeof q.what, "container '%s'", container.data);
	q.query = query.data;
	r = az_call(s, &q, &resp);
	if (r != AI_OK)
		goto out;
	r = containers ? ai_blobxml_parse_containers(resp.body.data, resp.body.len, out)
	               : ai_blobxml_parse_list(resp.body.data, resp.body.len, out);
	if (r != AI_OK) {
		ai_store_set_error("%s: unreadable listing from the service", q.what);
		goto out;
	}
	/* The callers page until no marker comes back: one that does not
	 * move would have them ask for the same page forever. */
	if (marker && *marker && out->next_marker && strcmp(out->next_marker, marker) == 0) {
		ai_store_set_error("%s: the listing does not advance (the service gave back "
		                   "the marker it was sent)", q.what);
		r = AI_ERR_PROTOCOL;
		goto out;
	}
	/* Make names relative to the location again. */
	for (size_t i = 0; i < out->n + out->nprefixes; i++) {
		char **namep = i < out->n ? &out->blobs[i].name : &out->prefixes[i - out->n];
		char *rel;
		if (s->loc.container[0]) {
			if (strlen(*namep) < strip) {
				r = AI_ERR_PROTOCOL;
				goto out;
			}
			memmove(*namep, *namep + strip, strlen(*namep + strip) + 1);
			continue;
		}
		if (containers)
			continue;
		if (asprintf(&rel, "%s/%s", container.data, *namep) < 0) {
			r = AI_ERR_NOMEM;
			goto out;
		}
		free(*namep);
		*namep = rel;
	}
out:
	if (r != AI_OK)
		ai_blob_list_release(out);
	ai_http_response_release(&resp);
	ai_buf_release(&full_prefix);
	ai_buf_release(&query);
	ai_buf_release(&container);
	return r;
}

static enum ai_blob_type parse_type(const char *v)
{
	if (!v)
		return AI_BLOB_UNKNOWN;
	if (strcmp(v, "BlockBlob") == 0)
		return AI_BLOB_BLOCK;
	if (strcmp(v, "AppendBlob") == 0)
		return AI_BLOB_APPEND;
	if (strcmp(v, "PageBlob") == 0)
		return AI_BLOB_PAGE;
	return AI_BLOB_UNKNOWN;
}

static enum ai_lease_state parse_lease(const char *v)
{
	static const char *const names[] = { "available", "leased", "expired", "breaking", "broken" };

	for (size_t i = 0; v && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(v, names[i]) == 0)
			return (enum ai_lease_state)i;
	return AI_LEASE_AVAILABLE;
}

/* Fills info from response headers (size from Content-Range when ranged). */
static void info_from_headers(const struct ai_http_response *resp, const char *name,
                              struct ai_blob_info *info)
{
	char v[128];
	const char *p;

	info->size = 0;
	if ((p = ai_http_response_header(resp, "content-range", v, sizeof v)) && strchr(p, '/'))
		info->size = strtoull(strchr(p, '/') + 1, NULL, 10);
	else if ((p = ai_http_response_header(resp, "content-length", v, sizeof v)))
		info->size = strtoull(p, NULL, 10);
	info->etag[0] = '\0';
	if ((p = ai_http_response_header(resp, "etag", v, sizeof v))) {
		size_t n = strlen(p);
		if (n >= 2 && p[0] == '"' && p[n - 1] == '"')
			snprintf(info->etag, sizeof info->etag, "%.*s", (int)(n - 2), p + 1);
		else
			snprintf(info->etag, sizeof info->etag, "%s", p);
	}
	info->last_modified = 0;
	if ((p = ai_http_response_header(resp, "last-modified", v, sizeof v)) &&
	    ai_parse_http_date(p, &info->last_modified) != AI_OK)
		info->last_modified = 0;
	info->type = parse_type(ai_http_response_header(resp, "x-ms-blob-type", v, sizeof v));
	info->lease = parse_lease(ai_http_response_header(resp, "x-ms-lease-state", v, sizeof v));
	info->name = name ? strdup(name) : NULL;
}

/* A request on one blob with what it owns: the container and blob names
 * its URL is made of, and its response. */
struct blob_req {
	struct az_req q;
	struct ai_buf container, blob;
	struct ai_http_response resp;
};

/* Aims b->q, whose other fields the caller sets, at the store-relative
 * name. blob_req_release frees b, also when this fails. */
static ai_result blob_req_init(struct blob_req *b, struct azure_store *s, const char *name)
{
	ai_result r;

	ai_buf_init(&b->container, 64);
	ai_buf_init(&b->blob, 4096);
	ai_http_response_init(&b->resp);
	r = locate(s, name, &b->container, &b->blob);
	b->q.level = AZ_BLOB;
	b->q.container = b->container.data;
	b->q.blob = b->blob.data;
	snprintf(b->q.what, sizeof b->q.what, "blob '%s'", name);
	return r;
}

static void blob_req_release(struct blob_req *b)
{
	ai_http_response_release(&b->resp);
	ai_buf_release(&b->blob);
	ai_buf_release(&b->container);
}

static ai_result op_read(struct ai_store *st, const char *name, uint64_t offset, uint64_t len,
                         const char *if_match, struct ai_buf *out, struct ai_blob_info *info)
{
	struct azure_store *s = az(st);
	struct blob_req b = { .q = { .method = "GET", .kind = AI_REQ_GET, .idempotent = 1,
	                             .readonly = 1 } };
	ai_result r;

	r = blob_req_init(&b, s, name);
	if (r != AI_OK)
		goto out;
	if (offset || len) {
		if (len)
			add_headerf(&b.q, "x-ms-range", "bytes=%llu-%llu",
			            (unsigned long long)offset, (unsigned long long)(offset + len - 1));
		else
			add_headerf(&b.q, "x-ms-range", "bytes=%llu-", (unsigned long long)offset);
	}
	if (if_match)
		add_headerf(&b.q, "If-Match", "\"%s\"", if_match);
	b.q.max_response = out->max - out->len;
	r = az_call(s, &b.q, &b.resp);
	if (r != AI_OK)
		goto out;
	if (b.resp.body_truncated) {
		ai_store_set_error("blob '%s': larger than the %zu bytes allowed here", name,
		                   b.q.max_response);
		r = AI_ERR_TOO_BIG;
		goto out;
	}
	{
		/* A range the service ignored, or one that starts at the end. */
		struct ai_blob_info got;
		info_from_headers(&b.resp, NULL, &got);
		if (offset && (b.resp.status != 206 || offset >= got.size)) {
			ai_store_set_error("blob '%s': no bytes at offset %llu", name,
			                   (unsigned long long)offset);
			r = AI_ERR_BAD_INPUT;
			goto out;
		}
	}
	if (len && b.resp.body.len > len) /* whole blob for a range from 0 */
		b.resp.body.data[b.resp.body.len = (size_t)len] = '\0';
	if (out->len == 0 && b.resp.body.len) {
		/* Hand the body over rather than copying it. */
		struct ai_buf tmp = *out;
		size_t max = out->max;
		*out = b.resp.body;
		out->max = max;
		b.resp.body = tmp;
	} else {
		r = ai_buf_add(out, b.resp.body.data, b.resp.body.len);
		if (r != AI_OK)
			goto out;
	}
	if (info)
		info_from_headers(&b.resp, name, info);
out:
	blob_req_release(&b);
	return r;
}

static void meta_from_headers(const struct ai_http_response *resp, struct ai_meta *meta);

/* Whether have holds every entry of want (names compared as the service
 * does, without case; the service may return them in another order). */
static int meta_holds(const struct ai_meta *have, const struct ai_meta *want)
{
	for (size_t i = 0; want && i < want->n; i++) {
		size_t j = 0;
		while (j < have->n && (strcasecmp(have->kv[j].name, want->kv[i].name) != 0 ||
		                       strcmp(have->kv[j].value, want->kv[i].value) != 0))
			j++;
		if (j == have->n)
			return 0;
	}
	return 1;
}

/* The answer to a conditional write (create-only, or If-Match) that may
 * have been sent before: by our own retry, or by the HTTP library, which
 * sends a request again by itself when a reused connection dies before
 * the answer, so that a write whose answer was lost comes back as "exists"
 * or "condition not met". When the object now there is exactly ours (its
 * bytes, its type and our metadata), the earlier attempt succeeded, and
 * *answer becomes the answer of the read, which names the object's ETag. */
static ai_result check_landed(struct azure_store *s, const struct az_req *q, ai_result r,
                              const void *p, size_t n, const struct ai_meta *meta,
                              struct ai_http_response *answer)
{
	struct ai_http_response resp;
	struct az_req g = { .method = "GET", .kind = AI_REQ_GET, .idempotent = 1,
	                    .level = AZ_BLOB, .container = q->container, .blob = q->blob,
	                    .max_response = n + 1 };
	struct ai_meta have;
	char type[32];

	if (!(r == AI_ERR_EXISTS && q->create_only) && !(r == AI_ERR_CONFLICT && q->if_match))
		return r;
	memcpy(g.what, q->what, sizeof g.what);
	ai_http_response_init(&resp);
	if (az_call(s, &g, &resp) == AI_OK && !resp.body_truncated && resp.body.len == n &&
	    (!n || memcmp(resp.body.data, p, n) == 0) &&
	    ai_http_response_header(&resp, "x-ms-blob-type", type, sizeof type) &&
	    strcmp(type, q->append ? "AppendBlob" : "BlockBlob") == 0) {
		meta_from_headers(&resp, &have);
		if (meta_holds(&have, meta)) {
			ai_debug("%s: %s, yet it holds what this write sent: the write's earlier "
			         "attempt landed", q->what, r == AI_ERR_EXISTS ? "exists" : "changed");
			ai_http_response_release(answer);
			*answer = resp;
			return AI_OK;
		}
	}
	ai_http_response_release(&resp);
	return r;
}

/* The end of a whole-object write: a clear "exists", or the new ETag. */
static ai_result finish_write(ai_result r, const char *name, const struct ai_http_response *resp,
                              char etag_out[AI_ETAG_MAX])
{
	if (r == AI_ERR_EXISTS)
		ai_store_set_error("blob '%s': already exists", name);
	if (r == AI_OK && etag_out) {
		struct ai_blob_info info;
		info_from_headers(resp, NULL, &info);
		memcpy(etag_out, info.etag, AI_ETAG_MAX);
	}
	return r;
}

static ai_result op_put(struct ai_store *st, const char *name, const void *p, size_t n,
                        unsigned flags, const char *if_match, const struct ai_meta *meta,
                        char etag_out[AI_ETAG_MAX])
{
	struct azure_store *s = az(st);
	struct blob_req b = { .q = { .method = "PUT", .kind = AI_REQ_PUT, .idempotent = 1 } };
	ai_result r;

	r = blob_req_init(&b, s, name);
	if (r != AI_OK)
		goto out;
	if (flags & AI_PUT_APPEND_BLOB) {
		add_header(&b.q, "x-ms-blob-type", "AppendBlob");
		b.q.append = 1;
		n = 0;
	} else {
		add_header(&b.q, "x-ms-blob-type", "BlockBlob");
		set_body(&b.q, p, n);
	}
	add_create_only(&b.q, flags);
	if (if_match) {
		add_headerf(&b.q, "If-Match", "\"%s\"", if_match);
		b.q.if_match = 1;
	}
	add_meta(&b.q, meta);
	r = az_call(s, &b.q, &b.resp);
	r = check_landed(s, &b.q, r, p, n, meta, &b.resp);
	r = finish_write(r, name, &b.resp, etag_out);
	if (r == AI_ERR_CONFLICT && if_match)
		ai_store_set_error("blob '%s': replaced or removed by another writer since it was read",
		                   name);
out:
	blob_req_release(&b);
	return r;
}

static ai_result op_put_block(struct ai_store *st, const char *name, const char *block_id,
                              const void *p, size_t n)
{
	struct azure_store *s = az(st);
	struct blob_req b = { .q = { .method = "PUT", .kind = AI_REQ_BLOCK, .idempotent = 1 } };
	struct ai_buf query;
	ai_result r;

	ai_buf_init(&query, 512);
	r = blob_req_init(&b, s, name);
	if (r == AI_OK)
		r = ai_buf_addstr(&query, "comp=block&blockid=");
	if (r == AI_OK)
		r = ai_url_encode_query(block_id, &query);
	if (r != AI_OK)
		goto out;
	set_body(&b.q, p, n);
	b.q.query = query.data;
	r = az_call(s, &b.q, &b.resp);
out:
	ai_buf_release(&query);
	blob_req_release(&b);
	return r;
}

static ai_result op_put_block_list(struct ai_store *st, const char *name,
                                   const char *const *ids, size_t n, unsigned flags,
                                   const struct ai_meta *meta, char etag_out[AI_ETAG_MAX])
{
	struct azure_store *s = az(st);
	struct blob_req b = { .q = { .method = "PUT", .kind = AI_REQ_COMMIT, .idempotent = 1,
	                             .query = "comp=blocklist" } };
	struct ai_buf body;
	ai_result r;

	ai_buf_init(&body, 8u << 20);
	r = blob_req_init(&b, s, name);
	if (r == AI_OK)
		r = ai_blobxml_block_list(ids, n, &body);
	if (r != AI_OK)
		goto out;
	set_body(&b.q, body.data, body.len);
	add_create_only(&b.q, flags);
	add_meta(&b.q, meta);
	r = az_call(s, &b.q, &b.resp);
	if (r == AI_ERR_EXISTS && meta && meta->n) {
		/* Perhaps sent before (check_landed): compare the object with what
		 * we meant to write through its metadata, which the caller makes
		 * unique. */
		struct ai_meta have;
		struct ai_blob_info info;
		if (st->ops->props(st, name, &info, &have) == AI_OK) {
			if (meta_holds(&have, meta)) {
				ai_debug("blob '%s': exists, yet with this commit's metadata: the "
				         "commit's earlier attempt landed", name);
				r = AI_OK;
				if (etag_out)
					memcpy(etag_out, info.etag, AI_ETAG_MAX);
				etag_out = NULL;
			}
			ai_blob_info_release(&info);
		}
	}
	r = finish_write(r, name, &b.resp, etag_out);
out:
	ai_buf_release(&body);
	blob_req_release(&b);
	return r;
}

static ai_result op_append(struct ai_store *st, const char *name, const void *p, size_t n,
                           uint64_t expected_pos)
{
	struct azure_store *s = az(st);
	/* Only an append with a position condition can be sent twice safely. */
	struct blob_req b = { .q = { .method = "PUT", .kind = AI_REQ_APPEND,
	                             .query = "comp=appendblock",
	                             .idempotent = expected_pos != AI_APPEND_ANY } };
	ai_result r;

	r = blob_req_init(&b, s, name);
	if (r != AI_OK)
		goto out;
	set_body(&b.q, p, n);
	if (expected_pos != AI_APPEND_ANY)
		add_headerf(&b.q, "x-ms-blob-condition-appendpos", "%llu",
		            (unsigned long long)expected_pos);
	r = az_call(s, &b.q, &b.resp);
out:
	blob_req_release(&b);
	return r;
}

static ai_result op_lease(struct ai_store *st, const char *name, enum ai_lease_action action,
                          int duration_s, char lease_id[AI_LEASE_ID_MAX])
{
	static const char *const actions[] = { "acquire", "renew", "release", "break" };
	struct azure_store *s = az(st);
	struct blob_req b = { .q = { .method = "PUT", .kind = AI_REQ_LEASE, .query = "comp=lease",
	                             .idempotent = 1 } };
	char v[AI_LEASE_ID_MAX] = "";
	ai_result r;

	r = blob_req_init(&b, s, name);
	if (r != AI_OK)
		goto out;
	add_header(&b.q, "x-ms-lease-action", actions[action]);
	switch (action) {
	case AI_LEASE_ACQUIRE:
		if (duration_s != -1 && (duration_s < 15 || duration_s > 60)) {
			ai_store_set_error("blob '%s': a lease lasts 15 to 60 seconds, or -1", name);
			r = AI_ERR_BAD_INPUT;
			goto out;
		}
		add_headerf(&b.q, "x-ms-lease-duration", "%d", duration_s);
		if (lease_id && lease_id[0])
			add_header(&b.q, "x-ms-proposed-lease-id", lease_id);
		break;
	case AI_LEASE_RENEW:
	case AI_LEASE_RELEASE:
		add_header(&b.q, "x-ms-lease-id", lease_id);
		break;
	case AI_LEASE_BREAK:
		add_headerf(&b.q, "x-ms-lease-break-period", "%d", duration_s < 0 ? 0 : duration_s);
		break;
	}
	r = az_call(s, &b.q, &b.resp);
	if (r == AI_OK && action == AI_LEASE_ACQUIRE &&
	    ai_http_response_header(&b.resp, "x-ms-lease-id", v, sizeof v))
		memcpy(lease_id, v, sizeof v);
	/* A renewal counts only under our own id: some services (Azurite)
	 * renew an expired lease whatever id is given, and name the lease
	 * they renewed in the answer. */
	if (r == AI_OK && action == AI_LEASE_RENEW &&
	    (!ai_http_response_header(&b.resp, "x-ms-lease-id", v, sizeof v) ||
	     strcasecmp(v, lease_id) != 0)) {
		ai_store_set_error("blob '%s': the service renewed lease '%.40s', not ours ('%s'); "
		                   "another holder took it", name, v, lease_id);
		r = AI_ERR_CONFLICT;
	}
out:
	blob_req_release(&b);
	return r;
}

/* Collects x-ms-meta-* response headers. */
static void meta_from_headers(const struct ai_http_response *resp, struct ai_meta *meta)
{
	const char *p = ai_buf_str(&resp->headers);

	meta->n = 0;
	while (*p && meta->n < AI_META_MAX) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > 10 && strncmp(p, "x-ms-meta-", 10) == 0) {
			const char *colon = memchr(p, ':', len);
			if (colon) {
				const char *val = colon + 1;
				while (*val == ' ')
					val++;
				snprintf(meta->kv[meta->n].name, sizeof meta->kv[0].name, "%.*s",
				         (int)(colon - p - 10), p + 10);
				snprintf(meta->kv[meta->n].value, sizeof meta->kv[0].value, "%.*s",
				         (int)(p + len - val), val);
				meta->n++;
			}
		}
		p += len + (eol != NULL);
	}
}

static ai_result op_props(struct ai_store *st, const char *name, struct ai_blob_info *info,
                          struct ai_meta *meta)
{
	struct azure_store *s = az(st);
	struct blob_req b = { .q = { .method = "HEAD", .kind = AI_REQ_HEAD, .idempotent = 1,
	                             .readonly = 1 } };
	ai_result r = blob_req_init(&b, s, name);

	if (r == AI_OK)
		r = az_call(s, &b.q, &b.resp);
	if (r == AI_OK) {
		info_from_headers(&b.resp, name, info);
		if (meta)
			meta_from_headers(&b.resp, meta);
	}
	blob_req_release(&b);
	return r;
}

static ai_result op_set_metadata(struct ai_store *st, const char *name, const struct ai_meta *meta,
                                 const char *lease_id)
{
	struct azure_store *s = az(st);
	struct blob_req b = { .q = { .method = "PUT", .kind = AI_REQ_OTHER,
	                             .query = "comp=metadata", .idempotent = 1 } };
	ai_result r = blob_req_init(&b, s, name);

	if (r == AI_OK) {
		add_meta(&b.q, meta);
		if (lease_id)
			add_header(&b.q, "x-ms-lease-id", lease_id);
		r = az_call(s, &b.q, &b.resp);
	}
	blob_req_release(&b);
	return r;
}

static ai_result op_delete(struct ai_store *st, const char *name)
{
	struct azure_store *s = az(st);
	struct blob_req b = { .q = { .method = "DELETE", .kind = AI_REQ_OTHER, .idempotent = 1 } };
	ai_result r = blob_req_init(&b, s, name);

	if (r == AI_OK)
		r = az_call(s, &b.q, &b.resp);
	blob_req_release(&b);
	return r;
}

static ai_result op_create_container(struct ai_store *st)
{
	struct azure_store *s = az(st);
	struct ai_http_response resp;
	struct az_req q = { .method = "PUT", .kind = AI_REQ_OTHER, .level = AZ_CONTAINER,
	                    .container = s->loc.container, .query = "restype=container",
	                    .idempotent = 1 };
	ai_result r;

	if (!s->loc.container[0]) {
		ai_store_set_error("%s: the location names no container", st->described);
		return AI_ERR_CONFIG;
	}
	snprintf(q.what, sizeof q.what, "container '%s'", s->loc.container);
	ai_http_response_init(&resp);
	r = az_call(s, &q, &resp);
	if (r == AI_ERR_EXISTS)
		r = AI_OK;
	if (r == AI_ERR_AUTH && s->sas) {
		/* A container SAS may not create containers: fine if it exists. */
		struct ai_blob_list l;
		ai_blob_list_init(&l);
		if (op_list(st, "", NULL, NULL, 1, &l) == AI_OK)
			r = AI_OK;
		ai_blob_list_release(&l);
	}
	ai_http_response_release(&resp);
	return r;
}

static ai_result op_account_info(struct ai_store *st, char sku[64], char kind[64])
{
	struct azure_store *s = az(st);
	struct ai_http_response resp;
	struct az_req q = { .method = "GET", .kind = AI_REQ_OTHER, .idempotent = 1, .readonly = 1,
	                    .query = "restype=account&comp=properties" };
	ai_result r;

	snprintf(q.what, sizeof q.what, "account '%s'", s->loc.account);
	if (s->loc.container[0]) {
		q.level = AZ_CONTAINER;
		q.container = s->loc.container;
	}
	ai_http_response_init(&resp);
	r = az_call(s, &q, &resp);
	if (r == AI_OK) {
		if (!ai_http_response_header(&resp, "x-ms-sku-name", sku, 64))
			snprintf(sku, 64, "unknown");
		if (!ai_http_response_header(&resp, "x-ms-account-kind", kind, 64))
			snprintf(kind, 64, "unknown");
	}
	ai_http_response_release(&resp);
	return r;
}

static ai_result op_service_stats(struct ai_store *st, char status[16], ai_time *last_sync)
{
	struct azure_store *s = az(st);
	struct ai_http_response resp;
	struct az_req q = { .method = "GET", .kind = AI_REQ_OTHER, .idempotent = 1,
	                    .use_secondary = 1, .level = AZ_SERVICE,
	                    .query = "restype=service&comp=stats" };
	ai_result r;

	snprintf(q.what, sizeof q.what, "account '%s'", s->loc.account);
	ai_http_response_init(&resp);
	r = az_call(s, &q, &resp);
	if (r == AI_OK &&
	    ai_blobxml_parse_stats(resp.body.data, resp.body.len, status, 16, last_sync) != AI_OK) {
		ai_store_set_error("%s: unreadable service stats", q.what);
		r = AI_ERR_PROTOCOL;
	}
	ai_http_response_release(&resp);
	return r;
}

static void op_free(struct ai_store *st)
{
	struct azure_store *s = az(st);

	ai_http_free(s->http);
	ai_token_source_put(s->token);
	free(s->rbac_hint);
	ai_cleanse(s->key, sizeof s->key);
	free(s->endpoint);
	free(s->endpoint2);
	if (s->sas)
		ai_cleanse(s->sas, strlen(s->sas));
	free(s->sas);
	free(s->base.credential);
	free(st->described);
	free(s);
}

static const struct ai_store_ops azure_ops = {
	.name = "azure",
	.list = op_list,
	.read = op_read,
	.put = op_put,
	.put_block = op_put_block,
	.put_block_list = op_put_block_list,
	.append = op_append,
	.lease = op_lease,
	.props = op_props,
	.set_metadata = op_set_metadata,
	.del = op_delete,
	.create_container = op_create_container,
	.account_info = op_account_info,
	.service_stats = op_service_stats,
	.free = op_free,
};

/* ----- opening ----- */

static ai_result set_key(struct azure_store *s, const char *b64)
{
	if (ai_base64_decode(b64, strlen(b64), s->key, sizeof s->key, &s->keylen) != AI_OK ||
	    s->keylen == 0) {
		ai_store_set_error("%s: the %s is not valid base64", s->base.described,
		                   s->base.credential);
		s->keylen = 0;
		return AI_ERR_CONFIG;
	}
	ai_redact_add(b64);
	return AI_OK;
}

static ai_result set_sas(struct azure_store *s, const char *sas)
{
	while (*sas == '?')
		sas++;
	free(s->sas);
	s->sas = strdup(sas);
	if (!s->sas)
		return AI_ERR_NOMEM;
	ai_redact_add(s->sas);
	return AI_OK;
}

static ai_result endpoint_string(const struct ai_azurl *u, int secondary, char **out)
{
	struct ai_buf b;
	ai_result r;

	ai_buf_init(&b, 2048);
	r = ai_azurl_endpoint(u, secondary, &b);
	if (r == AI_OK && !(*out = ai_buf_detach(&b, NULL)))
		r = AI_ERR_NOMEM;
	ai_buf_release(&b);
	return r;
}

/* Takes the one credential the configuration gives (a SAS, a key or a
 * connection string; the caller has chosen it, ARCHITECTURE.md §3), else
 * the SAS in the URL, else none. */
static ai_result resolve_auth(struct azure_store *s, const struct ai_store_config *cfg,
                              char *url_sas)
{
	char *cs_account = NULL, *cs_key = NULL, *cs_endpoint = NULL, *cs_sas = NULL;
	ai_result r = AI_OK;

	if (cfg->sas && *cfg->sas)
		return set_sas(s, cfg->sas);
	if (cfg->account_key && *cfg->account_key)
		return set_key(s, cfg->account_key);
	if ((!cfg->connection_string || !*cfg->connection_string) && url_sas && *url_sas)
		return set_sas(s, url_sas);
	if (!cfg->connection_string || !*cfg->connection_string)
		return AI_OK; /* anonymous: public containers only */
	ai_redact_add(cfg->connection_string);
	r = ai_connstr_parse(cfg->connection_string, &cs_account, &cs_key, &cs_endpoint, &cs_sas);
	if (r != AI_OK) {
		ai_store_set_error("%s: the %s is malformed", s->base.described, s->base.credential);
		r = AI_ERR_CONFIG;
	} else if (cs_sas) {
		r = set_sas(s, cs_sas);
	} else if (cs_key) {
		if (cs_account && strcmp(cs_account, s->loc.account) != 0) {
			ai_store_set_error("%s: the %s is for account '%s'", s->base.described,
			                   s->base.credential, cs_account);
			r = AI_ERR_CONFIG;
		} else {
			r = set_key(s, cs_key);
		}
	}
	if (cs_key)
		ai_cleanse(cs_key, strlen(cs_key));
	free(cs_account);
	free(cs_key);
	free(cs_endpoint);
	free(cs_sas);
	return r;
}

/* Gets the token source and describes it as the store's credential:
 * "managed identity (IMDS, system-assigned)", with ", chosen by auth auto"
 * when auto found it. */
static ai_result token_source(struct azure_store *s, const struct ai_token_params *tp, int chosen)
{
	char detail[1536];
	size_t n;
	ai_result r = ai_token_source_get(tp, &s->token);

	if (r != AI_OK)
		return r;
	ai_token_source_describe(s->token, detail, sizeof detail);
	n = strlen(detail) + 64;
	free(s->base.credential);
	s->base.credential = malloc(n);
	if (!s->base.credential)
		return AI_ERR_NOMEM;
	snprintf(s->base.credential, n, "%s (%s)%s", ai_auth_method_title(tp->method), detail,
	         chosen ? ", chosen by auth auto" : "");
	return AI_OK;
}

/* The side's method (ARCHITECTURE.md §3.2): key, SAS or connection
 * string use only that credential; a token method gets the process's
 * token source; auto takes an explicit credential when one is given, else
 * what ai_token_detect finds (over https only). */
static ai_result resolve_method(struct azure_store *s, const struct ai_store_config *cfg,
                                char *url_sas)
{
	enum ai_auth_method m = (enum ai_auth_method)cfg->auth;
	struct ai_store_config only = { 0 };
	struct ai_token_params tp = { .client_id = cfg->client_id, .ca_file = cfg->ca_file,
	                              .connect_timeout_ns = cfg->connect_timeout_ns };
	int has_sas = (cfg->sas && *cfg->sas) || (url_sas && *url_sas);
	int has_key = cfg->account_key && *cfg->account_key;
	int has_cs = cfg->connection_string && *cfg->connection_string;
	int https = strcmp(s->loc.scheme, "https") == 0;

	switch (m) {
	case AI_AUTH_AUTO:
		if (has_sas || has_key || has_cs)
			return resolve_auth(s, cfg, url_sas);
		/* a bearer token never goes over http: there auto means anonymous */
		if (!https)
			return AI_OK;
		m = ai_token_detect(&tp);
		ai_debug("%s: auth auto: %s", s->base.described, ai_auth_method_name(m));
		if (m == AI_AUTH_ANONYMOUS)
			return AI_OK;
		break;
	case AI_AUTH_ANONYMOUS:
		return AI_OK;
	case AI_AUTH_KEY:
		if (!has_key) {
			ai_store_set_error("%s: auth 'key' needs an account key (--source-key-file, "
			                   "--dest-key-file, or AIARCHIVE_SOURCE_KEY, AIARCHIVE_DEST_KEY)",
			                   s->base.described);
			return AI_ERR_CONFIG;
		}
		only.account_key = cfg->account_key;
		return resolve_auth(s, &only, NULL);
	case AI_AUTH_SAS:
		if (!has_sas) {
			ai_store_set_error("%s: auth 'sas' needs a SAS token (--source-sas-file, "
			                   "--dest-sas-file, AIARCHIVE_SOURCE_SAS, AIARCHIVE_DEST_SAS or the "
			                   "URL's query)", s->base.described);
			return AI_ERR_CONFIG;
		}
		only.sas = cfg->sas;
		return resolve_auth(s, &only, url_sas);
	case AI_AUTH_CONNECTION_STRING:
		if (!has_cs) {
			ai_store_set_error("%s: auth 'connection-string' needs "
			                   "AIARCHIVE_SOURCE_CONNECTION_STRING or "
			                   "AIARCHIVE_DEST_CONNECTION_STRING", s->base.described);
			return AI_ERR_CONFIG;
		}
		only.connection_string = cfg->connection_string;
		return resolve_auth(s, &only, NULL);
	default:
		break;
	}
	if (!ai_auth_method_is_token(m)) {
		ai_store_set_error("%s: unknown auth method", s->base.described);
		return AI_ERR_CONFIG;
	}
	if (!https) {
		ai_store_set_error("%s: %s: tokens are only sent over HTTPS, and this location "
		                   "is http://", s->base.described, ai_auth_method_name(m));
		return AI_ERR_CONFIG;
	}
	tp.method = m;
	return token_source(s, &tp, cfg->auth == AI_AUTH_AUTO);
}

/* "scheme://host[:port]/path" without the query, for messages. */
static char *describe_url(const char *url)
{
	size_t n = strcspn(url, "?#");
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, url, n);
		d[n] = '\0';
	}
	return d;
}

ai_result ai_store_azure_open(struct ai_store **out, const struct ai_store_config *cfg)
{
	struct azure_store *s = calloc(1, sizeof *s);
	struct ai_http_config hc = {
		.max_transfers = cfg->max_transfers ? cfg->max_transfers : 16,
		.connect_timeout_ns = cfg->connect_timeout_ns,
		.stall_timeout_ns = cfg->stall_timeout_ns,
		.ca_file = cfg->ca_file,
	};
	char *url_sas = NULL;
	ai_result r;

	*out = NULL;
	if (!s)
		return AI_ERR_NOMEM;
	s->base.ops = &azure_ops;
	s->base.remote = 1;
	s->base.now = cfg->now ? cfg->now : ai_clock_real;
	s->base.described = describe_url(cfg->url);
	s->base.credential = strdup(cfg->credential ? cfg->credential
	                       : cfg->sas ? "SAS" : cfg->account_key ? "account key"
	                       : cfg->connection_string ? "connection string"
	                       : "no credential (anonymous access)");
	if (!s->base.described || !s->base.credential) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	r = ai_azurl_parse(cfg->url, &s->loc, &url_sas);
	if (r != AI_OK) {
		ai_store_set_error("location '%s': not a valid Azure Blob URL", s->base.described);
		r = AI_ERR_CONFIG;
		goto out;
	}
	r = resolve_method(s, cfg, url_sas);
	if (r != AI_OK)
		goto out;
	if (cfg->rbac_hint && !(s->rbac_hint = strdup(cfg->rbac_hint))) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	r = endpoint_string(&s->loc, s->loc.secondary, &s->endpoint);
	if (r != AI_OK)
		goto out;
	if (cfg->secondary_url && *cfg->secondary_url) {
		struct ai_azurl sec;
		char *sec_sas = NULL;
		r = ai_azurl_parse(cfg->secondary_url, &sec, &sec_sas);
		free(sec_sas);
		if (r != AI_OK) {
			ai_store_set_error("secondary location: not a valid Azure Blob URL");
			r = AI_ERR_CONFIG;
			goto out;
		}
		r = endpoint_string(&sec, 1, &s->endpoint2);
		if (r != AI_OK)
			goto out;
		if (s->token && strncmp(s->endpoint2, "https://", 8) != 0) {
			ai_store_set_error("secondary location: tokens are only sent over HTTPS, "
			                   "and it is http://");
			r = AI_ERR_CONFIG;
			goto out;
		}
	}
	s->retry = (struct ai_retry_policy){
		.max_tries = cfg->max_tries ? cfg->max_tries : 6,
		.base_ns = cfg->retry_base_ns ? cfg->retry_base_ns : 500 * 1000000LL,
		.max_delay_ns = cfg->retry_max_delay_ns ? cfg->retry_max_delay_ns : 30 * AI_NS_PER_SEC,
		.total_ns = cfg->retry_total_ns ? cfg->retry_total_ns : 120 * AI_NS_PER_SEC,
	};
	r = ai_http_new(&s->http, &hc);
	if (r != AI_OK) {
		ai_store_set_error("%s: cannot start the HTTP engine", s->base.described);
		goto out;
	}
	*out = &s->base;
out:
	free(url_sas);
	if (r != AI_OK)
		op_free(&s->base);
	return r;
}
