/* azurl.h: Azure Blob locations: URL parsing (virtual-host and path
 * style, RA-GRS secondary), connection strings, percent-encoding. */
#ifndef AI_AZURL_H
#define AI_AZURL_H

#include <stddef.h>
#include "util/buf.h"
#include "util/result.h"

struct ai_azurl {
	char scheme[8];        /* "http" or "https" */
	char host[256];        /* as given, without port */
	unsigned port;         /* 0 when not given */
	char account[64];      /* the primary account name ("-secondary" removed) */
	int path_style;        /* account is the first path segment (IP hosts, Azurite) */
	int secondary;         /* the URL named the -secondary endpoint */
	char container[64];    /* "" when the URL names the account only */
	char prefix[1024];     /* decoded, no leading '/', "" or ending in '/' */
};

/* Parses an https:// or http:// location. A query string (a SAS token, as
 * in a SAS URL) is returned in *sas (malloc'd, NULL if none). */
ai_result ai_azurl_parse(const char *url, struct ai_azurl *out, char **sas) AI_MUST_CHECK;

/* Parses "AccountName=..;AccountKey=..;BlobEndpoint=..;SharedAccessSignature=..;
 * DefaultEndpointsProtocol=..;EndpointSuffix=.." (and UseDevelopmentStorage=true).
 * Outputs are malloc'd or NULL when absent; blob_endpoint is built from
 * protocol, account and suffix when not given. */
ai_result ai_connstr_parse(const char *cs, char **account, char **key, char **blob_endpoint,
                           char **sas) AI_MUST_CHECK;

/* Base URL of the account's blob endpoint, no trailing '/':
 * "https://acct.blob.core.windows.net", "https://acct-secondary.blob...",
 * "http://127.0.0.1:10000/devstoreaccount1[-secondary]". Appends to out. */
ai_result ai_azurl_endpoint(const struct ai_azurl *u, int secondary, struct ai_buf *out) AI_MUST_CHECK;

/* Percent-encodes s for a URL path: keeps RFC 3986 unreserved and '/'. */
ai_result ai_url_encode_path(const char *s, struct ai_buf *out) AI_MUST_CHECK;
/* Percent-encodes s for a query value: keeps only unreserved characters
 * (so '=', '+', '/' become %3D, %2B, %2F). */
ai_result ai_url_encode_query(const char *s, struct ai_buf *out) AI_MUST_CHECK;
/* Decodes %XX (and not '+'); bad escapes are AI_ERR_BAD_INPUT. */
ai_result ai_url_decode(const char *s, size_t n, struct ai_buf *out) AI_MUST_CHECK;
/* Decodes a query name or value as servers do: like ai_url_decode, but a
 * bare '+' is a space. */
ai_result ai_url_decode_query(const char *s, size_t n, struct ai_buf *out) AI_MUST_CHECK;

#endif
