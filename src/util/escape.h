/* escape.h: making untrusted text safe to print: names from the source or
 * the archive may hold newlines, escape sequences or bytes that are not
 * UTF-8, and must neither act on a terminal nor split a line. */
#ifndef AI_ESCAPE_H
#define AI_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* The length (1 to 4) of the valid UTF-8 character p starts with, or 0 when
 * p does not start with one (a stray continuation byte, an overlong form,
 * a surrogate, a code point past U+10FFFF, a truncated sequence). NUL is
 * a character of length 1. */
size_t ai_utf8_char(const char *p);

/* Copies in to out (cap bytes, always NUL-terminated) with everything
 * that could act on a terminal made visible: a backslash becomes "\\",
 * newline, carriage return and tab "\n", "\r" and "\t", other C0 control
 * bytes, DEL and bytes that are not UTF-8 "\xHH", and the C1 controls
 * (U+0080..U+009F) "\u00HH". Other UTF-8 passes unchanged, so text without
 * any of these comes out as it went in. A character whose rendering does
 * not fit is left out with everything after it. Returns out. */
char *ai_escape(const char *in, char *out, size_t cap);

/* The same into a new string the caller frees; NULL when out of memory.
 * NULL in gives "". */
char *ai_escape_new(const char *in);

/* Writes s to f as ai_escape renders it, however long; NULL writes nothing. */
void ai_escape_put(FILE *f, const char *s);

/* Writes s to f as a quoted JSON string (NULL as ""), escaping quotes,
 * backslashes and control characters; other bytes pass through. */
void ai_json_put(FILE *f, const char *s);

#endif
