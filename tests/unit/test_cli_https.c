/* `sluice admin` over real HTTPS: the project's own portal transport
 * (portal/http.c, certificates from portal/tls.c) runs in a thread of this
 * process with a small handler that records each request and answers as
 * docs/api.md says; the CLI's client (libwebsockets, OpenSSL) talks to it.
 * Checked: what went over the wire (method, path, query, body, token), what
 * was printed and the exit code, pagination with --all, the portal's errors,
 * token secrets, large answers, and every way TLS or the connection can fail
 * (unknown CA, names that do not match, refused, timeout). Last, the `sluice`
 * executable itself with its environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/admin.h"
#include "portal/http.h"
#include "tls_env_test.h"

#define ADMIN_TOKEN "sl_admin0123456789abcdefghijklmnopqrstuvwxyzAB"
#define CLIENT_TOKEN "sl_client123456789abcdefghijklmnopqrstuvwxyzAB"
#define SECRET "sl_secretXYZ3456789abcdefghijklmnopqrstuvwxyzAB"
#define T0 "2026-11-22T01:00:00Z"
#define N_SITES 5
#define N_AUDIT 300

struct rec {
	enum http_method method;
	char path[128], auth[128], body[1024];
	char limit[16], after[16];
};

struct env {
	struct tls_env t;
	char portal[64];
	pthread_mutex_t lock;
	struct rec recs[16];
	size_t n;
};

/* Two libwebsockets contexts with TLS in one process (the server's here and
 * the client's) share lws's global OpenSSL indexes; the server's context then
 * leaks the client SSL_CTX lws made for it (the system's CA bundle) when it is
 * destroyed. libcrypto has no frame pointers, so the leak is known by its
 * module only. `sluice` itself is checked for leaks by test_binary: in the
 * sanitizer build, the child's LeakSanitizer fails its exit code. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libcrypto.so\n";
}

/* ---- the portal stand-in, in the server's thread ------------------------- */

static void copy_arg(char *out, size_t len, const struct http_request *req, const char *name)
{
	const char *v = http_request_arg(req, name);

	snprintf(out, len, "%s", v ? v : "-");
}

static void record(struct env *e, const struct http_request *req)
{
	struct rec *r;

	pthread_mutex_lock(&e->lock);
	if (e->n < sizeof(e->recs) / sizeof(e->recs[0])) {
		r = &e->recs[e->n++];
		r->method = req->method;
		snprintf(r->path, sizeof(r->path), "%s", req->path);
		snprintf(r->auth, sizeof(r->auth), "%s", req->authorization ?
			 req->authorization : "-");
		snprintf(r->body, sizeof(r->body), "%s", req->body_len ? req->body : "-");
		copy_arg(r->limit, sizeof(r->limit), req, "limit");
		copy_arg(r->after, sizeof(r->after), req, "after");
	}
	pthread_mutex_unlock(&e->lock);
}

static const char *const site_names[N_SITES] = { "home", "Zürich", "東京", "lab", "edge" };

static json_t *sites_page(const struct http_request *req)
{
	const char *l = http_request_arg(req, "limit"), *a = http_request_arg(req, "after");
	long limit = l ? atol(l) : 2, after = a ? atol(a) : 0, id;
	json_t *items = json_array();

	for (id = after + 1; id <= N_SITES && (long)json_array_size(items) < limit; id++)
		json_array_append_new(items, json_pack("{s:i,s:s,s:s}", "id", (int)id, "name",
						       site_names[id - 1], "created_at", T0));
	return json_pack("{s:o,s:o}", "items", items, "next",
			 id <= N_SITES ? json_integer(id - 1) : json_null());
}

static json_t *audit_page(void)
{
	json_t *items = json_array();
	char detail[1100];

	memset(detail, 'd', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	for (int i = 1; i <= N_AUDIT; i++)
		json_array_append_new(items, json_pack("{s:i,s:s,s:i,s:s,s:s,s:i,s:{s:s}}",
			"id", i, "time", T0, "token_id", 1, "action", "create", "entity", "site",
			"entity_id", i, "detail", "name", detail));
	return json_pack("{s:o,s:n}", "items", items, "next");
}

static void answer(struct http_response *resp, unsigned status, json_t *body)
{
	resp->status = status;
	resp->body = body;
}

static int api(void *arg, const struct http_request *req, struct http_response *resp)
{
	struct env *e = arg;
	const char *p = req->path + strlen("/api/v1"), *auth = req->authorization;
	enum http_method m = req->method;
	json_t *in = req->body_len ? json_loads(req->body, 0, NULL) : NULL;
	const char *name = json_string_value(json_object_get(in, "name"));

	record(e, req);
	if (!auth || strcmp(auth, "Bearer " ADMIN_TOKEN) != 0) {
		if (auth && strcmp(auth, "Bearer " CLIENT_TOKEN) == 0)
			answer(resp, 403, http_error_json("forbidden", "not an admin token"));
		else
			answer(resp, 401, json_pack("{s:{s:s}}", "error", "code", "unauthorized"));
	} else if (m == HTTP_GET && !strcmp(p, "/sites")) {
		answer(resp, 200, sites_page(req));
	} else if (m == HTTP_POST && !strcmp(p, "/sites")) {
		if (name && !strcmp(name, "taken"))
			answer(resp, 409, http_error_json("conflict", "name in use"));
		else if (!name || !name[0])
			answer(resp, 400, json_pack("{s:{s:s,s:s,s:s}}", "error", "code",
						    "validation", "message", "must be 1-64 "
						    "characters", "field", "name"));
		else
			answer(resp, 201, json_pack("{s:i,s:s,s:s}", "id", 6, "name", name,
						    "created_at", T0));
	} else if (m == HTTP_GET && !strcmp(p, "/sites/6")) {
		answer(resp, 200, json_pack("{s:i,s:s,s:s}", "id", 6, "name", "lab",
					    "created_at", T0));
	} else if (m == HTTP_PATCH && !strcmp(p, "/sites/6")) {
		answer(resp, 200, json_pack("{s:i,s:s?,s:s}", "id", 6, "name", name,
					    "created_at", T0));
	} else if (m == HTTP_DELETE && !strcmp(p, "/sites/6")) {
		answer(resp, 204, NULL);
	} else if (m == HTTP_POST && !strcmp(p, "/tokens")) {
		answer(resp, 201, json_pack("{s:{s:i,s:O?,s:s?,s:n,s:O?,s:s,s:n,s:n,s:n},s:s}",
			"token", "id", 3, "kind", json_object_get(in, "kind"), "name", name,
			"user_id", "site_id", json_object_get(in, "site_id"), "created_at", T0,
			"expires_at", "revoked_at", "last_used_at", "secret", SECRET));
	} else if (m == HTTP_PUT && !strcmp(p, "/groups/2/members/5")) {
		answer(resp, 200, json_pack("{s:i,s:i,s:i,s:s}", "id", 1, "group_id", 2,
					    "user_id", 5, "created_at", T0));
	} else if (m == HTTP_POST && !strcmp(p, "/clients/3/revoke")) {
		answer(resp, 200, json_pack("{s:i,s:i,s:s,s:s}", "id", 3, "user_id", 1, "name",
					    "laptop", "revoked_at", T0));
	} else if (m == HTTP_PATCH && !strcmp(p, "/settings")) {
		json_t *up = json_object_get(in, "upstream_dns");

		answer(resp, 200, json_pack("{s:o}", "upstream_dns", json_is_array(up) ?
					    json_incref(up) : json_array()));
	} else if (m == HTTP_GET && !strcmp(p, "/audit")) {
		answer(resp, 200, audit_page());
	} else {
		answer(resp, 404, http_error_json("not_found", "no such path"));
	}
	json_decref(in);
	return 0;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct http_config cfg = { 0 };

	if (!e)
		return -1;
	cfg.api = api;
	cfg.api_arg = e;
	pthread_mutex_init(&e->lock, NULL);
	if (tls_env_start(&e->t, &cfg, "/tmp/sluice-cli-XXXXXX") != 0)
		return -1;
	snprintf(e->portal, sizeof(e->portal), "https://127.0.0.1:%d", e->t.port);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	int r = tls_env_stop(&e->t);

	pthread_mutex_destroy(&e->lock);
	free(e);
	return r;
}

/* ---- running the CLI ----------------------------------------------------- */

struct result {
	int rc;
	char *out, *err;
	size_t out_len, err_len;
};

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

/* `sluice admin LINE` (words split at spaces, 'quotes' keep them) with env. */
static void run_env(struct env *e, struct result *res, const struct admin_env *env,
		    const char *line)
{
	char buf[1024], *argv[48], *o = buf;
	int argc = 1;
	FILE *out, *err;

	argv[0] = "admin";
	for (const char *p = line; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		argv[argc++] = o;
		while (*p && *p != ' ') {
			if (*p == '\'') {
				for (p++; *p && *p != '\''; p++)
					*o++ = *p;
				p += !!*p;
			} else {
				*o++ = *p++;
			}
		}
		*o++ = '\0';
	}
	argv[argc] = NULL;
	*res = (struct result){ 0 };
	out = open_memstream(&res->out, &res->out_len);
	err = open_memstream(&res->err, &res->err_len);
	assert_true(out && err);
	pthread_mutex_lock(&e->lock);
	e->n = 0;
	pthread_mutex_unlock(&e->lock);
	res->rc = admin_main(argc, argv, env, out, err);
	fclose(out);
	fclose(err);
}

static void run(struct env *e, struct result *res, const char *line)
{
	const struct admin_env env = { .portal = e->portal, .ca_file = e->t.ca,
				       .token = ADMIN_TOKEN };

	run_env(e, res, &env, line);
}

static void expect(const struct result *r, int rc, const char *out, const char *err)
{
	if (r->rc != rc || (out && strcmp(r->out, out)) || (err && !strstr(r->err, err)))
		fail_msg("rc %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant stdout:\n%s\n"
			 "want in stderr:\n%s", r->rc, rc, r->out, r->err, out ? out : "(any)",
			 err ? err : "(any)");
}

/* Request i as the portal saw it; NULL fields are not checked. */
static void expect_rec(struct env *e, size_t i, enum http_method m, const char *path,
		       const char *body, const char *limit, const char *after)
{
	struct rec r;

	pthread_mutex_lock(&e->lock);
	assert_true(i < e->n);
	r = e->recs[i];
	pthread_mutex_unlock(&e->lock);
	assert_int_equal(r.method, m);
	assert_string_equal(r.path, path);
	assert_string_equal(r.auth, "Bearer " ADMIN_TOKEN);
	if (body) {
		json_t *got = strcmp(r.body, "-") ? json_loads(r.body, 0, NULL) : NULL;
		json_t *want = strcmp(body, "-") ? json_loads(body, 0, NULL) : NULL;

		if (!json_equal(got, want) && (got || want))
			fail_msg("body %s, want %s", r.body, body);
		json_decref(got);
		json_decref(want);
	}
	if (limit)
		assert_string_equal(r.limit, limit);
	if (after)
		assert_string_equal(r.after, after);
}

static size_t n_requests(struct env *e)
{
	size_t n;

	pthread_mutex_lock(&e->lock);
	n = e->n;
	pthread_mutex_unlock(&e->lock);
	return n;
}

/* ---- the tests ------------------------------------------------------------ */

static void test_sites(void **state)
{
	struct env *e = *state;
	struct result r;
	json_t *j;

	run(e, &r, "-q sites create --name lab");
	expect(&r, 0, "6\n", NULL);
	assert_int_equal(n_requests(e), 1);
	expect_rec(e, 0, HTTP_POST, "/api/v1/sites", "{\"name\":\"lab\"}", "-", "-");
	result_free(&r);

	run(e, &r, "sites create --name 'Zürich 東京'");
	expect(&r, 0, "id          6\nname        Zürich 東京\ncreated_at  " T0 "\n", "");
	result_free(&r);

	run(e, &r, "--json sites get 6");
	expect(&r, 0, NULL, "");
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 6);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "lab");
	assert_non_null(strstr(r.out, "\n  \"id\": 6")); /* pretty */
	json_decref(j);
	expect_rec(e, 0, HTTP_GET, "/api/v1/sites/6", "-", NULL, NULL);
	result_free(&r);

	run(e, &r, "sites update 6 --name new");
	expect(&r, 0, "id          6\nname        new\ncreated_at  " T0 "\n", "");
	expect_rec(e, 0, HTTP_PATCH, "/api/v1/sites/6", "{\"name\":\"new\"}", NULL, NULL);
	result_free(&r);

	/* 204: no body, no Content-Length; the client must not wait for one */
	run(e, &r, "sites delete 6");
	expect(&r, 0, "deleted site 6\n", "");
	expect_rec(e, 0, HTTP_DELETE, "/api/v1/sites/6", "-", NULL, NULL);
	result_free(&r);
	run(e, &r, "-q sites delete 6");
	expect(&r, 0, "", "");
	result_free(&r);
}

static void test_pages(void **state)
{
	struct env *e = *state;
	struct result r;
	json_t *j;

	run(e, &r, "sites list --limit 2");
	expect(&r, 0, "ID  NAME    CREATED\n1   home    " T0 "\n2   Zürich  " T0 "\n",
	       "(more: --after 2, or --all)");
	assert_int_equal(n_requests(e), 1);
	expect_rec(e, 0, HTTP_GET, "/api/v1/sites", "-", "2", "-");
	result_free(&r);

	run(e, &r, "sites list --limit 2 --all");
	expect(&r, 0, "ID  NAME    CREATED\n1   home    " T0 "\n2   Zürich  " T0 "\n"
		      "3   東京    " T0 "\n4   lab     " T0 "\n5   edge    " T0 "\n", "");
	assert_int_equal(n_requests(e), 3);
	expect_rec(e, 0, HTTP_GET, "/api/v1/sites", "-", "2", "-");
	expect_rec(e, 1, HTTP_GET, "/api/v1/sites", "-", "2", "2");
	expect_rec(e, 2, HTTP_GET, "/api/v1/sites", "-", "2", "4");
	result_free(&r);

	run(e, &r, "-q sites list --all --limit 2 --after 1");
	expect(&r, 0, "2\n3\n4\n5\n", "");
	expect_rec(e, 0, HTTP_GET, "/api/v1/sites", "-", "2", "1");
	result_free(&r);

	run(e, &r, "--json sites list --all --limit 3");
	expect(&r, 0, NULL, "");
	j = json_loads(r.out, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "items")), N_SITES);
	assert_true(json_is_null(json_object_get(j, "next")));
	json_decref(j);
	result_free(&r);

	/* A big answer (300 entries, about 350 KB) arrives whole. */
	run(e, &r, "--json audit list");
	expect(&r, 0, NULL, "");
	j = json_loads(r.out, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "items")), N_AUDIT);
	json_decref(j);
	result_free(&r);
	run(e, &r, "-q audit list");
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "\n300\n"));
	result_free(&r);
}

static void test_methods(void **state)
{
	struct env *e = *state;
	struct result r;
	json_t *j;

	run(e, &r, "groups add-member 2 5");
	expect(&r, 0, "id          1\ngroup_id    2\nuser_id     5\ncreated_at  " T0 "\n", "");
	expect_rec(e, 0, HTTP_PUT, "/api/v1/groups/2/members/5", "-", NULL, NULL);
	result_free(&r);

	run(e, &r, "-q clients revoke 3");
	expect(&r, 0, "3\n", "");
	expect_rec(e, 0, HTTP_POST, "/api/v1/clients/3/revoke", "-", NULL, NULL);
	result_free(&r);

	run(e, &r, "settings set --upstream-dns 9.9.9.9 --upstream-dns 2620:fe::fe");
	expect(&r, 0, "upstream_dns  9.9.9.9, 2620:fe::fe\n", "");
	expect_rec(e, 0, HTTP_PATCH, "/api/v1/settings",
		   "{\"upstream_dns\":[\"9.9.9.9\",\"2620:fe::fe\"]}", NULL, NULL);
	result_free(&r);

	run(e, &r, "settings set --upstream-dns-default");
	expect(&r, 0, "upstream_dns  -\n", "");
	expect_rec(e, 0, HTTP_PATCH, "/api/v1/settings", "{\"upstream_dns\":null}", NULL, NULL);
	result_free(&r);

	run(e, &r, "raw POST /sites '{\"name\": \"raw\"}'");
	expect(&r, 0, NULL, "");
	j = json_loads(r.out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "raw");
	json_decref(j);
	expect_rec(e, 0, HTTP_POST, "/api/v1/sites", "{\"name\":\"raw\"}", NULL, NULL);
	result_free(&r);
}

static void test_api_errors(void **state)
{
	struct env *e = *state;
	const struct admin_env wrong = { .portal = e->portal, .ca_file = e->t.ca,
					 .token = "sl_wrong" };
	const struct admin_env client = { .portal = e->portal, .ca_file = e->t.ca,
					  .token = CLIENT_TOKEN };
	const struct admin_env none = { .portal = e->portal, .ca_file = e->t.ca };
	const struct admin_env noportal = { .ca_file = e->t.ca, .token = ADMIN_TOKEN };
	struct result r;

	run(e, &r, "sites create --name taken");
	expect(&r, ADMIN_EXIT_API, "", "sluice admin: conflict: name in use (HTTP 409)\n");
	result_free(&r);
	run(e, &r, "-q sites create --name ''");
	expect(&r, ADMIN_EXIT_API, "",
	       "sluice admin: validation: name: must be 1-64 characters (HTTP 400)\n");
	result_free(&r);
	run(e, &r, "sites get 99");
	expect(&r, ADMIN_EXIT_API, "", "not_found: no such path (HTTP 404)");
	result_free(&r);
	run(e, &r, "raw DELETE /nothing/here");
	expect(&r, ADMIN_EXIT_API, "", "(HTTP 404)");
	result_free(&r);
	run_env(e, &r, &wrong, "sites list");
	expect(&r, ADMIN_EXIT_API, "", "sluice admin: unauthorized (HTTP 401)\n");
	result_free(&r);
	run_env(e, &r, &client, "sites list");
	expect(&r, ADMIN_EXIT_API, "", "forbidden: not an admin token (HTTP 403)");
	result_free(&r);

	/* Usage errors send nothing. */
	run_env(e, &r, &none, "sites list");
	expect(&r, ADMIN_EXIT_USAGE, "", "no admin token");
	result_free(&r);
	run_env(e, &r, &noportal, "sites list");
	expect(&r, ADMIN_EXIT_USAGE, "", "which portal?");
	result_free(&r);
	run(e, &r, "sites get x");
	expect(&r, ADMIN_EXIT_USAGE, "", "ID must be a number");
	result_free(&r);
	run(e, &r, "--portal http://127.0.0.1:1 sites list");
	expect(&r, ADMIN_EXIT_USAGE, "", "must start with https://");
	result_free(&r);
	run(e, &r, "--ca /nonexistent/ca.pem sites list");
	expect(&r, ADMIN_EXIT_USAGE, "", "cannot read the CA file /nonexistent/ca.pem");
	result_free(&r);
	assert_int_equal(n_requests(e), 0);

	run(e, &r, "sites create --help");
	expect(&r, 0, NULL, "");
	assert_non_null(strstr(r.out, "sluice admin sites create --name NAME"));
	result_free(&r);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_tokens(void **state)
{
	struct env *e = *state;
	const struct admin_env env = { .portal = e->portal, .ca_file = e->t.ca,
				       .token = "sl_ignored_when_a_file_is_given" };
	char file[160], cmd[256];
	struct result r;
	json_t *j;

	run(e, &r, "-q tokens create --kind site --name gw --site 1");
	expect(&r, 0, SECRET "\n", "");
	expect_rec(e, 0, HTTP_POST, "/api/v1/tokens",
		   "{\"kind\":\"site\",\"name\":\"gw\",\"site_id\":1}", NULL, NULL);
	result_free(&r);

	run(e, &r, "tokens create --kind admin --name ops");
	expect(&r, 0, NULL, "shown this once");
	assert_non_null(strstr(r.out, "\nsecret  " SECRET "\n"));
	assert_non_null(strstr(r.out, "kind          admin\n"));
	result_free(&r);

	run(e, &r, "--json tokens create --kind admin --name ops");
	expect(&r, 0, NULL, "");
	j = json_loads(r.out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "secret")), SECRET);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "token"), "id")),
			 3);
	json_decref(j);
	result_free(&r);

	/* --token-file: the first word of the file; the option beats the env. */
	snprintf(file, sizeof(file), "%s/admin.token", e->t.dir);
	write_file(file, "  " ADMIN_TOKEN "\n# the portal's first admin token\n");
	snprintf(cmd, sizeof(cmd), "-q --token-file %s sites create --name f", file);
	run_env(e, &r, &env, cmd);
	expect(&r, 0, "6\n", "");
	expect_rec(e, 0, HTTP_POST, "/api/v1/sites", NULL, NULL, NULL);
	result_free(&r);
	write_file(file, "\n");
	run_env(e, &r, &env, cmd);
	expect(&r, ADMIN_EXIT_USAGE, "", "does not hold a token");
	result_free(&r);
	unlink(file);
	run_env(e, &r, &env, cmd);
	expect(&r, ADMIN_EXIT_USAGE, "", "cannot read the token file");
	result_free(&r);
}

/* A TCP port on 127.0.0.1 that listens (and never answers) or, closed, refuses. */
static int tcp_port(int *fd, bool keep)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*fd >= 0);
	assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
	if (keep)
		assert_int_equal(listen(*fd, 4), 0);
	else
		close(*fd);
	return ntohs(a.sin_port);
}

static void test_tls(void **state)
{
	struct env *e = *state;
	struct admin_env env = { .portal = e->portal, .ca_file = e->t.other_ca,
				 .token = ADMIN_TOKEN };
	char url[64];
	struct result r;
	struct timespec t0, t1;
	int fd, port;

	/* Signed by a CA the client was not given, or not in the system store. */
	run_env(e, &r, &env, "sites list");
	expect(&r, ADMIN_EXIT_CONN, "", "TLS: the portal's certificate was refused");
	result_free(&r);
	env.ca_file = NULL;
	run_env(e, &r, &env, "sites list");
	expect(&r, ADMIN_EXIT_CONN, "", "TLS: the portal's certificate was refused");
	result_free(&r);

	/* The system's store is used without --ca (OpenSSL reads SSL_CERT_FILE),
	 * and only the CA given with it. */
	setenv("SSL_CERT_FILE", e->t.ca, 1);
	run_env(e, &r, &env, "-q sites create --name sys");
	expect(&r, 0, "6\n", "");
	result_free(&r);
	env.ca_file = e->t.other_ca;
	run_env(e, &r, &env, "-q sites create --name sys");
	expect(&r, ADMIN_EXIT_CONN, "", "TLS: the portal's certificate was refused");
	result_free(&r);
	unsetenv("SSL_CERT_FILE");

	/* The right CA, the wrong name: the certificate names portal.test and
	 * 127.0.0.1 only. ::1 is the case lws 4.1 does not check by itself. */
	env.ca_file = e->t.ca;
	snprintf(url, sizeof(url), "https://localhost:%d", e->t.port);
	env.portal = url;
	run_env(e, &r, &env, "sites list");
	expect(&r, ADMIN_EXIT_CONN, "", "certificate");
	result_free(&r);
	snprintf(url, sizeof(url), "https://[::1]:%d", e->t.port);
	run_env(e, &r, &env, "sites list");
	expect(&r, ADMIN_EXIT_CONN, "", "TLS: the portal's certificate is not valid for ::1");
	result_free(&r);
	assert_int_equal(n_requests(e), 0);

	/* Nobody listening. */
	port = tcp_port(&fd, false);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
	run_env(e, &r, &env, "sites list");
	expect(&r, ADMIN_EXIT_CONN, "", "cannot connect");
	result_free(&r);

	/* Listening, never answering: the deadline ends it. */
	port = tcp_port(&fd, true);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_env(e, &r, &env, "--timeout 1 sites list");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	expect(&r, ADMIN_EXIT_CONN, "", "no answer from the portal within the timeout");
	assert_true(t1.tv_sec - t0.tv_sec < 4);
	result_free(&r);
}

/* The executable: environment, exit codes, stdout and stderr apart. */
static void test_binary(void **state)
{
	struct env *e = *state;
	char exe[PATH_MAX], bin[PATH_MAX + 32], cmd[2 * PATH_MAX], out[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f;
	size_t got;
	int st;

	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(bin, sizeof(bin), "%s/../../src/cli/sluice", dirname(exe));
	if (getenv("SLUICE_BIN"))
		snprintf(bin, sizeof(bin), "%s", getenv("SLUICE_BIN"));
	snprintf(cmd, sizeof(cmd), "SLUICE_PORTAL=%s SLUICE_CA=%s SLUICE_TOKEN=%s %s admin -q "
		 "sites create --name bin 2>&1", e->portal, e->t.ca, ADMIN_TOKEN, bin);
	f = popen(cmd, "r");
	assert_non_null(f);
	got = fread(out, 1, sizeof(out) - 1, f);
	out[got] = '\0';
	st = pclose(f);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(out, "6\n");

	snprintf(cmd, sizeof(cmd), "SLUICE_PORTAL=%s SLUICE_CA=%s SLUICE_TOKEN=%s %s admin "
		 "sites create --name taken >/dev/null 2>&1", e->portal, e->t.ca, ADMIN_TOKEN, bin);
	st = system(cmd);
	assert_int_equal(WEXITSTATUS(st), ADMIN_EXIT_API);
	snprintf(cmd, sizeof(cmd), "SLUICE_PORTAL=%s SLUICE_TOKEN=%s %s admin sites list "
		 ">/dev/null 2>&1", e->portal, ADMIN_TOKEN, bin);
	st = system(cmd);
	assert_int_equal(WEXITSTATUS(st), ADMIN_EXIT_CONN);
	snprintf(cmd, sizeof(cmd), "%s frobnicate 2>/dev/null", bin);
	st = system(cmd);
	assert_int_equal(WEXITSTATUS(st), ADMIN_EXIT_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sites),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_api_errors),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_binary),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
