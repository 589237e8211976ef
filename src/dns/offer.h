/* The proxy-IP offer: the EDNS(0) option (code DNS_OPT_SLUICE_OFFER) in which
 * the client lists free proxy IPs of its own pool when it sends a resource
 * query through the tunnel; the gateway binds the answer's real addresses to
 * them (dns/binding.h). Byte layout in docs/protocol.md, "DNS: the proxy-IP
 * offer option":
 *
 *   version (1) = 1 | n4 (1) <= 16 | n6 (1) <= 16 | n4 x 4 bytes | n6 x 16 bytes
 *
 * The option DATA must be exactly that long. The decoder checks the structure
 * only; which entries are usable (no duplicates, no loopback, multicast or
 * IPv4-mapped addresses, not bound to something else) is the binding's call,
 * entry by entry. The gateway's answer carries no offer option back: the
 * client learns what was used from the answer's addresses (offer_used()).
 *
 * Errors: -EBADMSG (malformed), -EPROTONOSUPPORT (a version other than 1),
 * -ENOENT (no offer option), -EMSGSIZE (output too small), -EINVAL (a struct
 * offer with counts over the limits). */
#ifndef SLUICE_DNS_OFFER_H
#define SLUICE_DNS_OFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"

enum offer_limits {
	OFFER_VERSION = 1,
	OFFER_MAX4 = 16,
	OFFER_MAX6 = 16,
	OFFER_HDR_LEN = 3, /* version, n4, n6 */
	OFFER_DATA_MAX = OFFER_HDR_LEN + OFFER_MAX4 * 4 + OFFER_MAX6 * 16, /* 323 */
	OFFER_OPT_MAX = DNS_OPT_HDR_LEN + OFFER_DATA_MAX,                  /* 327 */
};

/* Addresses in network byte order, in the client's order of preference. */
struct offer {
	uint8_t n4, n6;
	uint8_t v4[OFFER_MAX4][4];
	uint8_t v6[OFFER_MAX6][16];
};

/* What a binding made of an offer: bit i stands for entry i of its family. */
struct offer_use {
	uint32_t used4, used6;       /* bound to an address of this answer */
	uint32_t refused4, refused6; /* looked at and refused (see binding.h) */
	unsigned dropped;            /* A/AAAA records left out: offer or table exhausted */
};

/* Writes the option DATA (without the option code and length) into buf. */
int offer_encode(const struct offer *o, uint8_t *buf, size_t cap, size_t *len);
/* Reads option DATA; o is zeroed on failure. */
int offer_decode(const uint8_t *data, size_t len, struct offer *o);
/* Finds the offer among raw EDNS options and decodes it: -ENOENT if there is
 * no OPT or no offer, -EBADMSG if the options do not tile or hold it twice. */
int offer_find(const struct dns_edns *e, struct offer *o);
/* For the client's tunnelled query: rewrites e's options into buf (cap bytes,
 * not overlapping e->opts; OFFER_OPT_MAX more than the options already there
 * is enough) with any offer option replaced by o's, and points e at buf;
 * turns EDNS on if it was off. buf must outlive every use of e. */
int offer_edns_set(struct dns_edns *e, const struct offer *o, uint8_t *buf, size_t cap);
/* For the client reading the gateway's answer: marks in u->used4/used6 the
 * entries of o that appear as A/AAAA addresses in the answer section; every
 * other entry is free again. u's other fields are zeroed. */
void offer_used(const struct offer *o, const struct dns_msg *answer, struct offer_use *u);
/* Could this address (4 or 16 bytes) be a proxy IP at all: not unspecified,
 * loopback, link-local, multicast, 240/4, and for IPv6 not an IPv4-mapped or
 * IPv4-compatible address (an IPv4 address in the IPv6 list). */
bool offer_addr_usable(const uint8_t *a, size_t alen);

#endif
