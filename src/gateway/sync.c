/* The kernel made to match what a client holds: its WireGuard peer, its
 * filter elements (what it may reach) and its DNAT elements (its proxy IPs).
 * Reconciling against a record of what was installed, rather than applying
 * each change as it comes, makes every path the same (authorize, revoke,
 * expiry, a resource's new filters, a DNS binding, init after a reconnect)
 * and lets a failed step be retried by the next call. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gateway/conntrack.h"
#include "gateway/gateway_priv.h"
#include "wg/device.h"
#include "wg/uapi.h"

enum { RULES_MAX = 64 * 1024 }; /* per client: filters x destinations */

struct want {
	struct nat_rule *rules;
	size_t nrules, caprules;
	struct gw_dnat *dnats;
	size_t ndnats, capdnats;
};

/* Room for more than n entries. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	if (n >= RULES_MAX)
		return -ENOSPC;
	for (ncap = *cap ? *cap * 2 : 8; ncap <= n; ncap *= 2)
		;
	p = realloc(*v, ncap * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

static const uint8_t *client_addr(const struct ctl_client *ci, int family)
{
	return family == AF_INET ? ci->tunnel_ipv4.addr : ci->tunnel_ipv6.addr;
}

/* One rule per filter of r (one for everything when it has none), for the
 * destination dst/prefix. */
static int want_rules(struct want *w, const struct ctl_client *ci, const struct ctl_resource *r,
		      int family, const uint8_t *dst, uint8_t prefix)
{
	unsigned n = r->n_filters ? r->n_filters : 1;

	for (unsigned i = 0; i < n; i++) {
		struct nat_rule *nr;
		int err = grow((void **)&w->rules, &w->caprules, w->nrules, sizeof(*w->rules));

		if (err < 0)
			return err;
		nr = &w->rules[w->nrules++];
		memset(nr, 0, sizeof(*nr));
		nr->family = family;
		memcpy(nr->client, client_addr(ci, family), family == AF_INET ? 4 : 16);
		memcpy(nr->dst, dst, family == AF_INET ? 4 : 16);
		nr->prefix = prefix;
		if (!r->n_filters)
			continue;
		switch (r->filters[i].proto) {
		case CTL_PROTO_TCP:
			nr->proto = IPPROTO_TCP;
			break;
		case CTL_PROTO_UDP:
			nr->proto = IPPROTO_UDP;
			break;
		case CTL_PROTO_ICMP:
			nr->proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
			continue;
		}
		nr->port_lo = r->filters[i].port_lo;
		nr->port_hi = r->filters[i].port_hi;
	}
	return 0;
}

static int want_build(struct authz_client *c, struct want *w)
{
	const struct ctl_client *ci = authz_client_info(c);
	struct authz_grant g[AUTHZ_MAX_PER_CLIENT];
	const struct authz_bind *b;
	size_t ng = authz_client_grants(c, g, AUTHZ_MAX_PER_CLIENT);
	size_t nb = authz_client_binds(c, &b);
	int err;

	for (size_t i = 0; i < ng && i < AUTHZ_MAX_PER_CLIENT; i++) {
		const struct ctl_resource *r = g[i].resource;

		if (r->type != CTL_RES_DNS) {
			err = want_rules(w, ci, r, r->ip.family, r->ip.addr, r->prefix);
			if (err < 0)
				return err;
			continue;
		}
		for (size_t j = 0; j < nb; j++) {
			if (b[j].resource_id != r->id)
				continue;
			err = want_rules(w, ci, r, b[j].family, b[j].proxy,
					 b[j].family == AF_INET ? 32 : 128);
			if (err < 0)
				return err;
			err = grow((void **)&w->dnats, &w->capdnats, w->ndnats, sizeof(*w->dnats));
			if (err < 0)
				return err;
			w->dnats[w->ndnats++] = (struct gw_dnat){ .family = b[j].family };
			memcpy(w->dnats[w->ndnats - 1].proxy, b[j].proxy, 16);
			memcpy(w->dnats[w->ndnats - 1].real, b[j].real, 16);
		}
	}
	return 0;
}

/* ---- the WireGuard peer ---- */

static int peer_apply(struct gateway *g, const struct authz_client *c, bool remove)
{
	const struct ctl_client *ci = authz_client_info(c);
	struct uapi_allowed_ip aips[2] = {
		{ .family = AF_INET, .cidr = 32 },
		{ .family = AF_INET6, .cidr = 128 },
	};
	struct uapi_set_peer p = { 0 };
	struct uapi_set set = { .peers = &p, .n_peers = 1 };
	int err;

	memcpy(p.public_key, ci->public_key, CTL_KEY_LEN);
	if (remove) {
		p.flags = UAPI_PEER_REMOVE;
	} else {
		memcpy(&aips[0].ip4, ci->tunnel_ipv4.addr, 4);
		memcpy(&aips[1].ip6, ci->tunnel_ipv6.addr, 16);
		memcpy(p.preshared_key, authz_client_psk(c), CTL_KEY_LEN);
		p.flags = UAPI_PEER_PRESHARED_KEY | UAPI_PEER_REPLACE_ALLOWED_IPS;
		p.allowed_ips = aips;
		p.n_allowed_ips = 2;
	}
	err = wg_device_set(g->dev, &set);
	sodium_memzero(p.preshared_key, sizeof(p.preshared_key));
	return err;
}

/* ---- reconciliation ---- */

/* Orders for matching what is wanted against what is installed: both sides
 * are sorted once per call and walked together, so that a client's sync
 * stays O(n log n) in its bindings (each new DNS binding syncs its client). */
static int cmp_num(long a, long b)
{
	return (a > b) - (a < b);
}

static int rule_cmp(const void *pa, const void *pb)
{
	const struct nat_rule *a = pa, *b = pb;
	int d;

	if ((d = cmp_num(a->family, b->family)) || (d = memcmp(a->client, b->client, 16)) ||
	    (d = memcmp(a->dst, b->dst, 16)) || (d = cmp_num(a->prefix, b->prefix)) ||
	    (d = cmp_num(a->proto, b->proto)) || (d = cmp_num(a->port_lo, b->port_lo)))
		return d;
	return cmp_num(a->port_hi, b->port_hi);
}

static int dnat_cmp(const void *pa, const void *pb)
{
	const struct gw_dnat *a = pa, *b = pb;
	int d;

	if ((d = cmp_num(a->family, b->family)) || (d = memcmp(a->proxy, b->proxy, 16)))
		return d;
	return memcmp(a->real, b->real, 16);
}

/* qsort() and bsearch() take no NULL array, even an empty one */
static void sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

static bool dnat_in(const struct gw_dnat *d, const struct gw_dnat *v, size_t n)
{
	return n && bsearch(d, v, n, sizeof(*v), dnat_cmp);
}

/* Takes away what is installed and not wanted: filter elements first, so the
 * next packet is refused, then the flows, then the translations. Elements
 * are counted by the nat module, so duplicates pair off one by one. */
/* The destinations whose flows go, per family, collected so that conntrack's
 * table is walked once per family and client, not once per element. */
struct gone {
	struct net_prefix *v[2];
	size_t n[2], cap[2];
};

static void gone_add(struct gone *z, int family, const uint8_t *dst, uint8_t prefix)
{
	int f = family == AF_INET ? 0 : 1;

	if (grow((void **)&z->v[f], &z->cap[f], z->n[f], sizeof(*z->v[f])) < 0)
		return; /* the flows then end by their own timeouts */
	z->v[f][z->n[f]] = (struct net_prefix){ .family = family, .len = prefix };
	memcpy(z->v[f][z->n[f]].addr, dst, family == AF_INET ? 4 : 16);
	z->n[f]++;
}

static void gone_delete(struct gateway *g, const struct ctl_client *ci, struct gone *z)
{
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;

		if (z->n[f])
			ct_delete_set(g->ct, family, client_addr(ci, family), z->v[f], z->n[f]);
		free(z->v[f]);
	}
}

/* Takes away what is installed and not wanted: filter elements first, so the
 * next packet is refused, then the flows, then the translations. Elements
 * are counted by the nat module, so duplicates pair off one by one. */
static void remove_unwanted(struct gateway *g, const struct authz_client *c,
			    struct gw_installed *st, struct want *w)
{
	const struct ctl_client *ci = authz_client_info(c);
	struct gone z = { 0 };
	size_t j = 0, k = 0;

	/* sorted here, for this walk and for add_wanted's; the kept records
	 * stay in order */
	sort(st->rules, st->nrules, sizeof(*st->rules), rule_cmp);
	sort(st->dnats, st->ndnats, sizeof(*st->dnats), dnat_cmp);
	sort(w->rules, w->nrules, sizeof(*w->rules), rule_cmp);
	sort(w->dnats, w->ndnats, sizeof(*w->dnats), dnat_cmp);
	for (size_t i = 0; i < st->nrules; i++) {
		const struct nat_rule *r = &st->rules[i];

		while (k < w->nrules && rule_cmp(&w->rules[k], r) < 0)
			k++;
		if (k < w->nrules && rule_cmp(&w->rules[k], r) == 0) {
			k++; /* paired: duplicates pair off one by one */
			st->rules[j++] = *r;
			continue;
		}
		if (nat_allow_del(g->nat, r) < 0) {
			st->rules[j++] = *r; /* retried next time */
			continue;
		}
		gone_add(&z, r->family, r->dst, r->prefix);
	}
	st->nrules = j;

	j = 0;
	for (size_t i = 0; i < st->ndnats; i++) {
		const struct gw_dnat *d = &st->dnats[i];
		bool want = dnat_in(d, w->dnats, w->ndnats);

		if (want || nat_bind_del(g->nat, d->family, client_addr(ci, d->family), d->proxy) < 0) {
			st->dnats[j++] = *d;
			continue;
		}
		gone_add(&z, d->family, d->proxy, d->family == AF_INET ? 32 : 128);
	}
	st->ndnats = j;
	gone_delete(g, ci, &z);
}

/* Adds what is wanted and not installed, for each family in one nft
 * transaction, all or none (a new DNS binding is a translation and its filter
 * elements: one transaction, not one each). Both sides come sorted from
 * remove_unwanted(). */
static int add_wanted(struct gateway *g, const struct authz_client *c, struct gw_installed *st,
		      const struct want *w)
{
	const struct ctl_client *ci = authz_client_info(c);
	size_t n0 = st->nrules, nd0 = st->ndnats; /* installed (sorted) before this call */
	struct nat_bind *nb = calloc(w->ndnats + 1, sizeof(*nb));
	struct gw_dnat *nd = calloc(w->ndnats + 1, sizeof(*nd));
	struct nat_rule *nr = calloc(w->nrules + 1, sizeof(*nr));
	int err = 0;

	if (!nb || !nd || !nr) {
		err = -ENOMEM;
		goto out;
	}
	for (int f = 0; f < 2 && !err; f++) {
		int family = f ? AF_INET6 : AF_INET;
		size_t i = 0, nbind = 0, nrule = 0;

		for (size_t k = 0; k < w->ndnats; k++) {
			const struct gw_dnat *d = &w->dnats[k];

			if (d->family != family || dnat_in(d, st->dnats, nd0) ||
			    (k > 0 && dnat_cmp(d, &w->dnats[k - 1]) == 0))
				continue;
			nd[nbind] = *d;
			memcpy(nb[nbind].proxy, d->proxy, 16);
			memcpy(nb[nbind].real, d->real, 16);
			nbind++;
		}
		for (size_t k = 0; k < w->nrules; k++) {
			while (i < n0 && rule_cmp(&st->rules[i], &w->rules[k]) < 0)
				i++;
			if (i < n0 && rule_cmp(&st->rules[i], &w->rules[k]) == 0) {
				i++; /* installed: paired one by one, like the removal */
				continue;
			}
			if (w->rules[k].family == family)
				nr[nrule++] = w->rules[k];
		}
		if (!nbind && !nrule)
			continue;
		if ((err = grow((void **)&st->dnats, &st->capdnats, st->ndnats + nbind,
				sizeof(*st->dnats))) < 0 ||
		    (err = grow((void **)&st->rules, &st->caprules, st->nrules + nrule,
				sizeof(*st->rules))) < 0)
			break;
		err = nat_add_all(g->nat, family, client_addr(ci, family), nb, nbind, nr, nrule);
		if (err < 0)
			break;
		memcpy(st->dnats + st->ndnats, nd, nbind * sizeof(*nd));
		st->ndnats += nbind;
		memcpy(st->rules + st->nrules, nr, nrule * sizeof(*nr));
		st->nrules += nrule;
	}
out:
	free(nb);
	free(nd);
	free(nr);
	return err;
}

static void installed_free(struct gw_installed *st)
{
	if (!st)
		return;
	free(st->rules);
	free(st->dnats);
	sodium_memzero(st, sizeof(*st));
	free(st);
}

static void client_teardown(struct gateway *g, struct authz_client *c)
{
	const struct ctl_client *ci = authz_client_info(c);
	struct gw_installed *st = authz_client_owner(c);
	struct want none = { 0 };

	if (st) {
		remove_unwanted(g, c, st, &none);
		if (st->nrules || st->ndnats) { /* what would not go one by one */
			nat_client_flush(g->nat, AF_INET, ci->tunnel_ipv4.addr);
			nat_client_flush(g->nat, AF_INET6, ci->tunnel_ipv6.addr);
			ct_delete(g->ct, AF_INET, ci->tunnel_ipv4.addr, NULL, 0);
			ct_delete(g->ct, AF_INET6, ci->tunnel_ipv6.addr, NULL, 0);
		}
		if (st->peer && peer_apply(g, c, true) < 0)
			log_rl(&g->rl, LOG_LVL_WARN, "client %llu: could not remove its peer",
			       (unsigned long long)ci->id);
		else if (st->peer)
			log_info("client %llu: nothing left, peer removed", (unsigned long long)ci->id);
	}
	installed_free(st);
	authz_client_set_owner(c, NULL);
	authz_client_release(g->az, c);
}

int gw_sync(struct gateway *g, struct authz_client *c)
{
	struct gw_installed *st = authz_client_owner(c);
	const struct ctl_client *ci = authz_client_info(c);
	struct want w = { 0 };
	int err;

	if (authz_client_empty(c)) {
		client_teardown(g, c);
		return 0;
	}
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return -ENOMEM;
		authz_client_set_owner(c, st);
	}
	authz_bind_prune(c);
	err = want_build(c, &w);
	if (err == 0) {
		remove_unwanted(g, c, st, &w);
		err = add_wanted(g, c, st, &w);
	}
	free(w.rules);
	free(w.dnats);
	if (err < 0) {
		log_rl(&g->rl, LOG_LVL_WARN, "client %llu: filter or translation not installed: %s",
		       (unsigned long long)ci->id, strerror(-err));
		return err;
	}
	if (!st->peer || memcmp(st->psk, authz_client_psk(c), CTL_KEY_LEN) != 0) {
		err = peer_apply(g, c, false);
		if (err < 0) {
			log_rl(&g->rl, LOG_LVL_WARN, "client %llu: the device refused the peer: %s",
			       (unsigned long long)ci->id, strerror(-err));
			return err;
		}
		if (!st->peer)
			log_info("client %llu: peer added", (unsigned long long)ci->id);
		st->peer = true;
		memcpy(st->psk, authz_client_psk(c), CTL_KEY_LEN);
	}
	return 0;
}

/* A new DNS binding: its translation and filter elements, and nothing else of
 * the client looked at (a full reconcile costs with every binding the client
 * holds; this one does not). */
int gw_sync_bind(struct gateway *g, struct authz_client *c, const struct authz_bind *b,
		 const struct ctl_resource *r)
{
	struct gw_installed *st = authz_client_owner(c);
	const struct ctl_client *ci = authz_client_info(c);
	struct want w = { 0 };
	struct nat_bind nb = { 0 };
	int err;

	if (!st || !st->peer)
		return gw_sync(g, c);
	err = want_rules(&w, ci, r, b->family, b->proxy, b->family == AF_INET ? 32 : 128);
	if (err == 0)
		err = grow((void **)&st->rules, &st->caprules, st->nrules + w.nrules,
			   sizeof(*st->rules));
	if (err == 0)
		err = grow((void **)&st->dnats, &st->capdnats, st->ndnats + 1, sizeof(*st->dnats));
	if (err == 0) {
		memcpy(nb.proxy, b->proxy, 16);
		memcpy(nb.real, b->real, 16);
		err = nat_add_all(g->nat, b->family, client_addr(ci, b->family), &nb, 1, w.rules,
				  w.nrules);
	}
	if (err == 0) { /* records unsorted at the end: the next reconcile sorts */
		memcpy(st->rules + st->nrules, w.rules, w.nrules * sizeof(*w.rules));
		st->nrules += w.nrules;
		st->dnats[st->ndnats] = (struct gw_dnat){ .family = b->family };
		memcpy(st->dnats[st->ndnats].proxy, b->proxy, 16);
		memcpy(st->dnats[st->ndnats].real, b->real, 16);
		st->ndnats++;
	}
	free(w.rules);
	/* -EEXIST: the proxy IP was in a record of an earlier binding the endpoint
	 * forgot; a full reconcile replaces it. */
	return err == -EEXIST ? gw_sync(g, c) : err;
}

void gw_sync_dirty(struct gateway *g)
{
	struct authz_client *c;

	while ((c = authz_take_dirty(g->az)))
		gw_sync(g, c);
}

/* Shutdown: the table and the device go whole (nat_free, wg_device_free), so
 * only the records are freed here. */
static int forget_one(struct authz_client *c, void *arg)
{
	(void)arg;
	installed_free(authz_client_owner(c));
	authz_client_set_owner(c, NULL);
	return 0;
}

void gw_sync_teardown(struct gateway *g)
{
	authz_walk(g->az, forget_one, NULL);
}
