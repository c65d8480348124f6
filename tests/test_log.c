/* test_log.c: the redaction helper hides every kind of secret. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>
#include "util/log.h"

struct vec {
	char in[128];
	char out[128];
};

ParameterizedTestParameters(log, redacts_known_secret_shapes)
{
	static struct vec v[] = {
		{ "GET https://a.blob.core.windows.net/c?sv=2024&sig=abc%2Bdef%3D&se=x",
		  "GET https://a.blob.core.windows.net/c?sv=2024&sig=REDACTED&se=x" },
		{ "url ?sig=XYZ", "url ?sig=REDACTED" },
		{ "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=Zm9v==;BlobEndpoint=x",
		  "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=REDACTED;BlobEndpoint=x" },
		{ "Authorization: SharedKey acct:c2lnbmF0dXJl", "Authorization: SharedKey REDACTED" },
		{ "Authorization: Bearer eyJ0eXAi.x.y", "Authorization: Bearer REDACTED" },
		{ "no secrets here, signature=fine", "no secrets here, signature=fine" },
	};
	return cr_make_param_array(struct vec, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct vec *v, log, redacts_known_secret_shapes)
{
	char out[256];

	cr_assert_str_eq(ai_redact(v->in, out, sizeof out), v->out);
}

Test(log, redacts_registered_secrets_anywhere)
{
	char out[128];

	ai_redact_add("s3cr3tKeyValue");
	cr_assert_str_eq(ai_redact("key s3cr3tKeyValue in text", out, sizeof out),
	                 "key REDACTED in text");
	ai_redact_clear();
	cr_assert_str_eq(ai_redact("key s3cr3tKeyValue", out, sizeof out), "key s3cr3tKeyValue");
}

Test(log, truncates_safely)
{
	char out[8];

	cr_assert_str_eq(ai_redact("0123456789", out, sizeof out), "0123456");
	cr_assert_str_eq(ai_redact("a?sig=zzzzzzzz", out, sizeof out), "a?sig=R");
}

Test(log, a_message_reaches_stderr_with_its_control_characters_escaped,
     .init = cr_redirect_stderr)
{
	ai_warn("blob '%s': x", "a\nb\x1b[2Jc");
	fflush(stderr);
	cr_assert_stderr_eq_str("aiarchive: warning: blob 'a\\nb\\x1b[2Jc': x\n");
}

Test(log, the_first_error_is_kept_for_the_closing_line, .init = cr_redirect_stderr)
{
	cr_assert_str_eq(ai_log_first_error(), "");
	ai_warn("not an error");
	cr_assert_str_eq(ai_log_first_error(), "");
	ai_error("source ?sig=abc&x: 500 %s", "InternalError");
	ai_error("a later one");
	cr_assert_str_eq(ai_log_first_error(), "source ?sig=REDACTED&x: 500 InternalError");
	ai_say("run: %s; exit %d", "2 of 3 blobs failed", 1);
	fflush(stderr);
	cr_assert_stderr_eq_str("aiarchive: warning: not an error\n"
	                        "aiarchive: error: source ?sig=REDACTED&x: 500 InternalError\n"
	                        "aiarchive: error: a later one\n"
	                        "aiarchive: run: 2 of 3 blobs failed; exit 1\n");
}

Test(log, an_error_below_the_level_is_still_kept, .init = cr_redirect_stderr)
{
	ai_log_level = AI_LOG_QUIET;
	ai_error("dropped but kept");
	ai_say("said anyway");
	fflush(stderr);
	cr_assert_str_eq(ai_log_first_error(), "dropped but kept");
	cr_assert_stderr_eq_str("aiarchive: said anyway\n");
}
