#!/usr/bin/env bash
# run_crash.sh: `aiarchive run` killed with SIGKILL at many points of its
# pipeline (listing, reading, pack blocks, pack commits and signatures, the
# segment and its signature, the state, the lock), then run again: the
# archive ends up the same as after a clean run. Checked with stock tools:
# the segments are decoded by tools/manifest-dump, and everything else is
# minisign, sha256sum, tail/head/zcat and diff (archive_lib.sh).
#
# The kill points come from a test hook in src/store.c: with
# AIARCHIVE_TEST_KILL_AFTER=N the run sends itself SIGKILL at the start of
# its Nth storage call (=count prints the number of calls of a whole run).
# Source and destination are local directories (on tmpfs when there is one,
# so that fsync is cheap) and --jobs 1 makes the order of calls fixed.
#
# A killed run leaves its lock lease behind. Waiting for it to expire after
# every kill would take 15 s each time, so after a kill the test removes the
# file store's lease files (.aiarchive-store/leases/), which is what expiry
# amounts to; one case at the end waits for a real expiry instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
archive_tools_needed

work=$TEST_TMP
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	work=$(mktemp -d /dev/shm/aiarchive-crash.XXXXXX) || bail_out "mktemp failed"
	on_exit rm -rf "$work"
fi
src="$work/src" key="$TEST_TMP/key"
"$AIGEN" --out "$src" --layout continuous --apps 2 --hours 1 --blobs-per-hour 2 --seed 7 >/dev/null ||
	bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
pub="$key.pub"

# run DEST [OPTIONS]: one run of the whole export into DEST.
run() {
	local d=$1; shift
	"$AIARCHIVE" --json run --source "file://$src/appinsights-export" --dest "file://$d" \
		--key "$key" --jobs 1 --lock-duration 15s "$@"
}

# Stands for the expiry of a killed run's lease (see the top).
expire_lease() {
	rm -rf "$1"/.aiarchive-store/leases/*
}

# Every source line (a missing final newline added, as the archive does).
find "$src/appinsights-export" -type f -name '*.blob' -print0 | sort -z | xargs -0 awk 1 |
	sort >"$work/source.lines"

# verify_archive DEST: the chain, the signatures and the data of DEST
# (archive_lib.sh); prints what is wrong and fails. Leaves $work/dump.tsv.
verify_archive() {
	local d=$1 dump="$work/dump.tsv"
	[ -f "$d/manifest/segments/000000000000.seg" ] || { echo "no segment"; return 1; }
	chain_ok "$d" "$pub" || return 1
	minisign -Vq -p "$pub" -m "$d/manifest/state" || { echo "state: bad signature"; return 1; }
	cmp -s "$pub" "$(echo "$d"/keys/*.pub)" || { echo "the public key is not published"; return 1; }
	archive_dump "$d" "$dump" || { echo "manifest-dump failed"; return 1; }
	diff <(dump_members "$dump") "$work/clean.members" >"$work/diff" ||
		{ echo "members differ from a clean run's:"; head -20 "$work/diff"; return 1; }
	packs_ok "$d" "$dump"
}

# verify_deep DEST: after verify_archive, each member cut out of its pack by
# offset and length is one gzip member holding exactly its source blob, and
# every referenced pack's own signature verifies.
verify_deep() {
	local d=$1 kind pack off len blob
	while IFS=$'\t' read -r kind _ pack off len blob _; do
		case $kind in
		pack)
			minisign -Vq -p "$pub" -m "$d/$pack" || { echo "pack $pack: bad signature"; return 1; } ;;
		member)
			cmp -s <(tail -c +$((off + 1)) "$d/$pack" | head -c "$len" | zcat) \
				<(awk 1 "$src/appinsights-export/$blob") ||
				{ echo "member $blob (pack $pack at $off+$len) is not its source"; return 1; } ;;
		esac
	done < <(awk -F'\t' '$1 == "pack" { print "pack\t-\t" $3 } $1 == "member"' "$work/dump.tsv")
}

# ---- a clean run, and how many storage calls it makes

clean="$work/clean"
ai_init "file://$clean" "$key" || bail_out "init failed"
out=$(AIARCHIVE_TEST_KILL_AFTER=count run "$clean" 2>"$work/count.err")
nblobs=$(find "$src/appinsights-export" -type f | wc -l)
check "a clean run archives the export" -- \
	jq -e --argjson n "$nblobs" '.blobs == $n and .failed == 0 and .segment == 0' <<<"$out"
total=$(sed -n 's/^aiarchive: test hook: \([0-9]*\) storage calls$/\1/p' "$work/count.err")
check "the test hook counts the storage calls ($total)" -- test "${total:-0}" -gt 60
[ "${total:-0}" -gt 60 ] || bail_out "cannot count storage calls: $(cat "$work/count.err")"
archive_dump "$clean" "$work/clean.dump" || bail_out "manifest-dump failed"
dump_members "$work/clean.dump" >"$work/clean.members"
check_eq "the clean run has one member per blob" "$nblobs" "$(wc -l <"$work/clean.members")"
check "the clean archive verifies" -- verify_archive "$clean"
check "each member of the clean archive cuts out as its source blob" -- verify_deep "$clean"

# ---- one kill, then a run to the end

# kill_then_finish DEST K: a run killed at storage call K, then a full run.
kill_then_finish() {
	local d=$1 k=$2 rc=0
	rm -rf "$d"
	forget_checkpoints
	ai_init "file://$d" "$key" || { echo "init failed"; return 1; }
	AIARCHIVE_TEST_KILL_AFTER=$k run "$d" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || { echo "the run was not killed at call $k (exit $rc)"; return 1; }
	expire_lease "$d"
	run "$d" >"$work/rerun.json" 2>"$work/rerun.err" ||
		{ echo "the rerun failed:"; cat "$work/rerun.err"; return 1; }
	verify_archive "$d"
}

# Fifty calls or more spread over the whole run, and each of the last ten
# (the segment, its signature, the state, its signature and the lock).
step=$((total / 50))
[ "$step" -ge 1 ] || step=1
points=$( { seq 1 "$step" "$total"; seq $((total - 9)) "$total"; } | sort -n | uniq)
npoints=$(wc -w <<<"$points")
i=0
for k in $points; do
	i=$((i + 1))
	check "killed at storage call $k of $total, the next run completes the job" -- \
		kill_then_finish "$work/k" "$k"
	# Twice: the deep check, and a further run that finds nothing to do.
	if [ "$i" -eq $((npoints / 2)) ] || [ "$k" -eq $((total - 4)) ]; then
		check "  after the kill at $k: every member cuts out as its source blob" -- verify_deep "$work/k"
		check_exit 0 "  after the kill at $k: a further run succeeds" -- run "$work/k"
		check "  after the kill at $k: it archives nothing" -- jq -e '.blobs == 0 and .segment == -1' <<<"$LAST_OUTPUT"
	fi
done
check "at least 50 kill points ($npoints)" -- test "$npoints" -ge 50

# ---- two kills in a row: the rerun is killed too

# kill_kill_finish DEST K1 K2: killed at K1, the next run killed at K2 (or
# finished, if it makes fewer calls), then a run to the end.
kill_kill_finish() {
	local d=$1 rc=0
	rm -rf "$d"
	forget_checkpoints
	ai_init "file://$d" "$key" || { echo "init failed"; return 1; }
	AIARCHIVE_TEST_KILL_AFTER=$2 run "$d" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || { echo "the first run was not killed (exit $rc)"; return 1; }
	expire_lease "$d"
	rc=0
	AIARCHIVE_TEST_KILL_AFTER=$3 run "$d" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || [ "$rc" -eq 0 ] || { echo "the second run exited $rc"; return 1; }
	expire_lease "$d"
	run "$d" >/dev/null 2>"$work/rerun.err" || { echo "the last run failed:"; cat "$work/rerun.err"; return 1; }
	verify_archive "$d"
}
for pair in "$((total / 3)) $((total / 2))" "$((total / 2)) 20" "$((total - 6)) $((total - 6))" \
	"$((total - 3)) 5" "$((total / 4)) $((total - 8))"; do
	set -- $pair
	check "killed at call $1, the next run killed at call $2, a third run completes the job" -- \
		kill_kill_finish "$work/kk" "$1" "$2"
done

# ---- a real lease expiry

d="$work/expiry"
ai_init "file://$d" "$key" || bail_out "init failed"
rc=0
AIARCHIVE_TEST_KILL_AFTER=$((total / 2)) run "$d" >/dev/null 2>&1 || rc=$?
check_eq "a run killed half way (lock duration 15 s)" 137 "$rc"
check_exit 5 "the next run, before the lease expires, exits 5" -- run "$d"
# (--json: the error object on stdout, the one line on stderr)
check "it names the holder in one line" -- bash -c \
	'l=$(grep -v "^{" <<<"$1"); [ "$(printf "%s\n" "$l" | wc -l)" -eq 1 ] && grep -q "another run holds the lock: host .* pid [0-9]* run " <<<"$l"' \
	_ "$LAST_OUTPUT"
t0=$SECONDS
check_exit 0 "with --wait the next run takes the lock over once the lease expires" -- run "$d" --wait
waited=$((SECONDS - t0))
check "it waited for the expiry, no longer than ~20 s ($waited s)" -- test "$waited" -le 21
check "that run completes the job" -- verify_archive "$d"
tap_done
