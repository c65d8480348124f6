#!/usr/bin/env bash
# identity.sh: an archive's identity and key rotation, in a local directory
# and in Azurite. `init` writes a genesis the stock minisign verifies and
# refuses a second time; `run` refuses a destination init has not made
# (exit 2, naming init, writing nothing: a typo in --dest starts no second
# archive) and a key other than the archive's current one (exit 4, writing
# nothing); `run --rotate-key` records the new key signed by the old one,
# after which query, cat and verify accept the old segments and the new;
# a forged rotation record makes run and verify exit 4; a key published by
# someone else is not trusted; the readers say which key they trust and
# whether it was pinned; an archive made before init is adopted only with
# its own key.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v minisign >/dev/null 2>&1 || skip_all "minisign not installed"

src="$TEST_TMP/src" export="$TEST_TMP/src/appinsights-export"
k1="$TEST_TMP/k1" k2="$TEST_TMP/k2" k3="$TEST_TMP/k3"
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 2 --types Requests,Exceptions \
	--blobs-per-hour 2 --rows-per-blob 4 --seed 17 >/dev/null || bail_out "aigen failed"
for k in "$k1" "$k2" "$k3"; do
	"$AIARCHIVE" keygen -o "$k" >/dev/null || bail_out "keygen failed"
done
keyid() { sed -n 's/^untrusted comment: minisign public key //p' "$1.pub"; }
K1=$(keyid "$k1") K2=$(keyid "$k2") K3=$(keyid "$k3")
hour_dir="$export/$(ls "$export" | head -1)/Requests/$(date -u +%Y-%m-%d)/$(date -u +%H)"
first_blob=$(find "$export" -name '*.blob' | sort | head -1)
deliver() { # N: a new blob in the current hour
	mkdir -p "$hour_dir"
	cp "$first_blob" "$hour_dir/0badc0de-0000-4000-8000-00000000000$1_$(date -u +%Y%m%d_%H%M%S).blob"
}
# files DIR: every object of a local archive, sorted (not the store's own).
files() {
	(cd "$1" && find . -path ./.aiarchive-store -prune -o -type f -print | LC_ALL=C sort)
}

dst="$TEST_TMP/archive"
D="file://$dst"
run() { # DEST KEY [OPTIONS]
	"$AIARCHIVE" --json run --source "file://$export" --dest "$1" --key "$2" "${@:3}"
}

# ---- init ----
check_exit 2 "run before init exits 2" -- run "$D" "$k1"
check "it says to run init, naming the destination" -- \
	grep -qF "dest '$D': no archive here; create it with 'aiarchive init --dest $D --key FILE'" \
	<<<"$LAST_OUTPUT"
check "and writes nothing there" -- test ! -e "$dst"
check_exit 2 "a dry run before init exits 2 too" -- \
	"$AIARCHIVE" run --dry-run --source "file://$export" --dest "$D"
check_exit 0 "init" -- "$AIARCHIVE" --json init --dest "$D" --key "$k1"
init_json=$LAST_OUTPUT
id=$(jq -r .archive_id <<<"$init_json")
check "it names a random archive id and the key" -- \
	jq -e --arg k "$K1" '(.archive_id | test("^[0-9a-f]{32}$")) and .key_id == $k and
		.adopted == false' <<<"$init_json"
check "stock minisign verifies the genesis with the key" -- \
	minisign -Vq -m "$dst/manifest/genesis" -p "$k1.pub"
check "its trusted comment names it" -- \
	grep -q "^trusted comment: aiarchive genesis manifest/genesis sha256=$(sha256sum <"$dst/manifest/genesis" | cut -c1-64) " \
	"$dst/manifest/genesis.minisig"
check "the key is published" -- cmp "$dst/keys/$K1.pub" "$k1.pub"
check_exit 2 "init a second time exits 2" -- "$AIARCHIVE" init --dest "$D" --key "$k2"
check "naming the archive there" -- grep -qF "dest '$D': already an archive (id $id)" <<<"$LAST_OUTPUT"
check "and changes nothing" -- minisign -Vq -m "$dst/manifest/genesis" -p "$k1.pub"

# ---- runs and keys ----
check_exit 0 "a run with the archive's key" -- run "$D" "$k1"
check "its summary names the archive and the key" -- \
	jq -e --arg id "$id" --arg k "$K1" '.archive_id == $id and .key_id == $k and
		.key_rotation == null and .blobs > 0' <<<"$LAST_OUTPUT"
typo="$TEST_TMP/archvie"
check_exit 2 "a run into a mistyped --dest exits 2" -- run "file://$typo" "$k1"
check "and writes nothing there" -- test ! -e "$typo"
files "$dst" >"$TEST_TMP/before"
check_exit 4 "a run with another key exits 4" -- run "$D" "$k2"
check "it names both keys and the way to rotate" -- \
	grep -qF "key $K2 is not this archive's current key $K1; use --rotate-key" <<<"$LAST_OUTPUT"
check "and writes nothing (no lock, no key)" -- diff "$TEST_TMP/before" <(files "$dst")
check_exit 2 "--rotate-key without --old-key is a usage error" -- run "$D" "$k2" --rotate-key
check_exit 4 "--rotate-key with an --old-key that is not the archive's key exits 4" -- \
	run "$D" "$k2" --rotate-key --old-key "$k3"
check "and writes nothing" -- diff "$TEST_TMP/before" <(files "$dst")

# ---- readers say what they trust ----
says() { # WHAT COMMAND...: COMMAND's info lines name the archive, the key and how
	"${@:2}" 2>&1 >/dev/null | grep -qF "archive $id: trusting key $K1 ($1)"
}
for c in query cat verify status; do
	check "$c says it trusts the genesis key, not pinned" -- \
		says "the archive's genesis key, not pinned" "$AIARCHIVE" -v "$c" --dest "$D"
done
check "query with --key-id says pinned" -- \
	says "pinned" "$AIARCHIVE" -v query --dest "$D" --key-id "$K1"
check "cat with --pubkey says so" -- says "from --pubkey" "$AIARCHIVE" -v cat --dest "$D" --pubkey "$k1.pub"
check "status with --key-id says pinned" -- says "pinned" "$AIARCHIVE" -v status --dest "$D" --key-id "$K1"
check_exit 0 "verify --json" -- "$AIARCHIVE" --json verify --dest "$D" --key-id "$K1"
check "it reports the trust, pinned" -- \
	jq -e --arg id "$id" --arg k "$K1" '.ok and .trust == {archive_id: $id, key_id: $k,
		how: "pinned", pinned: true, keys: [$k]}' <<<"$LAST_OUTPUT"
check_exit 0 "status --json" -- "$AIARCHIVE" --json status --dest "$D"
check "it reports the trust, not pinned" -- \
	jq -e --arg k "$K1" '.trust.key_id == $k and .trust.how == "genesis" and
		.trust.pinned == false' <<<"$LAST_OUTPUT"
check_exit 4 "a pin that is not the archive's key fails" -- \
	"$AIARCHIVE" query --dest "$D" --key-id "$K3"
check "saying so" -- grep -qF "the pinned key $K3 is not one of this archive's keys ($K1)" <<<"$LAST_OUTPUT"
check_exit 4 "so does another --pubkey" -- "$AIARCHIVE" status --dest "$D" --pubkey "$k3.pub"

# A segment signed by another key, whose public key is published too: the
# archive's chain, not keys/, says whom to trust.
other="$TEST_TMP/other"
ai_init "file://$other" "$k3" || bail_out "init of the other archive failed"
run "file://$other" "$k3" >/dev/null || bail_out "run into the other archive failed"
rm -rf "$TEST_TMP/c" && cp -a "$dst" "$TEST_TMP/c"
for f in "" .minisig; do
	cp "$other/manifest/segments/000000000000.seg$f" "$TEST_TMP/c/manifest/segments/"
done
rm "$TEST_TMP/c/manifest/state" "$TEST_TMP/c/manifest/state.minisig"
cp "$other/keys/$K3.pub" "$TEST_TMP/c/keys/"
check_exit 4 "query of a segment signed by a published key outside the chain fails" -- \
	"$AIARCHIVE" query --dest "file://$TEST_TMP/c" --format jsonl
check "naming the segment and the key" -- \
	grep -qF "segment 'manifest/segments/000000000000.seg': signed by key $K3, which is not one of this archive's keys" \
	<<<"$LAST_OUTPUT"
check_exit 4 "verify catches it too" -- "$AIARCHIVE" verify --dest "file://$TEST_TMP/c"

# ---- rotation ----
deliver 1
check_exit 0 "run --rotate-key --old-key" -- run "$D" "$k2" --rotate-key --old-key "$k1"
check "its summary names the rotation" -- \
	jq -e --arg a "$K1" --arg b "$K2" '.key_rotation == {seq: 1, from: $a, to: $b} and
		.key_id == $b and .blobs == 1' <<<"$(grep '^{' <<<"$LAST_OUTPUT")"
rot="$dst/manifest/keys/000000000001.rot"
check "stock minisign verifies the rotation record with the old key" -- \
	minisign -Vq -m "$rot" -p "$k1.pub"
check "the new key is published" -- cmp "$dst/keys/$K2.pub" "$k2.pub"
check "the new segment is signed by the new key" -- \
	minisign -Vq -m "$dst/manifest/segments/000000000001.seg" -p "$k2.pub"
check_exit 0 "run --rotate-key again does not rotate twice" -- run "$D" "$k2" --rotate-key --old-key "$k1"
check "  and says no rotation" -- jq -e '.key_rotation == null' <<<"$(grep '^{' <<<"$LAST_OUTPUT")"
check_exit 4 "a run with the replaced key exits 4" -- run "$D" "$k1"
check "  saying it was replaced" -- grep -qF "key $K1 is not this archive's current key $K2: key rotation 1 replaced it" <<<"$LAST_OUTPUT"
deliver 2
check_exit 0 "a run with the new key" -- run "$D" "$k2"
check_exit 0 "verify accepts the segments of both keys" -- "$AIARCHIVE" verify --dest "$D" --data
check "  three segments" -- grep -q '^verified 3 segments' <<<"$LAST_OUTPUT"
check_exit 0 "query lists the members of every segment" -- "$AIARCHIVE" query --dest "$D" --format jsonl
check "  old and new" -- bash -c 'jq -s -e "map(.segment) | unique == [0, 1, 2]" <<<"$1" >/dev/null' _ "$LAST_OUTPUT"
check "cat prints every row" -- \
	bash -c 'test "$("$1" cat --dest "$2" | wc -l)" -eq "$(find "$3" -name "*.blob" -print0 | xargs -0 awk 1 | wc -l)"' \
	_ "$AIARCHIVE" "$D" "$export"
check "readers name the genesis key and the rotation" -- \
	bash -c '"$1" -v query --dest "$2" 2>&1 >/dev/null |
		grep -qF "archive $3: trusting key $4 (the archive'"'"'s genesis key, not pinned), rotated to $5"' \
	_ "$AIARCHIVE" "$D" "$id" "$K1" "$K2"
check_exit 0 "the genesis key pinned accepts both" -- "$AIARCHIVE" verify --dest "$D" --key-id "$K1"
check_exit 4 "the new key pinned refuses what the old one signed" -- \
	"$AIARCHIVE" verify --dest "$D" --key-id "$K2"
check "  as replaced before the pin" -- \
	grep -qF "signed by key $K1, which the archive replaced before the pinned key $K2" <<<"$LAST_OUTPUT"

# ---- a forged rotation: to the attacker's key, signed by it ----
forge() { # DIR: rotation 2 from K2 to K3, made from rotation 1 and signed by k3
	local d=$1 f="$1/manifest/keys/000000000002.rot"
	B="$(sed -n 2p "$k2.pub")" C="$(sed -n 2p "$k3.pub")" \
		X="$K1" Y="$K2" Z="$K3" perl -0777 -pe '
			s/\Q$ENV{Y}\E/$ENV{Z}/; s/\Q$ENV{X}\E/$ENV{Y}/; s/\Q$ENV{B}\E/$ENV{C}/;
			s/\xa3seq\x01/\xa3seq\x02/' "$d/manifest/keys/000000000001.rot" >"$f"
	minisign -S -s "$k3" -m "$f" -x "$f.minisig" </dev/null >/dev/null \
		-t "aiarchive key-rotation manifest/keys/000000000002.rot sha256=$(sha256sum <"$f" | cut -c1-64) time=x"
}
rm -rf "$TEST_TMP/f" && cp -a "$dst" "$TEST_TMP/f"
forge "$TEST_TMP/f"
check "the forged record verifies with the attacker's key" -- \
	minisign -Vq -m "$TEST_TMP/f/manifest/keys/000000000002.rot" -p "$k3.pub"
check_exit 4 "a run with the attacker's key exits 4" -- run "file://$TEST_TMP/f" "$k3"
check "  naming the record and its signer" -- \
	grep -qF "key-rotation 'manifest/keys/000000000002.rot': signed by key $K3, not by key $K2" <<<"$LAST_OUTPUT"
check_exit 4 "so does a run with the archive's key" -- run "file://$TEST_TMP/f" "$k2"
check_exit 4 "verify exits 4" -- "$AIARCHIVE" verify --dest "file://$TEST_TMP/f"
check "  naming the record" -- \
	grep -q "^key-rotation manifest/keys/000000000002.rot: signed by key $K3, not by key $K2" <<<"$LAST_OUTPUT"
check_exit 4 "query exits 4" -- "$AIARCHIVE" query --dest "file://$TEST_TMP/f"
rm "$TEST_TMP/f/manifest/keys/000000000002.rot.minisig"
check_exit 4 "a rotation record without its signature fails as well" -- \
	"$AIARCHIVE" verify --dest "file://$TEST_TMP/f"
rm "$TEST_TMP/f/manifest/keys/000000000002.rot"
cp "$dst/manifest/keys/000000000001.rot" "$TEST_TMP/f/manifest/keys/000000000003.rot"
check_exit 4 "a gap in the rotations fails" -- "$AIARCHIVE" verify --dest "file://$TEST_TMP/f"
check "  naming the missing record" -- \
	grep -q "^key-rotation manifest/keys/000000000002.rot: missing" <<<"$LAST_OUTPUT"
rm -rf "$TEST_TMP/f" && cp -a "$dst" "$TEST_TMP/f"
printf 'x' | dd of="$TEST_TMP/f/manifest/genesis" bs=1 seek=30 conv=notrunc status=none
check_exit 4 "an edited genesis fails verify" -- "$AIARCHIVE" verify --dest "file://$TEST_TMP/f"
check "  naming it" -- grep -q "^genesis manifest/genesis: " <<<"$LAST_OUTPUT"
check_exit 4 "and the run" -- run "file://$TEST_TMP/f" "$k2"

# ---- an archive made before init ----
old="$TEST_TMP/old"
ai_init "file://$old" "$k1" && run "file://$old" "$k1" >/dev/null || bail_out "the old archive"
rm "$old/manifest/genesis" "$old/manifest/genesis.minisig"
check_exit 2 "a run into an archive without a genesis exits 2" -- run "file://$old" "$k1"
check_exit 0 "verify only warns of it" -- "$AIARCHIVE" verify --dest "file://$old"
check "  saying so" -- grep -q "genesis manifest/genesis: missing: an archive made before 'aiarchive init'" <<<"$LAST_OUTPUT"
files "$old" >"$TEST_TMP/before"
check_exit 4 "init with another key refuses to adopt it" -- "$AIARCHIVE" init --dest "file://$old" --key "$k2"
check "  saying it does not verify with that key" -- \
	grep -qF "holds an archive without a genesis that does not verify with key $K2" <<<"$LAST_OUTPUT"
check "  and writes nothing" -- diff "$TEST_TMP/before" <(files "$old")
check_exit 0 "init with its own key adopts it" -- "$AIARCHIVE" init --dest "file://$old" --key "$k1"
check "  saying so" -- grep -q "adopted the archive at file://$old (1 segments, verified with key $K1)" <<<"$LAST_OUTPUT"
deliver 3
check_exit 0 "after which runs go on" -- run "file://$old" "$k1"
check_exit 0 "  and verify passes without a warning" -- "$AIARCHIVE" verify --dest "file://$old"
check "  (none)" -- bash -c '! grep -q warning <<<"$1"' _ "$LAST_OUTPUT"

# ---- Azurite ----
if [ -x "$AZURITE_BIN" ] && command -v node >/dev/null 2>&1; then
	azurite_start AZ || bail_out "azurite did not start"
	export AIARCHIVE_DEST_KEY="$AZURITE_KEY" AZ_CONN
	AD="$AZ_URL/archive"
	no_container() { # NAME: the account has no container NAME
		local l
		l=$(blobtool list-containers) || return 1
		! grep -qx "$1" <<<"$l"
	}
	genesis_verifies() {
		blobtool get archive manifest/genesis >"$TEST_TMP/g" &&
			blobtool get archive manifest/genesis.minisig >"$TEST_TMP/g.minisig" &&
			minisign -Vq -m "$TEST_TMP/g" -p "$k1.pub"
	}
	check_exit 2 "Azure: run before init exits 2" -- run "$AD" "$k1"
	check "  and makes no container" -- no_container archive
	check_exit 0 "Azure: init" -- "$AIARCHIVE" init --dest "$AD" --key "$k1"
	check "  the genesis verifies with stock minisign" -- genesis_verifies
	check_exit 2 "Azure: init twice exits 2" -- "$AIARCHIVE" init --dest "$AD" --key "$k1"
	check_exit 0 "Azure: a run" -- run "$AD" "$k1"
	check_exit 2 "Azure: a run into a mistyped container exits 2" -- run "$AZ_URL/archvie" "$k1"
	check "  and makes no container" -- no_container archvie
	before=$(blobtool list archive | cut -f1 | sort)
	check_exit 4 "Azure: a run with another key exits 4" -- run "$AD" "$k2"
	check "  and writes nothing" -- diff <(echo "$before") <(blobtool list archive | cut -f1 | sort)
	check_exit 0 "Azure: run --rotate-key" -- run "$AD" "$k2" --rotate-key --old-key "$k1"
	check_exit 0 "Azure: a run with the new key" -- run "$AD" "$k2"
	check_exit 0 "Azure: verify --data accepts both keys" -- "$AIARCHIVE" verify --dest "$AD" --data
	check_exit 0 "Azure: query too" -- "$AIARCHIVE" query --dest "$AD" --no-cache --format jsonl
	blobtool download-tree archive "$TEST_TMP/az" >/dev/null || bail_out "download failed"
	forge "$TEST_TMP/az"
	for f in "" .minisig; do
		blobtool put archive "manifest/keys/000000000002.rot$f" \
			"$TEST_TMP/az/manifest/keys/000000000002.rot$f" >/dev/null
	done
	check_exit 4 "Azure: a forged rotation record makes the run exit 4" -- run "$AD" "$k3"
	check_exit 4 "  and verify" -- "$AIARCHIVE" verify --dest "$AD"
	azurite_stop AZ
else
	diag "azurite not installed: the Azure part is skipped"
fi
tap_done
