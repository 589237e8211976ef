/* The kernel's connection tracking seen from the gateway, through ctnetlink
 * (libmnl): the flows of tunnel clients deleted on revocation, and the flow
 * log (ended flows from DESTROY events, live ones from a dump) with packets,
 * bytes and times.
 *
 * ct_open() turns on net.netfilter.nf_conntrack_acct and
 * nf_conntrack_timestamp in the namespace (noting the old values, put back by
 * ct_close()); flows created before that carry no counters or start time.
 *
 * Counters: ct_flows_dump(zero = true) reads and zeroes the counters of live
 * flows in one step, so a long flow is reported period by period and its
 * DESTROY event then carries only what came after the last dump: the sum of
 * the reports is the flow's total.
 *
 * Errors: 0 or -errno. Threads: no threads of its own; every call from one
 * thread (the daemon's loop). Callbacks run inside the call that takes them,
 * on that thread, and must not call back into the module. */
#ifndef SLUICE_GATEWAY_CONNTRACK_H
#define SLUICE_GATEWAY_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/prefix.h"

struct ct;

struct ct_flow {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t src[16];   /* original source: the client's tunnel address */
	uint8_t dst[16];   /* original destination: the proxy IP or the real address */
	uint8_t proto;     /* IPPROTO_* */
	uint16_t sport, dport; /* host order; ICMP: sport is the echo id, dport 0 */
	uint64_t orig_packets, orig_bytes;   /* client to resource */
	uint64_t reply_packets, reply_bytes; /* resource to client */
	uint64_t start_ns, stop_ns; /* CLOCK_REALTIME; 0 unknown (stop: still live) */
	uint32_t id;       /* the kernel's id of the flow */
	uint16_t zone;
};

typedef void ct_flow_fn(void *arg, const struct ct_flow *f);

struct ct_config {
	/* Flows reported are those whose original source lies in one of these;
	 * none given: 100.64.0.0/11 and fd00:2021:1111::/107. */
	const struct net_prefix *clients;
	size_t n_clients;
};

enum { CT_MAX_CLIENT_RANGES = 8 };

int ct_open(const struct ct_config *c, struct ct **out);
void ct_close(struct ct *c); /* NULL is fine */

/* Deletes the flows from client (original source) to dst/prefix (original
 * destination; bits of dst past prefix ignored; dst NULL: to anywhere). One
 * dump of the family's table, then a delete per flow by its exact tuple and
 * id. Returns how many went, or -errno. */
int ct_delete(struct ct *c, int family, const uint8_t *client, const uint8_t *dst,
	      uint8_t prefix);
/* The same for several destinations in one pass over the table (every proxy
 * IP of a DNS resource): flows from client to any of dsts (of the family). */
int ct_delete_set(struct ct *c, int family, const uint8_t *client, const struct net_prefix *dsts,
		  size_t n_dsts);

/* The DESTROY event socket: non-blocking, for the caller's epoll (EPOLLIN). */
int ct_events_fd(const struct ct *c);
/* Reads what is queued (a bounded amount per call, so the loop stays fair:
 * call again on the next EPOLLIN) and calls fn for each ended flow of a
 * client. Returns the number of flows reported, or -errno. A full socket
 * buffer (ENOBUFS: events lost) is counted and logged, not an error. */
int ct_events_dispatch(struct ct *c, ct_flow_fn *fn, void *arg);
uint64_t ct_events_lost(const struct ct *c);

/* Calls fn for every live flow of a client, with its counters; zero: and
 * resets them (see above). Returns the number of flows, or -errno. */
int ct_flows_dump(struct ct *c, bool zero, ct_flow_fn *fn, void *arg);

/* Parses one ctnetlink message (netlink header included, 4-byte aligned as
 * netlink messages are) into f: 0, or
 * -EINVAL for anything that is not a conntrack entry with an original tuple.
 * Public for the fuzz target and tests. */
int ct_flow_parse(const void *msg, size_t len, struct ct_flow *f);

#endif
