#!/usr/bin/env bash
# full_disk.sh: a full file system under a file:// destination, under the
# state directory, and under `status --prom`, on small tmpfs mounts in a
# mount namespace of the test's own (unshare -rm: as root, or in a user
# namespace). Each failure is said in readable lines that name the object
# and "No space left on device"; nothing is recorded that is not stored in
# full; once there is room again the next run archives the rest, every
# source line exactly once, and the archive verifies.
if [ -z "${FULL_DISK_NS:-}" ]; then
	# Before lib.sh: its temporary directory and traps belong to the
	# process that runs the checks.
	if ! unshare -rm true 2>/dev/null; then
		echo "1..0 # SKIP no mount namespace for small tmpfs mounts (unshare -rm)"
		exit 0
	fi
	exec env FULL_DISK_NS=1 unshare -rm bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
archive_tools_needed

disk="$TEST_TMP/disk" sdisk="$TEST_TMP/sdisk" src="$TEST_TMP/src" key="$TEST_TMP/key"
mkdir -p "$disk" "$sdisk"
mount -t tmpfs -o size=96k tmpfs "$disk" || skip_all "cannot mount a tmpfs"
mount -t tmpfs -o size=64k tmpfs "$sdisk" || skip_all "cannot mount a tmpfs"
on_exit umount "$disk" "$sdisk"
"$AIGEN" --out "$src" --layout continuous --apps 2 --hours 1 --seed 23 \
	--from "$(date -u -d '-3 hours' +%Y-%m-%dT%H)" >/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
find "$src/appinsights-export" -type f -print0 | sort -z | xargs -0 awk 1 | sort >"$TEST_TMP/source.lines"
nblobs=$(find "$src/appinsights-export" -type f | wc -l)
dst="$disk/arch"
ai_init "file://$dst" "$key" >/dev/null || bail_out "init failed"

# run [OPTIONS]: the whole export into $dst (or $into).
run() {
	"$AIARCHIVE" --json run --source "file://$src/appinsights-export" \
		--dest "file://${into:-$dst}" --key "$key" --jobs 2 --state-dir "$TEST_TMP/state" "$@"
}

# archived_once: every source line in a referenced pack exactly once, every
# referenced pack there in full, the chain signed and linked.
archived_once() {
	archive_dump "$dst" "$TEST_TMP/dump" || return 1
	chain_ok "$dst" "$key.pub" || return 1
	dump_tiling "$TEST_TMP/dump" || return 1
	referenced_exist "$dst" "$TEST_TMP/dump" || return 1
	referenced_lines "$dst" "$TEST_TMP/dump" | diff - "$TEST_TMP/source.lines" | head -20 |
		awk '{ print } END { exit NR > 0 }'
}

# ---- the destination fills up half way through the packs

check_exit 1 "a run onto a destination that fills up exits 1" -- run
out=$LAST_OUTPUT
check "  its warnings name the pack and the full disk" -- \
	grep -q "^aiarchive: warning: blob 'data/.*': cannot write: No space left on device" <<<"$out"
check "  and its closing line says so" -- bash -c \
	'grep "^{\"error\"" <<<"$1" | jq -e ".error.exit == 1 and (.error.message | test(\"No space left on device\"))"' \
	_ "$out"
check "  no temporary file is left on the full disk" -- \
	test -z "$(ls -A "$dst/.aiarchive-store/tmp")"
check "  whatever a segment records is stored in full" -- bash -c '
	[ ! -d "$1/manifest/segments" ] || [ -z "$(ls "$1/manifest/segments")" ] && exit 0
	archive_dump "$1" "$2" && dump_tiling "$2" && referenced_exist "$1" "$2"' _ "$dst" "$TEST_TMP/dump"
mount -o remount,size=8m "$disk" || bail_out "cannot grow the tmpfs"
check_exit 0 "with room again the next run succeeds" -- run
check "every line archived exactly once" -- archived_once
check_exit 0 "  and verify --data is ok" -- "$AIARCHIVE" verify --dest "file://$dst" \
	--pubkey "$key.pub" --data

# ---- the state directory is full: the witness's checkpoint and the
# host's outcome record cannot be written

head -c 1m /dev/zero >"$sdisk/filler" 2>/dev/null
# a new archive, so that the run commits a segment: it tries a checkpoint
# after the segment and again at its end
into=$disk/arch2
ai_init "file://$into" "$key" >/dev/null || bail_out "init failed"
check_exit 1 "a run whose state directory is full exits 1" -- \
	run --state-dir "$sdisk/state"
out=$LAST_OUTPUT
check "  naming the witness checkpoint and the full disk" -- grep -q \
	"^aiarchive: error: witness 'file://$sdisk/state/witness/.*': checkpoint not written (.*No space left on device)" \
	<<<"$out"
check_eq "  in one line, not once per checkpoint the run tries" 1 \
	"$(grep -c "^aiarchive: error: witness .*checkpoint not written" <<<"$out")"
check "  and the outcome record and the full disk" -- grep -q \
	"^aiarchive: warning: outcome '$sdisk/state/outcome/.*': not written (No space left on device)" <<<"$out"
rm -f "$sdisk/filler"
check_exit 0 "with room again the next run succeeds" -- \
	run --state-dir "$sdisk/state"
check "  and its checkpoint verifies" -- bash -c \
	'minisign -Vq -p "$2" -m "$1"/state/witness/*.ckpt' _ "$sdisk" "$key.pub"

# ---- status --prom onto a full file system

head -c 1m /dev/zero >"$sdisk/filler" 2>/dev/null
check_exit 1 "status --prom onto a full file system exits 1" -- \
	"$AIARCHIVE" status --dest "file://$dst" --pubkey "$key.pub" --prom "$sdisk/aiarchive.prom"
check "  naming the file and the full disk" -- \
	grep -q "^aiarchive: error: prom '$sdisk/aiarchive.prom.tmp.*': cannot write: No space left on device" \
	<<<"$LAST_OUTPUT"
check "  and leaving no temporary file" -- bash -c '! ls "$1"/aiarchive.prom* 2>/dev/null | grep -q .' _ "$sdisk"
rm -f "$sdisk/filler"
check_exit 0 "with room again status --prom writes the file" -- \
	"$AIARCHIVE" status --dest "file://$dst" --pubkey "$key.pub" --prom "$sdisk/aiarchive.prom"
check "  the metrics" -- grep -q "^aiarchive_segments " "$sdisk/aiarchive.prom"
tap_done
