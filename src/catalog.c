/* catalog.c: selecting archived members by filter, with a local cache of
 * manifest segments that is checked against the archive before use. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "archive.h"
#include "bloom.h"
#include "catalog.h"
#include "crypto.h"
#include "log.h"
#include "minisign.h"
#include "options.h"

#define MAX_SEGMENT_BYTES (512u << 20)
#define MAX_KEYS 8
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

int ai_catalog_segment_matches(const struct ai_catalog_filter *f, const struct ai_segment *seg)
{
	if (!f->ntags)
		return 1;
	for (size_t i = 0; i < seg->ntags; i++)
		if (ai_options_match(f->tags, f->ntags, seg->tags[i]))
			return 1;
	return 0;
}

int ai_catalog_member_matches(const struct ai_catalog_filter *f, const struct ai_member *m)
{
	if (!ai_options_match(f->apps, f->napps, m->app) ||
	    !ai_options_match(f->types, f->ntypes, m->type))
		return 0;
	if (f->has_from || f->has_to) {
		if (!m->has_time)
			return 0;
		if (f->has_to && m->min_event >= f->to)
			return 0;
		if (f->has_from && m->max_event < f->from)
			return 0;
	}
	if (f->nroles && m->nroles < AI_MEMBER_MAX_ROLES) {
		size_t i;
		for (i = 0; i < m->nroles; i++)
			if (ai_options_match(f->roles, f->nroles, m->roles[i]))
				break;
		if (i == m->nroles)
			return 0;
	}
	if (f->nop_ids) {
		size_t i;
		for (i = 0; i < f->nop_ids; i++)
			if (ai_bloom_maybe(m->bloom, m->bloom_len, f->op_ids[i], strlen(f->op_ids[i])))
				break;
		if (i == f->nop_ids)
			return 0;
	}
	return 1;
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

struct key_entry {
	uint8_t keyid[AI_MINISIGN_KEYID_LEN];
	struct ai_minisign_pubkey pk;
};

struct sel {
	struct ai_store *dest;
	struct ai_archive a;
	int use_cache;
	char dir[CACHE_PATH_MAX];   /* <root>/<key>/segments */
	struct key_entry keys[MAX_KEYS];
	size_t nkeys;
	struct ai_catalog_stats st;
};

static const char *store_error(ai_result r)
{
	return *ai_store_last_error() ? ai_store_last_error() : ai_strerror(r);
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

static void cache_path(const struct sel *s, uint64_t seq, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%012llu.seg", s->dir, (unsigned long long)seq);
}

/* Reads a whole cached file; AI_ERR_NOT_FOUND when absent. */
static ai_result cache_read(const char *path, struct ai_buf *out)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ai_result r = AI_OK;

	if (fd < 0)
		return errno == ENOENT ? AI_ERR_NOT_FOUND : AI_ERR_IO;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > MAX_SEGMENT_BYTES) {
		r = AI_ERR_IO;
		goto out;
	}
	r = ai_buf_reserve(out, (size_t)sb.st_size);
	while (r == AI_OK) {
		ssize_t got = read(fd, out->data + out->len, out->alloc - out->len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = AI_ERR_IO;
			break;
		}
		if (got == 0)
			break;
		out->len += (size_t)got;
		out->data[out->len] = '\0';
		if (out->len + 1 >= out->alloc)
			r = ai_buf_reserve(out, 65536);
	}
out:
	close(fd);
	return r;
}

static void cache_write(struct sel *s, uint64_t seq, const struct ai_buf *raw)
{
	char path[CACHE_PATH_MAX + 32], tmp[CACHE_PATH_MAX + 64];
	FILE *fp;
	int ok;

	if (!s->use_cache)
		return;
	cache_path(s, seq, path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	fp = fopen(tmp, "wbx");
	if (!fp) {
		cache_disable(s, "cannot write");
		return;
	}
	ok = fwrite(raw->data, 1, raw->len, fp) == raw->len;
	ok = (fclose(fp) == 0) && ok;
	/* rename makes the entry appear whole or not at all. */
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		cache_disable(s, "cannot write");
	}
}

/* The published key with this id, read from the archive once. */
static ai_result find_key(struct sel *s, const uint8_t keyid[AI_MINISIGN_KEYID_LEN],
                          const struct ai_minisign_pubkey **out)
{
	char hex[AI_MINISIGN_KEYID_HEXLEN], name[64];
	struct ai_buf text;
	struct key_entry *e;
	ai_result r;

	for (size_t i = 0; i < s->nkeys; i++)
		if (memcmp(s->keys[i].keyid, keyid, AI_MINISIGN_KEYID_LEN) == 0) {
			*out = &s->keys[i].pk;
			return AI_OK;
		}
	if (s->nkeys == MAX_KEYS)
		return AI_ERR_TOO_BIG;
	ai_minisign_keyid_hex(keyid, hex);
	snprintf(name, sizeof name, AI_KEYS_DIR "%s.pub", hex);
	ai_buf_init(&text, 4096);
	e = &s->keys[s->nkeys];
	r = ai_store_read(s->dest, name, 0, 0, NULL, &text, NULL);
	if (r == AI_OK)
		r = ai_minisign_pubkey_parse(text.data, text.len, &e->pk);
	if (r == AI_OK && memcmp(e->pk.keyid, keyid, AI_MINISIGN_KEYID_LEN) != 0)
		r = AI_ERR_VERIFY;
	if (r == AI_OK) {
		memcpy(e->keyid, keyid, AI_MINISIGN_KEYID_LEN);
		s->nkeys++;
		*out = &e->pk;
	}
	ai_buf_release(&text);
	return r;
}

/* Checks that cached bytes are the archive's segment seq: the head's
 * digest is in the state; any other segment must carry a valid signature
 * by a key published in the archive, whose trusted comment names it with
 * this digest. Costs one small read instead of the whole segment. */
static ai_result cache_check(struct sel *s, uint64_t seq, const struct ai_buf *raw)
{
	uint8_t sha[AI_SHA256_LEN];
	char hex[2 * AI_SHA256_LEN + 1], name[128], sig_name[160], want[512], tc[1024];
	const struct ai_minisign_pubkey *pk;
	struct ai_minisign_sig sig;
	struct ai_buf sigtext;
	const char *why = NULL;
	size_t wl;
	ai_result r;

	r = ai_sha256(raw->data, raw->len, sha);
	if (r != AI_OK)
		return r;
	if (seq + 1 == s->a.state.next_seq)
		return ai_memeq_ct(sha, s->a.state.head_sha256, AI_SHA256_LEN) ? AI_ERR_VERIFY : AI_OK;
	ai_archive_segment_name(seq, name, sizeof name);
	snprintf(sig_name, sizeof sig_name, "%s.minisig", name);
	ai_buf_init(&sigtext, AI_MINISIGN_SIGFILE_MAX);
	r = ai_store_read(s->dest, sig_name, 0, 0, NULL, &sigtext, NULL);
	if (r == AI_OK)
		r = ai_minisign_sig_parse(sigtext.data, sigtext.len, &sig, &why);
	if (r == AI_OK)
		r = find_key(s, sig.keyid, &pk);
	if (r == AI_OK)
		r = ai_minisign_verify(pk, raw->data, raw->len, sigtext.data, sigtext.len, tc,
		                       sizeof tc, &why);
	if (r == AI_OK) {
		ai_hex(sha, sizeof sha, hex);
		snprintf(want, sizeof want, "aiarchive segment %s sha256=%s", name, hex);
		wl = strlen(want);
		if (strncmp(tc, want, wl) != 0 || (tc[wl] != '\0' && tc[wl] != ' '))
			r = AI_ERR_VERIFY;
	}
	if (r != AI_OK)
		ai_debug("cache: segment %llu: %s", (unsigned long long)seq,
		         why ? why : ai_strerror(r));
	ai_buf_release(&sigtext);
	return r;
}

static ai_result load_cached(struct sel *s, uint64_t seq, struct ai_segment *seg)
{
	char path[CACHE_PATH_MAX + 32], why[256];
	struct ai_buf raw;
	ai_result r;

	cache_path(s, seq, path, sizeof path);
	ai_buf_init(&raw, MAX_SEGMENT_BYTES);
	r = cache_read(path, &raw);
	if (r == AI_OK)
		r = cache_check(s, seq, &raw);
	if (r == AI_OK) {
		r = ai_segment_decode(raw.data, raw.len, seg, why, sizeof why);
		if (r == AI_OK && seg->seq != seq) {
			ai_segment_release(seg);
			ai_segment_init(seg);
			r = AI_ERR_VERIFY;
		}
	}
	if (r != AI_OK && r != AI_ERR_NOT_FOUND) {
		/* A stale or damaged entry: drop it; the archive has the truth. */
		ai_debug("cache '%s': not usable (%s); reading the archive", path, ai_strerror(r));
		unlink(path);
	}
	ai_buf_release(&raw);
	return r;
}

static ai_result load_segment(struct sel *s, uint64_t seq, struct ai_segment *seg)
{
	char name[128];
	struct ai_buf raw;
	ai_result r;

	if (s->use_cache && load_cached(s, seq, seg) == AI_OK) {
		s->st.from_cache++;
		return AI_OK;
	}
	ai_buf_init(&raw, 0);
	r = ai_archive_read_segment(s->dest, seq, seg, NULL, &raw);
	if (r == AI_OK)
		cache_write(s, seq, &raw);
	else {
		ai_archive_segment_name(seq, name, sizeof name);
		ai_error("segment '%s': %s", name, store_error(r));
	}
	ai_buf_release(&raw);
	return r;
}

ai_result ai_catalog_select(struct ai_store *dest, const struct ai_catalog_filter *f,
                            const struct ai_catalog_opts *opts, ai_catalog_cb cb, void *ctx,
                            struct ai_catalog_stats *stats)
{
	struct sel *s = calloc(1, sizeof *s);
	uint64_t *seqs = NULL;
	size_t nseqs = 0;
	ai_result r;

	if (!s)
		return AI_ERR_NOMEM;
	s->dest = dest;
	r = ai_archive_open(&s->a, dest, NULL);
	if (r != AI_OK) {
		ai_error("dest '%s': %s", ai_store_describe(dest), store_error(r));
		goto out;
	}
	if (!s->a.state_found && s->a.state.next_seq == 0) {
		ai_error("dest '%s': no archive here (no manifest)", ai_store_describe(dest));
		r = AI_ERR_CONFIG;
		goto out;
	}
	s->st.segments = s->a.state.next_seq;
	r = ai_catalog_segments(&s->a.state, f, &seqs, &nseqs);
	if (r != AI_OK)
		goto out;
	s->st.selected = nseqs;
	if (nseqs)
		cache_setup(s, opts);
	for (size_t i = 0; i < nseqs && r == AI_OK; i++) {
		struct ai_segment seg;

		ai_segment_init(&seg);
		r = load_segment(s, seqs[i], &seg);
		if (r == AI_OK && ai_catalog_segment_matches(f, &seg)) {
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
	if (r == AI_OK) {
		struct ai_store_stats ss;
		uint64_t reqs = 0;

		ai_store_get_stats(dest, &ss);
		for (int k = 0; k < AI_REQ_KINDS; k++)
			reqs += ss.requests[k];
		ai_info("catalog: %llu of %llu segments read (%llu from the cache), %llu of %llu "
		        "members matched; %llu bytes of manifest read in %llu requests",
		        (unsigned long long)s->st.selected, (unsigned long long)s->st.segments,
		        (unsigned long long)s->st.from_cache,
		        (unsigned long long)s->st.members_matched,
		        (unsigned long long)s->st.members_seen, (unsigned long long)ss.bytes_read,
		        (unsigned long long)reqs);
	}
out:
	if (stats)
		*stats = s->st;
	ai_archive_release(&s->a);
	free(seqs);
	free(s);
	return r;
}
