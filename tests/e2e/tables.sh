#!/usr/bin/env bash
# tables.sh: the tables people read and the progress line. On a generated
# continuous export with a long app name, archived in a local directory:
# query's and status's default tables fit 80 columns (awk), --wide has
# every column, --columns keeps the order given (and JSON Lines stay
# complete); --blob and --blob-prefix against find's listing of the
# source; --count and --group-by against jq's sums over query's JSON
# Lines. The progress line of run, cat and verify --data, forced with
# --progress into a file: its format, and that it ends cleared; nothing on
# a pipe without it; on a terminal (script(1)) by default, not with -q,
# --no-progress, or for cat when stdout is the terminal too.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"
command -v jq >/dev/null || skip_all "jq not installed"

src="$TEST_TMP/src" dst="$TEST_TMP/dst" key="$TEST_TMP/key"
export XDG_CACHE_HOME="$TEST_TMP/xdg-cache" STATE_DIRECTORY="$TEST_TMP/state"
long=a-very-long-application-name-for-the-checkout-service
check "generator makes a continuous export" -- \
	"$AIGEN" --out "$src" --layout continuous --apps 2 --hours 3 --seed 31 \
	--types Requests,Rdd,PageViewPerformance
check "one app gets a long name" -- bash -c \
	'cd "$1/appinsights-export" && d=$(ls -d shop-web_*) && mv "$d" "$2_${d#*_}"' _ "$src" "$long"
exp="$src/appinsights-export"
check_exit 0 "keygen" -- "$AIARCHIVE" keygen -o "$key"
check "init makes the archive" -- ai_init "file://$dst" "$key"
DEST="file://$dst"

# ---- the progress line of run ----
# Pieces of a captured stderr between carriage returns: each drawn line
# must read like the format; the last drawing is blanked and the cursor
# left at the start of the line.
PROGRESS_RE='^(run|cat|verify): [0-9]+(/[0-9]+)? (blobs|members), [0-9.]+ (B|KiB|MiB|GiB)( of [0-9.]+ (B|KiB|MiB|GiB))?(, [0-9.]+ (B|KiB|MiB|GiB)/s)?, ETA ([0-9]+[hms]([0-9]{2}[ms])?|-) *$'
progress_ok() { # FILE CMD
	local f=$1 cmd=$2 n=0 piece
	[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\r' ] || { echo "no final CR"; return 1; }
	while IFS= read -r -d $'\r' piece; do
		[ -z "${piece// /}" ] && continue
		[[ $piece =~ $PROGRESS_RE ]] || { echo "bad line: $piece"; return 1; }
		[[ $piece == "$cmd: "* ]] || { echo "not $cmd's: $piece"; return 1; }
		n=$((n + 1))
	done <"$f"
	# The last piece before the final CR is blank: the line was cleared.
	last=$(tr '\r' '\n' <"$f" | tail -n 1)
	[ -z "${last// /}" ] && [ "$n" -ge 1 ] || { echo "n=$n last='$last'"; return 1; }
}
check_exit 0 "run --progress archives the export" -- bash -c \
	'"$1" run --source "$2" --dest "$3" --key "$4" --progress 2>"$5"' _ \
	"$AIARCHIVE" "file://$exp" "$DEST" "$key" "$TEST_TMP/run.err"
check "run --progress: each drawing reads 'run: N/M blobs, ...', and the line ends cleared" -- \
	progress_ok "$TEST_TMP/run.err" run
check "run --progress: the totals are the blobs archived" -- bash -c \
	'n=$(find "$1" -type f | wc -l); grep -qaE "run: [0-9]+/$n blobs" "$2"' _ "$exp" "$TEST_TMP/run.err"

# ---- query tables ----
all_members=$("$AIARCHIVE" query --dest "$DEST" --format jsonl | wc -l)
check "query lists the members" -- test "$all_members" -gt 50
fits() { awk 'length > 80 { bad++ } END { exit bad > 0 }'; }
check_exit 0 "query --format table" -- "$AIARCHIVE" query --dest "$DEST" --format table
t=$LAST_OUTPUT
check "query's default table: every line at most 80 columns" -- fits <<<"$t"
check_eq "query's default table: app, type, delivery_hour, rows, blob" \
	"app type delivery_hour rows blob" "$(head -1 <<<"$t" | tr -s ' ')"
check_eq "query's default table: a line per member" "$((all_members + 1))" "$(wc -l <<<"$t")"
check "query's default table: the long app name cut in the middle" -- \
	grep -Eq '^a-very-[^ ]*~[^ ]*-service ' <<<"$t"
check_exit 0 "query --wide" -- "$AIARCHIVE" query --dest "$DEST" --format table --wide
check_eq "query --wide: every column" \
	"app type delivery_hour min_event max_event rows bad_rows raw_size segment run_id tags pack offset length sha256 range_start range_end etag replaces blob" \
	"$(head -1 <<<"$LAST_OUTPUT" | tr -s ' ')"
check "query --wide: names whole, nothing cut" -- bash -c \
	'grep -q "^$1 " <<<"$0" && ! grep -q "~" <<<"$0"' "$LAST_OUTPUT" "$long"
check_exit 0 "query --columns rows,blob,app" -- \
	"$AIARCHIVE" query --dest "$DEST" --format table --columns rows,blob,app
check "query --columns: in the order given" -- \
	grep -Eq '^rows +blob +app$' <<<"$(head -1 <<<"$LAST_OUTPUT")"
check "query --columns: still within 80 columns" -- fits <<<"$LAST_OUTPUT"
check_exit 0 "query --columns --wide" -- \
	"$AIARCHIVE" query --dest "$DEST" --format table --columns rows,blob,app --wide
check "query --columns --wide: the same columns, nothing cut" -- bash -c \
	'grep -Eq "^rows +blob +app$" <<<"$(head -1 <<<"$0")" && ! grep -q "~" <<<"$0" &&
	 grep -q " $1\$" <<<"$0"' "$LAST_OUTPUT" "$long"
check "query --columns with CSV: those columns, as the JSON Lines have them" -- bash -c '
	diff <("$0" query --dest "$1" --format csv --columns rows,blob,app) \
	<(echo rows,blob,app; "$0" query --dest "$1" --format jsonl | jq -r "\"\(.rows),\(.blob),\(.app)\"")' \
	"$AIARCHIVE" "$DEST"
check "query --json with --columns: every field of every member" -- bash -c '
	"$0" --json query --dest "$1" --columns app,rows |
	jq -se "length == $2 and all(.[]; keys | length == 20)"' "$AIARCHIVE" "$DEST" "$all_members"
check_exit 2 "query --columns with an unknown name" -- \
	"$AIARCHIVE" query --dest "$DEST" --columns rows,bob
check "the error names it and lists the valid names" -- \
	grep -q "unknown name 'bob' (one of blob, range_start, range_end, app, type, delivery_hour, .*, replaces)" <<<"$LAST_OUTPUT"
check_exit 2 "query --columns with a name twice" -- \
	"$AIARCHIVE" query --dest "$DEST" --columns rows,rows

# ---- --blob, --blob-prefix ----
mapfile -t blobs < <(cd "$exp" && find . -type f -name '*.blob' | sed 's|^\./||' | sort)
RANDOM=77
for i in 1 2 3; do
	b=${blobs[RANDOM % ${#blobs[@]}]}
	check_eq "query --blob: that blob's member ($i)" "$b" \
		"$("$AIARCHIVE" query --dest "$DEST" --blob "$b" --format jsonl | jq -r .blob)"
	check "cat --blob: that blob's rows ($i)" -- \
		diff <("$AIARCHIVE" cat --dest "$DEST" --blob "$b") <(awk 1 "$exp/$b")
done
check_eq "query --blob of a name not archived lists nothing" "" \
	"$("$AIARCHIVE" query --dest "$DEST" --blob "${blobs[0]}x" --format jsonl)"
for prefix in "${long}_" "$(dirname "$(dirname "${blobs[0]}")")/" \
	"$(dirname "${blobs[${#blobs[@]} - 1]}")/" "billing"; do
	check "query --blob-prefix '$prefix' lists what find lists" -- diff \
		<("$AIARCHIVE" query --dest "$DEST" --blob-prefix "$prefix" --format jsonl | jq -r .blob | sort) \
		<(printf '%s\n' "${blobs[@]}" | grep -F "$prefix" | awk -v p="$prefix" 'index($0, p) == 1')
done
check "--blob-prefix is case-sensitive" -- bash -c \
	'test -z "$("$0" query --dest "$1" --blob-prefix BILLING --format jsonl)"' "$AIARCHIVE" "$DEST"

# ---- --count, --group-by ----
"$AIARCHIVE" query --dest "$DEST" --format jsonl >"$TEST_TMP/members.jsonl"
jq_sums='{members: length, rows: (map(.rows) | add // 0), bytes: (map(.raw_size) | add // 0)}'
check "query --count: members, rows and bytes as jq sums them" -- bash -c '
	diff <("$0" query --dest "$1" --count --format jsonl | jq -c .) \
	<(jq -sc "$2" "$3")' "$AIARCHIVE" "$DEST" "$jq_sums" "$TEST_TMP/members.jsonl"
check "query --count --app --type: the same over that selection" -- bash -c '
	diff <("$0" query --dest "$1" --count --app "$4" --type Rdd --format jsonl | jq -c .) \
	<(jq -sc --arg a "$4" "map(select(.app == \$a and .type == \"Rdd\")) | $2" "$3")' \
	"$AIARCHIVE" "$DEST" "$jq_sums" "$TEST_TMP/members.jsonl" "$long"
check_exit 0 "query --count as a table" -- "$AIARCHIVE" query --dest "$DEST" --count --format table
check_eq "query --count: one line" \
	"$(jq -sr "$jq_sums"' | "\(.members) members, \(.rows) rows, \(.bytes) bytes"' "$TEST_TMP/members.jsonl")" \
	"$LAST_OUTPUT"
check_eq "query --count of nothing: zeros" '{"members":0,"rows":0,"bytes":0}' \
	"$("$AIARCHIVE" query --dest "$DEST" --count --app nosuch --format jsonl)"
group_jq() { # KEYS as jq paths: .type,.app
	jq -sc "group_by([$1]) | map({$(sed 's/\.\([a-z_]*\)/\1: .[0].\1/g; s/delivery_hour: .\[0\].delivery_hour/hour: .[0].delivery_hour/' <<<"$1"), members: length, rows: (map(.rows) | add), bytes: (map(.raw_size) | add)}) | .[]" \
		"$TEST_TMP/members.jsonl"
}
for keys in type,app hour app,hour,type type; do
	paths=$(sed 's/hour/delivery_hour/; s/\([a-z_]*\)/.\1/g' <<<"$keys")
	check "query --group-by $keys: jq's groups, keys in that order, sorted by them" -- diff \
		<("$AIARCHIVE" query --dest "$DEST" --group-by "$keys" --format jsonl | jq -c .) \
		<(group_jq "$paths")
done
check "query --group-by: the groups add up to --count" -- bash -c '
	diff <("$0" query --dest "$1" --group-by app --format jsonl |
	       jq -sc "{members: (map(.members) | add), rows: (map(.rows) | add), bytes: (map(.bytes) | add)}") \
	<("$0" query --dest "$1" --count --format jsonl)' "$AIARCHIVE" "$DEST"
check_exit 0 "query --group-by app,type as a table" -- \
	"$AIARCHIVE" query --dest "$DEST" --group-by app,type --format table
check "its lines fit 80 columns, a header and a line a group" -- bash -c '
	awk "length > 80 { exit 1 }" <<<"$0" && grep -Eq "^app +type +members +rows +bytes$" <<<"$0" &&
	test "$(($(wc -l <<<"$0") - 1))" -eq "$("$1" query --dest "$2" --group-by app,type | wc -l)"' \
	"$LAST_OUTPUT" "$AIARCHIVE" "$DEST"
check "query --group-by as CSV: a header, then the groups" -- bash -c '
	diff <("$0" query --dest "$1" --group-by hour,app --format csv) \
	<(echo hour,app,members,rows,bytes; "$0" query --dest "$1" --group-by hour,app --format jsonl |
	  jq -r "\"\(.hour),\(.app),\(.members),\(.rows),\(.bytes)\"")' "$AIARCHIVE" "$DEST"
check_exit 2 "query --group-by with an unknown key" -- \
	"$AIARCHIVE" query --dest "$DEST" --group-by app,day
check "the error lists the keys" -- grep -q "unknown name 'day' (one of app, type, hour)" <<<"$LAST_OUTPUT"
check_exit 2 "query --group-by with --columns" -- \
	"$AIARCHIVE" query --dest "$DEST" --group-by app --columns rows

# ---- status tables ----
check_exit 0 "status" -- "$AIARCHIVE" status --dest "$DEST"
check "status: the table's lines fit 80 columns" -- bash -c \
	'sed -n "/^APP /,\$p" <<<"$0" | awk "length > 80 { exit 1 }"' "$LAST_OUTPUT"
check "status: APP TYPE ARCHIVED THROUGH LAG FAILED ROWS, the long app cut" -- bash -c '
	grep -Eq "^APP +TYPE +ARCHIVED THROUGH +LAG +FAILED +ROWS$" <<<"$0" &&
	grep -Eq "^a-very-[^ ]*~[^ ]* " <<<"$0"' "$LAST_OUTPUT"
check_exit 0 "status --wide" -- "$AIARCHIVE" status --dest "$DEST" --wide
check "status --wide: every column, the name whole" -- bash -c '
	grep -Eq "^APP +TYPE +ARCHIVED THROUGH +LAG +LAST EVENT +NEWEST BLOB +FAILED +QUARANTINED +MEMBERS +ROWS$" <<<"$0" &&
	grep -q "^$1 " <<<"$0"' "$LAST_OUTPUT" "$long"
check_exit 0 "status --columns rows,app,lag" -- "$AIARCHIVE" status --dest "$DEST" --columns rows,app,lag
check "status --columns: in the order given" -- grep -Eq '^ *ROWS +APP +LAG$' <<<"$LAST_OUTPUT"
check_exit 2 "status --columns with an unknown name" -- "$AIARCHIVE" status --dest "$DEST" --columns rows,ap
check "the error lists the columns" -- \
	grep -q "unknown name 'ap' (one of app, type, archived_through, lag, last_event, newest_blob, failed, quarantined, members, rows)" <<<"$LAST_OUTPUT"

# ---- the progress line of cat and verify --data ----
check_exit 0 "cat --progress" -- bash -c '"$0" cat --dest "$1" --progress >"$2" 2>"$3"' \
	"$AIARCHIVE" "$DEST" "$TEST_TMP/cat.out" "$TEST_TMP/cat.err"
check "cat --progress: each drawing reads 'cat: N/M members, ...', and the line ends cleared" -- \
	progress_ok "$TEST_TMP/cat.err" cat
check "cat --progress: the rows are all printed" -- \
	diff <(sort "$TEST_TMP/cat.out") <(cd "$exp" && find . -type f -print0 | xargs -0 awk 1 | sort)
check_exit 0 "verify --data --progress" -- bash -c '"$0" verify --dest "$1" --data --progress 2>"$2"' \
	"$AIARCHIVE" "$DEST" "$TEST_TMP/verify.err"
check "verify --data --progress: 'verify: N members, ...', and the line ends cleared" -- \
	progress_ok "$TEST_TMP/verify.err" verify
check_exit 0 "-q verify --data --progress: forced, it is drawn all the same" -- bash -c \
	'"$0" -q verify --dest "$1" --data --progress 2>"$2"' "$AIARCHIVE" "$DEST" "$TEST_TMP/q.err"
check "so it is" -- progress_ok "$TEST_TMP/q.err" verify
check_exit 2 "--progress with --no-progress" -- "$AIARCHIVE" cat --dest "$DEST" --progress --no-progress

# Nothing on a pipe without --progress.
check "cat on a pipe draws nothing" -- bash -c \
	'"$0" cat --dest "$1" 2>&1 >/dev/null | cmp -s - /dev/null' "$AIARCHIVE" "$DEST"
check "verify --data on a pipe draws nothing" -- bash -c \
	'test -z "$("$0" verify --dest "$1" --data 2>&1 >/dev/null)"' "$AIARCHIVE" "$DEST"
check "init" -- ai_init "file://$TEST_TMP/dst2" "$key"
check "run on a pipe draws nothing" -- bash -c \
	'test -z "$("$0" run --source "$1" --dest "$2" --key "$3" 2>&1 >/dev/null)"' \
	"$AIARCHIVE" "file://$exp" "file://$TEST_TMP/dst2" "$key"

# On a terminal: script(1) gives the command one for stdout and stderr.
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
	on_tty() { script -qec "$(printf '%q ' "$@")" /dev/null </dev/null; }
	tty_has() { on_tty "${@:2}" | grep -qa $'\r'"$1: [0-9]"; } # NAME COMMAND...
	tty_lacks() { ! tty_has "$@"; }
	check "verify --data on a terminal draws the line" -- \
		tty_has verify "$AIARCHIVE" verify --dest "$DEST" --data
	check "not with -q" -- tty_lacks verify "$AIARCHIVE" -q verify --dest "$DEST" --data
	check "not with --json" -- tty_lacks verify "$AIARCHIVE" --json verify --dest "$DEST" --data
	check "not with --no-progress" -- \
		tty_lacks verify "$AIARCHIVE" verify --dest "$DEST" --data --no-progress
	check "cat printing its rows to the terminal draws no line through them" -- \
		tty_lacks cat "$AIARCHIVE" cat --dest "$DEST"
	check "cat into a file from a terminal draws it" -- \
		tty_has cat bash -c '"$0" cat --dest "$1" >/dev/null' "$AIARCHIVE" "$DEST"
else
	diag "script(1) cannot make a terminal here: the terminal checks are left out"
fi

tap_done
