/* The commands and options of `sluice admin`, and the help made from them. */
#include <stdlib.h>
#include <string.h>

#include "cli/admin_priv.h"
#include "lib/buf.h"

#define LIST_OPTS "limit after all "

const struct admin_opt admin_opts[] = {
	/* global */
	{ "portal", 0, "URL", NULL, CONV_GLOBAL,
	  "the portal, https://HOST[:PORT] (default: $SLUICE_PORTAL)" },
	{ "ca", 0, "FILE", NULL, CONV_GLOBAL,
	  "the portal's CA certificate (default: $SLUICE_CA, else the system's store)" },
	{ "token-file", 0, "FILE", NULL, CONV_GLOBAL,
	  "a file holding the admin token (default: $SLUICE_TOKEN, $SLUICE_TOKEN_FILE)" },
	{ "timeout", 0, "SECONDS", NULL, CONV_GLOBAL, "per request (default: 30)" },
	{ "json", 0, NULL, NULL, CONV_GLOBAL, "print the portal's JSON" },
	{ "quiet", 'q', NULL, NULL, CONV_GLOBAL,
	  "print only ids (one a line; tokens create: the secret)" },
	{ "help", 'h', NULL, NULL, CONV_GLOBAL, "this help" },
	/* lists */
	{ "limit", 0, "N", "limit", CONV_PAGE, "at most N per page (1-500)" },
	{ "after", 0, "ID", "after", CONV_PAGE, "start after this id" },
	{ "all", 0, NULL, NULL, CONV_GLOBAL, "follow the pages to the end" },
	/* fields */
	{ "name", 0, "NAME", "name", CONV_STR, "name" },
	{ "site", 0, "ID", "site_id", CONV_ID, "site" },
	{ "type", 0, "TYPE", "type", CONV_STR, "dns, ip or cidr" },
	{ "address", 0, "ADDRESS", "address", CONV_STR,
	  "dns: a name pattern ('*.corp.test'); ip: an address; cidr: a prefix" },
	{ "description", 0, "TEXT", "description", CONV_STR, "description" },
	{ "filter", 0, "PROTO[:PORTS]", "filters", CONV_FILTER,
	  "allow only this traffic, repeatable: tcp:443, udp:8000-8100, icmp, tcp" },
	{ "no-filters", 0, NULL, "filters", CONV_EMPTY_ARRAY, "no filters: all traffic" },
	{ "email", 0, "EMAIL", "email", CONV_STR, "email address" },
	{ "no-email", 0, NULL, "email", CONV_NULL, "remove the email address" },
	{ "disabled", 0, NULL, "disabled", CONV_TRUE, "disabled: cannot connect" },
	{ "enabled", 0, NULL, "disabled", CONV_FALSE, "enabled" },
	{ "group", 0, "ID", "group_id", CONV_ID, "group" },
	{ "resource", 0, "ID", "resource_id", CONV_ID, "resource" },
	{ "user", 0, "ID", "user_id", CONV_ID, "user" },
	{ "client", 0, "ID", "client_id", CONV_ID, "client (device)" },
	{ "gateway", 0, "ID", "gateway_id", CONV_ID, "gateway" },
	{ "token-id", 0, "ID", "token_id", CONV_ID, "the token that made the change" },
	{ "window", 0, "[DAYS@]HH:MM-HH:MM", "conditions", CONV_WINDOW,
	  "a time window, repeatable: mon-fri@09:00-17:00, sat,sun@10:00-12:00 "
	  "(no DAYS: every day)" },
	{ "time-zone", 0, "ZONE", "conditions", CONV_TZ, "the windows' zone: Europe/Berlin" },
	{ "source", 0, "CIDR", "conditions", CONV_SOURCE,
	  "only from this client address prefix, repeatable" },
	{ "no-conditions", 0, NULL, "conditions", CONV_EMPTY_OBJECT,
	  "no time windows, zone or sources" },
	{ "expires", 0, "TIME", "expires_at", CONV_STR, "expiry, RFC 3339: 2026-12-31T00:00:00Z" },
	{ "no-expiry", 0, NULL, "expires_at", CONV_NULL, "never expires" },
	{ "kind", 0, "KIND", "kind", CONV_STR, "admin, client (for a user) or site (for gateways)" },
	{ "event", 0, "EVENT", "event", CONV_STR,
	  "granted, denied, revoked, expired or traffic" },
	{ "protocol", 0, "PROTO", "protocol", CONV_STR, "traffic of tcp, udp or icmp" },
	{ "action", 0, "ACTION", "action", CONV_STR, "create, update, delete or revoke" },
	{ "entity", 0, "ENTITY", "entity", CONV_STR, "what was changed: site, policy, ..." },
	{ "upstream-dns", 0, "IP", "upstream_dns", CONV_STRLIST,
	  "a nameserver for the clients instead of their hosts' own, repeatable" },
	{ "upstream-dns-default", 0, NULL, "upstream_dns", CONV_NULL,
	  "back to the hosts' own nameservers" },
	/* settings: devices and keys */
	{ "device-limit", 0, "N", "device_limit", CONV_COUNT,
	  "at most N devices per user that are not revoked (default 20)" },
	{ "device-limit-default", 0, NULL, "device_limit", CONV_NULL, "back to 20 devices" },
	{ "address-quarantine", 0, "SECONDS", "address_quarantine_seconds", CONV_COUNT,
	  "a deleted device's or gateway's tunnel addresses are reused after this (default 86400)" },
	{ "address-quarantine-default", 0, NULL, "address_quarantine_seconds", CONV_NULL,
	  "back to 86400 s" },
	/* the control plane's limits (docs/security.md) */
	{ "access-request-rate", 0, "N", "access_request_rate", CONV_COUNT,
	  "a device's access requests per second past the burst (0: no limit)" },
	{ "access-request-burst", 0, "N", "access_request_burst", CONV_COUNT,
	  "a device's access requests at once" },
	{ "flow-retention-days", 0, "N", "flow_retention_days", CONV_COUNT,
	  "flows log rows older than N days are deleted (0: kept for ever)" },
	{ "audit-retention-days", 0, "N", "audit_retention_days", CONV_COUNT,
	  "audit log rows older than N days are deleted (0: kept for ever)" },
};
const size_t admin_n_opts = sizeof(admin_opts) / sizeof(admin_opts[0]);

const struct admin_entity admin_entities[] = {
	{ "sites", "site", "places that own gateways and resources" },
	{ "gateways", "gateway", "a site's gateways" },
	{ "resources", "resource", "what users reach: dns patterns, addresses, prefixes" },
	{ "users", "user", "people" },
	{ "groups", "group", "groups of users, and their members" },
	{ "policies", "policy", "which group may reach which resource, and when" },
	{ "clients", "client", "devices (they register themselves)" },
	{ "tokens", "token", "admin, client and site tokens" },
	{ "settings", "settings", "the portal's settings" },
	{ "flows", "flow", "the flow log (read-only)" },
	{ "audit", "audit entry", "the audit log of admin changes (read-only)" },
	{ "raw", "request", "any request: raw METHOD PATH [JSON]" },
};
const size_t admin_n_entities = sizeof(admin_entities) / sizeof(admin_entities[0]);

const struct admin_cmd admin_cmds[] = {
	{ "sites", "list", ACT_LIST, LIST_OPTS "name", "", "list sites" },
	{ "sites", "get", ACT_GET, "", "", "show a site" },
	{ "sites", "create", ACT_CREATE, "name", "name", "create a site" },
	{ "sites", "update", ACT_UPDATE, "name", "", "rename a site" },
	{ "sites", "delete", ACT_DELETE, "", "", "delete a site (without gateways, resources)" },

	{ "gateways", "list", ACT_LIST, LIST_OPTS "site name", "", "list gateways" },
	{ "gateways", "get", ACT_GET, "", "", "show a gateway" },
	{ "gateways", "create", ACT_CREATE, "site name", "site name",
	  "create a gateway (it enrolls later with a site token)" },
	{ "gateways", "update", ACT_UPDATE, "name", "", "rename a gateway" },
	{ "gateways", "delete", ACT_DELETE, "", "", "delete a gateway" },

	{ "resources", "list", ACT_LIST, LIST_OPTS "site type name address", "", "list resources" },
	{ "resources", "get", ACT_GET, "", "", "show a resource" },
	{ "resources", "create", ACT_CREATE, "site type address name description filter",
	  "site type address name", "create a resource" },
	{ "resources", "update", ACT_UPDATE,
	  "site type address name description filter no-filters", "",
	  "change a resource (--filter replaces all filters)" },
	{ "resources", "delete", ACT_DELETE, "", "", "delete a resource and its policies" },

	{ "users", "list", ACT_LIST, LIST_OPTS "name email disabled enabled", "", "list users" },
	{ "users", "get", ACT_GET, "", "", "show a user" },
	{ "users", "create", ACT_CREATE, "name email disabled", "name", "create a user" },
	{ "users", "update", ACT_UPDATE, "name email no-email disabled enabled", "",
	  "change a user" },
	{ "users", "delete", ACT_DELETE, "", "", "delete a user, its clients and tokens" },

	{ "groups", "list", ACT_LIST, LIST_OPTS "name", "", "list groups" },
	{ "groups", "get", ACT_GET, "", "", "show a group" },
	{ "groups", "create", ACT_CREATE, "name", "name", "create a group" },
	{ "groups", "update", ACT_UPDATE, "name", "", "rename a group" },
	{ "groups", "delete", ACT_DELETE, "", "", "delete a group, its policies and memberships" },
	{ "groups", "members", ACT_MEMBERS, LIST_OPTS, "", "list a group's members" },
	{ "groups", "add-member", ACT_ADD_MEMBER, "", "", "add a user to a group" },
	{ "groups", "remove-member", ACT_REMOVE_MEMBER, "", "", "remove a user from a group" },

	{ "policies", "list", ACT_LIST, LIST_OPTS "group resource", "", "list policies" },
	{ "policies", "get", ACT_GET, "", "", "show a policy" },
	{ "policies", "create", ACT_CREATE,
	  "group resource description window time-zone source expires", "group resource",
	  "grant a group a resource" },
	{ "policies", "update", ACT_UPDATE,
	  "group resource description window time-zone source no-conditions expires no-expiry",
	  "", "change a policy (any condition option replaces all conditions)" },
	{ "policies", "delete", ACT_DELETE, "", "", "delete a policy" },

	{ "clients", "list", ACT_LIST, LIST_OPTS "user name", "", "list clients (devices)" },
	{ "clients", "get", ACT_GET, "", "", "show a client" },
	{ "clients", "update", ACT_UPDATE, "name", "name", "rename a client" },
	{ "clients", "revoke", ACT_REVOKE, "", "", "revoke a client: it cannot connect again" },
	{ "clients", "delete", ACT_DELETE, "", "", "delete a client" },

	{ "tokens", "list", ACT_LIST, LIST_OPTS "kind user site", "", "list tokens" },
	{ "tokens", "get", ACT_GET, "", "", "show a token" },
	{ "tokens", "create", ACT_CREATE, "kind name user site expires", "kind",
	  "create a token: its secret is shown this once" },
	{ "tokens", "update", ACT_UPDATE, "name", "name", "rename a token" },
	{ "tokens", "revoke", ACT_REVOKE, "", "", "revoke a token" },
	{ "tokens", "delete", ACT_DELETE, "", "", "delete a token" },

	{ "settings", "get", ACT_SETTINGS_GET, "", "", "show the settings" },
	{ "settings", "set", ACT_SETTINGS_SET, "upstream-dns upstream-dns-default"
	  " device-limit device-limit-default address-quarantine address-quarantine-default"
	  " access-request-rate access-request-burst flow-retention-days audit-retention-days",
	  "",
	  "change the settings" },

	{ "flows", "list", ACT_LIST, LIST_OPTS "client user resource gateway event protocol", "",
	  "list flow log entries" },
	{ "flows", "get", ACT_GET, "", "", "show a flow log entry" },

	{ "audit", "list", ACT_LIST, LIST_OPTS "entity action token-id", "",
	  "list audit log entries" },
	{ "audit", "get", ACT_GET, "", "", "show an audit log entry" },

	{ "raw", NULL, ACT_RAW, "", "", "send any request under /api/v1; print the JSON" },
};
const size_t admin_n_cmds = sizeof(admin_cmds) / sizeof(admin_cmds[0]);

bool admin_word_in(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		size_t w = strcspn(p, " ");

		if (w == n && strncmp(p, name, n) == 0)
			return true;
		p += w;
		p += strspn(p, " ");
	}
	return false;
}

const struct admin_opt *admin_opt_find(const char *name, char short_name)
{
	for (size_t i = 0; i < admin_n_opts; i++) {
		const struct admin_opt *o = &admin_opts[i];

		if ((name && strcmp(o->name, name) == 0) ||
		    (short_name && o->short_name == short_name))
			return o;
	}
	return NULL;
}

const struct admin_entity *admin_entity_find(const char *name)
{
	for (size_t i = 0; name && i < admin_n_entities; i++)
		if (strcmp(admin_entities[i].name, name) == 0)
			return &admin_entities[i];
	return NULL;
}

const struct admin_cmd *admin_cmd_find(const char *entity, const char *verb)
{
	for (size_t i = 0; i < admin_n_cmds; i++) {
		const struct admin_cmd *c = &admin_cmds[i];

		if (strcmp(c->entity, entity) == 0 &&
		    (!c->verb || (verb && strcmp(c->verb, verb) == 0)))
			return c;
	}
	return NULL;
}

bool admin_opt_repeatable(const struct admin_opt *o)
{
	return o->conv == CONV_FILTER || o->conv == CONV_WINDOW || o->conv == CONV_SOURCE ||
	       o->conv == CONV_STRLIST;
}

const char *admin_act_args(enum admin_act act, size_t *count)
{
	switch (act) {
	case ACT_GET: case ACT_UPDATE: case ACT_DELETE: case ACT_REVOKE:
		*count = 1;
		return "ID";
	case ACT_MEMBERS:
		*count = 1;
		return "GROUP_ID";
	case ACT_ADD_MEMBER: case ACT_REMOVE_MEMBER:
		*count = 2;
		return "GROUP_ID USER_ID";
	case ACT_RAW:
		*count = 3; /* the last is optional */
		return "METHOD PATH [JSON]";
	default:
		*count = 0;
		return "";
	}
}

static void opt_line(struct buf *b, const struct admin_opt *o, enum admin_act act)
{
	char left[64];

	if (o->short_name)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
	if (act == ACT_LIST && o->conv != CONV_GLOBAL && o->conv != CONV_PAGE)
		buf_printf(b, "  %-30s only those with this %s\n", left,
			   o->conv == CONV_TRUE || o->conv == CONV_FALSE ? "state" : o->field);
	else
		buf_printf(b, "  %-30s %s\n", left, o->help);
}

static void usage_line(struct buf *b, const struct admin_cmd *c)
{
	size_t n;
	const char *args = admin_act_args(c->act, &n);
	bool more = false;

	buf_printf(b, "  sluice admin %s%s%s%s%s", c->entity, c->verb ? " " : "",
		   c->verb ? c->verb : "", n ? " " : "", args);
	/* The required options in the order the table gives them. */
	for (const char *p = c->required; *p;) {
		size_t w = strcspn(p, " ");
		char name[32];
		const struct admin_opt *o;

		snprintf(name, sizeof(name), "%.*s", (int)w, p);
		o = admin_opt_find(name, 0);
		if (o)
			buf_printf(b, " --%s %s", o->name, o->arg);
		p += w;
		p += strspn(p, " ");
	}
	for (size_t i = 0; i < admin_n_opts; i++)
		if (admin_word_in(c->opts, admin_opts[i].name) &&
		    !admin_word_in(c->required, admin_opts[i].name))
			more = true;
	buf_printf(b, "%s\n", more ? " [OPTIONS]" : "");
}

static void globals(struct buf *b)
{
	buf_printf(b, "\nGlobal options (anywhere on the line):\n");
	for (size_t i = 0; i < admin_n_opts; i++)
		if (admin_opts[i].conv == CONV_GLOBAL && strcmp(admin_opts[i].name, "all"))
			opt_line(b, &admin_opts[i], ACT_GET);
}

char *admin_help(const struct admin_entity *e, const struct admin_cmd *c)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	if (c) {
		buf_printf(&b, "Usage:\n");
		usage_line(&b, c);
		buf_printf(&b, "\n%c%s.\n", c->summary[0] - ('a' <= c->summary[0] &&
			   c->summary[0] <= 'z' ? 32 : 0), c->summary + 1);
		if (c->opts[0]) {
			buf_printf(&b, "\nOptions:\n");
			for (size_t i = 0; i < admin_n_opts; i++)
				if (admin_word_in(c->opts, admin_opts[i].name))
					opt_line(&b, &admin_opts[i], c->act);
		}
		if (c->act == ACT_RAW)
			buf_printf(&b, "\nPATH is under /api/v1 (\"/sites?limit=5\"); JSON is the "
				   "body.\n");
		globals(&b);
	} else if (e) {
		buf_printf(&b, "%s: %s.\n\nCommands:\n", e->name, e->summary);
		for (size_t i = 0; i < admin_n_cmds; i++)
			if (strcmp(admin_cmds[i].entity, e->name) == 0)
				usage_line(&b, &admin_cmds[i]);
		buf_printf(&b, "\nsluice admin %s VERB --help: the options of one.\n", e->name);
	} else {
		buf_printf(&b, "Usage: sluice admin [OPTIONS] ENTITY VERB [ARGS] [OPTIONS]\n\n"
			   "The portal's REST API: tables by default, --json for the JSON, -q "
			   "for ids.\n\nEntities:\n");
		for (size_t i = 0; i < admin_n_entities; i++) {
			const struct admin_entity *x = &admin_entities[i];
			struct buf verbs;

			buf_init(&verbs, 1024);
			buf_printf(&verbs, "%s", "");
			for (size_t j = 0; j < admin_n_cmds; j++)
				if (strcmp(admin_cmds[j].entity, x->name) == 0 && admin_cmds[j].verb)
					buf_printf(&verbs, "%s%s", verbs.len ? "|" : "",
						   admin_cmds[j].verb);
			buf_printf(&b, "  %-10s %s\n  %-10s   %s\n", x->name, x->summary, "",
				   verbs.len ? (char *)verbs.data : "METHOD PATH [JSON]");
			buf_free(&verbs);
		}
		buf_printf(&b, "\nsluice admin ENTITY --help, sluice admin ENTITY VERB --help: "
			   "more.\nExit codes: 0 ok, 1 the portal refused, 2 usage, 3 no "
			   "connection or TLS failure.\n");
		globals(&b);
	}
	return (char *)b.data;
}
