#!/usr/bin/env bash
# rpo.sh: the recovery point that status reports, end to end. The source is
# Azurite behind tests/tools/faultproxy.mjs, which fails every read of one
# app's blobs of one delivery hour; the archive is a file:// directory and
# an Azurite container. With the clock pinned (AIARCHIVE_NOW), for each:
#   - a run while hour 11 is still open, hour 10 of one app failing: exit 1;
#     `status --json` (checked with jq) and the .prom file (promtool check
#     metrics) put that app's recovery point at 10:00, before the failed
#     hour, the other app's at 11:00 (the open hour never counts, though
#     its blobs were read), every lag >= 0, the failed blobs counted with
#     their oldest hour, the listing watermark not held back, the run's
#     exit code 1;
#   - the next run, without faults, moves both to 12:00 and clears the
#     failures;
#   - a run that fails before it can write the state (another key) and a
#     verify that fails are reported from this host's records;
#   - every metric etc/aiarchive.rules.yml uses is in the file.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v curl >/dev/null 2>&1 || skip_all "curl not installed"
command -v promtool >/dev/null 2>&1 || skip_all "promtool not installed (scripts/setup installs it)"
require_azurite
azurite_start SRC DST || bail_out "azurite did not start"

faultproxy_start PS "$SRC_PORT" || bail_out "faultproxy did not start"
rules() {
	faultproxy_rules "$PS" "$1"
}

key="$TEST_TMP/key" other="$TEST_TMP/other"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
"$AIARCHIVE" keygen -o "$other" >/dev/null || bail_out "keygen failed"
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY"
ce="$TEST_TMP/ce"
"$AIGEN" --out "$ce" --layout continuous --apps 2 --hours 3 --seed 21 --from 2026-11-20T09 \
	--types Requests,Event >/dev/null || bail_out "aigen failed"
blobtool_at SRC upload-tree "$ce" >/dev/null || bail_out "upload failed"
dirs=($(ls "$ce/appinsights-export"))
bad=${dirs[0]%_*} good=${dirs[1]%_*} # the archive names an app without its ikey
# Every read of the first app's hour-10 blobs fails (listings pass: their
# prefix is in the query string).
fail_rule="{\"action\":\"status\",\"status\":503,\"count\":-1,\"method\":[\"GET\",\"HEAD\"],\"path\":\"^/$AZURITE_ACCOUNT/appinsights-export/${dirs[0]}/[^/?]+/2026-11-20/10/\"}"
epoch() { date -u -d "$1" +%s; }

# scenario NAME DEST
scenario() {
	local name=$1 dest=$2 prom="$TEST_TMP/$1.prom" json m
	run_at() {
		AIARCHIVE_NOW=$1 "$AIARCHIVE" run --source "$PS/$AZURITE_ACCOUNT/appinsights-export" \
			--dest "$dest" --key "$key" --max-tries 1 --retry-total 1s "${@:2}"
	}
	status_at() {
		AIARCHIVE_NOW=$1 "$AIARCHIVE" --json status --dest "$dest" --prom "$prom"
	}
	check "$name: init" -- ai_init "$dest" "$key"
	rules "$fail_rule" || bail_out "rules failed"
	check_exit 1 "$name: a run at 11:40 with hour 10 of $bad failing exits 1 (partial)" -- \
		run_at 2026-11-20T11:40:00Z
	check "$name: it names a failed blob" -- grep -q "blob '.*${dirs[0]}/.*/2026-11-20/10/" <<<"$LAST_OUTPUT"
	check_exit 0 "$name: status --json --prom" -- status_at 2026-11-20T11:50:00Z
	json=$LAST_OUTPUT
	diag "$(jq -c '.partitions[] | [.app, .type, .archived_through, .lag_s, .failed]' <<<"$json")"
	check "$name: the JSON has both apps' two types" -- jq -e '.partitions | length == 4' <<<"$json"
	check "$name: $bad is archived through 10:00, before its failed hour" -- jq -e --arg a "$bad" '
		[.partitions[] | select(.app == $a)] | length == 2 and
		all(.archived_through == "2026-11-20T10:00:00Z" and .failed > 0 and
		    .failed_oldest == "2026-11-20T10:00:00Z" and .failed_oldest_age_s == 6600)' <<<"$json"
	check "$name: $good through 11:00: the open hour 11 never counts" -- jq -e --arg a "$good" '
		[.partitions[] | select(.app == $a)] | length == 2 and
		all(.archived_through == "2026-11-20T11:00:00Z" and .failed == 0 and .failed_oldest == null)' <<<"$json"
	check "$name: every lag is now minus archived through, never negative" -- jq -e '
		.partitions | all(.lag_s >= 0 and .lag_s == ((.archived_through | fromdateiso8601) |
		                  (("2026-11-20T11:50:00Z" | fromdateiso8601) - .)))' <<<"$json"
	check "$name: the newest source blob is known for each" -- jq -e \
		'.partitions | all(.newest_blob != null and .newest_blob_age_s >= 0)' <<<"$json"
	check "$name: the listing watermark is not held back by the failure" -- \
		jq -e '.watermark == "2026-11-20T11:00:00Z"' <<<"$json"
	check "$name: the last run: partial, exit code 1" -- \
		jq -e '.last_run.result == "partial" and .last_run.exit_code == 1' <<<"$json"
	check "$name: promtool accepts the .prom" -- bash -c "promtool check metrics <'$prom'"
	check "$name: the .prom agrees: $bad at 10:00 with failed blobs" -- awk -v a="$bad" -v t="$(epoch 2026-11-20T10:00:00Z)" '
		index($0, "aiarchive_archived_through_timestamp_seconds{app=\"" a "\"") == 1 { n++; if ($2 != t) exit 1 }
		index($0, "aiarchive_failed_blobs{app=\"" a "\"") == 1 { f++; if ($2 < 1) exit 1 }
		END { exit !(n == 2 && f == 2) }' "$prom"
	check "$name: no negative lag in the .prom" -- awk '
		/^aiarchive_lag_seconds\{/ { n++; if ($2 < 0) exit 1 } END { exit n != 4 }' "$prom"
	check "$name: the .prom has the last run's exit code" -- grep -qx 'aiarchive_last_run_exit_code 1' "$prom"
	for m in $(grep -o 'aiarchive_[a-z_]*' "$top_srcdir/etc/aiarchive.rules.yml" | sort -u); do
		case $m in aiarchive_last_verify_*) continue ;; esac # no verify yet
		check "$name: the .prom has $m, which the rules use" -- grep -q "^$m[{ ]" "$prom"
	done

	rules '[]'
	check_exit 0 "$name: the next run at 12:30, without faults" -- run_at 2026-11-20T12:30:00Z
	check_exit 0 "$name: status" -- status_at 2026-11-20T12:45:00Z
	json=$LAST_OUTPUT
	check "$name: the run moved every recovery point to 12:00 and cleared the failures" -- jq -e '
		.partitions | length == 4 and
		all(.archived_through == "2026-11-20T12:00:00Z" and .lag_s == 2700 and .failed == 0)' <<<"$json"
	check "$name: the last run: ok, exit code 0" -- \
		jq -e '.last_run.result == "ok" and .last_run.exit_code == 0 and .last_run.recorded == "host"' <<<"$json"
	check "$name: the .prom says success" -- grep -qx 'aiarchive_last_run_success 1' "$prom"

	# A run refused before it writes anything (another key): the state
	# still holds the run before; this host's record tells.
	check_exit 4 "$name: a run with another key exits 4" -- \
		env AIARCHIVE_NOW=2026-11-20T13:30:00Z "$AIARCHIVE" -q run --source "$SRC_URL/appinsights-export" \
		--dest "$dest" --key "$other"
	check_exit 0 "$name: status" -- status_at 2026-11-20T13:45:00Z
	check "$name: status reports that run from the host's record, exit code 4" -- jq -e '
		.last_run.result == "failed" and .last_run.exit_code == 4 and .last_run.recorded == "host"' <<<"$LAST_OUTPUT"
	check "$name: the .prom: the last run failed" -- \
		bash -c "grep -qx 'aiarchive_last_run_success 0' '$prom' && grep -qx 'aiarchive_last_run_exit_code 4' '$prom'"

	check_exit 0 "$name: verify" -- "$AIARCHIVE" -q verify --dest "$dest"
	check_exit 0 "$name: status" -- status_at 2026-11-20T13:50:00Z
	check "$name: the last verify passed" -- \
		jq -e '.last_verify.result == "ok" and .last_verify.exit_code == 0' <<<"$LAST_OUTPUT"
	check "$name: the .prom says so" -- grep -qx 'aiarchive_last_verify_success 1' "$prom"
	check_exit 4 "$name: verify pinned to a key that is not the archive's exits 4" -- \
		"$AIARCHIVE" -q verify --dest "$dest" --pubkey "$other.pub"
	check_exit 0 "$name: status" -- status_at 2026-11-20T13:55:00Z
	check "$name: the last verify failed, exit code 4" -- \
		jq -e '.last_verify.result == "failed" and .last_verify.exit_code == 4' <<<"$LAST_OUTPUT"
	check "$name: the .prom says so" -- \
		bash -c "grep -qx 'aiarchive_last_verify_success 0' '$prom' && grep -qx 'aiarchive_last_verify_exit_code 4' '$prom'"
	check "$name: promtool accepts it" -- bash -c "promtool check metrics <'$prom'"
	check_exit 0 "$name: status as a table" -- env AIARCHIVE_NOW=2026-11-20T13:55:00Z "$AIARCHIVE" status --dest "$dest" --wide
	check "$name: it shows the last run's exit code and the last verify" -- bash -c '
		grep -Eq "^last run: .*: failed \(exit 4\)$" <<<"$0" && grep -Eq "^verified: +at .*: failed \(exit 4\)$" <<<"$0"' "$LAST_OUTPUT"
	check "$name: and one line per app and type with FAILED and QUARANTINED" -- bash -c '
		grep -Eq "^APP +TYPE +ARCHIVED THROUGH +LAG +LAST EVENT +NEWEST BLOB +FAILED +QUARANTINED +MEMBERS +ROWS$" <<<"$0" &&
		test "$(grep -Ec "2026-11-20T12:00:00Z +1h55m .* 0 +0 +[0-9]+ +[0-9]+$" <<<"$0")" -eq 4' "$LAST_OUTPUT"
}

scenario local "file://$TEST_TMP/archive"
scenario azurite "$DST_URL/archive"
tap_done
