/* sluice-client: its life, its one loop, and the portal's messages. See
 * client.h and docs/client.md. */
#include "client/client_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <sodium.h>

#include "client/hostnet.h"
#include "client/status.h"
#include "ctl/session.h"
#include "dns/pool.h"
#include "dns/stub.h"
#include "lib/daemon.h"
#include "lib/time.h"
#include "net/netlink.h"
#include "net/sysctl.h"
#include "wg/crypto.h"
#include "wg/device.h"
#include "wg/keyfile.h"
#include "wg/uapi.h"

/* epoll tags; anything else is a struct cl_gateway (its DNS socket) */
enum { EV_SIG = 1, EV_TICK, EV_WG, EV_CTL, EV_STUB, EV_RING, EV_STATUS, EV_LAST };

/* The tunnel ranges (docs/ARCHITECTURE.md, address plan): the gateways'
 * tunnel addresses live there, so the whole range goes into the TUN. */
static const struct net_prefix tunnel_ranges[2] = {
	{ AF_INET, { 100, 64 }, 11 },
	{ AF_INET6, { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 }, 107 },
};

int64_t cl_now_s(void)
{
	return (int64_t)(time_real_ns() / NSEC_PER_SEC);
}

uint64_t cl_now_ms(void)
{
	return time_mono_ns() / 1000000;
}

const char *cl_ip_text(const struct ctl_ip *ip, char *buf, size_t len)
{
	return inet_ntop(ip->family, ip->addr, buf, (socklen_t)len) ? buf : "?";
}

static int ep_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

static const uint8_t *sa_ip(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET
		? (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr
		: (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

/* ---- the tunnel addresses, once init gives them ---- */

static void tunnel_up(struct client *c, const struct ctl_ip *v4, const struct ctl_ip *v6)
{
	char b4[INET6_ADDRSTRLEN], b6[INET6_ADDRSTRLEN];
	int err;

	if (c->have_tunnel) {
		if (memcmp(v4, &c->tun4, sizeof(*v4)) || memcmp(v6, &c->tun6, sizeof(*v6)))
			log_warn("portal: new tunnel addresses %s %s; keeping %s %s until restart",
				 cl_ip_text(v4, b4, sizeof(b4)), cl_ip_text(v6, b6, sizeof(b6)),
				 cl_ip_text(&c->tun4, b4, sizeof(b4)),
				 cl_ip_text(&c->tun6, b6, sizeof(b6)));
		return;
	}
	/* host addresses: the ranges are routed into the TUN already */
	err = nl_addr_add(c->nl, c->ifindex, AF_INET, v4->addr, 32);
	if (err == 0 || err == -EEXIST)
		err = nl_addr_add(c->nl, c->ifindex, AF_INET6, v6->addr, 128);
	if (err < 0 && err != -EEXIST) {
		log_err("%s: tunnel addresses: %s", c->cfg.ifname, strerror(-err));
		return;
	}
	c->tun4 = *v4;
	c->tun6 = *v6;
	c->have_tunnel = true;
	log_info("tunnel %s %s up", cl_ip_text(v4, b4, sizeof(b4)), cl_ip_text(v6, b6, sizeof(b6)));
}

/* ---- the portal's messages ---- */

/* The admin's nameservers replace the host's behind the sentinels (none: the
 * host's again); queries in flight finish where they went. */
static void upstreams_set(struct client *c, const struct ctl_ip *ips, unsigned n)
{
	struct sockaddr_storage up[CTL_UPSTREAMS_MAX] = { 0 };
	int err;

	for (unsigned i = 0; i < n; i++) {
		memset(&up[i], 0, sizeof(up[i]));
		if (ips[i].family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&up[i];

			a->sin_family = AF_INET;
			a->sin_port = htons(53);
			memcpy(&a->sin_addr, ips[i].addr, 4);
		} else {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&up[i];

			a->sin6_family = AF_INET6;
			a->sin6_port = htons(53);
			memcpy(&a->sin6_addr, ips[i].addr, 16);
		}
	}
	if (n == c->n_admin_upstreams && memcmp(up, c->admin_upstreams, n * sizeof(up[0])) == 0)
		return;
	err = stub_upstreams_set(c->stub, up, n);
	if (err < 0) {
		log_rl(&c->rl, LOG_LVL_WARN, "portal: upstream nameservers not used: %s",
		       strerror(-err));
		return;
	}
	memcpy(c->admin_upstreams, up, n * sizeof(up[0]));
	c->n_admin_upstreams = n;
	if (n)
		log_info("DNS: %u nameservers set by the admin behind the sentinels", n);
	else
		log_info("DNS: the host's own nameservers behind the sentinels");
}

struct restored_ctx {
	uint64_t *ids;
	size_t n, cap;
};

static int note_resource(void *arg, const struct stub_proxy *p)
{
	struct restored_ctx *x = arg;

	if (x->n && x->ids[x->n - 1] == p->resource_id)
		return 0;
	for (size_t i = 0; i < x->n; i++)
		if (x->ids[i] == p->resource_id)
			return 0;
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 16;
		uint64_t *v = realloc(x->ids, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		x->ids = v;
		x->cap = cap;
	}
	x->ids[x->n++] = p->resource_id;
	return 0;
}

static bool listed(const struct ctl_msg *m, uint64_t id)
{
	for (size_t i = 0; i < m->n_resources; i++)
		if (m->resources[i].id == id)
			return true;
	return false;
}

static void on_init(struct client *c, const struct ctl_msg *m)
{
	struct restored_ctx x = { 0 };

	tunnel_up(c, &m->tunnel_ipv4, &m->tunnel_ipv6);
	upstreams_set(c, m->upstreams, m->n_upstreams);
	c->user_id = m->user.id;
	snprintf(c->user_name, sizeof(c->user_name), "%s", m->user.name);
	c->device_id = m->device.id;
	snprintf(c->device_name, sizeof(c->device_name), "%s", m->device.name);
	/* what is no longer listed went while we were apart */
	for (size_t i = c->n_res; i-- > 0;)
		if (!listed(m, c->res[i]->r.id))
			cl_res_remove(c, c->res[i]->r.id);
	for (size_t i = 0; i < m->n_resources; i++)
		cl_res_put(c, &m->resources[i]);
	/* Bindings of an earlier run: those of a resource gone are freed; the
	 * others get their access back now, so an application that kept its
	 * proxy IP (a connection open across our restart) goes on. */
	stub_proxy_walk(c->stub, note_resource, &x);
	for (size_t i = 0; i < x.n; i++) {
		struct cl_resource *res = cl_res_find(c, x.ids[i]);

		if (!res)
			stub_resource_remove(c->stub, x.ids[i]);
		else if (res->state != CL_GRANTED)
			cl_access_want(c, res);
	}
	free(x.ids);
	if (c->have_init)
		cl_access_resync(c);
	c->have_init = true;
	log_info("portal: init with %zu resources", m->n_resources);
}

static void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	struct client *c = arg;
	struct cl_resource *res;

	(void)s;
	switch (m->type) {
	case CTL_INIT_CLIENT:
		on_init(c, m);
		break;
	case CTL_RESOURCE_UPSERT:
		cl_res_put(c, &m->resource);
		break;
	case CTL_RESOURCE_DELETE:
		cl_res_remove(c, m->resource_id);
		break;
	case CTL_DNS_SETTINGS:
		upstreams_set(c, m->upstreams, m->n_upstreams);
		break;
	case CTL_ACCESS_GRANTED:
		cl_access_granted(c, m);
		break;
	case CTL_ACCESS_DENIED:
		cl_access_denied(c, m);
		break;
	case CTL_ACCESS_REVOKED:
		if ((res = cl_res_find(c, m->resource_id)))
			cl_access_end(c, res, "revoked");
		break;
	case CTL_GATEWAY_OFFLINE:
		cl_gateway_lost(c, m->gateway_id, "offline at the portal");
		break;
	case CTL_ERROR:
		log_rl(&c->rl, LOG_LVL_WARN, "portal: error %s: %s", m->code, m->message);
		break;
	default:
		break;
	}
}

static void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct client *c = arg;

	switch (ev) {
	case CTL_EV_CONNECTED:
		c->connected = true;
		c->connected_since = cl_now_s();
		log_info("portal: connected");
		break;
	case CTL_EV_DISCONNECTED:
		if (c->connected)
			c->connected_since = cl_now_s();
		c->connected = false;
		cl_access_portal_down(c);
		if (ctl_session_close_code(s) == 4001)
			log_err("portal: this device or its token was revoked; sign in again");
		else
			log_rl(&c->rl, LOG_LVL_WARN, "portal: disconnected (%s); tunnels go on",
			       why ? why : "?");
		break;
	case CTL_EV_BAD_FRAME:
		log_rl(&c->rl, LOG_LVL_WARN, "portal: bad frame: %s", why ? why : "?");
		break;
	}
}

/* ---- WireGuard and the stub call back ---- */

static void on_wg_event(void *arg, const struct wg_event *ev)
{
	struct client *c = arg;
	struct cl_gateway *gw = ev->owner;

	if (!gw)
		return;
	if (ev->type == WG_EVENT_HANDSHAKE)
		log_debug("gateway %llu: handshake", (unsigned long long)gw->id);
	else if (ev->type == WG_EVENT_UNRESPONSIVE)
		cl_gateway_lost(c, gw->id, "no answer to WireGuard handshakes");
}

static void on_proxy(void *arg, enum stub_proxy_event ev, const struct stub_proxy *p)
{
	cl_access_proxy(arg, ev == STUB_PROXY_BOUND, p->family, p->addr, p->resource_id);
}

/* ---- life ---- */

static int open_session(struct client *c)
{
	char path[CTL_PREFIX_MAX + 16];
	struct ctl_session_config sc = {
		.host = c->cfg.portal.host,
		.port = c->cfg.portal.port,
		.path = path,
		.token = c->token,
		.public_key = c->pub_b64,
		.name = c->cfg.name[0] ? c->cfg.name : NULL,
		.role = CTL_ROLE_CLIENT,
		.on_message = on_message,
		.on_event = on_event,
		.arg = c,
	};
	int err;

	snprintf(path, sizeof(path), "%s/client/ws", c->cfg.portal.prefix);
	err = ctl_loop_new(c->cfg.ca_file, &c->loop);
	if (err == 0)
		err = ctl_session_open(c->loop, &sc, &c->sess);
	if (err == 0)
		err = ep_add(c->ep, ctl_loop_fd(c->loop), EV_CTL);
	return err;
}

static int open_device(struct client *c)
{
	struct wg_device_opts o = {
		.ifname = c->cfg.ifname,
		.uapi = WG_UAPI_RO, /* `wg show` works; only the daemon configures */
		.on_event = on_wg_event,
		.on_no_peer = cl_on_no_peer,
		.arg = c,
	};
	struct uapi_set set = { .flags = UAPI_SET_PRIVATE_KEY };
	char path[96];
	int err = wg_device_new(&o, &c->dev);

	if (err < 0) {
		log_err("%s: device: %s%s", c->cfg.ifname, strerror(-err),
			err == -EADDRINUSE ? " (another client runs?)" : "");
		return err;
	}
	memcpy(set.private_key, c->priv, sizeof(c->priv));
	err = wg_device_set(c->dev, &set);
	sodium_memzero(set.private_key, sizeof(set.private_key));
	if (err < 0)
		return err;
	if ((err = ep_add(c->ep, wg_device_fd(c->dev), EV_WG)) < 0)
		return err;
	if ((c->ifindex = nl_link_index(c->cfg.ifname)) < 0)
		return c->ifindex;
	/* The sentinels and the tunnel address are usable at once: no duplicate
	 * address detection on a point-to-point tunnel. */
	snprintf(path, sizeof(path), "net/ipv6/conf/%s/accept_dad", c->cfg.ifname);
	sysctl_write(path, "0");
	return nl_link_set_up(c->nl, c->ifindex, true);
}

/* The ranges into the TUN: tunnel and proxy. The sentinels are local
 * addresses (on lo), which the local table finds first. */
static int routes_up(struct client *c)
{
	const struct net_prefix *r[4] = { &tunnel_ranges[0], &tunnel_ranges[1], &c->cfg.proxy4,
					  &c->cfg.proxy6 };

	for (size_t i = 0; i < 4; i++) {
		int err;

		err = hostnet_route_add(c->nl, c->ifindex, r[i]->family, r[i]->addr, r[i]->len);
		if (err < 0 && err != -EEXIST) {
			log_err("%s: route: %s", c->cfg.ifname, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int check_overlap(struct client *c)
{
	static const char *const names[] = { "tunnel range", "tunnel range", "proxy range",
					     "proxy range", "sentinel range", "sentinel range" };
	struct net_prefix r[6] = { tunnel_ranges[0], tunnel_ranges[1], c->cfg.proxy4,
				   c->cfg.proxy6, c->cfg.sentinel4, c->cfg.sentinel6 };
	char err_msg[256];
	int err = hostnet_check(c->nl, r, names, 6, -1, err_msg, sizeof(err_msg));

	if (err == -EADDRINUSE)
		log_err("%s: not starting (change the range with its option, docs/client.md)",
			err_msg);
	else if (err < 0)
		log_err("reading the host's routes: %s", strerror(-err));
	return err;
}

/* Sentinel i of a family: the (i+1)th address of its range. */
static void sentinel_addr(const struct net_prefix *range, unsigned i, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (range->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)out;

		a->sin_family = AF_INET;
		a->sin_port = htons(53);
		memcpy(&a->sin_addr, range->addr, 4);
		((uint8_t *)&a->sin_addr)[3] = (uint8_t)(range->addr[3] + i + 1);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(53);
		memcpy(&a->sin6_addr, range->addr, 16);
		a->sin6_addr.s6_addr[15] = (uint8_t)(range->addr[15] + i + 1);
	}
}

/* Sentinel addresses a killed run left on lo (nothing removes them but us). */
static void sentinels_clear(struct client *c)
{
	for (unsigned i = 0; i < CL_MAX_SENTINELS; i++) {
		struct sockaddr_storage a4, a6;

		sentinel_addr(&c->cfg.sentinel4, i, &a4);
		sentinel_addr(&c->cfg.sentinel6, i, &a6);
		nl_addr_del(c->nl, c->lo_index, AF_INET, sa_ip(&a4), 32);
		nl_addr_del(c->nl, c->lo_index, AF_INET6, sa_ip(&a6), 128);
	}
}

/* The host's nameservers, each behind a sentinel of its own. The sentinels
 * live on lo, not on the TUN: there they would be candidates for the source
 * address of tunnel traffic (the IPv6 ones share the proxy range's prefix),
 * and the gateway takes the client's tunnel address only. */
static int dns_setup(struct client *c)
{
	unsigned n4 = 0, n6 = 0;
	int r;

	c->sent_pfx[0] = (struct hostdns_prefix){ .family = AF_INET, .bits = c->cfg.sentinel4.len };
	memcpy(&c->sent_pfx[0].ip4, c->cfg.sentinel4.addr, 4);
	c->sent_pfx[1] = (struct hostdns_prefix){ .family = AF_INET6, .bits = c->cfg.sentinel6.len };
	memcpy(&c->sent_pfx[1].ip6, c->cfg.sentinel6.addr, 16);
	c->dns_paths = (struct hostdns_paths){
		.resolv = c->cfg.resolv_conf[0] ? c->cfg.resolv_conf : NULL,
		.backup = c->cfg.dns_backup[0] ? c->cfg.dns_backup : NULL,
		.sentinels = c->sent_pfx,
		.n_sentinels = 2,
	};
	/* a backup left by a run that was killed goes back first */
	r = hostdns_recover(&c->dns_paths);
	if (r < 0)
		log_warn("restoring resolv.conf from an earlier run: %s", strerror(-r));
	else if (r == HOSTDNS_FOREIGN)
		log_warn("resolv.conf was rewritten since an earlier run; kept as it is");
	r = hostdns_read(&c->dns_paths, &c->host_conf);
	if (r < 0) {
		log_err("reading the host's nameservers: %s", strerror(-r));
		return r;
	}
	c->resolved = r == HOSTDNS_RESOLVED;
	c->n_sentinels = hostdns_upstreams(&c->host_conf, c->sent_pfx, 2, c->upstreams,
					   CL_MAX_SENTINELS);
	if (c->n_sentinels == 0) {
		log_err("resolv.conf names no nameserver but sentinels");
		return -ENOENT;
	}
	for (size_t i = 0; i < c->n_sentinels; i++) {
		int fam = c->upstreams[i].ss_family;

		sentinel_addr(fam == AF_INET ? &c->cfg.sentinel4 : &c->cfg.sentinel6,
			      fam == AF_INET ? n4++ : n6++, &c->sentinels[i]);
		r = nl_addr_add(c->nl, c->lo_index, fam, sa_ip(&c->sentinels[i]),
				fam == AF_INET ? 32 : 128);
		if (r < 0 && r != -EEXIST) {
			log_err("sentinel address: %s", strerror(-r));
			return r;
		}
	}
	return 0;
}

static int dns_point_host(struct client *c)
{
	int r;

	if (c->resolved)
		r = hostdns_resolved_apply(&c->dns_paths, c->cfg.ifname, c->sentinels,
					   c->n_sentinels);
	else
		r = hostdns_apply(&c->dns_paths, &c->host_conf, c->sentinels, c->n_sentinels);
	if (r < 0) {
		log_err("pointing the host's DNS at the sentinels: %s", strerror(-r));
		return r;
	}
	c->dns_applied = true;
	for (size_t i = 0; i < c->n_sentinels; i++) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

		inet_ntop(c->sentinels[i].ss_family, sa_ip(&c->sentinels[i]), a, sizeof(a));
		inet_ntop(c->upstreams[i].ss_family, sa_ip(&c->upstreams[i]), b, sizeof(b));
		log_info("sentinel %s -> nameserver %s%s", a, b,
			 c->resolved ? " (systemd-resolved)" : "");
	}
	return 0;
}

static int stub_setup(struct client *c)
{
	struct pool_prefix ex[2];
	struct pool_config pc = { .max_pending = 16384, .exclude = ex };
	struct stub_config sc = {
		.sentinels = c->sentinels,
		.upstreams = c->upstreams,
		.n = c->n_sentinels,
		.resolver = &c->resolver,
		.on_proxy = on_proxy,
		.proxy_arg = c,
	};
	int err;

	pc.v4 = (struct pool_prefix){ .family = AF_INET, .len = c->cfg.proxy4.len };
	memcpy(pc.v4.addr, c->cfg.proxy4.addr, 4);
	pc.v6 = (struct pool_prefix){ .family = AF_INET6, .len = c->cfg.proxy6.len };
	memcpy(pc.v6.addr, c->cfg.proxy6.addr, 16);
	if (prefix_inside(&c->cfg.sentinel4, &c->cfg.proxy4)) {
		ex[pc.n_exclude] = (struct pool_prefix){ .family = AF_INET, .len = c->cfg.sentinel4.len };
		memcpy(ex[pc.n_exclude++].addr, c->cfg.sentinel4.addr, 4);
	}
	if (prefix_inside(&c->cfg.sentinel6, &c->cfg.proxy6)) {
		ex[pc.n_exclude] = (struct pool_prefix){ .family = AF_INET6, .len = c->cfg.sentinel6.len };
		memcpy(ex[pc.n_exclude++].addr, c->cfg.sentinel6.addr, 16);
	}
	if ((err = pool_new(&c->pool, &pc)) < 0) {
		log_err("proxy IP pool: %s", strerror(-err));
		return err;
	}
	c->resolver = (struct stub_resolver){ .send = cl_dns_send, .cancel = cl_dns_cancel, .arg = c };
	sc.pool = c->pool;
	if ((err = stub_new(&sc, &c->stub)) < 0) {
		log_err("DNS stub on the sentinels: %s", strerror(-err));
		return err;
	}
	return ep_add(c->ep, stub_fd(c->stub), EV_STUB);
}

static void portal_address(struct client *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;

	/* before resolv.conf points at us: the host's own resolver */
	if (getaddrinfo(c->cfg.portal.host, NULL, &hints, &ai) == 0 && ai) {
		memcpy(&c->portal_addr, ai->ai_addr, ai->ai_addrlen);
		freeaddrinfo(ai);
	}
}

int client_new(const struct cl_config *cfg, const char *token, struct client **out)
{
	struct client *c = calloc(1, sizeof(*c));
	struct status_config stc;
	int err;

	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->ep = c->sig_fd = c->tick_fd = -1;
	c->ring.efd = -1;
	c->rl = c->rl_pkt = c->rl_dns = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	snprintf(c->token, sizeof(c->token), "%s", token);
	c->connected_since = cl_now_s();

	if ((err = keyfile_identity(cfg->state_dir, c->priv, c->pub, c->pub_b64)) < 0)
		goto fail;
	err = daemon_loop_open(&c->ep, &c->sig_fd, &c->tick_fd, EV_SIG, EV_TICK);
	if (err < 0)
		goto fail;
	if ((err = cl_ring_init(&c->ring)) < 0 || (err = ep_add(c->ep, c->ring.efd, EV_RING)) < 0)
		goto fail;
	if ((err = nl_open(&c->nl)) < 0)
		goto fail;
	/* A killed run's pins and routes go first (its TUN went with it). */
	err = hostnet_repair(c->nl);
	if (err > 0)
		log_info("removed %d routes an earlier run left", err);
	if ((c->lo_index = nl_link_index("lo")) < 0) {
		err = c->lo_index;
		goto fail;
	}
	sentinels_clear(c);
	if ((err = check_overlap(c)) < 0)
		goto fail;
	portal_address(c);
	if ((err = open_device(c)) < 0 || (err = routes_up(c)) < 0)
		goto fail;
	if ((err = dns_setup(c)) < 0 || (err = stub_setup(c)) < 0)
		goto fail;
	cl_state_restore(c);
	if ((err = dns_point_host(c)) < 0)
		goto fail;
	stc = (struct status_config){ .path = cfg->status_socket, .snapshot = cl_status_snapshot,
				      .arg = c };
	if ((err = status_open(&stc, &c->status)) < 0) {
		log_err("status socket %s: %s", cfg->status_socket, strerror(-err));
		goto fail;
	}
	if ((err = ep_add(c->ep, status_fd(c->status), EV_STATUS)) < 0)
		goto fail;
	if ((err = open_session(c)) < 0) {
		log_err("portal session: %s", strerror(-err));
		goto fail;
	}
	log_info("client up: %s, portal %s:%u, status %s", cfg->ifname, cfg->portal.host,
		 cfg->portal.port, cfg->status_socket);
	*out = c;
	return 0;
fail:
	if (err < 0 && err != -ENOMEM)
		log_err("client: start failed: %s", strerror(-err));
	client_free(c);
	return err;
}

static void on_tick(struct client *c)
{
	uint64_t v;

	if (read(c->tick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_rl(&c->rl, LOG_LVL_ERR, "timerfd: %s", strerror(errno));
	cl_access_tick(c);
}

int client_run(struct client *c)
{
	struct epoll_event ev[32];

	while (!c->stopping) {
		int tc = ctl_loop_timeout_ms(c->loop), n;
		uint64_t start = cl_now_ms(), now;
		bool ctl = false, stub = false;

		n = epoll_wait(c->ep, ev, 32, tc);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct signalfd_siginfo si;

			switch (ev[i].data.u64) {
			case EV_SIG:
				if (read(c->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					log_info("signal %u: shutting down", si.ssi_signo);
				c->stopping = true;
				break;
			case EV_TICK:
				on_tick(c);
				break;
			case EV_WG:
				wg_device_dispatch(c->dev);
				break;
			case EV_CTL:
				ctl = true;
				break;
			case EV_STUB:
				stub = true;
				break;
			case EV_RING:
				cl_ring_drain(c);
				break;
			case EV_STATUS:
				status_dispatch(c->status);
				break;
			default:
				cl_dns_readable(c, ev[i].data.ptr);
				break;
			}
		}
		now = cl_now_ms();
		if (ctl || now >= start + (uint64_t)tc)
			ctl_loop_dispatch(c->loop);
		if (stub)
			stub_dispatch(c->stub);
		cl_dns_deferred(c);
		cl_state_save(c, false);
	}
	return 0;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	if (c->stub)
		cl_state_save(c, true);
	status_close(c->status);
	if (c->sess)
		ctl_session_close(c->sess);
	ctl_loop_free(c->loop);
	/* the host asks its own nameservers again before the stub goes */
	if (c->dns_applied) {
		int r = c->resolved ? hostdns_resolved_revert(&c->dns_paths, c->cfg.ifname)
				    : hostdns_revert(&c->dns_paths);

		if (r < 0)
			log_err("restoring the host's DNS: %s", strerror(-r));
	}
	for (size_t i = 0; i < c->n_res; i++) {
		cl_pkts_refuse(c, c->res[i]);
		free(c->res[i]);
	}
	free(c->res);
	cl_gateways_free(c);
	cl_dns_free(c);
	stub_free(c->stub);
	pool_free(c->pool);
	wg_device_free(c->dev); /* the TUN, its addresses and routes */
	if (c->nl) {
		for (size_t i = 0; i < c->n_sentinels; i++)
			nl_addr_del(c->nl, c->lo_index, c->sentinels[i].ss_family,
				    sa_ip(&c->sentinels[i]),
				    c->sentinels[i].ss_family == AF_INET ? 32 : 128);
		hostnet_repair(c->nl); /* pins */
		nl_close(c->nl);
	}
	cl_ring_free(&c->ring);
	if (c->tick_fd >= 0)
		close(c->tick_fd);
	if (c->sig_fd >= 0)
		close(c->sig_fd);
	if (c->ep >= 0)
		close(c->ep);
	sodium_memzero(c, sizeof(*c));
	free(c);
}
