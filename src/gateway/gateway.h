/* sluice-gateway: the daemon that puts the gateway's parts together in one
 * event loop (docs/gateway.md):
 *
 *   portal session (ctl) ──▶ authz ──reconcile──▶ WireGuard peer (wg device)
 *                                             ──▶ filter and DNAT elements (nat)
 *   DNS endpoint (dnsep) ◀─▶ resolver (c-ares, the private DNS)
 *        └─ bound() ──▶ authz binds ──reconcile──▶ DNAT map element + filter
 *   conntrack (ct) ──▶ flow log: JSON lines, and flow_log to the portal each 10 s
 *
 * One thread owns everything but the WireGuard data path (the device's two
 * threads), so nothing here takes a lock. */
#ifndef SLUICE_GATEWAY_GATEWAY_H
#define SLUICE_GATEWAY_GATEWAY_H

#include "gateway/config.h"

struct gateway;

enum {
	GW_FLOW_PERIOD_S = 10,     /* flow_log batches */
	GW_FLOW_BACKLOG = 20000,   /* flow records kept while the portal is away */
	GW_FLOW_FRAME = 1000,      /* flow records in one flow_log frame */
	GW_FLUSH_MS = 250,         /* flow counters read at most this often before a change */
};

/* Sets the host up (key, TUN, nftables table; a crashed run's leftovers
 * removed) and opens the portal session. token is wiped by the caller. 0 or
 * -errno, with the reason logged. */
int gateway_new(const struct gw_config *cfg, const char *token, struct gateway **out);
/* Runs until SIGTERM or SIGINT (blocked by the caller before any thread
 * starts; read here through a signalfd). 0 or -errno. */
int gateway_run(struct gateway *g);
/* Removes all it set up: the table, the device (its routes go with it). */
void gateway_free(struct gateway *g);

#endif
