/* cmd.c: the command table and the shared usage text. */
#include <stdarg.h>
#include <string.h>
#include "cmd/cmd.h"
#include "util/log.h"

const struct ai_cmd *const ai_cmds[] = {
	&ai_cmd_init,
	&ai_cmd_run,
	&ai_cmd_query,
	&ai_cmd_cat,
	&ai_cmd_verify,
	&ai_cmd_status,
	&ai_cmd_gc,
	&ai_cmd_keygen,
	&ai_cmd_version,
	&ai_cmd_completion,
	NULL,
};

const struct ai_cmd *ai_cmd_find(const char *name)
{
	for (size_t i = 0; ai_cmds[i]; i++)
		if (strcmp(ai_cmds[i]->name, name) == 0)
			return ai_cmds[i];
	return NULL;
}

void ai_usage(FILE *f)
{
	fprintf(f, "usage: aiarchive [-c FILE] [-v|-q] [--json] <command> [options]\n\n"
	           "Archives Azure Application Insights exports into a geo-redundant,\n"
	           "signed, indexed archive.\n\ncommands:\n");
	for (size_t i = 0; ai_cmds[i]; i++)
		fprintf(f, "  %-10s %s\n", ai_cmds[i]->name, ai_cmds[i]->summary);
	fprintf(f, "\nglobal options:\n"
	           "  -c, --config FILE  read options from FILE (the command line wins)\n"
	           "  -v, --verbose      more messages (repeat for debug)\n"
	           "  -q, --quiet        errors only\n"
	           "      --json         machine-readable output\n"
	           "  -h, --help         this text; 'aiarchive <command> --help' for a command\n"
	           "  -V, --version      print the version\n\n"
	           "exit codes: 0 ok, 1 partial, 2 usage/config, 3 auth, 4 verification failed,\n"
	           "5 locked, 6 network/service unavailable, 9 nothing new (--error-on-nothing)\n");
}

ai_result ai_cmd_usage_error(const struct ai_cmd *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ai_error("%s: %s (see 'aiarchive %s --help')", cmd->name, msg, cmd->name);
	return AI_ERR_USAGE;
}
