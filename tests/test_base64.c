/* test_base64.c: RFC 4648 §10 vectors and bad input. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include "util/base64.h"

struct vec {
	char plain[16];
	char coded[16];
};

ParameterizedTestParameters(base64, rfc4648_vectors)
{
	static struct vec v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	return cr_make_param_array(struct vec, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct vec *v, base64, rfc4648_vectors)
{
	char enc[64];
	uint8_t dec[64];
	size_t n;

	ai_base64_encode(v->plain, strlen(v->plain), enc);
	cr_assert_str_eq(enc, v->coded);
	cr_assert_eq(ai_base64_decode(v->coded, strlen(v->coded), dec, sizeof dec, &n), AI_OK);
	cr_assert_eq(n, strlen(v->plain));
	cr_assert_arr_eq(dec, v->plain, n);
}

Test(base64, rejects_bad_characters_and_lengths)
{
	uint8_t out[16];
	size_t n;

	cr_assert_eq(ai_base64_decode("Zm9", 3, out, sizeof out, &n), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_base64_decode("Zm9v!A==", 8, out, sizeof out, &n), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_base64_decode("Zg==Zm9v", 8, out, sizeof out, &n), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_base64_decode("Z===", 4, out, sizeof out, &n), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_base64_decode("Zm9vYmFy", 8, out, 5, &n), AI_ERR_TOO_BIG);
}

Test(base64, round_trips_every_byte_value)
{
	uint8_t in[256], out[256];
	char enc[AI_BASE64_ENCLEN(256)];
	size_t n;

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	for (size_t len = 0; len <= 256; len += 37) {
		ai_base64_encode(in, len, enc);
		cr_assert_eq(ai_base64_decode(enc, strlen(enc), out, sizeof out, &n), AI_OK);
		cr_assert_eq(n, len);
		cr_assert_arr_eq(out, in, len);
	}
}
