#!/usr/bin/env bash
# big_blob.sh: a stress test, not part of `make check` (run it with
# `make stress`): one 2 GiB source blob archived from file:// to file://
# with the memory use bounded (max RSS under 200 MiB by /usr/bin/time -v)
# and every line archived (the SHA-256 of the pack's zcat equals the
# source's, a missing final newline added).
#
# Needs about 2.5 GiB free under TMPDIR (default /tmp) and a few minutes.
# BIG_BLOB_SIZE (default 2G) and BIG_BLOB_MAX_RSS_KIB (default 204800)
# change the size and the bound.
. "$(dirname "$0")/../e2e/lib.sh"
AIGEN="$top_builddir/tools/aigen"
DUMP="$top_builddir/tools/manifest-dump"
SIZE=${BIG_BLOB_SIZE:-2G}
MAX_RSS_KIB=${BIG_BLOB_MAX_RSS_KIB:-204800}
[ -x "$AIGEN" ] || skip_all "aigen not built"
[ -x "$DUMP" ] || skip_all "manifest-dump not built"
[ -x /usr/bin/time ] || skip_all "GNU time (/usr/bin/time) not installed"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v minisign >/dev/null 2>&1 || skip_all "minisign not installed"

src="$TEST_TMP/src" dst="$TEST_TMP/dst" key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
check "aigen writes a $SIZE blob" -- "$AIGEN" --out "$src" --layout continuous --apps 1 \
	--hours 1 --types Requests --blobs-per-hour 1 --huge-blob "$SIZE" --seed 2
big=$(find "$src/appinsights-export" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
bigsize=$(stat -c %s "$big")
diag "source blob: ${big#"$src/appinsights-export/"} ($bigsize bytes)"

check "init makes the archive" -- ai_init "file://$dst" "$key"
t0=$SECONDS
check_exit 0 "the run archives it" -- /usr/bin/time -v -o "$TEST_TMP/time.txt" \
	"$AIARCHIVE" --json run --source "file://$src/appinsights-export" --dest "file://$dst" \
	--key "$key"
diag "run: $((SECONDS - t0)) s; $(head -1 <<<"$LAST_OUTPUT")"
rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$TEST_TMP/time.txt")
diag "max RSS: ${rss:-?} KiB"
check "max RSS ${rss:-?} KiB stays under $MAX_RSS_KIB KiB" -- test "${rss:-999999999}" -lt "$MAX_RSS_KIB"
check_eq "the summary counts every source byte" \
	"$(find "$src/appinsights-export" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')" \
	"$(grep '^{' <<<"$LAST_OUTPUT" | jq .bytes_in)"

"$DUMP" "$dst"/manifest/segments/*.seg >"$TEST_TMP/dump.tsv" || bail_out "manifest-dump failed"
rel=${big#"$src/appinsights-export/"}
pack=$(awk -F'\t' -v b="$rel" '$1 == "member" && $6 == b { print $3 }' "$TEST_TMP/dump.tsv")
check "the big blob is one member" -- test "$(wc -w <<<"$pack")" -eq 1
# The source with a final newline, as the archive stores it.
src_sum=$( { cat "$big"; [ -z "$(tail -c1 "$big")" ] || echo; } | sha256sum | cut -d' ' -f1)
arc_sum=$(zcat "$dst/$pack" | sha256sum | cut -d' ' -f1)
check_eq "zcat of its pack is the source, every line" "$src_sum" "$arc_sum"
check "the pack's signature verifies with minisign" -- minisign -Vq -p "$key.pub" -m "$dst/$pack"
tap_done
