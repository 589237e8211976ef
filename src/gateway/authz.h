/* The gateway's authorizations: which client may reach which resource, until
 * when, with which pre-shared key, and the proxy IPs its DNS answers bound.
 * Pure: no I/O, the clock is an argument, so every rule is unit-tested.
 *
 * The portal is the source (docs/protocol.md, portal -> gateway): init lists
 * the authorizations, authorize adds or replaces one, revoke ends one,
 * resource_upsert changes a resource's filters or pattern, resource_delete
 * ends its authorizations. Expiry is the gateway's own clock: authz_expire()
 * drops what has expired even if no revoke comes.
 *
 * A client exists here while it holds at least one live authorization. Every
 * change marks the client dirty; the daemon takes dirty clients with
 * authz_take_dirty() and reconciles the kernel (peer, NAT and filter
 * elements) with what the client holds now. A client whose last authorization
 * ended stays, empty, until the daemon has removed what it installed and calls
 * authz_client_release().
 *
 * One client's bad data is refused for that client alone (-EEXIST: its tunnel
 * address is another client's, or its id came with another key; -EINVAL: a
 * resource the gateway cannot use), and never touches the others.
 *
 * Not thread-safe: the daemon's one thread owns it. */
#ifndef SLUICE_GATEWAY_AUTHZ_H
#define SLUICE_GATEWAY_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/msg.h"

struct authz;
struct authz_client;
struct binding_table;
struct dns_name;

enum {
	AUTHZ_MAX_CLIENTS = 100000,
	AUTHZ_MAX_PER_CLIENT = 1024,   /* live authorizations of one client */
	AUTHZ_MAX_BINDS = 4096,        /* proxy IPs bound for one client (BINDING_DEFAULT_MAX) */
};

/* What a client holds, for the daemon's reconciliation. */
struct authz_grant {
	const struct ctl_resource *resource;
	int64_t expires_at;
};

/* One proxy IP a DNS answer bound for the client, and the resource the name
 * fell under when it was bound. */
struct authz_bind {
	int family;             /* AF_INET, AF_INET6 */
	uint8_t proxy[16], real[16];
	uint64_t resource_id;
};

/* max_binds: per client (0: AUTHZ_MAX_BINDS). NULL on ENOMEM. */
struct authz *authz_new(size_t max_binds);
void authz_free(struct authz *a);

/* Adds or replaces the authorization (client, resource) of an init or an
 * authorize. The client's key and addresses are fixed by the first one; a
 * different PSK replaces the pair's PSK (one per pair, docs/protocol.md). 0 or
 * -EEXIST, -EINVAL, -ENOSPC, -ENOMEM. An expiry in the past is accepted and
 * dropped at the next authz_expire(). */
int authz_put(struct authz *a, const struct ctl_authorization *in);
/* Ends (client, resource): 0 or -ENOENT. */
int authz_revoke(struct authz *a, uint64_t client_id, uint64_t resource_id);
/* init: ends every authorization the list does not hold (after putting them). */
void authz_retain_refs(struct authz *a, const struct ctl_authorization *v, size_t n);
/* A resource's new content, for the clients that hold it; a resource that
 * changed its type or pattern ends its DNS bindings. 0, -ENOENT (not held: ignored). */
int authz_resource_update(struct authz *a, const struct ctl_resource *r);
/* Ends every authorization of the resource; how many went. */
size_t authz_resource_delete(struct authz *a, uint64_t resource_id);
/* Drops what expired at now (Unix s); how many went. */
size_t authz_expire(struct authz *a, int64_t now);
/* The earliest expiry of anything live, INT64_MAX if none. */
int64_t authz_next_expiry(const struct authz *a);

/* ---- clients ---- */
size_t authz_count(const struct authz *a);
struct authz_client *authz_client_by_id(const struct authz *a, uint64_t id);
/* By tunnel address (family AF_INET: 4 bytes; AF_INET6: 16). */
struct authz_client *authz_client_by_addr(const struct authz *a, int family,
					  const uint8_t *addr);
/* The next dirty client (NULL: none); it is clean afterwards. */
struct authz_client *authz_take_dirty(struct authz *a);
/* Frees a client that holds nothing (after the daemon's cleanup). */
void authz_client_release(struct authz *a, struct authz_client *c);
/* Every client in turn: fn returns 0 to go on. */
int authz_walk(struct authz *a, int (*fn)(struct authz_client *c, void *arg), void *arg);

const struct ctl_client *authz_client_info(const struct authz_client *c);
const uint8_t *authz_client_psk(const struct authz_client *c);
bool authz_client_empty(const struct authz_client *c);
/* Live grants: fills up to max, returns how many there are. */
size_t authz_client_grants(const struct authz_client *c, struct authz_grant *out, size_t max);
/* The daemon's own state for this client (what it installed). */
void *authz_client_owner(const struct authz_client *c);
void authz_client_set_owner(struct authz_client *c, void *owner);

/* ---- DNS ---- */
/* The live DNS resource of the client that covers the name most specifically
 * (docs/dns.md precedence), or NULL. */
const struct ctl_resource *authz_client_covers(const struct authz_client *c,
					       const struct dns_name *name);
struct binding_table *authz_client_bindings(struct authz_client *c);
/* Records a proxy IP the binding table just bound for name (which r covers).
 * 0, -ENOSPC. A proxy already recorded is updated. */
int authz_bind_add(struct authz_client *c, const struct authz_bind *b);
/* Drops the record of one proxy IP (the table is the caller's: dnsep forgets
 * a binding whose installation failed). */
void authz_bind_del(struct authz_client *c, int family, const uint8_t *proxy);
/* Drops the records of proxy IPs the table no longer binds (an answer whose
 * bindings the endpoint forgot). */
void authz_bind_prune(struct authz_client *c);
/* Forgets a name's bindings (table and records): a bound() that failed. */
void authz_bind_forget_name(struct authz_client *c, const struct dns_name *name);
size_t authz_client_binds(const struct authz_client *c, const struct authz_bind **out);

/* ---- flows ---- */
/* The resource a packet of this client to dst was allowed by: the resource of
 * a bound proxy IP, else the most specific live ip/cidr resource holding dst.
 * 0 if none. */
uint64_t authz_client_resource_for(const struct authz_client *c, int family,
				   const uint8_t *dst);

#endif
