/* Settings: one key-value row per setting, values as JSON text, each key described
 * by a column of schema_settings(); an absent key has its default. */
#include "store/store_priv.h"

#include <errno.h>
#include <stdlib.h>

static int setting_row(void *arg, const struct sqlv *row, size_t n)
{
	const struct entity *s = schema_settings();
	json_t *obj = arg, *v;

	if (n != 2 || row[0].type != SQLV_TEXT || row[1].type != SQLV_TEXT)
		return -EIO;
	if (!schema_col(s, row[0].s))
		return 0; /* a key no version of this code knows: left alone */
	v = json_loads(row[1].s, JSON_DECODE_ANY, NULL);
	if (!v || json_object_set_new(obj, row[0].s, v))
		return -EIO;
	return 0;
}

static int settings_load(struct store *st, json_t **out, struct store_err *err)
{
	const struct entity *s = schema_settings();
	json_t *obj = json_object(), *v;
	size_t i;
	int r;

	if (!obj)
		return store_fail(err, -ENOMEM, "", "out of memory");
	for (i = 0; i < s->ncols; i++) {
		v = json_loads(s->cols[i].def, JSON_DECODE_ANY, NULL);
		if (!v || json_object_set_new(obj, s->cols[i].name, v)) {
			json_decref(obj);
			return store_fail(err, -ENOMEM, "", "out of memory");
		}
	}
	r = st->ops->exec(st, "SELECT key, value FROM settings", NULL, 0, setting_row, obj,
			  err);
	if (r < 0) {
		json_decref(obj);
		return r == -EIO ? store_fail(err, r, "", "unreadable settings") : r;
	}
	*out = obj;
	return 0;
}

int store_settings_get(struct store *st, json_t **out, struct store_err *err)
{
	return settings_load(st, out, err);
}

/* One key: a null value deletes it, so that it has its default again. */
static int setting_write(struct store *st, const struct col *c, const json_t *v,
			 struct store_err *err)
{
	struct sqlv args[2] = { { .type = SQLV_TEXT, .s = c->name } };
	char *own = NULL;
	int r;

	if (json_is_null(v))
		return st->ops->exec(st, "DELETE FROM settings WHERE key = ?", args, 1, NULL,
				     NULL, err);
	r = value_from_json(c, v, true, &args[1], &own, err);
	if (r == 0 && c->type != COL_JSON)
		r = store_fail(err, -EINVAL, c->name, "only JSON settings are stored");
	if (r == 0)
		r = st->ops->exec(st,
				  "INSERT INTO settings (key, value) VALUES (?, ?)"
				  " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
				  args, 2, NULL, NULL, err);
	free(own);
	return r;
}

int store_settings_set(struct store *st, const json_t *patch, json_t **out,
		       struct store_err *err)
{
	const struct entity *s = schema_settings();
	json_t *v, *obj = NULL;
	const struct col *c;
	const char *key;
	int r;

	if (!json_is_object(patch))
		return store_fail(err, -EINVAL, "", "expected a JSON object");
	json_object_foreach((json_t *)patch, key, v) {
		if (!schema_col(s, key))
			return store_fail(err, -EINVAL, key, "unknown setting %s", key);
	}
	r = tx_begin(st, err);
	if (r < 0)
		return r;
	json_object_foreach((json_t *)patch, key, v) {
		c = schema_col(s, key);
		r = setting_write(st, c, v, err);
		if (r < 0)
			break;
	}
	if (r == 0)
		r = settings_load(st, &obj, err);
	if (r == 0 && json_object_size(patch))
		r = event_add(st, NULL, 0, STORE_UPDATE, json_incref(obj));
	r = tx_end(st, r, err);
	if (r == 0 && out)
		*out = obj;
	else
		json_decref(obj);
	return r;
}
