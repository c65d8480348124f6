# doc/local.mk: the man page, which takes its version from AC_INIT, and the
# documents installed next to the README.
man_MANS = doc/aiarchive.1
EXTRA_DIST += doc/aiarchive.1.in
CLEANFILES += doc/aiarchive.1
doc/aiarchive.1: $(srcdir)/doc/aiarchive.1.in Makefile
	$(AM_V_GEN)$(MKDIR_P) doc && $(edit_in) $(srcdir)/doc/aiarchive.1.in >$@.tmp && mv $@.tmp $@

dist_doc_DATA = README.md doc/ARCHITECTURE.md doc/analysts.md doc/verify-status.md
