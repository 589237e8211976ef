/* src/portal/api*.c: validation (each error names its field), conflicts, and a
 * table and a mutation loop of bad input that must never yield a 500. */
#include "api_test.h"

struct bad {
	const char *method, *target, *body;
	unsigned status;
	const char *code, *field;
};

static void run_table(struct afx *f, const struct bad *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rq(f, t[i].method, t[i].target, t[i].body);
		if (f->status != t[i].status || strcmp(err_code(f) ? err_code(f) : "", t[i].code) ||
		    (t[i].field ? !err_field(f) || strcmp(err_field(f), t[i].field)
				: err_field(f) != NULL)) {
			char *s = f->out ? json_dumps(f->out, JSON_COMPACT) : NULL;

			print_error("%s %s %s: want %u %s %s, got %u %s\n", t[i].method,
				    t[i].target, t[i].body ? t[i].body : "", t[i].status, t[i].code,
				    t[i].field ? t[i].field : "(no field)", f->status, s ? s : "");
			free(s);
			fail();
		}
	}
}

/* A site 1, resource 1 (dns), group 1, user 1, policy 1, gateway 1. */
static void world(struct afx *f)
{
	mk(f, "/sites", "{\"name\":\"hq\"}");
	mk(f, "/resources", "{\"site_id\":1,\"type\":\"dns\",\"address\":\"git.corp.test\","
	   "\"name\":\"git\"}");
	mk(f, "/groups", "{\"name\":\"eng\"}");
	mk(f, "/users", "{\"name\":\"Ada\",\"email\":\"ada@example.com\"}");
	mk(f, "/policies", "{\"group_id\":1,\"resource_id\":1}");
	mk(f, "/gateways", "{\"site_id\":1,\"name\":\"gw1\"}");
}

#define R(addr_type, addr) \
	"{\"site_id\":1,\"type\":\"" addr_type "\",\"address\":\"" addr "\",\"name\":\"r\"}"
#define RF(filters) \
	"{\"site_id\":1,\"type\":\"dns\",\"address\":\"a.test\",\"name\":\"r\",\"filters\":" \
	filters "}"
#define V(field) 400, "validation", field

static void resources(void **state)
{
	static const struct bad t[] = {
		/* addresses by type */
		{ "POST", "/resources", R("dns", "*"), V("address") },
		{ "POST", "/resources", R("dns", "a.**"), V("address") },
		{ "POST", "/resources", R("dns", "a..b.com"), V("address") },
		{ "POST", "/resources", R("dns", "10.0.0.1"), V("address") },
		{ "POST", "/resources", R("dns", "host.test:80"), V("address") },
		{ "POST", "/resources", R("dns", "a.localhost"), V("address") },
		{ "POST", "/resources", R("dns", "a.b*"), V("address") },
		{ "POST", "/resources", R("ip", "10.0.0.0/8"), V("address") },
		{ "POST", "/resources", R("ip", "300.1.1.1"), V("address") },
		{ "POST", "/resources", R("ip", "host.test"), V("address") },
		{ "POST", "/resources", R("ip", "::ffff:10.0.0.1"), V("address") },
		{ "POST", "/resources", R("ip", " 10.0.0.1"), V("address") },
		{ "POST", "/resources", R("cidr", "10.0.0.1/8"), V("address") },
		{ "POST", "/resources", R("cidr", "10.0.0.0"), V("address") },
		{ "POST", "/resources", R("cidr", "10.0.0.0/33"), V("address") },
		{ "POST", "/resources", R("cidr", "10.0.0.0/08"), V("address") },
		{ "POST", "/resources", R("cidr", "10.0.0.0/"), V("address") },
		{ "POST", "/resources", R("cidr", "10.0.0.0/-1"), V("address") },
		{ "POST", "/resources", R("cidr", "2001:DB8::/32"), V("address") },
		{ "POST", "/resources", R("cidr", "2001:db8:0::/48"), V("address") },
		{ "POST", "/resources", R("cidr", "2001:db8::1/64"), V("address") },
		{ "POST", "/resources", R("cidr", "2001:db8::/129"), V("address") },
		{ "POST", "/resources", R("cidr", "x/8"), V("address") },
		{ "POST", "/resources", R("vpn", "a.test"), V("type") },
		/* filters */
		{ "POST", "/resources", RF("{}"), V("filters") },
		{ "POST", "/resources", RF("[1]"), V("filters[0]") },
		{ "POST", "/resources", RF("[{}]"), V("filters[0].protocol") },
		{ "POST", "/resources", RF("[{\"protocol\":\"sctp\"}]"), V("filters[0].protocol") },
		{ "POST", "/resources", RF("[{\"protocol\":\"TCP\"}]"), V("filters[0].protocol") },
		{ "POST", "/resources", RF("[{\"protocol\":\"tcp\",\"port\":\"1\"}]"),
		  V("filters[0].port") },
		{ "POST", "/resources", RF("[{\"protocol\":\"tcp\"},{\"protocol\":\"icmp\","
					   "\"ports\":\"1\"}]"), V("filters[1].ports") },
		{ "POST", "/resources", RF("[{\"protocol\":\"tcp\",\"ports\":443}]"),
		  V("filters[0].ports") },
		{ "POST", "/resources", RF("[{\"protocol\":\"tcp\",\"ports\":\"0\"}]"),
		  V("filters[0].ports") },
		{ "POST", "/resources", RF("[{\"protocol\":\"tcp\",\"ports\":\"65536\"}]"),
		  V("filters[0].ports") },
		{ "POST", "/resources", RF("[{\"protocol\":\"udp\",\"ports\":\"100-99\"}]"),
		  V("filters[0].ports") },
		{ "POST", "/resources", RF("[{\"protocol\":\"udp\",\"ports\":\"1-\"}]"),
		  V("filters[0].ports") },
		{ "POST", "/resources", RF("[{\"protocol\":\"udp\",\"ports\":\"-1\"}]"),
		  V("filters[0].ports") },
		{ "POST", "/resources", RF("[{\"protocol\":\"udp\",\"ports\":\"1-2-3\"}]"),
		  V("filters[0].ports") },
		{ "POST", "/resources", RF("[{\"protocol\":\"udp\",\"ports\":\"080\"}]"),
		  V("filters[0].ports") },
		{ "POST", "/resources", RF("[{\"protocol\":\"udp\",\"ports\":\"80,443\"}]"),
		  V("filters[0].ports") },
		/* store checks */
		{ "POST", "/resources", "{\"site_id\":1,\"type\":\"dns\",\"address\":\"a.test\"}",
		  V("name") },
		{ "POST", "/resources", "{\"site_id\":9,\"type\":\"dns\",\"address\":\"a.test\","
					"\"name\":\"r\"}", V("site_id") },
		{ "POST", "/resources", "{\"site_id\":\"1\",\"type\":\"dns\",\"address\":\"a.test\","
					"\"name\":\"r\"}", V("site_id") },
		{ "POST", "/resources", "{\"site_id\":1,\"type\":\"dns\",\"address\":7,"
					"\"name\":\"r\"}", V("address") },
		{ "POST", "/resources", "{\"id\":5,\"site_id\":1,\"type\":\"dns\","
					"\"address\":\"a.test\",\"name\":\"r\"}", V("id") },
		{ "POST", "/resources", "{\"site_id\":1,\"type\":\"dns\",\"address\":\"a.test\","
					"\"name\":\"r\",\"colour\":1}", V("colour") },
		{ "POST", "/resources", "{\"site_id\":1,\"type\":\"dns\",\"address\":\"a.test\","
					"\"name\":\"r\",\"created_at\":\"2023-01-01T00:00:00Z\"}",
		  V("created_at") },
		/* patches are checked against the row they change */
		{ "PATCH", "/resources/1", "{\"type\":\"ip\"}", V("address") },
		{ "PATCH", "/resources/1", "{\"address\":\"10.0.0.0/8\"}", V("address") },
		{ "PATCH", "/resources/1", "{\"filters\":[{\"protocol\":\"icmp\",\"ports\":\"1\"}]}",
		  V("filters[0].ports") },
		{ "PATCH", "/resources/1", "{\"name\":\"\"}", V("name") },
		{ "PATCH", "/resources/1", "{\"site_id\":7}", V("site_id") },
		{ "PATCH", "/resources/1", "[]", 400, "bad_request", NULL },
	};
	struct afx *f = *state;

	world(f);
	run_table(f, t, sizeof(t) / sizeof(t[0]));
	/* the good neighbours of the bad ones */
	mk(f, "/resources", R("dns", "app?.**.corp.test."));
	mk(f, "/resources", R("cidr", "0.0.0.0/0"));
	mk(f, "/resources", R("cidr", "2001:db8::/32"));
	mk(f, "/resources", R("cidr", "198.51.100.7/32"));
	mk(f, "/resources", R("ip", "2001:DB8::1"));
	mk(f, "/resources", RF("[{\"protocol\":\"tcp\",\"ports\":\"1-65535\"},"
			       "{\"protocol\":\"udp\",\"ports\":\"53\"},"
			       "{\"protocol\":\"icmp\",\"ports\":null}]"));
	assert_int_equal(rq(f, "PATCH", "/resources/1",
			    "{\"type\":\"cidr\",\"address\":\"10.0.0.0/8\"}"), 200);
}

#define P(cond) "{\"group_id\":1,\"resource_id\":1,\"conditions\":" cond "}"
#define W(w) P("{\"time_windows\":[" w "]}")

static void policies(void **state)
{
	static const struct bad t[] = {
		{ "POST", "/policies", P("[]"), V("conditions") },
		{ "POST", "/policies", P("{\"weekdays\":1}"), V("conditions") },
		{ "POST", "/policies", P("{\"time_zone\":\"Mars/Olympus\"}"),
		  V("conditions.time_zone") },
		{ "POST", "/policies", P("{\"time_zone\":\"../../etc/passwd\"}"),
		  V("conditions.time_zone") },
		{ "POST", "/policies", P("{\"time_zone\":\"Europe\"}"), V("conditions.time_zone") },
		{ "POST", "/policies", P("{\"time_zone\":5}"), V("conditions.time_zone") },
		{ "POST", "/policies", P("{\"time_windows\":{}}"), V("conditions.time_windows") },
		{ "POST", "/policies", W("1"), V("conditions.time_windows[0]") },
		{ "POST", "/policies", W("{\"days\":[],\"start\":\"09:00\",\"end\":\"17:00\"}"),
		  V("conditions.time_windows[0].days") },
		{ "POST", "/policies", W("{\"days\":[\"mon\"],\"start\":\"09:00\",\"end\":\"17:00\"},"
					 "{\"days\":[\"mon\",\"funday\"],\"start\":\"09:00\","
					 "\"end\":\"17:00\"}"),
		  V("conditions.time_windows[1].days[1]") },
		{ "POST", "/policies", W("{\"days\":[\"mon\"],\"start\":\"9:00\",\"end\":\"17:00\"}"),
		  V("conditions.time_windows[0].start") },
		{ "POST", "/policies", W("{\"days\":[\"mon\"],\"start\":\"09:00\",\"end\":\"24:01\"}"),
		  V("conditions.time_windows[0].end") },
		{ "POST", "/policies", W("{\"days\":[\"mon\"],\"start\":\"09:00\",\"end\":\"09:00\"}"),
		  V("conditions.time_windows[0]") },
		{ "POST", "/policies", W("{\"days\":[\"mon\"],\"start\":\"09:00\"}"),
		  V("conditions.time_windows[0].end") },
		{ "POST", "/policies", P("{\"source_cidrs\":[\"10.0.0.1/8\"]}"),
		  V("conditions.source_cidrs[0]") },
		{ "POST", "/policies", P("{\"source_cidrs\":[\"10.0.0.0/8\",\"nope\"]}"),
		  V("conditions.source_cidrs[1]") },
		{ "POST", "/policies", P("{\"source_cidrs\":[7]}"), V("conditions.source_cidrs[0]") },
		{ "POST", "/policies", "{\"group_id\":1,\"resource_id\":1,\"expires_at\":\"soon\"}",
		  V("expires_at") },
		{ "POST", "/policies", "{\"resource_id\":1}", V("group_id") },
		{ "POST", "/policies", "{\"group_id\":\"eng\",\"resource_id\":1}", V("group_id") },
		{ "POST", "/policies", "{\"group_id\":1,\"resource_id\":8}", V("resource_id") },
		{ "POST", "/policies", "{\"group_id\":8,\"resource_id\":1}", V("group_id") },
		{ "POST", "/policies", "{\"group_id\":1,\"resource_id\":1,\"priority\":1}",
		  V("priority") },
		{ "PATCH", "/policies/1", "{\"conditions\":{\"source_cidrs\":[\"::1/200\"]}}",
		  V("conditions.source_cidrs[0]") },
		{ "PATCH", "/policies/1", "{\"group_id\":null}", V("group_id") },
		{ "PATCH", "/policies/1", "{\"resource_id\":99}", V("resource_id") },
	};
	struct afx *f = *state;

	world(f);
	run_table(f, t, sizeof(t) / sizeof(t[0]));
	mk(f, "/policies", W("{\"days\":[\"sat\",\"sun\"],\"start\":\"00:00\",\"end\":\"24:00\"}"));
	mk(f, "/policies", P("{\"time_zone\":null,\"time_windows\":[],\"source_cidrs\":[]}"));
	assert_int_equal(rq(f, "PATCH", "/policies/1",
			    "{\"conditions\":{\"time_zone\":\"America/New_York\"},"
			    "\"expires_at\":null}"), 200);
}

static void others(void **state)
{
	static const struct bad t[] = {
		/* sites, groups, users */
		{ "POST", "/sites", "{}", V("name") },
		{ "POST", "/sites", "{\"name\":\"hq\"}", 409, "conflict", "name" },
		{ "POST", "/sites", "{\"name\":\"\"}", V("name") },
		{ "POST", "/sites", "{\"name\":null}", V("name") },
		{ "POST", "/sites", "{\"name\":[\"hq\"]}", V("name") },
		{ "PATCH", "/sites/1", "{\"id\":2}", V("id") },
		{ "POST", "/groups", "{\"name\":\"eng\"}", 409, "conflict", "name" },
		{ "POST", "/users", "{\"name\":\"A\",\"email\":\"ADA@example.com\"}", 409,
		  "conflict", "email" },
		{ "POST", "/users", "{\"name\":\"A\",\"email\":\"ada\"}", V("email") },
		{ "POST", "/users", "{\"name\":\"A\",\"email\":\"@example.com\"}", V("email") },
		{ "POST", "/users", "{\"name\":\"A\",\"email\":\"a b@example.com\"}", V("email") },
		{ "POST", "/users", "{\"name\":\"A\",\"email\":\"a@b@c\"}", V("email") },
		{ "POST", "/users", "{\"name\":\"A\",\"disabled\":\"no\"}", V("disabled") },
		/* gateways */
		{ "POST", "/gateways", "{\"site_id\":1,\"name\":\"gw1\"}", 409, "conflict", "name" },
		{ "POST", "/gateways", "{\"site_id\":1,\"name\":\"g\",\"online\":true}", V("online") },
		{ "POST", "/gateways", "{\"site_id\":1,\"name\":\"g\",\"tunnel_ipv4\":\"1.2.3.4\"}",
		  V("tunnel_ipv4") },
		{ "PATCH", "/gateways/1", "{\"site_id\":1}", V("site_id") },
		{ "PATCH", "/gateways/1", "{\"public_key\":\"abc\"}", V("public_key") },
		{ "PATCH", "/gateways/1", "{\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
		  V("public_key") },
		{ "PATCH", "/gateways/1", "{\"endpoint\":\"gw.example.com\"}", V("endpoint") },
		{ "PATCH", "/gateways/1", "{\"endpoint\":\"gw.example.com:0\"}", V("endpoint") },
		{ "PATCH", "/gateways/1", "{\"endpoint\":\"gw.example.com:65536\"}", V("endpoint") },
		{ "PATCH", "/gateways/1", "{\"endpoint\":\":51820\"}", V("endpoint") },
		{ "PATCH", "/gateways/1", "{\"endpoint\":\"2001:db8::1:51820\"}", V("endpoint") },
		{ "PATCH", "/gateways/1", "{\"endpoint\":\"[10.0.0.1]:51820\"}", V("endpoint") },
		{ "PATCH", "/gateways/1", "{\"endpoint\":\"-gw.test:1\"}", V("endpoint") },
		{ "PATCH", "/gateways/1", "{\"endpoint\":\"gw..test:1\"}", V("endpoint") },
		{ "PATCH", "/gateways/1", "{\"endpoint\":\"gw_1.test:1\"}", V("endpoint") },
		/* settings */
		{ "PATCH", "/settings", "{\"upstream_dns\":\"1.1.1.1\"}", V("upstream_dns") },
		{ "PATCH", "/settings", "{\"upstream_dns\":[\"1.1.1.1\",\"dns.google\"]}",
		  V("upstream_dns[1]") },
		{ "PATCH", "/settings", "{\"upstream_dns\":[\"1.1.1.1:53\"]}", V("upstream_dns[0]") },
		{ "PATCH", "/settings", "{\"upstream_dns\":[53]}", V("upstream_dns[0]") },
		{ "PATCH", "/settings", "{\"access_request_rate\":-1}", V("access_request_rate") },
		{ "PATCH", "/settings", "{\"access_request_rate\":100001}",
		  V("access_request_rate") },
		{ "PATCH", "/settings", "{\"access_request_burst\":0}", V("access_request_burst") },
		{ "PATCH", "/settings", "{\"flow_retention_days\":\"30\"}", V("flow_retention_days") },
		{ "PATCH", "/settings", "{\"audit_retention_days\":36501}",
		  V("audit_retention_days") },
		{ "PATCH", "/settings", "{\"audit_retention_days\":1.5}", V("audit_retention_days") },
		/* bodies */
		{ "POST", "/sites", NULL, 400, "bad_request", NULL },
		{ "POST", "/sites", "", 400, "bad_request", NULL },
		{ "POST", "/sites", "not json", 400, "bad_request", NULL },
		{ "POST", "/sites", "[]", 400, "bad_request", NULL },
		{ "POST", "/sites", "\"hq\"", 400, "bad_request", NULL },
		{ "POST", "/sites", "{\"name\":\"a\",\"name\":\"b\"}", 400, "bad_request", NULL },
		{ "POST", "/sites", "{\"name\":\"a\"} {}", 400, "bad_request", NULL },
		{ "POST", "/sites", "{\"name\":\"a\\u0000b\"}", 400, "bad_request", NULL },
		{ "PATCH", "/settings", "null", 400, "bad_request", NULL },
	};
	struct afx *f = *state;

	world(f);
	run_table(f, t, sizeof(t) / sizeof(t[0]));
	assert_int_equal(rq(f, "PATCH", "/gateways/1",
			    "{\"endpoint\":\"[2001:db8::1]:51820\"}"), 200);
	assert_int_equal(rq(f, "PATCH", "/gateways/1", "{\"endpoint\":\"198.51.100.9:1\"}"), 200);
	assert_int_equal(rq(f, "PATCH", "/gateways/1", "{\"endpoint\":null}"), 200);
}

/* Input no admin should send: each answer is a 4xx with a well-formed error. */
static void never_500(void **state)
{
	static const char *const targets[] = {
		"/sites", "/gateways", "/resources", "/users", "/groups", "/policies", "/tokens",
		"/sites/1", "/gateways/1", "/resources/1", "/users/1", "/groups/1", "/policies/1",
		"/tokens/1", "/clients/1", "/settings",
	};
	static const char *const bodies[] = {
		"{\"name\":1e400}", "{\"name\":99999999999999999999999}",
		"{\"site_id\":-9223372036854775808}", "{\"site_id\":9223372036854775807}",
		"{\"site_id\":1.5}", "{\"site_id\":true}", "{\"type\":\"dns\",\"address\":null}",
		"{\"filters\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		"{\"conditions\":{\"time_windows\":[{\"days\":[null],\"start\":null}]}}",
		"{\"conditions\":{\"source_cidrs\":[\"1.2.3.4/\\u00e9\"]}}",
		"{\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
		"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
		"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\":1}",
		"{\"expires_at\":\"9999-12-31T23:59:60Z\"}", "{\"expires_at\":\"0000-01-01T00:00:00Z\"}",
		"{\"kind\":\"admin\",\"user_id\":0}", "{\"kind\":\"site\",\"site_id\":1e3}",
		"{\"kind\":\"client\",\"user_id\":9223372036854775807}",
		"{\"kind\":\"admin\",\"expires_at\":\"2023-11-14T22:13:21+99:00\"}",
		"{\"upstream_dns\":[\"\"]}", "{\"upstream_dns\":{}}", "{\"email\":\"\"}",
		"{\"endpoint\":\"[\"}", "{\"endpoint\":\"[]:1\"}", "{\"endpoint\":\"]:1\"}",
		"{\"public_key\":\"============================================\"}",
		"{\"address\":\"\",\"type\":\"cidr\"}", "{\"address\":\"/\",\"type\":\"cidr\"}",
		"{\"address\":\"::/0\",\"type\":\"cidr\"}", "\xff\xfe", "{\"a\":\"\xc3\"}",
		"{", "}", "[", "0", "-", "{\"x\":[1,2,}",
	};
	static const char *const methods[] = { "POST", "PATCH", "PUT", "DELETE", "GET" };
	struct afx *f = *state;

	world(f);
	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++)
		for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++)
			for (size_t m = 0; m < 5; m++) {
				if (!strcmp(targets[t], "/tokens/1") && m == 3)
					continue; /* our own token */
				rq(f, methods[m], targets[t], bodies[b]);
				if (f->status >= 500)
					fail_msg("%s %s %s: %u", methods[m], targets[t], bodies[b],
						 f->status);
			}
	/* and the token worked all along */
	assert_int_equal(rq(f, "GET", "/sites", NULL), 200);
}

/* Valid bodies with random bytes changed, inserted or cut, to every endpoint. */
static void mutations(void **state)
{
	static const struct { const char *method, *target, *body; } seeds[] = {
		{ "POST", "/resources", RF("[{\"protocol\":\"tcp\",\"ports\":\"8000-8100\"}]") },
		{ "POST", "/resources", R("cidr", "2001:db8::/32") },
		{ "POST", "/policies", W("{\"days\":[\"mon\"],\"start\":\"09:00\",\"end\":\"17:00\"}") },
		{ "POST", "/policies", P("{\"time_zone\":\"Europe/Paris\",\"source_cidrs\":"
					 "[\"10.0.0.0/8\"]}") },
		{ "PATCH", "/gateways/1", "{\"endpoint\":\"[2001:db8::1]:51820\",\"public_key\":"
					  "\"Qmp3zTqcxmsm4BPp1uygMzUK2JB/1NQKQXfWoUTYWmY=\"}" },
		{ "POST", "/tokens", "{\"kind\":\"client\",\"user_id\":1,\"name\":\"t\","
				     "\"expires_at\":\"2030-01-01T00:00:00+02:00\"}" },
		{ "PATCH", "/settings", "{\"upstream_dns\":[\"1.1.1.1\",\"2606:4700::1111\"]}" },
		{ "POST", "/users", "{\"name\":\"Bob\",\"email\":\"bob@example.com\"}" },
	};
	struct afx *f = *state;
	unsigned seed = 0x5eed;
	char buf[512];

	world(f);
	for (int round = 0; round < 3000; round++) {
		size_t s = (size_t)rand_r(&seed) % (sizeof(seeds) / sizeof(seeds[0]));
		size_t len = strlen(seeds[s].body), pos;
		int edits = 1 + rand_r(&seed) % 3;

		memcpy(buf, seeds[s].body, len + 1);
		for (int e = 0; e < edits && len > 1; e++) {
			pos = (size_t)rand_r(&seed) % len;
			switch (rand_r(&seed) % 3) {
			case 0: buf[pos] = (char)(rand_r(&seed) % 256); break;
			case 1: len = pos; break;
			default: buf[pos] = "\"{}[],:0-/.*?"[rand_r(&seed) % 13]; break;
			}
		}
		buf[len] = '\0'; /* as the server hands bodies over */
		rq_raw(f, f->admin, seeds[s].method, seeds[s].target, buf, (long)len);
		if (f->status >= 500)
			fail_msg("%s %s %.*s: %u", seeds[s].method, seeds[s].target, (int)len, buf,
				 f->status);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(resources, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(policies, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(others, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(never_500, api_setup, api_teardown),
		cmocka_unit_test_setup_teardown(mutations, api_setup, api_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
