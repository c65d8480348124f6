/* jsonout.h: writing JSON strings for the commands' --json output. */
#ifndef AI_JSONOUT_H
#define AI_JSONOUT_H

#include <stdio.h>

/* Writes s as a quoted JSON string (NULL as ""), escaping quotes,
 * backslashes and control characters; other bytes pass through. */
void ai_json_string(FILE *f, const char *s);

#endif
