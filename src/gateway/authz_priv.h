/* The authorization table's index (authz_index.c), apart from its rules
 * (authz.c): clients by id and by tunnel address. Nothing outside authz*.c
 * includes this. */
#ifndef SLUICE_GATEWAY_AUTHZ_PRIV_H
#define SLUICE_GATEWAY_AUTHZ_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

struct authz_client;

enum {
	AUTHZ_KEY_LEN = 17, /* a kind (0: id) or a family (4, 6), then up to 16 bytes */
};

/* Open addressing with linear probing, keyed by SipHash under a random key of
 * its own: the address index is looked up with the source addresses of
 * packets from the tunnel, which a client chooses. */
struct authz_slot {
	uint8_t key[AUTHZ_KEY_LEN];
	struct authz_client *c; /* NULL: empty */
};

struct authz_index {
	struct authz_slot *v;
	size_t cap, n;          /* cap: a power of two */
	uint8_t seed[crypto_shorthash_KEYBYTES];
};

int authz_ix_init(struct authz_index *ix);         /* 0 or -errno */
void authz_ix_free(struct authz_index *ix);
struct authz_slot *authz_ix_find(const struct authz_index *ix, const uint8_t *key);
int authz_ix_put(struct authz_index *ix, const uint8_t *key, struct authz_client *c);
void authz_ix_del(struct authz_index *ix, const uint8_t *key);
void authz_key_id(uint8_t *key, uint64_t id);
void authz_key_addr(uint8_t *key, int family, const uint8_t *addr);

#endif
