/* manifest.h: the archive's manifest objects in memory.
 *
 * A segment is what one run commits: the packs it wrote and one record
 * per archived member (a source blob, or an appended range of one),
 * chained to the previous segment by its SHA-256. A segment is the truth
 * about what is archived (ARCHITECTURE.md §8).
 *
 * The state (state.h) summarises the segments and each segment has an
 * index (segindex.h); manifest_codec.h turns them all into bytes and back. */
#ifndef AI_MANIFEST_H
#define AI_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include "util/crypto.h"
#include "util/parse.h"
#include "util/result.h"

/* Limits of a segment (ai_segment_check), which the decoder enforces. */
#define AI_MANIFEST_MAX_MEMBERS 1000000
#define AI_MANIFEST_MAX_STRING 4096
#define AI_BLOOM_MAX_BYTES 4096
#define AI_MEMBER_MAX_ROLES 16
#define AI_MEMBER_MAX_APPS 256

/* One archived member. Strings are owned (malloc'd) by the record. */
struct ai_member {
	char *blob;              /* source blob name, relative to the segment's source */
	char etag[80];           /* source ETag, unquoted */
	ai_time last_modified;   /* source Last-Modified */
	uint64_t range_start;    /* source bytes [range_start, range_end) */
	uint64_t range_end;
	char *app;
	char *type;              /* export type folder or diagnostic category */
	ai_time delivery_hour;   /* the source folder hour */
	uint32_t pack;           /* index into the segment's packs */
	uint64_t offset;         /* the gzip member's bytes in the pack */
	uint64_t length;
	uint64_t raw_size;       /* uncompressed bytes */
	uint8_t sha256[AI_SHA256_LEN]; /* of the uncompressed bytes */
	uint64_t rows;
	uint64_t bad_rows;
	int has_time;            /* min_event/max_event are meaningful */
	ai_time min_event;
	ai_time max_event;
	char **roles;            /* distinct cloud role names (at most 16) */
	size_t nroles;
	uint8_t *bloom;          /* Bloom filter of operation ids (bloom.h) */
	size_t bloom_len;
	char replaces[80];       /* a new version of a block blob: the ETag of the
	                          * version archived before (its earlier member);
	                          * "" for a blob's first version */
	/* Workspace export (ARCHITECTURE.md §4): the apps its rows carry, each
	 * row's component (from its _ResourceId) or, for a row naming none,
	 * the member's app (the workspace). has_apps 0: not recorded (another
	 * layout, a member without valid rows, an earlier version), the member
	 * carries app; has_apps 1 and napps 0: more than AI_MEMBER_MAX_APPS,
	 * it may carry any app. */
	int has_apps;
	char **apps;             /* distinct, ascending */
	size_t napps;
};

struct ai_pack_ref {
	char *name;              /* object name in the destination */
	uint64_t size;
	uint8_t sha256[AI_SHA256_LEN];
};

struct ai_segment {
	uint64_t seq;            /* 0, 1, 2, ... */
	uint8_t prev[AI_SHA256_LEN]; /* SHA-256 of segment seq-1's bytes; zeros for 0 */
	char *run_id;
	ai_time created;
	char *key_id;            /* minisign key id of the signer, 16 hex digits */
	char **tags;             /* the run's tags, which apply to every member */
	size_t ntags;
	char *source;            /* the source location, as described (no secrets) */
	char *layout;            /* "continuous-export" or "diagnostic-settings" */
	struct ai_pack_ref *packs;
	size_t npacks;
	struct ai_member *members;
	size_t nmembers;
};

/* Frees what a member owns (strings, roles, bloom) and zeroes it. */
void ai_member_release(struct ai_member *m);

/* Caller-held; init before use, release frees everything inside. The
 * arrays inside a segment are grown with ai_grow_uncounted (alloc.h: their capacity
 * follows from their length), so build them only through these functions
 * or the decoder. */
void ai_segment_init(struct ai_segment *seg);
void ai_segment_release(struct ai_segment *seg);
/* Appends a member (copied: the segment takes its own copies of strings
 * and arrays). */
ai_result ai_segment_add_member(struct ai_segment *seg, const struct ai_member *m) AI_MUST_CHECK;
/* Appends a pack reference (copied); *index gets its position. */
ai_result ai_segment_add_pack(struct ai_segment *seg, const struct ai_pack_ref *p,
                              uint32_t *index) AI_MUST_CHECK;

/* AI_OK when seg is one the decoder would accept (string lengths, pack
 * indexes and member byte ranges within their pack, source ranges, event
 * times in order, roles and Bloom filter sizes); else AI_ERR_BAD_INPUT with
 * a reason in why (cap bytes; why may be NULL). */
ai_result ai_segment_check(const struct ai_segment *seg, char *why, size_t cap) AI_MUST_CHECK;

/* Object names in the destination. */
#define AI_SEGMENT_NAME_FMT "manifest/segments/%012llu.seg"
#define AI_STATE_NAME "manifest/state"
#define AI_SEGINDEX_NAME_FMT "manifest/index/%012llu.idx"

#endif
