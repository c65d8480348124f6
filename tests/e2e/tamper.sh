#!/usr/bin/env bash
# tamper.sh: the tamper campaign (ARCHITECTURE.md §9.5). One small genuine
# archive on file:// (three runs: segments 0-2, their indexes, six packs, a
# state), built once; then, for each tamper class, a copy of it with the
# tampering applied, and against the copy:
#
#   verify pinned     verify --pubkey PUB --key-id ID --data [--witness W]
#   verify unpinned   verify --data [--witness W]   (trusts keys/<ID>.pub)
#   query, cat        pinned (--pubkey, --key-id), --no-cache, --app APP (the
#                     only app: everything matches, and the indexes are read)
#   run               the real key, the same source, a clock after a fourth
#                     hour the genuine archive does not hold yet, so that
#                     the run has work (new packs, segment 3, a new state)
#
# Each exit code is recorded; the table goes to TAMPER_TSV (default
# tests/e2e/tamper.tsv under the build dir) and tests/e2e/tamper.md, and
# out as TAP diagnostics. TAMPER_TABLE=markdown also prints the Markdown
# table (for doc/ARCHITECTURE.md §9.5) on stdout before the plan;
# TAMPER_LOGS=DIR keeps what every command printed.
#
# Asserted per class:
#   - pinned verify --data (with --witness when it exists) exits non-zero,
#     unless the class is in OUT_OF_SCOPE below (by design, each explained
#     in §9.5), or in NEEDS_WITNESS and the witness has not landed;
#   - the run signs nothing over tampered content: every .minisig or
#     carried signature it writes or restores is for an object it wrote
#     itself in that run, or for an object whose bytes are the genuine
#     archive's;
#   - a run does not launder: when pinned verify caught the class before
#     the run, it still does after it.
#
# The witness (run/verify --witness) and the archive identity (aiarchive
# init, manifest/genesis) are detected: before they land, the archive is
# built without them and the classes only a witness catches are reported,
# not asserted.
#
# Cells: the exit code; "w" when a command exiting 0 printed a warning;
# "*" when query or cat exited 0 with an output that differs from the
# genuine archive's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
. "$(dirname "$0")/proof_lib.sh"
proof_tools_needed
command -v perl >/dev/null 2>&1 || skip_all "perl not installed"
perl -MDigest::SHA -MMIME::Base64 -e 1 2>/dev/null || skip_all "perl lacks Digest::SHA or MIME::Base64"

work=$TEST_TMP
src="$work/src" key="$work/key" other="$work/other" forged="$work/forged"
export="$src/appinsights-export"
export XDG_CACHE_HOME="$work/xdg-cache"
: "${TAMPER_TSV:=$top_builddir/tests/e2e/tamper.tsv}"
TAMPER_MD=${TAMPER_TSV%.tsv}.md
mkdir -p "$(dirname "$TAMPER_TSV")"

# Every class works on $A, the same path each time, so that a host
# checkpoint or a witness keyed by the archive's location applies to each.
A="$work/arch" url="file://$work/arch"
G="$work/genuine" G2="$work/genuine-run2" F="$work/foreign"
W="$work/witness" wurl="file://$work/witness"

"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 4 --types Requests,Exceptions \
	--blobs-per-hour 2 --seed 31 >/dev/null || bail_out "aigen failed"
for k in "$key" "$other"; do
	"$AIARCHIVE" keygen -o "$k" >/dev/null || bail_out "keygen failed"
done
pub="$key.pub"
keyid=$(sed -n '1s/^untrusted comment: minisign public key //p' "$pub")
otherid=$(sed -n '1s/^untrusted comment: minisign public key //p' "$other.pub")

# ---- helpers (perl, so that one process does what many forks would) ----
cat >"$work/tt.pl" <<'EOF'
# tt.pl CMD ARGS: the campaign's byte-level helpers.
use strict;
use warnings;
use Digest::SHA;
use File::Find;
use MIME::Base64;
my $cmd = shift @ARGV;
my $SD = '.aiarchive-store';
sub props { my ($root, $rel) = @_; my @st = stat("$root/$rel") or return;
	return sprintf("%s/%s/props/%x", $root, $SD, $st[1]); }
sub files { my ($root) = @_; my @r;
	return () unless -d $root;
	find({ no_chdir => 1, wanted => sub {
		if ($File::Find::name eq "$root/$SD") { $File::Find::prune = 1; return; }
		push @r, substr($File::Find::name, length($root) + 1) if -f $File::Find::name;
	} }, $root);
	return sort @r; }
sub flip { my ($file, $off) = @_;
	open(my $f, '+<:raw', $file) or die "$file: $!";
	seek($f, $off, 0); read($f, my $c, 1) == 1 or die "$file: no byte at $off\n";
	my $o = ord $c;
	# Digits and letters stay digits and letters (base64 stays base64).
	my $n = $c =~ /[0-9]/ ? 48 + ($o - 48 + 1) % 10 : $c =~ /[A-Za-z]/ ? $o ^ 0x20 : $o ^ 0x01;
	seek($f, $off, 0); print $f chr($n); close $f or die; }
if ($cmd eq 'snap') {
	# snap ROOT: "SHA256  NAME" of every blob, and "SHA256  NAME#meta" of
	# the signature each one carries in its metadata (file:// props).
	my ($root) = @ARGV;
	for my $rel (files($root)) {
		print Digest::SHA->new(256)->addfile("$root/$rel")->hexdigest, "  $rel\n";
		my $p = props($root, $rel);
		next unless $p && open(my $f, '<', $p);
		my @m = sort grep { /^meta minisig_/ } <$f>;
		print Digest::SHA::sha256_hex(join('', @m)), "  $rel#meta\n" if @m;
	}
} elsif ($cmd eq 'check') {
	# check GENUINE BEFORE AFTER: every signature (file or carried) the run
	# wrote must be for an object the run wrote, or one that is genuine.
	my @h;
	for my $s (@ARGV) { my %m; open(my $f, '<', $s) or die "$s: $!";
		while (<$f>) { chomp; my ($d, $n) = split /  /, $_, 2; $m{$n} = $d; } push @h, \%m; }
	my ($g, $b, $a) = @h;
	for my $n (sort keys %$a) {
		next unless $n =~ /^(.*)(\.minisig|#meta)$/;
		my $o = $1;
		next if exists $b->{$n} && $b->{$n} eq $a->{$n};
		if (!exists $a->{$o}) { print "wrote a signature $n for an object that is not there\n"; next; }
		next unless exists $b->{$o} && $b->{$o} eq $a->{$o};    # the run wrote the object
		next if exists $g->{$o} && $g->{$o} eq $a->{$o};         # genuine bytes
		print "signed $o (" . ($2 eq '#meta' ? 'carried signature' : '.minisig') .
			"), whose bytes are not the genuine archive's\n";
	}
} elsif ($cmd eq 'flip') {
	my ($file, $off) = @ARGV;
	$off = (-s $file) + $off if $off < 0;
	flip($file, $off);
} elsif ($cmd eq 'flipline') {
	# flipline FILE LINE COL: one character of line LINE (1-based); a
	# negative COL counts from the line's end.
	my ($file, $line, $col) = @ARGV;
	open(my $f, '<:raw', $file) or die "$file: $!";
	my ($off, $n) = (0, 0);
	while (my $l = <$f>) {
		if (++$n == $line) { chomp $l; $col += length $l if $col < 0;
			die "$file: line $line is shorter\n" if $col >= length $l;
			close $f; flip($file, $off + $col); exit 0; }
		$off += length $l;
	}
	die "$file: no line $line\n";
} elsif ($cmd eq 'remap') {
	# remap SRC DST: DST is a cp -a of the file:// store SRC; the props
	# sidecars are keyed by inode, so give each copied blob its own.
	my ($src, $dst) = @ARGV;
	system('rm', '-rf', "$dst/$SD/props", "$dst/$SD/leases") == 0 or die;
	mkdir "$dst/$SD"; mkdir "$dst/$SD/props" or die "$dst: $!";
	for my $rel (files($src)) {
		my $p = props($src, $rel) or next;
		next unless -f $p;
		system('cp', $p, props($dst, $rel)) == 0 or die;
	}
} elsif ($cmd eq 'forgekey') {
	# forgekey SK PUB ID-PUB OUT: the key pair SK/PUB relabelled with the
	# key id of ID-PUB (a key id is not derived from the key, §9.2).
	my ($sk, $pk, $idpub, $out) = @ARGV;
	my $rd = sub { open(my $f, '<', $_[0]) or die "$_[0]: $!"; my @l = <$f>; chomp @l; @l };
	my @id = $rd->($idpub); my $idb = substr(decode_base64($id[1]), 2, 8);
	(my $idhex = $id[0]) =~ s/.* //;
	my @s = $rd->($sk); my $sb = decode_base64($s[1]); substr($sb, 54, 8) = $idb;
	my @p = $rd->($pk); my $pb = decode_base64($p[1]); substr($pb, 2, 8) = $idb;
	open(my $f, '>', $out) or die;
	print $f "untrusted comment: aiarchive secret key $idhex, unencrypted\n", encode_base64($sb, ''), "\n";
	close $f;
	open($f, '>', "$out.pub") or die;
	print $f "untrusted comment: minisign public key $idhex\n", encode_base64($pb, ''), "\n";
	close $f;
} else { die "tt.pl: unknown command $cmd\n"; }
EOF
tt() { perl "$work/tt.pl" "$@"; }

# clone SRC DST: a copy of a file:// store with its metadata.
clone() {
	rm -rf "$2"
	[ -e "$1" ] || return 0
	cp -a "$1" "$2" && { [ ! -d "$2/.aiarchive-store" ] || tt remap "$1" "$2"; }
}
seg() { printf 'manifest/segments/%012d.seg' "$1"; }
idx() { printf 'manifest/index/%012d.idx' "$1"; }
ST=manifest/state KEYF="keys/$keyid.pub"
# props_of NAME: the props sidecar of $A's blob NAME.
props_of() { printf '%s/.aiarchive-store/props/%x' "$A" "$(stat -c %i "$A/$1")"; }
# del NAME...: removes blobs of $A with their metadata.
del() {
	local n
	for n in "$@"; do
		[ -f "$A/$n" ] || continue
		rm -f "$(props_of "$n")" "$A/$n"
	done
}
# put_from ROOT NAME [AS]: copies blob NAME of store ROOT into $A (as AS),
# metadata included, as Azure's Copy Blob does.
put_from() {
	local r=$1 n=$2 as=${3:-$2} p
	del "$as"
	mkdir -p "$(dirname "$A/$as")"
	cp "$r/$n" "$A/$as"
	p=$(printf '%s/.aiarchive-store/props/%x' "$r" "$(stat -c %i "$r/$n")")
	[ ! -f "$p" ] || cp "$p" "$(props_of "$as")"
}
# put_file FILE NAME: FILE becomes blob NAME, without metadata.
put_file() {
	del "$2"
	mkdir -p "$(dirname "$A/$2")"
	cp "$1" "$A/$2"
}
# swap X Y: the two blobs (with their metadata) trade names.
swap() {
	mv "$A/$1" "$A/$1.swap" && mv "$A/$2" "$A/$1" && mv "$A/$1.swap" "$A/$2"
}
flip() { tt flip "$A/$1" "$2"; }
flipline() { tt flipline "$A/$1" "$2" "$3"; }
mid() { echo $(($(stat -c %s "$A/$1") / 2)); }
# keep_lines NAME N: truncates the blob to its first N lines.
keep_lines() { truncate -s "$(head -n "$2" "$A/$1" | wc -c)" "$A/$1"; }
meta_strip() { sed -i '/^meta minisig_/d' "$(props_of "$1")"; }
# meta_copy FROM NAME: NAME carries the signature FROM carries.
meta_copy() {
	local p
	p=$(props_of "$2")
	{ grep -v '^meta minisig_' "$p"; grep '^meta minisig_' "$(props_of "$1")"; } >"$p.new"
	mv "$p.new" "$p"
}
# sign_as SK ID FILE KIND NAME: FILE.minisig, made with SK the way run
# signs blob NAME (minisign's own tool, so no aiarchive code signs it).
sign_as() {
	local sk=$1 id=$2 f=$3 kind=$4 n=$5 sha
	sha=$(sha256sum <"$f" | cut -d' ' -f1)
	minisign -S -s "$sk" -m "$f" -x "$f.minisig" -c "signature from aiarchive key $id" \
		-t "aiarchive $kind $n sha256=$sha time=2026-11-20T05:10:00Z" >/dev/null </dev/null
}

# resign_all SK ID: every .minisig of $A made again with SK under the same
# trusted comment, and the carried signatures stripped: an archive signed
# throughout by SK.
resign_all() {
	local s o
	while IFS= read -r s; do
		o=${s%.minisig}
		minisign -S -s "$1" -m "$A/$o" -x "$work/resign.minisig" -c "signature from aiarchive key $2" \
			-t "$(sed -n 's/^trusted comment: //p' "$A/$s")" >/dev/null </dev/null || return 1
		cat "$work/resign.minisig" >"$A/$s"
		[ ! -f "$(props_of "$o")" ] || meta_strip "$o"
	done < <(cd "$A" && find data manifest -name '*.minisig')
}

# ---- features landing on other branches ----
have_witness=0
if "$AIARCHIVE" run --help 2>&1 | grep -q -- --witness; then
	have_witness=1
else
	diag "run has no --witness yet: the classes only a witness catches are reported, not asserted"
fi
# WOPT[CMD]: the --witness option for CMD, when CMD has one.
declare -A WOPT=()
for c in run verify query cat init; do
	WOPT[$c]=
	if [ "$have_witness" = 1 ] && "$AIARCHIVE" "$c" --help 2>&1 | grep -q -- --witness; then
		WOPT[$c]="--witness $wurl"
	fi
done
have_init=0
if "$AIARCHIVE" init --help >/dev/null 2>&1; then
	have_init=1
else
	diag "no aiarchive init yet: the archive has no genesis object"
fi
# init_archive URL: aiarchive init with the options its --help lists.
init_archive() {
	local h args=(--dest "$1")
	h=$("$AIARCHIVE" init --help 2>&1)
	! grep -q -- --key <<<"$h" || args+=(--key "$key")
	[ "$1" != "$url" ] || [ -z "${WOPT[init]}" ] || args+=(--witness "$wurl")
	"$AIARCHIVE" -q init "${args[@]}"
}

# ---- the commands, against $A ----
# shellcheck disable=SC2086 # WOPT values are two words or none
verify_pinned() {
	"$AIARCHIVE" verify --dest "$url" --pubkey "$pub" --key-id "$keyid" --data --jobs 2 ${WOPT[verify]}
}
# shellcheck disable=SC2086
verify_unpinned() { "$AIARCHIVE" verify --dest "$url" --data --jobs 2 ${WOPT[verify]}; }
# shellcheck disable=SC2086
query() {
	"$AIARCHIVE" query --dest "$url" --pubkey "$pub" --key-id "$keyid" --no-cache \
		--app "$app" --format jsonl ${WOPT[query]}
}
# shellcheck disable=SC2086
cat_all() {
	"$AIARCHIVE" cat --dest "$url" --pubkey "$pub" --key-id "$keyid" --no-cache --jobs 2 \
		--app "$app" ${WOPT[cat]}
}
# run_at DEST [OPTIONS]: a run with the clock after the source's fourth hour.
run_at() {
	local d=$1; shift
	AIARCHIVE_NOW=2026-11-20T05 "$AIARCHIVE" run --source "file://$export" --dest "$d" \
		--key "$key" --jobs 1 --lock-duration 15s "$@"
}
# shellcheck disable=SC2086
run_here() { run_at "$url" ${WOPT[run]} "$@"; }

# ---- the genuine archive: three runs, one delivery hour each ----
if [ "$have_init" = 1 ] && ! init_archive "$url" >"$work/init.log" 2>&1; then
	diag "aiarchive init failed (the runs go on without it):" "$(cat "$work/init.log")"
	have_init=0
fi
run_here --to 2026-11-20T01 >/dev/null || bail_out "run 1 failed"
run_here --to 2026-11-20T02 >/dev/null || bail_out "run 2 failed"
clone "$A" "$G2" && clone "$W" "$G2.witness" && clone "$XDG_STATE_HOME" "$G2.xdg" ||
	bail_out "cannot copy the archive after run 2"
run_here --to 2026-11-20T03 >/dev/null || bail_out "run 3 failed"
clone "$A" "$G" && clone "$W" "$G.witness" || bail_out "cannot copy the genuine archive"
# Another archive of the same key and source (two runs): its segment 1 is
# validly signed, numbered and named, and records the same blobs.
[ "$have_init" = 0 ] || init_archive "file://$F" >/dev/null 2>&1 || diag "aiarchive init of the other archive failed"
run_at "file://$F" --to 2026-11-20T01 >/dev/null && run_at "file://$F" --to 2026-11-20T02 >/dev/null ||
	bail_out "the other archive's runs failed"
clone "$XDG_STATE_HOME" "$G.xdg" || bail_out "cannot copy the host state"
check_exit 0 "the genuine archive passes pinned verify --data" -- verify_pinned
check "it has segments 0-2 and no segment 3" -- \
	test -f "$A/$(seg 2)" -a ! -f "$A/$(seg 3)" -a -f "$A/$(idx 2)" -a -f "$A/$ST"
archive_dump "$G" "$work/genuine.dump"
packs_of() { awk -F'\t' -v s="$1" '$1 == "pack" && $2 == s { print $3 }' "$work/genuine.dump"; }
mapfile -t P1 < <(packs_of 1)
PA=${P1[0]} PB=${P1[1]} PC=$(packs_of 0 | head -1) PD=$(packs_of 2 | head -1)
check "segment 1 records two packs" -- test -n "$PB" -a -f "$G/$PA" -a -f "$G/$PB"
mapfile -t FP1 < <(awk -F'\t' '$1 == "pack" && $2 == 1 { print $3 }' <("$MANIFEST_DUMP" "$F/$(seg 1)"))
tt snap "$G" >"$work/genuine.snap"
app=$(ls "$G/data")
query >"$work/genuine.query" 2>/dev/null || bail_out "query of the genuine archive failed"
cat_all >"$work/genuine.cat" 2>/dev/null || bail_out "cat of the genuine archive failed"
check "cat of the genuine archive gives its three hours' lines" -- \
	test "$(wc -l <"$work/genuine.cat")" -gt 0

# Forged objects, made once: segment 2 without one of its packs and a state
# headed on it, signed with a key relabelled with the real key id (forged)
# and with another key under its own id (other).
tt forgekey "$other" "$other.pub" "$pub" "$forged" || bail_out "cannot relabel the key"
check_eq "the relabelled key carries the real key id" "$keyid" \
	"$(sed -n '1s/^untrusted comment: minisign public key //p' "$forged.pub")"
mkdir -p "$work/f"
for k in forged other; do
	kid=$keyid
	[ $k = forged ] || kid=$otherid
	"$SEGFORGE" segment "$G/$(seg 2)" "$work/f/$k.seg2" --drop-pack "$PD" --key-id "$kid" \
		>/dev/null && "$SEGFORGE" state "$G/$ST" "$work/f/$k.state" --head-of "$work/f/$k.seg2" \
		>/dev/null || bail_out "segforge failed"
	sk=$forged
	[ $k = forged ] || sk=$other
	sign_as "$sk" "$kid" "$work/f/$k.seg2" segment "$(seg 2)" &&
		sign_as "$sk" "$kid" "$work/f/$k.state" state "$ST" || bail_out "minisign -S failed"
done
# An unsigned segment 3 past the head, chained to segment 2.
"$SEGFORGE" segment "$G/$(seg 2)" "$work/f/seg3" --seq 3 --prev-of "$G/$(seg 2)" >/dev/null ||
	bail_out "segforge failed"

# ---- the classes ----
# add NAME DESCRIPTION [FN [ARG]]: class NAME is applied by t_FN ARG
# (FN defaults to NAME with dashes as underscores).
CLASSES=()
declare -A DESC=() FN=() ARG=()
add() { CLASSES+=("$1"); DESC[$1]=$2; FN[$1]=${3:-${1//-/_}}; ARG[$1]=${4:-}; }

add control "nothing (the genuine archive)"
t_control() { :; }

# Byte flips, one in each kind of object.
add pack-flip-header "pack: a byte of its first member's gzip header (MTIME)"
t_pack_flip_header() { flip "$PA" 4; }
add pack-flip-middle "pack: a byte in the middle (compressed data)"
t_pack_flip_middle() { flip "$PA" "$(mid "$PA")"; }
add pack-flip-trailer "pack: a byte of its last member's gzip trailer (ISIZE)"
t_pack_flip_trailer() { flip "$PA" -2; }
add packsig-flip-sig "pack .minisig: the signature"
t_packsig_flip_sig() { flipline "$PA.minisig" 2 40; }
add packsig-flip-keyid "pack .minisig: the key id in the signature line"
t_packsig_flip_keyid() { flipline "$PA.minisig" 2 5; }
add packsig-flip-trusted "pack .minisig: the trusted comment (its time)"
t_packsig_flip_trusted() { flipline "$PA.minisig" 3 -3; }
add packsig-flip-global "pack .minisig: the global (trusted-comment) signature"
t_packsig_flip_global() { flipline "$PA.minisig" 4 30; }
add packsig-flip-untrusted "pack .minisig: the untrusted comment"
t_packsig_flip_untrusted() { flipline "$PA.minisig" 1 25; }
add seg-flip-middle "segment 1 (of 0-2): a byte in the middle"
t_seg_flip_middle() { flip "$(seg 1)" "$(mid "$(seg 1)")"; }
add seg-flip-last "segment 2, the last: a byte in the middle"
t_seg_flip_last() { flip "$(seg 2)" "$(mid "$(seg 2)")"; }
add segsig-flip-sig "segment 1 .minisig: the signature"
t_segsig_flip_sig() { flipline "$(seg 1).minisig" 2 40; }
add segsig-flip-trusted "segment 1 .minisig: the trusted comment"
t_segsig_flip_trusted() { flipline "$(seg 1).minisig" 3 -3; }
add segsig-flip-global "segment 1 .minisig: the global signature"
t_segsig_flip_global() { flipline "$(seg 1).minisig" 4 30; }
add segsig-flip-untrusted "segment 1 .minisig: the untrusted comment"
t_segsig_flip_untrusted() { flipline "$(seg 1).minisig" 1 25; }
add idx-flip "index 1: a byte in the middle"
t_idx_flip() { flip "$(idx 1)" "$(mid "$(idx 1)")"; }
add idxsig-flip-sig "index 1 .minisig: the signature"
t_idxsig_flip_sig() { flipline "$(idx 1).minisig" 2 40; }
add state-flip "state: a byte in the middle"
t_state_flip() { flip "$ST" "$(mid "$ST")"; }
add statesig-flip-sig "state .minisig: the signature"
t_statesig_flip_sig() { flipline "$ST.minisig" 2 40; }
add key-flip '`keys/<ID>.pub`: a byte of the key'
t_key_flip() { flipline "$KEYF" 2 30; }

# Truncations.
add pack-trunc "pack: the last 10 bytes cut off"
t_pack_trunc() { truncate -s -10 "$A/$PA"; }
add packsig-trunc "pack .minisig: cut after the signature line"
t_packsig_trunc() { keep_lines "$PA.minisig" 2; }
add seg-trunc "segment 1: the last 3 bytes cut off"
t_seg_trunc() { truncate -s -3 "$A/$(seg 1)"; }
add segsig-trunc "segment 1 .minisig: cut after the signature line"
t_segsig_trunc() { keep_lines "$(seg 1).minisig" 2; }
add idx-trunc "index 1: the last 3 bytes cut off"
t_idx_trunc() { truncate -s -3 "$A/$(idx 1)"; }
add idxsig-trunc "index 1 .minisig: cut after the signature line"
t_idxsig_trunc() { keep_lines "$(idx 1).minisig" 2; }
add state-trunc "state: the last 3 bytes cut off"
t_state_trunc() { truncate -s -3 "$A/$ST"; }
add statesig-trunc "state .minisig: cut after the signature line"
t_statesig_trunc() { keep_lines "$ST.minisig" 2; }
add key-trunc '`keys/<ID>.pub` emptied'
t_key_trunc() { truncate -s 0 "$A/$KEYF"; }

# Deletions.
add del-pack "a pack deleted"
t_del_pack() { del "$PA"; }
add del-packsig "a pack's .minisig deleted"
t_del_packsig() { del "$PA.minisig"; }
add del-seg-first "segment 0 deleted (with its .minisig and index)"
t_del_seg_first() { del "$(seg 0)" "$(seg 0).minisig" "$(idx 0)" "$(idx 0).minisig"; }
add del-seg-middle "segment 1 deleted (with its .minisig and index)"
t_del_seg_middle() { del "$(seg 1)" "$(seg 1).minisig" "$(idx 1)" "$(idx 1).minisig"; }
add del-seg-last "segment 2, the last, deleted (with its .minisig and index); state kept"
t_del_seg_last() { del "$(seg 2)" "$(seg 2).minisig" "$(idx 2)" "$(idx 2).minisig"; }
add del-segsig "segment 1's .minisig deleted"
t_del_segsig() { del "$(seg 1).minisig"; }
add del-idx "index 1 deleted (with its .minisig)"
t_del_idx() { del "$(idx 1)" "$(idx 1).minisig"; }
add del-idxsig "index 1's .minisig deleted"
t_del_idxsig() { del "$(idx 1).minisig"; }
add del-state "the state deleted (with its .minisig)"
t_del_state() { del "$ST" "$ST.minisig"; }
add del-statesig "the state's .minisig deleted"
t_del_statesig() { del "$ST.minisig"; }
add del-key '`keys/<ID>.pub` deleted'
t_del_key() { del "$KEYF"; }
add del-lock '`locks/run` deleted'
t_del_lock() { del locks/run; }

# Swaps.
add swap-packs "two packs of segment 1 swap names (with their .minisig)"
t_swap_packs() { swap "$PA" "$PB" && swap "$PA.minisig" "$PB.minisig"; }
add swap-segs "segments 1 and 2 swap names (with their .minisig)"
t_swap_segs() { swap "$(seg 1)" "$(seg 2)" && swap "$(seg 1).minisig" "$(seg 2).minisig"; }
add swap-idx "indexes 1 and 2 swap names (with their .minisig)"
t_swap_idx() { swap "$(idx 1)" "$(idx 2)" && swap "$(idx 1).minisig" "$(idx 2).minisig"; }
add graft-foreign-seg "segment 1 (+ .minisig, index, packs) replaced by another archive's segment 1 (same key, same source)"
t_graft_foreign_seg() {
	local n p
	for n in "$(seg 1)" "$(seg 1).minisig" "$(idx 1)" "$(idx 1).minisig"; do put_from "$F" "$n"; done
	for p in "${FP1[@]}"; do put_from "$F" "$p" && put_from "$F" "$p.minisig"; done
}

# Replays of valid signed objects under other names, or of older ones.
add replay-old-state "the state (+ .minisig, metadata) of run 2 put back after run 3"
t_replay_old_state() { put_from "$G2" "$ST" && put_from "$G2" "$ST.minisig"; }
add replay-old-statesig "run 2's state .minisig beside run 3's state"
t_replay_old_statesig() { put_from "$G2" "$ST.minisig"; }
add replay-seg-over "segment 0 (+ .minisig) copied over segment 1"
t_replay_seg_over() { put_from "$A" "$(seg 0)" "$(seg 1)" && put_from "$A" "$(seg 0).minisig" "$(seg 1).minisig"; }
add replay-seg-ahead "segment 0 (+ .minisig) copied as segment 3, past the head"
t_replay_seg_ahead() { put_from "$A" "$(seg 0)" "$(seg 3)" && put_from "$A" "$(seg 0).minisig" "$(seg 3).minisig"; }
add replay-pack "pack of segment 0 (+ .minisig) copied over a pack of segment 1"
t_replay_pack() { put_from "$A" "$PC" "$PA" && put_from "$A" "$PC.minisig" "$PA.minisig"; }
add replay-idx "index 0 (+ .minisig) copied over index 1"
t_replay_idx() { put_from "$A" "$(idx 0)" "$(idx 1)" && put_from "$A" "$(idx 0).minisig" "$(idx 1).minisig"; }
add replay-idx-ahead "index 0 (+ .minisig) copied as index 3, for the next run's segment"
t_replay_idx_ahead() { put_from "$A" "$(idx 0)" "$(idx 3)" && put_from "$A" "$(idx 0).minisig" "$(idx 3).minisig"; }

# Rollbacks and truncations of the chain.
add rollback-newest "segment 2 (+ .minisig, index) deleted and run 2's state (+ .minisig) put back"
t_rollback_newest() {
	del "$(seg 2)" "$(seg 2).minisig" "$(idx 2)" "$(idx 2).minisig"
	put_from "$G2" "$ST" && put_from "$G2" "$ST.minisig"
}
add truncate-chain "segments 1 and 2 (+ .minisig, indexes) and the state deleted"
t_truncate_chain() {
	del "$(seg 1)" "$(seg 1).minisig" "$(idx 1)" "$(idx 1).minisig" \
		"$(seg 2)" "$(seg 2).minisig" "$(idx 2)" "$(idx 2).minisig" "$ST" "$ST.minisig"
}
add rollback-container "the whole container replaced by its copy after run 2"
t_rollback_container() { clone "$G2" "$A"; }
if [ "$have_witness" = 1 ]; then
	add rollback-all "the whole container, the witness and the host state put back as after run 2"
	t_rollback_all() { clone "$G2" "$A" && clone "$G2.witness" "$W" && clone "$G2.xdg" "$XDG_STATE_HOME"; }
fi

# Key substitution.
add key-sub-same-id '`keys/<ID>.pub` replaced by another key relabelled with ID; nothing re-signed'
t_key_sub_same_id() { put_file "$forged.pub" "$KEYF"; }
add key-sub-same-id-forged "as key-sub-same-id, and segment 2 without a pack + a state headed on it signed with that key (index 2 deleted)"
t_key_sub_same_id_forged() {
	put_file "$forged.pub" "$KEYF"
	put_file "$work/f/forged.seg2" "$(seg 2)" && put_file "$work/f/forged.seg2.minisig" "$(seg 2).minisig"
	put_file "$work/f/forged.state" "$ST" && put_file "$work/f/forged.state.minisig" "$ST.minisig"
	del "$(idx 2)" "$(idx 2).minisig"
}
add key-sub-same-id-resigned "as key-sub-same-id-forged, and every other object re-signed with that key (carried signatures stripped)"
t_key_sub_same_id_resigned() { t_key_sub_same_id_forged && resign_all "$forged" "$keyid"; }
add key-sub-new-id-forged "another key published under its own id; segment 2 without a pack (key_id: that id) + a state headed on it signed with it (index 2 deleted)"
t_key_sub_new_id_forged() {
	put_file "$other.pub" "keys/$otherid.pub"
	put_file "$work/f/other.seg2" "$(seg 2)" && put_file "$work/f/other.seg2.minisig" "$(seg 2).minisig"
	put_file "$work/f/other.state" "$ST" && put_file "$work/f/other.state.minisig" "$ST.minisig"
	del "$(idx 2)" "$(idx 2).minisig"
}
add key-extra "another key published under its own id; nothing signed with it"
t_key_extra() { put_file "$other.pub" "keys/$otherid.pub"; }

# The signature carried in the metadata (file://: the props sidecar).
add meta-strip "segment 1's carried signature stripped; its .minisig kept"
t_meta_strip() { meta_strip "$(seg 1)"; }
add meta-strip-nosig "segment 1's carried signature stripped and its .minisig deleted"
t_meta_strip_nosig() { meta_strip "$(seg 1)" && del "$(seg 1).minisig"; }
add meta-swap-nosig "segment 1 carries segment 0's signature; its .minisig deleted"
t_meta_swap_nosig() { meta_copy "$(seg 0)" "$(seg 1)" && del "$(seg 1).minisig"; }
add meta-idx-strip-nosig "index 1's carried signature stripped and its .minisig deleted"
t_meta_idx_strip_nosig() { meta_strip "$(idx 1)" && del "$(idx 1).minisig"; }
add meta-state-swap "the state carries run 2's state's signature; its .minisig flipped"
t_meta_state_swap() {
	local p
	p=$(printf '%s/.aiarchive-store/props/%x' "$G2" "$(stat -c %i "$G2/$ST")")
	{ grep -v '^meta minisig_' "$(props_of "$ST")"; grep '^meta minisig_' "$p"; } >"$work/props.new"
	mv "$work/props.new" "$(props_of "$ST")"
	flipline "$ST.minisig" 2 40
}
add meta-pack-sha "a pack's sha256 metadata changed"
t_meta_pack_sha() {
	sed -i "s/^meta sha256 .*/meta sha256 $(printf '30%.0s' {1..64})/" "$(props_of "$PA")"
}

# Extra objects, forgeries past the head, the lock.
add extra-manifest 'extra objects under `manifest/`: a copy of segment 1 (+ .minisig) as `.seg.bak`, a text file'
t_extra_manifest() {
	put_from "$A" "$(seg 1)" "$(seg 1).bak" && put_from "$A" "$(seg 1).minisig" "$(seg 1).bak.minisig"
	echo hello >"$work/notes.txt" && put_file "$work/notes.txt" manifest/notes.txt
}
add extra-data 'an extra pack (+ .minisig) under `data/` that no segment names'
t_extra_data() {
	put_from "$A" "$PA" data/shop-web/Requests/2026-11-20/03/extra-1.jsonl.gz &&
		put_from "$A" "$PA.minisig" data/shop-web/Requests/2026-11-20/03/extra-1.jsonl.gz.minisig
}
add forged-seg-unsigned "a forged unsigned segment 3 past the head, chained to segment 2"
t_forged_seg_unsigned() { put_file "$work/f/seg3" "$(seg 3)"; }
add forged-seg-copied-sig "the forged segment 3 with segment 2's .minisig beside it"
t_forged_seg_copied_sig() { put_file "$work/f/seg3" "$(seg 3)" && put_from "$A" "$(seg 2).minisig" "$(seg 3).minisig"; }

# The archive identity (manifest/genesis, key records), when it exists:
# every object under manifest/ that is not a segment, an index or the
# state, and every object under keys/ but the published key.
t_obj_flip() { flip "$1" "$(mid "$1")"; }
t_obj_del() { del "$1" "$1.minisig"; }
t_obj_foreign() { put_from "$F" "$1" && { [ ! -f "$F/$1.minisig" ] || put_from "$F" "$1.minisig"; }; }
while IFS= read -r o; do
	add "ident-flip:$o" "\`$o\`: a byte in the middle" obj_flip "$o"
	add "ident-del:$o" "\`$o\` deleted (with its .minisig)" obj_del "$o"
	[ ! -f "$F/$o" ] || add "ident-foreign:$o" "\`$o\` (+ .minisig) replaced by the other archive's" obj_foreign "$o"
done < <(cd "$G" && find manifest keys -type f ! -name '*.minisig' ! -path 'manifest/segments/*' \
	! -path 'manifest/index/*' ! -path "$ST" ! -path "$KEYF" | LC_ALL=C sort)

# Out of scope by design: pinned verify --data --witness need not catch
# these (ARCHITECTURE.md §9.5 explains each, by the letter given here).
declare -A OUT_OF_SCOPE=(
	[packsig-flip-untrusted]=U  # the untrusted comment is signed by nothing (minisign's design)
	[segsig-flip-untrusted]=U
	[statesig-flip-sig]=S       # the state's .minisig is replaced each run and may be stale:
	[statesig-trunc]=S          #   the signature the state carries proves its bytes
	[replay-old-statesig]=S
	[del-statesig]=S
	[del-segsig]=C              # a missing .minisig beside an object that carries a valid
	[del-idxsig]=C              #   signature is the crash case of §7.2
	[meta-strip]=C              # the .minisig still proves the bytes
	[del-idx]=I                 # an index only saves reads; without it a segment is read
	[del-state]=R               # the state is a rebuildable summary of an intact chain
	[replay-old-state]=R        #   (an older state: readers fold in the segments past it)
	[del-key]=K                 # a pinned reader does not use the published key; run
	[key-sub-same-id]=K         #   refuses a changed one (exit 4)
	[key-flip]=K
	[key-trunc]=K
	[key-extra]=K
	[del-lock]=L                # the lock guards nothing signed (fencing, §7.3)
	[meta-pack-sha]=M           # unsigned metadata only create-only retries compare
	[extra-manifest]=X          # objects no segment names are not archived data
	[extra-data]=X
	[rollback-all]=W            # the whole container and every witness rolled back together
	[ident-del:manifest/genesis]=G      # segments do not name their archive id: without its
	[ident-foreign:manifest/genesis]=G  #   genesis (or with another archive's, same key) an
	                                    #   archive still verifies by its key; run refuses (exit 2/4)
)
# Only a witness (or the host checkpoint it keeps) can catch these: in
# scope once run/verify --witness exist, out of scope (letter T) before.
declare -A NEEDS_WITNESS=(
	[rollback-newest]=1
	[truncate-chain]=1
	[rollback-container]=1
)
scope_of() {
	if [ -n "${OUT_OF_SCOPE[$1]:-}" ]; then
		echo "out (${OUT_OF_SCOPE[$1]})"
	elif [ -n "${NEEDS_WITNESS[$1]:-}" ] && [ "$have_witness" = 0 ]; then
		echo "out (T)"
	elif [ "$1" = control ]; then
		echo "—"
	else
		echo "in"
	fi
}

# reset: $A, the witness and the host state as the genuine build left them.
reset() {
	clone "$G" "$A" && clone "$G.witness" "$W" && clone "$G.xdg" "$XDG_STATE_HOME"
}
# cell CODE BASE [REF]: the table cell of one command's result: "*" when
# its output differs from REF, "w" when it warned (on stderr; verify's
# summary line also counts them; telemetry rows may say "warning").
cell() {
	local c=$1
	if [ "$1" = 0 ]; then
		[ -z "${3:-}" ] || cmp -s "$2.out" "$3" || c+="*"
		if grep -q 'warning:' "$2.err" ||
			{ [ -z "${3:-}" ] && grep -q '[0-9] warning' "$2.out"; }; then
			c+="w"
		fi
	fi
	echo "$c"
}
# exec_into BASE CMD...: runs CMD, stdout to BASE.out, stderr to BASE.err;
# prints the exit code.
exec_into() {
	local b=$1 rc=0; shift
	"$@" >"$b.out" 2>"$b.err" || rc=$?
	echo "$rc"
}

mkdir -p "$work/log"
printf 'class\tverify-pinned\tverify-unpinned\tquery\tcat\trun\tverify-pinned-after-run\tscope\tdescription\n' \
	>"$TAMPER_TSV"
n_classes=0
t0=$SECONDS
for c in "${CLASSES[@]}"; do
	[ "$c" = control ] || n_classes=$((n_classes + 1))
	L="$work/log/${c//[:\/]/_}"
	reset || bail_out "cannot copy the genuine archive"
	if ! "t_${FN[$c]}" ${ARG[$c]:+"${ARG[$c]}"} >"$L.apply" 2>&1; then
		tap_result 1 "$c: the tampering could not be applied"
		sed 's/^/# /' "$L.apply" | head -10
		continue
	fi
	vp=$(exec_into "$L.vp" verify_pinned)
	vu=$(exec_into "$L.vu" verify_unpinned)
	q=$(exec_into "$L.q" query)
	k=$(exec_into "$L.cat" cat_all)
	tt snap "$A" >"$L.before"
	r=$(exec_into "$L.run" run_here)
	tt snap "$A" >"$L.after"
	va=$(exec_into "$L.va" verify_pinned)
	scope=$(scope_of "$c")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$(cell "$vp" "$L.vp")" \
		"$(cell "$vu" "$L.vu")" "$(cell "$q" "$L.q" "$work/genuine.query")" \
		"$(cell "$k" "$L.cat" "$work/genuine.cat")" "$(cell "$r" "$L.run")" \
		"$(cell "$va" "$L.va")" "$scope" "${DESC[$c]}" >>"$TAMPER_TSV"

	if [ "$c" = control ]; then
		check_eq "control: every command passes on the genuine archive" "0 0 0 0 0 0" \
			"$vp $vu $q $k $r $va"
		check "control: the run had work (it committed segment 3)" -- test -f "$A/$(seg 3)"
	elif [ "$scope" = in ]; then
		if [ "$vp" != 0 ]; then
			tap_result 0 "$c: pinned verify --data catches it (exit $vp)"
		else
			tap_result 1 "$c: pinned verify --data catches it (exit 0)"
			sed 's/^/# /' "$L.vp.err" "$L.vp.out" | head -10
		fi
	elif [ "$vp" != 0 ]; then
		diag "$c: out of scope ($scope), yet pinned verify --data catches it (exit $vp)"
	fi
	tt check "$work/genuine.snap" "$L.before" "$L.after" >"$L.signed"
	if [ -s "$L.signed" ]; then
		tap_result 1 "$c: run (exit $r) signs nothing over tampered content"
		sed 's/^/# /' "$L.signed" | head -10
	else
		tap_result 0 "$c: run (exit $r) signs nothing over tampered content"
	fi
	if [ "$vp" != 0 ] && [ "$va" = 0 ]; then
		tap_result 1 "$c: the run (exit $r) does not make it pass pinned verify"
		sed 's/^/# /' "$L.run.err" | head -5
	elif [ "$vp" != 0 ]; then
		tap_result 0 "$c: the run (exit $r) does not make it pass pinned verify"
	fi
done
check "at least 40 tamper classes ran ($n_classes)" -- test "$n_classes" -ge 40
diag "$n_classes classes in $((SECONDS - t0)) s; table in $TAMPER_TSV"

# ---- the table ----
{
	echo "| class: tampering | \`verify\` pinned | \`verify\` unpinned | \`query\` | \`cat\` | \`run\` | scope |"
	echo "|---|---|---|---|---|---|---|"
	awk -F'\t' 'NR > 1 {
		printf "| `%s`: %s | %s | %s | %s | %s | %s | %s |\n", $1, $9, $2, $3, $4, $5, $6, $8
	}' "$TAMPER_TSV"
} >"$TAMPER_MD"
column -t -s "$(printf '\t')" "$TAMPER_TSV" 2>/dev/null | cut -c1-150 | sed 's/^/# /' ||
	sed 's/^/# /' "$TAMPER_TSV"
[ "${TAMPER_TABLE:-}" != markdown ] || cat "$TAMPER_MD"
# TAMPER_LOGS=DIR keeps each command's output (DIR/<class>.<command>.out, .err).
[ -z "${TAMPER_LOGS:-}" ] || { mkdir -p "$TAMPER_LOGS" && cp "$work"/log/* "$TAMPER_LOGS"/; }
tap_done
