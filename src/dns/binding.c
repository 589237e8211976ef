/* Bindings of one client on the gateway: two chained hash indexes over one slab
 * of entries, keyed with SipHash under a per-table random key (the client
 * chooses the names and the proxy IPs, so it must not be able to choose
 * collisions), and the rewrite of a resolver's answer. */
#include "dns/binding.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rand.h"

#define NIL UINT32_MAX

enum {
	BUCKETS_MIN = 16,
	SLOTS_MIN = 16,
	ADDR_MAX = 16,
};

struct binding {
	struct dns_name name; /* lowercased; len 0 marks a free slot */
	uint8_t alen;         /* 4 or 16 */
	uint8_t real[ADDR_MAX];
	uint8_t proxy[ADDR_MAX];
	uint32_t next_key;    /* chain in by_key; the free list while free */
	uint32_t next_proxy;  /* chain in by_proxy */
};

struct binding_table {
	struct binding *e;
	uint32_t slots;       /* allocated */
	uint32_t top;         /* slots ever used */
	uint32_t count;       /* live bindings */
	uint32_t max;
	uint32_t free;        /* free slots below top */
	uint32_t *by_key;     /* (name, real) */
	uint32_t *by_proxy;
	uint32_t mask;        /* buckets - 1 */
	uint64_t k0, k1;      /* SipHash key */
};

/* ---- SipHash-2-4 (Aumasson, Bernstein) ---- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND do { \
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
} while (0)

static uint64_t siphash(uint64_t k0, uint64_t k1, const uint8_t *p, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (int k = 7; k >= 0; k--)
			m = m << 8 | p[i + (size_t)k];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (int k = 0; i + (size_t)k < len; k++)
		b |= (uint64_t)p[i + (size_t)k] << (8 * k);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint32_t hash_key(const struct binding_table *t, const struct dns_name *lname,
			 const uint8_t *real, size_t alen)
{
	uint8_t b[DNS_NAME_MAX + 1 + ADDR_MAX];

	memcpy(b, lname->data, lname->len);
	b[lname->len] = (uint8_t)alen;
	memcpy(b + lname->len + 1, real, alen);
	return (uint32_t)siphash(t->k0, t->k1, b, (size_t)lname->len + 1 + alen);
}

static uint32_t hash_proxy(const struct binding_table *t, const uint8_t *proxy, size_t alen)
{
	uint8_t b[1 + ADDR_MAX];

	b[0] = (uint8_t)alen;
	memcpy(b + 1, proxy, alen);
	return (uint32_t)siphash(t->k0, t->k1, b, 1 + alen);
}

/* ---- the table ---- */

static void rehash(struct binding_table *t)
{
	for (uint32_t b = 0; b <= t->mask; b++)
		t->by_key[b] = t->by_proxy[b] = NIL;
	for (uint32_t i = 0; i < t->top; i++) {
		struct binding *e = &t->e[i];
		uint32_t hk, hp;

		if (!e->name.len)
			continue;
		hk = hash_key(t, &e->name, e->real, e->alen) & t->mask;
		hp = hash_proxy(t, e->proxy, e->alen) & t->mask;
		e->next_key = t->by_key[hk];
		t->by_key[hk] = i;
		e->next_proxy = t->by_proxy[hp];
		t->by_proxy[hp] = i;
	}
}

static int set_buckets(struct binding_table *t, uint32_t n)
{
	uint32_t *k = malloc(n * sizeof(*k)), *p = malloc(n * sizeof(*p));

	if (!k || !p) {
		free(k);
		free(p);
		return -ENOMEM;
	}
	free(t->by_key);
	free(t->by_proxy);
	t->by_key = k;
	t->by_proxy = p;
	t->mask = n - 1;
	rehash(t);
	return 0;
}

struct binding_table *binding_table_new(size_t max)
{
	struct binding_table *t;
	uint64_t key[2];

	if (max < 1 || max > BINDING_MAX) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->max = (uint32_t)max;
	t->free = NIL;
	if (rand_bytes(key, sizeof(key)) < 0 || set_buckets(t, BUCKETS_MIN) < 0) {
		binding_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->k0 = key[0];
	t->k1 = key[1];
	return t;
}

void binding_table_free(struct binding_table *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->by_key);
	free(t->by_proxy);
	free(t);
}

size_t binding_count(const struct binding_table *t)
{
	return t->count;
}

static uint32_t find_key(const struct binding_table *t, const struct dns_name *lname,
			 const uint8_t *real, size_t alen)
{
	uint32_t i = t->by_key[hash_key(t, lname, real, alen) & t->mask];

	for (; i != NIL; i = t->e[i].next_key) {
		const struct binding *e = &t->e[i];

		if (e->alen == alen && e->name.len == lname->len &&
		    !memcmp(e->real, real, alen) && !memcmp(e->name.data, lname->data, lname->len))
			return i;
	}
	return NIL;
}

static uint32_t find_proxy(const struct binding_table *t, const uint8_t *proxy, size_t alen)
{
	uint32_t i = t->by_proxy[hash_proxy(t, proxy, alen) & t->mask];

	for (; i != NIL; i = t->e[i].next_proxy)
		if (t->e[i].alen == alen && !memcmp(t->e[i].proxy, proxy, alen))
			return i;
	return NIL;
}

/* Makes room for one more slot: grows the slab (doubling, up to max) and keeps
 * the buckets at least as many as the slots. */
static int reserve_slot(struct binding_table *t)
{
	struct binding *e;
	uint32_t n;

	if (t->free != NIL || t->top < t->slots)
		return 0;
	n = t->slots ? t->slots * 2 : SLOTS_MIN;
	if (n > t->max)
		n = t->max;
	e = realloc(t->e, (size_t)n * sizeof(*e));
	if (!e)
		return -ENOMEM;
	t->e = e;
	t->slots = n;
	if (n > t->mask + 1) {
		uint32_t b = t->mask + 1;

		while (b < n)
			b *= 2;
		return set_buckets(t, b);
	}
	return 0;
}

/* Binds (lname, real) to proxy; neither may be bound already. */
static int insert(struct binding_table *t, const struct dns_name *lname, const uint8_t *real,
		  size_t alen, const uint8_t *proxy)
{
	struct binding *e;
	uint32_t i, hk, hp;
	int r;

	if (t->count >= t->max)
		return -ENOSPC;
	r = reserve_slot(t);
	if (r < 0)
		return r;
	if (t->free != NIL) {
		i = t->free;
		t->free = t->e[i].next_key;
	} else {
		i = t->top++;
	}
	e = &t->e[i];
	memset(e, 0, sizeof(*e));
	e->name = *lname;
	e->alen = (uint8_t)alen;
	memcpy(e->real, real, alen);
	memcpy(e->proxy, proxy, alen);
	hk = hash_key(t, lname, real, alen) & t->mask;
	hp = hash_proxy(t, proxy, alen) & t->mask;
	e->next_key = t->by_key[hk];
	t->by_key[hk] = i;
	e->next_proxy = t->by_proxy[hp];
	t->by_proxy[hp] = i;
	t->count++;
	return 0;
}

static void unlink_chain(struct binding_table *t, uint32_t *head, uint32_t i, bool key)
{
	uint32_t *pp = head;

	while (*pp != NIL) {
		uint32_t *next = key ? &t->e[*pp].next_key : &t->e[*pp].next_proxy;

		if (*pp == i) {
			*pp = *next;
			return;
		}
		pp = next;
	}
}

static void remove_at(struct binding_table *t, uint32_t i)
{
	struct binding *e = &t->e[i];

	unlink_chain(t, &t->by_key[hash_key(t, &e->name, e->real, e->alen) & t->mask], i, true);
	unlink_chain(t, &t->by_proxy[hash_proxy(t, e->proxy, e->alen) & t->mask], i, false);
	memset(e, 0, sizeof(*e));
	e->next_key = t->free;
	t->free = i;
	t->count--;
}

int binding_lookup_proxy(const struct binding_table *t, const uint8_t *proxy, size_t alen,
			 struct dns_name *name, uint8_t *real)
{
	uint32_t i;

	if (alen != 4 && alen != 16)
		return -ENOENT;
	i = find_proxy(t, proxy, alen);
	if (i == NIL)
		return -ENOENT;
	if (name)
		*name = t->e[i].name;
	memcpy(real, t->e[i].real, alen);
	return 0;
}

int binding_lookup(const struct binding_table *t, const struct dns_name *name,
		   const uint8_t *real, size_t alen, uint8_t *proxy)
{
	struct dns_name l = *name;
	uint32_t i;

	if (alen != 4 && alen != 16)
		return -ENOENT;
	dns_name_lower(&l);
	i = find_key(t, &l, real, alen);
	if (i == NIL)
		return -ENOENT;
	memcpy(proxy, t->e[i].proxy, alen);
	return 0;
}

size_t binding_forget_if(struct binding_table *t,
			 bool (*match)(const struct dns_name *name, void *arg), void *arg)
{
	size_t n = 0;

	for (uint32_t i = 0; i < t->top; i++) {
		if (t->e[i].name.len && match(&t->e[i].name, arg)) {
			remove_at(t, i);
			n++;
		}
	}
	return n;
}

static bool same_name(const struct dns_name *name, void *arg)
{
	return dns_name_equal(name, arg);
}

size_t binding_forget_name(struct binding_table *t, const struct dns_name *name)
{
	return binding_forget_if(t, same_name, (void *)(uintptr_t)name);
}

int binding_forget_proxy(struct binding_table *t, const uint8_t *proxy, size_t alen)
{
	uint32_t i;

	if (alen != 4 && alen != 16)
		return -ENOENT;
	i = find_proxy(t, proxy, alen);
	if (i == NIL)
		return -ENOENT;
	remove_at(t, i);
	return 0;
}

void binding_clear(struct binding_table *t)
{
	free(t->e);
	t->e = NULL;
	t->slots = t->top = t->count = 0;
	t->free = NIL;
	for (uint32_t b = 0; b <= t->mask; b++)
		t->by_key[b] = t->by_proxy[b] = NIL;
}

/* ---- rewriting an answer ---- */

/* The names reachable from the question through the answer's CNAMEs, each
 * with the smallest TTL on the way to it. */
struct chain {
	struct dns_name name[BINDING_CNAME_HOPS + 1];
	uint32_t ttl[BINDING_CNAME_HOPS + 1];
	unsigned n;
};

static int chain_index(const struct chain *ch, const struct dns_name *n)
{
	for (unsigned i = 0; i < ch->n; i++)
		if (dns_name_equal(&ch->name[i], n))
			return (int)i;
	return -1;
}

static void chain_build(const struct dns_msg *m, struct chain *ch)
{
	ch->name[0] = m->q.name;
	ch->ttl[0] = UINT32_MAX;
	ch->n = 1;
	while (ch->n <= BINDING_CNAME_HOPS) {
		const struct dns_name *cur = &ch->name[ch->n - 1];
		struct dns_name target;
		size_t i;

		/* A name has one CNAME; if an answer holds more, the first counts. */
		for (i = 0; i < m->count[DNS_SEC_ANSWER]; i++) {
			const struct dns_rr *rr = &m->rr[i];

			if (rr->type == DNS_T_CNAME && rr->cls == DNS_C_IN &&
			    dns_name_equal(&rr->name, cur))
				break;
		}
		if (i == m->count[DNS_SEC_ANSWER])
			return;
		{
			const struct dns_rr *rr = &m->rr[i];
			size_t p = 0;

			if (dns_name_read(rr->rdata, rr->rdlen, &p, &target) < 0 || p != rr->rdlen)
				return;
			if (chain_index(ch, &target) >= 0)
				return; /* a loop */
			ch->name[ch->n] = target;
			ch->ttl[ch->n] = rr->ttl < ch->ttl[ch->n - 1] ? rr->ttl : ch->ttl[ch->n - 1];
			ch->n++;
		}
	}
}

/* Leaves nothing in m but header, question and a bare OPT. */
static void scrub(struct dns_msg *m, uint16_t rcode)
{
	memset(m->count, 0, sizeof(m->count));
	m->flags = (uint16_t)((m->flags & ~(DNS_F_RCODE_MASK | DNS_F_AD)) | rcode);
	m->edns.ext_rcode = 0;
	m->edns.opts = NULL;
	m->edns.opts_len = 0;
}

struct pick {
	size_t alen;
	unsigned n, next;           /* offer entries of the family; the next to look at */
	const uint8_t *addr;        /* entry k at addr + k * alen */
	uint32_t *used, *refused;
};

/* The proxy IP for (lname, real): bound already, or the next usable offer
 * entry, bound now. 0, -ENOBUFS (offer exhausted), -ENOSPC / -ENOMEM. */
static int proxy_for(struct binding_table *t, const struct dns_name *lname,
		     const uint8_t *real, struct pick *pk, const uint8_t **proxy)
{
	uint32_t i = find_key(t, lname, real, pk->alen);

	if (i != NIL) {
		*proxy = t->e[i].proxy;
		return 0;
	}
	if (t->count >= t->max)
		return -ENOSPC;
	while (pk->next < pk->n) {
		unsigned k = pk->next++;
		const uint8_t *a = pk->addr + k * pk->alen;
		int r;

		/* Not a possible proxy IP, or bound to another (name, real) — by an
		 * earlier answer, or by an earlier duplicate of this entry. */
		if (!offer_addr_usable(a, pk->alen) || find_proxy(t, a, pk->alen) != NIL) {
			*pk->refused |= 1u << k;
			continue;
		}
		r = insert(t, lname, real, pk->alen, a);
		if (r < 0) {
			pk->next = k; /* not this entry's fault */
			return r;
		}
		*pk->used |= 1u << k;
		*proxy = a;
		return 0;
	}
	return -ENOBUFS;
}

int binding_apply(struct binding_table *t, struct dns_msg *m, const struct offer *o,
		  struct offer_use *u)
{
	static const struct offer empty;
	struct chain ch;
	struct dns_name lq;
	struct pick pk;
	uint16_t rcode, qtype;
	size_t w = 0;
	uint16_t kept[3] = { 0 };
	unsigned seen = 0, out = 0;
	int fail = 0;

	memset(u, 0, sizeof(*u));
	if (!o)
		o = &empty;
	if (!m->has_question || o->n4 > OFFER_MAX4 || o->n6 > OFFER_MAX6) {
		scrub(m, DNS_RCODE_SERVFAIL);
		return -EINVAL;
	}
	qtype = m->q.type;
	if ((qtype != DNS_T_A && qtype != DNS_T_AAAA) || m->q.cls != DNS_C_IN) {
		scrub(m, DNS_RCODE_SERVFAIL);
		return -EOPNOTSUPP;
	}
	rcode = m->flags & DNS_F_RCODE_MASK;
	if (m->edns.ext_rcode || (rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN)) {
		/* SERVFAIL, REFUSED, BADVERS, ...: the rcode alone. */
		uint8_t ext = m->edns.ext_rcode;

		scrub(m, rcode);
		m->edns.ext_rcode = ext;
		return 0;
	}
	/* The answer is ours now: no DNSSEC claim, none of the resolver's options. */
	m->flags &= (uint16_t)~DNS_F_AD;
	m->edns.opts = NULL;
	m->edns.opts_len = 0;

	lq = m->q.name;
	dns_name_lower(&lq);
	if (qtype == DNS_T_A)
		pk = (struct pick){ 4, o->n4, 0, &o->v4[0][0], &u->used4, &u->refused4 };
	else
		pk = (struct pick){ 16, o->n6, 0, &o->v6[0][0], &u->used6, &u->refused6 };
	chain_build(m, &ch);

	/* The answer section, compacted in place. */
	for (size_t i = 0; i < m->count[DNS_SEC_ANSWER] && rcode == DNS_RCODE_NOERROR; i++) {
		struct dns_rr *rr = &m->rr[i];
		const uint8_t *proxy;
		int c, r;

		if (rr->type != qtype || rr->cls != DNS_C_IN || rr->rdlen != pk.alen)
			continue;
		c = chain_index(&ch, &rr->name);
		if (c < 0)
			continue; /* not on the way from the question: not ours to answer */
		seen++;
		r = proxy_for(t, &lq, rr->rdata, &pk, &proxy);
		if (r < 0) {
			/* Out of offers, or of table room: left out. */
			u->dropped++;
			if (r != -ENOBUFS || !fail)
				fail = r;
			continue;
		}
		memcpy(rr->rdata, proxy, pk.alen);
		rr->name = m->q.name;
		if (ch.ttl[c] < rr->ttl)
			rr->ttl = ch.ttl[c];
		m->rr[w++] = *rr;
		out++;
	}
	kept[DNS_SEC_ANSWER] = (uint16_t)w;
	if (seen && !out) {
		scrub(m, DNS_RCODE_SERVFAIL);
		return fail;
	}
	/* Authority: the SOA of a negative answer, for negative caching. */
	if (!out) {
		for (size_t i = m->count[DNS_SEC_ANSWER]; i < (size_t)m->count[0] + m->count[1]; i++) {
			if (m->rr[i].type == DNS_T_SOA && m->rr[i].cls == DNS_C_IN) {
				m->rr[w++] = m->rr[i];
				kept[DNS_SEC_AUTHORITY]++;
			}
		}
	}
	memcpy(m->count, kept, sizeof(kept));
	return 0;
}
