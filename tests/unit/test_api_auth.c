/* src/portal/api*.c: who may call the API (admin tokens only), tokens through the
 * API (created, shown once, named, revoked, expired, deleted) and the audit log
 * of every write. */
#include "api_test.h"

#include <sodium.h>

#include "lib/buf.h"

static void auth_failures(void **state)
{
	struct afx *f = *state;
	char secret[STORE_TOKEN_SECRET_SIZE], hdr[80], wrong[80];
	struct store_err err;
	json_t *tok = NULL;
	static const char *const malformed[] = {
		"", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer", "Token sl_x",
		"Bearer sl_", "Bearer sl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"Bearer " "sl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"Bearer \xff\xfe",
	};

	/* no header */
	rq_raw(f, NULL, "GET", "/sites", NULL, -1);
	expect_err(f, 401, "unauthorized", NULL);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		rq_raw(f, malformed[i], "GET", "/sites", NULL, -1);
		expect_err(f, 401, "unauthorized", NULL);
	}
	/* the admin token with one character changed */
	snprintf(wrong, sizeof(wrong), "%s", f->admin);
	wrong[20] = wrong[20] == 'A' ? 'B' : 'A';
	rq_raw(f, wrong, "GET", "/sites", NULL, -1);
	expect_err(f, 401, "unauthorized", NULL);
	/* unknown paths and writes too: nothing is revealed or done without a token */
	rq_raw(f, NULL, "GET", "/nope", NULL, -1);
	expect_err(f, 401, "unauthorized", NULL);
	rq_raw(f, wrong, "POST", "/sites", "{\"name\":\"x\"}", -1);
	expect_err(f, 401, "unauthorized", NULL);
	assert_int_equal(audit_count(f), 0);
	/* the scheme is case-insensitive, extra spaces are fine */
	snprintf(hdr, sizeof(hdr), "bEaReR   %s  ", f->admin + 7);
	assert_int_equal(rq_raw(f, hdr, "GET", "/sites", NULL, -1), 200);

	/* client and site tokens are valid, but not here */
	mk(f, "/users", "{\"name\":\"Ada\"}");
	mk(f, "/sites", "{\"name\":\"hq\"}");
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_CLIENT, "c", 1, 0, secret, &tok,
					    &err), 0);
	json_decref(tok);
	snprintf(hdr, sizeof(hdr), "Bearer %s", secret);
	rq_raw(f, hdr, "GET", "/sites", NULL, -1);
	expect_err(f, 403, "forbidden", NULL);
	rq_raw(f, hdr, "POST", "/users", "{\"name\":\"Eve\"}", -1);
	expect_err(f, 403, "forbidden", NULL);
	/* a client token of a disabled user is no token at all */
	assert_int_equal(rq(f, "PATCH", "/users/1", "{\"disabled\":true}"), 200);
	rq_raw(f, hdr, "GET", "/sites", NULL, -1);
	expect_err(f, 401, "unauthorized", NULL);
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_SITE, "s", 1, 0, secret, &tok,
					    &err), 0);
	json_decref(tok);
	snprintf(hdr, sizeof(hdr), "Bearer %s", secret);
	rq_raw(f, hdr, "GET", "/sites", NULL, -1);
	expect_err(f, 403, "forbidden", NULL);
	sodium_memzero(secret, sizeof(secret));
}

/* POST /tokens; the answer's secret as a header. */
static void token_new(struct afx *f, const char *body, char hdr[80], int64_t *id)
{
	rq(f, "POST", "/tokens", body);
	expect_status(f, 201);
	assert_non_null(json_string_value(json_object_get(json_object_get(f->out, "token"),
							  "kind")));
	snprintf(hdr, 80, "Bearer %s", out_str(f, "secret"));
	assert_int_equal(strlen(out_str(f, "secret")), STORE_TOKEN_SECRET_SIZE - 1);
	*id = json_integer_value(json_object_get(json_object_get(f->out, "token"), "id"));
	assert_null(json_object_get(json_object_get(f->out, "token"), "secret_hash"));
}

static void tokens(void **state)
{
	struct afx *f = *state;
	char hdr[80], hdr2[80], *dump;
	int64_t id, id2;

	mk(f, "/users", "{\"name\":\"Ada\"}");
	mk(f, "/sites", "{\"name\":\"hq\"}");
	token_new(f, "{\"kind\":\"admin\",\"name\":\"ci\"}", hdr, &id);
	assert_true(json_is_null(json_object_get(json_object_get(f->out, "token"), "user_id")));
	/* the new admin token works, and is shown nowhere again */
	assert_int_equal(rq_raw(f, hdr, "GET", "/tokens", NULL, -1), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 2);
	dump = json_dumps(f->out, JSON_COMPACT);
	assert_null(strstr(dump, hdr + 7));
	assert_null(strstr(dump, "secret"));
	free(dump);
	{
		json_t *a = last_audit(f);

		dump = json_dumps(a, JSON_COMPACT);
		assert_null(strstr(dump, hdr + 7));
		assert_string_equal(json_string_value(json_object_get(json_object_get(a, "detail"),
								      "name")), "ci");
		free(dump);
		json_decref(a);
	}
	token_new(f, "{\"kind\":\"client\",\"user_id\":1,\"expires_at\":\"2023-11-14T23:13:20Z\"}",
		  hdr2, &id2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(f->out, "token"),
							      "expires_at")), "2023-11-14T23:13:20Z");
	rq_raw(f, hdr2, "GET", "/sites", NULL, -1);
	expect_err(f, 403, "forbidden", NULL);
	f->now += 3601; /* expired */
	rq_raw(f, hdr2, "GET", "/sites", NULL, -1);
	expect_err(f, 401, "unauthorized", NULL);
	token_new(f, "{\"kind\":\"site\",\"site_id\":1,\"name\":null}", hdr2, &id2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(f->out, "token"),
							    "site_id")), 1);

	/* name only */
	assert_int_equal(rq(f, "PATCH", "/tokens/2", "{\"name\":\"ci-2\"}"), 200);
	assert_string_equal(out_str(f, "name"), "ci-2");
	rq(f, "PATCH", "/tokens/2", "{\"expires_at\":\"2030-01-01T00:00:00Z\"}");
	expect_err(f, 400, "validation", "expires_at");
	rq(f, "PATCH", "/tokens/2", "{\"kind\":\"client\"}");
	expect_err(f, 400, "validation", "kind");
	/* revoked: 200 with revoked_at, and it no longer opens anything */
	assert_int_equal(rq(f, "POST", "/tokens/2/revoke", NULL), 200);
	assert_non_null(out_str(f, "revoked_at"));
	rq_raw(f, hdr, "GET", "/sites", NULL, -1);
	expect_err(f, 401, "unauthorized", NULL);
	assert_int_equal(rq(f, "POST", "/tokens/2/revoke", NULL), 200);
	assert_int_equal(rq(f, "DELETE", "/tokens/2", NULL), 204);
	rq(f, "GET", "/tokens/2", NULL);
	expect_err(f, 404, "not_found", NULL);
	rq(f, "POST", "/tokens/2/revoke", NULL);
	expect_err(f, 404, "not_found", NULL);
	(void)id;
}

static void token_validation(void **state)
{
	static const struct { const char *body, *field; } bad[] = {
		{ "{}", "kind" },
		{ "{\"kind\":\"root\"}", "kind" },
		{ "{\"kind\":1}", "kind" },
		{ "{\"kind\":\"admin\",\"user_id\":1}", "user_id" },
		{ "{\"kind\":\"admin\",\"site_id\":1}", "site_id" },
		{ "{\"kind\":\"client\"}", "user_id" },
		{ "{\"kind\":\"client\",\"user_id\":0}", "user_id" },
		{ "{\"kind\":\"client\",\"user_id\":\"1\"}", "user_id" },
		{ "{\"kind\":\"client\",\"user_id\":1,\"site_id\":1}", "site_id" },
		{ "{\"kind\":\"client\",\"user_id\":9}", "user_id" },
		{ "{\"kind\":\"site\"}", "site_id" },
		{ "{\"kind\":\"site\",\"site_id\":9}", "site_id" },
		{ "{\"kind\":\"site\",\"site_id\":1,\"user_id\":1}", "user_id" },
		{ "{\"kind\":\"admin\",\"name\":5}", "name" },
		{ "{\"kind\":\"admin\",\"name\":\"" /* 129 characters */
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", "name" },
		{ "{\"kind\":\"admin\",\"expires_at\":\"2023-11-14T22:13:20Z\"}", "expires_at" },
		{ "{\"kind\":\"admin\",\"expires_at\":\"2020-01-01T00:00:00Z\"}", "expires_at" },
		{ "{\"kind\":\"admin\",\"expires_at\":\"2030-02-30T00:00:00Z\"}", "expires_at" },
		{ "{\"kind\":\"admin\",\"expires_at\":\"tomorrow\"}", "expires_at" },
		{ "{\"kind\":\"admin\",\"expires_at\":1800000000}", "expires_at" },
		{ "{\"kind\":\"admin\",\"secret\":\"sl_mine\"}", "secret" },
		{ "{\"kind\":\"admin\",\"revoked_at\":null}", "revoked_at" },
	};
	struct afx *f = *state;

	mk(f, "/users", "{\"name\":\"Ada\"}");
	mk(f, "/sites", "{\"name\":\"hq\"}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rq(f, "POST", "/tokens", bad[i].body);
		expect_err(f, 400, "validation", bad[i].field);
	}
	/* an offset is applied: 22:13:21+00:00 is one second from now */
	rq(f, "POST", "/tokens", "{\"kind\":\"admin\",\"expires_at\":\"2023-11-14T23:13:20+01:00\"}");
	expect_err(f, 400, "validation", "expires_at");
	rq(f, "POST", "/tokens", "{\"kind\":\"admin\",\"expires_at\":\"2023-11-14T23:13:21.9+01:00\"}");
	expect_status(f, 201);
	assert_string_equal(json_string_value(json_object_get(json_object_get(f->out, "token"),
							      "expires_at")), "2023-11-14T22:13:21Z");
	rq(f, "POST", "/tokens", "not json");
	expect_err(f, 400, "bad_request", NULL);
}

static void check_audit(struct afx *f, const char *action, const char *entity, int64_t id,
			const char *detail_key, const char *detail_val)
{
	json_t *a = last_audit(f), *d = json_object_get(a, "detail");

	assert_int_equal(json_integer_value(json_object_get(a, "token_id")), f->admin_id);
	assert_string_equal(json_string_value(json_object_get(a, "action")), action);
	assert_string_equal(json_string_value(json_object_get(a, "entity")), entity);
	if (id)
		assert_int_equal(json_integer_value(json_object_get(a, "entity_id")), id);
	else
		assert_true(json_is_null(json_object_get(a, "entity_id")));
	if (detail_key)
		assert_string_equal(json_string_value(json_object_get(d, detail_key)), detail_val);
	else
		assert_true(json_is_null(d));
	assert_string_equal(json_string_value(json_object_get(a, "time")), "2023-11-14T22:13:20Z");
	json_decref(a);
}

static void audit(void **state)
{
	struct afx *f = *state;
	json_t *a;
	size_t n;

	mk(f, "/sites", "{\"name\":\"hq\"}");
	check_audit(f, "create", "sites", 1, "name", "hq");
	assert_int_equal(rq(f, "PATCH", "/sites/1", "{\"name\":\"HQ\"}"), 200);
	check_audit(f, "update", "sites", 1, "name", "HQ");
	mk(f, "/users", "{\"name\":\"Ada\"}");
	mk(f, "/groups", "{\"name\":\"eng\"}");
	assert_int_equal(rq(f, "PUT", "/groups/1/members/1", NULL), 200);
	a = last_audit(f);
	assert_string_equal(json_string_value(json_object_get(a, "entity")), "group_members");
	assert_int_equal(json_integer_value(json_object_get(a, "entity_id")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "detail"),
							    "user_id")), 1);
	json_decref(a);
	assert_int_equal(rq(f, "DELETE", "/groups/1/members/1", NULL), 204);
	a = last_audit(f);
	assert_string_equal(json_string_value(json_object_get(a, "action")), "delete");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "detail"),
							    "group_id")), 1);
	json_decref(a);
	assert_int_equal(rq(f, "PATCH", "/settings", "{\"upstream_dns\":[\"1.1.1.1\"]}"), 200);
	a = last_audit(f);
	assert_string_equal(json_string_value(json_object_get(a, "entity")), "settings");
	assert_true(json_is_null(json_object_get(a, "entity_id")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		json_object_get(a, "detail"), "upstream_dns"), 0)), "1.1.1.1");
	json_decref(a);
	/* a delete keeps what was deleted */
	assert_int_equal(rq(f, "DELETE", "/groups/1", NULL), 204);
	check_audit(f, "delete", "groups", 1, "name", "eng");

	/* failures, reads and empty patches write nothing */
	n = audit_count(f);
	rq(f, "POST", "/sites", "{\"name\":\"HQ\"}");
	expect_err(f, 409, "conflict", "name");
	rq(f, "POST", "/sites", "{\"name\":\"\"}");
	rq(f, "DELETE", "/sites/7", NULL);
	rq(f, "GET", "/sites", NULL);
	rq(f, "GET", "/audit", NULL);
	assert_int_equal(rq(f, "PATCH", "/sites/1", "{}"), 200);
	assert_int_equal(audit_count(f), n);

}

/* The audit of a write whose body is bigger than the detail's cap. */
static void audit_big(void **state)
{
	struct afx *f = *state;
	struct buf b;
	json_t *a;

	mk(f, "/sites", "{\"name\":\"hq\"}");
	buf_init(&b, 1 << 20);
	buf_printf(&b, "{\"site_id\":1,\"type\":\"dns\",\"address\":\"a.test\",\"name\":\"r\","
		       "\"description\":\"%01000d\",\"filters\":[", 0);
	for (int i = 0; i < 850; i++)
		buf_printf(&b, "%s{\"protocol\":\"tcp\"}", i ? "," : "");
	buf_printf(&b, "]}");
	assert_true(b.len > 16384);
	mk(f, "/resources", (char *)b.data);
	a = last_audit(f);
	assert_true(json_is_true(json_object_get(json_object_get(a, "detail"), "truncated")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "detail"), "bytes")),
			 (json_int_t)b.len);
	json_decref(a);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(auth_failures, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(tokens, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(token_validation, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(audit, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(audit_big, api_setup, api_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
