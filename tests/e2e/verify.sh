#!/usr/bin/env bash
# verify.sh: `aiarchive verify` on a local archive of three segments: an
# intact archive verifies clean (also with --data and in subsets); 200
# random single-byte flips in packs, signatures and manifest objects, a
# missing, swapped or truncated segment, a missing signature and a wrong
# pinned key id are each caught (exit 4) with a precise message; --source
# finds a source blob that was never archived.
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
check_exit 2 "--subset 0/3 is a usage error" -- verify --subset 0/3
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
check_exit 0 "a missing state is only a warning (the chain is the truth)" -- vc

copy
rm "$TEST_TMP/c/keys/"*.pub
check_exit 4 "an archive without its published key fails" -- vc
check_exit 0 "unless the key is given" -- vc --pubkey "$key.pub"

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
	# The problem names the object (a signature's problem names what it signs).
	if ($rc == 4 && index($text, " $obj: ") >= 0) {
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
for k in 'jsonl\.gz$' 'jsonl\.gz\.minisig$' 'seg$' 'seg\.minisig$' 'manifest/state$' \
	'manifest/state\.minisig$'; do
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
check_exit 4 "--json" -- "$AIARCHIVE" --json verify --dest "file://$dst" --source "file://$export" \
	--from "$from" --to "$to"
check "the JSON report counts one missing blob" -- \
	jq -e '.ok == false and .source.missing == 1 and .problems[0].kind == "source blob"' <<<"$LAST_OUTPUT"
check_exit 0 "a window before the new blob passes" -- \
	verify --source "file://$export" --from "$from" --to 2026-11-20T02
check "a run archives it" -- run
check_exit 0 "after which the window passes again" -- \
	verify --source "file://$export" --from "$from" --to "$to" --data
tap_done
