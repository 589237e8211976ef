/* Allowed IPs: the Linux module's selftest (selftest/allowedips.c) fixed cases,
 * its randomized comparison against a brute-force table (fixed seed, with
 * removals as well), and the edges: /0, /32, /128, owner changes, host bits,
 * walk order, the cap, bad arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wg/allowedips.h"

#define B4(x) (uint8_t)((x) >> 24), (uint8_t)((x) >> 16), (uint8_t)((x) >> 8), (uint8_t)(x)
#define V4(a, b, c, d) ((const uint8_t[4]){ (a), (b), (c), (d) })
#define V6(a, b, c, d) ((const uint8_t[16]){ B4(a), B4(b), B4(c), B4(d) })

#define insert4(t, p, a, b, c, d, cidr) \
	assert_int_equal(wg_allowedips_insert((t), AF_INET, V4(a, b, c, d), (cidr), (p)), 0)
#define insert6(t, p, a, b, c, d, cidr) \
	assert_int_equal(wg_allowedips_insert((t), AF_INET6, V6(a, b, c, d), (cidr), (p)), 0)
#define test4(t, p, a, b, c, d) \
	assert_ptr_equal(wg_allowedips_lookup((t), AF_INET, V4(a, b, c, d)), (p))
#define test6(t, p, a, b, c, d) \
	assert_ptr_equal(wg_allowedips_lookup((t), AF_INET6, V6(a, b, c, d)), (p))
#define test4_neg(t, p, a, b, c, d) \
	assert_ptr_not_equal(wg_allowedips_lookup((t), AF_INET, V4(a, b, c, d)), (p))

static char peer_storage[8];
#define PA ((void *)&peer_storage[0])
#define PB ((void *)&peer_storage[1])
#define PC ((void *)&peer_storage[2])
#define PD ((void *)&peer_storage[3])
#define PE ((void *)&peer_storage[4])
#define PF ((void *)&peer_storage[5])
#define PG ((void *)&peer_storage[6])
#define PH ((void *)&peer_storage[7])

static struct allowedips *table_new(size_t max)
{
	struct allowedips *t = NULL;

	assert_int_equal(wg_allowedips_new(&t, max), 0);
	assert_non_null(t);
	return t;
}

/* Collects a walk into an array. */
struct collect {
	struct allowedips_prefix p[16];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int collect_fn(const struct allowedips_prefix *p, void *ctx)
{
	struct collect *c = ctx;

	if (c->n < 16)
		c->p[c->n] = *p;
	c->n++;
	return c->stop_after && c->n == c->stop_after ? 42 : 0;
}

static bool has_prefix(const struct collect *c, int family, const uint8_t *addr,
		       unsigned cidr)
{
	size_t i;

	for (i = 0; i < c->n && i < 16; i++)
		if (c->p[i].family == family && c->p[i].cidr == cidr &&
		    !memcmp(c->p[i].addr, addr, family == AF_INET ? 4 : 16))
			return true;
	return false;
}

/* selftest/allowedips.c, wg_allowedips_selftest(), case for case. */
static void test_kernel_fixed(void **state)
{
	struct allowedips *t = table_new(100000);
	struct collect c = { 0 };
	uint8_t ip[16];
	size_t i;

	(void)state;
	insert4(t, PA, 192, 168, 4, 0, 24);
	insert4(t, PB, 192, 168, 4, 4, 32);
	insert4(t, PC, 192, 168, 0, 0, 16);
	insert4(t, PD, 192, 95, 5, 64, 27);
	/* replaces previous entry, and maskself is required */
	insert4(t, PC, 192, 95, 5, 65, 27);
	insert6(t, PD, 0x26075300, 0x60006b00, 0, 0xc05f0543, 128);
	insert6(t, PC, 0x26075300, 0x60006b00, 0, 0, 64);
	insert4(t, PE, 0, 0, 0, 0, 0);
	insert6(t, PE, 0, 0, 0, 0, 0);
	/* replaces previous entry */
	insert6(t, PF, 0, 0, 0, 0, 0);
	insert6(t, PG, 0x24046800, 0, 0, 0, 32);
	/* maskself is required */
	insert6(t, PH, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 64);
	insert6(t, PA, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 128);
	insert6(t, PC, 0x24446800, 0x40e40800, 0xdeaebeef, 0xdefbeef, 128);
	insert6(t, PB, 0x24446800, 0xf0e40800, 0xeeaebeef, 0, 98);
	insert4(t, PG, 64, 15, 112, 0, 20);
	/* maskself is required */
	insert4(t, PH, 64, 15, 123, 211, 25);
	insert4(t, PA, 10, 0, 0, 0, 25);
	insert4(t, PB, 10, 0, 0, 128, 25);
	insert4(t, PA, 10, 1, 0, 0, 30);
	insert4(t, PB, 10, 1, 0, 4, 30);
	insert4(t, PC, 10, 1, 0, 8, 29);
	insert4(t, PD, 10, 1, 0, 16, 29);

	test4(t, PA, 192, 168, 4, 20);
	test4(t, PA, 192, 168, 4, 0);
	test4(t, PB, 192, 168, 4, 4);
	test4(t, PC, 192, 168, 200, 182);
	test4(t, PC, 192, 95, 5, 68);
	test4(t, PE, 192, 95, 5, 96);
	test6(t, PD, 0x26075300, 0x60006b00, 0, 0xc05f0543);
	test6(t, PC, 0x26075300, 0x60006b00, 0, 0xc02e01ee);
	test6(t, PF, 0x26075300, 0x60006b01, 0, 0);
	test6(t, PG, 0x24046800, 0x40040806, 0, 0x1006);
	test6(t, PG, 0x24046800, 0x40040806, 0x1234, 0x5678);
	test6(t, PF, 0x240467ff, 0x40040806, 0x1234, 0x5678);
	test6(t, PF, 0x24046801, 0x40040806, 0x1234, 0x5678);
	test6(t, PH, 0x24046800, 0x40040800, 0x1234, 0x5678);
	test6(t, PH, 0x24046800, 0x40040800, 0, 0);
	test6(t, PH, 0x24046800, 0x40040800, 0x10101010, 0x10101010);
	test6(t, PA, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef);
	test4(t, PG, 64, 15, 116, 26);
	test4(t, PG, 64, 15, 127, 3);
	test4(t, PG, 64, 15, 123, 1);
	test4(t, PH, 64, 15, 123, 128);
	test4(t, PH, 64, 15, 123, 129);
	test4(t, PA, 10, 0, 0, 52);
	test4(t, PB, 10, 0, 0, 220);
	test4(t, PA, 10, 1, 0, 2);
	test4(t, PB, 10, 1, 0, 6);
	test4(t, PC, 10, 1, 0, 10);
	test4(t, PD, 10, 1, 0, 20);

	insert4(t, PA, 1, 0, 0, 0, 32);
	insert4(t, PA, 64, 0, 0, 0, 32);
	insert4(t, PA, 128, 0, 0, 0, 32);
	insert4(t, PA, 192, 0, 0, 0, 32);
	insert4(t, PA, 255, 0, 0, 0, 32);
	wg_allowedips_remove_peer(t, PA);
	test4_neg(t, PA, 1, 0, 0, 0);
	test4_neg(t, PA, 64, 0, 0, 0);
	test4_neg(t, PA, 128, 0, 0, 0);
	test4_neg(t, PA, 192, 0, 0, 0);
	test4_neg(t, PA, 255, 0, 0, 0);
	assert_int_equal(wg_allowedips_peer_count(t, PA), 0);

	wg_allowedips_free(t);
	t = table_new(100000);
	insert4(t, PA, 192, 168, 0, 0, 16);
	insert4(t, PA, 192, 168, 0, 0, 24);
	wg_allowedips_remove_peer(t, PA);
	test4_neg(t, PA, 192, 168, 0, 1);
	assert_int_equal(wg_allowedips_count(t), 0);
	assert_int_equal(wg_allowedips_nodes(t), 0);

	/* 128 /128s that each differ from all-ones in one bit: the deepest trie
	 * (the kernel's free_node WARN_ON); then remove them one by one. */
	for (i = 0; i < 128; ++i) {
		memset(ip, 0xff, 16);
		ip[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		assert_int_equal(wg_allowedips_insert(t, AF_INET6, ip, 128, PA), 0);
	}
	assert_int_equal(wg_allowedips_count(t), 128);
	memset(ip, 0xff, 16);
	assert_null(wg_allowedips_lookup(t, AF_INET6, ip));
	ip[15] = 0xfe;
	assert_ptr_equal(wg_allowedips_lookup(t, AF_INET6, ip), PA);
	for (i = 0; i < 128; ++i) {
		memset(ip, 0xff, 16);
		ip[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		assert_int_equal(wg_allowedips_remove(t, AF_INET6, ip, 128, PA), 0);
	}
	assert_int_equal(wg_allowedips_count(t), 0);
	assert_int_equal(wg_allowedips_nodes(t), 0);
	wg_allowedips_free(t);

	/* The walk returns exactly the masked prefixes. */
	t = table_new(100000);
	insert4(t, PA, 192, 95, 5, 93, 27);
	insert6(t, PA, 0x26075300, 0x60006b00, 0, 0xc05f0543, 128);
	insert4(t, PA, 10, 1, 0, 20, 29);
	insert6(t, PA, 0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523, 83);
	insert6(t, PA, 0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523, 21);
	assert_int_equal(wg_allowedips_walk(t, PA, collect_fn, &c), 0);
	assert_int_equal(c.n, 5);
	assert_true(has_prefix(&c, AF_INET, V4(192, 95, 5, 64), 27));
	assert_true(has_prefix(&c, AF_INET6, V6(0x26075300, 0x60006b00, 0, 0xc05f0543), 128));
	assert_true(has_prefix(&c, AF_INET, V4(10, 1, 0, 16), 29));
	assert_true(has_prefix(&c, AF_INET6, V6(0x26075300, 0x6d8a6bf8, 0xdab1e000, 0), 83));
	assert_true(has_prefix(&c, AF_INET6, V6(0x26075000, 0, 0, 0), 21));
	wg_allowedips_free(t);
}

static void test_default_routes_and_hosts(void **state)
{
	struct allowedips *t = table_new(16);

	(void)state;
	/* empty: nothing matches, not even with a weird family */
	test4(t, NULL, 1, 2, 3, 4);
	test6(t, NULL, 0, 0, 0, 1);
	insert4(t, PA, 0, 0, 0, 0, 0);
	/* a v4 /0 says nothing about v6 */
	test4(t, PA, 255, 255, 255, 255);
	test4(t, PA, 0, 0, 0, 0);
	test6(t, NULL, 0, 0, 0, 0);
	insert6(t, PB, 0, 0, 0, 0, 0);
	test6(t, PB, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff);
	insert4(t, PC, 10, 0, 0, 1, 32);
	test4(t, PC, 10, 0, 0, 1);
	test4(t, PA, 10, 0, 0, 2);
	test4(t, PA, 10, 0, 0, 0);
	insert6(t, PD, 0xfd000000, 0, 0, 1, 128);
	test6(t, PD, 0xfd000000, 0, 0, 1);
	test6(t, PB, 0xfd000000, 0, 0, 2);
	/* the v4 /32 and its v6-mapped twin are unrelated */
	test6(t, PB, 0, 0, 0xffff, 0x0a000001);
	/* removing /0 leaves the host routes */
	assert_int_equal(wg_allowedips_remove(t, AF_INET, V4(0, 0, 0, 0), 0, PA), 0);
	test4(t, NULL, 10, 0, 0, 2);
	test4(t, PC, 10, 0, 0, 1);
	assert_int_equal(wg_allowedips_count(t), 3);
	assert_null(wg_allowedips_lookup(t, AF_UNIX, V6(0, 0, 0, 0)));
	wg_allowedips_free(t);
}

static void test_replace_mask_remove(void **state)
{
	struct allowedips *t = table_new(16);
	struct collect c = { 0 };

	(void)state;
	insert4(t, PA, 10, 0, 0, 1, 24); /* host bits go */
	insert4(t, PA, 10, 0, 1, 0, 24);
	insert4(t, PA, 10, 0, 2, 0, 24);
	assert_int_equal(wg_allowedips_peer_count(t, PA), 3);
	assert_int_equal(wg_allowedips_walk(t, PA, collect_fn, &c), 0);
	assert_int_equal(c.n, 3);
	assert_memory_equal(c.p[0].addr, V4(10, 0, 0, 0), 4);
	assert_int_equal(c.p[0].cidr, 24);

	/* same prefix, same peer: nothing moves */
	insert4(t, PA, 10, 0, 0, 9, 24);
	c.n = 0;
	wg_allowedips_walk(t, PA, collect_fn, &c);
	assert_memory_equal(c.p[0].addr, V4(10, 0, 0, 0), 4);
	assert_int_equal(wg_allowedips_count(t), 3);

	/* same prefix, other peer: it changes owner and goes last for B */
	insert4(t, PB, 10, 0, 5, 0, 24);
	insert4(t, PB, 10, 0, 0, 200, 24);
	test4(t, PB, 10, 0, 0, 7);
	assert_int_equal(wg_allowedips_peer_count(t, PA), 2);
	assert_int_equal(wg_allowedips_peer_count(t, PB), 2);
	assert_int_equal(wg_allowedips_count(t), 4);
	c.n = 0;
	wg_allowedips_walk(t, PB, collect_fn, &c);
	assert_int_equal(c.n, 2);
	assert_memory_equal(c.p[0].addr, V4(10, 0, 5, 0), 4);
	assert_memory_equal(c.p[1].addr, V4(10, 0, 0, 0), 4);

	/* remove needs the owner, and masks host bits like insert */
	assert_int_equal(wg_allowedips_remove(t, AF_INET, V4(10, 0, 0, 0), 24, PA), -ENOENT);
	test4(t, PB, 10, 0, 0, 7);
	assert_int_equal(wg_allowedips_remove(t, AF_INET, V4(10, 0, 0, 77), 24, PB), 0);
	test4(t, NULL, 10, 0, 0, 7);
	assert_int_equal(wg_allowedips_remove(t, AF_INET, V4(10, 0, 0, 0), 24, PB), -ENOENT);
	/* a branch point is not a stored prefix: 10.0.0.0/22 joins 10.0.1/24 and 10.0.2/24 */
	assert_int_equal(wg_allowedips_remove(t, AF_INET, V4(10, 0, 0, 0), 22, PA), -ENOENT);
	assert_int_equal(wg_allowedips_remove(t, AF_INET, V4(10, 0, 0, 0), 22, NULL), -ENOENT);
	/* a branch point can become a stored prefix, and be removed again */
	insert4(t, PC, 10, 0, 0, 0, 22);
	test4(t, PC, 10, 0, 3, 1);
	test4(t, PA, 10, 0, 1, 1);
	assert_int_equal(wg_allowedips_remove(t, AF_INET, V4(10, 0, 0, 0), 22, PC), 0);
	test4(t, NULL, 10, 0, 3, 1);
	test4(t, PA, 10, 0, 2, 1);

	/* early stop */
	c = (struct collect){ .stop_after = 1 };
	assert_int_equal(wg_allowedips_walk(t, PA, collect_fn, &c), 42);
	assert_int_equal(c.n, 1);
	c = (struct collect){ 0 };
	assert_int_equal(wg_allowedips_walk(t, PH, collect_fn, &c), 0);
	assert_int_equal(c.n, 0);

	wg_allowedips_remove_peer(t, PA);
	wg_allowedips_remove_peer(t, PA); /* twice: harmless */
	wg_allowedips_remove_peer(t, PB);
	assert_int_equal(wg_allowedips_count(t), 0);
	assert_int_equal(wg_allowedips_nodes(t), 0);
	test4(t, NULL, 10, 0, 1, 1);
	wg_allowedips_free(t);
	wg_allowedips_free(NULL);
}

static void test_cap_and_args(void **state)
{
	struct allowedips *t = table_new(3);

	(void)state;
	assert_int_equal(wg_allowedips_insert(t, AF_INET, V4(1, 0, 0, 0), 33, PA), -EINVAL);
	assert_int_equal(wg_allowedips_insert(t, AF_INET6, V6(1, 0, 0, 0), 129, PA), -EINVAL);
	assert_int_equal(wg_allowedips_insert(t, AF_UNIX, V6(1, 0, 0, 0), 8, PA), -EINVAL);
	assert_int_equal(wg_allowedips_insert(t, AF_INET, V4(1, 0, 0, 0), 8, NULL), -EINVAL);
	assert_int_equal(wg_allowedips_remove(t, AF_INET, V4(1, 0, 0, 0), 40, PA), -EINVAL);

	insert4(t, PA, 1, 0, 0, 0, 8);
	insert4(t, PA, 2, 0, 0, 0, 8);
	insert6(t, PB, 0x20010db8, 0, 0, 0, 32);
	assert_int_equal(wg_allowedips_insert(t, AF_INET, V4(3, 0, 0, 0), 8, PA), -ENOSPC);
	/* a split (which would need a branch point) is refused the same way */
	assert_int_equal(wg_allowedips_insert(t, AF_INET, V4(1, 128, 0, 0), 9, PC), -ENOSPC);
	assert_int_equal(wg_allowedips_peer_count(t, PC), 0);
	/* changing an owner adds no entry, so it works at the cap */
	insert4(t, PC, 2, 0, 0, 0, 8);
	test4(t, PC, 2, 1, 1, 1);
	assert_int_equal(wg_allowedips_count(t), 3);
	assert_int_equal(wg_allowedips_remove(t, AF_INET, V4(1, 0, 0, 0), 8, PA), 0);
	insert4(t, PA, 3, 0, 0, 0, 8);
	assert_int_equal(wg_allowedips_count(t), 3);
	wg_allowedips_free(t);

	t = table_new(0);
	assert_int_equal(wg_allowedips_insert(t, AF_INET, V4(1, 0, 0, 0), 8, PA), -ENOSPC);
	wg_allowedips_free(t);
	assert_int_equal(wg_allowedips_new(&t, ((size_t)1 << 28) + 1), -EINVAL);
}

/* ---- the randomized comparison ---- */

enum {
	NUM_PEERS = 500,
	NUM_RAND_ROUTES = 50,
	NUM_MUTATED_ROUTES = 100,
	NUM_QUERIES = 3000,
};

/* The reference: a flat array in insertion order, searched in full. An owner
 * change moves the entry to the end, as the table's walk order does. */
struct naive_entry {
	int family;
	uint8_t addr[16];
	uint8_t mask[16];
	unsigned cidr;
	void *peer;
};

struct naive {
	struct naive_entry *e;
	size_t n, cap;
};

static void mask_bytes(uint8_t *a, unsigned len, unsigned cidr)
{
	unsigned i;

	for (i = 0; i < len; i++) {
		if (cidr >= 8 * (i + 1))
			continue;
		a[i] &= cidr > 8 * i ? (uint8_t)(0xff << (8 - (cidr - 8 * i))) : 0;
	}
}

static bool naive_matches(const struct naive_entry *e, int family, const uint8_t *addr)
{
	unsigned i, len = family == AF_INET ? 4 : 16;

	if (e->family != family)
		return false;
	for (i = 0; i < len; i++)
		if ((addr[i] & e->mask[i]) != e->addr[i])
			return false;
	return true;
}

static struct naive_entry *naive_find(struct naive *h, int family, const uint8_t *a,
				      unsigned cidr)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->e[i].family == family && h->e[i].cidr == cidr &&
		    !memcmp(h->e[i].addr, a, 16))
			return &h->e[i];
	return NULL;
}

static void naive_del(struct naive *h, struct naive_entry *e)
{
	size_t i = (size_t)(e - h->e);

	memmove(e, e + 1, (h->n - i - 1) * sizeof(*e));
	h->n--;
}

static void naive_insert(struct naive *h, int family, const uint8_t *addr,
			 unsigned cidr, void *peer)
{
	struct naive_entry n = { .family = family, .cidr = cidr, .peer = peer };
	struct naive_entry *e;

	memcpy(n.addr, addr, family == AF_INET ? 4 : 16);
	mask_bytes(n.addr, family == AF_INET ? 4 : 16, cidr);
	memset(n.mask, 0xff, sizeof(n.mask));
	mask_bytes(n.mask, 16, cidr);
	e = naive_find(h, family, n.addr, cidr);
	if (e && e->peer == peer)
		return;
	if (e)
		naive_del(h, e);
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->e = realloc(h->e, h->cap * sizeof(*h->e));
		assert_non_null(h->e);
	}
	h->e[h->n++] = n;
}

static void *naive_lookup(const struct naive *h, int family, const uint8_t *addr)
{
	const struct naive_entry *best = NULL;
	size_t i;

	for (i = 0; i < h->n; i++)
		if (naive_matches(&h->e[i], family, addr) && (!best || h->e[i].cidr > best->cidr))
			best = &h->e[i];
	return best ? best->peer : NULL;
}

static void naive_remove_peer(struct naive *h, const void *peer)
{
	size_t i, j = 0;

	for (i = 0; i < h->n; i++)
		if (h->e[i].peer != peer)
			h->e[j++] = h->e[i];
	h->n = j;
}

static uint64_t xs_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void rand_fill(uint64_t *s, uint8_t *b, size_t n)
{
	while (n--)
		*b++ = (uint8_t)xs_next(s);
}

/* As the kernel: keep the first `keep` bits of ip, randomise the rest. */
static void mutate(uint64_t *s, uint8_t *out, const uint8_t *ip, unsigned len,
		   unsigned keep)
{
	uint8_t rnd[16];
	unsigned i;

	rand_fill(s, rnd, len);
	memcpy(out, ip, len);
	for (i = 0; i < len; i++) {
		uint8_t m = keep >= 8 * (i + 1) ? 0xff :
			    keep > 8 * i ? (uint8_t)(0xff << (8 - (keep - 8 * i))) : 0;

		out[i] = (uint8_t)((out[i] & m) | (rnd[i] & ~m));
	}
}

struct walk_check {
	const struct naive *h;
	const void *peer;
	size_t pos; /* index into h->e of the next entry expected */
	bool ok;
};

static int walk_check_fn(const struct allowedips_prefix *p, void *ctx)
{
	struct walk_check *w = ctx;

	while (w->pos < w->h->n && w->h->e[w->pos].peer != w->peer)
		w->pos++;
	if (w->pos == w->h->n || w->h->e[w->pos].family != p->family ||
	    w->h->e[w->pos].cidr != p->cidr || memcmp(w->h->e[w->pos].addr, p->addr, 16)) {
		w->ok = false;
		return 1;
	}
	w->pos++;
	return 0;
}

static void compare(struct allowedips *t, const struct naive *h, char *peers,
		    uint64_t *s, unsigned queries)
{
	uint8_t ip[16], q[16];
	unsigned i, fam;

	for (i = 0; i < queries; i++) {
		for (fam = 0; fam < 2; fam++) {
			int family = fam ? AF_INET6 : AF_INET;
			unsigned len = fam ? 16 : 4;
			uint64_t r = xs_next(s);

			if (r % 3 == 0 || !h->n) {
				rand_fill(s, q, len); /* anywhere */
			} else {
				/* near a stored prefix, where the answers differ */
				const struct naive_entry *e = &h->e[(r >> 8) % h->n];

				memcpy(ip, e->addr, 16);
				if (e->family != family)
					rand_fill(s, ip, len);
				mutate(s, q, ip, len, (unsigned)((r >> 32) % (len * 8 + 1)));
			}
			if (wg_allowedips_lookup(t, family, q) != naive_lookup(h, family, q))
				fail_msg("random lookup %u family %d differs", i, family);
		}
	}
	assert_int_equal(wg_allowedips_count(t), h->n);
	/* no branch point outlives what it joined */
	assert_true(wg_allowedips_nodes(t) <= (h->n ? 2 * h->n - 1 : 0));
	for (i = 0; i < 8; i++) {
		const void *peer = &peers[xs_next(s) % NUM_PEERS];
		struct walk_check w = { .h = h, .peer = peer, .ok = true };
		size_t n = 0, k;

		for (k = 0; k < h->n; k++)
			n += h->e[k].peer == peer;
		assert_int_equal(wg_allowedips_peer_count(t, peer), n);
		assert_int_equal(wg_allowedips_walk(t, peer, walk_check_fn, &w), 0);
		assert_true(w.ok);
	}
}

static void random_insert(struct allowedips *t, struct naive *h, char *peers,
			  uint64_t *s, int family)
{
	unsigned len = family == AF_INET ? 4 : 16, bits = len * 8, i, j, cidr;
	uint8_t ip[16] = { 0 }, mutated[16] = { 0 };
	void *peer;

	for (i = 0; i < NUM_RAND_ROUTES; ++i) {
		rand_fill(s, ip, len);
		cidr = (unsigned)(xs_next(s) % bits) + 1;
		peer = &peers[xs_next(s) % NUM_PEERS];
		assert_int_equal(wg_allowedips_insert(t, family, ip, cidr, peer), 0);
		naive_insert(h, family, ip, cidr, peer);
		for (j = 0; j < NUM_MUTATED_ROUTES; ++j) {
			mutate(s, mutated, ip, len, (unsigned)(xs_next(s) % bits));
			cidr = (unsigned)(xs_next(s) % bits) + 1;
			peer = &peers[xs_next(s) % NUM_PEERS];
			assert_int_equal(wg_allowedips_insert(t, family, mutated, cidr, peer), 0);
			naive_insert(h, family, mutated, cidr, peer);
		}
	}
}

/* selftest/allowedips.c randomized_test() (DEBUG_RANDOM_TRIE), scaled down to
 * run in CI, plus single removals and a /0 per family. */
static void test_random_vs_naive(void **state)
{
	struct allowedips *t = table_new(1u << 20);
	struct naive h = { 0 };
	uint64_t s = 0x5eed0fa11a11ed1full;
	char *peers = calloc(NUM_PEERS, 1);
	unsigned i, j;

	(void)state;
	assert_non_null(peers);
	random_insert(t, &h, peers, &s, AF_INET);
	random_insert(t, &h, peers, &s, AF_INET6);
	compare(t, &h, peers, &s, NUM_QUERIES);

	/* single removals, right owner or wrong, then re-inserts and /0 routes */
	for (i = 0; i < 2000 && h.n; i++) {
		struct naive_entry e = h.e[xs_next(&s) % h.n];
		void *other = &peers[xs_next(&s) % NUM_PEERS];

		if (other != e.peer)
			assert_int_equal(wg_allowedips_remove(t, e.family, e.addr, e.cidr, other),
					 -ENOENT);
		assert_int_equal(wg_allowedips_remove(t, e.family, e.addr, e.cidr, e.peer), 0);
		naive_del(&h, naive_find(&h, e.family, e.addr, e.cidr));
		if (i % 4 == 0) {
			assert_int_equal(wg_allowedips_insert(t, e.family, e.addr, e.cidr, other),
					 0);
			naive_insert(&h, e.family, e.addr, e.cidr, other);
		}
	}
	insert4(t, &peers[0], 0, 0, 0, 0, 0);
	naive_insert(&h, AF_INET, V4(0, 0, 0, 0), 0, &peers[0]);
	insert6(t, &peers[1], 0, 0, 0, 0, 0);
	naive_insert(&h, AF_INET6, V6(0, 0, 0, 0), 0, &peers[1]);
	compare(t, &h, peers, &s, NUM_QUERIES);

	/* remove every peer in turn, comparing as the table empties */
	for (j = 0; j < NUM_PEERS; j++) {
		wg_allowedips_remove_peer(t, &peers[j]);
		naive_remove_peer(&h, &peers[j]);
		assert_int_equal(wg_allowedips_peer_count(t, &peers[j]), 0);
		if (j % 25 == 0)
			compare(t, &h, peers, &s, 200);
	}
	assert_int_equal(wg_allowedips_count(t), 0);
	assert_int_equal(h.n, 0);
	compare(t, &h, peers, &s, 100);

	wg_allowedips_free(t);
	free(h.e);
	free(peers);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_fixed),
		cmocka_unit_test(test_default_routes_and_hosts),
		cmocka_unit_test(test_replace_mask_remove),
		cmocka_unit_test(test_cap_and_args),
		cmocka_unit_test(test_random_vs_naive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
