/* test_sharedkey.c: Shared Key string-to-sign and signatures against the
 * vectors Azurite accepted, and the service's weighted header order. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>
#include "util/base64.h"
#include "store/sharedkey.h"

#define ACCOUNT "devstoreaccount1"
#define KEY_B64 "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define XMS "x-ms-date: Mon, 01 Jan 2024 00:00:00 GMT\nx-ms-version: 2025-11-05\n"
#define STS_XMS "x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\nx-ms-version:2025-11-05\n"

/* Up to 16 headers, parsed from "Name: value\n" lines. */
struct hdrs {
	char text[1024];
	struct ai_http_header h[16];
	size_t n;
};

static void parse_headers(struct hdrs *s, const char *lines)
{
	char *p, *nl, *colon;

	snprintf(s->text, sizeof s->text, "%s", lines);
	s->n = 0;
	for (p = s->text; *p && s->n < 16; p = nl + 1) {
		nl = strchr(p, '\n');
		cr_assert_not_null(nl);
		*nl = '\0';
		colon = strchr(p, ':');
		cr_assert_not_null(colon);
		*colon = '\0';
		s->h[s->n].name = p;
		s->h[s->n].value = colon[1] == ' ' ? colon + 2 : colon + 1;
		s->n++;
	}
}

static ai_result sts_of(const char *method, const char *account, const char *path,
                        const char *query, const char *headers, struct ai_buf *out)
{
	struct hdrs h;
	struct ai_sk_request r = { method, account, path, query, NULL, 0 };

	parse_headers(&h, headers);
	r.headers = h.h;
	r.nheaders = h.n;
	ai_buf_init(out, 1 << 16);
	return ai_sharedkey_string_to_sign(&r, out);
}

static void expect_sts(const char *method, const char *account, const char *path,
                       const char *query, const char *headers, const char *want)
{
	struct ai_buf b;

	cr_assert_eq(sts_of(method, account, path, query, headers, &b), AI_OK);
	cr_assert_str_eq(ai_buf_str(&b), want);
	ai_buf_release(&b);
}

struct vec {
	char name[4];
	char method[8];
	char path[64];
	char query[128];
	char headers[256];
	char sts[512];
	char auth[80];
};

ParameterizedTestParameters(sharedkey, azurite_vectors)
{
	static struct vec v[] = {
		{ "V1", "PUT", "/devstoreaccount1/mycontainer", "restype=container",
		  "Content-Length: 0\n" XMS,
		  "PUT\n\n\n\n\n\n\n\n\n\n\n\n" STS_XMS
		  "/devstoreaccount1/devstoreaccount1/mycontainer\nrestype:container",
		  "SharedKey devstoreaccount1:bNRA5uvlFlV/U9EQrS/ACZ/aynqUrVKf3D3CUxNSZ64=" },
		{ "V2", "PUT", "/devstoreaccount1/mycontainer/dir1/hello.txt", "",
		  "Content-Length: 11\nContent-Type: text/plain; charset=utf-8\nIf-None-Match: *\n"
		  "x-ms-blob-type: BlockBlob\nx-ms-meta-Owner: alice\n" XMS,
		  "PUT\n\n\n11\n\ntext/plain; charset=utf-8\n\n\n\n*\n\n\nx-ms-blob-type:BlockBlob\n"
		  "x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\nx-ms-meta-owner:alice\n"
		  "x-ms-version:2025-11-05\n/devstoreaccount1/devstoreaccount1/mycontainer/dir1/hello.txt",
		  "SharedKey devstoreaccount1:1tfoJGZ0/O47pIwIHqj32l5V7t+i52Ygq6+YYIEiQ1s=" },
		{ "V3", "GET", "/mycontainer",
		  "restype=container&comp=list&prefix=dir1%2F&delimiter=%2F&include=metadata&maxresults=2",
		  XMS,
		  "GET\n\n\n\n\n\n\n\n\n\n\n\n" STS_XMS "/devstoreaccount1/mycontainer\ncomp:list\n"
		  "delimiter:/\ninclude:metadata\nmaxresults:2\nprefix:dir1/\nrestype:container",
		  "SharedKey devstoreaccount1:mU5i3KkrUwZNsF/goLkR7kQnl12a1gcGKnW6M9/bs2s=" },
		{ "V4", "PUT", "/devstoreaccount1/mycontainer/vec.bin",
		  "comp=block&blockid=YmxvY2stMDAwMDAy", "Content-Length: 5\n" XMS,
		  "PUT\n\n\n5\n\n\n\n\n\n\n\n\n" STS_XMS "/devstoreaccount1/devstoreaccount1/mycontainer/"
		  "vec.bin\nblockid:YmxvY2stMDAwMDAy\ncomp:block",
		  "SharedKey devstoreaccount1:aLWm7n4phm+1B3HUeJBx2j8R+IWsM/U+lS/mW0W1Iok=" },
		{ "V5", "PUT", "/devstoreaccount1/mycontainer/vec2.bin",
		  "comp=block&blockid=YmxrLTAwMQ%3D%3D", "Content-Length: 5\n" XMS,
		  "PUT\n\n\n5\n\n\n\n\n\n\n\n\n" STS_XMS "/devstoreaccount1/devstoreaccount1/mycontainer/"
		  "vec2.bin\nblockid:YmxrLTAwMQ==\ncomp:block",
		  "SharedKey devstoreaccount1:PTFWY/zL3Mi33ec8uzm5r3SI3d6SHwCg0g6lRw9ux3k=" },
		{ "V6", "GET", "/devstoreaccount1/mycontainer/dir1/hello.txt", "",
		  "x-ms-range: bytes=0-4\n" XMS,
		  "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\n"
		  "x-ms-range:bytes=0-4\nx-ms-version:2025-11-05\n"
		  "/devstoreaccount1/devstoreaccount1/mycontainer/dir1/hello.txt",
		  "SharedKey devstoreaccount1:pXzl6Q9+hV+Ga1fpj+Gx+BGZ13DMw7hs3ite9vp6Tl4=" },
		{ "V7", "GET", "/devstoreaccount1-secondary/", "restype=service&comp=stats", XMS,
		  "GET\n\n\n\n\n\n\n\n\n\n\n\n" STS_XMS "/devstoreaccount1/devstoreaccount1-secondary/\n"
		  "comp:stats\nrestype:service",
		  "SharedKey devstoreaccount1:4AV7iSycG9wMWK/qXGqo6NRifSfweQ3EXFwxwoPF5Zw=" },
		{ "V8", "GET", "/devstoreaccount1/mycontainer",
		  "restype=container&comp=list&include=metadata%2Ctags&maxresults=1", XMS,
		  "GET\n\n\n\n\n\n\n\n\n\n\n\n" STS_XMS "/devstoreaccount1/devstoreaccount1/mycontainer\n"
		  "comp:list\ninclude:metadata,tags\nmaxresults:1\nrestype:container",
		  "SharedKey devstoreaccount1:oxF4+fy0cygX0zeTrln3/YlFUNDA9p3jSy6dq/c1xto=" },
	};
	return cr_make_param_array(struct vec, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct vec *v, sharedkey, azurite_vectors)
{
	uint8_t key[64];
	size_t keylen;
	char auth[128];
	struct hdrs h;
	struct ai_sk_request r = { v->method, ACCOUNT, v->path, v->query[0] ? v->query : NULL,
	                           NULL, 0 };

	expect_sts(v->method, ACCOUNT, v->path, r.query, v->headers, v->sts);
	parse_headers(&h, v->headers);
	r.headers = h.h;
	r.nheaders = h.n;
	cr_assert_eq(ai_base64_decode(KEY_B64, strlen(KEY_B64), key, sizeof key, &keylen), AI_OK);
	cr_assert_eq(ai_sharedkey_authorization(&r, key, keylen, auth, sizeof auth), AI_OK,
	             "%s", v->name);
	cr_assert_str_eq(auth, v->auth, "%s", v->name);
}

Test(sharedkey, authorization_refuses_a_short_buffer)
{
	struct ai_sk_request r = { "GET", ACCOUNT, "/c", NULL, NULL, 0 };
	char out[40];

	cr_assert_eq(ai_sharedkey_authorization(&r, (const uint8_t *)"k", 1, out, sizeof out),
	             AI_ERR_TOO_BIG);
}

Test(sharedkey, underscore_sorts_before_digits)
{
	cr_assert_lt(ai_sharedkey_header_cmp("x-ms-meta-i_", "x-ms-meta-i0"), 0);
	cr_assert_gt(ai_sharedkey_header_cmp("x-ms-meta-i0", "x-ms-meta-i_"), 0);
	cr_assert_lt(ai_sharedkey_header_cmp("x-ms-meta-foo_bar", "x-ms-meta-foo2_bar"), 0);
	cr_assert_gt(ai_sharedkey_header_cmp("x-ms-meta-foo2_bar", "x-ms-meta-foo_bar"), 0);
}

Test(sharedkey, digits_sort_before_letters_and_case_is_ignored)
{
	cr_assert_lt(ai_sharedkey_header_cmp("a_b", "a1"), 0);
	cr_assert_lt(ai_sharedkey_header_cmp("a1", "ab"), 0);
	cr_assert_lt(ai_sharedkey_header_cmp("a_b", "ab"), 0);
	cr_assert_eq(ai_sharedkey_header_cmp("x-ms-meta-AB", "x-ms-meta-ab"), 0);
	cr_assert_eq(ai_sharedkey_header_cmp("x-ms-date", "x-ms-date"), 0);
	cr_assert_lt(ai_sharedkey_header_cmp("x-ms-date", "x-ms-version"), 0);
	cr_assert_lt(ai_sharedkey_header_cmp("x-ms-meta-a", "x-ms-meta-ab"), 0);
}

Test(sharedkey, hyphens_count_only_when_all_else_is_equal)
{
	/* Ignored at level 0, so "a-c" sorts after "ab"; at level 1 the name
	 * whose hyphen comes later (or never) sorts first. */
	cr_assert_lt(ai_sharedkey_header_cmp("x-ms-meta-ab", "x-ms-meta-a-c"), 0);
	cr_assert_lt(ai_sharedkey_header_cmp("x-ms-meta-ab", "x-ms-meta-a-b"), 0);
	cr_assert_gt(ai_sharedkey_header_cmp("x-ms-meta-a-b", "x-ms-meta-ab"), 0);
	cr_assert_lt(ai_sharedkey_header_cmp("x-ms-meta-ab-", "x-ms-meta-a-b"), 0);
}

Test(sharedkey, comparator_is_antisymmetric)
{
	static const char *names[] = {
		"x-ms-meta-i_", "x-ms-meta-i0", "x-ms-meta-a-b", "x-ms-meta-ab", "x-ms-meta-a1",
		"x-ms-meta-a_b", "x-ms-meta-foo2_bar", "x-ms-meta-foo_bar", "x-ms-date",
		"x-ms-version", "x-ms-blob-type", "x-ms-meta-a.b", "x-ms-meta-a~b", "x-ms-meta-",
	};
	size_t n = sizeof names / sizeof names[0];

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int a = ai_sharedkey_header_cmp(names[i], names[j]);
			int b = ai_sharedkey_header_cmp(names[j], names[i]);

			cr_assert_eq(a > 0, b < 0, "%s vs %s", names[i], names[j]);
			cr_assert_eq(a == 0, i == j, "%s vs %s", names[i], names[j]);
		}
}

Test(sharedkey, metadata_headers_sign_in_weighted_order)
{
	expect_sts("PUT", "acct", "/c/b", NULL,
	           "x-ms-meta-ab: 3\nx-ms-meta-i0: 1\nx-ms-meta-a1: 5\nx-ms-meta-i_: 2\n"
	           "x-ms-meta-a_b: 4\nx-ms-meta-a-b: 6\n",
	           "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-meta-a_b:4\nx-ms-meta-a1:5\nx-ms-meta-ab:3\n"
	           "x-ms-meta-a-b:6\nx-ms-meta-i_:2\nx-ms-meta-i0:1\n/acct/c/b");
	expect_sts("PUT", "acct", "/c/b", NULL, "x-ms-meta-FOO2_BAR: x\nx-ms-meta-FOO_BAR: y\n",
	           "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-meta-foo_bar:y\nx-ms-meta-foo2_bar:x\n/acct/c/b");
}

Test(sharedkey, content_length_zero_or_absent_is_an_empty_line)
{
	const char *want = "PUT\n\n\n\n\n\n\n\n\n\n\n\n/a/c";

	expect_sts("PUT", "a", "/c", NULL, "Content-Length: 0\n", want);
	expect_sts("PUT", "a", "/c", NULL, "", want);
	expect_sts("PUT", "a", "/c", NULL, "content-length: 10\n",
	           "PUT\n\n\n10\n\n\n\n\n\n\n\n\n/a/c");
}

Test(sharedkey, standard_headers_in_their_fixed_order)
{
	expect_sts("GET", "a", "/c/b", NULL,
	           "Range: bytes=0-1\nIf-Unmodified-Since: U\nIf-None-Match: N\nIf-Match: \"M\"\n"
	           "If-Modified-Since: S\nDate: D\nContent-Type: T\nContent-MD5: 5\n"
	           "Content-Length: 7\nContent-Language: L\nContent-Encoding: E\nAccept: x\n",
	           "GET\nE\nL\n7\n5\nT\nD\nS\n\"M\"\nN\nU\nbytes=0-1\n/a/c/b");
}

Test(sharedkey, docs_create_container_example)
{
	expect_sts("PUT", "myaccount", "/mycontainer", "restype=container&timeout=30",
	           "Content-Length: 0\nx-ms-date: Fri, 26 Jun 2015 23:39:12 GMT\n"
	           "x-ms-version: 2015-02-21\n",
	           "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\n"
	           "x-ms-version:2015-02-21\n/myaccount/mycontainer\nrestype:container\ntimeout:30");
}

Test(sharedkey, repeated_query_values_are_sorted_and_joined)
{
	expect_sts("GET", "myaccount", "/mycontainer",
	           "restype=container&comp=list&include=snapshots&include=metadata"
	           "&include=uncommittedblobs", "",
	           "GET\n\n\n\n\n\n\n\n\n\n\n\n/myaccount/mycontainer\ncomp:list\n"
	           "include:metadata,snapshots,uncommittedblobs\nrestype:container");
}

Test(sharedkey, query_names_are_lowercased_and_values_decoded)
{
	expect_sts("GET", "a", "/c", "Comp=List&blockid=YQ%2Bb%2F%3D%3D&x=a+b&e=&flag", "",
	           "GET\n\n\n\n\n\n\n\n\n\n\n\n/a/c\nblockid:YQ+b/==\ncomp:List\ne:\nflag:\nx:a b");
}

Test(sharedkey, path_is_signed_as_sent_and_root_is_a_slash)
{
	expect_sts("GET", "a", "/c/sp%20ace%2Bplus.txt", NULL, "",
	           "GET\n\n\n\n\n\n\n\n\n\n\n\n/a/c/sp%20ace%2Bplus.txt");
	expect_sts("GET", "a", "", "comp=list", "", "GET\n\n\n\n\n\n\n\n\n\n\n\n/a/\ncomp:list");
	expect_sts("GET", "myaccount", "/mycontainer/myblob", NULL, "",
	           "GET\n\n\n\n\n\n\n\n\n\n\n\n/myaccount/mycontainer/myblob");
}

Test(sharedkey, header_values_are_trimmed_and_folded_outside_quotes)
{
	expect_sts("GET", "a", "/c", NULL,
	           "X-MS-Meta-A:   one   two\t three  \nx-ms-meta-b: \"q   r\"   s\nx-ms-meta-c:\n",
	           "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-meta-a:one two three\nx-ms-meta-b:\"q   r\" s\n"
	           "x-ms-meta-c:\n/a/c");
}

Test(sharedkey, refuses_duplicates_and_bad_escapes)
{
	struct ai_buf b;

	cr_assert_eq(sts_of("GET", "a", "/c", NULL, "x-ms-meta-a: 1\nX-MS-META-A: 2\n", &b),
	             AI_ERR_BAD_INPUT);
	ai_buf_release(&b);
	cr_assert_eq(sts_of("GET", "a", "/c", NULL, "Range: a\nrange: a\n", &b), AI_ERR_BAD_INPUT);
	ai_buf_release(&b);
	cr_assert_eq(sts_of("GET", "a", "/c", "x=%zz", "", &b), AI_ERR_BAD_INPUT);
	ai_buf_release(&b);
	cr_assert_eq(sts_of("GET", "a", "/c", "x=a%00b", "", &b), AI_ERR_BAD_INPUT);
	ai_buf_release(&b);
}
