/* token.h: Microsoft Entra ID access tokens for Blob Storage (scope
 * https://storage.azure.com/.default), for the Azure backend's
 * "Authorization: Bearer" requests (ARCHITECTURE.md §3.2).
 *
 * A token source is one method (managed identity, workload identity,
 * service principal, Azure CLI) with its client id. Sources are shared in
 * the process: every store asking for the same method and client id gets
 * the same source, so all transfers of all threads share one cached token.
 * The token is refreshed ahead of its expiry (5 minutes before, or half
 * its life when that is shorter, or at the refresh_in the service gave) by
 * one thread while the others keep using the valid one; a failed early
 * refresh is tried again after 30 s for as long as the token stays valid.
 * Failures are described in the store's last error, naming the method. */
#ifndef AI_AUTH_TOKEN_H
#define AI_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include "util/result.h"

/* How one side of aiarchive authenticates (--source-auth, --dest-auth). */
enum ai_auth_method {
	AI_AUTH_AUTO = 0,
	AI_AUTH_KEY,
	AI_AUTH_SAS,
	AI_AUTH_CONNECTION_STRING,
	AI_AUTH_MANAGED_IDENTITY,
	AI_AUTH_WORKLOAD_IDENTITY,
	AI_AUTH_SERVICE_PRINCIPAL,
	AI_AUTH_AZURE_CLI,
	AI_AUTH_ANONYMOUS,
	AI_AUTH_METHODS
};

/* "managed-identity" ... ; AI_ERR_BAD_INPUT for an unknown name. */
ai_result ai_auth_method_parse(const char *name, enum ai_auth_method *out) AI_MUST_CHECK;
const char *ai_auth_method_name(enum ai_auth_method m);
/* 1 for the methods that send a bearer token. */
int ai_auth_method_is_token(enum ai_auth_method m);

#define AI_TOKEN_SCOPE "https://storage.azure.com/.default"
#define AI_TOKEN_RESOURCE "https://storage.azure.com"

struct ai_token_params {
	enum ai_auth_method method;   /* one of the token methods */
	const char *client_id;        /* NULL: $AZURE_CLIENT_ID (managed identity: system-assigned) */
	const char *ca_file;          /* CA bundle for the token endpoints, or NULL */
	int64_t connect_timeout_ns;   /* 0: 10 s */
};

struct ai_token_source;

/* The process's source for these parameters (made on first use; nothing
 * is requested yet). Release with ai_token_source_put. AI_ERR_CONFIG
 * (with the store's last error set) when the method lacks what it needs
 * in the environment. */
ai_result ai_token_source_get(const struct ai_token_params *p,
                              struct ai_token_source **out) AI_MUST_CHECK;
void ai_token_source_put(struct ai_token_source *src);
enum ai_auth_method ai_token_source_method(const struct ai_token_source *src);
/* "managed identity", "workload identity", "service principal", "Azure CLI". */
const char *ai_auth_method_title(enum ai_auth_method m);
/* What the source uses and where that came from, for messages; never a
 * secret: "IMDS, system-assigned", "AZURE_FEDERATED_TOKEN_FILE=/var/run/...,
 * client id X from AZURE_CLIENT_ID, tenant T", "secret from
 * AZURE_CLIENT_SECRET, client id X from AZURE_CLIENT_ID, tenant T",
 * "az on PATH". */
void ai_token_source_describe(const struct ai_token_source *src, char *out, size_t cap);

/* A valid access token, malloc'd into *token (wipe and free it with
 * ai_token_free). AI_ERR_AUTH, AI_ERR_NETWORK, ... with the store's last
 * error saying what happened, prefixed by the method's name. */
ai_result ai_token_acquire(struct ai_token_source *src, char **token) AI_MUST_CHECK;
void ai_token_free(char *token);
/* The service refused token (401): forget it if it is still the cached
 * one, so that the next ai_token_acquire gets a fresh one. */
void ai_token_discard(struct ai_token_source *src, const char *token);

/* What `auto` picks when no key, SAS or connection string is given: a
 * service principal in the environment, then workload identity, then a
 * managed identity (App Service or Azure Arc environment, else an IMDS
 * that answers a 1 s probe), then the Azure CLI on PATH; else
 * AI_AUTH_ANONYMOUS. */
enum ai_auth_method ai_token_detect(const struct ai_token_params *p);

/* ----- token responses (exposed for the tests) ----- */

struct ai_token {
	char *access_token;   /* malloc'd */
	int64_t expires_on;   /* epoch seconds */
	int64_t refresh_on;   /* epoch seconds; 0: not given */
};
/* Parses a token endpoint's JSON answer: access_token (or the CLI's
 * accessToken), and its lifetime from expires_on (epoch seconds, a number
 * or a string), else expires_in (seconds from now, number or string);
 * refresh_in (seconds) when given. now is epoch seconds. AI_ERR_PROTOCOL
 * (why says which field) for anything else; nothing of the token is
 * written to why. */
ai_result ai_token_parse(const char *json, size_t len, int64_t now, struct ai_token *out,
                         char *why, size_t whycap) AI_MUST_CHECK;
/* Wipes and frees the token's string. */
void ai_token_release(struct ai_token *t);
/* A string field of a flat JSON object ("error", "error_description",
 * "message"), unescaped into out; NULL when absent or not a string. */
const char *ai_token_json_string(const char *json, size_t len, const char *key, char *out,
                                 size_t cap);

#endif
