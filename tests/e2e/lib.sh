# lib.sh: shared by the end-to-end scripts. Speaks TAP, gives each script
# a scratch directory, and starts and stops Azurite instances, cleaning up
# whatever happens (set -e failure, signal, normal end).
set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${AIARCHIVE:=$top_builddir/src/aiarchive}"

tap_n=0
tap_failed=0
tap_plan_printed=0

# ok CONDITION-EXIT-CODE DESCRIPTION: records one TAP result.
tap_result() {
	local rc=$1; shift
	tap_n=$((tap_n + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $tap_n - $*"
	else
		echo "not ok $tap_n - $*"
		tap_failed=$((tap_failed + 1))
	fi
}

# check DESCRIPTION -- COMMAND...: runs COMMAND, records pass when it exits 0.
check() {
	local desc=$1; shift
	[ "${1:-}" = "--" ] && shift
	local out
	if out=$("$@" 2>&1); then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc"
		printf '%s\n' "$out" | sed 's/^/# /' | head -40
	fi
}

# check_exit CODE DESCRIPTION -- COMMAND...: passes when COMMAND exits CODE.
check_exit() {
	local want=$1 desc=$2; shift 2
	[ "${1:-}" = "--" ] && shift
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq "$want" ]; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc (exit $rc, wanted $want)"
		printf '%s\n' "$out" | sed 's/^/# /' | head -40
	fi
	LAST_OUTPUT=$out
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aiarchive-e2e.XXXXXX")
AZURITE_PIDS=()

cleanup() {
	local pid
	for pid in "${AZURITE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${AZURITE_PIDS[@]}"; do
		# wait only works for our own children; poll for the rest
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The well-known development account Azurite accepts by default.
AZURITE_ACCOUNT=devstoreaccount1
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# azurite_start NAME: starts a blob-only Azurite in its own directory on a
# free port; sets NAME_PORT, NAME_URL (blob endpoint) and NAME_CONN.
azurite_start() {
	local name=$1 dir="$TEST_TMP/azurite-$1" port pid bin
	bin="$top_srcdir/node_modules/.bin/azurite-blob"
	[ -x "$bin" ] || { echo "# azurite not installed: run scripts/setup" >&2; return 1; }
	mkdir -p "$dir"
	for attempt in 1 2 3; do
		port=$(free_port)
		"$bin" --silent --skipApiVersionCheck --loose --location "$dir" \
			--blobHost 127.0.0.1 --blobPort "$port" >"$dir/log" 2>&1 &
		pid=$!
		AZURITE_PIDS+=("$pid")
		for _ in $(seq 100); do
			if curl -s -o /dev/null "http://127.0.0.1:$port/devstoreaccount1?comp=list"; then
				printf -v "${name}_PORT" '%s' "$port"
				printf -v "${name}_URL" '%s' "http://127.0.0.1:$port/$AZURITE_ACCOUNT"
				printf -v "${name}_CONN" '%s' "DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$port/$AZURITE_ACCOUNT;"
				printf -v "${name}_PID" '%s' "$pid"
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
	done
	echo "# azurite did not start: $(tail -5 "$dir/log")" >&2
	return 1
}

# blobtool ARGS...: the Node helper that uses @azure/storage-blob.
blobtool() {
	node "$top_srcdir/tests/tools/blobtool.mjs" "$@"
}
