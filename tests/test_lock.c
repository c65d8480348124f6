/* test_lock.c: the run lock on a local (file://) destination: taken,
 * refused while another run holds it, released, taken over once the
 * holder's lease has expired, and describing its holder. The store's clock
 * is a variable the tests move, so a lease expires without waiting. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "engine/lock.h"
#include "store/store.h"
#include "util/parse.h"

#define T0 (INT64_C(1714521600) * AI_NS_PER_SEC) /* 2024-05-01T00:00:00Z */
#define SEC AI_NS_PER_SEC

static char tmpdir[256];
static struct ai_store *a, *b; /* two runs' handles on the same archive */
static ai_time fake_now = T0;

#define OK(call) \
	do { \
		ai_result r_ = (call); \
		cr_assert_eq(r_, AI_OK, "%s: %s (%s)", #call, ai_strerror(r_), \
		             ai_store_last_error()); \
	} while (0)

static ai_time test_clock(void)
{
	return __atomic_load_n(&fake_now, __ATOMIC_RELAXED);
}

static void advance(int64_t ns)
{
	__atomic_add_fetch(&fake_now, ns, __ATOMIC_RELAXED);
}

static void open_store(struct ai_store **s)
{
	struct ai_store_config cfg = { 0 };
	char url[512];

	snprintf(url, sizeof url, "file://%s/dest", tmpdir);
	cfg.url = url;
	cfg.now = test_clock;
	OK(ai_store_open(s, &cfg));
	OK(ai_store_create_container(*s));
}

static void setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/aiarchive-test-lock-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
	open_store(&a);
	open_store(&b);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	ai_store_free(a);
	ai_store_free(b);
	a = b = NULL;
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

TestSuite(lock, .init = setup, .fini = teardown, .timeout = 30);

static enum ai_lease_state lease_of(struct ai_store *s)
{
	struct ai_blob_info info;

	OK(ai_store_props(s, AI_LOCK_NAME, &info, NULL));
	ai_blob_info_release(&info);
	return info.lease;
}

static void expected_holder(char *out, size_t cap, const char *run)
{
	char host[64] = "unknown";

	gethostname(host, sizeof host - 1);
	snprintf(out, cap, "host %s pid %ld run %s", host, (long)getpid(), run);
}

Test(lock, acquire_takes_the_lease_on_an_empty_lock_blob)
{
	struct ai_lock *l;
	struct ai_blob_info info;

	OK(ai_lock_acquire(a, 15, 0, "run-1", &l));
	cr_assert_not_null(l);
	cr_assert_eq(ai_lock_lost(l), 0);
	OK(ai_store_props(a, AI_LOCK_NAME, &info, NULL));
	cr_assert_eq(info.lease, AI_LEASE_LEASED);
	cr_assert_eq(info.size, 0, "the lock blob is empty");
	ai_blob_info_release(&info);
	ai_lock_release(l);
}

Test(lock, a_second_acquire_is_refused_while_the_lock_is_held)
{
	struct ai_lock *l, *l2;

	OK(ai_lock_acquire(a, 15, 0, "run-1", &l));
	l2 = l; /* a stale value, to see it cleared */
	cr_assert_eq(ai_lock_acquire(b, 15, 0, "run-2", &l2), AI_ERR_LOCKED);
	cr_assert_null(l2, "no lock is handed out");
	cr_assert_eq(ai_lock_acquire(a, 15, 0, "run-3", &l2), AI_ERR_LOCKED,
	             "the same handle is refused too");
	ai_lock_release(l);
}

Test(lock, release_frees_the_lock_for_the_next_run)
{
	struct ai_lock *l, *l2;

	OK(ai_lock_acquire(a, 15, 0, "run-1", &l));
	ai_lock_release(l);
	cr_assert_eq(lease_of(a), AI_LEASE_AVAILABLE);
	OK(ai_lock_acquire(b, 15, 0, "run-2", &l2));
	ai_lock_release(l2);
}

Test(lock, a_lease_within_its_duration_is_not_taken_over)
{
	struct ai_lock *l, *l2;

	OK(ai_lock_acquire(a, 15, 0, "run-1", &l));
	advance(14 * SEC);
	cr_assert_eq(ai_lock_acquire(b, 15, 0, "run-2", &l2), AI_ERR_LOCKED);
	ai_lock_release(l);
}

Test(lock, an_expired_lease_is_taken_over_and_the_old_holder_cannot_release_it)
{
	struct ai_lock *crashed, *next;
	char holder[256], want[256];

	OK(ai_lock_acquire(a, 15, 0, "run-crashed", &crashed));
	advance(16 * SEC);
	cr_assert_eq(lease_of(b), AI_LEASE_EXPIRED);
	OK(ai_lock_acquire(b, 15, 0, "run-next", &next));
	OK(ai_lock_holder(b, holder, sizeof holder));
	expected_holder(want, sizeof want, "run-next");
	cr_assert_str_eq(holder, want, "the new holder is recorded");
	/* The stale holder waking up must not free the new holder's lock. */
	ai_lock_release(crashed);
	cr_assert_eq(lease_of(b), AI_LEASE_LEASED);
	cr_assert_eq(ai_lock_acquire(a, 15, 0, "run-3", &crashed), AI_ERR_LOCKED);
	ai_lock_release(next);
	cr_assert_eq(lease_of(b), AI_LEASE_AVAILABLE);
}

Test(lock, a_lease_shorter_than_15s_is_made_15s)
{
	struct ai_lock *l, *l2;

	OK(ai_lock_acquire(a, 5, 0, "run-1", &l));
	advance(10 * SEC);
	cr_assert_eq(ai_lock_acquire(b, 15, 0, "run-2", &l2), AI_ERR_LOCKED, "not 5 s");
	advance(6 * SEC);
	OK(ai_lock_acquire(b, 15, 0, "run-2", &l2));
	ai_lock_release(l2);
	ai_lock_release(l);
}

Test(lock, a_lease_longer_than_60s_is_made_60s)
{
	struct ai_lock *l, *l2;

	OK(ai_lock_acquire(a, 600, 0, "run-1", &l));
	advance(59 * SEC);
	cr_assert_eq(ai_lock_acquire(b, 15, 0, "run-2", &l2), AI_ERR_LOCKED);
	advance(2 * SEC);
	OK(ai_lock_acquire(b, 15, 0, "run-2", &l2));
	ai_lock_release(l2);
	ai_lock_release(l);
}

/* Frees the lock after a short while by moving the clock past the lease. */
static void *expire_soon(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	advance(16 * SEC);
	return NULL;
}

Test(lock, with_a_wait_acquire_keeps_trying_until_the_lease_frees)
{
	struct ai_lock *l, *l2;
	pthread_t th;

	OK(ai_lock_acquire(a, 15, 0, "run-1", &l));
	cr_assert_eq(pthread_create(&th, NULL, expire_soon, NULL), 0);
	OK(ai_lock_acquire(b, 15, 10, "run-2", &l2));
	pthread_join(th, NULL);
	ai_lock_release(l2);
	ai_lock_release(l);
}

/* ---- the holder ---- */

Test(lock, the_holder_names_host_pid_and_run)
{
	struct ai_lock *l;
	struct ai_meta meta;
	struct ai_blob_info info;
	char holder[256], want[256];

	OK(ai_lock_acquire(a, 15, 0, "20240501T000000Z-0a0b0c0d", &l));
	OK(ai_lock_holder(b, holder, sizeof holder));
	expected_holder(want, sizeof want, "20240501T000000Z-0a0b0c0d");
	cr_assert_str_eq(holder, want);
	OK(ai_store_props(b, AI_LOCK_NAME, &info, &meta));
	cr_assert_eq(meta.n, 3, "host, pid and run are the lock blob's metadata");
	ai_blob_info_release(&info);
	ai_lock_release(l);
}

Test(lock, there_is_no_holder_before_the_first_run_after_release_or_expiry)
{
	struct ai_lock *l;
	char holder[256] = "junk";

	OK(ai_lock_holder(a, holder, sizeof holder));
	cr_assert_str_eq(holder, "", "no lock blob yet");
	OK(ai_lock_acquire(a, 15, 0, "run-1", &l));
	ai_lock_release(l);
	OK(ai_lock_holder(a, holder, sizeof holder));
	cr_assert_str_eq(holder, "", "released");
	OK(ai_lock_acquire(a, 15, 0, "run-2", &l));
	advance(16 * SEC);
	OK(ai_lock_holder(a, holder, sizeof holder));
	cr_assert_str_eq(holder, "", "expired");
	ai_lock_release(l);
}

/* Runs ai_lock_take with stderr going to a file; returns what it printed. */
static ai_result take_capturing(struct ai_store *s, const char *run, struct ai_lock **out,
                                char *err, size_t cap)
{
	char path[300];
	int fd, saved;
	ssize_t n;
	ai_result r;

	snprintf(path, sizeof path, "%s/stderr", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	r = ai_lock_take(s, 15 * SEC, 0, run, out);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, err, cap - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	return r;
}

Test(lock, take_refuses_a_held_lock_in_one_line_naming_the_holder)
{
	struct ai_lock *l, *l2;
	char err[1024], want[512], holder[256];

	OK(take_capturing(a, "run-1", &l, err, sizeof err));
	cr_assert_str_eq(err, "");
	cr_assert_eq(take_capturing(b, "run-2", &l2, err, sizeof err), AI_ERR_LOCKED);
	expected_holder(holder, sizeof holder, "run-1");
	snprintf(want, sizeof want, "aiarchive: error: dest: another run holds the lock: %s\n",
	         holder);
	cr_assert_str_eq(err, want);
	ai_lock_release(l);
}

Test(lock, releasing_null_is_harmless)
{
	ai_lock_release(NULL);
}

/* Writes a file named leaf holding text into every lease directory of the
 * archive; path receives the last one's name. */
static void plant_file(const char *leaf, const char *text, char path[1200])
{
	char dir[600];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof dir, "%s/dest/.aiarchive-store/leases", tmpdir);
	d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, 1200, "%s/%s/%s", dir, e->d_name, leaf);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		cr_assert(fd >= 0, "%s", path);
		cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
		close(fd);
		n++;
	}
	closedir(d);
	cr_assert_eq(n, 1, "one lease directory under %s", dir);
}

/* A run takes and frees the lock (so that its lease directory exists),
 * then leaf is planted there: both runs are refused in one line naming the
 * planted file, and take the lock again once it is gone. */
static void refused_over(const char *leaf, const char *text, const char *why)
{
	struct ai_lock *l;
	char path[1200], err[1024], want[1600];

	OK(ai_lock_acquire(a, 15, 0, "run-a", &l));
	ai_lock_release(l);
	plant_file(leaf, text, path);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(take_capturing(i ? b : a, "run-b", &l, err, sizeof err), AI_ERR_IO,
		             "a planted '%s' is no lease to take or skip", leaf);
		cr_assert_null(l);
		snprintf(want, sizeof want, "aiarchive: error: lock: blob 'locks/run': lease file "
		         "'%s' %s", path, why);
		cr_assert(strncmp(err, want, strlen(want)) == 0, "got: %swant: %s", err, want);
		cr_assert(strstr(err, "; remove it\n"), "%s", err);
		cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "one line: %s", err);
	}
	cr_assert_eq(unlink(path), 0);
	OK(ai_lock_acquire(b, 15, 0, "run-b", &l));
	cr_assert_eq(ai_lock_acquire(a, 15, 0, "run-a", &(struct ai_lock *){ NULL }), AI_ERR_LOCKED,
	             "once it is gone the lock excludes again");
	ai_lock_release(l);
}

Test(lock, a_generation_past_2_to_the_64_put_there_by_hand_is_refused_naming_it)
{
	/* saturates strtoull */
	refused_over("99999999999999999999", "",
	             "names a generation no process reaches (10^18 or more, or 0), so it was put "
	             "there by hand");
}

Test(lock, the_largest_64_bit_generation_put_there_by_hand_is_refused_naming_it)
{
	refused_over("18446744073709551615", "v1 11111111-2222-4333-8444-555555555555 0 0 0 15\n",
	             "names a generation no process reaches");
}

Test(lock, a_generation_of_10_to_the_18_put_there_by_hand_neither_wraps_nor_doubles_the_lock)
{
	refused_over("01000000000000000000", "", "names a generation no process reaches");
}

Test(lock, the_generation_just_below_10_to_the_18_is_the_last_one)
{
	refused_over("00999999999999999999", "", "names the last generation there can be");
}

Test(lock, a_file_in_a_lease_directory_not_named_by_a_generation_is_refused_naming_it)
{
	refused_over("notes.txt", "hello\n", "is not named by a 20-digit generation");
}

Test(lock, a_lease_file_that_aiarchive_did_not_write_is_refused_naming_it)
{
	static const char *const texts[] = {
		"garbage\n",
		"v1 11111111-2222-4333-8444-555555555555 99999999999999999999999 0 0 15\n",
		"v1 11111111-2222-4333-8444-555555555555 0 0 0 15", /* no end of line */
		"v1 11111111-2222-4333-8444-555555555555 0 2 0 15\n",
		"v1 11111111-2222-4333-8444-555555555555 0 0 0 61\n",
		"v1 11111111-2222-4333-8444-555555555555 9223372036854775807 0 0 15\n",
		"v1 zz 0 0 0 15\n",
	};

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char leaf[32];
		snprintf(leaf, sizeof leaf, "%020zu", 900 + i);
		refused_over(leaf, texts[i], "does not hold a lease aiarchive wrote");
	}
}

/* A renewal that fails for another reason than a takeover (here the lease
 * file planted above; on Azure an expired SAS, the network) leaves the run
 * unsure that it holds the lock: it is lost from then on, but keeps its
 * class, for the exit code to say what happened rather than "another run
 * holds the lock". */
Test(lock, a_renewal_that_fails_but_not_by_a_takeover_keeps_its_class)
{
	struct ai_lock *l;
	char path[1200];

	OK(ai_lock_acquire(a, 15, 0, "run-a", &l));
	plant_file("notes.txt", "", path);
	cr_assert_eq(ai_lock_confirm(l), AI_ERR_IO);
	cr_assert(strstr(ai_store_last_error(), "lock 'locks/run': cannot be renewed, so it may no "
	                 "longer be ours (blob 'locks/run': lease file '"), "%s",
	          ai_store_last_error());
	cr_assert(ai_lock_lost(l));
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(ai_lock_confirm(l), AI_ERR_IO, "lost for good, with the same class");
	ai_lock_release(l);
}

Test(lock, a_renewal_after_a_takeover_is_a_lost_lock)
{
	struct ai_lock *l, *l2;

	OK(ai_lock_acquire(a, 15, 0, "run-a", &l));
	advance(16 * SEC);
	OK(ai_lock_acquire(b, 15, 0, "run-b", &l2));
	cr_assert_eq(ai_lock_confirm(l), AI_ERR_LOCKED);
	cr_assert(strstr(ai_store_last_error(), "lock 'locks/run': no longer ours"), "%s",
	          ai_store_last_error());
	ai_lock_release(l2);
	ai_lock_release(l);
}
