/* Shared by the REST API tests: a real SQLite store in a temporary directory, a
 * policy engine over the system's zoneinfo, an api, an admin token, a fake clock
 * for both, and requests made by calling api_handle() as the server does.
 * Static inline, so each program takes what it uses. */
#ifndef SLUICE_TEST_API_H
#define SLUICE_TEST_API_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdb.h"
#include "portal/api.h"
#include "portal/http_priv.h" /* struct http_args, to build requests */
#include "portal/policy.h"
#include "store/store.h"

#define T0 1700000000 /* 2023-11-14T22:13:20Z */

struct afx {
	char dir[64], path[128];
	struct store *st;
	struct policy_engine *pe;
	struct api *api;
	int64_t now;
	char admin[STORE_TOKEN_SECRET_SIZE + 8]; /* "Bearer sl_..." */
	int64_t admin_id;
	unsigned status;
	json_t *out; /* the last answer's body */
};

static inline int64_t afx_now(void *arg)
{
	return *(int64_t *)arg;
}

static inline int api_setup(void **state)
{
	struct afx *f = calloc(1, sizeof(*f));
	char secret[STORE_TOKEN_SECRET_SIZE];
	struct store_err err;
	json_t *tok = NULL;

	snprintf(f->dir, sizeof(f->dir), "/tmp/sluice-api-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/portal.db", f->dir);
	assert_int_equal(store_open(f->path, &f->st, &err), 0);
	f->now = T0;
	store_set_clock(f->st, afx_now, &f->now);
	assert_int_equal(policy_engine_new("/usr/share/zoneinfo", 3600, &f->pe), 0);
	assert_int_equal(api_new(f->st, f->pe, &f->api), 0);
	api_set_clock(f->api, afx_now, &f->now);
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, "test", 0, 0, secret,
					    &tok, &err), 0);
	snprintf(f->admin, sizeof(f->admin), "Bearer %s", secret);
	f->admin_id = json_integer_value(json_object_get(tok, "id"));
	json_decref(tok);
	*state = f;
	return 0;
}

static inline int api_teardown(void **state)
{
	struct afx *f = *state;

	json_decref(f->out);
	api_free(f->api);
	policy_engine_free(f->pe);
	store_close(f->st);
	tmpdb_remove(f->path, f->dir);
	free(f);
	return 0;
}

static inline enum http_method method_of(const char *m)
{
	static const char *const names[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

	for (unsigned i = 0; i < 5; i++)
		if (!strcmp(names[i], m))
			return (enum http_method)i;
	fail_msg("unknown method %s", m);
	return HTTP_GET;
}

/* One request: target is the path below /api/v1 with its query ("/sites?limit=2"),
 * body the raw body (NULL: none, len -1: strlen). Returns the status. */
static inline unsigned rq_raw(struct afx *f, const char *auth, const char *method,
			      const char *target, const char *body, long len)
{
	char path[1024], query[1024], *q, *save = NULL;
	struct http_args args = { 0 };
	struct http_request req = { 0 };
	struct http_response resp = { 0 };

	snprintf(path, sizeof(path), "%s%s", API_PREFIX, target);
	q = strchr(path, '?');
	query[0] = '\0';
	if (q) {
		snprintf(query, sizeof(query), "%s", q + 1);
		*q = '\0';
	}
	for (char *a = strtok_r(query, "&", &save); a && args.n < HTTP_MAX_ARGS;
	     a = strtok_r(NULL, "&", &save))
		args.v[args.n++] = a;
	req.method = method_of(method);
	req.path = path;
	req.authorization = auth;
	req.peer = "192.0.2.1";
	req.body = body ? body : "";
	req.body_len = body ? (len < 0 ? strlen(body) : (size_t)len) : 0;
	req.args = &args;
	assert_int_equal(api_handle(f->api, &req, &resp), 0);
	json_decref(f->out);
	f->out = resp.body;
	f->status = resp.status ? resp.status : 200;
	/* whatever the answer, it is well-formed: an error has a code and a message */
	if (f->status >= 400) {
		json_t *e = json_object_get(f->out, "error");

		assert_non_null(json_string_value(json_object_get(e, "code")));
		assert_non_null(json_string_value(json_object_get(e, "message")));
	} else if (f->status == 204) {
		assert_null(f->out);
	} else {
		assert_true(json_is_object(f->out));
	}
	return f->status;
}

static inline unsigned rq(struct afx *f, const char *method, const char *target,
			  const char *body)
{
	return rq_raw(f, f->admin, method, target, body, -1);
}

static inline const char *err_code(const struct afx *f)
{
	return json_string_value(json_object_get(json_object_get(f->out, "error"), "code"));
}

static inline const char *err_field(const struct afx *f)
{
	return json_string_value(json_object_get(json_object_get(f->out, "error"), "field"));
}

/* The last answer was status with code and field (NULL: no field). */
static inline void expect_err_at(struct afx *f, unsigned status, const char *code,
				 const char *field, const char *where, int line)
{
	const char *got = err_field(f);

	if (f->status != status || !err_code(f) || strcmp(err_code(f), code) ||
	    (field ? !got || strcmp(got, field) : got != NULL)) {
		char *s = f->out ? json_dumps(f->out, JSON_COMPACT) : NULL;

		print_error("%s:%d: want %u %s field %s, got %u %s\n", where, line, status, code,
			    field ? field : "(none)", f->status, s ? s : "(no body)");
		free(s);
		fail();
	}
}
#define expect_err(f, st, code, field) expect_err_at(f, st, code, field, __FILE__, __LINE__)

static inline void expect_status_at(struct afx *f, unsigned want, const char *where, int line)
{
	if (f->status != want) {
		char *s = f->out ? json_dumps(f->out, JSON_COMPACT) : NULL;

		print_error("%s:%d: want %u, got %u %s\n", where, line, want, f->status,
			    s ? s : "(no body)");
		free(s);
		fail();
	}
}
#define expect_status(f, want) expect_status_at(f, want, __FILE__, __LINE__)

static inline int64_t out_int(const struct afx *f, const char *key)
{
	return json_integer_value(json_object_get(f->out, key));
}

static inline const char *out_str(const struct afx *f, const char *key)
{
	return json_string_value(json_object_get(f->out, key));
}

/* POST that must answer 201; returns the new id. */
static inline int64_t mk_at(struct afx *f, const char *target, const char *body,
			    const char *where, int line)
{
	rq(f, "POST", target, body);
	expect_status_at(f, 201, where, line);
	assert_true(out_int(f, "id") > 0);
	return out_int(f, "id");
}
#define mk(f, target, body) mk_at(f, target, body, __FILE__, __LINE__)

/* The newest audit row. */
static inline json_t *last_audit(struct afx *f)
{
	struct store_err err;
	json_t *items = NULL, *row;

	assert_int_equal(store_list(f->st, "audit", NULL, 0, 0, &items, NULL, &err), 0);
	assert_true(json_array_size(items) > 0);
	row = json_incref(json_array_get(items, json_array_size(items) - 1));
	json_decref(items);
	return row;
}

static inline size_t audit_count(struct afx *f)
{
	struct store_err err;
	json_t *items = NULL;
	size_t n;

	assert_int_equal(store_list(f->st, "audit", NULL, 0, 0, &items, NULL, &err), 0);
	n = json_array_size(items);
	json_decref(items);
	return n;
}

/* A device of user_id, registered as the session hub will. */
static inline int64_t mk_client(struct afx *f, int64_t user_id, const char *key)
{
	struct store_err err;
	json_t *row = NULL;
	int64_t id;

	assert_int_equal(store_client_upsert(f->st, user_id, key, "laptop", &row, &err), 0);
	id = json_integer_value(json_object_get(row, "id"));
	json_decref(row);
	return id;
}

#endif
