/* Addresses are offsets into their family's range (at most 2^32, since a v6
 * range is /96 or longer). Per family: a cursor over fresh offsets, a hash of
 * the pending ones (offered or returned) and a FIFO ring of the returned ones
 * (released ones join it as returned), and a sorted array of the offsets
 * restored ahead of the cursor, which the cursor skips and then forgets.
 * Offset 0, the network address, is never handed out, so it marks an empty
 * hash slot. The ring is kept as large as the hash can hold entries, so a
 * return never allocates and never fails for memory. */
#include "dns/pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_PENDING (1u << 24)
#define MIN_SLOTS 64u

enum { ST_OFFERED = 1, ST_RETURNED = 2 };

struct slot {
	uint32_t off; /* 0: empty */
	uint32_t state;
};

struct interval {
	uint64_t lo, hi; /* inclusive */
};

struct fam {
	int family;
	unsigned alen;
	uint8_t base[16];
	uint64_t size;       /* addresses in the range */
	uint64_t cursor;     /* the next fresh offset, if not excluded */
	uint64_t fresh_left;
	struct interval *ex; /* sorted, disjoint */
	size_t n_ex, ex_next;
	struct slot *slots;
	size_t slot_mask, used, max_pending;
	uint32_t *ring;      /* returned offsets, oldest at head */
	size_t ring_cap, ring_head, ring_len;
	uint32_t *rs;        /* restored offsets, sorted; those from rs_next on */
	size_t n_rs, rs_cap, rs_next; /* lie ahead of the cursor */
};

struct pool {
	struct fam v4, v6;
};

static const struct pool_prefix default_exclude[] = {
	{ .family = AF_INET, .addr = { 100, 100, 111, 0 }, .len = 24 },
};

void pool_config_default(struct pool_config *c)
{
	memset(c, 0, sizeof(*c));
	c->v4 = (struct pool_prefix){ .family = AF_INET, .addr = { 100, 96, 0, 0 }, .len = 11 };
	c->v6 = (struct pool_prefix){
		.family = AF_INET6,
		.addr = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, 0x80, 0x00 },
		.len = 107,
	};
	c->exclude = default_exclude;
	c->n_exclude = sizeof(default_exclude) / sizeof(default_exclude[0]);
	c->max_pending = 16384;
}

static inline uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static struct fam *fam_of(struct pool *p, int family)
{
	return family == AF_INET ? &p->v4 : family == AF_INET6 ? &p->v6 : NULL;
}

/* The offset of addr in f's range, or -1 if outside. */
static int64_t offset_of(const struct fam *f, const uint8_t *addr)
{
	uint32_t d;

	if (memcmp(addr, f->base, f->alen - 4))
		return -1;
	d = be32_at(addr + f->alen - 4) - be32_at(f->base + f->alen - 4);
	return d < f->size ? (int64_t)d : -1;
}

static void addr_at(const struct fam *f, uint64_t off, uint8_t *out)
{
	memcpy(out, f->base, f->alen - 4);
	put_be32(out + f->alen - 4, be32_at(f->base + f->alen - 4) + (uint32_t)off);
}

static bool host_bits_zero(const struct pool_prefix *px, unsigned bits)
{
	for (unsigned b = px->len; b < bits; b++)
		if (px->addr[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

static int cmp_interval(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

static int fam_init(struct fam *f, const struct pool_prefix *range, int family,
		    const struct pool_config *c)
{
	unsigned bits = family == AF_INET ? 32 : 128;
	unsigned min = family == AF_INET ? 8 : 96, max = family == AF_INET ? 30 : 126;
	uint64_t excluded = 0;

	if (range->family != family || range->len < min || range->len > max ||
	    !host_bits_zero(range, bits))
		return -EINVAL;
	f->family = family;
	f->alen = bits / 8;
	memcpy(f->base, range->addr, f->alen);
	f->size = 1ull << (bits - range->len);
	f->max_pending = c->max_pending;
	f->cursor = 1;

	for (size_t i = 0; i < c->n_exclude; i++) {
		const struct pool_prefix *x = &c->exclude[i];
		int64_t lo;

		if (x->family != family)
			continue;
		if (x->len < range->len || x->len > bits || !host_bits_zero(x, bits))
			return -EINVAL;
		lo = offset_of(f, x->addr);
		if (lo < 0)
			return -EINVAL; /* outside the range */
		f->ex[f->n_ex].lo = (uint64_t)lo;
		f->ex[f->n_ex].hi = (uint64_t)lo + (1ull << (bits - x->len)) - 1;
		f->n_ex++;
	}
	qsort(f->ex, f->n_ex, sizeof(f->ex[0]), cmp_interval);
	for (size_t i = 0; i < f->n_ex; i++) {
		uint64_t lo = f->ex[i].lo < 1 ? 1 : f->ex[i].lo;
		uint64_t hi = f->ex[i].hi > f->size - 2 ? f->size - 2 : f->ex[i].hi;

		if (i && f->ex[i].lo <= f->ex[i - 1].hi)
			return -EINVAL; /* overlapping exclusions */
		if (lo <= hi)
			excluded += hi - lo + 1;
	}
	f->fresh_left = f->size - 2 - excluded;
	return f->fresh_left ? 0 : -EINVAL;
}

static void fam_release(struct fam *f)
{
	free(f->ex);
	free(f->slots);
	free(f->ring);
	free(f->rs);
}

int pool_new(struct pool **out, const struct pool_config *c)
{
	struct pool *p;
	int r = -ENOMEM;

	*out = NULL;
	if (!c->max_pending || c->max_pending > MAX_PENDING || (c->n_exclude && !c->exclude))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	/* each family gets room for every exclusion; only its own are kept */
	p->v4.ex = calloc(c->n_exclude + 1, sizeof(*p->v4.ex));
	p->v6.ex = calloc(c->n_exclude + 1, sizeof(*p->v6.ex));
	if (!p->v4.ex || !p->v6.ex)
		goto fail;
	for (size_t i = 0; i < c->n_exclude; i++) {
		r = -EINVAL;
		if (c->exclude[i].family != AF_INET && c->exclude[i].family != AF_INET6)
			goto fail;
	}
	r = fam_init(&p->v4, &c->v4, AF_INET, c);
	if (r)
		goto fail;
	r = fam_init(&p->v6, &c->v6, AF_INET6, c);
	if (r)
		goto fail;
	*out = p;
	return 0;
fail:
	fam_release(&p->v4);
	fam_release(&p->v6);
	free(p);
	return r;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	fam_release(&p->v4);
	fam_release(&p->v6);
	free(p);
}

static inline size_t slot_of(const struct fam *f, uint32_t off)
{
	return (size_t)((off * 0x9e3779b97f4a7c15ull) >> 32) & f->slot_mask;
}

static struct slot *find(const struct fam *f, uint32_t off)
{
	if (!f->slots)
		return NULL;
	for (size_t i = slot_of(f, off);; i = (i + 1) & f->slot_mask) {
		if (f->slots[i].off == off)
			return &f->slots[i];
		if (!f->slots[i].off)
			return NULL;
	}
}

static void insert(struct fam *f, uint32_t off, uint32_t state)
{
	size_t i = slot_of(f, off);

	while (f->slots[i].off)
		i = (i + 1) & f->slot_mask;
	f->slots[i].off = off;
	f->slots[i].state = state;
	f->used++;
}

/* Linear probing without tombstones: shift later entries of the run back. */
static void erase(struct fam *f, struct slot *s)
{
	size_t i = (size_t)(s - f->slots), j = i, home;

	for (;;) {
		j = (j + 1) & f->slot_mask;
		if (!f->slots[j].off)
			break;
		home = slot_of(f, f->slots[j].off);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		f->slots[i] = f->slots[j];
		i = j;
	}
	f->slots[i].off = 0;
	f->used--;
}

/* Room for one more pending offset, the hash at most 3/4 full and the ring as
 * large as the hash can hold. */
static int reserve(struct fam *f)
{
	size_t n, cap, old_n = f->slots ? f->slot_mask + 1 : 0;
	struct slot *slots, *old = f->slots;
	uint32_t *ring;

	if (f->used >= f->max_pending)
		return -ENOBUFS;
	if (f->slots && (f->used + 1) * 4 <= (f->slot_mask + 1) * 3)
		return 0;
	n = f->slots ? (f->slot_mask + 1) * 2 : MIN_SLOTS;
	cap = n / 4 * 3;
	slots = calloc(n, sizeof(*slots));
	ring = malloc(cap * sizeof(*ring));
	if (!slots || !ring) {
		free(slots);
		free(ring);
		return -ENOMEM;
	}
	for (size_t i = 0; i < f->ring_len; i++)
		ring[i] = f->ring[(f->ring_head + i) % f->ring_cap];
	free(f->ring);
	f->ring = ring;
	f->ring_cap = cap;
	f->ring_head = 0;
	f->slots = slots;
	f->slot_mask = n - 1;
	f->used = 0;
	for (size_t i = 0; i < old_n; i++)
		if (old[i].off)
			insert(f, old[i].off, old[i].state);
	free(old);
	return 0;
}

static bool excluded(const struct fam *f, uint64_t off)
{
	for (size_t i = 0; i < f->n_ex; i++)
		if (f->ex[i].lo <= off && off <= f->ex[i].hi)
			return true;
	return false;
}

/* Where off is or would go in the restored offsets ahead of the cursor. */
static size_t rs_pos(const struct fam *f, uint32_t off)
{
	size_t lo = f->rs_next, hi = f->n_rs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->rs[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool rs_has(const struct fam *f, uint64_t off)
{
	size_t i = rs_pos(f, (uint32_t)off);

	return off >= f->cursor && i < f->n_rs && f->rs[i] == off;
}

/* The next fresh offset, skipping exclusions and restored offsets; fresh_left
 * says there is one. */
static uint64_t next_fresh(struct fam *f)
{
	for (;;) {
		while (f->ex_next < f->n_ex && f->ex[f->ex_next].hi < f->cursor)
			f->ex_next++;
		if (f->ex_next < f->n_ex && f->ex[f->ex_next].lo <= f->cursor) {
			f->cursor = f->ex[f->ex_next].hi + 1;
			continue;
		}
		while (f->rs_next < f->n_rs && f->rs[f->rs_next] < f->cursor)
			f->rs_next++;
		if (f->rs_next < f->n_rs && f->rs[f->rs_next] == f->cursor) {
			f->cursor++;
			continue;
		}
		if (f->rs_next == f->n_rs)
			f->n_rs = f->rs_next = 0; /* all behind the cursor: bound as any */
		return f->cursor++;
	}
}

int pool_take(struct pool *p, int family, size_t n, void *out)
{
	struct fam *f = fam_of(p, family);
	uint8_t *o = out;
	size_t got = 0;
	int r = 0;

	if (!f)
		return -EAFNOSUPPORT;
	if (n && !out)
		return -EINVAL;
	if (n > INT32_MAX)
		n = INT32_MAX;
	while (got < n) {
		uint64_t off;

		if (f->ring_len) {
			off = f->ring[f->ring_head];
			f->ring_head = (f->ring_head + 1) % f->ring_cap;
			f->ring_len--;
			find(f, (uint32_t)off)->state = ST_OFFERED;
		} else if (f->fresh_left) {
			r = reserve(f);
			if (r)
				break;
			off = next_fresh(f);
			f->fresh_left--;
			insert(f, (uint32_t)off, ST_OFFERED);
		} else {
			r = -ENOSPC;
			break;
		}
		addr_at(f, off, o + got * f->alen);
		got++;
	}
	return got || !n ? (int)got : r;
}

static int pending(struct pool *p, int family, const void *addr, struct fam **fp,
		   struct slot **sp)
{
	struct fam *f = fam_of(p, family);
	int64_t off;

	if (!f)
		return -EAFNOSUPPORT;
	off = offset_of(f, addr);
	if (off < 0)
		return -EINVAL;
	*fp = f;
	*sp = off ? find(f, (uint32_t)off) : NULL;
	if (*sp && (*sp)->state == ST_OFFERED)
		return 0;
	if (*sp || !off || (uint64_t)off > f->size - 2)
		return -ENOENT;
	if ((uint64_t)off >= f->cursor)
		return rs_has(f, (uint64_t)off) ? -EALREADY : -ENOENT;
	/* behind the cursor and not pending: bound, unless excluded */
	return excluded(f, (uint64_t)off) ? -ENOENT : -EALREADY;
}

int pool_return(struct pool *p, int family, const void *addr)
{
	struct fam *f;
	struct slot *s;
	int r = pending(p, family, addr, &f, &s);

	if (r)
		return r == -EALREADY ? -ENOENT : r;
	s->state = ST_RETURNED;
	f->ring[(f->ring_head + f->ring_len) % f->ring_cap] = s->off;
	f->ring_len++;
	return 0;
}

int pool_bind(struct pool *p, int family, const void *addr)
{
	struct fam *f;
	struct slot *s;
	int r = pending(p, family, addr, &f, &s);

	if (r)
		return r;
	erase(f, s);
	return 0;
}

int pool_release(struct pool *p, int family, const void *addr)
{
	struct fam *f;
	struct slot *s;
	int64_t off;
	int r = pending(p, family, addr, &f, &s);

	if (r != -EALREADY)
		return r ? r : -ENOENT; /* 0: on offer, not bound */
	off = offset_of(f, addr);
	if ((uint64_t)off >= f->cursor) {
		/* restored ahead of the cursor: fresh again, no memory needed */
		size_t i = rs_pos(f, (uint32_t)off);

		memmove(f->rs + i, f->rs + i + 1, (f->n_rs - i - 1) * sizeof(*f->rs));
		f->n_rs--;
		f->fresh_left++;
		return 0;
	}
	r = reserve(f);
	if (r)
		return r; /* past the cap: it stays bound */
	insert(f, (uint32_t)off, ST_RETURNED);
	f->ring[(f->ring_head + f->ring_len) % f->ring_cap] = (uint32_t)off;
	f->ring_len++;
	return 0;
}

/* Takes the returned offset off the ring (rare: a restore of an address that
 * was offered and returned in this run). */
static void ring_remove(struct fam *f, uint32_t off)
{
	size_t i, j;

	for (i = 0; i < f->ring_len; i++)
		if (f->ring[(f->ring_head + i) % f->ring_cap] == off)
			break;
	if (i == f->ring_len)
		return;
	for (j = i; j + 1 < f->ring_len; j++)
		f->ring[(f->ring_head + j) % f->ring_cap] =
			f->ring[(f->ring_head + j + 1) % f->ring_cap];
	f->ring_len--;
}

int pool_restore(struct pool *p, int family, const void *addr)
{
	struct fam *f = fam_of(p, family);
	struct slot *s;
	int64_t off;
	size_t i;

	if (!f)
		return -EAFNOSUPPORT;
	off = offset_of(f, addr);
	if (off <= 0 || (uint64_t)off > f->size - 2 || excluded(f, (uint64_t)off))
		return -EINVAL;
	s = find(f, (uint32_t)off);
	if (s && s->state == ST_OFFERED)
		return -EBUSY;
	if (s) {
		ring_remove(f, s->off);
		erase(f, s);
		return 0;
	}
	if ((uint64_t)off < f->cursor)
		return -EALREADY;
	i = rs_pos(f, (uint32_t)off);
	if (i < f->n_rs && f->rs[i] == off)
		return -EALREADY;
	if (f->n_rs == f->rs_cap) {
		size_t cap = f->rs_cap ? f->rs_cap * 2 : 16;
		uint32_t *rs = realloc(f->rs, cap * sizeof(*rs));

		if (!rs)
			return -ENOMEM;
		f->rs = rs;
		f->rs_cap = cap;
	}
	memmove(f->rs + i + 1, f->rs + i, (f->n_rs - i) * sizeof(*f->rs));
	f->rs[i] = (uint32_t)off;
	f->n_rs++;
	f->fresh_left--;
	return 0;
}

uint64_t pool_available(const struct pool *p, int family)
{
	const struct fam *f = family == AF_INET ? &p->v4 : family == AF_INET6 ? &p->v6 : NULL;

	return f ? f->fresh_left + f->ring_len : 0;
}
