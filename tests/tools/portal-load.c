/* portal-load: N client sessions to a portal, each a device of its own (a
 * random public key) with the same client token, written with the project's
 * control-plane library (src/ctl/session.h) on one loop.
 *
 *   portal-load --port N --ca FILE --token SECRET [--host H] [--sessions N]
 *               [--batch B] [--seconds S]
 *
 * Opens the sessions B at a time (the next batch once the last is up), then
 * prints
 *   ready N INIT_MS              every session has its init (ms since the start)
 * and waits for resource_upserts. For each resource id that reaches all N
 * sessions it prints
 *   arrived ID N T_NS            T_NS: CLOCK_MONOTONIC when the last got it
 * It stops after S seconds (default: never) or on SIGINT/SIGTERM; exit status 1
 * if not every session got its init. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <sodium.h>

#include "ctl/session.h"
#include "lib/time.h"

enum { MAX_TRACKED = 64 }; /* resource ids: bench/portal.sh --changes up to 60 */

struct load;

struct sess {
	struct load *ld;
	struct ctl_session *s;
	bool init;
	uint64_t seen[MAX_TRACKED]; /* resource ids upserted to this session */
	unsigned nseen;
};

struct load {
	struct sess *sess;
	size_t n, inits, failures;
	uint64_t ids[MAX_TRACKED];  /* resource ids being counted */
	size_t counts[MAX_TRACKED];
	unsigned nids;
};

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void count(struct load *ld, uint64_t id)
{
	unsigned i;

	for (i = 0; i < ld->nids && ld->ids[i] != id; i++)
		;
	if (i == ld->nids) {
		if (ld->nids == MAX_TRACKED)
			return;
		ld->ids[ld->nids] = id;
		ld->counts[ld->nids++] = 0;
	}
	if (++ld->counts[i] == ld->n) {
		printf("arrived %llu %zu %llu\n", (unsigned long long)id, ld->n,
		       (unsigned long long)time_mono_ns());
		fflush(stdout);
	}
}

static void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	struct sess *x = arg;

	(void)s;
	if (m->type == CTL_INIT_CLIENT && !x->init) {
		x->init = true;
		x->ld->inits++;
	} else if (m->type == CTL_RESOURCE_UPSERT) {
		for (unsigned i = 0; i < x->nseen; i++)
			if (x->seen[i] == m->resource.id)
				return; /* counted once per session */
		if (x->nseen < MAX_TRACKED)
			x->seen[x->nseen++] = m->resource.id;
		count(x->ld, m->resource.id);
	}
}

static void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct sess *x = arg;

	(void)s;
	if (ev == CTL_EV_DISCONNECTED) {
		if (!x->init)
			x->ld->failures++;
		if (x->ld->failures <= 5)
			fprintf(stderr, "portal-load: a session failed: %s\n", why ? why : "?");
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'c' },
		{ "token", required_argument, NULL, 't' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = "127.0.0.1", *ca = NULL, *token = NULL;
	size_t n = 100, batch = 100, opened = 0;
	struct load ld = { 0 };
	struct ctl_loop *loop;
	uint64_t t0, end = 0;
	struct rlimit rl;
	int c, port = 0;
	bool ready = false;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': ca = optarg; break;
		case 't': token = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'b': batch = strtoul(optarg, NULL, 10); break;
		case 's': end = time_mono_ns() + strtoull(optarg, NULL, 10) * NSEC_PER_SEC; break;
		default: return 2;
		}
	}
	if (!port || !ca || !token || !n || !batch || sodium_init() < 0)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	ld.n = n;
	ld.sess = calloc(n, sizeof(*ld.sess));
	if (!ld.sess || ctl_loop_new(ca, &loop) < 0)
		return 1;
	t0 = time_mono_ns();
	while (!stop && (!end || time_mono_ns() < end)) {
		/* at most a batch of handshakes in flight */
		while (opened < n && opened - ld.inits - ld.failures < batch) {
			struct sess *x = &ld.sess[opened++];
			uint8_t k[32];
			char key[64];
			struct ctl_session_config cfg = {
				.host = host, .port = (uint16_t)port, .path = "/client/ws",
				.token = token, .public_key = key, .role = CTL_ROLE_CLIENT,
				.no_reconnect = true, .on_message = on_message,
				.on_event = on_event, .arg = x,
			};

			randombytes_buf(k, sizeof(k));
			sodium_bin2base64(key, sizeof(key), k, sizeof(k),
					  sodium_base64_VARIANT_ORIGINAL);
			x->ld = &ld;
			if (ctl_session_open(loop, &cfg, &x->s) < 0) {
				ld.failures++;
				x->s = NULL;
			}
		}
		ctl_loop_run(loop, 20);
		if (!ready && ld.inits + ld.failures == n) {
			ready = true;
			printf("ready %zu %llu\n", ld.inits,
			       (unsigned long long)((time_mono_ns() - t0) / NSEC_PER_MSEC));
			fflush(stdout);
		}
	}
	ctl_loop_free(loop); /* closes the sessions */
	free(ld.sess);
	return ld.inits == n ? 0 : 1;
}
