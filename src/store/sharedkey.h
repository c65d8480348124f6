/* sharedkey.h: Azure Storage Shared Key request signing (service version
 * 2009-09-19 and later): string-to-sign, canonicalized headers with the
 * service's weighted header order, canonicalized resource. */
#ifndef AI_SHAREDKEY_H
#define AI_SHAREDKEY_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"
#include "store/http.h"
#include "util/result.h"

struct ai_sk_request {
	const char *method;        /* uppercase verb */
	const char *account;       /* the primary account name, even for -secondary */
	const char *path;          /* URI path exactly as sent, still encoded: "/c/b" or,
	                            * path-style, "/account/c/b" */
	const char *query;         /* raw query as sent, without '?', or NULL */
	const struct ai_http_header *headers; /* every header that will be sent */
	size_t nheaders;
};

/* Builds the string to sign into out (appends). */
ai_result ai_sharedkey_string_to_sign(const struct ai_sk_request *r, struct ai_buf *out) AI_MUST_CHECK;
/* Writes "SharedKey <account>:<base64 signature>" into out (cap bytes).
 * key is the decoded account key. */
ai_result ai_sharedkey_authorization(const struct ai_sk_request *r, const uint8_t *key,
                                     size_t keylen, char *out, size_t cap) AI_MUST_CHECK;
/* The service's header-name order (weight tables of the Azure SDKs);
 * <0, 0, >0 like strcmp. Names are compared as given (lowercase them). */
int ai_sharedkey_header_cmp(const char *a, const char *b);

#endif
