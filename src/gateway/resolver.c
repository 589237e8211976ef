/* c-ares in the daemon's loop: its sockets in an epoll set of ours (through
 * ARES_OPT_SOCK_STATE_CB), the questions in flight in a table keyed with
 * SipHash under a random key (clients choose the names), and the callers
 * waiting on each in a table by id, so that a cancel finds its waiter. */
#include "gateway/resolver.h"

#include <ares.h>
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "dns/cache.h"
#include "lib/cursor.h"
#include "lib/log.h"
#include "lib/time.h"

enum {
	QUERY_MAX = DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11, /* question and a bare OPT */
	HIT_MAX = 8192,   /* a cached answer: the cache keeps bodies up to 4 KiB */
	EVENTS_MAX = 32,
};

struct waiter {
	struct waiter *id_next;          /* in r->by_id */
	struct waiter *prev, *next;      /* in its question's list */
	struct question *qn;
	uint64_t id;
	resolver_cb cb;
	void *arg;
};

/* One upstream query, and who waits for it. */
struct question {
	struct question *next;           /* in r->by_q, while it takes waiters */
	struct dns_name name;            /* lowercased */
	uint16_t type;
	uint64_t hash;
	struct waiter *waiters;
	unsigned n_waiters;
	bool hashed;
	bool sending, failed_now;        /* inside ares_send; it failed there */
	int err_now;
};

struct resolver {
	struct resolver_config cfg;
	ares_channel ch;
	int ep;
	struct question **by_q;
	struct waiter **by_id;
	size_t mask;                     /* buckets - 1, both tables */
	unsigned inflight;               /* questions sent and not yet answered */
	uint64_t next_id;
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct dns_cache *cache;
	struct dns_msg msg;              /* answers parsed for the cache */
	struct resolver_stats st;
	struct log_ratelimit rl;
};

static uint64_t q_hash(const struct resolver *r, const struct dns_name *lname, uint16_t type)
{
	uint8_t in[2 + DNS_NAME_MAX], out[crypto_shorthash_BYTES];
	uint64_t h;

	in[0] = (uint8_t)(type >> 8);
	in[1] = (uint8_t)type;
	memcpy(in + 2, lname->data, lname->len);
	crypto_shorthash(out, in, 2 + (size_t)lname->len, r->key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static struct question **q_find(struct resolver *r, const struct dns_name *lname, uint16_t type,
				uint64_t h)
{
	struct question **pp = &r->by_q[h & r->mask];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->type == type && (*pp)->name.len == lname->len &&
		    memcmp((*pp)->name.data, lname->data, lname->len) == 0)
			break;
	return pp;
}

static void q_unhash(struct resolver *r, struct question *qn)
{
	struct question **pp = &r->by_q[qn->hash & r->mask];

	if (!qn->hashed)
		return;
	while (*pp != qn)
		pp = &(*pp)->next;
	*pp = qn->next;
	qn->hashed = false;
}

static struct waiter **w_find(struct resolver *r, uint64_t id)
{
	struct waiter **pp = &r->by_id[id & r->mask];

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->id_next;
	return pp;
}

/* Takes w out of both tables and frees it. */
static void w_remove(struct resolver *r, struct waiter *w)
{
	struct waiter **pp = w_find(r, w->id);

	if (*pp == w)
		*pp = w->id_next;
	if (w->prev)
		w->prev->next = w->next;
	else
		w->qn->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->qn->n_waiters--;
	free(w);
}

/* ---- c-ares glue ---- */

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	struct epoll_event ev = { .events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u),
				  .data.fd = fd };

	if (!readable && !writable) {
		epoll_ctl(r->ep, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	if (epoll_ctl(r->ep, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT &&
	    epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		log_rl(&r->rl, LOG_LVL_ERR, "resolver: epoll_ctl: %s", strerror(errno));
}

static int ares_err(int status)
{
	switch (status) {
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	case ARES_ECONNREFUSED:
		return -ECONNREFUSED;
	case ARES_ENOMEM:
		return -ENOMEM;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

static void cache_answer(struct resolver *r, const uint8_t *ans, size_t len)
{
	struct dns_msg *m = &r->msg;
	uint16_t rcode;
	uint32_t max;

	if (dns_msg_parse(m, ans, len) < 0 || !m->has_question || (m->flags & DNS_F_TC) ||
	    m->edns.ext_rcode)
		return;
	rcode = m->flags & DNS_F_RCODE_MASK;
	if (rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN)
		return;
	max = r->cfg.max_ttl;
	if (rcode == DNS_RCODE_NXDOMAIN || m->count[DNS_SEC_ANSWER] == 0)
		max = r->cfg.neg_max_ttl;
	/* -EINVAL (nothing to go by, or too big) just means: not kept. */
	dns_cache_put(r->cache, m, 0, max, time_mono_ns());
}

/* What ares_send carries for a question: the question needs its resolver. */
struct sent {
	struct resolver *r;
	struct question *qn;
};

static void finish(struct resolver *r, struct question *qn, int err, const uint8_t *ans,
		   size_t len)
{
	r->inflight--;
	if (err == -ETIMEDOUT)
		r->st.timeouts++;
	else if (err && err != -ECANCELED)
		r->st.errors++;
	if (!err)
		cache_answer(r, ans, len);
	/* Later queries for this question start afresh (or hit the cache);
	 * a callback may cancel other waiters of this one: take them one by one. */
	q_unhash(r, qn);
	while (qn->waiters) {
		struct waiter *w = qn->waiters;
		resolver_cb cb = w->cb;
		void *cb_arg = w->arg;

		w_remove(r, w);
		cb(cb_arg, err, err ? NULL : ans, err ? 0 : len);
	}
	free(qn);
}

static void sent_answered(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct sent *s = arg;
	int err = status == ARES_SUCCESS && abuf && alen > 0 ? 0 : ares_err(status);

	(void)timeouts;
	if (s->qn->sending) {
		/* Failed inside ares_send: resolver_query reports it and frees s. */
		s->qn->failed_now = true;
		s->qn->err_now = err ? err : -EIO;
		return;
	}
	finish(s->r, s->qn, err, abuf, err ? 0 : (size_t)alen);
	free(s);
}

/* ---- life ---- */

int resolver_new(const struct resolver_config *cfg, struct resolver **out)
{
	struct ares_options o = { 0 };
	struct resolver *r;
	size_t buckets = 16;
	int optmask = ARES_OPT_FLAGS | ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
		      ARES_OPT_TRIES, rc, err = -ENOMEM;

	if (sodium_init() < 0)
		return -EIO;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	if (!r->cfg.timeout_ms)
		r->cfg.timeout_ms = 1000;
	if (!r->cfg.tries)
		r->cfg.tries = 2;
	if (!r->cfg.max_inflight)
		r->cfg.max_inflight = 1024;
	if (!r->cfg.cache_max)
		r->cfg.cache_max = 10000;
	if (!r->cfg.max_ttl)
		r->cfg.max_ttl = 3600;
	if (!r->cfg.neg_max_ttl)
		r->cfg.neg_max_ttl = 300;
	r->cfg.servers = NULL; /* not kept: the caller's string */
	r->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	r->next_id = 1;
	r->ep = -1;
	dns_msg_init(&r->msg);
	randombytes_buf(r->key, sizeof(r->key));
	while (buckets < (size_t)r->cfg.max_inflight * 2)
		buckets *= 2;
	r->mask = buckets - 1;
	r->by_q = calloc(buckets, sizeof(*r->by_q));
	r->by_id = calloc(buckets, sizeof(*r->by_id));
	if (!r->by_q || !r->by_id)
		goto fail;
	if ((err = dns_cache_new(&r->cache, r->cfg.cache_max)) < 0)
		goto fail;
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->ep < 0) {
		err = -errno;
		goto fail;
	}
	err = -EIO;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		goto fail;
	/* NOCHECKRESP: a SERVFAIL or REFUSED is the private DNS's answer to pass on. */
	o.flags = ARES_FLAG_NOCHECKRESP;
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = r;
	o.timeout = (int)r->cfg.timeout_ms;
	o.tries = (int)r->cfg.tries;
	rc = ares_init_options(&r->ch, &o, optmask);
	if (rc != ARES_SUCCESS) {
		ares_library_cleanup();
		err = rc == ARES_ENOMEM ? -ENOMEM : -EIO;
		goto fail;
	}
	if (cfg->servers && ares_set_servers_ports_csv(r->ch, cfg->servers) != ARES_SUCCESS) {
		err = -EINVAL;
		goto fail_ch;
	}
	*out = r;
	return 0;
fail_ch:
	ares_destroy(r->ch);
	ares_library_cleanup();
fail:
	if (r->ep >= 0)
		close(r->ep);
	dns_cache_free(r->cache);
	free(r->by_id);
	free(r->by_q);
	free(r);
	return err;
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	/* Drop every waiter first: ares_destroy calls back with EDESTRUCTION,
	 * which then only frees the questions. */
	for (size_t b = 0; b <= r->mask; b++)
		while (r->by_id[b])
			w_remove(r, r->by_id[b]);
	ares_destroy(r->ch);
	ares_library_cleanup();
	close(r->ep);
	dns_cache_free(r->cache);
	dns_msg_free(&r->msg);
	free(r->by_id);
	free(r->by_q);
	free(r);
}

/* ---- queries ---- */

static size_t build_query(uint8_t *buf, const struct dns_name *name, uint16_t type)
{
	struct cursor c;

	cur_init(&c, buf, QUERY_MAX);
	cur_put_be16(&c, 0);          /* ID: ares_send picks one */
	cur_put_be16(&c, DNS_F_RD);
	cur_put_be16(&c, 1);
	cur_put_be16(&c, 0);
	cur_put_be16(&c, 0);
	cur_put_be16(&c, 1);
	cur_put_bytes(&c, name->data, name->len);
	cur_put_be16(&c, type);
	cur_put_be16(&c, DNS_C_IN);
	/* OPT: root, type, our UDP size, no extended rcode, version 0, no options. */
	cur_put_u8(&c, 0);
	cur_put_be16(&c, DNS_T_OPT);
	cur_put_be16(&c, DNS_EDNS_MAX);
	cur_put_be32(&c, 0);
	cur_put_be16(&c, 0);
	return c.err ? 0 : c.pos;
}

static int cache_hit(struct resolver *r, const struct dns_name *name, uint16_t type,
		     const uint8_t *query, resolver_cb cb, void *arg)
{
	uint8_t buf[HIT_MAX];
	struct dns_query dq = { .flags = DNS_F_RD };
	int len;

	dq.q.name = *name;
	dq.q.type = type;
	dq.q.cls = DNS_C_IN;
	dq.question_end = DNS_HDR_LEN + (size_t)name->len + 4;
	len = dns_cache_answer(r->cache, query, &dq, buf, sizeof(buf), sizeof(buf), time_mono_ns());
	if (len <= 0)
		return 0;
	r->st.cache_hits++;
	cb(arg, 0, buf, (size_t)len);
	return 1;
}

static struct waiter *add_waiter(struct resolver *r, struct question *qn, resolver_cb cb,
				 void *arg)
{
	struct waiter *w = calloc(1, sizeof(*w)), **pp;

	if (!w)
		return NULL;
	w->qn = qn;
	w->id = r->next_id++;
	w->cb = cb;
	w->arg = arg;
	w->next = qn->waiters;
	if (qn->waiters)
		qn->waiters->prev = w;
	qn->waiters = w;
	qn->n_waiters++;
	pp = &r->by_id[w->id & r->mask];
	w->id_next = *pp;
	*pp = w;
	return w;
}

int resolver_query(struct resolver *r, const struct dns_name *name, uint16_t qtype,
		   resolver_cb cb, void *arg, uint64_t *id)
{
	uint8_t query[QUERY_MAX];
	struct dns_name lname;
	struct question *qn, **pp;
	struct waiter *w;
	struct sent *s;
	size_t qlen;
	uint64_t h;

	*id = 0;
	r->st.queries++;
	if (!name || name->len == 0)
		return -EINVAL;
	lname = *name;
	dns_name_lower(&lname);
	qlen = build_query(query, &lname, qtype);
	if (!qlen)
		return -EINVAL;
	if (cache_hit(r, &lname, qtype, query, cb, arg))
		return 1;

	h = q_hash(r, &lname, qtype);
	pp = q_find(r, &lname, qtype, h);
	if (*pp) {
		qn = *pp;
		if (qn->n_waiters >= RESOLVER_WAITERS_MAX) {
			r->st.busy++;
			return -EBUSY;
		}
		if (!(w = add_waiter(r, qn, cb, arg)))
			return -ENOMEM;
		r->st.coalesced++;
		*id = w->id;
		return 0;
	}
	if (r->inflight >= r->cfg.max_inflight) {
		r->st.busy++;
		return -EBUSY;
	}
	qn = calloc(1, sizeof(*qn));
	s = calloc(1, sizeof(*s));
	if (!qn || !s) {
		free(qn);
		free(s);
		return -ENOMEM;
	}
	qn->name = lname;
	qn->type = qtype;
	qn->hash = h;
	s->r = r;
	s->qn = qn;
	/* c-ares may fail (and call back) before ares_send returns. */
	qn->sending = true;
	ares_send(r->ch, query, (int)qlen, sent_answered, s);
	qn->sending = false;
	if (qn->failed_now) {
		int err = qn->err_now;

		r->st.errors++;
		free(s);
		free(qn);
		return err;
	}
	r->st.upstream++;
	r->inflight++;
	qn->next = *pp;
	*pp = qn;
	qn->hashed = true;
	w = add_waiter(r, qn, cb, arg);
	if (!w)
		return -ENOMEM; /* the question runs on, for the cache */
	*id = w->id;
	return 0;
}

void resolver_cancel(struct resolver *r, uint64_t id)
{
	struct waiter **pp;

	if (!id)
		return;
	pp = w_find(r, id);
	if (*pp)
		w_remove(r, *pp);
}

/* ---- the loop ---- */

int resolver_fd(const struct resolver *r)
{
	return r->ep;
}

void resolver_dispatch(struct resolver *r)
{
	struct epoll_event ev[EVENTS_MAX];
	int n = epoll_wait(r->ep, ev, EVENTS_MAX, 0);

	for (int i = 0; i < n; i++) {
		ares_socket_t fd = ev[i].data.fd;
		bool rd = ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP);
		bool wr = ev[i].events & EPOLLOUT;

		ares_process_fd(r->ch, rd ? fd : ARES_SOCKET_BAD, wr ? fd : ARES_SOCKET_BAD);
	}
	/* Timeouts (and nothing else). */
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

int resolver_timeout_ms(const struct resolver *r)
{
	struct timeval tv, *tvp = ares_timeout(r->ch, NULL, &tv);
	long long ms;

	if (!tvp)
		return -1;
	ms = (long long)tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}

void resolver_get_stats(const struct resolver *r, struct resolver_stats *out)
{
	*out = r->st;
}

size_t resolver_cache_count(const struct resolver *r)
{
	return dns_cache_count(r->cache);
}
