# etc/local.mk: the example config goes where the config lives, the example
# cron file with the documentation (in /etc/cron.d it would run at once),
# and the systemd units, where systemd finds them, inert until enabled.
# The cron file and the services name the binary by the configured bindir.
confexampledir = $(sysconfdir)/aiarchive
dist_confexample_DATA = etc/aiarchive.conf.example
exampledir = $(docdir)/examples
example_DATA = etc/aiarchive.cron.example etc/aiarchive-shards.cron.example
dist_example_DATA = etc/aiarchive-cronjob.yaml
# several archivers at once: an Indexed CronJob (one shard a pod)
kubernetesexampledir = $(exampledir)/kubernetes
dist_kubernetesexample_DATA = etc/kubernetes/cronjob.yaml

AI_SERVICES = etc/aiarchive.service etc/aiarchive-verify.service etc/aiarchive-gc.service
AI_TIMERS = etc/aiarchive.timer etc/aiarchive-verify.timer etc/aiarchive-gc.timer
if HAVE_SYSTEMD_UNITDIR
systemdsystemunit_DATA = $(AI_SERVICES)
dist_systemdsystemunit_DATA = $(AI_TIMERS)
else
noinst_DATA = $(AI_SERVICES)
EXTRA_DIST += $(AI_TIMERS)
endif
EXTRA_DIST += etc/aiarchive.cron.example.in etc/aiarchive-shards.cron.example.in $(AI_SERVICES:=.in)
CLEANFILES += etc/aiarchive.cron.example etc/aiarchive-shards.cron.example $(AI_SERVICES)
etc/aiarchive.cron.example etc/aiarchive-shards.cron.example etc/aiarchive.service etc/aiarchive-verify.service etc/aiarchive-gc.service: Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && $(edit_in) $(srcdir)/$@.in >$@.tmp && mv $@.tmp $@
etc/aiarchive.cron.example: $(srcdir)/etc/aiarchive.cron.example.in
etc/aiarchive-shards.cron.example: $(srcdir)/etc/aiarchive-shards.cron.example.in
etc/aiarchive.service: $(srcdir)/etc/aiarchive.service.in
etc/aiarchive-verify.service: $(srcdir)/etc/aiarchive-verify.service.in
etc/aiarchive-gc.service: $(srcdir)/etc/aiarchive-gc.service.in
# Prometheus alerting rules for status --prom, with the documentation.
dist_example_DATA += etc/aiarchive.rules.yml
