/* test_crypto.c: placeholder until the crypto module lands. */
#include <criterion/criterion.h>
#include "crypto.h"

Test(crypto, cleanse_zeroes)
{
	char b[4] = "abc";
	ai_cleanse(b, sizeof b);
	cr_assert_eq(b[0], 0);
}
