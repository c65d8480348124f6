# bench/lib.sh: shared by the benchmark scripts. Brings in the Azurite
# helpers of tests/e2e/lib.sh and adds timing with /usr/bin/time -v.
#
#   timed FIGURE LABEL REP -- CMD...   runs CMD once under /usr/bin/time -v, keeps its
#                                      stdout in $BENCH_LAST, appends one row to
#                                      $BENCH_RESULTS: figure label size rep wall_s cpu_s
#                                      max_rss_kb load1 extra (BENCH_EXTRA, or the
#                                      command's one-line JSON output, or what
#                                      the command BENCH_EXTRA_CMD prints)
#   loadavg                            the 1-minute load average
#   rclone_env NAME URL SAS            configures rclone remote NAME (env vars only)
#   gen_once DIR AIGEN-ARGS...         a continuous export by tools/aigen in DIR (seed 7),
#                                      kept for the next run
# The results file is TSV and is summarised by bench/summary.sh.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$BENCH_DIR/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${AIARCHIVE:=$top_builddir/src/aiarchive}"
export top_srcdir top_builddir AIARCHIVE
AIGEN=$top_builddir/tools/aigen
: "${BENCH_OUT:=$BENCH_DIR/out}"
: "${BENCH_REPS:=3}"
: "${BENCH_SIZE:=small}"
: "${BENCH_RESULTS:=$BENCH_OUT/results.tsv}"
export BENCH_OUT BENCH_REPS BENCH_SIZE BENCH_RESULTS
mkdir -p "$BENCH_OUT"
# shellcheck source=../tests/e2e/lib.sh
. "$top_srcdir/tests/e2e/lib.sh"
set -e -o pipefail
BENCH_LAST=$TEST_TMP/last.out
BENCH_STDERR=$TEST_TMP/stderr.txt
BENCH_EXTRA=

loadavg() {
	cut -d' ' -f1 /proc/loadavg
}

# _time_field FILE PATTERN: the value after the last ": " of the matching line.
_time_field() {
	grep -F "$2" "$1" | sed 's/.*: //'
}

timed() {
	local fig=$1 label=$2 rep=$3; shift 3
	[ "${1:-}" = "--" ] && shift
	local tf="$TEST_TMP/time.txt" rc=0 wall user sys rss load
	load=$(loadavg)
	/usr/bin/time -v -o "$tf" "$@" >"$BENCH_LAST" 2>"$BENCH_STDERR" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "bench: $fig/$label failed (exit $rc):" >&2
		tail -20 "$BENCH_STDERR" >&2
		return "$rc"
	fi
	# "h:mm:ss" or "m:ss.ss"
	wall=$(_time_field "$tf" "Elapsed (wall clock)" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
	user=$(_time_field "$tf" "User time")
	sys=$(_time_field "$tf" "System time")
	rss=$(_time_field "$tf" "Maximum resident set size")
	# BENCH_EXTRA_CMD, when set, makes the extra column from the command's
	# output (stdout in $BENCH_LAST, stderr in $BENCH_STDERR) after the timing.
	[ -z "${BENCH_EXTRA_CMD:-}" ] || BENCH_EXTRA=$($BENCH_EXTRA_CMD)
	# A one-line JSON summary on stdout (aiarchive --json, the drivers) is kept.
	[ -n "${BENCH_EXTRA:-}" ] || BENCH_EXTRA=$(head -c 4000 "$BENCH_LAST" | head -1 | grep '^{' || :)
	printf '%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%s\n' "$fig" "$label" "$BENCH_SIZE" "$rep" "$wall" \
		"$(echo "$user + $sys" | bc -l)" "$rss" "$load" "${BENCH_EXTRA:-}" >>"$BENCH_RESULTS"
	printf '# %-10s %-28s rep %s: wall %ss cpu %ss rss %s KiB (load %s)\n' "$fig" "$label" "$rep" \
		"$wall" "$(echo "$user + $sys" | bc -l)" "$rss" "$load" >&2
	BENCH_EXTRA=
}

# rclone_env NAME URL SAS: rclone remote NAME: for the container at URL.
rclone_env() {
	local up=${1^^}
	export "RCLONE_CONFIG_${up}_TYPE=azureblob"
	export "RCLONE_CONFIG_${up}_SAS_URL=$2?$3"
}

# gen_once DIR AIGEN-ARGS...: runs aigen into DIR unless an earlier run
# finished doing so (a file outside the containers marks that).
gen_once() {
	local dir=$1; shift
	[ -e "$dir/.complete" ] && return 0
	rm -rf "$dir"
	"$AIGEN" --out "$dir" --layout continuous --seed 7 "$@" >&2
	touch "$dir/.complete"
}
