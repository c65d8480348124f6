#!/usr/bin/env bash
# shards.sh: wall time of an hourly run with 1, 2 and 4 shards (`run
# --shard I/N`, all started at once on this machine) when the source and
# the archive are 30 ms away: tests/tools/faultproxy.mjs --delay 30ms in
# front of each Azurite delays every request and every answer by 30 ms (a
# round trip of at least 60 ms, one more for a new connection). Also 1 run
# with --jobs 64, as many requests in flight as 4 shards of the default
# --jobs 16, to tell what the shards add beyond parallelism. The export:
# many small blobs over three delivery hours; each timed set gets a new
# archive in which a run without the delay (not timed) has archived the
# first hour, so the set is an hourly run: it lists its window (the
# watermark minus the 1 h lookback to now: three hours of every app and
# type), skips the archived hour and archives the other two. The order of
# the sets is reversed every other repetition. Wall, CPU and peak RSS are
# the set's (GNU time over the shards; RSS is the largest shard's). Rows
# go to $BENCH_RESULTS (figure "shards"), the table to stdout.
# BENCH_SHARDS_DELAY (default 30ms) sets the delay; BENCH_SIZE tiny makes
# the export 2 apps (120 blobs), otherwise 8 apps (960 blobs).
. "$(dirname "$0")/lib.sh"
AIGEN=$top_builddir/tools/aigen
[ -x "$AIGEN" ] && [ -x "$AIARCHIVE" ] || { echo "bench: build aiarchive and aigen first" >&2; exit 1; }
: "${BENCH_SHARDS_DELAY:=30ms}"
case $BENCH_SIZE in
tiny) gen=(--apps 2 --blobs-per-hour 2) ;;
*) gen=(--apps 8 --blobs-per-hour 4) ;;
esac
size=shards-$BENCH_SIZE

azurite_start SRC DST || { echo "bench: azurite did not start" >&2; exit 1; }
faultproxy_start SRCP "$SRC_PORT" http --delay "$BENCH_SHARDS_DELAY" ||
	{ echo "bench: faultproxy did not start" >&2; exit 1; }
faultproxy_start DSTP "$DST_PORT" http --delay "$BENCH_SHARDS_DELAY" ||
	{ echo "bench: faultproxy did not start" >&2; exit 1; }
src_url=$SRCP/devstoreaccount1 dst_url=$DSTP/devstoreaccount1
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY"

export_dir=$TEST_TMP/export
first=$(date -u -d '-2 hours' +%Y-%m-%dT%H) second=$(date -u -d '-1 hours' +%Y-%m-%dT%H)
"$AIGEN" --out "$export_dir" --layout continuous --seed 11 --from "$first" --hours 3 \
	"${gen[@]}" >&2
nblobs=$(find "$export_dir/appinsights-export" -type f | wc -l)
blobtool_at SRC upload-tree "$export_dir" >/dev/null
echo "# export: $nblobs blobs, $(du -sb "$export_dir/appinsights-export" | cut -f1) bytes; delay $BENCH_SHARDS_DELAY each way" >&2
key=$TEST_TMP/key
"$AIARCHIVE" keygen -o "$key" >/dev/null

# set_of CONTAINER N [RUN-OPTIONS]: N shards of one run at once (N 1: a
# run of the whole archive), their JSON summaries on stdout.
set_of() {
	local c=$1 n=$2 i pids=() rc=0; shift 2
	if [ "$n" -eq 1 ]; then
		"$AIARCHIVE" --json run --source "$src_url/appinsights-export" --dest "$dst_url/$c" \
			--key "$key" "$@"
		return
	fi
	for ((i = 0; i < n; i++)); do
		"$AIARCHIVE" --json run --source "$src_url/appinsights-export" --dest "$dst_url/$c" \
			--key "$key" --shard "$i/$n" "$@" >"$TEST_TMP/set.$i" & pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=$?; done
	cat "$TEST_TMP"/set.[0-9]*
	rm -f "$TEST_TMP"/set.[0-9]*
	return "$rc"
}
export -f set_of
export src_url dst_url key TEST_TMP

# The extra column: blobs, failures, segments and requests of the set (and
# the source's listings and reads among them).
set_counts() {
	jq -sc '{blobs: (map(.blobs) | add), failed: (map(.failed) | add),
	         segments: (map(.segments.count // 0) | add), retries: (map(.retries) | add),
	         requests: (map([.requests[][]] | add) | add),
	         source_lists: (map(.requests.source.list) | add), source_gets: (map(.requests.source.get) | add),
	         runs: length}' "$BENCH_LAST"
}

sets="1 2 4 1j64"
for rep in $(seq 1 "$BENCH_REPS"); do
	order=$sets
	[ $((rep % 2)) -eq 1 ] || order=$(tr ' ' '\n' <<<"$sets" | tac | tr '\n' ' ')
	for s in $order; do
		c=archive-$rep-${s/j/-jobs}
		n=${s%j*} opts=()
		[ "$s" = 1j64 ] && opts=(--jobs 64)
		forget_checkpoints
		"$AIARCHIVE" -q init --dest "$DST_URL/$c" --key "$key" || { echo "bench: init failed" >&2; exit 1; }
		"$AIARCHIVE" -q run --source "$SRC_URL/appinsights-export" --dest "$DST_URL/$c" --key "$key" \
			--to "$second" || { echo "bench: the first hour's run failed" >&2; exit 1; }
		BENCH_SIZE=$size BENCH_EXTRA_CMD=set_counts timed shards "$s" "$rep" -- \
			bash -c 'set_of "$@"' _ "$c" "$n" "${opts[@]}"
		row=$(tail -1 "$BENCH_RESULTS" | cut -f9)
		jq -e --argjson n "$((nblobs * 2 / 3))" '.blobs == $n and .failed == 0' <<<"$row" >/dev/null ||
			{ echo "bench: set $s: $row" >&2; exit 1; }
		echo "# $s: $row" >&2
	done
done

# The table: medians over the repetitions of this run's rows.
tail -n $((BENCH_REPS * 4)) "$BENCH_RESULTS" | awk -F'\t' -v reps="$BENCH_REPS" '
	function median(v, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	$1 == "shards" {
		k = $2; n[k]++; w[k, n[k]] = $5; c[k, n[k]] = $6; r[k, n[k]] = $7; l[k] = l[k] (l[k] == "" ? "" : ", ") $8
		if (match($9, /"requests":[0-9]+/)) q[k] = substr($9, RSTART + 11, RLENGTH - 11)
	}
	END {
		split("1 2 4 1j64", order, " ")
		name["1"] = "1 (no --shard)"; name["2"] = "2 shards"; name["4"] = "4 shards"; name["1j64"] = "1, --jobs 64"
		print "| archivers at once | wall s | CPU s | peak RSS MiB | requests | wall vs 1 | load avg |"
		print "|---|---|---|---|---|---|---|"
		for (i = 1; i <= 4; i++) {
			k = order[i]
			for (j = 1; j <= n[k]; j++) { ww[j] = w[k, j]; cc[j] = c[k, j]; rr[j] = r[k, j] }
			mw[k] = median(ww, n[k]); mc = median(cc, n[k]); mr = median(rr, n[k])
			printf "| %s | %.2f | %.2f | %.0f | %s | %.2f | %s |\n", name[k], mw[k], mc, mr / 1024, q[k], mw[k] / mw["1"], l[k]
		}
	}'
azurite_stop SRC DST
