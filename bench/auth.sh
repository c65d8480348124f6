#!/usr/bin/env bash
# auth.sh: `aiarchive run` over the same small export with Shared Key (the
# account key) and with a Microsoft Entra ID bearer token (a service
# principal's client secret), against the same kind of Azurite: HTTPS with
# a throw-away CA and `--oauth basic`, which takes both, so only the
# credential differs. The tokens come from tests/tools/tokenstub.mjs
# playing the Entra token endpoint (AZURE_AUTHORITY_HOST), as in
# tests/e2e/entra.sh. Every timed run (BENCH_AUTH_REPS of each, default 5,
# the two alternating and the first of each pair swapping) writes a new
# archive in a fresh destination Azurite, from one source Azurite; `init`
# is not timed. Counted per run: storage requests (the `-vv` trace, one
# `request ... https://...` line on stderr per request, and the run's own --json
# summary), 401/403 answers, and the tokens the stub issued. Also timed:
# one token request to the stub on its own (curl, a new TLS connection).
# BENCH_SIZE tiny makes the export 40 blobs; otherwise it is 480 blobs
# (5.6 MiB). Rows go to $BENCH_RESULTS (figure "auth"), each run's stderr to
# $BENCH_OUT/auth-SIZE-CREDENTIAL-REP.stderr, this run's table to stdout.
. "$(dirname "$0")/lib.sh"
AIGEN=$top_builddir/tools/aigen
[ -x "$AIGEN" ] && [ -x "$AIARCHIVE" ] || { echo "bench: build aiarchive and aigen first" >&2; exit 1; }
for t in openssl curl jq; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed" >&2; exit 1; }
done
: "${BENCH_AUTH_REPS:=5}"
case $BENCH_SIZE in
tiny) gen=(--apps 1 --hours 2 --blobs-per-hour 2 --rows-per-blob 5) ;;
*) gen=(--apps 2 --hours 6 --blobs-per-hour 4 --rows-per-blob 5) ;;
esac
size=auth-$BENCH_SIZE

first_row=$(($(wc -l <"$BENCH_RESULTS" 2>/dev/null || echo 0) + 1))
tls_setup || { echo "bench: no test CA" >&2; exit 1; }
AZURITE_OAUTH=1 azurite_start SRC || { echo "bench: azurite did not start" >&2; exit 1; }
TENANT=9c1b5c4e-1111-4222-8333-444455556666
CID=3f0e4a7b-aaaa-4bbb-8ccc-ddddeeeeffff
SECRET='s3cr3t~Value.For_Tests-0123456789'
tokenstub_start --tenant "$TENANT" --client-id "$CID" --secret "$SECRET" ||
	{ echo "bench: tokenstub did not start" >&2; exit 1; }

export_dir=$TEST_TMP/export
"$AIGEN" --out "$export_dir" --layout continuous --seed 7 "${gen[@]}" >&2
nblobs=$(find "$export_dir/appinsights-export" -type f | wc -l)
blobtool_at SRC upload-tree "$export_dir" >/dev/null
echo "# export: $nblobs blobs, $(du -sb "$export_dir/appinsights-export" | cut -f1) bytes, uploaded" >&2
key=$TEST_TMP/key
"$AIARCHIVE" keygen -o "$key" >/dev/null

# credential WHO: the environment (cred) and options (auth for run, iauth
# for init) of one credential; nothing else differs.
credential() {
	case $1 in
	shared_key)
		cred=(env AIARCHIVE_SOURCE_KEY="$AZURITE_KEY" AIARCHIVE_DEST_KEY="$AZURITE_KEY")
		auth=(--source-auth key --dest-auth key) iauth=(--dest-auth key) ;;
	bearer_token)
		cred=(env AZURE_AUTHORITY_HOST="$STUB_URL" AZURE_TENANT_ID="$TENANT" AZURE_CLIENT_ID="$CID"
			AZURE_CLIENT_SECRET="$SECRET")
		auth=(--source-auth service-principal --dest-auth service-principal)
		iauth=(--dest-auth service-principal) ;;
	esac
}
issued() { stub_get /__stats | jq -r '[.issued[]] | add // 0'; }

# The extra column of a run: its counts, from its stderr and the stub.
tokens_before=0
run_counts() {
	local trace fails tokens
	# Storage requests only: not the local witness's file reads, nor a
	# token request, were it traced (it goes to the stub).
	grep -E '^aiarchive: request [^ ]+ [A-Z]+ https://' "$BENCH_STDERR" |
		grep -v "//127.0.0.1:$STUB_HTTPS/" >"$TEST_TMP/trace" || :
	trace=$(wc -l <"$TEST_TMP/trace")
	fails=$(grep -c -e '-> 401' -e '-> 403' "$TEST_TMP/trace" || :)
	tokens=$(($(issued) - tokens_before))
	jq -c --argjson trace "$trace" --argjson fails "$fails" --argjson tokens "$tokens" \
		'{blobs, failed, packs, bytes_in, retries, trace_requests: $trace, auth_failures: $fails,
		  tokens: $tokens, summary_requests: ([.requests[][]] | add), requests}' "$BENCH_LAST"
}

for rep in $(seq 1 "$BENCH_AUTH_REPS"); do
	if [ $((rep % 2)) -eq 1 ]; then order="shared_key bearer_token"; else order="bearer_token shared_key"; fi
	for who in $order; do
		dst=DST_${rep}_$who
		AZURITE_OAUTH=1 azurite_start "$dst" || { echo "bench: azurite did not start" >&2; exit 1; }
		url=${dst}_URL
		# A new archive, perhaps on a port an earlier one had: a new witness.
		forget_checkpoints
		credential "$who"
		"${cred[@]}" "$AIARCHIVE" -q init --dest "${!url}/archive" --key "$key" --ca-file "$TLS_CA" "${iauth[@]}" ||
			{ echo "bench: aiarchive init failed" >&2; exit 1; }
		tokens_before=$(issued)
		BENCH_SIZE=$size BENCH_EXTRA_CMD=run_counts timed auth "${who//_/-}" "$rep" -- \
			"${cred[@]}" "$AIARCHIVE" -vv --json run --source "$SRC_URL/appinsights-export" \
			--dest "${!url}/archive" --key "$key" --ca-file "$TLS_CA" "${auth[@]}"
		row=$(tail -1 "$BENCH_RESULTS" | cut -f9)
		jq -e --argjson n "$nblobs" '.blobs == $n and .failed == 0 and .auth_failures == 0' <<<"$row" >/dev/null ||
			{ echo "bench: $who run: $row" >&2; exit 1; }
		cp "$BENCH_STDERR" "$BENCH_OUT/auth-$BENCH_SIZE-$who-$rep.stderr"
		echo "# $who: $(jq -c '{trace_requests, summary_requests, tokens}' <<<"$row")" >&2
		azurite_stop "$dst"
	done
done

# One token request on its own: what a run pays once for its token.
for rep in $(seq 1 "$BENCH_AUTH_REPS"); do
	ms=$(curl -sf --cacert "$TLS_CA" -o /dev/null -w '%{time_total}' \
		--data-urlencode grant_type=client_credentials --data-urlencode "client_id=$CID" \
		--data-urlencode "client_secret=$SECRET" --data-urlencode scope=https://storage.azure.com/.default \
		"$STUB_URL/$TENANT/oauth2/v2.0/token" | awk '{ printf "%.1f", $1 * 1000 }')
	printf 'auth\ttoken-fetch\t%s\t%s\t%s\t0\t0\t%s\t{"ms":%s}\n' "$size" "$rep" \
		"$(awk -v m="$ms" 'BEGIN { printf "%.4f", m / 1000 }')" "$(loadavg)" "$ms" >>"$BENCH_RESULTS"
done
bad=$(stub_get /__stats | jq -c .rejected)
[ "$bad" = "[]" ] || { echo "bench: the stub rejected requests: $bad" >&2; exit 1; }
azurite_stop SRC
# This run's rows only.
node "$BENCH_DIR/summary.mjs" <(tail -n "+$first_row" "$BENCH_RESULTS")
