/* The portal's REST API (docs/api.md): the http_api_fn for /api/v1 over the store.
 *
 * Every request needs an admin bearer token (401 without a valid one, 403 for a
 * client or site token). The store checks types, lengths, enums, fields,
 * uniqueness and references; this module adds the checks the store cannot make
 * (DNS patterns, addresses, CIDRs, filters, policy conditions as the policy
 * engine reads them, settings, gateway endpoints, tokens), maps every failure to
 * its status and JSON error, and appends an audit row for each admin write
 * before it answers. No input yields a 500: that status means the database or
 * memory failed.
 *
 * Runs on the HTTP server's loop thread, like the store it borrows. */
#ifndef SLUICE_PORTAL_API_H
#define SLUICE_PORTAL_API_H

#include <stdint.h>

#include "portal/http.h"

#define API_PREFIX "/api/v1"

struct api;
struct store;
struct policy_engine;

/* st and pe are borrowed and must outlive the api; pe is used to parse policies
 * exactly as the engine will (time zones load into its cache). */
int api_new(struct store *st, struct policy_engine *pe, struct api **out);
void api_free(struct api *a);
/* Replaces the clock (Unix seconds) that token expiry is checked against; NULL
 * restores the real one. For tests, alongside store_set_clock(). */
void api_set_clock(struct api *a, int64_t (*now)(void *arg), void *arg);

/* fn(arg) runs before every read of the flows log, so that rows written in
 * batches (hub_flows_flush) are seen at once; NULL: none. */
void api_set_flows_flush(struct api *a, void (*fn)(void *arg), void *arg);

/* The http_api_fn: arg is the struct api. Returns -errno only when no answer
 * could be built at all (out of memory); the server then answers 500. */
int api_handle(void *arg, const struct http_request *req, struct http_response *resp);
/* The http_config authorize hook (arg: the struct api): -EACCES where
 * api_handle() would answer 401 (no, a malformed, or an unknown, revoked or
 * expired token), else 0. */
int api_authorize(void *arg, const struct http_request *req);

#endif
