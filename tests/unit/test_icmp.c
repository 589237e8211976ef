/* icmp_prohibited(): the error for each family, parsed back with net/packet
 * and checked field by field (checksums included), the size limits of RFC 1812
 * and RFC 4443, a small cap, and every packet that must not be answered. The
 * kernel's verdict on these errors is in test_wg_device (a SYN refused this way
 * makes connect() fail with EHOSTUNREACH). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "net/csum.h"
#include "net/icmp.h"
#include "net/packet.h"

enum { BUF = 2048 };

static const char *src4 = "198.51.100.10", *dst4 = "203.0.113.7";
static const char *src6 = "fd00:2021:1111::10", *dst6 = "fd00:2021:1111:8000::7";

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* An IPv4 packet of total length len with an L4 header of proto (TCP SYN,
 * UDP, or ICMP of icmp_type), checksums filled. */
static size_t build4(uint8_t *b, size_t len, uint8_t proto, uint8_t icmp_type, const char *src,
		     const char *dst, uint16_t frag)
{
	struct pkt p;
	size_t l4 = len - 20;

	memset(b, 0xab, len);
	b[0] = 0x45;
	b[1] = 0;
	put16(b + 2, (uint16_t)len);
	put16(b + 4, 0x1234);
	put16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	put16(b + 10, 0);
	assert_int_equal(inet_pton(AF_INET, src, b + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, b + 16), 1);
	if (proto == IP_PROTO_TCP) {
		memset(b + 20, 0, 20);
		put16(b + 20, 40000);
		put16(b + 22, 443);
		b[32] = 5 << 4;
		b[33] = TCP_FLAG_SYN;
		put16(b + 34, 64240);
	} else if (proto == IP_PROTO_UDP) {
		put16(b + 20, 40001);
		put16(b + 22, 53);
		put16(b + 24, (uint16_t)l4);
		put16(b + 26, 0);
	} else if (proto == IP_PROTO_ICMP) {
		memset(b + 20, 0, 8);
		b[20] = icmp_type;
	}
	put16(b + 10, csum_ipv4_header(b, 20));
	if (pkt_parse(&p, b, len) == 0 && p.l4 && !(p.flags & PKT_F_FRAG))
		assert_int_equal(csum_l4_fill(&p), 0);
	return len;
}

static size_t build6(uint8_t *b, size_t len, uint8_t proto, uint8_t icmp_type, const char *src,
		     const char *dst)
{
	struct pkt p;
	size_t l4 = len - 40;

	memset(b, 0xcd, len);
	memset(b, 0, 8);
	b[0] = 0x60;
	put16(b + 4, (uint16_t)l4);
	b[6] = proto;
	b[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, b + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, b + 24), 1);
	if (proto == IP_PROTO_TCP) {
		memset(b + 40, 0, 20);
		put16(b + 40, 40000);
		put16(b + 42, 443);
		b[52] = 5 << 4;
		b[53] = TCP_FLAG_SYN;
	} else if (proto == IP_PROTO_UDP) {
		put16(b + 40, 40001);
		put16(b + 42, 53);
		put16(b + 44, (uint16_t)l4);
	} else if (proto == IP_PROTO_ICMPV6) {
		memset(b + 40, 0, 8);
		b[40] = icmp_type;
	}
	assert_int_equal(pkt_parse(&p, b, len), 0);
	if (p.l4)
		assert_int_equal(csum_l4_fill(&p), 0);
	return len;
}

/* Parses the error and checks everything about it; returns the quoted length. */
static size_t check_error(uint8_t *err, int n, const uint8_t *orig, size_t orig_len)
{
	struct pkt e, in, o;
	uint8_t copy[BUF];
	size_t hdr;

	assert_true(n > 0);
	memcpy(copy, orig, orig_len);
	assert_int_equal(pkt_parse(&o, copy, orig_len), 0);
	assert_int_equal(pkt_parse(&e, err, (size_t)n), 0); /* IPv4 header checksum too */
	assert_int_equal(e.len, (size_t)n);
	assert_int_equal(e.version, o.version);
	assert_memory_equal(e.src, o.dst, o.addr_len);
	assert_memory_equal(e.dst, o.src, o.addr_len);
	assert_true(e.flags & PKT_F_ICMP_ERROR);
	assert_int_equal(csum_l4_verify(&e), 0);
	assert_int_equal(csum_fold(csum_partial(e.l4, e.l4_len, 0)) == 0 || e.version == 6, 1);
	if (e.version == 4) {
		assert_int_equal(e.proto, IP_PROTO_ICMP);
		assert_int_equal(e.icmp_type, 3);
		assert_int_equal(e.icmp_code, 13);
		assert_int_equal(e.ip_hlen, 20);
		assert_true((size_t)n <= 576);
		hdr = 28;
	} else {
		assert_int_equal(e.proto, IP_PROTO_ICMPV6);
		assert_int_equal(e.icmp_type, 1);
		assert_int_equal(e.icmp_code, 1);
		assert_true((size_t)n <= 1280);
		hdr = 48;
	}
	assert_memory_equal(err + hdr - 4, "\0\0\0\0", 4); /* unused */
	assert_memory_equal(err + hdr, orig, (size_t)n - hdr);
	assert_int_equal(pkt_parse_inner(&in, &e), 0);
	assert_memory_equal(in.src, o.src, o.addr_len);
	assert_memory_equal(in.dst, o.dst, o.addr_len);
	assert_int_equal(in.proto, o.proto);
	assert_int_equal(in.sport, o.sport);
	assert_int_equal(in.dport, o.dport);
	return (size_t)n - hdr;
}

static void test_tcp_syn(void **state)
{
	uint8_t pkt[BUF], out[BUF];
	size_t len;
	int n;

	(void)state;
	len = build4(pkt, 40, IP_PROTO_TCP, 0, src4, dst4, 0x4000);
	n = icmp_prohibited(pkt, len, out, sizeof(out));
	assert_int_equal(n, 28 + 40);
	assert_int_equal(check_error(out, n, pkt, len), 40);
	assert_int_equal(out[8], 64); /* TTL */

	len = build6(pkt, 60, IP_PROTO_TCP, 0, src6, dst6);
	n = icmp_prohibited(pkt, len, out, sizeof(out));
	assert_int_equal(n, 48 + 60);
	assert_int_equal(check_error(out, n, pkt, len), 60);
	assert_int_equal(out[7], 64); /* hop limit */
}

/* Large packets: cut at 576 (IPv4) and 1280 (IPv6) bytes in all. */
static void test_limits(void **state)
{
	uint8_t pkt[BUF], out[BUF];
	size_t len;
	int n;

	(void)state;
	len = build4(pkt, 1400, IP_PROTO_UDP, 0, src4, dst4, 0);
	n = icmp_prohibited(pkt, len, out, sizeof(out));
	assert_int_equal(n, 576);
	assert_int_equal(check_error(out, n, pkt, len), 548);

	len = build6(pkt, 1400, IP_PROTO_UDP, 0, src6, dst6);
	n = icmp_prohibited(pkt, len, out, 1280);
	assert_int_equal(n, 1280);
	assert_int_equal(check_error(out, n, pkt, len), 1232);

	/* Just under: quoted whole. */
	len = build6(pkt, 1232, IP_PROTO_UDP, 0, src6, dst6);
	n = icmp_prohibited(pkt, len, out, sizeof(out));
	assert_int_equal(n, 1280);
	assert_int_equal(check_error(out, n, pkt, len), 1232);
}

/* A small cap quotes less, down to the IP header and 8 bytes; below that,
 * -EMSGSIZE. Link padding past the IP length is not quoted. */
static void test_cap_and_padding(void **state)
{
	uint8_t pkt[BUF], out[BUF];
	size_t len;
	int n;

	(void)state;
	len = build4(pkt, 1000, IP_PROTO_UDP, 0, src4, dst4, 0);
	n = icmp_prohibited(pkt, len, out, 100);
	assert_int_equal(n, 100);
	check_error(out, n, pkt, len);
	n = icmp_prohibited(pkt, len, out, 56);
	assert_int_equal(n, 56);
	check_error(out, n, pkt, len);
	assert_int_equal(icmp_prohibited(pkt, len, out, 55), -EMSGSIZE);
	assert_int_equal(icmp_prohibited(pkt, len, out, 0), -EMSGSIZE);

	len = build6(pkt, 1000, IP_PROTO_UDP, 0, src6, dst6);
	assert_int_equal(icmp_prohibited(pkt, len, out, 96), 96);
	assert_int_equal(icmp_prohibited(pkt, len, out, 95), -EMSGSIZE);

	len = build4(pkt, 48, IP_PROTO_UDP, 0, src4, dst4, 0);
	memset(pkt + len, 0xee, 12);
	n = icmp_prohibited(pkt, len + 12, out, sizeof(out));
	assert_int_equal(n, 28 + 48);
	check_error(out, n, pkt, len);
}

/* Informational ICMP is answered; errors and unknown types are not. */
static void test_icmp_types(void **state)
{
	uint8_t pkt[BUF], out[BUF];
	size_t len;
	int n;

	(void)state;
	len = build4(pkt, 64, IP_PROTO_ICMP, ICMP_TYPE_ECHO_REQUEST, src4, dst4, 0);
	n = icmp_prohibited(pkt, len, out, sizeof(out));
	assert_int_equal(n, 28 + 64);
	check_error(out, n, pkt, len);
	len = build4(pkt, 64, IP_PROTO_ICMP, 13, src4, dst4, 0); /* timestamp */
	assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), 28 + 64);
	for (uint8_t t = 0; t < 255; t++) {
		bool info = t == 0 || t == 8 || (t >= 13 && t <= 18);

		len = build4(pkt, 64, IP_PROTO_ICMP, t, src4, dst4, 0);
		assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)) > 0, info);
	}
	len = build6(pkt, 64, IP_PROTO_ICMPV6, ICMPV6_TYPE_ECHO_REQUEST, src6, dst6);
	n = icmp_prohibited(pkt, len, out, sizeof(out));
	assert_int_equal(n, 48 + 64);
	check_error(out, n, pkt, len);
	for (unsigned t = 0; t < 128; t++) {
		len = build6(pkt, 64, IP_PROTO_ICMPV6, (uint8_t)t, src6, dst6);
		assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), -EINVAL);
	}
	/* The error we make is itself never answered. */
	len = build4(pkt, 40, IP_PROTO_TCP, 0, src4, dst4, 0);
	n = icmp_prohibited(pkt, len, out, sizeof(out));
	assert_int_equal(icmp_prohibited(out, (size_t)n, pkt, sizeof(pkt)), -EINVAL);
}

/* First fragments are answered, later ones not. */
static void test_fragments(void **state)
{
	uint8_t pkt[BUF], out[BUF], frag[BUF];
	size_t len;

	(void)state;
	len = build4(pkt, 200, IP_PROTO_UDP, 0, src4, dst4, IPV4_FRAG_MF);
	assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), 28 + 200);
	len = build4(pkt, 200, IP_PROTO_UDP, 0, src4, dst4, IPV4_FRAG_MF | 23);
	assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), -EINVAL);
	len = build4(pkt, 200, IP_PROTO_UDP, 0, src4, dst4, 23);
	assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), -EINVAL);

	/* IPv6: a fragment header before UDP, offset 0 then 8. */
	for (int off = 0; off <= 8; off += 8) {
		len = build6(pkt, 100, IP_PROTO_UDP, 0, src6, dst6);
		memcpy(frag, pkt, 40);
		frag[6] = IP_PROTO_FRAGMENT;
		put16(frag + 4, (uint16_t)(len - 40 + 8));
		memset(frag + 40, 0, 8);
		frag[40] = IP_PROTO_UDP;
		put16(frag + 42, (uint16_t)(off | IPV6_FRAG_MF));
		memcpy(frag + 48, pkt + 40, len - 40);
		assert_int_equal(icmp_prohibited(frag, len + 8, out, sizeof(out)),
				 off ? -EINVAL : (int)(48 + len + 8));
	}
}

static void test_addresses(void **state)
{
	static const char *const bad4[] = { "0.0.0.0", "127.0.0.1", "224.0.0.251",
					     "239.1.2.3", "240.0.0.1", "255.255.255.255" };
	static const char *const bad6[] = { "::", "::1", "ff02::1", "ff05::1:3" };
	uint8_t pkt[BUF], out[BUF];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++) {
		len = build4(pkt, 40, IP_PROTO_UDP, 0, bad4[i], dst4, 0);
		assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), -EINVAL);
		len = build4(pkt, 40, IP_PROTO_UDP, 0, src4, bad4[i], 0);
		assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(bad6) / sizeof(bad6[0]); i++) {
		len = build6(pkt, 60, IP_PROTO_UDP, 0, bad6[i], dst6);
		assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), -EINVAL);
		len = build6(pkt, 60, IP_PROTO_UDP, 0, src6, bad6[i]);
		assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), -EINVAL);
	}
	/* Link-local and sluice addresses are single hosts. */
	len = build6(pkt, 60, IP_PROTO_UDP, 0, "fe80::1", "fe80::2");
	assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), 48 + 60);
	len = build4(pkt, 40, IP_PROTO_UDP, 0, "100.64.0.1", "100.96.0.5", 0);
	assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), 28 + 40);
}

/* Not packets: empty, truncated, another version, a wrong header checksum. */
static void test_not_packets(void **state)
{
	uint8_t pkt[BUF], out[BUF];
	size_t len;

	(void)state;
	len = build4(pkt, 40, IP_PROTO_TCP, 0, src4, dst4, 0);
	assert_int_equal(icmp_prohibited(pkt, 0, out, sizeof(out)), -EINVAL);
	len = build4(pkt, 40, IP_PROTO_TCP, 0, src4, dst4, 0);
	for (size_t l = 0; l < len; l++)
		assert_int_equal(icmp_prohibited(pkt, l, out, sizeof(out)), -EINVAL);
	pkt[10] ^= 1;
	assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), -EINVAL);
	pkt[10] ^= 1;
	pkt[0] = 0x55;
	assert_int_equal(icmp_prohibited(pkt, len, out, sizeof(out)), -EINVAL);
	len = build6(pkt, 60, IP_PROTO_TCP, 0, src6, dst6);
	assert_int_equal(icmp_prohibited(pkt, 39, out, sizeof(out)), -EINVAL);
	assert_int_equal(icmp_prohibited(pkt, 59, out, sizeof(out)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_syn),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_cap_and_padding),
		cmocka_unit_test(test_icmp_types),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_not_packets),
	};

	return cmocka_run_group_tests_name("icmp", tests, NULL, NULL);
}
