#!/usr/bin/env bash
# wan.sh: an archive run over a wide-area link. The source and the archive
# are each behind tests/tools/faultproxy.mjs --delay (BENCH_WAN_DELAY, default
# 30ms each way, so 60 ms a round trip on either side); `aiarchive run` with
# its default --jobs and with each of BENCH_WAN_JOBS (default "16 64") against
# `rclone copy --transfers 16 --checkers 16`, side by side in one run, order
# rotated. BENCH_WAN_BEFORE names another aiarchive binary (an earlier
# build) to run with its defaults beside them, labelled aiarchive-before.
# Two exports of small blobs (BENCH_WAN_SHAPES, default both), whose last
# delivery hour is the current one, generated afresh for each run:
#   spread  many partitions: 2 apps x 10 types x 3 hours, 20 blobs each
#   busy    few busy ones: 1 app, Requests and Rdd, 2 hours, 300 blobs each
# (tiny: a fifth of the blobs; full: four times). Each first run gets a
# fresh destination Azurite and proxy; aiarchive's default, the earlier
# build and rclone then run once more with nothing new (an hourly run's
# listing and commit). The proxies' counters (requests by operation,
# bytes, time in flight) go into the results' extra column.
. "$(dirname "$0")/lib.sh"
[ -x "$AIGEN" ] && [ -x "$AIARCHIVE" ] || { echo "bench: build aiarchive and aigen first" >&2; exit 1; }
delay=${BENCH_WAN_DELAY:-30ms}
jobs_list=${BENCH_WAN_JOBS:-16 64}
shapes=${BENCH_WAN_SHAPES:-spread busy}
before=${BENCH_WAN_BEFORE:-}
[ -z "$before" ] || [ -x "$before" ] || { echo "bench: BENCH_WAN_BEFORE '$before' is not a program" >&2; exit 2; }
case $BENCH_SIZE in
tiny) scale=1 div=5 ;;
small) scale=1 div=1 ;;
full) scale=4 div=1 ;;
*) echo "bench: unknown size '$BENCH_SIZE' (tiny, small or full)" >&2; exit 2 ;;
esac
export AIARCHIVE_SOURCE_KEY=$AZURITE_KEY AIARCHIVE_DEST_KEY=$AZURITE_KEY
key=$BENCH_OUT/aiarchive.key
[ -s "$key" ] || "$AIARCHIVE" keygen -o "$key" >/dev/null

# proxied NAME: the base URL of Azurite NAME behind a new --delay proxy
# NAME_P (its account path included).
proxied() {
	local port=${1}_PORT
	faultproxy_start "${1}_P" "${!port}" --delay "$delay" ||
		{ echo "bench: faultproxy did not start: $(cat "$TEST_TMP/faultproxy-${1}_P.err")" >&2; exit 1; }
	local url=${1}_P
	printf -v "${1}_WAN" '%s' "${!url}/$AZURITE_ACCOUNT"
}

zero_stats() {
	curl -sf -X DELETE "$SRC_P/__stats" >/dev/null
	curl -sf -X DELETE "$DST_P/__stats" >/dev/null
}

# wan_extra: the extra column, one JSON object: the run's own summary (for
# aiarchive) and what the two proxies counted.
wan_extra() {
	local own
	own=$(head -c 100000 "$BENCH_LAST" | head -1 | grep '^{' || echo null)
	jq -c -n --argjson own "$own" --argjson src "$(curl -sf "$SRC_P/__stats")" \
		--argjson dst "$(curl -sf "$DST_P/__stats")" --arg delay "$delay" --argjson blobs "$nblobs" \
		'def c: del(.rules, .recent); {delay: $delay, blobs: $blobs, own: $own, src: ($src | c), dst: ($dst | c)}'
}

# wan_run LABEL REP WANT -- CMD...: one timed run with fresh counters; an
# aiarchive run must report WANT blobs archived and none failed.
wan_run() {
	local label=$1 rep=$2 want=$3; shift 3
	[ "${1:-}" = "--" ] && shift
	zero_stats
	BENCH_EXTRA_CMD=wan_extra BENCH_SIZE=$shape-$BENCH_SIZE timed wan "$label" "$rep" -- "$@"
	[ "$want" = - ] || jq -e --argjson n "$want" '.blobs == $n and .failed == 0' "$BENCH_LAST" >/dev/null ||
		{ echo "bench: $label archived $(cat "$BENCH_LAST")" >&2; exit 1; }
}

for shape in $shapes; do
	case $shape in
	spread) hours=$((3 * scale)) gen=(--apps 2 --blobs-per-hour $((20 / div))) ;;
	busy) hours=$((2 * scale)) gen=(--apps 1 --types Requests,Rdd --blobs-per-hour $((300 / div))) ;;
	*) echo "bench: unknown shape '$shape' (spread or busy)" >&2; exit 2 ;;
	esac
	# Ending in the current hour, so that a second run lists the hours an
	# hourly run lists.
	export_dir=$TEST_TMP/wan-$shape
	"$AIGEN" --out "$export_dir" --layout continuous --seed 7 --hours "$hours" \
		--from "$(date -u -d "-$((hours - 1)) hours" +%Y-%m-%dT%H)" "${gen[@]}" >&2
	nblobs=$(find "$export_dir/appinsights-export" -type f | wc -l)
	echo "# wan export $shape-$BENCH_SIZE: $nblobs blobs, $(du -sb "$export_dir/appinsights-export" | cut -f1) bytes" >&2
	azurite_start SRC
	blobtool_at SRC upload-tree "$export_dir" >/dev/null
	proxied SRC
	rclone_env srcr "$SRC_WAN/appinsights-export" "$(sas_for SRC appinsights-export rl +12h)"
	tools="aiarchive rclone16"
	for j in $jobs_list; do
		tools+=" aiarchive-j$j"
	done
	[ -z "$before" ] || tools+=" aiarchive-before"
	for rep in $(seq 1 "$BENCH_REPS"); do
		# Rotate who goes first.
		read -ra order <<<"$tools"
		for ((k = 0; k < (rep - 1) % ${#order[@]}; k++)); do
			order=("${order[@]:1}" "${order[0]}")
		done
		for who in "${order[@]}"; do
			azurite_start DST
			blobtool_at DST mkcontainer archive >/dev/null
			proxied DST
			case $who in
			aiarchive*)
				prog=$AIARCHIVE opts=() label=aiarchive-run
				case $who in
				aiarchive-before) prog=$before label=aiarchive-before ;;
				aiarchive-j*) opts=(--jobs "${who#aiarchive-j}") label=aiarchive-run-j${who#aiarchive-j} ;;
				esac
				ai_init "$DST_URL/archive" "$key" || { echo "bench: aiarchive init failed" >&2; exit 1; }
				run=("$prog" --json run "${opts[@]}" --source "$SRC_WAN/appinsights-export"
					--dest "$DST_WAN/archive" --key "$key")
				wan_run "$label" "$rep" "$nblobs" -- "${run[@]}"
				[ ${#opts[@]} -gt 0 ] || wan_run "$label-again" "$rep" 0 -- "${run[@]}"
				;;
			rclone16)
				rclone_env dstr "$DST_WAN/archive" "$(sas_for DST archive racwdl +12h)"
				copy=(rclone copy --transfers 16 --checkers 16 srcr:appinsights-export dstr:archive)
				wan_run rclone-copy-t16 "$rep" - -- "${copy[@]}"
				got=$(blobtool_at DST list archive | wc -l)
				[ "$got" -eq "$nblobs" ] || { echo "bench: rclone copied $got of $nblobs blobs" >&2; exit 1; }
				wan_run rclone-copy-t16-again "$rep" - -- "${copy[@]}"
				;;
			esac
			kill "$DST_P_PID" 2>/dev/null || true
			wait "$DST_P_PID" 2>/dev/null || true
			azurite_stop DST
		done
	done
	kill "$SRC_P_PID" 2>/dev/null || true
	wait "$SRC_P_PID" 2>/dev/null || true
	azurite_stop SRC
	rm -rf "$export_dir"
done
