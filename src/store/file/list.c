/* file/list.c: lists the directory as Azure lists a container: a sorted
 * walk in byte order, rolled up at a delimiter, paged with a marker. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store/file/file.h"
#include "util/alloc.h"

#define LIST_MAX 5000

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
		return ai_file_fail(AI_ERR_NOMEM, key, "out of memory");
	free(w->last);
	w->last = copy;
	*room = 1;
	return AI_OK;
}

/* Room for element n of *p, or an out-of-memory failure naming name. */
static ai_result grow(void *p, size_t *cap, size_t n, size_t size, const char *name)
{
	if (ai_grow(p, cap, n + 1, size) != AI_OK)
		return ai_file_fail(AI_ERR_NOMEM, name, "out of memory");
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
	if ((r = grow(&out->prefixes, &w->cap_prefixes, out->nprefixes,
	              sizeof *out->prefixes, p)) != AI_OK)
		return r;
	out->prefixes[out->nprefixes] = strndup(p, n);
	if (!out->prefixes[out->nprefixes])
		return ai_file_fail(AI_ERR_NOMEM, p, "out of memory");
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
		return ai_file_sys_fail(w->name, "cannot stat", errno);
	}
	if (!S_ISREG(st.st_mode))
		return AI_OK;
	if ((r = take(w, w->name, &room)) != AI_OK || !room)
		return r;
	if ((r = ai_file_props_load(w->fs, w->name, st.st_ino, &p)) != AI_OK ||
	    (r = ai_file_lease_state(w->fs, w->name, &ls)) != AI_OK ||
	    (r = grow(&out->blobs, &w->cap_blobs, out->n, sizeof *out->blobs,
	              w->name)) != AI_OK ||
	    (r = ai_file_fill_info(w->name, &st, &p, ls, &out->blobs[out->n])) != AI_OK)
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
		return errno == ENOENT ? AI_OK :
		       ai_file_sys_fail(name, "cannot open the directory", errno);
	d = fdopendir(fd);
	if (!d) {
		r = ai_file_sys_fail(name, "cannot read the directory", errno);
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
			       ai_file_sys_fail(k, "cannot open the directory", errno);
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
		r = ai_file_sys_fail(w->name, "cannot read the directory", errno);
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
		if ((r = grow(&ents, &cap, n, sizeof *ents, w->name)) != AI_OK)
			goto out;
		ents[n].len = strlen(de->d_name);
		ents[n].is_dir = is_dir;
		ents[n].name = strdup(de->d_name);
		if (!ents[n].name) {
			r = ai_file_fail(AI_ERR_NOMEM, w->name, "out of memory");
			goto out;
		}
		n++;
	}
	if (errno) {
		r = ai_file_sys_fail(w->name, "cannot read the directory", errno);
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

ai_result ai_file_list(struct ai_store *s, const char *prefix, const char *delimiter,
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
		r = ai_file_container_fail(fs, errno == ENOENT ? "does not exist" : "cannot open",
		                           errno);
	else
		r = walk_dir(&w, fd, 0);
	free(w.last);
	if (r != AI_OK)
		ai_blob_list_release(out);
	ai_store_count(s, AI_REQ_LIST, 0, 0);
	return r;
}
