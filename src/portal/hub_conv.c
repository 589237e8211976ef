/* Store rows into wire objects. Each is built as the message that carries it and
 * read back with ctl_msg_decode(), so what the hub sends passes the very checks
 * its peers make, in canonical form; a row that would not (a resource whose
 * pattern the client would refuse) is never sent. */
#include "portal/hub_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

/* The base64 of 32 zero bytes: a stand-in for fields the conversion ignores. */
#define ZERO_KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static int decode(json_t *msg, enum ctl_role role, struct ctl_msg *m)
{
	char err[CTL_MESSAGE_MAX + 1];
	char *text;
	int r;

	if (!msg)
		return -EINVAL;
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return -ENOMEM;
	r = ctl_msg_decode(text, strlen(text), role, m, err, sizeof(err));
	free(text);
	if (r < 0)
		log_debug("hub: a row does not convert: %s", err);
	return r;
}

int conv_resource(const json_t *row, struct ctl_resource *out)
{
	const json_t *filters = json_object_get(row, "filters");
	json_t *res, *msg;
	struct ctl_msg m;
	int r;

	res = json_pack("{sOsOsOsO}", "id", json_object_get(row, "id"), "type",
			json_object_get(row, "type"), "address", json_object_get(row, "address"),
			"name", json_object_get(row, "name"));
	if (!res)
		return -EINVAL;
	if (json_array_size(filters) > 0 && json_object_set(res, "filters", (json_t *)filters)) {
		json_decref(res);
		return -ENOMEM;
	}
	msg = json_pack("{ssso}", "type", "resource_upsert", "resource", res);
	r = decode(msg, CTL_ROLE_CLIENT, &m);
	if (r < 0)
		return r;
	*out = m.resource;
	ctl_msg_free(&m);
	return 0;
}

int conv_gateway(const json_t *row, struct ctl_gateway *out)
{
	struct ctl_msg m;
	json_t *msg;
	int r;

	msg = json_pack("{sssisisssIs{sOsOs[O]sOsO}}", "type", "access_granted", "req", 1,
			"resource_id", 1, "psk", ZERO_KEY, "expires_at", (json_int_t)0,
			"gateway", "id", json_object_get(row, "id"), "public_key",
			json_object_get(row, "public_key"), "endpoints",
			json_object_get(row, "endpoint"), "tunnel_ipv4",
			json_object_get(row, "tunnel_ipv4"), "tunnel_ipv6",
			json_object_get(row, "tunnel_ipv6"));
	r = decode(msg, CTL_ROLE_CLIENT, &m);
	if (r < 0)
		return r;
	*out = m.gateway;
	ctl_msg_free(&m);
	return 0;
}

int conv_client(const json_t *row, struct ctl_client *out)
{
	struct ctl_msg m;
	json_t *msg;
	int r;

	msg = json_pack("{sssisssIs{sssssiss}s{sOsOsOsO}}", "type", "authorize", "ref", 1,
			"psk", ZERO_KEY, "expires_at", (json_int_t)0, "resource", "type", "ip",
			"address", "192.0.2.1", "id", 1, "name", "x", "client", "id",
			json_object_get(row, "id"), "public_key",
			json_object_get(row, "public_key"), "tunnel_ipv4",
			json_object_get(row, "tunnel_ipv4"), "tunnel_ipv6",
			json_object_get(row, "tunnel_ipv6"));
	r = decode(msg, CTL_ROLE_GATEWAY, &m);
	if (r < 0)
		return r;
	*out = m.client;
	ctl_msg_free(&m);
	return 0;
}

int conv_named(const json_t *row, const char *key, struct ctl_named *out)
{
	struct ctl_msg m;
	json_t *msg;
	int r;

	msg = json_pack("{sss{ssss}s{s[]}s[]s{sOsO}}", "type", "init", "tunnel", "ipv4",
			"0.0.0.0", "ipv6", "::", "dns", "upstreams", "resources", key, "id",
			json_object_get(row, "id"), "name", json_object_get(row, "name"));
	r = decode(msg, CTL_ROLE_CLIENT, &m);
	if (r < 0)
		return r;
	*out = strcmp(key, "user") ? m.device : m.user;
	ctl_msg_free(&m);
	return out->id ? 0 : -EINVAL;
}

int conv_upstreams(const json_t *settings, struct ctl_ip *out, unsigned *n)
{
	json_t *list = json_object_get(settings, "upstream_dns");
	struct ctl_msg m;
	int r;

	if (!list)
		list = json_array();
	else
		json_incref(list);
	r = decode(json_pack("{ssso}", "type", "dns_settings", "upstreams", list),
		   CTL_ROLE_CLIENT, &m);
	if (r < 0)
		return r;
	memcpy(out, m.upstreams, sizeof(m.upstreams));
	*n = m.n_upstreams;
	ctl_msg_free(&m);
	return 0;
}

int64_t conv_time(const json_t *row, const char *key)
{
	const char *s = json_string_value(json_object_get(row, key));
	struct tm tm = { 0 };
	const char *end;

	if (!s)
		return INT64_MAX;
	/* the store writes whole seconds in UTC: 2026-11-22T01:00:00Z */
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || strcmp(end, "Z") != 0)
		return INT64_MAX;
	return (int64_t)timegm(&tm);
}
