#!/usr/bin/env bash
# config.sh: where the options come from. The config file found without -c
# and AIARCHIVE_CONFIG (the system's, then the user's), -c and
# AIARCHIVE_CONFIG over that, AIARCHIVE_<KEY> over the file, the command
# line over both, a key the command does not use never breaking it, and a
# bad value in the environment naming its variable. Each step reads the
# archive status --json names (jq). Local archives (file://), no Azurite.
. "$(dirname "$0")/lib.sh"

key="$TEST_TMP/key"
unset AIARCHIVE_CONFIG
export HOME="$TEST_TMP/home"
export AIARCHIVE_TEST_SYSCONF="$TEST_TMP/etc/aiarchive/aiarchive.conf"
unset XDG_CONFIG_HOME
mkdir -p "$HOME" "$(dirname "$AIARCHIVE_TEST_SYSCONF")" || bail_out "no directories"
"$AIARCHIVE" -q keygen -o "$key" || bail_out "no key"
for a in sys user xdg given env var flag; do
	ai_init "file://$TEST_TMP/$a" "$key" || bail_out "no archive $a"
done

# dest_of DESC WANT [ENV=VALUE...] -- ARGS...: status --json ARGS (in that
# environment) exits 0 and names the archive WANT.
dest_of() {
	local desc=$1 want=$2 out rc=0; shift 2
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	out=$(env "${envs[@]}" "$AIARCHIVE" status --json "$@" 2>"$TEST_TMP/stderr") || rc=$?
	check_eq "$desc: exit 0" 0 "$rc"
	[ "$rc" -eq 0 ] || diag "$(cat "$TEST_TMP/stderr")"
	check_eq "  the $want archive" "file://$TEST_TMP/$want" "$(jq -r .dest <<<"$out")"
}

# Discovery: none is found, then the user's (~/.config), then the system's first.
check_exit 2 "no config file found: no --dest" -- "$AIARCHIVE" status
check "  says where a --dest could come from" -- \
	grep -q "no --dest given (on the command line, in AIARCHIVE_DEST or in the config file)" <<<"$LAST_OUTPUT"
mkdir -p "$HOME/.config/aiarchive"
printf 'dest = file://%s/user\n' "$TEST_TMP" >"$HOME/.config/aiarchive/config"
dest_of "the user's config (~/.config)" user --
mkdir -p "$TEST_TMP/xdg-home/aiarchive"
printf 'dest = file://%s/xdg\n' "$TEST_TMP" >"$TEST_TMP/xdg-home/aiarchive/config"
dest_of "XDG_CONFIG_HOME over ~/.config" xdg XDG_CONFIG_HOME="$TEST_TMP/xdg-home" --
dest_of "a relative XDG_CONFIG_HOME is ignored" user XDG_CONFIG_HOME=xdg-home --
printf 'dest = file://%s/sys\n' "$TEST_TMP" >"$AIARCHIVE_TEST_SYSCONF"
dest_of "the system's config before the user's" sys --
dest_of "AIARCHIVE_TEST_SYSCONF empty: no system config" user AIARCHIVE_TEST_SYSCONF= --

# -v says which file was read, in one line.
"$AIARCHIVE" -v status >/dev/null 2>"$TEST_TMP/stderr"
check_eq "-v names the config file found, once" 1 \
	"$(grep -c "^aiarchive: config file '$AIARCHIVE_TEST_SYSCONF' (found)$" "$TEST_TMP/stderr")"
"$AIARCHIVE" status >/dev/null 2>"$TEST_TMP/stderr"
check "  without -v: not a word" -- test ! -s "$TEST_TMP/stderr"

# -c and AIARCHIVE_CONFIG over discovery; an empty AIARCHIVE_CONFIG: none.
printf 'dest = file://%s/given\n' "$TEST_TMP" >"$TEST_TMP/given.conf"
printf 'dest = file://%s/env\n' "$TEST_TMP" >"$TEST_TMP/env.conf"
dest_of "-c over the found ones" given -- -c "$TEST_TMP/given.conf"
dest_of "AIARCHIVE_CONFIG over the found ones" env AIARCHIVE_CONFIG="$TEST_TMP/env.conf" --
dest_of "-c over AIARCHIVE_CONFIG" given AIARCHIVE_CONFIG="$TEST_TMP/env.conf" -- \
	-c "$TEST_TMP/given.conf"
AIARCHIVE_CONFIG= check_exit 2 "an empty AIARCHIVE_CONFIG: no config file" -- "$AIARCHIVE" status
AIARCHIVE_CONFIG= "$AIARCHIVE" -v status --dest "file://$TEST_TMP/flag" >/dev/null \
	2>"$TEST_TMP/stderr"
check "  and -v names none" -- bash -c "! grep -q 'config file' '$TEST_TMP/stderr'"

# The environment over the config file, the command line over both.
dest_of "AIARCHIVE_DEST over the config file" var AIARCHIVE_DEST="file://$TEST_TMP/var" --
dest_of "an empty AIARCHIVE_DEST: as if unset" sys AIARCHIVE_DEST= --
dest_of "--dest over AIARCHIVE_DEST" flag AIARCHIVE_DEST="file://$TEST_TMP/var" -- \
	--dest "file://$TEST_TMP/flag"
dest_of "AIARCHIVE_DEST over -c's file too" var AIARCHIVE_DEST="file://$TEST_TMP/var" -- \
	-c "$TEST_TMP/given.conf"

# A bad value in the environment names its variable; a command without
# that key ignores it, as it ignores the config's keys it does not take.
AIARCHIVE_LOOKBACK=2 check_exit 2 "a bad AIARCHIVE_LOOKBACK" -- \
	"$AIARCHIVE" run --dry-run --source "file://$TEST_TMP/nowhere" --key "$key"
check "  names the variable" -- \
	grep -q "^aiarchive: error: run: environment variable AIARCHIVE_LOOKBACK: --lookback 2: 2 what?" <<<"$LAST_OUTPUT"
AIARCHIVE_JOBS=many check_exit 2 "a bad AIARCHIVE_JOBS for verify" -- "$AIARCHIVE" verify
check "  names the variable" -- \
	grep -q "environment variable AIARCHIVE_JOBS: bad value 'many' for --jobs" <<<"$LAST_OUTPUT"
dest_of "status ignores AIARCHIVE_LOOKBACK (run's)" sys AIARCHIVE_LOOKBACK=2 --

# A shared config: keys of run (source, its credentials, key, lookback)
# break neither verify nor status.
cat >"$AIARCHIVE_TEST_SYSCONF" <<CONF
source = file://$TEST_TMP/nowhere
source-sas-file = $TEST_TMP/no.sas
layout = continuous-export
key = $key
lookback = 2h
tag = shared
dest = file://$TEST_TMP/sys
CONF
dest_of "status with a shared config" sys --
check_exit 0 "verify with a shared config" -- "$AIARCHIVE" verify
check_exit 2 "  but --source on the command line still needs --from and --to" -- \
	"$AIARCHIVE" verify --source "file://$TEST_TMP/nowhere"
check "  and says so" -- grep -q -- "--source needs --from and --to" <<<"$LAST_OUTPUT"

tap_done
