# src/local.mk: the tool's sources build into libaiarchive.la, which the
# binary and every test link.
noinst_LTLIBRARIES += src/libaiarchive.la
src_libaiarchive_la_SOURCES = \
	src/base64.c src/base64.h \
	src/buf.c src/buf.h \
	src/cmd.c src/cmd.h \
	src/cmd_version.c \
	src/crypto.c src/crypto.h \
	src/gz.c src/gz.h \
	src/log.c src/log.h \
	src/parse.c src/parse.h \
	src/result.c src/result.h \
	src/version.c src/version.h
src_libaiarchive_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(ZLIB_CFLAGS) \
	$(CRYPTO_CFLAGS) $(MSGPACK_CFLAGS) $(EXPAT_CFLAGS)
AI_LIBS = src/libaiarchive.la $(CURL_LIBS) $(ZLIB_LIBS) $(CRYPTO_LIBS) \
	$(MSGPACK_LIBS) $(EXPAT_LIBS) -lm

bin_PROGRAMS += src/aiarchive
src_aiarchive_SOURCES = src/main.c
src_aiarchive_LDADD = $(AI_LIBS)
