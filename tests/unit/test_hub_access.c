/* Access requests and revocation over real WSS: a ctl session plays the gateway
 * (it confirms "authorize" unless told not to), another the client. */
#include "hub_test.h"

static void count_gateways(struct fx *f, void *arg)
{
	struct hub_stats st;

	hub_get_stats(f->hub, &st);
	*(uint64_t *)arg = st.gateways;
}

/* Services the sessions until the hub counts n gateway sessions (one closed
 * has left), failing at a deadline. */
static void wait_gateways(struct fx *f, uint64_t n)
{
	uint64_t t0 = time_mono_ns(), have;

	for (;;) {
		srv_run(f, count_gateways, &have);
		if (have == n)
			return;
		if (ms_since(t0) > 5000)
			fail_msg("the hub counts %llu gateway sessions after 5 s, not %llu",
				 (unsigned long long)have, (unsigned long long)n);
		ctl_loop_run(f->loop, 10);
	}
}

static int64_t count_flows(struct fx *f, const char *event)
{
	json_t *filter = J("{\"event\": \"%s\"}", event), *items = NULL;
	int64_t n;

	hub_flows_flush(f->hub); /* what the hub has queued: as the API reads */
	assert_int_equal(store_list(f->st, "flows", filter, 0, 0, &items, NULL, NULL), 0);
	n = (int64_t)json_array_size(items);
	json_decref(items);
	json_decref(filter);
	return n;
}

static void read_granted_flows(struct fx *f, void *arg)
{
	*(int64_t *)arg = count_flows(f, "granted");
}

static void read_denied_flows(struct fx *f, void *arg)
{
	*(int64_t *)arg = count_flows(f, "denied");
}

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
	assert_int_equal(ok->req, req);
	assert_int_equal(ok->resource_id, res);
	assert_memory_equal(ok->psk, a->psk, CTL_KEY_LEN);
	return a;
}

static void test_granted(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-a", "198.51.100.1:51820");
	struct peer *c = client_up(f);
	struct rec *a, *ok, *init = &c->recs[0];
	uint8_t zero[CTL_KEY_LEN] = { 0 };
	int64_t n = 0;

	send_request(c, 7, f->res_dns);
	a = wait_for(g, CTL_AUTHORIZE, 3000);
	assert_non_null(a);
	assert_int_equal(a->resource_id, f->res_dns);
	/* the gateway learns who: the client's key and tunnel addresses */
	assert_memory_equal(a->client.tunnel_ipv4.addr, init->tunnel_ipv4.addr, 4);
	assert_memory_equal(a->client.tunnel_ipv6.addr, init->tunnel_ipv6.addr, 16);
	assert_memory_not_equal(a->psk, zero, CTL_KEY_LEN);
	assert_true(a->expires_at > time(NULL) && a->expires_at <= time(NULL) + 3600);
	ok = wait_for(c, CTL_ACCESS_GRANTED, 3000);
	assert_non_null(ok);
	assert_int_equal(ok->req, 7);
	assert_int_equal(ok->resource_id, f->res_dns);
	assert_memory_equal(ok->psk, a->psk, CTL_KEY_LEN);
	assert_int_equal(ok->expires_at, a->expires_at);
	assert_true(ok->gw_id > 0);
	srv_run(f, read_granted_flows, &n);
	assert_int_equal(n, 1);
	/* a second request through the same gateway: the same key, the one of the
	 * gateway's peer for this device (docs/protocol.md access_request) */
	a = grant(c, g, 8, f->res_dns);
	assert_memory_equal(a->psk, ok->psk, CTL_KEY_LEN);
	peer_close(c);
	peer_close(g);
}

static void read_expired_flows(struct fx *f, void *arg)
{
	*(int64_t *)arg = count_flows(f, "expired");
}

/* One PSK per (device, gateway) while any of their authorizations lives: a
 * second resource through the same gateway must not replace the peer's key
 * under the first one; a fresh key once the pair has none. */
static void test_psk_per_pair(void **state)
{
	struct fx *f = *state;
	int64_t t0 = (int64_t)time(NULL);
	struct peer *g, *c;
	struct rec *a1, *a2, *ok1, *ok2, *a3;
	uint8_t psk[CTL_KEY_LEN];
	int64_t n = 0;

	atomic_store(&f->now, t0);
	g = gateway_up(f, "gw-a", "198.51.100.1:51820");
	c = client_up(f);
	a1 = grant(c, g, 1, f->res_dns);
	ok1 = wait_for(c, CTL_ACCESS_GRANTED, 0);
	a2 = grant(c, g, 2, f->res_ip);
	ok2 = wait_for(c, CTL_ACCESS_GRANTED, 0);
	assert_non_null(ok1);
	assert_non_null(ok2);
	assert_int_equal(a1->resource_id, f->res_dns);
	assert_int_equal(a2->resource_id, f->res_ip);
	assert_memory_equal(a1->psk, a2->psk, CTL_KEY_LEN);
	assert_memory_equal(ok1->psk, a1->psk, CTL_KEY_LEN);
	assert_memory_equal(ok2->psk, a1->psk, CTL_KEY_LEN);
	memcpy(psk, a1->psk, sizeof(psk));
	/* both expire (the clock past the portal's 1 h lifetime): the pair has none */
	mark(g);
	atomic_store(&f->now, t0 + 3601);
	assert_non_null(wait_res(g, CTL_REVOKE, (uint64_t)f->res_dns, 3000));
	assert_non_null(wait_res(g, CTL_REVOKE, (uint64_t)f->res_ip, 3000));
	srv_run(f, read_expired_flows, &n);
	assert_int_equal(n, 2);
	a3 = grant(c, g, 3, f->res_dns);
	assert_memory_not_equal(a3->psk, psk, CTL_KEY_LEN);
	peer_close(c);
	peer_close(g);
}

static void add_window_policy(struct fx *f, void *arg)
{
	/* 09:00-10:00 UTC on Mondays; the test clock is a Sunday noon */
	*(int64_t *)arg = mk(f, "policies", J("{\"group_id\": %lld, \"resource_id\": %lld, "
		"\"conditions\": {\"time_windows\": [{\"days\": [\"mon\"], \"start\": \"09:00\", "
		"\"end\": \"10:00\"}]}}", (long long)f->group, (long long)f->res_cidr));
}

#define SUNDAY_NOON 1700395200 /* 2023-11-19T12:00:00Z */
#define MONDAY_0900 (SUNDAY_NOON + 21 * 3600)

static void test_denied(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-a", "198.51.100.1:51820"), *c;
	struct rec *r;
	int64_t pol, n = 0;

	atomic_store(&f->now, SUNDAY_NOON);
	c = client_up(f);
	send_request(c, 1, f->res_cidr);
	r = wait_for(c, CTL_ACCESS_DENIED, 3000);
	assert_non_null(r);
	assert_string_equal(r->reason, "no_policy");
	assert_int_equal(r->req, 1);
	mark(c);
	send_request(c, 2, 424242);
	r = wait_for(c, CTL_ACCESS_DENIED, 3000);
	assert_non_null(r);
	assert_string_equal(r->reason, "unknown_resource");
	mark(c);
	srv_run(f, add_window_policy, &pol);
	send_request(c, 3, f->res_cidr);
	r = wait_for(c, CTL_ACCESS_DENIED, 3000);
	assert_non_null(r);
	assert_string_equal(r->reason, "outside_time_window");
	mark(c);
	/* far is allowed, but its site has no gateway online */
	send_request(c, 4, f->res_far);
	r = wait_for(c, CTL_ACCESS_DENIED, 3000);
	assert_non_null(r);
	assert_string_equal(r->reason, "offline");
	assert_null(wait_for(g, CTL_AUTHORIZE, 100));
	srv_run(f, read_denied_flows, &n);
	assert_int_equal(n, 4);
	peer_close(c);
	peer_close(g);
}

static void test_time_window(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-a", "198.51.100.1:51820"), *c;
	struct rec *a;
	int64_t pol;

	atomic_store(&f->now, MONDAY_0900 - 1);
	c = client_up(f);
	srv_run(f, add_window_policy, &pol);
	assert_null(wait_res(c, CTL_RESOURCE_UPSERT, (uint64_t)f->res_cidr, 300));
	/* the window opens: announced at that instant */
	atomic_store(&f->now, MONDAY_0900);
	assert_non_null(wait_res(c, CTL_RESOURCE_UPSERT, (uint64_t)f->res_cidr, 1000));
	a = grant(c, g, 1, f->res_cidr);
	assert_int_equal(a->expires_at, MONDAY_0900 + 3600); /* the window's end */
	/* it closes: gone from the client, and the gateway is told */
	mark(c);
	mark(g);
	atomic_store(&f->now, MONDAY_0900 + 3600);
	assert_non_null(wait_res(c, CTL_RESOURCE_DELETE, (uint64_t)f->res_cidr, 1000));
	assert_non_null(wait_for(g, CTL_REVOKE, 1000));
	peer_close(c);
	peer_close(g);
}

static void test_timeout_and_offline_gateway(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-a", "198.51.100.1:51820"), *c = client_up(f);
	uint64_t t0;
	struct rec *r;

	g->auto_authorize = false;
	t0 = time_mono_ns();
	send_request(c, 9, f->res_ip);
	assert_non_null(wait_for(g, CTL_AUTHORIZE, 3000));
	r = wait_for(c, CTL_ACCESS_DENIED, 3000);
	assert_non_null(r);
	assert_string_equal(r->reason, "timeout");
	assert_true(ms_since(t0) >= fx_authorize_timeout_ms);
	/* and the gateway is told to forget it */
	assert_non_null(wait_for(g, CTL_REVOKE, 1000));
	/* the gateway goes: offline from then on */
	peer_close(g);
	mark(c);
	wait_gateways(f, 0);
	send_request(c, 10, f->res_ip);
	r = wait_for(c, CTL_ACCESS_DENIED, 3000);
	assert_non_null(r);
	assert_string_equal(r->reason, "offline");
	peer_close(c);
}

static void test_gateway_choice(void **state)
{
	struct fx *f = *state;
	struct peer *g1 = gateway_up(f, "gw-1", "198.51.100.1:51820");
	struct peer *g2 = gateway_up(f, "gw-2", "198.51.100.2:51820");
	struct peer *c1 = client_up(f), *c2 = client_up(f);

	/* both idle: the first; grant() fails if the other one is asked */
	grant(c1, g1, 1, f->res_dns);
	/* the same client: the gateway it already uses */
	grant(c1, g1, 2, f->res_ip);
	/* another client: the least loaded one */
	grant(c2, g2, 1, f->res_ip);
	/* g2 leaves: c2's next request moves to g1 */
	peer_close(g2);
	wait_gateways(f, 1);
	grant(c2, g1, 2, f->res_ip);
	peer_close(c1);
	peer_close(c2);
	peer_close(g1);
}

static void del_policy_dns(struct fx *f, void *arg)
{
	(void)arg;
	del(f, "policies", f->pol_dns);
}

static void test_revoke_policy(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-a", "198.51.100.1:51820"), *c = client_up(f);
	struct rec *rv, *rd, *ra, *a;
	uint64_t t0;

	a = grant(c, g, 1, f->res_dns);
	mark(c);
	mark(g);
	t0 = time_mono_ns();
	srv_run(f, del_policy_dns, NULL);
	rv = wait_for(g, CTL_REVOKE, 1000);
	assert_non_null(rv);
	assert_int_equal(rv->client_id, a->client.id);
	assert_int_equal(rv->resource_id, f->res_dns);
	rd = wait_res(c, CTL_RESOURCE_DELETE, (uint64_t)f->res_dns, 1000);
	assert_non_null(rd);
	ra = wait_for(c, CTL_ACCESS_REVOKED, 1000);
	assert_non_null(ra);
	assert_int_equal(ra->resource_id, f->res_dns);
	assert_true(rv->t_ns - t0 < NSEC_PER_SEC);
	assert_true(ra->t_ns - t0 < NSEC_PER_SEC);
	print_message("revocation reached the gateway in %llu ms, the client in %llu ms\n",
		      (unsigned long long)((rv->t_ns - t0) / NSEC_PER_MSEC),
		      (unsigned long long)((ra->t_ns - t0) / NSEC_PER_MSEC));
	/* the other grant-less resource stays */
	for (size_t i = c->mark; i < c->n; i++)
		assert_false(c->recs[i].type == CTL_RESOURCE_DELETE &&
			     c->recs[i].resource_id != (uint64_t)f->res_dns);
	peer_close(c);
	peer_close(g);
}

struct client_ref {
	int64_t id;
};

static void revoke_client(struct fx *f, void *arg)
{
	struct client_ref *r = arg;

	assert_int_equal(store_client_revoke(f->st, r->id, NULL, NULL), 0);
}

static void revoke_token(struct fx *f, void *arg)
{
	(void)arg;
	assert_int_equal(store_token_revoke(f->st, f->client_tok_id, NULL, NULL), 0);
}

static void test_revoke_client_and_token(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-a", "198.51.100.1:51820"), *c = client_up(f);
	struct client_ref cr;
	struct rec *a, *rv;
	char ckey[64];
	uint64_t t0;

	a = grant(c, g, 1, f->res_ip);
	cr.id = (int64_t)a->client.id;
	mark(g);
	t0 = time_mono_ns();
	srv_run(f, revoke_client, &cr);
	rv = wait_for(g, CTL_REVOKE, 1000);
	assert_non_null(rv);
	assert_int_equal(rv->client_id, cr.id);
	assert_true(wait_disconnected(c, 1000));
	assert_true(ms_since(t0) < 1000);
	assert_int_equal(ctl_session_close_code(c->s), HUB_CLOSE_REVOKED);
	assert_non_null(strstr(c->why, "4001"));
	snprintf(ckey, sizeof(ckey), "%s", c->key);
	peer_close(c);
	/* the device cannot come back */
	c = peer_open(f, f->client_tok, ckey, NULL, NULL);
	assert_false(wait_connected(c, 3000));
	assert_non_null(strstr(c->why, "403"));
	peer_close(c);
	/* a revoked token closes the sessions it opened */
	c = client_up(f);
	grant(c, g, 2, f->res_ip);
	mark(g);
	srv_run(f, revoke_token, NULL);
	assert_non_null(wait_for(g, CTL_REVOKE, 1000));
	assert_true(wait_disconnected(c, 1000));
	assert_int_equal(ctl_session_close_code(c->s), HUB_CLOSE_REVOKED);
	peer_close(c);
	c = peer_open(f, f->client_tok, NULL, NULL, NULL);
	assert_false(wait_connected(c, 3000));
	assert_non_null(strstr(c->why, "401"));
	peer_close(c);
	peer_close(g);
}

static void test_gateway_init_carries_auths(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-a", "198.51.100.1:51820"), *c = client_up(f), *g2;
	struct rec *a, *init;
	uint64_t ref;
	char key[64];

	a = grant(c, g, 1, f->res_ip);
	ref = a->ref;
	snprintf(key, sizeof(key), "%s", g->key);
	peer_close(g);
	wait_gateways(f, 0);
	/* the gateway comes back (a restart): what it held is live still */
	g2 = peer_open(f, f->site_tok, key, "198.51.100.1:51820", "gw-a");
	assert_true(wait_connected(g2, 5000));
	init = wait_for(g2, CTL_INIT_GATEWAY, 5000);
	assert_non_null(init);
	assert_int_equal(init->n_auths, 1);
	assert_int_equal(init->auth_refs[0], ref);
	peer_close(g2);
	peer_close(c);
}

static size_t count_type(const struct peer *p, size_t from, size_t to, enum ctl_type t)
{
	size_t n = 0;

	for (size_t i = from; i < to; i++)
		n += p->recs[i].type == t;
	return n;
}

/* A request the portal answers at once (unknown resource): everything the portal
 * sent before it has arrived once its answer has. The index of the answer, which
 * is c->n as it was when called if nothing else came meanwhile. */
static size_t sync_client(struct peer *c, uint64_t req)
{
	uint64_t end = time_mono_ns() + 3000 * NSEC_PER_MSEC;
	size_t from = c->n;

	send_request(c, req, 424242);
	for (;;) {
		for (size_t i = from; i < c->n; i++) {
			struct rec *r = &c->recs[i];

			if (r->type == CTL_ACCESS_DENIED && r->req == req) {
				assert_string_equal(r->reason, "unknown_resource");
				return i;
			}
		}
		if (time_mono_ns() >= end)
			fail_msg("no answer to request %llu", (unsigned long long)req);
		ctl_loop_run(c->fx->loop, 10);
	}
}

struct revoked_row {
	int64_t gateway_id, resource_id;
	char reason[32];
	size_t n;
};

static void read_revoked_flows(struct fx *f, void *arg)
{
	struct revoked_row *rr = arg;
	json_t *filter = J("{\"event\": \"revoked\"}"), *items = NULL, *row;

	hub_flows_flush(f->hub);
	assert_int_equal(store_list(f->st, "flows", filter, 0, 0, &items, NULL, NULL), 0);
	rr->n = json_array_size(items);
	row = json_array_get(items, 0);
	rr->gateway_id = json_integer_value(json_object_get(row, "gateway_id"));
	rr->resource_id = json_integer_value(json_object_get(row, "resource_id"));
	snprintf(rr->reason, sizeof(rr->reason), "%s",
		 row ? json_string_value(json_object_get(row, "reason")) : "");
	json_decref(items);
	json_decref(filter);
}

/* docs/protocol.md "Presence": a gateway whose session ends is announced at once,
 * once, to each connected client with a live authorization on it; the client's
 * new request goes to another online gateway of the site, with that pair's PSK,
 * and replaces the authorization on the old one; the old one coming back gets
 * in init what is still live on it, and nobody is told it came back. */
static void test_gateway_offline(void **state)
{
	struct fx *f = *state;
	struct peer *g1 = gateway_up(f, "gw-1", "198.51.100.1:51820");
	struct peer *g2 = gateway_up(f, "gw-2", "198.51.100.2:51820");
	struct peer *c = client_up(f), *c2 = client_up(f), *g1b;
	struct rec *a_dns, *a_ip, *ok, *off, *init, *a3, *ok3;
	struct revoked_row rr = { 0 };
	uint64_t gw1_id, gw2_id, client_id, ip_ref, t0;
	uint8_t psk1[CTL_KEY_LEN];
	char key1[64];
	size_t at, before;

	/* c holds two resources on gw-1 (the first, both idle), c2 one on gw-2 */
	a_dns = grant(c, g1, 1, f->res_dns);
	ok = wait_for(c, CTL_ACCESS_GRANTED, 0);
	gw1_id = ok->gw_id;
	client_id = a_dns->client.id;
	memcpy(psk1, a_dns->psk, sizeof(psk1));
	a_ip = grant(c, g1, 2, f->res_ip);
	assert_memory_equal(a_ip->psk, psk1, CTL_KEY_LEN);
	ip_ref = a_ip->ref; /* g1's records go with it */
	grant(c2, g2, 1, f->res_ip);
	ok = wait_for(c2, CTL_ACCESS_GRANTED, 0);
	gw2_id = ok->gw_id;
	assert_int_not_equal(gw1_id, gw2_id);

	/* gw-1's session ends: c is told at once, once */
	snprintf(key1, sizeof(key1), "%s", g1->key);
	mark(c);
	mark(c2);
	t0 = time_mono_ns();
	peer_close(g1);
	off = wait_for(c, CTL_GATEWAY_OFFLINE, 3000);
	assert_non_null(off);
	assert_int_equal(off->gw_id, gw1_id);
	assert_true(off->t_ns - t0 < NSEC_PER_SEC);
	print_message("gateway_offline reached the client in %llu ms\n",
		      (unsigned long long)((off->t_ns - t0) / NSEC_PER_MSEC));
	wait_gateways(f, 1);
	at = sync_client(c, 10);
	assert_int_equal(count_type(c, (size_t)(off - c->recs), at, CTL_GATEWAY_OFFLINE), 1);
	/* the authorizations themselves are not revoked: they wait for the client */
	assert_int_equal(count_type(c, (size_t)(off - c->recs), at, CTL_ACCESS_REVOKED), 0);
	/* c2 held nothing on gw-1: not told */
	at = sync_client(c2, 10);
	assert_int_equal(count_type(c2, 0, at, CTL_GATEWAY_OFFLINE), 0);

	/* c asks again for dns: rule 3 takes gw-2, online; the pair (c, gw-2) had no
	 * authorization, so a new PSK, which is gw-2's peer key for c */
	a3 = grant(c, g2, 11, f->res_dns);
	ok3 = wait_for(c, CTL_ACCESS_GRANTED, 0);
	assert_int_equal(a3->client.id, client_id);
	assert_int_equal(ok3->gw_id, gw2_id);
	assert_memory_not_equal(a3->psk, psk1, CTL_KEY_LEN);
	/* the one on gw-1 was replaced: ended there (revoked, superseded), and the
	 * client, which asked, is not sent access_revoked for it */
	srv_run(f, read_revoked_flows, &rr);
	assert_int_equal(rr.n, 1);
	assert_int_equal(rr.gateway_id, gw1_id);
	assert_int_equal(rr.resource_id, f->res_dns);
	assert_string_equal(rr.reason, "superseded");
	assert_int_equal(count_type(c, (size_t)(off - c->recs), c->n, CTL_ACCESS_REVOKED), 0);

	/* gw-1 comes back: its init lists what is live on it, the ip authorization
	 * (as granted), not the replaced one; the clients are not told */
	before = c->n;
	g1b = peer_open(f, f->site_tok, key1, "198.51.100.1:51820", "gw-1");
	g1b->auto_authorize = true;
	assert_true(wait_connected(g1b, 5000));
	init = wait_for(g1b, CTL_INIT_GATEWAY, 5000);
	assert_non_null(init);
	assert_int_equal(init->n_auths, 1);
	assert_int_equal(init->auth_res[0], f->res_ip);
	assert_int_equal(init->auth_clients[0], client_id);
	assert_int_equal(init->auth_refs[0], ip_ref);
	assert_memory_equal(init->auth_psks[0], psk1, CTL_KEY_LEN);
	at = sync_client(c, 13);
	assert_int_equal(at, before);
	at = sync_client(c2, 13);
	assert_int_equal(count_type(c2, 0, at, CTL_GATEWAY_OFFLINE), 0);
	peer_close(g1b);
	peer_close(c);
	peer_close(c2);
	peer_close(g2);
}

struct gw_ref {
	int64_t id;
};

static void delete_gateway(struct fx *f, void *arg)
{
	del(f, "gateways", ((struct gw_ref *)arg)->id);
}

/* A gateway deleted (or its token revoked) ends its authorizations: the client
 * gets access_revoked for each and no gateway_offline, which would ask it to
 * carry them elsewhere. */
static void test_gateway_deleted(void **state)
{
	struct fx *f = *state;
	struct peer *g = gateway_up(f, "gw-1", "198.51.100.1:51820"), *c = client_up(f);
	struct gw_ref gr;
	struct rec *ok;
	size_t from, at;

	grant(c, g, 1, f->res_dns);
	ok = wait_for(c, CTL_ACCESS_GRANTED, 0);
	gr.id = (int64_t)ok->gw_id;
	mark(c);
	from = c->n;
	srv_run(f, delete_gateway, &gr);
	assert_non_null(wait_res(c, CTL_ACCESS_REVOKED, (uint64_t)f->res_dns, 3000));
	assert_true(wait_disconnected(g, 3000));
	at = sync_client(c, 2);
	assert_int_equal(count_type(c, from, at, CTL_ACCESS_REVOKED), 1);
	assert_int_equal(count_type(c, from, at, CTL_GATEWAY_OFFLINE), 0);
	peer_close(c);
	peer_close(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_granted, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_psk_per_pair, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_denied, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_time_window, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_offline_gateway, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_gateway_choice, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_policy, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_client_and_token, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_gateway_init_carries_auths, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_gateway_offline, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_gateway_deleted, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
