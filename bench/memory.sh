#!/usr/bin/env bash
# memory.sh: peak RSS of every command as the archive grows (BENCHMARKS.md §8).
#
# For each size in BENCH_MEMORY_SIZES (members; default "10000 100000
# 1000000"; bench/run.sh --size tiny: "2000") tools/aigen writes a
# continuous export of one app, ten types, 100 blobs per type and hour
# and one row per blob (so as many blobs and members as the size), and
# in a local directory (file://) every command runs once under
# /usr/bin/time -v against its own archive of it:
#   run (first), run (again, nothing new), run --from/--to over the whole
#   history (nothing new, everything listed and compared), query (every
#   member; one hour), cat (every row; --sort time; --dedupe), verify
#   (plain; --data; --source over the whole history; --witness), status,
#   gc.
# With BENCH_MEMORY_BASELINE=PATH (another build's aiarchive, e.g. main's)
# the same runs for it too, interleaved, each binary on its own archive.
# One row per command goes to $BENCH_RESULTS (figure "memory", label
# "<binary>/<command>", size "<members>"); the table goes to stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

sizes=${BENCH_MEMORY_SIZES:-10000 100000 1000000}
AIGEN=$top_builddir/tools/aigen
# A fixed past start, so that every blob's hour is closed whenever this runs.
start=2026-01-01T00
bins=("ours=$AIARCHIVE")
[ -z "${BENCH_MEMORY_BASELINE:-}" ] || bins=("baseline=$BENCH_MEMORY_BASELINE" "${bins[@]}")
table=$TEST_TMP/memory.tsv
: >"$table"
key=$TEST_TMP/memory.key
"$AIARCHIVE" -q keygen -o "$key"

# measure SIZE WHO CMD LABEL -- ARGS: one command, its peak RSS into the table.
measure() {
	local size=$1 who=$2 label=$3; shift 3
	[ "$1" = "--" ] && shift
	BENCH_SIZE=$size timed memory "$who/$label" 1 -- "$@"
	printf '%s\t%s\t%s\t%s\n' "$size" "$who" "$label" \
		"$(tail -1 "$BENCH_RESULTS" | cut -f7)" >>"$table"
}

for size in $sizes; do
	hours=$(((size + 999) / 1000))
	src=$BENCH_OUT/memory-export-$size
	if [ ! -d "$src" ]; then
		"$AIGEN" --out "$src.tmp" --apps 1 --hours "$hours" --blobs-per-hour 100 \
			--rows-per-blob 1 --from "$start" >/dev/null
		mv "$src.tmp" "$src"
	fi
	S=file://$src/appinsights-export
	to=$(date -u -d "${start%T*} ${start#*T}:00 $((hours + 72)) hours" +%FT%H)
	for b in "${bins[@]}"; do
		who=${b%%=*} bin=${b#*=}
		arch=$TEST_TMP/$who-$size
		D=file://$arch/archive W=file://$arch/witness
		mkdir -p "$arch/state"
		export STATE_DIRECTORY=$arch/state
		"$bin" -q init --dest "$D" --key "$key"
		m() { measure "$size" "$who" "$@"; }
		m run-first -- "$bin" -q run --source "$S" --dest "$D" --key "$key" --witness "$W"
		m run-again -- "$bin" -q run --source "$S" --dest "$D" --key "$key" --witness "$W"
		m run-whole-window -- "$bin" -q run --source "$S" --dest "$D" --key "$key" \
			--witness "$W" --from "$start" --to "$to"
		m query-all -- "$bin" -q query --dest "$D" --format jsonl
		m query-hour -- "$bin" -q query --dest "$D" --format jsonl \
			--from "${start%T*}T03" --to "${start%T*}T04"
		m cat -- "$bin" -q cat --dest "$D"
		m cat-sort-time -- "$bin" -q cat --dest "$D" --sort time
		m cat-dedupe -- "$bin" -q cat --dest "$D" --dedupe
		m verify -- "$bin" -q verify --dest "$D"
		m verify-data -- "$bin" -q verify --dest "$D" --data
		m verify-source -- "$bin" -q verify --dest "$D" --source "$S" --from "$start" --to "$to"
		m verify-witness -- "$bin" -q verify --dest "$D" --witness "$W"
		m status -- "$bin" -q status --dest "$D"
		m gc -- "$bin" -q gc --dest "$D" --older-than 2h
		rm -rf "$arch"
	done
done

# The table: one row per command, per size the baseline's and our peak RSS.
awk -F'\t' -v sizes="$sizes" -v base="${BENCH_MEMORY_BASELINE:+1}" '
	{ rss[$1 "/" $2 "/" $3] = $4; if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 } }
	END {
		ns = split(sizes, sz, " ")
		head = "| command |"; rule = "|---|"
		for (i = 1; i <= ns; i++) {
			if (base) { head = head sprintf(" %d before MiB |", sz[i]); rule = rule "---|" }
			head = head sprintf(" %d MiB |", sz[i]); rule = rule "---|"
		}
		print head; print rule
		for (k = 1; k <= n; k++) {
			line = "| " order[k] " |"
			for (i = 1; i <= ns; i++) {
				if (base) line = line sprintf(" %.1f |", rss[sz[i] "/baseline/" order[k]] / 1024)
				line = line sprintf(" %.1f |", rss[sz[i] "/ours/" order[k]] / 1024)
			}
			print line
		}
	}' "$table"
