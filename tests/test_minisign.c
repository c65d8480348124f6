/* test_minisign.c: minisign signatures and keys: round trips, tampering,
 * strict parsing, key file permissions, and interoperability both ways
 * with the real minisign binary. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util/base64.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "format/minisign.h"

#define MINISIGN "/usr/bin/minisign"

extern char **environ;

static char dir[64];

static void make_dir(void)
{
	strcpy(dir, "/tmp/aiarchive-minisign-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	if (!dir[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

TestSuite(minisign, .init = make_dir, .fini = remove_dir);

static char *path(const char *name)
{
	/* Enough slots for every path one test holds at a time. */
	static char p[16][256];
	static int next;
	char *s = p[next++ % 16];

	snprintf(s, sizeof p[0], "%s/%s", dir, name);
	return s;
}

static void write_file(const char *p, const void *data, size_t n, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	cr_assert_eq(close(fd), 0);
	cr_assert_eq(chmod(p, mode), 0);
}

/* Reads a whole file into a NUL-terminated heap string. */
static char *read_file(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	char *s = malloc(1 << 16);
	size_t n;

	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	cr_assert_not_null(s);
	n = fread(s, 1, (1 << 16) - 1, f);
	s[n] = '\0';
	fclose(f);
	if (len)
		*len = n;
	return s;
}

static int have_minisign(void)
{
	return access(MINISIGN, X_OK) == 0;
}

/* Runs the NULL-terminated argument list with stdin from /dev/null and
 * stdout+stderr into dir/out.txt; returns the exit status (255 when it did
 * not exit normally). */
static int run(const char *arg, ...)
{
	posix_spawn_file_actions_t fa;
	char *argv[16];
	va_list ap;
	pid_t pid;
	int st = 0, n = 0;

	va_start(ap, arg);
	for (; arg && n < 15; arg = va_arg(ap, const char *))
		argv[n++] = strdup(arg);
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, path("out.txt"), O_WRONLY | O_CREAT | O_TRUNC,
	                                 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	cr_assert_eq(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	while (n)
		free(argv[--n]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static char *run_output(void)
{
	return read_file(path("out.txt"), NULL);
}

static void sign_buf(const struct ai_signing_key *k, const char *data, const char *tc,
                     struct ai_buf *sig)
{
	ai_buf_init(sig, AI_MINISIGN_SIGFILE_MAX);
	cr_assert_eq(ai_minisign_sign(k, data, strlen(data), tc, sig), AI_OK);
}

static ai_result verify_str(const struct ai_minisign_pubkey *pk, const char *data,
                            const char *sig, size_t siglen, const char **why)
{
	char tc[AI_MINISIGN_TRUSTED_MAX + 1];

	return ai_minisign_verify(pk, data, strlen(data), sig, siglen, tc, sizeof tc, why);
}

Test(minisign, sign_then_verify_round_trip_returns_trusted_comment)
{
	struct ai_signing_key k;
	struct ai_minisign_pubkey pk;
	struct ai_buf sig;
	char tc[AI_MINISIGN_TRUSTED_MAX + 1];
	uint8_t d[64];
	const char *why = "unset";
	const char *data = "{\"event\":1}\n{\"event\":2}\n";

	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	sign_buf(&k, data, "object:data/a.jsonl.gz\tsha256:00", &sig);
	cr_assert_eq(ai_minisign_verify(&pk, data, strlen(data), sig.data, sig.len, tc, sizeof tc,
	                                &why), AI_OK);
	cr_assert_str_eq(tc, "object:data/a.jsonl.gz\tsha256:00");
	cr_assert_eq(ai_blake2b512(data, strlen(data), d), AI_OK);
	cr_assert_eq(ai_minisign_verify_digest(&pk, d, sig.data, sig.len, NULL, 0, &why), AI_OK);
	cr_assert_str_eq(why, "unset");
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}

Test(minisign, signs_a_digest_of_data_seen_in_pieces)
{
	struct ai_signing_key k;
	struct ai_minisign_pubkey pk;
	struct ai_buf sig;
	struct ai_hash h;
	uint8_t d[64];
	static char data[100000];

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)('a' + i % 26);
	data[sizeof data - 1] = '\0';
	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	cr_assert_eq(ai_hash_init(&h, AI_HASH_BLAKE2B512), AI_OK);
	for (size_t off = 0; off < sizeof data - 1; off += 4096) {
		size_t n = sizeof data - 1 - off < 4096 ? sizeof data - 1 - off : 4096;

		cr_assert_eq(ai_hash_update(&h, data + off, n), AI_OK);
	}
	cr_assert_eq(ai_hash_final(&h, d), AI_OK);
	ai_buf_init(&sig, AI_MINISIGN_SIGFILE_MAX);
	cr_assert_eq(ai_minisign_sign_digest(&k, d, "streamed", &sig), AI_OK);
	cr_assert_eq(verify_str(&pk, data, sig.data, sig.len, NULL), AI_OK);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}

Test(minisign, tampered_data_fails_with_bad_signature)
{
	struct ai_signing_key k;
	struct ai_minisign_pubkey pk;
	struct ai_buf sig;
	const char *why = NULL;

	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	sign_buf(&k, "original bytes", "tc", &sig);
	cr_assert_eq(verify_str(&pk, "original bytez", sig.data, sig.len, &why), AI_ERR_VERIFY);
	cr_assert_not_null(strstr(why, "bad signature"), "%s", why);
	cr_assert_eq(verify_str(&pk, "", sig.data, sig.len, &why), AI_ERR_VERIFY);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}

Test(minisign, tampered_trusted_comment_fails_with_comment_reason)
{
	struct ai_signing_key k;
	struct ai_minisign_pubkey pk;
	struct ai_buf sig;
	const char *why = NULL;
	char *p;

	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	sign_buf(&k, "data", "run:42", &sig);
	p = strstr(sig.data, "run:42");
	cr_assert_not_null(p);
	p[4] = '3';
	cr_assert_eq(verify_str(&pk, "data", sig.data, sig.len, &why), AI_ERR_VERIFY);
	cr_assert_not_null(strstr(why, "trusted comment"), "%s", why);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}

Test(minisign, untrusted_comment_may_change_freely)
{
	struct ai_signing_key k;
	struct ai_minisign_pubkey pk;
	struct ai_buf sig, edited;
	const char *nl;

	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	sign_buf(&k, "data", "tc", &sig);
	nl = strchr(sig.data, '\n');
	ai_buf_init(&edited, AI_MINISIGN_SIGFILE_MAX);
	cr_assert_eq(ai_buf_addstr(&edited, "untrusted comment: anything at all"), AI_OK);
	cr_assert_eq(ai_buf_addstr(&edited, nl), AI_OK);
	cr_assert_eq(verify_str(&pk, "data", edited.data, edited.len, NULL), AI_OK);
	ai_buf_release(&edited);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}

Test(minisign, other_key_fails_with_key_id_reason_and_same_id_other_key_fails)
{
	struct ai_signing_key k, other;
	struct ai_minisign_pubkey pk, opk;
	struct ai_buf sig;
	const char *why = NULL;

	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	cr_assert_eq(ai_signing_key_generate(&other), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	ai_signing_key_pubkey(&other, &opk);
	sign_buf(&k, "data", "tc", &sig);
	cr_assert_eq(verify_str(&opk, "data", sig.data, sig.len, &why), AI_ERR_VERIFY);
	cr_assert_not_null(strstr(why, "key id"), "%s", why);
	/* A key claiming the right id must still fail on the signature. */
	memcpy(opk.keyid, pk.keyid, sizeof opk.keyid);
	cr_assert_eq(verify_str(&opk, "data", sig.data, sig.len, &why), AI_ERR_VERIFY);
	cr_assert_not_null(strstr(why, "bad signature"), "%s", why);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
	ai_signing_key_release(&other);
}

Test(minisign, every_truncation_fails_except_the_final_newline)
{
	struct ai_signing_key k;
	struct ai_minisign_pubkey pk;
	struct ai_buf sig;
	const char *why = NULL;

	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	sign_buf(&k, "data", "a trusted comment", &sig);
	for (size_t n = 0; n < sig.len - 1; n++) {
		why = NULL;
		cr_assert_eq(verify_str(&pk, "data", sig.data, n, &why), AI_ERR_VERIFY, "len %zu", n);
		cr_assert_not_null(why);
	}
	cr_assert_eq(verify_str(&pk, "data", sig.data, sig.len - 1, NULL), AI_OK);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}

Test(minisign, garbage_and_malformed_files_fail_with_reason)
{
	struct ai_signing_key k;
	struct ai_minisign_pubkey pk;
	struct ai_buf sig, bad;
	uint8_t rnd[600];
	const char *why;
	char *p;

	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	sign_buf(&k, "data", "tc", &sig);

	cr_assert_eq(ai_random(rnd, sizeof rnd), AI_OK);
	cr_assert_eq(verify_str(&pk, "data", (char *)rnd, sizeof rnd, &why), AI_ERR_VERIFY);
	cr_assert_eq(verify_str(&pk, "data", "", 0, &why), AI_ERR_VERIFY);
	cr_assert_eq(verify_str(&pk, "data", "\n\n\n\n", 4, &why), AI_ERR_VERIFY);

	/* Extra line after the global signature. */
	ai_buf_init(&bad, 2 * AI_MINISIGN_SIGFILE_MAX);
	cr_assert_eq(ai_buf_add(&bad, sig.data, sig.len), AI_OK);
	cr_assert_eq(ai_buf_addstr(&bad, "more\n"), AI_OK);
	cr_assert_eq(verify_str(&pk, "data", bad.data, bad.len, &why), AI_ERR_VERIFY);
	cr_assert_not_null(strstr(why, "after"), "%s", why);

	/* A NUL inside the untrusted comment. */
	ai_buf_reset(&bad);
	cr_assert_eq(ai_buf_add(&bad, sig.data, sig.len), AI_OK);
	bad.data[20] = '\0';
	cr_assert_eq(verify_str(&pk, "data", bad.data, bad.len, &why), AI_ERR_VERIFY);

	/* Unknown algorithm: "RU" starts "ED"; "RV" starts "E" then 0x5?. */
	ai_buf_reset(&bad);
	cr_assert_eq(ai_buf_add(&bad, sig.data, sig.len), AI_OK);
	p = strchr(bad.data, '\n') + 1;
	cr_assert_eq(p[0], 'R');
	cr_assert_eq(p[1], 'U');
	p[1] = 'V';
	cr_assert_eq(verify_str(&pk, "data", bad.data, bad.len, &why), AI_ERR_VERIFY);
	cr_assert_not_null(strstr(why, "algorithm"), "%s", why);

	/* The signature line one character short. */
	ai_buf_reset(&bad);
	cr_assert_eq(ai_buf_add(&bad, sig.data, sig.len), AI_OK);
	p = strchr(bad.data, '\n') + 1;
	memmove(p, p + 1, strlen(p + 1) + 1);
	bad.len--;
	cr_assert_eq(verify_str(&pk, "data", bad.data, bad.len, &why), AI_ERR_VERIFY);

	/* An overlong trusted comment line is refused before any copy. */
	ai_buf_reset(&bad);
	cr_assert_eq(ai_buf_addstr(&bad, "untrusted comment: x\n"), AI_OK);
	p = strchr(sig.data, '\n') + 1;
	cr_assert_eq(ai_buf_add(&bad, p, (size_t)(strchr(p, '\n') - p + 1)), AI_OK);
	cr_assert_eq(ai_buf_addstr(&bad, "trusted comment: "), AI_OK);
	for (int i = 0; i < AI_MINISIGN_TRUSTED_MAX + 1; i++)
		cr_assert_eq(ai_buf_addc(&bad, 'x'), AI_OK);
	cr_assert_eq(ai_buf_addstr(&bad, "\n"), AI_OK);
	cr_assert_eq(ai_buf_addstr(&bad, strrchr(sig.data, '\n') - 88), AI_OK);
	cr_assert_eq(verify_str(&pk, "data", bad.data, bad.len, &why), AI_ERR_VERIFY);
	cr_assert_not_null(strstr(why, "malformed"), "%s", why);

	/* Larger than any valid file. */
	ai_buf_reset(&bad);
	for (int i = 0; i < AI_MINISIGN_SIGFILE_MAX + 1; i++)
		cr_assert_eq(ai_buf_addc(&bad, 'x'), AI_OK);
	cr_assert_eq(verify_str(&pk, "data", bad.data, bad.len, &why), AI_ERR_VERIFY);

	ai_buf_release(&bad);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}

Test(minisign, accepts_crlf_line_endings)
{
	struct ai_signing_key k;
	struct ai_minisign_pubkey pk;
	struct ai_buf sig, crlf;

	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	sign_buf(&k, "data", "tc", &sig);
	ai_buf_init(&crlf, 2 * AI_MINISIGN_SIGFILE_MAX);
	for (size_t i = 0; i < sig.len; i++) {
		if (sig.data[i] == '\n')
			cr_assert_eq(ai_buf_addc(&crlf, '\r'), AI_OK);
		cr_assert_eq(ai_buf_addc(&crlf, sig.data[i]), AI_OK);
	}
	cr_assert_eq(verify_str(&pk, "data", crlf.data, crlf.len, NULL), AI_OK);
	ai_buf_release(&crlf);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}

Test(minisign, trusted_comment_limits_on_signing)
{
	struct ai_signing_key k;
	struct ai_minisign_pubkey pk;
	struct ai_buf sig;
	char *tc = malloc(AI_MINISIGN_TRUSTED_MAX + 2);
	char got[AI_MINISIGN_TRUSTED_MAX + 1];

	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	ai_buf_init(&sig, AI_MINISIGN_SIGFILE_MAX);
	cr_assert_eq(ai_minisign_sign(&k, "d", 1, "two\nlines", &sig), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_minisign_sign(&k, "d", 1, "cr\r", &sig), AI_ERR_BAD_INPUT);
	cr_assert_eq(sig.len, 0);
	memset(tc, 'c', AI_MINISIGN_TRUSTED_MAX + 1);
	tc[AI_MINISIGN_TRUSTED_MAX + 1] = '\0';
	cr_assert_eq(ai_minisign_sign(&k, "d", 1, tc, &sig), AI_ERR_BAD_INPUT);
	tc[AI_MINISIGN_TRUSTED_MAX] = '\0';
	cr_assert_eq(ai_minisign_sign(&k, "d", 1, tc, &sig), AI_OK);
	cr_assert_leq(sig.len, AI_MINISIGN_SIGFILE_MAX);
	cr_assert_eq(ai_minisign_verify(&pk, "d", 1, sig.data, sig.len, got, sizeof got, NULL),
	             AI_OK);
	cr_assert_str_eq(got, tc);
	cr_assert_eq(ai_minisign_verify(&pk, "d", 1, sig.data, sig.len, got, 100, NULL),
	             AI_ERR_TOO_BIG);
	ai_buf_reset(&sig);
	cr_assert_eq(ai_minisign_sign(&k, "d", 1, "", &sig), AI_OK);
	cr_assert_eq(ai_minisign_verify(&pk, "d", 1, sig.data, sig.len, got, sizeof got, NULL),
	             AI_OK);
	cr_assert_str_eq(got, "");
	free(tc);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}

Test(minisign, key_id_is_shown_as_little_endian_uppercase_hex)
{
	uint8_t id[8] = { 0x08, 0xaa, 0xe5, 0xd7, 0x13, 0x26, 0x34, 0x1c };
	char hex[AI_MINISIGN_KEYID_HEXLEN];

	ai_minisign_keyid_hex(id, hex);
	cr_assert_str_eq(hex, "1C342613D7E5AA08");
}

Test(minisign, public_key_format_and_parse_round_trip)
{
	/* A public key file written by minisign 0.11. */
	static const char file[] = "untrusted comment: minisign public key 1C342613D7E5AA08\n"
	                           "RWQIquXXEyY0HCTZkK7zqBZRzTjMYFeySxbB4uANxLczkHxPqs0TKAJ/\n";
	struct ai_minisign_pubkey pk, pk2;
	struct ai_buf out;

	cr_assert_eq(ai_minisign_pubkey_parse(file, sizeof file - 1, &pk), AI_OK);
	cr_assert_eq(pk.keyid[0], 0x08);
	ai_buf_init(&out, 4096);
	cr_assert_eq(ai_minisign_pubkey_format(&pk, &out), AI_OK);
	cr_assert_str_eq(out.data, file);
	cr_assert_eq(ai_minisign_pubkey_parse_b64("RWQIquXXEyY0HCTZkK7zqBZRzTjMYFeySxbB4uANxLcz"
	                                          "kHxPqs0TKAJ/", 56, &pk2), AI_OK);
	cr_assert_arr_eq(&pk, &pk2, sizeof pk);
	ai_buf_release(&out);
}

Test(minisign, malformed_public_keys_are_refused)
{
	struct ai_minisign_pubkey pk;
	static const char wrong_alg[] = "untrusted comment: x\n"
	                                "RUQIquXXEyY0HCTZkK7zqBZRzTjMYFeySxbB4uANxLczkHxPqs0TKAJ/\n";
	static const char no_comment[] = "RWQIquXXEyY0HCTZkK7zqBZRzTjMYFeySxbB4uANxLczkHxPqs0TKAJ/\n";
	static const char short_key[] = "untrusted comment: x\n"
	                                "RWQIquXXEyY0HCTZkK7zqBZRzTjMYFeySxbB4uANxLczkHxPqs0T\n";
	static const char trailing[] = "untrusted comment: x\n"
	                               "RWQIquXXEyY0HCTZkK7zqBZRzTjMYFeySxbB4uANxLczkHxPqs0TKAJ/\nx\n";

	cr_assert_eq(ai_minisign_pubkey_parse(wrong_alg, sizeof wrong_alg - 1, &pk),
	             AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_minisign_pubkey_parse(no_comment, sizeof no_comment - 1, &pk),
	             AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_minisign_pubkey_parse(short_key, sizeof short_key - 1, &pk),
	             AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_minisign_pubkey_parse(trailing, sizeof trailing - 1, &pk),
	             AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_minisign_pubkey_parse("", 0, &pk), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_minisign_pubkey_load(path("missing.pub"), &pk), AI_ERR_CONFIG);
}

Test(minisign, key_files_written_0600_and_load_back)
{
	struct ai_signing_key k, back;
	struct ai_minisign_pubkey pk, filepk;
	char id[AI_MINISIGN_KEYID_HEXLEN], line[64];
	struct stat st;
	char *pub;

	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	cr_assert_eq(ai_signing_key_write(&k, path("sign.key")), AI_OK);
	cr_assert_eq(stat(path("sign.key"), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(ai_signing_key_load(path("sign.key"), &back), AI_OK);
	cr_assert_arr_eq(&k, &back, sizeof k);
	cr_assert_eq(ai_minisign_pubkey_load(path("sign.key.pub"), &filepk), AI_OK);
	ai_signing_key_pubkey(&k, &pk);
	cr_assert_arr_eq(&pk, &filepk, sizeof pk);
	ai_minisign_keyid_hex(k.keyid, id);
	pub = read_file(path("sign.key.pub"), NULL);
	snprintf(line, sizeof line, "untrusted comment: minisign public key %s\n", id);
	cr_assert_eq(strncmp(pub, line, strlen(line)), 0, "%s", pub);
	free(pub);
	ai_signing_key_release(&back);
	for (size_t i = 0; i < sizeof back; i++)
		cr_assert_eq(((unsigned char *)&back)[i], 0);
	ai_signing_key_release(&k);
}

Test(minisign, keygen_never_replaces_existing_files)
{
	char id[AI_MINISIGN_KEYID_HEXLEN];
	char *before, *after;

	cr_assert_eq(ai_minisign_keygen(path("k"), id), AI_OK);
	cr_assert_eq(strlen(id), 16);
	before = read_file(path("k"), NULL);
	cr_assert_eq(ai_minisign_keygen(path("k"), NULL), AI_ERR_EXISTS);
	after = read_file(path("k"), NULL);
	cr_assert_str_eq(before, after);
	free(before);
	free(after);

	/* Only the .pub exists: nothing is left behind by the failed attempt. */
	write_file(path("lone.pub"), "x", 1, 0644);
	cr_assert_eq(ai_minisign_keygen(path("lone"), NULL), AI_ERR_EXISTS);
	cr_assert_eq(access(path("lone"), F_OK), -1);
	after = read_file(path("lone.pub"), NULL);
	cr_assert_str_eq(after, "x");
	free(after);
}

Test(minisign, key_file_readable_by_others_is_refused)
{
	struct ai_signing_key k;

	cr_assert_eq(ai_minisign_keygen(path("perm.key"), NULL), AI_OK);
	cr_assert_eq(chmod(path("perm.key"), 0644), 0);
	cr_assert_eq(ai_signing_key_load(path("perm.key"), &k), AI_ERR_CONFIG);
	cr_assert_eq(chmod(path("perm.key"), 0640), 0);
	cr_assert_eq(ai_signing_key_load(path("perm.key"), &k), AI_ERR_CONFIG);
	cr_assert_eq(chmod(path("perm.key"), 0602), 0);
	cr_assert_eq(ai_signing_key_load(path("perm.key"), &k), AI_ERR_CONFIG);
	cr_assert_eq(chmod(path("perm.key"), 0400), 0);
	cr_assert_eq(ai_signing_key_load(path("perm.key"), &k), AI_OK);
	ai_signing_key_release(&k);
	cr_assert_eq(ai_signing_key_load(path("absent.key"), &k), AI_ERR_CONFIG);
	cr_assert_eq(ai_signing_key_load(dir, &k), AI_ERR_CONFIG);
}

Test(minisign, key_files_must_be_regular_files_and_are_not_waited_on, .timeout = 20)
{
	struct ai_signing_key k;
	struct ai_minisign_pubkey pk;

	cr_assert_eq(ai_minisign_keygen(path("real.key"), NULL), AI_OK);
	cr_assert_eq(mkfifo(path("fifo.key"), 0600), 0);
	cr_expect_eq(ai_signing_key_load(path("fifo.key"), &k), AI_ERR_CONFIG);
	cr_expect_eq(ai_minisign_pubkey_load(path("fifo.key"), &pk), AI_ERR_CONFIG);
	/* A link is refused even to a good key: name the file itself. */
	cr_assert_eq(symlink("real.key", path("link.key")), 0);
	cr_assert_eq(symlink("real.key.pub", path("link.pub")), 0);
	cr_expect_eq(ai_signing_key_load(path("link.key"), &k), AI_ERR_CONFIG);
	cr_expect_eq(ai_minisign_pubkey_load(path("link.pub"), &pk), AI_ERR_CONFIG);
	cr_expect_eq(ai_minisign_pubkey_load(path("real.key.pub"), &pk), AI_OK);
	cr_expect_eq(ai_signing_key_load(path("real.key"), &k), AI_OK);
	ai_signing_key_release(&k);
}

/* Decodes the key line of a secret key file, lets edit() change it and
 * writes it back, 0600. */
static void edit_key(const char *p, void (*edit)(uint8_t *bin))
{
	char *text = read_file(p, NULL);
	char *line = strchr(text, '\n') + 1;
	char *end = strchr(line, '\n');
	uint8_t bin[158];
	char b64[AI_BASE64_ENCLEN(158)];
	char out[1200];
	size_t n;

	cr_assert_eq(ai_base64_decode(line, (size_t)(end - line), bin, sizeof bin, &n), AI_OK);
	cr_assert_eq(n, 158);
	edit(bin);
	ai_base64_encode(bin, sizeof bin, b64);
	snprintf(out, sizeof out, "untrusted comment: edited\n%s\n", b64);
	cr_assert_eq(unlink(p), 0);
	write_file(p, out, strlen(out), 0600);
	free(text);
}

static void set_scrypt(uint8_t *bin)
{
	memcpy(bin + 2, "Sc", 2);
}

static void flip_seed_bit(uint8_t *bin)
{
	bin[62] ^= 1;
}

static void set_sig_alg(uint8_t *bin)
{
	memcpy(bin, "EE", 2);
}

Test(minisign, encrypted_damaged_and_foreign_keys_are_refused)
{
	struct ai_signing_key k;

	cr_assert_eq(ai_minisign_keygen(path("enc.key"), NULL), AI_OK);
	edit_key(path("enc.key"), set_scrypt);
	cr_assert_eq(ai_signing_key_load(path("enc.key"), &k), AI_ERR_CONFIG);

	cr_assert_eq(ai_minisign_keygen(path("bad.key"), NULL), AI_OK);
	edit_key(path("bad.key"), flip_seed_bit);
	cr_assert_eq(ai_signing_key_load(path("bad.key"), &k), AI_ERR_CONFIG);

	cr_assert_eq(ai_minisign_keygen(path("alg.key"), NULL), AI_OK);
	edit_key(path("alg.key"), set_sig_alg);
	cr_assert_eq(ai_signing_key_load(path("alg.key"), &k), AI_ERR_CONFIG);

	write_file(path("junk.key"), "untrusted comment: x\nAAAA\n", 26, 0600);
	cr_assert_eq(ai_signing_key_load(path("junk.key"), &k), AI_ERR_CONFIG);
	cr_assert_eq(ai_signing_key_parse("", 0, &k), AI_ERR_BAD_INPUT);
}

/* (a) Our key and signature, checked by the stock minisign. */
Test(minisign, stock_minisign_verifies_our_signature)
{
	struct ai_signing_key k;
	struct ai_buf sig;
	char *out;
	const char *data = "line one\nline two\n";

	if (!have_minisign())
		cr_skip_test("%s not installed", MINISIGN);
	cr_assert_eq(ai_minisign_keygen(path("our.key"), NULL), AI_OK);
	cr_assert_eq(ai_signing_key_load(path("our.key"), &k), AI_OK);
	write_file(path("pack.gz"), data, strlen(data), 0644);
	sign_buf(&k, data, "object:pack.gz\trun:7", &sig);
	write_file(path("pack.gz.minisig"), sig.data, sig.len, 0644);
	cr_assert_eq(run(MINISIGN, "-Vm", path("pack.gz"), "-p", path("our.key.pub"), NULL), 0,
	             "%s", run_output());
	out = run_output();
	cr_assert_not_null(strstr(out, "Trusted comment: object:pack.gz\trun:7"), "%s", out);
	free(out);
	write_file(path("pack.gz"), "line one\nline 2\n", 16, 0644);
	cr_assert_neq(run(MINISIGN, "-Vm", path("pack.gz"), "-p", path("our.key.pub"), NULL), 0);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}

/* (b) A key pair and signatures made by the stock minisign, checked here,
 * prehashed and legacy. */
Test(minisign, we_verify_signatures_and_load_keys_made_by_minisign)
{
	struct ai_minisign_pubkey pk;
	struct ai_signing_key k;
	char tc[AI_MINISIGN_TRUSTED_MAX + 1];
	const char *why = NULL;
	char *sig, *data;
	size_t siglen, datalen;
	uint8_t d[64];
	const char *text = "minisign made this\n";

	if (!have_minisign())
		cr_skip_test("%s not installed", MINISIGN);
	cr_assert_eq(run(MINISIGN, "-G", "-W", "-p", path("m.pub"), "-s", path("m.key"), NULL), 0,
	             "%s", run_output());
	write_file(path("f.txt"), text, strlen(text), 0644);
	cr_assert_eq(run(MINISIGN, "-S", "-s", path("m.key"), "-m", path("f.txt"),
	                 "-t", "made by minisign", NULL), 0, "%s", run_output());
	cr_assert_eq(ai_minisign_pubkey_load(path("m.pub"), &pk), AI_OK);
	sig = read_file(path("f.txt.minisig"), &siglen);
	data = read_file(path("f.txt"), &datalen);
	cr_assert_eq(ai_minisign_verify(&pk, data, datalen, sig, siglen, tc, sizeof tc, &why),
	             AI_OK, "%s", why);
	cr_assert_str_eq(tc, "made by minisign");
	cr_assert_eq(ai_blake2b512(data, datalen, d), AI_OK);
	cr_assert_eq(ai_minisign_verify_digest(&pk, d, sig, siglen, NULL, 0, &why), AI_OK);
	cr_assert_eq(ai_minisign_verify(&pk, "other", 5, sig, siglen, NULL, 0, &why),
	             AI_ERR_VERIFY);
	free(sig);

	/* Legacy "Ed": checkable from the data, not from a digest. */
	cr_assert_eq(run(MINISIGN, "-S", "-l", "-s", path("m.key"), "-m", path("f.txt"),
	                 "-x", path("legacy.minisig"), "-t", "legacy", NULL), 0, "%s", run_output());
	sig = read_file(path("legacy.minisig"), &siglen);
	cr_assert_eq(ai_minisign_verify(&pk, data, datalen, sig, siglen, tc, sizeof tc, &why),
	             AI_OK, "%s", why);
	cr_assert_str_eq(tc, "legacy");
	cr_assert_eq(ai_minisign_verify_digest(&pk, d, sig, siglen, NULL, 0, &why), AI_ERR_VERIFY);
	cr_assert_not_null(strstr(why, "legacy"), "%s", why);
	free(sig);

	/* minisign's own unencrypted secret key loads and matches its public key. */
	cr_assert_eq(chmod(path("m.key"), 0600), 0);
	cr_assert_eq(ai_signing_key_load(path("m.key"), &k), AI_OK);
	cr_assert_arr_eq(k.keyid, pk.keyid, 8);
	cr_assert_arr_eq(k.pk, pk.pk, 32);
	ai_signing_key_release(&k);
	free(data);
}

/* (c) A key written here, used by the stock minisign to sign. */
Test(minisign, stock_minisign_signs_with_our_secret_key)
{
	struct ai_minisign_pubkey pk;
	char tc[AI_MINISIGN_TRUSTED_MAX + 1];
	const char *why = NULL;
	char *sig, *data;
	size_t siglen, datalen;
	const char *text = "signed by minisign with our key\n";

	if (!have_minisign())
		cr_skip_test("%s not installed", MINISIGN);
	cr_assert_eq(ai_minisign_keygen(path("ours.key"), NULL), AI_OK);
	write_file(path("g.txt"), text, strlen(text), 0644);
	cr_assert_eq(run(MINISIGN, "-S", "-s", path("ours.key"), "-m", path("g.txt"),
	                 "-t", "their tool, our key", NULL), 0, "%s", run_output());
	cr_assert_eq(run(MINISIGN, "-Vm", path("g.txt"), "-p", path("ours.key.pub"), NULL), 0,
	             "%s", run_output());
	cr_assert_eq(ai_minisign_pubkey_load(path("ours.key.pub"), &pk), AI_OK);
	sig = read_file(path("g.txt.minisig"), &siglen);
	data = read_file(path("g.txt"), &datalen);
	cr_assert_eq(ai_minisign_verify(&pk, data, datalen, sig, siglen, tc, sizeof tc, &why),
	             AI_OK, "%s", why);
	cr_assert_str_eq(tc, "their tool, our key");
	free(sig);
	free(data);
}

/* Our secret key file has the byte layout of `minisign -G -W`: only the
 * key id and the key bytes differ. */
Test(minisign, secret_key_layout_matches_minisign_unencrypted_key)
{
	char *ours, *theirs, *l1, *l2;
	uint8_t a[158], b[158];
	size_t n;

	if (!have_minisign())
		cr_skip_test("%s not installed", MINISIGN);
	cr_assert_eq(run(MINISIGN, "-G", "-W", "-p", path("t.pub"), "-s", path("t.key"), NULL), 0,
	             "%s", run_output());
	cr_assert_eq(ai_minisign_keygen(path("o.key"), NULL), AI_OK);
	ours = read_file(path("o.key"), NULL);
	theirs = read_file(path("t.key"), NULL);
	l1 = strchr(ours, '\n') + 1;
	l2 = strchr(theirs, '\n') + 1;
	cr_assert_eq(strlen(l1), strlen(l2));
	cr_assert_eq(ai_base64_decode(l1, strlen(l1) - 1, a, sizeof a, &n), AI_OK);
	cr_assert_eq(n, sizeof a);
	cr_assert_eq(ai_base64_decode(l2, strlen(l2) - 1, b, sizeof b, &n), AI_OK);
	cr_assert_eq(n, sizeof b);
	/* algorithm tags, KDF salt and limits */
	cr_assert_arr_eq(a, b, 54);
	/* checksum */
	cr_assert_arr_eq(a + 126, b + 126, 32);
	free(ours);
	free(theirs);
}

/* The longest trusted comment we sign is one minisign still reads whole. */
Test(minisign, stock_minisign_reads_the_longest_trusted_comment)
{
	struct ai_signing_key k;
	struct ai_buf sig;
	char *tc = malloc(AI_MINISIGN_TRUSTED_MAX + 1);

	if (!have_minisign())
		cr_skip_test("%s not installed", MINISIGN);
	memset(tc, 't', AI_MINISIGN_TRUSTED_MAX);
	tc[AI_MINISIGN_TRUSTED_MAX] = '\0';
	cr_assert_eq(ai_signing_key_generate(&k), AI_OK);
	cr_assert_eq(ai_signing_key_write(&k, path("long.key")), AI_OK);
	write_file(path("h.txt"), "h", 1, 0644);
	sign_buf(&k, "h", tc, &sig);
	write_file(path("h.txt.minisig"), sig.data, sig.len, 0644);
	cr_assert_eq(run(MINISIGN, "-Vm", path("h.txt"), "-p", path("long.key.pub"), NULL), 0,
	             "%s", run_output());
	free(tc);
	ai_buf_release(&sig);
	ai_signing_key_release(&k);
}
