#include "lib/jsonx.h"

#include <errno.h>
#include <stdio.h>

json_t *jsonx_load_object(const void *data, size_t len, size_t max_len, char *err,
			  size_t errlen)
{
	json_error_t jerr;
	json_t *v;

	if (len > max_len) {
		snprintf(err, errlen, "message too large (%zu bytes, limit %zu)", len, max_len);
		return NULL;
	}
	/* REJECT_DUPLICATES: two values for one key is an attack or a bug. */
	v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		snprintf(err, errlen, "%s", jerr.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(err, errlen, "not a JSON object");
		return NULL;
	}
	if (errlen)
		err[0] = '\0';
	return v;
}

static int jsonx_field(const json_t *obj, const char *key, json_t **out)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!v || json_is_null(v))
		return -ENOENT;
	*out = v;
	return 0;
}

int jsonx_get_str(const json_t *obj, const char *key, const char **out)
{
	json_t *v;
	int r = jsonx_field(obj, key, &v);

	if (r < 0)
		return r;
	if (!json_is_string(v))
		return -EINVAL;
	*out = json_string_value(v);
	return 0;
}

int jsonx_get_int(const json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_t *v;
	int64_t i;
	int r = jsonx_field(obj, key, &v);

	if (r < 0)
		return r;
	if (!json_is_integer(v))
		return -EINVAL;
	i = json_integer_value(v);
	if (i < min || i > max)
		return -EINVAL;
	*out = i;
	return 0;
}

int jsonx_get_bool(const json_t *obj, const char *key, bool *out)
{
	json_t *v;
	int r = jsonx_field(obj, key, &v);

	if (r < 0)
		return r;
	if (!json_is_boolean(v))
		return -EINVAL;
	*out = json_is_true(v);
	return 0;
}

int jsonx_get_array(const json_t *obj, const char *key, json_t **out)
{
	int r = jsonx_field(obj, key, out);

	if (r < 0)
		return r;
	return json_is_array(*out) ? 0 : -EINVAL;
}

int jsonx_get_object(const json_t *obj, const char *key, json_t **out)
{
	int r = jsonx_field(obj, key, out);

	if (r < 0)
		return r;
	return json_is_object(*out) ? 0 : -EINVAL;
}
