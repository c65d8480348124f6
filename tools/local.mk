# tools/local.mk: programs that help test and measure aiarchive.
