#!/usr/bin/env bash
# run_faults.sh: `aiarchive run` through tests/tools/faultproxy.mjs in front
# of Azurite: a busy destination (503 + Retry-After) is waited out; a
# destination that refuses packs ends the run with an error and records
# nothing that was not stored, and the next run completes the job; source
# connections reset mid-body are retried; a source primary that answers
# only 503 is read from its RA-GRS secondary; blobs that keep failing
# under -q are warned about and summed up in the closing line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
archive_tools_needed
command -v curl >/dev/null 2>&1 || skip_all "curl not installed"
require_azurite
azurite_start SRC DST || bail_out "azurite did not start"

# rules BASE JSON: replaces the proxy's rules ('[]' clears them).
rules() {
	faultproxy_rules "$@"
}
stats() {
	curl -sf "$1/__stats"
}

SRC="http://127.0.0.1:$SRC_PORT"
faultproxy_start PD "$DST_PORT" || bail_out "faultproxy did not start"
faultproxy_start PS "$SRC_PORT" || bail_out "faultproxy did not start"

key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY"
ce="$TEST_TMP/ce"
# An hour that closed a little while ago keeps the runs' listing windows short.
"$AIGEN" --out "$ce" --layout continuous --apps 2 --hours 1 --seed 33 \
	--from "$(date -u -d '-2 hours' +%Y-%m-%dT%H)" >/dev/null || bail_out "aigen failed"
blobtool_at SRC upload-tree "$ce" >/dev/null || bail_out "upload failed"
nblobs=$(find "$ce/appinsights-export" -type f | wc -l)
find "$ce/appinsights-export" -type f -print0 | sort -z | xargs -0 awk 1 | sort >"$TEST_TMP/source.lines"
app1dir=$(ls "$ce/appinsights-export" | head -1)
app1=${app1dir%_*} # the archive names an app without its instrumentation key
napp1=$(find "$ce/appinsights-export/$app1dir" -type f | wc -l)
for c in busy lost expiring refuse resets stalls loud secondary secondary2; do
	ai_init "$DST_URL/$c" "$key" || bail_out "init of $c failed"
done

# run SOURCE-BASE CONTAINER [OPTIONS]: the whole export from SOURCE-BASE
# (Azurite or a proxy in front of it) into CONTAINER behind the dest proxy.
run() {
	local s=$1 c=$2; shift 2
	"$AIARCHIVE" --json run --source "$s/$AZURITE_ACCOUNT/appinsights-export" \
		--dest "$PD/$AZURITE_ACCOUNT/$c" --key "$key" --jobs 4 "$@"
}

# download CONTAINER: DIR with the container's blobs and DIR.dump with its
# segments decoded; prints DIR.
download() {
	local d="$TEST_TMP/dl-$1"
	rm -rf "$d"
	blobtool_at DST download-tree "$1" "$d" >/dev/null || return 1
	archive_dump "$d" "$d.dump" || return 1
	echo "$d"
}

# archived_once CONTAINER: every source line is in a referenced pack
# exactly once, and the chain verifies.
archived_once() {
	local d
	d=$(download "$1") || { echo "download failed"; return 1; }
	chain_ok "$d" "$key.pub" || return 1
	dump_tiling "$d.dump" || return 1
	referenced_exist "$d" "$d.dump" || return 1
	referenced_lines "$d" "$d.dump" | diff - "$TEST_TMP/source.lines" | head -20 |
		awk '{ print } END { exit NR > 0 }'
}

# recorded_is_stored CONTAINER: every pack a segment references is there,
# whole and signed, and the chain verifies.
recorded_is_stored() {
	local d p
	d=$(download "$1") || { echo "download failed"; return 1; }
	chain_ok "$d" "$key.pub" || return 1
	dump_tiling "$d.dump" || return 1
	referenced_exist "$d" "$d.dump" || return 1
	for p in $(awk -F'\t' '$1 == "pack" { print $3 }' "$d.dump"); do
		minisign -Vq -p "$key.pub" -m "$d/$p" || { echo "pack $p: not signed"; return 1; }
	done
}

# ---- a busy destination: 503 with Retry-After on the next 6 pack writes

rules "$PD" '{"action":"status","status":503,"retryAfter":2,"count":6,"method":"PUT","path":"/busy/data/"}'
t0=$SECONDS
check_exit 0 "a run against a destination busy for 6 pack writes succeeds" -- \
	run "$SRC" busy --max-tries 8
took=$((SECONDS - t0))
sum=$LAST_OUTPUT
check "it archived every blob" -- jq -e --argjson n "$nblobs" '.blobs == $n and .failed == 0' <<<"$sum"
check_eq "the proxy answered 6 writes with 503" 6 "$(stats "$PD" | jq .byAction.status)"
check "the run retried them (retries >= 6)" -- jq -e '.retries >= 6' <<<"$sum"
check "it waited as Retry-After asked (>= 2 s; took $took s)" -- jq -e '.duration_s >= 2' <<<"$sum"
check "every line archived exactly once" -- archived_once busy

# ---- writes that land but whose answers are lost: the lock's acquire, the
# state's creation (create-only, before segment 0), segment 0's
# (create-only) and the state's replace at the end (If-Match). Each is sent
# again (by the HTTP library on a reused connection, or by the run's retry)
# and finds the lock leased or the object there or changed; the lease has
# the id the run proposed and the object exactly what the run wrote, so
# they are the run's own.

curl -sf -X DELETE "$PD/__stats" >/dev/null
state_re='/lost/manifest/state($|\\?)'
rules "$PD" "[{\"action\":\"lose\",\"count\":1,\"method\":\"PUT\",\"path\":\"/lost/locks/run[?]comp=lease\"},
	{\"action\":\"lose\",\"count\":1,\"method\":\"PUT\",\"path\":\"$state_re\"},
	{\"action\":\"lose\",\"count\":1,\"skip\":1,\"method\":\"PUT\",\"path\":\"$state_re\"},
	{\"action\":\"lose\",\"count\":1,\"method\":\"PUT\",\"path\":\"/lost/manifest/segments/0+[.]seg($|\\\\?)\"}]"
check_exit 0 "a run whose lock acquire, state creation, segment creation and state replace lose their answers succeeds" -- \
	run "$SRC" lost
sum=$LAST_OUTPUT
st=$(stats "$PD")
check_eq "the proxy lost 4 answers" 4 "$(jq .byAction.lose <<<"$st")"
check_eq "  each write was sent again: 2 PUTs of segment 0, 4 of the state" "2 4" \
	"$(jq -r '[.recent[] | select(.method == "PUT")] |
		"\([.[] | select(.url | test("/lost/manifest/segments/0+[.]seg$"))] | length) \([.[] | select(.url | test("/lost/manifest/state$"))] | length)"' <<<"$st")"
check "it archived every blob in one segment" -- \
	jq -e --argjson n "$nblobs" '.blobs == $n and .failed == 0 and .segments.count == 1' <<<"$sum"
check "every line archived exactly once" -- archived_once lost
rules "$PD" '[]'
check_exit 0 "  and the next run finds nothing to do" -- run "$SRC" lost
check "  archiving nothing" -- jq -e '.blobs == 0 and .failed == 0' <<<"$LAST_OUTPUT"
check_exit 0 "  and verify --data is ok" -- "$AIARCHIVE" verify --dest "$PD/$AZURITE_ACCOUNT/lost" \
	--pubkey "$key.pub" --data

# ---- a SAS that expires while the run goes on (its first pack write held
# up past the expiry): the writes after it are refused (403) and so is the
# renewal of the lock, which the run can then no longer count on: it commits
# nothing and exits 3 (authentication), not 5 (another run holds the lock).

blobtool_at DST sas expiring racwdl +12s >"$TEST_TMP/expiring.sas" && chmod 600 "$TEST_TMP/expiring.sas"
rules "$PD" '{"action":"delay","seconds":14,"count":1,"method":"PUT","path":"/expiring/data/"}'
check_exit 3 "a run whose SAS expires half way exits 3" -- \
	env -u AIARCHIVE_DEST_KEY "$AIARCHIVE" --json run --source "$SRC/$AZURITE_ACCOUNT/appinsights-export" \
	--dest "$PD/$AZURITE_ACCOUNT/expiring" --dest-sas-file "$TEST_TMP/expiring.sas" --key "$key" \
	--jobs 1 --lock-duration 15s --max-tries 2 --retry-total 2s
out=$LAST_OUTPUT
check "  the lock is said to be unrenewable for the 403, not taken by another run" -- bash -c \
	'grep -q "lock .locks/run.: cannot be renewed, so it may no longer be ours (.*403" <<<"$1" &&
	! grep -qE "another run holds|no longer ours \(" <<<"$1"' _ "$out"
check "  no segment was committed" -- \
	bash -c '! blobtool_at DST list expiring --prefix manifest/segments/ | grep -q .'
rules "$PD" '[]'
check_exit 0 "with the account key the next run (--wait for the old lease) archives all" -- \
	run "$SRC" expiring --wait
check "every line archived exactly once" -- archived_once expiring

# ---- a destination that refuses every pack: an error, nothing recorded

rules "$PD" '{"action":"status","status":503,"count":-1,"method":"PUT","path":"/refuse/data/"}'
check_exit 6 "a run whose packs are all refused exits 6" -- \
	run "$SRC" refuse --max-tries 2 --retry-total 2s
check "it says why in a few lines" -- test "$(printf '%s\n' "$LAST_OUTPUT" | wc -l)" -le "$((nblobs + 2))"
check "no segment was committed" -- \
	bash -c '! blobtool_at DST list refuse --prefix manifest/segments/ | grep -q .'
# Packs of the first app are written but their signatures refused: such a
# pack is not recorded either.
rules "$PD" "{\"action\":\"status\",\"status\":503,\"count\":-1,\"method\":\"PUT\",\"path\":\"/refuse/data/$app1/.*\\\\.minisig\"}"
check_exit 1 "a run whose first app's pack signatures are refused exits 1 (partial)" -- \
	run "$SRC" refuse --max-tries 2 --retry-total 2s
check "it archived the other app" -- \
	jq -e --argjson n "$((nblobs - napp1))" '.blobs == $n and .failed > 0' \
	<<<"$(grep '^{"run_id"' <<<"$LAST_OUTPUT")"
check "  and the error object after it (exit 1, partial)" -- \
	jq -e '.error.exit == 1 and .error.code == "partial"' <<<"$(grep '^{"error"' <<<"$LAST_OUTPUT")"
check "every pack a segment references is stored and signed" -- recorded_is_stored refuse
check "no member of the first app is recorded" -- \
	bash -c '! grep -q "^member	[0-9]*	data/$1/" "$2"' _ "$app1" "$TEST_TMP/dl-refuse.dump"
rules "$PD" '[]'
check_exit 0 "with the destination healthy again the next run succeeds" -- run "$SRC" refuse
check "it archives what was left" -- jq -e --argjson n "$napp1" '.blobs == $n and .failed == 0' <<<"$LAST_OUTPUT"
check "every line archived exactly once" -- archived_once refuse

# ---- source connections reset in the middle of a body

rules "$PD" '[]'
rules "$PS" '{"action":"reset","bytes":1000,"count":5,"method":"GET","path":"\\.blob"}'
check_exit 0 "a run whose source resets 5 transfers mid-body succeeds" -- run "$PS" resets
sum=$LAST_OUTPUT
check_eq "the proxy reset 5 transfers" 5 "$(stats "$PS" | jq .byAction.reset)"
check "the run retried them" -- jq -e '.retries >= 5 and .failed == 0' <<<"$sum"
check "it archived every blob" -- jq -e --argjson n "$nblobs" '.blobs == $n' <<<"$sum"
check "every line archived exactly once" -- archived_once resets

# ---- source reads answered 500, and transfers that stall mid-body
rules "$PS" '[{"action":"status","status":500,"count":3,"method":"GET","path":"\\.blob"},{"action":"stall","bytes":500,"count":2,"method":"GET","path":"\\.blob"}]'
check_exit 0 "a run whose source answers 500 three times and stalls twice succeeds" -- \
	run "$PS" stalls --stall-timeout 2s
sum=$LAST_OUTPUT
check_eq "the proxy served 3 errors and 2 stalls" "3 2" \
	"$(stats "$PS" | jq -r '"\(.byAction.status) \(.byAction.stall)"')"
check "the run retried them" -- jq -e '.retries >= 5 and .failed == 0' <<<"$sum"
check "every line archived exactly once" -- archived_once stalls

# ---- two blobs the source keeps answering 500 for, under -q (as cron and
# the systemd unit run it): the warnings stay, and the last line on stderr
# says what failed and what the next run does
mapfile -t bad < <(cd "$ce" && find appinsights-export -type f -name '*.blob' | sort | head -2)
badre=$(printf '%s\n' "${bad[@]##*/}" | sed 's/[.]/[.]/g' | paste -sd'|')
rules "$PS" "{\"action\":\"status\",\"status\":500,\"count\":-1,\"method\":\"GET\",\"path\":\"($badre)\"}"
loud_rc=0
"$AIARCHIVE" -q run --source "$PS/$AZURITE_ACCOUNT/appinsights-export" \
	--dest "$PD/$AZURITE_ACCOUNT/loud" --key "$key" --jobs 4 --max-tries 2 --retry-total 2s \
	>"$TEST_TMP/loud.out" 2>"$TEST_TMP/loud.err" || loud_rc=$?
check_eq "-q: a run with two blobs failing (HTTP 500) exits 1" 1 "$loud_rc"
check_eq "  and prints nothing on stdout" "" "$(cat "$TEST_TMP/loud.out")"
check "  warns about each failed blob, naming it and the 500" -- bash -c \
	'for b in "${@:2}"; do grep -q "^aiarchive: warning: .*500.*${b##*/}.*left for the next run" "$1" || exit 1; done' \
	_ "$TEST_TMP/loud.err" "${bad[@]}"
check "  and ends with the closing line: how many failed, why, what the next run does" -- \
	bash -c 'tail -n 1 "$1" | grep -qE "^aiarchive: run: 2 of $2 blobs failed \(.*500.*\); nothing was recorded for them, the next run retries them; exit 1$"' \
	_ "$TEST_TMP/loud.err" "$nblobs"
diag "$(tail -n 1 "$TEST_TMP/loud.err")"
rules "$PS" '[]'
check_exit 0 "the next run archives the two" -- run "$PS" loud
check "  and the archive holds every line exactly once" -- archived_once loud

# ---- a source primary that answers 503 to every read: the secondary serves

rules "$PS" '{"action":"status","status":503,"count":-1,"method":["GET","HEAD"]}'
nreq=$(find "$ce/appinsights-export" -type f -path '*/Requests/*' | wc -l)
check_exit 0 "a run reading through a failing primary succeeds" -- \
	run "$PS" secondary --source-secondary "$SRC_SECONDARY_URL" --type Requests
sum=$LAST_OUTPUT
check "it archived every Requests blob" -- jq -e --argjson n "$nreq" '.blobs == $n and .failed == 0' <<<"$sum"
st=$(stats "$PS")
check "the primary forwarded nothing: every read was answered by the secondary" -- \
	jq -e '.forwarded == 0 and .byAction.status > 0' <<<"$st"
check "each source read was retried on the secondary" -- \
	jq -e --argjson n "$nreq" '.retries >= $n and .requests.source.get >= 2 * $n' <<<"$sum"
check_exit 6 "without the secondary the same run fails with 6" -- \
	run "$PS" secondary2 --type Requests --max-tries 2 --retry-total 2s
rules "$PS" '[]'
tap_done
