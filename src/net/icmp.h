/* ICMP errors the local host is told: "communication administratively
 * prohibited", for a packet that the tunnel refuses to carry, so that the
 * application that sent it fails at once (connect(): EHOSTUNREACH) instead of
 * waiting out its timeouts. */
#ifndef SLUICE_NET_ICMP_H
#define SLUICE_NET_ICMP_H

#include <stddef.h>
#include <stdint.h>

enum {
	ICMP_ERR_MAX4 = 576,  /* RFC 1812 4.3.2.3: the whole IPv4 error, at most */
	ICMP_ERR_MAX6 = 1280, /* RFC 4443 2.4 (c): the IPv6 minimum MTU */
	ICMP_ERR_HOP_LIMIT = 64,
};

/* Builds the ICMP error that refuses pkt (an IPv4 or IPv6 packet the local host sent):
 * IPv4 destination unreachable code 13 (communication administratively prohibited),
 * IPv6 destination unreachable code 1, from pkt's destination to its source, quoting
 * as much of pkt as RFC 1812 4.3.2.3 / RFC 4443 2.4 allow (576 / 1280 bytes total,
 * less if cap is smaller, never less than the IP header and 8 bytes past it), with
 * its checksums right. Bytes past pkt's IP length (link padding) are not quoted.
 * No error for an ICMP error (nor an unknown ICMP type, as Linux), a fragment other
 * than the first, a packet with a wrong IPv4 header checksum, a source that is not a
 * single host (unspecified, loopback, multicast, broadcast, class E) or a
 * destination that is not unicast (RFC 1122 3.2.2, RFC 4443 2.4 (e)).
 * Returns the length written to out (cap >= 1280 always suffices), -EINVAL (not a
 * packet, or one that must not be answered), -EMSGSIZE (cap too small). Pure. */
int icmp_prohibited(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);

#endif
