/* The portal's storage: the entities of docs/api.md behind one interface, SQLite now
 * and PostgreSQL later. Objects go in and come out as jansson objects keyed by the
 * API's field names (times as RFC 3339 UTC strings); a schema checks types, nulls,
 * lengths, enums, unknown and read-only fields, uniqueness and references, so the
 * API layer only adds semantic checks (patterns, CIDRs, ports).
 *
 * Entities: "sites", "gateways", "resources", "users", "groups", "group_members",
 * "policies", "clients", "tokens", "flows", "audit"; settings have their own calls.
 * Deleting a site that still has gateways or resources fails (-ENOTEMPTY); deleting
 * a group or resource deletes its policies, a group or user its memberships, a user
 * its clients and tokens, a site its tokens. Every deleted row, cascaded or not, is
 * reported to the change callback.
 *
 * Single-threaded: a struct store belongs to one thread (the portal's event loop).
 * Every write is one transaction, durable when the call returns 0.
 *
 * Errors are 0/-errno with the reason in err (which may be NULL): -EINVAL (a bad
 * field, named in err->field), -ENOENT (no such row: err->field is "id"; or a
 * reference to a missing row: err->field names the reference), -EEXIST (a unique
 * field in use), -ENOTEMPTY (delete restricted by dependents: err->field names
 * their entity), -EPERM, -EACCES,
 * -EOPNOTSUPP (not for this entity), -ENOSPC, -EPROTO (database from a newer
 * sluice or not sluice's), -EIO, -EBUSY, -ENOMEM. On failure nothing changed and
 * no output was set. */
#ifndef SLUICE_STORE_STORE_H
#define SLUICE_STORE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_err {
	char field[64]; /* the field at fault, or "" */
	char msg[256];
};

enum store_action { STORE_CREATE, STORE_UPDATE, STORE_DELETE };

/* One committed change. row is the row after a create or update, the last state
 * before a delete (settings: the whole settings object, id 0); borrowed for the
 * call. Token use (last_used_at), a known client reconnecting (last_seen) and log
 * pruning are not reported. */
struct store_change {
	const char *entity;
	int64_t id;
	enum store_action action;
	const json_t *row;
};
typedef void (*store_change_fn)(void *arg, const struct store_change *ch);

/* Times as the API reads and writes them (RFC 3339; a fraction is dropped, an
 * offset applied, a leap second taken as :59; years 1970-9999): 0 or -EINVAL. */
int store_time_parse(const char *s, int64_t *out);
void store_time_format(int64_t t, char out[32]); /* "2026-11-22T01:00:00Z" */

/* Opens (creating if needed, mode 0600) and migrates the SQLite database at path. */
int store_open(const char *path, struct store **out, struct store_err *err);
void store_close(struct store *st);
/* Called after each committed write; the callback may use the store. */
void store_set_change_cb(struct store *st, store_change_fn cb, void *arg);
/* Replaces the clock (Unix seconds); NULL restores the real one. For tests. */
void store_set_clock(struct store *st, int64_t (*now)(void *arg), void *arg);

/* Generic operations. out/items may be NULL; a returned object is the caller's.
 * store_create is also how flows and audit rows are appended. */
int store_create(struct store *st, const char *entity, const json_t *in, json_t **out,
		 struct store_err *err);
int store_get(struct store *st, const char *entity, int64_t id, json_t **out,
	      struct store_err *err);
/* Rows with id > after matching every field of filter (equality; null: IS NULL;
 * filter may be NULL), by id, at most limit (0: all). next is the id to pass as
 * after for the next page, or 0 when this page is the last. */
int store_list(struct store *st, const char *entity, const json_t *filter, int64_t after,
	       size_t limit, json_t **items, int64_t *next, struct store_err *err);
/* Changes only the fields present in patch. */
int store_update(struct store *st, const char *entity, int64_t id, const json_t *patch,
		 json_t **out, struct store_err *err);
int store_delete(struct store *st, const char *entity, int64_t id, struct store_err *err);
/* The next write (any call that changes rows) also appends row to "audit" in
 * its own transaction, so a change and its record commit together or not at
 * all. A row whose entity_id is null gets the id of the first row of its entity
 * that the write changed. The write takes it whatever its outcome; a call that
 * fails before writing leaves it, so set NULL after the call to be sure. Copied. */
int store_set_audit(struct store *st, const json_t *row);
/* Flows and audit: appends every object of an array in one transaction. */
int store_append(struct store *st, const char *entity, const json_t *objs,
		 struct store_err *err);
/* Flows and audit: deletes rows older than before (Unix s), the oldest first, at
 * most limit of them (0: all) so that a caller on a loop can keep each
 * statement short; *count (may be NULL) says how many went. */
int store_prune(struct store *st, const char *entity, int64_t before, size_t limit,
		size_t *count, struct store_err *err);

/* Group membership (rows of "group_members"); the list holds user objects. */
int store_member_add(struct store *st, int64_t group_id, int64_t user_id, json_t **out,
		     struct store_err *err);
int store_member_remove(struct store *st, int64_t group_id, int64_t user_id,
			struct store_err *err);
int store_member_list(struct store *st, int64_t group_id, int64_t after, size_t limit,
		      json_t **users, int64_t *next, struct store_err *err);

/* The one settings object, every known key present (defaults filled in). */
int store_settings_get(struct store *st, json_t **out, struct store_err *err);
int store_settings_set(struct store *st, const json_t *patch, json_t **out,
		       struct store_err *err);

enum store_token_kind { STORE_TOKEN_ADMIN, STORE_TOKEN_CLIENT, STORE_TOKEN_SITE };

/* "sl_" and 43 base64url characters, and the NUL. */
#define STORE_TOKEN_SECRET_SIZE 47

/* Creates a token for owner_id (a user for client tokens, a site for site tokens,
 * 0 for admin ones) that expires at expires_at (Unix s; 0: never). The secret is
 * written to secret (wipe it after use); only its SHA-256 is stored. */
int store_token_create(struct store *st, enum store_token_kind kind, const char *name,
		       int64_t owner_id, int64_t expires_at,
		       char secret[STORE_TOKEN_SECRET_SIZE], json_t **out,
		       struct store_err *err);
/* 0 and the token's kind, owner (0 for admin) and id; -EACCES if unknown, revoked,
 * expired, or a client token of a disabled user. Records last_used_at at most once
 * a minute per token. Outputs may be NULL. */
int store_token_check(struct store *st, const char *secret, enum store_token_kind *kind,
		      int64_t *owner_id, int64_t *token_id);
/* Sets revoked_at (kept if already revoked). */
int store_token_revoke(struct store *st, int64_t id, json_t **out, struct store_err *err);

/* A device, by public key: first sight creates it with tunnel addresses (from
 * 100.64.0.0/11 and fd00:2021:1111::/107, shared with gateways; a deleted peer's
 * are reused after the setting address_quarantine_seconds); later calls return
 * it and record last_seen. -EPERM if the key belongs to another user or was
 * revoked; -EADDRINUSE if it is a gateway's; -EDQUOT if the user already has
 * device_limit devices not revoked; -ENOSPC when the address pool is used up.
 * (Gateways, created and updated by store_create/store_update, get
 * -EADDRINUSE for a device's key the same way.) */
int store_client_upsert(struct store *st, int64_t user_id, const char *public_key,
			const char *name, json_t **out, struct store_err *err);
int store_client_revoke(struct store *st, int64_t id, json_t **out, struct store_err *err);

/* A gateway connected or left: sets online and last_seen. */
int store_gateway_seen(struct store *st, int64_t id, bool online, json_t **out,
		       struct store_err *err);

/* The hub's live authorizations (docs/protocol.md "What the portal stores"), at
 * most one per (client, resource), kept so that a restart of the portal
 * interrupts no flow. They are not an entity: no change events, no API. The PSK
 * must be sent again to the gateway after a restart, so unlike a token secret
 * (only its hash is kept) it is stored as it is, base64 in a file that is 0600;
 * secure_delete overwrites it when its row goes. */
struct store_authz {
	int64_t client_id, resource_id, gateway_id;
	int64_t token_id;        /* the client's session token when granted; 0: none */
	uint64_t ref;            /* the ref the gateway confirmed */
	int64_t expires_at;      /* Unix s */
	uint8_t psk[32];
	char source[48];         /* the client's address when granted; "": unknown */
};
/* Stores a, replacing the row of its (client, resource). */
int store_authz_put(struct store *st, const struct store_authz *a, struct store_err *err);
/* Deletes the row of (client, resource); none is not an error. */
int store_authz_delete(struct store *st, int64_t client_id, int64_t resource_id,
		       struct store_err *err);
/* Calls fn for every row, oldest first; a nonzero return stops and is returned.
 * a is valid during the call only (and wiped after it). The rows are read
 * first, so fn may use the store (delete the row it is given). A row that does
 * not read back (a bad PSK) is skipped with a warning. */
typedef int (*store_authz_fn)(void *arg, const struct store_authz *a);
int store_authz_each(struct store *st, store_authz_fn fn, void *arg, struct store_err *err);

#endif
