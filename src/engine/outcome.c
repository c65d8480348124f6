/* outcome.c: the last outcome of a command, kept by the host. The file is
 * text, one "key value" line each after the first line:
 *
 *   aiarchive-outcome 1
 *   command run
 *   time 2026-11-24T14:30:05.123456789Z
 *   exit 1
 *   result partial
 *   run 20261124T143005Z-1a2b3c4d
 *   error partial success
 *
 * A reader ignores keys it does not know; it needs command, time, exit and
 * result. It is replaced through a fresh temporary name (regfile.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/outcome.h"
#include "engine/witness.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/regfile.h"

#define OUTCOME_MAX 4096

void ai_outcome_make(struct ai_outcome *o, const char *command, ai_result r, ai_time now,
                     const char *run_id)
{
	memset(o, 0, sizeof *o);
	snprintf(o->command, sizeof o->command, "%s", command);
	o->time = now;
	o->exit_code = ai_exit_code(r);
	snprintf(o->result, sizeof o->result, "%s",
	         r == AI_OK ? "ok" : r == AI_ERR_PARTIAL ? "partial"
	         : r == AI_ERR_NOTHING ? "nothing" : "failed");
	snprintf(o->run_id, sizeof o->run_id, "%s", run_id ? run_id : "");
	if (r != AI_OK && r != AI_ERR_NOTHING)
		snprintf(o->error, sizeof o->error, "%s", ai_strerror(r));
}

static int outcome_path(const char *dir, const struct ai_store *dest, const char *command,
                        char *out, size_t cap, int only_dir)
{
	char archive[2048], hex[33];
	int n;

	ai_archive_location_hash(dest, archive, sizeof archive, hex);
	n = only_dir ? snprintf(out, cap, "%s/outcome", dir)
	             : snprintf(out, cap, "%s/outcome/%s.%s", dir, hex, command);
	return n > 0 && (size_t)n < cap;
}

/* Whether s can go on one line of the file. */
static int one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

ai_result ai_outcome_write(const char *dir, const struct ai_store *dest,
                           const struct ai_outcome *o)
{
	char path[4096], when[AI_TIME_STRLEN];
	struct ai_buf b;
	ai_result r;

	if (!outcome_path(dir, dest, o->command, path, sizeof path, 1)) {
		ai_warn("state directory '%s': too long a path", dir);
		return AI_ERR_CONFIG;
	}
	r = ai_state_dir_make(path);
	if (r != AI_OK) {
		ai_warn("%s: the %s's outcome is not recorded", ai_store_why(r), o->command);
		return r;
	}
	(void)outcome_path(dir, dest, o->command, path, sizeof path, 0);
	ai_time_format(o->time, 9, when);
	ai_buf_init(&b, OUTCOME_MAX);
	r = ai_buf_printf(&b, "aiarchive-outcome 1\ncommand %s\ntime %s\nexit %d\nresult %s\n",
	                  o->command, when, o->exit_code, o->result);
	if (r == AI_OK && *o->run_id && one_line(o->run_id))
		r = ai_buf_printf(&b, "run %s\n", o->run_id);
	if (r == AI_OK && *o->error && one_line(o->error))
		r = ai_buf_printf(&b, "error %s\n", o->error);
	if (r == AI_OK)
		r = ai_regfile_replace(path, b.data, b.len, 0600);
	/* ai_regfile_replace leaves errno saying why (a full disk, say) */
	if (r != AI_OK)
		ai_warn("outcome '%s': not written (%s)", path,
		        r == AI_ERR_IO && errno ? strerror(errno) : ai_strerror(r));
	ai_buf_release(&b);
	return r;
}

/* The value of "key value" at the start of line, or NULL. */
static const char *value_of(const char *line, const char *key)
{
	size_t n = strlen(key);

	return strncmp(line, key, n) == 0 && line[n] == ' ' ? line + n + 1 : NULL;
}

static ai_result parse(char *text, const char *command, struct ai_outcome *o)
{
	char *line, *save = NULL;
	int have = 0, first = 1;

	memset(o, 0, sizeof *o);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *v;
		if (first) {
			if (strcmp(line, "aiarchive-outcome 1") != 0)
				return AI_ERR_BAD_INPUT;
			first = 0;
		} else if ((v = value_of(line, "command"))) {
			if (strcmp(v, command) != 0)
				return AI_ERR_BAD_INPUT;
			snprintf(o->command, sizeof o->command, "%s", v);
			have |= 1;
		} else if ((v = value_of(line, "time"))) {
			if (ai_parse_time(v, strlen(v), &o->time) != AI_OK)
				return AI_ERR_BAD_INPUT;
			have |= 2;
		} else if ((v = value_of(line, "exit"))) {
			char *end;
			long x = strtol(v, &end, 10);
			if (end == v || *end || x < 0 || x > 255)
				return AI_ERR_BAD_INPUT;
			o->exit_code = (int)x;
			have |= 4;
		} else if ((v = value_of(line, "result"))) {
			snprintf(o->result, sizeof o->result, "%s", v);
			have |= 8;
		} else if ((v = value_of(line, "run"))) {
			snprintf(o->run_id, sizeof o->run_id, "%s", v);
		} else if ((v = value_of(line, "error"))) {
			snprintf(o->error, sizeof o->error, "%s", v);
		}
	}
	return have == 15 ? AI_OK : AI_ERR_BAD_INPUT;
}

ai_result ai_outcome_read(const char *dir, const struct ai_store *dest, const char *command,
                          struct ai_outcome *o)
{
	char path[4096], why[256] = "";
	struct ai_buf b;
	ai_result r;

	memset(o, 0, sizeof *o);
	if (!outcome_path(dir, dest, command, path, sizeof path, 0))
		return AI_ERR_NOT_FOUND;
	ai_buf_init(&b, OUTCOME_MAX);
	r = ai_regfile_read(path, 0, &b, why, sizeof why);
	if (r == AI_OK && ai_buf_addc(&b, '\0') != AI_OK)
		r = AI_ERR_TOO_BIG;
	if (r == AI_OK && (strlen(b.data) != b.len - 1 || parse(b.data, command, o) != AI_OK))
		r = AI_ERR_BAD_INPUT;
	if (r == AI_ERR_BAD_INPUT)
		ai_warn("outcome '%s': not an outcome file of '%s'; ignored", path, command);
	else if (r != AI_OK && r != AI_ERR_NOT_FOUND)
		ai_warn("outcome '%s': %s; ignored", path, *why ? why : ai_strerror(r));
	ai_buf_release(&b);
	return r == AI_OK || r == AI_ERR_NOT_FOUND ? r : AI_ERR_BAD_INPUT;
}
