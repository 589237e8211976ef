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
	PROXY_BUCKETS = 4096,
	RES_WAITERS_MAX = 16,   /* identical queries answered by one round trip */
	TUNNEL_QUERY_MAX = DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11 + OFFER_OPT_MAX,
};

struct proxy_entry {
	struct proxy_entry *next;
	int family;
	uint8_t addr[16];
	struct dns_name name;
	uint64_t resource_id;
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
	struct offer offer;
	struct res_waiter w[RES_WAITERS_MAX];
	unsigned n_w;
};

static size_t proxy_hash(int family, const uint8_t *a)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < (family == AF_INET ? 4 : 16); i++)
		h = (h ^ a[i]) * 16777619u;
	return h & (PROXY_BUCKETS - 1);
}

static struct proxy_entry *proxy_find(const struct stub *s, int family, const uint8_t *a)
{
	size_t alen = family == AF_INET ? 4 : 16;

	for (struct proxy_entry *e = s->proxy[proxy_hash(family, a)]; e; e = e->next)
		if (e->family == family && memcmp(e->addr, a, alen) == 0)
			return e;
	return NULL;
}

static void proxy_add(struct stub *s, int family, const uint8_t *a, const struct dns_name *name,
		      uint64_t resource_id)
{
	struct proxy_entry *e = proxy_find(s, family, a);
	size_t h;

	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		h = proxy_hash(family, a);
		e->family = family;
		memcpy(e->addr, a, family == AF_INET ? 4 : 16);
		e->next = s->proxy[h];
		s->proxy[h] = e;
	}
	e->name = *name;
	dns_name_lower(&e->name);
	e->resource_id = resource_id;
}

int stub_proxy_lookup(const struct stub *s, int family, const uint8_t *addr,
		      struct dns_name *name, uint64_t *resource_id)
{
	const struct proxy_entry *e = s->proxy ? proxy_find(s, family, addr) : NULL;

	if (!e)
		return -ENOENT;
	if (name)
		*name = e->name;
	if (resource_id)
		*resource_id = e->resource_id;
	return 0;
}

int stub_res_init(struct stub *s)
{
	int r;

	s->proxy = calloc(PROXY_BUCKETS, sizeof(*s->proxy));
	if (!s->proxy)
		return -ENOMEM;
	r = restable_new(&s->resources, 100000);
	if (r < 0)
		return r;
	r = dns_cache_new(&s->cache, s->cfg.cache_max ? s->cfg.cache_max : 10000);
	if (r < 0)
		return r;
	dns_msg_init(&s->res_msg);
	return 0;
}

static void pending_release(struct stub *s, struct res_pending *p, bool answered)
{
	for (unsigned i = 0; i < p->offer.n4; i++)
		pool_return(s->cfg.pool, AF_INET, p->offer.v4[i]);
	for (unsigned i = 0; i < p->offer.n6; i++)
		pool_return(s->cfg.pool, AF_INET6, p->offer.v6[i]);
	for (unsigned i = 0; i < p->n_w; i++) {
		struct stub_client *cl = &p->w[i].cl;

		/* Not answered: silence over UDP (the application retries), SERVFAIL
		 * over TCP, where the asker waits on the connection. */
		if (!answered && cl->conn) {
			struct dns_query q = { .id = cl->id, .flags = DNS_F_RD, .q = p->q };

			q.q.name = p->w[i].qname;
			q.edns.present = cl->edns;
			q.edns.do_bit = cl->do_bit;
			stub_reply_rcode(s, cl, &q, DNS_RCODE_SERVFAIL);
		}
		if (cl->conn)
			stub_conn_release(s, cl->conn);
	}
	free(p);
	s->n_res_pending--;
}

void stub_res_free(struct stub *s)
{
	while (s->res_pending) {
		struct res_pending *p = s->res_pending;

		s->res_pending = p->next;
		pending_release(s, p, true);
	}
	if (s->proxy) {
		for (size_t b = 0; b < PROXY_BUCKETS; b++) {
			while (s->proxy[b]) {
				struct proxy_entry *e = s->proxy[b];

				s->proxy[b] = e->next;
				free(e);
			}
		}
		free(s->proxy);
	}
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
		pending_release(s, p, false);
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
	return restable_remove(s->resources, id);
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

/* A query whose name matches a resource. Returns false to have it forwarded. */
bool stub_res_query(struct stub *s, struct stub_client *cl, const uint8_t *msg,
		    const struct dns_query *q)
{
	char name[DNS_NAME_TEXT_MAX];
	const struct restable_entry *res;
	struct res_pending *p;
	uint8_t out[DNS_MSG_MAX];
	int len, n;

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
	if (s->n_res_pending >= s->cfg.max_pending || !(p = calloc(1, sizeof(*p))))
		goto servfail;
	p->token = ++s->next_token;
	p->resource_id = res->id;
	p->q = q->q;
	p->id_sent = (uint16_t)rand_u32();
	p->deadline = time_mono_ns() + (uint64_t)s->cfg.timeout_ms * 1000000ull;
	if (q->q.type == DNS_T_A || q->q.type == DNS_T_AAAA) {
		int family = q->q.type == DNS_T_A ? AF_INET : AF_INET6;
		unsigned want = s->cfg.offer_size ? s->cfg.offer_size : 8;

		n = pool_take(s->cfg.pool, family, want,
			      family == AF_INET ? (void *)p->offer.v4 : (void *)p->offer.v6);
		if (n < 0) {
			log_rl(&s->rl, LOG_LVL_ERR, "dns: no proxy IPs left for %s (%s): "
			       "answering SERVFAIL", name, strerror(-n));
			free(p);
			goto servfail;
		}
		if (family == AF_INET)
			p->offer.n4 = (uint8_t)n;
		else
			p->offer.n6 = (uint8_t)n;
	}
	p->next = s->res_pending;
	s->res_pending = p;
	s->n_res_pending++;
	pending_add_waiter(p, cl, q);
	if (pending_send(s, p) < 0) {
		s->res_pending = p->next;
		pending_release(s, p, false);
	}
	return true;
servfail:
	stub_reply_rcode(s, cl, q, DNS_RCODE_SERVFAIL);
	return true;
}

/* Keeps only A/AAAA records whose address is one we offered for this query, or
 * one the gateway bound to this very name before (it keeps a name's proxy IPs
 * for good): whatever the gateway sends, it cannot make us route other traffic. */
static bool addr_ok(struct stub *s, const struct offer *o, const struct dns_name *qname,
		    int family, const uint8_t *a)
{
	struct dns_name bound;
	unsigned n = family == AF_INET ? o->n4 : o->n6;

	for (unsigned k = 0; k < n; k++)
		if (memcmp(a, family == AF_INET ? o->v4[k] : o->v6[k],
			   family == AF_INET ? 4 : 16) == 0)
			return true;
	return stub_proxy_lookup(s, family, a, &bound, NULL) == 0 &&
	       dns_name_equal(&bound, qname);
}

static void keep_offered(struct stub *s, struct dns_msg *m, const struct offer *o)
{
	for (size_t i = 0; i < m->count[0];) {
		struct dns_rr *rr = &m->rr[i];
		bool ok;

		if (rr->type == DNS_T_A)
			ok = rr->rdlen == 4 && addr_ok(s, o, &m->q.name, AF_INET, rr->rdata);
		else if (rr->type == DNS_T_AAAA)
			ok = rr->rdlen == 16 && addr_ok(s, o, &m->q.name, AF_INET6, rr->rdata);
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

void stub_resource_answer(struct stub *s, uint64_t token, const uint8_t *msg, size_t len)
{
	struct dns_msg *m = &s->res_msg;
	struct res_pending **pp, *p;
	struct offer_use u;
	uint16_t rcode;

	for (pp = &s->res_pending; *pp && (*pp)->token != token; pp = &(*pp)->next)
		;
	p = *pp;
	if (!p)
		return; /* late, after a timeout */
	*pp = p->next;
	if (dns_msg_parse(m, msg, len) < 0 || !m->has_question || m->id != p->id_sent ||
	    !(m->flags & DNS_F_QR) || m->q.type != p->q.type ||
	    !dns_name_equal(&m->q.name, &p->q.name)) {
		log_rl(&s->rl, LOG_LVL_WARN, "dns: a malformed answer from the resource resolver");
		pending_release(s, p, false);
		return;
	}
	keep_offered(s, m, &p->offer);
	offer_used(&p->offer, m, &u);
	for (unsigned i = 0; i < p->offer.n4; i++) {
		if (u.used4 & (1u << i)) {
			pool_bind(s->cfg.pool, AF_INET, p->offer.v4[i]);
			proxy_add(s, AF_INET, p->offer.v4[i], &p->q.name, p->resource_id);
		} else {
			pool_return(s->cfg.pool, AF_INET, p->offer.v4[i]);
		}
	}
	for (unsigned i = 0; i < p->offer.n6; i++) {
		if (u.used6 & (1u << i)) {
			pool_bind(s->cfg.pool, AF_INET6, p->offer.v6[i]);
			proxy_add(s, AF_INET6, p->offer.v6[i], &p->q.name, p->resource_id);
		} else {
			pool_return(s->cfg.pool, AF_INET6, p->offer.v6[i]);
		}
	}
	p->offer.n4 = p->offer.n6 = 0; /* settled: nothing to return */
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
	pending_release(s, p, true);
}
