/* mansynth.c: builds a large archive for the manifest benchmark (bench/manifest.sh)
 * out of a small real one: a year of hourly segments for one busy app, so
 * that query and cat can be measured against millions of members.
 *
 * Usage: mansynth --from URL --dest URL --key FILE [--days N]
 *
 * --from holds a real archive of one day of hourly runs (made by `aiarchive
 * run`); its segments are the templates. For each of the N-1 days before
 * that day, mansynth commits one segment per template, a copy moved back by
 * whole days: times shifted, the dates in blob, pack and run names
 * rewritten, each Bloom filter rotated so that it keeps its density but no
 * longer holds the template's operation ids (the segment's index filter
 * likewise). Those copies name packs that
 * are not written: they exist to be indexed and searched, and query reads
 * only the manifest. Then the real day's packs (with their signatures) are
 * copied over and its segments committed last, so cat finds real data for
 * that day. Everything is signed with --key, chained and indexed as a run
 * would; the state is written once at the end.
 *
 * The destination's credentials come from AIARCHIVE_DEST_CONNECTION_STRING
 * or AIARCHIVE_DEST_KEY, as for aiarchive. Prints one JSON line: segments,
 * members, the real day, the bytes of its packs.
 * Exit status: 0 done, 1 failure, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/archive.h"
#include "util/buf.h"
#include "format/manifest_codec.h"
#include "format/minisign.h"
#include "util/parse.h"
#include "store/store.h"
#include "engine/trust.h"

#define NS_PER_DAY (INT64_C(86400) * AI_NS_PER_SEC)
#define MAX_TEMPLATES 4096
#define MAX_PACK_BYTES ((size_t)1 << 30)

static void usage(void)
{
	fputs("usage: mansynth --from URL --dest URL --key FILE [--days N]\n", stderr);
	exit(2);
}

static void fail(const char *what, ai_result r)
{
	const char *detail = ai_store_why(r);

	fprintf(stderr, "mansynth: %s: %s\n", what, detail);
	exit(1);
}

/* "2026-11-20" and "20261120" for the day holding t. */
static void day_names(ai_time t, char dashed[16], char compact[16])
{
	char s[AI_TIME_STRLEN];

	ai_time_format(t, 0, s);
	snprintf(dashed, 16, "%.10s", s);
	snprintf(compact, 16, "%.4s%.2s%.2s", s, s + 5, s + 8);
}

static char *xstrdup(const char *s)
{
	char *out = strdup(s ? s : "");

	if (!out) {
		fputs("mansynth: out of memory\n", stderr);
		exit(1);
	}
	return out;
}

/* Rewrites, in place, every mention of the day holding t (either form) as
 * the day `shift` earlier; both forms keep their length. */
static void move_day(char *s, ai_time t, int64_t shift)
{
	char from[2][16], to[2][16];

	day_names(t, from[0], from[1]);
	day_names(t - shift, to[0], to[1]);
	for (int k = 0; k < 2; k++) {
		size_t n = strlen(from[k]);
		for (char *p = strstr(s, from[k]); p; p = strstr(p + n, from[k]))
			memcpy(p, to[k], n);
	}
}

/* Rotates the filter by whole bytes: same density, other members. */
static void rotate_bloom(uint8_t *dst, const uint8_t *src, size_t len, uint64_t salt)
{
	size_t by = len > 1 ? 1 + (size_t)(salt % (len - 1)) : 0;

	for (size_t i = 0; i < len; i++)
		dst[i] = src[(i + by) % len];
}

/* The template moved back by `days` days, committed to a. Names mention
 * the run's day (run ids) and the delivery day (folders). */
static void commit_copy(struct ai_archive *a, const struct ai_segment *t,
                        const struct ai_segment_index *tx, int64_t days,
                        const struct ai_signing_key *key)
{
	uint8_t *seg_bloom = tx->bloom_len ? malloc(tx->bloom_len) : NULL;
	const int64_t shift = days * NS_PER_DAY;
	uint8_t bloom[AI_BLOOM_MAX_BYTES];
	struct ai_segment seg;
	ai_result r = AI_OK;

	ai_segment_init(&seg);
	seg.created = t->created - shift;
	seg.key_id = xstrdup(t->key_id);
	seg.source = xstrdup(t->source);
	seg.layout = xstrdup(t->layout);
	seg.run_id = xstrdup(t->run_id);
	move_day(seg.run_id, t->created, shift);
	for (size_t i = 0; i < t->npacks && r == AI_OK; i++) {
		struct ai_pack_ref p = t->packs[i];
		uint32_t idx;

		p.name = xstrdup(t->packs[i].name);
		move_day(p.name, t->created, shift);
		for (size_t k = 0; k < t->nmembers; k++)
			if (t->members[k].pack == i) {
				move_day(p.name, t->members[k].delivery_hour, shift);
				break;
			}
		p.sha256[0] ^= (uint8_t)days;
		r = ai_segment_add_pack(&seg, &p, &idx);
		free(p.name);
	}
	for (size_t i = 0; i < t->nmembers && r == AI_OK; i++) {
		const struct ai_member *m = &t->members[i];
		struct ai_member c = *m;

		c.blob = xstrdup(m->blob);
		move_day(c.blob, m->delivery_hour, shift);
		c.last_modified -= shift;
		c.delivery_hour -= shift;
		if (c.has_time) {
			c.min_event -= shift;
			c.max_event -= shift;
		}
		rotate_bloom(bloom, m->bloom, m->bloom_len, (uint64_t)days * 1000003u + i);
		c.bloom = m->bloom_len ? bloom : NULL;
		c.sha256[0] ^= (uint8_t)days;
		r = ai_segment_add_member(&seg, &c);
		free(c.blob);
	}
	if (r != AI_OK)
		fail("building a segment", r);
	if (tx->bloom_len && !seg_bloom)
		fail("the segment's filter", AI_ERR_NOMEM);
	if (seg_bloom)
		rotate_bloom(seg_bloom, tx->bloom, tx->bloom_len, (uint64_t)days);
	r = ai_archive_commit(a, &seg, seg_bloom, tx->bloom_len, key, seg.created);
	if (r != AI_OK)
		fail("committing a segment", r);
	free(seg_bloom);
	ai_segment_release(&seg);
}

/* Copies one object (a pack or its signature) as it is; returns its size. */
static uint64_t copy_object(struct ai_store *from, struct ai_store *to, const char *name)
{
	struct ai_buf b;
	ai_result r;
	uint64_t n;

	ai_buf_init(&b, MAX_PACK_BYTES);
	r = ai_store_read(from, name, 0, 0, NULL, &b, NULL);
	if (r == AI_OK)
		r = ai_store_put(to, name, b.data, b.len, AI_PUT_CREATE_ONLY, NULL, NULL);
	if (r == AI_ERR_EXISTS)
		r = AI_OK;
	if (r != AI_OK)
		fail(name, r);
	n = b.len;
	ai_buf_release(&b);
	return n;
}

/* The index of template segment seq (its operation-id filter goes with
 * every copy); an empty one when the segment has none. */
static void read_index(struct ai_store *src, uint64_t seq, struct ai_segment_index *x)
{
	char name[128], why[256];
	struct ai_buf b;
	ai_result r;

	ai_segment_index_init(x);
	ai_archive_index_name(seq, name, sizeof name);
	ai_buf_init(&b, MAX_PACK_BYTES);
	r = ai_store_read(src, name, 0, 0, NULL, &b, NULL);
	if (r == AI_OK && ai_segment_index_decode(b.data, b.len, x, why, sizeof why) != AI_OK) {
		fprintf(stderr, "mansynth: %s: %s\n", name, why);
		exit(1);
	}
	if (r != AI_OK && r != AI_ERR_NOT_FOUND)
		fail(name, r);
	ai_buf_release(&b);
}

static struct ai_store *open_store(const char *url, int dest)
{
	struct ai_store_config cfg = { .url = url };
	struct ai_store *s;

	if (dest) {
		cfg.connection_string = getenv("AIARCHIVE_DEST_CONNECTION_STRING");
		cfg.account_key = getenv("AIARCHIVE_DEST_KEY");
	}
	if (ai_store_open(&s, &cfg) != AI_OK)
		fail(url, AI_ERR_CONFIG);
	return s;
}

int main(int argc, char **argv)
{
	const char *from_url = NULL, *dest_url = NULL, *key_path = NULL;
	struct ai_segment *tpl;
	struct ai_segment_index *tix;
	struct ai_store *src, *dest;
	struct ai_archive real, a;
	struct ai_trust src_trust, dest_trust;
	struct ai_signing_key key;
	uint64_t ntpl, members = 0, pack_bytes = 0;
	char day[16], compact[16];
	long days = 365;
	ai_result r;

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--from"))
			from_url = argv[i + 1];
		else if (!strcmp(argv[i], "--dest"))
			dest_url = argv[i + 1];
		else if (!strcmp(argv[i], "--key"))
			key_path = argv[i + 1];
		else if (!strcmp(argv[i], "--days"))
			days = strtol(argv[i + 1], NULL, 10);
		else
			usage();
	}
	if (!from_url || !dest_url || !key_path || days < 1 || days > 3660)
		usage();
	if (ai_signing_key_load(key_path, &key) != AI_OK)
		return 1;
	ai_trust_init(&dest_trust);
	ai_trust_use_key(&dest_trust, &key);
	src = open_store(from_url, 0);
	dest = open_store(dest_url, 1);

	ai_trust_init(&src_trust);
	r = ai_archive_open(&real, src, &src_trust, 0);
	if (r != AI_OK)
		fail(from_url, r);
	ntpl = real.state.next_seq;
	if (!ntpl || ntpl > MAX_TEMPLATES)
		fail(from_url, AI_ERR_BAD_INPUT);
	tpl = calloc(ntpl, sizeof *tpl);
	if (!tpl)
		fail("templates", AI_ERR_NOMEM);
	tix = calloc(ntpl, sizeof *tix);
	if (!tix)
		fail("templates", AI_ERR_NOMEM);
	for (uint64_t i = 0; i < ntpl; i++) {
		r = ai_archive_read_segment(src, i, &tpl[i], NULL, NULL);
		if (r != AI_OK)
			fail("reading a template segment", r);
		read_index(src, i, &tix[i]);
	}

	r = ai_store_create_container(dest);
	if (r == AI_OK)
		r = ai_archive_open(&a, dest, &dest_trust, 0);
	if (r == AI_OK && a.state.next_seq)
		r = AI_ERR_EXISTS;
	if (r != AI_OK)
		fail(dest_url, r);
	r = ai_archive_publish_key(dest, &key);
	if (r != AI_OK)
		fail("publishing the key", r);
	for (long d = days - 1; d >= 1; d--) {
		for (uint64_t i = 0; i < ntpl; i++) {
			commit_copy(&a, &tpl[i], &tix[i], d, &key);
			members += tpl[i].nmembers;
		}
		if (d % 30 == 0)
			fprintf(stderr, "mansynth: %ld days to go, %llu segments\n", d,
			        (unsigned long long)a.state.next_seq);
	}
	for (uint64_t i = 0; i < ntpl; i++) {
		struct ai_segment *t = &tpl[i];
		for (size_t k = 0; k < t->npacks; k++) {
			char sig[1024];
			pack_bytes += copy_object(src, dest, t->packs[k].name);
			snprintf(sig, sizeof sig, "%s.minisig", t->packs[k].name);
			copy_object(src, dest, sig);
		}
		r = ai_archive_commit(&a, t, tix[i].bloom, tix[i].bloom_len, &key, t->created);
		if (r != AI_OK)
			fail("committing a real segment", r);
		members += t->nmembers;
	}
	a.state.watermark = real.state.watermark;
	r = ai_archive_save_state(&a, &key, tpl[ntpl - 1].created);
	if (r != AI_OK)
		fail("writing the state", r);

	day_names(tpl[0].nmembers ? tpl[0].members[0].delivery_hour : tpl[0].created, day, compact);
	printf("{\"segments\":%llu,\"members\":%llu,\"real_day\":\"%s\",\"real_day_pack_bytes\":%llu}\n",
	       (unsigned long long)a.state.next_seq, (unsigned long long)members, day,
	       (unsigned long long)pack_bytes);
	for (uint64_t i = 0; i < ntpl; i++) {
		ai_segment_release(&tpl[i]);
		ai_segment_index_release(&tix[i]);
	}
	free(tpl);
	free(tix);
	ai_archive_release(&a);
	ai_archive_release(&real);
	ai_store_free(dest);
	ai_store_free(src);
	ai_signing_key_release(&key);
	return 0;
}
