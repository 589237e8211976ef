/* An address prefix of either family, as the gateway's packet-path modules take
 * them (client tunnel ranges, resource CIDRs). Pure. */
#ifndef SLUICE_GATEWAY_PREFIX_H
#define SLUICE_GATEWAY_PREFIX_H

#include <stdbool.h>
#include <stdint.h>

struct gw_prefix {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; 4 bytes used for AF_INET */
	uint8_t len;      /* 0..32 or 0..128 */
};

/* 4, 16, or 0 for a family that is neither. */
unsigned gw_addr_len(int family);
/* Parses "a.b.c.d/n", "x::y/n" or a bare address (full length). 0 or -EINVAL. */
int gw_prefix_parse(const char *s, struct gw_prefix *out);
/* Whether the family and length are valid and no bit past the length is set. */
bool gw_prefix_valid(const struct gw_prefix *p);
/* Whether addr (gw_addr_len(family) bytes) lies inside p. */
bool gw_prefix_contains(const struct gw_prefix *p, int family, const uint8_t *addr);

#endif
