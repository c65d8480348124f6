# src/local.mk: the tool's sources build into libaiarchive.la, which the
# binary and every test link. Folders, from the bottom layer up:
#   util/: result, buffer, array growth, logging, parsers, base64, hex, clock, crypto (the
#     only OpenSSL user)
#   format/: gzip members, minisign files, the manifest (segments, the state, segment
#     indexes, the genesis and key rotations, and their msgpack codec), witness
#     checkpoints, Bloom filters, the row scanner
#   store/: the storage interface and its two backends (Azure Blob over HTTP, a local
#     directory in store/file/)
#   engine/: what the commands do: run, source, catalog, cat, fetch, verify, gc, archive,
#     identity (genesis and key chain), lock, status, replication, witness
#   cmd/: the command table, the option table and one file per command
noinst_LTLIBRARIES += src/libaiarchive.la
src_libaiarchive_la_SOURCES =
src_libaiarchive_la_SOURCES += \
	src/util/alloc.c src/util/alloc.h \
	src/util/base64.c src/util/base64.h \
	src/util/buf.c src/util/buf.h \
	src/util/clock.c src/util/clock.h \
	src/util/crypto.c src/util/crypto.h \
	src/util/escape.c src/util/escape.h \
	src/util/hex.c src/util/hex.h \
	src/util/log.c src/util/log.h \
	src/util/parse.c src/util/parse.h \
	src/util/progress.c src/util/progress.h \
	src/util/regfile.c src/util/regfile.h \
	src/util/result.c src/util/result.h \
	src/util/strvec.c src/util/strvec.h \
	src/util/table.c src/util/table.h \
	src/util/version.c src/util/version.h
src_libaiarchive_la_SOURCES += \
	src/format/bloom.c src/format/bloom.h \
	src/format/checkpoint.c src/format/checkpoint.h \
	src/format/genesis.h \
	src/format/gz.c src/format/gz.h \
	src/format/manifest.c src/format/manifest.h \
	src/format/manifest_codec.c src/format/manifest_codec.h \
	src/format/manifest_int.h \
	src/format/minisign.c src/format/minisign.h \
	src/format/rowscan.c src/format/rowscan.h \
	src/format/segindex.c src/format/segindex.h \
	src/format/state.c src/format/state.h
src_libaiarchive_la_SOURCES += \
	src/store/auth/auth_int.h \
	src/store/auth/cli.c \
	src/store/auth/entra.c \
	src/store/auth/managed.c \
	src/store/auth/response.c \
	src/store/auth/token.c src/store/auth/token.h \
	src/store/azure.c \
	src/store/azurl.c src/store/azurl.h \
	src/store/backend.h \
	src/store/blobxml.c src/store/blobxml.h \
	src/store/file/blocks.c \
	src/store/file/cleanup.c \
	src/store/file/common.c \
	src/store/file/file.h \
	src/store/file/lease.c \
	src/store/file/list.c \
	src/store/file/object.c \
	src/store/file/open.c \
	src/store/file/props.c \
	src/store/http.c src/store/http.h \
	src/store/retry.c src/store/retry.h \
	src/store/sas.c src/store/sas.h \
	src/store/sharedkey.c src/store/sharedkey.h \
	src/store/store.c src/store/store.h
src_libaiarchive_la_SOURCES += \
	src/engine/archive.c src/engine/archive.h \
	src/engine/cat.c src/engine/cat.h \
	src/engine/catalog.c src/engine/catalog.h \
	src/engine/dedupe.c src/engine/dedupe.h \
	src/engine/fetch.c src/engine/fetch.h \
	src/engine/gc.c src/engine/gc.h \
	src/engine/identity.c src/engine/identity.h \
	src/engine/lock.c src/engine/lock.h \
	src/engine/member.c src/engine/member.h \
	src/engine/outcome.c src/engine/outcome.h \
	src/engine/pack.c src/engine/pack.h \
	src/engine/preflight.c src/engine/preflight.h \
	src/engine/ranges.c src/engine/ranges.h \
	src/engine/replication.c src/engine/replication.h \
	src/engine/run.c src/engine/run.h \
	src/engine/shard.c src/engine/shard.h \
	src/engine/signed.c src/engine/signed.h \
	src/engine/source.c src/engine/source.h \
	src/engine/status.c src/engine/status.h \
	src/engine/trust.c src/engine/trust.h \
	src/engine/verify.c src/engine/verify.h \
	src/engine/witness.c src/engine/witness.h
src_libaiarchive_la_SOURCES += \
	src/cmd/cmd.c src/cmd/cmd.h \
	src/cmd/cmd_cat.c \
	src/cmd/cmd_completion.c \
	src/cmd/cmd_gc.c \
	src/cmd/cmd_init.c \
	src/cmd/cmd_keygen.c \
	src/cmd/cmd_query.c \
	src/cmd/cmd_run.c \
	src/cmd/cmd_status.c \
	src/cmd/cmd_verify.c \
	src/cmd/cmd_version.c \
	src/cmd/credential.c src/cmd/credential.h \
	src/cmd/jsonout.c src/cmd/jsonout.h \
	src/cmd/options.c src/cmd/options.h
src_libaiarchive_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(ZLIB_CFLAGS) \
	$(CRYPTO_CFLAGS) $(MSGPACK_CFLAGS) $(EXPAT_CFLAGS)
AI_LIBS = src/libaiarchive.la $(CURL_LIBS) -lpthread $(ZLIB_LIBS) $(CRYPTO_LIBS) \
	$(MSGPACK_LIBS) $(EXPAT_LIBS) -lm

bin_PROGRAMS += src/aiarchive
src_aiarchive_SOURCES = src/cmd/main.c
src_aiarchive_LDADD = $(AI_LIBS)

# Shell completions, made at build time by the binary from its command and
# option tables, installed where bash-completion, zsh and fish look.
bashcompletiondir = $(datadir)/bash-completion/completions
bashcompletion_DATA = completions/aiarchive
zshcompletiondir = $(datadir)/zsh/vendor-completions
zshcompletion_DATA = completions/_aiarchive
fishcompletiondir = $(datadir)/fish/vendor_completions.d
fishcompletion_DATA = completions/aiarchive.fish
CLEANFILES += $(bashcompletion_DATA) $(zshcompletion_DATA) $(fishcompletion_DATA)
completions/aiarchive: src/aiarchive$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) completions && src/aiarchive completion bash >$@.tmp && mv $@.tmp $@
completions/_aiarchive: src/aiarchive$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) completions && src/aiarchive completion zsh >$@.tmp && mv $@.tmp $@
completions/aiarchive.fish: src/aiarchive$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) completions && src/aiarchive completion fish >$@.tmp && mv $@.tmp $@
