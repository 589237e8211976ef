/* gateway/nat against the kernel: the table installs, replaces a leftover and
 * goes away; DNAT through the map (UDP, TCP, IPv4, IPv6), masquerade, the
 * filter (allowed ports, ICMP administratively prohibited for the rest, CIDR
 * resources, overlapping rules), path MTU through the translation, the
 * gateway's own input, the limit on ICMP errors, and the cost of one
 * element add/delete. The world is gw_nat_test.h's three namespaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gw_nat_test.h"

#include <linux/errqueue.h>
#include <sys/uio.h>

#include "gateway/nat.h"

#define TABLE "sl_tnat"
#define TUN "sl-tnat-gc"

struct fx {
	struct gw_world w;
	struct nat *nat;
	uint8_t client4[4], client6[16];
};

static struct fx fx;

static const struct net_prefix gw_addrs[] = {
	{ .family = AF_INET, .addr = { 100, 64, 0, 1 }, .len = 32 },
	{ .family = AF_INET6, .addr = { 0xfd, 0, 0x20, 0x21, 0x11, 0x11, [15] = 1 }, .len = 128 },
};

static const struct nat_config config = {
	.table = TABLE,
	.tun_ifname = TUN,
	.gw_addrs = gw_addrs,
	.n_gw_addrs = 2,
	.reject_rate = 1000, /* the limit has a test of its own, last */
};

static int setup(void **state)
{
	if (world_up(&fx.w) < 0)
		return -1;
	addr_parse("100.64.0.2", fx.client4);
	addr_parse("fd00:2021:1111::2", fx.client6);
	if (nat_new(&config, &fx.nat) < 0)
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nat_free(fx.nat);
	world_down(&fx.w);
	return 0;
}

static struct nat_rule rule(int family, const uint8_t *client, const char *dst, uint8_t prefix,
			    uint8_t proto, uint16_t lo, uint16_t hi)
{
	struct nat_rule r = { .family = family, .prefix = prefix, .proto = proto,
			      .port_lo = lo, .port_hi = hi };

	memcpy(r.client, client, family == AF_INET ? 4 : 16);
	addr_parse(dst, r.dst);
	return r;
}

static void bind_ok(int family, const uint8_t *client, const char *proxy, const char *real)
{
	uint8_t p[16], r[16];

	addr_parse(proxy, p);
	addr_parse(real, r);
	assert_int_equal(nat_bind_add(fx.nat, family, client, p, r), 0);
}

/* One UDP round trip client -> to:port -> L's socket on real:port -> back;
 * seen_src receives the source address L saw. 0 or the client's -errno. */
static int udp_roundtrip(const char *to, const char *real, uint16_t port, char *seen_src)
{
	struct sockaddr_storage from;
	char buf[64];
	int srv = sock_in(&fx.w, fx.w.l, SOCK_DGRAM, real, port, NULL, 0);
	int cli = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, NULL, 0, to, port);
	ssize_t n;
	int ret;

	assert_true(srv >= 0 && cli >= 0);
	assert_int_equal(send(cli, "ping", 4, 0), 4);
	/* Whichever comes first: the datagram at L, or the client told why not. */
	struct pollfd p[2] = { { .fd = srv, .events = POLLIN }, { .fd = cli, .events = POLLIN } };

	assert_int_equal(poll(p, 2, 2000) > 0, 1);
	if (!(p[0].revents & POLLIN)) {
		ret = (int)recv_wait(cli, buf, sizeof(buf), NULL, 0);
		goto out;
	}
	n = recv_wait(srv, buf, sizeof(buf), &from, 0);
	assert_int_equal(n, 4);
	sa_text(&from, seen_src, INET6_ADDRSTRLEN);
	assert_int_equal(sendto(srv, "pong", 4, 0, (struct sockaddr *)&from,
				from.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
							     sizeof(struct sockaddr_in)), 4);
	/* The client's socket is connected to the proxy IP: it takes the reply only
	 * if the source was translated back. */
	n = recv_wait(cli, buf, sizeof(buf), NULL, 2000);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "pong", 4);
	ret = 0;
out:
	close(cli);
	close(srv);
	return ret;
}

static void test_table_installed(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "nft -j list table inet %s | grep -q '\"dnat4\"'", TABLE);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "nft list chain inet %s from_tunnel | grep -q admin-prohibited",
		 TABLE);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(nat_remove_stale("sl_tnat_none"), 0);
	assert_int_equal(nat_remove_stale("bad name"), -EINVAL);
}

static void test_stale_table_replaced(void **state)
{
	struct nat_config c = config;
	struct nat *n;

	(void)state;
	/* What a crashed run would leave: the table, with something of its own. */
	assert_int_equal(system("nft add table inet sl_tnat_old && "
				"nft add chain inet sl_tnat_old leftover"), 0);
	c.table = "sl_tnat_old";
	assert_int_equal(nat_new(&c, &n), 0);
	assert_int_not_equal(system("nft list chain inet sl_tnat_old leftover 2>/dev/null"), 0);
	assert_int_equal(system("nft list map inet sl_tnat_old dnat4 >/dev/null"), 0);
	nat_free(n);
	assert_int_not_equal(system("nft list table inet sl_tnat_old 2>/dev/null"), 0);
	/* And by name alone. */
	assert_int_equal(system("nft add table inet sl_tnat_old"), 0);
	assert_int_equal(nat_remove_stale("sl_tnat_old"), 0);
	assert_int_not_equal(system("nft list table inet sl_tnat_old 2>/dev/null"), 0);
}

static void test_bad_config(void **state)
{
	struct nat_config c = config;
	struct nat *n;

	(void)state;
	c.table = "x; flush ruleset";
	assert_int_equal(nat_new(&c, &n), -EINVAL);
	c = config;
	c.tun_ifname = "tun\" accept";
	assert_int_equal(nat_new(&c, &n), -EINVAL);
}

static void test_dnat_udp_masquerade(void **state)
{
	char src[INET6_ADDRSTRLEN];
	struct nat_rule r = rule(AF_INET, fx.client4, "100.96.0.5", 32, IPPROTO_UDP, 7000, 7000);

	(void)state;
	bind_ok(AF_INET, fx.client4, "100.96.0.5", "203.0.113.50");
	assert_int_equal(nat_allow_add(fx.nat, &r), 0);
	assert_int_equal(udp_roundtrip("100.96.0.5", "203.0.113.50", 7000, src), 0);
	/* The resource sees the gateway, not the client. */
	assert_string_equal(src, "203.0.113.1");
	/* A port the rule does not cover: administratively prohibited, which a
	 * connected UDP socket gets as EHOSTUNREACH. */
	assert_int_equal(udp_roundtrip("100.96.0.5", "203.0.113.50", 7001, src), -EHOSTUNREACH);
	/* A proxy IP with no binding and no rule. */
	assert_int_equal(udp_roundtrip("100.96.0.99", "203.0.113.50", 7000, src), -EHOSTUNREACH);
	/* The real address itself, addressed directly, is not the proxy IP. */
	assert_int_equal(udp_roundtrip("203.0.113.50", "203.0.113.50", 7000, src), -EHOSTUNREACH);
	assert_int_equal(nat_allow_del(fx.nat, &r), 0);
	assert_int_equal(udp_roundtrip("100.96.0.5", "203.0.113.50", 7000, src), -EHOSTUNREACH);
}

static void test_dnat_tcp(void **state)
{
	struct nat_rule r = rule(AF_INET, fx.client4, "100.96.0.6", 32, IPPROTO_TCP, 8000, 8100);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	char buf[16], text[INET6_ADDRSTRLEN];
	int srv, cli, conn;

	(void)state;
	bind_ok(AF_INET, fx.client4, "100.96.0.6", "203.0.113.50");
	assert_int_equal(nat_allow_add(fx.nat, &r), 0);
	srv = sock_in(&fx.w, fx.w.l, SOCK_STREAM, "203.0.113.50", 8080, NULL, 0);
	cli = sock_in(&fx.w, fx.w.c, SOCK_STREAM, NULL, 0, "100.96.0.6", 8080);
	assert_true(srv >= 0 && cli >= 0);
	assert_int_equal(connect_wait(cli, 2000), 0);
	assert_true(wait_fd(srv, POLLIN, 2000) & POLLIN);
	conn = accept(srv, (struct sockaddr *)&peer, &plen);
	assert_true(conn >= 0);
	assert_string_equal(sa_text(&peer, text, sizeof(text)), "203.0.113.1");
	assert_int_equal(send(cli, "hello", 5, 0), 5);
	assert_int_equal(recv_wait(conn, buf, sizeof(buf), NULL, 2000), 5);
	assert_int_equal(send(conn, "world", 5, 0), 5);
	assert_int_equal(recv_wait(cli, buf, sizeof(buf), NULL, 2000), 5);
	close(conn);
	close(cli);
	/* Outside the port range: the connect fails at once, not by timeout. */
	cli = sock_in(&fx.w, fx.w.c, SOCK_STREAM, NULL, 0, "100.96.0.6", 8101);
	assert_true(cli >= 0);
	assert_int_equal(connect_wait(cli, 2000), -EHOSTUNREACH);
	close(cli);
	close(srv);
	assert_int_equal(nat_allow_del(fx.nat, &r), 0);
}

static void test_two_names_one_real(void **state)
{
	struct nat_rule a = rule(AF_INET, fx.client4, "100.96.0.7", 32, 0, 0, 0);
	struct nat_rule b = rule(AF_INET, fx.client4, "100.96.0.8", 32, IPPROTO_UDP, 0, 0);
	char src[INET6_ADDRSTRLEN];
	uint8_t p[4], other[4];

	(void)state;
	bind_ok(AF_INET, fx.client4, "100.96.0.7", "203.0.113.50");
	bind_ok(AF_INET, fx.client4, "100.96.0.8", "203.0.113.50");
	/* The same binding again is a no-op; another real for it is refused. */
	bind_ok(AF_INET, fx.client4, "100.96.0.8", "203.0.113.50");
	addr_parse("100.96.0.8", p);
	addr_parse("203.0.113.60", other);
	assert_int_equal(nat_bind_add(fx.nat, AF_INET, fx.client4, p, other), -EEXIST);
	assert_int_equal(nat_allow_add(fx.nat, &a), 0);
	assert_int_equal(nat_allow_add(fx.nat, &b), 0);
	assert_int_equal(udp_roundtrip("100.96.0.7", "203.0.113.50", 7100, src), 0);
	assert_int_equal(udp_roundtrip("100.96.0.8", "203.0.113.50", 7100, src), 0);
	/* Echo: through the rule of any protocol, not through the UDP-only one. */
	assert_int_equal(world_sh(&fx.w, fx.w.c, "ping -c1 -W2 100.96.0.7 >/dev/null"), 0);
	assert_int_not_equal(world_sh(&fx.w, fx.w.c, "ping -c1 -W2 100.96.0.8 >/dev/null 2>&1"), 0);
	/* Deleting a binding twice is fine. */
	assert_int_equal(nat_bind_del(fx.nat, AF_INET, fx.client4, p), 0);
	assert_int_equal(nat_bind_del(fx.nat, AF_INET, fx.client4, p), 0);
	assert_int_equal(nat_allow_del(fx.nat, &a), 0);
	assert_int_equal(nat_allow_del(fx.nat, &b), 0);
	assert_int_equal(nat_allow_del(fx.nat, &b), 0);
}

static void test_cidr_and_overlaps(void **state)
{
	struct nat_rule net = rule(AF_INET, fx.client4, "203.0.113.0", 24, IPPROTO_UDP, 9000, 9000);
	struct nat_rule host = rule(AF_INET, fx.client4, "203.0.113.60", 32, IPPROTO_UDP, 9000, 9100);
	char src[INET6_ADDRSTRLEN];
	size_t before = nat_element_count(fx.nat);

	(void)state;
	assert_int_equal(nat_allow_add(fx.nat, &net), 0);
	assert_int_equal(udp_roundtrip("203.0.113.60", "203.0.113.60", 9000, src), 0);
	assert_string_equal(src, "203.0.113.1");
	assert_int_equal(udp_roundtrip("203.0.113.60", "203.0.113.60", 9050, src), -EHOSTUNREACH);
	/* Overlapping the /24: the kernel's set refuses it, the next layer takes it. */
	assert_int_equal(nat_allow_add(fx.nat, &host), 0);
	assert_int_equal(system("nft list set inet " TABLE " allow4_port_1 | grep -q 203.0.113.60"),
			 0);
	assert_int_equal(udp_roundtrip("203.0.113.60", "203.0.113.60", 9050, src), 0);
	assert_int_equal(udp_roundtrip("203.0.113.50", "203.0.113.50", 9050, src), -EHOSTUNREACH);
	/* Counted: one more add of the /24 takes one more delete. */
	assert_int_equal(nat_allow_add(fx.nat, &net), 0);
	assert_int_equal(nat_element_count(fx.nat), before + 2);
	assert_int_equal(nat_allow_del(fx.nat, &net), 0);
	assert_int_equal(udp_roundtrip("203.0.113.50", "203.0.113.50", 9000, src), 0);
	assert_int_equal(nat_allow_del(fx.nat, &net), 0);
	assert_int_equal(udp_roundtrip("203.0.113.50", "203.0.113.50", 9000, src), -EHOSTUNREACH);
	/* Flush: everything of the client, bindings too. */
	bind_ok(AF_INET, fx.client4, "100.96.0.9", "203.0.113.50");
	assert_int_equal(nat_client_flush(fx.nat, AF_INET, fx.client4), 0);
	assert_int_equal(udp_roundtrip("203.0.113.60", "203.0.113.60", 9050, src), -EHOSTUNREACH);
	assert_int_equal(nat_element_count(fx.nat), 0);
	assert_int_not_equal(system("nft -j list map inet " TABLE " dnat4 | grep -q 100.96.0.9"), 0);

	/* Nested prefixes, each overlapping all the others: one layer each, then
	 * no more room. */
	for (uint8_t len = 24; len < 24 + NAT_LAYERS; len++) {
		struct nat_rule nest = rule(AF_INET, fx.client4, "203.0.113.0", len, IPPROTO_TCP,
					    1, 100);

		assert_int_equal(nat_allow_add(fx.nat, &nest), 0);
	}
	struct nat_rule deep = rule(AF_INET, fx.client4, "203.0.113.0", 24 + NAT_LAYERS,
				    IPPROTO_TCP, 1, 100);

	assert_int_equal(nat_allow_add(fx.nat, &deep), -EEXIST);
	assert_int_equal(nat_element_count(fx.nat), NAT_LAYERS);
	assert_int_equal(nat_client_flush(fx.nat, AF_INET, fx.client4), 0);
}

/* What one DNS answer needs in one transaction: two bindings and their rules
 * work at once; all or none on a conflict; an overlap falls back to the
 * layers; a rule already there is counted, not added twice. */
static void test_add_all(void **state)
{
	struct nat_rule r[3] = {
		rule(AF_INET, fx.client4, "100.96.0.21", 32, IPPROTO_UDP, 7200, 7200),
		rule(AF_INET, fx.client4, "100.96.0.22", 32, 0, 0, 0),
		rule(AF_INET, fx.client4, "203.0.113.50", 32, IPPROTO_UDP, 7200, 7300),
	};
	struct nat_bind b[2];
	char src[INET6_ADDRSTRLEN];
	size_t before = nat_element_count(fx.nat);
	uint8_t other[4];

	(void)state;
	addr_parse("100.96.0.21", b[0].proxy);
	addr_parse("203.0.113.50", b[0].real);
	addr_parse("100.96.0.22", b[1].proxy);
	addr_parse("203.0.113.50", b[1].real);
	assert_int_equal(nat_add_all(fx.nat, AF_INET, fx.client4, b, 2, r, 2), 0);
	assert_int_equal(nat_element_count(fx.nat), before + 4);
	assert_int_equal(udp_roundtrip("100.96.0.21", "203.0.113.50", 7200, src), 0);
	assert_int_equal(udp_roundtrip("100.96.0.22", "203.0.113.50", 7201, src), 0);
	assert_int_equal(udp_roundtrip("100.96.0.21", "203.0.113.50", 7201, src), -EHOSTUNREACH);

	/* A binding that conflicts: nothing of the call goes in. */
	addr_parse("203.0.113.60", other);
	memcpy(b[1].real, other, 4);
	assert_int_equal(nat_add_all(fx.nat, AF_INET, fx.client4, b + 1, 1, r + 2, 1), -EEXIST);
	assert_int_equal(nat_element_count(fx.nat), before + 4);
	assert_int_equal(udp_roundtrip("203.0.113.50", "203.0.113.50", 7250, src), -EHOSTUNREACH);
	/* A rule of another client is refused. */
	r[2].client[3] ^= 1;
	assert_int_equal(nat_add_all(fx.nat, AF_INET, fx.client4, NULL, 0, r + 2, 1), -EINVAL);
	r[2].client[3] ^= 1;

	/* The same rules again are counted (two deletes each), and an overlapping
	 * one (udp 7200-7300 to the real address overlaps nothing here, but the
	 * /24 below does) falls back to the layers. */
	assert_int_equal(nat_add_all(fx.nat, AF_INET, fx.client4, NULL, 0, r, 2), 0);
	assert_int_equal(nat_element_count(fx.nat), before + 4);
	struct nat_rule wide[2] = {
		rule(AF_INET, fx.client4, "203.0.113.0", 24, IPPROTO_UDP, 7000, 7300),
		rule(AF_INET, fx.client4, "203.0.113.50", 32, IPPROTO_UDP, 7200, 7300),
	};
	assert_int_equal(nat_add_all(fx.nat, AF_INET, fx.client4, NULL, 0, wide, 2), 0);
	assert_int_equal(nat_element_count(fx.nat), before + 6);
	assert_int_equal(system("nft list set inet " TABLE " allow4_port_1 | grep -q 203.0.113.50"),
			 0);
	assert_int_equal(udp_roundtrip("203.0.113.50", "203.0.113.50", 7250, src), 0);
	assert_int_equal(nat_allow_del(fx.nat, &r[0]), 0);
	assert_int_equal(udp_roundtrip("100.96.0.21", "203.0.113.50", 7200, src), 0);
	assert_int_equal(nat_allow_del(fx.nat, &r[0]), 0);
	assert_int_equal(udp_roundtrip("100.96.0.21", "203.0.113.50", 7200, src), -EHOSTUNREACH);
	assert_int_equal(nat_client_flush(fx.nat, AF_INET, fx.client4), 0);
	assert_int_equal(nat_element_count(fx.nat), 0);
}

static void test_ipv6(void **state)
{
	struct nat_rule r = rule(AF_INET6, fx.client6, "fd00:2021:1111:8000::5", 128, IPPROTO_UDP,
				 7000, 7000);
	struct nat_rule ping = rule(AF_INET6, fx.client6, "fd00:2021:1111:8000::5", 128,
				    IPPROTO_ICMP, 0, 0);
	char src[INET6_ADDRSTRLEN];

	(void)state;
	bind_ok(AF_INET6, fx.client6, "fd00:2021:1111:8000::5", "fd00:2021:1111:ff00::50");
	assert_int_equal(nat_allow_add(fx.nat, &r), 0);
	assert_int_equal(nat_allow_add(fx.nat, &ping), 0);
	assert_int_equal(udp_roundtrip("fd00:2021:1111:8000::5", "fd00:2021:1111:ff00::50", 7000,
				       src), 0);
	assert_string_equal(src, "fd00:2021:1111:ff00::1");
	/* ICMPv6 administratively prohibited: EACCES for a connected socket. */
	assert_int_equal(udp_roundtrip("fd00:2021:1111:8000::5", "fd00:2021:1111:ff00::50", 7001,
				       src), -EACCES);
	assert_int_equal(system("nft list set inet " TABLE " allow6_proto_0 | grep -q ipv6-icmp"), 0);
	assert_int_equal(nat_client_flush(fx.nat, AF_INET6, fx.client6), 0);
	assert_int_equal(udp_roundtrip("fd00:2021:1111:8000::5", "fd00:2021:1111:ff00::50", 7000,
				       src), -EACCES);
}

/* Path MTU through the translation: the gateway's LAN link is narrower than
 * the client's; the gateway's "fragmentation needed" reaches the client's
 * socket, which was connected to the proxy IP, so its embedded header was
 * translated back. */
static void test_path_mtu(void **state)
{
	struct nat_rule r = rule(AF_INET, fx.client4, "100.96.0.30", 32, IPPROTO_UDP, 7300, 7300);
	int pmtu = IP_PMTUDISC_DO, mtu = 0, srv, cli;
	socklen_t len = sizeof(mtu);
	static char big[1400];
	char buf[16];

	(void)state;
	bind_ok(AF_INET, fx.client4, "100.96.0.30", "203.0.113.50");
	assert_int_equal(nat_allow_add(fx.nat, &r), 0);
	assert_int_equal(world_sh(&fx.w, fx.w.g, "ip link set sl-tnat-gl mtu 1280"), 0);
	srv = sock_in(&fx.w, fx.w.l, SOCK_DGRAM, "203.0.113.50", 7300, NULL, 0);
	cli = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, NULL, 0, "100.96.0.30", 7300);
	assert_true(srv >= 0 && cli >= 0);
	assert_int_equal(setsockopt(cli, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)), 0);
	assert_int_equal(send(cli, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(recv_wait(cli, buf, sizeof(buf), NULL, 2000), -EMSGSIZE);
	assert_int_equal(getsockopt(cli, IPPROTO_IP, IP_MTU, &mtu, &len), 0);
	assert_int_equal(mtu, 1280);
	/* At the learnt size it goes through. */
	assert_int_equal(send(cli, big, 1280 - 28, 0), 1280 - 28);
	assert_int_equal(recv_wait(srv, big, sizeof(big), NULL, 2000), 1280 - 28);
	assert_int_equal(world_sh(&fx.w, fx.w.g, "ip link set sl-tnat-gl mtu 1500"), 0);
	close(cli);
	close(srv);
	assert_int_equal(nat_allow_del(fx.nat, &r), 0);
	assert_int_equal(nat_client_flush(fx.nat, AF_INET, fx.client4), 0);
}

/* Clients reach the gateway itself on the DNS port of its tunnel addresses
 * only; the same port on its LAN address, or another port, is refused. */
static void test_gateway_input(void **state)
{
	char buf[16];
	int dns = sock_in(&fx.w, fx.w.g, SOCK_DGRAM, "0.0.0.0", NAT_DNS_PORT, NULL, 0);
	int other = sock_in(&fx.w, fx.w.g, SOCK_DGRAM, "0.0.0.0", 5353, NULL, 0);
	int cli;

	(void)state;
	assert_true(dns >= 0 && other >= 0);
	cli = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, NULL, 0, "100.64.0.1", NAT_DNS_PORT);
	assert_int_equal(send(cli, "q", 1, 0), 1);
	assert_int_equal(recv_wait(dns, buf, sizeof(buf), NULL, 2000), 1);
	close(cli);
	cli = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, NULL, 0, "100.64.0.1", 5353);
	assert_int_equal(send(cli, "q", 1, 0), 1);
	assert_int_equal(recv_wait(cli, buf, sizeof(buf), NULL, 2000), -EHOSTUNREACH);
	close(cli);
	cli = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, NULL, 0, "203.0.113.1", NAT_DNS_PORT);
	assert_int_equal(send(cli, "q", 1, 0), 1);
	assert_int_equal(recv_wait(cli, buf, sizeof(buf), NULL, 2000), -EHOSTUNREACH);
	close(cli);
	assert_int_equal(world_sh(&fx.w, fx.w.c, "ping -c1 -W2 100.64.0.1 >/dev/null"), 0);
	assert_int_equal(world_sh(&fx.w, fx.w.c, "ping -6 -c1 -W2 fd00:2021:1111::1 >/dev/null"), 0);
	/* The host's own services stay open on its other interfaces. */
	assert_int_equal(recv_wait(other, buf, sizeof(buf), NULL, 0), -ETIMEDOUT);
	close(other);
	close(dns);
}

/* What a DNS answer costs the gateway: one binding add, measured, with the
 * map already holding many elements. */
static void test_element_cost(void **state)
{
	enum { N = 400 };
	uint8_t client[4], proxy[4], real[4];
	uint64_t t0, add_ns, del_ns;
	size_t before = nat_element_count(fx.nat);

	(void)state;
	addr_parse("100.64.1.0", client);
	addr_parse("203.0.113.50", real);
	for (unsigned i = 0; i < N; i++) {
		uint8_t c[4] = { 100, 64, 2, (uint8_t)i };

		if (i >= 256)
			c[2] = 3;
		proxy[0] = 100, proxy[1] = 96, proxy[2] = 1, proxy[3] = (uint8_t)i;
		assert_int_equal(nat_bind_add(fx.nat, AF_INET, c, proxy, real), 0);
	}
	t0 = now_ns();
	for (unsigned i = 0; i < N; i++) {
		proxy[0] = 100, proxy[1] = 97, proxy[2] = (uint8_t)(i >> 8), proxy[3] = (uint8_t)i;
		assert_int_equal(nat_bind_add(fx.nat, AF_INET, client, proxy, real), 0);
	}
	add_ns = (now_ns() - t0) / N;
	t0 = now_ns();
	for (unsigned i = 0; i < N; i++) {
		proxy[0] = 100, proxy[1] = 97, proxy[2] = (uint8_t)(i >> 8), proxy[3] = (uint8_t)i;
		assert_int_equal(nat_bind_del(fx.nat, AF_INET, client, proxy), 0);
	}
	del_ns = (now_ns() - t0) / N;
	printf("nat: one binding add %.1f us, delete %.1f us (map of %u elements)\n",
	       (double)add_ns / 1000, (double)del_ns / 1000, N);

	/* A DNS answer's eight addresses in one transaction; all or none. */
	struct nat_bind b[8];
	uint64_t batch_ns;

	for (unsigned i = 0; i < 8; i++) {
		memcpy(b[i].proxy, (uint8_t[]){ 100, 98, 0, (uint8_t)i }, 4);
		memcpy(b[i].real, (uint8_t[]){ 203, 0, 113, (uint8_t)(50 + i) }, 4);
	}
	memcpy(b[7].proxy, b[0].proxy, 4); /* the same proxy IP to another real */
	assert_int_equal(nat_bind_add_all(fx.nat, AF_INET, client, b, 8), -EEXIST);
	assert_int_equal(nat_element_count(fx.nat), before + N);
	assert_int_not_equal(system("nft list map inet " TABLE " dnat4 | grep -q 100.98.0.1"), 0);
	t0 = now_ns();
	for (unsigned k = 0; k < 50; k++) {
		for (unsigned i = 0; i < 8; i++)
			memcpy(b[i].proxy, (uint8_t[]){ 100, 98, (uint8_t)k, (uint8_t)i }, 4);
		assert_int_equal(nat_bind_add_all(fx.nat, AF_INET, client, b, 8), 0);
	}
	batch_ns = (now_ns() - t0) / 50;
	printf("nat: eight bindings in one transaction %.1f us\n", (double)batch_ns / 1000);
	assert_int_equal(nat_element_count(fx.nat), before + N + 400);
	assert_int_equal(system("nft list map inet " TABLE " dnat4 | grep -q 100.98.49.7"), 0);
	/* Again: already there, nothing to do. */
	assert_int_equal(nat_bind_add_all(fx.nat, AF_INET, client, b, 8), 0);
	assert_int_equal(nat_client_flush(fx.nat, AF_INET, client), 0);
	for (unsigned i = 0; i < N; i++) {
		uint8_t c[4] = { 100, 64, i >= 256 ? 3 : 2, (uint8_t)i };

		assert_int_equal(nat_client_flush(fx.nat, AF_INET, c), 0);
	}
	assert_int_equal(nat_element_count(fx.nat), before);
}

/* The ICMP errors to the tunnel are limited (then packets are dropped): with
 * 3/s, a burst of 30 refused datagrams gets 3 errors, and a few more only as
 * the bucket refills while they are read. Runs last: it replaces the table. */
/* The ICMP error queued on a socket with IP_RECVERR: its type and code. */
static int icmp_error(int fd, uint8_t *type, uint8_t *code)
{
	char buf[256], ctl[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };

	if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		struct sock_extended_err ee;

		if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
			continue;
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		if (ee.ee_origin != SO_EE_ORIGIN_ICMP)
			return -EPROTO;
		*type = ee.ee_type;
		*code = ee.ee_code;
		return 0;
	}
	return -ENOMSG;
}

static void test_reject_limited(void **state)
{
	enum { N = 30 };
	struct nat_config c = config;
	struct sockaddr_storage to;
	socklen_t tlen = sa_make(&to, "203.0.113.50", 7001);
	struct pollfd p[N];
	int one = 1, errors = 0;
	uint64_t t0;

	(void)state;
	nat_free(fx.nat);
	c.reject_rate = 3;
	assert_int_equal(nat_new(&c, &fx.nat), 0);
	/* One socket per datagram, each with its error queue (a socket that
	 * holds an error refuses the next send). */
	for (int i = 0; i < N; i++) {
		p[i].fd = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, "100.64.0.2", 0, NULL, 0);
		p[i].events = POLLERR;
		assert_true(p[i].fd >= 0);
		assert_int_equal(setsockopt(p[i].fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)), 0);
	}
	t0 = now_ns();
	for (int i = 0; i < N; i++)
		assert_int_equal(sendto(p[i].fd, "x", 1, 0, (struct sockaddr *)&to, tlen), 1);
	/* Read errors until none came for 500 ms. */
	while (poll(p, N, 500) > 0) {
		for (int i = 0; i < N; i++) {
			uint8_t type, code;

			if (!(p[i].revents & POLLERR))
				continue;
			/* The error itself: ICMP destination unreachable, communication
			 * administratively prohibited (type 3, code 13). */
			assert_int_equal(icmp_error(p[i].fd, &type, &code), 0);
			assert_int_equal(type, 3);
			assert_int_equal(code, 13);
			errors++;
			close(p[i].fd);
			p[i].fd = -1;
		}
	}
	double secs = (double)(now_ns() - t0) / 1e9;

	printf("nat: %d ICMP errors for %d refused datagrams in %.2f s at 3/s\n", errors, N, secs);
	assert_true(errors >= 3);
	assert_true(errors <= 3 + (int)(secs * 3) + 1);
	for (int i = 0; i < N; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_installed),
		cmocka_unit_test(test_stale_table_replaced),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_dnat_udp_masquerade),
		cmocka_unit_test(test_dnat_tcp),
		cmocka_unit_test(test_two_names_one_real),
		cmocka_unit_test(test_cidr_and_overlaps),
		cmocka_unit_test(test_add_all),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_path_mtu),
		cmocka_unit_test(test_gateway_input),
		cmocka_unit_test(test_element_cost),
		cmocka_unit_test(test_reject_limited),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
