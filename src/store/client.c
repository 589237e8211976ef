/* Devices and gateways as the portal sees them connect: a device is known by its
 * public key and keeps its tunnel addresses for life (tunnel.c quarantines them
 * when it is deleted); a gateway is online or not. */
#include "store/store_priv.h"

#include <errno.h>
#include <string.h>

static int client_by_key(struct store *st, const struct entity *e, const char *key,
			 json_t **row, struct store_err *err)
{
	struct sqlv arg = { .type = SQLV_TEXT, .s = key };
	json_t *rows;
	struct buf b;
	int r;

	*row = NULL;
	buf_init(&b, STORE_SQL_MAX);
	if (buf_printf(&b, "SELECT ") || sql_cols(&b, e, "") ||
	    buf_printf(&b, " FROM clients WHERE public_key = ?")) {
		buf_free(&b);
		return sql_fail(err);
	}
	r = rows_query(st, e, (char *)b.data, &arg, 1, &rows, err);
	buf_free(&b);
	if (r < 0)
		return r;
	*row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return 0;
}

/* A known device: checks that it is still the user's, records that it was seen. */
static int client_seen(struct store *st, const struct entity *e, int64_t user_id,
		       json_t **row, struct store_err *err)
{
	int64_t id = json_integer_value(json_object_get(*row, "id"));
	struct sqlv args[2] = { { .type = SQLV_INT, .i = store_now(st) },
				{ .type = SQLV_INT, .i = id } };
	int r;

	if (json_integer_value(json_object_get(*row, "user_id")) != user_id)
		return store_fail(err, -EPERM, "public_key",
				  "this public key belongs to another user's device");
	if (!json_is_null(json_object_get(*row, "revoked_at")))
		return store_fail(err, -EPERM, "public_key", "this device was revoked");
	/* last_seen is bookkeeping: written without a change event. */
	r = st->ops->exec(st, "UPDATE clients SET last_seen = ? WHERE id = ?", args, 2,
			  NULL, NULL, err);
	if (r < 0)
		return r;
	json_decref(*row);
	*row = NULL;
	return entity_load(st, e, id, row, err);
}

static int count_int(void *arg, const struct sqlv *row, size_t n)
{
	if (n < 1 || row[0].type != SQLV_INT)
		return -EIO;
	*(int64_t *)arg = row[0].i;
	return 0;
}

/* A new device of user_id: at most device_limit that are not revoked (a
 * revoked one can no longer connect; deleting it frees its place). */
static int client_room(struct store *st, int64_t user_id, struct store_err *err)
{
	struct sqlv arg = { .type = SQLV_INT, .i = user_id };
	int64_t limit = 0, n = 0;
	int r;

	r = store_setting_int(st, "device_limit", &limit, err);
	if (r == 0)
		r = st->ops->exec(st, "SELECT count(*) FROM clients"
				  " WHERE user_id = ? AND revoked_at IS NULL", &arg, 1, count_int,
				  &n, err);
	if (r == 0 && n >= limit)
		r = store_fail(err, -EDQUOT, "", "this user has %lld devices, the limit",
			       (long long)n);
	return r;
}

int store_client_upsert(struct store *st, int64_t user_id, const char *public_key,
			const char *name, json_t **out, struct store_err *err)
{
	const struct entity *e = schema_entity("clients");
	json_t *row = NULL, *obj = NULL;
	char ts[32];
	int r;

	if (!public_key)
		return store_fail(err, -EINVAL, "public_key", "public_key is required");
	r = tx_begin(st, err);
	if (r < 0)
		return r;
	r = client_by_key(st, e, public_key, &row, err);
	if (r == 0 && row) {
		r = client_seen(st, e, user_id, &row, err);
	} else if (r == 0 && (r = client_room(st, user_id, err)) == 0) {
		store_time_format(store_now(st), ts);
		obj = json_pack("{sIssssss}", "user_id", (json_int_t)user_id, "public_key",
				public_key, "name", name ? name : "", "last_seen", ts);
		if (!obj)
			r = store_fail(err, -EINVAL, "", "public_key and name must be UTF-8");
		else
			r = entity_insert(st, e, obj, WM_SYS, &row, err);
	}
	json_decref(obj);
	r = tx_end(st, r, err);
	if (r == 0 && out)
		*out = row;
	else
		json_decref(row);
	return r;
}

int store_client_revoke(struct store *st, int64_t id, json_t **out, struct store_err *err)
{
	json_t *row = NULL;
	int r;

	r = tx_begin(st, err);
	if (r < 0)
		return r;
	r = entity_stamp(st, schema_entity("clients"), id, "revoked_at", &row, err);
	r = tx_end(st, r, err);
	if (r == 0 && out)
		*out = row;
	else
		json_decref(row);
	return r;
}

int store_gateway_seen(struct store *st, int64_t id, bool online, json_t **out,
		       struct store_err *err)
{
	json_t *row = NULL, *patch;
	char ts[32];
	int r;

	store_time_format(store_now(st), ts);
	patch = json_pack("{sbss}", "online", online, "last_seen", ts);
	if (!patch)
		return store_fail(err, -ENOMEM, "", "out of memory");
	r = tx_begin(st, err);
	if (r == 0) {
		r = entity_update(st, schema_entity("gateways"), id, patch, WM_SYS, &row, err);
		r = tx_end(st, r, err);
	}
	json_decref(patch);
	if (r == 0 && out)
		*out = row;
	else
		json_decref(row);
	return r;
}
