/* gz.c: placeholder, replaced by the zlib implementation. */
#include "gz.h"
