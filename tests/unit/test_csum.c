/* Checksums: RFC vectors, every length and alignment against a slow reference,
 * and thousands of random NAT rewrites whose incremental updates must equal a
 * full recomputation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/csum.h"
#include "net/packet.h"

enum { ROUNDS = 5000 };

/* A fixed-seed xorshift: the same "random" rewrites on every run. */
static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void rnd_bytes(uint32_t *x, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd(x);
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static uint32_t ref_sum(const uint8_t *b, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i++)
		s += i & 1 ? b[i] : (uint32_t)b[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

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

static void test_rfc1071_vector(void **state)
{
	/* RFC 1071 section 3: the sum is ddf2, the checksum its complement. */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(csum_partial(b, sizeof(b), 0), 0xddf2);
	assert_int_equal(csum_fold(csum_partial(b, sizeof(b), 0)), 0x220d);
	/* Any split at an even offset gives the same sum. */
	assert_int_equal(csum_partial(b + 4, 4, csum_partial(b, 4, 0)), 0xddf2);
	assert_int_equal(csum_partial(b, 0, 0x1234), 0x1234);
	assert_int_equal(csum_fold(0), 0xffff);
	assert_int_equal(csum_fold(0xffff), 0);
	assert_int_equal(csum_fold(0x1fffe), 0);
}

static void test_ipv4_header_vector(void **state)
{
	/* The IPv4 header from Wikipedia's "IPv4 header checksum" example. */
	uint8_t h[20];

	(void)state;
	unhex(h, "450000730000400040110000c0a80001c0a800c7");
	assert_int_equal(csum_ipv4_header(h, 20), 0xb861);
	put16(h + 10, 0xb861);
	assert_int_equal(csum_fold(csum_partial(h, 20, 0)), 0);
	assert_int_equal(csum_ipv4_header(h, 20), 0xb861); /* the field is skipped */
}

/* Odd lengths, every alignment, large blocks, carried-in sums. */
static void test_partial_vs_reference(void **state)
{
	static uint8_t buf[4096 + 8];
	uint32_t x = 1;

	(void)state;
	rnd_bytes(&x, buf, sizeof(buf));
	for (size_t len = 0; len <= 300; len++) {
		for (size_t align = 0; align < 8; align++) {
			uint32_t in = rnd(&x) & 0xffff;

			assert_int_equal(csum_partial(buf + align, len, in),
					 ref_sum(buf + align, len, in));
		}
	}
	for (size_t len = 4000; len <= 4096; len++)
		assert_int_equal(csum_partial(buf + len % 8, len, 0), ref_sum(buf + len % 8, len, 0));
	/* Carries: all 0xff, where a lost carry shows at once. */
	memset(buf, 0xff, sizeof(buf));
	for (size_t len = 0; len <= 4096; len += 31)
		assert_int_equal(csum_partial(buf, len, 0xffff), ref_sum(buf, len, 0xffff));
}

static void test_replace_vs_recompute(void **state)
{
	uint8_t b[64];
	uint32_t x = 2;

	(void)state;
	for (int i = 0; i < ROUNDS; i++) {
		uint8_t old[16], new[16];
		size_t off = (rnd(&x) % 24) * 2;
		size_t w = (size_t[]){ 2, 4, 16 }[rnd(&x) % 3];
		uint16_t check, got;

		rnd_bytes(&x, b, sizeof(b));
		put16(b, 0);
		put16(b, csum_fold(csum_partial(b, sizeof(b), 0)));
		check = get16(b);
		memcpy(old, b + off + 2, w);
		rnd_bytes(&x, new, w);
		memcpy(b + off + 2, new, w);
		if (w == 2)
			got = csum_replace2(check, get16(old), get16(new));
		else if (w == 4)
			got = csum_replace4(check, (uint32_t)get16(old) << 16 | get16(old + 2),
					    (uint32_t)get16(new) << 16 | get16(new + 2));
		else
			got = csum_replace16(check, old, new);
		put16(b, got);
		/* Ones' complement has two zeros: the full sum must verify. */
		assert_int_equal(csum_fold(csum_partial(b, sizeof(b), 0)), 0);
	}
	/* RFC 1624 section 4: HC 0xdd2f, m 0x5555 -> 0x3285 gives 0x0000 by
	 * eqn. 3 (recomputation agrees), where RFC 1141's eqn. 2 gave 0xffff. */
	assert_int_equal(csum_replace2(0xdd2f, 0x5555, 0x3285), 0x0000);
}

/* Kernel-made packets (see test_packet.c) as templates. */
static const char *const templates[] = {
	/* IPv4 TCP SYN */
	"4500003cdcf94000400649ae0a0900010a090002c09a01bb6fcf03d700000000a002faf07fee0000020405b4"
	"0402080a001882f5000000000103030a",
	/* IPv4 UDP */
	"45000039dfc04000401146df0a0900010a090002e047003500252971123401000001000000000000076578"
	"616d706c6503636f6d0000010001",
	/* IPv6 TCP SYN */
	"600ca48b00280640fd000009000000000000000000000001fd000009000000000000000000000002a4dc01bb"
	"9527904b00000000a002fd20efce0000020405a00402080a1dd1772f000000000103030a",
	/* IPv6 UDP */
	"600d6fca00251140fd000009000000000000000000000001fd000009000000000000000000000002935b0035"
	"0025755a123501000001000000000000076578616d706c6503636f6d00001c0001",
	/* ICMPv6 echo */
	"6004dc3200183a40fd000009000000000000000000000001fd000009000000000000000000000002800050d5"
	"2ad30001da2d026b000000002b54020000000000",
	/* ICMP echo */
	"4500002c65a740004001c1150a0900010a09000208000ead2ad10001d92d026b00000000d9e7090000000000",
};

/* The checksum a full recomputation gives, and whether two checksums are the
 * same ones' complement number (0 and 0xffff are). */
static uint16_t recompute(struct pkt *p, uint8_t *field)
{
	uint16_t keep = get16(field), c;

	assert_int_equal(csum_l4_fill(p), 0);
	c = get16(field);
	put16(field, keep);
	return c;
}

static int same(uint16_t a, uint16_t b)
{
	return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

static void rewrite_rounds(const char *hex, int udp_zero)
{
	uint8_t b[256];
	size_t n = unhex(b, hex);
	uint32_t x = 3 + (uint32_t)n;
	struct pkt p;
	uint8_t *field;

	assert_int_equal(pkt_parse(&p, b, n), 0);
	field = p.l4 + (p.proto == IP_PROTO_TCP ? 16 : p.proto == IP_PROTO_UDP ? 6 : 2);
	if (udp_zero)
		put16(field, 0);
	for (int i = 0; i < ROUNDS; i++) {
		uint8_t a[16];
		uint32_t what = rnd(&x);

		rnd_bytes(&x, a, sizeof(a));
		if (what & 1)
			assert_int_equal(pkt_set_src_addr(&p, a, p.addr_len), 0);
		if (what & 2)
			assert_int_equal(pkt_set_dst_addr(&p, a, p.addr_len), 0);
		if (p.proto == IP_PROTO_TCP || p.proto == IP_PROTO_UDP) {
			assert_int_equal(pkt_set_src_port(&p, (uint16_t)(what >> 8)), 0);
			assert_int_equal(pkt_set_dst_port(&p, (uint16_t)(what >> 16)), 0);
		} else {
			assert_int_equal(pkt_set_icmp_id(&p, (uint16_t)(what >> 8)), 0);
		}
		if (udp_zero) {
			assert_int_equal(get16(field), 0);
		} else {
			assert_true(same(get16(field), recompute(&p, field)));
			assert_int_not_equal(get16(field), 0);
			assert_int_equal(csum_l4_verify(&p), 0);
		}
		if (p.version == 4)
			assert_true(same(get16(b + 10), csum_ipv4_header(b, p.ip_hlen)));
	}
	assert_int_equal(pkt_parse(&p, b, n), 0);
}

static void test_rewrite_ipv4_tcp(void **state) { (void)state; rewrite_rounds(templates[0], 0); }
static void test_rewrite_ipv4_udp(void **state) { (void)state; rewrite_rounds(templates[1], 0); }
static void test_rewrite_ipv4_udp_zero(void **state) { (void)state; rewrite_rounds(templates[1], 1); }
static void test_rewrite_ipv6_tcp(void **state) { (void)state; rewrite_rounds(templates[2], 0); }
static void test_rewrite_ipv6_udp(void **state) { (void)state; rewrite_rounds(templates[3], 0); }
static void test_rewrite_icmpv6(void **state) { (void)state; rewrite_rounds(templates[4], 0); }
static void test_rewrite_icmp(void **state) { (void)state; rewrite_rounds(templates[5], 0); }

/* A rewrite whose exact result is 0: UDP must store 0xffff, never "none". */
static void test_udp_result_zero(void **state)
{
	uint8_t b[256];
	size_t n = unhex(b, templates[1]);
	struct pkt p;
	uint16_t check, port = 0;

	(void)state;
	assert_int_equal(pkt_parse(&p, b, n), 0);
	check = get16(p.l4 + 6);
	while (csum_replace2(check, p.dport, port) != 0)
		port++;
	assert_int_equal(pkt_set_dst_port(&p, port), 0);
	assert_int_equal(get16(p.l4 + 6), 0xffff);
	assert_int_equal(csum_l4_verify(&p), 0);
	/* A full computation that comes to 0 is stored as 0xffff too. */
	assert_int_equal(csum_l4_fill(&p), 0);
	assert_int_equal(get16(p.l4 + 6), 0xffff);
}

static void test_pseudo_headers(void **state)
{
	static const uint8_t s4[4] = { 10, 9, 0, 1 }, d4[4] = { 10, 9, 0, 2 };
	uint8_t s6[16] = { 0xfd }, d6[16] = { 0xfd, [15] = 2 };

	(void)state;
	/* 0a09 + 0001 + 0a09 + 0002 + 0011 + 0025 */
	assert_int_equal(csum_ipv4_pseudo(s4, d4, 17, 37), 0x0a09 + 1 + 0x0a09 + 2 + 17 + 37);
	/* fd00 + fd00 + 0002 + length 0x1_0000 (two words) + 6 */
	assert_int_equal(csum_ipv6_pseudo(s6, d6, 6, 0x10000), ref_sum((uint8_t[]){ 0xfd, 0, 0xfd, 0 }, 4, 2 + 1 + 6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_vector),
		cmocka_unit_test(test_ipv4_header_vector),
		cmocka_unit_test(test_partial_vs_reference),
		cmocka_unit_test(test_replace_vs_recompute),
		cmocka_unit_test(test_rewrite_ipv4_tcp),
		cmocka_unit_test(test_rewrite_ipv4_udp),
		cmocka_unit_test(test_rewrite_ipv4_udp_zero),
		cmocka_unit_test(test_rewrite_ipv6_tcp),
		cmocka_unit_test(test_rewrite_ipv6_udp),
		cmocka_unit_test(test_rewrite_icmpv6),
		cmocka_unit_test(test_rewrite_icmp),
		cmocka_unit_test(test_udp_result_zero),
		cmocka_unit_test(test_pseudo_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
