/* archive.c: reading and committing manifest objects in the destination. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/archive.h"
#include "engine/lock.h"
#include "engine/signed.h"
#include "engine/trust.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/log.h"
#include "format/genesis.h"
#include "format/manifest_codec.h"

#define MAX_SEGMENT_BYTES (512u << 20)
#define MAX_STATE_BYTES (256u << 20)

ai_result ai_archive_present(struct ai_store *dest, int *present)
{
	char seg0[64];
	const char *probe[] = { AI_GENESIS_NAME, AI_STATE_NAME, seg0 };

	*present = 0;
	ai_archive_segment_name(0, seg0, sizeof seg0);
	for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
		struct ai_blob_info info = { 0 };
		ai_result r = ai_store_props(dest, probe[i], &info, NULL);
		ai_blob_info_release(&info);
		if (r == AI_OK)
			*present = 1;
		if (r != AI_ERR_NOT_FOUND)
			return r;
	}
	return AI_OK;
}

ai_result ai_archive_require(struct ai_store *dest)
{
	const char *url = ai_store_describe(dest);
	int present;
	ai_result r = ai_archive_present(dest, &present);

	if (r != AI_OK) {
		ai_error("dest '%s': %s", url, ai_store_why(r));
		return r;
	}
	if (present)
		return AI_OK;
	ai_error("no archive at %s (make one with 'aiarchive init --dest %s --key FILE')", url, url);
	return AI_ERR_CONFIG;
}

void ai_archive_segment_name(uint64_t seq, char *out, size_t cap)
{
	snprintf(out, cap, AI_SEGMENT_NAME_FMT, (unsigned long long)seq);
}

void ai_archive_index_name(uint64_t seq, char *out, size_t cap)
{
	snprintf(out, cap, AI_SEGINDEX_NAME_FMT, (unsigned long long)seq);
}

/* Reads segment seq whole into raw and fills l: the read's outcome, the
 * digest and, when they decode, the segment (l->seg always initialised). */
static void read_link(struct ai_store *dest, uint64_t seq, struct ai_buf *raw,
                      struct ai_archive_link *l)
{
	memset(l, 0, sizeof *l);
	ai_segment_init(&l->seg);
	l->seq = seq;
	ai_archive_segment_name(seq, l->name, sizeof l->name);
	l->raw = raw;
	ai_buf_reset(raw);
	l->read = ai_store_read(dest, l->name, 0, 0, NULL, raw, NULL);
	if (l->read == AI_OK)
		l->read = ai_sha256(raw->data, raw->len, l->sha256);
	if (l->read == AI_OK)
		l->decode = ai_segment_decode(raw->data, raw->len, &l->seg, l->why, sizeof l->why);
}

ai_result ai_archive_link_ok(const struct ai_archive_link *l)
{
	if (l->read != AI_OK)
		return l->read;
	if (l->decode != AI_OK) {
		ai_store_set_error("segment '%s': %s", l->name, l->why);
		return l->decode;
	}
	if (l->seg.seq != l->seq) {
		ai_store_set_error("segment '%s': says it is number %llu", l->name,
		                   (unsigned long long)l->seg.seq);
		return AI_ERR_VERIFY;
	}
	return AI_OK;
}

ai_result ai_archive_link_trusted(struct ai_store *dest, struct ai_trust *trust,
                                  const struct ai_archive_link *l)
{
	struct ai_trust_object obj = { .kind = "segment", .name = l->name };
	struct ai_trust_verdict v;
	ai_result r = ai_archive_link_ok(l);

	if (r != AI_OK)
		return r;
	obj.data = l->raw->data;
	obj.len = l->raw->len;
	r = ai_trust_check_stored(trust, dest, &obj, &v);
	if (r == AI_ERR_VERIFY)
		ai_store_set_error("segment '%s': %s; this archive does not verify (see 'aiarchive "
		                   "verify'), so nothing in it is used", l->name, v.why);
	return r;
}

ai_result ai_archive_walk(struct ai_store *dest, struct ai_archive_walk *w, ai_archive_walk_fn fn,
                          void *ctx)
{
	struct ai_archive_link l;
	struct ai_buf raw;
	uint8_t prev[AI_SHA256_LEN];
	uint64_t next = w->seqs ? (w->nseqs ? w->seqs[0] : 0) : w->from;
	int chained = 1;          /* prev is the digest of segment next - 1 */
	ai_result r = AI_OK;

	memcpy(prev, w->head, sizeof prev);
	ai_buf_init(&raw, MAX_SEGMENT_BYTES);
	for (uint64_t i = 0; r == AI_OK; i++) {
		uint64_t seq;
		if (w->seqs ? i >= w->nseqs : i >= w->to - w->from)
			break;
		seq = w->seqs ? w->seqs[i] : w->from + i;
		read_link(dest, seq, &raw, &l);
		l.linked = l.read == AI_OK && l.decode == AI_OK && chained && seq == next &&
		           memcmp(l.seg.prev, prev, sizeof prev) == 0;
		chained = l.read == AI_OK;
		next = seq + 1;
		if (chained) {
			memcpy(prev, l.sha256, sizeof prev);
			memcpy(w->head, l.sha256, sizeof w->head);
		}
		r = fn(ctx, &l);
		ai_segment_release(&l.seg);
	}
	ai_buf_release(&raw);
	return r;
}

ai_result ai_archive_read_segment(struct ai_store *dest, uint64_t seq, struct ai_segment *seg,
                                  uint8_t sha256[AI_SHA256_LEN], struct ai_buf *raw)
{
	struct ai_archive_link l;
	struct ai_buf buf;
	ai_result r;

	ai_buf_init(&buf, MAX_SEGMENT_BYTES);
	read_link(dest, seq, &buf, &l);
	r = ai_archive_link_ok(&l);
	if (r == AI_OK) {
		*seg = l.seg;
		ai_segment_init(&l.seg);
		if (sha256)
			memcpy(sha256, l.sha256, AI_SHA256_LEN);
		if (raw) {
			ai_buf_release(raw);
			*raw = buf;
			ai_buf_init(&buf, 0);
		}
	}
	ai_segment_release(&l.seg);
	ai_buf_release(&buf);
	return r;
}

/* Reads the state; a reader's check is run on its bytes before they are
 * decoded. */
static ai_result read_state(struct ai_store *dest, struct ai_buf *buf, ai_archive_check check,
                            void *ctx, char etag[AI_ETAG_MAX])
{
	struct ai_blob_info info;
	ai_result r;

	r = ai_store_read(dest, AI_STATE_NAME, 0, 0, NULL, buf, &info);
	if (r != AI_OK)
		return r;
	memcpy(etag, info.etag, AI_ETAG_MAX);
	ai_blob_info_release(&info);
	r = check(ctx, "state", AI_STATE_NAME, buf);
	if (r == AI_ERR_VERIFY) {
		/* A run replaces the state and then its signature file: a
		 * reader between the two may see them disagree. Read again, once. */
		ai_buf_reset(buf);
		r = ai_store_read(dest, AI_STATE_NAME, 0, 0, NULL, buf, &info);
		if (r == AI_OK) {
			memcpy(etag, info.etag, AI_ETAG_MAX);
			ai_blob_info_release(&info);
			r = check(ctx, "state", AI_STATE_NAME, buf);
		}
	}
	return r == AI_ERR_NOT_FOUND ? AI_ERR_VERIFY : r;
}

/* What open_archive's walk past the state carries. */
struct fold {
	struct ai_archive *a;
	ai_archive_check check;
	void *ctx;
};

/* Folds a segment found past the state into it; the first missing one
 * ends the walk (AI_ERR_NOT_FOUND). */
static ai_result fold_segment(void *ctx, const struct ai_archive_link *l)
{
	struct fold *f = ctx;
	ai_result r = ai_archive_link_ok(l);

	if (r == AI_OK)
		r = f->check(f->ctx, "segment", l->name, l->raw);
	if (r == AI_OK)
		r = ai_state_add_segment(&f->a->state, &l->seg, l->sha256);
	if (r == AI_OK)
		f->a->probed++;
	return r;
}

static ai_result open_archive(struct ai_archive *a, struct ai_store *dest, ai_archive_check check,
                              void *ctx)
{
	struct fold f = { .a = a, .check = check, .ctx = ctx };
	struct ai_archive_walk w = { .to = UINT64_MAX };
	struct ai_buf buf;
	char why[256];
	int absent = 0;
	ai_result r;

	memset(a, 0, sizeof *a);
	a->dest = dest;
	ai_state_init(&a->state);
	ai_buf_init(&buf, MAX_STATE_BYTES);
	r = read_state(dest, &buf, check, ctx, a->state_etag);
	if (r == AI_OK) {
		r = ai_state_decode(buf.data, buf.len, &a->state, why, sizeof why);
		if (r != AI_OK) {
			/* The state is a summary: rebuild it from the chain. */
			ai_warn("state '%s': %s; rebuilding it from the segments", AI_STATE_NAME, why);
			ai_state_release(&a->state);
			ai_state_init(&a->state);
			r = AI_OK;
		} else {
			a->state_found = 1;
		}
	} else if (r == AI_ERR_NOT_FOUND) {
		absent = 1;
		r = AI_OK;
	}
	if (r == AI_OK) {
		w.from = a->state.next_seq;
		memcpy(w.head, a->state.head_sha256, sizeof w.head);
		r = ai_archive_walk(dest, &w, fold_segment, &f);
	}
	if (r == AI_ERR_NOT_FOUND)
		r = AI_OK;
	if (r == AI_OK && absent && a->state.next_seq > 0) {
		/* A run saves a state before its first segment (ai_archive_commit)
		 * and only ever replaces it: segments without one had it removed,
		 * as a truncation that also removes the newest segments would. */
		a->state_missing = 1;
		ai_store_set_error("state '%s': missing, yet the archive has segments 0-%llu (a "
		                   "state is saved before the first segment and never removed; see "
		                   "ARCHITECTURE.md §7.2)", AI_STATE_NAME,
		                   (unsigned long long)a->state.next_seq - 1);
		r = AI_ERR_VERIFY;
	}
	ai_buf_release(&buf);
	return r;
}

/* What a writer's open checks each object with, and the first object that
 * failed (the state may be checked twice, so it is reported at the end). */
struct writer_check {
	struct ai_store *dest;
	struct ai_trust *trust;
	int heal;
	int bad;
	char bad_kind[16], bad_name[128];
	struct ai_trust_verdict verdict;
};

/* Restores a .minisig from the signature its object carries (a crash
 * between the two, or a damaged file): a copy, never a new signature. */
void ai_archive_restore_signature(struct ai_store *dest, const char *kind, const char *name,
                                  const char *why)
{
	struct ai_buf sig;
	ai_result r;

	ai_buf_init(&sig, AI_MINISIGN_SIGFILE_MAX);
	r = ai_signed_carried(dest, name, &sig);
	if (r == AI_OK)
		r = ai_signed_put_sig(dest, name, sig.data, sig.len);
	if (r == AI_OK)
		ai_info("%s '%s': %s; restored it from the signature the object carries", kind, name,
		        why);
	else
		ai_warn("%s '%s': %s; restoring it from the object failed (%s)", kind, name, why,
		        ai_store_why(r));
	ai_buf_release(&sig);
}

static ai_result check_writer(void *ctx, const char *kind, const char *name,
                              const struct ai_buf *raw)
{
	struct writer_check *c = ctx;
	struct ai_trust_object obj = { .kind = kind, .name = name, .data = raw->data,
	                               .len = raw->len };
	struct ai_trust_verdict v;
	ai_result r = ai_trust_check_stored(c->trust, c->dest, &obj, &v);

	c->bad = r == AI_ERR_VERIFY;
	if (c->bad) {
		snprintf(c->bad_kind, sizeof c->bad_kind, "%s", kind);
		snprintf(c->bad_name, sizeof c->bad_name, "%s", name);
		c->verdict = v;
	} else if (r == AI_OK && v.carried && c->heal) {
		ai_archive_restore_signature(c->dest, kind, name, v.why);
	}
	return r;
}

/* The indexes of the segments past the state: a run stopped between an
 * index and its .minisig left the signature the index carries, copied
 * into the file here as for segments. An index missing or not verifying
 * is only for verify to report: queries read its segment instead. */
static void heal_indexes(struct writer_check *c, const struct ai_archive *a)
{
	struct ai_buf buf;
	char name[128];

	ai_buf_init(&buf, MAX_SEGMENT_BYTES);
	for (uint64_t seq = a->state.next_seq - a->probed; seq < a->state.next_seq; seq++) {
		struct ai_trust_object obj = { .kind = "segment-index", .name = name };
		struct ai_trust_verdict v;
		ai_archive_index_name(seq, name, sizeof name);
		ai_buf_reset(&buf);
		if (ai_store_read(c->dest, name, 0, 0, NULL, &buf, NULL) != AI_OK)
			continue;
		obj.data = buf.data;
		obj.len = buf.len;
		if (ai_trust_check_stored(c->trust, c->dest, &obj, &v) == AI_OK && v.carried)
			ai_archive_restore_signature(c->dest, "index", name, v.why);
	}
	ai_buf_release(&buf);
}

ai_result ai_archive_open(struct ai_archive *a, struct ai_store *dest, struct ai_trust *trust,
                          int heal)
{
	struct writer_check c = { .dest = dest, .trust = trust, .heal = heal };
	ai_result r;

	ai_store_set_error("%s", "");
	r = open_archive(a, dest, check_writer, &c);
	if (r == AI_OK && heal)
		heal_indexes(&c, a);
	if (r == AI_ERR_VERIFY && c.bad) {
		const struct ai_trust_verdict *v = &c.verdict;
		if (v->fault == AI_TRUST_NO_KEY)
			ai_store_set_error("key '%s': %s; %s '%s' cannot be checked", v->key_name, v->why,
			                   c.bad_kind, c.bad_name);
		else
			ai_store_set_error("%s '%s': %s; this archive does not verify (see 'aiarchive "
			                   "verify'), so nothing in it is used", c.bad_kind, c.bad_name,
			                   v->why);
	} else if (r == AI_ERR_VERIFY && !*ai_store_last_error()) {
		ai_store_set_error("the segments past the state do not chain to its head");
	}
	return r;
}

ai_result ai_archive_open_checked(struct ai_archive *a, struct ai_store *dest,
                                  ai_archive_check check, void *ctx)
{
	return open_archive(a, dest, check, ctx);
}

void ai_archive_release(struct ai_archive *a)
{
	if (a)
		ai_state_release(&a->state);
}

/* Writes the index of a committed segment. The index only saves readers
 * work (a segment without one is read), so failing to write it is worth a
 * warning, not failing the run over data that is safely recorded. */
static void put_index(struct ai_store *dest, const struct ai_segment *seg,
                      const uint8_t sha[AI_SHA256_LEN], const uint8_t *bloom, size_t bloom_len,
                      const struct ai_signing_key *key, ai_time now)
{
	struct ai_segment_index x;
	struct ai_buf buf;
	char name[128];
	ai_result r;

	ai_archive_index_name(seg->seq, name, sizeof name);
	ai_buf_init(&buf, MAX_SEGMENT_BYTES);
	r = ai_segment_index_build(seg, sha, bloom, bloom_len, &x);
	if (r == AI_OK) {
		r = ai_segment_index_encode(&x, &buf);
		ai_segment_index_release(&x);
	}
	if (r == AI_OK)
		r = ai_signed_put(dest, name, buf.data, buf.len, 0, key, "segment-index", now);
	if (r != AI_OK)
		ai_warn("index '%s': %s; queries read the segment instead", name,
		        ai_store_why(r));
	ai_buf_release(&buf);
}

/* After a segment written past its deadline: gc may have removed a pack
 * it names meanwhile (the run stopped between its checks and the write, for
 * longer than the pack bound); look each up. */
static ai_result check_packs(struct ai_store *dest, const struct ai_segment *seg,
                             const char *name)
{
	size_t gone = 0;
	const char *first = NULL;

	for (size_t i = 0; i < seg->npacks; i++) {
		struct ai_blob_info info;
		ai_result r = ai_store_props(dest, seg->packs[i].name, &info, NULL);
		if (r == AI_OK) {
			ai_blob_info_release(&info);
			continue;
		}
		if (r != AI_ERR_NOT_FOUND) {
			ai_warn("segment '%s': written late; pack '%s' cannot be looked up (%s)", name,
			        seg->packs[i].name, ai_store_why(r));
			continue;
		}
		if (!first)
			first = seg->packs[i].name;
		gone++;
	}
	if (!gone)
		return AI_OK;
	ai_store_set_error("segment '%s': written more than the pack bound after its checks (was "
	                   "the run stopped?), and %zu of the packs it names are gone (the first: "
	                   "'%s'): gc removed them meanwhile; 'aiarchive verify --data' lists them "
	                   "(ARCHITECTURE.md §7.3)", name, gone, first);
	return AI_ERR_VERIFY;
}

ai_result ai_archive_commit(struct ai_archive *a, struct ai_segment *seg, const uint8_t *bloom,
                            size_t bloom_len, const struct ai_signing_key *key, ai_time now)
{
	uint8_t sha[AI_SHA256_LEN];
	char name[128];
	struct ai_buf buf;
	ai_result r;

	seg->seq = a->state.next_seq;
	memcpy(seg->prev, a->state.head_sha256, AI_SHA256_LEN);
	ai_archive_segment_name(seg->seq, name, sizeof name);
	ai_buf_init(&buf, MAX_SEGMENT_BYTES);
	r = AI_OK;
	if (seg->seq == 0 && !a->state_found) {
		/* A new archive gets its state before its first segment, so that
		 * segments without a state are never a crash, only a removal
		 * (ARCHITECTURE.md §7.2). */
		r = ai_archive_save_state(a, key, now);
		/* Shards start together: another one's state is as good. */
		if (r == AI_ERR_LOCKED && a->shared)
			r = AI_OK;
		if (r == AI_OK)
			a->state_found = 1;
	}
	if (r == AI_OK)
		r = ai_segment_encode(seg, &buf);
	if (r == AI_OK)
		r = ai_sha256(buf.data, buf.len, sha);
	/* The point of no return: the lock once more, as late as it can be. */
	if (r == AI_OK && a->lock)
		r = ai_lock_confirm(a->lock);
	a->late = 0;
	if (r == AI_OK && a->deadline_ns && ai_clock_mono_ns() > a->deadline_ns) {
		ai_store_set_error("segment '%s': not written: a pack it names was committed "
		                   "more than the pack bound ago", name);
		a->late = 1;
		r = AI_ERR_TIMEOUT;
	}
	if (r == AI_OK)
		r = ai_signed_put(a->dest, name, buf.data, buf.len, 0, key, "segment", now);
	if (r == AI_OK)
		r = ai_state_add_segment(&a->state, seg, sha);
	if (r == AI_OK)
		put_index(a->dest, seg, sha, bloom, bloom_len, key, now);
	if (r == AI_OK && a->deadline_ns && ai_clock_mono_ns() > a->deadline_ns)
		r = check_packs(a->dest, seg, name);
	ai_buf_release(&buf);
	return r;
}

int64_t ai_pack_bound_ns(void)
{
	static int64_t bound;
	const char *v;

	int64_t known = __atomic_load_n(&bound, __ATOMIC_RELAXED);

	if (known)
		return known < 0 ? 0 : known;
	v = getenv("AIARCHIVE_TEST_PACK_BOUND");
	int64_t b = 3600 * AI_NS_PER_SEC;
	if (v && *v && ai_parse_duration(v, 24 * 3600 * AI_NS_PER_SEC, &b) != AI_OK) {
		ai_warn("AIARCHIVE_TEST_PACK_BOUND: not a duration: '%s'; using 1h", v);
		b = 3600 * AI_NS_PER_SEC;
	}
	if (b == 0)
		b = -1; /* off: remembered as such */
	__atomic_store_n(&bound, b, __ATOMIC_RELAXED);
	return b < 0 ? 0 : b;
}

ai_result ai_archive_save_state(struct ai_archive *a, const struct ai_signing_key *key,
                                ai_time now)
{
	struct ai_buf buf;
	ai_result r;

	a->state.updated = now;
	a->state_busy = 0;
	ai_buf_init(&buf, MAX_STATE_BYTES);
	r = ai_state_encode(&a->state, &buf);
	if (r == AI_OK)
		r = ai_signed_replace(a->dest, AI_STATE_NAME, buf.data, buf.len, a->state_etag, key,
		                      "state", now);
	if (r == AI_ERR_CONFLICT || r == AI_ERR_EXISTS) {
		ai_store_set_error("state '%s': %s by another run since this one %s (this run "
		                   "lost its lock); not overwritten", AI_STATE_NAME,
		                   r == AI_ERR_EXISTS ? "created" : "replaced",
		                   a->state_etag[0] ? "read or saved it" : "found none");
		r = AI_ERR_LOCKED;
	} else if (r == AI_ERR_LOCKED) {
		/* The state is busy, not changed: a file:// archive's state file
		 * locked by another process (perhaps a stopped one) for too long. */
		char why[512];
		snprintf(why, sizeof why, "%s", ai_store_why(r));
		ai_store_set_error("state '%s': not replaced: %s", AI_STATE_NAME, why);
		a->state_busy = 1;
	}
	ai_buf_release(&buf);
	return r;
}

ai_result ai_archive_publish_key(struct ai_store *dest, const struct ai_signing_key *key)
{
	struct ai_minisign_pubkey pk;
	char keyid[AI_MINISIGN_KEYID_HEXLEN], name[64];
	struct ai_buf text, have;
	ai_result r;

	ai_signing_key_pubkey(key, &pk);
	ai_minisign_keyid_hex(pk.keyid, keyid);
	snprintf(name, sizeof name, AI_KEYS_DIR "%s.pub", keyid);
	ai_buf_init(&text, 4096);
	ai_buf_init(&have, 4096);
	r = ai_minisign_pubkey_format(&pk, &text);
	if (r == AI_OK)
		r = ai_store_put(dest, name, text.data, text.len, AI_PUT_CREATE_ONLY, NULL, NULL);
	if (r == AI_ERR_EXISTS) {
		struct ai_minisign_pubkey old;
		r = ai_store_read(dest, name, 0, 0, NULL, &have, NULL);
		if (r == AI_OK && (ai_minisign_pubkey_parse(have.data, have.len, &old) != AI_OK ||
		                   memcmp(old.pk, pk.pk, sizeof pk.pk) != 0)) {
			ai_store_set_error("key '%s': a different public key is published under this id",
			                   name);
			r = AI_ERR_VERIFY;
		}
	}
	ai_buf_release(&have);
	ai_buf_release(&text);
	return r;
}
