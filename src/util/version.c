/* version.c: library versions; the one place that touches every
 * third-party header, for reporting only. */
#include <curl/curl.h>
#include <expat.h>
#include <msgpack.h>
#include <openssl/crypto.h>
#include <zlib.h>
#include "util/version.h"

void ai_print_library_versions(FILE *f)
{
	fprintf(f, "libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
	fprintf(f, "%s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(f, "zlib %s\n", zlibVersion());
	fprintf(f, "msgpack-c %s\n", msgpack_version());
	fprintf(f, "%s\n", XML_ExpatVersion());
}
