/* minisign.c: the minisign key and signature file formats on top of
 * crypto.h. Files read here may come from untrusted storage: every line
 * has a bound and every field an exact length. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/base64.h"
#include "util/log.h"
#include "util/regfile.h"
#include "format/minisign.h"

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
/* minisign reads comment lines with fgets() into 1024 bytes. */
#define COMMENT_LINE_MAX 1022

#define ALG_LEN 2
#define PUBKEY_BIN_LEN (ALG_LEN + AI_MINISIGN_KEYID_LEN + AI_ED25519_PUB_LEN)
#define SIG_BIN_LEN (ALG_LEN + AI_MINISIGN_KEYID_LEN + AI_ED25519_SIG_LEN)
#define SALT_LEN 32
#define CHK_LEN 32
/* sig_alg, kdf_alg, chk_alg, salt, opslimit, memlimit, key id, seed||pk, chk */
#define SECKEY_BIN_LEN (3 * ALG_LEN + SALT_LEN + 8 + 8 + AI_MINISIGN_KEYID_LEN + \
                        AI_ED25519_SEED_LEN + AI_ED25519_PUB_LEN + CHK_LEN)
#define SECKEY_FILE_MAX 2048
#define PUBKEY_FILE_MAX 2048

/* The base64 text of n bytes, without the NUL. */
#define B64LEN(n) (AI_BASE64_ENCLEN(n) - 1)

struct cursor {
	const char *p;
	size_t left;
};

enum line_result { LINE_OK, LINE_END, LINE_BAD };

/* Takes the next line, without its "\n" (or "\r\n"); the last line may lack
 * the newline. A line longer than max, or with a CR or NUL inside, is
 * LINE_BAD. */
static enum line_result next_line(struct cursor *c, size_t max, const char **line,
                                  size_t *len)
{
	const char *nl;
	size_t n, adv;

	if (c->left == 0)
		return LINE_END;
	nl = memchr(c->p, '\n', c->left);
	n = nl ? (size_t)(nl - c->p) : c->left;
	adv = nl ? n + 1 : n;
	if (n && c->p[n - 1] == '\r')
		n--;
	if (n > max || memchr(c->p, '\r', n) || memchr(c->p, '\0', n))
		return LINE_BAD;
	*line = c->p;
	*len = n;
	c->p += adv;
	c->left -= adv;
	return LINE_OK;
}

static int has_prefix(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

/* Decodes one base64 line that must hold exactly n bytes. */
static int decode_exact(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t got = 0;

	if (slen != B64LEN(n))
		return 0;
	if (ai_base64_decode(s, slen, out, n, &got) != AI_OK || got != n)
		return 0;
	return 1;
}

void ai_minisign_keyid_hex(const uint8_t keyid[AI_MINISIGN_KEYID_LEN],
                           char out[AI_MINISIGN_KEYID_HEXLEN])
{
	static const char digits[] = "0123456789ABCDEF";

	/* minisign prints the id as a little-endian 64-bit number. */
	for (int i = 0; i < AI_MINISIGN_KEYID_LEN; i++) {
		uint8_t b = keyid[AI_MINISIGN_KEYID_LEN - 1 - i];

		out[2 * i] = digits[b >> 4];
		out[2 * i + 1] = digits[b & 15];
	}
	out[2 * AI_MINISIGN_KEYID_LEN] = '\0';
}

/* --- public keys --- */

ai_result ai_minisign_pubkey_parse_b64(const char *s, size_t len, struct ai_minisign_pubkey *pk)
{
	uint8_t bin[PUBKEY_BIN_LEN];

	if (!decode_exact(s, len, bin, sizeof bin) || memcmp(bin, "Ed", ALG_LEN) != 0)
		return AI_ERR_BAD_INPUT;
	memcpy(pk->keyid, bin + ALG_LEN, AI_MINISIGN_KEYID_LEN);
	memcpy(pk->pk, bin + ALG_LEN + AI_MINISIGN_KEYID_LEN, AI_ED25519_PUB_LEN);
	return AI_OK;
}

ai_result ai_minisign_pubkey_parse(const char *text, size_t len, struct ai_minisign_pubkey *pk)
{
	struct cursor c = { text, len };
	const char *line;
	size_t n;

	if (next_line(&c, COMMENT_LINE_MAX, &line, &n) != LINE_OK ||
	    !has_prefix(line, n, UNTRUSTED_PREFIX))
		return AI_ERR_BAD_INPUT;
	if (next_line(&c, B64LEN(PUBKEY_BIN_LEN), &line, &n) != LINE_OK)
		return AI_ERR_BAD_INPUT;
	if (ai_minisign_pubkey_parse_b64(line, n, pk) != AI_OK)
		return AI_ERR_BAD_INPUT;
	if (c.left != 0)
		return AI_ERR_BAD_INPUT;
	return AI_OK;
}

void ai_minisign_pubkey_b64(const struct ai_minisign_pubkey *pk,
                            char out[AI_MINISIGN_PUBKEY_B64LEN])
{
	uint8_t bin[PUBKEY_BIN_LEN];

	_Static_assert(AI_BASE64_ENCLEN(PUBKEY_BIN_LEN) == AI_MINISIGN_PUBKEY_B64LEN,
	               "the base64 form of a public key");
	memcpy(bin, "Ed", ALG_LEN);
	memcpy(bin + ALG_LEN, pk->keyid, AI_MINISIGN_KEYID_LEN);
	memcpy(bin + ALG_LEN + AI_MINISIGN_KEYID_LEN, pk->pk, AI_ED25519_PUB_LEN);
	ai_base64_encode(bin, sizeof bin, out);
}

ai_result ai_minisign_pubkey_format(const struct ai_minisign_pubkey *pk, struct ai_buf *out)
{
	char b64[AI_MINISIGN_PUBKEY_B64LEN];
	char id[AI_MINISIGN_KEYID_HEXLEN];

	ai_minisign_pubkey_b64(pk, b64);
	ai_minisign_keyid_hex(pk->keyid, id);
	return ai_buf_printf(out, UNTRUSTED_PREFIX "minisign public key %s\n%s\n", id, b64);
}

/* Reads a key file into b, refusing anything but a regular file (a FIFO
 * would block, a link may have been planted) and, for a secret, one that
 * others may read. */
static ai_result read_key_file(const char *what, const char *path, unsigned flags,
                               struct ai_buf *b)
{
	char why[512];

	if (ai_regfile_read(path, flags, b, why, sizeof why) != AI_OK) {
		ai_error("%s '%s': %s", what, path, why);
		return AI_ERR_CONFIG;
	}
	return AI_OK;
}

ai_result ai_minisign_pubkey_load(const char *path, struct ai_minisign_pubkey *pk)
{
	struct ai_buf text;
	ai_result r;

	ai_buf_init(&text, PUBKEY_FILE_MAX);
	r = read_key_file("public key", path, 0, &text);
	if (r == AI_OK && ai_minisign_pubkey_parse(text.data, text.len, pk) != AI_OK) {
		ai_error("public key '%s': not a minisign public key", path);
		r = AI_ERR_CONFIG;
	}
	ai_buf_release(&text);
	return r;
}

/* --- secret keys --- */

ai_result ai_signing_key_generate(struct ai_signing_key *k)
{
	ai_result r;

	r = ai_random(k->keyid, sizeof k->keyid);
	if (r == AI_OK)
		r = ai_ed25519_keygen(k->seed, k->pk);
	if (r != AI_OK)
		ai_signing_key_release(k);
	return r;
}

void ai_signing_key_release(struct ai_signing_key *k)
{
	if (k)
		ai_cleanse(k, sizeof *k);
}

void ai_signing_key_pubkey(const struct ai_signing_key *k, struct ai_minisign_pubkey *pk)
{
	memcpy(pk->keyid, k->keyid, sizeof pk->keyid);
	memcpy(pk->pk, k->pk, sizeof pk->pk);
}

/* Lays out the secret key as `minisign -G -W` does: no KDF, so salt,
 * limits and checksum stay zero (minisign checks the checksum only when
 * decrypting). */
static void seckey_bin(const struct ai_signing_key *k, uint8_t bin[SECKEY_BIN_LEN])
{
	uint8_t *p = bin;

	memset(bin, 0, SECKEY_BIN_LEN);
	memcpy(p, "Ed", ALG_LEN);
	p += ALG_LEN;
	p += ALG_LEN; /* kdf_alg: none */
	memcpy(p, "B2", ALG_LEN);
	p += ALG_LEN;
	p += SALT_LEN + 8 + 8;
	memcpy(p, k->keyid, AI_MINISIGN_KEYID_LEN);
	p += AI_MINISIGN_KEYID_LEN;
	memcpy(p, k->seed, AI_ED25519_SEED_LEN);
	p += AI_ED25519_SEED_LEN;
	memcpy(p, k->pk, AI_ED25519_PUB_LEN);
}

ai_result ai_signing_key_parse(const char *text, size_t len, struct ai_signing_key *k)
{
	struct cursor c = { text, len };
	uint8_t bin[SECKEY_BIN_LEN], derived[AI_ED25519_PUB_LEN];
	const uint8_t *p = bin;
	const char *line;
	size_t n;
	ai_result r = AI_ERR_BAD_INPUT;

	if (next_line(&c, COMMENT_LINE_MAX, &line, &n) != LINE_OK ||
	    !has_prefix(line, n, UNTRUSTED_PREFIX))
		goto out;
	if (next_line(&c, B64LEN(SECKEY_BIN_LEN), &line, &n) != LINE_OK || c.left != 0)
		goto out;
	if (!decode_exact(line, n, bin, sizeof bin))
		goto out;
	if (memcmp(p, "Ed", ALG_LEN) != 0)
		goto out;
	p += ALG_LEN;
	if (memcmp(p, "Sc", ALG_LEN) == 0) {
		r = AI_ERR_CONFIG;
		goto out;
	}
	if (p[0] != 0 || p[1] != 0)
		goto out;
	p += ALG_LEN;
	if (memcmp(p, "B2", ALG_LEN) != 0)
		goto out;
	p += ALG_LEN + SALT_LEN + 8 + 8;
	memcpy(k->keyid, p, AI_MINISIGN_KEYID_LEN);
	p += AI_MINISIGN_KEYID_LEN;
	memcpy(k->seed, p, AI_ED25519_SEED_LEN);
	p += AI_ED25519_SEED_LEN;
	memcpy(k->pk, p, AI_ED25519_PUB_LEN);
	/* The stored public half must belong to the seed: catches a damaged
	 * key before it signs anything nobody can verify. */
	if (ai_ed25519_public(k->seed, derived) != AI_OK ||
	    ai_memeq_ct(derived, k->pk, sizeof derived) != 0)
		goto out;
	r = AI_OK;
out:
	if (r != AI_OK)
		ai_signing_key_release(k);
	ai_cleanse(bin, sizeof bin);
	return r;
}

ai_result ai_signing_key_load(const char *path, struct ai_signing_key *k)
{
	struct ai_buf text;
	ai_result r;

	ai_buf_init(&text, SECKEY_FILE_MAX);
	r = read_key_file("key file", path, AI_REGFILE_SECRET, &text);
	if (r != AI_OK)
		goto out;
	r = ai_signing_key_parse(text.data, text.len, k);
	if (r == AI_ERR_CONFIG)
		ai_error("key file '%s': protected by a password; aiarchive needs an "
		         "unencrypted key (minisign -C -W removes the password)", path);
	else if (r != AI_OK) {
		ai_error("key file '%s': not an unencrypted minisign secret key", path);
		r = AI_ERR_CONFIG;
	}
out:
	if (text.data)
		ai_cleanse(text.data, text.alloc);
	ai_buf_release(&text);
	return r;
}

static ai_result write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return AI_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return AI_OK;
}

static int create_excl(const char *path, mode_t mode)
{
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
}

/* Writes p to the new file fd, flushes it to disk and closes it. */
static ai_result finish_file(int fd, const char *p, size_t n)
{
	ai_result r = write_all(fd, p, n);

	if (r == AI_OK && fsync(fd) != 0)
		r = AI_ERR_IO;
	if (close(fd) != 0 && r == AI_OK)
		r = AI_ERR_IO;
	return r;
}

ai_result ai_signing_key_write(const struct ai_signing_key *k, const char *path)
{
	uint8_t bin[SECKEY_BIN_LEN];
	char b64[AI_BASE64_ENCLEN(SECKEY_BIN_LEN)];
	char text[sizeof b64 + 128];
	char id[AI_MINISIGN_KEYID_HEXLEN];
	struct ai_minisign_pubkey pk;
	struct ai_buf pub;
	char *pubpath = NULL;
	int sfd = -1, pfd = -1, made_s = 0, made_p = 0, len;
	ai_result r = AI_ERR_NOMEM;

	ai_buf_init(&pub, PUBKEY_FILE_MAX);
	pubpath = malloc(strlen(path) + sizeof ".pub");
	if (!pubpath)
		goto out;
	strcpy(pubpath, path);
	strcat(pubpath, ".pub");

	ai_signing_key_pubkey(k, &pk);
	r = ai_minisign_pubkey_format(&pk, &pub);
	if (r != AI_OK)
		goto out;
	ai_minisign_keyid_hex(k->keyid, id);
	seckey_bin(k, bin);
	ai_base64_encode(bin, sizeof bin, b64);
	len = snprintf(text, sizeof text,
	               UNTRUSTED_PREFIX "aiarchive secret key %s, unencrypted\n%s\n", id, b64);
	if (len < 0 || (size_t)len >= sizeof text) {
		r = AI_ERR_INTERNAL;
		goto out;
	}

	/* Claim both names before writing either, so a clash leaves nothing. */
	sfd = create_excl(path, 0600);
	if (sfd < 0) {
		r = errno == EEXIST ? AI_ERR_EXISTS : AI_ERR_IO;
		ai_error("key file '%s': %s", path, strerror(errno));
		goto out;
	}
	made_s = 1;
	pfd = create_excl(pubpath, 0644);
	if (pfd < 0) {
		r = errno == EEXIST ? AI_ERR_EXISTS : AI_ERR_IO;
		ai_error("public key '%s': %s", pubpath, strerror(errno));
		goto out;
	}
	made_p = 1;
	r = finish_file(sfd, text, (size_t)len);
	sfd = -1;
	if (r != AI_OK) {
		ai_error("key file '%s': %s", path, strerror(errno));
		goto out;
	}
	r = finish_file(pfd, pub.data, pub.len);
	pfd = -1;
	if (r != AI_OK)
		ai_error("public key '%s': %s", pubpath, strerror(errno));
out:
	if (sfd >= 0)
		close(sfd);
	if (pfd >= 0)
		close(pfd);
	if (r != AI_OK && made_s)
		unlink(path);
	if (r != AI_OK && made_p)
		unlink(pubpath);
	ai_cleanse(bin, sizeof bin);
	ai_cleanse(b64, sizeof b64);
	ai_cleanse(text, sizeof text);
	ai_buf_release(&pub);
	free(pubpath);
	return r;
}

ai_result ai_minisign_keygen(const char *path, char keyid_hex[AI_MINISIGN_KEYID_HEXLEN])
{
	struct ai_signing_key k;
	ai_result r;

	r = ai_signing_key_generate(&k);
	if (r != AI_OK) {
		ai_error("key file '%s': cannot generate a key: %s", path, ai_strerror(r));
		return r;
	}
	r = ai_signing_key_write(&k, path);
	if (r == AI_OK && keyid_hex)
		ai_minisign_keyid_hex(k.keyid, keyid_hex);
	ai_signing_key_release(&k);
	return r;
}

/* --- signatures --- */

static ai_result check_comment(const char *s, size_t *len)
{
	size_t n = strlen(s);

	if (n > AI_MINISIGN_TRUSTED_MAX || strpbrk(s, "\r\n"))
		return AI_ERR_BAD_INPUT;
	*len = n;
	return AI_OK;
}

ai_result ai_minisign_sign_digest(const struct ai_signing_key *k,
                                  const uint8_t blake2b[AI_BLAKE2B_LEN],
                                  const char *trusted_comment, struct ai_buf *out)
{
	uint8_t bin[SIG_BIN_LEN], global[AI_ED25519_SIG_LEN];
	uint8_t signed_tc[AI_ED25519_SIG_LEN + AI_MINISIGN_TRUSTED_MAX];
	char sig64[AI_BASE64_ENCLEN(SIG_BIN_LEN)], global64[AI_BASE64_ENCLEN(AI_ED25519_SIG_LEN)];
	char id[AI_MINISIGN_KEYID_HEXLEN];
	uint8_t *sig = bin + ALG_LEN + AI_MINISIGN_KEYID_LEN;
	size_t tclen = 0;
	ai_result r;

	r = check_comment(trusted_comment, &tclen);
	if (r != AI_OK)
		return r;
	memcpy(bin, "ED", ALG_LEN);
	memcpy(bin + ALG_LEN, k->keyid, AI_MINISIGN_KEYID_LEN);
	r = ai_ed25519_sign(k->seed, blake2b, AI_BLAKE2B_LEN, sig);
	if (r != AI_OK)
		return r;
	/* The global signature binds the trusted comment to this signature. */
	memcpy(signed_tc, sig, AI_ED25519_SIG_LEN);
	memcpy(signed_tc + AI_ED25519_SIG_LEN, trusted_comment, tclen);
	r = ai_ed25519_sign(k->seed, signed_tc, AI_ED25519_SIG_LEN + tclen, global);
	if (r != AI_OK)
		return r;
	ai_base64_encode(bin, sizeof bin, sig64);
	ai_base64_encode(global, sizeof global, global64);
	ai_minisign_keyid_hex(k->keyid, id);
	return ai_buf_printf(out, UNTRUSTED_PREFIX "signature from aiarchive key %s\n%s\n"
	                     TRUSTED_PREFIX "%s\n%s\n", id, sig64, trusted_comment, global64);
}

ai_result ai_minisign_sign(const struct ai_signing_key *k, const void *data, size_t n,
                           const char *trusted_comment, struct ai_buf *out)
{
	uint8_t digest[AI_BLAKE2B_LEN];
	ai_result r;

	r = ai_blake2b512(data, n, digest);
	if (r != AI_OK)
		return r;
	return ai_minisign_sign_digest(k, digest, trusted_comment, out);
}

#define WHY(s) do { if (why) *why = (s); } while (0)

ai_result ai_minisign_sig_parse(const char *text, size_t len, struct ai_minisign_sig *sig,
                                const char **why)
{
	struct cursor c = { text, len };
	uint8_t bin[SIG_BIN_LEN];
	const char *line;
	size_t n, plen = strlen(TRUSTED_PREFIX);

	if (len > AI_MINISIGN_SIGFILE_MAX) {
		WHY("signature file is larger than any valid one");
		return AI_ERR_VERIFY;
	}
	if (next_line(&c, COMMENT_LINE_MAX, &line, &n) != LINE_OK ||
	    !has_prefix(line, n, UNTRUSTED_PREFIX)) {
		WHY("malformed signature file: no untrusted comment line");
		return AI_ERR_VERIFY;
	}
	if (next_line(&c, B64LEN(SIG_BIN_LEN), &line, &n) != LINE_OK ||
	    !decode_exact(line, n, bin, sizeof bin)) {
		WHY("malformed signature file: bad signature line");
		return AI_ERR_VERIFY;
	}
	if (memcmp(bin, "ED", ALG_LEN) == 0) {
		sig->prehashed = 1;
	} else if (memcmp(bin, "Ed", ALG_LEN) == 0) {
		sig->prehashed = 0;
	} else {
		WHY("malformed signature file: unknown signature algorithm");
		return AI_ERR_VERIFY;
	}
	memcpy(sig->keyid, bin + ALG_LEN, AI_MINISIGN_KEYID_LEN);
	memcpy(sig->sig, bin + ALG_LEN + AI_MINISIGN_KEYID_LEN, AI_ED25519_SIG_LEN);
	if (next_line(&c, plen + AI_MINISIGN_TRUSTED_MAX, &line, &n) != LINE_OK ||
	    !has_prefix(line, n, TRUSTED_PREFIX)) {
		WHY("malformed signature file: no trusted comment line");
		return AI_ERR_VERIFY;
	}
	sig->trusted_len = n - plen;
	memcpy(sig->trusted, line + plen, sig->trusted_len);
	sig->trusted[sig->trusted_len] = '\0';
	if (next_line(&c, B64LEN(AI_ED25519_SIG_LEN), &line, &n) != LINE_OK ||
	    !decode_exact(line, n, sig->global_sig, AI_ED25519_SIG_LEN)) {
		WHY("malformed signature file: bad trusted comment signature line");
		return AI_ERR_VERIFY;
	}
	if (c.left != 0) {
		WHY("malformed signature file: data after the trusted comment signature");
		return AI_ERR_VERIFY;
	}
	return AI_OK;
}

/* Checks everything but the data signature's message, which the callers
 * supply: key id first (the most useful reason), then the two signatures. */
static ai_result verify_parsed(const struct ai_minisign_pubkey *pk,
                               const struct ai_minisign_sig *sig, const void *msg, size_t n,
                               char *tc, size_t cap, const char **why)
{
	uint8_t *signed_tc = NULL;
	ai_result r;

	if (ai_memeq_ct(sig->keyid, pk->keyid, AI_MINISIGN_KEYID_LEN) != 0) {
		WHY("signature made by another key (key id differs)");
		return AI_ERR_VERIFY;
	}
	r = ai_ed25519_verify(pk->pk, msg, n, sig->sig);
	if (r != AI_OK) {
		WHY("bad signature: the data does not match");
		return r;
	}
	signed_tc = malloc(AI_ED25519_SIG_LEN + sig->trusted_len);
	if (!signed_tc)
		return AI_ERR_NOMEM;
	memcpy(signed_tc, sig->sig, AI_ED25519_SIG_LEN);
	memcpy(signed_tc + AI_ED25519_SIG_LEN, sig->trusted, sig->trusted_len);
	r = ai_ed25519_verify(pk->pk, signed_tc, AI_ED25519_SIG_LEN + sig->trusted_len,
	                      sig->global_sig);
	free(signed_tc);
	if (r != AI_OK) {
		WHY("bad trusted comment signature: the trusted comment was altered");
		return r;
	}
	if (tc) {
		if (cap <= sig->trusted_len) {
			WHY("trusted comment longer than the caller's buffer");
			return AI_ERR_TOO_BIG;
		}
		memcpy(tc, sig->trusted, sig->trusted_len + 1);
	}
	return AI_OK;
}

/* Verifies sigfile over data (n bytes), or, with digest, over the data
 * whose BLAKE2b-512 is data (only a prehashed signature can be checked
 * that way). */
static ai_result verify_sigfile(const struct ai_minisign_pubkey *pk, const void *data, size_t n,
                                int digest, const char *sigfile, size_t len, char *tc,
                                size_t cap, const char **why)
{
	uint8_t hashed[AI_BLAKE2B_LEN];
	struct ai_minisign_sig *sig;
	ai_result r;

	sig = malloc(sizeof *sig);
	if (!sig)
		return AI_ERR_NOMEM;
	r = ai_minisign_sig_parse(sigfile, len, sig, why);
	if (r != AI_OK)
		goto out;
	if (!sig->prehashed && digest) {
		WHY("legacy (non-prehashed) signature: needs the whole data, not its digest");
		r = AI_ERR_VERIFY;
	} else if (sig->prehashed && !digest) {
		r = ai_blake2b512(data, n, hashed);
		if (r == AI_OK)
			r = verify_parsed(pk, sig, hashed, sizeof hashed, tc, cap, why);
	} else {
		r = verify_parsed(pk, sig, data, n, tc, cap, why);
	}
out:
	free(sig);
	return r;
}

ai_result ai_minisign_verify_digest(const struct ai_minisign_pubkey *pk,
                                    const uint8_t blake2b[AI_BLAKE2B_LEN],
                                    const char *sigfile, size_t len,
                                    char *tc, size_t cap, const char **why)
{
	return verify_sigfile(pk, blake2b, AI_BLAKE2B_LEN, 1, sigfile, len, tc, cap, why);
}

ai_result ai_minisign_verify(const struct ai_minisign_pubkey *pk, const void *data, size_t n,
                             const char *sigfile, size_t len,
                             char *tc, size_t cap, const char **why)
{
	return verify_sigfile(pk, data, n, 0, sigfile, len, tc, cap, why);
}
