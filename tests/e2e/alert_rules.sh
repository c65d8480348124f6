#!/usr/bin/env bash
# alert_rules.sh: etc/aiarchive.rules.yml is valid Prometheus alerting
# rules (promtool check rules), its unit tests pass (promtool test rules
# tests/data/aiarchive.rules.test.yml: a healthy archive fires nothing, an
# app whose export stops fires AiarchiveExportStalled while its recovery
# point keeps moving, a failing blob fires AiarchiveRecoveryPointBehind,
# a workspace export (layout="workspace-export") 13 to 15h behind does not
# while another layout's part as far behind does,
# runs that keep failing, a failed verify, quarantined names and a stale
# textfile fire theirs), and every metric the rules use is documented in
# the man page and the README (tests/e2e/rpo.sh checks that a real
# `status --prom` file has them).
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null 2>&1 || skip_all "promtool not installed (scripts/setup installs it)"

RULES=$top_srcdir/etc/aiarchive.rules.yml
check_exit 0 "promtool check rules" -- promtool check rules "$RULES"
check_exit 0 "promtool test rules" -- promtool test rules "$top_srcdir/tests/data/aiarchive.rules.test.yml"
diag "$LAST_OUTPUT"
for m in $(grep -o 'aiarchive_[a-z_]*' "$RULES" | sort -u); do
	check "$m: in the man page" -- grep -q "^\\.B $m\$" "$top_srcdir/doc/aiarchive.1.in"
	check "$m: in the README" -- grep -q "^| \`$m\` |" "$top_srcdir/README.md"
done
tap_done
