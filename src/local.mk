# src/local.mk: the tool's sources build into libaiarchive.la, which the
# binary and every test link.
noinst_LTLIBRARIES += src/libaiarchive.la
src_libaiarchive_la_SOURCES = \
	src/archive.c src/archive.h \
	src/azurl.c src/azurl.h \
	src/base64.c src/base64.h \
	src/blobxml.c src/blobxml.h \
	src/bloom.c src/bloom.h \
	src/buf.c src/buf.h \
	src/catalog.c src/catalog.h \
	src/cmd.c src/cmd.h \
	src/cmd_cat.c \
	src/cmd_gc.c \
	src/cmd_keygen.c \
	src/cmd_query.c \
	src/cmd_run.c \
	src/cmd_status.c \
	src/cmd_verify.c \
	src/cmd_version.c \
	src/crypto.c src/crypto.h \
	src/gz.c src/gz.h \
	src/http.c src/http.h \
	src/jsonout.c src/jsonout.h \
	src/lock.c src/lock.h \
	src/log.c src/log.h \
	src/manifest.c src/manifest.h \
	src/minisign.c src/minisign.h \
	src/member.c src/member.h \
	src/options.c src/options.h \
	src/pack.c src/pack.h \
	src/parse.c src/parse.h \
	src/result.c src/result.h \
	src/retry.c src/retry.h \
	src/rowscan.c src/rowscan.h \
	src/run.c src/run.h \
	src/sharedkey.c src/sharedkey.h \
	src/source.c src/source.h \
	src/store.c src/store.h src/store_impl.h \
	src/store_azure.c \
	src/store_file.c \
	src/trust.c src/trust.h \
	src/verify.c src/verify.h \
	src/version.c src/version.h
src_libaiarchive_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(ZLIB_CFLAGS) \
	$(CRYPTO_CFLAGS) $(MSGPACK_CFLAGS) $(EXPAT_CFLAGS)
AI_LIBS = src/libaiarchive.la $(CURL_LIBS) -lpthread $(ZLIB_LIBS) $(CRYPTO_LIBS) \
	$(MSGPACK_LIBS) $(EXPAT_LIBS) -lm

bin_PROGRAMS += src/aiarchive
src_aiarchive_SOURCES = src/main.c
src_aiarchive_LDADD = $(AI_LIBS)
