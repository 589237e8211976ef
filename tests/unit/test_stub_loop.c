/* dns/stub driven by an outside loop (stub_fd, stub_dispatch), as the gateway
 * daemon drives it: real sockets on loopback. A UDP query for Firefox's canary
 * is answered by the stub itself; a TCP query forwarded to an upstream that
 * takes the connection and never answers gets SERVFAIL when the forwarding
 * timeout, a timer inside the stub's descriptor, fires; stub_stop() ends the
 * owner's loop through stub_dispatch(). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns/stub.h"
#include "lib/time.h"

enum { TIMEOUT_MS = 300 };

/* A loopback socket of type, bound to port 0: its address in *a. */
static int bound(int type, struct sockaddr_in *a)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*a);

	*a = (struct sockaddr_in){ .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)a, sizeof(*a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)a, &len), 0);
	return fd;
}

/* A query for name (dotted, no trailing dot), type A, RD set. */
static size_t query(uint8_t *q, uint16_t id, const char *name)
{
	size_t n = 12;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01; /* RD */
	q[5] = 1;    /* QDCOUNT */
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);

		q[n++] = (uint8_t)len;
		memcpy(q + n, name, len);
		n += len;
		name += len + (dot ? 1 : 0);
	}
	q[n++] = 0;
	q[n++] = 0, q[n++] = 1; /* A */
	q[n++] = 0, q[n++] = 1; /* IN */
	return n;
}

/* The owner's loop: its epoll set holds the stub's descriptor and the test's
 * client socket; turns until the client socket is readable or the deadline. */
static void turn_until_readable(int ep, struct stub *s, int client, unsigned ms)
{
	uint64_t end = time_mono_ns() + (uint64_t)ms * NSEC_PER_MSEC;

	for (;;) {
		struct epoll_event ev[4];
		int n = epoll_wait(ep, ev, 4, 50);

		assert_true(n >= 0);
		for (int i = 0; i < n; i++)
			if (ev[i].data.fd == client)
				return;
		assert_int_equal(stub_dispatch(s), 0);
		if (time_mono_ns() > end)
			fail_msg("no answer within %u ms", ms);
	}
}

static void watch(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
}

static void test_outside_loop(void **state)
{
	struct sockaddr_storage sentinel = { 0 }, upstream = { 0 };
	struct sockaddr_in sen_a, up_a, tmp;
	struct stub_config cfg = { .sentinels = &sentinel, .upstreams = &upstream, .n = 1,
				   .timeout_ms = TIMEOUT_MS };
	struct stub_stats st;
	struct stub *s;
	uint8_t q[512], a[512];
	int ep, udp, tcp, up_udp, up_tcp, probe;
	uint64_t t0;
	ssize_t n;
	size_t len;

	(void)state;
	/* the upstream: a UDP socket and a TCP listener that never answer */
	up_tcp = bound(SOCK_STREAM, &up_a);
	assert_int_equal(listen(up_tcp, 4), 0);
	up_udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(up_udp, (struct sockaddr *)&up_a, sizeof(up_a)), 0);
	memcpy(&upstream, &up_a, sizeof(up_a));
	/* the sentinel's port: one free for UDP now; its TCP twin may be some other
	 * test's ephemeral port meanwhile (ctest -j), so a few tries */
	for (int tries = 0;; tries++) {
		int r;

		probe = bound(SOCK_DGRAM, &sen_a);
		close(probe);
		memcpy(&sentinel, &sen_a, sizeof(sen_a));
		r = stub_new(&cfg, &s);
		if (r == 0)
			break;
		assert_int_equal(r, -EADDRINUSE);
		assert_true(tries < 20);
	}

	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	watch(ep, stub_fd(s));

	/* UDP: the canary, answered NXDOMAIN by the stub */
	udp = bound(SOCK_DGRAM, &tmp);
	watch(ep, udp);
	len = query(q, 0x1234, "use-application-dns.net");
	assert_int_equal(sendto(udp, q, len, 0, (struct sockaddr *)&sen_a, sizeof(sen_a)),
			 (ssize_t)len);
	turn_until_readable(ep, s, udp, 5000);
	n = recv(udp, a, sizeof(a), 0);
	assert_true(n >= 12);
	assert_int_equal(a[0], 0x12);
	assert_int_equal(a[1], 0x34);
	assert_true(a[2] & 0x80);          /* QR */
	assert_int_equal(a[3] & 0x0f, 3);  /* NXDOMAIN */

	/* TCP: forwarded, unanswered, SERVFAIL once the timer says so */
	tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(tcp, (struct sockaddr *)&sen_a, sizeof(sen_a)), 0);
	watch(ep, tcp);
	len = query(q + 2, 0x5678, "example.com");
	q[0] = (uint8_t)(len >> 8);
	q[1] = (uint8_t)len;
	t0 = time_mono_ns();
	assert_int_equal(send(tcp, q, len + 2, 0), (ssize_t)(len + 2));
	turn_until_readable(ep, s, tcp, 5000);
	n = recv(tcp, a, sizeof(a), 0);
	assert_true(n >= 14);
	assert_int_equal(a[2], 0x56);
	assert_int_equal(a[3], 0x78);
	assert_int_equal(a[5] & 0x0f, 2);  /* SERVFAIL */
	assert_true(time_mono_ns() - t0 >= TIMEOUT_MS * NSEC_PER_MSEC);

	stub_get_stats(s, &st);
	assert_int_equal(st.queries_udp, 1);
	assert_int_equal(st.queries_tcp, 1);
	assert_int_equal(st.answered_local, 1);
	assert_int_equal(st.forwarded, 1);
	assert_int_equal(st.timeouts, 1);

	/* a stop reaches the owner's loop: readable, then 1, and 1 again */
	stub_stop(s);
	turn_until_readable(ep, s, stub_fd(s), 1000);
	assert_int_equal(stub_dispatch(s), 1);
	assert_int_equal(stub_dispatch(s), 1);

	close(tcp);
	close(udp);
	close(ep);
	stub_free(s);
	close(up_udp);
	close(up_tcp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outside_loop),
	};

	return cmocka_run_group_tests_name("stub_loop", tests, NULL, NULL);
}
