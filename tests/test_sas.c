/* test_sas.c: reading a SAS token's claims and judging them against what
 * a command needs (store/sas.h). */
#include <criterion/criterion.h>
#include <string.h>
#include "store/sas.h"

#define SEC INT64_C(1000000000)
/* 2026-12-02T05:00:00Z */
#define NOW (INT64_C(1796187600) * SEC)

static struct ai_sas parse_ok(const char *token)
{
	struct ai_sas s;
	char why[256];
	ai_result r = ai_sas_parse(token, &s, why, sizeof why);

	cr_assert_eq(r, AI_OK, "%s: %s", token, why);
	return s;
}

static void check_fails(const char *token, const char *need, int account_level,
                        const char *want)
{
	struct ai_sas s = parse_ok(token);
	char why[512];

	cr_assert_eq(ai_sas_check(&s, need, account_level, NOW, why, sizeof why), AI_ERR_AUTH,
	             "%s", token);
	cr_assert_str_eq(why, want);
}

Test(sas, reads_a_container_sas)
{
	struct ai_sas s = parse_ok("?sv=2025-11-05&st=2026-12-02T04%3A00%3A00Z"
	                           "&se=2026-12-02T06%3A30%3A00Z&sr=c&sp=racwdl&sig=a%2Bb%3D");
	char d[200];

	cr_assert_str_eq(s.version, "2025-11-05");
	cr_assert(s.has_start && s.has_expiry && s.has_perms);
	cr_assert_str_eq(s.start_text, "2026-12-02T04:00:00Z");
	cr_assert_eq(s.expiry, NOW + 5400 * SEC);
	cr_assert_eq(s.start, NOW - 3600 * SEC);
	cr_assert_str_eq(s.perms, "racwdl");
	cr_assert_str_eq(s.resource, "c");
	ai_sas_describe(&s, d, sizeof d);
	cr_assert_str_eq(d, "sp=racwdl, se=2026-12-02T06:30:00Z");
}

Test(sas, reads_an_account_sas_and_the_short_time_forms)
{
	struct ai_sas s = parse_ok("sv=2025-11-05&ss=bf&srt=sco&sp=rl&se=2026-12-03&sig=x");

	cr_assert_str_eq(s.services, "bf");
	cr_assert_str_eq(s.resource_types, "sco");
	cr_assert_eq(s.expiry, NOW + 19 * 3600 * SEC);
	s = parse_ok("se=2026-12-02T05:30Z&sp=r&sig=x");
	cr_assert_eq(s.expiry, NOW + 1800 * SEC);
	s = parse_ok("se=2026-12-02T05:00:00.1234567Z&sig=x");
	cr_assert_eq(s.expiry, NOW + 123456700);
}

Test(sas, refuses_what_is_not_a_sas)
{
	static const char *const bad[] = {
		"sv=2025-11-05&sp=rl",              /* no signature */
		"se=tomorrow&sig=x",                /* not a time */
		"se=now&sig=x",
		"sp=r&sp=rw&sig=x",                 /* twice */
		"se=2026-12-02T05%3&sig=x",         /* bad escape */
		"",
	};
	struct ai_sas s;
	char why[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(ai_sas_parse(bad[i], &s, why, sizeof why), AI_ERR_BAD_INPUT, "%s", bad[i]);
	cr_assert_eq(ai_sas_parse("sv=1&sp=rl", &s, why, sizeof why), AI_ERR_BAD_INPUT);
	cr_assert_str_eq(why, "not a SAS token (it has no sig=)");
	cr_assert_null(strstr(why, "sig=x"));
}

Test(sas, an_expired_sas_names_its_expiry)
{
	check_fails("se=2026-12-02T04%3A59%3A59Z&sp=rl&sr=c&sig=x", "rl", 0,
	            "expired at se=2026-12-02T04:59:59Z (now 2026-12-02T05:00:00Z)");
	check_fails("se=2026-12-02T05%3A00%3A00Z&sp=rl&sig=x", "rl", 0,
	            "expired at se=2026-12-02T05:00:00Z (now 2026-12-02T05:00:00Z)");
}

Test(sas, one_not_yet_valid_names_its_start)
{
	check_fails("st=2026-12-02T06%3A00%3A00Z&se=2026-12-03&sp=rl&sig=x", "rl", 0,
	            "not valid before st=2026-12-02T06:00:00Z (now 2026-12-02T05:00:00Z)");
}

Test(sas, missing_permissions_are_named_by_letter)
{
	check_fails("se=2026-12-03&sp=rl&sr=c&sig=x", "rwl", 0,
	            "lacks permission w (sp=rl; needs rwl)");
	check_fails("se=2026-12-03&sp=racl&sr=c&sig=x", "rwld", 0,
	            "lacks permissions wd (sp=racl; needs rwld)");
	check_fails("se=2026-12-03&sp=w&sr=c&sig=x", "rl", 0,
	            "lacks permissions rl (sp=w; needs rl)");
}

Test(sas, what_it_covers_must_be_enough)
{
	check_fails("se=2026-12-03&sp=rl&sr=b&sig=x", "rl", 0,
	            "a SAS for one blob (sr=b) cannot list a container; "
	            "it needs a container SAS (sr=c)");
	check_fails("se=2026-12-03&sp=rl&sr=c&sig=x", "rl", 1,
	            "a container SAS (sr=c) cannot list the account's containers; "
	            "it needs an account SAS");
	check_fails("se=2026-12-03&sp=rl&ss=f&srt=sco&sig=x", "rl", 0,
	            "an account SAS without the blob service (ss=f, needs b)");
	check_fails("se=2026-12-03&sp=rl&ss=b&srt=o&sig=x", "rl", 0,
	            "an account SAS for resource types srt=o lacks c (needs srt=co)");
	check_fails("se=2026-12-03&sp=rl&ss=b&srt=co&sig=x", "rl", 1,
	            "an account SAS for resource types srt=co lacks s (needs srt=sco)");
}

Test(sas, a_good_one_passes_and_a_stored_policy_is_not_second_guessed)
{
	static const struct {
		const char *token, *need;
		int account;
	} good[] = {
		{ "se=2026-12-03&sp=rl&sr=c&sig=x", "rl", 0 },
		{ "se=2026-12-03&sp=racwdl&sr=c&sig=x", "rwld", 0 },
		{ "se=2026-12-03&sp=rl&ss=b&srt=sco&sig=x", "rl", 1 },
		{ "si=policy1&sr=c&sig=x", "rwld", 0 },  /* the policy holds sp and se */
		{ "sp=rwl&sig=x", "rwl", 0 },            /* no expiry given: not ours to judge */
	};
	char why[512];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct ai_sas s = parse_ok(good[i].token);
		cr_assert_eq(ai_sas_check(&s, good[i].need, good[i].account, NOW, why, sizeof why),
		             AI_OK, "%s: %s", good[i].token, why);
	}
}
