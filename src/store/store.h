/* store.h: the one storage interface every command uses. Two backends sit
 * behind it: Azure Blob Storage over HTTP(S) and a local directory
 * (file://) with the same semantics. Commands never know which one.
 *
 * Names are relative to the location (container and optional prefix). A
 * location that names an Azure account without a container spans all its
 * containers: names are then "container/blob", and listing the root with
 * delimiter "/" lists the containers as prefixes.
 *
 * Every call is blocking and thread-safe: run several threads to have
 * several requests in flight. Bodies are bounded in memory: large blobs are
 * read by range and written in blocks. On failure, ai_store_last_error()
 * gives a one-line description of what the service said (thread-local). */
#ifndef AI_STORE_H
#define AI_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"
#include "util/parse.h"
#include "util/result.h"

struct ai_store;

enum ai_blob_type { AI_BLOB_UNKNOWN = 0, AI_BLOB_BLOCK, AI_BLOB_APPEND, AI_BLOB_PAGE };
enum ai_lease_state { AI_LEASE_AVAILABLE = 0, AI_LEASE_LEASED, AI_LEASE_EXPIRED,
                      AI_LEASE_BREAKING, AI_LEASE_BROKEN };

#define AI_ETAG_MAX 80
#define AI_LEASE_ID_MAX 40
#define AI_META_MAX 8

struct ai_meta {
	size_t n;
	struct {
		char name[64];   /* C identifier rules, as Azure wants */
		char value[256];
	} kv[AI_META_MAX];
};

struct ai_blob_info {
	char *name;                /* owned; relative to the location */
	uint64_t size;
	char etag[AI_ETAG_MAX];    /* without quotes */
	ai_time last_modified;
	enum ai_blob_type type;
	enum ai_lease_state lease;
};

/* One page of a listing; release with ai_blob_list_release. */
struct ai_blob_list {
	struct ai_blob_info *blobs;
	size_t n;
	char **prefixes;           /* with delimiter: "a/b/" entries, owned */
	size_t nprefixes;
	char *next_marker;         /* NULL when the listing is complete */
};
void ai_blob_list_init(struct ai_blob_list *l);
void ai_blob_list_release(struct ai_blob_list *l);
/* Frees the name inside info (not info itself). */
void ai_blob_info_release(struct ai_blob_info *info);

/* Counters of requests by kind, updated atomically by every backend. */
enum ai_req_kind { AI_REQ_LIST, AI_REQ_GET, AI_REQ_HEAD, AI_REQ_PUT, AI_REQ_BLOCK,
                   AI_REQ_COMMIT, AI_REQ_APPEND, AI_REQ_LEASE, AI_REQ_OTHER, AI_REQ_KINDS };
struct ai_store_stats {
	uint64_t requests[AI_REQ_KINDS];
	uint64_t retries;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t secondary_reads;
};
const char *ai_req_kind_name(enum ai_req_kind k);

struct ai_store_config {
	const char *url;            /* location URL (https://, http://, file://) */
	const char *secondary_url;  /* RA-GRS read endpoint, or NULL */
	const char *sas;            /* SAS token without '?', or NULL */
	const char *account_key;    /* base64 account key, or NULL */
	const char *connection_string; /* AccountName=..;AccountKey=..;BlobEndpoint=.. */
	/* Without sas, account_key and connection_string, a SAS in url's query
	 * string is used. */
	const char *credential;     /* what the credential is and where it came from, named
	                             * in every 401/403 ("account key from --dest-key-file
	                             * '/etc/k'"), or NULL */
	int auth;                   /* enum ai_auth_method (store/auth/token.h); 0: auto */
	const char *client_id;      /* token methods: NULL means $AZURE_CLIENT_ID */
	const char *ca_file;        /* CA bundle for the storage and token endpoints, or NULL */
	const char *rbac_hint;      /* with a token, added to a 403 AuthorizationPermissionMismatch:
	                             * the role this command needs on this side */
	unsigned max_transfers;     /* concurrent HTTP transfers (0: 16) */
	unsigned max_tries;         /* attempts per request (0: 6) */
	int64_t retry_base_ns;      /* first backoff (0: 500 ms) */
	int64_t retry_max_delay_ns; /* cap on one backoff (0: 30 s) */
	int64_t retry_total_ns;     /* cap on all attempts of one call (0: 120 s) */
	int64_t connect_timeout_ns; /* 0: 10 s */
	int64_t stall_timeout_ns;   /* no progress for this long aborts (0: 30 s) */
	ai_time (*now)(void);       /* the clock (for request dates) */
};

/* Opens the location; no request is made yet. Free with ai_store_free. */
ai_result ai_store_open(struct ai_store **out, const struct ai_store_config *cfg) AI_MUST_CHECK;
void ai_store_free(struct ai_store *s);

/* The location as a safe string for messages (no secrets). */
const char *ai_store_describe(const struct ai_store *s);
/* The credential it uses, its kind and where it came from ("SAS from
 * AIARCHIVE_SOURCE_SAS (sp=rl, se=...)"), for messages; a local directory
 * says it needs none. */
const char *ai_store_credential(const struct ai_store *s);
/* 1 for Azure, 0 for a local directory. */
int ai_store_is_remote(const struct ai_store *s);
/* Snapshot of the request counters. */
void ai_store_get_stats(const struct ai_store *s, struct ai_store_stats *out);
/* Description of the last failure on this thread ("" if none). */
const char *ai_store_last_error(void);
/* What went wrong with r: the last failure's description on this thread,
 * or r's message when the store left none. */
const char *ai_store_why(ai_result r);
/* Sets this thread's last-error text (printf style). */
void ai_store_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Lists one page of names starting with prefix (may be NULL). With a
 * delimiter, names that contain it after the prefix are rolled up into
 * prefixes. marker continues a previous page (NULL for the first);
 * max 0 means the backend's maximum (5000). */
ai_result ai_store_list(struct ai_store *s, const char *prefix, const char *delimiter,
                        const char *marker, unsigned max, struct ai_blob_list *out) AI_MUST_CHECK;

/* Called with each page of a listing; a result other than AI_OK stops it. */
typedef ai_result (*ai_store_page_fn)(void *ctx, const struct ai_blob_list *page);

/* Lists every page under prefix (as ai_store_list) and hands each to fn.
 * A continuation marker that repeats the previous one is an error
 * (AI_ERR_PROTOCOL), so a misbehaving service cannot loop forever. */
ai_result ai_store_list_each(struct ai_store *s, const char *prefix, const char *delimiter,
                             ai_store_page_fn fn, void *ctx) AI_MUST_CHECK;

/* Reads len bytes from offset (len 0: to the end) into out, which it
 * appends to (its cap bounds the read: AI_ERR_TOO_BIG). info (may be NULL)
 * gets the blob's properties, with size = the whole blob's size.
 * if_match (may be NULL) makes the read fail with AI_ERR_CONFLICT when the
 * blob's ETag differs. A range past the end is AI_ERR_BAD_INPUT. */
ai_result ai_store_read(struct ai_store *s, const char *name, uint64_t offset, uint64_t len,
                        const char *if_match, struct ai_buf *out,
                        struct ai_blob_info *info) AI_MUST_CHECK;

#define AI_PUT_CREATE_ONLY 1u   /* fail with AI_ERR_EXISTS if the name exists */
#define AI_PUT_APPEND_BLOB 2u   /* create an (empty) append blob */

/* For the test hooks (AIARCHIVE_TEST_KILL_AFTER, _STOP_AFTER, store.c):
 * the calling thread's storage calls are left out of the count, so that a
 * call's number does not depend on timers (the lock's renewal thread). */
void ai_store_test_uncounted(void);

/* Writes a whole blob in one request (small objects). etag_out may be NULL. */
ai_result ai_store_put(struct ai_store *s, const char *name, const void *p, size_t n,
                       unsigned flags, const struct ai_meta *meta,
                       char etag_out[AI_ETAG_MAX]) AI_MUST_CHECK;

/* Replaces a blob only while its ETag is if_match: AI_ERR_CONFLICT when
 * another writer replaced it since (or it is gone). The check and the
 * replace are one step on both backends, so of two writers that read the
 * same ETag, one wins. AI_ERR_LOCKED (file://) when another process kept
 * the blob locked too long to check it: busy, not changed. */
ai_result ai_store_put_if_match(struct ai_store *s, const char *name, const void *p, size_t n,
                                const char *if_match, const struct ai_meta *meta,
                                char etag_out[AI_ETAG_MAX]) AI_MUST_CHECK;

/* Stages one block (<= 100 MiB) with a Content-MD5 check. block_id is
 * base64, the same length for every block of one blob. */
ai_result ai_store_put_block(struct ai_store *s, const char *name, const char *block_id,
                             const void *p, size_t n) AI_MUST_CHECK;
/* Commits the staged blocks in order; flags as for ai_store_put. */
ai_result ai_store_put_block_list(struct ai_store *s, const char *name,
                                  const char *const *block_ids, size_t n, unsigned flags,
                                  const struct ai_meta *meta,
                                  char etag_out[AI_ETAG_MAX]) AI_MUST_CHECK;

#define AI_APPEND_ANY UINT64_MAX
/* Appends to an append blob when its size is expected_pos (AI_APPEND_ANY:
 * no check); AI_ERR_CONFLICT when the position moved. */
ai_result ai_store_append(struct ai_store *s, const char *name, const void *p, size_t n,
                          uint64_t expected_pos) AI_MUST_CHECK;

enum ai_lease_action { AI_LEASE_ACQUIRE, AI_LEASE_RENEW, AI_LEASE_RELEASE, AI_LEASE_BREAK };
/* Lease on a blob. acquire: duration_s 15..60 or -1, lease_id is the
 * proposed id (may be NULL) and receives the id; renew/release: lease_id
 * is the held id; break: duration_s is the break period. A lease held by
 * someone else is AI_ERR_CONFLICT. */
ai_result ai_store_lease(struct ai_store *s, const char *name, enum ai_lease_action action,
                         int duration_s, char lease_id[AI_LEASE_ID_MAX]) AI_MUST_CHECK;
/* A fresh lease id, a version 4 GUID as Azure makes them. Proposed on an
 * acquire, it makes the acquire safe to send again: a lease already held
 * under the proposed id is granted once more, so an acquire whose answer
 * was lost does not come back as a lease held by someone else. */
ai_result ai_store_new_lease_id(char id[AI_LEASE_ID_MAX]) AI_MUST_CHECK;

/* Properties and metadata of one blob; AI_ERR_NOT_FOUND if absent. meta
 * may be NULL. */
ai_result ai_store_props(struct ai_store *s, const char *name, struct ai_blob_info *info,
                         struct ai_meta *meta) AI_MUST_CHECK;
/* Replaces the blob's metadata (lease_id may be NULL). */
ai_result ai_store_set_metadata(struct ai_store *s, const char *name, const struct ai_meta *meta,
                                const char *lease_id) AI_MUST_CHECK;
/* Deletes a blob (garbage collection and tests only). */
ai_result ai_store_delete(struct ai_store *s, const char *name) AI_MUST_CHECK;

/* What ai_store_cleanup found. */
struct ai_store_cleanup {
	uint64_t files;            /* removed (in a dry run: would be removed) */
	uint64_t bytes;
	uint64_t failed;           /* could not be removed */
};
/* Removes what writers that crashed left in the backend's own space (a
 * local directory's temporary files and staged blocks) when it was last
 * changed before `before`; with dry_run, only counts. Names never see
 * these. A no-op for Azure, which drops uncommitted blocks by itself
 * after a week. *out is zeroed first; AI_ERR_IO when some files could not
 * be removed (counted in out->failed). */
ai_result ai_store_cleanup(struct ai_store *s, ai_time before, int dry_run,
                           struct ai_store_cleanup *out) AI_MUST_CHECK;

/* Creates the location's container; an existing one is fine. */
ai_result ai_store_create_container(struct ai_store *s) AI_MUST_CHECK;
/* The account's replication SKU ("Standard_RAGRS", "local" for a
 * directory) and kind. */
ai_result ai_store_account_info(struct ai_store *s, char sku[64], char kind[64]) AI_MUST_CHECK;
/* Geo-replication status from the secondary endpoint: "live",
 * "bootstrap" or "unavailable", and the last sync time (AI_TIME_MIN if
 * unknown). AI_ERR_CONFIG when the store has no secondary. */
ai_result ai_store_service_stats(struct ai_store *s, char status[16],
                                 ai_time *last_sync) AI_MUST_CHECK;

#endif
