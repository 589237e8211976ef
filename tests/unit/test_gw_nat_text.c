/* gateway/nat_text (pure): the nft text of rules, elements and the table, and
 * net/prefix. The kernel's side is test_gw_nat.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "gateway/nat_text.h"
#include "net/prefix.h"

static void addr(const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, out), 1);
}

static struct nat_rule mk(int family, const char *client, const char *dst, uint8_t prefix,
			  uint8_t proto, uint16_t lo, uint16_t hi)
{
	struct nat_rule r = { .family = family, .prefix = prefix, .proto = proto,
			      .port_lo = lo, .port_hi = hi };

	addr(client, r.client);
	addr(dst, r.dst);
	return r;
}

static void test_names(void **state)
{
	(void)state;
	assert_true(nat_text_name_ok("sluice_gw1"));
	assert_false(nat_text_name_ok(""));
	assert_false(nat_text_name_ok(NULL));
	assert_false(nat_text_name_ok("a b"));
	assert_false(nat_text_name_ok("a;flush ruleset"));
	assert_false(nat_text_name_ok("a-b"));
	assert_false(nat_text_name_ok("abcdefghijabcdefghijabcdefghijabc")); /* 33 */
	assert_true(nat_text_ifname_ok("sl-tun0.1"));
	assert_false(nat_text_ifname_ok("tun\""));
	assert_false(nat_text_ifname_ok("sixteen-chars-xx"));
}

static void test_rule_norm(void **state)
{
	struct nat_rule in, out;
	enum nat_kind kind;

	(void)state;
	in = mk(AF_INET, "100.64.0.2", "203.0.113.77", 24, IPPROTO_TCP, 0, 0);
	assert_int_equal(nat_rule_norm(&in, &out, &kind), 0);
	assert_int_equal(kind, NAT_KIND_PORT);
	assert_int_equal(out.port_lo, 0);
	assert_int_equal(out.port_hi, 65535);
	assert_int_equal(out.dst[3], 0); /* masked */
	assert_int_equal(out.dst[2], 113);

	in = mk(AF_INET6, "fd00:2021:1111::2", "fd00:2021:1111:8000::5", 128, IPPROTO_ICMP, 1, 2);
	assert_int_equal(nat_rule_norm(&in, &out, &kind), 0);
	assert_int_equal(kind, NAT_KIND_PROTO);
	assert_int_equal(out.proto, IPPROTO_ICMPV6);
	assert_int_equal(out.port_lo + out.port_hi, 0);

	in = mk(AF_INET, "100.64.0.2", "203.0.113.7", 32, IPPROTO_ICMPV6, 0, 0);
	assert_int_equal(nat_rule_norm(&in, &out, &kind), 0);
	assert_int_equal(out.proto, IPPROTO_ICMP);

	in = mk(AF_INET, "100.64.0.2", "203.0.113.7", 32, 0, 80, 80);
	assert_int_equal(nat_rule_norm(&in, &out, &kind), 0);
	assert_int_equal(kind, NAT_KIND_HOST); /* one address: the exact set */
	assert_int_equal(out.proto + out.port_lo + out.port_hi, 0);
	in = mk(AF_INET, "100.64.0.2", "203.0.113.0", 24, 0, 0, 0);
	assert_int_equal(nat_rule_norm(&in, &out, &kind), 0);
	assert_int_equal(kind, NAT_KIND_ANY);

	in = mk(AF_INET, "100.64.0.2", "203.0.113.7", 32, IPPROTO_UDP, 90, 80);
	assert_int_equal(nat_rule_norm(&in, &out, &kind), -EINVAL);
	in = mk(AF_INET, "100.64.0.2", "203.0.113.7", 33, IPPROTO_UDP, 80, 80);
	assert_int_equal(nat_rule_norm(&in, &out, &kind), -EINVAL);
	in = mk(AF_INET, "100.64.0.2", "203.0.113.7", 32, IPPROTO_SCTP, 80, 80);
	assert_int_equal(nat_rule_norm(&in, &out, &kind), -EINVAL);
	in.family = AF_UNIX;
	assert_int_equal(nat_rule_norm(&in, &out, &kind), -EAFNOSUPPORT);
}

static void expect_allow(const struct nat_rule *in, unsigned layer, const char *want)
{
	struct nat_rule r;
	enum nat_kind kind;
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(nat_rule_norm(in, &r, &kind), 0);
	assert_int_equal(nat_text_allow(&b, true, "gw", &r, kind, layer), 0);
	assert_string_equal((char *)b.data, want);
	buf_free(&b);
}

static void test_allow_text(void **state)
{
	struct nat_rule r;
	struct buf b;

	(void)state;
	r = mk(AF_INET, "100.64.0.2", "203.0.113.0", 24, IPPROTO_TCP, 80, 443);
	expect_allow(&r, 0, "add element inet gw allow4_port_0 "
			    "{ 100.64.0.2 . 203.0.113.0/24 . tcp . 80-443 }\n");
	r = mk(AF_INET, "100.64.0.2", "100.96.0.5", 32, IPPROTO_UDP, 53, 53);
	expect_allow(&r, 3, "add element inet gw allow4_port_3 "
			    "{ 100.64.0.2 . 100.96.0.5 . udp . 53 }\n");
	r = mk(AF_INET, "100.64.0.2", "100.96.0.5", 32, IPPROTO_UDP, 0, 0);
	expect_allow(&r, 0, "add element inet gw allow4_port_0 "
			    "{ 100.64.0.2 . 100.96.0.5 . udp . 0-65535 }\n");
	r = mk(AF_INET6, "fd00:2021:1111::2", "fd00:2021:1111:8000::5", 128, IPPROTO_ICMPV6, 0, 0);
	expect_allow(&r, 1, "add element inet gw allow6_proto_1 "
			    "{ fd00:2021:1111::2 . fd00:2021:1111:8000::5 . ipv6-icmp }\n");
	r = mk(AF_INET6, "fd00:2021:1111::2", "fd00:2021:1111:ff00::", 56, 0, 0, 0);
	expect_allow(&r, 0, "add element inet gw allow6_any_0 "
			    "{ fd00:2021:1111::2 . fd00:2021:1111:ff00::/56 }\n");

	buf_init(&b, 4096);
	r = mk(AF_INET, "100.64.0.2", "203.0.113.9", 32, IPPROTO_ICMP, 0, 0);
	assert_int_equal(nat_text_allow(&b, false, "gw", &r, NAT_KIND_PROTO, 0), 0);
	assert_string_equal((char *)b.data, "delete element inet gw allow4_proto_0 "
					    "{ 100.64.0.2 . 203.0.113.9 . icmp }\n");
	buf_reset(&b);
	/* Not normalized: bits past the prefix. */
	r = mk(AF_INET, "100.64.0.2", "203.0.113.9", 24, 0, 0, 0);
	assert_int_equal(nat_text_allow(&b, true, "gw", &r, NAT_KIND_ANY, 0), -EINVAL);
	r.prefix = 32;
	assert_int_equal(nat_text_allow(&b, true, "gw", &r, NAT_KIND_ANY, NAT_LAYERS), -EINVAL);
	/* The exact set: one address, no layers. */
	assert_int_equal(nat_text_allow(&b, true, "gw", &r, NAT_KIND_HOST, 1), -EINVAL);
	r.prefix = 24;
	r.dst[3] = 0;
	assert_int_equal(nat_text_allow(&b, true, "gw", &r, NAT_KIND_HOST, 0), -EINVAL);
	r.prefix = 32;
	r.dst[3] = 9;
	assert_int_equal(nat_text_allow(&b, true, "gw", &r, NAT_KIND_HOST, 0), 0);
	assert_string_equal((char *)b.data, "add element inet gw allow4_host "
					    "{ 100.64.0.2 . 203.0.113.9 }\n");
	assert_int_equal(nat_text_allow(&b, true, "g w", &r, NAT_KIND_ANY, 0), -EINVAL);
	buf_free(&b);
}

static void test_bind_text(void **state)
{
	uint8_t c[16], p[16], r[16];
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	addr("100.64.0.2", c);
	addr("100.96.0.5", p);
	addr("203.0.113.50", r);
	assert_int_equal(nat_text_bind(&b, true, "gw", AF_INET, c, p, r), 0);
	assert_int_equal(nat_text_bind(&b, false, "gw", AF_INET, c, p, NULL), 0);
	assert_string_equal((char *)b.data,
			    "add element inet gw dnat4 { 100.64.0.2 . 100.96.0.5 : 203.0.113.50 }\n"
			    "delete element inet gw dnat4 { 100.64.0.2 . 100.96.0.5 }\n");
	buf_reset(&b);
	addr("fd00:2021:1111::2", c);
	addr("fd00:2021:1111:8000::1", p);
	addr("fd00:2021:1111:ff00::50", r);
	assert_int_equal(nat_text_bind(&b, true, "gw", AF_INET6, c, p, r), 0);
	assert_string_equal((char *)b.data, "add element inet gw dnat6 { fd00:2021:1111::2 . "
					    "fd00:2021:1111:8000::1 : fd00:2021:1111:ff00::50 }\n");
	buf_reset(&b);
	assert_int_equal(nat_text_bind(&b, true, "gw", AF_INET, c, p, NULL), -EINVAL);
	assert_int_equal(nat_text_bind(&b, true, "gw", AF_UNIX, c, p, r), -EAFNOSUPPORT);
	buf_free(&b);
}

static const struct net_prefix gws[] = {
	{ .family = AF_INET, .addr = { 100, 64, 0, 1 }, .len = 32 },
	{ .family = AF_INET6, .addr = { 0xfd, 0, 0x20, 0x21, 0x11, 0x11, [15] = 1 }, .len = 128 },
};

static void expect_line(const struct buf *b, const char *line)
{
	if (!strstr((const char *)b->data, line))
		fail_msg("missing line: %s\nin:\n%s", line, (const char *)b->data);
}

static void test_table_text(void **state)
{
	struct nat_config c = { .table = "gw", .tun_ifname = "sltun0", .gw_addrs = gws,
				.n_gw_addrs = 2 };
	struct net_prefix ranges[2];
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(nat_text_table(&b, &c), 0);
	assert_int_equal(strncmp((char *)b.data, "add table inet gw\ndelete table inet gw\n"
						 "table inet gw {\n", 55), 0);
	expect_line(&b, "\tlimit reject_rate {\n\t\trate 20/second burst 20 packets\n\t}\n");
	expect_line(&b, "\tmap dnat4 {\n\t\ttype ipv4_addr . ipv4_addr : ipv4_addr\n\t}\n");
	expect_line(&b, "\tset allow6_port_3 {\n\t\ttype ipv6_addr . ipv6_addr . inet_proto . "
			"inet_service\n\t\tflags interval\n\t}\n");
	expect_line(&b, "\t\tiifname \"sltun0\" dnat ip to ip saddr . ip daddr map @dnat4\n");
	expect_line(&b, "\t\tiifname \"sltun0\" jump from_tunnel\n"
			"\t\toifname \"sltun0\" ct direction reply accept\n"
			"\t\toifname \"sltun0\" drop\n");
	expect_line(&b, "\tset allow4_host {\n\t\ttype ipv4_addr . ipv4_addr\n\t}\n");
	expect_line(&b, "\tchain from_tunnel {\n"
			"\t\tct state related meta l4proto { icmp, ipv6-icmp } accept\n"
			"\t\tip saddr . ct original ip daddr @allow4_host accept\n"
			"\t\tip saddr . ct original ip daddr . meta l4proto . th dport "
			"@allow4_port_0 accept\n");
	expect_line(&b, "\t\tip6 saddr . ct original ip6 daddr @allow6_any_3 accept\n"
			"\t\tlimit name \"reject_rate\" reject with icmpx admin-prohibited\n"
			"\t\tdrop\n");
	expect_line(&b, "\t\tip daddr { 100.64.0.1 } meta l4proto { tcp, udp } th dport 53535 accept\n"
			"\t\tip daddr { 100.64.0.1 } icmp type echo-request accept\n");
	expect_line(&b, "\t\tip6 daddr { fd00:2021:1111::1 } icmpv6 type echo-request accept\n");
	expect_line(&b, "\t\toifname != \"sltun0\" ip saddr { 100.64.0.0/11 } masquerade\n"
			"\t\toifname != \"sltun0\" ip6 saddr { fd00:2021:1111::/107 } masquerade\n");

	/* Given ranges, port and rate; IPv4 only. */
	buf_reset(&b);
	assert_int_equal(prefix_parse("100.64.0.0/10", &ranges[0]), 0);
	assert_int_equal(prefix_parse("198.18.0.0/15", &ranges[1]), 0);
	c.client_ranges = ranges;
	c.n_client_ranges = 2;
	c.n_gw_addrs = 1;
	c.dns_port = 5300;
	c.reject_rate = 5;
	assert_int_equal(nat_text_table(&b, &c), 0);
	expect_line(&b, "ip saddr { 100.64.0.0/10, 198.18.0.0/15 } masquerade\n");
	expect_line(&b, "th dport 5300 accept\n");
	expect_line(&b, "rate 5/second burst 5 packets");
	assert_null(strstr((char *)b.data, "ip6 saddr {"));
	assert_null(strstr((char *)b.data, "ip6 daddr {"));

	/* Refused: a gateway address that is a network, too many ranges, names. */
	buf_reset(&b);
	c.gw_addrs = ranges;
	assert_int_equal(nat_text_table(&b, &c), -EINVAL);
	c.gw_addrs = gws;
	c.n_client_ranges = NAT_MAX_RANGES + 1;
	assert_int_equal(nat_text_table(&b, &c), -EINVAL);
	c.n_client_ranges = 2;
	c.tun_ifname = "tun0 accept";
	assert_int_equal(nat_text_table(&b, &c), -EINVAL);
	buf_free(&b);
}

static void test_prefix(void **state)
{
	struct net_prefix p;
	uint8_t a[16];

	(void)state;
	assert_int_equal(prefix_parse("100.64.0.0/11", &p), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 11);
	addr("100.95.255.255", a);
	assert_true(prefix_contains(&p, AF_INET, a));
	addr("100.96.0.0", a);
	assert_false(prefix_contains(&p, AF_INET, a));
	assert_false(prefix_contains(&p, AF_INET6, a));
	assert_int_equal(prefix_parse("fd00:2021:1111::/107", &p), 0);
	assert_int_equal(p.len, 107);
	addr("fd00:2021:1111::1f:ffff", a);
	assert_true(prefix_contains(&p, AF_INET6, a));
	addr("fd00:2021:1111::20:0", a);
	assert_false(prefix_contains(&p, AF_INET6, a));
	assert_int_equal(prefix_parse("203.0.113.7", &p), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(prefix_parse("10.0.0.1/8", &p), -EINVAL);
	assert_int_equal(prefix_parse("10.0.0.0/33", &p), -EINVAL);
	assert_int_equal(prefix_parse("10.0.0.0/", &p), -EINVAL);
	assert_int_equal(prefix_parse("10.0.0.0/-1", &p), -EINVAL);
	assert_int_equal(prefix_parse("10.0.0.0/8x", &p), -EINVAL);
	assert_int_equal(prefix_parse("nas.home", &p), -EINVAL);
	assert_int_equal(prefix_parse("::/0", &p), 0);
	assert_true(prefix_contains(&p, AF_INET6, a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rule_norm),
		cmocka_unit_test(test_allow_text),
		cmocka_unit_test(test_bind_text),
		cmocka_unit_test(test_table_text),
		cmocka_unit_test(test_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
