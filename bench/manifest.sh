#!/usr/bin/env bash
# manifest.sh: query and cat against a year of one busy app's manifest.
#
# One real day is generated (tools/aigen: one app, ten telemetry types,
# BENCH_MANIFEST_BPH blobs per type and hour, late deliveries included) and
# archived by 24 hourly `aiarchive run`s; tools/mansynth turns it into a
# year (BENCH_MANIFEST_DAYS days) of hourly segments in an Azurite
# destination, the real day last. Then, BENCH_REPS times each:
#   query-hour-cold / -warm   one hour of event time in mid-year, without
#                             the local cache and with it filled
#   cat-op-cold / -warm       `cat --operation-id` for one id over the real day
# Each row's extra JSON holds bytes and requests read from the destination
# (from -v output), members matched, and for cat the rows printed, which
# must equal a jq count over the source.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

days=${BENCH_MANIFEST_DAYS:-365}
bph=${BENCH_MANIFEST_BPH:-58}
rpb=${BENCH_MANIFEST_ROWS:-20}
real_day=${BENCH_MANIFEST_DAY:-$(date -u -d yesterday +%F)}
size="manifest-${days}d"
MANSYNTH=$top_builddir/tools/mansynth
AIGEN=$top_builddir/tools/aigen

src=$BENCH_OUT/manifest-day-$real_day-$bph-$rpb
if [ ! -d "$src" ]; then
	"$AIGEN" --out "$src.tmp" --apps 1 --hours 24 --blobs-per-hour "$bph" \
		--rows-per-blob "$rpb" --from "${real_day}T00" >/dev/null
	mv "$src.tmp" "$src"
fi
key=$TEST_TMP/manifest.key
"$AIARCHIVE" -q keygen -o "$key"

# The real day, archived hour by hour as cron would.
day=$TEST_TMP/real-day
ai_init "file://$day" "$key" || { echo "bench: aiarchive init failed" >&2; exit 1; }
t0=$SECONDS
base=$(date -u -d "$real_day" +%s)
at() { date -u -d "@$1" +%FT%TZ; }
for h in $(seq 0 23); do
	from=$(at $((base + h * 3600)))
	to=$(at $((base + (h + 1) * 3600)))
	"$AIARCHIVE" -q run --source "file://$src/appinsights-export" --dest "file://$day" \
		--key "$key" --from "$from" --to "$to"
done
echo "# archived the real day in $((SECONDS - t0)) s" >&2

azurite_start MAN
dest="${MAN_URL}/archive"
export AIARCHIVE_DEST_CONNECTION_STRING=$MAN_CONN
t0=$SECONDS
"$MANSYNTH" --from "file://$day" --dest "$dest" --key "$key" --days "$days" >"$TEST_TMP/synth.json"
echo "# built $(cat "$TEST_TMP/synth.json") in $((SECONDS - t0)) s" >&2
day_bytes=$(jq -r .real_day_pack_bytes "$TEST_TMP/synth.json")

# One operation: the first request of the real day's noon hour.
op=$(find "$src/appinsights-export" -path "*/Requests/$real_day/12/*" -type f | sort | sed -n 1p |
	xargs head -1 | jq -r '.context.operation.id')
want_rows=$(find "$src/appinsights-export" -type f -print0 | xargs -0 cat |
	jq -c --arg op "$op" 'select(.context.operation.id == $op)' 2>/dev/null | wc -l)
mid=$(at $((base + 13 * 3600 - days / 2 * 86400)))
mid_end=$(at $((base + 14 * 3600 - days / 2 * 86400)))
day_end=$(at $((base + 86400)))

# read_figures: one JSON line of what the last command read (from its -v
# lines) and how many lines it printed; the extra column of its row.
read_figures() {
	local line segs matched man pack=0
	line=$(grep -E '^aiarchive: catalog:' "$BENCH_STDERR" | tail -1)
	segs=$(sed -E 's/.*catalog: ([0-9]+) of ([0-9]+) segments read \(([0-9]+) from the cache, ([0-9]+) more ruled out.*/\1,"segments":\2,"from_cache":\3,"ruled_out":\4/' <<<"$line")
	matched=$(sed -E 's/.* ([0-9]+) of ([0-9]+) members matched.*/\1,"members_seen":\2/' <<<"$line")
	man=$(sed -E 's/.* ([0-9]+) bytes of manifest read in ([0-9]+) requests.*/\1,"manifest_requests":\2/' <<<"$line")
	if grep -q '^aiarchive: cat:' "$BENCH_STDERR"; then
		pack=$(grep '^aiarchive: cat:' "$BENCH_STDERR" | sed -E 's/.* ([0-9]+) bytes of packs read.*/\1/')
	fi
	printf '{"selected":%s,"matched":%s,"manifest_bytes":%s,"pack_bytes":%s,"lines":%s,"day_pack_bytes":%s}\n' \
		"$segs" "$matched" "$man" "$pack" "$(wc -l <"$BENCH_LAST")" "$day_bytes"
}
BENCH_EXTRA_CMD=read_figures

cache=$TEST_TMP/cache
q=(-v query --dest "$dest" --from "$mid" --to "$mid_end" --format jsonl)
c=(-v cat --dest "$dest" --operation-id "$op" --from "$real_day" --to "$day_end")
for rep in $(seq 1 "$BENCH_REPS"); do
	BENCH_SIZE=$size timed manifest query-hour-cold "$rep" -- "$AIARCHIVE" "${q[@]}" --no-cache
	rm -rf "$cache"
	"$AIARCHIVE" "${q[@]}" --cache-dir "$cache" >/dev/null 2>&1
	BENCH_SIZE=$size timed manifest query-hour-warm "$rep" -- "$AIARCHIVE" "${q[@]}" --cache-dir "$cache"
	BENCH_SIZE=$size timed manifest cat-op-cold "$rep" -- "$AIARCHIVE" "${c[@]}" --no-cache
	[ "$(wc -l <"$BENCH_LAST")" -eq "$want_rows" ] ||
		{ echo "bench: cat printed $(wc -l <"$BENCH_LAST") rows, the source holds $want_rows" >&2; exit 1; }
	"$AIARCHIVE" "${c[@]}" --cache-dir "$cache" >/dev/null 2>&1
	BENCH_SIZE=$size timed manifest cat-op-warm "$rep" -- "$AIARCHIVE" "${c[@]}" --cache-dir "$cache"
done
jq -c --arg op "$op" --arg mid "$mid" --arg day "$real_day" --argjson rows "$want_rows" \
	'. + {op: $op, op_rows: $rows, query_hour: $mid, cat_day: $day}' "$TEST_TMP/synth.json" >"$BENCH_OUT/manifest-$days.json"
azurite_stop MAN
