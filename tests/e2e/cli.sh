#!/usr/bin/env bash
# cli.sh: the command line itself: help, version, unknown commands and
# options give one line and exit 2 (before any command runs: no closing
# line); a command's failure ends with the closing line.
. "$(dirname "$0")/lib.sh"

check "--help prints usage and exits 0" -- "$AIARCHIVE" --help
check_exit 0 "version exits 0" -- "$AIARCHIVE" version
check "version names the package" -- grep -q '^aiarchive [0-9]' <<<"$LAST_OUTPUT"
NO_CLOSING_LINE=1 check_exit 2 "unknown command exits 2" -- "$AIARCHIVE" frobnicate
check "unknown command error is one line naming it" -- \
	test "$(printf '%s\n' "$LAST_OUTPUT" | wc -l)" -eq 1 -a -n "$(grep -F "'frobnicate'" <<<"$LAST_OUTPUT")"
NO_CLOSING_LINE=1 check_exit 2 "unknown global option exits 2" -- "$AIARCHIVE" --frobnicate version
check "unknown option error is one line" -- test "$(printf '%s\n' "$LAST_OUTPUT" | wc -l)" -eq 1
NO_CLOSING_LINE=1 check_exit 2 "missing command exits 2" -- "$AIARCHIVE"
check_eq "  no command ran: no closing line" "" "$LAST_CLOSING"
check_exit 2 "unexpected argument to version exits 2" -- "$AIARCHIVE" version extra
check "  a command's usage error: its closing line names it and what comes next" -- \
	grep -qE "^aiarchive: version: .*; nothing was changed; the next 'aiarchive version' fails the same way until the command line or the configuration is fixed; exit 2$" <<<"$LAST_CLOSING"
check_exit 0 "--json version" -- "$AIARCHIVE" --json version
check "--json version is JSON" -- jq -e .version <<<"$LAST_OUTPUT"
check_exit 2 "the example config parses (keygen then asks for -o)" -- \
	"$AIARCHIVE" -c "$top_srcdir/etc/aiarchive.conf.example" keygen
check "and the complaint is -o, not the config" -- grep -q -- "-o PATH is required" <<<"$LAST_OUTPUT"
printf 'no-such-key = 1\n' >"$TEST_TMP/bad.conf"
check_exit 2 "an unknown config key is an error" -- "$AIARCHIVE" -c "$TEST_TMP/bad.conf" keygen -o "$TEST_TMP/k"
check "naming the file and line" -- grep -q "bad.conf' line 1: unknown key 'no-such-key'" <<<"$LAST_OUTPUT"
check_exit 2 "query has no --jobs (it reads one object at a time)" -- \
	"$AIARCHIVE" query --jobs 4 --dest "file://$TEST_TMP/none"
check "and says so" -- grep -q "option '--jobs' is unknown" <<<"$LAST_OUTPUT"
printf 'format = csv\n' >"$TEST_TMP/csv.conf"
check_exit 2 "a config's format is query's: cat goes on (to the missing archive)" -- \
	"$AIARCHIVE" -c "$TEST_TMP/csv.conf" cat --dest "file://$TEST_TMP/none"
check "and complains about the archive, not the format" -- grep -q "no archive at" <<<"$LAST_OUTPUT"
check "every command in --help has its own --help" -- bash -c '
	for c in $("$0" --help | awk "/^commands:/{f=1;next} /^$/{f=0} f{print \$1}"); do
		"$0" "$c" --help >/dev/null || exit 1
	done' "$AIARCHIVE"
check "the man page renders without warnings" -- bash -c \
	"! MANWIDTH=80 man --warnings -l '$top_builddir/doc/aiarchive.1' 2>&1 >/dev/null | grep -q ."
tap_done
