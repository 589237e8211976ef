/* The stub's proxy table: which name (and resource) each bound proxy IP stands
 * for, indexed by address (PTR, stub_proxy_lookup, the answer filter) and by
 * name (the offer preference, refresh). Both indexes are chained hashes keyed
 * with SipHash (libsodium's crypto_shorthash) under a random key, since names
 * come from the network; they double when their load passes one. A name's
 * entries stay in the order they were bound: that order is the offer's. */
#include "dns/stub_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dns/pool.h"
#include "lib/rand.h"

enum { PROXY_BUCKETS_MIN = 64 };

struct proxy_name;

struct proxy_entry {
	struct proxy_entry *next;      /* in its address bucket */
	struct proxy_entry *name_next; /* the name's next, in bind order */
	struct proxy_name *owner;
	int family;
	uint8_t addr[16];
	uint64_t resource_id;
};

struct proxy_name {
	struct proxy_name *next;       /* in its name bucket */
	struct dns_name name;          /* lowercased */
	struct proxy_entry *head, *tail;
};

struct proxy_table {
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct proxy_entry **by_addr;
	struct proxy_name **by_name;
	size_t addr_mask, name_mask, n_entries, n_names;
};

static size_t alen_of(int family)
{
	return family == AF_INET ? 4 : 16;
}

static uint64_t hash(const struct proxy_table *t, const uint8_t *p, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, p, len, t->key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static size_t addr_bucket(const struct proxy_table *t, int family, const uint8_t *a)
{
	uint8_t b[17];

	b[0] = (uint8_t)family;
	memcpy(b + 1, a, alen_of(family));
	return (size_t)hash(t, b, 1 + alen_of(family)) & t->addr_mask;
}

static size_t name_bucket(const struct proxy_table *t, const struct dns_name *lname)
{
	return (size_t)hash(t, lname->data, lname->len) & t->name_mask;
}

int stub_proxy_init(struct stub *s)
{
	struct proxy_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	s->proxy = t;
	if (sodium_init() < 0 || rand_bytes(t->key, sizeof(t->key)) < 0)
		return -EIO;
	t->by_addr = calloc(PROXY_BUCKETS_MIN, sizeof(*t->by_addr));
	t->by_name = calloc(PROXY_BUCKETS_MIN, sizeof(*t->by_name));
	if (!t->by_addr || !t->by_name)
		return -ENOMEM;
	t->addr_mask = t->name_mask = PROXY_BUCKETS_MIN - 1;
	return 0;
}

void stub_proxy_free_all(struct stub *s)
{
	struct proxy_table *t = s->proxy;

	if (!t)
		return;
	for (size_t b = 0; t->by_addr && b <= t->addr_mask; b++) {
		while (t->by_addr[b]) {
			struct proxy_entry *e = t->by_addr[b];

			t->by_addr[b] = e->next;
			free(e);
		}
	}
	for (size_t b = 0; t->by_name && b <= t->name_mask; b++) {
		while (t->by_name[b]) {
			struct proxy_name *n = t->by_name[b];

			t->by_name[b] = n->next;
			free(n);
		}
	}
	free(t->by_addr);
	free(t->by_name);
	sodium_memzero(t->key, sizeof(t->key));
	free(t);
	s->proxy = NULL;
}

static struct proxy_entry *entry_find(const struct proxy_table *t, int family, const uint8_t *a)
{
	for (struct proxy_entry *e = t->by_addr[addr_bucket(t, family, a)]; e; e = e->next)
		if (e->family == family && memcmp(e->addr, a, alen_of(family)) == 0)
			return e;
	return NULL;
}

static struct proxy_name *name_find(const struct proxy_table *t, const struct dns_name *lname)
{
	for (struct proxy_name *n = t->by_name[name_bucket(t, lname)]; n; n = n->next)
		if (n->name.len == lname->len && memcmp(n->name.data, lname->data, lname->len) == 0)
			return n;
	return NULL;
}

/* Doubles the address index (names: the name index) once its load passes one;
 * a failed allocation only leaves the chains longer. */
static void grow_addr(struct proxy_table *t)
{
	size_t n = (t->addr_mask + 1) * 2, old_n = t->addr_mask + 1;
	struct proxy_entry **b, **old = t->by_addr;

	if (t->n_entries <= old_n || !(b = calloc(n, sizeof(*b))))
		return;
	t->by_addr = b;
	t->addr_mask = n - 1;
	for (size_t i = 0; i < old_n; i++) {
		while (old[i]) {
			struct proxy_entry *e = old[i];
			size_t h = addr_bucket(t, e->family, e->addr);

			old[i] = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(old);
}

static void grow_name(struct proxy_table *t)
{
	size_t n = (t->name_mask + 1) * 2, old_n = t->name_mask + 1;
	struct proxy_name **b, **old = t->by_name;

	if (t->n_names <= old_n || !(b = calloc(n, sizeof(*b))))
		return;
	t->by_name = b;
	t->name_mask = n - 1;
	for (size_t i = 0; i < old_n; i++) {
		while (old[i]) {
			struct proxy_name *pn = old[i];
			size_t h = name_bucket(t, &pn->name);

			old[i] = pn->next;
			pn->next = b[h];
			b[h] = pn;
		}
	}
	free(old);
}

static void to_stub_proxy(const struct proxy_entry *e, struct stub_proxy *p)
{
	*p = (struct stub_proxy){ .family = e->family, .name = &e->owner->name,
				  .resource_id = e->resource_id };
	memcpy(p->addr, e->addr, alen_of(e->family));
}

int stub_proxy_bind(struct stub *s, int family, const uint8_t *a, const struct dns_name *name,
		    uint64_t resource_id, bool notify)
{
	struct proxy_table *t = s->proxy;
	struct proxy_entry *e = entry_find(t, family, a);
	struct proxy_name *n;
	struct dns_name lname = *name;
	size_t h;

	dns_name_lower(&lname);
	if (e) {
		if (!dns_name_equal(&e->owner->name, &lname))
			return -EEXIST;
		e->resource_id = resource_id;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	n = name_find(t, &lname);
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n) {
			free(e);
			return -ENOMEM;
		}
		n->name = lname;
		h = name_bucket(t, &lname);
		n->next = t->by_name[h];
		t->by_name[h] = n;
		t->n_names++;
		grow_name(t);
	}
	e->family = family;
	memcpy(e->addr, a, alen_of(family));
	e->resource_id = resource_id;
	e->owner = n;
	if (n->tail)
		n->tail->name_next = e;
	else
		n->head = e;
	n->tail = e;
	h = addr_bucket(t, family, a);
	e->next = t->by_addr[h];
	t->by_addr[h] = e;
	t->n_entries++;
	s->stats.proxies++;
	grow_addr(t);
	if (notify && s->cfg.on_proxy) {
		struct stub_proxy p;

		to_stub_proxy(e, &p);
		s->cfg.on_proxy(s->cfg.proxy_arg, STUB_PROXY_BOUND, &p);
	}
	return 1;
}

/* Unlinks e from both indexes and frees it (and its name, if it was the last). */
static void entry_drop(struct proxy_table *t, struct proxy_entry *e)
{
	struct proxy_name *n = e->owner, **np;
	struct proxy_entry **pp, *prev = NULL;

	for (pp = &t->by_addr[addr_bucket(t, e->family, e->addr)]; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	for (pp = &n->head; *pp != e; pp = &(*pp)->name_next)
		prev = *pp;
	*pp = e->name_next;
	if (n->tail == e)
		n->tail = prev;
	free(e);
	t->n_entries--;
	if (n->head)
		return;
	for (np = &t->by_name[name_bucket(t, &n->name)]; *np != n; np = &(*np)->next)
		;
	*np = n->next;
	free(n);
	t->n_names--;
}

void stub_proxy_free_resource(struct stub *s, uint64_t id)
{
	struct proxy_table *t = s->proxy;

	for (size_t b = 0; b <= t->addr_mask; b++) {
		struct proxy_entry *e = t->by_addr[b], *next;

		for (; e; e = next) {
			struct stub_proxy p;
			int r;

			next = e->next;
			if (e->resource_id != id)
				continue;
			to_stub_proxy(e, &p);
			if (s->cfg.on_proxy)
				s->cfg.on_proxy(s->cfg.proxy_arg, STUB_PROXY_FREED, &p);
			r = s->cfg.pool ? pool_release(s->cfg.pool, p.family, p.addr) : 0;
			if (r < 0 && r != -ENOENT)
				log_rl(&s->rl, LOG_LVL_WARN, "dns: a freed proxy IP stays out of "
				       "the pool: %s", strerror(-r));
			entry_drop(t, e);
			s->stats.proxies--;
		}
	}
}

unsigned stub_proxy_of_name(const struct stub *s, const struct dns_name *name, int family,
			    uint8_t *out, unsigned max)
{
	struct dns_name lname = *name;
	const struct proxy_name *n;
	unsigned k = 0;

	dns_name_lower(&lname);
	n = name_find(s->proxy, &lname);
	for (const struct proxy_entry *e = n ? n->head : NULL; e && k < max; e = e->name_next)
		if (e->family == family)
			memcpy(out + alen_of(family) * k++, e->addr, alen_of(family));
	return k;
}

bool stub_proxy_bound_to(const struct stub *s, int family, const uint8_t *a,
			 const struct dns_name *name)
{
	const struct proxy_entry *e = entry_find(s->proxy, family, a);

	return e && dns_name_equal(&e->owner->name, name);
}

int stub_proxy_names(const struct stub *s, uint64_t id, struct stub_proxy_ref **out,
		     size_t *n_out)
{
	const struct proxy_table *t = s->proxy;
	struct stub_proxy_ref *v = NULL;
	size_t n = 0, cap = 0;

	for (size_t b = 0; b <= t->name_mask; b++) {
		for (const struct proxy_name *pn = t->by_name[b]; pn; pn = pn->next) {
			bool has4 = false, has6 = false;

			for (const struct proxy_entry *e = pn->head; e; e = e->name_next) {
				if (e->resource_id != id)
					continue;
				has4 |= e->family == AF_INET;
				has6 |= e->family == AF_INET6;
			}
			if (!has4 && !has6)
				continue;
			if (n == cap) {
				struct stub_proxy_ref *nv;

				cap = cap ? cap * 2 : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					return -ENOMEM;
				}
				v = nv;
			}
			v[n++] = (struct stub_proxy_ref){ .name = pn->name, .has4 = has4,
							  .has6 = has6 };
		}
	}
	*out = v;
	*n_out = n;
	return 0;
}

int stub_proxy_lookup(const struct stub *s, int family, const uint8_t *addr,
		      struct dns_name *name, uint64_t *resource_id)
{
	const struct proxy_entry *e;

	if (!s->proxy || (family != AF_INET && family != AF_INET6))
		return -ENOENT;
	e = entry_find(s->proxy, family, addr);
	if (!e)
		return -ENOENT;
	if (name)
		*name = e->owner->name;
	if (resource_id)
		*resource_id = e->resource_id;
	return 0;
}

int stub_proxy_restore(struct stub *s, int family, const uint8_t *addr, const char *name,
		       uint64_t resource_id)
{
	struct dns_name n;
	int r;

	if (!s->cfg.pool || (family != AF_INET && family != AF_INET6) ||
	    dns_name_from_text(&n, name) < 0 || n.len <= 1)
		return -EINVAL;
	if (stub_proxy_bound_to(s, family, addr, &n))
		return stub_proxy_bind(s, family, addr, &n, resource_id, false) < 0 ? -EEXIST : 0;
	if (stub_proxy_lookup(s, family, addr, NULL, NULL) == 0)
		return -EEXIST;
	r = pool_restore(s->cfg.pool, family, addr);
	/* -EALREADY: bound in the pool though in no name's table (a release the
	 * pool's cap refused): the name may have it. */
	if (r < 0 && r != -EALREADY)
		return r == -EAFNOSUPPORT ? -EINVAL : r;
	r = stub_proxy_bind(s, family, addr, &n, resource_id, false);
	if (r < 0) {
		if (pool_release(s->cfg.pool, family, addr) < 0)
			log_rl(&s->rl, LOG_LVL_WARN, "dns: a restored proxy IP stays out of the pool");
		return r;
	}
	return 0;
}

int stub_proxy_walk(const struct stub *s, int (*fn)(void *arg, const struct stub_proxy *p),
		    void *arg)
{
	const struct proxy_table *t = s->proxy;

	for (size_t b = 0; t && b <= t->addr_mask; b++) {
		for (const struct proxy_entry *e = t->by_addr[b]; e; e = e->next) {
			struct stub_proxy p;
			int r;

			to_stub_proxy(e, &p);
			r = fn(arg, &p);
			if (r)
				return r;
		}
	}
	return 0;
}
