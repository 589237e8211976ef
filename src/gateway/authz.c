/* The gateway's authorization table. See authz.h. */
#include "gateway/authz.h"
#include "gateway/authz_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "dns/binding.h"
#include "dns/msg.h"
#include "dns/restable.h"
#include "net/prefix.h"

enum {
	MATCH_MAX = 64,         /* DNS resources considered for one name */
};

/* A resource some client holds; shared by its holders. */
struct held {
	struct ctl_resource r;
	size_t users;
};

struct auth {
	struct held *h;
	uint64_t ref;
	int64_t expires_at;
};

struct authz_client {
	struct ctl_client info;
	uint8_t psk[CTL_KEY_LEN];
	struct auth *auths;
	size_t n, cap;
	struct binding_table *bt;
	struct authz_bind *binds;
	size_t nb, capb;
	void *owner;
	const struct authz *az;
	struct authz_client *next_dirty;
	bool dirty;
};

struct authz {
	struct authz_index by_id, by_addr;
	struct held **res;      /* sorted by id */
	size_t nres, capres;
	struct restable *dns;   /* the DNS resources held, for matching */
	struct authz_client *dirty_head, *dirty_tail;
	size_t max_binds;
};

/* ---- held resources ---- */

static size_t res_pos(const struct authz *a, uint64_t id, bool *found)
{
	size_t lo = 0, hi = a->nres;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->res[mid]->r.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < a->nres && a->res[lo]->r.id == id;
	return lo;
}

static struct held *res_get(const struct authz *a, uint64_t id)
{
	bool found;
	size_t i = res_pos(a, id, &found);

	return found ? a->res[i] : NULL;
}

static int res_index(struct authz *a, struct held *h)
{
	if (h->r.type != CTL_RES_DNS)
		return 0;
	return restable_put(a->dns, h->r.id, h->r.address, h, NULL, 0);
}

/* A holder for resource r: the held copy, made if new (content as given). */
static int res_hold(struct authz *a, const struct ctl_resource *r, struct held **out)
{
	bool found;
	size_t i = res_pos(a, r->id, &found);
	struct held *h;
	int err;

	if (found) {
		*out = a->res[i];
		return 0;
	}
	if (a->nres == a->capres) {
		size_t cap = a->capres ? a->capres * 2 : 16;
		struct held **v = realloc(a->res, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->res = v;
		a->capres = cap;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->r = *r;
	err = res_index(a, h);
	if (err < 0) {
		free(h);
		return err;
	}
	memmove(&a->res[i + 1], &a->res[i], (a->nres - i) * sizeof(*a->res));
	a->res[i] = h;
	a->nres++;
	*out = h;
	return 0;
}

static void res_unhold(struct authz *a, struct held *h)
{
	bool found;
	size_t i;

	if (--h->users)
		return;
	i = res_pos(a, h->r.id, &found);
	if (h->r.type == CTL_RES_DNS)
		restable_remove(a->dns, h->r.id);
	memmove(&a->res[i], &a->res[i + 1], (a->nres - i - 1) * sizeof(*a->res));
	a->nres--;
	free(h);
}

/* ---- clients ---- */

static void mark(struct authz *a, struct authz_client *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->next_dirty = NULL;
	if (a->dirty_tail)
		a->dirty_tail->next_dirty = c;
	else
		a->dirty_head = c;
	a->dirty_tail = c;
}

/* Drops the records whose proxy the table no longer binds. */
static void binds_prune(struct authz_client *c)
{
	size_t j = 0;

	for (size_t i = 0; i < c->nb; i++) {
		const struct authz_bind *b = &c->binds[i];
		size_t alen = b->family == AF_INET ? 4 : 16;

		if (binding_lookup_proxy(c->bt, b->proxy, alen, NULL, (uint8_t[16]){ 0 }) == 0)
			c->binds[j++] = *b;
	}
	c->nb = j;
}

/* Forgets the names bound under resource id (every name, if id is 0). */
static void binds_drop_resource(struct authz_client *c, uint64_t id)
{
	bool any = false;

	for (size_t i = 0; i < c->nb; i++) {
		const struct authz_bind *b = &c->binds[i];
		struct dns_name name;
		uint8_t real[16];

		if (id && b->resource_id != id)
			continue;
		if (binding_lookup_proxy(c->bt, b->proxy, b->family == AF_INET ? 4 : 16, &name,
					 real) == 0)
			binding_forget_name(c->bt, &name);
		any = true;
	}
	if (any)
		binds_prune(c);
}

static void auth_remove(struct authz *a, struct authz_client *c, size_t i)
{
	struct held *h = c->auths[i].h;

	binds_drop_resource(c, h->r.id);
	c->auths[i] = c->auths[--c->n];
	res_unhold(a, h);
	if (!c->n)
		sodium_memzero(c->psk, sizeof(c->psk));
	mark(a, c);
}

static struct auth *auth_find(const struct authz_client *c, uint64_t resource_id, size_t *pos)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->auths[i].h->r.id == resource_id) {
			if (pos)
				*pos = i;
			return &c->auths[i];
		}
	return NULL;
}

static void client_free(struct authz_client *c)
{
	binding_table_free(c->bt);
	free(c->auths);
	free(c->binds);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

static int client_new(struct authz *a, const struct ctl_client *info, struct authz_client **out)
{
	struct authz_client *c;
	uint8_t k[AUTHZ_KEY_LEN];
	int r = -ENOMEM;

	if (authz_count(a) >= AUTHZ_MAX_CLIENTS)
		return -ENOSPC;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->info = *info;
	c->az = a;
	c->bt = binding_table_new(a->max_binds);
	if (!c->bt)
		goto fail;
	authz_key_id(k, info->id);
	if ((r = authz_ix_put(&a->by_id, k, c)) < 0)
		goto fail;
	authz_key_addr(k, AF_INET, info->tunnel_ipv4.addr);
	if ((r = authz_ix_put(&a->by_addr, k, c)) < 0)
		goto fail_id;
	authz_key_addr(k, AF_INET6, info->tunnel_ipv6.addr);
	if ((r = authz_ix_put(&a->by_addr, k, c)) < 0)
		goto fail_v4;
	*out = c;
	return 0;
fail_v4:
	authz_key_addr(k, AF_INET, info->tunnel_ipv4.addr);
	authz_ix_del(&a->by_addr, k);
fail_id:
	authz_key_id(k, info->id);
	authz_ix_del(&a->by_id, k);
fail:
	client_free(c);
	return r;
}

struct authz *authz_new(size_t max_binds)
{
	struct authz *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (authz_ix_init(&a->by_id) < 0 || authz_ix_init(&a->by_addr) < 0 ||
	    restable_new(&a->dns, AUTHZ_MAX_CLIENTS) < 0) {
		free(a);
		return NULL;
	}
	a->max_binds = max_binds ? max_binds : AUTHZ_MAX_BINDS;
	return a;
}

void authz_free(struct authz *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->by_id.cap; i++)
		if (a->by_id.v[i].c)
			client_free(a->by_id.v[i].c);
	for (size_t i = 0; i < a->nres; i++)
		free(a->res[i]);
	free(a->res);
	authz_ix_free(&a->by_id);
	authz_ix_free(&a->by_addr);
	restable_free(a->dns);
	free(a);
}

static bool same_addrs(const struct ctl_client *x, const struct ctl_client *y)
{
	return memcmp(x->tunnel_ipv4.addr, y->tunnel_ipv4.addr, 4) == 0 &&
	       memcmp(x->tunnel_ipv6.addr, y->tunnel_ipv6.addr, 16) == 0;
}

static bool res_equal(const struct ctl_resource *x, const struct ctl_resource *y)
{
	return x->type == y->type && strcmp(x->address, y->address) == 0;
}

/* New content for a held resource: filters may change freely; a new type or
 * pattern ends the names bound under it. */
static int res_update(struct authz *a, struct held *h, const struct ctl_resource *r)
{
	bool moved = !res_equal(&h->r, r);
	struct ctl_resource old = h->r;
	int err;

	h->r = *r;
	if (moved) {
		if (old.type == CTL_RES_DNS)
			restable_remove(a->dns, old.id);
		err = res_index(a, h);
		if (err < 0) { /* keep the old one: the new pattern is unusable */
			h->r = old;
			res_index(a, h);
			return err;
		}
	}
	for (size_t i = 0; i < a->by_id.cap; i++) {
		struct authz_client *c = a->by_id.v[i].c;

		if (!c || !auth_find(c, r->id, NULL))
			continue;
		if (moved)
			binds_drop_resource(c, r->id);
		mark(a, c);
	}
	return 0;
}

int authz_put(struct authz *a, const struct ctl_authorization *in)
{
	struct authz_client *c = authz_client_by_id(a, in->client.id), *other;
	struct held *h = NULL;
	struct auth *au;
	bool made = false;
	int r;

	if (in->client.tunnel_ipv4.family != AF_INET || in->client.tunnel_ipv6.family != AF_INET6)
		return -EINVAL;
	if (c) {
		if (memcmp(c->info.public_key, in->client.public_key, CTL_KEY_LEN) != 0 ||
		    !same_addrs(&c->info, &in->client))
			return -EEXIST;
	} else {
		other = authz_client_by_addr(a, AF_INET, in->client.tunnel_ipv4.addr);
		if (!other)
			other = authz_client_by_addr(a, AF_INET6, in->client.tunnel_ipv6.addr);
		if (other)
			return -EEXIST;
		for (size_t i = 0; i < a->by_id.cap; i++)
			if (a->by_id.v[i].c && memcmp(a->by_id.v[i].c->info.public_key,
						      in->client.public_key, CTL_KEY_LEN) == 0)
				return -EEXIST; /* one key, one WireGuard peer */
		r = client_new(a, &in->client, &c);
		if (r < 0)
			return r;
		made = true;
	}
	au = auth_find(c, in->resource.id, NULL);
	if (!au && c->n >= AUTHZ_MAX_PER_CLIENT) {
		r = -ENOSPC;
		goto fail;
	}
	if (!au && c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4;
		struct auth *v = realloc(c->auths, cap * sizeof(*v));

		if (!v) {
			r = -ENOMEM;
			goto fail;
		}
		c->auths = v;
		c->cap = cap;
	}
	r = res_hold(a, &in->resource, &h);
	if (r < 0)
		goto fail;
	/* A held resource takes the newer content; content the gateway cannot
	 * use refuses this authorization and keeps the old. */
	if (h->users && memcmp(&h->r, &in->resource, sizeof(h->r)) != 0) {
		r = res_update(a, h, &in->resource);
		if (r < 0)
			goto fail;
	}
	if (!au) {
		au = &c->auths[c->n++];
		au->h = h;
		h->users++;
	}
	au->ref = in->ref;
	au->expires_at = in->expires_at;
	memcpy(c->psk, in->psk, CTL_KEY_LEN);
	mark(a, c);
	return 0;
fail:
	if (made)
		authz_client_release(a, c);
	return r;
}

int authz_revoke(struct authz *a, uint64_t client_id, uint64_t resource_id)
{
	struct authz_client *c = authz_client_by_id(a, client_id);
	size_t i;

	if (!c || !auth_find(c, resource_id, &i))
		return -ENOENT;
	auth_remove(a, c, i);
	return 0;
}

static int pair_cmp(const void *x, const void *y)
{
	const uint64_t *p = x, *q = y;

	if (p[0] != q[0])
		return p[0] < q[0] ? -1 : 1;
	return p[1] < q[1] ? -1 : p[1] > q[1];
}

void authz_retain_refs(struct authz *a, const struct ctl_authorization *v, size_t n)
{
	uint64_t (*keep)[2] = n ? calloc(n, sizeof(*keep)) : NULL;

	if (n && !keep)
		return; /* out of memory: keep everything rather than drop live flows */
	for (size_t i = 0; i < n; i++) {
		keep[i][0] = v[i].client.id;
		keep[i][1] = v[i].resource.id;
	}
	if (n > 1) /* qsort() takes no NULL array, even an empty one */
		qsort(keep, n, sizeof(*keep), pair_cmp);
	for (size_t s = 0; s < a->by_id.cap; s++) {
		struct authz_client *c = a->by_id.v[s].c;

		for (size_t i = 0; c && i < c->n;) {
			uint64_t k[2] = { c->info.id, c->auths[i].h->r.id };

			if (n && bsearch(k, keep, n, sizeof(*keep), pair_cmp))
				i++;
			else
				auth_remove(a, c, i);
		}
	}
	free(keep);
}

int authz_resource_update(struct authz *a, const struct ctl_resource *r)
{
	struct held *h = res_get(a, r->id);

	if (!h)
		return -ENOENT;
	return res_update(a, h, r);
}

size_t authz_resource_delete(struct authz *a, uint64_t resource_id)
{
	size_t gone = 0, i;

	for (size_t s = 0; s < a->by_id.cap; s++) {
		struct authz_client *c = a->by_id.v[s].c;

		if (c && auth_find(c, resource_id, &i)) {
			auth_remove(a, c, i);
			gone++;
		}
	}
	return gone;
}

size_t authz_expire(struct authz *a, int64_t now)
{
	size_t gone = 0;

	for (size_t s = 0; s < a->by_id.cap; s++) {
		struct authz_client *c = a->by_id.v[s].c;

		for (size_t i = 0; c && i < c->n;) {
			if (c->auths[i].expires_at <= now) {
				auth_remove(a, c, i);
				gone++;
			} else {
				i++;
			}
		}
	}
	return gone;
}

int64_t authz_next_expiry(const struct authz *a)
{
	int64_t t = INT64_MAX;

	for (size_t s = 0; s < a->by_id.cap; s++) {
		const struct authz_client *c = a->by_id.v[s].c;

		for (size_t i = 0; c && i < c->n; i++)
			if (c->auths[i].expires_at < t)
				t = c->auths[i].expires_at;
	}
	return t;
}

size_t authz_count(const struct authz *a)
{
	return a->by_id.n;
}

struct authz_client *authz_client_by_id(const struct authz *a, uint64_t id)
{
	uint8_t k[AUTHZ_KEY_LEN];
	struct authz_slot *s;

	authz_key_id(k, id);
	s = authz_ix_find(&a->by_id, k);
	return s ? s->c : NULL;
}

struct authz_client *authz_client_by_addr(const struct authz *a, int family, const uint8_t *addr)
{
	uint8_t k[AUTHZ_KEY_LEN];
	struct authz_slot *s;

	if (family != AF_INET && family != AF_INET6)
		return NULL;
	authz_key_addr(k, family, addr);
	s = authz_ix_find(&a->by_addr, k);
	return s ? s->c : NULL;
}

struct authz_client *authz_take_dirty(struct authz *a)
{
	struct authz_client *c = a->dirty_head;

	if (!c)
		return NULL;
	a->dirty_head = c->next_dirty;
	if (!a->dirty_head)
		a->dirty_tail = NULL;
	c->dirty = false;
	c->next_dirty = NULL;
	return c;
}

void authz_client_release(struct authz *a, struct authz_client *c)
{
	uint8_t k[AUTHZ_KEY_LEN];

	while (c->n)
		auth_remove(a, c, c->n - 1);
	if (c->dirty) { /* unlink from the dirty queue */
		struct authz_client **pp = &a->dirty_head, *prev = NULL;

		while (*pp && *pp != c) {
			prev = *pp;
			pp = &(*pp)->next_dirty;
		}
		if (*pp)
			*pp = c->next_dirty;
		if (a->dirty_tail == c)
			a->dirty_tail = prev;
	}
	authz_key_id(k, c->info.id);
	authz_ix_del(&a->by_id, k);
	authz_key_addr(k, AF_INET, c->info.tunnel_ipv4.addr);
	authz_ix_del(&a->by_addr, k);
	authz_key_addr(k, AF_INET6, c->info.tunnel_ipv6.addr);
	authz_ix_del(&a->by_addr, k);
	client_free(c);
}

int authz_walk(struct authz *a, int (*fn)(struct authz_client *c, void *arg), void *arg)
{
	/* fn may release the client it is given: the slot's successor may then
	 * shift back into this slot, so the slot is visited again when it changed. */
	for (size_t s = 0; s < a->by_id.cap; s++) {
		struct authz_client *c = a->by_id.v[s].c;
		int r;

		if (!c)
			continue;
		r = fn(c, arg);
		if (r)
			return r;
		if (a->by_id.v[s].c && a->by_id.v[s].c != c)
			s--;
	}
	return 0;
}

const struct ctl_client *authz_client_info(const struct authz_client *c)
{
	return &c->info;
}

const uint8_t *authz_client_psk(const struct authz_client *c)
{
	return c->psk;
}

bool authz_client_empty(const struct authz_client *c)
{
	return c->n == 0;
}

size_t authz_client_grants(const struct authz_client *c, struct authz_grant *out, size_t max)
{
	for (size_t i = 0; i < c->n && i < max; i++)
		out[i] = (struct authz_grant){ &c->auths[i].h->r, c->auths[i].expires_at };
	return c->n;
}

void *authz_client_owner(const struct authz_client *c)
{
	return c->owner;
}

void authz_client_set_owner(struct authz_client *c, void *owner)
{
	c->owner = owner;
}

/* The restable is shared by every client; the first match this client holds
 * is its most specific, since matches come most specific first. */
const struct ctl_resource *authz_client_covers(const struct authz_client *c,
					       const struct dns_name *name)
{
	const struct restable_entry *m[MATCH_MAX];
	char text[DNS_NAME_TEXT_MAX];
	int len = dns_name_to_text(name, text, sizeof(text));
	size_t n;

	if (len <= 0 || !c->n)
		return NULL;
	n = restable_match_all(c->az->dns, text, (size_t)len, m, MATCH_MAX);
	for (size_t i = 0; i < n && i < MATCH_MAX; i++)
		if (auth_find(c, m[i]->id, NULL))
			return &((const struct held *)m[i]->data)->r;
	return NULL;
}

struct binding_table *authz_client_bindings(struct authz_client *c)
{
	return c->bt;
}

int authz_bind_add(struct authz_client *c, const struct authz_bind *b)
{
	size_t alen = b->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < c->nb; i++)
		if (c->binds[i].family == b->family && memcmp(c->binds[i].proxy, b->proxy, alen) == 0) {
			c->binds[i] = *b;
			return 0;
		}
	if (c->nb == c->capb) {
		size_t cap = c->capb ? c->capb * 2 : 8;
		struct authz_bind *v;

		if (cap > AUTHZ_MAX_BINDS * 2)
			return -ENOSPC;
		v = realloc(c->binds, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->binds = v;
		c->capb = cap;
	}
	c->binds[c->nb++] = *b;
	return 0;
}

void authz_bind_del(struct authz_client *c, int family, const uint8_t *proxy)
{
	size_t alen = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < c->nb; i++)
		if (c->binds[i].family == family && memcmp(c->binds[i].proxy, proxy, alen) == 0) {
			c->binds[i] = c->binds[--c->nb];
			return;
		}
}

void authz_bind_prune(struct authz_client *c)
{
	binds_prune(c);
}

void authz_bind_forget_name(struct authz_client *c, const struct dns_name *name)
{
	binding_forget_name(c->bt, name);
	binds_prune(c);
}

size_t authz_client_binds(const struct authz_client *c, const struct authz_bind **out)
{
	*out = c->binds;
	return c->nb;
}

uint64_t authz_client_resource_for(const struct authz_client *c, int family, const uint8_t *dst)
{
	size_t alen = family == AF_INET ? 4 : 16;
	uint64_t best = 0;
	int best_len = -1;

	for (size_t i = 0; i < c->nb; i++)
		if (c->binds[i].family == family && memcmp(c->binds[i].proxy, dst, alen) == 0)
			return c->binds[i].resource_id;
	for (size_t i = 0; i < c->n; i++) {
		const struct ctl_resource *r = &c->auths[i].h->r;

		if (r->type == CTL_RES_DNS || r->ip.family != family)
			continue;
		struct net_prefix p = { .family = family, .len = r->prefix };

		memcpy(p.addr, r->ip.addr, sizeof(p.addr));
		if (prefix_contains(&p, family, dst) && r->prefix > best_len) {
			best = r->id;
			best_len = r->prefix;
		}
	}
	return best;
}
