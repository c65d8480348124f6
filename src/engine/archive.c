/* archive.c: reading and committing manifest objects in the destination. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/archive.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/log.h"
#include "format/manifest_codec.h"

#define MAX_SEGMENT_BYTES (512u << 20)
#define MAX_STATE_BYTES (256u << 20)

void ai_archive_segment_name(uint64_t seq, char *out, size_t cap)
{
	snprintf(out, cap, AI_SEGMENT_NAME_FMT, (unsigned long long)seq);
}

void ai_archive_index_name(uint64_t seq, char *out, size_t cap)
{
	snprintf(out, cap, AI_SEGINDEX_NAME_FMT, (unsigned long long)seq);
}

/* Signs bytes and writes "<name>.minisig" (create-only unless replace). */
static ai_result put_signature(struct ai_store *dest, const char *name, const void *p, size_t n,
                               const struct ai_signing_key *key, const char *what, ai_time now,
                               int replace)
{
	uint8_t sha[AI_SHA256_LEN];
	char hex[2 * AI_SHA256_LEN + 1], when[AI_TIME_STRLEN], comment[512], sig_name[512];
	struct ai_buf sig;
	ai_result r;

	ai_buf_init(&sig, 16384);
	r = ai_sha256(p, n, sha);
	if (r != AI_OK)
		goto out;
	ai_hex(sha, sizeof sha, hex);
	ai_time_format(now, 0, when);
	snprintf(comment, sizeof comment, "aiarchive %s %s sha256=%s time=%s", what, name, hex, when);
	r = ai_minisign_sign(key, p, n, comment, &sig);
	snprintf(sig_name, sizeof sig_name, "%s.minisig", name);
	if (r == AI_OK)
		r = ai_store_put(dest, sig_name, sig.data, sig.len, replace ? 0 : AI_PUT_CREATE_ONLY,
		                 NULL, NULL);
	if (r == AI_ERR_EXISTS && !replace)
		r = AI_OK; /* signed before: a signature is never replaced */
out:
	ai_buf_release(&sig);
	return r;
}

ai_result ai_archive_read_segment(struct ai_store *dest, uint64_t seq, struct ai_segment *seg,
                                  uint8_t sha256[AI_SHA256_LEN], struct ai_buf *raw)
{
	char name[128], why[256];
	struct ai_buf buf;
	ai_result r;

	ai_archive_segment_name(seq, name, sizeof name);
	ai_buf_init(&buf, MAX_SEGMENT_BYTES);
	r = ai_store_read(dest, name, 0, 0, NULL, &buf, NULL);
	if (r != AI_OK)
		goto out;
	if (sha256) {
		r = ai_sha256(buf.data, buf.len, sha256);
		if (r != AI_OK)
			goto out;
	}
	r = ai_segment_decode(buf.data, buf.len, seg, why, sizeof why);
	if (r != AI_OK) {
		ai_store_set_error("segment '%s': %s", name, why);
		goto out;
	}
	if (seg->seq != seq) {
		ai_store_set_error("segment '%s': says it is number %llu", name,
		                   (unsigned long long)seg->seq);
		r = AI_ERR_VERIFY;
		goto out;
	}
	if (raw) {
		ai_buf_release(raw);
		*raw = buf;
		ai_buf_init(&buf, 0);
	}
out:
	ai_buf_release(&buf);
	return r;
}

/* Makes sure a segment found past the state has its signature. */
static ai_result ensure_signed(struct ai_store *dest, uint64_t seq, const struct ai_buf *raw,
                               const struct ai_signing_key *key)
{
	char name[128], sig_name[160];
	struct ai_blob_info info = { 0 };
	ai_result r;

	ai_archive_segment_name(seq, name, sizeof name);
	snprintf(sig_name, sizeof sig_name, "%s.minisig", name);
	r = ai_store_props(dest, sig_name, &info, NULL);
	ai_blob_info_release(&info);
	if (r != AI_ERR_NOT_FOUND || !key)
		return r == AI_ERR_NOT_FOUND ? AI_OK : r;
	ai_info("segment '%s': signing it (the run that wrote it stopped early)", name);
	return put_signature(dest, name, raw->data, raw->len, key, "segment", 0, 0);
}

/* Reads the state; a reader's check is run on its bytes before they are
 * decoded. */
static ai_result read_state(struct ai_store *dest, struct ai_buf *buf, ai_archive_check check,
                            void *ctx)
{
	ai_result r;

	r = ai_store_read(dest, AI_STATE_NAME, 0, 0, NULL, buf, NULL);
	if (r != AI_OK || !check)
		return r;
	r = check(ctx, "state", AI_STATE_NAME, buf);
	if (r == AI_ERR_VERIFY) {
		/* A run replaces the state and then its signature: a reader
		 * between the two sees them disagree. Read both again, once. */
		ai_buf_reset(buf);
		r = ai_store_read(dest, AI_STATE_NAME, 0, 0, NULL, buf, NULL);
		if (r == AI_OK)
			r = check(ctx, "state", AI_STATE_NAME, buf);
	}
	return r == AI_ERR_NOT_FOUND ? AI_ERR_VERIFY : r;
}

static ai_result open_archive(struct ai_archive *a, struct ai_store *dest,
                              const struct ai_signing_key *key, ai_archive_check check, void *ctx)
{
	struct ai_buf buf, raw;
	char why[256], name[128];
	ai_result r;

	memset(a, 0, sizeof *a);
	a->dest = dest;
	ai_state_init(&a->state);
	ai_buf_init(&buf, MAX_STATE_BYTES);
	ai_buf_init(&raw, 0);
	r = read_state(dest, &buf, check, ctx);
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
		r = AI_OK;
	}
	while (r == AI_OK) {
		struct ai_segment seg;
		uint8_t sha[AI_SHA256_LEN];
		uint64_t seq = a->state.next_seq;
		ai_segment_init(&seg);
		r = ai_archive_read_segment(dest, seq, &seg, sha, &raw);
		if (r == AI_OK && check) {
			ai_archive_segment_name(seq, name, sizeof name);
			r = check(ctx, "segment", name, &raw);
		}
		if (r == AI_OK)
			r = ai_state_add_segment(&a->state, &seg, sha);
		if (r == AI_OK && !check)
			r = ensure_signed(dest, seq, &raw, key);
		ai_segment_release(&seg);
		if (r == AI_OK)
			a->probed++;
	}
	if (r == AI_ERR_NOT_FOUND)
		r = AI_OK;
	ai_buf_release(&raw);
	ai_buf_release(&buf);
	return r;
}

ai_result ai_archive_open(struct ai_archive *a, struct ai_store *dest,
                          const struct ai_signing_key *key)
{
	return open_archive(a, dest, key, NULL, NULL);
}

ai_result ai_archive_open_checked(struct ai_archive *a, struct ai_store *dest,
                                  ai_archive_check check, void *ctx)
{
	return open_archive(a, dest, NULL, check, ctx);
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
	/* Signature first: a crash in between leaves a stray signature (the
	 * segment is then read in full), never an index no one can trust. */
	if (r == AI_OK)
		r = put_signature(dest, name, buf.data, buf.len, key, "segment-index", now, 0);
	if (r == AI_OK)
		r = ai_store_put(dest, name, buf.data, buf.len, AI_PUT_CREATE_ONLY, NULL, NULL);
	if (r != AI_OK)
		ai_warn("index '%s': %s; queries read the segment instead", name,
		        ai_store_why(r));
	ai_buf_release(&buf);
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
	r = ai_segment_encode(seg, &buf);
	if (r == AI_OK)
		r = ai_sha256(buf.data, buf.len, sha);
	if (r == AI_OK)
		r = ai_store_put(a->dest, name, buf.data, buf.len, AI_PUT_CREATE_ONLY, NULL, NULL);
	if (r == AI_OK)
		r = put_signature(a->dest, name, buf.data, buf.len, key, "segment", now, 0);
	if (r == AI_OK)
		r = ai_state_add_segment(&a->state, seg, sha);
	if (r == AI_OK)
		put_index(a->dest, seg, sha, bloom, bloom_len, key, now);
	ai_buf_release(&buf);
	return r;
}

ai_result ai_archive_save_state(struct ai_archive *a, const struct ai_signing_key *key,
                                ai_time now)
{
	struct ai_buf buf;
	ai_result r;

	a->state.updated = now;
	ai_buf_init(&buf, MAX_STATE_BYTES);
	r = ai_state_encode(&a->state, &buf);
	if (r == AI_OK)
		r = ai_store_put(a->dest, AI_STATE_NAME, buf.data, buf.len, 0, NULL, NULL);
	if (r == AI_OK)
		r = put_signature(a->dest, AI_STATE_NAME, buf.data, buf.len, key, "state", now, 1);
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
