/* sluice-client: the daemon on a user's device (docs/client.md). One event
 * loop puts together:
 *
 *   portal session (ctl) ──▶ resources ──▶ stub's resource table, routes
 *   application ──DNS──▶ sentinel ──▶ stub ──no resource──▶ the host's nameserver
 *                                       └─resource──▶ access (access_request to the
 *                                         portal, once) ──▶ gateway peer (wg device)
 *                                         ──▶ the query through the tunnel to the
 *                                         gateway's DNS endpoint, with an offer
 *   answer ──▶ proxy IPs bound ──▶ allowed IPs of that gateway's peer ──▶ state file
 *   a packet no peer takes (an IP/CIDR resource, a proxy IP after a restart)
 *     ──▶ queued, access asked ──▶ sent on grant, ICMP prohibited on denial
 *
 * One thread owns everything but the WireGuard data path (the device's two
 * threads, which hand packets no peer takes to a locked queue). */
#ifndef SLUICE_CLIENT_CLIENT_H
#define SLUICE_CLIENT_CLIENT_H

#include "client/config.h"

struct client;

/* Sets the host up (key, TUN, routes, sentinels, resolv.conf; a crashed run's
 * leftovers repaired) and opens the portal session. token is wiped by the
 * caller. 0 or -errno, with the reason logged (-EADDRINUSE: a range overlaps
 * the host's routes). */
int client_new(const struct cl_config *cfg, const char *token, struct client **out);
/* Runs until SIGTERM or SIGINT (blocked by the caller before any thread
 * starts; read here through a signalfd). 0 or -errno. */
int client_run(struct client *c);
/* Puts the host back: resolv.conf, routes, the device. */
void client_free(struct client *c);

#endif
