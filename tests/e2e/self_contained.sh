#!/usr/bin/env bash
# self_contained.sh: the tree speaks only of itself. No file under src/
# cites a document the repository does not hold: every *.md it names is
# in the tree, and no "DESIGN §" (an outside document's sections) is
# left; nothing in the build or the tests reads outside the tree (no
# "../shared" in a Makefile, script or test); every script the benchmark
# driver calls is there. Reads the source tree only (it runs in make
# distcheck's unpacked tarball too). No Azurite needed.
#
# To see it fail, cite a document that is not there, e.g.
#   sed -i '1s|$| (see DESIGN §2)|' src/util/hex.h
# and run `make check TESTS=tests/e2e/self_contained.sh`; `git checkout`
# the file afterwards.
. "$(dirname "$0")/lib.sh"
cd "$top_srcdir" || bail_out "no source tree at $top_srcdir"
[ -d src ] || bail_out "no src/ in $top_srcdir"

check_eq "no file under src/ cites DESIGN" "" \
	"$(grep -rln 'DESIGN' src --include='*.[ch]' | sort | tr '\n' ' ')"
missing=
for doc in $(grep -rhoE '[A-Za-z0-9_./-]+\.md\b' src --include='*.[ch]' | sort -u); do
	name=${doc##*/}
	[ -n "$(find . -path ./node_modules -prune -o -name "$name" -print | head -1)" ] ||
		missing="$missing $doc"
done
check_eq "every document src/ names is in the tree" "" "$missing"
check_eq "no build file, script or test reads ../shared" "" \
	"$(grep -rlF '../shared' Makefile.am configure.ac ./*/local.mk scripts tests bench tools \
		.ci 2>/dev/null | grep -v '^tests/e2e/self_contained.sh$' | sort | tr '\n' ' ')"
# A tarball (make distcheck runs this in one) holds every script the
# benchmark driver calls.
absent=
for f in $(grep -oE '[a-z_]+\.(sh|mjs)' bench/run.sh | sort -u); do
	[ -f "bench/$f" ] || [ -f "tests/tools/$f" ] || [ -f "tests/e2e/$f" ] || absent="$absent $f"
done
check_eq "every script bench/run.sh calls is in the tree" "" "$absent"
tap_done
