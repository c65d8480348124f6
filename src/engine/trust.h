/* trust.h: which key a signature in an archive must verify with (ARCHITECTURE.md §9.2)
 * and the check of one signed object against it; shared by run, verify,
 * query, cat, status and gc so that they trust exactly the same things. */
#ifndef AI_TRUST_H
#define AI_TRUST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "util/crypto.h"
#include "format/genesis.h"
#include "format/minisign.h"
#include "util/result.h"
#include "store/store.h"

struct ai_cmd;
struct ai_options;
struct ai_trust_key;

/* The genesis key and at most this many less one rotations. */
#define AI_TRUST_MAX_KEYS 64

/* The key settings and the published keys looked up so far. Used with one
 * archive at a time; checks may run in several threads. Caller-held.
 *
 * An archive with a genesis has a key chain (engine/identity.h): once it
 * is set (ai_trust_set_chain), the chain's keys from the anchor on are the
 * only ones trusted, whatever keys/ holds; --pubkey and --key-id then
 * choose the anchor. Without a chain (an archive made before `init`) the
 * rules of ARCHITECTURE.md §9.2 for published keys apply. */
struct ai_trust {
	int has_pubkey;
	struct ai_minisign_pubkey pubkey;        /* --pubkey: the only key trusted */
	char key_id[AI_MINISIGN_KEYID_HEXLEN];   /* --key-id, uppercase; "" when none */
	struct ai_trust_key *keys;               /* published keys, usable or not */
	size_t nkeys;
	int has_chain;                           /* chain and archive_id are set */
	char archive_id[AI_ARCHIVE_ID_HEXLEN];
	struct ai_minisign_pubkey chain[AI_TRUST_MAX_KEYS]; /* genesis key first */
	size_t nchain;
	size_t anchor;                           /* chain[anchor..nchain) are trusted */
	pthread_mutex_t mu;
};

/* Trusts the keys the archive publishes under keys/, with no pin. */
void ai_trust_init(struct ai_trust *t);
void ai_trust_release(struct ai_trust *t);

/* Trusts only k's public half (a writer checks what it reads with its own
 * key); pins its key id. */
void ai_trust_use_key(struct ai_trust *t, const struct ai_signing_key *k);

/* Sets the archive's key chain (keys[0] its genesis key, each next one
 * named by a rotation record signed by the one before it; at most
 * AI_TRUST_MAX_KEYS) and picks the anchor: the --pubkey key, else the
 * --key-id, else the genesis key. A pin that is not in the chain trusts
 * nothing (ai_trust_pin_outside): every check then fails as it would
 * for an archive without a chain, or as signed by a key not the archive's. */
ai_result ai_trust_set_chain(struct ai_trust *t, const char *archive_id,
                             const struct ai_minisign_pubkey *keys, size_t n) AI_MUST_CHECK;
/* 1 when t has a chain that its --pubkey or --key-id is not in; why (cap
 * bytes) then says so. */
int ai_trust_pin_outside(const struct ai_trust *t, char *why, size_t cap);
/* Appends a key to the chain (a rotation just written). AI_ERR_TOO_BIG
 * when the chain is full. */
ai_result ai_trust_chain_add(struct ai_trust *t, const struct ai_minisign_pubkey *k) AI_MUST_CHECK;
/* The chain's index of the key with id hex, or t->nchain when none. */
size_t ai_trust_chain_find(const struct ai_trust *t, const char *hex);

/* How a trust came to its keys: "pubkey" (--pubkey), "pinned" (--key-id),
 * "genesis" (the archive's chain, unpinned) or "published" (keys/, unpinned). */
const char *ai_trust_how(const struct ai_trust *t);
/* The key ids a trust relies on, into ids (at most max, each
 * AI_MINISIGN_KEYID_HEXLEN): the chain from the anchor on; else the
 * --pubkey's or the pinned id; else the published keys it has used so
 * far. Returns how many. */
size_t ai_trust_key_ids(struct ai_trust *t, char (*ids)[AI_MINISIGN_KEYID_HEXLEN],
                        size_t max);
/* One line on what t trusts, for the readers to print (cap bytes):
 * "archive <id>: trusting key <ID> (pinned), rotated to <ID2>", "trusting
 * key <ID> (published key, not pinned)", ... */
void ai_trust_describe(struct ai_trust *t, char *out, size_t cap);

/* Parses a key id: 16 hex digits, stored uppercase as minisign prints it.
 * AI_ERR_USAGE otherwise. */
ai_result ai_trust_parse_key_id(const char *s, char out[AI_MINISIGN_KEYID_HEXLEN]) AI_MUST_CHECK;

/* Takes --key-id and --pubkey from o: AI_ERR_USAGE (reported against cmd)
 * for a malformed key id, AI_ERR_CONFIG (logged) for an unusable key file. */
ai_result ai_trust_from_options(struct ai_trust *t, const struct ai_cmd *cmd,
                                const struct ai_options *o) AI_MUST_CHECK;

/* 1 when both --pubkey and --key-id are given and disagree; why (cap
 * bytes) then says how, about the --pubkey file. */
int ai_trust_pubkey_conflict(const struct ai_trust *t, char *why, size_t cap);

/* A signed object. The trusted comment must read
 * "aiarchive <kind> <name> sha256=<hex>[ run=<run_id>] ...". */
struct ai_trust_object {
	const char *kind;             /* "segment", "state", "pack", "checkpoint" */
	const char *name;             /* its name in the archive */
	const void *data;             /* its bytes, or NULL with blake2b */
	size_t len;
	const uint8_t *blake2b;       /* BLAKE2b-512 of the bytes, when data is NULL */
	const uint8_t *sha256;        /* SHA-256 of the bytes; NULL: computed from data */
	const char *run_id;           /* the run the comment must name, or NULL */
};

enum ai_trust_fault {
	AI_TRUST_OK = 0,
	AI_TRUST_NO_SIGNATURE,        /* the .minisig is missing or too large */
	AI_TRUST_MALFORMED,           /* the .minisig is not a minisign signature */
	AI_TRUST_NOT_PINNED,          /* signed by another key than the pinned one (or,
	                               * with a chain, by one replaced before the anchor) */
	AI_TRUST_FOREIGN_KEY,         /* signed by a key that is not in the archive's chain */
	AI_TRUST_NO_KEY,              /* the signer's key is not published, or unusable */
	AI_TRUST_BAD_SIGNATURE,       /* does not verify with the trusted key */
	AI_TRUST_OTHER_OBJECT,        /* the trusted comment is about something else */
};

/* What a check found. why reads after "<kind> <name>: " (or, for
 * AI_TRUST_NO_KEY, after "key <key_name>: "). */
struct ai_trust_verdict {
	enum ai_trust_fault fault;
	int key_first;                           /* NO_KEY: first time this key failed */
	char signer[AI_MINISIGN_KEYID_HEXLEN];   /* the signature's key id, "" if unknown */
	char key[AI_MINISIGN_KEYID_HEXLEN];      /* the key checked with, "" if none */
	char key_name[64];                       /* NO_KEY: keys/<signer>.pub */
	int carried;                             /* trusted by the signature the object carries
	                                          * (signed.h); why then says what is wrong
	                                          * with its .minisig file */
	char why[512];
};

/* Checks sig (the text of obj's .minisig): the signer's key id against
 * the pin, the key (the chain's key of that id; else --pubkey, else the
 * published one), the signature and the trusted comment. AI_OK when obj is trusted, AI_ERR_VERIFY when not
 * (v says why); other results are failures to read a published key, with
 * the store's error set. */
ai_result ai_trust_check(struct ai_trust *t, struct ai_store *dest,
                         const struct ai_trust_object *obj, const char *sig, size_t siglen,
                         struct ai_trust_verdict *v) AI_MUST_CHECK;

/* The same, reading "<name>.minisig" from dest first (one small read). A
 * missing signature is AI_ERR_VERIFY with AI_TRUST_NO_SIGNATURE. When the
 * file is missing (or, for the state and a checkpoint, fails) and
 * obj->data is given, the signature the object carries in its metadata is
 * checked instead (one more request): AI_OK with v->carried set when that one holds. */
ai_result ai_trust_check_stored(struct ai_trust *t, struct ai_store *dest,
                                const struct ai_trust_object *obj,
                                struct ai_trust_verdict *v) AI_MUST_CHECK;

/* The same for an object kept in another store, where (a witness): its
 * signature is read from there, the published keys from dest. */
ai_result ai_trust_check_stored_in(struct ai_trust *t, struct ai_store *dest,
                                   struct ai_store *where, const struct ai_trust_object *obj,
                                   struct ai_trust_verdict *v) AI_MUST_CHECK;

#endif
