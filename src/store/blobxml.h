/* blobxml.h: the XML of the Blob service, parsed with expat: List Blobs,
 * List Containers, error bodies, service stats; and the Put Block List
 * body. Inputs come from the network: every field is bounded. */
#ifndef AI_BLOBXML_H
#define AI_BLOBXML_H

#include <stddef.h>
#include "util/buf.h"
#include "util/parse.h"
#include "util/result.h"
#include "store/store.h"

/* List Blobs page -> blobs, prefixes (BlobPrefix) and next marker
 * (NULL when empty). Names are returned as in the XML. */
ai_result ai_blobxml_parse_list(const char *xml, size_t n, struct ai_blob_list *out) AI_MUST_CHECK;
/* List Containers page -> container names as prefixes "name/". */
ai_result ai_blobxml_parse_containers(const char *xml, size_t n,
                                      struct ai_blob_list *out) AI_MUST_CHECK;
/* <Error><Code>..</Code><Message>..</Message></Error>; the message is cut
 * at its first line (the service appends RequestId and Time). */
ai_result ai_blobxml_parse_error(const char *xml, size_t n, char *code, size_t codecap,
                                 char *msg, size_t msgcap) AI_MUST_CHECK;
/* <StorageServiceStats><GeoReplication><Status>/<LastSyncTime>; an empty
 * LastSyncTime gives AI_TIME_MIN. */
ai_result ai_blobxml_parse_stats(const char *xml, size_t n, char *status, size_t cap,
                                 ai_time *last_sync) AI_MUST_CHECK;
/* <?xml ..?><BlockList><Latest>id</Latest>...</BlockList> appended to out. */
ai_result ai_blobxml_block_list(const char *const *ids, size_t n, struct ai_buf *out) AI_MUST_CHECK;

#endif
