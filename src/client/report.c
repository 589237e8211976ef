/* What the client tells: the document `sluice status` prints (docs/cli.md),
 * and the state file that keeps the proxy-IP bindings across restarts. */
#include "client/client_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/state.h"
#include "dns/msg.h"
#include "dns/stub.h"
#include "lib/buf.h"
#include "wg/crypto.h"
#include "wg/device.h"

#define STATE_FILE "bindings"

static const char *state_name[] = {
	[CL_IDLE] = "idle", [CL_REQUESTING] = "requesting", [CL_GRANTED] = "granted",
	[CL_DENIED] = "denied",
};

static const char *type_name(enum ctl_res_type t)
{
	return t == CTL_RES_DNS ? "dns" : t == CTL_RES_IP ? "ip" : "cidr";
}

static json_t *ip_json(int family, const uint8_t *a)
{
	char text[INET6_ADDRSTRLEN];

	return inet_ntop(family, a, text, sizeof(text)) ? json_string(text) : json_null();
}

static json_t *named(uint64_t id, const char *name)
{
	return id ? json_pack("{sI ss}", "id", (json_int_t)id, "name", name) : json_null();
}

struct proxies_ctx {
	json_t *by_res; /* resource id (text) -> array */
};

static int add_proxy(void *arg, const struct stub_proxy *p)
{
	struct proxies_ctx *x = arg;
	char key[24], name[DNS_NAME_TEXT_MAX];
	json_t *a;

	snprintf(key, sizeof(key), "%llu", (unsigned long long)p->resource_id);
	a = json_object_get(x->by_res, key);
	if (!a) {
		a = json_array();
		json_object_set_new(x->by_res, key, a);
	}
	if (dns_name_to_text(p->name, name, sizeof(name)) < 0)
		name[0] = '\0';
	json_array_append_new(a, json_pack("{so ss}", "ip", ip_json(p->family, p->addr), "name",
					   name));
	return 0;
}

static json_t *resources_json(struct client *c)
{
	struct proxies_ctx x = { .by_res = json_object() };
	json_t *out = json_array();

	stub_proxy_walk(c->stub, add_proxy, &x);
	for (size_t i = 0; i < c->n_res; i++) {
		struct cl_resource *res = c->res[i];
		char key[24];
		json_t *px;

		snprintf(key, sizeof(key), "%llu", (unsigned long long)res->r.id);
		px = json_object_get(x.by_res, key);
		px = px ? json_incref(px) : json_array();
		json_array_append_new(out, json_pack(
			"{sI ss ss ss ss sI sI so}", "id", (json_int_t)res->r.id, "name", res->r.name,
			"type", type_name(res->r.type), "address", res->r.address, "state",
			state_name[res->state], "gateway_id",
			(json_int_t)(res->gw ? res->gw->id : 0), "expires_at",
			(json_int_t)(res->state == CL_GRANTED ? res->expires_at : 0), "proxy_ips", px));
	}
	json_decref(x.by_res);
	return out;
}

static json_t *gateways_json(struct client *c)
{
	json_t *out = json_array();

	for (struct cl_gateway *gw = c->gws; gw; gw = gw->next) {
		struct wg_peer_info pi = { 0 };
		char key[48];

		wg_device_peer_get(c->dev, gw->pub, &pi);
		wg_key_to_base64(key, gw->pub);
		json_array_append_new(out, json_pack(
			"{sI ss ss so so sI sI sI}", "id", (json_int_t)gw->id, "public_key", key,
			"endpoint", gw->endpoint_text, "tunnel_ipv4",
			ip_json(AF_INET, gw->tun4.addr), "tunnel_ipv6",
			gw->tun6.family == AF_INET6 ? ip_json(AF_INET6, gw->tun6.addr) : json_null(),
			"last_handshake", (json_int_t)(pi.last_handshake_ns / 1000000000ull),
			"rx_bytes", (json_int_t)pi.rx_bytes, "tx_bytes", (json_int_t)pi.tx_bytes));
	}
	return out;
}

static json_t *sa_json(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET
		? ip_json(AF_INET, (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr)
		: ip_json(AF_INET6, (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static json_t *dns_json(struct client *c)
{
	struct stub_stats st;
	json_t *sen = json_array();

	stub_get_stats(c->stub, &st);
	for (size_t i = 0; i < c->n_sentinels; i++)
		json_array_append_new(
			sen, json_pack("{so so}", "address", sa_json(&c->sentinels[i]), "upstream",
				       sa_json(c->n_admin_upstreams
						       ? &c->admin_upstreams[i % c->n_admin_upstreams]
						       : &c->upstreams[i])));
	return json_pack("{so sI sI sI sI sI sI sI sI sI sI}", "sentinels", sen, "queries_udp",
			 (json_int_t)st.queries_udp, "queries_tcp", (json_int_t)st.queries_tcp,
			 "forwarded", (json_int_t)st.forwarded, "answered_local",
			 (json_int_t)st.answered_local, "resource_queries",
			 (json_int_t)st.resource_queries, "resource_failed",
			 (json_int_t)st.resource_failed, "timeouts", (json_int_t)st.timeouts,
			 "spoofed_dropped", (json_int_t)st.spoofed_dropped, "truncated",
			 (json_int_t)st.truncated, "formerr", (json_int_t)st.formerr);
}

json_t *cl_status_snapshot(void *arg)
{
	struct client *c = arg;
	char url[CTL_HOST_MAX + CTL_PREFIX_MAX + 32];
	bool v6 = strchr(c->cfg.portal.host, ':') != NULL;

	snprintf(url, sizeof(url), "https://%s%s%s:%u%s", v6 ? "[" : "", c->cfg.portal.host,
		 v6 ? "]" : "", c->cfg.portal.port, c->cfg.portal.prefix);
	return json_pack(
		"{so so s{ss sb sI} s{ss so so} so so so}", "user", named(c->user_id, c->user_name),
		"device", named(c->device_id, c->device_name), "portal", "url", url, "connected",
		c->connected, "since", (json_int_t)c->connected_since, "tunnel", "interface",
		c->cfg.ifname, "ipv4", c->have_tunnel ? ip_json(AF_INET, c->tun4.addr) : json_null(),
		"ipv6",
		c->have_tunnel && c->tun6.family == AF_INET6 ? ip_json(AF_INET6, c->tun6.addr)
							     : json_null(),
		"resources", resources_json(c), "gateways", gateways_json(c), "dns", dns_json(c));
}

/* ---- the state file ---- */

static int restore_one(void *arg, const struct state_binding *b)
{
	struct client *c = arg;
	int err = stub_proxy_restore(c->stub, b->family, b->addr, b->name, b->resource_id);

	if (err < 0 && err != -EEXIST)
		log_rl(&c->rl, LOG_LVL_WARN, "state: binding of %s not restored: %s", b->name,
		       strerror(-err));
	else if (err == 0)
		c->n_restored++;
	return 0;
}

void cl_state_restore(struct client *c)
{
	struct buf text;
	size_t bad = 0;
	int err;

	buf_init(&text, STATE_MAX_FILE);
	err = state_read(c->cfg.state_dir, STATE_FILE, &text);
	if (err == 0)
		err = state_parse((const char *)text.data, text.len, restore_one, c, &bad);
	if (err < 0 && err != -ENOENT)
		log_warn("state: %s/%s: %s; starting without the bindings", c->cfg.state_dir,
			 STATE_FILE, strerror(-err));
	else if (err == 0)
		log_info("state: %zu proxy IPs restored%s", c->n_restored,
			 bad ? " (some lines were unusable)" : "");
	buf_free(&text);
}

struct save_ctx {
	struct client *c;
	struct state_binding *v;
	size_t n, cap;
	int err;
};

static int save_one(void *arg, const struct stub_proxy *p)
{
	struct save_ctx *x = arg;
	struct cl_resource *res = cl_res_find(x->c, p->resource_id);
	struct state_binding *b;

	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		struct state_binding *v = realloc(x->v, cap * sizeof(*v));

		if (!v)
			return x->err = -ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	b = &x->v[x->n++];
	memset(b, 0, sizeof(*b));
	b->family = p->family;
	memcpy(b->addr, p->addr, p->family == AF_INET ? 4 : 16);
	if (dns_name_to_text(p->name, b->name, sizeof(b->name)) < 0) {
		x->n--;
		return 0;
	}
	/* the text form ends with a dot, the file's does not */
	size_t len = strlen(b->name);

	if (len > 1 && b->name[len - 1] == '.')
		b->name[len - 1] = '\0';
	b->resource_id = p->resource_id;
	b->gateway_id = res && res->gw ? res->gw->id : 0;
	return 0;
}

void cl_state_save(struct client *c, bool now)
{
	struct save_ctx x = { .c = c };
	struct buf text;
	int err;

	if (!c->state_dirty || (!now && cl_now_ms() - c->state_saved_ms < 1000))
		return;
	buf_init(&text, STATE_MAX_FILE);
	stub_proxy_walk(c->stub, save_one, &x);
	err = x.err;
	if (err == 0)
		err = state_format(&text, x.v, x.n);
	if (err == 0)
		err = state_write(c->cfg.state_dir, STATE_FILE, &text);
	if (err < 0)
		log_rl(&c->rl, LOG_LVL_ERR, "state: %s/%s not written: %s", c->cfg.state_dir,
		       STATE_FILE, strerror(-err));
	else
		c->state_dirty = false;
	c->state_saved_ms = cl_now_ms(); /* a failure is tried again in a second */
	free(x.v);
	buf_free(&text);
}
