/* auth_int.h: what the token methods share inside src/store/auth/. */
#ifndef AI_AUTH_INT_H
#define AI_AUTH_INT_H

#include <stddef.h>
#include <stdint.h>
#include "store/auth/token.h"
#include "store/http.h"
#include "util/result.h"

/* One method's settings, read once when its source is made. */
struct ai_auth_ctx {
	enum ai_auth_method method;
	char *client_id;           /* the option, else $AZURE_CLIENT_ID; may be NULL */
	int client_id_env;         /* client_id came from $AZURE_CLIENT_ID */
	char *ca_file;
	int64_t connect_timeout_ns;
	struct ai_http *http;      /* token endpoints: the environment's proxy is used */
	struct ai_http *direct;    /* the local identity endpoints: never a proxy */
	void *method_state;        /* the method's own, freed by its release */
};

/* "METHOD: message" as the store's last error on this thread; returns r. */
ai_result ai_auth_fail(const struct ai_auth_ctx *c, ai_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One request with up to max_tries attempts: transport failures are tried
 * again when retry_transport, HTTP statuses when retry_status(status) says
 * so, with exponential backoff from base_ns (Retry-After honoured, capped
 * at 60 s), all within total_ns. Without retry_transport, a refused or
 * reset connection (AI_ERR_NETWORK, not a timeout) is still tried again
 * up to net_tries attempts in all (0: never), waiting from net_base_ns,
 * doubling. AI_OK when a final answer arrived (look at resp->status); else
 * the transport's result with resp->error. */
struct ai_auth_retry {
	unsigned max_tries;
	int64_t base_ns;
	int64_t total_ns;
	int retry_transport;
	int (*retry_status)(long status);
	unsigned net_tries;
	int64_t net_base_ns;
};
ai_result ai_auth_http(const struct ai_auth_ctx *c, int direct, const struct ai_auth_retry *rp,
                       const struct ai_http_request *req,
                       struct ai_http_response *resp) AI_MUST_CHECK;

/* Turns a successful answer into a token, or an error answer into the
 * one-line message "WHERE: STATUS error: description"; both wipe the body. */
ai_result ai_auth_take_token(const struct ai_auth_ctx *c, const char *where,
                             struct ai_http_response *resp, struct ai_token *out) AI_MUST_CHECK;

/* Percent-encodes s for a query or form value. */
ai_result ai_auth_form_add(struct ai_buf *b, const char *name, const char *value) AI_MUST_CHECK;

/* The methods. init reads the environment (AI_ERR_CONFIG with a message
 * when something is missing), fetch gets one new token, release frees
 * method_state, describe writes what the source uses and where that came
 * from (never a secret). */
ai_result ai_auth_managed_init(struct ai_auth_ctx *c) AI_MUST_CHECK;
ai_result ai_auth_managed_fetch(struct ai_auth_ctx *c, struct ai_token *out) AI_MUST_CHECK;
void ai_auth_managed_release(struct ai_auth_ctx *c);
void ai_auth_managed_describe(const struct ai_auth_ctx *c, char *out, size_t cap);
/* 1 when a managed identity endpoint is there: App Service or Arc
 * variables, else IMDS answering within 1 s. */
int ai_auth_managed_available(struct ai_auth_ctx *c);

ai_result ai_auth_entra_init(struct ai_auth_ctx *c) AI_MUST_CHECK;
ai_result ai_auth_entra_fetch(struct ai_auth_ctx *c, struct ai_token *out) AI_MUST_CHECK;
void ai_auth_entra_release(struct ai_auth_ctx *c);
void ai_auth_entra_describe(const struct ai_auth_ctx *c, char *out, size_t cap);
/* ", client id X" (and " from AZURE_CLIENT_ID" when it came from there). */
void ai_auth_describe_client(const struct ai_auth_ctx *c, const char *what, char *out,
                             size_t cap);

ai_result ai_auth_cli_init(struct ai_auth_ctx *c) AI_MUST_CHECK;
ai_result ai_auth_cli_fetch(struct ai_auth_ctx *c, struct ai_token *out) AI_MUST_CHECK;
void ai_auth_cli_release(struct ai_auth_ctx *c);
/* 1 when an executable "az" is on PATH. */
int ai_auth_cli_available(void);

/* The service principal's JWT client assertion (exposed for the tests):
 * header {"alg":"RS256","typ":"JWT","x5t":...,"kid":...}, claims aud =
 * token_url, iss = sub = client_id, jti, nbf = iat = now, exp = now + 600.
 * *out is malloc'd. */
struct ai_certkey;
ai_result ai_auth_jwt_assertion(const struct ai_certkey *ck, const char *client_id,
                                const char *token_url, int64_t now, char **out) AI_MUST_CHECK;

/* Azure Arc: the challenge file's path must be a ".key" file directly
 * in /var/opt/azcmagent/tokens (no "..", no other directory). */
int ai_auth_arc_path_ok(const char *path);

#endif
