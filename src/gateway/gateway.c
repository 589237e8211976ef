/* sluice-gateway: its life, its one loop, and the portal's messages. See
 * gateway.h. */
#include "gateway/gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl/session.h"
#include "gateway/conntrack.h"
#include "gateway/dnsep.h"
#include "gateway/gateway_priv.h"
#include "wg/keyfile.h"
#include "gateway/resolver.h"
#include "net/sysctl.h"
#include "lib/daemon.h"
#include "lib/time.h"
#include "net/netlink.h"
#include "wg/crypto.h"
#include "wg/device.h"
#include "wg/uapi.h"

enum { EV_SIG = 1, EV_TICK, EV_WG, EV_CTL, EV_RES, EV_DNS, EV_CT };

#define GW_TABLE "sluice_gw"

/* The client tunnel ranges (docs/ARCHITECTURE.md, address plan): routed into
 * the TUN and masqueraded when they leave by any other interface. */
static const struct net_prefix client_ranges[] = {
	{ AF_INET, { 100, 64 }, 11 },
	{ AF_INET6, { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 }, 107 },
};

/* The proxy ranges: a packet to a proxy IP the DNAT map does not translate
 * (unbound, or bound for another client) meets a prohibit route, so its
 * sender gets administratively prohibited like any other refused packet, not
 * "net unreachable" (or a default route's guess). */
static const struct net_prefix proxy_ranges[] = {
	{ AF_INET, { 100, 96 }, 11 },
	{ AF_INET6, { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, 0x80, 0x00 }, 107 },
};

static int64_t now_s(void)
{
	return (int64_t)(time_real_ns() / NSEC_PER_SEC);
}

static const char *ip_text(const struct ctl_ip *ip, char *buf, size_t len)
{
	return inet_ntop(ip->family, ip->addr, buf, (socklen_t)len) ? buf : "?";
}

static int ep_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

/* ---- the tunnel addresses, once init gives them ---- */

static int dns_start(struct gateway *g)
{
	struct sockaddr_storage a[2] = { 0 };
	struct sockaddr_in *a4 = (struct sockaddr_in *)&a[0];
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a[1];
	struct dnsep_config dc = { .addrs = a, .n_addrs = 2, .resolver = g->res };
	int err;

	a4->sin_family = AF_INET;
	a4->sin_port = htons(GW_DNS_PORT);
	memcpy(&a4->sin_addr, g->tun4.addr, 4);
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(GW_DNS_PORT);
	memcpy(&a6->sin6_addr, g->tun6.addr, 16);
	err = dnsep_new(&dc, &gw_dnsep_ops, g, &g->dns);
	if (err == 0)
		err = ep_add(g->ep, dnsep_fd(g->dns), EV_DNS);
	return err;
}

/* The gateway's addresses on its TUN, with the client ranges' prefixes: the
 * kernel's prefix routes then send the clients' traffic into the tunnel. */
static int tunnel_up(struct gateway *g, const struct ctl_ip *v4, const struct ctl_ip *v6)
{
	char path[96], b4[INET6_ADDRSTRLEN], b6[INET6_ADDRSTRLEN];
	struct net_prefix gw_addrs[2];
	struct nat_config nc;
	int err;

	if (g->have_tunnel) {
		if (memcmp(v4, &g->tun4, sizeof(*v4)) || memcmp(v6, &g->tun6, sizeof(*v6)))
			log_warn("portal: new tunnel addresses %s %s; keeping %s %s until restart",
				 ip_text(v4, b4, sizeof(b4)), ip_text(v6, b6, sizeof(b6)),
				 ip_text(&g->tun4, b4, sizeof(b4)), ip_text(&g->tun6, b6, sizeof(b6)));
		return 0;
	}
	/* The DNS endpoint binds the IPv6 address at once: no duplicate address
	 * detection on a point-to-point tunnel. */
	snprintf(path, sizeof(path), "net/ipv6/conf/%s/accept_dad", g->cfg.ifname);
	sysctl_write(path, "0");
	if ((err = nl_addr_add(g->nl, g->ifindex, AF_INET, v4->addr, client_ranges[0].len)) < 0 &&
	    err != -EEXIST)
		goto fail;
	if ((err = nl_addr_add(g->nl, g->ifindex, AF_INET6, v6->addr, client_ranges[1].len)) < 0 &&
	    err != -EEXIST)
		goto fail;
	if ((err = nl_link_set_up(g->nl, g->ifindex, true)) < 0)
		goto fail;
	for (size_t i = 0; i < 2; i++)
		if ((err = nl_route_add_prohibit(g->nl, proxy_ranges[i].family,
						 proxy_ranges[i].addr, proxy_ranges[i].len)) < 0 &&
		    err != -EEXIST)
			goto fail;
	gw_addrs[0] = (struct net_prefix){ .family = AF_INET, .len = 32 };
	memcpy(gw_addrs[0].addr, v4->addr, 4);
	gw_addrs[1] = (struct net_prefix){ .family = AF_INET6, .len = 128 };
	memcpy(gw_addrs[1].addr, v6->addr, 16);
	nc = (struct nat_config){ .table = GW_TABLE, .tun_ifname = g->cfg.ifname,
				  .client_ranges = client_ranges, .n_client_ranges = 2,
				  .gw_addrs = gw_addrs, .n_gw_addrs = 2, .dns_port = GW_DNS_PORT };
	if ((err = nat_new(&nc, &g->nat)) < 0) {
		log_err("nftables table %s: %s", GW_TABLE, strerror(-err));
		return err;
	}
	g->tun4 = *v4;
	g->tun6 = *v6;
	g->have_tunnel = true;
	err = dns_start(g);
	if (err < 0) {
		log_err("DNS endpoint on %s and %s port %u: %s", ip_text(v4, b4, sizeof(b4)),
			ip_text(v6, b6, sizeof(b6)), GW_DNS_PORT, strerror(-err));
		return err;
	}
	log_info("tunnel %s %s up; DNS endpoint on port %u", ip_text(v4, b4, sizeof(b4)),
		 ip_text(v6, b6, sizeof(b6)), GW_DNS_PORT);
	return 0;
fail:
	log_err("%s: tunnel addresses: %s", g->cfg.ifname, strerror(-err));
	return err;
}

/* ---- the portal's messages ---- */

static void put_one(struct gateway *g, const struct ctl_authorization *a, bool confirm)
{
	struct authz_client *c;
	int err = authz_put(g->az, a);

	if (err < 0) {
		log_rl(&g->rl, LOG_LVL_WARN, "client %llu resource %llu: authorization refused: %s",
		       (unsigned long long)a->client.id, (unsigned long long)a->resource.id,
		       strerror(-err));
		return;
	}
	c = authz_client_by_id(g->az, a->client.id);
	err = gw_sync(g, c);
	if (err < 0) {
		/* Not in place: not confirmed, and not kept half-installed. The
		 * portal's wait ends in a denial (timeout) and a revoke. */
		authz_revoke(g->az, a->client.id, a->resource.id);
		gw_sync_dirty(g);
		return;
	}
	log_info("client %llu resource %llu: authorized until %lld",
		 (unsigned long long)a->client.id, (unsigned long long)a->resource.id,
		 (long long)a->expires_at);
	if (confirm) {
		struct ctl_msg m = { .type = CTL_AUTHORIZED, .ref = a->ref };

		if (ctl_session_send(g->sess, &m) < 0)
			log_rl(&g->rl, LOG_LVL_WARN, "authorized %llu: not sent",
			       (unsigned long long)a->ref);
	}
}

static void on_init(struct gateway *g, const struct ctl_msg *m)
{
	if (tunnel_up(g, &m->tunnel_ipv4, &m->tunnel_ipv6) < 0)
		return;
	for (size_t i = 0; i < m->n_auths; i++)
		put_one(g, &m->auths[i], false);
	/* What the portal no longer lists ended while we were apart. */
	authz_retain_refs(g->az, m->auths, m->n_auths);
	authz_expire(g->az, now_s());
	gw_sync_dirty(g);
	log_info("portal: init with %zu authorizations; %zu clients", m->n_auths,
		 authz_count(g->az));
}

static void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	struct gateway *g = arg;
	struct ctl_authorization a;

	(void)s;
	if (m->type == CTL_INIT_GATEWAY || m->type == CTL_REVOKE ||
	    m->type == CTL_RESOURCE_UPSERT || m->type == CTL_RESOURCE_DELETE)
		gw_flow_flush(g);
	switch (m->type) {
	case CTL_INIT_GATEWAY:
		on_init(g, m);
		break;
	case CTL_AUTHORIZE:
		a = (struct ctl_authorization){ .ref = m->ref, .client = m->client,
						.resource = m->resource, .expires_at = m->expires_at };
		memcpy(a.psk, m->psk, sizeof(a.psk));
		if (a.expires_at <= now_s())
			log_rl(&g->rl, LOG_LVL_WARN, "authorize %llu: already expired",
			       (unsigned long long)a.ref);
		else
			put_one(g, &a, true);
		sodium_memzero(&a, sizeof(a));
		break;
	case CTL_REVOKE:
		if (authz_revoke(g->az, m->client_id, m->resource_id) == 0)
			log_info("client %llu resource %llu: revoked",
				 (unsigned long long)m->client_id,
				 (unsigned long long)m->resource_id);
		gw_sync_dirty(g);
		break;
	case CTL_RESOURCE_UPSERT:
		if (authz_resource_update(g->az, &m->resource) == -EINVAL)
			log_rl(&g->rl, LOG_LVL_WARN, "resource %llu: unusable update ignored",
			       (unsigned long long)m->resource.id);
		gw_sync_dirty(g);
		break;
	case CTL_RESOURCE_DELETE:
		authz_resource_delete(g->az, m->resource_id);
		gw_sync_dirty(g);
		break;
	case CTL_ERROR:
		log_rl(&g->rl, LOG_LVL_WARN, "portal: error %s: %s", m->code, m->message);
		break;
	default:
		break;
	}
}

static void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct gateway *g = arg;

	(void)s;
	switch (ev) {
	case CTL_EV_CONNECTED:
		log_info("portal: connected");
		break;
	case CTL_EV_DISCONNECTED:
		/* Established clients are served on until their authorizations
		 * expire; the session reconnects with backoff and jitter. */
		log_rl(&g->rl, LOG_LVL_WARN, "portal: disconnected (%s); %zu clients served on",
		       why ? why : "?", authz_count(g->az));
		break;
	case CTL_EV_BAD_FRAME:
		log_rl(&g->rl, LOG_LVL_WARN, "portal: bad frame: %s", why ? why : "?");
		break;
	}
}

/* ---- life ---- */

static int open_session(struct gateway *g)
{
	char path[CTL_PREFIX_MAX + 16];
	struct ctl_session_config sc = {
		.host = g->cfg.portal.host,
		.port = g->cfg.portal.port,
		.path = path,
		.token = g->token,
		.public_key = g->pub_b64,
		.endpoint = g->cfg.endpoint,
		.name = g->cfg.name[0] ? g->cfg.name : NULL,
		.role = CTL_ROLE_GATEWAY,
		.on_message = on_message,
		.on_event = on_event,
		.arg = g,
	};
	int err;

	/* a portal behind a path prefix (https://host/sluice) */
	snprintf(path, sizeof(path), "%s/gateway/ws", g->cfg.portal.prefix);
	err = ctl_loop_new(g->cfg.ca_file, &g->loop);
	if (err == 0)
		err = ctl_session_open(g->loop, &sc, &g->sess);
	if (err == 0)
		err = ep_add(g->ep, ctl_loop_fd(g->loop), EV_CTL);
	return err;
}

static int open_device(struct gateway *g)
{
	struct wg_device_opts o = {
		.ifname = g->cfg.ifname,
		.listen_port = g->cfg.listen_port,
		.uapi = WG_UAPI_RO, /* `wg show` works; only the daemon configures */
	};
	struct uapi_set set = { .flags = UAPI_SET_PRIVATE_KEY };
	int err = wg_device_new(&o, &g->dev);

	if (err < 0) {
		log_err("%s: device: %s%s", g->cfg.ifname, strerror(-err),
			err == -EADDRINUSE ? " (another gateway runs, or the port is taken)" : "");
		return err;
	}
	memcpy(set.private_key, g->priv, sizeof(g->priv));
	err = wg_device_set(g->dev, &set);
	sodium_memzero(set.private_key, sizeof(set.private_key));
	if (err == 0)
		err = ep_add(g->ep, wg_device_fd(g->dev), EV_WG);
	g->ifindex = nl_link_index(g->cfg.ifname);
	return err < 0 ? err : g->ifindex < 0 ? g->ifindex : 0;
}

int gateway_new(const struct gw_config *cfg, const char *token, struct gateway **out)
{
	struct gateway *g = calloc(1, sizeof(*g));
	struct resolver_config rc = { 0 };
	struct ct_config cc = { .clients = client_ranges, .n_clients = 2 };
	int err;

	if (!g)
		return -ENOMEM;
	g->cfg = *cfg;
	g->ep = g->sig_fd = g->tick_fd = -1;
	g->rl = g->rl_dns = g->rl_flow = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	snprintf(g->token, sizeof(g->token), "%s", token);
	g->next_flow_s = now_s() + GW_FLOW_PERIOD_S;

	if ((err = keyfile_identity(cfg->state_dir, g->priv, g->pub, g->pub_b64)) < 0)
		goto fail;
	err = daemon_loop_open(&g->ep, &g->sig_fd, &g->tick_fd, EV_SIG, EV_TICK);
	if (err < 0)
		goto fail;

	g->az = authz_new(0);
	if (!g->az) {
		err = -ENOMEM;
		goto fail;
	}
	if ((err = nl_open(&g->nl)) < 0)
		goto fail;
	if ((err = open_device(g)) < 0)
		goto fail;
	/* A crashed run's table goes now; its TUN and routes went with that
	 * process (the TUN is not persistent). The new table comes with the
	 * tunnel addresses (init). */
	if ((err = nat_remove_stale(GW_TABLE)) < 0) {
		log_err("nftables table %s: %s", GW_TABLE, strerror(-err));
		goto fail;
	}
	if ((err = ct_open(&cc, &g->ct)) < 0) {
		log_err("conntrack: %s", strerror(-err));
		goto fail;
	}
	if ((err = ep_add(g->ep, ct_events_fd(g->ct), EV_CT)) < 0)
		goto fail;
	if ((err = resolver_new(&rc, &g->res)) < 0) {
		log_err("resolver: %s", strerror(-err));
		goto fail;
	}
	if ((err = ep_add(g->ep, resolver_fd(g->res), EV_RES)) < 0)
		goto fail;
	if ((err = open_session(g)) < 0) {
		log_err("portal session: %s", strerror(-err));
		goto fail;
	}
	log_info("gateway up: %s on UDP port %u, portal %s:%u", cfg->ifname, cfg->listen_port,
		 cfg->portal.host, cfg->portal.port);
	*out = g;
	return 0;
fail:
	if (err < 0 && err != -ENOMEM)
		log_err("gateway: start failed: %s", strerror(-err));
	gateway_free(g);
	return err;
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void on_tick(struct gateway *g)
{
	uint64_t v;
	int64_t now = now_s();

	if (read(g->tick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_rl(&g->rl, LOG_LVL_ERR, "timerfd: %s", strerror(errno));
	/* The gateway's own clock ends authorizations, revoke or not. */
	if (authz_next_expiry(g->az) <= now) {
		size_t n;

		gw_flow_flush(g);
		n = authz_expire(g->az, now);

		if (n)
			log_info("%zu authorizations expired", n);
		gw_sync_dirty(g);
	}
	if (now >= g->next_flow_s) {
		gw_flow_period(g);
		g->next_flow_s = now + GW_FLOW_PERIOD_S;
	}
}

/* Whether a part whose timeout was t ms at start (-1: none) is due now. */
static bool due(int t, uint64_t start_ms, uint64_t now_ms)
{
	return t >= 0 && now_ms >= start_ms + (uint64_t)t;
}

/* Each part is dispatched when its descriptor is ready or its timer is due,
 * not on every wake-up: a DNS query or a tick costs no pass over the
 * portal's sockets. */
int gateway_run(struct gateway *g)
{
	struct epoll_event ev[16];

	while (!g->stopping) {
		int tc = ctl_loop_timeout_ms(g->loop), tr = resolver_timeout_ms(g->res);
		int td = g->dns ? dnsep_timeout_ms(g->dns) : -1, n;
		uint64_t start = time_mono_ns() / 1000000, now;
		bool ctl = false, res = false, dns = false;

		n = epoll_wait(g->ep, ev, 16, min_timeout(tc, min_timeout(tr, td)));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct signalfd_siginfo si;

			switch (ev[i].data.u64) {
			case EV_SIG:
				if (read(g->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					log_info("signal %u: shutting down", si.ssi_signo);
				g->stopping = true;
				break;
			case EV_TICK:
				on_tick(g);
				break;
			case EV_WG:
				if (wg_device_dispatch(g->dev) == -ENOENT)
					g->stopping = true;
				break;
			case EV_CT:
				ct_events_dispatch(g->ct, gw_flow_event, g);
				break;
			case EV_CTL:
				ctl = true;
				break;
			case EV_RES:
				res = true;
				break;
			case EV_DNS:
				dns = true;
				break;
			}
		}
		now = time_mono_ns() / 1000000;
		if (ctl || due(tc, start, now))
			ctl_loop_dispatch(g->loop);
		if (res || due(tr, start, now))
			resolver_dispatch(g->res);
		if (g->dns && (dns || due(td, start, now)))
			dnsep_dispatch(g->dns);
	}
	return 0;
}

void gateway_free(struct gateway *g)
{
	if (!g)
		return;
	if (g->sess) {
		gw_flow_period(g); /* what is left, if the portal is there */
		ctl_session_close(g->sess);
	}
	ctl_loop_free(g->loop);
	dnsep_free(g->dns);
	resolver_free(g->res);
	if (g->az)
		gw_sync_teardown(g);
	ct_close(g->ct);
	nat_free(g->nat);
	if (g->have_tunnel) /* not the TUN's: they stay unless removed */
		for (size_t i = 0; i < 2; i++)
			nl_route_del_prohibit(g->nl, proxy_ranges[i].family, proxy_ranges[i].addr,
					      proxy_ranges[i].len);
	wg_device_free(g->dev); /* the TUN, and its addresses and routes */
	nl_close(g->nl);
	authz_free(g->az);
	free(g->flows);
	if (g->tick_fd >= 0)
		close(g->tick_fd);
	if (g->sig_fd >= 0)
		close(g->sig_fd);
	if (g->ep >= 0)
		close(g->ep);
	sodium_memzero(g, sizeof(*g));
	free(g);
}
