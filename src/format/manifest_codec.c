/* manifest_codec.c: the manifest objects to and from msgpack: segments,
 * the state, segment indexes, the genesis and key rotation records. The
 * only file that reads or writes msgpack.
 *
 * Wire format (version 1)
 * -----------------------
 * Plain msgpack (https://msgpack.org/ spec, with str8 and bin types). Each
 * object is exactly one msgpack value filling the whole byte string; bytes
 * after it are refused. Writers use the shortest encoding of every integer,
 * string, binary, array and map header, never floats, and the key and
 * element orders listed below, so the same content always gives the same
 * bytes (segments are hashed and signed). Readers accept any integer
 * encoding (an "int" below is any msgpack integer within int64, a "uint"
 * any non-negative one within uint64). Times are ints of nanoseconds since
 * 1970-01-01T00:00:00Z (UTC). Strings are UTF-8 without NUL bytes and at
 * most AI_MANIFEST_MAX_STRING (4096) bytes; a string absent in memory is
 * written as "". Digests are bin of exactly 32 bytes. Readers also refuse
 * nesting deeper than 15 levels and any array or map whose declared
 * element count exceeds the bytes that remain (so a reader's memory stays
 * proportional to the input).
 *
 * Maps have string keys. Readers ignore keys they do not know (later
 * versions may add some), refuse non-string keys and duplicate keys, and
 * refuse an object whose "format" is not the expected name or whose
 * "version" is not an integer in 1..1 (a higher version means an
 * incompatible change; compatible additions keep version 1). Every key
 * listed here is required unless it says it is optional.
 *
 * Segment: a map with these keys, written in this order:
 *   "format"   str  "aiarchive-segment"
 *   "version"  uint 1
 *   "seq"      uint sequence number: 0, 1, 2, ...
 *   "prev"     bin32 SHA-256 of the bytes of segment seq-1 (zeros for 0)
 *   "run"      str  run id
 *   "created"  int  time the segment was made
 *   "key_id"   str  minisign key id of the signer (16 hex digits)
 *   "tags"     array of str: the run's tags, applying to every member
 *   "source"   str  the source location (no secrets)
 *   "layout"   str  "continuous-export", "diagnostic-settings" or
 *              "workspace-export"
 *   "packs"    array of maps {"name": str, "size": uint, "sha256": bin32}
 *              in this key order; members refer to packs by position
 *   "members"  array of members, at most AI_MANIFEST_MAX_MEMBERS (10^6)
 *
 * A member is an array with fixed positions (readers ignore elements past
 * the last one they know, so later versions may append fields):
 *    0 blob           str  source blob name, relative to the source
 *    1 etag           str  source ETag, unquoted, at most 79 bytes
 *    2 last_modified  int  source Last-Modified
 *    3 range_start    uint the member holds source bytes
 *    4 range_end      uint   [range_start, range_end); start <= end
 *    5 app            str
 *    6 type           str  export type folder or diagnostic category
 *    7 delivery_hour  int  the source folder hour
 *    8 pack           uint index into "packs", < the number of packs
 *    9 offset         uint the gzip member is pack bytes
 *   10 length         uint   [offset, offset + length), within pack size
 *   11 raw_size       uint uncompressed bytes
 *   12 sha256         bin32 of the uncompressed bytes
 *   13 rows           uint rows archived
 *   14 bad_rows       uint rows that could not be parsed
 *   15 has_time       bool whether 16 and 17 are meaningful
 *   16 min_event      int  oldest event time (0 when has_time is false)
 *   17 max_event      int  newest event time, >= min_event (0 likewise)
 *   18 roles          array of at most 16 str: distinct cloud role names
 *   19 bloom          bin  Bloom filter of operation ids (bloom.h), at most
 *                          AI_BLOOM_MAX_BYTES (4096); empty matches any id
 *   20 replaces       str  optional, written only when not empty or when 21
 *                          is written ("" then: none): the member is a new
 *                          version of a block blob whose earlier version (a
 *                          member of the same blob with this ETag) stays
 *                          archived; at most 79 bytes
 *   21 apps           array of at most 256 str, optional (workspace export):
 *                          the apps its rows carry, distinct, not empty,
 *                          strictly ascending; an empty array: more than 256,
 *                          any app. Absent (or nil): the member carries "app".
 *
 * State: a map with these keys, written in this order:
 *   "format"          str  "aiarchive-state"
 *   "version"         uint 1
 *   "next_seq"        uint segments 0..next_seq-1 are folded in
 *   "head"            bin32 SHA-256 of segment next_seq-1 (zeros if none)
 *   "updated"         int
 *   "watermark"       int  delivery hours before this were listed fully
 *   "max_lag"         int  >= 0, largest (delivery hour + 1h - min_event)
 *   "last_run_id"     str
 *   "last_run_time"   int
 *   "last_run_result" str
 *   "source"          str
 *   "parts"           array of [app str, type str, archived_through int,
 *                     last_event int, members uint, rows uint, failed uint,
 *                     failed_oldest int, pending uint, quarantined uint,
 *                     quarantined_oldest int, newest_blob int], strictly
 *                     ascending by (app, type) in byte order; the last six
 *                     were added later: a part of 6 elements, as earlier
 *                     versions wrote, reads them as 0 (unknown)
 *   "by_delivery"     array of [hour int, [seq uint, ...]]
 *   "by_event"        array of [hour int, [seq uint, ...]]
 *   "wide"            array of seq uint
 * and then optional keys, each written only when its list is not empty
 * (or its value known; a state without them, as earlier versions wrote,
 * has empty lists and an unknown exit code):
 *   "quarantined"     array of [name str, reason str, hour int, first_seen
 *                     int, last_seen int, app str, type str]: source names
 *                     left out as unsafe (hour: a blob's delivery hour,
 *                     INT64_MIN for a folder), at most
 *                     AI_STATE_MAX_QUARANTINED (1000); app and type only
 *                     for a blob (an entry of 5 reads as a folder's)
 *   "tails"           array of [name str, hour int, length uint, seen int]:
 *                     append blobs whose incomplete last line waits for a
 *                     run to find them the same length, at most
 *                     AI_STATE_MAX_TAILS (10^4)
 *   "last_run_exit"   uint the exit code the last run's result maps to
 *                     (0..255), when known
 *   "layout"          str  the source layout of the last run or of the
 *                     newest segment folded in, as a segment names it
 *   "shards"          array of [index uint, count uint, watermark int,
 *                     failed_oldest int, held int, failed uint,
 *                     last_run_id str, last_run_time int, last_run_result
 *                     str, last_run_exit int (-1 unknown)]: one per shard
 *                     of a sharded run (index < count <= 1024), strictly
 *                     ascending by (count, index), at most
 *                     AI_STATE_MAX_SHARDS (4096)
 * both lists strictly ascending by name in byte order.
 * In "by_delivery" and "by_event", hours are multiples of one hour and
 * strictly ascending; every seq list (and "wide") is strictly ascending
 * with each seq < next_seq. Readers ignore elements past the ones listed in
 * the inner arrays.
 *
 * Segment index: a map with these keys, written in this order:
 *   "format"         str  "aiarchive-segment-index"
 *   "version"        uint 1
 *   "seq"            uint the segment it describes
 *   "segment"        bin32 SHA-256 of that segment's bytes
 *   "members"        uint its number of members
 *   "apps"           array of str: every member's app, distinct, ascending
 *   "types"          array of str: likewise for types
 *   "roles"          array of str: every member's roles, distinct, ascending
 *   "roles_complete" bool false when a member may hold roles not listed
 *   "bloom"          bin  Bloom filter (bloom.h) of every member's operation
 *                         ids, at most 16 MiB; empty matches any id
 * The name lists hold at most AI_SEGINDEX_MAX_NAMES (4096) entries.
 *
 * Genesis (manifest/genesis): a map with these keys, written in this order:
 *   "format"         str  "aiarchive-genesis"
 *   "version"        uint 1
 *   "archive_id"     str  32 lowercase hex digits (16 random bytes)
 *   "key_id"         str  the archive's first key id, 16 uppercase hex digits
 *   "public_key"     str  that key in minisign's bare base64 form (56
 *                         characters: "Ed", the key id, the Ed25519 key);
 *                         its key id must be "key_id"
 *   "created"        int
 *
 * Key rotation (manifest/keys/<seq>.rot): a map with these keys, in order:
 *   "format"         str  "aiarchive-key-rotation"
 *   "version"        uint 1
 *   "archive_id"     str  as in the genesis
 *   "seq"            uint 1, 2, ...: this record makes key seq of the chain
 *                         (the genesis key is key 0)
 *   "old_key_id"     str  key seq-1, which signs the record
 *   "new_key_id"     str  key seq, not old_key_id
 *   "public_key"     str  key seq, as in the genesis; its id is "new_key_id"
 *   "created"        int
 *
 * What the state's entries mean (which segments an hour lists, the
 * partition sums) is described in state.c, which computes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>
#include "format/manifest_codec.h"
#include "format/manifest_int.h"
#include "format/minisign.h"
#include "util/alloc.h"

#define MEMBER_FIELDS 20
#define MAX_DEPTH 16

/* ---- encoding ---- */

struct enc {
	msgpack_packer pk;
	struct ai_buf *out;
	ai_result r;     /* first write failure; later writes are skipped */
};

static int enc_write(void *data, const char *p, size_t n)
{
	struct enc *e = data;

	if (e->r == AI_OK)
		e->r = ai_buf_add(e->out, p, n);
	return e->r == AI_OK ? 0 : -1;
}

static void enc_init(struct enc *e, struct ai_buf *out)
{
	e->out = out;
	e->r = AI_OK;
	msgpack_packer_init(&e->pk, e, enc_write);
}

static void put_str(struct enc *e, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	msgpack_pack_str(&e->pk, n);
	msgpack_pack_str_body(&e->pk, s ? s : "", n);
}

static void put_bin(struct enc *e, const void *p, size_t n)
{
	msgpack_pack_bin(&e->pk, n);
	if (n)
		msgpack_pack_bin_body(&e->pk, p, n);
}

static void put_u64(struct enc *e, uint64_t v)
{
	msgpack_pack_uint64(&e->pk, v);
}

static void put_time(struct enc *e, ai_time v)
{
	msgpack_pack_int64(&e->pk, v);
}

static void put_strs(struct enc *e, char *const *v, size_t n)
{
	msgpack_pack_array(&e->pk, n);
	for (size_t i = 0; i < n; i++)
		put_str(e, v[i]);
}

static void put_member(struct enc *e, const struct ai_member *m)
{
	msgpack_packer *pk = &e->pk;

	msgpack_pack_array(pk, MEMBER_FIELDS + (m->has_apps ? 2 : *m->replaces != '\0'));
	put_str(e, m->blob);
	put_str(e, m->etag);
	put_time(e, m->last_modified);
	put_u64(e, m->range_start);
	put_u64(e, m->range_end);
	put_str(e, m->app);
	put_str(e, m->type);
	put_time(e, m->delivery_hour);
	put_u64(e, m->pack);
	put_u64(e, m->offset);
	put_u64(e, m->length);
	put_u64(e, m->raw_size);
	put_bin(e, m->sha256, AI_SHA256_LEN);
	put_u64(e, m->rows);
	put_u64(e, m->bad_rows);
	if (m->has_time) {
		msgpack_pack_true(pk);
		put_time(e, m->min_event);
		put_time(e, m->max_event);
	} else {
		msgpack_pack_false(pk);
		put_time(e, 0);
		put_time(e, 0);
	}
	put_strs(e, m->roles, m->nroles);
	put_bin(e, m->bloom, m->bloom_len);
	if (*m->replaces || m->has_apps)
		put_str(e, m->replaces);
	if (m->has_apps)
		put_strs(e, m->apps, m->napps);
}

/* Ends an encoding: on failure out is cut back to where it was. */
static ai_result enc_finish(struct enc *e, size_t start)
{
	if (e->r != AI_OK) {
		e->out->len = start;
		if (e->out->data)
			e->out->data[start] = '\0';
	}
	return e->r;
}

ai_result ai_segment_encode(const struct ai_segment *seg, struct ai_buf *out)
{
	size_t start = out->len;
	struct enc e;
	ai_result r;

	r = ai_segment_check(seg, NULL, 0);
	if (r != AI_OK)
		return r;
	enc_init(&e, out);
	msgpack_pack_map(&e.pk, 12);
	put_str(&e, "format");
	put_str(&e, AI_SEGMENT_FORMAT);
	put_str(&e, "version");
	put_u64(&e, AI_MANIFEST_VERSION);
	put_str(&e, "seq");
	put_u64(&e, seg->seq);
	put_str(&e, "prev");
	put_bin(&e, seg->prev, AI_SHA256_LEN);
	put_str(&e, "run");
	put_str(&e, seg->run_id);
	put_str(&e, "created");
	put_time(&e, seg->created);
	put_str(&e, "key_id");
	put_str(&e, seg->key_id);
	put_str(&e, "tags");
	put_strs(&e, seg->tags, seg->ntags);
	put_str(&e, "source");
	put_str(&e, seg->source);
	put_str(&e, "layout");
	put_str(&e, seg->layout);
	put_str(&e, "packs");
	msgpack_pack_array(&e.pk, seg->npacks);
	for (size_t i = 0; i < seg->npacks && e.r == AI_OK; i++) {
		msgpack_pack_map(&e.pk, 3);
		put_str(&e, "name");
		put_str(&e, seg->packs[i].name);
		put_str(&e, "size");
		put_u64(&e, seg->packs[i].size);
		put_str(&e, "sha256");
		put_bin(&e, seg->packs[i].sha256, AI_SHA256_LEN);
	}
	put_str(&e, "members");
	msgpack_pack_array(&e.pk, seg->nmembers);
	for (size_t i = 0; i < seg->nmembers && e.r == AI_OK; i++)
		put_member(&e, &seg->members[i]);
	return enc_finish(&e, start);
}

/* ---- decoding: the bounded pre-pass ---- */

static int rd_be(const uint8_t *p, size_t n, size_t *i, unsigned k, uint64_t *v)
{
	if (k > n - *i)
		return -1;
	*v = 0;
	for (unsigned j = 0; j < k; j++)
		*v = *v << 8 | p[*i + j];
	*i += k;
	return 0;
}

/* Walks one msgpack value filling p[0..n) without building it. msgpack-c
 * allocates room for a container's declared element count before reading
 * the elements, so a 5-byte header could ask for gigabytes; after this
 * pass every count is backed by real bytes and the unpacker's memory stays
 * proportional to n (*zbytes gets what it will need). Also bounds
 * nesting. */
static ai_result prescan(const uint8_t *p, size_t n, uint64_t *zbytes, char *why, size_t cap)
{
	uint64_t left[MAX_DEPTH];
	size_t i = 0;
	int top = 0;

	*zbytes = 0;

	left[0] = 1;
	while (top >= 0) {
		uint64_t len = 0, items = 0, v;
		unsigned k = 0, kind = 0; /* 1 str/bin, 2 ext, 3 array, 4 map */
		uint8_t c;

		if (left[top] == 0) {
			top--;
			continue;
		}
		left[top]--;
		if (i >= n)
			return ai_manifest_bad(why, cap, "truncated at byte %zu", i);
		c = p[i++];
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
			;
		else if (c <= 0x8f)
			items = 2 * (uint64_t)(c & 0x0f);
		else if (c <= 0x9f)
			items = c & 0x0f;
		else if (c <= 0xbf)
			len = c & 0x1f;
		else if (c == 0xc1)
			return ai_manifest_bad(why, cap, "invalid byte 0xc1 at %zu", i - 1);
		else if (c <= 0xc6) {
			k = 1u << (c - 0xc4);
			kind = 1;
		} else if (c <= 0xc9) {
			k = 1u << (c - 0xc7);
			kind = 2;
		} else if (c <= 0xcb)
			len = c == 0xca ? 4 : 8;
		else if (c <= 0xd3)
			len = 1u << ((c - 0xcc) & 3);
		else if (c <= 0xd8)
			len = 1 + (1u << (c - 0xd4));
		else if (c <= 0xdb) {
			k = 1u << (c - 0xd9);
			kind = 1;
		} else if (c <= 0xdd) {
			k = c == 0xdc ? 2 : 4;
			kind = 3;
		} else {
			k = c == 0xde ? 2 : 4;
			kind = 4;
		}
		if (k) {
			if (rd_be(p, n, &i, k, &v) < 0)
				return ai_manifest_bad(why, cap, "truncated at byte %zu", i);
			if (kind == 1)
				len = v;
			else if (kind == 2)
				len = v + 1;
			else if (kind == 3)
				items = v;
			else
				items = 2 * v;
		}
		if (len > n - i)
			return ai_manifest_bad(why, cap, "truncated at byte %zu", i);
		i += len;
		if (items) {
			if (items > n - i)
				return ai_manifest_bad(why, cap,
				                       "container at byte %zu larger than the input",
				                       i);
			if (top + 1 >= MAX_DEPTH)
				return ai_manifest_bad(why, cap, "nested too deeply at byte %zu",
				                       i);
			left[++top] = items;
			*zbytes += items * sizeof(msgpack_object) + MSGPACK_ZONE_ALIGN;
		}
	}
	if (i != n)
		return ai_manifest_bad(why, cap, "%zu bytes after the object", n - i);
	return AI_OK;
}

/* Unpacks p[0..n) into *obj after the pre-pass. msgpack_unpack_next
 * would grow its zone in small chunks, which costs several times the
 * decoding itself on a large segment; one chunk sized from the pre-pass
 * (an object per element, plus alignment) is both faster and bounded.
 * *zone_ok tells whether z needs destroying. */
static ai_result unpack(const void *p, size_t n, msgpack_zone *z, int *zone_ok,
                        msgpack_object *obj, char *why, size_t cap)
{
	msgpack_unpack_return ret;
	uint64_t zbytes;
	size_t off = 0;
	ai_result r;

	r = prescan(p, n, &zbytes, why, cap);
	if (r != AI_OK)
		return r;
	if (zbytes > SIZE_MAX - 1024 || !msgpack_zone_init(z, (size_t)zbytes + 1024))
		return AI_ERR_NOMEM;
	*zone_ok = 1;
	ret = msgpack_unpack(p, n, &off, z, obj);
	if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
		return AI_ERR_NOMEM;
	if (ret != MSGPACK_UNPACK_SUCCESS || off != n)
		return ai_manifest_bad(why, cap, "not a msgpack object");
	return AI_OK;
}

/* Unpacks p[0..n) and hands the object to get, which fills out. */
static ai_result decode_with(const void *p, size_t n,
                             ai_result (*get)(const msgpack_object *, void *, char *, size_t),
                             void *out, char *why, size_t cap)
{
	msgpack_object obj;
	msgpack_zone z;
	int zone_ok = 0;
	ai_result r;

	if (why && cap)
		why[0] = '\0';
	r = unpack(p, n, &z, &zone_ok, &obj, why, cap);
	if (r == AI_OK)
		r = get(&obj, out, why, cap);
	if (zone_ok)
		msgpack_zone_destroy(&z);
	return r;
}

/* ---- decoding: typed field access ---- */

/* Field readers return NULL or a short reason; NOMEM_REASON means what it
 * says and maps to AI_ERR_NOMEM. */
static const char NOMEM_REASON[] = "out of memory";

static ai_result fail_field(const char *e, char *why, size_t cap, const char *ctx,
                            const char *field)
{
	if (e == NOMEM_REASON)
		return AI_ERR_NOMEM;
	return ai_manifest_bad(why, cap, "%s%s: %s", ctx, field, e);
}

static const char *want_u64(const msgpack_object *o, uint64_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return "not an unsigned integer";
	*v = o->via.u64;
	return NULL;
}

static const char *want_time(const msgpack_object *o, ai_time *v)
{
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return NULL;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return "not an integer";
	if (o->via.u64 > (uint64_t)AI_TIME_MAX)
		return "out of range";
	*v = (ai_time)o->via.u64;
	return NULL;
}

static const char *want_bool(const msgpack_object *o, int *v)
{
	if (o->type != MSGPACK_OBJECT_BOOLEAN)
		return "not a boolean";
	*v = o->via.boolean ? 1 : 0;
	return NULL;
}

static const char *check_strobj(const msgpack_object *o, size_t max)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return "not a string";
	if (o->via.str.size > max)
		return "too long";
	if (o->via.str.size && memchr(o->via.str.ptr, 0, o->via.str.size))
		return "contains a NUL byte";
	return NULL;
}

static const char *want_str(const msgpack_object *o, char **s)
{
	const char *e = check_strobj(o, AI_MANIFEST_MAX_STRING);

	if (e)
		return e;
	*s = malloc(o->via.str.size + 1);
	if (!*s)
		return NOMEM_REASON;
	if (o->via.str.size)
		memcpy(*s, o->via.str.ptr, o->via.str.size);
	(*s)[o->via.str.size] = '\0';
	return NULL;
}

static const char *want_str_into(const msgpack_object *o, char *buf, size_t size)
{
	const char *e = check_strobj(o, size - 1);

	if (e)
		return e;
	if (o->via.str.size)
		memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return NULL;
}

static const char *want_sha(const msgpack_object *o, uint8_t out[AI_SHA256_LEN])
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return "not binary";
	if (o->via.bin.size != AI_SHA256_LEN)
		return "not 32 bytes";
	memcpy(out, o->via.bin.ptr, AI_SHA256_LEN);
	return NULL;
}

static const char *want_strs(const msgpack_object *o, size_t max, char ***v, size_t *n)
{
	const char *e;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return "not an array";
	if (o->via.array.size > max)
		return "too many entries";
	if (!o->via.array.size)
		return NULL;
	*v = calloc(o->via.array.size, sizeof **v);
	if (!*v)
		return NOMEM_REASON;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		e = want_str(&o->via.array.ptr[i], &(*v)[i]);
		if (e)
			return e;
		(*n)++;
	}
	return NULL;
}

/* A map's known keys, looked up once. */
struct field {
	const char *name;
	const msgpack_object *val;
};

static ai_result map_fields(const msgpack_object *o, struct field *f, size_t nf, char *why,
                            size_t cap, const char *ctx)
{
	if (o->type != MSGPACK_OBJECT_MAP)
		return ai_manifest_bad(why, cap, "%snot a map", ctx);
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		size_t j;

		if (k->type != MSGPACK_OBJECT_STR)
			return ai_manifest_bad(why, cap, "%skey %u: not a string", ctx, i);
		for (j = 0; j < nf; j++)
			if (strlen(f[j].name) == k->via.str.size &&
			    !memcmp(f[j].name, k->via.str.ptr, k->via.str.size))
				break;
		if (j == nf)
			continue;
		if (f[j].val)
			return ai_manifest_bad(why, cap, "%sduplicate key '%s'", ctx, f[j].name);
		f[j].val = &o->via.map.ptr[i].val;
	}
	return AI_OK;
}

/* Checks "format" and "version" (fields 0 and 1), then that every other
 * field is present. */
/* The format and version in f[0] and f[1]; f[2..nreq) must be there, the
 * fields after them are optional. */
static ai_result check_header(const struct field *f, size_t nreq, const char *format,
                              char *why, size_t cap)
{
	const msgpack_object *o = f[0].val;
	uint64_t v;

	if (!o)
		return ai_manifest_bad(why, cap, "missing 'format'");
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size != strlen(format) ||
	    memcmp(o->via.str.ptr, format, o->via.str.size))
		return ai_manifest_bad(why, cap, "format is not %s", format);
	if (!f[1].val)
		return ai_manifest_bad(why, cap, "missing 'version'");
	if (want_u64(f[1].val, &v) || v < 1)
		return ai_manifest_bad(why, cap, "version: not a positive integer");
	if (v > AI_MANIFEST_VERSION)
		return ai_manifest_bad(why, cap, "version %llu is newer than %d",
		                       (unsigned long long)v, AI_MANIFEST_VERSION);
	for (size_t i = 2; i < nreq; i++)
		if (!f[i].val)
			return ai_manifest_bad(why, cap, "missing '%s'", f[i].name);
	return AI_OK;
}

/* ---- decoding: segments ---- */

static const char *const member_names[MEMBER_FIELDS] = {
	"blob", "etag", "last_modified", "range_start", "range_end", "app", "type",
	"delivery_hour", "pack", "offset", "length", "raw_size", "sha256", "rows",
	"bad_rows", "has_time", "min_event", "max_event", "roles", "bloom",
};

static ai_result get_member(const msgpack_object *o, struct ai_member *m, size_t idx,
                            char *why, size_t cap)
{
	const msgpack_object *a;
	const char *e = NULL;
	uint64_t pack = 0;
	int k;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return ai_manifest_bad(why, cap, "member %zu: not an array", idx);
	if (o->via.array.size < MEMBER_FIELDS)
		return ai_manifest_bad(why, cap, "member %zu: %u fields, need %d", idx,
		                       o->via.array.size, MEMBER_FIELDS);
	a = o->via.array.ptr;
	for (k = 0; k < MEMBER_FIELDS && !e; k++) {
		const msgpack_object *v = &a[k];

		switch (k) {
		case 0: e = want_str(v, &m->blob); break;
		case 1: e = want_str_into(v, m->etag, sizeof m->etag); break;
		case 2: e = want_time(v, &m->last_modified); break;
		case 3: e = want_u64(v, &m->range_start); break;
		case 4: e = want_u64(v, &m->range_end); break;
		case 5: e = want_str(v, &m->app); break;
		case 6: e = want_str(v, &m->type); break;
		case 7: e = want_time(v, &m->delivery_hour); break;
		case 8:
			e = want_u64(v, &pack);
			if (!e && pack > UINT32_MAX)
				e = "out of range";
			m->pack = (uint32_t)pack;
			break;
		case 9: e = want_u64(v, &m->offset); break;
		case 10: e = want_u64(v, &m->length); break;
		case 11: e = want_u64(v, &m->raw_size); break;
		case 12: e = want_sha(v, m->sha256); break;
		case 13: e = want_u64(v, &m->rows); break;
		case 14: e = want_u64(v, &m->bad_rows); break;
		case 15: e = want_bool(v, &m->has_time); break;
		case 16: e = want_time(v, &m->min_event); break;
		case 17: e = want_time(v, &m->max_event); break;
		case 18:
			e = want_strs(v, AI_MEMBER_MAX_ROLES, &m->roles, &m->nroles);
			break;
		case 19:
			if (v->type != MSGPACK_OBJECT_BIN)
				e = "not binary";
			else if (v->via.bin.size > AI_BLOOM_MAX_BYTES)
				e = "too large";
			else if (ai_manifest_memdup(v->via.bin.ptr, v->via.bin.size,
			                            &m->bloom) != AI_OK)
				e = NOMEM_REASON;
			else
				m->bloom_len = v->via.bin.size;
			break;
		}
	}
	if (!e && o->via.array.size > MEMBER_FIELDS) {
		e = want_str_into(&a[MEMBER_FIELDS], m->replaces, sizeof m->replaces);
		if (e && e != NOMEM_REASON)
			return ai_manifest_bad(why, cap, "member %zu: replaces: %s", idx, e);
	}
	if (!e && o->via.array.size > MEMBER_FIELDS + 1 &&
	    a[MEMBER_FIELDS + 1].type != MSGPACK_OBJECT_NIL) {
		m->has_apps = 1;
		e = want_strs(&a[MEMBER_FIELDS + 1], AI_MEMBER_MAX_APPS, &m->apps, &m->napps);
		for (size_t i = 0; !e && i < m->napps; i++)
			if (!*m->apps[i] || (i && strcmp(m->apps[i - 1], m->apps[i]) >= 0))
				e = "not distinct and ascending";
		if (e && e != NOMEM_REASON)
			return ai_manifest_bad(why, cap, "member %zu: apps: %s", idx, e);
	}
	if (e == NOMEM_REASON)
		return AI_ERR_NOMEM;
	if (e)
		return ai_manifest_bad(why, cap, "member %zu: %s: %s", idx, member_names[k - 1], e);
	if (!m->has_time)
		m->min_event = m->max_event = 0;
	return AI_OK;
}

static ai_result get_pack(const msgpack_object *o, struct ai_pack_ref *p, size_t idx,
                          char *why, size_t cap)
{
	struct field f[] = { { "name", NULL }, { "size", NULL }, { "sha256", NULL } };
	const char *e;
	char ctx[40];
	ai_result r;

	snprintf(ctx, sizeof ctx, "pack %zu: ", idx);
	r = map_fields(o, f, 3, why, cap, ctx);
	if (r != AI_OK)
		return r;
	for (size_t i = 0; i < 3; i++)
		if (!f[i].val)
			return ai_manifest_bad(why, cap, "%smissing '%s'", ctx, f[i].name);
	if ((e = want_str(f[0].val, &p->name)))
		return fail_field(e, why, cap, ctx, "name");
	if ((e = want_u64(f[1].val, &p->size)))
		return fail_field(e, why, cap, ctx, "size");
	if ((e = want_sha(f[2].val, p->sha256)))
		return fail_field(e, why, cap, ctx, "sha256");
	return AI_OK;
}

enum {
	S_FORMAT, S_VERSION, S_SEQ, S_PREV, S_RUN, S_CREATED, S_KEY_ID, S_TAGS, S_SOURCE,
	S_LAYOUT, S_PACKS, S_MEMBERS, S_NFIELDS
};

static ai_result get_segment(const msgpack_object *o, void *out, char *why, size_t cap)
{
	struct ai_segment *seg = out;
	struct field f[S_NFIELDS] = {
		{ "format", NULL }, { "version", NULL }, { "seq", NULL }, { "prev", NULL },
		{ "run", NULL }, { "created", NULL }, { "key_id", NULL }, { "tags", NULL },
		{ "source", NULL }, { "layout", NULL }, { "packs", NULL }, { "members", NULL },
	};
	const msgpack_object *a;
	const char *e;
	ai_result r;

	r = map_fields(o, f, S_NFIELDS, why, cap, "");
	if (r != AI_OK)
		return r;
	r = check_header(f, S_NFIELDS, AI_SEGMENT_FORMAT, why, cap);
	if (r != AI_OK)
		return r;
	if ((e = want_u64(f[S_SEQ].val, &seg->seq)))
		return fail_field(e, why, cap, "", "seq");
	if ((e = want_sha(f[S_PREV].val, seg->prev)))
		return fail_field(e, why, cap, "", "prev");
	if ((e = want_str(f[S_RUN].val, &seg->run_id)))
		return fail_field(e, why, cap, "", "run");
	if ((e = want_time(f[S_CREATED].val, &seg->created)))
		return fail_field(e, why, cap, "", "created");
	if ((e = want_str(f[S_KEY_ID].val, &seg->key_id)))
		return fail_field(e, why, cap, "", "key_id");
	if ((e = want_strs(f[S_TAGS].val, SIZE_MAX, &seg->tags, &seg->ntags)))
		return fail_field(e, why, cap, "", "tags");
	if ((e = want_str(f[S_SOURCE].val, &seg->source)))
		return fail_field(e, why, cap, "", "source");
	if ((e = want_str(f[S_LAYOUT].val, &seg->layout)))
		return fail_field(e, why, cap, "", "layout");

	a = f[S_PACKS].val;
	if (a->type != MSGPACK_OBJECT_ARRAY)
		return ai_manifest_bad(why, cap, "packs: not an array");
	if (a->via.array.size) {
		seg->packs = ai_calloc_uncounted(a->via.array.size, sizeof *seg->packs);
		if (!seg->packs)
			return AI_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < a->via.array.size; i++) {
		seg->npacks++;
		r = get_pack(&a->via.array.ptr[i], &seg->packs[i], i, why, cap);
		if (r != AI_OK)
			return r;
	}

	a = f[S_MEMBERS].val;
	if (a->type != MSGPACK_OBJECT_ARRAY)
		return ai_manifest_bad(why, cap, "members: not an array");
	if (a->via.array.size > AI_MANIFEST_MAX_MEMBERS)
		return ai_manifest_bad(why, cap, "too many members (%u)", a->via.array.size);
	if (a->via.array.size) {
		seg->members = ai_calloc_uncounted(a->via.array.size, sizeof *seg->members);
		if (!seg->members)
			return AI_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < a->via.array.size; i++) {
		seg->nmembers++;
		r = get_member(&a->via.array.ptr[i], &seg->members[i], i, why, cap);
		if (r != AI_OK)
			return r;
	}
	return ai_segment_check_values(seg, why, cap);
}

ai_result ai_segment_decode(const void *p, size_t n, struct ai_segment *out, char *why, size_t cap)
{
	ai_result r;

	ai_segment_init(out);
	r = decode_with(p, n, get_segment, out, why, cap);
	if (r != AI_OK)
		ai_segment_release(out);
	return r;
}

/* ---- state ---- */

static void put_entries(struct enc *e, const struct ai_hour_entry *v, size_t n)
{
	msgpack_pack_array(&e->pk, n);
	for (size_t i = 0; i < n && e->r == AI_OK; i++) {
		msgpack_pack_array(&e->pk, 2);
		put_time(e, v[i].hour);
		msgpack_pack_array(&e->pk, v[i].nseqs);
		for (size_t j = 0; j < v[i].nseqs; j++)
			put_u64(e, v[i].seqs[j]);
	}
}

ai_result ai_state_encode(const struct ai_state *st, struct ai_buf *out)
{
	size_t start = out->len;
	struct enc e;

	enc_init(&e, out);
	msgpack_pack_map(&e.pk, 15 + (st->nquarantined > 0) + (st->ntails > 0) +
	                            (st->last_run_exit >= 0) + (st->layout && *st->layout) +
	                            (st->nshards > 0));
	put_str(&e, "format");
	put_str(&e, AI_STATE_FORMAT);
	put_str(&e, "version");
	put_u64(&e, AI_MANIFEST_VERSION);
	put_str(&e, "next_seq");
	put_u64(&e, st->next_seq);
	put_str(&e, "head");
	put_bin(&e, st->head_sha256, AI_SHA256_LEN);
	put_str(&e, "updated");
	put_time(&e, st->updated);
	put_str(&e, "watermark");
	put_time(&e, st->watermark);
	put_str(&e, "max_lag");
	put_time(&e, st->max_lag);
	put_str(&e, "last_run_id");
	put_str(&e, st->last_run_id);
	put_str(&e, "last_run_time");
	put_time(&e, st->last_run_time);
	put_str(&e, "last_run_result");
	put_str(&e, st->last_run_result);
	put_str(&e, "source");
	put_str(&e, st->source);
	put_str(&e, "parts");
	msgpack_pack_array(&e.pk, st->nparts);
	for (size_t i = 0; i < st->nparts && e.r == AI_OK; i++) {
		const struct ai_partition_state *p = &st->parts[i];

		msgpack_pack_array(&e.pk, 12);
		put_str(&e, p->app);
		put_str(&e, p->type);
		put_time(&e, p->archived_through);
		put_time(&e, p->last_event);
		put_u64(&e, p->members);
		put_u64(&e, p->rows);
		put_u64(&e, p->failed);
		put_time(&e, p->failed_oldest);
		put_u64(&e, p->pending);
		put_u64(&e, p->quarantined);
		put_time(&e, p->quarantined_oldest);
		put_time(&e, p->newest_blob);
	}
	put_str(&e, "by_delivery");
	put_entries(&e, st->by_delivery, st->nby_delivery);
	put_str(&e, "by_event");
	put_entries(&e, st->by_event, st->nby_event);
	put_str(&e, "wide");
	msgpack_pack_array(&e.pk, st->nwide);
	for (size_t i = 0; i < st->nwide; i++)
		put_u64(&e, st->wide_seqs[i]);
	if (st->nquarantined) {
		put_str(&e, "quarantined");
		msgpack_pack_array(&e.pk, st->nquarantined);
		for (size_t i = 0; i < st->nquarantined && e.r == AI_OK; i++) {
			const struct ai_quarantine_entry *q = &st->quarantined[i];
			int blob = q->app && q->type;
			msgpack_pack_array(&e.pk, blob ? 7 : 5);
			put_str(&e, q->name);
			put_str(&e, q->reason);
			put_time(&e, q->hour);
			put_time(&e, q->first_seen);
			put_time(&e, q->last_seen);
			if (blob) {
				put_str(&e, q->app);
				put_str(&e, q->type);
			}
		}
	}
	if (st->ntails) {
		put_str(&e, "tails");
		msgpack_pack_array(&e.pk, st->ntails);
		for (size_t i = 0; i < st->ntails && e.r == AI_OK; i++) {
			const struct ai_tail_entry *t = &st->tails[i];
			msgpack_pack_array(&e.pk, 4);
			put_str(&e, t->name);
			put_time(&e, t->hour);
			put_u64(&e, t->length);
			put_time(&e, t->seen);
		}
	}
	if (st->last_run_exit >= 0) {
		put_str(&e, "last_run_exit");
		put_u64(&e, (uint64_t)st->last_run_exit);
	}
	if (st->layout && *st->layout) {
		put_str(&e, "layout");
		put_str(&e, st->layout);
	}
	if (st->nshards) {
		put_str(&e, "shards");
		msgpack_pack_array(&e.pk, st->nshards);
		for (size_t i = 0; i < st->nshards && e.r == AI_OK; i++) {
			const struct ai_shard_state *x = &st->shards[i];
			msgpack_pack_array(&e.pk, 10);
			put_u64(&e, x->index);
			put_u64(&e, x->count);
			put_time(&e, x->watermark);
			put_time(&e, x->failed_oldest);
			put_time(&e, x->held);
			put_u64(&e, x->failed);
			put_str(&e, x->last_run_id ? x->last_run_id : "");
			put_time(&e, x->last_run_time);
			put_str(&e, x->last_run_result ? x->last_run_result : "");
			put_time(&e, x->last_run_exit);
		}
	}
	return enc_finish(&e, start);
}

/* A strictly ascending seq list, each < limit. */
static const char *get_seqs(const msgpack_object *o, uint64_t limit, uint64_t **v, size_t *n)
{
	const char *e;
	uint64_t s;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return "not an array";
	if (!o->via.array.size)
		return NULL;
	*v = ai_calloc_uncounted(o->via.array.size, sizeof **v);
	if (!*v)
		return NOMEM_REASON;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		if ((e = want_u64(&o->via.array.ptr[i], &s)))
			return e;
		if (s >= limit)
			return "segment past next_seq";
		if (i && s <= (*v)[i - 1])
			return "not strictly ascending";
		(*v)[(*n)++] = s;
	}
	return NULL;
}

static ai_result get_entries(const msgpack_object *o, uint64_t limit,
                             struct ai_hour_entry **v, size_t *n, const char *name,
                             char *why, size_t cap)
{
	const char *e;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return ai_manifest_bad(why, cap, "%s: not an array", name);
	if (!o->via.array.size)
		return AI_OK;
	*v = ai_calloc_uncounted(o->via.array.size, sizeof **v);
	if (!*v)
		return AI_ERR_NOMEM;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *a = &o->via.array.ptr[i];
		struct ai_hour_entry *en = &(*v)[i];

		(*n)++;
		if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size < 2)
			return ai_manifest_bad(why, cap, "%s entry %u: not an [hour, seqs] array",
			                       name, i);
		if ((e = want_time(&a->via.array.ptr[0], &en->hour)))
			return ai_manifest_bad(why, cap, "%s entry %u: hour: %s", name, i, e);
		if (en->hour != ai_state_hour(en->hour))
			return ai_manifest_bad(why, cap,
			                       "%s entry %u: hour not on an hour boundary", name, i);
		if (i && en->hour <= (*v)[i - 1].hour)
			return ai_manifest_bad(why, cap,
			                       "%s entry %u: hours not strictly ascending", name, i);
		e = get_seqs(&a->via.array.ptr[1], limit, &en->seqs, &en->nseqs);
		if (e == NOMEM_REASON)
			return AI_ERR_NOMEM;
		if (e)
			return ai_manifest_bad(why, cap, "%s entry %u: seqs: %s", name, i, e);
	}
	return AI_OK;
}

static ai_result get_parts(const msgpack_object *o, struct ai_state *st, char *why,
                           size_t cap)
{
	static const char *const names[] = {
		"app", "type", "archived_through", "last_event", "members", "rows", "failed",
		"failed_oldest", "pending", "quarantined", "quarantined_oldest", "newest_blob",
	};
	const char *e = NULL;
	int k;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return ai_manifest_bad(why, cap, "parts: not an array");
	if (!o->via.array.size)
		return AI_OK;
	st->parts = ai_calloc_uncounted(o->via.array.size, sizeof *st->parts);
	if (!st->parts)
		return AI_ERR_NOMEM;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *a = &o->via.array.ptr[i];
		struct ai_partition_state *p = &st->parts[i];

		st->nparts++;
		if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size < 6)
			return ai_manifest_bad(why, cap, "part %u: not an array of 6", i);
		for (k = 0; k < 12 && (uint32_t)k < a->via.array.size && !e; k++) {
			const msgpack_object *v = &a->via.array.ptr[k];

			switch (k) {
			case 0: e = want_str(v, &p->app); break;
			case 1: e = want_str(v, &p->type); break;
			case 2: e = want_time(v, &p->archived_through); break;
			case 3: e = want_time(v, &p->last_event); break;
			case 4: e = want_u64(v, &p->members); break;
			case 5: e = want_u64(v, &p->rows); break;
			case 6: e = want_u64(v, &p->failed); break;
			case 7: e = want_time(v, &p->failed_oldest); break;
			case 8: e = want_u64(v, &p->pending); break;
			case 9: e = want_u64(v, &p->quarantined); break;
			case 10: e = want_time(v, &p->quarantined_oldest); break;
			case 11: e = want_time(v, &p->newest_blob); break;
			}
		}
		if (e == NOMEM_REASON)
			return AI_ERR_NOMEM;
		if (e)
			return ai_manifest_bad(why, cap, "part %u: %s: %s", i, names[k - 1], e);
		if (i && ai_state_part_cmp(p->app, p->type, p - 1) <= 0)
			return ai_manifest_bad(why, cap, "part %u: not in strictly ascending order",
			                       i);
	}
	return AI_OK;
}

/* The quarantined names: at most AI_STATE_MAX_QUARANTINED, strictly
 * ascending by name. */
static ai_result get_quarantined(const msgpack_object *o, struct ai_state *st, char *why,
                                 size_t cap)
{
	static const char *const names[] = {
		"name", "reason", "hour", "first_seen", "last_seen", "app", "type",
	};
	const char *e = NULL;
	int k;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return ai_manifest_bad(why, cap, "quarantined: not an array");
	if (o->via.array.size > AI_STATE_MAX_QUARANTINED)
		return ai_manifest_bad(why, cap, "quarantined: more than %d entries",
		                       AI_STATE_MAX_QUARANTINED);
	if (!o->via.array.size)
		return AI_OK;
	st->quarantined = calloc(o->via.array.size, sizeof *st->quarantined);
	if (!st->quarantined)
		return AI_ERR_NOMEM;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *a = &o->via.array.ptr[i];
		struct ai_quarantine_entry *q = &st->quarantined[i];

		st->nquarantined++;
		if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size < 5)
			return ai_manifest_bad(why, cap, "quarantined %u: not an array of 5", i);
		/* app and type go together: both or neither */
		int nk = a->via.array.size >= 7 ? 7 : 5;
		for (k = 0; k < nk && !e; k++) {
			const msgpack_object *v = &a->via.array.ptr[k];

			switch (k) {
			case 0: e = want_str(v, &q->name); break;
			case 1: e = want_str(v, &q->reason); break;
			case 2: e = want_time(v, &q->hour); break;
			case 3: e = want_time(v, &q->first_seen); break;
			case 4: e = want_time(v, &q->last_seen); break;
			case 5: e = want_str(v, &q->app); break;
			case 6: e = want_str(v, &q->type); break;
			}
		}
		if (e == NOMEM_REASON)
			return AI_ERR_NOMEM;
		if (e)
			return ai_manifest_bad(why, cap, "quarantined %u: %s: %s", i, names[k - 1],
			                       e);
		if (i && strcmp(q->name, q[-1].name) <= 0)
			return ai_manifest_bad(why, cap,
			                       "quarantined %u: not in strictly ascending order", i);
	}
	return AI_OK;
}

/* The tails waiting for their blob to stop growing: at most
 * AI_STATE_MAX_TAILS, strictly ascending by name. */
static ai_result get_tails(const msgpack_object *o, struct ai_state *st, char *why, size_t cap)
{
	static const char *const names[] = { "name", "hour", "length", "seen" };
	const char *e = NULL;
	int k;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return ai_manifest_bad(why, cap, "tails: not an array");
	if (o->via.array.size > AI_STATE_MAX_TAILS)
		return ai_manifest_bad(why, cap, "tails: more than %d entries", AI_STATE_MAX_TAILS);
	if (!o->via.array.size)
		return AI_OK;
	st->tails = calloc(o->via.array.size, sizeof *st->tails);
	if (!st->tails)
		return AI_ERR_NOMEM;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *a = &o->via.array.ptr[i];
		struct ai_tail_entry *t = &st->tails[i];

		st->ntails++;
		if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size < 4)
			return ai_manifest_bad(why, cap, "tail %u: not an array of 4", i);
		for (k = 0; k < 4 && !e; k++) {
			const msgpack_object *v = &a->via.array.ptr[k];

			switch (k) {
			case 0: e = want_str(v, &t->name); break;
			case 1: e = want_time(v, &t->hour); break;
			case 2: e = want_u64(v, &t->length); break;
			case 3: e = want_time(v, &t->seen); break;
			}
		}
		if (e == NOMEM_REASON)
			return AI_ERR_NOMEM;
		if (e)
			return ai_manifest_bad(why, cap, "tail %u: %s: %s", i, names[k - 1], e);
		if (i && strcmp(t->name, t[-1].name) <= 0)
			return ai_manifest_bad(why, cap, "tail %u: not in strictly ascending order",
			                       i);
	}
	return AI_OK;
}

/* The shards' entries: at most AI_STATE_MAX_SHARDS, strictly ascending by
 * (count, index). */
static ai_result get_shards(const msgpack_object *o, struct ai_state *st, char *why, size_t cap)
{
	static const char *const names[] = {
		"index", "count", "watermark", "failed_oldest", "held", "failed", "last_run_id",
		"last_run_time", "last_run_result", "last_run_exit",
	};
	const char *e = NULL;
	int k;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return ai_manifest_bad(why, cap, "shards: not an array");
	if (o->via.array.size > AI_STATE_MAX_SHARDS)
		return ai_manifest_bad(why, cap, "shards: more than %d entries", AI_STATE_MAX_SHARDS);
	if (!o->via.array.size)
		return AI_OK;
	st->shards = ai_calloc_uncounted(o->via.array.size, sizeof *st->shards);
	if (!st->shards)
		return AI_ERR_NOMEM;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *a = &o->via.array.ptr[i];
		struct ai_shard_state *x = &st->shards[i];
		uint64_t index = 0, count = 0;
		ai_time code = -1;

		st->nshards++;
		if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size < 10)
			return ai_manifest_bad(why, cap, "shard %u: not an array of 10", i);
		for (k = 0; k < 10 && !e; k++) {
			const msgpack_object *v = &a->via.array.ptr[k];

			switch (k) {
			case 0: e = want_u64(v, &index); break;
			case 1: e = want_u64(v, &count); break;
			case 2: e = want_time(v, &x->watermark); break;
			case 3: e = want_time(v, &x->failed_oldest); break;
			case 4: e = want_time(v, &x->held); break;
			case 5: e = want_u64(v, &x->failed); break;
			case 6: e = want_str(v, &x->last_run_id); break;
			case 7: e = want_time(v, &x->last_run_time); break;
			case 8: e = want_str(v, &x->last_run_result); break;
			case 9: e = want_time(v, &code); break;
			}
		}
		if (e == NOMEM_REASON)
			return AI_ERR_NOMEM;
		if (e)
			return ai_manifest_bad(why, cap, "shard %u: %s: %s", i, names[k - 1], e);
		if (count < 1 || count > 1024 || index >= count)
			return ai_manifest_bad(why, cap, "shard %u: not a shard of 1 to 1024", i);
		if (code < -1 || code > 255)
			return ai_manifest_bad(why, cap, "shard %u: last_run_exit: not -1 to 255", i);
		x->index = (uint32_t)index;
		x->count = (uint32_t)count;
		x->last_run_exit = (int)code;
		if (i && (x[-1].count > x->count ||
		          (x[-1].count == x->count && x[-1].index >= x->index)))
			return ai_manifest_bad(why, cap, "shard %u: not in strictly ascending order", i);
	}
	return AI_OK;
}

enum {
	T_FORMAT, T_VERSION, T_NEXT_SEQ, T_HEAD, T_UPDATED, T_WATERMARK, T_MAX_LAG,
	T_LAST_RUN_ID, T_LAST_RUN_TIME, T_LAST_RUN_RESULT, T_SOURCE, T_PARTS,
	T_BY_DELIVERY, T_BY_EVENT, T_WIDE,
	T_NREQUIRED,                  /* the rest are optional */
	T_QUARANTINED = T_NREQUIRED, T_TAILS, T_LAST_RUN_EXIT, T_LAYOUT, T_SHARDS, T_NFIELDS
};

static ai_result get_state(const msgpack_object *o, void *out, char *why, size_t cap)
{
	struct ai_state *st = out;
	struct field f[T_NFIELDS] = {
		{ "format", NULL }, { "version", NULL }, { "next_seq", NULL }, { "head", NULL },
		{ "updated", NULL }, { "watermark", NULL }, { "max_lag", NULL },
		{ "last_run_id", NULL }, { "last_run_time", NULL }, { "last_run_result", NULL },
		{ "source", NULL }, { "parts", NULL }, { "by_delivery", NULL },
		{ "by_event", NULL }, { "wide", NULL }, { "quarantined", NULL }, { "tails", NULL },
		{ "last_run_exit", NULL }, { "layout", NULL }, { "shards", NULL },
	};
	const char *e;
	ai_result r;

	r = map_fields(o, f, T_NFIELDS, why, cap, "");
	if (r != AI_OK)
		return r;
	r = check_header(f, T_NREQUIRED, AI_STATE_FORMAT, why, cap);
	if (r != AI_OK)
		return r;
	if ((e = want_u64(f[T_NEXT_SEQ].val, &st->next_seq)))
		return fail_field(e, why, cap, "", "next_seq");
	if ((e = want_sha(f[T_HEAD].val, st->head_sha256)))
		return fail_field(e, why, cap, "", "head");
	if ((e = want_time(f[T_UPDATED].val, &st->updated)))
		return fail_field(e, why, cap, "", "updated");
	if ((e = want_time(f[T_WATERMARK].val, &st->watermark)))
		return fail_field(e, why, cap, "", "watermark");
	if ((e = want_time(f[T_MAX_LAG].val, &st->max_lag)))
		return fail_field(e, why, cap, "", "max_lag");
	if (st->max_lag < 0)
		return ai_manifest_bad(why, cap, "max_lag: negative");
	if ((e = want_str(f[T_LAST_RUN_ID].val, &st->last_run_id)))
		return fail_field(e, why, cap, "", "last_run_id");
	if ((e = want_time(f[T_LAST_RUN_TIME].val, &st->last_run_time)))
		return fail_field(e, why, cap, "", "last_run_time");
	if ((e = want_str(f[T_LAST_RUN_RESULT].val, &st->last_run_result)))
		return fail_field(e, why, cap, "", "last_run_result");
	if ((e = want_str(f[T_SOURCE].val, &st->source)))
		return fail_field(e, why, cap, "", "source");
	r = get_parts(f[T_PARTS].val, st, why, cap);
	if (r != AI_OK)
		return r;
	r = get_entries(f[T_BY_DELIVERY].val, st->next_seq, &st->by_delivery,
	                &st->nby_delivery, "by_delivery", why, cap);
	if (r != AI_OK)
		return r;
	r = get_entries(f[T_BY_EVENT].val, st->next_seq, &st->by_event, &st->nby_event,
	                "by_event", why, cap);
	if (r != AI_OK)
		return r;
	e = get_seqs(f[T_WIDE].val, st->next_seq, &st->wide_seqs, &st->nwide);
	if (e)
		return fail_field(e, why, cap, "", "wide");
	if (f[T_QUARANTINED].val &&
	    (r = get_quarantined(f[T_QUARANTINED].val, st, why, cap)) != AI_OK)
		return r;
	if (f[T_TAILS].val && (r = get_tails(f[T_TAILS].val, st, why, cap)) != AI_OK)
		return r;
	if (f[T_LAST_RUN_EXIT].val) {
		uint64_t x;
		if ((e = want_u64(f[T_LAST_RUN_EXIT].val, &x)))
			return fail_field(e, why, cap, "", "last_run_exit");
		if (x > 255)
			return ai_manifest_bad(why, cap, "last_run_exit: more than 255");
		st->last_run_exit = (int)x;
	}
	if (f[T_LAYOUT].val && (e = want_str(f[T_LAYOUT].val, &st->layout)))
		return fail_field(e, why, cap, "", "layout");
	if (f[T_SHARDS].val && (r = get_shards(f[T_SHARDS].val, st, why, cap)) != AI_OK)
		return r;
	return AI_OK;
}

ai_result ai_state_decode(const void *p, size_t n, struct ai_state *out, char *why, size_t cap)
{
	ai_result r;

	ai_state_init(out);
	r = decode_with(p, n, get_state, out, why, cap);
	if (r != AI_OK)
		ai_state_release(out);
	return r;
}

/* ---- segment indexes ---- */

ai_result ai_segment_index_encode(const struct ai_segment_index *x, struct ai_buf *out)
{
	size_t start = out->len;
	struct enc e;

	if (x->napps > AI_SEGINDEX_MAX_NAMES || x->ntypes > AI_SEGINDEX_MAX_NAMES ||
	    x->nroles > AI_SEGINDEX_MAX_NAMES || x->bloom_len > AI_SEGINDEX_MAX_BLOOM)
		return AI_ERR_BAD_INPUT;
	enc_init(&e, out);
	msgpack_pack_map(&e.pk, 10);
	put_str(&e, "format");
	put_str(&e, AI_SEGINDEX_FORMAT);
	put_str(&e, "version");
	put_u64(&e, AI_MANIFEST_VERSION);
	put_str(&e, "seq");
	put_u64(&e, x->seq);
	put_str(&e, "segment");
	put_bin(&e, x->segment_sha256, AI_SHA256_LEN);
	put_str(&e, "members");
	put_u64(&e, x->members);
	put_str(&e, "apps");
	put_strs(&e, x->apps, x->napps);
	put_str(&e, "types");
	put_strs(&e, x->types, x->ntypes);
	put_str(&e, "roles");
	put_strs(&e, x->roles, x->nroles);
	put_str(&e, "roles_complete");
	if (x->roles_complete)
		msgpack_pack_true(&e.pk);
	else
		msgpack_pack_false(&e.pk);
	put_str(&e, "bloom");
	put_bin(&e, x->bloom, x->bloom_len);
	return enc_finish(&e, start);
}

enum {
	X_FORMAT, X_VERSION, X_SEQ, X_SEGMENT, X_MEMBERS, X_APPS, X_TYPES, X_ROLES,
	X_ROLES_COMPLETE, X_BLOOM, X_NFIELDS
};

/* Names must be strictly ascending: what the encoder writes, and what
 * lets a reader trust a lookup. */
static const char *want_sorted(const msgpack_object *o, char ***v, size_t *n)
{
	const char *e = want_strs(o, AI_SEGINDEX_MAX_NAMES, v, n);

	if (e)
		return e;
	for (size_t i = 1; i < *n; i++)
		if (strcmp((*v)[i - 1], (*v)[i]) >= 0)
			return "not strictly ascending";
	return NULL;
}

static ai_result get_segment_index(const msgpack_object *o, void *out, char *why, size_t cap)
{
	struct ai_segment_index *x = out;
	struct field f[X_NFIELDS] = {
		{ "format", NULL }, { "version", NULL }, { "seq", NULL }, { "segment", NULL },
		{ "members", NULL }, { "apps", NULL }, { "types", NULL }, { "roles", NULL },
		{ "roles_complete", NULL }, { "bloom", NULL },
	};
	const msgpack_object *b;
	const char *e;
	ai_result r;

	r = map_fields(o, f, X_NFIELDS, why, cap, "");
	if (r == AI_OK)
		r = check_header(f, X_NFIELDS, AI_SEGINDEX_FORMAT, why, cap);
	if (r != AI_OK)
		return r;
	if ((e = want_u64(f[X_SEQ].val, &x->seq)))
		return fail_field(e, why, cap, "", "seq");
	if ((e = want_sha(f[X_SEGMENT].val, x->segment_sha256)))
		return fail_field(e, why, cap, "", "segment");
	if ((e = want_u64(f[X_MEMBERS].val, &x->members)))
		return fail_field(e, why, cap, "", "members");
	if ((e = want_sorted(f[X_APPS].val, &x->apps, &x->napps)))
		return fail_field(e, why, cap, "", "apps");
	if ((e = want_sorted(f[X_TYPES].val, &x->types, &x->ntypes)))
		return fail_field(e, why, cap, "", "types");
	if ((e = want_sorted(f[X_ROLES].val, &x->roles, &x->nroles)))
		return fail_field(e, why, cap, "", "roles");
	if ((e = want_bool(f[X_ROLES_COMPLETE].val, &x->roles_complete)))
		return fail_field(e, why, cap, "", "roles_complete");
	b = f[X_BLOOM].val;
	if (b->type != MSGPACK_OBJECT_BIN)
		return ai_manifest_bad(why, cap, "bloom: not binary");
	if (b->via.bin.size > AI_SEGINDEX_MAX_BLOOM)
		return ai_manifest_bad(why, cap, "bloom: %u bytes", b->via.bin.size);
	if (ai_manifest_memdup(b->via.bin.ptr, b->via.bin.size, &x->bloom) != AI_OK)
		return AI_ERR_NOMEM;
	x->bloom_len = b->via.bin.size;
	return AI_OK;
}

ai_result ai_segment_index_decode(const void *p, size_t n, struct ai_segment_index *out,
                                  char *why, size_t cap)
{
	ai_result r;

	ai_segment_index_init(out);
	r = decode_with(p, n, get_segment_index, out, why, cap);
	if (r != AI_OK)
		ai_segment_index_release(out);
	return r;
}

/* ---- the genesis and key rotations ---- */

static int is_hex(const char *s, size_t n, const char *digits)
{
	return strlen(s) == n && strspn(s, digits) == n;
}

#define LOWER_HEX "0123456789abcdef"
#define UPPER_HEX "0123456789ABCDEF"

/* The checks both objects share: NULL, or what is wrong. */
static const char *check_key(const char *archive_id, const char *key_id,
                             const struct ai_minisign_pubkey *pk, const char **field)
{
	char have[AI_MINISIGN_KEYID_HEXLEN];

	*field = "archive_id";
	if (!is_hex(archive_id, AI_ARCHIVE_ID_HEXLEN - 1, LOWER_HEX))
		return "not 32 lowercase hex digits";
	*field = "key_id";
	if (!is_hex(key_id, AI_MINISIGN_KEYID_HEXLEN - 1, UPPER_HEX))
		return "not 16 uppercase hex digits";
	*field = "public_key";
	ai_minisign_keyid_hex(pk->keyid, have);
	if (strcmp(have, key_id) != 0)
		return "has another key id";
	return NULL;
}

static void put_key(struct enc *e, const struct ai_minisign_pubkey *pk)
{
	char b64[AI_MINISIGN_PUBKEY_B64LEN];

	ai_minisign_pubkey_b64(pk, b64);
	put_str(e, "public_key");
	put_str(e, b64);
}

static const char *want_hexstr(const msgpack_object *o, char *buf, size_t size)
{
	const char *e = want_str_into(o, buf, size);

	return e && strcmp(e, "too long") == 0 ? "not a key or archive id" : e;
}

static const char *want_key(const msgpack_object *o, struct ai_minisign_pubkey *pk)
{
	char b64[AI_MINISIGN_PUBKEY_B64LEN];
	const char *e = want_str_into(o, b64, sizeof b64);

	if (e)
		return strcmp(e, "too long") == 0 ? "not a minisign public key" : e;
	if (ai_minisign_pubkey_parse_b64(b64, strlen(b64), pk) != AI_OK)
		return "not a minisign public key";
	return NULL;
}

ai_result ai_genesis_encode(const struct ai_genesis *g, struct ai_buf *out)
{
	size_t start = out->len;
	const char *field;
	struct enc e;

	if (check_key(g->archive_id, g->key_id, &g->key, &field))
		return AI_ERR_BAD_INPUT;
	enc_init(&e, out);
	msgpack_pack_map(&e.pk, 6);
	put_str(&e, "format");
	put_str(&e, AI_GENESIS_FORMAT);
	put_str(&e, "version");
	put_u64(&e, AI_MANIFEST_VERSION);
	put_str(&e, "archive_id");
	put_str(&e, g->archive_id);
	put_str(&e, "key_id");
	put_str(&e, g->key_id);
	put_key(&e, &g->key);
	put_str(&e, "created");
	put_time(&e, g->created);
	return enc_finish(&e, start);
}

enum { G_FORMAT, G_VERSION, G_ARCHIVE_ID, G_KEY_ID, G_PUBLIC_KEY, G_CREATED, G_NFIELDS };

static ai_result get_genesis(const msgpack_object *o, void *out, char *why, size_t cap)
{
	struct ai_genesis *g = out;
	struct field f[G_NFIELDS] = {
		{ "format", NULL }, { "version", NULL }, { "archive_id", NULL }, { "key_id", NULL },
		{ "public_key", NULL }, { "created", NULL },
	};
	const char *e, *field;
	ai_result r;

	r = map_fields(o, f, G_NFIELDS, why, cap, "");
	if (r == AI_OK)
		r = check_header(f, G_NFIELDS, AI_GENESIS_FORMAT, why, cap);
	if (r != AI_OK)
		return r;
	if ((e = want_hexstr(f[G_ARCHIVE_ID].val, g->archive_id, sizeof g->archive_id)))
		return fail_field(e, why, cap, "", "archive_id");
	if ((e = want_hexstr(f[G_KEY_ID].val, g->key_id, sizeof g->key_id)))
		return fail_field(e, why, cap, "", "key_id");
	if ((e = want_key(f[G_PUBLIC_KEY].val, &g->key)))
		return fail_field(e, why, cap, "", "public_key");
	if ((e = want_time(f[G_CREATED].val, &g->created)))
		return fail_field(e, why, cap, "", "created");
	if ((e = check_key(g->archive_id, g->key_id, &g->key, &field)))
		return fail_field(e, why, cap, "", field);
	return AI_OK;
}

ai_result ai_genesis_decode(const void *p, size_t n, struct ai_genesis *out, char *why,
                            size_t cap)
{
	ai_result r;

	memset(out, 0, sizeof *out);
	r = decode_with(p, n, get_genesis, out, why, cap);
	if (r != AI_OK)
		memset(out, 0, sizeof *out);
	return r;
}

/* The rotation's own checks past check_key's. */
static const char *check_rotation(const struct ai_key_rotation *k, const char **field)
{
	const char *e = check_key(k->archive_id, k->new_key_id, &k->new_key, field);

	if (e) {
		if (strcmp(*field, "key_id") == 0)
			*field = "new_key_id";
		return e;
	}
	*field = "old_key_id";
	if (!is_hex(k->old_key_id, AI_MINISIGN_KEYID_HEXLEN - 1, UPPER_HEX))
		return "not 16 uppercase hex digits";
	if (strcmp(k->old_key_id, k->new_key_id) == 0)
		return "the key it replaces is the new key";
	*field = "seq";
	if (k->seq == 0)
		return "0 (the genesis key is key 0)";
	return NULL;
}

ai_result ai_key_rotation_encode(const struct ai_key_rotation *k, struct ai_buf *out)
{
	size_t start = out->len;
	const char *field;
	struct enc e;

	if (check_rotation(k, &field))
		return AI_ERR_BAD_INPUT;
	enc_init(&e, out);
	msgpack_pack_map(&e.pk, 8);
	put_str(&e, "format");
	put_str(&e, AI_ROTATION_FORMAT);
	put_str(&e, "version");
	put_u64(&e, AI_MANIFEST_VERSION);
	put_str(&e, "archive_id");
	put_str(&e, k->archive_id);
	put_str(&e, "seq");
	put_u64(&e, k->seq);
	put_str(&e, "old_key_id");
	put_str(&e, k->old_key_id);
	put_str(&e, "new_key_id");
	put_str(&e, k->new_key_id);
	put_key(&e, &k->new_key);
	put_str(&e, "created");
	put_time(&e, k->created);
	return enc_finish(&e, start);
}

enum {
	K_FORMAT, K_VERSION, K_ARCHIVE_ID, K_SEQ, K_OLD_KEY_ID, K_NEW_KEY_ID, K_PUBLIC_KEY,
	K_CREATED, K_NFIELDS
};

static ai_result get_rotation(const msgpack_object *o, void *out, char *why, size_t cap)
{
	struct ai_key_rotation *k = out;
	struct field f[K_NFIELDS] = {
		{ "format", NULL }, { "version", NULL }, { "archive_id", NULL }, { "seq", NULL },
		{ "old_key_id", NULL }, { "new_key_id", NULL }, { "public_key", NULL },
		{ "created", NULL },
	};
	const char *e, *field;
	ai_result r;

	r = map_fields(o, f, K_NFIELDS, why, cap, "");
	if (r == AI_OK)
		r = check_header(f, K_NFIELDS, AI_ROTATION_FORMAT, why, cap);
	if (r != AI_OK)
		return r;
	if ((e = want_hexstr(f[K_ARCHIVE_ID].val, k->archive_id, sizeof k->archive_id)))
		return fail_field(e, why, cap, "", "archive_id");
	if ((e = want_u64(f[K_SEQ].val, &k->seq)))
		return fail_field(e, why, cap, "", "seq");
	if ((e = want_hexstr(f[K_OLD_KEY_ID].val, k->old_key_id, sizeof k->old_key_id)))
		return fail_field(e, why, cap, "", "old_key_id");
	if ((e = want_hexstr(f[K_NEW_KEY_ID].val, k->new_key_id, sizeof k->new_key_id)))
		return fail_field(e, why, cap, "", "new_key_id");
	if ((e = want_key(f[K_PUBLIC_KEY].val, &k->new_key)))
		return fail_field(e, why, cap, "", "public_key");
	if ((e = want_time(f[K_CREATED].val, &k->created)))
		return fail_field(e, why, cap, "", "created");
	if ((e = check_rotation(k, &field)))
		return fail_field(e, why, cap, "", field);
	return AI_OK;
}

ai_result ai_key_rotation_decode(const void *p, size_t n, struct ai_key_rotation *out,
                                 char *why, size_t cap)
{
	ai_result r;

	memset(out, 0, sizeof *out);
	r = decode_with(p, n, get_rotation, out, why, cap);
	if (r != AI_OK)
		memset(out, 0, sizeof *out);
	return r;
}
