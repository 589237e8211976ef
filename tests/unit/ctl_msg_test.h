/* Shared by the control-plane codec tests: example messages, builders and
 * checks. Static inline (and unused-tolerant data) so each program takes what it uses. */
#ifndef SLUICE_TEST_CTL_MSG_H
#define SLUICE_TEST_CTL_MSG_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/msg.h"
#include "lib/buf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TO_CLIENT (1u << CTL_ROLE_CLIENT)
#define TO_GATEWAY (1u << CTL_ROLE_GATEWAY)
#define FROM_CLIENT (1u << CTL_ROLE_PORTAL_FROM_CLIENT)
#define FROM_GATEWAY (1u << CTL_ROLE_PORTAL_FROM_GATEWAY)
#define ALL_ROLES (TO_CLIENT | TO_GATEWAY | FROM_CLIENT | FROM_GATEWAY)

/* ---- building messages --------------------------------------------------- */

static inline struct ctl_ip ip(const char *s)
{
	struct ctl_ip a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, s, a.addr), 1);
	return a;
}

static inline void key(uint8_t k[CTL_KEY_LEN], uint8_t seed)
{
	for (unsigned i = 0; i < CTL_KEY_LEN; i++)
		k[i] = (uint8_t)(seed + i * 7);
	k[CTL_KEY_LEN - 1] &= 0x7f; /* a canonical public key (wg/pubkey.h) */
}

/* address as the decoder gives it back (canonical), with ip and prefix. */
static inline void resource(struct ctl_resource *r, uint64_t id, enum ctl_res_type t,
		     const char *address, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->type = t;
	strcpy(r->address, address);
	strcpy(r->name, name);
	if (t == CTL_RES_IP) {
		r->ip = ip(address);
		r->prefix = r->ip.family == AF_INET ? 32 : 128;
	} else if (t == CTL_RES_CIDR) {
		char a[64];
		const char *slash = strchr(address, '/');

		memcpy(a, address, (size_t)(slash - address));
		a[slash - address] = '\0';
		r->ip = ip(a);
		r->prefix = (uint8_t)atoi(slash + 1);
	}
}

static inline void filter(struct ctl_resource *r, enum ctl_proto p, uint16_t lo, uint16_t hi)
{
	r->filters[r->n_filters++] = (struct ctl_filter){ .proto = p, .port_lo = lo,
							  .port_hi = hi };
}

static inline void res_dns(struct ctl_resource *r)
{
	resource(r, 42, CTL_RES_DNS, "*.corp.example.com", "Intranet \"wiki\" — é");
	filter(r, CTL_PROTO_TCP, 443, 443);
	filter(r, CTL_PROTO_UDP, 8000, 8100);
	filter(r, CTL_PROTO_ICMP, 0, 65535);
	filter(r, CTL_PROTO_TCP, 0, 65535);
}

static inline void client(struct ctl_client *c, uint64_t id)
{
	c->id = id;
	key(c->public_key, (uint8_t)id);
	c->tunnel_ipv4 = ip("100.64.0.9");
	c->tunnel_ipv6 = ip("fd00:2021:1111::9");
}

static __attribute__((unused)) struct ctl_resource init_resources[3];
static __attribute__((unused)) struct ctl_authorization init_auths[2];
static __attribute__((unused)) struct ctl_flow flows[2];

static inline void b_init_client(struct ctl_msg *m)
{
	m->type = CTL_INIT_CLIENT;
	m->tunnel_ipv4 = ip("100.64.0.5");
	m->tunnel_ipv6 = ip("fd00:2021:1111::5");
	m->upstreams[0] = ip("1.1.1.1");
	m->upstreams[1] = ip("2606:4700:4700::1111");
	m->n_upstreams = 2;
	res_dns(&init_resources[0]);
	resource(&init_resources[1], 43, CTL_RES_IP, "2001:db8::1", "db");
	filter(&init_resources[1], CTL_PROTO_TCP, 5432, 5432);
	resource(&init_resources[2], CTL_ID_MAX, CTL_RES_CIDR, "10.0.0.0/8", "lab");
	m->resources = init_resources;
	m->n_resources = 3;
}

static inline void b_init_client_empty(struct ctl_msg *m)
{
	m->type = CTL_INIT_CLIENT;
	m->tunnel_ipv4 = ip("100.64.0.5");
	m->tunnel_ipv6 = ip("fd00:2021:1111::5");
}

/* init with who the session is: user and device (both optional on the wire) */
static inline void b_init_client_who(struct ctl_msg *m)
{
	b_init_client_empty(m);
	m->user.id = 5;
	strcpy(m->user.name, "Alice \"Ünal\" 😀");
	m->device.id = 9;
	strcpy(m->device.name, "laptop");
}

/* a device without a name, no user */
static inline void b_init_client_unnamed(struct ctl_msg *m)
{
	b_init_client_empty(m);
	m->device.id = CTL_ID_MAX;
}

static inline void b_init_gateway(struct ctl_msg *m)
{
	m->type = CTL_INIT_GATEWAY;
	m->tunnel_ipv4 = ip("100.64.0.1");
	m->tunnel_ipv6 = ip("fd00:2021:1111::1");
	memset(init_auths, 0, sizeof(init_auths));
	init_auths[0].ref = 1;
	client(&init_auths[0].client, 17);
	key(init_auths[0].psk, 99);
	res_dns(&init_auths[0].resource);
	init_auths[0].expires_at = 1790000000;
	init_auths[1].ref = 2;
	client(&init_auths[1].client, 18);
	key(init_auths[1].psk, 100);
	resource(&init_auths[1].resource, 7, CTL_RES_CIDR, "fd00:2021::/32", "v6 lab");
	init_auths[1].expires_at = INT64_MIN;
	m->auths = init_auths;
	m->n_auths = 2;
}

static inline void b_init_gateway_empty(struct ctl_msg *m)
{
	m->type = CTL_INIT_GATEWAY;
	m->tunnel_ipv4 = ip("100.64.0.1");
	m->tunnel_ipv6 = ip("fd00:2021:1111::1");
}

static inline void b_resource_upsert(struct ctl_msg *m)
{
	m->type = CTL_RESOURCE_UPSERT;
	res_dns(&m->resource);
}

static void b_resource_upsert_ip4(struct ctl_msg *m)
{
	m->type = CTL_RESOURCE_UPSERT;
	resource(&m->resource, 1, CTL_RES_IP, "192.0.2.7", "printer");
}

static inline void b_resource_delete(struct ctl_msg *m)
{
	m->type = CTL_RESOURCE_DELETE;
	m->resource_id = 42;
}

static inline void b_dns_settings(struct ctl_msg *m)
{
	m->type = CTL_DNS_SETTINGS;
	m->upstreams[0] = ip("9.9.9.9");
	m->upstreams[1] = ip("2620:fe::fe");
	m->upstreams[2] = ip("::ffff:192.0.2.1");
	m->n_upstreams = 3;
}

static inline void b_dns_settings_empty(struct ctl_msg *m)
{
	m->type = CTL_DNS_SETTINGS;
}

static inline void b_access_request(struct ctl_msg *m)
{
	m->type = CTL_ACCESS_REQUEST;
	m->req = 7;
	m->resource_id = 42;
}

static inline void b_access_granted(struct ctl_msg *m)
{
	m->type = CTL_ACCESS_GRANTED;
	m->req = 7;
	m->resource_id = 42;
	m->gateway.id = 3;
	key(m->gateway.public_key, 3);
	strcpy(m->gateway.endpoints[0].host, "gw1.example.com");
	m->gateway.endpoints[0].port = 51820;
	strcpy(m->gateway.endpoints[1].host, "2001:db8::2");
	m->gateway.endpoints[1].port = 51820;
	strcpy(m->gateway.endpoints[2].host, "198.51.100.1");
	m->gateway.endpoints[2].port = 65535;
	m->gateway.n_endpoints = 3;
	m->gateway.tunnel_ipv4 = ip("100.64.0.1");
	m->gateway.tunnel_ipv6 = ip("fd00:2021:1111::1");
	key(m->psk, 200);
	m->expires_at = 1790000000;
}

static inline void b_access_denied(struct ctl_msg *m)
{
	m->type = CTL_ACCESS_DENIED;
	m->req = CTL_ID_MAX;
	m->resource_id = 42;
	strcpy(m->reason, "outside_time_window");
}

static inline void b_access_revoked(struct ctl_msg *m)
{
	m->type = CTL_ACCESS_REVOKED;
	m->resource_id = 42;
}

static inline void b_authorize(struct ctl_msg *m)
{
	m->type = CTL_AUTHORIZE;
	m->ref = 5;
	client(&m->client, 17);
	key(m->psk, 201);
	res_dns(&m->resource);
	m->expires_at = INT64_MAX;
}

static inline void b_authorized(struct ctl_msg *m)
{
	m->type = CTL_AUTHORIZED;
	m->ref = CTL_ID_MAX;
}

static inline void b_revoke(struct ctl_msg *m)
{
	m->type = CTL_REVOKE;
	m->client_id = 1;
	m->resource_id = 42;
}

static inline void b_flow_log(struct ctl_msg *m)
{
	m->type = CTL_FLOW_LOG;
	memset(flows, 0, sizeof(flows));
	flows[0] = (struct ctl_flow){ .client_id = 17, .resource_id = 42, .start = 1790000000,
				      .end = 1790000060, .rx_bytes = CTL_ID_MAX,
				      .tx_bytes = 0, .proto = CTL_PROTO_TCP, .dst_port = 443 };
	flows[1] = (struct ctl_flow){ .client_id = 18, .resource_id = 43, .start = -5,
				      .end = -6, .rx_bytes = 1, .tx_bytes = 2,
				      .proto = CTL_PROTO_ICMP, .dst_port = 0 };
	m->flows = flows;
	m->n_flows = 2;
}

static inline void b_flow_log_empty(struct ctl_msg *m)
{
	m->type = CTL_FLOW_LOG;
}

static inline void b_gateway_offline(struct ctl_msg *m)
{
	m->type = CTL_GATEWAY_OFFLINE;
	m->gateway_id = 3;
}

static inline void b_error(struct ctl_msg *m)
{
	m->type = CTL_ERROR;
	strcpy(m->code, "bad_message");
	strcpy(m->message, "type: unknown type \"x\" (ü)\n");
}

struct example {
	const char *name;
	void (*build)(struct ctl_msg *m);
	unsigned readers;       /* the roles that accept it */
	enum ctl_role role;     /* the one the tables below read it as */
};

static __attribute__((unused)) const struct example examples[] = {
	{ "init_client", b_init_client, TO_CLIENT, CTL_ROLE_CLIENT },
	{ "init_client_empty", b_init_client_empty, TO_CLIENT, CTL_ROLE_CLIENT },
	{ "init_client_who", b_init_client_who, TO_CLIENT, CTL_ROLE_CLIENT },
	{ "init_client_unnamed", b_init_client_unnamed, TO_CLIENT, CTL_ROLE_CLIENT },
	{ "init_gateway", b_init_gateway, TO_GATEWAY, CTL_ROLE_GATEWAY },
	{ "init_gateway_empty", b_init_gateway_empty, TO_GATEWAY, CTL_ROLE_GATEWAY },
	{ "resource_upsert", b_resource_upsert, TO_CLIENT | TO_GATEWAY, CTL_ROLE_CLIENT },
	{ "resource_upsert_ip4", b_resource_upsert_ip4, TO_CLIENT | TO_GATEWAY, CTL_ROLE_GATEWAY },
	{ "resource_delete", b_resource_delete, TO_CLIENT | TO_GATEWAY, CTL_ROLE_GATEWAY },
	{ "dns_settings", b_dns_settings, TO_CLIENT, CTL_ROLE_CLIENT },
	{ "dns_settings_empty", b_dns_settings_empty, TO_CLIENT, CTL_ROLE_CLIENT },
	{ "access_request", b_access_request, FROM_CLIENT, CTL_ROLE_PORTAL_FROM_CLIENT },
	{ "access_granted", b_access_granted, TO_CLIENT, CTL_ROLE_CLIENT },
	{ "access_denied", b_access_denied, TO_CLIENT, CTL_ROLE_CLIENT },
	{ "access_revoked", b_access_revoked, TO_CLIENT, CTL_ROLE_CLIENT },
	{ "authorize", b_authorize, TO_GATEWAY, CTL_ROLE_GATEWAY },
	{ "authorized", b_authorized, FROM_GATEWAY, CTL_ROLE_PORTAL_FROM_GATEWAY },
	{ "revoke", b_revoke, TO_GATEWAY, CTL_ROLE_GATEWAY },
	{ "flow_log", b_flow_log, FROM_GATEWAY, CTL_ROLE_PORTAL_FROM_GATEWAY },
	{ "flow_log_empty", b_flow_log_empty, FROM_GATEWAY, CTL_ROLE_PORTAL_FROM_GATEWAY },
	{ "error", b_error, ALL_ROLES, CTL_ROLE_PORTAL_FROM_CLIENT },
	{ "gateway_offline", b_gateway_offline, TO_CLIENT, CTL_ROLE_CLIENT },
};

static inline const struct example *example(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++)
		if (!strcmp(examples[i].name, name))
			return &examples[i];
	fail_msg("no example %s", name);
	return NULL;
}

static inline void build(const struct example *ex, struct ctl_msg *m)
{
	memset(m, 0, sizeof(*m));
	ex->build(m);
}

/* ---- helpers -------------------------------------------------------------- */

/* Byte for byte, lists included (both sides start from zeroed memory). */
static inline bool msg_equal(const struct ctl_msg *a, const struct ctl_msg *b)
{
	struct ctl_msg x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x.resources = y.resources = NULL;
	x.auths = y.auths = NULL;
	x.flows = y.flows = NULL;
	return !memcmp(&x, &y, sizeof(x)) &&
	       (!a->n_resources ||
		!memcmp(a->resources, b->resources, a->n_resources * sizeof(*a->resources))) &&
	       (!a->n_auths || !memcmp(a->auths, b->auths, a->n_auths * sizeof(*a->auths))) &&
	       (!a->n_flows || !memcmp(a->flows, b->flows, a->n_flows * sizeof(*a->flows)));
}

static inline bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static inline char *encode(const struct ctl_msg *m)
{
	struct buf b;
	char *s;

	buf_init(&b, CTL_FRAME_MAX + 1);
	assert_int_equal(ctl_msg_encode(m, &b), 0);
	assert_int_equal(strlen((char *)b.data), b.len);
	s = strdup((char *)b.data);
	buf_wipe(&b);
	return s;
}

static inline char *dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	assert_non_null(s);
	return s;
}

/* Test JSON is written with ' for " to stay readable. */
static inline char *dq(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static inline bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* Decodes and checks rc and that err holds want (if any); a refusal leaves an
 * all-zero message and a printable err that names something. */
static inline void expect(const char *frame, size_t len, enum ctl_role role, int rc, const char *want,
		   const char *what)
{
	struct ctl_msg m;
	char err[256];
	int r = ctl_msg_decode(frame, len, role, &m, err, sizeof(err));

	if (r != rc || (want && !strstr(err, want)))
		fail_msg("%s: rc %d (want %d), err \"%s\" (want \"%s\")", what, r, rc, err,
			 want ? want : "");
	if (r < 0) {
		assert_true(all_zero(&m, sizeof(m)));
		assert_true(printable(err));
		assert_non_null(strstr(err, ": "));
	} else {
		ctl_msg_free(&m);
	}
}

/* Replaces (value) or deletes (NULL) what a path like "a.b[2].c" names. */
static inline void set_path(json_t *root, const char *path, json_t *value)
{
	char buf[256], *seg = buf;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		char *dot = strchr(seg, '.'), *br;
		size_t idx = 0;
		json_t *next;

		if (dot)
			*dot = '\0';
		br = strchr(seg, '[');
		if (br) {
			*br = '\0';
			idx = strtoul(br + 1, NULL, 10);
		}
		if (!dot && !br) {
			if (value)
				assert_int_equal(json_object_set_new(cur, seg, value), 0);
			else
				assert_int_equal(json_object_del(cur, seg), 0);
			return;
		}
		next = json_object_get(cur, seg);
		assert_non_null(next);
		if (br) {
			if (!dot) {
				if (value)
					assert_int_equal(json_array_set_new(next, idx, value), 0);
				else
					assert_int_equal(json_array_remove(next, idx), 0);
				return;
			}
			next = json_array_get(next, idx);
			assert_non_null(next);
		}
		cur = next;
		seg = dot + 1;
	}
}

static inline json_t *example_tree(const struct example *ex)
{
	struct ctl_msg m;
	char *s;
	json_t *j;

	build(ex, &m);
	s = encode(&m);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	free(s);
	return j;
}

/* ---- round trips ---------------------------------------------------------- */

struct paths {
	char p[400][128];
	size_t n;
};

static inline void collect(const json_t *v, char *path, size_t plen, struct paths *ps)
{
	const char *k;
	json_t *c;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c) {
			int l = snprintf(path + plen, 128 - plen, "%s%s", plen ? "." : "", k);

			assert_true(ps->n < ARRAY_SIZE(ps->p));
			snprintf(ps->p[ps->n++], 128, "%s", path);
			collect(c, path, plen + (size_t)l, ps);
			path[plen] = '\0';
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			int l = snprintf(path + plen, 128 - plen, "[%zu]", i);

			assert_true(ps->n < ARRAY_SIZE(ps->p));
			snprintf(ps->p[ps->n++], 128, "%s", path);
			collect(json_array_get(v, i), path, plen + (size_t)l, ps);
			path[plen] = '\0';
		}
	}
}

static inline json_t *get_path(json_t *root, const char *path)
{
	char buf[256], *seg = buf;
	json_t *v = root;

	snprintf(buf, sizeof(buf), "%s", path);
	while (seg && v) {
		char *dot = strchr(seg, '.'), *br;

		if (dot)
			*dot = '\0';
		br = strchr(seg, '[');
		if (br)
			*br = '\0';
		v = json_object_get(v, seg);
		if (br)
			v = json_array_get(v, strtoul(br + 1, NULL, 10));
		seg = dot ? dot + 1 : NULL;
	}
	assert_non_null(v);
	return v;
}

static inline bool optional(const char *path)
{
	const char *last = strrchr(path, '.');

	last = last ? last + 1 : path;
	return !strcmp(last, "filters") || !strcmp(last, "ports") || !strcmp(path, "user") ||
	       !strcmp(path, "device");
}

static inline void mutate_expect(json_t *root, const struct example *ex, const char *path,
			  json_t *value, int rc, const char *want)
{
	json_t *copy = json_deep_copy(root);
	char *s, what[256];

	set_path(copy, path, value);
	s = dump(copy);
	snprintf(what, sizeof(what), "%s: %s %s", ex->name, value ? "retyped" : "deleted", path);
	expect(s, strlen(s), ex->role, rc, want, what);
	free(s);
	json_decref(copy);
}

#endif
