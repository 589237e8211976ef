/* Group membership: rows of group_members, with calls named for what the API does
 * (/groups/{id}/members). */
#include "store/store_priv.h"

#include <errno.h>

int store_member_add(struct store *st, int64_t group_id, int64_t user_id, json_t **out,
		     struct store_err *err)
{
	json_t *obj, *row = NULL;
	int r;

	obj = json_pack("{sIsI}", "group_id", (json_int_t)group_id, "user_id",
			(json_int_t)user_id);
	if (!obj)
		return store_fail(err, -ENOMEM, "", "out of memory");
	r = tx_begin(st, err);
	if (r == 0) {
		r = entity_insert(st, schema_entity("group_members"), obj, WM_ADMIN, &row, err);
		r = tx_end(st, r, err);
	}
	json_decref(obj);
	if (r == 0 && out)
		*out = row;
	else
		json_decref(row);
	return r;
}

static int member_id(void *arg, const struct sqlv *row, size_t n)
{
	if (n < 1 || row[0].type != SQLV_INT)
		return -EIO;
	*(int64_t *)arg = row[0].i;
	return 0;
}

int store_member_remove(struct store *st, int64_t group_id, int64_t user_id,
			struct store_err *err)
{
	struct sqlv args[2] = { { .type = SQLV_INT, .i = group_id },
				{ .type = SQLV_INT, .i = user_id } };
	int64_t id = 0;
	int r;

	r = tx_begin(st, err);
	if (r < 0)
		return r;
	r = st->ops->exec(st, "SELECT id FROM group_members WHERE group_id = ? AND user_id = ?",
			  args, 2, member_id, &id, err);
	if (r == 0 && !id)
		r = store_fail(err, -ENOENT, "user_id", "user %lld is not a member of group %lld",
			       (long long)user_id, (long long)group_id);
	if (r == 0)
		r = entity_delete(st, schema_entity("group_members"), id, err);
	return tx_end(st, r, err);
}

int store_member_list(struct store *st, int64_t group_id, int64_t after, size_t limit,
		      json_t **users, int64_t *next, struct store_err *err)
{
	const struct entity *u = schema_entity("users");
	struct sqlv args[3] = { { .type = SQLV_INT, .i = group_id },
				{ .type = SQLV_INT, .i = after },
				{ .type = SQLV_INT, .i = (int64_t)limit + 1 } };
	json_t *group = NULL;
	struct buf b;
	int r;

	if (limit > INT64_MAX - 1)
		return store_fail(err, -EINVAL, "limit", "limit out of range");
	r = entity_load(st, schema_entity("groups"), group_id, &group, err);
	if (r < 0)
		return r;
	json_decref(group);
	buf_init(&b, STORE_SQL_MAX);
	if (buf_printf(&b, "SELECT ") || sql_cols(&b, u, "u.") ||
	    buf_printf(&b, " FROM users u JOIN group_members m ON m.user_id = u.id"
			   " WHERE m.group_id = ? AND u.id > ? ORDER BY u.id%s",
		       limit ? " LIMIT ?" : ""))
		r = sql_fail(err);
	else
		r = rows_page(st, u, (char *)b.data, args, limit ? 3 : 2, limit, users, next,
			      err);
	buf_free(&b);
	return r;
}
