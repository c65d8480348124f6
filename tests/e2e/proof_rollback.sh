#!/usr/bin/env bash
# proof_rollback.sh: truncation and rollback of the chain are caught
# (ARCHITECTURE.md §9.6). An archive of three segments, three runs, each
# run writing its checkpoint to the local state directory (STATE_DIRECTORY)
# and to a witness (--witness file://...). Then, on a file:// archive and
# on Azurite:
#
# - rollback: the newest segment is deleted and the state the run before
#   left (validly signed) put back;
# - truncation: the state and the two newest segments are deleted.
#
# Expected: verify --witness, gc and run each exit 4, gc removes nothing
# and run writes nothing; run and gc notice from the local checkpoint
# alone too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
. "$(dirname "$0")/proof_lib.sh"
proof_tools_needed

work=$TEST_TMP
src="$work/src" key="$work/key"
export="$src/appinsights-export"
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 3 --types Requests,Exceptions \
	--blobs-per-hour 2 --seed 23 >/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
pub="$key.pub"
keyid=$(sed -n '1s/^untrusted comment: minisign public key //p' "$pub")
seg() { printf 'manifest/segments/%012d.seg' "$1"; }
idx() { printf 'manifest/index/%012d.idx' "$1"; }
if "$AIARCHIVE" run --help | grep -q -- '--witness'; then
	have_witness=1
else
	have_witness=0
	diag "run has no --witness yet: the archives are built without one"
fi

# The local checkpoint and the witness of archive NAME.
witness() { echo "file://$work/witness-$1"; }
# with_state NAME CMD...: CMD with NAME's local state directory.
with_state() {
	local v=$1; shift
	mkdir -p "$work/state-$v"
	STATE_DIRECTORY="$work/state-$v" "$@"
}
# run B NAME [OPTIONS]: a run with the clock pinned after the three hours.
run() {
	local b=$1 v=$2; shift 2
	ai_init_once "$(dest_url "$b" "$v")" "$key"
	with_state "$v" env AIARCHIVE_NOW=2026-11-20T04 "$AIARCHIVE" -q run --source "file://$export" \
		--dest "$(dest_url "$b" "$v")" --key "$key" --jobs 1 --lock-duration 15s "$@"
}
gc() {
	local b=$1 v=$2; shift 2
	with_state "$v" env AIARCHIVE_TEST_PACK_BOUND=0 "$AIARCHIVE" gc --dest "$(dest_url "$b" "$v")" --older-than 0s \
		--lock-duration 15s "$@"
}
verify_pinned() {
	local b=$1 v=$2; shift 2
	with_state "$v" "$AIARCHIVE" verify --dest "$(dest_url "$b" "$v")" --pubkey "$pub" \
		--key-id "$keyid" --data "$@"
}
# build B NAME: three runs, one segment each; NAME.state2 and
# NAME.state2.minisig keep the state the second run left.
build() {
	local b=$1 v=$2 w=()
	[ "$have_witness" = 0 ] || w=(--witness "$(witness "$v")")
	run "$b" "$v" --to 2026-11-20T01 "${w[@]}" || return 1
	run "$b" "$v" --to 2026-11-20T02 "${w[@]}" || return 1
	obj_get "$b" "$v" manifest/state "$work/$v.state2" || return 1
	obj_get "$b" "$v" manifest/state.minisig "$work/$v.state2.minisig" || return 1
	run "$b" "$v" "${w[@]}" || return 1
	obj_exists "$b" "$v" "$(seg 2)" && ! obj_exists "$b" "$v" "$(seg 3)"
}

proof_backends
for b in "${BACKENDS[@]}"; do
	for kind in rollback truncation; do
		v="$kind-$b"
		diag "---- $b: $kind"
		check "$b $kind: three runs make three segments" -- build "$b" "$v"
		check_exit 0 "$b $kind: the intact archive verifies" -- verify_pinned "$b" "$v"
		if [ "$kind" = rollback ]; then
			obj_rm "$b" "$v" "$(seg 2)" "$(seg 2).minisig" "$(idx 2)" "$(idx 2).minisig"
			if ! obj_put "$b" "$v" manifest/state "$work/$v.state2" ||
				! obj_put "$b" "$v" manifest/state.minisig "$work/$v.state2.minisig"; then
				bail_out "cannot put the old state back"
			fi
		else
			obj_rm "$b" "$v" manifest/state manifest/state.minisig
			for n in 1 2; do
				obj_rm "$b" "$v" "$(seg $n)" "$(seg $n).minisig" "$(idx $n)" "$(idx $n).minisig"
			done
		fi
		obj_list "$b" "$v" data/ >"$work/$v.data"
		obj_sums "$b" "$v" manifest/ >"$work/$v.manifest"
		out=$(verify_pinned "$b" "$v" 2>&1) && rc=0 || rc=$?
		diag "without a witness, pinned verify --data exits $rc: $(tail -1 <<<"$out")"

		check_exit 4 "$b $kind: pinned verify --data --witness fails" -- \
			verify_pinned "$b" "$v" --witness "$(witness "$v")"
		check_exit 4 "$b $kind: gc refuses, from the local checkpoint" -- gc "$b" "$v"
		check "$b $kind: it removed nothing" -- diff "$work/$v.data" <(obj_list "$b" "$v" data/)
		check_exit 4 "$b $kind: gc --witness refuses" -- gc "$b" "$v" --witness "$(witness "$v")"
		check "$b $kind: it removed nothing" -- diff "$work/$v.data" <(obj_list "$b" "$v" data/)
		check_exit 4 "$b $kind: run refuses, from the local checkpoint" -- run "$b" "$v"
		check_exit 4 "$b $kind: run --witness refuses" -- run "$b" "$v" --witness "$(witness "$v")"
		check "$b $kind: no run wrote anything under manifest/" -- \
			diff "$work/$v.manifest" <(obj_sums "$b" "$v" manifest/)
		check "$b $kind: or under data/" -- diff "$work/$v.data" <(obj_list "$b" "$v" data/)
	done
done
tap_done
