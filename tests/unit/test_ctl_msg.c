/* Control-plane messages: every type encoded and decoded back whole, by every
 * role (the wrong ones refuse); frames derived from those by deleting each field
 * and giving each the wrong JSON type (generated from the tree, so no field is
 * forgotten); a table of bad values, each with the error and the field named;
 * whole-frame refusals; list caps; the encoder refusing what would not decode;
 * truncation sweeps. */
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

static struct ctl_ip ip(const char *s)
{
	struct ctl_ip a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, s, a.addr), 1);
	return a;
}

static void key(uint8_t k[CTL_KEY_LEN], uint8_t seed)
{
	for (unsigned i = 0; i < CTL_KEY_LEN; i++)
		k[i] = (uint8_t)(seed + i * 7);
}

/* address as the decoder gives it back (canonical), with ip and prefix. */
static void resource(struct ctl_resource *r, uint64_t id, enum ctl_res_type t,
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

static void filter(struct ctl_resource *r, enum ctl_proto p, uint16_t lo, uint16_t hi)
{
	r->filters[r->n_filters++] = (struct ctl_filter){ .proto = p, .port_lo = lo,
							  .port_hi = hi };
}

static void res_dns(struct ctl_resource *r)
{
	resource(r, 42, CTL_RES_DNS, "*.corp.example.com", "Intranet \"wiki\" — é");
	filter(r, CTL_PROTO_TCP, 443, 443);
	filter(r, CTL_PROTO_UDP, 8000, 8100);
	filter(r, CTL_PROTO_ICMP, 0, 65535);
	filter(r, CTL_PROTO_TCP, 0, 65535);
}

static void client(struct ctl_client *c, uint64_t id)
{
	c->id = id;
	key(c->public_key, (uint8_t)id);
	c->tunnel_ipv4 = ip("100.64.0.9");
	c->tunnel_ipv6 = ip("fd00:2021:1111::9");
}

static struct ctl_resource init_resources[3];
static struct ctl_authorization init_auths[2];
static struct ctl_flow flows[2];

static void b_init_client(struct ctl_msg *m)
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

static void b_init_client_empty(struct ctl_msg *m)
{
	m->type = CTL_INIT_CLIENT;
	m->tunnel_ipv4 = ip("100.64.0.5");
	m->tunnel_ipv6 = ip("fd00:2021:1111::5");
}

static void b_init_gateway(struct ctl_msg *m)
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

static void b_init_gateway_empty(struct ctl_msg *m)
{
	m->type = CTL_INIT_GATEWAY;
	m->tunnel_ipv4 = ip("100.64.0.1");
	m->tunnel_ipv6 = ip("fd00:2021:1111::1");
}

static void b_resource_upsert(struct ctl_msg *m)
{
	m->type = CTL_RESOURCE_UPSERT;
	res_dns(&m->resource);
}

static void b_resource_upsert_ip4(struct ctl_msg *m)
{
	m->type = CTL_RESOURCE_UPSERT;
	resource(&m->resource, 1, CTL_RES_IP, "192.0.2.7", "printer");
}

static void b_resource_delete(struct ctl_msg *m)
{
	m->type = CTL_RESOURCE_DELETE;
	m->resource_id = 42;
}

static void b_dns_settings(struct ctl_msg *m)
{
	m->type = CTL_DNS_SETTINGS;
	m->upstreams[0] = ip("9.9.9.9");
	m->upstreams[1] = ip("2620:fe::fe");
	m->upstreams[2] = ip("::ffff:192.0.2.1");
	m->n_upstreams = 3;
}

static void b_dns_settings_empty(struct ctl_msg *m)
{
	m->type = CTL_DNS_SETTINGS;
}

static void b_access_request(struct ctl_msg *m)
{
	m->type = CTL_ACCESS_REQUEST;
	m->req = 7;
	m->resource_id = 42;
}

static void b_access_granted(struct ctl_msg *m)
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

static void b_access_denied(struct ctl_msg *m)
{
	m->type = CTL_ACCESS_DENIED;
	m->req = CTL_ID_MAX;
	m->resource_id = 42;
	strcpy(m->reason, "outside_time_window");
}

static void b_access_revoked(struct ctl_msg *m)
{
	m->type = CTL_ACCESS_REVOKED;
	m->resource_id = 42;
}

static void b_authorize(struct ctl_msg *m)
{
	m->type = CTL_AUTHORIZE;
	m->ref = 5;
	client(&m->client, 17);
	key(m->psk, 201);
	res_dns(&m->resource);
	m->expires_at = INT64_MAX;
}

static void b_authorized(struct ctl_msg *m)
{
	m->type = CTL_AUTHORIZED;
	m->ref = CTL_ID_MAX;
}

static void b_revoke(struct ctl_msg *m)
{
	m->type = CTL_REVOKE;
	m->client_id = 1;
	m->resource_id = 42;
}

static void b_flow_log(struct ctl_msg *m)
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

static void b_flow_log_empty(struct ctl_msg *m)
{
	m->type = CTL_FLOW_LOG;
}

static void b_error(struct ctl_msg *m)
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

static const struct example examples[] = {
	{ "init_client", b_init_client, TO_CLIENT, CTL_ROLE_CLIENT },
	{ "init_client_empty", b_init_client_empty, TO_CLIENT, CTL_ROLE_CLIENT },
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
};

static const struct example *example(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++)
		if (!strcmp(examples[i].name, name))
			return &examples[i];
	fail_msg("no example %s", name);
	return NULL;
}

static void build(const struct example *ex, struct ctl_msg *m)
{
	memset(m, 0, sizeof(*m));
	ex->build(m);
}

/* ---- helpers -------------------------------------------------------------- */

/* Byte for byte, lists included (both sides start from zeroed memory). */
static bool msg_equal(const struct ctl_msg *a, const struct ctl_msg *b)
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

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static char *encode(const struct ctl_msg *m)
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

static char *dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	assert_non_null(s);
	return s;
}

/* Test JSON is written with ' for " to stay readable. */
static char *dq(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* Decodes and checks rc and that err holds want (if any); a refusal leaves an
 * all-zero message and a printable err that names something. */
static void expect(const char *frame, size_t len, enum ctl_role role, int rc, const char *want,
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
static void set_path(json_t *root, const char *path, json_t *value)
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

static json_t *example_tree(const struct example *ex)
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

static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
		const struct example *ex = &examples[i];
		struct ctl_msg m, d;
		char err[256], *s, *again;

		build(ex, &m);
		s = encode(&m);
		for (int role = CTL_ROLE_CLIENT; role <= CTL_ROLE_PORTAL_FROM_GATEWAY; role++) {
			int r = ctl_msg_decode(s, strlen(s), role, &d, err, sizeof(err));

			if (!(ex->readers & (1u << role))) {
				/* the other side's init is an init with the wrong fields */
				bool init = m.type == CTL_INIT_CLIENT || m.type == CTL_INIT_GATEWAY;
				bool other = role == CTL_ROLE_CLIENT || role == CTL_ROLE_GATEWAY;
				const char *want = !(init && other) ? "type: \"" :
						   role == CTL_ROLE_CLIENT ? "dns: missing" :
						   "authorizations: missing";

				if (r != (init && other ? -EBADMSG : -ENOTSUP) || !strstr(err, want))
					fail_msg("%s as role %d: %d %s", ex->name, role, r, err);
				continue;
			}
			if (r != 0)
				fail_msg("%s as role %d: %d %s\n%s", ex->name, role, r, err, s);
			if (!msg_equal(&m, &d))
				fail_msg("%s as role %d: decoded message differs\n%s", ex->name,
					 role, s);
			/* and the encoding is canonical: the same bytes again */
			again = encode(&d);
			assert_string_equal(again, s);
			free(again);
			ctl_msg_free(&d);
			assert_true(all_zero(&d, sizeof(d)));
		}
		free(s);
	}
}

/* The examples of docs/protocol.md, byte for byte. */
static void test_doc_examples(void **state)
{
	static const char granted[] =
		"{\"type\":\"access_granted\",\"req\":7,\"resource_id\":42,\"gateway\":{\"id\":3,"
		"\"public_key\":\"AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dw=\",\"endpoints\":"
		"[\"gw1.example.com:51820\",\"[2001:db8::2]:51820\",\"198.51.100.1:65535\"],"
		"\"tunnel_ipv4\":\"100.64.0.1\",\"tunnel_ipv6\":\"fd00:2021:1111::1\"},"
		"\"psk\":\"yM/W3eTr8vkABw4VHCMqMTg/Rk1UW2JpcHd+hYyTmqE=\",\"expires_at\":1790000000}";
	static const char upsert[] =
		"{\"type\":\"resource_upsert\",\"resource\":{\"id\":42,\"type\":\"dns\","
		"\"address\":\"*.corp.example.com\",\"name\":\"Intranet \\\"wiki\\\" — é\","
		"\"filters\":[{\"protocol\":\"tcp\",\"ports\":\"443\"},{\"protocol\":\"udp\","
		"\"ports\":\"8000-8100\"},{\"protocol\":\"icmp\"},{\"protocol\":\"tcp\"}]}}";
	struct ctl_msg m;
	char *s;

	(void)state;
	build(example("access_granted"), &m);
	s = encode(&m);
	assert_string_equal(s, granted);
	free(s);
	build(example("resource_upsert"), &m);
	s = encode(&m);
	assert_string_equal(s, upsert);
	free(s);
}

/* ---- generated: every field missing, of the wrong type, or joined by unknown ones */

struct paths {
	char p[400][128];
	size_t n;
};

static void collect(const json_t *v, char *path, size_t plen, struct paths *ps)
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

static json_t *get_path(json_t *root, const char *path)
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

static bool optional(const char *path)
{
	const char *last = strrchr(path, '.');

	last = last ? last + 1 : path;
	return !strcmp(last, "filters") || !strcmp(last, "ports");
}

static void mutate_expect(json_t *root, const struct example *ex, const char *path,
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

static void test_each_field(void **state)
{
	static struct paths ps;
	char path[128] = "", want[160];
	unsigned cases = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
		const struct example *ex = &examples[i];
		json_t *root = example_tree(ex);

		ps.n = 0;
		collect(root, path, 0, &ps);
		for (size_t k = 0; k < ps.n; k++) {
			const char *p = ps.p[k];
			json_t *v = get_path(root, p);
			json_t *wrong[2];

			/* missing (and null, which reads as missing) */
			if (p[strlen(p) - 1] != ']') {
				snprintf(want, sizeof(want), "%s: missing", p);
				mutate_expect(root, ex, p, NULL, optional(p) ? 0 : -EBADMSG,
					      optional(p) ? NULL : want);
				mutate_expect(root, ex, p, json_null(), optional(p) ? 0 : -EBADMSG,
					      optional(p) ? NULL : want);
				cases += 2;
			}
			switch (json_typeof(v)) {
			case JSON_OBJECT:
				wrong[0] = json_array();
				wrong[1] = json_integer(7);
				break;
			case JSON_ARRAY:
				wrong[0] = json_object();
				wrong[1] = json_string("x");
				break;
			case JSON_STRING:
				wrong[0] = json_integer(7);
				wrong[1] = json_true();
				break;
			case JSON_INTEGER:
				wrong[0] = json_string("7");
				wrong[1] = json_real(1.5);
				break;
			default:
				fail_msg("%s: unexpected JSON at %s", ex->name, p);
				return;
			}
			snprintf(want, sizeof(want), "%s: expected ", p);
			mutate_expect(root, ex, p, wrong[0], -EBADMSG, want);
			mutate_expect(root, ex, p, wrong[1], -EBADMSG, want);
			cases += 2;
		}
		json_decref(root);
	}
	assert_true(cases > 300);
}

/* An unknown field in any object changes nothing. */
static void test_unknown_fields(void **state)
{
	static struct paths ps;
	char path[128] = "";

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
		const struct example *ex = &examples[i];
		json_t *root = example_tree(ex), *all = json_deep_copy(root);
		struct ctl_msg m, d;
		char err[256], *s;

		build(ex, &m);
		ps.n = 0;
		collect(root, path, 0, &ps);
		for (size_t k = 0; k <= ps.n; k++) {
			json_t *obj = k < ps.n ? get_path(all, ps.p[k]) : all;

			if (json_is_object(obj))
				json_object_set_new(obj, "zz_future",
						    json_pack("{s:[i,s],s:n}", "a", 1, "x", "b"));
		}
		s = dump(all);
		if (ctl_msg_decode(s, strlen(s), ex->role, &d, err, sizeof(err)) != 0)
			fail_msg("%s with unknown fields: %s\n%s", ex->name, err, s);
		if (d.type == m.type)
			assert_true(msg_equal(&m, &d));
		ctl_msg_free(&d);
		free(s);
		json_decref(all);
		json_decref(root);
	}
}

/* ---- a table of bad (and borderline good) values ----------------------------- */

struct field_case {
	const char *example;
	const char *path;
	const char *value;     /* JSON with ' for "; NULL deletes */
	int rc;
	const char *err;       /* expected in err */
};

#define K43 "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'"

static const struct field_case field_cases[] = {
	/* ids: 1 to 2^53 */
	{ "access_request", "req", "0", -EBADMSG, "req: out of range" },
	{ "access_request", "req", "-1", -EBADMSG, "req: out of range" },
	{ "access_request", "req", "9007199254740993", -EBADMSG, "req: out of range" },
	{ "access_request", "req", "9007199254740992", 0, NULL },
	{ "access_request", "req", "1", 0, NULL },
	{ "access_request", "resource_id", "0", -EBADMSG, "resource_id: out of range" },
	{ "access_request", "resource_id", "9223372036854775807", -EBADMSG, "resource_id: out" },
	{ "access_request", "req", "1e3", -EBADMSG, "req: expected an integer, got a real" },
	{ "authorized", "ref", "0", -EBADMSG, "ref: out of range" },
	{ "authorized", "ref", "9007199254740993", -EBADMSG, "ref: out of range" },
	{ "revoke", "client_id", "0", -EBADMSG, "client_id: out of range" },
	{ "resource_delete", "id", "0", -EBADMSG, "id: out of range" },
	{ "resource_upsert", "resource.id", "0", -EBADMSG, "resource.id: out of range" },
	{ "resource_upsert", "resource.id", "9007199254740993", -EBADMSG, "resource.id: out" },
	{ "init_client", "resources[1].id", "0", -EBADMSG, "resources[1].id: out of range" },
	{ "init_gateway", "authorizations[1].ref", "0", -EBADMSG, "authorizations[1].ref: out" },
	{ "init_gateway", "authorizations[0].client.id", "0", -EBADMSG,
	  "authorizations[0].client.id: out of range" },
	{ "access_granted", "gateway.id", "9007199254740993", -EBADMSG, "gateway.id: out" },
	{ "flow_log", "flows[1].client_id", "0", -EBADMSG, "flows[1].client_id: out of range" },
	{ "flow_log", "flows[0].rx_bytes", "9007199254740993", -EBADMSG, "flows[0].rx_bytes: out" },
	{ "flow_log", "flows[0].tx_bytes", "-1", -EBADMSG, "flows[0].tx_bytes: out of range" },
	{ "flow_log", "flows[0].dst_port", "65536", -EBADMSG, "flows[0].dst_port: out of range" },
	{ "flow_log", "flows[0].dst_port", "-1", -EBADMSG, "flows[0].dst_port: out of range" },
	{ "flow_log", "flows[0].proto", "'sctp'", -EBADMSG, "flows[0].proto: must be tcp" },
	{ "flow_log", "flows[0].end", "-9223372036854775808", 0, NULL },
	/* expires_at: any int64 */
	{ "authorize", "expires_at", "-9223372036854775808", 0, NULL },
	{ "authorize", "expires_at", "0", 0, NULL },
	{ "access_granted", "expires_at", "'1790000000'", -EBADMSG, "expires_at: expected an" },
	/* keys: base64 of exactly 32 bytes, canonical */
	{ "authorize", "client.public_key", K43, -EBADMSG, "client.public_key: not the base64" },
	{ "authorize", "client.public_key", "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB='",
	  -EBADMSG, "client.public_key: not the base64" },  /* padding bits set */
	{ "authorize", "client.public_key", "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='", 0,
	  NULL },
	{ "authorize", "psk", "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'", -EBADMSG,
	  "psk: not the base64 of 32 bytes" },               /* 36 bytes */
	{ "authorize", "psk", "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=='", -EBADMSG,
	  "psk: not the base64" },                           /* 31 bytes */
	{ "authorize", "psk", "''", -EBADMSG, "psk: not the base64" },
	{ "authorize", "psk", "'-_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='", -EBADMSG,
	  "psk: not the base64" },                           /* URL-safe alphabet */
	{ "authorize", "psk", "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\\nA='", -EBADMSG,
	  "psk: not the base64" },
	{ "authorize", "psk", "' AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='", -EBADMSG,
	  "psk: not the base64" },
	{ "access_granted", "gateway.public_key", K43, -EBADMSG, "gateway.public_key: not" },
	{ "access_granted", "psk", "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=='", -EBADMSG,
	  "psk: not the base64" },
	{ "init_gateway", "authorizations[1].psk", K43, -EBADMSG, "authorizations[1].psk: not" },
	/* IPs: the family where one is required */
	{ "init_client", "tunnel.ipv4", "'fd00::1'", -EBADMSG, "tunnel.ipv4: not an IPv4 address" },
	{ "init_client", "tunnel.ipv4", "'100.64.0'", -EBADMSG, "tunnel.ipv4: not an IPv4" },
	{ "init_client", "tunnel.ipv4", "'100.64.0.256'", -EBADMSG, "tunnel.ipv4: not an IPv4" },
	{ "init_client", "tunnel.ipv4", "'100.64.0.05'", -EBADMSG, "tunnel.ipv4: not an IPv4" },
	{ "init_client", "tunnel.ipv4", "'100.64.0.5 '", -EBADMSG, "tunnel.ipv4: not an IPv4" },
	{ "init_client", "tunnel.ipv6", "'100.64.0.5'", -EBADMSG, "tunnel.ipv6: not an IPv6 address" },
	{ "init_client", "tunnel.ipv6", "'fd00::1%eth0'", -EBADMSG, "tunnel.ipv6: not an IPv6" },
	{ "init_client", "tunnel.ipv6", "'::ffff:100.64.0.5'", 0, NULL },
	{ "init_client", "dns.upstreams[1]", "'dns.google'", -EBADMSG,
	  "dns.upstreams[1]: not an IP address" },
	{ "init_client", "dns.upstreams[0]", "'1.1.1.1:53'", -EBADMSG, "dns.upstreams[0]: not an IP" },
	{ "dns_settings", "upstreams[2]", "''", -EBADMSG, "upstreams[2]: not an IP address" },
	{ "init_gateway", "tunnel.ipv6", "'100.64.0.1'", -EBADMSG, "tunnel.ipv6: not an IPv6" },
	{ "authorize", "client.tunnel_ipv4", "'fd00:2021:1111::9'", -EBADMSG,
	  "client.tunnel_ipv4: not an IPv4 address" },
	{ "authorize", "client.tunnel_ipv6", "'100.64.0.9'", -EBADMSG,
	  "client.tunnel_ipv6: not an IPv6 address" },
	{ "access_granted", "gateway.tunnel_ipv4", "'::1'", -EBADMSG, "gateway.tunnel_ipv4: not" },
	/* resources */
	{ "resource_upsert", "resource.type", "'host'", -EBADMSG,
	  "resource.type: must be dns, ip or cidr" },
	{ "resource_upsert", "resource.type", "'DNS'", -EBADMSG, "resource.type: must be" },
	{ "resource_upsert", "resource.type", "'ip'", -EBADMSG,
	  "resource.address: not an IPv4 or IPv6 address" },
	{ "resource_upsert_ip4", "resource.address", "'10.0.0.0/8'", -EBADMSG,
	  "resource.address: not an IPv4 or IPv6 address" },
	{ "resource_upsert_ip4", "resource.address", "'2001:DB8:0::1'", 0, NULL },
	{ "resource_upsert_ip4", "resource.type", "'cidr'", -EBADMSG,
	  "resource.address: not a prefix" },
	{ "init_client", "resources[2].address", "'10.0.0.1/8'", -EBADMSG,
	  "resources[2].address: host bits set" },
	{ "init_client", "resources[2].address", "'fd00::1/64'", -EBADMSG,
	  "resources[2].address: host bits set" },
	{ "init_client", "resources[2].address", "'10.0.0.0/33'", -EBADMSG,
	  "resources[2].address: prefix length must be 0-32" },
	{ "init_client", "resources[2].address", "'fd00::/129'", -EBADMSG,
	  "resources[2].address: prefix length must be 0-128" },
	{ "init_client", "resources[2].address", "'10.0.0.0/08'", -EBADMSG,
	  "resources[2].address: prefix length" },
	{ "init_client", "resources[2].address", "'10.0.0.0/'", -EBADMSG, "resources[2].address" },
	{ "init_client", "resources[2].address", "'10.0.0.0'", -EBADMSG,
	  "resources[2].address: not a prefix" },
	{ "init_client", "resources[2].address", "'/8'", -EBADMSG, "resources[2].address: not a" },
	{ "init_client", "resources[2].address", "'10.0.0.0/8/8'", -EBADMSG,
	  "resources[2].address: prefix length" },
	{ "init_client", "resources[2].address", "'0.0.0.0/0'", 0, NULL },
	{ "init_client", "resources[2].address", "'::/0'", 0, NULL },
	{ "init_client", "resources[2].address", "'10.1.2.3/32'", 0, NULL },
	{ "init_client", "resources[0].address", "'*'", -EBADMSG, "resources[0].address: " },
	{ "init_client", "resources[0].address", "'10.0.0.1'", -EBADMSG, "resources[0].address: " },
	{ "init_client", "resources[0].address", "'a..example.com'", -EBADMSG,
	  "resources[0].address: empty label" },
	{ "init_client", "resources[0].address", "'db.localhost'", -EBADMSG,
	  "resources[0].address: " },
	{ "init_client", "resources[0].address", "'gitlab.corp.example.com:443'", -EBADMSG,
	  "resources[0].address: " },
	{ "init_client", "resources[0].address", "'**.Example.COM.'", 0, NULL },
	{ "resource_upsert", "resource.name", "''", -EBADMSG, "resource.name: empty" },
	{ "resource_upsert", "resource.filters[0].protocol", "'sctp'", -EBADMSG,
	  "resource.filters[0].protocol: must be tcp, udp or icmp" },
	{ "resource_upsert", "resource.filters[0].protocol", "'TCP'", -EBADMSG,
	  "resource.filters[0].protocol: must be" },
	{ "resource_upsert", "resource.filters[1].ports", "'8100-8000'", -EBADMSG,
	  "resource.filters[1].ports: port range is reversed" },
	{ "resource_upsert", "resource.filters[1].ports", "'65536'", -EBADMSG,
	  "resource.filters[1].ports: expected \"N\" or \"N-M\"" },
	{ "resource_upsert", "resource.filters[1].ports", "'1-65536'", -EBADMSG,
	  "resource.filters[1].ports: expected" },
	{ "resource_upsert", "resource.filters[1].ports", "'1-'", -EBADMSG, "filters[1].ports: " },
	{ "resource_upsert", "resource.filters[1].ports", "'-1'", -EBADMSG, "filters[1].ports: " },
	{ "resource_upsert", "resource.filters[1].ports", "''", -EBADMSG, "filters[1].ports: " },
	{ "resource_upsert", "resource.filters[1].ports", "'a'", -EBADMSG, "filters[1].ports: " },
	{ "resource_upsert", "resource.filters[1].ports", "' 80'", -EBADMSG, "filters[1].ports: " },
	{ "resource_upsert", "resource.filters[1].ports", "'080'", -EBADMSG, "filters[1].ports: " },
	{ "resource_upsert", "resource.filters[1].ports", "'+80'", -EBADMSG, "filters[1].ports: " },
	{ "resource_upsert", "resource.filters[1].ports", "'80,443'", -EBADMSG, "filters[1].ports" },
	{ "resource_upsert", "resource.filters[1].ports", "'1-2-3'", -EBADMSG, "filters[1].ports" },
	{ "resource_upsert", "resource.filters[1].ports", "'0-65535'", 0, NULL },
	{ "resource_upsert", "resource.filters[1].ports", "'53-53'", 0, NULL },
	{ "resource_upsert", "resource.filters[1].ports", "'0'", 0, NULL },
	{ "resource_upsert", "resource.filters[2].ports", "'1'", -EBADMSG,
	  "resource.filters[2].ports: icmp has no ports" },
	{ "resource_upsert", "resource.filters[2].ports", "'0-65535'", -EBADMSG,
	  "resource.filters[2].ports: icmp has no ports" },
	{ "resource_upsert", "resource.filters", "[]", 0, NULL },
	{ "resource_upsert", "resource.filters[0]", "'tcp'", -EBADMSG,
	  "resource.filters[0]: expected an object, got a string" },
	/* endpoints */
	{ "access_granted", "gateway.endpoints", "[]", -EBADMSG, "gateway.endpoints: empty" },
	{ "access_granted", "gateway.endpoints[0]", "'gw1.example.com'", -EBADMSG,
	  "gateway.endpoints[0]: expected \"host:port\"" },
	{ "access_granted", "gateway.endpoints[0]", "'gw1.example.com:0'", -EBADMSG,
	  "gateway.endpoints[0]: port must be 1-65535" },
	{ "access_granted", "gateway.endpoints[0]", "'gw1.example.com:65536'", -EBADMSG,
	  "gateway.endpoints[0]: port must be 1-65535" },
	{ "access_granted", "gateway.endpoints[0]", "'gw1.example.com:051820'", -EBADMSG,
	  "gateway.endpoints[0]: port" },
	{ "access_granted", "gateway.endpoints[0]", "'gw1.example.com:'", -EBADMSG,
	  "gateway.endpoints[0]: port" },
	{ "access_granted", "gateway.endpoints[0]", "':51820'", -EBADMSG,
	  "gateway.endpoints[0]: empty host" },
	{ "access_granted", "gateway.endpoints[1]", "'[2001:db8::2]'", -EBADMSG,
	  "gateway.endpoints[1]: expected" },
	{ "access_granted", "gateway.endpoints[1]", "'2001:db8::2:51820'", -EBADMSG,
	  "gateway.endpoints[1]: an IPv6 host goes in brackets" },
	{ "access_granted", "gateway.endpoints[1]", "'[198.51.100.1]:1'", -EBADMSG,
	  "gateway.endpoints[1]: only an IPv6 host goes in brackets" },
	{ "access_granted", "gateway.endpoints[1]", "'[2001:db8::g]:1'", -EBADMSG,
	  "gateway.endpoints[1]: host is not an IPv6 address" },
	{ "access_granted", "gateway.endpoints[1]", "'[::ffff:1.2.3.4]:1'", 0, NULL },
	{ "access_granted", "gateway.endpoints[0]", "'bad host:1'", -EBADMSG,
	  "gateway.endpoints[0]: host name has a character" },
	{ "access_granted", "gateway.endpoints[0]", "'a..b:1'", -EBADMSG,
	  "gateway.endpoints[0]: host name has an empty label" },
	{ "access_granted", "gateway.endpoints[0]", "'gw.:1'", -EBADMSG,
	  "gateway.endpoints[0]: host name has an empty label" },
	{ "access_granted", "gateway.endpoints[0]", "'-gw.example.com:1'", -EBADMSG,
	  "gateway.endpoints[0]: host name label starts or ends with '-'" },
	{ "access_granted", "gateway.endpoints[0]", "'999.1.1.1:1'", -EBADMSG,
	  "gateway.endpoints[0]: host is not an IPv4 address" },
	{ "access_granted", "gateway.endpoints[0]", "'GW_1.Example.com:1'", 0, NULL },
	{ "access_granted", "gateway.endpoints[0]", "'localhost:1'", 0, NULL },
	/* identifiers and text */
	{ "access_denied", "reason", "'No_Policy'", -EBADMSG, "reason: must start with a letter" },
	{ "access_denied", "reason", "'no policy'", -EBADMSG, "reason: only a-z, 0-9 and '_'" },
	{ "access_denied", "reason", "'no-policy'", -EBADMSG, "reason: only a-z, 0-9 and '_'" },
	{ "access_denied", "reason", "'_x'", -EBADMSG, "reason: must start with a letter" },
	{ "access_denied", "reason", "''", -EBADMSG, "reason: empty" },
	{ "access_denied", "reason", "'abcdefghijklmnopqrstuvwxyz_1234'", 0, NULL },
	{ "access_denied", "reason", "'abcdefghijklmnopqrstuvwxyz_12345'", -EBADMSG,
	  "reason: too long (32 bytes, at most 31)" },
	{ "access_denied", "reason", "'r\\u00e9ason'", -EBADMSG, "reason: only a-z" },
	{ "error", "code", "'Bad'", -EBADMSG, "code: must start with a letter" },
	{ "error", "message", "''", 0, NULL },
};

static void test_field_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(field_cases); i++) {
		const struct field_case *c = &field_cases[i];
		const struct example *ex = example(c->example);
		json_t *root = example_tree(ex), *v = NULL;

		if (c->value) {
			char *t = dq(c->value);
			json_error_t je;

			v = json_loads(t, JSON_DECODE_ANY, &je);
			if (!v)
				fail_msg("case %zu: bad test JSON %s: %s", i, t, je.text);
			free(t);
		}
		mutate_expect(root, ex, c->path, v, c->rc, c->err);
		json_decref(root);
	}
}

/* Lengths: exactly at the limit passes, one more fails, counted as documented. */
static void test_lengths(void **state)
{
	static const struct {
		const char *example, *path;
		const char *unit;       /* repeated n times, then tail */
		size_t n;
		const char *tail;
		int rc;
		const char *err;
	} cases[] = {
		{ "resource_upsert", "resource.name", "a", 128, "", 0, NULL },
		{ "resource_upsert", "resource.name", "a", 129, "", -EBADMSG,
		  "resource.name: too long (at most 128 characters)" },
		{ "resource_upsert", "resource.name", "é", 128, "", 0, NULL },
		{ "resource_upsert", "resource.name", "é", 129, "", -EBADMSG, "resource.name: too long" },
		{ "resource_upsert", "resource.name", "😀", 128, "", 0, NULL },
		{ "resource_upsert", "resource.name", "😀", 129, "", -EBADMSG,
		  "resource.name: too long (516 bytes, at most 512)" },
		{ "resource_upsert", "resource.address", "a.", 125, "com", 0, NULL },  /* 253 */
		{ "resource_upsert", "resource.address", "a.", 125, "coms", -EBADMSG,
		  "resource.address: too long" },
		{ "error", "message", "a", 255, "", 0, NULL },
		{ "error", "message", "a", 256, "", -EBADMSG,
		  "message: too long (256 bytes, at most 255)" },
		{ "error", "message", "€", 85, "", 0, NULL },
		{ "error", "message", "€", 86, "", -EBADMSG, "message: too long" },
		{ "error", "code", "c", 31, "", 0, NULL },
		{ "error", "code", "c", 32, "", -EBADMSG, "code: too long" },
		{ "access_granted", "gateway.endpoints[0]", "a.", 125, "com:1", 0, NULL },
		{ "access_granted", "gateway.endpoints[0]", "a.", 125, "coms:1", -EBADMSG,
		  "gateway.endpoints[0]: host too long" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct example *ex = example(cases[i].example);
		json_t *root = example_tree(ex);
		size_t ul = strlen(cases[i].unit);
		char *s = calloc(cases[i].n * ul + 16, 1);

		for (size_t k = 0; k < cases[i].n; k++)
			memcpy(s + k * ul, cases[i].unit, ul);
		strcpy(s + cases[i].n * ul, cases[i].tail);
		mutate_expect(root, ex, cases[i].path, json_string(s), cases[i].rc, cases[i].err);
		free(s);
		json_decref(root);
	}
}

/* ---- whole frames ------------------------------------------------------------- */

static void test_bad_frames(void **state)
{
	static const struct {
		enum ctl_role role;
		const char *frame;     /* ' for " */
		int rc;
		const char *err;
	} cases[] = {
		{ CTL_ROLE_CLIENT, "", -EBADMSG, "frame: not a JSON object" },
		{ CTL_ROLE_CLIENT, "not json", -EBADMSG, "frame: not a JSON object" },
		{ CTL_ROLE_CLIENT, "[{'type':'access_revoked','resource_id':1}]", -EBADMSG,
		  "frame: not a JSON object" },
		{ CTL_ROLE_CLIENT, "'access_revoked'", -EBADMSG, "frame: not a JSON object" },
		{ CTL_ROLE_CLIENT, "7", -EBADMSG, "frame: not a JSON object" },
		{ CTL_ROLE_CLIENT, "null", -EBADMSG, "frame: not a JSON object" },
		{ CTL_ROLE_CLIENT, "{'type':'access_revoked','resource_id':1} {}", -EBADMSG,
		  "frame: not a JSON object" },
		{ CTL_ROLE_CLIENT, "{'type':'access_revoked','resource_id':1", -EBADMSG, "frame: " },
		{ CTL_ROLE_CLIENT, "{}", -EBADMSG, "type: missing" },
		{ CTL_ROLE_CLIENT, "{'type':null}", -EBADMSG, "type: missing" },
		{ CTL_ROLE_CLIENT, "{'type':7}", -EBADMSG, "type: expected a string, got an integer" },
		{ CTL_ROLE_CLIENT, "{'type':['init']}", -EBADMSG, "type: expected a string, got a list" },
		{ CTL_ROLE_CLIENT, "{'type':'nope'}", -ENOTSUP, "type: unknown type \"nope\"" },
		{ CTL_ROLE_CLIENT, "{'type':'INIT'}", -ENOTSUP, "type: unknown type" },
		{ CTL_ROLE_CLIENT, "{'type':''}", -ENOTSUP, "type: unknown type \"\"" },
		{ CTL_ROLE_CLIENT, "{'type':'init\\n'}", -ENOTSUP, "type: unknown type \"init?\"" },
		{ CTL_ROLE_CLIENT, "{'type':'authorize'}", -ENOTSUP,
		  "type: \"authorize\" is never sent to a client" },
		{ CTL_ROLE_CLIENT, "{'type':'access_request','req':1,'resource_id':1}", -ENOTSUP,
		  "type: \"access_request\" is never sent to a client" },
		{ CTL_ROLE_GATEWAY, "{'type':'dns_settings','upstreams':[]}", -ENOTSUP,
		  "type: \"dns_settings\" is never sent to a gateway" },
		{ CTL_ROLE_GATEWAY, "{'type':'access_revoked','resource_id':1}", -ENOTSUP,
		  "is never sent to a gateway" },
		{ CTL_ROLE_PORTAL_FROM_CLIENT, "{'type':'init'}", -ENOTSUP,
		  "type: \"init\" is never sent to the portal by a client" },
		{ CTL_ROLE_PORTAL_FROM_CLIENT, "{'type':'flow_log','flows':[]}", -ENOTSUP,
		  "type: \"flow_log\" is never sent to the portal by a client" },
		{ CTL_ROLE_PORTAL_FROM_GATEWAY, "{'type':'init'}", -ENOTSUP,
		  "type: \"init\" is never sent to the portal by a gateway" },
		{ CTL_ROLE_PORTAL_FROM_GATEWAY, "{'type':'access_request','req':1,'resource_id':1}",
		  -ENOTSUP, "is never sent to the portal by a gateway" },
		/* the type is read first: a bad body of a refused type is not looked at */
		{ CTL_ROLE_PORTAL_FROM_GATEWAY, "{'type':'authorize','ref':'x'}", -ENOTSUP, "type: " },
		/* duplicate keys, at the top and nested */
		{ CTL_ROLE_PORTAL_FROM_GATEWAY, "{'type':'authorized','ref':1,'ref':2}", -EBADMSG,
		  "duplicate object key near '\"ref\"'" },
		{ CTL_ROLE_PORTAL_FROM_GATEWAY, "{'type':'authorized','type':'authorized','ref':1}",
		  -EBADMSG, "duplicate object key near '\"type\"'" },
		{ CTL_ROLE_CLIENT, "{'type':'resource_upsert','resource':{'id':1,'type':'ip',"
		  "'address':'10.0.0.1','address':'10.0.0.2','name':'x'}}", -EBADMSG,
		  "duplicate object key near '\"address\"'" },
		/* what jansson itself refuses */
		{ CTL_ROLE_PORTAL_FROM_GATEWAY, "{'type':'authorized','ref':99999999999999999999}",
		  -EBADMSG, "frame: not a JSON object (too big integer" },
		{ CTL_ROLE_CLIENT, "{'type':'error','code':'x','message':'a\\u0000b'}", -EBADMSG,
		  "frame: not a JSON object" },
		{ CTL_ROLE_CLIENT, "{'type':'error','code':'x','message':'\\ud800'}", -EBADMSG,
		  "frame: not a JSON object (invalid Unicode" },
		{ CTL_ROLE_CLIENT, "{'type':'error','code':'x','message':'\xff'}", -EBADMSG,
		  "frame: not a JSON object (unable to decode byte 0xff" },
		/* good ones, for contrast */
		{ CTL_ROLE_PORTAL_FROM_GATEWAY, "{'ref':1,'type':'authorized'}", 0, NULL },
		{ CTL_ROLE_PORTAL_FROM_GATEWAY, " \n{ 'type' : 'authorized' , 'ref' : 1 }\t", 0,
		  NULL },
		{ CTL_ROLE_GATEWAY, "{'type':'error','code':'x','message':'y'}", 0, NULL },
		{ CTL_ROLE_PORTAL_FROM_GATEWAY, "{'type':'error','code':'x','message':'y'}", 0, NULL },
	};
	struct ctl_msg m;
	char err[8];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *f = dq(cases[i].frame), what[32];

		snprintf(what, sizeof(what), "frame case %zu", i);
		expect(f, strlen(f), cases[i].role, cases[i].rc, cases[i].err, what);
		free(f);
	}
	/* a bad role is the caller's bug */
	expect("{}", 2, (enum ctl_role)9, -EINVAL, "role: unknown role 9", "role");
	/* err may be short, or absent */
	assert_int_equal(ctl_msg_decode("{}", 2, CTL_ROLE_CLIENT, &m, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "type: m");
	assert_int_equal(ctl_msg_decode("{}", 2, CTL_ROLE_CLIENT, &m, NULL, 0), -EBADMSG);
	/* the frame need not be NUL-terminated: len is what counts */
	assert_int_equal(ctl_msg_decode("{\"type\":\"authorized\",\"ref\":1}xyz", 29,
					CTL_ROLE_PORTAL_FROM_GATEWAY, &m, NULL, 0), 0);
	assert_int_equal(m.ref, 1);
}

/* A long unknown type is cut in err, and err stays printable. */
static void test_long_type(void **state)
{
	char frame[2048];
	char err[256];
	struct ctl_msg m;

	(void)state;
	snprintf(frame, sizeof(frame), "{\"type\":\"%0900d\"}", 1);
	assert_int_equal(ctl_msg_decode(frame, strlen(frame), CTL_ROLE_CLIENT, &m, err,
					sizeof(err)), -ENOTSUP);
	assert_true(strlen(err) < 80);
}

static void test_frame_size(void **state)
{
	static const char head[] = "{\"type\":\"authorized\",\"ref\":1}";
	char *f = malloc(CTL_FRAME_MAX + 2);

	(void)state;
	memset(f, ' ', CTL_FRAME_MAX + 1);
	memcpy(f, head, sizeof(head) - 1);
	expect(f, CTL_FRAME_MAX, CTL_ROLE_PORTAL_FROM_GATEWAY, 0, NULL, "frame at the limit");
	expect(f, CTL_FRAME_MAX + 1, CTL_ROLE_PORTAL_FROM_GATEWAY, -E2BIG,
	       "frame: 1048577 bytes, at most 1048576", "frame over the limit");
	/* deep nesting: jansson's depth limit, not our stack */
	memset(f, '[', CTL_FRAME_MAX);
	expect(f, CTL_FRAME_MAX, CTL_ROLE_CLIENT, -EBADMSG, "frame: not a JSON object", "deep");
	free(f);
}

/* ---- list caps ------------------------------------------------------------------ */

/* Grows the list at path to n entries, copies of its first, or 0 if empty. */
static void grow_list(json_t *root, const char *path, size_t n)
{
	json_t *a = get_path(root, path);
	json_t *first = json_array_size(a) ? json_deep_copy(json_array_get(a, 0)) : json_integer(0);

	while (json_array_size(a) < n)
		assert_int_equal(json_array_append(a, first), 0);
	json_decref(first);
}

static void test_list_caps(void **state)
{
	static const struct {
		const char *example, *path;
		size_t max;
		const char *err;  /* for max + 1 */
	} cases[] = {
		{ "resource_upsert", "resource.filters", CTL_FILTERS_MAX,
		  "resource.filters: 65 entries, at most 64" },
		{ "access_granted", "gateway.endpoints", CTL_ENDPOINTS_MAX,
		  "gateway.endpoints: 9 entries, at most 8" },
		{ "init_client", "dns.upstreams", CTL_UPSTREAMS_MAX,
		  "dns.upstreams: 17 entries, at most 16" },
		{ "dns_settings", "upstreams", CTL_UPSTREAMS_MAX, "upstreams: 17 entries, at most 16" },
		{ "init_client", "resources", 4000, NULL },   /* under 1 MiB */
		{ "init_gateway", "authorizations", 1000, NULL },
		{ "flow_log", "flows", 5000, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct example *ex = example(cases[i].example);
		json_t *root = example_tree(ex);
		char *s;

		grow_list(root, cases[i].path, cases[i].max);
		s = dump(root);
		expect(s, strlen(s), ex->role, 0, NULL, cases[i].path);
		free(s);
		if (cases[i].err) {
			grow_list(root, cases[i].path, cases[i].max + 1);
			s = dump(root);
			expect(s, strlen(s), ex->role, -E2BIG, cases[i].err, cases[i].path);
			free(s);
		}
		json_decref(root);
	}
	/* The long lists: the count is refused before any entry is read. */
	for (size_t i = 0; i < 3; i++) {
		static const char *const ex_names[] = { "init_client_empty", "init_gateway_empty",
							"flow_log_empty" };
		static const char *const keys[] = { "resources", "authorizations", "flows" };
		const struct example *ex = example(ex_names[i]);
		json_t *root = example_tree(ex), *a = json_array();
		char want[64], *s;

		json_object_set_new(root, keys[i], a);
		for (size_t k = 0; k < CTL_LIST_MAX; k++)
			json_array_append_new(a, json_integer(0));
		s = dump(root);
		snprintf(want, sizeof(want), "%s[0]: expected an object", keys[i]);
		expect(s, strlen(s), ex->role, -EBADMSG, want, keys[i]);
		free(s);
		json_array_append_new(a, json_integer(0));
		s = dump(root);
		snprintf(want, sizeof(want), "%s: 100001 entries, at most 100000", keys[i]);
		expect(s, strlen(s), ex->role, -E2BIG, want, keys[i]);
		free(s);
		json_decref(root);
	}
}

/* ---- the encoder ------------------------------------------------------------------ */

/* Case i: an example with one field spoiled, and what encoding must answer;
 * 1 past the last case. */
static int spoiled(size_t i, struct ctl_msg *m)
{
#define CASE(n, ex, rc, spoil) case n: build(example(ex), m); spoil; return rc
	switch (i) {
	CASE(0, "access_request", -EINVAL, m->req = 0);
	CASE(1, "access_request", -EINVAL, m->resource_id = CTL_ID_MAX + 1);
	CASE(2, "authorized", -EINVAL, m->ref = UINT64_MAX);
	CASE(3, "flow_log", -EINVAL, m->flows[1].rx_bytes = CTL_ID_MAX + 1);
	CASE(4, "flow_log", -EINVAL, m->flows[1].proto = 0);
	CASE(5, "flow_log", -EINVAL, m->flows = NULL);
	CASE(6, "flow_log", -E2BIG, m->n_flows = CTL_LIST_MAX + 1);
	CASE(7, "init_client", -EINVAL, m->tunnel_ipv4 = ip("::1"));
	CASE(8, "init_client", -EINVAL, m->tunnel_ipv6 = ip("10.0.0.1"));
	CASE(9, "init_client", -EINVAL, m->upstreams[1].family = AF_UNIX);
	CASE(10, "init_client", -E2BIG, m->n_upstreams = CTL_UPSTREAMS_MAX + 1);
	CASE(11, "init_client", -EINVAL, m->resources[2].type = 0);
	CASE(12, "init_client", -EINVAL, strcpy(m->resources[2].address, "10.0.0.1/8"));
	CASE(13, "init_client", -EINVAL, strcpy(m->resources[1].address, "10.0.0.0/8"));
	CASE(14, "init_client", -EINVAL, strcpy(m->resources[0].address, "*"));
	CASE(15, "init_client", -EINVAL, m->resources[0].address[0] = '\0');
	CASE(16, "init_client", -EINVAL,
	     memset(m->resources[0].address, 'a', sizeof(m->resources[0].address)));
	CASE(17, "init_client", -EINVAL, m->resources[0].name[0] = '\0');
	CASE(18, "init_client", -EINVAL, strcpy(m->resources[0].name, "\xc3("));
	CASE(19, "init_client", -EINVAL, strcpy(m->resources[0].name, "\xed\xa0\x80"));
	CASE(20, "init_client", -EINVAL, memset(m->resources[0].name, 'a', sizeof(m->resources[0].name)));
	CASE(21, "init_client", -EINVAL, memset(m->resources[0].name, 'a', 129));
	CASE(22, "init_client", -E2BIG, m->resources[0].n_filters = CTL_FILTERS_MAX + 1);
	CASE(23, "init_client", -EINVAL, m->resources[0].filters[0].port_lo = 444);
	CASE(24, "init_client", -EINVAL, m->resources[0].filters[2].port_hi = 1);
	CASE(25, "init_client", -EINVAL, m->resources[0].filters[1].proto = 9);
	CASE(26, "init_client", -EINVAL, m->resources = NULL);
	CASE(27, "init_client", -E2BIG, m->n_resources = CTL_LIST_MAX + 1);
	CASE(28, "init_gateway", -EINVAL, m->auths[1].client.id = 0);
	CASE(29, "init_gateway", -EINVAL, m->auths[1].resource.id = 0);
	CASE(30, "init_gateway", -EINVAL, m->auths = NULL);
	CASE(31, "access_granted", -EINVAL, m->gateway.n_endpoints = 0);
	CASE(32, "access_granted", -E2BIG, m->gateway.n_endpoints = CTL_ENDPOINTS_MAX + 1);
	CASE(33, "access_granted", -EINVAL, m->gateway.endpoints[0].port = 0);
	CASE(34, "access_granted", -EINVAL, strcpy(m->gateway.endpoints[0].host, "a b"));
	CASE(35, "access_granted", -EINVAL, strcpy(m->gateway.endpoints[0].host, ""));
	CASE(36, "access_granted", -EINVAL, strcpy(m->gateway.endpoints[1].host, "::g"));
	CASE(37, "access_granted", -EINVAL, m->gateway.tunnel_ipv6 = ip("10.0.0.1"));
	CASE(38, "access_denied", -EINVAL, strcpy(m->reason, "Denied"));
	CASE(39, "access_denied", -EINVAL, m->reason[0] = '\0');
	CASE(40, "access_denied", -EINVAL, memset(m->reason, 'a', sizeof(m->reason)));
	CASE(41, "error", -EINVAL, memset(m->message, 'a', sizeof(m->message)));
	CASE(42, "error", -EINVAL, strcpy(m->message, "\xff"));
	CASE(43, "error", -EINVAL, strcpy(m->code, "no way"));
	CASE(44, "error", -EINVAL, m->type = 0);
	CASE(45, "error", -EINVAL, m->type = 99);
	default: return 1;
	}
#undef CASE
}

static void test_encode_refuses(void **state)
{
	struct ctl_msg m;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; (rc = spoiled(i, &m)) != 1; i++) {
		struct buf b;
		int r;

		buf_init(&b, CTL_FRAME_MAX + 1);
		r = ctl_msg_encode(&m, &b);
		if (r != rc)
			fail_msg("spoil case %zu: %d, want %d", i, r, rc);
		assert_int_equal(b.len, 0);
		buf_free(&b);
	}
	assert_int_equal(i, 46);
}

static void test_encode_buffer(void **state)
{
	struct ctl_msg m;
	struct buf b;
	char *full;
	size_t n;

	(void)state;
	build(example("access_granted"), &m);
	full = encode(&m);
	n = strlen(full);
	/* appended after what is there; NUL after it, outside len */
	buf_init(&b, n + 4);
	assert_int_equal(buf_append(&b, "ab", 2), 0);
	assert_int_equal(ctl_msg_encode(&m, &b), 0);
	assert_int_equal(b.len, n + 2);
	assert_memory_equal(b.data + 2, full, n);
	assert_int_equal(b.data[b.len], '\0');
	buf_wipe(&b);
	/* exactly at the cap: the frame fits, the NUL is left out */
	buf_init(&b, n);
	assert_int_equal(ctl_msg_encode(&m, &b), 0);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, full, n);
	buf_wipe(&b);
	/* past the cap: -EMSGSIZE and nothing written */
	buf_init(&b, n - 1);
	assert_int_equal(ctl_msg_encode(&m, &b), -EMSGSIZE);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	free(full);
}

/* An encoding over CTL_FRAME_MAX is refused, not sent to be refused. */
static void test_encode_frame_max(void **state)
{
	static struct ctl_flow many[20000];
	struct ctl_msg m;
	struct buf b;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = CTL_FLOW_LOG;
	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct ctl_flow){ .client_id = CTL_ID_MAX, .resource_id = CTL_ID_MAX,
					     .start = INT64_MIN, .end = INT64_MIN,
					     .rx_bytes = CTL_ID_MAX, .tx_bytes = CTL_ID_MAX,
					     .proto = CTL_PROTO_ICMP, .dst_port = 65535 };
	m.flows = many;
	m.n_flows = ARRAY_SIZE(many);
	buf_init(&b, 4 * CTL_FRAME_MAX);
	assert_int_equal(ctl_msg_encode(&m, &b), -E2BIG);
	m.n_flows = 1000;
	assert_int_equal(ctl_msg_encode(&m, &b), 0);
	buf_free(&b);
}

/* ---- sweeps -------------------------------------------------------------------- */

/* Every strict prefix of every example is refused, cleanly. */
static void test_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
		struct ctl_msg m;
		char *s, err[256];
		size_t n;

		build(&examples[i], &m);
		s = encode(&m);
		n = strlen(s);
		for (size_t k = 0; k < n; k++) {
			struct ctl_msg d;

			assert_int_equal(ctl_msg_decode(s, k, examples[i].role, &d, err,
							sizeof(err)), -EBADMSG);
			assert_true(all_zero(&d, sizeof(d)));
		}
		free(s);
	}
}

/* Each byte of each example replaced by a few others: never a crash, and what
 * still decodes encodes again. */
static void test_byte_flips(void **state)
{
	static const char subst[] = { '"', '0', '9', ':', '.', '[', '{', '}', 'a', '\\', 'Z' };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
		struct ctl_msg m;
		char *s;
		size_t n;

		build(&examples[i], &m);
		s = encode(&m);
		n = strlen(s);
		for (size_t k = 0; k < n; k++) {
			char orig = s[k];

			for (size_t j = 0; j < sizeof(subst); j++) {
				struct ctl_msg d;
				char *again;

				s[k] = subst[j];
				if (ctl_msg_decode(s, n, examples[i].role, &d, NULL, 0) == 0) {
					again = encode(&d);
					free(again);
					ctl_msg_free(&d);
				}
			}
			s[k] = orig;
		}
		free(s);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ctl_type_name(CTL_INIT_CLIENT), "init");
	assert_string_equal(ctl_type_name(CTL_INIT_GATEWAY), "init");
	assert_string_equal(ctl_type_name(CTL_FLOW_LOG), "flow_log");
	assert_string_equal(ctl_type_name(CTL_ERROR), "error");
	assert_string_equal(ctl_type_name(0), "?");
	assert_string_equal(ctl_type_name(99), "?");
	assert_string_equal(ctl_error_code(-EBADMSG), "bad_message");
	assert_string_equal(ctl_error_code(-E2BIG), "too_large");
	assert_string_equal(ctl_error_code(-ENOTSUP), "unsupported");
	assert_string_equal(ctl_error_code(-ENOMEM), "internal");
}

/* Addresses come back canonical, and so do the IPs. */
static void test_canonical(void **state)
{
	static const char frame[] =
		"{'type':'init','tunnel':{'ipv4':'100.64.0.5','ipv6':'FD00:2021:1111:0::5'},"
		"'dns':{'upstreams':['2606:4700:4700:0:0:0:0:1111']},'resources':["
		"{'id':1,'type':'ip','address':'2001:DB8:0:0::1','name':'a'},"
		"{'id':2,'type':'cidr','address':'FD00:0::/16','name':'b',"
		"'filters':[{'protocol':'tcp','ports':'22-22'},{'protocol':'udp','ports':'0-65535'}]},"
		"{'id':3,'type':'dns','address':'Wiki.Example.COM.','name':'c','filters':[]}]}";
	char *f = dq(frame), *again;
	struct ctl_msg m;
	char err[256];

	(void)state;
	assert_int_equal(ctl_msg_decode(f, strlen(f), CTL_ROLE_CLIENT, &m, err, sizeof(err)), 0);
	assert_string_equal(m.resources[0].address, "2001:db8::1");
	assert_int_equal(m.resources[0].prefix, 128);
	assert_string_equal(m.resources[1].address, "fd00::/16");
	assert_int_equal(m.resources[1].prefix, 16);
	assert_int_equal(m.resources[1].filters[0].port_lo, 22);
	assert_int_equal(m.resources[1].filters[0].port_hi, 22);
	assert_int_equal(m.resources[1].filters[1].port_hi, 65535);
	assert_string_equal(m.resources[2].address, "Wiki.Example.COM.");
	assert_int_equal(m.resources[2].n_filters, 0);
	again = encode(&m);
	free(f);
	f = dq("{'type':'init','tunnel':{'ipv4':'100.64.0.5','ipv6':'fd00:2021:1111::5'},"
	       "'dns':{'upstreams':['2606:4700:4700::1111']},'resources':["
	       "{'id':1,'type':'ip','address':'2001:db8::1','name':'a'},"
	       "{'id':2,'type':'cidr','address':'fd00::/16','name':'b',"
	       "'filters':[{'protocol':'tcp','ports':'22'},{'protocol':'udp'}]},"
	       "{'id':3,'type':'dns','address':'Wiki.Example.COM.','name':'c'}]}");
	assert_string_equal(again, f);
	free(again);
	free(f);
	ctl_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_doc_examples),
		cmocka_unit_test(test_each_field),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_field_cases),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_long_type),
		cmocka_unit_test(test_frame_size),
		cmocka_unit_test(test_list_caps),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_encode_buffer),
		cmocka_unit_test(test_encode_frame_max),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_byte_flips),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_canonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
