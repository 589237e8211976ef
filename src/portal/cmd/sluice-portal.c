/* sluice-portal: the portal daemon.
 *
 *   sluice-portal init --data DIR --name DNSNAME... --address IP...
 *       Creates DIR (0700) with the database (portal.db), a CA (ca.pem, shareable;
 *       ca.key) and a server certificate for the names and addresses (server.pem,
 *       server.key), and prints a new admin token on stdout, once. Refuses a DIR
 *       that holds any of these files; on failure removes what it created.
 *
 *   sluice-portal serve --data DIR [--listen ADDR] [--port 8443] [--web DIR]
 *                       [--tz-dir DIR] [--log-level LEVEL]
 *                       [--head-timeout MS] [--body-min-rate BYTES_PER_S]
 *                       [--body-grace MS] [--max-conns N]
 *                       [--max-conns-per-source N] [--accept-pause MS]
 *                       [--ws-buffer-total BYTES]
 *       Serves HTTPS (REST under /api/v1, the web UI from --web) and WSS until
 *       SIGTERM or SIGINT, then closes cleanly. Logs go to stderr; once listening
 *       it logs "listening on ADDR port N" (--port 0 picks a free port). The
 *       connection limits are those of struct http_limits (docs/security.md).
 *
 * --name and --address may be repeated or take comma-separated lists. Exit
 * status: 0 done, 1 failure, 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/log.h"
#include "portal/api.h"
#include "portal/http.h"
#include "portal/hub.h"
#include "portal/policy.h"
#include "portal/tls.h"
#include "store/store.h"

#define DEFAULT_PORT 8443
#define DEFAULT_TZ_DIR "/usr/share/zoneinfo"
#define MAX_LIFETIME (12 * 3600) /* longest authorization the policy engine grants */
#define MAX_NAMES 32

/* The files of a data directory, in the order init creates them. */
enum { F_CA, F_CA_KEY, F_CERT, F_KEY, F_DB, F_DB_WAL, F_DB_SHM, F_COUNT };
static const char *const file_names[F_COUNT] = {
	"ca.pem", "ca.key", "server.pem", "server.key", "portal.db", "portal.db-wal",
	"portal.db-shm",
};

struct data_dir {
	char path[F_COUNT][PATH_MAX];
};

static int data_dir_paths(const char *dir, struct data_dir *d)
{
	for (int i = 0; i < F_COUNT; i++) {
		int n = snprintf(d->path[i], sizeof(d->path[i]), "%s/%s", dir, file_names[i]);

		if (n < 0 || (size_t)n >= sizeof(d->path[i]))
			return -ENAMETOOLONG;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice-portal init --data DIR --name DNSNAME... --address IP...\n"
		   "       sluice-portal serve --data DIR [--listen ADDR] [--port 8443]"
		   " [--web DIR]\n"
		   "                           [--tz-dir DIR] [--log-level err|warn|info|debug]\n"
		   "                           [--head-timeout MS] [--body-min-rate BYTES_PER_S]\n"
		   "                           [--body-grace MS] [--max-conns N]\n"
		   "                           [--max-conns-per-source N] [--accept-pause MS]\n"
		   "                           [--ws-buffer-total BYTES]\n");
}

/* ---- init ------------------------------------------------------------------ */

struct names {
	const char *v[MAX_NAMES];
	size_t n;
};

/* Adds a comma-separated list (arg is modified in place: it is argv's). */
static int names_add(struct names *ns, char *arg)
{
	char *save = NULL;

	for (char *s = strtok_r(arg, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		if (ns->n == MAX_NAMES)
			return -E2BIG;
		ns->v[ns->n++] = s;
	}
	return 0;
}

/* The admin token for the one who ran init, and its audit row. */
static int init_store(const char *path, char secret[STORE_TOKEN_SECRET_SIZE])
{
	struct store_err err = { 0 };
	struct store *st;
	json_t *tok = NULL, *audit;
	int r;

	r = store_open(path, &st, &err);
	if (r < 0) {
		log_err("%s: %s", path, err.msg);
		return r;
	}
	r = store_token_create(st, STORE_TOKEN_ADMIN, "sluice-portal init", 0, 0, secret, &tok,
			       &err);
	if (r == 0) {
		audit = json_pack("{s:s,s:s,s:O,s:{s:s,s:s}}", "action", "create", "entity",
				  "tokens", "entity_id", json_object_get(tok, "id"), "detail",
				  "kind", "admin", "name", "sluice-portal init");
		r = audit ? store_create(st, "audit", audit, NULL, &err) : -ENOMEM;
		json_decref(audit);
	}
	if (r < 0)
		log_err("%s: creating the admin token: %s", path, err.msg[0] ? err.msg :
			strerror(-r));
	json_decref(tok);
	store_close(st);
	return r;
}

/* The directory, new or empty of our files; *created says which. */
static int init_dir(const char *dir, const struct data_dir *d, bool *created)
{
	struct stat sb;

	*created = mkdir(dir, 0700) == 0;
	if (!*created && errno != EEXIST) {
		log_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		log_err("%s: not a directory", dir);
		return -1;
	}
	for (int i = 0; !*created && i < F_COUNT; i++) {
		if (access(d->path[i], F_OK) == 0) {
			log_err("%s: already initialised (%s exists): nothing changed", dir,
				file_names[i]);
			return -1;
		}
	}
	if (chmod(dir, 0700) < 0) { /* it will hold keys */
		log_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "address", required_argument, NULL, 'a' },
		{ "log-level", required_argument, NULL, 'L' },
		{ 0 },
	};
	char secret[STORE_TOKEN_SECRET_SIZE];
	struct names dns = { 0 }, ips = { 0 };
	enum log_level level = LOG_LVL_INFO;
	const char *dir = NULL;
	struct data_dir d;
	bool created = false;
	uint8_t buf[16];
	struct tls_names tn;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'n':
		case 'a':
			if (names_add(c == 'n' ? &dns : &ips, optarg) < 0) {
				fprintf(stderr, "sluice-portal: at most %d names and %d addresses\n",
					MAX_NAMES, MAX_NAMES);
				return 2;
			}
			break;
		case 'L':
			if (log_level_parse(optarg, &level) < 0)
				return usage(stderr), 2;
			break;
		default: usage(stderr); return 2;
		}
	}
	if (!dir || optind != argc || dns.n + ips.n == 0) {
		usage(stderr);
		return 2;
	}
	log_setup(level, "sluice-portal");
	for (size_t i = 0; i < ips.n; i++) {
		if (inet_pton(AF_INET, ips.v[i], buf) != 1 && inet_pton(AF_INET6, ips.v[i], buf) != 1) {
			log_err("--address %s: not an IPv4 or IPv6 address", ips.v[i]);
			return 2;
		}
	}
	if (data_dir_paths(dir, &d) < 0) {
		log_err("%s: path too long", dir);
		return 1;
	}
	if (init_dir(dir, &d, &created) < 0) {
		if (created)
			rmdir(dir);
		return 1;
	}
	tn = (struct tls_names){ dns.v, dns.n, ips.v, ips.n };
	r = tls_ca_create(d.path[F_CA], d.path[F_CA_KEY], "sluice portal CA", 0);
	if (r < 0) {
		log_err("creating the CA: %s", strerror(-r));
		goto fail;
	}
	r = tls_server_create(d.path[F_CA], d.path[F_CA_KEY], &tn, 0, d.path[F_CERT],
			      d.path[F_KEY]);
	if (r < 0) {
		log_err("creating the server certificate: %s%s", strerror(-r),
			r == -EINVAL ? " (a malformed --name?)" : "");
		goto fail;
	}
	r = init_store(d.path[F_DB], secret);
	if (r < 0)
		goto fail;
	/* The token exists only in this output: if it cannot be written, undo. */
	if (printf("%s\n", secret) < 0 || fflush(stdout) == EOF) {
		sodium_memzero(secret, sizeof(secret));
		log_err("writing the admin token: %s", strerror(errno));
		goto fail;
	}
	sodium_memzero(secret, sizeof(secret));
	log_info("initialised %s for %zu names and %zu addresses; the CA for clients is %s",
		 dir, dns.n, ips.n, d.path[F_CA]);
	return 0;
fail:
	/* init_dir made sure none of these existed: they are all ours */
	for (int i = F_COUNT - 1; i >= 0; i--)
		unlink(d.path[i]);
	if (created)
		rmdir(dir);
	return 1;
}

/* ---- serve ----------------------------------------------------------------- */

/* What serve runs, created in this order and freed in reverse. */
struct portal {
	struct store *st;
	struct policy_engine *pe;
	struct api *api;
	struct hub *hub;
	struct http_server *srv;
};

static struct http_server *the_server; /* for the signal handler only */
static const char *const ws_paths[] = { "/client/ws", "/gateway/ws", NULL }; /* hub.h */

static void on_signal(int sig)
{
	(void)sig;
	if (the_server)
		http_server_stop(the_server);
}

static void portal_close(struct portal *p)
{
	http_server_free(p->srv); /* closes the sessions: before what they use */
	if (p->st)
		store_set_change_cb(p->st, NULL, NULL);
	hub_free(p->hub);
	api_free(p->api);
	policy_engine_free(p->pe);
	store_close(p->st);
}

static int portal_open(struct portal *p, const struct data_dir *d, struct http_config *cfg,
		       const char *tz_dir)
{
	struct store_err err = { 0 };
	int r;

	if (access(d->path[F_DB], F_OK) < 0) {
		log_err("%s: not found: run sluice-portal init first", d->path[F_DB]);
		return -ENOENT;
	}
	r = store_open(d->path[F_DB], &p->st, &err);
	if (r < 0) {
		log_err("%s: %s", d->path[F_DB], err.msg);
		return r;
	}
	r = policy_engine_new(tz_dir, MAX_LIFETIME, &p->pe);
	if (r < 0) {
		log_err("the policy engine (time zones in %s): %s", tz_dir, strerror(-r));
		return r;
	}
	r = api_new(p->st, p->pe, &p->api);
	if (r < 0)
		return r;
	cfg->cert_path = d->path[F_CERT];
	cfg->key_path = d->path[F_KEY];
	cfg->api_prefix = API_PREFIX;
	cfg->api = api_handle;
	cfg->authorize = api_authorize;
	cfg->api_arg = p->api;

	/* The sessions: the hub hears of every committed change (the API's, and
	 * its own) through the store. */
	r = hub_new(p->st, p->pe, NULL, &p->hub);
	if (r < 0) {
		log_err("the session hub: %s", strerror(-r));
		return r;
	}
	store_set_change_cb(p->st, hub_store_changed, p->hub);
	api_set_flows_flush(p->api, hub_flows_flush, p->hub);
	cfg->ws_paths = ws_paths;
	cfg->ws = hub_ws_ops();
	cfg->ws_arg = p->hub;
	cfg->tick = hub_tick;
	cfg->tick_arg = p->hub;
	cfg->tick_ms = HUB_TICK_MS;
	cfg->ping_s = HUB_PING_S;
	cfg->idle_timeout_s = HUB_IDLE_S;
	cfg->max_message = HUB_MAX_MESSAGE;

	r = http_server_new(cfg, &p->srv);
	if (r < 0) {
		log_err("listening on %s port %d: %s", cfg->address ? cfg->address : "*",
			cfg->port, strerror(-r));
		return r;
	}
	return 0;
}

static int parse_port(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* A limit: 1 to 2^31 - 1 (0 would mean the default). */
static int parse_limit(const char *s, unsigned *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > INT_MAX)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "web", required_argument, NULL, 'w' },
		{ "tz-dir", required_argument, NULL, 'z' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "head-timeout", required_argument, NULL, 'H' },
		{ "body-min-rate", required_argument, NULL, 'R' },
		{ "body-grace", required_argument, NULL, 'G' },
		{ "max-conns", required_argument, NULL, 'C' },
		{ "max-conns-per-source", required_argument, NULL, 'S' },
		{ "accept-pause", required_argument, NULL, 'P' },
		{ "ws-buffer-total", required_argument, NULL, 'B' },
		{ 0 },
	};
	struct http_config cfg = { .port = DEFAULT_PORT };
	struct sigaction sa = { .sa_handler = on_signal };
	enum log_level level = LOG_LVL_INFO;
	const char *dir = NULL, *tz_dir = DEFAULT_TZ_DIR;
	struct portal p = { 0 };
	struct data_dir d;
	unsigned *lim = NULL, rx_total = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'l': cfg.address = optarg; break;
		case 'p':
			if (parse_port(optarg, &cfg.port) < 0)
				return usage(stderr), 2;
			break;
		case 'w': cfg.web_root = optarg; break;
		case 'H': lim = &cfg.limits.head_timeout_ms; break;
		case 'R': lim = &cfg.limits.body_min_rate; break;
		case 'G': lim = &cfg.limits.body_grace_ms; break;
		case 'C': lim = &cfg.limits.max_conns; break;
		case 'S': lim = &cfg.limits.max_conns_per_source; break;
		case 'P': lim = &cfg.limits.accept_pause_ms; break;
		case 'B': lim = &rx_total; break;
		case 'z': tz_dir = optarg; break;
		case 'L':
			if (log_level_parse(optarg, &level) < 0)
				return usage(stderr), 2;
			break;
		default: usage(stderr); return 2;
		}
		if (lim && parse_limit(optarg, lim) < 0)
			return usage(stderr), 2;
		lim = NULL;
	}
	if (!dir || optind != argc) {
		usage(stderr);
		return 2;
	}
	cfg.max_rx_total = rx_total;
	log_setup(level, "sluice-portal");
	if (data_dir_paths(dir, &d) < 0) {
		log_err("%s: path too long", dir);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	r = portal_open(&p, &d, &cfg, tz_dir);
	if (r < 0) {
		portal_close(&p);
		return 1;
	}
	the_server = p.srv;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	log_info("listening on %s port %d", cfg.address ? cfg.address : "*",
		 http_server_port(p.srv));
	r = http_server_run(p.srv);
	the_server = NULL;
	portal_close(&p);
	if (r < 0) {
		log_err("serving: %s", strerror(-r));
		return 1;
	}
	log_info("stopped");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "init"))
		return cmd_init(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
