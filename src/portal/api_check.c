/* What the store cannot check: that an address is what its type says, that a
 * filter is one, that a policy's conditions read as the engine will read them,
 * that settings, endpoints and token requests make sense. Each failure names the
 * field as the client wrote it ("filters[2].ports"). A value of the wrong JSON
 * type is left to the store, which names it as well. */
#include "portal/api_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/pattern.h"
#include "portal/policy.h"
#include "wg/pubkey.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A field of the object as it will be: the patch's value, else the stored one. */
static const json_t *field_after(const json_t *old, const json_t *in, const char *key)
{
	const json_t *v = json_object_get(in, key);

	return v || !old ? v : json_object_get(old, key);
}

/* One IPv4 or IPv6 address, IPv4-mapped IPv6 refused (written as IPv4, or it
 * would never match what the kernel reports). family and bytes may be NULL. */
static bool ip_parse(const char *s, int *family, uint8_t bytes[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint8_t b[16];

	if (inet_pton(AF_INET, s, b) == 1) {
		if (family)
			*family = AF_INET;
	} else if (inet_pton(AF_INET6, s, b) == 1 && memcmp(b, mapped, sizeof(mapped))) {
		if (family)
			*family = AF_INET6;
	} else {
		return false;
	}
	if (bytes)
		memcpy(bytes, b, 16);
	return true;
}

/* "N" with 1 <= N <= max, decimal, no sign or leading zero. */
static bool parse_num(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (!len || len > 5 || s[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* A network in canonical form: the address as inet_ntop writes it, host bits
 * zero, "/" and the prefix length. */
static int check_cidr(const char *s, const char *field, struct api_err *e)
{
	const char *slash = strchr(s, '/');
	char addr[INET6_ADDRSTRLEN], canon[INET6_ADDRSTRLEN + 4];
	uint8_t b[16], net[16] = { 0 };
	unsigned prefix, max, i;
	int family;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return api_invalid(e, field, "%s must be a network such as 198.51.100.0/24",
				   field);
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (!ip_parse(addr, &family, b))
		return api_invalid(e, field, "%s: \"%.64s\" is not an IPv4 or IPv6 address",
				   field, addr);
	max = family == AF_INET ? 32 : 128;
	if (!strcmp(slash + 1, "0"))
		prefix = 0;
	else if (!parse_num(slash + 1, strlen(slash + 1), max, &prefix))
		return api_invalid(e, field, "%s: the prefix length must be 0 to %u", field, max);
	for (i = 0; i < prefix / 8; i++)
		net[i] = b[i];
	if (prefix % 8)
		net[i] = b[i] & (uint8_t)(0xff00u >> (prefix % 8));
	inet_ntop(family, net, addr, sizeof(addr));
	snprintf(canon, sizeof(canon), "%s/%u", addr, prefix);
	if (memcmp(net, b, family == AF_INET ? 4 : 16))
		return api_invalid(e, field, "%s: host bits are set (the network is %s)", field,
				   canon);
	if (strcmp(canon, s))
		return api_invalid(e, field, "%s: write it as %s", field, canon);
	return 0;
}

static int check_address(const char *type, const char *addr, struct api_err *e)
{
	char why[160];

	if (!strcmp(type, "dns")) {
		if (pattern_validate(addr, why, sizeof(why)))
			return api_invalid(e, "address", "not a valid DNS pattern: %s", why);
		return 0;
	}
	if (!strcmp(type, "ip")) {
		if (!ip_parse(addr, NULL, NULL))
			return api_invalid(e, "address",
					   "address must be one IPv4 or IPv6 address (a network is "
					   "type cidr)");
		return 0;
	}
	if (!strcmp(type, "cidr"))
		return check_cidr(addr, "address", e);
	return 0; /* an unknown type: the store names it */
}

/* "443" or "8000-8100". */
static int check_ports(const char *s, const char *field, struct api_err *e)
{
	const char *dash = strchr(s, '-');
	unsigned lo, hi;

	if (dash ? !parse_num(s, (size_t)(dash - s), 65535, &lo) ||
			   !parse_num(dash + 1, strlen(dash + 1), 65535, &hi) :
		   !parse_num(s, strlen(s), 65535, &lo))
		return api_invalid(e, field, "ports must be a port (1-65535) such as \"443\" or "
				   "a range such as \"8000-8100\"");
	if (dash && lo > hi)
		return api_invalid(e, field, "the range %u-%u ends before it starts", lo, hi);
	return 0;
}

static int check_filter(const json_t *f, size_t i, struct api_err *e)
{
	char field[80];
	const char *key, *proto;
	json_t *v, *ports;

	snprintf(field, sizeof(field), "filters[%zu]", i);
	if (!json_is_object(f))
		return api_invalid(e, field, "a filter is an object {\"protocol\", \"ports\"}");
	json_object_foreach((json_t *)f, key, v) {
		if (strcmp(key, "protocol") && strcmp(key, "ports")) {
			snprintf(field, sizeof(field), "filters[%zu].%.24s", i, key);
			return api_invalid(e, field, "unknown field (protocol, ports)");
		}
	}
	snprintf(field, sizeof(field), "filters[%zu].protocol", i);
	proto = str_of(f, "protocol");
	if (!proto || (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "icmp")))
		return api_invalid(e, field, "protocol must be one of: tcp, udp, icmp");
	snprintf(field, sizeof(field), "filters[%zu].ports", i);
	ports = json_object_get(f, "ports");
	if (!ports || json_is_null(ports))
		return 0;
	if (!strcmp(proto, "icmp"))
		return api_invalid(e, field, "icmp has no ports");
	if (!json_is_string(ports))
		return api_invalid(e, field, "ports must be a string such as \"443\"");
	return check_ports(json_string_value(ports), field, e);
}

int check_resource(struct api *a, const json_t *old, const json_t *in, struct api_err *e)
{
	const json_t *filters = json_object_get(in, "filters");
	const char *type, *addr;
	size_t i;

	(void)a;
	/* a patch of either re-checks the pair */
	if (!old || json_object_get(in, "type") || json_object_get(in, "address")) {
		type = json_string_value(field_after(old, in, "type"));
		addr = json_string_value(field_after(old, in, "address"));
		if (type && addr && check_address(type, addr, e))
			return -1;
	}
	if (json_is_array(filters)) {
		for (i = 0; i < json_array_size(filters); i++)
			if (check_filter(json_array_get(filters, i), i, e))
				return -1;
	}
	return 0;
}

/* "host:port", "[v6]:port"; the host a DNS name or an IPv4 address. */
static int check_endpoint(const char *s, struct api_err *e)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789-.";
	const char *colon = strrchr(s, ':'), *host = s, *p;
	char h[256];
	size_t hlen, label = 0;
	unsigned port;

	if (!colon || !parse_num(colon + 1, strlen(colon + 1), 65535, &port))
		return api_invalid(e, "endpoint", "endpoint must be host:port (port 1-65535)");
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (!hlen || hlen >= sizeof(h))
		return api_invalid(e, "endpoint", "endpoint must be host:port");
	memcpy(h, host, hlen);
	h[hlen] = '\0';
	if (host != s) /* bracketed: IPv6 only */
		return inet_pton(AF_INET6, h, (uint8_t[16]){ 0 }) == 1 ? 0 :
			api_invalid(e, "endpoint", "endpoint: [%.64s] is not an IPv6 address", h);
	if (strchr(h, ':'))
		return api_invalid(e, "endpoint", "endpoint: write an IPv6 address as [addr]:port");
	if (ip_parse(h, NULL, NULL))
		return 0;
	if (hlen > 253 || strspn(h, ok) != hlen)
		return api_invalid(e, "endpoint", "endpoint: \"%.64s\" is not a host name", h);
	for (p = h;; p++) {
		if (*p == '.' || !*p) {
			if (!label || p[-1] == '-' || p[-(ptrdiff_t)label] == '-' || label > 63)
				return api_invalid(e, "endpoint",
						   "endpoint: \"%.64s\" is not a host name", h);
			label = 0;
			if (!*p)
				break;
		} else {
			label++;
		}
	}
	return 0;
}

int check_gateway(struct api *a, const json_t *old, const json_t *in, struct api_err *e)
{
	const char *key = str_of(in, "public_key"), *ep = str_of(in, "endpoint");
	int r;

	(void)a;
	(void)old;
	if (key && (r = wg_pubkey_from_base64(NULL, key)) < 0)
		return api_invalid(e, "public_key",
				   "public_key must be an X25519 key in canonical base64 "
				   "(44 characters): %s", wg_pubkey_strerror(r));
	if (ep)
		return check_endpoint(ep, e);
	return 0;
}

int check_user(struct api *a, const json_t *old, const json_t *in, struct api_err *e)
{
	const char *email = str_of(in, "email"), *at, *p;

	(void)a;
	(void)old;
	if (!email)
		return 0;
	at = strchr(email, '@');
	for (p = email; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			break;
	if (*p || !at || at == email || !at[1] || strchr(at + 1, '@'))
		return api_invalid(e, "email", "email must be an address such as ada@example.com");
	return 0;
}

int check_policy(struct api *a, const json_t *old, const json_t *in, struct api_err *e)
{
	struct policy_error perr;
	struct policy *p;
	json_t *merged;
	int r;

	merged = old ? json_copy((json_t *)old) : json_incref((json_t *)in);
	p = malloc(sizeof(*p));
	if (!merged || !p || (old && json_object_update(merged, (json_t *)in))) {
		json_decref(merged);
		free(p);
		return api_nomem(e);
	}
	r = policy_parse(a->pe, merged, p, &perr);
	free(p);
	json_decref(merged);
	if (r == -ENOMEM)
		return api_nomem(e);
	/* anything else (a zone that will not load, too many zones) is about this input */
	if (r)
		return api_invalid(e, perr.field, "%s", perr.message);
	return 0;
}

int check_name_only(struct api *a, const json_t *old, const json_t *in, struct api_err *e)
{
	const char *key;
	json_t *v;

	(void)a;
	if (!old) /* a create: tokens have their own, clients none */
		return 0;
	json_object_foreach((json_t *)in, key, v) {
		if (strcmp(key, "name"))
			return api_invalid(e, key, "only name can be changed");
	}
	return 0;
}

/* The control plane's limits (docs/security.md): whole numbers in a range; a
 * wrong type is the store's to refuse. */
static const struct {
	const char *key;
	int64_t min, max;
} setting_ranges[] = {
	{ "access_request_rate", 0, 100000 },
	{ "access_request_burst", 1, 100000 },
	{ "flow_retention_days", 0, 36500 },
	{ "audit_retention_days", 0, 36500 },
};

int check_settings(struct api *a, const json_t *in, struct api_err *e)
{
	const json_t *dns = json_object_get(in, "upstream_dns");
	char field[48];
	size_t i;

	(void)a;
	for (i = 0; i < sizeof(setting_ranges) / sizeof(setting_ranges[0]); i++) {
		const json_t *v = json_object_get(in, setting_ranges[i].key);

		if (json_is_integer(v) && (json_integer_value(v) < setting_ranges[i].min ||
					   json_integer_value(v) > setting_ranges[i].max))
			return api_invalid(e, setting_ranges[i].key, "%s must be %lld to %lld",
					   setting_ranges[i].key,
					   (long long)setting_ranges[i].min,
					   (long long)setting_ranges[i].max);
	}
	if (!json_is_array(dns))
		return 0;
	for (i = 0; i < json_array_size(dns); i++) {
		const char *s = json_string_value(json_array_get(dns, i));

		snprintf(field, sizeof(field), "upstream_dns[%zu]", i);
		if (!s || !ip_parse(s, NULL, NULL))
			return api_invalid(e, field, "a nameserver must be an IPv4 or IPv6 address");
	}
	return 0;
}

/* ---- tokens ------------------------------------------------------------------- */

static int owner_id(const json_t *in, const char *key, bool want, int64_t *out,
		    const char *kind, struct api_err *e)
{
	const json_t *v = json_object_get(in, key);

	if (!want) {
		if (v && !json_is_null(v))
			return api_invalid(e, key, "%s tokens have no %s", kind, key);
		return 0;
	}
	if (!v || json_is_null(v))
		return api_invalid(e, key, "%s tokens need %s", kind, key);
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return api_invalid(e, key, "%s must be a positive id", key);
	*out = json_integer_value(v);
	return 0;
}

int check_token_create(struct api *a, const json_t *in, struct token_req *out,
		       struct api_err *e)
{
	static const char *const keys[] = { "kind", "name", "user_id", "site_id", "expires_at" };
	static const char *const kinds[] = { "admin", "client", "site" };
	const json_t *name = json_object_get(in, "name"), *exp = json_object_get(in, "expires_at");
	const char *key, *kind = str_of(in, "kind");
	json_t *v;
	size_t i;

	memset(out, 0, sizeof(*out));
	json_object_foreach((json_t *)in, key, v) {
		for (i = 0; i < N(keys) && strcmp(keys[i], key); i++)
			;
		if (i == N(keys))
			return api_invalid(e, key, "unknown field %s", key);
	}
	for (i = 0; kind && i < N(kinds) && strcmp(kinds[i], kind); i++)
		;
	if (!kind || i == N(kinds))
		return api_invalid(e, "kind", "kind must be one of: admin, client, site");
	out->kind = (enum store_token_kind)i;
	if (name && !json_is_null(name) && !json_is_string(name))
		return api_invalid(e, "name", "name must be a string");
	out->name = json_string_value(name);
	if (owner_id(in, "user_id", out->kind == STORE_TOKEN_CLIENT, &out->owner_id, kind, e) ||
	    owner_id(in, "site_id", out->kind == STORE_TOKEN_SITE, &out->owner_id, kind, e))
		return -1;
	if (!exp || json_is_null(exp))
		return 0;
	if (!json_is_string(exp) || store_time_parse(json_string_value(exp), &out->expires_at))
		return api_invalid(e, "expires_at",
				   "expires_at must be an RFC 3339 time (like 2026-11-22T01:00:00Z)");
	if (out->expires_at <= api_now(a))
		return api_invalid(e, "expires_at", "expires_at must be in the future");
	return 0;
}
