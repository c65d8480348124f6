#!/usr/bin/env bash
# store_large.sh: the Azure client at sizes that matter: listing pages
# through more than 5,000 blobs, and a block upload larger than 256 MiB
# that never sits in memory whole, read back by @azure/storage-blob.
. "$(dirname "$0")/lib.sh"
bench="$top_builddir/tools/storebench"
[ -x "$bench" ] || skip_all "tools/storebench not built"
require_azurite
azurite_start A || bail_out "azurite did not start"


tree="$TEST_TMP/tree/many/p"
mkdir -p "$tree"
for i in $(seq 1 5100); do printf '%d\n' "$i" >"$tree/b$i"; done
check "5,100 blobs uploaded with the SDK" -- blobtool_at A upload-tree "$TEST_TMP/tree"
check_exit 0 "our client lists and reads them all, page after page" -- \
	env STOREBENCH_KEY="$AZURITE_KEY" "$bench" --url "$A_URL/many" get --prefix p/ --threads 8
check "all 5,100 came back" -- jq -e '.count == 5100' <<<"$LAST_OUTPUT"

big="$TEST_TMP/big.bin"
head -c $((300 * 1024 * 1024)) /dev/urandom >"$big"
check "container for the upload" -- blobtool_at A mkcontainer large
check_exit 0 "a 300 MiB block upload" -- env STOREBENCH_KEY="$AZURITE_KEY" \
	/usr/bin/time -f 'maxrss_kb=%M' "$bench" --url "$A_URL/large" put --file "$big" --name big.bin \
	--block-size 8M --threads 4
rss=$(grep -o 'maxrss_kb=[0-9]*' <<<"$LAST_OUTPUT" | cut -d= -f2)
check "memory stays far below the blob size (${rss:-?} KiB)" -- test "${rss:-999999999}" -lt 153600
check "the SDK reads back the same bytes" -- \
	cmp <(blobtool_at A get large big.bin) "$big"
tap_done
