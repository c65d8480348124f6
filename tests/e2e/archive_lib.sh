# archive_lib.sh: checks of an archive tree on disk (a file:// destination,
# or one downloaded with blobtool) with stock tools. Source after lib.sh.
#
#   archive_dump DIR OUT      decodes DIR's segments with tools/manifest-dump into OUT
#   dump_members DUMP         what each member records about its source (blob, range,
#                             raw sha256, rows), one sorted line each
#   dump_tiling DUMP          each referenced pack is referenced once and is exactly
#                             its members, back to back; prints what is wrong
#   referenced_lines DIR DUMP the lines of the packs the segments reference, sorted
#                             (packs left by runs that stopped early are not counted)
#   referenced_exist DIR DUMP every referenced pack is there with its recorded SHA-256
#   archive_tools_needed      skips the script without aigen, manifest-dump, minisign, jq
#   chain_ok DIR PUB          segments 0..N-1 with no gap, each with a signature that
#                             stock minisign verifies, each linked to the one before
MANIFEST_DUMP="$top_builddir/tools/manifest-dump"
AIGEN="$top_builddir/tools/aigen"

# archive_tools_needed: skips the whole script when the generator or a tool
# these checks use is missing.
archive_tools_needed() {
	[ -x "$AIGEN" ] || skip_all "aigen not built"
	[ -x "$MANIFEST_DUMP" ] || skip_all "manifest-dump not built"
	command -v minisign >/dev/null 2>&1 || skip_all "minisign not installed"
	command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
}

archive_dump() {
	local segs
	segs=$(find "$1/manifest/segments" -name '*.seg' 2>/dev/null | sort)
	if [ -z "$segs" ]; then
		: >"$2"
		return 0
	fi
	# shellcheck disable=SC2086 # segment names have no spaces
	"$MANIFEST_DUMP" $segs >"$2"
}

dump_members() {
	awk -F'\t' '$1 == "member" { print $6 "\t" $7 "\t" $8 "\t" $9 "\t" $10 }' "$1" | sort
}

dump_tiling() {
	{
		awk -F'\t' '$1 == "pack" { print $3 "\t-1\t" $4 }' "$1"
		awk -F'\t' '$1 == "member" { print $3 "\t" $4 "\t" $5 }' "$1"
	} | sort -t "$(printf '\t')" -k1,1 -k2,2n | awk -F'\t' '
		function close_pack() {
			if (p != "" && end != size) {
				print "pack " p ": members cover " end " of " size " bytes"; bad = 1
			}
		}
		$2 == -1 {
			if ($1 == p) { print "pack " p ": referenced twice"; bad = 1 }
			close_pack(); p = $1; size = $3; end = 0; next
		}
		$1 != p { print "member in an unlisted pack " $1; bad = 1; next }
		$2 != end { print "pack " p ": a member at " $2 ", expected " end; bad = 1 }
		{ end = $2 + $3 }
		END { close_pack(); exit bad }'
}

referenced_lines() {
	awk -F'\t' '$1 == "pack" { print $3 }' "$2" | (cd "$1" && xargs -r zcat) | sort
}

referenced_exist() {
	awk -F'\t' '$1 == "pack" { print $5 "  " $3 }' "$2" | (cd "$1" && sha256sum -c --quiet -)
}

chain_ok() {
	local d=$1 pub=$2 n k f want got
	n=$(find "$d/manifest/segments" -name '*.seg' 2>/dev/null | wc -l)
	for ((k = 0; k < n; k++)); do
		f=$(printf '%s/manifest/segments/%012d.seg' "$d" "$k")
		[ -f "$f" ] || { echo "segment $k missing: the chain has a gap"; return 1; }
		minisign -Vq -p "$pub" -m "$f" || { echo "segment $k: bad or missing signature"; return 1; }
		[ "$k" -gt 0 ] || continue
		want=$(sha256sum <"$(printf '%s/manifest/segments/%012d.seg' "$d" $((k - 1)))" | cut -d' ' -f1)
		got=$("$MANIFEST_DUMP" "$f" | awk -F'\t' '$1 == "segment" { print $3 }')
		[ "$want" = "$got" ] || { echo "segment $k: prev is not segment $((k - 1))'s digest"; return 1; }
	done
}

# packs_ok DEST DUMP: members tile their packs, every referenced pack is
# there as recorded, and the archived lines are the source's
# ($work/source.lines); prints what is wrong and fails.
packs_ok() {
	local d=$1 dump=$2
	dump_tiling "$dump" || return 1
	referenced_exist "$d" "$dump" ||
		{ echo "a referenced pack is missing or differs from its record"; return 1; }
	referenced_lines "$d" "$dump" | diff - "$work/source.lines" >"$work/diff" ||
		{ echo "archived lines differ from the source's:"; head -20 "$work/diff"; return 1; }
}

# archived_once CONTAINER LINES PUB: every line of the file LINES (sorted,
# as referenced_lines prints them) is in a referenced pack of the Azurite
# container CONTAINER exactly once, and the chain verifies with PUB
# (checked on a download).
archived_once() {
	local d="$TEST_TMP/dl-$1"
	rm -rf "$d"
	blobtool_at DST download-tree "$1" "$d" >/dev/null || { echo "download failed"; return 1; }
	chain_ok "$d" "$3" || return 1
	archive_dump "$d" "$d.dump" || return 1
	dump_tiling "$d.dump" || return 1
	referenced_exist "$d" "$d.dump" || return 1
	referenced_lines "$d" "$d.dump" | diff - "$2" | head -20 |
		awk '{ print } END { exit NR > 0 }'
}
