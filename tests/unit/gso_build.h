/* Shared by test_gso.c and test_gso_kernel.c: packet builders and checks for
 * the TUN offload tests. Everything is static inline so each test program
 * compiles only what it uses. */
#ifndef SLUICE_TEST_GSO_BUILD_H
#define SLUICE_TEST_GSO_BUILD_H

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

static inline uint16_t g16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }
static inline uint32_t g32(const uint8_t *b) { return (uint32_t)g16(b) << 16 | g16(b + 2); }
static inline void p16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static inline void p32(uint8_t *b, uint32_t v) { p16(b, (uint16_t)(v >> 16)); p16(b + 2, (uint16_t)v); }

static inline void fill(uint8_t *b, size_t n, uint32_t seed)
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

static inline struct flow mkflow(int v, const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
	struct flow f = { .v = v, .sport = sport, .dport = dport, .id = 0xfff0, .win = 65535,
			  .ttl = 64 };

	assert_int_equal(inet_pton(v == 4 ? AF_INET : AF_INET6, src, f.src), 1);
	assert_int_equal(inet_pton(v == 4 ? AF_INET : AF_INET6, dst, f.dst), 1);
	return f;
}

static inline size_t ip_hlen_of(const uint8_t *pkt)
{
	return pkt[0] >> 4 == 4 ? (size_t)(pkt[0] & 15) * 4 : IPV6_HDR_LEN;
}

static inline void refresh_ip(uint8_t *pkt)
{
	if (pkt[0] >> 4 == 4)
		p16(pkt + IPV4_OFF_CSUM, csum_ipv4_header(pkt, ip_hlen_of(pkt)));
}

/* Puts the IPv4 header and the L4 checksums right after a change. */
static inline void refresh(uint8_t *pkt, size_t len)
{
	struct pkt p;

	refresh_ip(pkt);
	assert_int_equal(pkt_parse(&p, pkt, len), 0);
	assert_int_equal(csum_l4_fill(&p), 0);
}

static inline size_t mk_ip(uint8_t *out, const struct flow *f, uint8_t proto, size_t l4_len)
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

static inline size_t mk_tcp(uint8_t *out, const struct flow *f, uint32_t seq, uint32_t ack, uint8_t flags,
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

static inline size_t mk_udp(uint8_t *out, const struct flow *f, const uint8_t *data, size_t dlen)
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

static inline void ts_opt(uint8_t o[12], uint32_t val, uint32_t ecr)
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
static inline struct vnet_hdr as_kernel(uint8_t *sup, uint8_t type, uint16_t mss)
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

static inline struct outs *outs_new(void)
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

static inline void outs_free(struct outs *s)
{
	for (int i = 0; i < SEGS; i++)
		free(s->o[i]);
	free(s);
}

/* Every segment parses and verifies, repeats the super-packet's headers but
 * for what must change (lengths, id + i, seq + i * mss, FIN/PSH last, CWR
 * first), and the payloads follow each other. */
static inline void check_split(const uint8_t *sup, size_t slen, const struct vnet_hdr *h,
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

#endif
