/* The gateway's resolver: c-ares against the private DNS, in the daemon's
 * loop, with an answer cache and a bound on what is in flight.
 *
 * A query is (name, type), class IN, any type: the resolver sends a query it
 * builds itself (RD, EDNS with DNS_EDNS_MAX) through ares_send and hands the
 * caller the wire answer as the server gave it (c-ares has matched its ID and
 * question, and retried over TCP if it was truncated). SERVFAIL, REFUSED and
 * NOTIMP answers are handed over too, not retried on other servers.
 *
 * Cache: NOERROR and NXDOMAIN answers (dns/cache.h) for their smallest TTL,
 * capped at max_ttl; a negative answer (NXDOMAIN, NODATA) by its SOA (the
 * SOA's TTL capped by its minimum field, RFC 2308) and then at neg_max_ttl;
 * an answer without any TTL to go by is not kept. A hit counts TTLs down.
 *
 * Identical questions (same name, any case, same type) in flight share one
 * upstream query. At most max_inflight upstream queries are in flight, and
 * at most RESOLVER_WAITERS_MAX callers wait on one: over either, the query is
 * refused with -EBUSY (counted), and the caller answers SERVFAIL.
 *
 * Threading: none. Everything runs in the caller's thread; callbacks run
 * inside resolver_dispatch(), or inside resolver_query() for a cache hit. A
 * callback may call resolver_query() and resolver_cancel(), not
 * resolver_free(). */
#ifndef SLUICE_GATEWAY_RESOLVER_H
#define SLUICE_GATEWAY_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"

enum resolver_limits {
	RESOLVER_WAITERS_MAX = 64, /* callers sharing one upstream query */
};

struct resolver_config {
	/* Servers as c-ares's CSV ("198.51.100.1:5353,[2001:db8::1]:53"), or
	 * NULL: the host's configuration (/etc/resolv.conf, which `ip netns
	 * exec` replaces by /etc/netns/NAME/resolv.conf). */
	const char *servers;
	unsigned timeout_ms;   /* first try; c-ares doubles it per round. 0: 1000 */
	unsigned tries;        /* 0: 2 */
	unsigned max_inflight; /* upstream queries at once. 0: 1024 */
	size_t cache_max;      /* cached answers. 0: 10000 */
	uint32_t max_ttl;      /* seconds an answer is kept at most. 0: 3600 */
	uint32_t neg_max_ttl;  /* the same for negative answers. 0: 300 */
};

struct resolver;

/* err is 0 with the answer (len bytes; its ID is not the caller's business),
 * or -ETIMEDOUT (no server answered), -ECONNREFUSED, -EIO (anything else
 * c-ares reports), with answer NULL. The answer is only valid during the call. */
typedef void (*resolver_cb)(void *arg, int err, const uint8_t *answer, size_t len);

/* 0 or -errno (-EINVAL for bad servers, -ENOMEM, -EIO from c-ares). */
int resolver_new(const struct resolver_config *cfg, struct resolver **out);
/* Calls no callback: the caller drops its own state for what was in flight. */
void resolver_free(struct resolver *r);

/* Resolves (name, qtype) in class IN. Returns
 *   0: under way; cb will run exactly once from resolver_dispatch(), unless
 *      resolver_cancel(*id) comes first;
 *   1: answered from the cache: cb has already run, before this returned, and
 *      *id is 0;
 *   -EBUSY (over a bound), -EINVAL (no name), -ENOMEM, or the error of an
 *      upstream query that failed at once: cb has not run and will not. */
int resolver_query(struct resolver *r, const struct dns_name *name, uint16_t qtype,
		   resolver_cb cb, void *arg, uint64_t *id);
/* The callback of id will not run. Unknown or finished ids are ignored. The
 * upstream query goes on (its answer is still cached). */
void resolver_cancel(struct resolver *r, uint64_t id);

/* An epoll fd, readable when resolver_dispatch() has work; the loop also
 * calls resolver_dispatch() when resolver_timeout_ms() (-1: none) elapses. */
int resolver_fd(const struct resolver *r);
void resolver_dispatch(struct resolver *r);
int resolver_timeout_ms(const struct resolver *r);

struct resolver_stats {
	uint64_t queries;      /* resolver_query calls */
	uint64_t cache_hits;
	uint64_t upstream;     /* queries sent to the servers */
	uint64_t coalesced;    /* queries that joined one in flight */
	uint64_t busy;         /* refused with -EBUSY */
	uint64_t timeouts, errors;
};
void resolver_get_stats(const struct resolver *r, struct resolver_stats *out);
size_t resolver_cache_count(const struct resolver *r);

#endif
