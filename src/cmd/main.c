/* main.c: start the libraries, parse the global options, dispatch a
 * command from the table, map its result to an exit code, and close a
 * failure with one line saying what failed and what comes next. */
#include <getopt.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include "cmd/cmd.h"
#include "util/log.h"
#include "util/clock.h"

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
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ai_ctx ctx = { .now = ai_clock_real(), .out = stdout };
	const char *fake_now = getenv("AIARCHIVE_NOW");
	const struct ai_cmd *cmd;
	ai_result r;
	int c;

	no_core_dumps();
	/* Manifest objects are decoded one after another; keeping freed heap
	 * instead of returning it to the kernel each time avoids page-fault
	 * storms on a query over thousands of segments. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'v':
			ctx.verbosity++;
			break;
		case 'q':
			ctx.verbosity = -1;
			break;
		case 'j':
			ctx.json = 1;
			break;
		case 'h':
			ai_usage(stdout);
			return 0;
		case 'V':
			printf("aiarchive %s\n", PACKAGE_VERSION);
			return 0;
		default:
			if (optopt && optopt != '?')
				ai_error("option '-%c' %s (see 'aiarchive --help')", optopt,
				         strchr("c", optopt) ? "needs an argument" : "is unknown");
			else
				ai_error("unknown option '%s' (see 'aiarchive --help')",
				         argv[optind - 1]);
			return 2;
		}
	}
	/* Tests pin "now" to decide which delivery hours are over. */
	if (fake_now && *fake_now && ai_parse_time_arg(fake_now, ctx.now, &ctx.now) != AI_OK) {
		ai_error("AIARCHIVE_NOW: not a time: '%s'", fake_now);
		return 2;
	}
	/* -q drops the summary and the progress, never a warning. */
	ai_log_level = ctx.verbosity <= 0 ? AI_LOG_WARN
	             : ctx.verbosity == 1 ? AI_LOG_INFO : AI_LOG_DEBUG;
	if (optind >= argc) {
		ai_usage(stderr);
		return 2;
	}
	cmd = ai_cmd_find(argv[optind]);
	if (!cmd) {
		ai_error("unknown command '%s' (see 'aiarchive --help')", argv[optind]);
		return 2;
	}
	c = optind;
	optind = 0; /* each command runs getopt afresh on its own argv */
	r = cmd->exec(&ctx, argc - c, argv + c);
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
