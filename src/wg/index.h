/* The receiver-index table: the random 32-bit indices this device hands out in
 * its handshake messages, mapped back to the handshake or keypair they name.
 * Unique across the device, never 0 (0 means "none"), typed so that a message
 * can only reach the kind of object it is allowed to (transport data: keypairs;
 * handshake response: handshakes; cookie reply: either).
 *
 * Locking is the caller's: lookups only read and may run concurrently under a
 * read lock; insert, replace and remove need the write lock. The table never
 * owns the objects: remove (or replace) an index before freeing what it names. */
#ifndef SLUICE_WG_INDEX_H
#define SLUICE_WG_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct index_table;

enum index_type {
	INDEX_HANDSHAKE = 1 << 0,
	INDEX_KEYPAIR = 1 << 1,
	INDEX_ANY = INDEX_HANDSHAKE | INDEX_KEYPAIR, /* a lookup mask only */
};

/* rng draws the indices; NULL means rand_u32() (tests pass their own to force
 * collisions). 0, -EINVAL (max_entries above 2^30) or -ENOMEM. */
int wg_index_table_new(struct index_table **out, size_t max_entries,
		       uint32_t (*rng)(void *ctx), void *rng_ctx);
void wg_index_table_free(struct index_table *t);

/* Draws a fresh index for ptr (retrying on collision) into *idx: 0, -EINVAL
 * (type not exactly one kind, NULL ptr), -ENOSPC (max_entries reached),
 * -ENOMEM, -EAGAIN (the rng kept repeating itself). */
int wg_index_insert(struct index_table *t, enum index_type type, void *ptr, uint32_t *idx);
/* Points an existing index at another object, as a finished handshake hands its
 * index to the new keypair: 0, -ENOENT, -EINVAL. */
int wg_index_replace(struct index_table *t, uint32_t idx, enum index_type type, void *ptr);
/* 0 or -ENOENT. */
int wg_index_remove(struct index_table *t, uint32_t idx);

/* The object under idx if its type is in types (a mask of enum index_type),
 * else NULL; *type_out (if not NULL) tells which kind it was. */
void *wg_index_lookup(const struct index_table *t, uint32_t idx, unsigned types,
		      enum index_type *type_out);

size_t wg_index_count(const struct index_table *t);

#endif
