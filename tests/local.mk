# tests/local.mk: Criterion unit tests (one per module) and the end-to-end
# scripts that drive the real binary against Azurite. Every test speaks TAP.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/unit-tap
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	AIARCHIVE='$(abs_top_builddir)/src/aiarchive'; \
	LSAN_OPTIONS='suppressions=$(abs_top_srcdir)/tests/lsan.supp:print_suppressions=0'; \
	ASAN_OPTIONS='detect_leaks=1:abort_on_error=0'; \
	export top_srcdir top_builddir AIARCHIVE LSAN_OPTIONS ASAN_OPTIONS;
EXTRA_DIST += tests/lsan.supp tests/unit-tap

UNIT_TESTS = \
	tests/test_base64 \
	tests/test_buf \
	tests/test_crypto \
	tests/test_gz \
	tests/test_log \
	tests/test_parse \
	tests/test_result

if HAVE_CRITERION
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif
UNIT_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
UNIT_LDADD = $(AI_LIBS) $(CRITERION_LIBS)
tests_test_base64_CFLAGS = $(UNIT_CFLAGS)
tests_test_base64_LDADD = $(UNIT_LDADD)
tests_test_buf_CFLAGS = $(UNIT_CFLAGS)
tests_test_buf_LDADD = $(UNIT_LDADD)
tests_test_crypto_CFLAGS = $(UNIT_CFLAGS)
tests_test_crypto_LDADD = $(UNIT_LDADD)
tests_test_gz_CFLAGS = $(UNIT_CFLAGS)
tests_test_gz_LDADD = $(UNIT_LDADD)
tests_test_log_CFLAGS = $(UNIT_CFLAGS)
tests_test_log_LDADD = $(UNIT_LDADD)
tests_test_parse_CFLAGS = $(UNIT_CFLAGS)
tests_test_parse_LDADD = $(UNIT_LDADD)
tests_test_result_CFLAGS = $(UNIT_CFLAGS)
tests_test_result_LDADD = $(UNIT_LDADD)

E2E_TESTS = \
	tests/e2e/cli.sh

TESTS += $(E2E_TESTS)
EXTRA_DIST += $(E2E_TESTS) tests/e2e/lib.sh
