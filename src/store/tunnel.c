/* What clients (devices) and gateways, the tunnel's peers, share: one pool of
 * tunnel addresses and one space of public keys.
 *
 * Addresses: a pair (IPv4 in 100.64.0.0/10's first /11, IPv6 in fd00:2021:1111::/107)
 * numbered n = 1 .. TUNNEL_MAX. A deleted peer's n goes to tunnel_free with the
 * time it was freed; the oldest one freed at least address_quarantine_seconds
 * ago is taken before a new n from the counter. The quarantine is for the
 * others: a gateway may still hold the old peer's allowed IPs, a log line its
 * address, until they learn of the deletion. The UNIQUE columns still guard
 * that no two live rows share an address.
 *
 * Keys: a device and a gateway never have the same public key (each table's
 * own UNIQUE keeps it within one), so that no device can stand for a gateway
 * in a handshake, nor a gateway for a device. */
#include "store/store_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TUNNEL_MAX ((1 << 21) - 2) /* host part of the /11 and the /107, not all-ones */

static int one_int(void *arg, const struct sqlv *row, size_t n)
{
	if (n < 1 || row[0].type != SQLV_INT)
		return -EIO;
	*(int64_t *)arg = row[0].i;
	return 0;
}

static int one_text(void *arg, const struct sqlv *row, size_t n)
{
	char **out = arg;

	if (n < 1 || row[0].type != SQLV_TEXT)
		return -EIO;
	free(*out);
	*out = strdup(row[0].s);
	return *out ? 0 : -ENOMEM;
}

int store_setting_int(struct store *st, const char *key, int64_t *out,
		      struct store_err *err)
{
	const struct col *c = schema_col(schema_settings(), key);
	struct sqlv arg = { .type = SQLV_TEXT, .s = key };
	json_t *v = NULL;
	char *text = NULL;
	int r;

	if (!c || !c->def)
		return store_fail(err, -EINVAL, key, "unknown setting %s", key);
	r = st->ops->exec(st, "SELECT value FROM settings WHERE key = ?", &arg, 1,
			  one_text, &text, err);
	if (r < 0)
		return r;
	v = json_loads(text ? text : c->def, JSON_DECODE_ANY, NULL);
	free(text);
	if (!json_is_integer(v)) {
		json_decref(v);
		return store_fail(err, -EIO, key, "setting %s is not an integer", key);
	}
	*out = json_integer_value(v);
	json_decref(v);
	return 0;
}

static int pair_set(json_t *obj, int64_t n, struct store_err *err)
{
	uint8_t a4[4] = { 100, 64, 0, 0 };
	uint8_t a6[16] = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 };
	char s4[INET_ADDRSTRLEN], s6[INET6_ADDRSTRLEN];
	uint32_t h = (uint32_t)n;

	a4[1] |= (uint8_t)(h >> 16);
	a4[2] = (uint8_t)(h >> 8);
	a4[3] = (uint8_t)h;
	a6[13] = (uint8_t)(h >> 16);
	a6[14] = (uint8_t)(h >> 8);
	a6[15] = (uint8_t)h;
	inet_ntop(AF_INET, a4, s4, sizeof(s4));
	inet_ntop(AF_INET6, a6, s6, sizeof(s6));
	if (json_object_set_new(obj, "tunnel_ipv4", json_string(s4)) ||
	    json_object_set_new(obj, "tunnel_ipv6", json_string(s6)))
		return store_fail(err, -ENOMEM, "", "out of memory");
	return 0;
}

/* The number of a row's pair, from its IPv4 address; 0 if it is none of ours. */
static int64_t pair_number(const json_t *row)
{
	const char *s = json_string_value(json_object_get(row, "tunnel_ipv4"));
	uint8_t a4[4];
	int64_t n;

	if (!s || inet_pton(AF_INET, s, a4) != 1 || a4[0] != 100 || (a4[1] & 0xe0) != 64)
		return 0;
	n = (int64_t)(a4[1] & 0x1f) << 16 | (int64_t)a4[2] << 8 | a4[3];
	return n >= 1 && n <= TUNNEL_MAX ? n : 0;
}

/* The oldest freed number out of quarantine, taken; 0 if none. */
static int reuse(struct store *st, int64_t *n, struct store_err *err)
{
	struct sqlv arg = { .type = SQLV_INT };
	int64_t q = 0;
	int r;

	*n = 0;
	r = store_setting_int(st, "address_quarantine_seconds", &q, err);
	if (r < 0)
		return r;
	arg.i = store_now(st) - q;
	r = st->ops->exec(st, "SELECT n FROM tunnel_free WHERE freed_at <= ?"
			  " ORDER BY freed_at, n LIMIT 1", &arg, 1, one_int, n, err);
	if (r < 0 || !*n)
		return r;
	arg.i = *n;
	return st->ops->exec(st, "DELETE FROM tunnel_free WHERE n = ?", &arg, 1, NULL, NULL,
			     err);
}

int tunnel_alloc(struct store *st, json_t *obj, struct store_err *err)
{
	struct sqlv arg = { .type = SQLV_INT };
	int64_t n = 0;
	int r;

	r = reuse(st, &n, err);
	if (r < 0)
		return r;
	if (n)
		return pair_set(obj, n, err);
	r = st->ops->exec(st, "SELECT next FROM alloc WHERE name = 'tunnel'", NULL, 0,
			  one_int, &n, err);
	if (r < 0)
		return r;
	if (n < 1 || n > TUNNEL_MAX)
		return store_fail(err, -ENOSPC, "tunnel_ipv4",
				  "the tunnel address pool is used up");
	arg.i = n + 1;
	r = st->ops->exec(st, "UPDATE alloc SET next = ? WHERE name = 'tunnel'", &arg, 1,
			  NULL, NULL, err);
	return r < 0 ? r : pair_set(obj, n, err);
}

int tunnel_release(struct store *st, const json_t *row, struct store_err *err)
{
	struct sqlv args[2] = { { .type = SQLV_INT, .i = pair_number(row) },
				{ .type = SQLV_INT, .i = store_now(st) } };

	if (!args[0].i)
		return 0;
	return st->ops->exec(st, "INSERT OR REPLACE INTO tunnel_free (n, freed_at) VALUES (?, ?)",
			     args, 2, NULL, NULL, err);
}

int tunnel_key_check(struct store *st, const struct entity *e, const json_t *in,
		     struct store_err *err)
{
	const struct entity *all;
	struct sqlv arg = { .type = SQLV_TEXT };
	size_t n;
	int r;

	arg.s = json_string_value(json_object_get(in, "public_key"));
	if (!(e->flags & ENT_TUNNEL) || !arg.s)
		return 0;
	all = schema_entities(&n);
	for (size_t i = 0; i < n; i++) {
		int64_t found = 0;
		char sql[128];

		if (&all[i] == e || !(all[i].flags & ENT_TUNNEL))
			continue;
		snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE public_key = ? LIMIT 1",
			 all[i].name);
		r = st->ops->exec(st, sql, &arg, 1, one_int, &found, err);
		if (r < 0)
			return r;
		if (found)
			return store_fail(err, -EADDRINUSE, "public_key",
					  "this public key is a %s's", all[i].one);
	}
	return 0;
}
