/* fuzz_blobxml.c: libFuzzer target for the Blob service XML parsers and the
 * block list writer. Not built by default; from the source tree, after a
 * normal build in BUILD:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *     tests/fuzz/fuzz_blobxml.c src/store/blobxml.c src/util/buf.c src/util/parse.c \
 *     BUILD/src/.libs/libaiarchive.a \
 *     $(pkg-config --libs expat libcurl zlib libcrypto msgpack) -lpthread -lm \
 *     -o fuzz_blobxml
 *   ./fuzz_blobxml -max_total_time=60 -max_len=65536 CORPUS_DIR
 * The first byte picks the parser; the rest is the document (or, for the
 * block list, newline-separated ids). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "store/blobxml.h"

static void check_list(const struct ai_blob_list *l, ai_result r)
{
	if (r != AI_OK) {
		if (l->n || l->nprefixes || l->blobs || l->prefixes || l->next_marker)
			abort();
		return;
	}
	if (l->n > 5000 || l->nprefixes > 5000)
		abort();
	for (size_t i = 0; i < l->n; i++)
		if (!l->blobs[i].name || !*l->blobs[i].name || strlen(l->blobs[i].name) > 1024 ||
		    strlen(l->blobs[i].etag) >= AI_ETAG_MAX)
			abort();
	for (size_t i = 0; i < l->nprefixes; i++)
		if (!l->prefixes[i] || !*l->prefixes[i])
			abort();
	if (l->next_marker && !*l->next_marker)
		abort();
}

static void fuzz_block_list(const char *p, size_t n)
{
	char *copy = malloc(n + 1), *save = NULL, *tok;
	const char *ids[64];
	size_t nids = 0, lt = 0;
	struct ai_buf b;
	ai_result r;

	if (!copy)
		return;
	memcpy(copy, p, n);
	copy[n] = '\0';
	for (tok = strtok_r(copy, "\n", &save); tok && nids < 64; tok = strtok_r(NULL, "\n", &save))
		ids[nids++] = tok;
	ai_buf_init(&b, 1 << 16);
	r = ai_blobxml_block_list(ids, nids, &b);
	if (r == AI_OK) {
		/* Every '<' is markup of ours: ids never leak one unescaped. */
		for (size_t i = 0; i < b.len; i++)
			lt += b.data[i] == '<';
		if (lt != 3 + 2 * nids || strlen(b.data) != b.len)
			abort();
	} else if (b.len != 0) {
		abort();
	}
	ai_buf_release(&b);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ai_blob_list l;
	char code[64], msg[128], status[16];
	const char *xml = (const char *)data + 1;
	size_t n;
	ai_time t;
	ai_result r;

	if (size < 1)
		return 0;
	n = size - 1;
	switch (data[0] % 5) {
	case 0:
		r = ai_blobxml_parse_list(xml, n, &l);
		check_list(&l, r);
		ai_blob_list_release(&l);
		break;
	case 1:
		r = ai_blobxml_parse_containers(xml, n, &l);
		check_list(&l, r);
		ai_blob_list_release(&l);
		break;
	case 2:
		r = ai_blobxml_parse_error(xml, n, code, sizeof code, msg, sizeof msg);
		if (strlen(code) >= sizeof code || strlen(msg) >= sizeof msg || (r == AI_OK && !*code))
			abort();
		break;
	case 3:
		r = ai_blobxml_parse_stats(xml, n, status, sizeof status, &t);
		if (strlen(status) >= sizeof status || (r != AI_OK && t != AI_TIME_MIN))
			abort();
		break;
	default:
		fuzz_block_list(xml, n);
	}
	return 0;
}
