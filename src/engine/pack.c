/* pack.c: block-wise upload of a pack with running SHA-256 and BLAKE2b
 * digests, create-only commit and minisign signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/base64.h"
#include "util/crypto.h"
#include "util/hex.h"
#include "util/log.h"
#include "engine/pack.h"
#include "util/strvec.h"

#define BLOCK_ID_RAW 16

struct ai_pack {
	struct ai_store *dest;
	char *name;
	struct ai_buf block;
	size_t block_size;
	struct ai_strvec ids;    /* block ids, in order */
	uint8_t nonce[8];        /* keeps block ids of two attempts apart */
	uint64_t size;
	struct ai_hash sha;
	struct ai_hash blake;
	int failed;
};

ai_result ai_pack_new(struct ai_pack **out, struct ai_store *dest, const char *name,
                      size_t block_size)
{
	struct ai_pack *p = calloc(1, sizeof *p);
	ai_result r;

	*out = NULL;
	if (!p)
		return AI_ERR_NOMEM;
	p->dest = dest;
	p->block_size = block_size;
	ai_buf_init(&p->block, block_size);
	p->name = strdup(name);
	r = p->name ? AI_OK : AI_ERR_NOMEM;
	if (r == AI_OK)
		r = ai_random(p->nonce, sizeof p->nonce);
	if (r == AI_OK)
		r = ai_hash_init(&p->sha, AI_HASH_SHA256);
	if (r == AI_OK)
		r = ai_hash_init(&p->blake, AI_HASH_BLAKE2B512);
	if (r != AI_OK) {
		ai_pack_free(p);
		return r;
	}
	*out = p;
	return AI_OK;
}

/* Uploads the current block buffer as the next block. */
static ai_result flush_block(struct ai_pack *p)
{
	uint8_t raw[BLOCK_ID_RAW];
	char id[AI_BASE64_ENCLEN(BLOCK_ID_RAW)];
	ai_result r;

	if (p->block.len == 0)
		return AI_OK;
	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(p->ids.n >> (56 - 8 * i));
	memcpy(raw + 8, p->nonce, 8);
	ai_base64_encode(raw, sizeof raw, id);
	if (ai_strvec_push(&p->ids, id) != AI_OK)
		return AI_ERR_NOMEM;
	r = ai_store_put_block(p->dest, p->name, id, p->block.data, p->block.len);
	if (r == AI_OK)
		ai_buf_reset(&p->block);
	return r;
}

ai_result ai_pack_write(struct ai_pack *p, const void *data, size_t n)
{
	const char *d = data;
	ai_result r;

	if (p->failed)
		return AI_ERR_INTERNAL;
	r = ai_hash_update(&p->sha, data, n);
	if (r == AI_OK)
		r = ai_hash_update(&p->blake, data, n);
	while (r == AI_OK && n) {
		size_t room = p->block_size - p->block.len, k = n < room ? n : room;
		r = ai_buf_add(&p->block, d, k);
		d += k;
		n -= k;
		p->size += k;
		if (r == AI_OK && p->block.len == p->block_size)
			r = flush_block(p);
	}
	if (r != AI_OK)
		p->failed = 1;
	return r;
}

ai_result ai_pack_sink(void *ctx, const void *data, size_t n)
{
	return ai_pack_write(ctx, data, n);
}

uint64_t ai_pack_size(const struct ai_pack *p)
{
	return p->size;
}

ai_result ai_pack_commit(struct ai_pack *p, const struct ai_signing_key *key, const char *run_id,
                         ai_time now, struct ai_pack_ref *ref)
{
	uint8_t blake[AI_BLAKE2B_LEN];
	char shahex[2 * AI_SHA256_LEN + 1], when[AI_TIME_STRLEN], comment[1024], sig_name[1200];
	struct ai_meta meta = { .n = 1 };
	struct ai_buf sig;
	ai_result r;

	memset(ref, 0, sizeof *ref);
	if (p->failed)
		return AI_ERR_INTERNAL;
	ai_buf_init(&sig, 16384);
	/* A pack that fits in one block goes up in one Put Blob (with its
	 * MD5); larger ones as blocks and a block list. */
	int single = p->ids.n == 0;
	if (!single)
		r = flush_block(p);
	else
		r = AI_OK;
	if (r == AI_OK)
		r = ai_hash_final(&p->sha, ref->sha256);
	if (r == AI_OK)
		r = ai_hash_final(&p->blake, blake);
	if (r != AI_OK)
		goto out;
	ai_hex(ref->sha256, AI_SHA256_LEN, shahex);
	/* The digest in the metadata lets a retried commit recognise itself. */
	snprintf(meta.kv[0].name, sizeof meta.kv[0].name, "sha256");
	snprintf(meta.kv[0].value, sizeof meta.kv[0].value, "%s", shahex);
	if (single)
		r = ai_store_put(p->dest, p->name, p->block.data, p->block.len, AI_PUT_CREATE_ONLY,
		                 &meta, NULL);
	else
		r = ai_store_put_block_list(p->dest, p->name, (const char *const *)p->ids.v, p->ids.n,
		                            AI_PUT_CREATE_ONLY, &meta, NULL);
	if (r != AI_OK)
		goto out;
	ai_time_format(now, 0, when);
	snprintf(comment, sizeof comment, "aiarchive pack %s sha256=%s run=%s time=%s", p->name,
	         shahex, run_id, when);
	r = ai_minisign_sign_digest(key, blake, comment, &sig);
	snprintf(sig_name, sizeof sig_name, "%s.minisig", p->name);
	if (r == AI_OK)
		r = ai_store_put(p->dest, sig_name, sig.data, sig.len, AI_PUT_CREATE_ONLY, NULL, NULL);
	if (r != AI_OK)
		goto out;
	ref->size = p->size;
	ref->name = strdup(p->name);
	if (!ref->name)
		r = AI_ERR_NOMEM;
out:
	if (r != AI_OK)
		p->failed = 1;
	ai_buf_release(&sig);
	return r;
}

void ai_pack_free(struct ai_pack *p)
{
	if (!p)
		return;
	ai_strvec_release(&p->ids);
	ai_hash_release(&p->sha);
	ai_hash_release(&p->blake);
	ai_buf_release(&p->block);
	free(p->name);
	free(p);
}
