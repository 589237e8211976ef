/* Shared by the stub's resource tests (test_stub_res*.c): the stub in an
 * owner's loop with real sockets on 127.0.0.1, a resolver that keeps what the
 * stub sends it (the test answers as the gateway would, or not), and records of
 * the on_proxy and cancel callbacks. Include once, after cmocka.h. */
#ifndef SLUICE_TEST_STUB_RES_H
#define SLUICE_TEST_STUB_RES_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/msg.h"
#include "dns/offer.h"
#include "dns/pool.h"
#include "dns/stub.h"
#include "lib/time.h"

enum { SENT_MAX = 64, EVENTS_MAX = 64, WAIT_MS = 5000 };

struct sent_query {
	uint64_t token, resource_id;
	uint8_t msg[1024];
	size_t len;
	struct dns_query q;  /* parsed from msg */
	struct offer offer;
};

struct proxy_event {
	enum stub_proxy_event ev;
	int family;
	uint8_t addr[16];
	char name[DNS_NAME_TEXT_MAX];
	uint64_t resource_id;
	unsigned answered_before; /* answers the askers had received at the time */
};

struct harness {
	struct stub *stub;
	struct pool *pool;
	struct sockaddr_in sen;
	int ep;
	struct sent_query sent[SENT_MAX];
	unsigned n_sent;
	int send_result;               /* what send() returns */
	int fail_in_send;              /* > 0: send() calls stub_resource_fail with it */
	uint64_t cancelled[SENT_MAX];
	unsigned n_cancel;
	struct proxy_event events[EVENTS_MAX];
	unsigned n_events;
	unsigned answers_read;         /* replies read by ask_*, for the BOUND ordering */
	int asker_fds[8];              /* sockets readable by askers, peeked by on_proxy */
	unsigned n_asker_fds;
};

static int h_send(void *arg, uint64_t token, uint64_t resource_id, const uint8_t *q, size_t len)
{
	struct harness *h = arg;
	struct sent_query *sq;

	if (h->fail_in_send > 0) {
		stub_resource_fail(h->stub, token, (uint16_t)h->fail_in_send);
		return h->send_result;
	}
	if (h->send_result < 0)
		return h->send_result;
	assert_true(h->n_sent < SENT_MAX);
	sq = &h->sent[h->n_sent++];
	memset(sq, 0, sizeof(*sq));
	sq->token = token;
	sq->resource_id = resource_id;
	assert_true(len <= sizeof(sq->msg));
	memcpy(sq->msg, q, len);
	sq->len = len;
	assert_int_equal(dns_query_parse(sq->msg, len, &sq->q), 0);
	assert_int_equal(offer_find(&sq->q.edns, &sq->offer), 0);
	return 0;
}

static void h_cancel(void *arg, uint64_t token)
{
	struct harness *h = arg;

	assert_true(h->n_cancel < SENT_MAX);
	h->cancelled[h->n_cancel++] = token;
}

/* Bytes waiting on the askers' sockets: none may be there yet when BOUND comes. */
static unsigned pending_replies(const struct harness *h)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h->n_asker_fds; i++) {
		uint8_t b;

		if (recv(h->asker_fds[i], &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
			n++;
	}
	return n;
}

static void h_on_proxy(void *arg, enum stub_proxy_event ev, const struct stub_proxy *p)
{
	struct harness *h = arg;
	struct proxy_event *e;

	assert_true(h->n_events < EVENTS_MAX);
	e = &h->events[h->n_events++];
	e->ev = ev;
	e->family = p->family;
	memcpy(e->addr, p->addr, 16);
	assert_true(dns_name_to_text(p->name, e->name, sizeof(e->name)) > 0);
	e->resource_id = p->resource_id;
	e->answered_before = pending_replies(h);
}

static struct stub_resolver h_resolver = { .send = h_send, .cancel = h_cancel };

static void h_watch(struct harness *h, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	assert_int_equal(epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev), 0);
}

/* The stub on a free loopback port (UDP and TCP), an upstream nobody answers. */
static void h_setup(struct harness *h, unsigned timeout_ms, unsigned offer_size)
{
	static struct sockaddr_storage sentinel, upstream;
	struct stub_config cfg = { .sentinels = &sentinel, .upstreams = &upstream, .n = 1,
				   .timeout_ms = timeout_ms, .resolver = &h_resolver,
				   .offer_size = offer_size, .on_proxy = h_on_proxy,
				   .proxy_arg = h };
	struct pool_config pc;
	struct sockaddr_in up = { .sin_family = AF_INET, .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r = -1;

	memset(h, 0, sizeof(*h));
	h_resolver.arg = h;
	pool_config_default(&pc);
	assert_int_equal(pool_new(&h->pool, &pc), 0);
	cfg.pool = h->pool;
	memcpy(&upstream, &up, sizeof(up));
	/* a port free for UDP now may be taken for TCP: try a few */
	for (int i = 0; i < 20 && r < 0; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		socklen_t len = sizeof(h->sen);

		h->sen = (struct sockaddr_in){ .sin_family = AF_INET,
					       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		assert_true(fd >= 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&h->sen, sizeof(h->sen)), 0);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&h->sen, &len), 0);
		close(fd);
		memcpy(&sentinel, &h->sen, sizeof(h->sen));
		r = stub_new(&cfg, &h->stub);
	}
	assert_int_equal(r, 0);
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(h->ep >= 0);
	h_watch(h, stub_fd(h->stub));
}

static void h_teardown(struct harness *h)
{
	stub_free(h->stub);
	for (unsigned i = 0; i < h->n_asker_fds; i++)
		close(h->asker_fds[i]);
	close(h->ep);
	pool_free(h->pool);
}

/* Turns the owner's loop until cond(h, arg) holds; fails past WAIT_MS. */
static void h_turn(struct harness *h, bool (*cond)(struct harness *h, const void *arg),
		   const void *arg)
{
	uint64_t end = time_mono_ns() + (uint64_t)WAIT_MS * NSEC_PER_MSEC;

	while (!cond(h, arg)) {
		struct epoll_event ev[8];

		assert_true(epoll_wait(h->ep, ev, 8, 20) >= 0);
		assert_int_equal(stub_dispatch(h->stub), 0);
		if (time_mono_ns() > end)
			fail_msg("condition not reached within %d ms", WAIT_MS);
	}
}

static bool fd_readable(struct harness *h, const void *arg)
{
	uint8_t b;

	(void)h;
	return recv(*(const int *)arg, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static bool sent_reaches(struct harness *h, const void *arg)
{
	return h->n_sent >= *(const unsigned *)arg;
}

static bool tcp_queries_reach(struct harness *h, const void *arg)
{
	struct stub_stats st;

	stub_get_stats(h->stub, &st);
	return st.queries_tcp >= *(const unsigned *)arg;
}

static bool cancel_reaches(struct harness *h, const void *arg)
{
	return h->n_cancel >= *(const unsigned *)arg;
}

/* A query for name (dotted) of type, RD set, no EDNS. */
static size_t h_query(uint8_t *q, uint16_t id, const char *name, uint16_t type)
{
	struct dns_query dq = { .id = id, .flags = DNS_F_RD,
				.q = { .type = type, .cls = DNS_C_IN } };
	struct dns_msg m;
	size_t len;
	bool trunc;

	assert_int_equal(dns_name_from_text(&dq.q.name, name), 0);
	dns_msg_init(&m);
	m.id = id;
	m.flags = DNS_F_RD;
	m.has_question = true;
	m.q = dq.q;
	assert_int_equal(dns_msg_write(&m, q, 512, 512, &len, &trunc), 0);
	dns_msg_free(&m);
	return len;
}

/* A UDP asker: sends the query; the socket is watched and kept. */
static int h_ask_udp(struct harness *h, uint16_t id, const char *name, uint16_t type)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint8_t q[512];
	size_t len = h_query(q, id, name, type);

	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, q, len, 0, (struct sockaddr *)&h->sen, sizeof(h->sen)),
			 (ssize_t)len);
	h_watch(h, fd);
	assert_true(h->n_asker_fds < 8);
	h->asker_fds[h->n_asker_fds++] = fd;
	return fd;
}

static int h_ask_tcp(struct harness *h, uint16_t id, const char *name, uint16_t type)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint8_t q[514];
	size_t len = h_query(q + 2, id, name, type);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&h->sen, sizeof(h->sen)), 0);
	q[0] = (uint8_t)(len >> 8);
	q[1] = (uint8_t)len;
	assert_int_equal(send(fd, q, len + 2, 0), (ssize_t)(len + 2));
	h_watch(h, fd);
	assert_true(h->n_asker_fds < 8);
	h->asker_fds[h->n_asker_fds++] = fd;
	return fd;
}

/* Waits for the asker's reply and parses it into m. */
static void h_reply(struct harness *h, int fd, bool tcp, struct dns_msg *m)
{
	uint8_t buf[4096];
	ssize_t n;
	size_t got = 0;

	h_turn(h, fd_readable, &fd);
	if (!tcp) {
		n = recv(fd, buf, sizeof(buf), 0);
		assert_true(n > 0);
		got = (size_t)n;
	} else {
		size_t want = 2;

		/* a short answer arrives whole on loopback; read the frame out */
		while (got < want) {
			n = recv(fd, buf + got, want - got, 0);
			assert_true(n > 0);
			got += (size_t)n;
			if (got == 2)
				want = 2 + ((size_t)buf[0] << 8 | buf[1]);
		}
		memmove(buf, buf + 2, got - 2);
		got -= 2;
	}
	h->answers_read++;
	assert_int_equal(dns_msg_parse(m, buf, got), 0);
}

static void h_wait_sent(struct harness *h, unsigned n)
{
	h_turn(h, sent_reaches, &n);
}

/* The gateway's answer to sent query sq: A or AAAA records of the addresses
 * given as text ("" ends the list). */
static size_t h_answer(const struct sent_query *sq, const char *const *addrs, uint8_t *out,
		       size_t cap)
{
	struct dns_rr rr[16];
	uint8_t data[16][16];
	size_t n = 0, len;

	for (; addrs[n] && addrs[n][0]; n++) {
		int family = strchr(addrs[n], ':') ? AF_INET6 : AF_INET;

		assert_true(n < 16);
		assert_int_equal(inet_pton(family, addrs[n], data[n]), 1);
		rr[n] = (struct dns_rr){ .name = sq->q.q.name, .cls = DNS_C_IN, .ttl = 300,
					 .type = family == AF_INET ? DNS_T_A : DNS_T_AAAA,
					 .rdlen = family == AF_INET ? 4 : 16, .rdata = data[n] };
	}
	assert_int_equal(dns_reply_write(&sq->q, DNS_RCODE_NOERROR, rr, n, out, cap, cap, &len),
			 0);
	return len;
}

static void h_give(struct harness *h, const struct sent_query *sq, const char *const *addrs)
{
	uint8_t buf[2048];
	size_t len = h_answer(sq, addrs, buf, sizeof(buf));

	stub_resource_answer(h->stub, sq->token, buf, len);
}

static const char *ntop(int family, const void *a, char *buf)
{
	return inet_ntop(family, a, buf, INET6_ADDRSTRLEN);
}

/* The addresses of m's A/AAAA answers, as text, joined by spaces. */
static void h_addrs(const struct dns_msg *m, char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < m->count[0]; i++) {
		char a[INET6_ADDRSTRLEN];
		const struct dns_rr *rr = &m->rr[i];

		if (rr->type != DNS_T_A && rr->type != DNS_T_AAAA)
			continue;
		ntop(rr->type == DNS_T_A ? AF_INET : AF_INET6, rr->rdata, a);
		if (out[0])
			strncat(out, " ", cap - strlen(out) - 1);
		strncat(out, a, cap - strlen(out) - 1);
	}
}

/* The offer's IPv4 (family AF_INET) or IPv6 entry i as text. */
static const char *offer_at(const struct offer *o, int family, unsigned i, char *buf)
{
	return ntop(family, family == AF_INET ? (const void *)o->v4[i] : (const void *)o->v6[i],
		    buf);
}

#endif
