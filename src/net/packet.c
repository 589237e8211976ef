#include "net/packet.h"
#include "lib/bytes.h"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "lib/cursor.h"
#include "net/csum.h"

/* ip_wire.h names its own protocol numbers; they must be libc's. */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(IP_PROTO_TCP, IPPROTO_TCP) && SAME(IP_PROTO_UDP, IPPROTO_UDP) &&
	       SAME(IP_PROTO_ICMP, IPPROTO_ICMP) && SAME(IP_PROTO_ICMPV6, IPPROTO_ICMPV6) &&
	       SAME(IP_PROTO_HOPOPTS, IPPROTO_HOPOPTS) && SAME(IP_PROTO_ROUTING, IPPROTO_ROUTING) &&
	       SAME(IP_PROTO_FRAGMENT, IPPROTO_FRAGMENT) && SAME(IP_PROTO_ESP, IPPROTO_ESP) &&
	       SAME(IP_PROTO_AH, IPPROTO_AH) && SAME(IP_PROTO_NONE, IPPROTO_NONE) &&
	       SAME(IP_PROTO_DSTOPTS, IPPROTO_DSTOPTS), "IANA protocol numbers");
/* set_port() relies on TCP and UDP keeping their ports in the same place. */
_Static_assert(SAME(TCP_OFF_SPORT, UDP_OFF_SPORT) && SAME(TCP_OFF_DPORT, UDP_OFF_DPORT), "ports");
#undef SAME

static bool is_inner(const struct pkt *p)
{
	return p->flags & PKT_F_INNER;
}

static void set_payload(struct pkt *p, size_t off)
{
	p->payload = p->buf + off;
	p->payload_len = p->len - off;
}

static bool icmp_is_error(uint8_t version, uint8_t type)
{
	if (version == 4)
		return type == ICMP_TYPE_DEST_UNREACH || type == ICMP_TYPE_SOURCE_QUENCH ||
		       type == ICMP_TYPE_REDIRECT || type == ICMP_TYPE_TIME_EXCEEDED ||
		       type == ICMP_TYPE_PARAM_PROBLEM;
	return type == ICMPV6_TYPE_DEST_UNREACH || type == ICMPV6_TYPE_PKT_TOO_BIG ||
	       type == ICMPV6_TYPE_TIME_EXCEEDED || type == ICMPV6_TYPE_PARAM_PROBLEM;
}

static bool icmp_is_echo(uint8_t version, uint8_t type)
{
	if (version == 4)
		return type == ICMP_TYPE_ECHO_REQUEST || type == ICMP_TYPE_ECHO_REPLY;
	return type == ICMPV6_TYPE_ECHO_REQUEST || type == ICMPV6_TYPE_ECHO_REPLY;
}

/* The L4 header at the cursor, which ends at p->len. A whole datagram must
 * hold what its headers claim; a first fragment at least the whole L4 header;
 * a quoted packet its first 8 bytes. */
static int parse_l4(struct pkt *p, struct cursor *c)
{
	size_t start = c->pos, rest = cur_remaining(c), hlen, l4_len = rest;
	bool whole = !(p->flags & (PKT_F_FRAG | PKT_F_INNER));
	uint16_t ulen;
	uint8_t type;

	switch (p->proto) {
	case IP_PROTO_TCP:
		p->sport = cur_be16(c);
		p->dport = cur_be16(c);
		if (is_inner(p) && rest <= TCP_OFF_DOFF) {
			hlen = rest;
			break;
		}
		cur_seek(c, start + TCP_OFF_DOFF);
		hlen = (size_t)(cur_u8(c) >> 4) * 4;
		if (hlen < TCP_HDR_LEN)
			return -EBADMSG;
		if (is_inner(p) && hlen > rest)
			hlen = rest;
		break;
	case IP_PROTO_UDP:
		p->sport = cur_be16(c);
		p->dport = cur_be16(c);
		ulen = cur_be16(c);
		hlen = UDP_HDR_LEN;
		if (c->err || ulen < UDP_HDR_LEN)
			return -EBADMSG;
		if (whole) {
			/* Bytes past the UDP length are padding, as Linux trims them. */
			if (ulen > rest)
				return -EBADMSG;
			l4_len = ulen;
		} else if ((p->flags & PKT_F_FRAG) && ulen < rest) {
			/* A first fragment cannot carry more than the datagram. */
			return -EBADMSG;
		}
		break;
	case IP_PROTO_ICMP:
	case IP_PROTO_ICMPV6:
		/* ICMP belongs to IPv4 and ICMPv6 to IPv6; crossed, neither is parsed. */
		if ((p->proto == IP_PROTO_ICMP) != (p->version == 4))
			goto no_l4;
		type = cur_u8(c);
		p->icmp_type = type;
		p->icmp_code = cur_u8(c);
		cur_skip(c, 2);
		if (icmp_is_echo(p->version, type)) {
			p->icmp_id = cur_be16(c);
			p->flags |= PKT_F_ECHO;
		} else if (icmp_is_error(p->version, type)) {
			p->flags |= PKT_F_ICMP_ERROR;
		}
		hlen = ICMP_HDR_LEN;
		break;
	default:
		goto no_l4;
	}
	if (c->err || hlen > rest || rest < ICMP_HDR_LEN)
		return -EBADMSG;
	p->l4 = p->buf + start;
	p->l4_len = l4_len;
	p->l4_hlen = hlen;
	p->payload = p->l4 + hlen;
	p->payload_len = l4_len - hlen;
	return 0;
no_l4:
	set_payload(p, start);
	return 0;
}

static int parse_ipv4(struct pkt *p, struct cursor *c)
{
	size_t hlen, tot;
	uint16_t frag;

	hlen = (size_t)(cur_u8(c) & 0x0f) * 4;
	cur_skip(c, IPV4_OFF_TOT_LEN - 1);
	tot = cur_be16(c);
	p->frag_id = cur_be16(c);
	frag = cur_be16(c);
	cur_skip(c, IPV4_OFF_PROTO - IPV4_OFF_TTL);
	p->proto = cur_u8(c);
	cur_skip(c, IPV4_HDR_LEN - IPV4_OFF_CSUM);
	if (c->err || hlen < IPV4_HDR_LEN || tot < hlen || hlen > c->len)
		return -EBADMSG;
	p->frag_off = (uint16_t)((frag & IPV4_FRAG_OFF_MASK) * 8);
	if (frag & IPV4_FRAG_MF)
		p->flags |= PKT_F_FRAG | PKT_F_MORE_FRAGS;
	if (p->frag_off)
		p->flags |= PKT_F_FRAG;
	/* No fragment may end past the largest datagram (the ping of death). */
	if (p->frag_off + tot > IPV4_TOTAL_MAX)
		return -EBADMSG;
	if (tot > c->len) {
		if (!is_inner(p))
			return -EBADMSG;
		p->flags |= PKT_F_TRUNCATED;
		tot = c->len;
	}
	p->len = tot;
	p->ip_hlen = hlen;
	p->src = p->buf + IPV4_OFF_SRC;
	p->dst = p->buf + IPV4_OFF_DST;
	cur_init_ro(c, p->buf, tot);
	cur_seek(c, hlen);
	if (p->frag_off) {
		set_payload(p, hlen);
		return 0;
	}
	return parse_l4(p, c);
}

static bool is_ext_hdr(uint8_t nh)
{
	return nh == IP_PROTO_HOPOPTS || nh == IP_PROTO_ROUTING || nh == IP_PROTO_DSTOPTS ||
	       nh == IP_PROTO_FRAGMENT || nh == IP_PROTO_AH;
}

/* Walks the extension headers to the upper-layer header. A non-first fragment
 * ends the walk: what follows its fragment header is data, not a header. */
static int walk_ipv6_ext(struct pkt *p, struct cursor *c, uint8_t *nh)
{
	bool frag_seen = false;

	for (unsigned n = 0; is_ext_hdr(*nh); n++) {
		size_t start = c->pos;
		uint16_t offlg;
		uint8_t next, elen;

		/* Hop-by-hop only ever comes first (RFC 8200 4.1); a bounded walk
		 * keeps a long chain from costing more than a few reads. */
		if (n == IPV6_EXT_MAX || (*nh == IP_PROTO_HOPOPTS && n))
			return -EBADMSG;
		next = cur_u8(c);
		elen = cur_u8(c);
		switch (*nh) {
		case IP_PROTO_FRAGMENT:
			if (frag_seen)
				return -EBADMSG;
			frag_seen = true;
			offlg = cur_be16(c);
			p->frag_id = cur_be32(c);
			p->frag_off = offlg & IPV6_FRAG_OFF_MASK;
			if (offlg & IPV6_FRAG_MF)
				p->flags |= PKT_F_FRAG | PKT_F_MORE_FRAGS;
			if (p->frag_off)
				p->flags |= PKT_F_FRAG;
			break;
		case IP_PROTO_AH:
			cur_seek(c, start + ((size_t)elen + 2) * 4);
			break;
		default:
			cur_seek(c, start + ((size_t)elen + 1) * 8);
			break;
		}
		if (c->err)
			return -EBADMSG;
		*nh = next;
		if (p->flags & PKT_F_FRAG) {
			/* The reassembled payload may not pass 65535 bytes either. */
			if (p->frag_off + (p->len - IPV6_HDR_LEN) > IPV6_PAYLOAD_MAX + IPV6_FRAG_HDR_LEN)
				return -EBADMSG;
			if (p->frag_off)
				break;
		}
	}
	return 0;
}

static int parse_ipv6(struct pkt *p, struct cursor *c)
{
	size_t tot;
	uint8_t nh;
	int ret;

	cur_skip(c, IPV6_OFF_PAYLOAD_LEN);
	tot = IPV6_HDR_LEN + (size_t)cur_be16(c);
	nh = cur_u8(c);
	cur_skip(c, IPV6_HDR_LEN - IPV6_OFF_HOP_LIMIT);
	if (c->err)
		return -EBADMSG;
	/* A payload length of 0 with a jumbo option (RFC 2675) fails the walk. */
	if (tot > c->len) {
		if (!is_inner(p))
			return -EBADMSG;
		p->flags |= PKT_F_TRUNCATED;
		tot = c->len;
	}
	p->len = tot;
	p->src = p->buf + IPV6_OFF_SRC;
	p->dst = p->buf + IPV6_OFF_DST;
	cur_init_ro(c, p->buf, tot);
	cur_seek(c, IPV6_HDR_LEN);
	ret = walk_ipv6_ext(p, c, &nh);
	if (ret)
		return ret;
	p->proto = nh;
	p->ip_hlen = c->pos;
	if (p->frag_off) {
		set_payload(p, c->pos);
		return 0;
	}
	return parse_l4(p, c);
}

static int parse_ip(struct pkt *p, uint8_t *buf, size_t len)
{
	struct cursor c;

	p->buf = buf;
	cur_init_ro(&c, buf, len);
	p->version = cur_u8(&c) >> 4;
	if (c.err)
		return -EBADMSG;
	cur_seek(&c, 0);
	switch (p->version) {
	case 4:
		p->addr_len = IPV4_ADDR_LEN;
		return parse_ipv4(p, &c);
	case 6:
		p->addr_len = IPV6_ADDR_LEN;
		return parse_ipv6(p, &c);
	default:
		return -EPROTONOSUPPORT;
	}
}

int pkt_parse(struct pkt *p, uint8_t *buf, size_t len)
{
	int ret;

	memset(p, 0, sizeof(*p));
	ret = parse_ip(p, buf, len);
	if (ret)
		return ret;
	/* Last, so that a bad checksum still leaves a complete view. */
	if (p->version == 4 && csum_fold(csum_partial(buf, p->ip_hlen, 0)) != 0)
		return -EILSEQ;
	return 0;
}

int pkt_parse_inner(struct pkt *inner, const struct pkt *outer)
{
	int ret;

	if (!(outer->flags & PKT_F_ICMP_ERROR) || is_inner(outer) || !outer->l4)
		return -EINVAL;
	memset(inner, 0, sizeof(*inner));
	inner->flags = PKT_F_INNER;
	inner->outer_csum = outer->l4 + ICMP_OFF_CSUM;
	ret = parse_ip(inner, outer->l4 + ICMP_HDR_LEN, outer->l4_len - ICMP_HDR_LEN);
	if (ret)
		return ret;
	return inner->version == outer->version ? 0 : -EBADMSG;
}

/* Every store goes through here, because a write inside a quoted packet
 * changes the ICMP error's checksum too. Inner headers start 8 bytes into the
 * ICMP message and every field lies at an even offset, so a 16-bit update of
 * the outer checksum is exact. */
static void store16(const struct pkt *p, uint8_t *at, uint16_t v)
{
	uint16_t old = get_be16(at);

	put_be16(at, v);
	if (p->outer_csum)
		put_be16(p->outer_csum, csum_replace2(get_be16(p->outer_csum), old, v));
}

/* A computed L4 checksum of 0 goes out as 0xffff, the same ones' complement
 * value: UDP reads 0 as "none", and an all-zero ICMP message only verifies
 * with 0xffff. */
static void store_l4_csum(const struct pkt *p, uint8_t *at, uint16_t v)
{
	store16(p, at, v ? v : 0xffff);
}

/* The L4 checksum field a rewrite must keep right, or NULL: no L4 view, a
 * quoted TCP header cut before it, or UDP with none. */
static uint8_t *l4_csum_field(const struct pkt *p)
{
	size_t off;

	if (!p->l4)
		return NULL;
	switch (p->proto) {
	case IP_PROTO_TCP:
		off = TCP_OFF_CSUM;
		break;
	case IP_PROTO_UDP:
		off = UDP_OFF_CSUM;
		break;
	default:
		off = ICMP_OFF_CSUM;
		break;
	}
	if (off + 2 > p->l4_hlen)
		return NULL;
	if (p->proto == IP_PROTO_UDP && get_be16(p->l4 + off) == 0)
		return NULL;
	return p->l4 + off;
}

static int set_addr(struct pkt *p, uint8_t *field, const void *addr, size_t len)
{
	uint8_t old[IPV6_ADDR_LEN], new[IPV6_ADDR_LEN];
	uint8_t *l4c;

	if (len != p->addr_len)
		return -EINVAL;
	memcpy(new, addr, len);
	if (!memcmp(field, new, len))
		return 0;
	memcpy(old, field, len);
	/* ICMPv4 is the one L4 checksum without a pseudo-header. */
	l4c = p->proto == IP_PROTO_ICMP ? NULL : l4_csum_field(p);
	for (size_t i = 0; i < len; i += 2)
		store16(p, field + i, get_be16(new + i));
	if (p->version == 4) {
		uint8_t *ipc = p->buf + IPV4_OFF_CSUM;

		store16(p, ipc, csum_replace4(get_be16(ipc), get_be32(old), get_be32(new)));
		if (l4c)
			store_l4_csum(p, l4c, csum_replace4(get_be16(l4c), get_be32(old), get_be32(new)));
	} else if (l4c) {
		store_l4_csum(p, l4c, csum_replace16(get_be16(l4c), old, new));
	}
	return 0;
}

int pkt_set_src_addr(struct pkt *p, const void *addr, size_t len)
{
	return set_addr(p, p->src, addr, len);
}

int pkt_set_dst_addr(struct pkt *p, const void *addr, size_t len)
{
	return set_addr(p, p->dst, addr, len);
}

/* Rewrites a 16-bit word of the L4 header, which the L4 checksum covers. */
static void set_l4_word(struct pkt *p, size_t off, uint16_t v)
{
	uint8_t *at = p->l4 + off, *l4c = l4_csum_field(p);
	uint16_t old = get_be16(at);

	if (old == v)
		return;
	store16(p, at, v);
	if (l4c)
		store_l4_csum(p, l4c, csum_replace2(get_be16(l4c), old, v));
}

static int set_port(struct pkt *p, size_t off, uint16_t port)
{
	if (!p->l4 || (p->proto != IP_PROTO_TCP && p->proto != IP_PROTO_UDP))
		return -EOPNOTSUPP;
	set_l4_word(p, off, port);
	return 0;
}

int pkt_set_src_port(struct pkt *p, uint16_t port)
{
	int ret = set_port(p, TCP_OFF_SPORT, port);

	if (!ret)
		p->sport = port;
	return ret;
}

int pkt_set_dst_port(struct pkt *p, uint16_t port)
{
	int ret = set_port(p, TCP_OFF_DPORT, port);

	if (!ret)
		p->dport = port;
	return ret;
}

int pkt_set_icmp_id(struct pkt *p, uint16_t id)
{
	if (!p->l4 || !(p->flags & PKT_F_ECHO))
		return -EOPNOTSUPP;
	set_l4_word(p, ICMP_OFF_ID, id);
	p->icmp_id = id;
	return 0;
}
