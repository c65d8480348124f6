/* identity.h: an archive's identity (ARCHITECTURE.md §8.6, §9.2): creating
 * it (`init`: a random archive id and the signed genesis), reading its key
 * chain (the genesis key, then each rotation record, checked with the key
 * before it) into a trust, and rotating its key. */
#ifndef AI_ENGINE_IDENTITY_H
#define AI_ENGINE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>
#include "engine/trust.h"
#include "format/genesis.h"
#include "format/minisign.h"
#include "store/store.h"
#include "util/parse.h"
#include "util/result.h"

/* What the genesis and the rotation records say, once checked. */
struct ai_identity {
	char archive_id[AI_ARCHIVE_ID_HEXLEN];
	ai_time created;
	struct ai_minisign_pubkey keys[AI_TRUST_MAX_KEYS]; /* keys[0]: the genesis key */
	size_t nkeys;                  /* 0 when there is no genesis */
	/* AI_ERR_VERIFY: the record that does not check out, and why */
	char bad_kind[16];             /* "genesis" or "key-rotation" */
	char bad_name[64];
	char bad_why[512];
};

/* Called for each record trusted only through the signature it carries
 * (its .minisig is missing or damaged, why says how). */
typedef void (*ai_identity_note)(void *ctx, const char *kind, const char *name,
                                 const char *why);

/* Reads manifest/genesis, which its own key must sign, and every record
 * under manifest/keys/: numbered 1, 2, ... without a gap, each for this
 * archive, each replacing the key before it and signed by it. AI_OK with
 * id filled; AI_ERR_NOT_FOUND when there is no genesis (an archive made
 * before `init`, or none at all; id->nkeys 0); AI_ERR_VERIFY when a record
 * does not check out (id->bad_* and ai_store_why say which and why), with
 * id holding the chain as far as it checked out; any other result is a
 * storage failure. note (may be NULL) hears of carried signatures. */
ai_result ai_identity_read(struct ai_store *dest, struct ai_identity *id, ai_identity_note note,
                           void *ctx) AI_MUST_CHECK;

/* ai_identity_read, then the chain goes into t (ai_trust_set_chain: see
 * ai_trust_pin_outside for a --pubkey or --key-id not in it). With heal, a
 * missing .minisig of a record is restored from the signature it carries.
 * AI_ERR_NOT_FOUND (no genesis) leaves t as it was: an older archive. */
ai_result ai_archive_keys(struct ai_store *dest, struct ai_trust *t, int heal) AI_MUST_CHECK;

/* What `init` did. */
struct ai_init_report {
	char archive_id[AI_ARCHIVE_ID_HEXLEN];
	char key_id[AI_MINISIGN_KEYID_HEXLEN];
	int adopted;                   /* the destination held an archive made before init */
	uint64_t segments;             /* the segments it held (all checked with key) */
};

/* Makes dest an archive signed by key: creates its container if need be,
 * publishes keys/<KEYID>.pub and writes manifest/genesis create-only,
 * signed by key. A destination that holds segments or a state without a
 * genesis is adopted: the state and every segment (each linked to the one
 * before) must verify with key first, else AI_ERR_VERIFY and nothing is
 * written. A destination with a genesis is AI_ERR_EXISTS (rep->archive_id
 * says which archive, "" when it cannot be read). Failures are described
 * for ai_store_why. */
ai_result ai_identity_create(struct ai_store *dest, const struct ai_signing_key *key, ai_time now,
                             struct ai_init_report *rep) AI_MUST_CHECK;

/* The chain's current key (its last) is key; AI_ERR_VERIFY described for
 * ai_store_why ("key X is not this archive's current key Y; ...") when not.
 * t holds a chain. */
ai_result ai_identity_check_key(const struct ai_trust *t,
                                const struct ai_signing_key *key) AI_MUST_CHECK;

/* Whether ai_identity_rotate can make to the current key: AI_OK when from
 * is the current key (or, *already set, when to is and from is the key it
 * replaced); the failures ai_identity_rotate gives otherwise. Writes
 * nothing. */
ai_result ai_identity_can_rotate(const struct ai_trust *t, const struct ai_signing_key *from,
                                 const struct ai_signing_key *to, int *already) AI_MUST_CHECK;

/* Makes to the archive's current key: writes the next rotation record
 * signed by from, which must be the current key (AI_ERR_VERIFY otherwise),
 * publishes to's public key and adds it to t's chain. When to is the
 * current key already, rotated to from from, AI_OK and *done 0: nothing to
 * do. A key the chain held before is AI_ERR_CONFIG; another rotation
 * written meanwhile AI_ERR_EXISTS. Failures are described for
 * ai_store_why. done may be NULL. */
ai_result ai_identity_rotate(struct ai_store *dest, struct ai_trust *t,
                             const struct ai_signing_key *from, const struct ai_signing_key *to,
                             ai_time now, int *done) AI_MUST_CHECK;

/* The name of rotation record seq. */
void ai_identity_rotation_name(uint64_t seq, char *out, size_t cap);

#endif
