/* The DNS endpoint's sockets: UDP, and TCP with RFC 7766 framing as the
 * stub does it (dns/stub_tcp.c); the queries waiting for the resolver; the
 * loop. The query handling itself is dnsep_msg.c. */
#include "gateway/dnsep_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "gateway/resolver.h"
#include "lib/buf.h"
#include "lib/bytes.h"
#include "lib/log.h"
#include "lib/time.h"
#include "net/udpbatch.h"

enum {
	UDP_IN_MAX = 4096,             /* a query longer than this is not one */
	UDP_BUDGET = 64,               /* datagrams per socket per dispatch */
	UDP_BATCH = 64,
	ANSWER_MAX = DNS_MSG_MAX,
	CONN_IN_MAX = 2 + DNS_MSG_MAX,
	CONN_OUT_MAX = 1 << 20,        /* answers queued for a slow reader */
	EVENTS_MAX = 64,
	SMALL_MAX = DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11,
};

enum kind { K_UDP, K_LISTEN, K_CONN };

struct watch {
	enum kind kind;
};

struct sock {
	struct watch wu, wl;           /* K_UDP, K_LISTEN */
	int udp_fd, tcp_fd;
	int family;
};

struct conn {
	struct watch w;                /* K_CONN */
	int fd;
	int family;
	uint8_t src[16];
	struct buf in, out;
	unsigned refs;                 /* waits that will answer on it, and the handler */
	bool closed, want_out;
	struct tcpslot slot;           /* while open */
	struct conn *prev, *next;      /* open ones, or the dead list */
};

#define CONN_OF(slotp) ((struct conn *)((char *)(slotp) - offsetof(struct conn, slot)))

/* A query waiting for the resolver. */
struct wait {
	struct wait *prev, *next;
	struct dnsep *ep;
	struct dnsep_req req;
	uint64_t rid;
	struct conn *conn;             /* TCP, or NULL */
	int udp_fd;
	struct sockaddr_storage from;
	socklen_t fromlen;
};

/* ---- sending ---- */

static void conn_flush(struct dnsep *ep, struct conn *c);

static void udp_send(struct dnsep *ep, int fd, const uint8_t *msg, size_t len,
		     const struct sockaddr_storage *to, socklen_t tolen)
{
	int err;

	if (udpbatch_add(ep->out, fd, msg, len, (const struct sockaddr *)to, tolen) == -ENOBUFS) {
		udpbatch_flush(ep->out, &err);
		udpbatch_add(ep->out, fd, msg, len, (const struct sockaddr *)to, tolen);
	}
	if (!ep->in_dispatch)
		udpbatch_flush(ep->out, &err);
}

static void tcp_send(struct dnsep *ep, struct conn *c, const uint8_t *msg, size_t len);

/* ---- waits ---- */

static void conn_release(struct dnsep *ep, struct conn *c);

static void wait_unlink(struct dnsep *ep, struct wait *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		ep->waits = w->next;
	if (w->next)
		w->next->prev = w->prev;
	ep->n_waits--;
}

static void resolved(void *arg, int err, const uint8_t *answer, size_t len)
{
	struct wait *w = arg;
	struct dnsep *ep = w->ep;
	size_t n;

	wait_unlink(ep, w);
	if (dnsep_answer(ep, &w->req, err, answer, len, ep->abuf, ANSWER_MAX, &n) == 0) {
		if (w->conn)
			tcp_send(ep, w->conn, ep->abuf, n);
		else
			udp_send(ep, w->udp_fd, ep->abuf, n, &w->from, w->fromlen);
	}
	if (w->conn)
		conn_release(ep, w->conn);
	free(w);
}

/* One query from a socket: answered now, or a wait for the resolver. */
static void handle(struct dnsep *ep, struct conn *conn, int udp_fd, int family,
		   const uint8_t *src, const struct sockaddr_storage *from, socklen_t fromlen,
		   const uint8_t *msg, size_t len)
{
	uint8_t small[SMALL_MAX];
	struct wait *w = calloc(1, sizeof(*w));
	size_t n = 0;
	int r;

	if (!w)
		return;
	switch (dnsep_query(ep, family, src, msg, len, conn != NULL, &w->req, small, sizeof(small),
			    &n)) {
	case DNSEP_DROP:
		free(w);
		return;
	case DNSEP_REPLY:
		goto reply;
	case DNSEP_RESOLVE:
		break;
	}
	if (ep->n_waits >= ep->cfg.max_pending) {
		ep->st.busy++;
		goto servfail;
	}
	w->ep = ep;
	w->conn = conn;
	w->udp_fd = udp_fd;
	if (from)
		memcpy(&w->from, from, fromlen);
	w->fromlen = fromlen;
	w->next = ep->waits;
	if (ep->waits)
		ep->waits->prev = w;
	ep->waits = w;
	ep->n_waits++;
	if (conn)
		conn->refs++;
	/* A cache hit runs resolved() (which frees w) before this returns. */
	r = resolver_query(ep->cfg.resolver, &w->req.q.name, w->req.q.type, resolved, w, &w->rid);
	if (r >= 0)
		return;
	wait_unlink(ep, w);
	if (conn)
		conn->refs--;
	if (r == -EBUSY)
		ep->st.busy++;
servfail:
	if (dnsep_reply_rcode(ep, &w->req, DNS_RCODE_SERVFAIL, small, sizeof(small), &n) !=
	    DNSEP_REPLY) {
		free(w);
		return;
	}
reply:
	if (conn)
		tcp_send(ep, conn, small, n);
	else
		udp_send(ep, udp_fd, small, n, from, fromlen);
	free(w);
}

static void addr_of(const struct sockaddr_storage *ss, int *family, uint8_t *src)
{
	*family = ss->ss_family;
	if (ss->ss_family == AF_INET)
		memcpy(src, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else
		memcpy(src, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

/* ---- UDP ---- */

static void udp_read(struct dnsep *ep, struct sock *s)
{
	uint8_t buf[UDP_IN_MAX];

	for (unsigned i = 0; i < UDP_BUDGET; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		uint8_t src[16];
		int family;
		ssize_t n = recvfrom(s->udp_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &fromlen);

		if (n < 0)
			return;
		ep->st.queries_udp++;
		if ((size_t)n > sizeof(buf) || from.ss_family != s->family) {
			ep->st.dropped++;
			continue;
		}
		addr_of(&from, &family, src);
		handle(ep, NULL, s->udp_fd, family, src, &from, fromlen, buf, (size_t)n);
	}
}

/* ---- TCP: the slots' policy is dns/tcpslots.h ---- */

/* Waiting for the resolver (or being handled): not idle. */
static bool conn_busy(const struct tcpslot *t)
{
	return CONN_OF(t)->refs > 0;
}

static void conn_unlink(struct conn **head, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* To the dead list, freed at the end of the dispatch: events for it may still
 * wait in the current epoll batch. */
static void conn_bury(struct dnsep *ep, struct conn *c)
{
	conn_unlink(&ep->conns, c);
	buf_free(&c->in);
	buf_free(&c->out);
	c->next = ep->dead;
	ep->dead = c;
}

static void conn_close(struct dnsep *ep, struct conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	close(c->fd);
	c->fd = -1;
	tcpslots_remove(&ep->slots, &c->slot);
	if (c->refs == 0)
		conn_bury(ep, c);
}

static void conn_release(struct dnsep *ep, struct conn *c)
{
	c->refs--;
	if (c->closed && c->refs == 0)
		conn_bury(ep, c);
}

static void conn_flush(struct dnsep *ep, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = &c->w };

	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN)
				break;
			conn_close(ep, c);
			return;
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (!!c->out.len != c->want_out) {
		c->want_out = c->out.len != 0;
		ev.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0u);
		epoll_ctl(ep->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void tcp_send(struct dnsep *ep, struct conn *c, const uint8_t *msg, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	if (c->closed)
		return;
	if (len > DNS_MSG_MAX || buf_reserve(&c->out, len + 2) < 0) {
		conn_close(ep, c); /* a reader this slow is not reading */
		return;
	}
	buf_append(&c->out, hdr, 2);
	buf_append(&c->out, msg, len);
	tcpslots_sent(&ep->slots, &c->slot, time_mono_ns());
	conn_flush(ep, c);
}

static void tcp_accept(struct dnsep *ep, struct sock *s)
{
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		int fd = accept4(s->tcp_fd, (struct sockaddr *)&from, &fromlen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;

		if (fd < 0)
			return;
		if (tcpslots_full(&ep->slots) && from.ss_family == s->family) {
			/* Room for the newcomer at the expense of the connection
			 * active least recently: stalled ones cannot lock it out. */
			struct tcpslot *v = tcpslots_victim(&ep->slots);

			if (v) {
				ep->st.tcp_evicted++;
				conn_close(ep, CONN_OF(v));
			}
		}
		if (tcpslots_full(&ep->slots) || from.ss_family != s->family ||
		    !(c = calloc(1, sizeof(*c)))) {
			log_rl(&ep->rl, LOG_LVL_WARN, "dnsep: too many TCP connections");
			close(fd);
			continue;
		}
		c->w.kind = K_CONN;
		c->fd = fd;
		addr_of(&from, &c->family, c->src);
		buf_init(&c->in, CONN_IN_MAX);
		buf_init(&c->out, CONN_OUT_MAX);
		tcpslots_add(&ep->slots, &c->slot, time_mono_ns());
		c->next = ep->conns;
		if (ep->conns)
			ep->conns->prev = c;
		ep->conns = c;
		ev.data.ptr = &c->w;
		if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			conn_close(ep, c);
	}
}

static void conn_read(struct dnsep *ep, struct conn *c)
{
	for (;;) {
		uint8_t tmp[16384];
		ssize_t n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		unsigned took = 0;

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(ep, c);
			return;
		}
		if (n < 0)
			return;
		if (buf_append(&c->in, tmp, (size_t)n) < 0) {
			conn_close(ep, c);
			return;
		}
		/* Every whole message in the buffer is a query. */
		while (c->in.len >= 2) {
			size_t want = 2 + (size_t)get_be16(c->in.data);

			if (c->in.len < want)
				break;
			ep->st.queries_tcp++;
			if (want > 2)
				took++; /* an empty message is no activity */
			handle(ep, c, -1, c->family, c->src, NULL, 0, c->in.data + 2, want - 2);
			if (c->closed)
				return; /* the caller holds a reference */
			buf_consume(&c->in, want);
		}
		tcpslots_read(&ep->slots, &c->slot, time_mono_ns(), took, c->in.len);
	}
}

static void conn_event(struct dnsep *ep, struct conn *c, uint32_t events)
{
	if (c->closed)
		return;
	c->refs++;
	if (events & EPOLLOUT)
		conn_flush(ep, c);
	if (!c->closed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_read(ep, c);
	conn_release(ep, c);
}

static void conn_expired(void *arg, struct tcpslot *t)
{
	struct dnsep *ep = arg;

	ep->st.tcp_expired++;
	conn_close(ep, CONN_OF(t));
}

static void dead_empty(struct dnsep *ep)
{
	while (ep->dead) {
		struct conn *c = ep->dead;

		ep->dead = c->next;
		free(c);
	}
}

/* ---- the loop ---- */

int dnsep_fd(const struct dnsep *ep)
{
	return ep->epfd;
}

void dnsep_dispatch(struct dnsep *ep)
{
	struct epoll_event ev[EVENTS_MAX];
	int n = epoll_wait(ep->epfd, ev, EVENTS_MAX, 0), err;

	ep->in_dispatch = true;
	for (int i = 0; i < n; i++) {
		struct watch *w = ev[i].data.ptr;

		switch (w->kind) {
		case K_UDP:
			udp_read(ep, (struct sock *)((char *)w - offsetof(struct sock, wu)));
			break;
		case K_LISTEN:
			tcp_accept(ep, (struct sock *)((char *)w - offsetof(struct sock, wl)));
			break;
		case K_CONN:
			conn_event(ep, (struct conn *)w, ev[i].events);
			break;
		}
	}
	tcpslots_expire(&ep->slots, time_mono_ns(), conn_expired, ep);
	ep->in_dispatch = false;
	if (udpbatch_count(ep->out))
		udpbatch_flush(ep->out, &err);
	dead_empty(ep);
}

int dnsep_timeout_ms(const struct dnsep *ep)
{
	uint64_t now = time_mono_ns(), first = tcpslots_next(&ep->slots);

	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)((first - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

void dnsep_get_stats(const struct dnsep *ep, struct dnsep_stats *out)
{
	*out = ep->st;
}

/* ---- life ---- */

static int sock_open(struct dnsep *ep, struct sock *s, const struct sockaddr_storage *addr)
{
	struct sockaddr_storage a = *addr;
	socklen_t alen;
	struct epoll_event ev = { .events = EPOLLIN };
	int one = 1;

	s->family = a.ss_family;
	if (a.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a;

		if (!in->sin_port)
			in->sin_port = htons(DNSEP_PORT);
		alen = sizeof(*in);
	} else if (a.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;

		if (!in6->sin6_port)
			in6->sin6_port = htons(DNSEP_PORT);
		alen = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	s->udp_fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	s->tcp_fd = socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->udp_fd < 0 || s->tcp_fd < 0)
		return -errno;
	setsockopt(s->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a.ss_family == AF_INET6) {
		setsockopt(s->udp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(s->tcp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(s->udp_fd, (struct sockaddr *)&a, alen) < 0 ||
	    bind(s->tcp_fd, (struct sockaddr *)&a, alen) < 0 || listen(s->tcp_fd, 128) < 0)
		return -errno;
	s->wu.kind = K_UDP;
	s->wl.kind = K_LISTEN;
	ev.data.ptr = &s->wu;
	if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, s->udp_fd, &ev) < 0)
		return -errno;
	ev.data.ptr = &s->wl;
	if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, s->tcp_fd, &ev) < 0)
		return -errno;
	return 0;
}

int dnsep_new(const struct dnsep_config *cfg, const struct dnsep_ops *ops, void *arg,
	      struct dnsep **out)
{
	struct dnsep *ep;
	int err = -ENOMEM;

	if (!ops || !ops->client || !ops->covers || !ops->bindings || !ops->bound ||
	    (cfg->n_addrs && (!cfg->addrs || !cfg->resolver)))
		return -EINVAL;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->cfg = *cfg;
	ep->cfg.addrs = NULL; /* not kept: the caller's */
	if (!ep->cfg.max_pending)
		ep->cfg.max_pending = 4096;
	if (!ep->cfg.max_tcp_conns)
		ep->cfg.max_tcp_conns = TCPSLOT_MAX;
	if (!ep->cfg.tcp_idle_ms)
		ep->cfg.tcp_idle_ms = TCPSLOT_IDLE_MS;
	tcpslots_init(&ep->slots, ep->cfg.max_tcp_conns, ep->cfg.tcp_idle_ms, conn_busy);
	ep->ops = *ops;
	ep->arg = arg;
	ep->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	dns_msg_init(&ep->msg);
	ep->epfd = -1;
	ep->abuf = malloc(ANSWER_MAX);
	ep->out = udpbatch_new(UDP_BATCH, DNS_EDNS_MAX); /* UDP answers are cut to it */
	ep->socks = calloc(cfg->n_addrs ? cfg->n_addrs : 1, sizeof(*ep->socks));
	if (!ep->abuf || !ep->out || !ep->socks)
		goto fail;
	ep->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ep->epfd < 0) {
		err = -errno;
		goto fail;
	}
	for (size_t i = 0; i < cfg->n_addrs; i++) {
		ep->socks[i].udp_fd = ep->socks[i].tcp_fd = -1;
		ep->n_socks++;
		if ((err = sock_open(ep, &ep->socks[i], &cfg->addrs[i])) < 0)
			goto fail;
	}
	*out = ep;
	return 0;
fail:
	dnsep_free(ep);
	return err;
}

void dnsep_free(struct dnsep *ep)
{
	if (!ep)
		return;
	while (ep->waits) {
		struct wait *w = ep->waits;

		resolver_cancel(ep->cfg.resolver, w->rid);
		wait_unlink(ep, w);
		if (w->conn)
			w->conn->refs--;
		free(w);
	}
	while (ep->conns) {
		struct conn *c = ep->conns;

		if (!c->closed)
			close(c->fd);
		conn_unlink(&ep->conns, c);
		buf_free(&c->in);
		buf_free(&c->out);
		free(c);
	}
	dead_empty(ep);
	for (size_t i = 0; i < ep->n_socks; i++) {
		if (ep->socks[i].udp_fd >= 0)
			close(ep->socks[i].udp_fd);
		if (ep->socks[i].tcp_fd >= 0)
			close(ep->socks[i].tcp_fd);
	}
	if (ep->epfd >= 0)
		close(ep->epfd);
	free(ep->socks);
	udpbatch_free(ep->out);
	free(ep->abuf);
	dns_msg_free(&ep->msg);
	free(ep);
}
