#!/usr/bin/env bash
# run_segments.sh: a large run records its members in several segments, one
# each time a segment's worth of packs is committed (a test hook shrinks the
# bound from 50,000 to 7 members). The archive must read as one clean run's:
# every source line once, the chain signed and linked, verify --data clean,
# query listing every member; and a run killed between two of its segments
# leaves records only for committed data, which the next run completes
# without archiving anything twice. Checked with tools/manifest-dump, zcat,
# sha256sum and minisign (archive_lib.sh), and with aiarchive verify/query.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
archive_tools_needed
export XDG_CACHE_HOME="$TEST_TMP/xdg-cache"

work=$TEST_TMP
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	work=$(mktemp -d /dev/shm/aiarchive-segments.XXXXXX) || bail_out "mktemp failed"
	on_exit rm -rf "$work"
fi
# Ten blobs per app, type and hour: a partition's pack is cut at seven
# members, so packs of 7 and 3 meet the segment bound of 7.
src="$work/src" key="$TEST_TMP/key" bound=7
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 1 --blobs-per-hour 10 --seed 3 \
	--faults nofinalnl,empty >/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
pub="$key.pub"
nblobs=$(find "$src/appinsights-export" -type f -name '*.blob' | wc -l)

# run DEST [OPTIONS]: one run of the whole export into DEST, JSON summary.
run() {
	local d=$1; shift
	AIARCHIVE_TEST_SEGMENT_MEMBERS=$bound "$AIARCHIVE" --json run \
		--source "file://$src/appinsights-export" --dest "file://$d" --key "$key" \
		--lock-duration 15s "$@"
}

# A killed run's lease, expired (the file store keeps leases under .aiarchive-store/leases/).
expire_lease() {
	rm -rf "$1"/.aiarchive-store/leases/*
}

find "$src/appinsights-export" -type f -name '*.blob' -print0 | sort -z | xargs -0 awk 1 |
	sort >"$work/source.lines"
(cd "$src/appinsights-export" && find . -type f -name '*.blob' | sed 's|^\./||' | sort) \
	>"$work/source.blobs"

# members_of DUMP: the source blob of every member, sorted (duplicates kept).
members_of() {
	awk -F'\t' '$1 == "member" { print $6 }' "$1" | sort
}

# archive_ok DEST: the chain, the signatures, the data, and one member per
# source blob; prints what is wrong and fails. Leaves $work/dump.tsv.
archive_ok() {
	local d=$1 dump="$work/dump.tsv"
	chain_ok "$d" "$pub" || return 1
	minisign -Vq -p "$pub" -m "$d/manifest/state" || { echo "state: bad signature"; return 1; }
	archive_dump "$d" "$dump" || { echo "manifest-dump failed"; return 1; }
	diff <(members_of "$dump") "$work/source.blobs" >"$work/diff" ||
		{ echo "members are not one per source blob:"; head -20 "$work/diff"; return 1; }
	packs_ok "$d" "$dump"
}

# ---- one run, several segments

dst="$work/dst"
ai_init "file://$dst" "$key" || bail_out "init failed"
check_exit 0 "a run with a bound of $bound members per segment" -- run "$dst"
sum=$LAST_OUTPUT
nsegs=$(find "$dst/manifest/segments" -name '*.seg' | wc -l)
check "it wrote several segments ($nsegs for $nblobs blobs)" -- test "$nsegs" -ge $((nblobs / (2 * bound)))
check "the summary counts every blob and names the segments 0-$((nsegs - 1))" -- \
	jq -e --argjson n "$nblobs" --argjson s "$nsegs" '.blobs == $n and .failed == 0 and
		.segments == {first: 0, last: ($s - 1), count: $s} and .segment == $s - 1' <<<"$sum"
check "the archive is one member per source blob, every line once, chain signed" -- archive_ok "$dst"
cp "$work/dump.tsv" "$work/clean.dump"
# Segments hold whole packs: at least the bound (but the last), less than twice it.
check "each segment holds whole packs, from $bound to $((2 * bound - 1)) members (the last fewer)" -- \
	awk -F'\t' -v b="$bound" -v n="$nsegs" '$1 == "segment" {
		if ($5 >= 2 * b || ($5 < b && $2 != n - 1) || $5 == 0) { print "segment " $2 ": " $5; bad = 1 } }
		END { exit bad }' "$work/clean.dump"
check "the summary's packs and bytes are the segments'" -- jq -e \
	--argjson p "$(awk -F'\t' '$1 == "pack"' "$work/clean.dump" | wc -l)" \
	--argjson b "$(awk -F'\t' '$1 == "pack" { s += $4 } END { print s + 0 }' "$work/clean.dump")" \
	'.packs == $p and .bytes_out == $b' <<<"$sum"
check_exit 0 "verify --data" -- "$AIARCHIVE" verify --data --dest "file://$dst" --pubkey "$pub"
check "verify read every segment" -- grep -q "verified $nsegs segments ($nblobs members)" <<<"$LAST_OUTPUT"
check "query lists every member" -- bash -c \
	'diff <("$1" query --dest "file://$2" --format jsonl | jq -r .blob | sort) "$3"' \
	_ "$AIARCHIVE" "$dst" "$work/source.blobs"
check_exit 0 "a second run succeeds" -- run "$dst"
check "it archives nothing and writes no segment" -- \
	jq -e '.blobs == 0 and .segment == -1 and .segments == null' <<<"$LAST_OUTPUT"
check_eq "the segments are as before" "$nsegs" "$(find "$dst/manifest/segments" -name '*.seg' | wc -l)"

d="$work/human"
ai_init "file://$d" "$key" || bail_out "init failed"
ai_init "file://$work/one" "$key" || bail_out "init failed"
check_exit 0 "without --json, a run" -- env AIARCHIVE_TEST_SEGMENT_MEMBERS=$bound "$AIARCHIVE" run \
	--source "file://$src/appinsights-export" --dest "file://$d" --key "$key"
n=$(find "$d/manifest/segments" -name '*.seg' | wc -l)
check "its summary names the segments written (0-$((n - 1)))" -- grep -q ", segments 0-$((n - 1));" <<<"$LAST_OUTPUT"
check_exit 0 "without the hook, the same export makes one segment" -- \
	"$AIARCHIVE" --json run --source "file://$src/appinsights-export" --dest "file://$work/one" \
	--key "$key"
check "  segment 0, counted once" -- \
	jq -e '.segment == 0 and .segments == {first: 0, last: 0, count: 1}' <<<"$LAST_OUTPUT"
check_exit 2 "a bad AIARCHIVE_TEST_SEGMENT_MEMBERS is refused" -- env AIARCHIVE_TEST_SEGMENT_MEMBERS=0 \
	"$AIARCHIVE" run --source "file://$src/appinsights-export" --dest "file://$work/bad" --key "$key"

# ---- killed between segments

count_err="$work/count.err"
ai_init "file://$work/count" "$key" || bail_out "init failed"
AIARCHIVE_TEST_KILL_AFTER=count run "$work/count" --jobs 1 >/dev/null 2>"$count_err" ||
	bail_out "the counting run failed"
total=$(sed -n 's/^aiarchive: test hook: \([0-9]*\) storage calls$/\1/p' "$count_err")
[ "${total:-0}" -gt 100 ] || bail_out "cannot count storage calls: $(cat "$count_err")"

# state_covers DEST: how many segments DEST's state covers, as verify reads it.
state_covers() {
	"$AIARCHIVE" --json verify --dest "file://$1" --pubkey "$pub" 2>/dev/null |
		jq -r '.state.next_seq // "none"'
}

# kill_then_finish DEST K: a run killed at storage call K, which must not
# have got to the state; then a run to the end, which archives exactly what
# the segments left behind (if any) do not record.
kill_then_finish() {
	local d=$1 k=$2 rc=0 before recorded
	rm -rf "$d"
	forget_checkpoints
	ai_init "file://$d" "$key" || { echo "init failed"; return 1; }
	AIARCHIVE_TEST_KILL_AFTER=$k run "$d" --jobs 1 >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || { echo "the run was not killed at call $k (exit $rc)"; return 1; }
	before=$(find "$d/manifest/segments" -name '*.seg' 2>/dev/null | wc -l)
	# The state saved before segment 0 covers none; the run's own comes last.
	[ ! -e "$d/manifest/state" ] || [ "$(state_covers "$d")" = 0 ] ||
		{ echo "killed at $k, yet the run's state was written"; return 1; }
	# Workers run ahead of the commits, so where segments fall among the
	# calls varies; the points are checked alike, and some must fall between.
	[ "$before" -eq 0 ] || echo "$k" >>"$work/between"
	archive_dump "$d" "$work/killed.dump" || { echo "manifest-dump failed"; return 1; }
	recorded=$(members_of "$work/killed.dump" | wc -l)
	expire_lease "$d"
	run "$d" --jobs 1 >"$work/rerun.json" 2>"$work/rerun.err" ||
		{ echo "the rerun failed:"; cat "$work/rerun.err"; return 1; }
	jq -e --argjson n $((nblobs - recorded)) --argjson s "$before" \
		'.blobs == $n and .segments.first == $s' "$work/rerun.json" >/dev/null ||
		{ echo "the rerun after $recorded recorded members:"; cat "$work/rerun.json"; return 1; }
	archive_ok "$d"
}

# Quarter, half and three quarters through, and a stretch of consecutive
# calls in the middle long enough to hold a segment, its signature and the
# packs around them.
mid=$((total / 2))
points=$( { echo $((total / 4)) $((3 * total / 4)); seq "$mid" $((mid + 15)); } | tr ' ' '\n' |
	sort -n | uniq)
last=""
for k in $points; do
	check "killed at storage call $k of $total; the rerun completes the job" -- \
		kill_then_finish "$work/k" "$k"
	last=$k
done
check "some kill points fell between segments" -- test -s "$work/between"
check_exit 0 "after the kill at $last: verify --data" -- \
	"$AIARCHIVE" verify --data --dest "file://$work/k" --pubkey "$pub"
check_exit 0 "  a further run succeeds" -- run "$work/k"
check "  and archives nothing" -- jq -e '.blobs == 0 and .segments == null' <<<"$LAST_OUTPUT"

# Killed, and the rerun killed too: the third run completes the job.
d="$work/kk"
ai_init "file://$d" "$key" || bail_out "init failed"
rc=0
AIARCHIVE_TEST_KILL_AFTER=$((total / 3)) run "$d" --jobs 1 >/dev/null 2>&1 || rc=$?
check_eq "a run killed a third of the way" 137 "$rc"
expire_lease "$d"
rc=0
AIARCHIVE_TEST_KILL_AFTER=$((total / 3)) run "$d" --jobs 1 >/dev/null 2>&1 || rc=$?
check_eq "the next run killed a third of its way" 137 "$rc"
expire_lease "$d"
check_exit 0 "a third run" -- run "$d" --jobs 4
check "  completes the job, nothing twice" -- archive_ok "$d"
check_exit 0 "  verify --data" -- "$AIARCHIVE" verify --data --dest "file://$d" --pubkey "$pub"
tap_done
