/* result.c: messages and exit codes for ai_result. */
#include "util/result.h"

static const char *const messages[AI_RESULT_COUNT] = {
	[AI_OK] = "success",
	[AI_ERR_USAGE] = "usage error",
	[AI_ERR_CONFIG] = "configuration error",
	[AI_ERR_AUTH] = "authentication or authorization failed",
	[AI_ERR_NOT_FOUND] = "not found",
	[AI_ERR_EXISTS] = "already exists",
	[AI_ERR_CONFLICT] = "conflict",
	[AI_ERR_LOCKED] = "another run holds the lock",
	[AI_ERR_VERIFY] = "verification failed",
	[AI_ERR_NETWORK] = "network error",
	[AI_ERR_UNAVAILABLE] = "service unavailable",
	[AI_ERR_TIMEOUT] = "timed out",
	[AI_ERR_PROTOCOL] = "unexpected response from the service",
	[AI_ERR_BAD_INPUT] = "malformed input",
	[AI_ERR_TOO_BIG] = "size limit exceeded",
	[AI_ERR_NOMEM] = "out of memory",
	[AI_ERR_IO] = "input/output error",
	[AI_ERR_CRYPTO] = "cryptographic operation failed",
	[AI_ERR_PARTIAL] = "partial success",
	[AI_ERR_NOTHING] = "nothing new",
	[AI_ERR_INTERRUPTED] = "interrupted",
	[AI_ERR_INTERNAL] = "internal error",
};

static const char *const names[AI_RESULT_COUNT] = {
	[AI_OK] = "ok",
	[AI_ERR_USAGE] = "usage",
	[AI_ERR_CONFIG] = "config",
	[AI_ERR_AUTH] = "auth",
	[AI_ERR_NOT_FOUND] = "not_found",
	[AI_ERR_EXISTS] = "exists",
	[AI_ERR_CONFLICT] = "conflict",
	[AI_ERR_LOCKED] = "locked",
	[AI_ERR_VERIFY] = "verify",
	[AI_ERR_NETWORK] = "network",
	[AI_ERR_UNAVAILABLE] = "unavailable",
	[AI_ERR_TIMEOUT] = "timeout",
	[AI_ERR_PROTOCOL] = "protocol",
	[AI_ERR_BAD_INPUT] = "bad_input",
	[AI_ERR_TOO_BIG] = "too_big",
	[AI_ERR_NOMEM] = "nomem",
	[AI_ERR_IO] = "io",
	[AI_ERR_CRYPTO] = "crypto",
	[AI_ERR_PARTIAL] = "partial",
	[AI_ERR_NOTHING] = "nothing",
	[AI_ERR_INTERRUPTED] = "interrupted",
	[AI_ERR_INTERNAL] = "internal",
};

const char *ai_result_name(ai_result r)
{
	if ((unsigned)r >= AI_RESULT_COUNT || !names[r])
		return "unknown";
	return names[r];
}

const char *ai_strerror(ai_result r)
{
	if ((unsigned)r >= AI_RESULT_COUNT || !messages[r])
		return "unknown error";
	return messages[r];
}

int ai_exit_code(ai_result r)
{
	switch (r) {
	case AI_OK:
		return 0;
	case AI_ERR_USAGE:
	case AI_ERR_CONFIG:
	case AI_ERR_NOT_FOUND:
		return 2;
	case AI_ERR_AUTH:
		return 3;
	case AI_ERR_VERIFY:
		return 4;
	case AI_ERR_LOCKED:
		return 5;
	case AI_ERR_NETWORK:
	case AI_ERR_UNAVAILABLE:
	case AI_ERR_TIMEOUT:
		return 6;
	case AI_ERR_NOTHING:
		return 9;
	default:
		return 1;
	}
}

int ai_result_transient(ai_result r)
{
	return r == AI_ERR_NETWORK || r == AI_ERR_UNAVAILABLE || r == AI_ERR_TIMEOUT;
}
