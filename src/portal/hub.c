/* The hub's life, its mirror of the store, and the store's changes: each change
 * updates the mirror at once and marks what it concerns; hub_tick() then pushes
 * (see hub_access.c), so a cascade is one recomputation per device. */
#include "portal/hub_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "lib/buf.h"
#include "lib/jsonx.h"
#include "lib/time.h"

/* ---- id map ------------------------------------------------------------- */

static size_t map_find(const struct hub_map *m, int64_t id)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *map_get(const struct hub_map *m, int64_t id)
{
	size_t i = map_find(m, id);

	return i < m->n && m->v[i].id == id ? m->v[i].p : NULL;
}

int map_put(struct hub_map *m, int64_t id, void *p)
{
	size_t i = map_find(m, id);

	if (i < m->n && m->v[i].id == id) {
		m->v[i].p = p;
		return 0;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;
		struct hub_slot *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = (struct hub_slot){ id, p };
	m->n++;
	return 0;
}

void *map_del(struct hub_map *m, int64_t id)
{
	size_t i = map_find(m, id);
	void *p;

	if (i >= m->n || m->v[i].id != id)
		return NULL;
	p = m->v[i].p;
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
	return p;
}

void map_free(struct hub_map *m)
{
	free(m->v);
	*m = (struct hub_map){ 0 };
}

/* ---- helpers ------------------------------------------------------------ */

int64_t hub_now(const struct hub *h)
{
	return h->cfg.now ? h->cfg.now(h->cfg.now_arg) : (int64_t)time(NULL);
}

int hub_send(struct hub *h, struct http_session *hs, const struct ctl_msg *m)
{
	struct buf b;
	int r;

	buf_init(&b, CTL_FRAME_MAX);
	r = ctl_msg_encode(m, &b);
	if (r == 0)
		r = http_session_send(hs, (const char *)b.data, b.len);
	if (r < 0 && r != -EPIPE)
		log_rl(&h->rl, LOG_LVL_WARN, "hub: a %s to %s was not sent: %s",
		       ctl_type_name(m->type), http_session_peer(hs), strerror(-r));
	buf_wipe(&b); /* it may hold a PSK */
	return r;
}

void hub_flow(struct hub *h, const char *event, const struct hub_client *c,
	      int64_t resource_id, int64_t gateway_id, const char *reason)
{
	json_t *row = json_pack("{sssIsIsI}", "event", event, "client_id", (json_int_t)c->id,
				"user_id", (json_int_t)c->user_id, "resource_id",
				(json_int_t)resource_id);

	if (!row) {
		h->stats.flows_lost++;
		return;
	}
	if (gateway_id)
		json_object_set_new(row, "gateway_id", json_integer(gateway_id));
	if (reason)
		json_object_set_new(row, "reason", json_string(reason));
	hub_flow_queue(h, row);
}

/* ---- settings ----------------------------------------------------------- */

/* One limit: the stored value if the API's range holds it (a row edited by
 * hand may not), else the default. */
static uint32_t limit_get(const json_t *settings, const char *key, int64_t max, uint32_t def)
{
	int64_t v;

	return jsonx_get_int(settings, key, 0, max, &v) == 0 ? (uint32_t)v : def;
}

void hub_limits_apply(struct hub *h, const json_t *settings)
{
	uint32_t flow_days = limit_get(settings, "flow_retention_days", HUB_RETENTION_MAX, 90);
	uint32_t audit_days = limit_get(settings, "audit_retention_days", HUB_RETENTION_MAX, 90);

	h->req_rate = limit_get(settings, "access_request_rate", HUB_REQ_RATE_MAX, 10);
	h->req_burst = limit_get(settings, "access_request_burst", HUB_REQ_BURST_MAX, 100);
	if (flow_days != h->flow_days || audit_days != h->audit_days)
		h->prune_at = 0; /* a shorter retention applies at the next tick */
	h->flow_days = flow_days;
	h->audit_days = audit_days;
}

/* ---- users and marks ---------------------------------------------------- */

struct hub_user *hub_user_get(struct hub *h, int64_t id, bool create)
{
	struct hub_user *u = map_get(&h->users, id);

	if (u || !create)
		return u;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->id = id;
	if (map_put(&h->users, id, u) < 0) {
		free(u);
		return NULL;
	}
	return u;
}

static bool user_in(const struct hub_user *u, int64_t gid)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == gid)
			return true;
	return false;
}

static void user_join(struct hub_user *u, int64_t gid)
{
	int64_t *g;
	size_t i;

	if (user_in(u, gid))
		return;
	g = realloc(u->groups, (u->ngroups + 1) * sizeof(*g));
	if (!g)
		return; /* the user just does not get the group's policies */
	u->groups = g;
	for (i = u->ngroups; i > 0 && g[i - 1] > gid; i--)
		g[i] = g[i - 1];
	g[i] = gid;
	u->ngroups++;
}

static void user_leave(struct hub_user *u, int64_t gid)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == gid) {
			memmove(&u->groups[i], &u->groups[i + 1],
				(u->ngroups - i - 1) * sizeof(*u->groups));
			u->ngroups--;
			return;
		}
}

void hub_mark_user(struct hub *h, struct hub_user *u)
{
	(void)h;
	for (struct hub_client *c = u ? u->clients : NULL; c; c = c->unext)
		c->dirty = true;
}

void hub_mark_group(struct hub *h, int64_t gid)
{
	for (size_t i = 0; i < h->clients.n; i++) {
		struct hub_client *c = h->clients.v[i].p;

		if (c->user && user_in(c->user, gid))
			c->dirty = true;
	}
}

static void user_kill(struct hub *h, struct hub_user *u, const char *why)
{
	(void)h;
	for (struct hub_client *c = u->clients; c; c = c->unext) {
		c->killed = true;
		c->kill_reason = why;
	}
}

static void user_free(struct hub *h, struct hub_user *u)
{
	for (struct hub_client *c = u->clients; c; c = c->unext)
		c->user = NULL;
	map_del(&h->users, u->id);
	free(u->groups);
	free(u);
}

/* ---- resources ---------------------------------------------------------- */

static void res_free(struct hub_res *r)
{
	if (!r)
		return;
	free(r->upsert);
	free(r);
}

/* Adds or replaces the resource of row; a row that would not pass the clients'
 * checks is dropped (nobody can reach it). */
static struct hub_res *res_load(struct hub *h, const json_t *row)
{
	int64_t id = json_integer_value(json_object_get(row, "id"));
	struct hub_res *r = calloc(1, sizeof(*r));
	struct ctl_msg m = { .type = CTL_RESOURCE_UPSERT };
	struct buf b;

	if (!r)
		goto fail;
	r->id = id;
	r->site_id = json_integer_value(json_object_get(row, "site_id"));
	if (conv_resource(row, &r->cr) < 0) {
		log_rl(&h->rl, LOG_LVL_WARN, "hub: resource %lld cannot be sent to clients: "
		       "nobody can reach it", (long long)id);
		goto fail;
	}
	m.resource = r->cr;
	buf_init(&b, CTL_FRAME_MAX);
	if (ctl_msg_encode(&m, &b) < 0) {
		buf_free(&b);
		goto fail;
	}
	r->upsert = (char *)b.data;
	r->upsert_len = b.len;
	if (map_put(&h->res, id, r) < 0)
		goto fail;
	return r;
fail:
	res_free(r);
	res_free(map_del(&h->res, id));
	return NULL;
}

static bool vis_has(const struct hub_client *c, uint64_t id)
{
	size_t lo = 0, hi = c->nvis;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->vis[mid] == id)
			return true;
		if (c->vis[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void res_changed(struct hub *h, const struct store_change *ch)
{
	struct hub_res *old = map_get(&h->res, ch->id), *r = NULL;
	int64_t old_site = old ? old->site_id : 0;

	if (ch->action == STORE_DELETE) {
		res_free(map_del(&h->res, ch->id));
		h->dirty_any = true;
		return;
	}
	if (old)
		res_free(map_del(&h->res, ch->id));
	r = res_load(h, ch->row);
	if (!r || (old && old_site != r->site_id)) {
		h->dirty_any = true; /* gone, or moved: recompute who reaches it */
		if (!r)
			return;
	}
	if (!old)
		return; /* no policy can name it yet */
	/* new content: to the sessions that know it, and the site's gateways */
	for (size_t i = 0; i < h->clients.n; i++) {
		struct hub_client *c = h->clients.v[i].p;

		if (c->hs && !c->killed && vis_has(c, (uint64_t)r->id))
			http_session_send(c->hs, r->upsert, r->upsert_len);
	}
	for (size_t i = 0; i < h->gateways.n; i++) {
		struct hub_gateway *g = h->gateways.v[i].p;

		if (g->hs && g->site_id == r->site_id)
			http_session_send(g->hs, r->upsert, r->upsert_len);
	}
}

/* ---- policies ----------------------------------------------------------- */

static int pol_cmp(const void *a, const void *b)
{
	const struct policy *x = a, *y = b;

	if (x->group_id != y->group_id)
		return x->group_id < y->group_id ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void pol_remove(struct hub *h, int64_t id)
{
	for (size_t i = 0; i < h->npols; i++)
		if (h->pols[i].id == (uint64_t)id) {
			hub_mark_group(h, (int64_t)h->pols[i].group_id);
			memmove(&h->pols[i], &h->pols[i + 1],
				(h->npols - i - 1) * sizeof(*h->pols));
			h->npols--;
			return;
		}
}

static int pol_add(struct hub *h, const json_t *row)
{
	struct policy_error err;
	struct policy p;
	int r = policy_parse(h->pe, row, &p, &err);

	if (r < 0) {
		log_rl(&h->rl, LOG_LVL_WARN, "hub: policy %lld ignored (it grants nothing): "
		       "%s: %s", (long long)json_integer_value(json_object_get(row, "id")),
		       err.field, err.message);
		return r;
	}
	if (h->npols == h->cappols) {
		size_t cap = h->cappols ? 2 * h->cappols : 16;
		struct policy *v = realloc(h->pols, cap * sizeof(*v));
		struct policy *s = realloc(h->scratch, cap * sizeof(*s));

		if (v)
			h->pols = v;
		if (s)
			h->scratch = s;
		if (!v || !s)
			return -ENOMEM;
		h->cappols = h->capscratch = cap;
	}
	h->pols[h->npols++] = p;
	qsort(h->pols, h->npols, sizeof(*h->pols), pol_cmp);
	hub_mark_group(h, (int64_t)p.group_id);
	return 0;
}

/* ---- clients, gateways, tokens ------------------------------------------ */

static void token_gone(struct hub *h, int64_t token_id)
{
	for (size_t i = 0; i < h->clients.n; i++) {
		struct hub_client *c = h->clients.v[i].p;

		if (c->token_id == token_id) {
			c->killed = true;
			c->kill_reason = "token_revoked";
		}
	}
	for (size_t i = 0; i < h->gateways.n; i++) {
		struct hub_gateway *g = h->gateways.v[i].p;

		if (g->token_id == token_id && g->hs) {
			g->killed = true;
			g->kill_reason = "token_revoked";
		}
	}
}

/* ---- rate limits of devices gone ---------------------------------------- */

/* A device that leaves with its access_request bucket not full gets it back
 * when it connects again: a new session does not refill it. */
static void spent_keep(struct hub *h, const struct hub_client *c)
{
	struct tbucket *b;

	if (c->requests.tat_ns <= time_mono_ns())
		return; /* full: nothing to remember */
	b = map_get(&h->spent, c->id);
	if (!b) {
		b = malloc(sizeof(*b));
		if (!b || map_put(&h->spent, c->id, b) < 0) {
			free(b);
			return; /* the device starts full: a burst more */
		}
	}
	*b = c->requests;
}

void hub_spent_restore(struct hub *h, struct hub_client *c)
{
	struct tbucket *b = map_del(&h->spent, c->id);

	if (b)
		c->requests = *b;
	free(b);
}

void hub_spent_sweep(struct hub *h, uint64_t mono)
{
	for (size_t i = 0; i < h->spent.n;) {
		struct tbucket *b = h->spent.v[i].p;

		if (b->tat_ns <= mono) {
			map_del(&h->spent, h->spent.v[i].id);
			free(b);
		} else {
			i++;
		}
	}
}

static void spent_free(struct hub *h)
{
	for (size_t i = 0; i < h->spent.n; i++)
		free(h->spent.v[i].p);
	map_free(&h->spent);
}

void hub_client_maybe_free(struct hub *h, struct hub_client *c)
{
	if (c->hs || c->auths)
		return;
	if (c->user)
		for (struct hub_client **pp = &c->user->clients; *pp; pp = &(*pp)->unext)
			if (*pp == c) {
				*pp = c->unext;
				break;
			}
	map_del(&h->clients, c->id);
	spent_keep(h, c);
	free(c->vis);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

void hub_gateway_maybe_free(struct hub *h, struct hub_gateway *g)
{
	if (g->hs || g->auths)
		return;
	map_del(&h->gateways, g->id);
	free(g);
}

void hub_store_changed(void *arg, const struct store_change *ch)
{
	struct hub *h = arg;
	const char *e = ch->entity;
	bool del = ch->action == STORE_DELETE;

	if (!strcmp(e, "resources")) {
		res_changed(h, ch);
	} else if (!strcmp(e, "policies")) {
		pol_remove(h, ch->id);
		if (!del)
			pol_add(h, ch->row);
	} else if (!strcmp(e, "group_members")) {
		int64_t gid = json_integer_value(json_object_get(ch->row, "group_id"));
		struct hub_user *u = hub_user_get(h, json_integer_value(
					json_object_get(ch->row, "user_id")), !del);

		if (u && del)
			user_leave(u, gid);
		else if (u)
			user_join(u, gid);
		hub_mark_user(h, u);
	} else if (!strcmp(e, "users")) {
		struct hub_user *u = hub_user_get(h, ch->id, !del);

		if (!u)
			return;
		if (del) {
			user_kill(h, u, "user_deleted");
			user_free(h, u);
			return;
		}
		u->disabled = json_is_true(json_object_get(ch->row, "disabled"));
		if (u->disabled)
			user_kill(h, u, "user_disabled");
		hub_mark_user(h, u);
	} else if (!strcmp(e, "clients")) {
		struct hub_client *c = map_get(&h->clients, ch->id);

		if (c && (del || !json_is_null(json_object_get(ch->row, "revoked_at")))) {
			c->killed = true;
			c->kill_reason = del ? "device_deleted" : "device_revoked";
		}
	} else if (!strcmp(e, "tokens")) {
		if (del || !json_is_null(json_object_get(ch->row, "revoked_at")))
			token_gone(h, ch->id);
	} else if (!strcmp(e, "gateways")) {
		struct hub_gateway *g = map_get(&h->gateways, ch->id);

		if (g && del) {
			g->killed = true;
			g->kill_reason = "gateway_deleted";
		} else if (g && conv_gateway(ch->row, &g->cg) < 0) {
			log_rl(&h->rl, LOG_LVL_WARN, "hub: gateway %lld: its row no longer "
			       "converts", (long long)g->id);
		}
	} else if (!strcmp(e, "settings")) {
		struct ctl_ip up[CTL_UPSTREAMS_MAX];
		unsigned n = 0;

		hub_limits_apply(h, ch->row);
		if (conv_upstreams(ch->row, up, &n) < 0) {
			log_rl(&h->rl, LOG_LVL_WARN, "hub: upstream_dns unusable: not sent");
			return;
		}
		if (n != h->n_upstreams || memcmp(up, h->upstreams, n * sizeof(*up))) {
			memcpy(h->upstreams, up, sizeof(up));
			h->n_upstreams = n;
			h->dns_changed = true;
		}
	}
}

/* ---- loading ------------------------------------------------------------ */

typedef int (*load_fn)(struct hub *h, const json_t *row);

static int load_all(struct hub *h, const char *entity, const json_t *filter, load_fn fn)
{
	struct store_err err;
	int64_t after = 0, next;
	json_t *items, *row;
	size_t i;
	int r;

	do {
		r = store_list(h->st, entity, filter, after, 1000, &items, &next, &err);
		if (r < 0) {
			log_err("hub: loading %s: %s", entity, err.msg);
			return r;
		}
		json_array_foreach(items, i, row) {
			r = fn(h, row);
			if (r < 0)
				break;
		}
		json_decref(items);
		after = next;
	} while (r >= 0 && next);
	return r;
}

static int load_res(struct hub *h, const json_t *row)
{
	res_load(h, row);
	return 0;
}

static int load_pol(struct hub *h, const json_t *row)
{
	int r = pol_add(h, row);

	return r == -ENOMEM ? r : 0;
}

static int load_user(struct hub *h, const json_t *row)
{
	struct hub_user *u = hub_user_get(h, json_integer_value(json_object_get(row, "id")),
					  true);

	if (!u)
		return -ENOMEM;
	u->disabled = json_is_true(json_object_get(row, "disabled"));
	return 0;
}

static int load_member(struct hub *h, const json_t *row)
{
	struct hub_user *u = hub_user_get(h, json_integer_value(
				json_object_get(row, "user_id")), true);

	if (!u)
		return -ENOMEM;
	user_join(u, json_integer_value(json_object_get(row, "group_id")));
	return 0;
}

/* Nobody is connected yet, whatever the last run left behind. */
static int load_gw_offline(struct hub *h, const json_t *row)
{
	struct store_err err;

	if (store_gateway_seen(h->st, json_integer_value(json_object_get(row, "id")), false,
			       NULL, &err) < 0)
		log_warn("hub: gateway offline: %s", err.msg);
	return 0;
}

int hub_new(struct store *st, struct policy_engine *pe, const struct hub_config *cfg,
	    struct hub **out)
{
	struct hub *h = calloc(1, sizeof(*h));
	struct store_err err;
	json_t *settings = NULL, *online;
	int r;

	if (!h)
		return -ENOMEM;
	h->st = st;
	h->pe = pe;
	if (cfg)
		h->cfg = *cfg;
	if (!h->cfg.authorize_timeout_ms)
		h->cfg.authorize_timeout_ms = 5000;
	if (!h->cfg.flow_delay_ms)
		h->cfg.flow_delay_ms = HUB_FLOW_DELAY_MS;
	h->next_ref = 1;
	h->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	h->rl_flowq = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	h->rl_limited = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	h->flowq = json_array();
	online = h->flowq ? json_pack("{sb}", "online", 1) : NULL;
	r = online ? 0 : -ENOMEM;
	if (r == 0)
		r = load_all(h, "users", NULL, load_user);
	if (r == 0)
		r = load_all(h, "group_members", NULL, load_member);
	if (r == 0)
		r = load_all(h, "resources", NULL, load_res);
	if (r == 0)
		r = load_all(h, "policies", NULL, load_pol);
	if (r == 0)
		r = load_all(h, "gateways", online, load_gw_offline);
	if (r == 0) {
		r = store_settings_get(st, &settings, &err);
		if (r == 0)
			hub_limits_apply(h, settings);
		if (r == 0 && conv_upstreams(settings, h->upstreams, &h->n_upstreams) < 0)
			log_warn("hub: upstream_dns unusable: clients get none");
	}
	if (r == 0)
		r = hub_auth_load(h);
	json_decref(settings);
	json_decref(online);
	if (r < 0) {
		hub_free(h);
		return r;
	}
	*out = h;
	return 0;
}

static void auth_free_all(struct hub_auth *a)
{
	while (a) {
		struct hub_auth *next = a->cnext;

		sodium_memzero(a, sizeof(*a));
		free(a);
		a = next;
	}
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	hub_flows_flush(h);
	json_decref(h->flowq);
	for (size_t i = 0; i < h->clients.n; i++) {
		struct hub_client *c = h->clients.v[i].p;

		auth_free_all(c->auths);
		free(c->vis);
		free(c);
	}
	for (size_t i = 0; i < h->gateways.n; i++)
		free(h->gateways.v[i].p);
	for (size_t i = 0; i < h->users.n; i++) {
		struct hub_user *u = h->users.v[i].p;

		free(u->groups);
		free(u);
	}
	for (size_t i = 0; i < h->res.n; i++)
		res_free(h->res.v[i].p);
	spent_free(h);
	map_free(&h->clients);
	map_free(&h->gateways);
	map_free(&h->users);
	map_free(&h->res);
	free(h->pols);
	free(h->scratch);
	free(h);
}

void hub_get_stats(const struct hub *h, struct hub_stats *out)
{
	*out = h->stats;
	out->clients = out->gateways = out->auths = 0;
	for (size_t i = 0; i < h->clients.n; i++) {
		const struct hub_client *c = h->clients.v[i].p;

		out->clients += c->hs != NULL;
		for (const struct hub_auth *a = c->auths; a; a = a->cnext)
			out->auths++;
	}
	for (size_t i = 0; i < h->gateways.n; i++)
		out->gateways += ((const struct hub_gateway *)h->gateways.v[i].p)->hs != NULL;
}
