/* backend.h: what a storage backend provides; only store.c and the
 * backends include this. */
#ifndef AI_STORE_BACKEND_H
#define AI_STORE_BACKEND_H

#include "store/store.h"

struct ai_store_ops {
	const char *name;
	ai_result (*list)(struct ai_store *s, const char *prefix, const char *delimiter,
	                  const char *marker, unsigned max, struct ai_blob_list *out);
	ai_result (*read)(struct ai_store *s, const char *name, uint64_t offset, uint64_t len,
	                  const char *if_match, struct ai_buf *out, struct ai_blob_info *info);
	/* if_match: NULL, or the ETag the blob must have for a replace */
	ai_result (*put)(struct ai_store *s, const char *name, const void *p, size_t n,
	                 unsigned flags, const char *if_match, const struct ai_meta *meta,
	                 char etag_out[AI_ETAG_MAX]);
	ai_result (*put_block)(struct ai_store *s, const char *name, const char *block_id,
	                       const void *p, size_t n);
	ai_result (*put_block_list)(struct ai_store *s, const char *name,
	                            const char *const *ids, size_t n, unsigned flags,
	                            const struct ai_meta *meta, char etag_out[AI_ETAG_MAX]);
	ai_result (*append)(struct ai_store *s, const char *name, const void *p, size_t n,
	                    uint64_t expected_pos);
	ai_result (*lease)(struct ai_store *s, const char *name, enum ai_lease_action action,
	                   int duration_s, char lease_id[AI_LEASE_ID_MAX]);
	ai_result (*props)(struct ai_store *s, const char *name, struct ai_blob_info *info,
	                   struct ai_meta *meta);
	ai_result (*set_metadata)(struct ai_store *s, const char *name, const struct ai_meta *meta,
	                          const char *lease_id);
	ai_result (*del)(struct ai_store *s, const char *name);
	ai_result (*create_container)(struct ai_store *s);
	ai_result (*account_info)(struct ai_store *s, char sku[64], char kind[64]);
	ai_result (*service_stats)(struct ai_store *s, char status[16], ai_time *last_sync);
	/* May be NULL: nothing of the backend's own to clean. */
	ai_result (*cleanup)(struct ai_store *s, ai_time before, int dry_run,
	                     struct ai_store_cleanup *out);
	void (*free)(struct ai_store *s);
};

/* The common head of every backend's store struct. */
struct ai_store {
	const struct ai_store_ops *ops;
	char *described;            /* redacted location for messages */
	char *credential;           /* its credential's kind and origin (NULL: none needed) */
	int remote;
	struct ai_store_stats stats; /* updated with __atomic builtins */
	ai_time (*now)(void);
};

/* Backend constructors, called by ai_store_open. */
ai_result ai_store_azure_open(struct ai_store **out, const struct ai_store_config *cfg);
ai_result ai_store_file_open(struct ai_store **out, const char *root, const struct ai_store_config *cfg);

/* Records one request of kind k (and bytes) in s's counters. */
void ai_store_count(struct ai_store *s, enum ai_req_kind k, uint64_t bytes_read,
                    uint64_t bytes_written);

/* The request trace of -vv (ARCHITECTURE.md §6.1): whether it is on, and
 * one line for one request that started at start (wall clock) and took
 * ns: method (or operation) and target (a URL without its SAS, or the
 * object), status (an HTTP status or the result's text), bytes sent and
 * received, and the retry it was (0 for the first attempt). The Azure
 * backend traces each attempt itself (with status and retry), store.c
 * each call of a backend that does not (s->remote == 0). */
int ai_store_tracing(void);
void ai_store_trace(ai_time start, const char *method, const char *target, const char *status,
                    uint64_t sent, uint64_t received, int64_t ns, unsigned retry);

/* The test hook's pause inside a lease call (AIARCHIVE_TEST_STOP_AFTER,
 * store.c): a backend calls it between reading a lease and writing it. */
void ai_store_test_pause(void);

#endif
