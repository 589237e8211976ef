/* What a device may reach, and its authorizations: recomputation after a change
 * (announce the difference, revoke what ended), access requests (policy, then a
 * gateway, then "authorize" and its confirmation), timeouts and expiry. */
#include "portal/hub_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/rand.h"
#include "lib/time.h"

size_t hub_user_policies(struct hub *h, const struct hub_user *u)
{
	size_t n = 0;

	if (!u || u->disabled)
		return 0;
	/* h->pols is sorted by group: each group's policies are one run */
	for (size_t g = 0; g < u->ngroups; g++) {
		size_t lo = 0, hi = h->npols, i;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if ((int64_t)h->pols[mid].group_id < u->groups[g])
				lo = mid + 1;
			else
				hi = mid;
		}
		for (i = lo; i < h->npols && (int64_t)h->pols[i].group_id == u->groups[g]; i++)
			h->scratch[n++] = h->pols[i];
	}
	return n;
}

void hub_subject(const struct hub *h, const struct hub_client *c, struct policy_subject *s)
{
	*s = (struct policy_subject){
		.group_ids = c->user && !c->user->disabled ? (const uint64_t *)c->user->groups
							   : NULL,
		.ngroups = c->user && !c->user->disabled ? c->user->ngroups : 0,
		.source = c->source.family ? &c->source : NULL,
		.now = hub_now(h),
	};
}

/* ---- authorizations ----------------------------------------------------- */

static void auth_unlink(struct hub_auth *a)
{
	struct hub_auth **pp;

	for (pp = &a->client->auths; *pp; pp = &(*pp)->cnext)
		if (*pp == a) {
			*pp = a->cnext;
			break;
		}
	for (pp = &a->gw->auths; *pp; pp = &(*pp)->gnext)
		if (*pp == a) {
			*pp = a->gnext;
			break;
		}
	a->gw->load--;
}

static void deny(struct hub *h, struct hub_client *c, uint64_t req, uint64_t resource_id,
		 const char *reason, int64_t gateway_id)
{
	struct ctl_msg m = { .type = CTL_ACCESS_DENIED, .req = req, .resource_id = resource_id };

	snprintf(m.reason, sizeof(m.reason), "%s", reason);
	if (c->hs)
		hub_send(h, c->hs, &m);
	h->stats.denied++;
	hub_flow(h, "denied", c, (int64_t)resource_id, gateway_id, reason);
}

void hub_auth_end(struct hub *h, struct hub_auth *a, const char *event, const char *reason,
		  unsigned how)
{
	struct hub_client *c = a->client;
	struct hub_gateway *g = a->gw;

	if ((how & END_GW) && g->hs) {
		struct ctl_msg m = { .type = CTL_REVOKE, .client_id = (uint64_t)c->id,
				     .resource_id = (uint64_t)a->resource_id };

		hub_send(h, g->hs, &m);
	}
	auth_unlink(a);
	if (a->live)
		hub_auth_forget(h, a);
	if (!a->live) {
		deny(h, c, a->req, (uint64_t)a->resource_id, reason, g->id);
	} else {
		if ((how & END_CLIENT) && c->hs) {
			struct ctl_msg m = { .type = CTL_ACCESS_REVOKED,
					     .resource_id = (uint64_t)a->resource_id };

			hub_send(h, c->hs, &m);
		}
		if (!strcmp(event, "revoked"))
			h->stats.revoked++;
		hub_flow(h, event, c, a->resource_id, g->id, reason);
	}
	sodium_memzero(a, sizeof(*a));
	free(a);
}

void hub_auth_timers(struct hub *h, struct hub_client *c, uint64_t mono, int64_t now)
{
	struct hub_auth *a = c->auths, *next;

	for (; a; a = next) {
		next = a->cnext;
		if (!a->live && mono >= a->deadline_ns)
			hub_auth_end(h, a, "denied", "timeout", END_GW);
		else if (a->live && now >= a->expires_at)
			/* the gateway knows the expiry too; the revoke only makes sure */
			hub_auth_end(h, a, "expired", NULL, END_GW);
	}
}

/* ---- recomputation ------------------------------------------------------ */

static void send_delete(struct hub *h, struct hub_client *c, uint64_t id)
{
	struct ctl_msg m = { .type = CTL_RESOURCE_DELETE, .resource_id = id };

	hub_send(h, c->hs, &m);
}

static void send_upsert(struct hub *h, struct hub_client *c, uint64_t id)
{
	struct hub_res *r = map_get(&h->res, (int64_t)id);

	if (r)
		http_session_send(c->hs, r->upsert, r->upsert_len);
}

static void send_init(struct hub *h, struct hub_client *c)
{
	struct ctl_msg m = { .type = CTL_INIT_CLIENT };
	size_t i;

	m.tunnel_ipv4 = c->cc.tunnel_ipv4;
	m.tunnel_ipv6 = c->cc.tunnel_ipv6;
	m.user = c->named_user;
	m.device = c->named_device;
	memcpy(m.upstreams, h->upstreams, sizeof(m.upstreams));
	m.n_upstreams = h->n_upstreams;
	if (c->nvis) {
		m.resources = calloc(c->nvis, sizeof(*m.resources));
		if (!m.resources) {
			hub_close(h, c->hs, 1011, "out of memory");
			return;
		}
	}
	for (i = 0; i < c->nvis; i++)
		m.resources[i] = ((struct hub_res *)map_get(&h->res, (int64_t)c->vis[i]))->cr;
	m.n_resources = c->nvis;
	hub_send(h, c->hs, &m);
	free(m.resources);
}

/* The new visible set (sorted by id, resources the hub knows) against the
 * announced one. */
static void announce(struct hub *h, struct hub_client *c, const struct policy *pols,
		     size_t npols, const struct policy_subject *s, bool init)
{
	struct policy_grant *g = NULL;
	uint64_t *vis = NULL;
	size_t n = 0, nv = 0, i = 0, j = 0;
	int r = 0;

	if (npols) {
		g = malloc(npols * sizeof(*g));
		vis = malloc(npols * sizeof(*vis));
		r = g && vis ? policy_visible_resources(h->pe, pols, npols, s, g, npols, &n)
			     : -ENOMEM;
	}
	if (r < 0) {
		log_rl(&h->rl, LOG_LVL_ERR, "hub: recomputing client %lld: %s",
		       (long long)c->id, strerror(-r));
		free(g);
		free(vis);
		c->dirty = true; /* try again at the next tick */
		return;
	}
	for (size_t k = 0; k < n; k++)
		if (map_get(&h->res, (int64_t)g[k].resource_id))
			vis[nv++] = g[k].resource_id;
	free(g);
	if (init) {
		c->need_init = false;
		free(c->vis);
		c->vis = vis;
		c->nvis = c->capvis = nv;
		send_init(h, c);
		return;
	}
	while (i < c->nvis || j < nv) {
		if (j == nv || (i < c->nvis && c->vis[i] < vis[j]))
			send_delete(h, c, c->vis[i++]);
		else if (i == c->nvis || vis[j] < c->vis[i])
			send_upsert(h, c, vis[j++]);
		else
			i++, j++;
	}
	free(c->vis);
	c->vis = vis;
	c->nvis = c->capvis = nv;
}

void hub_recompute(struct hub *h, struct hub_client *c)
{
	size_t npols = hub_user_policies(h, c->user);
	struct policy_subject s;
	struct hub_auth *a, *next;
	int64_t next_change;

	hub_subject(h, c, &s);
	c->dirty = false;
	if (c->hs)
		announce(h, c, h->scratch, npols, &s, c->need_init);
	for (a = c->auths; a; a = next) {
		struct hub_res *r = map_get(&h->res, a->resource_id);
		struct policy_decision d;

		next = a->cnext;
		if (!r || r->site_id != a->gw->site_id) {
			hub_auth_end(h, a, "revoked", "no_policy", END_GW | END_CLIENT);
			continue;
		}
		policy_decide(h->pe, h->scratch, npols, &s, (uint64_t)a->resource_id, &d);
		if (!d.allowed || d.expires_at < a->expires_at)
			hub_auth_end(h, a, "revoked", d.allowed ? "expired" :
				     policy_reason_str(d.reason), END_GW | END_CLIENT);
	}
	if (policy_next_change(h->pe, h->scratch, npols, &s, &next_change) < 0)
		next_change = INT64_MAX;
	c->next_change = next_change;
}

/* ---- access requests ---------------------------------------------------- */

static struct hub_gateway *choose_gateway(struct hub *h, const struct hub_client *c,
					  int64_t site_id)
{
	struct hub_gateway *best = NULL;

	/* one this device already uses, so it keeps one tunnel */
	for (const struct hub_auth *a = c->auths; a; a = a->cnext)
		if (a->gw->hs && !a->gw->killed && a->gw->site_id == site_id)
			return a->gw;
	for (size_t i = 0; i < h->gateways.n; i++) {
		struct hub_gateway *g = h->gateways.v[i].p;

		if (g->hs && !g->killed && g->site_id == site_id &&
		    (!best || g->load < best->load))
			best = g;
	}
	return best;
}

void hub_access_request(struct hub *h, struct hub_client *c, const struct ctl_msg *m)
{
	struct hub_res *r = map_get(&h->res, (int64_t)m->resource_id);
	struct ctl_msg out = { .type = CTL_AUTHORIZE };
	struct policy_decision d;
	struct policy_subject s;
	struct hub_gateway *g;
	struct hub_auth *a;
	uint8_t psk[CTL_KEY_LEN];
	bool have_psk = false;
	size_t npols;

	/* before anything that costs: a flood is answered from memory and not
	 * logged row by row (the count says how many) */
	if (!tbucket_take(&c->requests, h->req_rate, h->req_burst, time_mono_ns())) {
		struct ctl_msg no = { .type = CTL_ACCESS_DENIED, .req = m->req,
				      .resource_id = m->resource_id, .reason = "rate_limited" };

		hub_send(h, c->hs, &no);
		h->stats.rate_limited++;
		log_rl(&h->rl_limited, LOG_LVL_WARN, "hub: client %lld: access requests over "
		       "%u/s (burst %u) denied as rate_limited (%llu so far)", (long long)c->id,
		       h->req_rate, h->req_burst, (unsigned long long)h->stats.rate_limited);
		return;
	}
	if (!r) {
		deny(h, c, m->req, m->resource_id, "unknown_resource", 0);
		return;
	}
	npols = hub_user_policies(h, c->user);
	hub_subject(h, c, &s);
	policy_decide(h->pe, h->scratch, npols, &s, m->resource_id, &d);
	if (!d.allowed) {
		deny(h, c, m->req, m->resource_id, policy_reason_str(d.reason), 0);
		return;
	}
	g = choose_gateway(h, c, r->site_id);
	if (!g) {
		deny(h, c, m->req, m->resource_id, "offline", 0);
		return;
	}
	/* one PSK per (device, gateway): the key of the gateway's peer for this
	 * device, which a second key would replace under the live ones. Taken
	 * before a request replaces its own resource's authorization, which may be
	 * the pair's only one. */
	for (a = c->auths; a; a = a->cnext)
		if (a->gw == g) {
			memcpy(psk, a->psk, sizeof(psk));
			have_psk = true;
			break;
		}
	/* one authorization per (device, resource): a new request replaces the old */
	for (a = c->auths; a; a = a->cnext)
		if (a->resource_id == r->id) {
			hub_auth_end(h, a, "revoked", "superseded", a->gw != g ? END_GW : 0);
			break;
		}
	a = calloc(1, sizeof(*a));
	if (!a) {
		sodium_memzero(psk, sizeof(psk));
		deny(h, c, m->req, m->resource_id, "internal", 0);
		return;
	}
	a->ref = h->next_ref++;
	a->client = c;
	a->gw = g;
	a->resource_id = r->id;
	a->expires_at = d.expires_at;
	a->req = m->req;
	a->deadline_ns = time_mono_ns() + (uint64_t)h->cfg.authorize_timeout_ms * NSEC_PER_MSEC;
	if (have_psk)
		memcpy(a->psk, psk, sizeof(a->psk));
	else
		rand_bytes(a->psk, sizeof(a->psk));
	sodium_memzero(psk, sizeof(psk));
	a->cnext = c->auths;
	c->auths = a;
	a->gnext = g->auths;
	g->auths = a;
	g->load++;
	out.ref = a->ref;
	out.client = c->cc;
	memcpy(out.psk, a->psk, sizeof(out.psk));
	out.resource = r->cr;
	out.expires_at = a->expires_at;
	hub_send(h, g->hs, &out);
	sodium_memzero(out.psk, sizeof(out.psk));
}

void hub_authorized(struct hub *h, struct hub_gateway *g, uint64_t ref)
{
	struct ctl_msg m = { .type = CTL_ACCESS_GRANTED };
	struct hub_auth *a;
	struct hub_client *c;

	for (a = g->auths; a; a = a->gnext)
		if (a->ref == ref)
			break;
	if (!a || a->live) {
		log_rl(&g->rl, LOG_LVL_WARN, "hub: gateway %lld confirmed ref %llu, which it "
		       "was not waiting for", (long long)g->id, (unsigned long long)ref);
		return;
	}
	c = a->client;
	if (!c->hs) {
		/* the device left meanwhile: nobody will use the key */
		a->live = true;
		hub_auth_end(h, a, "revoked", "client_offline", END_GW);
		return;
	}
	a->live = true;
	hub_auth_save(h, a);
	m.req = a->req;
	m.resource_id = (uint64_t)a->resource_id;
	m.gateway = g->cg;
	memcpy(m.psk, a->psk, sizeof(m.psk));
	m.expires_at = a->expires_at;
	hub_send(h, c->hs, &m);
	sodium_memzero(m.psk, sizeof(m.psk));
	h->stats.granted++;
	hub_flow(h, "granted", c, a->resource_id, g->id, NULL);
}
