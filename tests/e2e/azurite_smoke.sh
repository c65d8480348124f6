#!/usr/bin/env bash
# azurite_smoke.sh: the end-to-end harness itself: two Azurite instances side
# by side, an export tree uploaded and read back with blobtool, SAS over plain
# curl, and no Azurite process left once they are stopped.
set -e
. "$(dirname "$0")/lib.sh"
require_azurite

tree=$TEST_TMP/tree

# make_tree DIR: a small export tree in the layout aigen writes, for builds
# that do not have aigen.
make_tree() {
	local ce="$1/appinsights-export" app guid i
	local diag="$1/insights-logs-apprequests/resourceId=/SUBSCRIPTIONS/5B3C1E2A-0D4F-4A6B-9C8D-7E6F5A4B3C2D/RESOURCEGROUPS/RG-SHOP-PROD/PROVIDERS/MICROSOFT.INSIGHTS/COMPONENTS/SHOP-WEB/y=2026/m=11/d=20/h=13/m=00"
	for app in shop-web_0f1e2d3c4b5a69788796a5b4c3d2e1f0 billing-api_00112233445566778899aabbccddeeff; do
		mkdir -p "$ce/$app/Requests/2026-11-20/13"
		for guid in 3f2504e0-4f89-41d3-9a0c-0305e82c3301 9b2d6a4e-1c3b-4e5f-8a7d-6c5b4a392817; do
			for i in 1 2 3; do
				printf '{"request":[{"id":"%s-%d","name":"GET /","responseCode":"200"}],"context":{"data":{"eventTime":"2026-11-20T13:15:0%dZ"}}}\n' \
					"$guid" "$i" "$i"
			done >"$ce/$app/Requests/2026-11-20/13/${guid}_20261120_131500.blob"
		done
	done
	: >"$ce/shop-web_0f1e2d3c4b5a69788796a5b4c3d2e1f0/Requests/2026-11-20/13/00000000-0000-4000-8000-000000000000_20261120_132000.blob"
	mkdir -p "$diag"
	for i in 1 2 3 4 5 6 7; do
		printf '{ "time": "2026-11-20T13:0%d:00.0000000Z", "Type": "AppRequests", "Name": "GET /item/%d", "Success": true }\n' "$i" "$i"
	done >"$diag/PT1H.json"
	mkdir -p "$1/.aigen"
	echo '{}' >"$1/.aigen/state.json"
}

if [ -x "$top_builddir/tools/aigen" ]; then
	"$top_builddir/tools/aigen" --out "$tree" --layout both --apps 2 --hours 2 --seed 7 >/dev/null
	diag "tree from aigen"
else
	make_tree "$tree"
	diag "tree built by hand"
fi

# expected_listing: "container/blob<TAB>size<TAB>type" for every file of the
# tree outside dot-directories, sorted.
expected_listing() {
	(cd "$tree" && find . -mindepth 1 -path './.*' -prune -o -type f -printf '%P\t%s\n') |
		awk -F'\t' '{ n = split($1, p, "/"); print $1 "\t" $2 "\t" (p[n] == "PT1H.json" ? "AppendBlob" : "BlockBlob") }' |
		LC_ALL=C sort
}

# listing NAME: the same from instance NAME, read with blobtool.
listing() {
	blobtool_at "$1" list --all | cut -f1-3 | LC_ALL=C sort
}

# http_get URL OUT: prints the status code; the body goes to OUT.
http_get() {
	curl -sS -o "$2" -w '%{http_code}' "$1" || true
}

# not_running PID: no live process has PID (a zombie not yet reaped is dead).
not_running() {
	! ps -o stat= -p "$1" | grep -q '^[^Z]'
}

azurite_start SRC DST

check "SRC and DST got ports" -- test "${SRC_PORT:-0}" -gt 0 -a "${DST_PORT:-0}" -gt 0
check "SRC and DST got different ports" -- test "$SRC_PORT" != "$DST_PORT"
check "SRC and DST are different processes" -- test "$SRC_PID" != "$DST_PID"
check_eq "SRC_URL is the path-style endpoint" "http://127.0.0.1:$SRC_PORT/devstoreaccount1" "$SRC_URL"

nfiles=$(expected_listing | wc -l)
check_exit 0 "upload-tree puts the tree into SRC" -- blobtool_at SRC upload-tree "$tree" --append-steps 3
check_eq "upload-tree reports one line per file" "$nfiles" "$(printf '%s\n' "$LAST_OUTPUT" | grep -c '^{')"
check_eq "every top-level directory but dot-directories is a container" \
	"$(cd "$tree" && ls -d -- [!.]*/ | tr -d / | LC_ALL=C sort)" "$(blobtool_at SRC list-containers | LC_ALL=C sort)"
want=$(expected_listing)
got=$(listing SRC)
check_eq "SRC holds every file with its size and blob type" "$want" "$got"
[ "$want" = "$got" ] || diff <(echo "$want") <(echo "$got") | head -20 | sed 's/^/# /'

# A PT1H.json uploaded in three appends, cut at line ends.
pt1h=$(cd "$tree" && find . -mindepth 2 -path './.*' -prune -o -name PT1H.json -type f -printf '%P\n' | LC_ALL=C sort | head -1)
pt1h_container=${pt1h%%/*} pt1h_blob=${pt1h#*/}
if [ "$(wc -l <"$tree/$pt1h")" -ge 3 ]; then
	blocks=$(blobtool_at SRC props "$pt1h_container" "$pt1h_blob" | jq -r .blobCommittedBlockCount)
	check_eq "PT1H.json was written in 3 appends" 3 "$blocks"
fi
blobtool_at SRC get "$pt1h_container" "$pt1h_blob" >"$TEST_TMP/pt1h.got"
check "append blob reads back byte for byte" -- cmp "$tree/$pt1h" "$TEST_TMP/pt1h.got"

block=$(cd "$tree" && find . -mindepth 2 -path './.*' -prune -o -type f ! -name PT1H.json -size +20c -printf '%P\n' | LC_ALL=C sort | head -1)
block_container=${block%%/*} block_blob=${block#*/}
blobtool_at SRC get "$block_container" "$block_blob" --range 10-19 >"$TEST_TMP/range.got"
check "a range read returns bytes 10 to 19" -- cmp <(tail -c +11 "$tree/$block" | head -c 10) "$TEST_TMP/range.got"
check_exit 0 "download-tree mirrors a container" -- \
	blobtool_at SRC download-tree "$block_container" "$TEST_TMP/down/$block_container"
check "downloaded tree equals the uploaded one, byte for byte" -- diff -r "$tree/$block_container" "$TEST_TMP/down/$block_container"

check_eq "DST is independent of SRC and empty" "" "$(blobtool_at DST list-containers)"

# SAS tokens made by the SDK, used by plain curl.
blob_path="$block_container/$block_blob"
sas=$(sas_for SRC "$block_container" r +1h)
check_eq "a container SAS lets curl GET the blob" 200 "$(http_get "$SRC_URL/$blob_path?$sas" "$TEST_TMP/sas.got")"
check "the SAS GET returns the blob's bytes" -- cmp "$tree/$block" "$TEST_TMP/sas.got"
check_eq "the secondary endpoint serves the same blob" 200 \
	"$(http_get "$SRC_SECONDARY_URL/$blob_path?$sas" "$TEST_TMP/sas2.got")"
expired=$(sas_for SRC "$block_container" r -1h)
check_eq "an expired SAS gets 403" 403 "$(http_get "$SRC_URL/$blob_path?$expired" /dev/null)"
check_eq "no SAS gets 403" 403 "$(http_get "$SRC_URL/$blob_path" /dev/null)"
acct=$(sas_for SRC - rl +1h --account)
check_eq "an account SAS lists the container" 200 \
	"$(http_get "$SRC_URL/$block_container?restype=container&comp=list&$acct" /dev/null)"

# Stopping: the service goes away and takes every process with it.
src_pid=$SRC_PID dst_pid=$DST_PID
azurite_stop SRC
check_exit 1 "blobtool fails once SRC is stopped" -- blobtool_at SRC list-containers
check "a failed blobtool call says why in one line" -- \
	test "$(printf '%s\n' "$LAST_OUTPUT" | wc -l)" -eq 1 -a -n "$(grep '^blobtool: list-containers: ' <<<"$LAST_OUTPUT")"
check_eq "DST still answers after SRC stopped" "" "$(blobtool_at DST list-containers)"
azurite_stop DST
check "SRC's process is gone" -- not_running "$src_pid"
check "DST's process is gone" -- not_running "$dst_pid"
check_eq "no process of either group remains" "" \
	"$(ps -e -o pgid=,stat= | awk -v a="$src_pid" -v b="$dst_pid" '($1 == a || $1 == b) && $2 !~ /^Z/')"
check_eq "pgrep -f azurite finds neither instance" "" \
	"$(pgrep -f azurite | grep -xE "$src_pid|$dst_pid" || true)"
check_eq "no Azurite process started here remains" "" "$(azurite_leftovers)"
check_eq "SRC's port refuses connections" 000 "$(http_get "http://127.0.0.1:$SRC_PORT/" /dev/null 2>/dev/null)"

tap_done
