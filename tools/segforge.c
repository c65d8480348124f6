/* segforge.c: re-encodes a manifest object with edits, through the
 * project's own codec, so the attack tests (tests/e2e/proof_*.sh) can
 * plant what a writer of the archive without the signing key could: a
 * well-formed, correctly chained, unsigned segment; a segment with a pack
 * left out; a state with another head or watermark. It signs nothing.
 *
 * Usage:
 *   segforge segment IN OUT [--seq N] [--prev-of FILE] [--names-from SEG]
 *                           [--drop-pack NAME]... [--key-id ID]
 *     --seq N          the segment says it is number N
 *     --prev-of FILE   its prev is the SHA-256 of FILE's bytes
 *     --names-from SEG each member i takes the source fields of member i of
 *                      SEG (blob, etag, last modified, range, app, type,
 *                      delivery hour) and keeps its own data fields (pack,
 *                      offset, length, raw size, sha256, rows, ...): the
 *                      members then claim SEG's blobs with IN's bytes; both
 *                      must have the same number of members
 *     --drop-pack NAME the pack and every member in it are left out
 *     --key-id ID      the segment names ID (16 hex digits) as its signer
 *   segforge state IN OUT [--head-of FILE] [--watermark TIME]
 *     --head-of FILE   head is the SHA-256 of FILE's bytes
 *     --watermark TIME the watermark (UTC, as `run --from` takes it)
 * Prints the SHA-256 of OUT. Exit status: 0 done, 1 failure, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/buf.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/parse.h"
#include "format/manifest.h"
#include "format/manifest_codec.h"
#include "format/state.h"

#define MAX_OBJECT_BYTES (512u << 20)

static int usage(void)
{
	fprintf(stderr, "usage: segforge segment IN OUT [--seq N] [--prev-of FILE] "
	                "[--names-from SEG] [--drop-pack NAME]... [--key-id ID]\n"
	                "       segforge state IN OUT [--head-of FILE] [--watermark TIME]\n");
	return 2;
}

static int read_file(const char *path, struct ai_buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "segforge: %s: cannot open\n", path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (ai_buf_add(out, chunk, n) != AI_OK) {
			rc = -1;
			break;
		}
	if (ferror(f))
		rc = -1;
	fclose(f);
	if (rc)
		fprintf(stderr, "segforge: %s: cannot read\n", path);
	return rc;
}

static int sha_of(const char *path, uint8_t sha[AI_SHA256_LEN])
{
	struct ai_buf b;
	int rc;

	ai_buf_init(&b, MAX_OBJECT_BYTES);
	rc = read_file(path, &b);
	if (rc == 0 && ai_sha256(b.data, b.len, sha) != AI_OK)
		rc = -1;
	ai_buf_release(&b);
	return rc;
}

static int write_out(const char *path, const struct ai_buf *b)
{
	uint8_t sha[AI_SHA256_LEN];
	char hex[2 * AI_SHA256_LEN + 1];
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
		fprintf(stderr, "segforge: %s: cannot write\n", path);
		return 1;
	}
	if (ai_sha256(b->data, b->len, sha) != AI_OK)
		return 1;
	ai_hex(sha, sizeof sha, hex);
	printf("%s\n", hex);
	return 0;
}

static int load_segment(const char *path, struct ai_segment *seg)
{
	struct ai_buf b;
	char why[256];
	int rc;

	ai_buf_init(&b, MAX_OBJECT_BYTES);
	rc = read_file(path, &b);
	if (rc == 0 && ai_segment_decode(b.data, b.len, seg, why, sizeof why) != AI_OK) {
		fprintf(stderr, "segforge: %s: %s\n", path, why);
		rc = -1;
	}
	ai_buf_release(&b);
	return rc;
}

static char *dup_or_die(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		fprintf(stderr, "segforge: out of memory\n");
		exit(1);
	}
	return d;
}

/* Member i of seg claims the source blob of member i of from. */
static int take_names(struct ai_segment *seg, const char *from_path)
{
	struct ai_segment from;

	if (load_segment(from_path, &from) != 0)
		return -1;
	if (from.nmembers != seg->nmembers) {
		fprintf(stderr, "segforge: %s has %zu members, the segment %zu\n", from_path,
		        from.nmembers, seg->nmembers);
		ai_segment_release(&from);
		return -1;
	}
	for (size_t i = 0; i < seg->nmembers; i++) {
		struct ai_member *m = &seg->members[i];
		const struct ai_member *o = &from.members[i];
		free(m->blob);
		free(m->app);
		free(m->type);
		m->blob = dup_or_die(o->blob);
		m->app = dup_or_die(o->app);
		m->type = dup_or_die(o->type);
		memcpy(m->etag, o->etag, sizeof m->etag);
		m->last_modified = o->last_modified;
		m->range_start = o->range_start;
		m->range_end = o->range_end;
		m->delivery_hour = o->delivery_hour;
	}
	ai_segment_release(&from);
	return 0;
}

/* Leaves out the pack called name and its members. */
static int drop_pack(struct ai_segment *seg, const char *name)
{
	size_t p, kept = 0;

	for (p = 0; p < seg->npacks; p++)
		if (strcmp(seg->packs[p].name, name) == 0)
			break;
	if (p == seg->npacks) {
		fprintf(stderr, "segforge: no pack '%s' in the segment\n", name);
		return -1;
	}
	for (size_t i = 0; i < seg->nmembers; i++) {
		struct ai_member *m = &seg->members[i];
		if (m->pack == p) {
			ai_member_release(m);
			continue;
		}
		if (m->pack > p)
			m->pack--;
		seg->members[kept++] = *m;
	}
	seg->nmembers = kept;
	free(seg->packs[p].name);
	memmove(&seg->packs[p], &seg->packs[p + 1], (seg->npacks - p - 1) * sizeof *seg->packs);
	seg->npacks--;
	return 0;
}

static int forge_segment(int argc, char **argv)
{
	struct ai_segment seg;
	struct ai_buf out;
	char why[256];
	int rc = 1;

	if (argc < 2)
		return usage();
	if (load_segment(argv[0], &seg) != 0)
		return 1;
	ai_buf_init(&out, MAX_OBJECT_BYTES);
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val) {
			rc = usage();
			goto out;
		}
		i++;
		if (strcmp(opt, "--seq") == 0) {
			char *end;
			seg.seq = strtoull(val, &end, 10);
			if (*end || !*val) {
				rc = usage();
				goto out;
			}
		} else if (strcmp(opt, "--prev-of") == 0) {
			if (sha_of(val, seg.prev) != 0)
				goto out;
		} else if (strcmp(opt, "--names-from") == 0) {
			if (take_names(&seg, val) != 0)
				goto out;
		} else if (strcmp(opt, "--drop-pack") == 0) {
			if (drop_pack(&seg, val) != 0)
				goto out;
		} else if (strcmp(opt, "--key-id") == 0) {
			free(seg.key_id);
			seg.key_id = dup_or_die(val);
		} else {
			rc = usage();
			goto out;
		}
	}
	if (ai_segment_check(&seg, why, sizeof why) != AI_OK) {
		fprintf(stderr, "segforge: the edited segment is not valid: %s\n", why);
		goto out;
	}
	if (ai_segment_encode(&seg, &out) != AI_OK) {
		fprintf(stderr, "segforge: cannot encode the segment\n");
		goto out;
	}
	rc = write_out(argv[1], &out);
out:
	ai_buf_release(&out);
	ai_segment_release(&seg);
	return rc;
}

static int forge_state(int argc, char **argv)
{
	struct ai_state st;
	struct ai_buf in, out;
	char why[256];
	int rc = 1;

	if (argc < 2)
		return usage();
	ai_buf_init(&in, MAX_OBJECT_BYTES);
	ai_buf_init(&out, MAX_OBJECT_BYTES);
	ai_state_init(&st);
	if (read_file(argv[0], &in) != 0)
		goto out;
	if (ai_state_decode(in.data, in.len, &st, why, sizeof why) != AI_OK) {
		fprintf(stderr, "segforge: %s: %s\n", argv[0], why);
		ai_state_init(&st);
		goto out;
	}
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val) {
			rc = usage();
			goto out;
		}
		i++;
		if (strcmp(opt, "--head-of") == 0) {
			if (sha_of(val, st.head_sha256) != 0)
				goto out;
		} else if (strcmp(opt, "--watermark") == 0) {
			if (ai_parse_time_arg(val, 0, &st.watermark) != AI_OK) {
				fprintf(stderr, "segforge: --watermark: not a time: '%s'\n", val);
				rc = 2;
				goto out;
			}
		} else {
			rc = usage();
			goto out;
		}
	}
	if (ai_state_encode(&st, &out) != AI_OK) {
		fprintf(stderr, "segforge: cannot encode the state\n");
		goto out;
	}
	rc = write_out(argv[1], &out);
out:
	ai_state_release(&st);
	ai_buf_release(&in);
	ai_buf_release(&out);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		usage();
		return 0;
	}
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "segment") == 0)
		rc = forge_segment(argc - 2, argv + 2);
	else if (strcmp(argv[1], "state") == 0)
		rc = forge_state(argc - 2, argv + 2);
	else
		rc = usage();
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
