/* replication.h: how the destination account replicates. The archive must
 * survive the loss of a region (ARCHITECTURE.md §1): run warns when the
 * account is not geo-redundant, status reports the SKU and the
 * secondary's sync. */
#ifndef AI_REPLICATION_H
#define AI_REPLICATION_H

#include "util/parse.h"
#include "store/store.h"

/* The account's replication SKU ("Standard_RAGRS", "local") into sku;
 * "unknown", said at info level, when the account cannot tell (the
 * result says so too; callers may go on without it). */
ai_result ai_replication_sku(struct ai_store *dest, char sku[64]);
/* ai_replication_sku, then a warning when the archive is not
 * geo-redundant (an info line for a local directory). */
void ai_replication_check(struct ai_store *dest, char sku[64]);
/* The secondary's geo-replication status ("live", "bootstrap") and last
 * sync time (AI_TIME_MIN if unknown); "unavailable", with a warning, when
 * the secondary cannot tell. */
void ai_replication_geo(struct ai_store *dest, char status[16], ai_time *last_sync);

#endif
