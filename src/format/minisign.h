/* minisign.h: signatures, public keys and secret keys in the minisign file
 * formats, so anyone can check an archive with the stock `minisign -V`. */
#ifndef AI_MINISIGN_H
#define AI_MINISIGN_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"
#include "util/crypto.h"
#include "util/result.h"

#define AI_MINISIGN_KEYID_LEN 8
/* Key id as minisign prints it: 16 uppercase hex digits, plus the NUL. */
#define AI_MINISIGN_KEYID_HEXLEN 17
/* Longest trusted comment text that minisign itself reads back whole. */
#define AI_MINISIGN_TRUSTED_MAX 8173
/* No valid .minisig file is longer; read at most this much from storage. */
#define AI_MINISIGN_SIGFILE_MAX 10240

struct ai_minisign_pubkey {
	uint8_t keyid[AI_MINISIGN_KEYID_LEN];
	uint8_t pk[AI_ED25519_PUB_LEN];
};

/* A secret signing key. Holds the Ed25519 seed: end its life with
 * ai_signing_key_release, which wipes it. */
struct ai_signing_key {
	uint8_t keyid[AI_MINISIGN_KEYID_LEN];
	uint8_t seed[AI_ED25519_SEED_LEN];
	uint8_t pk[AI_ED25519_PUB_LEN];
};

/* A parsed .minisig file. */
struct ai_minisign_sig {
	int prehashed; /* 1 for "ED" (BLAKE2b-512 of the data), 0 for legacy "Ed" */
	uint8_t keyid[AI_MINISIGN_KEYID_LEN];
	uint8_t sig[AI_ED25519_SIG_LEN];
	uint8_t global_sig[AI_ED25519_SIG_LEN];
	size_t trusted_len;
	char trusted[AI_MINISIGN_TRUSTED_MAX + 1]; /* NUL-terminated */
};

/* Writes the key id the way minisign shows it (little-endian number in
 * uppercase hex), e.g. "1C342613D7E5AA08". */
void ai_minisign_keyid_hex(const uint8_t keyid[AI_MINISIGN_KEYID_LEN],
                           char out[AI_MINISIGN_KEYID_HEXLEN]);

/* --- public keys --- */

/* Parses the text of a minisign public key file ("untrusted comment: ..."
 * line, then the base64 key line). AI_ERR_BAD_INPUT when malformed. */
ai_result ai_minisign_pubkey_parse(const char *text, size_t len,
                                   struct ai_minisign_pubkey *pk) AI_MUST_CHECK;
/* Parses the bare base64 form (what `minisign -P` takes). */
ai_result ai_minisign_pubkey_parse_b64(const char *s, size_t len,
                                       struct ai_minisign_pubkey *pk) AI_MUST_CHECK;
/* Reads and parses a public key file; AI_ERR_CONFIG (logged, naming the
 * file) when it is missing, unreadable, a symbolic link, not a regular
 * file (a FIFO is refused, not waited on) or malformed. */
ai_result ai_minisign_pubkey_load(const char *path, struct ai_minisign_pubkey *pk) AI_MUST_CHECK;
/* The bare base64 form of a public key (56 characters and the NUL). */
#define AI_MINISIGN_PUBKEY_B64LEN 57
/* Writes pk in the bare base64 form ai_minisign_pubkey_parse_b64 reads. */
void ai_minisign_pubkey_b64(const struct ai_minisign_pubkey *pk,
                            char out[AI_MINISIGN_PUBKEY_B64LEN]);
/* Appends the public key file text to out, as `minisign -G` writes it. */
ai_result ai_minisign_pubkey_format(const struct ai_minisign_pubkey *pk,
                                    struct ai_buf *out) AI_MUST_CHECK;

/* --- secret keys --- */

/* Makes a new key pair with a random key id. */
ai_result ai_signing_key_generate(struct ai_signing_key *k) AI_MUST_CHECK;
/* Wipes k. NULL-safe. */
void ai_signing_key_release(struct ai_signing_key *k);
/* The public half of k. */
void ai_signing_key_pubkey(const struct ai_signing_key *k, struct ai_minisign_pubkey *pk);

/* Writes k to path in the minisign secret key format, unencrypted (as
 * `minisign -G -W` writes it, so `minisign -S -s path` can use it too), and
 * its public key to "<path>.pub". Both are created, never replaced:
 * AI_ERR_EXISTS when either exists. The secret file has mode 0600. On
 * failure neither file is left behind. Errors are logged. */
ai_result ai_signing_key_write(const struct ai_signing_key *k, const char *path) AI_MUST_CHECK;
/* Parses the text of an unencrypted minisign secret key file and checks
 * that its public half belongs to its seed. AI_ERR_BAD_INPUT when
 * malformed, AI_ERR_CONFIG for a password-protected key. */
ai_result ai_signing_key_parse(const char *text, size_t len,
                               struct ai_signing_key *k) AI_MUST_CHECK;
/* Reads a secret key file. Refuses (AI_ERR_CONFIG, logged naming the
 * file) a file that group or others may read or write, a symbolic link,
 * anything but a regular file (without waiting on a FIFO), and anything
 * ai_signing_key_parse refuses. Wipes what it read. */
ai_result ai_signing_key_load(const char *path, struct ai_signing_key *k) AI_MUST_CHECK;
/* Generates a key pair, writes it as ai_signing_key_write does and wipes
 * it; keyid_hex (may be NULL) receives the new key id. */
ai_result ai_minisign_keygen(const char *path, char keyid_hex[AI_MINISIGN_KEYID_HEXLEN]) AI_MUST_CHECK;

/* --- signatures --- */

/* Appends a prehashed ("ED") .minisig for data whose BLAKE2b-512 digest is
 * blake2b (as computed by ai_hash while the data streamed past) to out.
 * trusted_comment is signed too: at most AI_MINISIGN_TRUSTED_MAX bytes,
 * no CR or LF (AI_ERR_BAD_INPUT otherwise). */
ai_result ai_minisign_sign_digest(const struct ai_signing_key *k,
                                  const uint8_t blake2b[AI_BLAKE2B_LEN],
                                  const char *trusted_comment, struct ai_buf *out) AI_MUST_CHECK;
/* The same for data held in memory. */
ai_result ai_minisign_sign(const struct ai_signing_key *k, const void *data, size_t n,
                           const char *trusted_comment, struct ai_buf *out) AI_MUST_CHECK;

/* Parses a .minisig file strictly (four lines, bounded lengths, both "ED"
 * and "Ed"). AI_ERR_VERIFY when malformed, with *why (may be NULL) set to
 * a static description. Checks no signature. */
ai_result ai_minisign_sig_parse(const char *text, size_t len, struct ai_minisign_sig *sig,
                                const char **why) AI_MUST_CHECK;

/* Checks a .minisig file against pk and the BLAKE2b-512 digest of the
 * data: the key id, the signature and the trusted comment's signature.
 * Only prehashed signatures can be checked this way. AI_ERR_VERIFY on any
 * mismatch or malformed file, with *why (may be NULL) set to a static
 * reason. On success the trusted comment is copied to tc (cap bytes, may
 * be NULL); AI_ERR_TOO_BIG if it does not fit. */
ai_result ai_minisign_verify_digest(const struct ai_minisign_pubkey *pk,
                                    const uint8_t blake2b[AI_BLAKE2B_LEN],
                                    const char *sigfile, size_t len,
                                    char *tc, size_t cap, const char **why) AI_MUST_CHECK;
/* The same for data held in memory; also accepts legacy "Ed" signatures. */
ai_result ai_minisign_verify(const struct ai_minisign_pubkey *pk, const void *data, size_t n,
                             const char *sigfile, size_t len,
                             char *tc, size_t cap, const char **why) AI_MUST_CHECK;

#endif
