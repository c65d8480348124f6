#!/usr/bin/env bash
# package.sh: the Debian package. Builds it from a copy of the source tree
# with `dpkg-buildpackage -us -uc -b` (DEB_BUILD_OPTIONS=nocheck: the unit
# tests run in make check already), runs lintian on it (no error allowed),
# unpacks it with `dpkg -x` into a throw-away root and checks its file
# list: the binary, the man page, the three completions, the example
# config under /etc/aiarchive (a conffile), every systemd unit that `make
# install` installs, the sysusers.d entry for the aiarchive user with home
# /var/lib/aiarchive and its tmpfiles.d entry; then runs the unpacked
# binary's --version. Minutes on a busy machine: `make check-package`.
. "$(dirname "$0")/lib.sh"
for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null || skip_all "$t not installed (run scripts/setup)"
done
[ -f "$top_srcdir/debian/control" ] || skip_all "no debian/ in this tree"
version=$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" -S Version)

# A copy of the tree without any build in it.
src="$TEST_TMP/pkg/aiarchive-$version"
mkdir -p "$src"
tar -C "$top_srcdir" --exclude=./.git --exclude='./build*' --exclude=./node_modules \
	--exclude=./autom4te.cache --exclude=./config.status --exclude=./config.log \
	--exclude=./Makefile --exclude=./config.h --exclude=./libtool --exclude=./stamp-h1 \
	--exclude='./debian/.debhelper' --exclude=./debian/aiarchive --exclude=./debian/files \
	-cf - . | tar -C "$src" -xf -
check "dpkg-buildpackage -us -uc -b builds the package" -- bash -c '
	cd "$1" && DEB_BUILD_OPTIONS="nocheck parallel=2" nice dpkg-buildpackage -us -uc -b \
		>"$2/build.log" 2>&1 || { tail -30 "$2/build.log"; exit 1; }' _ "$src" "$TEST_TMP"
check "  out of the source tree (debian/build): the tree stays unconfigured" -- \
	test ! -e "$src/config.status" -a ! -e "$src/Makefile"
deb=$(ls "$TEST_TMP"/pkg/aiarchive_"$version"_*.deb 2>/dev/null | head -1)
check "it made aiarchive_${version}_ARCH.deb" -- test -f "$deb"
[ -f "$deb" ] || { tap_done; exit 1; }
lintian --fail-on error --tag-display-limit 0 "$deb" "$TEST_TMP"/pkg/*.changes \
	>"$TEST_TMP/lintian.txt" 2>&1
check_eq "lintian reports no error" 0 "$?"
check_eq "lintian's errors" "" "$(grep '^E:' "$TEST_TMP/lintian.txt")"
diag "$(cat "$TEST_TMP/lintian.txt")"

root="$TEST_TMP/root"
check "dpkg -x unpacks it into a throw-away root" -- dpkg -x "$deb" "$root"
for f in usr/bin/aiarchive usr/share/man/man1/aiarchive.1.gz \
	usr/share/bash-completion/completions/aiarchive usr/share/zsh/vendor-completions/_aiarchive \
	usr/share/fish/vendor_completions.d/aiarchive.fish etc/aiarchive/aiarchive.conf.example \
	usr/lib/sysusers.d/aiarchive.conf usr/lib/tmpfiles.d/aiarchive.conf \
	usr/share/doc/aiarchive/copyright; do
	check "the package holds /$f" -- test -f "$root/$f"
done
check "the example config is a conffile" -- bash -c '
	dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles | grep -qx /etc/aiarchive/aiarchive.conf.example' \
	_ "$deb"

# Every unit `make install` installs, wherever this Debian keeps units.
mi="$TEST_TMP/make-install"
make -s -C "$top_builddir" install DESTDIR="$mi" >/dev/null 2>&1
mapfile -t units < <(find "$mi" -path '*/systemd/system/*' -type f -printf '%f\n' | sort)
check "make install installs systemd units" -- test "${#units[@]}" -gt 0
for u in "${units[@]}"; do
	check "the package holds the unit $u" -- bash -c '
		find "$1" -path "*/systemd/system/$2" -type f | grep -q .' _ "$root" "$u"
done
check "its service runs the packaged binary" -- bash -c '
	grep -Eqx "ExecStart=/usr/bin/aiarchive( -c /etc/aiarchive/aiarchive.conf)? -q run" "$(find "$1" -name aiarchive.service | head -1)"' \
	_ "$root"
check "sysusers.d makes the aiarchive user with home /var/lib/aiarchive" -- \
	grep -Eq '^u aiarchive - "[^"]*" /var/lib/aiarchive( |$)' "$root/usr/lib/sysusers.d/aiarchive.conf"
check "tmpfiles.d makes that home, private to it" -- \
	grep -Eq '^d /var/lib/aiarchive 0700 aiarchive aiarchive' "$root/usr/lib/tmpfiles.d/aiarchive.conf"
check "the package runs systemd-sysusers when installed" -- bash -c '
	dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./postinst | grep -q systemd-sysusers' _ "$deb"
check "the timer is not enabled or started by the package" -- bash -c '
	! dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./postinst 2>/dev/null | grep -q "deb-systemd-invoke start"' \
	_ "$deb"
check_eq "the unpacked binary's --version" "aiarchive $version" \
	"$("$root/usr/bin/aiarchive" --version)"
check "the unpacked completion loads in bash" -- bash -c '
	source "$1" && complete -p aiarchive >/dev/null' _ "$root/usr/share/bash-completion/completions/aiarchive"
check "the binary links only libraries the package depends on" -- bash -c '
	deps=$(dpkg-deb -f "$1" Depends); for l in libcurl4 zlib1g libssl3 libmsgpackc2 libexpat1; do
		grep -q "$l" <<<"$deps" || { echo "missing $l in: $deps"; exit 1; }; done' _ "$deb"

tap_done
