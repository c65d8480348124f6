#!/usr/bin/env bash
# status.sh: `aiarchive status` and `aiarchive verify` on an Azurite
# archive of diagnostic-settings append blobs: lag against a fixed clock,
# the last run, the lock, the SKU, geo-replication "live" with a last sync
# time from the -secondary endpoint, JSON checked with jq, a Prometheus
# textfile checked with promtool; verify --data over HTTP range reads, and
# verify --source finding appended lines that no run has archived yet.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"
require_azurite
azurite_start SRC DST || bail_out "azurite did not start"

key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY"
dest="$DST_URL/archive"

# PT1H.json append blobs of one hour: the first part of each, cut in the
# middle of a line, goes up now; the rest is appended later.
ds="$TEST_TMP/ds" ds1="$TEST_TMP/ds1" rest="$TEST_TMP/rest"
"$AIGEN" --out "$ds" --layout diagnostic --apps 1 --hours 1 --from 2026-11-20T10 --seed 9 \
	--types AppRequests,AppTraces >/dev/null || bail_out "aigen failed"
for f in $(cd "$ds" && find . -path ./.aigen -prune -o -type f -print); do
	size=$(stat -c %s "$ds/$f")
	mkdir -p "$ds1/$(dirname "$f")" "$rest/$(dirname "$f")"
	head -c $((size * 3 / 5 + 7)) "$ds/$f" >"$ds1/$f"
	tail -c +$((size * 3 / 5 + 8)) "$ds/$f" >"$rest/$f"
done
blobtool_at SRC upload-tree "$ds1" >/dev/null || bail_out "upload failed"

run_at() { # NOW
	AIARCHIVE_NOW=$1 "$AIARCHIVE" -q run --source "$SRC_URL" --dest "$dest" --key "$key" \
		--layout diagnostic
}
status() {
	"$AIARCHIVE" status --dest "$dest" "$@"
}
verify_src() {
	"$AIARCHIVE" verify --dest "$dest" --source "$SRC_URL" --layout diagnostic \
		--from 2026-11-20T10 --to 2026-11-20T11 "$@"
}

check "init makes the archive" -- ai_init "$dest" "$key"
check_exit 0 "a run while the hour is open" -- run_at 2026-11-20T10:40:00Z

# ---- status ----
now=2026-11-20T12:30:00Z
check_exit 0 "status" -- env AIARCHIVE_NOW=$now "$AIARCHIVE" status --dest "$dest" \
	--dest-secondary "$DST_SECONDARY_URL/archive"
text=$LAST_OUTPUT
diag "$text"
check "it shows the SKU" -- grep -q '^archive: .*(SKU Standard_RAGRS)' <<<"$text"
check "it shows geo-replication live with a last sync time" -- \
	grep -Eq '^geo: +live, last sync [0-9]{4}-[0-9]{2}-[0-9]{2}T' <<<"$text"
check "it shows the last run, its result and exit code" -- \
	grep -Eq '^last run: +[0-9]{8}T[0-9]{6}Z-[0-9a-f]+ at .*: ok \(exit 0\)$' <<<"$text"
check "it shows the lock free" -- grep -Eq '^lock: +free$' <<<"$text"
# The run saw hour 10 open: it is not archived through, whatever it read.
check "it shows one line per app and type with the lag" -- \
	bash -c 'test "$(grep -Ec "^[a-z0-9-]+ +app(requests|traces) +2026-11-20T10:00:00Z +[0-9]+h[0-9]{2}m " <<<"$0")" -eq 2' "$text"

check_exit 0 "status --json" -- env AIARCHIVE_NOW=$now "$AIARCHIVE" --json status \
	--dest "$dest" --dest-secondary "$DST_SECONDARY_URL/archive"
json=$LAST_OUTPUT
check "the JSON parses and has two partitions" -- jq -e '.partitions | length == 2' <<<"$json"
check "lag is now minus archived through" -- jq -e --arg now "$now" '
	.partitions | all(.lag_s == (($now | fromdateiso8601) -
	                             (.archived_through | fromdateiso8601)))' <<<"$json"
check "members and rows are counted" -- jq -e '.partitions | all(.members > 0 and .rows > 0)' <<<"$json"
check "the last run is ok" -- jq -e '.last_run.result == "ok" and (.last_run.id | length > 0)' <<<"$json"
check "geo is live with a last sync time" -- \
	jq -e '.geo.status == "live" and (.geo.last_sync | fromdateiso8601) > 0' <<<"$json"
check "the lock is free" -- jq -e '.lock.held == false' <<<"$json"
check "the SKU" -- jq -e '.sku == "Standard_RAGRS"' <<<"$json"
check_exit 0 "status --json without a secondary" -- "$AIARCHIVE" --json status --dest "$dest"
check "has no geo section" -- jq -e '.geo == null' <<<"$LAST_OUTPUT"

prom="$TEST_TMP/textfile/aiarchive.prom"
mkdir -p "$(dirname "$prom")"
check_exit 0 "status --prom" -- env AIARCHIVE_NOW=$now "$AIARCHIVE" -q status --dest "$dest" \
	--dest-secondary "$DST_SECONDARY_URL/archive" --prom "$prom"
check "the file is there and its temporary file is gone" -- \
	bash -c "test -s '$prom' && ! test -e '$prom.tmp'"
if command -v promtool >/dev/null 2>&1; then
	check "promtool accepts the metrics" -- bash -c "promtool check metrics <'$prom'"
else
	diag "promtool not installed (scripts/setup installs it); checking the format by hand"
fi
# The text format by hand: every family has HELP and TYPE before its
# samples, every sample is NAME[{labels}] NUMBER.
check "every sample line is well-formed and follows its HELP and TYPE" -- awk '
	/^# HELP / { help[$3] = 1; next }
	/^# TYPE / { if (!help[$3]) exit 1; type[$3] = 1; next }
	/^#/ { exit 1 }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.eE]+$/) exit 1
		name = $1; sub(/\{.*/, "", name)
		if (!type[name]) exit 1
		n++
	}
	END { if (n < 8) exit 1 }' "$prom"
for m in 'aiarchive_archived_through_timestamp_seconds{app="' 'aiarchive_lag_seconds{app="' \
	'aiarchive_last_run_timestamp_seconds ' 'aiarchive_last_run_success 1' \
	'aiarchive_geo_last_sync_timestamp_seconds ' 'aiarchive_geo_replication_live 1' \
	'aiarchive_lock_held 0'; do
	check "metric $m" -- grep -qF "$m" "$prom"
done
lag_json=$(jq '.partitions[0].lag_s' <<<"$json")
check "the lag metric agrees with the JSON" -- \
	grep -Eq "^aiarchive_lag_seconds\{app=\"[^\"]+\",type=\"$(jq -r '.partitions[0].type' <<<"$json")\",layout=\"[a-z-]+\"\} $lag_json\$" "$prom"

check_exit 2 "status of a container that does not exist" -- "$AIARCHIVE" status --dest "$DST_URL/nosuch"
blobtool_at DST mkcontainer empty >/dev/null
check_exit 2 "status of an empty container (no archive)" -- "$AIARCHIVE" status --dest "$DST_URL/empty"
check "says so" -- grep -qF "no archive at $DST_URL/empty" <<<"$LAST_OUTPUT"
check "init makes it an archive" -- ai_init "$DST_URL/empty" "$key"
check_exit 0 "status of an archive with no run yet" -- "$AIARCHIVE" status --dest "$DST_URL/empty"
check "says so" -- grep -q '^last run: *none recorded' <<<"$LAST_OUTPUT"
check_exit 3 "status with a wrong key exits 3" -- \
	env AIARCHIVE_DEST_KEY="${AZURITE_KEY/E/F}" "$AIARCHIVE" status --dest "$dest"

# ---- verify on Azure ----
check_exit 0 "verify --data over HTTP" -- "$AIARCHIVE" verify --dest "$dest" --data
check_exit 0 "verify --source: the complete lines are archived, the cut one may wait" -- verify_src
for f in $(cd "$rest" && find . -type f); do
	c=${f#./} && blobtool_at SRC append "${c%%/*}" "${c#*/}" "$rest/$f" >/dev/null
done
check_exit 4 "verify --source after the blobs grew" -- verify_src
check "it names each grown blob and the byte range not archived" -- \
	bash -c 'test "$(grep -Ec "^source blob .*PT1H.json: bytes [0-9]+-[0-9]+ \([0-9]+ bytes\) not archived" <<<"$0")" -eq 2' "$LAST_OUTPUT"
check_exit 0 "a run after the hour is over" -- run_at 2026-11-20T12:00:00Z
check_exit 0 "verify --source --data passes again" -- verify_src --data

seg0="$TEST_TMP/seg0"
blobtool_at DST get archive manifest/segments/000000000000.seg >"$seg0"
printf 'X' | dd of="$seg0" bs=1 seek=20 conv=notrunc status=none
blobtool_at DST put archive manifest/segments/000000000000.seg "$seg0" >/dev/null
check_exit 4 "verify finds a segment edited in place" -- "$AIARCHIVE" verify --dest "$dest"
check "naming it" -- grep -q '^segment manifest/segments/000000000000.seg: ' <<<"$LAST_OUTPUT"
tap_done
