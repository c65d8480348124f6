/* replication.c: the destination account's replication SKU, the
 * geo-redundancy warning and the secondary's geo-replication status. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "engine/replication.h"
#include "util/log.h"

ai_result ai_replication_sku(struct ai_store *dest, char sku[64])
{
	char kind[64];
	ai_result r = ai_store_account_info(dest, sku, kind);

	if (r != AI_OK) {
		ai_info("dest: account information unavailable (%s)", ai_store_why(r));
		snprintf(sku, 64, "unknown");
	}
	return r;
}

void ai_replication_check(struct ai_store *dest, char sku[64])
{
	if (ai_replication_sku(dest, sku) != AI_OK)
		return;
	if (!ai_store_is_remote(dest))
		ai_info("dest: a local directory, not geo-redundant");
	else if (!strcasestr(sku, "GRS") && !strcasestr(sku, "GZRS"))
		ai_warn("dest: account SKU %s is not geo-redundant; the archive will not survive "
		        "the loss of its region", sku);
}

void ai_replication_geo(struct ai_store *dest, char status[16], ai_time *last_sync)
{
	ai_result r = ai_store_service_stats(dest, status, last_sync);

	if (r != AI_OK) {
		ai_warn("dest: geo-replication status unavailable (%s)", ai_store_why(r));
		snprintf(status, 16, "unavailable");
		*last_sync = AI_TIME_MIN;
	}
}
