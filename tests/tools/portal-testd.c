/* portal-testd: the portal's session half alone (store + policy engine + hub +
 * the TLS server, no REST API), for bench/portal.sh and by-hand tests.
 *
 *   portal-testd --dir DIR [--port N] [--tz-dir DIR] [--log-level L]
 *
 * In DIR (which must exist) it makes a CA and a server certificate for
 * 127.0.0.1 (ca.pem, server.pem) and a database with one site, one group with
 * one user, a resource and a policy granting it, and one client token of that
 * user. Prints one line once listening:
 *   port N token SECRET ca DIR/ca.pem
 * On SIGUSR1 it makes one admin change, in the loop, through the store (a new
 * resource and a policy granting it to the group, so every session of the user
 * must be sent one resource_upsert), and prints
 *   changed RESOURCE_ID T_NS
 * with T_NS the CLOCK_MONOTONIC time just before the change (the load tool's
 * clock too). SIGINT/SIGTERM stop it. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lib/log.h"
#include "lib/time.h"
#include "portal/http.h"
#include "portal/hub.h"
#include "portal/policy.h"
#include "portal/tls.h"
#include "store/store.h"

struct testd {
	struct store *st;
	struct hub *hub;
	int64_t site, group, changes;
};

static struct http_server *the_server; /* for the signal handlers only */
static volatile sig_atomic_t change_wanted;

static void on_stop(int sig)
{
	(void)sig;
	if (the_server)
		http_server_stop(the_server);
}

static void on_usr1(int sig)
{
	(void)sig;
	change_wanted = 1;
}

static int64_t create(struct store *st, const char *entity, json_t *in)
{
	struct store_err err = { 0 };
	json_t *out = NULL;
	int64_t id = -1;

	if (in && store_create(st, entity, in, &out, &err) == 0)
		id = json_integer_value(json_object_get(out, "id"));
	else
		log_err("portal-testd: creating a row of %s: %s: %s", entity, err.field, err.msg);
	json_decref(in);
	json_decref(out);
	return id;
}

static void change(struct testd *t)
{
	uint64_t t0 = time_mono_ns();
	char name[64];
	int64_t res;

	snprintf(name, sizeof(name), "bench-%lld", (long long)++t->changes);
	res = create(t->st, "resources", json_pack("{sIssssss}", "site_id", (json_int_t)t->site,
						   "type", "cidr", "name", name, "address",
						   "10.200.0.0/16"));
	if (res < 0 || create(t->st, "policies", json_pack("{sIsI}", "group_id",
			      (json_int_t)t->group, "resource_id", (json_int_t)res)) < 0)
		return;
	printf("changed %lld %llu\n", (long long)res, (unsigned long long)t0);
	fflush(stdout);
}

static void tick(void *arg)
{
	struct testd *t = arg;

	if (change_wanted) {
		change_wanted = 0;
		change(t);
	}
	hub_tick(t->hub);
}

static int setup(const char *dir, struct testd *t, char token[STORE_TOKEN_SECRET_SIZE])
{
	static const char *const dns[] = { "localhost" };
	static const char *const ips[] = { "127.0.0.1" };
	const struct tls_names names = { dns, 1, ips, 1 };
	char ca[512], ca_key[512], cert[512], key[512], db[512];
	struct store_err err;
	int64_t user, res;
	json_t *limit;
	int r;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", dir);
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(db, sizeof(db), "%s/portal.db", dir);
	if (tls_ca_create(ca, ca_key, "portal-testd CA", 1) < 0 ||
	    tls_server_create(ca, ca_key, &names, 1, cert, key) < 0) {
		log_err("portal-testd: certificates in %s failed", dir);
		return -1;
	}
	if (store_open(db, &t->st, &err) < 0) {
		log_err("portal-testd: %s: %s", db, err.msg);
		return -1;
	}
	t->site = create(t->st, "sites", json_pack("{ss}", "name", "bench"));
	t->group = create(t->st, "groups", json_pack("{ss}", "name", "staff"));
	user = create(t->st, "users", json_pack("{ss}", "name", "load"));
	res = create(t->st, "resources", json_pack("{sIssssss}", "site_id", (json_int_t)t->site,
						   "type", "dns", "name", "intranet", "address",
						   "*.corp.example.com"));
	if (t->site < 0 || t->group < 0 || user < 0 || res < 0 ||
	    store_member_add(t->st, t->group, user, NULL, &err) < 0 ||
	    create(t->st, "policies", json_pack("{sIsI}", "group_id", (json_int_t)t->group,
						"resource_id", (json_int_t)res)) < 0 ||
	    store_token_create(t->st, STORE_TOKEN_CLIENT, "load", user, 0, token, NULL, &err) < 0)
		return -1;
	/* every load session is a device of this one user */
	limit = json_pack("{si}", "device_limit", 1000000);
	r = limit ? store_settings_set(t->st, limit, NULL, &err) : -1;
	json_decref(limit);
	return r < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "tz-dir", required_argument, NULL, 'z' },
		{ "log-level", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const paths[] = { "/client/ws", "/gateway/ws", NULL };
	const char *dir = NULL, *tz_dir = "/usr/share/zoneinfo";
	char token[STORE_TOKEN_SECRET_SIZE], cert[512], key[512];
	struct http_config cfg = { 0 };
	struct policy_engine *pe = NULL;
	struct http_server *srv = NULL;
	struct testd t = { 0 };
	enum log_level lvl = LOG_LVL_WARN;
	struct rlimit rl;
	int c, port = 0, rc = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'p')
			port = atoi(optarg);
		else if (c == 'z')
			tz_dir = optarg;
		else if (c == 'l' && log_level_parse(optarg, &lvl) == 0)
			continue;
		else
			return 2;
	}
	if (!dir)
		return 2;
	log_setup(lvl, "portal-testd");
	/* thousands of sessions: lws sizes its tables from this limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (setup(dir, &t, token) < 0 || policy_engine_new(tz_dir, 3600, &pe) < 0 ||
	    hub_new(t.st, pe, NULL, &t.hub) < 0)
		goto out;
	store_set_change_cb(t.st, hub_store_changed, t.hub);
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	cfg.address = "127.0.0.1";
	cfg.port = port;
	cfg.cert_path = cert;
	cfg.key_path = key;
	cfg.ws_paths = paths;
	cfg.ws = hub_ws_ops();
	cfg.ws_arg = t.hub;
	cfg.tick = tick;
	cfg.tick_arg = &t;
	cfg.tick_ms = HUB_TICK_MS;
	cfg.ping_s = HUB_PING_S;
	cfg.idle_timeout_s = HUB_IDLE_S;
	cfg.max_message = HUB_MAX_MESSAGE;
	/* the load tool opens its sessions in batches, all from 127.0.0.1 */
	cfg.limits.max_conns_per_source = 100000;
	if (http_server_new(&cfg, &srv) < 0) {
		log_err("portal-testd: cannot listen");
		goto out;
	}
	the_server = srv;
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	printf("port %d token %s ca %s/ca.pem\n", http_server_port(srv), token, dir);
	fflush(stdout);
	rc = http_server_run(srv) < 0;
out:
	the_server = NULL;
	http_server_free(srv);
	if (t.st)
		store_set_change_cb(t.st, NULL, NULL);
	hub_free(t.hub);
	policy_engine_free(pe);
	store_close(t.st);
	explicit_bzero(token, sizeof(token));
	return rc;
}
