/* Open addressing with linear probing over a power-of-two array kept at most
 * half full, so a lookup, hit or miss, touches a couple of adjacent slots.
 * Deletion shifts the following run back (no tombstones), so probe lengths do
 * not decay under the steady churn of handshakes and keypairs.
 *
 * The keys are our own random draws, so a peer choosing the index it sends
 * cannot lengthen the runs; the multiplicative mix only guards against a weak
 * rng passed in by a test. */
#include "wg/index.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/rand.h"

struct slot {
	uint32_t idx; /* 0: empty */
	uint32_t type;
	void *ptr;
};

struct index_table {
	struct slot *slots;
	size_t nslots;     /* a power of two */
	unsigned shift;    /* 32 - log2(nslots) */
	size_t count, max;
	size_t max_slots;  /* where growth stops: 2 * max rounded up */
	uint32_t (*rng)(void *ctx);
	void *rng_ctx;
};

enum {
	SLOTS_MIN = 16,
	DRAW_TRIES = 64, /* a good rng needs 2 only with odds below 1 in 2^32 */
};

static size_t home(const struct index_table *t, uint32_t idx)
{
	return (size_t)((idx * 0x9e3779b1u) >> t->shift);
}

static unsigned log2_of(size_t pow2)
{
	return (unsigned)__builtin_ctzll((unsigned long long)pow2);
}

static struct slot *find(const struct index_table *t, uint32_t idx)
{
	size_t mask = t->nslots - 1, i;

	for (i = home(t, idx); t->slots[i].idx; i = (i + 1) & mask)
		if (t->slots[i].idx == idx)
			return &t->slots[i];
	return NULL;
}

static void place(struct index_table *t, const struct slot *s)
{
	size_t mask = t->nslots - 1, i;

	for (i = home(t, s->idx); t->slots[i].idx; i = (i + 1) & mask)
		;
	t->slots[i] = *s;
}

static int resize(struct index_table *t, size_t nslots)
{
	struct slot *old = t->slots;
	size_t n = t->nslots, i;

	t->slots = calloc(nslots, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	t->nslots = nslots;
	t->shift = 32 - log2_of(nslots);
	for (i = 0; i < n; i++)
		if (old[i].idx)
			place(t, &old[i]);
	free(old);
	return 0;
}

static uint32_t default_rng(void *ctx)
{
	(void)ctx;
	return rand_u32();
}

int wg_index_table_new(struct index_table **out, size_t max_entries,
		       uint32_t (*rng)(void *ctx), void *rng_ctx)
{
	struct index_table *t;
	size_t max_slots = SLOTS_MIN;

	/* The index space is 32 bits; past 2^30 entries it would be too crowded
	 * (and the table too large) to be a sensible configuration anyway. */
	if (max_entries > (size_t)1 << 30)
		return -EINVAL;
	while (max_slots < 2 * max_entries)
		max_slots *= 2;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->max = max_entries;
	t->max_slots = max_slots;
	t->rng = rng ? rng : default_rng;
	t->rng_ctx = rng_ctx;
	if (resize(t, SLOTS_MIN) < 0) {
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void wg_index_table_free(struct index_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static bool type_valid(enum index_type type)
{
	return type == INDEX_HANDSHAKE || type == INDEX_KEYPAIR;
}

int wg_index_insert(struct index_table *t, enum index_type type, void *ptr, uint32_t *idx)
{
	struct slot s = { .type = type, .ptr = ptr };
	int tries, r;

	if (!type_valid(type) || !ptr)
		return -EINVAL;
	if (t->count >= t->max)
		return -ENOSPC;
	if (2 * (t->count + 1) > t->nslots && t->nslots < t->max_slots) {
		r = resize(t, t->nslots * 2);
		if (r < 0)
			return r;
	}
	for (tries = 0; tries < DRAW_TRIES; tries++) {
		s.idx = t->rng(t->rng_ctx);
		if (s.idx && !find(t, s.idx)) {
			place(t, &s);
			t->count++;
			*idx = s.idx;
			return 0;
		}
	}
	return -EAGAIN;
}

int wg_index_replace(struct index_table *t, uint32_t idx, enum index_type type, void *ptr)
{
	struct slot *s;

	if (!type_valid(type) || !ptr)
		return -EINVAL;
	s = idx ? find(t, idx) : NULL;
	if (!s)
		return -ENOENT;
	s->type = type;
	s->ptr = ptr;
	return 0;
}

int wg_index_remove(struct index_table *t, uint32_t idx)
{
	size_t mask = t->nslots - 1, i, j, k;
	struct slot *s = idx ? find(t, idx) : NULL;

	if (!s)
		return -ENOENT;
	/* Backward shift: pull later members of the run into the hole unless
	 * their home lies cyclically in (hole, their slot]. */
	i = (size_t)(s - t->slots);
	for (j = (i + 1) & mask; t->slots[j].idx; j = (j + 1) & mask) {
		k = home(t, t->slots[j].idx);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	t->slots[i] = (struct slot){ 0 };
	t->count--;
	return 0;
}

void *wg_index_lookup(const struct index_table *t, uint32_t idx, unsigned types,
		      enum index_type *type_out)
{
	const struct slot *s = idx ? find(t, idx) : NULL;

	if (!s || !(s->type & types))
		return NULL;
	if (type_out)
		*type_out = (enum index_type)s->type;
	return s->ptr;
}

size_t wg_index_count(const struct index_table *t)
{
	return t->count;
}
