#!/usr/bin/env bash
# query_cat.sh: `aiarchive query` and `aiarchive cat` on an archive with
# late telemetry (events days before their delivery folder), checked
# against jq's reading of the source blobs: event-time windows with edges
# exactly at event times, operation ids, output formats, a corrupted pack
# byte (exit 4), and Range reads and the segment cache against Azurite.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"
command -v jq >/dev/null || skip_all "jq not installed"

src="$TEST_TMP/src" dst="$TEST_TMP/dst" key="$TEST_TMP/key"
export XDG_CACHE_HOME="$TEST_TMP/xdg-cache"
check "generator makes a continuous export with late blobs" -- \
	"$AIGEN" --out "$src" --layout continuous --apps 2 --hours 4 --seed 23 \
	--late-fraction 0.2 --types Requests,Rdd,Exceptions,Messages
check_exit 0 "keygen" -- "$AIARCHIVE" keygen -o "$key"
check "init makes the archive" -- ai_init "file://$dst" "$key"
check_exit 0 "the export is archived" -- "$AIARCHIVE" run \
	--source "file://$src/appinsights-export" --dest "file://$dst" --key "$key"
DEST="file://$dst"

# Every source row, one per line (a missing final newline added).
all_rows() {
	find "$src/appinsights-export" -type f -name '*.blob' -print0 | sort -z | xargs -0 -r awk 1
}
all_rows >"$TEST_TMP/rows"

# jq: an eventTime (3 to 7 fractional digits, or none) as a string that
# sorts as time: the fraction padded to 9 digits.
JQ_NORM='def norm: capture("^(?<s>[^.Z]+)(\\.(?<f>[0-9]+))?Z$") | .s + "." + (((.f // "") + "000000000")[:9]) + "Z";'

# Rows whose event time is in [from, to), by jq over the source.
jq_window() {
	jq -c --arg from "$1" --arg to "$2" "$JQ_NORM"'
		select(.context.data.eventTime != null)
		| (.context.data.eventTime | norm) as $t
		| select($t >= ($from | norm) and $t < ($to | norm))' "$TEST_TMP/rows"
}
# The same selection as raw lines, exactly as in the source.
src_window() {
	paste -d '\t' <(jq -r --arg from "$1" --arg to "$2" "$JQ_NORM"'
		if .context.data.eventTime == null then "n" else
		(.context.data.eventTime | norm) as $t
		| if $t >= ($from | norm) and $t < ($to | norm) then "y" else "n" end end' \
		"$TEST_TMP/rows") "$TEST_TMP/rows" | sed -n 's/^y\t//p' | sort
}

cat_sorted() {
	"$AIARCHIVE" cat --dest "$DEST" "$@" | sort
}

check "cat with no filter prints every archived row" -- \
	diff <(cat_sorted) <(sort "$TEST_TMP/rows")

# Event times to use as window edges: a fixed random choice of rows.
mapfile -t times < <(jq -r '.context.data.eventTime // empty' "$TEST_TMP/rows" | sort -u)
ntimes=${#times[@]}
check "the export has event times" -- test "$ntimes" -gt 100
check "late rows are days before their folder" -- \
	jq -se --arg min "${times[0]}" "$JQ_NORM"'any(.[]; .late) and ($min | norm) < "2026-11-19"' \
	"$src/.aigen/manifest.jsonl"
RANDOM=4242
windows=()
for i in 1 2 3 4 5 6; do
	a=$((RANDOM % ntimes)) b=$((RANDOM % ntimes))
	[ "$a" -le "$b" ] || { t=$a; a=$b; b=$t; }
	[ "$a" -lt "$b" ] || b=$((a + 1))
	[ "$b" -lt "$ntimes" ] || { a=$((ntimes - 2)); b=$((ntimes - 1)); }
	windows+=("${times[a]} ${times[b]}")
done
# A window over the late rows only, and one the short forms name.
windows+=("${times[0]} 2026-11-19T00:00:00Z" "2026-11-20T01 2026-11-20T02")

# Members overlapping [from, to), from the generator's own manifest.
gen_members() {
	jq -rs --arg from "$1" --arg to "$2" "$JQ_NORM"'
		[.[] | select(.min_time != null)
		 | select((.min_time | norm) < ($to | norm) and (.max_time | norm) >= ($from | norm))]
		| "\(length) \(map(.rows) | add // 0)"' "$src/.aigen/manifest.jsonl"
}
full() { # the short forms the CLI takes, as jq can read them
	case $1 in
	????-??-??T?? ) echo "$1:00:00Z" ;;
	*) echo "$1" ;;
	esac
}
for w in "${windows[@]}"; do
	from=${w% *} to=${w#* }
	check "cat --from $from --to $to matches jq over the source" -- \
		diff <(cat_sorted --from "$from" --to "$to") <(src_window "$(full "$from")" "$(full "$to")")
	check "cat --from $from --to $to rows parse as the window's JSON" -- \
		diff <("$AIARCHIVE" cat --dest "$DEST" --from "$from" --to "$to" | jq -c . | sort) \
		<(jq_window "$(full "$from")" "$(full "$to")" | sort)
	q=$("$AIARCHIVE" query --dest "$DEST" --format jsonl --from "$from" --to "$to" |
		jq -rs '"\(length) \(map(.rows) | add // 0)"')
	check_eq "query --from $from --to $to: members and rows match the generator" \
		"$(gen_members "$(full "$from")" "$(full "$to")")" "$q"
done

check "a window edge at an event time: --to excludes it, --from includes it" -- bash -c '
	t=$1; n_to=$("$2" cat --dest "$3" --from "$4" --to "$t" | grep -c -F "\"eventTime\":\"$t\"")
	n_from=$("$2" cat --dest "$3" --from "$t" --to "$5" | grep -c -F "\"eventTime\":\"$t\"")
	[ "$n_to" -eq 0 ] && [ "$n_from" -ge 1 ]' _ "${times[ntimes / 2]}" "$AIARCHIVE" "$DEST" \
	"${times[0]}" "${times[ntimes - 1]}"

# Operation ids: a fixed random choice, each compared with jq's selection.
mapfile -t ops < <(jq -r '.context.operation.id // empty' "$TEST_TMP/rows" | sort -u)
for i in 1 2 3 4 5; do
	op=${ops[RANDOM % ${#ops[@]}]}
	check "cat --operation-id $op is jq's selection of that operation" -- \
		diff <(cat_sorted --operation-id "$op" | jq -c .) \
		<(jq -c --arg op "$op" 'select(.context.operation.id == $op)' "$TEST_TMP/rows" | sort)
	check "query --operation-id $op lists every blob that holds it" -- bash -c '
		want=$(grep -l -F "\"id\":\"$1\"" -r "$2/appinsights-export" | sed "s|^$2/appinsights-export/||" | sort)
		got=$("$3" query --dest "$4" --operation-id "$1" --format jsonl | jq -r .blob | sort)
		[ -n "$want" ] && [ -z "$(comm -23 <(echo "$want") <(echo "$got"))" ]' _ "$op" "$src" \
		"$AIARCHIVE" "$DEST"
done
check "an unknown operation id prints nothing and exits 0" -- bash -c '
	[ -z "$("$1" cat --dest "$2" --operation-id 00000000000000000000000000000000)" ]' _ \
	"$AIARCHIVE" "$DEST"
busiest=$(jq -r '.context.operation.id // empty' "$TEST_TMP/rows" | sort | uniq -c | sort -rn |
	awk 'NR == 1 { print $2 }')
check "cat --operation-id tells one operation's story across telemetry types" -- bash -c '
	n=$("$1" cat --dest "$2" --operation-id "$3" | jq -r "keys[] | select(. != \"internal\" and . != \"context\")" | sort -u | wc -l)
	[ "$n" -ge 2 ]' _ "$AIARCHIVE" "$DEST" "$busiest"

# Filters and formats.
check "query --app lists only that app" -- bash -c '
	app=$(jq -r .app "$1/.aigen/manifest.jsonl" | sort -u | head -1)
	"$2" query --dest "$3" --app "$app" --format jsonl | jq -se --arg a "$app" "length > 0 and all(.[]; .app == \$a)"' \
	_ "$src" "$AIARCHIVE" "$DEST"
check "query --type Rdd,Requests lists only those types" -- bash -c '
	"$1" query --dest "$2" --type Rdd,Requests --format jsonl |
		jq -se "length > 0 and all(.[]; .type == \"Rdd\" or .type == \"Requests\")"' _ "$AIARCHIVE" "$DEST"
role=$(jq -r '.context.device.roleName // empty' "$TEST_TMP/rows" | sort | uniq -c | sort -rn |
	sed -n '1s/^ *[0-9]* //p')
check "cat --type Requests --role prints only that role's requests" -- \
	diff <("$AIARCHIVE" cat --dest "$DEST" --type Requests --role "$role" | jq -c . | sort) \
	<(jq -c --arg r "$role" 'select(.request and .context.device.roleName == $r)' "$TEST_TMP/rows" | sort)
check "query --format jsonl: every member parses and rows add up" -- bash -c '
	"$1" query --dest "$2" --format jsonl | jq -se --argjson n "$(wc -l <"$3")" \
		"(map(.rows) | add) == \$n and all(.[]; .sha256 | test(\"^[0-9a-f]{64}$\"))"' \
	_ "$AIARCHIVE" "$DEST" "$TEST_TMP/rows"
check "--json query is JSON Lines" -- bash -c '
	"$1" --json query --dest "$2" --type Requests | jq -se "length > 0"' _ "$AIARCHIVE" "$DEST"
check "query output to a pipe defaults to JSON Lines" -- bash -c '
	"$1" query --dest "$2" --type Requests | head -1 | jq -e .blob' _ "$AIARCHIVE" "$DEST"
csv=$("$AIARCHIVE" query --dest "$DEST" --format csv --type Requests)
check_eq "query --format csv has the documented header" \
	"blob,range_start,range_end,app,type,delivery_hour,min_event,max_event,rows,bad_rows,raw_size,pack,offset,length,sha256,segment,run_id,tags,etag,replaces" \
	"$(head -1 <<<"$csv")"
check_eq "query --format csv has one line per member" \
	"$("$AIARCHIVE" query --dest "$DEST" --format jsonl --type Requests | wc -l)" \
	"$(($(wc -l <<<"$csv") - 1))"
check "query --format table has a header and the blob last" -- bash -c '
	"$1" query --dest "$2" --format table --type Requests | head -1 | grep -q "^app .* blob$"' \
	_ "$AIARCHIVE" "$DEST"
check_exit 0 "a query that matches nothing exits 0" -- \
	"$AIARCHIVE" query --dest "$DEST" --from 2001-01-01 --to 2001-01-02
check_eq "... and prints nothing" "" "$LAST_OUTPUT"
check_exit 0 "query --tag with an unused tag exits 0" -- \
	"$AIARCHIVE" query --dest "$DEST" --tag INC-0 --format jsonl
check_eq "... and lists nothing" "" "$LAST_OUTPUT"
check_exit 2 "--from after --to is a usage error" -- \
	"$AIARCHIVE" query --dest "$DEST" --from 2026-11-21 --to 2026-11-20
check_exit 2 "an unknown format is a usage error" -- \
	"$AIARCHIVE" query --dest "$DEST" --format yaml
check_exit 2 "a directory with no archive is a configuration error" -- \
	"$AIARCHIVE" query --dest "file://$TEST_TMP" --format jsonl

# A tagged run: its members carry the tag.
late_dir="$src/appinsights-export/$(ls "$src/appinsights-export" | head -1)/Requests/$(date -u +%Y-%m-%d)/$(date -u +%H)"
mkdir -p "$late_dir"
cp "$(find "$src/appinsights-export" -name '*.blob' -size +1k | head -1)" \
	"$late_dir/0badc0de-0000-4000-8000-000000000002_$(date -u +%Y%m%d_%H%M%S).blob"
check_exit 0 "a tagged run archives a late delivery" -- "$AIARCHIVE" run \
	--source "file://$src/appinsights-export" --dest "$DEST" --key "$key" --tag INC-7
check "query --tag INC-7 lists exactly that run's member" -- bash -c '
	"$1" query --dest "$2" --tag INC-7 --format jsonl |
		jq -se "length == 1 and .[0].tags == [\"INC-7\"] and .[0].segment == 1"' _ "$AIARCHIVE" "$DEST"

# Corruption: one flipped byte inside a member's range fails that member
# with exit 4 and prints nothing of it.
m=$("$AIARCHIVE" query --dest "$DEST" --format jsonl --type Messages | head -1)
pack=$(jq -r .pack <<<"$m") off=$(jq -r .offset <<<"$m") len=$(jq -r .length <<<"$m")
blob=$(jq -r .blob <<<"$m")
pos=$((off + len / 2))
byte=$(od -An -tu1 -j "$pos" -N1 "$dst/$pack" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 0x55)))" |
	dd of="$dst/$pack" bs=1 seek="$pos" count=1 conv=notrunc status=none
check_exit 4 "cat of a corrupted member exits 4" -- "$AIARCHIVE" cat --dest "$DEST" --type Messages
check "the report names the member" -- grep -qF "member '$blob'" <<<"$LAST_OUTPUT"
check "the other Messages members are still printed, the bad one not at all" -- bash -c '
	want=$(jq -c "select(.message)" "$1" | wc -l)
	got=$("$2" cat --dest "$3" --type Messages 2>/dev/null | wc -l)
	[ "$got" -gt 0 ] && [ "$got" -lt "$want" ]' _ "$TEST_TMP/rows" "$AIARCHIVE" "$DEST"
check_exit 0 "members of other types are unaffected" -- \
	"$AIARCHIVE" cat --dest "$DEST" --type Requests

# A record whose digest is not the data's: valid gzip, wrong bytes.
m=$("$AIARCHIVE" query --dest "$DEST" --format jsonl --type Exceptions | head -1)
sha=$(jq -r .sha256 <<<"$m") blob=$(jq -r .blob <<<"$m")
bad=$(printf '%s' "$sha" | cut -c1-62)00
[ "$bad" != "$sha" ] || bad=$(printf '%s' "$sha" | cut -c1-62)11
perl -0777 -e '
	my ($f, $old, $new) = @ARGV;
	open(my $h, "+<:raw", $f) or die; local $/; my $d = <$h>;
	my $at = index($d, pack("H*", $old)); die "digest not found" if $at < 0;
	seek($h, $at, 0); print $h pack("H*", $new); close($h) or die' \
	"$dst/manifest/segments/000000000000.seg" "$sha" "$bad"
check_exit 4 "an edited segment is refused: its signature no longer verifies" -- \
	"$AIARCHIVE" cat --dest "$DEST" --type Exceptions
check "the report names the segment" -- \
	grep -qF "segment 'manifest/segments/000000000000.seg': signature does not verify" <<<"$LAST_OUTPUT"
# Signed again by the archive's own key (with stock minisign), the record
# is trusted, and cat's own check of the member against it must catch it.
seg0="$dst/manifest/segments/000000000000.seg"
if command -v minisign >/dev/null; then
	rm -f "$seg0.minisig"
	check "minisign signs the edited segment" -- minisign -S -s "$key" -m "$seg0" -x "$seg0.minisig" \
		-t "aiarchive segment manifest/segments/000000000000.seg sha256=$(sha256sum <"$seg0" | cut -c1-64) time=2026-11-20T00:00:00Z"
	check_exit 4 "cat of a member whose record has another digest exits 4" -- \
		"$AIARCHIVE" cat --dest "$DEST" --type Exceptions
	check "the report names the member and both digests" -- \
		grep -qF "member '$blob' (segment 0, pack" <<<"$LAST_OUTPUT"
	check "... as a sha256 mismatch" -- \
		grep -qF "sha256 mismatch: the data has $sha, the record says $bad" <<<"$LAST_OUTPUT"
else
	diag "minisign not installed: the member digest check is not tested"
fi

# Azure: the same through Azurite, with Range reads and the segment cache.
if [ -x "$AZURITE_BIN" ] && command -v node >/dev/null 2>&1; then
	azurite_start AZ || bail_out "azurite did not start"
	export AIARCHIVE_DEST_KEY="$AZURITE_KEY"
	AZDEST="$AZ_URL/archive"
	cache="$TEST_TMP/cache"
	all_rows >"$TEST_TMP/rows" # now with the tagged run's blob
	check "init makes the archive in Azurite" -- ai_init "$AZDEST" "$key"
	check_exit 0 "run into Azurite" -- "$AIARCHIVE" run \
		--source "file://$src/appinsights-export" --dest "$AZDEST" --key "$key"
	from=${windows[0]% *} to=${windows[0]#* }
	check "Azure: cat --from --to matches jq over the source" -- \
		diff <("$AIARCHIVE" cat --dest "$AZDEST" --cache-dir "$cache" --from "$from" --to "$to" | sort) \
		<(src_window "$from" "$to")
	# A second segment, so the cache is checked both against the state
	# (the newest segment) and against a signature (the older one).
	cp "$(find "$src/appinsights-export" -name '*.blob' -size +1k | tail -1)" \
		"$late_dir/0badc0de-0000-4000-8000-000000000003_$(date -u +%Y%m%d_%H%M%S).blob"
	check_exit 0 "a second run into Azurite" -- "$AIARCHIVE" run \
		--source "file://$src/appinsights-export" --dest "$AZDEST" --key "$key"
	all_rows >"$TEST_TMP/rows"
	check "Azure: query fills the cache" -- \
		"$AIARCHIVE" query --dest "$AZDEST" --cache-dir "$cache" --format jsonl
	check "Azure: the segments went into the cache" -- \
		bash -c 'ls "$1"/*/segments/000000000000.seg' _ "$cache"
	check "Azure: a second query reads the segments from the cache" -- bash -c '
		"$1" -v query --dest "$2" --cache-dir "$3" --format jsonl 2>&1 >/dev/null |
			grep -q "(2 from the cache,"' _ "$AIARCHIVE" "$AZDEST" "$cache"
	printf 'garbage' >"$(ls "$cache"/*/segments/000000000000.seg)"
	check "Azure: a damaged cache entry is noticed and replaced" -- bash -c '
		"$1" -v query --dest "$2" --cache-dir "$3" --format jsonl 2>&1 >/dev/null |
			grep -q "(1 from the cache," &&
		"$1" -v query --dest "$2" --cache-dir "$3" --format jsonl 2>&1 >/dev/null |
			grep -q "(2 from the cache,"' _ "$AIARCHIVE" "$AZDEST" "$cache"
	seg0=$(ls "$cache"/*/segments/000000000000.seg)
	rm "$seg0" && mkfifo "$seg0"
	check "Azure: a FIFO planted in the cache is skipped with a warning, not waited on" -- bash -c '
		out=$(timeout 20 "$1" -v query --dest "$2" --cache-dir "$3" --format jsonl 2>&1 >/dev/null) &&
		grep -q "cache .*000000000000.seg.: not a regular file but a FIFO; skipped" <<<"$out" &&
		grep -q "(1 from the cache," <<<"$out" && test -f "$4" && ! test -p "$4"' \
		_ "$AIARCHIVE" "$AZDEST" "$cache" "$seg0"
	check "Azure: the XDG cache directory is the default" -- bash -c '
		"$1" query --dest "$2" --format jsonl >/dev/null && ls "$XDG_CACHE_HOME"/aiarchive/*/segments/*.seg' \
		_ "$AIARCHIVE" "$AZDEST"
	check "Azure: --no-cache gives the same members as the cache" -- \
		diff <("$AIARCHIVE" query --dest "$AZDEST" --format jsonl --no-cache) \
		<("$AIARCHIVE" query --dest "$AZDEST" --format jsonl --cache-dir "$cache")
	op=${ops[1]}
	check "Azure: cat --operation-id matches jq over the source" -- \
		diff <("$AIARCHIVE" cat --dest "$AZDEST" --operation-id "$op" | jq -c . | sort) \
		<(jq -c --arg op "$op" 'select(.context.operation.id == $op)' "$TEST_TMP/rows" | sort)
	check "Azure: cat --operation-id with the cache puts segment indexes in it" -- bash -c '
		"$1" cat --dest "$2" --cache-dir "$3" --operation-id "$4" >/dev/null &&
		ls "$3"/*/segments/000000000000.idx' _ "$AIARCHIVE" "$AZDEST" "$cache" "$op"
	printf 'garbage' >"$(ls "$cache"/*/segments/000000000000.idx)"
	check "Azure: a damaged cached index is replaced, the rows are the same" -- \
		diff <("$AIARCHIVE" cat --dest "$AZDEST" --cache-dir "$cache" --operation-id "$op" |
			jq -c . | sort) \
		<(jq -c --arg op "$op" 'select(.context.operation.id == $op)' "$TEST_TMP/rows" | sort)
	check "  and the entry in the cache is the archive's again" -- \
		cmp "$(ls "$cache"/*/segments/000000000000.idx)" \
		<(blobtool_at AZ get archive manifest/index/000000000000.idx)
	check "Azure: cat of everything matches the source" -- \
		diff <("$AIARCHIVE" cat --dest "$AZDEST" --jobs 4 | sort) <(sort "$TEST_TMP/rows")
	AIARCHIVE_DEST_KEY="$(head -c 64 /dev/zero | base64 -w0)" \
		check_exit 3 "Azure: a wrong account key exits 3" -- \
		"$AIARCHIVE" query --dest "$AZDEST" --no-cache --format jsonl
	azurite_stop AZ
else
	diag "azurite not installed: Azure part skipped"
fi
tap_done
