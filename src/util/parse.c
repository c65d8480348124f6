/* parse.c: bounded parsers and formatters for numbers, sizes, durations
 * and UTC times. Nothing here reads the clock: "now" is passed in. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "util/parse.h"

ai_result ai_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return AI_ERR_BAD_INPUT;
	for (; *s; s++) {
		unsigned d;
		if (*s < '0' || *s > '9')
			return AI_ERR_BAD_INPUT;
		d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return AI_ERR_TOO_BIG;
		v = v * 10 + d;
	}
	*out = v;
	return AI_OK;
}

/* Splits s into a leading decimal number and a unit suffix. */
static ai_result number_prefix(const char *s, uint64_t *num, const char **unit)
{
	char digits[24];
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n >= sizeof digits)
		return n ? AI_ERR_TOO_BIG : AI_ERR_BAD_INPUT;
	memcpy(digits, s, n);
	digits[n] = '\0';
	*unit = s + n;
	return ai_parse_u64(digits, UINT64_MAX, num);
}

static ai_result scale(uint64_t v, uint64_t mul, uint64_t max, uint64_t *out)
{
	if (mul && v > max / mul)
		return AI_ERR_TOO_BIG;
	*out = v * mul;
	return *out > max ? AI_ERR_TOO_BIG : AI_OK;
}

ai_result ai_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	static const struct { const char *unit; unsigned shift; } units[] = {
		{ "", 0 }, { "B", 0 },
		{ "K", 10 }, { "KB", 10 }, { "KiB", 10 },
		{ "M", 20 }, { "MB", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GB", 30 }, { "GiB", 30 },
		{ "T", 40 }, { "TB", 40 }, { "TiB", 40 },
	};
	uint64_t v;
	const char *unit;
	size_t i;
	ai_result r = number_prefix(s ? s : "", &v, &unit);

	if (r != AI_OK)
		return r;
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcasecmp(unit, units[i].unit) == 0)
			return scale(v, UINT64_C(1) << units[i].shift, max, out);
	return AI_ERR_BAD_INPUT;
}

ai_result ai_parse_duration(const char *s, int64_t max_ns, int64_t *out)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "", 1000000000ULL }, { "ms", 1000000ULL }, { "s", 1000000000ULL },
		{ "m", 60000000000ULL }, { "h", 3600000000000ULL }, { "d", 86400000000000ULL },
	};
	uint64_t v, ns;
	const char *unit;
	size_t i;
	ai_result r = number_prefix(s ? s : "", &v, &unit);

	if (r != AI_OK)
		return r;
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(unit, units[i].unit) != 0)
			continue;
		r = scale(v, units[i].ns, max_ns < 0 ? 0 : (uint64_t)max_ns, &ns);
		if (r == AI_OK)
			*out = (int64_t)ns;
		return r;
	}
	return AI_ERR_BAD_INPUT;
}

int64_t ai_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's days_from_civil. */
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void ai_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n digits at *p (bounded by end). */
static int digits(const char **p, const char *end, int n, unsigned *out)
{
	unsigned v = 0;

	if (end - *p < n)
		return 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return 0;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*out = v;
	return 1;
}

static int expect(const char **p, const char *end, char c)
{
	if (*p < end && **p == c) {
		(*p)++;
		return 1;
	}
	return 0;
}

/* Combines civil fields into ai_time with overflow checks. */
static ai_result make_time(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                           unsigned sec, int64_t frac_ns, int64_t offset_s, ai_time *out)
{
	int64_t days, secs;

	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return AI_ERR_BAD_INPUT;
	if (sec == 60) /* a leap second is folded onto the next second */
		sec = 59, frac_ns = 999999999;
	days = ai_days_from_civil(y, mo, d);
	secs = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec - offset_s;
	if (secs > INT64_MAX / AI_NS_PER_SEC - 1 || secs < INT64_MIN / AI_NS_PER_SEC + 1)
		return AI_ERR_BAD_INPUT;
	*out = secs * AI_NS_PER_SEC + frac_ns;
	return AI_OK;
}

ai_result ai_parse_time(const char *s, size_t len, ai_time *out)
{
	const char *p = s, *end = s + len;
	unsigned y, mo, d, h, mi, sec = 0, oh, om;
	int64_t frac = 0, offset = 0;

	if (!digits(&p, end, 4, &y) || !expect(&p, end, '-') || !digits(&p, end, 2, &mo) ||
	    !expect(&p, end, '-') || !digits(&p, end, 2, &d))
		return AI_ERR_BAD_INPUT;
	if (!expect(&p, end, 'T') && !expect(&p, end, ' ') && !expect(&p, end, 't'))
		return AI_ERR_BAD_INPUT;
	if (!digits(&p, end, 2, &h) || !expect(&p, end, ':') || !digits(&p, end, 2, &mi))
		return AI_ERR_BAD_INPUT;
	if (expect(&p, end, ':')) {
		if (!digits(&p, end, 2, &sec))
			return AI_ERR_BAD_INPUT;
		if (expect(&p, end, '.')) {
			int nd = 0;
			int64_t scale_ns = 100000000;
			while (p < end && *p >= '0' && *p <= '9') {
				if (++nd > 9)
					return AI_ERR_BAD_INPUT;
				frac += (*p++ - '0') * scale_ns;
				scale_ns /= 10;
			}
			if (nd == 0)
				return AI_ERR_BAD_INPUT;
		}
	}
	if (expect(&p, end, 'Z') || expect(&p, end, 'z')) {
		offset = 0;
	} else if (p < end && (*p == '+' || *p == '-')) {
		int sign = *p++ == '-' ? -1 : 1;
		if (!digits(&p, end, 2, &oh) || !expect(&p, end, ':') || !digits(&p, end, 2, &om) ||
		    oh > 23 || om > 59)
			return AI_ERR_BAD_INPUT;
		offset = sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
	} else {
		return AI_ERR_BAD_INPUT;
	}
	if (p != end)
		return AI_ERR_BAD_INPUT;
	return make_time(y, mo, d, h, mi, sec, frac, offset, out);
}

ai_result ai_parse_time_arg(const char *s, ai_time now, ai_time *out)
{
	size_t len = strlen(s);
	const char *p = s, *end = s + len;
	unsigned y, mo, d, h = 0;

	if (strcmp(s, "now") == 0) {
		*out = now;
		return AI_OK;
	}
	if (strncmp(s, "now-", 4) == 0) {
		int64_t ns;
		if (ai_parse_duration(s + 4, INT64_MAX / 2, &ns) != AI_OK)
			return AI_ERR_BAD_INPUT;
		*out = now - ns;
		return AI_OK;
	}
	if (len == 10 || len == 13) {
		if (!digits(&p, end, 4, &y) || !expect(&p, end, '-') || !digits(&p, end, 2, &mo) ||
		    !expect(&p, end, '-') || !digits(&p, end, 2, &d))
			return AI_ERR_BAD_INPUT;
		if (len == 13 && (!(expect(&p, end, 'T') || expect(&p, end, ' ')) ||
		                  !digits(&p, end, 2, &h)))
			return AI_ERR_BAD_INPUT;
		return make_time(y, mo, d, h, 0, 0, 0, 0, out);
	}
	if (len == 16) { /* YYYY-MM-DDTHH:MM with no zone: UTC */
		char tmp[24];
		memcpy(tmp, s, 16);
		memcpy(tmp + 16, "Z", 2);
		return ai_parse_time(tmp, 17, out);
	}
	if (len == 19) { /* YYYY-MM-DDTHH:MM:SS with no zone: UTC */
		char tmp[24];
		memcpy(tmp, s, 19);
		memcpy(tmp + 19, "Z", 2);
		return ai_parse_time(tmp, 20, out);
	}
	return ai_parse_time(s, len, out);
}

static const char *const wdays[7] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

ai_result ai_parse_http_date(const char *s, ai_time *out)
{
	char wd[4], mon[4], zone[4];
	unsigned d, h, mi, sec;
	int y, n = 0;

	if (sscanf(s, "%3s, %2u %3s %4d %2u:%2u:%2u %3s%n", wd, &d, mon, &y, &h, &mi, &sec,
	           zone, &n) != 8 || s[n] != '\0' || strcmp(zone, "GMT") != 0 || y < 1)
		return AI_ERR_BAD_INPUT;
	for (unsigned m = 0; m < 12; m++)
		if (strcmp(mon, months[m]) == 0)
			return make_time((unsigned)y, m + 1, d, h, mi, sec, 0, 0, out);
	return AI_ERR_BAD_INPUT;
}

/* Splits t into days and nanoseconds of the day (floored). */
static void split_time(ai_time t, int64_t *days, int64_t *ns_of_day)
{
	const int64_t day_ns = 86400 * AI_NS_PER_SEC;

	*days = t / day_ns;
	*ns_of_day = t % day_ns;
	if (*ns_of_day < 0) {
		*ns_of_day += day_ns;
		(*days)--;
	}
}

void ai_time_format(ai_time t, int digits_wanted, char out[AI_TIME_STRLEN])
{
	int64_t days, nsd, y;
	unsigned m, d;
	int n;

	split_time(t, &days, &nsd);
	ai_civil_from_days(days, &y, &m, &d);
	int64_t sec = nsd / AI_NS_PER_SEC, frac = nsd % AI_NS_PER_SEC;
	n = snprintf(out, AI_TIME_STRLEN, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
	             (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
	if (digits_wanted > 9)
		digits_wanted = 9;
	if (digits_wanted > 0 && n > 0 && n < AI_TIME_STRLEN - 12) {
		char f[12];
		snprintf(f, sizeof f, "%09lld", (long long)frac);
		f[digits_wanted] = '\0';
		n += snprintf(out + n, AI_TIME_STRLEN - (size_t)n, ".%s", f);
	}
	if (n > 0 && n < AI_TIME_STRLEN - 1)
		snprintf(out + n, AI_TIME_STRLEN - (size_t)n, "Z");
}

void ai_time_format_http(ai_time t, char out[AI_TIME_STRLEN])
{
	int64_t days, nsd, y;
	unsigned m, d;

	split_time(t, &days, &nsd);
	ai_civil_from_days(days, &y, &m, &d);
	int64_t sec = nsd / AI_NS_PER_SEC;
	snprintf(out, AI_TIME_STRLEN, "%s, %02u %s %04lld %02d:%02d:%02d GMT",
	         wdays[((days % 7) + 7) % 7], d, months[m - 1], (long long)y, (int)(sec / 3600),
	         (int)(sec / 60 % 60), (int)(sec % 60));
}

ai_time ai_time_hour(ai_time t)
{
	const int64_t hour = 3600 * AI_NS_PER_SEC;
	int64_t r = t % hour;

	return r < 0 ? t - r - hour : t - r;
}
