/* An address prefix of either family: the daemons' configured ranges, client
 * tunnel ranges, resource CIDRs. One copy for gateway and client. Pure. */
#ifndef SLUICE_NET_PREFIX_H
#define SLUICE_NET_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PREFIX_STRLEN = 48 }; /* "x:...:x/128" with its NUL */

struct net_prefix {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; 4 bytes used for AF_INET */
	uint8_t len;      /* 0..32 or 0..128 */
};

/* 4, 16, or 0 for a family that is neither. */
unsigned prefix_addr_len(int family);
/* Parses "a.b.c.d/n", "x::y/n" (n: 1 to 3 digits) or a bare address (full
 * length); no host bits. 0 or -EINVAL. */
int prefix_parse(const char *s, struct net_prefix *out);
/* The prefix built from an address and a length, host bits cleared. */
struct net_prefix prefix_make(int family, const uint8_t *addr, unsigned len);
/* Whether the family and length are valid and no bit past the length is set. */
bool prefix_valid(const struct net_prefix *p);
/* The prefix as text into buf (PREFIX_STRLEN is enough); buf. */
const char *prefix_str(const struct net_prefix *p, char *buf, size_t len);
/* Whether addr (prefix_addr_len(family) bytes) lies inside p; bits of p->addr
 * past p->len are ignored. */
bool prefix_contains(const struct net_prefix *p, int family, const uint8_t *addr);
/* Whether in lies wholly inside out (same family, in->len >= out->len). */
bool prefix_inside(const struct net_prefix *in, const struct net_prefix *out);
/* Whether the two share an address: same family and one contains the other. */
bool prefix_overlaps(const struct net_prefix *a, const struct net_prefix *b);

#endif
