/* aigen_json.c: the generator's PRNG seeding and its fast JSON emitter
 * (no printf on the hot path: trees of gigabytes are written in seconds). */
#include <stdio.h>
#include <stdlib.h>
#include "aigen.h"
#include "util/parse.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void ag_rng_seed(struct ag_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t ag_mix(uint64_t a, uint64_t b)
{
	uint64_t x = a ^ ag_rotl(b, 29) ^ UINT64_C(0x6a09e667f3bcc909);

	(void)splitmix64(&x);
	x ^= b;
	return splitmix64(&x);
}

void ag_overflow(void)
{
	fputs("aigen: internal error: row buffer overflow\n", stderr);
	abort();
}

void ag_put_u64(struct ag_out *o, uint64_t v)
{
	char tmp[20];
	unsigned n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ag_put(o, tmp + sizeof(tmp) - n, n);
}

void ag_put_i64(struct ag_out *o, int64_t v)
{
	if (v < 0) {
		ag_putc(o, '-');
		ag_put_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		ag_put_u64(o, (uint64_t)v);
	}
}

void ag_put_fixed(struct ag_out *o, int64_t v, unsigned dec)
{
	uint64_t u, p = 1;
	char tmp[20];

	if (v < 0) {
		ag_putc(o, '-');
		u = (uint64_t)0 - (uint64_t)v;
	} else {
		u = (uint64_t)v;
	}
	for (unsigned i = 0; i < dec; i++)
		p *= 10;
	ag_put_u64(o, u / p);
	if (!dec)
		return;
	u %= p;
	for (unsigned i = dec; i > 0; i--) {
		tmp[i - 1] = (char)('0' + u % 10);
		u /= 10;
	}
	ag_putc(o, '.');
	ag_put(o, tmp, dec);
}

void ag_put_hex(struct ag_out *o, uint64_t v, unsigned nd)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];

	for (unsigned i = nd; i > 0; i--) {
		tmp[i - 1] = hex[v & 15];
		v >>= 4;
	}
	ag_put(o, tmp, nd);
}

void ag_put_jstrn(struct ag_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	ag_putc(o, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		ag_put(o, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			AG_LIT(o, "\\\"");
			break;
		case '\\':
			AG_LIT(o, "\\\\");
			break;
		case '\n':
			AG_LIT(o, "\\n");
			break;
		case '\r':
			AG_LIT(o, "\\r");
			break;
		case '\t':
			AG_LIT(o, "\\t");
			break;
		default:
			AG_LIT(o, "\\u00");
			ag_putc(o, hex[c >> 4]);
			ag_putc(o, hex[c & 15]);
		}
	}
	ag_put(o, s + run, n - run);
	ag_putc(o, '"');
}

void ag_put_jstr(struct ag_out *o, const char *s)
{
	ag_put_jstrn(o, s, strlen(s));
}

static void put2(struct ag_out *o, unsigned v)
{
	char t[2] = { (char)('0' + v / 10 % 10), (char)('0' + v % 10) };

	ag_put(o, t, 2);
}

void ag_put_time(struct ag_out *o, int64_t ticks, unsigned digits)
{
	int64_t days = ticks / AG_TICKS_PER_DAY, rem, y;
	unsigned mo, d;
	char frac[7];

	rem = ticks - days * AG_TICKS_PER_DAY;
	if (rem < 0) {
		rem += AG_TICKS_PER_DAY;
		days--;
	}
	ai_civil_from_days(days, &y, &mo, &d);
	put2(o, (unsigned)(y / 100));
	put2(o, (unsigned)(y % 100));
	ag_putc(o, '-');
	put2(o, mo);
	ag_putc(o, '-');
	put2(o, d);
	ag_putc(o, 'T');
	put2(o, (unsigned)(rem / AG_TICKS_PER_HOUR));
	ag_putc(o, ':');
	put2(o, (unsigned)(rem / (60 * AG_TICKS_PER_SEC) % 60));
	ag_putc(o, ':');
	put2(o, (unsigned)(rem / AG_TICKS_PER_SEC % 60));
	if (digits) {
		uint64_t f = (uint64_t)(rem % AG_TICKS_PER_SEC);

		for (int i = 6; i >= 0; i--) {
			frac[i] = (char)('0' + f % 10);
			f /= 10;
		}
		ag_putc(o, '.');
		ag_put(o, frac, digits > 7 ? 7 : digits);
	}
	ag_putc(o, 'Z');
}

void ag_put_guid(struct ag_out *o, struct ag_rng *r)
{
	uint64_t a = ag_next(r), b = ag_next(r);

	a = (a & ~UINT64_C(0xf000)) | UINT64_C(0x4000);
	b = (b & ~(UINT64_C(0xc) << 60)) | (UINT64_C(0x8) << 60);
	ag_put_hex(o, a >> 32, 8);
	ag_putc(o, '-');
	ag_put_hex(o, (a >> 16) & 0xffff, 4);
	ag_putc(o, '-');
	ag_put_hex(o, a & 0xffff, 4);
	ag_putc(o, '-');
	ag_put_hex(o, b >> 48, 4);
	ag_putc(o, '-');
	ag_put_hex(o, b & UINT64_C(0xffffffffffff), 12);
}

void ag_put_folder(struct ag_out *o, int64_t t)
{
	char tmp[40];
	struct ag_out iso = { tmp, 0, sizeof(tmp) };

	ag_put_time(&iso, t, 0); /* "YYYY-MM-DDTHH:MM:SSZ" */
	AG_LIT(o, "/y=");
	ag_put(o, tmp, 4);
	AG_LIT(o, "/m=");
	ag_put(o, tmp + 5, 2);
	AG_LIT(o, "/d=");
	ag_put(o, tmp + 8, 2);
	AG_LIT(o, "/h=");
	ag_put(o, tmp + 11, 2);
	AG_LIT(o, "/m=");
	ag_put(o, tmp + 14, 2);
}
