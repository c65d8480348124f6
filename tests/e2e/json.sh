#!/usr/bin/env bash
# json.sh: --json on every command. Results are one JSON document on
# stdout (listings JSON Lines: run --dry-run's blobs, query's members,
# gc's removals, each with the summary as the last line; cat's rows as
# they are); every failure ends stdout with the error object
# {"error": {"code", "exit", "message", "object"}} while stderr keeps its
# one line. Everything is parsed with jq. Local archive, no Azurite.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"

src="$TEST_TMP/src" dst="$TEST_TMP/dst" key="$TEST_TMP/key"
export AIARCHIVE_CONFIG= STATE_DIRECTORY="$TEST_TMP/state"
"$AIGEN" --out "$src" --layout continuous --apps 2 --hours 2 --seed 7 >/dev/null ||
	bail_out "aigen failed"
S="file://$src/appinsights-export" D="file://$dst"

# js CODE DESC CMD...: runs CMD with --json after it; OUT is stdout, ERR
# stderr; passes when it exits CODE and every line of stdout is a JSON
# object.
js() {
	local want=$1 desc=$2 rc=0; shift 2
	OUT=$("$@" --json 2>"$TEST_TMP/stderr") || rc=$?
	ERR=$(cat "$TEST_TMP/stderr")
	if [ "$rc" -ne "$want" ]; then
		tap_result 1 "$desc (exit $rc, wanted $want)"
		diag "$OUT" "$ERR"
		return
	fi
	if jq -e -s 'length >= 1 and all(.[]; type == "object")' <<<"$OUT" >/dev/null 2>&1; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc (stdout is not JSON objects)"
		diag "$OUT"
	fi
}
# failed CODE EXIT DESC CMD...: js, then the last line is the error object
# with that code and exit, and stderr still ends with the closing line.
failed() {
	local code=$1 exit=$2 desc=$3; shift 3
	js "$exit" "$desc" "$@"
	check "  the last line is the error object ($code, exit $exit)" -- jq -e \
		--arg c "$code" --argjson x "$exit" \
		'.error.code == $c and .error.exit == $x and (.error.message | length > 0) and
		 (.error.object == null or (.error.object | type) == "string") and
		 (.error | keys) == ["code", "exit", "message", "object"]' <<<"$(tail -n 1 <<<"$OUT")"
	check "  stderr keeps its one line" -- grep -q "^aiarchive: .*exit $exit\$" <<<"$ERR"
}

# keygen
js 0 "keygen --json" "$AIARCHIVE" keygen -o "$key"
check "  key, public key and key id" -- jq -e --arg k "$key" \
	'.key == $k and .public_key == ($k + ".pub") and (.key_id | test("^[0-9A-F]{16}$"))' <<<"$OUT"
failed config 2 "keygen over an existing key" "$AIARCHIVE" keygen -o "$key"
check "  names the key file" -- jq -e --arg k "$key" '.error.object == $k' <<<"$OUT"

# init
js 0 "init --json" "$AIARCHIVE" init --dest "$D" --key "$key"
check "  archive id, key id, dest" -- jq -e '(.archive_id | length) == 32 and .adopted == false' <<<"$OUT"
failed config 2 "init of an archive again" "$AIARCHIVE" init --dest "$D" --key "$key"

# run: a dry run's listing, then the run
js 0 "run --dry-run --json" "$AIARCHIVE" run --source "$S" --dest "$D" --key "$key" --dry-run
nblobs=$(find "$src/appinsights-export" -type f | wc -l)
check "  one line per blob, then the summary" -- jq -e -s --argjson n "$nblobs" '
	length == $n + 1 and
	all(.[:-1][]; (.blob | type) == "string" and .start == 0 and .end > 0 and .app and .type
	    and (.hour | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}/[0-9]{2}$"))) and
	.[-1].dry_run == true and .[-1].blobs == $n' <<<"$OUT"
check "  no preflight text on stdout" -- bash -c '! grep -q "^preflight" <<<"$0"' "$OUT"
js 0 "run --json" "$AIARCHIVE" run --source "$S" --dest "$D" --key "$key"
check "  one summary object" -- jq -e -s --argjson n "$nblobs" \
	'length == 1 and .[0].blobs == $n and .[0].dry_run == false' <<<"$OUT"
failed usage 2 "run without --key" "$AIARCHIVE" run --source "$S" --dest "$D"
failed nothing 9 "run --error-on-nothing with nothing new" \
	"$AIARCHIVE" run --source "$S" --dest "$D" --key "$key" --error-on-nothing
check "  the summary line comes first" -- jq -e -s 'length == 2 and .[0].blobs == 0' <<<"$OUT"

# query: members as JSON Lines
js 0 "query --json" "$AIARCHIVE" query --dest "$D"
check "  one member a line" -- jq -e -s --argjson n "$nblobs" \
	'length == $n and all(.[]; (.blob | type) == "string")' <<<"$OUT"
printf 'format = table\n' >"$TEST_TMP/table.conf"
js 0 "query --json with a config's format = table" "$AIARCHIVE" -c "$TEST_TMP/table.conf" query --dest "$D"
check "  still JSON Lines" -- jq -e -s --argjson n "$nblobs" 'length == $n' <<<"$OUT"
failed usage 2 "query --json --format csv" "$AIARCHIVE" query --dest "$D" --format csv
failed config 2 "query of no archive" "$AIARCHIVE" query --dest "file://$TEST_TMP/none"

# cat: the rows as they are; an error object at the end on failure
js 0 "cat --json" "$AIARCHIVE" cat --dest "$D"
check "  the rows, as without --json" -- cmp <(printf '%s\n' "$OUT") \
	<("$AIARCHIVE" cat --dest "$D" 2>/dev/null)
failed config 2 "cat of no archive" "$AIARCHIVE" cat --dest "file://$TEST_TMP/none"

# verify
js 0 "verify --json" "$AIARCHIVE" verify --dest "$D" --data
check "  ok, one report" -- jq -e -s 'length == 1 and .[0].ok == true and .[0].errors == 0' <<<"$OUT"
cp -r "$dst" "$TEST_TMP/bad"
seg=$(ls "$TEST_TMP/bad/manifest/segments/"*.seg | head -1)
printf 'x' >>"$seg"
failed verify 4 "verify of a tampered segment" "$AIARCHIVE" verify --dest "file://$TEST_TMP/bad"
check "  the report, then the error naming the object" -- jq -e -s '
	length == 2 and .[0].ok == false and (.[1].error.object | test("segments/"))' <<<"$OUT"

# status
js 0 "status --json" "$AIARCHIVE" status --dest "$D"
check "  one object" -- jq -e -s 'length == 1 and (.[0].dest | test("dst"))' <<<"$OUT"
failed config 2 "status of no archive" "$AIARCHIVE" status --dest "file://$TEST_TMP/none"

# gc: one line per removal, then the summary
orphan=$(find "$dst/data" -name '*.jsonl.gz' | head -1)
cp "$orphan" "${orphan%.jsonl.gz}-stray.jsonl.gz"
touch -d '3 days ago' "${orphan%.jsonl.gz}-stray.jsonl.gz"
js 0 "gc --json" "$AIARCHIVE" gc --dest "$D"
check "  the removal, then the summary" -- jq -e -s '
	length == 2 and (.[0].name | endswith("-stray.jsonl.gz")) and .[0].removed == true and
	.[0].size > 0 and .[1].removed == 1 and .[1].candidates == 1' <<<"$OUT"
check "  and it is gone" -- test ! -e "${orphan%.jsonl.gz}-stray.jsonl.gz"
failed usage 2 "gc --older-than soon" "$AIARCHIVE" gc --dest "$D" --older-than soon
check "  names the option" -- jq -e '.error.object == "--older-than"' <<<"$(tail -n 1 <<<"$OUT")"

# completion, version
js 0 "completion bash --json" "$AIARCHIVE" completion bash
check "  the script as a string" -- bash -c 'jq -r .script <<<"$0" | bash -n' "$OUT"
failed usage 2 "completion tcsh" "$AIARCHIVE" completion tcsh
check "  names the shell" -- jq -e '.error.object == "tcsh"' <<<"$OUT"
js 0 "version --json" "$AIARCHIVE" version
check "  the version" -- jq -e '.version | test("^[0-9]")' <<<"$OUT"
failed usage 2 "version with an argument" "$AIARCHIVE" version extra

# Before any command: unknown commands and options, still JSON.
OUT=$("$AIARCHIVE" --json frobnicate 2>/dev/null)
check "unknown command: the error object" -- \
	jq -e '.error.code == "usage" and .error.exit == 2 and .error.object == "frobnicate"' <<<"$OUT"
OUT=$("$AIARCHIVE" --frob status --json 2>/dev/null)
check "an unknown option before the command, --json after: the error object" -- \
	jq -e '.error.exit == 2 and .error.object == "--frob"' <<<"$OUT"
OUT=$("$AIARCHIVE" status --lookback --json 2>/dev/null)
check "an option of another command: the error object" -- \
	jq -e '.error.exit == 2 and (.error.message | test("run takes it"))' <<<"$OUT"
tap_done
