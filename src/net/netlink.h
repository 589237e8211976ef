/* Links, addresses and routes through rtnetlink (libmnl), IPv4 and IPv6.
 * Every call waits for the kernel's acknowledgement and returns 0 or its -errno
 * (-EEXIST for a duplicate, -ESRCH/-EADDRNOTAVAIL for a missing one, -ENODEV). */
#ifndef SLUICE_NET_NETLINK_H
#define SLUICE_NET_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

struct nl;

struct nl_route {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t dst[16];   /* network byte order; zero for a default route */
	unsigned prefixlen;
	int ifindex;       /* 0 when the route has no single output device */
	uint32_t table;
	uint8_t type;      /* RTN_UNICAST, RTN_LOCAL, ... */
	uint8_t protocol;  /* RTPROT_KERNEL, RTPROT_STATIC, ... or a daemon's own */
	bool has_gateway;  /* next hop through gateway[] (same family) */
	uint8_t gateway[16];
	uint32_t priority; /* the metric; 0 when the kernel gave none */
};

int nl_open(struct nl **out);
void nl_close(struct nl *nl);

int nl_link_index(const char *ifname); /* ifindex, or -ENODEV */
int nl_link_set_up(struct nl *nl, int ifindex, bool up);
int nl_link_set_mtu(struct nl *nl, int ifindex, unsigned mtu);

/* addr is 4 or 16 bytes in network order, by family. */
int nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr, unsigned prefixlen);
int nl_addr_del(struct nl *nl, int ifindex, int family, const void *addr, unsigned prefixlen);

/* A device route in the main table: dst/prefixlen via ifindex. dst must have no
 * bits set past the prefix (-EINVAL). */
int nl_route_add(struct nl *nl, int ifindex, int family, const void *dst, unsigned prefixlen);
int nl_route_del(struct nl *nl, int ifindex, int family, const void *dst, unsigned prefixlen);
/* A prohibit route in the main table: packets routed there are dropped and
 * their sender gets ICMP/ICMPv6 administratively prohibited (the kernel's own,
 * rate-limited). */
int nl_route_add_prohibit(struct nl *nl, int family, const void *dst, unsigned prefixlen);
int nl_route_del_prohibit(struct nl *nl, int family, const void *dst, unsigned prefixlen);

/* Any route: table (0: main), type (0: RTN_UNICAST), protocol (0: RTPROT_STATIC),
 * priority (0: the kernel's default), gateway and device as set (a unicast route
 * needs one of them: -ENODEV). Scope: link for a device route, universe through a
 * gateway. The dst rule of nl_route_add holds (-EINVAL). */
int nl_route_add_ex(struct nl *nl, const struct nl_route *r);
/* Deletes the route matching r's dst/prefixlen, table (0: main) and whichever of
 * type, protocol, priority, gateway and device are set: a route as dumped is
 * deleted exactly. -ESRCH when none matches. */
int nl_route_del_ex(struct nl *nl, const struct nl_route *r);
/* The route the kernel would use now for packets to dst (4 or 16 bytes by
 * family, RTM_GETROUTE with RTM_F_FIB_MATCH): the matching entry itself, with its
 * prefix, table, type, protocol, device and gateway. A multipath route comes
 * back with ifindex 0 and no gateway. -ENETUNREACH when nothing matches. */
int nl_route_get(struct nl *nl, int family, const void *dst, struct nl_route *out);

/* Calls fn for every route of the family (all tables); fn returns 0 to go on or a
 * negative value to stop, which nl_route_dump then returns. */
int nl_route_dump(struct nl *nl, int family,
		  int (*fn)(const struct nl_route *r, void *arg), void *arg);

#endif
