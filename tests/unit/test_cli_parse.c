/* `sluice admin` words into requests: every command's method, path, query and
 * body, the output modes and global options wherever they stand, the help
 * texts, and the usage errors (each with its message). No network here: that is
 * test_cli_https.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/admin.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct words {
	char buf[1024];
	char *argv[64];
	int argc;
};

/* "admin" and line split at spaces; 'single quotes' keep spaces. */
static void split(struct words *w, const char *line)
{
	char *o = w->buf;

	w->argv[0] = strcpy(o, "admin");
	o += 6;
	w->argc = 1;
	for (const char *p = line; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		w->argv[w->argc++] = o;
		while (*p && *p != ' ') {
			if (*p == '\'') {
				for (p++; *p && *p != '\''; p++)
					*o++ = *p;
				if (*p)
					p++;
			} else {
				*o++ = *p++;
			}
		}
		*o++ = '\0';
	}
	w->argv[w->argc] = NULL;
}

static int parse(const char *line, struct admin_req *r, char *err, size_t errlen)
{
	struct words w;

	split(&w, line);
	return admin_parse(w.argc, w.argv, r, err, errlen);
}

struct ok_case {
	const char *line, *method, *path, *query, *after, *body;
	enum admin_shape shape;
};

#define L ADMIN_SHAPE_LIST
#define O ADMIN_SHAPE_OBJECT
#define N ADMIN_SHAPE_NONE

static const struct ok_case ok_cases[] = {
	/* sites */
	{ "sites list", "GET", "/sites", "", NULL, NULL, L },
	{ "sites list --limit 5 --after 10 --name 'a b&c'", "GET", "/sites",
	  "limit=5&name=a%20b%26c", "10", NULL, L },
	{ "sites get 3", "GET", "/sites/3", "", NULL, NULL, O },
	{ "sites create --name home", "POST", "/sites", "", NULL, "{\"name\":\"home\"}", O },
	{ "sites create --name=Zürich", "POST", "/sites", "", NULL, "{\"name\":\"Zürich\"}", O },
	{ "sites update 3 --name x", "PATCH", "/sites/3", "", NULL, "{\"name\":\"x\"}", O },
	{ "sites delete 3", "DELETE", "/sites/3", "", NULL, NULL, N },
	/* gateways */
	{ "gateways list --site 2 --all", "GET", "/gateways", "site_id=2", NULL, NULL, L },
	{ "gateways get 4", "GET", "/gateways/4", "", NULL, NULL, O },
	{ "gateways create --site 1 --name gw1", "POST", "/gateways", "", NULL,
	  "{\"site_id\":1,\"name\":\"gw1\"}", O },
	{ "gateways update 4 --name gw2", "PATCH", "/gateways/4", "", NULL,
	  "{\"name\":\"gw2\"}", O },
	{ "gateways delete 4", "DELETE", "/gateways/4", "", NULL, NULL, N },
	/* resources */
	{ "resources list --type dns --site 1 --address '*.corp.test'", "GET", "/resources",
	  "type=dns&site_id=1&address=%2A.corp.test", NULL, NULL, L },
	{ "resources get 5", "GET", "/resources/5", "", NULL, NULL, O },
	{ "resources create --type dns --address '*.corp.test' --name N --site 1 "
	  "--filter tcp:443 --filter udp:8000-8100 --filter icmp --description D",
	  "POST", "/resources", "", NULL,
	  "{\"type\":\"dns\",\"address\":\"*.corp.test\",\"name\":\"N\",\"site_id\":1,"
	  "\"filters\":[{\"protocol\":\"tcp\",\"ports\":\"443\"},{\"protocol\":\"udp\","
	  "\"ports\":\"8000-8100\"},{\"protocol\":\"icmp\"}],\"description\":\"D\"}", O },
	{ "resources create --type cidr --address 203.0.113.128/25 --name lan --site 2 "
	  "--filter tcp", "POST", "/resources", "", NULL,
	  "{\"type\":\"cidr\",\"address\":\"203.0.113.128/25\",\"name\":\"lan\","
	  "\"site_id\":2,\"filters\":[{\"protocol\":\"tcp\"}]}", O },
	{ "resources update 5 --no-filters --description ''", "PATCH", "/resources/5", "",
	  NULL, "{\"filters\":[],\"description\":\"\"}", O },
	{ "resources update 5 --filter udp:53", "PATCH", "/resources/5", "", NULL,
	  "{\"filters\":[{\"protocol\":\"udp\",\"ports\":\"53\"}]}", O },
	{ "resources delete 5", "DELETE", "/resources/5", "", NULL, NULL, N },
	/* users */
	{ "users list --disabled --email a@corp.test", "GET", "/users",
	  "disabled=true&email=a%40corp.test", NULL, NULL, L },
	{ "users list --enabled", "GET", "/users", "disabled=false", NULL, NULL, L },
	{ "users get 2", "GET", "/users/2", "", NULL, NULL, O },
	{ "users create --name Alice --email alice@corp.test --disabled", "POST", "/users", "",
	  NULL, "{\"name\":\"Alice\",\"email\":\"alice@corp.test\",\"disabled\":true}", O },
	{ "users update 2 --no-email --enabled", "PATCH", "/users/2", "", NULL,
	  "{\"email\":null,\"disabled\":false}", O },
	{ "users delete 2", "DELETE", "/users/2", "", NULL, NULL, N },
	/* groups */
	{ "groups list", "GET", "/groups", "", NULL, NULL, L },
	{ "groups get 7", "GET", "/groups/7", "", NULL, NULL, O },
	{ "groups create --name engineering", "POST", "/groups", "", NULL,
	  "{\"name\":\"engineering\"}", O },
	{ "groups update 7 --name eng", "PATCH", "/groups/7", "", NULL, "{\"name\":\"eng\"}", O },
	{ "groups delete 7", "DELETE", "/groups/7", "", NULL, NULL, N },
	{ "groups members 7 --limit 3", "GET", "/groups/7/members", "limit=3", NULL, NULL, L },
	{ "groups add-member 7 2", "PUT", "/groups/7/members/2", "", NULL, NULL, O },
	{ "groups remove-member 7 2", "DELETE", "/groups/7/members/2", "", NULL, NULL, N },
	/* policies */
	{ "policies list --group 7 --resource 5", "GET", "/policies",
	  "group_id=7&resource_id=5", NULL, NULL, L },
	{ "policies get 9", "GET", "/policies/9", "", NULL, NULL, O },
	{ "policies create --group 7 --resource 5", "POST", "/policies", "", NULL,
	  "{\"group_id\":7,\"resource_id\":5}", O },
	{ "policies create --group 7 --resource 5 --window mon,tue,wed@09:00-17:00 "
	  "--window sat-sun@22:00-02:00 --window 12:00-13:00 --time-zone Europe/Berlin "
	  "--source 198.51.100.0/24 --source 2001:db8::/32 --expires 2026-12-31T00:00:00Z "
	  "--description 'on call'",
	  "POST", "/policies", "", NULL,
	  "{\"group_id\":7,\"resource_id\":5,\"conditions\":{\"time_windows\":["
	  "{\"days\":[\"mon\",\"tue\",\"wed\"],\"start\":\"09:00\",\"end\":\"17:00\"},"
	  "{\"days\":[\"sat\",\"sun\"],\"start\":\"22:00\",\"end\":\"02:00\"},"
	  "{\"days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"],"
	  "\"start\":\"12:00\",\"end\":\"13:00\"}],\"time_zone\":\"Europe/Berlin\","
	  "\"source_cidrs\":[\"198.51.100.0/24\",\"2001:db8::/32\"]},"
	  "\"expires_at\":\"2026-12-31T00:00:00Z\",\"description\":\"on call\"}", O },
	{ "policies create --group 7 --resource 5 --window fri-mon@00:00-24:00", "POST",
	  "/policies", "", NULL,
	  "{\"group_id\":7,\"resource_id\":5,\"conditions\":{\"time_windows\":["
	  "{\"days\":[\"mon\",\"fri\",\"sat\",\"sun\"],\"start\":\"00:00\",\"end\":\"24:00\"}]}}",
	  O },
	{ "policies update 9 --no-conditions --no-expiry", "PATCH", "/policies/9", "", NULL,
	  "{\"conditions\":{},\"expires_at\":null}", O },
	{ "policies update 9 --source 10.0.0.0/8", "PATCH", "/policies/9", "", NULL,
	  "{\"conditions\":{\"source_cidrs\":[\"10.0.0.0/8\"]}}", O },
	{ "policies delete 9", "DELETE", "/policies/9", "", NULL, NULL, N },
	/* clients */
	{ "clients list --user 2", "GET", "/clients", "user_id=2", NULL, NULL, L },
	{ "clients get 3", "GET", "/clients/3", "", NULL, NULL, O },
	{ "clients update 3 --name laptop", "PATCH", "/clients/3", "", NULL,
	  "{\"name\":\"laptop\"}", O },
	{ "clients revoke 3", "POST", "/clients/3/revoke", "", NULL, NULL, O },
	{ "clients delete 3", "DELETE", "/clients/3", "", NULL, NULL, N },
	/* tokens */
	{ "tokens list --kind client --user 2", "GET", "/tokens", "kind=client&user_id=2",
	  NULL, NULL, L },
	{ "tokens get 4", "GET", "/tokens/4", "", NULL, NULL, O },
	{ "tokens create --kind site --name gw --site 1 --expires 2027-01-01T00:00:00Z",
	  "POST", "/tokens", "", NULL,
	  "{\"kind\":\"site\",\"name\":\"gw\",\"site_id\":1,"
	  "\"expires_at\":\"2027-01-01T00:00:00Z\"}", ADMIN_SHAPE_SECRET },
	{ "tokens create --kind admin --name ops", "POST", "/tokens", "", NULL,
	  "{\"kind\":\"admin\",\"name\":\"ops\"}", ADMIN_SHAPE_SECRET },
	{ "tokens update 4 --name old", "PATCH", "/tokens/4", "", NULL, "{\"name\":\"old\"}", O },
	{ "tokens revoke 4", "POST", "/tokens/4/revoke", "", NULL, NULL, O },
	{ "tokens delete 4", "DELETE", "/tokens/4", "", NULL, NULL, N },
	/* settings */
	{ "settings get", "GET", "/settings", "", NULL, NULL, O },
	{ "settings set --upstream-dns 9.9.9.9 --upstream-dns 2620:fe::fe", "PATCH",
	  "/settings", "", NULL, "{\"upstream_dns\":[\"9.9.9.9\",\"2620:fe::fe\"]}", O },
	{ "settings set --upstream-dns-default", "PATCH", "/settings", "", NULL,
	  "{\"upstream_dns\":null}", O },
	{ "settings set --access-request-rate 0 --access-request-burst 50 "
	  "--flow-retention-days 30 --audit-retention-days 365", "PATCH", "/settings", "", NULL,
	  "{\"access_request_rate\":0,\"access_request_burst\":50,"
	  "\"flow_retention_days\":30,\"audit_retention_days\":365}", O },
	/* logs */
	{ "flows list --client 1 --user 2 --resource 3 --gateway 4 --event granted", "GET",
	  "/flows", "client_id=1&user_id=2&resource_id=3&gateway_id=4&event=granted", NULL,
	  NULL, L },
	{ "flows list --event traffic --protocol udp --gateway 2", "GET", "/flows",
	  "event=traffic&protocol=udp&gateway_id=2", NULL, NULL, L },
	{ "flows get 9", "GET", "/flows/9", "", NULL, NULL, O },
	{ "audit list --entity site --action create --token-id 3", "GET", "/audit",
	  "entity=site&action=create&token_id=3", NULL, NULL, L },
	{ "audit get 2", "GET", "/audit/2", "", NULL, NULL, O },
	/* raw */
	{ "raw GET /sites?limit=1", "GET", "/sites?limit=1", "", NULL, NULL, ADMIN_SHAPE_RAW },
	{ "raw POST /api/v1/sites '{\"name\": \"x\"}'", "POST", "/sites", "", NULL,
	  "{\"name\":\"x\"}", ADMIN_SHAPE_RAW },
	{ "raw PUT /groups/1/members/2", "PUT", "/groups/1/members/2", "", NULL, NULL,
	  ADMIN_SHAPE_RAW },
	/* "--" ends the options: a name that starts with a dash */
	{ "sites create --name -- ", "POST", "/sites", "", NULL, "{\"name\":\"--\"}", O },
	{ "sites update 3 --name=-x-", "PATCH", "/sites/3", "", NULL, "{\"name\":\"-x-\"}", O },
};

static void test_commands(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];
		struct admin_req r;
		char err[256] = "";
		int rc = parse(c->line, &r, err, sizeof(err));

		if (rc != 0)
			fail_msg("%s: %d %s", c->line, rc, err);
		assert_string_equal(r.method, c->method);
		assert_string_equal(r.path, c->path);
		assert_string_equal(r.query, c->query);
		if (c->after)
			assert_string_equal(r.after, c->after);
		else
			assert_null(r.after);
		assert_int_equal(r.shape, c->shape);
		assert_int_equal(r.output, ADMIN_OUT_TABLE);
		assert_null(r.help);
		if (c->body) {
			json_t *want = json_loads(c->body, 0, NULL);

			assert_non_null(want);
			if (!r.body || !json_equal(want, r.body)) {
				char *got = r.body ? json_dumps(r.body, JSON_COMPACT) : NULL;

				fail_msg("%s:\n got  %s\n want %s", c->line, got ? got : "(none)",
					 c->body);
			}
			json_decref(want);
		} else {
			assert_null(r.body);
		}
		admin_req_free(&r);
	}
}

static void test_globals(void **state)
{
	struct admin_req r;
	char err[256];

	(void)state;
	assert_int_equal(parse("--json --portal https://p.test:9443 sites list --all --ca ca.pem "
			       "--token-file tok --timeout 5", &r, err, sizeof(err)), 0);
	assert_int_equal(r.output, ADMIN_OUT_JSON);
	assert_true(r.all);
	assert_string_equal(r.portal, "https://p.test:9443");
	assert_string_equal(r.ca_file, "ca.pem");
	assert_string_equal(r.token_file, "tok");
	assert_int_equal(r.timeout_s, 5);
	assert_string_equal(r.view, "sites");
	admin_req_free(&r);

	assert_int_equal(parse("-q groups create --name eng", &r, err, sizeof(err)), 0);
	assert_int_equal(r.output, ADMIN_OUT_QUIET);
	assert_false(r.all);
	assert_null(r.portal);
	admin_req_free(&r);

	assert_int_equal(parse("groups members 2 --quiet", &r, err, sizeof(err)), 0);
	assert_int_equal(r.output, ADMIN_OUT_QUIET);
	assert_string_equal(r.view, "members");
	admin_req_free(&r);

	assert_int_equal(parse("sites delete 12", &r, err, sizeof(err)), 0);
	assert_string_equal(r.done, "deleted site 12");
	admin_req_free(&r);
	assert_int_equal(parse("policies delete 1", &r, err, sizeof(err)), 0);
	assert_string_equal(r.done, "deleted policy 1");
	admin_req_free(&r);
	assert_int_equal(parse("groups remove-member 3 4", &r, err, sizeof(err)), 0);
	assert_string_equal(r.done, "removed user 4 from group 3");
	admin_req_free(&r);
}

static void expect_help(const char *line, const char *const *wanted)
{
	struct admin_req r;
	char err[256];

	if (parse(line, &r, err, sizeof(err)) != 0)
		fail_msg("%s: %s", line, err);
	assert_non_null(r.help);
	for (; *wanted; wanted++)
		if (!strstr(r.help, *wanted))
			fail_msg("%s: help lacks \"%s\":\n%s", line, *wanted, r.help);
	admin_req_free(&r);
}

static void test_help(void **state)
{
	(void)state;
	expect_help("--help", (const char *[]){ "Usage: sluice admin", "policies",
		    "list|get|create|update|delete|members|add-member|remove-member",
		    "--portal URL", "-q, --quiet", "Exit codes", NULL });
	expect_help("groups -h", (const char *[]){ "sluice admin groups add-member GROUP_ID "
		    "USER_ID", "sluice admin groups create --name NAME", NULL });
	expect_help("resources create --help", (const char *[]){
		    "sluice admin resources create --site ID --type TYPE --address ADDRESS "
		    "--name NAME [OPTIONS]", "--filter PROTO[:PORTS]", "--description TEXT",
		    "--token-file FILE", NULL });
	expect_help("resources list --help", (const char *[]){ "--all", "--limit N",
		    "only those with this site_id", NULL });
	/* --help wins over what is missing or wrong in the rest */
	expect_help("sites create --help", (const char *[]){ "Create a site.", NULL });
	expect_help("raw --help", (const char *[]){ "METHOD PATH [JSON]", NULL });
}

struct bad_case {
	const char *line, *message;
};

static const struct bad_case bad_cases[] = {
	{ "", "what to do?" },
	{ "planets list", "no such entity: planets" },
	{ "sites", "sites what?" },
	{ "sites frobnicate", "sites has no command frobnicate" },
	{ "sites get", "sites get takes ID" },
	{ "sites get 1 2", "sites get takes ID" },
	{ "sites list 3", "sites list takes no arguments" },
	{ "groups add-member 1", "groups add-member takes GROUP_ID USER_ID" },
	{ "sites get abc", "ID must be a number (an id): abc" },
	{ "sites get 0", "ID must be a number" },
	{ "sites get 99999999999999999999", "ID must be a number" },
	{ "sites get -5", "unknown option -5" },
	{ "groups add-member 1 x", "USER_ID must be a number" },
	{ "sites list --colour", "unknown option --colour" },
	{ "sites create --site 1 --name a", "--site is not an option of sites create" },
	{ "sites get 1 --all", "--all is not an option of sites get" },
	{ "sites create", "sites create needs --name NAME" },
	{ "resources create --site 1 --type dns --name a", "needs --address ADDRESS" },
	{ "policies create --group 1", "policies create needs --resource ID" },
	{ "tokens create --name x", "tokens create needs --kind KIND" },
	{ "sites create --name a --name b", "--name given twice" },
	{ "sites create --name", "--name needs a value (NAME)" },
	{ "sites list --json=yes", "--json takes no value" },
	{ "--portal a --portal b sites list", "--portal given twice" },
	{ "resources update 1 --filter tcp --no-filters", "--filter and --no-filters cannot" },
	{ "policies update 1 --window 09:00-10:00 --no-conditions", "--window and "
	  "--no-conditions cannot" },
	{ "policies update 1 --expires 2027-01-01T00:00:00Z --no-expiry", "cannot be used" },
	{ "settings set --upstream-dns 1.1.1.1 --upstream-dns-default", "cannot be used" },
	{ "users update 1 --disabled --enabled", "--disabled and --enabled cannot" },
	{ "--json -q sites list", "--json and --quiet cannot be used together" },
	{ "sites update 3", "nothing to change" },
	{ "settings set", "nothing to change" },
	{ "resources create --site 1 --type dns --address a.test --name a --filter ftp:21",
	  "--filter: tcp[:PORTS], udp[:PORTS] or icmp: ftp:21" },
	{ "resources update 1 --filter icmp:8", "ports are N or N-M, for tcp and udp" },
	{ "resources update 1 --filter tcp:", "ports are N or N-M" },
	{ "resources update 1 --filter tcp:https", "ports are N or N-M" },
	{ "policies update 1 --window mon@9-17", "--window: [DAYS@]HH:MM-HH:MM: mon@9-17" },
	{ "policies update 1 --window monday@09:00-17:00", "days are mon..sun" },
	{ "policies update 1 --window mon-xyz@09:00-17:00", "days are mon..sun" },
	{ "policies update 1 --window 09:00", "--window: [DAYS@]HH:MM-HH:MM" },
	{ "sites list --limit ten", "--limit must be a number" },
	{ "sites list --after -1", "--after must be a number" },
	{ "settings set --flow-retention-days -1", "--flow-retention-days must be a whole number" },
	{ "settings set --access-request-rate 1.5", "--access-request-rate must be a whole" },
	{ "sites list --timeout 0", "--timeout takes seconds" },
	{ "raw FETCH /sites", "raw: METHOD is GET, POST, PUT, PATCH or DELETE" },
	{ "raw GET sites", "raw: PATH is a path under /api/v1" },
	{ "raw GET", "raw takes METHOD PATH [JSON]" },
	{ "raw POST /sites '{nope'", "raw: the body is not JSON" },
	{ "sites create --name '\xff'", "--name is not UTF-8 text" },
};

static void test_usage_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct admin_req r;
		char err[256] = "";
		int rc = parse(c->line, &r, err, sizeof(err));

		if (rc != -EINVAL || !strstr(err, c->message))
			fail_msg("\"%s\": %d \"%s\", want \"%s\"", c->line, rc, err, c->message);
		/* nothing left behind on failure */
		assert_null(r.path);
		assert_null(r.body);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_globals),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
