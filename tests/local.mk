# tests/local.mk: Criterion unit tests (one per module) and the end-to-end
# scripts that drive the real binary against Azurite. Every test speaks TAP.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/unit-tap
# The end-to-end scripts run by their #! line (bash).
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER =
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	AIARCHIVE='$(abs_top_builddir)/src/aiarchive'; NODE_MODULES='$(NODE_MODULES)'; \
	LSAN_OPTIONS='suppressions=$(abs_top_srcdir)/tests/lsan.supp:print_suppressions=0'; \
	ASAN_OPTIONS='detect_leaks=1:abort_on_error=0'; \
	export top_srcdir top_builddir AIARCHIVE NODE_MODULES LSAN_OPTIONS ASAN_OPTIONS;
EXTRA_DIST += tests/lsan.supp tests/unit-tap
# libFuzzer targets: built by hand (see the comment at the top of each).
EXTRA_DIST += tests/fuzz/fuzz_gz_reader.c
EXTRA_DIST += tests/fuzz/fuzz_manifest.c

UNIT_TESTS = \
	tests/test_archive \
	tests/test_auth \
	tests/test_azurl \
	tests/test_base64 \
	tests/test_blobxml \
	tests/test_bloom \
	tests/test_buf \
	tests/test_catalog \
	tests/test_checkpoint \
	tests/test_crypto \
	tests/test_fetch \
	tests/test_dedupe \
	tests/test_escape \
	tests/test_gz \
	tests/test_http \
	tests/test_identity \
	tests/test_lock \
	tests/test_log \
	tests/test_manifest \
	tests/test_member \
	tests/test_ranges \
	tests/test_minisign \
	tests/test_options \
	tests/test_pack \
	tests/test_parse \
	tests/test_progress \
	tests/test_regfile \
	tests/test_result \
	tests/test_retry \
	tests/test_rowscan \
	tests/test_run \
	tests/test_sas \
	tests/test_shard \
	tests/test_sharedkey \
	tests/test_source \
	tests/test_store \
	tests/test_table \
	tests/test_trust \
	tests/test_verify \
	tests/test_witness

if HAVE_CRITERION
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
UNIT_TESTS_RUN = $(UNIT_TESTS)
endif
# `make check-unit`: the unit tests alone (seconds).
check-unit:
	@$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS_RUN)'
.PHONY: check-unit
# Fixtures: unit tests open them under TEST_DATA_DIR, in the source tree
# (a VPATH build and distcheck included).
UNIT_FIXTURES = \
	tests/data/README.md \
	tests/data/diag_AppRequests.json \
	tests/data/sp_cert.pem \
	tests/data/sp_cert_only.pem \
	tests/data/request_msdocs_example.json \
	tests/data/ws_AppRequests.json
EXTRA_DIST += $(UNIT_FIXTURES)
UNIT_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS) -DTEST_DATA_DIR='"$(abs_top_srcdir)/tests/data"'
UNIT_LDADD = $(AI_LIBS) $(CRITERION_LIBS)
tests_test_archive_CFLAGS = $(UNIT_CFLAGS)
tests_test_archive_LDADD = $(UNIT_LDADD)
tests_test_auth_CFLAGS = $(UNIT_CFLAGS)
tests_test_auth_LDADD = $(UNIT_LDADD)
tests_test_azurl_CFLAGS = $(UNIT_CFLAGS)
tests_test_azurl_LDADD = $(UNIT_LDADD)
tests_test_retry_CFLAGS = $(UNIT_CFLAGS)
tests_test_retry_LDADD = $(UNIT_LDADD)
tests_test_sas_CFLAGS = $(UNIT_CFLAGS)
tests_test_sas_LDADD = $(UNIT_LDADD)
tests_test_sharedkey_CFLAGS = $(UNIT_CFLAGS)
tests_test_sharedkey_LDADD = $(UNIT_LDADD)
tests_test_base64_CFLAGS = $(UNIT_CFLAGS)
tests_test_base64_LDADD = $(UNIT_LDADD)
tests_test_blobxml_CFLAGS = $(UNIT_CFLAGS)
tests_test_blobxml_LDADD = $(UNIT_LDADD)
tests_test_bloom_CFLAGS = $(UNIT_CFLAGS)
tests_test_bloom_LDADD = $(UNIT_LDADD)
tests_test_progress_CFLAGS = $(UNIT_CFLAGS)
tests_test_progress_LDADD = $(UNIT_LDADD)
tests_test_table_CFLAGS = $(UNIT_CFLAGS)
tests_test_table_LDADD = $(UNIT_LDADD)
tests_test_buf_CFLAGS = $(UNIT_CFLAGS)
tests_test_buf_LDADD = $(UNIT_LDADD)
tests_test_catalog_CFLAGS = $(UNIT_CFLAGS)
tests_test_catalog_LDADD = $(UNIT_LDADD)
tests_test_checkpoint_CFLAGS = $(UNIT_CFLAGS)
tests_test_checkpoint_LDADD = $(UNIT_LDADD)
tests_test_witness_CFLAGS = $(UNIT_CFLAGS)
tests_test_witness_LDADD = $(UNIT_LDADD)
tests_test_fetch_CFLAGS = $(UNIT_CFLAGS)
tests_test_fetch_LDADD = $(UNIT_LDADD)
tests_test_crypto_CFLAGS = $(UNIT_CFLAGS)
tests_test_crypto_LDADD = $(UNIT_LDADD)
tests_test_escape_CFLAGS = $(UNIT_CFLAGS)
tests_test_escape_LDADD = $(UNIT_LDADD)
tests_test_ranges_CFLAGS = $(UNIT_CFLAGS)
tests_test_ranges_LDADD = $(UNIT_LDADD)
tests_test_dedupe_CFLAGS = $(UNIT_CFLAGS)
tests_test_dedupe_LDADD = $(UNIT_LDADD)
tests_test_gz_CFLAGS = $(UNIT_CFLAGS)
tests_test_gz_LDADD = $(UNIT_LDADD)
tests_test_http_CFLAGS = $(UNIT_CFLAGS)
tests_test_http_LDADD = $(UNIT_LDADD)
tests_test_identity_CFLAGS = $(UNIT_CFLAGS)
tests_test_identity_LDADD = $(UNIT_LDADD)
tests_test_log_CFLAGS = $(UNIT_CFLAGS)
tests_test_log_LDADD = $(UNIT_LDADD)
tests_test_manifest_CFLAGS = $(UNIT_CFLAGS)
tests_test_manifest_LDADD = $(UNIT_LDADD)
tests_test_minisign_CFLAGS = $(UNIT_CFLAGS)
tests_test_minisign_LDADD = $(UNIT_LDADD)
tests_test_parse_CFLAGS = $(UNIT_CFLAGS)
tests_test_parse_LDADD = $(UNIT_LDADD)
tests_test_regfile_CFLAGS = $(UNIT_CFLAGS)
tests_test_regfile_LDADD = $(UNIT_LDADD)
tests_test_rowscan_CFLAGS = $(UNIT_CFLAGS)
tests_test_rowscan_LDADD = $(UNIT_LDADD)
tests_test_result_CFLAGS = $(UNIT_CFLAGS)
tests_test_result_LDADD = $(UNIT_LDADD)
tests_test_store_CFLAGS = $(UNIT_CFLAGS)
tests_test_store_LDADD = $(UNIT_LDADD)
tests_test_trust_CFLAGS = $(UNIT_CFLAGS)
tests_test_trust_LDADD = $(UNIT_LDADD)
tests_test_verify_CFLAGS = $(UNIT_CFLAGS)
tests_test_verify_LDADD = $(UNIT_LDADD)
tests_test_lock_CFLAGS = $(UNIT_CFLAGS)
tests_test_lock_LDADD = $(UNIT_LDADD)
tests_test_shard_CFLAGS = $(UNIT_CFLAGS)
tests_test_shard_LDADD = $(UNIT_LDADD)
tests_test_member_CFLAGS = $(UNIT_CFLAGS) $(ZLIB_CFLAGS)
tests_test_member_LDADD = $(UNIT_LDADD)
tests_test_options_CFLAGS = $(UNIT_CFLAGS)
tests_test_options_LDADD = $(UNIT_LDADD)
tests_test_pack_CFLAGS = $(UNIT_CFLAGS)
tests_test_pack_LDADD = $(UNIT_LDADD)
tests_test_run_CFLAGS = $(UNIT_CFLAGS) $(ZLIB_CFLAGS)
tests_test_run_LDADD = $(UNIT_LDADD)
tests_test_source_CFLAGS = $(UNIT_CFLAGS)
tests_test_source_LDADD = $(UNIT_LDADD)

# The slowest first, so that a parallel make check does not end waiting
# for one of them started last.
E2E_TESTS = \
	tests/e2e/poison.sh \
	tests/e2e/tamper.sh \
	tests/e2e/workspace.sh \
	tests/e2e/entra.sh \
	tests/e2e/units.sh \
	tests/e2e/query_trust.sh \
	tests/e2e/run_faults.sh \
	tests/e2e/store_large.sh \
	tests/e2e/run_concurrency.sh \
	tests/e2e/alert_rules.sh \
	tests/e2e/azurite_smoke.sh \
	tests/e2e/cat_rows.sh \
	tests/e2e/cli.sh \
	tests/e2e/config.sh \
	tests/e2e/completion.sh \
	tests/e2e/credentials.sh \
	tests/e2e/hardening.sh \
	tests/e2e/help.sh \
	tests/e2e/self_contained.sh \
	tests/e2e/identity.sh \
	tests/e2e/json.sh \
	tests/e2e/memory.sh \
	tests/e2e/no_archive.sh \
	tests/e2e/query_cat.sh \
	tests/e2e/rollback.sh \
	tests/e2e/rpo.sh \
	tests/e2e/run_azurite.sh \
	tests/e2e/run_local.sh \
	tests/e2e/store_azure.sh \
	tests/e2e/tables.sh \
	tests/e2e/faultproxy.sh \
	tests/e2e/filters.sh \
	tests/e2e/full_disk.sh \
	tests/e2e/gc.sh \
	tests/e2e/generator.sh \
	tests/e2e/global_options.sh \
	tests/e2e/source_changes.sh \
	tests/e2e/shards.sh \
	tests/e2e/status.sh \
	tests/e2e/verify.sh
TESTS += $(E2E_TESTS)
EXTRA_DIST += $(E2E_TESTS) tests/e2e/lib.sh tests/tools/blobtool.mjs tests/tools/azurite-preload.cjs \
	tests/tools/tokenstub.mjs

# Attack tests: each reproduces a finding of an independent attack on the
# archive (ARCHITECTURE.md §9.4) and asserts the behaviour of its fix.
E2E_TESTS += \
	tests/e2e/proof_oracle.sh \
	tests/e2e/proof_fencing.sh \
	tests/e2e/proof_gc.sh \
	tests/e2e/proof_rollback.sh
EXTRA_DIST += tests/e2e/proof_lib.sh
EXTRA_DIST += tests/tools/faultproxy.mjs tests/fuzz/fuzz_blobxml.c
EXTRA_DIST += tests/e2e/archive_lib.sh
EXTRA_DIST += tests/data/aiarchive.rules.test.yml
# tamper.sh's outcome table (ARCHITECTURE.md §9.5): TSV and Markdown.
CLEANFILES += tests/e2e/tamper.tsv tests/e2e/tamper.md

# Long tests: the kill-point loops, minutes each on a busy machine, so
# `make check` leaves them out and `make check-long` runs them (CI does both).
LONG_TESTS = \
	tests/e2e/kill_campaign.sh \
	tests/e2e/run_crash.sh \
	tests/e2e/run_segments.sh
EXTRA_DIST += $(LONG_TESTS)
CLEANFILES += $(LONG_TESTS:.sh=.log) $(LONG_TESTS:.sh=.trs)
check-long:
	@$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(LONG_TESTS)'
.PHONY: check-long
# The Debian package: built from a copy of the tree, checked with lintian
# and unpacked into a throw-away root (minutes: not in make check).
PACKAGE_TESTS = tests/e2e/package.sh
EXTRA_DIST += $(PACKAGE_TESTS)
check-package:
	@$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(PACKAGE_TESTS)'
.PHONY: check-package

# `make distcheck-quick`: make distcheck, the tarball checked with the unit
# tests and the scripts that use its own etc/, doc/ and tests/tools/ and
# the node_modules it is given, self_contained.sh on the tarball's own
# tree, and memory.sh, whose RSS limits only a
# plain build can check; for CI, which has run the rest on the tree.
DISTCHECK_TESTS = $(UNIT_TESTS_RUN) tests/e2e/cli.sh tests/e2e/azurite_smoke.sh \
	tests/e2e/self_contained.sh tests/e2e/memory.sh
distcheck-quick:
	@$(MAKE) $(AM_MAKEFLAGS) distcheck TESTS='$(DISTCHECK_TESTS)'
.PHONY: distcheck-quick

# Stress tests: long and heavy, so not part of `make check`; `make stress`
# runs them (each speaks TAP).
STRESS_TESTS = tests/stress/big_blob.sh
EXTRA_DIST += $(STRESS_TESTS)
stress: all
	@fail=0; for t in $(STRESS_TESTS); do \
		echo "# $$t"; \
		top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		AIARCHIVE='$(abs_top_builddir)/src/aiarchive' \
		$(SHELL) '$(abs_top_srcdir)/'$$t || fail=1; \
	done; exit $$fail
.PHONY: stress
