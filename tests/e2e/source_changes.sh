#!/usr/bin/env bash
# source_changes.sh: changes in the source after a blob was archived are
# seen. A continuous-export block blob overwritten under the same name is
# archived again as a new member linked to the earlier one (query lists
# both versions, cat prints both, verify --source warns until the new one
# is archived). A PT1H.json whose last line is still being written when
# its hour closes is archived up to its last complete line; the line is
# archived whole once it is finished, and a tail that never is goes in as
# it is (one bad row) once a later run finds the same length. Checked on
# file:// and on Azurite, with blobtool's ETags, zcat and jq.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"

IKEY=0123456789abcdef0123456789abcdef
key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
BLOB="shop_$IKEY/Requests/2026-11-20/10/a.blob"
V1='{"name":"v1","n":1}'
V2='{"name":"v2","n":2}'$'\n''{"name":"v2","n":3}'

# first_run LABEL SRC DEST: the block blob (holding V1) is archived.
first_run() {
	ai_init_once "$3" "$key"
	check_exit 0 "$1: the first run" -- env AIARCHIVE_NOW=2026-11-20T11:30:00Z \
		"$AIARCHIVE" --json run --source "$2" --dest "$3" --key "$key"
	check_eq "$1: it archives the blob" 1 "$(jq .blobs <<<"$LAST_OUTPUT")"
}

# after_overwrite LABEL SRC DEST [ETAG]: the blob now holds V2 (whose ETag,
# when known, is ETAG).
after_overwrite() {
	local label=$1 src=$2 dst=$3 etag=${4:-}
	local run=("$AIARCHIVE" --json run --source "$src" --dest "$dst" --key "$key")
	check_exit 0 "$label: verify --source before the next run" -- \
		"$AIARCHIVE" verify --dest "$dst" --source "$src" \
		--from 2026-11-20T10 --to 2026-11-20T11
	check "$label: ... warns that this version is not archived yet" -- \
		grep -q "source blob $BLOB: changed after it was archived: this version" <<<"$LAST_OUTPUT"
	check_exit 0 "$label: a run after the overwrite" -- \
		env AIARCHIVE_NOW=2026-11-20T11:40:00Z "${run[@]}"
	check_eq "$label: it archives the new version" "1 2" \
		"$(grep '^{' <<<"$LAST_OUTPUT" | jq -r '"\(.blobs) \(.rows)"')"
	check "$label: and says so" -- grep -q "blob '$BLOB': changed since it was archived" <<<"$LAST_OUTPUT"
	check_exit 0 "$label: a third run" -- env AIARCHIVE_NOW=2026-11-20T11:50:00Z "${run[@]}"
	check_eq "$label: it archives nothing" 0 "$(jq .blobs <<<"$LAST_OUTPUT")"
	"$AIARCHIVE" query --dest "$dst" --format jsonl >"$TEST_TMP/$label.q"
	check_eq "$label: query lists both versions" 2 \
		"$(jq -s --arg b "$BLOB" 'map(select(.blob == $b)) | length' "$TEST_TMP/$label.q")"
	check "$label: the second replaces the first's ETag; the first replaces nothing" -- \
		jq -se '.[0].replaces == null and .[1].replaces == .[0].etag and .[0].etag != .[1].etag' \
		"$TEST_TMP/$label.q"
	[ -z "$etag" ] || check_eq "$label: the new version's ETag is the source's" "$etag" \
		"$(jq -s -r '.[1].etag' "$TEST_TMP/$label.q")"
	check_eq "$label: cat prints the rows of both versions" "v1 v2 v2" \
		"$("$AIARCHIVE" cat --dest "$dst" | jq -r .name | tr '\n' ' ' | sed 's/ $//')"
	check_exit 0 "$label: verify --source after it" -- \
		"$AIARCHIVE" verify --dest "$dst" --source "$src" --from 2026-11-20T10 --to 2026-11-20T11
	check "$label: ... is clean" -- bash -c "! grep -q 'changed after' <<<\"\$0\"" "$LAST_OUTPUT"
}

DS="resourceId=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.INSIGHTS/COMPONENTS"
P1="insights-logs-apprequests/$DS/SHOP/y=2026/m=11/d=20/h=10/m=00/PT1H.json"
P2="insights-logs-apptraces/$DS/SHOP/y=2026/m=11/d=20/h=10/m=00/PT1H.json"
P1_HEAD='{"time":"2026-11-20T10:05:00Z","OperationId":"a"}'$'\n''{"time":"2026-11-20T10:5'
P1_REST='9:00Z","OperationId":"b"}'$'\n'
P2_ALL='{"time":"2026-11-20T10:06:00Z","OperationId":"c"}'$'\n''{"time":"2026-11-20T10:59:5'

# tail_checks LABEL SRC DEST APPEND-CMD: P1 and P2 hold their first parts;
# APPEND-CMD finishes P1's last line. Hour 10 closes at 11:15 (grace 15m).
tail_checks() {
	local label=$1 src=$2 dst=$3 append=$4
	ai_init_once "$dst" "$key"
	local run=("$AIARCHIVE" --json run --source "$src" --dest "$dst" --key "$key"
	           --layout diagnostic)
	check_exit 0 "$label: a run after the hour closed, lines unfinished" -- \
		env AIARCHIVE_NOW=2026-11-20T11:20:00Z "${run[@]}"
	check_eq "$label: it archives the complete lines only" "2 2 0" \
		"$(jq -r '"\(.blobs) \(.rows) \(.bad_rows)"' <<<"$LAST_OUTPUT")"
	check "$label: P1's last line is finished after its hour" -- "$append"
	check_exit 0 "$label: the next run" -- env AIARCHIVE_NOW=2026-11-20T11:30:00Z "${run[@]}"
	check_eq "$label: P1's row whole, P2's unchanged tail as it is (a bad row)" "2 2 1" \
		"$(jq -r '"\(.blobs) \(.rows) \(.bad_rows)"' <<<"$LAST_OUTPUT")"
	check_exit 0 "$label: a third run" -- env AIARCHIVE_NOW=2026-11-20T11:40:00Z "${run[@]}"
	check_eq "$label: it archives nothing" 0 "$(jq .blobs <<<"$LAST_OUTPUT")"
	"$AIARCHIVE" cat --dest "$dst" --type apprequests >"$TEST_TMP/$label.p1"
	check_eq "$label: cat prints P1's two source rows, both valid" "a b" \
		"$(jq -r .OperationId "$TEST_TMP/$label.p1" | tr '\n' ' ' | sed 's/ $//')"
	check_eq "$label: ... and nothing else" 2 "$(wc -l <"$TEST_TMP/$label.p1")"
	"$AIARCHIVE" cat --dest "$dst" --type apptraces --raw >"$TEST_TMP/$label.p2"
	check_eq "$label: P2's tail is one line, as the source has it (cat --raw)" \
		"$(printf '%s\n' "$P2_ALL")" "$(cat "$TEST_TMP/$label.p2")"
	check_eq "$label: plain cat leaves its cut last line out" "${P2_ALL%%$'\n'*}" \
		"$("$AIARCHIVE" cat --dest "$dst" --type apptraces 2>/dev/null)"
	check_exit 0 "$label: verify --source" -- "$AIARCHIVE" verify --dest "$dst" --source "$src" \
		--layout diagnostic --from 2026-11-20T10 --to 2026-11-20T11
	check "$label: ... finds everything archived" -- grep -q '2 blobs, 0 missing; ok' <<<"$LAST_OUTPUT"
}

# ---- file:// ---------------------------------------------------------------
src="$TEST_TMP/src"
mkdir -p "$src/$(dirname "$BLOB")"
printf '%s\n' "$V1" >"$src/$BLOB"
first_run local "file://$src" "file://$TEST_TMP/dst"
printf '%s\n' "$V2" >"$src/$BLOB.tmp" && mv "$src/$BLOB.tmp" "$src/$BLOB"
after_overwrite local "file://$src" "file://$TEST_TMP/dst"

dsrc="$TEST_TMP/dsrc"
mkdir -p "$dsrc/$(dirname "$P1")" "$dsrc/$(dirname "$P2")"
printf '%s' "$P1_HEAD" >"$dsrc/$P1"
printf '%s' "$P2_ALL" >"$dsrc/$P2"
append_local() { printf '%s' "$P1_REST" >>"$dsrc/$P1"; }
tail_checks local-ds "file://$dsrc" "file://$TEST_TMP/dsdst" append_local

# ---- Azurite ---------------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
	diag "node not installed: Azurite part skipped"
	tap_done
	exit
fi
azurite_start SRC DST || bail_out "azurite did not start"
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY"
blobtool_at SRC mkcontainer export >/dev/null || bail_out "mkcontainer failed"
printf '%s\n' "$V1" >"$TEST_TMP/v1"
printf '%s\n' "$V2" >"$TEST_TMP/v2"
blobtool_at SRC put export "$BLOB" "$TEST_TMP/v1" >/dev/null || bail_out "put failed"
first_run azurite "$SRC_URL/export" "$DST_URL/archive"
etag=$(blobtool_at SRC put export "$BLOB" "$TEST_TMP/v2" | jq -r .etag) || bail_out "put failed"
after_overwrite azurite "$SRC_URL/export" "$DST_URL/archive" "$etag"

printf '%s' "$P1_HEAD" >"$TEST_TMP/p1.head"
printf '%s' "$P1_REST" >"$TEST_TMP/p1.rest"
printf '%s' "$P2_ALL" >"$TEST_TMP/p2"
for c in insights-logs-apprequests insights-logs-apptraces; do
	blobtool_at SRC mkcontainer "$c" >/dev/null || bail_out "mkcontainer failed"
done
blobtool_at SRC append insights-logs-apprequests "${P1#*/}" "$TEST_TMP/p1.head" >/dev/null ||
	bail_out "append failed"
blobtool_at SRC append insights-logs-apptraces "${P2#*/}" "$TEST_TMP/p2" >/dev/null ||
	bail_out "append failed"
append_azurite() {
	blobtool_at SRC append insights-logs-apprequests "${P1#*/}" "$TEST_TMP/p1.rest" >/dev/null
}
tail_checks azurite-ds "$SRC_URL" "$DST_URL/dsarchive" append_azurite
tap_done
