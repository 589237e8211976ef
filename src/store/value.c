/* Values between JSON and SQL: the type checks of the schema, RFC 3339 times, and
 * rows as JSON objects. */
#include "store/store_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/time.h"

#define TIME_MAX 253402300799ll /* 9999-12-31T23:59:59Z: four-digit years only */

int store_fail(struct store_err *err, int r, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return r;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return r;
}

int sql_fail(struct store_err *err)
{
	return store_fail(err, -ENOMEM, "", "statement too long or out of memory");
}

int64_t store_now(struct store *st)
{
	if (st->now)
		return st->now(st->now_arg);
	return (int64_t)(time_real_ns() / NSEC_PER_SEC);
}

static int digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int month_days(int y, int m)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

/* RFC 3339: a fraction is dropped, an offset applied, a leap second taken as :59.
 * Each test reads only past characters the previous ones found to be there. */
int store_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p;
	int64_t t;

	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
			return -EINVAL;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -EINVAL;
	if (sec == 60)
		sec = 59;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	if (t < 0 || t > TIME_MAX)
		return -EINVAL;
	*out = t;
	return 0;
}

void store_time_format(int64_t t, char out[32])
{
	time_t tt = (time_t)(t < 0 ? 0 : t > TIME_MAX ? TIME_MAX : t);
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int check_enum(const struct col *c, const char *s, struct store_err *err)
{
	char list[128] = "";
	size_t i, len = 0;

	for (i = 0; c->enums[i]; i++)
		if (!strcmp(c->enums[i], s))
			return 0;
	for (i = 0; c->enums[i] && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i ? ", " : "", c->enums[i]);
	return store_fail(err, -EINVAL, c->name, "%s must be one of: %s", c->name, list);
}

static int text_from_json(const struct col *c, const json_t *v, bool check,
			  struct sqlv *out, struct store_err *err)
{
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return store_fail(err, -EINVAL, c->name, "%s must be a string", c->name);
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return store_fail(err, -EINVAL, c->name, "%s contains a NUL character",
				  c->name);
	if (check) {
		n = utf8_chars(s);
		if (n < c->min || n > c->max)
			return store_fail(err, -EINVAL, c->name,
					  "%s must be %u to %u characters long", c->name,
					  c->min, c->max);
		if (c->enums && check_enum(c, s, err))
			return -EINVAL;
	}
	out->type = SQLV_TEXT;
	out->s = s;
	return 0;
}

static int json_col_from_json(const struct col *c, const json_t *v, bool check,
			      struct sqlv *out, char **own, struct store_err *err)
{
	if (c->json_kind == JSON_ARRAY && !json_is_array(v))
		return store_fail(err, -EINVAL, c->name, "%s must be an array", c->name);
	if (c->json_kind == JSON_OBJECT && !json_is_object(v))
		return store_fail(err, -EINVAL, c->name, "%s must be an object", c->name);
	if (c->json_kind == JSON_INTEGER && !json_is_integer(v))
		return store_fail(err, -EINVAL, c->name, "%s must be an integer", c->name);
	*own = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!*own)
		return store_fail(err, -ENOMEM, c->name, "out of memory");
	if (check && strlen(*own) > c->max)
		return store_fail(err, -EINVAL, c->name, "%s is larger than %u bytes",
				  c->name, c->max);
	out->type = SQLV_TEXT;
	out->s = *own;
	return 0;
}

int value_from_json(const struct col *c, const json_t *v, bool check, struct sqlv *out,
		    char **own, struct store_err *err)
{
	int64_t t;

	*own = NULL;
	memset(out, 0, sizeof(*out));
	if (!v || json_is_null(v)) {
		if (check && !(c->flags & COLF_NULLABLE))
			return store_fail(err, -EINVAL, c->name, "%s may not be null",
					  c->name);
		out->type = SQLV_NULL;
		return 0;
	}
	switch (c->type) {
	case COL_INT:
		if (!json_is_integer(v))
			return store_fail(err, -EINVAL, c->name, "%s must be an integer",
					  c->name);
		out->type = SQLV_INT;
		out->i = json_integer_value(v);
		if (check && c->ref && out->i <= 0)
			return store_fail(err, -EINVAL, c->name, "%s must be a positive id",
					  c->name);
		return 0;
	case COL_BOOL:
		if (!json_is_boolean(v))
			return store_fail(err, -EINVAL, c->name, "%s must be true or false",
					  c->name);
		out->type = SQLV_INT;
		out->i = json_is_true(v);
		return 0;
	case COL_TEXT:
		return text_from_json(c, v, check, out, err);
	case COL_TIME:
		if (!json_is_string(v) || store_time_parse(json_string_value(v), &t))
			return store_fail(err, -EINVAL, c->name,
					  "%s must be an RFC 3339 time (like 2026-11-22T01:00:00Z)",
					  c->name);
		out->type = SQLV_INT;
		out->i = t;
		return 0;
	case COL_JSON:
		return json_col_from_json(c, v, check, out, own, err);
	}
	return store_fail(err, -EINVAL, c->name, "%s has an unknown type", c->name);
}

json_t *value_to_json(const struct col *c, const struct sqlv *v)
{
	char ts[32];

	if (v->type == SQLV_NULL)
		return json_null();
	switch (c->type) {
	case COL_INT:
		return v->type == SQLV_INT ? json_integer(v->i) : NULL;
	case COL_BOOL:
		return v->type == SQLV_INT ? json_boolean(v->i) : NULL;
	case COL_TEXT:
		return v->type == SQLV_TEXT ? json_string(v->s) : NULL;
	case COL_TIME:
		if (v->type != SQLV_INT)
			return NULL;
		store_time_format(v->i, ts);
		return json_string(ts);
	case COL_JSON:
		return v->type == SQLV_TEXT ? json_loads(v->s, JSON_DECODE_ANY, NULL) : NULL;
	}
	return NULL;
}

int sql_cols(struct buf *b, const struct entity *e, const char *prefix)
{
	bool first = true;
	size_t i;
	int r;

	for (i = 0; i < e->ncols; i++) {
		if (e->cols[i].flags & COLF_HIDDEN)
			continue;
		r = buf_printf(b, "%s%s%s", first ? "" : ", ", prefix, e->cols[i].name);
		if (r < 0)
			return r;
		first = false;
	}
	return 0;
}

json_t *row_to_json(const struct entity *e, const struct sqlv *row, size_t n)
{
	json_t *o = json_object(), *v;
	size_t i, k = 0;

	if (!o)
		return NULL;
	for (i = 0; i < e->ncols; i++) {
		if (e->cols[i].flags & COLF_HIDDEN)
			continue;
		if (k >= n)
			goto fail;
		v = value_to_json(&e->cols[i], &row[k++]);
		if (!v || json_object_set_new(o, e->cols[i].name, v))
			goto fail;
	}
	if (k == n)
		return o;
fail:
	json_decref(o);
	return NULL;
}
