/* test_azurl.c: storage URLs in every style, connection strings, endpoints
 * and percent-encoding. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include "store/azurl.h"

#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

struct urlcase {
	char url[160];
	char scheme[8];
	char host[64];
	unsigned port;
	char account[32];
	int path_style;
	int secondary;
	char container[72];
	char prefix[64];
	char sas[64];
};

ParameterizedTestParameters(azurl, parses_good_urls)
{
	static struct urlcase v[] = {
		{ "https://acct.blob.core.windows.net/archive", "https",
		  "acct.blob.core.windows.net", 0, "acct", 0, 0, "archive", "", "" },
		{ "https://acct.blob.core.windows.net/archive/", "https",
		  "acct.blob.core.windows.net", 0, "acct", 0, 0, "archive", "", "" },
		{ "https://acct.blob.core.windows.net/archive/app/logs", "https",
		  "acct.blob.core.windows.net", 0, "acct", 0, 0, "archive", "app/logs/", "" },
		{ "https://acct.blob.core.windows.net/archive/app%20x/y%2Bz/", "https",
		  "acct.blob.core.windows.net", 0, "acct", 0, 0, "archive", "app x/y+z/", "" },
		{ "https://acct.blob.core.windows.net", "https",
		  "acct.blob.core.windows.net", 0, "acct", 0, 0, "", "", "" },
		{ "https://acct.blob.core.windows.net/", "https",
		  "acct.blob.core.windows.net", 0, "acct", 0, 0, "", "", "" },
		{ "https://ACCT.blob.core.windows.net/c-1", "https",
		  "ACCT.blob.core.windows.net", 0, "acct", 0, 0, "c-1", "", "" },
		{ "https://acct-secondary.blob.core.windows.net/archive", "https",
		  "acct-secondary.blob.core.windows.net", 0, "acct", 0, 1, "archive", "", "" },
		{ "https://acct.blob.core.chinacloudapi.cn/abc", "https",
		  "acct.blob.core.chinacloudapi.cn", 0, "acct", 0, 0, "abc", "", "" },
		{ "http://devstoreaccount1.blob.localhost:10000/mycontainer", "http",
		  "devstoreaccount1.blob.localhost", 10000, "devstoreaccount1", 0, 0, "mycontainer",
		  "", "" },
		{ "http://127.0.0.1:10000/devstoreaccount1/mycontainer/dir1", "http", "127.0.0.1",
		  10000, "devstoreaccount1", 1, 0, "mycontainer", "dir1/", "" },
		{ "http://127.0.0.1:10000/devstoreaccount1", "http", "127.0.0.1", 10000,
		  "devstoreaccount1", 1, 0, "", "", "" },
		{ "http://127.0.0.1:10000/devstoreaccount1-secondary/c0c", "http", "127.0.0.1", 10000,
		  "devstoreaccount1", 1, 1, "c0c", "", "" },
		{ "HTTP://localhost:10000/devstoreaccount1/abc/x/y/", "http", "localhost", 10000,
		  "devstoreaccount1", 1, 0, "abc", "x/y/", "" },
		{ "http://azurite:10000/devstoreaccount1/abc", "http", "azurite", 10000,
		  "devstoreaccount1", 1, 0, "abc", "", "" },
		{ "http://[::1]:10000/devstoreaccount1/abc", "http", "[::1]", 10000,
		  "devstoreaccount1", 1, 0, "abc", "", "" },
		{ "https://acct.blob.core.windows.net/abc/p?sv=2025-11-05&sig=a%2Bb%3D", "https",
		  "acct.blob.core.windows.net", 0, "acct", 0, 0, "abc", "p/",
		  "sv=2025-11-05&sig=a%2Bb%3D" },
		{ "https://acct.blob.core.windows.net?sv=1", "https", "acct.blob.core.windows.net",
		  0, "acct", 0, 0, "", "", "sv=1" },
		{ "https://acct.blob.core.windows.net/$logs", "https", "acct.blob.core.windows.net",
		  0, "acct", 0, 0, "$logs", "", "" },
		{ "https://acct.blob.core.windows.net/" "a23456789012345678901234567890123456789012"
		  "345678901234567890123", "https", "acct.blob.core.windows.net", 0, "acct", 0, 0,
		  "a23456789012345678901234567890123456789012345678901234567890123", "", "" },
	};
	return cr_make_param_array(struct urlcase, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct urlcase *v, azurl, parses_good_urls)
{
	struct ai_azurl u;
	char *sas = NULL;

	cr_assert_eq(ai_azurl_parse(v->url, &u, &sas), AI_OK, "%s", v->url);
	cr_assert_str_eq(u.scheme, v->scheme);
	cr_assert_str_eq(u.host, v->host);
	cr_assert_eq(u.port, v->port);
	cr_assert_str_eq(u.account, v->account);
	cr_assert_eq(u.path_style, v->path_style, "%s", v->url);
	cr_assert_eq(u.secondary, v->secondary, "%s", v->url);
	cr_assert_str_eq(u.container, v->container);
	cr_assert_str_eq(u.prefix, v->prefix);
	if (v->sas[0])
		cr_assert_str_eq(sas, v->sas);
	else
		cr_assert_null(sas);
	free(sas);
}

struct badurl {
	char url[128];
};

ParameterizedTestParameters(azurl, rejects_bad_urls)
{
	static struct badurl v[] = {
		{ "" },
		{ "ftp://acct.blob.core.windows.net/abc" },
		{ "acct.blob.core.windows.net/abc" },
		{ "https:///abc" },
		{ "https://acct.blob.core.windows.net/ab" },
		{ "https://acct.blob.core.windows.net/Archive" },
		{ "https://acct.blob.core.windows.net/a--b" },
		{ "https://acct.blob.core.windows.net/-ab" },
		{ "https://acct.blob.core.windows.net/ab-" },
		{ "https://acct.blob.core.windows.net/a_b" },
		{ "https://acct.blob.core.windows.net/a23456789012345678901234567890123456789012345678"
		  "9012345678901234" },
		{ "https://acct.blob.core.windows.net//abc" },
		{ "https://acct.blob.core.windows.net/abc//x" },
		{ "https://acct.blob.core.windows.net/abc/%zz" },
		{ "https://acct.blob.core.windows.net/abc/a%00b" },
		{ "https://acct.blob.core.windows.net/abc#frag" },
		{ "https://user:pw@acct.blob.core.windows.net/abc" },
		{ "https://acct.blob.core.windows.net:0/abc" },
		{ "https://acct.blob.core.windows.net:99999/abc" },
		{ "https://acct.blob.core.windows.net:x/abc" },
		{ "https://ac_ct.blob.core.windows.net/abc" },
		{ "https://-secondary.blob.core.windows.net/abc" },
		{ "http://127.0.0.1:10000" },
		{ "http://127.0.0.1:10000/" },
		{ "http://127.0.0.1:10000//abc" },
		{ "http://127.0.0.1:10000/dev_acct/abc" },
		{ "http://[::1/devstoreaccount1" },
		{ "https://ac ct.blob.core.windows.net/abc" },
		{ "https://acct.blob.core.windows.net\\x/abc" },
	};
	return cr_make_param_array(struct badurl, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct badurl *v, azurl, rejects_bad_urls)
{
	static char unset[] = "unset";
	struct ai_azurl u;
	char *sas = unset;

	cr_assert_eq(ai_azurl_parse(v->url, &u, &sas), AI_ERR_CONFIG, "%s", v->url);
	cr_assert_null(sas);
}

Test(azurl, long_prefix_is_refused)
{
	char url[2048] = "https://acct.blob.core.windows.net/abc/";
	struct ai_azurl u;
	char *sas;

	memset(url + strlen(url), 'x', 1100);
	cr_assert_eq(ai_azurl_parse(url, &u, &sas), AI_ERR_CONFIG);
}

static void expect_endpoint(const char *url, int secondary, const char *want)
{
	struct ai_azurl u;
	struct ai_buf b;
	char *sas;

	cr_assert_eq(ai_azurl_parse(url, &u, &sas), AI_OK, "%s", url);
	free(sas);
	ai_buf_init(&b, 1024);
	cr_assert_eq(ai_azurl_endpoint(&u, secondary, &b), AI_OK);
	cr_assert_str_eq(ai_buf_str(&b), want);
	ai_buf_release(&b);
}

Test(azurl, endpoints_for_every_style)
{
	expect_endpoint("https://acct.blob.core.windows.net/c00/p", 0,
	                "https://acct.blob.core.windows.net");
	expect_endpoint("https://acct.blob.core.windows.net/c00/p", 1,
	                "https://acct-secondary.blob.core.windows.net");
	expect_endpoint("https://acct-secondary.blob.core.windows.net/c00", 0,
	                "https://acct.blob.core.windows.net");
	expect_endpoint("http://devstoreaccount1.blob.localhost:10000/c00", 1,
	                "http://devstoreaccount1-secondary.blob.localhost:10000");
	expect_endpoint("http://127.0.0.1:10000/devstoreaccount1/c00", 0,
	                "http://127.0.0.1:10000/devstoreaccount1");
	expect_endpoint("http://127.0.0.1:10000/devstoreaccount1/c00", 1,
	                "http://127.0.0.1:10000/devstoreaccount1-secondary");
	expect_endpoint("http://127.0.0.1:10000/devstoreaccount1-secondary", 0,
	                "http://127.0.0.1:10000/devstoreaccount1");
	expect_endpoint("http://[::1]/devstoreaccount1", 1, "http://[::1]/devstoreaccount1-secondary");
}

struct cs {
	char *account, *key, *endpoint, *sas;
};

static ai_result parse_cs(const char *s, struct cs *c)
{
	return ai_connstr_parse(s, &c->account, &c->key, &c->endpoint, &c->sas);
}

static void free_cs(struct cs *c)
{
	free(c->account);
	free(c->key);
	free(c->endpoint);
	free(c->sas);
}

Test(azurl, azurite_connection_string)
{
	struct cs c;

	cr_assert_eq(parse_cs("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
	                      "AccountKey=" DEV_KEY ";"
	                      "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;", &c), AI_OK);
	cr_assert_str_eq(c.account, "devstoreaccount1");
	cr_assert_str_eq(c.key, DEV_KEY);
	cr_assert_str_eq(c.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
	cr_assert_null(c.sas);
	free_cs(&c);
}

Test(azurl, development_storage_shorthand)
{
	struct cs c;

	cr_assert_eq(parse_cs("UseDevelopmentStorage=true;", &c), AI_OK);
	cr_assert_str_eq(c.account, "devstoreaccount1");
	cr_assert_str_eq(c.key, DEV_KEY);
	cr_assert_str_eq(c.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
	free_cs(&c);
	cr_assert_eq(parse_cs("UseDevelopmentStorage=false", &c), AI_ERR_CONFIG);
}

Test(azurl, sas_connection_string_without_key)
{
	struct cs c;

	cr_assert_eq(parse_cs(" BlobEndpoint = https://acct.blob.core.windows.net/ ; "
	                      "SharedAccessSignature=?sv=2025-11-05&sig=a%2Bb%3D", &c), AI_OK);
	cr_assert_null(c.account);
	cr_assert_null(c.key);
	cr_assert_str_eq(c.endpoint, "https://acct.blob.core.windows.net");
	cr_assert_str_eq(c.sas, "sv=2025-11-05&sig=a%2Bb%3D");
	free_cs(&c);
}

Test(azurl, endpoint_built_from_account_and_suffix)
{
	struct cs c;

	cr_assert_eq(parse_cs("accountname=acct;ACCOUNTKEY=a2V5==;"
	                      "EndpointSuffix=core.chinacloudapi.cn", &c), AI_OK);
	cr_assert_str_eq(c.account, "acct");
	cr_assert_str_eq(c.key, "a2V5==");
	cr_assert_str_eq(c.endpoint, "https://acct.blob.core.chinacloudapi.cn");
	free_cs(&c);
	cr_assert_eq(parse_cs("DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=k=;"
	                      "QueueEndpoint=http://q", &c), AI_OK);
	cr_assert_str_eq(c.endpoint, "http://acct.blob.core.windows.net");
	free_cs(&c);
}

Test(azurl, connection_string_outputs_may_be_skipped)
{
	char *endpoint;

	cr_assert_eq(ai_connstr_parse("AccountName=acct;AccountKey=k", NULL, NULL, &endpoint, NULL),
	             AI_OK);
	cr_assert_str_eq(endpoint, "https://acct.blob.core.windows.net");
	free(endpoint);
}

struct badcs {
	char s[96];
};

ParameterizedTestParameters(azurl, rejects_malformed_connection_strings)
{
	static struct badcs v[] = {
		{ "" },
		{ "AccountKey=a2V5" },
		{ "AccountName" },
		{ "=x;AccountName=a" },
		{ "AccountName=a;AccountName=b" },
		{ "AccountName=;AccountKey=k" },
		{ "AccountName=a;DefaultEndpointsProtocol=ftp" },
		{ "BlobEndpoint=/" },
		{ "UseDevelopmentStorage=yes" },
	};
	return cr_make_param_array(struct badcs, v, sizeof v / sizeof v[0]);
}

ParameterizedTest(struct badcs *v, azurl, rejects_malformed_connection_strings)
{
	static char x[] = "x";
	struct cs c = { x, x, x, x };

	cr_assert_eq(parse_cs(v->s, &c), AI_ERR_CONFIG, "%s", v->s);
	cr_assert(!c.account && !c.key && !c.endpoint && !c.sas);
}

static void expect_encoded(const char *in, int query, const char *want)
{
	struct ai_buf b;

	ai_buf_init(&b, 1024);
	cr_assert_eq(query ? ai_url_encode_query(in, &b) : ai_url_encode_path(in, &b), AI_OK);
	cr_assert_str_eq(ai_buf_str(&b), want);
	ai_buf_reset(&b);
	cr_assert_eq(ai_url_decode(want, strlen(want), &b), AI_OK);
	cr_assert_str_eq(ai_buf_str(&b), in);
	ai_buf_release(&b);
}

Test(azurl, encoding_round_trips)
{
	expect_encoded("a b+c=d/e%f", 0, "a%20b%2Bc%3Dd/e%25f");
	expect_encoded("a b+c=d/e%f", 1, "a%20b%2Bc%3Dd%2Fe%25f");
	expect_encoded("YmxrLTAwMQ==", 1, "YmxrLTAwMQ%3D%3D");
	expect_encoded("Az09-._~", 1, "Az09-._~");
	expect_encoded("caf\xc3\xa9/\xe2\x82\xac", 0, "caf%C3%A9/%E2%82%AC");
	expect_encoded("", 1, "");
}

Test(azurl, every_byte_round_trips)
{
	char in[256];
	struct ai_buf enc, dec;

	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	ai_buf_init(&enc, 4096);
	ai_buf_init(&dec, 4096);
	cr_assert_eq(ai_url_encode_query(in, &enc), AI_OK);
	cr_assert_eq(ai_url_decode(enc.data, enc.len, &dec), AI_OK);
	cr_assert_str_eq(ai_buf_str(&dec), in);
	ai_buf_release(&enc);
	ai_buf_release(&dec);
}

Test(azurl, decoding_keeps_plus_except_in_queries)
{
	struct ai_buf b;

	ai_buf_init(&b, 64);
	cr_assert_eq(ai_url_decode("a+b%2b%2F", 9, &b), AI_OK);
	cr_assert_str_eq(ai_buf_str(&b), "a+b+/");
	ai_buf_reset(&b);
	cr_assert_eq(ai_url_decode_query("a+b%2B", 6, &b), AI_OK);
	cr_assert_str_eq(ai_buf_str(&b), "a b+");
	ai_buf_release(&b);
}

Test(azurl, decoding_rejects_bad_escapes)
{
	static const char *bad[] = { "%", "%4", "a%g1", "%1g", "ab%" };
	struct ai_buf b;

	ai_buf_init(&b, 64);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(ai_url_decode(bad[i], strlen(bad[i]), &b), AI_ERR_BAD_INPUT, "%s", bad[i]);
	/* Only the first n bytes count: the escape is cut short. */
	cr_assert_eq(ai_url_decode("%41", 2, &b), AI_ERR_BAD_INPUT);
	ai_buf_release(&b);
}
