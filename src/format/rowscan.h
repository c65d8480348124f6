/* rowscan.h: a narrow, fast scanner for one telemetry row (one JSON
 * document on one line). It checks that the row is well-formed JSON and
 * picks out the few fields the manifest indexes: event time, operation id,
 * cloud role and (workspace export) the record's app, at fixed paths per
 * export layout, and the record's ids
 * that `cat --dedupe` goes by. It allocates nothing,
 * so it keeps up with gzip on the same bytes. */
#ifndef AI_ROWSCAN_H
#define AI_ROWSCAN_H

#include <stddef.h>
#include "util/buf.h"
#include "util/parse.h"
#include "util/result.h"

enum ai_row_schema {
	AI_SCHEMA_CONTINUOUS, /* context.data.eventTime, context.operation.id,
	                       * context.device.roleName */
	AI_SCHEMA_DIAGNOSTIC, /* time, OperationId, AppRoleName */
	AI_SCHEMA_WORKSPACE,  /* TimeGenerated, OperationId, AppRoleName */
};

#define AI_ROW_FIELD_MAX 128
#define AI_ROW_APP_MAX 1024       /* an app name from _ResourceId, with its NUL */
#define AI_ROW_RESOURCE_MAX 4096  /* a _ResourceId looked at, with its NUL */

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
	/* Workspace export: the app the record belongs to, the last segment
	 * of its _ResourceId (.../microsoft.insights/components/<name>),
	 * lowercased; "" when it has none (absent, not a string, longer than
	 * AI_ROW_RESOURCE_MAX, or no last segment) or for another schema. */
	char app[AI_ROW_APP_MAX];
};

/* Scans one row (without its line terminator). Never reads past len. */
void ai_row_scan(const char *row, size_t len, enum ai_row_schema schema,
                 struct ai_row_facts *out);

/* A path to a value: its keys from the top object; a segment of decimal
 * digits also names that element of an array ("a.0.b"). */
#define AI_ROW_PATH_MAX 64    /* paths one scan looks for, at most */
#define AI_ROW_PATH_DEPTH 16  /* segments of one path, at most */
struct ai_row_path {
	size_t nseg;
	const char *seg[AI_ROW_PATH_DEPTH];  /* not NUL-terminated */
	size_t seglen[AI_ROW_PATH_DEPTH];
};

/* Splits a dotted path ("context.data.eventTime") into out, pointing
 * into dotted (which must outlive out). AI_ERR_BAD_INPUT for an empty
 * segment or more than AI_ROW_PATH_DEPTH of them. */
ai_result ai_row_path_parse(const char *dotted, struct ai_row_path *out) AI_MUST_CHECK;

/* A value found in a row: its JSON text there (a string with its quotes);
 * p is NULL when the row has nothing at the path. */
struct ai_row_value {
	const char *p;
	size_t len;
};

/* Scans one row like ai_row_scan; vals[i] gets the first value at
 * paths[i] (n <= AI_ROW_PATH_MAX). Returns 1 when the row is one
 * well-formed JSON object, else 0 (vals then mean nothing). */
int ai_row_extract(const char *row, size_t len, const struct ai_row_path *paths, size_t n,
                   struct ai_row_value *vals);

/* Appends a value as text for a table cell: a string decoded (UTF-8),
 * null and an absent value as nothing, numbers, booleans, objects and
 * arrays as their JSON text. */
ai_result ai_row_value_text(const struct ai_row_value *v, struct ai_buf *out) AI_MUST_CHECK;

#endif
