#!/usr/bin/env bash
# units.sh: the systemd units and the cron file as `make install` puts them
# (after @bindir@ is substituted): every unit passes `systemd-analyze
# verify` in a scratch root; the hourly service counts only 0 and 9 as
# success, writes the node_exporter file whatever the run did, keeps its
# state (and a local archive) in its StateDirectory and marks optional
# paths with "-"; each unit's command lines and each cron line, taken from
# the installed files, run as they stand (only the config, the textfile
# directory and the install root pointed into the scratch directory)
# against a local archive: quiet when all is well, one closing line on
# stderr when not. A key the service user cannot read says whose it is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/archive_lib.sh"
[ -x "$AIGEN" ] || skip_all "aigen not built"
[ -f "$top_builddir/Makefile" ] || skip_all "no Makefile in $top_builddir"

# skip DESC REASON: one test not run here.
skip() {
	tap_result 0 "$1 # SKIP $2"
}

root="$TEST_TMP/root"
check "make install puts everything in a scratch root" -- \
	env -u MAKEFLAGS -u MFLAGS make -s -C "$top_builddir" install DESTDIR="$root"
unitdir=$(dirname "$(find "$root" -name aiarchive.service -print -quit)")
cron=$(find "$root" -name aiarchive.cron.example -print -quit)
units=(aiarchive.service aiarchive.timer aiarchive-verify.service aiarchive-verify.timer
       aiarchive-gc.service aiarchive-gc.timer)
for u in "${units[@]}"; do
	check "$u is installed" -- test -f "$unitdir/$u"
done
check "the cron example is installed" -- test -f "$cron"
check "no @...@ is left unsubstituted" -- \
	bash -c '! grep -n "@[a-z]*@" "$@"' _ "$cron" "${units[@]/#/$unitdir/}"
# Several archivers: the cron file of host 0 of 3 and the Indexed CronJob.
shards_cron=$(find "$root" -name aiarchive-shards.cron.example -print -quit)
check "the several-hosts cron example is installed, substituted" -- \
	bash -c 'test -f "$1" && ! grep -n "@[a-z]*@" "$1"' _ "$shards_cron"
check "  its hourly line runs shard 0/3 with the config" -- grep -qE \
	"^7 \\* \\* \\* \\* aiarchive /[^ ]*/aiarchive -c /etc/aiarchive/aiarchive.conf -q run --shard 0/3;" "$shards_cron"
check "the Indexed CronJob is installed beside it" -- \
	grep -q "completionMode: Indexed" "$(dirname "$shards_cron")/kubernetes/cronjob.yaml"

# ---- systemd-analyze verify, in a root of its own: the units where make
# install put them, the binary they name, and the few targets every
# service and timer depends on by default
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$root/usr/lib/systemd/system"
	for t in sysinit basic shutdown network-online timers time-set time-sync; do
		printf '[Unit]\nDescription=%s\n' "$t" >"$root/usr/lib/systemd/system/$t.target"
	done
	sdv() {
		local out rc=0
		out=$(cd / && systemd-analyze verify --man=no --root="$root" "$@" 2>&1) || rc=$?
		printf '%s' "$out"
		[ "$rc" -eq 0 ] && [ -z "$out" ]
	}
	# A unit systemd-analyze should complain about: proves it checks here.
	sed 's/^ExecStart=/ExecStrat=/' "$unitdir/aiarchive-gc.service" >"$unitdir/aiarchive-bad.service"
	rc=0
	sdv aiarchive-bad.service >"$TEST_TMP/sdv-bad.out" 2>&1 || rc=$?
	rm -f "$unitdir/aiarchive-bad.service"
	if [ "$rc" -ne 0 ] && grep -q "ExecStrat" "$TEST_TMP/sdv-bad.out"; then
		tap_result 0 "systemd-analyze verify works here (it finds a misspelt key)"
		for u in "${units[@]}"; do
			check "systemd-analyze verify $u: no complaint" -- sdv "$u"
		done
	else
		diag "$(cat "$TEST_TMP/sdv-bad.out")"
		for u in "${units[@]}"; do
			skip "systemd-analyze verify $u" "systemd-analyze cannot verify units here"
		done
	fi
else
	for u in "${units[@]}"; do
		skip "systemd-analyze verify $u" "systemd-analyze not installed"
	done
fi

# ---- what the hourly service promises
svc="$unitdir/aiarchive.service"
check_eq "only 0 and 9 count as success (1 and 6 fail the unit)" "SuccessExitStatus=9" \
	"$(grep '^SuccessExitStatus=' "$svc")"
check "the .prom is written after every run, failed ones too (ExecStopPost)" -- \
	grep -q '^ExecStopPost=.* status --prom ' "$svc"
check "  and not only after a successful one (no ExecStartPost)" -- \
	bash -c '! grep -q "^ExecStartPost=" "$1"' _ "$svc"
check "every ReadWritePaths entry is optional (-)" -- \
	bash -c '! grep "^ReadWritePaths=" "$@" | tr " =" "\n\n" | grep -v -e "^-" -e "ReadWritePaths" -e "^$"' \
	_ "${units[@]/#/$unitdir/}"
for u in aiarchive.service aiarchive-verify.service aiarchive-gc.service; do
	check "$u keeps its state in StateDirectory=aiarchive" -- \
		grep -qx 'StateDirectory=aiarchive' "$unitdir/$u"
	check "$u runs as User=aiarchive with the config given by -c" -- bash -c \
		'grep -qx "User=aiarchive" "$1" && ! grep "^Exec" "$1" | grep -v -- " -c /etc/aiarchive/aiarchive.conf "' \
		_ "$unitdir/$u"
done
check "the hourly service has CacheDirectory=aiarchive" -- grep -qx 'CacheDirectory=aiarchive' "$svc"
check "its comments say whose the key must be" -- \
	grep -q '^#.*chown aiarchive:aiarchive /etc/aiarchive/signing.key' "$svc"
check_eq "the verify timer runs nightly" "OnCalendar=*-*-* 03:17:00" \
	"$(grep '^OnCalendar=' "$unitdir/aiarchive-verify.timer")"
check_eq "the gc timer weekly" "OnCalendar=Sun *-*-* 04:37:00" \
	"$(grep '^OnCalendar=' "$unitdir/aiarchive-gc.timer")"

# ---- the command lines, as installed, against a local archive
bin=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$svc")
check "ExecStart names the installed binary by its absolute path" -- \
	bash -c '[[ $1 == /* ]] && [ -x "$2$1" ]' _ "$bin" "$root"
check "the cron lines name it by the same path and give the config with -c" -- bash -c \
	'n=0; while read -r l; do n=$((n + 1)); [[ $l == *" $1 -c /etc/aiarchive/aiarchive.conf "* ]] || exit 1; done < <(grep "^[0-9]" "$2"); [ "$n" -eq 3 ]' \
	_ "$bin" "$cron"
check "no command line needs systemd's or cron's escapes (no % or \$)" -- \
	bash -c '! grep -E "^(Exec|[0-9]).*[%$]" "$@"' _ "$cron" "${units[@]/#/$unitdir/}"

src="$TEST_TMP/src" arch="$TEST_TMP/archive" textfile="$TEST_TMP/textfile"
mkdir -p "$TEST_TMP/etc" "$textfile"
"$AIGEN" --out "$src" --layout continuous --apps 2 --hours 2 --seed 5 \
	--from "$(date -u -d '-5 hours' +%Y-%m-%dT%H)" >/dev/null || bail_out "aigen failed"
"$AIARCHIVE" keygen -o "$TEST_TMP/etc/signing.key" >/dev/null || bail_out "keygen failed"
conf="$TEST_TMP/etc/aiarchive.conf"
cat >"$conf" <<EOF
source = file://$src/appinsights-export
dest = file://$arch
key = $TEST_TMP/etc/signing.key
pubkey = $TEST_TMP/etc/signing.key.pub
EOF

# localize LINE: the line with the config, the textfile directory and the
# binary pointed into the scratch directory; nothing else changes.
localize() {
	sed -e "s|/etc/aiarchive/aiarchive.conf|$conf|g" \
	    -e "s|/var/lib/prometheus/node-exporter|$textfile|g" \
	    -e "s|$bin |$root$bin |g" <<<"$1"
}
# unit_lines UNIT KEY: the values of KEY= in UNIT, one a line.
unit_lines() {
	sed -n "s/^$2=//p" "$unitdir/$1"
}
# exec_line LINE: runs it as systemd does a command line without quotes or
# specifiers (a leading "-" only says its failure is ignored); stdout and
# stderr to $TEST_TMP/out and $TEST_TMP/err.
exec_line() {
	local -a w
	read -ra w <<<"$(localize "${1#-}")"
	"${w[@]}" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
}
# unit_exec UNIT KEY: runs every KEY= line of UNIT; returns the first
# failure's status, as a oneshot service stops at it.
unit_exec() {
	local l rc=0
	while read -r l; do
		exec_line "$l" || { rc=$?; break; }
	done < <(unit_lines "$1" "$2")
	return "$rc"
}
quiet() {
	[ ! -s "$TEST_TMP/out" ] && [ ! -s "$TEST_TMP/err" ]
}
# The checks below run some of these in bash -c.
export -f localize unit_lines exec_line unit_exec
export TEST_TMP conf textfile bin root unitdir cron

check_exit 2 "the hourly ExecStart before init exits 2" -- unit_exec aiarchive.service ExecStart
check "  nothing on stdout, and the last line on stderr is the closing line" -- bash -c \
	'[ ! -s "$1/out" ] && tail -n 1 "$1/err" | grep -qE "^aiarchive: run: dest .*no archive here.*; nothing was recorded; .*; exit 2$"' \
	_ "$TEST_TMP"
diag "$(cat "$TEST_TMP/err")"

check "init makes the archive" -- ai_init "file://$arch" "$TEST_TMP/etc/signing.key"
check "the hourly ExecStart archives, quietly" -- bash -c \
	'"$@" && [ ! -s "$TEST_TMP/out" ] && [ ! -s "$TEST_TMP/err" ]' _ unit_exec aiarchive.service ExecStart
check "  every source line is in the archive, once" -- bash -c \
	'diff -q <(find "$1" -type f -name "*.blob" -print0 | xargs -0 awk 1 | sort) \
	      <(find "$2/data" -type f -name "*.jsonl.gz" -print0 | xargs -0 zcat | sort)' \
	_ "$src/appinsights-export" "$arch"
check "its ExecStopPost writes the node_exporter file" -- bash -c \
	'"$@" && grep -q "^aiarchive_" "$TEST_TMP/textfile/aiarchive.prom"' _ unit_exec aiarchive.service ExecStopPost
check_exit 0 "the nightly verify's ExecStart passes (a share of the data, the last day's source)" -- \
	unit_exec aiarchive-verify.service ExecStart
check "  quietly" -- quiet
check_exit 0 "the weekly gc's ExecStart passes" -- unit_exec aiarchive-gc.service ExecStart
check "  quietly" -- quiet

# A failed run: the key loosened to 0644. The run refuses it in one line
# and the closing line; ExecStopPost still rewrites the .prom file.
chmod 644 "$TEST_TMP/etc/signing.key"
rm -f "$textfile/aiarchive.prom"
check_exit 2 "a failing hourly ExecStart exits 2" -- unit_exec aiarchive.service ExecStart
check "  with the reason, then the closing line" -- bash -c \
	'grep -q "^aiarchive: error: key file .*mode 0644.*chmod 600" "$1" && tail -n 1 "$1" | grep -qE "^aiarchive: run: key file .*; exit 2$"' \
	_ "$TEST_TMP/err"
check "  and the ExecStopPost after it still writes the .prom" -- bash -c \
	'"$@"; [ -s "$TEST_TMP/textfile/aiarchive.prom" ]' _ unit_exec aiarchive.service ExecStopPost
chmod 600 "$TEST_TMP/etc/signing.key"

# ---- the cron lines, as installed: the command after the five time
# fields and the user, run by /bin/sh as cron does (SHELL=/bin/sh)
check_eq "the cron file sets SHELL=/bin/sh" "SHELL=/bin/sh" "$(grep '^SHELL=' "$cron")"
# cron_exec COMMAND: runs the cron line of `aiarchive ... -q COMMAND`.
cron_exec() {
	local l cmd
	l=$(grep "^[0-9].* -q $1" "$cron") || return 99
	cmd=$(awk '{ for (i = 7; i <= NF; i++) printf "%s%s", $i, (i < NF ? " " : "") }' <<<"$l")
	sh -c "$(localize "$cmd")" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
}
export -f cron_exec
for c in run verify gc; do
	check "the cron $c line succeeds and prints nothing (cron would mail it)" -- \
		bash -c '"$@" && [ ! -s "$TEST_TMP/out" ] && [ ! -s "$TEST_TMP/err" ]' _ cron_exec "$c"
done
check "the cron run line also writes the .prom file" -- grep -q "^aiarchive_" "$textfile/aiarchive.prom"
# A broken archive location: the mail holds the error and the closing line.
sed -i "s|^dest = .*|dest = file://$TEST_TMP/gone|" "$conf"
cron_exec run || true
check "a failing cron run line mails the error and the closing line" -- bash -c \
	'[ ! -s "$1/out" ] && grep -qE "^aiarchive: run: .*; exit 2$" "$1/err"' _ "$TEST_TMP"
diag "$(cat "$TEST_TMP/err")"
sed -i "s|^dest = .*|dest = file://$arch|" "$conf"

# ---- a key made by root, read by the service user
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
	chmod 711 "$TEST_TMP" "$TEST_TMP/etc"
	chmod 644 "$conf"
	rc=0
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		"$root$bin" -c "$conf" -q run >"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
	check_eq "a root-owned key the service user cannot read: exit 2" 2 "$rc"
	check "  the error says whose the file is, who runs, and the chown to run" -- \
		grep -q "^aiarchive: error: key file '$TEST_TMP/etc/signing.key': permission denied: it belongs to root:.* and this runs as user 'nobody'; give it to them: chown 'nobody' '$TEST_TMP/etc/signing.key'" "$TEST_TMP/err"
	check "  then the closing line" -- bash -c \
		'tail -n 1 "$1" | grep -qE "^aiarchive: run: key file .*permission denied.*; exit 2$"' _ "$TEST_TMP/err"
	chmod 700 "$TEST_TMP"
else
	skip "a root-owned key the service user cannot read" "needs root and setpriv"
fi
tap_done
