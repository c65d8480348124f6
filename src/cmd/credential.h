/* credential.h: the one credential resolver (ARCHITECTURE.md §3). For each
 * side (source, dest, witness) it picks one credential by where it was
 * given, not by its kind: the command line beats the environment, which
 * beats the config file; within one of these places a SAS beats an
 * account key, which beats a connection string. The chosen credential
 * keeps its kind and origin, so every message about it (a refused SAS, a
 * 401/403 from the service, a dry run's preflight) can name both. A new
 * way to authenticate is one more kind in the table of credential.c. */
#ifndef AI_CREDENTIAL_H
#define AI_CREDENTIAL_H

#include "cmd/options.h"
#include "store/sas.h"
#include "util/result.h"

enum ai_cred_kind {
	AI_CRED_NONE = 0,          /* anonymous: public containers only */
	AI_CRED_SAS,               /* --X-sas-file, AIARCHIVE_X_SAS, or the URL's query */
	AI_CRED_ACCOUNT_KEY,       /* --X-key-file, AIARCHIVE_X_KEY */
	AI_CRED_CONNECTION_STRING, /* AIARCHIVE_X_CONNECTION_STRING */
};

#define AI_CRED_ORIGIN_MAX 768
#define AI_CRED_DESCRIBED_MAX 1024

struct ai_credential {
	enum ai_cred_kind kind;
	char origin[AI_CRED_ORIGIN_MAX];   /* "--source-sas-file '/etc/a.sas'", "AIARCHIVE_DEST_KEY",
	                                    * "config file '/etc/aiarchive.conf' line 4
	                                    * (dest-sas-file '/etc/d.sas')", "" for none */
	char *secret;                      /* the SAS, key or connection string; NULL for none */
	int has_sas;                       /* the SAS it authenticates with, parsed */
	struct ai_sas sas;
	char described[AI_CRED_DESCRIBED_MAX]; /* "SAS from AIARCHIVE_SOURCE_SAS (sp=rl,
	                                    * se=2026-12-02T06:00:00Z)", for messages */
};

/* Permission letters each command needs on a side (Azure's letters; w
 * covers create, lease and metadata). */
#define AI_NEED_READ "rl"    /* the source; query, cat, verify, status on the archive */
#define AI_NEED_WRITE "rwl"  /* init and run on the archive */
#define AI_NEED_DELETE "rwld" /* gc on the archive */
#define AI_NEED_WITNESS "rw" /* run and gc on a witness (one checkpoint, read and replaced) */
#define AI_NEED_WITNESS_READ "r" /* verify on a witness */

const char *ai_cred_kind_name(enum ai_cred_kind k);

/* Resolves side's credential into c (released with ai_credential_release,
 * which wipes the secret), reading a secret file when one wins and
 * registering the secret for redaction. A SAS (also one in a connection
 * string) is parsed: a malformed one is AI_ERR_CONFIG. Failures are
 * logged in one line naming the side and the origin. */
ai_result ai_credential_resolve(const struct ai_options *o, const char *side,
                                struct ai_credential *c) AI_MUST_CHECK;
void ai_credential_release(struct ai_credential *c);

/* Checks c's SAS, if any, against what the command needs (need, see
 * AI_NEED_*; account_level when the location names an account) at now:
 * AI_ERR_AUTH, logged in one line naming the side, the credential and
 * the expiry or the missing letters, when the service would refuse it. */
ai_result ai_credential_check(const struct ai_credential *c, const char *side, const char *need,
                              int account_level, ai_time now) AI_MUST_CHECK;

#endif
