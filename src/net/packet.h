/* Zero-copy views of IPv4 and IPv6 packets (TCP, UDP, ICMP, ICMPv6 on top),
 * and the in-place rewrites NAT needs, each fixing the checksums it touches.
 *
 * A view points into the caller's buffer and lives as long as it. Every length
 * in the packet is checked before it is used: a view that pkt_parse() returns
 * never points outside [buf, buf + p->len). */
#ifndef SLUICE_NET_PACKET_H
#define SLUICE_NET_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "net/ip_wire.h"

enum pkt_flags {
	PKT_F_FRAG = 1 << 0,       /* one fragment of a datagram (offset or MF set) */
	PKT_F_MORE_FRAGS = 1 << 1, /* MF: more fragments follow */
	PKT_F_ECHO = 1 << 2,       /* ICMP/ICMPv6 echo request or reply: icmp_id holds */
	PKT_F_ICMP_ERROR = 1 << 3, /* ICMP/ICMPv6 error quoting a packet: see pkt_parse_inner() */
	PKT_F_INNER = 1 << 4,      /* the packet quoted inside an ICMP error */
	PKT_F_TRUNCATED = 1 << 5,  /* inner only: shorter than its header says */
};

struct pkt {
	uint8_t *buf;       /* the IP header */
	size_t len;         /* IP total length (inner: the bytes present); bytes past it are padding */
	size_t ip_hlen;     /* IPv4 header with options, or IPv6 header and extension headers walked */
	uint8_t *src;       /* source address inside buf, addr_len bytes */
	uint8_t *dst;
	uint8_t version;    /* 4 or 6 */
	uint8_t addr_len;   /* 4 or 16 */
	uint8_t proto;      /* upper-layer protocol (IP_PROTO_*), after any extension headers */
	uint8_t flags;      /* PKT_F_* */
	uint16_t frag_off;  /* fragment offset in bytes */
	uint32_t frag_id;   /* IPv4 identification or IPv6 fragment identification */

	/* The L4 header: set for TCP, UDP, ICMP (over IPv4) and ICMPv6 (over IPv6)
	 * unless this is a non-first fragment; NULL otherwise. A first fragment holds
	 * the whole L4 header (RFC 1858, RFC 7112) or does not parse. */
	uint8_t *l4;
	size_t l4_len;      /* header and payload; UDP: its length field (bytes after it are padding) */
	size_t l4_hlen;     /* 8 for UDP, ICMP, ICMPv6; the data offset for TCP */
	/* What follows the last header understood: L4 payload, a non-first
	 * fragment's data, or the body of a protocol not parsed (ESP, ...). */
	uint8_t *payload;
	size_t payload_len;

	uint16_t sport;     /* TCP/UDP ports, host order */
	uint16_t dport;
	uint8_t icmp_type;  /* ICMP/ICMPv6 */
	uint8_t icmp_code;
	uint16_t icmp_id;   /* with PKT_F_ECHO, host order */

	/* Inner views: the enclosing ICMP error's checksum, which every rewrite
	 * through this view keeps right. NULL otherwise. */
	uint8_t *outer_csum;
};

/* Parses the packet in buf[0, len): 0, or
 *   -EBADMSG          truncated, or a length or field that does not add up
 *                     (also: more than IPV6_EXT_MAX extension headers,
 *                     hop-by-hop not first, a datagram past 65535 bytes);
 *   -EPROTONOSUPPORT  IP version neither 4 nor 6;
 *   -EILSEQ           only the IPv4 header checksum is wrong: the view is then
 *                     complete, for a caller that wants to count or log it.
 * ESP and no-next-header end the walk with proto set and l4 NULL. */
int pkt_parse(struct pkt *p, uint8_t *buf, size_t len);

/* Views the packet quoted by an ICMP or ICMPv6 error (outer has
 * PKT_F_ICMP_ERROR): same IP version, complete headers up to 8 bytes of L4,
 * which give the ports or the echo id; the rest may be cut short. Header and
 * L4 checksums are not verified. 0, -EINVAL (not an error, or itself inner),
 * -EBADMSG, -EPROTONOSUPPORT. */
int pkt_parse_inner(struct pkt *inner, const struct pkt *outer);

/* In-place rewrites. Each fixes the IPv4 header checksum and, when the field
 * is present, the TCP, UDP or ICMPv6 checksum incrementally, so a checksum
 * that verified still does and one that did not still does not. A UDP
 * checksum of 0 (none) is left alone; a computed 0 is stored as 0xffff.
 * Addresses: len must be p->addr_len, else -EINVAL. Ports: TCP or UDP with an
 * L4 view, else -EOPNOTSUPP. ICMP id: echo only, else -EOPNOTSUPP. The view's
 * fields follow the change. A non-first fragment carries no L4 checksum: NAT
 * that rewrites every fragment alike keeps the datagram's right, as the first
 * fragment holds it. */
int pkt_set_src_addr(struct pkt *p, const void *addr, size_t len);
int pkt_set_dst_addr(struct pkt *p, const void *addr, size_t len);
int pkt_set_src_port(struct pkt *p, uint16_t port);
int pkt_set_dst_port(struct pkt *p, uint16_t port);
int pkt_set_icmp_id(struct pkt *p, uint16_t id);

#endif
