/* The gateway's packet path in the kernel: one nftables table of its own
 * (libnftables) that translates proxy IPs to real addresses (a DNAT map keyed
 * on client . proxy IP), lets through from the tunnel only what a live
 * authorization covers, answers everything else with ICMP administratively
 * prohibited (rate-limited, else dropped), keeps the gateway host closed to
 * clients but for its DNS endpoint and echo, and masquerades tunnel traffic
 * leaving by any other interface. docs/gateway.md shows the table in full.
 *
 * Changes are elements added to and deleted from the table's sets, one nft
 * transaction per call; the table itself is never reloaded. The module keeps
 * a record of the elements it added, per client, so that deletes are
 * idempotent, allow elements are counted, and a client can be flushed.
 *
 * Addresses are in network byte order, 4 bytes for AF_INET, 16 for AF_INET6.
 * Errors: 0 or -errno: -EINVAL (bad argument), -EAFNOSUPPORT, -EEXIST (a proxy
 * IP already bound to another real address; an allow element overlapping
 * NAT_LAYERS others of the client), -ENOMEM, or the kernel's error as libnftables
 * reported it (the message is logged).
 *
 * Threads: none of its own, no callbacks; every call from one thread (the
 * daemon's loop). It must run as root in the gateway's network namespace. */
#ifndef SLUICE_GATEWAY_NAT_H
#define SLUICE_GATEWAY_NAT_H

#include <stddef.h>
#include <stdint.h>

#include "net/prefix.h"

enum {
	NAT_DNS_PORT = 53535,  /* the gateway's DNS endpoint on its tunnel addresses */
	NAT_REJECT_RATE = 20,  /* ICMP errors per second to the tunnel, then drops */
	NAT_LAYERS = 4,        /* overlapping allow elements of one client (below) */
	NAT_MAX_RANGES = 8,    /* client ranges and gateway addresses, each */
};

struct nat;

struct nat_config {
	const char *table;      /* nft table name (inet family): [A-Za-z0-9_], <= 32 */
	const char *tun_ifname; /* the gateway's TUN */
	/* Sources masqueraded when they leave by another interface; none given:
	 * 100.64.0.0/11 and fd00:2021:1111::/107. */
	const struct net_prefix *client_ranges;
	size_t n_client_ranges;
	/* The gateway's own tunnel addresses (full-length prefixes): the only
	 * local addresses a client reaches, and only for DNS and echo. */
	const struct net_prefix *gw_addrs;
	size_t n_gw_addrs;
	uint16_t dns_port;    /* 0: NAT_DNS_PORT */
	unsigned reject_rate; /* 0: NAT_REJECT_RATE */
};

/* Installs the table (replacing, in the same transaction, one of that name a
 * crashed run left) and turns on IPv4 and IPv6 forwarding, noting the old
 * values. */
int nat_new(const struct nat_config *c, struct nat **out);
/* Deletes the table and puts the forwarding sysctls back. NULL is fine. */
void nat_free(struct nat *n);
/* Deletes a table of that name if one exists (a crashed run's), without
 * needing a struct nat. 0 (also when there was none) or -errno. */
int nat_remove_stale(const char *table);

/* DNAT: packets from client to proxy go to real. Adding the same binding
 * again is a no-op; the same (client, proxy) to another real is -EEXIST.
 * Deleting a missing binding is a no-op. */
int nat_bind_add(struct nat *n, int family, const uint8_t *client, const uint8_t *proxy,
		 const uint8_t *real);
/* Several bindings of one client in one transaction (all or none): what one
 * DNS answer needs. An nft transaction costs about the same for one element as
 * for eight (docs/gateway.md has the figures). */
struct nat_bind {
	uint8_t proxy[16];
	uint8_t real[16];
};
int nat_bind_add_all(struct nat *n, int family, const uint8_t *client, const struct nat_bind *b,
		     size_t count);
int nat_bind_del(struct nat *n, int family, const uint8_t *client, const uint8_t *proxy);

/* What a client may send, judged on the destination it addressed: the proxy IP
 * for DNS resources (before translation), the address itself for IP and CIDR
 * resources. proto 0 is any protocol, ports ignored; IPPROTO_ICMP or
 * IPPROTO_ICMPV6 is the family's ICMP, ports ignored; IPPROTO_TCP and
 * IPPROTO_UDP take port_lo..port_hi (both 0: every port). dst may have bits
 * past prefix set; they are ignored. */
struct nat_rule {
	int family;
	uint8_t client[16];
	uint8_t dst[16];
	uint8_t prefix; /* 32 or 128 for one address */
	uint8_t proto;
	uint16_t port_lo, port_hi;
};

/* Allow elements are counted: the same rule added twice (two authorizations
 * covering the same thing) needs two deletes before packets are refused.
 * Deleting a rule that is not there is a no-op. Overlapping (not identical)
 * rules of one client go to separate sets (the kernel's interval sets refuse
 * overlaps), up to NAT_LAYERS deep. */
int nat_allow_add(struct nat *n, const struct nat_rule *r);
int nat_allow_del(struct nat *n, const struct nat_rule *r);

/* What one DNS answer needs, for one client and family, in one transaction,
 * all or none: the bindings b (as nat_bind_add_all) and the allow rules r (as
 * nat_allow_add each; their family and client must be these). The cost of an
 * nft transaction hardly depends on its size, so this is the fast path. */
int nat_add_all(struct nat *n, int family, const uint8_t *client, const struct nat_bind *b,
		size_t nb, const struct nat_rule *r, size_t nr);

/* Deletes every binding and allow element of the client, in one transaction. */
int nat_client_flush(struct nat *n, int family, const uint8_t *client);

/* Elements in the kernel's sets, as the module recorded them (for tests and
 * status). */
size_t nat_element_count(const struct nat *n);

#endif
