/* TUN offloads, on packets built here: splitting super-packets (GSO) into
 * segments and coalescing TCP segments (GRO). The same against the kernel is in
 * test_gso_kernel.c. */
#include "gso_build.h"

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

	return cmocka_run_group_tests_name("gso", pure, NULL, NULL);
}
