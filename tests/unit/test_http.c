/* The portal's transport against real clients, HTTP side: portal-echo
 * (tests/tools) runs as a child process on 127.0.0.1 with a certificate from
 * portal/tls.c, and curl drives the REST API, the static files and TLS. */
#include "portal_http_test.h"

static void assert_error(const struct reply *r, int status, const char *code)
{
	json_t *err;

	assert_int_equal(r->status, status);
	assert_string_equal(r->type, "application/json");
	assert_non_null(r->json);
	err = json_object_get(r->json, "error");
	assert_non_null(err);
	assert_string_equal(json_string_value(json_object_get(err, "code")), code);
	assert_non_null(json_string_value(json_object_get(err, "message")));
}

static void test_rest(void **state)
{
	struct env *e = *state;
	int P = e->srv.port;
	char cmd[512];
	struct reply r;
	json_t *j;

	curl(&r, CA " -H 'Authorization: Bearer tok' -d '{\"a\":1}' '" URL
	     "/api/v1/echo?limit=5&after=a%%20b'", e->ca, P);
	assert_int_equal(r.exit, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.type, "application/json");
	j = r.json;
	assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(j, "path")), "/api/v1/echo");
	assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"a\":1}");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "json"), "a")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "authorization")),
			    "Bearer tok");
	assert_string_equal(json_string_value(json_object_get(j, "peer")), "127.0.0.1");
	assert_string_equal(json_string_value(json_object_get(j, "limit")), "5");
	assert_string_equal(json_string_value(json_object_get(j, "after")), "a b");
	reply_free(&r);

	static const char *const methods[] = { "GET", "PUT", "PATCH", "DELETE" };
	for (size_t i = 0; i < 4; i++) {
		curl(&r, CA " -X %s " URL "/api/v1/echo", e->ca, methods[i], P);
		assert_int_equal(r.status, 200);
		assert_string_equal(json_string_value(json_object_get(r.json, "method")),
				    methods[i]);
		assert_true(json_is_null(json_object_get(r.json, "authorization")));
		reply_free(&r);
	}
	/* a big answer goes out whole */
	snprintf(cmd, sizeof(cmd), "test $(curl -sS --cacert %s " URL "/api/v1/big?n=3000000"
		 " | wc -c) -eq 3000011", e->ca, P);
	assert_int_equal(system(cmd), 0);
	curl(&r, CA " " URL "/api/v1/status/204", e->ca, P);
	assert_int_equal(r.status, 204);
	assert_string_equal(r.body, "");
	reply_free(&r);
}

static void test_rest_errors(void **state)
{
	struct env *e = *state;
	int P = e->srv.port;
	char big[256];
	struct reply r;

	curl(&r, CA " " URL "/api/v1/nope", e->ca, P);
	assert_error(&r, 404, "not_found");
	reply_free(&r);
	curl(&r, CA " " URL "/nope.html", e->ca, P);
	assert_error(&r, 404, "not_found");
	reply_free(&r);
	/* one byte over the 1 MiB cap: 413, with and without Expect: 100-continue */
	snprintf(big, sizeof(big), "%s/big.txt", e->dir);
	{
		FILE *f = fopen(big, "w");

		for (int i = 0; i < 1048577; i++)
			fputc('a', f);
		fclose(f);
	}
	curl(&r, CA " --data-binary @%s " URL "/api/v1/echo", e->ca, big, P);
	assert_error(&r, 413, "too_large");
	reply_free(&r);
	curl(&r, CA " -H 'Expect:' --data-binary @%s " URL "/api/v1/echo", e->ca, big, P);
	assert_error(&r, 413, "too_large");
	reply_free(&r);
	truncate(big, 1048576);
	curl(&r, CA " --data-binary @%s " URL "/api/v1/echo", e->ca, big, P);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	unlink(big);
	curl(&r, CA " -H 'Transfer-Encoding: chunked' -d x " URL "/api/v1/echo", e->ca, P);
	assert_error(&r, 411, "length_required");
	reply_free(&r);
	curl(&r, CA " -X OPTIONS " URL "/api/v1/echo", e->ca, P);
	assert_error(&r, 501, "not_implemented"); /* a method no path takes */
	reply_free(&r);
	curl(&r, CA " " URL "/api/v1/fail", e->ca, P);
	assert_error(&r, 500, "internal");
	reply_free(&r);
	snprintf(big, sizeof(big), "curl -sS -D - --cacert %s " URL "/api/v1/status/401 "
		 "2>/dev/null | grep -qi '^www-authenticate: Bearer'", e->ca, P);
	assert_int_equal(system(big), 0);
	curl(&r, CA " " URL "/client/ws", e->ca, P);
	assert_error(&r, 426, "bad_request");
	reply_free(&r);
	/* the server keeps going: keep-alive after errors */
	assert_true(stat_get(P, "rejected_too_large") >= 2);
}

static void test_tls(void **state)
{
	struct env *e = *state;
	int P = e->srv.port;
	struct reply r;

	curl(&r, URL "/", P); /* the system's CAs do not know ours */
	assert_int_equal(r.exit, 60);
	reply_free(&r);
	curl(&r, CA " --resolve portal.test:%d:127.0.0.1 https://portal.test:%d/", e->ca, P, P);
	assert_int_equal(r.exit, 0);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	curl(&r, CA " --resolve other.test:%d:127.0.0.1 https://other.test:%d/", e->ca, P, P);
	assert_int_equal(r.exit, 60);
	reply_free(&r);
	curl(&r, CA " --tlsv1 --tls-max 1.1 " URL "/", e->ca, P);
	assert_int_not_equal(r.exit, 0);
	reply_free(&r);
	curl(&r, CA " --tlsv1.3 " URL "/", e->ca, P);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	curl(&r, CA " --http2 " URL "/", e->ca, P); /* offered h2, answered in 1.1 */
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void test_static(void **state)
{
	static const struct { const char *path, *type; } files[] = {
		{ "/", "text/html; charset=utf-8" },
		{ "/index.html", "text/html; charset=utf-8" },
		{ "/app.js", "text/javascript; charset=utf-8" },
		{ "/style.css", "text/css; charset=utf-8" },
		{ "/logo.svg", "image/svg+xml" },
		{ "/logo.png", "image/png" },
		{ "/data.json", "application/json" },
		{ "/sub", "text/html; charset=utf-8" },
		{ "/sub/", "text/html; charset=utf-8" },
	};
	static const char *const refused[] = {
		"/../secret.txt", "/%2e%2e/secret.txt", "/sub/../../secret.txt",
		"/..%2fsecret.txt", "/link.txt", "/.hidden", "/.git/config", "//etc/passwd",
		"/sub/%2e%2e/%2e%2e/secret.txt", "/../secret.txt%00.html", "/%2e%2e%2fsecret.txt",
	};
	struct env *e = *state;
	int P = e->srv.port;
	char cmd[512];
	struct reply r;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		curl(&r, CA " " URL "%s", e->ca, P, files[i].path);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.type, files[i].type);
		reply_free(&r);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		curl(&r, CA " --path-as-is '" URL "%s'", e->ca, P, refused[i]);
		if (r.status == 200)
			print_error("served %s\n", refused[i]);
		assert_int_not_equal(r.status, 200);
		assert_null(strstr(r.body, "secret"));
		reply_free(&r);
	}
	/* lws folds a leading "/.." into "/", as browsers do: the root's index */
	curl(&r, CA " --path-as-is " URL "/sub/..", e->ca, P);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "<h1>sluice</h1>\n");
	reply_free(&r);
	/* a large file arrives whole */
	snprintf(cmd, sizeof(cmd), "curl -sS --cacert %s " URL "/blob.bin | cmp - %s/blob.bin",
		 e->ca, P, e->www);
	assert_int_equal(system(cmd), 0);
	curl(&r, CA " -X DELETE " URL "/index.html", e->ca, P);
	assert_error(&r, 405, "method_not_allowed");
	reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rest),
		cmocka_unit_test(test_rest_errors),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_static),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
