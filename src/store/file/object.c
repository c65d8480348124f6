/* file/object.c: whole blobs: the commit that puts a finished temp file in
 * place, put, append, read, properties, metadata and delete. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "store/file/file.h"

/* ---- blob files ---- */

/* Opens the blob file at path, locks it (lockop 0: no lock) and stats it.
 * A name that is missing or not a regular file is AI_ERR_NOT_FOUND; a lock
 * another process holds for over AI_FILE_LOCK_WAIT_S is AI_ERR_LOCKED. */
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
			return ai_file_fail(AI_ERR_NOT_FOUND, name, "does not exist");
		return ai_file_sys_fail(name, "cannot open", errno);
	}
	/* Busy, not changed: a conflict would tell a conditional writer that
	 * another one got there first. */
	if (lockop && (rc = ai_file_lock(fd, lockop)) == EWOULDBLOCK)
		r = ai_file_fail(AI_ERR_LOCKED, name, "locked by another process for over %d s "
		                 "(a stopped one?)", AI_FILE_LOCK_WAIT_S);
	else if (lockop && rc != 0)
		r = ai_file_sys_fail(name, "cannot lock", rc);
	else if (fstat(fd, st) != 0)
		r = ai_file_sys_fail(name, "cannot stat", errno);
	else if (!S_ISREG(st->st_mode))
		r = ai_file_fail(AI_ERR_NOT_FOUND, name, "does not exist");
	if (r != AI_OK) {
		close(fd);
		return r;
	}
	*fdp = fd;
	return AI_OK;
}

/* Creates the directories between root (rootlen bytes of path) and path's
 * last component. */
static int make_parents(char *path, size_t rootlen)
{
	for (char *p = strchr(path + rootlen + 1, '/'); p; p = strchr(p + 1, '/')) {
		int rc = 0;

		*p = '\0';
		if (mkdir(path, 0777) == 0)
			rc = ai_file_fsync_parent(path);
		else if (errno != EEXIST)
			rc = errno;
		*p = '/';
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- commit: a finished temp file becomes a blob ---- */

static int etag_matches(const char *want, const char *etag);

/* For a replace while the blob has the ETag want: locks the blob now at
 * path (exclusively, as an append does; *lockfd stays open and locked
 * until the caller has renamed over it) and checks its ETag. Another
 * conditional writer that got there first has renamed its file over this
 * one, which the lock's holder sees as a changed inode at path. */
static ai_result lock_if_match(struct file_store *fs, const char *name, const char *path,
                               const char *want, int *lockfd)
{
	char etag[AI_ETAG_MAX];
	struct props p;
	struct stat st, now;
	ai_result r;

	*lockfd = -1;
	r = open_blob(name, path, O_RDONLY, LOCK_EX, lockfd, &st);
	if (r == AI_ERR_NOT_FOUND)
		return ai_file_fail(AI_ERR_CONFLICT, name, "removed by another writer since it "
		                    "was read");
	if (r != AI_OK)
		return r;
	if (lstat(path, &now) != 0 || now.st_ino != st.st_ino)
		return ai_file_fail(AI_ERR_CONFLICT, name, "replaced by another writer since it was "
		                    "read");
	r = ai_file_props_load(fs, name, st.st_ino, &p);
	if (r != AI_OK)
		return r;
	ai_file_etag(&st, &p, etag);
	if (!etag_matches(want, etag))
		return ai_file_fail(AI_ERR_CONFLICT, name, "replaced by another writer since it was "
		                    "read (etag %s, expected %.80s)", etag, want);
	return AI_OK;
}

ai_result ai_file_commit(struct file_store *fs, const char *name, int fd, char tmp[PATH_MAX],
                         enum ai_blob_type type, unsigned flags, const char *if_match,
                         const struct ai_meta *meta, char etag_out[AI_ETAG_MAX])
{
	char path[PATH_MAX];
	struct props p;
	struct stat st;
	ai_result r;
	int oldfd = -1, lockfd = -1, have_props = 0, rc = 0;

	memset(&st, 0, sizeof st);
	if (fsync(fd) != 0 || fstat(fd, &st) != 0) {
		r = ai_file_sys_fail(name, "cannot sync the new content", errno);
		goto out;
	}
	ai_file_props_default(&p);
	p.type = type;
	if (meta)
		p.meta = *meta;
	if ((r = ai_file_props_new_gen(name, &p)) != AI_OK ||
	    (r = ai_file_props_store(fs, name, st.st_ino, &p)) != AI_OK)
		goto out;
	have_props = 1;
	if ((r = ai_file_path(path, name, "%s/%s", fs->root, name)) != AI_OK)
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
			/* a conditional replace holds the blob it checked
			 * until it has renamed over it */
			if (if_match && lockfd < 0 &&
			    (r = lock_if_match(fs, name, path, if_match, &lockfd)) != AI_OK)
				goto out;
			rc = rename(tmp, path) == 0 ? 0 : errno;
		}
		if (rc != ENOENT)
			break;
	}
	if (rc == EEXIST) {
		r = ai_file_fail(AI_ERR_EXISTS, name, "already exists");
		goto out;
	}
	if (rc) {
		r = ai_file_sys_fail(name, "cannot put the blob in place", rc);
		goto out;
	}
	have_props = 0;
	if (!(flags & AI_PUT_CREATE_ONLY))
		tmp[0] = '\0';
	ai_file_tmp_drop(tmp);
	if ((rc = ai_file_fsync_parent(path)) != 0) {
		r = ai_file_sys_fail(name, "cannot sync its directory", rc);
		goto out;
	}
	ai_file_props_drop_stale(fs, oldfd, st.st_ino);
	if (etag_out)
		ai_file_etag(&st, &p, etag_out);
out:
	if (have_props)
		ai_file_props_remove(fs, st.st_ino);
	if (oldfd >= 0)
		close(oldfd);
	if (lockfd >= 0)
		close(lockfd);
	return r;
}

/* ---- put: one request, whole blob ---- */

ai_result ai_file_put(struct ai_store *s, const char *name, const void *p, size_t n,
                      unsigned flags, const char *if_match, const struct ai_meta *meta,
                      char etag_out[AI_ETAG_MAX])
{
	struct file_store *fs = (struct file_store *)s;
	enum ai_blob_type type = flags & AI_PUT_APPEND_BLOB ? AI_BLOB_APPEND : AI_BLOB_BLOCK;
	char tmp[PATH_MAX] = "";
	ai_result r;
	int fd = -1, sent = 0, rc;

	if ((r = ai_file_check_name(name)) != AI_OK ||
	    (r = ai_file_check_meta(name, meta)) != AI_OK)
		goto out;
	if (type == AI_BLOB_APPEND && n) {
		r = ai_file_fail(AI_ERR_BAD_INPUT, name, "an append blob is created empty");
		goto out;
	}
	sent = 1;
	if ((r = ai_file_tmp_create(fs, name, tmp, &fd)) != AI_OK)
		goto out;
	if (n && (rc = ai_file_write_all(fd, p, n, 0)) != 0) {
		r = ai_file_sys_fail(name, "cannot write", rc);
		goto out;
	}
	r = ai_file_commit(fs, name, fd, tmp, type, flags, if_match, meta, etag_out);
out:
	if (fd >= 0)
		close(fd);
	ai_file_tmp_drop(tmp);
	if (sent)
		ai_store_count(s, AI_REQ_PUT, 0, r == AI_OK ? n : 0);
	return r;
}

/* ---- append ---- */

ai_result ai_file_append(struct ai_store *s, const char *name, const void *p, size_t n,
                         uint64_t expected_pos)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX];
	struct props pr;
	struct stat st;
	ai_result r;
	int fd = -1, sent = 0, rc;

	if ((r = ai_file_check_name(name)) != AI_OK)
		goto out;
	if (n > BLOCK_SIZE_MAX) {
		r = ai_file_fail(AI_ERR_TOO_BIG, name, "append of %zu bytes is over 100 MiB", n);
		goto out;
	}
	sent = 1;
	if ((r = ai_file_path(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (r = open_blob(name, path, O_RDWR, LOCK_EX, &fd, &st)) != AI_OK ||
	    (r = ai_file_props_load(fs, name, st.st_ino, &pr)) != AI_OK)
		goto out;
	if (pr.type != AI_BLOB_APPEND) {
		r = ai_file_fail(AI_ERR_CONFLICT, name, "is not an append blob");
		goto out;
	}
	if (expected_pos != AI_APPEND_ANY && expected_pos != (uint64_t)st.st_size) {
		r = ai_file_fail(AI_ERR_CONFLICT, name,
		                 "append position %" PRIu64 " is not the size %" PRIu64,
		                 expected_pos, (uint64_t)st.st_size);
		goto out;
	}
	if ((n && (rc = ai_file_write_all(fd, p, n, st.st_size)) != 0) ||
	    (fsync(fd) != 0 && (rc = errno))) {
		r = ai_file_sys_fail(name, "cannot append", rc);
		/* leave no partial block behind, as Azure would not */
		if (ftruncate(fd, st.st_size) != 0)
			r = ai_file_sys_fail(name, "cannot undo a partial append", errno);
	}
out:
	if (fd >= 0)
		close(fd);
	if (sent)
		ai_store_count(s, AI_REQ_APPEND, 0, r == AI_OK ? n : 0);
	return r;
}

/* ---- read and properties ---- */

/* Opens the blob name for reading with its sidecar and, when ls is not
 * NULL, its lease state; *fdp is for the caller to close, on failure too.
 * The lease is read without a lock (lease.c); the shared lock on the blob
 * keeps an append from landing halfway through. */
static ai_result open_reading(struct file_store *fs, const char *name, enum ai_lease_state *ls,
                              int *fdp, struct stat *st, struct props *p)
{
	char path[PATH_MAX];
	ai_result r;

	if ((r = ai_file_path(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (ls && (r = ai_file_lease_state(fs, name, ls)) != AI_OK) ||
	    (r = open_blob(name, path, O_RDONLY, LOCK_SH, fdp, st)) != AI_OK)
		return r;
	return ai_file_props_load(fs, name, st->st_ino, p);
}

static int etag_matches(const char *want, const char *etag)
{
	size_t n = strlen(want);

	if (strcmp(want, "*") == 0)
		return 1;
	if (n >= 2 && want[0] == '"' && want[n - 1] == '"')
		return strlen(etag) == n - 2 && strncmp(want + 1, etag, n - 2) == 0;
	return strcmp(want, etag) == 0;
}

ai_result ai_file_read(struct ai_store *s, const char *name, uint64_t offset, uint64_t len,
                       const char *if_match, struct ai_buf *out, struct ai_blob_info *info)
{
	struct file_store *fs = (struct file_store *)s;
	char etag[AI_ETAG_MAX];
	enum ai_lease_state ls = AI_LEASE_AVAILABLE;
	struct props p;
	struct stat st;
	uint64_t size, n = 0;
	size_t got;
	ai_result r;
	int fd = -1, sent = 0, rc;

	if (info)
		memset(info, 0, sizeof *info);
	if ((r = ai_file_check_name(name)) != AI_OK)
		goto out;
	sent = 1;
	if ((r = open_reading(fs, name, info ? &ls : NULL, &fd, &st, &p)) != AI_OK)
		goto out;
	ai_file_etag(&st, &p, etag);
	if (if_match && !etag_matches(if_match, etag)) {
		r = ai_file_fail(AI_ERR_CONFLICT, name, "changed (etag %s, expected %.80s)", etag,
		                 if_match);
		goto out;
	}
	size = (uint64_t)st.st_size;
	if (offset >= size && !(offset == 0 && size == 0)) {
		r = ai_file_fail(AI_ERR_BAD_INPUT, name,
		                 "range start %" PRIu64 " is past the size %" PRIu64, offset, size);
		goto out;
	}
	n = len == 0 || len > size - offset ? size - offset : len;
	r = n > SIZE_MAX / 2 ? AI_ERR_TOO_BIG : ai_buf_reserve(out, (size_t)n);
	if (r != AI_OK) {
		r = ai_file_fail(r, name, "%" PRIu64 " bytes do not fit the buffer", n);
		goto out;
	}
	rc = ai_file_read_all(fd, out->data + out->len, (size_t)n, (off_t)offset, &got);
	if (rc != 0) {
		r = ai_file_sys_fail(name, "cannot read", rc);
		goto out;
	}
	if (got != n) {
		r = ai_file_fail(AI_ERR_IO, name, "shrank while being read");
		goto out;
	}
	out->len += got;
	out->data[out->len] = '\0';
	if (info)
		r = ai_file_fill_info(name, &st, &p, ls, info);
out:
	if (fd >= 0)
		close(fd);
	if (r != AI_OK)
		ai_blob_info_release(info);
	if (sent)
		ai_store_count(s, AI_REQ_GET, r == AI_OK ? n : 0, 0);
	return r;
}

ai_result ai_file_props(struct ai_store *s, const char *name, struct ai_blob_info *info,
                        struct ai_meta *meta)
{
	struct file_store *fs = (struct file_store *)s;
	enum ai_lease_state ls = AI_LEASE_AVAILABLE;
	struct props p;
	struct stat st;
	ai_result r;
	int fd = -1, sent = 0;

	memset(info, 0, sizeof *info);
	if (meta)
		memset(meta, 0, sizeof *meta);
	if ((r = ai_file_check_name(name)) != AI_OK)
		goto out;
	sent = 1;
	if ((r = open_reading(fs, name, &ls, &fd, &st, &p)) != AI_OK ||
	    (r = ai_file_fill_info(name, &st, &p, ls, info)) != AI_OK)
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

ai_result ai_file_set_metadata(struct ai_store *s, const char *name,
                               const struct ai_meta *meta, const char *lease_id)
{
	struct file_store *fs = (struct file_store *)s;
	static const struct timespec now2[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	char path[PATH_MAX];
	struct props p;
	struct stat st;
	ai_result r;
	int fd = -1, sent = 0;

	if ((r = ai_file_check_name(name)) != AI_OK ||
	    (r = ai_file_check_meta(name, meta)) != AI_OK)
		goto out;
	sent = 1;
	if ((r = ai_file_path(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (r = ai_file_lease_guard(fs, name, lease_id)) != AI_OK ||
	    (r = open_blob(name, path, O_RDONLY, LOCK_EX, &fd, &st)) != AI_OK ||
	    (r = ai_file_props_load(fs, name, st.st_ino, &p)) != AI_OK)
		goto out;
	memset(&p.meta, 0, sizeof p.meta);
	if (meta)
		p.meta = *meta;
	if ((r = ai_file_props_new_gen(name, &p)) != AI_OK ||
	    (r = ai_file_props_store(fs, name, st.st_ino, &p)) != AI_OK)
		goto out;
	/* Azure moves Last-Modified on a metadata change */
	if (futimens(fd, now2) != 0)
		r = ai_file_sys_fail(name, "cannot touch", errno);
out:
	if (fd >= 0)
		close(fd);
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

ai_result ai_file_delete(struct ai_store *s, const char *name)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX];
	struct stat st;
	ai_result r;
	int fd = -1, sent = 0, rc;

	if ((r = ai_file_check_name(name)) != AI_OK)
		goto out;
	sent = 1;
	if ((r = ai_file_state_ready(fs)) != AI_OK ||
	    (r = ai_file_path(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (r = open_blob(name, path, O_RDONLY, 0, &fd, &st)) != AI_OK ||
	    (r = ai_file_lease_guard(fs, name, NULL)) != AI_OK)
		goto out;
	if (unlink(path) != 0) {
		r = ai_file_sys_fail(name, "cannot delete", errno);
		goto out;
	}
	ai_file_props_drop_stale(fs, fd, 0);
	ai_file_blocks_drop(fs, name);
	if ((r = ai_file_lease_drop(fs, name)) != AI_OK)
		goto out;
	if ((rc = ai_file_fsync_parent(path)) != 0) {
		r = ai_file_sys_fail(name, "cannot sync its directory", rc);
		goto out;
	}
	prune_dirs(path, strlen(fs->root));
out:
	if (fd >= 0)
		close(fd);
	if (sent)
		ai_store_count(s, AI_REQ_OTHER, 0, 0);
	return r;
}
