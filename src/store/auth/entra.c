/* entra.c: the Microsoft Entra token endpoint's client-credentials grant,
 * for workload identity (AKS: a federated token file as the client
 * assertion, read again for every token) and for a service principal (a
 * client secret, or a certificate that signs a JWT assertion). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/auth/auth_int.h"
#include "util/base64.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/regfile.h"

#define AUTHORITY_DEFAULT "https://login.microsoftonline.com/"
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define FILE_MAX (64u << 10)
#define FORM_MAX (96u << 10)
#define ASSERTION_LIFE_S 600

struct entra_state {
	char *token_url;       /* {authority}{tenant}/oauth2/v2.0/token */
	char *secret;          /* service principal: AZURE_CLIENT_SECRET */
	struct ai_certkey *cert; /* service principal: AZURE_CLIENT_CERTIFICATE_PATH */
	char *token_file;      /* workload identity: AZURE_FEDERATED_TOKEN_FILE */
	char *cert_path;       /* the certificate's path, for messages */
};

static int retry_status(long st)
{
	return st == 429 || (st >= 500 && st <= 599);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static ai_result load_cert(struct ai_auth_ctx *c, struct entra_state *e, const char *path)
{
	struct ai_buf b;
	char why[512];
	ai_result r;

	ai_buf_init(&b, FILE_MAX);
	r = ai_regfile_read(path, AI_REGFILE_SECRET | AI_REGFILE_FOLLOW, &b, why, sizeof why);
	if (r != AI_OK) {
		r = ai_auth_fail(c, AI_ERR_CONFIG, "certificate '%s' (AZURE_CLIENT_CERTIFICATE_PATH): "
		                 "%s", path, why);
		goto out;
	}
	r = ai_certkey_load(b.data, b.len, &e->cert, why, sizeof why);
	if (r != AI_OK)
		r = ai_auth_fail(c, r, "certificate '%s' (AZURE_CLIENT_CERTIFICATE_PATH): %s", path, why);
out:
	if (b.data)
		ai_cleanse(b.data, b.alloc);
	ai_buf_release(&b);
	return r;
}

ai_result ai_auth_entra_init(struct ai_auth_ctx *c)
{
	struct entra_state *e = calloc(1, sizeof *e);
	const char *tenant = env("AZURE_TENANT_ID"), *host = env("AZURE_AUTHORITY_HOST");
	int wi = c->method == AI_AUTH_WORKLOAD_IDENTITY;

	if (!e)
		return AI_ERR_NOMEM;
	c->method_state = e;
	if (!tenant)
		return ai_auth_fail(c, AI_ERR_CONFIG, "AZURE_TENANT_ID is not set");
	if (!c->client_id)
		return ai_auth_fail(c, AI_ERR_CONFIG, "no client id (--source-client-id or "
		                    "--dest-client-id, or AZURE_CLIENT_ID)");
	if (strspn(tenant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") !=
	    strlen(tenant))
		return ai_auth_fail(c, AI_ERR_CONFIG, "AZURE_TENANT_ID '%s' is not a tenant id or "
		                    "domain", tenant);
	if (!host)
		host = AUTHORITY_DEFAULT;
	/* the client's secret or assertion goes there: never in clear text */
	if (strncmp(host, "https://", 8) != 0)
		return ai_auth_fail(c, AI_ERR_CONFIG, "AZURE_AUTHORITY_HOST '%s' is not an https:// "
		                    "URL", host);
	e->token_url = malloc(strlen(host) + strlen(tenant) + 32);
	if (!e->token_url)
		return AI_ERR_NOMEM;
	sprintf(e->token_url, "%s%s%s/oauth2/v2.0/token", host,
	        host[strlen(host) - 1] == '/' ? "" : "/", tenant);
	if (wi) {
		const char *f = env("AZURE_FEDERATED_TOKEN_FILE");
		if (!f)
			return ai_auth_fail(c, AI_ERR_CONFIG, "AZURE_FEDERATED_TOKEN_FILE is not set");
		e->token_file = strdup(f);
		return e->token_file ? AI_OK : AI_ERR_NOMEM;
	}
	if (env("AZURE_CLIENT_SECRET")) {
		e->secret = strdup(env("AZURE_CLIENT_SECRET"));
		if (!e->secret)
			return AI_ERR_NOMEM;
		ai_redact_add(e->secret);
		return AI_OK;
	}
	if (env("AZURE_CLIENT_CERTIFICATE_PATH")) {
		if (!(e->cert_path = strdup(env("AZURE_CLIENT_CERTIFICATE_PATH"))))
			return AI_ERR_NOMEM;
		return load_cert(c, e, e->cert_path);
	}
	return ai_auth_fail(c, AI_ERR_CONFIG, "neither AZURE_CLIENT_SECRET nor "
	                    "AZURE_CLIENT_CERTIFICATE_PATH is set");
}

void ai_auth_entra_release(struct ai_auth_ctx *c)
{
	struct entra_state *e = c->method_state;

	if (!e)
		return;
	free(e->token_url);
	if (e->secret) {
		ai_cleanse(e->secret, strlen(e->secret));
		free(e->secret);
	}
	ai_certkey_free(e->cert);
	free(e->token_file);
	free(e->cert_path);
	free(e);
	c->method_state = NULL;
}

void ai_auth_entra_describe(const struct ai_auth_ctx *c, char *out, size_t cap)
{
	const struct entra_state *e = c->method_state;
	const char *host = env("AZURE_AUTHORITY_HOST"), *tenant = env("AZURE_TENANT_ID");
	char what[1200], who[600], at[600] = "";

	if (!e)
		return;
	if (e->token_file)
		snprintf(what, sizeof what, "AZURE_FEDERATED_TOKEN_FILE=%s", e->token_file);
	else if (e->secret)
		snprintf(what, sizeof what, "secret from AZURE_CLIENT_SECRET");
	else
		snprintf(what, sizeof what, "certificate AZURE_CLIENT_CERTIFICATE_PATH=%s",
		         e->cert_path ? e->cert_path : "?");
	ai_auth_describe_client(c, "client id", who, sizeof who);
	if (host)
		snprintf(at, sizeof at, ", AZURE_AUTHORITY_HOST=%s", host);
	snprintf(out, cap, "%s, %s, tenant %s%s", what, who, tenant ? tenant : "?", at);
}

/* A JSON string value: the ids and URLs here are checked not to need escapes. */
static int json_plain(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

ai_result ai_auth_jwt_assertion(const struct ai_certkey *ck, const char *client_id,
                                const char *token_url, int64_t now, char **out)
{
	uint8_t thumb[AI_SHA1_LEN], jti[16], sig[AI_RSA_SIG_MAX];
	char x5t[AI_BASE64_ENCLEN(AI_SHA1_LEN)], kid[2 * AI_SHA1_LEN + 1], uuid[40];
	char header[256], claims[2048];
	struct ai_buf jwt;
	size_t siglen = 0;
	ai_result r;

	*out = NULL;
	if (!json_plain(client_id) || !json_plain(token_url))
		return AI_ERR_BAD_INPUT;
	ai_certkey_thumbprint(ck, thumb);
	ai_base64url_encode(thumb, sizeof thumb, x5t);
	ai_hex(thumb, sizeof thumb, kid);
	for (char *k = kid; *k; k++)
		if (*k >= 'a' && *k <= 'f')
			*k = (char)(*k - 'a' + 'A');
	r = ai_random(jti, sizeof jti);
	if (r != AI_OK)
		return r;
	jti[6] = (uint8_t)((jti[6] & 0x0f) | 0x40); /* a version 4 UUID */
	jti[8] = (uint8_t)((jti[8] & 0x3f) | 0x80);
	snprintf(uuid, sizeof uuid,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         jti[0], jti[1], jti[2], jti[3], jti[4], jti[5], jti[6], jti[7], jti[8], jti[9],
	         jti[10], jti[11], jti[12], jti[13], jti[14], jti[15]);
	snprintf(header, sizeof header, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"%s\","
	         "\"kid\":\"%s\"}", x5t, kid);
	if ((size_t)snprintf(claims, sizeof claims, "{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\","
	                     "\"jti\":\"%s\",\"nbf\":%lld,\"iat\":%lld,\"exp\":%lld}", token_url,
	                     client_id, client_id, uuid, (long long)now, (long long)now,
	                     (long long)(now + ASSERTION_LIFE_S)) >= sizeof claims)
		return AI_ERR_TOO_BIG;
	ai_buf_init(&jwt, 16384);
	r = ai_buf_reserve(&jwt, AI_BASE64_ENCLEN(sizeof claims) + AI_BASE64_ENCLEN(sizeof sig) +
	                   AI_BASE64_ENCLEN(sizeof header) + 4);
	if (r != AI_OK)
		goto out;
	ai_base64url_encode(header, strlen(header), jwt.data);
	jwt.len = strlen(jwt.data);
	jwt.data[jwt.len++] = '.';
	ai_base64url_encode(claims, strlen(claims), jwt.data + jwt.len);
	jwt.len += strlen(jwt.data + jwt.len);
	r = ai_certkey_sign_rs256(ck, jwt.data, jwt.len, sig, &siglen);
	if (r != AI_OK)
		goto out;
	jwt.data[jwt.len++] = '.';
	ai_base64url_encode(sig, siglen, jwt.data + jwt.len);
	jwt.len += strlen(jwt.data + jwt.len);
	*out = ai_buf_detach(&jwt, NULL);
out:
	ai_buf_release(&jwt);
	return r;
}

/* Workload identity: the projected token, read again each time (Kubernetes
 * rotates it). The file is a link into the volume's ..data, so it is
 * followed; it is a short-lived assertion, not a stored secret. */
static ai_result read_token_file(struct ai_auth_ctx *c, const char *path, struct ai_buf *b)
{
	char why[512];

	if (ai_regfile_read(path, AI_REGFILE_FOLLOW, b, why, sizeof why) != AI_OK)
		return ai_auth_fail(c, AI_ERR_AUTH, "federated token file '%s' "
		                    "(AZURE_FEDERATED_TOKEN_FILE): %s", path, why);
	b->data[strcspn(b->data, "\r\n")] = '\0';
	b->len = strlen(b->data);
	if (!b->len)
		return ai_auth_fail(c, AI_ERR_AUTH, "federated token file '%s' is empty", path);
	return AI_OK;
}

ai_result ai_auth_entra_fetch(struct ai_auth_ctx *c, struct ai_token *out)
{
	struct entra_state *e = c->method_state;
	struct ai_buf form, assertion_file;
	struct ai_http_response resp;
	struct ai_auth_retry rp = { .max_tries = 3, .base_ns = AI_NS_PER_SEC,
	                            .total_ns = 30 * AI_NS_PER_SEC, .retry_transport = 1,
	                            .retry_status = retry_status };
	struct ai_http_header hdr[] = { { "Content-Type", "application/x-www-form-urlencoded" },
	                                { "Accept", "application/json" } };
	char *assertion = NULL;
	ai_result r;

	ai_buf_init(&form, FORM_MAX);
	ai_buf_init(&assertion_file, FILE_MAX);
	ai_http_response_init(&resp);
	r = ai_auth_form_add(&form, "grant_type", "client_credentials");
	if (r == AI_OK)
		r = ai_auth_form_add(&form, "client_id", c->client_id);
	if (r == AI_OK)
		r = ai_auth_form_add(&form, "scope", AI_TOKEN_SCOPE);
	if (r != AI_OK)
		goto out;
	if (e->secret) {
		r = ai_auth_form_add(&form, "client_secret", e->secret);
	} else {
		const char *a;
		if (e->token_file) {
			r = read_token_file(c, e->token_file, &assertion_file);
			a = assertion_file.data;
		} else {
			r = ai_auth_jwt_assertion(e->cert, c->client_id, e->token_url,
			                          ai_clock_real() / AI_NS_PER_SEC, &assertion);
			if (r != AI_OK)
				ai_auth_fail(c, r, "cannot sign the client assertion");
			a = assertion;
		}
		if (r == AI_OK)
			r = ai_auth_form_add(&form, "client_assertion_type", ASSERTION_TYPE);
		if (r == AI_OK)
			r = ai_auth_form_add(&form, "client_assertion", a);
	}
	if (r != AI_OK)
		goto out;
	struct ai_http_request req = { .method = "POST", .url = e->token_url, .headers = hdr,
	                               .nheaders = 2, .body = form.data, .body_len = form.len,
	                               .max_response = 64u << 10 };
	r = ai_auth_http(c, 0, &rp, &req, &resp);
	if (r != AI_OK) {
		r = ai_auth_fail(c, AI_ERR_AUTH, "token endpoint %s is unreachable: %s", e->token_url,
		                 resp.error[0] ? resp.error : ai_strerror(r));
		goto out;
	}
	r = ai_auth_take_token(c, "token endpoint", &resp, out);
out:
	if (form.data)
		ai_cleanse(form.data, form.alloc);
	if (assertion_file.data)
		ai_cleanse(assertion_file.data, assertion_file.alloc);
	ai_buf_release(&form);
	ai_buf_release(&assertion_file);
	ai_token_free(assertion);
	ai_http_response_release(&resp);
	return r;
}
