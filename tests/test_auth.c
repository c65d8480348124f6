/* test_auth.c: Entra ID tokens: the token responses of every endpoint, the
 * service principal's JWT assertion (checked with OpenSSL against its
 * certificate), the token cache shared by threads with its early refresh
 * (through a stand-in `az` on PATH), that no secret reaches a message, and
 * that a refused or reset IMDS is tried again (a listener in the test). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "store/auth/auth_int.h"
#include "store/auth/token.h"
#include "store/store.h"
#include "util/base64.h"
#include "util/crypto.h"
#include "util/log.h"

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static ai_result parse(const char *json, struct ai_token *t, char *why)
{
	return ai_token_parse(json, strlen(json), 1000000, t, why, 200);
}

Test(auth, parses_imds_answers_with_string_fields)
{
	struct ai_token t;
	char why[200];

	cr_assert_eq(parse("{\"access_token\":\"eyJ0.a.b\",\"client_id\":\"x\",\"expires_in\":\"86399\","
	                   "\"expires_on\":\"1003600\",\"ext_expires_in\":\"86399\",\"not_before\":"
	                   "\"999999\",\"resource\":\"https://storage.azure.com\",\"token_type\":"
	                   "\"Bearer\"}", &t, why), AI_OK, "%s", why);
	cr_assert_str_eq(t.access_token, "eyJ0.a.b");
	cr_assert_eq(t.expires_on, 1003600, "expires_on wins over expires_in");
	cr_assert_eq(t.refresh_on, 0);
	ai_token_release(&t);
	cr_assert_null(t.access_token);
}

Test(auth, parses_entra_answers_with_numbers_and_refresh_in)
{
	struct ai_token t;
	char why[200];

	cr_assert_eq(parse("{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
	                   "\"refresh_in\":1799,\"access_token\":\"tok\"}", &t, why), AI_OK, "%s", why);
	cr_assert_eq(t.expires_on, 1000000 + 3599);
	cr_assert_eq(t.refresh_on, 1000000 + 1799);
	ai_token_release(&t);
	cr_assert_eq(parse("{\"expires_on\":1007200,\"access_token\":\"tok\"}", &t, why), AI_OK);
	cr_assert_eq(t.expires_on, 1007200);
	ai_token_release(&t);
	cr_assert_eq(parse(" {\"expires_in\":\"60\" , \"access_token\" : \"t\\/k\"} ", &t, why),
	             AI_OK, "%s", why);
	cr_assert_str_eq(t.access_token, "t/k", "escapes are undone");
	ai_token_release(&t);
}

Test(auth, parses_the_azure_cli_output)
{
	struct ai_token t;
	char why[200];

	cr_assert_eq(parse("{\n  \"accessToken\": \"cli-token\",\n  \"expiresOn\": \"2026-12-02 "
	                   "05:00:00.000000\",\n  \"expires_on\": 1004000,\n  \"subscription\": "
	                   "\"s\",\n  \"tenant\": \"t\",\n  \"tokenType\": \"Bearer\"\n}\n", &t, why),
	             AI_OK, "%s", why);
	cr_assert_str_eq(t.access_token, "cli-token");
	cr_assert_eq(t.expires_on, 1004000);
	ai_token_release(&t);
	/* an old CLI gives only the local time, which is not used */
	cr_assert_eq(parse("{\"accessToken\":\"x\",\"expiresOn\":\"2026-12-02 05:00:00\"}", &t, why),
	             AI_ERR_PROTOCOL);
	cr_assert(strstr(why, "neither expires_on nor expires_in"), "%s", why);
}

Test(auth, skips_nested_values_and_ignores_keys_inside_them)
{
	struct ai_token t;
	char why[200];

	cr_assert_eq(parse("{\"x\":{\"access_token\":\"inner\",\"a\":[1,{\"b\":null}]},\"ok\":true,"
	                   "\"access_token\":\"outer\",\"expires_in\":10}", &t, why), AI_OK, "%s", why);
	cr_assert_str_eq(t.access_token, "outer");
	ai_token_release(&t);
}

Test(auth, refuses_answers_it_cannot_trust)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"expires_in\":10}",
		"{\"access_token\":\"\",\"expires_in\":10}",
		"{\"access_token\":\"a b\",\"expires_in\":10}",
		"{\"access_token\":7,\"expires_in\":10}",
		"{\"access_token\":\"t\"}",
		"{\"access_token\":\"t\",\"expires_in\":\"soon\"}",
		"{\"access_token\":\"t\",\"expires_in\":-5}",
		"{\"access_token\":\"t\",\"expires_on\":\"999\"}",
		"{\"access_token\":\"t\",\"expires_in\":10",
		"{\"access_token\":\"t\",\"expires_in\":10,}",
	};
	struct ai_token t;
	char why[200];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_neq(parse(bad[i], &t, why), AI_OK, "accepted: %s", bad[i]);
		cr_assert_null(t.access_token);
		cr_assert_null(strstr(why, "\"t\""), "the token's text is not in '%s'", why);
	}
}

Test(auth, reads_the_error_fields_of_a_refusal)
{
	const char *body = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: "
	                   "Invalid client secret provided.\\r\\nTrace ID: 1\",\"error_codes\":[7000215]}";
	char e[64], d[256];

	cr_assert_str_eq(ai_token_json_string(body, strlen(body), "error", e, sizeof e),
	                 "invalid_client");
	cr_assert_not_null(ai_token_json_string(body, strlen(body), "error_description", d, sizeof d));
	cr_assert(strncmp(d, "AADSTS7000215: Invalid client secret provided.\r\n", 48) == 0, "%s", d);
	cr_assert_null(ai_token_json_string(body, strlen(body), "error_codes", d, sizeof d));
	cr_assert_null(ai_token_json_string(body, strlen(body), "missing", d, sizeof d));
}

Test(auth, method_names_round_trip)
{
	enum ai_auth_method m;

	for (int i = 0; i < AI_AUTH_METHODS; i++) {
		cr_assert_eq(ai_auth_method_parse(ai_auth_method_name((enum ai_auth_method)i), &m), AI_OK);
		cr_assert_eq((int)m, i);
	}
	cr_assert_eq(ai_auth_method_parse("managed_identity", &m), AI_ERR_BAD_INPUT);
	cr_assert(ai_auth_method_is_token(AI_AUTH_WORKLOAD_IDENTITY));
	cr_assert(!ai_auth_method_is_token(AI_AUTH_SAS));
}

Test(auth, arc_challenge_paths_are_checked)
{
	cr_assert(ai_auth_arc_path_ok("/var/opt/azcmagent/tokens/0123abcd.key"));
	cr_assert(!ai_auth_arc_path_ok("/var/opt/azcmagent/tokens/x.txt"));
	cr_assert(!ai_auth_arc_path_ok("/var/opt/azcmagent/tokens/../../../etc/shadow.key"));
	cr_assert(!ai_auth_arc_path_ok("/var/opt/azcmagent/tokens/sub/x.key"));
	cr_assert(!ai_auth_arc_path_ok("/var/opt/azcmagent/tokensx/x.key"));
	cr_assert(!ai_auth_arc_path_ok("/etc/x.key"));
	cr_assert(!ai_auth_arc_path_ok("/var/opt/azcmagent/tokens/.key"));
}

/* ----- the JWT assertion ----- */

static char *slurp(const char *name, size_t *n)
{
	char path[1024];
	FILE *f;
	char *p = malloc(65536);

	snprintf(path, sizeof path, "%s/%s", TEST_DATA_DIR, name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	*n = fread(p, 1, 65535, f);
	p[*n] = '\0';
	fclose(f);
	return p;
}

/* base64url without padding back to bytes. */
static size_t unb64url(const char *s, size_t n, uint8_t *out, size_t cap)
{
	char tmp[4096];
	size_t len = 0;

	cr_assert(n + 4 < sizeof tmp);
	for (size_t i = 0; i < n; i++)
		tmp[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (n % 4)
		tmp[n++] = '=';
	cr_assert_eq(ai_base64_decode(tmp, n, out, cap, &len), AI_OK);
	return len;
}

Test(auth, the_certificate_assertion_is_an_rs256_jwt_the_certificate_verifies)
{
	size_t pemlen, certlen, derlen;
	char *pem = slurp("sp_cert.pem", &pemlen), *certpem = slurp("sp_cert_only.pem", &certlen);
	struct ai_certkey *ck = NULL;
	char why[256], *jwt = NULL, json[2048], want[64];
	uint8_t sig[1024], thumb[AI_SHA1_LEN];
	const char *url = "https://login.example.test/tenant-1/oauth2/v2.0/token";

	cr_assert_eq(ai_certkey_load(pem, pemlen, &ck, why, sizeof why), AI_OK, "%s", why);
	cr_assert_eq(ai_auth_jwt_assertion(ck, "11111111-2222-3333-4444-555555555555", url, 1800000000,
	                                   &jwt), AI_OK);
	char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	cr_assert(d1 && d2 && !strchr(d2 + 1, '.'), "three parts: %s", jwt);

	size_t n = unb64url(jwt, (size_t)(d1 - jwt), (uint8_t *)json, sizeof json - 1);
	json[n] = '\0';
	ai_certkey_thumbprint(ck, thumb);
	char x5t[AI_BASE64_ENCLEN(AI_SHA1_LEN)];
	ai_base64url_encode(thumb, sizeof thumb, x5t);
	snprintf(want, sizeof want, "\"x5t\":\"%s\"", x5t);
	cr_assert(strstr(json, "\"alg\":\"RS256\"") && strstr(json, "\"typ\":\"JWT\"") &&
	          strstr(json, want) && strstr(json, "\"kid\":\""), "header %s", json);
	/* the thumbprint is the SHA-1 of the DER certificate */
	uint8_t sha1[AI_SHA1_LEN];
	const uint8_t *der = ai_certkey_der(ck, &derlen);
	cr_assert(derlen > 100 && der);

	n = unb64url(d1 + 1, (size_t)(d2 - d1 - 1), (uint8_t *)json, sizeof json - 1);
	json[n] = '\0';
	cr_assert(strstr(json, "\"aud\":\"https://login.example.test/tenant-1/oauth2/v2.0/token\""),
	          "%s", json);
	cr_assert(strstr(json, "\"iss\":\"11111111-2222-3333-4444-555555555555\"") &&
	          strstr(json, "\"sub\":\"11111111-2222-3333-4444-555555555555\""), "%s", json);
	cr_assert(strstr(json, "\"nbf\":1800000000") && strstr(json, "\"iat\":1800000000") &&
	          strstr(json, "\"exp\":1800000600") && strstr(json, "\"jti\":\""), "%s", json);

	size_t siglen = unb64url(d2 + 1, strlen(d2 + 1), sig, sizeof sig);
	cr_assert_eq(siglen, 256);
	cr_assert_eq(ai_rs256_verify_cert(certpem, certlen, jwt, (size_t)(d2 - jwt), sig, siglen),
	             AI_OK, "OpenSSL verifies the signature with the certificate");
	jwt[3] ^= 1;
	cr_assert_eq(ai_rs256_verify_cert(certpem, certlen, jwt, (size_t)(d2 - jwt), sig, siglen),
	             AI_ERR_VERIFY, "and refuses it over other bytes");
	(void)sha1;
	ai_token_free(jwt);
	ai_certkey_free(ck);
	free(pem);
	free(certpem);
}

Test(auth, a_file_without_a_key_or_with_another_key_is_refused)
{
	size_t certlen;
	char *certpem = slurp("sp_cert_only.pem", &certlen), why[256];
	struct ai_certkey *ck = NULL;

	cr_assert_eq(ai_certkey_load(certpem, certlen, &ck, why, sizeof why), AI_ERR_CONFIG);
	cr_assert(strstr(why, "private key"), "%s", why);
	cr_assert_eq(ai_certkey_load("junk", 4, &ck, why, sizeof why), AI_ERR_CONFIG);
	cr_assert(strstr(why, "certificate"), "%s", why);
	free(certpem);
}

/* ----- redaction ----- */

Test(auth, secrets_of_every_method_are_redacted)
{
	char out[512];

	ai_redact("token eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl here", out, sizeof out);
	cr_assert_str_eq(out, "token REDACTED here");
	ai_redact("grant_type=client_credentials&client_secret=s3cr3t~x&scope=y", out, sizeof out);
	cr_assert_str_eq(out, "grant_type=client_credentials&client_secret=REDACTED&scope=y");
	ai_redact("a&client_assertion=abc.def.ghi", out, sizeof out);
	cr_assert_str_eq(out, "a&client_assertion=REDACTED");
	ai_redact("Authorization: Basic c2VjcmV0", out, sizeof out);
	cr_assert_str_eq(out, "Authorization: Basic REDACTED");
	ai_redact("the word eyJ alone, and keyJ.a.b stays", out, sizeof out);
	cr_assert_str_eq(out, "the word eyJ alone, and keyJ.a.b stays");
}

/* ----- the cache, through a stand-in az ----- */

static char bindir[256];

/* Writes an `az` that counts its runs in bindir/count and prints a token
 * named after the count. mode: "ok" (an hour, refresh_in 1 s), "fail2"
 * (fails from its second run on), "slow" (sleeps 0.3 s first). */
static void fake_az(const char *mode)
{
	char path[512];
	FILE *f;

	snprintf(bindir, sizeof bindir, "/tmp/aiarchive-test-auth.XXXXXX");
	cr_assert_not_null(mkdtemp(bindir));
	snprintf(path, sizeof path, "%s/az", bindir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\n"
	        "d=$(dirname \"$0\")\n"
	        "n=$(($(cat \"$d/count\" 2>/dev/null || echo 0) + 1))\n"
	        "echo $n >\"$d/count\"\n"
	        "echo \"$@\" >\"$d/args\"\n"
	        "%s"
	        "[ %d -eq 1 ] && [ $n -ge 2 ] && { echo 'ERROR: Please run az login. eyJhbGciOi.eyJzdWIi.c2ln' >&2; exit 1; }\n"
	        "echo \"{\\\"accessToken\\\": \\\"token-$n\\\", \\\"expires_on\\\": $(($(date +%%s) + 3600)),"
	        " \\\"refresh_in\\\": 1, \\\"tokenType\\\": \\\"Bearer\\\"}\"\n",
	        strcmp(mode, "slow") == 0 ? "sleep 0.3\n" : "", strcmp(mode, "fail2") == 0);
	fclose(f);
	chmod(path, 0755);
	char *old = getenv("PATH");
	char np[4096];
	snprintf(np, sizeof np, "%s:%s", bindir, old ? old : "/usr/bin:/bin");
	setenv("PATH", np, 1);
}

static int runs(void)
{
	char path[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/count", bindir);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static void *grab(void *arg)
{
	char *tok = NULL;
	ai_result r = ai_token_acquire(arg, &tok);

	cr_assert_eq(r, AI_OK, "%s", ai_store_last_error());
	cr_assert_str_eq(tok, "token-1");
	ai_token_free(tok);
	return NULL;
}

Test(auth, threads_share_one_token_and_one_thread_fetches_it)
{
	struct ai_token_params p = { .method = AI_AUTH_AZURE_CLI };
	struct ai_token_source *s = NULL, *s2 = NULL;
	pthread_t th[8];
	char path[512], args[512] = "";

	fake_az("slow");
	cr_assert(ai_auth_cli_available());
	cr_assert_eq(ai_token_source_get(&p, &s), AI_OK);
	cr_assert_eq(ai_token_source_get(&p, &s2), AI_OK);
	cr_assert_eq(s, s2, "one source per method and client id in the process");
	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, grab, i % 2 ? s : s2);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(runs(), 1, "az ran %d times", runs());
	snprintf(path, sizeof path, "%s/args", bindir);
	FILE *f = fopen(path, "r");
	cr_assert(f && fgets(args, sizeof args, f));
	fclose(f);
	cr_assert_str_eq(args, "account get-access-token --output json --scope "
	                       "https://storage.azure.com/.default\n");
	ai_token_source_put(s2);
	ai_token_source_put(s);
}

Test(auth, refreshes_early_and_keeps_the_valid_token_when_that_fails)
{
	struct ai_token_params p = { .method = AI_AUTH_AZURE_CLI, .client_id = "refresh-test" };
	struct ai_token_source *s = NULL;
	char *tok = NULL;

	fake_az("fail2");
	cr_assert_eq(ai_token_source_get(&p, &s), AI_OK);
	cr_assert_eq(ai_token_acquire(s, &tok), AI_OK);
	cr_assert_str_eq(tok, "token-1");
	ai_token_free(tok);
	usleep(1100 * 1000); /* past refresh_in */
	cr_assert_eq(ai_token_acquire(s, &tok), AI_OK, "%s", ai_store_last_error());
	cr_assert_str_eq(tok, "token-1", "the failed refresh left the valid token");
	ai_token_free(tok);
	cr_assert_eq(runs(), 2);
	cr_assert_eq(ai_token_acquire(s, &tok), AI_OK);
	ai_token_free(tok);
	cr_assert_eq(runs(), 2, "no second attempt within 30 s");
	/* a 401 drops it: now the failure shows, without the CLI's secret */
	ai_token_discard(s, "token-1");
	cr_assert_eq(ai_token_acquire(s, &tok), AI_ERR_AUTH);
	cr_assert_null(tok);
	const char *e = ai_store_last_error();
	cr_assert(strstr(e, "azure-cli: az account get-access-token exited with 1: ERROR: Please "
	                    "run az login."), "%s", e);
	cr_assert_null(strstr(e, "eyJhbGciOi"), "%s", e);
	ai_token_source_put(s);
}

Test(auth, refreshes_after_refresh_in)
{
	struct ai_token_params p = { .method = AI_AUTH_AZURE_CLI, .client_id = "refresh-ok" };
	struct ai_token_source *s = NULL;
	char *tok = NULL;

	fake_az("ok");
	cr_assert_eq(ai_token_source_get(&p, &s), AI_OK);
	cr_assert_eq(ai_token_acquire(s, &tok), AI_OK);
	cr_assert_str_eq(tok, "token-1");
	ai_token_free(tok);
	usleep(1100 * 1000);
	cr_assert_eq(ai_token_acquire(s, &tok), AI_OK);
	cr_assert_str_eq(tok, "token-2");
	ai_token_free(tok);
	ai_token_source_put(s);
	(void)now_s;
}

Test(auth, a_method_missing_its_environment_says_what)
{
	struct ai_token_params p = { .method = AI_AUTH_SERVICE_PRINCIPAL, .client_id = "c" };
	struct ai_token_source *s = NULL;

	unsetenv("AZURE_TENANT_ID");
	cr_assert_eq(ai_token_source_get(&p, &s), AI_ERR_CONFIG);
	cr_assert_str_eq(ai_store_last_error(), "service-principal: AZURE_TENANT_ID is not set");
	setenv("AZURE_TENANT_ID", "t1", 1);
	setenv("AZURE_AUTHORITY_HOST", "http://login.example.test/", 1);
	setenv("AZURE_CLIENT_SECRET", "s3cr3t-value", 1);
	cr_assert_eq(ai_token_source_get(&p, &s), AI_ERR_CONFIG);
	cr_assert(strstr(ai_store_last_error(), "is not an https:// URL"), "%s",
	          ai_store_last_error());
	p.method = AI_AUTH_WORKLOAD_IDENTITY;
	setenv("AZURE_AUTHORITY_HOST", "https://login.example.test/", 1);
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
	cr_assert_eq(ai_token_source_get(&p, &s), AI_ERR_CONFIG);
	cr_assert_str_eq(ai_store_last_error(),
	                 "workload-identity: AZURE_FEDERATED_TOKEN_FILE is not set");
}

/* ----- a refused or reset identity endpoint ----- */

/* A listener on 127.0.0.1 that resets its first `resets` connections and
 * answers the others with `answer` (a whole HTTP response). */
static struct {
	int fd, port, resets;
	const char *answer;
	atomic_int accepted;
	pthread_t th;
} lis;

static void *listener(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(lis.fd, NULL, NULL);
		if (c < 0)
			return NULL;
		int n = atomic_fetch_add(&lis.accepted, 1);
		if (n < lis.resets) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			close(c);
			continue;
		}
		char req[8192];
		size_t got = 0;
		ssize_t k;
		while (got < sizeof req - 1 && (k = read(c, req + got, sizeof req - 1 - got)) > 0) {
			got += (size_t)k;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		if (write(c, lis.answer, strlen(lis.answer)) < 0)
			perror("write");
		close(c);
	}
}

/* Starts the listener (resets < 0: a port with no listener at all) and
 * points IMDS at it. */
static void imds_at(int resets, const char *answer)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	char url[64];

	unsetenv("IDENTITY_ENDPOINT");
	unsetenv("IMDS_ENDPOINT");
	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");
	setenv("PATH", "/nonexistent", 1); /* no az for auto */
	lis.fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(lis.fd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(getsockname(lis.fd, (struct sockaddr *)&a, &alen), 0);
	lis.port = ntohs(a.sin_port);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", lis.port);
	setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", url, 1);
	if (resets < 0) {
		close(lis.fd); /* refused from now on */
		return;
	}
	lis.resets = resets;
	lis.answer = answer;
	cr_assert_eq(listen(lis.fd, 16), 0);
	pthread_create(&lis.th, NULL, listener, NULL);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define IMDS_BODY "{\"access_token\":\"tok-imds\",\"expires_in\":\"3600\",\"token_type\":\"Bearer\"}"
#define IMDS_PROBE "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

Test(auth, imds_reset_connections_are_tried_again)
{
	struct ai_token_params p = { .method = AI_AUTH_MANAGED_IDENTITY };
	struct ai_token_source *s = NULL;
	char *tok = NULL;

	static char ok[512];

	snprintf(ok, sizeof ok, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	         "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", strlen(IMDS_BODY), IMDS_BODY);
	imds_at(2, ok);
	cr_assert_eq(ai_token_source_get(&p, &s), AI_OK);
	cr_assert_eq(ai_token_acquire(s, &tok), AI_OK, "%s", ai_store_last_error());
	cr_assert_str_eq(tok, "tok-imds");
	cr_assert_eq(atomic_load(&lis.accepted), 3, "two resets, then the answer");
	ai_token_free(tok);
	ai_token_source_put(s);
}

Test(auth, a_refused_imds_is_tried_four_times_then_reported)
{
	struct ai_token_params p = { .method = AI_AUTH_MANAGED_IDENTITY };
	struct ai_token_source *s = NULL;
	char *tok = NULL;
	int64_t t0, dt;

	imds_at(-1, NULL);
	cr_assert_eq(ai_token_source_get(&p, &s), AI_OK);
	t0 = mono_ms();
	cr_assert_eq(ai_token_acquire(s, &tok), AI_ERR_AUTH);
	dt = mono_ms() - t0;
	/* waits of 0.25, 0.5 and 1 s, each at least 80% of that */
	cr_assert_geq(dt, 1400, "gave up after %lld ms", (long long)dt);
	cr_assert_lt(dt, 4000, "took %lld ms", (long long)dt);
	cr_assert(strstr(ai_store_last_error(), "managed-identity: IMDS at http://127.0.0.1:"),
	          "%s", ai_store_last_error());
	cr_assert(strstr(ai_store_last_error(), "is unreachable"), "%s", ai_store_last_error());
	ai_token_source_put(s);
}

Test(auth, auto_probes_imds_again_after_a_reset_within_its_second)
{
	struct ai_token_params p = { .method = AI_AUTH_AUTO };
	int64_t t0;

	imds_at(1, IMDS_PROBE);
	t0 = mono_ms();
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_MANAGED_IDENTITY);
	cr_assert_lt(mono_ms() - t0, 1000);
	cr_assert_eq(atomic_load(&lis.accepted), 2);
}

Test(auth, auto_gives_up_on_a_refused_imds_well_within_its_second)
{
	struct ai_token_params p = { .method = AI_AUTH_AUTO };
	int64_t t0, dt;

	imds_at(-1, NULL);
	t0 = mono_ms();
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_ANONYMOUS);
	dt = mono_ms() - t0;
	cr_assert_geq(dt, 120, "tried again after 50 and 100 ms (%lld ms)", (long long)dt);
	cr_assert_lt(dt, 500, "took %lld ms", (long long)dt);
}

/* auto's order, DefaultAzureCredential's: a service principal in the
 * environment, then workload identity, then managed identity (App
 * Service's endpoint, else an IMDS that answers), then the Azure CLI on
 * PATH. Each step is tried with every later method also available. */
Test(auth, auto_takes_the_methods_in_default_azure_credential_order)
{
	struct ai_token_params p = { .method = AI_AUTH_AUTO };
	char dir[] = "/tmp/test_auth_az.XXXXXX", az[64];
	int fd;

	imds_at(-1, NULL); /* no IMDS, no az: nothing */
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_ANONYMOUS);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(az, sizeof az, "%s/az", dir);
	fd = open(az, O_WRONLY | O_CREAT | O_EXCL, 0755);
	cr_assert_geq(fd, 0);
	close(fd);
	setenv("PATH", dir, 1);
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_AZURE_CLI, "az on PATH");
	setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token", 1);
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_MANAGED_IDENTITY, "App Service before the CLI");
	setenv("AZURE_TENANT_ID", "t1", 1);
	setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/token", 1);
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_MANAGED_IDENTITY,
	             "workload identity needs a client id");
	p.client_id = "c-from-the-option";
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_WORKLOAD_IDENTITY, "--X-client-id counts");
	p.client_id = NULL;
	setenv("AZURE_CLIENT_ID", "c1", 1);
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_WORKLOAD_IDENTITY, "before managed identity");
	setenv("AZURE_CLIENT_CERTIFICATE_PATH", "/etc/sp.pem", 1);
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_SERVICE_PRINCIPAL, "a certificate first");
	unsetenv("AZURE_CLIENT_CERTIFICATE_PATH");
	setenv("AZURE_CLIENT_SECRET", "s3cr3t", 1);
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_SERVICE_PRINCIPAL, "a secret first");
	unsetenv("AZURE_TENANT_ID");
	cr_assert_eq(ai_token_detect(&p), AI_AUTH_MANAGED_IDENTITY,
	             "neither without a tenant: managed identity");
	unlink(az);
	rmdir(dir);
}
