#!/usr/bin/env bash
# shards.sh: several archivers at once (run --shard I/N, ARCHITECTURE.md
# §7.8) against Azurite, over a generated export of six apps delivered in
# three parts: 4 shards started together over the first part, then 3 over
# the first two, then 5 over all three. After each round every source line
# is archived exactly once (zcat of the referenced packs against the
# source), the chain verifies (stock minisign, and verify --data with the
# key id pinned), and no shard waited for another (all exit 0 without
# --wait, which a held lock turns into exit 5). Then: a shard killed with
# SIGKILL after its packs, before its segment, heals on its next run; a
# shard and a run of the whole archive exclude each other; the option
# errors are one line; and a file:// archive gets the same split.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
archive_tools_needed
require_azurite
azurite_start SRC DST || bail_out "azurite did not start"

key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
kid=$(sed -n 's/^untrusted comment: minisign public key //p' "$key.pub")
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY"
ce="$TEST_TMP/ce"
"$AIGEN" --out "$ce" --layout continuous --apps 6 --hours 3 --seed 15 \
	--from "$(date -u -d '-5 hours' +%Y-%m-%dT%H)" >/dev/null || bail_out "aigen failed"
nblobs=$(find "$ce/appinsights-export" -type f | wc -l)

# The export in three parts (by a checksum of the blob's name), each a tree
# blobtool uploads; part K's source lines are parts 1..K's.
for k in 1 2 3; do mkdir -p "$TEST_TMP/part$k/appinsights-export"; done
(cd "$ce/appinsights-export" && find . -type f | sort) | while read -r f; do
	k=$(( $(printf '%s' "$f" | cksum | cut -d' ' -f1) % 3 + 1 ))
	mkdir -p "$TEST_TMP/part$k/appinsights-export/$(dirname "$f")"
	cp "$ce/appinsights-export/$f" "$TEST_TMP/part$k/appinsights-export/$f"
done
: >"$TEST_TMP/lines.all"
for k in 1 2 3; do
	find "$TEST_TMP/part$k/appinsights-export" -type f -print0 | xargs -0 awk 1 >>"$TEST_TMP/lines.all"
	sort "$TEST_TMP/lines.all" >"$TEST_TMP/source$k.lines"
done
ai_init "$DST_URL/arch" "$key" || bail_out "init failed"

# run CONTAINER [OPTIONS]: a run against the Azurite source. --rescan:
# the parts land in hours the watermark has passed.
run() {
	local c=$1; shift
	"$AIARCHIVE" --json run --source "$SRC_URL/appinsights-export" --dest "$DST_URL/$c" \
		--key "$key" --jobs 4 --lock-duration 15s --rescan 12h "$@"
}

# round NAME N: shards 0..N-1 of N started at the same moment; NAME.I gets
# shard I's stdout, NAME.I.err its stderr, NAME.I.rc its exit code.
round() {
	local n=$1 count=$2 i pids=()
	for ((i = 0; i < count; i++)); do
		(run arch --shard "$i/$count" >"$TEST_TMP/$n.$i" 2>"$TEST_TMP/$n.$i.err") & pids+=($!)
	done
	for ((i = 0; i < count; i++)); do
		rc=0; wait "${pids[$i]}" || rc=$?; echo "$rc" >"$TEST_TMP/$n.$i.rc"
	done
}

# checks NAME N K: what every round must show.
checks() {
	local n=$1 count=$2 k=$3 rcs i
	rcs=$(for ((i = 0; i < count; i++)); do cat "$TEST_TMP/$n.$i.rc"; done | sort -u | tr '\n' ' ')
	check_eq "$count shards at once: each exits 0, none waited for another's lock" "0 " "$rcs"
	check "  no shard met a held lock" -- bash -c '! grep -l "holds the lock" "$@"' _ "$TEST_TMP/$n".*.err
	check "  every line of parts 1-$k archived exactly once, the chain linked and signed" -- \
		archived_once arch "$TEST_TMP/source$k.lines" "$key.pub"
	check_exit 0 "  verify --data with the key pinned" -- \
		"$AIARCHIVE" verify --dest "$DST_URL/arch" --key-id "$kid" --data
}

# ---- 4 shards over part 1

blobtool_at SRC upload-tree "$TEST_TMP/part1" >/dev/null || bail_out "upload failed"
round r4 4
checks r4 4 1
n1=$(find "$TEST_TMP/part1" -type f | wc -l)
check_eq "  the shards' blobs add up to part 1's" "$n1" \
	"$(jq -s 'map(.blobs) | add' "$TEST_TMP"/r4.[0-3])"
check "  each shard archived some of it" -- jq -se 'all(.[]; .blobs > 0)' "$TEST_TMP"/r4.[0-3]
check "  and they interleaved their segments in the one chain" -- \
	bash -c 'jq -s "map(.segments.count) | add" "$@" | grep -qx 4' _ "$TEST_TMP"/r4.[0-3]

# ---- 3 shards over parts 1 and 2: part 1 found archived, whoever did it

blobtool_at SRC upload-tree "$TEST_TMP/part2" >/dev/null || bail_out "upload failed"
round r3 3
checks r3 3 2
n2=$(find "$TEST_TMP/part2" -type f | wc -l)
check_eq "  the 3 shards archived part 2 and nothing of part 1" "$n2" \
	"$(jq -s 'map(.blobs) | add' "$TEST_TMP"/r3.[0-2])"

# ---- 5 shards over all three parts

blobtool_at SRC upload-tree "$TEST_TMP/part3" >/dev/null || bail_out "upload failed"
# These shards take their listings in pages of a few blobs (a test hook),
# each page archived and recorded before the next is listed.
AIARCHIVE_TEST_SEGMENT_MEMBERS=4 round r5 5
checks r5 5 3
n3=$(find "$TEST_TMP/part3" -type f | wc -l)
check_eq "  the 5 shards archived part 3 only" "$n3" \
	"$(jq -s 'map(.blobs) | add' "$TEST_TMP"/r5.[0-4])"
check_eq "  all parts: the whole export" "$nblobs" "$((n1 + n2 + n3))"
check "  in pages: more segments than shards" -- \
	bash -c '[ "$(jq -s "map(.segments.count) | add" "$@")" -gt 5 ]' _ "$TEST_TMP"/r5.[0-4]

# status: each shard's last run, in the table, the JSON and the metrics
check_exit 0 "status" -- "$AIARCHIVE" --json status --dest "$DST_URL/arch" --key-id "$kid"
# The entries of the 4 and the 3 shards went once every shard of the next
# split had run after them.
check "  --json lists the 5 shards of the last split, each with its last run ok" -- jq -e \
	'([.shards[] | .shard] == ["0/5","1/5","2/5","3/5","4/5"])
	 and all(.shards[]; .last_run.result == "ok" and .last_run.exit_code == 0)' <<<"$LAST_OUTPUT"
id=$(jq -r '.run_id' "$TEST_TMP/r5.2")
check "  shard 2/5's entry names its run" -- \
	jq -e --arg id "$id" '.shards[] | select(.shard == "2/5") | .last_run.id == $id' <<<"$LAST_OUTPUT"
check_exit 0 "status (the table)" -- "$AIARCHIVE" status --dest "$DST_URL/arch" --key-id "$kid"
check "  a line per shard: 2/5 with its run id" -- grep -qE "^ +2/5 +[0-9T:Z-]+ +[0-9T:Z-]+ +ok \(exit 0\), run $id\$" <<<"$LAST_OUTPUT"
check_exit 0 "status --prom" -- "$AIARCHIVE" status --dest "$DST_URL/arch" --key-id "$kid" --prom "$TEST_TMP/m.prom"
check "  aiarchive_shard_last_run_success{shard=\"I/5\"} 1 for each of the 5" -- \
	test "$(grep -c '^aiarchive_shard_last_run_success{shard="[0-4]/5"} 1$' "$TEST_TMP/m.prom")" -eq 5

# ---- a shard killed after its packs, before its segment

ai_init "$DST_URL/count" "$key" || bail_out "init failed"
ai_init "$DST_URL/killed" "$key" || bail_out "init failed"
# The storage calls of shard 1/2's first run (test hook in src/store.c), on
# an archive in the same state; its second lease call is the renewal right
# before its first segment, all its packs committed.
AIARCHIVE_TEST_KILL_AFTER=count run count --shard 1/2 >/dev/null 2>"$TEST_TMP/count.err"
fence=$(sed -n 's/^aiarchive: test hook: lease calls [0-9]* \([0-9]*\).*/\1/p' "$TEST_TMP/count.err")
[ "${fence:-0}" -gt 10 ] || bail_out "cannot count storage calls: $(cat "$TEST_TMP/count.err")"
rc=0
AIARCHIVE_TEST_KILL_AFTER=$fence run killed --shard 1/2 >/dev/null 2>&1 || rc=$?
check_eq "shard 1/2 killed with SIGKILL before its first segment" 137 "$rc"
check_exit 0 "shard 0/2 meanwhile: its own lock, no waiting" -- run killed --shard 0/2
check_exit 5 "shard 1/2 again before the killed run's lease ran out: exit 5" -- run killed --shard 1/2
check "  naming its shard's lock" -- grep -q "another run holds the lock locks/run-shard-1-of-2: host " <<<"$LAST_OUTPUT"
check_exit 0 "with --wait it takes over once the lease expires" -- run killed --shard 1/2 --wait
check "  and archives what the killed run did not commit" -- jq -e '.blobs > 0 and .failed == 0' <<<"$LAST_OUTPUT"
check "every line archived exactly once (the killed run's packs left for gc)" -- archived_once killed "$TEST_TMP/source3.lines" "$key.pub"
check_exit 0 "verify --data with the key pinned" -- \
	"$AIARCHIVE" verify --dest "$DST_URL/killed" --key-id "$kid" --data

# ---- a shard and a run of the whole archive exclude each other

# A run of the whole archive stopped right after it took locks/run (the
# call after its first lease call, counted on the scratch archive), a
# shard started meanwhile.
AIARCHIVE_TEST_KILL_AFTER=count "$AIARCHIVE" run --source "$SRC_URL/appinsights-export" \
	--dest "$DST_URL/count" --key "$key" >/dev/null 2>"$TEST_TMP/count2.err"
took=$(sed -n 's/^aiarchive: test hook: lease calls \([0-9]*\).*/\1/p' "$TEST_TMP/count2.err")
[ "${took:-0}" -gt 1 ] || bail_out "cannot count storage calls: $(cat "$TEST_TMP/count2.err")"
(AIARCHIVE_TEST_STOP_AFTER=$((took + 1)) exec "$AIARCHIVE" run --source "$SRC_URL/appinsights-export" \
	--dest "$DST_URL/killed" --key "$key" --lock-duration 15s >/dev/null 2>&1) & whole=$!
for _ in $(seq 50); do
	[ "$(ps -o stat= -p "$whole" 2>/dev/null | cut -c1)" = T ] && break
	sleep 0.1
done
check_exit 5 "a shard while a run of the whole archive holds locks/run: exit 5" -- run killed --shard 0/2
check "  in one line saying why" -- grep -q "dest: a run of the whole archive holds the lock locks/run; a shard does not run beside it" <<<"$LAST_OUTPUT"
kill -CONT "$whole" 2>/dev/null
wait "$whole" || true
check_exit 0 "once it is done, the shard runs" -- run killed --shard 0/2

# ---- option errors: one line (and the closing line), exit 2

# plain RUN-OPTIONS: a run without --json, for the error lines
plain() {
	"$AIARCHIVE" run --source "$SRC_URL/appinsights-export" --dest "$DST_URL/arch" --key "$key" "$@"
}
check_exit 2 "--shard 4/4: I must be below N" -- plain --shard 4/4
check "  one line naming the rule" -- \
	grep -qx "aiarchive: error: run: --shard: I must be from 0 to N-1 (shards are numbered from 0): '4/4' (see 'aiarchive run --help')" <<<"$LAST_OUTPUT"
check_exit 2 "--shard two: not I/N" -- plain --shard two
check_exit 2 "--shard 1/2 --shards 3: N disagrees" -- plain --shard 1/2 --shards 3
check_exit 2 "--shards 3 without JOB_COMPLETION_INDEX" -- env -u JOB_COMPLETION_INDEX "$AIARCHIVE" run \
	--source "$SRC_URL/appinsights-export" --dest "$DST_URL/arch" --key "$key" --shards 3
check "  says where I comes from" -- grep -q "JOB_COMPLETION_INDEX, which is not set" <<<"$LAST_OUTPUT"
check_exit 0 "JOB_COMPLETION_INDEX=2 with --shards 3 is shard 2/3" -- env JOB_COMPLETION_INDEX=2 \
	"$AIARCHIVE" --json run --source "$SRC_URL/appinsights-export" --dest "$DST_URL/arch" --key "$key" --shards 3
id=$(jq -r .run_id <<<"$LAST_OUTPUT")
check_exit 0 "  status" -- "$AIARCHIVE" --json status --dest "$DST_URL/arch" --key-id "$kid"
check "  shows that run as shard 2/3's last" -- \
	jq -e --arg id "$id" '.shards[] | select(.shard == "2/3") | .last_run.id == $id' <<<"$LAST_OUTPUT"

check_exit 0 "a shard's dry run" -- plain --dry-run --shard 1/3
check "  checks write and lease on its own lock" -- \
	grep -q "preflight: dest: write and lease ok (took and released the run lock 'locks/run-shard-1-of-3')" <<<"$LAST_OUTPUT"

# ---- file://: 3 shards at once over the whole export

fdest="$TEST_TMP/farch"
ai_init "file://$fdest" "$key" || bail_out "init failed"
pids=()
for i in 0 1 2; do
	("$AIARCHIVE" -q run --source "file://$ce/appinsights-export" --dest "file://$fdest" --key "$key" \
		--jobs 2 --shard "$i/3" 2>"$TEST_TMP/f.$i.err") & pids+=($!)
done
frc=0
for p in "${pids[@]}"; do wait "$p" || frc=$?; done
check_eq "file://: 3 shards at once exit 0" 0 "$frc"
archive_dump "$fdest" "$TEST_TMP/f.dump"
find "$ce/appinsights-export" -type f -print0 | xargs -0 awk 1 | sort >"$TEST_TMP/f.lines"
f_once() {
	dump_tiling "$TEST_TMP/f.dump" || return 1
	referenced_lines "$fdest" "$TEST_TMP/f.dump" | diff - "$TEST_TMP/f.lines" | head -20 |
		awk '{ print } END { exit NR > 0 }'
}
check "  every line archived exactly once" -- f_once
check "  the chain linked and signed" -- chain_ok "$fdest" "$key.pub"
check_exit 0 "  verify --data" -- "$AIARCHIVE" verify --dest "file://$fdest" --key-id "$kid" --data

tap_done
