#include "dns/cache.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/time.h"

enum {
	CACHE_BODY_MAX = 4096,   /* resource answers are small; bigger ones are not kept */
	CACHE_RR_MAX = 64,
	EVICT_SCAN = 16,
};

/* Where a record's TTL sits in the body, and its value when stored. */
struct ttl_at {
	uint32_t ttl;
	uint16_t off;
};

/* One allocation holds the header, the name, the body and the TTL positions,
 * in that order, so a hit reads a hundred-odd contiguous bytes. */
struct entry {
	struct entry *next;
	uint32_t hash;
	uint16_t type, cls;
	uint64_t stored_ns, expires_ns;
	uint64_t resource_id;
	uint16_t rcode_flags;        /* rcode of the answer (never AA: the stub is no authority) */
	uint16_t an, ns;
	uint16_t n_ttl;
	uint16_t len;                /* of the body */
	uint8_t name_len;
	uint8_t data[];              /* name (lowercased), body, struct ttl_at[n_ttl] */
};

static size_t ttl_at_offset(size_t name_len, size_t len)
{
	size_t o = offsetof(struct entry, data) + name_len + len;

	return (o + _Alignof(struct ttl_at) - 1) & ~(_Alignof(struct ttl_at) - 1);
}

static uint8_t *entry_body(struct entry *e)
{
	return e->data + e->name_len;
}

static struct ttl_at *entry_ttls(struct entry *e)
{
	return (struct ttl_at *)((char *)e + ttl_at_offset(e->name_len, e->len));
}

struct dns_cache {
	struct entry **bucket;
	size_t nbuckets, count, max;
	size_t evict_pos;
};

int dns_cache_new(struct dns_cache **out, size_t max_entries)
{
	struct dns_cache *c = calloc(1, sizeof(*c));
	size_t n = 16;

	if (!c || max_entries == 0)
		goto fail;
	while (n < max_entries * 2)
		n *= 2;
	c->bucket = calloc(n, sizeof(*c->bucket));
	if (!c->bucket)
		goto fail;
	c->nbuckets = n;
	c->max = max_entries;
	*out = c;
	return 0;
fail:
	free(c);
	return max_entries ? -ENOMEM : -EINVAL;
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	dns_cache_forget_resource(c, UINT64_MAX);
	free(c->bucket);
	free(c);
}

size_t dns_cache_count(const struct dns_cache *c)
{
	return c->count;
}

static struct entry **find(struct dns_cache *c, const struct dns_name *name, uint32_t h,
			   uint16_t type, uint16_t cls)
{
	struct entry **pp = &c->bucket[h & (c->nbuckets - 1)];

	/* Both the entries' names and the key are lowercased: comparing bytes is
	 * dns_name_equal. */
	for (; *pp; pp = &(*pp)->next) {
		struct entry *e = *pp;

		if (e->hash == h && e->type == type && e->cls == cls &&
		    e->name_len == name->len && memcmp(e->data, name->data, name->len) == 0)
			return pp;
	}
	return pp;
}

static void unlink_free(struct dns_cache *c, struct entry **pp)
{
	struct entry *e = *pp;

	*pp = e->next;
	free(e);
	c->count--;
}

/* Evicts the entry closest to expiry among the next few occupied buckets. */
static void evict_one(struct dns_cache *c)
{
	struct entry **victim = NULL;
	unsigned seen = 0;

	for (size_t i = 0; i < c->nbuckets && seen < EVICT_SCAN; i++) {
		size_t b = (c->evict_pos + i) & (c->nbuckets - 1);

		for (struct entry **pp = &c->bucket[b]; *pp; pp = &(*pp)->next) {
			seen++;
			if (!victim || (*pp)->expires_ns < (*victim)->expires_ns)
				victim = pp;
		}
	}
	c->evict_pos = (c->evict_pos + 1) & (c->nbuckets - 1);
	if (victim)
		unlink_free(c, victim);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

/* The TTL an answer may be kept: its smallest record TTL; for a negative
 * answer, the SOA's TTL capped by its minimum field (RFC 2308 §5). */
static uint32_t answer_ttl(const struct dns_msg *m)
{
	size_t n = (size_t)m->count[0] + m->count[1];
	uint32_t ttl = UINT32_MAX;

	for (size_t i = 0; i < n; i++) {
		const struct dns_rr *rr = &m->rr[i];
		uint32_t t = rr->ttl;

		if (rr->type == DNS_T_SOA && rr->rdlen >= 20 && rd32(rr->rdata + rr->rdlen - 4) < t)
			t = rd32(rr->rdata + rr->rdlen - 4);
		if (t < ttl)
			ttl = t;
	}
	return n ? ttl : 0;
}

int dns_cache_put(struct dns_cache *c, const struct dns_msg *m, uint64_t resource_id,
		  uint32_t max_ttl, uint64_t now_ns)
{
	uint8_t buf[DNS_HDR_LEN + DNS_NAME_MAX + 4 + CACHE_BODY_MAX];
	struct dns_msg w = *m;
	struct dns_name key;
	struct entry *e, **pp;
	struct ttl_at *ta;
	size_t len, qend, pos, n_rr;
	uint32_t ttl = answer_ttl(m), h;
	bool trunc;

	if (!m->has_question)
		return -EINVAL;
	if (ttl > max_ttl)
		ttl = max_ttl;
	if (ttl == 0 || m->count[0] + m->count[1] > CACHE_RR_MAX)
		return -EINVAL;
	/* Answer and authority only: glue and OPT are not the asker's business. */
	w.count[2] = 0;
	w.edns.present = false;
	w.id = 0;
	if (dns_msg_write(&w, buf, sizeof(buf), sizeof(buf), &len, &trunc) < 0 || trunc)
		return -EINVAL;
	qend = DNS_HDR_LEN + m->q.name.len + 4;
	n_rr = (size_t)m->count[0] + m->count[1];
	key = m->q.name;
	dns_name_lower(&key);
	e = calloc(1, ttl_at_offset(key.len, len - qend) + n_rr * sizeof(struct ttl_at));
	if (!e)
		return -ENOMEM;
	e->type = m->q.type;
	e->cls = m->q.cls;
	e->name_len = key.len;
	memcpy(e->data, key.data, key.len);
	e->hash = h = dns_name_hash(&key);
	e->resource_id = resource_id;
	e->stored_ns = now_ns;
	e->expires_ns = now_ns + (uint64_t)ttl * NSEC_PER_SEC;
	e->rcode_flags = m->flags & DNS_F_RCODE_MASK;
	e->an = m->count[0];
	e->ns = m->count[1];
	e->len = (uint16_t)(len - qend);
	memcpy(entry_body(e), buf + qend, e->len);
	/* Find each record's TTL so a hit can count it down. */
	ta = entry_ttls(e);
	pos = qend;
	for (unsigned i = 0; i < (unsigned)e->an + e->ns; i++) {
		struct dns_name n;
		uint16_t rdlen;

		if (dns_name_read(buf, len, &pos, &n) < 0 || len - pos < 10) {
			free(e);
			return -EINVAL;
		}
		ta[i].off = (uint16_t)(pos + 4 - qend);
		ta[i].ttl = rd32(buf + pos + 4);
		memcpy(&rdlen, buf + pos + 8, 2);
		pos += 10 + be16toh(rdlen);
	}
	e->n_ttl = (uint16_t)(e->an + e->ns);

	pp = find(c, &key, h, e->type, e->cls);
	if (*pp) {
		unlink_free(c, pp);
		pp = find(c, &key, h, e->type, e->cls);
	} else if (c->count >= c->max) {
		evict_one(c);
		pp = find(c, &key, h, e->type, e->cls);
	}
	*pp = e;
	c->count++;
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}

int dns_cache_answer(struct dns_cache *c, const uint8_t *query, const struct dns_query *q,
		     uint8_t *buf, size_t cap, size_t limit, uint64_t now_ns)
{
	struct dns_name key = q->q.name;
	struct entry **pp, *e;
	size_t qlen = q->question_end - DNS_HDR_LEN, opt = q->edns.present ? 11 : 0, len;
	uint32_t age;
	uint16_t flags;

	dns_name_lower(&key);
	pp = find(c, &key, dns_name_hash(&key), q->q.type, q->q.cls);
	e = *pp;
	if (!e)
		return 0;
	if (now_ns >= e->expires_ns) {
		unlink_free(c, pp);
		return 0;
	}
	age = (uint32_t)((now_ns - e->stored_ns) / NSEC_PER_SEC);
	flags = (uint16_t)(DNS_F_QR | DNS_F_RA | (q->flags & (DNS_F_RD | DNS_F_CD)) |
			   e->rcode_flags);
	len = DNS_HDR_LEN + qlen + e->len + opt;
	if (len > limit) {
		len = DNS_HDR_LEN + qlen + opt; /* too long for the asker: TC */
		flags |= DNS_F_TC;
	}
	if (len > cap)
		return -EMSGSIZE;
	put16(buf + DNS_OFF_ID, q->id);
	put16(buf + DNS_OFF_FLAGS, flags);
	put16(buf + DNS_OFF_QDCOUNT, 1);
	put16(buf + DNS_OFF_ANCOUNT, flags & DNS_F_TC ? 0 : e->an);
	put16(buf + DNS_OFF_NSCOUNT, flags & DNS_F_TC ? 0 : e->ns);
	put16(buf + DNS_OFF_ARCOUNT, opt ? 1 : 0);
	/* The question as asked: same length as the key, so pointers to it hold. */
	memcpy(buf + DNS_HDR_LEN, query + DNS_HDR_LEN, qlen);
	if (!(flags & DNS_F_TC)) {
		uint8_t *body = buf + DNS_HDR_LEN + qlen;
		const struct ttl_at *ta = entry_ttls(e);

		memcpy(body, entry_body(e), e->len);
		for (unsigned i = 0; i < e->n_ttl; i++) {
			uint32_t t = htobe32(ta[i].ttl > age ? ta[i].ttl - age : 0);

			memcpy(body + ta[i].off, &t, 4);
		}
	}
	if (opt) {
		uint8_t *o = buf + len - opt;

		o[0] = 0;
		put16(o + 1, DNS_T_OPT);
		put16(o + 3, DNS_EDNS_MAX);
		put16(o + 5, 0);
		put16(o + 7, q->edns.do_bit ? DNS_EDNS_DO : 0);
		put16(o + 9, 0);
	}
	return (int)len;
}

void dns_cache_forget_resource(struct dns_cache *c, uint64_t resource_id)
{
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct entry **pp = &c->bucket[b];

		while (*pp) {
			if (resource_id == UINT64_MAX || (*pp)->resource_id == resource_id)
				unlink_free(c, pp);
			else
				pp = &(*pp)->next;
		}
	}
}
