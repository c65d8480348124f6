#!/usr/bin/env bash
# global_options.sh: the global options (-c, -v, -q, --json) work before
# and after the command's name, for every command, with their effect: -q
# drops the summary, -v adds the phase lines, --json makes the output JSON
# (jq parses it), -c reads the config. Local archive (file://), no Azurite.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"

src="$TEST_TMP/src" dst="$TEST_TMP/dst" key="$TEST_TMP/key"
export AIARCHIVE_CONFIG= STATE_DIRECTORY="$TEST_TMP/state"
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 2 --seed 5 >/dev/null ||
	bail_out "aigen failed"
"$AIARCHIVE" -q keygen -o "$key" && ai_init "file://$dst" "$key" || bail_out "no archive"
S="file://$src/appinsights-export" D="file://$dst"

# run_split CMD...: runs it; OUT is its stdout, ERR its stderr, RC its code.
run_split() {
	RC=0
	OUT=$("$@" 2>"$TEST_TMP/stderr") || RC=$?
	ERR=$(cat "$TEST_TMP/stderr")
}
# flag_after DESC CODE CMD...: CMD exits CODE (the flag came after the command).
flag_after() {
	local desc=$1 want=$2; shift 2
	run_split "$@"
	check_eq "$desc: exit $want" "$want" "$RC"
	[ "$RC" -eq "$want" ] || diag "$ERR"
}

# The commands, each with a global flag after its name.
args_of() {
	case $1 in
	init) echo "--dest file://$TEST_TMP/d-$2 --key $key" ;;
	run) echo "--source $S --dest $D --key $key" ;;
	query|cat|status) echo "--dest $D" ;;
	verify) echo "--dest $D" ;;
	gc) echo "--dest $D --older-than 3h" ;;
	keygen) echo "-o $TEST_TMP/k-$2" ;;
	completion) echo "bash" ;;
	version) echo "" ;;
	esac
}
commands=$("$AIARCHIVE" --help | awk '/^commands:/ { f = 1; next } /^$/ { f = 0 } f { print $1 }')
check "every command is covered here" -- bash -c '
	for c in '"$(echo $commands)"'; do
		case $c in init|run|query|cat|verify|status|gc|keygen|completion|version) ;;
		*) echo "not covered: $c"; exit 1 ;; esac
	done'

for c in $commands; do
	# --json after the command: the output is JSON.
	# shellcheck disable=SC2046
	flag_after "$c --json" 0 "$AIARCHIVE" "$c" $(args_of "$c" json) --json
	check "$c --json: stdout parses with jq" -- jq -e . <<<"$OUT"
	check "$c --json: stdout is JSON only (one object a line)" -- \
		jq -e -s 'length >= 1 and all(.[]; type == "object")' <<<"$OUT"
	# -q after the command: no summary (rows and scripts are the output).
	# shellcheck disable=SC2046
	flag_after "$c -q" 0 "$AIARCHIVE" "$c" $(args_of "$c" q) -q
	case $c in
	init|run|verify|status|gc|keygen)
		check_eq "$c -q: prints nothing" "" "$OUT$ERR" ;;
	query|cat)
		check_eq "$c -q: rows only, nothing on stderr" "" "$ERR" ;;
	completion)
		check "$c -q: the script still" -- grep -q '^complete ' <<<"$OUT" ;;
	version)
		check "$c -q: the version still" -- grep -q '^aiarchive ' <<<"$OUT" ;;
	esac
done

# -v and -vv after the command; and before it, as ever.
flag_after "run -v" 0 "$AIARCHIVE" run --source "$S" --dest "$D" --key "$key" -v
check "run -v: the phase lines" -- grep -q '^aiarchive: run: plan: ' <<<"$ERR"
flag_after "verify -vv" 0 "$AIARCHIVE" verify --dest "$D" -vv
check "verify -vv: the request lines" -- grep -q '^aiarchive: request ' <<<"$ERR"
flag_after "-q before verify" 0 "$AIARCHIVE" -q verify --dest "$D"
check_eq "-q before verify: prints nothing" "" "$OUT$ERR"
flag_after "--json before status" 0 "$AIARCHIVE" --json status --dest "$D"
check "--json before status: JSON" -- jq -e .dest <<<"$OUT"
flag_after "mixed: -q before, --json after" 0 "$AIARCHIVE" -q status --dest "$D" --json
check "  JSON still" -- jq -e . <<<"$OUT"

# -c after the command.
printf 'dest = %s\n' "$D" >"$TEST_TMP/c.conf"
flag_after "status -c FILE" 0 "$AIARCHIVE" status --json -c "$TEST_TMP/c.conf"
check "  the config's dest was read" -- jq -e '.dest | test("dst")' <<<"$OUT"
flag_after "status --config=FILE" 0 "$AIARCHIVE" status --config="$TEST_TMP/c.conf" -q
check_eq "  and -q" "" "$OUT$ERR"

# Errors: an option of a command before the command, a typo, a missing value.
NO_CLOSING_LINE=1 check_exit 2 "a command's option before the command" -- \
	"$AIARCHIVE" --dest "$D" status
check "  says to put it after the command's name" -- \
	grep -q "option '--dest' is unknown; it is an option of .*: put it after the command's name" <<<"$LAST_OUTPUT"
check_exit 2 "a typo of an option after the command" -- "$AIARCHIVE" status --dest "$D" --jsno
check "  suggests the nearest name" -- grep -q "option '--jsno' is unknown; did you mean --json?" <<<"$LAST_OUTPUT"
check_exit 2 "-c after the command without its value" -- "$AIARCHIVE" status --dest "$D" -c
check "  says it needs a value" -- grep -q "option '--config' needs a value (FILE)" <<<"$LAST_OUTPUT"
check_exit 2 "a flag given a value" -- "$AIARCHIVE" gc --dest "$D" --dry-run=yes
check "  says it takes none" -- grep -q "option '--dry-run' takes no value" <<<"$LAST_OUTPUT"

# Values: a duration needs its unit, a bad time lists the forms, a config
# key's typo names the nearest key.
check_exit 2 "--lookback 2 (no unit)" -- "$AIARCHIVE" run --source "$S" --dest "$D" --key "$key" --lookback 2
check "  asks 2 what?" -- grep -q -- "--lookback 2: 2 what? e.g. 2h" <<<"$LAST_OUTPUT"
check_exit 2 "--jobs 65, past the most workers" -- "$AIARCHIVE" run --source "$S" --dest "$D" \
	--key "$key" --jobs 65
check "  gives the range" -- grep -q "bad value '65' for --jobs (N: a whole number from 1 to 64)" \
	<<<"$LAST_OUTPUT"
check_exit 2 "a bad time" -- "$AIARCHIVE" query --dest "$D" --from yesterday
check "  lists the accepted forms" -- \
	grep -q "bad value 'yesterday' for --from: a time is 2026-11-20T13:05:00Z .*now-DUR" <<<"$LAST_OUTPUT"
printf 'lookbak = 2h\n' >"$TEST_TMP/typo.conf"
check_exit 2 "a config key's typo" -- "$AIARCHIVE" -c "$TEST_TMP/typo.conf" status --dest "$D"
check "  names the nearest key" -- grep -q "unknown key 'lookbak'; did you mean 'lookback'?" <<<"$LAST_OUTPUT"
printf 'sort = time\n' >"$TEST_TMP/cli-only.conf"
check_exit 2 "a config key that is an option of the command line only" -- \
	"$AIARCHIVE" -c "$TEST_TMP/cli-only.conf" status --dest "$D"
check "  says so" -- grep -q "unknown key 'sort' (--sort is an option of the command line only" \
	<<<"$LAST_OUTPUT"

# The global options from the environment (they have no config keys).
check "AIARCHIVE_JSON=true: status's result is JSON" -- bash -c \
	"AIARCHIVE_JSON=true '$AIARCHIVE' status --dest '$D' | jq -e 'type == \"object\"'"
check "AIARCHIVE_VERBOSE=2: one line per storage request" -- bash -c \
	"AIARCHIVE_VERBOSE=2 '$AIARCHIVE' status --dest '$D' 2>&1 >/dev/null | grep -q '^aiarchive: request '"
check "AIARCHIVE_QUIET=true: nothing on stderr from status" -- bash -c \
	"[ -z \"\$(AIARCHIVE_QUIET=true '$AIARCHIVE' status --dest '$D' 2>&1 >/dev/null)\" ]"
NO_CLOSING_LINE=1 check_exit 2 "AIARCHIVE_JSON=maybe" -- env AIARCHIVE_JSON=maybe "$AIARCHIVE" status --dest "$D"
check "  names the variable and its values" -- \
	grep -q "environment variable AIARCHIVE_JSON: bad value 'maybe' (true or false)" <<<"$LAST_OUTPUT"

# A shortened option is refused (getopt would take it): --key is not
# --key-id, and a later option cannot make an old command line mean
# something else.
check_exit 2 "verify --key (short for --key-id)" -- "$AIARCHIVE" verify --dest "$D" --key "$key"
check "  names the option it is short for" -- \
	grep -q "option '--key' is short for '--key-id': write it in full" <<<"$LAST_OUTPUT"
check_exit 2 "gc --dry, after --dest=URL" -- "$AIARCHIVE" gc --dest="$D" --dry
check "  names --dry-run" -- grep -q "option '--dry' is short for '--dry-run'" <<<"$LAST_OUTPUT"
NO_CLOSING_LINE=1 check_exit 2 "--js before the command" -- "$AIARCHIVE" --js status --dest "$D"
check "  names --json" -- grep -q "option '--js' is short for '--json'" <<<"$LAST_OUTPUT"
check_exit 0 "the full names with = values still work" -- "$AIARCHIVE" status --dest="$D" --json
# A misspelt command: the nearest one, and a JSON error under --json
# wherever --json stands.
NO_CLOSING_LINE=1 check_exit 2 "a misspelt command" -- "$AIARCHIVE" stauts --dest "$D"
check "  suggests the nearest" -- grep -q "unknown command 'stauts'; did you mean 'status'?" \
	<<<"$LAST_OUTPUT"
check "  with --json after it: the error object on stdout" -- bash -c \
	"'$AIARCHIVE' stauts --json 2>/dev/null | jq -e '.error.code == \"usage\" and .error.object == \"stauts\"'"

# --help of a command shows the global options, from the same table.
check "status --help has a global options block" -- bash -c \
	"'$AIARCHIVE' status --help | grep -A4 '^global options' | grep -q -- '--json'"
check_eq "the block is the main --help's, less -h and -V" \
	"$("$AIARCHIVE" --help | sed -n '/^global options/,/^$/p' | grep -v -e '--help' -e '--version' | sed 1d)" \
	"$("$AIARCHIVE" status --help | sed -n '/^global options/,/^$/p' | sed 1d)"
tap_done
