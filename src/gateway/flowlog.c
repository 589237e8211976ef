/* The flow log: conntrack's counters turned into records of (client,
 * resource, protocol, port, bytes each way, start, end), written to the log as
 * JSON lines and sent to the portal as flow_log every GW_FLOW_PERIOD_S.
 *
 * A flow is reported when it ends (its DESTROY event) and, while it lives,
 * once a period with the bytes of that period (the dump zeroes the counters),
 * so a long download shows up before it finishes and the records of one flow
 * add up to its total. A record's end is the flow's end, or the time of the
 * report for a flow still running. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <jansson.h>

#include "ctl/session.h"
#include "gateway/conntrack.h"
#include "gateway/gateway_priv.h"
#include "lib/time.h"

static const char *proto_name(enum ctl_proto p)
{
	return p == CTL_PROTO_TCP ? "tcp" : p == CTL_PROTO_UDP ? "udp" : "icmp";
}

static void record_log(const struct gateway *g, const struct ctl_flow *f, const uint8_t *dst,
		       int family)
{
	char addr[INET6_ADDRSTRLEN] = "";
	json_t *o;

	(void)g;
	inet_ntop(family, dst, addr, sizeof(addr));
	o = json_pack("{sIsIsssisssIsIsIsI}", "client_id", (json_int_t)f->client_id,
		      "resource_id", (json_int_t)f->resource_id, "proto", proto_name(f->proto),
		      "dst_port", (int)f->dst_port, "dst", addr, "rx_bytes", (json_int_t)f->rx_bytes,
		      "tx_bytes", (json_int_t)f->tx_bytes, "start", (json_int_t)f->start, "end",
		      (json_int_t)f->end);
	if (o)
		log_event(LOG_LVL_INFO, "flow", o);
	json_decref(o);
}

static void record_add(struct gateway *g, const struct ctl_flow *f)
{
	if (g->nflows == g->capflows) {
		size_t cap = g->capflows ? g->capflows * 2 : 256;
		struct ctl_flow *v;

		if (g->nflows >= GW_FLOW_BACKLOG) {
			/* The portal has been away long: the oldest records go
			 * (they are in the log already). */
			memmove(g->flows, g->flows + GW_FLOW_FRAME,
				(g->nflows - GW_FLOW_FRAME) * sizeof(*g->flows));
			g->nflows -= GW_FLOW_FRAME;
			g->flows_dropped += GW_FLOW_FRAME;
		} else {
			v = realloc(g->flows, cap * sizeof(*v));
			if (!v) {
				g->flows_dropped++;
				return;
			}
			g->flows = v;
			g->capflows = cap;
		}
	}
	g->flows[g->nflows++] = *f;
}

/* One conntrack flow: its client and resource, or counted as unknown (a
 * flow of a client already gone, or of something not a tunnel client's). */
static void flow_report(struct gateway *g, const struct ct_flow *f, bool live)
{
	struct authz_client *c = authz_client_by_addr(g->az, f->family, f->src);
	int64_t now = (int64_t)(time_real_ns() / NSEC_PER_SEC);
	struct ctl_flow r = { 0 };

	if (!c) {
		g->flows_unknown++;
		return;
	}
	r.client_id = authz_client_info(c)->id;
	r.resource_id = authz_client_resource_for(c, f->family, f->dst);
	if (!r.resource_id) {
		g->flows_unknown++;
		return;
	}
	switch (f->proto) {
	case IPPROTO_TCP:
		r.proto = CTL_PROTO_TCP;
		break;
	case IPPROTO_UDP:
		r.proto = CTL_PROTO_UDP;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		r.proto = CTL_PROTO_ICMP;
		break;
	default:
		g->flows_unknown++;
		return;
	}
	r.dst_port = r.proto == CTL_PROTO_ICMP ? 0 : f->dport;
	r.tx_bytes = f->orig_bytes;  /* the client's, through the gateway */
	r.rx_bytes = f->reply_bytes; /* back to the client */
	r.start = f->start_ns ? (int64_t)(f->start_ns / NSEC_PER_SEC) : now;
	r.end = live || !f->stop_ns ? now : (int64_t)(f->stop_ns / NSEC_PER_SEC);
	if (r.end < r.start)
		r.end = r.start;
	if (live && !r.tx_bytes && !r.rx_bytes)
		return; /* nothing new this period */
	record_log(g, &r, f->dst, f->family);
	record_add(g, &r);
}

void gw_flow_event(void *arg, const struct ct_flow *f)
{
	flow_report(arg, f, false);
}

static void flow_live(void *arg, const struct ct_flow *f)
{
	flow_report(arg, f, true);
}

static void flow_send(struct gateway *g)
{
	size_t sent = 0;

	if (!g->nflows || !g->sess || !ctl_session_connected(g->sess))
		return;
	while (sent < g->nflows) {
		struct ctl_msg m = { .type = CTL_FLOW_LOG };
		size_t n = g->nflows - sent;
		int err;

		if (n > GW_FLOW_FRAME)
			n = GW_FLOW_FRAME;
		m.flows = g->flows + sent;
		m.n_flows = n;
		err = ctl_session_send(g->sess, &m);
		if (err < 0) {
			log_rl(&g->rl_flow, LOG_LVL_WARN, "flow log: not sent (%s); kept for later",
			       strerror(-err));
			break;
		}
		sent += n;
	}
	if (sent < g->nflows)
		memmove(g->flows, g->flows + sent, (g->nflows - sent) * sizeof(*g->flows));
	g->nflows -= sent;
}

void gw_flow_period(struct gateway *g)
{
	int r = ct_flows_dump(g->ct, true, flow_live, g);

	if (r < 0)
		log_rl(&g->rl_flow, LOG_LVL_WARN, "flow log: conntrack dump: %s", strerror(-r));
	flow_send(g);
}

/* Before flows are deleted: what they carried since the last period is
 * reported while their clients and bindings still exist. */
void gw_flow_flush(struct gateway *g)
{
	uint64_t now = time_mono_ns();
	int r;

	if (g->flushed_ns && now - g->flushed_ns < GW_FLUSH_MS * 1000000ull)
		return;
	g->flushed_ns = now;
	r = ct_flows_dump(g->ct, true, flow_live, g);

	if (r < 0)
		log_rl(&g->rl_flow, LOG_LVL_WARN, "flow log: conntrack dump: %s", strerror(-r));
}
