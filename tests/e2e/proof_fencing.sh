#!/usr/bin/env bash
# proof_fencing.sh: a run that lost its lease must not go on committing
# (ARCHITECTURE.md §7.3: today `run` never consults ai_lock_lost and relies
# on create-only segment writes alone). A run A is stopped with SIGSTOP
# after its first segment, while it holds a committed pack no segment names
# yet, and stays stopped past its 15 s lease. Then, on a file:// archive and
# on Azurite:
#
# - takeover: a second run B (--wait) takes the lock, archives the rest and
#   ends; A is resumed. Today A's first commit collides and drops what B
#   archived, but every later batch commits again what B archived: blobs
#   archived twice, and `verify --data` says ok.
# - gc: `gc --wait --older-than 0s` takes the lock and removes A's packs
#   that no segment names yet; A is resumed (then a last run C). Today A
#   commits segments that name the packs gc removed. (gc now keeps what is
#   younger than twice the pack bound, 2h, whatever --older-than says:
#   ARCHITECTURE.md §7.3.)
# - late: A runs with a pack bound of 2 s (AIARCHIVE_TEST_PACK_BOUND) and
#   is stopped for 4 s, less than its lease: continued, it must not name
#   the packs it holds, older than the bound, in a segment (gc may remove
#   such a pack from twice the bound on); it leaves their blobs to the last
#   run C (exit 1).
#
# Expected (the fix): every source line archived exactly once, every
# referenced pack there, `verify --data` ok, and A commits no segment once
# its lease is gone. The four cases run at once, since most of their time is
# the wait for the lease to run out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
. "$(dirname "$0")/proof_lib.sh"
proof_tools_needed

work=$TEST_TMP
src="$work/src" key="$work/key"
export="$src/appinsights-export"
# 160 blobs in 40 partitions of 4: packs of 4 members, segments of 12
# (AIARCHIVE_TEST_SEGMENT_MEMBERS=10 rounds up to whole packs), so a run
# commits some 14 segments and mostly holds a pack waiting for one.
"$AIGEN" --out "$src" --layout continuous --apps 2 --hours 2 --blobs-per-hour 4 --seed 17 \
	>/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
pub="$key.pub"
find "$export" -type f -print0 | sort -z | xargs -0 awk 1 | sort >"$work/source.lines"
seg0=manifest/segments/000000000000.seg

# exec_run URL [OPTIONS]: one run (replacing the calling subshell, so that
# $! is aiarchive's pid), the clock pinned after both hours closed.
exec_run() {
	local d=$1; shift
	ai_init_once "$d" "$key"
	AIARCHIVE_TEST_SEGMENT_MEMBERS=10 AIARCHIVE_NOW=2026-11-20T03 exec "$AIARCHIVE" --json run \
		--source "file://$export" --dest "$d" --key "$key" --jobs 1 --lock-duration 15s "$@"
}

# unrecorded B NAME: how many signed packs no segment names yet.
unrecorded() {
	local d npacks nref
	d=$(archive_tree "$1" "$2") || return 1
	archive_dump "$d" "$d.dump" 2>/dev/null || return 1
	npacks=$(cd "$d" && find data -name '*.jsonl.gz.minisig' 2>/dev/null | wc -l)
	nref=$(awk -F'\t' '$1 == "pack"' "$d.dump" | wc -l)
	echo $((npacks - nref))
}

# scenario B NAME MODE: the whole case, its results in $work/NAME/: A.*,
# B.* or gc.* and C.* (out, err, rc), and fail (why it could not be set
# up) or done.
scenario() {
	local b=$1 v=$2 mode=$3 url out apid n i
	url=$(dest_url "$b" "$v")
	out="$work/$v"
	mkdir -p "$out"
	if [ "$mode" = late ]; then
		(AIARCHIVE_TEST_PACK_BOUND=2s exec_run "$url") >"$out/A.out" 2>"$out/A.err" &
	else
		(exec_run "$url") >"$out/A.out" 2>"$out/A.err" &
	fi
	apid=$!
	echo "$apid" >"$out/A.pid"
	# Observable progress: A's first segment is signed.
	for ((i = 0; i < 600; i++)); do
		obj_exists "$b" "$v" "$seg0.minisig" && break
		kill -0 "$apid" 2>/dev/null || break
		sleep 0.05
	done
	# Stopped where it holds a committed pack no segment names yet.
	for ((i = 0; i < 200; i++)); do
		kill -STOP "$apid" 2>/dev/null || break
		date +%s >"$out/stopped_at"
		n=$(unrecorded "$b" "$v") || n=0
		[ "$n" -gt 0 ] && break
		kill -CONT "$apid"
		sleep 0.02
	done
	if ! kill -0 "$apid" 2>/dev/null || [ "${n:-0}" -le 0 ]; then
		kill -CONT "$apid" 2>/dev/null
		wait "$apid"
		echo "run A could not be stopped half way (it ended, or held no pending pack)" >"$out/fail"
		return
	fi
	echo "$n" >"$out/pending"
	obj_list "$b" "$v" manifest/segments/ | grep -c '\.seg$' >"$out/segments_at_stop"
	if [ "$mode" = takeover ]; then
		(exec_run "$url" --wait) >"$out/B.out" 2>"$out/B.err"
		echo $? >"$out/B.rc"
	elif [ "$mode" = late ]; then
		sleep 4
	else
		"$AIARCHIVE" --json gc --dest "$url" --older-than 0s --wait --lock-duration 15s \
			>"$out/gc.out" 2>"$out/gc.err"
		echo $? >"$out/gc.rc"
	fi
	date +%s >"$out/resumed_at"
	kill -CONT "$apid"
	wait "$apid"
	echo $? >"$out/A.rc"
	if [ "$mode" != takeover ]; then
		(exec_run "$url") >"$out/C.out" 2>"$out/C.err"
		echo $? >"$out/C.rc"
	fi
	: >"$out/done"
}

# run_segments DUMP RUN: the segments with a pack of run RUN (pack names
# carry the run id).
run_segments() {
	awk -F'\t' -v r="$2" '$1 == "pack" && index($3, "/" r "-") { print $2 }' "$1" | sort -un
}

# A_quiet B NAME: no segment after B's first one has a pack of another run
# (of A: the only other run).
A_quiet() {
	local d b first_b late
	d=$(archive_tree "$1" "$2") || return 1
	archive_dump "$d" "$d.dump" || return 1
	b=$(jq -r .run_id "$work/$2/B.out")
	first_b=$(run_segments "$d.dump" "$b" | head -1)
	[ -n "$first_b" ] || { echo "run B committed no segment"; return 1; }
	late=$(awk -F'\t' -v r="$b" -v f="$first_b" \
		'$1 == "pack" && $2 > f && !index($3, "/" r "-") { print $2 }' "$d.dump" | sort -un | tr '\n' ' ')
	[ -z "$late" ] && return 0
	echo "run A committed segments $late after run B took over at segment $first_b"
	return 1
}

proof_backends
cases=()
for b in "${BACKENDS[@]}"; do
	for mode in takeover gc late; do
		v="$mode-$b"
		cases+=("$b $v $mode")
	done
done
pids=()
for c in "${cases[@]}"; do
	read -r b v mode <<<"$c"
	scenario "$b" "$v" "$mode" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || true
done

for c in "${cases[@]}"; do
	read -r b v mode <<<"$c"
	out="$work/$v"
	url=$(dest_url "$b" "$v")
	diag "---- $b: $mode"
	if [ -f "$out/fail" ]; then
		check "$b $mode: run A stopped half way" -- false
		diag "$(cat "$out/fail")"
		continue
	fi
	check "$b $mode: run A stopped after $(cat "$out/segments_at_stop") segments, holding $(cat "$out/pending") unrecorded packs" -- true
	diag "run A stayed stopped $(($(cat "$out/resumed_at") - $(cat "$out/stopped_at"))) s (its lease ran out 10-15 s after the stop)"
	if [ "$mode" = takeover ]; then
		check_eq "$b $mode: run B took over and ended well" 0 "$(cat "$out/B.rc")"
		diag "run B: $(jq -c '{blobs, segments}' "$out/B.out" 2>/dev/null)"
	elif [ "$mode" = late ]; then
		diag "run A, resumed, exited $(cat "$out/A.rc"): $(jq -c '{blobs, failed, segments}' "$out/A.out" 2>/dev/null)"
		check_eq "$b $mode: run A, continued, leaves the late packs' blobs for later (exit 1)" 1 "$(cat "$out/A.rc")"
		check "$b $mode: ... and says why in one line each" -- \
			grep -q "committed [0-9]* s ago, longer than a segment may wait for it (was the run stopped?); left unreferenced for gc" "$out/A.err"
		check_eq "$b $mode: the last run C ended well" 0 "$(cat "$out/C.rc")"
		check "$b $mode: every source line is archived exactly once" -- lines_once "$b" "$v"
		check "$b $mode: no segment names a pack gc may remove (all older than the bound were left out)" -- \
			test "$(unrecorded "$b" "$v")" -gt 0
		check_exit 0 "$b $mode: gc removes the late packs" -- env AIARCHIVE_TEST_PACK_BOUND=0 \
			"$AIARCHIVE" gc --dest "$url" --older-than 0s --lock-duration 15s
		check_exit 0 "$b $mode: verify --data" -- "$AIARCHIVE" verify --dest "$url" --pubkey "$pub" --data
		continue
	else
		check_eq "$b $mode: gc took the lock and ended well" 0 "$(cat "$out/gc.rc")"
		diag "gc: $(jq -c '{removed, segments}' "$out/gc.out" 2>/dev/null)"
		check_eq "$b $mode: the last run C ended well" 0 "$(cat "$out/C.rc")"
	fi
	diag "run A, resumed, exited $(cat "$out/A.rc"): $(jq -c '{blobs, segments}' "$out/A.out" 2>/dev/null)"
	diag "$(grep -v '^{' "$out/A.err" | head -5)"
	if [ "$mode" = takeover ]; then
		check "$b $mode: every source line is archived exactly once" -- lines_once "$b" "$v"
		check "$b $mode: run A committed nothing once run B had the lock" -- A_quiet "$b" "$v"
		check_exit 0 "$b $mode: verify --data" -- "$AIARCHIVE" verify --dest "$url" --pubkey "$pub" --data
	else
		# gc keeps A's packs (younger than twice the pack bound): continued,
		# A finds its lock lost, or, stopped after its last renewal with
		# its segment's write under way, writes a segment that names packs
		# that are there.
		check "$b $mode: every source line is archived exactly once" -- lines_once "$b" "$v"
		check_exit 0 "$b $mode: verify --data" -- \
			"$AIARCHIVE" verify --dest "$url" --pubkey "$pub" --data
	fi
done
tap_done
