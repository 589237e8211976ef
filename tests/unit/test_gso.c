/* TUN offloads: splitting super-packets (GSO) and coalescing TCP segments
 * (GRO), first on packets built here, then against the kernel, inside a
 * network namespace of the test's own:
 *
 *   local sockets 198.18.0.1 fd00:1::1
 *        |
 *   slgso0 (vnet header, CSUM|TSO4|TSO6[|USO4|USO6]) -- the test plays the
 *        |   remote ends 198.18.9.0/24 and fd00:9::/64 on its fd
 *   ip_forward
 *        |
 *   slgso1 (plain, no offloads) -- 198.18.10.0/24, fd00:10::/64: what the
 *            kernel forwards here it has segmented and checksummed itself
 *
 * (a) the kernel's TCP (and UDP_SEGMENT) super-packets read from slgso0 split
 * into valid segments; (b) a 40-segment GRO super-packet written to slgso0 in
 * one write reaches a local socket intact; (c) forwarded to slgso1, the
 * kernel's segments of our super-packets equal gso_split()'s byte for byte,
 * which proves the checksum-field convention (and two wrong ones fail). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/csum.h"
#include "net/gso.h"
#include "net/netlink.h"
#include "net/packet.h"
#include "net/tun.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20 /* Linux 6.2; Debian 12's headers lack them */
#define TUN_F_USO6 0x40
#endif

enum { SEGS = 64, SEG_CAP = 2048, BIG = VNET_HDR_LEN + 65536, F_CWR = 0x80, F_ECE = 0x40 };

static uint16_t g16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }
static uint32_t g32(const uint8_t *b) { return (uint32_t)g16(b) << 16 | g16(b + 2); }
static void p16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static void p32(uint8_t *b, uint32_t v) { p16(b, (uint16_t)(v >> 16)); p16(b + 2, (uint16_t)v); }

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((i + seed) * 2654435761u >> 24);
}

struct flow {
	int v; /* 4 or 6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport, id, win;
	uint8_t ttl, tos;
	size_t ipopt; /* bytes of IPv4 NOP options */
};

static struct flow mkflow(int v, const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
	struct flow f = { .v = v, .sport = sport, .dport = dport, .id = 0xfff0, .win = 65535,
			  .ttl = 64 };

	assert_int_equal(inet_pton(v == 4 ? AF_INET : AF_INET6, src, f.src), 1);
	assert_int_equal(inet_pton(v == 4 ? AF_INET : AF_INET6, dst, f.dst), 1);
	return f;
}

static size_t ip_hlen_of(const uint8_t *pkt)
{
	return pkt[0] >> 4 == 4 ? (size_t)(pkt[0] & 15) * 4 : IPV6_HDR_LEN;
}

static void refresh_ip(uint8_t *pkt)
{
	if (pkt[0] >> 4 == 4)
		p16(pkt + IPV4_OFF_CSUM, csum_ipv4_header(pkt, ip_hlen_of(pkt)));
}

/* Puts the IPv4 header and the L4 checksums right after a change. */
static void refresh(uint8_t *pkt, size_t len)
{
	struct pkt p;

	refresh_ip(pkt);
	assert_int_equal(pkt_parse(&p, pkt, len), 0);
	assert_int_equal(csum_l4_fill(&p), 0);
}

static size_t mk_ip(uint8_t *out, const struct flow *f, uint8_t proto, size_t l4_len)
{
	size_t hl = f->v == 4 ? IPV4_HDR_LEN + f->ipopt : IPV6_HDR_LEN;

	memset(out, 0, hl);
	if (f->v == 4) {
		out[0] = (uint8_t)(0x40 | hl / 4);
		out[IPV4_OFF_TOS] = f->tos;
		p16(out + IPV4_OFF_TOT_LEN, (uint16_t)(hl + l4_len));
		p16(out + IPV4_OFF_ID, f->id);
		p16(out + IPV4_OFF_FRAG, IPV4_FRAG_DF);
		out[IPV4_OFF_TTL] = f->ttl;
		out[IPV4_OFF_PROTO] = proto;
		memcpy(out + IPV4_OFF_SRC, f->src, 4);
		memcpy(out + IPV4_OFF_DST, f->dst, 4);
		memset(out + IPV4_HDR_LEN, 1, f->ipopt);
	} else {
		out[0] = (uint8_t)(0x60 | f->tos >> 4);
		out[1] = (uint8_t)(f->tos << 4 | 0x0a); /* and a flow label */
		p16(out + 2, 0xbcde);
		p16(out + IPV6_OFF_PAYLOAD_LEN, (uint16_t)l4_len);
		out[IPV6_OFF_NEXT] = proto;
		out[IPV6_OFF_HOP_LIMIT] = f->ttl;
		memcpy(out + IPV6_OFF_SRC, f->src, 16);
		memcpy(out + IPV6_OFF_DST, f->dst, 16);
	}
	return hl;
}

static size_t mk_tcp(uint8_t *out, const struct flow *f, uint32_t seq, uint32_t ack, uint8_t flags,
		     const uint8_t *opt, size_t optlen, const uint8_t *data, size_t dlen)
{
	size_t thl = TCP_HDR_LEN + optlen, hl = mk_ip(out, f, IP_PROTO_TCP, thl + dlen);
	uint8_t *th = out + hl;

	memset(th, 0, TCP_HDR_LEN);
	p16(th + TCP_OFF_SPORT, f->sport);
	p16(th + TCP_OFF_DPORT, f->dport);
	p32(th + TCP_OFF_SEQ, seq);
	p32(th + TCP_OFF_ACK, ack);
	th[TCP_OFF_DOFF] = (uint8_t)(thl / 4 << 4);
	th[TCP_OFF_FLAGS] = flags;
	p16(th + TCP_OFF_WINDOW, f->win);
	if (optlen) /* memcpy() may not take NULL, even for 0 bytes */
		memcpy(th + TCP_HDR_LEN, opt, optlen);
	if (dlen)
		memcpy(th + thl, data, dlen);
	refresh(out, hl + thl + dlen);
	return hl + thl + dlen;
}

static size_t mk_udp(uint8_t *out, const struct flow *f, const uint8_t *data, size_t dlen)
{
	size_t hl = mk_ip(out, f, IP_PROTO_UDP, UDP_HDR_LEN + dlen);
	uint8_t *uh = out + hl;

	p16(uh + UDP_OFF_SPORT, f->sport);
	p16(uh + UDP_OFF_DPORT, f->dport);
	p16(uh + UDP_OFF_LEN, (uint16_t)(UDP_HDR_LEN + dlen));
	memcpy(uh + UDP_HDR_LEN, data, dlen);
	refresh(out, hl + UDP_HDR_LEN + dlen);
	return hl + UDP_HDR_LEN + dlen;
}

static void ts_opt(uint8_t o[12], uint32_t val, uint32_t ecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	p32(o + 4, val);
	p32(o + 8, ecr);
}

/* As the kernel hands it over: NEEDS_CSUM and the pseudo-header sum over the
 * whole L4 length in the checksum field. */
static struct vnet_hdr as_kernel(uint8_t *sup, uint8_t type, uint16_t mss)
{
	struct pkt p;
	size_t off;

	assert_int_equal(pkt_parse(&p, sup, 65535), 0);
	off = p.proto == IP_PROTO_TCP ? TCP_OFF_CSUM : UDP_OFF_CSUM;
	p16(p.l4 + off, (uint16_t)~csum_fold(
		p.version == 4 ? csum_ipv4_pseudo(p.src, p.dst, p.proto, (uint16_t)p.l4_len)
			       : csum_ipv6_pseudo(p.src, p.dst, p.proto, (uint32_t)p.l4_len)));
	return (struct vnet_hdr){ VNET_F_NEEDS_CSUM, type, (uint16_t)(p.ip_hlen + p.l4_hlen), mss,
				  (uint16_t)p.ip_hlen, (uint16_t)off };
}

struct outs {
	uint8_t *o[SEGS];
	size_t lens[SEGS];
};

static struct outs *outs_new(void)
{
	struct outs *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	for (int i = 0; i < SEGS; i++) {
		s->o[i] = malloc(SEG_CAP);
		assert_non_null(s->o[i]);
		memset(s->o[i], 0xee, SEG_CAP);
	}
	return s;
}

static void outs_free(struct outs *s)
{
	for (int i = 0; i < SEGS; i++)
		free(s->o[i]);
	free(s);
}

/* Every segment parses and verifies, repeats the super-packet's headers but
 * for what must change (lengths, id + i, seq + i * mss, FIN/PSH last, CWR
 * first), and the payloads follow each other. */
static void check_split(const uint8_t *sup, size_t slen, const struct vnet_hdr *h,
			const struct outs *s, size_t headroom, int n)
{
	uint8_t *copy = malloc(slen);
	struct pkt sp, p;
	size_t off = 0, mss = h->gso_size;

	assert_non_null(copy);
	memcpy(copy, sup, slen);
	assert_int_equal(pkt_parse(&sp, copy, slen), 0);
	assert_true(n >= 1);
	for (int i = 0; i < n; i++) {
		uint8_t *b = s->o[i] + headroom, *th;
		uint8_t want;

		assert_int_equal(pkt_parse(&p, b, s->lens[i]), 0);
		assert_int_equal(p.len, s->lens[i]);
		assert_int_equal(csum_l4_verify(&p), 0);
		assert_int_equal(p.ip_hlen, sp.ip_hlen);
		assert_int_equal(p.l4_hlen, sp.l4_hlen);
		if (p.version == 4) {
			assert_memory_equal(b, copy, 2);
			assert_memory_equal(b + 6, copy + 6, 4);
			assert_memory_equal(b + 12, copy + 12, p.ip_hlen - 12);
			assert_int_equal(g16(b + 4), (uint16_t)(g16(copy + 4) + i));
		} else {
			assert_memory_equal(b, copy, 4);
			assert_memory_equal(b + 6, copy + 6, 34);
		}
		th = p.l4;
		assert_memory_equal(th, sp.l4, 4);
		if (p.proto == IP_PROTO_TCP) {
			assert_int_equal(g32(th + 4), (uint32_t)(g32(sp.l4 + 4) + i * mss));
			assert_memory_equal(th + 8, sp.l4 + 8, 5);
			assert_memory_equal(th + 14, sp.l4 + 14, 2);
			assert_memory_equal(th + 18, sp.l4 + 18, p.l4_hlen - 18);
			want = sp.l4[TCP_OFF_FLAGS];
			if (i != n - 1)
				want &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
			if (i)
				want &= (uint8_t)~F_CWR;
			assert_int_equal(th[TCP_OFF_FLAGS], want);
		}
		if (i != n - 1)
			assert_int_equal(p.payload_len, mss);
		assert_true(off + p.payload_len <= sp.payload_len);
		assert_memory_equal(p.payload, sp.payload + off, p.payload_len);
		off += p.payload_len;
	}
	assert_int_equal(off, sp.payload_len);
	free(copy);
}

static void test_vnet_hdr_codec(void **state)
{
	struct vnet_hdr h = { 1, 0x81, 0x1234, 1448, 20, 16 }, d;
	uint8_t raw[VNET_HDR_LEN], zero[VNET_HDR_LEN] = { 0 };
	uint16_t v = 0x1234;

	(void)state;
	vnet_hdr_encode(raw, &h);
	assert_int_equal(raw[0], 1);
	assert_int_equal(raw[1], 0x81);
	assert_memory_equal(raw + 2, &v, 2); /* host order, as the TUN speaks it */
	vnet_hdr_decode(&d, raw);
	assert_memory_equal(&d, &h, sizeof(h));
	gro_plain_hdr(raw);
	assert_memory_equal(raw, zero, VNET_HDR_LEN);
}

/* TCP over IPv4 (with IP options) and IPv6, timestamps, FIN|PSH|CWR and the
 * ECN bit; the first payload bytes fill exactly, one over, one under. */
static void split_tcp(int v, size_t dlen, uint16_t mss, int want)
{
	struct flow f = v == 4 ? mkflow(4, "10.1.0.1", "10.2.0.2", 443, 50000)
			       : mkflow(6, "fd00::1", "fd00::2", 443, 50000);
	uint8_t *sup = malloc(65536), *data = malloc(65536), opt[12];
	struct outs *s = outs_new();
	struct vnet_hdr h;
	size_t n;

	assert_true(sup && data);
	f.ipopt = v == 4 ? 8 : 0;
	fill(data, dlen, (uint32_t)dlen);
	ts_opt(opt, 0x01020304, 0xa0b0c0d0);
	n = mk_tcp(sup, &f, 0xfffff000, 77, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN | F_CWR,
		   opt, 12, data, dlen);
	h = as_kernel(sup, (v == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6) | VNET_GSO_ECN, mss);
	h.hdr_len = 3; /* a lie, which must not matter */
	assert_int_equal(gso_split(sup, n, &h, s->o, SEG_CAP, 16, s->lens, SEGS), want);
	check_split(sup, n, &h, s, 16, want);
	for (int i = 0; i < want; i++) /* the headroom is left alone */
		assert_int_equal(s->o[i][15], 0xee);
	outs_free(s);
	free(data);
	free(sup);
}

static void test_split_tcp(void **state)
{
	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		split_tcp(v, 10000, 1000, 10);
		split_tcp(v, 10001, 1000, 11);
		split_tcp(v, 9999, 1000, 10);
		split_tcp(v, 100, 1448, 1);
		split_tcp(v, 0, 1448, 1);
		split_tcp(v, 45 * 1448 - 5, 1448, 45);
	}
}

static void test_split_udp(void **state)
{
	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		struct flow f = v == 4 ? mkflow(4, "10.1.0.1", "10.2.0.2", 4500, 51820)
				       : mkflow(6, "fd00::1", "fd00::2", 4500, 51820);
		uint8_t *sup = malloc(65536), *data = malloc(65536);
		struct outs *s = outs_new();
		struct vnet_hdr h;
		size_t n;

		fill(data, 5000, 9);
		n = mk_udp(sup, &f, data, 5000);
		h = as_kernel(sup, VNET_GSO_UDP_L4, 1200);
		assert_int_equal(gso_split(sup, n, &h, s->o, SEG_CAP, 0, s->lens, SEGS), 5);
		check_split(sup, n, &h, s, 0, 5);
		assert_int_equal(s->lens[4], n - 4 * 1200);
		h.gso_type |= VNET_GSO_ECN; /* ECN belongs to TCP */
		assert_int_equal(gso_split(sup, n, &h, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
		outs_free(s);
		free(data);
		free(sup);
	}
}

static void test_split_none_csum(void **state)
{
	struct flow f = mkflow(4, "10.1.0.1", "10.2.0.2", 53, 5353);
	uint8_t pkt[300], data[200];
	struct outs *s = outs_new();
	struct vnet_hdr h, plain = { 0 };
	struct pkt p;
	size_t n;
	uint16_t c;

	(void)state;
	fill(data, sizeof(data), 3);
	n = mk_udp(pkt, &f, data, sizeof(data));
	h = as_kernel(pkt, VNET_GSO_NONE, 0);
	assert_int_equal(gso_split(pkt, n, &h, s->o, SEG_CAP, 4, s->lens, 1), 1);
	assert_int_equal(pkt_parse(&p, s->o[0] + 4, s->lens[0]), 0);
	assert_int_equal(csum_l4_verify(&p), 0);
	/* Without the flag the packet goes through untouched. */
	assert_int_equal(gso_split(pkt, n, &plain, s->o, SEG_CAP, 0, s->lens, 1), 1);
	assert_memory_equal(s->o[0], pkt, n);
	/* A payload word chosen so the checksum comes out 0: stored as 0xffff. */
	refresh(pkt, n);
	assert_int_equal(pkt_parse(&p, pkt, n), 0);
	c = g16(p.l4 + UDP_OFF_CSUM);
	p16(p.payload, (uint16_t)((g16(p.payload) + c) % 0xffff));
	h = as_kernel(pkt, VNET_GSO_NONE, 0);
	assert_int_equal(gso_complete_csum(pkt, n, &h), 0);
	assert_int_equal(g16(p.l4 + UDP_OFF_CSUM), 0xffff);
	assert_int_equal(csum_l4_verify(&p), 0);
	/* Offsets outside the packet. */
	h.csum_offset = (uint16_t)(n - h.csum_start - 1);
	assert_int_equal(gso_complete_csum(pkt, n, &h), -EBADMSG);
	assert_int_equal(gso_split(pkt, n, &h, s->o, SEG_CAP, 0, s->lens, 1), -EBADMSG);
	h.csum_start = 0xffff;
	assert_int_equal(gso_complete_csum(pkt, n, &h), -EBADMSG);
	h.flags = 0;
	assert_int_equal(gso_complete_csum(pkt, n, &h), 0);
	assert_int_equal(gso_split(pkt, 0, &plain, s->o, SEG_CAP, 0, s->lens, 1), -EBADMSG);
	assert_int_equal(gso_split(pkt, n, &plain, s->o, SEG_CAP, 0, s->lens, 0), -EMSGSIZE);
	assert_int_equal(gso_split(pkt, n, &plain, s->o, n - 1, 0, s->lens, 1), -EMSGSIZE);
	outs_free(s);
}

/* Every way a header or a length can be wrong. */
static void test_split_refusals(void **state)
{
	struct flow f = mkflow(4, "10.1.0.1", "10.2.0.2", 443, 50000);
	struct flow f6 = mkflow(6, "fd00::1", "fd00::2", 443, 50000);
	uint8_t *sup = malloc(65536), *b = malloc(65536), data[5000];
	struct outs *s = outs_new();
	struct vnet_hdr h, t;
	size_t n, n6;

	(void)state;
	fill(data, sizeof(data), 1);
	n = mk_tcp(sup, &f, 1, 2, TCP_FLAG_ACK, NULL, 0, data, sizeof(data));
	h = as_kernel(sup, VNET_GSO_TCPV4, 1000);
	assert_int_equal(gso_split(sup, n, &h, s->o, SEG_CAP, 0, s->lens, SEGS), 5);
	/* Every truncation: the IP length no longer fits. */
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(gso_split(sup, cut, &h, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
	/* Trailing bytes past the IP length are not payload. */
	assert_int_equal(gso_split(sup, n + 100, &h, s->o, SEG_CAP, 0, s->lens, SEGS), 5);
	t = h;
	t.gso_size = 0;
	assert_int_equal(gso_split(sup, n, &t, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
	uint8_t bad_types[] = { VNET_GSO_TCPV6, VNET_GSO_UDP_L4, VNET_GSO_UDP, 2, 6, 0x7f,
				VNET_GSO_NONE | VNET_GSO_ECN };
	for (size_t i = 0; i < sizeof(bad_types); i++) {
		t = h;
		t.gso_type = bad_types[i];
		assert_int_equal(gso_split(sup, n, &t, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
	}
	t = h;
	t.csum_start = 19;
	assert_int_equal(gso_split(sup, n, &t, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
	t = h;
	t.csum_offset = 6;
	assert_int_equal(gso_split(sup, n, &t, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
	/* Too many segments, or a segment larger than the room after headroom. */
	assert_int_equal(gso_split(sup, n, &h, s->o, SEG_CAP, 0, s->lens, 4), -EMSGSIZE);
	assert_int_equal(gso_split(sup, n, &h, s->o, 1039, 0, s->lens, SEGS), -EMSGSIZE);
	assert_int_equal(gso_split(sup, n, &h, s->o, 1040, 0, s->lens, SEGS), 5);
	assert_int_equal(gso_split(sup, n, &h, s->o, 1040, 1, s->lens, SEGS), -EMSGSIZE);
	assert_int_equal(gso_split(sup, n, &h, s->o, 10, 20, s->lens, SEGS), -EMSGSIZE);
	/* Fragments, a bad IHL or data offset, a foreign version. */
	uint16_t frags[] = { IPV4_FRAG_MF, 1, IPV4_FRAG_DF | 185 };
	for (size_t i = 0; i < 3; i++) {
		memcpy(b, sup, n);
		p16(b + IPV4_OFF_FRAG, frags[i]);
		refresh_ip(b);
		assert_int_equal(gso_split(b, n, &h, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
	}
	uint8_t bytes[][2] = { { 0, 0x44 }, { 0, 0x4f }, { 0, 0x35 }, { 32, 0x40 }, { 32, 0x30 } };
	for (size_t i = 0; i < 5; i++) {
		memcpy(b, sup, n);
		b[bytes[i][0]] = bytes[i][1];
		assert_int_equal(gso_split(b, n, &h, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
	}
	/* IPv6: an extension header is refused; the type must name the version. */
	n6 = mk_tcp(sup, &f6, 1, 2, TCP_FLAG_ACK, NULL, 0, data, sizeof(data));
	h = as_kernel(sup, VNET_GSO_TCPV6, 1000);
	assert_int_equal(gso_split(sup, n6, &h, s->o, SEG_CAP, 0, s->lens, SEGS), 5);
	t = h;
	t.gso_type = VNET_GSO_TCPV4;
	assert_int_equal(gso_split(sup, n6, &t, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
	sup[IPV6_OFF_NEXT] = IP_PROTO_DSTOPTS;
	assert_int_equal(gso_split(sup, n6, &h, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
	p16(sup + IPV6_OFF_PAYLOAD_LEN, 0); /* jumbo */
	sup[IPV6_OFF_NEXT] = IP_PROTO_TCP;
	assert_int_equal(gso_split(sup, n6, &h, s->o, SEG_CAP, 0, s->lens, SEGS), -EBADMSG);
	outs_free(s);
	free(b);
	free(sup);
}

/* Splits a super-packet, feeds the segments to GRO: one write that splits
 * back into the same segments. */
static void roundtrip(int v, size_t dlen, uint16_t mss, uint8_t flags)
{
	struct flow f = v == 4 ? mkflow(4, "10.1.0.1", "10.2.0.2", 443, 50000)
			       : mkflow(6, "fd00::1", "fd00::2", 443, 50000);
	uint8_t *sup = malloc(65536), *data = malloc(65536), *buf = malloc(BIG), opt[12];
	struct outs *s = outs_new(), *s2 = outs_new();
	struct vnet_hdr h, gh;
	struct gro g;
	struct pkt p;
	size_t n, w;
	int segs;

	fill(data, dlen, 5);
	ts_opt(opt, 1, 2);
	n = mk_tcp(sup, &f, 123456, 654321, flags, opt, 12, data, dlen);
	h = as_kernel(sup, v == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6, mss);
	segs = gso_split(sup, n, &h, s->o, SEG_CAP, 0, s->lens, SEGS);
	if (segs <= 1)
		fail_msg("IPv%d %zu/%u: %d", v, dlen, mss, segs);
	gro_init(&g, buf, BIG);
	for (int i = 0; i < segs; i++)
		assert_int_equal(gro_add(&g, s->o[i], s->lens[i]), 1);
	assert_int_equal(g.segs, segs);
	w = gro_flush(&g);
	assert_int_equal(w, VNET_HDR_LEN + n);
	assert_int_equal(g.len, 0);
	vnet_hdr_decode(&gh, buf);
	assert_int_equal(gh.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(gh.gso_type, h.gso_type);
	assert_int_equal(gh.gso_size, mss);
	assert_int_equal(gh.hdr_len, h.hdr_len);
	assert_int_equal(gh.csum_start, h.csum_start);
	assert_int_equal(gh.csum_offset, TCP_OFF_CSUM);
	/* The super-packet again, checksum field included: as_kernel() put the
	 * pseudo-header sum there, as GRO does. */
	assert_memory_equal(buf + VNET_HDR_LEN, sup, n);
	assert_int_equal(pkt_parse(&p, buf + VNET_HDR_LEN, n), 0);
	assert_int_equal(gso_split(buf + VNET_HDR_LEN, n, &gh, s2->o, SEG_CAP, 0, s2->lens, SEGS),
			 segs);
	for (int i = 0; i < segs; i++) {
		assert_int_equal(s2->lens[i], s->lens[i]);
		assert_memory_equal(s2->o[i], s->o[i], s->lens[i]);
	}
	assert_int_equal(gro_flush(&g), 0);
	outs_free(s2);
	outs_free(s);
	free(buf);
	free(data);
	free(sup);
}

static void test_gro_roundtrip(void **state)
{
	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		roundtrip(v, 40 * 1448, 1448, TCP_FLAG_ACK);
		roundtrip(v, 40 * 1448 + 17, 1448, TCP_FLAG_ACK | TCP_FLAG_PSH);
		roundtrip(v, 2001, 1000, TCP_FLAG_ACK | TCP_FLAG_PSH);
		roundtrip(v, 65535 - 40 - 32 - (v == 6 ? 20 : 0), 1100, TCP_FLAG_ACK);
	}
}

/* Five consecutive segments of a flow, 1000 bytes each; seg i at b[i]. */
struct stream {
	uint8_t b[5][1200];
	size_t len[5];
};

static void mk_stream(struct stream *st, const struct flow *f)
{
	uint8_t data[1000], opt[12];

	ts_opt(opt, 7, 8);
	for (uint32_t i = 0; i < 5; i++) {
		fill(data, sizeof(data), i);
		st->len[i] = mk_tcp(st->b[i], f, 1000 + i * 1000, 99, TCP_FLAG_ACK, opt, 12, data,
				    sizeof(data));
	}
}

static void expect_batch(struct gro *g, const uint8_t *first, size_t len, unsigned segs)
{
	assert_int_equal(g->segs, segs);
	if (segs == 1) { /* written as it came, behind 10 zero bytes */
		uint8_t zero[VNET_HDR_LEN] = { 0 };

		assert_int_equal(gro_flush(g), VNET_HDR_LEN + len);
		assert_memory_equal(g->buf, zero, VNET_HDR_LEN);
		assert_memory_equal(g->buf + VNET_HDR_LEN, first, len);
	} else {
		assert_true(gro_flush(g) > VNET_HDR_LEN + len);
	}
}

/* What must not join the batch of segment 0: changes to segment 1. */
static void test_gro_refusals(void **state)
{
	static const struct {
		const char *what;
		size_t at;   /* offset: from the IP header, or (>= 1000) the TCP header */
		uint8_t val; /* xor */
	} muts[] = {
		{ "seq", 1000 + TCP_OFF_SEQ + 3, 1 }, { "ack", 1000 + TCP_OFF_ACK, 1 },
		{ "SYN", 1000 + TCP_OFF_FLAGS, TCP_FLAG_SYN }, { "FIN", 1000 + TCP_OFF_FLAGS, 1 },
		{ "RST", 1000 + TCP_OFF_FLAGS, TCP_FLAG_RST }, { "URG", 1000 + TCP_OFF_FLAGS, 0x20 },
		{ "ECE", 1000 + TCP_OFF_FLAGS, F_ECE }, { "CWR", 1000 + TCP_OFF_FLAGS, F_CWR },
		{ "no ACK", 1000 + TCP_OFF_FLAGS, TCP_FLAG_ACK }, { "window", 1000 + 15, 1 },
		{ "urgent ptr", 1000 + TCP_OFF_URG, 1 }, { "TS option", 1000 + 26, 1 },
		{ "reserved bits", 1000 + TCP_OFF_DOFF, 1 }, { "sport", 1000 + 1, 1 },
		{ "dport", 1000 + 3, 1 }, { "TTL", IPV4_OFF_TTL, 1 }, { "TOS", IPV4_OFF_TOS, 4 },
		{ "MF", IPV4_OFF_FRAG, 0x20 }, { "DF", IPV4_OFF_FRAG, 0x40 },
		{ "frag offset", IPV4_OFF_FRAG + 1, 8 }, { "src", IPV4_OFF_SRC + 3, 1 },
		{ "dst", IPV4_OFF_DST, 1 }, { "proto", IPV4_OFF_PROTO, 11 },
	};
	struct flow f = mkflow(4, "10.1.0.1", "10.2.0.2", 443, 50000);
	struct stream *st = malloc(sizeof(*st));
	uint8_t *buf = malloc(BIG), b[1200];
	struct gro g;

	(void)state;
	mk_stream(st, &f);
	gro_init(&g, buf, BIG);
	for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		size_t at = muts[i].at >= 1000 ? 20 + muts[i].at - 1000 : muts[i].at;

		memcpy(b, st->b[1], st->len[1]);
		b[at] ^= muts[i].val;
		refresh_ip(b); /* the L4 checksum is not looked at */
		assert_int_equal(gro_add(&g, st->b[0], st->len[0]), 1);
		if (gro_add(&g, b, st->len[1]) != 0)
			fail_msg("a segment with a different %s joined", muts[i].what);
		expect_batch(&g, st->b[0], st->len[0], 1);
	}
	/* A bigger payload than the first's; a short one closes the batch;
	 * PSH closes it; a gap; an IPv6 flow does not mix with IPv4. */
	uint8_t data[1001], opt[12];
	size_t n;

	ts_opt(opt, 7, 8);
	fill(data, sizeof(data), 1);
	n = mk_tcp(b, &f, 2000, 99, TCP_FLAG_ACK, opt, 12, data, 1001);
	assert_int_equal(gro_add(&g, st->b[0], st->len[0]), 1);
	assert_int_equal(gro_add(&g, b, n), 0);
	n = mk_tcp(b, &f, 2000, 99, TCP_FLAG_ACK, opt, 12, data, 999);
	assert_int_equal(gro_add(&g, b, n), 1);
	assert_int_equal(gro_add(&g, st->b[2], st->len[2]), 0); /* after a short middle one */
	expect_batch(&g, st->b[0], st->len[0], 2);
	n = mk_tcp(b, &f, 2000, 99, TCP_FLAG_ACK | TCP_FLAG_PSH, opt, 12, data, 1000);
	assert_int_equal(gro_add(&g, st->b[0], st->len[0]), 1);
	assert_int_equal(gro_add(&g, b, n), 1);
	assert_int_equal(gro_add(&g, st->b[2], st->len[2]), 0);
	expect_batch(&g, st->b[0], st->len[0], 2);
	assert_int_equal(gro_add(&g, st->b[0], st->len[0]), 1);
	assert_int_equal(gro_add(&g, st->b[2], st->len[2]), 0);
	expect_batch(&g, st->b[0], st->len[0], 1);
	/* Two flows interleaved: the second flow's first segment cannot join. */
	struct stream *st2 = malloc(sizeof(*st2));
	struct flow f2 = f;

	f2.sport = 444;
	mk_stream(st2, &f2);
	assert_int_equal(gro_add(&g, st->b[0], st->len[0]), 1);
	assert_int_equal(gro_add(&g, st2->b[0], st2->len[0]), 0);
	expect_batch(&g, st->b[0], st->len[0], 1);
	assert_int_equal(gro_add(&g, st2->b[0], st2->len[0]), 1);
	assert_int_equal(gro_add(&g, st2->b[1], st2->len[1]), 1);
	assert_int_equal(gro_add(&g, st->b[1], st->len[1]), 0);
	expect_batch(&g, st2->b[0], st2->len[0], 2);
	free(st2);
	free(st);
	free(buf);
}

/* Not TCP data at all: nothing starts; caps are honoured. */
static void test_gro_not_coalescable(void **state)
{
	struct flow f = mkflow(4, "10.1.0.1", "10.2.0.2", 443, 50000);
	uint8_t *buf = malloc(BIG), pkt[2000], data[1000] = { 0 };
	struct stream *st = malloc(sizeof(*st));
	struct gro g;
	size_t n;

	(void)state;
	gro_init(&g, buf, BIG);
	n = mk_udp(pkt, &f, data, 100);
	assert_int_equal(gro_add(&g, pkt, n), 0);
	n = mk_tcp(pkt, &f, 1, 2, TCP_FLAG_ACK, NULL, 0, NULL, 0); /* a pure ACK */
	assert_int_equal(gro_add(&g, pkt, n), 0);
	n = mk_tcp(pkt, &f, 1, 2, TCP_FLAG_ACK, NULL, 0, data, 100);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(gro_add(&g, pkt, cut), 0);
	assert_int_equal(gro_add(&g, pkt, n + 10), 1); /* padding past the IP length is dropped */
	assert_int_equal(g.len, n);
	assert_int_equal(gro_flush(&g), VNET_HDR_LEN + n);
	assert_int_equal(gro_add(&g, (const uint8_t *)"\x60", 1), 0);
	/* A buffer that holds two segments, not three. */
	mk_stream(st, &f);
	gro_init(&g, buf, VNET_HDR_LEN + st->len[0] + 1000);
	assert_int_equal(gro_add(&g, st->b[0], st->len[0]), 1);
	assert_int_equal(gro_add(&g, st->b[1], st->len[1]), 1);
	assert_int_equal(gro_add(&g, st->b[2], st->len[2]), 0);
	expect_batch(&g, st->b[0], st->len[0], 2);
	gro_init(&g, buf, VNET_HDR_LEN + st->len[0] - 1);
	assert_int_equal(gro_add(&g, st->b[0], st->len[0]), 0);
	gro_init(&g, buf, 3);
	assert_int_equal(gro_add(&g, st->b[0], st->len[0]), 0);
	assert_int_equal(gro_flush(&g), 0);
	free(st);
	free(buf);
}

/* A batch stops short of 65535 bytes of packet. */
static void test_gro_size_limit(void **state)
{
	struct flow f = mkflow(6, "fd00::1", "fd00::2", 443, 50000);
	uint8_t *buf = malloc(BIG), pkt[1600], data[1448] = { 0 };
	struct gro g;
	unsigned joined = 0;

	(void)state;
	gro_init(&g, buf, BIG);
	for (uint32_t i = 0; i < 50; i++) {
		size_t n = mk_tcp(pkt, &f, i * 1448, 1, TCP_FLAG_ACK, NULL, 0, data, 1448);

		if (!gro_add(&g, pkt, n))
			break;
		joined++;
	}
	assert_int_equal(joined, (65535 - 60) / 1448);
	assert_true(gro_flush(&g) <= VNET_HDR_LEN + 65535);
	free(buf);
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Not a benchmark, a figure for the log: 64 KB super-packets of 1448-byte
 * segments, split, then coalesced again. */
static void test_speed(void **state)
{
	struct flow f = mkflow(4, "10.1.0.1", "10.2.0.2", 443, 50000);
	uint8_t *sup = malloc(65536), *data = malloc(65536), *buf = malloc(BIG), opt[12];
	struct outs *s = outs_new();
	struct vnet_hdr h;
	struct gro g;
	size_t n, bytes = 0;
	int segs = 0;
	double t0, t1, t2;
	const int rounds = 2000;

	(void)state;
	fill(data, 45 * 1448, 1);
	ts_opt(opt, 1, 2);
	n = mk_tcp(sup, &f, 1, 2, TCP_FLAG_ACK, opt, 12, data, 45 * 1448);
	h = as_kernel(sup, VNET_GSO_TCPV4, 1448);
	gro_init(&g, buf, BIG);
	t0 = now_ns();
	for (int r = 0; r < rounds; r++)
		segs = gso_split(sup, n, &h, s->o, SEG_CAP, 0, s->lens, SEGS);
	t1 = now_ns();
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < segs; i++)
			gro_add(&g, s->o[i], s->lens[i]);
		bytes += gro_flush(&g);
	}
	t2 = now_ns();
	assert_int_equal(segs, 45);
	assert_int_equal(bytes, (size_t)rounds * (VNET_HDR_LEN + n));
	printf("gso_split: %.0f ns/segment; gro_add+flush: %.0f ns/segment (1448-byte payloads)\n",
	       (t1 - t0) / rounds / segs, (t2 - t1) / rounds / segs);
	outs_free(s);
	free(buf);
	free(data);
	free(sup);
}


/* Against the kernel. The test plays the remote hosts on slgso0's fd. */
struct knet {
	struct nl *nl;
	int tun0, tun1;
	bool uso;      /* the kernel may hand us UDP super-packets (Linux >= 6.2) */
	uint8_t *rbuf; /* one TUN read */
	struct outs *s;
};

/* src 198.18.9.<host> (fd00:9::<host>); dst the local address (net 0) or
 * 198.18.10.<host> (fd00:10::<host>) behind slgso1. */
static struct flow kflow(int v, int net, int host, uint16_t sport, uint16_t dport)
{
	char src[48], dst[48];

	snprintf(src, sizeof(src), v == 4 ? "198.18.9.%d" : "fd00:9::%d", host);
	if (net == 0)
		snprintf(dst, sizeof(dst), "%s", v == 4 ? "198.18.0.1" : "fd00:1::1");
	else
		snprintf(dst, sizeof(dst), v == 4 ? "198.18.10.%d" : "fd00:10::%d", host);
	return mkflow(v, src, dst, sport, dport);
}

static socklen_t saddr(struct sockaddr_storage *ss, int v, const uint8_t *a, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (v == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, a, 16);
	return sizeof(*s6);
}

/* The next TCP or UDP packet with `port` at either end, skipping the kernel's
 * own chatter (router solicitations, MLD); slgso0's vnet header into h. */
static uint8_t *kread(struct knet *k, int fd, struct vnet_hdr *h, uint16_t port, size_t *len)
{
	size_t off = fd == k->tun0 ? VNET_HDR_LEN : 0, hl;
	uint8_t *p = k->rbuf + off, proto;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 3000) != 1)
			fail_msg("nothing for port %u came out of the TUN", port);
		n = read(fd, k->rbuf, BIG);
		assert_true(n > (ssize_t)off);
		*len = (size_t)n - off;
		if (p[0] >> 4 != 4 && p[0] >> 4 != 6)
			continue;
		hl = ip_hlen_of(p);
		proto = p[0] >> 4 == 4 ? p[IPV4_OFF_PROTO] : p[IPV6_OFF_NEXT];
		if ((proto != IP_PROTO_TCP && proto != IP_PROTO_UDP) || *len < hl + 4 ||
		    (g16(p + hl) != port && g16(p + hl + 2) != port))
			continue;
		if (h)
			vnet_hdr_decode(h, k->rbuf);
		return p;
	}
}

/* A packet the kernel wrote, its checksum completed: it must verify. */
static struct pkt kparse(struct knet *k, const uint8_t *pkt, size_t len, const struct vnet_hdr *h)
{
	struct pkt p;

	assert_int_equal(h->gso_type, VNET_GSO_NONE);
	assert_int_equal(gso_split(pkt, len, h, k->s->o, SEG_CAP, 0, k->s->lens, 1), 1);
	assert_int_equal(pkt_parse(&p, k->s->o[0], k->s->lens[0]), 0);
	assert_int_equal(csum_l4_verify(&p), 0);
	return p;
}

static void kwrite_plain(struct knet *k, const uint8_t *pkt, size_t len)
{
	uint8_t *b = malloc(VNET_HDR_LEN + len);

	gro_plain_hdr(b);
	memcpy(b + VNET_HDR_LEN, pkt, len);
	assert_int_equal(write(k->tun0, b, VNET_HDR_LEN + len), (ssize_t)(VNET_HDR_LEN + len));
	free(b);
}

static const uint8_t *tcp_opt(const uint8_t *th, uint8_t kind)
{
	size_t hl = (size_t)(th[TCP_OFF_DOFF] >> 4) * 4, i = TCP_HDR_LEN;

	while (i < hl && th[i]) {
		if (th[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl || th[i + 1] < 2)
			break;
		if (th[i] == kind)
			return th + i;
		i += th[i + 1];
	}
	return NULL;
}

static void close_rst(int s)
{
	struct linger lg = { 1, 0 }; /* RST: nothing lingers into later tests */

	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
}

/* (a) A local socket sends 60000 bytes to a "remote" the test plays, which
 * answered its SYN with MSS 1360: the kernel's TSO super-packets split into
 * the byte stream, every segment verifying. */
static void tso_read(struct knet *k, int v)
{
	enum { TOTAL = 60000 };
	uint16_t port = (uint16_t)(8000 + v); /* each run its own: RSTs linger */
	struct flow f = kflow(v, 0, 2, port, 0);
	uint8_t *data = malloc(TOTAL), *rx = malloc(TOTAL), seg[200], *pkt;
	uint8_t mss[4] = { 2, 4, 1360 >> 8, 1360 & 0xff };
	struct sockaddr_storage ss;
	struct pollfd pfd;
	struct vnet_hdr h;
	struct pkt p;
	size_t len, got = 0, sent = 0, biggest = 0;
	unsigned supers = 0, most = 0;
	int s = socket(v == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 1;
	socklen_t el = sizeof(err);
	uint32_t isn;

	fill(data, TOTAL, 42);
	assert_int_equal(connect(s, (struct sockaddr *)&ss, saddr(&ss, v, f.src, port)), -1);
	assert_int_equal(errno, EINPROGRESS);
	pkt = kread(k, k->tun0, &h, port, &len);
	p = kparse(k, pkt, len, &h);
	assert_int_equal(p.l4[TCP_OFF_FLAGS], TCP_FLAG_SYN);
	f.dport = p.sport;
	isn = g32(p.l4 + TCP_OFF_SEQ);
	len = mk_tcp(seg, &f, 7000, isn + 1, TCP_FLAG_SYN | TCP_FLAG_ACK, mss, 4, NULL, 0);
	kwrite_plain(k, seg, len);
	pfd = (struct pollfd){ .fd = s, .events = POLLOUT };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, 0);
	while (got < TOTAL) {
		bool ack = false;
		ssize_t w;
		int n;

		if (sent < TOTAL && (w = send(s, data + sent, TOTAL - sent, MSG_DONTWAIT)) > 0)
			sent += (size_t)w;
		pkt = kread(k, k->tun0, &h, port, &len);
		n = gso_split(pkt, len, &h, k->s->o, SEG_CAP, 0, k->s->lens, SEGS);
		assert_true(n > 0);
		if (h.gso_type != VNET_GSO_NONE) {
			assert_int_equal(h.gso_type, v == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6);
			assert_int_equal(h.gso_size, 1360);
			check_split(pkt, len, &h, k->s, 0, n);
			supers++;
			most = (unsigned)n > most ? (unsigned)n : most;
			biggest = len > biggest ? len : biggest;
		}
		for (int i = 0; i < n; i++) {
			uint32_t off;

			assert_int_equal(pkt_parse(&p, k->s->o[i], k->s->lens[i]), 0);
			assert_int_equal(csum_l4_verify(&p), 0);
			off = g32(p.l4 + TCP_OFF_SEQ) - (isn + 1);
			if (!p.payload_len)
				continue;
			/* A TUN loses nothing: at most a retransmission. */
			assert_true(off <= got && off + p.payload_len <= TOTAL);
			memcpy(rx + off, p.payload, p.payload_len);
			if (off + p.payload_len > got)
				got = off + p.payload_len;
			ack = true;
		}
		if (ack) {
			len = mk_tcp(seg, &f, 7001, isn + 1 + (uint32_t)got, TCP_FLAG_ACK, NULL, 0,
				     NULL, 0);
			kwrite_plain(k, seg, len);
		}
	}
	assert_memory_equal(rx, data, TOTAL);
	assert_true(supers > 0 && most > 1);
	printf("IPv%d TSO read: %u super-packets, up to %u segments (%zu bytes)\n", v, supers,
	       most, biggest);
	close_rst(s);
	free(rx);
	free(data);
}

static void test_kernel_tso_read(void **state)
{
	tso_read(*state, 4);
	tso_read(*state, 6);
}

/* A UDP_SEGMENT send comes out as one USO super-packet. */
static void test_kernel_uso_read(void **state)
{
	struct knet *k = *state;
	uint8_t data[3500], *pkt;
	struct sockaddr_storage ss;
	struct vnet_hdr h;
	size_t len;

	if (!k->uso) {
		printf("USO read: this kernel has no TUN_F_USO4/6, skipped\n");
		return;
	}
	fill(data, sizeof(data), 7);
	for (int v = 4; v <= 6; v += 2) {
		struct flow f = kflow(v, 0, 4, 0, 0);
		int s = socket(v == 4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0), gso = 1000;

		assert_int_equal(setsockopt(s, SOL_UDP, UDP_SEGMENT, &gso, sizeof(gso)), 0);
		assert_int_equal(sendto(s, data, sizeof(data), 0, (struct sockaddr *)&ss,
					saddr(&ss, v, f.src, 9999)), (ssize_t)sizeof(data));
		pkt = kread(k, k->tun0, &h, 9999, &len);
		assert_int_equal(h.gso_type, VNET_GSO_UDP_L4);
		assert_int_equal(h.gso_size, 1000);
		assert_int_equal(gso_split(pkt, len, &h, k->s->o, SEG_CAP, 0, k->s->lens, SEGS), 4);
		check_split(pkt, len, &h, k->s, 0, 4);
		close(s);
	}
}

/* What the test knows of the kernel's side of a connection it plays. */
struct peer {
	uint32_t ack, edge, tsval;
	unsigned wscale;
};

static void peer_saw(struct peer *pr, const uint8_t *th)
{
	const uint8_t *ts = tcp_opt(th, 8);

	pr->ack = g32(th + TCP_OFF_ACK);
	pr->edge = pr->ack + ((uint32_t)g16(th + TCP_OFF_WINDOW) << pr->wscale);
	if (ts)
		pr->tsval = g32(ts + 2);
}

static void drain(int c, uint8_t *rx, size_t *got, size_t total)
{
	ssize_t n;

	while (*got < total && (n = recv(c, rx + *got, total - *got, MSG_DONTWAIT)) > 0)
		*got += (size_t)n;
}

/* (b) A local socket listens; the test connects through slgso0 and sends
 * 200 segments of 1400 bytes, each window's worth (up to 40) coalesced into
 * one write. The socket must read every byte. */
static void gro_local(struct knet *k, int v)
{
	enum { MSS_D = 1400, TOTAL = 200 * MSS_D };
	struct flow f = kflow(v, 0, 3, (uint16_t)(40000 + v), 5002);
	uint8_t *data = malloc(TOTAL), *rx = malloc(TOTAL), *buf = malloc(BIG), seg[1600], *pkt;
	uint8_t opt[20] = { 2, 4, MSS_D >> 8, MSS_D & 0xff, 1, 3, 3, 7 };
	struct sockaddr_storage ss;
	struct pollfd pfd;
	struct peer pr = { 0 };
	struct vnet_hdr h;
	struct gro g;
	struct pkt p;
	size_t len, got = 0, sent = 0;
	uint32_t iss = 1000000, irs, snd_nxt = iss + 1, tsv = 3;
	unsigned most = 0, writes = 0;
	int l = socket(v == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), c;
	int rcvbuf = 1 << 20;
	const uint8_t *ws;

	fill(data, TOTAL, 77);
	assert_int_equal(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(bind(l, (struct sockaddr *)&ss, saddr(&ss, v, f.dst, 5002)), 0);
	assert_int_equal(listen(l, 1), 0);
	ts_opt(opt + 8, 1, 0);
	len = mk_tcp(seg, &f, iss, 0, TCP_FLAG_SYN, opt, 20, NULL, 0);
	kwrite_plain(k, seg, len);
	pkt = kread(k, k->tun0, &h, f.sport, &len);
	p = kparse(k, pkt, len, &h);
	assert_int_equal(p.l4[TCP_OFF_FLAGS], TCP_FLAG_SYN | TCP_FLAG_ACK);
	irs = g32(p.l4 + TCP_OFF_SEQ);
	ws = tcp_opt(p.l4, 3);
	assert_non_null(ws);
	assert_non_null(tcp_opt(p.l4, 8));
	peer_saw(&pr, p.l4); /* a SYN's window is never scaled */
	pr.wscale = ws[2];
	assert_int_equal(pr.ack, snd_nxt);
	ts_opt(opt, 2, pr.tsval);
	len = mk_tcp(seg, &f, snd_nxt, irs + 1, TCP_FLAG_ACK, opt, 12, NULL, 0);
	kwrite_plain(k, seg, len);
	pfd = (struct pollfd){ .fd = l, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	c = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	assert_true(c >= 0);
	gro_init(&g, buf, BIG);
	while (sent < TOTAL / MSS_D) {
		unsigned n = (pr.edge - snd_nxt) / MSS_D;
		size_t w;

		n = n > 40 ? 40 : n;
		n = n > TOTAL / MSS_D - sent ? (unsigned)(TOTAL / MSS_D - sent) : n;
		ts_opt(opt, tsv++, pr.tsval);
		for (unsigned j = 0; j < n; j++) {
			len = mk_tcp(seg, &f, snd_nxt + j * MSS_D, irs + 1,
				     TCP_FLAG_ACK | (j == n - 1 ? TCP_FLAG_PSH : 0), opt, 12,
				     data + (sent + j) * MSS_D, MSS_D);
			assert_int_equal(gro_add(&g, seg, len), 1);
		}
		w = gro_flush(&g);
		assert_int_equal(write(k->tun0, buf, w), (ssize_t)w); /* one write */
		writes++;
		most = n > most ? n : most;
		sent += n;
		snd_nxt += n * MSS_D;
		/* Until all is acked and the window has room for a segment more,
		 * reading the socket so that it opens. */
		while ((int32_t)(pr.ack - snd_nxt) < 0 ||
		       (sent < TOTAL / MSS_D && (int32_t)(pr.edge - snd_nxt) < MSS_D)) {
			drain(c, rx, &got, TOTAL);
			pkt = kread(k, k->tun0, &h, f.sport, &len);
			if (pkt[ip_hlen_of(pkt) + TCP_OFF_FLAGS] & TCP_FLAG_ACK)
				peer_saw(&pr, pkt + ip_hlen_of(pkt));
		}
	}
	pfd = (struct pollfd){ .fd = c, .events = POLLIN };
	while (got < TOTAL) {
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		drain(c, rx, &got, TOTAL);
	}
	assert_memory_equal(rx, data, TOTAL);
	assert_int_equal(most, 40);
	printf("IPv%d GRO write: %u writes for 200 segments, up to %u segments each\n", v, writes,
	       most);
	close_rst(c);
	close_rst(l);
	free(buf);
	free(rx);
	free(data);
}

static void test_kernel_gro_write(void **state)
{
	gro_local(*state, 4);
	gro_local(*state, 6);
}

/* Writes a super-packet (vnet header first) to slgso0 for slgso1: the kernel
 * segments it there itself. With the checksum convention right its segments
 * equal gso_split()'s, but for the TTL forwarding took; else their checksums
 * fail. Returns false if the kernel refused the write (EINVAL). */
static bool forward_check(struct knet *k, uint8_t *buf, size_t w, uint16_t port, bool right)
{
	struct outs *want = outs_new();
	struct vnet_hdr h;
	struct pkt p;
	int n;

	vnet_hdr_decode(&h, buf);
	n = gso_split(buf + VNET_HDR_LEN, w - VNET_HDR_LEN, &h, want->o, SEG_CAP, 0, want->lens,
		      SEGS);
	assert_true(n > 1);
	if (write(k->tun0, buf, w) != (ssize_t)w) {
		assert_int_equal(errno, EINVAL);
		outs_free(want);
		return false;
	}
	for (int i = 0; i < n; i++) {
		uint8_t *e = want->o[i], *pkt;
		size_t len;

		e[e[0] >> 4 == 4 ? IPV4_OFF_TTL : IPV6_OFF_HOP_LIMIT]--;
		refresh_ip(e);
		pkt = kread(k, k->tun1, NULL, port, &len);
		assert_int_equal(len, want->lens[i]);
		assert_int_equal(pkt_parse(&p, pkt, len), 0);
		if (right)
			assert_memory_equal(pkt, e, len);
		else
			assert_int_equal(csum_l4_verify(&p), -EBADMSG);
	}
	outs_free(want);
	return true;
}

/* Eight 1400-byte segments with timestamps, the last with PSH, coalesced. */
static size_t gro_eight(uint8_t *buf, const struct flow *f)
{
	uint8_t seg[1600], data[1400], opt[12];
	struct gro g;

	ts_opt(opt, 5, 6);
	gro_init(&g, buf, BIG);
	for (uint32_t i = 0; i < 8; i++) {
		size_t len;

		fill(data, sizeof(data), i);
		len = mk_tcp(seg, f, 1 + i * 1400, 2, TCP_FLAG_ACK | (i == 7 ? TCP_FLAG_PSH : 0),
			     opt, 12, data, sizeof(data));
		assert_int_equal(gro_add(&g, seg, len), 1);
	}
	return gro_flush(&g);
}

/* (c) */
static void forward(struct knet *k, int v)
{
	struct flow f = kflow(v, 10, 7, 1234, 80);
	uint8_t *buf = malloc(BIG), *data = malloc(5000), opt[12], *csum;
	size_t w, hl = v == 4 ? IPV4_HDR_LEN : IPV6_HDR_LEN;
	struct vnet_hdr h;
	uint32_t ps;

	/* GRO's super-packet: our convention; the complemented sum; the sum
	 * over one segment's length instead of the whole. */
	w = gro_eight(buf, &f);
	assert_true(forward_check(k, buf, w, 80, true));
	w = gro_eight(buf, &f);
	csum = buf + VNET_HDR_LEN + hl + TCP_OFF_CSUM;
	p16(csum, (uint16_t)~g16(csum));
	assert_true(forward_check(k, buf, w, 80, false));
	w = gro_eight(buf, &f);
	ps = v == 4 ? csum_ipv4_pseudo(f.src, f.dst, IP_PROTO_TCP, 32 + 1400)
		    : csum_ipv6_pseudo(f.src, f.dst, IP_PROTO_TCP, 32 + 1400);
	p16(csum, (uint16_t)ps);
	assert_true(forward_check(k, buf, w, 80, false));
	/* FIN, PSH and CWR with the ECN bit: the kernel moves the flags as
	 * gso_split() does. */
	fill(data, 5000, 3);
	ts_opt(opt, 9, 10);
	w = VNET_HDR_LEN + mk_tcp(buf + VNET_HDR_LEN, &f, 0xfffffc00, 5,
				  TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN | F_CWR, opt, 12, data,
				  5000);
	h = as_kernel(buf + VNET_HDR_LEN, (v == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6) | VNET_GSO_ECN,
		      1000);
	vnet_hdr_encode(buf, &h);
	assert_true(forward_check(k, buf, w, 80, true));
	/* USO written: Linux >= 6.2 segments it as gso_split() does. */
	f.dport = 4789;
	w = VNET_HDR_LEN + mk_udp(buf + VNET_HDR_LEN, &f, data, 3500);
	h = as_kernel(buf + VNET_HDR_LEN, VNET_GSO_UDP_L4, 1000);
	vnet_hdr_encode(buf, &h);
	if (!forward_check(k, buf, w, 4789, true))
		printf("IPv%d USO write: refused by this kernel, skipped\n", v);
	free(data);
	free(buf);
}

static void test_kernel_forward(void **state)
{
	forward(*state, 4);
	forward(*state, 6);
}

static void put_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0)
			perror(path);
		close(fd);
	}
}

static int find_local(const struct nl_route *r, void *arg)
{
	return r->type == RTN_LOCAL && r->prefixlen == 128 && !memcmp(r->dst, arg, 16) ? -EEXIST
										       : 0;
}

static int kernel_setup(void **state)
{
	static struct knet k;
	static const struct {
		int dev, family;
		const char *net;
		unsigned plen;
		bool addr;
	} cfg[] = {
		{ 0, AF_INET, "198.18.0.1", 24, true }, { 0, AF_INET6, "fd00:1::1", 64, true },
		{ 0, AF_INET, "198.18.9.0", 24, false }, { 0, AF_INET6, "fd00:9::", 64, false },
		{ 1, AF_INET, "198.18.10.0", 24, false }, { 1, AF_INET6, "fd00:10::", 64, false },
	};
	char name[IFNAMSIZ];
	int ifx[2];
	unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

	k.tun0 = tun_open("slgso0", TUN_VNET_HDR | TUN_NONBLOCK, name);
	k.tun1 = tun_open("slgso1", TUN_NONBLOCK, name);
	if (k.tun0 < 0 || k.tun1 < 0 || nl_open(&k.nl) < 0)
		return -1;
	k.uso = tun_set_offload(k.tun0, base | TUN_F_USO4 | TUN_F_USO6) == 0;
	if (!k.uso && tun_set_offload(k.tun0, base) < 0)
		return -1;
	ifx[0] = nl_link_index("slgso0");
	ifx[1] = nl_link_index("slgso1");
	for (int i = 0; i < 2; i++)
		if (ifx[i] < 0 || nl_link_set_up(k.nl, ifx[i], true) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
		uint8_t a[16];
		int r;

		inet_pton(cfg[i].family, cfg[i].net, a);
		r = cfg[i].addr ? nl_addr_add(k.nl, ifx[cfg[i].dev], cfg[i].family, a, cfg[i].plen)
				: nl_route_add(k.nl, ifx[cfg[i].dev], cfg[i].family, a, cfg[i].plen);
		if (r < 0)
			return -1;
	}
	/* An IPv6 address takes packets only once its DAD work has run, which
	 * a busy machine may delay: wait for its local route. */
	uint8_t a6[16];

	inet_pton(AF_INET6, "fd00:1::1", a6);
	for (int i = 0; nl_route_dump(k.nl, AF_INET6, find_local, a6) != -EEXIST; i++) {
		if (i == 300)
			return -1;
		usleep(10000);
	}
	put_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	put_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	k.rbuf = malloc(BIG);
	k.s = outs_new();
	*state = &k;
	return k.rbuf ? 0 : -1;
}

static int kernel_teardown(void **state)
{
	struct knet *k = *state;

	outs_free(k->s);
	free(k->rbuf);
	nl_close(k->nl);
	close(k->tun1);
	close(k->tun0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_vnet_hdr_codec),
		cmocka_unit_test(test_split_tcp),
		cmocka_unit_test(test_split_udp),
		cmocka_unit_test(test_split_none_csum),
		cmocka_unit_test(test_split_refusals),
		cmocka_unit_test(test_gro_roundtrip),
		cmocka_unit_test(test_gro_refusals),
		cmocka_unit_test(test_gro_not_coalescable),
		cmocka_unit_test(test_gro_size_limit),
		cmocka_unit_test(test_speed),
	};
	const struct CMUnitTest kernel[] = {
		cmocka_unit_test(test_kernel_tso_read),
		cmocka_unit_test(test_kernel_uso_read),
		cmocka_unit_test(test_kernel_gro_write),
		cmocka_unit_test(test_kernel_forward),
	};
	int failed;

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "test_gso: unshare(CLONE_NEWNET): %s (run as root)\n",
			strerror(errno));
		return 1;
	}
	failed = cmocka_run_group_tests_name("gso", pure, NULL, NULL);
	return failed + cmocka_run_group_tests_name("gso_kernel", kernel, kernel_setup,
						    kernel_teardown);
}
