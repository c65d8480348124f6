/* file/file.h: what the parts of the local-directory backend share; only
 * the files in src/store/file/ include this.
 *
 * The backend (file:///abs/dir) keeps the semantics of Azure Blob Storage
 * so that commands and tests cannot tell the two apart: create-only
 * writes, staged blocks, append blobs with a position check, leases,
 * metadata, ETags and paged listings.
 *
 * Layout: the blob "a/b/c.gz" is the file <root>/a/b/c.gz. The backend's own
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
 *   leases/<key>/  the lease on one name: its generations, the newest current
 *
 * Unlike Azure, a name cannot be both a blob and a directory: with a blob
 * "a", a write of "a/b" fails with AI_ERR_CONFLICT.
 *
 * Leases guard each other, set_metadata and delete. The store API carries
 * no lease id on put, append or block writes, so unlike Azure (which answers
 * 412 to a Put Blob on a leased blob without the lease id) those writes go
 * through here: a lease is a lock between lease holders, not a write guard.
 *
 * Every ai_result helper below records its failure as the thread's last
 * error (ai_store_set_error), so callers only pass the result on. */
#ifndef AI_STORE_FILE_H
#define AI_STORE_FILE_H

#include <limits.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "store/backend.h"

#define STATE_DIR ".aiarchive-store"
#define NAME_LEN_MAX 1024           /* Azure's limit on blob names */
#define BLOCK_ID_MAX 88             /* base64 of Azure's 64-byte limit */
#define BLOCK_SIZE_MAX (100u << 20)

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

/* ---- common.c: errors, paths, clock, file I/O, names, state ---- */

/* Records "blob 'name': <message>" as the last error and returns r. */
ai_result ai_file_fail(ai_result r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))) AI_MUST_CHECK;
/* A failed system call on blob name: what was tried and why (errno e). */
ai_result ai_file_sys_fail(const char *name, const char *what, int e) AI_MUST_CHECK;
/* The same for the location as a whole ("container '...'"). */
ai_result ai_file_container_fail(const struct file_store *fs, const char *what,
                                 int e) AI_MUST_CHECK;
/* Formats a path into out; AI_ERR_BAD_INPUT when it does not fit. */
ai_result ai_file_path(char out[PATH_MAX], const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))) AI_MUST_CHECK;
/* The store's clock (the configured one, or the real time). */
ai_time ai_file_now(const struct file_store *fs);
ai_time ai_file_mtime(const struct stat *st);

/* These return 0 or an errno value. */
int ai_file_write_all(int fd, const void *p, size_t n, off_t off);
/* Reads up to n bytes at off; *got is short only at the end of the file. */
int ai_file_read_all(int fd, void *p, size_t n, off_t off, size_t *got);
/* flock(2), again after a signal, waiting at most AI_FILE_LOCK_WAIT_S
 * seconds (then EWOULDBLOCK: the holder may be a stopped process). */
#define AI_FILE_LOCK_WAIT_S 30
int ai_file_lock(int fd, int op);
/* fsyncs the directory holding path, so a new or renamed entry survives a
 * crash. */
int ai_file_fsync_parent(const char *path);

/* Refuses names Azure would refuse and names that could leave the root or
 * reach the state directory. */
ai_result ai_file_check_name(const char *name) AI_MUST_CHECK;
/* Refuses metadata Azure would refuse (m may be NULL). */
ai_result ai_file_check_meta(const char *name, const struct ai_meta *m) AI_MUST_CHECK;
/* Creates the state directories once. */
ai_result ai_file_state_ready(struct file_store *fs) AI_MUST_CHECK;
/* The path of name's entry in the state subdirectory sub ("blocks",
 * "leases"), named by a hash of name. */
ai_result ai_file_state_path(struct file_store *fs, const char *name, const char *sub,
                             char path[PATH_MAX]) AI_MUST_CHECK;
/* Creates a new empty file in tmp/; path receives its name and *fdp the
 * descriptor, which the caller closes. */
ai_result ai_file_tmp_create(struct file_store *fs, const char *name, char path[PATH_MAX],
                             int *fdp) AI_MUST_CHECK;
/* Removes the temporary file path names, if any, and empties path. */
void ai_file_tmp_drop(char path[PATH_MAX]);

/* ---- props.c: the props/ sidecars and what they give a blob ---- */

/* A block blob without metadata, of generation "0". */
void ai_file_props_default(struct props *p);
/* A fresh random generation: the next ETag differs. */
ai_result ai_file_props_new_gen(const char *name, struct props *p) AI_MUST_CHECK;
/* Loads the sidecar of the blob file with inode ino. */
ai_result ai_file_props_load(struct file_store *fs, const char *name, ino_t ino,
                             struct props *p) AI_MUST_CHECK;
/* Writes the sidecar of inode ino atomically. */
ai_result ai_file_props_store(struct file_store *fs, const char *name, ino_t ino,
                              const struct props *p) AI_MUST_CHECK;
/* Drops the sidecar of inode ino; a failure leaves only garbage. */
void ai_file_props_remove(struct file_store *fs, ino_t ino);
/* Drops the sidecar of the replaced or deleted blob file oldfd (may be
 * -1) unless its inode is keep. */
void ai_file_props_drop_stale(struct file_store *fs, int oldfd, ino_t keep);
/* The ETag of the blob file st with sidecar p. */
void ai_file_etag(const struct stat *st, const struct props *p, char out[AI_ETAG_MAX]);
/* Fills info (its name is a copy the caller releases). */
ai_result ai_file_fill_info(const char *name, const struct stat *st, const struct props *p,
                            enum ai_lease_state lease, struct ai_blob_info *info) AI_MUST_CHECK;

/* ---- lease.c: the leases/ files ---- */

/* Removes the lease of name (all its generations). */
ai_result ai_file_lease_drop(struct file_store *fs, const char *name) AI_MUST_CHECK;
/* The lease state of name for blob properties. */
ai_result ai_file_lease_state(struct file_store *fs, const char *name,
                              enum ai_lease_state *out) AI_MUST_CHECK;
/* Checks a lease-guarded operation against the current lease of name: an
 * active lease needs its id, and an id an active lease. */
ai_result ai_file_lease_guard(struct file_store *fs, const char *name,
                              const char *lease_id) AI_MUST_CHECK;

/* ---- object.c and blocks.c: writing blobs ---- */

/* Makes the finished temp file tmp (open as fd) the blob name; tmp[0] is
 * '\0' once the temp name is gone. With if_match (may be NULL), a replace
 * first locks the blob there and checks that it has that ETag
 * (AI_ERR_CONFLICT if not, or if it is gone; AI_ERR_LOCKED if another
 * process holds that lock too long), and renames over it under that lock. */
ai_result ai_file_commit(struct file_store *fs, const char *name, int fd, char tmp[PATH_MAX],
                         enum ai_blob_type type, unsigned flags, const char *if_match,
                         const struct ai_meta *meta, char etag_out[AI_ETAG_MAX]) AI_MUST_CHECK;
/* Removes the staged blocks of name; a failure leaves only garbage. */
void ai_file_blocks_drop(struct file_store *fs, const char *name);

/* ---- the backend's operations (struct ai_store_ops), by file ---- */

/* object.c */
ai_result ai_file_read(struct ai_store *s, const char *name, uint64_t offset, uint64_t len,
                       const char *if_match, struct ai_buf *out, struct ai_blob_info *info);
ai_result ai_file_put(struct ai_store *s, const char *name, const void *p, size_t n,
                      unsigned flags, const char *if_match, const struct ai_meta *meta,
                      char etag_out[AI_ETAG_MAX]);
ai_result ai_file_append(struct ai_store *s, const char *name, const void *p, size_t n,
                         uint64_t expected_pos);
ai_result ai_file_props(struct ai_store *s, const char *name, struct ai_blob_info *info,
                        struct ai_meta *meta);
ai_result ai_file_set_metadata(struct ai_store *s, const char *name,
                               const struct ai_meta *meta, const char *lease_id);
ai_result ai_file_delete(struct ai_store *s, const char *name);
/* blocks.c */
ai_result ai_file_put_block(struct ai_store *s, const char *name, const char *block_id,
                            const void *p, size_t n);
ai_result ai_file_put_block_list(struct ai_store *s, const char *name,
                                 const char *const *ids, size_t n, unsigned flags,
                                 const struct ai_meta *meta, char etag_out[AI_ETAG_MAX]);
/* lease.c */
ai_result ai_file_lease(struct ai_store *s, const char *name, enum ai_lease_action action,
                        int duration_s, char lease_id[AI_LEASE_ID_MAX]);
/* list.c */
ai_result ai_file_list(struct ai_store *s, const char *prefix, const char *delimiter,
                       const char *marker, unsigned max, struct ai_blob_list *out);
/* cleanup.c */
ai_result ai_file_cleanup(struct ai_store *s, ai_time before, int dry_run,
                          struct ai_store_cleanup *out);

#endif
