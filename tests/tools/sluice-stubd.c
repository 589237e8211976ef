/* sluice-stubd: the client's stub resolver alone, for tests and benchmarks.
 *
 *   sluice-stubd --resources FILE --resource-dns ADDR[:PORT] [--backup PATH]
 *                [--log-level L]
 *
 * In the current network namespace it does what the client does at start: reads
 * the host's nameservers from resolv.conf, gives each a sentinel address (put on
 * the loopback device here; the client puts them on its TUN), points resolv.conf
 * at the sentinels, and serves. FILE holds one DNS resource pattern a line. The
 * resource DNS server stands in for the gateway: the query goes to it, and its
 * real answer is bound to proxy IPs from the offer by the gateway's own binding
 * module. SIGHUP rereads FILE (resources added, changed and removed live).
 * SIGINT/SIGTERM restore resolv.conf and remove the addresses; after a kill -9
 * the next start restores it first.
 *
 * The backup of resolv.conf lives at PATH (default: next to /etc/resolv.conf).
 * Under `ip netns exec`, /etc/resolv.conf is a bind mount of the namespace's own
 * file while /etc is the host's, so the default would put one namespace's backup
 * into the host's /etc: there --backup is required. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/binding.h"
#include "dns/hostdns.h"
#include "dns/msg.h"
#include "dns/offer.h"
#include "dns/pool.h"
#include "dns/stub.h"
#include "lib/log.h"
#include "lib/rand.h"
#include "net/netlink.h"

enum { MAX_SENTINELS = 16, GW_SLOTS = 4096 };

struct gw_slot {
	uint64_t token;
	uint16_t client_id;
	bool used;
	struct offer offer;
};

/* The stand-in gateway: a UDP socket to the resource DNS server. */
struct gateway {
	struct stub *stub;
	int fd;
	struct binding_table *bindings;
	struct gw_slot slot[GW_SLOTS]; /* by the ID sent upstream */
	struct dns_msg msg;
};

static struct stub *the_stub; /* for the signal handler only */

static void on_signal(int sig)
{
	(void)sig;
	if (the_stub)
		stub_stop(the_stub);
}

static int parse_addr(const char *s, uint16_t defport, struct sockaddr_storage *out)
{
	char host[INET6_ADDRSTRLEN + 8];
	const char *port = NULL;
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || (size_t)(end - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		if (end[1] == ':')
			port = end + 2;
	} else {
		const char *colon = strchr(s, ':');

		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - s) : (int)strlen(s), s);
		if (colon)
			port = colon + 1;
	}
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port ? (uint16_t)atoi(port) : defport);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port ? (uint16_t)atoi(port) : defport);
		return 0;
	}
	return -EINVAL;
}

/* The stub hands over a resource query: send it to the resource DNS server. */
static int gw_send(void *arg, uint64_t token, uint64_t resource_id, const uint8_t *query,
		   size_t len)
{
	struct gateway *gw = arg;
	uint8_t buf[1024];
	struct dns_query q;
	uint16_t id;
	struct gw_slot *sl;

	(void)resource_id;
	if (len > sizeof(buf) || dns_query_parse(query, len, &q) < 0)
		return -EINVAL;
	id = (uint16_t)rand_u32();
	sl = &gw->slot[id % GW_SLOTS];
	sl->used = true;
	sl->token = token;
	sl->client_id = q.id;
	if (offer_find(&q.edns, &sl->offer) < 0)
		memset(&sl->offer, 0, sizeof(sl->offer));
	memcpy(buf, query, len);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	return send(gw->fd, buf, len, 0) < 0 ? -errno : 0;
}

/* The resource DNS server answered: bind its addresses to the offer, as the
 * gateway does, and give the stub the result. */
static void gw_readable(void *arg)
{
	struct gateway *gw = arg;
	uint8_t buf[65536];
	ssize_t n;

	while ((n = recv(gw->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
		struct gw_slot *sl = &gw->slot[id % GW_SLOTS];
		struct offer_use use;
		size_t len;
		bool trunc;

		if (n < 12 || !sl->used || dns_msg_parse(&gw->msg, buf, (size_t)n) < 0)
			continue;
		sl->used = false;
		if (binding_apply(gw->bindings, &gw->msg, &sl->offer, &use) < 0)
			continue;
		gw->msg.id = sl->client_id;
		gw->msg.edns.present = false;
		if (dns_msg_write(&gw->msg, buf, sizeof(buf), sizeof(buf), &len, &trunc) == 0)
			stub_resource_answer(gw->stub, sl->token, buf, len);
	}
}

/* Resources are identified by their pattern's text, so that a reload changes
 * only what changed in the file. */
static uint64_t pattern_id(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h ? h : 1;
}

enum { MAX_RESOURCES = 100000 };

struct resources {
	const char *path;
	uint64_t *ids;
	size_t n;
	struct stub *stub;
	int sigfd;
};

/* (Re)reads the file: adds new patterns, removes vanished ones, leaves the
 * others (and their cached answers) alone. Queries in flight are not touched. */
static int load_resources(struct resources *rs)
{
	char line[512], err[256];
	uint64_t *ids = calloc(MAX_RESOURCES, sizeof(*ids));
	FILE *f = fopen(rs->path, "r");
	size_t n = 0, lineno = 0;
	int r = 0;

	if (!f || !ids) {
		r = f ? -ENOMEM : -errno;
		goto out;
	}
	while (fgets(line, sizeof(line), f) && n < MAX_RESOURCES) {
		bool known = false;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		ids[n] = pattern_id(line);
		for (size_t i = 0; i < rs->n && !known; i++)
			known = rs->ids[i] == ids[n];
		if (!known && stub_resource_set(rs->stub, ids[n], line, err, sizeof(err)) < 0) {
			log_err("%s:%zu: %s: %s", rs->path, lineno, line, err);
			continue; /* a bad line costs only itself */
		}
		n++;
	}
	for (size_t i = 0; i < rs->n; i++) {
		bool kept = false;

		for (size_t k = 0; k < n && !kept; k++)
			kept = ids[k] == rs->ids[i];
		if (!kept)
			stub_resource_remove(rs->stub, rs->ids[i]);
	}
	free(rs->ids);
	rs->ids = ids;
	rs->n = n;
	ids = NULL;
	log_info("%zu resources from %s", n, rs->path);
out:
	free(ids);
	if (f)
		fclose(f);
	return r;
}

/* SIGHUP: reload the resources file (a signalfd, read in the stub's loop). */
static void on_sighup(void *arg)
{
	struct resources *rs = arg;
	struct signalfd_siginfo si;

	while (read(rs->sigfd, &si, sizeof(si)) == sizeof(si))
		load_resources(rs);
}

/* Sentinel i of a family: 100.100.111.(i+1) or fd00:2021:1111:8000:100:100:111:(i+1). */
static void sentinel_addr(int family, unsigned i, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)out;

		a->sin_family = AF_INET;
		a->sin_port = htons(53);
		inet_pton(AF_INET, "100.100.111.0", &a->sin_addr);
		((uint8_t *)&a->sin_addr)[3] = (uint8_t)(i + 1);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(53);
		inet_pton(AF_INET6, "fd00:2021:1111:8000:100:100:111:0", &a->sin6_addr);
		a->sin6_addr.s6_addr[15] = (uint8_t)(i + 1);
	}
}

static void *sa_ip(struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET ? (void *)&((struct sockaddr_in *)a)->sin_addr
				       : (void *)&((struct sockaddr_in6 *)a)->sin6_addr;
}

static bool resolv_is_bind_mount(void)
{
	struct statx st;

	return statx(AT_FDCWD, "/etc/resolv.conf", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
		     &st) == 0 && (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (st.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "resource-dns", required_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "backup", required_argument, NULL, 'b' },
		{ 0 },
	};
	struct hostdns_prefix sent_pfx[2] = {
		{ .family = AF_INET, .bits = 24 },
		{ .family = AF_INET6, .bits = 120 },
	};
	struct hostdns_paths paths = { .sentinels = sent_pfx, .n_sentinels = 2 };
	struct sockaddr_storage up[MAX_SENTINELS], sen[MAX_SENTINELS], gwaddr;
	struct gateway gw = { .fd = -1 };
	struct resources rs = { .sigfd = -1 };
	sigset_t hup;
	struct stub_resolver resolver = { .send = gw_send, .arg = &gw };
	struct stub_config cfg = { 0 };
	struct hostdns_conf conf;
	struct pool_config pc;
	struct pool *pool = NULL;
	struct nl *nl = NULL;
	const char *resfile = NULL, *resdns = NULL;
	enum log_level level = LOG_LVL_INFO;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned n4 = 0, n6 = 0;
	size_t n;
	int c, r, lo, rc = 1;

	while ((c = getopt_long(argc, argv, "r:d:l:b:", opts, NULL)) != -1) {
		if (c == 'r')
			resfile = optarg;
		else if (c == 'b')
			paths.backup = optarg;
		else if (c == 'd')
			resdns = optarg;
		else if (c == 'l' && log_level_parse(optarg, &level) == 0)
			continue;
		else
			goto usage;
	}
	if (!resfile || !resdns || parse_addr(resdns, 53, &gwaddr) < 0)
		goto usage;
	log_setup(level, "sluice-stubd");
	inet_pton(AF_INET, "100.100.111.0", &sent_pfx[0].ip4);
	inet_pton(AF_INET6, "fd00:2021:1111:8000:100:100:111:0", &sent_pfx[1].ip6);

	if (!paths.backup && resolv_is_bind_mount()) {
		log_err("/etc/resolv.conf is a bind mount (ip netns exec?): give --backup PATH "
			"so the backup does not land in the host's /etc");
		return 2;
	}
	/* A backup left by a run that was killed goes back first. */
	r = hostdns_recover(&paths);
	if (r < 0)
		log_warn("restoring resolv.conf from an earlier run: %s", strerror(-r));
	if ((r = hostdns_read(&paths, &conf)) < 0) {
		log_err("reading resolv.conf: %s", strerror(-r));
		return 1;
	}
	n = hostdns_upstreams(&conf, sent_pfx, 2, up, MAX_SENTINELS);
	if (n == 0) {
		log_err("resolv.conf names no nameserver but sentinels");
		return 1;
	}
	if ((r = nl_open(&nl)) < 0 || (lo = nl_link_index("lo")) < 0) {
		log_err("netlink: %s", strerror(r < 0 ? -r : ENODEV));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		int fam = up[i].ss_family;

		sentinel_addr(fam, fam == AF_INET ? n4++ : n6++, &sen[i]);
		r = nl_addr_add(nl, lo, fam, sa_ip(&sen[i]), fam == AF_INET ? 32 : 128);
		if (r < 0 && r != -EEXIST) {
			log_err("adding a sentinel address: %s", strerror(-r));
			goto out;
		}
	}

	/* The defaults: DESIGN's proxy ranges, the sentinel ranges excluded. */
	pool_config_default(&pc);
	if ((r = pool_new(&pool, &pc)) < 0) {
		log_err("proxy IP pool: %s", strerror(-r));
		goto out;
	}
	gw.bindings = binding_table_new(BINDING_DEFAULT_MAX);
	dns_msg_init(&gw.msg);
	gw.fd = socket(gwaddr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (!gw.bindings || gw.fd < 0 ||
	    connect(gw.fd, (struct sockaddr *)&gwaddr,
		    gwaddr.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						: sizeof(struct sockaddr_in6)) < 0) {
		log_err("resource DNS %s: %s", resdns, strerror(errno));
		goto out;
	}
	cfg.sentinels = sen;
	cfg.upstreams = up;
	cfg.n = n;
	cfg.resolver = &resolver;
	cfg.pool = pool;
	if ((r = stub_new(&cfg, &the_stub)) < 0) {
		log_err("starting the stub: %s", strerror(-r));
		goto out;
	}
	gw.stub = the_stub;
	rs.path = resfile;
	rs.stub = the_stub;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, NULL);
	rs.sigfd = signalfd(-1, &hup, SFD_NONBLOCK | SFD_CLOEXEC);
	if (load_resources(&rs) < 0 || rs.sigfd < 0 ||
	    stub_add_fd(the_stub, rs.sigfd, on_sighup, &rs) < 0 ||
	    stub_add_fd(the_stub, gw.fd, gw_readable, &gw) < 0)
		goto out;
	r = hostdns_apply(&paths, &conf, sen, n);
	if (r < 0) {
		log_err("pointing resolv.conf at the sentinels: %s", strerror(-r));
		goto out;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (size_t i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

		inet_ntop(sen[i].ss_family, sa_ip(&sen[i]), a, sizeof(a));
		inet_ntop(up[i].ss_family, sa_ip(&up[i]), b, sizeof(b));
		log_info("sentinel %s -> upstream %s", a, b);
	}
	log_info("serving; resources from %s, resource DNS %s", resfile, resdns);
	rc = stub_run(the_stub) < 0;
	r = hostdns_revert(&paths);
	if (r < 0)
		log_err("restoring resolv.conf: %s", strerror(-r));
	log_info("stopped; resolv.conf restored");
out:
	stub_free(the_stub);
	the_stub = NULL;
	for (size_t i = 0; nl && i < n; i++)
		nl_addr_del(nl, lo, sen[i].ss_family, sa_ip(&sen[i]),
			    sen[i].ss_family == AF_INET ? 32 : 128);
	nl_close(nl);
	if (gw.fd >= 0)
		close(gw.fd);
	if (rs.sigfd >= 0)
		close(rs.sigfd);
	free(rs.ids);
	binding_table_free(gw.bindings);
	dns_msg_free(&gw.msg);
	pool_free(pool);
	return rc;
usage:
	fprintf(stderr, "usage: sluice-stubd --resources FILE --resource-dns ADDR[:PORT] "
			"[--backup PATH] [--log-level err|warn|info|debug]\n");
	return 2;
}
