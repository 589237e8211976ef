/* Shared by the hub's files: hub.c (life, the mirror and the store's changes),
 * hub_conv.c (rows into wire objects), hub_session.c (the WebSocket sessions),
 * hub_access.c (recomputation, access requests, authorizations), hub_store.c
 * (what the hub keeps in the store: live authorizations, reported traffic). */
#ifndef SLUICE_PORTAL_HUB_PRIV_H
#define SLUICE_PORTAL_HUB_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/msg.h"
#include "lib/log.h"
#include "lib/tbucket.h"
#include "portal/hub.h"
#include "portal/policy.h"

/* A sorted map from id to pointer: lookups are binary searches, and ids from the
 * store mostly arrive in order, so inserts are appends. */
struct hub_slot {
	int64_t id;
	void *p;
};
struct hub_map {
	struct hub_slot *v;
	size_t n, cap;
};
void *map_get(const struct hub_map *m, int64_t id);
int map_put(struct hub_map *m, int64_t id, void *p);
void *map_del(struct hub_map *m, int64_t id);
void map_free(struct hub_map *m);

struct hub_res {
	int64_t id, site_id;
	struct ctl_resource cr;
	char *upsert;           /* the resource_upsert frame */
	size_t upsert_len;
};

struct hub_client;

struct hub_user {
	int64_t id;
	bool disabled;
	int64_t *groups;        /* sorted */
	size_t ngroups;
	struct hub_client *clients; /* devices the hub tracks */
};

struct hub_gateway;

/* One authorization of a device for a resource through a gateway: pending until
 * the gateway says "authorized", then live (and stored) until it expires or is
 * revoked. At most one per (client, resource). All of a device's authorizations
 * on one gateway share one PSK (the gateway's peer for the device has one). */
struct hub_auth {
	uint64_t ref;
	struct hub_client *client;
	struct hub_gateway *gw;
	struct hub_auth *cnext, *gnext;
	int64_t resource_id;
	uint8_t psk[CTL_KEY_LEN];
	int64_t expires_at;     /* hub clock */
	uint64_t req;           /* pending: the client's request */
	uint64_t deadline_ns;   /* pending: time_mono_ns() limit */
	bool live;
};

/* A device the hub tracks: while it has a session or authorizations. */
struct hub_client {
	int64_t id, user_id, token_id;
	int64_t token_expires;  /* hub clock; INT64_MAX: never */
	struct hub_user *user;
	struct hub_client *unext;
	struct http_session *hs;
	struct ctl_client cc;   /* for authorize */
	struct ctl_named named_user, named_device; /* for init, as at connect */
	struct policy_addr source;
	uint64_t *vis;          /* resources announced to the session, sorted */
	size_t nvis, capvis;
	struct hub_auth *auths;
	int64_t next_change;    /* hub clock: decisions may change then */
	uint64_t offline_seq;   /* the last gateway_offline it was sent (hub's count) */
	bool dirty, killed, need_init;
	const char *kill_reason;
	struct tbucket requests; /* access_request's rate limit (the device's) */
	struct log_ratelimit rl;
};

struct hub_gateway {
	int64_t id, site_id, token_id;
	int64_t token_expires;
	struct http_session *hs; /* NULL: offline */
	struct ctl_gateway cg;   /* for access_granted */
	struct hub_auth *auths;
	size_t load;
	bool killed;
	const char *kill_reason;
	struct log_ratelimit rl;
};

struct hub {
	struct store *st;
	struct policy_engine *pe;
	struct hub_config cfg;
	struct hub_map res, users, clients, gateways;
	struct hub_map spent;   /* device id -> struct tbucket *: the access_request
				 * bucket of a device no longer tracked, until full */
	struct policy *pols;    /* sorted by group_id, id */
	size_t npols, cappols;
	struct policy *scratch; /* one user's policies */
	size_t capscratch;
	struct ctl_ip upstreams[CTL_UPSTREAMS_MAX];
	unsigned n_upstreams;
	uint64_t next_ref;
	uint64_t offline_seq;   /* gateway sessions ended, for one gateway_offline each */
	bool dirty_any, dns_changed, closing;
	/* the control plane's limits, from the settings */
	uint32_t req_rate, req_burst;          /* access_request: per s, at once */
	uint32_t flow_days, audit_days;        /* retention; 0: for ever */
	/* flows rows waiting for the tick's batch (hub_store.c) */
	json_t *flowq;
	uint64_t flowq_since;                  /* time_mono_ns() of its oldest row */
	uint64_t prune_at;                     /* time_mono_ns() of the next pruning */
	struct hub_stats stats;
	struct log_ratelimit rl, rl_flowq, rl_limited;
};

/* The flows queue and retention (hub_store.c). */
enum {
	HUB_FLOWQ_MAX = 8192,        /* rows queued at most: past it they are lost */
	HUB_FLOW_BATCH = 512,        /* a batch this large is written at the next tick */
	HUB_FLOW_DELAY_MS = 500,     /* a row waits at most this long (the default) */
	HUB_PRUNE_BATCH = 500,       /* rows one pruning statement deletes at most */
	HUB_PRUNE_GAP_MS = 200,      /* between two batches while old rows remain */
	HUB_PRUNE_EVERY_S = 60,      /* old rows are looked for this often */
	/* the settings' ranges (the API checks them, the hub clamps what the
	 * database holds) */
	HUB_REQ_RATE_MAX = 100000,
	HUB_REQ_BURST_MAX = 100000,
	HUB_RETENTION_MAX = 36500,
};

/* hub.c */
int64_t hub_now(const struct hub *h);
struct hub_user *hub_user_get(struct hub *h, int64_t id, bool create);
void hub_mark_group(struct hub *h, int64_t group_id);
void hub_mark_user(struct hub *h, struct hub_user *u);
void hub_client_maybe_free(struct hub *h, struct hub_client *c);
/* A device tracked again: its access_request bucket as it left it. */
void hub_spent_restore(struct hub *h, struct hub_client *c);
/* Forgets the buckets that are full again (at the pruning passes). */
void hub_spent_sweep(struct hub *h, uint64_t mono);
void hub_gateway_maybe_free(struct hub *h, struct hub_gateway *g);
/* Sends m (encoded) to a session; failures are logged (the session is being
 * dropped by the server if it does not read). */
int hub_send(struct hub *h, struct http_session *hs, const struct ctl_msg *m);
/* A flows row for an event of c: queued (hub_flow_queue). */
void hub_flow(struct hub *h, const char *event, const struct hub_client *c,
	      int64_t resource_id, int64_t gateway_id, const char *reason);
/* The settings the hub applies: the limits here, upstream_dns apart. */
void hub_limits_apply(struct hub *h, const json_t *settings);

/* hub_store.c */
/* The live authorization a into the store / out of it; failures are logged
 * (the authorization goes on in memory, it is only not kept over a restart). */
void hub_auth_save(struct hub *h, const struct hub_auth *a);
void hub_auth_forget(struct hub *h, const struct hub_auth *a);
/* At hub_new(), once the mirror is loaded: the stored authorizations. */
int hub_auth_load(struct hub *h);
/* A gateway's flow_log: one "traffic" row per usable flow (queued). */
void hub_flow_log(struct hub *h, struct hub_gateway *g, const struct ctl_msg *m);
/* Takes row (a flows object) into the queue, or counts and drops it if the
 * queue is full; 0 or -ENOBUFS. The row's time is set now if it has none. */
int hub_flow_queue(struct hub *h, json_t *row);
/* At the tick: writes the queue when it is due (HUB_FLOW_BATCH rows, or its
 * oldest row HUB_FLOW_DELAY_MS old) and deletes a batch of old log rows when
 * pruning is due. */
void hub_logs_tick(struct hub *h, uint64_t mono);

/* hub_conv.c: store rows into wire objects, checked as the peer would check them */
int conv_resource(const json_t *row, struct ctl_resource *out);
int conv_gateway(const json_t *row, struct ctl_gateway *out);
int conv_client(const json_t *row, struct ctl_client *out);
/* A user or client row as init's "user" or "device" (key): {id, name}. */
int conv_named(const json_t *row, const char *key, struct ctl_named *out);
int conv_upstreams(const json_t *settings, struct ctl_ip *out, unsigned *n);
int64_t conv_time(const json_t *row, const char *key); /* INT64_MAX when null */

/* hub_session.c */
void hub_client_init(struct hub *h, struct hub_client *c);
void hub_close(struct hub *h, struct http_session *hs, uint16_t code, const char *why);

/* hub_access.c */
/* The user's policies into h->scratch; the count. */
size_t hub_user_policies(struct hub *h, const struct hub_user *u);
void hub_subject(const struct hub *h, const struct hub_client *c, struct policy_subject *s);
/* Recomputes what c may reach: announces the difference, revokes what ended. */
void hub_recompute(struct hub *h, struct hub_client *c);
void hub_access_request(struct hub *h, struct hub_client *c, const struct ctl_msg *m);
void hub_authorized(struct hub *h, struct hub_gateway *g, uint64_t ref);
/* Ends an authorization and frees it: "revoke" to its gateway (END_GW), to the
 * client access_denied (pending: always) or access_revoked (live: END_CLIENT),
 * and a flow event (live) or denial (pending) with reason. */
enum { END_GW = 1, END_CLIENT = 2 };
void hub_auth_end(struct hub *h, struct hub_auth *a, const char *event, const char *reason,
		  unsigned how);
/* Timeouts and expiry of c's authorizations. */
void hub_auth_timers(struct hub *h, struct hub_client *c, uint64_t mono, int64_t now);

#endif
