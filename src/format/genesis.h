/* genesis.h: who an archive is and which keys speak for it. The genesis
 * names the archive (a random id) and its first signing key; each key
 * rotation record, signed by the key it replaces, names the next. Both
 * are create-only manifest objects (ARCHITECTURE.md §8.6); the codec is
 * manifest_codec.h's, the chain of keys they make is engine/identity.h's. */
#ifndef AI_GENESIS_H
#define AI_GENESIS_H

#include <stdint.h>
#include "format/minisign.h"
#include "util/parse.h"

#define AI_GENESIS_NAME "manifest/genesis"
#define AI_ROTATION_PREFIX "manifest/keys/"
#define AI_ROTATION_NAME_FMT "manifest/keys/%012llu.rot"
/* An archive id: 16 random bytes as 32 lowercase hex digits, and the NUL. */
#define AI_ARCHIVE_ID_HEXLEN 33

/* manifest/genesis: the archive's birth certificate, signed by its key. */
struct ai_genesis {
	char archive_id[AI_ARCHIVE_ID_HEXLEN];
	char key_id[AI_MINISIGN_KEYID_HEXLEN];   /* the key's id, as minisign prints it */
	struct ai_minisign_pubkey key;           /* whose id is key_id */
	ai_time created;
};

/* manifest/keys/<seq>.rot: key seq of the archive's chain (the genesis key
 * is key 0) replaces key seq - 1, which signs this record. */
struct ai_key_rotation {
	char archive_id[AI_ARCHIVE_ID_HEXLEN];
	uint64_t seq;                             /* 1, 2, ...: the number in its name */
	char old_key_id[AI_MINISIGN_KEYID_HEXLEN];
	char new_key_id[AI_MINISIGN_KEYID_HEXLEN];
	struct ai_minisign_pubkey new_key;        /* whose id is new_key_id */
	ai_time created;
};

#endif
