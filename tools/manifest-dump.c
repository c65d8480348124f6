/* manifest-dump.c: prints what segment files record, as TSV, so tests can
 * check an archive with stock tools (tail, head, zcat, sha256sum, minisign)
 * instead of trusting aiarchive's own readers.
 *
 * Usage: manifest-dump SEGMENT-FILE...
 * One line per segment, per pack and per member:
 *   segment SEQ PREV-SHA256 NPACKS NMEMBERS
 *   pack    SEQ NAME SIZE SHA256
 *   member  SEQ PACK OFFSET LENGTH BLOB RANGE-START RANGE-END RAW-SHA256 ROWS ETAG REPLACES
 * (REPLACES is "-" for a blob's first version)
 * Exit status: 0 done, 1 a file could not be read or decoded, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/buf.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "format/manifest_codec.h"
#include "format/manifest.h"

#define MAX_SEGMENT_BYTES (512u << 20)

static int read_file(const char *path, struct ai_buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (ai_buf_add(out, chunk, n) != AI_OK) {
			rc = -1;
			break;
		}
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

static int dump(const char *path)
{
	struct ai_buf buf;
	struct ai_segment seg;
	char why[256], hex[2 * AI_SHA256_LEN + 1];
	int rc = 1;

	ai_buf_init(&buf, MAX_SEGMENT_BYTES);
	if (read_file(path, &buf) != 0) {
		fprintf(stderr, "manifest-dump: %s: cannot read\n", path);
		goto out;
	}
	if (ai_segment_decode(buf.data, buf.len, &seg, why, sizeof why) != AI_OK) {
		fprintf(stderr, "manifest-dump: %s: %s\n", path, why);
		goto out;
	}
	ai_hex(seg.prev, AI_SHA256_LEN, hex);
	printf("segment\t%llu\t%s\t%zu\t%zu\n", (unsigned long long)seg.seq, hex, seg.npacks,
	       seg.nmembers);
	for (size_t i = 0; i < seg.npacks; i++) {
		ai_hex(seg.packs[i].sha256, AI_SHA256_LEN, hex);
		printf("pack\t%llu\t%s\t%llu\t%s\n", (unsigned long long)seg.seq, seg.packs[i].name,
		       (unsigned long long)seg.packs[i].size, hex);
	}
	for (size_t i = 0; i < seg.nmembers; i++) {
		const struct ai_member *m = &seg.members[i];
		ai_hex(m->sha256, AI_SHA256_LEN, hex);
		printf("member\t%llu\t%s\t%llu\t%llu\t%s\t%llu\t%llu\t%s\t%llu\t%s\t%s\n",
		       (unsigned long long)seg.seq, seg.packs[m->pack].name,
		       (unsigned long long)m->offset, (unsigned long long)m->length, m->blob,
		       (unsigned long long)m->range_start, (unsigned long long)m->range_end, hex,
		       (unsigned long long)m->rows, m->etag, *m->replaces ? m->replaces : "-");
	}
	ai_segment_release(&seg);
	rc = 0;
out:
	ai_buf_release(&buf);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc < 2 ? stderr : stdout, "usage: manifest-dump SEGMENT-FILE...\n");
		return argc < 2 ? 2 : 0;
	}
	for (int i = 1; i < argc; i++)
		if (dump(argv[i]) != 0)
			rc = 1;
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
