/* Resources, authorizations and gateway peers: what the client may reach, what
 * it holds, and the WireGuard peer of each gateway it holds something on.
 *
 * A resource asks the portal for access when a query or a packet needs it
 * (one access_request however many wait), and on access_granted becomes an
 * allowed IP of its gateway's peer: its prefix (ip, cidr), or the proxy IPs
 * bound to its names (dns). The peer exists while it carries a resource. */
#include "client/client_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <sodium.h>

#include "client/hostnet.h"
#include "ctl/session.h"
#include "dns/msg.h"
#include "dns/stub.h"
#include "net/prefix.h"
#include "wg/device.h"
#include "wg/uapi.h"

/* ---- resources, sorted by id ---- */

static size_t res_index(const struct client *c, uint64_t id, bool *found)
{
	size_t lo = 0, hi = c->n_res;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->res[mid]->r.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < c->n_res && c->res[lo]->r.id == id;
	return lo;
}

struct cl_resource *cl_res_find(struct client *c, uint64_t id)
{
	bool found;
	size_t i = res_index(c, id, &found);

	return found ? c->res[i] : NULL;
}

static const char *res_text(const struct cl_resource *res)
{
	return res->r.name[0] ? res->r.name : res->r.address;
}

/* ---- allowed IPs ---- */

struct aip_list {
	struct uapi_allowed_ip *v;
	size_t n, cap;
};

static int aip_push(struct aip_list *l, int family, const uint8_t *addr, unsigned cidr,
		    bool remove)
{
	struct uapi_allowed_ip *a;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct uapi_allowed_ip *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	a = &l->v[l->n++];
	memset(a, 0, sizeof(*a));
	a->family = (sa_family_t)family;
	a->cidr = (uint8_t)cidr;
	a->remove = remove;
	memcpy(family == AF_INET ? (void *)&a->ip4 : (void *)&a->ip6, addr,
	       family == AF_INET ? 4 : 16);
	return 0;
}

struct walk_ctx {
	struct aip_list *l;
	uint64_t id;
	bool remove;
	int err;
};

static int collect_proxy(void *arg, const struct stub_proxy *p)
{
	struct walk_ctx *w = arg;

	if (p->resource_id == w->id)
		w->err = aip_push(w->l, p->family, p->addr, p->family == AF_INET ? 32 : 128,
				  w->remove);
	return w->err;
}

/* What the resource adds to its gateway's allowed IPs. */
static int res_aips(struct client *c, struct cl_resource *res, bool remove, struct aip_list *l)
{
	struct walk_ctx w = { .l = l, .id = res->r.id, .remove = remove };

	if (res->r.type != CTL_RES_DNS)
		return aip_push(l, res->r.ip.family, res->r.ip.addr, res->r.prefix, remove);
	stub_proxy_walk(c->stub, collect_proxy, &w);
	return w.err;
}

/* One section for gw: create (full: key, PSK, endpoint, its tunnel addresses
 * replacing whatever it had) or add/remove the entries of l. */
static int peer_apply(struct client *c, struct cl_gateway *gw, bool full, struct aip_list *l)
{
	struct uapi_set_peer sp = { .allowed_ips = l ? l->v : NULL, .n_allowed_ips = l ? l->n : 0 };
	struct uapi_set set = { .peers = &sp, .n_peers = 1 };
	int err;

	memcpy(sp.public_key, gw->pub, sizeof(sp.public_key));
	if (full) {
		sp.flags = UAPI_PEER_PRESHARED_KEY | UAPI_PEER_ENDPOINT |
			   UAPI_PEER_REPLACE_ALLOWED_IPS;
		memcpy(sp.preshared_key, gw->psk, sizeof(sp.preshared_key));
		memcpy(&sp.endpoint, &gw->endpoint,
		       gw->endpoint.ss_family == AF_INET ? sizeof(struct sockaddr_in)
							 : sizeof(struct sockaddr_in6));
	} else {
		sp.flags = UAPI_PEER_UPDATE_ONLY;
	}
	err = wg_device_set(c->dev, &set);
	sodium_memzero(sp.preshared_key, sizeof(sp.preshared_key));
	if (err < 0)
		log_rl(&c->rl, LOG_LVL_ERR, "gateway %llu: peer: %s", (unsigned long long)gw->id,
		       strerror(-err));
	return err;
}

static int peer_create(struct client *c, struct cl_gateway *gw)
{
	struct aip_list l = { 0 };
	int err = aip_push(&l, AF_INET, gw->tun4.addr, 32, false);

	if (err == 0 && gw->tun6.family == AF_INET6)
		err = aip_push(&l, AF_INET6, gw->tun6.addr, 128, false);
	if (err == 0)
		err = peer_apply(c, gw, true, &l);
	free(l.v);
	if (err == 0) {
		gw->peer = true;
		wg_device_peer_set_owner(c->dev, gw->pub, gw);
	}
	return err;
}

static void peer_remove(struct client *c, struct cl_gateway *gw)
{
	struct uapi_set_peer sp = { .flags = UAPI_PEER_REMOVE };
	struct uapi_set set = { .peers = &sp, .n_peers = 1 };

	if (!gw->peer)
		return;
	memcpy(sp.public_key, gw->pub, sizeof(sp.public_key));
	wg_device_set(c->dev, &set);
	gw->peer = false;
}

static int res_peer_update(struct client *c, struct cl_resource *res, bool remove)
{
	struct aip_list l = { 0 };
	int err;

	if (!res->gw || !res->gw->peer)
		return 0;
	err = res_aips(c, res, remove, &l);
	if (err == 0 && l.n)
		err = peer_apply(c, res->gw, false, &l);
	free(l.v);
	return err;
}

void cl_access_proxy(struct client *c, bool bound, int family, const uint8_t *addr,
		     uint64_t resource_id)
{
	struct cl_resource *res = cl_res_find(c, resource_id);
	struct aip_list l = { 0 };

	c->state_dirty = true;
	if (!res || res->state != CL_GRANTED || !res->gw || !res->gw->peer)
		return;
	/* before the asker gets the answer: the first packet must find the peer */
	if (aip_push(&l, family, addr, family == AF_INET ? 32 : 128, !bound) == 0)
		peer_apply(c, res->gw, false, &l);
	free(l.v);
}

/* ---- pins: the portal and the gateways are never routed into the tunnel ---- */

static bool res_covers(const struct cl_resource *res, int family, const uint8_t *a)
{
	struct net_prefix p = prefix_make(res->r.ip.family, res->r.ip.addr, res->r.prefix);

	return (res->routed || res->want_route) && prefix_contains(&p, family, a);
}

static bool covered(struct client *c, const struct sockaddr_storage *ss)
{
	int family = ss->ss_family;
	const uint8_t *a = family == AF_INET
		? (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr
		: (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	for (size_t i = 0; i < c->n_res; i++)
		if (res_covers(c->res[i], family, a))
			return true;
	return false;
}

static const uint8_t *ss_addr(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET
		? (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr
		: (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static void pin_one(struct client *c, const struct sockaddr_storage *ss, bool *pinned,
		    const char *what)
{
	bool want = ss->ss_family != AF_UNSPEC && covered(c, ss);
	int err;

	if (want == *pinned)
		return;
	err = want ? hostnet_pin(c->nl, ss->ss_family, ss_addr(ss))
		   : hostnet_unpin(c->nl, ss->ss_family, ss_addr(ss));
	if (err < 0 && want) {
		log_rl(&c->rl, LOG_LVL_ERR, "%s: keeping it out of the tunnel: %s", what,
		       strerror(-err));
		return;
	}
	*pinned = want;
}

static void pins_update(struct client *c)
{
	pin_one(c, &c->portal_addr, &c->portal_pinned, "portal");
	for (struct cl_gateway *gw = c->gws; gw; gw = gw->next)
		pin_one(c, &gw->endpoint, &gw->pinned, gw->endpoint_text);
}

/* ---- gateways ---- */

struct cl_gateway *cl_gateway_find(struct client *c, uint64_t id)
{
	for (struct cl_gateway *gw = c->gws; gw; gw = gw->next)
		if (gw->id == id)
			return gw;
	return NULL;
}

static void gateway_free(struct client *c, struct cl_gateway *gw)
{
	struct cl_gateway **pp;

	for (pp = &c->gws; *pp && *pp != gw; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = gw->next;
	cl_dns_gateway_gone(c, gw);
	peer_remove(c, gw);
	if (gw->pinned)
		hostnet_unpin(c->nl, gw->endpoint.ss_family, ss_addr(&gw->endpoint));
	if (gw->dns_fd >= 0) {
		epoll_ctl(c->ep, EPOLL_CTL_DEL, gw->dns_fd, NULL);
		close(gw->dns_fd);
	}
	sodium_memzero(gw, sizeof(*gw));
	free(gw);
}

void cl_gateways_free(struct client *c)
{
	while (c->gws)
		gateway_free(c, c->gws);
}

static int endpoint_parse(const struct ctl_gateway *g, struct sockaddr_storage *out,
			  char *text, size_t len)
{
	for (unsigned i = 0; i < g->n_endpoints; i++) {
		const struct ctl_endpoint *e = &g->endpoints[i];
		struct sockaddr_in *a4 = (struct sockaddr_in *)out;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;

		memset(out, 0, sizeof(*out));
		if (inet_pton(AF_INET, e->host, &a4->sin_addr) == 1) {
			a4->sin_family = AF_INET;
			a4->sin_port = htons(e->port);
			snprintf(text, len, "%s:%u", e->host, e->port);
			return 0;
		}
		if (inet_pton(AF_INET6, e->host, &a6->sin6_addr) == 1) {
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons(e->port);
			snprintf(text, len, "[%s]:%u", e->host, e->port);
			return 0;
		}
	}
	/* Names would need a lookup, which must not block the loop; the portal
	 * stores what the gateway says, an address in practice. */
	return -EADDRNOTAVAIL;
}

static int dns_socket(struct client *c, struct cl_gateway *gw)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(CL_DNS_PORT) };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = gw };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memcpy(&a.sin_addr, gw->tun4.addr, 4);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	gw->dns_fd = fd;
	return 0;
}

/* The granted gateway: known, or new. A known id with another key (it was
 * replaced) starts over as a new peer. */
static struct cl_gateway *gateway_get(struct client *c, const struct ctl_msg *m)
{
	struct cl_gateway *gw = cl_gateway_find(c, m->gateway.id);
	struct sockaddr_storage ep;
	char text[sizeof(gw->endpoint_text)];
	int err;

	if (endpoint_parse(&m->gateway, &ep, text, sizeof(text)) < 0) {
		log_rl(&c->rl, LOG_LVL_WARN, "gateway %llu: no usable endpoint (%s)",
		       (unsigned long long)m->gateway.id,
		       m->gateway.n_endpoints ? m->gateway.endpoints[0].host : "none");
		return NULL;
	}
	if (gw && (memcmp(gw->pub, m->gateway.public_key, CTL_KEY_LEN) != 0 ||
		   memcmp(&gw->tun4, &m->gateway.tunnel_ipv4, sizeof(gw->tun4)) != 0)) {
		for (size_t i = 0; i < c->n_res; i++)
			if (c->res[i]->gw == gw)
				cl_access_end(c, c->res[i], "gateway replaced");
		gw = cl_gateway_find(c, m->gateway.id); /* gone with its last resource */
		if (gw)
			gateway_free(c, gw);
		gw = NULL;
	}
	if (!gw) {
		gw = calloc(1, sizeof(*gw));
		if (!gw)
			return NULL;
		gw->id = m->gateway.id;
		gw->dns_fd = -1;
		memcpy(gw->pub, m->gateway.public_key, CTL_KEY_LEN);
		gw->tun4 = m->gateway.tunnel_ipv4;
		gw->tun6 = m->gateway.tunnel_ipv6;
		gw->endpoint = ep;
		snprintf(gw->endpoint_text, sizeof(gw->endpoint_text), "%s", text);
		memcpy(gw->psk, m->psk, CTL_KEY_LEN);
		if ((err = dns_socket(c, gw)) < 0) {
			log_rl(&c->rl, LOG_LVL_ERR, "gateway %llu: DNS socket: %s",
			       (unsigned long long)gw->id, strerror(-err));
			free(gw);
			return NULL;
		}
		gw->next = c->gws;
		c->gws = gw;
		pins_update(c);
	}
	/* a new endpoint (the gateway moved) or PSK (a new pairing) */
	if (gw->peer && (memcmp(gw->psk, m->psk, CTL_KEY_LEN) != 0 ||
			 memcmp(&gw->endpoint, &ep, sizeof(ep)) != 0)) {
		memcpy(gw->psk, m->psk, CTL_KEY_LEN);
		gw->endpoint = ep;
		snprintf(gw->endpoint_text, sizeof(gw->endpoint_text), "%s", text);
		pins_update(c);
		/* the peer again with the new fields, and what it carried */
		if (peer_create(c, gw) < 0)
			return NULL;
		for (size_t i = 0; i < c->n_res; i++)
			if (c->res[i]->gw == gw)
				res_peer_update(c, c->res[i], false);
	}
	if (!gw->peer && peer_create(c, gw) < 0)
		return NULL;
	return gw;
}

/* The resource leaves its gateway; a gateway left with nothing goes. */
static void res_detach(struct client *c, struct cl_resource *res)
{
	struct cl_gateway *gw = res->gw;

	if (!gw)
		return;
	res_peer_update(c, res, true);
	cl_dns_requeue(c, gw, res->r.id);
	res->gw = NULL;
	if (--gw->n_res == 0)
		gateway_free(c, gw);
	c->state_dirty = true;
}

/* ---- access ---- */

static int request_send(struct client *c, struct cl_resource *res)
{
	struct ctl_msg m = { .type = CTL_ACCESS_REQUEST, .resource_id = res->r.id };
	int err;

	if (!c->sess || !c->connected)
		return -ENOTCONN;
	m.req = ++c->next_req;
	if ((err = ctl_session_send(c->sess, &m)) < 0)
		return err;
	res->req = m.req;
	res->req_at = cl_now_s();
	return 0;
}

enum cl_res_state cl_access_want(struct client *c, struct cl_resource *res)
{
	int err;

	switch (res->state) {
	case CL_GRANTED:
	case CL_REQUESTING:
		return res->state;
	case CL_DENIED:
		if (cl_now_ms() < res->denied_until_ms)
			return CL_DENIED;
		break;
	case CL_IDLE:
		break;
	}
	err = request_send(c, res);
	if (err < 0) {
		log_rl(&c->rl, LOG_LVL_WARN, "resource %s: access not asked: %s", res_text(res),
		       err == -ENOTCONN ? "the portal is not connected" : strerror(-err));
		res->state = CL_IDLE;
		return CL_IDLE;
	}
	res->state = CL_REQUESTING;
	log_debug("resource %s: access requested (req %llu)", res_text(res),
		  (unsigned long long)res->req);
	return CL_REQUESTING;
}

void cl_access_granted(struct client *c, const struct ctl_msg *m)
{
	struct cl_resource *res = cl_res_find(c, m->resource_id);
	struct cl_gateway *gw;
	bool renewal;

	if (!res || m->req != res->req || (res->state != CL_REQUESTING && !res->renewing))
		return; /* stale: superseded, or the resource went meanwhile */
	gw = gateway_get(c, m);
	if (!gw) {
		res->renewing = false;
		if (res->state == CL_REQUESTING) {
			res->state = CL_IDLE;
			cl_dns_fail(c, res->r.id, DNS_RCODE_SERVFAIL);
			cl_pkts_refuse(c, res);
		}
		return;
	}
	renewal = res->state == CL_GRANTED && res->gw == gw;
	if (res->gw && res->gw != gw)
		res_detach(c, res);
	res->expires_at = m->expires_at;
	res->renewing = false;
	if (renewal) {
		log_debug("resource %s: renewed until %lld", res_text(res),
			  (long long)m->expires_at);
		return;
	}
	res->gw = gw;
	gw->n_res++;
	res->state = CL_GRANTED;
	res_peer_update(c, res, false);
	c->state_dirty = true;
	log_info("resource %s: granted on gateway %llu (%s) until %lld", res_text(res),
		 (unsigned long long)gw->id, gw->endpoint_text, (long long)m->expires_at);
	cl_dns_flush(c, res);
	cl_pkts_send(c, res);
	/* The gateway binds the names' proxy IPs again (a new gateway, or one
	 * that dropped them with an earlier authorization), so applications
	 * that kept them go on. */
	if (res->r.type == CTL_RES_DNS)
		stub_resource_refresh(c->stub, res->r.id);
}

void cl_access_denied(struct client *c, const struct ctl_msg *m)
{
	struct cl_resource *res = cl_res_find(c, m->resource_id);

	if (!res || m->req != res->req)
		return;
	if (res->renewing) {
		res->renewing = false;
		cl_access_end(c, res, m->reason);
	}
	res->state = CL_DENIED;
	res->denied_until_ms = cl_now_ms() + CL_DENY_HOLD_MS;
	snprintf(res->denied_reason, sizeof(res->denied_reason), "%s", m->reason);
	log_info("resource %s: access denied (%s)", res_text(res), m->reason);
	cl_dns_fail(c, res->r.id, DNS_RCODE_REFUSED);
	cl_pkts_refuse(c, res);
}

void cl_access_end(struct client *c, struct cl_resource *res, const char *why)
{
	if (res->state != CL_GRANTED)
		return;
	res_detach(c, res);
	res->state = CL_IDLE;
	res->renewing = false;
	res->expires_at = 0;
	cl_dns_fail(c, res->r.id, DNS_RCODE_SERVFAIL);
	stub_resource_flush(c->stub, res->r.id);
	log_info("resource %s: access ended (%s)", res_text(res), why);
}

void cl_gateway_lost(struct client *c, uint64_t gateway_id, const char *why)
{
	struct cl_gateway *gw = cl_gateway_find(c, gateway_id);

	if (!gw)
		return;
	log_warn("gateway %llu (%s): %s; asking again for its resources",
		 (unsigned long long)gateway_id, gw->endpoint_text, why);
	/* Its queries in flight wait for the next grant instead of timing out. */
	cl_dns_gateway_gone(c, gw);
	for (size_t i = 0; i < c->n_res; i++) {
		struct cl_resource *res = c->res[i];

		if (res->gw != gw)
			continue;
		res_detach(c, res); /* gw may be freed by the last one */
		res->state = CL_IDLE;
		res->renewing = false;
		cl_access_want(c, res);
	}
}

void cl_access_tick(struct client *c)
{
	int64_t now = cl_now_s();

	for (size_t i = 0; i < c->n_res; i++) {
		struct cl_resource *res = c->res[i];

		if (res->state == CL_GRANTED) {
			if (res->expires_at <= now) {
				cl_access_end(c, res, "expired");
				continue;
			}
			if (res->renewing && now - res->req_at > CL_REQUEST_TIMEOUT_S)
				res->renewing = false;
			if (!res->renewing && res->expires_at - now <= CL_RENEW_S &&
			    request_send(c, res) == 0)
				res->renewing = true;
		} else if (res->state == CL_REQUESTING && now - res->req_at > CL_REQUEST_TIMEOUT_S) {
			log_rl(&c->rl, LOG_LVL_WARN, "resource %s: the portal did not answer",
			       res_text(res));
			res->state = CL_IDLE;
			cl_dns_fail(c, res->r.id, DNS_RCODE_SERVFAIL);
			cl_pkts_refuse(c, res);
		}
	}
}

void cl_access_resync(struct client *c)
{
	/* The portal may have ended some while we were apart (a restart decides
	 * every stored authorization again, and tells nobody who is away): ask
	 * again for what we hold. A live one comes back as a renewal, same
	 * gateway and PSK; an ended one as a denial, or a grant elsewhere. */
	for (size_t i = 0; i < c->n_res; i++) {
		struct cl_resource *res = c->res[i];

		if (res->state == CL_GRANTED && !res->renewing && request_send(c, res) == 0)
			res->renewing = true;
	}
}

void cl_access_portal_down(struct client *c)
{
	for (size_t i = 0; i < c->n_res; i++) {
		struct cl_resource *res = c->res[i];

		res->renewing = false;
		if (res->state != CL_REQUESTING)
			continue;
		res->state = CL_IDLE;
		cl_dns_fail(c, res->r.id, DNS_RCODE_SERVFAIL);
		cl_pkts_refuse(c, res);
	}
}

/* ---- the resource list ---- */

static int route(struct client *c, struct cl_resource *res, bool add)
{
	int err;

	if (res->r.type == CTL_RES_DNS || res->routed == add)
		return 0;
	err = add ? hostnet_route_add(c->nl, c->ifindex, res->r.ip.family, res->r.ip.addr,
				      res->r.prefix)
		  : hostnet_route_del(c->nl, c->ifindex, res->r.ip.family, res->r.ip.addr,
				      res->r.prefix);
	if (err < 0 && err != (add ? -EEXIST : -ESRCH)) {
		log_rl(&c->rl, LOG_LVL_ERR, "resource %s: route %s: %s", res_text(res),
		       add ? "add" : "delete", strerror(-err));
		return err;
	}
	res->routed = add;
	return 0;
}

void cl_res_put(struct client *c, const struct ctl_resource *r)
{
	bool found;
	size_t i = res_index(c, r->id, &found);
	struct cl_resource *res;
	char err[256];

	if (found) {
		res = c->res[i];
		if (res->r.type != r->type || strcmp(res->r.address, r->address) != 0) {
			/* another address: what was granted and routed was for the old one */
			cl_access_end(c, res, "resource changed");
			route(c, res, false);
			res->want_route = false;
			if (res->r.type == CTL_RES_DNS && r->type != CTL_RES_DNS)
				stub_resource_remove(c->stub, r->id);
		}
	} else {
		if (c->n_res == c->cap_res) {
			size_t cap = c->cap_res ? 2 * c->cap_res : 16;
			struct cl_resource **v = realloc(c->res, cap * sizeof(*v));

			if (!v)
				return;
			c->res = v;
			c->cap_res = cap;
		}
		res = calloc(1, sizeof(*res));
		if (!res)
			return;
		memmove(&c->res[i + 1], &c->res[i], (c->n_res - i) * sizeof(*c->res));
		c->res[i] = res;
		c->n_res++;
	}
	res->r = *r;
	if (r->type == CTL_RES_DNS) {
		if (stub_resource_set(c->stub, r->id, r->address, err, sizeof(err)) < 0)
			log_rl(&c->rl, LOG_LVL_WARN, "resource %llu (%s): %s",
			       (unsigned long long)r->id, r->address, err);
	} else {
		/* pinned before the route that would catch them (hostnet_pin
		 * refuses an address the client already routes) */
		res->want_route = true;
		pins_update(c);
		route(c, res, true);
	}
}

void cl_res_remove(struct client *c, uint64_t id)
{
	bool found;
	size_t i = res_index(c, id, &found);
	struct cl_resource *res;

	if (!found)
		return;
	res = c->res[i];
	cl_access_end(c, res, "no longer reachable");
	cl_dns_fail(c, id, DNS_RCODE_REFUSED);
	cl_pkts_refuse(c, res);
	route(c, res, false);
	res->want_route = false;
	/* its proxy IPs go back to the pool, its cached answers with them */
	stub_resource_remove(c->stub, id);
	memmove(&c->res[i], &c->res[i + 1], (c->n_res - i - 1) * sizeof(*c->res));
	c->n_res--;
	free(res);
	pins_update(c);
	c->state_dirty = true;
}
