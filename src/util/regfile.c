/* regfile.c: reading local files that must be regular files, and replacing
 * files through fresh temporary names (see regfile.h for why). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/crypto.h"
#include "util/hex.h"
#include "util/regfile.h"

#define TMP_TRIES 8

static const char *kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
	     : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
	     : S_ISLNK(m) ? "a symbolic link" : "not a plain file";
}

/* A user's (or with group, a group's) name, or "uid N" ("gid N") when it
 * has none. */
static void id_name(int group, unsigned id, char *out, size_t cap)
{
	const struct passwd *pw = group ? NULL : getpwuid((uid_t)id);
	const struct group *gr = group ? getgrgid((gid_t)id) : NULL;
	const char *name = pw ? pw->pw_name : gr ? gr->gr_name : NULL;

	if (name)
		snprintf(out, cap, "%s", name);
	else
		snprintf(out, cap, "%s %u", group ? "gid" : "uid", id);
}

/* Permission denied: whose file it is, who we are, what to run. A key
 * made by root is the usual case for a service running as its own user. */
static ai_result access_denied(const char *path, char *why, size_t cap)
{
	char me[64], owner[64], group[64];
	struct stat st;

	id_name(0, (unsigned)geteuid(), me, sizeof me);
	if (stat(path, &st) != 0) {
		char dir[512] = "";
		size_t n = strlen(path);
		int found = 0;

		/* The first directory on the way this user may not search. */
		for (size_t i = 1; i < n && i < sizeof dir; i++) {
			if (path[i] != '/')
				continue;
			memcpy(dir, path, i);
			dir[i] = '\0';
			found = faccessat(AT_FDCWD, dir, X_OK, AT_EACCESS) != 0;
			if (found)
				break;
		}
		snprintf(why, cap, "permission denied: user '%s' cannot pass through %s%s%s; let them "
		         "(for instance chgrp '%s' and chmod g+x that directory)", me,
		         found ? "'" : "", found ? dir : "a directory above it", found ? "'" : "", me);
		return AI_ERR_CONFIG;
	}
	id_name(0, (unsigned)st.st_uid, owner, sizeof owner);
	id_name(1, (unsigned)st.st_gid, group, sizeof group);
	snprintf(why, cap, "permission denied: it belongs to %s:%s (mode %04o) and this runs as "
	         "user '%s'; give it to them: chown '%s' '%s' (and chmod 600 '%s')", owner, group,
	         (unsigned)(st.st_mode & 07777), me, me, path, path);
	return AI_ERR_CONFIG;
}

/* Why open() failed, in words for the operator. */
static ai_result open_failed(const char *path, int e, char *why, size_t cap)
{
	struct stat st;
	char target[512];
	ssize_t n;

	if (e == ENOENT) {
		snprintf(why, cap, "%s", strerror(e));
		return AI_ERR_NOT_FOUND;
	}
	if (e == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		n = readlink(path, target, sizeof target - 1);
		target[n > 0 ? n : 0] = '\0';
		snprintf(why, cap, "a symbolic link%s%s%s, not the file itself", n > 0 ? " to '" : "",
		         target, n > 0 ? "'" : "");
		return AI_ERR_CONFIG;
	}
	if (e == ENXIO && lstat(path, &st) == 0) {
		snprintf(why, cap, "not a regular file but %s", kind(st.st_mode));
		return AI_ERR_CONFIG;
	}
	if (e == EACCES)
		return access_denied(path, why, cap);
	snprintf(why, cap, "%s", strerror(e));
	errno = e;
	return AI_ERR_IO;
}

ai_result ai_regfile_read(const char *path, unsigned flags, struct ai_buf *out, char *why,
                          size_t whycap)
{
	int oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	struct stat st;
	ai_result r = AI_ERR_IO;
	int fd, e;

	if (!(flags & AI_REGFILE_FOLLOW))
		oflags |= O_NOFOLLOW;
	fd = open(path, oflags);
	if (fd < 0)
		return open_failed(path, errno, why, whycap);
	if (fstat(fd, &st) != 0) {
		snprintf(why, whycap, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whycap, "not a regular file but %s", kind(st.st_mode));
		r = AI_ERR_CONFIG;
		goto out;
	}
	if ((flags & AI_REGFILE_SECRET) && (st.st_mode & 077)) {
		snprintf(why, whycap, "group or others can read or write it (mode %04o); "
		         "run chmod 600 '%s'", (unsigned)(st.st_mode & 07777), path);
		r = AI_ERR_CONFIG;
		goto out;
	}
	/* It is a regular file: reads block (briefly) as usual from here on. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		snprintf(why, whycap, "%s", strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size > out->max - out->len) {
		snprintf(why, whycap, "larger than %zu bytes", out->max);
		r = AI_ERR_TOO_BIG;
		goto out;
	}
	/* A secret gets all its room now, so no realloc copies it; anything
	 * else its size and a byte to see the end, growing if it grows. */
	r = ai_buf_reserve(out, (flags & AI_REGFILE_SECRET) || (uint64_t)st.st_size >= out->max - out->len
	                        ? out->max - out->len : (size_t)st.st_size + 1);
	while (r == AI_OK) {
		char probe;
		ssize_t got;

		if (out->len == out->max) {
			/* Full: one more byte means the file is too big. */
			got = read(fd, &probe, 1);
			if (got > 0) {
				snprintf(why, whycap, "larger than %zu bytes", out->max);
				r = AI_ERR_TOO_BIG;
			} else if (got < 0 && errno == EINTR) {
				continue;
			} else if (got < 0) {
				snprintf(why, whycap, "%s", strerror(errno));
				r = AI_ERR_IO;
			}
			break;
		}
		if (out->len + 1 >= out->alloc) {
			size_t more = out->max - out->len < 65536 ? out->max - out->len : 65536;

			r = ai_buf_reserve(out, more);
			continue;
		}
		got = read(fd, out->data + out->len, out->alloc - out->len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(why, whycap, "%s", strerror(errno));
			r = AI_ERR_IO;
			break;
		}
		if (got == 0)
			break;
		out->len += (size_t)got;
		out->data[out->len] = '\0';
	}
	if (r == AI_ERR_NOMEM)
		snprintf(why, whycap, "%s", ai_strerror(r));
out:
	e = errno;
	close(fd);
	errno = e;
	return r;
}

ai_result ai_regfile_tmp_create(const char *path, mode_t mode, char *tmp, size_t cap, int *fd)
{
	uint8_t rnd[8];
	char hex[2 * sizeof rnd + 1];
	int n;

	*fd = -1;
	for (int i = 0; i < TMP_TRIES; i++) {
		if (ai_random(rnd, sizeof rnd) != AI_OK) {
			errno = EIO;
			return AI_ERR_IO;
		}
		ai_hex(rnd, sizeof rnd, hex);
		n = snprintf(tmp, cap, "%s.tmp.%s", path, hex);
		if (n < 0 || (size_t)n >= cap) {
			errno = ENAMETOOLONG;
			return AI_ERR_IO;
		}
		*fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
		if (*fd >= 0)
			return AI_OK;
		if (errno != EEXIST)
			return AI_ERR_IO;
	}
	return AI_ERR_IO;
}

ai_result ai_regfile_replace(const char *path, const void *p, size_t n, mode_t mode)
{
	char tmp[4096 + 32];
	const char *c = p;
	ai_result r;
	int fd, e;

	r = ai_regfile_tmp_create(path, mode, tmp, sizeof tmp, &fd);
	if (r != AI_OK)
		return r;
	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			r = AI_ERR_IO;
			break;
		}
		c += w;
		n -= (size_t)w;
	}
	if (close(fd) != 0 && r == AI_OK)
		r = AI_ERR_IO;
	if (r == AI_OK && rename(tmp, path) != 0)
		r = AI_ERR_IO;
	if (r != AI_OK) {
		e = errno;
		unlink(tmp);
		errno = e;
	}
	return r;
}
