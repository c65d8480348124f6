# tools/local.mk: programs that help test and measure aiarchive.

# aigen: writes realistic Application Insights export trees.
noinst_PROGRAMS += tools/aigen
tools_aigen_SOURCES = tools/aigen.c tools/aigen.h tools/aigen_json.c tools/aigen_rows.c
tools_aigen_LDADD = $(AI_LIBS)
