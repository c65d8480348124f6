#!/usr/bin/env bash
# poison.sh: source names that cannot be archived safely (control
# characters, '.' and '..' segments, an empty or '..' app name) are
# quarantined: reported once per run with their characters escaped, shown
# by status and Prometheus, listed by verify --source, and they hold back
# neither the watermark nor any other blob. Over 30 simulated days of
# hourly runs the listing requests of a run stay constant and no object
# appears outside data/, manifest/, keys/ and locks/: on file:// and, with a
# SAS destination, on Azurite.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"

IKEY=0123456789abcdef0123456789abcdef
START=$(date -u -d 2026-11-01T00:30:00Z +%s)
key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
ctl_re=$'[\x01-\x08\x0b-\x1f\x7f]'

at() { date -u -d "@$((START + $1 * 3600))" +%Y-%m-%dT%H:%M:%SZ; }
# hour_dir N: the continuous-export hour folder of START + N hours
hour_dir() { date -u -d "@$((START + $1 * 3600))" +%Y-%m-%d/%H; }

# hourly RUNS OUT ARGS...: runs `aiarchive --json run ARGS` once an hour for
# RUNS simulated hours from START; the summaries go to OUT, stderr to OUT.err.
hourly() {
	local runs=$1 out=$2 k a prev= dest= cred=()
	shift 2
	for a in "$@"; do
		[ "$prev" != --dest ] || dest=$a
		[ "$prev" != --dest-sas-file ] || cred=(--dest-sas-file "$a")
		prev=$a
	done
	[ -z "$dest" ] || "$AIARCHIVE" -q init --dest "$dest" --key "$key" "${cred[@]}" \
		>/dev/null 2>&1 || true
	: >"$out"
	: >"$out.err"
	for ((k = 0; k < runs; k++)); do
		AIARCHIVE_NOW=$(at "$k") "$AIARCHIVE" --json run --key "$key" "$@" \
			>>"$out" 2>>"$out.err" || echo "run $k failed" >>"$out.err"
	done
}

# outside_layout LISTING: names that are not below data/, manifest/, keys/ or locks/
outside_layout() { grep -Ev '^(data|manifest|keys|locks)/' "$1"; }

# ---- file:// ---------------------------------------------------------------
src="$TEST_TMP/src" dst="$TEST_TMP/dst"
good() { mkdir -p "$src/$(dirname "$1")" && printf '%s\n' '{"a":1}' >"$src/$1"; }
for h in 0 1 2; do good "shop_$IKEY/Requests/$(hour_dir $h)/good-$h.blob"; done
good "shop_$IKEY/Requests/$(hour_dir 0)/bad"$'\n'"name.blob"
good "shop_$IKEY/Requests/$(hour_dir 1)/esc"$'\x1b'"[2J.blob"
good "shop_$IKEY/Requests/$(hour_dir 1)/not-utf8-"$'\xff'".blob"
good "we"$'\x1b'"b_$IKEY/Requests/$(hour_dir 0)/x.blob"
good "shop_$IKEY/Req"$'\x01'"uests/$(hour_dir 0)/x.blob"
good "shop_$IKEY/Requests./$(hour_dir 0)/x.blob"
good "_$IKEY/Requests/$(hour_dir 0)/x.blob"
good "web_$IKEY/Event/$(hour_dir 26)/late.blob" # a day later

hourly 720 "$TEST_TMP/local.jsonl" --source "file://$src" --dest "file://$dst"
check_eq "720 hourly runs, none failed" "" "$(grep 'failed' "$TEST_TMP/local.jsonl.err")"
# The first run lists the history before its hour (5 names), the next two
# also hour 1 (all 7); then the blobs' hours leave the window.
check_eq "runs quarantine what they list" "5 7 7 6 4" \
	"$(jq -s -r '.[0:5] | map(.quarantined) | join(" ")' "$TEST_TMP/local.jsonl")"
check_eq "from then on the 4 folders, every run" "[4]" \
	"$(jq -s -c '.[4:] | map(.quarantined) | unique' "$TEST_TMP/local.jsonl")"
check_eq "every run archives without a failure" "0" \
	"$(jq -s 'map(.failed) | add' "$TEST_TMP/local.jsonl")"
lists=$(jq -s '.[1:] | map(.requests.source.list) | unique | map(tostring) | join(",")' \
	-r "$TEST_TMP/local.jsonl")
first_last=$(jq -s -r '"\(.[1].requests.source.list) \(.[-1].requests.source.list)"' \
	"$TEST_TMP/local.jsonl")
diag "source listing requests per run after the first: $lists (day 1 and day 30: $first_last)"
check_eq "the listing requests of an hourly run stay constant over 30 days" 1 \
	"$(tr ',' '\n' <<<"$lists" | wc -l)"
check_eq "the watermark follows the clock" "$(date -u -d "@$((START + 719 * 3600))" +%Y-%m-%dT%H:00:00Z)" \
	"$(jq -s -r '.[-1].watermark' "$TEST_TMP/local.jsonl")"
check_eq "the good blobs and the late one are archived" 4 \
	"$(jq -s 'map(.blobs) | add' "$TEST_TMP/local.jsonl")"
check_eq "packs are written only by the runs that archive" 4 \
	"$(jq -s 'map(.packs) | add' "$TEST_TMP/local.jsonl")"
(cd "$dst" && find . -path ./.aiarchive-store -prune -o -type f -print | sed 's|^\./||') \
	>"$TEST_TMP/local.names"
check_eq "nothing outside data/, manifest/, keys/, locks/" "" "$(outside_layout "$TEST_TMP/local.names")"
packs_on_disk=$(grep -c '\.jsonl\.gz$' "$TEST_TMP/local.names")
check_eq "no orphan pack is left behind" 4 "$packs_on_disk"
check "no raw control character reached stderr" -- \
	bash -c "! LC_ALL=C grep -q '$ctl_re' '$TEST_TMP/local.jsonl.err'"
check "every stderr line is one whole message" -- \
	bash -c "! grep -v '^aiarchive: ' '$TEST_TMP/local.jsonl.err'"
check "a poison name is shown escaped" -- \
	grep -qF "blob 'shop_$IKEY/Requests/$(hour_dir 0)/bad\\nname.blob': quarantined (control characters in the name); it is not archived" \
	"$TEST_TMP/local.jsonl.err"
check "a poison folder is shown escaped" -- \
	grep -qF "folder 'we\\x1bb_$IKEY/': quarantined (control characters in the name); nothing below it is archived" \
	"$TEST_TMP/local.jsonl.err"
check "bytes that are not UTF-8 are shown as \\xHH" -- \
	grep -qF "not-utf8-\\xff.blob': quarantined (name is not valid UTF-8)" "$TEST_TMP/local.jsonl.err"
check_eq "a folder is reported once per run" 720 \
	"$(grep -cF "folder '_$IKEY/': quarantined (empty app name)" "$TEST_TMP/local.jsonl.err")"

status_now=$(at 720)
check_exit 0 "status" -- env AIARCHIVE_NOW="$status_now" "$AIARCHIVE" status --dest "file://$dst" --wide
st_text=$LAST_OUTPUT
check "status says how many names are quarantined" -- \
	grep -q '^quarantine: 7 source names not archived' <<<"$st_text"
check "status lists them escaped with their reason" -- \
	grep -qE "type name ends with '\.' +shop_$IKEY/Requests\./\$" <<<"$st_text"
check "status output holds no raw control character" -- \
	bash -c "! LC_ALL=C grep -q '$ctl_re' <<<\"\$0\"" "$st_text"
check_exit 0 "status --json" -- "$AIARCHIVE" --json status --dest "file://$dst"
check "status --json lists the names exactly, with reason and first sighting" -- \
	jq -e --arg n "we"$'\x1b'"b_$IKEY/" --arg t "$(at 0)" \
	'.quarantined | map(select(.name == $n))[0] | .reason == "control characters in the name"
	 and .first_seen == $t and .delivery_hour == null' <<<"$LAST_OUTPUT"
check_exit 0 "status --prom" -- "$AIARCHIVE" status --dest "file://$dst" --prom "$TEST_TMP/a.prom"
check "Prometheus gets the number of quarantined names" -- \
	grep -qx 'aiarchive_quarantined_names 7' "$TEST_TMP/a.prom"

check_exit 0 "verify --source passes: quarantined names are warnings" -- \
	"$AIARCHIVE" verify --dest "file://$dst" --source "file://$src" \
	--from "$(at 0)" --to "$(at 48)"
check "verify --source lists each with its reason" -- \
	grep -qF "warning: source folder shop_$IKEY/Req\\x01uests/: quarantined (control characters in the name); not archived" <<<"$LAST_OUTPUT"
check "verify's summary counts them" -- grep -q '7 quarantined; ok' <<<"$LAST_OUTPUT"
check_exit 0 "verify --source --json" -- "$AIARCHIVE" --json verify --dest "file://$dst" \
	--source "file://$src" --from "$(at 0)" --to "$(at 48)"
check "the JSON report counts the quarantined names" -- \
	jq -e '.source.quarantined == 7 and .source.missing == 0' <<<"$LAST_OUTPUT"

# query's table escapes what the archive holds (here a tag)
tagged="$TEST_TMP/tagged"
good "web_$IKEY/Event/$(hour_dir 800)/t.blob"
ai_init_once "file://$tagged" "$key"
check_exit 0 "a run with a tag holding an escape sequence" -- env AIARCHIVE_NOW="$(at 801)" \
	"$AIARCHIVE" run --source "file://$src" --dest "file://$tagged" --key "$key" \
	--from "$(at 800)" --to "$(at 801)" --tag $'INC\x1b[31m-1'
check_exit 0 "query as a table (with its tags column)" -- "$AIARCHIVE" query --dest "file://$tagged" --format table --columns app,tags,blob
check "the table shows the tag escaped" -- grep -qF 'INC\x1b[31m-1' <<<"$LAST_OUTPUT"
check "the table holds no raw control character" -- \
	bash -c "! LC_ALL=C grep -q '$ctl_re' <<<\"\$0\"" "$LAST_OUTPUT"
check_exit 0 "query as JSON Lines" -- "$AIARCHIVE" query --dest "file://$tagged" --format jsonl
check "JSON keeps the tag exactly" -- jq -e '.tags == ["INC\u001b[31m-1"]' <<<"$LAST_OUTPUT"

# ---- Azurite, SAS destination ---------------------------------------------
if ! command -v node >/dev/null 2>&1; then
	diag "node not installed: Azurite part skipped"
	tap_done
	exit
fi
azurite_start SRC DST || bail_out "azurite did not start"
export AIARCHIVE_SOURCE_KEY="$AZURITE_KEY"
blobtool_at SRC mkcontainer export >/dev/null || bail_out "mkcontainer failed"
blobtool_at DST mkcontainer archive >/dev/null || bail_out "mkcontainer failed"
one="$TEST_TMP/one.json"
printf '%s\n' '{"a":1}' >"$one"
put_src() { blobtool_at SRC put export "$1" "$one" >/dev/null || echo "put failed: $1"; }
put_src "shop_$IKEY/Requests/$(hour_dir 0)/good.blob"
put_src "shop_$IKEY/Requests/$(hour_dir 1)/good.blob"
put_src ".._$IKEY/Requests/$(hour_dir 0)/a.blob"
put_src "._$IKEY/Requests/$(hour_dir 0)/a.blob"
put_src "shop_$IKEY/Requests/$(hour_dir 0)/b"$'\n\t'"c.blob"
# Azure and Azurite read a backslash as '/', which gives a blob a '..' segment
put_src "shop_$IKEY/Requests/$(hour_dir 0)/a\\..\\..\\..\\up.blob"
blobtool_at SRC list export --json >"$TEST_TMP/az.src"
check "Azurite holds a name with '..' segments" -- \
	jq -e -s 'map(.name) | any(test("/\\.\\./"))' "$TEST_TMP/az.src"

sas=$(sas_for DST archive racwdl +12h)
printf '%s\n' "$sas" >"$TEST_TMP/dst.sas"
chmod 600 "$TEST_TMP/dst.sas"
hourly 48 "$TEST_TMP/az.jsonl" --source "$SRC_URL/export" --dest "$DST_URL/archive" \
	--dest-sas-file "$TEST_TMP/dst.sas"
check_eq "48 hourly runs against Azurite, none failed" "" \
	"$(grep failed "$TEST_TMP/az.jsonl.err")"
check_eq "the first run quarantines the 4 poison names" 4 \
	"$(jq -s '.[0].quarantined' "$TEST_TMP/az.jsonl")"
check_eq "later runs the 2 app folders" "[2]" \
	"$(jq -s -c '.[3:] | map(.quarantined) | unique' "$TEST_TMP/az.jsonl")"
check_eq "the listing requests stay constant" 1 \
	"$(jq -s '.[1:] | map(.requests.source.list) | unique | length' "$TEST_TMP/az.jsonl")"
check_eq "the good blobs are archived" 2 "$(jq -s 'map(.blobs) | add' "$TEST_TMP/az.jsonl")"
check_eq "the watermark follows the clock" "$(date -u -d "@$((START + 47 * 3600))" +%Y-%m-%dT%H:00:00Z)" \
	"$(jq -s -r '.[-1].watermark' "$TEST_TMP/az.jsonl")"
blobtool_at DST list archive | cut -f1 >"$TEST_TMP/az.names"
check_eq "nothing outside data/, manifest/, keys/, locks/ in the SAS destination" "" \
	"$(outside_layout "$TEST_TMP/az.names")"
check_eq "no object of the destination has a '.' or '..' segment" "" \
	"$(grep -E '(^|/)\.\.?(/|$)' "$TEST_TMP/az.names")"
check "the '..' app name is reported escaped-safe and quarantined" -- \
	grep -qF "folder '.._$IKEY/': quarantined (app name is '.' or '..')" "$TEST_TMP/az.jsonl.err"
check "the '..' segment is quarantined" -- \
	grep -qF "/a/../../../up.blob': quarantined (a '.' or '..' path segment)" "$TEST_TMP/az.jsonl.err"
check "the newline and tab are escaped" -- grep -qF "/b\\n\\tc.blob': quarantined" "$TEST_TMP/az.jsonl.err"
check_exit 0 "status of the Azurite archive" -- \
	"$AIARCHIVE" --json status --dest "$DST_URL/archive" --dest-sas-file "$TEST_TMP/dst.sas"
check "it lists the 4 quarantined names" -- jq -e '.quarantined | length == 4' <<<"$LAST_OUTPUT"
tap_done
