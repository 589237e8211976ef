/* src/store: what changes report: delete semantics (restrict, cascade, and every
 * cascaded row reported), group membership, settings, the append-only logs, and
 * the change callback itself. */
#include "store_test.h"

static void test_delete_semantics(void **state)
{
	struct fx *f = *state;
	char secret[STORE_TOKEN_SECRET_SIZE];
	struct store_err err;
	json_t *o = NULL;

	mk(f, "sites", "{\"name\": \"s\"}");
	mk(f, "gateways", "{\"site_id\": 1, \"name\": \"g\"}");
	mk(f, "resources", "{\"site_id\": 1, \"type\": \"ip\", \"address\": \"a\", \"name\": \"r\"}");
	mk(f, "resources", "{\"site_id\": 1, \"type\": \"ip\", \"address\": \"b\", \"name\": \"r2\"}");
	mk(f, "users", "{\"name\": \"u\"}");
	mk(f, "groups", "{\"name\": \"g1\"}");
	mk(f, "groups", "{\"name\": \"g2\"}");
	mk(f, "policies", "{\"group_id\": 1, \"resource_id\": 1}");  /* 1 */
	mk(f, "policies", "{\"group_id\": 2, \"resource_id\": 1}");  /* 2 */
	mk(f, "policies", "{\"group_id\": 1, \"resource_id\": 2}");  /* 3 */
	assert_int_equal(store_member_add(f->st, 1, 1, NULL, &err), 0);
	assert_int_equal(store_member_add(f->st, 2, 1, NULL, &err), 0);
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_SITE, "s", 1, 0, secret, NULL,
					    &err), 0);
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_CLIENT, "u", 1, 0, secret, NULL,
					    &err), 0);
	assert_int_equal(store_client_upsert(f->st, 1, "KEY", "laptop", NULL, &err), 0);

	/* a site with gateways or resources stays */
	assert_int_equal(store_delete(f->st, "sites", 1, &err), -ENOTEMPTY);
	assert_string_equal(err.field, "gateways");
	assert_int_equal(store_delete(f->st, "gateways", 1, &err), 0);
	assert_int_equal(store_delete(f->st, "sites", 1, &err), -ENOTEMPTY);
	assert_string_equal(err.field, "resources");

	/* a resource takes its policies along, and says so */
	ev_clear(f);
	assert_int_equal(store_delete(f->st, "resources", 1, &err), 0);
	assert_int_equal(f->nev, 3);
	assert_true(ev_has(f, "policies", 1, STORE_DELETE));
	assert_true(ev_has(f, "policies", 2, STORE_DELETE));
	assert_true(ev_has(f, "resources", 1, STORE_DELETE));
	assert_int_equal(store_get(f->st, "policies", 2, &o, &err), -ENOENT);
	assert_int_equal(store_get(f->st, "policies", 3, &o, &err), 0);
	json_decref(o);

	/* a group: its policies and memberships */
	ev_clear(f);
	assert_int_equal(store_delete(f->st, "groups", 1, &err), 0);
	assert_int_equal(f->nev, 3);
	assert_true(ev_has(f, "policies", 3, STORE_DELETE));
	assert_true(ev_has(f, "group_members", 1, STORE_DELETE));
	assert_true(ev_has(f, "groups", 1, STORE_DELETE));
	assert_int_equal(num(ev_row(f, "group_members", 1), "user_id"), 1);

	/* a user: memberships, devices and tokens */
	ev_clear(f);
	assert_int_equal(store_delete(f->st, "users", 1, &err), 0);
	assert_int_equal(f->nev, 4);
	assert_true(ev_has(f, "group_members", 2, STORE_DELETE));
	assert_true(ev_has(f, "clients", 1, STORE_DELETE));
	assert_true(ev_has(f, "tokens", 2, STORE_DELETE));
	assert_true(ev_has(f, "users", 1, STORE_DELETE));
	assert_string_equal(str(ev_row(f, "clients", 1), "public_key"), "KEY");

	/* an empty site: its tokens go with it */
	assert_int_equal(store_delete(f->st, "resources", 2, &err), 0);
	ev_clear(f);
	assert_int_equal(store_delete(f->st, "sites", 1, &err), 0);
	assert_int_equal(f->nev, 2);
	assert_true(ev_has(f, "tokens", 1, STORE_DELETE));
	assert_int_equal(store_list(f->st, "tokens", NULL, 0, 0, &o, NULL, &err), 0);
	assert_int_equal(json_array_size(o), 0);
	json_decref(o);
}

static void test_members(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *items = NULL, *flt;
	int64_t next;
	int i;

	mk(f, "groups", "{\"name\": \"eng\"}");
	mk(f, "groups", "{\"name\": \"ops\"}");
	for (i = 0; i < 5; i++)
		mk(f, "users", "{\"name\": \"u\"}");
	for (i = 1; i <= 5; i++)
		assert_int_equal(store_member_add(f->st, 1, i, NULL, &err), 0);
	assert_int_equal(store_member_add(f->st, 2, 3, NULL, &err), 0);
	assert_int_equal(store_member_add(f->st, 1, 3, NULL, &err), -EEXIST);
	assert_string_equal(err.field, "user_id");
	assert_int_equal(store_member_add(f->st, 1, 9, NULL, &err), -ENOENT);
	assert_string_equal(err.field, "user_id");
	assert_int_equal(store_member_add(f->st, 7, 1, NULL, &err), -ENOENT);
	assert_string_equal(err.field, "group_id");

	assert_int_equal(store_member_list(f->st, 1, 0, 3, &items, &next, &err), 0);
	assert_int_equal(json_array_size(items), 3);
	assert_string_equal(str(json_array_get(items, 0), "name"), "u");
	assert_int_equal(next, 3);
	json_decref(items);
	assert_int_equal(store_member_list(f->st, 1, next, 3, &items, &next, &err), 0);
	assert_int_equal(json_array_size(items), 2);
	assert_int_equal(num(json_array_get(items, 0), "id"), 4);
	assert_int_equal(next, 0);
	json_decref(items);

	ev_clear(f);
	assert_int_equal(store_member_remove(f->st, 1, 3, &err), 0);
	assert_int_equal(f->nev, 1);
	assert_string_equal(f->ev[0].entity, "group_members");
	assert_int_equal(num(f->ev[0].row, "user_id"), 3);
	assert_int_equal(num(f->ev[0].row, "group_id"), 1);
	assert_int_equal(store_member_remove(f->st, 1, 3, &err), -ENOENT);
	assert_int_equal(store_member_list(f->st, 1, 0, 0, &items, &next, &err), 0);
	assert_int_equal(json_array_size(items), 4);
	json_decref(items);
	assert_int_equal(store_member_list(f->st, 9, 0, 0, &items, &next, &err), -ENOENT);

	/* a user's groups, for the policy engine */
	flt = J("{\"user_id\": 3}");
	assert_int_equal(store_list(f->st, "group_members", flt, 0, 0, &items, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 1);
	assert_int_equal(num(json_array_get(items, 0), "group_id"), 2);
	json_decref(items);
	json_decref(flt);
}

static void test_settings(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *o = NULL, *p;

	assert_int_equal(store_settings_get(f->st, &o, &err), 0);
	assert_int_equal(json_array_size(json_object_get(o, "upstream_dns")), 0);
	assert_true(json_is_array(json_object_get(o, "upstream_dns")));
	json_decref(o);

	p = J("{\"upstream_dns\": [\"1.1.1.1\", \"2606:4700:4700::1111\"]}");
	/* the whole object comes back: the patch's keys, the others' defaults */
#define SAME(o, p) json_equal(json_object_get(o, "upstream_dns"), \
			      json_object_get(p, "upstream_dns"))
	assert_int_equal(store_settings_set(f->st, p, &o, &err), 0);
	assert_true(SAME(o, p));
	assert_int_equal(json_integer_value(json_object_get(o, "flow_retention_days")), 90);
	json_decref(o);
	assert_int_equal(f->nev, 1);
	assert_string_equal(f->ev[0].entity, "settings");
	assert_int_equal(f->ev[0].action, STORE_UPDATE);
	assert_true(SAME(f->ev[0].row, p));
	assert_int_equal(store_settings_get(f->st, &o, &err), 0);
	assert_true(SAME(o, p));
	json_decref(o);
	json_decref(p);
#undef SAME
	/* the limits: integers (their ranges are the API's) */
	p = J("{\"access_request_rate\": 5, \"audit_retention_days\": 0}");
	assert_int_equal(store_settings_set(f->st, p, &o, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "access_request_rate")), 5);
	assert_int_equal(json_integer_value(json_object_get(o, "access_request_burst")), 100);
	assert_true(json_is_integer(json_object_get(o, "audit_retention_days")));
	assert_int_equal(json_integer_value(json_object_get(o, "audit_retention_days")), 0);
	json_decref(o);
	json_decref(p);
	p = J("{\"flow_retention_days\": \"30\"}");
	assert_int_equal(store_settings_set(f->st, p, NULL, &err), -EINVAL);
	assert_string_equal(err.field, "flow_retention_days");
	json_decref(p);

	p = J("{\"upstream_dns\": \"1.1.1.1\"}");
	assert_int_equal(store_settings_set(f->st, p, NULL, &err), -EINVAL);
	assert_string_equal(err.field, "upstream_dns");
	json_decref(p);
	p = J("{\"theme\": \"dark\"}");
	assert_int_equal(store_settings_set(f->st, p, NULL, &err), -EINVAL);
	assert_string_equal(err.field, "theme");
	json_decref(p);
	/* null: back to the default */
	p = J("{\"upstream_dns\": null}");
	assert_int_equal(store_settings_set(f->st, p, &o, &err), 0);
	assert_int_equal(json_array_size(json_object_get(o, "upstream_dns")), 0);
	json_decref(o);
	json_decref(p);

	/* the devices' integers: defaults, and nothing but integers from their minimum */
	assert_int_equal(store_settings_get(f->st, &o, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "device_limit")), 20);
	assert_int_equal(json_integer_value(json_object_get(o, "address_quarantine_seconds")),
			 86400);
	json_decref(o);
	p = J("{\"device_limit\": 0}");
	assert_int_equal(store_settings_set(f->st, p, NULL, &err), -EINVAL);
	assert_string_equal(err.field, "device_limit");
	json_decref(p);
	p = J("{\"address_quarantine_seconds\": \"60\"}");
	assert_int_equal(store_settings_set(f->st, p, NULL, &err), -EINVAL);
	assert_string_equal(err.field, "address_quarantine_seconds");
	json_decref(p);
	p = J("{\"device_limit\": 3, \"address_quarantine_seconds\": 0}");
	assert_int_equal(store_settings_set(f->st, p, &o, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "device_limit")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "address_quarantine_seconds")), 0);
	json_decref(o);
	json_decref(p);
}

static void test_logs(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *items = NULL, *batch, *flt;
	size_t n;
	int i;

	mk(f, "flows", "{\"event\": \"granted\", \"client_id\": 1, \"user_id\": 2,"
	   " \"resource_id\": 3, \"gateway_id\": 4}");
	f->now += 10;
	batch = json_array();
	for (i = 0; i < 50; i++)
		json_array_append_new(batch, json_pack("{sssI}", "event", "denied", "user_id",
						       (json_int_t)(i % 2 ? 2 : 5)));
	assert_int_equal(store_append(f->st, "flows", batch, &err), 0);
	/* all or nothing */
	json_array_append_new(batch, json_pack("{ss}", "event", "exploded"));
	assert_int_equal(store_append(f->st, "flows", batch, &err), -EINVAL);
	assert_string_equal(err.field, "event");
	json_decref(batch);
	assert_int_equal(store_list(f->st, "flows", NULL, 0, 0, &items, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 51);
	assert_string_equal(str(json_array_get(items, 0), "time"), "2023-11-14T22:13:20Z");
	assert_string_equal(str(json_array_get(items, 1), "time"), "2023-11-14T22:13:30Z");
	json_decref(items);
	flt = J("{\"user_id\": 2, \"event\": \"denied\"}");
	assert_int_equal(store_list(f->st, "flows", flt, 0, 0, &items, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 25);
	json_decref(items);
	json_decref(flt);
	assert_int_equal(store_delete(f->st, "flows", 1, &err), -EOPNOTSUPP);
	batch = json_array();
	assert_int_equal(store_append(f->st, "sites", batch, &err), -EOPNOTSUPP);
	json_decref(batch);

	mk(f, "audit", "{\"token_id\": 1, \"action\": \"create\", \"entity\": \"sites\","
	   " \"entity_id\": 4, \"detail\": {\"name\": \"hq\"}}");
	expect_create(f, "audit", "{\"action\": \"create\", \"entity\": \"s\", \"time\":"
		      " \"2023-11-14T22:13:20Z\"}", -EINVAL, "time");
	expect_create(f, "audit", "{\"action\": \"destroy\", \"entity\": \"s\"}", -EINVAL,
		      "action");
	assert_int_equal(store_list(f->st, "audit", NULL, 0, 0, &items, NULL, &err), 0);
	assert_string_equal(str(json_object_get(json_array_get(items, 0), "detail"), "name"),
			    "hq");
	json_decref(items);

	/* retention: older than the second batch */
	assert_int_equal(store_prune(f->st, "flows", T0 + 5, 0, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_prune(f->st, "flows", T0 + 5, 0, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_prune(f->st, "sites", T0, 0, &n, &err), -EOPNOTSUPP);
	assert_int_equal(store_list(f->st, "flows", NULL, 0, 1, &items, NULL, &err), 0);
	assert_int_equal(num(json_array_get(items, 0), "id"), 2);
	json_decref(items);
	/* in small batches: at most limit rows a call, the oldest first */
	assert_int_equal(store_prune(f->st, "flows", T0 + 11, 20, &n, &err), 0);
	assert_int_equal(n, 20);
	assert_int_equal(store_list(f->st, "flows", NULL, 0, 1, &items, NULL, &err), 0);
	assert_int_equal(num(json_array_get(items, 0), "id"), 22);
	json_decref(items);
	assert_int_equal(store_prune(f->st, "flows", T0 + 11, 100, &n, &err), 0);
	assert_int_equal(n, 30);
}

struct reentry {
	struct fx *f;
	int calls;
};

static void reenter(void *arg, const struct store_change *ch)
{
	struct reentry *re = arg;
	json_t *o = NULL;

	re->calls++;
	/* committed already: readable (and writable) from the callback */
	if (ch->action != STORE_DELETE) {
		assert_int_equal(store_get(re->f->st, ch->entity, ch->id, &o, NULL), 0);
		assert_true(json_equal(o, ch->row));
		json_decref(o);
	}
	if (!strcmp(ch->entity, "sites") && ch->action == STORE_CREATE)
		mk(re->f, "groups", "{\"name\": \"made by the callback\"}");
}

static void test_change_callback(void **state)
{
	struct fx *f = *state;
	struct reentry re = { f, 0 };
	struct store_err err;

	store_set_change_cb(f->st, reenter, &re);
	mk(f, "sites", "{\"name\": \"s\"}");
	assert_int_equal(re.calls, 2);
	expect_create(f, "sites", "{\"name\": \"s\"}", -EEXIST, "name");
	assert_int_equal(re.calls, 2);
	assert_int_equal(store_delete(f->st, "groups", 1, &err), 0);
	assert_int_equal(re.calls, 3);
	store_set_change_cb(f->st, NULL, NULL);
	mk(f, "sites", "{\"name\": \"t\"}");
	assert_int_equal(re.calls, 3);
}

/* store_set_audit: the audit row commits with the write it describes, or not at all. */
static void test_audit_with_write(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *a, *items = NULL, *bad;
	int64_t site;

	a = J("{\"token_id\": 7, \"action\": \"create\", \"entity\": \"sites\","
	      " \"entity_id\": null, \"detail\": {\"name\": \"lab\"}}");
	assert_int_equal(store_set_audit(f->st, a), 0);
	site = mk(f, "sites", "{\"name\": \"lab\"}");
	/* a failed write takes its audit row down with it */
	assert_int_equal(store_set_audit(f->st, a), 0);
	bad = J("{\"name\": \"\"}");
	assert_int_equal(store_create(f->st, "sites", bad, NULL, &err), -EINVAL);
	json_decref(bad);
	/* ... and the row was taken: the next write does not record it */
	mk(f, "sites", "{\"name\": \"other\"}");
	json_decref(a);
	assert_int_equal(store_list(f->st, "audit", NULL, 0, 0, &items, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0),
							      "entity_id")), site);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0),
							      "token_id")), 7);
	json_decref(items);
	/* NULL cancels */
	a = J("{\"token_id\": 7, \"action\": \"update\", \"entity\": \"sites\","
	      " \"entity_id\": 1, \"detail\": null}");
	assert_int_equal(store_set_audit(f->st, a), 0);
	json_decref(a);
	assert_int_equal(store_set_audit(f->st, NULL), 0);
	mk(f, "sites", "{\"name\": \"third\"}");
	assert_int_equal(store_list(f->st, "audit", NULL, 0, 0, &items, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 1);
	json_decref(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delete_semantics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_with_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_callback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
