/* src/portal/api*.c: every endpoint's happy path, statuses, pagination, list
 * filters, unknown paths and methods, with a real SQLite store. */
#include "api_test.h"

static void crud_sites(void **state)
{
	struct afx *f = *state;
	int64_t id = mk(f, "/sites", "{\"name\":\"hq\"}");

	assert_string_equal(out_str(f, "name"), "hq");
	assert_non_null(out_str(f, "created_at"));
	assert_int_equal(rq(f, "GET", "/sites/1", NULL), 200);
	assert_int_equal(out_int(f, "id"), id);
	assert_int_equal(rq(f, "PATCH", "/sites/1", "{\"name\":\"head office\"}"), 200);
	assert_string_equal(out_str(f, "name"), "head office");
	assert_int_equal(rq(f, "GET", "/sites", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 1);
	assert_true(json_is_null(json_object_get(f->out, "next")));
	assert_int_equal(rq(f, "DELETE", "/sites/1", NULL), 204);
	rq(f, "GET", "/sites/1", NULL);
	expect_err(f, 404, "not_found", NULL);
	rq(f, "DELETE", "/sites/1", NULL);
	expect_err(f, 404, "not_found", NULL);
	rq(f, "PATCH", "/sites/1", "{\"name\":\"x\"}");
	expect_err(f, 404, "not_found", NULL);
}

static void crud_gateways_resources(void **state)
{
	struct afx *f = *state;
	int64_t site = mk(f, "/sites", "{\"name\":\"hq\"}"), gw, res;

	gw = mk(f, "/gateways", "{\"site_id\":1,\"name\":\"gw1\"}");
	assert_false(json_is_true(json_object_get(f->out, "online")));
	assert_non_null(out_str(f, "tunnel_ipv4"));
	assert_int_equal(rq(f, "PATCH", "/gateways/1",
			    "{\"endpoint\":\"gw.example.com:51820\","
			    "\"public_key\":\"Qmp3zTqcxmsm4BPp1uygMzUK2JB/1NQKQXfWoUTYWmY=\"}"), 200);
	assert_string_equal(out_str(f, "endpoint"), "gw.example.com:51820");
	res = mk(f, "/resources",
		 "{\"site_id\":1,\"type\":\"dns\",\"address\":\"*.corp.test\",\"name\":\"corp\","
		 "\"filters\":[{\"protocol\":\"tcp\",\"ports\":\"443\"},"
		 "{\"protocol\":\"udp\",\"ports\":\"8000-8100\"},{\"protocol\":\"icmp\"}]}");
	assert_int_equal(json_array_size(json_object_get(f->out, "filters")), 3);
	assert_string_equal(out_str(f, "description"), "");
	mk(f, "/resources", "{\"site_id\":1,\"type\":\"ip\",\"address\":\"2001:db8::10\","
	   "\"name\":\"v6 host\"}");
	mk(f, "/resources", "{\"site_id\":1,\"type\":\"cidr\",\"address\":\"10.20.0.0/16\","
	   "\"name\":\"lab\"}");
	assert_int_equal(rq(f, "PATCH", "/resources/1",
			    "{\"type\":\"ip\",\"address\":\"203.0.113.5\"}"), 200);
	assert_string_equal(out_str(f, "type"), "ip");
	/* a site with gateways or resources stays */
	rq(f, "DELETE", "/sites/1", NULL);
	expect_err(f, 409, "conflict", "gateways");
	assert_int_equal(rq(f, "DELETE", "/gateways/1", NULL), 204);
	rq(f, "DELETE", "/sites/1", NULL);
	expect_err(f, 409, "conflict", "resources");
	for (int i = 1; i <= 3; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/resources/%d", i);
		assert_int_equal(rq(f, "DELETE", p, NULL), 204);
	}
	assert_int_equal(rq(f, "DELETE", "/sites/1", NULL), 204);
	(void)site;
	(void)gw;
	(void)res;
}

static void crud_users_groups_policies(void **state)
{
	struct afx *f = *state;

	mk(f, "/sites", "{\"name\":\"hq\"}");
	mk(f, "/resources", "{\"site_id\":1,\"type\":\"dns\",\"address\":\"git.corp.test\","
	   "\"name\":\"git\"}");
	mk(f, "/users", "{\"name\":\"Ada\",\"email\":\"ada@example.com\"}");
	assert_false(json_is_true(json_object_get(f->out, "disabled")));
	mk(f, "/groups", "{\"name\":\"eng\"}");
	mk(f, "/policies", "{\"group_id\":1,\"resource_id\":1,\"description\":\"eng to git\","
	   "\"conditions\":{\"time_zone\":\"Europe/Paris\",\"time_windows\":[{\"days\":"
	   "[\"mon\",\"fri\"],\"start\":\"22:00\",\"end\":\"02:00\"}],\"source_cidrs\":"
	   "[\"198.51.100.0/24\",\"2001:db8::/32\"]},\"expires_at\":\"2030-01-01T00:00:00Z\"}");
	assert_string_equal(out_str(f, "expires_at"), "2030-01-01T00:00:00Z");
	assert_int_equal(rq(f, "PATCH", "/policies/1", "{\"conditions\":{}}"), 200);
	assert_int_equal(json_object_size(json_object_get(f->out, "conditions")), 0);
	assert_int_equal(rq(f, "PATCH", "/users/1", "{\"disabled\":true,\"email\":null}"), 200);
	assert_true(json_is_true(json_object_get(f->out, "disabled")));
	assert_int_equal(rq(f, "GET", "/policies/1", NULL), 200);
	/* deleting the group takes its policies with it */
	assert_int_equal(rq(f, "DELETE", "/groups/1", NULL), 204);
	rq(f, "GET", "/policies/1", NULL);
	expect_err(f, 404, "not_found", NULL);
	assert_int_equal(rq(f, "DELETE", "/users/1", NULL), 204);
}

static void members(void **state)
{
	struct afx *f = *state;
	int64_t mid;

	mk(f, "/groups", "{\"name\":\"eng\"}");
	mk(f, "/users", "{\"name\":\"Ada\"}");
	mk(f, "/users", "{\"name\":\"Bob\"}");
	mk(f, "/users", "{\"name\":\"Cy\"}");
	assert_int_equal(rq(f, "PUT", "/groups/1/members/1", NULL), 200);
	mid = out_int(f, "id");
	assert_int_equal(out_int(f, "group_id"), 1);
	assert_int_equal(out_int(f, "user_id"), 1);
	/* idempotent: the same membership again, and no second audit row */
	size_t n = audit_count(f);
	assert_int_equal(rq(f, "PUT", "/groups/1/members/1", NULL), 200);
	assert_int_equal(out_int(f, "id"), mid);
	assert_int_equal(audit_count(f), n);
	assert_int_equal(rq(f, "PUT", "/groups/1/members/3", NULL), 200);
	assert_int_equal(rq(f, "PUT", "/groups/1/members/2", NULL), 200);
	assert_int_equal(rq(f, "GET", "/groups/1/members?limit=2", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(f->out, "items"), 0), "name")), "Ada");
	assert_int_equal(out_int(f, "next"), 2);
	assert_int_equal(rq(f, "GET", "/groups/1/members?after=2", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 1);
	assert_true(json_is_null(json_object_get(f->out, "next")));
	assert_int_equal(rq(f, "DELETE", "/groups/1/members/2", NULL), 204);
	rq(f, "DELETE", "/groups/1/members/2", NULL);
	expect_err(f, 404, "not_found", NULL);
	rq(f, "PUT", "/groups/9/members/1", NULL);
	expect_err(f, 404, "not_found", NULL);
	rq(f, "PUT", "/groups/1/members/9", NULL);
	expect_err(f, 404, "not_found", NULL);
	rq(f, "GET", "/groups/9/members", NULL);
	expect_err(f, 404, "not_found", NULL);
	rq(f, "GET", "/groups/1/members/1", NULL);
	expect_err(f, 405, "method_not_allowed", NULL);
	rq(f, "POST", "/groups/1/members", "{}");
	expect_err(f, 405, "method_not_allowed", NULL);
	rq(f, "GET", "/groups/1/members?name=Ada", NULL);
	expect_err(f, 400, "bad_request", "name");
}

static void clients(void **state)
{
	struct afx *f = *state;

	mk(f, "/users", "{\"name\":\"Ada\"}");
	mk_client(f, 1, "Qmp3zTqcxmsm4BPp1uygMzUK2JB/1NQKQXfWoUTYWmY=");
	mk_client(f, 1, "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=");
	assert_int_equal(rq(f, "GET", "/clients", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 2);
	assert_int_equal(rq(f, "GET", "/clients/2", NULL), 200);
	assert_string_equal(out_str(f, "tunnel_ipv4"), "100.64.0.2");
	assert_int_equal(rq(f, "PATCH", "/clients/2", "{\"name\":\"phone\"}"), 200);
	assert_string_equal(out_str(f, "name"), "phone");
	rq(f, "PATCH", "/clients/2", "{\"user_id\":1}");
	expect_err(f, 400, "validation", "user_id");
	rq(f, "POST", "/clients", "{\"user_id\":1,\"public_key\":\"x\"}");
	expect_err(f, 405, "method_not_allowed", NULL);
	assert_int_equal(rq(f, "POST", "/clients/2/revoke", NULL), 200);
	assert_non_null(out_str(f, "revoked_at"));
	{
		json_t *a = last_audit(f);

		assert_string_equal(json_string_value(json_object_get(a, "action")), "revoke");
		assert_string_equal(json_string_value(json_object_get(a, "entity")), "clients");
		assert_int_equal(json_integer_value(json_object_get(a, "entity_id")), 2);
		json_decref(a);
	}
	rq(f, "POST", "/clients/9/revoke", NULL);
	expect_err(f, 404, "not_found", NULL);
	rq(f, "GET", "/clients/2/revoke", NULL);
	expect_err(f, 405, "method_not_allowed", NULL);
	assert_int_equal(rq(f, "DELETE", "/clients/2", NULL), 204);
	assert_int_equal(rq(f, "GET", "/clients?user_id=1", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 1);
}

static void settings(void **state)
{
	struct afx *f = *state;

	assert_int_equal(rq(f, "GET", "/settings", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "upstream_dns")), 0);
	assert_int_equal(rq(f, "PATCH", "/settings",
			    "{\"upstream_dns\":[\"9.9.9.9\",\"2620:fe::fe\"]}"), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "upstream_dns")), 2);
	assert_int_equal(rq(f, "GET", "/settings", NULL), 200);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(f->out, "upstream_dns"), 1)), "2620:fe::fe");
	assert_int_equal(rq(f, "PATCH", "/settings", "{\"upstream_dns\":null}"), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "upstream_dns")), 0);
	rq(f, "PATCH", "/settings", "{\"nope\":1}");
	expect_err(f, 400, "validation", "nope");
	rq(f, "POST", "/settings", "{}");
	expect_err(f, 405, "method_not_allowed", NULL);
	rq(f, "DELETE", "/settings", NULL);
	expect_err(f, 405, "method_not_allowed", NULL);
	rq(f, "GET", "/settings/1", NULL);
	expect_err(f, 404, "not_found", NULL);
}

static void logs(void **state)
{
	struct afx *f = *state;
	struct store_err err;
	json_t *flows = json_pack("[{s:s,s:I,s:I},{s:s,s:s}]", "event", "granted",
				  "client_id", (json_int_t)4, "resource_id", (json_int_t)7,
				  "event", "denied", "reason", "no_policy");

	assert_int_equal(store_append(f->st, "flows", flows, &err), 0);
	json_decref(flows);
	assert_int_equal(rq(f, "GET", "/flows", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 2);
	assert_int_equal(rq(f, "GET", "/flows?event=denied", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 1);
	assert_int_equal(rq(f, "GET", "/flows?client_id=null", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 1);
	assert_int_equal(rq(f, "GET", "/flows/1", NULL), 200);
	assert_string_equal(out_str(f, "event"), "granted");
	/* traffic rows: their fields shown, filtered by protocol */
	flows = json_pack("[{s:s,s:I,s:s,s:I,s:I,s:I,s:s,s:s}]", "event", "traffic",
			  "client_id", (json_int_t)4, "protocol", "udp", "port", (json_int_t)53,
			  "rx_bytes", (json_int_t)100, "tx_bytes", (json_int_t)200,
			  "start", "2026-01-01T00:00:00Z", "end", "2026-01-01T00:01:00Z");
	assert_int_equal(store_append(f->st, "flows", flows, &err), 0);
	json_decref(flows);
	assert_int_equal(rq(f, "GET", "/flows?protocol=udp", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 1);
	assert_int_equal(rq(f, "GET", "/flows/3", NULL), 200);
	assert_string_equal(out_str(f, "event"), "traffic");
	assert_string_equal(out_str(f, "end"), "2026-01-01T00:01:00Z");
	assert_int_equal(json_integer_value(json_object_get(f->out, "tx_bytes")), 200);
	assert_int_equal(rq(f, "GET", "/flows?protocol=null", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 2);
	rq(f, "GET", "/flows/4", NULL);
	expect_err(f, 404, "not_found", NULL);
	rq(f, "POST", "/flows", "{\"event\":\"granted\"}");
	expect_err(f, 405, "method_not_allowed", NULL);
	rq(f, "DELETE", "/flows/1", NULL);
	expect_err(f, 405, "method_not_allowed", NULL);
	rq(f, "PATCH", "/audit/1", "{}");
	expect_err(f, 405, "method_not_allowed", NULL);
	mk(f, "/groups", "{\"name\":\"eng\"}");
	assert_int_equal(rq(f, "GET", "/audit?entity=groups&action=create", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 1);
	assert_int_equal(rq(f, "GET", "/audit/1", NULL), 200);
	assert_string_equal(out_str(f, "entity"), "groups");
}

static void pagination(void **state)
{
	struct afx *f = *state;
	json_t *items;
	char body[64];
	int64_t after = 0;
	size_t total = 0;

	for (int i = 0; i < 120; i++) {
		snprintf(body, sizeof(body), "{\"name\":\"g%03d\"}", i);
		mk(f, "/groups", body);
	}
	/* default 100 */
	assert_int_equal(rq(f, "GET", "/groups", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 100);
	assert_int_equal(out_int(f, "next"), 100);
	/* walk in pages of 7: every row once, in order */
	for (;;) {
		char target[64];

		snprintf(target, sizeof(target), "/groups?limit=7&after=%lld", (long long)after);
		assert_int_equal(rq(f, "GET", target, NULL), 200);
		items = json_object_get(f->out, "items");
		for (size_t i = 0; i < json_array_size(items); i++)
			assert_int_equal(json_integer_value(json_object_get(
				json_array_get(items, i), "id")), (json_int_t)(++total));
		if (json_is_null(json_object_get(f->out, "next")))
			break;
		after = out_int(f, "next");
		assert_int_equal(after, (json_int_t)total);
	}
	assert_int_equal(total, 120);
	assert_int_equal(rq(f, "GET", "/groups?limit=500", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 120);
	assert_int_equal(rq(f, "GET", "/groups?limit=1&after=119", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 1);
	assert_true(json_is_null(json_object_get(f->out, "next")));
	assert_int_equal(rq(f, "GET", "/groups?after=9223372036854775807", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 0);
	assert_int_equal(rq(f, "GET", "/groups?name=g042", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 1);
}

static void bad_query_args(void **state)
{
	struct afx *f = *state;
	static const struct { const char *target, *field; } bad[] = {
		{ "/sites?limit=0", "limit" },
		{ "/sites?limit=501", "limit" },
		{ "/sites?limit=-1", "limit" },
		{ "/sites?limit=abc", "limit" },
		{ "/sites?limit=", "limit" },
		{ "/sites?limit=07", "limit" },
		{ "/sites?limit=1&limit=2", "limit" },
		{ "/sites?after=-1", "after" },
		{ "/sites?after=x", "after" },
		{ "/sites?after=9223372036854775808", "after" },
		{ "/sites?after=99999999999999999999999", "after" },
		{ "/sites?colour=red", "colour" },
		{ "/sites?created_at=2023", "created_at" },
		{ "/gateways?online=yes", "online" },
		{ "/gateways?site_id=one", "site_id" },
		{ "/gateways?site_id=null", "site_id" },
		{ "/users?disabled=1", "disabled" },
		{ "/users?name=a&name=b", "name" },
		{ "/tokens?secret_hash=00", "secret_hash" },
		{ "/policies?conditions=x", "conditions" },
		{ "/flows?time=x", "time" },
		{ "/audit?detail=x", "detail" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rq(f, "GET", bad[i].target, NULL);
		expect_err(f, 400, "bad_request", bad[i].field);
	}
	/* a name that is not UTF-8 is quoted safely */
	rq(f, "GET", "/sites?\xff\xfe=1", NULL);
	assert_int_equal(f->status, 400);
	rq(f, "GET", "/sites?name=\xff", NULL);
	expect_err(f, 400, "bad_request", "name");
	/* fine ones */
	assert_int_equal(rq(f, "GET", "/users?disabled=false&email=null", NULL), 200);
	assert_int_equal(rq(f, "GET", "/tokens?user_id=null&kind=admin", NULL), 200);
	assert_int_equal(json_array_size(json_object_get(f->out, "items")), 1);
}

static void paths_and_methods(void **state)
{
	struct afx *f = *state;
	static const char *const missing[] = {
		"", "/", "/nope", "/sites/", "/sites//1", "/sites/0", "/sites/01", "/sites/-1",
		"/sites/abc", "/sites/1/x", "/sites/1/revoke", "/sites/99999999999999999999",
		"/groups/1/members/x", "/groups/1/members/1/x", "/groups/x/members",
		"/groups/1/owners", "/tokens/1/revoke/now", "/a/b/c/d/e",
		"/group_members", "/SITES",
	};
	static const struct { const char *method, *target; } wrong[] = {
		{ "PUT", "/sites" }, { "PATCH", "/sites" }, { "DELETE", "/sites" },
		{ "POST", "/sites/1" }, { "PUT", "/sites/1" }, { "PUT", "/tokens/1" },
		{ "POST", "/audit" }, { "PUT", "/settings" }, { "PATCH", "/clients" },
		{ "DELETE", "/tokens/1/revoke" }, { "PUT", "/groups/1/members" },
		{ "POST", "/groups/1/members/1" },
	};

	mk(f, "/sites", "{\"name\":\"hq\"}");
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		rq(f, "GET", missing[i], NULL);
		expect_err(f, 404, "not_found", NULL);
	}
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		rq(f, wrong[i].method, wrong[i].target, "{}");
		expect_err(f, 405, "method_not_allowed", NULL);
	}
	/* a path outside the prefix (the server never routes one here) */
	{
		struct http_request req = { .method = HTTP_GET, .path = "/api/v2/sites",
					    .authorization = f->admin, .peer = "x", .body = "" };
		struct http_response resp = { 0 };

		assert_int_equal(api_handle(f->api, &req, &resp), 0);
		assert_int_equal(resp.status, 404);
		json_decref(resp.body);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(crud_sites, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(crud_gateways_resources, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(crud_users_groups_policies, api_setup,
						api_teardown),
		cmocka_unit_test_setup_teardown(members, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(clients, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(settings, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(logs, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(pagination, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(bad_query_args, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(paths_and_methods, api_setup, api_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
