/* DNS over TCP on the sentinels (RFC 7766): two-byte length framing, several
 * queries per connection answered as they complete (pipelining), a cap on
 * connections and on what each may buffer; when a connection is closed for
 * holding its slot without using it is dns/tcpslots.h's policy. */
#include "dns/stub_priv.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/time.h"

enum {
	CONN_IN_MAX = 2 + DNS_MSG_MAX,
	CONN_OUT_MAX = 1 << 20,     /* answers queued for a slow reader */
};

#define CONN_OF(slotp) ((struct stub_conn *)((char *)(slotp) - offsetof(struct stub_conn, slot)))

/* Waiting for a forward's answer: not idle. */
static bool conn_busy(const struct tcpslot *t)
{
	return CONN_OF(t)->pending > 0;
}

void stub_tcp_init(struct stub *s)
{
	tcpslots_init(&s->slots, s->cfg.max_tcp_conns, 0, conn_busy);
}

int stub_tcp_listen(struct stub *s, struct stub_sentinel *sen)
{
	int one = 1;

	sen->tcp_fd = socket(sen->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sen->tcp_fd < 0)
		return -errno;
	setsockopt(sen->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sen->addr.ss_family == AF_INET6)
		setsockopt(sen->tcp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(sen->tcp_fd, (struct sockaddr *)&sen->addr, sen->addrlen) < 0 ||
	    listen(sen->tcp_fd, 128) < 0)
		return -errno;
	sen->wl.kind = W_LISTEN;
	return stub_watch(s, sen->tcp_fd, EPOLLIN, &sen->wl);
}

static void conn_unlink_free(struct stub *s, struct stub_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	buf_free(&c->in);
	buf_free(&c->out);
	stub_bury(s, &c->w); /* an event for it may still wait in this batch */
}

static void conn_close(struct stub *s, struct stub_conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	close(c->fd);
	c->fd = -1;
	tcpslots_remove(&s->slots, &c->slot);
	if (c->pending == 0)
		conn_unlink_free(s, c);
}

void stub_conn_release(struct stub *s, struct stub_conn *c)
{
	c->pending--;
	if (c->closed && c->pending == 0)
		conn_unlink_free(s, c);
}

void stub_tcp_accept(struct stub *s, struct stub_sentinel *sen)
{
	for (;;) {
		int fd = accept4(sen->tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct stub_conn *c;

		if (fd < 0)
			return;
		if (tcpslots_full(&s->slots)) {
			/* Room for the newcomer at the expense of the connection
			 * active least recently: stalled ones cannot lock it out. */
			struct tcpslot *v = tcpslots_victim(&s->slots);

			if (v) {
				s->stats.tcp_evicted++;
				conn_close(s, CONN_OF(v));
			}
		}
		if (tcpslots_full(&s->slots) || !(c = calloc(1, sizeof(*c)))) {
			log_rl(&s->rl, LOG_LVL_WARN, "dns: too many TCP connections");
			close(fd);
			continue;
		}
		c->w.kind = W_CONN;
		c->fd = fd;
		c->sen = sen;
		buf_init(&c->in, CONN_IN_MAX);
		buf_init(&c->out, CONN_OUT_MAX);
		tcpslots_add(&s->slots, &c->slot, time_mono_ns());
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		if (stub_watch(s, fd, EPOLLIN, &c->w) < 0)
			conn_close(s, c);
	}
}

static void conn_flush(struct stub *s, struct stub_conn *c)
{
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN)
				break;
			conn_close(s, c);
			return;
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (!!c->out.len != c->want_out) {
		c->want_out = c->out.len != 0;
		stub_rewatch(s, c->fd, EPOLLIN | (c->want_out ? EPOLLOUT : 0), &c->w);
	}
}

void stub_tcp_send(struct stub *s, struct stub_conn *c, const uint8_t *msg, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	if (c->closed)
		return;
	if (len > DNS_MSG_MAX || buf_reserve(&c->out, len + 2) < 0) {
		/* A reader this slow is not reading: let it go. */
		conn_close(s, c);
		return;
	}
	buf_append(&c->out, hdr, 2);
	buf_append(&c->out, msg, len);
	tcpslots_sent(&s->slots, &c->slot, time_mono_ns());
	conn_flush(s, c);
}

static void conn_read(struct stub *s, struct stub_conn *c)
{
	for (;;) {
		uint8_t tmp[16384];
		ssize_t n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		unsigned took = 0;

		if (n == 0) {
			conn_close(s, c);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_close(s, c);
			return;
		}
		if (buf_append(&c->in, tmp, (size_t)n) < 0) {
			conn_close(s, c);
			return;
		}
		/* Every whole message in the buffer is a query. */
		while (c->in.len >= 2) {
			size_t want = 2 + ((size_t)c->in.data[0] << 8 | c->in.data[1]);
			struct stub_client cl = { .sen = c->sen, .conn = c };

			if (c->in.len < want)
				break;
			s->stats.queries_tcp++;
			if (want > 2) {
				took++; /* an empty message is no activity */
				stub_handle_query(s, &cl, c->in.data + 2, want - 2);
			}
			if (c->closed)
				return; /* the caller holds a reference: c is still there */
			buf_consume(&c->in, want);
		}
		tcpslots_read(&s->slots, &c->slot, time_mono_ns(), took, c->in.len);
	}
}

void stub_conn_event(struct stub *s, struct stub_conn *c, uint32_t events)
{
	if (c->closed)
		return;
	/* A reference for the duration: an answer sent while handling may close
	 * the connection, which must not free it under us. */
	c->pending++;
	if (events & EPOLLOUT)
		conn_flush(s, c);
	if (!c->closed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_read(s, c);
	stub_conn_release(s, c);
}

static void conn_expired(void *arg, struct tcpslot *t)
{
	struct stub *s = arg;

	s->stats.tcp_expired++;
	conn_close(s, CONN_OF(t));
}

void stub_conn_expire(struct stub *s, uint64_t now)
{
	tcpslots_expire(&s->slots, now, conn_expired, s);
}

void stub_conn_free_all(struct stub *s)
{
	while (s->conns) {
		struct stub_conn *c = s->conns;

		if (!c->closed) {
			close(c->fd);
			tcpslots_remove(&s->slots, &c->slot);
		}
		c->closed = true;
		conn_unlink_free(s, c);
	}
}
