/* file/props.c: the props/ sidecar of each blob file (type, ETag
 * generation, metadata) and the ETag and properties a blob shows. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/crypto.h"
#include "util/hex.h"
#include "store/file/file.h"

#define PROPS_TEXT_MAX 8192

void ai_file_props_default(struct props *p)
{
	memset(p, 0, sizeof *p);
	p->type = AI_BLOB_BLOCK;
	strcpy(p->gen, "0");
}

ai_result ai_file_props_new_gen(const char *name, struct props *p)
{
	uint8_t rnd[8];
	ai_result r = ai_random(rnd, sizeof rnd);

	if (r != AI_OK)
		return ai_file_fail(r, name, "no random bytes for an etag");
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
	return ai_file_fail(AI_ERR_IO, name, "its properties file is damaged");
}

/* Loads the sidecar of the blob file with inode ino; a blob without one
 * (put there by hand) is a block blob without metadata. */
ai_result ai_file_props_load(struct file_store *fs, const char *name, ino_t ino,
                             struct props *p)
{
	char path[PATH_MAX], text[PROPS_TEXT_MAX + 1];
	size_t got = 0;
	ai_result r;
	int fd = -1, rc;

	ai_file_props_default(p);
	if ((r = ai_file_path(path, name, "%s/" STATE_DIR "/props/%" PRIx64, fs->root,
	                      (uint64_t)ino)) != AI_OK)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			r = ai_file_sys_fail(name, "cannot open its properties", errno);
		goto out;
	}
	if ((rc = ai_file_read_all(fd, text, sizeof text - 1, 0, &got)) != 0) {
		r = ai_file_sys_fail(name, "cannot read its properties", rc);
		goto out;
	}
	if (got == sizeof text - 1) {
		r = ai_file_fail(AI_ERR_IO, name, "its properties file is too big");
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
ai_result ai_file_props_store(struct file_store *fs, const char *name, ino_t ino,
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
		return ai_file_fail(AI_ERR_INTERNAL, name, "properties do not fit %d bytes",
		                    PROPS_TEXT_MAX);
	if ((r = ai_file_path(path, name, "%s/" STATE_DIR "/props/%" PRIx64, fs->root,
	                      (uint64_t)ino)) != AI_OK)
		goto out;
	if ((r = ai_file_tmp_create(fs, name, tmp, &fd)) != AI_OK)
		goto out;
	if ((rc = ai_file_write_all(fd, text, len, 0)) != 0 || (fsync(fd) != 0 && (rc = errno))) {
		r = ai_file_sys_fail(name, "cannot write its properties", rc);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		r = ai_file_sys_fail(name, "cannot store its properties", errno);
		goto out;
	}
	tmp[0] = '\0';
	if ((rc = ai_file_fsync_parent(path)) != 0)
		r = ai_file_sys_fail(name, "cannot sync its properties", rc);
out:
	if (fd >= 0)
		close(fd);
	ai_file_tmp_drop(tmp);
	return r;
}

/* Drops the sidecar of a blob file that is gone. Only garbage is left
 * when this fails, so the failure is not reported. */
void ai_file_props_remove(struct file_store *fs, ino_t ino)
{
	char path[PATH_MAX];

	if (ai_file_path(path, "", "%s/" STATE_DIR "/props/%" PRIx64, fs->root,
	                 (uint64_t)ino) == AI_OK && unlink(path) != 0 && errno != ENOENT) {
		/* garbage in props/ only */
	}
}

/* oldfd holds a blob file that was just replaced or deleted: while it is
 * open its inode cannot be reused, so its sidecar is surely stale. */
void ai_file_props_drop_stale(struct file_store *fs, int oldfd, ino_t keep)
{
	struct stat st;

	if (oldfd >= 0 && fstat(oldfd, &st) == 0 && st.st_nlink == 0 && st.st_ino != keep)
		ai_file_props_remove(fs, st.st_ino);
}

/* ---- what a blob shows: ETag, properties ---- */

void ai_file_etag(const struct stat *st, const struct props *p, char out[AI_ETAG_MAX])
{
	snprintf(out, AI_ETAG_MAX, "0x%" PRIx64 "-%" PRIx64 "-%" PRIx64 "-%s",
	         (uint64_t)st->st_ino, (uint64_t)st->st_size, (uint64_t)ai_file_mtime(st), p->gen);
}

ai_result ai_file_fill_info(const char *name, const struct stat *st, const struct props *p,
                            enum ai_lease_state lease, struct ai_blob_info *info)
{
	memset(info, 0, sizeof *info);
	info->name = strdup(name);
	if (!info->name)
		return ai_file_fail(AI_ERR_NOMEM, name, "out of memory");
	info->size = (uint64_t)st->st_size;
	ai_file_etag(st, p, info->etag);
	info->last_modified = ai_file_mtime(st);
	info->type = p->type;
	info->lease = lease;
	return AI_OK;
}
