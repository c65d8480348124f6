# proof_lib.sh: shared by the attack tests tests/e2e/proof_*.sh, which
# reproduce an independent attack on the archive (ARCHITECTURE.md §9.4,
# §9.5) and assert the behaviour the fixes are to give. Source after lib.sh
# and archive_lib.sh. Every helper takes a backend B, "file" (an archive
# under TEST_TMP) or "azurite" (a container of the Azurite instance DST),
# and an archive NAME; objects are named as in the archive (manifest/state).
#
#   SEGFORGE                    tools/segforge (re-encodes a segment or the state with edits)
#   proof_tools_needed          archive_tools_needed, and segforge
#   proof_backends              sets BACKENDS to "file", and "azurite" when Node, Azurite
#                               and curl are installed (it then starts Azurite DST, exports
#                               AIARCHIVE_DEST_KEY and makes the account SAS PROOF_SAS the
#                               helpers use with curl); call it directly, not in $(...)
#   dest_url B NAME             the archive's location for --dest
#   obj_get B NAME OBJ OUT      copies object OBJ to file OUT; fails when it is missing
#   obj_put B NAME OBJ FILE     writes FILE as OBJ, replacing it
#   obj_rm B NAME OBJ...        removes each OBJ (a missing one is fine)
#   obj_exists B NAME OBJ
#   obj_absent B NAME OBJ
#   obj_list B NAME PREFIX      the object names under PREFIX, sorted
#   obj_sums B NAME PREFIX      "SHA256  NAME" of each object under PREFIX, sorted
#   lines_once B NAME           every line of $work/source.lines is in a pack the segments
#                               reference, exactly once, and every referenced pack is
#                               there as recorded; prints what is wrong
#   archive_tree B NAME         prints a directory holding the archive (for file, the
#                               archive itself; for azurite, a fresh download)
SEGFORGE="$top_builddir/tools/segforge"
# Checkpoints a run keeps on the host (the fix for truncation and rollback)
# stay in the scratch directory; a script that wants them sets
# STATE_DIRECTORY itself.
export XDG_STATE_HOME="$TEST_TMP/xdg-state"
unset STATE_DIRECTORY

proof_tools_needed() {
	archive_tools_needed
	[ -x "$SEGFORGE" ] || skip_all "segforge not built"
}

proof_backends() {
	BACKENDS=(file)
	if command -v node >/dev/null 2>&1 && [ -x "$AZURITE_BIN" ] && command -v curl >/dev/null 2>&1; then
		azurite_start DST || bail_out "azurite did not start"
		export AIARCHIVE_DEST_KEY="$AZURITE_KEY"
		# One account SAS, so that the helpers below speak to Azurite with
		# curl rather than start Node for every object.
		PROOF_SAS=$(sas_for DST x rwdlac +4h --account) || bail_out "no SAS for Azurite"
		BACKENDS+=(azurite)
	else
		diag "azurite (or curl) not installed: only the file:// cases run"
	fi
}

dest_url() {
	case $1 in
	file) echo "file://$TEST_TMP/arch-$2" ;;
	azurite) echo "$DST_URL/$2" ;;
	esac
}

# _az CURL-ARGS... CONTAINER/OBJECT: one request to Azurite with the SAS.
_az() {
	local path=${*: -1}
	curl -sf "${@:1:$#-1}" "$DST_URL/$path?$PROOF_SAS"
}

obj_get() {
	case $1 in
	file) [ -f "$TEST_TMP/arch-$2/$3" ] && cp "$TEST_TMP/arch-$2/$3" "$4" ;;
	azurite) _az -o "$4" "$2/$3" ;;
	esac
}

obj_put() {
	case $1 in
	file) mkdir -p "$(dirname "$TEST_TMP/arch-$2/$3")" && cp "$4" "$TEST_TMP/arch-$2/$3" ;;
	azurite) _az -o /dev/null -X PUT -H 'x-ms-blob-type: BlockBlob' \
		-H 'Content-Type: application/octet-stream' --data-binary "@$4" "$2/$3" ;;
	esac
}

obj_rm() {
	local b=$1 n=$2 o; shift 2
	for o in "$@"; do
		case $b in
		file) rm -f "$TEST_TMP/arch-$n/$o" ;;
		azurite) _az -o /dev/null -X DELETE "$n/$o" || ! obj_exists "$b" "$n" "$o" || return 1 ;;
		esac
	done
	return 0
}

obj_exists() {
	case $1 in
	file) [ -f "$TEST_TMP/arch-$2/$3" ] ;;
	azurite) _az -o /dev/null -I "$2/$3" ;;
	esac
}

obj_absent() {
	! obj_exists "$@"
}

obj_list() {
	local xml marker=
	case $1 in
	file) [ ! -d "$TEST_TMP/arch-$2/$3" ] || (cd "$TEST_TMP/arch-$2" && find "${3%/}" -type f) ;;
	azurite)
		while :; do
			xml=$(curl -sf "$DST_URL/$2?restype=container&comp=list&prefix=$3&marker=$marker&$PROOF_SAS") ||
				return 1
			grep -o '<Name>[^<]*</Name>' <<<"$xml" | sed 's/<[^>]*>//g'
			marker=$(sed -n 's/.*<NextMarker>\([^<]*\)<\/NextMarker>.*/\1/p' <<<"$xml")
			[ -n "$marker" ] || break
		done
		;;
	esac | LC_ALL=C sort
}

obj_sums() {
	local o f="$TEST_TMP/.obj_sums.$BASHPID"
	case $1 in
	file)
		[ -e "$TEST_TMP/arch-$2/$3" ] || return 0
		(cd "$TEST_TMP/arch-$2" && find "${3%/}" -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
		;;
	azurite)
		for o in $(obj_list "$@"); do
			obj_get "$1" "$2" "$o" "$f" || return 1
			echo "$(sha256sum <"$f" | cut -d' ' -f1)  $o"
		done
		rm -f "$f"
		;;
	esac
}

archive_tree() {
	local d
	case $1 in
	file) echo "$TEST_TMP/arch-$2" ;;
	azurite)
		d="$TEST_TMP/dl-$2"
		rm -rf "$d"
		blobtool_at DST download-tree "$2" "$d" >/dev/null || return 1
		echo "$d"
		;;
	esac
}

lines_once() {
	local d
	d=$(archive_tree "$1" "$2") || return 1
	archive_dump "$d" "$d.dump" || return 1
	referenced_exist "$d" "$d.dump" 2>&1 | head -5
	referenced_exist "$d" "$d.dump" >/dev/null 2>&1 ||
		{ echo "a referenced pack is missing or differs from its record"; return 1; }
	referenced_lines "$d" "$d.dump" >"$d.lines"
	local missing extra
	missing=$(comm -13 "$d.lines" "$work/source.lines" | wc -l)
	extra=$(comm -23 "$d.lines" "$work/source.lines" | wc -l)
	[ "$missing" -eq 0 ] && [ "$extra" -eq 0 ] && return 0
	echo "$missing source lines not archived, $extra archived more than once (or not in the source), of $(wc -l <"$work/source.lines")"
	return 1
}
