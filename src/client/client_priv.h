/* Shared by the daemon's files: client.c (life, the loop, the portal's
 * messages), access.c (resources, authorizations, gateway peers), tundns.c
 * (the stub's resolver: queries through the tunnel), nopeer.c (packets no
 * peer takes), report.c (the status document and the state file). */
#ifndef SLUICE_CLIENT_PRIV_H
#define SLUICE_CLIENT_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "client/client.h"
#include "client/config.h"
#include "ctl/msg.h"
#include "dns/hostdns.h"
#include "dns/stub.h"
#include "lib/log.h"

struct ctl_loop;
struct ctl_session;
struct nl;
struct pool;
struct status_server;
struct stub;
struct wg_device;

enum {
	CL_MAX_SENTINELS = HOSTDNS_MAX_NS,
	CL_DNS_PORT = 53535,          /* the gateways' DNS endpoint */
	CL_PKT_MAX = 1500,            /* a packet kept while access is asked */
	CL_RING = 256,                /* packets handed over by the TX thread */
	CL_RES_PKTS = 32,             /* packets kept per resource */
	CL_REQUEST_TIMEOUT_S = 10,    /* an access_request the portal leaves unanswered */
	CL_DENY_HOLD_MS = 1000,       /* a denial answers at once for this long */
	CL_RENEW_S = 60,              /* ask again this long before expiry */
	CL_QUERY_MAX = 4096,          /* a tunnelled query, as the stub builds it */
};

enum cl_res_state { CL_IDLE, CL_REQUESTING, CL_GRANTED, CL_DENIED };

/* A gateway this client holds (or held) an authorization on: one WireGuard
 * peer, one UDP socket to its DNS endpoint through the tunnel. */
struct cl_gateway {
	struct cl_gateway *next;
	uint64_t id;
	uint8_t pub[CTL_KEY_LEN], psk[CTL_KEY_LEN];
	struct sockaddr_storage endpoint;
	char endpoint_text[CTL_ADDRESS_MAX + 8];
	struct ctl_ip tun4, tun6;
	unsigned n_res;            /* resources granted on it */
	bool peer;                 /* configured in the device */
	bool pinned;               /* its endpoint pinned to the host's route */
	int dns_fd;                /* connected to tun4:53535, or -1 */
};

/* A packet waiting for access to its resource. */
struct cl_pkt {
	struct cl_pkt *next;
	uint16_t len;
	uint8_t data[];
};

struct cl_resource {
	struct ctl_resource r;
	enum cl_res_state state;
	uint64_t req;              /* the access_request in flight (REQUESTING or renewing) */
	int64_t req_at;            /* Unix s it was sent */
	struct cl_gateway *gw;     /* GRANTED */
	int64_t expires_at;
	uint64_t denied_until_ms;  /* DENIED: answer at once until then (monotonic) */
	char denied_reason[CTL_IDENT_MAX + 1];
	struct cl_pkt *pkts;       /* waiting for access */
	unsigned n_pkts;
	bool routed;               /* ip/cidr: its route is in the main table */
	bool want_route;           /* ip/cidr: routed, or about to be */
	bool refresh;              /* re-offer its proxy IPs on the next grant */
	bool renewing;             /* a renewal is in flight (state stays GRANTED) */
};

/* A tunnelled query: waiting for access (gw NULL), or sent to gw. */
struct cl_query {
	struct cl_query *next;
	uint64_t token, resource_id;
	struct cl_gateway *gw;
	uint16_t id;
	uint16_t len;
	uint16_t fail_rcode;       /* to be answered with this rcode (deferred) */
	uint8_t msg[];
};

/* Packets the TX thread hands over (on_no_peer): the only state shared with
 * another thread, under mu. */
struct cl_ring {
	pthread_mutex_t mu;
	int efd;                   /* eventfd: the loop reads the ring */
	unsigned head, n;
	uint64_t dropped;
	uint16_t len[CL_RING];
	uint8_t (*data)[CL_PKT_MAX];
};

struct client {
	struct cl_config cfg;
	char token[CTL_TOKEN_MAX];
	uint8_t priv[CTL_KEY_LEN], pub[CTL_KEY_LEN];
	char pub_b64[48];
	int ep, sig_fd, tick_fd;

	struct nl *nl;
	struct wg_device *dev;
	int ifindex, lo_index;
	struct ctl_loop *loop;
	struct ctl_session *sess;
	struct stub *stub;
	struct stub_resolver resolver;
	struct pool *pool;
	struct status_server *status;
	struct cl_ring ring;

	/* the host's DNS */
	struct hostdns_paths dns_paths;
	struct hostdns_prefix sent_pfx[2];
	struct hostdns_conf host_conf;
	bool resolved;             /* systemd-resolved manages the host */
	bool dns_applied;
	struct sockaddr_storage sentinels[CL_MAX_SENTINELS], upstreams[CL_MAX_SENTINELS];
	size_t n_sentinels;
	struct sockaddr_storage admin_upstreams[CTL_UPSTREAMS_MAX]; /* the portal's dns settings */
	unsigned n_admin_upstreams;

	/* the portal */
	bool connected;
	int64_t connected_since;   /* Unix s of the last change */
	bool have_init;
	struct ctl_ip tun4, tun6;
	bool have_tunnel;
	uint64_t user_id, device_id;
	char user_name[4 * CTL_NAME_MAX + 1], device_name[4 * CTL_NAME_MAX + 1];
	struct sockaddr_storage portal_addr;
	bool portal_pinned;

	/* resources, sorted by id */
	struct cl_resource **res;
	size_t n_res, cap_res;
	uint64_t next_req;
	struct cl_gateway *gws;
	struct cl_query *queries;
	size_t n_queries;

	/* the state file */
	size_t n_restored;
	bool state_dirty;
	uint64_t state_saved_ms;

	bool stopping;
	struct log_ratelimit rl, rl_pkt, rl_dns;
};

int64_t cl_now_s(void);
uint64_t cl_now_ms(void);
const char *cl_ip_text(const struct ctl_ip *ip, char *buf, size_t len);

/* access.c */
struct cl_resource *cl_res_find(struct client *c, uint64_t id);
/* A resource from init or resource_upsert: added or changed (stub table, route). */
void cl_res_put(struct client *c, const struct ctl_resource *r);
/* No longer reachable: authorization, proxy IPs, cache, route go. */
void cl_res_remove(struct client *c, uint64_t id);
/* Access is needed now (a query or a packet): asks the portal unless asked
 * already. Returns the state after the call. */
enum cl_res_state cl_access_want(struct client *c, struct cl_resource *res);
void cl_access_granted(struct client *c, const struct ctl_msg *m);
void cl_access_denied(struct client *c, const struct ctl_msg *m);
/* Revoked or expired: the peer loses the resource's addresses, the stub its
 * cached answers; the route stays, so the next packet asks again. */
void cl_access_end(struct client *c, struct cl_resource *res, const char *why);
/* The gateway is gone (the portal says so, or WireGuard gave up): every
 * resource granted there asks again, to be granted on another. */
void cl_gateway_lost(struct client *c, uint64_t gateway_id, const char *why);
/* Every second: expiries, renewals, requests left unanswered. */
void cl_access_tick(struct client *c);
/* After a reconnect's init: every authorization held is asked for again. */
void cl_access_resync(struct client *c);
/* The portal session went down. */
void cl_access_portal_down(struct client *c);
/* A proxy IP bound or freed by the stub: the peer's allowed IPs follow. */
void cl_access_proxy(struct client *c, bool bound, int family, const uint8_t *addr,
		     uint64_t resource_id);
void cl_gateways_free(struct client *c);
struct cl_gateway *cl_gateway_find(struct client *c, uint64_t id);

/* tundns.c: the stub's resolver */
int cl_dns_send(void *arg, uint64_t token, uint64_t resource_id, const uint8_t *query,
		size_t len);
void cl_dns_cancel(void *arg, uint64_t token);
/* Access granted: the queries waiting for it leave for its gateway. */
void cl_dns_flush(struct client *c, struct cl_resource *res);
/* Access denied or impossible: the queries waiting for it get rcode. */
void cl_dns_fail(struct client *c, uint64_t resource_id, uint16_t rcode);
/* Answers the failures decided where the stub could not be called. */
void cl_dns_deferred(struct client *c);
/* gw's queries in flight (of one resource, or all: 0) wait for a new grant. */
void cl_dns_requeue(struct client *c, struct cl_gateway *gw, uint64_t resource_id);
/* A gateway's socket is readable. */
void cl_dns_readable(struct client *c, struct cl_gateway *gw);
/* The gateway goes: its queries in flight are failed with SERVFAIL. */
void cl_dns_gateway_gone(struct client *c, struct cl_gateway *gw);
void cl_dns_free(struct client *c);

/* nopeer.c */
int cl_ring_init(struct cl_ring *r);
void cl_ring_free(struct cl_ring *r);
void cl_on_no_peer(void *arg, const uint8_t *pkt, size_t len); /* TX thread */
void cl_ring_drain(struct client *c);
/* Access granted: the resource's packets go; denied: each gets ICMP prohibited. */
void cl_pkts_send(struct client *c, struct cl_resource *res);
void cl_pkts_refuse(struct client *c, struct cl_resource *res);

/* report.c */
json_t *cl_status_snapshot(void *arg);
/* The bindings, restored at start, written when changed (at most once a second). */
void cl_state_restore(struct client *c);
void cl_state_save(struct client *c, bool now);

#endif
