/* verify.c: the checks behind `aiarchive verify`: the archive's identity
 * (genesis, key rotations, published keys), manifest signatures and the
 * hash chain, the state's head, archived data (--data), and a source
 * window against the archive (--source). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine/archive.h"
#include "engine/fetch.h"
#include "engine/identity.h"
#include "engine/ranges.h"
#include "util/log.h"
#include "util/progress.h"
#include "format/manifest_codec.h"
#include "engine/trust.h"
#include "engine/verify.h"
#include "engine/witness.h"
#include "util/alloc.h"

#define HOUR (3600 * AI_NS_PER_SEC)

#define MAX_STATE_BYTES (256u << 20)
#define CHUNK (4u << 20)
#define TAIL_CHUNK (1u << 20)
#define SEG_PREFIX "manifest/segments/"
#define INDEX_PREFIX "manifest/index/"
#define MAX_INDEX_BYTES (64u << 20)
#define MAX_GAP_LINES 20

/* ----- the report ----- */

void ai_verify_report_init(struct ai_verify_report *rep)
{
	memset(rep, 0, sizeof *rep);
	pthread_mutex_init(&rep->mu, NULL);
}

void ai_verify_report_release(struct ai_verify_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->nproblems; i++) {
		free(rep->problems[i].kind);
		free(rep->problems[i].object);
		free(rep->problems[i].message);
	}
	free(rep->problems);
	ai_strvec_release(&rep->fix_apps);
	ai_strvec_release(&rep->fix_types);
	pthread_mutex_destroy(&rep->mu);
	memset(rep, 0, sizeof *rep);
}

void ai_verify_add(struct ai_verify_report *rep, int warning, const char *kind, const char *object,
                   const char *fmt, ...)
{
	struct ai_verify_problem pr = { 0 };
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&rep->mu);
	if (warning)
		rep->warnings++;
	else
		rep->errors++;
	/* Counted, not kept: the first are the ones to read. The first
	 * error is kept even past the bound, for the closing line. */
	if (rep->nproblems >= AI_VERIFY_MAX_PROBLEMS && (warning || rep->errors > 1)) {
		rep->unlisted++;
		goto out;
	}
	if (AI_GROW(rep->problems, rep->nproblems + 1, rep->cap) != AI_OK)
		goto out;
	pr.kind = strdup(kind);
	pr.object = strdup(object);
	pr.message = strdup(msg);
	pr.warning = warning;
	if (!pr.kind || !pr.object || !pr.message) {
		free(pr.kind);
		free(pr.object);
		free(pr.message);
		goto out;
	}
	rep->problems[rep->nproblems++] = pr;
out:
	pthread_mutex_unlock(&rep->mu);
}

static void count(struct ai_verify_report *rep, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&rep->mu);
	*field += n;
	pthread_mutex_unlock(&rep->mu);
}

/* ----- subsets ----- */

ai_result ai_verify_subset_parse(const char *s, struct ai_verify_subset *out)
{
	unsigned long long n, m;
	int used = 0;

	memset(out, 0, sizeof *out);
	if (!s || sscanf(s, "%llu/%llu%n", &n, &m, &used) != 2 || s[used] != '\0' ||
	    s[0] < '0' || s[0] > '9' || n < 1 || m < 1 || n > m || strchr(s, '-'))
		return AI_ERR_USAGE;
	out->n = n;
	out->m = m;
	return AI_OK;
}

/* SplitMix64's finaliser: every input bit moves every output bit. */
static uint64_t mix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

uint64_t ai_verify_hash(uint64_t seq, uint64_t index, uint64_t salt)
{
	return mix64(mix64(mix64(salt) ^ seq) ^ index);
}

int ai_verify_subset_has(const struct ai_verify_subset *s, uint64_t seq, uint64_t index,
                         uint64_t salt)
{
	if (s->m <= 1)
		return 1;
	return ai_verify_hash(seq, index, salt) % s->m == s->n - 1;
}

/* ----- the chain ----- */

static void seg_name(uint64_t seq, char *out, size_t cap)
{
	ai_archive_segment_name(seq, out, cap);
}

static const uint8_t zero_hash[AI_SHA256_LEN];

static void report_gap(struct ai_verify_report *rep, uint64_t from, uint64_t to)
{
	char name[128];
	uint64_t n = to - from;

	for (uint64_t s = from; s < to && s - from < MAX_GAP_LINES; s++) {
		seg_name(s, name, sizeof name);
		ai_verify_add(rep, 0, "segment", name, "missing (the chain goes on to segment %" PRIu64 ")",
		              to);
	}
	if (n > MAX_GAP_LINES) {
		seg_name(from + MAX_GAP_LINES, name, sizeof name);
		ai_verify_add(rep, 0, "segment", name, "and %" PRIu64 " more up to segment %" PRIu64
		              " missing", n - MAX_GAP_LINES, to - 1);
	}
}

void ai_verify_chain(const struct ai_chain_entry *e, size_t n, struct ai_verify_report *rep)
{
	char name[128];
	uint64_t expect = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ai_chain_entry *c = &e[i];
		const struct ai_chain_entry *prev = i > 0 ? &e[i - 1] : NULL;

		seg_name(c->name_seq, name, sizeof name);
		if (c->name_seq > expect)
			report_gap(rep, expect, c->name_seq);
		expect = c->name_seq + 1;
		if (!c->present) {
			ai_verify_add(rep, 0, "segment", name, "missing (its signature is still there)");
			continue;
		}
		if (!c->decoded)
			continue; /* reported when it was read */
		if (c->seq != c->name_seq)
			ai_verify_add(rep, 0, "segment", name,
			              "says it is segment %" PRIu64 " (renamed or reordered)", c->seq);
		if (c->name_seq == 0) {
			if (memcmp(c->prev, zero_hash, AI_SHA256_LEN) != 0)
				ai_verify_add(rep, 0, "segment", name,
				              "prev hash is not zero, but this is the first segment");
		} else if (prev && prev->present && prev->name_seq == c->name_seq - 1 &&
		           memcmp(c->prev, prev->sha256, AI_SHA256_LEN) != 0) {
			ai_verify_add(rep, 0, "segment", name, "prev hash does not match segment %" PRIu64,
			              prev->name_seq);
		}
	}
}

void ai_verify_state_head(const struct ai_state *st, const struct ai_chain_entry *e, size_t n,
                          struct ai_verify_report *rep)
{
	uint64_t chain_len = n ? e[n - 1].name_seq + 1 : 0;
	const struct ai_chain_entry *head = NULL;

	if (st->next_seq > chain_len) {
		if (chain_len == 0)
			ai_verify_add(rep, 0, "state", AI_STATE_NAME,
			              "covers %" PRIu64 " segments, but there are none (removed?)",
			              st->next_seq);
		else
			ai_verify_add(rep, 0, "state", AI_STATE_NAME,
			              "covers segments 0-%" PRIu64 ", but the chain ends at segment %" PRIu64
			              " (segments removed: truncation)", st->next_seq - 1, chain_len - 1);
		return;
	}
	if (st->next_seq == 0) {
		if (memcmp(st->head_sha256, zero_hash, AI_SHA256_LEN) != 0)
			ai_verify_add(rep, 0, "state", AI_STATE_NAME,
			              "covers no segment but has a head hash");
	} else {
		for (size_t i = 0; i < n; i++)
			if (e[i].name_seq == st->next_seq - 1)
				head = &e[i];
		if (head && head->present &&
		    memcmp(head->sha256, st->head_sha256, AI_SHA256_LEN) != 0)
			ai_verify_add(rep, 0, "state", AI_STATE_NAME,
			              "head hash does not match segment %" PRIu64, st->next_seq - 1);
		/* A missing head segment is reported by the chain check. */
	}
	if (st->next_seq < chain_len)
		ai_verify_add(rep, 1, "state", AI_STATE_NAME,
		              "covers %" PRIu64 " of %" PRIu64 " segments (a run stopped before saving "
		              "it; the next run catches up)", st->next_seq, chain_len);
}

/* ----- segment indexes ----- */

#define INDEX_KIND "segment-index"

/* Reports the first difference between an index's list of names and the
 * one its segment gives. */
static void compare_names(struct ai_verify_report *rep, const char *name, const char *what,
                          char *const *got, size_t ngot, char *const *want, size_t nwant)
{
	size_t i = 0;

	while (i < ngot && i < nwant && strcmp(got[i], want[i]) == 0)
		i++;
	if (i == ngot && i == nwant)
		return;
	if (i == ngot)
		ai_verify_add(rep, 0, INDEX_KIND, name,
		              "%s: misses '%.100s' (lists %zu, the segment's members have %zu)", what,
		              want[i], ngot, nwant);
	else if (i == nwant)
		ai_verify_add(rep, 0, INDEX_KIND, name,
		              "%s: lists '%.100s', which no member of the segment has (lists %zu, "
		              "the segment's members have %zu)", what, got[i], ngot, nwant);
	else
		ai_verify_add(rep, 0, INDEX_KIND, name,
		              "%s: lists '%.100s' where the segment's members have '%.100s' (lists %zu, "
		              "they have %zu)", what, got[i], want[i], ngot, nwant);
}

ai_result ai_verify_index(const char *name, uint64_t name_seq, const struct ai_segment_index *x,
                          const uint8_t *sha256, const struct ai_segment *seg,
                          struct ai_verify_report *rep)
{
	struct ai_segment_index want;
	char seg_obj[128];
	ai_result r;

	ai_segment_index_init(&want);
	seg_name(name_seq, seg_obj, sizeof seg_obj);
	if (x->seq != name_seq)
		ai_verify_add(rep, 0, INDEX_KIND, name,
		              "says it is the index of segment %" PRIu64 " (renamed or reordered)",
		              x->seq);
	if (sha256 && memcmp(x->segment_sha256, sha256, AI_SHA256_LEN) != 0)
		ai_verify_add(rep, 0, INDEX_KIND, name,
		              "segment sha256 does not match %s (an index of other bytes)", seg_obj);
	if (!seg || !sha256)
		return AI_OK;
	r = ai_segment_index_build(seg, sha256, NULL, 0, &want);
	if (r == AI_ERR_TOO_BIG) {
		/* Then no index could have been written for it. */
		ai_verify_add(rep, 0, INDEX_KIND, name,
		              "%s has more distinct apps or types than an index can list", seg_obj);
		return AI_OK;
	}
	if (r != AI_OK)
		return r;
	if (x->members != want.members)
		ai_verify_add(rep, 0, INDEX_KIND, name,
		              "counts %" PRIu64 " members, %s has %" PRIu64, x->members, seg_obj,
		              want.members);
	compare_names(rep, name, "apps", x->apps, x->napps, want.apps, want.napps);
	compare_names(rep, name, "types", x->types, x->ntypes, want.types, want.ntypes);
	compare_names(rep, name, "roles", x->roles, x->nroles, want.roles, want.nroles);
	if (!x->roles_complete != !want.roles_complete)
		ai_verify_add(rep, 0, INDEX_KIND, name,
		              "roles_complete is %s, but the members of %s give %s",
		              x->roles_complete ? "true" : "false", seg_obj,
		              want.roles_complete ? "true" : "false");
	ai_segment_index_release(&want);
	return AI_OK;
}

/* ----- signatures ----- */

struct vctx {
	const struct ai_verify_params *p;
	struct ai_verify_report *rep;
	struct ai_ranges ranges;      /* archived in the --source window */
	uint64_t segs_done, segs_total;  /* for the progress line */
};

/* Reads a small object whole; NOT_FOUND and TOO_BIG are left to the caller. */
static ai_result read_small(struct ai_store *s, const char *name, size_t max, struct ai_buf *out)
{
	ai_buf_release(out);
	ai_buf_init(out, max);
	return ai_store_read(s, name, 0, 0, NULL, out, NULL);
}

static void log_store_error(const char *what, const char *name, ai_result r)
{
	ai_error("%s '%s': %s", what, name, ai_store_why(r));
}

/* Checks the signature of an object (its .minisig is read here) by the
 * rules of trust.h, reporting what is wrong: a published key that is
 * missing or unusable once, as a problem of that key. keyhex (may be
 * NULL) gets the signer's id. */
static ai_result check_sig(struct vctx *v, const struct ai_trust_object *obj,
                           char keyhex[AI_MINISIGN_KEYID_HEXLEN])
{
	struct ai_trust_verdict vd;
	ai_result r;

	r = ai_trust_check_stored(v->p->trust, v->p->dest, obj, &vd);
	if (keyhex)
		memcpy(keyhex, vd.signer, sizeof vd.signer);
	if (r == AI_ERR_VERIFY) {
		if (vd.fault != AI_TRUST_NO_KEY)
			ai_verify_add(v->rep, 0, obj->kind, obj->name, "%s", vd.why);
		else if (vd.key_first)
			ai_verify_add(v->rep, 0, "key", vd.key_name, "%s (needed by %s %s)", vd.why,
			              obj->kind, obj->name);
		r = AI_OK;
	} else if (r == AI_OK && vd.carried) {
		/* Trusted through the signature the object carries: a run
		 * stopped between the object and its file. Stock minisign reads
		 * the file, so it is worth saying; nothing is unproven. */
		ai_verify_add(v->rep, 1, obj->kind, obj->name,
		              "%s (the object carries a valid signature in its metadata; `minisign -V` "
		              "needs the file)", vd.why);
	} else if (r != AI_OK) {
		ai_error("%s '%s': signature: %s", obj->kind, obj->name,
		         ai_store_why(r));
	}
	return r;
}

/* Checks the signature of a manifest object held in memory. */
static ai_result check_object_sig(struct vctx *v, const char *kind, const char *name,
                                  const struct ai_buf *data, char keyhex[AI_MINISIGN_KEYID_HEXLEN])
{
	struct ai_trust_object obj = {
		.kind = kind, .name = name, .data = data->data, .len = data->len,
	};

	return check_sig(v, &obj, keyhex);
}

/* ----- data ----- */

struct seg_job {
	struct vctx *v;
	const struct ai_segment *seg;
	uint64_t seq;
	size_t *tasks;            /* < npacks: pack; else member (index - npacks) */
	size_t ntasks;
	size_t next;              /* atomic */
	char *pack_gone;          /* reported missing (guarded by rep->mu) */
	ai_result fatal;          /* first storage failure (guarded by rep->mu) */
};

struct worker {
	struct ai_fetch fetch;
	struct ai_buf buf;
};

static void pack_missing(struct seg_job *j, uint32_t pack)
{
	struct ai_verify_report *rep = j->v->rep;
	int first;

	pthread_mutex_lock(&rep->mu);
	first = !j->pack_gone[pack];
	j->pack_gone[pack] = 1;
	pthread_mutex_unlock(&rep->mu);
	if (first)
		ai_verify_add(rep, 0, "pack", j->seg->packs[pack].name, "missing");
}

static ai_result check_member(struct seg_job *j, struct worker *w, size_t i)
{
	const struct ai_member *m = &j->seg->members[i];
	const char *pack = j->seg->packs[m->pack].name;
	struct ai_verify_report *rep = j->v->rep;
	struct ai_fetch_record rec = {
		.pack = pack, .offset = m->offset, .length = m->length, .raw_size = m->raw_size,
		.sha256 = m->sha256,
	};
	struct ai_fetch_result got;
	ai_result r;

	r = ai_fetch_member(&w->fetch, j->v->p->dest, &rec, NULL, NULL, &got);
	count(rep, &rep->bytes_read, got.bytes_read);
	ai_progress_add(j->v->p->progress, 1, got.bytes_read);
	ai_progress_tick(j->v->p->progress);
	if (r != AI_OK) {
		if (got.store_failed)
			log_store_error("pack", pack, r);
		return r;
	}
#define MEMBER_FMT "member '%s' at %" PRIu64 "+%" PRIu64 ": "
	switch (got.fault) {
	case AI_FETCH_OK:
		break;
	case AI_FETCH_NO_PACK:
		pack_missing(j, m->pack);
		break;
	case AI_FETCH_SHORT:
		ai_verify_add(rep, 0, "pack", pack, MEMBER_FMT "beyond the end of the pack",
		              m->blob, m->offset, m->length);
		break;
	case AI_FETCH_TOO_BIG:
		ai_verify_add(rep, 0, "pack", pack, MEMBER_FMT "longer than its recorded raw size %" PRIu64,
		              m->blob, m->offset, m->length, m->raw_size);
		break;
	case AI_FETCH_EMPTY:
	case AI_FETCH_CORRUPT:
		ai_verify_add(rep, 0, "pack", pack, MEMBER_FMT "not a valid gzip member", m->blob,
		              m->offset, m->length);
		break;
	case AI_FETCH_MEMBERS:
		ai_verify_add(rep, 0, "pack", pack, MEMBER_FMT "holds %" PRIu64 " gzip members, not one",
		              m->blob, m->offset, m->length, got.members);
		break;
	case AI_FETCH_SIZE:
		ai_verify_add(rep, 0, "pack", pack, MEMBER_FMT "raw size %" PRIu64 ", recorded %" PRIu64,
		              m->blob, m->offset, m->length, got.size, m->raw_size);
		break;
	case AI_FETCH_SHA256:
		ai_verify_add(rep, 0, "pack", pack, MEMBER_FMT "sha256 mismatch", m->blob, m->offset,
		              m->length);
		break;
	}
#undef MEMBER_FMT
	count(rep, &rep->members_checked, 1);
	return AI_OK;
}

static ai_result check_pack(struct seg_job *j, struct worker *w, uint32_t i)
{
	const struct ai_pack_ref *ref = &j->seg->packs[i];
	struct vctx *v = j->v;
	struct ai_verify_report *rep = v->rep;
	struct ai_blob_info info = { 0 };
	struct ai_hash sha = { 0 }, blake = { 0 };
	uint8_t got_sha[AI_SHA256_LEN], got_blake[AI_BLAKE2B_LEN];
	struct ai_trust_object obj = {
		.kind = "pack", .name = ref->name, .blake2b = got_blake, .sha256 = got_sha,
		.run_id = j->seg->run_id && *j->seg->run_id ? j->seg->run_id : NULL,
	};
	uint64_t off = 0;
	ai_result r;

	r = ai_store_props(v->p->dest, ref->name, &info, NULL);
	if (r == AI_ERR_NOT_FOUND) {
		pack_missing(j, i);
		r = AI_OK;
		goto out;
	}
	if (r != AI_OK) {
		log_store_error("pack", ref->name, r);
		goto out;
	}
	if (info.size != ref->size)
		ai_verify_add(rep, 0, "pack", ref->name, "size %" PRIu64 ", the segment records %" PRIu64,
		              info.size, ref->size);
	r = ai_hash_init(&sha, AI_HASH_SHA256);
	if (r == AI_OK)
		r = ai_hash_init(&blake, AI_HASH_BLAKE2B512);
	while (r == AI_OK && off < info.size) {
		uint64_t len = info.size - off < CHUNK ? info.size - off : CHUNK;
		ai_buf_reset(&w->buf);
		r = ai_store_read(v->p->dest, ref->name, off, len, NULL, &w->buf, NULL);
		if (r == AI_ERR_BAD_INPUT || r == AI_ERR_NOT_FOUND || (r == AI_OK && w->buf.len != len)) {
			ai_verify_add(rep, 0, "pack", ref->name, "changed while it was read");
			r = AI_OK;
			goto out;
		}
		if (r != AI_OK) {
			log_store_error("pack", ref->name, r);
			goto out;
		}
		count(rep, &rep->bytes_read, len);
		ai_progress_add(v->p->progress, 0, len);
		ai_progress_tick(v->p->progress);
		r = ai_hash_update(&sha, w->buf.data, w->buf.len);
		if (r == AI_OK)
			r = ai_hash_update(&blake, w->buf.data, w->buf.len);
		off += len;
	}
	if (r == AI_OK)
		r = ai_hash_final(&sha, got_sha);
	if (r == AI_OK)
		r = ai_hash_final(&blake, got_blake);
	if (r != AI_OK)
		goto out;
	count(rep, &rep->packs_checked, 1);
	if (ai_memeq_ct(got_sha, ref->sha256, AI_SHA256_LEN) != 0)
		ai_verify_add(rep, 0, "pack", ref->name, "sha256 does not match the segment's record");
	r = check_sig(v, &obj, NULL);
out:
	ai_hash_release(&sha);
	ai_hash_release(&blake);
	ai_blob_info_release(&info);
	return r;
}

static void *data_worker(void *arg)
{
	struct seg_job *j = arg;
	struct ai_verify_report *rep = j->v->rep;
	struct worker w;
	ai_result r;

	memset(&w, 0, sizeof w);
	ai_buf_init(&w.buf, CHUNK);
	r = ai_fetch_init(&w.fetch);
	while (r == AI_OK) {
		size_t t = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
		int stop;
		pthread_mutex_lock(&rep->mu);
		stop = j->fatal != AI_OK;
		pthread_mutex_unlock(&rep->mu);
		if (t >= j->ntasks || stop)
			break;
		if (j->tasks[t] < j->seg->npacks)
			r = check_pack(j, &w, (uint32_t)j->tasks[t]);
		else
			r = check_member(j, &w, j->tasks[t] - j->seg->npacks);
	}
	if (r != AI_OK) {
		pthread_mutex_lock(&rep->mu);
		if (j->fatal == AI_OK)
			j->fatal = r;
		pthread_mutex_unlock(&rep->mu);
	}
	ai_fetch_release(&w.fetch);
	ai_buf_release(&w.buf);
	return NULL;
}

/* Re-reads the selected packs and members of one segment, in parallel. */
static ai_result check_data(struct vctx *v, const struct ai_segment *seg, uint64_t seq)
{
	struct seg_job j;
	pthread_t th[64];
	size_t nth = 0, want;
	ai_result r = AI_OK;

	memset(&j, 0, sizeof j);
	j.v = v;
	j.seg = seg;
	j.seq = seq;
	j.tasks = malloc((seg->npacks + seg->nmembers + 1) * sizeof *j.tasks);
	j.pack_gone = calloc(seg->npacks + 1, 1);
	if (!j.tasks || !j.pack_gone) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < seg->npacks; i++)
		if (ai_verify_subset_has(&v->p->subset, seq, i, AI_VERIFY_SALT_PACK))
			j.tasks[j.ntasks++] = i;
	for (size_t i = 0; i < seg->nmembers; i++)
		if (ai_verify_subset_has(&v->p->subset, seq, i, AI_VERIFY_SALT_MEMBER))
			j.tasks[j.ntasks++] = seg->npacks + i;
	want = v->p->jobs ? v->p->jobs : 1;
	if (want > sizeof th / sizeof th[0])
		want = sizeof th / sizeof th[0];
	if (want > j.ntasks)
		want = j.ntasks;
	/* The calling thread is one of the workers. */
	for (; nth + 1 < want; nth++)
		if (pthread_create(&th[nth], NULL, data_worker, &j) != 0)
			break;
	data_worker(&j);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	r = j.fatal;
out:
	free(j.tasks);
	free(j.pack_gone);
	return r;
}

/* ----- segments ----- */

/* A number listed under a manifest prefix: its object, its signature or both. */
struct found {
	uint64_t seq;
	int obj, sig;
};

static int found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* What list_numbered collects across the pages of a listing. */
struct numbered {
	struct vctx *v;
	const char *prefix, *ext;
	struct found *f;
	size_t n, cap;
};

static ai_result add_numbered(void *ctx, const struct ai_blob_list *l)
{
	struct numbered *nb = ctx;
	size_t plen = strlen(nb->prefix), elen = strlen(nb->ext);

	for (size_t i = 0; i < l->n; i++) {
		const char *rel = l->blobs[i].name + plen;
		size_t d = strspn(rel, "0123456789");
		int is_obj = strcmp(rel + d, nb->ext) == 0;
		int is_sig = strncmp(rel + d, nb->ext, elen) == 0 &&
		             strcmp(rel + d + elen, ".minisig") == 0;
		if (d != 12 || (!is_obj && !is_sig)) {
			ai_verify_add(nb->v->rep, 1, "manifest", l->blobs[i].name, "unexpected object");
			continue;
		}
		if (AI_GROW(nb->f, nb->n + 1, nb->cap) != AI_OK)
			return AI_ERR_NOMEM;
		nb->f[nb->n].seq = strtoull(rel, NULL, 10);
		nb->f[nb->n].obj = is_obj;
		nb->f[nb->n].sig = is_sig;
		nb->n++;
	}
	return AI_OK;
}

/* Lists "<prefix><12 digits><ext>" and their signatures into a sorted
 * array with one entry per number; anything else there is a warning. */
static ai_result list_numbered(struct vctx *v, const char *prefix, const char *ext,
                               struct found **out, size_t *nout)
{
	struct numbered nb = { .v = v, .prefix = prefix, .ext = ext };
	struct found *f;
	size_t n, k = 0;
	ai_result r = ai_store_list_each(v->p->dest, prefix, NULL, add_numbered, &nb);

	if (r != AI_OK) {
		if (r != AI_ERR_NOMEM)
			log_store_error("location", ai_store_describe(v->p->dest), r);
		free(nb.f);
		return r;
	}
	f = nb.f;
	n = nb.n;
	if (n)
		qsort(f, n, sizeof *f, found_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && f[k - 1].seq == f[i].seq) {
			f[k - 1].obj |= f[i].obj;
			f[k - 1].sig |= f[i].sig;
		} else {
			f[k++] = f[i];
		}
	}
	*out = f;
	*nout = k;
	return AI_OK;
}

/* The range's key for a blob name. */
static ai_result name_key(const char *name, struct ai_range *a)
{
	uint8_t sha[AI_SHA256_LEN];
	ai_result r = ai_sha256(name, strlen(name), sha);

	memcpy(&a->name_hi, sha, sizeof a->name_hi);
	memcpy(&a->name_lo, sha + sizeof a->name_hi, sizeof a->name_lo);
	return r;
}

/* 32 bits of an ETag's SHA-256, never 0; 0 for none. */
static ai_result etag_key(const char *etag, uint32_t *out)
{
	uint8_t sha[AI_SHA256_LEN];
	ai_result r = AI_OK;

	*out = 0;
	if (*etag && (r = ai_sha256(etag, strlen(etag), sha)) == AI_OK) {
		memcpy(out, sha, sizeof *out);
		*out |= 1;
	}
	return r;
}

static ai_result add_range(struct vctx *v, const struct ai_member *m)
{
	struct ai_range a = { .start = m->range_start, .end = m->range_end };
	ai_result r = name_key(m->blob ? m->blob : "", &a);

	if (r == AI_OK)
		r = etag_key(m->etag, &a.etag);
	if (r == AI_OK && (r = ai_ranges_add(&v->ranges, &a)) == AI_ERR_IO)
		ai_error("verify --source: cannot write the archived ranges to a temporary file: %s",
		         strerror(errno));
	return r;
}

/* Reads and checks the listed index of segment seq against the segment:
 * sha256 of its bytes (NULL when they were not read) and seg (NULL when
 * they did not decode). *gone is set when the index went away since it
 * was listed (the segment has none, then). */
static ai_result check_index(struct vctx *v, uint64_t seq, const uint8_t *sha256,
                             const struct ai_segment *seg, struct ai_buf *raw, int *gone)
{
	struct ai_segment_index x;
	char name[128], why[256];
	ai_result r;

	ai_segment_index_init(&x);
	*gone = 0;
	ai_archive_index_name(seq, name, sizeof name);
	r = read_small(v->p->dest, name, MAX_INDEX_BYTES, raw);
	if (r == AI_ERR_NOT_FOUND) {
		*gone = 1;
		r = AI_OK;
		goto out;
	}
	if (r == AI_ERR_TOO_BIG) {
		ai_verify_add(v->rep, 0, INDEX_KIND, name, "larger than any index can be");
		r = AI_OK;
		goto out;
	}
	if (r != AI_OK) {
		log_store_error("index", name, r);
		goto out;
	}
	v->rep->indexes++;
	r = check_object_sig(v, INDEX_KIND, name, raw, NULL);
	if (r != AI_OK)
		goto out;
	r = ai_segment_index_decode(raw->data, raw->len, &x, why, sizeof why);
	if (r == AI_ERR_NOMEM)
		goto out;
	if (r != AI_OK) {
		ai_verify_add(v->rep, 0, INDEX_KIND, name, "cannot decode it: %s", why);
		r = AI_OK;
		goto out;
	}
	r = ai_verify_index(name, seq, &x, sha256, seg, v->rep);
out:
	ai_segment_index_release(&x);
	return r;
}

/* What the walk over the listed segments carries. */
struct seg_walk {
	struct vctx *v;
	struct ai_chain_entry *e;  /* one per listed number, in order */
	size_t at;                 /* the entry of the segment being read */
	const struct found *ix;    /* the listed indexes */
	size_t nix, k;
	struct ai_buf *index_raw;
};

/* Checks and (with --data) re-reads one listed segment as the walk read
 * it, and checks its index when one is listed. */
static ai_result walk_one(void *ctx, const struct ai_archive_link *l)
{
	struct seg_walk *sw = ctx;
	struct vctx *v = sw->v;
	struct ai_chain_entry *e;
	char keyhex[AI_MINISIGN_KEYID_HEXLEN];
	int has_index, read_whole = 0, gone = 0;
	ai_result r = AI_OK;

	while (sw->e[sw->at].name_seq != l->seq)
		sw->at++;
	e = &sw->e[sw->at];
	while (sw->k < sw->nix && sw->ix[sw->k].seq < l->seq)
		sw->k++;
	has_index = sw->k < sw->nix && sw->ix[sw->k].seq == l->seq && sw->ix[sw->k].obj;
	if (l->read == AI_ERR_NOT_FOUND) {
		e->present = 0;
		return AI_OK;
	}
	if (l->read == AI_ERR_TOO_BIG) {
		ai_verify_add(v->rep, 0, "segment", l->name, "larger than any segment can be");
		goto index;
	}
	if (l->read != AI_OK) {
		log_store_error("segment", l->name, l->read);
		return l->read;
	}
	v->rep->segments++;
	read_whole = 1;
	memcpy(e->sha256, l->sha256, AI_SHA256_LEN);
	r = check_object_sig(v, "segment", l->name, l->raw, keyhex);
	if (r != AI_OK)
		return r;
	if (l->decode != AI_OK) {
		ai_verify_add(v->rep, 0, "segment", l->name, "cannot decode it: %s", l->why);
		goto index;
	}
	e->decoded = 1;
	e->seq = l->seg.seq;
	memcpy(e->prev, l->seg.prev, AI_SHA256_LEN);
	v->rep->members += l->seg.nmembers;
	if (*keyhex && l->seg.key_id && strcasecmp(l->seg.key_id, keyhex) != 0)
		ai_verify_add(v->rep, 0, "segment", l->name, "records key %s but is signed by key %s",
		              l->seg.key_id, keyhex);
	if (v->p->src) {
		for (size_t i = 0; r == AI_OK && i < l->seg.nmembers; i++)
			if (l->seg.members[i].delivery_hour >= v->p->from &&
			    l->seg.members[i].delivery_hour < v->p->to)
				r = add_range(v, &l->seg.members[i]);
	}
	if (r == AI_OK && v->p->data) {
		r = check_data(v, &l->seg, e->name_seq);
		ai_progress_steps(v->p->progress, ++v->segs_done, v->segs_total);
		ai_progress_tick(v->p->progress);
	}
	if (r != AI_OK)
		return r;
index:
	if (has_index)
		r = check_index(v, e->name_seq, read_whole ? e->sha256 : NULL,
		                e->decoded ? &l->seg : NULL, sw->index_raw, &gone);
	if (r == AI_OK && read_whole && (!has_index || gone))
		v->rep->unindexed++;
	return r;
}

/* Reports what is listed under manifest/index/ but belongs to no segment
 * that was read: an index of a missing segment, and a signature whose
 * index is gone. */
static void check_orphan_indexes(struct vctx *v, const struct found *ix, size_t nix,
                                 const struct ai_chain_entry *e, size_t n)
{
	char name[128], seg_obj[128];
	size_t k = 0;

	for (size_t i = 0; i < nix; i++) {
		while (k < n && e[k].name_seq < ix[i].seq)
			k++;
		ai_archive_index_name(ix[i].seq, name, sizeof name);
		seg_name(ix[i].seq, seg_obj, sizeof seg_obj);
		if (ix[i].obj && (k == n || e[k].name_seq != ix[i].seq || !e[k].present))
			ai_verify_add(v->rep, 0, INDEX_KIND, name, "its segment %s does not exist",
			              seg_obj);
		else if (!ix[i].obj)
			ai_verify_add(v->rep, 1, INDEX_KIND, name,
			              "missing (its signature is still there); %s is read in full",
			              seg_obj);
	}
}

/* The number after the highest segment there is (0: none). */
static uint64_t chain_length(const struct ai_chain_entry *e, size_t n)
{
	for (size_t i = n; i > 0; i--)
		if (e[i - 1].present)
			return e[i - 1].name_seq + 1;
	return 0;
}

static ai_result check_state(struct vctx *v, const struct ai_chain_entry *e, size_t n)
{
	struct ai_state st;
	struct ai_buf raw;
	char why[256], keyhex[AI_MINISIGN_KEYID_HEXLEN];
	ai_result r;

	ai_state_init(&st);
	ai_buf_init(&raw, MAX_STATE_BYTES);
	r = read_small(v->p->dest, AI_STATE_NAME, MAX_STATE_BYTES, &raw);
	if (r == AI_ERR_NOT_FOUND) {
		/* A run saves the state before its first segment and only replaces
		 * it (ARCHITECTURE.md §7.2): segments without it had it removed. */
		if (chain_length(e, n))
			ai_verify_add(v->rep, 0, "state", AI_STATE_NAME,
			              "missing, yet there are segments (a state is saved before the first "
			              "segment and never removed: removed, maybe with the newest "
			              "segments)");
		r = AI_OK;
		goto out;
	}
	if (r == AI_ERR_TOO_BIG) {
		ai_verify_add(v->rep, 0, "state", AI_STATE_NAME, "larger than any state can be");
		r = AI_OK;
		goto out;
	}
	if (r != AI_OK) {
		log_store_error("state", AI_STATE_NAME, r);
		goto out;
	}
	r = check_object_sig(v, "state", AI_STATE_NAME, &raw, keyhex);
	if (r != AI_OK)
		goto out;
	ai_state_release(&st);
	if (ai_state_decode(raw.data, raw.len, &st, why, sizeof why) != AI_OK) {
		ai_state_init(&st);
		ai_verify_add(v->rep, 0, "state", AI_STATE_NAME, "cannot decode it: %s", why);
		goto out;
	}
	v->rep->state_found = 1;
	v->rep->state_next_seq = st.next_seq;
	ai_verify_state_head(&st, e, n, v->rep);
out:
	ai_state_release(&st);
	ai_buf_release(&raw);
	return r;
}

/* Checks the chain against each witness's checkpoint: the segment the
 * checkpoint names as the head must be there with the digest it saw. */
static ai_result check_witnesses(struct vctx *v, const struct ai_chain_entry *e, size_t n)
{
	struct ai_witnesses *ws = v->p->witness;
	uint64_t len = chain_length(e, n);
	char why[512], when[AI_TIME_STRLEN];
	struct ai_checkpoint c;
	ai_result r = AI_OK;

	for (size_t i = 0; ws && i < ws->n && r == AI_OK; i++) {
		const uint8_t *digest = NULL;
		why[0] = '\0';
		r = ai_witness_read(ws, i, v->p->dest, v->p->trust, &c, why, sizeof why);
		if (r == AI_ERR_NOT_FOUND) {
			if (ws->w[i].required)
				ai_verify_add(v->rep, 1, "witness", ws->w[i].where,
				              "holds no checkpoint of this archive (no run wrote one yet)");
			r = AI_OK;
			continue;
		}
		if (r == AI_ERR_VERIFY) {
			ai_verify_add(v->rep, 0, "witness", ws->w[i].where,
			              "the checkpoint does not check out (%s)", why);
			r = AI_OK;
			continue;
		}
		if (r == AI_ERR_IO && !ws->w[i].required) {
			ai_verify_add(v->rep, 1, "witness", ws->w[i].where, "cannot be read (%s); not "
			              "checked", ai_store_why(r));
			r = AI_OK;
			continue;
		}
		if (r != AI_OK) {
			log_store_error("witness", ws->w[i].where, r);
			break;
		}
		v->rep->checkpoints++;
		for (size_t k = 0; c.segments && k < n; k++)
			if (e[k].name_seq == c.segments - 1 && e[k].present)
				digest = e[k].sha256;
		ai_time_format(c.time, 0, when);
		if (ai_witness_judge(&c, len, digest, why, sizeof why) != AI_OK)
			ai_verify_add(v->rep, 0, "witness", ws->w[i].where, "%s (checkpoint of %s)", why,
			              when);
		else if (c.segments && n && e[0].name_seq == 0 && e[0].present &&
		         memcmp(e[0].sha256, c.segment0, AI_SHA256_LEN) != 0)
			ai_verify_add(v->rep, 0, "witness", ws->w[i].where,
			              "saw another segment 0 (checkpoint of %s)", when);
	}
	return r;
}

/* ----- the archive's identity ----- */

static void identity_note(void *ctx, const char *kind, const char *name, const char *why)
{
	struct vctx *v = ctx;

	ai_verify_add(v->rep, 0, kind, name, "%s (the object carries a valid signature; the next "
	              "run restores the file)", why);
}

/* Each key of the chain is published as keys/<ID>.pub, the very key: what
 * stock minisign checks with. A missing one only warns when the reader
 * brought its own key. */
static ai_result check_published(struct vctx *v, const struct ai_identity *id)
{
	struct ai_minisign_pubkey pk;
	struct ai_buf text;
	char hex[AI_MINISIGN_KEYID_HEXLEN], name[64], which[64];
	ai_result r = AI_OK;

	ai_buf_init(&text, 4096);
	for (size_t i = 0; r == AI_OK && i < id->nkeys; i++) {
		ai_minisign_keyid_hex(id->keys[i].keyid, hex);
		snprintf(name, sizeof name, AI_KEYS_DIR "%s.pub", hex);
		if (i)
			snprintf(which, sizeof which, "key of key rotation %zu", i);
		else
			snprintf(which, sizeof which, "genesis key");
		r = read_small(v->p->dest, name, 4096, &text);
		if (r == AI_ERR_NOT_FOUND) {
			ai_verify_add(v->rep, v->p->trust->has_pubkey, "key", name,
			              "not published (the archive's %s; stock minisign checks with it)",
			              which);
			r = AI_OK;
		} else if (r == AI_ERR_TOO_BIG ||
		           (r == AI_OK && ai_minisign_pubkey_parse(text.data, text.len, &pk) != AI_OK)) {
			ai_verify_add(v->rep, 0, "key", name, "not a minisign public key");
			r = AI_OK;
		} else if (r == AI_OK && memcmp(&pk, &id->keys[i], sizeof pk) != 0) {
			ai_verify_add(v->rep, 0, "key", name, "another key than the archive's %s", which);
		} else if (r != AI_OK) {
			log_store_error("key", name, r);
		}
	}
	ai_buf_release(&text);
	return r;
}

/* Reads the genesis and the key rotations, reports what is wrong with
 * them and puts the chain (as far as it checks out) into the trust the
 * rest is checked with. *genesis: there is one. */
static ai_result check_identity(struct vctx *v, int *genesis)
{
	struct ai_identity *id = malloc(sizeof *id);
	char why[AI_TRUST_MAX_KEYS * 24 + 64];
	ai_result r;

	*genesis = 0;
	if (!id)
		return AI_ERR_NOMEM;
	r = ai_identity_read(v->p->dest, id, identity_note, v);
	if (r == AI_ERR_NOT_FOUND) {
		r = AI_OK; /* made before init: the published keys are trusted, as ever */
		goto out;
	}
	*genesis = 1;
	if (r == AI_ERR_VERIFY) {
		ai_verify_add(v->rep, 0, id->bad_kind, id->bad_name, "%s", id->bad_why);
		r = AI_OK;
	} else if (r != AI_OK) {
		log_store_error("genesis", AI_GENESIS_NAME, r);
		goto out;
	}
	if (!id->nkeys)
		goto out; /* the genesis itself failed: the published keys, to report the rest */
	r = ai_trust_set_chain(v->p->trust, id->archive_id, id->keys, id->nkeys);
	if (r == AI_OK && ai_trust_pin_outside(v->p->trust, why, sizeof why))
		ai_verify_add(v->rep, 0, "key", v->p->trust->has_pubkey ? "--pubkey" : "--key-id",
		              "%s", why);
	if (r == AI_OK)
		r = check_published(v, id);
out:
	free(id);
	return r;
}

/* ----- the source ----- */

/* Position of the last newline in [from, to) of a source blob, or -1. */
static ai_result last_newline(struct ai_store *src, const char *name, uint64_t from, uint64_t to,
                              struct ai_buf *buf, int64_t *pos)
{
	ai_result r;

	*pos = -1;
	while (to > from) {
		uint64_t len = to - from < TAIL_CHUNK ? to - from : TAIL_CHUNK;
		uint64_t off = to - len;
		ai_buf_reset(buf);
		r = ai_store_read(src, name, off, len, NULL, buf, NULL);
		if (r != AI_OK)
			return r;
		for (size_t i = buf->len; i > 0; i--) {
			if (buf->data[i - 1] == '\n') {
				*pos = (int64_t)(off + i - 1);
				return AI_OK;
			}
		}
		to = off;
	}
	return AI_OK;
}

/* Widens what the suggested run must cover to take in it. */
static void need_run(struct vctx *v, const struct ai_source_item *it)
{
	struct ai_verify_report *rep = v->rep;

	if (!rep->fix_to || it->hour < rep->fix_from)
		rep->fix_from = it->hour;
	if (!rep->fix_to || it->hour + HOUR > rep->fix_to)
		rep->fix_to = it->hour + HOUR;
	/* Without memory the command is only wider (no filter). */
	if (ai_strvec_push_new(&rep->fix_apps, it->app) != AI_OK ||
	    ai_strvec_push_new(&rep->fix_types, it->type) != AI_OK)
		rep->apps_seen = rep->types_seen = 0;
}

static void missing_range(struct vctx *v, const struct ai_source_item *it, uint64_t a, uint64_t b)
{
	need_run(v, it);
	v->rep->source_missing++;
	ai_verify_add(v->rep, 0, "source blob", it->name,
	              "bytes %" PRIu64 "-%" PRIu64 " (%" PRIu64 " bytes) not archived", a, b - 1, b - a);
}

/* *a: archived range i when it is of key's blob, else NULL. */
static ai_result blob_range(struct vctx *v, uint64_t i, const struct ai_range *key,
                            const struct ai_range **a)
{
	ai_result r = AI_OK;

	*a = NULL;
	if (i < ai_ranges_count(&v->ranges) && (r = ai_ranges_get(&v->ranges, i, a)) == AI_OK &&
	    !ai_range_same_blob(*a, key))
		*a = NULL;
	if (r == AI_ERR_IO)
		ai_error("verify --source: cannot read the archived ranges' temporary file: %s",
		         strerror(errno));
	return r;
}

static ai_result check_item(struct vctx *v, const struct ai_source_item *it, struct ai_buf *buf)
{
	struct ai_range key = { .start = 0 };
	const struct ai_range *a;
	uint64_t i;
	uint64_t pos = 0;
	uint32_t etag;
	int this_version = 0;
	char hour[AI_TIME_STRLEN];
	int64_t nl;
	ai_result r;

	if ((r = name_key(it->name, &key)) != AI_OK || (r = etag_key(it->etag, &etag)) != AI_OK)
		return r;
	/* lower bound of (name, 0) */
	if ((r = ai_ranges_lower_bound(&v->ranges, &key, &i)) != AI_OK ||
	    (r = blob_range(v, i, &key, &a)) != AI_OK)
		return r;
	if (!a) {
		if (it->append && it->size == 0)
			return AI_OK; /* nothing to archive yet */
		need_run(v, it);
		v->rep->source_missing++;
		ai_time_format(it->hour, 0, hour);
		ai_verify_add(v->rep, 0, "source blob", it->name,
		              "not archived (%" PRIu64 " bytes, delivery hour %.13s)", it->size, hour);
		return AI_OK;
	}
	for (; a; r = blob_range(v, ++i, &key, &a)) {
		if (it->append && a->start > pos && pos < it->size)
			missing_range(v, it, pos, a->start < it->size ? a->start : it->size);
		if (a->end > pos)
			pos = a->end;
		/* A block blob has one member per version (ETag and size). */
		if (a->start == 0 && a->end == it->size && (!a->etag || !etag || a->etag == etag))
			this_version = 1;
	}
	if (r != AI_OK)
		return r;
	if (!it->append) {
		if (!this_version)
			need_run(v, it);
		if (!this_version)
			ai_verify_add(v->rep, 1, "source blob", it->name,
			              "changed after it was archived: this version (%" PRIu64
			              " bytes, ETag %s) is not archived yet", it->size, it->etag);
		return AI_OK;
	}
	if (pos >= it->size)
		return AI_OK;
	/* The line being written may stay out until it ends. */
	r = last_newline(v->p->src, it->name, pos, it->size, buf, &nl);
	if (r == AI_ERR_BAD_INPUT || r == AI_ERR_NOT_FOUND) {
		ai_verify_add(v->rep, 1, "source blob", it->name, "changed while it was read");
		return AI_OK;
	}
	if (r != AI_OK) {
		log_store_error("source blob", it->name, r);
		return r;
	}
	if (nl >= 0)
		missing_range(v, it, pos, (uint64_t)nl + 1);
	return AI_OK;
}

/* The source listing is checked a page at a time, as the scan goes. */
#define SOURCE_PAGE 5000

struct source_page {
	struct vctx *v;
	struct ai_buf buf;
	ai_result failed;        /* a check's failure, which stopped the scan */
};

static ai_result check_page(void *ctx, struct ai_source_list *list)
{
	struct source_page *sp = ctx;
	ai_result r = AI_OK;

	for (size_t i = 0; r == AI_OK && i < list->n; i++) {
		sp->v->rep->source_blobs++;
		r = check_item(sp->v, &list->items[i], &sp->buf);
	}
	ai_source_list_drop_items(list);
	sp->failed = r;
	return r;
}

static ai_result check_source(struct vctx *v)
{
	struct ai_source_filter f = { .from = v->p->from, .to = v->p->to, .jobs = v->p->jobs };
	struct ai_source_list list;
	struct source_page sp = { .v = v };
	ai_result r;

	ai_source_list_init(&list);
	ai_buf_init(&sp.buf, TAIL_CHUNK);
	if ((r = ai_ranges_finish(&v->ranges)) != AI_OK) {
		if (r == AI_ERR_IO)
			ai_error("verify --source: cannot sort the archived ranges in a temporary file: %s",
			         strerror(errno));
		goto out;
	}
	list.flush = check_page;
	list.flush_ctx = &sp;
	list.flush_every = SOURCE_PAGE;
	r = ai_source_scan(v->p->src, v->p->layout, &f, &list);
	if (r != AI_OK) {
		if (sp.failed == AI_OK)
			log_store_error("source", ai_store_describe(v->p->src), r);
		goto out;
	}
	v->rep->apps_seen = list.apps_seen.n;
	v->rep->types_seen = list.types_seen.n;
	r = check_page(&sp, &list);
	/* Left out by every run on purpose: worth knowing, not a failure. */
	for (size_t i = 0; r == AI_OK && i < list.nquarantined; i++) {
		const struct ai_source_quarantined *q = &list.quarantined[i];
		v->rep->source_quarantined++;
		ai_verify_add(v->rep, 1, q->hour == AI_TIME_MIN ? "source folder" : "source blob",
		              q->name, "quarantined (%s); not archived", q->reason);
	}
out:
	ai_buf_release(&sp.buf);
	ai_source_list_release(&list);
	return r;
}

/* ----- all of it ----- */

ai_result ai_verify(const struct ai_verify_params *p, struct ai_verify_report *rep)
{
	struct vctx v;
	struct found *found = NULL, *ix = NULL;
	struct ai_chain_entry *e = NULL;
	struct ai_archive_walk w = { 0 };
	struct seg_walk sw = { 0 };
	struct ai_buf index_raw;
	uint64_t *seqs = NULL;
	size_t nfound = 0, nix = 0;
	char why[256];
	int genesis = 0;
	ai_result r;

	memset(&v, 0, sizeof v);
	v.p = p;
	v.rep = rep;
	ai_ranges_init(&v.ranges);
	if (p->ranges_in_memory)
		v.ranges.run_max = p->ranges_in_memory;
	ai_buf_init(&index_raw, MAX_INDEX_BYTES);
	if (ai_trust_pubkey_conflict(p->trust, why, sizeof why))
		ai_verify_add(rep, 0, "key", "--pubkey", "%s", why);
	r = check_identity(&v, &genesis);
	if (r != AI_OK)
		goto out;
	/* Indexes first: a run writes a segment before its index, so every
	 * index listed now has its segment in the listing that follows. */
	r = list_numbered(&v, INDEX_PREFIX, ".idx", &ix, &nix);
	if (r == AI_OK)
		r = list_numbered(&v, SEG_PREFIX, ".seg", &found, &nfound);
	if (r != AI_OK)
		goto out;
	e = calloc(nfound ? nfound : 1, sizeof *e);
	seqs = calloc(nfound ? nfound : 1, sizeof *seqs);
	if (!e || !seqs) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	/* Only the listed objects are read; a signature alone is a missing
	 * segment to the chain check. */
	for (size_t i = 0; i < nfound; i++) {
		e[i].name_seq = found[i].seq;
		e[i].present = found[i].obj;
		if (e[i].present)
			seqs[w.nseqs++] = found[i].seq;
	}
	w.seqs = seqs;
	v.segs_total = w.nseqs;
	sw.v = &v;
	sw.e = e;
	sw.ix = ix;
	sw.nix = nix;
	sw.index_raw = &index_raw;
	r = ai_archive_walk(p->dest, &w, walk_one, &sw);
	if (r != AI_OK)
		goto out;
	ai_verify_chain(e, nfound, rep);
	check_orphan_indexes(&v, ix, nix, e, nfound);
	r = check_state(&v, e, nfound);
	if (r == AI_OK)
		r = check_witnesses(&v, e, nfound);
	if (r == AI_OK && !nfound && !rep->state_found)
		ai_verify_add(rep, 1, "manifest", "manifest/", "empty: nothing archived yet");
	if (r == AI_OK && !genesis && (nfound || rep->state_found))
		ai_verify_add(rep, 1, "genesis", AI_GENESIS_NAME, "missing: an archive made before "
		              "'aiarchive init', which runs refuse until init adopts it");
	if (r == AI_OK && p->src)
		r = check_source(&v);
out:
	ai_ranges_release(&v.ranges);
	free(seqs);
	free(found);
	free(ix);
	free(e);
	ai_buf_release(&index_raw);
	return r;
}
