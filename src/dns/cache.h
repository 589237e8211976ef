/* The stub's answer cache for resource names, keyed by (name, type, class),
 * holding ready-to-send wire bytes so that a hit costs a lookup and a copy.
 *
 * An entry is the part of an answer after the question (answer and authority
 * records, their owner names compressed against the question at offset 12), its
 * rcode and counts, and where its TTLs sit, so a hit can count them down. Entries
 * live for their smallest TTL (capped by the caller, e.g. at the authorization's
 * expiry), and are tagged with the resource they came from so that removing a
 * resource forgets them. Bounded: a full cache evicts the entry closest to expiry
 * among a few. Not thread-safe: the stub's loop owns it. */
#ifndef SLUICE_DNS_CACHE_H
#define SLUICE_DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"

struct dns_cache;

int dns_cache_new(struct dns_cache **out, size_t max_entries);
void dns_cache_free(struct dns_cache *c);

/* Stores the answer m (its question is the key) for at most max_ttl seconds,
 * or its smallest record TTL if lower (negative answers: the SOA minimum, as
 * RFC 2308). 0, -EINVAL (no question, or a zero TTL: not cached), -ENOMEM. */
int dns_cache_put(struct dns_cache *c, const struct dns_msg *m, uint64_t resource_id,
		  uint32_t max_ttl, uint64_t now_ns);

/* Writes the cached answer to q into buf: q's id, flags and question (as the
 * asker spelled it), the records with their TTLs counted down, and an OPT if q
 * had one; truncated with TC past limit. Returns the length, 0 on a miss, or
 * -EMSGSIZE. */
int dns_cache_answer(struct dns_cache *c, const uint8_t *query, const struct dns_query *q,
		     uint8_t *buf, size_t cap, size_t limit, uint64_t now_ns);

/* Forgets every entry of a resource (or all, with UINT64_MAX). */
void dns_cache_forget_resource(struct dns_cache *c, uint64_t resource_id);
size_t dns_cache_count(const struct dns_cache *c);

#endif
