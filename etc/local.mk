# etc/local.mk: the example config goes where the config lives, the example
# cron file with the documentation (in /etc/cron.d it would run at once),
# and the systemd units, with the configured bindir, where systemd finds
# them, inert until enabled.
confexampledir = $(sysconfdir)/aiarchive
dist_confexample_DATA = etc/aiarchive.conf.example
exampledir = $(docdir)/examples
dist_example_DATA = etc/aiarchive.cron.example

if HAVE_SYSTEMD_UNITDIR
systemdsystemunit_DATA = etc/aiarchive.service
dist_systemdsystemunit_DATA = etc/aiarchive.timer
else
noinst_DATA = etc/aiarchive.service
EXTRA_DIST += etc/aiarchive.timer
endif
EXTRA_DIST += etc/aiarchive.service.in
CLEANFILES += etc/aiarchive.service
etc/aiarchive.service: $(srcdir)/etc/aiarchive.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && $(edit_in) $(srcdir)/etc/aiarchive.service.in >$@.tmp && mv $@.tmp $@
# Prometheus alerting rules for status --prom, with the documentation.
dist_example_DATA += etc/aiarchive.rules.yml
