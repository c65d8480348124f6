#!/usr/bin/env bash
# run.sh: runs the benchmarks and prints their tables (see BENCHMARKS.md).
#
# Usage: bench/run.sh [--size tiny|small|full] [--reps N] [--builddir DIR]
#                     [--only store|archive|manifest|auth|workspace|wan|shards|memory]
#                     [--history "N N ..."] [--workspace-days "N N ..."]
#                     [--memory-sizes "N N ..."] [--baseline PATH]
# Results go to bench/out/results.tsv (appended; each row names its size),
# the tables to bench/out/summary.md. The workspace export's figure runs
# 1 day of history unless --workspace-days (or BENCH_WS_DAYS) asks for
# more: "1 30" is BENCHMARKS.md §6. The shards' figure (§10) puts the fault
# proxy's 30 ms delay between the run and both Azurites. The memory figure
# (§8) runs 10,000, 100,000 and 1,000,000 members (2,000 at --size tiny)
# unless --memory-sizes (or BENCH_MEMORY_SIZES) says otherwise, and with
# --baseline (or BENCH_MEMORY_BASELINE) another build's aiarchive beside
# this one's. Needs a build with tools/aigen and
# tools/storebench, Node with the project's node_modules (Azurite and
# @azure/storage-blob), rclone, gzip, sha256sum, minisign, jq, openssl,
# curl and GNU time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
size=small reps=3 only= history= ws_days=${BENCH_WS_DAYS:-1}
mem_sizes=${BENCH_MEMORY_SIZES:-} baseline=${BENCH_MEMORY_BASELINE:-}
top_builddir=${top_builddir:-$(cd "$here/.." && pwd)}
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--builddir) top_builddir=$(cd "$2" && pwd); shift 2 ;;
	--only) only=$2; shift 2 ;;
	--history) history=$2; shift 2 ;;
	--workspace-days) ws_days=$2; shift 2 ;;
	--memory-sizes) mem_sizes=$2; shift 2 ;;
	--baseline) baseline=$2; shift 2 ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
for tool in node rclone gzip sha256sum minisign jq openssl curl bc /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 1; }
done
export top_builddir BENCH_SIZE=$size BENCH_REPS=$reps
export BENCH_OUT=${BENCH_OUT:-$here/out}
export BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_OUT/results.tsv}
[ -z "$history" ] || export BENCH_HISTORY=$history
# rclone is configured from the environment only.
export RCLONE_CONFIG=/dev/null
mkdir -p "$BENCH_OUT"
{
	echo "date: $(date -u +%FT%TZ)"
	echo "cpus: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "memory: $(free -g | awk '/^Mem:/ { print $2 }') GiB"
	echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "versions: $(node --version) node, $(rclone version | head -1), $(gzip --version | head -1), minisign $(minisign -v | cut -d' ' -f2)"
} >"$BENCH_OUT/machine-$size.txt"
# The store figures do not depend on --size; tiny runs them small.
if [ -z "$only" ] || [ "$only" = store ]; then
	if [ "$size" = tiny ]; then
		BENCH_SMALL_COUNT=200 BENCH_UPLOAD_MIB=64 "$here/store.sh"
	else
		"$here/store.sh"
	fi
fi
if [ -z "$only" ] || [ "$only" = archive ]; then
	"$here/archive.sh"
fi
if [ -z "$only" ] || [ "$only" = wan ]; then
	"$here/wan.sh"
fi
if [ -z "$only" ] || [ "$only" = manifest ]; then
	if [ "$size" = tiny ]; then
		BENCH_MANIFEST_DAYS=5 BENCH_MANIFEST_BPH=3 BENCH_MANIFEST_ROWS=5 "$here/manifest.sh"
	else
		"$here/manifest.sh"
	fi
fi
if [ -z "$only" ] || [ "$only" = auth ]; then
	# Its table is also in the summary below.
	"$here/auth.sh" >"$BENCH_OUT/auth-$size.md"
fi
if [ -z "$only" ] || [ "$only" = workspace ]; then
	# Its table (BENCHMARKS.md §6) is printed at the end.
	BENCH_WS_DAYS=$ws_days "$here/workspace.sh" >"$BENCH_OUT/workspace-$size.md"
fi
if [ -z "$only" ] || [ "$only" = shards ]; then
	# Its table (BENCHMARKS.md §10) is printed at the end.
	"$here/shards.sh" >"$BENCH_OUT/shards-$size.md"
fi
if [ -z "$only" ] || [ "$only" = memory ]; then
	# Its table (BENCHMARKS.md §8) is printed at the end.
	[ -n "$mem_sizes" ] || [ "$size" != tiny ] || mem_sizes=2000
	BENCH_MEMORY_SIZES=${mem_sizes:-10000 100000 1000000} BENCH_MEMORY_BASELINE=$baseline \
		"$here/memory.sh" >"$BENCH_OUT/memory-$size.md"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$BENCH_OUT/machine-$size.txt"
node "$here/summary.mjs" "$BENCH_RESULTS" | tee "$BENCH_OUT/summary.md"
if [ -s "$BENCH_OUT/workspace-$size.md" ] && { [ -z "$only" ] || [ "$only" = workspace ]; }; then
	echo
	echo "Requests of an hourly run over a workspace data export (BENCHMARKS.md §6):"
	cat "$BENCH_OUT/workspace-$size.md"
fi
if [ -s "$BENCH_OUT/shards-$size.md" ] && { [ -z "$only" ] || [ "$only" = shards ]; }; then
	echo
	echo "Wall time of 1, 2 and 4 shards at 30 ms (BENCHMARKS.md §10):"
	cat "$BENCH_OUT/shards-$size.md"
fi
if [ -s "$BENCH_OUT/memory-$size.md" ] && { [ -z "$only" ] || [ "$only" = memory ]; }; then
	echo
	echo "Peak RSS of every command (BENCHMARKS.md §8):"
	cat "$BENCH_OUT/memory-$size.md"
fi
cat "$BENCH_OUT/machine-$size.txt"
