/* Shared by the hub's tests: the real stack in one process. A temporary SQLite
 * store, the policy engine, the hub and the TLS http server run in a server
 * thread (http.h: the loop is single-threaded, so the store and the hub are only
 * touched there: the test thread hands it work through srv_run(), which the
 * tick executes); clients and gateways are ctl sessions (src/ctl/session.h) on
 * a ctl loop serviced by the test thread. */
#ifndef SLUICE_TEST_HUB_H
#define SLUICE_TEST_HUB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "ctl/session.h"
#include "lib/time.h"
#include "portal/http.h"
#include "portal/hub.h"
#include "portal/policy.h"
#include "portal/tls.h"
#include "store/store.h"

#define MAX_RECS 512

/* Under AddressSanitizer: lws's global OpenSSL init, done by both the portal's
 * and the peers' contexts of this one process, leaks the certificate store and
 * TLS context of one of them (OpenSSL's and lws's memory only, all of it
 * "indirect"; a program of just the two contexts shows it). Never in the real
 * programs, where the portal and its peers are separate processes. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libcrypto.so\nleak:libwebsockets.so\n";
}

/* What a peer received, flattened (ctl_msg's lists are freed after the call). */
struct rec {
	enum ctl_type type;
	uint64_t req, resource_id, client_id, ref, t_ns;
	int64_t expires_at;
	char reason[32], code[32], message[256];
	struct ctl_ip tunnel_ipv4, tunnel_ipv6, up0;
	unsigned n_upstreams;
	size_t n_res, n_auths;
	uint64_t res_ids[16], auth_refs[8];
	/* init (gateway): the authorizations, as listed */
	uint64_t auth_clients[8], auth_res[8];
	int64_t auth_expires[8];
	uint8_t auth_psks[8][CTL_KEY_LEN];
	uint64_t gw_id;         /* access_granted's gateway, gateway_offline's */
	uint8_t psk[CTL_KEY_LEN];
	struct ctl_client client;
	struct ctl_named user, device; /* init (client) */
};

struct peer {
	struct fx *fx;
	struct ctl_session *s;
	char key[64];
	bool connected, auto_authorize;
	int connects, disconnects;
	char why[160];
	struct rec recs[MAX_RECS];
	size_t n, mark;
};

struct fx {
	char dir[64], ca[128], cert[128], key[128], db[128];
	struct store *st;
	struct policy_engine *pe;
	struct hub *hub;
	struct http_server *srv;
	pthread_t thr;
	int port;
	_Atomic int64_t now; /* 0: the real clock */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	void (*cmd)(struct fx *, void *);
	void *cmd_arg;
	bool cmd_done;
	struct ctl_loop *loop;
	/* the base data */
	int64_t site, site2, user, group, res_dns, res_ip, res_cidr, res_far, pol_dns, pol_ip;
	int64_t client_tok_id, site_tok_id;
	char client_tok[STORE_TOKEN_SECRET_SIZE], site_tok[STORE_TOKEN_SECRET_SIZE];
	char site2_tok[STORE_TOKEN_SECRET_SIZE];
};

static inline int64_t fx_clock(void *arg)
{
	struct fx *f = arg;
	int64_t t = atomic_load(&f->now);

	return t ? t : (int64_t)time(NULL);
}

/* ---- the server thread ---------------------------------------------------- */

static inline void fx_tick(void *arg)
{
	struct fx *f = arg;

	pthread_mutex_lock(&f->mu);
	if (f->cmd && !f->cmd_done) {
		f->cmd(f, f->cmd_arg);
		f->cmd_done = true;
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	hub_tick(f->hub);
}

static inline void *fx_thread(void *arg)
{
	struct fx *f = arg;

	http_server_run(f->srv);
	return NULL;
}

/* Runs fn(f, arg) in the server thread and waits for it. */
static inline void srv_run(struct fx *f, void (*fn)(struct fx *, void *), void *arg)
{
	struct timespec ts;

	pthread_mutex_lock(&f->mu);
	f->cmd = fn;
	f->cmd_arg = arg;
	f->cmd_done = false;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	while (!f->cmd_done)
		if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT)
			break;
	assert_true(f->cmd_done);
	f->cmd = NULL;
	pthread_mutex_unlock(&f->mu);
}

/* ---- store helpers (server thread, or before it starts) ------------------- */

static inline json_t *J(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline json_t *J(const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	json_t *v;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	v = json_loads(text, 0, NULL);
	if (!v)
		fail_msg("bad JSON in a test: %s", text);
	return v;
}

static inline int64_t mk(struct fx *f, const char *entity, json_t *in)
{
	struct store_err err = { 0 };
	json_t *out = NULL;
	int64_t id;
	int r = store_create(f->st, entity, in, &out, &err);

	if (r)
		fail_msg("store_create %s: %d %s: %s", entity, r, err.field, err.msg);
	id = json_integer_value(json_object_get(out, "id"));
	json_decref(in);
	json_decref(out);
	return id;
}

static inline void upd(struct fx *f, const char *entity, int64_t id, json_t *patch)
{
	struct store_err err = { 0 };
	int r = store_update(f->st, entity, id, patch, NULL, &err);

	if (r)
		fail_msg("store_update %s %lld: %d %s: %s", entity, (long long)id, r, err.field,
			 err.msg);
	json_decref(patch);
}

static inline void del(struct fx *f, const char *entity, int64_t id)
{
	assert_int_equal(store_delete(f->st, entity, id, NULL), 0);
}

static inline void base_data(struct fx *f)
{
	json_t *s;

	f->site = mk(f, "sites", J("{\"name\": \"home\"}"));
	f->site2 = mk(f, "sites", J("{\"name\": \"far\"}"));
	f->user = mk(f, "users", J("{\"name\": \"alice\"}"));
	f->group = mk(f, "groups", J("{\"name\": \"staff\"}"));
	assert_int_equal(store_member_add(f->st, f->group, f->user, NULL, NULL), 0);
	f->res_dns = mk(f, "resources", J("{\"site_id\": %lld, \"type\": \"dns\", \"address\":"
		" \"*.corp.example.com\", \"name\": \"intranet\", \"filters\": [{\"protocol\":"
		" \"tcp\", \"ports\": \"443\"}]}", (long long)f->site));
	f->res_ip = mk(f, "resources", J("{\"site_id\": %lld, \"type\": \"ip\", \"address\":"
		" \"10.0.0.5\", \"name\": \"nas\"}", (long long)f->site));
	f->res_cidr = mk(f, "resources", J("{\"site_id\": %lld, \"type\": \"cidr\", \"address\":"
		" \"10.1.0.0/16\", \"name\": \"lab\"}", (long long)f->site));
	f->res_far = mk(f, "resources", J("{\"site_id\": %lld, \"type\": \"ip\", \"address\":"
		" \"10.9.0.1\", \"name\": \"far\"}", (long long)f->site2));
	f->pol_dns = mk(f, "policies", J("{\"group_id\": %lld, \"resource_id\": %lld}",
					 (long long)f->group, (long long)f->res_dns));
	f->pol_ip = mk(f, "policies", J("{\"group_id\": %lld, \"resource_id\": %lld}",
					(long long)f->group, (long long)f->res_ip));
	mk(f, "policies", J("{\"group_id\": %lld, \"resource_id\": %lld}",
			    (long long)f->group, (long long)f->res_far));
	s = J("{\"upstream_dns\": [\"192.0.2.53\", \"2001:db8::53\"]}");
	assert_int_equal(store_settings_set(f->st, s, NULL, NULL), 0);
	json_decref(s);
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_CLIENT, "laptop", f->user, 0,
					    f->client_tok, &s, NULL), 0);
	f->client_tok_id = json_integer_value(json_object_get(s, "id"));
	json_decref(s);
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_SITE, "gw", f->site, 0,
					    f->site_tok, &s, NULL), 0);
	f->site_tok_id = json_integer_value(json_object_get(s, "id"));
	json_decref(s);
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_SITE, "gw2", f->site2, 0,
					    f->site2_tok, NULL, NULL), 0);
}

/* ---- setup ------------------------------------------------------------------ */

static unsigned fx_authorize_timeout_ms = 600;
static unsigned fx_flow_delay_ms; /* 0: the hub's default */

/* The hub over f->st and the server thread. */
static inline void fx_start(struct fx *f)
{
	static const char *const paths[] = { "/client/ws", "/gateway/ws", NULL };
	struct hub_config hc = { .authorize_timeout_ms = fx_authorize_timeout_ms,
				 .flow_delay_ms = fx_flow_delay_ms,
				 .now = fx_clock, .now_arg = f };
	struct http_config cfg = { 0 };

	assert_int_equal(hub_new(f->st, f->pe, &hc, &f->hub), 0);
	store_set_change_cb(f->st, hub_store_changed, f->hub);
	cfg.address = "127.0.0.1";
	cfg.cert_path = f->cert;
	cfg.key_path = f->key;
	cfg.ws_paths = paths;
	cfg.ws = hub_ws_ops();
	cfg.ws_arg = f->hub;
	cfg.tick = fx_tick;
	cfg.tick_arg = f;
	cfg.tick_ms = HUB_TICK_MS;
	cfg.ping_s = HUB_PING_S;
	cfg.idle_timeout_s = HUB_IDLE_S;
	cfg.max_message = HUB_MAX_MESSAGE;
	assert_int_equal(http_server_new(&cfg, &f->srv), 0);
	f->port = http_server_port(f->srv);
	assert_int_equal(pthread_create(&f->thr, NULL, fx_thread, f), 0);
}

/* The server and the hub gone, as sluice-portal's main ends them. */
static inline void fx_stop(struct fx *f)
{
	http_server_stop(f->srv);
	pthread_join(f->thr, NULL);
	http_server_free(f->srv);
	f->srv = NULL;
	store_set_change_cb(f->st, NULL, NULL);
	hub_free(f->hub);
	f->hub = NULL;
}

static inline int fx_setup(void **state)
{
	static const char *const dns[] = { "localhost" };
	static const char *const ips[] = { "127.0.0.1" };
	const struct tls_names names = { dns, 1, ips, 1 };
	struct fx *f = calloc(1, sizeof(*f));
	char ca_key[128];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/sluice-hub-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->ca, sizeof(f->ca), "%s/ca.pem", f->dir);
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", f->dir);
	snprintf(f->cert, sizeof(f->cert), "%s/server.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/server.key", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/portal.db", f->dir);
	assert_int_equal(tls_ca_create(f->ca, ca_key, "sluice test CA", 1), 0);
	assert_int_equal(tls_server_create(f->ca, ca_key, &names, 1, f->cert, f->key), 0);
	assert_int_equal(store_open(f->db, &f->st, NULL), 0);
	store_set_clock(f->st, fx_clock, f);
	assert_int_equal(policy_engine_new("/usr/share/zoneinfo", 3600, &f->pe), 0);
	base_data(f);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	fx_start(f);
	assert_int_equal(ctl_loop_new(f->ca, &f->loop), 0);
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	ctl_loop_free(f->loop);
	if (f->srv)
		fx_stop(f);
	policy_engine_free(f->pe);
	store_close(f->st);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* ---- peers ------------------------------------------------------------------ */

static inline void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	struct peer *p = arg;
	struct rec *r;

	if (p->n == MAX_RECS)
		return;
	r = &p->recs[p->n++];
	memset(r, 0, sizeof(*r));
	r->type = m->type;
	r->t_ns = time_mono_ns();
	r->req = m->req;
	r->resource_id = m->resource_id;
	r->client_id = m->client_id;
	r->ref = m->ref;
	r->expires_at = m->expires_at;
	snprintf(r->reason, sizeof(r->reason), "%s", m->reason);
	snprintf(r->code, sizeof(r->code), "%s", m->code);
	snprintf(r->message, sizeof(r->message), "%s", m->message);
	r->tunnel_ipv4 = m->tunnel_ipv4;
	r->tunnel_ipv6 = m->tunnel_ipv6;
	r->n_upstreams = m->n_upstreams;
	r->up0 = m->upstreams[0];
	r->n_res = m->n_resources;
	for (size_t i = 0; i < m->n_resources && i < 16; i++)
		r->res_ids[i] = m->resources[i].id;
	if (m->type == CTL_RESOURCE_UPSERT || m->type == CTL_AUTHORIZE)
		r->resource_id = m->resource.id;
	r->n_auths = m->n_auths;
	for (size_t i = 0; i < m->n_auths && i < 8; i++) {
		r->auth_refs[i] = m->auths[i].ref;
		r->auth_clients[i] = m->auths[i].client.id;
		r->auth_res[i] = m->auths[i].resource.id;
		r->auth_expires[i] = m->auths[i].expires_at;
		memcpy(r->auth_psks[i], m->auths[i].psk, CTL_KEY_LEN);
	}
	r->gw_id = m->type == CTL_GATEWAY_OFFLINE ? m->gateway_id : m->gateway.id;
	r->user = m->user;
	r->device = m->device;
	memcpy(r->psk, m->psk, sizeof(r->psk));
	r->client = m->client;
	if (m->type == CTL_AUTHORIZE && p->auto_authorize) {
		struct ctl_msg a = { .type = CTL_AUTHORIZED, .ref = m->ref };

		assert_int_equal(ctl_session_send(s, &a), 0);
	}
}

static inline void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct peer *p = arg;

	(void)s;
	if (ev == CTL_EV_CONNECTED) {
		p->connected = true;
		p->connects++;
	} else if (ev == CTL_EV_DISCONNECTED) {
		p->connected = false;
		p->disconnects++;
		snprintf(p->why, sizeof(p->why), "%s", why ? why : "");
	}
}

static inline void random_key(char out[64])
{
	uint8_t k[32];

	randombytes_buf(k, sizeof(k));
	k[31] &= 0x7f; /* canonical (wg/pubkey.h); small order: 5 in 2^255 */
	sodium_bin2base64(out, 64, k, sizeof(k), sodium_base64_VARIANT_ORIGINAL);
}

/* Opens a session: gateway when endpoint is not NULL. key NULL: a random one. */
static inline struct peer *peer_open(struct fx *f, const char *token, const char *key,
			      const char *endpoint, const char *name)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct ctl_session_config c = {
		.host = "127.0.0.1", .port = (uint16_t)f->port,
		.path = endpoint ? "/gateway/ws" : "/client/ws",
		.token = token, .endpoint = endpoint, .name = name,
		.role = endpoint ? CTL_ROLE_GATEWAY : CTL_ROLE_CLIENT,
		.no_reconnect = true, .on_message = on_message, .on_event = on_event, .arg = p,
	};

	assert_non_null(p);
	p->fx = f;
	if (key)
		snprintf(p->key, sizeof(p->key), "%s", key);
	else
		random_key(p->key);
	c.public_key = p->key;
	assert_int_equal(ctl_session_open(f->loop, &c, &p->s), 0);
	return p;
}

static inline void peer_close(struct peer *p)
{
	ctl_session_close(p->s);
	free(p);
}

/* The first message of type t at or after p->mark, servicing the loop for up to
 * ms; NULL if none came. */
static inline struct rec *wait_for(struct peer *p, enum ctl_type t, int ms)
{
	uint64_t end = time_mono_ns() + (uint64_t)ms * NSEC_PER_MSEC;

	for (;;) {
		for (size_t i = p->mark; i < p->n; i++)
			if (p->recs[i].type == t)
				return &p->recs[i];
		if (time_mono_ns() >= end)
			return NULL;
		ctl_loop_run(p->fx->loop, 10);
	}
}

/* Like wait_for, for a resource_upsert / resource_delete of a given id. */
static inline struct rec *wait_res(struct peer *p, enum ctl_type t, uint64_t id, int ms)
{
	uint64_t end = time_mono_ns() + (uint64_t)ms * NSEC_PER_MSEC;

	for (;;) {
		for (size_t i = p->mark; i < p->n; i++)
			if (p->recs[i].type == t && p->recs[i].resource_id == id)
				return &p->recs[i];
		if (time_mono_ns() >= end)
			return NULL;
		ctl_loop_run(p->fx->loop, 10);
	}
}

static inline void mark(struct peer *p)
{
	p->mark = p->n;
}

static inline bool wait_connected(struct peer *p, int ms)
{
	uint64_t end = time_mono_ns() + (uint64_t)ms * NSEC_PER_MSEC;

	while (!p->connected && !p->disconnects && time_mono_ns() < end)
		ctl_loop_run(p->fx->loop, 10);
	if (!p->connected)
		print_message("not connected: %s\n", p->why);
	return p->connected;
}

static inline bool wait_disconnected(struct peer *p, int ms)
{
	uint64_t end = time_mono_ns() + (uint64_t)ms * NSEC_PER_MSEC;

	while (!p->disconnects && time_mono_ns() < end)
		ctl_loop_run(p->fx->loop, 10);
	return p->disconnects > 0;
}

/* A client of alice, connected, its init received. */
static inline struct peer *client_up(struct fx *f)
{
	struct peer *p = peer_open(f, f->client_tok, NULL, NULL, "laptop");

	assert_true(wait_connected(p, 5000));
	assert_non_null(wait_for(p, CTL_INIT_CLIENT, 5000));
	mark(p);
	return p;
}

/* A gateway of the home site that confirms what it is asked. */
static inline struct peer *gateway_up(struct fx *f, const char *name, const char *endpoint)
{
	struct peer *p = peer_open(f, f->site_tok, NULL, endpoint, name);

	p->auto_authorize = true;
	assert_true(wait_connected(p, 5000));
	assert_non_null(wait_for(p, CTL_INIT_GATEWAY, 5000));
	mark(p);
	return p;
}

static inline uint64_t ms_since(uint64_t t0)
{
	return (time_mono_ns() - t0) / NSEC_PER_MSEC;
}

static inline void send_request(struct peer *p, uint64_t req, int64_t resource_id)
{
	struct ctl_msg m = { .type = CTL_ACCESS_REQUEST, .req = req,
			     .resource_id = (uint64_t)resource_id };

	assert_int_equal(ctl_session_send(p->s, &m), 0);
}

#endif
