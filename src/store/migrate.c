/* SQLite's schema history. Step i takes a database from user_version i to i + 1;
 * store_sqlite_open runs the missing steps in one transaction. A released step is
 * never edited: a change is a new step at the end (and, for SQLite, a change to a
 * column's constraints means a table rebuild, see sqlite.org/lang_altertable.html).
 *
 * Times are INTEGER Unix seconds; booleans INTEGER 0/1; JSON values compact text.
 * AUTOINCREMENT: an id is never handed out twice, even after deletes. */
#include "store/store_priv.h"

/* 1: the configuration the admin API edits, and the tunnel address counter. */
static const char step1[] =
	"CREATE TABLE sites ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE,"
	" created_at INTEGER NOT NULL);"

	"CREATE TABLE gateways ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE RESTRICT,"
	" name TEXT NOT NULL,"
	" public_key TEXT UNIQUE,"
	" endpoint TEXT,"
	" online INTEGER NOT NULL DEFAULT 0,"
	" last_seen INTEGER,"
	" tunnel_ipv4 TEXT NOT NULL UNIQUE,"
	" tunnel_ipv6 TEXT NOT NULL UNIQUE,"
	" created_at INTEGER NOT NULL,"
	" UNIQUE (site_id, name));"

	"CREATE TABLE resources ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE RESTRICT,"
	" type TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" description TEXT NOT NULL DEFAULT '',"
	" filters TEXT NOT NULL DEFAULT '[]',"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX resources_site ON resources(site_id);"

	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL,"
	" email TEXT COLLATE NOCASE UNIQUE,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL);"

	"CREATE TABLE groups ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE,"
	" created_at INTEGER NOT NULL);"

	"CREATE TABLE group_members ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" created_at INTEGER NOT NULL,"
	" UNIQUE (group_id, user_id));"
	"CREATE INDEX group_members_user ON group_members(user_id);"

	"CREATE TABLE policies ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
	" resource_id INTEGER NOT NULL REFERENCES resources(id) ON DELETE CASCADE,"
	" description TEXT NOT NULL DEFAULT '',"
	" conditions TEXT NOT NULL DEFAULT '{}',"
	" expires_at INTEGER,"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX policies_group ON policies(group_id);"
	"CREATE INDEX policies_resource ON policies(resource_id);"

	"CREATE TABLE clients ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL DEFAULT '',"
	" public_key TEXT NOT NULL UNIQUE,"
	" tunnel_ipv4 TEXT NOT NULL UNIQUE,"
	" tunnel_ipv6 TEXT NOT NULL UNIQUE,"
	" last_seen INTEGER,"
	" revoked_at INTEGER,"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX clients_user ON clients(user_id);"

	"CREATE TABLE tokens ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" kind TEXT NOT NULL,"
	" name TEXT NOT NULL DEFAULT '',"
	" user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,"
	" site_id INTEGER REFERENCES sites(id) ON DELETE CASCADE,"
	" secret_hash TEXT NOT NULL UNIQUE,"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER,"
	" revoked_at INTEGER,"
	" last_used_at INTEGER);"
	"CREATE INDEX tokens_user ON tokens(user_id);"
	"CREATE INDEX tokens_site ON tokens(site_id);"

	"CREATE TABLE settings ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL);"

	/* Counters that must never go back (tunnel addresses are never reused). */
	"CREATE TABLE alloc ("
	" name TEXT PRIMARY KEY,"
	" next INTEGER NOT NULL);"
	"INSERT INTO alloc (name, next) VALUES ('tunnel', 1);";

/* 2: the logs. They keep ids of rows that may be gone, so they reference nothing. */
static const char step2[] =
	"CREATE TABLE flows ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL,"
	" event TEXT NOT NULL,"
	" client_id INTEGER,"
	" user_id INTEGER,"
	" resource_id INTEGER,"
	" gateway_id INTEGER,"
	" reason TEXT);"
	"CREATE INDEX flows_time ON flows(time);"
	"CREATE INDEX flows_user ON flows(user_id);"
	"CREATE INDEX flows_resource ON flows(resource_id);"

	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL,"
	" token_id INTEGER,"
	" action TEXT NOT NULL,"
	" entity TEXT NOT NULL,"
	" entity_id INTEGER,"
	" detail TEXT);"
	"CREATE INDEX audit_time ON audit(time);";

/* 3: the hub's live authorizations (authz.c), so that a restart of the portal
 * interrupts no flow, and the traffic the gateways report in the flows log. The
 * authorizations reference nothing: the hub deletes a row when its
 * authorization ends and drops, when it loads them, rows whose client,
 * resource, gateway or token is gone. */
static const char step3[] =
	"CREATE TABLE authorizations ("
	" client_id INTEGER NOT NULL,"
	" resource_id INTEGER NOT NULL,"
	" gateway_id INTEGER NOT NULL,"
	" token_id INTEGER,"
	" ref INTEGER NOT NULL,"
	" psk TEXT NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" source TEXT,"
	" PRIMARY KEY (client_id, resource_id));"

	"ALTER TABLE flows ADD COLUMN protocol TEXT;"
	"ALTER TABLE flows ADD COLUMN port INTEGER;"
	"ALTER TABLE flows ADD COLUMN rx_bytes INTEGER;"
	"ALTER TABLE flows ADD COLUMN tx_bytes INTEGER;"
	"ALTER TABLE flows ADD COLUMN start INTEGER;"
	"ALTER TABLE flows ADD COLUMN end INTEGER;"
	"CREATE INDEX flows_client ON flows(client_id);"
	"CREATE INDEX flows_gateway ON flows(gateway_id);";

/* 4: tunnel addresses of deleted clients and gateways, reused once their
 * quarantine is over (tunnel.c): n is the pair's number, as alloc's counter
 * (which itself still never goes back). The device limit counts a user's live
 * devices at each new one (client.c): from the index alone. */
static const char step4[] =
	"CREATE TABLE tunnel_free ("
	" n INTEGER PRIMARY KEY,"
	" freed_at INTEGER NOT NULL);"
	"CREATE INDEX tunnel_free_time ON tunnel_free(freed_at);"
	"CREATE INDEX clients_user_live ON clients(user_id, revoked_at);";

static const char *const steps[] = { step1, step2, step3, step4 };

const char *const *store_sqlite_migrations(size_t *n)
{
	*n = sizeof(steps) / sizeof(steps[0]);
	return steps;
}
