/* test_crypto.c: published vectors (RFC 8032, FIPS 180, RFC 7693, RFC 4231)
 * for every primitive, plus tampering and bad-input cases. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include "util/crypto.h"
#include "util/hex.h"

static void unhex_ok(const char *s, uint8_t *out, size_t n)
{
	cr_assert_eq(ai_unhex(s, strlen(s), out, n), AI_OK, "bad vector hex: %s", s);
}

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
	char got[2 * 128 + 1];

	cr_assert_leq(n, 128);
	ai_hex(p, n, got);
	cr_assert_str_eq(got, want);
}

/* RFC 8032 §7.1 */
struct ed_vec {
	char name[16];
	char seed[65];
	char pub[65];
	char msg[129];
	char sig[129];
};

ParameterizedTestParameters(ed25519, rfc8032_vectors)
{
	static struct ed_vec v[] = {
		{ "TEST 1",
		  "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		  "",
		  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
		{ "TEST 2",
		  "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		  "72",
		  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
		  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
		{ "TEST 3",
		  "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
		  "af82",
		  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
		  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
		{ "TEST SHA(abc)",
		  "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
		  "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
		  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		  "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
		  "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704" },
	};
	return cr_make_param_array(struct ed_vec, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct ed_vec *v, ed25519, rfc8032_vectors)
{
	uint8_t seed[32], pub[32], msg[64], sig[64], want[64];
	size_t n = strlen(v->msg) / 2;

	unhex_ok(v->seed, seed, sizeof seed);
	unhex_ok(v->msg, msg, n);
	unhex_ok(v->sig, want, sizeof want);
	cr_assert_eq(ai_ed25519_public(seed, pub), AI_OK);
	assert_hex(pub, sizeof pub, v->pub);
	cr_assert_eq(ai_ed25519_sign(seed, msg, n, sig), AI_OK);
	cr_assert_arr_eq(sig, want, sizeof sig, "%s: signature differs", v->name);
	cr_assert_eq(ai_ed25519_verify(pub, msg, n, sig), AI_OK, "%s", v->name);
}

static const char msg1023[] =
	"08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
	"fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
	"79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
	"658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
	"1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
	"ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
	"06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
	"efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"
	"aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
	"85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"
	"d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
	"554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
	"88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
	"2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
	"07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
	"b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"
	"ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"
	"c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
	"51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"
	"42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"
	"ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
	"f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
	"d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"
	"de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
	"88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"
	"2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"
	"6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
	"b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
	"0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"
	"369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
	"b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"
	"0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0"
	;

Test(ed25519, rfc8032_test_1024_signs_a_1023_byte_message)
{
	uint8_t seed[32], pub[32], sig[64], want[64], msg[1023];

	cr_assert_eq(strlen(msg1023), 2 * sizeof msg);
	unhex_ok(msg1023, msg, sizeof msg);
	unhex_ok("f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5", seed, 32);
	unhex_ok("0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
	         "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03", want, 64);
	cr_assert_eq(ai_ed25519_public(seed, pub), AI_OK);
	assert_hex(pub, 32, "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e");
	cr_assert_eq(ai_ed25519_sign(seed, msg, sizeof msg, sig), AI_OK);
	cr_assert_arr_eq(sig, want, 64);
	cr_assert_eq(ai_ed25519_verify(pub, msg, sizeof msg, sig), AI_OK);
}

Test(ed25519, keygen_sign_verify_round_trip)
{
	uint8_t seed[32], pub[32], pub2[32], sig[64];
	static const char m[] = "pack bytes";

	cr_assert_eq(ai_ed25519_keygen(seed, pub), AI_OK);
	cr_assert_eq(ai_ed25519_public(seed, pub2), AI_OK);
	cr_assert_arr_eq(pub, pub2, 32);
	cr_assert_eq(ai_ed25519_sign(seed, m, sizeof m - 1, sig), AI_OK);
	cr_assert_eq(ai_ed25519_verify(pub, m, sizeof m - 1, sig), AI_OK);
	ai_cleanse(seed, sizeof seed);
}

Test(ed25519, rejects_flipped_signature_bit_message_bit_and_wrong_key)
{
	uint8_t seed[32], pub[32], other_seed[32], other_pub[32], sig[64];
	uint8_t m[] = "archived telemetry";

	cr_assert_eq(ai_ed25519_keygen(seed, pub), AI_OK);
	cr_assert_eq(ai_ed25519_keygen(other_seed, other_pub), AI_OK);
	cr_assert_eq(ai_ed25519_sign(seed, m, sizeof m, sig), AI_OK);
	for (size_t bit = 0; bit < 512; bit += 37) {
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_eq(ai_ed25519_verify(pub, m, sizeof m, sig), AI_ERR_VERIFY, "bit %zu", bit);
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	m[3] ^= 1;
	cr_assert_eq(ai_ed25519_verify(pub, m, sizeof m, sig), AI_ERR_VERIFY);
	m[3] ^= 1;
	cr_assert_eq(ai_ed25519_verify(other_pub, m, sizeof m, sig), AI_ERR_VERIFY);
	cr_assert_eq(ai_ed25519_verify(pub, m, sizeof m, sig), AI_OK);
}

Test(ed25519, rejects_public_key_that_is_not_a_point)
{
	uint8_t pub[32], sig[64] = { 0 };

	/* y = 2 has no x on the curve. */
	memset(pub, 0, sizeof pub);
	pub[0] = 2;
	cr_assert_eq(ai_ed25519_verify(pub, "x", 1, sig), AI_ERR_VERIFY);
}

/* FIPS 180-2 examples */
Test(sha256, fips180_vectors)
{
	uint8_t d[32];

	cr_assert_eq(ai_sha256("abc", 3, d), AI_OK);
	assert_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cr_assert_eq(ai_sha256("", 0, d), AI_OK);
	assert_hex(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cr_assert_eq(ai_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d),
	             AI_OK);
	assert_hex(d, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, million_a_streamed_in_uneven_pieces)
{
	struct ai_hash h;
	char a[1024]; /* larger than any step below */
	uint8_t d[32];
	size_t left = 1000000, step = 1;

	memset(a, 'a', sizeof a);
	cr_assert_eq(ai_hash_init(&h, AI_HASH_SHA256), AI_OK);
	while (left) {
		size_t n = step < left ? step : left;

		cr_assert_eq(ai_hash_update(&h, a, n), AI_OK);
		left -= n;
		step = step % 997 + 13;
	}
	cr_assert_eq(ai_hash_final(&h, d), AI_OK);
	assert_hex(d, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* RFC 7693 Appendix A ("abc") and the empty input. */
Test(blake2b512, rfc7693_vectors)
{
	uint8_t d[64];

	cr_assert_eq(ai_blake2b512("abc", 3, d), AI_OK);
	assert_hex(d, 64,
	           "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
	           "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
	cr_assert_eq(ai_blake2b512("", 0, d), AI_OK);
	assert_hex(d, 64,
	           "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
	           "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
}

Test(hash, streaming_equals_one_shot_for_both_kinds)
{
	uint8_t buf[5000], one[64], many[64];
	struct ai_hash h;

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(ai_blake2b512(buf, sizeof buf, one), AI_OK);
	cr_assert_eq(ai_hash_init(&h, AI_HASH_BLAKE2B512), AI_OK);
	cr_assert_eq(ai_hash_update(&h, buf, 1), AI_OK);
	cr_assert_eq(ai_hash_update(&h, buf + 1, 0), AI_OK);
	cr_assert_eq(ai_hash_update(&h, buf + 1, 127), AI_OK);
	cr_assert_eq(ai_hash_update(&h, buf + 128, sizeof buf - 128), AI_OK);
	cr_assert_eq(ai_hash_final(&h, many), AI_OK);
	cr_assert_arr_eq(one, many, 64);

	cr_assert_eq(ai_sha256(buf, sizeof buf, one), AI_OK);
	cr_assert_eq(ai_hash_init(&h, AI_HASH_SHA256), AI_OK);
	cr_assert_eq(ai_hash_update(&h, buf, 4999), AI_OK);
	cr_assert_eq(ai_hash_update(&h, buf + 4999, 1), AI_OK);
	cr_assert_eq(ai_hash_final(&h, many), AI_OK);
	cr_assert_arr_eq(one, many, 32);
}

Test(hash, release_is_safe_after_final_and_on_abandoned_hash)
{
	struct ai_hash h = { 0 };
	uint8_t d[32];

	ai_hash_release(&h);
	ai_hash_release(NULL);
	cr_assert_eq(ai_hash_update(&h, "x", 1), AI_ERR_INTERNAL);
	cr_assert_eq(ai_hash_init(&h, AI_HASH_SHA256), AI_OK);
	cr_assert_eq(ai_hash_update(&h, "x", 1), AI_OK);
	ai_hash_release(&h);
	cr_assert_eq(ai_hash_init(&h, AI_HASH_SHA256), AI_OK);
	cr_assert_eq(ai_hash_final(&h, d), AI_OK);
	ai_hash_release(&h);
	cr_assert_eq(ai_hash_final(&h, d), AI_ERR_INTERNAL);
}

/* RFC 4231 test cases 1, 2 and 6 */
struct hmac_vec {
	char key[300];
	char data[120];
	char mac[65];
};

ParameterizedTestParameters(hmac_sha256, rfc4231_vectors)
{
	static struct hmac_vec v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "4a656665", "what do ya want for nothing?",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaa",
		  "Test Using Larger Than Block-Size Key - Hash Key First",
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	};
	return cr_make_param_array(struct hmac_vec, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct hmac_vec *v, hmac_sha256, rfc4231_vectors)
{
	uint8_t key[150], mac[32];
	size_t klen = strlen(v->key) / 2;

	unhex_ok(v->key, key, klen);
	cr_assert_eq(ai_hmac_sha256(key, klen, v->data, strlen(v->data), mac), AI_OK);
	assert_hex(mac, 32, v->mac);
}

Test(hmac_sha256, accepts_empty_key_and_message)
{
	uint8_t mac[32];

	cr_assert_eq(ai_hmac_sha256("", 0, "", 0, mac), AI_OK);
	assert_hex(mac, 32, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

Test(random, fills_buffers_and_differs_between_calls)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 }, z[32] = { 0 };

	cr_assert_eq(ai_random(a, sizeof a), AI_OK);
	cr_assert_eq(ai_random(b, sizeof b), AI_OK);
	cr_assert_neq(memcmp(a, z, sizeof a), 0);
	cr_assert_neq(memcmp(a, b, sizeof a), 0);
	cr_assert_eq(ai_random(a, 0), AI_OK);
}

Test(util, cleanse_zeroes_and_memeq_ct_compares)
{
	char b[4] = "abc";

	cr_assert_eq(ai_memeq_ct("abcd", "abcd", 4), 0);
	cr_assert_neq(ai_memeq_ct("abcd", "abce", 4), 0);
	cr_assert_eq(ai_memeq_ct("a", "b", 0), 0);
	ai_cleanse(b, sizeof b);
	cr_assert_eq(b[0], 0);
	cr_assert_eq(b[2], 0);
	ai_cleanse(NULL, 0);
}

Test(hex, round_trips_and_reads_either_case)
{
	uint8_t in[256], out[256];
	char h[513];

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	ai_hex(in, sizeof in, h);
	cr_assert_eq(strlen(h), 512);
	cr_assert_eq(strncmp(h, "000102", 6), 0);
	cr_assert_eq(ai_unhex(h, 512, out, sizeof out), AI_OK);
	cr_assert_arr_eq(in, out, sizeof in);
	cr_assert_eq(ai_unhex("DEADbeef", 8, out, 4), AI_OK);
	cr_assert_eq(out[0], 0xde);
	cr_assert_eq(out[3], 0xef);
	ai_hex(in, 0, h);
	cr_assert_str_eq(h, "");
}

Test(hex, rejects_bad_digits_and_lengths)
{
	uint8_t out[4];

	cr_assert_eq(ai_unhex("0g", 2, out, 1), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_unhex(" 0", 2, out, 1), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_unhex("abc", 3, out, 1), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_unhex("abcd", 4, out, 1), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_unhex("ab", 2, out, 2), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_unhex("", 0, out, 0), AI_OK);
}

/* RFC 1321 §A.5 */
Test(md5, rfc1321_vectors)
{
	uint8_t d[16];

	cr_assert_eq(ai_md5("", 0, d), AI_OK);
	assert_hex(d, 16, "d41d8cd98f00b204e9800998ecf8427e");
	cr_assert_eq(ai_md5("abc", 3, d), AI_OK);
	assert_hex(d, 16, "900150983cd24fb0d6963f7d28e17f72");
}
