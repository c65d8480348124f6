#!/usr/bin/env bash
# run_concurrency.sh: the run lock on Azure (Azurite): of two runs started
# together one archives and the other exits 5 naming the holder; with
# --wait the second waits its turn and finds nothing left to do; the lease
# of a run killed with SIGKILL expires and the next run takes over.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
archive_tools_needed
require_azurite
azurite_start SRC DST || bail_out "azurite did not start"

key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY"
ce="$TEST_TMP/ce"
"$AIGEN" --out "$ce" --layout continuous --apps 2 --hours 2 --seed 21 \
	--from "$(date -u -d '-3 hours' +%Y-%m-%dT%H)" >/dev/null || bail_out "aigen failed"
blobtool_at SRC upload-tree "$ce" >/dev/null || bail_out "upload failed"
nblobs=$(find "$ce/appinsights-export" -type f | wc -l)
find "$ce/appinsights-export" -type f -print0 | sort -z | xargs -0 awk 1 | sort >"$TEST_TMP/source.lines"
for c in archive1 archive2 archive-count archive3; do
	ai_init "$DST_URL/$c" "$key" || bail_out "init of $c failed"
done

# run CONTAINER [OPTIONS]: one run of the whole export. Few jobs, so that
# a run lasts long enough for another to meet it.
run() {
	(exec_run "$@")
}
# exec_run: the same, replacing the calling (sub)shell, so that $! of
# ( exec_run ... ) & is the pid of aiarchive itself.
exec_run() {
	local c=$1; shift
	exec "$AIARCHIVE" --json run --source "$SRC_URL/appinsights-export" --dest "$DST_URL/$c" \
		--key "$key" --jobs 2 --lock-duration 15s "$@"
}

# together NAME CONTAINER [OPTIONS]: two runs started at the same moment;
# NAME.a/.b get their stdout, NAME.a.err/.b.err stderr, NAME.a.rc/.b.rc the
# exit codes and NAME.a.pid/.b.pid the pids.
together() {
	local n=$1 c=$2 pa pb rc; shift 2
	(exec_run "$c" "$@") >"$TEST_TMP/$n.a" 2>"$TEST_TMP/$n.a.err" & pa=$!
	(exec_run "$c" "$@") >"$TEST_TMP/$n.b" 2>"$TEST_TMP/$n.b.err" & pb=$!
	echo "$pa" >"$TEST_TMP/$n.a.pid"
	echo "$pb" >"$TEST_TMP/$n.b.pid"
	rc=0; wait "$pa" || rc=$?; echo "$rc" >"$TEST_TMP/$n.a.rc"
	rc=0; wait "$pb" || rc=$?; echo "$rc" >"$TEST_TMP/$n.b.rc"
}

# ---- two runs at once: one archives, the other is turned away

together t1 archive1
ra=$(cat "$TEST_TMP/t1.a.rc") rb=$(cat "$TEST_TMP/t1.b.rc")
check_eq "one run exits 0 and the other 5" "0 5" "$(printf '%s\n' "$ra" "$rb" | sort -n | tr '\n' ' ' | sed 's/ $//')"
if [ "$ra" = 0 ]; then win=a lose=b; else win=b lose=a; fi
check "the winner archives the whole export" -- \
	jq -e --argjson n "$nblobs" '.blobs == $n and .failed == 0 and .segment == 0' "$TEST_TMP/t1.$win"
err=$(cat "$TEST_TMP/t1.$lose.err")
check_eq "the loser says so in one line, then the closing line" 2 "$(printf '%s\n' "$err" | wc -l)"
check "  which says nothing was done and the next run tries again (exit 5)" -- \
	bash -c 'tail -n 1 <<<"$1" | grep -qE "^aiarchive: run: dest: another run holds the lock: .*; nothing was done; the next run tries again \(--wait waits for it\); exit 5$"' _ "$err"
check "that line names the holder: host, the winner's pid and run id" -- \
	grep -q "another run holds the lock: host .* pid $(cat "$TEST_TMP/t1.$win.pid") run $(jq -r .run_id "$TEST_TMP/t1.$win")\$" \
	<<<"$err"
check "the loser printed no summary, only the JSON error object (locked, exit 5)" -- jq -e -s \
	'length == 1 and .[0].error.code == "locked" and .[0].error.exit == 5' "$TEST_TMP/t1.$lose"
check "every line archived exactly once" -- archived_once archive1 "$TEST_TMP/source.lines" "$key.pub"

# ---- with --wait: the second waits, then finds everything archived

together t2 archive2 --wait
check_eq "both runs exit 0" "0 0" "$(cat "$TEST_TMP/t2.a.rc") $(cat "$TEST_TMP/t2.b.rc")"
check_eq "one archives everything, the other nothing" "0 $nblobs" \
	"$(jq -s 'map(.blobs) | sort | map(tostring) | join(" ")' -r "$TEST_TMP/t2.a" "$TEST_TMP/t2.b")"
check "the waiting run commits no segment" -- \
	bash -c 'jq -se "map(.segment) | sort == [-1, 0]" "$@" >/dev/null' _ "$TEST_TMP/t2.a" "$TEST_TMP/t2.b"
check "every line archived exactly once" -- archived_once archive2 "$TEST_TMP/source.lines" "$key.pub"

# ---- a run killed half way: its lease expires and the next run takes over

# How many storage calls a whole run makes (test hook in src/store.c), to
# kill one half way.
AIARCHIVE_TEST_KILL_AFTER=count run archive-count >/dev/null 2>"$TEST_TMP/count.err"
total=$(sed -n 's/^aiarchive: test hook: \([0-9]*\) storage calls$/\1/p' "$TEST_TMP/count.err")
[ "${total:-0}" -gt 50 ] || bail_out "cannot count storage calls: $(cat "$TEST_TMP/count.err")"
rc=0
started=$SECONDS
AIARCHIVE_TEST_KILL_AFTER=$((total / 2)) run archive3 >/dev/null 2>&1 || rc=$?
killed_at=$SECONDS
check_eq "a run killed with SIGKILL half way" 137 "$rc"
check_exit 5 "before the lease expires the next run exits 5" -- run archive3
check "it names the killed run as the holder" -- grep -q "another run holds the lock: host .* pid [0-9]* run " <<<"$LAST_OUTPUT"
check_exit 0 "with --wait a run takes over once the lease expires" -- run archive3 --wait
took=$((SECONDS - killed_at)) lease_age=$((SECONDS - started))
# The lease ends at most 15 s after the kill (the last renewal came
# before it), the waiting run asks every 2 s, then does a whole run.
run_s=$(jq '.duration_s | ceil' "$TEST_TMP/t1.$win")
check "within ~20 s of the kill ($took s; a whole run takes $run_s s)" -- \
	test "$took" -le $((18 + run_s))
check "not before the 15 s lease ran out ($lease_age s after it was taken)" -- test "$lease_age" -ge 14
check "it archives what the killed run did not commit" -- \
	jq -e --argjson n "$nblobs" '.blobs == $n and .failed == 0' <<<"$LAST_OUTPUT"
check "every line archived exactly once" -- archived_once archive3 "$TEST_TMP/source.lines" "$key.pub"
tap_done
