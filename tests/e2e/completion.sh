#!/usr/bin/env bash
# completion.sh: `aiarchive completion bash|zsh|fish`. The bash script is
# loaded into a bash subshell, `complete -p` shows it registered, and
# COMP_WORDS simulations give the candidates for commands, options, option
# values and files; every option of every command's --help is offered;
# zsh and fish read their scripts without a syntax error (when installed).
. "$(dirname "$0")/lib.sh"

"$AIARCHIVE" completion bash >"$TEST_TMP/aiarchive.bash"
check_eq "completion bash exits 0" 0 "$?"
check "bash reads the script" -- bash -n "$TEST_TMP/aiarchive.bash"

# complete_at WORD...: the candidates bash offers for the last word.
cat >"$TEST_TMP/sim.sh" <<'EOF'
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
_aiarchive
printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd ' '
EOF
complete_at() {
	bash --norc --noprofile "$TEST_TMP/sim.sh" "$TEST_TMP/aiarchive.bash" "$@"
}
check "complete -p shows the function registered for aiarchive" -- bash -c '
	source "$1" && complete -p aiarchive | grep -q -- "-F _aiarchive aiarchive$"' \
	_ "$TEST_TMP/aiarchive.bash"
check_eq "aiarchive ru<TAB>" "run" "$(complete_at aiarchive ru)"
check_eq "aiarchive run --dr<TAB>" "--dry-run" "$(complete_at aiarchive run --dr)"
check_eq "aiarchive <TAB> lists every command" \
	"$("$AIARCHIVE" --help | awk '/^commands:/{f=1;next} /^$/{f=0} f{print $1}' | sort | paste -sd ' ')" \
	"$(complete_at aiarchive '')"
check_eq "aiarchive --js<TAB> (a global option)" "--json" "$(complete_at aiarchive --js)"
check_eq "aiarchive -c FILE ver<TAB> skips the config file" "verify version" \
	"$(complete_at aiarchive -c x.conf ver)"
check_eq "aiarchive status --js<TAB> (a global option after the command)" "--json" \
	"$(complete_at aiarchive status --js)"
check_eq "aiarchive status -c <TAB> offers files" "$TEST_TMP/aiarchive.bash" \
	"$(complete_at aiarchive status -c "$TEST_TMP/aiarchive.b")"
check_eq "aiarchive cat --format <TAB>" "csv jsonl" "$(complete_at aiarchive cat --format '')"
check_eq "aiarchive cat --sort <TAB>" "time" "$(complete_at aiarchive cat --sort '')"
check_eq "aiarchive run --layout c<TAB>" "continuous-export" \
	"$(complete_at aiarchive run --layout c)"
check_eq "aiarchive completion <TAB>" "bash fish zsh" "$(complete_at aiarchive completion '')"
mkdir -p "$TEST_TMP/files/keys.d" && : >"$TEST_TMP/files/key.sec"
check_eq "aiarchive run --key <TAB> offers files" "$TEST_TMP/files/key.sec $TEST_TMP/files/keys.d" \
	"$(complete_at aiarchive run --key "$TEST_TMP/files/ke")"
check_eq "aiarchive query --cache-dir <TAB> offers directories only" "$TEST_TMP/files/keys.d" \
	"$(complete_at aiarchive query --cache-dir "$TEST_TMP/files/ke")"
check_eq "aiarchive run --dest <TAB> offers nothing (a URL)" "" \
	"$(complete_at aiarchive run --dest '')"
check_eq "aiarchive query --fr<TAB> (query has no --jobs)" "--from" \
	"$(complete_at aiarchive query --fr)"
check_eq "aiarchive query --jo<TAB> offers nothing" "" "$(complete_at aiarchive query --jo)"

# Every option in each command's --help is a candidate for that command.
for c in $("$AIARCHIVE" --help | awk '/^commands:/{f=1;next} /^$/{f=0} f{print $1}'); do
	want=$("$AIARCHIVE" "$c" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' |
		grep -oE -- '--[a-z-]+' | sort | paste -sd ' ')
	got=$(complete_at aiarchive "$c" -- | tr ' ' '\n' | grep -- '^--' | sort | paste -sd ' ')
	check_eq "aiarchive $c --<TAB> offers every option of its --help" "$want" "$got"
done

if command -v zsh >/dev/null; then
	"$AIARCHIVE" completion zsh >"$TEST_TMP/_aiarchive"
	check "zsh reads its script" -- zsh -n "$TEST_TMP/_aiarchive"
	check "it is a #compdef file" -- grep -qx '#compdef aiarchive' "$TEST_TMP/_aiarchive"
else
	tap_result 0 "zsh reads its script # SKIP zsh not installed"
fi
if command -v fish >/dev/null; then
	"$AIARCHIVE" completion fish >"$TEST_TMP/aiarchive.fish"
	check "fish reads its script" -- fish --no-config -n "$TEST_TMP/aiarchive.fish"
	check_eq "fish completes aiarchive ru" "run" "$(fish --no-config -c "source $TEST_TMP/aiarchive.fish; complete -C 'aiarchive ru'" | cut -f1)"
	check_eq "fish completes aiarchive run --dr" "--dry-run" \
		"$(fish --no-config -c "source $TEST_TMP/aiarchive.fish; complete -C 'aiarchive run --dr'" | cut -f1)"
else
	tap_result 0 "fish reads its script # SKIP fish not installed"
fi

check_exit 2 "completion without a shell is a usage error" -- "$AIARCHIVE" completion
check_exit 2 "completion tcsh is a usage error" -- "$AIARCHIVE" completion tcsh
check_exit 2 "completion bash zsh is a usage error" -- "$AIARCHIVE" completion bash zsh
check_exit 0 "completion --help" -- "$AIARCHIVE" completion --help

tap_done
