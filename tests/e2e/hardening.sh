#!/usr/bin/env bash
# hardening.sh: local files an attacker may plant or an operator may get
# wrong, against a local archive (file://, no Azurite): a symbolic link at
# `status --prom FILE.tmp` (or at FILE) is never written through; a FIFO as
# the signing key, public key, account-key, SAS or config file is refused
# at once (exit 2, one line) instead of blocking; a key or SAS file others
# may read is refused with the chmod to run; a linked key file is refused
# while the Kubernetes `..data/` path works; a running aiarchive has a core
# size limit of 0 and is not dumpable. (The FIFO planted in the segment
# cache, which only remote archives use, is in query_cat.sh and
# test_catalog.)
. "$(dirname "$0")/lib.sh"
AIGEN="$top_builddir/tools/aigen"
[ -x "$AIGEN" ] || skip_all "aigen not built"

src="$TEST_TMP/src" dst="$TEST_TMP/dst" key="$TEST_TMP/key"
SRC="file://$src/appinsights-export" DST="file://$dst"
"$AIGEN" --out "$src" --layout continuous --apps 1 --hours 2 --seed 5 >/dev/null ||
	bail_out "aigen failed"
check_exit 0 "keygen" -- "$AIARCHIVE" keygen -o "$key"
ai_init "$DST" "$key" || bail_out "init failed"
check_exit 0 "a run makes an archive" -- "$AIARCHIVE" run --source "$SRC" --dest "$DST" --key "$key"

# check_refused DESC PATTERN -- CMD...: CMD exits 2 within 10 seconds (a
# FIFO opened for reading would wait for a writer for ever), with one line
# matching PATTERN.
check_refused() {
	local desc=$1 pattern=$2; shift 2
	[ "${1:-}" = "--" ] && shift
	check_exit 2 "$desc" -- timeout 10 "$@"
	check "  in one line saying why" -- bash -c \
		'[ "$(printf "%s\n" "$1" | wc -l)" -eq 1 ] && grep -qE -- "$2" <<<"$1"' _ \
		"$LAST_OUTPUT" "$pattern"
}

# ---- status --prom: a link planted at the temporary name or at the file
promdir="$TEST_TMP/textfile"
prom="$promdir/aiarchive.prom"
mkdir -p "$promdir"
printf 'precious\n' >"$TEST_TMP/victim"
ln -s "$TEST_TMP/victim" "$prom.tmp"
check_exit 0 "status --prom with a link planted at FILE.tmp" -- \
	"$AIARCHIVE" -q status --dest "$DST" --prom "$prom"
check_eq "  the link's target is untouched" "precious" "$(cat "$TEST_TMP/victim")"
check "  FILE is a regular file with the metrics" -- bash -c \
	'test -f "$1" && ! test -L "$1" && grep -q "^aiarchive_status_timestamp_seconds " "$1"' _ "$prom"
check "  the planted link is still there, and no temporary file is left" -- bash -c \
	'test -L "$1.tmp" && [ "$(ls -A "$2" | wc -l)" -eq 2 ]' _ "$prom" "$promdir"
rm -f "$prom" "$prom.tmp"
ln -s "$TEST_TMP/victim" "$prom"
check_exit 0 "status --prom with a link planted at FILE" -- \
	"$AIARCHIVE" -q status --dest "$DST" --prom "$prom"
check "  the link is replaced by the metrics, its target untouched" -- bash -c \
	'test -f "$1" && ! test -L "$1" && [ "$(cat "$2")" = precious ]' _ "$prom" "$TEST_TMP/victim"

# ---- FIFOs where a file is expected: refused at once, never waited on
fifo="$TEST_TMP/fifo"
mkfifo "$fifo"
check_refused "run --key FIFO exits 2 at once" "key file '$fifo': not a regular file but a FIFO" -- \
	"$AIARCHIVE" run --source "$SRC" --dest "$DST" --key "$fifo"
check_refused "query --pubkey FIFO exits 2 at once" \
	"public key '$fifo': not a regular file but a FIFO" -- \
	"$AIARCHIVE" query --dest "$DST" --pubkey "$fifo"
check_refused "verify --pubkey FIFO exits 2 at once" \
	"public key '$fifo': not a regular file but a FIFO" -- \
	"$AIARCHIVE" verify --dest "$DST" --pubkey "$fifo"
check_refused "run --source-key-file FIFO exits 2 at once" \
	"key file '$fifo': not a regular file but a FIFO" -- \
	"$AIARCHIVE" run --source "$SRC" --dest "$DST" --key "$key" --source-key-file "$fifo"
check_refused "status --dest-sas-file FIFO exits 2 at once" \
	"SAS file '$fifo': not a regular file but a FIFO" -- \
	"$AIARCHIVE" status --dest "$DST" --dest-sas-file "$fifo"
check_refused "a FIFO as the config file exits 2 at once" \
	"config '$fifo': not a regular file but a FIFO" -- \
	"$AIARCHIVE" -c "$fifo" status --dest "$DST"

# ---- secrets others may read: refused with the chmod to run
sas="$TEST_TMP/dest.sas" acct="$TEST_TMP/dest.key"
printf 'sv=2024-01-01&sig=c2VjcmV0\n' >"$sas"
printf 'c2VjcmV0c2VjcmV0\n' >"$acct"
chmod 644 "$sas" "$key"
chmod 640 "$acct"
check_refused "a signing key of mode 0644 is refused" \
	"key file '$key': group or others can read or write it \(mode 0644\); run chmod 600 '$key'" -- \
	"$AIARCHIVE" run --source "$SRC" --dest "$DST" --key "$key"
check_refused "a SAS file of mode 0644 is refused" \
	"SAS file '$sas': group or others can read or write it \(mode 0644\); run chmod 600 '$sas'" -- \
	"$AIARCHIVE" status --dest "$DST" --dest-sas-file "$sas"
check_refused "an account-key file of mode 0640 is refused" \
	"key file '$acct': group or others can read or write it \(mode 0640\); run chmod 600 '$acct'" -- \
	"$AIARCHIVE" status --dest "$DST" --dest-key-file "$acct"
check "  and the secret is not printed" -- bash -c '! grep -q c2VjcmV0 <<<"$1"' _ "$LAST_OUTPUT"
chmod 600 "$sas" "$key" "$acct"
check_exit 0 "once chmod 600, the same files are accepted" -- \
	"$AIARCHIVE" status --dest "$DST" --dest-key-file "$acct"

# ---- links: refused as the last component, fine above it (Kubernetes
# mounts a secret as NAME -> ..data/NAME, ..data -> ..<timestamp>/)
k8s="$TEST_TMP/k8s"
mkdir -p "$k8s/..2026_01_01_00_00_00.1"
cp -p "$key" "$k8s/..2026_01_01_00_00_00.1/key"
ln -s ..2026_01_01_00_00_00.1 "$k8s/..data"
ln -s ..data/key "$k8s/key"
check_refused "a key file that is a symbolic link is refused" \
	"key file '$k8s/key': a symbolic link to '..data/key', not the file itself" -- \
	"$AIARCHIVE" run --source "$SRC" --dest "$DST" --key "$k8s/key"
check_exit 0 "the file under the linked ..data/ directory is accepted" -- \
	"$AIARCHIVE" run --source "$SRC" --dest "$DST" --key "$k8s/..data/key"

# ---- no core dumps: a running aiarchive (held up by a server that never
# answers) has a core size limit of 0 however it was started, and is not
# dumpable (its /proc files belong to root, whatever its own user).
listener=
if command -v python3 >/dev/null 2>&1; then
	listener=(python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(120)')
elif command -v node >/dev/null 2>&1; then
	listener=(node -e 'const s = require("net").createServer(() => {});
s.listen(0, "127.0.0.1", () => console.log(s.address().port)); setTimeout(() => process.exit(), 120000)')
fi
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
if [ -n "${listener[*]}" ]; then
	"${listener[@]}" >"$TEST_TMP/port" &
	lpid=$!
	on_exit stop "$lpid"
	for _ in $(seq 50); do [ -s "$TEST_TMP/port" ] && break; sleep 0.1; done
	port=$(cat "$TEST_TMP/port")
	# As root, run it as nobody: root's /proc files belong to root anyway.
	asuser=()
	[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
		asuser=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	(
		ulimit -S -c unlimited 2>/dev/null || ulimit -S -c "$(ulimit -H -c)"
		exec "${asuser[@]}" "$AIARCHIVE" -q status \
			--dest "http://127.0.0.1:$port/devstoreaccount1/archive"
	) >/dev/null 2>&1 &
	apid=$!
	on_exit stop "$apid"
	limits= owner= uid=
	# Up to 15 s: under sanitizers on a loaded machine the start is slow.
	for _ in $(seq 150); do
		if [ "$(readlink "/proc/$apid/exe" 2>/dev/null)" = "$(readlink -f "$AIARCHIVE")" ]; then
			limits=$(grep '^Max core file size' "/proc/$apid/limits")
			owner=$(stat -c %u "/proc/$apid/status")
			uid=$(awk '/^Uid:/ { print $2 }' "/proc/$apid/status")
			# Both limits, not only the soft one: a sanitizer runtime lowers
			# the soft limit before main() runs, and a binary its user may
			# not read is not dumpable from exec on.
			[[ $owner = 0 && $limits =~ ^Max\ core\ file\ size\ +0\ +0\  ]] && break
		fi
		sleep 0.1
	done
	[ -n "$limits" ] || diag "no limits read; the process: $(cat "/proc/$apid/status" 2>&1 | head -3)"
	check "a running aiarchive has a core size limit of 0" -- \
		bash -c '[[ $1 =~ ^Max\ core\ file\ size\ +0\ +0\ +bytes ]]' _ "$limits"
	if [ "${uid:-0}" != 0 ]; then
		check_eq "  and is not dumpable (its /proc files belong to root)" 0 "$owner"
	else
		tap_result 0 "  and is not dumpable # SKIP running as root without setpriv"
	fi
	stop "$apid"
	ulimit_soft=$(bash -c 'ulimit -S -c unlimited 2>/dev/null; ulimit -S -c')
	[ "$ulimit_soft" = 0 ] && diag "the hard core limit is 0 here: the limit check proves little"
else
	tap_result 0 "a running aiarchive has a core size limit of 0 # SKIP no python3 or node"
fi

tap_done
