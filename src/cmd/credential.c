/* credential.c: which credential each side uses and where it came from
 * (ARCHITECTURE.md §3): one table of the places a credential can be
 * given, searched by precedence of place, then of kind. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cmd/credential.h"
#include "store/azurl.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/regfile.h"

/* A SAS token, an account key or a connection string is far shorter. */
#define SECRET_FILE_MAX 8192

enum how { OPT_FILE, OPT_URL, ENV };
/* The levels, first found wins. */
enum level { L_CLI, L_ENV, L_CONFIG, L_COUNT };

/* The places, in the order of kinds within one level; the levels are the
 * command line, then the environment, then the config file. */
static const struct place {
	enum ai_cred_kind kind;
	enum how how;
	const char *name;  /* OPT_FILE: the option after "--<side>-"; ENV: after "AIARCHIVE_<SIDE>_" */
	const char *what;  /* OPT_FILE: the file in messages */
} places[] = {
	{ AI_CRED_SAS, OPT_FILE, "sas-file", "SAS file" },
	{ AI_CRED_SAS, OPT_URL, NULL, NULL },
	{ AI_CRED_ACCOUNT_KEY, OPT_FILE, "key-file", "key file" },
	{ AI_CRED_SAS, ENV, "SAS", NULL },
	{ AI_CRED_ACCOUNT_KEY, ENV, "KEY", NULL },
	{ AI_CRED_CONNECTION_STRING, ENV, "CONNECTION_STRING", NULL },
};
#define NPLACES (sizeof places / sizeof places[0])

const char *ai_cred_kind_name(enum ai_cred_kind k)
{
	switch (k) {
	case AI_CRED_SAS:
		return "SAS";
	case AI_CRED_ACCOUNT_KEY:
		return "account key";
	case AI_CRED_CONNECTION_STRING:
		return "connection string";
	case AI_CRED_NONE:
		break;
	}
	return "no credential";
}

static const char *side_url(const struct ai_options *o, const char *side)
{
	return strcmp(side, "source") == 0 ? o->source : strcmp(side, "witness") == 0 ? o->witness :
	       o->dest;
}

/* The option field of side for a place (NULL: not given). */
static const char *option_value(const struct ai_options *o, const char *side, enum how how,
                                const char *name)
{
	int src = strcmp(side, "source") == 0, wit = strcmp(side, "witness") == 0;

	if (how == OPT_URL) {
		const char *url = side_url(o, side);
		const char *q = url ? strchr(url, '?') : NULL;
		return q && q[1] ? q + 1 : NULL;
	}
	if (strcmp(name, "sas-file") == 0)
		return src ? o->source_sas_file : wit ? o->witness_sas_file : o->dest_sas_file;
	return src ? o->source_key_file : wit ? o->witness_key_file : o->dest_key_file;
}

/* Whether side's location is Azure's (http or https). */
static int azure_side(const struct ai_options *o, const char *side)
{
	const char *url = side_url(o, side);

	return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

/* Reads a secret from a file: the first line, trimmed. The file must be a
 * regular file only its owner can read (not a link, never waited on). */
static ai_result read_secret(const char *what, const char *path, char **out)
{
	char why[512], *s, *e;
	struct ai_buf b;
	ai_result r = AI_OK;

	ai_buf_init(&b, SECRET_FILE_MAX);
	if (ai_regfile_read(path, AI_REGFILE_SECRET, &b, why, sizeof why) != AI_OK) {
		ai_error("%s '%s': %s", what, path, why);
		r = AI_ERR_CONFIG;
		goto out;
	}
	b.data[strcspn(b.data, "\r\n")] = '\0';
	for (s = b.data; isspace((unsigned char)*s); s++)
		;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	if (e == s) {
		ai_error("%s '%s': the file is empty", what, path);
		r = AI_ERR_CONFIG;
		goto out;
	}
	if (!(*out = strndup(s, (size_t)(e - s))))
		r = AI_ERR_NOMEM;
out:
	if (b.data)
		ai_cleanse(b.data, b.alloc);
	ai_buf_release(&b);
	return r;
}

/* Takes the place p if side has it at level: the secret and its origin. */
static ai_result try_place(const struct ai_options *o, const char *side, const struct place *p,
                           enum level level, struct ai_credential *c, int *found)
{
	char opt[64], where[AI_CRED_ORIGIN_MAX - 100];
	const char *v;

	*found = 0;
	if (p->how == ENV) {
		char env[64], *up = env;
		if (level != L_ENV)
			return AI_OK;
		snprintf(env, sizeof env, "AIARCHIVE_%s_%s", side, p->name);
		for (; *up; up++)
			*up = (char)toupper((unsigned char)*up);
		v = getenv(env);
		if (!v || !*v)
			return AI_OK;
		*found = 1;
		snprintf(c->origin, sizeof c->origin, "%s", env);
		c->secret = strdup(v);
		return c->secret ? AI_OK : AI_ERR_NOMEM;
	}
	/* An option from its environment variable (AIARCHIVE_SOURCE_SAS_FILE)
	 * is of the environment's level. */
	v = option_value(o, side, p->how, p->name);
	if (p->how == OPT_URL)
		snprintf(opt, sizeof opt, "%s", side);
	else
		snprintf(opt, sizeof opt, "%s-%s", side, p->name);
	if (!v || ai_options_origin(o, opt, where, sizeof where) !=
	          (level == L_CLI ? AI_FROM_CLI : level == L_ENV ? AI_FROM_ENV : AI_FROM_CONFIG))
		return AI_OK;
	*found = 1;
	if (p->how == OPT_URL) {
		if (level == L_CLI)
			snprintf(c->origin, sizeof c->origin, "the --%s URL", side);
		else
			snprintf(c->origin, sizeof c->origin, "the %s URL of %s", side, where);
		c->secret = strdup(v);
		return c->secret ? AI_OK : AI_ERR_NOMEM;
	}
	if (level == L_CLI)
		snprintf(c->origin, sizeof c->origin, "--%s '%s'", opt, v);
	else
		snprintf(c->origin, sizeof c->origin, "%s (%s '%s')", where, opt, v);
	return read_secret(p->what, v, &c->secret);
}

/* Parses the SAS c authenticates with: the SAS itself, or one in a
 * connection string (a malformed connection string is the store's to
 * report). */
static ai_result parse_sas(const char *side, struct ai_credential *c)
{
	char why[256], *cs_sas = NULL;
	const char *token = NULL;
	ai_result r = AI_OK;

	if (c->kind == AI_CRED_SAS)
		token = c->secret;
	else if (c->kind == AI_CRED_CONNECTION_STRING &&
	         ai_connstr_parse(c->secret, NULL, NULL, NULL, &cs_sas) == AI_OK)
		token = cs_sas;
	if (token) {
		if (ai_sas_parse(token, &c->sas, why, sizeof why) == AI_OK) {
			c->has_sas = 1;
		} else {
			ai_error("%s: %s from %s: %s", side, ai_cred_kind_name(c->kind), c->origin, why);
			r = AI_ERR_CONFIG;
		}
	}
	if (cs_sas) {
		ai_cleanse(cs_sas, strlen(cs_sas));
		free(cs_sas);
	}
	return r;
}

static void describe(struct ai_credential *c)
{
	char facts[200] = "";
	int n;

	if (c->kind == AI_CRED_NONE) {
		snprintf(c->described, sizeof c->described, "no credential (anonymous access)");
		return;
	}
	if (c->has_sas)
		ai_sas_describe(&c->sas, facts, sizeof facts);
	n = snprintf(c->described, sizeof c->described, "%s from %s", ai_cred_kind_name(c->kind),
	             c->origin);
	if (*facts && n > 0 && (size_t)n < sizeof c->described)
		snprintf(c->described + n, sizeof c->described - (size_t)n, " (%s)", facts);
}

/* The Azure CLI's variables, for a side given nothing more specific: a
 * connection string whose AccountName is the side's account, else
 * AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_KEY when AZURE_STORAGE_ACCOUNT
 * names the side's account (so one account's secret never goes to
 * another). */
static ai_result try_azure_cli(const struct ai_options *o, const char *side,
                               struct ai_credential *c, int *found)
{
	static const struct { const char *var; enum ai_cred_kind kind; } vars[] = {
		{ "AZURE_STORAGE_SAS_TOKEN", AI_CRED_SAS },
		{ "AZURE_STORAGE_KEY", AI_CRED_ACCOUNT_KEY },
	};
	const char *cs = getenv("AZURE_STORAGE_CONNECTION_STRING");
	const char *account = getenv("AZURE_STORAGE_ACCOUNT");
	struct ai_azurl u;
	char *sas = NULL;

	*found = 0;
	if (ai_azurl_parse(side_url(o, side), &u, &sas) != AI_OK)
		return AI_OK;
	free(sas);
	if (cs && *cs) {
		char *name = NULL;
		int same = ai_connstr_parse(cs, &name, NULL, NULL, NULL) == AI_OK && name &&
		           strcmp(name, u.account) == 0;
		free(name);
		if (same) {
			*found = 1;
			c->kind = AI_CRED_CONNECTION_STRING;
			snprintf(c->origin, sizeof c->origin, "AZURE_STORAGE_CONNECTION_STRING");
			c->secret = strdup(cs);
			return c->secret ? AI_OK : AI_ERR_NOMEM;
		}
	}
	if (!account || strcmp(account, u.account) != 0)
		return AI_OK;
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i].var);
		if (!v || !*v)
			continue;
		*found = 1;
		c->kind = vars[i].kind;
		snprintf(c->origin, sizeof c->origin, "%s (AZURE_STORAGE_ACCOUNT=%s)", vars[i].var,
		         account);
		c->secret = strdup(v);
		return c->secret ? AI_OK : AI_ERR_NOMEM;
	}
	return AI_OK;
}

ai_result ai_credential_resolve(const struct ai_options *o, const char *side,
                                struct ai_credential *c)
{
	ai_result r = AI_OK;
	int found = 0;

	memset(c, 0, sizeof *c);
	for (int l = L_CLI; l < L_COUNT && !found && r == AI_OK; l++)
		for (size_t i = 0; i < NPLACES && !found && r == AI_OK; i++) {
			r = try_place(o, side, &places[i], (enum level)l, c, &found);
			if (found)
				c->kind = places[i].kind;
		}
	if (r == AI_OK && !found && azure_side(o, side))
		r = try_azure_cli(o, side, c, &found);
	if (r != AI_OK) {
		ai_credential_release(c);
		return r;
	}
	if (c->secret) {
		if (c->kind == AI_CRED_SAS && c->secret[0] == '?')
			memmove(c->secret, c->secret + 1, strlen(c->secret));
		ai_redact_add(c->secret);
	}
	/* A local directory takes no credential: nothing to judge. */
	if (azure_side(o, side))
		r = parse_sas(side, c);
	if (r != AI_OK) {
		ai_credential_release(c);
		return r;
	}
	describe(c);
	return AI_OK;
}

void ai_credential_release(struct ai_credential *c)
{
	if (c->secret) {
		ai_cleanse(c->secret, strlen(c->secret));
		free(c->secret);
	}
	memset(c, 0, sizeof *c);
}

ai_result ai_credential_check(const struct ai_credential *c, const char *side, const char *need,
                              int account_level, ai_time now)
{
	char why[512];

	if (!c->has_sas || ai_sas_check(&c->sas, need, account_level, now, why, sizeof why) == AI_OK)
		return AI_OK;
	ai_error("%s: %s from %s %s", side, ai_cred_kind_name(c->kind), c->origin, why);
	return AI_ERR_AUTH;
}
