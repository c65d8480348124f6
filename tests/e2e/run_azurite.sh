#!/usr/bin/env bash
# run_azurite.sh: `aiarchive run` between two Azurite instances (source
# and destination "regions"), checked with independent tools: every pack
# downloaded with @azure/storage-blob, zcat, minisign.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"
require_azurite
azurite_start SRC DST || bail_out "azurite did not start"

key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY"

# ---- continuous export: 3 apps x all types x 6 hours
ce="$TEST_TMP/ce"
"$AIGEN" --out "$ce" --layout continuous --apps 3 --hours 6 --seed 5 \
	--faults crlf,blank,nofinalnl,malformed,empty >/dev/null || bail_out "aigen failed"
check "upload the export to the source account" -- blobtool_at SRC upload-tree "$ce"
run_ce() {
	"$AIARCHIVE" --json run --source "$SRC_URL/appinsights-export" --dest "$DST_URL/archive" \
		--key "$key" "$@"
}
check "init makes the archive" -- ai_init "$DST_URL/archive" "$key"
check_exit 0 "run archives the continuous export" -- run_ce
sum=$LAST_OUTPUT
nblobs=$(find "$ce/appinsights-export" -type f | wc -l)
check_eq "one member per source blob" "$nblobs" "$(jq .blobs <<<"$sum")"
check "the destination SKU is reported" -- jq -e '.sku == "Standard_RAGRS"' <<<"$sum"

dl="$TEST_TMP/dl"
check "download the archive with @azure/storage-blob" -- blobtool_at DST download-tree archive "$dl"
source_lines() { find "$ce/appinsights-export" -type f -print0 | sort -z | xargs -0 awk 1 | sort; }
archive_lines() { find "$dl/data" -name '*.jsonl.gz' -print0 | sort -z | xargs -0 zcat | sort; }
check "every source line is in the archive exactly once" -- diff <(source_lines) <(archive_lines)
pub=$(ls "$dl"/keys/*.pub)
verify_sigs() {
	local f n=0
	while IFS= read -r f; do
		minisign -Vq -p "$pub" -m "$f" || { echo "bad: $f"; return 1; }
		n=$((n + 1))
	done < <(find "$dl/data" "$dl/manifest" -type f ! -name '*.minisig')
	[ "$n" -gt 1 ]
}
check "every pack and manifest object verifies with stock minisign" -- verify_sigs

before=$(blobtool_at DST list archive | cut -f1 | sort)
check_exit 0 "a second run succeeds" -- run_ce
check "the second run archives nothing" -- jq -e '.blobs == 0 and .segment == -1' <<<"$LAST_OUTPUT"
check "the second run creates no object" -- \
	diff <(echo "$before") <(blobtool_at DST list archive | cut -f1 | sort)
check_exit 9 "--error-on-nothing exits 9" -- run_ce --error-on-nothing

# ---- diagnostic settings: PT1H.json appended to between runs
ds="$TEST_TMP/ds" ds1="$TEST_TMP/ds1"
"$AIGEN" --out "$ds" --layout diagnostic --apps 1 --hours 1 --from 2026-11-20T10 --seed 9 \
	--types AppRequests,AppTraces,AppExceptions >/dev/null || bail_out "aigen failed"
# The first part of each PT1H.json, cut in the middle of a line, goes up
# now; the rest is appended later.
for f in $(cd "$ds" && find . -path ./.aigen -prune -o -type f -print); do
	size=$(stat -c %s "$ds/$f")
	mkdir -p "$ds1/$(dirname "$f")" "$TEST_TMP/rest/$(dirname "$f")"
	head -c $((size * 3 / 5 + 7)) "$ds/$f" >"$ds1/$f"
	tail -c +$((size * 3 / 5 + 8)) "$ds/$f" >"$TEST_TMP/rest/$f"
done
check "append blobs uploaded" -- blobtool_at SRC upload-tree "$ds1"
run_ds_at() { # NOW
	AIARCHIVE_NOW=$1 "$AIARCHIVE" --json run --source "$SRC_URL" --dest "$DST_URL/dsarchive" \
		--key "$key" --layout diagnostic
}
check "init makes the diagnostic archive" -- ai_init "$DST_URL/dsarchive" "$key"
check_exit 0 "a run while the hour is open" -- run_ds_at 2026-11-20T10:40:00Z
check "it archived complete lines only" -- jq -e '.blobs > 0 and .failed == 0' <<<"$LAST_OUTPUT"
for f in $(cd "$TEST_TMP/rest" && find . -type f); do
	c=${f#./}; container=${c%%/*}; blob=${c#*/}
	blobtool_at SRC append "$container" "$blob" "$TEST_TMP/rest/$f" >/dev/null || echo "append failed: $f"
done
check_exit 0 "a run after the hour is over and the blobs grew" -- run_ds_at 2026-11-20T12:00:00Z
check "it archived the rest, including a last line without newline" -- \
	jq -e '.blobs > 0 and .failed == 0' <<<"$LAST_OUTPUT"
check_exit 0 "a third run" -- run_ds_at 2026-11-20T12:30:00Z
check "the third run archives nothing" -- jq -e '.blobs == 0' <<<"$LAST_OUTPUT"
dsdl="$TEST_TMP/dsdl"
check "download the diagnostic archive" -- blobtool_at DST download-tree dsarchive "$dsdl"
ds_source() { find "$ds" -path "$ds/.aigen" -prune -o -type f -print0 | sort -z | xargs -0 awk 1 | sort; }
ds_archive() { find "$dsdl/data" -name '*.jsonl.gz' -print0 | sort -z | xargs -0 zcat | sort; }
check "no line lost or duplicated across the appended ranges" -- diff <(ds_source) <(ds_archive)
check "every archived line is complete JSON" -- bash -c "find '$dsdl/data' -name '*.jsonl.gz' -print0 | xargs -0 zcat | jq -c . >/dev/null"

# ---- trouble
run_ce_badkey() { AIARCHIVE_SOURCE_KEY="${AZURITE_KEY/E/F}" run_ce; }
check_exit 3 "a wrong account key exits 3" -- run_ce_badkey
check "the key is not printed" -- bash -c "! grep -qF '${AZURITE_KEY:0:20}' <<<\"\$0\"" "$LAST_OUTPUT"
expired=$(sas_for SRC appinsights-export rl -1h)
printf '%s\n' "$expired" >"$TEST_TMP/expired.sas"
chmod 600 "$TEST_TMP/expired.sas"
check_exit 3 "an expired SAS exits 3" -- env -u AIARCHIVE_SOURCE_KEY "$AIARCHIVE" run \
	--source "$SRC_URL/appinsights-export" --source-sas-file "$TEST_TMP/expired.sas" \
	--dest "$DST_URL/archive" --key "$key"
check "no sig= in the message" -- bash -c "! grep -q 'sig=[A-Za-z0-9%]' <<<\"\$0\"" "$LAST_OUTPUT"
check_exit 2 "a missing source container exits 2" -- \
	"$AIARCHIVE" run --source "$SRC_URL/no-such-container" --dest "$DST_URL/archive" --key "$key"
check "that error names the container in one line" -- \
	bash -c "[ \$(printf '%s\n' \"\$0\" | wc -l) -eq 1 ] && grep -q no-such-container <<<\"\$0\"" "$LAST_OUTPUT"
tap_done
