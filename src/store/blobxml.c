/* blobxml.c: the Blob service's XML through expat. Each document kind is a
 * table of element paths; a small state machine tracks the path and hands
 * the text of the leaves it knows to that kind's handler. */
#include <expat.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "store/blobxml.h"
#include "util/hex.h"

#define NAME_CAP 1024       /* Azure caps blob names at 1024 characters */
#define FIELD_CAP 256       /* small scalar fields: sizes, dates, codes */
#define TEXT_CAP 4096       /* markers (opaque, longer than a name) and messages */
#define MAX_BLOBS 5000      /* maxresults can not exceed 5000 */
#define MAX_PREFIXES 5000
#define PATH_CAP 160        /* longer than any path in the tables */
#define DEPTH_MAX 32        /* the service nests a handful of levels */
#define CHUNK (1u << 20)    /* XML_Parse takes an int length */

/* .NET's DateTime.MinValue, which the service may send while it has no
 * sync time yet; ai_time can not represent year 1. */
#define DOTNET_MIN_DATE "Mon, 01 Jan 0001 00:00:00 GMT"

enum field {
	F_BLOB = 1, F_BLOB_NAME, F_BLOB_SIZE, F_BLOB_ETAG, F_BLOB_MTIME, F_BLOB_TYPE,
	F_BLOB_LEASE, F_PREFIX, F_PREFIX_NAME, F_NEXT_MARKER, F_CONTAINER, F_CONTAINER_NAME,
	F_ERR_CODE, F_ERR_MSG, F_STATUS, F_SYNC_TIME
};

#define R_TRUNCATE 1u       /* text past cap is dropped instead of failing */

/* A path the document kind cares about: a record (cap 0: start and end
 * events only) or a text leaf of at most cap bytes. */
struct rule {
	const char *path;
	enum field field;
	size_t cap;
	unsigned flags;
};

struct xp;
typedef ai_result (*xp_start_fn)(struct xp *x, enum field f);
typedef ai_result (*xp_end_fn)(struct xp *x, enum field f, const char *text, size_t len);

struct xp {
	XML_Parser p;
	const char *root;
	const struct rule *rules;
	size_t nrules;
	xp_start_fn on_start;
	xp_end_fn on_end;
	void *arg;
	ai_result err;
	int seen_root;
	unsigned depth;
	unsigned deep;           /* levels below a path too long to match */
	char path[PATH_CAP];
	size_t plen;
	size_t mark[DEPTH_MAX];
	const struct rule *at[DEPTH_MAX];
	const struct rule *text_rule; /* leaf whose text is being collected */
	unsigned text_depth;
	int text_encoded;        /* the leaf said Encoded="true" */
	struct ai_buf text;
};

static void xp_fail(struct xp *x, ai_result r)
{
	if (x->err == AI_OK)
		x->err = r;
	XML_StopParser(x->p, XML_FALSE);
}

static const struct rule *xp_match(const struct xp *x)
{
	for (size_t i = 0; i < x->nrules; i++)
		if (strcmp(x->rules[i].path, x->path) == 0)
			return &x->rules[i];
	return NULL;
}

/* The service percent-encodes a name that XML can not carry and marks it
 * Encoded="true"; decodes b in place. */
static ai_result percent_decode(struct ai_buf *b)
{
	size_t i, o = 0;
	uint8_t byte;

	for (i = 0; i < b->len; i++) {
		char c = b->data[i];

		if (c == '%') {
			if (i + 2 >= b->len || ai_unhex(b->data + i + 1, 2, &byte, 1) != AI_OK ||
			    byte == 0)
				return AI_ERR_PROTOCOL;
			c = (char)byte;
			i += 2;
		}
		b->data[o++] = c;
	}
	b->len = o;
	if (b->data)
		b->data[o] = '\0';
	return AI_OK;
}

static int is_encoded(const XML_Char **attrs)
{
	for (size_t i = 0; attrs[i] && attrs[i + 1]; i += 2)
		if (strcmp(attrs[i], "Encoded") == 0 && strcmp(attrs[i + 1], "true") == 0)
			return 1;
	return 0;
}

static void XMLCALL xp_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct xp *x = ud;
	size_t nlen = strlen(name);
	const struct rule *r;
	ai_result rc;

	if (x->err != AI_OK)
		return;
	if (!x->seen_root) {
		if (strcmp(name, x->root) != 0) {
			xp_fail(x, AI_ERR_PROTOCOL);
			return;
		}
		x->seen_root = 1;
	}
	if (x->depth + x->deep >= DEPTH_MAX) {
		xp_fail(x, AI_ERR_PROTOCOL);
		return;
	}
	if (x->deep || x->plen + 1 + nlen >= sizeof x->path) {
		x->deep++;
		return;
	}
	x->mark[x->depth] = x->plen;
	if (x->plen)
		x->path[x->plen++] = '/';
	memcpy(x->path + x->plen, name, nlen + 1);
	x->plen += nlen;
	r = xp_match(x);
	x->at[x->depth++] = r;
	if (!r)
		return;
	if (r->cap) {
		x->text_rule = r;
		x->text_depth = x->depth;
		x->text_encoded = is_encoded(attrs);
		ai_buf_reset(&x->text);
	} else if ((rc = x->on_start(x, r->field)) != AI_OK) {
		xp_fail(x, rc);
	}
}

static void XMLCALL xp_end(void *ud, const XML_Char *name)
{
	struct xp *x = ud;
	const struct rule *r;
	ai_result rc = AI_OK;

	(void)name;
	if (x->err != AI_OK)
		return;
	if (x->deep) {
		x->deep--;
		return;
	}
	r = x->at[x->depth - 1];
	if (r && r->cap) {
		x->text_rule = NULL;
		if (x->text_encoded)
			rc = percent_decode(&x->text);
		if (rc == AI_OK && x->text.len > r->cap)
			rc = AI_ERR_PROTOCOL;
		if (rc == AI_OK)
			rc = x->on_end(x, r->field, ai_buf_str(&x->text), x->text.len);
	} else if (r) {
		rc = x->on_end(x, r->field, NULL, 0);
	}
	x->plen = x->mark[--x->depth];
	x->path[x->plen] = '\0';
	if (rc != AI_OK)
		xp_fail(x, rc);
}

static void XMLCALL xp_chars(void *ud, const XML_Char *s, int len)
{
	struct xp *x = ud;
	const struct rule *r = x->text_rule;
	size_t n = (size_t)len, cap;

	if (x->err != AI_OK || !r || x->deep || x->depth != x->text_depth)
		return;
	/* An encoded value is checked against cap once decoded. */
	cap = x->text_encoded ? 3 * r->cap : r->cap;
	if (cap > TEXT_CAP)
		cap = TEXT_CAP;
	if (x->text.len + n > cap) {
		if (!(r->flags & R_TRUNCATE)) {
			xp_fail(x, AI_ERR_PROTOCOL);
			return;
		}
		n = cap - x->text.len;
	}
	if (ai_buf_add(&x->text, s, n) != AI_OK)
		xp_fail(x, AI_ERR_NOMEM);
}

/* A DTD is the only way to declare entities, so refusing it at its start
 * rules out entity expansion (billion laughs) and external fetches. */
static void XMLCALL xp_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	xp_fail(ud, AI_ERR_PROTOCOL);
}

static void XMLCALL xp_entity(void *ud, const XML_Char *name, int is_param,
                              const XML_Char *value, int value_len, const XML_Char *base,
                              const XML_Char *sysid, const XML_Char *pubid,
                              const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	xp_fail(ud, AI_ERR_PROTOCOL);
}

/* Parses xml with x's table; x's rules, root and handlers are set. */
static ai_result xp_run(struct xp *x, const char *xml, size_t n)
{
	ai_result r = AI_OK;
	size_t chunk;

	x->err = AI_OK;
	ai_buf_init(&x->text, TEXT_CAP);
	/* Forcing UTF-8 keeps a declared exotic encoding from reaching expat's
	 * converters; the service always sends UTF-8. */
	x->p = XML_ParserCreate("UTF-8");
	if (!x->p)
		return AI_ERR_NOMEM;
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, xp_start, xp_end);
	XML_SetCharacterDataHandler(x->p, xp_chars);
	XML_SetStartDoctypeDeclHandler(x->p, xp_doctype);
	XML_SetEntityDeclHandler(x->p, xp_entity);
	XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
	do {
		chunk = n > CHUNK ? CHUNK : n;
		if (XML_Parse(x->p, xml, (int)chunk, chunk == n) != XML_STATUS_OK) {
			r = x->err != AI_OK ? x->err : AI_ERR_PROTOCOL;
			goto out;
		}
		xml += chunk;
		n -= chunk;
	} while (n);
	if (x->err != AI_OK)
		r = x->err;
	else if (!x->seen_root)
		r = AI_ERR_PROTOCOL;
out:
	XML_ParserFree(x->p);
	x->p = NULL;
	ai_buf_release(&x->text);
	return r;
}

/* Copies a leaf's text into a fixed buffer; too long is a protocol error
 * since a cut value would be a different value. */
static ai_result copy_text(char *dst, size_t cap, const char *text, size_t len)
{
	if (len >= cap)
		return AI_ERR_PROTOCOL;
	memcpy(dst, text, len);
	dst[len] = '\0';
	return AI_OK;
}

static ai_result dup_text(char **dst, const char *text, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		return AI_ERR_NOMEM;
	memcpy(s, text, len);
	s[len] = '\0';
	free(*dst);
	*dst = s;
	return AI_OK;
}

/* ---- List Blobs and List Containers ---- */

struct listing {
	struct ai_blob_list *out;
	size_t blob_alloc;
	size_t prefix_alloc;
	struct ai_blob_info cur;    /* the <Blob> being read */
	char *pending;              /* the <Name> of the current prefix or container */
};

static const struct rule list_rules[] = {
	{ "EnumerationResults/Blobs/Blob", F_BLOB, 0, 0 },
	{ "EnumerationResults/Blobs/Blob/Name", F_BLOB_NAME, NAME_CAP, 0 },
	{ "EnumerationResults/Blobs/Blob/Properties/Content-Length", F_BLOB_SIZE, FIELD_CAP, 0 },
	{ "EnumerationResults/Blobs/Blob/Properties/Etag", F_BLOB_ETAG, FIELD_CAP, 0 },
	{ "EnumerationResults/Blobs/Blob/Properties/Last-Modified", F_BLOB_MTIME, FIELD_CAP, 0 },
	{ "EnumerationResults/Blobs/Blob/Properties/BlobType", F_BLOB_TYPE, FIELD_CAP, 0 },
	{ "EnumerationResults/Blobs/Blob/Properties/LeaseState", F_BLOB_LEASE, FIELD_CAP, 0 },
	{ "EnumerationResults/Blobs/BlobPrefix", F_PREFIX, 0, 0 },
	{ "EnumerationResults/Blobs/BlobPrefix/Name", F_PREFIX_NAME, NAME_CAP, 0 },
	{ "EnumerationResults/NextMarker", F_NEXT_MARKER, TEXT_CAP, 0 },
};

static const struct rule container_rules[] = {
	{ "EnumerationResults/Containers/Container", F_CONTAINER, 0, 0 },
	{ "EnumerationResults/Containers/Container/Name", F_CONTAINER_NAME, FIELD_CAP, 0 },
	{ "EnumerationResults/NextMarker", F_NEXT_MARKER, TEXT_CAP, 0 },
};

static ai_result grow(void **arr, size_t *alloc, size_t n, size_t size, size_t max)
{
	size_t want;
	void *p;

	if (n < *alloc)
		return AI_OK;
	if (n >= max)
		return AI_ERR_PROTOCOL;
	want = *alloc ? *alloc * 2 : 16;
	if (want > max)
		want = max;
	p = realloc(*arr, want * size);
	if (!p)
		return AI_ERR_NOMEM;
	*arr = p;
	*alloc = want;
	return AI_OK;
}

static ai_result add_prefix(struct listing *l, char *s)
{
	struct ai_blob_list *o = l->out;
	ai_result r;

	r = grow((void **)&o->prefixes, &l->prefix_alloc, o->nprefixes, sizeof *o->prefixes,
	         MAX_PREFIXES);
	if (r != AI_OK)
		return r;
	o->prefixes[o->nprefixes++] = s;
	return AI_OK;
}

static ai_result list_start(struct xp *x, enum field f)
{
	struct listing *l = x->arg;

	/* Records do not nest, and these paths can only open at one level. */
	ai_blob_info_release(&l->cur);
	memset(&l->cur, 0, sizeof l->cur);
	l->cur.last_modified = AI_TIME_MIN;
	free(l->pending);
	l->pending = NULL;
	(void)f;
	return AI_OK;
}

static ai_result parse_etag(char etag[AI_ETAG_MAX], const char *text, size_t len)
{
	if (len >= 2 && text[0] == '"' && text[len - 1] == '"') {
		text++;
		len -= 2;
	}
	return copy_text(etag, AI_ETAG_MAX, text, len);
}

static ai_result parse_blob_type(enum ai_blob_type *t, const char *text)
{
	if (strcmp(text, "BlockBlob") == 0)
		*t = AI_BLOB_BLOCK;
	else if (strcmp(text, "AppendBlob") == 0)
		*t = AI_BLOB_APPEND;
	else if (strcmp(text, "PageBlob") == 0)
		*t = AI_BLOB_PAGE;
	else
		*t = AI_BLOB_UNKNOWN;
	return AI_OK;
}

static ai_result parse_lease_state(enum ai_lease_state *s, const char *text)
{
	static const char *const names[] = {
		[AI_LEASE_AVAILABLE] = "available", [AI_LEASE_LEASED] = "leased",
		[AI_LEASE_EXPIRED] = "expired", [AI_LEASE_BREAKING] = "breaking",
		[AI_LEASE_BROKEN] = "broken",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(text, names[i]) == 0) {
			*s = (enum ai_lease_state)i;
			return AI_OK;
		}
	}
	/* Guessing a lease state could let a writer ignore a held lease. */
	return AI_ERR_PROTOCOL;
}

static ai_result end_blob(struct listing *l)
{
	struct ai_blob_list *o = l->out;
	ai_result r;

	if (!l->cur.name || !*l->cur.name)
		return AI_ERR_PROTOCOL;
	r = grow((void **)&o->blobs, &l->blob_alloc, o->n, sizeof *o->blobs, MAX_BLOBS);
	if (r != AI_OK)
		return r;
	o->blobs[o->n++] = l->cur;
	memset(&l->cur, 0, sizeof l->cur);
	return AI_OK;
}

/* Ends a <BlobPrefix> or <Container>: its name becomes a prefix, with a
 * '/' after a container so that it reads like a rolled-up directory. */
static ai_result end_named(struct listing *l, int container)
{
	size_t len;
	char *s;
	ai_result r;

	if (!l->pending || !*l->pending)
		return AI_ERR_PROTOCOL;
	s = l->pending;
	if (container) {
		len = strlen(s);
		s = realloc(s, len + 2);
		if (!s)
			return AI_ERR_NOMEM;
		s[len] = '/';
		s[len + 1] = '\0';
	}
	l->pending = NULL;
	r = add_prefix(l, s);
	if (r != AI_OK)
		free(s);
	return r;
}

static ai_result list_end(struct xp *x, enum field f, const char *text, size_t len)
{
	struct listing *l = x->arg;
	struct ai_blob_info *b = &l->cur;

	switch (f) {
	case F_BLOB:
		return end_blob(l);
	case F_PREFIX:
		return end_named(l, 0);
	case F_CONTAINER:
		return end_named(l, 1);
	case F_BLOB_NAME:
		return dup_text(&b->name, text, len);
	case F_PREFIX_NAME:
	case F_CONTAINER_NAME:
		return dup_text(&l->pending, text, len);
	case F_BLOB_SIZE:
		return ai_parse_u64(text, INT64_MAX, &b->size) == AI_OK ? AI_OK : AI_ERR_PROTOCOL;
	case F_BLOB_ETAG:
		return parse_etag(b->etag, text, len);
	case F_BLOB_MTIME:
		return ai_parse_http_date(text, &b->last_modified) == AI_OK ? AI_OK
		                                                            : AI_ERR_PROTOCOL;
	case F_BLOB_TYPE:
		return parse_blob_type(&b->type, text);
	case F_BLOB_LEASE:
		return parse_lease_state(&b->lease, text);
	case F_NEXT_MARKER:
		if (!len) {
			free(l->out->next_marker);
			l->out->next_marker = NULL;
			return AI_OK;
		}
		return dup_text(&l->out->next_marker, text, len);
	default:
		return AI_ERR_INTERNAL;
	}
}

static ai_result parse_listing(const char *xml, size_t n, struct ai_blob_list *out,
                               const struct rule *rules, size_t nrules)
{
	struct listing l = { .out = out };
	struct xp x = {
		.root = "EnumerationResults", .rules = rules, .nrules = nrules,
		.on_start = list_start, .on_end = list_end, .arg = &l,
	};
	ai_result r;

	ai_blob_list_init(out);
	r = xp_run(&x, xml, n);
	ai_blob_info_release(&l.cur);
	free(l.pending);
	if (r != AI_OK)
		ai_blob_list_release(out);
	return r;
}

ai_result ai_blobxml_parse_list(const char *xml, size_t n, struct ai_blob_list *out)
{
	return parse_listing(xml, n, out, list_rules, sizeof list_rules / sizeof list_rules[0]);
}

ai_result ai_blobxml_parse_containers(const char *xml, size_t n, struct ai_blob_list *out)
{
	return parse_listing(xml, n, out, container_rules,
	                     sizeof container_rules / sizeof container_rules[0]);
}

/* ---- Error bodies ---- */

struct errbody {
	char *code;
	size_t codecap;
	char *msg;
	size_t msgcap;
	int have_code;
};

static const struct rule error_rules[] = {
	{ "Error/Code", F_ERR_CODE, FIELD_CAP, 0 },
	{ "Error/Message", F_ERR_MSG, TEXT_CAP, R_TRUNCATE },
};

static ai_result no_start(struct xp *x, enum field f)
{
	(void)x;
	(void)f;
	return AI_OK;
}

static ai_result error_end(struct xp *x, enum field f, const char *text, size_t len)
{
	struct errbody *e = x->arg;
	size_t line;

	if (f == F_ERR_CODE) {
		e->have_code = len > 0;
		return copy_text(e->code, e->codecap, text, len);
	}
	/* The service adds "RequestId:..." and "Time:..." lines: keep the first. */
	line = strcspn(text, "\r\n");
	if (line >= e->msgcap) {
		line = e->msgcap - 1;
		while (line && ((unsigned char)text[line] & 0xC0) == 0x80)
			line--;   /* do not split a UTF-8 sequence */
	}
	memcpy(e->msg, text, line);
	e->msg[line] = '\0';
	return AI_OK;
}

ai_result ai_blobxml_parse_error(const char *xml, size_t n, char *code, size_t codecap,
                                 char *msg, size_t msgcap)
{
	struct errbody e = { code, codecap, msg, msgcap, 0 };
	struct xp x = {
		.root = "Error", .rules = error_rules,
		.nrules = sizeof error_rules / sizeof error_rules[0],
		.on_start = no_start, .on_end = error_end, .arg = &e,
	};
	ai_result r;

	if (!codecap || !msgcap)
		return AI_ERR_INTERNAL;
	code[0] = msg[0] = '\0';
	r = xp_run(&x, xml, n);
	if (r == AI_OK && !e.have_code)
		r = AI_ERR_PROTOCOL;
	if (r != AI_OK)
		code[0] = msg[0] = '\0';
	return r;
}

/* ---- Service stats ---- */

struct stats {
	char *status;
	size_t cap;
	ai_time *last_sync;
	int have_status;
};

static const struct rule stats_rules[] = {
	{ "StorageServiceStats/GeoReplication/Status", F_STATUS, FIELD_CAP, 0 },
	{ "StorageServiceStats/GeoReplication/LastSyncTime", F_SYNC_TIME, FIELD_CAP, 0 },
};

static ai_result stats_end(struct xp *x, enum field f, const char *text, size_t len)
{
	struct stats *s = x->arg;

	if (f == F_STATUS) {
		s->have_status = len > 0;
		return copy_text(s->status, s->cap, text, len);
	}
	if (!len || strcmp(text, DOTNET_MIN_DATE) == 0) {
		*s->last_sync = AI_TIME_MIN;
		return AI_OK;
	}
	return ai_parse_http_date(text, s->last_sync) == AI_OK ? AI_OK : AI_ERR_PROTOCOL;
}

ai_result ai_blobxml_parse_stats(const char *xml, size_t n, char *status, size_t cap,
                                 ai_time *last_sync)
{
	struct stats s = { status, cap, last_sync, 0 };
	struct xp x = {
		.root = "StorageServiceStats", .rules = stats_rules,
		.nrules = sizeof stats_rules / sizeof stats_rules[0],
		.on_start = no_start, .on_end = stats_end, .arg = &s,
	};
	ai_result r;

	if (!cap)
		return AI_ERR_INTERNAL;
	status[0] = '\0';
	*last_sync = AI_TIME_MIN;
	r = xp_run(&x, xml, n);
	if (r == AI_OK && !s.have_status)
		r = AI_ERR_PROTOCOL;
	if (r != AI_OK) {
		status[0] = '\0';
		*last_sync = AI_TIME_MIN;
	}
	return r;
}

/* ---- Put Block List body ---- */

static ai_result add_escaped(struct ai_buf *out, const char *s)
{
	ai_result r = AI_OK;

	if (!*s)
		return AI_ERR_BAD_INPUT;
	for (; *s && r == AI_OK; s++) {
		switch (*s) {
		case '&': r = ai_buf_addstr(out, "&amp;"); break;
		case '<': r = ai_buf_addstr(out, "&lt;"); break;
		case '>': r = ai_buf_addstr(out, "&gt;"); break;
		case '"': r = ai_buf_addstr(out, "&quot;"); break;
		case '\'': r = ai_buf_addstr(out, "&apos;"); break;
		default:
			/* XML 1.0 can not carry most control characters at all. */
			if ((unsigned char)*s < 0x20)
				return AI_ERR_BAD_INPUT;
			r = ai_buf_addc(out, *s);
		}
	}
	return r;
}

ai_result ai_blobxml_block_list(const char *const *ids, size_t n, struct ai_buf *out)
{
	size_t start = out->len;
	ai_result r;

	r = ai_buf_addstr(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (size_t i = 0; i < n && r == AI_OK; i++) {
		if (!ids[i]) {
			r = AI_ERR_BAD_INPUT;
			break;
		}
		r = ai_buf_addstr(out, "<Latest>");
		if (r == AI_OK)
			r = add_escaped(out, ids[i]);
		if (r == AI_OK)
			r = ai_buf_addstr(out, "</Latest>");
	}
	if (r == AI_OK)
		r = ai_buf_addstr(out, "</BlockList>");
	if (r != AI_OK && out->data) {
		/* Leave out as it was so a caller can not send half a list. */
		out->len = start;
		out->data[start] = '\0';
	}
	return r;
}
