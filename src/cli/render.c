/* Tables and messages from the portal's JSON. See render.h. */
#include "cli/render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/table.h"
#include "lib/buf.h"

enum { VALUE_MAX = 1 << 20, MAX_COLS = 12 };

struct column {
	const char *header, *field;
	size_t max;        /* terminal columns, 0: no cap */
	const char *alt;   /* shown when field is null or absent */
	const char *port;  /* an integer field appended as "/N" (not for icmp) */
};

struct view {
	const char *name;
	struct column cols[MAX_COLS];
};

#define C(h, f, max) { h, f, max, NULL, NULL }

static const struct view views[] = {
	{ "sites", { C("ID", "id", 0), C("NAME", "name", 0), C("CREATED", "created_at", 0) } },
	{ "gateways", { C("ID", "id", 0), C("SITE", "site_id", 0), C("NAME", "name", 0),
			C("ONLINE", "online", 0), C("ENDPOINT", "endpoint", 0),
			C("TUNNEL IPV4", "tunnel_ipv4", 0), C("LAST SEEN", "last_seen", 0) } },
	{ "resources", { C("ID", "id", 0), C("SITE", "site_id", 0), C("TYPE", "type", 0),
			 C("ADDRESS", "address", 40), C("NAME", "name", 30),
			 C("FILTERS", "filters", 30), C("DESCRIPTION", "description", 40) } },
	{ "users", { C("ID", "id", 0), C("NAME", "name", 30), C("EMAIL", "email", 40),
		     C("DISABLED", "disabled", 0), C("CREATED", "created_at", 0) } },
	{ "members", { C("ID", "id", 0), C("NAME", "name", 30), C("EMAIL", "email", 40),
		       C("DISABLED", "disabled", 0) } },
	{ "groups", { C("ID", "id", 0), C("NAME", "name", 0), C("CREATED", "created_at", 0) } },
	{ "policies", { C("ID", "id", 0), C("GROUP", "group_id", 0),
			C("RESOURCE", "resource_id", 0), C("CONDITIONS", "conditions", 60),
			C("EXPIRES", "expires_at", 0), C("DESCRIPTION", "description", 40) } },
	{ "clients", { C("ID", "id", 0), C("USER", "user_id", 0), C("NAME", "name", 30),
		       C("TUNNEL IPV4", "tunnel_ipv4", 0), C("TUNNEL IPV6", "tunnel_ipv6", 0),
		       C("LAST SEEN", "last_seen", 0), C("REVOKED", "revoked_at", 0) } },
	{ "tokens", { C("ID", "id", 0), C("KIND", "kind", 0), C("NAME", "name", 30),
		      C("USER", "user_id", 0), C("SITE", "site_id", 0),
		      C("EXPIRES", "expires_at", 0), C("REVOKED", "revoked_at", 0),
		      C("LAST USED", "last_used_at", 0) } },
	/* One table for events and traffic: a traffic row's TIME is when its flow
	 * started (an event's: when it happened), and only traffic fills END,
	 * PROTO, RX and TX; only events have a REASON. */
	{ "flows", { C("ID", "id", 0), C("EVENT", "event", 0),
		     { "TIME", "start", 0, "time", NULL }, C("END", "end", 0),
		     C("CLIENT", "client_id", 0), C("USER", "user_id", 0),
		     C("RESOURCE", "resource_id", 0), C("GATEWAY", "gateway_id", 0),
		     { "PROTO", "protocol", 0, NULL, "port" }, C("RX", "rx_bytes", 0),
		     C("TX", "tx_bytes", 0), C("REASON", "reason", 40) } },
	{ "audit", { C("ID", "id", 0), C("TIME", "time", 0), C("TOKEN", "token_id", 0),
		     C("ACTION", "action", 0), C("ENTITY", "entity", 0),
		     C("ENTITY ID", "entity_id", 0), C("DETAIL", "detail", 60) } },
};

static const char *const day_names[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static int day_index(const char *d)
{
	for (int i = 0; i < 7; i++)
		if (d && strcmp(d, day_names[i]) == 0)
			return i;
	return -1;
}

/* ["mon","tue","wed","fri"] as "mon-wed,fri": runs of three or more days
 * become a range; anything unexpected is shown as it is. */
static int days_text(struct buf *b, const json_t *days)
{
	int idx[64];
	size_t n = json_array_size(days), i = 0, j;
	int r = 0;

	if (n > 64)
		n = 64;
	for (j = 0; j < n; j++)
		idx[j] = day_index(json_string_value(json_array_get(days, j)));
	while (i < n && r == 0) {
		const char *name = json_string_value(json_array_get(days, i));

		j = i;
		while (idx[i] >= 0 && j + 1 < n && idx[j + 1] == idx[j] + 1)
			j++;
		if (i > 0)
			r = buf_printf(b, ",");
		if (r == 0 && j >= i + 2) {
			r = buf_printf(b, "%s-%s", day_names[idx[i]], day_names[idx[j]]);
			i = j + 1;
		} else if (r == 0) {
			r = buf_printf(b, "%s", name ? name : "?");
			i++;
		}
	}
	return r;
}

static int filters_text(struct buf *b, const json_t *filters)
{
	size_t i;
	json_t *f;
	int r = 0;

	if (json_array_size(filters) == 0)
		return buf_printf(b, "all");
	json_array_foreach(filters, i, f) {
		const char *proto = json_string_value(json_object_get(f, "protocol"));
		const char *ports = json_string_value(json_object_get(f, "ports"));

		r = buf_printf(b, "%s%s%s%s", i ? ", " : "", proto ? proto : "?",
			       ports ? ":" : "", ports ? ports : "");
		if (r < 0)
			break;
	}
	return r;
}

static int conditions_text(struct buf *b, const json_t *c)
{
	const json_t *windows = json_object_get(c, "time_windows");
	const json_t *sources = json_object_get(c, "source_cidrs");
	const char *tz = json_string_value(json_object_get(c, "time_zone"));
	size_t i, start = b->len;
	json_t *w;
	int r = 0;

	json_array_foreach(windows, i, w) {
		const char *from = json_string_value(json_object_get(w, "start"));
		const char *to = json_string_value(json_object_get(w, "end"));

		if ((i && (r = buf_printf(b, ", ")) < 0) ||
		    (r = days_text(b, json_object_get(w, "days"))) < 0 ||
		    (r = buf_printf(b, " %s-%s", from ? from : "?", to ? to : "?")) < 0)
			return r;
	}
	if (tz && (r = buf_printf(b, "%s%s", b->len > start ? " " : "tz ", tz)) < 0)
		return r;
	json_array_foreach(sources, i, w) {
		const char *cidr = json_string_value(w);

		r = buf_printf(b, "%s%s", i ? ", " : b->len > start ? "; from " : "from ",
			       cidr ? cidr : "?");
		if (r < 0)
			return r;
	}
	if (b->len == start)
		r = buf_printf(b, "-");
	return r;
}

static int json_text(struct buf *b, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	int r;

	if (!s)
		return -ENOMEM;
	r = buf_printf(b, "%s", s);
	free(s);
	return r;
}

static int value_text(struct buf *b, const char *field, const json_t *v)
{
	size_t i;
	json_t *e;
	int r = 0;

	if (!v || json_is_null(v))
		return buf_printf(b, "-");
	if (field && strcmp(field, "filters") == 0 && json_is_array(v))
		return filters_text(b, v);
	if (field && strcmp(field, "conditions") == 0 && json_is_object(v))
		return conditions_text(b, v);
	switch (json_typeof(v)) {
	case JSON_STRING:
		return buf_printf(b, "%s", json_string_value(v));
	case JSON_INTEGER:
		return buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return buf_printf(b, "%g", json_real_value(v));
	case JSON_TRUE:
		return buf_printf(b, "yes");
	case JSON_FALSE:
		return buf_printf(b, "no");
	case JSON_ARRAY:
		if (json_array_size(v) == 0)
			return buf_printf(b, "-");
		json_array_foreach(v, i, e) {
			if (!json_is_string(e))
				return json_text(b, v);
		}
		json_array_foreach(v, i, e) {
			if ((r = buf_printf(b, "%s%s", i ? ", " : "", json_string_value(e))) < 0)
				break;
		}
		return r;
	default:
		return json_text(b, v);
	}
}

char *render_value(const char *field, const json_t *v)
{
	struct buf b;

	buf_init(&b, VALUE_MAX);
	if (buf_printf(&b, "%s", "") < 0 || value_text(&b, field, v) < 0) {
		/* Over the cap: what fits is enough for a terminal. */
		if (!b.data) {
			buf_free(&b);
			return NULL;
		}
		b.data[b.len] = '\0';
	}
	return (char *)b.data;
}

/* The text of one column of a list's row. */
static char *cell_text(const struct column *col, const json_t *item)
{
	const json_t *v = json_object_get(item, col->field);
	const json_t *port = col->port ? json_object_get(item, col->port) : NULL;
	const char *proto = json_string_value(v);
	struct buf b;

	if ((!v || json_is_null(v)) && col->alt)
		v = json_object_get(item, col->alt);
	if (!proto || !json_is_integer(port) || !strcmp(proto, "icmp"))
		return render_value(col->field, v);
	/* tcp/443 */
	buf_init(&b, VALUE_MAX);
	if (buf_printf(&b, "%s/%" JSON_INTEGER_FORMAT, proto, json_integer_value(port)) < 0) {
		buf_free(&b);
		return NULL;
	}
	return (char *)b.data;
}

static const struct view *view_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(views) / sizeof(views[0]); i++)
		if (strcmp(views[i].name, name) == 0)
			return &views[i];
	return NULL;
}

/* The columns of a view not in the table: the first item's fields. */
static size_t generic_columns(const json_t *items, struct column *cols)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	json_object_foreach(json_array_get(items, 0), key, v) {
		if (n == MAX_COLS)
			break;
		cols[n++] = (struct column)C(key, key, 40);
	}
	return n;
}

int render_list(FILE *out, const char *view, const json_t *items, bool no_header)
{
	const struct view *vw = view_find(view);
	struct column gen[MAX_COLS];
	const struct column *cols = vw ? vw->cols : gen;
	const char *headers[MAX_COLS], *cells[MAX_COLS];
	struct table *t;
	size_t ncols = 0, i;
	json_t *item;
	int r;

	if (vw)
		while (ncols < MAX_COLS && cols[ncols].header)
			ncols++;
	else
		ncols = generic_columns(items, gen);
	if (ncols == 0)
		return 0; /* nothing to show, not even headers */
	for (i = 0; i < ncols; i++)
		headers[i] = cols[i].header;
	r = table_new(ncols, headers, &t);
	if (r < 0)
		return r;
	for (i = 0; i < ncols; i++)
		table_set_max(t, i, cols[i].max);
	json_array_foreach(items, i, item) {
		char *text[MAX_COLS] = { NULL };

		for (size_t c = 0; c < ncols; c++) {
			text[c] = cell_text(&cols[c], item);
			cells[c] = text[c];
			if (!text[c])
				r = -ENOMEM;
		}
		if (r == 0)
			r = table_add_row(t, cells);
		for (size_t c = 0; c < ncols; c++)
			free(text[c]);
		if (r < 0)
			goto out;
	}
	r = table_print(t, out, no_header);
out:
	table_free(t);
	return r;
}

int render_object(FILE *out, const json_t *obj)
{
	static const char *const headers[] = { "FIELD", "VALUE" };
	struct table *t;
	const char *key;
	json_t *v;
	int r = table_new(2, headers, &t);

	if (r < 0)
		return r;
	json_object_foreach((json_t *)obj, key, v) {
		char *text = render_value(key, v);
		const char *cells[2] = { key, text };

		r = text ? table_add_row(t, cells) : -ENOMEM;
		free(text);
		if (r < 0)
			goto out;
	}
	r = table_print(t, out, 1);
out:
	table_free(t);
	return r;
}

void render_error(FILE *err, const char *prog, unsigned status, const char *body,
		  size_t len)
{
	json_t *j = json_loadb(body ? body : "", len, 0, NULL);
	json_t *e = json_object_get(j, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *field = json_string_value(json_object_get(e, "field"));
	char *s_code, *s_msg, *s_field;

	if (!code) {
		/* Not the portal's error format (a proxy?): a little of the body. */
		char head[201];

		snprintf(head, sizeof(head), "%.*s", (int)(len < 200 ? len : 200),
			 body ? body : "");
		s_msg = table_sanitize(head);
		fprintf(err, "%s: HTTP %u from the portal%s%s\n", prog, status,
			s_msg && s_msg[0] ? ": " : "", s_msg ? s_msg : "");
		free(s_msg);
		json_decref(j);
		return;
	}
	s_code = table_sanitize(code);
	s_msg = table_sanitize(msg ? msg : "");
	s_field = field ? table_sanitize(field) : NULL;
	fprintf(err, "%s: %s%s%s%s%s (HTTP %u)\n", prog, s_code ? s_code : "?",
		s_field ? ": " : "", s_field ? s_field : "",
		s_msg && s_msg[0] ? ": " : "", s_msg ? s_msg : "", status);
	free(s_code);
	free(s_msg);
	free(s_field);
	json_decref(j);
}
