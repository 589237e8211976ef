/* What the hub keeps in the store, over real WSS and a real SQLite file: live
 * authorizations survive a restart of the hub (a new hub over the same
 * database lists them in the gateway's init, and keeps the pair's PSK), and a
 * gateway's flow_log becomes "traffic" rows of the flows log, as the REST API
 * shows them. */
#include "hub_test.h"

#include "portal/api.h"
#include "portal/http_priv.h" /* struct http_args, to build API requests */

/* Asks and expects a grant through gateway g; returns the authorize g saw. */
static struct rec *grant(struct peer *c, struct peer *g, uint64_t req, int64_t res)
{
	struct rec *a, *ok;

	mark(c);
	mark(g);
	send_request(c, req, res);
	a = wait_for(g, CTL_AUTHORIZE, 3000);
	assert_non_null(a);
	ok = wait_for(c, CTL_ACCESS_GRANTED, 3000);
	assert_non_null(ok);
	assert_int_equal(ok->resource_id, res);
	assert_memory_equal(ok->psk, a->psk, CTL_KEY_LEN);
	return a;
}

/* The portal process ends and starts again: the server and the hub go, and so
 * does the database connection. */
static void restart(struct fx *f)
{
	fx_stop(f);
	store_close(f->st);
	assert_int_equal(store_open(f->db, &f->st, NULL), 0);
	store_set_clock(f->st, fx_clock, f);
	fx_start(f);
}

static struct peer *gateway_again(struct fx *f, const char *key, struct rec **init)
{
	struct peer *g = peer_open(f, f->site_tok, key, "198.51.100.1:51820", "gw-a");

	g->auto_authorize = true;
	assert_true(wait_connected(g, 5000));
	*init = wait_for(g, CTL_INIT_GATEWAY, 5000);
	assert_non_null(*init);
	mark(g);
	return g;
}

/* Authorizations the hub holds (live or pending). */
static void count_held(struct fx *f, void *arg)
{
	struct hub_stats st;

	hub_get_stats(f->hub, &st);
	*(int64_t *)arg = (int64_t)st.auths;
}

static void test_restart_keeps_auths(void **state)
{
	struct fx *f = *state;
	int64_t t0 = (int64_t)time(NULL);
	struct peer *g, *c, *c2;
	struct rec a1, a2, *init, *a3;
	char gkey[64], ckey[64];
	int64_t held = -1;
	uint64_t ref;

	atomic_store(&f->now, t0);
	g = gateway_up(f, "gw-a", "198.51.100.1:51820");
	c = client_up(f);
	/* copies: the peers' records go with them */
	a1 = *grant(c, g, 1, f->res_dns);
	a2 = *grant(c, g, 2, f->res_ip);
	assert_memory_equal(a1.psk, a2.psk, CTL_KEY_LEN);
	snprintf(gkey, sizeof(gkey), "%s", g->key);
	snprintf(ckey, sizeof(ckey), "%s", c->key);

	restart(f);
	assert_true(wait_disconnected(g, 5000));
	assert_true(wait_disconnected(c, 5000));
	peer_close(g);
	peer_close(c);
	srv_run(f, count_held, &held);
	assert_int_equal(held, 2);
	/* the gateway comes back: its init lists both, with the PSK and expiry
	 * they were granted with */
	g = gateway_again(f, gkey, &init);
	assert_int_equal(init->n_auths, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct rec *want = init->auth_res[i] == (uint64_t)f->res_dns ? &a1 : &a2;

		assert_int_equal(init->auth_res[i], want->resource_id);
		assert_int_equal(init->auth_refs[i], want->ref);
		assert_int_equal(init->auth_expires[i], want->expires_at);
		assert_memory_equal(init->auth_psks[i], want->psk, CTL_KEY_LEN);
		assert_int_equal(init->auth_clients[i], a1.client.id);
	}
	assert_int_not_equal(init->auth_res[0], init->auth_res[1]);
	/* the device reconnects: it still holds them, so asking again for one
	 * goes to the same gateway with the same PSK, and a new ref */
	c2 = peer_open(f, f->client_tok, ckey, NULL, "laptop");
	assert_true(wait_connected(c2, 5000));
	assert_non_null(wait_for(c2, CTL_INIT_CLIENT, 5000));
	ref = a1.ref > a2.ref ? a1.ref : a2.ref;
	a3 = grant(c2, g, 3, f->res_dns);
	assert_memory_equal(a3->psk, a1.psk, CTL_KEY_LEN);
	assert_true(a3->ref > ref);
	peer_close(c2);
	peer_close(g);
}

static void del_policy_ip(struct fx *f, void *arg)
{
	(void)arg;
	del(f, "policies", f->pol_ip);
}

/* At load, each stored authorization is decided again: one whose policy went
 * (while the portal was down) or that expired meanwhile is dropped. */
static void test_restart_redecides(void **state)
{
	struct fx *f = *state;
	int64_t t0 = (int64_t)time(NULL);
	struct peer *g, *c;
	struct rec a1, *init;
	char gkey[64];
	int64_t held = -1;

	atomic_store(&f->now, t0);
	g = gateway_up(f, "gw-a", "198.51.100.1:51820");
	c = client_up(f);
	a1 = *grant(c, g, 1, f->res_dns);
	grant(c, g, 2, f->res_ip);
	snprintf(gkey, sizeof(gkey), "%s", g->key);
	fx_stop(f);
	/* while no hub runs: the ip resource's policy goes */
	del_policy_ip(f, NULL);
	fx_start(f);
	assert_true(wait_disconnected(g, 5000));
	peer_close(g);
	peer_close(c);
	g = gateway_again(f, gkey, &init);
	assert_int_equal(init->n_auths, 1);
	assert_int_equal(init->auth_res[0], f->res_dns);
	assert_memory_equal(init->auth_psks[0], a1.psk, CTL_KEY_LEN);
	assert_int_equal(init->auth_expires[0], a1.expires_at);
	peer_close(g);
	/* past its expiry: nothing is left to load */
	fx_stop(f);
	atomic_store(&f->now, a1.expires_at);
	fx_start(f);
	srv_run(f, count_held, &held);
	assert_int_equal(held, 0);
	g = gateway_again(f, gkey, &init);
	assert_int_equal(init->n_auths, 0);
	peer_close(g);
}

static int count_row(void *arg, const struct store_authz *a)
{
	(void)a;
	++*(int64_t *)arg;
	return 0;
}

/* Rows in the store's authorizations table. */
static void count_rows(struct fx *f, void *arg)
{
	*(int64_t *)arg = 0;
	assert_int_equal(store_authz_each(f->st, count_row, arg, NULL), 0);
}

/* A stored authorization whose client token was revoked while no hub ran is
 * dropped at load, and its row with it. */
static void test_restart_drops_gone(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-a", "198.51.100.1:51820"), *c = client_up(f);
	struct rec *init;
	int64_t rows = -1, held = -1;
	char gkey[64];

	grant(c, g, 1, f->res_dns);
	grant(c, g, 2, f->res_ip);
	snprintf(gkey, sizeof(gkey), "%s", g->key);
	srv_run(f, count_rows, &rows);
	assert_int_equal(rows, 2);
	fx_stop(f);
	assert_int_equal(store_token_revoke(f->st, f->client_tok_id, NULL, NULL), 0);
	fx_start(f);
	assert_true(wait_disconnected(g, 5000));
	peer_close(g);
	peer_close(c);
	srv_run(f, count_held, &held);
	assert_int_equal(held, 0);
	srv_run(f, count_rows, &rows);
	assert_int_equal(rows, 0);
	g = gateway_again(f, gkey, &init);
	assert_int_equal(init->n_auths, 0);
	peer_close(g);
}

/* ---- flow_log ------------------------------------------------------------ */

struct api_call {
	const char *target;
	char auth[STORE_TOKEN_SECRET_SIZE + 8];
	unsigned status;
	json_t *out;
};

/* GET target below /api/v1, in the server thread (the store is its). */
static void api_get(struct fx *f, void *arg)
{
	struct api_call *call = arg;
	char path[512], query[512], *q, *save = NULL;
	struct http_args args = { 0 };
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	struct api *api;

	assert_int_equal(api_new(f->st, f->pe, &api), 0);
	/* as sluice-portal wires it: a read sees the rows the hub has queued */
	api_set_flows_flush(api, hub_flows_flush, f->hub);
	snprintf(path, sizeof(path), "%s%s", API_PREFIX, call->target);
	query[0] = '\0';
	q = strchr(path, '?');
	if (q) {
		snprintf(query, sizeof(query), "%s", q + 1);
		*q = '\0';
	}
	for (char *a = strtok_r(query, "&", &save); a && args.n < HTTP_MAX_ARGS;
	     a = strtok_r(NULL, "&", &save))
		args.v[args.n++] = a;
	req.method = HTTP_GET;
	req.path = path;
	req.authorization = call->auth;
	req.peer = "127.0.0.1";
	req.body = "";
	req.args = &args;
	assert_int_equal(api_handle(api, &req, &resp), 0);
	call->status = resp.status ? resp.status : 200;
	call->out = resp.body;
	api_free(api);
}

static void admin_token(struct fx *f, void *arg)
{
	struct api_call *call = arg;
	char secret[STORE_TOKEN_SECRET_SIZE];

	assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, "t", 0, 0, secret, NULL,
					    NULL), 0);
	snprintf(call->auth, sizeof(call->auth), "Bearer %s", secret);
}

static json_t *api_items(struct fx *f, struct api_call *call, const char *target)
{
	call->target = target;
	srv_run(f, api_get, call);
	assert_int_equal(call->status, 200);
	return json_object_get(call->out, "items");
}

static void send_flows(struct peer *g, const struct ctl_flow *flows, size_t n)
{
	struct ctl_msg m = { .type = CTL_FLOW_LOG, .flows = (struct ctl_flow *)flows,
			     .n_flows = n };

	assert_int_equal(ctl_session_send(g->s, &m), 0);
}

static void stats(struct fx *f, void *arg)
{
	hub_get_stats(f->hub, arg);
}

static void test_flow_log(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-a", "198.51.100.1:51820"), *c = client_up(f);
	struct api_call call = { 0 };
	struct hub_stats hs = { 0 };
	struct rec *a;
	json_t *items, *row;
	uint64_t client_id, gw_id, end;
	char t[128];
	struct ctl_flow flows[5] = {
		{ .resource_id = (uint64_t)f->res_dns, .start = 1790000000, .end = 1790000060,
		  .rx_bytes = 9007199254740992ull, .tx_bytes = 0, .proto = CTL_PROTO_TCP,
		  .dst_port = 443 },
		{ .resource_id = (uint64_t)f->res_ip, .start = 1790000001, .end = 1790000001,
		  .rx_bytes = 84, .tx_bytes = 84, .proto = CTL_PROTO_ICMP, .dst_port = 0 },
		/* refused: an unknown resource, a resource of another site, an
		 * unknown client */
		{ .resource_id = 424242, .start = 1, .end = 2, .proto = CTL_PROTO_UDP },
		{ .resource_id = (uint64_t)f->res_far, .start = 1, .end = 2,
		  .proto = CTL_PROTO_UDP },
		{ .client_id = 424242, .resource_id = (uint64_t)f->res_ip, .start = 1, .end = 2,
		  .proto = CTL_PROTO_UDP },
	};

	a = grant(c, g, 1, f->res_dns);
	gw_id = wait_for(c, CTL_ACCESS_GRANTED, 0)->gw_id;
	client_id = a->client.id;
	for (size_t i = 0; i < 4; i++)
		flows[i].client_id = client_id;
	srv_run(f, admin_token, &call);
	send_flows(g, flows, 5);
	/* recorded when the frame is read: wait for the hub to have seen it */
	end = time_mono_ns() + 5 * NSEC_PER_SEC;
	do {
		ctl_loop_run(f->loop, 10);
		srv_run(f, stats, &hs);
	} while (hs.flows + hs.flows_dropped < 5 && time_mono_ns() < end);
	assert_int_equal(hs.flows, 2);
	assert_int_equal(hs.flows_dropped, 3);

	items = api_items(f, &call, "/flows?event=traffic");
	assert_int_equal(json_array_size(items), 2);
	row = json_array_get(items, 0);
	assert_string_equal(json_string_value(json_object_get(row, "event")), "traffic");
	assert_int_equal(json_integer_value(json_object_get(row, "client_id")), client_id);
	assert_int_equal(json_integer_value(json_object_get(row, "user_id")), f->user);
	assert_int_equal(json_integer_value(json_object_get(row, "resource_id")), f->res_dns);
	assert_int_equal(json_integer_value(json_object_get(row, "gateway_id")), gw_id);
	assert_string_equal(json_string_value(json_object_get(row, "protocol")), "tcp");
	assert_int_equal(json_integer_value(json_object_get(row, "port")), 443);
	assert_int_equal(json_integer_value(json_object_get(row, "rx_bytes")),
			 9007199254740992ll);
	assert_int_equal(json_integer_value(json_object_get(row, "tx_bytes")), 0);
	assert_string_equal(json_string_value(json_object_get(row, "start")),
			    "2026-09-21T14:13:20Z");
	assert_string_equal(json_string_value(json_object_get(row, "end")),
			    "2026-09-21T14:14:20Z");
	assert_non_null(json_string_value(json_object_get(row, "time")));
	assert_true(json_is_null(json_object_get(row, "reason")));
	row = json_array_get(items, 1);
	assert_string_equal(json_string_value(json_object_get(row, "protocol")), "icmp");
	assert_int_equal(json_integer_value(json_object_get(row, "port")), 0);
	assert_int_equal(json_integer_value(json_object_get(row, "rx_bytes")), 84);
	assert_int_equal(json_integer_value(json_object_get(row, "tx_bytes")), 84);
	assert_int_equal(json_integer_value(json_object_get(row, "resource_id")), f->res_ip);
	assert_string_equal(json_string_value(json_object_get(row, "start")),
			    json_string_value(json_object_get(row, "end")));
	json_decref(call.out);
	/* filtered by resource, client and gateway */
	snprintf(t, sizeof(t), "/flows?event=traffic&resource_id=%lld", (long long)f->res_ip);
	assert_int_equal(json_array_size(api_items(f, &call, t)), 1);
	json_decref(call.out);
	snprintf(t, sizeof(t), "/flows?client_id=%llu&event=traffic",
		 (unsigned long long)client_id);
	assert_int_equal(json_array_size(api_items(f, &call, t)), 2);
	json_decref(call.out);
	snprintf(t, sizeof(t), "/flows?gateway_id=%llu&event=traffic",
		 (unsigned long long)gw_id);
	assert_int_equal(json_array_size(api_items(f, &call, t)), 2);
	json_decref(call.out);
	snprintf(t, sizeof(t), "/flows?gateway_id=%llu&event=traffic",
		 (unsigned long long)gw_id + 1);
	assert_int_equal(json_array_size(api_items(f, &call, t)), 0);
	json_decref(call.out);
	/* the grant is still logged as such beside them */
	assert_int_equal(json_array_size(api_items(f, &call, "/flows?event=granted")), 1);
	json_decref(call.out);
	peer_close(c);
	peer_close(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_keeps_auths, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_restart_redecides, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_restart_drops_gone, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_flow_log, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
