#!/usr/bin/env bash
# generator.sh: the export generator (tools/aigen) writes trees that jq
# reads line by line, with every type and category, the faults asked for
# and nothing else, byte for byte the same for the same seed.
. "$(dirname "$0")/lib.sh"

AIGEN=${AIGEN:-$top_builddir/tools/aigen}
[ -x "$AIGEN" ] || skip_all "aigen not built"
command -v jq >/dev/null || skip_all "jq not installed"

CE_TYPES="Availability Event Exceptions Messages Metrics PageViewPerformance PageViews PerformanceCounters Rdd Requests"
DS_CATS="appavailabilityresults appbrowsertimings appdependencies appevents appexceptions appmetrics apppageviews appperformancecounters apprequests appsystemevents apptraces"

# report DIR: one TSV line per non-blank line of every blob:
# container/path, ok|bad, type array key or Type, event time, operation id.
report() {
	(cd "$1" && find . -path ./.aigen -prune -o -type f -print0 | sort -z |
		LC_ALL=C xargs -0 awk '{ print substr(FILENAME, 3) "\t" $0 }') |
	jq -R -r 'index("\t") as $i | .[$i+1:] as $l | .[:$i] as $f
		| select($l | test("^\\s*$") | not)
		| ($l | try fromjson catch null) as $j
		| if $j == null then [$f, "bad", "", "", ""]
		  elif $j.context then [$f, "ok", ((($j | keys) - ["context", "internal"])[0]),
			$j.context.data.eventTime, ($j.context.operation.id // "")]
		  else [$f, "ok", $j.Type, $j.time, ($j.OperationId // "")] end
		| @tsv'
}

same_lines() { diff <(printf '%s\n' "$1") <(printf '%s\n' "$2"); }
differs() { ! diff -rq "$1" "$2" >/dev/null; }
epoch() { jq -rn --arg t "$1" '$t | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601'; }

# --- command line ---
check_exit 0 "--help exits 0" -- "$AIGEN" --help
help=$LAST_OUTPUT
describes_all() {
	local opt
	for opt in out layout apps from hours seed types blobs-per-hour rows-per-blob container \
		late-fraction late-days faults huge-blob target-bytes help; do
		[[ $help == *"--$opt "* ]] || { echo "missing --$opt"; return 1; }
	done
}
check "--help describes every option" -- describes_all
check_exit 2 "an unknown option exits 2" -- "$AIGEN" --out "$TEST_TMP/x" --frobnicate
check "the unknown option error is one line naming it" -- \
	test "$(printf '%s\n' "$LAST_OUTPUT" | wc -l)" -eq 1 -a -n "$(grep -F -- '--frobnicate' <<<"$LAST_OUTPUT")"
check_exit 2 "a missing --out exits 2" -- "$AIGEN" --apps 1
check_exit 2 "an option missing its argument exits 2" -- "$AIGEN" --out
check_exit 2 "a bad --layout exits 2" -- "$AIGEN" --out "$TEST_TMP/x" --layout sideways
check_exit 2 "an unknown type exits 2" -- "$AIGEN" --out "$TEST_TMP/x" --types Requests,Bogus
check_exit 2 "an unknown fault exits 2" -- "$AIGEN" --out "$TEST_TMP/x" --faults crlf,gremlins
check_exit 2 "a late fraction above 1 exits 2" -- "$AIGEN" --out "$TEST_TMP/x" --late-fraction 1.5
check_exit 2 "--from now exits 2 (no clock)" -- "$AIGEN" --out "$TEST_TMP/x" --from now
check "usage errors wrote nothing" -- test ! -e "$TEST_TMP/x"

# --- a tree with both layouts and every fault ---
A=$TEST_TMP/a
args=(--layout both --apps 2 --hours 2 --seed 7 --late-fraction 0.1 --from 2026-11-20T05
	--faults crlf,blank,nofinalnl,malformed,empty)
check_exit 0 "generates both layouts with faults" -- "$AIGEN" --out "$A" "${args[@]}"
check_exit 0 "generates the same arguments again" -- "$AIGEN" --out "$TEST_TMP/b" "${args[@]}"
check "the same seed gives a byte-identical tree" -- diff -r "$A" "$TEST_TMP/b"
check_exit 0 "generates with another seed" -- "$AIGEN" --out "$TEST_TMP/c" "${args[@]}" --seed 8
check "another seed gives a different tree" -- differs "$A" "$TEST_TMP/c"
check_exit 1 "refuses a non-empty output directory" -- "$AIGEN" --out "$A" "${args[@]}"

M=$A/.aigen/manifest.jsonl
R=$(report "$A")
check "the manifest lists every blob in the tree" -- same_lines \
	"$(cd "$A" && find . -path ./.aigen -prune -o -type f -printf '%P\t%s\n' | sort)" \
	"$(jq -r '"\(.container)/\(.path)\t\(.bytes)"' "$M" | sort)"
check "every line parses except the malformed ones, blob by blob" -- same_lines \
	"$(awk -F'\t' '$2 == "bad" { n[$1]++ } END { for (f in n) print f "\t" n[f] }' <<<"$R" | sort)" \
	"$(jq -r 'select(.malformed > 0) | "\(.container)/\(.path)\t\(.malformed)"' "$M" | sort)"
check "good lines match the manifest's row counts" -- test \
	"$(awk -F'\t' '$2 == "ok"' <<<"$R" | wc -l)" -eq "$(jq -s 'map(.rows) | add' "$M")"
check "some lines are malformed" -- test "$(jq -s 'map(.malformed) | add' "$M")" -gt 0
check "all ten continuous-export types are present" -- same_lines "$CE_TYPES" \
	"$(ls "$A"/appinsights-export/*/ | grep -v : | grep . | sort -u | xargs)"
check "all eleven diagnostic-settings categories are present" -- same_lines \
	"$(for c in $DS_CATS; do echo "insights-logs-$c"; done)" \
	"$(cd "$A" && find . -name PT1H.json | cut -d/ -f2 | sort -u)"
check "app folders are <name>_<32 hex> with '_', '-' and '.' in names" -- same_lines \
	"$(ls "$A/appinsights-export" | sed -E 's/_[0-9a-f]{32}$//' | sort | xargs)" "billing_api shop-web"
check "diagnostic paths follow the resourceId layout" -- test -z \
	"$(cd "$A" && find . -name PT1H.json | grep -Ev '^\./insights-logs-[a-z]+/resourceId=/SUBSCRIPTIONS/[0-9A-F-]{36}/RESOURCEGROUPS/[A-Z0-9._-]+/PROVIDERS/MICROSOFT.INSIGHTS/COMPONENTS/[A-Z0-9._-]+/y=[0-9]{4}/m=[0-9]{2}/d=[0-9]{2}/h=[0-9]{2}/m=00/PT1H.json$')"
check "continuous-export blob names are <guid>_<yyyyMMdd_HHmmss>.blob" -- test -z \
	"$(cd "$A/appinsights-export" && find . -type f | grep -Ev '^\./[a-z0-9_.-]+_[0-9a-f]{32}/[A-Za-z]+/2026-11-20/0[56]/[0-9a-f-]{36}_[0-9]{8}_[0-9]{6}\.blob$')"

key_of() {
	case $1 in
	Requests) echo request ;; Event) echo event ;; Exceptions) echo basicException ;;
	Messages) echo message ;; Metrics) echo metric ;; PageViews) echo view ;;
	PageViewPerformance) echo clientPerformance ;; PerformanceCounters) echo performanceCounter ;;
	Availability) echo availability ;; Rdd) echo remoteDependency ;;
	esac
}
mismatch=$(awk -F'\t' '$2 == "ok" && $1 ~ /^appinsights-export/ { split($1, p, "/"); print p[3] "\t" $3 }' <<<"$R" |
	sort -u | while IFS=$'\t' read -r t k; do [ "$(key_of "$t")" = "$k" ] || echo "$t $k"; done)
check "each continuous-export row holds its type's array" -- test -z "$mismatch"
check "each diagnostic record's Type matches its container" -- test -z \
	"$(awk -F'\t' '$2 == "ok" && $1 ~ /^insights-logs/ { split($1, p, "/"); if (p[1] != "insights-logs-" tolower($3)) print }' <<<"$R")"
check "eventTime fractional digits cover 3 to 7" -- same_lines "3 4 5 6 7" \
	"$(awk -F'\t' '$2 == "ok" && $1 ~ /^appinsights/ { t = $4; sub(/.*\./, "", t); print length(t) - 1 }' <<<"$R" | sort -u | xargs)"
check "diagnostic times have 7 fractional digits" -- test -z \
	"$(awk -F'\t' '$2 == "ok" && $1 ~ /^insights-logs/ && $4 !~ /\.[0-9][0-9][0-9][0-9][0-9][0-9][0-9]Z$/' <<<"$R")"
check "an operation id spans requests, dependencies and traces" -- test -n \
	"$(awk -F'\t' '$2 == "ok" && $5 != "" && $1 ~ /^appinsights/ { k[$5 "\t" $3] = 1 } END { for (x in k) { split(x, a, "\t"); n[a[1]]++ } for (o in n) if (n[o] >= 3) print o }' <<<"$R")"
check "sampled rows carry matching counts" -- test -n \
	"$(cat "$A"/appinsights-export/*/Requests/*/*/*.blob | jq -R -c 'fromjson? | select(.context.data.samplingRate < 100) | select(.request[0].count == (100 / .context.data.samplingRate))' | head -1)"
check "custom dimension keys contain '.', '{', '}' and spaces" -- same_lines "dot brace space" \
	"$(cat "$A"/appinsights-export/*/*/*/*/*.blob | jq -R -r 'fromjson? | .context.custom.dimensions[] | keys[]' | sort -u |
		awk '/\./ { d = 1 } /[{}]/ { b = 1 } / / { s = 1 } END { printf "%s%s%s", d ? "dot" : "", b ? " brace" : "", s ? " space\n" : "\n" }')"
check "exception rows are several KB with long stacks" -- test \
	"$(cat "$A"/appinsights-export/*/Exceptions/*/*/*.blob | jq -R 'fromjson? | select((.basicException | length) > 1 and (.basicException[0].stack | length) > 1000) | 1' | wc -l)" -gt 0
check "internal.data.id is a version-1 UUID, documentVersion 1.61" -- test -z \
	"$(cat "$A"/appinsights-export/*/*/*/*/*.blob | jq -R -r 'fromjson? | select((.internal.data.id | test("^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$") | not) or .internal.data.documentVersion != "1.61") | 1')"
check "key order varies between rows" -- test \
	"$(cat "$A"/appinsights-export/*/*/*/*/*.blob | jq -R -r 'fromjson? | keys_unsorted | join(",")' | sed 's/^[a-zA-Z]*,internal,context$/T,internal,context/' | sort -u | wc -l)" -ge 2

# delivery lag: on time means event times within the hour or just before;
# late means days before the folder hour (at most 48 h for PT1H.json).
EP='def ep: sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601;'
check "late blobs hold events days before their folder hour" -- test -z \
	"$(jq -r "$EP"' select(.late and .rows > 0) | ((.hour | ep) - (.min_time | ep)) as $d
		| select(if .layout == "continuous" then $d <= 86400 else $d <= 86400 or $d > 172800 end) | .path' "$M")"
check "both layouts have late blobs" -- test "$(jq -r 'select(.late) | .layout' "$M" | sort -u | wc -l)" -eq 2
check "on-time blobs hold events from just before to within their hour" -- test -z \
	"$(jq -r "$EP"' select((.late | not) and .rows > 0)
		| select((.min_time | ep) < (.hour | ep) - 3600 or (.max_time | ep) >= (.hour | ep) + 3600) | .path' "$M")"

# faults: each listed blob shows it, and blobs without faults show none.
# One jq reads every blob raw (a process per blob is slow on some hosts).
fault_violations() {
	local dir=$1 i=0 args=()
	while IFS= read -r f; do
		args+=(--rawfile "f$i" "$dir/$f")
		i=$((i + 1))
	done < <(jq -r '"\(.container)/\(.path)"' "$dir/.aigen/manifest.jsonl")
	jq -n -r --slurpfile m "$dir/.aigen/manifest.jsonl" "${args[@]}" '
		[range(0; $m | length)] | .[] as $i | $m[$i] as $b | $ARGS.named["f\($i)"] as $s
		| { crlf: ($s | test("\r\n")),
		    blank: ($s | test("(^|\n)[ \t\r]*\n")),
		    nofinalnl: (($s | length) > 0 and ($s | endswith("\n") | not)),
		    empty: (($s | length) == 0),
		    malformed: ($b.malformed > 0) } as $has
		| ["crlf", "blank", "nofinalnl", "empty", "malformed"][] as $f
		| select($has[$f] != ($b.faults | index($f) != null)) | "\($f) \($b.path)"'
}
for f in crlf blank nofinalnl empty malformed; do
	check "fault $f is present" -- test -n "$(jq -r --arg f "$f" 'select(.faults | index($f)) | .path' "$M")"
done
check "each blob shows exactly the faults listed for it" -- test -z "$(fault_violations "$A")"
check "the fault list matches the manifest" -- same_lines \
	"$(sort "$A/.aigen/faults.txt")" \
	"$(jq -r '.faults[] as $f | "\($f)\t\(.container)/\(.path)"' "$M" | sort)"
check_exit 0 "generates a tree without faults" -- "$AIGEN" --out "$TEST_TMP/nf" --layout both --apps 1 --hours 1
check "a tree without --faults has none" -- test -z "$(fault_violations "$TEST_TMP/nf")" -a \
	-z "$(jq -r 'select(.faults != [] or .blank > 0) | .path' "$TEST_TMP/nf/.aigen/manifest.jsonl")"

# --- filters and sizes ---
check_exit 0 "--types selects by either name, any case" -- \
	"$AIGEN" --out "$TEST_TMP/t" --layout both --apps 1 --hours 1 --types requests,AppTraces
check "only the selected types and categories are written" -- same_lines \
	"Messages Requests insights-logs-apprequests insights-logs-apptraces" \
	"$( (ls "$TEST_TMP"/t/appinsights-export/*/; ls "$TEST_TMP/t") | grep -Ev ':|^$|appinsights-export' | sort | xargs)"
check_exit 0 "--huge-blob adds one big blob" -- \
	"$AIGEN" --out "$TEST_TMP/h" --apps 1 --hours 1 --types Rdd --huge-blob 2M
check "the huge blob is listed, about the asked size, and valid" -- test \
	"$(jq -r 'select(.faults == ["huge"] and .bytes >= 2097152 and .bytes < 2200000) | "\(.container)/\(.path)"' "$TEST_TMP/h/.aigen/manifest.jsonl" |
		while read -r f; do jq -c . "$TEST_TMP/h/$f" >/dev/null && echo ok; done)" = ok
check "the huge blob is extra to the regular ones" -- test \
	"$(wc -l <"$TEST_TMP/h/.aigen/manifest.jsonl")" -eq 5
check_exit 0 "--target-bytes sizes the tree" -- \
	"$AIGEN" --out "$TEST_TMP/s" --layout both --apps 1 --hours 2 --target-bytes 3M
check "the tree is within 15% of the target" -- test \
	"$(jq -s 'map(.bytes) | add | (. / 3145728 - 1) | fabs < 0.15' "$TEST_TMP/s/.aigen/manifest.jsonl")" = true
check_exit 0 "--container names the continuous-export container" -- \
	"$AIGEN" --out "$TEST_TMP/k" --apps 1 --hours 1 --types Event --container current
check "the blobs are under it" -- test -d "$TEST_TMP/k/current" -a ! -e "$TEST_TMP/k/appinsights-export"
tap_done
