/* log.h: messages to stderr, one line each, every one passed through the
 * single redaction helper so no secret reaches a log, then through
 * ai_escape (escape.h) so no control character reaches the terminal. */
#ifndef AI_LOG_H
#define AI_LOG_H

#include <stddef.h>

enum ai_log_level { AI_LOG_QUIET = 0, AI_LOG_ERROR, AI_LOG_WARN, AI_LOG_INFO, AI_LOG_DEBUG };

/* Messages above this level are dropped; set by -v/-q. */
extern enum ai_log_level ai_log_level;

void ai_log(enum ai_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ai_error(...) ai_log(AI_LOG_ERROR, __VA_ARGS__)
#define ai_warn(...) ai_log(AI_LOG_WARN, __VA_ARGS__)
#define ai_info(...) ai_log(AI_LOG_INFO, __VA_ARGS__)
#define ai_debug(...) ai_log(AI_LOG_DEBUG, __VA_ARGS__)

/* Prints "aiarchive: MESSAGE" whatever the level (redacted and escaped
 * like every message): main's closing line of a failed command. */
void ai_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The first error message of the process (redacted and escaped, without
 * the "error: " prefix; kept even when the level dropped it), or "". */
const char *ai_log_first_error(void);

/* Called before and after each message is written to stderr, with arg:
 * a progress line (progress.h) clears itself first. NULL: none. */
void ai_log_set_hook(void (*before)(void *), void (*after)(void *), void *arg);

/* Copies in to out (cap bytes, always NUL-terminated), replacing secrets
 * with "REDACTED": SAS signatures (sig=...), AccountKey=... in connection
 * strings, SharedKey/Bearer/Basic credentials in Authorization headers,
 * client_secret= and client_assertion= form fields, JWTs anywhere, and
 * any string registered with ai_redact_add. Returns out. */
char *ai_redact(const char *in, char *out, size_t cap);

/* Registers a secret (account key, SAS token) so that it is redacted
 * wherever it appears. The string is copied. Up to 16 secrets. */
void ai_redact_add(const char *secret);
/* Forgets all registered secrets (tests). */
void ai_redact_clear(void);

#endif
