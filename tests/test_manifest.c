/* test_manifest.c: the manifest's files together: segment and state
 * codecs (round trips, determinism, hostile input), the state's hour
 * indexes (state.c), segment indexes (segindex.c), and the genesis and key
 * rotation records. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format/bloom.h"
#include "format/genesis.h"
#include "format/manifest_codec.h"
#include "format/manifest_int.h"
#include "format/segindex.h"
#include "format/state.h"

#define H (INT64_C(3600) * AI_NS_PER_SEC)
#define MIN (INT64_C(60) * AI_NS_PER_SEC)
#define T0 (INT64_C(1714521600) * AI_NS_PER_SEC) /* 2024-05-01T00:00:00Z */

/* ---- an independent writer of the documented format ---- */

struct w {
	uint8_t *p;
	size_t n, cap;
};

static void w_raw(struct w *w, const void *p, size_t n)
{
	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2 + 64;
		w->p = realloc(w->p, w->cap);
		cr_assert_not_null(w->p);
	}
	if (n)
		memcpy(w->p + w->n, p, n);
	w->n += n;
}

static void w_byte(struct w *w, uint8_t b)
{
	w_raw(w, &b, 1);
}

static void w_be(struct w *w, uint64_t v, int k)
{
	for (int i = k - 1; i >= 0; i--)
		w_byte(w, (uint8_t)(v >> (8 * i)));
}

static void w_uint(struct w *w, uint64_t v)
{
	if (v < 128)
		w_byte(w, (uint8_t)v);
	else if (v < 0x100)
		w_byte(w, 0xcc), w_be(w, v, 1);
	else if (v < 0x10000)
		w_byte(w, 0xcd), w_be(w, v, 2);
	else if (v < 0x100000000ULL)
		w_byte(w, 0xce), w_be(w, v, 4);
	else
		w_byte(w, 0xcf), w_be(w, v, 8);
}

static void w_int(struct w *w, int64_t v)
{
	if (v >= 0)
		w_uint(w, (uint64_t)v);
	else if (v >= -32)
		w_byte(w, (uint8_t)(0xe0 | (v + 32)));
	else if (v >= INT8_MIN)
		w_byte(w, 0xd0), w_be(w, (uint64_t)v, 1);
	else if (v >= INT16_MIN)
		w_byte(w, 0xd1), w_be(w, (uint64_t)v, 2);
	else if (v >= INT32_MIN)
		w_byte(w, 0xd2), w_be(w, (uint64_t)v, 4);
	else
		w_byte(w, 0xd3), w_be(w, (uint64_t)v, 8);
}

static void w_strn(struct w *w, const char *s, size_t n)
{
	if (n < 32)
		w_byte(w, (uint8_t)(0xa0 | n));
	else if (n < 0x100)
		w_byte(w, 0xd9), w_be(w, n, 1);
	else if (n < 0x10000)
		w_byte(w, 0xda), w_be(w, n, 2);
	else
		w_byte(w, 0xdb), w_be(w, n, 4);
	w_raw(w, s, n);
}

static void w_str(struct w *w, const char *s)
{
	w_strn(w, s ? s : "", s ? strlen(s) : 0);
}

static void w_bin(struct w *w, const void *p, size_t n)
{
	if (n < 0x100)
		w_byte(w, 0xc4), w_be(w, n, 1);
	else if (n < 0x10000)
		w_byte(w, 0xc5), w_be(w, n, 2);
	else
		w_byte(w, 0xc6), w_be(w, n, 4);
	w_raw(w, p, n);
}

static void w_hdr(struct w *w, size_t n, uint8_t fix, uint8_t b16)
{
	if (n < 16)
		w_byte(w, (uint8_t)(fix | n));
	else if (n < 0x10000)
		w_byte(w, b16), w_be(w, n, 2);
	else
		w_byte(w, (uint8_t)(b16 + 1)), w_be(w, n, 4);
}

static void w_array(struct w *w, size_t n)
{
	w_hdr(w, n, 0x90, 0xdc);
}

static void w_map(struct w *w, size_t n)
{
	w_hdr(w, n, 0x80, 0xde);
}

/* Ways to bend a member or segment away from the format. */
struct bend {
	int field;            /* member field to replace (-1 none) */
	uint8_t raw[16];      /* its replacement bytes */
	size_t rawlen;
	int nfields;          /* member array length (0: 20) */
	const char *drop_key; /* top-level key to leave out */
	const char *format;   /* format name (NULL: the right one) */
	uint64_t version;     /* 0: 1 */
	int extra_key;        /* append an unknown top-level key */
};

static void w_member(struct w *w, const struct ai_member *m, const struct bend *b)
{
	int nf = b && b->nfields ? b->nfields : m->has_apps ? 22 : 20 + (*m->replaces != '\0');

	w_array(w, (size_t)nf);
	for (int k = 0; k < nf; k++) {
		if (b && b->field == k) {
			w_raw(w, b->raw, b->rawlen);
			continue;
		}
		switch (k) {
		case 0: w_str(w, m->blob); break;
		case 1: w_str(w, m->etag); break;
		case 2: w_int(w, m->last_modified); break;
		case 3: w_uint(w, m->range_start); break;
		case 4: w_uint(w, m->range_end); break;
		case 5: w_str(w, m->app); break;
		case 6: w_str(w, m->type); break;
		case 7: w_int(w, m->delivery_hour); break;
		case 8: w_uint(w, m->pack); break;
		case 9: w_uint(w, m->offset); break;
		case 10: w_uint(w, m->length); break;
		case 11: w_uint(w, m->raw_size); break;
		case 12: w_bin(w, m->sha256, AI_SHA256_LEN); break;
		case 13: w_uint(w, m->rows); break;
		case 14: w_uint(w, m->bad_rows); break;
		case 15: w_byte(w, m->has_time ? 0xc3 : 0xc2); break;
		case 16: w_int(w, m->has_time ? m->min_event : 0); break;
		case 17: w_int(w, m->has_time ? m->max_event : 0); break;
		case 18:
			w_array(w, m->nroles);
			for (size_t i = 0; i < m->nroles; i++)
				w_str(w, m->roles[i]);
			break;
		case 19: w_bin(w, m->bloom, m->bloom_len); break;
		case 20: w_str(w, m->replaces); break;
		case 21:
			if (!m->has_apps) {
				w_byte(w, 0xc0);
				break;
			}
			w_array(w, m->napps);
			for (size_t i = 0; i < m->napps; i++)
				w_str(w, m->apps[i]);
			break;
		default: w_byte(w, 0xc0); break; /* a later version's field */
		}
	}
}

static void w_segment(struct w *w, const struct ai_segment *s, const struct bend *b)
{
	static const char *const keys[] = {
		"format", "version", "seq", "prev", "run", "created", "key_id", "tags",
		"source", "layout", "packs", "members",
	};
	size_t nkeys = 12;

	if (b && b->drop_key)
		nkeys--;
	if (b && b->extra_key)
		nkeys++;
	w_map(w, nkeys);
	for (int k = 0; k < 12; k++) {
		if (b && b->drop_key && !strcmp(b->drop_key, keys[k]))
			continue;
		w_str(w, keys[k]);
		switch (k) {
		case 0: w_str(w, b && b->format ? b->format : "aiarchive-segment"); break;
		case 1: w_uint(w, b && b->version ? b->version : 1); break;
		case 2: w_uint(w, s->seq); break;
		case 3: w_bin(w, s->prev, AI_SHA256_LEN); break;
		case 4: w_str(w, s->run_id); break;
		case 5: w_int(w, s->created); break;
		case 6: w_str(w, s->key_id); break;
		case 7:
			w_array(w, s->ntags);
			for (size_t i = 0; i < s->ntags; i++)
				w_str(w, s->tags[i]);
			break;
		case 8: w_str(w, s->source); break;
		case 9: w_str(w, s->layout); break;
		case 10:
			w_array(w, s->npacks);
			for (size_t i = 0; i < s->npacks; i++) {
				w_map(w, 3);
				w_str(w, "name");
				w_str(w, s->packs[i].name);
				w_str(w, "size");
				w_uint(w, s->packs[i].size);
				w_str(w, "sha256");
				w_bin(w, s->packs[i].sha256, AI_SHA256_LEN);
			}
			break;
		case 11:
			w_array(w, s->nmembers);
			for (size_t i = 0; i < s->nmembers; i++)
				w_member(w, &s->members[i], b);
			break;
		}
	}
	if (b && b->extra_key) {
		w_str(w, "comment");
		w_map(w, 1);
		w_str(w, "nested");
		w_byte(w, 0xcb); /* a float64: allowed where nobody looks */
		w_be(w, 0x3ff0000000000000ULL, 8);
	}
}

/* ---- fixtures ---- */

/* The structs hold char *; literals are const under -Wwrite-strings. */
static char *S(const char *s)
{
	return (char *)(uintptr_t)s;
}

static char role_web[] = "web", role_worker[] = "worker-1";
static char *roles_a[] = { role_web, role_worker };

static void fill_member(struct ai_member *m, int i, uint32_t pack)
{
	static char blob[64], app[32];

	memset(m, 0, sizeof *m);
	snprintf(blob, sizeof blob, "app1/Requests/2024-05-01/13/%04d.blob", i);
	snprintf(app, sizeof app, "app%d", i % 3);
	m->blob = blob;
	snprintf(m->etag, sizeof m->etag, "0x8DC%011dABC", i);
	m->last_modified = T0 + 13 * H + i * AI_NS_PER_SEC;
	m->range_start = (uint64_t)i * 1000;
	m->range_end = (uint64_t)i * 1000 + 999;
	m->app = app;
	m->type = S(i % 2 ? "Requests" : "Exceptions");
	m->delivery_hour = T0 + 13 * H;
	m->pack = pack;
	m->offset = (uint64_t)i * 100;
	m->length = 100;
	m->raw_size = 4000 + (uint64_t)i;
	for (int k = 0; k < AI_SHA256_LEN; k++)
		m->sha256[k] = (uint8_t)(i + k);
	m->rows = 10 + (uint64_t)i;
	m->bad_rows = (uint64_t)(i % 2);
	m->has_time = i % 5 != 0;
	m->min_event = m->has_time ? T0 + 12 * H - i * MIN : 0;
	m->max_event = m->has_time ? T0 + 13 * H + 30 * MIN : 0;
	m->roles = i % 4 ? roles_a : NULL;
	m->nroles = i % 4 ? 2 : 0;
}

static uint8_t bloom_bytes[64];
static char ws_api[] = "shop-api", ws_web[] = "shop-web";
static char *ws_apps[] = { ws_api, ws_web };

/* A segment of n members over two packs, with tags and Bloom filters. */
static void make_segment(struct ai_segment *s, size_t n, uint64_t seq)
{
	struct ai_pack_ref p = { .size = 1000000 };
	struct ai_member m;
	uint32_t idx;

	ai_segment_init(s);
	s->seq = seq;
	for (int k = 0; k < AI_SHA256_LEN; k++)
		s->prev[k] = seq ? (uint8_t)(seq + k) : 0;
	s->run_id = strdup("20240501T1400Z-3f2a");
	s->created = T0 + 14 * H + 123456789;
	s->key_id = strdup("0123456789ABCDEF");
	s->tags = calloc(2, sizeof *s->tags);
	s->tags[0] = strdup("INC-123");
	s->tags[1] = strdup("nightly");
	s->ntags = 2;
	s->source = strdup("https://acct.blob.core.windows.net/insights");
	s->layout = strdup("continuous-export");
	for (int k = 0; k < 2; k++) {
		char name[64];

		snprintf(name, sizeof name, "data/app1/Requests/2024-05-01/13/p%d.jsonl.gz", k);
		p.name = name;
		memset(p.sha256, 0x30 + k, AI_SHA256_LEN);
		cr_assert_eq(ai_segment_add_pack(s, &p, &idx), AI_OK);
		cr_assert_eq(idx, (uint32_t)k);
	}
	for (size_t i = 0; i < sizeof bloom_bytes; i++)
		bloom_bytes[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < n; i++) {
		fill_member(&m, (int)i, (uint32_t)(i % 2));
		if (i % 3 == 1) {
			m.bloom = bloom_bytes;
			m.bloom_len = sizeof bloom_bytes;
		}
		if (i % 4 == 3)
			snprintf(m.replaces, sizeof m.replaces, "0x8DC%04zuA1B2C3D4", i);
		/* Workspace export: the apps of the rows. */
		m.has_apps = i % 5 == 2;
		m.apps = m.has_apps ? ws_apps : NULL;
		m.napps = m.has_apps ? 2 : 0;
		cr_assert_eq(ai_segment_add_member(s, &m), AI_OK);
	}
}

static void encode(const struct ai_segment *s, struct ai_buf *b)
{
	ai_buf_init(b, 1 << 30);
	cr_assert_eq(ai_segment_encode(s, b), AI_OK);
}

static void assert_members_equal(const struct ai_member *a, const struct ai_member *b)
{
	cr_assert_str_eq(a->blob, b->blob);
	cr_assert_str_eq(a->etag, b->etag);
	cr_assert_eq(a->last_modified, b->last_modified);
	cr_assert_eq(a->range_start, b->range_start);
	cr_assert_eq(a->range_end, b->range_end);
	cr_assert_str_eq(a->app, b->app);
	cr_assert_str_eq(a->type, b->type);
	cr_assert_eq(a->delivery_hour, b->delivery_hour);
	cr_assert_eq(a->pack, b->pack);
	cr_assert_eq(a->offset, b->offset);
	cr_assert_eq(a->length, b->length);
	cr_assert_eq(a->raw_size, b->raw_size);
	cr_assert_arr_eq(a->sha256, b->sha256, AI_SHA256_LEN);
	cr_assert_eq(a->rows, b->rows);
	cr_assert_eq(a->bad_rows, b->bad_rows);
	cr_assert_eq(!!a->has_time, !!b->has_time);
	cr_assert_eq(a->min_event, b->min_event);
	cr_assert_eq(a->max_event, b->max_event);
	cr_assert_eq(a->nroles, b->nroles);
	for (size_t i = 0; i < a->nroles; i++)
		cr_assert_str_eq(a->roles[i], b->roles[i]);
	cr_assert_eq(a->bloom_len, b->bloom_len);
	if (a->bloom_len)
		cr_assert_arr_eq(a->bloom, b->bloom, a->bloom_len);
	cr_assert_str_eq(a->replaces, b->replaces);
	cr_assert_eq(!!a->has_apps, !!b->has_apps);
	cr_assert_eq(a->napps, b->napps);
	for (size_t i = 0; i < a->napps; i++)
		cr_assert_str_eq(a->apps[i], b->apps[i]);
}

/* A NULL string is written as "". */
static const char *nz(const char *s)
{
	return s ? s : "";
}

static void assert_segments_equal(const struct ai_segment *a, const struct ai_segment *b)
{
	cr_assert_eq(a->seq, b->seq);
	cr_assert_arr_eq(a->prev, b->prev, AI_SHA256_LEN);
	cr_assert_str_eq(nz(a->run_id), nz(b->run_id));
	cr_assert_eq(a->created, b->created);
	cr_assert_str_eq(nz(a->key_id), nz(b->key_id));
	cr_assert_eq(a->ntags, b->ntags);
	for (size_t i = 0; i < a->ntags; i++)
		cr_assert_str_eq(a->tags[i], b->tags[i]);
	cr_assert_str_eq(nz(a->source), nz(b->source));
	cr_assert_str_eq(nz(a->layout), nz(b->layout));
	cr_assert_eq(a->npacks, b->npacks);
	for (size_t i = 0; i < a->npacks; i++) {
		cr_assert_str_eq(a->packs[i].name, b->packs[i].name);
		cr_assert_eq(a->packs[i].size, b->packs[i].size);
		cr_assert_arr_eq(a->packs[i].sha256, b->packs[i].sha256, AI_SHA256_LEN);
	}
	cr_assert_eq(a->nmembers, b->nmembers);
	for (size_t i = 0; i < a->nmembers; i++)
		assert_members_equal(&a->members[i], &b->members[i]);
}

/* Decodes p[0..n), expecting failure with a reason containing want. */
static void expect_bad(const void *p, size_t n, const char *want)
{
	struct ai_segment s;
	char why[128] = "";

	cr_assert_eq(ai_segment_decode(p, n, &s, why, sizeof why), AI_ERR_BAD_INPUT,
	             "decoded although expecting '%s'", want);
	cr_assert(strstr(why, want), "reason '%s' lacks '%s'", why, want);
	cr_assert_eq(s.nmembers, 0);
	cr_assert_null(s.members);
}

static void expect_bad_bent(const struct ai_segment *s, const struct bend *b, const char *want)
{
	struct w w = { 0 };

	w_segment(&w, s, b);
	expect_bad(w.p, w.n, want);
	free(w.p);
}

static struct bend no_bend(void)
{
	struct bend b;

	memset(&b, 0, sizeof b);
	b.field = -1;
	return b;
}

/* ---- segments ---- */

static void round_trip(size_t nmembers)
{
	struct ai_segment s, d;
	struct ai_buf b1, b2;
	char why[128] = "";

	make_segment(&s, nmembers, 7);
	encode(&s, &b1);
	cr_assert_eq(ai_segment_decode(b1.data, b1.len, &d, why, sizeof why), AI_OK, "%s",
	             why);
	assert_segments_equal(&s, &d);
	encode(&d, &b2);
	cr_assert_eq(b1.len, b2.len);
	cr_assert_arr_eq(b1.data, b2.data, b1.len, "re-encoding changed the bytes");
	ai_buf_release(&b1);
	ai_buf_release(&b2);
	ai_segment_release(&s);
	ai_segment_release(&d);
}

Test(manifest, empty_segment_round_trips_byte_identical)
{
	struct ai_segment s, d;
	struct ai_buf b1, b2;

	ai_segment_init(&s);
	encode(&s, &b1);
	cr_assert_eq(ai_segment_decode(b1.data, b1.len, &d, NULL, 0), AI_OK);
	cr_assert_eq(d.nmembers, 0);
	cr_assert_eq(d.npacks, 0);
	cr_assert_eq(d.ntags, 0);
	cr_assert_str_eq(d.run_id, "");
	encode(&d, &b2);
	cr_assert_eq(b1.len, b2.len);
	cr_assert_arr_eq(b1.data, b2.data, b1.len);
	ai_buf_release(&b1);
	ai_buf_release(&b2);
	ai_segment_release(&d);
	round_trip(0);
}

Test(manifest, segment_with_all_fields_round_trips_byte_identical)
{
	round_trip(1);
	round_trip(17);
	round_trip(600);
}

Test(manifest, encoding_is_deterministic_and_matches_the_documented_format)
{
	struct ai_segment a, b;
	struct ai_buf ba, bb;
	struct w w = { 0 };

	make_segment(&a, 40, 3);
	make_segment(&b, 40, 3);
	encode(&a, &ba);
	encode(&b, &bb);
	cr_assert_eq(ba.len, bb.len);
	cr_assert_arr_eq(ba.data, bb.data, ba.len);
	/* An independent writer of the format comment gives the same bytes. */
	w_segment(&w, &a, NULL);
	cr_assert_eq(w.n, ba.len);
	cr_assert_arr_eq(w.p, ba.data, w.n);
	free(w.p);
	ai_buf_release(&ba);
	ai_buf_release(&bb);
	ai_segment_release(&a);
	ai_segment_release(&b);
}

Test(manifest, extreme_values_round_trip)
{
	struct ai_segment s, d;
	struct ai_member m;
	struct ai_buf b1, b2;
	struct ai_pack_ref p = { .name = S("p"), .size = UINT64_MAX };
	uint32_t idx;

	ai_segment_init(&s);
	s.seq = UINT64_MAX - 1;
	s.created = AI_TIME_MIN;
	cr_assert_eq(ai_segment_add_pack(&s, &p, &idx), AI_OK);
	fill_member(&m, 1, 0);
	m.last_modified = -1;
	m.delivery_hour = AI_TIME_MAX;
	m.range_start = 0;
	m.range_end = UINT64_MAX;
	m.offset = UINT64_MAX - 5;
	m.length = 5;
	m.has_time = 1;
	m.min_event = AI_TIME_MIN;
	m.max_event = AI_TIME_MAX;
	cr_assert_eq(ai_segment_add_member(&s, &m), AI_OK);
	encode(&s, &b1);
	cr_assert_eq(ai_segment_decode(b1.data, b1.len, &d, NULL, 0), AI_OK);
	assert_segments_equal(&s, &d);
	encode(&d, &b2);
	cr_assert_arr_eq(b1.data, b2.data, b1.len);
	ai_buf_release(&b1);
	ai_buf_release(&b2);
	ai_segment_release(&s);
	ai_segment_release(&d);
}

Test(manifest, encoder_refuses_what_the_decoder_would)
{
	struct ai_segment s;
	struct ai_buf b;
	char why[128];
	char *big = malloc(AI_MANIFEST_MAX_STRING + 2);

	make_segment(&s, 3, 0);
	ai_buf_init(&b, 1 << 20);
	cr_assert_eq(ai_buf_addstr(&b, "keep"), AI_OK);
	s.members[1].pack = 2;
	cr_assert_eq(ai_segment_encode(&s, &b), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_segment_check(&s, why, sizeof why), AI_ERR_BAD_INPUT);
	cr_assert_str_eq(why, "member 1: pack index 2 out of range");
	cr_assert_str_eq(ai_buf_str(&b), "keep", "a refused encoding leaves out as it was");
	s.members[1].pack = 1;
	s.members[2].offset = 1000000 - 99;
	cr_assert_eq(ai_segment_check(&s, why, sizeof why), AI_ERR_BAD_INPUT);
	cr_assert(strstr(why, "past the end of pack 0"), "%s", why);
	s.members[2].offset = 0;
	memset(big, 'x', AI_MANIFEST_MAX_STRING + 1);
	big[AI_MANIFEST_MAX_STRING + 1] = '\0';
	free(s.source);
	s.source = big;
	cr_assert_eq(ai_segment_encode(&s, &b), AI_ERR_BAD_INPUT);
	big[AI_MANIFEST_MAX_STRING] = '\0';
	cr_assert_eq(ai_segment_encode(&s, &b), AI_OK, "exactly the maximum is fine");
	ai_buf_release(&b);
	ai_segment_release(&s);
}

Test(manifest, encoder_reports_the_buffer_cap)
{
	struct ai_segment s;
	struct ai_buf b;

	make_segment(&s, 50, 0);
	ai_buf_init(&b, 100);
	cr_assert_eq(ai_segment_encode(&s, &b), AI_ERR_TOO_BIG);
	cr_assert_eq(b.len, 0);
	ai_buf_release(&b);
	ai_segment_release(&s);
}

Test(manifest, unknown_keys_and_extra_member_fields_are_accepted)
{
	struct ai_segment s, d;
	struct bend b = no_bend();
	struct w w = { 0 };
	char why[128] = "";

	make_segment(&s, 5, 1);
	b.extra_key = 1;
	b.nfields = 23;
	w_segment(&w, &s, &b);
	cr_assert_eq(ai_segment_decode(w.p, w.n, &d, why, sizeof why), AI_OK, "%s", why);
	assert_segments_equal(&s, &d);
	free(w.p);
	ai_segment_release(&s);
	ai_segment_release(&d);
}

/* The independent writer above gives a member 20 fields unless it has a
 * "replaces", so earlier segments keep their bytes; here the field itself. */
Test(manifest, replaces_round_trips_and_is_bounded)
{
	struct ai_segment s, d;
	struct ai_buf b;
	char why[128] = "";

	make_segment(&s, 1, 0);
	snprintf(s.members[0].replaces, sizeof s.members[0].replaces, "0x8DC0");
	encode(&s, &b);
	cr_assert_eq(ai_segment_decode(b.data, b.len, &d, why, sizeof why), AI_OK, "%s", why);
	cr_assert_str_eq(d.members[0].replaces, "0x8DC0");
	ai_buf_release(&b);
	ai_segment_release(&d);
	memset(s.members[0].replaces, 'x', sizeof s.members[0].replaces);
	ai_buf_init(&b, 1 << 20);
	cr_assert_eq(ai_segment_encode(&s, &b), AI_ERR_BAD_INPUT, "an unterminated replaces");
	ai_buf_release(&b);
	ai_segment_release(&s);
}

Test(manifest, decoder_refuses_other_formats_and_versions)
{
	struct ai_segment s;
	struct bend b = no_bend();

	make_segment(&s, 2, 0);
	b.format = "aiarchive-state";
	expect_bad_bent(&s, &b, "format is not aiarchive-segment");
	b.format = NULL;
	b.version = 2;
	expect_bad_bent(&s, &b, "version 2 is newer");
	b.version = 0;
	b.drop_key = "format";
	expect_bad_bent(&s, &b, "missing 'format'");
	b.drop_key = "version";
	expect_bad_bent(&s, &b, "missing 'version'");
	ai_segment_release(&s);
}

Test(manifest, decoder_refuses_missing_fields)
{
	static const char *const keys[] = {
		"seq", "prev", "run", "created", "key_id", "tags", "source", "layout", "packs",
		"members",
	};
	struct ai_segment s;
	struct bend b = no_bend();
	char want[64];

	make_segment(&s, 2, 0);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		b.drop_key = keys[i];
		snprintf(want, sizeof want, "missing '%s'", keys[i]);
		expect_bad_bent(&s, &b, want);
	}
	b.drop_key = NULL;
	b.nfields = 19;
	expect_bad_bent(&s, &b, "member 0: 19 fields, need 20");
	ai_segment_release(&s);
}

Test(manifest, decoder_refuses_wrong_member_field_types)
{
	static const struct {
		int field;
		uint8_t raw[4];
		size_t len;
		char want[48];
	} cases[] = {
		{ 0, { 0x01 }, 1, "member 0: blob: not a string" },
		{ 1, { 0xc4, 0x00 }, 2, "member 0: etag: not a string" },
		{ 2, { 0xa1, '1' }, 2, "member 0: last_modified: not an integer" },
		{ 3, { 0xff }, 1, "member 0: range_start: not an unsigned" },
		{ 8, { 0xc0 }, 1, "member 0: pack: not an unsigned" },
		{ 12, { 0xc4, 0x01, 0x00 }, 3, "member 0: sha256: not 32 bytes" },
		{ 12, { 0xa0 }, 1, "member 0: sha256: not binary" },
		{ 15, { 0x01 }, 1, "member 0: has_time: not a boolean" },
		{ 16, { 0xca, 0, 0, 0 }, 4, "member 0: min_event: not an integer" },
		{ 18, { 0x91, 0x01 }, 2, "member 0: roles: not a string" },
		{ 18, { 0xa0 }, 1, "member 0: roles: not an array" },
		{ 19, { 0xa0 }, 1, "member 0: bloom: not binary" },
		{ 0, { 0xa2, 'a', 0 }, 3, "member 0: blob: contains a NUL byte" },
	};
	struct ai_segment s;
	struct bend b = no_bend();

	make_segment(&s, 1, 0);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		b.field = cases[i].field;
		memset(b.raw, 0, sizeof b.raw);
		memcpy(b.raw, cases[i].raw, cases[i].len);
		b.rawlen = cases[i].len;
		if (cases[i].raw[0] == 0xca)
			b.rawlen = 5; /* a float32 */
		expect_bad_bent(&s, &b, cases[i].want);
	}
	ai_segment_release(&s);
}

Test(manifest, decoder_refuses_wrong_top_level_types)
{
	static const uint8_t not_map[] = { 0x92, 0x01, 0x02 };
	static const uint8_t int_key[] = { 0x81, 0x01, 0x02 };
	static const uint8_t dup[] = { 0x82, 0xa6, 'f', 'o', 'r', 'm', 'a', 't', 0xa0,
	                               0xa6, 'f', 'o', 'r', 'm', 'a', 't', 0xa0 };
	static const uint8_t trailing[] = { 0x80, 0xc0 };
	static const uint8_t reserved[] = { 0x91, 0xc1 };

	expect_bad(not_map, sizeof not_map, "not a map");
	expect_bad(int_key, sizeof int_key, "key 0: not a string");
	expect_bad(dup, sizeof dup, "duplicate key 'format'");
	expect_bad(trailing, sizeof trailing, "1 bytes after the object");
	expect_bad(reserved, sizeof reserved, "invalid byte 0xc1");
	expect_bad("", 0, "truncated");
}

Test(manifest, decoder_refuses_inconsistent_members)
{
	struct ai_segment s;
	struct ai_member *m;

	make_segment(&s, 3, 0);
	m = &s.members[2];
	m->pack = 9;
	expect_bad_bent(&s, NULL, "member 2: pack index 9 out of range");
	m->pack = 1;
	m->range_start = m->range_end + 1;
	expect_bad_bent(&s, NULL, "member 2: range start");
	m->range_start = 0;
	m->has_time = 1;
	m->min_event = m->max_event + 1;
	expect_bad_bent(&s, NULL, "member 2: min_event after max_event");
	m->min_event = m->max_event;
	m->offset = s.packs[1].size;
	expect_bad_bent(&s, NULL, "past the end of pack 1");
	ai_segment_release(&s);
}

Test(manifest, decoder_enforces_limits)
{
	struct ai_segment s;
	struct ai_member *m;
	char *big = malloc(AI_MANIFEST_MAX_STRING + 2);
	char *many[AI_MEMBER_MAX_ROLES + 1];
	uint8_t *bloom = calloc(1, AI_BLOOM_MAX_BYTES + 1);
	struct w w = { 0 };
	size_t n = AI_MANIFEST_MAX_MEMBERS + 1;

	make_segment(&s, 1, 0);
	m = &s.members[0];
	memset(big, 'y', AI_MANIFEST_MAX_STRING + 1);
	big[AI_MANIFEST_MAX_STRING + 1] = '\0';
	free(m->blob);
	m->blob = big;
	expect_bad_bent(&s, NULL, "member 0: blob: too long");
	m->blob = NULL;
	free(big);
	for (int i = 0; i <= AI_MEMBER_MAX_ROLES; i++)
		many[i] = S("r");
	for (size_t i = 0; i < m->nroles; i++)
		free(m->roles[i]);
	free(m->roles);
	m->roles = many;
	m->nroles = AI_MEMBER_MAX_ROLES + 1;
	expect_bad_bent(&s, NULL, "member 0: roles: too many");
	m->roles = NULL;
	m->nroles = 0;
	free(m->bloom);
	m->bloom = bloom;
	m->bloom_len = AI_BLOOM_MAX_BYTES + 1;
	expect_bad_bent(&s, NULL, "member 0: bloom: too large");
	m->bloom_len = AI_BLOOM_MAX_BYTES;
	w_segment(&w, &s, NULL);
	free(w.p);
	m->bloom = NULL;
	m->bloom_len = 0;
	free(bloom);
	ai_segment_release(&s);

	/* One more member than allowed, each a nil to keep the input small. */
	memset(&w, 0, sizeof w);
	ai_segment_init(&s);
	s.run_id = strdup("r");
	w_segment(&w, &s, NULL);
	cr_assert_eq(w.p[w.n - 1], 0x90, "members is the last, empty array");
	w.n--;
	w_array(&w, n);
	for (size_t i = 0; i < n; i++)
		w_byte(&w, 0xc0);
	expect_bad(w.p, w.n, "too many members");
	free(w.p);
	ai_segment_release(&s);
}

Test(manifest, decoder_refuses_oversized_container_headers_cheaply)
{
	/* A map claiming 2^32-1 entries in 5 bytes must not allocate for them. */
	static const uint8_t huge_map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t huge_arr[] = { 0x81, 0xa1, 'x', 0xdd, 0xff, 0xff, 0xff, 0xff,
	                                    0xc0 };
	static const uint8_t huge_str[] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a' };
	uint8_t deep[64];

	expect_bad(huge_map, sizeof huge_map, "larger than the input");
	expect_bad(huge_arr, sizeof huge_arr, "larger than the input");
	expect_bad(huge_str, sizeof huge_str, "truncated");
	memset(deep, 0x91, sizeof deep);
	deep[sizeof deep - 1] = 0xc0;
	expect_bad(deep, sizeof deep, "nested too deeply");
}

Test(manifest, truncation_at_every_length_fails_cleanly)
{
	struct ai_segment s;
	struct ai_buf b;

	make_segment(&s, 2, 5);
	encode(&s, &b);
	for (size_t n = 0; n < b.len; n++) {
		struct ai_segment d;
		char why[128] = "";
		/* A copy of exactly n bytes lets ASan catch reads past the end. */
		char *p = malloc(n ? n : 1);

		memcpy(p, b.data, n);
		cr_assert_eq(ai_segment_decode(p, n, &d, why, sizeof why), AI_ERR_BAD_INPUT,
		             "length %zu", n);
		cr_assert_neq(why[0], '\0', "length %zu gave no reason", n);
		free(p);
	}
	ai_buf_release(&b);
	ai_segment_release(&s);
}

Test(manifest, byte_flips_decode_or_fail_cleanly)
{
	struct ai_segment s;
	struct ai_buf b;
	size_t ok = 0, refused = 0;
	uint32_t rng = 12345;

	make_segment(&s, 2, 5);
	encode(&s, &b);
	for (size_t i = 0; i < b.len; i++) {
		for (int k = 0; k < 12; k++) {
			struct ai_segment d;
			struct ai_buf again;
			char *p = malloc(b.len);
			ai_result r;

			memcpy(p, b.data, b.len);
			if (k < 8) {
				p[i] = (char)(p[i] ^ (1 << k));
			} else {
				rng = rng * 1103515245 + 12345;
				p[i] = (char)(rng >> 16);
			}
			r = ai_segment_decode(p, b.len, &d, NULL, 0);
			if (r == AI_OK) {
				/* What decodes is a valid segment that encodes again. */
				ai_buf_init(&again, 1 << 20);
				cr_assert_eq(ai_segment_encode(&d, &again), AI_OK, "byte %zu", i);
				ai_buf_release(&again);
				ai_segment_release(&d);
				ok++;
			} else {
				cr_assert_eq(r, AI_ERR_BAD_INPUT, "byte %zu: %d", i, r);
				refused++;
			}
			free(p);
		}
	}
	cr_assert_gt(ok, 0);
	cr_assert_gt(refused, 0);
	ai_buf_release(&b);
	ai_segment_release(&s);
}

/* ---- state ---- */

static struct ai_member tm(const char *app, ai_time dh, int has_time, ai_time lo, ai_time hi)
{
	struct ai_member m;

	memset(&m, 0, sizeof m);
	m.blob = S("b");
	m.app = S(app);
	m.type = S("Requests");
	m.delivery_hour = dh;
	m.rows = 3;
	m.has_time = has_time;
	m.min_event = lo;
	m.max_event = hi;
	return m;
}

/* Builds segment st->next_seq from members and folds it into st. */
static void add(struct ai_state *st, const struct ai_member *m, size_t n)
{
	struct ai_pack_ref p = { .name = S("p"), .size = 1 };
	struct ai_segment s;
	uint8_t sha[AI_SHA256_LEN];
	uint32_t idx;

	ai_segment_init(&s);
	s.seq = st->next_seq;
	memcpy(s.prev, st->head_sha256, AI_SHA256_LEN);
	cr_assert_eq(ai_segment_add_pack(&s, &p, &idx), AI_OK);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ai_segment_add_member(&s, &m[i]), AI_OK);
	memset(sha, (int)(s.seq + 1), sizeof sha);
	cr_assert_eq(ai_state_add_segment(st, &s, sha), AI_OK);
	ai_segment_release(&s);
}

static void expect_seqs(const struct ai_state *st, int by_event, ai_time from, ai_time to,
                        const uint64_t *want, size_t nwant)
{
	uint64_t *v = NULL;
	size_t n = 99;

	if (by_event)
		cr_assert_eq(ai_state_segments_by_event(st, from, to, &v, &n), AI_OK);
	else
		cr_assert_eq(ai_state_segments_by_delivery(st, from, to, &v, &n), AI_OK);
	cr_assert_eq(n, nwant, "%s [%lld, %lld): %zu segments, want %zu",
	             by_event ? "event" : "delivery", (long long)(from - T0),
	             (long long)(to - T0), n, nwant);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(v[i], want[i], "segment %zu: %llu, want %llu", i,
		             (unsigned long long)v[i], (unsigned long long)want[i]);
	free(v);
}

#define SEQS(...) ((const uint64_t[]){ __VA_ARGS__ }), \
	sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t)
#define NONE NULL, 0

Test(manifest, state_takes_segments_only_in_chain_order)
{
	struct ai_state st;
	struct ai_segment s;
	struct ai_member m = tm("a", T0, 0, 0, 0);
	struct ai_pack_ref p = { .name = S("p"), .size = 1 };
	uint8_t sha[AI_SHA256_LEN] = { 1 };
	uint32_t idx;

	ai_state_init(&st);
	ai_segment_init(&s);
	cr_assert_eq(ai_segment_add_pack(&s, &p, &idx), AI_OK);
	cr_assert_eq(ai_segment_add_member(&s, &m), AI_OK);
	s.seq = 1;
	cr_assert_eq(ai_state_add_segment(&st, &s, sha), AI_ERR_BAD_INPUT);
	s.seq = 0;
	s.prev[0] = 9;
	cr_assert_eq(ai_state_add_segment(&st, &s, sha), AI_ERR_VERIFY);
	cr_assert_eq(st.next_seq, 0);
	cr_assert_eq(st.nparts, 0, "a refused segment changes nothing");
	s.prev[0] = 0;
	cr_assert_eq(ai_state_add_segment(&st, &s, sha), AI_OK);
	cr_assert_eq(st.next_seq, 1);
	cr_assert_arr_eq(st.head_sha256, sha, AI_SHA256_LEN);
	cr_assert_eq(ai_state_add_segment(&st, &s, sha), AI_ERR_BAD_INPUT, "seq 0 again");
	s.seq = 1;
	cr_assert_eq(ai_state_add_segment(&st, &s, sha), AI_ERR_VERIFY, "prev not the head");
	memcpy(s.prev, sha, AI_SHA256_LEN);
	cr_assert_eq(ai_state_add_segment(&st, &s, sha), AI_OK);
	cr_assert_eq(st.next_seq, 2);
	ai_segment_release(&s);
	ai_state_release(&st);
}

Test(manifest, delivery_index_respects_hour_boundaries)
{
	struct ai_state st;
	struct ai_member m0 = tm("a", T0 + 13 * H, 0, 0, 0);
	struct ai_member m1[] = { tm("a", T0 + 14 * H, 0, 0, 0), tm("b", T0 + 13 * H, 0, 0, 0) };
	struct ai_member m2 = tm("a", T0 + 16 * H + 5 * MIN, 0, 0, 0); /* odd hour value */

	ai_state_init(&st);
	add(&st, &m0, 1);
	add(&st, m1, 2);
	add(&st, &m2, 1);
	cr_assert_eq(st.nby_delivery, 3);
	expect_seqs(&st, 0, T0 + 13 * H, T0 + 14 * H, SEQS(0, 1));
	expect_seqs(&st, 0, T0 + 13 * H - 1, T0 + 13 * H, NONE);
	expect_seqs(&st, 0, T0 + 12 * H, T0 + 13 * H + 1, SEQS(0, 1));
	expect_seqs(&st, 0, T0 + 13 * H + 59 * MIN, T0 + 14 * H, SEQS(0, 1));
	expect_seqs(&st, 0, T0 + 14 * H, T0 + 15 * H, SEQS(1));
	expect_seqs(&st, 0, T0 + 14 * H + 1, T0 + 14 * H + 2, SEQS(1));
	expect_seqs(&st, 0, T0 + 15 * H, T0 + 16 * H, NONE);
	expect_seqs(&st, 0, T0 + 16 * H + 30 * MIN, T0 + 17 * H, SEQS(2));
	expect_seqs(&st, 0, AI_TIME_MIN, AI_TIME_MAX, SEQS(0, 1, 2));
	expect_seqs(&st, 0, T0 + 14 * H, T0 + 14 * H, NONE);
	expect_seqs(&st, 0, T0 + 15 * H, T0 + 14 * H, NONE);
	/* Partitions: the recovery point is the run's to set (a segment
	 * does not say what failed), so folding leaves it unknown. */
	cr_assert_eq(st.nparts, 2);
	cr_assert_str_eq(st.parts[0].app, "a");
	cr_assert_eq(st.parts[0].archived_through, 0);
	cr_assert_eq(st.parts[0].members, 3);
	cr_assert_eq(st.parts[0].rows, 9);
	cr_assert_str_eq(st.parts[1].app, "b");
	cr_assert_eq(st.parts[1].archived_through, 0);
	cr_assert_eq(st.parts[1].last_event, 0, "no event time seen");
	ai_state_release(&st);
}

Test(manifest, event_index_covers_each_hour_a_member_spans)
{
	struct ai_state st;
	/* Events 10:10..12:05, delivered at 13: buckets 10, 11, 12. */
	struct ai_member a = tm("a", T0 + 13 * H, 1, T0 + 10 * H + 10 * MIN,
	                        T0 + 12 * H + 5 * MIN);
	/* Exactly one bucket, on its first and last nanosecond. */
	struct ai_member b = tm("a", T0 + 14 * H, 1, T0 + 14 * H, T0 + 15 * H - 1);
	/* No event times: found by delivery, never by event time. */
	struct ai_member c = tm("a", T0 + 15 * H, 0, 0, 0);

	ai_state_init(&st);
	add(&st, &a, 1);
	add(&st, &b, 1);
	add(&st, &c, 1);
	cr_assert_eq(st.nby_event, 4);
	expect_seqs(&st, 1, T0 + 9 * H, T0 + 10 * H, NONE);
	expect_seqs(&st, 1, T0 + 9 * H, T0 + 10 * H + 1, SEQS(0));
	expect_seqs(&st, 1, T0 + 11 * H + 30 * MIN, T0 + 11 * H + 31 * MIN, SEQS(0));
	expect_seqs(&st, 1, T0 + 12 * H + 59 * MIN, T0 + 14 * H, SEQS(0));
	expect_seqs(&st, 1, T0 + 13 * H, T0 + 14 * H, NONE);
	expect_seqs(&st, 1, T0 + 13 * H, T0 + 14 * H + 1, SEQS(1));
	expect_seqs(&st, 1, T0 + 15 * H - 1, T0 + 15 * H, SEQS(1));
	expect_seqs(&st, 1, T0 + 15 * H, AI_TIME_MAX, NONE);
	expect_seqs(&st, 1, AI_TIME_MIN, AI_TIME_MAX, SEQS(0, 1));
	expect_seqs(&st, 0, AI_TIME_MIN, AI_TIME_MAX, SEQS(0, 1, 2));
	cr_assert_eq(st.parts[0].last_event, T0 + 15 * H - 1);
	ai_state_release(&st);
}

Test(manifest, members_spanning_many_hours_go_to_wide)
{
	struct ai_state st;
	struct ai_member limit = tm("a", T0 + 80 * H, 1, T0, T0 + 72 * H - 1); /* 72 hours */
	struct ai_member over = tm("a", T0 + 80 * H, 1, T0, T0 + 72 * H);      /* 73 hours */
	struct ai_member plain = tm("a", T0 + 80 * H, 1, T0 + 80 * H, T0 + 80 * H);

	ai_state_init(&st);
	add(&st, &limit, 1);
	add(&st, &over, 1);
	add(&st, &plain, 1);
	cr_assert_eq(st.nwide, 1);
	cr_assert_eq(st.wide_seqs[0], 1);
	cr_assert_eq(st.nby_event, 73, "72 listed hours plus the plain one");
	expect_seqs(&st, 1, T0 + 71 * H, T0 + 72 * H, SEQS(0, 1));
	expect_seqs(&st, 1, T0 + 72 * H, T0 + 73 * H, SEQS(1));
	expect_seqs(&st, 1, T0 - 1000 * H, T0 - 999 * H, SEQS(1));
	expect_seqs(&st, 1, T0 + 80 * H, T0 + 81 * H, SEQS(1, 2));
	expect_seqs(&st, 1, T0, T0, NONE);
	ai_state_release(&st);
}

Test(manifest, max_lag_is_the_largest_delivery_delay)
{
	struct ai_state st;
	/* Delivered in hour 13 (so by 14:00), oldest event 08:30: 5.5 hours. */
	struct ai_member a = tm("a", T0 + 13 * H, 1, T0 + 8 * H + 30 * MIN, T0 + 13 * H);
	struct ai_member b = tm("a", T0 + 20 * H, 1, T0 + 19 * H, T0 + 20 * H);
	/* Event times after delivery (clock skew) never make it negative. */
	struct ai_member c = tm("b", T0 + 20 * H, 1, T0 + 23 * H, T0 + 23 * H);

	ai_state_init(&st);
	add(&st, &c, 1);
	cr_assert_eq(st.max_lag, 0);
	add(&st, &a, 1);
	cr_assert_eq(st.max_lag, 5 * H + 30 * MIN);
	add(&st, &b, 1);
	cr_assert_eq(st.max_lag, 5 * H + 30 * MIN);
	ai_state_release(&st);
}

Test(manifest, hostile_times_do_not_overflow)
{
	struct ai_state st;
	struct ai_member m[] = {
		tm("a", AI_TIME_MAX, 1, AI_TIME_MIN, AI_TIME_MAX),
		tm("a", AI_TIME_MIN, 1, AI_TIME_MAX, AI_TIME_MAX),
		tm("a", AI_TIME_MIN, 1, AI_TIME_MIN, AI_TIME_MIN),
	};

	ai_state_init(&st);
	add(&st, m, 3);
	cr_assert_eq(st.nwide, 1);
	cr_assert_geq(st.max_lag, 0);
	expect_seqs(&st, 1, AI_TIME_MIN, AI_TIME_MAX, SEQS(0));
	ai_state_release(&st);
}

static void state_round_trip(const struct ai_state *st, struct ai_state *d)
{
	struct ai_buf b1, b2;
	char why[128] = "";

	ai_buf_init(&b1, 1 << 28);
	ai_buf_init(&b2, 1 << 28);
	cr_assert_eq(ai_state_encode(st, &b1), AI_OK);
	cr_assert_eq(ai_state_decode(b1.data, b1.len, d, why, sizeof why), AI_OK, "%s", why);
	cr_assert_eq(ai_state_encode(d, &b2), AI_OK);
	cr_assert_eq(b1.len, b2.len);
	cr_assert_arr_eq(b1.data, b2.data, b1.len);
	ai_buf_release(&b1);
	ai_buf_release(&b2);
}

Test(manifest, state_round_trips_and_keeps_answering)
{
	struct ai_state st, d;
	struct ai_member m[3];

	ai_state_init(&st);
	for (int i = 0; i < 50; i++) {
		m[0] = tm("app1", T0 + i * H, 1, T0 + i * H - 2 * H, T0 + i * H);
		m[1] = tm("app2", T0 + i * H, i % 7 != 0,
		          i % 10 == 3 ? T0 - 100 * H : T0 + i * H - H, T0 + i * H);
		m[2] = tm("app1", T0 + (i + 1) * H, 0, 0, 0);
		m[2].type = S("Exceptions");
		add(&st, m, 3);
	}
	st.updated = T0 + 60 * H;
	st.watermark = T0 + 50 * H;
	st.last_run_id = strdup("run-9");
	st.last_run_time = T0 + 59 * H;
	st.last_run_result = strdup("partial");
	st.source = strdup("https://acct.blob.core.windows.net/insights");
	state_round_trip(&st, &d);
	cr_assert_eq(d.next_seq, 50);
	cr_assert_arr_eq(d.head_sha256, st.head_sha256, AI_SHA256_LEN);
	cr_assert_eq(d.watermark, st.watermark);
	cr_assert_eq(d.max_lag, st.max_lag);
	cr_assert_str_eq(d.last_run_result, "partial");
	cr_assert_eq(d.nparts, 3);
	cr_assert_eq(d.nwide, st.nwide);
	for (int i = 0; i < 3; i++) {
		cr_assert_str_eq(d.parts[i].app, st.parts[i].app);
		cr_assert_str_eq(d.parts[i].type, st.parts[i].type);
		cr_assert_eq(d.parts[i].members, st.parts[i].members);
		cr_assert_eq(d.parts[i].archived_through, st.parts[i].archived_through);
	}
	expect_seqs(&d, 0, T0 + 10 * H, T0 + 12 * H, SEQS(9, 10, 11));
	/* A decoded state keeps growing. */
	m[0] = tm("app0", T0 + 5 * H, 1, T0 - 500 * H, T0 - 500 * H);
	add(&d, m, 1);
	cr_assert_str_eq(d.parts[0].app, "app0");
	cr_assert_eq(d.nwide, 5);
	expect_seqs(&d, 1, T0 - 500 * H, T0 - 499 * H, SEQS(3, 13, 23, 33, 43, 50));
	expect_seqs(&d, 1, T0 + 20 * H, T0 + 21 * H, SEQS(3, 13, 20, 21, 22, 23, 33, 43));
	ai_state_release(&d);

	ai_state_release(&st);
	ai_state_init(&st);
	state_round_trip(&st, &d);
	cr_assert_eq(d.next_seq, 0);
	cr_assert_str_eq(d.last_run_id, "", "an absent string is written as empty");
	ai_state_release(&d);
}

static void expect_state_bad(const struct ai_state *st, const char *want)
{
	struct ai_state d;
	struct ai_buf b;
	char why[128] = "";

	ai_buf_init(&b, 1 << 24);
	cr_assert_eq(ai_state_encode(st, &b), AI_OK);
	cr_assert_eq(ai_state_decode(b.data, b.len, &d, why, sizeof why), AI_ERR_BAD_INPUT,
	             "decoded although expecting '%s'", want);
	cr_assert(strstr(why, want), "reason '%s' lacks '%s'", why, want);
	cr_assert_eq(d.nparts, 0);
	ai_buf_release(&b);
}

Test(manifest, state_decoder_refuses_inconsistent_indexes)
{
	struct ai_state st;
	struct ai_member m[] = { tm("a", T0, 1, T0, T0 + H), tm("b", T0 + H, 1, T0, T0 + 100 * H) };
	struct ai_hour_entry e;
	struct ai_partition_state p;
	struct ai_segment s;
	struct ai_buf b;

	ai_state_init(&st);
	add(&st, m, 2);
	add(&st, m, 1);
	st.next_seq = 1;
	expect_state_bad(&st, "segment past next_seq");
	st.next_seq = 2;
	e = st.by_event[0];
	st.by_event[0] = st.by_event[1];
	st.by_event[1] = e;
	expect_state_bad(&st, "by_event entry 1: hours not strictly ascending");
	st.by_event[1] = st.by_event[0];
	st.by_event[0] = e;
	st.by_delivery[0].hour += 1;
	expect_state_bad(&st, "by_delivery entry 0: hour not on an hour boundary");
	st.by_delivery[0].hour -= 1;
	p = st.parts[0];
	st.parts[0] = st.parts[1];
	st.parts[1] = p;
	expect_state_bad(&st, "part 1: not in strictly ascending order");
	st.parts[1] = st.parts[0];
	st.parts[0] = p;
	st.max_lag = -1;
	expect_state_bad(&st, "max_lag: negative");
	st.max_lag = 0;

	/* A segment is not a state, nor the other way round. */
	make_segment(&s, 1, 0);
	encode(&s, &b);
	{
		struct ai_state d;
		struct ai_segment ds;
		char why[128] = "";
		struct ai_buf sb;

		cr_assert_eq(ai_state_decode(b.data, b.len, &d, why, sizeof why), AI_ERR_BAD_INPUT);
		cr_assert_str_eq(why, "format is not aiarchive-state");
		ai_buf_init(&sb, 1 << 20);
		cr_assert_eq(ai_state_encode(&st, &sb), AI_OK);
		cr_assert_eq(ai_segment_decode(sb.data, sb.len, &ds, why, sizeof why),
		             AI_ERR_BAD_INPUT);
		cr_assert_str_eq(why, "format is not aiarchive-segment");
		for (size_t n = 0; n < sb.len; n++)
			cr_assert_eq(ai_state_decode(sb.data, n, &d, NULL, 0), AI_ERR_BAD_INPUT);
		ai_buf_release(&sb);
	}
	ai_buf_release(&b);
	ai_segment_release(&s);
	ai_state_release(&st);
}

Test(manifest, queries_stay_fast_over_ten_years_of_hours)
{
	struct ai_state st;
	uint64_t *v = NULL;
	size_t n = 0;

	ai_state_init(&st);
	/* One segment per day, each with 24 delivery hours. */
	for (int day = 0; day < 3650; day++) {
		struct ai_member ms[24];

		for (int h = 0; h < 24; h++) {
			ai_time dh = T0 + (day * 24 + h) * H;

			ms[h] = tm("a", dh, 1, dh - H, dh);
		}
		add(&st, ms, 24);
	}
	cr_assert_eq(st.nby_delivery, 3650 * 24);
	for (int i = 0; i < 10000; i++) {
		ai_time t = T0 + (i * 7 % (3650 * 24)) * H;

		cr_assert_eq(ai_state_segments_by_event(&st, t, t + 2 * H, &v, &n), AI_OK);
		cr_assert_geq(n, 1);
		free(v);
	}
	expect_seqs(&st, 0, T0 + 24 * H, T0 + 48 * H, SEQS(1));
	ai_state_release(&st);
}

/* ---- segment indexes ---- */

Test(segindex, built_from_a_segment_lists_its_names_and_filters_its_ids)
{
	struct ai_segment s;
	struct ai_segment_index x, y;
	struct ai_idset ids;
	uint8_t sha[AI_SHA256_LEN], *filter;
	size_t filter_len;
	struct ai_buf b;
	char why[256];

	make_segment(&s, 10, 7);
	memset(sha, 0xab, sizeof sha);
	ai_idset_init(&ids, 1000);
	ai_idset_add(&ids, ai_bloom_hash("op-1", 4));
	ai_idset_add(&ids, ai_bloom_hash("op-2", 4));
	cr_assert_eq(ai_idset_filter(&ids, AI_SEGINDEX_MAX_BLOOM, &filter, &filter_len), AI_OK);
	cr_assert_eq(ai_segment_index_build(&s, sha, filter, filter_len, &x), AI_OK);
	free(filter);
	cr_assert_eq(x.seq, 7);
	cr_assert_eq(x.members, 10);
	cr_assert_eq(x.napps, 5, "app0..app2 and the apps members 2 and 7 carry");
	cr_assert_str_eq(x.apps[0], "app0");
	cr_assert_str_eq(x.apps[2], "app2");
	cr_assert_eq(x.ntypes, 2);
	cr_assert_str_eq(x.types[0], "Exceptions");
	cr_assert_eq(x.nroles, 2);
	cr_assert(x.roles_complete);
	cr_assert(ai_bloom_maybe(x.bloom, x.bloom_len, "op-1", 4));
	cr_assert(ai_bloom_maybe(x.bloom, x.bloom_len, "op-2", 4));

	ai_buf_init(&b, 1 << 20);
	cr_assert_eq(ai_segment_index_encode(&x, &b), AI_OK);
	cr_assert_eq(ai_segment_index_decode(b.data, b.len, &y, why, sizeof why), AI_OK, "%s", why);
	cr_assert_eq(y.seq, 7);
	cr_assert_eq(memcmp(y.segment_sha256, sha, sizeof sha), 0);
	cr_assert_eq(y.napps, 5);
	cr_assert_str_eq(y.roles[1], "worker-1");
	cr_assert_eq(y.bloom_len, x.bloom_len);
	cr_assert_eq(memcmp(y.bloom, x.bloom, x.bloom_len), 0);

	/* Not a segment, and names out of order, are refused. */
	{
		struct ai_segment other;
		cr_assert_eq(ai_segment_decode(b.data, b.len, &other, why, sizeof why),
		             AI_ERR_BAD_INPUT);
	}
	ai_segment_index_release(&y);
	char *tmp = x.apps[0];
	x.apps[0] = x.apps[1];
	x.apps[1] = tmp;
	ai_buf_reset(&b);
	cr_assert_eq(ai_segment_index_encode(&x, &b), AI_OK);
	cr_assert_eq(ai_segment_index_decode(b.data, b.len, &y, why, sizeof why), AI_ERR_BAD_INPUT);
	cr_assert(strstr(why, "apps: not strictly ascending"), "%s", why);

	ai_buf_release(&b);
	ai_segment_index_release(&x);
	ai_idset_release(&ids);
	ai_segment_release(&s);
}

Test(segindex, unknown_ids_or_capped_roles_make_it_match_anything)
{
	static char r[AI_MEMBER_MAX_ROLES][8];
	static char *many[AI_MEMBER_MAX_ROLES];
	struct ai_segment s;
	struct ai_segment_index x;
	struct ai_member m;
	uint8_t sha[AI_SHA256_LEN] = { 0 };

	make_segment(&s, 3, 0);
	cr_assert_eq(ai_segment_index_build(&s, sha, NULL, 0, &x), AI_OK);
	cr_assert_eq(x.bloom_len, 0, "no ids given: no filter");
	cr_assert(x.roles_complete);
	ai_segment_index_release(&x);

	for (int i = 0; i < AI_MEMBER_MAX_ROLES; i++) {
		snprintf(r[i], sizeof r[i], "r%02d", i);
		many[i] = r[i];
	}
	fill_member(&m, 3, 0);
	m.roles = many;
	m.nroles = AI_MEMBER_MAX_ROLES;
	cr_assert_eq(ai_segment_add_member(&s, &m), AI_OK);
	cr_assert_eq(ai_segment_index_build(&s, sha, NULL, 0, &x), AI_OK);
	cr_assert(!x.roles_complete, "a member at the role cap may hold more");
	ai_segment_index_release(&x);
	ai_segment_release(&s);
}

/* ---- the genesis and key rotations ---- */

#define ARCHIVE_ID "00112233445566778899aabbccddeeff"

static void make_key(struct ai_minisign_pubkey *pk, char id[AI_MINISIGN_KEYID_HEXLEN], int seed)
{
	for (size_t i = 0; i < sizeof pk->keyid; i++)
		pk->keyid[i] = (uint8_t)(seed + i);
	for (size_t i = 0; i < sizeof pk->pk; i++)
		pk->pk[i] = (uint8_t)(seed * 7 + i);
	ai_minisign_keyid_hex(pk->keyid, id);
}

static void make_genesis(struct ai_genesis *g)
{
	memset(g, 0, sizeof *g);
	snprintf(g->archive_id, sizeof g->archive_id, "%s", ARCHIVE_ID);
	make_key(&g->key, g->key_id, 1);
	g->created = T0 + 5;
}

static void make_rotation(struct ai_key_rotation *k)
{
	struct ai_minisign_pubkey old;

	memset(k, 0, sizeof *k);
	snprintf(k->archive_id, sizeof k->archive_id, "%s", ARCHIVE_ID);
	k->seq = 1;
	make_key(&old, k->old_key_id, 1);
	make_key(&k->new_key, k->new_key_id, 2);
	k->created = T0 + 6;
}

/* The documented wire format, written by the independent writer. */
static void w_genesis(struct w *w, const struct ai_genesis *g, const char *key_id)
{
	char b64[AI_MINISIGN_PUBKEY_B64LEN];

	ai_minisign_pubkey_b64(&g->key, b64);
	w_map(w, 6);
	w_str(w, "format");
	w_str(w, "aiarchive-genesis");
	w_str(w, "version");
	w_uint(w, 1);
	w_str(w, "archive_id");
	w_str(w, g->archive_id);
	w_str(w, "key_id");
	w_str(w, key_id);
	w_str(w, "public_key");
	w_str(w, b64);
	w_str(w, "created");
	w_int(w, g->created);
}

static void w_rotation(struct w *w, const struct ai_key_rotation *k, uint64_t seq)
{
	char b64[AI_MINISIGN_PUBKEY_B64LEN];

	ai_minisign_pubkey_b64(&k->new_key, b64);
	w_map(w, 8);
	w_str(w, "format");
	w_str(w, "aiarchive-key-rotation");
	w_str(w, "version");
	w_uint(w, 1);
	w_str(w, "archive_id");
	w_str(w, k->archive_id);
	w_str(w, "seq");
	w_uint(w, seq);
	w_str(w, "old_key_id");
	w_str(w, k->old_key_id);
	w_str(w, "new_key_id");
	w_str(w, k->new_key_id);
	w_str(w, "public_key");
	w_str(w, b64);
	w_str(w, "created");
	w_int(w, k->created);
}

Test(identity, genesis_encodes_as_documented_and_round_trips)
{
	struct ai_genesis g, d;
	struct ai_buf b;
	struct w w = { 0 };
	char why[128];

	make_genesis(&g);
	ai_buf_init(&b, 4096);
	cr_assert_eq(ai_genesis_encode(&g, &b), AI_OK);
	w_genesis(&w, &g, g.key_id);
	cr_assert_eq(b.len, w.n);
	cr_assert(memcmp(b.data, w.p, w.n) == 0, "the bytes the header comment describes");
	cr_assert_eq(ai_genesis_decode(b.data, b.len, &d, why, sizeof why), AI_OK, "%s", why);
	cr_assert_str_eq(d.archive_id, ARCHIVE_ID);
	cr_assert_str_eq(d.key_id, g.key_id);
	cr_assert(memcmp(&d.key, &g.key, sizeof g.key) == 0);
	cr_assert_eq(d.created, g.created);
	free(w.p);
	ai_buf_release(&b);
}

Test(identity, rotation_encodes_as_documented_and_round_trips)
{
	struct ai_key_rotation k, d;
	struct ai_buf b;
	struct w w = { 0 };
	char why[128];

	make_rotation(&k);
	k.seq = 300;
	ai_buf_init(&b, 4096);
	cr_assert_eq(ai_key_rotation_encode(&k, &b), AI_OK);
	w_rotation(&w, &k, 300);
	cr_assert_eq(b.len, w.n);
	cr_assert(memcmp(b.data, w.p, w.n) == 0);
	cr_assert_eq(ai_key_rotation_decode(b.data, b.len, &d, why, sizeof why), AI_OK, "%s", why);
	cr_assert_eq(d.seq, 300);
	cr_assert_str_eq(d.old_key_id, k.old_key_id);
	cr_assert_str_eq(d.new_key_id, k.new_key_id);
	cr_assert(memcmp(&d.new_key, &k.new_key, sizeof k.new_key) == 0);
	cr_assert_eq(d.created, k.created);
	free(w.p);
	ai_buf_release(&b);
}

Test(identity, encoders_refuse_what_the_decoders_would)
{
	struct ai_genesis g;
	struct ai_key_rotation k;
	struct ai_buf b;

	ai_buf_init(&b, 4096);
	make_genesis(&g);
	g.archive_id[0] = 'A';
	cr_assert_eq(ai_genesis_encode(&g, &b), AI_ERR_BAD_INPUT, "uppercase archive id");
	make_genesis(&g);
	g.key.keyid[0] ^= 1;
	cr_assert_eq(ai_genesis_encode(&g, &b), AI_ERR_BAD_INPUT, "a key under another id");
	make_rotation(&k);
	k.seq = 0;
	cr_assert_eq(ai_key_rotation_encode(&k, &b), AI_ERR_BAD_INPUT, "rotation 0");
	make_rotation(&k);
	memcpy(k.old_key_id, k.new_key_id, sizeof k.old_key_id);
	cr_assert_eq(ai_key_rotation_encode(&k, &b), AI_ERR_BAD_INPUT, "to the same key");
	cr_assert_eq(b.len, 0);
	ai_buf_release(&b);
}

static void expect_genesis_bad(const struct w *w, const char *want)
{
	struct ai_genesis d;
	char why[128] = "";

	cr_assert_eq(ai_genesis_decode(w->p, w->n, &d, why, sizeof why), AI_ERR_BAD_INPUT,
	             "decoded although expecting '%s'", want);
	cr_assert(strstr(why, want), "reason '%s' lacks '%s'", why, want);
	cr_assert_eq(d.archive_id[0], '\0', "nothing is left behind");
}

Test(identity, decoders_refuse_hostile_records)
{
	struct ai_genesis g;
	struct ai_key_rotation k, d;
	struct w w = { 0 };
	char why[128] = "";

	make_genesis(&g);
	w_genesis(&w, &g, "0000000000000000");
	expect_genesis_bad(&w, "public_key: has another key id");
	w.n = 0;
	w_genesis(&w, &g, "not-a-key-id-at-all");
	expect_genesis_bad(&w, "key_id: not a key or archive id");
	w.n = 0;
	w_genesis(&w, &g, "abcdefabcdefabcd");
	expect_genesis_bad(&w, "key_id: not 16 uppercase hex digits");
	w.n = 0;
	snprintf(g.archive_id, sizeof g.archive_id, "%s", "0011");
	w_genesis(&w, &g, g.key_id);
	expect_genesis_bad(&w, "archive_id: not 32 lowercase hex digits");
	w.n = 0;
	make_rotation(&k);
	w_rotation(&w, &k, 1);
	cr_assert_eq(ai_genesis_decode(w.p, w.n, &g, why, sizeof why), AI_ERR_BAD_INPUT);
	cr_assert(strstr(why, "format is not aiarchive-genesis"), "%s", why);
	w.n = 0;
	w_rotation(&w, &k, 0);
	cr_assert_eq(ai_key_rotation_decode(w.p, w.n, &d, why, sizeof why), AI_ERR_BAD_INPUT);
	cr_assert(strstr(why, "seq: 0"), "%s", why);
	free(w.p);
}

Test(identity, truncated_records_fail_cleanly)
{
	struct ai_genesis g, d;
	struct ai_key_rotation k, e;
	struct ai_buf a, b;
	char why[128];

	make_genesis(&g);
	make_rotation(&k);
	ai_buf_init(&a, 4096);
	ai_buf_init(&b, 4096);
	cr_assert_eq(ai_genesis_encode(&g, &a), AI_OK);
	cr_assert_eq(ai_key_rotation_encode(&k, &b), AI_OK);
	for (size_t n = 0; n < a.len; n++)
		cr_assert_eq(ai_genesis_decode(a.data, n, &d, why, sizeof why), AI_ERR_BAD_INPUT,
		             "length %zu", n);
	for (size_t n = 0; n < b.len; n++)
		cr_assert_eq(ai_key_rotation_decode(b.data, n, &e, why, sizeof why),
		             AI_ERR_BAD_INPUT, "length %zu", n);
	ai_buf_release(&a);
	ai_buf_release(&b);
}

/* ---- what runs remember of the source: quarantined names, tails ---- */

static int covered_hour(const void *ctx, const char *name, ai_time hour)
{
	(void)name;
	return hour == *(const ai_time *)ctx;
}

Test(manifest, state_source_lists_round_trip_and_are_left_out_when_empty)
{
	struct ai_state st, d;
	struct ai_buf b;
	struct ai_quarantine_entry q[] = {
		{ S("we\nb_x/"), S("control characters in the name"), AI_TIME_MIN, T0, T0, NULL, NULL },
		{ S("a/b/..\\c.blob"), S("a '.' or '..' path segment"), T0 - H, T0, T0, NULL, NULL },
	};
	struct ai_tail_entry t[] = { { S("insights-logs-x/r/PT1H.json"), T0 - 2 * H, 1234, T0 } };
	char why[128] = "";

	ai_state_init(&st);
	ai_buf_init(&b, 1 << 20);
	cr_assert_eq(ai_state_encode(&st, &b), AI_OK);
	cr_assert_eq(b.data[0], (char)0x8f, "15 keys, as states before these lists");
	cr_assert_eq(ai_state_decode(b.data, b.len, &d, why, sizeof why), AI_OK, "%s", why);
	cr_assert_eq(d.nquarantined + d.ntails, 0);
	ai_state_release(&d);

	cr_assert_eq(ai_state_merge_quarantined(&st, q, 2, NULL, NULL), AI_OK);
	cr_assert_eq(ai_state_merge_tails(&st, t, 1, NULL, NULL), AI_OK);
	cr_assert_eq(st.nquarantined, 2);
	cr_assert_str_eq(st.quarantined[0].name, "a/b/..\\c.blob", "sorted by name");
	state_round_trip(&st, &d);
	cr_assert_eq(d.nquarantined, 2);
	cr_assert_str_eq(d.quarantined[1].name, "we\nb_x/");
	cr_assert_str_eq(d.quarantined[1].reason, "control characters in the name");
	cr_assert_eq(d.quarantined[1].hour, AI_TIME_MIN);
	cr_assert_eq(d.quarantined[0].hour, T0 - H);
	cr_assert_eq(d.ntails, 1);
	cr_assert_eq(d.tails[0].length, 1234);
	cr_assert_eq(ai_state_find_tail(&d, "insights-logs-x/r/PT1H.json"), &d.tails[0]);
	cr_assert_null(ai_state_find_tail(&d, "insights-logs-x/r/PT1H.jso"));
	ai_state_release(&d);
	ai_buf_reset(&b);
	cr_assert_eq(ai_state_encode(&st, &b), AI_OK);
	cr_assert_eq(b.data[0], (char)0xde, "17 keys need a map16 header");
	ai_buf_release(&b);
	ai_state_release(&st);
}

Test(manifest, merging_keeps_first_seen_and_drops_only_what_a_run_looked_for)
{
	struct ai_state st;
	struct ai_quarantine_entry q[] = {
		{ S("a/1.blob"), S("r1"), T0, T0, T0, NULL, NULL },
		{ S("b/2.blob"), S("r2"), T0 + H, T0, T0, NULL, NULL },
		{ S("c/"), S("r3"), AI_TIME_MIN, T0, T0, NULL, NULL },
	};
	struct ai_quarantine_entry again[] = {
		{ S("b/2.blob"), S("r2 now"), T0 + H, T0 + 5 * H, T0 + 5 * H, NULL, NULL },
		{ S("b/2.blob"), S("twice"), T0 + H, T0 + 5 * H, T0 + 5 * H, NULL, NULL },
	};
	ai_time looked = T0;

	ai_state_init(&st);
	cr_assert_eq(ai_state_merge_quarantined(&st, q, 3, NULL, NULL), AI_OK);
	/* A later run lists hour T0 (a/1.blob is gone) and finds b/2.blob again. */
	cr_assert_eq(ai_state_merge_quarantined(&st, again, 2, covered_hour, &looked), AI_OK);
	cr_assert_eq(st.nquarantined, 2);
	cr_assert_str_eq(st.quarantined[0].name, "b/2.blob");
	cr_assert_str_eq(st.quarantined[0].reason, "r2 now");
	cr_assert_eq(st.quarantined[0].first_seen, T0, "first seen is kept");
	cr_assert_eq(st.quarantined[0].last_seen, T0 + 5 * H);
	cr_assert_str_eq(st.quarantined[1].name, "c/", "not looked for: kept");
	/* Nothing found, everything looked for: the list empties. */
	looked = AI_TIME_MIN;
	cr_assert_eq(ai_state_merge_quarantined(&st, NULL, 0, covered_hour, &looked), AI_OK);
	cr_assert_eq(st.nquarantined, 1);
	cr_assert_str_eq(st.quarantined[0].name, "b/2.blob");
	ai_state_release(&st);
}

Test(manifest, the_source_lists_are_bounded_by_dropping_the_oldest)
{
	struct ai_state st;
	static struct ai_tail_entry t[AI_STATE_MAX_TAILS + 5];
	static struct ai_quarantine_entry q[AI_STATE_MAX_QUARANTINED + 3];
	static char names[AI_STATE_MAX_TAILS + 5][16];

	ai_state_init(&st);
	for (size_t i = 0; i < AI_STATE_MAX_TAILS + 5; i++) {
		snprintf(names[i], sizeof names[i], "t%06zu", i);
		t[i] = (struct ai_tail_entry){ names[i], T0, i, T0 + (ai_time)i };
	}
	for (size_t i = 0; i < AI_STATE_MAX_QUARANTINED + 3; i++)
		q[i] = (struct ai_quarantine_entry){ names[i], S("r"), T0, T0, T0 + (ai_time)i, NULL, NULL };
	cr_assert_eq(ai_state_merge_tails(&st, t, AI_STATE_MAX_TAILS + 5, NULL, NULL), AI_OK);
	cr_assert_eq(ai_state_merge_quarantined(&st, q, AI_STATE_MAX_QUARANTINED + 3, NULL, NULL),
	             AI_OK);
	cr_assert_eq(st.ntails, AI_STATE_MAX_TAILS);
	cr_assert_str_eq(st.tails[0].name, "t000005", "the five seen first are gone");
	cr_assert_eq(st.nquarantined, AI_STATE_MAX_QUARANTINED);
	cr_assert_str_eq(st.quarantined[0].name, "t000003");
	{
		struct ai_state d;
		state_round_trip(&st, &d);
		cr_assert_eq(d.ntails, AI_STATE_MAX_TAILS);
		ai_state_release(&d);
	}
	ai_state_release(&st);
}

Test(manifest, state_decoder_refuses_bad_source_lists)
{
	struct ai_state st;
	struct ai_quarantine_entry q[] = {
		{ S("a"), S("r"), T0, T0, T0, NULL, NULL },
		{ S("b"), S("r"), T0, T0, T0, NULL, NULL },
	};
	struct ai_tail_entry t[] = { { S("a"), T0, 1, T0 }, { S("b"), T0, 2, T0 } };
	char *swap;

	ai_state_init(&st);
	cr_assert_eq(ai_state_merge_quarantined(&st, q, 2, NULL, NULL), AI_OK);
	cr_assert_eq(ai_state_merge_tails(&st, t, 2, NULL, NULL), AI_OK);
	swap = st.quarantined[0].name;
	st.quarantined[0].name = st.quarantined[1].name;
	st.quarantined[1].name = swap;
	expect_state_bad(&st, "quarantined 1: not in strictly ascending order");
	st.quarantined[1].name = st.quarantined[0].name;
	st.quarantined[0].name = swap;
	free(st.tails[1].name);
	st.tails[1].name = strdup("a");
	expect_state_bad(&st, "tail 1: not in strictly ascending order");
	ai_state_release(&st);
}

/* ---- states as earlier versions wrote them ---- */

/* A few msgpack encodings by hand, so that the old layout is spelled out
 * here rather than produced by the encoder under test. */
static void mp_raw(struct ai_buf *b, const void *p, size_t n)
{
	cr_assert_eq(ai_buf_add(b, p, n), AI_OK);
}

static void mp_head(struct ai_buf *b, uint8_t fix, uint8_t code16, size_t n)
{
	uint8_t h[3] = { code16, (uint8_t)(n >> 8), (uint8_t)n };

	if (n < 16)
		mp_raw(b, (uint8_t[]){ (uint8_t)(fix | n) }, 1);
	else
		mp_raw(b, h, 3);
}

static void mp_str(struct ai_buf *b, const char *s)
{
	size_t n = strlen(s);

	cr_assert_lt(n, 32);
	mp_raw(b, (uint8_t[]){ (uint8_t)(0xa0 | n) }, 1);
	mp_raw(b, s, n);
}

static void mp_int(struct ai_buf *b, int64_t v)
{
	uint8_t x[9] = { 0xd3 };

	for (int i = 0; i < 8; i++)
		x[1 + i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
	mp_raw(b, x, 9);
}

Test(manifest, a_state_of_an_earlier_version_still_reads)
{
	struct ai_state d;
	struct ai_buf b;
	char why[128] = "";
	uint8_t head[2 + 32] = { 0xc4, 32 };

	ai_buf_init(&b, 1 << 16);
	mp_head(&b, 0x80, 0xde, 16);
	mp_str(&b, "format"), mp_str(&b, "aiarchive-state");
	mp_str(&b, "version"), mp_int(&b, 1);
	mp_str(&b, "next_seq"), mp_int(&b, 0);
	mp_str(&b, "head"), mp_raw(&b, head, sizeof head);
	mp_str(&b, "updated"), mp_int(&b, T0);
	mp_str(&b, "watermark"), mp_int(&b, T0 + 12 * H);
	mp_str(&b, "max_lag"), mp_int(&b, 0);
	mp_str(&b, "last_run_id"), mp_str(&b, "r1");
	mp_str(&b, "last_run_time"), mp_int(&b, T0 + 12 * H);
	mp_str(&b, "last_run_result"), mp_str(&b, "ok");
	mp_str(&b, "source"), mp_str(&b, "file:///src");
	/* parts of six elements, quarantined entries of five */
	mp_str(&b, "parts"), mp_head(&b, 0x90, 0xdc, 1), mp_head(&b, 0x90, 0xdc, 6);
	mp_str(&b, "shop"), mp_str(&b, "Requests"), mp_int(&b, T0 + 13 * H), mp_int(&b, T0);
	mp_int(&b, 3), mp_int(&b, 30);
	mp_str(&b, "by_delivery"), mp_head(&b, 0x90, 0xdc, 0);
	mp_str(&b, "by_event"), mp_head(&b, 0x90, 0xdc, 0);
	mp_str(&b, "wide"), mp_head(&b, 0x90, 0xdc, 0);
	mp_str(&b, "quarantined"), mp_head(&b, 0x90, 0xdc, 1), mp_head(&b, 0x90, 0xdc, 5);
	mp_str(&b, "shop_x/a\\b"), mp_str(&b, "why"), mp_int(&b, T0), mp_int(&b, T0);
	mp_int(&b, T0);
	cr_assert_eq(ai_state_decode(b.data, b.len, &d, why, sizeof why), AI_OK, "%s", why);
	cr_assert_eq(d.nparts, 1);
	cr_assert_eq(d.parts[0].archived_through, T0 + 13 * H, "read as it was written");
	cr_assert_eq(d.parts[0].rows, 30);
	cr_assert_eq(d.parts[0].failed + d.parts[0].pending + d.parts[0].quarantined, 0);
	cr_assert_eq(d.parts[0].failed_oldest, 0, "unknown");
	cr_assert_eq(d.parts[0].newest_blob, 0, "unknown");
	cr_assert_eq(d.nquarantined, 1);
	cr_assert_null(d.quarantined[0].app, "an entry of five has no part");
	cr_assert_eq(d.last_run_exit, -1, "no exit code recorded");
	ai_state_release(&d);
	ai_buf_release(&b);
}

Test(manifest, the_recovery_point_fields_round_trip)
{
	struct ai_state st, d;
	struct ai_member m = tm("a", T0 + 13 * H, 0, 0, 0);
	struct ai_quarantine_entry q[] = {
		{ S("a/T/x\\y.blob"), S("r"), T0 + 9 * H, T0, T0, S("a"), S("T") },
		{ S("b_x/"), S("r"), AI_TIME_MIN, T0, T0, NULL, NULL },
	};

	ai_state_init(&st);
	add(&st, &m, 1);
	st.parts[0].archived_through = T0 + 9 * H;
	st.parts[0].failed = 2;
	st.parts[0].failed_oldest = T0 + 10 * H;
	st.parts[0].pending = 1;
	st.parts[0].quarantined = 1;
	st.parts[0].quarantined_oldest = T0 + 9 * H;
	st.parts[0].newest_blob = T0 + 14 * H + 7;
	st.last_run_exit = 6;
	cr_assert_eq(ai_state_merge_quarantined(&st, q, 2, NULL, NULL), AI_OK);
	state_round_trip(&st, &d);
	cr_assert_eq(d.parts[0].archived_through, T0 + 9 * H);
	cr_assert_eq(d.parts[0].failed, 2);
	cr_assert_eq(d.parts[0].failed_oldest, T0 + 10 * H);
	cr_assert_eq(d.parts[0].pending, 1);
	cr_assert_eq(d.parts[0].quarantined, 1);
	cr_assert_eq(d.parts[0].quarantined_oldest, T0 + 9 * H);
	cr_assert_eq(d.parts[0].newest_blob, T0 + 14 * H + 7);
	cr_assert_eq(d.last_run_exit, 6);
	cr_assert_str_eq(d.quarantined[0].app, "a");
	cr_assert_str_eq(d.quarantined[0].type, "T");
	cr_assert_null(d.quarantined[1].app, "a folder has no part");
	ai_state_release(&d);
	st.last_run_exit = 256;
	expect_state_bad(&st, "last_run_exit: more than 255");
	ai_state_release(&st);
}

/* Workspace export: the apps a member's rows carry are element 21, after a
 * "replaces" written as "" when there is none; an earlier segment (20
 * elements) or a nil there reads as none recorded. */
Test(manifest, member_apps_round_trip_and_are_checked)
{
	struct ai_segment s, d;
	struct ai_buf b;
	char why[128] = "";
	char *apps[] = { S("b"), S("a") }, *dup[] = { S("a"), S("a") };

	make_segment(&s, 1, 0);
	cr_assert_not(s.members[0].has_apps);
	encode(&s, &b);
	cr_assert_eq(ai_segment_decode(b.data, b.len, &d, why, sizeof why), AI_OK, "%s", why);
	cr_assert_not(d.members[0].has_apps, "none recorded");
	ai_segment_release(&d);
	ai_buf_release(&b);
	ai_segment_release(&s);

	make_segment(&s, 3, 0);
	cr_assert(s.members[2].has_apps);
	cr_assert_eq(s.members[2].napps, 2);
	encode(&s, &b);
	cr_assert_eq(ai_segment_decode(b.data, b.len, &d, why, sizeof why), AI_OK, "%s", why);
	cr_assert_str_eq(d.members[2].apps[0], "shop-api");
	cr_assert_str_eq(d.members[2].apps[1], "shop-web");
	cr_assert_str_eq(d.members[2].replaces, "");
	ai_segment_release(&d);
	ai_buf_release(&b);
	/* Out of order, repeated or too many: refused by the encoder. */
	ai_manifest_strs_free(s.members[2].apps, s.members[2].napps);
	s.members[2].apps = apps;
	ai_buf_init(&b, 1 << 20);
	cr_assert_eq(ai_segment_encode(&s, &b), AI_ERR_BAD_INPUT, "apps out of order");
	s.members[2].apps = dup;
	cr_assert_eq(ai_segment_encode(&s, &b), AI_ERR_BAD_INPUT, "an app twice");
	s.members[2].napps = AI_MEMBER_MAX_APPS + 1;
	cr_assert_eq(ai_segment_encode(&s, &b), AI_ERR_BAD_INPUT, "too many apps");
	s.members[2].apps = NULL;
	s.members[2].napps = 0;
	ai_buf_release(&b);
	ai_segment_release(&s);
}

Test(segindex, lists_the_apps_members_carry_and_gives_up_on_any)
{
	struct ai_segment s;
	struct ai_segment_index x;
	uint8_t sha[AI_SHA256_LEN] = { 0 };

	make_segment(&s, 3, 0);
	cr_assert_eq(ai_segment_index_build(&s, sha, NULL, 0, &x), AI_OK);
	cr_assert_eq(x.napps, 5);
	cr_assert_str_eq(x.apps[0], "app0");
	cr_assert_str_eq(x.apps[3], "shop-api");
	cr_assert_str_eq(x.apps[4], "shop-web");
	ai_segment_index_release(&x);
	ai_segment_release(&s);
	make_segment(&s, 5, 0);
	s.members[4].has_apps = 1;
	cr_assert_eq(ai_segment_index_build(&s, sha, NULL, 0, &x), AI_ERR_TOO_BIG,
	             "a member that may carry any app leaves nothing to rule out by");
	ai_segment_release(&s);
}

/* The state keeps the layout of the newest segment folded in (or a run's),
 * written only when known, so an earlier state reads as unknown. */
Test(manifest, the_state_records_the_layout)
{
	struct ai_state st, d;
	struct ai_segment s;
	struct ai_buf b;
	uint8_t sha[AI_SHA256_LEN] = { 1 };
	char why[128] = "";

	ai_state_init(&st);
	ai_buf_init(&b, 1 << 20);
	cr_assert_eq(ai_state_encode(&st, &b), AI_OK);
	cr_assert_null(memmem(b.data, b.len, "layout", 6), "unknown: not written");
	cr_assert_eq(ai_state_decode(b.data, b.len, &d, why, sizeof why), AI_OK, "%s", why);
	cr_assert_null(d.layout);
	ai_state_release(&d);
	make_segment(&s, 2, 0);
	free(s.layout);
	s.layout = strdup("workspace-export");
	cr_assert_eq(ai_state_add_segment(&st, &s, sha), AI_OK);
	cr_assert_str_eq(st.layout, "workspace-export");
	ai_buf_reset(&b);
	cr_assert_eq(ai_state_encode(&st, &b), AI_OK);
	cr_assert_eq(ai_state_decode(b.data, b.len, &d, why, sizeof why), AI_OK, "%s", why);
	cr_assert_str_eq(d.layout, "workspace-export");
	ai_state_release(&d);
	ai_buf_release(&b);
	ai_segment_release(&s);
	ai_state_release(&st);
}
