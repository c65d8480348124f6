/* rowscan.h: a narrow, fast scanner for one telemetry row (one JSON
 * document on one line). It checks that the row is well-formed JSON and
 * picks out the few fields the manifest indexes: event time, operation id
 * and cloud role, at fixed paths per export layout, and the record's ids
 * that `cat --dedupe` goes by. It allocates nothing,
 * so it keeps up with gzip on the same bytes. */
#ifndef AI_ROWSCAN_H
#define AI_ROWSCAN_H

#include <stddef.h>
#include "util/parse.h"

enum ai_row_schema {
	AI_SCHEMA_CONTINUOUS, /* context.data.eventTime, context.operation.id,
	                       * context.device.roleName */
	AI_SCHEMA_DIAGNOSTIC, /* time, OperationId, AppRoleName */
	AI_SCHEMA_WORKSPACE,  /* TimeGenerated, OperationId, AppRoleName */
};

#define AI_ROW_FIELD_MAX 128

struct ai_row_facts {
	int valid;                        /* the row is one well-formed JSON object */
	int has_time;                     /* event_time was found and parsed */
	ai_time event_time;
	char op_id[AI_ROW_FIELD_MAX];     /* decoded; "" when absent or too long */
	char role[AI_ROW_FIELD_MAX];      /* decoded; "" when absent or too long */
	/* The record's own ids, "" when absent or too long: _ItemId
	 * (internal.data.id in continuous export) and Id (top level; none in
	 * continuous export). */
	char item_id[AI_ROW_FIELD_MAX];
	char id[AI_ROW_FIELD_MAX];
};

/* Scans one row (without its line terminator). Never reads past len. */
void ai_row_scan(const char *row, size_t len, enum ai_row_schema schema,
                 struct ai_row_facts *out);

#endif
