#!/usr/bin/env bash
# filters.sh: filters that match nothing, late blobs in old folders, and
# tracing, on file:// and on Azurite with the real binary.
#   - a typo'd --app (or --type) with --tag or --from/--to exits 2, naming
#     the nearest names the source has, and archives nothing, in a dry run
#     too; without them it is a warning and the run goes on (exit 0);
#   - a blob delivered into a folder older than watermark - lookback is
#     missed by a plain run, reported by verify --source with the exact
#     run that archives it, archived by running that command, and by
#     run --rescan 48h; each late blob is archived exactly once (query, jq);
#   - -v prints the phase lines of run with their counts; -vv one line
#     per storage request with status and ms, and (Azurite, with a SAS for
#     the source and the account key for the archive) neither the SAS
#     signature nor the account key.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"

IKEY=0123456789abcdef0123456789abcdef
key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
B1="shop_$IKEY/Requests/2026-11-20/10/a.blob"
B2="shop_$IKEY/Event/2026-11-20/10/b.blob"
B3="web_$IKEY/Requests/2026-11-20/11/c.blob"
LATE1="shop_$IKEY/Requests/2026-11-20/07/late.blob"   # older than watermark - lookback
LATE2="web_$IKEY/Requests/2026-11-19/20/late2.blob"   # within the last 48h

# suite LABEL SRC DEST PUT: PUT NAME TEXT writes a source blob; B1-B3 are
# in the source already.
suite() {
	local label=$1 src=$2 dst=$3 put=$4 out
	local run=("$AIARCHIVE" run --source "$src" --dest "$dst" --key "$key")
	ai_init "$dst" "$key" || bail_out "init failed"
	export AIARCHIVE_NOW=2026-11-20T11:30:00Z

	# --- filters that match nothing ---
	check_exit 2 "$label: a typo'd --app with --tag exits 2" -- \
		"${run[@]}" --app shopweb --tag INC-4711
	check "$label: ... naming the filter and the nearest app" -- grep -q \
		"error: --app 'shopweb' matches no app in the source (nearest: 'shop'" <<<"$LAST_OUTPUT"
	check_exit 2 "$label: a typo'd --type with --from/--to exits 2" -- \
		"${run[@]}" --type Request --from 2026-11-20T10 --to 2026-11-20T12
	check "$label: ... naming the nearest type" -- grep -q \
		"error: --type 'Request' matches no type in the source (nearest: 'Requests')" <<<"$LAST_OUTPUT"
	check_exit 2 "$label: a dry run with a typo'd --app and --tag exits 2 too" -- \
		"$AIARCHIVE" run -n --source "$src" --dest "$dst" --key "$key" --app shopweb --tag INC-4711
	check "$label: ... for the filter" -- grep -q "error: --app 'shopweb' matches no app" <<<"$LAST_OUTPUT"
	check_exit 0 "$label: a typo'd --app without --tag or a window" -- "${run[@]}" --app shopweb
	check "$label: ... is a warning naming the nearest app" -- grep -q \
		"warning: --app 'shopweb' matches no app in the source (nearest: 'shop')" <<<"$LAST_OUTPUT"
	check_exit 0 "$label: a dry run after them" -- \
		"$AIARCHIVE" --json run -n --source "$src" --dest "$dst" --key "$key"
	check_eq "$label: ... would archive all three blobs: nothing was archived" 3 \
		"$(grep '^{' <<<"$LAST_OUTPUT" | tail -n 1 | jq .blobs)"
	check_eq "$label: ... one JSON line per blob before the summary" 3 \
		"$(grep '^{"blob"' <<<"$LAST_OUTPUT" | jq -s length)"

	# --- -v: the phases of a run ---
	check_exit 0 "$label: a run with -v" -- "$AIARCHIVE" -v "${run[@]:1}"
	out=$LAST_OUTPUT
	check "$label: -v: the plan line" -- grep -q '^aiarchive: run: plan: the whole history' <<<"$out"
	check "$label: -v: the listed line" -- grep -q '^aiarchive: run: listed 3 blobs (apps seen 2, types seen 2' <<<"$out"
	check "$label: -v: the decide line" -- \
		grep -q '^aiarchive: run: decide: 0 skipped as archived, 3 to archive' <<<"$out"
	check "$label: -v: the packs line" -- grep -q '^aiarchive: run: packs: 3 committed' <<<"$out"
	check "$label: -v: the commit line" -- grep -q '^aiarchive: run: commit: 3 members in 1 segment' <<<"$out"
	check "$label: -v: the state line" -- \
		grep -q '^aiarchive: run: state: saved; listed through 2026-11-20T11' <<<"$out"
	check "$label: -v: no request lines" -- bash -c '! grep -q "^aiarchive: request " <<<"$0"' "$out"

	# --- late blobs ---
	"$put" "$LATE1" '{"late":1}' || bail_out "put failed"
	"$put" "$LATE2" '{"late":2}' || bail_out "put failed"
	export AIARCHIVE_NOW=2026-11-20T11:40:00Z
	check_exit 0 "$label: a plain run after the late blobs" -- "$AIARCHIVE" -v "${run[@]:1}"
	check "$label: ... lists from watermark - lookback and finds nothing new" -- grep -q \
		'run: decide: 3 skipped as archived, 0 to archive' <<<"$LAST_OUTPUT"
	check "$label: ... archives nothing" -- grep -q '^archived 0 blobs' <<<"$LAST_OUTPUT"
	check_exit 4 "$label: verify --source over the day" -- "$AIARCHIVE" verify --dest "$dst" \
		--source "$src" --from 2026-11-19T00 --to 2026-11-20T12
	out=$LAST_OUTPUT
	check "$label: ... reports the first late blob" -- \
		grep -q "^source blob $LATE1: not archived (11 bytes, delivery hour 2026-11-20T07)" <<<"$out"
	check "$label: ... and the second" -- grep -q "^source blob $LATE2: not archived" <<<"$out"
	local want="aiarchive run --source $src --dest $dst --from 2026-11-19T20 --to 2026-11-20T08 --type Requests"
	check_eq "$label: ... and ends with the exact run that archives them" \
		"to archive what is missing, run (with the usual --key and credentials): $want" \
		"$(tail -n 1 <<<"$out")"
	check_exit 4 "$label: verify --source over the first late blob's hour" -- \
		"$AIARCHIVE" verify --dest "$dst" --source "$src" --from 2026-11-20T07 --to 2026-11-20T12
	local cmd words
	cmd=$(tail -n 1 <<<"$LAST_OUTPUT" | sed 's/^to archive what is missing, run (with the usual --key and credentials): //')
	check_eq "$label: ... names its app and type, which narrow the run" \
		"aiarchive run --source $src --dest $dst --from 2026-11-20T07 --to 2026-11-20T08 --app shop --type Requests" \
		"$cmd"
	read -ra words <<<"$cmd"
	check_exit 0 "$label: running that command (with --key)" -- \
		"$AIARCHIVE" --json "${words[@]:1}" --key "$key"
	check_eq "$label: ... archives the first late blob" 1 "$(jq .blobs <<<"$LAST_OUTPUT")"
	check_exit 0 "$label: a plain run still misses the second" -- "$AIARCHIVE" --json "${run[@]:1}"
	check_eq "$label: ... archiving nothing" 0 "$(jq .blobs <<<"$LAST_OUTPUT")"
	check_exit 0 "$label: run --rescan 48h" -- "$AIARCHIVE" -v --json "${run[@]:1}" --rescan 48h
	check_eq "$label: ... archives the second late blob" 1 "$(grep '^{' <<<"$LAST_OUTPUT" | jq .blobs)"
	check "$label: ... skipping what is archived" -- grep -q \
		'run: decide: 4 skipped as archived, 1 to archive' <<<"$LAST_OUTPUT"
	check_exit 0 "$label: run --rescan 48h again" -- "$AIARCHIVE" --json "${run[@]:1}" --rescan 48h
	check_eq "$label: ... archives nothing" 0 "$(jq .blobs <<<"$LAST_OUTPUT")"
	check_exit 0 "$label: the verify command again" -- \
		"$AIARCHIVE" --json "${words[@]:1}" --key "$key"
	check_eq "$label: ... archives nothing" 0 "$(jq .blobs <<<"$LAST_OUTPUT")"
	check_exit 2 "$label: --rescan does not go with --from" -- \
		"${run[@]}" --rescan 48h --from 2026-11-20T00
	"$AIARCHIVE" query --dest "$dst" --format jsonl >"$TEST_TMP/$label.q"
	check_eq "$label: query: no blob is archived twice" "" \
		"$(jq -r .blob "$TEST_TMP/$label.q" | sort | uniq -d)"
	check_eq "$label: ... five members, five blobs" "5 5" \
		"$(wc -l <"$TEST_TMP/$label.q") $(jq -r .blob "$TEST_TMP/$label.q" | sort -u | wc -l)"
	check "$label: ... among them both late blobs" -- bash -c \
		'jq -r .blob "$0" | grep -qxF "$1" && jq -r .blob "$0" | grep -qxF "$2"' \
		"$TEST_TMP/$label.q" "$LATE1" "$LATE2"
	check_eq "$label: cat prints the late rows once each" "1 2" \
		"$("$AIARCHIVE" cat --dest "$dst" | jq -r 'select(.late) | .late' | sort | tr '\n' ' ' | sed 's/ $//')"
	check_exit 0 "$label: verify --source over the day is clean" -- "$AIARCHIVE" verify \
		--dest "$dst" --source "$src" --from 2026-11-19T00 --to 2026-11-20T12
	check "$label: ... and suggests no run" -- bash -c '! grep -q "to archive what is missing" <<<"$0"' \
		"$LAST_OUTPUT"
	check_eq "$label: verify --json: source.run is null" null \
		"$("$AIARCHIVE" --json verify --dest "$dst" --source "$src" --from 2026-11-19T00 \
		   --to 2026-11-20T12 | jq .source.run)"

	# --- -vv: one line per storage request ---
	check_exit 0 "$label: a run with -vv" -- "$AIARCHIVE" -vv "${run[@]:1}"
	grep '^aiarchive: request ' <<<"$LAST_OUTPUT" >"$TEST_TMP/$label.trace" || true
	check "$label: -vv: request lines" -- test -s "$TEST_TMP/$label.trace"
	check_eq "$label: -vv: each has a time, an operation, a status, bytes, ms and a retry" 0 \
		"$(grep -cvE '^aiarchive: request 20[0-9-]{8}T[0-9:.]{12}Z [A-Za-z-]+ [^ ]+ -> [^,]+, [0-9]+ bytes sent, [0-9]+ received, [0-9]+ ms, retry [0-9]+$' \
		   "$TEST_TMP/$label.trace")"
	check "$label: -vv: the phase lines are there too" -- grep -q '^aiarchive: run: decide:' <<<"$LAST_OUTPUT"
	unset AIARCHIVE_NOW
}

# ---- file:// ---------------------------------------------------------------
SRC_DIR="$TEST_TMP/src"
put_local() { mkdir -p "$SRC_DIR/$(dirname "$1")" && printf '%s\n' "$2" >"$SRC_DIR/$1"; }
for b in "$B1" "$B2" "$B3"; do put_local "$b" '{"n":1}'; done
suite local "file://$SRC_DIR" "file://$TEST_TMP/dst" put_local
check "local: -vv: a file:// request names the operation and the object" -- \
	grep -qE " read file://$TEST_TMP/dst/manifest/state -> ok, 0 bytes sent, [0-9]+ received" \
	"$TEST_TMP/local.trace"

# ---- Azurite ---------------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
	diag "node not installed: Azurite part skipped"
	tap_done
	exit
fi
azurite_start SRC DST || bail_out "azurite did not start"
blobtool_at SRC mkcontainer export >/dev/null || bail_out "mkcontainer failed"
put_azurite() {
	printf '%s\n' "$2" >"$TEST_TMP/blob" &&
		blobtool_at SRC put export "$1" "$TEST_TMP/blob" >/dev/null
}
for b in "$B1" "$B2" "$B3"; do put_azurite "$b" '{"n":1}' || bail_out "put failed"; done
sas=$(sas_for SRC export rl +1h) || bail_out "no SAS"
sig=$(tr '&' '\n' <<<"${sas#\?}" | sed -n 's/^sig=//p')
[ -n "$sig" ] || bail_out "the SAS has no signature"
export AIARCHIVE_SOURCE_SAS="$sas" AIARCHIVE_DEST_KEY="$AZURITE_KEY"
unset AIARCHIVE_SOURCE_KEY
suite azurite "$SRC_URL/export" "$DST_URL/archive" put_azurite
check "azurite: -vv: a listing of the source with its status" -- grep -qE \
	" GET $SRC_URL/export\?restype=container&comp=list&[^ ]* -> 200, 0 bytes sent, [0-9]+ received" \
	"$TEST_TMP/azurite.trace"
check "azurite: -vv: a write to the archive with its status" -- \
	grep -qE " PUT $DST_URL/archive/[^ ]+ -> 201, [0-9]+ bytes sent" "$TEST_TMP/azurite.trace"
check "azurite: -vv: no SAS signature in the trace" -- \
	bash -c '! grep -qF -- "$0" "$1" && ! grep -q "sig=" "$1"' "$sig" "$TEST_TMP/azurite.trace"
check "azurite: -vv: no account key in the trace" -- \
	bash -c '! grep -qF -- "$0" "$1" && ! grep -q "AccountKey\|SharedKey" "$1"' "$AZURITE_KEY" \
	"$TEST_TMP/azurite.trace"
tap_done
