/* storebench.c: drives the storage client (src/store.h) for the benchmarks:
 * many small reads from N threads, or one large block upload from a file. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "util/base64.h"
#include "util/buf.h"
#include "util/parse.h"
#include "util/result.h"
#include "store/store.h"

#define MAX_THREADS 256
#define BLOCK_ID_LEN 16
#define READ_CAP ((size_t)64 << 20)

struct job {
	struct ai_store *store;
	/* get */
	char **names;
	size_t nnames;
	/* put */
	int fd;
	uint64_t file_size;
	size_t block_size;
	size_t nblocks;
	const char *blob;
	char (*ids)[AI_BASE64_ENCLEN(BLOCK_ID_LEN)];

	atomic_size_t next;
	atomic_uint_fast64_t bytes;
	atomic_int failed;
};

static void usage(void)
{
	fputs("usage: storebench --url URL get [--prefix P] [--threads N]\n"
	      "       storebench --url URL put --file F --name BLOB [--block-size SIZE] [--threads N]\n"
	      "The account key comes from STOREBENCH_KEY, or a SAS from STOREBENCH_SAS.\n"
	      "Prints one JSON line: op, count, bytes, seconds, requests.\n", stderr);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *get_lane(void *arg)
{
	struct job *j = arg;
	struct ai_buf b;

	ai_buf_init(&b, READ_CAP);
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		ai_result r;

		if (i >= j->nnames || atomic_load(&j->failed))
			break;
		ai_buf_reset(&b);
		r = ai_store_read(j->store, j->names[i], 0, 0, NULL, &b, NULL);
		if (r != AI_OK) {
			fprintf(stderr, "storebench: %s: %s\n", j->names[i], ai_store_last_error());
			atomic_store(&j->failed, 1);
			break;
		}
		atomic_fetch_add(&j->bytes, b.len);
	}
	ai_buf_release(&b);
	return NULL;
}

static void *put_lane(void *arg)
{
	struct job *j = arg;
	char *block = malloc(j->block_size);

	if (!block) {
		atomic_store(&j->failed, 1);
		return NULL;
	}
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		uint64_t off = (uint64_t)i * j->block_size;
		size_t want, got = 0;

		if (i >= j->nblocks || atomic_load(&j->failed))
			break;
		want = j->file_size - off < j->block_size ? (size_t)(j->file_size - off) : j->block_size;
		while (got < want) {
			ssize_t n = pread(j->fd, block + got, want - got, (off_t)(off + got));

			if (n <= 0) {
				fprintf(stderr, "storebench: read: %s\n", n < 0 ? strerror(errno) : "short file");
				atomic_store(&j->failed, 1);
				goto out;
			}
			got += (size_t)n;
		}
		if (ai_store_put_block(j->store, j->blob, j->ids[i], block, want) != AI_OK) {
			fprintf(stderr, "storebench: block %zu: %s\n", i, ai_store_last_error());
			atomic_store(&j->failed, 1);
			break;
		}
		atomic_fetch_add(&j->bytes, want);
	}
out:
	free(block);
	return NULL;
}

static int run_lanes(struct job *j, unsigned threads, void *(*lane)(void *))
{
	pthread_t t[MAX_THREADS];
	unsigned i, started = 0;

	for (i = 0; i < threads; i++) {
		if (pthread_create(&t[i], NULL, lane, j) != 0)
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	return started == threads && !atomic_load(&j->failed) ? 0 : -1;
}

static int list_all(struct job *j, const char *prefix)
{
	char *marker = NULL;
	size_t cap = 0;
	int rc = -1;

	do {
		struct ai_blob_list l;

		ai_blob_list_init(&l);
		if (ai_store_list(j->store, prefix, NULL, marker, 0, &l) != AI_OK) {
			fprintf(stderr, "storebench: list: %s\n", ai_store_last_error());
			ai_blob_list_release(&l);
			goto out;
		}
		if (j->nnames + l.n > cap) {
			char **p;

			cap = (j->nnames + l.n) * 2 + 16;
			p = realloc(j->names, cap * sizeof(*p));
			if (!p) {
				ai_blob_list_release(&l);
				goto out;
			}
			j->names = p;
		}
		for (size_t i = 0; i < l.n; i++) {
			j->names[j->nnames++] = l.blobs[i].name;
			l.blobs[i].name = NULL;
		}
		free(marker);
		marker = l.next_marker;
		l.next_marker = NULL;
		ai_blob_list_release(&l);
	} while (marker);
	rc = 0;
out:
	free(marker);
	return rc;
}

static uint64_t total_requests(struct ai_store *s)
{
	struct ai_store_stats st;
	uint64_t n = 0;

	ai_store_get_stats(s, &st);
	for (int k = 0; k < AI_REQ_KINDS; k++)
		n += st.requests[k];
	return n;
}

int main(int argc, char **argv)
{
	struct ai_store_config cfg = { 0 };
	struct job j = { .fd = -1 };
	const char *url = NULL, *op = NULL, *prefix = NULL, *file = NULL;
	uint64_t threads = 16, block_size = 8u << 20;
	double t0, t1;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "get") || !strcmp(a, "put")) {
			op = a;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--url"))
			url = v;
		else if (!strcmp(a, "--prefix"))
			prefix = v;
		else if (!strcmp(a, "--file"))
			file = v;
		else if (!strcmp(a, "--name"))
			j.blob = v;
		else if (!strcmp(a, "--threads")) {
			if (ai_parse_u64(v, MAX_THREADS, &threads) != AI_OK || threads == 0)
				usage();
		} else if (!strcmp(a, "--block-size")) {
			if (ai_parse_size(v, (uint64_t)100 << 20, &block_size) != AI_OK || block_size == 0)
				usage();
		} else {
			usage();
		}
		i++;
	}
	if (!url || !op || (!strcmp(op, "put") && (!file || !j.blob)))
		usage();
	cfg.url = url;
	cfg.account_key = getenv("STOREBENCH_KEY");
	cfg.sas = getenv("STOREBENCH_SAS");
	cfg.max_transfers = (unsigned)threads;
	if (ai_store_open(&j.store, &cfg) != AI_OK) {
		fprintf(stderr, "storebench: cannot open %s\n", url);
		return 1;
	}

	if (!strcmp(op, "get")) {
		if (list_all(&j, prefix) != 0)
			goto out;
		t0 = now_s();
		if (run_lanes(&j, (unsigned)threads, get_lane) != 0)
			goto out;
		t1 = now_s();
		printf("{\"op\":\"get\",\"count\":%zu,\"bytes\":%" PRIu64 ",\"seconds\":%.3f,"
		       "\"requests\":%" PRIu64 "}\n", j.nnames, (uint64_t)atomic_load(&j.bytes),
		       t1 - t0, total_requests(j.store));
	} else {
		struct stat st;
		const char **idp = NULL;

		j.fd = open(file, O_RDONLY | O_CLOEXEC);
		if (j.fd < 0 || fstat(j.fd, &st) != 0) {
			fprintf(stderr, "storebench: %s: %s\n", file, strerror(errno));
			goto out;
		}
		j.file_size = (uint64_t)st.st_size;
		j.block_size = (size_t)block_size;
		j.nblocks = (size_t)((j.file_size + block_size - 1) / block_size);
		j.ids = calloc(j.nblocks ? j.nblocks : 1, sizeof(*j.ids));
		idp = calloc(j.nblocks ? j.nblocks : 1, sizeof(*idp));
		if (!j.ids || !idp) {
			free(idp);
			goto out;
		}
		for (size_t i = 0; i < j.nblocks; i++) {
			char raw[32]; /* "blk-" and 11 digits: BLOCK_ID_LEN bytes for any real count */

			snprintf(raw, sizeof(raw), "blk-%011zu", i);
			ai_base64_encode(raw, BLOCK_ID_LEN, j.ids[i]);
			idp[i] = j.ids[i];
		}
		t0 = now_s();
		if (run_lanes(&j, (unsigned)threads, put_lane) != 0 ||
		    ai_store_put_block_list(j.store, j.blob, idp, j.nblocks, 0, NULL, NULL) != AI_OK) {
			if (!atomic_load(&j.failed))
				fprintf(stderr, "storebench: commit: %s\n", ai_store_last_error());
			free(idp);
			goto out;
		}
		t1 = now_s();
		free(idp);
		printf("{\"op\":\"put\",\"count\":%zu,\"bytes\":%" PRIu64 ",\"seconds\":%.3f,"
		       "\"requests\":%" PRIu64 "}\n", j.nblocks, (uint64_t)atomic_load(&j.bytes),
		       t1 - t0, total_requests(j.store));
	}
	rc = 0;
out:
	if (j.fd >= 0)
		close(j.fd);
	for (size_t i = 0; i < j.nnames; i++)
		free(j.names[i]);
	free(j.names);
	free(j.ids);
	ai_store_free(j.store);
	return rc;
}
