#!/usr/bin/env bash
# gc.sh: `aiarchive gc` removes the packs that runs killed before their
# segment left behind, and nothing else: it takes the run lock, keeps young
# objects, lists without removing in a dry run, refuses a broken chain, and
# cleans a local directory's temporary files. The orphans are made the real
# way: a run killed by the store test hook (src/store.c) after its packs and
# before its segment. What is referenced is worked out independently with
# tools/manifest-dump; the archive afterwards is checked with minisign and
# sha256sum (archive_lib.sh) and with `aiarchive verify --data`. One part
# runs against Azurite when it is installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
archive_tools_needed

work=$TEST_TMP
src="$work/src" key="$work/key"
"$AIGEN" --out "$src" --layout continuous --apps 2 --hours 2 --blobs-per-hour 2 --seed 7 \
	>/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
pub="$key.pub"

# run DEST [OPTIONS]: a run with a clock pinned two hours after the export.
run() {
	local d=$1; shift
	AIARCHIVE_NOW=2026-11-20T03 "$AIARCHIVE" --json run --source "file://$src/appinsights-export" \
		--dest "file://$d" --key "$key" --jobs 1 --lock-duration 15s "$@"
}
# (AIARCHIVE_TEST_PACK_BOUND=0: gc keeps nothing back beyond --older-than,
# instead of the 2h a stopped run may still name a pack for.)
gc() {
	local d=$1; shift
	AIARCHIVE_TEST_PACK_BOUND=0 "$AIARCHIVE" gc --dest "file://$d" --lock-duration 15s "$@"
}
# first_run DEST: archives the first hour only, leaving the second for later.
first_run() {
	rm -rf "$1"
	forget_checkpoints
	ai_init "file://$1" "$key" && run "$1" --to 2026-11-20T01 >/dev/null
}
# data_files DEST: every object under data/, sorted.
data_files() {
	(cd "$1" && find data -type f | LC_ALL=C sort)
}
# all_files DEST: every object outside the store's own state, sorted.
all_files() {
	(cd "$1" && find . -path ./.aiarchive-store -prune -o -type f -print | LC_ALL=C sort)
}
# orphans DEST: objects under data/ that no segment names, neither as a pack
# nor as its signature (from manifest-dump, not from aiarchive).
orphans() {
	archive_dump "$1" "$work/orphans.dump" || return 1
	comm -23 <(data_files "$1") <(awk -F'\t' '$1 == "pack" { print $3; print $3 ".minisig" }' \
		"$work/orphans.dump" | LC_ALL=C sort)
}
# Stands for the expiry of a killed run's lease (as in run_crash.sh).
expire_lease() {
	rm -rf "$1"/.aiarchive-store/leases/*
}

# ---- orphans the real way: a run killed after its packs, before its segment

twin="$work/twin" dst="$work/dst"
first_run "$twin" || bail_out "the first run failed"
AIARCHIVE_TEST_KILL_AFTER=count run "$twin" >/dev/null 2>"$work/count.err" ||
	bail_out "the counting run failed"
total=$(sed -n 's/^aiarchive: test hook: \([0-9]*\) storage calls$/\1/p' "$work/count.err")
[ "${total:-0}" -gt 20 ] || bail_out "cannot count storage calls: $(cat "$work/count.err")"
# The last calls are the segment, its signature, the checkpoint left with
# the local witness, the state, its signature and the lock: find the
# latest kill that leaves no second segment.
killed=
for off in $(seq 3 30); do
	first_run "$dst" || bail_out "the first run failed"
	data_files "$dst" >"$work/committed.list"
	rc=0
	AIARCHIVE_TEST_KILL_AFTER=$((total - off)) run "$dst" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || bail_out "the run was not killed at call $((total - off)) (exit $rc)"
	if [ ! -e "$dst/manifest/segments/000000000001.seg" ] &&
		[ "$(data_files "$dst" | wc -l)" -gt "$(wc -l <"$work/committed.list")" ]; then
		killed=$((total - off))
		break
	fi
done
[ -n "$killed" ] || bail_out "no kill point leaves packs without a segment"
diag "run killed at storage call $killed of $total"
comm -13 "$work/committed.list" <(data_files "$dst") >"$work/expected.list"
norphans=$(wc -l <"$work/expected.list")
check "the killed run left packs that no segment names ($norphans)" -- \
	diff "$work/expected.list" <(orphans "$dst")
check "some of them are packs" -- grep -q '\.jsonl\.gz$' "$work/expected.list"

# ---- the lock

check_exit 5 "gc while the killed run's lease is held exits 5" -- gc "$dst" --older-than 0s
check "it names the holder" -- grep -q "another run holds the lock: host .* pid [0-9]* run " \
	<<<"$LAST_OUTPUT"
check "nothing was removed" -- diff "$work/expected.list" <(orphans "$dst")
expire_lease "$dst"

# Objects gc must never touch, whatever their age.
for f in manifest/notes.txt keys/old.txt locks/other; do
	echo keep >"$dst/$f"
	touch -d '3 days ago' "$dst/$f"
done
all_files "$dst" >"$work/before.all"

# ---- the age threshold

# A temporary file of a writer that died two days ago, one of a live
# writer, and blocks staged for a commit that never came.
state="$dst/.aiarchive-store"
mkdir -p "$state/tmp" "$state/blocks/00ff00ff00ff00ff00ff00ff00ff00ff"
head -c 1000 /dev/zero >"$state/tmp/0011223344556677"
echo live >"$state/tmp/8899aabbccddeeff"
head -c 500 /dev/zero >"$state/blocks/00ff00ff00ff00ff00ff00ff00ff00ff/41414141"
touch -d '2 days ago' "$state/tmp/0011223344556677" \
	"$state/blocks/00ff00ff00ff00ff00ff00ff00ff00ff/41414141" \
	"$state/blocks/00ff00ff00ff00ff00ff00ff00ff00ff"

check_exit 0 "gc with the default threshold" -- gc "$dst"
out=$LAST_OUTPUT
diag "$out"
check "it keeps the fresh orphans" -- \
	grep -q "^gc: removed 0 unreferenced objects (0 bytes) of $(data_files "$dst" | wc -l) under data/; $norphans younger than 24h kept" <<<"$out"
check "they are all still there" -- diff "$work/before.all" <(all_files "$dst")
check "it removes the old temporary file and staged block" -- \
	grep -q "removed 2 temporary files (1500 bytes)" <<<"$out"
check "the old temporary file is gone" -- test ! -e "$state/tmp/0011223344556677"
check "the staged block and its directory are gone" -- \
	test ! -e "$state/blocks/00ff00ff00ff00ff00ff00ff00ff00ff"
check "the live writer's temporary file stays" -- test -e "$state/tmp/8899aabbccddeeff"
rm -f "$state/tmp/8899aabbccddeeff"

later=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
check_exit 0 "a dry run two days later" -- env AIARCHIVE_NOW="$later" "$AIARCHIVE" gc \
	--dest "file://$dst" --dry-run
check "it would remove the orphans then" -- \
	diff "$work/expected.list" <(grep -v '^gc: \|^preflight: ' <<<"$LAST_OUTPUT" | cut -f1)

# ---- dry run

check_exit 0 "gc --older-than 0s --dry-run" -- gc "$dst" --older-than 0s --dry-run
out=$LAST_OUTPUT
check "it lists exactly the orphans" -- diff "$work/expected.list" <(grep -v '^gc: \|^preflight: ' <<<"$out" | cut -f1)
check "each line has the size and the time" -- \
	bash -c '! grep -v "^gc: \\|^preflight: " <<<"$0" | grep -Ev "^data/[^	]+	[0-9]+	[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"' "$out"
check "its summary says what it would remove" -- \
	grep -q "^gc: dry run: would remove $norphans unreferenced objects" <<<"$out"
check "it removes nothing" -- diff "$work/before.all" <(all_files "$dst")
check_exit 0 "gc --json --dry-run" -- env AIARCHIVE_TEST_PACK_BOUND=0 "$AIARCHIVE" --json gc --dest "file://$dst" \
	--older-than 0s --dry-run
check "the JSON summary (the last line) counts the candidates" -- jq -e --argjson n "$norphans" \
	'.dry_run == true and .removed == 0 and .unreferenced == $n and .candidates == $n and .segments == 1' \
	<<<"$(tail -n 1 <<<"$LAST_OUTPUT")"
check "the JSON Lines before it are the orphans, none removed" -- \
	diff "$work/expected.list" <(sed '$d' <<<"$LAST_OUTPUT" | jq -r 'select(.removed == false) | .name' |
		LC_ALL=C sort)

# ---- a chain gc cannot trust

segs="$dst/manifest/segments"
mv "$segs/000000000000.seg" "$work/seg0"
check_exit 4 "gc on a chain with a segment missing exits 4" -- gc "$dst" --older-than 0s
check "it says why" -- grep -q "segment 'manifest/segments/000000000000.seg': missing" <<<"$LAST_OUTPUT"
mv "$work/seg0" "$segs/000000000000.seg"
cp "$segs/000000000000.seg" "$segs/000000000003.seg"
check_exit 4 "gc with a segment past the end of the chain exits 4" -- gc "$dst" --older-than 0s
rm -f "$segs/000000000003.seg"
cp "$segs/000000000000.seg" "$work/seg0"
printf 'x' | dd of="$segs/000000000000.seg" bs=1 seek=40 conv=notrunc status=none
check_exit 4 "gc on an edited segment exits 4" -- gc "$dst" --older-than 0s
cp "$work/seg0" "$segs/000000000000.seg"
mv "$dst/manifest" "$work/manifest"
check_exit 4 "gc with data but no manifest at all exits 4" -- gc "$dst" --older-than 0s
check "the checkpoint the runs left says why" -- \
	grep -q "archive rolled back: witness saw segment 0, the archive has no segment" <<<"$LAST_OUTPUT"
check_exit 4 "so does gc on a host without that checkpoint" -- \
	env STATE_DIRECTORY="$work/no-state" AIARCHIVE_TEST_PACK_BOUND=0 "$AIARCHIVE" gc --dest "file://$dst" --lock-duration 15s \
	--older-than 0s
check "it says why" -- grep -q "manifest: no segment, yet [0-9]* objects under 'data/'" <<<"$LAST_OUTPUT"
mv "$work/manifest" "$dst/manifest"
check "after all of these nothing was removed" -- diff "$work/before.all" <(all_files "$dst")

# ---- removal

bytes=$(cd "$dst" && xargs stat -c %s <"$work/expected.list" | awk '{ s += $1 } END { print s + 0 }')
check_exit 0 "gc --older-than 0s, without the test hook" -- \
	"$AIARCHIVE" gc --dest "file://$dst" --lock-duration 15s --older-than 0s
check "it keeps what a stopped run may still name (2h) and says so" -- \
	grep -q "^aiarchive: warning: gc: --older-than 0s is less than the 2h a stopped run may still name a pack for; keeping everything younger than 2h$" <<<"$LAST_OUTPUT"
check "... and removes nothing" -- grep -q "^gc: removed 0 unreferenced objects (0 bytes) of [0-9]* under data/; [0-9]* younger than 2h kept$" <<<"$LAST_OUTPUT"
check_exit 0 "gc --older-than 0s" -- gc "$dst" --older-than 0s
out=$LAST_OUTPUT
diag "$out"
check "its summary counts what it removed" -- \
	grep -q "^gc: removed $norphans unreferenced objects ($bytes bytes) of $(grep -c '^\./data/' "$work/before.all") under data/; 0 younger than 0s kept$" <<<"$out"
check "the orphans are gone and nothing else" -- \
	diff <(grep -vxFf <(sed 's|^|./|' "$work/expected.list") "$work/before.all") <(all_files "$dst")
check "no orphan is left" -- test -z "$(orphans "$dst")"
check "the chain and its signatures still verify with minisign" -- chain_ok "$dst" "$pub"
archive_dump "$dst" "$work/dump.tsv" || bail_out "manifest-dump failed"
check "every referenced pack is there with its digest" -- referenced_exist "$dst" "$work/dump.tsv"
check_exit 0 "verify --data" -- "$AIARCHIVE" verify --dest "file://$dst" --data
check_exit 0 "a second gc finds nothing" -- gc "$dst" --older-than 0s
check "it says so" -- grep -q "^gc: removed 0 unreferenced objects" <<<"$LAST_OUTPUT"

# ---- the next run archives what the killed one did not commit

check_exit 0 "a rerun completes" -- run "$dst"
check "it archives the second hour" -- jq -e '.blobs > 0 and .failed == 0 and .segment == 1' \
	<<<"$LAST_OUTPUT"
check_exit 0 "verify --data after the rerun" -- "$AIARCHIVE" verify --dest "file://$dst" --data
check_exit 0 "gc after the rerun" -- env AIARCHIVE_TEST_PACK_BOUND=0 "$AIARCHIVE" --json gc --dest "file://$dst" --older-than 0s
check "it removes nothing and saw two segments" -- \
	jq -e '.removed == 0 and .unreferenced == 0 and .segments == 2 and .failed == 0' <<<"$LAST_OUTPUT"

# ---- usage

check_exit 2 "a bad --older-than is a usage error" -- gc "$dst" --older-than soon
check_exit 2 "gc without --dest is a usage error" -- "$AIARCHIVE" gc

# ---- Azure (Azurite): the same removal through the HTTP backend

if command -v node >/dev/null 2>&1 && [ -x "$AZURITE_BIN" ]; then
	azurite_start DST || bail_out "azurite did not start"
	export AIARCHIVE_DEST_KEY="$AZURITE_KEY"
	adest="$DST_URL/archive"
	check "init makes the archive in Azurite" -- ai_init "$adest" "$key"
	check_exit 0 "a run into Azurite" -- env AIARCHIVE_NOW=2026-11-20T03 "$AIARCHIVE" -q run \
		--source "file://$src/appinsights-export" --dest "$adest" --key "$key" --to 2026-11-20T01
	echo orphan >"$work/orphan"
	blobtool_at DST put archive data/app/Requests/2026-11-20/00/stray-1.jsonl.gz "$work/orphan" >/dev/null &&
		blobtool_at DST put archive data/app/Requests/2026-11-20/00/stray-1.jsonl.gz.minisig "$work/orphan" >/dev/null ||
		bail_out "blobtool put failed"
	blobtool_at DST list archive --prefix data/ | cut -f1 | LC_ALL=C sort >"$work/az.before"
	export AIARCHIVE_TEST_PACK_BOUND=0
	check_exit 0 "gc --dry-run on Azurite" -- "$AIARCHIVE" gc --dest "$adest" --older-than 0s --dry-run
	check "it lists the two strays" -- diff <(printf '%s\n' \
		data/app/Requests/2026-11-20/00/stray-1.jsonl.gz \
		data/app/Requests/2026-11-20/00/stray-1.jsonl.gz.minisig) \
		<(grep -v '^gc: \|^preflight: \|^aiarchive: ' <<<"$LAST_OUTPUT" | cut -f1)
	check_exit 0 "gc on Azurite" -- "$AIARCHIVE" gc --dest "$adest" --older-than 0s
	check "the strays are gone and nothing else (Azure SDK listing)" -- \
		diff <(grep -v '/stray-1\.' "$work/az.before") \
		<(blobtool_at DST list archive --prefix data/ | cut -f1 | LC_ALL=C sort)
	check_exit 0 "verify --data on Azurite" -- "$AIARCHIVE" verify --dest "$adest" --data
	azurite_stop DST
else
	diag "azurite not installed: the Azure part is skipped"
fi

tap_done
