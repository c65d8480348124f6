/* cmd_completion.c: `aiarchive completion bash|zsh|fish`, a completion
 * script for the shell, made from the command table and the option table:
 * commands, each command's options, and the values of options that take
 * files, directories or one of a few words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cmd.h"
#include "cmd/jsonout.h"
#include "cmd/options.h"

static const char *const shells[] = { "bash", "zsh", "fish" };

enum value { V_FLAG, V_NONE, V_FILE, V_DIR, V_WORDS };

/* What an option's value is, from its name in --help: FILE and PATH are
 * files, DIR a directory, a lower-case name words to choose from
 * ("jsonl|csv"), LAYOUT the layouts; anything else is not completed. */
static enum value value_of(const char *arg, char *words, size_t cap)
{
	const char *p;

	*words = '\0';
	if (!arg)
		return V_FLAG;
	if (strcmp(arg, "FILE") == 0 || strcmp(arg, "PATH") == 0)
		return V_FILE;
	if (strcmp(arg, "DIR") == 0)
		return V_DIR;
	if (strcmp(arg, "LAYOUT") == 0) {
		snprintf(words, cap, "auto continuous-export diagnostic-settings");
		return V_WORDS;
	}
	for (p = arg; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			return V_NONE;
	snprintf(words, cap, "%s", arg);
	for (char *w = words; *w; w++)
		if (*w == '|')
			*w = ' ';
	return V_WORDS;
}

/* Writes s inside single quotes for sh (zsh included). */
static void put_sq(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			putc(*s, f);
}

/* Writes s for inside fish single quotes. */
static void put_fish(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			putc('\\', f);
		putc(*s, f);
	}
}

/* Writes s for a zsh _arguments description or _describe entry (inside
 * single quotes): brackets and colons escaped. */
static void put_zdesc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '[' || *s == ']' || *s == ':' || *s == '\\')
			putc('\\', f);
		if (*s == '\'')
			fputs("'\\''", f);
		else
			putc(*s, f);
	}
}

/* --- bash --------------------------------------------------------------- */

struct walk {
	FILE *f;
	const struct ai_cmd *cmd;
	enum value want;      /* bash: which options a list holds */
	int any;
};

static void bash_list(void *ctx, const struct ai_option_info *o)
{
	struct walk *w = ctx;
	char words[256];

	if (w->want != V_FLAG && value_of(o->arg, words, sizeof words) != w->want)
		return;
	if (w->want == V_FLAG && o->shortc)
		fprintf(w->f, "%s-%c", w->any++ ? " " : "", o->shortc);
	fprintf(w->f, "%s--%s", w->any++ ? " " : "", o->name);
	if (w->want != V_FLAG && o->shortc)
		fprintf(w->f, " -%c", o->shortc);
}

static void bash_words(void *ctx, const struct ai_option_info *o)
{
	struct walk *w = ctx;
	char words[256];

	if (value_of(o->arg, words, sizeof words) != V_WORDS)
		return;
	fputs("\t\t", w->f);
	if (o->shortc)
		fprintf(w->f, "-%c|", o->shortc);
	fprintf(w->f, "--%s) words='", o->name);
	put_sq(w->f, words);
	fputs("' ;;\n", w->f);
}

/* The lists of options for one command (or the globals: cmd NULL). */
static void bash_lists(FILE *f, const struct ai_cmd *cmd)
{
	static const struct { const char *var; enum value v; } lists[] = {
		{ "opts", V_FLAG }, { "files", V_FILE }, { "dirs", V_DIR }, { "values", V_NONE },
		{ "values", V_WORDS },
	};

	for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
		struct walk w = { .f = f, .cmd = cmd, .want = lists[k].v };
		fprintf(f, "\t\t%s=%s'", lists[k].var, k == 4 ? "\"$values \"" : "");
		if (cmd)
			ai_options_each(cmd, bash_list, &w);
		else
			ai_options_each_global(bash_list, &w);
		fputs("'\n", f);
	}
	fputs("\t\tcase $prev in\n", f);
	if (cmd) {
		struct walk w = { .f = f, .cmd = cmd };
		ai_options_each(cmd, bash_words, &w);
	}
	fputs("\t\tesac\n", f);
}

/* A case of the loop that finds the command: a global option's value is
 * no command. */
static void bash_skip(void *ctx, const struct ai_option_info *o)
{
	FILE *f = ctx;

	if (!o->arg)
		return;
	fputs("\t\t", f);
	if (o->shortc)
		fprintf(f, "-%c|", o->shortc);
	fprintf(f, "--%s) ((i++)) ;;\n", o->name);
}

static void print_bash(FILE *f)
{
	fputs("# bash completion for aiarchive, made by 'aiarchive completion bash'.\n"
	      "_aiarchive() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd='' i\n"
	      "\tlocal opts files dirs values words='' args=''\n"
	      "\t[ \"$COMP_CWORD\" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "\tCOMPREPLY=()\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tcase ${COMP_WORDS[i]} in\n", f);
	/* The command is the first word that is no option nor a value. */
	ai_options_each_global(bash_skip, f);
	fputs("\t\t-*) ;;\n"
	      "\t\t*) cmd=${COMP_WORDS[i]}; break ;;\n"
	      "\t\tesac\n"
	      "\tdone\n"
	      "\tcase $cmd in\n"
	      "\t'')\n", f);
	bash_lists(f, NULL);
	fputs("\t\targs='", f);
	for (size_t i = 0; ai_cmds[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", ai_cmds[i]->name);
	fputs("'\n\t\t;;\n", f);
	for (size_t i = 0; ai_cmds[i]; i++) {
		fprintf(f, "\t%s)\n", ai_cmds[i]->name);
		bash_lists(f, ai_cmds[i]);
		if (ai_cmds[i] == &ai_cmd_completion)
			fputs("\t\targs='bash zsh fish'\n", f);
		fputs("\t\t;;\n", f);
	}
	fputs("\t*) return ;;\n"
	      "\tesac\n"
	      "\tif [ -n \"$prev\" ] && [[ \" $files \" == *\" $prev \"* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "\telif [ -n \"$prev\" ] && [[ \" $dirs \" == *\" $prev \"* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -d -- \"$cur\"))\n"
	      "\telif [ -n \"$words\" ]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	      "\telif [ -n \"$prev\" ] && [[ \" $values \" == *\" $prev \"* ]]; then\n"
	      "\t\treturn\n"
	      "\telif [[ $cur == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	      "\telse\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$args\" -- \"$cur\"))\n"
	      "\tfi\n"
	      "}\n"
	      "complete -o filenames -F _aiarchive aiarchive\n", f);
}

/* --- zsh ---------------------------------------------------------------- */

/* How each kind of value is completed, by zsh and by fish (words aside). */
static const char *const zsh_action[V_WORDS + 1] = {
	[V_FILE] = "_files", [V_DIR] = "_files -/",
};
static const char *const fish_action[V_WORDS + 1] = {
	[V_NONE] = " -x", [V_FILE] = " -r -F", [V_DIR] = " -x -a '(__fish_complete_directories)'",
};

static void zsh_spec(FILE *f, const struct ai_option_info *o, const char *lead)
{
	char words[256];
	enum value v = value_of(o->arg, words, sizeof words);

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 0 && !o->shortc)
			continue;
		fprintf(f, "%s'", lead);
		if (pass == 0)
			fprintf(f, "-%c", o->shortc);
		else
			fprintf(f, "--%s", o->name);
		fputs("[", f);
		put_zdesc(f, o->help);
		fputs("]", f);
		if (v != V_FLAG) {
			fputs(":", f);
			for (const char *a = o->arg; *a; a++)
				if (*a != '[' && *a != ']' && *a != ':' && *a != '\'')
					putc(*a, f);
			fputs(":", f);
			if (v == V_WORDS)
				fprintf(f, "(%s)", words);
			else if (zsh_action[v])
				fputs(zsh_action[v], f);
		}
		fputs("' \\\n", f);
	}
}

static void zsh_opt(void *ctx, const struct ai_option_info *o)
{
	struct walk *w = ctx;

	zsh_spec(w->f, o, "\t\t\t\t");
}

static void zsh_global(void *ctx, const struct ai_option_info *o)
{
	zsh_spec(ctx, o, "\t\t");
}

static void print_zsh(FILE *f)
{
	fputs("#compdef aiarchive\n"
	      "# zsh completion for aiarchive, made by 'aiarchive completion zsh'.\n"
	      "_aiarchive() {\n"
	      "\tlocal curcontext=$curcontext state line\n"
	      "\ttypeset -A opt_args\n"
	      "\tlocal -a commands\n"
	      "\tcommands=(\n", f);
	for (size_t i = 0; ai_cmds[i]; i++) {
		fprintf(f, "\t\t'%s:", ai_cmds[i]->name);
		put_zdesc(f, ai_cmds[i]->summary);
		fputs("'\n", f);
	}
	fputs("\t)\n\t_arguments -C \\\n", f);
	ai_options_each_global(zsh_global, f);
	fputs("\t\t'1:command:->command' \\\n"
	      "\t\t'*::argument:->argument'\n"
	      "\tcase $state in\n"
	      "\tcommand)\n"
	      "\t\t_describe -t commands command commands\n"
	      "\t\t;;\n"
	      "\targument)\n"
	      "\t\tcase $words[1] in\n", f);
	for (size_t i = 0; ai_cmds[i]; i++) {
		struct walk w = { .f = f, .cmd = ai_cmds[i] };
		fprintf(f, "\t\t%s)\n\t\t\t_arguments \\\n", ai_cmds[i]->name);
		ai_options_each(ai_cmds[i], zsh_opt, &w);
		if (ai_cmds[i] == &ai_cmd_completion)
			fputs("\t\t\t\t'1:shell:(bash zsh fish)' \\\n", f);
		fputs("\t\t\t\t&& return 0\n\t\t\t;;\n", f);
	}
	fputs("\t\tesac\n"
	      "\t\t;;\n"
	      "\tesac\n"
	      "}\n"
	      "_aiarchive \"$@\"\n", f);
}

/* --- fish --------------------------------------------------------------- */

static void fish_line(FILE *f, const char *cond, const struct ai_option_info *o)
{
	char words[256];
	enum value v = value_of(o->arg, words, sizeof words);

	fprintf(f, "complete -c aiarchive -n '%s'", cond);
	if (o->shortc)
		fprintf(f, " -s %c", o->shortc);
	fprintf(f, " -l %s", o->name);
	if (v == V_WORDS)
		fprintf(f, " -x -a '%s'", words);
	else if (fish_action[v])
		fputs(fish_action[v], f);
	fputs(" -d '", f);
	put_fish(f, o->help);
	fputs("'\n", f);
}

struct fish_walk {
	FILE *f;
	char cond[64];
};

static void fish_opt(void *ctx, const struct ai_option_info *o)
{
	struct fish_walk *w = ctx;

	fish_line(w->f, w->cond, o);
}

static void fish_global(void *ctx, const struct ai_option_info *o)
{
	fish_line(ctx, "__fish_use_subcommand", o);
}

static void print_fish(FILE *f)
{
	fputs("# fish completion for aiarchive, made by 'aiarchive completion fish'.\n"
	      "complete -c aiarchive -f\n", f);
	for (size_t i = 0; ai_cmds[i]; i++) {
		fprintf(f, "complete -c aiarchive -n __fish_use_subcommand -a %s -d '",
		        ai_cmds[i]->name);
		put_fish(f, ai_cmds[i]->summary);
		fputs("'\n", f);
	}
	ai_options_each_global(fish_global, f);
	for (size_t i = 0; ai_cmds[i]; i++) {
		struct fish_walk w = { .f = f };
		snprintf(w.cond, sizeof w.cond, "__fish_seen_subcommand_from %s", ai_cmds[i]->name);
		ai_options_each(ai_cmds[i], fish_opt, &w);
	}
	fputs("complete -c aiarchive -n '__fish_seen_subcommand_from completion' -x -a "
	      "'bash zsh fish'\n", f);
}

static ai_result exec_completion(struct ai_ctx *ctx, int argc, char **argv)
{
	struct ai_options o;
	const char *shell;
	char *script = NULL;
	size_t len = 0;
	FILE *f = NULL;
	ai_result r;

	ai_options_init(&o);
	/* The shell is the command's one argument besides its options. */
	r = ai_options_parse(&ai_cmd_completion, ctx, argc, argv, &o);
	if (r != AI_OK || o.help)
		goto out;
	shell = o.operand;
	if (!shell) {
		r = ai_cmd_usage_error(&ai_cmd_completion, "which shell: bash, zsh or fish");
		goto out;
	}
	if (strcmp(shell, shells[0]) != 0 && strcmp(shell, shells[1]) != 0 &&
	    strcmp(shell, shells[2]) != 0) {
		snprintf(ctx->object, sizeof ctx->object, "%s", shell);
		r = ai_cmd_usage_error(&ai_cmd_completion, "'%s' is not bash, zsh or fish", shell);
		goto out;
	}
	/* --json: the script as a string in one object. */
	f = ctx->json ? open_memstream(&script, &len) : ctx->out;
	if (!f) {
		r = AI_ERR_NOMEM;
		goto out;
	}
	if (strcmp(shell, shells[0]) == 0)
		print_bash(f);
	else if (strcmp(shell, shells[1]) == 0)
		print_zsh(f);
	else
		print_fish(f);
	if (ctx->json) {
		if (fclose(f) != 0) {
			r = AI_ERR_NOMEM;
			goto out;
		}
		fprintf(ctx->out, "{\"shell\":\"%s\",\"script\":", shell);
		ai_json_string(ctx->out, script);
		fputs("}\n", ctx->out);
	}
out:
	free(script);
	ai_options_release(&o);
	return r;
}

const struct ai_cmd ai_cmd_completion = {
	.name = "completion",
	.bit = AI_CMD_COMPLETION,
	.args = "bash|zsh|fish",
	.operands = 1,
	.summary = "print a shell completion script (bash, zsh or fish)",
	.exec = exec_completion,
};
