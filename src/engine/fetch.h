/* fetch.h: reading one archived member back: its bytes of the pack by
 * Range reads, inflated, and checked against the manifest's record of it
 * (one gzip member, its raw size, its SHA-256). cat and verify --data
 * both fetch members with it. */
#ifndef AI_FETCH_H
#define AI_FETCH_H

#include <stdint.h>
#include "format/gz.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/result.h"
#include "store/store.h"

/* Where a member is and what the manifest records of it. */
struct ai_fetch_record {
	const char *pack;         /* the pack object */
	uint64_t offset, length;  /* the member's bytes in it */
	uint64_t raw_size;        /* what they inflate to */
	const uint8_t *sha256;    /* of that (AI_SHA256_LEN bytes) */
};

/* What is wrong with a member, if anything. */
enum ai_fetch_fault {
	AI_FETCH_OK = 0,
	AI_FETCH_EMPTY,           /* the record gives it no bytes */
	AI_FETCH_NO_PACK,         /* the pack is missing */
	AI_FETCH_SHORT,           /* the pack ends before the member does */
	AI_FETCH_TOO_BIG,         /* it inflates to more than the record's size */
	AI_FETCH_CORRUPT,         /* not valid gzip */
	AI_FETCH_MEMBERS,         /* valid gzip, but more than one member */
	AI_FETCH_SIZE,            /* it inflates to fewer bytes than recorded */
	AI_FETCH_SHA256,          /* its bytes have another digest */
};

/* What a fetch found. */
struct ai_fetch_result {
	enum ai_fetch_fault fault;
	uint64_t bytes_read;      /* pack bytes read */
	uint64_t size;            /* bytes it inflated to */
	uint64_t members;         /* gzip members in it (AI_FETCH_MEMBERS) */
	uint8_t sha256[AI_SHA256_LEN]; /* of those bytes (AI_FETCH_SHA256) */
	int store_failed;         /* the failure returned is a read's: ai_store_why says what */
};

/* One thread's reader, reused from member to member. Caller-held. */
struct ai_fetch {
	struct ai_gz_reader *gz;
	struct ai_buf chunk;
	struct ai_hash sha;
	uint64_t size, limit;
	ai_gz_sink sink;
	void *ctx;
};

ai_result ai_fetch_init(struct ai_fetch *f) AI_MUST_CHECK;
/* Frees what f holds. NULL-safe. */
void ai_fetch_release(struct ai_fetch *f);

/* Reads rec's member from dest and checks it against rec; sink (may be
 * NULL) gets its inflated bytes as they come, before the checks: a caller
 * that must not act on unverified data holds them until this returns a
 * result without a fault. AI_OK when the member was judged (res->fault
 * says how), else what stopped the fetch: a failed read (res->store_failed),
 * lack of memory, or the sink's own failure (AI_ERR_BAD_INPUT and
 * AI_ERR_TOO_BIG from the sink count as the member's, as its faults). */
ai_result ai_fetch_member(struct ai_fetch *f, struct ai_store *dest,
                          const struct ai_fetch_record *rec, ai_gz_sink sink, void *ctx,
                          struct ai_fetch_result *res) AI_MUST_CHECK;

#endif
