#!/usr/bin/env bash
# memory.sh: every command keeps its peak RSS (GNU time's maximum resident
# set size) under 64 MiB over an export of 20,000 blobs in a local
# directory (a dry run and two shards' runs included), over 40 blobs of
# 4.6 MiB on 32 workers and over a mix of blobs that barely compress,
# where the whole
# listing, a cat of every member or a segment
# of them all held at once would not fit (ARCHITECTURE.md §6.3); and a run
# that takes its listing page by page (a test hook makes pages of 200
# blobs) against Azurite archives every source line exactly once (zcat of
# the packs the JS SDK downloads), in segments of whole pages, and its
# rerun nothing. BENCHMARKS.md §8 has the figures up to 1,000,000 members.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"
[ -x /usr/bin/time ] || skip_all "GNU time (/usr/bin/time) not installed"
require_azurite
export STATE_DIRECTORY="$TEST_TMP/state" XDG_CACHE_HOME="$TEST_TMP/cache"
mkdir -p "$STATE_DIRECTORY"
key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
LIMIT_KIB=$((64 * 1024))
# A sanitizer build keeps shadow memory and a quarantine of freed blocks,
# so its RSS says nothing about the program's: there only the outcome is
# checked (CI measures the limit in make distcheck-quick's plain build).
sanitized=
ldd "$AIARCHIVE" 2>/dev/null | grep -qE 'lib(a|ub|t)san' && sanitized=1

# under_limit LABEL -- CMD...: CMD exits 0 (or $want_exit) and peaks
# under 64 MiB; its output is kept in $TEST_TMP/out.
want_exit=0
under_limit() {
	local label=$1 rc=0 kib; shift
	[ "$1" = "--" ] && shift
	/usr/bin/time -f %M -o "$TEST_TMP/rss" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
	kib=$(tail -1 "$TEST_TMP/rss")
	if [ -n "$sanitized" ] && [ "$rc" -eq "$want_exit" ]; then
		tap_result 0 "$label: exit $rc # SKIP peak RSS ($((kib / 1024)) MiB) of a sanitizer build"
	elif [ "$rc" -eq "$want_exit" ] && [ "$kib" -lt "$LIMIT_KIB" ]; then
		tap_result 0 "$label: peak RSS $((kib / 1024)) MiB"
	else
		tap_result 1 "$label: exit $rc, peak RSS $kib KiB (limit $LIMIT_KIB)"
		sed 's/^/# /' "$TEST_TMP/err" | head -20
	fi
}

# ---- a local directory: 20,000 blobs of one row each

src="$TEST_TMP/src" from=2026-01-01T00 to=2026-01-05T00
"$AIGEN" --out "$src" --apps 1 --hours 20 --blobs-per-hour 100 --rows-per-blob 1 \
	--from "$from" >/dev/null || bail_out "aigen failed"
S="file://$src/appinsights-export" D="file://$TEST_TMP/archive" W="file://$TEST_TMP/witness"
nblobs=$(find "$src/appinsights-export" -type f | wc -l)
check_eq "the export has 20,000 blobs" 20000 "$nblobs"
check "init makes the archive" -- ai_init "$D" "$key"
A=("$AIARCHIVE" -q)
# Before the first run every blob is a problem: the report lists the
# first 10,000 and counts the rest.
want_exit=4
under_limit "verify --source, nothing archived yet" -- "$AIARCHIVE" --json verify --dest "$D" \
	--source "$S" --from "$from" --to "$to"
want_exit=0
check "it lists 10,000 problems and counts the others" -- jq -e -s \
	'.[0] | .source.missing == 20000 and .errors == 20000 and
	 (.problems | length) == 10000 and .problems_unlisted + 10000 == .errors + .warnings' \
	"$TEST_TMP/out"
# A window of 30,000 hour listings (3,000 hours of ten types, one blob
# each) is listed a window of them at a time, each freed once taken.
many="$TEST_TMP/many"
"$AIGEN" --out "$many" --apps 1 --hours 3000 --blobs-per-hour 1 --rows-per-blob 1 \
	--from "$from" >/dev/null || bail_out "aigen failed"
want_exit=4
under_limit "verify --source over 30,000 hour folders, nothing archived" -- "$AIARCHIVE" \
	verify --dest "$D" --source "file://$many/appinsights-export" --from "$from" \
	--to "$(date -u -d "${from%T*} ${from#*T}:00 3000 hours" +%FT%H)"
check "  it finds every blob missing" -- grep -q 'source: 30000 blobs, 30000 missing' \
	"$TEST_TMP/out"
rm -rf "$many"
# A window of five years over ten types is 438,000 hour listings, made
# as the scan reaches them (queued at once they held 112 MiB). Only where
# the RSS is measured: a sanitizer build takes minutes over it.
if [ -z "$sanitized" ]; then
	want_exit=0
	under_limit "verify --source over a window of five years (438,000 hour listings)" -- \
		"$AIARCHIVE" -q verify --dest "$D" --source "$S" --from 2021-01-01T00 --to 2026-01-01T00
fi
want_exit=0
under_limit "run --dry-run, every blob planned" -- "$AIARCHIVE" --json run --dry-run \
	--source "$S" --dest "$D" --key "$key"
check "its plan names every blob once, then the summary" -- jq -e -s --argjson n "$nblobs" \
	'(map(select(.blob)) | map(.blob) | unique | length) == $n and .[-1].blobs == $n' \
	"$TEST_TMP/out"
# Two shards into an archive of their own, each taking its listing in pages.
D2="file://$TEST_TMP/archive2"
check "init makes a second archive" -- ai_init "$D2" "$key"
for i in 0 1; do
	under_limit "run --shard $i/2, the first" -- "$AIARCHIVE" --json run --source "$S" \
		--dest "$D2" --key "$key" --shard "$i/2"
	jq .blobs "$TEST_TMP/out" >"$TEST_TMP/shard$i.blobs"
done
check_eq "the two shards archived every blob between them" "$nblobs" \
	"$(($(cat "$TEST_TMP/shard0.blobs") + $(cat "$TEST_TMP/shard1.blobs")))"
rm -rf "$TEST_TMP/archive2"
under_limit "run, the first" -- "$AIARCHIVE" --json run --source "$S" --dest "$D" --key "$key" \
	--witness "$W"
check "it archived every blob" -- jq -e --argjson n "$nblobs" '.blobs == $n and .failed == 0' \
	"$TEST_TMP/out"
check "in segments of 5,000 to 6,250 members (the last fewer)" -- jq -e \
	'.segments.count >= 3 and .segments.count <= 4' "$TEST_TMP/out"
under_limit "run, again" -- "$AIARCHIVE" --json run --source "$S" --dest "$D" --key "$key" \
	--witness "$W"
check "it archived nothing" -- jq -e '.blobs == 0' "$TEST_TMP/out"
under_limit "run over the whole history again (--from/--to)" -- "$AIARCHIVE" --json run \
	--source "$S" --dest "$D" --key "$key" --witness "$W" --from "$from" --to "$to"
check "it archived nothing either" -- jq -e '.blobs == 0' "$TEST_TMP/out"
under_limit "query, every member" -- "${A[@]}" query --dest "$D" --format jsonl
check_eq "query lists every member" "$nblobs" "$(wc -l <"$TEST_TMP/out")"
under_limit "query, one hour" -- "${A[@]}" query --dest "$D" --format jsonl \
	--from 2026-01-01T03 --to 2026-01-01T04
under_limit "cat, every row" -- "${A[@]}" cat --dest "$D"
source_lines() { find "$src/appinsights-export" -type f -print0 | xargs -0 awk 1 | sort; }
check "cat printed every source row once" -- diff <(source_lines) <(sort "$TEST_TMP/out")
under_limit "cat --sort time" -- "${A[@]}" cat --dest "$D" --sort time
# Event times, the fraction padded to 7 digits so that they sort as text.
event_times() {
	jq -r '.context.data.eventTime' "$1" | sed -E 's/Z$//' |
		awk -F. '{ f = $2; while (length(f) < 7) f = f "0"; print $1 "." f }'
}
event_times "$TEST_TMP/out" >"$TEST_TMP/times"
check "its rows come in event-time order (jq)" -- env LC_ALL=C sort -c "$TEST_TMP/times"
check "and they are every source row" -- diff <(source_lines) <(sort "$TEST_TMP/out")
under_limit "cat --dedupe" -- "${A[@]}" cat --dest "$D" --dedupe
check_eq "cat --dedupe printed every row (none repeats)" "$nblobs" "$(wc -l <"$TEST_TMP/out")"
under_limit "verify" -- "${A[@]}" verify --dest "$D"
under_limit "verify --data" -- "${A[@]}" verify --dest "$D" --data
under_limit "verify --source" -- "${A[@]}" verify --dest "$D" --source "$S" --from "$from" --to "$to"
under_limit "verify --witness" -- "${A[@]}" verify --dest "$D" --witness "$W"
under_limit "status" -- "${A[@]}" status --dest "$D"
under_limit "gc" -- "${A[@]}" gc --dest "$D" --older-than 2h

# ---- large blobs on many workers: 40 partitions of one blob of about
# 4.6 MiB, each worker's chunk, member and pack block within the run's
# buffer budget (the build before held about 128 MiB here)

large="$TEST_TMP/large"
"$AIGEN" --out "$large" --apps 4 --hours 1 --blobs-per-hour 1 --rows-per-blob 1800 --seed 3 \
	--from "$from" >/dev/null || bail_out "aigen failed"
check "init makes an archive for them" -- ai_init "file://$TEST_TMP/archive3" "$key"
under_limit "run over 40 blobs of 4.6 MiB, --jobs 32" -- "$AIARCHIVE" --json run \
	--source "file://$large/appinsights-export" --dest "file://$TEST_TMP/archive3" --key "$key" \
	--jobs 32
check "it archived all 40" -- jq -e '.blobs == 40 and .failed == 0' "$TEST_TMP/out"
large_lines() { find "$large/appinsights-export" -type f -print0 | xargs -0 awk 1 | sort; }
check "every line of them once (zcat of the packs)" -- diff <(large_lines) \
	<(find "$TEST_TMP/archive3/data" -name '*.jsonl.gz' -print0 | xargs -0 zcat | sort)
rm -rf "$large" "$TEST_TMP/archive3"

# Blobs that barely compress (lines of base64 of random bytes), the
# sizes mixed: 192 of about 128 KiB over four types and 48 hours, and in
# four more hours one of about 20 MiB each (a pack of its own). Both
# kinds take their share of the budget: the build before counted neither
# the small ones nor members that compressed worse than a quarter (80 MiB
# at --jobs 32 over a mix like this).
mixed="$TEST_TMP/mixed/appinsights-export/app_0123456789abcdef0123456789abcdef"
for t in Requests Rdd Exceptions PageViews; do
	for h in $(seq -w 0 47); do
		d="$mixed/$t/2026-01-0$((1 + 10#$h / 24))/$(printf %02d $((10#$h % 24)))"
		mkdir -p "$d"
		openssl rand -base64 -out "$d/small_$t$h.blob" 98304 || bail_out "openssl rand failed"
	done
done
for h in 08 09 10 11; do
	d="$mixed/Requests/2026-01-03/$h"
	mkdir -p "$d"
	openssl rand -base64 -out "$d/large_$h.blob" $((15 * 1024 * 1024)) || bail_out "openssl rand failed"
done
check "init makes an archive for them" -- ai_init "file://$TEST_TMP/archive4" "$key"
under_limit "run over 196 blobs that barely compress, 128 KiB and 20 MiB, --jobs 32" -- \
	"$AIARCHIVE" --json run --source "file://$TEST_TMP/mixed/appinsights-export" \
	--dest "file://$TEST_TMP/archive4" --key "$key" --jobs 32
check "it archived all 196" -- jq -e '.blobs == 196 and .failed == 0' "$TEST_TMP/out"
mixed_lines() { find "$TEST_TMP/mixed" -type f -print0 | xargs -0 awk 1 | sort; }
check "every line of them once (zcat of the packs)" -- diff <(mixed_lines) \
	<(find "$TEST_TMP/archive4/data" -name '*.jsonl.gz' -print0 | xargs -0 zcat | sort)
rm -rf "$TEST_TMP/mixed" "$TEST_TMP/archive4"

# ---- Azurite: a run of several pages

azurite_start SRC DST || bail_out "azurite did not start"
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY"
ce="$TEST_TMP/ce"
"$AIGEN" --out "$ce" --apps 1 --hours 2 --blobs-per-hour 30 --rows-per-blob 2 --seed 7 \
	--from "$from" --faults crlf,nofinalnl,malformed,empty >/dev/null || bail_out "aigen failed"
check "upload the export to the source account" -- blobtool_at SRC upload-tree "$ce"
nce=$(find "$ce/appinsights-export" -type f | wc -l)
AZ_S="$SRC_URL/appinsights-export" AZ_D="$DST_URL/archive"
check "init makes the Azurite archive" -- ai_init "$AZ_D" "$key"
under_limit "Azurite: run in pages of 200 blobs" -- env AIARCHIVE_TEST_SEGMENT_MEMBERS=200 \
	"$AIARCHIVE" --json run --source "$AZ_S" --dest "$AZ_D" --key "$key"
check "it archived every blob ($nce)" -- jq -e --argjson n "$nce" '.blobs == $n and .failed == 0' \
	"$TEST_TMP/out"
check "one segment a page ($(jq -c .segments.count "$TEST_TMP/out") for $nce blobs)" -- jq -e \
	--argjson n "$nce" '.segments.count >= ($n / 250 | floor) and .segments.count <= ($n / 200 | ceil)' \
	"$TEST_TMP/out"
dl="$TEST_TMP/dl"
check "download the archive with @azure/storage-blob" -- blobtool_at DST download-tree archive "$dl"
ce_lines() { find "$ce/appinsights-export" -type f -print0 | xargs -0 awk 1 | sort; }
archive_lines() { find "$dl/data" -name '*.jsonl.gz' -print0 | xargs -0 zcat | sort; }
check "every source line is in the archive exactly once (zcat)" -- diff <(ce_lines) <(archive_lines)
under_limit "Azurite: run again, in pages" -- env AIARCHIVE_TEST_SEGMENT_MEMBERS=200 \
	"$AIARCHIVE" --json run --source "$AZ_S" --dest "$AZ_D" --key "$key" --from "$from" \
	--to 2026-01-01T03
check "it archived nothing" -- jq -e '.blobs == 0 and .failed == 0' "$TEST_TMP/out"
under_limit "Azurite: cat" -- "${A[@]}" cat --dest "$AZ_D" --raw
check "cat --raw prints every source line once" -- diff <(ce_lines) <(sort "$TEST_TMP/out")
under_limit "Azurite: verify --data --source" -- "${A[@]}" verify --dest "$AZ_D" --data \
	--source "$AZ_S" --from "$from" --to 2026-01-01T03
tap_done
