/* The Internet checksum: full computation (RFC 1071) and incremental update
 * (RFC 1624), for the IPv4 header and for TCP, UDP, ICMP and ICMPv6.
 *
 * Every 16-bit value here is a number, as read big endian from the wire: a
 * checksum field holding bytes b8 61 is 0xb861. A "sum" is a ones' complement
 * accumulator folded to at most 0xffff; a "checksum" is the complement of a
 * folded sum, the value a header field carries. */
#ifndef SLUICE_NET_CSUM_H
#define SLUICE_NET_CSUM_H

#include <stddef.h>
#include <stdint.h>

struct pkt;

/* Adds len bytes, which start at an even offset of the checksummed data, to
 * sum. An odd last byte is padded with zero. Any alignment. */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum);
/* Folds a sum to 16 bits and complements it: the checksum to store, or 0 when
 * data that carries its own checksum verifies. */
uint16_t csum_fold(uint32_t sum);

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): the checksum after a 16-, 32- or
 * 128-bit field changes from old to new. */
uint16_t csum_replace2(uint16_t check, uint16_t old, uint16_t new);
uint16_t csum_replace4(uint16_t check, uint32_t old, uint32_t new);
uint16_t csum_replace16(uint16_t check, const uint8_t old[16], const uint8_t new[16]);

/* Sums of the pseudo-headers that TCP, UDP and ICMPv6 checksums cover. */
uint32_t csum_ipv4_pseudo(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
			  uint16_t len);
uint32_t csum_ipv6_pseudo(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
			  uint32_t len);

/* The checksum an IPv4 header of hlen bytes should carry (its own checksum
 * field is skipped). */
uint16_t csum_ipv4_header(const uint8_t *hdr, size_t hlen);

/* Over the pseudo-header (not for ICMPv4) and the whole L4 segment as it is:
 * 0 when its checksum field is right; with the field zeroed, the checksum.
 * Needs an L4 view (0xffff without one). */
uint16_t csum_l4(const struct pkt *p);
/* 0 when the L4 checksum verifies or UDP over IPv4 carries none (field 0);
 * -EBADMSG when it does not (UDP over IPv6 must carry one); -EOPNOTSUPP when
 * there is nothing to verify: no L4 view, a fragment, an inner packet. */
int csum_l4_verify(const struct pkt *p);
/* Computes and stores the L4 checksum (UDP's 0 as 0xffff); -EOPNOTSUPP as above. */
int csum_l4_fill(struct pkt *p);

#endif
