#!/usr/bin/env bash
# proof_oracle.sh: `run` must not be a signing oracle for whoever can write
# the archive (ARCHITECTURE.md §9.4 items 1 and 2). Two plants, each on a
# file:// archive and on Azurite:
#
# - a forged segment N+1: valid msgpack, the right number and prev, no
#   .minisig; its members claim the source blobs of the hour not archived
#   yet while pointing at the real, signed members of segment N (made with
#   tools/segforge from the archive's own segment 0 and the segment of an
#   independent archive of that hour). Today the next run signs it with the
#   real key and archives nothing, and a pinned `verify --data --source`
#   says ok although the hour's blobs were never archived.
# - manifest/state with its watermark moved forward (its signature no longer
#   matches). Today the next run trusts it, skips the hours and re-signs it.
#
# Expected (the fix): run exits 4 naming the object, signs nothing, leaves
# the state as it is; verify keeps failing; with the plant removed, a run
# archives the hour.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
. "$(dirname "$0")/proof_lib.sh"
proof_tools_needed

work=$TEST_TMP
src="$work/src" key="$work/key" other="$work/other"
export="$src/appinsights-export"
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 2 --types Requests,Exceptions \
	--blobs-per-hour 2 --seed 11 >/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
"$AIARCHIVE" keygen -o "$other" >/dev/null || bail_out "keygen failed"
pub="$key.pub"
keyid=$(sed -n '1s/^untrusted comment: minisign public key //p' "$pub")
find "$export" -type f -print0 | sort -z | xargs -0 awk 1 | sort >"$work/source.lines"
seg0=manifest/segments/000000000000.seg
seg1=manifest/segments/000000000001.seg

# run URL KEY [OPTIONS]: a run with the clock pinned after both hours closed.
run() {
	local d=$1 k=$2; shift 2
	ai_init_once "$d" "$k"
	AIARCHIVE_NOW=2026-11-20T03 "$AIARCHIVE" --json run --source "file://$export" --dest "$d" \
		--key "$k" --jobs 1 --lock-duration 15s "$@"
}
# verify_pinned URL: verify with the real key and id given, data and source.
verify_pinned() {
	"$AIARCHIVE" verify --dest "$1" --pubkey "$pub" --key-id "$keyid" --data \
		--source "file://$export" --from 2026-11-20T00 --to 2026-11-20T02
}
# sig_fails B NAME OBJ: the object has no signature that stock minisign
# accepts with the real key.
sig_fails() {
	local o="$work/sigchk"
	rm -f "$o" "$o.minisig"
	obj_get "$1" "$2" "$3" "$o" || return 0
	obj_get "$1" "$2" "$3.minisig" "$o.minisig" || return 0
	if minisign -Vq -p "$pub" -m "$o" -x "$o.minisig" 2>/dev/null; then
		echo "$3 carries a valid signature of the real key: $(sed -n 's/^trusted comment: //p' "$o.minisig")"
		return 1
	fi
}
# An independent archive of the second hour, under another key: its
# segment supplies the names of the blobs the forgery claims.
run "file://$work/indep" "$other" --from 2026-11-20T01 --to 2026-11-20T02 >/dev/null ||
	bail_out "the independent run failed"
check_eq "the independent archive holds the second hour's 4 blobs" 4 \
	"$("$MANIFEST_DUMP" "$work/indep/$seg0" | awk -F'\t' '$1 == "segment" { print $5 }')"

proof_backends
for b in "${BACKENDS[@]}"; do
	diag "---- $b: a forged, unsigned segment past the state"
	v=forged
	url=$(dest_url "$b" "$v")
	check "$b: a run archives the first hour" -- run "$url" "$key" --to 2026-11-20T01
	obj_get "$b" "$v" "$seg0" "$work/$b.seg0" || bail_out "cannot read $seg0"
	"$SEGFORGE" segment "$work/$b.seg0" "$work/$b.forged" --seq 1 --prev-of "$work/$b.seg0" \
		--names-from "$work/indep/$seg0" >/dev/null || bail_out "segforge failed"
	obj_put "$b" "$v" "$seg1" "$work/$b.forged" || bail_out "cannot plant $seg1"
	obj_sums "$b" "$v" manifest/state >"$work/$b.state.before"
	obj_list "$b" "$v" data/ >"$work/$b.data.before"
	check "$b: the planted segment has no signature" -- sig_fails "$b" "$v" "$seg1"

	check_exit 4 "$b: the next run refuses the unsigned segment (exit 4)" -- run "$url" "$key"
	out=$LAST_OUTPUT
	check "$b: it names the segment" -- grep -q "$seg1" <<<"$out"
	check "$b: it did not sign the planted segment" -- sig_fails "$b" "$v" "$seg1"
	check "$b: no signature object was created for it" -- obj_absent "$b" "$v" "$seg1.minisig"
	check "$b: the state was neither rewritten nor re-signed" -- \
		diff "$work/$b.state.before" <(obj_sums "$b" "$v" manifest/state)
	check "$b: nothing was written under data/" -- \
		diff "$work/$b.data.before" <(obj_list "$b" "$v" data/)
	check_exit 4 "$b: pinned verify --data --source still fails" -- verify_pinned "$url"
	check "$b: it names the planted segment" -- grep -q "^segment $seg1: " <<<"$LAST_OUTPUT"
	obj_rm "$b" "$v" "$seg1" "$seg1.minisig"
	check_exit 0 "$b: with the plant removed, a run archives the second hour" -- run "$url" "$key"
	check "$b: every source line is archived exactly once" -- lines_once "$b" "$v"
	check_exit 0 "$b: and pinned verify --data --source passes" -- verify_pinned "$url"

	diag "---- $b: an edited manifest/state (watermark moved forward)"
	v=state
	url=$(dest_url "$b" "$v")
	check "$b: a run archives the first hour" -- run "$url" "$key" --to 2026-11-20T01
	obj_get "$b" "$v" manifest/state "$work/$b.state" || bail_out "cannot read the state"
	"$SEGFORGE" state "$work/$b.state" "$work/$b.state.edited" --watermark 2026-11-23T00 \
		>/dev/null || bail_out "segforge failed"
	obj_put "$b" "$v" manifest/state "$work/$b.state.edited" || bail_out "cannot plant the state"
	obj_sums "$b" "$v" manifest/ >"$work/$b.manifest.before"
	obj_list "$b" "$v" data/ >"$work/$b.data.before"
	check "$b: the edited state's signature no longer verifies" -- sig_fails "$b" "$v" manifest/state

	check_exit 4 "$b: the next run refuses the state (exit 4)" -- run "$url" "$key"
	check "$b: it names the state" -- grep -q "manifest/state" <<<"$LAST_OUTPUT"
	check "$b: the state was not re-signed" -- sig_fails "$b" "$v" manifest/state
	check "$b: nothing under manifest/ changed" -- \
		diff "$work/$b.manifest.before" <(obj_sums "$b" "$v" manifest/)
	check "$b: nothing was written under data/" -- \
		diff "$work/$b.data.before" <(obj_list "$b" "$v" data/)
	check_exit 4 "$b: verify still fails on the state" -- "$AIARCHIVE" verify --dest "$url" --pubkey "$pub"
	check "$b: naming it" -- grep -q "^state manifest/state: " <<<"$LAST_OUTPUT"
done
tap_done
