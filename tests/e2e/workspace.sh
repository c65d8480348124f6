#!/usr/bin/env bash
# workspace.sh: a Log Analytics workspace data export (am-<table>
# containers, 5-minute folders of append blobs) archived on Azurite over
# several runs. aigen writes the export in three append steps: the last
# hour's folders grow from step to step, steps 2 and 3 append late records
# into folders 1 to 11 hours old, folders roll over into PT05M_<n>.json,
# some records are delivered twice, and some steps end in mid-line.
# blobtool (the Azure SDK) uploads each step as appends; a run follows
# each. Checked with zcat, jq and blobtool against aigen's all/ tree:
# every source line archived exactly once and no partial line, each
# blob's members one contiguous range after another up to its size,
# verify --source clean, cat --operation-id across am-apprequests and
# am-appdependencies equal to jq over the source, cat --dedupe leaving out
# exactly the duplicated records, the same source listing requests in
# every hourly run, and --type / --app filters. A workspace mixes the
# records of two components, and some records carry no _ResourceId:
# query --app selects the members carrying a component (python3 over the
# source bytes of each member's range), cat --app prints that component's
# records (jq over the source), the workspace's name those without one.
. "$(dirname "$0")/lib.sh"
require_azurite
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v zcat >/dev/null 2>&1 || skip_all "zcat not installed"

AIGEN=$top_builddir/tools/aigen
key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
gen="$TEST_TMP/gen"
"$AIGEN" --out "$gen" --layout workspace --seed 7 --apps 3 --workspaces 2 \
	--from 2026-11-20T00 --hours 13 --types AppRequests,AppDependencies \
	--rows-per-blob 3 --steps 3 --late-appends --rollover 5 --duplicates 0.05 \
	--split-lines --no-resource-id 0.1 >/dev/null || bail_out "aigen failed"

azurite_start SRC ARC || bail_out "azurite did not start"
DEST="$ARC_URL/archive"
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY"
ai_init "$DEST" "$key" || bail_out "init failed"
run=("$AIARCHIVE" --json run --source "$SRC_URL" --dest "$DEST" --key "$key")

# The runs: step s is uploaded at 12:00 + 20 min x s; hour 12 is the one
# being written, and nothing is older than the 13 hours of --late-window.
nows=(2026-11-20T12:15:00Z 2026-11-20T12:35:00Z 2026-11-20T12:55:00Z)
lists=()
for s in 1 2 3; do
	blobtool_at SRC append-tree "$gen/step-$s" >"$TEST_TMP/up$s.jsonl" ||
		bail_out "upload of step $s failed"
	check_exit 0 "run $s after step $s's appends" -- env AIARCHIVE_NOW="${nows[$((s - 1))]}" "${run[@]}"
	grep '^{' <<<"$LAST_OUTPUT" >"$TEST_TMP/run$s.json"
	lists+=("$(jq .requests.source.list "$TEST_TMP/run$s.json")")
	diag "run $s: $(jq -c '{blobs, rows, bad_rows, watermark, list: .requests.source.list}' \
		"$TEST_TMP/run$s.json")"
done
check_eq "the layout is detected from the am-* containers" workspace-export \
	"$(jq -r .layout "$TEST_TMP/run1.json")"
check_eq "no bad rows: no partial line was taken for a row" "0 0 0" \
	"$(jq -s -r 'map(.bad_rows) | join(" ")' "$TEST_TMP"/run[123].json)"
check_eq "the watermark stays 13 hours behind (folders may still grow)" 2026-11-19T23:00:00Z \
	"$(jq -r .watermark "$TEST_TMP/run3.json")"
check_eq "runs 2 and 3 list the source with the same number of requests" \
	"${lists[1]}" "${lists[2]}"

check_exit 0 "a fourth run with nothing new" -- env AIARCHIVE_NOW=2026-11-20T13:05:00Z "${run[@]}"
check_eq "... archives nothing" 0 "$(grep '^{' <<<"$LAST_OUTPUT" | jq .blobs)"

check_exit 0 "a run after the late window has passed for every folder" -- \
	env AIARCHIVE_NOW=2026-11-21T02:30:00Z "${run[@]}"
check_eq "... archives nothing and moves the watermark past them" "0 2026-11-20T13:00:00Z" \
	"$(grep '^{' <<<"$LAST_OUTPUT" | jq -r '"\(.blobs) \(.watermark)"')"

# status --prom: each part labelled with the layout, its recovery point at
# least the 13 hours of --late-window behind (the stock rule allows for it,
# tests/e2e/alert_rules.sh).
check_exit 0 "status --prom" -- env AIARCHIVE_NOW=2026-11-21T02:30:00Z \
	"$AIARCHIVE" status --dest "$DEST" --prom "$TEST_TMP/status.prom"
check "... labels every part layout=\"workspace-export\"" -- test "$(grep -c \
	'^aiarchive_archived_through_timestamp_seconds{app="logs-ws[12]",type="app[a-z]*",layout="workspace-export"} ' \
	"$TEST_TMP/status.prom")" -eq 4
check "... with a recovery point 13 to 15 hours behind" -- awk '
	/^aiarchive_lag_seconds\{/ { n++; if ($2 < 13 * 3600 || $2 >= 15 * 3600) bad++ }
	END { exit !(n == 4 && !bad) }' "$TEST_TMP/status.prom"

# What the archive holds, read with independent tools.
"$AIARCHIVE" query --dest "$DEST" --format jsonl >"$TEST_TMP/members.jsonl"
mkdir -p "$TEST_TMP/arc"
blobtool_at ARC download-tree archive --prefix data/ "$TEST_TMP/arc" >/dev/null
find "$TEST_TMP/arc" -name '*.jsonl.gz' -exec zcat {} + | sort >"$TEST_TMP/archived.sorted"
(cd "$gen/all" && find . -type f -exec cat {} +) | sort >"$TEST_TMP/source.sorted"
check "zcat of the packs holds every source line exactly once" -- \
	cmp -s "$TEST_TMP/archived.sorted" "$TEST_TMP/source.sorted"
check_eq "as many lines as the source" "$(wc -l <"$TEST_TMP/source.sorted")" \
	"$(wc -l <"$TEST_TMP/archived.sorted")"

# Each blob: ranges from 0, one after the other, to the blob's size.
(cd "$gen/all" && find . -type f -printf '%P\t%s\n') |
	jq -R -s 'split("\n") | map(select(length > 0) | split("\t") | {(.[0]): (.[1] | tonumber)}) | add' \
	>"$TEST_TMP/sizes.json"
check "each blob is archived as contiguous ranges up to its size" -- \
	jq -s -e --slurpfile sz "$TEST_TMP/sizes.json" '
		group_by(.blob) | map(sort_by(.range_start)) |
		(length == ($sz[0] | length)) and
		all(.[]; .[0].range_start == 0 and
			([range(1; length) as $i | .[$i].range_start == .[$i - 1].range_end] | all) and
			.[-1].range_end == $sz[0][.[0].blob])' "$TEST_TMP/members.jsonl"
check "rolled-over PT05M_<n>.json blobs are archived" -- \
	jq -s -e 'map(select(.blob | test("/PT05M_[0-9]+\\.json$"))) | length > 0' "$TEST_TMP/members.jsonl"
check "late appends into folders 1 to 11 hours old are archived by later runs" -- \
	jq -s -e 'map(select(.range_start > 0 and .delivery_hour >= "2026-11-20T01" and
		.delivery_hour < "2026-11-20T12")) | length > 0' "$TEST_TMP/members.jsonl"
check "every member's app is its workspace, its type the table" -- \
	jq -s -e 'all(.[]; (.app | test("^logs-ws[12]$")) and
		(.type == "apprequests" or .type == "appdependencies"))' "$TEST_TMP/members.jsonl"
check "members index TimeGenerated within their folder's hour" -- \
	jq -s -e 'all(.[]; .min_event[0:13] == .delivery_hour[0:13] and
		.max_event[0:13] == .delivery_hour[0:13])' "$TEST_TMP/members.jsonl"

check_exit 0 "verify --source over the window" -- \
	"$AIARCHIVE" --json verify --dest "$DEST" --source "$SRC_URL" --from 2026-11-20T00 --to 2026-11-20T13
check_eq "... finds every source blob, none missing, no warning" \
	"$(jq length "$TEST_TMP/sizes.json") 0 0 0" \
	"$(grep '^{' <<<"$LAST_OUTPUT" | jq -r '"\(.source.blobs) \(.source.missing) \(.warnings) \(.errors)"')"

# Operation ids found in both tables; cat against jq over the source.
jq -r 'select(.Type == "AppRequests") | .OperationId' "$TEST_TMP/source.sorted" | sort -u >"$TEST_TMP/req.ops"
jq -r 'select(.Type == "AppDependencies") | .OperationId' "$TEST_TMP/source.sorted" | sort -u >"$TEST_TMP/dep.ops"
ops=$(comm -12 "$TEST_TMP/req.ops" "$TEST_TMP/dep.ops" | head -3 | paste -sd, -)
check "some operations span both tables" -- test -n "$ops"
jq -c --arg ops "$ops" 'select(.OperationId as $o | $ops | split(",") | index($o))' \
	"$TEST_TMP/source.sorted" | sort >"$TEST_TMP/ops.want"
check_exit 0 "cat --operation-id $ops" -- \
	"$AIARCHIVE" -q cat --dest "$DEST" --operation-id "$ops"
jq -c . <<<"$LAST_OUTPUT" | sort >"$TEST_TMP/ops.got"
check "... prints what jq finds in the source, in both tables" -- \
	cmp -s "$TEST_TMP/ops.want" "$TEST_TMP/ops.got"
check_eq "... from both tables" "AppDependencies AppRequests" \
	"$(jq -r .Type "$TEST_TMP/ops.got" | sort -u | paste -sd' ' -)"

dups=$(jq .duplicates "$gen/.aigen/summary.json")
check "aigen delivered some records twice" -- test "$dups" -gt 0
"$AIARCHIVE" cat --dest "$DEST" >"$TEST_TMP/cat.all" 2>/dev/null
check_eq "cat prints the duplicates as delivered" "$(wc -l <"$TEST_TMP/source.sorted")" \
	"$(wc -l <"$TEST_TMP/cat.all")"
check_exit 0 "cat --dedupe" -- "$AIARCHIVE" -v cat --dest "$DEST" --dedupe
grep '^{' <<<"$LAST_OUTPUT" | sort >"$TEST_TMP/cat.dedupe"
check_eq "... prints each _ItemId once" "$(jq -r ._ItemId "$TEST_TMP/source.sorted" | sort -u | wc -l)" \
	"$(wc -l <"$TEST_TMP/cat.dedupe")"
check "... leaving out exactly the duplicated records" -- \
	cmp -s "$TEST_TMP/cat.dedupe" <(sort -u "$TEST_TMP/source.sorted")
check "... and says how many it left out" -- \
	grep -q "cat: $dups duplicate records left out" <<<"$LAST_OUTPUT"
# The same with the set in a temporary file from the first record.
AIARCHIVE_TEST_DEDUPE_MEM_SLOTS=1 "$AIARCHIVE" cat --dest "$DEST" --dedupe 2>"$TEST_TMP/err" |
	sort >"$TEST_TMP/cat.dedupe.file"
check "cat --dedupe with its set in a temporary file prints the same" -- \
	cmp -s "$TEST_TMP/cat.dedupe" "$TEST_TMP/cat.dedupe.file"

# Each record's app: its component, or the workspace of its blob.
(cd "$gen/all" && find . -type f -printf '%P\n' | sort | while read -r f; do
	ws=${f#*/workspaces/}
	jq -c --arg ws "${ws%%/*}" '{app: (._ResourceId // "" | sub("/+$"; "") | split("/") |
		last // "" | ascii_downcase | if . == "" then $ws else . end), line: tojson}' "$f"
done) >"$TEST_TMP/apps.jsonl"
comps=$(jq -r 'select(.app | startswith("logs-ws") | not) | .app' "$TEST_TMP/apps.jsonl" |
	sort -u | paste -sd' ' -)
diag "components: $comps"
check "aigen wrote records without _ResourceId" -- \
	jq -s -e 'map(select(.app | startswith("logs-ws"))) | length > 0' "$TEST_TMP/apps.jsonl"
# python3: the apps each member's source bytes carry.
python3 - "$gen/all" "$TEST_TMP/members.jsonl" >"$TEST_TMP/member-apps.jsonl" <<'PY' ||
import json, sys
root, members = sys.argv[1], sys.argv[2]
for line in open(members):
    m = json.loads(line)
    with open(root + "/" + m["blob"], "rb") as f:
        f.seek(m["range_start"])
        data = f.read(m["range_end"] - m["range_start"])
    ws = m["blob"].split("/workspaces/")[1].split("/")[0]
    apps = set()
    for row in data.splitlines():
        try:
            rec = json.loads(row)
        except ValueError:
            continue
        rid = rec.get("_ResourceId")
        name = rid.rstrip("/").split("/")[-1].lower() if isinstance(rid, str) else ""
        apps.add(name or ws)
    print(json.dumps({"blob": m["blob"], "range_start": m["range_start"], "apps": sorted(apps),
                      "lines": len(data.splitlines())}))
PY
	bail_out "python3 over the members failed"
check "a workspace's members carry records of two components" -- \
	jq -s -e 'map(.apps | map(select(startswith("logs-ws") | not)) | length) | max >= 2' \
	"$TEST_TMP/member-apps.jsonl"
for c in $comps logs-ws1; do
	want=$(jq -s --arg c "$c" 'map(select(.apps | index($c))) | length' "$TEST_TMP/member-apps.jsonl")
	got=$("$AIARCHIVE" query --dest "$DEST" --app "${c^^}" --format jsonl | wc -l)
	check_eq "query --app ${c^^} selects the $want members carrying it" "$want" "$got"
	jq -r --arg c "$c" 'select(.app == $c) | .line' "$TEST_TMP/apps.jsonl" | jq -c . |
		sort >"$TEST_TMP/app.want"
	check_exit 0 "cat --app $c" -- "$AIARCHIVE" -q cat --dest "$DEST" --app "$c"
	jq -c . <<<"$LAST_OUTPUT" | sort >"$TEST_TMP/app.got"
	check "... prints exactly its $(wc -l <"$TEST_TMP/app.want") records (jq over the source)" -- \
		cmp -s "$TEST_TMP/app.want" "$TEST_TMP/app.got"
done
c=${comps%% *}
check_exit 0 "cat --app $c --raw" -- "$AIARCHIVE" -q cat --dest "$DEST" --app "$c" --raw
check_eq "... prints the lines of the members carrying it, other components' records too" \
	"$(jq -s --arg c "$c" 'map(select(.apps | index($c)) | .lines) | add' \
		"$TEST_TMP/member-apps.jsonl")" "$(wc -l <<<"$LAST_OUTPUT")"
check_eq "query --type AppRequests --app ${c^^} selects one table" "apprequests" \
	"$("$AIARCHIVE" query --dest "$DEST" --type AppRequests --app "${c^^}" --format jsonl |
		jq -r .type | sort -u | paste -sd' ' -)"
check_exit 0 "verify recomputes the indexes' apps from the members" -- \
	"$AIARCHIVE" --json verify --dest "$DEST"
check_eq "... without an error or a warning" "0 0" \
	"$(grep '^{' <<<"$LAST_OUTPUT" | jq -r '"\(.warnings) \(.errors)"')"

# A filtered run archives one table of one workspace into a new archive.
DEST2="$ARC_URL/filtered"
ai_init "$DEST2" "$key" || bail_out "init failed"
check_exit 0 "run --layout workspace-export --type AppDependencies --app logs-ws1" -- \
	env AIARCHIVE_NOW=2026-11-20T13:05:00Z "$AIARCHIVE" --json run --source "$SRC_URL" \
	--dest "$DEST2" --key "$key" --layout workspace-export --type AppDependencies --app logs-ws1
want=$(cd "$gen/all" && find am-appdependencies -path '*workspaces/logs-ws1/*' -type f \
	-exec cat {} + | wc -l)
check_eq "... the rows of that table and workspace" "$want" \
	"$(grep '^{' <<<"$LAST_OUTPUT" | jq .rows)"
check_exit 2 "run --from --to --app $c (a component, not a workspace) is refused" -- \
	env AIARCHIVE_NOW=2026-11-20T13:05:00Z "$AIARCHIVE" run --source "$SRC_URL" \
	--dest "$DEST2" --key "$key" --from 2026-11-20T00 --to 2026-11-20T02 --app "$c"
check "... saying that run --app names the workspace" -- \
	grep -q "matches no workspace in the source (nearest: .*'logs-ws.*run --app names the workspace" \
	<<<"$LAST_OUTPUT"

tap_done
