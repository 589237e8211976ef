/* The stub resolver's loop: sentinels, the routing of each query, and replies.
 * Forwarding is in stub_fwd.c, TCP in stub_tcp.c. Behaviour: stub.h. */
#include "dns/stub_priv.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/rand.h"
#include "lib/time.h"
#include "net/udpbatch.h"

enum { UDP_BATCH = 32, UDP_REPLY_MAX = DNS_EDNS_MAX, TICK_MS = 100 };

/* UDP traffic on the sentinels goes in batches: one recvmmsg takes up to
 * UDP_BATCH queries, and the UDP datagrams given in a pass (answers to those
 * queries, answers relayed from upstreams or from the resource resolver,
 * queries forwarded) are queued and leave together at the end of each recvmmsg
 * batch and of each pass over the epoll events: one sendmmsg per socket, and
 * same-size answers to one asker as one UDP GSO send (net/udpbatch.h). */
struct udp_io {
	uint8_t query[UDP_BATCH][UDP_QUERY_MAX];
	bool batching;                  /* in a pass: queue UDP datagrams */
	struct udpbatch *out;
};

/* use-application-dns.net: Firefox's canary for turning its own DoH off. */
static const struct dns_name canary = {
	.len = 25,
	.data = "\x13use-application-dns\x03net",
};

int stub_watch(struct stub *s, int fd, uint32_t events, struct stub_watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int stub_rewatch(struct stub *s, int fd, uint32_t events, struct stub_watch *w)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void stub_bury(struct stub *s, struct stub_watch *w)
{
	w->kind = W_DEAD;
	w->dead_next = s->graveyard;
	s->graveyard = w;
}

void stub_graveyard_empty(struct stub *s)
{
	while (s->graveyard) {
		struct stub_watch *w = s->graveyard;

		s->graveyard = w->dead_next;
		free(w);
	}
}

/* Query IDs need unpredictability, not a syscall each: getrandom 256 bytes at
 * a time. */
uint16_t stub_rand16(struct stub *s)
{
	uint16_t v;

	if (s->rnd_pos + 2 > sizeof(s->rnd)) {
		if (rand_bytes(s->rnd, sizeof(s->rnd)) < 0)
			abort(); /* no CSPRNG: nothing safe to do (see lib/rand.c) */
		s->rnd_pos = 0;
	}
	memcpy(&v, s->rnd + s->rnd_pos, 2);
	s->rnd_pos += 2;
	return v;
}

/* Sends what was queued; a datagram that fails is lost, as a failed sendto. */
static void udp_flush(struct stub *s)
{
	struct udp_io *io = s->udp_buf;
	bool gso = udpbatch_gso(io->out);
	int err = 0;

	if (udpbatch_flush(io->out, &err))
		log_rl(&s->rl, LOG_LVL_WARN, "dns: sending: %s", strerror(err));
	if (gso && !udpbatch_gso(io->out))
		log_warn("dns: the kernel refuses UDP GSO: sending datagrams one by one");
}

/* One datagram: queued for the batch when stub_run is batching and it fits,
 * else sent now. addr NULL: fd is connected. */
static void udp_send(struct stub *s, int fd, const uint8_t *msg, size_t len,
		     const struct sockaddr_storage *addr, socklen_t addrlen, const char *what)
{
	struct udp_io *io = s->udp_buf;

	if (io->batching) {
		if (udpbatch_count(io->out) == UDP_BATCH)
			udp_flush(s);
		if (udpbatch_add(io->out, fd, msg, len, (const struct sockaddr *)addr,
				 addr ? addrlen : 0) == 0)
			return;
	}
	if (sendto(fd, msg, len, MSG_DONTWAIT, (const struct sockaddr *)addr,
		   addr ? addrlen : 0) < 0)
		log_rl(&s->rl, LOG_LVL_WARN, "dns: %s: %s", what, strerror(errno));
}

void stub_reply(struct stub *s, struct stub_client *cl, const uint8_t *msg, size_t len)
{
	if (cl->conn)
		stub_tcp_send(s, cl->conn, msg, len);
	else
		udp_send(s, cl->sen->udp_fd, msg, len, &cl->addr, cl->addrlen,
			 "sending an answer");
}

void stub_udp_queue(struct stub *s, int fd, const uint8_t *msg, size_t len)
{
	udp_send(s, fd, msg, len, NULL, 0, "forwarding a query");
}

void stub_reply_rcode(struct stub *s, struct stub_client *cl, const struct dns_query *q,
		      uint16_t rcode)
{
	uint8_t buf[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 16];
	size_t len;

	if (dns_reply_write(q, rcode, NULL, 0, buf, sizeof(buf), sizeof(buf), &len) == 0)
		stub_reply(s, cl, buf, len);
}

/* For a query whose question could not be read: the header alone, as RFC 1035
 * allows, with the rcode. */
static void reply_header_only(struct stub *s, struct stub_client *cl, const uint8_t *q,
			      uint16_t rcode)
{
	uint8_t buf[DNS_HDR_LEN] = { 0 };
	uint16_t flags;

	memcpy(buf, q, 2);
	memcpy(&flags, q + DNS_OFF_FLAGS, 2);
	flags = be16toh(flags);
	flags = (uint16_t)(DNS_F_QR | (flags & (DNS_F_OPCODE_MASK | DNS_F_RD)) | rcode);
	flags = htobe16(flags);
	memcpy(buf + DNS_OFF_FLAGS, &flags, 2);
	stub_reply(s, cl, buf, sizeof(buf));
}

void stub_handle_query(struct stub *s, struct stub_client *cl, const uint8_t *msg, size_t len)
{
	struct dns_query q;
	int r = dns_query_parse(msg, len, &q);

	if (r < 0) {
		/* No header, or an answer sent to a server: drop, never reflect. */
		if (len < DNS_HDR_LEN || (msg[DNS_OFF_FLAGS] & 0x80))
			return;
		s->stats.formerr++;
		reply_header_only(s, cl, msg,
				  r == -EOPNOTSUPP ? DNS_RCODE_NOTIMP : DNS_RCODE_FORMERR);
		return;
	}
	cl->id = q.id;
	cl->qflags = q.flags & (DNS_F_RD | DNS_F_CD);
	cl->edns = q.edns.present;
	cl->do_bit = q.edns.do_bit;
	cl->limit = cl->conn ? DNS_MSG_MAX : dns_udp_limit(&q);
	/* RFC 6891 §6.1.3: an EDNS version we do not speak gets BADVERS. */
	if (q.edns.present && q.edns.version > 0) {
		s->stats.formerr++;
		stub_reply_rcode(s, cl, &q, 16 /* BADVERS */);
		return;
	}
	if (dns_name_equal(&q.q.name, &canary)) {
		s->stats.answered_local++;
		stub_reply_rcode(s, cl, &q, DNS_RCODE_NXDOMAIN);
		return;
	}
	if (stub_res_query(s, cl, msg, &q))
		return;
	stub_forward(s, cl, msg, len, &q);
}

/* ---- sentinels ---- */

static socklen_t sa_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static void set_port_default(struct sockaddr_storage *a, uint16_t port)
{
	if (a->ss_family == AF_INET && ((struct sockaddr_in *)a)->sin_port == 0)
		((struct sockaddr_in *)a)->sin_port = htons(port);
	else if (a->ss_family == AF_INET6 && ((struct sockaddr_in6 *)a)->sin6_port == 0)
		((struct sockaddr_in6 *)a)->sin6_port = htons(port);
}

static int sentinel_open(struct stub *s, struct stub_sentinel *sen)
{
	int one = 1, r;

	sen->udp_fd = socket(sen->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sen->udp_fd < 0)
		return -errno;
	setsockopt(sen->udp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sen->addr.ss_family == AF_INET6)
		setsockopt(sen->udp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(sen->udp_fd, (struct sockaddr *)&sen->addr, sen->addrlen) < 0)
		return -errno;
	sen->wu.kind = W_UDP;
	r = stub_watch(s, sen->udp_fd, EPOLLIN, &sen->wu);
	if (r < 0)
		return r;
	return stub_tcp_listen(s, sen);
}

int stub_udp_recv(struct stub *s, int fd, stub_dgram_fn fn, void *arg)
{
	struct udp_io *io = s->udp_buf;
	uint8_t (*bufs)[UDP_QUERY_MAX] = io->query;
	struct sockaddr_storage from[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct mmsghdr mm[UDP_BATCH];
	int n;

	for (int i = 0; i < UDP_BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = UDP_QUERY_MAX };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i],
						       .msg_namelen = sizeof(from[i]),
						       .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	n = recvmmsg(fd, mm, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++)
		fn(s, arg, bufs[i], mm[i].msg_len, mm[i].msg_hdr.msg_flags & MSG_TRUNC,
		   &from[i], mm[i].msg_hdr.msg_namelen);
	return n;
}

static void udp_query(struct stub *s, void *arg, uint8_t *msg, size_t len, bool trunc,
		      const struct sockaddr_storage *from, socklen_t fromlen)
{
	struct stub_client cl = { .sen = arg, .addr = *from, .addrlen = fromlen };

	s->stats.queries_udp++;
	if (trunc)
		return; /* larger than any sane query */
	stub_handle_query(s, &cl, msg, len);
}

static void udp_read(struct stub *s, struct stub_sentinel *sen)
{
	stub_udp_recv(s, sen->udp_fd, udp_query, sen);
	udp_flush(s);
}

/* ---- lifecycle ---- */

int stub_new(const struct stub_config *cfg, struct stub **out)
{
	struct itimerspec tick = { .it_interval = { 0, TICK_MS * 1000000L },
				   .it_value = { 0, TICK_MS * 1000000L } };
	struct udp_io *io;
	struct stub *s;
	int r = -ENOMEM;

	if (!cfg->n || !cfg->sentinels || !cfg->upstreams)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (!s->cfg.timeout_ms)
		s->cfg.timeout_ms = 5000;
	if (!s->cfg.max_pending)
		s->cfg.max_pending = 4096;
	if (!s->cfg.max_tcp_conns)
		s->cfg.max_tcp_conns = TCPSLOT_MAX;
	stub_tcp_init(s);
	s->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	s->rnd_pos = sizeof(s->rnd); /* empty: the first draw fills it */
	s->stop_efd = s->timer_fd = s->ep = -1;
	s->sen = calloc(cfg->n, sizeof(*s->sen));
	io = s->udp_buf = calloc(1, sizeof(*io));
	if (!s->sen || !io)
		goto fail;
	io->out = udpbatch_new(UDP_BATCH, UDP_REPLY_MAX);
	if (!io->out)
		goto fail;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->ep < 0 || s->stop_efd < 0 || s->timer_fd < 0 ||
	    timerfd_settime(s->timer_fd, 0, &tick, NULL) < 0) {
		r = -errno;
		goto fail;
	}
	r = stub_res_init(s);
	if (r < 0)
		goto fail;
	s->w_stop.kind = W_STOP;
	s->w_timer.kind = W_TIMER;
	if ((r = stub_watch(s, s->stop_efd, EPOLLIN, &s->w_stop)) < 0 ||
	    (r = stub_watch(s, s->timer_fd, EPOLLIN, &s->w_timer)) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->n; i++) {
		struct stub_sentinel *sen = &s->sen[i];

		sen->udp_fd = sen->tcp_fd = -1;
		s->n_sen++;
		sen->addr = cfg->sentinels[i];
		sen->upstream = cfg->upstreams[i];
		set_port_default(&sen->addr, 53);
		set_port_default(&sen->upstream, 53);
		sen->addrlen = sa_len(&sen->addr);
		sen->uplen = sa_len(&sen->upstream);
		sen->host_upstream = sen->upstream;
		r = sentinel_open(s, sen);
		if (r < 0)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	stub_free(s);
	return r;
}

/* One pass: waits up to timeout_ms (-1: until something happens) for events,
 * handles them, and sends what they queued. 1 once stub_stop() was called. */
static int pass(struct stub *s, int timeout_ms)
{
	struct udp_io *io = s->udp_buf;
	struct epoll_event ev[64];
	int n = epoll_wait(s->ep, ev, 64, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	io->batching = true;
	for (int i = 0; i < n; i++) {
		struct stub_watch *w = ev[i].data.ptr;
		uint64_t v;

		switch (w->kind) {
		case W_STOP:
			if (read(s->stop_efd, &v, sizeof(v)) < 0)
				break; /* nothing left to read: already seen */
			s->stopping = true;
			break;
		case W_TIMER:
			if (read(s->timer_fd, &v, sizeof(v)) < 0)
				break;
			stub_fwd_expire(s, time_mono_ns());
			stub_res_expire(s, time_mono_ns());
			stub_conn_expire(s, time_mono_ns());
			break;
		case W_UDP:
			udp_read(s, (struct stub_sentinel *)((char *)w -
					offsetof(struct stub_sentinel, wu)));
			break;
		case W_LISTEN:
			stub_tcp_accept(s, (struct stub_sentinel *)((char *)w -
					offsetof(struct stub_sentinel, wl)));
			break;
		case W_CONN:
			stub_conn_event(s, (struct stub_conn *)w, ev[i].events);
			break;
		case W_FWD:
			stub_fwd_event(s, (struct stub_fwd *)w, ev[i].events);
			break;
		case W_FSOCK:
			stub_fsock_event(s, (struct stub_fsock *)w);
			break;
		case W_DEAD:
			break; /* freed earlier in this batch */
		case W_EXT:
			((struct stub_ext *)w)->cb(((struct stub_ext *)w)->arg);
			break;
		}
	}
	udp_flush(s);
	io->batching = false;
	stub_graveyard_empty(s);
	return s->stopping ? 1 : 0;
}

int stub_fd(const struct stub *s)
{
	return s->ep;
}

int stub_dispatch(struct stub *s)
{
	return pass(s, 0);
}

int stub_run(struct stub *s)
{
	/* pass() waits itself: one epoll_wait a batch, as before the seams */
	while (!s->stopping) {
		int r = pass(s, -1);

		if (r < 0)
			return r;
	}
	return 0;
}

int stub_add_fd(struct stub *s, int fd, void (*cb)(void *arg), void *arg)
{
	struct stub_ext *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->w.kind = W_EXT;
	e->cb = cb;
	e->arg = arg;
	r = stub_watch(s, fd, EPOLLIN, &e->w);
	if (r < 0) {
		free(e);
		return r;
	}
	e->next = s->ext;
	s->ext = e;
	return 0;
}

void stub_stop(struct stub *s)
{
	uint64_t one = 1;

	if (write(s->stop_efd, &one, sizeof(one)) < 0)
		return;
}

void stub_get_stats(const struct stub *s, struct stub_stats *out)
{
	*out = s->stats;
}

void stub_free(struct stub *s)
{
	struct udp_io *io;

	if (!s)
		return;
	io = s->udp_buf;
	stub_fwd_free_all(s);
	stub_res_free(s);
	stub_conn_free_all(s);
	while (s->ext) {
		struct stub_ext *e = s->ext;

		s->ext = e->next;
		free(e);
	}
	for (size_t i = 0; i < s->n_sen; i++) {
		if (s->sen[i].udp_fd >= 0)
			close(s->sen[i].udp_fd);
		if (s->sen[i].tcp_fd >= 0)
			close(s->sen[i].tcp_fd);
	}
	stub_graveyard_empty(s);
	free(s->sen);
	if (io)
		udpbatch_free(io->out);
	free(io);
	if (s->ep >= 0)
		close(s->ep);
	if (s->stop_efd >= 0)
		close(s->stop_efd);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	free(s);
}

int stub_upstreams_set(struct stub *s, const struct sockaddr_storage *up, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (up[i].ss_family != AF_INET && up[i].ss_family != AF_INET6)
			return -EAFNOSUPPORT;
	for (size_t i = 0; i < s->n_sen; i++) {
		struct stub_sentinel *sen = &s->sen[i];
		struct sockaddr_storage next = n ? up[i % n] : sen->host_upstream;

		set_port_default(&next, 53);
		if (sa_len(&next) == sen->uplen && memcmp(&next, &sen->upstream, sen->uplen) == 0)
			continue;
		sen->upstream = next;
		sen->uplen = sa_len(&next);
		stub_fwd_retire(s, sen);
	}
	return 0;
}
