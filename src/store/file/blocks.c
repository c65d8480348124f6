/* file/blocks.c: staged blocks in blocks/<key>/, one file per block id,
 * and the commit that joins them in order into a block blob. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/crypto.h"
#include "util/hex.h"
#include "store/file/file.h"

#define BLOCKS_MAX 50000
#define COPY_CHUNK (64u << 10)

static ai_result check_block_id(const char *name, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > BLOCK_ID_MAX || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                         "abcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
		return ai_file_fail(AI_ERR_BAD_INPUT, name,
		                    "block id '%.100s' is not base64 of 1..64 bytes",
		                    id ? id : "");
	return AI_OK;
}

static ai_result block_path(struct file_store *fs, const char *name, const char *id,
                            char path[PATH_MAX])
{
	char dir[PATH_MAX], hex[2 * BLOCK_ID_MAX + 1];
	ai_result r = ai_file_state_path(fs, name, "blocks", dir);

	if (r != AI_OK)
		return r;
	ai_hex((const uint8_t *)id, strlen(id), hex);
	return ai_file_path(path, name, "%s/%s", dir, hex);
}

/* Removes the staged blocks of name after a commit. What is left when this
 * fails is garbage the next commit or delete of the name removes, so the
 * commit still succeeds. */
void ai_file_blocks_drop(struct file_store *fs, const char *name)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (ai_file_state_path(fs, name, "blocks", dir) != AI_OK)
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

ai_result ai_file_put_block(struct ai_store *s, const char *name, const char *block_id,
                            const void *p, size_t n)
{
	struct file_store *fs = (struct file_store *)s;
	char tmp[PATH_MAX] = "", dir[PATH_MAX], path[PATH_MAX];
	ai_result r;
	int fd = -1, sent = 0, rc = 0;

	if ((r = ai_file_check_name(name)) != AI_OK ||
	    (r = check_block_id(name, block_id)) != AI_OK)
		goto out;
	if (n > BLOCK_SIZE_MAX) {
		r = ai_file_fail(AI_ERR_TOO_BIG, name, "block of %zu bytes is over 100 MiB", n);
		goto out;
	}
	sent = 1;
	if ((r = ai_file_state_path(fs, name, "blocks", dir)) != AI_OK ||
	    (r = block_path(fs, name, block_id, path)) != AI_OK ||
	    (r = ai_file_tmp_create(fs, name, tmp, &fd)) != AI_OK)
		goto out;
	if ((n && (rc = ai_file_write_all(fd, p, n, 0)) != 0) || (fsync(fd) != 0 && (rc = errno))) {
		r = ai_file_sys_fail(name, "cannot write a block", rc);
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
		r = ai_file_sys_fail(name, "cannot stage a block", rc);
		goto out;
	}
	tmp[0] = '\0';
out:
	if (fd >= 0)
		close(fd);
	ai_file_tmp_drop(tmp);
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
	in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (in < 0) {
		r = errno == ENOENT ?
		    ai_file_fail(AI_ERR_BAD_INPUT, name, "unknown block id '%s'", id) :
		    ai_file_sys_fail(name, "cannot open a staged block", errno);
		goto out;
	}
	for (off_t pos = 0;; pos += (off_t)got) {
		if ((rc = ai_file_read_all(in, buf, COPY_CHUNK, pos, &got)) != 0) {
			r = ai_file_sys_fail(name, "cannot read a staged block", rc);
			goto out;
		}
		if (got == 0)
			break;
		if ((rc = ai_file_write_all(fd, buf, got, *off)) != 0) {
			r = ai_file_sys_fail(name, "cannot write", rc);
			goto out;
		}
		*off += (off_t)got;
	}
out:
	if (in >= 0)
		close(in);
	return r;
}

ai_result ai_file_put_block_list(struct ai_store *s, const char *name,
                                 const char *const *ids, size_t n, unsigned flags,
                                 const struct ai_meta *meta, char etag_out[AI_ETAG_MAX])
{
	struct file_store *fs = (struct file_store *)s;
	char tmp[PATH_MAX] = "", *buf = NULL;
	off_t off = 0;
	ai_result r;
	int fd = -1, sent = 0;

	if ((r = ai_file_check_name(name)) != AI_OK ||
	    (r = ai_file_check_meta(name, meta)) != AI_OK)
		goto out;
	if (flags & AI_PUT_APPEND_BLOB) {
		r = ai_file_fail(AI_ERR_BAD_INPUT, name, "a block list makes a block blob");
		goto out;
	}
	if (n > BLOCKS_MAX) {
		r = ai_file_fail(AI_ERR_BAD_INPUT, name, "more than %d blocks", BLOCKS_MAX);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = check_block_id(name, ids[i])) != AI_OK)
			goto out;
	sent = 1;
	buf = malloc(COPY_CHUNK);
	if (!buf) {
		r = ai_file_fail(AI_ERR_NOMEM, name, "out of memory");
		goto out;
	}
	if ((r = ai_file_tmp_create(fs, name, tmp, &fd)) != AI_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r = block_copy(fs, name, ids[i], fd, &off, buf)) != AI_OK)
			goto out;
	if ((r = ai_file_commit(fs, name, fd, tmp, AI_BLOB_BLOCK, flags, NULL, meta, etag_out)) != AI_OK)
		goto out;
	ai_file_blocks_drop(fs, name);
out:
	if (fd >= 0)
		close(fd);
	ai_file_tmp_drop(tmp);
	free(buf);
	if (sent)
		ai_store_count(s, AI_REQ_COMMIT, 0, 0);
	return r;
}
