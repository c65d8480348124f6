#!/usr/bin/env bash
# store_azure.sh: the one behavioural storage suite (tests/test_store), run
# against a real Azurite with Shared Key, with a SAS, and through a
# connection string; plus interop with @azure/storage-blob both ways.
. "$(dirname "$0")/lib.sh"
suite="$top_builddir/tests/test_store"
[ -x "$suite" ] || skip_all "tests/test_store not built"
require_azurite
azurite_start A || bail_out "azurite did not start"

suite_at() { # URL [env assignments...]
	local url=$1; shift
	env AIARCHIVE_TEST_STORE_URL="$url" "$@" "$suite" --jobs=2 >"$TEST_TMP/suite.out" 2>&1 ||
		{ tail -30 "$TEST_TMP/suite.out"; return 1; }
}
check "store suite with Shared Key" -- suite_at "$A_URL/sk-suite" \
	AIARCHIVE_TEST_STORE_KEY="$AZURITE_KEY" AIARCHIVE_TEST_STORE_SECONDARY_URL="$A_SECONDARY_URL/sk-suite"
check "container for the SAS run" -- blobtool_at A mkcontainer sas-suite
sas=$(sas_for A sas-suite racwdl +2h)
check "store suite with a container SAS" -- suite_at "$A_URL/sas-suite" AIARCHIVE_TEST_STORE_SAS="$sas"
check "store suite through a connection string" -- suite_at "$A_URL/cs-suite" \
	AIARCHIVE_TEST_STORE_CONNECTION_STRING="$A_CONN"
tap_done
