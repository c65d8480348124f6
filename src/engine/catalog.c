/* catalog.c: selecting archived members by filter from manifest objects
 * whose signatures are checked before use, with a local cache of segments
 * that is checked the same way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "engine/archive.h"
#include "format/bloom.h"
#include "engine/catalog.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/log.h"
#include "format/manifest_codec.h"
#include "util/regfile.h"
#include "format/minisign.h"
#include "cmd/options.h"
#include "engine/identity.h"
#include "engine/trust.h"

#define MAX_SEGMENT_BYTES (512u << 20)
#define CACHE_PATH_MAX 4096

/* ---- selection rules ---- */

void ai_catalog_filter_from_options(struct ai_catalog_filter *f, const struct ai_options *o)
{
	memset(f, 0, sizeof *f);
	f->has_from = o->has_from;
	f->has_to = o->has_to;
	f->from = o->from;
	f->to = o->to;
	f->apps = o->apps;
	f->napps = o->napps;
	f->types = o->types;
	f->ntypes = o->ntypes;
	f->roles = o->roles;
	f->nroles = o->nroles;
	f->op_ids = o->operation_ids;
	f->nop_ids = o->noperation_ids;
	f->tags = o->tags;
	f->ntags = o->ntags;
	f->blob = o->blob;
	f->blob_prefix = o->blob_prefix;
}

void ai_catalog_opts_from_options(struct ai_catalog_opts *c, const struct ai_options *o,
                                  const struct ai_store *dest, struct ai_trust *trust)
{
	memset(c, 0, sizeof *c);
	/* A local archive is as fast to read as a cache would be. */
	c->use_cache = !o->no_cache && ai_store_is_remote(dest);
	c->cache_dir = o->cache_dir;
	c->trust = trust;
}

ai_result ai_catalog_segments(const struct ai_state *st, const struct ai_catalog_filter *f,
                              uint64_t **seqs, size_t *n)
{
	*seqs = NULL;
	*n = 0;
	if (f->has_from || f->has_to)
		return ai_state_segments_by_event(st, f->has_from ? f->from : AI_TIME_MIN,
		                                  f->has_to ? f->to : AI_TIME_MAX, seqs, n);
	if (!st->next_seq)
		return AI_OK;
	if (st->next_seq > SIZE_MAX / sizeof **seqs)
		return AI_ERR_NOMEM;
	*seqs = malloc((size_t)st->next_seq * sizeof **seqs);
	if (!*seqs)
		return AI_ERR_NOMEM;
	for (uint64_t i = 0; i < st->next_seq; i++)
		(*seqs)[i] = i;
	*n = (size_t)st->next_seq;
	return AI_OK;
}

int ai_catalog_index_useful(const struct ai_catalog_filter *f)
{
	return f->napps || f->ntypes || f->nroles || f->nop_ids;
}

/* 1 when one of names is in list (an empty list matches everything). */
static int any_listed(char *const *list, size_t nlist, char *const *names, size_t n)
{
	if (!nlist)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (ai_options_match(list, nlist, names[i]))
			return 1;
	return 0;
}

/* 1 when the filter may hold one of f's operation ids (or f asks none). */
static int any_op_maybe(const struct ai_catalog_filter *f, const uint8_t *bloom, size_t len)
{
	if (!f->nop_ids)
		return 1;
	for (size_t i = 0; i < f->nop_ids; i++)
		if (ai_bloom_maybe(bloom, len, f->op_ids[i], strlen(f->op_ids[i])))
			return 1;
	return 0;
}

int ai_catalog_index_matches(const struct ai_catalog_filter *f, const struct ai_segment_index *x)
{
	if (!any_listed(f->apps, f->napps, x->apps, x->napps) ||
	    !any_listed(f->types, f->ntypes, x->types, x->ntypes))
		return 0;
	if (x->roles_complete && !any_listed(f->roles, f->nroles, x->roles, x->nroles))
		return 0;
	return any_op_maybe(f, x->bloom, x->bloom_len);
}

int ai_catalog_segment_matches(const struct ai_catalog_filter *f, const struct ai_segment *seg)
{
	if (!f->ntags)
		return 1;
	for (size_t i = 0; i < seg->ntags; i++)
		if (ai_options_match(f->tags, f->ntags, seg->tags[i]))
			return 1;
	return 0;
}

int ai_catalog_member_app(const struct ai_catalog_filter *f, const struct ai_member *m)
{
	if (!m->has_apps)
		return ai_options_match(f->apps, f->napps, m->app);
	return !m->napps || any_listed(f->apps, f->napps, m->apps, m->napps);
}

int ai_catalog_member_matches(const struct ai_catalog_filter *f, const struct ai_member *m)
{
	if (!ai_catalog_member_app(f, m) || !ai_options_match(f->types, f->ntypes, m->type))
		return 0;
	if (f->blob && (!m->blob || strcmp(m->blob, f->blob) != 0))
		return 0;
	if (f->blob_prefix &&
	    (!m->blob || strncmp(m->blob, f->blob_prefix, strlen(f->blob_prefix)) != 0))
		return 0;
	if (f->has_from || f->has_to) {
		if (!m->has_time)
			return 0;
		if (f->has_to && m->min_event >= f->to)
			return 0;
		if (f->has_from && m->max_event < f->from)
			return 0;
	}
	if (m->nroles < AI_MEMBER_MAX_ROLES && !any_listed(f->roles, f->nroles, m->roles, m->nroles))
		return 0;
	return any_op_maybe(f, m->bloom, m->bloom_len);
}

/* ---- cache location ---- */

ai_result ai_catalog_cache_root(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	/* The XDG spec says relative values are to be ignored. */
	if (xdg && xdg[0] == '/')
		n = snprintf(out, cap, "%s/aiarchive", xdg);
	else if (home && home[0] == '/')
		n = snprintf(out, cap, "%s/.cache/aiarchive", home);
	else
		return AI_ERR_CONFIG;
	return n > 0 && (size_t)n < cap ? AI_OK : AI_ERR_TOO_BIG;
}

ai_result ai_catalog_cache_key(const char *described, char *out, size_t cap)
{
	uint8_t sha[AI_SHA256_LEN];
	char hex[2 * AI_SHA256_LEN + 1];
	size_t k = 0;
	ai_result r;

	if (cap < 64)
		return AI_ERR_TOO_BIG;
	r = ai_sha256(described, strlen(described), sha);
	if (r != AI_OK)
		return r;
	ai_hex(sha, sizeof sha, hex);
	/* Readable part: enough to tell archives apart by eye, never a path
	 * separator or a leading dot. */
	for (const char *p = described; *p && k < 80 && k + 18 < cap; p++) {
		char c = *p;
		int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || ((c == '.' || c == '-') && k > 0);
		if (keep)
			out[k++] = c;
		else if (k > 0 && out[k - 1] != '_')
			out[k++] = '_';
	}
	snprintf(out + k, cap - k, "%s%.16s", k ? "-" : "", hex);
	return AI_OK;
}

/* ---- the selection ---- */

struct sel {
	struct ai_store *dest;
	struct ai_archive a;
	struct ai_trust *trust;
	int use_cache;
	char dir[CACHE_PATH_MAX];   /* <root>/<key>/segments */
	struct ai_catalog_stats st;
	/* what the open found wrong, reported once it is over */
	int open_bad;
	char bad_kind[16], bad_name[128];
	struct ai_trust_verdict bad;
};

/* One line naming the object and what is wrong with it. */
static void report_untrusted(const char *kind, const char *name, const struct ai_trust_verdict *v)
{
	switch (v->fault) {
	case AI_TRUST_NO_KEY:
		ai_error("%s '%s': signed by key %s, and key '%s': %s; run 'aiarchive verify'", kind,
		         name, v->signer, v->key_name, v->why);
		break;
	case AI_TRUST_BAD_SIGNATURE:
		ai_error("%s '%s': signature does not verify with key %s (%s); run 'aiarchive verify'",
		         kind, name, v->key, v->why);
		break;
	default:
		ai_error("%s '%s': %s; run 'aiarchive verify'", kind, name, v->why);
		break;
	}
}

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0700);
		*p = '/';
		if (rc != 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static void cache_disable(struct sel *s, const char *what)
{
	ai_warn("cache '%s': %s: %s; going on without it", s->dir, what, strerror(errno));
	s->use_cache = 0;
}

static void cache_setup(struct sel *s, const struct ai_catalog_opts *opts)
{
	char root[CACHE_PATH_MAX], key[160];
	int n;

	s->use_cache = 0;
	if (!opts || !opts->use_cache)
		return;
	if (opts->cache_dir && *opts->cache_dir) {
		n = snprintf(root, sizeof root, "%s", opts->cache_dir);
		if (n < 0 || (size_t)n >= sizeof root)
			return;
	} else if (ai_catalog_cache_root(root, sizeof root) != AI_OK) {
		ai_debug("cache: no XDG_CACHE_HOME or HOME; not caching");
		return;
	}
	if (ai_catalog_cache_key(ai_store_describe(s->dest), key, sizeof key) != AI_OK)
		return;
	n = snprintf(s->dir, sizeof s->dir, "%s/%s/segments", root, key);
	if (n < 0 || (size_t)n >= sizeof s->dir)
		return;
	s->use_cache = 1;
	if (mkdirs(s->dir) != 0)
		cache_disable(s, "cannot create it");
}

static void cache_path(const struct sel *s, uint64_t seq, const char *ext, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%012llu.%s", s->dir, (unsigned long long)seq, ext);
}

/* Reads a whole cached file; AI_ERR_NOT_FOUND when absent. Anyone who can
 * write the cache may plant a FIFO (which would block a plain open) or a
 * link there: such an entry is skipped with a warning and the caller drops
 * it (unlinking removes the link or FIFO, never what a link points at). */
static ai_result cache_read(const char *path, struct ai_buf *out)
{
	char why[512];
	ai_result r;

	r = ai_regfile_read(path, 0, out, why, sizeof why);
	if (r == AI_ERR_CONFIG)
		ai_warn("cache '%s': %s; skipped, reading the archive", path, why);
	return r;
}

static void cache_write(struct sel *s, uint64_t seq, const char *ext, const struct ai_buf *raw)
{
	char path[CACHE_PATH_MAX + 32];

	if (!s->use_cache)
		return;
	cache_path(s, seq, ext, path, sizeof path);
	/* A fresh temporary name, renamed: the entry appears whole or not at
	 * all, and nothing planted in the cache is written through. */
	if (ai_regfile_replace(path, raw->data, raw->len, 0600) != AI_OK)
		cache_disable(s, "cannot write");
}

/* Whether raw is the archive's segment seq as its signer wrote it, the
 * same check whether the bytes came from the cache or the archive. The
 * head's digest is in the state, whose signature was checked when the
 * archive was opened (as were the segments past it), so it costs nothing.
 * Any other segment costs one small read, its .minisig: walking the hash
 * chain down from the head instead would read every later segment, which
 * is what the event-hour index lets a query skip. */
static ai_result check_segment(struct sel *s, uint64_t seq, const char *name,
                               const struct ai_buf *raw, struct ai_trust_verdict *v)
{
	uint8_t sha[AI_SHA256_LEN];
	struct ai_trust_object obj = {
		.kind = "segment", .name = name, .data = raw->data, .len = raw->len, .sha256 = sha,
	};
	ai_result r;

	memset(v, 0, sizeof *v);
	r = ai_sha256(raw->data, raw->len, sha);
	if (r != AI_OK)
		return r;
	if (seq + 1 == s->a.state.next_seq) {
		if (ai_memeq_ct(sha, s->a.state.head_sha256, AI_SHA256_LEN) == 0)
			return AI_OK;
		v->fault = AI_TRUST_OTHER_OBJECT;
		snprintf(v->why, sizeof v->why, "not the head segment the signed state records "
		                                "(sha256 differs)");
		return AI_ERR_VERIFY;
	}
	return ai_trust_check_stored(s->trust, s->dest, &obj, v);
}

static ai_result decode_segment(uint64_t seq, const char *name, const struct ai_buf *raw,
                                struct ai_segment *seg, int quiet)
{
	char why[256];
	ai_result r;

	r = ai_segment_decode(raw->data, raw->len, seg, why, sizeof why);
	if (r == AI_OK && seg->seq != seq) {
		snprintf(why, sizeof why, "says it is number %llu", (unsigned long long)seg->seq);
		r = AI_ERR_VERIFY;
	}
	if (r != AI_OK) {
		ai_segment_release(seg);
		ai_segment_init(seg);
		if (!quiet)
			ai_error("segment '%s': %s", name, why);
	}
	return r;
}

/* The cache entry for seq when there is one and it checks out; AI_OK
 * then. A stale or damaged entry is dropped: the archive has the truth. */
static ai_result load_cached(struct sel *s, uint64_t seq, const char *name, struct ai_buf *raw,
                             struct ai_segment *seg)
{
	char path[CACHE_PATH_MAX + 32];
	struct ai_trust_verdict v;
	ai_result r;

	cache_path(s, seq, "seg", path, sizeof path);
	r = cache_read(path, raw);
	if (r == AI_OK)
		r = check_segment(s, seq, name, raw, &v);
	if (r == AI_OK)
		r = decode_segment(seq, name, raw, seg, 1);
	if (r != AI_OK && r != AI_ERR_NOT_FOUND) {
		ai_debug("cache '%s': not usable (%s); reading the archive", path,
		         r == AI_ERR_VERIFY && *v.why ? v.why : ai_strerror(r));
		unlink(path);
	}
	return r;
}

static ai_result load_segment(struct sel *s, uint64_t seq, struct ai_segment *seg)
{
	char name[128];
	struct ai_trust_verdict v;
	struct ai_buf raw;
	ai_result r;

	ai_archive_segment_name(seq, name, sizeof name);
	ai_buf_init(&raw, MAX_SEGMENT_BYTES);
	if (s->use_cache) {
		r = load_cached(s, seq, name, &raw, seg);
		if (r == AI_OK) {
			s->st.from_cache++;
			goto out;
		}
		ai_buf_reset(&raw);
	}
	r = ai_store_read(s->dest, name, 0, 0, NULL, &raw, NULL);
	if (r != AI_OK) {
		ai_error("segment '%s': %s", name, ai_store_why(r));
		goto out;
	}
	r = check_segment(s, seq, name, &raw, &v);
	if (r == AI_ERR_VERIFY)
		report_untrusted("segment", name, &v);
	else if (r != AI_OK)
		ai_error("segment '%s': checking its signature: %s", name, ai_store_why(r));
	if (r == AI_OK)
		r = decode_segment(seq, name, &raw, seg, 0);
	if (r == AI_OK)
		cache_write(s, seq, "seg", &raw);
out:
	ai_buf_release(&raw);
	return r;
}

/* Whether raw is index seq as its signer wrote it (the check is the same
 * for the cache and the archive); x gets it decoded. */
static ai_result accept_index(struct sel *s, uint64_t seq, const char *name,
                              const struct ai_buf *raw, struct ai_segment_index *x,
                              struct ai_trust_verdict *v)
{
	uint8_t sha[AI_SHA256_LEN];
	struct ai_trust_object obj = { .kind = "segment-index", .name = name,
	                               .data = raw->data, .len = raw->len, .sha256 = sha };
	char why[256];
	ai_result r;

	memset(v, 0, sizeof *v);
	r = ai_sha256(raw->data, raw->len, sha);
	if (r == AI_OK)
		r = ai_trust_check_stored(s->trust, s->dest, &obj, v);
	if (r != AI_OK)
		return r;
	r = ai_segment_index_decode(raw->data, raw->len, x, why, sizeof why);
	if (r == AI_OK && x->seq != seq) {
		ai_segment_index_release(x);
		snprintf(why, sizeof why, "says it is number %llu", (unsigned long long)x->seq);
		r = AI_ERR_VERIFY;
	}
	if (r != AI_OK) {
		snprintf(v->why, sizeof v->why, "%s", why);
		r = AI_ERR_VERIFY;
	}
	return r;
}

/* A segment's index, from the cache when its entry checks out, else from
 * the archive. AI_ERR_NOT_FOUND when the segment has none (written before
 * indexes, or its run stopped before writing it). */
static ai_result load_index(struct sel *s, uint64_t seq, struct ai_segment_index *x)
{
	char name[128], path[CACHE_PATH_MAX + 32];
	struct ai_trust_verdict v;
	struct ai_buf raw;
	ai_result r;

	ai_archive_index_name(seq, name, sizeof name);
	ai_buf_init(&raw, MAX_SEGMENT_BYTES);
	if (s->use_cache) {
		cache_path(s, seq, "idx", path, sizeof path);
		if (cache_read(path, &raw) == AI_OK) {
			if (accept_index(s, seq, name, &raw, x, &v) == AI_OK) {
				r = AI_OK;
				goto out;
			}
			/* A stale or damaged entry: the archive has the truth. */
			unlink(path);
		}
		ai_buf_reset(&raw);
	}
	r = ai_store_read(s->dest, name, 0, 0, NULL, &raw, NULL);
	if (r != AI_OK) {
		if (r != AI_ERR_NOT_FOUND)
			ai_error("index '%s': %s", name, ai_store_why(r));
		goto out;
	}
	r = accept_index(s, seq, name, &raw, x, &v);
	if (r == AI_ERR_VERIFY)
		report_untrusted("segment-index", name, &v);
	else if (r != AI_OK)
		ai_error("index '%s': checking its signature: %s", name, ai_store_why(r));
	else
		cache_write(s, seq, "idx", &raw);
out:
	ai_buf_release(&raw);
	return r;
}

/* 0 when seq's index shows it holds nothing f wants (it is then not read);
 * 1 when it may, or has no index. */
static ai_result index_says(struct sel *s, const struct ai_catalog_filter *f, uint64_t seq,
                            int *maybe)
{
	struct ai_segment_index x;
	ai_result r;

	*maybe = 1;
	if (!ai_catalog_index_useful(f))
		return AI_OK;
	r = load_index(s, seq, &x);
	if (r == AI_ERR_NOT_FOUND)
		return AI_OK;
	if (r != AI_OK)
		return r;
	*maybe = ai_catalog_index_matches(f, &x);
	ai_segment_index_release(&x);
	return AI_OK;
}

/* The check ai_archive_open_checked runs on the state and on the segments
 * past it. What is wrong is kept, to be reported once the open is over
 * (the state may be checked twice). */
static ai_result check_opened(void *ctx, const char *kind, const char *name,
                              const struct ai_buf *raw)
{
	struct sel *s = ctx;
	struct ai_trust_object obj = { .kind = kind, .name = name, .data = raw->data,
	                               .len = raw->len };
	ai_result r;

	s->open_bad = 0;
	r = ai_trust_check_stored(s->trust, s->dest, &obj, &s->bad);
	if (r == AI_ERR_VERIFY && s->bad.fault == AI_TRUST_NO_SIGNATURE &&
	    strcmp(kind, "segment") == 0) {
		/* Written but not signed yet: a run is between the two, or
		 * stopped there (its next run signs it). Not part of the
		 * archive for a reader until then. */
		ai_warn("segment '%s': not signed yet; leaving it out", name);
		return AI_ERR_NOT_FOUND;
	}
	if (r == AI_ERR_VERIFY) {
		s->open_bad = 1;
		snprintf(s->bad_kind, sizeof s->bad_kind, "%s", kind);
		snprintf(s->bad_name, sizeof s->bad_name, "%s", name);
	}
	return r;
}

/* One pass over the selected segments: each read and checked, and with
 * cb each matching member given to it. */
static ai_result select_pass(struct sel *s, const struct ai_catalog_filter *f,
                             const uint64_t *seqs, size_t nseqs, ai_catalog_cb cb, void *ctx)
{
	ai_result r = AI_OK;

	for (size_t i = 0; i < nseqs && r == AI_OK; i++) {
		struct ai_segment seg;
		int maybe;

		r = index_says(s, f, seqs[i], &maybe);
		if (r != AI_OK)
			break;
		if (!maybe) {
			s->st.ruled_out++;
			continue;
		}
		ai_segment_init(&seg);
		r = load_segment(s, seqs[i], &seg);
		if (r == AI_OK && cb && ai_catalog_segment_matches(f, &seg)) {
			for (size_t k = 0; k < seg.nmembers && r == AI_OK; k++) {
				const struct ai_member *m = &seg.members[k];
				s->st.members_seen++;
				if (!ai_catalog_member_matches(f, m))
					continue;
				s->st.members_matched++;
				r = cb(ctx, &seg, m, &seg.packs[m->pack]);
			}
		}
		ai_segment_release(&seg);
	}
	return r;
}

ai_result ai_catalog_select(struct ai_store *dest, const struct ai_catalog_filter *f,
                            const struct ai_catalog_opts *opts, ai_catalog_cb cb, void *ctx,
                            struct ai_catalog_stats *stats)
{
	struct sel *s = calloc(1, sizeof *s);
	struct ai_catalog_stats first = { 0 };
	struct ai_trust own_trust;
	uint64_t *seqs = NULL;
	size_t nseqs = 0;
	char why[2048];
	ai_result r;

	if (!s)
		return AI_ERR_NOMEM;
	s->dest = dest;
	ai_trust_init(&own_trust);
	s->trust = opts && opts->trust ? opts->trust : &own_trust;
	if (ai_trust_pubkey_conflict(s->trust, why, sizeof why)) {
		ai_error("--pubkey: %s", why);
		r = AI_ERR_VERIFY;
		goto out;
	}
	/* An archive with a genesis: its key chain, and only it, is trusted. */
	ai_store_set_error("%s", "");
	r = ai_archive_keys(dest, s->trust, 0);
	if (r == AI_ERR_NOT_FOUND)
		r = AI_OK; /* made before init: the keys it publishes, as ever */
	else if (r == AI_ERR_VERIFY)
		ai_error("%s; run 'aiarchive verify'", ai_store_why(r));
	else if (r != AI_OK)
		ai_error("dest '%s': %s", ai_store_describe(dest), ai_store_why(r));
	if (r != AI_OK)
		goto out;
	if (ai_trust_pin_outside(s->trust, why, sizeof why)) {
		ai_error("dest '%s': %s", ai_store_describe(dest), why);
		r = AI_ERR_VERIFY;
		goto out;
	}
	ai_store_set_error("%s", "");
	r = ai_archive_open_checked(&s->a, dest, check_opened, s);
	if (r == AI_ERR_VERIFY && s->open_bad)
		report_untrusted(s->bad_kind, s->bad_name, &s->bad);
	else if (r == AI_ERR_VERIFY && !*ai_store_last_error())
		ai_error("dest '%s': the segments past the state do not chain to its head; "
		         "run 'aiarchive verify'", ai_store_describe(dest));
	else if (r != AI_OK)
		ai_error("dest '%s': %s", ai_store_describe(dest), ai_store_why(r));
	if (r != AI_OK)
		goto out;
	/* Nothing archived yet (whether there is an archive at all is the
	 * caller's question: ai_archive_require). */
	if (!s->a.state_found && s->a.state.next_seq == 0)
		goto out;
	s->st.segments = s->a.state.next_seq;
	r = ai_catalog_segments(&s->a.state, f, &seqs, &nseqs);
	if (r != AI_OK)
		goto out;
	s->st.selected = nseqs;
	if (nseqs)
		cache_setup(s, opts);
	/* Every selected segment checked before the first member is given
	 * out: a command that prints as it goes prints nothing of an archive
	 * that fails. */
	if (opts && opts->verify_first) {
		r = select_pass(s, f, seqs, nseqs, NULL, NULL);
		first = s->st; /* what the reads found; the second pass reads the same */
	}
	if (r == AI_OK)
		r = select_pass(s, f, seqs, nseqs, cb, ctx);
	if (opts && opts->verify_first) {
		s->st.from_cache = first.from_cache;
		s->st.ruled_out = first.ruled_out;
	}
	if (r == AI_OK) {
		struct ai_store_stats ss;
		uint64_t reqs = 0;

		ai_store_get_stats(dest, &ss);
		for (int k = 0; k < AI_REQ_KINDS; k++)
			reqs += ss.requests[k];
		ai_info("catalog: %llu of %llu segments read (%llu from the cache, %llu more ruled "
		        "out by their index), %llu of %llu members matched; %llu bytes of manifest "
		        "read in %llu requests",
		        (unsigned long long)(s->st.selected - s->st.ruled_out),
		        (unsigned long long)s->st.segments, (unsigned long long)s->st.from_cache,
		        (unsigned long long)s->st.ruled_out,
		        (unsigned long long)s->st.members_matched,
		        (unsigned long long)s->st.members_seen, (unsigned long long)ss.bytes_read,
		        (unsigned long long)reqs);
	}
out:
	if (stats)
		*stats = s->st;
	ai_archive_release(&s->a);
	ai_trust_release(&own_trust);
	free(seqs);
	free(s);
	return r;
}
