/* crypto.h: the digests, MACs and signatures aiarchive needs, through
 * OpenSSL 3 EVP. Only crypto.c includes OpenSSL. */
#ifndef AI_CRYPTO_H
#define AI_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include "util/result.h"

#define AI_SHA256_LEN 32
#define AI_BLAKE2B_LEN 64
#define AI_ED25519_SEED_LEN 32
#define AI_ED25519_PUB_LEN 32
#define AI_ED25519_SIG_LEN 64

/* One-shot digests. */
ai_result ai_sha256(const void *p, size_t n, uint8_t out[AI_SHA256_LEN]) AI_MUST_CHECK;
ai_result ai_blake2b512(const void *p, size_t n, uint8_t out[AI_BLAKE2B_LEN]) AI_MUST_CHECK;
/* MD5, only as the transport integrity check Azure's Content-MD5 wants. */
ai_result ai_md5(const void *p, size_t n, uint8_t out[16]) AI_MUST_CHECK;
ai_result ai_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
                         uint8_t out[AI_SHA256_LEN]) AI_MUST_CHECK;

/* Streaming digest. kind selects the algorithm. The caller holds a
 * struct ai_hash, calls init, update any number of times, then final
 * (which also releases); ai_hash_release frees without a result and is
 * safe after final or on a zeroed struct. */
enum ai_hash_kind { AI_HASH_SHA256, AI_HASH_BLAKE2B512 };
struct ai_hash {
	void *ctx; /* EVP_MD_CTX */
	enum ai_hash_kind kind;
};
ai_result ai_hash_init(struct ai_hash *h, enum ai_hash_kind kind) AI_MUST_CHECK;
ai_result ai_hash_update(struct ai_hash *h, const void *p, size_t n) AI_MUST_CHECK;
/* Writes 32 (SHA-256) or 64 (BLAKE2b-512) bytes to out. */
ai_result ai_hash_final(struct ai_hash *h, uint8_t *out) AI_MUST_CHECK;
void ai_hash_release(struct ai_hash *h);

/* Ed25519 (RFC 8032, pure). The private key is the 32-byte seed. */
ai_result ai_ed25519_keygen(uint8_t seed[AI_ED25519_SEED_LEN],
                            uint8_t pub[AI_ED25519_PUB_LEN]) AI_MUST_CHECK;
ai_result ai_ed25519_public(const uint8_t seed[AI_ED25519_SEED_LEN],
                            uint8_t pub[AI_ED25519_PUB_LEN]) AI_MUST_CHECK;
ai_result ai_ed25519_sign(const uint8_t seed[AI_ED25519_SEED_LEN], const void *msg,
                          size_t n, uint8_t sig[AI_ED25519_SIG_LEN]) AI_MUST_CHECK;
/* AI_OK when sig is valid, AI_ERR_VERIFY when not. */
ai_result ai_ed25519_verify(const uint8_t pub[AI_ED25519_PUB_LEN], const void *msg,
                            size_t n, const uint8_t sig[AI_ED25519_SIG_LEN]) AI_MUST_CHECK;

/* An RSA private key with its X.509 certificate, read from one PEM text
 * (a service principal's certificate credential). */
struct ai_certkey;
#define AI_SHA1_LEN 20
#define AI_RSA_SIG_MAX 1024 /* up to 8192-bit keys */
/* Parses pem (n bytes): the first certificate and the private key, which
 * must be RSA and must belong to the certificate. AI_ERR_CONFIG with a
 * phrase in why (whycap bytes) when something is missing or does not fit. */
ai_result ai_certkey_load(const void *pem, size_t n, struct ai_certkey **out, char *why,
                          size_t whycap) AI_MUST_CHECK;
/* The SHA-1 of the certificate's DER form (its thumbprint). */
void ai_certkey_thumbprint(const struct ai_certkey *ck, uint8_t out[AI_SHA1_LEN]);
/* The certificate's DER bytes (valid while ck lives). */
const uint8_t *ai_certkey_der(const struct ai_certkey *ck, size_t *len);
/* RSASSA-PKCS1-v1_5 with SHA-256 (JWT "RS256") of msg into sig (AI_RSA_SIG_MAX). */
ai_result ai_certkey_sign_rs256(const struct ai_certkey *ck, const void *msg, size_t n,
                                uint8_t *sig, size_t *siglen) AI_MUST_CHECK;
/* Frees ck, wiping the key. NULL-safe. */
void ai_certkey_free(struct ai_certkey *ck);
/* Checks an RS256 signature with the public key of a PEM certificate:
 * AI_OK when valid, AI_ERR_VERIFY when not. */
ai_result ai_rs256_verify_cert(const void *certpem, size_t n, const void *msg, size_t mlen,
                               const uint8_t *sig, size_t siglen) AI_MUST_CHECK;

/* Fills p with n bytes from the system CSPRNG. */
ai_result ai_random(void *p, size_t n) AI_MUST_CHECK;
/* Wipes n bytes at p in a way the compiler keeps. */
void ai_cleanse(void *p, size_t n);
/* Constant-time comparison; 0 when equal. */
int ai_memeq_ct(const void *a, const void *b, size_t n);

#endif
