#!/usr/bin/env bash
# help.sh: the option documentation agrees with the option table. For
# every command (and for the global options) it compares what
# `aiarchive CMD --help` prints, which the table in src/cmd/options.c
# generates, with
#   - the man page doc/aiarchive.1: the command's SYNOPSIS line must be
#     the --help usage line, and name only options of the command, with
#     their value names; the options of the command's ".SS CMD" section
#     under COMMANDS (each tag line after a ".TP" or ".TQ", such as
#     `.BR \-k ", " \-\-key " \fIFILE\fR"`, one option or several joined
#     by ", ") must be those of --help, with the same short names and
#     value names; GLOBAL OPTIONS must be the "global options:" of
#     `aiarchive --help`;
#   - etc/aiarchive.conf.example: the keys under the "# read by: CMD..."
#     lines naming CMD (commented out or not) must be the options that
#     CMD's --help says its config may set.
# Any difference fails, naming what is on one side only. Names, short
# names, value names and config keys are compared, not the prose. --help
# is in every command's --help but documented once, under GLOBAL
# OPTIONS. No Azurite needed.
#
# To see it fail, change one of them alone, for example
#   sed -i '/^\.BI \\-\\-grace /,+1d' doc/aiarchive.1.in  # run's --grace
#   sed -i 's/^#older-than = /#older-then = /' etc/aiarchive.conf.example
#   sed -i 's/"N", RUN | CAT | VERIFY/"N", RUN | CAT/' src/cmd/options.c
# and run `make check TESTS=tests/e2e/help.sh` (after `make` for the
# last one); `git checkout` the file afterwards.
. "$(dirname "$0")/lib.sh"

MAN=$top_builddir/doc/aiarchive.1
EXAMPLE=$top_srcdir/etc/aiarchive.conf.example

# Parses a man page (mode=man), a --help text (mode=help, the section
# under the line hdr) or a config example (mode=example) into lines
#   opt SECTION "--long VALUE -s"   an option (VALUE and -s when it has them)
#   syn - "aiarchive CMD ..."      a synopsis, troff removed
#   sec - NAME                     a .SS section under COMMANDS
#   nocfg - NAME                   an option the config may not set (--help)
#   key CMD NAME                   a key of the example that CMD reads
#   bad SECTION TEXT               something that does not parse
# separated by tabs.
PARSE='
function deroff(s,    m, rest, out, tok, i, alt, q) {
	if (s ~ /^\.[A-Z]+( |$)/) {
		m = s; sub(/ .*/, "", m)
		rest = substr(s, length(m) + 2)
		alt = length(m) == 3   # .BI, .BR, ...: the words join without spaces
		out = ""
		while (1) {
			sub(/^ +/, "", rest)
			if (rest == "")
				break
			if (substr(rest, 1, 1) == "\"") {
				rest = substr(rest, 2)
				q = index(rest, "\"")
				if (!q)
					q = length(rest) + 1
				tok = substr(rest, 1, q - 1)
				rest = substr(rest, q + 1)
			} else {
				i = index(rest, " ")
				if (!i)
					i = length(rest) + 1
				tok = substr(rest, 1, i - 1)
				rest = substr(rest, i + 1)
			}
			out = out ((out != "" && !alt) ? " " : "") tok
		}
		s = out
	}
	gsub(/\\f[BIRP]/, "", s)
	gsub(/\\-/, "-", s)
	gsub(/\\&/, "", s)
	gsub(/\\%/, "", s)
	return s
}
# "-k, --key FILE, --key-id ID" -> one opt line per long option
function opts(sec, text,    n, part, i, short) {
	n = split(text, part, /, /)
	short = ""
	for (i = 1; i <= n; i++) {
		if (part[i] ~ /^-[A-Za-z0-9]$/ && short == "") {
			short = part[i]
		} else if (part[i] ~ /^--[a-z][a-z0-9-]*( [^ ]+)?$/) {
			print "opt\t" sec "\t" part[i] (short != "" ? " " short : "")
			short = ""
		} else {
			print "bad\t" sec "\t" text
			return
		}
	}
	if (short != "")
		print "bad\t" sec "\t" text
}
function flush() {
	if (syn != "")
		print "syn\t-\t" syn
	syn = ""
}
mode == "man" && /^\.SH / {
	flush()
	sh = substr($0, 5); gsub(/"/, "", sh)
	ss = ""; tag = 0
	next
}
mode == "man" && /^\.SS / {
	ss = substr($0, 5)
	if (sh == "COMMANDS")
		print "sec\t-\t" ss
	tag = 0
	next
}
mode == "man" && /^\.T[PQ]$/ { tag = 1; next }
mode == "man" && tag {
	tag = 0
	if (sh == "GLOBAL OPTIONS")
		opts("global", deroff($0))
	else if (sh == "COMMANDS")
		opts(ss == "" ? "-" : ss, deroff($0))
	next
}
mode == "man" && sh == "SYNOPSIS" {
	if ($0 ~ /^\.(br|PP)$/)
		flush()
	else if ($0 !~ /^\.(nh|hy)$/)
		syn = syn (syn == "" ? "" : " ") deroff($0)
	next
}
mode == "help" && $0 == hdr { inside = 1; next }
mode == "help" && inside && $0 == "" { inside = 0; next }
mode == "help" && inside {
	s = $0; sub(/^ +/, "", s)
	i = index(s, "  ")   # the generated column has two spaces or more
	opts("help", i ? substr(s, 1, i - 1) : s)
	next
}
mode == "help" && /^usage: / { print "syn\t-\t" substr($0, 8); next }
mode == "help" && /^In the config file / {
	s = $0
	if (sub(/.* but /, "", s)) {
		sub(/\.$/, "", s); gsub(/ and /, ", ", s)
		n = split(s, part, /, /)
		for (i = 1; i <= n; i++)
			print "nocfg\t-\t" part[i]
	}
	next
}
mode == "example" && /^# read by:/ {
	n = split(substr($0, 11), readers, / +/)
	next
}
mode == "example" && /^#?[a-z][a-z0-9-]* *=/ {
	k = $0; sub(/^#/, "", k); sub(/ *=.*/, "", k)
	if (seen[k]++ || !n)
		print "bad\t-\t" k
	for (i = 1; i <= n; i++)
		if (readers[i] != "")
			print "key\t" readers[i] "\t" k
}
END { flush() }
'
parse() { awk -v mode="$1" -v hdr="${2:-}" "$PARSE"; }
# field TYPE SECTION: the third field of the lines of that type and section, sorted
field() { awk -F'\t' -v t="$1" -v s="$2" '$1 == t && $2 == s { print $3 }' | LC_ALL=C sort; }

# check_same DESC LABEL_A A LABEL_B B: A and B (lists, one item a line) agree.
check_same() {
	local d
	if d=$(diff <(printf '%s\n' "$3") <(printf '%s\n' "$5")); then
		tap_result 0 "$1"
	else
		tap_result 1 "$1"
		printf '%s\n' "$d" | sed -n "s/^< /  only in $2: /p; s/^> /  only in $4: /p" |
			sed 's/^/# /'
	fi
}

man=$(parse man <"$MAN")
example=$(parse example <"$EXAMPLE")
check_eq "the man page's option tags all parse" "" "$(awk -F'\t' '$1 == "bad"' <<<"$man")"
check_eq "each key of the example is listed once, under a '# read by:' line" "" \
	"$(awk -F'\t' '$1 == "bad" { print $3 }' <<<"$example")"

# The global options: `aiarchive --help` against SYNOPSIS and GLOBAL OPTIONS.
global=$("$AIARCHIVE" --help | parse help "global options (before or after the command):")
check_eq "global: the usage line is the man page's first synopsis" \
	"$(field syn - <<<"$global" | tr -d '<>')" "$(field syn - <<<"$man" | grep '^aiarchive \[')"
check_same "global: --help lists the options of GLOBAL OPTIONS" \
	"aiarchive --help" "$(field opt help <<<"$global")" \
	"GLOBAL OPTIONS" "$(field opt global <<<"$man")"

commands=$("$AIARCHIVE" --help | awk '/^commands:/ { f = 1; next } /^$/ { f = 0 } f { print $1 }')
check_same "the man page has a COMMANDS section for each command, no other" \
	"aiarchive --help" "$(LC_ALL=C sort <<<"$commands")" "the man page" "$(field sec - <<<"$man")"

readers=$(awk -F'\t' '$1 == "key" { print $2 }' <<<"$example" | LC_ALL=C sort -u)
check_eq "the example names only commands in its '# read by:' lines" "" \
	"$(LC_ALL=C comm -13 <(LC_ALL=C sort <<<"$commands") <(printf '%s\n' "$readers") | grep .)"

for c in $commands; do
	help=$("$AIARCHIVE" "$c" --help | parse help "options:")
	# --help is in every list; the man page says so once, under GLOBAL OPTIONS.
	opts=$(field opt help <<<"$help" | grep -vx -e '--help -h')
	check_eq "$c: --help lists no option or short name twice" "" \
		"$(field opt help <<<"$help" | awk '{ print $1 } $NF ~ /^-.$/ { print $NF }' |
			LC_ALL=C sort | uniq -d)"
	check_eq "$c: the --help usage line is the man page's synopsis" \
		"$(field syn - <<<"$help")" \
		"$(field syn - <<<"$man" | grep -e "^aiarchive $c\$" -e "^aiarchive $c ")"
	check_same "$c: --help lists the options of the man page's section" \
		"$c --help" "$opts" "the man page's $c section" "$(field opt "$c" <<<"$man")"
	# Each --opt of the synopsis is an option of c, with its value's name.
	bad=$(field syn - <<<"$help" | tr -d '[]' | OPTS=$opts awk '
		BEGIN {
			n = split(ENVIRON["OPTS"], l, "\n")
			for (i = 1; i <= n; i++) {
				m = split(l[i], w, " ")
				val[w[1]] = (m == 3 || (m == 2 && w[2] !~ /^-/)) ? w[2] : ""
				if (w[m] ~ /^-[A-Za-z0-9]$/)
					long[w[m]] = w[1]
			}
		}
		{
			for (i = 3; i <= NF; i++) {
				if ($i !~ /^-./)
					continue
				o = ($i in long) ? long[$i] : $i
				if (!(o in val))
					print $i " is not an option"
				else if (val[o] != "" && $(i + 1) != val[o])
					print $i " takes " val[o] ", not " $(i + 1)
			}
		}')
	check_eq "$c: its synopsis names only its options, with their values" "" "$bad"
	keys=$(sed 's/ .*//; s/^--//' <<<"$opts" | grep -vxF -f <(field nocfg - <<<"$help" | sed 's/^--//') |
		LC_ALL=C sort)
	check_same "$c: the config keys of --help are the example's for $c" \
		"$c --help" "$keys" "the example" "$(field key "$c" <<<"$example")"
done
tap_done
