/* result.h: the one result type every fallible call returns, its message,
 * and (in main only) its exit code per ARCHITECTURE.md §10. */
#ifndef AI_RESULT_H
#define AI_RESULT_H

#define AI_MUST_CHECK __attribute__((warn_unused_result))

typedef enum ai_result {
	AI_OK = 0,
	AI_ERR_USAGE,        /* bad command line */
	AI_ERR_CONFIG,       /* bad or missing configuration, key file, URL */
	AI_ERR_AUTH,         /* 401/403, wrong key, expired SAS */
	AI_ERR_NOT_FOUND,    /* blob, container or file does not exist */
	AI_ERR_EXISTS,       /* create-only write hit an existing object */
	AI_ERR_CONFLICT,     /* lease held, append position moved, 409 other */
	AI_ERR_LOCKED,       /* another run holds the run lock */
	AI_ERR_VERIFY,       /* signature, digest or chain mismatch */
	AI_ERR_NETWORK,      /* transport failure after retries */
	AI_ERR_UNAVAILABLE,  /* 5xx/429 after retries */
	AI_ERR_TIMEOUT,      /* connect or stall timeout after retries */
	AI_ERR_PROTOCOL,     /* unexpected answer from the service */
	AI_ERR_BAD_INPUT,    /* malformed input data */
	AI_ERR_TOO_BIG,      /* a size cap was reached */
	AI_ERR_NOMEM,
	AI_ERR_IO,           /* local file system error */
	AI_ERR_CRYPTO,       /* OpenSSL failure */
	AI_ERR_PARTIAL,      /* some items failed, others succeeded */
	AI_ERR_NOTHING,      /* nothing new (only with --error-on-nothing) */
	AI_ERR_INTERRUPTED,  /* stopped by a signal */
	AI_ERR_INTERNAL,
	AI_RESULT_COUNT
} ai_result;

/* Returns a static lowercase message for r; never NULL. */
const char *ai_strerror(ai_result r);

/* Returns r's symbolic name for machine-readable output ("usage",
 * "not_found", ...); never NULL. */
const char *ai_result_name(ai_result r);

/* Maps r to the process exit code of ARCHITECTURE.md §10. */
int ai_exit_code(ai_result r);

/* True for results a later retry may cure (network, 5xx, timeouts). */
int ai_result_transient(ai_result r);

#endif
