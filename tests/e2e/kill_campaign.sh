#!/usr/bin/env bash
# kill_campaign.sh: `run` and `gc` stopped at many exact points, on a
# file:// archive and on Azurite, then run again to the end; after every
# point the archive holds every source line exactly once and its chain
# verifies (ARCHITECTURE.md §7.2, §7.3).
#
# The points come from the test hooks of src/store/store.c: with
# AIARCHIVE_TEST_KILL_AFTER=N the process sends itself SIGKILL at its Nth
# storage call (=count prints the number of calls and which are lease
# calls); with AIARCHIVE_TEST_STOP_AFTER=N it raises SIGSTOP there instead,
# for a lease call in its middle (the file backend between reading the
# lease and writing it; Azure once the answer is in).
#
#   kill in run     a fresh archive, a run killed at call N, the lease freed
#                   (what its expiry amounts to), a run to the end
#   kill in gc      an archive with unreferenced packs (a killed run, then a
#                   full one), `gc --older-than 0s` killed at call N, the lease
#                   freed, gc and a run to the end
#   stop            a run stopped (SIGSTOP) at call N and kept stopped past its
#                   15 s lease while a second run (--wait) or
#                   `gc --wait --older-than 0s` takes the lock and ends; then
#                   the first is continued, and a last run ends the job
#
# After each point: the referenced packs, cut by member ranges, tile
# exactly and zcat to the source's lines, each once (packs_ok); every
# segment and index signature verifies with stock minisign (a lost
# .minisig is healed by the next run), and so does the state's;
# `verify --data --key-id` exits 0. Source: 10 small blobs, a segment
# every 3 members, --jobs 1 so that the calls come in a fixed order.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm # fsync is cheap there
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
. "$(dirname "$0")/proof_lib.sh"
proof_tools_needed

work=$TEST_TMP
src="$work/src" key="$work/key"
export="$src/appinsights-export"
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 1 --blobs-per-hour 1 --seed 23 \
	>/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
pub="$key.pub"
keyid=$(sed -n '1s/^untrusted comment: minisign public key //p' "$pub")
find "$export" -type f -print0 | sort -z | xargs -0 awk 1 | sort >"$work/source.lines"
nblobs=$(find "$export" -type f | wc -l)
calls="$work/calls" # what a whole run and gc do (calls_of)
mkdir -p "$calls"
export AIARCHIVE_TEST_SEGMENT_MEMBERS=3 AIARCHIVE_NOW=2026-11-20T03

# run_to URL [OPTIONS]: one run of the whole export.
run_to() {
	local d=$1; shift
	"$AIARCHIVE" --json run --source "file://$export" --dest "$d" --key "$key" --jobs 1 \
		--lock-duration 15s "$@"
}

# gc_at URL [OPTIONS]: gc collecting everything unreferenced, even what is
# seconds old (AIARCHIVE_TEST_PACK_BOUND=0; gc keeps 2h by default).
gc_at() {
	local d=$1; shift
	AIARCHIVE_TEST_PACK_BOUND=0 "$AIARCHIVE" --json gc --dest "$d" --key-id "$keyid" --older-than 0s --lock-duration 15s "$@"
}

# free_lease B NAME: what the expiry of a killed process's lease amounts
# to, without waiting for it: the file store's lease removed, Azurite's
# broken at once.
free_lease() {
	case $1 in
	file) rm -rf "$TEST_TMP/arch-$2"/.aiarchive-store/leases/* ;;
	azurite) curl -sf -o /dev/null -X PUT -H 'x-ms-lease-action: break' \
		-H 'x-ms-lease-break-period: 0' "$DST_URL/$2/locks/run?comp=lease&$PROOF_SAS" || true ;;
	esac
}

# sound B NAME: the archive's checks (see the top); prints what is wrong.
sound() {
	local b=$1 v=$2 d f url
	url=$(dest_url "$b" "$v")
	d=$(archive_tree "$b" "$v") || { echo "cannot read the archive"; return 1; }
	archive_dump "$d" "$d.dump" || { echo "manifest-dump failed"; return 1; }
	[ -s "$d.dump" ] || { echo "no segment"; return 1; }
	packs_ok "$d" "$d.dump" || return 1
	chain_ok "$d" "$pub" || return 1
	for f in "$d"/manifest/index/*.idx; do
		[ -e "$f" ] || continue
		minisign -Vq -p "$pub" -m "$f" || { echo "index ${f#"$d"/}: bad or missing signature"; return 1; }
	done
	minisign -Vq -p "$pub" -m "$d/manifest/state" || { echo "state: bad signature"; return 1; }
	"$AIARCHIVE" -q verify --dest "$url" --key-id "$keyid" --data >"$d.verify" 2>&1 ||
		{ echo "verify --data failed:"; head -5 "$d.verify"; return 1; }
}

# calls_of OUT COMMAND...: runs COMMAND counting its storage calls; OUT gets
# "TOTAL LEASE-CALL..." .
calls_of() {
	local out=$1; shift
	AIARCHIVE_TEST_KILL_AFTER=count "$@" >/dev/null 2>"$out.err" || return 1
	{
		sed -n 's/^aiarchive: test hook: \([0-9]*\) storage calls$/\1/p' "$out.err"
		sed -n 's/^aiarchive: test hook: lease calls//p' "$out.err"
	} | tr '\n' ' ' >"$out"
}

# spread TOTAL N: N call numbers spread over 1..TOTAL, and the last three.
spread() {
	local t=$1 n=$2 step
	step=$((t / n))
	[ "$step" -ge 1 ] || step=1
	{ seq 1 "$step" "$t"; seq $((t - 2)) "$t"; } | sort -n | uniq
}

# ---- kill in run

# kill_run B NAME K: killed at call K, then a run to the end.
kill_run() {
	local b=$1 v=$2 k=$3 url rc=0
	url=$(dest_url "$b" "$v")
	ai_init "$url" "$key" || { echo "init failed"; return 1; }
	AIARCHIVE_TEST_KILL_AFTER=$k run_to "$url" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || { echo "the run was not killed at call $k (exit $rc)"; return 1; }
	free_lease "$b" "$v"
	run_to "$url" >"$work/$v.rerun" 2>&1 || { echo "the rerun failed:"; tail -5 "$work/$v.rerun"; return 1; }
	sound "$b" "$v"
}

# ---- kill in gc

# garbage B NAME: an archive whose data/ holds packs no segment names (a
# run killed half way, then a run to the end).
garbage() {
	local b=$1 v=$2 url rc=0 total
	url=$(dest_url "$b" "$v")
	read -r total _ <"$calls/run-calls-$b"
	ai_init "$url" "$key" || { echo "init failed"; return 1; }
	AIARCHIVE_TEST_KILL_AFTER=$((total / 2)) run_to "$url" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || { echo "the first run was not killed (exit $rc)"; return 1; }
	free_lease "$b" "$v"
	run_to "$url" >/dev/null 2>&1 || { echo "the run to the end failed"; return 1; }
}

# kill_gc B NAME K: gc killed at call K, then gc and a run to the end.
kill_gc() {
	local b=$1 v=$2 k=$3 url rc=0
	url=$(dest_url "$b" "$v")
	garbage "$b" "$v" || return 1
	AIARCHIVE_TEST_KILL_AFTER=$k gc_at "$url" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || { echo "gc was not killed at call $k (exit $rc)"; return 1; }
	free_lease "$b" "$v"
	gc_at "$url" >"$work/$v.gc" 2>&1 || { echo "the next gc failed:"; tail -5 "$work/$v.gc"; return 1; }
	run_to "$url" >"$work/$v.rerun" 2>&1 || { echo "the run after gc failed:"; tail -5 "$work/$v.rerun"; return 1; }
	jq -e '.blobs == 0' "$work/$v.rerun" >/dev/null || { echo "the run after gc archived again"; return 1; }
	sound "$b" "$v"
}

# ---- stop past the lease

# stopped PID: the process is stopped (state T).
stopped() {
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	T*) return 0 ;;
	esac
	return 1
}

# stop_case B NAME MODE N: run A stopped at call N; while it stays stopped,
# MODE "takeover" runs B (--wait) to the end, MODE "gc" runs
# `gc --wait --older-than 0s`; then A is continued and a last run C ends the
# job. Results in $work/NAME/ (A.rc, other.rc, C.rc, still_stopped, done or fail).
stop_case() {
	local b=$1 v=$2 mode=$3 n=$4 url out apid i
	url=$(dest_url "$b" "$v")
	out="$work/$v"
	mkdir -p "$out"
	ai_init "$url" "$key" || { echo "init failed" >"$out/fail"; return; }
	(AIARCHIVE_TEST_STOP_AFTER=$n exec "$AIARCHIVE" --json run --source "file://$export" \
		--dest "$url" --key "$key" --jobs 1 --lock-duration 15s) >"$out/A.out" 2>"$out/A.err" &
	apid=$!
	for ((i = 0; i < 600; i++)); do
		stopped "$apid" && break
		kill -0 "$apid" 2>/dev/null || break
		sleep 0.05
	done
	if ! stopped "$apid"; then
		wait "$apid"
		echo "run A did not stop at call $n (exit $?)" >"$out/fail"
		return
	fi
	if [ "$mode" = takeover ]; then
		timeout 120 "$AIARCHIVE" --json run --source "file://$export" --dest "$url" --key "$key" \
			--jobs 1 --lock-duration 15s --wait >"$out/other.out" 2>"$out/other.err"
	else
		timeout 120 "$AIARCHIVE" --json gc --dest "$url" --key-id "$keyid" --older-than 0s \
			--lock-duration 15s --wait >"$out/other.out" 2>"$out/other.err"
	fi
	echo $? >"$out/other.rc"
	stopped "$apid" && echo yes >"$out/still_stopped"
	kill -CONT "$apid"
	wait "$apid"
	echo $? >"$out/A.rc"
	# The state as A left it (A must not have written it once its lock was gone).
	# The state's own last run: this host's record (run A's exit 5) is kept apart.
	mkdir -p "$out/no-records"
	"$AIARCHIVE" --json status --dest "$url" --key-id "$keyid" --state-dir "$out/no-records" \
		>"$out/status.json" 2>/dev/null
	timeout 120 "$AIARCHIVE" --json run --source "file://$export" --dest "$url" --key "$key" \
		--jobs 1 --lock-duration 15s --wait >"$out/C.out" 2>"$out/C.err"
	echo $? >"$out/C.rc"
	: >"$out/done"
}

# ---- the plan

proof_backends
for b in "${BACKENDS[@]}"; do
	v=count-$b
	url=$(dest_url "$b" "$v")
	ai_init "$url" "$key" || bail_out "init failed"
	calls_of "$calls/run-calls-$b" run_to "$url" || bail_out "cannot count the calls of a run: $(cat "$calls/run-calls-$b.err")"
	garbage "$b" gcount-$b || bail_out "cannot make an archive with garbage"
	calls_of "$calls/gc-calls-$b" gc_at "$(dest_url "$b" gcount-$b)" ||
		bail_out "cannot count the calls of gc: $(cat "$calls/gc-calls-$b.err")"
	diag "$b: a run makes $(cut -d' ' -f1 "$calls/run-calls-$b") storage calls (lease calls:$(cut -d' ' -f2- "$calls/run-calls-$b")), gc $(cut -d' ' -f1 "$calls/gc-calls-$b")"
done
read -r total_file _ <"$calls/run-calls-file"
check "a clean run archives the export ($nblobs blobs, $total_file storage calls)" -- \
	test "$total_file" -gt 60

# The stop cases first, in the background: most of their time is the wait
# for a lease to run out.
# lease_call B I: the Ith lease call of a run (1: the acquire; then two
# renewals per segment: 2 and 3 for segment 0, its fence and the one right
# before it is written, 4 and 5 for segment 1; -2: the renewal before the
# state; -1: the release). On Azure a stop inside a lease call lands after its answer, so
# the state case stops at the call before that renewal, on both backends.
lease_call() {
	local -a l
	read -r -a l <<<"$(cut -d' ' -f2- "$calls/run-calls-$1")"
	if [ "$2" -lt 0 ]; then echo "${l[${#l[@]} + $2]}"; else echo "${l[$2 - 1]}"; fi
}
# state_put_call B: the call at which a stop holds the run between the
# renewal before the state and the state's write: on file:// the call after
# that renewal (the stop comes at a call's start), on Azure the renewal
# itself (the stop comes once its answer is in).
state_put_call() {
	if [ "$1" = file ]; then echo $(($(lease_call "$1" -2) + 1)); else lease_call "$1" -2; fi
}
stops=()
for b in "${BACKENDS[@]}"; do
	stops+=("$b stop-acquire-$b takeover $(lease_call "$b" 1) inside the acquire of the lock")
	stops+=("$b stop-renew-$b takeover $(lease_call "$b" 2) inside the renewal before the first segment")
	stops+=("$b stop-state-$b takeover $(($(lease_call "$b" -2) - 1)) after its last segment, before the renewal that precedes the state")
	# Past that renewal, writing the state: only the state's ETag (a
	# conditional replace) keeps A from overwriting the newer one.
	stops+=("$b stop-state-put-$b takeover $(state_put_call "$b") after the renewal that precedes the state, writing it")
	# gc removes nothing from an archive without segments: these stop after segment 0.
	stops+=("$b stop-pack-$b gc $(($(lease_call "$b" 4) - 1)) before the signature of a pack no segment names yet")
	stops+=("$b stop-renew-gc-$b gc $(lease_call "$b" 4) inside the renewal before the second segment")
done
stop_pids=()
for s in "${stops[@]}"; do
	read -r b v mode n _ <<<"$s"
	stop_case "$b" "$v" "$mode" "$n" &
	stop_pids+=($!)
done

# The kill points, two at a time (each has its own archive), reported in order.
points=()
for b in "${BACKENDS[@]}"; do
	read -r total _ <"$calls/run-calls-$b"
	read -r gtotal _ <"$calls/gc-calls-$b"
	# most points on file://, where one costs a fraction of an Azurite one
	if [ "$b" = file ]; then nrun=24 ngc=8; else nrun=6 ngc=3; fi
	for k in $(spread "$total" "$nrun"); do
		points+=("kill_run $b run-$b-$k $k run killed at storage call $k of $total, the next run completes the job")
	done
	for k in $(spread "$gtotal" "$ngc"); do
		points+=("kill_gc $b gc-$b-$k $k gc killed at storage call $k of $gtotal, the next gc and run complete the job")
	done
done
mkdir -p "$work/res"
running=()
for i in "${!points[@]}"; do
	read -r fn b v k _ <<<"${points[$i]}"
	while [ "${#running[@]}" -ge 2 ]; do
		alive=()
		for p in "${running[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
		running=("${alive[@]}")
		[ "${#running[@]}" -ge 2 ] && sleep 0.05
	done
	(
		# its own scratch files (packs_ok writes $work/diff)
		work="$work/res/w$i"
		mkdir -p "$work" && ln -s ../../source.lines "$work/source.lines"
		"$fn" "$b" "$v" "$k" >"$work.out" 2>&1
		echo $? >"$work.rc"
	) &
	running+=($!)
done
for p in "${running[@]}"; do wait "$p" || true; done
diag "the kill points took $SECONDS s since the start"
npoints=0
for i in "${!points[@]}"; do
	read -r fn b v k desc <<<"${points[$i]}"
	rc=$(cat "$work/res/w$i.rc" 2>/dev/null) || rc=1
	tap_result "$rc" "$b: $desc"
	[ "$rc" = 0 ] || sed 's/^/# /' "$work/res/w$i.out" | head -20
	npoints=$((npoints + 1))
done

for p in "${stop_pids[@]}"; do
	wait "$p" || true
done
diag "the stop cases ended $SECONDS s after the start"
for s in "${stops[@]}"; do
	read -r b v mode n where <<<"$s"
	out="$work/$v"
	npoints=$((npoints + 1))
	diag "---- $b: run A stopped at call $n ($where), then $mode"
	if [ -f "$out/fail" ]; then
		check "$b: run A stopped at call $n" -- false
		diag "$(cat "$out/fail")"
		continue
	fi
	if [ "$mode" = takeover ]; then
		check_eq "$b: stopped $where, a second run takes over and ends well" 0 "$(cat "$out/other.rc")"
	else
		check_eq "$b: stopped $where, gc --older-than 0s takes the lock and ends well" 0 "$(cat "$out/other.rc")"
	fi
	[ "$(cat "$out/other.rc")" = 0 ] || diag "$(tail -3 "$out/other.err")"
	check_eq "$b: ... while run A was still stopped" yes "$(cat "$out/still_stopped" 2>/dev/null)"
	diag "run A, continued, exited $(cat "$out/A.rc"): $(grep -v '^{' "$out/A.err" | head -3)"
	case $v in
	stop-acquire-*)
		# A had not taken the lock yet: it takes it now and finds nothing to do.
		check "$b: run A then takes the lock and ends well, or finds it held" -- \
			grep -qx '[05]' "$out/A.rc" ;;
	*)
		check_eq "$b: run A, continued, finds its lock lost (exit 5)" 5 "$(cat "$out/A.rc")"
		check "$b: ... and says so in one line" -- grep -Eq "lock 'locks/run': (no longer ours|lost earlier)|this run lost its lock" "$out/A.err"
		# Its closing line says what it committed before: the segments of
		# run ids other than the takeover's and the last run's are A's.
		nA=$("$AIARCHIVE" query --dest "$(dest_url "$b" "$v")" --key-id "$keyid" --format jsonl \
			2>/dev/null | jq -r --arg o "$(jq -r '.run_id // ""' "$out/other.out" 2>/dev/null)" \
			--arg c "$(jq -r .run_id "$out/C.out" 2>/dev/null)" \
			'select(.run_id != $o and .run_id != $c) | .segment' | sort -u | wc -l)
		case $nA in
		0) want='nothing was done; the next run' ;;
		1) want='; the segment this run committed before \([0-9]+\) stays;' ;;
		*) want="; the $nA segments this run committed before \([0-9]+-[0-9]+\) stay;" ;;
		esac
		check "$b: ... its closing line names what it committed ($nA segments)" -- \
			grep -Eq "^aiarchive: run: .*$want.*exit 5\$" "$out/A.err" ;;
	esac
	case $v in stop-state-*)
		other=$(jq -r .run_id "$out/other.out")
		check_eq "$b: run A, its lock lost, did not write the state" "$other" \
			"$(jq -r .last_run.id "$out/status.json" 2>/dev/null)" ;;
	esac
	check_eq "$b: a last run ends well" 0 "$(cat "$out/C.rc")"
	check "$b: every line archived once, the chain verifies" -- sound "$b" "$v"
done
check "at least 60 points ($npoints)" -- test "$npoints" -ge 60
tap_done
