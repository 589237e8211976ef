/* The session hub: the portal's WebSocket sessions of clients and gateways
 * (docs/protocol.md "Control plane"). It keeps a mirror of what decides access
 * (resources, policies, memberships, users, settings), fed by the store's change
 * callback, and pushes every change to the sessions it concerns; it answers
 * access requests with the policy engine and the site's online gateways, and
 * revokes what stops being allowed.
 *
 * Everything runs in the http server's loop thread: the ws callbacks, the
 * change callback and the tick. Wiring (what sluice-portal's main does):
 *
 *	hub_new(st, pe, &cfg, &hub);
 *	store_set_change_cb(st, hub_store_changed, hub);
 *	http config: .ws_paths = {"/client/ws", "/gateway/ws", NULL},
 *	             .ws = hub_ws_ops(), .ws_arg = hub,
 *	             .tick = hub_tick, .tick_arg = hub, .tick_ms = HUB_TICK_MS,
 *	             .ping_s = HUB_PING_S, .idle_timeout_s = HUB_IDLE_S,
 *	             .max_message = HUB_MAX_MESSAGE
 *	... http_server_run() ...
 *	http_server_free(srv);  (closes the sessions: closed() reaches the hub)
 *	store_set_change_cb(st, NULL, NULL);
 *	hub_free(hub);
 *
 * Admin changes take effect at the next tick (so a cascade of deletions is
 * one recomputation): HUB_TICK_MS bounds the delay.
 *
 * The flows log is written off the request path: events and reported traffic
 * are queued and the tick writes them in one transaction (hub_flows_flush()
 * for a reader that must see them at once); the tick also deletes, in small
 * batches, flows and audit rows older than the retention settings. */
#ifndef SLUICE_PORTAL_HUB_H
#define SLUICE_PORTAL_HUB_H

#include <stdint.h>

#include "ctl/msg.h"
#include "portal/http.h"
#include "store/store.h"

struct hub;
struct policy_engine;

enum {
	HUB_TICK_MS = 50,
	HUB_PING_S = 15,      /* docs/protocol.md: pings every 15 s ... */
	HUB_IDLE_S = 45,      /* ... and a session silent for 45 s is dead */
	/* Messages up to this are read and answered ("too_large" past CTL_FRAME_MAX);
	 * past it the server closes the session (1009). */
	HUB_MAX_MESSAGE = CTL_FRAME_MAX + (1 << 20),
	HUB_CLOSE_REVOKED = 4001, /* token, device, user or gateway revoked */
	HUB_CLOSE_REPLACED = 4002, /* the same device or gateway connected again */
};

struct hub_config {
	unsigned authorize_timeout_ms; /* a gateway's "authorized"; 0: 5000 */
	unsigned flow_delay_ms;        /* a queued flows row waits at most this
					* long for its batch; 0: 500 (tests) */
	/* Unix seconds for policies and expiry; NULL: the real clock (tests). */
	int64_t (*now)(void *arg);
	void *now_arg;
};

/* Loads the mirror from the store, marks every gateway offline (none is
 * connected yet) and loads the stored live authorizations, re-deciding each as
 * a recomputation would (docs/protocol.md "What the portal stores"). st and pe
 * must outlive the hub. */
int hub_new(struct store *st, struct policy_engine *pe, const struct hub_config *cfg,
	    struct hub **out);
/* After the http server is freed (no session left). */
void hub_free(struct hub *hub);

/* The ws ops for http_config; arg = the hub; endpoint 0 = "/client/ws",
 * 1 = "/gateway/ws". */
const struct http_ws_ops *hub_ws_ops(void);
/* A store_change_fn: arg = the hub. */
void hub_store_changed(void *hub, const struct store_change *ch);
/* Every HUB_TICK_MS: pushes pending changes, time windows and expiry, timeouts. */
void hub_tick(void *hub);

struct hub_stats {
	uint64_t clients, gateways;       /* sessions open now */
	uint64_t auths;                   /* authorizations live or awaiting a gateway */
	uint64_t granted, denied, revoked;
	uint64_t bad_frames;
	uint64_t flows;                   /* traffic rows recorded from flow_log */
	uint64_t flows_dropped;           /* flow_log entries refused */
	uint64_t rate_limited;            /* access requests over the rate limit */
	uint64_t flows_lost;              /* rows of the flows log not written: the
					   * queue was full, or the store failed */
	uint64_t pruned;                  /* old flows and audit rows deleted */
};
void hub_get_stats(const struct hub *hub, struct hub_stats *out);

/* Writes the flows rows the hub has queued now (it writes them in batches at
 * the tick): before a read of the flows log that must see every event so far,
 * and at shutdown (hub_free() does it too). arg: the hub. */
void hub_flows_flush(void *hub);

#endif
