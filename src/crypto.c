/* crypto.c: placeholder, replaced by the OpenSSL implementation. */
#include <string.h>
#include "crypto.h"

void ai_cleanse(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}
