/* token.c: the process's token sources (one per method and client id),
 * their cached token and its refresh, what `auto` detects, and the
 * helpers every method shares (ARCHITECTURE.md §3.2). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store/auth/auth_int.h"
#include "store/azurl.h"
#include "store/retry.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/log.h"

/* A token is refreshed this long before it expires, or at half its life
 * when that is sooner; a failed early refresh waits this long. */
#define REFRESH_MARGIN_S 300
#define REFRESH_RETRY_S 30
/* A token this close to its expiry (or a quarter of its life, when that is
 * less) is not handed out any more. */
#define EXPIRY_SLACK_S 2

static const char *const method_names[AI_AUTH_METHODS] = {
	[AI_AUTH_AUTO] = "auto",
	[AI_AUTH_KEY] = "key",
	[AI_AUTH_SAS] = "sas",
	[AI_AUTH_CONNECTION_STRING] = "connection-string",
	[AI_AUTH_MANAGED_IDENTITY] = "managed-identity",
	[AI_AUTH_WORKLOAD_IDENTITY] = "workload-identity",
	[AI_AUTH_SERVICE_PRINCIPAL] = "service-principal",
	[AI_AUTH_AZURE_CLI] = "azure-cli",
	[AI_AUTH_ANONYMOUS] = "anonymous",
};

ai_result ai_auth_method_parse(const char *name, enum ai_auth_method *out)
{
	for (int i = 0; i < AI_AUTH_METHODS; i++) {
		if (name && strcmp(name, method_names[i]) == 0) {
			*out = (enum ai_auth_method)i;
			return AI_OK;
		}
	}
	return AI_ERR_BAD_INPUT;
}

const char *ai_auth_method_name(enum ai_auth_method m)
{
	return m >= 0 && m < AI_AUTH_METHODS ? method_names[m] : "?";
}

int ai_auth_method_is_token(enum ai_auth_method m)
{
	return m == AI_AUTH_MANAGED_IDENTITY || m == AI_AUTH_WORKLOAD_IDENTITY ||
	       m == AI_AUTH_SERVICE_PRINCIPAL || m == AI_AUTH_AZURE_CLI;
}

const char *ai_auth_method_title(enum ai_auth_method m)
{
	switch (m) {
	case AI_AUTH_MANAGED_IDENTITY:
		return "managed identity";
	case AI_AUTH_WORKLOAD_IDENTITY:
		return "workload identity";
	case AI_AUTH_SERVICE_PRINCIPAL:
		return "service principal";
	case AI_AUTH_AZURE_CLI:
		return "Azure CLI";
	default:
		return ai_auth_method_name(m);
	}
}

/* ----- shared helpers ----- */

ai_result ai_auth_fail(const struct ai_auth_ctx *c, ai_result r, const char *fmt, ...)
{
	char msg[768], clean[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ai_redact(msg, clean, sizeof clean);
	ai_store_set_error("%s: %s", ai_auth_method_name(c->method), clean);
	ai_cleanse(msg, sizeof msg);
	return r;
}

ai_result ai_auth_http(const struct ai_auth_ctx *c, int direct, const struct ai_auth_retry *rp,
                       const struct ai_http_request *req, struct ai_http_response *resp)
{
	struct ai_retry_policy pol = {
		.max_tries = rp->max_tries ? rp->max_tries : 1,
		.base_ns = rp->base_ns,
		.max_delay_ns = 60 * AI_NS_PER_SEC,
		.total_ns = rp->total_ns,
	};
	struct ai_retry_policy net = {
		.max_tries = rp->net_tries,
		.base_ns = rp->net_base_ns,
		.max_delay_ns = 60 * AI_NS_PER_SEC,
		.total_ns = rp->total_ns,
	};
	int64_t start = ai_clock_mono_ns();
	unsigned nets = 0;
	ai_result r;

	for (unsigned tries = 1;; tries++) {
		int again;
		char ra[64];
		int64_t retry_after = -1, delay;

		r = ai_http_do(direct ? c->direct : c->http, req, resp);
		if (r == AI_ERR_NETWORK && !rp->retry_transport && rp->net_tries) {
			/* refused or reset: the endpoint may be starting or restarting */
			delay = ai_retry_delay(&net, ++nets, ai_clock_mono_ns() - start, -1,
			                       ai_retry_jitter());
			if (delay < 0)
				return r;
			ai_debug("%s: connection failed (%s), try %u of %u in %lld ms",
			         ai_auth_method_name(c->method), resp->error[0] ? resp->error
			                                                        : ai_strerror(r),
			         nets + 1, rp->net_tries, (long long)(delay / 1000000));
			ai_retry_sleep(delay);
			tries--;
			continue;
		}
		again = r == AI_OK ? rp->retry_status && rp->retry_status(resp->status)
		                   : rp->retry_transport && ai_result_transient(r);
		if (!again)
			return r;
		if (r == AI_OK && ai_http_response_header(resp, "retry-after", ra, sizeof ra))
			retry_after = ai_retry_after_ns(ra, ai_clock_real());
		delay = ai_retry_delay(&pol, tries, ai_clock_mono_ns() - start, retry_after, ai_retry_jitter());
		if (delay < 0)
			return r;
		ai_debug("%s: token endpoint answered %s, retrying in %lld ms",
		         ai_auth_method_name(c->method),
		         r == AI_OK ? "with a retryable status" : ai_strerror(r),
		         (long long)(delay / 1000000));
		ai_retry_sleep(delay);
	}
}

ai_result ai_auth_take_token(const struct ai_auth_ctx *c, const char *where,
                             struct ai_http_response *resp, struct ai_token *out)
{
	char why[200], err[128], desc[512];
	ai_result r;

	if (resp->status >= 200 && resp->status < 300) {
		r = ai_token_parse(resp->body.data ? resp->body.data : "", resp->body.len,
		                   ai_clock_real() / AI_NS_PER_SEC, out, why, sizeof why);
		if (r != AI_OK)
			ai_auth_fail(c, r, "%s: %s", where, why);
	} else {
		const char *b = resp->body.data ? resp->body.data : "";
		const char *e = ai_token_json_string(b, resp->body.len, "error", err, sizeof err);
		const char *d = ai_token_json_string(b, resp->body.len, "error_description", desc,
		                                     sizeof desc);
		if (!d)
			d = ai_token_json_string(b, resp->body.len, "message", desc, sizeof desc);
		if (d)
			desc[strcspn(desc, "\r\n")] = '\0'; /* Entra adds trace ids on later lines */
		r = resp->status == 400 || resp->status == 401 || resp->status == 403 ? AI_ERR_AUTH
		    : ai_retry_status(resp->status) || resp->status == 404 || resp->status == 410
		        ? AI_ERR_UNAVAILABLE : AI_ERR_PROTOCOL;
		ai_auth_fail(c, r, "%s: %ld%s%s%s%s", where, resp->status, e ? " " : "", e ? e : "",
		             d ? ": " : "", d ? d : "");
	}
	if (resp->body.data)
		ai_cleanse(resp->body.data, resp->body.len);
	return r;
}

ai_result ai_auth_form_add(struct ai_buf *b, const char *name, const char *value)
{
	ai_result r = AI_OK;

	if (b->len)
		r = ai_buf_addc(b, '&');
	if (r == AI_OK)
		r = ai_buf_addstr(b, name);
	if (r == AI_OK)
		r = ai_buf_addc(b, '=');
	return r == AI_OK ? ai_url_encode_query(value, b) : r;
}

/* ----- sources and their cache ----- */

struct ai_token_source {
	struct ai_token_source *next;
	unsigned refs;
	struct ai_auth_ctx ctx;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *token;            /* the cached token, or NULL */
	int64_t expires_on;     /* epoch s */
	int64_t usable_until;   /* epoch s: handed out before this */
	int64_t refresh_at;     /* epoch s: refresh from here on */
	int64_t retry_at;       /* epoch s: next early refresh after a failed one */
	int fetching;           /* one thread is getting a token */
	unsigned gen;           /* fetches finished */
	ai_result last_r;       /* result of the last fetch */
	char last_err[768];     /* and its message, for the threads that waited */
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ai_token_source *registry;

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void ctx_release(struct ai_auth_ctx *c)
{
	switch (c->method) {
	case AI_AUTH_MANAGED_IDENTITY:
		ai_auth_managed_release(c);
		break;
	case AI_AUTH_WORKLOAD_IDENTITY:
	case AI_AUTH_SERVICE_PRINCIPAL:
		ai_auth_entra_release(c);
		break;
	case AI_AUTH_AZURE_CLI:
		ai_auth_cli_release(c);
		break;
	default:
		break;
	}
	ai_http_free(c->http);
	ai_http_free(c->direct);
	free(c->client_id);
	free(c->ca_file);
	memset(c, 0, sizeof *c);
}

/* Fills c from p and the environment, without the method's own part. */
static ai_result ctx_base(struct ai_auth_ctx *c, const struct ai_token_params *p)
{
	const char *cid = p->client_id && *p->client_id ? p->client_id : getenv("AZURE_CLIENT_ID");
	struct ai_http_config hc = { .max_transfers = 4, .connect_timeout_ns = p->connect_timeout_ns,
	                             .ca_file = p->ca_file };
	ai_result r;

	memset(c, 0, sizeof *c);
	c->method = p->method;
	c->connect_timeout_ns = p->connect_timeout_ns;
	c->client_id_env = !(p->client_id && *p->client_id);
	if ((cid && *cid && !(c->client_id = strdup(cid))) ||
	    (p->ca_file && !(c->ca_file = strdup(p->ca_file))))
		return AI_ERR_NOMEM;
	r = ai_http_new(&c->http, &hc);
	if (r == AI_OK) {
		hc.no_proxy = 1;
		r = ai_http_new(&c->direct, &hc);
	}
	if (r != AI_OK)
		return ai_auth_fail(c, r, "cannot start the HTTP engine");
	return AI_OK;
}

static ai_result ctx_init(struct ai_auth_ctx *c, const struct ai_token_params *p)
{
	ai_result r = ctx_base(c, p);

	if (r != AI_OK)
		return r;
	switch (p->method) {
	case AI_AUTH_MANAGED_IDENTITY:
		return ai_auth_managed_init(c);
	case AI_AUTH_WORKLOAD_IDENTITY:
	case AI_AUTH_SERVICE_PRINCIPAL:
		return ai_auth_entra_init(c);
	case AI_AUTH_AZURE_CLI:
		return ai_auth_cli_init(c);
	default:
		return ai_auth_fail(c, AI_ERR_INTERNAL, "not a token method");
	}
}

ai_result ai_token_source_get(const struct ai_token_params *p, struct ai_token_source **out)
{
	const char *cid = p->client_id && *p->client_id ? p->client_id : getenv("AZURE_CLIENT_ID");
	struct ai_token_source *s;
	ai_result r;

	*out = NULL;
	pthread_mutex_lock(&registry_mu);
	for (s = registry; s; s = s->next) {
		if (s->ctx.method == p->method && same(s->ctx.client_id, cid && *cid ? cid : NULL) &&
		    same(s->ctx.ca_file, p->ca_file)) {
			s->refs++;
			*out = s;
			pthread_mutex_unlock(&registry_mu);
			return AI_OK;
		}
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		pthread_mutex_unlock(&registry_mu);
		return AI_ERR_NOMEM;
	}
	r = ctx_init(&s->ctx, p);
	if (r != AI_OK) {
		ctx_release(&s->ctx);
		free(s);
		pthread_mutex_unlock(&registry_mu);
		return r;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->refs = 1;
	s->next = registry;
	registry = s;
	*out = s;
	pthread_mutex_unlock(&registry_mu);
	return AI_OK;
}

static void drop_token(struct ai_token_source *s)
{
	if (s->token) {
		ai_cleanse(s->token, strlen(s->token));
		free(s->token);
		s->token = NULL;
	}
	s->expires_on = s->usable_until = s->refresh_at = s->retry_at = 0;
}

void ai_token_source_put(struct ai_token_source *src)
{
	struct ai_token_source **pp;

	if (!src)
		return;
	pthread_mutex_lock(&registry_mu);
	if (--src->refs) {
		pthread_mutex_unlock(&registry_mu);
		return;
	}
	for (pp = &registry; *pp; pp = &(*pp)->next) {
		if (*pp == src) {
			*pp = src->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_mu);
	drop_token(src);
	ctx_release(&src->ctx);
	pthread_mutex_destroy(&src->mu);
	pthread_cond_destroy(&src->cv);
	free(src);
}

enum ai_auth_method ai_token_source_method(const struct ai_token_source *src)
{
	return src->ctx.method;
}

void ai_auth_describe_client(const struct ai_auth_ctx *c, const char *what, char *out,
                             size_t cap)
{
	snprintf(out, cap, "%s %s%s", what, c->client_id ? c->client_id : "(none)",
	         c->client_id && c->client_id_env ? " from AZURE_CLIENT_ID" : "");
}

void ai_token_source_describe(const struct ai_token_source *src, char *out, size_t cap)
{
	out[0] = '\0';
	switch (src->ctx.method) {
	case AI_AUTH_MANAGED_IDENTITY:
		ai_auth_managed_describe(&src->ctx, out, cap);
		break;
	case AI_AUTH_WORKLOAD_IDENTITY:
	case AI_AUTH_SERVICE_PRINCIPAL:
		ai_auth_entra_describe(&src->ctx, out, cap);
		break;
	case AI_AUTH_AZURE_CLI:
		snprintf(out, cap, "az account get-access-token, az on PATH");
		break;
	default:
		break;
	}
}

static ai_result fetch(struct ai_token_source *s, struct ai_token *t)
{
	switch (s->ctx.method) {
	case AI_AUTH_MANAGED_IDENTITY:
		return ai_auth_managed_fetch(&s->ctx, t);
	case AI_AUTH_WORKLOAD_IDENTITY:
	case AI_AUTH_SERVICE_PRINCIPAL:
		return ai_auth_entra_fetch(&s->ctx, t);
	case AI_AUTH_AZURE_CLI:
		return ai_auth_cli_fetch(&s->ctx, t);
	default:
		return ai_auth_fail(&s->ctx, AI_ERR_INTERNAL, "not a token method");
	}
}

static int64_t now_s(void)
{
	return ai_clock_real() / AI_NS_PER_SEC;
}

static ai_result copy_token(const struct ai_token_source *s, char **out)
{
	*out = strdup(s->token);
	return *out ? AI_OK : AI_ERR_NOMEM;
}

ai_result ai_token_acquire(struct ai_token_source *s, char **out)
{
	struct ai_token t = { 0 };
	ai_result r;
	int64_t now;

	*out = NULL;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		now = now_s();
		if (s->token && now < s->usable_until) {
			/* valid: one thread refreshes early, the others go on */
			if (now < s->refresh_at || s->fetching || now < s->retry_at) {
				r = copy_token(s, out);
				pthread_mutex_unlock(&s->mu);
				return r;
			}
			break;
		}
		if (!s->fetching)
			break;
		/* no valid token: wait for the thread getting one, and share its failure */
		unsigned gen = s->gen;
		while (s->fetching)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->gen != gen && s->last_r != AI_OK && !s->token) {
			r = s->last_r;
			ai_store_set_error("%s", s->last_err);
			pthread_mutex_unlock(&s->mu);
			return r;
		}
	}
	s->fetching = 1;
	pthread_mutex_unlock(&s->mu);

	r = fetch(s, &t);

	pthread_mutex_lock(&s->mu);
	s->fetching = 0;
	s->gen++;
	s->last_r = r;
	now = now_s();
	if (r == AI_OK) {
		int64_t life = t.expires_on - now, margin = life / 2, slack = life / 4;
		if (margin > REFRESH_MARGIN_S)
			margin = REFRESH_MARGIN_S;
		if (slack > EXPIRY_SLACK_S)
			slack = EXPIRY_SLACK_S;
		drop_token(s);
		s->token = t.access_token;
		t.access_token = NULL;
		s->expires_on = t.expires_on;
		s->usable_until = t.expires_on - slack;
		s->refresh_at = t.refresh_on && t.refresh_on < t.expires_on ? t.refresh_on
		                                                            : t.expires_on - margin;
		ai_debug("%s: new token, expires in %lld s, refreshed in %lld s",
		         ai_auth_method_name(s->ctx.method), (long long)life,
		         (long long)(s->refresh_at - now));
		r = copy_token(s, out);
	} else {
		snprintf(s->last_err, sizeof s->last_err, "%s", ai_store_last_error());
		if (s->token && now < s->usable_until) {
			/* the early refresh failed; the token in hand is still good */
			ai_debug("%s (early refresh failed; the current token stays in use)",
			         s->last_err);
			s->retry_at = now + REFRESH_RETRY_S;
			r = copy_token(s, out);
		}
	}
	ai_token_release(&t);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return r;
}

void ai_token_free(char *token)
{
	if (token) {
		ai_cleanse(token, strlen(token));
		free(token);
	}
}

void ai_token_discard(struct ai_token_source *s, const char *token)
{
	pthread_mutex_lock(&s->mu);
	if (s->token && token && strcmp(s->token, token) == 0)
		drop_token(s);
	pthread_mutex_unlock(&s->mu);
}

/* ----- auto ----- */

static int env_set(const char *name)
{
	const char *v = getenv(name);
	return v && *v;
}

enum ai_auth_method ai_token_detect(const struct ai_token_params *p)
{
	struct ai_auth_ctx c;
	enum ai_auth_method m = AI_AUTH_ANONYMOUS;

	if (env_set("AZURE_TENANT_ID") && (p->client_id || env_set("AZURE_CLIENT_ID")) &&
	    (env_set("AZURE_CLIENT_SECRET") || env_set("AZURE_CLIENT_CERTIFICATE_PATH")))
		return AI_AUTH_SERVICE_PRINCIPAL;
	if (env_set("AZURE_TENANT_ID") && (p->client_id || env_set("AZURE_CLIENT_ID")) &&
	    env_set("AZURE_FEDERATED_TOKEN_FILE"))
		return AI_AUTH_WORKLOAD_IDENTITY;
	if (env_set("IDENTITY_ENDPOINT"))
		return AI_AUTH_MANAGED_IDENTITY;
	struct ai_token_params mp = *p;
	mp.method = AI_AUTH_MANAGED_IDENTITY;
	if (ctx_base(&c, &mp) == AI_OK && ai_auth_managed_available(&c))
		m = AI_AUTH_MANAGED_IDENTITY;
	ctx_release(&c);
	if (m == AI_AUTH_ANONYMOUS && ai_auth_cli_available())
		m = AI_AUTH_AZURE_CLI;
	return m;
}
