/* The gateway's bindings for one client: (name, real address) -> proxy IP, and
 * the rewrite of its resolver's answer into the answer the client may see.
 * Pure (no I/O, no clock); the gateway holds one table per client.
 *
 * binding_apply() turns an A or AAAA answer into one that holds proxy IPs only:
 *  - the answer keeps the A/AAAA records of the asked type on the CNAME chain
 *    from the question name, in their order, with the question name as owner
 *    and TTL min(record, CNAMEs on the way); CNAME, DNAME and everything else
 *    is dropped, as are the authority and additional sections, except the SOA
 *    of a negative answer (NXDOMAIN, NODATA); AD is cleared, the EDNS options
 *    of the resolver's answer are dropped; other rcodes pass with no records;
 *  - each address gets the proxy IP already bound to (question name, real), or
 *    else the next offer entry of its family, which is then bound. An entry is
 *    refused (and the next one tried) if it is not usable (offer_addr_usable)
 *    or already bound to another (name, real): that covers duplicates too;
 *  - when the offer or the table (-ENOSPC) runs out, the records left are
 *    dropped (u->dropped): applications use the first addresses. If no
 *    address at all could be bound, the call fails and the message is left as
 *    an empty SERVFAIL: a real address never stays in it, whatever happens.
 * A binding lasts until forgotten: a proxy IP is bound to one (name, real)
 * only, and two names sharing a real address get two proxy IPs. Names are
 * compared without regard to ASCII case and stored lowercased.
 *
 * Errors: -EINVAL (no question, bad arguments), -EOPNOTSUPP (a question other
 * than IN A or IN AAAA), -ENOBUFS (addresses, but no usable offer entry),
 * -ENOSPC (addresses, but the table is full), -ENOMEM (the table could not
 * grow), -ENOENT (lookups). */
#ifndef SLUICE_DNS_BINDING_H
#define SLUICE_DNS_BINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"
#include "dns/offer.h"

enum binding_limits {
	BINDING_DEFAULT_MAX = 4096, /* per client: ~8 addresses for each of 512 names */
	BINDING_MAX = 1 << 20,      /* the largest cap a table accepts */
	BINDING_CNAME_HOPS = 16,    /* CNAMEs followed from the question name */
};

struct binding_table;

/* A table holding at most max bindings (1..BINDING_MAX); NULL with errno
 * EINVAL or ENOMEM. Memory grows with use, up to the cap. */
struct binding_table *binding_table_new(size_t max);
void binding_table_free(struct binding_table *t);
size_t binding_count(const struct binding_table *t);

/* Rewrites answer (the resolver's answer to the client's question) in place;
 * u reports the offer entries used and refused. */
int binding_apply(struct binding_table *t, struct dns_msg *answer, const struct offer *offer,
		  struct offer_use *u);

/* The data path: the (name, real) a proxy IP (alen 4 or 16) is bound to. name
 * may be NULL; real receives alen bytes. 0 or -ENOENT. */
int binding_lookup_proxy(const struct binding_table *t, const uint8_t *proxy, size_t alen,
			 struct dns_name *name, uint8_t *real);
/* The proxy IP bound to (name, real), into proxy (alen bytes). 0 or -ENOENT. */
int binding_lookup(const struct binding_table *t, const struct dns_name *name,
		   const uint8_t *real, size_t alen, uint8_t *proxy);

/* Revocation: forgets every binding of a name, of the names match() accepts,
 * or all of them; returns how many went. */
size_t binding_forget_name(struct binding_table *t, const struct dns_name *name);
size_t binding_forget_if(struct binding_table *t,
			 bool (*match)(const struct dns_name *name, void *arg), void *arg);
void binding_clear(struct binding_table *t);
/* Forgets the one binding of a proxy IP (alen 4 or 16): a binding whose
 * installation failed. 0 or -ENOENT. */
int binding_forget_proxy(struct binding_table *t, const uint8_t *proxy, size_t alen);

#endif
