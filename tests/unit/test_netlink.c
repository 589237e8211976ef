/* TUN and rtnetlink against the real kernel, inside a network namespace of the
 * test's own (unshare), so nothing touches the host and everything vanishes
 * with the process. Needs root, as the data path does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/netlink.h"
#include "net/tun.h"

struct fixture {
	struct nl *nl;
	int fd;
	int ifindex;
	char name[IFNAMSIZ];
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.fd = tun_open("sltest0", TUN_NONBLOCK, f.name);
	if (f.fd < 0)
		return -1;
	if (nl_open(&f.nl) < 0)
		return -1;
	f.ifindex = nl_link_index(f.name);
	*state = &f;
	return f.ifindex > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nl_close(f->nl);
	close(f->fd);
	return 0;
}

static int link_mtu_flags(const char *name, int *mtu, short *flags)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0)
		r = -errno;
	*mtu = ifr.ifr_mtu;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	*flags = ifr.ifr_flags;
	close(s);
	return r;
}

static void test_tun_open_errors(void **state)
{
	char name[IFNAMSIZ];

	(void)state;
	assert_int_equal(tun_open("a-name-that-is-too-long", 0, name), -ENAMETOOLONG);
	/* The kernel names the device when asked for none. */
	int fd = tun_open(NULL, 0, name);
	assert_true(fd >= 0);
	assert_int_equal(strncmp(name, "tun", 3), 0);
	close(fd);
	assert_int_equal(nl_link_index("no-such-link"), -ENODEV);
}

static void test_link_up_mtu(void **state)
{
	struct fixture *f = *state;
	int mtu;
	short flags;

	assert_int_equal(nl_link_set_mtu(f->nl, f->ifindex, 1420), 0);
	assert_int_equal(nl_link_set_up(f->nl, f->ifindex, true), 0);
	assert_int_equal(link_mtu_flags(f->name, &mtu, &flags), 0);
	assert_int_equal(mtu, 1420);
	assert_true(flags & IFF_UP);
	assert_int_equal(nl_link_set_up(f->nl, f->ifindex, false), 0);
	assert_int_equal(link_mtu_flags(f->name, &mtu, &flags), 0);
	assert_false(flags & IFF_UP);
	/* An MTU below IPv4's minimum is the kernel's to refuse, as an error. */
	assert_true(nl_link_set_mtu(f->nl, f->ifindex, 10) < 0);
	assert_int_equal(nl_link_set_mtu(f->nl, 999999, 1400), -ENODEV);
}

struct find {
	int family;
	uint8_t dst[16];
	unsigned plen;
	int ifindex;
	int found;
	int seen;
};

static int find_cb(const struct nl_route *r, void *arg)
{
	struct find *q = arg;
	size_t alen = q->family == AF_INET ? 4 : 16;

	q->seen++;
	if (r->family == q->family && r->prefixlen == q->plen && r->ifindex == q->ifindex &&
	    memcmp(r->dst, q->dst, alen) == 0 && r->table == RT_TABLE_MAIN)
		q->found++;
	return 0;
}

static int stop_cb(const struct nl_route *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return -ECANCELED;
}

static void check_addr_route(struct fixture *f, int family, const char *addr, unsigned aplen,
			     const char *net, unsigned plen)
{
	struct find q = { .family = family, .plen = plen, .ifindex = f->ifindex };
	uint8_t a[16];
	int calls = 0;

	assert_int_equal(nl_link_set_up(f->nl, f->ifindex, true), 0);
	assert_int_equal(inet_pton(family, addr, a), 1);
	assert_int_equal(nl_addr_add(f->nl, f->ifindex, family, a, aplen), 0);
	assert_int_equal(nl_addr_add(f->nl, f->ifindex, family, a, aplen), -EEXIST);
	assert_int_equal(inet_pton(family, net, q.dst), 1);
	assert_int_equal(nl_route_add(f->nl, f->ifindex, family, q.dst, plen), 0);
	assert_int_equal(nl_route_add(f->nl, f->ifindex, family, q.dst, plen), -EEXIST);
	assert_int_equal(nl_route_dump(f->nl, family, find_cb, &q), 0);
	assert_int_equal(q.found, 1);
	assert_true(q.seen > 1); /* the address's own prefix route is there too */
	/* A callback that stops is honoured, and the socket stays usable after. */
	assert_int_equal(nl_route_dump(f->nl, family, stop_cb, &calls), -ECANCELED);
	assert_int_equal(calls, 1);
	assert_int_equal(nl_route_del(f->nl, f->ifindex, family, q.dst, plen), 0);
	assert_int_equal(nl_route_del(f->nl, f->ifindex, family, q.dst, plen), -ESRCH);
	q.found = 0;
	assert_int_equal(nl_route_dump(f->nl, family, find_cb, &q), 0);
	assert_int_equal(q.found, 0);
	assert_int_equal(nl_addr_del(f->nl, f->ifindex, family, a, aplen), 0);
	assert_int_equal(nl_addr_del(f->nl, f->ifindex, family, a, aplen), -EADDRNOTAVAIL);
}

static void test_ipv4_addr_route(void **state)
{
	check_addr_route(*state, AF_INET, "198.18.0.1", 24, "198.18.5.0", 24);
}

static void test_ipv6_addr_route(void **state)
{
	check_addr_route(*state, AF_INET6, "fd00:2021:1111::1", 107, "fd00:2021:1111:8000::", 107);
}

static void test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	uint8_t a[16] = { 198, 18, 0, 1 }, n[16] = { 198, 18, 0, 0 };

	assert_int_equal(nl_addr_add(f->nl, f->ifindex, AF_INET, a, 33), -EINVAL);
	assert_int_equal(nl_route_add(f->nl, f->ifindex, AF_INET6, a, 129), -EINVAL);
	assert_int_equal(nl_route_add(f->nl, f->ifindex, AF_UNIX, a, 8), -EAFNOSUPPORT);
	assert_int_equal(nl_addr_add(f->nl, 0, AF_INET, a, 24), -ENODEV);
	assert_int_equal(nl_route_add(f->nl, 999999, AF_INET, n, 24), -ENODEV);
	assert_int_equal(nl_route_add(f->nl, f->ifindex, AF_INET, a, 24), -EINVAL); /* host bits */
	assert_int_equal(nl_route_add(f->nl, f->ifindex, AF_INET, a, 32), 0);
	assert_int_equal(nl_route_del(f->nl, f->ifindex, AF_INET, a, 32), 0);
	assert_int_equal(nl_route_add(f->nl, f->ifindex, AF_INET, n, 0), -EINVAL);
	n[0] = 0;
	n[1] = 0;
	assert_int_equal(nl_route_add(f->nl, f->ifindex, AF_INET6, n, 0), 0); /* default */
	assert_int_equal(nl_route_del(f->nl, f->ifindex, AF_INET6, n, 0), 0);
	assert_int_equal(nl_route_dump(f->nl, AF_UNSPEC, find_cb, NULL), -EAFNOSUPPORT);
}

/* A datagram routed into the TUN comes out of its fd as an IP packet. */
static void test_tun_carries_packets(void **state)
{
	struct fixture *f = *state;
	uint8_t a[4], net[4], pkt[2048];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
	int s;
	ssize_t n;

	inet_pton(AF_INET, "198.18.0.1", a);
	inet_pton(AF_INET, "198.18.7.0", net);
	inet_pton(AF_INET, "198.18.7.9", &to.sin_addr);
	assert_int_equal(nl_link_set_up(f->nl, f->ifindex, true), 0);
	assert_int_equal(nl_addr_add(f->nl, f->ifindex, AF_INET, a, 32), 0);
	assert_int_equal(nl_route_add(f->nl, f->ifindex, AF_INET, net, 24), 0);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(sendto(s, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
	close(s);
	/* The kernel may emit IPv6 router solicitations on the link too: skip them. */
	for (;;) {
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		n = read(f->fd, pkt, sizeof(pkt));
		assert_true(n > 0);
		if ((pkt[0] >> 4) == 4)
			break;
	}
	assert_int_equal(n, 20 + 8 + 4);
	assert_int_equal(pkt[9], IPPROTO_UDP);
	assert_memory_equal(pkt + 12, a, 4);
	assert_memory_equal(pkt + 16, &to.sin_addr, 4);
	assert_memory_equal(pkt + 28, "ping", 4);
	assert_int_equal(nl_route_del(f->nl, f->ifindex, AF_INET, net, 24), 0);
	assert_int_equal(nl_addr_del(f->nl, f->ifindex, AF_INET, a, 32), 0);
}

struct grab {
	uint8_t dst[4];
	unsigned plen;
	struct nl_route got;
	int n;
};

static int grab_cb(const struct nl_route *r, void *arg)
{
	struct grab *g = arg;

	if (r->family == AF_INET && r->prefixlen == g->plen && memcmp(r->dst, g->dst, 4) == 0) {
		g->got = *r;
		g->n++;
	}
	return 0;
}

/* Routes with a gateway, a protocol, a metric and a table of their own; the
 * kernel's choice for a destination. */
static void test_route_ex_and_get(void **state)
{
	struct fixture *f = *state;
	struct nl_route r = { .family = AF_INET, .prefixlen = 24, .ifindex = f->ifindex,
			      .table = 1000, .protocol = 83, .priority = 50,
			      .has_gateway = true };
	struct grab g = { .plen = 24 };
	struct nl_route got;
	uint8_t a[4], dst[4];

	inet_pton(AF_INET, "198.18.0.1", a);
	inet_pton(AF_INET, "203.0.113.0", r.dst);
	inet_pton(AF_INET, "198.18.0.254", r.gateway);
	memcpy(g.dst, r.dst, 4);
	assert_int_equal(nl_link_set_up(f->nl, f->ifindex, true), 0);
	assert_int_equal(nl_addr_add(f->nl, f->ifindex, AF_INET, a, 24), 0);
	assert_int_equal(nl_route_add_ex(f->nl, &r), 0);
	assert_int_equal(nl_route_add_ex(f->nl, &r), -EEXIST);
	assert_int_equal(nl_route_dump(f->nl, AF_INET, grab_cb, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.got.table, 1000);
	assert_int_equal(g.got.protocol, 83);
	assert_int_equal(g.got.priority, 50);
	assert_int_equal(g.got.ifindex, f->ifindex);
	assert_true(g.got.has_gateway);
	assert_memory_equal(g.got.gateway, r.gateway, 4);
	/* a table of its own is not the main table's choice */
	inet_pton(AF_INET, "203.0.113.9", dst);
	assert_int_equal(nl_route_get(f->nl, AF_INET, dst, &got), -ENETUNREACH);
	/* deleting matches what is given: another protocol is another route */
	r.protocol = 84;
	assert_int_equal(nl_route_del_ex(f->nl, &r), -ESRCH);
	r.protocol = 83;
	assert_int_equal(nl_route_del_ex(f->nl, &g.got), 0);
	assert_int_equal(nl_route_del_ex(f->nl, &g.got), -ESRCH);

	/* in the main table (defaults: static, unicast) the kernel picks it */
	r.table = 0;
	r.protocol = 0;
	r.priority = 0;
	assert_int_equal(nl_route_add_ex(f->nl, &r), 0);
	assert_int_equal(nl_route_get(f->nl, AF_INET, dst, &got), 0);
	assert_int_equal(got.prefixlen, 24);
	assert_memory_equal(got.dst, r.dst, 4);
	assert_int_equal(got.table, RT_TABLE_MAIN);
	assert_int_equal(got.type, RTN_UNICAST);
	assert_int_equal(got.protocol, RTPROT_STATIC);
	assert_int_equal(got.ifindex, f->ifindex);
	assert_true(got.has_gateway);
	assert_memory_equal(got.gateway, r.gateway, 4);
	assert_int_equal(nl_route_get(f->nl, AF_INET, a, &got), 0); /* our own address */
	assert_int_equal(got.type, RTN_LOCAL);
	assert_int_equal(nl_route_get(f->nl, AF_UNIX, a, &got), -EAFNOSUPPORT);
	assert_int_equal(nl_route_del_ex(f->nl, &r), 0);
	/* a unicast route needs a device or a gateway; the dst rule holds */
	r.has_gateway = false;
	r.ifindex = 0;
	assert_int_equal(nl_route_add_ex(f->nl, &r), -ENODEV);
	r.ifindex = f->ifindex;
	r.dst[3] = 1;
	assert_int_equal(nl_route_add_ex(f->nl, &r), -EINVAL);
	assert_int_equal(nl_addr_del(f->nl, f->ifindex, AF_INET, a, 24), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tun_open_errors),
		cmocka_unit_test(test_link_up_mtu),
		cmocka_unit_test(test_ipv4_addr_route),
		cmocka_unit_test(test_ipv6_addr_route),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_tun_carries_packets),
		cmocka_unit_test(test_route_ex_and_get),
	};

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "test_netlink: unshare(CLONE_NEWNET): %s (run as root)\n",
			strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
