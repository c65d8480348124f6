#!/usr/bin/env bash
# workspace.sh: the requests of an hourly run over a Log Analytics
# workspace data export, as the days of history grow. For each history
# length (BENCH_WS_DAYS, default "1 30" days) aigen writes two tables of
# one workspace, one record per 5-minute folder, in two append steps that
# end at 2026-11-20T12: step 1 the whole history, step 2 the last hour's
# appends and late appends into folders 1 to 11 hours old. Step 1 is
# uploaded and archived by a first run (12:20), step 2 appended, then the
# hourly run (13:05) is measured: its requests counted by
# tests/tools/faultproxy.mjs in front of each Azurite (source and archive),
# not by aiarchive itself, and its own summary kept beside them.
# Rows go to $BENCH_RESULTS (figure "workspace"), and a table to stdout.
. "$(dirname "$0")/lib.sh"
AIGEN=$top_builddir/tools/aigen
[ -x "$AIGEN" ] && [ -x "$AIARCHIVE" ] || { echo "bench: build aiarchive and aigen first" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench: curl is not installed" >&2; exit 1; }
: "${BENCH_WS_DAYS:=1 30}"
export AIARCHIVE_SOURCE_KEY=$AZURITE_KEY AIARCHIVE_DEST_KEY=$AZURITE_KEY
key=$TEST_TMP/key
"$AIARCHIVE" keygen -o "$key" >/dev/null


table=$TEST_TMP/table.md
echo "| history | source blobs | hourly run: blobs archived | source requests (proxy) | archive requests (proxy) | source list / get (run's summary) | wall s |" >"$table"
echo "|---|---|---|---|---|---|---|" >>"$table"
for days in $BENCH_WS_DAYS; do
	hours=$((24 * days))
	from=$(date -u -d "2026-11-20T12:00:00Z - $((hours - 1)) hours" +%Y-%m-%dT%H)
	gen=$BENCH_OUT/workspace-$days
	rm -rf "$gen"
	"$AIGEN" --out "$gen" --layout workspace --seed 3 --apps 2 --from "$from" --hours "$hours" \
		--types AppRequests,AppDependencies --rows-per-blob 1 --steps 2 --late-appends >/dev/null
	az=WS_$days
	azurite_start "${az}_SRC" "${az}_DST"
	sp=${az}_SRC_PORT dp=${az}_DST_PORT
	faultproxy_start PS "${!sp}" || { echo "bench: faultproxy did not start" >&2; exit 1; }
	faultproxy_start PD "${!dp}" || { echo "bench: faultproxy did not start" >&2; exit 1; }
	src=$PS/devstoreaccount1 dst=$PD/devstoreaccount1/archive
	t0=$SECONDS
	conn=${az}_SRC_CONN
	AZ_CONN=${!conn} blobtool append-tree "$gen/step-1" >/dev/null
	nblobs=$(find "$gen/all" -type f | wc -l)
	echo "# $days days: uploaded $nblobs blobs in $((SECONDS - t0)) s" >&2
	ai_init "$dst" "$key"
	run=("$AIARCHIVE" --json run --source "$src" --dest "$dst" --key "$key"
		--stall-timeout 10m --retry-total 30m)
	AIARCHIVE_NOW=2026-11-20T12:20:00Z BENCH_SIZE=workspace-$days \
		timed workspace first-run 1 -- "${run[@]}"
	AZ_CONN=${!conn} blobtool append-tree "$gen/step-2" >/dev/null
	curl -sf -X DELETE "$PS/__stats" >/dev/null
	curl -sf -X DELETE "$PD/__stats" >/dev/null
	AIARCHIVE_NOW=2026-11-20T13:05:00Z BENCH_SIZE=workspace-$days \
		timed workspace hourly-run 1 -- "${run[@]}"
	s_req=$(curl -sf "$PS/__stats" | jq .requests)
	d_req=$(curl -sf "$PD/__stats" | jq .requests)
	wall=$(tail -1 "$BENCH_RESULTS" | cut -f5)
	printf '| %s days | %s | %s | %s | %s | %s | %s |\n' "$days" "$nblobs" \
		"$(jq .blobs "$BENCH_LAST")" "$s_req" "$d_req" \
		"$(jq -r '"\(.requests.source.list) / \(.requests.source.get)"' "$BENCH_LAST")" \
		"$wall" >>"$table"
	faultproxy_stop_all
	azurite_stop "${az}_SRC" "${az}_DST"
done
cat "$table"
