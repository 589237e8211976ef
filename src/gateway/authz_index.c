/* The authorization table's index: see authz_priv.h. */
#include "gateway/authz_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/rand.h"

int authz_ix_init(struct authz_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	if (sodium_init() < 0)
		return -EIO;
	return rand_bytes(ix->seed, sizeof(ix->seed));
}

void authz_ix_free(struct authz_index *ix)
{
	free(ix->v);
	sodium_memzero(ix, sizeof(*ix));
}

static size_t slot_of(const struct authz_index *ix, const uint8_t *key)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, key, AUTHZ_KEY_LEN, ix->seed);
	return (size_t)h & (ix->cap - 1);
}

struct authz_slot *authz_ix_find(const struct authz_index *ix, const uint8_t *key)
{
	if (!ix->cap)
		return NULL;
	for (size_t i = slot_of(ix, key);; i = (i + 1) & (ix->cap - 1)) {
		struct authz_slot *s = &ix->v[i];

		if (!s->c)
			return NULL;
		if (memcmp(s->key, key, AUTHZ_KEY_LEN) == 0)
			return s;
	}
}

static int ix_grow(struct authz_index *ix)
{
	struct authz_index old = *ix;
	size_t cap = old.cap ? old.cap * 2 : 64;

	ix->v = calloc(cap, sizeof(*ix->v));
	if (!ix->v) {
		*ix = old;
		return -ENOMEM;
	}
	ix->cap = cap;
	ix->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.v[i].c)
			authz_ix_put(ix, old.v[i].key, old.v[i].c);
	free(old.v);
	return 0;
}

int authz_ix_put(struct authz_index *ix, const uint8_t *key, struct authz_client *c)
{
	size_t i;

	if ((ix->n + 1) * 4 > ix->cap * 3) { /* load at most 3/4 */
		int r = ix_grow(ix);

		if (r < 0)
			return r;
	}
	for (i = slot_of(ix, key); ix->v[i].c; i = (i + 1) & (ix->cap - 1))
		if (memcmp(ix->v[i].key, key, AUTHZ_KEY_LEN) == 0)
			break;
	if (!ix->v[i].c)
		ix->n++;
	memcpy(ix->v[i].key, key, AUTHZ_KEY_LEN);
	ix->v[i].c = c;
	return 0;
}

/* Backward-shift deletion: no tombstones, so lookups stay short. */
void authz_ix_del(struct authz_index *ix, const uint8_t *key)
{
	struct authz_slot *s = authz_ix_find(ix, key);
	size_t i, j, mask = ix->cap - 1;

	if (!s)
		return;
	i = (size_t)(s - ix->v);
	s->c = NULL;
	ix->n--;
	for (j = (i + 1) & mask; ix->v[j].c; j = (j + 1) & mask) {
		size_t home = slot_of(ix, ix->v[j].key);

		/* Move j back into the hole at i unless its home lies in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			ix->v[i] = ix->v[j];
			ix->v[j].c = NULL;
			i = j;
		}
	}
}

void authz_key_id(uint8_t *key, uint64_t id)
{
	memset(key, 0, AUTHZ_KEY_LEN);
	key[0] = 0; /* an id */
	memcpy(key + 1, &id, sizeof(id));
}

void authz_key_addr(uint8_t *key, int family, const uint8_t *addr)
{
	memset(key, 0, AUTHZ_KEY_LEN);
	key[0] = family == AF_INET ? 4 : 6;
	memcpy(key + 1, addr, family == AF_INET ? 4 : 16);
}

