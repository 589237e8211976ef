/* What sluice-client does to the host's routing besides its TUN device: checks
 * that its address ranges are free, pins the addresses it must reach outside
 * the tunnel (the portal, the gateways' endpoints) to their current route, and
 * marks every route it adds with its own protocol number, HOSTNET_RTPROT, so
 * that a start after kill -9 finds and removes them (hostnet_repair).
 *
 * HOSTNET_RTPROT is 83 (0x53, 'S'): a number of no routing daemon in
 * /etc/iproute2/rt_protos nor in <linux/rtnetlink.h>; `ip route show proto 83`
 * lists the client's routes. Routes go to the main table. Errors are 0/-errno.
 * Single-threaded: every call is a netlink round trip on the caller's nl. */
#ifndef SLUICE_CLIENT_HOSTNET_H
#define SLUICE_CLIENT_HOSTNET_H

#include <stddef.h>
#include <stdint.h>

#include "net/netlink.h"

#define HOSTNET_RTPROT 83

struct net_prefix; /* net/prefix.h */

/* Pure but for the device's name in the message (if_indextoname): the first
 * route among routes[] (as nl_route_dump gives them, every table) that
 * overlaps one of ranges[] and is not the client's own (device own_ifindex,
 * which also covers the local and broadcast routes of its own addresses, or
 * protocol HOSTNET_RTPROT) nor a default route (prefixlen 0). Writes a reason
 * naming both ("proxy range 100.96.0.0/11 overlaps the route 100.100.0.0/16
 * dev eth1") and returns -EADDRINUSE; 0 when none. range_names may be NULL
 * ("range"). */
int hostnet_overlap(const struct nl_route *routes, size_t n, const struct net_prefix *ranges,
		    const char *const *range_names, size_t n_ranges, int own_ifindex,
		    char *err, size_t errlen);
/* Dumps the host's routes of both families and applies hostnet_overlap. */
int hostnet_check(struct nl *nl, const struct net_prefix *ranges, const char *const *names,
		  size_t n, int own_ifindex, char *err, size_t errlen);

/* Pins addr (4 or 16 bytes by family) to the route it has now, so that a route
 * into the TUN covering it (a CIDR resource) never catches it: asks the kernel
 * for the route to addr and adds a host route (/32, /128) with the same gateway
 * and device, protocol HOSTNET_RTPROT. 0 with nothing to do when addr is local
 * or already has a host route (a pin, or the admin's). -ELOOP when addr is
 * already routed by one of the client's own routes (pin before adding routes),
 * -EOPNOTSUPP for a multipath route, -ENETUNREACH (also for an unreachable,
 * prohibit or blackhole route). No reference count: one unpin undoes it. */
int hostnet_pin(struct nl *nl, int family, const uint8_t *addr);
/* Removes the pin of addr; 0 when there was none. */
int hostnet_unpin(struct nl *nl, int family, const uint8_t *addr);

/* A device route of the client's (dst/len into its TUN), marked HOSTNET_RTPROT.
 * As nl_route_add / nl_route_del otherwise (-EEXIST, -ESRCH, -EINVAL). */
int hostnet_route_add(struct nl *nl, int ifindex, int family, const uint8_t *dst, unsigned len);
int hostnet_route_del(struct nl *nl, int ifindex, int family, const uint8_t *dst, unsigned len);

/* Start-up repair after a kill -9: removes every route with protocol
 * HOSTNET_RTPROT in the main table (pins and the client's device routes, of a
 * TUN that may be gone). How many went, or -errno. */
int hostnet_repair(struct nl *nl);

#endif
