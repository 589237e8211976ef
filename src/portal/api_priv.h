/* Shared by the API's files: api.c (auth, routing, errors, audit), api_routes.c
 * (the endpoints) and api_check.c (semantic validation). No one else includes it. */
#ifndef SLUICE_PORTAL_API_PRIV_H
#define SLUICE_PORTAL_API_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"
#include "portal/api.h"
#include "store/store.h"

#define API_LIMIT_DEFAULT 100
#define API_LIMIT_MAX 500
#define API_AUDIT_MAX 16384 /* the store's cap on an audit row's detail */

struct api {
	struct store *st;
	struct policy_engine *pe;
	int64_t (*now)(void *arg);
	void *now_arg;
	void (*flows_flush)(void *arg); /* api_set_flows_flush() */
	void *flows_flush_arg;
	struct log_ratelimit rl;
};

/* Why a request failed: the status, the code of docs/api.md and the field. */
struct api_err {
	unsigned status;
	const char *code;
	char field[96];
	char msg[256];
};

/* One request being answered. */
struct api_ctx {
	struct api *a;
	const struct http_request *req;
	struct http_response *resp;
	int64_t token_id;
	/* the path below the prefix, split at '/': "sites", "3", "revoke" */
	const char *seg[4];
	size_t nseg;
	struct api_err err;
};

/* ---- api.c ---- */

/* Fill e and return -1 (the request fails with it). */
int api_fail(struct api_err *e, unsigned status, const char *code, const char *field,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int api_invalid(struct api_err *e, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A store failure as an API error: ref_404 makes a missing reference a 404
 * (when the ids came from the path) rather than a validation error. */
int api_store_fail(struct api_err *e, int r, const struct store_err *se, bool ref_404);
int api_nomem(struct api_err *e);
int64_t api_now(const struct api *a);
/* The request body as a JSON object, or -1 with a bad_request in c->err. */
int api_body(struct api_ctx *c, json_t **out);
/* The audit row of the write about to be made: the store appends it in that
 * write's own transaction (store_set_audit), so the change and its record commit
 * together. id 0: the id the write gives the new row. detail is borrowed (may be
 * NULL). 0, or -1 with c->err set. api_audit_done() after the write drops the
 * row if the write never happened. */
int api_audit(struct api_ctx *c, const char *action, const char *entity, int64_t id,
	      const json_t *detail);
void api_audit_done(struct api_ctx *c);
/* Answers status with body (taken; NULL: none). Returns 0. */
int api_reply(struct api_ctx *c, unsigned status, json_t *body);

/* ---- api_routes.c ---- */

/* Routes c (authenticated, path split): 0 answered, -1 failed with c->err. */
int api_route(struct api_ctx *c);

/* ---- api_check.c ---- */

/* Semantic checks of a create (old NULL) or of a patch of old. in is the body;
 * types the store checks (a non-string address, ...) are left to it. */
int check_resource(struct api *a, const json_t *old, const json_t *in, struct api_err *e);
int check_gateway(struct api *a, const json_t *old, const json_t *in, struct api_err *e);
int check_user(struct api *a, const json_t *old, const json_t *in, struct api_err *e);
int check_policy(struct api *a, const json_t *old, const json_t *in, struct api_err *e);
int check_name_only(struct api *a, const json_t *old, const json_t *in, struct api_err *e);
int check_settings(struct api *a, const json_t *in, struct api_err *e);

/* A token request {"kind", "name", "user_id"|"site_id", "expires_at"}. */
struct token_req {
	enum store_token_kind kind;
	const char *name;
	int64_t owner_id;
	int64_t expires_at; /* 0: never */
};
int check_token_create(struct api *a, const json_t *in, struct token_req *out,
		       struct api_err *e);


#endif
