# lib.sh: shared by the end-to-end scripts. Speaks TAP, makes archives,
# gives each script a scratch directory, and starts and stops Azurite
# instances, cleaning up whatever happens (set -e failure, signal, normal
# end).
#
# TAP:      check DESC -- CMD...        pass when CMD exits 0
#           check_exit CODE DESC -- CMD...  pass when CMD exits CODE; output in LAST_OUTPUT,
#                                       less the closing line a failing command ends with
#                                       ("aiarchive: CMD: WHAT; NEXT; exit N"), which goes to
#                                       LAST_CLOSING; when CMD is $AIARCHIVE itself and fails,
#                                       that line must be there, with CMD's exit status
#                                       (NO_CLOSING_LINE=1 check_exit ...: errors before any
#                                       command runs, which are one line and no more)
#           check_eq DESC WANT GOT      pass when the strings are equal
#           diag MSG...                 a "# " comment line
#           skip_all REASON             plan "1..0 # SKIP" and exit
#           bail_out REASON             "Bail out!" and exit 1
#           tap_done                    prints the plan; returns non-zero if anything failed
# Archive:  ai_init DEST KEY [OPT...]  `aiarchive init`, quietly: makes DEST an archive
#                                       signed by KEY, as every archive needs before its
#                                       first run
# Scratch:  TEST_TMP                    removed at exit; on_exit CMD... adds more cleanup
#                                       (a script that sets its own EXIT trap calls cleanup)
# Witness:  STATE_DIRECTORY             $TEST_TMP/state: each script keeps the checkpoints its
#                                       runs leave (the local witness, ARCHITECTURE.md §9.6)
#                                       to itself
#           forget_checkpoints          removes them, for a script that makes a new archive
#                                       where it removed one (else runs there see a rollback)
# Azurite:  require_azurite             skip_all unless Node and Azurite are installed
#           azurite_start NAME...       one blob-only in-memory Azurite per NAME, each on a
#                                       free port of 127.0.0.1, started together; exports
#             NAME_PORT                 the port
#             NAME_URL                  http://127.0.0.1:PORT/devstoreaccount1 (path style)
#             NAME_SECONDARY_URL        http://127.0.0.1:PORT/devstoreaccount1-secondary, the
#                                       RA-GRS secondary Azurite emulates on the same port: it
#                                       serves the primary's data at once, Get Blob Service Stats
#                                       works only there (always "live"), and unlike Azure it
#                                       accepts writes (a PUT there returns 201)
#             NAME_CONN                 connection string with the well-known key
#             NAME_PID                  pid of the Azurite process, also its process group
#           AZURITE_OAUTH=1             (set before azurite_start) the instances also take
#                                       bearer tokens (--oauth basic), which needs HTTPS: they
#                                       serve https:// with a certificate of tls_setup's CA,
#                                       and NAME_URL, NAME_CONN are https
#           azurite_stop [-SIG] NAME... stops them (default TERM, then KILL after a grace period)
#                                       and waits until every process of each group is gone
#           azurite_leftovers           pids of Azurite processes this script started that
#                                       still run (none after azurite_stop)
#           BLOBTOOL                    tests/tools/blobtool.mjs, or a copy that finds NODE_MODULES
#           blobtool ARGS...            node $BLOBTOOL, connection from AZ_CONN
#           blobtool_at NAME ARGS...    blobtool against instance NAME
#           sas_for NAME CONTAINER PERMS EXPIRY [blobtool sas options]
#                                       prints a SAS query string; EXPIRY is ISO 8601 or
#                                       relative such as +1h, -1h (already expired)
# TLS:      tls_setup                   a throw-away CA and a server certificate for 127.0.0.1
#                                       and localhost, in TLS_DIR ($TEST_TMP/tls): ca.pem,
#                                       server.pem, server.key; exports TLS_CA (ca.pem) and
#                                       NODE_EXTRA_CA_CERTS, so blobtool trusts it too
# Entra:    tokenstub_start [OPT...]    tests/tools/tokenstub.mjs with the server certificate
#                                       (OPT as it documents); exports STUB_HTTP, STUB_HTTPS
#                                       (ports), STUB_URL (https://127.0.0.1:STUB_HTTPS)
#           stub_get PATH / stub_post PATH JSON   its control endpoints
# Faults:   faultproxy_start NAME PORT [https|http] [OPT...]
#                                       tests/tools/faultproxy.mjs in front of 127.0.0.1:PORT,
#                                       stopped at exit or by faultproxy_stop_all; sets NAME
#                                       to its base URL (add the account path), NAME_PORT and
#                                       NAME_PID; with https, both sides speak TLS with
#                                       tls_setup's certificates (an AZURITE_OAUTH Azurite);
#                                       OPTs go to the proxy (--delay 30ms, --stats FILE)
#           faultproxy_rules BASE JSON  replaces its rules ('[]' clears them), zeroes its counters
# Call azurite_start, azurite_stop, tokenstub_start and faultproxy_start directly, not inside
# $(...) or check: they set variables of the calling shell.
set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${AIARCHIVE:=$top_builddir/src/aiarchive}"

tap_n=0
tap_failed=0
LAST_OUTPUT=
LAST_CLOSING=

# tap_result RC DESCRIPTION: records one TAP result, passing when RC is 0.
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

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
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

# check_todo REASON DESCRIPTION -- COMMAND...: as check, but a failure is
# a known limitation (REASON, with where it is written down): reported as
# TODO, which automake counts as an expected failure, not a failure.
check_todo() {
	local why=$1 desc=$2; shift 2
	[ "${1:-}" = "--" ] && shift
	local out
	if out=$("$@" 2>&1); then
		tap_result 0 "$desc"
	else
		tap_n=$((tap_n + 1))
		echo "not ok $tap_n - $desc # TODO $why"
		printf '%s\n' "$out" | sed 's/^/# /' | head -40
	fi
}

# check_exit CODE DESCRIPTION -- COMMAND...: passes when COMMAND exits CODE.
check_exit() {
	local want=$1 desc=$2; shift 2
	[ "${1:-}" = "--" ] && shift
	local out rc=0 last re='^aiarchive: [a-z]+: .+; exit [0-9]+$'
	out=$("$@" 2>&1) || rc=$?
	LAST_CLOSING=
	if [ "$rc" -ne 0 ]; then
		last=$(printf '%s\n' "$out" | tail -n 1)
		if [[ $last =~ $re ]]; then
			LAST_CLOSING=$last
			out=$(printf '%s\n' "$out" | sed '$d')
		fi
	fi
	if [ "$rc" -eq "$want" ] && [ "$rc" -ne 0 ] && [ "$1" = "$AIARCHIVE" ] &&
	   [ -z "${NO_CLOSING_LINE:-}" ] &&
	   [[ $LAST_CLOSING != *"; exit $rc" ]]; then
		tap_result 1 "$desc (exit $rc without the closing line)"
		printf '%s\n' "$out" | sed 's/^/# /' | head -40
	elif [ "$rc" -eq "$want" ]; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc (exit $rc, wanted $want)"
		printf '%s\n' "$out" | sed 's/^/# /' | head -40
	fi
	LAST_OUTPUT=$out
}

# check_eq DESCRIPTION WANT GOT: passes when the two strings are equal.
check_eq() {
	if [ "$2" = "$3" ]; then
		tap_result 0 "$1"
	else
		tap_result 1 "$1"
		diag "wanted: $2" "got:    $3"
	fi
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

bail_out() {
	echo "Bail out! $*"
	exit 1
}

tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# --- aiarchive -----------------------------------------------------------

ai_init() {
	"$AIARCHIVE" -q init --dest "$1" --key "$2" "${@:3}"
}
# ai_init_once URL KEY: makes URL an archive unless it is one already (for
# helpers that run again and again on the same destination).
ai_init_once() {
	local rc=0
	"$AIARCHIVE" -q init --dest "$1" --key "$2" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]
}

# --- cleanup -------------------------------------------------------------

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aiarchive-e2e.XXXXXX")
_lib_main_pid=$BASHPID
_lib_on_exit=()
declare -gA _az_pid=() _az_job=()

# on_exit COMMAND...: runs COMMAND (one word list) at exit, before the
# Azurite instances stop and TEST_TMP goes away.
on_exit() {
	_lib_on_exit+=("$(printf '%q ' "$@")")
}

_lib_cleanup() {
	# Subshells inherit the trap in some bash versions; only the script cleans up.
	[ "$BASHPID" = "$_lib_main_pid" ] || return 0
	local cmd
	for cmd in "${_lib_on_exit[@]}"; do
		eval "$cmd" || true
	done
	_lib_on_exit=()
	# The data is in memory and thrown away anyway, so do not wait for a
	# graceful shutdown.
	[ ${#_az_pid[@]} -eq 0 ] || azurite_stop -KILL "${!_az_pid[@]}" || true
	rm -rf "$TEST_TMP"
	# How long the script took, for finding what makes the suite slow.
	echo "# $(basename "$0") took $SECONDS s"
}
# The checkpoints runs leave on the host: one directory per script, so that
# no script sees another's archives as rolled back.
export STATE_DIRECTORY="$TEST_TMP/state"
unset XDG_STATE_HOME
# No system's or user's config file is found (config.sh sets its own).
export AIARCHIVE_TEST_SYSCONF= XDG_CONFIG_HOME="$TEST_TMP/config"
forget_checkpoints() {
	rm -rf "$STATE_DIRECTORY"
}

# cleanup: the former name, for scripts that set their own EXIT trap.
cleanup() {
	_lib_cleanup
}
trap _lib_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Azurite -------------------------------------------------------------

# The well-known development account Azurite accepts by default.
AZURITE_ACCOUNT=devstoreaccount1
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
# NODE_MODULES (configure, default SRCDIR/node_modules) holds Azurite and
# the Azure SDK; a tree of its own (distcheck's, an unpacked tarball) uses
# the checkout's.
: "${NODE_MODULES:=$top_srcdir/node_modules}"
AZURITE_BIN="$NODE_MODULES/.bin/azurite-blob"
BLOBTOOL="$top_srcdir/tests/tools/blobtool.mjs"
# Node finds blobtool's imports next to the script, so a tree without
# node_modules runs a copy that has them.
if [ -d "$NODE_MODULES" ] &&
   [ "$(cd "$NODE_MODULES" && pwd -P)" != "$(cd "$top_srcdir/node_modules" 2>/dev/null && pwd -P)" ]; then
	mkdir "$TEST_TMP/node-tools"
	ln -s "$(cd "$NODE_MODULES" && pwd -P)" "$TEST_TMP/node-tools/node_modules"
	cp "$BLOBTOOL" "$TEST_TMP/node-tools/"
	BLOBTOOL="$TEST_TMP/node-tools/blobtool.mjs"
fi
_az_preload="$top_srcdir/tests/tools/azurite-preload.cjs"
# Every Azurite this script starts carries this in its environment, so
# leftovers can be told apart from those of tests running alongside.
_az_tag="AIARCHIVE_E2E_OWNER=$$.$(basename "$TEST_TMP")"

# free_port: prints a port that was free a moment ago (for other local
# servers; Azurite picks its own with --blobPort 0).
free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# require_azurite: skips the whole script when Node or Azurite is missing.
require_azurite() {
	command -v node >/dev/null 2>&1 || skip_all "node not installed (run scripts/setup)"
	[ -x "$AZURITE_BIN" ] || skip_all "azurite not installed (run scripts/setup)"
}

# _az_group_alive PGID: true while a process other than a zombie is in the
# group. Orphans of the group may wait a while to be reaped, and kill -0
# counts zombies, so ps has the last word.
_az_group_alive() {
	kill -0 -- "-$1" 2>/dev/null || return 1
	ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}

# _az_log_port FILE: prints the port once Azurite's log says it listens.
_az_log_port() {
	local line re='successfully listens on https?://127\.0\.0\.1:([0-9]+)'
	while IFS= read -r line; do
		[[ $line =~ $re ]] && { echo "${BASH_REMATCH[1]}"; return 0; }
	done <"$1"
	return 1
}

# azurite_start NAME...: starts one Azurite per NAME and waits until all listen.
azurite_start() {
	local name dir pid port deadline scheme=http
	local -a cmd=(node "$AZURITE_BIN") tls=()
	if [ -n "${AZURITE_OAUTH:-}" ]; then
		[ -n "${TLS_DIR:-}" ] || tls_setup || return 1
		tls=(--oauth basic --cert "$TLS_DIR/server.pem" --key "$TLS_DIR/server.key")
		scheme=https
	fi
	[ -x "$AZURITE_BIN" ] || { echo "# azurite not installed: run scripts/setup" >&2; return 1; }
	[ ! -f "$_az_preload" ] || cmd=(node --require "$_az_preload" "$AZURITE_BIN")
	for name in "$@"; do
		[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "# azurite_start: bad name '$name'" >&2; return 1; }
		[ -z "${_az_job[$name]:-}" ] || { echo "# azurite_start: $name already runs" >&2; return 1; }
	done
	for name in "$@"; do
		dir="$TEST_TMP/azurite-$name"
		# A restart under the same name must not read the old pid or log.
		rm -rf "$dir" && mkdir -p "$dir"
		# setsid gives Azurite its own process group, so one kill reaches
		# everything it forks, and keeps a terminal's ^C for this script.
		# The inner shell records its pid (the group id whether or not setsid
		# had to fork) and leaves a watchdog in the group that removes the
		# group and TEST_TMP should this script die without running its
		# trap (SIGKILL).
		(cd "$dir" && exec env -u AZURITE_ACCOUNTS -u AZURITE_DB "$_az_tag" \
			setsid bash -c '
				echo $$ >"$1.tmp" && mv "$1.tmp" "$1"
				owner=$2 tmp=$3; shift 3
				(
					while kill -0 "$owner" 2>/dev/null; do sleep 1; done
					rm -rf -- "$tmp"
					kill -KILL 0
				) &
				exec "$@"' azurite "$dir/pid" "$$" "$TEST_TMP" \
			"${cmd[@]}" --inMemoryPersistence --disableTelemetry --silent \
				--loose --skipApiVersionCheck \
				--blobHost 127.0.0.1 --blobPort 0 ${tls[@]+"${tls[@]}"}) \
			</dev/null >"$dir/log" 2>&1 &
		_az_job[$name]=$!
		_az_pid[$name]=
		# Killing the group is the way to end it; no job notices from bash.
		disown $!
	done
	# Generous: a loaded machine running the sanitizer build is slow.
	deadline=$((SECONDS + 60))
	for name in "$@"; do
		dir="$TEST_TMP/azurite-$name"
		port=
		while [ "$SECONDS" -lt "$deadline" ]; do
			[ -n "${_az_pid[$name]}" ] || [ ! -s "$dir/pid" ] || _az_pid[$name]=$(cat "$dir/pid")
			if [ -n "${_az_pid[$name]}" ]; then
				port=$(_az_log_port "$dir/log") && break
				kill -0 "${_az_pid[$name]}" 2>/dev/null || break
			fi
			sleep 0.05
		done
		if [ -z "$port" ]; then
			echo "# azurite $name did not start: $(tail -5 "$dir/log" | tr '\n' ' ')" >&2
			return 1
		fi
		pid=${_az_pid[$name]}
		export "${name}_PORT=$port"
		export "${name}_PID=$pid"
		export "${name}_URL=$scheme://127.0.0.1:$port/$AZURITE_ACCOUNT"
		export "${name}_SECONDARY_URL=$scheme://127.0.0.1:$port/$AZURITE_ACCOUNT-secondary"
		export "${name}_CONN=DefaultEndpointsProtocol=$scheme;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;BlobEndpoint=$scheme://127.0.0.1:$port/$AZURITE_ACCOUNT;"
	done
}

# azurite_stop [-TERM|-INT|-KILL] NAME...: signals every named instance's
# group, then waits for each group to be empty, escalating to KILL after 5 s.
azurite_stop() {
	local sig=TERM name pgid i rc=0
	case "${1:-}" in
	-TERM | -INT | -KILL) sig=${1#-}; shift ;;
	esac
	for name in "$@"; do
		[ -n "${_az_job[$name]:-}" ] || { echo "# azurite_stop: $name does not run" >&2; rc=1; continue; }
		# A start that failed half way may not have read the pid file yet.
		[ -n "${_az_pid[$name]}" ] || _az_pid[$name]=$(cat "$TEST_TMP/azurite-$name/pid" 2>/dev/null || :)
		pgid=${_az_pid[$name]}
		[ -z "$pgid" ] || kill -s "$sig" -- "-$pgid" 2>/dev/null || true
	done
	for name in "$@"; do
		[ -n "${_az_job[$name]:-}" ] || continue
		pgid=${_az_pid[$name]:-}
		if [ -n "$pgid" ]; then
			for ((i = 0; i < 100; i++)); do
				_az_group_alive "$pgid" || break
				sleep 0.05
			done
			if _az_group_alive "$pgid"; then
				kill -KILL -- "-$pgid" 2>/dev/null || true
				for ((i = 0; i < 100; i++)); do
					_az_group_alive "$pgid" || break
					sleep 0.05
				done
			fi
		else
			kill -KILL "${_az_job[$name]}" 2>/dev/null || true
		fi
		if [ -n "$pgid" ] && _az_group_alive "$pgid"; then
			echo "# azurite_stop: $name (group $pgid) survived KILL" >&2
			rc=1
		fi
		unset "_az_pid[$name]" "_az_job[$name]"
	done
	return $rc
}

# azurite_leftovers: pids of still running processes that carry this
# script's tag and mention azurite on their command line.
azurite_leftovers() {
	local p
	for p in $(pgrep -f azurite); do
		[ "$p" != "$BASHPID" ] || continue
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "$_az_tag" || continue
		[ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" != Z ] || continue
		echo "$p"
	done
}

# --- TLS and Entra ID ------------------------------------------------------

# tls_setup: a CA that lives as long as the script, and a certificate it
# signs for 127.0.0.1 and localhost.
tls_setup() {
	TLS_DIR=$TEST_TMP/tls
	mkdir -p "$TLS_DIR" || return 1
	(
		cd "$TLS_DIR" &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
			-subj "/CN=aiarchive test CA" -addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign &&
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj "/CN=127.0.0.1" &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out server.pem -days 2 -extfile ext
	) >"$TEST_TMP/tls.log" 2>&1 || { echo "# tls_setup: $(tail -3 "$TEST_TMP/tls.log")" >&2; return 1; }
	export TLS_DIR TLS_CA=$TLS_DIR/ca.pem NODE_EXTRA_CA_CERTS=$TLS_DIR/ca.pem
}

TOKENSTUB="$top_srcdir/tests/tools/tokenstub.mjs"
# tokenstub_start [OPT...]: starts the token stub, waits until it listens.
tokenstub_start() {
	[ -n "${TLS_DIR:-}" ] || tls_setup || return 1
	local out=$TEST_TMP/tokenstub.out i line=
	node "$TOKENSTUB" --cert "$TLS_DIR/server.pem" --key "$TLS_DIR/server.key" --ca "$TLS_CA" \
		"$@" >"$out" 2>"$TEST_TMP/tokenstub.err" &
	STUB_PID=$!
	on_exit kill "$STUB_PID"
	for ((i = 0; i < 200; i++)); do
		line=$(head -1 "$out" 2>/dev/null) && [ -n "$line" ] && break
		kill -0 "$STUB_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$line" ] || { echo "# tokenstub did not start: $(cat "$TEST_TMP/tokenstub.err")" >&2; return 1; }
	STUB_HTTP=$(jq -r .http <<<"$line")
	STUB_HTTPS=$(jq -r .https <<<"$line")
	export STUB_PID STUB_HTTP STUB_HTTPS STUB_URL=https://127.0.0.1:$STUB_HTTPS
}
stub_get() {
	curl -sf "http://127.0.0.1:$STUB_HTTP$1"
}
stub_post() {
	curl -sf -X POST --data-binary "$2" "http://127.0.0.1:$STUB_HTTP$1" >/dev/null
}

# blobtool ARGS...: the Node client built on @azure/storage-blob.
blobtool() {
	node "$BLOBTOOL" "$@"
}

# blobtool_at NAME ARGS...: blobtool against Azurite instance NAME.
blobtool_at() {
	local conn="${1}_CONN"
	AZ_CONN=${!conn} blobtool "${@:2}"
}

# sas_for NAME CONTAINER PERMS EXPIRY [OPTIONS]: a SAS query string.
sas_for() {
	blobtool_at "$1" sas "${@:2}"
}

# --- the fault proxy -----------------------------------------------------

declare -gA _fp_pid=()
faultproxy_start() {
	local name=$1 to=$2 out="$TEST_TMP/faultproxy-$1.out" port= i scheme=http tls=()
	if [ "${3:-}" = https ]; then
		[ -n "${TLS_DIR:-}" ] || tls_setup || return 1
		scheme=https
		tls=(--cert "$TLS_DIR/server.pem" --key "$TLS_DIR/server.key" --ca "$TLS_CA")
	fi
	shift 2
	[ "${1:-}" != https ] && [ "${1:-}" != http ] || shift
	node "$top_srcdir/tests/tools/faultproxy.mjs" --target "$scheme://127.0.0.1:$to" "${tls[@]}" \
		"$@" >"$out" 2>"$TEST_TMP/faultproxy-$name.err" &
	_fp_pid[$name]=$!
	[ ${#_fp_pid[@]} -gt 1 ] || on_exit faultproxy_stop_all
	for ((i = 0; i < 200; i++)); do
		port=$(sed -n '1s/^port \([0-9][0-9]*\)$/\1/p' "$out" 2>/dev/null)
		[ -z "$port" ] || break
		kill -0 "${_fp_pid[$name]}" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$port" ] || return 1
	printf -v "$name" '%s' "$scheme://127.0.0.1:$port"
	printf -v "${name}_PORT" '%s' "$port"
	printf -v "${name}_PID" '%s' "${_fp_pid[$name]}"
}
faultproxy_stop_all() {
	local p
	for p in "${_fp_pid[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}
faultproxy_rules() {
	local ca=()
	[ -z "${TLS_CA:-}" ] || ca=(--cacert "$TLS_CA")
	curl -sf "${ca[@]}" -X PUT --data-binary "$2" "$1/__fault" >/dev/null &&
		curl -sf "${ca[@]}" -X DELETE "$1/__stats" >/dev/null
}
