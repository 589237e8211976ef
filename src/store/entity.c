/* Rows of any entity, inside a transaction: insert, update and delete with the
 * schema's checks. References and unique fields are checked before the statement
 * so that the error can name the field; the database's constraints stay as the
 * backstop (and are what makes it safe with several writers, later). */
#include "store/store_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CASCADE_DEPTH 8

struct rows_ctx {
	const struct entity *e;
	json_t *rows;
	bool bad;
};

static int rows_add(void *arg, const struct sqlv *row, size_t n)
{
	struct rows_ctx *ctx = arg;
	json_t *o = row_to_json(ctx->e, row, n);

	if (!o || json_array_append_new(ctx->rows, o)) {
		ctx->bad = true;
		return -EIO;
	}
	return 0;
}

int rows_query(struct store *st, const struct entity *e, const char *sql,
	       const struct sqlv *args, size_t nargs, json_t **rows, struct store_err *err)
{
	struct rows_ctx ctx = { e, json_array(), false };
	int r;

	if (!ctx.rows)
		return store_fail(err, -ENOMEM, "", "out of memory");
	r = st->ops->exec(st, sql, args, nargs, rows_add, &ctx, err);
	if (ctx.bad)
		r = store_fail(err, -EIO, "", "unreadable %s row (corrupt, or out of memory)",
			       e->one);
	if (r < 0) {
		json_decref(ctx.rows);
		return r;
	}
	*rows = ctx.rows;
	return 0;
}

static int one_int(void *arg, const struct sqlv *row, size_t n)
{
	if (n < 1 || row[0].type != SQLV_INT)
		return -EIO;
	*(int64_t *)arg = row[0].i;
	return 0;
}

int entity_load(struct store *st, const struct entity *e, int64_t id, json_t **row,
		struct store_err *err)
{
	struct sqlv arg = { .type = SQLV_INT, .i = id };
	json_t *rows;
	struct buf b;
	int r;

	buf_init(&b, STORE_SQL_MAX);
	if (buf_printf(&b, "SELECT ") || sql_cols(&b, e, "") ||
	    buf_printf(&b, " FROM %s WHERE id = ?", e->name)) {
		buf_free(&b);
		return sql_fail(err);
	}
	r = rows_query(st, e, (char *)b.data, &arg, 1, &rows, err);
	buf_free(&b);
	if (r < 0)
		return r;
	if (json_array_size(rows) != 1) {
		json_decref(rows);
		return store_fail(err, -ENOENT, "id", "%s %lld not found", e->one,
				  (long long)id);
	}
	*row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return 0;
}

/* Is there a row of table with col = v (and id <> self unless self is 0)? */
static int row_exists(struct store *st, const char *table, const struct col *c,
		      const struct sqlv *v, const struct col *c2, const struct sqlv *v2,
		      int64_t self, struct store_err *err)
{
	struct sqlv args[3] = { *v };
	size_t n = 1;
	int64_t found = 0;
	char sql[256];
	int len, r;

	len = snprintf(sql, sizeof(sql),
		       c->flags & COLF_NOCASE ? "SELECT id FROM %s WHERE lower(%s) = lower(?)"
					      : "SELECT id FROM %s WHERE %s = ?",
		       table, c->name);
	if (c2) {
		args[n++] = *v2;
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND %s = ?", c2->name);
	}
	if (self) {
		args[n++] = (struct sqlv){ .type = SQLV_INT, .i = self };
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND id <> ?");
	}
	snprintf(sql + len, sizeof(sql) - (size_t)len, " LIMIT 1");
	r = st->ops->exec(st, sql, args, n, one_int, &found, err);
	return r < 0 ? r : found != 0;
}

/* A column's value in obj, converted without checks (they were made). */
static int obj_value(const struct col *c, const json_t *obj, struct sqlv *v, char **own)
{
	return value_from_json(c, json_object_get(obj, c->name), false, v, own, NULL);
}

static int ref_check(struct store *st, const struct col *c, const json_t *obj,
		     struct store_err *err)
{
	static const struct col id = { .name = "id", .type = COL_INT };
	const struct entity *target = schema_entity(c->ref);
	struct sqlv v;
	char *own;
	int r;

	r = obj_value(c, obj, &v, &own);
	if (r < 0 || v.type == SQLV_NULL)
		return r;
	r = row_exists(st, c->ref, &id, &v, NULL, NULL, 0, err);
	if (r == 0)
		return store_fail(err, -ENOENT, c->name, "%s %lld does not exist",
				  target ? target->one : c->ref, (long long)v.i);
	return r < 0 ? r : 0;
}

static int unique_check(struct store *st, const struct entity *e, const struct col *c,
			const json_t *obj, int64_t self, struct store_err *err)
{
	const struct col *c2 = c->unique_with ? schema_col(e, c->unique_with) : NULL;
	const struct entity *scope = c2 && c2->ref ? schema_entity(c2->ref) : NULL;
	struct sqlv v, v2;
	char *own = NULL, *own2 = NULL;
	int r;

	r = obj_value(c, obj, &v, &own);
	if (r == 0 && c2)
		r = obj_value(c2, obj, &v2, &own2);
	if (r < 0 || v.type == SQLV_NULL)
		goto out;
	r = row_exists(st, e->name, c, &v, c2, &v2, self, err);
	if (r > 0)
		r = store_fail(err, -EEXIST, c->name, "a %s with this %s already exists%s%s",
			       e->one, c->name, scope ? " in this " : "",
			       scope ? scope->one : "");
out:
	free(own);
	free(own2);
	return r < 0 ? r : 0;
}

/* References and uniqueness of the columns in `changed` (every column if NULL). */
static int rel_checks(struct store *st, const struct entity *e, const json_t *obj,
		      const json_t *changed, int64_t self, struct store_err *err)
{
	const struct col *c;
	bool touched;
	size_t i;
	int r;

	for (i = 1; i < e->ncols; i++) {
		c = &e->cols[i];
		touched = !changed || json_object_get(changed, c->name) ||
			  (c->unique_with && json_object_get(changed, c->unique_with));
		if (!touched)
			continue;
		if (c->ref && (!changed || json_object_get(changed, c->name))) {
			r = ref_check(st, c, obj, err);
			if (r < 0)
				return r;
		}
		if (c->flags & COLF_UNIQUE) {
			r = unique_check(st, e, c, obj, self, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Fields the caller may not give: unknown, hidden or system ones (for admins),
 * the id, and (update) fixed ones. */
static int fields_check(const struct entity *e, const json_t *in, enum write_mode mode,
			bool update, struct store_err *err)
{
	const struct col *c;
	const char *key;
	json_t *v;

	if (!json_is_object(in))
		return store_fail(err, -EINVAL, "", "expected a JSON object");
	json_object_foreach((json_t *)in, key, v) {
		c = schema_col(e, key);
		if (!c || (mode == WM_ADMIN && (c->flags & COLF_HIDDEN)))
			return store_fail(err, -EINVAL, key, "unknown field %s", key);
		if (c == &e->cols[0] || (mode == WM_ADMIN && (c->flags & COLF_SYS)))
			return store_fail(err, -EINVAL, key, "%s is read-only", key);
		if (update && (c->flags & COLF_FIXED))
			return store_fail(err, -EINVAL, key, "%s cannot be changed", key);
		if ((c->flags & COLF_REQUIRED) && json_is_null(v))
			return store_fail(err, -EINVAL, key, "%s is required", key);
	}
	return 0;
}

/* The object to insert: the input, tunnel addresses, defaults and times. */
static int insert_object(struct store *st, const struct entity *e, const json_t *in,
			 json_t *obj, struct store_err *err)
{
	const struct col *c;
	json_t *v;
	size_t i;
	int r;

	if (e->flags & ENT_TUNNEL) {
		r = tunnel_alloc(st, obj, err);
		if (r < 0)
			return r;
	}
	for (i = 1; i < e->ncols; i++) {
		c = &e->cols[i];
		if (json_object_get(in, c->name))
			continue;
		v = NULL;
		if (c->flags & COLF_NOW) {
			char ts[32];

			store_time_format(store_now(st), ts);
			v = json_string(ts);
		} else if (c->def) {
			v = json_loads(c->def, JSON_DECODE_ANY, NULL);
		} else {
			continue;
		}
		if (!v || json_object_set_new(obj, c->name, v))
			return store_fail(err, -ENOMEM, "", "out of memory");
	}
	return 0;
}

int entity_insert(struct store *st, const struct entity *e, const json_t *in,
		  enum write_mode mode, json_t **row, struct store_err *err)
{
	struct sqlv vals[STORE_MAX_COLS];
	char *own[STORE_MAX_COLS] = { 0 };
	json_t *obj = NULL, *out = NULL;
	const struct col *c;
	size_t i, n = 0;
	int64_t id = 0;
	struct buf b;
	int r;

	buf_init(&b, STORE_SQL_MAX);
	r = fields_check(e, in, mode, false, err);
	if (r == 0)
		r = tunnel_key_check(st, e, in, err);
	if (r < 0)
		goto out;
	obj = json_copy((json_t *)in);
	if (!obj) {
		r = store_fail(err, -ENOMEM, "", "out of memory");
		goto out;
	}
	r = insert_object(st, e, in, obj, err);
	if (r < 0)
		goto out;
	if (buf_printf(&b, "INSERT INTO %s (", e->name)) {
		r = sql_fail(err);
		goto out;
	}
	for (i = 1; i < e->ncols; i++) {
		c = &e->cols[i];
		if ((c->flags & COLF_REQUIRED) && !json_object_get(obj, c->name)) {
			r = store_fail(err, -EINVAL, c->name, "%s is required", c->name);
			goto out;
		}
		r = value_from_json(c, json_object_get(obj, c->name), true, &vals[n],
				    &own[n], err);
		if (r < 0)
			goto out;
		if (buf_printf(&b, "%s%s", n ? ", " : "", c->name)) {
			r = sql_fail(err);
			goto out;
		}
		n++;
	}
	if (buf_printf(&b, ") VALUES (")) {
		r = sql_fail(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (buf_printf(&b, "%s?", i ? ", " : "")) {
			r = sql_fail(err);
			goto out;
		}
	}
	if (buf_printf(&b, ") RETURNING id")) {
		r = sql_fail(err);
		goto out;
	}
	r = rel_checks(st, e, obj, NULL, 0, err);
	if (r == 0)
		r = st->ops->exec(st, (char *)b.data, vals, n, one_int, &id, err);
	if (r == 0)
		r = entity_load(st, e, id, &out, err);
	if (r == 0)
		r = event_add(st, e, id, STORE_CREATE, json_incref(out));
out:
	for (i = 0; i < STORE_MAX_COLS; i++)
		free(own[i]);
	buf_free(&b);
	json_decref(obj);
	if (r == 0 && row)
		*row = out;
	else
		json_decref(out);
	return r;
}

static int update_sql(struct buf *b, const struct entity *e, const json_t *patch,
		      struct sqlv *vals, char **own, size_t *n, struct store_err *err)
{
	const struct col *c;
	const char *key;
	json_t *v;
	int r;

	if (buf_printf(b, "UPDATE %s SET ", e->name))
		return sql_fail(err);
	json_object_foreach((json_t *)patch, key, v) {
		c = schema_col(e, key);
		r = value_from_json(c, v, true, &vals[*n], &own[*n], err);
		if (r < 0)
			return r;
		if (buf_printf(b, "%s%s = ?", *n ? ", " : "", key))
			return sql_fail(err);
		++*n;
	}
	if (buf_printf(b, " WHERE id = ?"))
		return sql_fail(err);
	return 0;
}

int entity_update(struct store *st, const struct entity *e, int64_t id,
		  const json_t *patch, enum write_mode mode, json_t **row,
		  struct store_err *err)
{
	struct sqlv vals[STORE_MAX_COLS + 1];
	char *own[STORE_MAX_COLS + 1] = { 0 };
	json_t *old = NULL, *merged = NULL, *out = NULL;
	size_t i, n = 0;
	struct buf b;
	int r;

	buf_init(&b, STORE_SQL_MAX);
	r = fields_check(e, patch, mode, true, err);
	if (r == 0)
		r = entity_load(st, e, id, &old, err);
	if (r == 0)
		r = tunnel_key_check(st, e, patch, err);
	if (r < 0)
		goto out;
	if (json_object_size(patch) == 0) {
		out = json_incref(old); /* nothing to write, nothing to report */
		goto out;
	}
	merged = json_copy(old);
	if (!merged || json_object_update(merged, (json_t *)patch)) {
		r = store_fail(err, -ENOMEM, "", "out of memory");
		goto out;
	}
	r = update_sql(&b, e, patch, vals, own, &n, err);
	if (r < 0)
		goto out;
	vals[n++] = (struct sqlv){ .type = SQLV_INT, .i = id };
	r = rel_checks(st, e, merged, patch, id, err);
	if (r == 0)
		r = st->ops->exec(st, (char *)b.data, vals, n, NULL, NULL, err);
	if (r == 0)
		r = entity_load(st, e, id, &out, err);
	if (r == 0)
		r = event_add(st, e, id, STORE_UPDATE, json_incref(out));
out:
	for (i = 0; i <= STORE_MAX_COLS; i++)
		free(own[i]);
	buf_free(&b);
	json_decref(old);
	json_decref(merged);
	if (r == 0 && row)
		*row = out;
	else
		json_decref(out);
	return r;
}

static int dependents(struct store *st, const struct entity *e, int64_t id, int depth,
		      struct store_err *err);

/* Rows of d whose c refers to (e, id): refused, or deleted along with it. */
static int dependents_of(struct store *st, const struct entity *e, int64_t id,
			 const struct entity *d, const struct col *c, int depth,
			 struct store_err *err)
{
	struct sqlv v = { .type = SQLV_INT, .i = id };
	json_t *rows = NULL, *row;
	struct buf b;
	size_t i;
	int64_t rid;
	int r;

	if (c->on_delete == FK_RESTRICT) {
		r = row_exists(st, d->name, c, &v, NULL, NULL, 0, err);
		if (r > 0)
			r = store_fail(err, -ENOTEMPTY, d->name,
				       "%s %lld still has %s: delete them first", e->one,
				       (long long)id, d->name);
		return r < 0 ? r : 0;
	}
	buf_init(&b, STORE_SQL_MAX);
	if (buf_printf(&b, "SELECT ") || sql_cols(&b, d, "") ||
	    buf_printf(&b, " FROM %s WHERE %s = ?", d->name, c->name))
		r = sql_fail(err);
	else
		r = rows_query(st, d, (char *)b.data, &v, 1, &rows, err);
	buf_free(&b);
	json_array_foreach(rows, i, row) {
		if (r < 0)
			break;
		rid = json_integer_value(json_object_get(row, "id"));
		r = dependents(st, d, rid, depth + 1, err);
		if (r == 0 && (d->flags & ENT_TUNNEL))
			r = tunnel_release(st, row, err);
		if (r == 0)
			r = event_add(st, d, rid, STORE_DELETE, json_incref(row));
	}
	json_decref(rows);
	return r;
}

/* Checks the restrictions and reports the rows the database will delete with
 * (e, id). The schema has no two paths to one row, so none is reported twice. */
static int dependents(struct store *st, const struct entity *e, int64_t id, int depth,
		      struct store_err *err)
{
	const struct entity *all;
	size_t n, i, j;
	int r;

	if (depth > CASCADE_DEPTH)
		return store_fail(err, -ELOOP, "", "references nest too deep");
	all = schema_entities(&n);
	for (i = 0; i < n; i++) {
		for (j = 1; j < all[i].ncols; j++) {
			const struct col *c = &all[i].cols[j];

			if (!c->ref || strcmp(c->ref, e->name) || c->on_delete == FK_NONE)
				continue;
			r = dependents_of(st, e, id, &all[i], c, depth, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int entity_delete(struct store *st, const struct entity *e, int64_t id,
		  struct store_err *err)
{
	struct sqlv arg = { .type = SQLV_INT, .i = id };
	json_t *old = NULL;
	char sql[128];
	int r;

	r = entity_load(st, e, id, &old, err);
	if (r < 0)
		return r;
	r = dependents(st, e, id, 0, err);
	if (r < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?", e->name);
	r = st->ops->exec(st, sql, &arg, 1, NULL, NULL, err);
	if (r == -ENOENT) /* a restricting reference the checks did not see */
		r = store_fail(err, -ENOTEMPTY, "", "%s %lld is still referenced", e->one,
			       (long long)id);
	if (r == 0 && (e->flags & ENT_TUNNEL))
		r = tunnel_release(st, old, err);
	if (r < 0)
		goto fail;
	return event_add(st, e, id, STORE_DELETE, old);
fail:
	json_decref(old);
	return r;
}

int entity_stamp(struct store *st, const struct entity *e, int64_t id, const char *field,
		 json_t **row, struct store_err *err)
{
	json_t *old = NULL, *patch;
	char ts[32];
	int r;

	r = entity_load(st, e, id, &old, err);
	if (r < 0)
		return r;
	if (!json_is_null(json_object_get(old, field))) {
		*row = old; /* the first time stays */
		return 0;
	}
	json_decref(old);
	store_time_format(store_now(st), ts);
	patch = json_pack("{ss}", field, ts);
	if (!patch)
		return store_fail(err, -ENOMEM, "", "out of memory");
	r = entity_update(st, e, id, patch, WM_SYS, row, err);
	json_decref(patch);
	return r;
}
