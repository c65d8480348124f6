/* crypto.c: SHA-256, BLAKE2b-512, HMAC-SHA256, Ed25519, RSA certificate
 * credentials (RS256), randomness and constant-time helpers over OpenSSL 3 EVP; the only file that sees OpenSSL. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include "util/crypto.h"

static const EVP_MD *hash_md(enum ai_hash_kind kind)
{
	switch (kind) {
	case AI_HASH_SHA256:
		return EVP_sha256();
	case AI_HASH_BLAKE2B512:
		return EVP_blake2b512();
	}
	return NULL;
}

ai_result ai_hash_init(struct ai_hash *h, enum ai_hash_kind kind)
{
	const EVP_MD *md = hash_md(kind);
	EVP_MD_CTX *ctx;

	h->ctx = NULL;
	h->kind = kind;
	if (!md)
		return AI_ERR_INTERNAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return AI_ERR_NOMEM;
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return AI_ERR_CRYPTO;
	}
	h->ctx = ctx;
	return AI_OK;
}

ai_result ai_hash_update(struct ai_hash *h, const void *p, size_t n)
{
	if (!h->ctx)
		return AI_ERR_INTERNAL;
	if (n && EVP_DigestUpdate(h->ctx, p, n) != 1)
		return AI_ERR_CRYPTO;
	return AI_OK;
}

ai_result ai_hash_final(struct ai_hash *h, uint8_t *out)
{
	unsigned int len = 0;
	ai_result r = AI_OK;

	if (!h->ctx)
		return AI_ERR_INTERNAL;
	if (EVP_DigestFinal_ex(h->ctx, out, &len) != 1)
		r = AI_ERR_CRYPTO;
	ai_hash_release(h);
	return r;
}

void ai_hash_release(struct ai_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

static ai_result digest(enum ai_hash_kind kind, const void *p, size_t n, uint8_t *out)
{
	struct ai_hash h;
	ai_result r;

	r = ai_hash_init(&h, kind);
	if (r != AI_OK)
		return r;
	r = ai_hash_update(&h, p, n);
	if (r != AI_OK) {
		ai_hash_release(&h);
		return r;
	}
	return ai_hash_final(&h, out);
}

ai_result ai_sha256(const void *p, size_t n, uint8_t out[AI_SHA256_LEN])
{
	return digest(AI_HASH_SHA256, p, n, out);
}

ai_result ai_blake2b512(const void *p, size_t n, uint8_t out[AI_BLAKE2B_LEN])
{
	return digest(AI_HASH_BLAKE2B512, p, n, out);
}

ai_result ai_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
                         uint8_t out[AI_SHA256_LEN])
{
	size_t outlen = 0;
	static const uint8_t nokey;

	/* EVP_Q_mac wants a non-NULL key pointer even for an empty key. */
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, keylen ? key : &nokey, keylen,
	               p, n, out, AI_SHA256_LEN, &outlen))
		return AI_ERR_CRYPTO;
	return outlen == AI_SHA256_LEN ? AI_OK : AI_ERR_CRYPTO;
}

static EVP_PKEY *ed25519_private(const uint8_t seed[AI_ED25519_SEED_LEN])
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, AI_ED25519_SEED_LEN);
}

ai_result ai_ed25519_public(const uint8_t seed[AI_ED25519_SEED_LEN],
                            uint8_t pub[AI_ED25519_PUB_LEN])
{
	EVP_PKEY *pk = ed25519_private(seed);
	size_t len = AI_ED25519_PUB_LEN;
	ai_result r = AI_OK;

	if (!pk)
		return AI_ERR_CRYPTO;
	if (EVP_PKEY_get_raw_public_key(pk, pub, &len) != 1 || len != AI_ED25519_PUB_LEN)
		r = AI_ERR_CRYPTO;
	EVP_PKEY_free(pk);
	return r;
}

ai_result ai_ed25519_keygen(uint8_t seed[AI_ED25519_SEED_LEN],
                            uint8_t pub[AI_ED25519_PUB_LEN])
{
	ai_result r = ai_random(seed, AI_ED25519_SEED_LEN);

	if (r == AI_OK)
		r = ai_ed25519_public(seed, pub);
	if (r != AI_OK)
		ai_cleanse(seed, AI_ED25519_SEED_LEN);
	return r;
}

ai_result ai_ed25519_sign(const uint8_t seed[AI_ED25519_SEED_LEN], const void *msg,
                          size_t n, uint8_t sig[AI_ED25519_SIG_LEN])
{
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *ctx = NULL;
	size_t siglen = AI_ED25519_SIG_LEN;
	ai_result r = AI_ERR_CRYPTO;

	pk = ed25519_private(seed);
	ctx = EVP_MD_CTX_new();
	if (!pk || !ctx)
		goto out;
	/* Pure Ed25519 hashes internally: no digest, and a one-shot call. */
	if (EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, pk, NULL) != 1)
		goto out;
	if (EVP_DigestSign(ctx, sig, &siglen, msg, n) != 1 || siglen != AI_ED25519_SIG_LEN)
		goto out;
	r = AI_OK;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return r;
}

ai_result ai_ed25519_verify(const uint8_t pub[AI_ED25519_PUB_LEN], const void *msg,
                            size_t n, const uint8_t sig[AI_ED25519_SIG_LEN])
{
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *ctx = NULL;
	ai_result r = AI_ERR_CRYPTO;
	int ok;

	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, AI_ED25519_PUB_LEN);
	if (!pk) {
		/* A public key that is not a curve point verifies nothing. */
		r = AI_ERR_VERIFY;
		goto out;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		goto out;
	if (EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, pk, NULL) != 1)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, AI_ED25519_SIG_LEN, msg, n);
	r = ok == 1 ? AI_OK : AI_ERR_VERIFY;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return r;
}

ai_result ai_random(void *p, size_t n)
{
	unsigned char *c = p;

	while (n) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;

		if (RAND_bytes(c, chunk) != 1)
			return AI_ERR_CRYPTO;
		c += chunk;
		n -= (size_t)chunk;
	}
	return AI_OK;
}

void ai_cleanse(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

int ai_memeq_ct(const void *a, const void *b, size_t n)
{
	return n ? CRYPTO_memcmp(a, b, n) : 0;
}

ai_result ai_md5(const void *p, size_t n, uint8_t out[16])
{
	unsigned int len = 0;

	if (!EVP_Digest(p, n, out, &len, EVP_md5(), NULL) || len != 16)
		return AI_ERR_CRYPTO;
	return AI_OK;
}

/* ----- RSA certificate credentials (JWT RS256) ----- */

struct ai_certkey {
	X509 *cert;
	EVP_PKEY *key;
	uint8_t *der;
	size_t derlen;
};

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static void why_set(char *why, size_t cap, const char *msg)
{
	if (cap)
		snprintf(why, cap, "%s", msg);
}

ai_result ai_certkey_load(const void *pem, size_t n, struct ai_certkey **out, char *why,
                          size_t whycap)
{
	struct ai_certkey *ck = NULL;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	ai_result r = AI_ERR_CONFIG;
	int len;

	*out = NULL;
	if (n > INT_MAX) {
		why_set(why, whycap, "the file is too large");
		return AI_ERR_CONFIG;
	}
	ck = calloc(1, sizeof *ck);
	if (!ck)
		return AI_ERR_NOMEM;
	bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	ck->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (!ck->cert) {
		why_set(why, whycap, "no PEM certificate in the file");
		goto out;
	}
	BIO_free(bio);
	bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	/* An empty passphrase: an encrypted key is refused, not prompted for. */
	ck->key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (!ck->key) {
		why_set(why, whycap, "no unencrypted PEM private key in the file");
		goto out;
	}
	if (EVP_PKEY_get_base_id(ck->key) != EVP_PKEY_RSA) {
		why_set(why, whycap, "the private key is not an RSA key");
		goto out;
	}
	if (X509_check_private_key(ck->cert, ck->key) != 1) {
		why_set(why, whycap, "the private key does not belong to the certificate");
		goto out;
	}
	len = i2d_X509(ck->cert, &der);
	if (len <= 0) {
		why_set(why, whycap, "the certificate cannot be encoded");
		r = AI_ERR_CRYPTO;
		goto out;
	}
	ck->der = malloc((size_t)len);
	if (!ck->der) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	memcpy(ck->der, der, (size_t)len);
	ck->derlen = (size_t)len;
	*out = ck;
	ck = NULL;
	r = AI_OK;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	BIO_free(bio);
	ai_certkey_free(ck);
	return r;
}

void ai_certkey_thumbprint(const struct ai_certkey *ck, uint8_t out[AI_SHA1_LEN])
{
	unsigned int len = 0;

	if (!EVP_Digest(ck->der, ck->derlen, out, &len, EVP_sha1(), NULL) || len != AI_SHA1_LEN)
		memset(out, 0, AI_SHA1_LEN);
}

const uint8_t *ai_certkey_der(const struct ai_certkey *ck, size_t *len)
{
	*len = ck->derlen;
	return ck->der;
}

ai_result ai_certkey_sign_rs256(const struct ai_certkey *ck, const void *msg, size_t n,
                                uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 0;
	ai_result r = AI_ERR_CRYPTO;

	*siglen = 0;
	if (!ctx)
		return AI_ERR_NOMEM;
	if (EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, ck->key, NULL) != 1)
		goto out;
	if (EVP_DigestSign(ctx, NULL, &len, msg, n) != 1 || len > AI_RSA_SIG_MAX)
		goto out;
	if (EVP_DigestSign(ctx, sig, &len, msg, n) != 1)
		goto out;
	*siglen = len;
	r = AI_OK;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return r;
}

void ai_certkey_free(struct ai_certkey *ck)
{
	if (!ck)
		return;
	X509_free(ck->cert);
	EVP_PKEY_free(ck->key); /* OpenSSL wipes the key material it frees */
	free(ck->der);
	free(ck);
}

ai_result ai_rs256_verify_cert(const void *certpem, size_t n, const void *msg, size_t mlen,
                               const uint8_t *sig, size_t siglen)
{
	BIO *bio = n <= INT_MAX ? BIO_new_mem_buf(certpem, (int)n) : NULL;
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pub = cert ? X509_get0_pubkey(cert) : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ai_result r = AI_ERR_CRYPTO;

	if (!pub || !ctx)
		goto out;
	if (EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, pub, NULL) != 1)
		goto out;
	r = EVP_DigestVerify(ctx, sig, siglen, msg, mlen) == 1 ? AI_OK : AI_ERR_VERIFY;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	X509_free(cert);
	BIO_free(bio);
	return r;
}
