/* identity.c: the genesis, the key rotation records and the key chain they
 * make. Every record is checked before it is used: the genesis with the
 * key it names (it is where trust starts; --pubkey or --key-id is how a
 * reader ties it to something outside the archive), each rotation with the
 * key it replaces. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/archive.h"
#include "engine/identity.h"
#include "engine/signed.h"
#include "format/manifest_codec.h"
#include "util/hex.h"

#define MAX_RECORD_BYTES 4096
#define KIND_ROTATION "key-rotation" /* as its trusted comment names it */

void ai_identity_rotation_name(uint64_t seq, char *out, size_t cap)
{
	snprintf(out, cap, AI_ROTATION_NAME_FMT, (unsigned long long)seq);
}

static int same_key(const struct ai_minisign_pubkey *a, const struct ai_minisign_pubkey *b)
{
	return memcmp(a->keyid, b->keyid, sizeof a->keyid) == 0 &&
	       memcmp(a->pk, b->pk, sizeof a->pk) == 0;
}

/* What reading the records carries along. */
struct reader {
	struct ai_store *dest;
	struct ai_identity *id;
	ai_identity_note note;
	void *ctx;
	struct ai_buf raw;           /* the record being read */
};

static ai_result bad(struct reader *rd, const char *kind, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Records what is wrong with a record (in id->bad_* and for ai_store_why). */
static ai_result bad(struct reader *rd, const char *kind, const char *name, const char *fmt, ...)
{
	struct ai_identity *id = rd->id;
	va_list ap;

	snprintf(id->bad_kind, sizeof id->bad_kind, "%s", kind);
	snprintf(id->bad_name, sizeof id->bad_name, "%s", name);
	va_start(ap, fmt);
	vsnprintf(id->bad_why, sizeof id->bad_why, fmt, ap);
	va_end(ap);
	ai_store_set_error("%s '%s': %s", kind, name, id->bad_why);
	return AI_ERR_VERIFY;
}

/* Checks the signature of the record in rd->raw with pk alone. */
static ai_result check_record(struct reader *rd, const char *kind, const char *name,
                              const struct ai_minisign_pubkey *pk)
{
	struct ai_trust_object obj = { .kind = kind, .name = name, .data = rd->raw.data,
	                               .len = rd->raw.len };
	struct ai_trust_verdict v;
	struct ai_trust t;
	char want[AI_MINISIGN_KEYID_HEXLEN];
	ai_result r;

	ai_trust_init(&t);
	t.has_pubkey = 1;
	t.pubkey = *pk;
	r = ai_trust_check_stored(&t, rd->dest, &obj, &v);
	ai_trust_release(&t);
	ai_minisign_keyid_hex(pk->keyid, want);
	if (r == AI_ERR_VERIFY && v.signer[0] && strcmp(v.signer, want) != 0)
		return bad(rd, kind, name, "signed by key %s, not by key %s", v.signer, want);
	if (r == AI_ERR_VERIFY)
		return bad(rd, kind, name, "%s (key %s)", v.why, want);
	if (r == AI_OK && v.carried && rd->note)
		rd->note(rd->ctx, kind, name, v.why);
	return r;
}

static ai_result read_record(struct reader *rd, const char *kind, const char *name)
{
	ai_result r;

	ai_buf_reset(&rd->raw);
	r = ai_store_read(rd->dest, name, 0, 0, NULL, &rd->raw, NULL);
	if (r == AI_ERR_TOO_BIG)
		return bad(rd, kind, name, "larger than any such record can be");
	return r;
}

/* The rotation records listed: their numbers, ascending. */
struct listed {
	uint64_t seqs[AI_TRUST_MAX_KEYS];
	size_t n;            /* how many are in seqs */
	size_t more;         /* how many did not fit */
};

static ai_result list_rotation(void *ctx, const struct ai_blob_list *page)
{
	struct listed *l = ctx;

	for (size_t i = 0; i < page->n; i++) {
		unsigned long long seq;
		char name[64];
		if (sscanf(page->blobs[i].name, AI_ROTATION_PREFIX "%12llu", &seq) != 1)
			continue;
		ai_identity_rotation_name(seq, name, sizeof name);
		if (strcmp(name, page->blobs[i].name) != 0)
			continue; /* a .minisig, or a name no record has */
		if (l->n < sizeof l->seqs / sizeof l->seqs[0])
			l->seqs[l->n++] = seq;
		else
			l->more++;
	}
	return AI_OK;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static ai_result read_genesis(struct reader *rd)
{
	struct ai_identity *id = rd->id;
	struct ai_genesis g;
	char why[256];
	ai_result r = read_record(rd, "genesis", AI_GENESIS_NAME);

	if (r != AI_OK)
		return r;
	if (ai_genesis_decode(rd->raw.data, rd->raw.len, &g, why, sizeof why) != AI_OK)
		return bad(rd, "genesis", AI_GENESIS_NAME, "cannot decode it: %s", why);
	r = check_record(rd, "genesis", AI_GENESIS_NAME, &g.key);
	if (r != AI_OK)
		return r;
	memcpy(id->archive_id, g.archive_id, sizeof id->archive_id);
	id->created = g.created;
	id->keys[0] = g.key;
	id->nkeys = 1;
	return AI_OK;
}

/* Checks rotation record seq against the chain so far and appends its key. */
static ai_result read_rotation(struct reader *rd, uint64_t seq)
{
	struct ai_identity *id = rd->id;
	const struct ai_minisign_pubkey *prev = &id->keys[id->nkeys - 1];
	char name[64], why[256], prev_hex[AI_MINISIGN_KEYID_HEXLEN];
	struct ai_key_rotation k;
	ai_result r;

	ai_identity_rotation_name(seq, name, sizeof name);
	r = read_record(rd, KIND_ROTATION, name);
	if (r == AI_ERR_NOT_FOUND)
		return bad(rd, KIND_ROTATION, name, "listed, then gone");
	if (r == AI_OK)
		r = check_record(rd, KIND_ROTATION, name, prev);
	if (r != AI_OK)
		return r;
	if (ai_key_rotation_decode(rd->raw.data, rd->raw.len, &k, why, sizeof why) != AI_OK)
		return bad(rd, KIND_ROTATION, name, "cannot decode it: %s", why);
	ai_minisign_keyid_hex(prev->keyid, prev_hex);
	if (strcmp(k.archive_id, id->archive_id) != 0)
		return bad(rd, KIND_ROTATION, name, "is for archive %s, not %s", k.archive_id,
		           id->archive_id);
	if (k.seq != seq)
		return bad(rd, KIND_ROTATION, name, "says it is number %llu",
		           (unsigned long long)k.seq);
	if (strcmp(k.old_key_id, prev_hex) != 0)
		return bad(rd, KIND_ROTATION, name, "replaces key %s, but the archive's key was %s",
		           k.old_key_id, prev_hex);
	for (size_t i = 0; i < id->nkeys; i++)
		if (memcmp(id->keys[i].keyid, k.new_key.keyid, sizeof k.new_key.keyid) == 0)
			return bad(rd, KIND_ROTATION, name, "brings back key %s, key %zu of the chain",
			           k.new_key_id, i);
	id->keys[id->nkeys++] = k.new_key;
	return AI_OK;
}

ai_result ai_identity_read(struct ai_store *dest, struct ai_identity *id, ai_identity_note note,
                           void *ctx)
{
	struct reader rd = { .dest = dest, .id = id, .note = note, .ctx = ctx };
	struct listed l = { .n = 0 };
	ai_result r;

	memset(id, 0, sizeof *id);
	ai_buf_init(&rd.raw, MAX_RECORD_BYTES);
	r = read_genesis(&rd);
	if (r != AI_OK)
		goto out;
	r = ai_store_list_each(dest, AI_ROTATION_PREFIX, NULL, list_rotation, &l);
	if (r == AI_ERR_NOT_FOUND)
		r = AI_OK;
	if (r != AI_OK)
		goto out;
	if (l.more || l.n >= AI_TRUST_MAX_KEYS) {
		r = bad(&rd, KIND_ROTATION, AI_ROTATION_PREFIX, "more than the %d an archive can have",
		        AI_TRUST_MAX_KEYS - 1);
		goto out;
	}
	qsort(l.seqs, l.n, sizeof l.seqs[0], cmp_u64);
	for (size_t i = 0; r == AI_OK && i < l.n; i++) {
		if (l.seqs[i] != i + 1) {
			char want[64], have[64];
			ai_identity_rotation_name(i + 1, want, sizeof want);
			ai_identity_rotation_name(l.seqs[i], have, sizeof have);
			r = bad(&rd, KIND_ROTATION, want, "missing, yet '%s' is there", have);
			break;
		}
		r = read_rotation(&rd, l.seqs[i]);
	}
out:
	ai_buf_release(&rd.raw);
	return r;
}

static void restore_note(void *ctx, const char *kind, const char *name, const char *why)
{
	ai_archive_restore_signature(ctx, kind, name, why);
}

ai_result ai_archive_keys(struct ai_store *dest, struct ai_trust *t, int heal)
{
	struct ai_identity *id = malloc(sizeof *id);
	ai_result r;

	if (!id)
		return AI_ERR_NOMEM;
	r = ai_identity_read(dest, id, heal ? restore_note : NULL, dest);
	if (r == AI_OK)
		r = ai_trust_set_chain(t, id->archive_id, id->keys, id->nkeys);
	free(id);
	return r;
}

/* ----- init ----- */

/* What adopting an archive checks each segment of its chain with. */
struct adopt {
	struct ai_store *dest;
	struct ai_trust *trust;
};

static ai_result adopt_segment(void *ctx, const struct ai_archive_link *l)
{
	struct adopt *ad = ctx;
	ai_result r = ai_archive_link_trusted(ad->dest, ad->trust, l);

	if (r == AI_OK && !l->linked) {
		ai_store_set_error("segment '%s': does not link to the segment before it", l->name);
		r = AI_ERR_VERIFY;
	}
	return r;
}

/* An archive made before init: its state and every segment must verify
 * with key and form one chain ending at the state's head. */
static ai_result check_adoptable(struct ai_store *dest, const struct ai_signing_key *key,
                                 struct ai_init_report *rep)
{
	struct ai_trust trust;
	struct ai_archive a;
	struct ai_archive_walk w = { 0 };
	struct adopt ad = { dest, &trust };
	ai_result r;

	ai_trust_init(&trust);
	ai_trust_use_key(&trust, key);
	r = ai_archive_open(&a, dest, &trust, 0);
	if (r == AI_OK && (a.state_found || a.state.next_seq)) {
		rep->adopted = 1;
		rep->segments = a.state.next_seq;
		w.to = a.state.next_seq;
		r = ai_archive_walk(dest, &w, adopt_segment, &ad);
		if (r == AI_ERR_NOT_FOUND) {
			ai_store_set_error("the chain has a gap: a segment before %llu is missing",
			                   (unsigned long long)a.state.next_seq);
			r = AI_ERR_VERIFY;
		}
		if (r == AI_OK && memcmp(w.head, a.state.head_sha256, sizeof w.head) != 0) {
			ai_store_set_error("the chain does not end at the state's head");
			r = AI_ERR_VERIFY;
		}
	}
	if (r == AI_ERR_VERIFY) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", ai_store_last_error());
		ai_store_set_error("dest '%s': holds an archive without a genesis that does not "
		                   "verify with key %s: %s", ai_store_describe(dest), trust.key_id,
		                   msg);
	}
	ai_archive_release(&a);
	ai_trust_release(&trust);
	return r;
}

/* The destination has a genesis: which archive it is, for the message. */
static ai_result already(struct ai_store *dest, const struct ai_buf *raw,
                         struct ai_init_report *rep)
{
	struct ai_genesis g;
	char why[256];

	if (ai_genesis_decode(raw->data, raw->len, &g, why, sizeof why) == AI_OK)
		memcpy(rep->archive_id, g.archive_id, sizeof rep->archive_id);
	ai_store_set_error("dest '%s': already an archive (id %s)", ai_store_describe(dest),
	                   rep->archive_id[0] ? rep->archive_id : "unreadable");
	return AI_ERR_EXISTS;
}

ai_result ai_identity_create(struct ai_store *dest, const struct ai_signing_key *key, ai_time now,
                             struct ai_init_report *rep)
{
	struct ai_genesis g;
	struct ai_buf raw;
	uint8_t rnd[16];
	ai_result r;

	memset(rep, 0, sizeof *rep);
	memset(&g, 0, sizeof g);
	ai_buf_init(&raw, MAX_RECORD_BYTES);
	r = ai_store_read(dest, AI_GENESIS_NAME, 0, 0, NULL, &raw, NULL);
	if (r == AI_OK || r == AI_ERR_TOO_BIG) {
		r = already(dest, &raw, rep);
		goto out;
	}
	if (r != AI_ERR_NOT_FOUND)
		goto out;
	r = check_adoptable(dest, key, rep);
	if (r == AI_OK)
		r = ai_store_create_container(dest);
	if (r == AI_OK)
		r = ai_archive_publish_key(dest, key);
	if (r == AI_OK)
		r = ai_random(rnd, sizeof rnd);
	if (r != AI_OK)
		goto out;
	ai_hex(rnd, sizeof rnd, g.archive_id);
	ai_signing_key_pubkey(key, &g.key);
	ai_minisign_keyid_hex(g.key.keyid, g.key_id);
	g.created = now;
	ai_buf_reset(&raw);
	r = ai_genesis_encode(&g, &raw);
	if (r == AI_OK)
		r = ai_signed_put(dest, AI_GENESIS_NAME, raw.data, raw.len, 0, key, "genesis", now);
	if (r == AI_ERR_EXISTS) { /* another init won */
		ai_buf_reset(&raw);
		if (ai_store_read(dest, AI_GENESIS_NAME, 0, 0, NULL, &raw, NULL) != AI_OK)
			ai_buf_reset(&raw);
		r = already(dest, &raw, rep);
		goto out;
	}
	if (r != AI_OK)
		goto out;
	memcpy(rep->archive_id, g.archive_id, sizeof rep->archive_id);
	memcpy(rep->key_id, g.key_id, sizeof rep->key_id);
out:
	ai_cleanse(rnd, sizeof rnd);
	ai_buf_release(&raw);
	return r;
}

/* ----- the current key and rotation ----- */

ai_result ai_identity_check_key(const struct ai_trust *t, const struct ai_signing_key *key)
{
	struct ai_minisign_pubkey pk;
	char have[AI_MINISIGN_KEYID_HEXLEN], cur[AI_MINISIGN_KEYID_HEXLEN];
	size_t i;

	ai_signing_key_pubkey(key, &pk);
	if (same_key(&pk, &t->chain[t->nchain - 1]))
		return AI_OK;
	ai_minisign_keyid_hex(pk.keyid, have);
	ai_minisign_keyid_hex(t->chain[t->nchain - 1].keyid, cur);
	i = ai_trust_chain_find(t, have);
	if (i < t->nchain && same_key(&pk, &t->chain[i]))
		ai_store_set_error("key %s is not this archive's current key %s: key rotation %zu "
		                   "replaced it; sign with the current key", have, cur, i + 1);
	else if (strcmp(have, cur) == 0)
		ai_store_set_error("key %s is not this archive's current key %s: another key under "
		                   "the same id", have, cur);
	else
		ai_store_set_error("key %s is not this archive's current key %s; use --rotate-key "
		                   "--old-key FILE (the private key of %s) to make %s its key", have,
		                   cur, cur, have);
	return AI_ERR_VERIFY;
}

ai_result ai_identity_can_rotate(const struct ai_trust *t, const struct ai_signing_key *from,
                                 const struct ai_signing_key *to, int *already)
{
	struct ai_minisign_pubkey pk_from, pk_to;
	const struct ai_minisign_pubkey *cur = &t->chain[t->nchain - 1];
	char from_hex[AI_MINISIGN_KEYID_HEXLEN], to_hex[AI_MINISIGN_KEYID_HEXLEN];
	char cur_hex[AI_MINISIGN_KEYID_HEXLEN];
	size_t i;

	*already = 0;
	ai_signing_key_pubkey(from, &pk_from);
	ai_signing_key_pubkey(to, &pk_to);
	ai_minisign_keyid_hex(pk_from.keyid, from_hex);
	ai_minisign_keyid_hex(pk_to.keyid, to_hex);
	ai_minisign_keyid_hex(cur->keyid, cur_hex);
	if (same_key(&pk_from, &pk_to)) {
		ai_store_set_error("--old-key and --key are the same key %s", from_hex);
		return AI_ERR_USAGE;
	}
	if (same_key(&pk_to, cur) && t->nchain >= 2 &&
	    same_key(&pk_from, &t->chain[t->nchain - 2])) {
		*already = 1; /* done before: a retried rotation */
		return AI_OK;
	}
	if (!same_key(&pk_from, cur)) {
		ai_store_set_error("key %s is not this archive's current key %s; --old-key must be "
		                   "it", from_hex, cur_hex);
		return AI_ERR_VERIFY;
	}
	i = ai_trust_chain_find(t, to_hex);
	if (i < t->nchain) {
		ai_store_set_error("key %s was this archive's key before (key %zu of its chain); a "
		                   "replaced key does not come back", to_hex, i);
		return AI_ERR_CONFIG;
	}
	if (t->nchain >= AI_TRUST_MAX_KEYS) {
		ai_store_set_error("the archive has had %d key rotations, the most it can",
		                   AI_TRUST_MAX_KEYS - 1);
		return AI_ERR_CONFIG;
	}
	return AI_OK;
}

ai_result ai_identity_rotate(struct ai_store *dest, struct ai_trust *t,
                             const struct ai_signing_key *from, const struct ai_signing_key *to,
                             ai_time now, int *done)
{
	struct ai_key_rotation k;
	char name[64];
	struct ai_buf raw;
	int already;
	ai_result r;

	if (done)
		*done = 0;
	r = ai_identity_can_rotate(t, from, to, &already);
	if (r != AI_OK || already)
		return r;
	memset(&k, 0, sizeof k);
	memcpy(k.archive_id, t->archive_id, sizeof k.archive_id);
	k.seq = t->nchain;
	ai_minisign_keyid_hex(t->chain[t->nchain - 1].keyid, k.old_key_id);
	ai_signing_key_pubkey(to, &k.new_key);
	ai_minisign_keyid_hex(k.new_key.keyid, k.new_key_id);
	k.created = now;
	ai_identity_rotation_name(k.seq, name, sizeof name);
	ai_buf_init(&raw, MAX_RECORD_BYTES);
	r = ai_archive_publish_key(dest, to);
	if (r == AI_OK)
		r = ai_key_rotation_encode(&k, &raw);
	if (r == AI_OK)
		r = ai_signed_put(dest, name, raw.data, raw.len, 0, from, KIND_ROTATION, now);
	if (r == AI_ERR_EXISTS)
		ai_store_set_error(KIND_ROTATION " '%s': written by someone else meanwhile; nothing "
		                   "done (run again to see the archive's key now)", name);
	if (r == AI_OK)
		r = ai_trust_chain_add(t, &k.new_key);
	if (r == AI_OK && done)
		*done = 1;
	ai_buf_release(&raw);
	return r;
}
