/* Resource names in the stub: matching, local answers (HTTPS/SVCB, PTR for a
 * proxy IP), the cache, and the round trip to the resource resolver (the
 * gateway) with an offer of proxy IPs from the pool. docs/ARCHITECTURE.md, steps 4–6. */
#include "dns/stub_priv.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/cache.h"
#include "dns/offer.h"
#include "dns/pool.h"
#include "dns/restable.h"
#include "lib/rand.h"
#include "lib/time.h"

enum {
	RES_WAITERS_MAX = 16,   /* identical queries answered by one round trip */
	TUNNEL_QUERY_MAX = DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11 + OFFER_OPT_MAX,
};

struct res_waiter {
	struct stub_client cl;
	struct dns_name qname; /* as this asker spelled it */
};

struct res_pending {
	struct res_pending *next;
	uint64_t token;
	uint64_t resource_id;
	uint64_t deadline;
	struct dns_question q;
	uint16_t id_sent;
	struct offer offer;            /* the name's proxy IPs first: nb4, nb6 of them */
	uint8_t nb4, nb6;
	struct res_waiter w[RES_WAITERS_MAX];
	unsigned n_w;
};

int stub_res_init(struct stub *s)
{
	int r = stub_proxy_init(s);

	if (r < 0)
		return r;
	r = restable_new(&s->resources, 100000);
	if (r < 0)
		return r;
	r = dns_cache_new(&s->cache, s->cfg.cache_max ? s->cfg.cache_max : 10000);
	if (r < 0)
		return r;
	dns_msg_init(&s->res_msg);
	return 0;
}

/* How pending_release answers the askers: not at all (answered already, or the
 * stub goes away), SERVFAIL over TCP only (a timeout: the UDP asker retries as
 * it would without sluice; the TCP one waits on its connection), or rcode >= 0
 * to every asker. */
enum { REPLY_NONE = -1, REPLY_TCP_SERVFAIL = -2 };

/* Frees p, unlinked already: its fresh offer back to the pool, its askers
 * answered as reply says, the resolver told to forget it if cancel. */
static void pending_release(struct stub *s, struct res_pending *p, int reply, bool cancel)
{
	if (cancel && s->cfg.resolver && s->cfg.resolver->cancel)
		s->cfg.resolver->cancel(s->cfg.resolver->arg, p->token);
	/* the name's own proxy IPs (the first nb) stay bound */
	for (unsigned i = p->nb4; i < p->offer.n4; i++)
		pool_return(s->cfg.pool, AF_INET, p->offer.v4[i]);
	for (unsigned i = p->nb6; i < p->offer.n6; i++)
		pool_return(s->cfg.pool, AF_INET6, p->offer.v6[i]);
	for (unsigned i = 0; i < p->n_w; i++) {
		struct stub_client *cl = &p->w[i].cl;
		int rcode = reply == REPLY_TCP_SERVFAIL && cl->conn ? DNS_RCODE_SERVFAIL : reply;

		if (rcode >= 0) {
			struct dns_query q = { .id = cl->id, .flags = DNS_F_RD, .q = p->q };

			q.q.name = p->w[i].qname;
			q.edns.present = cl->edns;
			q.edns.do_bit = cl->do_bit;
			stub_reply_rcode(s, cl, &q, (uint16_t)rcode);
		}
		if (cl->conn)
			stub_conn_release(s, cl->conn);
	}
	free(p);
	s->n_res_pending--;
}

/* Unlinks and returns the query in flight with token, or NULL. */
static struct res_pending *pending_take(struct stub *s, uint64_t token)
{
	struct res_pending **pp, *p;

	for (pp = &s->res_pending; *pp && (*pp)->token != token; pp = &(*pp)->next)
		;
	p = *pp;
	if (p)
		*pp = p->next;
	return p;
}

void stub_res_free(struct stub *s)
{
	while (s->res_pending) {
		struct res_pending *p = s->res_pending;

		s->res_pending = p->next;
		pending_release(s, p, REPLY_NONE, true);
	}
	stub_proxy_free_all(s);
	restable_free(s->resources);
	dns_cache_free(s->cache);
	dns_msg_free(&s->res_msg);
}

void stub_res_expire(struct stub *s, uint64_t now)
{
	for (struct res_pending **pp = &s->res_pending; *pp;) {
		struct res_pending *p = *pp;

		if (now < p->deadline) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		s->stats.timeouts++;
		pending_release(s, p, REPLY_TCP_SERVFAIL, true);
	}
}

int stub_resource_set(struct stub *s, uint64_t id, const char *pattern, char *err, size_t errlen)
{
	int r = restable_put(s->resources, id, pattern, NULL, err, errlen);

	/* A changed pattern may no longer cover what was cached for it. */
	if (r == 0)
		dns_cache_forget_resource(s->cache, id);
	return r;
}

int stub_resource_remove(struct stub *s, uint64_t id)
{
	dns_cache_forget_resource(s->cache, id);
	/* its queries first: their offers may hold the proxy IPs freed below */
	for (struct res_pending **pp = &s->res_pending; *pp;) {
		struct res_pending *p = *pp;

		if (p->resource_id != id) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		pending_release(s, p, DNS_RCODE_SERVFAIL, true);
	}
	stub_proxy_free_resource(s, id);
	return restable_remove(s->resources, id);
}

void stub_resource_flush(struct stub *s, uint64_t id)
{
	dns_cache_forget_resource(s->cache, id);
}

void stub_resource_fail(struct stub *s, uint64_t token, uint16_t rcode)
{
	struct res_pending *p = pending_take(s, token);

	if (!p)
		return;
	s->stats.resource_failed++;
	pending_release(s, p, rcode, false);
}

/* in-addr.arpa / ip6.arpa names of proxy IPs, for PTR. */
static int reverse_addr(const struct dns_name *n, int *family, uint8_t addr[16])
{
	char text[DNS_NAME_TEXT_MAX];
	unsigned o[4];
	int len = dns_name_to_text(n, text, sizeof(text));

	if (len < 0)
		return -EINVAL;
	if (len > 13 && strcasecmp(text + len - 13, ".in-addr.arpa") == 0) {
		char tail;

		text[len - 13] = '\0';
		if (sscanf(text, "%3u.%3u.%3u.%3u%c", &o[3], &o[2], &o[1], &o[0], &tail) != 4 ||
		    o[0] > 255 || o[1] > 255 || o[2] > 255 || o[3] > 255)
			return -EINVAL;
		for (int i = 0; i < 4; i++)
			addr[i] = (uint8_t)o[i];
		*family = AF_INET;
		return 0;
	}
	if (len == 72 && strcasecmp(text + 63, ".ip6.arpa") == 0) {
		for (int i = 0; i < 32; i++) {
			char c = text[2 * i];
			int v = c >= '0' && c <= '9' ? c - '0' :
				(c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;

			if (v < 0 || (i < 31 && text[2 * i + 1] != '.'))
				return -EINVAL;
			if (i & 1)
				addr[15 - i / 2] |= (uint8_t)(v << 4);
			else
				addr[15 - i / 2] = (uint8_t)v;
		}
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static bool answer_ptr(struct stub *s, struct stub_client *cl, const struct dns_query *q)
{
	uint8_t addr[16], buf[DNS_HDR_LEN + 2 * DNS_NAME_MAX + 64];
	struct dns_name name;
	struct dns_rr rr = { .name = q->q.name, .type = DNS_T_PTR, .cls = DNS_C_IN, .ttl = 60 };
	size_t len;
	int family;

	if (q->q.type != DNS_T_PTR || reverse_addr(&q->q.name, &family, addr) < 0 ||
	    stub_proxy_lookup(s, family, addr, &name, NULL) < 0)
		return false;
	rr.rdata = name.data;
	rr.rdlen = name.len;
	if (dns_reply_write(q, DNS_RCODE_NOERROR, &rr, 1, buf, sizeof(buf), cl->limit, &len) == 0)
		stub_reply(s, cl, buf, len);
	s->stats.answered_local++;
	return true;
}

static struct res_pending *pending_find(struct stub *s, const struct dns_question *q)
{
	for (struct res_pending *p = s->res_pending; p; p = p->next)
		if (p->q.type == q->type && p->q.cls == q->cls && dns_name_equal(&p->q.name, &q->name))
			return p;
	return NULL;
}

static void pending_add_waiter(struct res_pending *p, struct stub_client *cl,
			       const struct dns_query *q)
{
	struct res_waiter *w = &p->w[p->n_w++];

	w->cl = *cl;
	w->qname = q->q.name;
	if (cl->conn)
		cl->conn->pending++;
}

/* Builds the tunnelled query: the question as asked, RD, and an OPT record
 * carrying the offer; then hands it to the resolver. */
static int pending_send(struct stub *s, struct res_pending *p)
{
	struct dns_query tq = { .id = p->id_sent, .flags = DNS_F_RD, .q = p->q };
	uint8_t optbuf[OFFER_OPT_MAX], msg[TUNNEL_QUERY_MAX];
	struct dns_msg m;
	size_t len;
	bool trunc;
	int r;

	tq.edns.present = true;
	r = offer_edns_set(&tq.edns, &p->offer, optbuf, sizeof(optbuf));
	if (r < 0)
		return r;
	dns_msg_init(&m);
	m.id = tq.id;
	m.flags = tq.flags;
	m.has_question = true;
	m.q = tq.q;
	m.edns = tq.edns;
	r = dns_msg_write(&m, msg, sizeof(msg), sizeof(msg), &len, &trunc);
	if (r < 0)
		return r;
	return s->cfg.resolver->send(s->cfg.resolver->arg, p->token, p->resource_id, msg, len);
}

/* A query in flight for q of resource res_id, not linked yet, with its offer for
 * an A/AAAA question: the name's proxy IPs of the family first, in the order
 * they were bound, then fresh ones from the pool, offer_size in all. NULL and
 * *err when the pool has nothing to offer (or memory is short). */
static struct res_pending *pending_new(struct stub *s, uint64_t res_id,
				       const struct dns_question *q, int *err)
{
	struct res_pending *p;
	int family, n;
	unsigned want, nb, max;
	uint8_t *out;

	if (s->n_res_pending >= s->cfg.max_pending) {
		*err = -ENOBUFS;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	p->token = ++s->next_token;
	p->resource_id = res_id;
	p->q = *q;
	p->id_sent = (uint16_t)rand_u32();
	p->deadline = time_mono_ns() + (uint64_t)s->cfg.timeout_ms * 1000000ull;
	if (q->type != DNS_T_A && q->type != DNS_T_AAAA)
		return p;
	family = q->type == DNS_T_A ? AF_INET : AF_INET6;
	max = family == AF_INET ? OFFER_MAX4 : OFFER_MAX6;
	want = s->cfg.offer_size ? s->cfg.offer_size : 8;
	if (want > max)
		want = max;
	out = family == AF_INET ? &p->offer.v4[0][0] : &p->offer.v6[0][0];
	nb = stub_proxy_of_name(s, &q->name, family, out, want);
	n = nb < want ? pool_take(s->cfg.pool, family, want - nb,
				  out + nb * (family == AF_INET ? 4 : 16)) : 0;
	if (n < 0 && nb == 0) {
		free(p);
		*err = n;
		return NULL;
	}
	n = n < 0 ? 0 : n; /* the name's own proxy IPs are offer enough */
	if (family == AF_INET) {
		p->nb4 = (uint8_t)nb;
		p->offer.n4 = (uint8_t)(nb + (unsigned)n);
	} else {
		p->nb6 = (uint8_t)nb;
		p->offer.n6 = (uint8_t)(nb + (unsigned)n);
	}
	return p;
}

/* Links p and sends it. If send() fails, its askers get SERVFAIL. send() may
 * have answered or failed the token itself: p is looked up again, not used. */
static int pending_start(struct stub *s, struct res_pending *p)
{
	uint64_t token = p->token;
	int r;

	p->next = s->res_pending;
	s->res_pending = p;
	s->n_res_pending++;
	r = pending_send(s, p);
	if (r >= 0) {
		s->stats.resource_queries++;
		return 0;
	}
	p = pending_take(s, token);
	if (p)
		pending_release(s, p, DNS_RCODE_SERVFAIL, false);
	return r;
}

/* A query whose name matches a resource. Returns false to have it forwarded. */
bool stub_res_query(struct stub *s, struct stub_client *cl, const uint8_t *msg,
		    const struct dns_query *q)
{
	char name[DNS_NAME_TEXT_MAX];
	const struct restable_entry *res;
	struct res_pending *p;
	uint8_t out[DNS_MSG_MAX];
	int len, r;

	if (answer_ptr(s, cl, q))
		return true;
	len = dns_name_to_text(&q->q.name, name, sizeof(name));
	if (len < 0 || !(res = restable_match(s->resources, name, (size_t)len)))
		return false;
	/* HTTPS/SVCB answers carry real addresses (ipv4hint/ipv6hint): say there
	 * are none, so applications fall back to A/AAAA. */
	if (q->q.type == DNS_T_HTTPS || q->q.type == DNS_T_SVCB) {
		s->stats.answered_local++;
		stub_reply_rcode(s, cl, q, DNS_RCODE_NOERROR);
		return true;
	}
	len = dns_cache_answer(s->cache, msg, q, out, sizeof(out), cl->limit, time_mono_ns());
	if (len > 0) {
		s->stats.answered_local++;
		stub_reply(s, cl, out, (size_t)len);
		return true;
	}
	if (!s->cfg.resolver || !s->cfg.pool)
		goto servfail;
	p = pending_find(s, &q->q);
	if (p) {
		if (p->n_w < RES_WAITERS_MAX)
			pending_add_waiter(p, cl, q);
		return true; /* one round trip answers them all */
	}
	p = pending_new(s, res->id, &q->q, &r);
	if (!p) {
		if (r != -ENOMEM && s->n_res_pending < s->cfg.max_pending)
			log_rl(&s->rl, LOG_LVL_ERR, "dns: no proxy IPs left for %s (%s): "
			       "answering SERVFAIL", name, strerror(-r));
		goto servfail;
	}
	pending_add_waiter(p, cl, q);
	pending_start(s, p);
	return true;
servfail:
	stub_reply_rcode(s, cl, q, DNS_RCODE_SERVFAIL);
	return true;
}

int stub_resource_refresh(struct stub *s, uint64_t id)
{
	struct stub_proxy_ref *names;
	size_t n;
	int sent = 0, err = 0, r;

	if (!s->cfg.resolver || !s->cfg.pool)
		return -EINVAL;
	/* a copy: send() may change the table */
	r = stub_proxy_names(s, id, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		for (int f = 0; f < 2; f++) {
			struct dns_question q = { .name = names[i].name, .cls = DNS_C_IN,
						  .type = f ? DNS_T_AAAA : DNS_T_A };
			struct res_pending *p;

			if (!(f ? names[i].has6 : names[i].has4))
				continue;
			p = pending_new(s, id, &q, &r);
			if (p)
				r = pending_start(s, p);
			if (r < 0)
				err = r;
			else
				sent++;
		}
	}
	free(names);
	return sent || !err ? sent : err;
}

/* Keeps only A/AAAA records whose address is bound to the query's name (offered
 * and used by this answer, bound just before; or bound to it before): whatever
 * the gateway sends, it cannot make us route other traffic. */
static bool addr_ok(struct stub *s, const struct dns_name *qname, int family, const uint8_t *a)
{
	return stub_proxy_bound_to(s, family, a, qname);
}

static void keep_offered(struct stub *s, struct dns_msg *m)
{
	for (size_t i = 0; i < m->count[0];) {
		struct dns_rr *rr = &m->rr[i];
		bool ok;

		if (rr->type == DNS_T_A)
			ok = rr->rdlen == 4 && addr_ok(s, &m->q.name, AF_INET, rr->rdata);
		else if (rr->type == DNS_T_AAAA)
			ok = rr->rdlen == 16 && addr_ok(s, &m->q.name, AF_INET6, rr->rdata);
		else
			ok = rr->type != DNS_T_CNAME && rr->type != DNS_T_DNAME;
		if (ok) {
			i++;
			continue;
		}
		log_rl(&s->rl, LOG_LVL_WARN, "dns: dropped a record the gateway should not send");
		dns_msg_remove_rr(m, i);
	}
}

/* Offer entry i of family, used by the answer or not: a fresh one is bound to
 * the name (on_proxy BOUND) or goes back to the pool; one of the name's own
 * stays bound, now for this resource. */
static void settle(struct stub *s, struct res_pending *p, int family, unsigned i, bool used)
{
	const uint8_t *a = family == AF_INET ? p->offer.v4[i] : p->offer.v6[i];
	bool own = i < (family == AF_INET ? p->nb4 : p->nb6);

	if (own) {
		/* unless resource_remove freed it since the query left */
		if (used && stub_proxy_bound_to(s, family, a, &p->q.name))
			stub_proxy_bind(s, family, a, &p->q.name, p->resource_id, false);
		return;
	}
	if (!used) {
		pool_return(s->cfg.pool, family, a);
		return;
	}
	if (pool_bind(s->cfg.pool, family, a) == 0 &&
	    stub_proxy_bind(s, family, a, &p->q.name, p->resource_id, true) < 0 &&
	    pool_release(s->cfg.pool, family, a) < 0)
		log_rl(&s->rl, LOG_LVL_WARN, "dns: a proxy IP stays out of the pool");
}

void stub_resource_answer(struct stub *s, uint64_t token, const uint8_t *msg, size_t len)
{
	struct dns_msg *m = &s->res_msg;
	struct res_pending *p = pending_take(s, token);
	struct offer_use u;
	uint16_t rcode;

	if (!p)
		return; /* late, after a timeout */
	if (dns_msg_parse(m, msg, len) < 0 || !m->has_question || m->id != p->id_sent ||
	    !(m->flags & DNS_F_QR) || m->q.type != p->q.type ||
	    !dns_name_equal(&m->q.name, &p->q.name)) {
		log_rl(&s->rl, LOG_LVL_WARN, "dns: a malformed answer from the resource resolver");
		pending_release(s, p, REPLY_TCP_SERVFAIL, false);
		return;
	}
	/* bind what the answer used of the offer, then keep only bound addresses */
	offer_used(&p->offer, m, &u);
	for (unsigned i = 0; i < p->offer.n4; i++)
		settle(s, p, AF_INET, i, u.used4 & (1u << i));
	for (unsigned i = 0; i < p->offer.n6; i++)
		settle(s, p, AF_INET6, i, u.used6 & (1u << i));
	p->offer.n4 = p->offer.n6 = 0; /* settled: nothing to return */
	keep_offered(s, m);
	m->count[2] = 0;               /* no additional records for the asker */
	m->edns.present = false;
	rcode = m->flags & DNS_F_RCODE_MASK;
	dns_cache_put(s->cache, m, p->resource_id, s->cfg.max_ttl ? s->cfg.max_ttl : 86400,
		      time_mono_ns());
	for (unsigned i = 0; i < p->n_w; i++) {
		struct res_waiter *w = &p->w[i];
		uint8_t out[DNS_MSG_MAX];
		size_t n;
		bool trunc;

		m->id = w->cl.id;
		/* As a cached answer reads (dns_cache_get): never AA, the asker's RD. */
		m->flags = (uint16_t)(DNS_F_QR | DNS_F_RA | w->cl.qflags | rcode);
		m->q.name = w->qname;
		m->edns = (struct dns_edns){ .present = w->cl.edns, .do_bit = w->cl.do_bit };
		if (dns_msg_write(m, out, sizeof(out), w->cl.limit, &n, &trunc) == 0)
			stub_reply(s, &w->cl, out, n);
	}
	pending_release(s, p, REPLY_NONE, false);
}
