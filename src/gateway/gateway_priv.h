/* Shared by the daemon's files: gateway.c (life, the loop, the portal's
 * messages), sync.c (the kernel made to match authz), flowlog.c (conntrack to
 * JSON lines and flow_log frames), dnsops.c (the DNS endpoint's questions). */
#ifndef SLUICE_GATEWAY_PRIV_H
#define SLUICE_GATEWAY_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/msg.h"
#include "gateway/authz.h"
#include "gateway/config.h"
#include "gateway/gateway.h"
#include "gateway/nat.h"
#include "lib/log.h"

struct ct;
struct ct_flow;
struct ctl_loop;
struct ctl_session;
struct dnsep;
struct nl;
struct resolver;
struct wg_device;

/* What the daemon installed for one client (authz's owner pointer). */
struct gw_dnat {
	int family;
	uint8_t proxy[16], real[16];
};

struct gw_installed {
	bool peer;                  /* the WireGuard peer exists */
	uint8_t psk[CTL_KEY_LEN];   /* the PSK it was given */
	struct nat_rule *rules;     /* allow elements */
	size_t nrules, caprules;
	struct gw_dnat *dnats;      /* DNAT map elements */
	size_t ndnats, capdnats;
};

struct gateway {
	struct gw_config cfg;
	char token[CTL_TOKEN_MAX];
	uint8_t priv[CTL_KEY_LEN], pub[CTL_KEY_LEN];
	char pub_b64[48];
	int ep, sig_fd, tick_fd;

	struct authz *az;
	struct nat *nat;
	struct ct *ct;
	struct wg_device *dev;
	struct resolver *res;
	struct dnsep *dns;
	struct ctl_loop *loop;
	struct ctl_session *sess;
	struct nl *nl;
	int ifindex;

	bool have_tunnel;
	struct ctl_ip tun4, tun6;

	/* flow log: records waiting for the portal */
	struct ctl_flow *flows;
	size_t nflows, capflows;
	uint64_t flows_dropped, flows_unknown;
	int64_t next_flow_s;        /* Unix s of the next batch */

	uint64_t flushed_ns;        /* time_mono_ns() of the last gw_flow_flush() */
	bool stopping;
	struct log_ratelimit rl, rl_dns, rl_flow;
};

/* sync.c: makes the peer, the filter and the DNAT elements of c match what c
 * holds now; a client left with nothing loses them all and is released (c is
 * gone after a 0 return then). 0 or -errno (what could not be installed is
 * logged; what was installed stays recorded, so the next call retries). */
int gw_sync(struct gateway *g, struct authz_client *c);
/* A binding the DNS endpoint just made under resource r: its elements only. */
int gw_sync_bind(struct gateway *g, struct authz_client *c, const struct authz_bind *b,
		 const struct ctl_resource *r);
/* Every dirty client. */
void gw_sync_dirty(struct gateway *g);
/* Shutdown: frees the records (the table and the device go whole). */
void gw_sync_teardown(struct gateway *g);

/* dnsops.c */
extern const struct dnsep_ops gw_dnsep_ops;

/* flowlog.c */
void gw_flow_event(void *arg, const struct ct_flow *f);
/* The 10 s batch: live flows' counters read (and zeroed) and everything
 * waiting sent, if the portal is there. */
void gw_flow_period(struct gateway *g);
/* Counters of the live flows read (and zeroed) before a change to authz may
 * end some: their bytes are attributed while the bindings still exist. At most
 * every GW_FLUSH_MS (a burst of revocations is one conntrack dump). */
void gw_flow_flush(struct gateway *g);

#endif
