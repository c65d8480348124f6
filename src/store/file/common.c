/* file/common.c: what every part of the local-directory backend uses: error
 * messages, paths, the clock, file I/O, name checks, state and temp files. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "util/crypto.h"
#include "util/hex.h"
#include "store/file/file.h"
#include "util/clock.h"

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

ai_result ai_file_fail(ai_result r, const char *name, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ai_store_set_error("blob '%.300s': %s", name ? name : "", msg);
	return r;
}

ai_result ai_file_sys_fail(const char *name, const char *what, int e)
{
	char buf[128];

	return ai_file_fail(errno_result(e), name, "%s: %s", what, strerror_r(e, buf, sizeof buf));
}

ai_result ai_file_container_fail(const struct file_store *fs, const char *what, int e)
{
	char buf[128];

	ai_store_set_error("container '%.300s': %s: %s", fs->base.described, what,
	                   strerror_r(e, buf, sizeof buf));
	return e == ENOENT ? AI_ERR_NOT_FOUND : errno_result(e);
}

/* ---- small helpers: paths, clock, file I/O ---- */

ai_result ai_file_path(char out[PATH_MAX], const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		return ai_file_fail(AI_ERR_BAD_INPUT, name, "path too long");
	return AI_OK;
}

ai_time ai_file_now(const struct file_store *fs)
{
	return fs->base.now ? fs->base.now() : ai_clock_real();
}

ai_time ai_file_mtime(const struct stat *st)
{
	return (ai_time)st->st_mtim.tv_sec * AI_NS_PER_SEC + st->st_mtim.tv_nsec;
}

/* The low-level helpers below return 0 or an errno value. */

int ai_file_write_all(int fd, const void *p, size_t n, off_t off)
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

int ai_file_read_all(int fd, void *p, size_t n, off_t off, size_t *got)
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

int ai_file_lock(int fd, int op)
{
	struct timespec pause = { 0, 1000000 };
	double waited = 0;

	/* Never blocked for good: another process may hold the lock while it
	 * is stopped (SIGSTOP), so a lock still held after AI_FILE_LOCK_WAIT_S
	 * is an error (EWOULDBLOCK) the caller reports. */
	while (flock(fd, op | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || waited >= AI_FILE_LOCK_WAIT_S)
			return errno;
		nanosleep(&pause, NULL);
		waited += (double)pause.tv_nsec / 1e9;
		if (pause.tv_nsec < 64000000)
			pause.tv_nsec *= 2;
	}
	return 0;
}

int ai_file_fsync_parent(const char *path)
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

/* ---- names and metadata ---- */

ai_result ai_file_check_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	const char *seg = name;

	if (n == 0 || n > NAME_LEN_MAX)
		return ai_file_fail(AI_ERR_BAD_INPUT, name, "name is empty or longer than %d bytes",
		                    NAME_LEN_MAX);
	if (name[0] == '.')
		return ai_file_fail(AI_ERR_BAD_INPUT, name, "names starting with '.' are reserved");
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);

		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return ai_file_fail(AI_ERR_BAD_INPUT, name,
			                    "empty, '.' or '..' path segment");
		if (len > NAME_MAX)
			return ai_file_fail(AI_ERR_BAD_INPUT, name,
			                    "path segment longer than %d bytes", NAME_MAX);
		if (!end)
			return AI_OK;
		seg = end + 1;
	}
}

ai_result ai_file_check_meta(const char *name, const struct ai_meta *m)
{
	if (!m)
		return AI_OK;
	if (m->n > AI_META_MAX)
		return ai_file_fail(AI_ERR_BAD_INPUT, name, "more than %d metadata entries",
		                    AI_META_MAX);
	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->kv[i].name, *v = m->kv[i].value;
		size_t klen = strnlen(k, sizeof m->kv[i].name);
		size_t vlen = strnlen(v, sizeof m->kv[i].value);

		if (klen == 0 || klen == sizeof m->kv[i].name ||
		    strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
		              "0123456789") != klen || (k[0] >= '0' && k[0] <= '9'))
			return ai_file_fail(AI_ERR_BAD_INPUT, name,
			                    "metadata name '%.64s' is not an identifier", k);
		if (vlen == sizeof m->kv[i].value)
			return ai_file_fail(AI_ERR_BAD_INPUT, name, "metadata '%s' is too long", k);
		for (size_t j = 0; j < vlen; j++)
			if ((unsigned char)v[j] < 0x20 || v[j] == 0x7f)
				return ai_file_fail(AI_ERR_BAD_INPUT, name,
				                    "metadata '%s' holds a control character", k);
	}
	return AI_OK;
}

/* ---- state directory and temporary files ---- */

/* The state key of a name is half a SHA-256 in hex: a fixed-length file
 * name whatever the blob name. */
ai_result ai_file_state_path(struct file_store *fs, const char *name, const char *sub,
                             char path[PATH_MAX])
{
	uint8_t d[AI_SHA256_LEN];
	char key[33];
	ai_result r = ai_sha256(name, strlen(name), d);

	if (r != AI_OK)
		return ai_file_fail(r, name, "cannot hash the name");
	ai_hex(d, 16, key);
	return ai_file_path(path, name, "%s/" STATE_DIR "/%s/%s", fs->root, sub, key);
}

ai_result ai_file_state_ready(struct file_store *fs)
{
	static const char *const subdirs[] = { "", "/tmp", "/props", "/blocks", "/leases" };
	char path[PATH_MAX];

	if (__atomic_load_n(&fs->state_ready, __ATOMIC_ACQUIRE))
		return AI_OK;
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		snprintf(path, sizeof path, "%s/" STATE_DIR "%s", fs->root, subdirs[i]);
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			return ai_file_container_fail(fs, i == 0 && errno == ENOENT ?
			                              "does not exist" :
			                              "cannot create the state directory", errno);
	}
	__atomic_store_n(&fs->state_ready, 1, __ATOMIC_RELEASE);
	return AI_OK;
}

ai_result ai_file_tmp_create(struct file_store *fs, const char *name, char path[PATH_MAX],
                             int *fdp)
{
	uint8_t rnd[8];
	char hex[17];
	ai_result r;
	int fd;

	*fdp = -1;
	path[0] = '\0';
	if ((r = ai_file_state_ready(fs)) != AI_OK)
		return r;
	if ((r = ai_random(rnd, sizeof rnd)) != AI_OK)
		return ai_file_fail(r, name, "no random bytes for a temporary name");
	ai_hex(rnd, sizeof rnd, hex);
	if ((r = ai_file_path(path, name, "%s/" STATE_DIR "/tmp/%s", fs->root, hex)) != AI_OK)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0) {
		path[0] = '\0';
		return ai_file_sys_fail(name, "cannot create a temporary file", errno);
	}
	*fdp = fd;
	return AI_OK;
}

/* Removes a temporary file left by a failed write. Nothing else can use
 * that name, so a failure leaves only garbage and is not reported. */
void ai_file_tmp_drop(char path[PATH_MAX])
{
	if (path[0] && unlink(path) != 0 && errno != ENOENT) {
		/* garbage in tmp/ only */
	}
	path[0] = '\0';
}
