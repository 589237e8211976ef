/* Cryptokey routing: which peer owns which IPv4/IPv6 prefix, found by longest
 * prefix match. Sending picks the peer by destination; receiving drops a packet
 * whose inner source does not map back to the peer that sent it.
 *
 * Locking is the caller's: lookups only read, so any number of them may run at
 * once under a read lock (one pthread_rwlock_t per device); every other call
 * needs the write lock. Nothing here allocates on lookup. Peers are only
 * pointers to the table: wg_allowedips_remove_peer() before freeing one, and use a
 * lookup's result only while still holding the read lock (or a reference).
 *
 * Memory is bounded by max_entries: at most 2 * max_entries - 1 trie nodes of
 * 44 bytes, in arrays that grow by doubling, plus 32 bytes per distinct peer. */
#ifndef SLUICE_WG_ALLOWEDIPS_H
#define SLUICE_WG_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>

struct allowedips;

struct allowedips_prefix {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order, host bits zero; AF_INET fills 4 */
	uint8_t cidr;
};

/* 0, -EINVAL (max_entries above 2^28) or -ENOMEM. */
int wg_allowedips_new(struct allowedips **out, size_t max_entries);
void wg_allowedips_free(struct allowedips *t);

/* addr is in network order (4 or 16 bytes, any alignment); host bits past cidr
 * are ignored, as wg does (10.0.0.1/24 is 10.0.0.0/24). An existing identical
 * prefix changes owner. 0, -EINVAL (family, cidr, NULL peer), -ENOSPC (the
 * table holds max_entries prefixes), -ENOMEM. */
int wg_allowedips_insert(struct allowedips *t, int family, const void *addr,
			 unsigned cidr, void *peer);
/* Removes the prefix only if peer owns it: 0, -ENOENT, -EINVAL. */
int wg_allowedips_remove(struct allowedips *t, int family, const void *addr,
			 unsigned cidr, const void *peer);
void wg_allowedips_remove_peer(struct allowedips *t, const void *peer);

/* The owner of the longest prefix holding addr, or NULL (also for a family that
 * is neither AF_INET nor AF_INET6). */
void *wg_allowedips_lookup(const struct allowedips *t, int family, const void *addr);

/* Calls fn on each of peer's prefixes in insertion order (a prefix that changes
 * owner goes last in its new owner's list), stopping at and returning the first
 * nonzero result; 0 otherwise. fn must not modify the table. */
int wg_allowedips_walk(const struct allowedips *t, const void *peer,
		       int (*fn)(const struct allowedips_prefix *p, void *ctx), void *ctx);

size_t wg_allowedips_count(const struct allowedips *t);
size_t wg_allowedips_peer_count(const struct allowedips *t, const void *peer);
/* Trie nodes in use, for memory accounting: at most 2 * count - 1. */
size_t wg_allowedips_nodes(const struct allowedips *t);

#endif
