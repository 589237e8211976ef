/* The world of the gateway packet-path tests, in namespaces of the test's own
 * (unshare: they vanish with the process, whatever happens):
 *
 *   C (client)                 G (gateway: nat, ct)                L (LAN)
 *   sl-tnat-c ───── veth ───── sl-tnat-gc   sl-tnat-gl ── veth ── sl-tnat-l
 *   100.64.0.2/11              100.64.0.1/11 203.0.113.1/24        203.0.113.50, .60
 *   fd00:2021:1111::2/107      fd00:2021:1111::1/107               fd00:2021:1111:ff00::50/64
 *                              fd00:2021:1111:ff00::1/64
 *
 * sl-tnat-gc plays the gateway's TUN: the client's kernel stack is a real one
 * (sockets, ICMP errors to applications) and reaches the proxy ranges and the
 * LAN through G. L has no route back to the client ranges: replies get there
 * only because G masquerades. The test process runs in G and enters C or L
 * (setns) to open sockets there; sockets stay in the namespace they were made
 * in. */
#ifndef SLUICE_TEST_GW_NAT_H
#define SLUICE_TEST_GW_NAT_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/prefix.h"

struct gw_world {
	int c, l, g; /* namespace fds */
};

static inline int world_enter(int ns)
{
	return setns(ns, CLONE_NEWNET);
}

/* Runs a shell command inside namespace ns; 0 when it exited 0. */
static inline int __attribute__((format(printf, 3, 4)))
world_sh(const struct gw_world *w, int ns, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (world_enter(ns) < 0)
		return -1;
	r = system(cmd);
	if (world_enter(w->g) < 0)
		return -1;
	return r;
}

static inline int world_ns_fd(void)
{
	return open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
}

/* Three fresh namespaces; the process ends up in G. */
static inline int world_up(struct gw_world *w)
{
	pid_t me = getpid();

	if (unshare(CLONE_NEWNET) < 0 || (w->c = world_ns_fd()) < 0)
		return -1;
	if (unshare(CLONE_NEWNET) < 0 || (w->l = world_ns_fd()) < 0)
		return -1;
	if (unshare(CLONE_NEWNET) < 0 || (w->g = world_ns_fd()) < 0)
		return -1;
	if (world_sh(w, w->g,
		     "ip link set lo up && "
		     "ip link add sl-tnat-gc type veth peer name sl-tnat-c netns /proc/%d/fd/%d && "
		     "ip link add sl-tnat-gl type veth peer name sl-tnat-l netns /proc/%d/fd/%d && "
		     "ip addr add 100.64.0.1/11 dev sl-tnat-gc && "
		     "ip addr add fd00:2021:1111::1/107 dev sl-tnat-gc nodad && "
		     "ip addr add 203.0.113.1/24 dev sl-tnat-gl && "
		     "ip addr add fd00:2021:1111:ff00::1/64 dev sl-tnat-gl nodad && "
		     "ip link set sl-tnat-gc up && ip link set sl-tnat-gl up && "
		     /* As a gateway has: what is not the LAN's is not dropped by routing. */
		     "ip route add default dev sl-tnat-gl && ip -6 route add default dev sl-tnat-gl && "
		     /* The kernel's own ICMP limit (per destination, 1/s after a burst)
		      * off: the table's limit is the one under test. */
		     "sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0",
		     (int)me, w->c, (int)me, w->l))
		return -1;
	if (world_sh(w, w->c,
		     "ip link set lo up && "
		     "ip addr add 100.64.0.2/11 dev sl-tnat-c && "
		     "ip addr add fd00:2021:1111::2/107 dev sl-tnat-c nodad && "
		     "ip link set sl-tnat-c up && "
		     "ip route add 100.96.0.0/11 via 100.64.0.1 && "
		     "ip route add 203.0.113.0/24 via 100.64.0.1 && "
		     "ip route add fd00:2021:1111:8000::/107 via fd00:2021:1111::1 && "
		     "ip route add fd00:2021:1111:ff00::/64 via fd00:2021:1111::1"))
		return -1;
	if (world_sh(w, w->l,
		     "ip link set lo up && "
		     "ip addr add 203.0.113.50/24 dev sl-tnat-l && "
		     "ip addr add 203.0.113.60/24 dev sl-tnat-l && "
		     "ip addr add fd00:2021:1111:ff00::50/64 dev sl-tnat-l nodad && "
		     "ip link set sl-tnat-l up"))
		return -1;
	return 0;
}

static inline void world_down(struct gw_world *w)
{
	close(w->c);
	close(w->l);
	close(w->g);
}

/* Addresses. */

static inline void addr_parse(const char *s, uint8_t *out)
{
	if (inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, out) != 1)
		abort();
}

static inline socklen_t sa_make(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		addr_parse(addr, s6->sin6_addr.s6_addr);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	addr_parse(addr, (uint8_t *)&s4->sin_addr);
	return sizeof(*s4);
}

/* The address of a sockaddr as text. */
static inline const char *sa_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf,
				 (socklen_t)len);
	return inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf,
			 (socklen_t)len);
}

/* Sockets. */

/* A socket made in namespace ns, bound to addr:port when addr is given,
 * connected to to:to_port when to is given; -1 on failure. */
static inline int sock_in(const struct gw_world *w, int ns, int type, const char *addr,
			  uint16_t port, const char *to, uint16_t to_port)
{
	struct sockaddr_storage ss;
	const char *any = addr ? addr : to;
	int fd, one = 1;
	socklen_t len;

	if (world_enter(ns) < 0)
		return -1;
	fd = socket(strchr(any, ':') ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= 0 && addr) {
		len = sa_make(&ss, addr, port);
		if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0 && type == SOCK_STREAM && addr && !to && listen(fd, 8) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && to) {
		len = sa_make(&ss, to, to_port);
		/* Non-blocking for TCP, so the test decides how long it waits. */
		if (type == SOCK_STREAM)
			fcntl(fd, F_SETFL, O_NONBLOCK);
		if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
			close(fd);
			fd = -1;
		}
	}
	if (world_enter(w->g) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Waits up to ms for events on fd: the revents, 0 on timeout. */
static inline short wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/* A datagram (or stream bytes) within ms: its length, -errno on a socket
 * error (an ICMP error for a connected socket), -ETIMEDOUT. */
static inline ssize_t recv_wait(int fd, void *buf, size_t len, struct sockaddr_storage *from,
				int ms)
{
	socklen_t flen = sizeof(*from);
	ssize_t n;

	if (!wait_fd(fd, POLLIN, ms))
		return -ETIMEDOUT;
	n = recvfrom(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)from, from ? &flen : NULL);
	return n < 0 ? -errno : n;
}

/* A TCP connect begun by sock_in(): 0 once established, else -errno (the
 * socket's error, -ETIMEDOUT). */
static inline int connect_wait(int fd, int ms)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (!wait_fd(fd, POLLOUT, ms))
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
