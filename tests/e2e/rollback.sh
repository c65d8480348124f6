#!/usr/bin/env bash
# rollback.sh: rollback detection with witnesses (ARCHITECTURE.md §9.6), on
# a file:// archive and on Azurite. Each archive is built by two runs (the
# second commits four segments), each leaving a signed checkpoint with
# the host's state directory (STATE_DIRECTORY) and with a witness
# (--witness: a directory, or a container of a second Azurite standing for
# another account). Checked with stock minisign, and then:
#
# - rollback: the second run's segments removed and the state the first
#   run left (validly signed) put back;
# - truncation: the state and the second run's segments removed;
#   in both, run, gc and verify exit 4 with "archive rolled back: witness
#   saw segment 4, head is 0", from the local checkpoint alone, from the
#   witness alone and from both; gc removes nothing, run writes nothing;
# - no state: without any checkpoint (a fresh state directory), the state
#   alone removed: verify, gc and run exit 4 (segments without a state);
# - a checkpoint edited after it was signed stops run and verify (exit 4);
# - the archive put back whole passes again; an archive started over at
#   the same place passes once its checkpoints are removed too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
. "$(dirname "$0")/proof_lib.sh"
archive_tools_needed

work=$TEST_TMP
src="$work/src" key="$work/key"
export="$src/appinsights-export"
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 3 --types Requests,Exceptions \
	--blobs-per-hour 2 --seed 29 >/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
pub="$key.pub"
keyid=$(sed -n '1s/^untrusted comment: minisign public key //p' "$pub")
seg() { printf 'manifest/segments/%012d.seg' "$1"; }
idx() { printf 'manifest/index/%012d.idx' "$1"; }
rolled="archive rolled back: witness saw segment 4, head is 0"

proof_backends
if [ "${#BACKENDS[@]}" -gt 1 ]; then
	azurite_start WIT || bail_out "the witness's azurite did not start"
	export AIARCHIVE_WITNESS_KEY="$AZURITE_KEY"
fi

# witness B NAME: the witness of archive NAME: a directory, or a container
# in another Azurite (another account).
witness() {
	case $1 in
	file) echo "file://$work/witness-$2" ;;
	azurite) echo "$WIT_URL/w-$2" ;;
	esac
}
# at NAME CMD...: CMD with NAME's state directory.
at() {
	local v=$1; shift
	STATE_DIRECTORY="$work/state-$v" "$@"
}
# run B NAME [OPTIONS]: a run with the clock pinned after the three hours.
run() {
	local b=$1 v=$2; shift 2
	ai_init_once "$(dest_url "$b" "$v")" "$key"
	at "$v" env AIARCHIVE_NOW=2026-11-20T04 "$AIARCHIVE" -q run --source "file://$export" \
		--dest "$(dest_url "$b" "$v")" --key "$key" --jobs 1 --lock-duration 15s "$@"
}
gc() {
	local b=$1 v=$2; shift 2
	at "$v" env AIARCHIVE_TEST_PACK_BOUND=0 "$AIARCHIVE" gc --dest "$(dest_url "$b" "$v")" --older-than 0s --lock-duration 15s "$@"
}
verify() {
	local b=$1 v=$2; shift 2
	at "$v" "$AIARCHIVE" verify --dest "$(dest_url "$b" "$v")" --pubkey "$pub" --key-id "$keyid" \
		"$@"
}
# checkpoints B NAME DIR: copies the local checkpoint and the witness's
# (with their .minisig) to DIR/local.ckpt and DIR/witness.ckpt.
checkpoints() {
	local b=$1 v=$2 d=$3 f
	mkdir -p "$d"
	f=$(ls "$work/state-$v"/witness/*.ckpt) || return 1
	cp "$f" "$d/local.ckpt" && cp "$f.minisig" "$d/local.ckpt.minisig" || return 1
	case $b in
	file) f=$(ls "$work/witness-$v"/witness/*.ckpt) || return 1 ;;
	azurite)
		rm -rf "$d/dl"
		blobtool_at WIT download-tree "w-$v" "$d/dl" >/dev/null || return 1
		f=$(ls "$d/dl"/witness/*.ckpt) || return 1
		;;
	esac
	cp "$f" "$d/witness.ckpt" && cp "$f.minisig" "$d/witness.ckpt.minisig"
}
# build B NAME: a first run (one segment), then one of four segments,
# both with the witness; NAME.state1(.minisig) keep the first run's state.
build() {
	local b=$1 v=$2
	run "$b" "$v" --witness "$(witness "$b" "$v")" --to 2026-11-20T01 || return 1
	obj_get "$b" "$v" manifest/state "$work/$v.state1" || return 1
	obj_get "$b" "$v" manifest/state.minisig "$work/$v.state1.minisig" || return 1
	AIARCHIVE_TEST_SEGMENT_MEMBERS=2 run "$b" "$v" --witness "$(witness "$b" "$v")" || return 1
	obj_exists "$b" "$v" "$(seg 4)" && ! obj_exists "$b" "$v" "$(seg 5)"
}
# unchanged B NAME: data/ and manifest/ are as snapshot() left them.
snapshot() {
	obj_list "$1" "$2" data/ >"$work/$2.data"
	obj_sums "$1" "$2" manifest/ >"$work/$2.manifest"
}
unchanged() {
	diff "$work/$2.data" <(obj_list "$1" "$2" data/) &&
		diff "$work/$2.manifest" <(obj_sums "$1" "$2" manifest/)
}
newest_gone() {
	for n in 1 2 3 4; do
		obj_rm "$1" "$2" "$(seg $n)" "$(seg $n).minisig" "$(idx $n)" "$(idx $n).minisig" || return 1
	done
}

for b in "${BACKENDS[@]}"; do
	W() { witness "$b" "$1"; }

	v="rollback-$b"
	diag "---- $b: the checkpoints of an intact archive"
	check "$b: two runs make five segments" -- build "$b" "$v"
	check "$b: the local checkpoint and the witness's are there" -- checkpoints "$b" "$v" "$work/$v.ck"
	obj_get "$b" "$v" "$(seg 4)" "$work/$v.seg4" || bail_out "cannot read segment 4"
	head4=$(sha256sum <"$work/$v.seg4" | cut -d' ' -f1)
	for c in local witness; do
		check "$b: stock minisign verifies the $c checkpoint" -- \
			minisign -Vq -p "$pub" -m "$work/$v.ck/$c.ckpt"
		check_eq "$b: it records five segments and the last one's digest" 2 \
			"$(grep -cxF -e "segments 5" -e "head $head4" "$work/$v.ck/$c.ckpt")"
	done
	check "$b: both are the same checkpoint" -- cmp "$work/$v.ck/local.ckpt" "$work/$v.ck/witness.ckpt"
	check_exit 0 "$b: verify --witness checks both" -- at "$v" "$AIARCHIVE" --json verify \
		--dest "$(dest_url "$b" "$v")" --pubkey "$pub" --witness "$(W "$v")"
	check "$b: and counts them" -- jq -e '.ok and .checkpoints == 2' <<<"$LAST_OUTPUT"

	for kind in rollback truncation; do
		v="$kind-$b"
		diag "---- $b: $kind"
		[ "$kind" = rollback ] || check "$b: two runs make five segments" -- build "$b" "$v"
		[ "$v" != rollback-file ] || cp -a "$TEST_TMP/arch-$v" "$work/$v.backup"
		newest_gone "$b" "$v" || bail_out "cannot remove the newest segments"
		if [ "$kind" = rollback ]; then
			obj_put "$b" "$v" manifest/state "$work/$v.state1" &&
				obj_put "$b" "$v" manifest/state.minisig "$work/$v.state1.minisig" ||
				bail_out "cannot put the old state back"
		else
			obj_rm "$b" "$v" manifest/state manifest/state.minisig
		fi
		snapshot "$b" "$v"
		check_exit 4 "$b $kind: verify --witness fails" -- verify "$b" "$v" --data --witness "$(W "$v")"
		check "$b $kind: it says the archive rolled back" -- grep -qF "$rolled" <<<"$LAST_OUTPUT"
		check_exit 4 "$b $kind: so does verify with the local checkpoint alone" -- verify "$b" "$v"
		check "$b $kind: with the same words" -- grep -qF "$rolled" <<<"$LAST_OUTPUT"
		check_exit 4 "$b $kind: and with the witness alone (another host)" -- \
			env STATE_DIRECTORY="$work/fresh-$v" "$AIARCHIVE" verify --dest "$(dest_url "$b" "$v")" \
			--pubkey "$pub" --witness "$(W "$v")"
		check "$b $kind: with the same words" -- grep -qF "$rolled" <<<"$LAST_OUTPUT"
		check_exit 4 "$b $kind: gc refuses" -- gc "$b" "$v"
		check "$b $kind: saying why" -- grep -qF "$rolled (checkpoint of" <<<"$LAST_OUTPUT"
		check "$b $kind: and that it removes nothing" -- grep -q "; removing nothing" <<<"$LAST_OUTPUT"
		check_exit 4 "$b $kind: gc --witness refuses" -- gc "$b" "$v" --witness "$(W "$v")"
		check "$b $kind: gc removed nothing" -- unchanged "$b" "$v"
		check_exit 4 "$b $kind: run refuses" -- run "$b" "$v"
		check "$b $kind: saying why" -- grep -qF "$rolled" <<<"$LAST_OUTPUT"
		check_exit 4 "$b $kind: run --witness refuses" -- run "$b" "$v" --witness "$(W "$v")"
		check_exit 4 "$b $kind: and so does a run on another host, from the witness" -- \
			env STATE_DIRECTORY="$work/fresh2-$v" AIARCHIVE_NOW=2026-11-20T04 "$AIARCHIVE" -q run \
			--source "file://$export" --dest "$(dest_url "$b" "$v")" --key "$key" \
			--lock-duration 15s --witness "$(W "$v")"
		check "$b $kind: no run wrote anything under manifest/ or data/" -- unchanged "$b" "$v"
	done

	v="nostate-$b"
	diag "---- $b: the state removed, and no checkpoint anywhere"
	check "$b: two runs make five segments" -- build "$b" "$v"
	rm -rf "$work/state-$v"
	obj_rm "$b" "$v" manifest/state manifest/state.minisig
	snapshot "$b" "$v"
	check_exit 4 "$b: verify fails on segments without a state" -- verify "$b" "$v"
	check "$b: naming the state" -- \
		grep -q "^state manifest/state: missing, yet there are segments" <<<"$LAST_OUTPUT"
	check_exit 4 "$b: gc refuses" -- gc "$b" "$v"
	check "$b: naming the state" -- grep -qF "state 'manifest/state': missing, yet" <<<"$LAST_OUTPUT"
	check_exit 4 "$b: run refuses" -- run "$b" "$v"
	check "$b: nothing was written or removed" -- unchanged "$b" "$v"
done

# ---- a checkpoint edited after it was signed (the local one; file:// only)
v=edited
check "two runs make five segments" -- build file "$v"
snapshot file "$v"
ck=$(ls "$work/state-$v"/witness/*.ckpt)
sed -i 's/^segments 5$/segments 2/' "$ck"
check_exit 4 "verify fails on an edited checkpoint" -- verify file "$v"
check "it names the checkpoint" -- \
	grep -q "^witness file://$work/state-$v/witness/[0-9a-f]*\.ckpt: the checkpoint does not check out" \
	<<<"$LAST_OUTPUT"
check_exit 4 "so does run" -- run file "$v"
check "which wrote nothing" -- unchanged file "$v"

# ---- putting it right (file://)
v=rollback-file
rm -rf "$TEST_TMP/arch-$v"
cp -a "$work/$v.backup" "$TEST_TMP/arch-$v"
check_exit 0 "the archive put back whole verifies against both checkpoints" -- \
	verify file "$v" --data --witness "$(witness file "$v")"
check_exit 0 "and a run goes on" -- run file "$v" --witness "$(witness file "$v")"
rm -rf "$TEST_TMP/arch-$v"
check_exit 4 "an archive started afresh where one was is refused" -- \
	run file "$v" --witness "$(witness file "$v")"
check "saying the witness saw a longer chain" -- \
	grep -qF "archive rolled back: witness saw segment 4, the archive has no segment" <<<"$LAST_OUTPUT"
rm -rf "$work/state-$v" "$work/witness-$v"
check_exit 0 "once its checkpoints are removed too, it runs" -- \
	run file "$v" --witness "$(witness file "$v")"
check_exit 0 "and verifies against the new checkpoints" -- \
	verify file "$v" --witness "$(witness file "$v")"
tap_done
