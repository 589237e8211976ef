/* What the hub keeps in the store beside the admin's rows (docs/protocol.md
 * "What the portal stores"): its live authorizations, written when a gateway
 * confirms one and deleted when it ends, and read back at start so that a
 * restart interrupts no flow; the traffic gateways report in flow_log, as
 * rows of the flows log; the queue that writes the flows log in batches, and
 * the retention of the flows and audit logs. */
#include "portal/hub_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/time.h"

/* The last second store_time_format() writes as itself (9999-12-31T23:59:59Z). */
#define FLOW_TIME_MAX 253402300799ll

/* ---- live authorizations ------------------------------------------------ */

void hub_auth_save(struct hub *h, const struct hub_auth *a)
{
	const struct hub_client *c = a->client;
	struct store_authz sa = {
		.client_id = c->id, .resource_id = a->resource_id, .gateway_id = a->gw->id,
		.token_id = c->token_id, .ref = a->ref, .expires_at = a->expires_at,
	};
	struct store_err err;

	memcpy(sa.psk, a->psk, sizeof(sa.psk));
	if (c->source.family &&
	    !inet_ntop(c->source.family, c->source.bytes, sa.source, sizeof(sa.source)))
		sa.source[0] = '\0';
	if (store_authz_put(h->st, &sa, &err) < 0)
		log_rl(&h->rl, LOG_LVL_WARN, "hub: the authorization of client %lld for "
		       "resource %lld is not kept over a restart: %s", (long long)c->id,
		       (long long)a->resource_id, err.msg);
	sodium_memzero(&sa, sizeof(sa));
}

void hub_auth_forget(struct hub *h, const struct hub_auth *a)
{
	struct store_err err;

	if (store_authz_delete(h->st, a->client->id, a->resource_id, &err) < 0)
		log_rl(&h->rl, LOG_LVL_WARN, "hub: an ended authorization of client %lld for "
		       "resource %lld stays stored: %s", (long long)a->client->id,
		       (long long)a->resource_id, err.msg);
}

struct load {
	struct hub *h;
	size_t loaded, dropped;
};

/* The device of a stored authorization, tracked from now on as a device
 * without a session; NULL if its row is gone or revoked. */
static struct hub_client *load_client(struct hub *h, const struct store_authz *sa)
{
	struct hub_client *c = map_get(&h->clients, sa->client_id);
	json_t *row = NULL;
	struct ctl_client cc;
	int r;

	if (c)
		return c;
	if (store_get(h->st, "clients", sa->client_id, &row, NULL) < 0)
		return NULL;
	r = json_is_null(json_object_get(row, "revoked_at")) ? conv_client(row, &cc) : -EPERM;
	c = r == 0 ? calloc(1, sizeof(*c)) : NULL;
	if (c && map_put(&h->clients, sa->client_id, c) < 0) {
		free(c);
		c = NULL;
	}
	if (c) {
		c->id = sa->client_id;
		c->user_id = json_integer_value(json_object_get(row, "user_id"));
		c->cc = cc;
		c->token_expires = INT64_MAX;
		c->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
		c->user = hub_user_get(h, c->user_id, false);
		if (c->user) {
			c->unext = c->user->clients;
			c->user->clients = c;
		}
	}
	json_decref(row);
	return c;
}

/* The gateway, offline until it connects; NULL if its row is gone. */
static struct hub_gateway *load_gateway(struct hub *h, int64_t id)
{
	struct hub_gateway *g = map_get(&h->gateways, id);
	struct ctl_gateway cg;
	json_t *row = NULL;
	int r;

	if (g)
		return g;
	if (store_get(h->st, "gateways", id, &row, NULL) < 0)
		return NULL;
	r = conv_gateway(row, &cg);
	g = r == 0 ? calloc(1, sizeof(*g)) : NULL;
	if (g && map_put(&h->gateways, id, g) < 0) {
		free(g);
		g = NULL;
	}
	if (g) {
		g->id = id;
		g->site_id = json_integer_value(json_object_get(row, "site_id"));
		g->cg = cg;
		g->token_expires = INT64_MAX;
		g->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	}
	json_decref(row);
	return g;
}

/* A client token that is still good, or none recorded. */
static bool token_ok(struct hub *h, int64_t token_id, int64_t now)
{
	json_t *row = NULL;
	bool ok;

	if (!token_id)
		return true;
	if (store_get(h->st, "tokens", token_id, &row, NULL) < 0)
		return false;
	ok = json_is_null(json_object_get(row, "revoked_at")) &&
	     now < conv_time(row, "expires_at");
	json_decref(row);
	return ok;
}

static int load_one(void *arg, const struct store_authz *sa)
{
	struct load *l = arg;
	struct hub *h = l->h;
	struct hub_client *c = NULL;
	struct hub_gateway *g = NULL;
	struct hub_auth *a;
	struct store_err err;

	/* what no longer exists: the row goes, there is nobody to tell */
	if (map_get(&h->res, sa->resource_id) && token_ok(h, sa->token_id, hub_now(h)))
		c = load_client(h, sa);
	if (c)
		g = load_gateway(h, sa->gateway_id);
	a = g ? calloc(1, sizeof(*a)) : NULL;
	if (!a) {
		if (store_authz_delete(h->st, sa->client_id, sa->resource_id, &err) < 0)
			log_warn("hub: a stored authorization stays: %s", err.msg);
		l->dropped++;
		if (c)
			hub_client_maybe_free(h, c);
		if (g)
			hub_gateway_maybe_free(h, g);
		return 0;
	}
	a->ref = sa->ref;
	a->client = c;
	a->gw = g;
	a->resource_id = sa->resource_id;
	memcpy(a->psk, sa->psk, sizeof(a->psk));
	a->expires_at = sa->expires_at;
	a->live = true;
	a->cnext = c->auths;
	c->auths = a;
	a->gnext = g->auths;
	g->auths = a;
	g->load++;
	/* the address the device had when granted: what source conditions see
	 * until it connects again (the last one stored wins) */
	if (sa->source[0] && policy_addr_parse(sa->source, &c->source) < 0)
		c->source = (struct policy_addr){ .family = 0 };
	c->token_id = sa->token_id;
	if (sa->ref >= h->next_ref)
		h->next_ref = sa->ref + 1; /* a new ref never repeats a loaded one */
	l->loaded++;
	return 0;
}

int hub_auth_load(struct hub *h)
{
	struct load l = { .h = h };
	struct store_err err;
	int64_t now = hub_now(h);
	size_t i;
	int r;

	r = store_authz_each(h->st, load_one, &l, &err);
	if (r < 0) {
		log_err("hub: loading the authorizations: %s", err.msg);
		return r;
	}
	/* decided again as at a change: what policy no longer allows is revoked,
	 * what expired meanwhile has expired (flows log; nobody is connected) */
	for (i = 0; i < h->clients.n;) {
		struct hub_client *c = h->clients.v[i].p;

		hub_recompute(h, c);
		for (struct hub_auth *a = c->auths, *next; a; a = next) {
			next = a->cnext;
			if (now >= a->expires_at)
				hub_auth_end(h, a, "expired", NULL, 0);
		}
		hub_client_maybe_free(h, c);
		if (i < h->clients.n && h->clients.v[i].p == c)
			i++;
	}
	for (i = 0; i < h->gateways.n;) {
		struct hub_gateway *g = h->gateways.v[i].p;

		hub_gateway_maybe_free(h, g);
		if (i < h->gateways.n && h->gateways.v[i].p == g)
			i++;
	}
	if (l.loaded || l.dropped) {
		struct hub_stats st;

		hub_get_stats(h, &st);
		log_info("hub: %llu of %zu stored authorizations still allowed (%zu had lost "
			 "their client, resource, gateway or token)",
			 (unsigned long long)st.auths, l.loaded + l.dropped, l.dropped);
	}
	return 0;
}

/* ---- flow_log ----------------------------------------------------------- */

static const char *proto_name(enum ctl_proto p)
{
	return p == CTL_PROTO_TCP ? "tcp" : p == CTL_PROTO_UDP ? "udp" :
	       p == CTL_PROTO_ICMP ? "icmp" : NULL;
}

/* Ids the portal knows, looked up once per run of equal ids (a log lists a
 * client's flows together). */
struct flow_ids {
	int64_t client_id, user_id, resource_id, site_id;
};

static bool flow_client(struct hub *h, struct flow_ids *k, int64_t id)
{
	const struct hub_client *c;
	json_t *row = NULL;

	if (k->client_id == id)
		return true;
	c = map_get(&h->clients, id);
	if (c) {
		k->user_id = c->user_id;
	} else if (store_get(h->st, "clients", id, &row, NULL) == 0) {
		k->user_id = json_integer_value(json_object_get(row, "user_id"));
		json_decref(row);
	} else {
		return false;
	}
	k->client_id = id;
	return true;
}

static bool flow_resource(struct hub *h, struct flow_ids *k, int64_t id)
{
	const struct hub_res *r;
	json_t *row = NULL;

	if (k->resource_id == id)
		return true;
	r = map_get(&h->res, id);
	if (r) {
		k->site_id = r->site_id;
	} else if (store_get(h->st, "resources", id, &row, NULL) == 0) {
		k->site_id = json_integer_value(json_object_get(row, "site_id"));
		json_decref(row);
	} else {
		return false;
	}
	k->resource_id = id;
	return true;
}

static json_t *flow_row(const struct flow_ids *k, const struct hub_gateway *g,
			const struct ctl_flow *f)
{
	char start[32], end[32];

	store_time_format(f->start, start);
	store_time_format(f->end, end);
	return json_pack("{sssIsIsIsIsssIsIsIssss}", "event", "traffic",
			 "client_id", (json_int_t)k->client_id, "user_id", (json_int_t)k->user_id,
			 "resource_id", (json_int_t)k->resource_id,
			 "gateway_id", (json_int_t)g->id, "protocol", proto_name(f->proto),
			 "port", (json_int_t)f->dst_port, "rx_bytes", (json_int_t)f->rx_bytes,
			 "tx_bytes", (json_int_t)f->tx_bytes, "start", start, "end", end);
}

void hub_flow_log(struct hub *h, struct hub_gateway *g, const struct ctl_msg *m)
{
	struct flow_ids k = { 0 };
	size_t dropped = 0, queued = 0;

	for (size_t i = 0; i < m->n_flows; i++) {
		const struct ctl_flow *f = &m->flows[i];
		json_t *row;

		/* a gateway reports what went through it: its site's resources, for
		 * devices the portal knows, in times the log can hold */
		if (!flow_client(h, &k, (int64_t)f->client_id) ||
		    !flow_resource(h, &k, (int64_t)f->resource_id) || k.site_id != g->site_id ||
		    !proto_name(f->proto) || f->start < 0 || f->end < f->start ||
		    f->end > FLOW_TIME_MAX) {
			dropped++;
			continue;
		}
		row = flow_row(&k, g, f);
		if (!row || hub_flow_queue(h, row) < 0) {
			h->stats.flows_lost += !row;
			continue; /* counted as lost: the portal's fault, not the gateway's */
		}
		queued++;
	}
	h->stats.flows += queued;
	if (dropped) {
		h->stats.flows_dropped += dropped;
		log_rl(&g->rl, LOG_LVL_WARN, "hub: gateway %lld: %zu of %zu flows dropped (a "
		       "client or resource the portal does not know, a resource of another "
		       "site, or bad times)", (long long)g->id, dropped, m->n_flows);
	}
}

/* ---- the flows queue ------------------------------------------------------ */

/* Every event and traffic row goes through a queue that the tick writes in one
 * transaction: one commit (an fsync) per batch instead of one per access
 * request, and none on the request's path. The queue is bounded: a portal
 * whose disk cannot keep up loses log rows (counted, logged) rather than
 * memory. */

int hub_flow_queue(struct hub *h, json_t *row)
{
	char t[32];

	if (json_array_size(h->flowq) >= HUB_FLOWQ_MAX) {
		json_decref(row);
		h->stats.flows_lost++;
		log_rl(&h->rl_flowq, LOG_LVL_WARN, "hub: the flows queue is full (%d rows): "
		       "rows are lost (%llu so far)", HUB_FLOWQ_MAX,
		       (unsigned long long)h->stats.flows_lost);
		return -ENOBUFS;
	}
	if (!json_object_get(row, "time")) {
		/* the event's time, not the batch's */
		store_time_format(hub_now(h), t);
		json_object_set_new(row, "time", json_string(t));
	}
	if (!json_array_size(h->flowq))
		h->flowq_since = time_mono_ns();
	if (json_array_append_new(h->flowq, row) < 0) {
		h->stats.flows_lost++;
		return -ENOBUFS;
	}
	return 0;
}

void hub_flows_flush(void *arg)
{
	struct hub *h = arg;
	struct store_err err;
	size_t n = json_array_size(h->flowq);

	if (!n)
		return;
	if (store_append(h->st, "flows", h->flowq, &err) < 0) {
		h->stats.flows_lost += n;
		log_rl(&h->rl_flowq, LOG_LVL_WARN, "hub: %zu rows of the flows log not "
		       "recorded: %s", n, err.msg);
	}
	json_array_clear(h->flowq);
}

/* ---- retention ------------------------------------------------------------ */

/* One batch of rows older than days; *more when the batch was full. */
static void prune(struct hub *h, const char *entity, uint32_t days, bool *more)
{
	struct store_err err;
	size_t n = 0;

	*more = false;
	if (!days)
		return; /* kept for ever */
	if (store_prune(h->st, entity, hub_now(h) - (int64_t)days * 86400, HUB_PRUNE_BATCH,
			&n, &err) < 0) {
		log_rl(&h->rl, LOG_LVL_WARN, "hub: deleting old %s rows: %s", entity, err.msg);
		return;
	}
	h->stats.pruned += n;
	*more = n == HUB_PRUNE_BATCH;
}

void hub_logs_tick(struct hub *h, uint64_t mono)
{
	size_t n = json_array_size(h->flowq);

	if (n >= HUB_FLOW_BATCH ||
	    (n && mono - h->flowq_since >= (uint64_t)h->cfg.flow_delay_ms * NSEC_PER_MSEC))
		hub_flows_flush(h);
	/* one short statement per log, and while old rows remain the next ones
	 * HUB_PRUNE_GAP_MS later: a backlog (a first run with retention, a
	 * shortened one) costs the loop a commit now and then, never a long
	 * stall nor one every tick */
	if (mono >= h->prune_at) {
		bool more_flows, more_audit;

		hub_spent_sweep(h, mono);
		prune(h, "flows", h->flow_days, &more_flows);
		prune(h, "audit", h->audit_days, &more_audit);
		h->prune_at = mono + (more_flows || more_audit ?
				      (uint64_t)HUB_PRUNE_GAP_MS * NSEC_PER_MSEC :
				      (uint64_t)HUB_PRUNE_EVERY_S * NSEC_PER_SEC);
	}
}
