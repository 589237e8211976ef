/* src/store: the generic entity calls against a real SQLite file: CRUD, the schema's
 * checks, uniqueness, references, pages, partial updates, delete semantics,
 * times. Deletes, membership, settings, logs and change events are in
 * test_store_events.c, tokens and devices in test_store_auth.c, files (migrations,
 * crashes) in test_store_disk.c. */
#include "store_test.h"

static int try_update(struct fx *f, const char *entity, int64_t id, const char *text,
		      json_t **out, struct store_err *err)
{
	json_t *in = J(text);
	int r;

	memset(err, 0, sizeof(*err));
	r = store_update(f->st, entity, id, in, out, err);
	json_decref(in);
	return r;
}



static void test_site_crud(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *o = NULL;
	int64_t id;

	id = mk(f, "sites", "{\"name\": \"hq\"}");
	assert_true(ev_has(f, "sites", id, STORE_CREATE));
	assert_string_equal(str(f->ev[0].row, "name"), "hq");
	assert_int_equal(store_get(f->st, "sites", id, &o, &err), 0);
	assert_int_equal(num(o, "id"), id);
	assert_string_equal(str(o, "name"), "hq");
	assert_string_equal(str(o, "created_at"), "2023-11-14T22:13:20Z");
	assert_int_equal(json_object_size(o), 3);
	json_decref(o);

	assert_int_equal(try_update(f, "sites", id, "{\"name\": \"branch\"}", &o, &err), 0);
	assert_string_equal(str(o, "name"), "branch");
	assert_string_equal(str(o, "created_at"), "2023-11-14T22:13:20Z");
	json_decref(o);
	assert_true(ev_has(f, "sites", id, STORE_UPDATE));

	assert_int_equal(store_delete(f->st, "sites", id, &err), 0);
	assert_true(ev_has(f, "sites", id, STORE_DELETE));
	assert_int_equal(store_get(f->st, "sites", id, &o, &err), -ENOENT);
	assert_string_equal(err.field, "id");
	assert_int_equal(store_delete(f->st, "sites", id, &err), -ENOENT);
	assert_int_equal(try_update(f, "sites", id, "{\"name\": \"x\"}", NULL, &err), -ENOENT);
	/* ids are never handed out again */
	assert_true(mk(f, "sites", "{\"name\": \"hq\"}") > id);
}

static void test_every_entity(void **state)
{
	struct fx *f = *state;
	int64_t site, user, group, res, gw, pol;
	struct store_err err;
	json_t *o = NULL, *want;

	site = mk(f, "sites", "{\"name\": \"s\"}");
	gw = mk(f, "gateways", "{\"site_id\": 1, \"name\": \"gw1\"}");
	assert_int_equal(store_get(f->st, "gateways", gw, &o, &err), 0);
	assert_int_equal(num(o, "site_id"), site);
	assert_true(json_is_false(json_object_get(o, "online")));
	assert_true(json_is_null(json_object_get(o, "public_key")));
	assert_true(json_is_null(json_object_get(o, "last_seen")));
	assert_string_equal(str(o, "tunnel_ipv4"), "100.64.0.1");
	assert_string_equal(str(o, "tunnel_ipv6"), "fd00:2021:1111::1");
	json_decref(o);

	res = mk(f, "resources", "{\"site_id\": 1, \"type\": \"dns\", \"address\": \"*.corp\","
		 " \"name\": \"corp\", \"filters\": [{\"protocol\": \"tcp\", \"ports\": \"443\"}]}");
	assert_int_equal(store_get(f->st, "resources", res, &o, &err), 0);
	want = J("[{\"protocol\": \"tcp\", \"ports\": \"443\"}]");
	assert_true(json_equal(json_object_get(o, "filters"), want));
	assert_string_equal(str(o, "description"), "");
	json_decref(want);
	json_decref(o);

	user = mk(f, "users", "{\"name\": \"Ann\", \"email\": \"ann@example.com\"}");
	assert_int_equal(store_get(f->st, "users", user, &o, &err), 0);
	assert_true(json_is_false(json_object_get(o, "disabled")));
	json_decref(o);
	group = mk(f, "groups", "{\"name\": \"eng\"}");
	pol = mk(f, "policies", "{\"group_id\": 1, \"resource_id\": 1,"
		 " \"conditions\": {\"time_windows\": [{\"days\": [\"mon\"], \"start\": \"09:00\","
		 " \"end\": \"17:00\"}], \"time_zone\": \"Europe/Paris\"},"
		 " \"expires_at\": \"2030-01-02T03:04:05+01:00\"}");
	assert_int_equal(store_get(f->st, "policies", pol, &o, &err), 0);
	assert_int_equal(num(o, "group_id"), group);
	assert_string_equal(str(o, "expires_at"), "2030-01-02T02:04:05Z");
	assert_string_equal(str(json_object_get(o, "conditions"), "time_zone"), "Europe/Paris");
	json_decref(o);
	assert_int_equal(store_member_add(f->st, group, user, &o, &err), 0);
	assert_int_equal(num(o, "user_id"), user);
	json_decref(o);
}


static void test_validation(void **state)
{
	struct fx *f = *state;
	char big[400];
	struct store_err err;
	json_t *in;
	size_t i;

	mk(f, "sites", "{\"name\": \"s\"}");
	expect_create(f, "sites", "{\"name\": \"x\", \"color\": \"red\"}", -EINVAL, "color");
	expect_create(f, "sites", "{\"name\": 5}", -EINVAL, "name");
	expect_create(f, "sites", "{}", -EINVAL, "name");
	expect_create(f, "sites", "{\"name\": null}", -EINVAL, "name");
	expect_create(f, "sites", "{\"name\": \"\"}", -EINVAL, "name");
	expect_create(f, "sites", "{\"name\": \"a\\u0000b\"}", -EINVAL, "name");
	expect_create(f, "sites", "{\"name\": \"x\", \"id\": 7}", -EINVAL, "id");
	expect_create(f, "sites", "{\"name\": \"x\", \"created_at\": \"2023-11-14T22:13:20Z\"}",
		      -EINVAL, "created_at");
	expect_create(f, "sites", "[]", -EINVAL, "");
	/* lengths count characters: 64 two-byte ones fit, 65 do not */
	strcpy(big, "{\"name\": \"");
	for (i = 0; i < 64; i++)
		strcat(big, "\xc3\xa9");
	strcat(big, "\"}");
	expect_create(f, "sites", big, 0, "");
	big[strlen(big) - 2] = '\0';
	strcat(big, "\xc3\xa9\"}");
	expect_create(f, "sites", big, -EINVAL, "name");

	expect_create(f, "gateways", "{\"site_id\": 1, \"name\": \"g\", \"online\": true}",
		      -EINVAL, "online");
	expect_create(f, "gateways", "{\"site_id\": 1, \"name\": \"g\","
		      " \"tunnel_ipv4\": \"100.64.0.9\"}", -EINVAL, "tunnel_ipv4");
	expect_create(f, "gateways", "{\"site_id\": \"1\", \"name\": \"g\"}", -EINVAL,
		      "site_id");
	expect_create(f, "gateways", "{\"site_id\": 0, \"name\": \"g\"}", -EINVAL, "site_id");
	expect_create(f, "resources", "{\"site_id\": 1, \"type\": \"url\", \"address\": \"a\","
		      " \"name\": \"r\"}", -EINVAL, "type");
	expect_create(f, "resources", "{\"site_id\": 1, \"type\": \"ip\", \"address\": \"a\","
		      " \"name\": \"r\", \"filters\": {}}", -EINVAL, "filters");
	expect_create(f, "resources", "{\"site_id\": 1, \"type\": \"ip\", \"address\": \"a\","
		      " \"name\": \"r\", \"description\": null}", -EINVAL, "description");
	expect_create(f, "resources", "{\"site_id\": 1, \"type\": \"ip\", \"name\": \"r\"}",
		      -EINVAL, "address");
	expect_create(f, "users", "{\"name\": \"u\", \"disabled\": 1}", -EINVAL, "disabled");
	expect_create(f, "users", "{\"name\": \"u\", \"email\": null}", 0, "");
	mk(f, "groups", "{\"name\": \"g\"}");
	mk(f, "resources", "{\"site_id\": 1, \"type\": \"ip\", \"address\": \"a\","
	   " \"name\": \"r\"}");
	expect_create(f, "policies", "{\"group_id\": 1, \"resource_id\": 1,"
		      " \"expires_at\": \"tomorrow\"}", -EINVAL, "expires_at");
	expect_create(f, "policies", "{\"group_id\": 1, \"resource_id\": 1,"
		      " \"expires_at\": \"2023-02-29T00:00:00Z\"}", -EINVAL, "expires_at");
	expect_create(f, "policies", "{\"group_id\": 1, \"resource_id\": 1,"
		      " \"expires_at\": 1700000000}", -EINVAL, "expires_at");
	expect_create(f, "policies", "{\"group_id\": 1, \"resource_id\": 1,"
		      " \"conditions\": []}", -EINVAL, "conditions");
	expect_create(f, "tokens", "{\"kind\": \"admin\"}", -EOPNOTSUPP, "");
	expect_create(f, "clients", "{\"user_id\": 1, \"public_key\": \"k\"}", -EOPNOTSUPP, "");
	expect_create(f, "nothing", "{}", -EINVAL, "");
	/* a hidden column is not even known to the API */
	expect_create(f, "flows", "{\"event\": \"granted\", \"secret_hash\": \"x\"}", -EINVAL,
		      "secret_hash");
	/* JSON values have a size limit */
	in = json_pack("{sIsssssss[s]}", "site_id", (json_int_t)1, "type", "ip", "address",
		       "a", "name", "r", "filters", "x");
	for (i = 0; i < 2000; i++)
		json_array_append_new(json_object_get(in, "filters"), json_string("filters!"));
	assert_int_equal(store_create(f->st, "resources", in, NULL, &err), -EINVAL);
	assert_string_equal(err.field, "filters");
	json_decref(in);
	/* nothing failed half-way */
	assert_int_equal(f->nev, 5);
}

/* Control characters (C0, DEL, C1) are refused in every text a user names things
 * with, on create, update and a device's own name; other characters are not. */
static void test_controls(void **state)
{
	static const char *const bad[] = {
		"a\\u001bb", "a\\tb", "a\\nb", "a\\rb", "a\\u0001", "a\\u007fb",
		"a\\u0080b", "a\\u0085b", "a\\u009b31m", "\\u009f",
	};
	static const char *const good[] = { "a\\u00a0b", "caf\\u00e9", "a~b", "\\u2028" };
	struct fx *f = *state;
	struct store_err err;
	json_t *row = NULL;
	char text[256];
	int64_t site, user;
	size_t i;

	site = mk(f, "sites", "{\"name\": \"s\"}");
	user = mk(f, "users", "{\"name\": \"u\"}");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{\"name\": \"%s\"}", bad[i]);
		expect_create(f, "sites", text, -EINVAL, "name");
		assert_int_equal(try_create(f, "sites", text, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "control character"));
		assert_int_equal(try_update(f, "sites", site, text, NULL, &err), -EINVAL);
		assert_string_equal(err.field, "name");
		snprintf(text, sizeof(text), "{\"name\": \"u\", \"email\": \"%s@x\"}", bad[i]);
		expect_create(f, "users", text, -EINVAL, "email");
		snprintf(text, sizeof(text), "{\"site_id\": %lld, \"type\": \"ip\","
			 " \"address\": \"192.0.2.1\", \"name\": \"r\", \"description\": \"%s\"}",
			 (long long)site, bad[i]);
		expect_create(f, "resources", text, -EINVAL, "description");
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "{\"name\": \"%s\"}", good[i]);
		assert_int_equal(try_update(f, "sites", site, text, NULL, &err), 0);
	}
	/* a device names itself (X-Sluice-Name): the same rule */
	memset(&err, 0, sizeof(err));
	assert_int_equal(store_client_upsert(f->st, user, "k1", "\x1b[2Jphone", &row, &err),
			 -EINVAL);
	assert_string_equal(err.field, "name");
	assert_int_equal(store_client_upsert(f->st, user, "k1", "phone\xc2\x9b", &row, &err),
			 -EINVAL);
	assert_int_equal(store_client_upsert(f->st, user, "k1", "phone \xc2\xa0", &row, &err), 0);
	json_decref(row);
}

static void test_times(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z" },
		{ "2030-01-01t00:00:00z", "2030-01-01T00:00:00Z" },
		{ "2030-01-01T00:00:00.123456Z", "2030-01-01T00:00:00Z" },
		{ "2030-01-01T00:30:00-02:30", "2030-01-01T03:00:00Z" },
		{ "2028-02-29T12:00:00Z", "2028-02-29T12:00:00Z" },
		{ "2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z" },
		{ "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z" },
		{ "9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z" },
		{ "2030-01-01 00:00:00Z", NULL },
		{ "2030-01-01T00:00:00", NULL },
		{ "2030-01-01T00:00Z", NULL },
		{ "2030-13-01T00:00:00Z", NULL },
		{ "2030-04-31T00:00:00Z", NULL },
		{ "2030-01-01T24:00:00Z", NULL },
		{ "2030-01-01T00:00:00.Z", NULL },
		{ "2030-01-01T00:00:00+0100", NULL },
		{ "2030-01-01T00:00:00Z ", NULL },
		{ "1969-12-31T23:59:59Z", NULL },
		{ "", NULL },
	};
	struct fx *f = *state;
	struct store_err err;
	json_t *in, *o = NULL;
	size_t i;

	mk(f, "sites", "{\"name\": \"s\"}");
	mk(f, "groups", "{\"name\": \"g\"}");
	mk(f, "resources", "{\"site_id\": 1, \"type\": \"ip\", \"address\": \"a\","
	   " \"name\": \"r\"}");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = json_pack("{sIsIss}", "group_id", (json_int_t)1, "resource_id",
			       (json_int_t)1, "expires_at", cases[i].in);
		if (store_create(f->st, "policies", in, &o, &err) == 0) {
			if (!cases[i].out)
				fail_msg("%s accepted", cases[i].in);
			assert_string_equal(str(o, "expires_at"), cases[i].out);
			json_decref(o);
		} else if (cases[i].out) {
			fail_msg("%s refused: %s", cases[i].in, err.msg);
		}
		json_decref(in);
	}
}

static void test_update_rules(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *o = NULL, *before = NULL;
	size_t n;

	mk(f, "sites", "{\"name\": \"a\"}");
	mk(f, "sites", "{\"name\": \"b\"}");
	mk(f, "gateways", "{\"site_id\": 1, \"name\": \"g\"}");
	mk(f, "resources", "{\"site_id\": 1, \"type\": \"ip\", \"address\": \"10.0.0.1\","
	   " \"name\": \"db\", \"description\": \"the db\"}");
	assert_int_equal(store_get(f->st, "resources", 1, &before, &err), 0);

	/* partial: only what the patch names changes */
	assert_int_equal(try_update(f, "resources", 1, "{\"description\": \"primary\"}", &o,
				    &err), 0);
	assert_string_equal(str(o, "description"), "primary");
	assert_string_equal(str(o, "name"), "db");
	assert_string_equal(str(o, "address"), "10.0.0.1");
	assert_true(json_equal(json_object_get(o, "filters"),
			       json_object_get(before, "filters")));
	json_decref(o);
	assert_int_equal(try_update(f, "resources", 1, "{\"filters\": [{\"protocol\": "
				    "\"icmp\"}], \"site_id\": 2}", &o, &err), 0);
	assert_int_equal(num(o, "site_id"), 2);
	assert_int_equal(json_array_size(json_object_get(o, "filters")), 1);
	json_decref(o);

	/* an empty patch changes and reports nothing */
	n = f->nev;
	assert_int_equal(try_update(f, "resources", 1, "{}", &o, &err), 0);
	assert_string_equal(str(o, "description"), "primary");
	json_decref(o);
	assert_int_equal(f->nev, n);

	assert_int_equal(try_update(f, "resources", 1, "{\"bogus\": 1}", NULL, &err), -EINVAL);
	assert_string_equal(err.field, "bogus");
	assert_int_equal(try_update(f, "resources", 1, "{\"name\": null}", NULL, &err), -EINVAL);
	assert_string_equal(err.field, "name");
	assert_int_equal(try_update(f, "resources", 1, "{\"id\": 3}", NULL, &err), -EINVAL);
	assert_int_equal(try_update(f, "resources", 1, "{\"site_id\": 9}", NULL, &err), -ENOENT);
	assert_string_equal(err.field, "site_id");
	assert_int_equal(try_update(f, "gateways", 1, "{\"site_id\": 2}", NULL, &err), -EINVAL);
	assert_string_equal(err.field, "site_id");
	assert_int_equal(try_update(f, "gateways", 1, "{\"online\": true}", NULL, &err), -EINVAL);
	assert_int_equal(try_update(f, "gateways", 1, "{\"public_key\": \"AAAA\","
				    " \"endpoint\": \"gw.example.com:51820\"}", &o, &err), 0);
	assert_string_equal(str(o, "public_key"), "AAAA");
	json_decref(o);
	assert_int_equal(try_update(f, "gateways", 1, "{\"public_key\": null}", &o, &err), 0);
	assert_true(json_is_null(json_object_get(o, "public_key")));
	json_decref(o);
	assert_int_equal(try_update(f, "resources", 1, "[1]", NULL, &err), -EINVAL);
	assert_int_equal(try_update(f, "flows", 1, "{}", NULL, &err), -EOPNOTSUPP);
	json_decref(before);
}

static void test_unique(void **state)
{
	struct fx *f = *state;
	struct store_err err;

	mk(f, "sites", "{\"name\": \"a\"}");
	mk(f, "sites", "{\"name\": \"b\"}");
	expect_create(f, "sites", "{\"name\": \"a\"}", -EEXIST, "name");
	assert_int_equal(try_update(f, "sites", 2, "{\"name\": \"a\"}", NULL, &err), -EEXIST);
	assert_string_equal(err.field, "name");
	assert_int_equal(try_update(f, "sites", 1, "{\"name\": \"a\"}", NULL, &err), 0);

	/* gateway names are unique within their site */
	mk(f, "gateways", "{\"site_id\": 1, \"name\": \"gw\", \"public_key\": \"K1\"}");
	expect_create(f, "gateways", "{\"site_id\": 1, \"name\": \"gw\"}", -EEXIST, "name");
	mk(f, "gateways", "{\"site_id\": 2, \"name\": \"gw\"}");
	expect_create(f, "gateways", "{\"site_id\": 2, \"name\": \"gw2\", \"public_key\": \"K1\"}",
		      -EEXIST, "public_key");

	/* emails regardless of case; any number without one */
	mk(f, "users", "{\"name\": \"a\", \"email\": \"Ann@Example.com\"}");
	expect_create(f, "users", "{\"name\": \"b\", \"email\": \"ann@example.COM\"}", -EEXIST,
		      "email");
	mk(f, "users", "{\"name\": \"c\"}");
	mk(f, "users", "{\"name\": \"d\"}");
	mk(f, "groups", "{\"name\": \"eng\"}");
	expect_create(f, "groups", "{\"name\": \"eng\"}", -EEXIST, "name");
}

static void test_references(void **state)
{
	struct fx *f = *state;

	expect_create(f, "gateways", "{\"site_id\": 999, \"name\": \"g\"}", -ENOENT, "site_id");
	expect_create(f, "resources", "{\"site_id\": 3, \"type\": \"ip\", \"address\": \"a\","
		      " \"name\": \"r\"}", -ENOENT, "site_id");
	mk(f, "groups", "{\"name\": \"g\"}");
	expect_create(f, "policies", "{\"group_id\": 1, \"resource_id\": 1}", -ENOENT,
		      "resource_id");
	expect_create(f, "policies", "{\"group_id\": 2, \"resource_id\": 1}", -ENOENT,
		      "group_id");
	expect_create(f, "group_members", "{\"group_id\": 1, \"user_id\": 4}", -ENOENT,
		      "user_id");
	/* the logs refer to nothing: their rows outlive what they name */
	expect_create(f, "flows", "{\"event\": \"denied\", \"user_id\": 77, \"resource_id\": 5,"
		      " \"reason\": \"no_policy\"}", 0, "");
}

static void test_pages(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *items = NULL, *flt;
	int64_t next, after = 0;
	char text[96];
	size_t total = 0, pages = 0;
	int i;

	for (i = 0; i < 25; i++) {
		if (i < 5)
			snprintf(text, sizeof(text), "{\"name\": \"u%d\", \"disabled\": %s}", i,
				 i % 3 ? "false" : "true");
		else
			snprintf(text, sizeof(text), "{\"name\": \"u%d\", \"disabled\": %s,"
				 " \"email\": \"u%d@x\"}", i, i % 3 ? "false" : "true", i);
		mk(f, "users", text);
	}
	do {
		assert_int_equal(store_list(f->st, "users", NULL, after, 10, &items, &next, &err), 0);
		assert_true(json_array_size(items) <= 10);
		assert_int_equal(num(json_array_get(items, 0), "id"), after + 1);
		total += json_array_size(items);
		if (next)
			assert_int_equal(next, num(json_array_get(items, 9), "id"));
		json_decref(items);
		after = next;
		pages++;
	} while (next);
	assert_int_equal(total, 25);
	assert_int_equal(pages, 3);

	/* a page that ends exactly at the last row has no next */
	assert_int_equal(store_list(f->st, "users", NULL, 20, 5, &items, &next, &err), 0);
	assert_int_equal(json_array_size(items), 5);
	assert_int_equal(next, 0);
	json_decref(items);
	assert_int_equal(store_list(f->st, "users", NULL, 0, 0, &items, &next, &err), 0);
	assert_int_equal(json_array_size(items), 25);
	assert_int_equal(next, 0);
	json_decref(items);

	flt = J("{\"disabled\": true}");
	assert_int_equal(store_list(f->st, "users", flt, 0, 0, &items, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 9);
	json_decref(items);
	json_decref(flt);
	flt = J("{\"email\": null, \"disabled\": false}");
	assert_int_equal(store_list(f->st, "users", flt, 0, 3, &items, &next, &err), 0);
	assert_int_equal(json_array_size(items), 3); /* u1 u2 u4 */
	assert_string_equal(str(json_array_get(items, 2), "name"), "u4");
	assert_int_equal(next, 0);
	json_decref(items);
	json_decref(flt);
	flt = J("{\"email\": \"U7@X\"}");
	assert_int_equal(store_list(f->st, "users", flt, 0, 0, &items, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 1);
	json_decref(items);
	json_decref(flt);
	flt = J("{\"colour\": 1}");
	assert_int_equal(store_list(f->st, "users", flt, 0, 0, &items, NULL, &err), -EINVAL);
	assert_string_equal(err.field, "colour");
	json_decref(flt);
	flt = J("{\"disabled\": \"yes\"}");
	assert_int_equal(store_list(f->st, "users", flt, 0, 0, &items, NULL, &err), -EINVAL);
	json_decref(flt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_site_crud, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_entity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_controls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_references, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
