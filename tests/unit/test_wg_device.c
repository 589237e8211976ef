/* wg/device embedded in an owner's loop: two devices, configured in process
 * with wg_device_set() only (no UAPI socket), both driven from this test's
 * one epoll through wg_device_fd()/wg_device_dispatch().
 *
 * In a network namespace of the test's own (ns1), A and B talk UDP over lo.
 * B's TUN is then moved into a second namespace (ns2), so that a packet sent
 * in ns1 to B's tunnel address leaves through A's TUN, crosses the tunnel,
 * and is delivered by ns2's kernel to a socket there, and back:
 *
 *   ns1: sl-twg-a 100.64.0.1/24 [A] ══ UDP 127.0.0.1 ══ [B] sl-twg-b 100.64.0.2/24 :ns2
 *
 * A third device, read-only UAPI, answers a get and refuses a set on its
 * socket.
 *
 * The owner's packets: one handed to wg_device_send() crosses the tunnel (first
 * staged while the handshake runs, then straight); a TCP SYN to an address no
 * peer covers, taken from on_no_peer and refused with net/icmp's error through
 * wg_device_tun_write(), makes connect() fail with EHOSTUNREACH at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/rand.h"
#include "net/csum.h"
#include "net/icmp.h"
#include "net/netlink.h"
#include "wg/crypto.h"
#include "wg/device.h"
#include "wg/uapi.h"

enum { DIVISOR = 50, PORT1 = 7001, PORT2 = 7002, RO_PORT = 51999 };

struct side {
	struct wg_device *dev;
	const char *name;
	uint8_t priv[32], pub[32];
	int owner_tag;                 /* what the owner pointer points at */
	/* events seen, per type, and the owner pointer of the last one */
	unsigned n_ev[4];
	void *ev_owner[4];
	uint8_t ev_key[4][32];
	bool remove_on_unresponsive;   /* the callback removes the peer itself */
	int remove_result;
	struct side *peer;
	/* the no-peer hook (TX thread) */
	pthread_mutex_t mu;
	unsigned n_no_peer;
	uint8_t no_peer_dst[4];
	uint8_t no_peer_pkt[2048]; /* the last one, whole */
	size_t no_peer_len;
};

struct env {
	int ns1, ns2;
	int ep;
	struct side a, b;
	struct wg_device *ro;
	int s1, s2; /* UDP sockets in ns1 and ns2 */
};

static struct env E;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_event(void *arg, const struct wg_event *ev)
{
	struct side *s = arg;

	assert_true(ev->type >= WG_EVENT_HANDSHAKE && ev->type <= WG_EVENT_REMOVED);
	s->n_ev[ev->type]++;
	s->ev_owner[ev->type] = ev->owner;
	memcpy(s->ev_key[ev->type], ev->public_key, 32);
	if (ev->type == WG_EVENT_UNRESPONSIVE && s->remove_on_unresponsive) {
		/* From inside the callback: no device lock is held. */
		struct uapi_set_peer sp = { .flags = UAPI_PEER_REMOVE };
		struct uapi_set set = { .peers = &sp, .n_peers = 1 };

		memcpy(sp.public_key, ev->public_key, 32);
		s->remove_result = wg_device_set(s->dev, &set);
	}
}

static void on_no_peer(void *arg, const uint8_t *pkt, size_t len)
{
	struct side *s = arg;

	pthread_mutex_lock(&s->mu);
	s->n_no_peer++;
	if (len >= 20 && pkt[0] >> 4 == 4)
		memcpy(s->no_peer_dst, pkt + 16, 4);
	s->no_peer_len = len < sizeof(s->no_peer_pkt) ? len : sizeof(s->no_peer_pkt);
	memcpy(s->no_peer_pkt, pkt, s->no_peer_len);
	pthread_mutex_unlock(&s->mu);
}

/* Runs the devices until cond holds, or fails after ms. */
static bool pump(bool (*cond)(void), unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (!cond()) {
		struct epoll_event ev[4];
		int n;

		if (now_ms() > end)
			return false;
		n = epoll_wait(E.ep, ev, 4, 20);
		for (int i = 0; i < n; i++)
			assert_int_equal(wg_device_dispatch(ev[i].data.ptr), 0);
	}
	return true;
}

static void watch(struct wg_device *d)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = d };

	assert_int_equal(epoll_ctl(E.ep, EPOLL_CTL_ADD, wg_device_fd(d), &e), 0);
}

/* RTM_NEWLINK with IFLA_NET_NS_FD: the link moves, the TUN fd keeps working. */
static int link_to_ns(int ifindex, int nsfd)
{
	char buf[8192];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	int r = -1;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0 &&
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n > 0)
			r = mnl_cb_run(buf, (size_t)n, 1, mnl_socket_get_portid(nl), NULL, NULL);
	}
	if (nl)
		mnl_socket_close(nl);
	return r < 0 ? -1 : 0;
}

/* Link up, an address /24, in the current namespace. */
static int iface_up(const char *name, const char *addr)
{
	struct nl *nl;
	uint8_t a[4];
	int ifx = nl_link_index(name), r;

	inet_pton(AF_INET, addr, a);
	if (ifx < 0 || nl_open(&nl) < 0)
		return -1;
	r = nl_link_set_up(nl, ifx, true);
	if (r == 0)
		r = nl_addr_add(nl, ifx, AF_INET, a, 24);
	nl_close(nl);
	return r;
}

/* The namespace's lo up, and no IPv6: the kernel's own IPv6 chatter (router
 * solicitations, MLD) on a new link would reach the devices as no-peer packets. */
static int lo_up(void)
{
	static const char *const knobs[] = { "/proc/sys/net/ipv6/conf/all/disable_ipv6",
					     "/proc/sys/net/ipv6/conf/default/disable_ipv6" };
	struct nl *nl;
	int r;

	for (size_t i = 0; i < 2; i++) {
		int fd = open(knobs[i], O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			r = write(fd, "1", 1) == 1 ? 0 : -1;
			close(fd);
			if (r < 0)
				return -1;
		}
	}

	if (nl_open(&nl) < 0)
		return -1;
	r = nl_link_set_up(nl, nl_link_index("lo"), true);
	nl_close(nl);
	return r;
}

static int udp_bound(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return fd;
}

static void send_to(int fd, const char *ip, uint16_t port, const char *msg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	assert_int_equal(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof(a)),
			 (ssize_t)strlen(msg));
}

/* The peer section the daemon composes: key, endpoint, allowed IPs replaced. */
static int configure(struct side *s, const struct side *peer, uint16_t peer_port,
		     const char *aip)
{
	struct uapi_allowed_ip ip = { .family = AF_INET, .cidr = 32 };
	struct uapi_set_peer sp = {
		.flags = UAPI_PEER_ENDPOINT | UAPI_PEER_REPLACE_ALLOWED_IPS |
			 UAPI_PEER_PRESHARED_KEY,
		.allowed_ips = &ip,
		.n_allowed_ips = 1,
	};
	struct uapi_set set = { .flags = UAPI_SET_PRIVATE_KEY, .peers = &sp, .n_peers = 1 };

	inet_pton(AF_INET, aip, &ip.ip4);
	memcpy(set.private_key, s->priv, 32);
	memcpy(sp.public_key, peer->pub, 32);
	memset(sp.preshared_key, 0x5a, 32);
	sp.endpoint.in4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(peer_port),
						.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return wg_device_set(s->dev, &set);
}

static int side_new(struct side *s, const char *name, bool hook)
{
	struct wg_device_opts o = {
		.ifname = name,
		.time_divisor = DIVISOR,
		.uapi = WG_UAPI_OFF,
		.on_event = on_event,
		.on_no_peer = hook ? on_no_peer : NULL,
		.arg = s,
	};

	s->name = name;
	pthread_mutex_init(&s->mu, NULL);
	if (rand_bytes(s->priv, 32) < 0)
		return -1;
	wg_key_clamp(s->priv);
	if (wg_key_public(s->pub, s->priv) < 0)
		return -1;
	return wg_device_new(&o, &s->dev);
}

static int setup(void **state)
{
	struct wg_device_opts ro = { .ifname = "sl-twg-ro", .uapi = WG_UAPI_RO,
				     .listen_port = RO_PORT };
	uint8_t pub[32];
	char path[128];
	int r;

	(void)state;
	E.ep = epoll_create1(EPOLL_CLOEXEC);
	if (E.ep < 0 || lo_up() < 0)
		return -1;
	E.ns1 = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	E.ns2 = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	E.s2 = udp_bound(PORT2);
	if (E.ns1 < 0 || E.ns2 < 0 || E.s2 < 0 || lo_up() < 0 || setns(E.ns1, CLONE_NEWNET) < 0)
		return -1;
	E.s1 = udp_bound(PORT1);
	if (E.s1 < 0 || side_new(&E.a, "sl-twg-a", true) < 0 ||
	    side_new(&E.b, "sl-twg-b", false) < 0 || wg_device_new(&ro, &E.ro) < 0)
		return -1;
	E.a.peer = &E.b;
	E.b.peer = &E.a;
	/* No socket without UAPI; a device without a key has no public key. */
	snprintf(path, sizeof(path), "/var/run/wireguard/%s.sock", E.a.name);
	if (access(path, F_OK) == 0 || wg_device_public_key(E.a.dev, pub) != -ENOKEY)
		return -1;
	if (configure(&E.a, &E.b, wg_device_port(E.b.dev), "100.64.0.2") < 0 ||
	    configure(&E.b, &E.a, wg_device_port(E.a.dev), "100.64.0.1") < 0 ||
	    wg_device_peer_set_owner(E.a.dev, E.b.pub, &E.a.owner_tag) < 0 ||
	    wg_device_peer_set_owner(E.b.dev, E.a.pub, &E.b.owner_tag) < 0)
		return -1;
	if (iface_up("sl-twg-a", "100.64.0.1") < 0 ||
	    link_to_ns(nl_link_index("sl-twg-b"), E.ns2) < 0 || setns(E.ns2, CLONE_NEWNET) < 0)
		return -1;
	r = iface_up("sl-twg-b", "100.64.0.2");
	if (setns(E.ns1, CLONE_NEWNET) < 0 || r < 0)
		return -1;
	watch(E.a.dev);
	watch(E.b.dev);
	watch(E.ro);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	wg_device_free(E.a.dev);
	wg_device_free(E.b.dev);
	wg_device_free(E.ro);
	close(E.s1);
	close(E.s2);
	close(E.ep);
	close(E.ns1);
	close(E.ns2);
	return 0;
}

static char got[256];

static bool got_on(int fd, const char *want)
{
	ssize_t n = recv(fd, got, sizeof(got) - 1, 0);

	if (n <= 0)
		return false;
	got[n] = 0;
	return strcmp(got, want) == 0;
}

static bool ping_arrived(void)
{
	return got_on(E.s2, "ping");
}

static bool pong_arrived(void)
{
	return got_on(E.s1, "pong");
}

static bool both_handshakes(void)
{
	return E.a.n_ev[WG_EVENT_HANDSHAKE] && E.b.n_ev[WG_EVENT_HANDSHAKE];
}

/* A packet each way through the tunnel; a handshake event on each side, with
 * that side's owner pointer and the other's key; the counters moved. */
static void test_tunnel(void **state)
{
	struct wg_peer_info info;
	const struct sockaddr_in *ep = (const struct sockaddr_in *)&info.endpoint;
	uint8_t pub[32];

	(void)state;
	assert_int_equal(wg_device_public_key(E.a.dev, pub), 0);
	assert_memory_equal(pub, E.a.pub, 32);
	send_to(E.s1, "100.64.0.2", PORT2, "ping");
	assert_true(pump(ping_arrived, 5000));
	send_to(E.s2, "100.64.0.1", PORT1, "pong");
	assert_true(pump(pong_arrived, 5000));
	assert_true(pump(both_handshakes, 5000));
	assert_ptr_equal(E.a.ev_owner[WG_EVENT_HANDSHAKE], &E.a.owner_tag);
	assert_memory_equal(E.a.ev_key[WG_EVENT_HANDSHAKE], E.b.pub, 32);
	assert_ptr_equal(E.b.ev_owner[WG_EVENT_HANDSHAKE], &E.b.owner_tag);
	assert_memory_equal(E.b.ev_key[WG_EVENT_HANDSHAKE], E.a.pub, 32);

	assert_int_equal(wg_device_peer_get(E.a.dev, E.b.pub, &info), 0);
	assert_ptr_equal(info.owner, &E.a.owner_tag);
	assert_true(info.tx_bytes >= 148 + 32 + 4); /* initiation, a data message */
	assert_true(info.rx_bytes >= 92 + 32 + 4);  /* response, a data message */
	assert_true(info.last_handshake_ns > 0);
	assert_int_equal(info.endpoint.ss_family, AF_INET);
	assert_int_equal(ntohs(ep->sin_port), wg_device_port(E.b.dev));
	assert_int_equal(wg_device_peer_get(E.a.dev, E.a.pub, &info), -ENOENT);
	assert_int_equal(wg_device_peer_set_owner(E.a.dev, E.a.pub, NULL), -ENOENT);
}

static bool a_hook_saw(void)
{
	bool r;

	pthread_mutex_lock(&E.a.mu);
	r = E.a.n_no_peer > 0;
	pthread_mutex_unlock(&E.a.mu);
	return r;
}

static bool b_dropped(void)
{
	return wg_device_no_peer_drops(E.b.dev) > 0;
}

/* To an address no peer owns: A's hook gets the packet; B, without a hook,
 * counts a drop. */
static void test_no_peer(void **state)
{
	const uint8_t want[4] = { 100, 64, 0, 9 };

	(void)state;
	assert_int_equal(wg_device_no_peer_drops(E.a.dev), 0);
	send_to(E.s1, "100.64.0.9", 9, "nobody");
	assert_true(pump(a_hook_saw, 5000));
	pthread_mutex_lock(&E.a.mu);
	assert_memory_equal(E.a.no_peer_dst, want, 4);
	pthread_mutex_unlock(&E.a.mu);
	assert_int_equal(wg_device_no_peer_drops(E.a.dev), 0);

	assert_int_equal(wg_device_no_peer_drops(E.b.dev), 0);
	send_to(E.s2, "100.64.0.7", 9, "nobody");
	assert_true(pump(b_dropped, 5000));
}

/* An IPv4 UDP packet src:PORT1 -> dst:PORT2 carrying msg (no UDP checksum). */
static size_t udp4(uint8_t *b, const char *src, const char *dst, const char *msg)
{
	size_t n = strlen(msg), len = 28 + n;
	uint16_t c;

	memset(b, 0, 28);
	b[0] = 0x45;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[8] = 64;
	b[9] = IPPROTO_UDP;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	c = csum_ipv4_header(b, 20);
	b[10] = (uint8_t)(c >> 8);
	b[11] = (uint8_t)c;
	b[20] = PORT1 >> 8;
	b[21] = PORT1 & 0xff;
	b[22] = PORT2 >> 8;
	b[23] = PORT2 & 0xff;
	b[24] = (uint8_t)((8 + n) >> 8);
	b[25] = (uint8_t)(8 + n);
	memcpy(b + 28, msg, n);
	return len;
}

static bool injected_arrived(void)
{
	return got_on(E.s2, "injected");
}

static bool again_arrived(void)
{
	return got_on(E.s2, "again");
}

/* Before any session: staged, a handshake started, then delivered. Then again
 * with the session up. Refusals: no peer (and the hook is not called), not IP,
 * over the MTU. */
static void test_send(void **state)
{
	uint8_t pkt[2048];
	struct wg_peer_info info;
	size_t len;
	unsigned hooked;

	(void)state;
	assert_int_equal(wg_device_peer_get(E.a.dev, E.b.pub, &info), 0);
	assert_int_equal(info.last_handshake_ns, 0);
	len = udp4(pkt, "100.64.0.1", "100.64.0.2", "injected");
	assert_int_equal(wg_device_send(E.a.dev, pkt, len), 0);
	assert_true(pump(injected_arrived, 5000));
	assert_int_equal(wg_device_peer_get(E.a.dev, E.b.pub, &info), 0);
	assert_true(info.last_handshake_ns > 0);
	len = udp4(pkt, "100.64.0.1", "100.64.0.2", "again");
	assert_int_equal(wg_device_send(E.a.dev, pkt, len), 0);
	assert_true(pump(again_arrived, 5000));

	pthread_mutex_lock(&E.a.mu);
	hooked = E.a.n_no_peer;
	pthread_mutex_unlock(&E.a.mu);
	len = udp4(pkt, "100.64.0.1", "100.64.0.9", "nobody");
	assert_int_equal(wg_device_send(E.a.dev, pkt, len), -EHOSTUNREACH);
	pthread_mutex_lock(&E.a.mu);
	assert_int_equal(E.a.n_no_peer, hooked);
	pthread_mutex_unlock(&E.a.mu);
	assert_int_equal(wg_device_send(E.a.dev, pkt, 19), -EINVAL);
	pkt[0] = 0x55;
	assert_int_equal(wg_device_send(E.a.dev, pkt, len), -EINVAL);
	assert_int_equal(wg_device_send(E.a.dev, pkt, 0), -EINVAL);
	memset(pkt + 28, 'x', 1500);
	len = udp4(pkt, "100.64.0.1", "100.64.0.2", "");
	assert_int_equal(wg_device_send(E.a.dev, pkt, 1421), -EMSGSIZE);
	assert_int_equal(wg_device_tun_write(E.a.dev, pkt, 0), -EINVAL);
}

static bool a_hook_saw_syn(void)
{
	const uint8_t dst[4] = { 100, 64, 0, 9 };
	bool r;

	pthread_mutex_lock(&E.a.mu);
	r = E.a.no_peer_len >= 40 && E.a.no_peer_pkt[9] == IPPROTO_TCP &&
	    memcmp(E.a.no_peer_pkt + 16, dst, 4) == 0 && (E.a.no_peer_pkt[33] & 0x02);
	pthread_mutex_unlock(&E.a.mu);
	return r;
}

/* A SYN no peer takes, refused with "administratively prohibited": connect()
 * fails with EHOSTUNREACH at once (TCP would retry the SYN for two minutes). */
static void test_refused_connect(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(80) };
	uint8_t syn[2048], err[1280];
	struct pollfd p;
	size_t len;
	int fd, n, soerr = 0;
	socklen_t slen = sizeof(soerr);
	uint64_t start;

	(void)state;
	inet_pton(AF_INET, "100.64.0.9", &to.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), -1);
	assert_int_equal(errno, EINPROGRESS);
	assert_true(pump(a_hook_saw_syn, 5000));
	pthread_mutex_lock(&E.a.mu);
	len = E.a.no_peer_len;
	memcpy(syn, E.a.no_peer_pkt, len);
	pthread_mutex_unlock(&E.a.mu);

	n = icmp_prohibited(syn, len, err, sizeof(err));
	assert_true(n > 0);
	start = now_ms();
	assert_int_equal(wg_device_tun_write(E.a.dev, err, (size_t)n), 0);
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_true(now_ms() - start < 1000); /* before the first SYN retransmission */
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen), 0);
	assert_int_equal(soerr, EHOSTUNREACH);
	close(fd);
}

static int uapi_fd = -1;
static char reply[4096];
static size_t reply_len;

static bool reply_done(void)
{
	ssize_t n = recv(uapi_fd, reply + reply_len, sizeof(reply) - 1 - reply_len, 0);

	if (n > 0)
		reply_len += (size_t)n;
	reply[reply_len] = 0;
	return reply_len >= 2 && strstr(reply, "errno=") &&
	       strcmp(reply + reply_len - 2, "\n\n") == 0;
}

static void uapi_ask(const char *req)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX,
				 .sun_path = "/var/run/wireguard/sl-twg-ro.sock" };

	uapi_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(uapi_fd >= 0);
	assert_int_equal(connect(uapi_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(send(uapi_fd, req, strlen(req), 0), (ssize_t)strlen(req));
	reply_len = 0;
	assert_true(pump(reply_done, 5000));
	close(uapi_fd);
}

/* Read-only UAPI: get answers (with the port from the opts), set is refused
 * with EPERM and changes nothing. */
static void test_uapi_ro(void **state)
{
	char want[64];

	(void)state;
	assert_int_equal(wg_device_port(E.ro), RO_PORT);
	snprintf(want, sizeof(want), "listen_port=%u\n", RO_PORT);
	uapi_ask("get=1\n\n");
	assert_non_null(strstr(reply, want));
	assert_non_null(strstr(reply, "errno=0\n\n"));
	uapi_ask("set=1\nlisten_port=52000\n\n");
	assert_string_equal(reply, "errno=-1\n\n");
	assert_int_equal(wg_device_port(E.ro), RO_PORT);
}

static bool a_unresponsive_and_removed(void)
{
	return E.a.n_ev[WG_EVENT_UNRESPONSIVE] && E.a.n_ev[WG_EVENT_REMOVED];
}

/* B goes away under traffic: A keeps sending, tries handshakes, gives up and
 * says so; its callback removes the peer (wg_device_set from inside the
 * callback), and the removal comes as an event of its own, with the owner. */
static void test_unresponsive_removed(void **state)
{
	struct wg_peer_info info;

	(void)state;
	assert_int_equal(epoll_ctl(E.ep, EPOLL_CTL_DEL, wg_device_fd(E.b.dev), NULL), 0);
	wg_device_free(E.b.dev);
	E.b.dev = NULL;
	E.a.remove_on_unresponsive = true;
	assert_int_equal(E.a.n_ev[WG_EVENT_UNRESPONSIVE], 0);
	send_to(E.s1, "100.64.0.2", PORT2, "anyone?");
	/* (10 s + 5 s) / 50 of silence, then 19 initiations 100 ms apart. */
	assert_true(pump(a_unresponsive_and_removed, 20000));
	assert_ptr_equal(E.a.ev_owner[WG_EVENT_UNRESPONSIVE], &E.a.owner_tag);
	assert_memory_equal(E.a.ev_key[WG_EVENT_UNRESPONSIVE], E.b.pub, 32);
	assert_int_equal(E.a.remove_result, 0);
	assert_ptr_equal(E.a.ev_owner[WG_EVENT_REMOVED], &E.a.owner_tag);
	assert_memory_equal(E.a.ev_key[WG_EVENT_REMOVED], E.b.pub, 32);
	assert_int_equal(wg_device_peer_get(E.a.dev, E.b.pub, &info), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_tunnel),
		cmocka_unit_test(test_no_peer),
		cmocka_unit_test(test_refused_connect),
		cmocka_unit_test(test_uapi_ro),
		cmocka_unit_test(test_unresponsive_removed),
	};

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "test_wg_device: unshare(CLONE_NEWNET): %s (run as root)\n",
			strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests_name("wg_device", tests, setup, teardown);
}
