/* trust.c: the key rules of ARCHITECTURE.md §9.2 (the archive's key chain from its
 * genesis; for an archive without one, --pubkey, else the published key, refused
 * unless it has the pinned --key-id) and one signed object's check. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/archive.h"
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "engine/signed.h"
#include "engine/trust.h"
#include "util/hex.h"

#define MAX_KEY_BYTES 4096

/* A published key, looked up once: usable, or why not. */
struct ai_trust_key {
	char id[AI_MINISIGN_KEYID_HEXLEN];
	int ok;
	char why[128];
	struct ai_minisign_pubkey pk;
};

void ai_trust_init(struct ai_trust *t)
{
	memset(t, 0, sizeof *t);
	pthread_mutex_init(&t->mu, NULL);
}

void ai_trust_release(struct ai_trust *t)
{
	if (!t)
		return;
	free(t->keys);
	pthread_mutex_destroy(&t->mu);
	memset(t, 0, sizeof *t);
}

void ai_trust_use_key(struct ai_trust *t, const struct ai_signing_key *k)
{
	ai_signing_key_pubkey(k, &t->pubkey);
	t->has_pubkey = 1;
	ai_minisign_keyid_hex(t->pubkey.keyid, t->key_id);
}

ai_result ai_trust_parse_key_id(const char *s, char out[AI_MINISIGN_KEYID_HEXLEN])
{
	if (!s || strlen(s) != 16 || strspn(s, "0123456789abcdefABCDEF") != 16)
		return AI_ERR_USAGE;
	for (size_t i = 0; i <= 16; i++)
		out[i] = (s[i] >= 'a' && s[i] <= 'f') ? (char)(s[i] - 'a' + 'A') : s[i];
	return AI_OK;
}

ai_result ai_trust_from_options(struct ai_trust *t, const struct ai_cmd *cmd,
                                const struct ai_options *o)
{
	ai_result r;

	if (o->key_id && ai_trust_parse_key_id(o->key_id, t->key_id) != AI_OK)
		return ai_cmd_usage_error(cmd, "--key-id wants 16 hex digits");
	if (o->pubkey) {
		r = ai_minisign_pubkey_load(o->pubkey, &t->pubkey);
		if (r != AI_OK)
			return r;
		t->has_pubkey = 1;
	}
	return AI_OK;
}

int ai_trust_pubkey_conflict(const struct ai_trust *t, char *why, size_t cap)
{
	char hex[AI_MINISIGN_KEYID_HEXLEN];

	if (!t->has_pubkey || !t->key_id[0])
		return 0;
	ai_minisign_keyid_hex(t->pubkey.keyid, hex);
	if (strcmp(hex, t->key_id) == 0)
		return 0;
	snprintf(why, cap, "has key id %s, not the pinned %s", hex, t->key_id);
	return 1;
}

size_t ai_trust_chain_find(const struct ai_trust *t, const char *hex)
{
	char have[AI_MINISIGN_KEYID_HEXLEN];

	for (size_t i = 0; i < t->nchain; i++) {
		ai_minisign_keyid_hex(t->chain[i].keyid, have);
		if (strcmp(have, hex) == 0)
			return i;
	}
	return t->nchain;
}

/* "A, B and C": the chain's key ids, for messages. */
static void chain_ids(const struct ai_trust *t, size_t from, char *out, size_t cap)
{
	char hex[AI_MINISIGN_KEYID_HEXLEN];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = from; i < t->nchain && len < cap; i++) {
		ai_minisign_keyid_hex(t->chain[i].keyid, hex);
		len += (size_t)snprintf(out + len, cap - len, "%s%s",
		                        i == from ? "" : i + 1 == t->nchain ? " then " : ", ", hex);
	}
}

ai_result ai_trust_set_chain(struct ai_trust *t, const char *archive_id,
                             const struct ai_minisign_pubkey *keys, size_t n)
{
	char hex[AI_MINISIGN_KEYID_HEXLEN];

	if (n == 0 || n > AI_TRUST_MAX_KEYS)
		return AI_ERR_INTERNAL;
	memcpy(t->chain, keys, n * sizeof *keys);
	t->nchain = n;
	t->anchor = 0;
	snprintf(t->archive_id, sizeof t->archive_id, "%s", archive_id);
	t->has_chain = 1;
	if (t->has_pubkey) {
		ai_minisign_keyid_hex(t->pubkey.keyid, hex);
		t->anchor = ai_trust_chain_find(t, hex);
		if (t->anchor < n && memcmp(t->chain[t->anchor].pk, t->pubkey.pk, sizeof t->pubkey.pk))
			t->anchor = n; /* the id, not the key */
	} else if (t->key_id[0]) {
		t->anchor = ai_trust_chain_find(t, t->key_id);
	}
	return AI_OK;
}

int ai_trust_pin_outside(const struct ai_trust *t, char *why, size_t cap)
{
	char hex[AI_MINISIGN_KEYID_HEXLEN], ids[AI_TRUST_MAX_KEYS * 24];

	if (!t->has_chain || t->anchor < t->nchain)
		return 0;
	chain_ids(t, 0, ids, sizeof ids);
	if (t->has_pubkey)
		ai_minisign_keyid_hex(t->pubkey.keyid, hex);
	snprintf(why, cap, "the %s key %s is not one of this archive's keys (%s)",
	         t->has_pubkey ? "--pubkey" : "pinned", t->has_pubkey ? hex : t->key_id, ids);
	return 1;
}

ai_result ai_trust_chain_add(struct ai_trust *t, const struct ai_minisign_pubkey *k)
{
	if (t->nchain >= AI_TRUST_MAX_KEYS)
		return AI_ERR_TOO_BIG;
	t->chain[t->nchain++] = *k;
	return AI_OK;
}

const char *ai_trust_how(const struct ai_trust *t)
{
	if (t->has_pubkey)
		return "pubkey";
	if (t->key_id[0])
		return "pinned";
	return t->has_chain ? "genesis" : "published";
}

size_t ai_trust_key_ids(struct ai_trust *t, char (*ids)[AI_MINISIGN_KEYID_HEXLEN],
                        size_t max)
{
	size_t n = 0;

	if (t->has_chain) {
		for (size_t i = t->anchor; i < t->nchain && n < max; i++)
			ai_minisign_keyid_hex(t->chain[i].keyid, ids[n++]);
	} else if (t->has_pubkey && max) {
		ai_minisign_keyid_hex(t->pubkey.keyid, ids[n++]);
	} else if (t->key_id[0] && max) {
		memcpy(ids[n++], t->key_id, AI_MINISIGN_KEYID_HEXLEN);
	} else {
		pthread_mutex_lock(&t->mu);
		for (size_t i = 0; i < t->nkeys && n < max; i++)
			if (t->keys[i].ok)
				memcpy(ids[n++], t->keys[i].id, AI_MINISIGN_KEYID_HEXLEN);
		pthread_mutex_unlock(&t->mu);
	}
	return n;
}

void ai_trust_describe(struct ai_trust *t, char *out, size_t cap)
{
	static const struct { const char *how, *text; } texts[] = {
		{ "pubkey", "from --pubkey" },
		{ "pinned", "pinned" },
		{ "genesis", "the archive's genesis key, not pinned" },
		{ "published", "published key, not pinned" },
	};
	char ids[8][AI_MINISIGN_KEYID_HEXLEN], rest[AI_TRUST_MAX_KEYS * 24];
	const char *how = ai_trust_how(t), *text = "";
	size_t n = ai_trust_key_ids(t, ids, 8), len = 0;

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (strcmp(texts[i].how, how) == 0)
			text = texts[i].text;
	if (t->has_chain && t->anchor == t->nchain) {
		ai_trust_pin_outside(t, rest, sizeof rest);
		snprintf(out, cap, "archive %s: trusting no key (%s)", t->archive_id, rest);
		return;
	}
	if (t->has_chain) {
		ai_minisign_keyid_hex(t->chain[t->anchor].keyid, ids[0]);
		chain_ids(t, t->anchor + 1, rest, sizeof rest);
		snprintf(out, cap, "archive %s: trusting key %s (%s)%s%s", t->archive_id, ids[0], text,
		         *rest ? ", rotated to " : "", rest);
		return;
	}
	if (n == 0) {
		snprintf(out, cap, "trusting the keys the archive publishes (not pinned; none used)");
		return;
	}
	len = (size_t)snprintf(out, cap, "trusting key%s ", n > 1 ? "s" : "");
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", ids[i]);
	if (len < cap)
		snprintf(out + len, cap - len, " (%s%s)", text,
		         n > 1 && strcmp(how, "published") == 0 ? "; several keys" : "");
}

static ai_result fail(struct ai_trust_verdict *v, enum ai_trust_fault f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static ai_result fail(struct ai_trust_verdict *v, enum ai_trust_fault f, const char *fmt, ...)
{
	va_list ap;

	v->fault = f;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof v->why, fmt, ap);
	va_end(ap);
	return AI_ERR_VERIFY;
}

/* The published key of the signer v->signer, read from dest once; a key
 * that is missing or unusable is remembered too, so that it is read (and
 * reported, see key_first) once. */
static ai_result published_key(struct ai_trust *t, struct ai_store *dest,
                               struct ai_minisign_pubkey *pk, struct ai_trust_verdict *v)
{
	char have[AI_MINISIGN_KEYID_HEXLEN];
	struct ai_trust_key *k = NULL;
	struct ai_buf text;
	ai_result r = AI_OK;

	snprintf(v->key_name, sizeof v->key_name, AI_KEYS_DIR "%s.pub", v->signer);
	ai_buf_init(&text, MAX_KEY_BYTES);
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < t->nkeys; i++)
		if (strcmp(t->keys[i].id, v->signer) == 0)
			k = &t->keys[i];
	if (!k) {
		struct ai_trust_key *nk = realloc(t->keys, (t->nkeys + 1) * sizeof *nk);
		if (!nk) {
			r = AI_ERR_NOMEM;
			goto out;
		}
		t->keys = nk;
		k = &t->keys[t->nkeys];
		memset(k, 0, sizeof *k);
		snprintf(k->id, sizeof k->id, "%s", v->signer);
		r = ai_store_read(dest, v->key_name, 0, 0, NULL, &text, NULL);
		if (r == AI_ERR_NOT_FOUND || r == AI_ERR_TOO_BIG) {
			snprintf(k->why, sizeof k->why, "%s",
			         r == AI_ERR_NOT_FOUND ? "not published" : "too large");
			r = AI_OK;
		} else if (r != AI_OK) {
			goto out; /* not remembered: a later check may read it */
		} else if (ai_minisign_pubkey_parse(text.data, text.len, &k->pk) != AI_OK) {
			snprintf(k->why, sizeof k->why, "not a minisign public key");
		} else {
			ai_minisign_keyid_hex(k->pk.keyid, have);
			if (strcmp(have, v->signer) != 0)
				snprintf(k->why, sizeof k->why, "holds key %s, not %s", have, v->signer);
			else
				k->ok = 1;
		}
		t->nkeys++;
		v->key_first = 1;
	}
	if (k->ok)
		*pk = k->pk;
	else
		r = fail(v, AI_TRUST_NO_KEY, "%s", k->why);
out:
	pthread_mutex_unlock(&t->mu);
	ai_buf_release(&text);
	return r;
}

/* p past word when p starts with it, else NULL (also for a NULL p). */
static const char *skip(const char *p, const char *word)
{
	size_t n = strlen(word);

	return p && strncmp(p, word, n) == 0 ? p + n : NULL;
}

/* 1 when p is at the end of a field of the comment. */
static int field_end(const char *p)
{
	return p && (*p == ' ' || *p == '\0');
}

/* The trusted comment: "aiarchive <kind> <name> sha256=<hex>[ run=<id>] ...". */
static ai_result check_comment(const struct ai_trust_object *obj, const char *tc,
                               const uint8_t sha[AI_SHA256_LEN], struct ai_trust_verdict *v)
{
	char hex[2 * AI_SHA256_LEN + 1];
	const char *p;

	p = skip(skip(skip(skip(skip(tc, "aiarchive "), obj->kind), " "), obj->name), " ");
	if (!p)
		return fail(v, AI_TRUST_OTHER_OBJECT, "signature is for another object ('%.200s')", tc);
	ai_hex(sha, AI_SHA256_LEN, hex);
	p = skip(skip(p, "sha256="), hex);
	if (!field_end(p))
		return fail(v, AI_TRUST_OTHER_OBJECT, "signed sha256 does not match the object");
	if (obj->run_id && !field_end(skip(skip(p, " run="), obj->run_id)))
		return fail(v, AI_TRUST_OTHER_OBJECT, "signed by another run than the segment's (%s)",
		            obj->run_id);
	return AI_OK;
}

ai_result ai_trust_check(struct ai_trust *t, struct ai_store *dest,
                         const struct ai_trust_object *obj, const char *sig, size_t siglen,
                         struct ai_trust_verdict *v)
{
	/* Both are large (a trusted comment may hold 8 KiB): kept off the
	 * stacks of the threads that check packs. */
	struct ai_minisign_sig *parsed = malloc(sizeof *parsed);
	char *tc = malloc(AI_MINISIGN_TRUSTED_MAX + 1);
	struct ai_minisign_pubkey pk;
	uint8_t sha[AI_SHA256_LEN];
	const char *why = "malformed signature";
	ai_result r;

	memset(v, 0, sizeof *v);
	if (!parsed || !tc) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	if (ai_minisign_sig_parse(sig, siglen, parsed, &why) != AI_OK) {
		r = fail(v, AI_TRUST_MALFORMED, "%s", why);
		goto out;
	}
	ai_minisign_keyid_hex(parsed->keyid, v->signer);
	if (t->has_chain && t->anchor < t->nchain) {
		size_t i = ai_trust_chain_find(t, v->signer);
		char anchor[AI_MINISIGN_KEYID_HEXLEN];
		if (i == t->nchain) {
			r = fail(v, AI_TRUST_FOREIGN_KEY, "signed by key %s, which is not one of this "
			         "archive's keys (its genesis and key rotations)", v->signer);
			goto out;
		}
		if (i < t->anchor) {
			ai_minisign_keyid_hex(t->chain[t->anchor].keyid, anchor);
			r = fail(v, AI_TRUST_NOT_PINNED, "signed by key %s, which the archive replaced "
			         "before the pinned key %s", v->signer, anchor);
			goto out;
		}
		pk = t->chain[i];
	} else if (t->key_id[0] && strcmp(v->signer, t->key_id) != 0) {
		r = fail(v, AI_TRUST_NOT_PINNED, "signed by key %s, not the pinned key %s", v->signer,
		         t->key_id);
		goto out;
	} else if (t->has_pubkey) {
		pk = t->pubkey;
	} else if (t->has_chain) {
		/* pinned to the signer's id, which is not the archive's */
		r = fail(v, AI_TRUST_FOREIGN_KEY, "signed by the pinned key %s, which is not one of "
		         "this archive's keys", v->signer);
		goto out;
	} else if ((r = published_key(t, dest, &pk, v)) != AI_OK) {
		goto out;
	}
	ai_minisign_keyid_hex(pk.keyid, v->key);
	if (obj->data)
		r = ai_minisign_verify(&pk, obj->data, obj->len, sig, siglen, tc,
		                       AI_MINISIGN_TRUSTED_MAX + 1, &why);
	else
		r = ai_minisign_verify_digest(&pk, obj->blake2b, sig, siglen, tc,
		                              AI_MINISIGN_TRUSTED_MAX + 1, &why);
	if (r == AI_ERR_NOMEM)
		goto out;
	if (r != AI_OK) {
		r = fail(v, AI_TRUST_BAD_SIGNATURE, "%s", why);
		goto out;
	}
	if (!obj->sha256 && (r = ai_sha256(obj->data, obj->len, sha)) != AI_OK)
		goto out;
	r = check_comment(obj, tc, obj->sha256 ? obj->sha256 : sha, v);
	if (r == AI_OK && t->has_chain && t->anchor == t->nchain)
		r = fail(v, AI_TRUST_FOREIGN_KEY, "signed by the --pubkey key %s, which is not one of "
		         "this archive's keys", v->signer);
out:
	free(tc);
	free(parsed);
	return r;
}

/* 1 for the objects that are replaced rather than written once: the state
 * and a witness's checkpoint. */
static int replaced(const char *kind)
{
	return strcmp(kind, "state") == 0 || strcmp(kind, "checkpoint") == 0;
}

ai_result ai_trust_check_stored(struct ai_trust *t, struct ai_store *dest,
                                const struct ai_trust_object *obj, struct ai_trust_verdict *v)
{
	return ai_trust_check_stored_in(t, dest, dest, obj, v);
}

ai_result ai_trust_check_stored_in(struct ai_trust *t, struct ai_store *dest,
                                   struct ai_store *where, const struct ai_trust_object *obj,
                                   struct ai_trust_verdict *v)
{
	size_t n = strlen(obj->name) + sizeof ".minisig";
	char *sig_name = malloc(n);
	struct ai_trust_verdict file_v;
	struct ai_buf sig;
	ai_result r;

	memset(v, 0, sizeof *v);
	ai_buf_init(&sig, AI_MINISIGN_SIGFILE_MAX);
	if (!sig_name) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	snprintf(sig_name, n, "%s.minisig", obj->name);
	r = ai_store_read(where, sig_name, 0, 0, NULL, &sig, NULL);
	if (r == AI_ERR_NOT_FOUND || r == AI_ERR_TOO_BIG)
		r = fail(v, AI_TRUST_NO_SIGNATURE, "signature %s is %s", sig_name,
		         r == AI_ERR_NOT_FOUND ? "missing" : "too large");
	else if (r == AI_OK)
		r = ai_trust_check(t, dest, obj, sig.data, sig.len, v);
	/* A create-only object is written once and its .minisig right after:
	 * only a missing one is a crash to heal, a wrong one is tampering. The
	 * state and checkpoints are replaced, so a stale .minisig is a crash too. */
	if (r != AI_ERR_VERIFY || !obj->data ||
	    (v->fault != AI_TRUST_NO_SIGNATURE && !replaced(obj->kind)))
		goto out;
	/* The object may carry its signature (signed.h): a crash between the
	 * object and its .minisig, or a .minisig replaced after the object,
	 * leaves the carried one as the proof. */
	file_v = *v;
	ai_buf_reset(&sig);
	if (ai_signed_carried(where, obj->name, &sig) != AI_OK ||
	    ai_trust_check(t, dest, obj, sig.data, sig.len, v) != AI_OK) {
		*v = file_v;
		goto out;
	}
	v->carried = 1;
	snprintf(v->why, sizeof v->why, "%s", file_v.why);
	r = AI_OK;
out:
	free(sig_name);
	ai_buf_release(&sig);
	return r;
}
