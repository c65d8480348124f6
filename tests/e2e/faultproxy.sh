#!/usr/bin/env bash
# faultproxy.sh: the fault-injecting proxy that retry tests put in front of
# Azurite passes requests through unchanged and injects what its rules say.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl not installed"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
require_azurite

PROXY_PID=

proxy_stop() {
	[ -n "$PROXY_PID" ] || return 0
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
	PROXY_PID=
}

# The proxy must go away whatever happens; lib.sh runs on_exit commands
# from its own EXIT trap.
if declare -F on_exit >/dev/null; then
	on_exit proxy_stop
else
	trap 'proxy_stop; cleanup' EXIT
fi

# rules JSON: replaces the proxy's rules.
rules() {
	curl -sf -X PUT --data-binary "$1" "$PROXY/__fault" >/dev/null
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

azurite_start A || bail_out "azurite did not start"
faultproxy_start PROXY "$A_PORT" || bail_out "faultproxy did not start: $(cat "$TEST_TMP/faultproxy-PROXY.err")"
check "proxy prints its port first" -- test "$PROXY_PORT" -gt 0

PROXY_CONN="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;BlobEndpoint=$PROXY/$AZURITE_ACCOUNT;"
SIZE=$((3 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$TEST_TMP/big.bin"
blobtool --conn "$A_CONN" mkcontainer fpc >/dev/null || bail_out "mkcontainer failed"
blobtool --conn "$A_CONN" put fpc big.bin "$TEST_TMP/big.bin" >/dev/null || bail_out "upload failed"
SAS=$(blobtool --conn "$A_CONN" sas fpc r +1h --blob big.bin) || bail_out "sas failed"
BLOB="$PROXY/$AZURITE_ACCOUNT/fpc/big.bin?$SAS"

# --- pass-through --------------------------------------------------------

# Azure's error, with the per-request RequestId and Time lines removed.
stable() {
	sed -e '/^RequestId:/d' -e '/^Time:/d' -e 's/<Message>.*$/<Message>/' "$1"
}
curl -s -D "$TEST_TMP/h.direct" -o "$TEST_TMP/b.direct" "$A_URL/missing?restype=container"
curl -s -D "$TEST_TMP/h.proxy" -o "$TEST_TMP/b.proxy" "$PROXY/$AZURITE_ACCOUNT/missing?restype=container"
check_eq "error status line passes unchanged" "$(head -1 "$TEST_TMP/h.direct")" "$(head -1 "$TEST_TMP/h.proxy")"
check_eq "x-ms-error-code passes" "$(grep -i '^x-ms-error-code' "$TEST_TMP/h.direct")" \
	"$(grep -i '^x-ms-error-code' "$TEST_TMP/h.proxy")"
check "error body passes" -- cmp <(stable "$TEST_TMP/b.direct") <(stable "$TEST_TMP/b.proxy")
check "Shared Key listing through the proxy (Host and x-ms-* kept)" -- \
	bash -c 'node "$1" --conn "$2" list fpc | grep -q "^big\.bin"' _ \
	"$BLOBTOOL" "$PROXY_CONN"
check "Shared Key upload through the proxy" -- \
	node "$BLOBTOOL" --conn "$PROXY_CONN" put fpc copy.bin "$TEST_TMP/big.bin"
check "SAS download through the proxy is byte-exact" -- \
	bash -c 'curl -sf "$1" | cmp - "$2"' _ "$BLOB" "$TEST_TMP/big.bin"

# --- status --------------------------------------------------------------

rules '{"action":"status","status":503,"retryAfter":3,"count":2,"path":"/fpc/big\\.bin"}'
for i in 1 2; do
	curl -s -D "$TEST_TMP/h.$i" -o "$TEST_TMP/b.$i" "$BLOB"
	check "503 number $i answered by the proxy" -- grep -q '^HTTP/1.1 503 ' "$TEST_TMP/h.$i"
	check "503 number $i carries Retry-After" -- grep -qi '^Retry-After: 3' "$TEST_TMP/h.$i"
	check "503 number $i has x-ms-error-code ServerBusy" -- grep -qi '^x-ms-error-code: ServerBusy' "$TEST_TMP/h.$i"
	check "503 number $i has an Azure error body" -- grep -q '<Error><Code>ServerBusy</Code><Message>' "$TEST_TMP/b.$i"
done
check "after two 503s the request passes" -- bash -c 'curl -sf "$1" | cmp - "$2"' _ "$BLOB" "$TEST_TMP/big.bin"
rules '{"action":"status","status":500,"code":"InternalError","method":"PUT"}'
check "a PUT-only rule leaves GET alone" -- bash -c 'curl -sf "$1" | cmp - "$2"' _ "$BLOB" "$TEST_TMP/big.bin"

# --- challenge -----------------------------------------------------------

rules '{"action":"challenge","count":2,"path":"/fpc/big\\.bin"}'
for i in 1 2; do
	curl -s -D "$TEST_TMP/h.c$i" -o "$TEST_TMP/b.c$i" "$BLOB"
	check "challenge number $i: 401 answered by the proxy" -- grep -q '^HTTP/1.1 401 ' "$TEST_TMP/h.c$i"
	check "challenge number $i: WWW-Authenticate: Bearer authorization_uri=" -- \
		grep -qi '^WWW-Authenticate: Bearer authorization_uri=https://login.microsoftonline.com/.* resource_id=https://storage.azure.com' "$TEST_TMP/h.c$i"
	check "challenge number $i: x-ms-error-code InvalidAuthenticationInfo" -- \
		grep -qi '^x-ms-error-code: InvalidAuthenticationInfo' "$TEST_TMP/h.c$i"
done
check "after two challenges the request passes" -- bash -c 'curl -sf "$1" | cmp - "$2"' _ "$BLOB" "$TEST_TMP/big.bin"
check_eq "the proxy counts them" 2 "$(curl -sf "$PROXY/__stats" | jq .byAction.challenge)"
rules '[]'

# --- reset ---------------------------------------------------------------

rules '{"action":"reset","bytes":100000}'
check "reset: curl fails" -- bash -c '! curl -s -o "$2" "$1"' _ "$BLOB" "$TEST_TMP/cut.bin"
got=$(stat -c %s "$TEST_TMP/cut.bin" 2>/dev/null || echo 0)
check "reset: body cut mid-way ($got bytes)" -- test "$got" -gt 0 -a "$got" -lt "$SIZE"
check "reset: the bytes before the cut are the blob's" -- cmp -n "$got" "$TEST_TMP/cut.bin" "$TEST_TMP/big.bin"
check "reset rule is used up" -- bash -c 'curl -sf "$1" | cmp - "$2"' _ "$BLOB" "$TEST_TMP/big.bin"

# --- stall ---------------------------------------------------------------

rules '{"action":"stall","bytes":1000}'
check_exit 28 "stall forever: curl --max-time gives up" -- curl -s --max-time 2 -o "$TEST_TMP/stall.bin" "$BLOB"
check_eq "stall: exactly the first bytes arrived" 1000 "$(stat -c %s "$TEST_TMP/stall.bin")"
rules '{"action":"stall","bytes":4096,"seconds":1}'
t0=$(now_ms)
check "timed stall: the body completes afterwards" -- bash -c 'curl -sf "$1" | cmp - "$2"' _ "$BLOB" "$TEST_TMP/big.bin"
check "timed stall: it took at least the stall" -- test $(($(now_ms) - t0)) -ge 1000

# --- delay and drop ------------------------------------------------------

rules '{"action":"delay","seconds":1}'
t0=$(now_ms)
check "delay: the request passes" -- bash -c 'curl -sf "$1" | cmp - "$2"' _ "$BLOB" "$TEST_TMP/big.bin"
check "delay: it took at least the delay" -- test $(($(now_ms) - t0)) -ge 1000
rules '{"action":"drop"}'
check_exit 52 "drop: curl gets an empty reply" -- curl -s -o /dev/null "$BLOB"

# --- lose: the write lands, its answer does not ----------------------------

SASW=$(blobtool --conn "$A_CONN" sas fpc cw +1h --blob lost.txt) || bail_out "sas failed"
rules '{"action":"lose","method":"PUT"}'
check "lose: curl gets no answer to its write" -- bash -c \
	'! curl -s -o /dev/null -w "%{http_code}" -X PUT -H "x-ms-blob-type: BlockBlob" \
		--data-binary landed "$1" | grep -q "^[1-5]"' _ "$PROXY/$AZURITE_ACCOUNT/fpc/lost.txt?$SASW"
check_eq "lose: yet the write was done" landed "$(blobtool --conn "$A_CONN" get fpc lost.txt)"

# --- control API ---------------------------------------------------------

check_exit 22 "a bad rule is refused" -- \
	curl -sf -X PUT --data-binary '{"action":"explode"}' "$PROXY/__fault"
check "rules can be appended and read back" -- bash -c '
	curl -sf -X DELETE "$1/__fault" >/dev/null &&
	curl -sf -X POST --data-binary "{\"action\":\"drop\",\"count\":3}" "$1/__fault" >/dev/null &&
	curl -sf -X POST --data-binary "[{\"action\":\"delay\",\"seconds\":0.1}]" "$1/__fault" >/dev/null &&
	curl -sf "$1/__fault" | jq -e "length == 2 and .[0].remaining == 3 and .[1].seconds == 0.1"' _ "$PROXY"
curl -sf -X DELETE "$PROXY/__fault" >/dev/null
curl -sf "$PROXY/__stats" >"$TEST_TMP/stats.json"
check "stats count requests" -- jq -e '.requests >= 14' "$TEST_TMP/stats.json"
check "stats count faults by action" -- jq -e \
	'.byAction == {"status":2,"challenge":2,"reset":1,"stall":2,"delay":1,"drop":1,"lose":1} and .faults == 10' "$TEST_TMP/stats.json"
check "stats list recent requests" -- jq -e '[.recent[] | select(.action == "status")] | length == 2' "$TEST_TMP/stats.json"
check "control requests are not counted" -- \
	bash -c 'a=$(curl -sf "$1/__stats" | jq .requests); b=$(curl -sf "$1/__stats" | jq .requests); [ "$a" = "$b" ]' _ "$PROXY"

# --- latency mode --------------------------------------------------------

# 100 ms each way and 24 Mbit/s (3 MB/s): a first request pays the handshake's
# round trip and its own, a second one on the same connection only its own.
faultproxy_start WAN "$A_PORT" --delay 100ms --rate 24Mbit --stats "$TEST_TMP/wan-stats.json" ||
	bail_out "faultproxy --delay did not start: $(cat "$TEST_TMP/faultproxy-WAN.err")"
SMALL="$WAN/$AZURITE_ACCOUNT/fpc/small.bin?$(blobtool --conn "$A_CONN" sas fpc r +1h --blob small.bin)"
head -c 1000 /dev/urandom >"$TEST_TMP/small.bin"
blobtool --conn "$A_CONN" put fpc small.bin "$TEST_TMP/small.bin" >/dev/null || bail_out "upload failed"
curl -sf -o "$TEST_TMP/s1" -o "$TEST_TMP/s2" -w '%{time_total} %{num_connects}\n' "$SMALL" "$SMALL" \
	>"$TEST_TMP/wan-times" || bail_out "curl through the slow proxy failed"
read -r t1 c1 t2 c2 < <(tr '\n' ' ' <"$TEST_TMP/wan-times")
diag "a first GET $t1 s, a second on the same connection $t2 s"
check "--delay: both answers are the blob" -- bash -c 'cmp "$1/s1" "$1/small.bin" && cmp "$1/s2" "$1/small.bin"' _ "$TEST_TMP"
check_eq "--delay: curl used one connection" "1 0" "$c1 $c2"
check "--delay: a first request takes two round trips (>= 0.4 s)" -- \
	bash -c '[ "$(echo "$1 >= 0.4 && $1 < 2" | bc -l)" = 1 ]' _ "$t1"
check "--delay: a second one takes one (0.2 s to 0.4 s)" -- \
	bash -c '[ "$(echo "$1 >= 0.2 && $1 < 0.4" | bc -l)" = 1 ]' _ "$t2"
BIG="$WAN/$AZURITE_ACCOUNT/fpc/big.bin?$SAS"
t0=$(now_ms)
check "--rate: a 3 MiB download through the slow link is byte-exact" -- \
	bash -c 'curl -sf "$1" | cmp - "$2"' _ "$BIG" "$TEST_TMP/big.bin"
ms=$(($(now_ms) - t0))
diag "3 MiB at 24 Mbit/s in $ms ms"
check "--rate: it took its bytes' time at 3 MB/s (>= 1.05 s)" -- test "$ms" -ge 1048
check "--rate: and not much more (< 3 s)" -- test "$ms" -lt 3000
check "--rate: an upload passes at the rate too (>= 1.05 s)" -- bash -c '
	t0=$(date +%s%N); node "$1" --conn "$2" put fpc slow.bin "$3" >/dev/null || exit 1
	[ $((($(date +%s%N) - t0) / 1000000)) -ge 1048 ]' _ "$BLOBTOOL" \
	"DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;BlobEndpoint=$WAN/$AZURITE_ACCOUNT;" \
	"$TEST_TMP/big.bin"
curl -sf "$WAN/__stats" >"$TEST_TMP/wan-live.json"
check "the counters while it runs: requests by operation" -- \
	jq -e '.requests >= 4 and .byOp.GET == 3 and .byOp["PUT"] + .byOp["PUT block"] >= 1' "$TEST_TMP/wan-live.json"
check "the counters while it runs: bytes both ways, headers included" -- \
	jq -e --argjson n "$SIZE" '.bytesOut > $n + 2000 and .bytesIn > $n' "$TEST_TMP/wan-live.json"
check "the counters while it runs: time in flight" -- \
	jq -e '.inFlightPeak >= 1 and .busySeconds >= 2.5 and .activeSeconds >= 2.5 and .connections >= 2 and
		.upstreamSeconds > 0 and .upstreamSeconds < .busySeconds - 0.8' \
	"$TEST_TMP/wan-live.json"
kill "$WAN_PID"
wait "$WAN_PID" 2>/dev/null || true
check "--stats writes the counters on exit" -- \
	jq -e --slurpfile live "$TEST_TMP/wan-live.json" \
	'.requests == $live[0].requests and .byOp == $live[0].byOp and .bytesOut >= $live[0].bytesOut' \
	"$TEST_TMP/wan-stats.json"
check_exit 2 "a --delay without its unit is refused" -- \
	node "$top_srcdir/tests/tools/faultproxy.mjs" --target "$A_URL" --delay 30
check "in one line that says how to write it" -- \
	bash -c '[ "$(grep -c . <<<"$1")" -le 2 ] && grep -q "bad duration \"30\" (say e.g. 30ms" <<<"$1"' _ "$LAST_OUTPUT"
check_exit 2 "a bad --rate is refused" -- \
	node "$top_srcdir/tests/tools/faultproxy.mjs" --target "$A_URL" --rate fast

pid=$PROXY_PID
proxy_stop
check "proxy stops on SIGTERM" -- bash -c '! kill -0 "$1" 2>/dev/null' _ "$pid"
tap_done
