/* Encoding control frames: the message is checked by the rules the decoder
 * applies (msg.c) while a jansson tree is built, then dumped compact straight
 * into the caller's capped buffer. The first error sticks; building goes on
 * without effect, so each step needs no unwinding of its own. */
#include "ctl/msg_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include <sodium.h>

#include "lib/buf.h"

struct enc {
	int err;
};

static void bad(struct enc *e, int r)
{
	if (!e->err)
		e->err = r;
}

/* Puts v (owned) under key; a NULL v is out of memory, unless an error came first. */
static void put(struct enc *e, json_t *o, const char *key, json_t *v)
{
	if (!v)
		bad(e, -ENOMEM);
	else if (json_object_set_new(o, key, v) < 0) /* frees v */
		bad(e, -ENOMEM);
}

static void push(struct enc *e, json_t *a, json_t *v)
{
	if (!v)
		bad(e, -ENOMEM);
	else if (json_array_append_new(a, v) < 0)
		bad(e, -ENOMEM);
}

static void put_int(struct enc *e, json_t *o, const char *key, int64_t v)
{
	put(e, o, key, json_integer(v));
}

static void put_u53(struct enc *e, json_t *o, const char *key, uint64_t min, uint64_t v)
{
	if (v < min || v > CTL_ID_MAX)
		bad(e, -EINVAL);
	else
		put_int(e, o, key, (int64_t)v);
}

static void put_id(struct enc *e, json_t *o, const char *key, uint64_t v)
{
	put_u53(e, o, key, 1, v);
}

static void put_str(struct enc *e, json_t *o, const char *key, const char *s)
{
	put(e, o, key, json_string(s));
}

/* A char[size] field, checked the way the decoder will. */
static void put_text(struct enc *e, json_t *o, const char *key, const char *s, size_t size,
		     const char *(*check)(const char *, size_t))
{
	if (check(s, size)) {
		bad(e, -EINVAL);
		return;
	}
	put_str(e, o, key, s);
}

static void put_key(struct enc *e, json_t *o, const char *key, const uint8_t k[CTL_KEY_LEN])
{
	char b64[CTL_B64_LEN + 1];

	sodium_bin2base64(b64, sizeof(b64), k, CTL_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
	put_str(e, o, key, b64);
	sodium_memzero(b64, sizeof(b64));
}

static json_t *ip_str(struct enc *e, const struct ctl_ip *ip, int family)
{
	char s[INET6_ADDRSTRLEN];

	if ((ip->family != AF_INET && ip->family != AF_INET6) ||
	    (family != AF_UNSPEC && ip->family != family)) {
		bad(e, -EINVAL);
		return json_null();
	}
	inet_ntop(ip->family, ip->addr, s, sizeof(s));
	return json_string(s);
}

static void put_ip(struct enc *e, json_t *o, const char *key, const struct ctl_ip *ip,
		   int family)
{
	put(e, o, key, ip_str(e, ip, family));
}

/* A list under key, or NULL (and an error) if n is over max. */
static json_t *put_list(struct enc *e, json_t *o, const char *key, size_t n, size_t max)
{
	json_t *a;

	if (n > max) {
		bad(e, -E2BIG);
		return NULL;
	}
	a = json_array();
	put(e, o, key, a);
	return e->err ? NULL : a;
}

static void put_ip_list(struct enc *e, json_t *o, const char *key, const struct ctl_ip *ips,
			unsigned n)
{
	json_t *a = put_list(e, o, key, n, CTL_UPSTREAMS_MAX);

	for (unsigned i = 0; a && i < n; i++)
		push(e, a, ip_str(e, &ips[i], AF_UNSPEC));
}

static json_t *enc_filter(struct enc *e, const struct ctl_filter *f)
{
	json_t *o = json_object();
	char ports[16];

	if (!o || ctl_check_filter(f)) {
		bad(e, o ? -EINVAL : -ENOMEM);
		return o;
	}
	put_str(e, o, "protocol", ctl_proto_str(f->proto));
	if (f->port_lo == 0 && f->port_hi == 65535)
		return o; /* every port; the only choice for icmp */
	if (f->port_lo == f->port_hi)
		snprintf(ports, sizeof(ports), "%u", f->port_lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", f->port_lo, f->port_hi);
	put_str(e, o, "ports", ports);
	return o;
}

static json_t *enc_resource(struct enc *e, const struct ctl_resource *r)
{
	struct ctl_resource canon;
	json_t *o = json_object(), *a;
	char why[128];

	if (!o) {
		bad(e, -ENOMEM);
		return NULL;
	}
	put_id(e, o, "id", r->id);
	if (!ctl_res_type_str(r->type) || strnlen(r->address, sizeof(r->address)) ==
						  sizeof(r->address) ||
	    ctl_parse_address(r->type, r->address, &canon, why, sizeof(why))) {
		bad(e, -EINVAL);
		return o;
	}
	put_str(e, o, "type", ctl_res_type_str(r->type));
	put_str(e, o, "address", canon.address);
	put_text(e, o, "name", r->name, sizeof(r->name), ctl_check_name);
	if (r->n_filters == 0)
		return o; /* everything */
	a = put_list(e, o, "filters", r->n_filters, CTL_FILTERS_MAX);
	for (unsigned i = 0; a && i < r->n_filters; i++)
		push(e, a, enc_filter(e, &r->filters[i]));
	return o;
}

static json_t *enc_gateway(struct enc *e, const struct ctl_gateway *g)
{
	json_t *o = json_object(), *a;
	char ep[CTL_ADDRESS_MAX + 16];

	if (!o) {
		bad(e, -ENOMEM);
		return NULL;
	}
	put_id(e, o, "id", g->id);
	put_key(e, o, "public_key", g->public_key);
	if (g->n_endpoints == 0)
		bad(e, -EINVAL);
	a = put_list(e, o, "endpoints", g->n_endpoints, CTL_ENDPOINTS_MAX);
	for (unsigned i = 0; a && i < g->n_endpoints; i++) {
		const struct ctl_endpoint *p = &g->endpoints[i];

		if (ctl_check_host(p->host, sizeof(p->host)) || p->port == 0) {
			bad(e, -EINVAL);
			break;
		}
		if (strchr(p->host, ':'))
			snprintf(ep, sizeof(ep), "[%s]:%u", p->host, p->port);
		else
			snprintf(ep, sizeof(ep), "%s:%u", p->host, p->port);
		push(e, a, json_string(ep));
	}
	put_ip(e, o, "tunnel_ipv4", &g->tunnel_ipv4, AF_INET);
	put_ip(e, o, "tunnel_ipv6", &g->tunnel_ipv6, AF_INET6);
	return o;
}

static json_t *enc_client(struct enc *e, const struct ctl_client *c)
{
	json_t *o = json_object();

	if (!o) {
		bad(e, -ENOMEM);
		return NULL;
	}
	put_id(e, o, "id", c->id);
	put_key(e, o, "public_key", c->public_key);
	put_ip(e, o, "tunnel_ipv4", &c->tunnel_ipv4, AF_INET);
	put_ip(e, o, "tunnel_ipv6", &c->tunnel_ipv6, AF_INET6);
	return o;
}

static void put_auth_fields(struct enc *e, json_t *o, uint64_t ref, const struct ctl_client *c,
			    const uint8_t psk[CTL_KEY_LEN], const struct ctl_resource *r,
			    int64_t expires_at)
{
	put_id(e, o, "ref", ref);
	put(e, o, "client", enc_client(e, c));
	put_key(e, o, "psk", psk);
	put(e, o, "resource", enc_resource(e, r));
	put_int(e, o, "expires_at", expires_at);
}

static json_t *enc_flow(struct enc *e, const struct ctl_flow *f)
{
	json_t *o = json_object();

	if (!o) {
		bad(e, -ENOMEM);
		return NULL;
	}
	put_id(e, o, "client_id", f->client_id);
	put_id(e, o, "resource_id", f->resource_id);
	put_int(e, o, "start", f->start);
	put_int(e, o, "end", f->end);
	put_u53(e, o, "rx_bytes", 0, f->rx_bytes);
	put_u53(e, o, "tx_bytes", 0, f->tx_bytes);
	if (!ctl_proto_str(f->proto))
		bad(e, -EINVAL);
	else
		put_str(e, o, "proto", ctl_proto_str(f->proto));
	put_int(e, o, "dst_port", f->dst_port);
	return o;
}

/* An allocated list: its pointer may be NULL only when it is empty. */
static bool list_ok(struct enc *e, const void *p, size_t n)
{
	if (n > CTL_LIST_MAX)
		bad(e, -E2BIG);
	else if (n && !p)
		bad(e, -EINVAL);
	return !e->err;
}

/* user, device: written when set (id not 0); a name without an id would not
 * decode back to the same message. */
static void put_named(struct enc *e, json_t *o, const char *key, const struct ctl_named *n,
		      const char *(*check)(const char *, size_t))
{
	json_t *v;

	if (!n->id) {
		if (n->name[0])
			bad(e, -EINVAL);
		return;
	}
	v = json_object();
	put(e, o, key, v);
	if (e->err)
		return;
	put_id(e, v, "id", n->id);
	put_text(e, v, "name", n->name, sizeof(n->name), check);
}

static void enc_init(struct enc *e, json_t *o, const struct ctl_msg *m)
{
	json_t *t = json_object(), *dns, *a;

	put(e, o, "tunnel", t);
	if (e->err)
		return;
	put_ip(e, t, "ipv4", &m->tunnel_ipv4, AF_INET);
	put_ip(e, t, "ipv6", &m->tunnel_ipv6, AF_INET6);
	if (m->type == CTL_INIT_GATEWAY) {
		if (!list_ok(e, m->auths, m->n_auths) ||
		    !(a = put_list(e, o, "authorizations", m->n_auths, CTL_LIST_MAX)))
			return;
		for (size_t i = 0; i < m->n_auths && !e->err; i++) {
			const struct ctl_authorization *au = &m->auths[i];
			json_t *v = json_object();

			push(e, a, v);
			if (!e->err)
				put_auth_fields(e, v, au->ref, &au->client, au->psk, &au->resource,
						au->expires_at);
		}
		return;
	}
	dns = json_object();
	put(e, o, "dns", dns);
	if (e->err)
		return;
	put_ip_list(e, dns, "upstreams", m->upstreams, m->n_upstreams);
	if (!list_ok(e, m->resources, m->n_resources) ||
	    !(a = put_list(e, o, "resources", m->n_resources, CTL_LIST_MAX)))
		return;
	for (size_t i = 0; i < m->n_resources && !e->err; i++)
		push(e, a, enc_resource(e, &m->resources[i]));
	put_named(e, o, "user", &m->user, ctl_check_name);
	put_named(e, o, "device", &m->device, ctl_check_name0);
}

static void enc_body(struct enc *e, json_t *o, const struct ctl_msg *m)
{
	json_t *a;

	switch (m->type) {
	case CTL_INIT_CLIENT:
	case CTL_INIT_GATEWAY:
		enc_init(e, o, m);
		break;
	case CTL_RESOURCE_UPSERT:
		put(e, o, "resource", enc_resource(e, &m->resource));
		break;
	case CTL_RESOURCE_DELETE:
		put_id(e, o, "id", m->resource_id);
		break;
	case CTL_DNS_SETTINGS:
		put_ip_list(e, o, "upstreams", m->upstreams, m->n_upstreams);
		break;
	case CTL_ACCESS_REQUEST:
	case CTL_ACCESS_GRANTED:
	case CTL_ACCESS_DENIED:
		put_id(e, o, "req", m->req);
		put_id(e, o, "resource_id", m->resource_id);
		if (m->type == CTL_ACCESS_GRANTED) {
			put(e, o, "gateway", enc_gateway(e, &m->gateway));
			put_key(e, o, "psk", m->psk);
			put_int(e, o, "expires_at", m->expires_at);
		} else if (m->type == CTL_ACCESS_DENIED) {
			put_text(e, o, "reason", m->reason, sizeof(m->reason), ctl_check_ident);
		}
		break;
	case CTL_ACCESS_REVOKED:
		put_id(e, o, "resource_id", m->resource_id);
		break;
	case CTL_AUTHORIZE:
		put_auth_fields(e, o, m->ref, &m->client, m->psk, &m->resource, m->expires_at);
		break;
	case CTL_AUTHORIZED:
		put_id(e, o, "ref", m->ref);
		break;
	case CTL_REVOKE:
		put_id(e, o, "client_id", m->client_id);
		put_id(e, o, "resource_id", m->resource_id);
		break;
	case CTL_FLOW_LOG:
		if (!list_ok(e, m->flows, m->n_flows) ||
		    !(a = put_list(e, o, "flows", m->n_flows, CTL_LIST_MAX)))
			break;
		for (size_t i = 0; i < m->n_flows && !e->err; i++)
			push(e, a, enc_flow(e, &m->flows[i]));
		break;
	case CTL_ERROR:
		put_text(e, o, "code", m->code, sizeof(m->code), ctl_check_ident);
		put_text(e, o, "message", m->message, sizeof(m->message), ctl_check_message);
		break;
	case CTL_GATEWAY_OFFLINE:
		put_id(e, o, "gateway_id", m->gateway_id);
		break;
	default:
		bad(e, -EINVAL);
	}
}

int ctl_msg_encode(const struct ctl_msg *m, struct buf *out)
{
	struct enc e = { 0 };
	json_t *o = json_object();
	size_t n;
	int r;

	if (!o)
		return -ENOMEM;
	put_str(&e, o, "type", ctl_type_name(m->type));
	enc_body(&e, o, m);
	if (e.err) {
		json_decref(o);
		return e.err;
	}
	n = json_dumpb(o, NULL, 0, JSON_COMPACT);
	if (n == 0)
		r = -ENOMEM;
	else if (n > CTL_FRAME_MAX)
		r = -E2BIG;
	else if ((r = buf_reserve(out, n + 1)) == -EMSGSIZE)
		r = buf_reserve(out, n); /* a frame at the cap: no room for the NUL */
	if (r == 0) {
		if (json_dumpb(o, (char *)out->data + out->len, n, JSON_COMPACT) != n) {
			r = -ENOMEM;
		} else {
			out->len += n;
			if (out->cap > out->len)
				out->data[out->len] = '\0';
		}
	}
	json_decref(o);
	return r;
}
