/* Decoding control frames: jansson parses (capped, duplicate keys refused),
 * then each message type reads its fields through jsonx with one rule per
 * field. A path to the field being read ("authorizations[3].client") is kept so
 * that every refusal names what was wrong. */
#include "ctl/msg_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "lib/jsonx.h"
#include "wg/pubkey.h"

struct dec {
	char *err;
	size_t errlen;
	char path[160];
	size_t plen;
};

/* Refuses with r; the message is "<path>.<key>: <why>", printable ASCII only. */
__attribute__((format(printf, 4, 5)))
static int fail(struct dec *d, int r, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!d->errlen)
		return r;
	n = snprintf(d->err, d->errlen, "%s%s%s: ", d->path, d->plen && key ? "." : "",
		     key ? key : "");
	if (n >= 0 && (size_t)n < d->errlen) {
		va_start(ap, fmt);
		vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	for (char *p = d->err; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	return r;
}

static size_t enter(struct dec *d, const char *key)
{
	size_t mark = d->plen;
	int n = snprintf(d->path + mark, sizeof(d->path) - mark, "%s%s", mark ? "." : "", key);

	if (n > 0)
		d->plen = mark + (size_t)n < sizeof(d->path) ? mark + (size_t)n : sizeof(d->path) - 1;
	return mark;
}

static size_t enter_index(struct dec *d, size_t i)
{
	size_t mark = d->plen;
	int n = snprintf(d->path + mark, sizeof(d->path) - mark, "[%zu]", i);

	if (n > 0)
		d->plen = mark + (size_t)n < sizeof(d->path) ? mark + (size_t)n : sizeof(d->path) - 1;
	return mark;
}

static void leave(struct dec *d, size_t mark)
{
	d->plen = mark;
	d->path[mark] = '\0';
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* Absent (or null): "missing"; present but of another JSON type: says which. */
static int wrong(struct dec *d, const json_t *o, const char *key, int r, const char *want)
{
	if (r == -ENOENT)
		return fail(d, -EBADMSG, key, "missing");
	return fail(d, -EBADMSG, key, "expected %s, got %s", want,
		    json_kind(json_object_get(o, key)));
}

static int get_int(struct dec *d, const json_t *o, const char *key, int64_t min, int64_t max,
		   int64_t *out)
{
	int r = jsonx_get_int(o, key, min, max, out);

	if (r == -EINVAL && json_is_integer(json_object_get(o, key)))
		return fail(d, -EBADMSG, key, "out of range (%lld to %lld)", (long long)min,
			    (long long)max);
	return r < 0 ? wrong(d, o, key, r, "an integer") : 0;
}

/* ids, req, ref: 1 to 2^53; byte counts from 0. */
static int get_u53(struct dec *d, const json_t *o, const char *key, int64_t min, uint64_t *out)
{
	int64_t v;
	int r = get_int(d, o, key, min, (int64_t)CTL_ID_MAX, &v);

	if (r == 0)
		*out = (uint64_t)v;
	return r;
}

static int get_id(struct dec *d, const json_t *o, const char *key, uint64_t *out)
{
	return get_u53(d, o, key, 1, out);
}

static int get_str(struct dec *d, const json_t *o, const char *key, const char **s)
{
	int r = jsonx_get_str(o, key, s);

	return r < 0 ? wrong(d, o, key, r, "a string") : 0;
}

static int get_obj(struct dec *d, const json_t *o, const char *key, json_t **out)
{
	int r = jsonx_get_object(o, key, out);

	return r < 0 ? wrong(d, o, key, r, "an object") : 0;
}

/* A list of at most max entries; optional lists may be absent (n = 0). */
static int get_list(struct dec *d, const json_t *o, const char *key, size_t max,
		    bool optional, json_t **a, size_t *n)
{
	int r = jsonx_get_array(o, key, a);

	*n = 0;
	if (r == -ENOENT && optional) {
		*a = NULL;
		return 0;
	}
	if (r < 0)
		return wrong(d, o, key, r, "a list");
	*n = json_array_size(*a);
	if (*n > max)
		return fail(d, -E2BIG, key, "%zu entries, at most %zu", *n, max);
	return 0;
}

/* Text copied into out[size]; longer is an error, never cut. */
static int get_text(struct dec *d, const json_t *o, const char *key, char *out, size_t size,
		    const char *(*check)(const char *, size_t))
{
	const char *s, *why;
	size_t n;
	int r = get_str(d, o, key, &s);

	if (r < 0)
		return r;
	n = json_string_length(json_object_get(o, key));
	if (n >= size)
		return fail(d, -EBADMSG, key, "too long (%zu bytes, at most %zu)", n, size - 1);
	memcpy(out, s, n);
	out[n] = '\0';
	why = check(out, size);
	return why ? fail(d, -EBADMSG, key, "%s", why) : 0;
}

static int get_key(struct dec *d, const json_t *o, const char *key, uint8_t out[CTL_KEY_LEN])
{
	char canon[CTL_B64_LEN + 1];
	const char *s;
	size_t n = 0;
	int r = get_str(d, o, key, &s);

	if (r < 0)
		return r;
	if (strlen(s) != CTL_B64_LEN ||
	    sodium_base642bin(out, CTL_KEY_LEN, s, CTL_B64_LEN, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || n != CTL_KEY_LEN)
		r = fail(d, -EBADMSG, key, "not the base64 of %d bytes", CTL_KEY_LEN);
	/* libsodium already refuses set padding bits; this keeps the rule ours */
	else if (strcmp(sodium_bin2base64(canon, sizeof(canon), out, CTL_KEY_LEN,
					  sodium_base64_VARIANT_ORIGINAL), s) != 0)
		r = fail(d, -EBADMSG, key, "base64 not in canonical form");
	sodium_memzero(canon, sizeof(canon));
	if (r < 0)
		sodium_memzero(out, CTL_KEY_LEN);
	return r;
}

/* family: AF_INET, AF_INET6 or AF_UNSPEC (either). */
static int parse_ip(struct dec *d, const char *key, const char *s, int family,
		    struct ctl_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (family != AF_INET6 && inet_pton(AF_INET, s, ip->addr) == 1)
		ip->family = AF_INET;
	else if (family != AF_INET && inet_pton(AF_INET6, s, ip->addr) == 1)
		ip->family = AF_INET6;
	else
		return fail(d, -EBADMSG, key, "not an %s address",
			    family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "IP");
	return 0;
}

static int get_ip(struct dec *d, const json_t *o, const char *key, int family,
		  struct ctl_ip *ip)
{
	const char *s;
	int r = get_str(d, o, key, &s);

	return r < 0 ? r : parse_ip(d, key, s, family, ip);
}

static int get_ip_list(struct dec *d, const json_t *o, const char *key, struct ctl_ip *ips,
		       unsigned *n_out)
{
	json_t *a;
	size_t n, mark;
	int r = get_list(d, o, key, CTL_UPSTREAMS_MAX, false, &a, &n);

	if (r < 0)
		return r;
	mark = enter(d, key);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_t *v = json_array_get(a, i);
		size_t m2 = enter_index(d, i);

		if (!json_is_string(v))
			r = fail(d, -EBADMSG, NULL, "expected a string, got %s", json_kind(v));
		else
			r = parse_ip(d, NULL, json_string_value(v), AF_UNSPEC, &ips[i]);
		leave(d, m2);
	}
	leave(d, mark);
	*n_out = (unsigned)n;
	return r;
}

/* Makes room for one more entry of an allocated list. Grown by copying, never
 * realloc(), so that no copy of a PSK is freed unwiped; the list grows with
 * what decodes, not with what a peer claims. */
static int grow(struct dec *d, void **list, size_t n, size_t total, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return 0;
	if (ncap > total)
		ncap = total;
	p = calloc(ncap, size);
	if (!p)
		return fail(d, -ENOMEM, NULL, "out of memory");
	if (*list) {
		memcpy(p, *list, n * size);
		sodium_memzero(*list, n * size);
		free(*list);
	}
	*list = p;
	*cap = ncap;
	return 0;
}

static int dec_filter(struct dec *d, const json_t *o, struct ctl_filter *f)
{
	const char *s, *dash, *why;
	size_t n;
	int r = get_str(d, o, "protocol", &s);

	if (r < 0)
		return r;
	f->proto = ctl_proto_parse(s);
	if (!f->proto)
		return fail(d, -EBADMSG, "protocol", "must be tcp, udp or icmp");
	f->port_lo = 0;
	f->port_hi = 65535;
	r = jsonx_get_str(o, "ports", &s);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return wrong(d, o, "ports", r, "a string");
	if (f->proto == CTL_PROTO_ICMP)
		return fail(d, -EBADMSG, "ports", "icmp has no ports");
	n = strlen(s);
	dash = memchr(s, '-', n);
	if (!dash) {
		if (ctl_parse_port(s, n, &f->port_lo) < 0)
			return fail(d, -EBADMSG, "ports", "expected \"N\" or \"N-M\", N <= M <= 65535");
		f->port_hi = f->port_lo;
	} else if (ctl_parse_port(s, (size_t)(dash - s), &f->port_lo) < 0 ||
		   ctl_parse_port(dash + 1, n - (size_t)(dash - s) - 1, &f->port_hi) < 0) {
		return fail(d, -EBADMSG, "ports", "expected \"N\" or \"N-M\", N <= M <= 65535");
	}
	why = ctl_check_filter(f);
	return why ? fail(d, -EBADMSG, "ports", "%s", why) : 0;
}

static int dec_resource(struct dec *d, const json_t *o, void *out)
{
	struct ctl_resource *res = out;
	char why[128];
	const char *s, *w;
	json_t *a;
	size_t n, mark;
	int r;

	if ((r = get_id(d, o, "id", &res->id)) < 0 || (r = get_str(d, o, "type", &s)) < 0)
		return r;
	res->type = ctl_res_type_parse(s);
	if (!res->type)
		return fail(d, -EBADMSG, "type", "must be dns, ip or cidr");
	if ((r = get_str(d, o, "address", &s)) < 0)
		return r;
	w = ctl_parse_address(res->type, s, res, why, sizeof(why));
	if (w)
		return fail(d, -EBADMSG, "address", "%s", w);
	if ((r = get_text(d, o, "name", res->name, sizeof(res->name), ctl_check_name)) < 0 ||
	    (r = get_list(d, o, "filters", CTL_FILTERS_MAX, true, &a, &n)) < 0)
		return r;
	mark = enter(d, "filters");
	for (size_t i = 0; i < n && r == 0; i++) {
		json_t *v = json_array_get(a, i);
		size_t m2 = enter_index(d, i);

		if (!json_is_object(v))
			r = fail(d, -EBADMSG, NULL, "expected an object, got %s", json_kind(v));
		else
			r = dec_filter(d, v, &res->filters[i]);
		leave(d, m2);
	}
	leave(d, mark);
	res->n_filters = (unsigned)n;
	return r;
}

/* Element decoders, for nested objects and allocated lists: out is the struct
 * the element fills. */
typedef int (*dec_elem_fn)(struct dec *, const json_t *, void *out);

/* An object under key, read by fn under its own path. */
static int nested(struct dec *d, const json_t *o, const char *key, dec_elem_fn fn, void *out)
{
	json_t *v;
	size_t mark;
	int r = get_obj(d, o, key, &v);

	if (r < 0)
		return r;
	mark = enter(d, key);
	r = fn(d, v, out);
	leave(d, mark);
	return r;
}

static int dec_endpoint(struct dec *d, const char *s, struct ctl_endpoint *e)
{
	const char *colon, *host = s, *why;
	size_t hlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return fail(d, -EBADMSG, NULL, "expected \"host:port\" or \"[IPv6]:port\"");
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
		if (!memchr(host, ':', hlen))
			return fail(d, -EBADMSG, NULL, "only an IPv6 host goes in brackets");
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return fail(d, -EBADMSG, NULL, "expected \"host:port\" or \"[IPv6]:port\"");
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen))
			return fail(d, -EBADMSG, NULL, "an IPv6 host goes in brackets");
	}
	if (hlen >= sizeof(e->host))
		return fail(d, -EBADMSG, NULL, "host too long (at most 253 characters)");
	memcpy(e->host, host, hlen);
	why = ctl_check_host(e->host, sizeof(e->host));
	if (why)
		return fail(d, -EBADMSG, NULL, "%s", why);
	if (ctl_parse_port(colon + 1, strlen(colon + 1), &e->port) < 0 || e->port == 0)
		return fail(d, -EBADMSG, NULL, "port must be 1-65535");
	return 0;
}

/* A peer's public key: get_key() and wg/pubkey.h's rule (canonical, not of
 * small order), so that no key a WireGuard would refuse reaches one. */
static int get_pubkey(struct dec *d, const json_t *o, const char *key,
		      uint8_t out[CTL_KEY_LEN])
{
	int r = get_key(d, o, key, out);

	if (r == 0 && (r = wg_pubkey_check(out)) < 0) {
		sodium_memzero(out, CTL_KEY_LEN);
		r = fail(d, -EBADMSG, key, "%s", wg_pubkey_strerror(r));
	}
	return r;
}

static int dec_gateway(struct dec *d, const json_t *o, void *out)
{
	struct ctl_gateway *g = out;
	json_t *a;
	size_t n, mark;
	int r;

	if ((r = get_id(d, o, "id", &g->id)) < 0 ||
	    (r = get_pubkey(d, o, "public_key", g->public_key)) < 0 ||
	    (r = get_list(d, o, "endpoints", CTL_ENDPOINTS_MAX, false, &a, &n)) < 0)
		return r;
	if (n == 0)
		return fail(d, -EBADMSG, "endpoints", "empty: a gateway needs one");
	mark = enter(d, "endpoints");
	for (size_t i = 0; i < n && r == 0; i++) {
		json_t *v = json_array_get(a, i);
		size_t m2 = enter_index(d, i);

		if (!json_is_string(v))
			r = fail(d, -EBADMSG, NULL, "expected a string, got %s", json_kind(v));
		else
			r = dec_endpoint(d, json_string_value(v), &g->endpoints[i]);
		leave(d, m2);
	}
	leave(d, mark);
	g->n_endpoints = (unsigned)n;
	if (r == 0 && (r = get_ip(d, o, "tunnel_ipv4", AF_INET, &g->tunnel_ipv4)) == 0)
		r = get_ip(d, o, "tunnel_ipv6", AF_INET6, &g->tunnel_ipv6);
	return r;
}

static int dec_client(struct dec *d, const json_t *o, void *out)
{
	struct ctl_client *c = out;
	int r;

	if ((r = get_id(d, o, "id", &c->id)) < 0 ||
	    (r = get_pubkey(d, o, "public_key", c->public_key)) < 0 ||
	    (r = get_ip(d, o, "tunnel_ipv4", AF_INET, &c->tunnel_ipv4)) < 0)
		return r;
	return get_ip(d, o, "tunnel_ipv6", AF_INET6, &c->tunnel_ipv6);
}

/* authorize and each of init's authorizations: the same fields. */
static int dec_auth_fields(struct dec *d, const json_t *o, uint64_t *ref, struct ctl_client *c,
			   uint8_t psk[CTL_KEY_LEN], struct ctl_resource *res, int64_t *expires)
{
	int r;

	if ((r = get_id(d, o, "ref", ref)) < 0 ||
	    (r = nested(d, o, "client", dec_client, c)) < 0 ||
	    (r = get_key(d, o, "psk", psk)) < 0 ||
	    (r = nested(d, o, "resource", dec_resource, res)) < 0)
		return r;
	return get_int(d, o, "expires_at", INT64_MIN, INT64_MAX, expires);
}

static int dec_auth(struct dec *d, const json_t *o, void *out)
{
	struct ctl_authorization *a = out;

	return dec_auth_fields(d, o, &a->ref, &a->client, a->psk, &a->resource, &a->expires_at);
}

static int dec_flow(struct dec *d, const json_t *o, void *out)
{
	struct ctl_flow *f = out;
	const char *s;
	int64_t port;
	int r;

	if ((r = get_id(d, o, "client_id", &f->client_id)) < 0 ||
	    (r = get_id(d, o, "resource_id", &f->resource_id)) < 0 ||
	    (r = get_int(d, o, "start", INT64_MIN, INT64_MAX, &f->start)) < 0 ||
	    (r = get_int(d, o, "end", INT64_MIN, INT64_MAX, &f->end)) < 0 ||
	    (r = get_u53(d, o, "rx_bytes", 0, &f->rx_bytes)) < 0 ||
	    (r = get_u53(d, o, "tx_bytes", 0, &f->tx_bytes)) < 0 ||
	    (r = get_str(d, o, "proto", &s)) < 0)
		return r;
	f->proto = ctl_proto_parse(s);
	if (!f->proto)
		return fail(d, -EBADMSG, "proto", "must be tcp, udp or icmp");
	if ((r = get_int(d, o, "dst_port", 0, 65535, &port)) < 0)
		return r;
	f->dst_port = (uint16_t)port;
	return 0;
}

/* An allocated list of objects: init's resources and authorizations, flows. */
static int dec_list(struct dec *d, const json_t *o, const char *key, size_t size,
		    dec_elem_fn fn, void **list, size_t *n_out)
{
	json_t *a;
	size_t n, cap = 0, mark;
	int r = get_list(d, o, key, CTL_LIST_MAX, false, &a, &n);

	if (r < 0)
		return r;
	mark = enter(d, key);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_t *v = json_array_get(a, i);
		size_t m2 = enter_index(d, i);

		if (!json_is_object(v)) {
			r = fail(d, -EBADMSG, NULL, "expected an object, got %s", json_kind(v));
		} else if ((r = grow(d, list, i, n, &cap, size)) == 0) {
			*n_out = i + 1; /* counted before it is filled: freeing wipes it */
			r = fn(d, v, (char *)*list + i * size);
		}
		leave(d, m2);
	}
	leave(d, mark);
	return r;
}

static int dec_tunnel(struct dec *d, const json_t *o, void *out)
{
	struct ctl_msg *m = out;
	int r = get_ip(d, o, "ipv4", AF_INET, &m->tunnel_ipv4);

	return r < 0 ? r : get_ip(d, o, "ipv6", AF_INET6, &m->tunnel_ipv6);
}

static int dec_dns(struct dec *d, const json_t *o, void *out)
{
	struct ctl_msg *m = out;

	return get_ip_list(d, o, "upstreams", m->upstreams, &m->n_upstreams);
}

static int dec_user(struct dec *d, const json_t *o, void *out)
{
	struct ctl_named *n = out;
	int r = get_id(d, o, "id", &n->id);

	return r < 0 ? r : get_text(d, o, "name", n->name, sizeof(n->name), ctl_check_name);
}

static int dec_device(struct dec *d, const json_t *o, void *out)
{
	struct ctl_named *n = out;
	int r = get_id(d, o, "id", &n->id);

	return r < 0 ? r : get_text(d, o, "name", n->name, sizeof(n->name), ctl_check_name0);
}

/* An object that an older writer leaves out: absent (or null) reads as zeros. */
static int nested_opt(struct dec *d, const json_t *o, const char *key, dec_elem_fn fn,
		      void *out)
{
	json_t *v;

	if (jsonx_get_object(o, key, &v) == -ENOENT)
		return 0;
	return nested(d, o, key, fn, out);
}

static int dec_init(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	int r = nested(d, o, "tunnel", dec_tunnel, m);

	if (r < 0)
		return r;
	if (m->type == CTL_INIT_GATEWAY)
		return dec_list(d, o, "authorizations", sizeof(*m->auths), dec_auth,
				(void **)&m->auths, &m->n_auths);
	if ((r = nested(d, o, "dns", dec_dns, m)) < 0 ||
	    (r = dec_list(d, o, "resources", sizeof(*m->resources), dec_resource,
			  (void **)&m->resources, &m->n_resources)) < 0 ||
	    (r = nested_opt(d, o, "user", dec_user, &m->user)) < 0)
		return r;
	return nested_opt(d, o, "device", dec_device, &m->device);
}

static int dec_resource_upsert(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	return nested(d, o, "resource", dec_resource, &m->resource);
}

static int dec_resource_delete(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	return get_id(d, o, "id", &m->resource_id);
}

static int dec_dns_settings(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	return get_ip_list(d, o, "upstreams", m->upstreams, &m->n_upstreams);
}

static int dec_access_request(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	int r = get_id(d, o, "req", &m->req);

	return r < 0 ? r : get_id(d, o, "resource_id", &m->resource_id);
}

static int dec_access_granted(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	int r;

	if ((r = dec_access_request(d, o, m)) < 0 ||
	    (r = nested(d, o, "gateway", dec_gateway, &m->gateway)) < 0 ||
	    (r = get_key(d, o, "psk", m->psk)) < 0)
		return r;
	return get_int(d, o, "expires_at", INT64_MIN, INT64_MAX, &m->expires_at);
}

static int dec_access_denied(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	int r = dec_access_request(d, o, m);

	return r < 0 ? r : get_text(d, o, "reason", m->reason, sizeof(m->reason),
				    ctl_check_ident);
}

static int dec_access_revoked(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	return get_id(d, o, "resource_id", &m->resource_id);
}

static int dec_authorize(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	return dec_auth_fields(d, o, &m->ref, &m->client, m->psk, &m->resource, &m->expires_at);
}

static int dec_authorized(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	return get_id(d, o, "ref", &m->ref);
}

static int dec_revoke(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	int r = get_id(d, o, "client_id", &m->client_id);

	return r < 0 ? r : get_id(d, o, "resource_id", &m->resource_id);
}

static int dec_flow_log(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	return dec_list(d, o, "flows", sizeof(*m->flows), dec_flow,
			(void **)&m->flows, &m->n_flows);
}

static int dec_gateway_offline(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	return get_id(d, o, "gateway_id", &m->gateway_id);
}

static int dec_error(struct dec *d, const json_t *o, struct ctl_msg *m)
{
	int r = get_text(d, o, "code", m->code, sizeof(m->code), ctl_check_ident);

	return r < 0 ? r : get_text(d, o, "message", m->message, sizeof(m->message),
				    ctl_check_message);
}

#define TO_CLIENT (1u << CTL_ROLE_CLIENT)
#define TO_GATEWAY (1u << CTL_ROLE_GATEWAY)
#define FROM_CLIENT (1u << CTL_ROLE_PORTAL_FROM_CLIENT)
#define FROM_GATEWAY (1u << CTL_ROLE_PORTAL_FROM_GATEWAY)

/* Who reads what: docs/protocol.md's tables. "error" goes every way. */
static const struct {
	enum ctl_type type;
	unsigned readers;
	int (*decode)(struct dec *, const json_t *, struct ctl_msg *);
} types[] = {
	{ CTL_INIT_CLIENT, TO_CLIENT | TO_GATEWAY, dec_init },
	{ CTL_RESOURCE_UPSERT, TO_CLIENT | TO_GATEWAY, dec_resource_upsert },
	{ CTL_RESOURCE_DELETE, TO_CLIENT | TO_GATEWAY, dec_resource_delete },
	{ CTL_DNS_SETTINGS, TO_CLIENT, dec_dns_settings },
	{ CTL_ACCESS_REQUEST, FROM_CLIENT, dec_access_request },
	{ CTL_ACCESS_GRANTED, TO_CLIENT, dec_access_granted },
	{ CTL_ACCESS_DENIED, TO_CLIENT, dec_access_denied },
	{ CTL_ACCESS_REVOKED, TO_CLIENT, dec_access_revoked },
	{ CTL_AUTHORIZE, TO_GATEWAY, dec_authorize },
	{ CTL_AUTHORIZED, FROM_GATEWAY, dec_authorized },
	{ CTL_REVOKE, TO_GATEWAY, dec_revoke },
	{ CTL_FLOW_LOG, FROM_GATEWAY, dec_flow_log },
	{ CTL_ERROR, TO_CLIENT | TO_GATEWAY | FROM_CLIENT | FROM_GATEWAY, dec_error },
	{ CTL_GATEWAY_OFFLINE, TO_CLIENT, dec_gateway_offline },
};

static const char *const role_names[] = {
	[CTL_ROLE_CLIENT] = "a client",
	[CTL_ROLE_GATEWAY] = "a gateway",
	[CTL_ROLE_PORTAL_FROM_CLIENT] = "the portal by a client",
	[CTL_ROLE_PORTAL_FROM_GATEWAY] = "the portal by a gateway",
};

int ctl_msg_decode(const char *frame, size_t len, enum ctl_role role, struct ctl_msg *m,
		   char *err, size_t errlen)
{
	struct dec d = { .err = err, .errlen = errlen };
	char jerr[JSON_ERROR_TEXT_LENGTH];
	const char *t;
	json_t *root;
	size_t i;
	int r;

	memset(m, 0, sizeof(*m));
	if (errlen)
		err[0] = '\0';
	if ((unsigned)role > CTL_ROLE_PORTAL_FROM_GATEWAY)
		return fail(&d, -EINVAL, "role", "unknown role %d", (int)role);
	if (len > CTL_FRAME_MAX)
		return fail(&d, -E2BIG, "frame", "%zu bytes, at most %d", len, CTL_FRAME_MAX);
	root = jsonx_load_object(frame, len, CTL_FRAME_MAX, jerr, sizeof(jerr));
	if (!root)
		return fail(&d, -EBADMSG, "frame", "not a JSON object (%s)", jerr);

	r = get_str(&d, root, "type", &t);
	if (r < 0)
		goto out;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, ctl_type_name(types[i].type)))
			break;
	if (i == sizeof(types) / sizeof(types[0])) {
		r = fail(&d, -ENOTSUP, "type", "unknown type \"%.32s\"", t);
		goto out;
	}
	if (!(types[i].readers & (1u << role))) {
		r = fail(&d, -ENOTSUP, "type", "\"%s\" is never sent to %s", t, role_names[role]);
		goto out;
	}
	m->type = types[i].type;
	if (m->type == CTL_INIT_CLIENT && role == CTL_ROLE_GATEWAY)
		m->type = CTL_INIT_GATEWAY;
	r = types[i].decode(&d, root, m);
out:
	json_decref(root);
	if (r < 0)
		ctl_msg_free(m);
	return r;
}
