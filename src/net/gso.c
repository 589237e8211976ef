#include "net/gso.h"
#include "lib/bytes.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "net/csum.h"
#include "net/ip_wire.h"

enum {
	TCP_FLAG_ECE = 0x40,
	TCP_FLAG_CWR = 0x80,
	GSO_PKT_MAX = 65535, /* IPv4 total length; also where a GRO batch stops */
};

/* Host order, as a TUN without TUNSETVNETLE/BE speaks it (virtio legacy). */
static uint16_t get_host16(const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

static void put_host16(uint8_t *b, uint16_t v)
{
	memcpy(b, &v, sizeof(v));
}

void vnet_hdr_decode(struct vnet_hdr *h, const uint8_t raw[VNET_HDR_LEN])
{
	h->flags = raw[0];
	h->gso_type = raw[1];
	h->hdr_len = get_host16(raw + 2);
	h->gso_size = get_host16(raw + 4);
	h->csum_start = get_host16(raw + 6);
	h->csum_offset = get_host16(raw + 8);
}

void vnet_hdr_encode(uint8_t raw[VNET_HDR_LEN], const struct vnet_hdr *h)
{
	raw[0] = h->flags;
	raw[1] = h->gso_type;
	put_host16(raw + 2, h->hdr_len);
	put_host16(raw + 4, h->gso_size);
	put_host16(raw + 6, h->csum_start);
	put_host16(raw + 8, h->csum_offset);
}

int gso_complete_csum(uint8_t *pkt, size_t len, const struct vnet_hdr *h)
{
	size_t start = h->csum_start, at = start + h->csum_offset;
	uint16_t c;

	if (!(h->flags & VNET_F_NEEDS_CSUM))
		return 0;
	if (at + 2 > len)
		return -EBADMSG;
	/* The field's pseudo-header sum is part of the data summed. A 0 goes
	 * out as 0xffff, as skb_checksum_help() does: UDP reads 0 as "none". */
	c = csum_fold(csum_partial(pkt + start, len - start, 0));
	put_be16(pkt + at, c ? c : 0xffff);
	return 0;
}

/* What gso_split() takes from a super-packet's headers, all checked against
 * the bytes present. */
struct layout {
	size_t tot;       /* IP length: bytes past it are ignored */
	size_t ip_hlen;
	size_t hdr_len;   /* IP and L4 headers: what every segment repeats */
	size_t payload;
	uint8_t version;
	uint8_t proto;
};

static int layout_parse(struct layout *l, const uint8_t *pkt, size_t len)
{
	size_t l4_min;

	if (len < 1)
		return -EBADMSG;
	l->version = pkt[0] >> 4;
	if (l->version == 4) {
		if (len < IPV4_HDR_LEN)
			return -EBADMSG;
		l->ip_hlen = (size_t)(pkt[IPV4_OFF_VER_IHL] & 0x0f) * 4;
		l->tot = get_be16(pkt + IPV4_OFF_TOT_LEN);
		l->proto = pkt[IPV4_OFF_PROTO];
		if (l->ip_hlen < IPV4_HDR_LEN || l->tot < l->ip_hlen || l->tot > len)
			return -EBADMSG;
		/* A fragment cannot be segmented: its L4 header is elsewhere. */
		if (get_be16(pkt + IPV4_OFF_FRAG) & (IPV4_FRAG_MF | IPV4_FRAG_OFF_MASK))
			return -EBADMSG;
	} else if (l->version == 6) {
		if (len < IPV6_HDR_LEN)
			return -EBADMSG;
		l->ip_hlen = IPV6_HDR_LEN;
		l->tot = IPV6_HDR_LEN + (size_t)get_be16(pkt + IPV6_OFF_PAYLOAD_LEN);
		/* Extension headers (and jumbograms) are refused: the kernel
		 * puts none on what it segments for us. */
		l->proto = pkt[IPV6_OFF_NEXT];
		if (l->tot > len)
			return -EBADMSG;
	} else {
		return -EBADMSG;
	}
	if (l->proto == IP_PROTO_TCP)
		l4_min = TCP_HDR_LEN;
	else if (l->proto == IP_PROTO_UDP)
		l4_min = UDP_HDR_LEN;
	else
		return -EBADMSG;
	if (l->tot - l->ip_hlen < l4_min)
		return -EBADMSG;
	l->hdr_len = l->ip_hlen + l4_min;
	if (l->proto == IP_PROTO_TCP) {
		size_t doff = (size_t)(pkt[l->ip_hlen + TCP_OFF_DOFF] >> 4) * 4;

		if (doff < TCP_HDR_LEN || doff > l->tot - l->ip_hlen)
			return -EBADMSG;
		l->hdr_len = l->ip_hlen + doff;
	}
	l->payload = l->tot - l->hdr_len;
	return 0;
}

/* Whether the vnet header agrees with the packet: the kernel's own super-
 * packets always do, so a mismatch means we misread one or were fed junk. */
static int layout_check(const struct layout *l, const struct vnet_hdr *h)
{
	uint8_t type = h->gso_type & (uint8_t)~VNET_GSO_ECN;
	bool ecn = h->gso_type & VNET_GSO_ECN;

	switch (type) {
	case VNET_GSO_TCPV4:
		if (l->version != 4 || l->proto != IP_PROTO_TCP)
			return -EBADMSG;
		break;
	case VNET_GSO_TCPV6:
		if (l->version != 6 || l->proto != IP_PROTO_TCP)
			return -EBADMSG;
		break;
	case VNET_GSO_UDP_L4:
		if (l->proto != IP_PROTO_UDP || ecn)
			return -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	/* As tcp_gso_segment() and __udp_gso_segment() require. */
	if ((h->flags & VNET_F_NEEDS_CSUM) &&
	    (h->csum_start != l->ip_hlen ||
	     h->csum_offset != (l->proto == IP_PROTO_TCP ? TCP_OFF_CSUM : UDP_OFF_CSUM)))
		return -EBADMSG;
	return 0;
}

static uint32_t pseudo_sum(const uint8_t *ip, uint8_t version, uint8_t proto, size_t l4_len)
{
	if (version == 4)
		return csum_ipv4_pseudo(ip + IPV4_OFF_SRC, ip + IPV4_OFF_DST, proto,
					(uint16_t)l4_len);
	return csum_ipv6_pseudo(ip + IPV6_OFF_SRC, ip + IPV6_OFF_DST, proto, (uint32_t)l4_len);
}

/* Writes segment i of n: the headers again, n bytes of payload from off, and
 * every field that differs per segment. */
static size_t segment_write(uint8_t *out, const uint8_t *pkt, const struct layout *l,
			    size_t off, size_t n, unsigned i, unsigned last, uint16_t mss)
{
	size_t seg_len = l->hdr_len + n, l4_len = seg_len - l->ip_hlen;
	uint8_t *l4 = out + l->ip_hlen;
	uint16_t c;

	memcpy(out, pkt, l->hdr_len);
	memcpy(out + l->hdr_len, pkt + l->hdr_len + off, n);
	if (l->version == 4) {
		/* inet_gso_segment(): every segment takes the next id. */
		put_be16(out + IPV4_OFF_TOT_LEN, (uint16_t)seg_len);
		put_be16(out + IPV4_OFF_ID, (uint16_t)(get_be16(pkt + IPV4_OFF_ID) + i));
		put_be16(out + IPV4_OFF_CSUM, csum_ipv4_header(out, l->ip_hlen));
	} else {
		put_be16(out + IPV6_OFF_PAYLOAD_LEN, (uint16_t)l4_len);
	}
	if (l->proto == IP_PROTO_TCP) {
		put_be32(l4 + TCP_OFF_SEQ, get_be32(pkt + l->ip_hlen + TCP_OFF_SEQ) + (uint32_t)i * mss);
		/* tcp_gso_segment(): FIN and PSH end the burst, CWR starts it. */
		if (i != last)
			l4[TCP_OFF_FLAGS] &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
		if (i)
			l4[TCP_OFF_FLAGS] &= (uint8_t)~TCP_FLAG_CWR;
		put_be16(l4 + TCP_OFF_CSUM, 0);
		c = csum_fold(csum_partial(l4, l4_len,
					   pseudo_sum(out, l->version, IP_PROTO_TCP, l4_len)));
		put_be16(l4 + TCP_OFF_CSUM, c);
	} else {
		put_be16(l4 + UDP_OFF_LEN, (uint16_t)l4_len);
		put_be16(l4 + UDP_OFF_CSUM, 0);
		c = csum_fold(csum_partial(l4, l4_len,
					   pseudo_sum(out, l->version, IP_PROTO_UDP, l4_len)));
		put_be16(l4 + UDP_OFF_CSUM, c ? c : 0xffff);
	}
	return seg_len;
}

static int split_none(const uint8_t *pkt, size_t len, const struct vnet_hdr *h,
		      uint8_t *const *outs, size_t cap, size_t headroom, size_t *lens,
		      unsigned max_segs)
{
	if (len == 0)
		return -EBADMSG;
	if (max_segs < 1 || len > cap - headroom)
		return -EMSGSIZE;
	/* Offsets first, so a bad header writes nothing. */
	if ((h->flags & VNET_F_NEEDS_CSUM) && (size_t)h->csum_start + h->csum_offset + 2 > len)
		return -EBADMSG;
	memcpy(outs[0] + headroom, pkt, len);
	lens[0] = len;
	gso_complete_csum(outs[0] + headroom, len, h);
	return 1;
}

int gso_split(const uint8_t *pkt, size_t len, const struct vnet_hdr *h,
	      uint8_t *const *outs, size_t cap, size_t headroom, size_t *lens, unsigned max_segs)
{
	struct layout l;
	size_t nsegs, off = 0, room;
	uint16_t mss = h->gso_size;
	int ret;

	if (cap < headroom)
		return -EMSGSIZE;
	room = cap - headroom;
	if (h->gso_type == VNET_GSO_NONE)
		return split_none(pkt, len, h, outs, cap, headroom, lens, max_segs);
	ret = layout_parse(&l, pkt, len);
	if (ret)
		return ret;
	ret = layout_check(&l, h);
	if (ret)
		return ret;
	if (mss == 0)
		return -EBADMSG;
	/* A payload that fits one segment (or none) is sent as it is. */
	nsegs = l.payload ? (l.payload + mss - 1) / mss : 1;
	if (nsegs > max_segs)
		return -EMSGSIZE;
	if (l.hdr_len + (l.payload < mss ? l.payload : mss) > room)
		return -EMSGSIZE;
	for (unsigned i = 0; i < nsegs; i++) {
		size_t n = l.payload - off < mss ? l.payload - off : mss;

		lens[i] = segment_write(outs[i] + headroom, pkt, &l, off, n, i,
					(unsigned)nsegs - 1, mss);
		off += n;
	}
	return (int)nsegs;
}

/* A TCP segment gro_add() can take: its headers' lengths and what varies. */
struct seg {
	size_t tot;
	size_t ip_hlen;
	size_t hdr_len;
	size_t payload;
	uint32_t seq;
	bool psh;
};

/* Whether pkt is a TCP segment with data and nothing but ACK(/PSH), whole
 * (not a fragment), with no IPv6 extension headers. */
static bool seg_parse(struct seg *s, const uint8_t *pkt, size_t len)
{
	const uint8_t *th;
	size_t doff;
	uint8_t flags;

	if (len < IPV4_HDR_LEN + TCP_HDR_LEN)
		return false;
	switch (pkt[0] >> 4) {
	case 4:
		s->ip_hlen = (size_t)(pkt[IPV4_OFF_VER_IHL] & 0x0f) * 4;
		s->tot = get_be16(pkt + IPV4_OFF_TOT_LEN);
		if (s->ip_hlen < IPV4_HDR_LEN || pkt[IPV4_OFF_PROTO] != IP_PROTO_TCP ||
		    (get_be16(pkt + IPV4_OFF_FRAG) & (IPV4_FRAG_MF | IPV4_FRAG_OFF_MASK)))
			return false;
		break;
	case 6:
		if (len < IPV6_HDR_LEN + TCP_HDR_LEN || pkt[IPV6_OFF_NEXT] != IP_PROTO_TCP)
			return false;
		s->ip_hlen = IPV6_HDR_LEN;
		s->tot = IPV6_HDR_LEN + (size_t)get_be16(pkt + IPV6_OFF_PAYLOAD_LEN);
		break;
	default:
		return false;
	}
	if (s->tot > len || s->tot > GSO_PKT_MAX || s->tot < s->ip_hlen + TCP_HDR_LEN)
		return false;
	th = pkt + s->ip_hlen;
	doff = (size_t)(th[TCP_OFF_DOFF] >> 4) * 4;
	if (doff < TCP_HDR_LEN || doff > s->tot - s->ip_hlen)
		return false;
	flags = th[TCP_OFF_FLAGS];
	if (flags != TCP_FLAG_ACK && flags != (TCP_FLAG_ACK | TCP_FLAG_PSH))
		return false;
	s->hdr_len = s->ip_hlen + doff;
	s->payload = s->tot - s->hdr_len;
	if (!s->payload)
		return false; /* a pure ACK gains nothing */
	s->seq = get_be32(th + TCP_OFF_SEQ);
	s->psh = flags & TCP_FLAG_PSH;
	return true;
}

static bool same(const uint8_t *a, const uint8_t *b, size_t from, size_t to)
{
	return !memcmp(a + from, b + from, to - from);
}

/* Same flow and same headers, except what differs per segment: IP length, id
 * and checksum; TCP seq, checksum and PSH. As tcp_gro_receive(), the ack,
 * window, options, TOS/traffic class and TTL/hop limit must all agree. */
static bool seg_matches(const struct gro *g, const uint8_t *pkt, const struct seg *s)
{
	const uint8_t *head = g->buf + VNET_HDR_LEN, *th, *hth;

	if (s->ip_hlen != g->ip_hlen || s->hdr_len != g->hdr_len || pkt[0] != head[0])
		return false;
	if (pkt[0] >> 4 == 4) {
		if (!same(pkt, head, IPV4_OFF_TOS, IPV4_OFF_TOT_LEN) ||
		    !same(pkt, head, IPV4_OFF_FRAG, IPV4_OFF_CSUM) ||
		    !same(pkt, head, IPV4_OFF_SRC, s->ip_hlen))
			return false;
	} else {
		if (!same(pkt, head, 1, IPV6_OFF_PAYLOAD_LEN) ||
		    !same(pkt, head, IPV6_OFF_NEXT, IPV6_HDR_LEN))
			return false;
	}
	th = pkt + s->ip_hlen;
	hth = head + s->ip_hlen;
	return same(th, hth, TCP_OFF_SPORT, TCP_OFF_SEQ) &&
	       same(th, hth, TCP_OFF_ACK, TCP_OFF_FLAGS) &&
	       (th[TCP_OFF_FLAGS] & ~TCP_FLAG_PSH) == (hth[TCP_OFF_FLAGS] & ~TCP_FLAG_PSH) &&
	       same(th, hth, TCP_OFF_WINDOW, TCP_OFF_CSUM) &&
	       same(th, hth, TCP_OFF_URG, s->hdr_len - s->ip_hlen);
}

void gro_init(struct gro *g, uint8_t *buf, size_t cap)
{
	memset(g, 0, sizeof(*g));
	g->buf = buf;
	g->cap = cap;
}

static void gro_reset(struct gro *g)
{
	g->len = 0;
	g->segs = 0;
	g->closed = false;
}

static int gro_start(struct gro *g, const uint8_t *pkt, const struct seg *s)
{
	if (g->cap < VNET_HDR_LEN || s->tot > g->cap - VNET_HDR_LEN)
		return 0;
	memcpy(g->buf + VNET_HDR_LEN, pkt, s->tot);
	g->len = s->tot;
	g->segs = 1;
	g->next_seq = s->seq + (uint32_t)s->payload;
	g->mss = (uint16_t)s->payload;
	g->ip_hlen = (uint8_t)s->ip_hlen;
	g->hdr_len = (uint8_t)s->hdr_len;
	g->closed = s->psh;
	return 1;
}

int gro_add(struct gro *g, const uint8_t *pkt, size_t len)
{
	struct seg s;

	if (!seg_parse(&s, pkt, len))
		return 0;
	if (!g->len)
		return gro_start(g, pkt, &s);
	if (g->closed || s.seq != g->next_seq || s.payload > g->mss || !seg_matches(g, pkt, &s))
		return 0;
	if (g->len + s.payload > GSO_PKT_MAX || g->len + s.payload > g->cap - VNET_HDR_LEN)
		return 0;
	memcpy(g->buf + VNET_HDR_LEN + g->len, pkt + s.hdr_len, s.payload);
	g->len += s.payload;
	g->segs++;
	g->next_seq += (uint32_t)s.payload;
	/* Nothing may follow a short segment, and PSH only ever marks the
	 * last: re-segmenting would move it. */
	if (s.psh) {
		g->buf[VNET_HDR_LEN + g->ip_hlen + TCP_OFF_FLAGS] |= TCP_FLAG_PSH;
		g->closed = true;
	}
	if (s.payload < g->mss)
		g->closed = true;
	return 1;
}

size_t gro_flush(struct gro *g)
{
	uint8_t *p = g->buf + VNET_HDR_LEN;
	struct vnet_hdr h = { 0 };
	size_t n = g->len, l4_len;
	uint8_t version;

	if (!n)
		return 0;
	if (g->segs > 1) {
		version = p[0] >> 4;
		l4_len = n - g->ip_hlen;
		if (version == 4) {
			put_be16(p + IPV4_OFF_TOT_LEN, (uint16_t)n);
			put_be16(p + IPV4_OFF_CSUM, csum_ipv4_header(p, g->ip_hlen));
		} else {
			put_be16(p + IPV6_OFF_PAYLOAD_LEN, (uint16_t)l4_len);
		}
		/* CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum
		 * over the whole TCP length, uncomplemented, as Linux's own
		 * tcp_v4_send_check() leaves it; segmentation adjusts the length
		 * per segment and completes it (proven in test_gso.c against the
		 * kernel forwarding our super-packets). */
		put_be16(p + g->ip_hlen + TCP_OFF_CSUM,
		      (uint16_t)pseudo_sum(p, version, IP_PROTO_TCP, l4_len));
		h.flags = VNET_F_NEEDS_CSUM;
		h.gso_type = version == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
		h.hdr_len = g->hdr_len;
		h.gso_size = g->mss;
		h.csum_start = g->ip_hlen;
		h.csum_offset = TCP_OFF_CSUM;
	}
	vnet_hdr_encode(g->buf, &h);
	gro_reset(g);
	return VNET_HDR_LEN + n;
}

void gro_plain_hdr(uint8_t raw[VNET_HDR_LEN])
{
	memset(raw, 0, VNET_HDR_LEN);
}
