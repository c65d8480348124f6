/* fuzz_manifest.c: libFuzzer target for the segment and state decoders.
 * Not built by default; from the source tree, after a normal build in BUILD:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *     tests/fuzz/fuzz_manifest.c src/format/manifest.c src/format/manifest_codec.c \
 *     src/format/state.c src/util/buf.c src/util/alloc.c src/util/parse.c \
 *     BUILD/src/.libs/libaiarchive.a \
 *     $(pkg-config --libs expat libcurl zlib libcrypto msgpack) -lpthread -lm \
 *     -o fuzz_manifest
 *   ./fuzz_manifest -max_total_time=60 -max_len=65536 CORPUS_DIR
 * The first byte picks the decoder; the rest is the object. Whatever
 * decodes must encode again, and that encoding must decode to the same
 * bytes (the canonical form is a fixed point). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "format/manifest_codec.h"

static void same_again(const struct ai_buf *a, int state)
{
	struct ai_segment seg;
	struct ai_state st;
	struct ai_buf b;
	ai_result r;

	ai_buf_init(&b, (size_t)1 << 30);
	if (state) {
		if (ai_state_decode(a->data, a->len, &st, NULL, 0) != AI_OK)
			abort();
		r = ai_state_encode(&st, &b);
		ai_state_release(&st);
	} else {
		if (ai_segment_decode(a->data, a->len, &seg, NULL, 0) != AI_OK)
			abort();
		r = ai_segment_encode(&seg, &b);
		ai_segment_release(&seg);
	}
	if (r != AI_OK || b.len != a->len || memcmp(a->data, b.data, a->len))
		abort();
	ai_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ai_segment seg;
	struct ai_state st;
	struct ai_buf out;
	char why[128];
	ai_result r;

	if (size < 1)
		return 0;
	ai_buf_init(&out, (size_t)1 << 30);
	if (data[0] & 1) {
		r = ai_state_decode(data + 1, size - 1, &st, why, sizeof why);
		if (r == AI_OK) {
			uint64_t *v = NULL;
			size_t n = 0;

			if (ai_state_segments_by_event(&st, AI_TIME_MIN, AI_TIME_MAX, &v, &n) != AI_OK)
				abort();
			free(v);
			if (ai_state_encode(&st, &out) != AI_OK)
				abort();
			ai_state_release(&st);
			same_again(&out, 1);
		}
	} else {
		r = ai_segment_decode(data + 1, size - 1, &seg, why, sizeof why);
		if (r == AI_OK) {
			struct ai_state fold;
			uint8_t sha[AI_SHA256_LEN] = { 0 };

			ai_state_init(&fold);
			fold.next_seq = seg.seq;
			memcpy(fold.head_sha256, seg.prev, AI_SHA256_LEN);
			if (seg.seq != UINT64_MAX &&
			    ai_state_add_segment(&fold, &seg, sha) != AI_OK)
				abort();
			ai_state_release(&fold);
			if (ai_segment_encode(&seg, &out) != AI_OK)
				abort();
			ai_segment_release(&seg);
			same_again(&out, 0);
		}
	}
	if (r != AI_OK && r != AI_ERR_BAD_INPUT && r != AI_ERR_NOMEM)
		abort();
	ai_buf_release(&out);
	return 0;
}
