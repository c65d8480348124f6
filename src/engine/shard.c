/* shard.c: the split of the partitions between the shards of a run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/lock.h"
#include "engine/shard.h"
#include "util/crypto.h"
#include "format/state.h"

/* One number of "I/N": decimal digits only, no sign or blank. */
static int shard_number(const char *s, size_t n, unsigned long *out)
{
	char *end;
	char digits[16];

	if (n == 0 || n >= sizeof digits || strspn(s, "0123456789") < n)
		return 0;
	memcpy(digits, s, n);
	digits[n] = '\0';
	errno = 0;
	*out = strtoul(digits, &end, 10);
	return !errno && *end == '\0';
}

ai_result ai_shard_parse(const char *s, struct ai_shard *out, char *why, size_t cap)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	unsigned long i, n;

	if (!slash || !shard_number(s, (size_t)(slash - s), &i) ||
	    !shard_number(slash + 1, strlen(slash + 1), &n)) {
		snprintf(why, cap, "not I/N (two numbers, e.g. 0/4): '%s'", s ? s : "");
		return AI_ERR_USAGE;
	}
	if (n < 1 || n > AI_SHARD_MAX) {
		snprintf(why, cap, "N must be from 1 to %d: '%s'", AI_SHARD_MAX, s);
		return AI_ERR_USAGE;
	}
	if (i >= n) {
		snprintf(why, cap, "I must be from 0 to N-1 (shards are numbered from 0): '%s'", s);
		return AI_ERR_USAGE;
	}
	out->index = (uint32_t)i;
	out->count = (uint32_t)n;
	return AI_OK;
}

uint32_t ai_shard_of(const char *app, const char *type, ai_time hour, uint32_t count)
{
	/* app and type are path segments of at most 255 bytes (source.h) */
	char iso[AI_TIME_STRLEN], key[2 * 1024 + AI_TIME_STRLEN + 2];
	uint8_t sha[AI_SHA256_LEN];
	uint64_t h = 0;
	int n;

	if (count <= 1)
		return 0;
	ai_time_format(hour, 0, iso);
	n = snprintf(key, sizeof key, "%s/%s/%s", app, type, iso);
	if (n < 0 || (size_t)n >= sizeof key)
		n = (int)sizeof key - 1; /* longer names than a source may have: still stable */
	if (ai_sha256(key, (size_t)n, sha) == AI_OK)
		for (int k = 0; k < 8; k++)
			h = h << 8 | sha[k];
	return (uint32_t)(h % count);
}

int ai_shard_owns(const struct ai_shard *s, const char *app, const char *type, ai_time hour)
{
	if (!s || s->count <= 1)
		return 1;
	return ai_shard_of(app, type, hour, s->count) == s->index;
}

void ai_shard_lock_name(const struct ai_shard *s, char *out, size_t cap)
{
	if (!s || s->count == 0)
		snprintf(out, cap, "%s", AI_LOCK_NAME);
	else
		snprintf(out, cap, AI_SHARD_LOCK_PREFIX "%u-of-%u", s->index, s->count);
}

/* 0 and AI_TIME_MIN both mean not known. */
static int known(ai_time t)
{
	return t != AI_TIME_MIN && t != 0;
}

ai_time ai_shard_watermark(const struct ai_state *st, const struct ai_shard *s)
{
	const struct ai_shard_state *e;

	if (!s || !s->count)
		return st->watermark;
	e = ai_state_find_shard(st, s->index, s->count);
	return e && known(e->watermark) ? e->watermark : st->watermark;
}

ai_time ai_shard_frontier(const struct ai_state *st, uint32_t count, int with_held)
{
	ai_time low = AI_TIME_MAX;
	uint32_t seen = 0;

	for (size_t i = 0; i < st->nshards; i++) {
		const struct ai_shard_state *e = &st->shards[i];
		if (e->count != count)
			continue;
		if (!known(e->watermark))
			return AI_TIME_MIN;
		seen++;
		if (e->watermark < low)
			low = e->watermark;
		if (with_held && known(e->held) && e->held < low)
			low = e->held;
	}
	return count && seen == count ? low : AI_TIME_MIN;
}

ai_time ai_shard_retry_from(const struct ai_state *st, const struct ai_shard *s)
{
	ai_time at = AI_TIME_MAX;

	for (size_t i = 0; i < st->nshards; i++) {
		const struct ai_shard_state *e = &st->shards[i];
		/* another shard of the same split keeps its own failures */
		if (s && s->count && e->count == s->count && e->index != s->index)
			continue;
		if (e->failed && known(e->failed_oldest) && e->failed_oldest < at)
			at = e->failed_oldest;
	}
	return at;
}

void ai_shard_prune(struct ai_state *st, const struct ai_shard *s)
{
	ai_time oldest = AI_TIME_MAX;
	uint32_t seen = 0;

	for (size_t i = 0; i < st->nshards; i++)
		if (st->shards[i].count == s->count) {
			seen++;
			if (st->shards[i].last_run_time < oldest)
				oldest = st->shards[i].last_run_time;
		}
	if (seen != s->count)
		return;
	/* Every shard of this split ran after the entry's last run: each
	 * listed that entry's failed hours again for its own partitions. */
	for (size_t i = st->nshards; i-- > 0;)
		if (st->shards[i].count != s->count && st->shards[i].last_run_time < oldest)
			ai_state_drop_shard(st, i);
}
