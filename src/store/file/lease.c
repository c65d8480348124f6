/* file/lease.c: leases on names, kept in the leases/ files: Azure's lease
 * state table kept without locks, and the guard that set_metadata and
 * delete pass. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
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

/* The lease of a name is a directory leases/<key>/ of generations: files
 * named by a 20-digit number, each written once with the whole lease, the
 * highest being the lease. A change writes the next generation into tmp/
 * and links it under its number, which fails when another process got
 * there first: a compare-and-swap, so no lock is ever held across a lease
 * operation and a process stopped anywhere in one holds up no one (an
 * expired lease can always be taken over). A stale writer whose number was
 * freed meanwhile sees a higher one after its link and withdraws it. The
 * two newest generations are kept, the older ones removed. */
#define GEN_DIGITS 20
#define CAS_TRIES 1000
/* No process counts this far (a million changes a second for 30,000
 * years): a number from 10^18 on was put there by hand, as was any other
 * name in a lease directory. Such a file is an error naming it, never
 * skipped: skipped, it would let the count wrap or start again below it,
 * and two holders could take the lock at once. */
#define GEN_MAX UINT64_C(1000000000000000000)

/* The generation a lease file's name gives (0: not a generation). */
static uint64_t gen_of(const char *leaf)
{
	uint64_t g = 0;

	if (strlen(leaf) != GEN_DIGITS || strspn(leaf, "0123456789") != GEN_DIGITS)
		return 0;
	for (const char *c = leaf; *c; c++) {
		if (g >= GEN_MAX)
			return 0; /* no wrap: twenty digits can exceed 2^64 */
		g = g * 10 + (uint64_t)(*c - '0');
	}
	return g < GEN_MAX ? g : 0;
}

/* The error for a file in the lease directory dir of name that no
 * process of ours wrote. */
static ai_result planted(const char *name, const char *dir, const char *leaf, const char *what)
{
	ai_store_set_error("blob '%.200s': lease file '%.200s/%.40s' %s, so it was put there by "
	                   "hand; remove it", name, dir, leaf, what);
	return AI_ERR_IO;
}

/* The highest generation in dir (0: none, or no directory); any other
 * file there is an error naming it. */
static ai_result newest_gen(const char *dir, const char *name, uint64_t *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	ai_result r = AI_OK;

	*out = 0;
	if (!d) {
		if (errno == ENOENT)
			return AI_OK;
		if (errno == ENOTDIR) /* an earlier version's lease file: no lease here */
			return AI_OK;
		return ai_file_sys_fail(name, "cannot open its lease", errno);
	}
	while ((e = readdir(d))) {
		uint64_t g;
		/* "." and "..", and what NFS leaves of a file removed while open */
		if (e->d_name[0] == '.')
			continue;
		g = gen_of(e->d_name);
		if (!g) {
			r = planted(name, dir, e->d_name, strspn(e->d_name, "0123456789") == GEN_DIGITS &&
			            strlen(e->d_name) == GEN_DIGITS ?
			            "names a generation no process reaches (10^18 or more, or 0)" :
			            "is not named by a 20-digit generation");
			break;
		}
		if (g > *out)
			*out = g;
	}
	closedir(d);
	if (r != AI_OK)
		*out = 0;
	return r;
}

static ai_result gen_path(const char *dir, const char *name, uint64_t gen, char out[PATH_MAX])
{
	return ai_file_path(out, name, "%s/%0*" PRIu64, dir, GEN_DIGITS, gen);
}

/* Drops the generations of dir below keep. A failure leaves garbage only. */
static void drop_old_gens(const char *dir, const char *name, uint64_t keep)
{
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		uint64_t g = gen_of(e->d_name);
		/* a name put there by hand stays, for newest_gen to report */
		if (!g || g >= keep)
			continue;
		if (ai_file_path(path, name, "%s/%s", dir, e->d_name) == AI_OK && unlink(path) != 0) {
			/* garbage only */
		}
	}
	closedir(d);
}

ai_result ai_file_lease_drop(struct file_store *fs, const char *name)
{
	char dir[PATH_MAX];
	ai_result r;

	if ((r = ai_file_state_path(fs, name, "leases", dir)) != AI_OK)
		return r;
	drop_old_gens(dir, name, UINT64_MAX);
	if (rmdir(dir) != 0 && errno != ENOENT && unlink(dir) != 0 && errno != ENOENT)
		return ai_file_sys_fail(name, "cannot remove its lease", errno);
	return AI_OK;
}

/* One number of a lease file's line at *p, then a space or the end of
 * the line; 0 when there is none or it does not fit. */
static int lease_number(const char **p, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(*p, &end, 10);
	if (end == *p || errno == ERANGE || (*end != ' ' && *end != '\n'))
		return 0;
	*p = end + (*end == ' ');
	return 1;
}

/* Reads the line lease_write writes ("v1 ID EXPIRES BREAKING BROKEN_AT
 * DURATION"), refusing anything else, out-of-range numbers included: a
 * lease is never guessed from a file put there by hand. */
static ai_result lease_parse(const char *text, size_t got, const char *name, const char *path,
                             struct lease *l)
{
	const char *p = text;
	int64_t breaking, duration;
	size_t idlen;

	memset(l, 0, sizeof *l);
	if (got == 0)
		return AI_OK;
	if (strncmp(p, "v1 ", 3) != 0)
		goto damaged;
	p += 3;
	idlen = strspn(p, "0123456789abcdefABCDEF-");
	if (idlen == 0 || idlen >= sizeof l->id || p[idlen] != ' ')
		goto damaged;
	memcpy(l->id, p, idlen);
	p += idlen + 1;
	if (!lease_number(&p, &l->expires) || !lease_number(&p, &breaking) ||
	    !lease_number(&p, &l->broken_at) || !lease_number(&p, &duration) ||
	    strcmp(p, "\n") != 0 || (breaking != 0 && breaking != 1) ||
	    (duration != -1 && (duration < 15 || duration > 60)) ||
	    (duration == -1) != (l->expires == AI_TIME_MAX))
		goto damaged;
	l->breaking = (int)breaking;
	l->duration = (int)duration;
	return AI_OK;
damaged:
	memset(l, 0, sizeof *l);
	ai_store_set_error("blob '%.200s': lease file '%.280s' does not hold a lease aiarchive "
	                   "wrote (damaged, or put there by hand); remove it", name, path);
	return AI_ERR_IO;
}

/* Reads the current lease of name into l and its generation into *gen
 * (0 and no lease when there is none). */
static ai_result lease_read(struct file_store *fs, const char *name, struct lease *l,
                            uint64_t *gen)
{
	char dir[PATH_MAX], path[PATH_MAX], text[LEASE_TEXT_MAX + 1];
	ai_result r;

	memset(l, 0, sizeof *l);
	*gen = 0;
	if ((r = ai_file_state_path(fs, name, "leases", dir)) != AI_OK)
		return r;
	for (int tries = 0; tries < CAS_TRIES; tries++) {
		size_t got;
		int fd, rc;
		if ((r = newest_gen(dir, name, gen)) != AI_OK || *gen == 0 ||
		    (r = gen_path(dir, name, *gen, path)) != AI_OK)
			return r;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* two newer ones came meanwhile */
			return ai_file_sys_fail(name, "cannot open its lease", errno);
		}
		rc = ai_file_read_all(fd, text, LEASE_TEXT_MAX, 0, &got);
		close(fd);
		if (rc != 0)
			return ai_file_sys_fail(name, "cannot read its lease", rc);
		text[got] = '\0';
		return lease_parse(text, got, name, path, l);
	}
	return ai_file_fail(AI_ERR_IO, name, "its lease keeps changing");
}

/* Writes l as generation gen of name's lease: AI_OK when it is the lease
 * now, AI_ERR_EXISTS when another process wrote that generation or a later
 * one first (read again and retry). */
static ai_result lease_write(struct file_store *fs, const char *name, const struct lease *l,
                             uint64_t gen)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX], text[LEASE_TEXT_MAX];
	uint64_t newest;
	ai_result r;
	int fd = -1, len = 0, rc = 0;

	if ((r = ai_file_state_path(fs, name, "leases", dir)) != AI_OK ||
	    (r = gen_path(dir, name, gen, path)) != AI_OK)
		return r;
	if (gen >= GEN_MAX) {
		char leaf[GEN_DIGITS + 1];
		snprintf(leaf, sizeof leaf, "%0*" PRIu64, GEN_DIGITS, gen - 1);
		return planted(name, dir, leaf, "names the last generation there can be");
	}
	if (mkdir(dir, 0777) != 0) {
		struct stat st;
		if (errno != EEXIST)
			return ai_file_sys_fail(name, "cannot create its lease", errno);
		/* an earlier version kept the lease in a plain file */
		if (lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode) &&
		    (unlink(dir) != 0 || mkdir(dir, 0777) != 0) && errno != EEXIST)
			return ai_file_sys_fail(name, "cannot replace its old lease file", errno);
	}
	if ((r = ai_file_tmp_create(fs, name, tmp, &fd)) != AI_OK)
		return r;
	if (l->id[0])
		len = snprintf(text, sizeof text, "v1 %s %" PRId64 " %d %" PRId64 " %d\n", l->id,
		               l->expires, l->breaking, l->broken_at, l->duration);
	if ((len && (rc = ai_file_write_all(fd, text, (size_t)len, 0)) != 0) ||
	    (fsync(fd) != 0 && (rc = errno))) {
		r = ai_file_sys_fail(name, "cannot write its lease", rc);
		goto out;
	}
	if (link(tmp, path) != 0) {
		if (errno == EEXIST)
			r = AI_ERR_EXISTS;
		else
			r = ai_file_sys_fail(name, "cannot write its lease", errno);
		goto out;
	}
	if ((rc = ai_file_fsync_parent(path)) != 0) {
		r = ai_file_sys_fail(name, "cannot sync its lease", rc);
		goto out;
	}
	/* Our number may have been freed by a cleanup after we read: then a
	 * later generation is the lease, and ours is withdrawn. */
	if ((r = newest_gen(dir, name, &newest)) != AI_OK)
		goto out;
	if (newest > gen) {
		if (unlink(path) != 0) {
			/* an old generation, removed by the next cleanup */
		}
		r = AI_ERR_EXISTS;
		goto out;
	}
	drop_old_gens(dir, name, gen - 1);
out:
	close(fd);
	ai_file_tmp_drop(tmp);
	return r;
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
	uint64_t gen;
	ai_result r = lease_read(fs, name, &l, &gen);

	*out = r == AI_OK ? lease_state(&l, ai_file_now(fs)) : AI_LEASE_AVAILABLE;
	return r;
}

static ai_result check_lease_id(const char *name, const char *id)
{
	size_t n = strlen(id);

	if (n >= AI_LEASE_ID_MAX || strspn(id, "0123456789abcdefABCDEF-") != n)
		return ai_file_fail(AI_ERR_BAD_INPUT, name, "lease id '%.40s' is not a GUID", id);
	return AI_OK;
}

/* Checks a lease-guarded operation (set_metadata, delete) against the
 * current lease: an active lease needs its id, and an id needs an active
 * lease, as on Azure. Nothing is locked: a lease taken between this check
 * and the operation is not seen (the archive never deletes a leased name,
 * and the metadata of the run lock only describes its holder). */
ai_result ai_file_lease_guard(struct file_store *fs, const char *name, const char *lease_id)
{
	struct lease l;
	enum ai_lease_state st;
	uint64_t gen;
	ai_result r = lease_read(fs, name, &l, &gen);

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
	int sent = 0;

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
	if (action == AI_LEASE_ACQUIRE && !id[0] && (r = ai_store_new_lease_id(id)) != AI_OK)
		goto out;
	sent = 1;
	if ((r = ai_file_state_ready(fs)) != AI_OK ||
	    (r = ai_file_path(path, name, "%s/%s", fs->root, name)) != AI_OK)
		goto out;
	for (int tries = 0;; tries++) {
		uint64_t gen;
		if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			r = ai_file_fail(AI_ERR_NOT_FOUND, name, "does not exist");
			goto out;
		}
		if ((r = lease_read(fs, name, &l, &gen)) != AI_OK ||
		    (r = lease_apply(&l, name, action, duration_s, id, ai_file_now(fs))) != AI_OK)
			goto out;
		/* Where a stop lands in the middle of a lease call (store.c). */
		ai_store_test_pause();
		r = lease_write(fs, name, &l, gen + 1);
		if (r != AI_ERR_EXISTS)
			break;
		if (tries >= CAS_TRIES) {
			r = ai_file_fail(AI_ERR_CONFLICT, name, "its lease keeps changing");
			goto out;
		}
	}
	if (r == AI_OK && action == AI_LEASE_ACQUIRE && lease_id)
		snprintf(lease_id, AI_LEASE_ID_MAX, "%s", l.id);
out:
	if (sent)
		ai_store_count(s, AI_REQ_LEASE, 0, 0);
	return r;
}
