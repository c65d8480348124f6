#!/usr/bin/env bash
# cli.sh: the command line itself: help, version, unknown commands and
# options give one line and exit 2.
. "$(dirname "$0")/lib.sh"

check "--help prints usage and exits 0" -- "$AIARCHIVE" --help
check_exit 0 "version exits 0" -- "$AIARCHIVE" version
check "version names the package" -- grep -q '^aiarchive [0-9]' <<<"$LAST_OUTPUT"
check_exit 2 "unknown command exits 2" -- "$AIARCHIVE" frobnicate
check "unknown command error is one line naming it" -- \
	test "$(printf '%s\n' "$LAST_OUTPUT" | wc -l)" -eq 1 -a -n "$(grep -F "'frobnicate'" <<<"$LAST_OUTPUT")"
check_exit 2 "unknown global option exits 2" -- "$AIARCHIVE" --frobnicate version
check "unknown option error is one line" -- test "$(printf '%s\n' "$LAST_OUTPUT" | wc -l)" -eq 1
check_exit 2 "missing command exits 2" -- "$AIARCHIVE"
check_exit 2 "unexpected argument to version exits 2" -- "$AIARCHIVE" version extra
check_exit 0 "--json version" -- "$AIARCHIVE" --json version
check "--json version is JSON" -- jq -e .version <<<"$LAST_OUTPUT"
tap_done
