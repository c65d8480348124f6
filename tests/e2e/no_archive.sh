#!/usr/bin/env bash
# no_archive.sh: the readers (verify, status, query, cat) and gc on a
# location that holds no archive (an empty directory, one that does not
# exist, an empty Azurite container, one that does not exist) exit 2 with
# "no archive at URL" in one line, and write nothing there; an archive
# init made, with no run yet, is an archive: they exit 0.
. "$(dirname "$0")/lib.sh"
require_azurite
azurite_start DST || bail_out "azurite did not start"
export AIARCHIVE_DEST_KEY="$AZURITE_KEY"
export XDG_CACHE_HOME="$TEST_TMP/cache" STATE_DIRECTORY="$TEST_TMP/state"
key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"

blobtool_at DST mkcontainer empty >/dev/null || bail_out "mkcontainer failed"
mkdir -p "$TEST_TMP/empty"
for url in "file://$TEST_TMP/empty" "file://$TEST_TMP/none" "$DST_URL/empty" "$DST_URL/nosuch"; do
	for cmd in verify status query cat gc; do
		check_exit 2 "$cmd on $url (no archive) exits 2" -- "$AIARCHIVE" "$cmd" --dest "$url"
		check "in one line: no archive at $url" -- bash -c '
			[ "$(printf "%s\n" "$1" | wc -l)" -eq 1 ] &&
			grep -qxF "aiarchive: error: no archive at $2 (make one with '\''aiarchive init --dest $2 --key FILE'\'')" <<<"$1"' \
			_ "$LAST_OUTPUT" "$url"
	done
	check_exit 2 "gc --dry-run on $url exits 2 too" -- "$AIARCHIVE" gc --dest "$url" --dry-run
done
check_eq "nothing was written into the empty directory" "" "$(find "$TEST_TMP/empty" -mindepth 1)"
check "the directory that did not exist still does not" -- test ! -e "$TEST_TMP/none"
check_eq "nothing was written into the empty container" "" "$(blobtool_at DST list empty)"
containers=$(blobtool_at DST list-containers)
check "the container that did not exist still does not" -- bash -c '! grep -qx nosuch <<<"$1"' \
	_ "$containers"
check "no checkpoint was left in the state directory" -- bash -c '
	[ ! -e "$1" ] || [ -z "$(find "$1" -type f)" ]' _ "$STATE_DIRECTORY"

# An archive init made, nothing archived yet.
for url in "file://$TEST_TMP/empty" "$DST_URL/empty"; do
	check "init makes $url an archive" -- ai_init "$url" "$key"
	for cmd in verify status query cat; do
		check_exit 0 "$cmd on the new archive at $url exits 0" -- "$AIARCHIVE" "$cmd" --dest "$url"
	done
	check_eq "query lists nothing there" "" "$("$AIARCHIVE" query --dest "$url" --format jsonl)"
	check_eq "cat prints nothing there" "" "$("$AIARCHIVE" cat --dest "$url")"
	check_exit 0 "gc on the new archive at $url exits 0" -- \
		"$AIARCHIVE" gc --dest "$url" --older-than 0s --lock-duration 15s
done

tap_done
