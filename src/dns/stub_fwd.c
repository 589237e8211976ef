/* Forwarding a query, unchanged but for its ID, to the upstream behind the
 * sentinel it came to, over the transport it came on (RFC 5452 checks: see
 * stub.h), and relaying the answer.
 *
 * UDP forwards share sockets: each sentinel has a current connected socket on a
 * kernel-chosen random port, used by at most FSOCK_USES queries within
 * FSOCK_AGE_MS, then replaced by a fresh one; a replaced socket closes once its
 * last query is answered or timed out. The IDs in flight on one socket are
 * distinct. What an off-path spoofer must hit is unchanged: one of the (port,
 * ID) pairs in flight, and there are exactly as many as queries in flight, as
 * with a socket per query; a port merely stays open a little longer (at most
 * FSOCK_AGE_MS plus the timeout). In exchange the socket, connect, epoll and
 * close calls are paid once per FSOCK_USES queries, and queries and answers
 * move in batches (sendmmsg, recvmmsg). TCP forwards keep a connection each. */
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

static void fsock_close(struct stub *s, struct stub_fsock *fs)
{
	close(fs->fd); /* also leaves the epoll set */
	stub_bury(s, &fs->w);
}

static void fwd_free(struct stub *s, struct stub_fwd *f)
{
	struct stub_fsock *fs = f->fs;

	fwd_unlink(s, f);
	if (f->fd >= 0)
		close(f->fd); /* also leaves the epoll set */
	if (fs) {
		fs->slot[f->slot] = NULL;
		if (--fs->inflight == 0 && fs->retired)
			fsock_close(s, fs);
	}
	if (f->cl.conn)
		stub_conn_release(s, f->cl.conn);
	buf_free(&f->out);
	buf_free(&f->in);
	/* An event for it may still wait in this epoll batch. */
	stub_bury(s, &f->w);
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
 * address and port are the kernel's to check, the socket being connected. An
 * answer cut short by our buffer (cut) is judged by its header and question. */
static bool answer_matches(const struct stub_fwd *f, const uint8_t *ans, size_t len, bool cut)
{
	struct dns_query aq;

	if (cut) {
		size_t p = DNS_HDR_LEN;

		if (len < DNS_HDR_LEN || !(ans[DNS_OFF_FLAGS] & 0x80) ||
		    ans[DNS_OFF_QDCOUNT] != 0 || ans[DNS_OFF_QDCOUNT + 1] != 1 ||
		    dns_name_read(ans, len, &p, &aq.q.name) < 0 || len - p < 4)
			return false;
		aq.id = (uint16_t)(ans[DNS_OFF_ID] << 8 | ans[DNS_OFF_ID + 1]);
		aq.q.type = (uint16_t)(ans[p] << 8 | ans[p + 1]);
		aq.q.cls = (uint16_t)(ans[p + 2] << 8 | ans[p + 3]);
	} else if (dns_reply_parse(ans, len, &aq) < 0) {
		return false;
	}
	return aq.id == f->new_id && aq.q.type == f->q.type && aq.q.cls == f->q.cls &&
	       dns_name_equal(&aq.q.name, &f->q.name);
}

static int upstream_socket(const struct stub_sentinel *sen, int type)
{
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

static void fsock_retire(struct stub *s, struct stub_sentinel *sen)
{
	struct stub_fsock *fs = sen->fsock;

	sen->fsock = NULL;
	fs->retired = true;
	if (fs->inflight == 0)
		fsock_close(s, fs);
}

/* The socket for a new UDP forward to sen's upstream. */
static struct stub_fsock *fsock_get(struct stub *s, struct stub_sentinel *sen, uint64_t now)
{
	struct stub_fsock *fs = sen->fsock;

	if (fs && fs->uses < FSOCK_USES && now - fs->born < FSOCK_AGE_MS * 1000000ull)
		return fs;
	if (fs)
		fsock_retire(s, sen);
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->w.kind = W_FSOCK;
	fs->born = now;
	fs->fd = upstream_socket(sen, SOCK_DGRAM);
	if (fs->fd < 0) {
		free(fs);
		return NULL;
	}
	if (stub_watch(s, fs->fd, EPOLLIN, &fs->w) < 0) {
		close(fs->fd);
		free(fs);
		return NULL;
	}
	sen->fsock = fs;
	return fs;
}

static struct stub_fwd *fsock_find(const struct stub_fsock *fs, uint16_t id)
{
	for (unsigned i = 0; i < fs->uses; i++)
		if (fs->slot[i] && fs->slot[i]->new_id == id)
			return fs->slot[i];
	return NULL;
}

void stub_forward(struct stub *s, struct stub_client *cl, const uint8_t *msg, size_t len,
		  const struct dns_query *q)
{
	uint64_t now = time_mono_ns();
	struct stub_fwd *f;
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
	f->fd = -1;
	f->cl = *cl;
	f->q = q->q;
	f->tcp = cl->conn != NULL;
	f->deadline = now + (uint64_t)s->cfg.timeout_ms * 1000000ull;
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

	if (f->tcp) {
		uint8_t hdr[2];

		f->new_id = stub_rand16(s);
		f->fd = upstream_socket(cl->sen, SOCK_STREAM);
		if (f->fd < 0)
			goto fail;
		put16(hdr, (uint16_t)len);
		if (buf_append(&f->out, hdr, 2) < 0 || buf_append(&f->out, msg, len) < 0)
			goto fail;
		put16(f->out.data + 2 + DNS_OFF_ID, f->new_id);
		r = stub_watch(s, f->fd, EPOLLOUT | EPOLLIN, &f->w);
		if (r < 0)
			goto fail;
	} else {
		struct stub_fsock *fs = fsock_get(s, cl->sen, now);
		uint8_t copy[UDP_QUERY_MAX];

		if (!fs || len > sizeof(copy))
			goto fail;
		do
			f->new_id = stub_rand16(s);
		while (fsock_find(fs, f->new_id));
		f->fs = fs;
		f->slot = fs->uses++;
		fs->slot[f->slot] = f;
		fs->inflight++;
		memcpy(copy, msg, len);
		put16(copy + DNS_OFF_ID, f->new_id);
		stub_udp_queue(s, fs->fd, copy, len);
	}
	s->stats.forwarded++;
	return;
fail:
	log_rl(&s->rl, LOG_LVL_WARN, "dns: forwarding to the upstream failed");
	if (f->tcp)
		stub_reply_rcode(s, cl, q, DNS_RCODE_SERVFAIL);
	fwd_free(s, f);
}

static void fsock_answer(struct stub *s, void *arg, uint8_t *ans, size_t len, bool trunc,
			 const struct sockaddr_storage *from, socklen_t fromlen)
{
	(void)from; /* the socket is connected: the kernel checked address and port */
	(void)fromlen;
	stub_fwd_answer(s, arg, ans, len, trunc);
}

void stub_fwd_answer(struct stub *s, struct stub_fsock *fs, uint8_t *ans, size_t len, bool trunc)
{
	struct stub_fwd *f;

	if (len < DNS_HDR_LEN)
		goto drop;
	f = fsock_find(fs, (uint16_t)(ans[DNS_OFF_ID] << 8 | ans[DNS_OFF_ID + 1]));
	if (!f || !answer_matches(f, ans, len, trunc))
		goto drop;
	/* Longer than we keep: longer than any asker takes over UDP, so relay()
	 * sends header and question with TC, which is all it reads. */
	relay(s, f, ans, trunc ? SIZE_MAX : len);
	fwd_free(s, f);
	return;
drop:
	s->stats.spoofed_dropped++;
	log_rl(&s->rl, LOG_LVL_INFO, "dns: dropped an answer that does not match "
	       "a query in flight (ID or question)");
}

void stub_fsock_event(struct stub *s, struct stub_fsock *fs)
{
	/* An ICMP error (the upstream's port unreachable) reads as an error once:
	 * the queries on the socket then time out, silent as without sluice. */
	(void)stub_udp_recv(s, fs->fd, fsock_answer, fs);
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
			if (!answer_matches(f, f->in.data + 2, want - 2, false)) {
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
	tcp_event(s, f, events);
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

void stub_fwd_retire(struct stub *s, struct stub_sentinel *sen)
{
	if (sen->fsock)
		fsock_retire(s, sen);
}

void stub_fwd_free_all(struct stub *s)
{
	while (s->fwd_head)
		fwd_free(s, s->fwd_head);
	for (size_t i = 0; i < s->n_sen; i++)
		if (s->sen[i].fsock)
			fsock_retire(s, &s->sen[i]);
}
