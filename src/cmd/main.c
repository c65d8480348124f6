/* main.c: start the libraries, parse the global options before the
 * command (options.c's table, as the command parses them after it),
 * dispatch a command from the table, map its result to an exit code, and close a
 * failure with one line saying what failed and what comes next. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include "cmd/cmd.h"
#include "cmd/options.h"
#include "util/log.h"
#include "util/clock.h"
#include "util/strvec.h"

/* Every command may hold a secret (the signing seed, an account key, a
 * SAS): no core dump may write it to disk, and not being dumpable also
 * keeps other processes of the same user from reading our memory through
 * ptrace or /proc/PID/mem. Done first, for every command, before any
 * secret is read. */
static void no_core_dumps(void)
{
	static const struct rlimit none = { 0, 0 };

	/* Neither can fail here: lowering a limit to 0 is always allowed. */
	(void)setrlimit(RLIMIT_CORE, &none);
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int main(int argc, char **argv)
{
	struct ai_ctx ctx = { .now = ai_clock_real(), .out = stdout };
	const char *fake_now = getenv("AIARCHIVE_NOW");
	const struct ai_cmd *cmd;
	int first, help, version;
	ai_result r;

	no_core_dumps();
	/* Manifest objects are decoded one after another; keeping freed heap
	 * instead of returning it to the kernel each time avoids page-fault
	 * storms on a query over thousands of segments. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	/* The global options before the command; the command's parser takes
	 * them after its name too (options.c, one table). */
	r = ai_options_parse_main(&ctx, argc, argv, &first, &help, &version);
	if (r != AI_OK) {
		ai_cmd_json_error(&ctx, r, ai_log_first_error());
		return ai_exit_code(r);
	}
	if (help) {
		ai_usage(stdout);
		return 0;
	}
	if (version) {
		printf("aiarchive %s\n", PACKAGE_VERSION);
		return 0;
	}
	/* Tests pin "now" to decide which delivery hours are over. */
	if (fake_now && *fake_now && ai_parse_time_arg(fake_now, ctx.now, &ctx.now) != AI_OK) {
		ai_error("AIARCHIVE_NOW: not a time: '%s'", fake_now);
		ai_cmd_json_error(&ctx, AI_ERR_CONFIG, ai_log_first_error());
		return 2;
	}
	if (first >= argc) {
		ai_usage(stderr);
		ai_cmd_json_error(&ctx, AI_ERR_USAGE, "no command given (see 'aiarchive --help')");
		return 2;
	}
	cmd = ai_cmd_find(argv[first]);
	if (!cmd) {
		const struct ai_cmd *near = NULL;
		size_t best = 3; /* a typo or two, not another word */
		char hint[64] = "";
		for (size_t i = 0; ai_cmds[i]; i++) {
			size_t d = ai_edit_distance(argv[first], ai_cmds[i]->name);
			if (d < best)
				best = d, near = ai_cmds[i];
		}
		if (near)
			snprintf(hint, sizeof hint, "; did you mean '%s'?", near->name);
		/* --json after the name is for that command: still honoured. */
		if (ai_options_argv_has(argc, argv, "--json"))
			ctx.json = 1;
		ai_error("unknown command '%s'%s (see 'aiarchive --help')", argv[first], hint);
		snprintf(ctx.object, sizeof ctx.object, "%s", argv[first]);
		ai_cmd_json_error(&ctx, AI_ERR_USAGE, ai_log_first_error());
		return 2;
	}
	r = cmd->exec(&ctx, argc - first, argv + first);
	if (fflush(stdout) != 0 && r == AI_OK) {
		ai_error("stdout: write failed");
		r = AI_ERR_IO;
	}
	/* A job run by cron or a timer cannot fail silently: whatever went
	 * wrong ends with one line saying so, -q or not. */
	if (r != AI_OK)
		ai_cmd_closing_line(&ctx, cmd, r);
	return ai_exit_code(r);
}
