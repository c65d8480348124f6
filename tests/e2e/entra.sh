#!/usr/bin/env bash
# entra.sh: Microsoft Entra ID tokens end to end. Two Azurite instances take
# bearer tokens (--oauth basic, over HTTPS with a throw-away CA);
# tests/tools/tokenstub.mjs plays IMDS, App Service, the Azure Arc
# challenge and the Entra token endpoint, checks every request's shape
# (headers, api-version, form fields, the certificate assertion's
# signature) and issues the tokens; a stand-in `az` on PATH plays the
# Azure CLI. Each method runs init, run, query, cat, verify, status and gc
# as source and as archive; the archive is checked with zcat against the
# source. Then: auto's choice, a token that expires during a run, the 401
# Bearer challenge, and the failures (wrong audience, unreachable IMDS, a
# missing role, http://) in one line naming the method, exit 3 (2 for
# http://), with no secret in any output, -vv included.
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"
require_azurite
for t in openssl jq curl; do
	command -v "$t" >/dev/null || skip_all "$t not installed"
done
tls_setup || bail_out "no test CA"
AZURITE_OAUTH=1 azurite_start SRC DST || bail_out "azurite did not start"

TENANT=9c1b5c4e-1111-4222-8333-444455556666
CID=3f0e4a7b-aaaa-4bbb-8ccc-ddddeeeeffff
SECRET='s3cr3t~Value.For_Tests-0123456789'
IDHEADER='identity-header-0123456789abcdef'
FED=$TEST_TMP/federated-token
printf '%s\n' 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGk6Ly9BenVyZUFEVG9rZW5FeGNoYW5nZSJ9.ZmVkZXJhdGVk' >"$FED"
SPCERT=$TEST_TMP/sp.pem
cp "$top_srcdir/tests/data/sp_cert.pem" "$SPCERT" && chmod 600 "$SPCERT"
echo 'arc-secret-0123456789' >"$TEST_TMP/arc.key"
tokenstub_start --tenant "$TENANT" --client-id "$CID" --secret "$SECRET" \
	--sp-cert "$top_srcdir/tests/data/sp_cert_only.pem" --fed-token "$FED" \
	--identity-header "$IDHEADER" --arc-file "$TEST_TMP/arc.key" --mi-client-id "$CID" --target "https://127.0.0.1:$DST_PORT" ||
	bail_out "tokenstub did not start"

# A stand-in az: checks its arguments, takes its token from the stub.
mkdir -p "$TEST_TMP/bin"
cat >"$TEST_TMP/bin/az" <<EOF
#!/bin/sh
[ "\$*" = "account get-access-token --output json --scope https://storage.azure.com/.default" ] ||
	{ echo "ERROR: unexpected arguments: \$*" >&2; exit 2; }
[ -z "\${AZ_FAKE_LOGGED_OUT:-}" ] || { echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; }
exec curl -sf http://127.0.0.1:$STUB_HTTP/cli/token
EOF
chmod 755 "$TEST_TMP/bin/az"

key="$TEST_TMP/key"
"$AIARCHIVE" keygen -o "$key" >/dev/null || bail_out "keygen failed"
ce="$TEST_TMP/ce"
"$AIGEN" --out "$ce" --layout continuous --apps 2 --hours 2 --seed 11 >/dev/null || bail_out "aigen failed"
check "upload the export to the source (Shared Key over https)" -- blobtool_at SRC upload-tree "$ce"
source_lines() { find "$ce/appinsights-export" -type f -print0 | sort -z | xargs -0 awk 1 | sort; }

# Every variable any method reads: each test sets only its own.
unset_all() {
	unset AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_CLIENT_SECRET AZURE_CLIENT_CERTIFICATE_PATH \
		AZURE_FEDERATED_TOKEN_FILE AZURE_AUTHORITY_HOST IDENTITY_ENDPOINT IDENTITY_HEADER \
		IMDS_ENDPOINT AZURE_POD_IDENTITY_AUTHORITY_HOST AIARCHIVE_SOURCE_KEY AIARCHIVE_DEST_KEY \
		AZ_FAKE_LOGGED_OUT SSL_CERT_FILE
	PATH=$ORIG_PATH
}
ORIG_PATH=$PATH
# The environment of one method, in the current shell.
method_env() {
	unset_all
	case $1 in
	managed-identity) export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:$STUB_HTTP ;;
	app-service) export IDENTITY_ENDPOINT=http://127.0.0.1:$STUB_HTTP/appservice/token IDENTITY_HEADER=$IDHEADER ;;
	workload-identity)
		export AZURE_AUTHORITY_HOST=$STUB_URL/ AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CID \
			AZURE_FEDERATED_TOKEN_FILE=$FED ;;
	service-principal) export AZURE_AUTHORITY_HOST=$STUB_URL AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CID \
		AZURE_CLIENT_SECRET=$SECRET ;;
	service-principal-cert) export AZURE_AUTHORITY_HOST=$STUB_URL AZURE_TENANT_ID=$TENANT \
		AZURE_CLIENT_ID=$CID AZURE_CLIENT_CERTIFICATE_PATH=$SPCERT ;;
	azure-cli) PATH=$TEST_TMP/bin:$ORIG_PATH ;;
	esac
}
# The auth method of a variant.
method_of() {
	case $1 in
	app-service) echo managed-identity ;;
	service-principal-cert) echo service-principal ;;
	*) echo "$1" ;;
	esac
}
issued() { stub_get /__stats | jq -r --arg k "$1" '.issued[$k] // 0'; }
all_output=$TEST_TMP/all-output
: >"$all_output"
# ai ARGS...: aiarchive with the test CA, its output kept for the secrets check.
ai() {
	local rc=0
	"$AIARCHIVE" "$@" --ca-file "$TLS_CA" >"$TEST_TMP/out" 2>&1 || rc=$?
	cat "$TEST_TMP/out" >>"$all_output"
	cat "$TEST_TMP/out"
	return $rc
}

# --- every method, as source and as archive -----------------------------
for v in managed-identity app-service workload-identity service-principal service-principal-cert azure-cli; do
	m=$(method_of "$v")
	method_env "$v"
	arch="$DST_URL/arch-$v"
	auth=(--dest-auth "$m")
	check "$v: init" -- ai -q init --dest "$arch" --key "$key" "${auth[@]}"
	check_exit 0 "$v: run reads the source and writes the archive with tokens" -- \
		ai --json run --source "$SRC_URL/appinsights-export" --source-auth "$m" --dest "$arch" \
		--key "$key" "${auth[@]}"
	check "$v: run archived every blob" -- jq -e '.blobs > 0 and .failed == 0' <<<"$LAST_OUTPUT"
	check_exit 0 "$v: query" -- ai --json query --dest "$arch" "${auth[@]}" --format jsonl
	check "$v: query lists members" -- test "$(grep -c . <<<"$LAST_OUTPUT")" -gt 0
	check_exit 0 "$v: cat" -- ai -q cat --dest "$arch" "${auth[@]}"
	check "$v: cat gives back every source line (zcat-free: the rows themselves)" -- \
		diff <(source_lines) <(sort <<<"$LAST_OUTPUT")
	check_exit 0 "$v: verify, with the source" -- ai -q verify --dest "$arch" "${auth[@]}" --data \
		--source "$SRC_URL/appinsights-export" --source-auth "$m" --from 2026-11-20T00 --to 2026-11-20T02
	check_exit 0 "$v: status" -- ai --json status --dest "$arch" "${auth[@]}"
	check_exit 0 "$v: gc" -- ai -q gc --dest "$arch" "${auth[@]}"
done
unset_all
check "the archive downloaded with @azure/storage-blob unpacks with zcat to the source" -- \
	env AZ_CONN="$DST_CONN" bash -c 'node "$0" download-tree arch-workload-identity "$1/dl" >/dev/null &&
		diff <(find "$1/ce/appinsights-export" -type f -print0 | sort -z | xargs -0 awk 1 | sort) \
			<(find "$1/dl/data" -name "*.jsonl.gz" -print0 | xargs -0 zcat | sort)' "$BLOBTOOL" "$TEST_TMP"
stats=$(stub_get /__stats)
check_eq "the stub found every request well formed" "[]" "$(jq -c .rejected <<<"$stats")"
for k in imds appservice workload secret certificate cli; do
	check "the stub issued $k tokens" -- test "$(jq -r --arg k "$k" '.issued[$k] // 0' <<<"$stats")" -gt 0
done
check "one token per process: each command asked once per method (imds)" -- \
	test "$(jq -r '.issued.imds' <<<"$stats")" -le 7

# --- auto -----------------------------------------------------------------
method_env service-principal
n=$(issued secret)
check_exit 0 "auto: a service principal in the environment is used" -- \
	ai -q status --dest "$DST_URL/arch-managed-identity"
check "auto: ... it asked the token endpoint with the secret" -- test "$(issued secret)" -gt "$n"
method_env managed-identity
n=$(issued imds)
check_exit 0 "auto: without one, the managed identity that answers" -- \
	ai -q status --dest "$DST_URL/arch-managed-identity"
check "auto: ... it asked IMDS" -- test "$(issued imds)" -gt "$n"
export AIARCHIVE_DEST_KEY=$AZURITE_KEY
n=$(issued imds)
check_exit 0 "auto: an account key given for the side wins" -- ai -q status --dest "$DST_URL/arch-managed-identity"
check "auto: ... no token was asked for" -- test "$(issued imds)" -eq "$n"
unset_all

# --- user-assigned identities ---------------------------------------------
method_env managed-identity
check_exit 0 "a user-assigned identity by client id (client_id=$CID)" -- \
	ai -q status --dest "$DST_URL/arch-managed-identity" --dest-auth managed-identity --dest-client-id "$CID"
check_exit 3 "an identity not assigned to the machine: IMDS's 400, exit 3" -- \
	ai status --dest "$DST_URL/arch-managed-identity" --dest-auth managed-identity --dest-client-id other-id
check "... saying so ('$LAST_OUTPUT')" -- \
	grep -q "managed-identity: IMDS: 400: the identity named by the client id is not assigned to this machine (Identity not found)" <<<"$LAST_OUTPUT"
check_eq "the probes and requests of auto and the identities were well formed" "[]" \
	"$(stub_get /__stats | jq -c .rejected)"

# --- a token that expires during a run ------------------------------------
method_env managed-identity
stub_post /__set '{"lifetime":5,"delayMs":150}'
"$AIGEN" --out "$TEST_TMP/ce2" --layout continuous --apps 1 --hours 3 --seed 12 \
	--from 2026-11-21T00 >/dev/null
check "a second export for the long run" -- blobtool_at SRC upload-tree "$TEST_TMP/ce2"
before=$(stub_get /__stats)
check "init through the stub's proxy" -- ai -q init --dest "$STUB_URL/devstoreaccount1/longrun" --key "$key" \
	--dest-auth managed-identity
start=$SECONDS
check_exit 0 "a run longer than the token's 5 s life succeeds" -- \
	ai --json run --source "$SRC_URL/appinsights-export" --source-auth managed-identity \
	--dest "$STUB_URL/devstoreaccount1/longrun" --dest-auth managed-identity --key "$key" --jobs 2
took=$((SECONDS - start))
check "... with no failed blob" -- jq -e '.failed == 0 and .blobs > 0' <<<"$LAST_OUTPUT"
after=$(stub_get /__stats)
check "... it took longer than a token lives ($took s)" -- test "$took" -gt 5
got=$(( $(jq -r '.issued.imds' <<<"$after") - $(jq -r '.issued.imds' <<<"$before") ))
check "... and refreshed the token ($got IMDS tokens for init and the run)" -- test "$got" -gt 2
check_eq "... without a single 401 or 403" "$(jq -r .authFailures <<<"$before")" "$(jq -r .authFailures <<<"$after")"
stub_post /__set '{"lifetime":3600,"delayMs":0}'

# --- the 401 Bearer challenge ----------------------------------------------
before=$(stub_get /__stats)
stub_post /__set '{"revokeAfter":2}'
check_exit 0 "a 401 with a Bearer challenge: a new token, the request again, success" -- \
	ai -q verify --dest "$STUB_URL/devstoreaccount1/longrun" --dest-auth managed-identity
after=$(stub_get /__stats)
check_eq "... one challenge" "$(( $(jq -r .challenged <<<"$before") + 1 ))" "$(jq -r .challenged <<<"$after")"
check_eq "... two tokens: the revoked one and its successor" \
	"$(( $(jq -r .issued.imds <<<"$before") + 2 ))" "$(jq -r .issued.imds <<<"$after")"

# --- the same challenge from the fault proxy, and one right after ----------
# The proxy speaks TLS on both sides (a bearer token only goes over https).
faultproxy_start FP "$DST_PORT" https || bail_out "faultproxy did not start: $(cat "$TEST_TMP/faultproxy-FP.err")"
fp_stats() { curl -sf --cacert "$TLS_CA" "$FP/__stats"; }
FP_ARCH=$FP/devstoreaccount1/arch-challenge
MI_DETAIL="IMDS, AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:$STUB_HTTP, system-assigned"
check "init through the fault proxy" -- ai -q init --dest "$FP_ARCH" --key "$key" --dest-auth managed-identity
faultproxy_rules "$FP" '{"action":"challenge","count":1,"method":"PUT","path":"/data/"}'
n=$(issued imds)
check_exit 0 "a run whose data upload gets a 401 Bearer challenge from the proxy succeeds" -- \
	ai --json run --source "$SRC_URL/appinsights-export" --source-auth managed-identity \
	--dest "$FP_ARCH" --dest-auth managed-identity --key "$key"
check "... with no failed blob" -- jq -e '.failed == 0 and .blobs > 0' <<<"$LAST_OUTPUT"
check_eq "... the proxy challenged once" 1 "$(fp_stats | jq .byAction.challenge)"
check_eq "... and the run fetched a new token once (two in all)" "$((n + 2))" "$(issued imds)"
faultproxy_rules "$FP" '{"action":"challenge","count":2,"method":"PUT","path":"comp=lease"}'
n=$(issued imds)
check_exit 3 "a second 401 right after the new token: an auth error, exit 3" -- \
	ai run --source "$SRC_URL/appinsights-export" --source-auth managed-identity \
	--dest "$FP_ARCH" --dest-auth managed-identity --key "$key"
check "... naming the credential ('$(head -1 <<<"$LAST_OUTPUT")')" -- \
	grep -q "401 InvalidAuthenticationInfo: .*(with a managed-identity token: $MI_DETAIL)" <<<"$LAST_OUTPUT"
check_eq "... after two challenges" 2 "$(fp_stats | jq .byAction.challenge)"
check_eq "... and one new token, not more" "$((n + 2))" "$(issued imds)"
faultproxy_rules "$FP" '[]'

# --- the summary counts every lease request the trace shows -----------------
check "init an archive for the lease count" -- ai -q init --dest "$DST_URL/arch-leases" --key "$key" \
	--dest-auth managed-identity
rc=0
"$AIARCHIVE" -vv --json run --source "$SRC_URL/appinsights-export" --source-auth managed-identity \
	--dest "$DST_URL/arch-leases" --dest-auth managed-identity --key "$key" --ca-file "$TLS_CA" \
	>"$TEST_TMP/lease.json" 2>"$TEST_TMP/lease.trace" || rc=$?
cat "$TEST_TMP/lease.trace" >>"$all_output"
check_eq "a -vv --json run succeeds" 0 "$rc"
traced=$(grep -c '^.*request .* PUT .*comp=lease -> ' "$TEST_TMP/lease.trace")
counted=$(jq '.requests.dest.lease + .requests.source.lease' "$TEST_TMP/lease.json")
check "... the trace shows lease requests ($traced)" -- test "$traced" -ge 2
check_eq "... the summary counts as many lease requests as the trace shows" "$traced" "$counted"

# --- failures: one line naming the method -----------------------------------
one_line() { test "$(grep -c . <<<"$LAST_OUTPUT")" -eq 1; }
stub_post /__set '{"audience":"https://management.azure.com"}'
check_exit 3 "wrong audience: exit 3" -- ai status --dest "$DST_URL/arch-managed-identity" --dest-auth managed-identity
check "... one line naming the method" -- one_line
check "... '$LAST_OUTPUT'" -- grep -q "403 AuthenticationFailed.*(with a managed-identity token: $MI_DETAIL)" <<<"$LAST_OUTPUT"
stub_post /__set '{"audience":"https://storage.azure.com"}'

stub_post /__set '{"forbid":"PUT"}'
check_exit 3 "a missing role: exit 3" -- ai run --source "$SRC_URL/appinsights-export" \
	--source-auth managed-identity --dest "$STUB_URL/devstoreaccount1/longrun" --dest-auth managed-identity \
	--key "$key"
check "... naming the method and the role run needs ('$(head -1 <<<"$LAST_OUTPUT")')" -- \
	grep -q "AuthorizationPermissionMismatch: the identity (managed-identity) lacks a role: 'Storage Blob Data Contributor' on the archive, for 'run'" <<<"$LAST_OUTPUT"
stub_post /__set '{"forbid":null}'

dead=$(free_port)
export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:$dead
check_exit 3 "unreachable IMDS: exit 3" -- ai status --dest "$DST_URL/arch-managed-identity" --dest-auth managed-identity
check "... one line naming the method ('$LAST_OUTPUT')" -- \
	bash -c 'test "$(grep -c . <<<"$1")" -eq 1 && grep -q "managed-identity: IMDS at http://127.0.0.1:$2/metadata/identity/oauth2/token is unreachable" <<<"$1"' _ "$LAST_OUTPUT" "$dead"
method_env managed-identity
stub_post /__set '{"fail":"imds-503:2"}'
check_exit 0 "IMDS 503 twice: tried again, then a token" -- ai -q status --dest "$DST_URL/arch-managed-identity" \
	--dest-auth managed-identity
stub_post /__set '{"fail":"imds-400:1"}'
check_exit 3 "IMDS 400 (no identity on the machine): exit 3" -- ai status --dest "$DST_URL/arch-managed-identity" \
	--dest-auth managed-identity
check "... saying so ('$LAST_OUTPUT')" -- grep -q "managed-identity: IMDS: 400: this machine has no system-assigned identity" <<<"$LAST_OUTPUT"
stub_post /__set '{"fail":null}'

method_env service-principal
export AZURE_CLIENT_SECRET=wrong-secret-0123456789
check_exit 3 "a wrong client secret: exit 3" -- ai status --dest "$DST_URL/arch-managed-identity" --dest-auth service-principal
check "... the token endpoint's answer, one line ('$LAST_OUTPUT')" -- \
	bash -c 'test "$(grep -c . <<<"$1")" -eq 1 && grep -q "service-principal: token endpoint: 400 invalid_request" <<<"$1"' _ "$LAST_OUTPUT"
# the stub counted that as malformed; forget it
stub_post /__set '{}'

method_env azure-cli
export AZ_FAKE_LOGGED_OUT=1
check_exit 3 "azure-cli, logged out: exit 3 with the CLI's own words" -- \
	ai status --dest "$DST_URL/arch-managed-identity" --dest-auth azure-cli
check "... '$LAST_OUTPUT'" -- grep -q "azure-cli: az account get-access-token exited with 1: ERROR: Please run 'az login' to setup account." <<<"$LAST_OUTPUT"

method_env workload-identity
export AZURE_FEDERATED_TOKEN_FILE=$TEST_TMP/no-such-token
check_exit 3 "workload identity without its token file: exit 3" -- \
	ai status --dest "$DST_URL/arch-managed-identity" --dest-auth workload-identity
check "... naming the file ('$LAST_OUTPUT')" -- grep -q "workload-identity: federated token file '$TEST_TMP/no-such-token'" <<<"$LAST_OUTPUT"

method_env managed-identity
export IDENTITY_ENDPOINT=http://127.0.0.1:$STUB_HTTP/arc/token IMDS_ENDPOINT=http://127.0.0.1:$STUB_HTTP
check_exit 3 "Azure Arc: a challenge file outside /var/opt/azcmagent/tokens is refused" -- \
	ai status --dest "$DST_URL/arch-managed-identity" --dest-auth managed-identity
check "... saying where it must be ('$LAST_OUTPUT')" -- \
	grep -q "named the challenge file '$TEST_TMP/arc.key', which is not a .key file in /var/opt/azcmagent/tokens/; refused" <<<"$LAST_OUTPUT"

# Azure Arc's way, end to end: the agent serves IMDS's path on its own port
# (IDENTITY_ENDPOINT, IMDS_ENDPOINT), answers 401 naming a .key file in
# /var/opt/azcmagent/tokens, and takes that file's content back as Basic.
# The directory is fixed, so this needs root; what it makes there goes.
ARC_TOKENS=/var/opt/azcmagent/tokens
arc_made=
arc_cleanup() {
	[ -z "${ARC_KEY:-}" ] || rm -f "$ARC_KEY"
	[ -z "$arc_made" ] || rmdir $arc_made 2>/dev/null || true
}
if [ "$(id -u)" -ne 0 ]; then
	tap_result 0 "Azure Arc: a run with the challenge file in $ARC_TOKENS # SKIP not root (the directory is root's)"
else
	d=$ARC_TOKENS
	# the directories that are not there yet, deepest first, for the cleanup
	while [ ! -e "$d" ] && [ "$d" != / ]; do
		arc_made="$arc_made $d"
		d=$(dirname "$d")
	done
	on_exit arc_cleanup
	ARC_KEY=$ARC_TOKENS/aiarchive-e2e-$$.key
	if mkdir -p "$ARC_TOKENS" && (umask 077 && echo "arc-secret-$$-0123456789" >"$ARC_KEY"); then
		method_env managed-identity
		unset AZURE_POD_IDENTITY_AUTHORITY_HOST
		export IDENTITY_ENDPOINT=http://127.0.0.1:$STUB_HTTP/metadata/identity/oauth2/token \
			IMDS_ENDPOINT=http://127.0.0.1:$STUB_HTTP
		stub_post /__set "{\"arc\":true,\"arcFile\":\"$ARC_KEY\"}"
		n=$(stub_get /__stats | jq -r '.issued.arc // 0')
		check "Azure Arc: init with the challenge file in $ARC_TOKENS" -- \
			ai -q init --dest "$DST_URL/arch-arc" --key "$key" --dest-auth managed-identity
		check_exit 0 "Azure Arc: a run with --dest-auth managed-identity succeeds" -- \
			ai --json run --source "$SRC_URL/appinsights-export" --source-auth managed-identity \
			--dest "$DST_URL/arch-arc" --dest-auth managed-identity --key "$key"
		check "... archiving every blob" -- jq -e '.blobs > 0 and .failed == 0' <<<"$LAST_OUTPUT"
		check "... with tokens Arc issued after its challenge" -- \
			test "$(stub_get /__stats | jq -r '.issued.arc // 0')" -gt "$n"
		check_exit 0 "Azure Arc: -vv describes the credential" -- \
			ai -vv status --dest "$DST_URL/arch-arc" --dest-auth managed-identity
		check "... 'dest: managed identity (Azure Arc, IDENTITY_ENDPOINT=$IDENTITY_ENDPOINT, system-assigned)'" -- \
			grep -qF "dest: managed identity (Azure Arc, IDENTITY_ENDPOINT=$IDENTITY_ENDPOINT, system-assigned)" <<<"$LAST_OUTPUT"
		check "... never the file's content" -- bash -c '! grep -q "arc-secret-$1" <<<"$2"' _ "$$" "$LAST_OUTPUT"
		stub_post /__set '{"arc":false,"arcFile":null}'
	else
		tap_result 0 "Azure Arc: a run with the challenge file in $ARC_TOKENS # SKIP cannot write $ARC_KEY"
	fi
	arc_cleanup
	ARC_KEY=
	arc_made=
fi

method_env managed-identity
check_exit 2 "a token over http:// is refused before anything is sent" -- \
	ai status --dest "http://127.0.0.1:$DST_PORT/devstoreaccount1/arch-managed-identity" --dest-auth managed-identity
check "... saying so" -- grep -q "managed-identity: tokens are only sent over HTTPS, and this location is http://" <<<"$LAST_OUTPUT"
check_exit 2 "an unknown method is a usage error" -- ai status --dest "$DST_URL/x" --dest-auth password
check "... listing the methods" -- grep -q "unknown method 'password' (auto, key, sas" <<<"$LAST_OUTPUT"
unset_all
check_exit 0 "SSL_CERT_FILE stands in for --ca-file" -- \
	env SSL_CERT_FILE="$TLS_CA" AIARCHIVE_DEST_KEY="$AZURITE_KEY" "$AIARCHIVE" -q status \
	--dest "$DST_URL/arch-managed-identity"

# --- no secret anywhere, -vv included; -vv names the credential -------------
# says LINE: the -vv output has the line "dest: LINE" (and no anonymous access).
says() {
	grep -qxF "aiarchive: dest: $1" <<<"$LAST_OUTPUT" && ! grep -q "anonymous access" <<<"$LAST_OUTPUT"
}
method_env service-principal
check_exit 0 "-vv status with a service principal" -- ai -vv status --dest "$DST_URL/arch-managed-identity" \
	--dest-auth service-principal
check "... names it: secret from AZURE_CLIENT_SECRET" -- \
	says "service principal (secret from AZURE_CLIENT_SECRET, client id $CID from AZURE_CLIENT_ID, tenant $TENANT, AZURE_AUTHORITY_HOST=$STUB_URL)"
check_exit 0 "-vv status with auto finding the service principal" -- \
	ai -vv status --dest "$DST_URL/arch-managed-identity"
check "... says auto chose it" -- \
	says "service principal (secret from AZURE_CLIENT_SECRET, client id $CID from AZURE_CLIENT_ID, tenant $TENANT, AZURE_AUTHORITY_HOST=$STUB_URL), chosen by auth auto"
method_env workload-identity
check_exit 0 "-vv status with workload identity" -- ai -vv status --dest "$DST_URL/arch-managed-identity" \
	--dest-auth workload-identity
check "... names its token file" -- \
	says "workload identity (AZURE_FEDERATED_TOKEN_FILE=$FED, client id $CID from AZURE_CLIENT_ID, tenant $TENANT, AZURE_AUTHORITY_HOST=$STUB_URL/)"
method_env service-principal-cert
check_exit 0 "-vv status with a certificate" -- ai -vv status --dest "$DST_URL/arch-managed-identity" \
	--dest-auth service-principal
check "... names the certificate's path" -- \
	says "service principal (certificate AZURE_CLIENT_CERTIFICATE_PATH=$SPCERT, client id $CID from AZURE_CLIENT_ID, tenant $TENANT, AZURE_AUTHORITY_HOST=$STUB_URL)"
method_env managed-identity
check_exit 0 "-vv status with a system-assigned managed identity" -- \
	ai -vv status --dest "$DST_URL/arch-managed-identity" --dest-auth managed-identity
check "... names IMDS" -- says "managed identity ($MI_DETAIL)"
check_exit 0 "-vv status with a user-assigned one" -- ai -vv status --dest "$DST_URL/arch-managed-identity" \
	--dest-auth managed-identity --dest-client-id "$CID"
check "... names its client id" -- \
	says "managed identity (IMDS, AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:$STUB_HTTP, user-assigned client id $CID)"
method_env app-service
check_exit 0 "-vv status with App Service's identity" -- \
	ai -vv status --dest "$DST_URL/arch-managed-identity" --dest-auth managed-identity
check "... names its endpoint, not its header" -- \
	says "managed identity (App Service, IDENTITY_ENDPOINT=$IDENTITY_ENDPOINT, system-assigned)"
method_env azure-cli
check_exit 0 "-vv status with the Azure CLI" -- ai -vv status --dest "$DST_URL/arch-managed-identity" \
	--dest-auth azure-cli
check "... names it" -- says "Azure CLI (az account get-access-token, az on PATH)"
unset_all
check "the output of every command above holds no token, secret or assertion" -- \
	bash -c '! grep -E "eyJ[A-Za-z0-9_-]{8,}\.|$1|$2|arc-secret|identity-header-0123" "$3"' _ \
	"$SECRET" "$(cut -c1-40 "$FED")" "$all_output"
check "the -vv output says which token it got (without it)" -- grep -q "new token, expires in" "$all_output"

tap_done
