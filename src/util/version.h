/* version.h: versions of the libraries aiarchive is running with. */
#ifndef AI_VERSION_H
#define AI_VERSION_H

#include <stdio.h>

/* Prints one "name version" line per library to f. */
void ai_print_library_versions(FILE *f);

#endif
