/* managed.c: managed identities: the Azure VM / VMSS instance metadata
 * service (IMDS), App Service, Functions and Container Apps
 * (IDENTITY_ENDPOINT with IDENTITY_HEADER), and Azure Arc (IDENTITY_ENDPOINT
 * with IMDS_ENDPOINT and a challenge file). None goes through a proxy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "store/auth/auth_int.h"
#include "store/retry.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/regfile.h"

#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_PATH "/metadata/identity/oauth2/token"
#define IMDS_VERSION "2018-02-01"
#define APPSERVICE_VERSION "2019-08-01"
#define ARC_VERSION "2020-06-01"
#define ARC_DIR "/var/opt/azcmagent/tokens/"
#define ARC_KEY_MAX 4096
#define URL_MAX 8192
/* A refused or reset connection to the identity endpoint (starting,
 * restarting) is tried again: 4 attempts in all, 0.25, 0.5 and 1 s apart
 * (each +-20%). auto's probe: 3 attempts, 50 and 100 ms apart, none
 * started after PROBE_RETRY_MS, so the probe stays within its 1 s. */
#define NET_TRIES 4
#define NET_BASE_NS (250 * 1000000LL)
#define PROBE_TRIES 3
#define PROBE_BASE_MS 50
#define PROBE_RETRY_MS 300

enum mi_kind { MI_IMDS, MI_APPSERVICE, MI_ARC };

struct mi_state {
	enum mi_kind kind;
	char *endpoint;        /* the token URL without its query */
	char *header;          /* App Service: X-IDENTITY-HEADER's value */
};

static const char *kind_name(enum mi_kind k)
{
	return k == MI_IMDS ? "IMDS" : k == MI_APPSERVICE ? "the App Service identity endpoint"
	                                                  : "the Azure Arc identity endpoint";
}

/* IMDS: 404 (not ready yet), 410 (updating), 429 and 5xx are tried again. */
static int imds_retry_status(long st)
{
	return st == 404 || st == 410 || st == 429 || (st >= 500 && st <= 599);
}

static int appservice_retry_status(long st)
{
	return st == 429 || (st >= 500 && st <= 599);
}

int ai_auth_arc_path_ok(const char *path)
{
	size_t n = strlen(path), dl = strlen(ARC_DIR);

	return n > dl + 4 && strncmp(path, ARC_DIR, dl) == 0 && strchr(path + dl, '/') == NULL &&
	       strcmp(path + n - 4, ".key") == 0 && strstr(path, "..") == NULL;
}

static char *strip_slash(const char *s)
{
	char *d = strdup(s);
	size_t n;

	if (d)
		for (n = strlen(d); n && d[n - 1] == '/'; n--)
			d[n - 1] = '\0';
	return d;
}

ai_result ai_auth_managed_init(struct ai_auth_ctx *c)
{
	struct mi_state *m = calloc(1, sizeof *m);
	const char *ep = getenv("IDENTITY_ENDPOINT"), *hdr = getenv("IDENTITY_HEADER");
	const char *imds = getenv("IMDS_ENDPOINT"), *host = getenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");

	if (!m)
		return AI_ERR_NOMEM;
	c->method_state = m;
	if (ep && *ep && hdr && *hdr) {
		m->kind = MI_APPSERVICE;
		m->endpoint = strdup(ep);
		m->header = strdup(hdr);
		if (m->header)
			ai_redact_add(m->header);
	} else if (ep && *ep && imds && *imds) {
		m->kind = MI_ARC;
		if (c->client_id)
			return ai_auth_fail(c, AI_ERR_CONFIG, "Azure Arc supports only the machine's "
			                    "system-assigned identity, not client id '%s'", c->client_id);
		m->endpoint = strdup(ep);
	} else {
		char *base = strip_slash(host && *host ? host : IMDS_DEFAULT);
		m->kind = MI_IMDS;
		if (base && (m->endpoint = malloc(strlen(base) + sizeof IMDS_PATH)))
			sprintf(m->endpoint, "%s%s", base, IMDS_PATH);
		free(base);
	}
	if (!m->endpoint || (m->kind == MI_APPSERVICE && !m->header))
		return AI_ERR_NOMEM;
	if (strncmp(m->endpoint, "http://", 7) != 0 && strncmp(m->endpoint, "https://", 8) != 0)
		return ai_auth_fail(c, AI_ERR_CONFIG, "%s '%s' is not an http:// or https:// URL",
		                    kind_name(m->kind), m->endpoint);
	return AI_OK;
}

void ai_auth_managed_release(struct ai_auth_ctx *c)
{
	struct mi_state *m = c->method_state;

	if (!m)
		return;
	free(m->endpoint);
	if (m->header) {
		ai_cleanse(m->header, strlen(m->header));
		free(m->header);
	}
	free(m);
	c->method_state = NULL;
}

void ai_auth_managed_describe(const struct ai_auth_ctx *c, char *out, size_t cap)
{
	const struct mi_state *m = c->method_state;
	const char *host = getenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");
	char where[URL_MAX + 64], who[1024];

	if (!m)
		return;
	if (m->kind == MI_APPSERVICE)
		snprintf(where, sizeof where, "App Service, IDENTITY_ENDPOINT=%s", m->endpoint);
	else if (m->kind == MI_ARC)
		snprintf(where, sizeof where, "Azure Arc, IDENTITY_ENDPOINT=%s", m->endpoint);
	else if (host && *host)
		snprintf(where, sizeof where, "IMDS, AZURE_POD_IDENTITY_AUTHORITY_HOST=%s", host);
	else
		snprintf(where, sizeof where, "IMDS");
	if (!c->client_id)
		snprintf(who, sizeof who, "system-assigned");
	else if (c->client_id[0] == '/')
		ai_auth_describe_client(c, "user-assigned resource id", who, sizeof who);
	else if (strncmp(c->client_id, "object_id=", 10) == 0)
		ai_auth_describe_client(c, "user-assigned", who, sizeof who);
	else
		ai_auth_describe_client(c, "user-assigned client id", who, sizeof who);
	snprintf(out, cap, "%s, %s", where, who);
}

/* The user-assigned identity's query parameter: a resource id
 * (/subscriptions/...), "object_id=GUID", or a client id. */
static ai_result add_identity(const struct ai_auth_ctx *c, enum mi_kind k, struct ai_buf *q)
{
	const char *id = c->client_id;

	if (!id)
		return AI_OK;
	if (id[0] == '/')
		return ai_auth_form_add(q, k == MI_IMDS ? "msi_res_id" : "mi_res_id", id);
	if (strncmp(id, "object_id=", 10) == 0)
		return ai_auth_form_add(q, k == MI_IMDS ? "object_id" : "principal_id", id + 10);
	return ai_auth_form_add(q, "client_id", id);
}

static ai_result build_url(const struct ai_auth_ctx *c, const struct mi_state *m,
                           struct ai_buf *url)
{
	struct ai_buf q;
	ai_result r;

	ai_buf_init(&q, URL_MAX);
	r = ai_auth_form_add(&q, "api-version", m->kind == MI_IMDS ? IMDS_VERSION :
	                     m->kind == MI_APPSERVICE ? APPSERVICE_VERSION : ARC_VERSION);
	if (r == AI_OK)
		r = ai_auth_form_add(&q, "resource", AI_TOKEN_RESOURCE);
	if (r == AI_OK)
		r = add_identity(c, m->kind, &q);
	if (r == AI_OK)
		r = ai_buf_printf(url, "%s%c%s", m->endpoint, strchr(m->endpoint, '?') ? '&' : '?',
		                  ai_buf_str(&q));
	ai_buf_release(&q);
	return r;
}

/* Azure Arc answers a first request with 401 and the path of a file only
 * root and the agent's group can read; its content proves the caller may. */
static ai_result arc_secret(struct ai_auth_ctx *c, const struct ai_http_response *resp,
                            struct ai_buf *secret)
{
	char chal[1024], why[512];
	const char *path;

	if (resp->status != 401 ||
	    !ai_http_response_header(resp, "www-authenticate", chal, sizeof chal) ||
	    strncasecmp(chal, "Basic realm=", 12) != 0)
		return ai_auth_fail(c, AI_ERR_PROTOCOL, "%s answered %ld without the Basic challenge "
		                    "it should send", kind_name(MI_ARC), resp->status);
	path = chal + 12;
	if (!ai_auth_arc_path_ok(path))
		return ai_auth_fail(c, AI_ERR_AUTH, "%s named the challenge file '%s', which is not a "
		                    ".key file in " ARC_DIR "; refused", kind_name(MI_ARC), path);
	if (ai_regfile_read(path, 0, secret, why, sizeof why) != AI_OK)
		return ai_auth_fail(c, AI_ERR_AUTH, "challenge file '%s': %s", path, why);
	secret->data[strcspn(secret->data, "\r\n")] = '\0';
	secret->len = strlen(secret->data);
	return AI_OK;
}

ai_result ai_auth_managed_fetch(struct ai_auth_ctx *c, struct ai_token *out)
{
	struct mi_state *m = c->method_state;
	struct ai_buf url, secret, auth;
	struct ai_http_header hdr[2];
	struct ai_http_response resp;
	struct ai_auth_retry rp = { .max_tries = 5, .base_ns = AI_NS_PER_SEC,
	                            .total_ns = 70 * AI_NS_PER_SEC,
	                            .retry_status = m->kind == MI_IMDS ? imds_retry_status
	                                                               : appservice_retry_status,
	                            .net_tries = NET_TRIES, .net_base_ns = NET_BASE_NS };
	ai_result r;

	ai_buf_init(&url, URL_MAX);
	ai_buf_init(&secret, ARC_KEY_MAX);
	ai_buf_init(&auth, ARC_KEY_MAX + 16);
	ai_http_response_init(&resp);
	resp.body.max = 64u << 10;
	r = build_url(c, m, &url);
	if (r != AI_OK)
		goto out;
	if (m->kind == MI_APPSERVICE)
		hdr[0] = (struct ai_http_header){ "X-IDENTITY-HEADER", m->header };
	else
		hdr[0] = (struct ai_http_header){ "Metadata", "true" };
	struct ai_http_request req = { .method = "GET", .url = url.data, .headers = hdr,
	                               .nheaders = 1, .max_response = 64u << 10 };
	r = ai_auth_http(c, 1, &rp, &req, &resp);
	if (r == AI_OK && m->kind == MI_ARC) {
		r = arc_secret(c, &resp, &secret);
		if (r != AI_OK)
			goto out;
		r = ai_buf_printf(&auth, "Basic %s", secret.data);
		if (r != AI_OK)
			goto out;
		hdr[1] = (struct ai_http_header){ "Authorization", auth.data };
		req.nheaders = 2;
		r = ai_auth_http(c, 1, &rp, &req, &resp);
	}
	if (r != AI_OK) {
		ai_auth_fail(c, r == AI_ERR_TIMEOUT || r == AI_ERR_NETWORK ? AI_ERR_AUTH : r,
		             "%s at %s is unreachable: %s", kind_name(m->kind), m->endpoint,
		             resp.error[0] ? resp.error : ai_strerror(r));
		r = AI_ERR_AUTH;
		goto out;
	}
	if (m->kind == MI_IMDS && resp.status == 400) {
		char desc[256];
		const char *d = ai_token_json_string(resp.body.data ? resp.body.data : "",
		                                     resp.body.len, "error_description", desc,
		                                     sizeof desc);
		r = ai_auth_fail(c, AI_ERR_AUTH, "IMDS: 400: %s%s%s%s", c->client_id ?
		                 "the identity named by the client id is not assigned to this machine"
		                 : "this machine has no system-assigned identity",
		                 d ? " (" : "", d ? d : "", d ? ")" : "");
		goto out;
	}
	r = ai_auth_take_token(c, kind_name(m->kind), &resp, out);
out:
	if (secret.data)
		ai_cleanse(secret.data, secret.alloc);
	if (auth.data)
		ai_cleanse(auth.data, auth.alloc);
	ai_buf_release(&secret);
	ai_buf_release(&auth);
	ai_buf_release(&url);
	ai_http_response_release(&resp);
	return r;
}

int ai_auth_managed_available(struct ai_auth_ctx *c)
{
	const char *host = getenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");
	struct ai_http_config hc = { .max_transfers = 1, .connect_timeout_ns = AI_NS_PER_SEC,
	                             .stall_timeout_ns = AI_NS_PER_SEC, .no_proxy = 1 };
	struct ai_http *probe = NULL;
	struct ai_http_response resp;
	struct ai_buf url;
	char *base = strip_slash(host && *host ? host : IMDS_DEFAULT);
	int ok = 0;

	(void)c;
	ai_buf_init(&url, URL_MAX);
	ai_http_response_init(&resp);
	/* no Metadata header: IMDS answers 400 at once, which proves it is there */
	if (base && ai_buf_printf(&url, "%s%s", base, IMDS_PATH) == AI_OK &&
	    ai_http_new(&probe, &hc) == AI_OK) {
		struct ai_http_request req = { .method = "GET", .url = url.data };
		int64_t t0 = ai_clock_mono_ns();
		for (int i = 0; i < PROBE_TRIES; i++) {
			ai_result r = ai_http_do(probe, &req, &resp);
			ok = r == AI_OK && resp.status != 0;
			/* refused or reset: once more, soon; a timeout has used the second */
			if (ok || r != AI_ERR_NETWORK || i + 1 == PROBE_TRIES ||
			    ai_clock_mono_ns() - t0 > PROBE_RETRY_MS * 1000000LL)
				break;
			ai_debug("auto: IMDS: connection failed (%s), once more in %d ms", resp.error,
			         PROBE_BASE_MS << i);
			ai_retry_sleep((int64_t)(PROBE_BASE_MS << i) * 1000000);
		}
	}
	ai_debug("auto: IMDS %s", ok ? "answered" : "did not answer within 1 s");
	ai_http_free(probe);
	ai_http_response_release(&resp);
	ai_buf_release(&url);
	free(base);
	return ok;
}
