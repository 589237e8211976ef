/* The REST API's frame: authentication, the path, errors as JSON, the audit log.
 * The endpoints themselves are in api_routes.c. */
#include "portal/api_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/jsonx.h"
#include "lib/time.h"

#define AUTH_MAX 256 /* longer Authorization values are not ours */

int api_new(struct store *st, struct policy_engine *pe, struct api **out)
{
	struct api *a;

	if (!st || !pe)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->st = st;
	a->pe = pe;
	a->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	*out = a;
	return 0;
}

void api_free(struct api *a)
{
	free(a);
}

void api_set_clock(struct api *a, int64_t (*now)(void *arg), void *arg)
{
	a->now = now;
	a->now_arg = arg;
}

void api_set_flows_flush(struct api *a, void (*fn)(void *arg), void *arg)
{
	a->flows_flush = fn;
	a->flows_flush_arg = arg;
}

int64_t api_now(const struct api *a)
{
	if (a->now)
		return a->now(a->now_arg);
	return (int64_t)(time_real_ns() / NSEC_PER_SEC);
}

/* ---- errors ---------------------------------------------------------------- */

__attribute__((format(printf, 5, 0)))
static int fail_v(struct api_err *e, unsigned status, const char *code, const char *field,
		  const char *fmt, va_list ap)
{
	e->status = status;
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return -1;
}

int api_fail(struct api_err *e, unsigned status, const char *code, const char *field,
	     const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fail_v(e, status, code, field, fmt, ap);
	va_end(ap);
	return r;
}

int api_invalid(struct api_err *e, const char *field, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fail_v(e, 400, "validation", field, fmt, ap);
	va_end(ap);
	return r;
}

int api_nomem(struct api_err *e)
{
	return api_fail(e, 500, "internal", NULL, "out of memory");
}

int api_store_fail(struct api_err *e, int r, const struct store_err *se, bool ref_404)
{
	const char *field = se->field, *msg = se->msg[0] ? se->msg : strerror(-r);

	switch (r) {
	case -EINVAL:
		return api_fail(e, 400, field[0] ? "validation" : "bad_request", field, "%s",
				msg);
	case -ENOENT:
		if (!strcmp(field, "id") || !field[0] || ref_404)
			return api_fail(e, 404, "not_found", NULL, "%s", msg);
		return api_invalid(e, field, "%s", msg);
	case -EEXIST:
	case -ENOTEMPTY:
	case -ENOSPC:
	case -EPERM:
		return api_fail(e, 409, "conflict", field, "%s", msg);
	case -EOPNOTSUPP:
		return api_fail(e, 405, "method_not_allowed", NULL, "%s", msg);
	case -EACCES:
		return api_fail(e, 403, "forbidden", NULL, "%s", msg);
	case -EADDRINUSE: /* a gateway's key that a device has (store/tunnel.c) */
		return api_fail(e, 403, "key_in_use", field, "%s", msg);
	default: /* the database or memory: never the input */
		return api_fail(e, 500, "internal", NULL, "storage error: %s", msg);
	}
}

/* A string for a JSON answer: jansson takes only UTF-8, and what we quote may be
 * cut in the middle of a character or come from a query argument. */
static json_t *safe_string(const char *s)
{
	char buf[512];
	json_t *v = json_string(s);
	size_t i;

	if (v)
		return v;
	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ? '?' : s[i];
	buf[i] = '\0';
	return json_string(buf);
}

static json_t *error_body(const struct api_err *e)
{
	json_t *err = json_object(), *body = json_object();

	if (!err || !body ||
	    json_object_set_new(err, "code", json_string(e->code ? e->code : "internal")) ||
	    json_object_set_new(err, "message", safe_string(e->msg)) ||
	    (e->field[0] && json_object_set_new(err, "field", safe_string(e->field))) ||
	    json_object_set(body, "error", err)) {
		json_decref(err);
		json_decref(body);
		return NULL;
	}
	json_decref(err);
	return body;
}

int api_reply(struct api_ctx *c, unsigned status, json_t *body)
{
	c->resp->status = status;
	c->resp->body = body;
	return 0;
}

/* ---- requests -------------------------------------------------------------- */

int api_body(struct api_ctx *c, json_t **out)
{
	char why[160];

	if (!c->req->body_len)
		return api_fail(&c->err, 400, "bad_request", NULL,
				"a JSON object is required as the body");
	*out = jsonx_load_object(c->req->body, c->req->body_len, c->req->body_len, why,
				 sizeof(why));
	if (!*out)
		return api_fail(&c->err, 400, "bad_request", NULL, "the body: %s", why);
	return 0;
}

/* Keys whose values never go into the audit log. */
static const char *const secret_keys[] = { "secret", "secret_hash", "psk", "private_key",
					   "password", NULL };

static json_t *audit_detail(const json_t *detail)
{
	json_t *d;
	size_t n;

	if (!detail)
		return json_null();
	d = json_deep_copy(detail);
	if (!d)
		return NULL;
	for (size_t i = 0; json_is_object(d) && secret_keys[i]; i++)
		json_object_del(d, secret_keys[i]);
	n = json_dumpb(d, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
	if (n > API_AUDIT_MAX) { /* a big body (filters, conditions): say so instead */
		json_decref(d);
		d = json_pack("{s:b,s:I}", "truncated", 1, "bytes", (json_int_t)n);
	}
	return d;
}

int api_audit(struct api_ctx *c, const char *action, const char *entity, int64_t id,
	      const json_t *detail)
{
	json_t *row;
	int r = -ENOMEM;

	row = json_pack("{s:I,s:s,s:s,s:o,s:o*}", "token_id", (json_int_t)c->token_id,
			"action", action, "entity", entity, "entity_id",
			id ? json_integer(id) : json_null(), "detail", audit_detail(detail));
	if (row)
		r = store_set_audit(c->a->st, row);
	json_decref(row);
	return r < 0 ? api_nomem(&c->err) : 0;
}

void api_audit_done(struct api_ctx *c)
{
	store_set_audit(c->a->st, NULL);
}

/* 0 with the token's id for a valid admin token; -1 with 401 or 403. */
static int authenticate(struct api_ctx *c)
{
	enum store_token_kind kind;
	char copy[AUTH_MAX];
	int r;

	r = http_bearer(c->req->authorization, copy, sizeof(copy));
	if (r == -ENOENT)
		return api_fail(&c->err, 401, "unauthorized", NULL,
				"an admin token is required (Authorization: Bearer ...)");
	if (r < 0)
		return api_fail(&c->err, 401, "unauthorized", NULL,
				"malformed Authorization header (Bearer ...)");
	r = store_token_check(c->a->st, copy, &kind, NULL, &c->token_id);
	explicit_bzero(copy, sizeof(copy));
	if (r == -EACCES) {
		log_rl(&c->a->rl, LOG_LVL_INFO, "api: %s: refused a token", c->req->peer);
		return api_fail(&c->err, 401, "unauthorized", NULL,
				"unknown, revoked or expired token");
	}
	if (r < 0)
		return api_fail(&c->err, 500, "internal", NULL, "checking the token: %s",
				strerror(-r));
	if (kind != STORE_TOKEN_ADMIN) {
		log_rl(&c->a->rl, LOG_LVL_INFO, "api: %s: a %s token on the admin API",
		       c->req->peer, kind == STORE_TOKEN_CLIENT ? "client" : "site");
		return api_fail(&c->err, 403, "forbidden",
				NULL, "the admin API needs an admin token");
	}
	return 0;
}

int api_authorize(void *arg, const struct http_request *req)
{
	struct http_response resp = { 0 };
	struct api_ctx c = { .a = arg, .req = req, .resp = &resp };

	if (authenticate(&c) == 0 || c.err.status != 401)
		return 0; /* api_handle() answers 403 and 500 itself */
	return -EACCES;
}

/* Splits the path below the prefix into c->seg, in buf. */
static int split_path(struct api_ctx *c, char *buf, size_t len)
{
	const char *p = c->req->path;
	char *s, *slash;

	if (strncmp(p, API_PREFIX, strlen(API_PREFIX)))
		return api_fail(&c->err, 404, "not_found", NULL, "no such path");
	p += strlen(API_PREFIX);
	if (*p != '/' || strlen(p) >= len)
		return api_fail(&c->err, 404, "not_found", NULL, "no such path");
	memcpy(buf, p + 1, strlen(p));
	for (s = buf; c->nseg < sizeof(c->seg) / sizeof(c->seg[0]); s = slash + 1) {
		slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		if (!*s)
			break; /* empty segment: "//", a trailing or a lone "/" */
		c->seg[c->nseg++] = s;
		if (!slash)
			return 0;
	}
	return api_fail(&c->err, 404, "not_found", NULL, "no such path");
}

int api_handle(void *arg, const struct http_request *req, struct http_response *resp)
{
	struct api_ctx c = { .a = arg, .req = req, .resp = resp };
	char path[512];
	int r;

	resp->status = 0;
	resp->body = NULL;
	r = authenticate(&c);
	if (r == 0)
		r = split_path(&c, path, sizeof(path));
	if (r == 0)
		r = api_route(&c);
	if (r == 0)
		return 0;
	json_decref(resp->body);
	resp->status = c.err.status ? c.err.status : 500;
	resp->body = error_body(&c.err);
	if (resp->status >= 500)
		log_rl(&c.a->rl, LOG_LVL_WARN, "api: %s: %s", req->path, c.err.msg);
	return resp->body ? 0 : -ENOMEM;
}
