/* regfile.h: local files named by a path the operator (or a cache) gives:
 * reading one that must be a regular file, without blocking on a FIFO or
 * following a planted symbolic link, and replacing one through a fresh
 * temporary name, so a link planted at that name is never written through. */
#ifndef AI_REGFILE_H
#define AI_REGFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/result.h"

enum {
	/* Follow a symbolic link as the last component (the config file);
	 * without it such a link is refused. */
	AI_REGFILE_FOLLOW = 1u << 0,
	/* A secret: refused when group or others may read or write it, and
	 * read into memory reserved at once, so no copy is left in a freed
	 * block (the caller wipes out->data, out->alloc bytes, when done). */
	AI_REGFILE_SECRET = 1u << 1,
};

/* Appends the whole content of path to out (at most out->max bytes in
 * all). The file is opened with O_NOFOLLOW (unless AI_REGFILE_FOLLOW) and
 * O_NONBLOCK, so neither a link nor a FIFO, socket or device is opened or
 * waited on: only a regular file is read. Results: AI_ERR_NOT_FOUND when
 * path does not exist, AI_ERR_CONFIG when it is refused (a symbolic link,
 * not a regular file, a secret others may read) or this user may not read
 * it (why names the owner, the user and the chown to run), AI_ERR_TOO_BIG, AI_ERR_IO
 * (any other error, errno kept). why gets one lowercase phrase for the
 * message "WHAT 'PATH': WHY" (which the caller prints); it may name the
 * link's target and the chmod to run, never the content. */
ai_result ai_regfile_read(const char *path, unsigned flags, struct ai_buf *out, char *why,
                          size_t whycap) AI_MUST_CHECK;

/* Creates a new file next to path, PATH.tmp.<16 random hex digits>, with
 * O_CREAT|O_EXCL|O_NOFOLLOW (so nothing that exists, a symbolic link
 * included, is opened) and mode (less the umask). tmp (cap bytes) gets its
 * name and *fd the descriptor (the caller closes it, then renames tmp over
 * path or unlinks it). AI_ERR_IO with errno set on failure. */
ai_result ai_regfile_tmp_create(const char *path, mode_t mode, char *tmp, size_t cap,
                                int *fd) AI_MUST_CHECK;

/* Replaces path with the n bytes at p, atomically for readers: a temporary
 * file as ai_regfile_tmp_create makes it, written, closed, renamed over
 * path (rename replaces a link at path, never its target). On failure
 * nothing is left behind and errno tells why. */
ai_result ai_regfile_replace(const char *path, const void *p, size_t n, mode_t mode) AI_MUST_CHECK;

#endif
