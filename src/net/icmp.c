/* ICMP "administratively prohibited" for a refused packet. See icmp.h. */
#include "net/icmp.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "lib/cursor.h"
#include "net/csum.h"
#include "net/packet.h"

enum { IPV4_TOS_INTERNETCONTROL = 0xc0 }; /* as Linux sends its ICMP errors */

static bool ipv4_single_host(const uint8_t a[4])
{
	/* 0/8 (this network), 127/8 (loopback), 224/4 (multicast), 240/4 (class
	 * E and the limited broadcast). A subnet's directed broadcast cannot be
	 * told from here; the kernel does not route one into the tunnel. */
	return a[0] != 0 && a[0] != 127 && a[0] < 224;
}

static bool ipv6_single_host(const uint8_t a[16])
{
	static const uint8_t loopback[16] = { [15] = 1 };
	static const uint8_t zero[16];

	return a[0] != 0xff && memcmp(a, zero, 16) != 0 && memcmp(a, loopback, 16) != 0;
}

/* RFC 1122 3.2.2: never an error about an error. Types not known to be
 * informational count as errors, as Linux's icmp_pointers[] does. */
static bool icmp4_informational(uint8_t type)
{
	return type == ICMP_TYPE_ECHO_REPLY || type == ICMP_TYPE_ECHO_REQUEST ||
	       (type >= 13 && type <= 18); /* timestamp, information, address mask */
}

/* Whether pkt may be answered with an error at all. */
static bool answerable(const struct pkt *p)
{
	if (p->frag_off)
		return false;
	if (p->version == 4) {
		if (!ipv4_single_host(p->src) || !ipv4_single_host(p->dst))
			return false;
		if (p->proto == IP_PROTO_ICMP)
			return p->l4 && icmp4_informational(p->icmp_type);
		return true;
	}
	if (!ipv6_single_host(p->src) || !ipv6_single_host(p->dst))
		return false;
	if (p->proto == IP_PROTO_ICMPV6)
		return p->l4 && p->icmp_type >= ICMPV6_TYPE_ECHO_REQUEST; /* RFC 4443 2.1 */
	return true;
}

int icmp_prohibited(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	struct pkt p;
	struct cursor c;
	size_t hdr, max, quote;
	uint8_t *ip, *icmp;
	uint32_t sum;
	int r;

	/* pkt_parse() only reads; its view is not kept past this call. */
	r = pkt_parse(&p, (uint8_t *)pkt, len);
	if (r < 0 || !answerable(&p))
		return -EINVAL;
	hdr = (p.version == 4 ? IPV4_HDR_LEN : IPV6_HDR_LEN) + ICMP_HDR_LEN;
	max = p.version == 4 ? ICMP_ERR_MAX4 : ICMP_ERR_MAX6;
	if (cap < max)
		max = cap;
	/* At least the offending IP header and 8 bytes past it (RFC 792), or as
	 * much as the packet has: that is what identifies the socket. */
	quote = p.ip_hlen + 8 < p.len ? p.ip_hlen + 8 : p.len;
	if (max < hdr + quote)
		return -EMSGSIZE;
	quote = p.len < max - hdr ? p.len : max - hdr;

	ip = out;
	cur_init(&c, out, cap);
	if (p.version == 4) {
		cur_put_u8(&c, 4 << 4 | IPV4_HDR_LEN / 4);
		cur_put_u8(&c, IPV4_TOS_INTERNETCONTROL);
		cur_put_be16(&c, (uint16_t)(hdr + quote));
		cur_put_be32(&c, 0); /* id, flags, offset: too short to be fragmented */
		cur_put_u8(&c, ICMP_ERR_HOP_LIMIT);
		cur_put_u8(&c, IP_PROTO_ICMP);
		cur_put_be16(&c, 0); /* header checksum, below */
		cur_put_bytes(&c, p.dst, 4);
		cur_put_bytes(&c, p.src, 4);
	} else {
		cur_put_be32(&c, 6u << 28);
		cur_put_be16(&c, (uint16_t)(ICMP_HDR_LEN + quote));
		cur_put_u8(&c, IP_PROTO_ICMPV6);
		cur_put_u8(&c, ICMP_ERR_HOP_LIMIT);
		cur_put_bytes(&c, p.dst, 16);
		cur_put_bytes(&c, p.src, 16);
	}
	icmp = ip + hdr - ICMP_HDR_LEN;
	cur_put_u8(&c, p.version == 4 ? ICMP_TYPE_DEST_UNREACH : ICMPV6_TYPE_DEST_UNREACH);
	cur_put_u8(&c, p.version == 4 ? ICMP_CODE_ADMIN_PROHIBITED : ICMPV6_CODE_ADMIN_PROHIBITED);
	cur_put_be16(&c, 0); /* checksum, below */
	cur_put_be32(&c, 0); /* unused */
	cur_put_bytes(&c, pkt, quote);
	if (c.err)
		return -EMSGSIZE;

	if (p.version == 4) {
		uint16_t h = csum_ipv4_header(ip, IPV4_HDR_LEN);

		ip[IPV4_OFF_CSUM] = (uint8_t)(h >> 8);
		ip[IPV4_OFF_CSUM + 1] = (uint8_t)h;
		sum = 0;
	} else {
		sum = csum_ipv6_pseudo(ip + IPV6_OFF_SRC, ip + IPV6_OFF_DST, IP_PROTO_ICMPV6,
				       (uint32_t)(ICMP_HDR_LEN + quote));
	}
	sum = csum_fold(csum_partial(icmp, ICMP_HDR_LEN + quote, sum));
	icmp[ICMP_OFF_CSUM] = (uint8_t)(sum >> 8);
	icmp[ICMP_OFF_CSUM + 1] = (uint8_t)sum;
	return (int)c.pos;
}
