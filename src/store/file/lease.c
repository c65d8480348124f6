/* file/lease.c: leases on names, kept in the leases/ files: Azure's lease
 * state table, and the guard that set_metadata and delete pass. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>
#include "util/crypto.h"
#include "util/hex.h"
#include "store/file/file.h"

#define LEASE_TEXT_MAX 256

/* What the leases/ file of one name holds. */
struct lease {
	char id[AI_LEASE_ID_MAX];   /* "" when there is no lease */
	ai_time expires;            /* AI_TIME_MAX for an infinite lease */
	int breaking;
	ai_time broken_at;          /* when breaking, the end of the break period */
	int duration;               /* seconds, -1 for infinite */
};

/* Opens and locks the lease file of name. Without create, a missing file
 * gives *fdp == -1 (no lease). Relocks when the file was unlinked between
 * open and lock, so every holder locks the file that is in place. */
ai_result ai_file_lease_lock(struct file_store *fs, const char *name, int create, int lockop,
                             int *fdp)
{
	char path[PATH_MAX];
	struct stat a, b;
	ai_result r;
	int fd, rc;

	*fdp = -1;
	if ((r = ai_file_state_path(fs, name, "leases", path)) != AI_OK)
		return r;
	for (int tries = 0; tries < 100; tries++) {
		fd = open(path, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		          0666);
		if (fd < 0) {
			if (!create && errno == ENOENT)
				return AI_OK;
			return ai_file_sys_fail(name, "cannot open its lease", errno);
		}
		if ((rc = ai_file_lock(fd, lockop)) != 0 || (fstat(fd, &a) != 0 && (rc = errno))) {
			close(fd);
			return ai_file_sys_fail(name, "cannot lock its lease", rc);
		}
		if (stat(path, &b) == 0 && a.st_ino == b.st_ino) {
			*fdp = fd;
			return AI_OK;
		}
		close(fd);
	}
	return ai_file_fail(AI_ERR_IO, name, "its lease file keeps changing");
}

/* Removes the locked lease file of name (the lock is still held). */
ai_result ai_file_lease_unlink(struct file_store *fs, const char *name)
{
	char path[PATH_MAX];
	ai_result r;

	if ((r = ai_file_state_path(fs, name, "leases", path)) != AI_OK)
		return r;
	if (unlink(path) != 0 && errno != ENOENT)
		return ai_file_sys_fail(name, "cannot remove its lease", errno);
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
	if ((rc = ai_file_read_all(fd, text, LEASE_TEXT_MAX, 0, &got)) != 0)
		return ai_file_sys_fail(name, "cannot read its lease", rc);
	text[got] = '\0';
	if (got == 0)
		return AI_OK;
	if (sscanf(text, "v1 %39s %" SCNd64 " %d %" SCNd64 " %d", l->id, &l->expires,
	           &l->breaking, &l->broken_at, &l->duration) != 5) {
		memset(l, 0, sizeof *l);
		return ai_file_fail(AI_ERR_IO, name, "its lease file is damaged");
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
	if ((len && (rc = ai_file_write_all(fd, text, (size_t)len, 0)) != 0) ||
	    (ftruncate(fd, len) != 0 && (rc = errno)) || (fsync(fd) != 0 && (rc = errno)))
		return ai_file_sys_fail(name, "cannot write its lease", rc);
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
ai_result ai_file_lease_state(struct file_store *fs, const char *name,
                              enum ai_lease_state *out)
{
	struct lease l;
	ai_result r;
	int fd = -1;

	*out = AI_LEASE_AVAILABLE;
	if ((r = ai_file_lease_lock(fs, name, 0, LOCK_SH, &fd)) == AI_OK &&
	    (r = lease_read(fd, name, &l)) == AI_OK)
		*out = lease_state(&l, ai_file_now(fs));
	if (fd >= 0)
		close(fd);
	return r;
}

static ai_result check_lease_id(const char *name, const char *id)
{
	size_t n = strlen(id);

	if (n >= AI_LEASE_ID_MAX || strspn(id, "0123456789abcdefABCDEF-") != n)
		return ai_file_fail(AI_ERR_BAD_INPUT, name, "lease id '%.40s' is not a GUID", id);
	return AI_OK;
}

static ai_result new_lease_id(const char *name, char id[AI_LEASE_ID_MAX])
{
	uint8_t b[16];
	char h[33];
	ai_result r = ai_random(b, sizeof b);

	if (r != AI_OK)
		return ai_file_fail(r, name, "no random bytes for a lease id");
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
ai_result ai_file_lease_guard(struct file_store *fs, int fd, const char *name,
                              const char *lease_id)
{
	struct lease l;
	enum ai_lease_state st;
	ai_result r = lease_read(fd, name, &l);

	if (r != AI_OK)
		return r;
	st = lease_state(&l, ai_file_now(fs));
	if (lease_active(st) && (!lease_id || strcasecmp(lease_id, l.id) != 0))
		return ai_file_fail(AI_ERR_CONFLICT, name,
		                    "has an active lease and %s lease id was given",
		                    lease_id ? "a different" : "no");
	if (!lease_active(st) && lease_id)
		return ai_file_fail(AI_ERR_CONFLICT, name, "has no active lease");
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
			return ai_file_fail(AI_ERR_CONFLICT, name, "is already leased");
		memset(l, 0, sizeof *l);
		snprintf(l->id, sizeof l->id, "%s", given);
		l->duration = duration_s;
		l->expires = duration_s < 0 ? AI_TIME_MAX : now + duration_s * AI_NS_PER_SEC;
		return AI_OK;
	case AI_LEASE_RENEW:
		if (!same || (st != AI_LEASE_LEASED && st != AI_LEASE_EXPIRED))
			return ai_file_fail(AI_ERR_CONFLICT, name, "lease cannot be renewed: %s",
			                    same ? "it is broken" : "not the lease holder");
		l->expires = l->duration < 0 ? AI_TIME_MAX : now + l->duration * AI_NS_PER_SEC;
		return AI_OK;
	case AI_LEASE_RELEASE:
		if (!same || st == AI_LEASE_AVAILABLE)
			return ai_file_fail(AI_ERR_CONFLICT, name,
			                    "lease cannot be released: not the lease holder");
		memset(l, 0, sizeof *l);
		return AI_OK;
	case AI_LEASE_BREAK:
		if (st == AI_LEASE_AVAILABLE)
			return ai_file_fail(AI_ERR_CONFLICT, name, "has no lease to break");
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
	return ai_file_fail(AI_ERR_BAD_INPUT, name, "unknown lease action %d", (int)action);
}

ai_result ai_file_lease(struct ai_store *s, const char *name, enum ai_lease_action action,
                        int duration_s, char lease_id[AI_LEASE_ID_MAX])
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX], id[AI_LEASE_ID_MAX] = "";
	struct lease l;
	struct stat st;
	ai_result r;
	int fd = -1, sent = 0;

	if ((r = ai_file_check_name(name)) != AI_OK)
		goto out;
	if (action != AI_LEASE_BREAK && lease_id && lease_id[0]) {
		if ((r = check_lease_id(name, lease_id)) != AI_OK)
			goto out;
		snprintf(id, sizeof id, "%s", lease_id);
	}
	if (action == AI_LEASE_ACQUIRE && duration_s != -1 &&
	    (duration_s < 15 || duration_s > 60)) {
		r = ai_file_fail(AI_ERR_BAD_INPUT, name, "lease duration %d is not -1 or 15..60",
		                 duration_s);
		goto out;
	}
	if (action == AI_LEASE_BREAK && duration_s > 60) {
		r = ai_file_fail(AI_ERR_BAD_INPUT, name, "break period %d is over 60 s",
		                 duration_s);
		goto out;
	}
	if ((action == AI_LEASE_RENEW || action == AI_LEASE_RELEASE) && !id[0]) {
		r = ai_file_fail(AI_ERR_BAD_INPUT, name, "no lease id given");
		goto out;
	}
	if (action == AI_LEASE_ACQUIRE && !id[0] && (r = new_lease_id(name, id)) != AI_OK)
		goto out;
	sent = 1;
	if ((r = ai_file_state_ready(fs)) != AI_OK ||
	    (r = ai_file_path(path, name, "%s/%s", fs->root, name)) != AI_OK ||
	    (r = ai_file_lease_lock(fs, name, 1, LOCK_EX, &fd)) != AI_OK)
		goto out;
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		if ((r = ai_file_lease_unlink(fs, name)) == AI_OK)
			r = ai_file_fail(AI_ERR_NOT_FOUND, name, "does not exist");
		goto out;
	}
	if ((r = lease_read(fd, name, &l)) != AI_OK ||
	    (r = lease_apply(&l, name, action, duration_s, id, ai_file_now(fs))) != AI_OK ||
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
