/* The endpoints of /api/v1 (docs/api.md): one table of collections with the
 * methods each allows, the fields a list may be filtered on, and the semantic
 * check of its writes; group members, clients' and tokens' revocation, token
 * creation and settings have handlers of their own. */
#include "portal/api_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum {
	M_LIST = 1 << 0,   /* GET /x */
	M_CREATE = 1 << 1, /* POST /x */
	M_GET = 1 << 2,    /* GET /x/{id} */
	M_PATCH = 1 << 3,
	M_DELETE = 1 << 4,
	M_REVOKE = 1 << 5, /* POST /x/{id}/revoke */
};

enum ftype { F_INT, F_TEXT, F_BOOL };

/* A field a list may be filtered on (?name=value). */
struct ffield {
	const char *name;
	enum ftype type;
	bool nullable; /* "null" selects rows without one */
};

typedef int (*check_fn)(struct api *a, const json_t *old, const json_t *in,
			struct api_err *e);

struct coll {
	const char *name; /* path segment and store entity */
	unsigned methods;
	check_fn check;
	const struct ffield *filters;
};

static const struct ffield f_sites[] = { { "name", F_TEXT, false }, { 0 } };
static const struct ffield f_gateways[] = {
	{ "site_id", F_INT, false }, { "name", F_TEXT, false },
	{ "public_key", F_TEXT, true }, { "endpoint", F_TEXT, true },
	{ "online", F_BOOL, false }, { 0 },
};
static const struct ffield f_resources[] = {
	{ "site_id", F_INT, false }, { "type", F_TEXT, false },
	{ "address", F_TEXT, false }, { "name", F_TEXT, false }, { 0 },
};
static const struct ffield f_users[] = {
	{ "name", F_TEXT, false }, { "email", F_TEXT, true },
	{ "disabled", F_BOOL, false }, { 0 },
};
static const struct ffield f_groups[] = { { "name", F_TEXT, false }, { 0 } };
static const struct ffield f_policies[] = {
	{ "group_id", F_INT, false }, { "resource_id", F_INT, false }, { 0 },
};
static const struct ffield f_clients[] = {
	{ "user_id", F_INT, false }, { "name", F_TEXT, false },
	{ "public_key", F_TEXT, false }, { "tunnel_ipv4", F_TEXT, false },
	{ "tunnel_ipv6", F_TEXT, false }, { 0 },
};
static const struct ffield f_tokens[] = {
	{ "kind", F_TEXT, false }, { "name", F_TEXT, false },
	{ "user_id", F_INT, true }, { "site_id", F_INT, true }, { 0 },
};
static const struct ffield f_flows[] = {
	{ "event", F_TEXT, false }, { "client_id", F_INT, true },
	{ "user_id", F_INT, true }, { "resource_id", F_INT, true },
	{ "gateway_id", F_INT, true }, { "protocol", F_TEXT, true }, { 0 },
};
static const struct ffield f_audit[] = {
	{ "token_id", F_INT, true }, { "action", F_TEXT, false },
	{ "entity", F_TEXT, false }, { "entity_id", F_INT, true }, { 0 },
};
static const struct ffield f_none[] = { { 0 } };

#define CRUD (M_LIST | M_CREATE | M_GET | M_PATCH | M_DELETE)

static const struct coll colls[] = {
	{ "sites", CRUD, NULL, f_sites },
	{ "gateways", CRUD, check_gateway, f_gateways },
	{ "resources", CRUD, check_resource, f_resources },
	{ "users", CRUD, check_user, f_users },
	{ "groups", CRUD, NULL, f_groups },
	{ "policies", CRUD, check_policy, f_policies },
	{ "clients", M_LIST | M_GET | M_PATCH | M_DELETE | M_REVOKE, check_name_only,
	  f_clients },
	{ "tokens", CRUD | M_REVOKE, check_name_only, f_tokens },
	{ "flows", M_LIST | M_GET, NULL, f_flows },
	{ "audit", M_LIST | M_GET, NULL, f_audit },
};

static const struct coll *coll_find(const char *name)
{
	for (size_t i = 0; i < N(colls); i++)
		if (!strcmp(colls[i].name, name))
			return &colls[i];
	return NULL;
}

static int not_allowed(struct api_ctx *c)
{
	static const char *const names[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

	return api_fail(&c->err, 405, "method_not_allowed", NULL, "%s is not allowed here",
			names[c->req->method]);
}

static int no_path(struct api_ctx *c)
{
	return api_fail(&c->err, 404, "not_found", NULL, "no such path");
}

/* A decimal integer in [min, INT64_MAX]: no sign, no leading zero, no junk. */
static bool parse_i64(const char *s, int64_t min, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (!s[0] || (s[0] == '0' && s[1]) || strlen(s) > 19)
		return false;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min)
		return false;
	*out = v;
	return true;
}

/* An id from the path; anything else names nothing there is. */
static int path_id(struct api_ctx *c, size_t i, int64_t *id)
{
	if (!parse_i64(c->seg[i], 1, id))
		return api_fail(&c->err, 404, "not_found", NULL, "no such %s", c->seg[0]);
	return 0;
}

/* ---- lists ----------------------------------------------------------------- */

#define bad_arg(c, name, ...) api_fail(&(c)->err, 400, "bad_request", name, __VA_ARGS__)

static int filter_value(struct api_ctx *c, const struct ffield *f, const char *v,
			json_t **out)
{
	int64_t i;

	if (f->nullable && !strcmp(v, "null")) {
		*out = json_null();
		return 0;
	}
	switch (f->type) {
	case F_INT:
		if (!parse_i64(v, 0, &i))
			return bad_arg(c, f->name, "%s must be a non-negative integer", f->name);
		*out = json_integer(i);
		break;
	case F_BOOL:
		if (strcmp(v, "true") && strcmp(v, "false"))
			return bad_arg(c, f->name, "%s must be true or false", f->name);
		*out = json_boolean(!strcmp(v, "true"));
		break;
	case F_TEXT:
		*out = json_string(v);
		if (!*out)
			return bad_arg(c, f->name, "%s must be UTF-8 text", f->name);
		break;
	}
	return *out ? 0 : api_nomem(&c->err);
}

/* One query argument "name=value" into the list's parameters. */
static int list_arg(struct api_ctx *c, const struct ffield *ff, const char *arg,
		    json_t *filter, int64_t *after, size_t *limit, unsigned *seen)
{
	const char *eq = strchr(arg, '='), *v = eq ? eq + 1 : "";
	char name[64];
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	json_t *val = NULL;
	int64_t i;

	if (n >= sizeof(name))
		return bad_arg(c, "", "unknown query argument (a long name)");
	memcpy(name, arg, n);
	name[n] = '\0';
	if (!strcmp(name, "limit") || !strcmp(name, "after")) {
		unsigned bit = name[0] == 'l' ? 1 : 2;

		if (*seen & bit)
			return bad_arg(c, name, "%s is given twice", name);
		*seen |= bit;
		if (bit == 1 && (!parse_i64(v, 1, &i) || i > API_LIMIT_MAX))
			return bad_arg(c, name, "limit must be 1 to %d", API_LIMIT_MAX);
		if (bit == 2 && !parse_i64(v, 0, &i))
			return bad_arg(c, name, "after must be an id (0 or more)");
		if (bit == 1)
			*limit = (size_t)i;
		else
			*after = i;
		return 0;
	}
	while (ff->name && strcmp(ff->name, name))
		ff++;
	if (!ff->name)
		return bad_arg(c, name, "unknown query argument %s", name);
	if (json_object_get(filter, name))
		return bad_arg(c, name, "%s is given twice", name);
	if (filter_value(c, ff, v, &val))
		return -1;
	if (json_object_set_new(filter, name, val))
		return api_nomem(&c->err);
	return 0;
}

static int list_args(struct api_ctx *c, const struct ffield *ff, json_t **filter,
		     int64_t *after, size_t *limit)
{
	const char *arg;
	unsigned seen = 0;

	*after = 0;
	*limit = API_LIMIT_DEFAULT;
	*filter = json_object();
	if (!*filter)
		return api_nomem(&c->err);
	for (unsigned i = 0; (arg = http_request_arg_at(c->req, i)); i++) {
		if (list_arg(c, ff, arg, *filter, after, limit, &seen)) {
			json_decref(*filter);
			*filter = NULL;
			return -1;
		}
	}
	return 0;
}

static int reply_page(struct api_ctx *c, json_t *items, int64_t next)
{
	json_t *body = json_pack("{s:o,s:o}", "items", items,
				 "next", next ? json_integer(next) : json_null());

	return body ? api_reply(c, 200, body) : api_nomem(&c->err);
}

static int do_list(struct api_ctx *c, const struct coll *k)
{
	struct store_err se = { 0 };
	json_t *filter, *items = NULL;
	int64_t after, next = 0;
	size_t limit;
	int r;

	if (list_args(c, k->filters, &filter, &after, &limit))
		return -1;
	r = store_list(c->a->st, k->name, filter, after, limit, &items, &next, &se);
	json_decref(filter);
	if (r < 0)
		return api_store_fail(&c->err, r, &se, false);
	return reply_page(c, items, next);
}

/* ---- one collection ---------------------------------------------------------- */

static int do_create(struct api_ctx *c, const struct coll *k)
{
	struct store_err se = { 0 };
	json_t *body, *row = NULL;
	int r;

	if (api_body(c, &body))
		return -1;
	if (k->check && k->check(c->a, NULL, body, &c->err)) {
		json_decref(body);
		return -1;
	}
	if (api_audit(c, "create", k->name, 0, body)) {
		json_decref(body);
		return -1;
	}
	r = store_create(c->a->st, k->name, body, &row, &se);
	api_audit_done(c);
	json_decref(body);
	if (r < 0)
		return api_store_fail(&c->err, r, &se, false);
	return api_reply(c, 201, row);
}

static int do_get(struct api_ctx *c, const struct coll *k, int64_t id)
{
	struct store_err se = { 0 };
	json_t *row = NULL;
	int r = store_get(c->a->st, k->name, id, &row, &se);

	return r < 0 ? api_store_fail(&c->err, r, &se, false) : api_reply(c, 200, row);
}

static int do_patch(struct api_ctx *c, const struct coll *k, int64_t id)
{
	struct store_err se = { 0 };
	json_t *body, *old = NULL, *row = NULL;
	int r;

	if (api_body(c, &body))
		return -1;
	r = store_get(c->a->st, k->name, id, &old, &se);
	if (r < 0) {
		json_decref(body);
		return api_store_fail(&c->err, r, &se, false);
	}
	if (k->check && k->check(c->a, old, body, &c->err)) {
		r = -1;
		goto out;
	}
	/* an empty patch changes nothing: no audit row */
	if (json_object_size(body) && api_audit(c, "update", k->name, id, body)) {
		r = -1;
		goto out;
	}
	r = store_update(c->a->st, k->name, id, body, &row, &se);
	api_audit_done(c);
	if (r < 0) {
		r = api_store_fail(&c->err, r, &se, false);
		goto out;
	}
	r = api_reply(c, 200, row);
out:
	json_decref(old);
	json_decref(body);
	return r;
}

static int do_delete(struct api_ctx *c, const struct coll *k, int64_t id)
{
	struct store_err se = { 0 };
	json_t *old = NULL;
	int r;

	/* the audit row keeps what was deleted: the id alone would soon name nothing */
	r = store_get(c->a->st, k->name, id, &old, &se);
	if (r == 0 && api_audit(c, "delete", k->name, id, old)) {
		json_decref(old);
		return -1;
	}
	if (r == 0)
		r = store_delete(c->a->st, k->name, id, &se);
	api_audit_done(c);
	json_decref(old);
	if (r < 0)
		return api_store_fail(&c->err, r, &se, false);
	return api_reply(c, 204, NULL);
}

static int do_revoke(struct api_ctx *c, const struct coll *k, int64_t id)
{
	struct store_err se = { 0 };
	json_t *row = NULL;
	int r;

	if (api_audit(c, "revoke", k->name, id, NULL))
		return -1;
	if (!strcmp(k->name, "clients"))
		r = store_client_revoke(c->a->st, id, &row, &se);
	else
		r = store_token_revoke(c->a->st, id, &row, &se);
	api_audit_done(c);
	if (r < 0)
		return api_store_fail(&c->err, r, &se, false);
	return api_reply(c, 200, row);
}

/* POST /tokens: the secret is in this answer and nowhere else, ever. */
static int token_create(struct api_ctx *c)
{
	char secret[STORE_TOKEN_SECRET_SIZE];
	struct store_err se = { 0 };
	struct token_req t;
	json_t *body, *row = NULL, *out;
	int r;

	if (api_body(c, &body))
		return -1;
	if (check_token_create(c->a, body, &t, &c->err)) {
		json_decref(body);
		return -1;
	}
	if (api_audit(c, "create", "tokens", 0, body)) {
		json_decref(body);
		return -1;
	}
	r = store_token_create(c->a->st, t.kind, t.name, t.owner_id, t.expires_at, secret,
			       &row, &se);
	api_audit_done(c);
	json_decref(body);
	if (r < 0)
		return api_store_fail(&c->err, r, &se, false);
	out = json_pack("{s:o,s:s}", "token", row, "secret", secret);
	sodium_memzero(secret, sizeof(secret));
	return out ? api_reply(c, 201, out) : api_nomem(&c->err);
}

static int route_coll(struct api_ctx *c, const struct coll *k)
{
	enum http_method m = c->req->method;
	int64_t id = 0;

	/* the hub writes flows in batches: a read sees every event so far */
	if (m == HTTP_GET && !strcmp(k->name, "flows") && c->a->flows_flush)
		c->a->flows_flush(c->a->flows_flush_arg);
	if (c->nseg == 1) {
		if (m == HTTP_GET && (k->methods & M_LIST))
			return do_list(c, k);
		if (m == HTTP_POST && (k->methods & M_CREATE))
			return !strcmp(k->name, "tokens") ? token_create(c) : do_create(c, k);
		return not_allowed(c);
	}
	if (path_id(c, 1, &id))
		return -1;
	if (c->nseg == 2) {
		if (m == HTTP_GET && (k->methods & M_GET))
			return do_get(c, k, id);
		if (m == HTTP_PATCH && (k->methods & M_PATCH))
			return do_patch(c, k, id);
		if (m == HTTP_DELETE && (k->methods & M_DELETE))
			return do_delete(c, k, id);
		return not_allowed(c);
	}
	if (c->nseg == 3 && !strcmp(c->seg[2], "revoke") && (k->methods & M_REVOKE))
		return m == HTTP_POST ? do_revoke(c, k, id) : not_allowed(c);
	return no_path(c);
}

/* ---- group members ------------------------------------------------------------- */

static int members_list(struct api_ctx *c, int64_t gid)
{
	struct store_err se = { 0 };
	json_t *filter, *items = NULL;
	int64_t after, next = 0;
	size_t limit;
	int r;

	if (list_args(c, f_none, &filter, &after, &limit))
		return -1;
	json_decref(filter);
	r = store_member_list(c->a->st, gid, after, limit, &items, &next, &se);
	if (r < 0)
		return api_store_fail(&c->err, r, &se, true);
	return reply_page(c, items, next);
}

/* The membership row of (gid, uid), NULL if there is none; -1 on failure. */
static int member_find(struct api_ctx *c, int64_t gid, int64_t uid, json_t **row)
{
	struct store_err se = { 0 };
	json_t *filter, *items = NULL;
	int r;

	*row = NULL;
	filter = json_pack("{s:I,s:I}", "group_id", (json_int_t)gid, "user_id", (json_int_t)uid);
	if (!filter)
		return api_nomem(&c->err);
	r = store_list(c->a->st, "group_members", filter, 0, 1, &items, NULL, &se);
	json_decref(filter);
	if (r < 0)
		return api_store_fail(&c->err, r, &se, true);
	*row = json_incref(json_array_get(items, 0));
	json_decref(items);
	return 0;
}

static int member_put(struct api_ctx *c, int64_t gid, int64_t uid)
{
	struct store_err se = { 0 };
	json_t *row = NULL, *detail;
	int r;

	detail = json_pack("{s:I,s:I}", "group_id", (json_int_t)gid, "user_id", (json_int_t)uid);
	r = !detail ? api_nomem(&c->err) : api_audit(c, "create", "group_members", 0, detail);
	json_decref(detail);
	if (r)
		return -1;
	/* A membership that is there already writes nothing, so no audit row. */
	r = store_member_add(c->a->st, gid, uid, &row, &se);
	api_audit_done(c);
	if (r == -EEXIST) { /* idempotent: the membership that is there */
		if (member_find(c, gid, uid, &row))
			return -1;
		if (row)
			return api_reply(c, 200, row);
	}
	if (r < 0)
		return api_store_fail(&c->err, r, &se, true);
	return api_reply(c, 200, row);
}

static int member_delete(struct api_ctx *c, int64_t gid, int64_t uid)
{
	struct store_err se = { 0 };
	json_t *row = NULL;
	int r;

	if (member_find(c, gid, uid, &row))
		return -1;
	if (row && api_audit(c, "delete", "group_members",
			     json_integer_value(json_object_get(row, "id")), row)) {
		json_decref(row);
		return -1;
	}
	r = store_member_remove(c->a->st, gid, uid, &se);
	api_audit_done(c);
	json_decref(row);
	if (r < 0)
		return api_store_fail(&c->err, r, &se, true);
	return api_reply(c, 204, NULL);
}

static int route_members(struct api_ctx *c)
{
	enum http_method m = c->req->method;
	int64_t gid = 0, uid = 0;

	if (path_id(c, 1, &gid))
		return -1;
	if (c->nseg == 3)
		return m == HTTP_GET ? members_list(c, gid) : not_allowed(c);
	if (!parse_i64(c->seg[3], 1, &uid))
		return api_fail(&c->err, 404, "not_found", NULL, "no such user");
	if (m == HTTP_PUT)
		return member_put(c, gid, uid);
	if (m == HTTP_DELETE)
		return member_delete(c, gid, uid);
	return not_allowed(c);
}

/* ---- settings ------------------------------------------------------------------- */

static int route_settings(struct api_ctx *c)
{
	struct store_err se = { 0 };
	json_t *body, *row = NULL;
	int r;

	if (c->nseg != 1)
		return no_path(c);
	if (c->req->method == HTTP_GET) {
		r = store_settings_get(c->a->st, &row, &se);
		return r < 0 ? api_store_fail(&c->err, r, &se, false) : api_reply(c, 200, row);
	}
	if (c->req->method != HTTP_PATCH)
		return not_allowed(c);
	if (api_body(c, &body))
		return -1;
	r = check_settings(c->a, body, &c->err);
	if (r == 0 && json_object_size(body))
		r = api_audit(c, "update", "settings", 0, body);
	if (r == 0) {
		r = store_settings_set(c->a->st, body, &row, &se);
		api_audit_done(c);
		if (r < 0)
			r = api_store_fail(&c->err, r, &se, false);
	}
	json_decref(body);
	return r < 0 ? r : api_reply(c, 200, row);
}

int api_route(struct api_ctx *c)
{
	const struct coll *k = coll_find(c->seg[0]);

	if (!strcmp(c->seg[0], "settings"))
		return route_settings(c);
	if (!strcmp(c->seg[0], "groups") && c->nseg >= 3 && !strcmp(c->seg[2], "members"))
		return route_members(c);
	if (!k)
		return no_path(c);
	return route_coll(c, k);
}
