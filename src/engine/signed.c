/* signed.c: writing manifest objects together with their signature, and
 * restoring a missing .minisig from what the object carries. */
#include <stdio.h>
#include <string.h>

#include "engine/signed.h"
#include "util/base64.h"
#include "util/crypto.h"
#include "util/hex.h"

#define META_SIG "minisig_sig"           /* the signature line (base64) */
#define META_COMMENT "minisig_comment"   /* the trusted comment */
#define META_GLOBAL "minisig_global"     /* the trusted comment's signature line */
#define UNTRUSTED "untrusted comment: signature from aiarchive key "
#define TRUSTED "trusted comment: "

/* Splits a .minisig text as ai_minisign_sign writes it into the metadata
 * entries of its three signed lines. */
static ai_result sig_to_meta(const struct ai_buf *sig, struct ai_meta *meta)
{
	static const char *const names[] = { META_SIG, META_COMMENT, META_GLOBAL };
	const char *p = sig->data, *end = sig->data + sig->len;
	const char *nl = memchr(p, '\n', sig->len);

	if (!nl)
		return AI_ERR_INTERNAL;
	p = nl + 1; /* the untrusted comment follows from the key id */
	meta->n = 0;
	for (size_t i = 0; i < 3; i++) {
		size_t n;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return AI_ERR_INTERNAL;
		n = (size_t)(nl - p);
		if (i == 1) {
			if (n < strlen(TRUSTED) || memcmp(p, TRUSTED, strlen(TRUSTED)) != 0)
				return AI_ERR_INTERNAL;
			p += strlen(TRUSTED);
			n -= strlen(TRUSTED);
		}
		if (n >= sizeof meta->kv[0].value)
			return AI_ERR_TOO_BIG;
		snprintf(meta->kv[meta->n].name, sizeof meta->kv[0].name, "%s", names[i]);
		memcpy(meta->kv[meta->n].value, p, n);
		meta->kv[meta->n].value[n] = '\0';
		meta->n++;
		p = nl + 1;
	}
	return AI_OK;
}

ai_result ai_signed_put_sig(struct ai_store *dest, const char *name, const char *text,
                            size_t len)
{
	char sig_name[1100];

	if ((size_t)snprintf(sig_name, sizeof sig_name, "%s.minisig", name) >= sizeof sig_name)
		return AI_ERR_TOO_BIG;
	return ai_store_put(dest, sig_name, text, len, 0, NULL, NULL);
}

/* The write of ai_signed_put and ai_signed_replace: replace 0
 * (create-only), 1 (replace), or 2 (replace while the ETag is etag, or
 * create-only when etag is empty). */
static ai_result signed_write(struct ai_store *dest, const char *name, const void *p, size_t n,
                              int replace, char etag[AI_ETAG_MAX],
                              const struct ai_signing_key *key, const char *what, ai_time now)
{
	uint8_t sha[AI_SHA256_LEN];
	char hex[2 * AI_SHA256_LEN + 1], when[AI_TIME_STRLEN], comment[512];
	struct ai_meta meta;
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
	if (r == AI_OK)
		r = sig_to_meta(&sig, &meta);
	if (r == AI_OK && replace == 2 && etag[0]) {
		char want[AI_ETAG_MAX];
		memcpy(want, etag, sizeof want);
		r = ai_store_put_if_match(dest, name, p, n, want, &meta, etag);
	}
	else if (r == AI_OK)
		r = ai_store_put(dest, name, p, n, replace == 1 ? 0 : AI_PUT_CREATE_ONLY, &meta, etag);
	/* The object is ours now, whatever a .minisig beside it says. */
	if (r == AI_OK)
		r = ai_signed_put_sig(dest, name, sig.data, sig.len);
out:
	ai_buf_release(&sig);
	return r;
}

ai_result ai_signed_put(struct ai_store *dest, const char *name, const void *p, size_t n,
                        int replace, const struct ai_signing_key *key, const char *what,
                        ai_time now)
{
	char etag[AI_ETAG_MAX];

	return signed_write(dest, name, p, n, replace ? 1 : 0, etag, key, what, now);
}

ai_result ai_signed_replace(struct ai_store *dest, const char *name, const void *p, size_t n,
                            char etag[AI_ETAG_MAX], const struct ai_signing_key *key,
                            const char *what, ai_time now)
{
	return signed_write(dest, name, p, n, 2, etag, key, what, now);
}

static const char *meta_get(const struct ai_meta *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->kv[i].name, name) == 0)
			return m->kv[i].value;
	return NULL;
}

ai_result ai_signed_carried(struct ai_store *dest, const char *name, struct ai_buf *out)
{
	struct ai_blob_info info = { 0 };
	struct ai_meta meta = { 0 };
	const char *sig, *comment, *global;
	uint8_t bin[2 + AI_MINISIGN_KEYID_LEN + AI_ED25519_SIG_LEN];
	char keyid[AI_MINISIGN_KEYID_HEXLEN];
	size_t binlen = 0;
	ai_result r;

	r = ai_store_props(dest, name, &info, &meta);
	ai_blob_info_release(&info);
	if (r != AI_OK)
		return r;
	sig = meta_get(&meta, META_SIG);
	comment = meta_get(&meta, META_COMMENT);
	global = meta_get(&meta, META_GLOBAL);
	if (!sig || !comment || !global ||
	    ai_base64_decode(sig, strlen(sig), bin, sizeof bin, &binlen) != AI_OK ||
	    binlen != sizeof bin)
		return AI_ERR_NOT_FOUND;
	ai_minisign_keyid_hex(bin + 2, keyid);
	return ai_buf_printf(out, UNTRUSTED "%s\n%s\n" TRUSTED "%s\n%s\n", keyid, sig, comment,
	                     global);
}
