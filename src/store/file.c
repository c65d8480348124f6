/* store_file.c: the local-directory backend (file:///abs/dir). It keeps the
 * semantics of Azure Blob Storage so that commands and tests cannot tell the
 * two apart: create-only writes, staged blocks, append blobs with a position
 * check, leases, metadata, ETags and paged listings. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "util/crypto.h"
#include "util/hex.h"
#include "store/backend.h"

/* Layout: the blob "a/b/c.gz" is the file <root>/a/b/c.gz. The backend's own
 * state lives in <root>/.aiarchive-store/, which no blob name can reach
 * (a first name segment starting with '.' is refused):
 *
 *   tmp/           files being written, linked or renamed into place
 *   props/<ino>    type, ETag generation and metadata of the blob file with
 *                  that inode. Keyed by inode rather than name so that a new
 *                  blob and its properties appear together in one rename,
 *                  and a create-only write that loses never touches the
 *                  winner's properties.
 *   blocks/<key>/  staged blocks of one blob (key: hash of its name)
 *   leases/<key>   the lease on one name
 *
 * Unlike Azure, a name cannot be both a blob and a directory: with a blob
 * "a", a write of "a/b" fails with AI_ERR_CONFLICT.
 *
 * Leases guard each other, set_metadata and delete. The store API carries
 * no lease id on put, append or block writes, so unlike Azure (which answers
 * 412 to a Put Blob on a leased blob without the lease id) those writes go
 * through here: a lease is a lock between lease holders, not a write guard. */

#define STATE_DIR ".aiarchive-store"
#define NAME_LEN_MAX 1024           /* Azure's limit on blob names */
#define BLOCK_ID_MAX 88             /* base64 of Azure's 64-byte limit */
#define BLOCK_SIZE_MAX (100u << 20)
#define BLOCKS_MAX 50000
#define LIST_MAX 5000
#define COPY_CHUNK (64u << 10)
#define PROPS_TEXT_MAX 8192
#define LEASE_TEXT_MAX 256

struct file_store {
	struct ai_store base;
	char *root;                 /* absolute, without a trailing '/' */
	int state_ready;            /* the state directories exist (atomic) */
};

/* What the props/ sidecar of one blob file holds. */
struct props {
	enum ai_blob_type type;
	char gen[17];               /* random per write, so ETags never repeat */
	struct ai_meta meta;
};

/* What the leases/ file of one name holds. */
struct lease {
	char id[AI_LEASE_ID_MAX];   /* "" when there is no lease */
	ai_time expires;            /* AI_TIME_MAX for an infinite lease */
	int breaking;
	ai_time broken_at;          /* when breaking, the end of the break period */
	int duration;               /* seconds, -1 for infinite */
};

/* ---- errors ---- */

static ai_result errno_result(int e)
{
	switch (e) {
	case ENOENT:
		return AI_ERR_NOT_FOUND;
	case EEXIST:
		return AI_ERR_EXISTS;
	case ENOTDIR:
	case EISDIR:
		return AI_ERR_CONFLICT;
	case ENOMEM:
		return AI_ERR_NOMEM;
	case ENAMETOOLONG:
		return AI_ERR_BAD_INPUT;
	default:
		return AI_ERR_IO;
	}
}

static ai_result failf(ai_result r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records "blob 'name': <message>" as the last error and returns r. */
static ai_result failf(ai_result r, const char *name, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ai_store_set_error("blob '%.300s': %s", name ? name : "", msg);
	return r;
}

/* A failed system call on blob name: what was tried and why it failed. */
static ai_result sys_fail(const char *name, const char *what, int e)
{
	char buf[128];

	return failf(errno_result(e), name, "%s: %s", what, strerror_r(e, buf, sizeof buf));
}

static ai_result container_fail(const struct file_store *fs, const char *what, int e)
{
	char buf[128];

	ai_store_set_error("container '%.300s': %s: %s", fs->base.described, what,
	                   strerror_r(e, buf, sizeof buf));
	return e == ENOENT ? AI_ERR_NOT_FOUND : errno_result(e);
}

/* ---- small helpers: paths, clock, file I/O ---- */

static ai_result pathf(char out[PATH_MAX], const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static ai_result pathf(char out[PATH_MAX], const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		return failf(AI_ERR_BAD_INPUT, name, "path too long");
	return AI_OK;
}

static ai_time now_of(const struct file_store *fs)
{
	struct timespec ts;

	if (fs->base.now)
		return fs->base.now();
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (ai_time)ts.tv_sec * AI_NS_PER_SEC + ts.tv_nsec;
}

static ai_time mtime_of(const struct stat *st)
{
	return (ai_time)st->st_mtim.tv_sec * AI_NS_PER_SEC + st->st_mtim.tv_nsec;
}

/* The low-level helpers below return 0 or an errno value. */

static int write_all(int fd, const void *p, size_t n, off_t off)
{
	const char *c = p;

	while (n) {
		ssize_t w = pwrite(fd, c, n, off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		c += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* Reads up to n bytes at off; *got is short only at the end of the file. */
static int read_all(int fd, void *p, size_t n, off_t off, size_t *got)
{
	char *c = p;

	*got = 0;
	while (*got < n) {
		ssize_t r = pread(fd, c + *got, n - *got, off + (off_t)*got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static int lock_fd(int fd, int op)
{
	while (flock(fd, op) != 0)
		if (errno != EINTR)
			return errno;
	return 0;
}

/* fsyncs the directory holding path, so a new or renamed entry survives a
 * crash. */
static int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash && slash != path ? (size_t)(slash - path) : 1;
	int fd, rc = 0;

	memcpy(dir, path, n);
	dir[n] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fsync(fd) != 0)
		rc = errno;
	if (close(fd) != 0 && !rc)
		rc = errno;
	return rc;
}

/* Creates the directories between root (rootlen bytes of path) and path's
 * last component. */
static int make_parents(char *path, size_t rootlen)
{
	for (char *p = strchr(path + rootlen + 1, '/'); p; p = strchr(p + 1, '/')) {
		int rc = 0;

		*p = '\0';
		if (mkdir(path, 0777) == 0)
			rc = fsync_parent(path);
		else if (errno != EEXIST)
			rc = errno;
		*p = '/';
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- names, block ids, metadata ---- */

static ai_result check_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	const char *seg = name;

	if (n == 0 || n > NAME_LEN_MAX)
		return failf(AI_ERR_BAD_INPUT, name, "name is empty or longer than %d bytes",
		             NAME_LEN_MAX);
	if (name[0] == '.')
		return failf(AI_ERR_BAD_INPUT, name, "names starting with '.' are reserved");
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);

		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return failf(AI_ERR_BAD_INPUT, name, "empty, '.' or '..' path segment");
		if (len > NAME_MAX)
			return failf(AI_ERR_BAD_INPUT, name, "path segment longer than %d bytes",
			             NAME_MAX);
		if (!end)
			return AI_OK;
		seg = end + 1;
	}
}

static ai_result check_block_id(const char *name, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > BLOCK_ID_MAX || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                         "abcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
		return failf(AI_ERR_BAD_INPUT, name,
		             "block id '%.100s' is not base64 of 1..64 bytes",
		             id ? id : "");
	return AI_OK;
}

static ai_result check_meta(const char *name, const struct ai_meta *m)
{
	if (!m)
		return AI_OK;
	if (m->n > AI_META_MAX)
		return failf(AI_ERR_BAD_INPUT, name, "more than %d metadata entries", AI_META_MAX);
	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->kv[i].name, *v = m->kv[i].value;
		size_t klen = strnlen(k, sizeof m->kv[i].name);
		size_t vlen = strnlen(v, sizeof m->kv[i].value);

		if (klen == 0 || klen == sizeof m->kv[i].name ||
		    strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
		              "0123456789") != klen || (k[0] >= '0' && k[0] <= '9'))
			return failf(AI_ERR_BAD_INPUT, name, "metadata name '%.64s' is not an "
			             "identifier", k);
		if (vlen == sizeof m->kv[i].value)
			return failf(AI_ERR_BAD_INPUT, name, "metadata '%s' is too long", k);
		for (size_t j = 0; j < vlen; j++)
			if ((unsigned char)v[j] < 0x20 || v[j] == 0x7f)
				return failf(AI_ERR_BAD_INPUT, name,
				             "metadata '%s' holds a control character", k);
	}
	return AI_OK;
}

/* The state key of a name: half a SHA-256 in hex, a fixed-length file name
 * whatever the blob name. */
static ai_result name_key(const char *name, char key[33])
{
	uint8_t d[AI_SHA256_LEN];
	ai_result r = ai_sha256(name, strlen(name), d);

	if (r != AI_OK)
		return failf(r, name, "cannot hash the name");
	ai_hex(d, 16, key);
	return AI_OK;
}

/* ---- state directory and temporary files ---- */

static ai_result state_ready(struct file_store *fs)
{
	static const char *const subdirs[] = { "", "/tmp", "/props", "/blocks", "/leases" };
	char path[PATH_MAX];

	if (__atomic_load_n(&fs->state_ready, __ATOMIC_ACQUIRE))
		return AI_OK;
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		snprintf(path, sizeof path, "%s/" STATE_DIR "%s", fs->root, subdirs[i]);
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			return container_fail(fs, i == 0 && errno == ENOENT ? "does not exist" :
			                      "cannot create the state directory", errno);
	}
	__atomic_store_n(&fs->state_ready, 1, __ATOMIC_RELEASE);
	return AI_OK;
}

/* Creates a new empty file in tmp/; path receives its name. */
static ai_result tmp_create(struct file_store *fs, const char *name, char path[PATH_MAX],
                            int *fdp)
{
	uint8_t rnd[8];
	char hex[17];
	ai_result r;
	int fd;

	*fdp = -1;
	path[0] = '\0';
	if ((r = state_ready(fs)) != AI_OK)
		return r;
	if ((r = ai_random(rnd, sizeof rnd)) != AI_OK)
		return failf(r, name, "no random bytes for a temporary name");
	ai_hex(rnd, sizeof rnd, hex);
	if ((r = pathf(path, name, "%s/" STATE_DIR "/tmp/%s", fs->root, hex)) != AI_OK)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		path[0] = '\0';
		return sys_fail(name, "cannot create a temporary file", errno);
	}
	*fdp = fd;
	return AI_OK;
}

/* Removes a temporary file left by a failed write. Nothing else can use
 * that name, so a failure leaves only garbage and is not reported. */
static void tmp_drop(char path[PATH_MAX])
{
	if (path[0] && unlink(path) != 0 && errno != ENOENT) {
		/* garbage in tmp/ only */
	}
	path[0] = '\0';
}

/* ---- properties sidecars (type, ETag generation, metadata) ---- */

static void props_default(struct props *p)
{
	memset(p, 0, sizeof *p);
	p->type = AI_BLOB_BLOCK;
	strcpy(p->gen, "0");
}

static ai_result props_new_gen(const char *name, struct props *p)
{
	uint8_t rnd[8];
	ai_result r = ai_random(rnd, sizeof rnd);

	if (r != AI_OK)
		return failf(r, name, "no random bytes for an etag");
	ai_hex(rnd, sizeof rnd, p->gen);
	return AI_OK;
}

static ai_result props_parse(char *text, const char *name, struct props *p)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *val = strchr(line, ' ');

		if (!val)
			goto bad;
		*val++ = '\0';
		if (strcmp(line, "type") == 0) {
			if (strcmp(val, "append") == 0)
				p->type = AI_BLOB_APPEND;
			else if (strcmp(val, "block") == 0)
				p->type = AI_BLOB_BLOCK;
			else
				goto bad;
		} else if (strcmp(line, "gen") == 0) {
			if (strlen(val) >= sizeof p->gen)
				goto bad;
			strcpy(p->gen, val);
		} else if (strcmp(line, "meta") == 0) {
			char *hex = strchr(val, ' ');
			size_t hlen;

			if (!hex || p->meta.n == AI_META_MAX)
				goto bad;
			*hex++ = '\0';
			hlen = strlen(hex);
			if (strlen(val) >= sizeof p->meta.kv[0].name ||
			    hlen / 2 >= sizeof p->meta.kv[0].value ||
			    ai_unhex(hex, hlen, (uint8_t *)p->meta.kv[p->meta.n].value,
			             hlen / 2) != AI_OK)
				goto bad;
			strcpy(p->meta.kv[p->meta.n].name, val);
			p->meta.kv[p->meta.n].value[hlen / 2] = '\0';
			p->meta.n++;
		}
		/* other keys come from a later version: ignored */
	}
	return AI_OK;
bad:
	return failf(AI_ERR_IO, name, "its properties file is damaged");
}

/* Loads the sidecar of the blob file with inode ino; a blob without one
 * (put there by hand) is a block blob without metadata. */
static ai_result props_load(struct file_store *fs, const char *name, ino_t ino, struct props *p)
{
	char path[PATH_MAX], text[PROPS_TEXT_MAX + 1];
	size_t got = 0;
	ai_result r;
	int fd = -1, rc;

	props_default(p);
	if ((r = pathf(path, name, "%s/" STATE_DIR "/props/%" PRIx64, fs->root,
	               (uint64_t)ino)) != AI_OK)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			r = sys_fail(name, "cannot open its properties", errno);
		goto out;
	}
	if ((rc = read_all(fd, text, sizeof text - 1, 0, &got)) != 0) {
		r = sys_fail(name, "cannot read its properties", rc);
		goto out;
	}
	if (got == sizeof text - 1) {
		r = failf(AI_ERR_IO, name, "its properties file is too big");
		goto out;
	}
	text[got] = '\0';
	r = props_parse(text, name, p);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* Writes the sidecar for inode ino atomically (temp file, rename). */
static ai_result props_store(struct file_store *fs, const char *name, ino_t ino,
                             const struct props *p)
{
	char tmp[PATH_MAX], path[PATH_MAX], text[PROPS_TEXT_MAX];
	size_t len;
	ai_result r;
	int fd = -1, rc;

	len = (size_t)snprintf(text, sizeof text, "type %s\ngen %s\n",
	                       p->type == AI_BLOB_APPEND ? "append" : "block", p->gen);
	for (size_t i = 0; i < p->meta.n; i++) {
		const char *v = p->meta.kv[i].value;
		char hex[2 * sizeof p->meta.kv[0].value + 1];

		ai_hex((const uint8_t *)v, strlen(v), hex);
		len += (size_t)snprintf(text + len, sizeof text - len, "meta %s %s\n",
		                        p->meta.kv[i].name, hex);
	}
	if (len >= sizeof text)
		return failf(AI_ERR_INTERNAL, name, "properties do not fit %d bytes",
		             PROPS_TEXT_MAX);
	if ((r = pathf(path, name, "%s/" STATE_DIR "/props/%" PRIx64, fs->root,
	               (uint64_t)ino)) != AI_OK)
		goto out;
	if ((r = tmp_create(fs, name, tmp, &fd)) != AI_OK)
		goto out;
	if ((rc = write_all(fd, text, len, 0)) != 0 || (fsync(fd) != 0 && (rc = errno))) {
		r = sys_fail(name, "cannot write its properties", rc);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		r = sys_fail(name, "cannot store its properties", errno);
		goto out;
	}
	tmp[0] = '\0';
	if ((rc = fsync_parent(path)) != 0)
		r = sys_fail(name, "cannot sync its properties", rc);
out:
	if (fd >= 0)
		close(fd);
	tmp_drop(tmp);
	return r;
}

/* Drops the sidecar of a blob file that is gone. Only garbage is left
 * when this fails, so the failure is not reported. */
static void props_remove(struct file_store *fs, ino_t ino)
{
	char path[PATH_MAX];

	if (pathf(path, "", "%s/" STATE_DIR "/props/%" PRIx64, fs->root, (uint64_t)ino) == AI_OK &&
	    unlink(path) != 0 && errno != ENOENT) {
		/* garbage in props/ only */
	}
}

/* oldfd holds a blob file that was just replaced or deleted: while it is
 * open its inode cannot be reused, so its sidecar is surely stale. */
static void props_drop_stale(struct file_store *fs, int oldfd, ino_t keep)
{
	struct stat st;

	if (oldfd >= 0 && fstat(oldfd, &st) == 0 && st.st_nlink == 0 && st.st_ino != keep)
		props_remove(fs, st.st_ino);
}

/* ---- blob files: open, ETag, info ---- */

static void etag_of(const struct stat *st, const struct props *p, char out[AI_ETAG_MAX])
{
	snprintf(out, AI_ETAG_MAX, "0x%" PRIx64 "-%" PRIx64 "-%" PRIx64 "-%s",
	         (uint64_t)st->st_ino, (uint64_t)st->st_size, (uint64_t)mtime_of(st), p->gen);
}

/* Opens the blob file at path, locks it (lockop 0: no lock) and stats it.
 * A name that is missing or not a regular file is AI_ERR_NOT_FOUND. */
static ai_result open_blob(const char *name, const char *path, int flags, int lockop, int *fdp,
                           struct stat *st)
{
	ai_result r = AI_OK;
	int fd, rc;

	*fdp = -1;
	/* O_NONBLOCK: a FIFO put there by hand must not hang the open */
	fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EISDIR)
			return failf(AI_ERR_NOT_FOUND, name, "does not exist");
		return sys_fail(name, "cannot open", errno);
	}
	if (lockop && (rc = lock_fd(fd, lockop)) != 0)
		r = sys_fail(name, "cannot lock", rc);
	else if (fstat(fd, st) != 0)
		r = sys_fail(name, "cannot stat", errno);
	else if (!S_ISREG(st->st_mode))
		r = failf(AI_ERR_NOT_FOUND, name, "does not exist");
	if (r != AI_OK) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return AI_OK;
}

static ai_result fill_info(const char *name, const struct stat *st, const struct props *p,
                           enum ai_lease_state lease, struct ai_blob_info *info)
{
	memset(info, 0, sizeof *info);
	info->name = strdup(name);
	if (!info->name)
		return failf(AI_ERR_NOMEM, name, "out of memory");
	info->size = (uint64_t)st->st_size;
	etag_of(st, p, info->etag);
	info->last_modified = mtime_of(st);
	info->type = p->type;
	info->lease = lease;
	return AI_OK;
}

/* ---- leases ---- */

/* Opens and locks the lease file of name. Without create, a missing file
 * gives *fdp == -1 (no lease). Relocks when the file was unlinked between
 * open and lock, so every holder locks the file that is in place. */
static ai_result lease_lock(struct file_store *fs, const char *name, int create, int lockop,
                            int *fdp)
{
	char key[33], path[PATH_MAX];
	struct stat a, b;
	ai_result r;
	int fd, rc;

	*fdp = -1;
	if ((r = name_key(name, key)) != AI_OK ||
	    (r = pathf(path, name, "%s/" STATE_DIR "/leases/%s", fs->root, key)) != AI_OK)
		return r;
	for (int tries = 0; tries < 100; tries++) {
		fd = open(path, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0666);
		if (fd < 0) {
			if (!create && errno == ENOENT)
				return AI_OK;
			return sys_fail(name, "cannot open its lease", errno);
		}
		if ((rc = lock_fd(fd, lockop)) != 0 || (fstat(fd, &a) != 0 && (rc = errno))) {
			close(fd);
			return sys_fail(name, "cannot lock its lease", rc);
		}
		if (stat(path, &b) == 0 && a.st_ino == b.st_ino) {
			*fdp = fd;
			return AI_OK;
		}
		close(fd);
	}
	return failf(AI_ERR_IO, name, "its lease file keeps changing");
}

/* Removes the locked lease file of name (the lock is still held). */
static ai_result lease_unlink(struct file_store *fs, const char *name)
{
	char key[33], path[PATH_MAX];
	ai_result r;

	if ((r = name_key(name, key)) != AI_OK ||
	    (r = pathf(path, name, "%s/" STATE_DIR "/leases/%s", fs->root, key)) != AI_OK)
		return r;
	if (unlink(path) != 0 && errno != ENOENT)
		return sys_fail(name, "cannot remove its lease", errno);
	return AI_OK;
}

static ai_result lease_read(int fd, const char *name, struct lease *l)
{
	char text[LEASE_TEXT_MAX + 1];
	size_t got;
	int rc;

	memset(l, 0, sizeof *l);
	if (fd < 0)
		return AI_OK;
	if ((rc = read_all(fd, text, LEASE_TEXT_MAX, 0, &got)) != 0)
		return sys_fail(name, "cannot read its lease", rc);
	text[got] = '\0';
	if (got == 0)
		return AI_OK;
	if (sscanf(text, "v1 %39s %" SCNd64 " %d %" SCNd64 " %d", l->id, &l->expires,
	           &l->breaking, &l->broken_at, &l->duration) != 5) {
		memset(l, 0, sizeof *l);
		return failf(AI_ERR_IO, name, "its lease file is damaged");
	}
	return AI_OK;
}

static ai_result lease_write(int fd, const char *name, const struct lease *l)
{
	char text[LEASE_TEXT_MAX];
	int len = 0, rc = 0;

	if (l->id[0])
		len = snprintf(text, sizeof text, "v1 %s %" PRId64 " %d %" PRId64 " %d\n", l->id,
		               l->expires, l->breaking, l->broken_at, l->duration);
	if ((len && (rc = write_all(fd, text, (size_t)len, 0)) != 0) ||
	    (ftruncate(fd, len) != 0 && (rc = errno)) || (fsync(fd) != 0 && (rc = errno)))
		return sys_fail(name, "cannot write its lease", rc);
	return AI_OK;
}

static enum ai_lease_state lease_state(const struct lease *l, ai_time now)
{
	if (!l->id[0])
		return AI_LEASE_AVAILABLE;
	if (l->breaking)
		return now >= l->broken_at ? AI_LEASE_BROKEN : AI_LEASE_BREAKING;
	return now >= l->expires ? AI_LEASE_EXPIRED : AI_LEASE_LEASED;
}

static int lease_active(enum ai_lease_state st)
{
	return st == AI_LEASE_LEASED || st == AI_LEASE_BREAKING;
}

/* The lease state of name for blob properties. */
static ai_result lease_state_of(struct file_store *fs, const char *name,
                                enum ai_lease_state *out)
{
	struct lease l;
	ai_result r;
	int fd = -1;

	*out = AI_LEASE_AVAILABLE;
	if ((r = lease_lock(fs, name, 0, LOCK_SH, &fd)) == AI_OK &&
	    (r = lease_read(fd, name, &l)) == AI_OK)
		*out = lease_state(&l, now_of(fs));
	if (fd >= 0)
		close(fd);
	return r;
}

static ai_result check_lease_id(const char *name, const char *id)
{
	size_t n = strlen(id);

	if (n >= AI_LEASE_ID_MAX || strspn(id, "0123456789abcdefABCDEF-") != n)
		return failf(AI_ERR_BAD_INPUT, name, "lease id '%.40s' is not a GUID", id);
	return AI_OK;
}

static ai_result new_lease_id(const char *name, char id[AI_LEASE_ID_MAX])
{
	uint8_t b[16];
	char h[33];
	ai_result r = ai_random(b, sizeof b);

	if (r != AI_OK)
		return failf(r, name, "no random bytes for a lease id");
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* a version 4 GUID, as Azure makes */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	ai_hex(b, sizeof b, h);
	snprintf(id, AI_LEASE_ID_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
	         h + 20);
	return AI_OK;
}

/* Checks a lease-guarded operation (set_metadata, delete) against the
 * locked lease file fd: an active lease needs its id, and an id needs an
 * active lease, as on Azure. */
static ai_result lease_guard(struct file_store *fs, int fd, const char *name,
                             const char *lease_id)
{
	struct lease l;
	enum ai_lease_state st;
	ai_result r = lease_read(fd, name, &l);

	if (r != AI_OK)
		return r;
	st = lease_state(&l, now_of(fs));
	if (lease_active(st) && (!lease_id || strcasecmp(lease_id, l.id) != 0))
		return failf(AI_ERR_CONFLICT, name, "has an active lease and %s lease id was given",
		             lease_id ? "a different" : "no");
	if (!lease_active(st) && lease_id)
		return failf(AI_ERR_CONFLICT, name, "has no active lease");
	return AI_OK;
}

/* Applies one lease action to l at time now; Azure's state table. */
static ai_result lease_apply(struct lease *l, const char *name, enum ai_lease_action action,
                             int duration_s, const char *given, ai_time now)
{
	enum ai_lease_state st = lease_state(l, now);
	int same = given && l->id[0] && strcasecmp(given, l->id) == 0;
	ai_time at;

	switch (action) {
	case AI_LEASE_ACQUIRE:
		if (st == AI_LEASE_BREAKING || (st == AI_LEASE_LEASED && !same))
			return failf(AI_ERR_CONFLICT, name, "is already leased");
		memset(l, 0, sizeof *l);
		snprintf(l->id, sizeof l->id, "%s", given);
		l->duration = duration_s;
		l->expires = duration_s < 0 ? AI_TIME_MAX : now + duration_s * AI_NS_PER_SEC;
		return AI_OK;
	case AI_LEASE_RENEW:
		if (!same || (st != AI_LEASE_LEASED && st != AI_LEASE_EXPIRED))
			return failf(AI_ERR_CONFLICT, name, "lease cannot be renewed: %s",
			             same ? "it is broken" : "not the lease holder");
		l->expires = l->duration < 0 ? AI_TIME_MAX : now + l->duration * AI_NS_PER_SEC;
		return AI_OK;
	case AI_LEASE_RELEASE:
		if (!same || st == AI_LEASE_AVAILABLE)
			return failf(AI_ERR_CONFLICT, name,
			             "lease cannot be released: not the lease holder");
		memset(l, 0, sizeof *l);
		return AI_OK;
	case AI_LEASE_BREAK:
		if (st == AI_LEASE_AVAILABLE)
			return failf(AI_ERR_CONFLICT, name, "has no lease to break");
		if (st == AI_LEASE_BROKEN)
			return AI_OK;
		if (st == AI_LEASE_EXPIRED)
			at = now;
		else if (duration_s < 0) /* a fixed lease runs out, an infinite one breaks */
			at = l->expires == AI_TIME_MAX ? now : l->expires;
		else
			at = now + duration_s * AI_NS_PER_SEC < l->expires ?
			     now + duration_s * AI_NS_PER_SEC : l->expires;
		if (st == AI_LEASE_BREAKING && l->broken_at < at)
			at = l->broken_at;
		l->breaking = 1;
		l->broken_at = at;
		return AI_OK;
	}
	return failf(AI_ERR_BAD_INPUT, name, "unknown lease action %d", (int)action);
}

static ai_result file_lease(struct ai_store *s, const char *name, enum ai_lease_action action,
                            int duration_s, char lease_id[AI_LEASE_ID_MAX])
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX], id[AI_LEASE_ID_MAX] = "";
	struct lease l;
	struct stat st;
	ai_result r;
	int fd = -1, sent = 0;

	if ((r = check_name(name)) != AI_OK)
		goto out;
	if (action != AI_LEASE_BREAK && lease_id && lease_id[0]) {
		if ((r = check_lease_id(name, lease_id)) != AI_OK)
			goto out;
		snprintf(id, sizeof id, "%s", lease_id);
	}
	if (action == AI_LEASE_ACQUIRE && duration_s != -1 &&
	    (duration_s < 15 || duration_s > 60)) {
		r = failf(AI_ERR_BAD_INPUT, name, "lease duration %d is not -1 or 15..60",
		          duration_s);
		goto out;
	}
	if (action == AI_LEASE_BREAK && duration_s > 60) {
		r = failf(AI_ERR_BAD_INPUT, name, "break period %d is over 60 s", duration_s);
		goto out;
	}
	if ((action == AI_LEASE_RENEW || action == AI_LEASE_RELEASE) && !id[0]) {
		r = failf(AI_ERR_BAD_INPUT, name, "no lease id given");
		goto out;
	}
	if (action == AI_LEASE_ACQUIRE && !id[0] && (r = new_lease_id(name, id)) != AI_OK)
		goto out;
	sent = 1;
	if ((r = state_ready(fs)) != AI_OK ||
	    (r = pathf(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (r = lease_lock(fs, name, 1, LOCK_EX, &fd)) != AI_OK)
		goto out;
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		if ((r = lease_unlink(fs, name)) == AI_OK)
			r = failf(AI_ERR_NOT_FOUND, name, "does not exist");
		goto out;
	}
	if ((r = lease_read(fd, name, &l)) != AI_OK ||
	    (r = lease_apply(&l, name, action, duration_s, id, now_of(fs))) != AI_OK ||
	    (r = lease_write(fd, name, &l)) != AI_OK)
		goto out;
	if (action == AI_LEASE_ACQUIRE && lease_id)
		snprintf(lease_id, AI_LEASE_ID_MAX, "%s", l.id);
out:
	if (fd >= 0)
		close(fd);
	if (sent)
		ai_store_count(s, AI_REQ_LEASE, 0, 0);
	return r;
}

/* ---- commit: a finished temp file becomes a blob ---- */

/* Makes the temp file tmp (open as fd) the blob name, with a fresh
 * sidecar. Create-only uses link(), which fails atomically when the name
 * exists; otherwise rename() replaces. tmp[0] is '\0' once the temp name is
 * gone. */
static ai_result commit(struct file_store *fs, const char *name, int fd, char tmp[PATH_MAX],
                        enum ai_blob_type type, unsigned flags, const struct ai_meta *meta,
                        char etag_out[AI_ETAG_MAX])
{
	char path[PATH_MAX];
	struct props p;
	struct stat st;
	ai_result r;
	int oldfd = -1, have_props = 0, rc = 0;

	memset(&st, 0, sizeof st);
	if (fsync(fd) != 0 || fstat(fd, &st) != 0) {
		r = sys_fail(name, "cannot sync the new content", errno);
		goto out;
	}
	props_default(&p);
	p.type = type;
	if (meta)
		p.meta = *meta;
	if ((r = props_new_gen(name, &p)) != AI_OK ||
	    (r = props_store(fs, name, st.st_ino, &p)) != AI_OK)
		goto out;
	have_props = 1;
	if ((r = pathf(path, name, "%s/%s", fs->root, name)) != AI_OK)
		goto out;
	/* a delete may remove an emptied directory between our mkdir and the
	 * link; a few tries see it recreated */
	for (int tries = 0; tries < 3; tries++) {
		if ((rc = make_parents(path, strlen(fs->root))) != 0)
			break;
		if (flags & AI_PUT_CREATE_ONLY) {
			rc = link(tmp, path) == 0 ? 0 : errno;
		} else {
			/* held open so the replaced file's inode, and so its
			 * sidecar name, cannot be reused before we drop it */
			if (oldfd < 0)
				oldfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			rc = rename(tmp, path) == 0 ? 0 : errno;
		}
		if (rc != ENOENT)
			break;
	}
	if (rc == EEXIST) {
		r = failf(AI_ERR_EXISTS, name, "already exists");
		goto out;
	}
	if (rc) {
		r = sys_fail(name, "cannot put the blob in place", rc);
		goto out;
	}
	have_props = 0;
	if (!(flags & AI_PUT_CREATE_ONLY))
		tmp[0] = '\0';
	tmp_drop(tmp);
	if ((rc = fsync_parent(path)) != 0) {
		r = sys_fail(name, "cannot sync its directory", rc);
		goto out;
	}
	props_drop_stale(fs, oldfd, st.st_ino);
	if (etag_out)
		etag_of(&st, &p, etag_out);
out:
	if (have_props)
		props_remove(fs, st.st_ino);
	if (oldfd >= 0)
		close(oldfd);
	return r;
}

/* ---- put: one request, whole blob ---- */

static ai_result file_put(struct ai_store *s, const char *name, const void *p, size_t n,
                          unsigned flags, const struct ai_meta *meta, char etag_out[AI_ETAG_MAX])
{
	struct file_store *fs = (struct file_store *)s;
	enum ai_blob_type type = flags & AI_PUT_APPEND_BLOB ? AI_BLOB_APPEND : AI_BLOB_BLOCK;
	char tmp[PATH_MAX] = "";
	ai_result r;
	int fd = -1, sent = 0, rc;

	if ((r = check_name(name)) != AI_OK || (r = check_meta(name, meta)) != AI_OK)
		goto out;
	if (type == AI_BLOB_APPEND && n) {
		r = failf(AI_ERR_BAD_INPUT, name, "an append blob is created empty");
		goto out;
	}
	sent = 1;
	if ((r = tmp_create(fs, name, tmp, &fd)) != AI_OK)
		goto out;
	if (n && (rc = write_all(fd, p, n, 0)) != 0) {
		r = sys_fail(name, "cannot write", rc);
		goto out;
	}
	r = commit(fs, name, fd, tmp, type, flags, meta, etag_out);
out:
	if (fd >= 0)
		close(fd);
	tmp_drop(tmp);
	if (sent)
		ai_store_count(s, AI_REQ_PUT, 0, r == AI_OK ? n : 0);
	return r;
}

/* ---- blocks: stage, then commit in order ---- */

static ai_result blocks_dir(struct file_store *fs, const char *name, char dir[PATH_MAX])
{
	char key[33];
	ai_result r = name_key(name, key);

	if (r != AI_OK)
		return r;
	return pathf(dir, name, "%s/" STATE_DIR "/blocks/%s", fs->root, key);
}

static ai_result block_path(struct file_store *fs, const char *name, const char *id,
                            char path[PATH_MAX])
{
	char dir[PATH_MAX], hex[2 * BLOCK_ID_MAX + 1];
	ai_result r = blocks_dir(fs, name, dir);

	if (r != AI_OK)
		return r;
	ai_hex((const uint8_t *)id, strlen(id), hex);
	return pathf(path, name, "%s/%s", dir, hex);
}

/* Removes the staged blocks of name after a commit. What is left when this
 * fails is garbage the next commit or delete of the name removes, so the
 * commit still succeeds. */
static void blocks_drop(struct file_store *fs, const char *name)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (blocks_dir(fs, name, dir) != AI_OK)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) != 0)
			break;
	closedir(d);
	if (rmdir(dir) != 0)
		return;
}

static ai_result file_put_block(struct ai_store *s, const char *name, const char *block_id,
                                const void *p, size_t n)
{
	struct file_store *fs = (struct file_store *)s;
	char tmp[PATH_MAX] = "", dir[PATH_MAX], path[PATH_MAX];
	ai_result r;
	int fd = -1, sent = 0, rc = 0;

	if ((r = check_name(name)) != AI_OK || (r = check_block_id(name, block_id)) != AI_OK)
		goto out;
	if (n > BLOCK_SIZE_MAX) {
		r = failf(AI_ERR_TOO_BIG, name, "block of %zu bytes is over 100 MiB", n);
		goto out;
	}
	sent = 1;
	if ((r = blocks_dir(fs, name, dir)) != AI_OK ||
	    (r = block_path(fs, name, block_id, path)) != AI_OK ||
	    (r = tmp_create(fs, name, tmp, &fd)) != AI_OK)
		goto out;
	if ((n && (rc = write_all(fd, p, n, 0)) != 0) || (fsync(fd) != 0 && (rc = errno))) {
		r = sys_fail(name, "cannot write a block", rc);
		goto out;
	}
	/* a commit of the same name may remove the directory meanwhile */
	for (int tries = 0; tries < 3; tries++) {
		if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
			rc = errno;
			break;
		}
		rc = rename(tmp, path) == 0 ? 0 : errno;
		if (rc != ENOENT)
			break;
	}
	if (rc) {
		r = sys_fail(name, "cannot stage a block", rc);
		goto out;
	}
	tmp[0] = '\0';
out:
	if (fd >= 0)
		close(fd);
	tmp_drop(tmp);
	if (sent)
		ai_store_count(s, AI_REQ_BLOCK, 0, r == AI_OK ? n : 0);
	return r;
}

/* Appends the staged block id of name to the file fd at *off. */
static ai_result block_copy(struct file_store *fs, const char *name, const char *id, int fd,
                            off_t *off, char *buf)
{
	char path[PATH_MAX];
	ai_result r;
	size_t got;
	int in = -1, rc;

	if ((r = block_path(fs, name, id, path)) != AI_OK)
		goto out;
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		r = errno == ENOENT ? failf(AI_ERR_BAD_INPUT, name, "unknown block id '%s'", id) :
		    sys_fail(name, "cannot open a staged block", errno);
		goto out;
	}
	for (off_t pos = 0;; pos += (off_t)got) {
		if ((rc = read_all(in, buf, COPY_CHUNK, pos, &got)) != 0) {
			r = sys_fail(name, "cannot read a staged block", rc);
			goto out;
		}
		if (got == 0)
			break;
		if ((rc = write_all(fd, buf, got, *off)) != 0) {
			r = sys_fail(name, "cannot write", rc);
			goto out;
		}
		*off += (off_t)got;
	}
out:
	if (in >= 0)
		close(in);
	return r;
}

static ai_result file_put_block_list(struct ai_store *s, const char *name,
                                     const char *const *ids, size_t n, unsigned flags,
                                     const struct ai_meta *meta, char etag_out[AI_ETAG_MAX])
{
	struct file_store *fs = (struct file_store *)s;
	char tmp[PATH_MAX] = "", *buf = NULL;
	off_t off = 0;
	ai_result r;
	int fd = -1, sent = 0;

	if ((r = check_name(name)) != AI_OK || (r = check_meta(name, meta)) != AI_OK)
		goto out;
	if (flags & AI_PUT_APPEND_BLOB) {
		r = failf(AI_ERR_BAD_INPUT, name, "a block list makes a block blob");
		goto out;
	}
	if (n > BLOCKS_MAX) {
		r = failf(AI_ERR_BAD_INPUT, name, "more than %d blocks", BLOCKS_MAX);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = check_block_id(name, ids[i])) != AI_OK)
			goto out;
	sent = 1;
	buf = malloc(COPY_CHUNK);
	if (!buf) {
		r = failf(AI_ERR_NOMEM, name, "out of memory");
		goto out;
	}
	if ((r = tmp_create(fs, name, tmp, &fd)) != AI_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r = block_copy(fs, name, ids[i], fd, &off, buf)) != AI_OK)
			goto out;
	if ((r = commit(fs, name, fd, tmp, AI_BLOB_BLOCK, flags, meta, etag_out)) != AI_OK)
		goto out;
	blocks_drop(fs, name);
out:
	if (fd >= 0)
		close(fd);
	tmp_drop(tmp);
	free(buf);
	if (sent)
		ai_store_count(s, AI_REQ_COMMIT, 0, 0);
	return r;
}

/* ---- append ---- */

static ai_result file_append(struct ai_store *s, const char *name, const void *p, size_t n,
                             uint64_t expected_pos)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX];
	struct props pr;
	struct stat st;
	ai_result r;
	int fd = -1, sent = 0, rc;

	if ((r = check_name(name)) != AI_OK)
		goto out;
	if (n > BLOCK_SIZE_MAX) {
		r = failf(AI_ERR_TOO_BIG, name, "append of %zu bytes is over 100 MiB", n);
		goto out;
	}
	sent = 1;
	if ((r = pathf(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (r = open_blob(name, path, O_RDWR, LOCK_EX, &fd, &st)) != AI_OK ||
	    (r = props_load(fs, name, st.st_ino, &pr)) != AI_OK)
		goto out;
	if (pr.type != AI_BLOB_APPEND) {
		r = failf(AI_ERR_CONFLICT, name, "is not an append blob");
		goto out;
	}
	if (expected_pos != AI_APPEND_ANY && expected_pos != (uint64_t)st.st_size) {
		r = failf(AI_ERR_CONFLICT, name, "append position %" PRIu64 " is not the size "
		          "%" PRIu64, expected_pos, (uint64_t)st.st_size);
		goto out;
	}
	if ((n && (rc = write_all(fd, p, n, st.st_size)) != 0) ||
	    (fsync(fd) != 0 && (rc = errno))) {
		r = sys_fail(name, "cannot append", rc);
		/* leave no partial block behind, as Azure would not */
		if (ftruncate(fd, st.st_size) != 0)
			r = sys_fail(name, "cannot undo a partial append", errno);
	}
out:
	if (fd >= 0)
		close(fd);
	if (sent)
		ai_store_count(s, AI_REQ_APPEND, 0, r == AI_OK ? n : 0);
	return r;
}

/* ---- read and properties ---- */

static int etag_matches(const char *want, const char *etag)
{
	size_t n = strlen(want);

	if (strcmp(want, "*") == 0)
		return 1;
	if (n >= 2 && want[0] == '"' && want[n - 1] == '"')
		return strlen(etag) == n - 2 && strncmp(want + 1, etag, n - 2) == 0;
	return strcmp(want, etag) == 0;
}

static ai_result file_read(struct ai_store *s, const char *name, uint64_t offset, uint64_t len,
                           const char *if_match, struct ai_buf *out, struct ai_blob_info *info)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX], etag[AI_ETAG_MAX];
	enum ai_lease_state ls = AI_LEASE_AVAILABLE;
	struct props p;
	struct stat st;
	uint64_t size, n = 0;
	size_t got;
	ai_result r;
	int fd = -1, sent = 0, rc;

	if (info)
		memset(info, 0, sizeof *info);
	if ((r = check_name(name)) != AI_OK)
		goto out;
	sent = 1;
	/* lease before blob lock, the order every operation takes them in;
	 * the shared lock keeps an append from landing halfway through */
	if ((r = pathf(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (info && (r = lease_state_of(fs, name, &ls)) != AI_OK) ||
	    (r = open_blob(name, path, O_RDONLY, LOCK_SH, &fd, &st)) != AI_OK ||
	    (r = props_load(fs, name, st.st_ino, &p)) != AI_OK)
		goto out;
	etag_of(&st, &p, etag);
	if (if_match && !etag_matches(if_match, etag)) {
		r = failf(AI_ERR_CONFLICT, name, "changed (etag %s, expected %.80s)", etag,
		          if_match);
		goto out;
	}
	size = (uint64_t)st.st_size;
	if (offset >= size && !(offset == 0 && size == 0)) {
		r = failf(AI_ERR_BAD_INPUT, name,
		          "range start %" PRIu64 " is past the size %" PRIu64, offset, size);
		goto out;
	}
	n = len == 0 || len > size - offset ? size - offset : len;
	r = n > SIZE_MAX / 2 ? AI_ERR_TOO_BIG : ai_buf_reserve(out, (size_t)n);
	if (r != AI_OK) {
		r = failf(r, name, "%" PRIu64 " bytes do not fit the buffer", n);
		goto out;
	}
	if ((rc = read_all(fd, out->data + out->len, (size_t)n, (off_t)offset, &got)) != 0) {
		r = sys_fail(name, "cannot read", rc);
		goto out;
	}
	if (got != n) {
		r = failf(AI_ERR_IO, name, "shrank while being read");
		goto out;
	}
	out->len += got;
	out->data[out->len] = '\0';
	if (info)
		r = fill_info(name, &st, &p, ls, info);
out:
	if (fd >= 0)
		close(fd);
	if (r != AI_OK)
		ai_blob_info_release(info);
	if (sent)
		ai_store_count(s, AI_REQ_GET, r == AI_OK ? n : 0, 0);
	return r;
}

static ai_result file_props(struct ai_store *s, const char *name, struct ai_blob_info *info,
                            struct ai_meta *meta)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX];
	enum ai_lease_state ls = AI_LEASE_AVAILABLE;
	struct props p;
	struct stat st;
	ai_result r;
	int fd = -1, sent = 0;

	memset(info, 0, sizeof *info);
	if (meta)
		memset(meta, 0, sizeof *meta);
	if ((r = check_name(name)) != AI_OK)
		goto out;
	sent = 1;
	if ((r = pathf(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (r = lease_state_of(fs, name, &ls)) != AI_OK ||
	    (r = open_blob(name, path, O_RDONLY, LOCK_SH, &fd, &st)) != AI_OK ||
	    (r = props_load(fs, name, st.st_ino, &p)) != AI_OK ||
	    (r = fill_info(name, &st, &p, ls, info)) != AI_OK)
		goto out;
	if (meta)
		*meta = p.meta;
out:
	if (fd >= 0)
		close(fd);
	if (sent)
		ai_store_count(s, AI_REQ_HEAD, 0, 0);
	return r;
}

/* ---- metadata and delete (lease-guarded) ---- */

static ai_result file_set_metadata(struct ai_store *s, const char *name,
                                   const struct ai_meta *meta, const char *lease_id)
{
	struct file_store *fs = (struct file_store *)s;
	static const struct timespec now2[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	char path[PATH_MAX];
	struct props p;
	struct stat st;
	ai_result r;
	int fd = -1, lfd = -1, sent = 0;

	if ((r = check_name(name)) != AI_OK || (r = check_meta(name, meta)) != AI_OK)
		goto out;
	sent = 1;
	if ((r = pathf(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (r = lease_lock(fs, name, 0, LOCK_SH, &lfd)) != AI_OK ||
	    (r = open_blob(name, path, O_RDONLY, LOCK_EX, &fd, &st)) != AI_OK ||
	    (r = lease_guard(fs, lfd, name, lease_id)) != AI_OK ||
	    (r = props_load(fs, name, st.st_ino, &p)) != AI_OK)
		goto out;
	memset(&p.meta, 0, sizeof p.meta);
	if (meta)
		p.meta = *meta;
	if ((r = props_new_gen(name, &p)) != AI_OK ||
	    (r = props_store(fs, name, st.st_ino, &p)) != AI_OK)
		goto out;
	/* Azure moves Last-Modified on a metadata change */
	if (futimens(fd, now2) != 0)
		r = sys_fail(name, "cannot touch", errno);
out:
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	if (sent)
		ai_store_count(s, AI_REQ_OTHER, 0, 0);
	return r;
}

/* Removes the directories a delete emptied, up to the root, so that
 * listings and the tree stay clean. A directory another writer is filling
 * is not empty or is recreated by its mkdir, so a failure just stops. */
static void prune_dirs(char *path, size_t rootlen)
{
	for (char *p = strrchr(path, '/'); p && (size_t)(p - path) > rootlen;
	     p = strrchr(path, '/')) {
		*p = '\0';
		if (rmdir(path) != 0)
			return;
	}
}

static ai_result file_delete(struct ai_store *s, const char *name)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX];
	struct stat st;
	ai_result r;
	int fd = -1, lfd = -1, sent = 0, rc;

	if ((r = check_name(name)) != AI_OK)
		goto out;
	sent = 1;
	if ((r = state_ready(fs)) != AI_OK ||
	    (r = pathf(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (r = lease_lock(fs, name, 1, LOCK_EX, &lfd)) != AI_OK)
		goto out;
	if ((r = open_blob(name, path, O_RDONLY, 0, &fd, &st)) != AI_OK) {
		/* drop the lease file the lock created; the blob's absence is
		 * the error to report */
		if (r == AI_ERR_NOT_FOUND && lease_unlink(fs, name) != AI_OK)
			r = failf(AI_ERR_NOT_FOUND, name, "does not exist");
		goto out;
	}
	if ((r = lease_guard(fs, lfd, name, NULL)) != AI_OK)
		goto out;
	if (unlink(path) != 0) {
		r = sys_fail(name, "cannot delete", errno);
		goto out;
	}
	props_drop_stale(fs, fd, 0);
	blocks_drop(fs, name);
	if ((r = lease_unlink(fs, name)) != AI_OK)
		goto out;
	if ((rc = fsync_parent(path)) != 0) {
		r = sys_fail(name, "cannot sync its directory", rc);
		goto out;
	}
	prune_dirs(path, strlen(fs->root));
out:
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	if (sent)
		ai_store_count(s, AI_REQ_OTHER, 0, 0);
	return r;
}

/* ---- list: a sorted walk that yields names in Azure's order ---- */

struct walk {
	struct file_store *fs;
	const char *prefix, *delim, *marker;
	size_t plen, dlen;
	unsigned max;
	struct ai_blob_list *out;
	size_t cap_blobs, cap_prefixes;
	char *last;                 /* marker of the last item taken */
	int full;                   /* max items taken and one more found */
	char name[PATH_MAX];        /* the relative name being visited */
};

struct entry {
	char *name;
	size_t len;
	int is_dir;
};

/* Byte i of entry e's sort key: a directory d sorts as "d/". */
static int entry_ch(const struct entry *e, size_t i)
{
	if (i < e->len)
		return (unsigned char)e->name[i];
	return i == e->len && e->is_dir ? '/' : 0;
}

/* Orders entries as the names below them sort, so a depth-first walk
 * yields names in plain byte order. */
static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	for (size_t i = 0;; i++) {
		int c1 = entry_ch(x, i), c2 = entry_ch(y, i);

		if (c1 != c2 || c1 == 0)
			return c1 - c2;
	}
}

/* Records key as the marker of the last item taken; with max items taken
 * already, sets the next page's marker instead and stops the walk. */
static ai_result take(struct walk *w, const char *key, int *room)
{
	char *copy;

	*room = 0;
	if (w->out->n + w->out->nprefixes >= w->max) {
		w->full = 1;
		w->out->next_marker = w->last;
		w->last = NULL;
		return AI_OK;
	}
	copy = strdup(key);
	if (!copy)
		return failf(AI_ERR_NOMEM, key, "out of memory");
	free(w->last);
	w->last = copy;
	*room = 1;
	return AI_OK;
}

static ai_result grow(void **p, size_t *cap, size_t n, size_t size, const char *name)
{
	void *np;
	size_t ncap;

	if (n < *cap)
		return AI_OK;
	ncap = *cap ? *cap * 2 : 16;
	np = realloc(*p, ncap * size);
	if (!np)
		return failf(AI_ERR_NOMEM, name, "out of memory");
	*p = np;
	*cap = ncap;
	return AI_OK;
}

/* Adds the rolled-up prefix p (n bytes). Its marker sorts after every name
 * below it (0xff never occurs in UTF-8), so the next page skips them all. */
static ai_result add_prefix(struct walk *w, const char *p, size_t n)
{
	struct ai_blob_list *out = w->out;
	char key[PATH_MAX + 2];
	ai_result r;
	int room;

	memcpy(key, p, n);
	key[n] = '\xff';
	key[n + 1] = '\0';
	if (w->marker && strcmp(key, w->marker) <= 0)
		return AI_OK;
	if (out->nprefixes && strncmp(out->prefixes[out->nprefixes - 1], p, n) == 0 &&
	    out->prefixes[out->nprefixes - 1][n] == '\0')
		return AI_OK;
	if ((r = take(w, key, &room)) != AI_OK || !room)
		return r;
	if ((r = grow((void **)&out->prefixes, &w->cap_prefixes, out->nprefixes,
	              sizeof *out->prefixes, p)) != AI_OK)
		return r;
	out->prefixes[out->nprefixes] = strndup(p, n);
	if (!out->prefixes[out->nprefixes])
		return failf(AI_ERR_NOMEM, p, "out of memory");
	out->nprefixes++;
	return AI_OK;
}

static ai_result add_blob(struct walk *w, int dfd, const char *entry)
{
	struct ai_blob_list *out = w->out;
	enum ai_lease_state ls;
	struct props p;
	struct stat st;
	ai_result r;
	int room;

	if (fstatat(dfd, entry, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT) /* deleted while we walked */
			return AI_OK;
		return sys_fail(w->name, "cannot stat", errno);
	}
	if (!S_ISREG(st.st_mode))
		return AI_OK;
	if ((r = take(w, w->name, &room)) != AI_OK || !room)
		return r;
	if ((r = props_load(w->fs, w->name, st.st_ino, &p)) != AI_OK ||
	    (r = lease_state_of(w->fs, w->name, &ls)) != AI_OK ||
	    (r = grow((void **)&out->blobs, &w->cap_blobs, out->n, sizeof *out->blobs,
	              w->name)) != AI_OK ||
	    (r = fill_info(w->name, &st, &p, ls, &out->blobs[out->n])) != AI_OK)
		return r;
	out->n++;
	return AI_OK;
}

/* Whether the directory entry of dfd holds a regular file at any depth:
 * only then does its prefix exist, as directories are no blobs. */
static ai_result has_blob(int dfd, const char *entry, const char *name, int *found)
{
	struct dirent *de;
	ai_result r = AI_OK;
	DIR *d = NULL;
	int fd;

	*found = 0;
	fd = openat(dfd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? AI_OK : sys_fail(name, "cannot open the directory", errno);
	d = fdopendir(fd);
	if (!d) {
		r = sys_fail(name, "cannot read the directory", errno);
		close(fd);
		return r;
	}
	while (!*found && r == AI_OK && (de = readdir(d))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* deleted while we looked */
		if (S_ISREG(st.st_mode))
			*found = 1;
		else if (S_ISDIR(st.st_mode))
			r = has_blob(dirfd(d), de->d_name, name, found);
	}
	closedir(d);
	return r;
}

static ai_result walk_dir(struct walk *w, int fd, size_t len);

static ai_result visit(struct walk *w, int dfd, size_t len, const struct entry *e)
{
	size_t klen = len + e->len + (e->is_dir ? 1 : 0);
	char *k = w->name;
	const char *slash;
	int fd, found;
	ai_result r;

	if (klen > NAME_LEN_MAX + 1) /* cannot be (below) a blob name */
		return AI_OK;
	memcpy(k + len, e->name, e->len);
	if (e->is_dir)
		k[klen - 1] = '/';
	k[klen] = '\0';
	if (e->is_dir) {
		/* skip a directory where no name can have the prefix, or every
		 * name is at or before the marker */
		if (!(klen >= w->plen && memcmp(k, w->prefix, w->plen) == 0) &&
		    !(w->plen > klen && memcmp(k, w->prefix, klen) == 0))
			return AI_OK;
		if (w->marker && strcmp(w->marker, k) > 0 && strncmp(w->marker, k, klen) != 0)
			return AI_OK;
		/* with "/" as the delimiter, a directory just past the prefix
		 * is one rolled-up prefix: no need to walk it */
		if (w->dlen == 1 && w->delim[0] == '/' && klen > w->plen &&
		    memchr(k + w->plen, '/', klen - w->plen) == k + klen - 1) {
			if ((r = has_blob(dfd, e->name, k, &found)) != AI_OK || !found)
				return r;
			return add_prefix(w, k, klen);
		}
		fd = openat(dfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? AI_OK :
			       sys_fail(k, "cannot open the directory", errno);
		return walk_dir(w, fd, klen);
	}
	if (klen < w->plen || memcmp(k, w->prefix, w->plen) != 0)
		return AI_OK;
	if (w->marker && strcmp(k, w->marker) <= 0)
		return AI_OK;
	if (w->dlen && (slash = memmem(k + w->plen, klen - w->plen, w->delim, w->dlen)))
		return add_prefix(w, k, (size_t)(slash - k) + w->dlen);
	return add_blob(w, dfd, e->name);
}

/* Walks the directory fd (owned) holding the names that start with the
 * len bytes of w->name. */
static ai_result walk_dir(struct walk *w, int fd, size_t len)
{
	struct entry *ents = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	ai_result r = AI_OK;
	DIR *d;

	d = fdopendir(fd);
	if (!d) {
		r = sys_fail(w->name, "cannot read the directory", errno);
		close(fd);
		return r;
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		struct stat st;
		int is_dir;

		/* at the root, dot names are the backend's state, never blobs */
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (len == 0 && de->d_name[0] == '.'))
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_REG) {
			is_dir = de->d_type == DT_DIR;
		} else if (de->d_type == DT_UNKNOWN &&
		           fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		           (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
			is_dir = S_ISDIR(st.st_mode);
		} else {
			continue;
		}
		if ((r = grow((void **)&ents, &cap, n, sizeof *ents, w->name)) != AI_OK)
			goto out;
		ents[n].len = strlen(de->d_name);
		ents[n].is_dir = is_dir;
		ents[n].name = strdup(de->d_name);
		if (!ents[n].name) {
			r = failf(AI_ERR_NOMEM, w->name, "out of memory");
			goto out;
		}
		n++;
	}
	if (errno) {
		r = sys_fail(w->name, "cannot read the directory", errno);
		goto out;
	}
	if (n)
		qsort(ents, n, sizeof *ents, entry_cmp);
	for (size_t i = 0; i < n && !w->full && r == AI_OK; i++)
		r = visit(w, dirfd(d), len, &ents[i]);
out:
	for (size_t i = 0; i < n; i++)
		free(ents[i].name);
	free(ents);
	closedir(d);
	return r;
}

static ai_result file_list(struct ai_store *s, const char *prefix, const char *delimiter,
                           const char *marker, unsigned max, struct ai_blob_list *out)
{
	struct file_store *fs = (struct file_store *)s;
	struct walk w;
	ai_result r;
	int fd;

	memset(&w, 0, sizeof w);
	w.fs = fs;
	w.prefix = prefix ? prefix : "";
	w.plen = strlen(w.prefix);
	w.delim = delimiter ? delimiter : "";
	w.dlen = strlen(w.delim);
	w.marker = marker && *marker ? marker : NULL;
	w.max = max == 0 || max > LIST_MAX ? LIST_MAX : max;
	w.out = out;
	fd = open(fs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		r = container_fail(fs, errno == ENOENT ? "does not exist" : "cannot open", errno);
	else
		r = walk_dir(&w, fd, 0);
	free(w.last);
	if (r != AI_OK)
		ai_blob_list_release(out);
	ai_store_count(s, AI_REQ_LIST, 0, 0);
	return r;
}

/* ---- container and account ---- */

static ai_result file_create_container(struct ai_store *s)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX];
	ai_result r;

	ai_store_count(s, AI_REQ_OTHER, 0, 0);
	snprintf(path, sizeof path, "%s/", fs->root);
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST) {
			r = container_fail(fs, "cannot create", errno);
			return r;
		}
		*p = '/';
	}
	return state_ready(fs);
}

static ai_result file_account_info(struct ai_store *s, char sku[64], char kind[64])
{
	ai_store_count(s, AI_REQ_OTHER, 0, 0);
	snprintf(sku, 64, "local");
	snprintf(kind, 64, "directory");
	return AI_OK;
}

static ai_result file_service_stats(struct ai_store *s, char status[16], ai_time *last_sync)
{
	snprintf(status, 16, "unavailable");
	*last_sync = AI_TIME_MIN;
	ai_store_set_error("location '%.300s': no secondary for a local directory", s->described);
	return AI_ERR_CONFIG;
}

/* ---- leftovers of crashed writers ---- */

/* Removes (or counts) the regular files in the open directory dfd last
 * changed before `before`. The caller closes dfd. */
static void sweep_files(int dfd, const char *what, ai_time before, int dry_run,
                        struct ai_store_cleanup *out, int *err)
{
	struct dirent *de;
	struct stat st;
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		if (fd >= 0)
			close(fd);
		*err = *err ? *err : errno;
		out->failed++;
		ai_store_set_error("%s: cannot read (%s)", what, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || mtime_of(&st) >= before)
			continue;
		if (!dry_run && unlinkat(dfd, de->d_name, 0) != 0) {
			if (errno == ENOENT)
				continue;
			*err = *err ? *err : errno;
			out->failed++;
			ai_store_set_error("%s/%s: cannot remove (%s)", what, de->d_name, strerror(errno));
			continue;
		}
		out->files++;
		out->bytes += (uint64_t)st.st_size;
	}
	closedir(d);
}

/* Temporary files of writes that never finished, and blocks staged for
 * commits that never came. A live writer keeps changing its files, so
 * only old ones go. */
static ai_result file_cleanup(struct ai_store *s, ai_time before, int dry_run,
                              struct ai_store_cleanup *out)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int fd, bfd = -1, err = 0;
	DIR *d = NULL;

	snprintf(path, sizeof path, "%s/" STATE_DIR "/tmp", fs->root);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		sweep_files(fd, STATE_DIR "/tmp", before, dry_run, out, &err);
		close(fd);
	} else if (errno != ENOENT) {
		err = errno;
		out->failed++;
	}
	snprintf(path, sizeof path, "%s/" STATE_DIR "/blocks", fs->root);
	bfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0) {
		if (errno != ENOENT) {
			err = errno;
			out->failed++;
		}
		goto out;
	}
	fd = dup(bfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		err = errno;
		out->failed++;
		goto out;
	}
	while ((de = readdir(d))) {
		char what[128];
		int kfd;
		if (de->d_name[0] == '.' || fstatat(bfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		kfd = openat(bfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (kfd < 0)
			continue;
		snprintf(what, sizeof what, STATE_DIR "/blocks/%.64s", de->d_name);
		sweep_files(kfd, what, before, dry_run, out, &err);
		close(kfd);
		/* The directory's own time says when a block last arrived; one
		 * still in use is not empty or not old, and stays. */
		if (!dry_run && mtime_of(&st) < before && unlinkat(bfd, de->d_name, AT_REMOVEDIR) != 0) {
			/* not empty: a block too young to go */
		}
	}
out:
	if (d)
		closedir(d);
	if (bfd >= 0)
		close(bfd);
	if (err && !*ai_store_last_error())
		ai_store_set_error("location '%.300s': cannot clean up (%s)", s->described,
		                   strerror(err));
	return err ? AI_ERR_IO : AI_OK;
}

/* ---- open and free ---- */

static void file_free(struct ai_store *s)
{
	struct file_store *fs = (struct file_store *)s;

	if (!fs)
		return;
	free(fs->root);
	free(fs->base.described);
	free(fs);
}

static const struct ai_store_ops file_ops = {
	.name = "file",
	.list = file_list,
	.read = file_read,
	.put = file_put,
	.put_block = file_put_block,
	.put_block_list = file_put_block_list,
	.append = file_append,
	.lease = file_lease,
	.props = file_props,
	.set_metadata = file_set_metadata,
	.del = file_delete,
	.create_container = file_create_container,
	.account_info = file_account_info,
	.service_stats = file_service_stats,
	.cleanup = file_cleanup,
	.free = file_free,
};

ai_result ai_store_file_open(struct ai_store **out, const char *root,
                             const struct ai_store_config *cfg)
{
	struct file_store *fs = NULL;
	size_t n = root ? strlen(root) : 0;
	ai_result r = AI_OK;

	*out = NULL;
	if (n == 0 || root[0] != '/') {
		ai_store_set_error("location 'file://%.300s': not an absolute path (file:///dir)",
		                   root ? root : "");
		return AI_ERR_CONFIG;
	}
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (n == 1)
		n = 0; /* the file system root: names become "/name" */
	if (n + sizeof "/" STATE_DIR "/blocks/" + 2 * AI_SHA256_LEN + 2 * BLOCK_ID_MAX >=
	    PATH_MAX ||
	    n + NAME_LEN_MAX + 2 >= PATH_MAX) {
		ai_store_set_error("location 'file://%.300s': path too long", root);
		return AI_ERR_CONFIG;
	}
	fs = calloc(1, sizeof *fs);
	if (!fs || !(fs->root = strndup(root, n)) ||
	    !(fs->base.described = malloc(n + sizeof "file:///"))) {
		r = AI_ERR_NOMEM;
		ai_store_set_error("location 'file://%.300s': out of memory", root);
		goto out;
	}
	snprintf(fs->base.described, n + sizeof "file:///", "file://%s", n ? fs->root : "/");
	fs->base.ops = &file_ops;
	fs->base.remote = 0;
	fs->base.now = cfg->now;
	*out = &fs->base;
	fs = NULL;
out:
	file_free(fs ? &fs->base : NULL);
	return r;
}
