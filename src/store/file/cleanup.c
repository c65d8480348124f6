/* file/cleanup.c: what writers that crashed left in the state directory:
 * temporary files and staged blocks, removed once they are old. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "store/file/file.h"

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
		    !S_ISREG(st.st_mode) || ai_file_mtime(&st) >= before)
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
ai_result ai_file_cleanup(struct ai_store *s, ai_time before, int dry_run,
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
		if (!dry_run && ai_file_mtime(&st) < before &&
		    unlinkat(bfd, de->d_name, AT_REMOVEDIR) != 0) {
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
