/* witness.c: checkpoints of an archive's chain kept outside it, and the
 * check that the chain still contains what they saw. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "engine/signed.h"
#include "engine/trust.h"
#include "engine/witness.h"
#include "util/hex.h"
#include "util/log.h"

#define WHY_MAX 512

void ai_archive_location_hash(const struct ai_store *dest, char *archive, size_t cap,
                              char hex[33])
{
	uint8_t sha[AI_SHA256_LEN];
	char full[2 * AI_SHA256_LEN + 1];
	size_t n;

	/* "…/archive" and "…/archive/" are one archive. */
	snprintf(archive, cap, "%s", ai_store_describe(dest));
	n = strlen(archive);
	while (n > 1 && archive[n - 1] == '/')
		archive[--n] = '\0';
	if (ai_sha256(archive, n, sha) != AI_OK)
		memset(sha, 0, sizeof sha);
	ai_hex(sha, 16, full);
	memcpy(hex, full, 33);
}

void ai_witnesses_init(struct ai_witnesses *ws, const struct ai_store *dest)
{
	char hex[33];

	memset(ws, 0, sizeof *ws);
	ai_archive_location_hash(dest, ws->archive, sizeof ws->archive, hex);
	snprintf(ws->name, sizeof ws->name, AI_WITNESS_PREFIX "%s.ckpt", hex);
}

void ai_witnesses_release(struct ai_witnesses *ws)
{
	if (!ws)
		return;
	for (size_t i = 0; i < ws->n; i++)
		ai_store_free(ws->w[i].store);
	memset(ws, 0, sizeof *ws);
}

ai_result ai_witnesses_add_store(struct ai_witnesses *ws, struct ai_store *s, int required)
{
	struct ai_witness *w;
	const char *d;

	if (ws->n == AI_WITNESS_MAX) {
		ai_store_free(s);
		return AI_ERR_INTERNAL;
	}
	w = &ws->w[ws->n++];
	memset(w, 0, sizeof *w);
	w->store = s;
	w->required = required;
	d = ai_store_describe(s);
	snprintf(w->where, sizeof w->where, "%.500s%s%s", d,
	         *d && d[strlen(d) - 1] == '/' ? "" : "/", ws->name);
	return AI_OK;
}

ai_result ai_witnesses_add_dir(struct ai_witnesses *ws, const char *dir, int required)
{
	struct ai_store_config cfg = { 0 };
	struct ai_store *s = NULL;
	char url[sizeof ws->w[0].dir + 8];
	ai_result r;

	if (!dir || dir[0] != '/' || strlen(dir) >= sizeof ws->w[0].dir) {
		ai_store_set_error("state directory '%.300s': not an absolute path", dir ? dir : "");
		return AI_ERR_CONFIG;
	}
	snprintf(url, sizeof url, "file://%s", dir);
	while (strlen(url) > 8 && url[strlen(url) - 1] == '/')
		url[strlen(url) - 1] = '\0';
	cfg.url = url;
	r = ai_store_open(&s, &cfg);
	if (r == AI_OK)
		r = ai_witnesses_add_store(ws, s, required);
	if (r == AI_OK)
		memcpy(ws->w[ws->n - 1].dir, url + 7, strlen(url + 7) + 1); /* shorter than dir */
	return r;
}

ai_result ai_witness_read(struct ai_witnesses *ws, size_t i, struct ai_store *dest,
                          struct ai_trust *trust, struct ai_checkpoint *c, char *why, size_t cap)
{
	struct ai_witness *w = &ws->w[i];
	struct ai_trust_object obj = { .kind = "checkpoint", .name = ws->name };
	struct ai_trust_verdict v;
	struct ai_buf raw;
	char perr[256];
	ai_result r;

	memset(c, 0, sizeof *c);
	ai_buf_init(&raw, AI_CHECKPOINT_MAX);
	r = ai_store_read(w->store, ws->name, 0, 0, NULL, &raw, NULL);
	if (r == AI_ERR_TOO_BIG) {
		snprintf(why, cap, "larger than a checkpoint can be");
		r = AI_ERR_VERIFY;
	}
	if (r != AI_OK)
		goto out;
	obj.data = raw.data;
	obj.len = raw.len;
	r = ai_trust_check_stored_in(trust, dest, w->store, &obj, &v);
	if (r == AI_ERR_VERIFY) {
		if (v.fault == AI_TRUST_NO_KEY)
			snprintf(why, cap, "key '%s': %s, so the checkpoint cannot be checked",
			         v.key_name, v.why);
		else
			snprintf(why, cap, "%s", v.why);
	}
	if (r != AI_OK)
		goto out;
	if (ai_checkpoint_parse(raw.data, raw.len, c, perr, sizeof perr) != AI_OK) {
		snprintf(why, cap, "signed, but %s", perr);
		r = AI_ERR_VERIFY;
	} else if (strcmp(c->archive, ws->archive) != 0) {
		snprintf(why, cap, "is the checkpoint of archive '%.200s', not of this one",
		         c->archive);
		r = AI_ERR_VERIFY;
	}
out:
	ai_buf_release(&raw);
	return r;
}

ai_result ai_witness_judge(const struct ai_checkpoint *c, uint64_t segments,
                           const uint8_t *digest, char *why, size_t cap)
{
	char want[2 * AI_SHA256_LEN + 1], have[2 * AI_SHA256_LEN + 1];
	uint64_t last;

	if (c->segments == 0)
		return AI_OK;
	last = c->segments - 1;
	if (segments < c->segments) {
		if (segments == 0)
			snprintf(why, cap, "archive rolled back: witness saw segment %" PRIu64
			         ", the archive has no segment", last);
		else
			snprintf(why, cap, "archive rolled back: witness saw segment %" PRIu64
			         ", head is %" PRIu64, last, segments - 1);
		return AI_ERR_VERIFY;
	}
	if (!digest) {
		snprintf(why, cap, "archive rolled back: witness saw segment %" PRIu64
		         ", which is missing (head is %" PRIu64 ")", last, segments - 1);
		return AI_ERR_VERIFY;
	}
	if (memcmp(digest, c->head, AI_SHA256_LEN) != 0) {
		ai_hex(c->head, AI_SHA256_LEN, want);
		ai_hex(digest, AI_SHA256_LEN, have);
		snprintf(why, cap, "archive rolled back or rewritten: witness saw segment %" PRIu64
		         " with sha256 %.16s..., the archive's has %.16s...", last, want, have);
		return AI_ERR_VERIFY;
	}
	return AI_OK;
}

/* Judges one checkpoint against the opened archive, reading the witnessed
 * head segment when the chain has grown past it. */
static ai_result judge_archive(struct ai_witnesses *ws, struct ai_store *dest,
                               const struct ai_checkpoint *c, const struct ai_archive *a,
                               char *why, size_t cap)
{
	uint64_t m = a->state.next_seq;
	uint8_t sha[AI_SHA256_LEN];
	const uint8_t *digest = NULL;
	ai_result r = AI_OK;

	if (c->segments && m == c->segments) {
		digest = a->state.head_sha256;
	} else if (c->segments && m > c->segments) {
		struct ai_segment seg;
		ai_segment_init(&seg);
		r = ai_archive_read_segment(dest, c->segments - 1, &seg, sha, NULL);
		ai_segment_release(&seg);
		if (r == AI_OK)
			digest = sha;
		else if (r == AI_ERR_NOT_FOUND)
			r = AI_OK;
		else
			return r; /* the store's error is set */
	}
	r = ai_witness_judge(c, m, digest, why, cap);
	if (r == AI_OK && c->segments && !ws->seg0_known) {
		/* The witnessed head is in the chain, so is its segment 0. */
		memcpy(ws->seg0, c->segment0, sizeof ws->seg0);
		ws->seg0_known = 1;
	}
	return r;
}

ai_result ai_witness_check(struct ai_witnesses *ws, struct ai_store *dest,
                           struct ai_trust *trust, const struct ai_archive *a, ai_result opened)
{
	char saved[WHY_MAX], why[WHY_MAX], when[AI_TIME_STRLEN];
	struct ai_checkpoint c;
	ai_result r = AI_OK;

	if (!ws || !ws->n || (opened != AI_OK && !a->state_missing))
		return opened;
	snprintf(saved, sizeof saved, "%s", ai_store_last_error());
	for (size_t i = 0; i < ws->n && r == AI_OK; i++) {
		const struct ai_witness *w = &ws->w[i];
		why[0] = '\0';
		r = ai_witness_read(ws, i, dest, trust, &c, why, sizeof why);
		if (r == AI_ERR_NOT_FOUND) {
			ai_debug("witness '%s': no checkpoint yet", w->where);
			r = AI_OK;
			continue;
		}
		if (r == AI_ERR_VERIFY) {
			ai_store_set_error("witness '%s': the checkpoint does not check out (%s); "
			                   "nothing is done on an archive a witness may contradict",
			                   w->where, why);
			break;
		}
		if (r == AI_ERR_IO && !w->required) {
			/* The default state directory of another user (an analyst
			 * on the archive's host): not this command's to check. */
			ai_warn("witness '%s': cannot be read (%s); not checked", w->where,
			        ai_store_why(r));
			r = AI_OK;
			continue;
		}
		if (r != AI_OK) {
			/* ai_store_why may return the very buffer set_error writes. */
			char err[512];
			snprintf(err, sizeof err, "%s", ai_store_why(r));
			ai_store_set_error("witness '%s': %s", w->where, err);
			break;
		}
		ai_time_format(c.time, 0, when);
		r = judge_archive(ws, dest, &c, a, why, sizeof why);
		if (r == AI_ERR_VERIFY)
			ai_store_set_error("witness '%s': %s (checkpoint of %s)", w->where, why, when);
		else if (r != AI_OK)
			ai_store_set_error("witness '%s': cannot read the witnessed head: %s", w->where,
			                   ai_store_why(r));
		else
			ai_debug("witness '%s': the chain contains segment %" PRIu64 " (checkpoint of %s)",
			         w->where, c.segments ? c.segments - 1 : 0, when);
	}
	if (r != AI_OK)
		return r;
	if (opened != AI_OK)
		ai_store_set_error("%s", saved);
	return opened;
}

ai_result ai_state_dir_make(const char *dir)
{
	char path[sizeof ((struct ai_witness *)0)->dir];
	size_t n = strlen(dir);

	snprintf(path, sizeof path, "%s", dir);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, i == n ? 0700 : 0755) != 0 && errno != EEXIST) {
			ai_store_set_error("state directory '%s': cannot create '%s': %s", dir, path,
			                   strerror(errno));
			return errno == EACCES || errno == EPERM ? AI_ERR_AUTH : AI_ERR_IO;
		}
		path[i] = i == n ? '\0' : '/';
	}
	return AI_OK;
}

/* Writes text as ws's checkpoint to witness i, unless the checkpoint there
 * is of a longer chain. */
static ai_result write_one(struct ai_witnesses *ws, size_t i, struct ai_store *dest,
                           struct ai_trust *trust, const struct ai_buf *text, uint64_t segments,
                           const struct ai_signing_key *key, ai_time now)
{
	struct ai_witness *w = &ws->w[i];
	struct ai_checkpoint old;
	char why[WHY_MAX];
	ai_result r = AI_OK;

	if (w->dir[0]) {
		r = ai_state_dir_make(w->dir);
		if (r == AI_OK)
			r = ai_store_create_container(w->store);
		if (r != AI_OK)
			return r;
	}
	r = ai_witness_read(ws, i, dest, trust, &old, why, sizeof why);
	if (r == AI_OK && old.segments > segments) {
		ai_info("witness '%s': keeps the checkpoint of segment %" PRIu64 " another run wrote",
		        w->where, old.segments - 1);
		return AI_OK;
	}
	if (r != AI_OK && r != AI_ERR_NOT_FOUND && r != AI_ERR_VERIFY)
		return r;
	r = ai_signed_put(w->store, ws->name, text->data, text->len, 1, key, "checkpoint", now);
	if (r == AI_ERR_NOT_FOUND && !w->dir[0]) {
		/* A witness container nobody has written to yet. */
		r = ai_store_create_container(w->store);
		if (r == AI_OK)
			r = ai_signed_put(w->store, ws->name, text->data, text->len, 1, key, "checkpoint",
			                  now);
	}
	return r;
}

ai_result ai_witness_record(struct ai_witnesses *ws, struct ai_store *dest,
                            struct ai_trust *trust, const struct ai_archive *a,
                            const struct ai_signing_key *key, ai_time now)
{
	const struct ai_state *st = &a->state;
	struct ai_checkpoint c;
	struct ai_buf text;
	ai_result r = AI_OK, first = AI_OK;

	if (!ws || !ws->n || !key || st->next_seq == 0)
		return AI_OK;
	if (ws->written == st->next_seq &&
	    memcmp(ws->written_head, st->head_sha256, AI_SHA256_LEN) == 0)
		return AI_OK;
	if (!ws->seg0_known && st->next_seq == 1) {
		memcpy(ws->seg0, st->head_sha256, sizeof ws->seg0);
		ws->seg0_known = 1;
	} else if (!ws->seg0_known) {
		struct ai_segment seg;
		ai_segment_init(&seg);
		r = ai_archive_read_segment(dest, 0, &seg, ws->seg0, NULL);
		ai_segment_release(&seg);
		if (r != AI_OK) {
			ai_warn("witness: segment 0 cannot be read (%s); no checkpoint written",
			        ai_store_why(r));
			return r;
		}
		ws->seg0_known = 1;
	}
	memset(&c, 0, sizeof c);
	snprintf(c.archive, sizeof c.archive, "%s", ws->archive);
	c.segments = st->next_seq;
	memcpy(c.head, st->head_sha256, sizeof c.head);
	memcpy(c.segment0, ws->seg0, sizeof c.segment0);
	c.time = now;
	ai_buf_init(&text, AI_CHECKPOINT_MAX);
	r = ai_checkpoint_format(&c, &text);
	for (size_t i = 0; r == AI_OK && i < ws->n; i++) {
		const struct ai_witness *w = &ws->w[i];
		ai_result wr = write_one(ws, i, dest, trust, &text, c.segments, key, now);
		if (wr == AI_OK) {
			ai_debug("witness '%s': checkpoint of segment %" PRIu64 " written", w->where,
			         c.segments - 1);
		} else if (w->failure_said) {
			/* one line per witness and run: a full disk fails each try alike */
			ai_debug("witness '%s': checkpoint not written again (%s)", w->where,
			         ai_store_why(wr));
			if (w->required && first == AI_OK)
				first = wr;
		} else if (w->required) {
			ai_error("witness '%s': checkpoint not written (%s); the archive is intact, "
			         "but until a checkpoint is written a rollback goes unnoticed",
			         w->where, ai_store_why(wr));
			ws->w[i].failure_said = 1;
			if (first == AI_OK)
				first = wr;
		} else {
			ai_warn("witness '%s': checkpoint not written (%s); set --state-dir or "
			        "--witness so that a rollback is noticed", w->where, ai_store_why(wr));
			ws->w[i].failure_said = 1;
		}
	}
	if (r == AI_OK && first == AI_OK) {
		ws->written = c.segments;
		memcpy(ws->written_head, c.head, sizeof ws->written_head);
	}
	ai_buf_release(&text);
	return r != AI_OK ? r : first;
}

ai_result ai_witness_require(struct ai_witnesses *ws, struct ai_store *dest,
                             struct ai_trust *trust, int data)
{
	struct ai_blob_list l;
	int present;
	ai_result r = ai_archive_present(dest, &present);

	if (r != AI_OK || present)
		return ai_archive_require(dest);
	if (data) {
		ai_blob_list_init(&l);
		r = ai_store_list(dest, "data/", NULL, NULL, 1, &l);
		present = r == AI_OK && l.n;
		ai_blob_list_release(&l);
		if (present)
			return AI_OK;
	}
	for (size_t i = 0; i < ws->n; i++) {
		struct ai_checkpoint c;
		char why[256];
		if (ai_witness_read(ws, i, dest, trust, &c, why, sizeof why) != AI_ERR_NOT_FOUND)
			return AI_OK;
	}
	return ai_archive_require(dest);
}
