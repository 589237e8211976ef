/* The session hub over real WSS: what a client is told on connect, who may
 * connect, live pushes of admin changes, bad frames, gateway presence. Access
 * requests and revocation: test_hub_access.c. */
#include "hub_test.h"

#include <arpa/inet.h>

struct device_row {
	const char *key;
	int64_t id;
};

static void read_device_id(struct fx *f, void *arg)
{
	struct device_row *d = arg;
	json_t *filter = json_pack("{ss}", "public_key", d->key), *items = NULL;

	assert_int_equal(store_list(f->st, "clients", filter, 0, 1, &items, NULL, NULL), 0);
	d->id = json_integer_value(json_object_get(json_array_get(items, 0), "id"));
	json_decref(items);
	json_decref(filter);
}

static void test_init_contents(void **state)
{
	struct fx *f = *state;
	struct peer *p = peer_open(f, f->client_tok, NULL, NULL, "laptop");
	struct device_row dev;
	struct rec *init;
	char a4[64], a6[64], up[64];

	assert_true(wait_connected(p, 5000));
	init = wait_for(p, CTL_INIT_CLIENT, 5000);
	assert_non_null(init);
	/* only what alice may reach now: dns and ip of home, far of site 2; not lab */
	assert_int_equal(init->n_res, 3);
	assert_int_equal(init->res_ids[0], f->res_dns);
	assert_int_equal(init->res_ids[1], f->res_ip);
	assert_int_equal(init->res_ids[2], f->res_far);
	inet_ntop(AF_INET, init->tunnel_ipv4.addr, a4, sizeof(a4));
	inet_ntop(AF_INET6, init->tunnel_ipv6.addr, a6, sizeof(a6));
	assert_int_equal(init->tunnel_ipv4.family, AF_INET);
	assert_int_equal(init->tunnel_ipv6.family, AF_INET6);
	assert_true(strncmp(a4, "100.", 4) == 0);
	assert_true(strncmp(a6, "fd00:2021:1111::", 16) == 0);
	assert_int_equal(init->n_upstreams, 2);
	inet_ntop(AF_INET, init->up0.addr, up, sizeof(up));
	assert_string_equal(up, "192.0.2.53");
	/* who: the user and the device row with its name */
	dev.key = p->key;
	srv_run(f, read_device_id, &dev);
	assert_true(dev.id > 0);
	assert_int_equal(init->user.id, f->user);
	assert_string_equal(init->user.name, "alice");
	assert_int_equal(init->device.id, dev.id);
	assert_string_equal(init->device.name, "laptop");
	peer_close(p);

	/* another device: other addresses */
	{
		struct peer *r = peer_open(f, f->client_tok, NULL, NULL, NULL);
		char b4[64];

		assert_true(wait_connected(r, 5000));
		init = wait_for(r, CTL_INIT_CLIENT, 5000);
		assert_non_null(init);
		inet_ntop(AF_INET, init->tunnel_ipv4.addr, b4, sizeof(b4));
		assert_string_not_equal(a4, b4);
		/* no X-Sluice-Name: a device row without a name */
		dev.key = r->key;
		srv_run(f, read_device_id, &dev);
		assert_int_equal(init->device.id, dev.id);
		assert_string_equal(init->device.name, "");
		assert_int_equal(init->user.id, f->user);
		peer_close(r);
	}
}

static void test_same_device_keeps_addresses(void **state)
{
	struct fx *f = *state;
	struct peer *p = client_up(f), *q;
	struct rec *i1, *i2;
	char key[64];

	i1 = &p->recs[0];
	snprintf(key, sizeof(key), "%s", p->key);
	q = peer_open(f, f->client_tok, key, NULL, NULL);
	assert_true(wait_connected(q, 5000));
	i2 = wait_for(q, CTL_INIT_CLIENT, 5000);
	assert_non_null(i2);
	assert_memory_equal(i1->tunnel_ipv4.addr, i2->tunnel_ipv4.addr, 4);
	assert_memory_equal(i1->tunnel_ipv6.addr, i2->tunnel_ipv6.addr, 16);
	/* the older session of the device is replaced */
	assert_true(wait_disconnected(p, 3000));
	assert_int_equal(ctl_session_close_code(p->s), HUB_CLOSE_REPLACED);
	peer_close(p);
	peer_close(q);
}

static void test_refused(void **state)
{
	struct fx *f = *state;
	struct peer *p;

	p = peer_open(f, "sl_nottherealtoken0000000000000000000000000000", NULL, NULL, NULL);
	assert_false(wait_connected(p, 5000));
	assert_non_null(strstr(p->why, "401"));
	peer_close(p);
	/* a site token is not a client token, and the other way round */
	p = peer_open(f, f->site_tok, NULL, NULL, NULL);
	assert_false(wait_connected(p, 5000));
	assert_non_null(strstr(p->why, "401"));
	peer_close(p);
	p = peer_open(f, f->client_tok, NULL, "198.51.100.1:51820", NULL);
	assert_false(wait_connected(p, 5000));
	assert_non_null(strstr(p->why, "401"));
	peer_close(p);
	/* a key that is not one */
	p = peer_open(f, f->client_tok, "not-a-key", NULL, NULL);
	assert_false(wait_connected(p, 5000));
	assert_non_null(strstr(p->why, "403"));
	peer_close(p);
}

static void add_policy_cidr(struct fx *f, void *arg)
{
	*(int64_t *)arg = mk(f, "policies", J("{\"group_id\": %lld, \"resource_id\": %lld}",
					       (long long)f->group, (long long)f->res_cidr));
}

static void del_policy(struct fx *f, void *arg)
{
	del(f, "policies", *(int64_t *)arg);
}

static void test_push_policy(void **state)
{
	struct fx *f = *state;
	struct peer *p = client_up(f), *q = client_up(f);
	int64_t pol;
	uint64_t t0 = time_mono_ns();
	struct rec *r;

	srv_run(f, add_policy_cidr, &pol);
	r = wait_res(p, CTL_RESOURCE_UPSERT, (uint64_t)f->res_cidr, 2000);
	assert_non_null(r);
	assert_non_null(wait_res(q, CTL_RESOURCE_UPSERT, (uint64_t)f->res_cidr, 2000));
	print_message("policy create pushed in %llu ms\n",
		      (unsigned long long)((r->t_ns - t0) / NSEC_PER_MSEC));
	assert_true(r->t_ns - t0 < NSEC_PER_SEC);

	mark(p);
	t0 = time_mono_ns();
	srv_run(f, del_policy, &pol);
	r = wait_res(p, CTL_RESOURCE_DELETE, (uint64_t)f->res_cidr, 2000);
	assert_non_null(r);
	assert_true(r->t_ns - t0 < NSEC_PER_SEC);
	/* nothing else went away */
	ctl_loop_run(f->loop, 200);
	for (size_t i = p->mark; i < p->n; i++)
		assert_false(p->recs[i].type == CTL_RESOURCE_DELETE &&
			     p->recs[i].resource_id != (uint64_t)f->res_cidr);
	peer_close(p);
	peer_close(q);
}

static void leave_group(struct fx *f, void *arg)
{
	(void)arg;
	assert_int_equal(store_member_remove(f->st, f->group, f->user, NULL), 0);
}

static void join_group(struct fx *f, void *arg)
{
	(void)arg;
	assert_int_equal(store_member_add(f->st, f->group, f->user, NULL, NULL), 0);
}

static void test_push_membership(void **state)
{
	struct fx *f = *state;
	struct peer *p = client_up(f);
	uint64_t t0 = time_mono_ns();
	struct rec *r;

	srv_run(f, leave_group, NULL);
	r = wait_res(p, CTL_RESOURCE_DELETE, (uint64_t)f->res_dns, 2000);
	assert_non_null(r);
	assert_true(r->t_ns - t0 < NSEC_PER_SEC);
	assert_non_null(wait_res(p, CTL_RESOURCE_DELETE, (uint64_t)f->res_ip, 2000));
	assert_non_null(wait_res(p, CTL_RESOURCE_DELETE, (uint64_t)f->res_far, 2000));
	print_message("membership removal pushed in %llu ms\n",
		      (unsigned long long)((r->t_ns - t0) / NSEC_PER_MSEC));
	mark(p);
	t0 = time_mono_ns();
	srv_run(f, join_group, NULL);
	r = wait_res(p, CTL_RESOURCE_UPSERT, (uint64_t)f->res_ip, 2000);
	assert_non_null(r);
	assert_true(r->t_ns - t0 < NSEC_PER_SEC);
	assert_non_null(wait_res(p, CTL_RESOURCE_UPSERT, (uint64_t)f->res_dns, 2000));
	peer_close(p);
}

static void rename_resource(struct fx *f, void *arg)
{
	(void)arg;
	upd(f, "resources", f->res_ip, J("{\"name\": \"nas2\"}"));
}

static void set_upstreams(struct fx *f, void *arg)
{
	json_t *s = J("{\"upstream_dns\": [\"198.51.100.53\"]}");

	(void)arg;
	assert_int_equal(store_settings_set(f->st, s, NULL, NULL), 0);
	json_decref(s);
}

static void disable_user(struct fx *f, void *arg)
{
	(void)arg;
	upd(f, "users", f->user, J("{\"disabled\": true}"));
}

static void test_push_resource_settings_user(void **state)
{
	struct fx *f = *state;
	struct peer *p = client_up(f);
	struct rec *r;
	char up[64];

	srv_run(f, rename_resource, NULL);
	assert_non_null(wait_res(p, CTL_RESOURCE_UPSERT, (uint64_t)f->res_ip, 1000));
	srv_run(f, set_upstreams, NULL);
	r = wait_for(p, CTL_DNS_SETTINGS, 1000);
	assert_non_null(r);
	assert_int_equal(r->n_upstreams, 1);
	inet_ntop(AF_INET, r->up0.addr, up, sizeof(up));
	assert_string_equal(up, "198.51.100.53");
	/* a disabled user is shown the door */
	srv_run(f, disable_user, NULL);
	assert_true(wait_disconnected(p, 2000));
	assert_int_equal(ctl_session_close_code(p->s), HUB_CLOSE_REVOKED);
	peer_close(p);
}

static void test_bad_frames(void **state)
{
	struct fx *f = *state;
	struct peer *p = client_up(f);
	size_t huge_len = CTL_FRAME_MAX + 1000;
	char *huge = malloc(huge_len);
	struct rec *r;

	assert_int_equal(ctl_session_send_raw(p->s, "this is not JSON", 16), 0);
	r = wait_for(p, CTL_ERROR, 3000);
	assert_non_null(r);
	assert_string_equal(r->code, "bad_message");
	mark(p);
	assert_int_equal(ctl_session_send_raw(p->s, "{\"type\":\"teleport\"}", 19), 0);
	r = wait_for(p, CTL_ERROR, 3000);
	assert_non_null(r);
	assert_string_equal(r->code, "unsupported");
	mark(p);
	/* a type the portal is never sent */
	assert_int_equal(ctl_session_send_raw(p->s, "{\"type\":\"authorized\",\"ref\":1}", 29),
			 0);
	r = wait_for(p, CTL_ERROR, 3000);
	assert_non_null(r);
	assert_string_equal(r->code, "unsupported");
	mark(p);
	memset(huge, ' ', huge_len);
	memcpy(huge, "{\"type\":\"access_request\",\"pad\":\"", 32);
	memcpy(huge + huge_len - 2, "\"}", 2);
	assert_int_equal(ctl_session_send_raw(p->s, huge, huge_len), 0);
	r = wait_for(p, CTL_ERROR, 5000);
	assert_non_null(r);
	assert_string_equal(r->code, "too_large");
	free(huge);
	mark(p);
	/* the session is still good */
	assert_true(p->connected);
	send_request(p, 5, 999999);
	r = wait_for(p, CTL_ACCESS_DENIED, 3000);
	assert_non_null(r);
	assert_string_equal(r->reason, "unknown_resource");
	assert_int_equal(r->req, 5);
	peer_close(p);
}

struct gw_state {
	int64_t id;
	bool online;
	char name[64];
	int64_t count;
};

static void read_gateway(struct fx *f, void *arg)
{
	struct gw_state *g = arg;
	json_t *items = NULL;

	assert_int_equal(store_list(f->st, "gateways", NULL, 0, 0, &items, NULL, NULL), 0);
	g->count = (int64_t)json_array_size(items);
	if (g->count) {
		json_t *row = json_array_get(items, 0);

		g->id = json_integer_value(json_object_get(row, "id"));
		g->online = json_is_true(json_object_get(row, "online"));
		snprintf(g->name, sizeof(g->name), "%s",
			 json_string_value(json_object_get(row, "name")));
	}
	json_decref(items);
}

static void test_gateway_presence(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-a", "198.51.100.1:51820"), *g2;
	struct gw_state st = { 0 };
	char key[64];

	srv_run(f, read_gateway, &st);
	assert_int_equal(st.count, 1);
	assert_true(st.online);
	assert_string_equal(st.name, "gw-a");
	snprintf(key, sizeof(key), "%s", g->key);
	peer_close(g);
	/* the server notices the close, then the row says offline */
	for (int i = 0; i < 100 && st.online; i++) {
		ctl_loop_run(f->loop, 20);
		srv_run(f, read_gateway, &st);
	}
	assert_false(st.online);
	/* the same key comes back to the same row */
	g2 = peer_open(f, f->site_tok, key, "198.51.100.2:51820", "other-name");
	assert_true(wait_connected(g2, 5000));
	assert_non_null(wait_for(g2, CTL_INIT_GATEWAY, 5000));
	srv_run(f, read_gateway, &st);
	assert_int_equal(st.count, 1);
	assert_true(st.online);
	peer_close(g2);
	/* a bad endpoint, or none, is refused */
	g2 = peer_open(f, f->site_tok, NULL, "not an endpoint", NULL);
	assert_false(wait_connected(g2, 5000));
	assert_non_null(strstr(g2->why, "403"));
	peer_close(g2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_contents, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_same_device_keeps_addresses, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_push_policy, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_push_membership, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_push_resource_settings_user, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_frames, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_gateway_presence, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
