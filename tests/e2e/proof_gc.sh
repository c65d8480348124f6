#!/usr/bin/env bash
# proof_gc.sh: gc must not delete on the word of unsigned manifest objects
# (ARCHITECTURE.md §9.4 item 3: today gc checks the chain links, but no
# signature, then deletes what the chain does not name). An archive of
# three segments; a writer without the key leaves a pack out of the chain
# (tools/segforge re-encodes the segments; nothing is signed again), on a
# file:// archive and on Azurite:
#
# - head: the last segment without one of its packs, and the state's head
#   set to the edited segment; the old signatures stay (and no longer match);
# - unsigned: the same with both signatures removed;
# - no-state: the state removed, the last segment edited, its signature
#   removed (the chain is rebuilt from segment 0);
# - rechain: the middle segment edited, the last re-encoded to link to it,
#   the state's head moved on; the three signatures no longer match.
#
# Today gc follows every one of these and removes the pack (and its
# signature) as unreferenced. Expected (the fix): gc exits 4 and removes
# nothing under data/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
. "$(dirname "$0")/proof_lib.sh"
proof_tools_needed

work=$TEST_TMP
src="$work/src" key="$work/key"
export="$src/appinsights-export"
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 3 --types Requests,Exceptions \
	--blobs-per-hour 2 --seed 29 >/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
seg() { printf 'manifest/segments/%012d.seg' "$1"; }

run() {
	local b=$1 v=$2; shift 2
	ai_init_once "$(dest_url "$b" "$v")" "$key"
	AIARCHIVE_NOW=2026-11-20T04 "$AIARCHIVE" -q run --source "file://$export" \
		--dest "$(dest_url "$b" "$v")" --key "$key" --jobs 1 --lock-duration 15s "$@"
}
# build B NAME: three runs, one segment each.
build() {
	run "$1" "$2" --to 2026-11-20T01 && run "$1" "$2" --to 2026-11-20T02 && run "$1" "$2" &&
		obj_exists "$1" "$2" "$(seg 2)"
}
# first_pack FILE: the first pack a segment file names.
first_pack() {
	"$MANIFEST_DUMP" "$1" | awk -F'\t' '$1 == "pack" { print $3; exit }'
}
# edit_without_pack B NAME N OUT: segment N, re-encoded without its first
# pack, in OUT; prints the pack.
edit_without_pack() {
	local p
	obj_get "$1" "$2" "$(seg "$3")" "$4.orig" || return 1
	p=$(first_pack "$4.orig")
	[ -n "$p" ] || return 1
	"$SEGFORGE" segment "$4.orig" "$4" --drop-pack "$p" >/dev/null || return 1
	echo "$p"
}
# set_head B NAME SEGFILE: the state's head becomes SEGFILE's digest (its
# signature is left as it is).
set_head() {
	obj_get "$1" "$2" manifest/state "$work/state.orig" &&
		"$SEGFORGE" state "$work/state.orig" "$work/state.new" --head-of "$3" >/dev/null &&
		obj_put "$1" "$2" manifest/state "$work/state.new"
}

# tamper B NAME CASE: applies the case; prints the pack left out.
tamper() {
	local b=$1 v=$2 p e="$work/$2.edited"
	case $3 in
	head | unsigned | no-state)
		p=$(edit_without_pack "$b" "$v" 2 "$e") || return 1
		obj_put "$b" "$v" "$(seg 2)" "$e" || return 1
		case $3 in
		head) set_head "$b" "$v" "$e" || return 1 ;;
		unsigned)
			set_head "$b" "$v" "$e" || return 1
			obj_rm "$b" "$v" "$(seg 2).minisig" manifest/state.minisig || return 1
			;;
		no-state) obj_rm "$b" "$v" "$(seg 2).minisig" manifest/state manifest/state.minisig || return 1 ;;
		esac
		;;
	rechain)
		p=$(edit_without_pack "$b" "$v" 1 "$e") || return 1
		obj_get "$b" "$v" "$(seg 2)" "$e.2" || return 1
		"$SEGFORGE" segment "$e.2" "$e.2.new" --prev-of "$e" >/dev/null || return 1
		obj_put "$b" "$v" "$(seg 1)" "$e" && obj_put "$b" "$v" "$(seg 2)" "$e.2.new" &&
			set_head "$b" "$v" "$e.2.new" || return 1
		;;
	esac
	echo "$p"
}

proof_backends
for b in "${BACKENDS[@]}"; do
	for c in head unsigned no-state rechain; do
		v="$c-$b"
		diag "---- $b: $c"
		build "$b" "$v" || bail_out "$b: the runs failed"
		pack=$(tamper "$b" "$v" "$c") || bail_out "$b $c: tampering failed"
		obj_list "$b" "$v" data/ >"$work/$v.before"
		check "$b $c: the pack left out is there before gc" -- grep -qxF "$pack" "$work/$v.before"
		# (AIARCHIVE_TEST_PACK_BOUND=0: gc would remove even what is
		# seconds old, so that only its checks keep the packs.)
		export AIARCHIVE_TEST_PACK_BOUND=0
		out=$("$AIARCHIVE" gc --dest "$(dest_url "$b" "$v")" --older-than 0s --dry-run 2>&1) &&
			rc=0 || rc=$?
		diag "gc --dry-run exits $rc: $(tr '\n' ' ' <<<"$out" | cut -c1-400)"
		check_exit 4 "$b $c: gc refuses the unsigned chain (exit 4)" -- \
			"$AIARCHIVE" gc --dest "$(dest_url "$b" "$v")" --older-than 0s --lock-duration 15s
		check "$b $c: it names a manifest object" -- grep -Eq 'manifest/(state|segments/)' <<<"$LAST_OUTPUT"
		check "$b $c: nothing under data/ was removed" -- \
			diff "$work/$v.before" <(obj_list "$b" "$v" data/)
	done
done
tap_done
