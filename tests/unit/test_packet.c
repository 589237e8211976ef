/* Packet views: real packets, built packets of every kind, each way a length
 * can lie, extension-header chains, fragments, truncation sweeps, rewrites and
 * the packet quoted by an ICMP error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/csum.h"
#include "net/packet.h"

enum { BUF_MAX = 4096 };

/* Written by Linux 6.x into a TUN device in a scratch network namespace
 * (10.9.0.1 -> 10.9.0.2, fd00:9::1 -> fd00:9::2): a DNS query, a SYN with MSS,
 * SACK, timestamps and window scale, ping and ping -6, the port unreachables
 * the kernel sent back for UDP to a closed port, and an MLDv2 report, whose
 * hop-by-hop header carries a router alert. Checksums are the kernel's. */
static const struct real {
	const char *name, *hex;
	uint8_t proto, flags, icmp_type;
	uint16_t sport, dport, icmp_id;
	size_t ip_hlen, l4_hlen, l4_len;
} reals[] = {
	{ "udp4_dns", "45000039dfc04000401146df0a0900010a090002e047003500252971123401000001"
	  "000000000000076578616d706c6503636f6d0000010001",
	  IP_PROTO_UDP, 0, 0, 57415, 53, 0, 20, 8, 37 },
	{ "udp6_dns", "600d6fca00251140fd000009000000000000000000000001fd0000090000000000000000"
	  "00000002935b00350025755a123501000001000000000000076578616d706c6503636f6d00001c0001",
	  IP_PROTO_UDP, 0, 0, 37723, 53, 0, 40, 8, 37 },
	{ "tcp4_syn", "4500003cdcf94000400649ae0a0900010a090002c09a01bb6fcf03d700000000a002faf0"
	  "7fee0000020405b40402080a001882f5000000000103030a",
	  IP_PROTO_TCP, 0, 0, 49306, 443, 0, 20, 40, 40 },
	{ "tcp6_syn", "600ca48b00280640fd000009000000000000000000000001fd0000090000000000000000"
	  "00000002a4dc01bb9527904b00000000a002fd20efce0000020405a00402080a1dd1772f000000000103030a",
	  IP_PROTO_TCP, 0, 0, 42204, 443, 0, 40, 40, 40 },
	{ "icmp4_echo", "4500002c65a740004001c1150a0900010a09000208000ead2ad10001d92d026b0000"
	  "0000d9e7090000000000",
	  IP_PROTO_ICMP, PKT_F_ECHO, 8, 0, 0, 0x2ad1, 20, 8, 24 },
	{ "icmp6_echo", "6004dc3200183a40fd000009000000000000000000000001fd00000900000000000000"
	  "0000000002800050d52ad30001da2d026b000000002b54020000000000",
	  IP_PROTO_ICMPV6, PKT_F_ECHO, 128, 0, 0, 0x2ad3, 40, 8, 24 },
	{ "icmp4_port_unreach", "45c0003d669d00004001ff4e0a0900010a09000203031130000000004500"
	  "002112344000401114840a0900020a0900019c400009000d0ba468656c6c6f",
	  IP_PROTO_ICMP, PKT_F_ICMP_ERROR, 3, 0, 0, 0, 20, 8, 41 },
	{ "icmp6_port_unreach", "60046b14003d3a40fd000009000000000000000000000001fd00000900000000"
	  "00000000000000020104933e0000000060000000000d1140fd000009000000000000000000000002fd0000"
	  "090000000000000000000000019c410009000d25a168656c6c6f",
	  IP_PROTO_ICMPV6, PKT_F_ICMP_ERROR, 1, 0, 0, 0, 40, 8, 61 },
	{ "mld_hbh", "6000000000240001fe8000000000000052d2c0a381eb69ddff02000000000000000000000000"
	  "00163a000502000001008f0070c80000000104000000ff020000000000000000000000010003",
	  IP_PROTO_ICMPV6, 0, 143, 0, 0, 0, 48, 8, 28 },
};

static size_t unhex(uint8_t *out, const char *hex)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Checksums the slow, obvious way, independent of csum.c. */
static uint32_t ref_sum(const uint8_t *b, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i++)
		s += i & 1 ? b[i] : (uint32_t)b[i] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* --- a small packet builder ----------------------------------------------- */

struct spec {
	uint8_t ver, proto;
	uint8_t ip_opt;       /* IPv4 option bytes (multiple of 4) */
	uint8_t tcp_opt;      /* TCP option bytes (multiple of 4) */
	uint16_t payload;     /* L4 payload bytes */
	uint16_t frag;        /* IPv4 flags+offset field, or IPv6 fragment offset|M */
	bool v6_frag;         /* IPv6: add a fragment header last in the chain */
	uint8_t icmp_type;
	uint8_t n_ext;        /* IPv6 extension headers before any fragment header */
	uint8_t ext[12];
};

static void fix_ip4_csum(uint8_t *b)
{
	size_t hlen = (size_t)(b[0] & 15) * 4;

	put16(b + 10, 0);
	put16(b + 10, ref_fold(ref_sum(b, hlen, 0)));
}

/* Builds the packet s describes into b, with every checksum right. */
static size_t build(const struct spec *s, uint8_t *b)
{
	size_t hl, l4n, pos, csum_off = 0;
	uint8_t *nh_field, *l4;
	uint32_t ps;

	memset(b, 0, BUF_MAX);
	if (s->ver == 4) {
		hl = 20 + s->ip_opt;
		b[0] = (uint8_t)(0x40 | hl / 4);
		put16(b + 4, 0x1234);
		put16(b + 6, s->frag);
		b[8] = 64;
		b[9] = s->proto;
		memcpy(b + 12, "\xc0\x00\x02\x01\xc6\x33\x64\x07", 8);
		memset(b + 20, 1, s->ip_opt); /* NOPs */
		pos = hl;
	} else {
		b[0] = 0x60;
		b[7] = 64;
		memcpy(b + 8, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		memcpy(b + 24, "\x20\x01\x0d\xb8\0\0\0\x02\0\0\0\0\0\0\0\x02", 16);
		nh_field = b + 6;
		pos = 40;
		for (unsigned i = 0; i < s->n_ext; i++) {
			*nh_field = s->ext[i];
			nh_field = b + pos;
			if (s->ext[i] == IP_PROTO_AH) {
				b[pos + 1] = 4; /* (4 + 2) * 4 = 24 bytes */
				pos += 24;
			} else {
				b[pos + 1] = 1; /* 16 bytes */
				pos += 16;
			}
		}
		if (s->v6_frag) {
			*nh_field = IP_PROTO_FRAGMENT;
			nh_field = b + pos;
			put16(b + pos + 2, s->frag);
			memcpy(b + pos + 4, "\xde\xad\xbe\xef", 4);
			pos += 8;
		}
		*nh_field = s->proto;
	}
	l4 = b + pos;
	switch (s->proto) {
	case IP_PROTO_TCP:
		put16(l4, 40000);
		put16(l4 + 2, 443);
		l4[12] = (uint8_t)((20 + s->tcp_opt) / 4 << 4);
		l4[13] = TCP_FLAG_ACK;
		memset(l4 + 20, 1, s->tcp_opt);
		l4n = 20 + s->tcp_opt;
		csum_off = 16;
		break;
	case IP_PROTO_UDP:
		put16(l4, 5353);
		put16(l4 + 2, 53);
		put16(l4 + 4, (uint16_t)(8 + s->payload));
		l4n = 8;
		csum_off = 6;
		break;
	case IP_PROTO_ICMP:
	case IP_PROTO_ICMPV6:
		l4[0] = s->icmp_type;
		put16(l4 + 4, 0x4242);
		put16(l4 + 6, 7);
		l4n = 8;
		csum_off = 2;
		break;
	default:
		l4n = 0;
		break;
	}
	for (size_t i = 0; i < s->payload; i++)
		l4[l4n + i] = (uint8_t)(i * 7 + 3);
	l4n += s->payload;
	pos += l4n;
	if (s->ver == 4) {
		put16(b + 2, (uint16_t)pos);
		fix_ip4_csum(b);
		ps = ref_sum(b + 12, 8, s->proto) + (uint32_t)l4n;
	} else {
		put16(b + 4, (uint16_t)(pos - 40));
		ps = ref_sum(b + 8, 32, s->proto) + (uint32_t)l4n;
	}
	if (csum_off) {
		if (s->proto == IP_PROTO_ICMP)
			ps = 0;
		put16(l4 + csum_off, ref_fold(ref_sum(l4, l4n, ps)));
	}
	return pos;
}

/* --- valid packets -------------------------------------------------------- */

#define V4(...) { .ver = 4, __VA_ARGS__ }
#define V6(...) { .ver = 6, __VA_ARGS__ }

static const struct valid {
	const char *name;
	struct spec s;
	uint8_t flags;
	size_t ip_hlen;
	bool has_l4;
} valids[] = {
	{ "v4 tcp", V4(.proto = IP_PROTO_TCP, .payload = 33), 0, 20, true },
	{ "v4 tcp, options", V4(.proto = IP_PROTO_TCP, .ip_opt = 40, .tcp_opt = 40, .payload = 5), 0, 60, true },
	{ "v4 tcp, no payload", V4(.proto = IP_PROTO_TCP), 0, 20, true },
	{ "v4 udp", V4(.proto = IP_PROTO_UDP, .payload = 17), 0, 20, true },
	{ "v4 udp, ip options", V4(.proto = IP_PROTO_UDP, .ip_opt = 8), 0, 28, true },
	{ "v4 icmp echo", V4(.proto = IP_PROTO_ICMP, .icmp_type = 8, .payload = 56), PKT_F_ECHO, 20, true },
	{ "v4 icmp other", V4(.proto = IP_PROTO_ICMP, .icmp_type = 13, .payload = 12), 0, 20, true },
	{ "v4 gre", V4(.proto = 47, .payload = 24), 0, 20, false },
	{ "v4 icmpv6 proto", V4(.proto = IP_PROTO_ICMPV6, .payload = 8), 0, 20, false },
	{ "v4 first fragment", V4(.proto = IP_PROTO_UDP, .frag = IPV4_FRAG_MF, .payload = 64),
	  PKT_F_FRAG | PKT_F_MORE_FRAGS, 20, true },
	{ "v4 middle fragment", V4(.proto = IP_PROTO_UDP, .frag = IPV4_FRAG_MF | 185, .payload = 64),
	  PKT_F_FRAG | PKT_F_MORE_FRAGS, 20, false },
	{ "v4 last fragment", V4(.proto = IP_PROTO_TCP, .frag = 3, .payload = 3), PKT_F_FRAG, 20, false },
	{ "v4 DF", V4(.proto = IP_PROTO_TCP, .frag = IPV4_FRAG_DF), 0, 20, true },
	{ "v6 tcp", V6(.proto = IP_PROTO_TCP, .payload = 100), 0, 40, true },
	{ "v6 tcp, options", V6(.proto = IP_PROTO_TCP, .tcp_opt = 20), 0, 40, true },
	{ "v6 udp", V6(.proto = IP_PROTO_UDP, .payload = 1), 0, 40, true },
	{ "v6 icmpv6 echo", V6(.proto = IP_PROTO_ICMPV6, .icmp_type = 129, .payload = 8), PKT_F_ECHO, 40, true },
	{ "v6 icmpv6 error", V6(.proto = IP_PROTO_ICMPV6, .icmp_type = 3, .payload = 48),
	  PKT_F_ICMP_ERROR, 40, true },
	{ "v6 icmp proto", V6(.proto = IP_PROTO_ICMP, .payload = 8), 0, 40, false },
	{ "v6 no next header", V6(.proto = IP_PROTO_NONE, .payload = 5), 0, 40, false },
	{ "v6 esp", V6(.proto = IP_PROTO_ESP, .payload = 40, .n_ext = 1, .ext = { IP_PROTO_DSTOPTS }),
	  0, 56, false },
	{ "v6 ext chain", V6(.proto = IP_PROTO_UDP, .payload = 9, .n_ext = 4,
	  .ext = { IP_PROTO_HOPOPTS, IP_PROTO_DSTOPTS, IP_PROTO_ROUTING, IP_PROTO_AH }), 0, 112, true },
	{ "v6 eight ext headers", V6(.proto = IP_PROTO_TCP, .n_ext = 8,
	  .ext = { 0, 60, 60, 60, 60, 60, 60, 60 }), 0, 168, true },
	{ "v6 atomic fragment", V6(.proto = IP_PROTO_TCP, .v6_frag = true), 0, 48, true },
	{ "v6 first fragment", V6(.proto = IP_PROTO_ICMPV6, .icmp_type = 128, .v6_frag = true,
	  .frag = IPV6_FRAG_MF, .payload = 16), PKT_F_FRAG | PKT_F_MORE_FRAGS | PKT_F_ECHO, 48, true },
	{ "v6 later fragment", V6(.proto = IP_PROTO_UDP, .v6_frag = true, .frag = 1232 | IPV6_FRAG_MF,
	  .n_ext = 1, .ext = { IP_PROTO_HOPOPTS }), PKT_F_FRAG | PKT_F_MORE_FRAGS, 64, false },
	{ "v6 last fragment", V6(.proto = IP_PROTO_TCP, .v6_frag = true, .frag = 2464, .payload = 7),
	  PKT_F_FRAG, 48, false },
};

static void check_view(const struct pkt *p, const uint8_t *b, size_t len)
{
	assert_ptr_equal(p->buf, b);
	assert_true(p->len <= len);
	assert_true(p->ip_hlen <= p->len);
	assert_true(p->src >= b && p->src + p->addr_len <= b + p->ip_hlen);
	assert_true(p->dst >= b && p->dst + p->addr_len <= b + p->ip_hlen);
	assert_int_equal(p->addr_len, p->version == 4 ? 4 : 16);
	if (p->l4) {
		assert_ptr_equal(p->l4, b + p->ip_hlen);
		assert_true(p->l4_hlen <= p->l4_len);
		assert_true(p->l4 + p->l4_len <= b + p->len);
		assert_ptr_equal(p->payload, p->l4 + p->l4_hlen);
		assert_int_equal(p->payload_len, p->l4_len - p->l4_hlen);
	} else {
		assert_ptr_equal(p->payload, b + p->ip_hlen);
		assert_int_equal(p->payload_len, p->len - p->ip_hlen);
	}
}

static void test_real_packets(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
		const struct real *r = &reals[i];
		uint8_t b[BUF_MAX];
		size_t n = unhex(b, r->hex);
		struct pkt p;

		print_message("%s\n", r->name);
		assert_int_equal(pkt_parse(&p, b, n), 0);
		check_view(&p, b, n);
		assert_int_equal(p.len, n);
		assert_int_equal(p.proto, r->proto);
		assert_int_equal(p.flags, r->flags);
		assert_int_equal(p.ip_hlen, r->ip_hlen);
		assert_non_null(p.l4);
		assert_int_equal(p.l4_hlen, r->l4_hlen);
		assert_int_equal(p.l4_len, r->l4_len);
		assert_int_equal(p.sport, r->sport);
		assert_int_equal(p.dport, r->dport);
		assert_int_equal(p.icmp_type, r->icmp_type);
		assert_int_equal(p.icmp_id, r->icmp_id);
		assert_int_equal(csum_l4_verify(&p), 0);
	}
}

static void test_valid_built(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valids) / sizeof(valids[0]); i++) {
		const struct valid *v = &valids[i];
		uint8_t b[BUF_MAX];
		size_t n = build(&v->s, b);
		struct pkt p;

		print_message("%s\n", v->name);
		assert_int_equal(pkt_parse(&p, b, n), 0);
		check_view(&p, b, n);
		assert_int_equal(p.version, v->s.ver);
		assert_int_equal(p.len, n);
		assert_int_equal(p.proto, v->s.proto);
		assert_int_equal(p.flags, v->flags);
		assert_int_equal(p.ip_hlen, v->ip_hlen);
		assert_int_equal(p.l4 != NULL, v->has_l4);
		assert_int_equal(p.frag_off, (v->s.ver == 4 ? (v->s.frag & 0x1fff) * 8 : v->s.frag & 0xfff8));
		if (p.l4 && !(p.flags & PKT_F_FRAG))
			assert_int_equal(csum_l4_verify(&p), 0);
		else
			assert_int_equal(csum_l4_verify(&p), -EOPNOTSUPP);
		if (v->s.proto == IP_PROTO_TCP && p.l4)
			assert_int_equal(p.l4_hlen, 20 + v->s.tcp_opt);
		if (v->s.proto == IP_PROTO_UDP && p.l4) {
			assert_int_equal(p.sport, 5353);
			assert_int_equal(p.dport, 53);
			assert_int_equal(p.payload_len, v->s.payload);
		}
		if (p.flags & PKT_F_ECHO)
			assert_int_equal(p.icmp_id, 0x4242);
		if (!p.l4)
			assert_int_equal(p.payload_len, n - v->ip_hlen);
	}
}

/* --- each way a packet can lie -------------------------------------------- */

struct bad {
	const char *name;
	struct spec s;
	void (*mutate)(uint8_t *b, size_t *n);
	int err;
};

static void m_empty(uint8_t *b, size_t *n) { (void)b; *n = 0; }
static void m_ver5(uint8_t *b, size_t *n) { (void)n; b[0] = (uint8_t)(0x50 | (b[0] & 15)); }
static void m_ver0(uint8_t *b, size_t *n) { (void)n; b[0] &= 15; }
static void m_ihl4(uint8_t *b, size_t *n) { (void)n; b[0] = 0x44; fix_ip4_csum(b); }
static void m_tot_short(uint8_t *b, size_t *n) { (void)n; put16(b + 2, 19); fix_ip4_csum(b); }
static void m_tot_long(uint8_t *b, size_t *n) { put16(b + 2, (uint16_t)(*n + 1)); fix_ip4_csum(b); }
static void m_tot_max(uint8_t *b, size_t *n) { (void)n; put16(b + 2, 0xffff); fix_ip4_csum(b); }
static void m_ihl_past_tot(uint8_t *b, size_t *n) { *n = 40; b[0] = 0x4f; put16(b + 2, 40); fix_ip4_csum(b); }
static void m_ip4_csum(uint8_t *b, size_t *n) { (void)n; b[10] ^= 1; }
static void m_v6_plen(uint8_t *b, size_t *n) { put16(b + 4, (uint16_t)(*n - 39)); }
static void m_v6_plen_max(uint8_t *b, size_t *n) { (void)n; put16(b + 4, 0xffff); }
static void m_v6_jumbo(uint8_t *b, size_t *n) { put16(b + 4, 0); (void)n; }
static void m_cut_1(uint8_t *b, size_t *n) { (void)b; (*n)--; }
static void m_cut_raw(uint8_t *b, size_t *n) { (void)b; (*n)--; }
static size_t l4_off(const uint8_t *b)
{
	struct pkt p;

	assert_true(pkt_parse(&p, (uint8_t *)b, BUF_MAX) <= 0);
	return p.ip_hlen;
}
static void m_udp_len_7(uint8_t *b, size_t *n) { (void)n; put16(b + l4_off(b) + 4, 7); }
static void m_udp_len_20(uint8_t *b, size_t *n) { (void)n; put16(b + l4_off(b) + 4, 20); }
static void m_udp_len_long(uint8_t *b, size_t *n) { size_t o = l4_off(b); put16(b + o + 4, (uint16_t)(*n - o + 1)); }
static void m_tcp_doff_4(uint8_t *b, size_t *n) { (void)n; b[l4_off(b) + 12] = 0x40; }
static void m_tcp_doff_15(uint8_t *b, size_t *n) { (void)n; b[l4_off(b) + 12] = 0xf0; }
static void m_ext_len_past_end(uint8_t *b, size_t *n) { (void)n; b[41] = 200; }
static void m_ah_len_past_end(uint8_t *b, size_t *n) { (void)n; b[41] = 30; }

#define BAD4(...) V4(.proto = IP_PROTO_TCP, __VA_ARGS__)

static const struct bad bads[] = {
	{ "empty", BAD4(), m_empty, -EBADMSG },
	{ "version 5", BAD4(), m_ver5, -EPROTONOSUPPORT },
	{ "version 0", V6(.proto = IP_PROTO_TCP), m_ver0, -EPROTONOSUPPORT },
	{ "ihl 4", BAD4(), m_ihl4, -EBADMSG },
	{ "total < ihl", BAD4(), m_tot_short, -EBADMSG },
	{ "total > buffer", BAD4(.payload = 10), m_tot_long, -EBADMSG },
	{ "total 65535", BAD4(), m_tot_max, -EBADMSG },
	{ "ihl past total", BAD4(.payload = 40), m_ihl_past_tot, -EBADMSG },
	{ "header checksum", BAD4(.payload = 3), m_ip4_csum, -EILSEQ },
	{ "v4 cut", BAD4(.payload = 3), m_cut_raw, -EBADMSG },
	{ "v6 payload > buffer", V6(.proto = IP_PROTO_UDP), m_v6_plen, -EBADMSG },
	{ "v6 payload 65535", V6(.proto = IP_PROTO_UDP), m_v6_plen_max, -EBADMSG },
	{ "v6 jumbogram", V6(.proto = IP_PROTO_UDP, .n_ext = 1, .ext = { IP_PROTO_HOPOPTS }),
	  m_v6_jumbo, -EBADMSG },
	{ "udp length 7", V4(.proto = IP_PROTO_UDP, .payload = 4), m_udp_len_7, -EBADMSG },
	{ "udp length > ip", V4(.proto = IP_PROTO_UDP, .payload = 4), m_udp_len_long, -EBADMSG },
	{ "udp6 length > ip", V6(.proto = IP_PROTO_UDP, .payload = 4), m_udp_len_long, -EBADMSG },
	{ "tcp doff 4", BAD4(.payload = 40), m_tcp_doff_4, -EBADMSG },
	{ "tcp doff past end", BAD4(.payload = 39), m_tcp_doff_15, -EBADMSG },
	{ "tcp6 doff past end", V6(.proto = IP_PROTO_TCP, .payload = 10), m_tcp_doff_15, -EBADMSG },
	{ "tcp short", BAD4(), m_cut_1, -EBADMSG },
	{ "icmp 7 bytes", V4(.proto = IP_PROTO_ICMP, .icmp_type = 8), m_cut_1, -EBADMSG },
	{ "icmpv6 7 bytes", V6(.proto = IP_PROTO_ICMPV6, .icmp_type = 128), m_cut_1, -EBADMSG },
	{ "nine ext headers", V6(.proto = IP_PROTO_TCP, .n_ext = 9,
	  .ext = { 0, 60, 60, 60, 60, 60, 60, 60, 60 }), NULL, -EBADMSG },
	{ "eleven ext headers", V6(.proto = IP_PROTO_NONE, .n_ext = 11,
	  .ext = { 43, 43, 43, 43, 43, 43, 43, 43, 43, 43, 43 }), NULL, -EBADMSG },
	{ "ext len past end", V6(.proto = IP_PROTO_UDP, .n_ext = 1, .ext = { 60 }),
	  m_ext_len_past_end, -EBADMSG },
	{ "ah len past end", V6(.proto = IP_PROTO_UDP, .n_ext = 1, .ext = { IP_PROTO_AH }),
	  m_ah_len_past_end, -EBADMSG },
	{ "hop-by-hop second", V6(.proto = IP_PROTO_UDP, .n_ext = 2, .ext = { 60, 0 }), NULL, -EBADMSG },
	{ "two fragment headers", V6(.proto = IP_PROTO_UDP, .n_ext = 1, .ext = { 44 },
	  .v6_frag = true), NULL, -EBADMSG },
	{ "v4 ping of death", V4(.proto = IP_PROTO_ICMP, .frag = 8189, .payload = 100), NULL, -EBADMSG },
	{ "v6 ping of death", V6(.proto = IP_PROTO_ICMPV6, .v6_frag = true, .frag = 65528,
	  .payload = 100), NULL, -EBADMSG },
	{ "v4 tiny first fragment", V4(.proto = IP_PROTO_TCP, .frag = IPV4_FRAG_MF, .tcp_opt = 12),
	  m_cut_1, -EBADMSG },
	{ "v6 tiny first fragment", V6(.proto = IP_PROTO_UDP, .v6_frag = true, .frag = IPV6_FRAG_MF),
	  m_cut_1, -EBADMSG },
	{ "first fragment > udp length", V4(.proto = IP_PROTO_UDP, .frag = IPV4_FRAG_MF, .payload = 20),
	  m_udp_len_20, -EBADMSG },
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *t = &bads[i];
		uint8_t b[BUF_MAX];
		size_t n = build(&t->s, b);
		struct pkt p;
		int ret;

		print_message("%s\n", t->name);
		if (t->mutate) {
			t->mutate(b, &n);
			if (t->s.ver == 4 && t->mutate == m_cut_1 && n >= 20) {
				/* Cut below the L4 header: the IP header says so too. */
				put16(b + 2, (uint16_t)n);
				fix_ip4_csum(b);
			} else if (t->s.ver == 6 && t->mutate == m_cut_1) {
				put16(b + 4, (uint16_t)(n - 40));
			}
		}
		ret = pkt_parse(&p, b, n);
		assert_int_equal(ret, t->err);
		if (ret == -EILSEQ)
			check_view(&p, b, n); /* complete despite the checksum */
	}
}

/* Every prefix of every valid packet, each in a heap block of exactly that
 * size, so the sanitizer build sees any read past the end. */
static void sweep(const uint8_t *b, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		uint8_t *c = malloc(k ? k : 1);
		struct pkt p;

		assert_non_null(c);
		memcpy(c, b, k);
		assert_int_equal(pkt_parse(&p, c, k), -EBADMSG);
		free(c);
	}
}

static void test_truncation_sweep(void **state)
{
	uint8_t b[BUF_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		sweep(b, unhex(b, reals[i].hex));
	for (size_t i = 0; i < sizeof(valids) / sizeof(valids[0]); i++)
		sweep(b, build(&valids[i].s, b));
}

static void test_padding_ignored(void **state)
{
	static const struct spec specs[] = {
		V4(.proto = IP_PROTO_UDP, .payload = 2), V6(.proto = IP_PROTO_TCP, .payload = 1),
		V6(.proto = IP_PROTO_NONE),
	};
	uint8_t b[BUF_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		size_t n = build(&specs[i], b);
		struct pkt p;

		memset(b + n, 0xee, 18); /* Ethernet-style padding */
		assert_int_equal(pkt_parse(&p, b, n + 18), 0);
		assert_int_equal(p.len, n);
		assert_int_equal(p.payload + p.payload_len, b + n);
		if (p.l4)
			assert_int_equal(csum_l4_verify(&p), 0);
	}
	/* UDP shorter than its IP payload: the rest is padding as well. */
	{
		struct spec s = V4(.proto = IP_PROTO_UDP, .payload = 10);
		size_t n = build(&s, b);
		struct pkt p;

		put16(b + 24, 12);
		put16(b + 26, 0);
		assert_int_equal(pkt_parse(&p, b, n), 0);
		assert_int_equal(p.l4_len, 12);
		assert_int_equal(p.payload_len, 4);
		assert_int_equal(p.len, n);
	}
}

/* Random bytes, and random bytes behind a plausible first byte: never a
 * crash, only the documented errors, and a sane view on success. */
static void test_garbage(void **state)
{
	uint8_t b[256];
	uint32_t x = 0x12345678;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t n;
		struct pkt p;
		int ret;

		for (size_t k = 0; k < sizeof(b); k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			b[k] = (uint8_t)x;
		}
		n = x % sizeof(b);
		if (i & 1) {
			b[0] = i & 2 ? 0x45 : 0x60;
			put16(b + 2, (uint16_t)(n - (x >> 8) % 4));
			put16(b + 4, (uint16_t)(n - 40 - (x >> 8) % 4));
		}
		ret = pkt_parse(&p, b, n);
		assert_true(ret == 0 || ret == -EBADMSG || ret == -EPROTONOSUPPORT || ret == -EILSEQ);
		if (ret == 0 || ret == -EILSEQ)
			check_view(&p, b, n);
	}
}

/* --- rewrites ------------------------------------------------------------- */

static void test_rewrite_real(void **state)
{
	static const uint8_t a4[4] = { 203, 0, 113, 9 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 };

	(void)state;
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
		uint8_t b[BUF_MAX];
		size_t n = unhex(b, reals[i].hex);
		const uint8_t *a = n && b[0] >> 4 == 4 ? a4 : a6;
		struct pkt p, q;
		int ports;

		assert_int_equal(pkt_parse(&p, b, n), 0);
		assert_int_equal(pkt_set_src_addr(&p, a, p.addr_len), 0);
		assert_int_equal(pkt_set_dst_addr(&p, a, p.addr_len), 0);
		assert_int_equal(pkt_set_src_addr(&p, a, 5), -EINVAL);
		ports = pkt_set_src_port(&p, 1000);
		assert_int_equal(ports, p.proto == IP_PROTO_TCP || p.proto == IP_PROTO_UDP ? 0 : -EOPNOTSUPP);
		assert_int_equal(pkt_set_dst_port(&p, 2000), ports);
		assert_int_equal(pkt_set_icmp_id(&p, 0xbeef), p.flags & PKT_F_ECHO ? 0 : -EOPNOTSUPP);
		assert_int_equal(pkt_parse(&q, b, n), 0); /* IPv4 header checksum still right */
		assert_memory_equal(q.src, a, q.addr_len);
		assert_memory_equal(q.dst, a, q.addr_len);
		assert_int_equal(csum_l4_verify(&q), 0);
		if (!ports) {
			assert_int_equal(q.sport, 1000);
			assert_int_equal(q.dport, 2000);
			assert_int_equal(p.sport, 1000);
		}
		if (q.flags & PKT_F_ECHO)
			assert_int_equal(q.icmp_id, 0xbeef);
	}
}

static void test_rewrite_fragments(void **state)
{
	struct spec first = V4(.proto = IP_PROTO_UDP, .frag = IPV4_FRAG_MF, .payload = 40);
	struct spec later = V6(.proto = IP_PROTO_TCP, .v6_frag = true, .frag = 8, .payload = 40);
	static const uint8_t a4[4] = { 10, 1, 2, 3 }, a6[16] = { 0xfd, [15] = 1 };
	uint8_t b[BUF_MAX], c[BUF_MAX];
	struct pkt p;
	size_t n;

	(void)state;
	/* The first fragment's L4 checksum, which covers the whole datagram, is
	 * updated: equal to fixing up the unfragmented datagram. */
	n = build(&first, b);
	first.frag = 0;
	build(&first, c);
	assert_int_equal(pkt_parse(&p, b, n), 0);
	assert_int_equal(pkt_set_dst_addr(&p, a4, 4), 0);
	assert_int_equal(pkt_set_src_port(&p, 7), 0);
	assert_int_equal(pkt_parse(&p, c, n), 0);
	assert_int_equal(pkt_set_dst_addr(&p, a4, 4), 0);
	assert_int_equal(pkt_set_src_port(&p, 7), 0);
	assert_int_equal(csum_l4_verify(&p), 0);
	assert_memory_equal(b + 20, c + 20, n - 20);
	/* A later fragment has no ports, and only addresses change. */
	n = build(&later, b);
	memcpy(c, b, n);
	assert_int_equal(pkt_parse(&p, b, n), 0);
	assert_int_equal(pkt_set_src_port(&p, 7), -EOPNOTSUPP);
	assert_int_equal(pkt_set_src_addr(&p, a6, 16), 0);
	assert_memory_equal(b + 40, c + 40, n - 40);
	assert_memory_equal(b + 8, a6, 16);
}

/* UDP over IPv4 without a checksum keeps none; UDP over IPv6 with 0 is left
 * as it is (invalid), never turned into a valid-looking one. */
static void test_rewrite_udp_zero(void **state)
{
	static const uint8_t a4[4] = { 10, 1, 2, 3 }, a6[16] = { 0xfd, [15] = 1 };
	uint8_t b[BUF_MAX];

	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		struct spec s = { .ver = (uint8_t)v, .proto = IP_PROTO_UDP, .payload = 9 };
		size_t n = build(&s, b), o = v == 4 ? 20 : 40;
		struct pkt p;

		put16(b + o + 6, 0);
		assert_int_equal(pkt_parse(&p, b, n), 0);
		assert_int_equal(csum_l4_verify(&p), v == 4 ? 0 : -EBADMSG);
		assert_int_equal(pkt_set_src_addr(&p, v == 4 ? a4 : a6, p.addr_len), 0);
		assert_int_equal(pkt_set_dst_port(&p, 9999), 0);
		assert_int_equal(get16(b + o + 6), 0);
		assert_int_equal(pkt_parse(&p, b, n), 0);
		assert_int_equal(p.dport, 9999);
	}
}

/* --- ICMP errors: the quoted packet --------------------------------------- */

static void test_inner_real(void **state)
{
	static const uint8_t a4[4] = { 100, 96, 0, 7 }, a6[16] = { 0xfd, 0, 0x20, 0x21, [15] = 7 };

	(void)state;
	for (size_t i = 6; i <= 7; i++) {
		uint8_t b[BUF_MAX];
		size_t n = unhex(b, reals[i].hex);
		struct pkt p, in, q;

		assert_int_equal(pkt_parse(&p, b, n), 0);
		assert_true(p.flags & PKT_F_ICMP_ERROR);
		assert_int_equal(pkt_parse_inner(&in, &p), 0);
		assert_int_equal(in.version, p.version);
		assert_int_equal(in.flags, PKT_F_INNER);
		assert_int_equal(in.proto, IP_PROTO_UDP);
		assert_int_equal(in.sport, 40000 + i - 6);
		assert_int_equal(in.dport, 9);
		assert_memory_equal(in.src, p.dst, p.addr_len);
		assert_int_equal(in.l4_len, 13);
		assert_int_equal(in.payload_len, 5);
		assert_int_equal(csum_l4_verify(&in), -EOPNOTSUPP);
		assert_int_equal(csum_l4(&in), 0); /* complete here, so it does verify */
		assert_int_equal(pkt_parse_inner(&q, &in), -EINVAL);
		/* NAT of the error: rewrite the quoted packet, every checksum holds. */
		assert_int_equal(pkt_set_src_addr(&in, p.version == 4 ? a4 : a6, in.addr_len), 0);
		assert_int_equal(pkt_set_src_port(&in, 53), 0);
		assert_int_equal(pkt_set_dst_addr(&p, p.version == 4 ? a4 : a6, p.addr_len), 0);
		assert_int_equal(pkt_parse(&q, b, n), 0);
		assert_int_equal(csum_l4_verify(&q), 0);
		assert_int_equal(pkt_parse_inner(&in, &q), 0);
		assert_int_equal(in.sport, 53);
		assert_int_equal(csum_l4(&in), 0);
		if (in.version == 4)
			assert_int_equal(csum_fold(csum_partial(in.buf, in.ip_hlen, 0)), 0);
	}
}

static void test_inner_truncated(void **state)
{
	struct spec tcp = V4(.proto = IP_PROTO_TCP, .payload = 100);
	struct spec err = V4(.proto = IP_PROTO_ICMP, .icmp_type = ICMP_TYPE_TIME_EXCEEDED, .payload = 28);
	struct spec echo = V6(.proto = IP_PROTO_ICMPV6, .icmp_type = 128, .payload = 100);
	struct spec err6 = V6(.proto = IP_PROTO_ICMPV6, .icmp_type = 1, .payload = 48);
	uint8_t b[BUF_MAX], t[BUF_MAX];
	struct pkt p, in;
	size_t n;

	(void)state;
	/* RFC 792: the IP header and the first 8 bytes of the datagram. */
	build(&tcp, t);
	n = build(&err, b);
	memcpy(b + 28, t, 28);
	put16(b + 22, 0);
	put16(b + 22, ref_fold(ref_sum(b + 20, n - 20, 0)));
	assert_int_equal(pkt_parse(&p, b, n), 0);
	assert_int_equal(csum_l4_verify(&p), 0);
	assert_int_equal(pkt_parse_inner(&in, &p), 0);
	assert_int_equal(in.flags, PKT_F_INNER | PKT_F_TRUNCATED);
	assert_int_equal(in.len, 28);
	assert_int_equal(in.l4_hlen, 8);
	assert_int_equal(in.sport, 40000);
	assert_int_equal(pkt_set_dst_port(&in, 8443), 0); /* no TCP checksum to fix */
	assert_int_equal(pkt_parse(&p, b, n), 0);
	assert_int_equal(csum_l4_verify(&p), 0);
	/* Seven bytes of L4 are not enough. */
	assert_int_equal(pkt_parse(&p, b, n - 1), -EBADMSG);
	put16(b + 2, (uint16_t)(n - 1));
	fix_ip4_csum(b);
	assert_int_equal(pkt_parse(&p, b, n - 1), 0);
	assert_int_equal(pkt_parse_inner(&in, &p), -EBADMSG);
	/* An ICMPv6 error quoting a cut echo request, id rewritten. */
	build(&echo, t);
	n = build(&err6, b);
	memcpy(b + 48, t, 48);
	assert_int_equal(pkt_parse(&p, b, n), 0);
	assert_int_equal(csum_l4_fill(&p), 0);
	assert_int_equal(pkt_parse_inner(&in, &p), 0);
	assert_true(in.flags & PKT_F_ECHO);
	assert_int_equal(pkt_set_icmp_id(&in, 0x1111), 0);
	assert_int_equal(csum_l4_verify(&p), 0);
	/* Not an error, or the wrong IP version inside. */
	assert_int_equal(pkt_parse(&p, t, build(&echo, t)), 0);
	assert_int_equal(pkt_parse_inner(&in, &p), -EINVAL);
	n = build(&err6, b);
	memcpy(b + 48, "\x45", 1);
	assert_int_equal(pkt_parse(&p, b, n), 0);
	assert_true(pkt_parse_inner(&in, &p) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_packets),
		cmocka_unit_test(test_valid_built),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_padding_ignored),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_rewrite_real),
		cmocka_unit_test(test_rewrite_fragments),
		cmocka_unit_test(test_rewrite_udp_zero),
		cmocka_unit_test(test_inner_real),
		cmocka_unit_test(test_inner_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
