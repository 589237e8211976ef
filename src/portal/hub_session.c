/* The WebSocket sessions: who may open one (token, key, and for gateways the
 * row they map to), what they are sent first, the frames they send, and what
 * their end means. hub_tick() lives here too: it closes what was revoked and
 * recomputes what changed. */
#include "portal/hub_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/time.h"
#include "wg/pubkey.h"

enum { HDR_MAX = 300 };

/* The upgrade's token, parsed as the REST API parses it (http_bearer()), then
 * checked: 0 with its kind and owner, -EACCES for anything else. */
static int bearer(struct hub *h, const struct http_request *req,
		  enum store_token_kind *kind, int64_t *owner, int64_t *token_id)
{
	char token[HDR_MAX];
	int r = http_bearer(req->authorization, token, sizeof(token));

	if (r >= 0)
		r = store_token_check(h->st, token, kind, owner, token_id);
	sodium_memzero(token, sizeof(token));
	return r < 0 ? -EACCES : 0;
}

/* A public key as docs/protocol.md wants it (wg/pubkey.h: canonical base64
 * of a canonical key not of small order). */
static bool key_ok(const char *s)
{
	return wg_pubkey_from_base64(NULL, s) == 0;
}

static int refuse_key(struct http_session *s)
{
	http_session_refuse(s, "bad_key", "X-Sluice-Public-Key must be a valid X25519 public "
			    "key in canonical base64 (docs/protocol.md)");
	return -EPERM;
}

static int64_t token_expiry(struct hub *h, int64_t token_id)
{
	json_t *row = NULL;
	int64_t t;

	if (store_get(h->st, "tokens", token_id, &row, NULL) < 0)
		return INT64_MAX;
	t = conv_time(row, "expires_at");
	json_decref(row);
	return t;
}

void hub_close(struct hub *h, struct http_session *hs, uint16_t code, const char *why)
{
	(void)h;
	http_session_set_user(hs, NULL); /* closed() then has nothing to undo */
	http_session_close(hs, code, why);
}

/* ---- clients ------------------------------------------------------------ */

static void client_detach(struct hub *h, struct hub_client *c)
{
	struct hub_auth *a, *next;

	c->hs = NULL;
	free(c->vis);
	c->vis = NULL;
	c->nvis = c->capvis = 0;
	/* an answer can no longer reach it */
	for (a = c->auths; a; a = next) {
		next = a->cnext;
		if (!a->live)
			hub_auth_end(h, a, "denied", "client_offline", END_GW);
	}
}

/* Who the session is, for init; a name the client would refuse is left out
 * (with its id: init's user and device are optional). */
static void named(struct hub *h, const json_t *row, const char *key, struct ctl_named *out)
{
	if (conv_named(row, key, out) < 0) {
		log_rl(&h->rl, LOG_LVL_WARN, "hub: %s %lld: its name cannot be sent in init", key,
		       (long long)json_integer_value(json_object_get(row, "id")));
		memset(out, 0, sizeof(*out));
	}
}

static int client_open(struct hub *h, struct http_session *s, const struct http_request *req)
{
	char key[HDR_MAX], name[HDR_MAX];
	enum store_token_kind kind;
	int64_t user_id, token_id;
	struct store_err err;
	struct hub_client *c;
	struct ctl_named user = { 0 }, device = { 0 };
	struct ctl_client cc;
	json_t *row = NULL;
	bool fresh = false;
	int r;

	if (bearer(h, req, &kind, &user_id, &token_id) < 0 || kind != STORE_TOKEN_CLIENT)
		return -EACCES;
	if (http_session_header(s, "x-sluice-public-key", key, sizeof(key)) < 0 || !key_ok(key))
		return refuse_key(s);
	if (http_session_header(s, "x-sluice-name", name, sizeof(name)) < 0)
		name[0] = '\0';
	r = store_client_upsert(h->st, user_id, key, name, &row, &err);
	if (r == -EINVAL && name[0]) /* a name the store refuses: go without */
		r = store_client_upsert(h->st, user_id, key, NULL, &row, &err);
	if (r < 0) {
		log_rl(&h->rl, LOG_LVL_WARN, "hub: %s: client refused: %s", req->peer, err.msg);
		if (r == -EADDRINUSE)
			http_session_refuse(s, "key_in_use", "this public key is a gateway's");
		else if (r == -EDQUOT)
			http_session_refuse(s, "device_limit",
					    "this user has as many devices as device_limit allows");
		return r == -EPERM || r == -EADDRINUSE || r == -EDQUOT ? -EPERM : -EAGAIN;
	}
	r = conv_client(row, &cc);
	if (r == 0)
		named(h, row, "device", &device);
	json_decref(row);
	if (r < 0)
		return -EAGAIN;
	row = NULL;
	if (store_get(h->st, "users", user_id, &row, NULL) == 0)
		named(h, row, "user", &user);
	json_decref(row);
	c = map_get(&h->clients, (int64_t)cc.id);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || map_put(&h->clients, (int64_t)cc.id, c) < 0) {
			free(c);
			return -EAGAIN;
		}
		fresh = true;
		c->id = (int64_t)cc.id;
		c->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
		hub_spent_restore(h, c);
	} else if (c->hs) {
		struct http_session *old = c->hs;

		client_detach(h, c);
		hub_close(h, old, HUB_CLOSE_REPLACED, "replaced by a new session");
	}
	c->user_id = user_id;
	c->token_id = token_id;
	c->token_expires = token_expiry(h, token_id);
	c->cc = cc;
	c->named_user = user;
	c->named_device = device;
	if (policy_addr_parse(req->peer, &c->source) < 0)
		c->source = (struct policy_addr){ .family = 0 };
	if (fresh || !c->user) {
		c->user = hub_user_get(h, user_id, true);
		if (c->user) {
			c->unext = c->user->clients;
			c->user->clients = c;
		}
	}
	c->killed = false;
	c->hs = s;
	c->need_init = true;
	http_session_set_user(s, c);
	hub_recompute(h, c);
	return 0;
}

static void client_message(struct hub *h, struct hub_client *c, const struct ctl_msg *m)
{
	if (m->type == CTL_ACCESS_REQUEST)
		hub_access_request(h, c, m);
	else if (m->type == CTL_ERROR)
		log_rl(&c->rl, LOG_LVL_WARN, "hub: client %lld says %s: %s", (long long)c->id,
		       m->code, m->message);
}

/* ---- gateways ----------------------------------------------------------- */

/* Tells each connected client with a live authorization on g, once, so that it
 * asks again now (another gateway of the site then takes them) rather than
 * after WireGuard's timeouts. Not on shutdown: the sessions are closing then
 * (http_session_send() refuses), so a portal restart moves nobody. */
static void gateway_offline(struct hub *h, struct hub_gateway *g)
{
	struct ctl_msg m = { .type = CTL_GATEWAY_OFFLINE, .gateway_id = (uint64_t)g->id };
	uint64_t seq = ++h->offline_seq;

	for (struct hub_auth *a = g->auths; a; a = a->gnext) {
		struct hub_client *c = a->client;

		if (!a->live || !c->hs || c->killed || c->offline_seq == seq)
			continue;
		c->offline_seq = seq;
		hub_send(h, c->hs, &m);
	}
}

/* tell: gateway_offline to its clients; not when its authorizations are
 * being revoked anyway (access_revoked says more). */
static void gateway_detach(struct hub *h, struct hub_gateway *g, bool tell)
{
	struct store_err err;
	struct hub_auth *a, *next;

	g->hs = NULL;
	if (store_gateway_seen(h->st, g->id, false, NULL, &err) < 0 && err.field[0] != 'i')
		log_rl(&h->rl, LOG_LVL_WARN, "hub: gateway %lld offline: %s", (long long)g->id,
		       err.msg);
	/* live ones stay until their client asks again (then another gateway
	 * takes them) or they expire; a pending one can no longer be confirmed */
	for (a = g->auths; a; a = next) {
		next = a->gnext;
		if (!a->live)
			hub_auth_end(h, a, "denied", "offline", 0);
	}
	if (tell)
		gateway_offline(h, g);
}

/* Revoked or deleted: closed, and what it carried is over for its clients. */
static void gateway_kill(struct hub *h, struct hub_gateway *g)
{
	struct hub_auth *a, *next;

	g->killed = false;
	if (g->hs) {
		struct http_session *hs = g->hs;

		http_session_set_user(hs, NULL);
		gateway_detach(h, g, false);
		http_session_close(hs, HUB_CLOSE_REVOKED, g->kill_reason);
	}
	for (a = g->auths; a; a = next) {
		next = a->gnext;
		hub_auth_end(h, a, "revoked", g->kill_reason, END_CLIENT);
	}
}

/* The gateway's row: the one of its site with its key; else a row of the site
 * with that name and no key yet (created by an admin); else a new row, named
 * by X-Sluice-Name or after its key. Its endpoint is what it says now. */
static int gateway_row(struct hub *h, int64_t site_id, const char *key, const char *name,
		       const char *endpoint, json_t **row)
{
	struct store_err err = { 0 };
	json_t *filter, *items = NULL, *patch = NULL;
	const json_t *found;
	char auto_name[16];
	int r;

	filter = json_pack("{ss}", "public_key", key);
	r = filter ? store_list(h->st, "gateways", filter, 0, 1, &items, NULL, &err) : -ENOMEM;
	json_decref(filter);
	if (r < 0)
		return r;
	found = json_array_get(items, 0);
	if (!found) {
		if (!name[0]) {
			snprintf(auto_name, sizeof(auto_name), "gw-%.8s", key);
			name = auto_name;
		}
		json_decref(items);
		filter = json_pack("{sIss}", "site_id", (json_int_t)site_id, "name", name);
		r = filter ? store_list(h->st, "gateways", filter, 0, 1, &items, NULL, &err)
			   : -ENOMEM;
		json_decref(filter);
		if (r < 0)
			return r;
		found = json_array_get(items, 0);
		if (found && !json_is_null(json_object_get(found, "public_key")))
			found = NULL, r = -EPERM; /* the name is another gateway's */
	}
	if (r == 0 && found &&
	    json_integer_value(json_object_get(found, "site_id")) != site_id)
		r = -EPERM; /* its key is known in another site */
	if (r == 0 && found) {
		patch = json_pack("{ssss}", "public_key", key, "endpoint", endpoint);
		r = patch ? store_update(h->st, "gateways",
					 json_integer_value(json_object_get(found, "id")), patch,
					 NULL, &err) : -ENOMEM;
	} else if (r == 0) {
		patch = json_pack("{sIssssss}", "site_id", (json_int_t)site_id, "name", name,
				  "public_key", key, "endpoint", endpoint);
		r = patch ? store_create(h->st, "gateways", patch, row, &err) : -ENOMEM;
	}
	if (r == 0 && found)
		r = store_gateway_seen(h->st, json_integer_value(json_object_get(found, "id")),
				       true, row, &err);
	else if (r == 0)
		r = store_gateway_seen(h->st, json_integer_value(json_object_get(*row, "id")),
				       true, NULL, &err);
	json_decref(patch);
	json_decref(items);
	if (r < 0 && err.msg[0])
		log_rl(&h->rl, LOG_LVL_WARN, "hub: gateway %s refused: %s%s%s", key, err.field,
		       err.field[0] ? ": " : "", err.msg);
	return r;
}

static void gateway_init(struct hub *h, struct hub_gateway *g)
{
	struct ctl_msg m = { .type = CTL_INIT_GATEWAY };
	struct hub_auth *a;
	size_t n = 0;

	m.tunnel_ipv4 = g->cg.tunnel_ipv4;
	m.tunnel_ipv6 = g->cg.tunnel_ipv6;
	for (a = g->auths; a; a = a->gnext)
		n += a->live;
	if (n) {
		m.auths = calloc(n, sizeof(*m.auths));
		if (!m.auths) {
			hub_close(h, g->hs, 1011, "out of memory");
			return;
		}
	}
	for (a = g->auths; a; a = a->gnext) {
		struct hub_res *r = map_get(&h->res, a->resource_id);
		struct ctl_authorization *o;

		if (!a->live || !r)
			continue;
		o = &m.auths[m.n_auths++];
		o->ref = a->ref;
		o->client = a->client->cc;
		memcpy(o->psk, a->psk, sizeof(o->psk));
		o->resource = r->cr;
		o->expires_at = a->expires_at;
	}
	hub_send(h, g->hs, &m);
	if (m.auths)
		sodium_memzero(m.auths, n * sizeof(*m.auths));
	free(m.auths);
}

static int gateway_open(struct hub *h, struct http_session *s, const struct http_request *req)
{
	char key[HDR_MAX], name[HDR_MAX], endpoint[HDR_MAX];
	enum store_token_kind kind;
	int64_t site_id, token_id;
	struct ctl_gateway cg;
	struct hub_gateway *g;
	json_t *row = NULL;
	int r;

	if (bearer(h, req, &kind, &site_id, &token_id) < 0 || kind != STORE_TOKEN_SITE)
		return -EACCES;
	if (http_session_header(s, "x-sluice-public-key", key, sizeof(key)) < 0 || !key_ok(key))
		return refuse_key(s);
	if (http_session_header(s, "x-sluice-endpoint", endpoint, sizeof(endpoint)) < 0)
		return -EPERM;
	if (http_session_header(s, "x-sluice-name", name, sizeof(name)) < 0)
		name[0] = '\0';
	r = gateway_row(h, site_id, key, name, endpoint, &row);
	if (r == -EADDRINUSE)
		http_session_refuse(s, "key_in_use", "this public key is a device's");
	if (r < 0)
		return r == -EPERM || r == -EEXIST || r == -EINVAL || r == -EADDRINUSE ? -EPERM
										       : -EAGAIN;
	r = conv_gateway(row, &cg);
	json_decref(row);
	if (r < 0) {
		store_gateway_seen(h->st, (int64_t)cg.id, false, NULL, NULL);
		return -EPERM; /* an endpoint the clients would refuse */
	}
	g = map_get(&h->gateways, (int64_t)cg.id);
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g || map_put(&h->gateways, (int64_t)cg.id, g) < 0) {
			free(g);
			return -EAGAIN;
		}
		g->id = (int64_t)cg.id;
		g->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	} else if (g->hs) {
		struct http_session *old = g->hs;

		g->hs = NULL; /* not offline: it is here again */
		hub_close(h, old, HUB_CLOSE_REPLACED, "replaced by a new session");
	}
	g->site_id = site_id;
	g->token_id = token_id;
	g->token_expires = token_expiry(h, token_id);
	g->cg = cg;
	g->killed = false;
	g->hs = s;
	http_session_set_user(s, g);
	gateway_init(h, g);
	return 0;
}

static void gateway_message(struct hub *h, struct hub_gateway *g, const struct ctl_msg *m)
{
	if (m->type == CTL_AUTHORIZED)
		hub_authorized(h, g, m->ref);
	else if (m->type == CTL_ERROR)
		log_rl(&g->rl, LOG_LVL_WARN, "hub: gateway %lld says %s: %s", (long long)g->id,
		       m->code, m->message);
	else if (m->type == CTL_FLOW_LOG)
		hub_flow_log(h, g, m);
}

/* ---- the ops ------------------------------------------------------------ */

static int ws_open(void *arg, struct http_session *s, unsigned endpoint,
		   const struct http_request *req)
{
	struct hub *h = arg;

	if (h->closing)
		return -EAGAIN;
	return endpoint == 0 ? client_open(h, s, req) : gateway_open(h, s, req);
}

static void ws_message(void *arg, struct http_session *s, const char *text, size_t len)
{
	struct hub *h = arg;
	void *obj = http_session_user(s);
	bool client = http_session_endpoint(s) == 0;
	struct ctl_msg m;
	char err[CTL_MESSAGE_MAX + 1];
	int r;

	if (!obj)
		return; /* a session on its way out */
	r = ctl_msg_decode(text, len, client ? CTL_ROLE_PORTAL_FROM_CLIENT :
			   CTL_ROLE_PORTAL_FROM_GATEWAY, &m, err, sizeof(err));
	if (r < 0) {
		struct ctl_msg e = { .type = CTL_ERROR };

		h->stats.bad_frames++;
		log_rl(client ? &((struct hub_client *)obj)->rl : &((struct hub_gateway *)obj)->rl,
		       LOG_LVL_WARN, "hub: %s: a frame refused: %s", http_session_peer(s), err);
		snprintf(e.code, sizeof(e.code), "%s", ctl_error_code(r));
		snprintf(e.message, sizeof(e.message), "%s", err);
		hub_send(h, s, &e);
		return;
	}
	if (client)
		client_message(h, obj, &m);
	else
		gateway_message(h, obj, &m);
	ctl_msg_free(&m);
}

static void ws_closed(void *arg, struct http_session *s)
{
	struct hub *h = arg;
	void *obj = http_session_user(s);

	if (!obj)
		return;
	if (http_session_endpoint(s) == 0) {
		struct hub_client *c = obj;

		client_detach(h, c);
		hub_client_maybe_free(h, c);
	} else {
		gateway_detach(h, obj, true);
		hub_gateway_maybe_free(h, obj);
	}
}

static const struct http_ws_ops ops = {
	.open = ws_open,
	.message = ws_message,
	.closed = ws_closed,
};

const struct http_ws_ops *hub_ws_ops(void)
{
	return &ops;
}

/* ---- the tick ----------------------------------------------------------- */

static void client_tick(struct hub *h, struct hub_client *c, uint64_t mono, int64_t now)
{
	struct hub_auth *a, *next;

	if (c->hs && !c->killed && now >= c->token_expires) {
		c->killed = true;
		c->kill_reason = "token_expired";
	}
	if (c->killed) {
		for (a = c->auths; a; a = next) {
			next = a->cnext;
			hub_auth_end(h, a, "revoked", c->kill_reason, END_GW | END_CLIENT);
		}
		if (c->hs) {
			struct http_session *hs = c->hs;

			client_detach(h, c);
			hub_close(h, hs, HUB_CLOSE_REVOKED, c->kill_reason);
		}
		c->killed = false;
		return;
	}
	if (c->dirty || h->dirty_any || now >= c->next_change)
		hub_recompute(h, c);
	hub_auth_timers(h, c, mono, now);
	if (h->dns_changed && c->hs) {
		struct ctl_msg m = { .type = CTL_DNS_SETTINGS };

		memcpy(m.upstreams, h->upstreams, sizeof(m.upstreams));
		m.n_upstreams = h->n_upstreams;
		hub_send(h, c->hs, &m);
	}
}

void hub_tick(void *arg)
{
	struct hub *h = arg;
	uint64_t mono = time_mono_ns();
	int64_t now = hub_now(h);
	size_t i;

	for (i = 0; i < h->gateways.n;) {
		struct hub_gateway *g = h->gateways.v[i].p;

		if (g->hs && !g->killed && now >= g->token_expires) {
			g->killed = true;
			g->kill_reason = "token_expired";
		}
		if (g->killed)
			gateway_kill(h, g);
		hub_gateway_maybe_free(h, g);
		if (i < h->gateways.n && h->gateways.v[i].p == g)
			i++;
	}
	for (i = 0; i < h->clients.n;) {
		struct hub_client *c = h->clients.v[i].p;

		client_tick(h, c, mono, now);
		hub_client_maybe_free(h, c);
		if (i < h->clients.n && h->clients.v[i].p == c)
			i++;
	}
	h->dirty_any = false;
	h->dns_changed = false;
	hub_logs_tick(h, mono);
}
