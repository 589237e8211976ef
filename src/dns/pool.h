/* Proxy IP allocation for the client: the addresses it offers a gateway for the
 * A and AAAA records of a resource name.
 *
 * Each family hands out its range in order, from the second address to the
 * one before the last, skipping the excluded subranges (the sentinel /24 lies
 * inside the IPv4 proxy /11). An offer is taken, then each address is either
 * bound (the gateway used it: it is never handed out again while the pool
 * lives) or returned (unused: handed out again before any fresh address, in the
 * order returned).
 *
 * A bound address can be released (its name went away: pool_release) and is
 * then handed out again like a returned one, after those returned before it.
 * An address bound in an earlier run (the client's state file) is restored
 * (pool_restore): bound without ever being offered, the cursor skips it.
 *
 * Memory grows with the addresses offered, returned or released and not yet
 * taken again, capped at max_pending per family, and with the addresses
 * restored ahead of the cursor (until the cursor passes the last of them), not
 * with the size of the ranges: bound addresses are known only as "behind the
 * cursor and not pending".
 *
 * Not thread-safe: one owner (the client's DNS loop), or the caller's lock. */
#ifndef SLUICE_DNS_POOL_H
#define SLUICE_DNS_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool;

struct pool_prefix {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order, host bits zero; AF_INET fills 4 */
	uint8_t len;
};

struct pool_config {
	struct pool_prefix v4; /* AF_INET, /8 to /30 */
	struct pool_prefix v6; /* AF_INET6, /96 to /126 */
	/* subranges of v4 or v6 never handed out: each inside its family's
	 * range, none overlapping another */
	const struct pool_prefix *exclude;
	size_t n_exclude;
	size_t max_pending;    /* per family: offered or returned at once */
};

/* DESIGN's plan: 100.96.0.0/11 without the sentinels' 100.100.111.0/24, and
 * fd00:2021:1111:8000::/107 (the IPv6 sentinels, fd00:2021:1111:8000:100:100:
 * 111:0/120, lie outside it: nothing to skip), 16384 pending per family. */
void pool_config_default(struct pool_config *c);

/* 0, -EINVAL (a range, exclusion or cap out of bounds, host bits set, no
 * address left to hand out) or -ENOMEM. */
int pool_new(struct pool **out, const struct pool_config *c);
void pool_free(struct pool *p);

/* Takes up to n addresses of the family into out (n * 4 or n * 16 bytes,
 * network order) and returns how many, at least 1 when n > 0; -ENOSPC if the
 * range is used up (answer SERVFAIL and log), -ENOBUFS if max_pending are
 * offered already, -EAFNOSUPPORT for another family. */
int pool_take(struct pool *p, int family, size_t n, void *out);
/* An offered address, unused. 0, -ENOENT (not on offer: never taken, bound,
 * returned already), -EINVAL (outside the range), -EAFNOSUPPORT. */
int pool_return(struct pool *p, int family, const void *addr);
/* An offered address, now in use for good. 0, -EALREADY (bound before),
 * -ENOENT (not on offer), -EINVAL, -EAFNOSUPPORT. */
int pool_bind(struct pool *p, int family, const void *addr);

/* A bound address (pool_bind, pool_restore) is free again: handed out after
 * the addresses returned before it; one restored ahead of the cursor becomes
 * fresh again instead. 0, -ENOENT (not bound: on offer, returned, never handed
 * out, excluded), -EINVAL, -EAFNOSUPPORT; past the cap (max_pending pending
 * already: -ENOBUFS) or out of memory (-ENOMEM) the address stays bound, lost
 * to this pool until it is made anew (the client's next start). */
int pool_release(struct pool *p, int family, const void *addr);
/* Marks an address of the range bound though this pool never offered it (a
 * binding from an earlier run): never handed out afterwards, unless released.
 * A returned one is taken off the returned queue. 0, -EALREADY (bound or
 * restored already), -EBUSY (on offer right now: bind or return it first),
 * -EINVAL (outside the range, its first or last address, or excluded),
 * -ENOMEM, -EAFNOSUPPORT. */
int pool_restore(struct pool *p, int family, const void *addr);

/* Addresses pool_take() could still hand out (returned ones included). */
uint64_t pool_available(const struct pool *p, int family);

#endif
