/* test_result.c: exit codes of ARCHITECTURE.md §10 and messages. */
#include <criterion/criterion.h>
#include <string.h>
#include "util/result.h"

Test(result, exit_codes_follow_the_design_table)
{
	cr_assert_eq(ai_exit_code(AI_OK), 0);
	cr_assert_eq(ai_exit_code(AI_ERR_PARTIAL), 1);
	cr_assert_eq(ai_exit_code(AI_ERR_USAGE), 2);
	cr_assert_eq(ai_exit_code(AI_ERR_CONFIG), 2);
	cr_assert_eq(ai_exit_code(AI_ERR_AUTH), 3);
	cr_assert_eq(ai_exit_code(AI_ERR_VERIFY), 4);
	cr_assert_eq(ai_exit_code(AI_ERR_LOCKED), 5);
	cr_assert_eq(ai_exit_code(AI_ERR_NETWORK), 6);
	cr_assert_eq(ai_exit_code(AI_ERR_UNAVAILABLE), 6);
	cr_assert_eq(ai_exit_code(AI_ERR_TIMEOUT), 6);
	cr_assert_eq(ai_exit_code(AI_ERR_NOTHING), 9);
	cr_assert_eq(ai_exit_code(AI_ERR_IO), 1);
}

Test(result, every_result_has_a_lowercase_message)
{
	for (int r = 0; r < AI_RESULT_COUNT; r++) {
		const char *m = ai_strerror((ai_result)r);
		cr_assert(m && *m);
		cr_assert(m[0] >= 'a' && m[0] <= 'z', "message '%s' starts lowercase", m);
	}
	cr_assert_str_eq(ai_strerror((ai_result)999), "unknown error");
}

Test(result, only_network_class_results_are_transient)
{
	cr_assert(ai_result_transient(AI_ERR_UNAVAILABLE));
	cr_assert(ai_result_transient(AI_ERR_NETWORK));
	cr_assert_not(ai_result_transient(AI_ERR_AUTH));
	cr_assert_not(ai_result_transient(AI_ERR_EXISTS));
}

Test(result, every_result_has_a_distinct_symbolic_name)
{
	for (int r = 0; r < AI_RESULT_COUNT; r++) {
		const char *n = ai_result_name((ai_result)r);
		cr_assert(n && *n && strcmp(n, "unknown") != 0, "result %d has a name", r);
		cr_assert_eq(strspn(n, "abcdefghijklmnopqrstuvwxyz_"), strlen(n), "'%s' is a word", n);
		for (int k = 0; k < r; k++)
			cr_assert_str_neq(n, ai_result_name((ai_result)k));
	}
	cr_assert_str_eq(ai_result_name(AI_ERR_NOT_FOUND), "not_found");
	cr_assert_str_eq(ai_result_name((ai_result)999), "unknown");
}
