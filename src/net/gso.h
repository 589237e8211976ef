/* TUN offloads (IFF_VNET_HDR): splitting the super-packets a TUN read returns
 * into wire-sized IP packets (GSO), and joining the TCP segments of one flow
 * into one super-packet for a single TUN write (GRO).
 *
 * Follows Linux: virtio_net_hdr_to_skb(), tcp_gso_segment(),
 * __udp_gso_segment(), inet_gso_segment() and tcp_gro_receive(). */
#ifndef SLUICE_NET_GSO_H
#define SLUICE_NET_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The virtio-net header a TUN with IFF_VNET_HDR puts before each packet (10
 * bytes, host byte order: the TUN's legacy default, little endian on
 * little-endian hosts). */
enum { VNET_HDR_LEN = 10 };
enum { VNET_F_NEEDS_CSUM = 1, VNET_F_DATA_VALID = 2 };
enum {
	VNET_GSO_NONE = 0,
	VNET_GSO_TCPV4 = 1,
	VNET_GSO_UDP = 3,    /* UFO: never enabled, refused */
	VNET_GSO_TCPV6 = 4,
	VNET_GSO_UDP_L4 = 5, /* USO, Linux >= 6.2 (TUN_F_USO4/6) */
	VNET_GSO_ECN = 0x80, /* TCP only: the first segment carries CWR */
};

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

void vnet_hdr_decode(struct vnet_hdr *h, const uint8_t raw[VNET_HDR_LEN]);
void vnet_hdr_encode(uint8_t raw[VNET_HDR_LEN], const struct vnet_hdr *h);

/* Completes a partial checksum in place (VNET_F_NEEDS_CSUM: the field at
 * csum_start + csum_offset holds the pseudo-header sum; the sum over
 * [csum_start, len) is folded into it; a result of 0 is stored as 0xffff).
 * 0 (also without the flag), or -EBADMSG if the offsets lie outside. */
int gso_complete_csum(uint8_t *pkt, size_t len, const struct vnet_hdr *h);

/* Splits one super-packet read from the TUN (after its vnet header) into
 * wire-ready IP packets: for VNET_GSO_TCPV4/TCPV6 segments of gso_size payload
 * bytes each (IPv4 total length, id (+i) and header checksum; IPv6 payload
 * length; TCP seq (+i*gso_size), FIN/PSH only on the last, CWR only on the
 * first; full TCP checksums), for VNET_GSO_UDP_L4 UDP datagrams of gso_size
 * (UDP length and checksum each; IPv4 id +i), for VNET_GSO_NONE one packet
 * with its checksum completed if NEEDS_CSUM. Segment i is written to
 * outs[i] + headroom (each outs[i] has cap bytes); lens[i] gets its length.
 * hdr_len from the header is not trusted: recomputed from the packet. IPv6
 * extension headers and IPv4 fragments are refused. Returns the number of
 * segments (<= max_segs), or -EBADMSG (malformed, inconsistent gso type vs
 * packet, gso_size 0 with a GSO type), -EMSGSIZE (a segment would not fit in
 * cap - headroom, or more than max_segs segments). */
int gso_split(const uint8_t *pkt, size_t len, const struct vnet_hdr *h,
	      uint8_t *const *outs, size_t cap, size_t headroom, size_t *lens, unsigned max_segs);

/* TCP coalescing for TUN writes (the receive direction): consecutive segments
 * of one flow (same addresses, ports, IP header fields but length/id/checksum,
 * TCP header identical but seq/checksum/PSH; seq contiguous; only ACK(/PSH)
 * flags; every segment's payload equal to the first's except the last, which
 * may be shorter and then closes the batch, as PSH does; IPv4 without
 * fragmentation; IPv6 without extension headers) are joined into one
 * super-packet written with a vnet header (VNET_GSO_TCPV4/6, gso_size = the
 * first segment's payload length, NEEDS_CSUM with csum_start/offset and the
 * folded, uncomplemented pseudo-header sum over the whole TCP length in the
 * TCP checksum field), so the kernel takes a whole burst in one write. */
struct gro { /* caller-owned, one per thread */
	uint8_t *buf;     /* VNET_HDR_LEN + up to 65535 bytes of packet */
	size_t cap;
	size_t len;       /* bytes of packet in buf after the vnet header; 0 = empty */
	unsigned segs;
	/* The flow key is the first segment's headers, kept in buf. */
	uint32_t next_seq;
	uint16_t mss;     /* the first segment's payload length */
	uint8_t ip_hlen;
	uint8_t hdr_len;  /* IP and TCP headers */
	bool closed;      /* a short or PSH segment ended the batch */
};

void gro_init(struct gro *g, uint8_t *buf, size_t cap);
/* Offers one complete IP packet (as decrypted: the receiver trusts the
 * tunnel's AEAD, so checksums are not verified). Returns 1 if it joined (or
 * started) the batch, 0 if it cannot join: the caller then flushes (gro_flush)
 * and offers it again, which starts a new batch, or, if it is not TCP at all /
 * not coalescable (returns 0 on an empty batch), writes it alone with
 * gro_plain_hdr(). Never copies more than fits in cap. */
int gro_add(struct gro *g, const uint8_t *pkt, size_t len);
/* Finishes the batch: writes the vnet header at g->buf and fixes the lengths
 * and checksums; returns the number of bytes to write() from g->buf (vnet
 * header included), 0 if empty; resets g. A batch of one segment is written
 * as it came (but for bytes past its IP length), a plain packet (gso_type
 * NONE) with its own checksum. */
size_t gro_flush(struct gro *g);
/* The 10 zero bytes to prepend to a packet written alone. */
void gro_plain_hdr(uint8_t raw[VNET_HDR_LEN]);

#endif
