/* The client's routes on the host. See hostnet.h. */
#include "client/hostnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client/config.h"

static unsigned addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static bool route_is_own(const struct nl_route *r, int own_ifindex)
{
	return (own_ifindex > 0 && r->ifindex == own_ifindex) || r->protocol == HOSTNET_RTPROT;
}

static const char *type_word(uint8_t type)
{
	switch (type) {
	case RTN_LOCAL:
		return "local ";
	case RTN_BROADCAST:
		return "broadcast ";
	case RTN_ANYCAST:
		return "anycast ";
	case RTN_MULTICAST:
		return "multicast ";
	case RTN_BLACKHOLE:
		return "blackhole ";
	case RTN_UNREACHABLE:
		return "unreachable ";
	case RTN_PROHIBIT:
		return "prohibit ";
	default:
		return "";
	}
}

/* The route as `ip route` shows it: [type] dst/len [via gw] [dev name] [table t]. */
static void route_str(const struct nl_route *r, char *buf, size_t len)
{
	struct net_prefix p = { .family = r->family, .len = (uint8_t)r->prefixlen };
	char pfx[PREFIX_STRLEN], via[INET6_ADDRSTRLEN + 5] = "", dev[IF_NAMESIZE + 16] = "";
	char gw[INET6_ADDRSTRLEN], name[IF_NAMESIZE], table[24] = "";

	memcpy(p.addr, r->dst, addr_len(r->family));
	if (r->has_gateway && inet_ntop(r->family, r->gateway, gw, sizeof(gw)))
		snprintf(via, sizeof(via), " via %s", gw);
	if (r->ifindex > 0)
		snprintf(dev, sizeof(dev), " dev %s",
			 if_indextoname((unsigned)r->ifindex, name) ? name : "?");
	if (r->table != RT_TABLE_MAIN)
		snprintf(table, sizeof(table), " table %u", r->table);
	snprintf(buf, len, "%s%s%s%s%s", type_word(r->type), prefix_str(&p, pfx, sizeof(pfx)),
		 via, dev, table);
}

static int overlap_one(const struct nl_route *r, const struct net_prefix *ranges,
		       const char *const *names, size_t n, int own_ifindex, char *err,
		       size_t errlen)
{
	struct net_prefix p = { .family = r->family, .len = (uint8_t)r->prefixlen };
	char rng[PREFIX_STRLEN], rt[160];

	if (!addr_len(r->family) || r->prefixlen == 0 || r->prefixlen > addr_len(r->family) * 8 ||
	    route_is_own(r, own_ifindex))
		return 0;
	memcpy(p.addr, r->dst, addr_len(r->family));
	for (size_t i = 0; i < n; i++) {
		if (!prefix_overlaps(&ranges[i], &p))
			continue;
		route_str(r, rt, sizeof(rt));
		snprintf(err, errlen, "%s %s overlaps the route %s",
			 names && names[i] ? names[i] : "range",
			 prefix_str(&ranges[i], rng, sizeof(rng)), rt);
		return -EADDRINUSE;
	}
	return 0;
}

int hostnet_overlap(const struct nl_route *routes, size_t n, const struct net_prefix *ranges,
		    const char *const *range_names, size_t n_ranges, int own_ifindex,
		    char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int r = overlap_one(&routes[i], ranges, range_names, n_ranges, own_ifindex, err,
				    errlen);

		if (r < 0)
			return r;
	}
	return 0;
}

struct check_ctx {
	const struct net_prefix *ranges;
	const char *const *names;
	size_t n;
	int own_ifindex;
	char *err;
	size_t errlen;
};

static int check_cb(const struct nl_route *r, void *arg)
{
	const struct check_ctx *c = arg;

	return overlap_one(r, c->ranges, c->names, c->n, c->own_ifindex, c->err, c->errlen);
}

int hostnet_check(struct nl *nl, const struct net_prefix *ranges, const char *const *names,
		  size_t n, int own_ifindex, char *err, size_t errlen)
{
	struct check_ctx c = { ranges, names, n, own_ifindex, err, errlen };
	static const int families[] = { AF_INET, AF_INET6 };
	int r;

	for (size_t f = 0; f < 2; f++) {
		bool wanted = false;

		for (size_t i = 0; i < n; i++)
			wanted |= ranges[i].family == families[f];
		if (!wanted)
			continue;
		if ((r = nl_route_dump(nl, families[f], check_cb, &c)) < 0) {
			if (r != -EADDRINUSE)
				snprintf(err, errlen, "reading the routes: %s", strerror(-r));
			return r;
		}
	}
	return 0;
}

static void host_route(struct nl_route *r, int family, const uint8_t *addr)
{
	memset(r, 0, sizeof(*r));
	r->family = family;
	memcpy(r->dst, addr, addr_len(family));
	r->prefixlen = addr_len(family) * 8;
	r->table = RT_TABLE_MAIN;
	r->protocol = HOSTNET_RTPROT;
}

int hostnet_pin(struct nl *nl, int family, const uint8_t *addr)
{
	struct nl_route now, pin;
	int r;

	if (!addr_len(family))
		return -EAFNOSUPPORT;
	if ((r = nl_route_get(nl, family, addr, &now)) < 0)
		return r;
	if (now.type == RTN_LOCAL)
		return 0;
	if (now.type != RTN_UNICAST)
		return -ENETUNREACH;
	/* a host route wins over any CIDR route into the TUN already */
	if (now.prefixlen == addr_len(family) * 8)
		return 0;
	/* copying the TUN's own route would pin addr into the tunnel */
	if (now.protocol == HOSTNET_RTPROT)
		return -ELOOP;
	if (now.ifindex <= 0)
		return -EOPNOTSUPP;
	host_route(&pin, family, addr);
	pin.ifindex = now.ifindex;
	pin.has_gateway = now.has_gateway;
	memcpy(pin.gateway, now.gateway, sizeof(pin.gateway));
	return nl_route_add_ex(nl, &pin);
}

int hostnet_unpin(struct nl *nl, int family, const uint8_t *addr)
{
	struct nl_route pin;
	int r;

	if (!addr_len(family))
		return -EAFNOSUPPORT;
	host_route(&pin, family, addr);
	r = nl_route_del_ex(nl, &pin);
	return r == -ESRCH ? 0 : r;
}

static int device_route(struct nl *nl, bool add, int ifindex, int family, const uint8_t *dst,
			unsigned len)
{
	struct nl_route r = { .family = family, .prefixlen = len, .ifindex = ifindex,
			      .table = RT_TABLE_MAIN, .type = RTN_UNICAST,
			      .protocol = HOSTNET_RTPROT };

	if (!addr_len(family))
		return -EAFNOSUPPORT;
	if (ifindex <= 0)
		return -ENODEV;
	memcpy(r.dst, dst, addr_len(family));
	return add ? nl_route_add_ex(nl, &r) : nl_route_del_ex(nl, &r);
}

int hostnet_route_add(struct nl *nl, int ifindex, int family, const uint8_t *dst, unsigned len)
{
	return device_route(nl, true, ifindex, family, dst, len);
}

int hostnet_route_del(struct nl *nl, int ifindex, int family, const uint8_t *dst, unsigned len)
{
	return device_route(nl, false, ifindex, family, dst, len);
}

struct marked {
	struct nl_route *v;
	size_t n, cap;
};

static int collect_cb(const struct nl_route *r, void *arg)
{
	struct marked *m = arg;

	if (r->protocol != HOSTNET_RTPROT || r->table != RT_TABLE_MAIN)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct nl_route *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = *r;
	return 0;
}

int hostnet_repair(struct nl *nl)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct marked m = { 0 };
	int r = 0, gone = 0;

	/* collected first: the socket carries one request at a time */
	for (size_t f = 0; f < 2 && r >= 0; f++)
		r = nl_route_dump(nl, families[f], collect_cb, &m);
	for (size_t i = 0; i < m.n && r >= 0; i++) {
		r = nl_route_del_ex(nl, &m.v[i]);
		if (r == -ESRCH) /* gone with its device meanwhile */
			r = 0;
		else if (r == 0)
			gone++;
	}
	free(m.v);
	return r < 0 ? r : gone;
}
