#!/usr/bin/env bash
# run_local.sh: `aiarchive run` from a local export tree into a local
# archive (file:// on both sides): every source line archived exactly once,
# signatures valid for the stock minisign, reruns idempotent, late blobs
# picked up, bad input archived and counted; a state file or segment
# another process keeps locked is reported as busy, by run and by gc.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"

src="$TEST_TMP/src" dst="$TEST_TMP/dst" key="$TEST_TMP/key"
check "generator makes a continuous export with faults" -- \
	"$AIGEN" --out "$src" --layout continuous --apps 2 --hours 3 --seed 11 \
	--faults crlf,blank,nofinalnl,malformed,empty
check_exit 0 "keygen" -- "$AIARCHIVE" keygen -o "$key"
check "init makes the archive" -- ai_init "file://$dst" "$key"
run() {
	"$AIARCHIVE" --json run --source "file://$src/appinsights-export" --dest "file://$dst" \
		--key "$key" "$@"
}

# Lines of every source blob (a missing final newline added, as the
# archive does), and of every pack; of $src and $dst unless given.
source_lines() {
	find "${1:-$src}/appinsights-export" -type f -name '*.blob' -print0 | sort -z |
		xargs -0 -r awk 1 | sort
}
archive_lines() {
	find "${1:-$dst}/data" -type f -name '*.jsonl.gz' -print0 | sort -z | xargs -0 -r zcat | sort
}

check_exit 0 "first run archives the export" -- run
summary=$LAST_OUTPUT
check "summary is JSON with blobs > 0" -- jq -e '.blobs > 0 and .failed == 0' <<<"$summary"
nblobs=$(find "$src/appinsights-export" -type f | wc -l)
check "every source blob became a member" -- test "$(jq .blobs <<<"$summary")" -eq "$nblobs"
check "every source line is archived exactly once" -- \
	diff <(source_lines) <(archive_lines)
check "bad rows are counted" -- jq -e '.bad_rows > 0' <<<"$summary"
check "every pack is one valid gzip stream" -- \
	bash -c "find '$dst/data' -name '*.jsonl.gz' -print0 | xargs -0 -n1 gzip -t"
pub=$(ls "$dst"/keys/*.pub)
check "the public key is published" -- cmp "$pub" "$key.pub"
verify_all() {
	local f
	for f in $(find "$dst/data" "$dst/manifest" -type f ! -name '*.minisig' ! -name '.*' | grep -v '/\.aiarchive'); do
		minisign -Vq -p "$pub" -m "$f" || { echo "bad signature: $f"; return 1; }
	done
}
check "every pack and manifest object verifies with minisign" -- verify_all
check "the first segment exists" -- test -f "$dst/manifest/segments/000000000000.seg"

check_exit 0 "a second run succeeds" -- run
check "a second run archives nothing" -- jq -e '.blobs == 0 and .segment == -1' <<<"$LAST_OUTPUT"
check_exit 9 "--error-on-nothing exits 9" -- run --error-on-nothing
check "no second segment" -- test ! -e "$dst/manifest/segments/000000000001.seg"

# A blob delivered into the current hour after the run, with events days old.
hour_dir="$src/appinsights-export/$(ls "$src/appinsights-export" | head -1)/Requests/$(date -u +%Y-%m-%d)/$(date -u +%H)"
mkdir -p "$hour_dir"
late=$(find "$src/appinsights-export" -name '*.blob' -size +1k | head -1)
cp "$late" "$hour_dir/0badc0de-0000-4000-8000-000000000001_$(date -u +%Y%m%d_%H%M%S).blob"
check_exit 0 "a run after a late delivery" -- run
check "the late blob is archived" -- jq -e '.blobs == 1 and .segment == 1' <<<"$LAST_OUTPUT"
check "still every source line exactly once" -- diff <(source_lines) <(archive_lines)

# The state file kept locked by another process (a reader stopped half way;
# here a shell holding flock(1)'s shared lock) for longer than the file
# store waits: the run cannot replace the state and says so as a busy
# object (exit 5, the next run saves it), not as a state another run
# replaced, which would send the operator after a writer that is not there.
( exec 9<"$dst/manifest/state" && flock -s 9 && exec sleep 100 ) &
holder=$!
sleep 0.5
check_exit 5 "a run whose state another process keeps locked exits 5" -- run
check "  naming the state as locked by another process" -- grep -q \
	"state 'manifest/state': not replaced: blob 'manifest/state': locked by another process for over 30 s" \
	<<<"$LAST_OUTPUT"
check "  not as replaced by another run, nor as a lost lock" -- \
	bash -c '! grep -qE "by another run|lost its lock" <<<"$1"' _ "$LAST_OUTPUT"
# A shard's run reads the state again and merges when another shard saved
# it meanwhile; a busy state is no such change: one wait, not one per try.
t0=$SECONDS
check_exit 5 "a shard's run whose state another process keeps locked exits 5" -- run --shard 0/2
check "  after one wait for the lock, not one per merge attempt ($((SECONDS - t0)) s)" -- \
	test $((SECONDS - t0)) -lt 50
kill "$holder"
wait "$holder" 2>/dev/null
check_exit 0 "once it is free the next run saves the state" -- run
check "  which verifies" -- minisign -Vq -p "$pub" -m "$dst/manifest/state"
check "  and still every source line exactly once" -- diff <(source_lines) <(archive_lines)

# gc reading a segment another process keeps locked: busy (exit 5), not a
# chain it cannot trust (exit 4, "tampering or corruption").
( exec 9<"$dst/manifest/segments/000000000000.seg" && flock -x 9 && exec sleep 60 ) &
holder=$!
sleep 0.5
check_exit 5 "gc while a segment stays locked by another process exits 5" -- \
	"$AIARCHIVE" gc --dest "file://$dst" --pubkey "$key.pub" --older-than 2h
check "  naming the segment as locked by another process" -- grep -q \
	"blob 'manifest/segments/000000000000.seg': locked by another process for over 30 s" \
	<<<"$LAST_OUTPUT"
kill "$holder"
wait "$holder" 2>/dev/null
check_exit 0 "once it is free gc runs" -- \
	"$AIARCHIVE" gc --dest "file://$dst" --pubkey "$key.pub" --older-than 2h

# verify, which has no --wait, reading a segment another process keeps
# locked: exit 5, and its closing line offers no --wait.
( exec 9<"$dst/manifest/segments/000000000000.seg" && flock -x 9 && exec sleep 60 ) &
holder=$!
sleep 0.5
check_exit 5 "verify while a segment stays locked by another process exits 5" -- \
	"$AIARCHIVE" verify --dest "file://$dst" --pubkey "$key.pub"
check "  its closing line says the next verify tries again, offering no --wait" -- bash -c \
	'grep -qE "^aiarchive: verify: .*locked by another process.*; the next .aiarchive verify. tries again; exit 5$" <<<"$1"' \
	_ "$LAST_CLOSING"
kill "$holder"
wait "$holder" 2>/dev/null

# One busy partition (an app, type and hour of 100 blobs) is cut into
# slices for the workers, each slice with a pack of its own.
busy="$TEST_TMP/busy"
"$AIGEN" --out "$busy" --layout continuous --apps 1 --types Requests --hours 1 \
	--blobs-per-hour 100 --rows-per-blob 2 --seed 5 >/dev/null || bail_out "aigen failed"
declare -A packs=()
for j in 1 4; do
	ai_init "file://$TEST_TMP/busy-$j" "$key" || bail_out "init failed"
	check_exit 0 "--jobs $j over one busy partition" -- "$AIARCHIVE" --json run --jobs "$j" \
		--source "file://$busy/appinsights-export" --dest "file://$TEST_TMP/busy-$j" --key "$key"
	packs[$j]=$(jq .packs <<<"$LAST_OUTPUT")
	check "--jobs $j: every line of the busy partition archived once" -- \
		diff <(source_lines "$busy") <(archive_lines "$TEST_TMP/busy-$j")
	check "--jobs $j: the archive verifies" -- \
		"$AIARCHIVE" -q verify --data --dest "file://$TEST_TMP/busy-$j" --pubkey "$key.pub"
done
check_eq "one worker takes the partition whole: one pack" 1 "${packs[1]}"
check_eq "four workers take a slice of 25 blobs each: four packs" 4 "${packs[4]}"

check_exit 0 "dry run exits 0" -- "$AIARCHIVE" run --dry-run \
	--source "file://$src/appinsights-export" --dest "file://$dst" --key "$key"
check_exit 2 "run without --key is a usage error" -- "$AIARCHIVE" run \
	--source "file://$src/appinsights-export" --dest "file://$dst"
check_exit 2 "a missing source is a clear error" -- "$AIARCHIVE" run \
	--source "file://$TEST_TMP/nope" --dest "file://$dst" --key "$key"
check "that error is one line" -- test "$(printf '%s\n' "$LAST_OUTPUT" | wc -l)" -eq 1
chmod 0644 "$key"
check_exit 2 "a group-readable key is refused" -- run
chmod 0600 "$key"
tap_done
