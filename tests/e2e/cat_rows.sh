#!/usr/bin/env bash
# cat_rows.sh: `aiarchive cat` as a tool's input: only valid JSON rows by
# default, the malformed ones counted and placed (pack, member, line) on
# stderr; --raw byte-identical to zcat of the members cut from the packs;
# --sort time against Python's sort of the source rows by parsed instant
# (3 to 7 fractional digits, UTC offsets, late members); --format csv read
# back with Python's csv module; the usage errors of the combinations.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"
command -v jq >/dev/null || skip_all "jq not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"

src="$TEST_TMP/src" dst="$TEST_TMP/dst" key="$TEST_TMP/key"
export XDG_CACHE_HOME="$TEST_TMP/xdg-cache"
check "generator makes an export with malformed, blank, CRLF and late rows" -- \
	"$AIGEN" --out "$src" --layout continuous --apps 2 --hours 3 --seed 31 \
	--late-fraction 0.2 --faults malformed,blank,crlf,nofinalnl
# A blob of our own: times in one second written with 3 to 7 fractional
# digits (as strings they sort wrongly), offsets east and west of UTC, and
# rows out of order in the blob.
app_dir=$(find "$src/appinsights-export" -mindepth 1 -maxdepth 1 -type d | sort | head -1)
mkdir -p "$app_dir/Messages/2026-11-20/01"
python3 - "$app_dir/Messages/2026-11-20/01/0000mixed_20261120_010000.blob" <<'EOF'
import json, sys
times = ["2026-11-20T01:30:00.7361Z", "2026-11-20T01:30:00.736Z",
         "2026-11-20T01:30:00.73601Z", "2026-11-20T01:30:00.7Z",
         "2026-11-20T03:30:00.5+02:00", "2026-11-20T01:29:59.9999999Z",
         "2026-11-19T20:30:00.25-05:00", "2026-11-20T01:30:00.1234567Z",
         "2026-11-20T01:30:00Z", "2026-11-20T01:30:00.736000Z"]
with open(sys.argv[1], "w") as f:
    for i, t in enumerate(times):
        f.write(json.dumps({"message": [{"raw": "m%d" % i}],
                            "context": {"data": {"eventTime": t},
                                        "operation": {"id": "mixed%d" % i}}},
                           separators=(",", ":")) + "\n")
EOF
check_exit 0 "keygen" -- "$AIARCHIVE" keygen -o "$key"
check "init makes the archive" -- ai_init "file://$dst" "$key"
check_exit 0 "the export is archived" -- "$AIARCHIVE" run \
	--source "file://$src/appinsights-export" --dest "file://$dst" --key "$key"
DEST="file://$dst"

# Every source line, a missing final newline added; the valid rows among
# them, by jq (one JSON object a line), as written.
find "$src/appinsights-export" -type f -name '*.blob' -print0 | sort -z | xargs -0 -r awk 1 \
	>"$TEST_TMP/lines"
python3 - "$TEST_TMP/lines" "$TEST_TMP/valid" "$TEST_TMP/nbad" <<'EOF'
import json, sys
good, bad = [], 0
for line in open(sys.argv[1], "rb").read().split(b"\n"):
    text = line.rstrip(b"\r")
    if not text.strip():
        continue
    try:
        ok = isinstance(json.loads(text), dict)
    except ValueError:
        ok = False
    if ok:
        good.append(text)
    else:
        bad += 1
open(sys.argv[2], "wb").write(b"".join(g + b"\n" for g in good))
open(sys.argv[3], "w").write("%d\n" % bad)
EOF
nbad=$(cat "$TEST_TMP/nbad")
check "the source has malformed rows" -- test "$nbad" -gt 0

# --- valid rows only -------------------------------------------------------
"$AIARCHIVE" cat --dest "$DEST" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
check_eq "cat exits 0 with malformed rows left out" 0 "$?"
check "cat prints every valid row and no other (as Python reads the source)" -- \
	diff <(sort "$TEST_TMP/out") <(sort "$TEST_TMP/valid")
check "jq reads cat's whole output" -- jq -e -s 'length > 0' "$TEST_TMP/out"
check "stderr says how many malformed rows were left out" -- \
	grep -q "left out $nbad malformed row" "$TEST_TMP/err"
check "stderr names the pack, member and line of a malformed row" -- \
	grep -Eq "member '[^']+' \(segment [0-9]+, pack '[^']+' offset [0-9]+ length [0-9]+\): left out [0-9]+ malformed rows? \(not one JSON object\): lines? [0-9]+" \
	"$TEST_TMP/err"
bad_blob=$(awk -F'\t' '$1 == "malformed" { print $2; exit }' "$src/.aigen/faults.txt")
bad_blob=${bad_blob#appinsights-export/}
bad_line=$(awk '{ print NR": "$0 }' "$src/appinsights-export/$bad_blob" | python3 -c '
import json, sys
for l in sys.stdin:
    n, _, row = l.partition(": ")
    try:
        json.loads(row)
    except ValueError:
        if row.strip():
            print(n); break')
check "the line named is the malformed row's line in its blob" -- \
	grep -Eq "member '$bad_blob' .*: lines? ([0-9]+, )*$bad_line([,)]|$)" "$TEST_TMP/err"

# --- --raw -----------------------------------------------------------------
# Each member cut from its pack at the recorded offset and length, zcat'd,
# in the order query lists them (segment and member order, as cat prints).
"$AIARCHIVE" query --dest "$DEST" --format jsonl |
	jq -r '"\(.pack)\t\(.offset)\t\(.length)"' >"$TEST_TMP/members"
: >"$TEST_TMP/zcat"
while IFS=$'\t' read -r pack off len; do
	tail -c +"$((off + 1))" "$dst/$pack" | head -c "$len" | zcat >>"$TEST_TMP/zcat"
done <"$TEST_TMP/members"
check "query lists members to cut" -- test -s "$TEST_TMP/members"
check "cat --raw is byte-identical to zcat of the members" -- \
	bash -c '"$1" cat --dest "$2" --raw | cmp - "$3"' _ "$AIARCHIVE" "$DEST" "$TEST_TMP/zcat"
check "cat --raw leaves no row out" -- \
	bash -c '"$1" cat --dest "$2" --raw 2>&1 >/dev/null | grep -c malformed | grep -qx 0' \
	_ "$AIARCHIVE" "$DEST"

# --- --sort time -----------------------------------------------------------
# Python's instant of a row's eventTime (ns since the epoch), or None.
cat >"$TEST_TMP/instant.py" <<'EOF'
import calendar, json, re
PAT = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?"
                 r"(?:([Zz])|([+-])(\d\d):(\d\d))$")
def instant(row):
    t = ((json.loads(row).get("context") or {}).get("data") or {}).get("eventTime")
    m = PAT.match(t) if isinstance(t, str) else None
    if not m:
        return None
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s or 0)))
    if not z:
        secs -= (1 if sign == "+" else -1) * (int(oh) * 3600 + int(om) * 60)
    return secs * 10**9 + int(((frac or "") + "000000000")[:9])
EOF
"$AIARCHIVE" cat --dest "$DEST" --sort time >"$TEST_TMP/sorted" 2>"$TEST_TMP/sort.err"
check_eq "cat --sort time exits 0" 0 "$?"
check "cat --sort time prints the same rows" -- \
	diff <(sort "$TEST_TMP/sorted") <(sort "$TEST_TMP/valid")
check "cat --sort time: rows in order of their parsed instants, untimed last" -- \
	python3 -c '
import sys
sys.path.insert(0, sys.argv[2])
from instant import instant
keys = [instant(l) for l in open(sys.argv[1], encoding="utf-8")]
timed = [k for k in keys if k is not None]
assert keys[:len(timed)] == timed, "an untimed row before a timed one"
want = sorted(instant(l) for l in open(sys.argv[3], encoding="utf-8") if instant(l) is not None)
assert timed == want, "not in instant order"
' "$TEST_TMP/sorted" "$TEST_TMP" "$TEST_TMP/valid"
order=$(grep -o '"id":"mixed[0-9]"' "$TEST_TMP/sorted" | tr -dc '0-9\n' | paste -sd ' ')
check_eq "the mixed-precision rows come out in instant order (equal instants as archived)" \
	"5 8 7 6 4 3 1 9 2 0" "$order"
check "a string sort of their times gives another order" -- bash -c '
	test "$(grep "\"id\":\"mixed" "$1" | jq -r "[.context.data.eventTime, .context.operation.id] | @tsv" |
		sort | cut -f2 | tr -dc "0-9\n" | paste -sd " ")" != "$2"' _ "$TEST_TMP/sorted" "$order"
check "cat --sort time --from/--to keeps the window, in order" -- bash -c '
	"$1" cat --dest "$2" --sort time --from 2026-11-20T01:30:00.5Z --to 2026-11-20T01:30:00.7361Z |
		jq -r .context.operation.id | paste -sd " " | grep -qx "mixed4 mixed3 mixed1 mixed9 mixed2"' \
	_ "$AIARCHIVE" "$DEST"

# --- --format csv ----------------------------------------------------------
fields=context.data.eventTime,context.operation.id,context.device.roleName,message.0.raw,context.data,nothing.here
"$AIARCHIVE" cat --dest "$DEST" --format csv --fields "$fields" >"$TEST_TMP/csv"
check_eq "cat --format csv exits 0" 0 "$?"
check "Python's csv module reads it back: header, then each row's fields" -- python3 -c '
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
fields = sys.argv[3].split(",")
assert rows[0] == fields, rows[0]
def at(v, path):
    for k in path.split("."):
        if isinstance(v, dict) and k in v:
            v = v[k]
        elif isinstance(v, list) and k.isdigit() and int(k) < len(v):
            v = v[int(k)]
        else:
            return ""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return None  # JSON text: compared parsed
want = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
got = rows[1:]
assert len(got) == len(want), (len(got), len(want))
got.sort(key=lambda r: (r[1], r[0]))
want.sort(key=lambda o: (at(o, "context.operation.id") or "", at(o, "context.data.eventTime") or ""))
for g, w in zip(got, want):
    assert len(g) == len(fields)
    for cell, f in zip(g, fields):
        e = at(w, f)
        if e is None:
            v = w
            for k in f.split("."):
                v = v[int(k)] if isinstance(v, list) else v[k]
            assert json.loads(cell) == v, (cell, f)
        else:
            assert cell == e, (cell, e, f)
' "$TEST_TMP/csv" "$TEST_TMP/valid" "$fields"
check "CSV records end in CRLF and quote fields with quotes or commas" -- python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
assert d.endswith(b"\r\n") and d.count(b"\n") == d.count(b"\r\n")
assert b",\"{\"\"eventTime\"\":\"\"" in d
' "$TEST_TMP/csv"
check "cat --sort time --format csv: header first, rows in instant order" -- bash -c '
	"$1" cat --dest "$2" --sort time --format csv --fields context.operation.id |
		grep "^mixed" | tr -d "\r" | paste -sd " " | grep -qx "mixed5 mixed8 mixed7 mixed6 mixed4 mixed3 mixed1 mixed9 mixed2 mixed0"' \
	_ "$AIARCHIVE" "$DEST"

# --- usage -----------------------------------------------------------------
for args in "--format csv" "--fields a.b" "--format table" "--sort size" "--raw --sort time" \
	"--raw --format csv --fields a" "--format csv --fields a..b"; do
	# shellcheck disable=SC2086
	check_exit 2 "cat $args is a usage error" -- "$AIARCHIVE" cat --dest "$DEST" $args
done
"$AIARCHIVE" cat --dest "$DEST" --format csv >/dev/null 2>"$TEST_TMP/usage.err"
check_eq "the usage error says what is wrong in one line" \
	"aiarchive: error: cat: --format csv needs --fields (see 'aiarchive cat --help')" \
	"$(head -n 1 "$TEST_TMP/usage.err")"

tap_done
