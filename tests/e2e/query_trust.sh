#!/usr/bin/env bash
# query_trust.sh: `aiarchive query` and `aiarchive cat` use only manifest
# objects signed by the trusted key: an untouched archive passes (also with
# --key-id and --pubkey); a segment replaced by one another key signed, an
# edited state, a wrong --key-id or --pubkey each exit 4 with one line
# naming the object, and print nothing of it; a cached copy of the genuine
# segment does not hide a replaced one (against Azurite, where the cache
# is used). The archives here are as runs made them before `aiarchive
# init` existed (their genesis is removed): their readers trust the keys
# published under keys/, as ARCHITECTURE.md §9.2 says; identity.sh checks
# archives with a genesis, whose readers trust only its key chain.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"

src="$TEST_TMP/src" dst="$TEST_TMP/dst" other="$TEST_TMP/other"
key="$TEST_TMP/key" key2="$TEST_TMP/key2"
export="$src/appinsights-export"
export XDG_CACHE_HOME="$TEST_TMP/xdg-cache"
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 2 --types Requests,Exceptions \
	--blobs-per-hour 2 --rows-per-blob 4 --seed 7 >/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
"$AIARCHIVE" keygen -o "$key2" >/dev/null || bail_out "keygen failed"

# The same source archived twice, by two keys, in three runs each: the
# second archive's segments are validly encoded and validly signed, by
# the wrong key.
run() {
	"$AIARCHIVE" -q run --source "file://$export" --dest "$1" --key "$2"
}
ai_init "file://$dst" "$key" || bail_out "init failed"
ai_init "file://$other" "$key2" || bail_out "init of the other archive failed"
hour_dir="$export/$(ls "$export" | head -1)/Requests/$(date -u +%Y-%m-%d)/$(date -u +%H)"
first_blob=$(find "$export" -name '*.blob' | sort | head -1)
deliver() {
	mkdir -p "$hour_dir"
	cp "$first_blob" "$hour_dir/0badc0de-0000-4000-8000-00000000000$1_$(date -u +%Y%m%d_%H%M%S).blob"
}
check "first runs" -- run "file://$dst" "$key"
run "file://$other" "$key2" || bail_out "run into the other archive failed"
# The state the first run left covers segment 0 alone: put back later, it
# leaves the newer segments past the state.
cp "$dst/manifest/state" "$TEST_TMP/state1"
cp "$dst/manifest/state.minisig" "$TEST_TMP/state1.minisig"
deliver 1
check "second runs" -- run "file://$dst" "$key"
run "file://$other" "$key2" || bail_out "run into the other archive failed"
deliver 2
check "third runs" -- run "file://$dst" "$key"
run "file://$other" "$key2" || bail_out "run into the other archive failed"
seg=manifest/segments
check "three segments in each" -- \
	test -f "$dst/$seg/000000000002.seg" -a -f "$other/$seg/000000000002.seg"
# Archives from before init: no genesis.
rm "$dst/manifest/genesis" "$dst/manifest/genesis.minisig" \
	"$other/manifest/genesis" "$other/manifest/genesis.minisig"
keyid=$(basename "$(ls "$dst"/keys/*.pub)" .pub)
keyid2=$(basename "$(ls "$other"/keys/*.pub)" .pub)
check "the two keys differ" -- test "$keyid" != "$keyid2"

q() {
	"$AIARCHIVE" query --format jsonl --dest "$@"
}
c() {
	"$AIARCHIVE" cat --dest "$@"
}

# ---- an untouched archive ----
D="file://$dst"
check_exit 0 "query of an untouched archive" -- q "$D"
nmembers=$(q "$D" | wc -l)
check "it lists members" -- test "$nmembers" -gt 0
check_exit 0 "cat of an untouched archive" -- c "$D"
check_exit 0 "query with the right key id pinned" -- q "$D" --key-id "$keyid"
check_exit 0 "cat with the right key id pinned (lowercase)" -- \
	c "$D" --key-id "$(tr A-F a-f <<<"$keyid")"
check_exit 0 "query with the public key given" -- q "$D" --pubkey "$key.pub"
check_exit 0 "cat with the public key given and pinned" -- \
	c "$D" --pubkey "$key.pub" --key-id "$keyid"
check_exit 2 "a malformed --key-id is a usage error" -- q "$D" --key-id 12345
check_exit 2 "a missing --pubkey file is a configuration error" -- q "$D" --pubkey "$TEST_TMP/nope"
check "--help names --pubkey and --key-id" -- bash -c '
	for c in query cat; do
		"$1" $c --help | grep -q -- "--pubkey FILE" &&
		"$1" $c --help | grep -q -- "--key-id ID" || exit 1
	done' _ "$AIARCHIVE"

# ---- the wrong key asked for ----
check_exit 4 "query with another key id pinned fails" -- q "$D" --key-id "$keyid2"
check "it names the state and both keys" -- \
	grep -q "state 'manifest/state': signed by key $keyid, not the pinned key $keyid2" <<<"$LAST_OUTPUT"
check_exit 4 "cat with another key id pinned fails" -- c "$D" --key-id "$keyid2"
check_exit 4 "query with another public key fails" -- q "$D" --pubkey "$key2.pub"
check "it says the signature does not verify with that key" -- \
	grep -q "state 'manifest/state': signature does not verify with key $keyid2" <<<"$LAST_OUTPUT"
check_exit 4 "cat with another public key fails" -- c "$D" --pubkey "$key2.pub"
check_exit 4 "a --pubkey whose id is not the pinned one fails" -- \
	q "$D" --pubkey "$key.pub" --key-id "$keyid2"
check "it says so" -- grep -q -- "--pubkey: has key id $keyid, not the pinned $keyid2" <<<"$LAST_OUTPUT"

# ---- tampering, each on a fresh copy ----
copy() {
	rm -rf "$TEST_TMP/c"
	cp -a "$dst" "$TEST_TMP/c"
}
C="file://$TEST_TMP/c"
# Replaces segment 1 (and its signature) by the other archive's.
swap_in() {
	cp "$other/$seg/000000000001.seg" "$1/$seg/000000000001.seg"
	cp "$other/$seg/000000000001.seg.minisig" "$1/$seg/000000000001.seg.minisig"
}
bad_seg="segment '$seg/000000000001.seg'"

copy
swap_in "$TEST_TMP/c"
check_exit 4 "query of an archive with a segment signed by another key fails" -- q "$C"
check "one error line names the segment, the signer and the unpublished key" -- bash -c '
	[ "$(grep -c "error:" <<<"$1")" -eq 1 ] &&
	grep -qF "$2: signed by key $3, and key '\''keys/$3.pub'\'': not published; run '\''aiarchive verify'\''" <<<"$1"' \
	_ "$LAST_OUTPUT" "$bad_seg" "$keyid2"
check_exit 4 "cat of it fails" -- c "$C"
check "cat prints no row" -- bash -c 'test -z "$("$1" cat --dest "$2" 2>/dev/null)"' _ "$AIARCHIVE" "$C"
check "query prints the segment before it, nothing of it" -- bash -c '
	"$1" query --format jsonl --dest "$2" 2>/dev/null | jq -e "select(.segment == 0)" >/dev/null &&
	! "$1" query --format jsonl --dest "$2" 2>/dev/null | jq -e "select(.segment == 1)" >/dev/null' \
	_ "$AIARCHIVE" "$C"
check_exit 4 "query --key-id fails on it too" -- q "$C" --key-id "$keyid"
check "as signed by another key than the pinned one" -- \
	grep -qF "$bad_seg: signed by key $keyid2, not the pinned key $keyid" <<<"$LAST_OUTPUT"
check_exit 4 "query --pubkey fails on it too" -- q "$C" --pubkey "$key.pub"
check "as a signature that does not verify with the given key" -- \
	grep -qF "$bad_seg: signature does not verify with key $keyid" <<<"$LAST_OUTPUT"
# Whoever can write the archive can publish a key too: only a pin (or
# --pubkey) stops that.
cp "$other/keys/$keyid2.pub" "$TEST_TMP/c/keys/"
check_exit 4 "with the other key published as well, a pinned query still fails" -- \
	q "$C" --key-id "$keyid"
check_exit 4 "and so does cat with --pubkey" -- c "$C" --pubkey "$key.pub"
check_exit 0 "a window that selects no other segment does not read it" -- bash -c '
	"$1" query --format jsonl --dest "$2" --key-id "$3" --from 2000-01-01T00 --to 2000-01-01T01' \
	_ "$AIARCHIVE" "$C" "$keyid"

copy
cp "$TEST_TMP/c/$seg/000000000002.seg" "$TEST_TMP/c/$seg/000000000001.seg"
cp "$TEST_TMP/c/$seg/000000000002.seg.minisig" "$TEST_TMP/c/$seg/000000000001.seg.minisig"
check_exit 4 "a segment copied over another with its signature fails" -- q "$C"
check "as a signature for another object" -- \
	grep -qF "$bad_seg: signature is for another object" <<<"$LAST_OUTPUT"

copy
cp "$other/$seg/000000000002.seg" "$TEST_TMP/c/$seg/000000000002.seg"
check_exit 4 "a replaced head segment fails (the state records its digest)" -- q "$C"
check "it names the head segment" -- \
	grep -qF "segment '$seg/000000000002.seg': not the head segment the signed state records" <<<"$LAST_OUTPUT"

copy
rm "$TEST_TMP/c/$seg/000000000001.seg.minisig"
check_exit 4 "a segment without its signature fails" -- c "$C"
check "it names the signature" -- \
	grep -qF "$bad_seg: signature $seg/000000000001.seg.minisig is missing" <<<"$LAST_OUTPUT"

flip() { # flip FILE OFFSET: xors one byte
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 0x01)))" | dd of="$1" bs=1 seek="$2" count=1 conv=notrunc status=none
}
copy
size=$(stat -c %s "$TEST_TMP/c/manifest/state")
flip "$TEST_TMP/c/manifest/state" $((size / 2))
check_exit 4 "query of an archive whose state was edited (one byte) fails" -- q "$C"
check "it names the state" -- \
	grep -qF "state 'manifest/state': signature does not verify with key $keyid" <<<"$LAST_OUTPUT"
check_exit 4 "so does cat" -- c "$C"
check "and prints no row" -- bash -c 'test -z "$("$1" cat --dest "$2" 2>/dev/null)"' _ "$AIARCHIVE" "$C"
flip "$TEST_TMP/c/manifest/state" $((size / 2))
flip "$TEST_TMP/c/manifest/state.minisig" $(($(stat -c %s "$TEST_TMP/c/manifest/state.minisig") - 10))
check_exit 4 "an edited state signature fails" -- q "$C"

# With an older state, the segments past it (here 1 and 2) are each checked.
old_state() {
	rm "$TEST_TMP/c/manifest/state" "$TEST_TMP/c/manifest/state.minisig"
	cp "$TEST_TMP/state1" "$TEST_TMP/c/manifest/state"
	cp "$TEST_TMP/state1.minisig" "$TEST_TMP/c/manifest/state.minisig"
}
copy
old_state
check_exit 0 "with an older state, query reads the signed chain past it" -- q "$C"
check_eq "and lists every member" "$nmembers" "$(q "$C" 2>/dev/null | wc -l)"
swap_in "$TEST_TMP/c"
check_exit 4 "with an older state, a replaced segment past it fails" -- q "$C" --key-id "$keyid"
check "it names the segment" -- grep -qF "$bad_seg: signed by key $keyid2" <<<"$LAST_OUTPUT"
# A run saves a state before its first segment: segments without one had
# it removed (ARCHITECTURE.md §7.2).
copy
rm "$TEST_TMP/c/manifest/state" "$TEST_TMP/c/manifest/state.minisig"
check_exit 4 "without a state, query refuses the segments" -- q "$C"
check "naming the state" -- grep -qF "state 'manifest/state': missing, yet" <<<"$LAST_OUTPUT"
check_exit 4 "so does cat" -- c "$C"
copy
old_state
rm "$TEST_TMP/c/$seg/000000000002.seg.minisig"
check_exit 0 "a newest segment not signed yet is left out, with a warning" -- q "$C"
check "the warning names it" -- \
	grep -qF "segment '$seg/000000000002.seg': not signed yet" <<<"$LAST_OUTPUT"
check "its members are not listed" -- bash -c '
	! "$1" query --format jsonl --dest "$2" 2>/dev/null | jq -e "select(.segment == 2)" >/dev/null' \
	_ "$AIARCHIVE" "$C"

# ---- the segment cache (used for remote archives only) ----
if [ -x "$AZURITE_BIN" ] && command -v node >/dev/null 2>&1; then
	azurite_start AZ || bail_out "azurite did not start"
	export AIARCHIVE_DEST_KEY="$AZURITE_KEY" AZ_CONN
	AZ="$AZ_URL/archive"
	cache="$TEST_TMP/cache"
	# The local archive, copied up as it is.
	blobtool mkcontainer archive >/dev/null
	(cd "$dst" && find . -type f | sed 's|^\./||') | while IFS= read -r f; do
		blobtool put archive "$f" "$dst/$f" >/dev/null || echo "upload of $f failed"
	done >"$TEST_TMP/upload.err"
	check "the archive is copied into Azurite" -- test ! -s "$TEST_TMP/upload.err"
	check_exit 0 "Azure: query fills the cache" -- q "$AZ" --cache-dir "$cache"
	check_exit 0 "Azure: a second query reads the cache" -- \
		"$AIARCHIVE" -v query --format jsonl --dest "$AZ" --cache-dir "$cache" --key-id "$keyid"
	check "all three segments from the cache" -- grep -q "(3 from the cache," <<<"$LAST_OUTPUT"
	blobtool put archive "$seg/000000000001.seg" "$other/$seg/000000000001.seg" >/dev/null
	blobtool put archive "$seg/000000000001.seg.minisig" "$other/$seg/000000000001.seg.minisig" \
		>/dev/null
	check_exit 4 "Azure: a replaced segment fails although the cache holds the genuine one" -- \
		q "$AZ" --cache-dir "$cache"
	check "it names the segment" -- grep -qF "$bad_seg: signed by key $keyid2" <<<"$LAST_OUTPUT"
	check_exit 4 "Azure: cat too" -- c "$AZ" --cache-dir "$cache" --key-id "$keyid"
	check "cat prints no row" -- bash -c '
		test -z "$("$1" cat --dest "$2" --cache-dir "$3" 2>/dev/null)"' _ "$AIARCHIVE" "$AZ" "$cache"
	check_exit 4 "Azure: and with --no-cache" -- q "$AZ" --no-cache
	blobtool put archive "$seg/000000000001.seg" "$dst/$seg/000000000001.seg" >/dev/null
	blobtool put archive "$seg/000000000001.seg.minisig" "$dst/$seg/000000000001.seg.minisig" \
		>/dev/null
	check_exit 0 "Azure: the genuine segment put back passes again" -- q "$AZ" --cache-dir "$cache"
	azurite_stop AZ
else
	diag "azurite not installed: the cache part is skipped"
fi
tap_done
