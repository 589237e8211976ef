/* The client's host routing: the pure overlap check (table-driven), then the
 * kernel part inside a network namespace of the test's own (unshare): overlap
 * found on the host, pins that survive a covering route into the TUN, repair
 * after a kill -9. Two TUN devices stand for the uplink and the client's TUN.
 * Needs root, as the client does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/config.h"
#include "client/hostnet.h"
#include "net/netlink.h"
#include "net/tun.h"

static struct nl_route rt(const char *dst, unsigned len, int ifindex, uint32_t table,
			  uint8_t type, uint8_t proto)
{
	struct nl_route r = { .prefixlen = len, .ifindex = ifindex, .table = table,
			      .type = type, .protocol = proto };

	r.family = strchr(dst, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(r.family, dst, r.dst), 1);
	return r;
}

static struct net_prefix pfx(const char *s)
{
	struct net_prefix p;

	assert_int_equal(prefix_parse(s, &p), 0);
	return p;
}

static void test_overlap_table(void **state)
{
	const struct net_prefix ranges[] = { pfx("100.96.0.0/11"), pfx("fd00:2021:1111:8000::/107"),
					    pfx("fd00:2021:1111:8000:100:100:111:0/120") };
	static const char *const names[] = { "proxy range", "proxy range", "sentinel range" };
	enum { OWN = 7, ETH = 2 };
	static const struct {
		const char *dst;
		unsigned len;
		int ifindex;
		uint32_t table;
		uint8_t type, proto;
		int want;
		const char *says;
	} cases[] = {
		/* free: outside, default routes, the client's own */
		{ "198.51.100.0", 24, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_KERNEL, 0, NULL },
		{ "100.128.0.0", 9, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_STATIC, 0, NULL },
		{ "100.64.0.0", 11, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_STATIC, 0, NULL },
		{ "0.0.0.0", 0, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_DHCP, 0, NULL },
		{ "::", 0, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_RA, 0, NULL },
		{ "100.96.0.0", 11, OWN, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_STATIC, 0, NULL },
		{ "100.100.111.1", 32, OWN, RT_TABLE_LOCAL, RTN_LOCAL, RTPROT_KERNEL, 0, NULL },
		{ "100.100.111.255", 32, OWN, RT_TABLE_LOCAL, RTN_BROADCAST, RTPROT_KERNEL, 0,
		  NULL },
		{ "fd00:2021:1111:8000:100:100:111:1", 128, OWN, RT_TABLE_LOCAL, RTN_LOCAL,
		  RTPROT_KERNEL, 0, NULL },
		{ "100.100.0.9", 32, ETH, RT_TABLE_MAIN, RTN_UNICAST, HOSTNET_RTPROT, 0, NULL },
		{ "fd00:2021:1111::", 64, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_KERNEL, 0, NULL },
		/* taken: inside, around, in another table, of another type */
		{ "100.100.0.0", 16, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_STATIC, -EADDRINUSE,
		  "proxy range 100.96.0.0/11 overlaps the route 100.100.0.0/16 dev " },
		{ "100.0.0.0", 8, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_STATIC, -EADDRINUSE,
		  "proxy range 100.96.0.0/11 overlaps the route 100.0.0.0/8" },
		{ "100.127.255.255", 32, ETH, 100, RTN_UNICAST, RTPROT_STATIC, -EADDRINUSE,
		  "overlaps the route 100.127.255.255/32 dev " },
		{ "100.100.111.5", 32, ETH, RT_TABLE_LOCAL, RTN_LOCAL, RTPROT_KERNEL, -EADDRINUSE,
		  "overlaps the route local 100.100.111.5/32" },
		{ "100.97.0.0", 16, 0, RT_TABLE_MAIN, RTN_PROHIBIT, RTPROT_STATIC, -EADDRINUSE,
		  "overlaps the route prohibit 100.97.0.0/16" },
		{ "fd00:2021:1111:8000::", 64, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_STATIC,
		  -EADDRINUSE, "proxy range fd00:2021:1111:8000::/107 overlaps the route "
			       "fd00:2021:1111:8000::/64" },
		{ "fd00:2021:1111:8000:100:100:111:80", 121, ETH, RT_TABLE_MAIN, RTN_UNICAST,
		  RTPROT_STATIC, -EADDRINUSE,
		  "sentinel range fd00:2021:1111:8000:100:100:111:0/120 overlaps the route" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nl_route r = rt(cases[i].dst, cases[i].len, cases[i].ifindex,
				       cases[i].table, cases[i].type, cases[i].proto);

		err[0] = '\0';
		if (hostnet_overlap(&r, 1, ranges, names, 3, OWN, err, sizeof(err)) !=
			    cases[i].want ||
		    (cases[i].says && !strstr(err, cases[i].says)))
			fail_msg("case %zu (%s/%u): err \"%s\"", i, cases[i].dst, cases[i].len,
				 err);
	}
	/* the first taken one is named; no names: "range"; a gateway is shown */
	struct nl_route list[3] = {
		rt("198.51.100.0", 24, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_KERNEL),
		rt("100.99.0.0", 16, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_STATIC),
		rt("100.98.0.0", 16, ETH, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_STATIC),
	};
	list[1].has_gateway = true;
	inet_pton(AF_INET, "198.51.100.1", list[1].gateway);
	assert_int_equal(hostnet_overlap(list, 3, ranges, NULL, 3, OWN, err, sizeof(err)),
			 -EADDRINUSE);
	assert_non_null(strstr(err, "range 100.96.0.0/11 overlaps the route 100.99.0.0/16 via "
				    "198.51.100.1 dev "));
	assert_int_equal(hostnet_overlap(list, 1, ranges, names, 3, OWN, err, sizeof(err)), 0);
	assert_int_equal(hostnet_overlap(list, 3, ranges, names, 0, OWN, err, sizeof(err)), 0);
	/* own_ifindex 0: nothing is own by device */
	struct nl_route dev0 = rt("100.96.0.0", 11, 0, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_STATIC);
	assert_int_equal(hostnet_overlap(&dev0, 1, ranges, names, 3, 0, err, sizeof(err)),
			 -EADDRINUSE);
}

/* ---- in the kernel ---- */

struct fixture {
	struct nl *nl;
	int up_fd, tun_fd;
	int up, tun; /* ifindex of the uplink and of the client's TUN */
};

static int setup(void **state)
{
	static struct fixture f;
	char name[IFNAMSIZ];
	uint8_t a4[4], a6[16];

	memset(&f, 0, sizeof(f));
	f.up_fd = tun_open("sho-up", TUN_NONBLOCK, name);
	f.tun_fd = tun_open("sho-tun", TUN_NONBLOCK, name);
	if (f.up_fd < 0 || f.tun_fd < 0 || nl_open(&f.nl) < 0)
		return -1;
	f.up = nl_link_index("sho-up");
	f.tun = nl_link_index("sho-tun");
	if (f.up <= 0 || f.tun <= 0 || nl_link_set_up(f.nl, f.up, true) < 0 ||
	    nl_link_set_up(f.nl, f.tun, true) < 0)
		return -1;
	inet_pton(AF_INET, "198.51.100.2", a4);
	inet_pton(AF_INET6, "fd00:2021:1111::2", a6);
	if (nl_addr_add(f.nl, f.up, AF_INET, a4, 24) < 0 ||
	    nl_addr_add(f.nl, f.up, AF_INET6, a6, 64) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nl_close(f->nl);
	close(f->up_fd);
	close(f->tun_fd);
	return 0;
}

static void addr(int family, const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(family, s, out), 1);
}

/* A route via gateway gw (or NULL: on-link) through ifindex, protocol static. */
static void route_via(struct fixture *f, bool add, int family, const char *dst, unsigned len,
		      const char *gw, int ifindex)
{
	struct nl_route r = { .family = family, .prefixlen = len, .ifindex = ifindex };

	addr(family, dst, r.dst);
	if (gw) {
		addr(family, gw, r.gateway);
		r.has_gateway = true;
	}
	assert_int_equal(add ? nl_route_add_ex(f->nl, &r) : nl_route_del_ex(f->nl, &r), 0);
}

struct count {
	uint8_t protocol;
	int n;
};

static int count_cb(const struct nl_route *r, void *arg)
{
	struct count *c = arg;

	if (r->protocol == c->protocol && r->table == RT_TABLE_MAIN)
		c->n++;
	return 0;
}

static int count_marked(struct fixture *f, uint8_t protocol)
{
	struct count c = { .protocol = protocol };

	assert_int_equal(nl_route_dump(f->nl, AF_INET, count_cb, &c), 0);
	assert_int_equal(nl_route_dump(f->nl, AF_INET6, count_cb, &c), 0);
	return c.n;
}

static void test_check_on_host(void **state)
{
	struct fixture *f = *state;
	const struct net_prefix ranges[] = { pfx("100.96.0.0/11"),
					    pfx("fd00:2021:1111:8000::/107") };
	static const char *const names[] = { "proxy range", "proxy range" };
	uint8_t d[16], own4[4];
	char err[256] = "";

	assert_int_equal(hostnet_check(f->nl, ranges, names, 2, f->tun, err, sizeof(err)), 0);
	/* the client's own: its routes and addresses on its TUN */
	addr(AF_INET, "100.96.0.0", d);
	assert_int_equal(hostnet_route_add(f->nl, f->tun, AF_INET, d, 11), 0);
	addr(AF_INET, "100.100.111.1", own4);
	assert_int_equal(nl_addr_add(f->nl, f->tun, AF_INET, own4, 32), 0);
	assert_int_equal(hostnet_check(f->nl, ranges, names, 2, f->tun, err, sizeof(err)), 0);
	/* someone else's route inside the range, on the uplink */
	route_via(f, true, AF_INET, "100.100.0.0", 16, NULL, f->up);
	assert_int_equal(hostnet_check(f->nl, ranges, names, 2, f->tun, err, sizeof(err)),
			 -EADDRINUSE);
	assert_string_equal(err, "proxy range 100.96.0.0/11 overlaps the route 100.100.0.0/16 "
				 "dev sho-up");
	route_via(f, false, AF_INET, "100.100.0.0", 16, NULL, f->up);
	route_via(f, true, AF_INET6, "fd00:2021:1111:8000::", 100, "fd00:2021:1111::1", f->up);
	assert_int_equal(hostnet_check(f->nl, ranges, names, 2, f->tun, err, sizeof(err)),
			 -EADDRINUSE);
	assert_string_equal(err, "proxy range fd00:2021:1111:8000::/107 overlaps the route "
				 "fd00:2021:1111:8000::/100 via fd00:2021:1111::1 dev sho-up");
	route_via(f, false, AF_INET6, "fd00:2021:1111:8000::", 100, "fd00:2021:1111::1", f->up);
	/* a route around the range: the IPv4 range alone is checked */
	route_via(f, true, AF_INET, "100.64.0.0", 10, "198.51.100.1", f->up);
	assert_int_equal(hostnet_check(f->nl, &ranges[1], names, 1, f->tun, err, sizeof(err)),
			 0);
	assert_int_equal(hostnet_check(f->nl, ranges, names, 2, f->tun, err, sizeof(err)),
			 -EADDRINUSE);
	assert_non_null(strstr(err, "100.64.0.0/10 via 198.51.100.1 dev sho-up"));
	route_via(f, false, AF_INET, "100.64.0.0", 10, "198.51.100.1", f->up);
	assert_int_equal(hostnet_check(f->nl, ranges, names, 2, f->tun, err, sizeof(err)), 0);
	/* without its TUN's index the client's own address counts as taken */
	assert_int_equal(hostnet_check(f->nl, ranges, names, 2, 0, err, sizeof(err)),
			 -EADDRINUSE);
	/* routes first: the kernel drops a device's IPv4 routes with its last address */
	assert_int_equal(hostnet_route_del(f->nl, f->tun, AF_INET, d, 11), 0);
	assert_int_equal(hostnet_route_del(f->nl, f->tun, AF_INET, d, 11), -ESRCH);
	assert_int_equal(nl_addr_del(f->nl, f->tun, AF_INET, own4, 32), 0);
}

static void expect_route(struct fixture *f, int family, const char *dst, unsigned plen,
			 int ifindex, const char *gw, uint8_t protocol)
{
	struct nl_route r;
	uint8_t a[16], g[16];

	addr(family, dst, a);
	assert_int_equal(nl_route_get(f->nl, family, a, &r), 0);
	assert_int_equal(r.family, family);
	assert_int_equal(r.prefixlen, plen);
	assert_int_equal(r.ifindex, ifindex);
	assert_int_equal(r.type, RTN_UNICAST);
	assert_int_equal(r.protocol, protocol);
	assert_int_equal(r.has_gateway, gw != NULL);
	if (gw) {
		addr(family, gw, g);
		assert_memory_equal(r.gateway, g, family == AF_INET ? 4 : 16);
	}
}

static void check_pin(struct fixture *f, int family, const char *deflt, const char *gw,
		      const char *target, const char *neighbour, const char *cover,
		      unsigned cover_len, const char *onlink)
{
	unsigned full = family == AF_INET ? 32 : 128;
	uint8_t t[16], n[16], c[16], o[16];
	int before = count_marked(f, HOSTNET_RTPROT);

	addr(family, target, t);
	addr(family, neighbour, n);
	addr(family, cover, c);
	addr(family, onlink, o);
	route_via(f, true, family, deflt, 0, gw, f->up);
	expect_route(f, family, target, 0, f->up, gw, RTPROT_STATIC);
	assert_int_equal(hostnet_pin(f->nl, family, t), 0);
	expect_route(f, family, target, full, f->up, gw, HOSTNET_RTPROT);
	assert_int_equal(count_marked(f, HOSTNET_RTPROT), before + 1);
	assert_int_equal(hostnet_pin(f->nl, family, t), 0); /* pinned already */
	assert_int_equal(count_marked(f, HOSTNET_RTPROT), before + 1);
	/* an on-link address is pinned to its device, without a gateway */
	assert_int_equal(hostnet_pin(f->nl, family, o), 0);
	expect_route(f, family, onlink, full, f->up, NULL, HOSTNET_RTPROT);

	/* a CIDR resource into the TUN takes the neighbour, never the pin */
	assert_int_equal(hostnet_route_add(f->nl, f->tun, family, c, cover_len), 0);
	expect_route(f, family, neighbour, cover_len, f->tun, NULL, HOSTNET_RTPROT);
	expect_route(f, family, target, full, f->up, gw, HOSTNET_RTPROT);
	/* pinning what the TUN already routes would pin it into the tunnel */
	assert_int_equal(hostnet_pin(f->nl, family, n), -ELOOP);

	assert_int_equal(hostnet_unpin(f->nl, family, t), 0);
	expect_route(f, family, target, cover_len, f->tun, NULL, HOSTNET_RTPROT);
	assert_int_equal(hostnet_unpin(f->nl, family, t), 0); /* nothing left: fine */
	assert_int_equal(hostnet_unpin(f->nl, family, o), 0);
	assert_int_equal(hostnet_route_del(f->nl, f->tun, family, c, cover_len), 0);
	assert_int_equal(count_marked(f, HOSTNET_RTPROT), before);
	route_via(f, false, family, deflt, 0, gw, f->up);
}

static void test_pin_ipv4(void **state)
{
	struct fixture *f = *state;
	uint8_t local[4], none[4];

	check_pin(f, AF_INET, "0.0.0.0", "198.51.100.1", "203.0.113.7", "203.0.113.8",
		  "203.0.113.0", 24, "198.51.100.9");
	/* a local address needs no pin; nothing routes to an unreachable one */
	addr(AF_INET, "198.51.100.2", local);
	assert_int_equal(hostnet_pin(f->nl, AF_INET, local), 0);
	assert_int_equal(count_marked(f, HOSTNET_RTPROT), 0);
	addr(AF_INET, "203.0.113.7", none);
	assert_int_equal(hostnet_pin(f->nl, AF_INET, none), -ENETUNREACH);
	assert_int_equal(hostnet_pin(f->nl, AF_UNIX, none), -EAFNOSUPPORT);
}

static void test_pin_ipv6(void **state)
{
	check_pin(*state, AF_INET6, "::", "fd00:2021:1111::1", "fd00:2021:1111:1::7",
		  "fd00:2021:1111:1::8", "fd00:2021:1111:1::", 64, "fd00:2021:1111::9");
}

static void test_repair(void **state)
{
	struct fixture *f = *state;
	uint8_t a[16], b[16], c[16], d[16], s[16];

	route_via(f, true, AF_INET, "0.0.0.0", 0, "198.51.100.1", f->up);
	route_via(f, true, AF_INET6, "::", 0, "fd00:2021:1111::1", f->up);
	addr(AF_INET, "203.0.113.7", a);
	addr(AF_INET6, "fd00:2021:1111:1::7", b);
	addr(AF_INET, "100.96.0.0", c);
	addr(AF_INET6, "fd00:2021:1111:8000::", d);
	addr(AF_INET, "198.18.0.0", s);
	assert_int_equal(hostnet_pin(f->nl, AF_INET, a), 0);
	assert_int_equal(hostnet_pin(f->nl, AF_INET6, b), 0);
	assert_int_equal(hostnet_route_add(f->nl, f->tun, AF_INET, c, 11), 0);
	assert_int_equal(hostnet_route_add(f->nl, f->tun, AF_INET6, d, 107), 0);
	/* not the client's: stays */
	assert_int_equal(nl_route_add(f->nl, f->tun, AF_INET, s, 15), 0);
	assert_int_equal(count_marked(f, HOSTNET_RTPROT), 4);
	int statics = count_marked(f, RTPROT_STATIC);

	assert_int_equal(hostnet_repair(f->nl), 4);
	assert_int_equal(count_marked(f, HOSTNET_RTPROT), 0);
	assert_int_equal(count_marked(f, RTPROT_STATIC), statics);
	expect_route(f, AF_INET, "203.0.113.7", 0, f->up, "198.51.100.1", RTPROT_STATIC);
	expect_route(f, AF_INET, "198.18.1.1", 15, f->tun, NULL, RTPROT_STATIC);
	assert_int_equal(hostnet_repair(f->nl), 0);
	assert_int_equal(nl_route_del(f->nl, f->tun, AF_INET, s, 15), 0);
	route_via(f, false, AF_INET, "0.0.0.0", 0, "198.51.100.1", f->up);
	route_via(f, false, AF_INET6, "::", 0, "fd00:2021:1111::1", f->up);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_overlap_table),
	};
	const struct CMUnitTest kernel[] = {
		cmocka_unit_test(test_check_on_host),
		cmocka_unit_test(test_pin_ipv4),
		cmocka_unit_test(test_pin_ipv6),
		cmocka_unit_test(test_repair),
	};
	int r = cmocka_run_group_tests(pure, NULL, NULL);

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "test_hostnet: unshare(CLONE_NEWNET): %s (run as root)\n",
			strerror(errno));
		return 1;
	}
	return r | cmocka_run_group_tests(kernel, setup, teardown);
}
