/* parse.h: bounded parsers for numbers, sizes, durations and UTC times,
 * and the matching formatters. Times are int64 nanoseconds since the Unix
 * epoch (UTC), which covers 1678..2262 exactly. */
#ifndef AI_PARSE_H
#define AI_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include "util/result.h"

typedef int64_t ai_time; /* ns since 1970-01-01T00:00:00Z */

#define AI_NS_PER_SEC INT64_C(1000000000)
#define AI_TIME_MIN INT64_MIN
#define AI_TIME_MAX INT64_MAX

/* Decimal unsigned integer, no sign, no spaces, <= max. */
ai_result ai_parse_u64(const char *s, uint64_t max, uint64_t *out) AI_MUST_CHECK;
/* Size with optional unit: B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TiB (binary
 * multiples, since storage quotas are binary), <= max. */
ai_result ai_parse_size(const char *s, uint64_t max, uint64_t *out) AI_MUST_CHECK;
/* Duration: a number with unit ms, s, m, h or d ("90s", "2h"), or a bare
 * number of seconds; result in ns, <= max_ns. */
ai_result ai_parse_duration(const char *s, int64_t max_ns, int64_t *out) AI_MUST_CHECK;

/* ISO-8601 / RFC 3339 UTC timestamp in the first len bytes of s:
 * YYYY-MM-DDTHH:MM[:SS[.f{0,9}]] then Z or +HH:MM / -HH:MM (a space may
 * replace T). Fractions beyond 9 digits are rejected; out of ai_time range
 * is AI_ERR_BAD_INPUT. */
ai_result ai_parse_time(const char *s, size_t len, ai_time *out) AI_MUST_CHECK;
/* Accepts what ai_parse_time does, plus the shorter forms operators type:
 * YYYY-MM-DD, YYYY-MM-DDTHH (taken as UTC), and "now", "now-2h". */
ai_result ai_parse_time_arg(const char *s, ai_time now, ai_time *out) AI_MUST_CHECK;
/* RFC 1123 HTTP date ("Mon, 01 Jan 2024 00:00:00 GMT"). */
ai_result ai_parse_http_date(const char *s, ai_time *out) AI_MUST_CHECK;

#define AI_TIME_STRLEN 32
/* "2024-05-01T13:00:00.1234567Z" with digits (0..9) fractional digits. */
void ai_time_format(ai_time t, int digits, char out[AI_TIME_STRLEN]);
/* "Mon, 01 Jan 2024 00:00:00 GMT". */
void ai_time_format_http(ai_time t, char out[AI_TIME_STRLEN]);

/* Civil UTC date <-> days since epoch (proleptic Gregorian). */
int64_t ai_days_from_civil(int64_t y, unsigned m, unsigned d);
void ai_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Floors t to the start of its UTC hour. */
ai_time ai_time_hour(ai_time t);

#endif
