/* Control-plane codecs: field-by-field refusals, lengths, whole frames, caps. */
#include "ctl_msg_test.h"

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
	{ "authorize", "client.public_key", "'CQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='", 0,
	  NULL },                                            /* u = 9 */
	/* public keys: also a canonical u, not of small order (wg/pubkey.h) */
	{ "authorize", "client.public_key", "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='",
	  -EBADMSG, "client.public_key: a point of small order" },
	{ "authorize", "client.public_key", "'CQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIA='",
	  -EBADMSG, "client.public_key: not a canonical X25519" }, /* the top bit */
	{ "access_granted", "gateway.public_key", "'4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA='",
	  -EBADMSG, "gateway.public_key: a point of small order" }, /* order 8 */
	{ "authorize", "psk", "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='", 0, NULL },
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
	/* init's user and device: optional objects, all of their fields required */
	{ "init_client_who", "user.id", "0", -EBADMSG, "user.id: out of range" },
	{ "init_client_who", "user.id", "9007199254740993", -EBADMSG, "user.id: out of range" },
	{ "init_client_who", "user.name", "''", -EBADMSG, "user.name: empty" },
	{ "init_client_who", "user", "{}", -EBADMSG, "user.id: missing" },
	{ "init_client_who", "user", "{'id':5}", -EBADMSG, "user.name: missing" },
	{ "init_client_who", "user", "[5,'alice']", -EBADMSG, "user: expected an object" },
	{ "init_client_who", "device.name", "''", 0, NULL },
	{ "init_client_who", "device.id", "0", -EBADMSG, "device.id: out of range" },
	{ "init_client_who", "device", "{'name':'x'}", -EBADMSG, "device.id: missing" },
	{ "init_client_unnamed", "device.id", "9007199254740993", -EBADMSG,
	  "device.id: out of range" },
	{ "init_client_unnamed", "device.name", "null", -EBADMSG, "device.name: missing" },
	{ "init_client_unnamed", "user", "null", 0, NULL },
	/* gateway_offline */
	{ "gateway_offline", "gateway_id", "0", -EBADMSG, "gateway_id: out of range" },
	{ "gateway_offline", "gateway_id", "9007199254740993", -EBADMSG, "gateway_id: out" },
	{ "gateway_offline", "gateway_id", "'3'", -EBADMSG, "gateway_id: expected an integer" },
	{ "gateway_offline", "gateway_id", "9007199254740992", 0, NULL },
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
		{ "init_client_who", "user.name", "a", 128, "", 0, NULL },
		{ "init_client_who", "user.name", "a", 129, "", -EBADMSG,
		  "user.name: too long (at most 128 characters)" },
		{ "init_client_who", "device.name", "é", 128, "", 0, NULL },
		{ "init_client_who", "device.name", "é", 129, "", -EBADMSG,
		  "device.name: too long" },
		{ "init_client_unnamed", "device.name", "😀", 129, "", -EBADMSG,
		  "device.name: too long (516 bytes, at most 512)" },
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
		/* a gateway never reads gateway_offline, nor the portal */
		{ CTL_ROLE_GATEWAY, "{'type':'gateway_offline','gateway_id':3}", -ENOTSUP,
		  "type: \"gateway_offline\" is never sent to a gateway" },
		{ CTL_ROLE_PORTAL_FROM_CLIENT, "{'type':'gateway_offline','gateway_id':3}", -ENOTSUP,
		  "is never sent to the portal by a client" },
		{ CTL_ROLE_PORTAL_FROM_GATEWAY, "{'type':'gateway_offline','gateway_id':3}",
		  -ENOTSUP, "is never sent to the portal by a gateway" },
		/* an older portal's init: no user, no device */
		{ CTL_ROLE_CLIENT, "{'type':'init','tunnel':{'ipv4':'100.64.0.5','ipv6':'fd00::5'},"
		  "'dns':{'upstreams':[]},'resources':[],'user':null}", 0, NULL },
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
	CASE(46, "init_client_who", -EINVAL, m->user.id = 0); /* a name without an id */
	CASE(47, "init_client_who", -EINVAL, m->device.id = 0);
	CASE(48, "init_client_who", -EINVAL, m->user.name[0] = '\0');
	CASE(49, "init_client_who", -EINVAL, m->user.id = CTL_ID_MAX + 1);
	CASE(50, "init_client_who", -EINVAL, memset(m->device.name, 'a', 129));
	CASE(51, "init_client_who", -EINVAL, strcpy(m->device.name, "\xc3("));
	CASE(52, "gateway_offline", -EINVAL, m->gateway_id = 0);
	CASE(53, "gateway_offline", -EINVAL, m->gateway_id = CTL_ID_MAX + 1);
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
	assert_int_equal(i, 54);
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
	size_t decoded = 0;

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
					struct ctl_msg d2;
					char *third;

					/* what decodes encodes (encode() asserts it), and
					 * that frame is canonical: it decodes to an equal
					 * message, which encodes to the same bytes */
					again = encode(&d);
					assert_int_equal(ctl_msg_decode(again, strlen(again),
									examples[i].role, &d2,
									NULL, 0), 0);
					assert_true(msg_equal(&d, &d2));
					third = encode(&d2);
					assert_string_equal(again, third);
					free(third);
					free(again);
					ctl_msg_free(&d2);
					ctl_msg_free(&d);
					decoded++;
				}
			}
			s[k] = orig;
		}
		free(s);
	}
	assert_true(decoded > 0); /* flips that still decode were checked at all */
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ctl_type_name(CTL_INIT_CLIENT), "init");
	assert_string_equal(ctl_type_name(CTL_INIT_GATEWAY), "init");
	assert_string_equal(ctl_type_name(CTL_FLOW_LOG), "flow_log");
	assert_string_equal(ctl_type_name(CTL_ERROR), "error");
	assert_string_equal(ctl_type_name(CTL_GATEWAY_OFFLINE), "gateway_offline");
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

	return cmocka_run_group_tests_name("ctl_msg_fields", tests, NULL, NULL);
}
