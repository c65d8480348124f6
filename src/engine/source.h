/* source.h: finding export blobs in the source, for the three layouts of
 * ARCHITECTURE.md §4, listing only the delivery-hour folders asked for, never the
 * whole history. */
#ifndef AI_SOURCE_H
#define AI_SOURCE_H

#include <stddef.h>
#include "format/rowscan.h"
#include "util/parse.h"
#include "util/result.h"
#include "store/store.h"
#include "util/strvec.h"

struct ai_shard;

enum ai_layout {
	AI_LAYOUT_AUTO,
	AI_LAYOUT_CONTINUOUS,
	AI_LAYOUT_DIAGNOSTIC,
	AI_LAYOUT_WORKSPACE,   /* Log Analytics workspace data export, am-* containers */
};

/* "continuous-export" / "diagnostic-settings" / "workspace-export". */
const char *ai_layout_name(enum ai_layout l);
/* The row fields a layout's records carry (format/rowscan.h), by layout
 * or by the name a segment records (unknown names: continuous export). */
enum ai_row_schema ai_layout_schema(enum ai_layout l);
enum ai_row_schema ai_layout_schema_named(const char *name);
/* Parses the --layout value; AI_ERR_USAGE when unknown. */
ai_result ai_layout_parse(const char *s, enum ai_layout *out) AI_MUST_CHECK;
/* The layout's folder for a delivery hour, below a type folder
 * ("2026-11-20/13/", also the archive's own naming below data/<app>/<type>/)
 * or a diagnostic-settings resource folder or workspace folder
 * ("y=2026/m=11/d=20/h=13/"). */
void ai_layout_hour_folder(enum ai_layout l, ai_time hour, char *out, size_t cap);

/* One source blob found in a delivery-hour folder. Strings are owned. */
struct ai_source_item {
	char *name;              /* blob name in the source store */
	char *app;               /* lowercase resource (or workspace) name */
	char *type;              /* type folder, category ("apprequests") or table */
	ai_time hour;            /* delivery hour (folder time; for a workspace
	                          * export the hour of its records' TimeGenerated) */
	uint64_t size;
	char etag[AI_ETAG_MAX];
	ai_time last_modified;
	int append;              /* an append blob that may still grow */
};

/* A source name that cannot be archived safely (ARCHITECTURE.md §4.1): a
 * blob, or a folder (its name ends with '/') below which nothing is
 * listed. The name is owned; the reason is a static string. */
struct ai_source_quarantined {
	char *name;
	const char *reason;
	ai_time hour;            /* a blob's delivery hour; AI_TIME_MIN for a folder */
	char *app, *type;        /* a blob's app and type (owned); NULL for a folder */
};

/* What a scan found: the blobs to archive and, apart, the names it put
 * in quarantine (sorted by name), and the app and type names its folder
 * listings showed before the filter was applied (each once, in listing
 * order; types only below the apps, or in the categories, the filter
 * let through), so that a filter matching nothing can name the nearest. */
struct ai_source_list {
	struct ai_source_item *items;
	size_t n, cap;
	struct ai_source_quarantined *quarantined;
	size_t nquarantined, capquarantined;
	struct ai_strvec apps_seen, types_seen;
	/* Set by the caller to take the blobs page by page: once flush_every
	 * blobs are held and the next starts another app, type or delivery
	 * hour (or flush_every / 4 more are held), the scan sorts the items,
	 * calls flush, which takes them (and leaves n at 0), and goes on; a
	 * result other than AI_OK stops the scan with it. The items a scan
	 * leaves are the last of them. */
	ai_result (*flush)(void *ctx, struct ai_source_list *l);
	void *flush_ctx;
	size_t flush_every;
};
void ai_source_list_init(struct ai_source_list *l);
/* Frees the items (and what else l holds) and empties l; the flush
 * callback stays. */
void ai_source_list_release(struct ai_source_list *l);
/* Frees the items only (n becomes 0). */
void ai_source_list_drop_items(struct ai_source_list *l);
/* Sorts the items by app, type, hour and name. */
void ai_source_list_sort(struct ai_source_list *l);
/* Gives it its own copies of name, app and type; on AI_ERR_NOMEM it owns
 * none of them. */
ai_result ai_source_item_names(struct ai_source_item *it, const char *name, const char *app,
                               const char *type) AI_MUST_CHECK;

struct ai_source_filter {
	char *const *apps;       /* empty: every app */
	size_t napps;
	char *const *types;      /* empty: every type (case-insensitive) */
	size_t ntypes;
	ai_time from, to;        /* delivery hours in [from, to) */
	const struct ai_shard *shard; /* not NULL: only the partitions (app, type, hour)
	                          * of this shard are listed and kept (shard.h) */
	unsigned jobs;           /* listings at once (0: one after another) */
};

/* A value of --app or --type that matched no folder the scan listed, with
 * the nearest names it did list. */
struct ai_source_unmatched {
	const char *option;      /* "--app" or "--type" */
	const char *value;       /* the filter's value */
	const char *nearest[3];  /* at least distance first; n of them */
	size_t n;
	size_t known;            /* how many names of that kind the scan listed */
};

/* The filter values of f that matched nothing in l (at most max, into
 * out); returns how many. Types are judged only when every app value
 * matched (or there is none) and the other way round for diagnostic
 * settings' categories, since a scan lists the inner names only below
 * the outer ones it let through. The strings point into f and l. */
size_t ai_source_unmatched(const struct ai_source_filter *f, const struct ai_source_list *l,
                           enum ai_layout layout, struct ai_source_unmatched *out, size_t max);

/* How long after its hour a folder of the layout may still change: grace,
 * or for a workspace export (appends into the folder of a record's
 * TimeGenerated, retried for up to 12 hours) late_window when longer. */
int64_t ai_source_settle(enum ai_layout l, int64_t grace, int64_t late_window);

/* Looks at the top of the source: insights-logs-* containers mean
 * diagnostic settings, else am-* containers a workspace data export,
 * anything else continuous export. */
ai_result ai_source_detect(struct ai_store *src, enum ai_layout *out) AI_MUST_CHECK;

/* Lists the blobs of the delivery hours in the filter's window, sorted by
 * app, type, hour and name. Folders that do not fit the layout are
 * skipped with a debug message. Names that fit it but fail
 * ai_source_name_ok, and app or type folders whose name fails
 * ai_source_part_ok, go to out->quarantined instead (a folder's blobs are
 * then not listed); names the filter leaves out are not looked at. */
ai_result ai_source_scan(struct ai_store *src, enum ai_layout layout,
                         const struct ai_source_filter *f, struct ai_source_list *out) AI_MUST_CHECK;

/* Longest source name taken, and longest path segment in it (bytes). */
#define AI_SOURCE_NAME_MAX 1024
#define AI_SOURCE_SEGMENT_MAX 255

/* 1 when a source blob name (or a folder's, ending with '/') can be
 * archived safely: 1 to AI_SOURCE_NAME_MAX bytes of UTF-8 without control
 * characters (C0, DEL, C1), and no empty, "." or ".." path segment or one
 * longer than AI_SOURCE_SEGMENT_MAX. Otherwise 0, and *reason (a static
 * string) says why. */
int ai_source_name_ok(const char *name, const char **reason);
/* 1 when an app name (type 0) or a type name (type 1) can be one path
 * segment of the archive's object names (data/<app>/<type>/...): what
 * ai_source_name_ok asks of a segment, and no '/' or backslash (Azure reads
 * a backslash as '/'), not ending with '.' (Azure drops it). Otherwise 0
 * with *reason. */
int ai_source_part_ok(const char *part, int type, const char **reason);

/* Parses "<app>_<32 hex>" (continuous export folder, no slash) into the
 * app name; 0 when it does not fit. */
int ai_source_parse_app_folder(const char *folder, size_t len, char *app, size_t cap);

#endif
