#!/usr/bin/env bash
# credentials.sh: which credential each side uses (the command line over
# the environment over the config file, whatever their kinds), SAS tokens
# refused before any request when they cannot work (expired, not yet
# valid, lacking a permission), 401/403 answers that name the credential,
# and the dry runs' preflight, against two real Azurite instances with SAS
# tokens made by @azure/storage-blob.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"
require_azurite
azurite_start SRC DST || bail_out "azurite did not start"
unset AIARCHIVE_SOURCE_SAS AIARCHIVE_SOURCE_KEY AIARCHIVE_SOURCE_CONNECTION_STRING
unset AIARCHIVE_DEST_SAS AIARCHIVE_DEST_KEY AIARCHIVE_DEST_CONNECTION_STRING AIARCHIVE_CONFIG

key="$TEST_TMP/key" other="$TEST_TMP/other.key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
"$AIARCHIVE" keygen -o "$other" >/dev/null || bail_out "keygen failed"
# secret FILE TEXT: a secret file, the owner's alone.
secret() {
	printf '%s\n' "$2" >"$1"
	chmod 600 "$1"
}
secret "$TEST_TMP/account.key" "$AZURITE_KEY"
secret "$TEST_TMP/wrong.key" "${AZURITE_KEY/E/F}"

ce="$TEST_TMP/ce"
"$AIGEN" --out "$ce" --layout continuous --apps 1 --hours 2 --seed 3 >/dev/null ||
	bail_out "aigen failed"
check "upload the export" -- blobtool_at SRC upload-tree "$ce"
check "make the archive container" -- blobtool_at DST mkcontainer archive
S="$SRC_URL/appinsights-export" D="$DST_URL/archive"
check "init the archive with a key file" -- ai_init "$D" "$key" --dest-key-file "$TEST_TMP/account.key"

secret "$TEST_TMP/expired.sas" "$(sas_for SRC appinsights-export rl -1h)"
secret "$TEST_TMP/later.sas" "$(sas_for SRC appinsights-export rl +2h --start +1h)"
secret "$TEST_TMP/src.sas" "$(sas_for SRC appinsights-export rl +2h)"
secret "$TEST_TMP/dest-ro.sas" "$(sas_for DST archive rl +2h)"
secret "$TEST_TMP/dest-nodelete.sas" "$(sas_for DST archive racwl +2h)"
secret "$TEST_TMP/dest-other.sas" "$(sas_for DST elsewhere racwdl +2h)"
expired=$(cat "$TEST_TMP/expired.sas")
one_line() { [ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ]; }

# ---- precedence: the command line beats the environment, whatever the kinds
check_exit 0 "an expired SAS in the environment loses to --source-key-file" -- \
	env AIARCHIVE_SOURCE_SAS="$expired" "$AIARCHIVE" --json run --source "$S" --dest "$D" \
	--key "$key" --dest-key-file "$TEST_TMP/account.key" --source-key-file "$TEST_TMP/account.key"
check "and the run archived the export with the key file" -- \
	jq -e '.blobs > 0 and .failed == 0' <<<"$(tail -1 <<<"$LAST_OUTPUT")"

# ---- a SAS that cannot work is refused before any request, naming where it came from
check_exit 3 "an expired SAS alone exits 3" -- \
	env AIARCHIVE_SOURCE_SAS="$expired" "$AIARCHIVE" run --source "$S" --dest "$D" --key "$key" \
	--dest-key-file "$TEST_TMP/account.key"
check "it names the expiry and the variable, in one line" -- bash -c \
	'grep -q "source: SAS from AIARCHIVE_SOURCE_SAS expired at se=20[0-9-]*T[0-9:]*Z" <<<"$0" &&
	 [ "$(wc -l <<<"$0")" -eq 1 ]' "$LAST_OUTPUT"
check "no sig= in the message" -- bash -c "! grep -q 'sig=[A-Za-z0-9%]' <<<\"\$0\"" "$LAST_OUTPUT"
check_exit 3 "an expired SAS file exits 3" -- "$AIARCHIVE" run --source "$S" --dest "$D" \
	--key "$key" --dest-key-file "$TEST_TMP/account.key" --source-sas-file "$TEST_TMP/expired.sas"
check "it names the option and the file" -- grep -qF \
	"source: SAS from --source-sas-file '$TEST_TMP/expired.sas' expired at se=" <<<"$LAST_OUTPUT"
conf="$TEST_TMP/aiarchive.conf"
printf '# credentials\ndest-key-file = %s\n\nsource-sas-file = %s\n' \
	"$TEST_TMP/account.key" "$TEST_TMP/expired.sas" >"$conf"
check_exit 3 "an expired SAS file named by the config file exits 3" -- \
	"$AIARCHIVE" -c "$conf" run --source "$S" --dest "$D" --key "$key"
check "it names the config file and its line" -- grep -qF \
	"source: SAS from config file '$conf' line 4 (source-sas-file '$TEST_TMP/expired.sas') expired at se=" \
	<<<"$LAST_OUTPUT"
check_exit 0 "the environment beats that config file" -- env AIARCHIVE_SOURCE_SAS="$(cat "$TEST_TMP/src.sas")" \
	"$AIARCHIVE" -c "$conf" run --source "$S" --dest "$D" --key "$key"
check_exit 3 "a SAS not valid yet exits 3" -- "$AIARCHIVE" run --source "$S" --dest "$D" \
	--key "$key" --dest-key-file "$TEST_TMP/account.key" --source-sas-file "$TEST_TMP/later.sas"
check "it names st=" -- grep -q "source: SAS from --source-sas-file '.*' not valid before st=" \
	<<<"$LAST_OUTPUT"
check_exit 3 "a read-only archive SAS: run exits 3 before writing" -- "$AIARCHIVE" run \
	--source "$S" --source-sas-file "$TEST_TMP/src.sas" --dest "$D" --key "$key" \
	--dest-sas-file "$TEST_TMP/dest-ro.sas"
check "it names the missing letter" -- grep -q \
	"dest: SAS from --dest-sas-file '.*' lacks permission w (sp=rl; needs rwl)" <<<"$LAST_OUTPUT"
check_exit 0 "a read-only archive SAS is enough for status" -- "$AIARCHIVE" status --dest "$D" \
	--dest-sas-file "$TEST_TMP/dest-ro.sas"

# ---- 401/403 from the service name the credential
check_exit 3 "a wrong account key exits 3" -- "$AIARCHIVE" run --source "$S" \
	--source-sas-file "$TEST_TMP/src.sas" --dest "$D" --key "$key" \
	--dest-key-file "$TEST_TMP/wrong.key"
check "the 403 names the account key and --dest-key-file, in one line" -- bash -c \
	'grep -q "403 AuthorizationFailure.*\[with account key from --dest-key-file .*wrong.key.\]" <<<"$0" &&
	 [ "$(wc -l <<<"$0")" -eq 1 ]' "$LAST_OUTPUT"
check "the key is not printed" -- bash -c "! grep -qF '${AZURITE_KEY:0:20}' <<<\"\$0\"" "$LAST_OUTPUT"
check_exit 3 "a SAS for another container exits 3" -- "$AIARCHIVE" status --dest "$D" \
	--dest-sas-file "$TEST_TMP/dest-other.sas"
check "the 403 names the SAS, its file and its claims" -- grep -q \
	"403 .*\[with SAS from --dest-sas-file '.*dest-other.sas' (sp=racwdl, se=" <<<"$LAST_OUTPUT"
# ---- the Azure CLI's variables, for a side given nothing more specific
azcli() { env AZURE_STORAGE_ACCOUNT=devstoreaccount1 "$@"; }
check_exit 0 "AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY serve a side given no credential" -- \
	azcli AZURE_STORAGE_KEY="$AZURITE_KEY" "$AIARCHIVE" -vv status --dest "$D"
check "-vv names them" -- grep -q \
	"account key from AZURE_STORAGE_KEY (AZURE_STORAGE_ACCOUNT=devstoreaccount1)" <<<"$LAST_OUTPUT"
check "the key is not printed" -- bash -c "! grep -qF '${AZURITE_KEY:0:20}' <<<\"\$0\"" "$LAST_OUTPUT"
check_exit 0 "... and so does AZURE_STORAGE_SAS_TOKEN" -- \
	azcli AZURE_STORAGE_SAS_TOKEN="$(cat "$TEST_TMP/dest-ro.sas")" "$AIARCHIVE" status --dest "$D"
check_exit 0 "... and AZURE_STORAGE_CONNECTION_STRING naming the side's account" -- \
	env AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=$DST_URL" \
	"$AIARCHIVE" status --dest "$D"
check_exit 3 "a more specific credential wins over them (AIARCHIVE_DEST_KEY, wrong)" -- \
	azcli AZURE_STORAGE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="${AZURITE_KEY/E/F}" \
	"$AIARCHIVE" status --dest "$D"
check "the 403 names AIARCHIVE_DEST_KEY" -- grep -q "with account key from AIARCHIVE_DEST_KEY" \
	<<<"$LAST_OUTPUT"
check_exit 3 "a key for another account is not sent" -- env AZURE_STORAGE_ACCOUNT=someother \
	AZURE_STORAGE_KEY="$AZURITE_KEY" "$AIARCHIVE" status --dest "$D" --dest-auth anonymous
check "nothing names AZURE_STORAGE_KEY" -- bash -c '! grep -q AZURE_STORAGE_KEY <<<"$0"' "$LAST_OUTPUT"

check_exit 3 "a wrong key in the environment" -- env AIARCHIVE_DEST_KEY="${AZURITE_KEY/E/F}" \
	"$AIARCHIVE" status --dest "$D"
check "names the variable" -- grep -q "403 .*\[with account key from AIARCHIVE_DEST_KEY\]" \
	<<<"$LAST_OUTPUT"

# ---- run --dry-run: a full preflight, on an archive that has archived nothing yet
F="$DST_URL/fresh"
check "make a second archive" -- blobtool_at DST mkcontainer fresh
check "init it" -- ai_init "$F" "$key" --dest-key-file "$TEST_TMP/account.key"
secret "$TEST_TMP/fresh-ro.sas" "$(sas_for DST fresh rl +2h)"
secret "$TEST_TMP/fresh-nodelete.sas" "$(sas_for DST fresh racwl +2h)"
dry() { "$AIARCHIVE" run --dry-run --source "$S" --source-sas-file "$TEST_TMP/src.sas" \
	--dest "$F" "$@"; }
check_exit 2 "a dry run needs --key" -- dry --dest-key-file "$TEST_TMP/account.key"
check_exit 3 "a dry run with a read-only archive SAS exits 3" -- \
	dry --key "$key" --dest-sas-file "$TEST_TMP/fresh-ro.sas"
check "naming the missing permission letters" -- grep -q "lacks permission w (sp=rl; needs rwl)" \
	<<<"$LAST_OUTPUT"
check_exit 4 "a dry run with a foreign signing key exits 4, as a real run" -- \
	dry --key "$other" --dest-key-file "$TEST_TMP/account.key"
check "it says the key is not the archive's" -- grep -q "is not this archive's current key" \
	<<<"$LAST_OUTPUT"
check_exit 3 "a dry run with a wrong account key exits 3" -- \
	dry --key "$key" --dest-key-file "$TEST_TMP/wrong.key"
check "naming it" -- grep -q "\[with account key from --dest-key-file" <<<"$LAST_OUTPUT"
before=$(blobtool_at DST list fresh | cut -f1,3 | sort)
check_exit 0 "a dry run with good credentials" -- dry --key "$key" \
	--dest-sas-file "$TEST_TMP/fresh-nodelete.sas"
dry_said=$LAST_OUTPUT
said() { grep -q "$1" <<<"$dry_said" || { printf "%s\n" "$dry_said"; return 1; }; }
check "it says it checked the signing key" -- \
	said "^preflight: signing key [0-9A-F]\{16\}: the archive's current key (archive [0-9a-f]\{32\})$"
check "  reading the archive, naming the credential" -- \
	said "^preflight: dest: read and list ok (the key chain), SAS from --dest-sas-file '.*' (sp=racwl, se="
check "  listing the source" -- \
	said "^preflight: source: list ok, SAS from --source-sas-file '.*' (sp=rl, se="
check "  the write and the lease, with the lock" -- \
	said "^preflight: dest: write and lease ok (took and released the run lock 'locks/run'), SAS from"
check "  and a read of the source" -- said "^preflight: source: read ok (the first byte of '.*')$"
lock_free() { blobtool_at DST props fresh locks/run | jq -e '.leaseState != "leased"'; }
check "the lock is free again" -- lock_free
check "nothing was archived" -- \
	diff <(echo "$before" | cut -f1 | grep -v '^locks/') <(blobtool_at DST list fresh | cut -f1 | grep -v '^locks/' | sort)
check_exit 0 "a real run with the same credentials works" -- "$AIARCHIVE" run --source "$S" \
	--source-sas-file "$TEST_TMP/src.sas" --dest "$F" --key "$key" \
	--dest-sas-file "$TEST_TMP/fresh-nodelete.sas"

# ---- gc --dry-run checks delete
check_exit 3 "gc --dry-run with a SAS without d exits 3" -- "$AIARCHIVE" gc --dry-run \
	--dest "$D" --dest-sas-file "$TEST_TMP/dest-nodelete.sas"
check "it names the missing d" -- grep -q "lacks permission d (sp=racwl; needs rwld)" \
	<<<"$LAST_OUTPUT"
check_exit 0 "gc --dry-run with the account key" -- "$AIARCHIVE" gc --dry-run --dest "$D" \
	--dest-key-file "$TEST_TMP/account.key"
check "it wrote and deleted its probe" -- grep -q \
	"^preflight: dest: write and delete ok (wrote and deleted 'locks/preflight-gc-.*'), account key from --dest-key-file" \
	<<<"$LAST_OUTPUT"
check "no probe is left" -- bash -c "! blobtool_at DST list archive | grep -q preflight"
check_exit 0 "gc --json --dry-run keeps its JSON on stdout" -- bash -c \
	"'$AIARCHIVE' --json gc --dry-run --dest '$D' --dest-key-file '$TEST_TMP/account.key' 2>/dev/null | jq -e .dry_run"
tap_done
