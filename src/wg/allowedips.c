/* A path-compressed binary trie per family, as the Linux module's allowedips.c:
 * a node exists only for a stored prefix or where two stored prefixes diverge,
 * so n prefixes need at most 2n - 1 nodes, and a lookup follows one path down,
 * at most 33 or 129 nodes, usually about log2(n).
 *
 * A lookup is a chain of dependent loads, one per level, so nodes are small
 * and dense: one array, linked by 32-bit indices, 32 bytes each (two per cache
 * line), with what only writers need (parent, the owner's list) in a parallel
 * array. 20k prefixes take about 1.2 MB, inside a core's L2, and no lookup
 * allocates or writes.
 *
 * Keys are two host-order 64-bit words (IPv4 in the top 32 bits of the first),
 * so one code path serves both families.
 *
 * Each peer's prefixes are chained in insertion order from an owner record found
 * through a small pointer hash, so walking or removing one peer costs what that
 * peer has, not what the table has. */
#include "wg/allowedips.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Index 0 of the node and owner arrays is never used: 0 means "none". */
struct node {
	uint64_t key[2];   /* masked to cidr */
	uint32_t child[2];
	uint32_t owner;    /* 0: only a branch point, which has two children */
	uint8_t cidr;
	uint8_t bits;      /* 32 or 128: which root it hangs from */
};

struct link {
	uint32_t parent;
	uint32_t pnext, pprev; /* the owner's prefixes; pnext also chains free nodes */
};

struct owner {
	void *peer;        /* NULL: a free record */
	uint32_t hnext;    /* hash chain; also chains free records */
	uint32_t head, tail;
	uint32_t n;
};

struct allowedips {
	uint32_t root4, root6;
	struct node *nodes;
	struct link *links;
	uint32_t nodes_cap, nodes_hw, nodes_free; /* array length, high water, free list */
	uint32_t nodes_used;
	struct owner *owners;
	uint32_t owners_cap, owners_hw, owners_free;
	uint32_t *buckets;  /* owners by peer pointer; a power of two */
	uint32_t nbuckets, nowners;
	size_t count, max;
};

enum {
	OWNER_BUCKETS_MIN = 16,
	ARRAY_MIN = 16,
	MAX_ENTRIES = 1 << 28, /* node indices and array sizes stay far from 2^32 */
};

/* ---- keys ---- */

static int key_load(int family, const void *addr, unsigned cidr, uint64_t key[2],
		    unsigned *bits)
{
	uint32_t v4;

	if (family == AF_INET) {
		memcpy(&v4, addr, 4);
		key[0] = (uint64_t)be32toh(v4) << 32;
		key[1] = 0;
		*bits = 32;
	} else if (family == AF_INET6) {
		memcpy(key, addr, 16);
		key[0] = be64toh(key[0]);
		key[1] = be64toh(key[1]);
		*bits = 128;
	} else {
		return -EINVAL;
	}
	return cidr <= *bits ? 0 : -EINVAL;
}

/* Shifts stay below 64 for every cidr in 0..128; the compiler makes cmovs. */
static uint64_t mask_hi(unsigned cidr)
{
	return cidr >= 64 ? ~0ull : ~(~0ull >> cidr);
}

static uint64_t mask_lo(unsigned cidr)
{
	return cidr >= 128 ? ~0ull : cidr <= 64 ? 0 : ~(~0ull >> (cidr - 64));
}

static void key_mask(uint64_t key[2], unsigned cidr)
{
	key[0] &= mask_hi(cidr);
	key[1] &= mask_lo(cidr);
}

static bool key_in(const uint64_t key[2], const struct node *n)
{
	return ((key[0] ^ n->key[0]) & mask_hi(n->cidr)) == 0 &&
	       ((key[1] ^ n->key[1]) & mask_lo(n->cidr)) == 0;
}

/* Bit i (0 = most significant) of the key; i < 128. */
static unsigned bit_at(const uint64_t key[2], unsigned i)
{
	return i < 64 ? (key[0] >> (63 - i)) & 1 : (key[1] >> (127 - i)) & 1;
}

static unsigned common_bits(const uint64_t a[2], const uint64_t b[2])
{
	uint64_t x = a[0] ^ b[0];

	if (x)
		return (unsigned)__builtin_clzll(x);
	x = a[1] ^ b[1];
	return x ? 64 + (unsigned)__builtin_clzll(x) : 128;
}

/* ---- arrays ---- */

/* Doubling from ARRAY_MIN; need <= 2^29 + 3 given MAX_ENTRIES, so no wrap. */
static uint32_t cap_for(uint32_t cap, uint32_t need)
{
	uint32_t ncap = cap ? cap : ARRAY_MIN;

	while (ncap < need)
		ncap *= 2;
	return ncap;
}

/* Makes sure `n` node allocations cannot fail. */
static int nodes_reserve(struct allowedips *t, uint32_t n)
{
	struct node *nodes;
	struct link *links;
	uint32_t ncap;

	if (t->nodes_cap >= t->nodes_hw + n)
		return 0;
	ncap = cap_for(t->nodes_cap, t->nodes_hw + n);
	nodes = realloc(t->nodes, (size_t)ncap * sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	t->nodes = nodes;
	links = realloc(t->links, (size_t)ncap * sizeof(*links));
	if (!links)
		return -ENOMEM; /* nodes stays larger than nodes_cap says: harmless */
	t->links = links;
	t->nodes_cap = ncap;
	return 0;
}

static int owners_reserve(struct allowedips *t)
{
	struct owner *owners;
	uint32_t ncap;

	if (t->owners_free || t->owners_cap > t->owners_hw)
		return 0;
	ncap = cap_for(t->owners_cap, t->owners_hw + 1);
	owners = realloc(t->owners, (size_t)ncap * sizeof(*owners));
	if (!owners)
		return -ENOMEM;
	t->owners = owners;
	t->owners_cap = ncap;
	return 0;
}

static uint32_t node_alloc(struct allowedips *t, const uint64_t key[2], unsigned cidr,
			   unsigned bits)
{
	uint32_t i = t->nodes_free;

	if (i)
		t->nodes_free = t->links[i].pnext;
	else
		i = t->nodes_hw++;
	t->nodes[i] = (struct node){ .key = { key[0], key[1] }, .cidr = (uint8_t)cidr,
				     .bits = (uint8_t)bits };
	key_mask(t->nodes[i].key, cidr);
	t->links[i] = (struct link){ 0 };
	t->nodes_used++;
	return i;
}

static void node_release(struct allowedips *t, uint32_t i)
{
	t->nodes[i] = (struct node){ 0 };
	t->links[i] = (struct link){ .pnext = t->nodes_free };
	t->nodes_free = i;
	t->nodes_used--;
}

/* ---- owners ---- */

static uint32_t peer_hash(const void *peer, uint32_t nbuckets)
{
	uint64_t h = (uint64_t)(uintptr_t)peer * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) & (nbuckets - 1);
}

static uint32_t owner_slot(const struct allowedips *t, const void *peer)
{
	return peer_hash(peer, t->nbuckets);
}

static uint32_t owner_find(const struct allowedips *t, const void *peer)
{
	uint32_t o;

	if (!peer)
		return 0;
	for (o = t->buckets[owner_slot(t, peer)]; o; o = t->owners[o].hnext)
		if (t->owners[o].peer == peer)
			return o;
	return 0;
}

static void owners_rehash(struct allowedips *t)
{
	uint32_t n = t->nbuckets * 2, *b = calloc(n, sizeof(*b)), i, o, next, s;

	if (!b)
		return; /* longer chains, still correct */
	for (i = 0; i < t->nbuckets; i++) {
		for (o = t->buckets[i]; o; o = next) {
			next = t->owners[o].hnext;
			s = peer_hash(t->owners[o].peer, n);
			t->owners[o].hnext = b[s];
			b[s] = o;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

/* The owner record of peer, created if need be; 0 on allocation failure. */
static uint32_t owner_get(struct allowedips *t, void *peer)
{
	uint32_t o = owner_find(t, peer), s;

	if (o)
		return o;
	if (owners_reserve(t) < 0)
		return 0;
	if (t->nowners >= t->nbuckets)
		owners_rehash(t);
	o = t->owners_free;
	if (o)
		t->owners_free = t->owners[o].hnext;
	else
		o = t->owners_hw++;
	s = owner_slot(t, peer);
	t->owners[o] = (struct owner){ .peer = peer, .hnext = t->buckets[s] };
	t->buckets[s] = o;
	t->nowners++;
	return o;
}

/* Owners live only while they own something. */
static void owner_put_if_empty(struct allowedips *t, uint32_t o)
{
	uint32_t *pp;

	if (t->owners[o].n)
		return;
	for (pp = &t->buckets[owner_slot(t, t->owners[o].peer)]; *pp != o;
	     pp = &t->owners[*pp].hnext)
		;
	*pp = t->owners[o].hnext;
	t->owners[o] = (struct owner){ .hnext = t->owners_free };
	t->owners_free = o;
	t->nowners--;
}

static void owner_append(struct allowedips *t, uint32_t o, uint32_t n)
{
	struct owner *ow = &t->owners[o];

	t->nodes[n].owner = o;
	t->links[n].pnext = 0;
	t->links[n].pprev = ow->tail;
	if (ow->tail)
		t->links[ow->tail].pnext = n;
	else
		ow->head = n;
	ow->tail = n;
	ow->n++;
}

static void owner_unlink(struct allowedips *t, uint32_t n)
{
	uint32_t o = t->nodes[n].owner;
	struct link *l = &t->links[n];

	if (l->pprev)
		t->links[l->pprev].pnext = l->pnext;
	else
		t->owners[o].head = l->pnext;
	if (l->pnext)
		t->links[l->pnext].pprev = l->pprev;
	else
		t->owners[o].tail = l->pprev;
	l->pnext = l->pprev = 0;
	t->nodes[n].owner = 0;
	t->owners[o].n--;
	owner_put_if_empty(t, o);
}

/* ---- trie ---- */

static uint32_t *root_of(struct allowedips *t, unsigned bits)
{
	return bits == 32 ? &t->root4 : &t->root6;
}

/* The index that points at n. */
static uint32_t *slot_of(struct allowedips *t, uint32_t n)
{
	uint32_t p = t->links[n].parent;

	if (!p)
		return root_of(t, t->nodes[n].bits);
	return &t->nodes[p].child[t->nodes[p].child[1] == n];
}

/* Gives an existing node (stored prefix or branch point) to peer. */
static int node_claim(struct allowedips *t, uint32_t n, void *peer)
{
	uint32_t cur = t->nodes[n].owner, o;

	if (cur && t->owners[cur].peer == peer)
		return 0; /* keeps its place in the walk order */
	if (!cur && t->count >= t->max)
		return -ENOSPC;
	o = owner_get(t, peer);
	if (!o)
		return -ENOMEM;
	if (cur)
		owner_unlink(t, n);
	else
		t->count++;
	owner_append(t, o, n);
	return 0;
}

/* Drops n's prefix and any node that no longer stores or splits anything. */
static void node_remove(struct allowedips *t, uint32_t n)
{
	uint32_t *slot, child, parent;

	owner_unlink(t, n);
	t->count--;
	if (t->nodes[n].child[0] && t->nodes[n].child[1])
		return; /* still where two subtrees diverge */
	child = t->nodes[n].child[0] | t->nodes[n].child[1];
	parent = t->links[n].parent;
	slot = slot_of(t, n);
	*slot = child;
	node_release(t, n);
	if (child) {
		t->links[child].parent = parent;
		return;
	}
	/* A leaf went: a parent that was only a branch point now has one child. */
	if (parent && !t->nodes[parent].owner) {
		child = t->nodes[parent].child[0] | t->nodes[parent].child[1];
		slot = slot_of(t, parent);
		*slot = child;
		t->links[child].parent = t->links[parent].parent;
		node_release(t, parent);
	}
}

static uint32_t node_find(struct allowedips *t, const uint64_t key[2], unsigned cidr,
			  unsigned bits)
{
	uint32_t n = *root_of(t, bits);

	while (n && t->nodes[n].cidr <= cidr && key_in(key, &t->nodes[n])) {
		if (t->nodes[n].cidr == cidr)
			return n;
		n = t->nodes[n].child[bit_at(key, t->nodes[n].cidr)];
	}
	return 0;
}

/* ---- API ---- */

int wg_allowedips_new(struct allowedips **out, size_t max_entries)
{
	struct allowedips *t;

	if (max_entries > MAX_ENTRIES)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->buckets = calloc(OWNER_BUCKETS_MIN, sizeof(*t->buckets));
	if (!t->buckets)
		goto err;
	t->nbuckets = OWNER_BUCKETS_MIN;
	t->nodes_hw = t->owners_hw = 1; /* index 0 is "none" */
	if (nodes_reserve(t, 1) < 0)
		goto err_buckets;
	t->max = max_entries;
	*out = t;
	return 0;

err_buckets:
	free(t->buckets);
	free(t->nodes);
	free(t->links);
err:
	free(t);
	return -ENOMEM;
}

void wg_allowedips_free(struct allowedips *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->links);
	free(t->owners);
	free(t->buckets);
	free(t);
}

int wg_allowedips_insert(struct allowedips *t, int family, const void *addr,
			 unsigned cidr, void *peer)
{
	uint32_t *slot, n, parent = 0, fresh, branch = 0, o;
	unsigned bits, common = 0;
	uint64_t key[2];

	if (key_load(family, addr, cidr, key, &bits) < 0 || !peer)
		return -EINVAL;
	key_mask(key, cidr);

	/* Descend while the node's prefix is a proper prefix of the new one. */
	for (slot = root_of(t, bits); (n = *slot);
	     slot = &t->nodes[n].child[bit_at(key, t->nodes[n].cidr)]) {
		common = common_bits(key, t->nodes[n].key);
		if (common > cidr)
			common = cidr;
		if (common > t->nodes[n].cidr)
			common = t->nodes[n].cidr;
		if (common == cidr && cidr == t->nodes[n].cidr)
			return node_claim(t, n, peer);
		if (common < t->nodes[n].cidr)
			break; /* the new prefix goes above n */
		parent = n;
	}

	if (t->count >= t->max)
		return -ENOSPC;
	/* Reserve first: the arrays may move, and nothing may fail half-linked. */
	if (nodes_reserve(t, 2) < 0)
		return -ENOMEM;
	o = owner_get(t, peer);
	if (!o)
		return -ENOMEM;
	slot = parent ? &t->nodes[parent].child[bit_at(key, t->nodes[parent].cidr)]
		      : root_of(t, bits);

	fresh = node_alloc(t, key, cidr, bits);
	if (!n) {
		t->links[fresh].parent = parent;
		*slot = fresh;
	} else if (common == cidr) {
		/* The new prefix contains n: it takes n's place, n below it. */
		t->links[fresh].parent = parent;
		t->nodes[fresh].child[bit_at(t->nodes[n].key, cidr)] = n;
		t->links[n].parent = fresh;
		*slot = fresh;
	} else {
		/* They diverge at bit `common`: a branch point holds both. */
		branch = node_alloc(t, key, common, bits);
		t->links[branch].parent = parent;
		t->nodes[branch].child[bit_at(t->nodes[n].key, common)] = n;
		t->nodes[branch].child[bit_at(key, common)] = fresh;
		t->links[n].parent = branch;
		t->links[fresh].parent = branch;
		*slot = branch;
	}
	owner_append(t, o, fresh);
	t->count++;
	return 0;
}

int wg_allowedips_remove(struct allowedips *t, int family, const void *addr,
			 unsigned cidr, const void *peer)
{
	uint64_t key[2];
	unsigned bits;
	uint32_t n;

	if (key_load(family, addr, cidr, key, &bits) < 0)
		return -EINVAL;
	key_mask(key, cidr);
	n = node_find(t, key, cidr, bits);
	if (!n || !t->nodes[n].owner || t->owners[t->nodes[n].owner].peer != peer)
		return -ENOENT;
	node_remove(t, n);
	return 0;
}

void wg_allowedips_remove_peer(struct allowedips *t, const void *peer)
{
	uint32_t o = owner_find(t, peer), left;

	if (!o)
		return;
	/* The owner record is freed with its last prefix: count, don't test it. */
	for (left = t->owners[o].n; left; left--)
		node_remove(t, t->owners[o].head);
}

/* The hot path. Each step is a dependent load, so it is kept to the minimum:
 * a node with cidr == bits has no children, which ends the walk without a test
 * of its own, and the owner update is a conditional move. */
void *wg_allowedips_lookup(const struct allowedips *t, int family, const void *addr)
{
	const struct node *nodes = t->nodes, *n;
	uint32_t i, best = 0;
	uint64_t key[2], w;
	unsigned bits, c;

	if (key_load(family, addr, 0, key, &bits) < 0)
		return NULL;
	for (i = bits == 32 ? t->root4 : t->root6; i;) {
		n = &nodes[i];
		if (!key_in(key, n))
			break;
		best = n->owner ? n->owner : best;
		c = n->cidr & 127; /* 128 has no children: any bit will do */
		w = c & 64 ? key[1] : key[0];
		i = n->child[(w >> (63 - (c & 63))) & 1];
	}
	return best ? t->owners[best].peer : NULL;
}

int wg_allowedips_walk(const struct allowedips *t, const void *peer,
		       int (*fn)(const struct allowedips_prefix *p, void *ctx), void *ctx)
{
	uint32_t o = owner_find(t, peer), n, be4;
	struct allowedips_prefix p;
	uint64_t be[2];
	int r;

	for (n = o ? t->owners[o].head : 0; n; n = t->links[n].pnext) {
		const struct node *nd = &t->nodes[n];

		memset(&p, 0, sizeof(p));
		p.cidr = nd->cidr;
		if (nd->bits == 32) {
			p.family = AF_INET;
			be4 = htobe32((uint32_t)(nd->key[0] >> 32));
			memcpy(p.addr, &be4, 4);
		} else {
			p.family = AF_INET6;
			be[0] = htobe64(nd->key[0]);
			be[1] = htobe64(nd->key[1]);
			memcpy(p.addr, be, 16);
		}
		r = fn(&p, ctx);
		if (r)
			return r;
	}
	return 0;
}

size_t wg_allowedips_count(const struct allowedips *t)
{
	return t->count;
}

size_t wg_allowedips_nodes(const struct allowedips *t)
{
	return t->nodes_used;
}

size_t wg_allowedips_peer_count(const struct allowedips *t, const void *peer)
{
	uint32_t o = owner_find(t, peer);

	return o ? t->owners[o].n : 0;
}
