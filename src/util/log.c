/* log.c: leveled, redacted messages on stderr. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/crypto.h"
#include "util/escape.h"
#include "util/log.h"

enum ai_log_level ai_log_level = AI_LOG_WARN;

#define MAX_SECRETS 16
static char *secrets[MAX_SECRETS];
static size_t nsecrets;

void ai_redact_add(const char *secret)
{
	size_t i;

	if (!secret || strlen(secret) < 4 || nsecrets == MAX_SECRETS)
		return;
	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0)
			return;
	secrets[nsecrets] = strdup(secret);
	if (secrets[nsecrets])
		nsecrets++;
}

void ai_redact_clear(void)
{
	while (nsecrets) {
		nsecrets--;
		ai_cleanse(secrets[nsecrets], strlen(secrets[nsecrets]));
		free(secrets[nsecrets]);
		secrets[nsecrets] = NULL;
	}
}

/* Length of the secret value starting at p: up to a delimiter. */
static size_t value_len(const char *p, const char *stops)
{
	return strcspn(p, stops);
}

static const char REDACTED[] = "REDACTED";

static int jwt_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Matches one of the keyword patterns at p; sets *skip to the bytes of
 * keyword to copy and *vlen to the secret that follows. */
static int match_keyword(const char *start, const char *p, size_t *keep, size_t *vlen)
{
	static const struct {
		const char *word;
		const char *stops;
		int need_boundary;
	} words[] = {
		{ "sig=", "&\"' \t\r\n;,", 1 },
		{ "AccountKey=", ";\"' \t\r\n", 1 },
		{ "SharedAccessSignature=", ";\"' \t\r\n", 1 },
		{ "SharedKey ", "\"' \t\r\n", 0 },
		{ "Bearer ", "\"' \t\r\n", 0 },
		{ "Basic ", "\"' \t\r\n", 0 },
		{ "client_secret=", "&\"' \t\r\n", 1 },
		{ "client_assertion=", "&\"' \t\r\n", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t wl = strlen(words[i].word);
		if (strncasecmp(p, words[i].word, wl) != 0)
			continue;
		if (words[i].need_boundary && p > start && (p[-1] != '?' && p[-1] != '&' &&
		    p[-1] != ';' && p[-1] != ' ' && p[-1] != '"' && p[-1] != '\''))
			continue;
		*keep = wl;
		*vlen = value_len(p + wl, words[i].stops);
		return *vlen > 0;
	}
	/* A JWT anywhere (an access token, a client assertion): base64url of
	 * '{"' and then two dots. */
	if (strncmp(p, "eyJ", 3) == 0 && (p == start || !jwt_char(p[-1]))) {
		size_t n = 0, dots = 0;
		while (jwt_char(p[n]) || p[n] == '.')
			dots += p[n++] == '.';
		if (dots >= 2 && n >= 16) {
			*keep = 0;
			*vlen = n;
			return 1;
		}
	}
	return 0;
}

char *ai_redact(const char *in, char *out, size_t cap)
{
	size_t o = 0, i;
	const char *p = in;

	if (cap == 0)
		return out;
	while (*p && o + 1 < cap) {
		size_t keep, vlen, slen = 0;
		int hit = 0;

		for (i = 0; i < nsecrets; i++) {
			slen = strlen(secrets[i]);
			if (strncmp(p, secrets[i], slen) == 0) {
				hit = 1;
				break;
			}
		}
		if (hit) {
			keep = 0;
			vlen = slen;
		} else if (!match_keyword(in, p, &keep, &vlen)) {
			out[o++] = *p++;
			continue;
		}
		while (keep-- && o + 1 < cap)
			out[o++] = *p++;
		for (i = 0; REDACTED[i] && o + 1 < cap; i++)
			out[o++] = REDACTED[i];
		p += vlen;
	}
	out[o] = '\0';
	return out;
}

static void (*hook_before)(void *), (*hook_after)(void *);
static void *hook_arg;

void ai_log_set_hook(void (*before)(void *), void (*after)(void *), void *arg)
{
	__atomic_store_n(&hook_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&hook_after, after, __ATOMIC_RELAXED);
	__atomic_store_n(&hook_before, before, __ATOMIC_RELEASE);
}

/* Writes one line to stderr between the hook's calls. */
static void put_line(const char *prefix, const char *shown)
{
	void (*before)(void *) = __atomic_load_n(&hook_before, __ATOMIC_ACQUIRE);
	void (*after)(void *) = __atomic_load_n(&hook_after, __ATOMIC_RELAXED);
	void *arg = __atomic_load_n(&hook_arg, __ATOMIC_RELAXED);

	if (before && after)
		before(arg);
	fprintf(stderr, "aiarchive: %s%s\n", prefix, shown);
	if (before && after)
		after(arg);
}

/* The first error of the process, as shown (for the closing line). */
static char first_error[512];
static pthread_mutex_t first_error_lock = PTHREAD_MUTEX_INITIALIZER;

const char *ai_log_first_error(void)
{
	return first_error;
}

/* Formats, redacts and escapes one message into shown (cap bytes). */
static void render(char *shown, size_t cap, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void render(char *shown, size_t cap, const char *fmt, va_list ap)
{
	char raw[4096], clean[4096];
	size_t n;

	vsnprintf(raw, sizeof raw, fmt, ap);
	ai_redact(raw, clean, sizeof clean);
	n = strlen(clean);
	while (n && clean[n - 1] == '\n')
		clean[--n] = '\0';
	/* Names in messages come from the source and the archive. */
	ai_escape(clean, shown, cap);
}

void ai_log(enum ai_log_level level, const char *fmt, ...)
{
	char shown[4096];
	va_list ap;

	if (level == AI_LOG_QUIET || (level > ai_log_level && level != AI_LOG_ERROR))
		return;
	va_start(ap, fmt);
	render(shown, sizeof shown, fmt, ap);
	va_end(ap);
	if (level == AI_LOG_ERROR) {
		pthread_mutex_lock(&first_error_lock);
		if (!first_error[0]) {
			size_t n = strnlen(shown, sizeof first_error - 1);

			memcpy(first_error, shown, n);
			first_error[n] = '\0';
		}
		pthread_mutex_unlock(&first_error_lock);
		if (level > ai_log_level)
			return;
	}
	put_line(level == AI_LOG_ERROR ? "error: " : level == AI_LOG_WARN ? "warning: " : "", shown);
}

void ai_say(const char *fmt, ...)
{
	char shown[4096];
	va_list ap;

	va_start(ap, fmt);
	render(shown, sizeof shown, fmt, ap);
	va_end(ap);
	put_line("", shown);
}
