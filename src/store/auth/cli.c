/* cli.c: a developer's Azure CLI login: `az account get-access-token`,
 * run without a shell, with a timeout, its output read from a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "store/auth/auth_int.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/log.h"

#define CLI_TIMEOUT_MS 13000
#define OUT_MAX (64u << 10)
#define ERR_MAX (8u << 10)

extern char **environ;

ai_result ai_auth_cli_init(struct ai_auth_ctx *c)
{
	(void)c;
	return AI_OK;
}

void ai_auth_cli_release(struct ai_auth_ctx *c)
{
	(void)c;
}

int ai_auth_cli_available(void)
{
	const char *path = getenv("PATH");
	char dir[4096];

	while (path && *path) {
		size_t n = strcspn(path, ":");
		if (n && n + 4 < sizeof dir) {
			struct stat st;
			memcpy(dir, path, n);
			memcpy(dir + n, "/az", 4);
			if (stat(dir, &st) == 0 && S_ISREG(st.st_mode) && access(dir, X_OK) == 0)
				return 1;
		}
		path += n + (path[n] == ':');
	}
	return 0;
}

/* Reads the child's stdout and stderr until both close or the deadline. */
static int drain(int fdout, int fderr, struct ai_buf *out, struct ai_buf *err, int64_t deadline)
{
	struct pollfd p[2] = { { .fd = fdout, .events = POLLIN }, { .fd = fderr, .events = POLLIN } };
	char chunk[4096];

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		int64_t left = (deadline - ai_clock_mono_ns()) / 1000000;
		if (left <= 0)
			return 0;
		int n = poll(p, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 0;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			ssize_t got = read(p[i].fd, chunk, sizeof chunk);
			if (got > 0) {
				struct ai_buf *b = i ? err : out;
				size_t room = b->max - b->len;
				if (ai_buf_add(b, chunk, (size_t)got < room ? (size_t)got : room) != AI_OK)
					return 0;
			} else if (got == 0 || errno != EINTR) {
				p[i].fd = -1;
			}
		}
	}
	ai_cleanse(chunk, sizeof chunk);
	return 1;
}

ai_result ai_auth_cli_fetch(struct ai_auth_ctx *c, struct ai_token *out)
{
	char a0[] = "az", a1[] = "account", a2[] = "get-access-token", a3[] = "--output",
	     a4[] = "json", a5[] = "--scope", a6[] = AI_TOKEN_SCOPE;
	char *argv[] = { a0, a1, a2, a3, a4, a5, a6, NULL };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status = 0, finished;
	posix_spawn_file_actions_t fa;
	struct ai_buf sout, serr;
	char why[200];
	pid_t pid = -1;
	ai_result r = AI_ERR_AUTH;

	ai_buf_init(&sout, OUT_MAX);
	ai_buf_init(&serr, ERR_MAX);
	/* all the room at once: no copy of the token is left in a freed block */
	if (ai_buf_reserve(&sout, OUT_MAX) != AI_OK) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		r = ai_auth_fail(c, AI_ERR_IO, "cannot run az: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	int rc = posix_spawnp(&pid, "az", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (rc != 0) {
		r = ai_auth_fail(c, AI_ERR_AUTH, "cannot run az (the Azure CLI): %s", strerror(rc));
		pid = -1;
		goto out;
	}
	finished = drain(po[0], pe[0], &sout, &serr,
	                 ai_clock_mono_ns() + (int64_t)CLI_TIMEOUT_MS * 1000000);
	if (!finished)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (!finished) {
		r = ai_auth_fail(c, AI_ERR_AUTH, "az account get-access-token did not finish within "
		                 "%d s", CLI_TIMEOUT_MS / 1000);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		const char *e = ai_buf_str(&serr);
		char line[512];
		/* the CLI's first line that says something ("ERROR: Please run 'az login' ...") */
		while (*e == '\n' || *e == '\r' || *e == ' ')
			e++;
		snprintf(line, sizeof line, "%.*s", (int)strcspn(e, "\r\n"), e);
		r = ai_auth_fail(c, AI_ERR_AUTH, "az account get-access-token %s %d%s%s",
		                 WIFEXITED(status) ? "exited with" : "was killed by signal",
		                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		                 *line ? ": " : "", line);
		goto out;
	}
	r = ai_token_parse(ai_buf_str(&sout), sout.len, ai_clock_real() / AI_NS_PER_SEC, out, why,
	                   sizeof why);
	if (r != AI_OK)
		r = ai_auth_fail(c, AI_ERR_AUTH, "az account get-access-token: %s%s", why,
		                 strstr(why, "expires") ? " (Azure CLI 2.54 or later gives expires_on)"
		                                        : "");
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (sout.data)
		ai_cleanse(sout.data, sout.alloc);
	ai_buf_release(&sout);
	ai_buf_release(&serr);
	return r;
}
