# tools/local.mk: programs that help test and measure aiarchive.

# aigen: writes realistic Application Insights export trees.
noinst_PROGRAMS += tools/aigen
tools_aigen_SOURCES = tools/aigen.c tools/aigen.h tools/aigen_json.c tools/aigen_rows.c \
	tools/aigen_ws.c
tools_aigen_LDADD = $(AI_LIBS)

# manifest-dump: segment files as TSV, for tests that check archives with stock tools.
noinst_PROGRAMS += tools/manifest-dump
tools_manifest_dump_SOURCES = tools/manifest-dump.c
tools_manifest_dump_LDADD = $(AI_LIBS)

# storebench: drives the storage client for bench/store.sh.
noinst_PROGRAMS += tools/storebench
tools_storebench_SOURCES = tools/storebench.c
tools_storebench_LDADD = $(AI_LIBS)

# mansynth: a year-long archive made from one real day, for bench/manifest.sh.
noinst_PROGRAMS += tools/mansynth
tools_mansynth_SOURCES = tools/mansynth.c
tools_mansynth_LDADD = $(AI_LIBS)

# segforge: re-encodes a segment or the state with edits (no signature), for
# the attack tests tests/e2e/proof_*.sh.
noinst_PROGRAMS += tools/segforge
tools_segforge_SOURCES = tools/segforge.c
tools_segforge_LDADD = $(AI_LIBS)
