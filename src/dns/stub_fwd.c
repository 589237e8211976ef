/* Forwarding a query, unchanged but for its ID, to the upstream behind the
 * sentinel it came to, over the transport it came on (RFC 5452 checks: see
 * stub.h), and relaying the answer. */
#include "dns/stub_priv.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/rand.h"
#include "lib/time.h"

enum { FWD_BUF_MAX = 2 + DNS_MSG_MAX };

static void put16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}

static void fwd_unlink(struct stub *s, struct stub_fwd *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		s->fwd_head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		s->fwd_tail = f->prev;
	s->n_fwd--;
}

static void fwd_free(struct stub *s, struct stub_fwd *f)
{
	fwd_unlink(s, f);
	if (f->fd >= 0)
		close(f->fd); /* also leaves the epoll set */
	if (f->cl.conn)
		stub_conn_release(s, f->cl.conn);
	buf_free(&f->out);
	buf_free(&f->in);
	free(f);
}

/* The answer to a forwarded query: checked, then relayed with the asker's ID,
 * cut to header + question (+ OPT) with TC if the asker takes less over UDP. */
static void relay(struct stub *s, struct stub_fwd *f, uint8_t *ans, size_t len)
{
	struct stub_client *cl = &f->cl;

	put16(ans + DNS_OFF_ID, cl->id);
	if (!cl->conn && len > cl->limit) {
		uint8_t buf[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
		size_t qlen = DNS_HDR_LEN + f->q.name.len + 4, n = qlen;
		uint16_t flags;

		/* The question was checked equal in length: copy it as sent. */
		memcpy(buf, ans, qlen);
		memcpy(&flags, ans + DNS_OFF_FLAGS, 2);
		put16(buf + DNS_OFF_FLAGS, (uint16_t)(be16toh(flags) | DNS_F_TC));
		put16(buf + DNS_OFF_ANCOUNT, 0);
		put16(buf + DNS_OFF_NSCOUNT, 0);
		put16(buf + DNS_OFF_ARCOUNT, cl->edns ? 1 : 0);
		if (cl->edns) {
			buf[n] = 0;
			put16(buf + n + 1, DNS_T_OPT);
			put16(buf + n + 3, DNS_EDNS_MAX);
			put16(buf + n + 5, 0);
			put16(buf + n + 7, cl->do_bit ? DNS_EDNS_DO : 0);
			put16(buf + n + 9, 0);
			n += 11;
		}
		s->stats.truncated++;
		stub_reply(s, cl, buf, n);
		return;
	}
	stub_reply(s, cl, ans, len);
}

/* RFC 5452: the right ID and the same question (case-insensitively); the
 * address and port are the kernel's to check, the socket being connected. */
static bool answer_matches(const struct stub_fwd *f, const uint8_t *ans, size_t len)
{
	struct dns_query aq;

	if (dns_reply_parse(ans, len, &aq) < 0)
		return false;
	return aq.id == f->new_id && aq.q.type == f->q.type && aq.q.cls == f->q.cls &&
	       dns_name_equal(&aq.q.name, &f->q.name);
}

static int fwd_socket(struct stub_fwd *f, int type)
{
	struct stub_sentinel *sen = f->cl.sen;
	int fd = socket(sen->upstream.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* Port 0: the kernel picks a random ephemeral port for every socket. */
	if (connect(fd, (struct sockaddr *)&sen->upstream, sen->uplen) < 0 &&
	    errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void stub_forward(struct stub *s, struct stub_client *cl, const uint8_t *msg, size_t len,
		  const struct dns_query *q)
{
	struct stub_fwd *f;
	uint8_t *copy;
	int r;

	if (s->n_fwd >= s->cfg.max_pending) {
		log_rl(&s->rl, LOG_LVL_WARN, "dns: %u queries in flight: refusing more",
		       s->n_fwd);
		stub_reply_rcode(s, cl, q, DNS_RCODE_SERVFAIL);
		return;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return;
	f->w.kind = W_FWD;
	f->cl = *cl;
	f->q = q->q;
	f->tcp = cl->conn != NULL;
	f->new_id = (uint16_t)rand_u32();
	f->deadline = time_mono_ns() + (uint64_t)s->cfg.timeout_ms * 1000000ull;
	buf_init(&f->out, FWD_BUF_MAX);
	buf_init(&f->in, FWD_BUF_MAX);
	/* In deadline order: the newest goes last. */
	f->prev = s->fwd_tail;
	if (s->fwd_tail)
		s->fwd_tail->next = f;
	else
		s->fwd_head = f;
	s->fwd_tail = f;
	s->n_fwd++;
	if (cl->conn)
		cl->conn->pending++;

	f->fd = fwd_socket(f, f->tcp ? SOCK_STREAM : SOCK_DGRAM);
	if (f->fd < 0)
		goto fail;
	if (f->tcp) {
		uint8_t hdr[2];

		put16(hdr, (uint16_t)len);
		if (buf_append(&f->out, hdr, 2) < 0 || buf_append(&f->out, msg, len) < 0)
			goto fail;
		put16(f->out.data + 2 + DNS_OFF_ID, f->new_id);
		r = stub_watch(s, f->fd, EPOLLOUT | EPOLLIN, &f->w);
	} else {
		copy = malloc(len);
		if (!copy)
			goto fail;
		memcpy(copy, msg, len);
		put16(copy + DNS_OFF_ID, f->new_id);
		r = send(f->fd, copy, len, MSG_DONTWAIT) < 0 ? -errno : 0;
		free(copy);
		if (r == 0)
			r = stub_watch(s, f->fd, EPOLLIN, &f->w);
	}
	if (r < 0)
		goto fail;
	s->stats.forwarded++;
	return;
fail:
	log_rl(&s->rl, LOG_LVL_WARN, "dns: forwarding to the upstream failed");
	if (f->tcp)
		stub_reply_rcode(s, cl, q, DNS_RCODE_SERVFAIL);
	fwd_free(s, f);
}

static void udp_event(struct stub *s, struct stub_fwd *f)
{
	uint8_t ans[DNS_MSG_MAX];

	for (;;) {
		ssize_t n = recv(f->fd, ans, sizeof(ans), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* ICMP unreachable from the upstream: like a timeout, no answer. */
			fwd_free(s, f);
			return;
		}
		if (!answer_matches(f, ans, (size_t)n)) {
			s->stats.spoofed_dropped++;
			log_rl(&s->rl, LOG_LVL_INFO, "dns: dropped an answer that does not match "
			       "its query (ID or question)");
			continue;
		}
		relay(s, f, ans, (size_t)n);
		fwd_free(s, f);
		return;
	}
}

static void tcp_event(struct stub *s, struct stub_fwd *f, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN))
		goto fail;
	if (f->out.len) {
		ssize_t n = send(f->fd, f->out.data, f->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN)
			goto fail;
		if (n > 0)
			buf_consume(&f->out, (size_t)n);
		if (!f->out.len)
			stub_rewatch(s, f->fd, EPOLLIN, &f->w);
	}
	if (events & EPOLLIN) {
		for (;;) {
			uint8_t tmp[16384];
			ssize_t n = recv(f->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
			size_t want;

			if (n == 0)
				goto fail;
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				goto fail;
			}
			if (buf_append(&f->in, tmp, (size_t)n) < 0)
				goto fail;
			if (f->in.len < 2)
				continue;
			want = 2 + ((size_t)f->in.data[0] << 8 | f->in.data[1]);
			if (f->in.len < want)
				continue;
			if (!answer_matches(f, f->in.data + 2, want - 2)) {
				s->stats.spoofed_dropped++;
				goto fail;
			}
			relay(s, f, f->in.data + 2, want - 2);
			fwd_free(s, f);
			return;
		}
	}
	return;
fail:
	/* Over TCP the asker is owed an answer. */
	{
		struct dns_query q = { .id = f->cl.id, .q = f->q, .flags = DNS_F_RD };

		q.edns.present = f->cl.edns;
		q.edns.do_bit = f->cl.do_bit;
		stub_reply_rcode(s, &f->cl, &q, DNS_RCODE_SERVFAIL);
	}
	fwd_free(s, f);
}

void stub_fwd_event(struct stub *s, struct stub_fwd *f, uint32_t events)
{
	if (f->tcp)
		tcp_event(s, f, events);
	else
		udp_event(s, f);
}

void stub_fwd_expire(struct stub *s, uint64_t now)
{
	while (s->fwd_head && s->fwd_head->deadline <= now) {
		struct stub_fwd *f = s->fwd_head;

		s->stats.timeouts++;
		/* UDP: silence, so the application retries as without sluice;
		 * TCP: SERVFAIL, since the asker waits on the connection. */
		if (f->tcp) {
			struct dns_query q = { .id = f->cl.id, .q = f->q, .flags = DNS_F_RD };

			q.edns.present = f->cl.edns;
			q.edns.do_bit = f->cl.do_bit;
			stub_reply_rcode(s, &f->cl, &q, DNS_RCODE_SERVFAIL);
		}
		fwd_free(s, f);
	}
}

void stub_fwd_free_all(struct stub *s)
{
	while (s->fwd_head)
		fwd_free(s, s->fwd_head);
}
