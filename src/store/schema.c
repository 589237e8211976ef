/* The entities of docs/api.md, one table each: what the generic code checks on the
 * way in and shows on the way out. The DDL lives in the migrations (migrate.c): a
 * migration is history and must not change when this table does; a test checks
 * that the two agree on columns and references.
 *
 * Enums are checked here and not by CHECK constraints: adding a value must not
 * need SQLite's table rebuild. */
#include "store/store_priv.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define ID { .name = "id", .type = COL_INT, .flags = COLF_SYS }
#define CREATED { .name = "created_at", .type = COL_TIME, .flags = COLF_SYS | COLF_NOW }
/* A column holding an id of another entity. */
#define REF(n, ent, act, fl) \
	{ .name = n, .type = COL_INT, .flags = (fl), .ref = ent, .on_delete = act }
#define TEXT(n, fl, lo, hi) { .name = n, .type = COL_TEXT, .flags = (fl), .min = lo, .max = hi }
#define TUNNEL \
	{ .name = "tunnel_ipv4", .type = COL_TEXT, .flags = COLF_SYS | COLF_UNIQUE, .max = 15 }, \
	{ .name = "tunnel_ipv6", .type = COL_TEXT, .flags = COLF_SYS | COLF_UNIQUE, .max = 39 }

static const char *const resource_types[] = { "dns", "ip", "cidr", NULL };
static const char *const token_kinds[] = { "admin", "client", "site", NULL };
static const char *const flow_events[] = { "granted", "denied", "revoked", "expired",
					   "traffic", NULL };
static const char *const flow_protocols[] = { "tcp", "udp", "icmp", NULL };
static const char *const audit_actions[] = { "create", "update", "delete", "revoke", NULL };

static const struct col sites[] = {
	ID,
	TEXT("name", COLF_REQUIRED | COLF_UNIQUE, 1, 64),
	CREATED,
};

static const struct col gateways[] = {
	ID,
	REF("site_id", "sites", FK_RESTRICT, COLF_REQUIRED | COLF_FIXED),
	{ .name = "name", .type = COL_TEXT, .flags = COLF_REQUIRED | COLF_UNIQUE,
	  .min = 1, .max = 64, .unique_with = "site_id" },
	TEXT("public_key", COLF_NULLABLE | COLF_UNIQUE, 1, 64),
	TEXT("endpoint", COLF_NULLABLE, 1, 261), /* host (253) ":" port */
	{ .name = "online", .type = COL_BOOL, .flags = COLF_SYS, .def = "false" },
	{ .name = "last_seen", .type = COL_TIME, .flags = COLF_SYS | COLF_NULLABLE },
	TUNNEL,
	CREATED,
};

static const struct col resources[] = {
	ID,
	REF("site_id", "sites", FK_RESTRICT, COLF_REQUIRED),
	{ .name = "type", .type = COL_TEXT, .flags = COLF_REQUIRED, .max = 8,
	  .enums = resource_types },
	TEXT("address", COLF_REQUIRED, 1, 255),
	TEXT("name", COLF_REQUIRED, 1, 128),
	{ .name = "description", .type = COL_TEXT, .max = 1024, .def = "\"\"" },
	{ .name = "filters", .type = COL_JSON, .max = 16384, .json_kind = JSON_ARRAY,
	  .def = "[]" },
	CREATED,
};

static const struct col users[] = {
	ID,
	TEXT("name", COLF_REQUIRED, 1, 128),
	TEXT("email", COLF_NULLABLE | COLF_UNIQUE | COLF_NOCASE, 1, 254),
	{ .name = "disabled", .type = COL_BOOL, .def = "false" },
	CREATED,
};

static const struct col groups[] = {
	ID,
	TEXT("name", COLF_REQUIRED | COLF_UNIQUE, 1, 64),
	CREATED,
};

static const struct col group_members[] = {
	ID,
	REF("group_id", "groups", FK_CASCADE, COLF_REQUIRED | COLF_FIXED),
	{ .name = "user_id", .type = COL_INT, .flags = COLF_REQUIRED | COLF_FIXED | COLF_UNIQUE,
	  .ref = "users", .on_delete = FK_CASCADE, .unique_with = "group_id" },
	CREATED,
};

static const struct col policies[] = {
	ID,
	REF("group_id", "groups", FK_CASCADE, COLF_REQUIRED),
	REF("resource_id", "resources", FK_CASCADE, COLF_REQUIRED),
	{ .name = "description", .type = COL_TEXT, .max = 1024, .def = "\"\"" },
	{ .name = "conditions", .type = COL_JSON, .max = 16384, .json_kind = JSON_OBJECT,
	  .def = "{}" },
	{ .name = "expires_at", .type = COL_TIME, .flags = COLF_NULLABLE },
	CREATED,
};

static const struct col clients[] = {
	ID,
	REF("user_id", "users", FK_CASCADE, COLF_REQUIRED | COLF_FIXED),
	{ .name = "name", .type = COL_TEXT, .max = 128, .def = "\"\"" },
	TEXT("public_key", COLF_REQUIRED | COLF_FIXED | COLF_UNIQUE, 1, 64),
	TUNNEL,
	{ .name = "last_seen", .type = COL_TIME, .flags = COLF_SYS | COLF_NULLABLE },
	{ .name = "revoked_at", .type = COL_TIME, .flags = COLF_SYS | COLF_NULLABLE },
	CREATED,
};

static const struct col tokens[] = {
	ID,
	{ .name = "kind", .type = COL_TEXT, .flags = COLF_REQUIRED | COLF_FIXED, .max = 8,
	  .enums = token_kinds },
	{ .name = "name", .type = COL_TEXT, .max = 128, .def = "\"\"" },
	REF("user_id", "users", FK_CASCADE, COLF_NULLABLE | COLF_FIXED),
	REF("site_id", "sites", FK_CASCADE, COLF_NULLABLE | COLF_FIXED),
	{ .name = "secret_hash", .type = COL_TEXT, .flags = COLF_HIDDEN | COLF_REQUIRED |
	  COLF_FIXED | COLF_UNIQUE, .min = 64, .max = 64 },
	CREATED,
	{ .name = "expires_at", .type = COL_TIME, .flags = COLF_NULLABLE | COLF_FIXED },
	{ .name = "revoked_at", .type = COL_TIME, .flags = COLF_SYS | COLF_NULLABLE },
	{ .name = "last_used_at", .type = COL_TIME, .flags = COLF_SYS | COLF_NULLABLE },
};

/* The logs keep ids of things that may be gone: no references. */
static const struct col flows[] = {
	ID,
	{ .name = "time", .type = COL_TIME, .flags = COLF_NOW },
	{ .name = "event", .type = COL_TEXT, .flags = COLF_REQUIRED, .max = 16,
	  .enums = flow_events },
	{ .name = "client_id", .type = COL_INT, .flags = COLF_NULLABLE },
	{ .name = "user_id", .type = COL_INT, .flags = COLF_NULLABLE },
	{ .name = "resource_id", .type = COL_INT, .flags = COLF_NULLABLE },
	{ .name = "gateway_id", .type = COL_INT, .flags = COLF_NULLABLE },
	TEXT("reason", COLF_NULLABLE, 0, 256),
	/* traffic rows: one flow a gateway reported (docs/protocol.md flow_log) */
	{ .name = "protocol", .type = COL_TEXT, .flags = COLF_NULLABLE, .max = 8,
	  .enums = flow_protocols },
	{ .name = "port", .type = COL_INT, .flags = COLF_NULLABLE },
	{ .name = "rx_bytes", .type = COL_INT, .flags = COLF_NULLABLE },
	{ .name = "tx_bytes", .type = COL_INT, .flags = COLF_NULLABLE },
	{ .name = "start", .type = COL_TIME, .flags = COLF_NULLABLE },
	{ .name = "end", .type = COL_TIME, .flags = COLF_NULLABLE },
};

static const struct col audit[] = {
	ID,
	{ .name = "time", .type = COL_TIME, .flags = COLF_SYS | COLF_NOW },
	{ .name = "token_id", .type = COL_INT, .flags = COLF_NULLABLE },
	{ .name = "action", .type = COL_TEXT, .flags = COLF_REQUIRED, .max = 16,
	  .enums = audit_actions },
	TEXT("entity", COLF_REQUIRED, 1, 32),
	{ .name = "entity_id", .type = COL_INT, .flags = COLF_NULLABLE },
	{ .name = "detail", .type = COL_JSON, .flags = COLF_NULLABLE, .max = 16384,
	  .json_kind = JSON_NULL },
};

#define ENT(n, one_, cols_, fl) { n, one_, cols_, N(cols_), fl }

static const struct entity entities[] = {
	ENT("sites", "site", sites, 0),
	ENT("gateways", "gateway", gateways, ENT_TUNNEL),
	ENT("resources", "resource", resources, 0),
	ENT("users", "user", users, 0),
	ENT("groups", "group", groups, 0),
	ENT("group_members", "group member", group_members, 0),
	ENT("policies", "policy", policies, 0),
	ENT("clients", "client", clients, ENT_NO_CREATE | ENT_TUNNEL),
	ENT("tokens", "token", tokens, ENT_NO_CREATE),
	ENT("flows", "flow", flows, ENT_LOG),
	ENT("audit", "audit entry", audit, ENT_LOG),
};

/* Settings: one value per key, each described like a column. */
static const struct col settings[] = {
	{ .name = "upstream_dns", .type = COL_JSON, .max = 4096, .json_kind = JSON_ARRAY,
	  .def = "[]" },
	/* devices and keys (tunnel.c, client.c): integers from min */
	{ .name = "device_limit", .type = COL_JSON, .max = 16, .json_kind = JSON_INTEGER,
	  .min = 1, .def = "20" },
	{ .name = "address_quarantine_seconds", .type = COL_JSON, .max = 16,
	  .json_kind = JSON_INTEGER, .min = 0, .def = "86400" },
	/* the control plane's limits (docs/security.md "The control plane"); the
	 * API checks their ranges */
#define SETTING_INT(n, d) \
	{ .name = n, .type = COL_JSON, .max = 32, .json_kind = JSON_INTEGER, .def = d }
	SETTING_INT("access_request_rate", "10"),
	SETTING_INT("access_request_burst", "100"),
	SETTING_INT("flow_retention_days", "90"),
	SETTING_INT("audit_retention_days", "90"),
#undef SETTING_INT
};

static const struct entity settings_ent = ENT("settings", "setting", settings, 0);

const struct entity *schema_entity(const char *name)
{
	size_t i;

	for (i = 0; i < N(entities); i++)
		if (!strcmp(entities[i].name, name))
			return &entities[i];
	return NULL;
}

const struct entity *schema_entities(size_t *n)
{
	*n = N(entities);
	return entities;
}

const struct col *schema_col(const struct entity *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->ncols; i++)
		if (!strcmp(e->cols[i].name, name))
			return &e->cols[i];
	return NULL;
}

const struct entity *schema_settings(void)
{
	return &settings_ent;
}
