#!/usr/bin/env bash
# verify.sh: `aiarchive verify` on a local archive of three segments: an
# intact archive verifies clean (also with --data and in subsets, fixed or
# following the day); 200
# random single-byte flips in packs, signatures and manifest objects, a
# missing, swapped or truncated segment, a missing signature and a wrong
# pinned key id are each caught (exit 4) with a precise message; so are a
# damaged, unsigned, swapped or misplaced segment index and indexes re-signed
# with wrong contents, while a segment without an index only is counted;
# --source finds a source blob that was never archived.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"

src="$TEST_TMP/src" dst="$TEST_TMP/dst" key="$TEST_TMP/key"
export="$src/appinsights-export"
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 2 --types Requests,Exceptions \
	--blobs-per-hour 2 --rows-per-blob 4 --seed 5 >/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"

run() {
	"$AIARCHIVE" -q run --source "file://$export" --dest "file://$dst" --key "$key"
}
verify() {
	"$AIARCHIVE" verify --dest "file://$dst" "$@"
}
# A blob delivered into the current hour (which the next run picks up).
hour_dir="$export/$(ls "$export" | head -1)/Requests/$(date -u +%Y-%m-%d)/$(date -u +%H)"
first_blob=$(find "$export" -name '*.blob' | sort | head -1)
deliver() {
	mkdir -p "$hour_dir"
	cp "$first_blob" "$hour_dir/0badc0de-0000-4000-8000-00000000000$1_$(date -u +%Y%m%d_%H%M%S).blob"
}

check "init makes the archive" -- ai_init "file://$dst" "$key"
check "first run" -- run
deliver 1
check "second run after a new delivery" -- run
deliver 2
check "third run after another delivery" -- run
check "three segments" -- test -f "$dst/manifest/segments/000000000002.seg"
keyid=$(basename "$(ls "$dst"/keys/*.pub)" .pub)

# ---- an intact archive ----
check_exit 0 "an intact archive verifies" -- verify
check "the summary counts three segments" -- grep -q '^verified 3 segments' <<<"$LAST_OUTPUT"
check_exit 0 "an intact archive verifies with --data" -- verify --data
check_exit 0 "verify with the public key given" -- verify --pubkey "$key.pub" --data
check_exit 0 "verify with the right key id pinned" -- verify --key-id "$keyid"
check_exit 0 "--json" -- "$AIARCHIVE" --json verify --dest "file://$dst" --data
check "the JSON report says ok and counts every member" -- \
	jq -e '.ok and .errors == 0 and .segments == 3 and .data.members_checked == .members
	       and .problems == []' <<<"$LAST_OUTPUT"
members=$(jq .members <<<"$LAST_OUTPUT")
packs=$(jq .data.packs_checked <<<"$LAST_OUTPUT")
sum_members=0 sum_packs=0
for n in 1 2 3; do
	out=$("$AIARCHIVE" --json verify --dest "file://$dst" --subset "$n/3") || true
	sum_members=$((sum_members + $(jq .data.members_checked <<<"$out")))
	sum_packs=$((sum_packs + $(jq .data.packs_checked <<<"$out")))
done
check_eq "subsets 1/3, 2/3 and 3/3 check every member once" "$members" "$sum_members"
check_eq "and every pack once" "$packs" "$sum_packs"
a=$("$AIARCHIVE" --json verify --dest "file://$dst" --subset 2/3 | jq -c .data)
b=$("$AIARCHIVE" --json verify --dest "file://$dst" --subset 2/3 | jq -c .data)
check_eq "a subset is the same on every run" "$a" "$b"
sum_members=0 shares=
for d in 01 02 03; do
	out=$(AIARCHIVE_NOW=2026-12-${d}T03:17:00Z "$AIARCHIVE" --json verify --dest "file://$dst" \
		--subset day/3) || true
	sum_members=$((sum_members + $(jq .data.members_checked <<<"$out")))
	shares="$shares $(jq -r .data.subset <<<"$out")"
done
check_eq "--subset day/3 on three days in a row is three different shares" \
	"1/3 2/3 3/3" "$(tr ' ' '\n' <<<"$shares" | sed '/^$/d' | sort | paste -sd' ')"
check_eq "  that check every member once" "$members" "$sum_members"
check_exit 2 "--subset 0/3 is a usage error" -- verify --subset 0/3
check_exit 2 "--subset day/0 is a usage error" -- verify --subset day/0
check_exit 2 "a malformed --key-id is a usage error" -- verify --key-id nothex
check_exit 2 "--source without --from/--to is a usage error" -- verify --source "file://$export"

# ---- a wrong key ----
check_exit 4 "a wrong pinned key id fails" -- verify --key-id 0123456789ABCDEF
check "it says which key signed" -- grep -q "signed by key $keyid, not the pinned key 0123456789ABCDEF" <<<"$LAST_OUTPUT"
"$AIARCHIVE" keygen -o "$TEST_TMP/other" >/dev/null
check_exit 4 "another public key fails" -- verify --pubkey "$TEST_TMP/other.pub"

# ---- structural tampering, each on a fresh copy ----
copy() {
	rm -rf "$TEST_TMP/c"
	cp -a "$dst" "$TEST_TMP/c"
}
vc() {
	"$AIARCHIVE" verify --dest "file://$TEST_TMP/c" "$@"
}
seg=manifest/segments

copy
rm "$TEST_TMP/c/$seg/000000000001.seg" "$TEST_TMP/c/$seg/000000000001.seg.minisig"
check_exit 4 "a deleted middle segment fails" -- vc
check "it names the missing segment" -- \
	grep -q "^segment $seg/000000000001.seg: missing" <<<"$LAST_OUTPUT"

copy
mv "$TEST_TMP/c/$seg/000000000001.seg" "$TEST_TMP/c/x"
mv "$TEST_TMP/c/$seg/000000000002.seg" "$TEST_TMP/c/$seg/000000000001.seg"
mv "$TEST_TMP/c/x" "$TEST_TMP/c/$seg/000000000002.seg"
mv "$TEST_TMP/c/$seg/000000000001.seg.minisig" "$TEST_TMP/c/x"
mv "$TEST_TMP/c/$seg/000000000002.seg.minisig" "$TEST_TMP/c/$seg/000000000001.seg.minisig"
mv "$TEST_TMP/c/x" "$TEST_TMP/c/$seg/000000000002.seg.minisig"
check_exit 4 "two swapped segments (with their signatures) fail" -- vc
check "it says the segment is out of place" -- \
	grep -q "^segment $seg/000000000001.seg: says it is segment 2" <<<"$LAST_OUTPUT"
check "it says the signature is for another object" -- \
	grep -q "^segment $seg/000000000001.seg: signature is for another object" <<<"$LAST_OUTPUT"
check "it says the chain is broken" -- \
	grep -q "^segment $seg/000000000001.seg: prev hash does not match segment 0" <<<"$LAST_OUTPUT"

copy
truncate -s -3 "$TEST_TMP/c/$seg/000000000002.seg"
check_exit 4 "a truncated last segment fails" -- vc
check "it names the segment" -- \
	grep -q "^segment $seg/000000000002.seg: bad signature" <<<"$LAST_OUTPUT"
check "and the state's head no longer matches" -- \
	grep -q "^state manifest/state: head hash does not match segment 2" <<<"$LAST_OUTPUT"

copy
rm "$TEST_TMP/c/$seg/000000000002.seg" "$TEST_TMP/c/$seg/000000000002.seg.minisig"
check_exit 4 "a removed last segment fails" -- vc
check "the state shows the truncation" -- \
	grep -q "^state manifest/state: covers segments 0-2, but the chain ends at segment 1" <<<"$LAST_OUTPUT"

copy
rm "$TEST_TMP/c/$seg/000000000001.seg.minisig"
check_exit 4 "a deleted segment signature fails" -- vc
check "it names the signature" -- \
	grep -q "^segment $seg/000000000001.seg: signature $seg/000000000001.seg.minisig is missing" <<<"$LAST_OUTPUT"

copy
pack=$(cd "$TEST_TMP/c" && find data -name '*.jsonl.gz' | sort | head -1)
rm "$TEST_TMP/c/$pack.minisig"
check_exit 0 "a deleted pack signature is not seen without --data" -- vc
check_exit 4 "but it is with --data" -- vc --data
check "it names the pack" -- grep -q "^pack $pack: signature $pack.minisig is missing" <<<"$LAST_OUTPUT"

copy
rm "$TEST_TMP/c/$pack"
check_exit 4 "a deleted pack fails with --data" -- vc --data
check "it names the pack" -- grep -q "^pack $pack: missing" <<<"$LAST_OUTPUT"

copy
rm "$TEST_TMP/c/manifest/state" "$TEST_TMP/c/manifest/state.minisig"
check_exit 4 "a missing state next to segments fails (a run saves one before segment 0)" -- vc
check "it names the state" -- grep -q "^state manifest/state: missing, yet there are segments" \
	<<<"$LAST_OUTPUT"

copy
rm "$TEST_TMP/c/keys/"*.pub
check_exit 4 "an archive without its published key fails" -- vc
check_exit 0 "unless the key is given" -- vc --pubkey "$key.pub"

# ---- segment indexes ----
ix=manifest/index
idx() { printf '%s/%012d.idx' "$ix" "$1"; }
check "every segment has an index" -- test -f "$dst/$(idx 2).minisig"
check_exit 0 "an intact archive with its indexes verifies" -- verify
check "the summary counts them" -- grep -q '^verified 3 segments ([0-9]* members), 3 indexes, .*; ok$' <<<"$LAST_OUTPUT"
check_exit 0 "--json" -- "$AIARCHIVE" --json verify --dest "file://$dst"
check "the JSON report counts the indexes" -- \
	jq -e '.indexes == 3 and .segments_without_index == 0' <<<"$LAST_OUTPUT"
if command -v minisign >/dev/null 2>&1; then
	index_sigs_ok() {
		local n tc
		for n in 0 1 2; do
			minisign -Vq -p "$dst/keys/$keyid.pub" -m "$dst/$(idx $n)" || return 1
			tc=$(sed -n 's/^trusted comment: //p' "$dst/$(idx $n).minisig")
			case $tc in
			"aiarchive segment-index $(idx $n) sha256=$(sha256sum <"$dst/$(idx $n)" | cut -c1-64) "*) ;;
			*) echo "$(idx $n): trusted comment '$tc'"; return 1 ;;
			esac
		done
	}
	check "stock minisign verifies every index with the published key" -- index_sigs_ok
else
	diag "minisign not installed: index signatures not checked with it"
fi

# flipbyte FILE OFFSET: inverts one byte of FILE.
flipbyte() {
	perl -e 'open(my $f, "+<:raw", $ARGV[0]) or die; seek($f, $ARGV[1], 0); read($f, my $b, 1);
		seek($f, $ARGV[1], 0); print $f chr(ord($b) ^ 0xff); close($f) or die' "$1" "$2"
}

copy
flipbyte "$TEST_TMP/c/$(idx 1)" 40
check_exit 4 "a flipped byte of an index fails" -- vc
check "it names the index" -- grep -q "^segment-index $(idx 1): bad signature" <<<"$LAST_OUTPUT"

copy
flipbyte "$TEST_TMP/c/$(idx 1).minisig" "$(($(stat -c %s "$TEST_TMP/c/$(idx 1).minisig") - 10))"
check_exit 4 "a flipped byte of an index's signature fails" -- vc
check "it names the index" -- grep -q "^segment-index $(idx 1): " <<<"$LAST_OUTPUT"

copy
rm "$TEST_TMP/c/$(idx 1).minisig"
check_exit 4 "an index without its signature fails" -- vc
check "it names the signature" -- \
	grep -q "^segment-index $(idx 1): signature $(idx 1).minisig is missing" <<<"$LAST_OUTPUT"

copy
for f in "" .minisig; do
	mv "$TEST_TMP/c/$(idx 1)$f" "$TEST_TMP/c/x"
	mv "$TEST_TMP/c/$(idx 2)$f" "$TEST_TMP/c/$(idx 1)$f"
	mv "$TEST_TMP/c/x" "$TEST_TMP/c/$(idx 2)$f"
done
check_exit 4 "two swapped indexes (with their signatures) fail" -- vc
check "it says the signature is for another object" -- \
	grep -q "^segment-index $(idx 1): signature is for another object" <<<"$LAST_OUTPUT"
check "it says the index is out of place" -- \
	grep -q "^segment-index $(idx 1): says it is the index of segment 2" <<<"$LAST_OUTPUT"
check "and that it is of other bytes" -- \
	grep -q "^segment-index $(idx 2): segment sha256 does not match $seg/000000000002.seg" <<<"$LAST_OUTPUT"

copy
cp "$TEST_TMP/c/$(idx 2)" "$TEST_TMP/c/$(idx 1)"
cp "$TEST_TMP/c/$(idx 2).minisig" "$TEST_TMP/c/$(idx 1).minisig"
check_exit 4 "the next segment's index copied over one (with its signature) fails" -- vc
check "it says its segment digest does not match" -- \
	grep -q "^segment-index $(idx 1): segment sha256 does not match $seg/000000000001.seg" <<<"$LAST_OUTPUT"
check "and only index 1 is wrong" -- \
	bash -c '! grep -v -e "^segment-index $1: " -e "^verified " <<<"$2"' _ "$(idx 1)" "$LAST_OUTPUT"
check "the closing line counts the problems and names the first" -- \
	grep -qE "^aiarchive: verify: [0-9]+ problems? found \(first: segment-index $(idx 1): .*; exit 4$" <<<"$LAST_CLOSING"

copy
cp "$TEST_TMP/c/$(idx 2)" "$TEST_TMP/c/$(idx 5)"
cp "$TEST_TMP/c/$(idx 2).minisig" "$TEST_TMP/c/$(idx 5).minisig"
check_exit 4 "an index of a segment that does not exist fails" -- vc
check "it names the index and the segment" -- \
	grep -q "^segment-index $(idx 5): its segment $seg/000000000005.seg does not exist" <<<"$LAST_OUTPUT"

copy
rm "$TEST_TMP/c/$(idx 1)" "$TEST_TMP/c/$(idx 1).minisig"
check_exit 0 "a segment without an index verifies (it is read in full)" -- vc
check "the summary says so" -- \
	grep -q '; 1 segment has no index (it is read in full); ok$' <<<"$LAST_OUTPUT"
check_exit 0 "--json" -- "$AIARCHIVE" --json verify --dest "file://$TEST_TMP/c"
check "the JSON report counts it" -- \
	jq -e '.ok and .indexes == 2 and .segments_without_index == 1' <<<"$LAST_OUTPUT"
rm "$TEST_TMP/c/$(idx 0)" "$TEST_TMP/c/$(idx 0).minisig"
check_exit 0 "two segments without an index" -- vc
check "are counted" -- grep -q '; 2 segments have no index (they are read in full); ok$' <<<"$LAST_OUTPUT"

copy
rm "$TEST_TMP/c/$(idx 1)"
check_exit 0 "an index removed but for its signature is only a warning" -- vc
check "naming the index" -- \
	grep -q "segment-index $(idx 1): missing (its signature is still there)" <<<"$LAST_OUTPUT"

# Indexes signed with the archive's key but saying something else about
# their segment: each disagreement is found (the signature alone does not
# vouch that an index is right). minisign reads aiarchive's key file.
if command -v minisign >/dev/null 2>&1; then
	# resign N PERL: edits index N with a perl substitution and signs the result.
	resign() {
		local f
		f="$TEST_TMP/c/$(idx "$1")"
		perl -0777 -pi -e "$2" "$f"
		rm -f "$f.minisig"
		minisign -S -s "$key" -m "$f" -x "$f.minisig" </dev/null >/dev/null \
			-t "aiarchive segment-index $(idx "$1") sha256=$(sha256sum <"$f" | cut -c1-64) time=x"
	}
	# Each case: what is edited | the perl substitution | what verify says.
	cases=(
		'the member count|s/\xa7members([\x01-\x7e])/"\xa7members" . chr(ord($1) + 1)/e|counts [0-9]* members, '"$seg"'/000000000001.seg has'
		'roles_complete|s/\xaeroles_complete\xc3/\xaeroles_complete\xc2/|roles_complete is false, but the members of'
		'an app|s/\xa8shop-web/\xa8shop-wea/|apps: lists .shop-wea. where the segment.s members have .shop-web.'
		'the segment digest|s/\xa7segment\xc4\x20(.)/"\xa7segment\xc4\x20" . chr(ord($1) ^ 1)/se|segment sha256 does not match'
		'the number|s/\xa3seq\x01/\xa3seq\x02/|says it is the index of segment 2'
	)
	for c in "${cases[@]}"; do
		IFS='|' read -r what edit says <<<"$c"
		copy
		resign 1 "$edit"
		check "an index re-signed with another $what: its signature verifies" -- \
			minisign -Vq -p "$key.pub" -m "$TEST_TMP/c/$(idx 1)"
		check_exit 4 "  but verify fails" -- vc
		check "  naming what is wrong" -- grep -q "^segment-index $(idx 1): $says" <<<"$LAST_OUTPUT"
		check "  and nothing else" -- test "$(wc -l <<<"$LAST_OUTPUT")" -eq 2
	done
fi

# ---- 200 random single-byte flips ----
# Every signed byte: packs and manifest objects whole, signature files but
# their first line (minisign's untrusted comment, which nothing signs).
# A flipped byte of a pack or its signature must be caught by --data (plain
# verify reads no pack), the others by plain verify.
# Four workers, each with its own copy, flip a byte, verify, flip it back.
cat >"$TEST_TMP/flip.pl" <<'EOF'
# flip.pl AIARCHIVE DIR PLAN: for each "FILE OFFSET XOR" line of PLAN,
# flips that byte of DIR/FILE, verifies DIR, and restores the byte. Prints
# "caught FILE" when verify exits 4 naming the object, else "MISSED ...".
use strict;
use warnings;
my ($bin, $dir, $plan) = @ARGV;
open(STDERR, '>', '/dev/null') or die;
sub flip {
	my ($path, $off, $x) = @_;
	open(my $fh, '+<:raw', $path) or die "$path: $!";
	seek($fh, $off, 0) or die;
	read($fh, my $b, 1) == 1 or die "$path: short";
	seek($fh, $off, 0) or die;
	print $fh chr(ord($b) ^ $x);
	close($fh) or die;
}
open(my $pf, '<', $plan) or die;
while (my $line = <$pf>) {
	my ($f, $off, $x) = split ' ', $line;
	flip("$dir/$f", $off, $x);
	my @cmd = ($bin, 'verify', '--dest', "file://$dir");
	push @cmd, '--data' if $f =~ /\.jsonl\.gz(\.minisig)?$/;
	open(my $out, '-|', @cmd) or die;
	my $text = do { local $/; <$out> } // '';
	close($out);
	my $rc = $? >> 8;
	flip("$dir/$f", $off, $x);
	(my $obj = $f) =~ s/\.minisig$//;
	# The problem names the object (a signature's problem names what it
	# signs; a flipped key id, the unpublished key "needed by" the object).
	if ($rc == 4 && (index($text, " $obj: ") >= 0 || index($text, " $obj)") >= 0)) {
		print "caught $f\n";
	} else {
		$text =~ s/\n/ /g;
		print "MISSED $f at $off xor $x (exit $rc): ", substr($text, 0, 300), "\n";
	}
}
EOF
mapfile -t targets < <(cd "$dst" && find data manifest -type f | sort)
sizes=() starts=()
for f in "${targets[@]}"; do
	sizes+=("$(stat -c %s "$dst/$f")")
	first=
	case $f in *.minisig) IFS= read -r first <"$dst/$f" && first+=x ;; esac
	starts+=("${#first}") # the untrusted comment line and its newline
done
RANDOM=4242
workers=4
for ((k = 0; k < workers; k++)); do
	cp -a "$dst" "$TEST_TMP/w$k"
	: >"$TEST_TMP/plan$k"
done
for ((i = 0; i < 200; i++)); do
	t=$((RANDOM % ${#targets[@]}))
	start=${starts[t]}
	off=$((start + (RANDOM * 32768 + RANDOM) % (sizes[t] - start)))
	echo "${targets[t]} $off $((RANDOM % 255 + 1))" >>"$TEST_TMP/plan$((i % workers))"
done
for ((k = 0; k < workers; k++)); do
	perl "$TEST_TMP/flip.pl" "$AIARCHIVE" "$TEST_TMP/w$k" "$TEST_TMP/plan$k" >"$TEST_TMP/res$k" &
done
wait
results=$(cat "$TEST_TMP"/res*)
ncaught=$(grep -c '^caught ' <<<"$results")
check_eq "all 200 flips are caught (exit 4, naming the object)" 200 "$ncaught"
grep '^MISSED' <<<"$results" | head -10 | while IFS= read -r l; do diag "$l"; done
for k in 'jsonl\.gz$' 'jsonl\.gz\.minisig$' 'seg$' 'seg\.minisig$' 'idx$' 'idx\.minisig$' \
	'manifest/state$' 'manifest/state\.minisig$'; do
	check "some flips hit *${k//\\/}" -- grep -q "^caught .*$k" <<<"$results"
done
for ((k = 0; k < workers; k++)); do
	check "worker $k restored every byte" -- diff -r "$dst" "$TEST_TMP/w$k"
done

# ---- the source ----
from=2026-11-20T00
to=$(date -u -d '+1 hour' +%Y-%m-%dT%H)
check_exit 0 "--source: everything in the window is archived" -- \
	verify --source "file://$export" --from "$from" --to "$to"
check "the summary counts the source blobs" -- grep -q 'source: [0-9]* blobs, 0 missing' <<<"$LAST_OUTPUT"
deliver 3
check_exit 4 "--source finds a blob delivered after the last run" -- \
	verify --source "file://$export" --from "$from" --to "$to"
check "it names the blob" -- \
	grep -q "^source blob .*/0badc0de-0000-4000-8000-000000000003_.*\.blob: not archived" <<<"$LAST_OUTPUT"
# The same, with the archived ranges sorted through a temporary file (one
# range per run in memory), as past a few million members.
want=$(sort <<<"$LAST_OUTPUT")
export AIARCHIVE_TEST_RANGES_IN_MEMORY=1
check_exit 4 "--source with the archived ranges in sorted runs in a temporary file" -- \
	verify --source "file://$export" --from "$from" --to "$to"
unset AIARCHIVE_TEST_RANGES_IN_MEMORY
check_eq "  finds the same" "$want" "$(sort <<<"$LAST_OUTPUT")"
check "  over many runs" -- test "$(grep -o 'source: [0-9]* blobs' <<<"$LAST_OUTPUT" | tr -dc 0-9)" -gt 3
check_exit 4 "--json" -- "$AIARCHIVE" --json verify --dest "file://$dst" --source "file://$export" \
	--from "$from" --to "$to"
check "the JSON report counts one missing blob" -- \
	jq -e '.ok == false and .source.missing == 1 and .problems[0].kind == "source blob"' \
	<<<"$(grep '^{' <<<"$LAST_OUTPUT" | head -n 1)"
check "then the error object, naming the blob" -- \
	jq -e '.error.exit == 4 and .error.code == "verify" and (.error.object | test("0badc0de"))' \
	<<<"$(grep '^{' <<<"$LAST_OUTPUT" | tail -n 1)"
check_exit 0 "a window before the new blob passes" -- \
	verify --source "file://$export" --from "$from" --to 2026-11-20T02
check "a run archives it" -- run
check_exit 0 "after which the window passes again" -- \
	verify --source "file://$export" --from "$from" --to "$to" --data
tap_done
