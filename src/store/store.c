/* The generic half of the store: opening, transactions and their change events,
 * and the entity-named calls of store.h over the row code of entity.c. */
#include "store/store_priv.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int store_open(const char *path, struct store **out, struct store_err *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (sodium_init() < 0) /* for the token hashes; idempotent */
		return store_fail(err, -EIO, "", "libsodium cannot start");
	/* The only backend so far; a postgresql:// path will pick libpq's. */
	return store_sqlite_open(path, out, err);
}

static void events_drop(struct store_event *ev, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		json_decref(ev[i].row);
	free(ev);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	events_drop(st->ev, st->nev);
	json_decref(st->audit);
	st->ops->close(st);
}

int store_set_audit(struct store *st, const json_t *row)
{
	json_decref(st->audit);
	st->audit = NULL;
	if (row && !(st->audit = json_deep_copy(row)))
		return -ENOMEM;
	return 0;
}

/* The audit row of store_set_audit(), inside the write's transaction. */
static int audit_write(struct store *st, struct store_err *err)
{
	const struct entity *ae;
	json_t *row = st->audit;
	const char *ent = json_string_value(json_object_get(row, "entity"));
	int r;

	st->audit = NULL;
	r = entity_by_name("audit", &ae, err);
	if (r == 0 && json_is_null(json_object_get(row, "entity_id")) && ent) {
		for (size_t i = 0; i < st->nev; i++) {
			if (st->ev[i].ent && !strcmp(st->ev[i].ent->name, ent)) {
				r = json_object_set_new(row, "entity_id",
							json_integer(st->ev[i].id)) ? -ENOMEM : 0;
				break;
			}
		}
	}
	if (r == 0)
		r = entity_insert(st, ae, row, WM_ADMIN, NULL, err);
	json_decref(row);
	return r;
}

void store_set_change_cb(struct store *st, store_change_fn cb, void *arg)
{
	st->change_cb = cb;
	st->change_arg = arg;
}

void store_set_clock(struct store *st, int64_t (*now)(void *arg), void *arg)
{
	st->now = now;
	st->now_arg = arg;
}

int entity_by_name(const char *name, const struct entity **e, struct store_err *err)
{
	*e = name ? schema_entity(name) : NULL;
	if (!*e)
		return store_fail(err, -EINVAL, "", "unknown entity %s", name ? name : "(null)");
	return 0;
}

/* Takes the reference to row (also on failure). */
int event_add(struct store *st, const struct entity *e, int64_t id, enum store_action a,
	      json_t *row)
{
	struct store_event *ev;
	size_t cap;

	if (st->nev == st->evcap) {
		cap = st->evcap ? st->evcap * 2 : 8;
		ev = realloc(st->ev, cap * sizeof(*ev));
		if (!ev) {
			json_decref(row);
			return -ENOMEM;
		}
		st->ev = ev;
		st->evcap = cap;
	}
	st->ev[st->nev++] = (struct store_event){ e, id, a, row };
	return 0;
}

int tx_begin(struct store *st, struct store_err *err)
{
	int r;

	if (st->in_tx)
		return store_fail(err, -EDEADLK, "", "a store call inside a transaction");
	r = st->ops->begin(st, err);
	if (r < 0)
		return r;
	st->in_tx = true;
	return 0;
}

int tx_end(struct store *st, int r, struct store_err *err)
{
	struct store_event *ev;
	struct store_change ch;
	size_t i, n;

	if (r == 0 && st->audit)
		r = audit_write(st, err);
	json_decref(st->audit); /* the write took it, whatever its outcome */
	st->audit = NULL;
	if (r == 0)
		r = st->ops->commit(st, err);
	if (r < 0)
		st->ops->rollback(st);
	st->in_tx = false;
	/* Detached first: a callback may write, and so queue events of its own. */
	ev = st->ev;
	n = st->nev;
	st->ev = NULL;
	st->nev = st->evcap = 0;
	for (i = 0; r == 0 && st->change_cb && i < n; i++) {
		ch = (struct store_change){ ev[i].ent ? ev[i].ent->name : "settings",
					    ev[i].id, ev[i].action, ev[i].row };
		st->change_cb(st->change_arg, &ch);
	}
	events_drop(ev, n);
	return r;
}

/* Hands row to *out on success, drops it otherwise. */
static int give(int r, json_t *row, json_t **out)
{
	if (r == 0 && out)
		*out = row;
	else
		json_decref(row);
	return r;
}

int store_create(struct store *st, const char *entity, const json_t *in, json_t **out,
		 struct store_err *err)
{
	const struct entity *e;
	json_t *row = NULL;
	int r;

	r = entity_by_name(entity, &e, err);
	if (r < 0)
		return r;
	if (e->flags & ENT_NO_CREATE)
		return store_fail(err, -EOPNOTSUPP, "", "%s are created by their own call",
				  e->name);
	r = tx_begin(st, err);
	if (r < 0)
		return r;
	r = entity_insert(st, e, in, WM_ADMIN, &row, err);
	return give(tx_end(st, r, err), row, out);
}

int store_append(struct store *st, const char *entity, const json_t *objs,
		 struct store_err *err)
{
	const struct entity *e;
	size_t i;
	int r;

	r = entity_by_name(entity, &e, err);
	if (r < 0)
		return r;
	if (!(e->flags & ENT_LOG))
		return store_fail(err, -EOPNOTSUPP, "", "%s are not a log", e->name);
	if (!json_is_array(objs))
		return store_fail(err, -EINVAL, "", "expected an array of objects");
	r = tx_begin(st, err);
	if (r < 0)
		return r;
	for (i = 0; r == 0 && i < json_array_size(objs); i++)
		r = entity_insert(st, e, json_array_get(objs, i), WM_ADMIN, NULL, err);
	return tx_end(st, r, err);
}

int store_get(struct store *st, const char *entity, int64_t id, json_t **out,
	      struct store_err *err)
{
	const struct entity *e;
	json_t *row = NULL;
	int r;

	r = entity_by_name(entity, &e, err);
	if (r < 0)
		return r;
	r = entity_load(st, e, id, &row, err);
	return give(r, row, out);
}

int store_update(struct store *st, const char *entity, int64_t id, const json_t *patch,
		 json_t **out, struct store_err *err)
{
	const struct entity *e;
	json_t *row = NULL;
	int r;

	r = entity_by_name(entity, &e, err);
	if (r < 0)
		return r;
	if (e->flags & ENT_LOG)
		return store_fail(err, -EOPNOTSUPP, "", "%s are append-only", e->name);
	r = tx_begin(st, err);
	if (r < 0)
		return r;
	r = entity_update(st, e, id, patch, WM_ADMIN, &row, err);
	return give(tx_end(st, r, err), row, out);
}

int store_delete(struct store *st, const char *entity, int64_t id, struct store_err *err)
{
	const struct entity *e;
	int r;

	r = entity_by_name(entity, &e, err);
	if (r < 0)
		return r;
	if (e->flags & ENT_LOG)
		return store_fail(err, -EOPNOTSUPP, "", "%s are append-only (see store_prune)",
				  e->name);
	r = tx_begin(st, err);
	if (r < 0)
		return r;
	r = entity_delete(st, e, id, err);
	return tx_end(st, r, err);
}

static int count_row(void *arg, const struct sqlv *row, size_t n)
{
	(void)row;
	(void)n;
	++*(size_t *)arg;
	return 0;
}

int store_prune(struct store *st, const char *entity, int64_t before, size_t limit,
		size_t *count, struct store_err *err)
{
	const struct entity *e;
	struct sqlv args[2] = { { .type = SQLV_INT, .i = before },
				{ .type = SQLV_INT, .i = limit ? (int64_t)limit : -1 } };
	char sql[192];
	size_t n = 0;
	int r;

	r = entity_by_name(entity, &e, err);
	if (r < 0)
		return r;
	if (!(e->flags & ENT_LOG))
		return store_fail(err, -EOPNOTSUPP, "", "only logs are pruned");
	/* the time index finds the oldest rows; a negative LIMIT is no limit */
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id IN (SELECT id FROM %s WHERE "
		 "time < ? ORDER BY time, id LIMIT ?) RETURNING id", e->name, e->name);
	r = tx_begin(st, err);
	if (r < 0)
		return r;
	r = st->ops->exec(st, sql, args, 2, count_row, &n, err);
	r = tx_end(st, r, err);
	if (r == 0 && count)
		*count = n;
	return r;
}

/* The WHERE clause of a list: one equality per filter field. */
static int list_where(struct buf *b, const struct entity *e, const json_t *filter,
		      struct sqlv *args, char **own, size_t *nargs, struct store_err *err)
{
	const struct col *c;
	const char *key;
	json_t *v;
	int r;

	if (buf_printf(b, " WHERE 1 = 1"))
		return sql_fail(err);
	if (!filter)
		return 0;
	if (!json_is_object(filter))
		return store_fail(err, -EINVAL, "", "the filter must be an object");
	json_object_foreach((json_t *)filter, key, v) {
		c = schema_col(e, key);
		if (!c || (c->flags & COLF_HIDDEN))
			return store_fail(err, -EINVAL, key, "unknown field %s", key);
		if (c->type == COL_JSON)
			return store_fail(err, -EINVAL, key, "cannot filter on %s", key);
		if (*nargs >= STORE_MAX_COLS)
			return store_fail(err, -EINVAL, key, "too many filter fields");
		r = value_from_json(c, v, false, &args[*nargs], &own[*nargs], err);
		if (r < 0)
			return r;
		if (args[*nargs].type == SQLV_NULL) {
			r = buf_printf(b, " AND %s IS NULL", key);
		} else {
			r = buf_printf(b, c->flags & COLF_NOCASE ? " AND lower(%s) = lower(?)"
								 : " AND %s = ?", key);
			++*nargs;
		}
		if (r < 0)
			return sql_fail(err);
	}
	return 0;
}

int rows_page(struct store *st, const struct entity *e, const char *sql,
	      struct sqlv *args, size_t nargs, size_t limit, json_t **items,
	      int64_t *next, struct store_err *err)
{
	json_t *rows = NULL, *last;
	size_t n;
	int r;

	r = rows_query(st, e, sql, args, nargs, &rows, err);
	if (r < 0)
		return r;
	if (next)
		*next = 0;
	n = json_array_size(rows);
	/* One row more than the page was asked for: there is a next page. */
	if (limit && n > limit) {
		json_array_remove(rows, n - 1);
		last = json_array_get(rows, limit - 1);
		if (next)
			*next = json_integer_value(json_object_get(last, "id"));
	}
	return give(0, rows, items);
}

int store_list(struct store *st, const char *entity, const json_t *filter, int64_t after,
	       size_t limit, json_t **items, int64_t *next, struct store_err *err)
{
	const struct entity *e;
	struct sqlv args[STORE_MAX_COLS + 2];
	char *own[STORE_MAX_COLS] = { 0 };
	size_t i, nargs = 0;
	struct buf b;
	int r;

	r = entity_by_name(entity, &e, err);
	if (r < 0)
		return r;
	if (limit > INT64_MAX - 1)
		return store_fail(err, -EINVAL, "limit", "limit out of range");
	buf_init(&b, STORE_SQL_MAX);
	if (buf_printf(&b, "SELECT ") || sql_cols(&b, e, "") ||
	    buf_printf(&b, " FROM %s", e->name)) {
		r = sql_fail(err);
		goto out;
	}
	r = list_where(&b, e, filter, args, own, &nargs, err);
	if (r < 0)
		goto out;
	if (buf_printf(&b, " AND id > ? ORDER BY id%s", limit ? " LIMIT ?" : "")) {
		r = sql_fail(err);
		goto out;
	}
	args[nargs++] = (struct sqlv){ .type = SQLV_INT, .i = after };
	if (limit)
		args[nargs++] = (struct sqlv){ .type = SQLV_INT, .i = (int64_t)limit + 1 };
	r = rows_page(st, e, (char *)b.data, args, nargs, limit, items, next, err);
out:
	for (i = 0; i < STORE_MAX_COLS; i++)
		free(own[i]);
	buf_free(&b);
	return r;
}
