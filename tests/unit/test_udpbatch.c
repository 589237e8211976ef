/* net/udpbatch: datagrams queued and sent together, against the kernel, in a
 * network namespace of the test's own (lo, and a TUN device).
 *
 * That GSO was used is seen from the receiving end: a socket with UDP_GRO on
 * takes a GSO send whole, with the segment size in a UDP_GRO control message;
 * a socket without it gets the datagrams one by one. Through the TUN device,
 * whose MTU (576) is below a GSO segment of 1000 bytes, the kernel refuses GSO
 * (EMSGSIZE or EINVAL) but fragments each datagram that goes alone: the
 * datagrams must still arrive, and GSO go off. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/netlink.h"
#include "net/tun.h"
#include "net/udpbatch.h"

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

struct env {
	int tx;            /* the sender, unbound */
	int rx_gro, rx;    /* receivers on 127.0.0.1, with and without UDP_GRO */
	struct sockaddr_in a_gro, a;
	int tun;           /* slub0: 198.51.100.1/24, MTU 576 */
};

static int udp_rx(bool gro, struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;
	socklen_t len = sizeof(*addr);

	*addr = (struct sockaddr_in){ .sin_family = AF_INET,
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0)
		return -1;
	if (gro && setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) < 0)
		return -1;
	return fd;
}

/* One read, waiting up to a second: the byte count (0 when nothing came) and
 * the GRO segment size (0: a plain datagram). */
static ssize_t rd(int fd, uint8_t *buf, size_t cap, int *gso)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { buf, cap };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
			    .msg_controllen = sizeof(c.b) };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	*gso = 0;
	if (poll(&p, 1, 1000) != 1)
		return 0;
	n = recvmsg(fd, &m, MSG_DONTWAIT);
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == IPPROTO_UDP && h->cmsg_type == UDP_GRO)
			memcpy(gso, CMSG_DATA(h), sizeof(*gso));
	return n;
}

static void fill(uint8_t *b, size_t len, unsigned tag)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(tag * 31 + i);
}

static bool is_fill(const uint8_t *b, size_t len, unsigned tag)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != (uint8_t)(tag * 31 + i))
			return false;
	return true;
}

static void add(struct udpbatch *b, int fd, size_t len, unsigned tag, const struct sockaddr_in *to)
{
	uint8_t msg[2000];

	fill(msg, len, tag);
	assert_int_equal(udpbatch_add(b, fd, msg, len, (const struct sockaddr *)to,
				      to ? sizeof(*to) : 0), 0);
}

/* Five same-size datagrams to the GRO socket leave as one GSO send, joined
 * across a datagram of another size and one to another receiver; the odd size
 * and what is too long for GSO come alone. */
static void test_join(void **state)
{
	struct env *e = *state;
	struct udpbatch *b = udpbatch_new(16, 1500);
	uint8_t buf[8000];
	int gso, err = 0;
	ssize_t n;

	assert_non_null(b);
	add(b, e->tx, 100, 1, &e->a_gro);
	add(b, e->tx, 100, 2, &e->a_gro);
	add(b, e->tx, 60, 3, &e->a_gro);
	add(b, e->tx, 100, 4, &e->a);
	add(b, e->tx, 100, 5, &e->a_gro);
	add(b, e->tx, 1400, 6, &e->a);     /* > UDPBATCH_GSO_LEN_MAX: alone */
	add(b, e->tx, 100, 7, &e->a_gro);
	add(b, e->tx, 1400, 8, &e->a);
	add(b, e->tx, 100, 9, &e->a_gro);
	assert_int_equal(udpbatch_count(b), 9);
	assert_int_equal(udpbatch_flush(b, &err), 0);
	assert_int_equal(udpbatch_count(b), 0);
	assert_true(udpbatch_gso(b));

	/* The GRO receiver: one 500-byte read of 100-byte segments 1 2 5 7 9, then 3. */
	n = rd(e->rx_gro, buf, sizeof(buf), &gso);
	assert_int_equal(n, 500);
	assert_int_equal(gso, 100);
	for (unsigned i = 0, tags[] = { 1, 2, 5, 7, 9 }; i < 5; i++)
		assert_true(is_fill(buf + 100 * i, 100, tags[i]));
	n = rd(e->rx_gro, buf, sizeof(buf), &gso);
	assert_int_equal(n, 60);
	assert_true(is_fill(buf, 60, 3));
	assert_int_equal(rd(e->rx_gro, buf, sizeof(buf), &gso), 0);

	/* The plain receiver: 4, then 6 and 8, each whole. */
	n = rd(e->rx, buf, sizeof(buf), &gso);
	assert_int_equal(n, 100);
	assert_int_equal(gso, 0);
	assert_true(is_fill(buf, 100, 4));
	for (unsigned tag = 6; tag <= 8; tag += 2) {
		n = rd(e->rx, buf, sizeof(buf), &gso);
		assert_int_equal(n, 1400);
		assert_true(is_fill(buf, 1400, tag));
	}
	assert_int_equal(rd(e->rx, buf, sizeof(buf), &gso), 0);
	udpbatch_free(b);
}

/* A receiver without UDP_GRO gets a GSO send as separate datagrams, in order. */
static void test_split_for_plain(void **state)
{
	struct env *e = *state;
	struct udpbatch *b = udpbatch_new(8, 512);
	uint8_t buf[4096];
	int gso, err = 0;

	for (unsigned t = 0; t < 8; t++)
		add(b, e->tx, 200, t, &e->a);
	assert_int_equal(udpbatch_flush(b, &err), 0);
	for (unsigned t = 0; t < 8; t++) {
		assert_int_equal(rd(e->rx, buf, sizeof(buf), &gso), 200);
		assert_int_equal(gso, 0);
		assert_true(is_fill(buf, 200, t));
	}
	assert_int_equal(rd(e->rx, buf, sizeof(buf), &gso), 0);
	udpbatch_free(b);
}

/* At most UDPBATCH_GSO_SEGS_MAX segments a send; GSO off sends one by one;
 * a connected socket (no address) joins too. */
static void test_limits_and_off(void **state)
{
	struct env *e = *state;
	unsigned total = UDPBATCH_GSO_SEGS_MAX + 6;
	struct udpbatch *b = udpbatch_new(total, 64);
	int c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), gso, err = 0;
	uint8_t buf[65536];

	assert_non_null(b);
	for (unsigned t = 0; t < total; t++)
		add(b, e->tx, 10, t, &e->a_gro);
	assert_int_equal(udpbatch_add(b, e->tx, buf, 10, NULL, 0), -ENOBUFS);
	assert_int_equal(udpbatch_flush(b, &err), 0);
	assert_int_equal(rd(e->rx_gro, buf, sizeof(buf), &gso), 10 * UDPBATCH_GSO_SEGS_MAX);
	assert_int_equal(gso, 10);
	assert_int_equal(rd(e->rx_gro, buf, sizeof(buf), &gso), 60);
	assert_true(is_fill(buf, 10, UDPBATCH_GSO_SEGS_MAX));

	udpbatch_set_gso(b, false);
	for (unsigned t = 0; t < 3; t++)
		add(b, e->tx, 10, t, &e->a_gro);
	assert_int_equal(udpbatch_flush(b, &err), 0);
	for (unsigned t = 0; t < 3; t++) {
		assert_int_equal(rd(e->rx_gro, buf, sizeof(buf), &gso), 10);
		assert_int_equal(gso, 0);
	}
	udpbatch_set_gso(b, true);

	assert_int_equal(connect(c, (struct sockaddr *)&e->a_gro, sizeof(e->a_gro)), 0);
	for (unsigned t = 0; t < 4; t++)
		add(b, c, 30, t, NULL);
	assert_int_equal(udpbatch_flush(b, &err), 0);
	assert_int_equal(rd(e->rx_gro, buf, sizeof(buf), &gso), 120);
	assert_int_equal(gso, 30);
	close(c);

	assert_int_equal(udpbatch_add(b, e->tx, buf, 65, NULL, 0), -EMSGSIZE);
	assert_int_equal(udpbatch_count(b), 0);
	udpbatch_free(b);
	assert_null(udpbatch_new(0, 10));
}

/* Datagrams the kernel cannot send at all are counted lost, with the errno;
 * that is not the kernel refusing GSO, so GSO stays on. */
static void test_lost(void **state)
{
	struct env *e = *state;
	struct udpbatch *b = udpbatch_new(8, 64);
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	uint8_t msg[20] = { 0 }, buf[512];
	int err = 0, gso;

	for (int i = 0; i < 3; i++)
		assert_int_equal(udpbatch_add(b, e->tx, msg, sizeof(msg),
					      (struct sockaddr *)&v6, sizeof(v6)), 0);
	add(b, e->tx, 20, 1, &e->a);
	assert_int_equal(udpbatch_flush(b, &err), 3);
	assert_true(err == EAFNOSUPPORT || err == EINVAL);
	assert_true(udpbatch_gso(b));
	assert_int_equal(rd(e->rx, buf, sizeof(buf), &gso), 20);
	assert_true(is_fill(buf, 20, 1));
	udpbatch_free(b);
}

/* Through a path whose MTU is below the segment size the kernel refuses a GSO
 * send (EMSGSIZE): the batch sends the datagrams one by one, which the kernel
 * fragments, and turns GSO off. */
static void test_refused(void **state)
{
	struct env *e = *state;
	struct udpbatch *b = udpbatch_new(8, 1000);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5353) };
	uint8_t pkt[2048];
	int err = 0;

	inet_pton(AF_INET, "198.51.100.2", &to.sin_addr);
	for (unsigned t = 0; t < 3; t++)
		add(b, e->tx, 1000, t, &to);
	assert_int_equal(udpbatch_flush(b, &err), 0);
	assert_false(udpbatch_gso(b));
	for (unsigned t = 0; t < 3; t++) {
		size_t got = 0;

		/* Two fragments: the first holds the UDP header and the start. */
		for (int f = 0; f < 2; f++) {
			struct pollfd p = { .fd = e->tun, .events = POLLIN };
			ssize_t n;

			assert_int_equal(poll(&p, 1, 1000), 1);
			n = read(e->tun, pkt, sizeof(pkt));
			assert_true(n > 20 && n <= 576);
			if (f == 0)
				assert_true(is_fill(pkt + 28, (size_t)n - 28, t));
			got += (size_t)n - 20;
		}
		assert_int_equal(got, 8 + 1000);
	}
	udpbatch_free(b);
}

/* Messages built by the caller (as wg/tx.c builds them) take the same road:
 * a GSO run of two joined to the plain receiver arrives as datagrams, and a
 * GSO run through the small-MTU TUN is refused, sent one by one (fragmented),
 * and turns the caller's GSO flag off. */
static void test_sendmmsg(void **state)
{
	struct env *e = *state;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5353) };
	uint8_t d[4][1000], pkt[2048], buf[4096];
	struct iovec iov[4];
	union udpbatch_cmsg cm[2];
	struct mmsghdr mm[2];
	bool gso = true;
	int err = 0, g;

	for (unsigned t = 0; t < 4; t++) {
		fill(d[t], sizeof(d[t]), t);
		iov[t] = (struct iovec){ d[t], t < 2 ? 200 : sizeof(d[t]) };
	}
	mm[0] = (struct mmsghdr){ .msg_hdr = { .msg_name = &e->a, .msg_namelen = sizeof(e->a),
					       .msg_iov = &iov[0], .msg_iovlen = 2 } };
	udpbatch_cmsg_segment(&mm[0].msg_hdr, &cm[0], 200);
	assert_int_equal(udpbatch_sendmmsg(e->tx, mm, 1, &gso, &err), 0);
	assert_true(gso);
	for (unsigned t = 0; t < 2; t++) {
		assert_int_equal(rd(e->rx, buf, sizeof(buf), &g), 200);
		assert_true(is_fill(buf, 200, t));
	}

	inet_pton(AF_INET, "198.51.100.2", &to.sin_addr);
	mm[1] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to),
					       .msg_iov = &iov[2], .msg_iovlen = 2 } };
	udpbatch_cmsg_segment(&mm[1].msg_hdr, &cm[1], 1000);
	assert_int_equal(udpbatch_sendmmsg(e->tx, &mm[1], 1, &gso, &err), 0);
	assert_false(gso);
	for (unsigned t = 2; t < 4; t++) {
		size_t got = 0;

		for (int f = 0; f < 2; f++) {
			struct pollfd p = { .fd = e->tun, .events = POLLIN };
			ssize_t n;

			assert_int_equal(poll(&p, 1, 1000), 1);
			n = read(e->tun, pkt, sizeof(pkt));
			assert_true(n > 20 && n <= 576);
			if (f == 0)
				assert_true(is_fill(pkt + 28, (size_t)n - 28, t));
			got += (size_t)n - 20;
		}
		assert_int_equal(got, 8 + 1000);
	}
}

static int setup(void **state)
{
	static struct env e;
	struct nl *nl;
	char name[IFNAMSIZ];
	uint8_t a[4];
	int lo, ifx;

	if (nl_open(&nl) < 0)
		return -1;
	lo = nl_link_index("lo");
	e.tun = tun_open("slub0", TUN_NONBLOCK, name);
	ifx = nl_link_index("slub0");
	inet_pton(AF_INET, "198.51.100.1", a);
	if (lo < 0 || e.tun < 0 || ifx < 0 || nl_link_set_up(nl, lo, true) < 0 ||
	    nl_link_set_mtu(nl, ifx, 576) < 0 || nl_link_set_up(nl, ifx, true) < 0 ||
	    nl_addr_add(nl, ifx, AF_INET, a, 24) < 0) {
		nl_close(nl);
		return -1;
	}
	nl_close(nl);
	e.tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	e.rx_gro = udp_rx(true, &e.a_gro);
	e.rx = udp_rx(false, &e.a);
	*state = &e;
	return e.tx < 0 || e.rx_gro < 0 || e.rx < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	close(e->tx);
	close(e->rx_gro);
	close(e->rx);
	close(e->tun);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_split_for_plain),
		cmocka_unit_test(test_limits_and_off),
		cmocka_unit_test(test_lost),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_sendmmsg),
	};

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "test_udpbatch: unshare(CLONE_NEWNET): %s (run as root)\n",
			strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests_name("udpbatch", tests, setup, teardown);
}
