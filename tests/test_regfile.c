/* test_regfile.c: reading files that must be regular files (a FIFO, a
 * link, a directory or a secret others may read is refused at once, never
 * waited on) and replacing files through fresh temporary names. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/buf.h"
#include "util/regfile.h"

static char dir[64];

static void make_dir(void)
{
	strcpy(dir, "/tmp/aiarchive-regfile-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	if (!dir[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

/* A FIFO opened for reading waits for a writer: fail instead of hanging. */
TestSuite(regfile, .init = make_dir, .fini = remove_dir, .timeout = 20);

static char *path(const char *name)
{
	static char p[8][256];
	static int next;
	char *s = p[next++ % 8];

	snprintf(s, sizeof p[0], "%s/%s", dir, name);
	return s;
}

static void write_file(const char *p, const char *text, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(close(fd), 0);
	cr_assert_eq(chmod(p, mode), 0);
}

/* Reads p with flags into a fresh buffer of max bytes; returns the result,
 * the content in got and the reason in why. */
static ai_result read_as(const char *p, unsigned flags, size_t max, char *got, size_t cap,
                         char *why)
{
	struct ai_buf b;
	ai_result r;

	ai_buf_init(&b, max);
	why[0] = '\0';
	r = ai_regfile_read(p, flags, &b, why, 256);
	snprintf(got, cap, "%s", ai_buf_str(&b));
	ai_buf_release(&b);
	return r;
}

static int count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(regfile, a_regular_file_is_read_whole)
{
	char got[64], why[256];

	write_file(path("plain"), "hello\nworld\n", 0644);
	cr_assert_eq(read_as(path("plain"), 0, 1024, got, sizeof got, why), AI_OK, "%s", why);
	cr_expect_str_eq(got, "hello\nworld\n");
	write_file(path("empty"), "", 0644);
	cr_assert_eq(read_as(path("empty"), 0, 1024, got, sizeof got, why), AI_OK);
	cr_expect_str_eq(got, "");
	write_file(path("exact"), "12345678", 0600);
	cr_expect_eq(read_as(path("exact"), AI_REGFILE_SECRET, 8, got, sizeof got, why), AI_OK);
	cr_expect_str_eq(got, "12345678");
	cr_expect_eq(read_as(path("exact"), 0, 8, got, sizeof got, why), AI_OK);
	cr_expect_eq(read_as(path("exact"), 0, 7, got, sizeof got, why), AI_ERR_TOO_BIG);
	cr_expect_str_eq(why, "larger than 7 bytes");
	cr_expect_eq(read_as(path("exact"), AI_REGFILE_SECRET, 7, got, sizeof got, why),
	             AI_ERR_TOO_BIG);
}

Test(regfile, a_missing_file_is_not_found)
{
	char got[64], why[256];

	cr_expect_eq(read_as(path("absent"), 0, 1024, got, sizeof got, why), AI_ERR_NOT_FOUND);
	cr_expect_str_eq(why, strerror(ENOENT));
}

Test(regfile, a_fifo_is_refused_without_waiting_for_a_writer)
{
	char got[64], why[256];

	cr_assert_eq(mkfifo(path("fifo"), 0600), 0);
	cr_expect_eq(read_as(path("fifo"), 0, 1024, got, sizeof got, why), AI_ERR_CONFIG);
	cr_expect_str_eq(why, "not a regular file but a FIFO");
	cr_expect_eq(read_as(path("fifo"), AI_REGFILE_SECRET | AI_REGFILE_FOLLOW, 1024, got,
	                     sizeof got, why), AI_ERR_CONFIG);
	cr_expect_str_eq(why, "not a regular file but a FIFO");
}

Test(regfile, a_directory_is_refused)
{
	char got[64], why[256];

	cr_expect_eq(read_as(dir, 0, 1024, got, sizeof got, why), AI_ERR_CONFIG);
	cr_expect_str_eq(why, "not a regular file but a directory");
}

Test(regfile, a_symbolic_link_is_refused_unless_followed)
{
	char got[64], why[256];

	write_file(path("target"), "secret", 0600);
	cr_assert_eq(symlink("target", path("link")), 0);
	cr_expect_eq(read_as(path("link"), AI_REGFILE_SECRET, 1024, got, sizeof got, why),
	             AI_ERR_CONFIG);
	cr_expect_str_eq(why, "a symbolic link to 'target', not the file itself");
	cr_expect_str_eq(got, "");
	cr_expect_eq(read_as(path("link"), AI_REGFILE_FOLLOW, 1024, got, sizeof got, why), AI_OK);
	cr_expect_str_eq(got, "secret");
	/* A link to a FIFO is refused when followed too. */
	cr_assert_eq(mkfifo(path("fifo"), 0600), 0);
	cr_assert_eq(symlink("fifo", path("fifolink")), 0);
	cr_expect_eq(read_as(path("fifolink"), AI_REGFILE_FOLLOW, 1024, got, sizeof got, why),
	             AI_ERR_CONFIG);
	cr_expect_str_eq(why, "not a regular file but a FIFO");
	/* Only the last component is checked: a linked directory is fine. */
	cr_assert_eq(symlink(".", path("dirlink")), 0);
	cr_expect_eq(read_as(path("dirlink/target"), 0, 1024, got, sizeof got, why), AI_OK);
}

Test(regfile, a_secret_others_may_read_is_refused_with_the_chmod_to_run)
{
	static const mode_t bad[] = { 0644, 0640, 0604, 0620, 0602, 0660 };
	char got[64], why[256], want[512];

	write_file(path("key"), "k", 0600);
	cr_expect_eq(read_as(path("key"), AI_REGFILE_SECRET, 1024, got, sizeof got, why), AI_OK);
	cr_expect_str_eq(got, "k");
	cr_assert_eq(chmod(path("key"), 0400), 0);
	cr_expect_eq(read_as(path("key"), AI_REGFILE_SECRET, 1024, got, sizeof got, why), AI_OK);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_assert_eq(chmod(path("key"), bad[i]), 0);
		cr_expect_eq(read_as(path("key"), AI_REGFILE_SECRET, 1024, got, sizeof got, why),
		             AI_ERR_CONFIG, "mode %04o", (unsigned)bad[i]);
		snprintf(want, sizeof want, "group or others can read or write it (mode %04o); "
		         "run chmod 600 '%s'", (unsigned)bad[i], path("key"));
		cr_expect_str_eq(why, want);
		cr_expect_str_eq(got, "");
		cr_expect_eq(read_as(path("key"), 0, 1024, got, sizeof got, why), AI_OK,
		             "not a secret: any mode");
	}
}

Test(regfile, replace_never_writes_through_a_planted_link)
{
	char got[64], why[256];

	write_file(path("victim"), "victim", 0644);
	/* A link at the old fixed temporary name, and at the target itself. */
	cr_assert_eq(symlink("victim", path("out.tmp")), 0);
	cr_assert_eq(symlink("victim", path("out")), 0);
	cr_assert_eq(ai_regfile_replace(path("out"), "new\n", 4, 0644), AI_OK);
	cr_expect_eq(read_as(path("victim"), 0, 1024, got, sizeof got, why), AI_OK);
	cr_expect_str_eq(got, "victim");
	cr_expect_eq(read_as(path("out"), 0, 1024, got, sizeof got, why), AI_OK,
	             "the link at the target was replaced by a file: %s", why);
	cr_expect_str_eq(got, "new\n");
	cr_expect_eq(count_entries(), 3, "victim, out.tmp and out: no temporary file is left");
}

Test(regfile, tmp_create_makes_a_fresh_file_each_time)
{
	char a[512], b[512];
	struct stat st;
	int fa, fb;

	umask(022);
	cr_assert_eq(ai_regfile_tmp_create(path("x"), 0666, a, sizeof a, &fa), AI_OK);
	cr_assert_eq(ai_regfile_tmp_create(path("x"), 0666, b, sizeof b, &fb), AI_OK);
	cr_expect_str_neq(a, b);
	cr_expect_eq(strncmp(a, path("x.tmp."), strlen(path("x.tmp."))), 0, "%s", a);
	cr_assert_eq(fstat(fa, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0644, "the umask applies");
	close(fa);
	close(fb);
	cr_expect_eq(ai_regfile_replace(path("nodir/x"), "", 0, 0600), AI_ERR_IO);
	cr_expect_eq(errno, ENOENT);
}
