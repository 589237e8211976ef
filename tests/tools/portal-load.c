/* portal-load: N client sessions to a portal, each a device of its own (a
 * random public key) with the same client token, written with the project's
 * control-plane library (src/ctl/session.h).
 *
 *   portal-load --port N --ca FILE --token SECRET [--host H] [--sessions N]
 *               [--batch B] [--workers W] [--seconds S]
 *
 * The sessions are shared out over W worker processes (default 1: this one),
 * each with its own loop: a load generator, it should not be the bottleneck,
 * and lws 4.1 polls every connection of a loop on each turn. Each worker opens
 * its share B/W at a time (the next once one is up). Then this prints
 *   ready N INIT_MS              every session has its init (ms since the start)
 * and waits for resource_upserts. For each resource id that reaches all N
 * sessions it prints
 *   arrived ID N T_NS            T_NS: CLOCK_MONOTONIC when the last got it
 * It stops after S seconds (default: never) or on SIGINT/SIGTERM; exit status 1
 * if not every session got its init. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl/session.h"
#include "lib/time.h"

enum {
	MAX_TRACKED = 64, /* resource ids: bench/portal.sh --changes up to 60 */
	MAX_WORKERS = 64,
};

struct load;

struct sess {
	struct load *ld;
	struct ctl_session *s;
	bool init;
	uint64_t seen[MAX_TRACKED]; /* resource ids upserted to this session */
	unsigned nseen;
};

/* Resource ids being counted to a target (sessions, or workers' reports). */
struct tally {
	uint64_t ids[MAX_TRACKED];
	size_t counts[MAX_TRACKED];
	uint64_t last_ns[MAX_TRACKED];
	unsigned nids;
};

struct load {
	struct sess *sess;
	size_t n, inits, failures;
	struct tally t;
	int out; /* where the report lines go */
};

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* One line in one write(): lines from several workers on one pipe stay whole. */
__attribute__((format(printf, 2, 3)))
static void report(int fd, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line) && write(fd, line, (size_t)n) != n)
		fprintf(stderr, "portal-load: report: %s\n", strerror(errno));
}

/* Counts one more for id; true when it reaches target (then last_ns is the
 * latest of the times given). */
static bool tally_add(struct tally *t, uint64_t id, uint64_t ns, size_t target,
		      uint64_t *last_ns)
{
	unsigned i;

	for (i = 0; i < t->nids && t->ids[i] != id; i++)
		;
	if (i == t->nids) {
		if (t->nids == MAX_TRACKED)
			return false;
		t->ids[t->nids] = id;
		t->counts[t->nids] = 0;
		t->last_ns[t->nids++] = 0;
	}
	if (ns > t->last_ns[i])
		t->last_ns[i] = ns;
	*last_ns = t->last_ns[i];
	return ++t->counts[i] == target;
}

static void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	struct sess *x = arg;
	uint64_t ns;

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
		if (tally_add(&x->ld->t, m->resource.id, time_mono_ns(), x->ld->n, &ns))
			report(x->ld->out, "arrived %llu %zu %llu\n",
			       (unsigned long long)m->resource.id, x->ld->n,
			       (unsigned long long)ns);
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

struct opts {
	const char *host, *ca, *token;
	int port;
	size_t n, batch, workers;
	uint64_t end;
};

/* One loop with n sessions, reporting to out; the exit status. */
static int run_sessions(const struct opts *o, size_t n, size_t batch, int out)
{
	struct load ld = { .n = n, .out = out };
	struct ctl_loop *loop;
	size_t opened = 0;
	bool ready = false;
	uint64_t t0;

	ld.sess = calloc(n, sizeof(*ld.sess));
	if (!ld.sess || ctl_loop_new(o->ca, &loop) < 0)
		return 1;
	t0 = time_mono_ns();
	while (!stop && (!o->end || time_mono_ns() < o->end)) {
		/* at most a batch of handshakes in flight */
		while (opened < n && opened - ld.inits - ld.failures < batch) {
			struct sess *x = &ld.sess[opened++];
			uint8_t k[32];
			char key[64];
			struct ctl_session_config cfg = {
				.host = o->host, .port = (uint16_t)o->port, .path = "/client/ws",
				.token = o->token, .public_key = key, .role = CTL_ROLE_CLIENT,
				.no_reconnect = true, .on_message = on_message,
				.on_event = on_event, .arg = x,
			};

			randombytes_buf(k, sizeof(k));
			k[31] &= 0x7f; /* a key the portal takes (wg/pubkey.h) */
			sodium_bin2base64(key, sizeof(key), k, sizeof(k),
					  sodium_base64_VARIANT_ORIGINAL);
			x->ld = &ld;
			if (ctl_session_open(loop, &cfg, &x->s) < 0) {
				ld.failures++;
				x->s = NULL;
			}
		}
		/* once all are up, wake rarely: each turn polls every session */
		ctl_loop_run(loop, ready ? 250 : 20);
		if (!ready && ld.inits + ld.failures == n) {
			ready = true;
			report(out, "ready %zu %llu\n", ld.inits,
			       (unsigned long long)((time_mono_ns() - t0) / NSEC_PER_MSEC));
		}
	}
	ctl_loop_free(loop); /* closes the sessions */
	free(ld.sess);
	return ld.inits == n ? 0 : 1;
}

/* The workers' lines into one report: ready once all are, arrived once all
 * have their share, with the latest time. */
static void merge(FILE *in, size_t workers, size_t n)
{
	struct tally t = { 0 };
	size_t nready = 0, inits = 0;
	unsigned long long a, b, c, ms = 0;
	uint64_t last;
	char line[128];

	while (fgets(line, sizeof(line), in)) {
		if (sscanf(line, "ready %llu %llu", &a, &b) == 2) {
			inits += a;
			ms = b > ms ? b : ms;
			if (++nready == workers)
				report(STDOUT_FILENO, "ready %zu %llu\n", inits, ms);
		} else if (sscanf(line, "arrived %llu %llu %llu", &a, &b, &c) == 3 &&
			   tally_add(&t, a, c, workers, &last)) {
			report(STDOUT_FILENO, "arrived %llu %zu %llu\n", a, n,
			       (unsigned long long)last);
		}
	}
}

static int run_workers(const struct opts *o)
{
	pid_t pids[MAX_WORKERS];
	int p[2], rc = 0, st;
	size_t w, started = 0;
	FILE *in;

	if (pipe(p) < 0)
		return 1;
	for (w = 0; w < o->workers; w++) {
		/* shares differ by one at most; so do the batches */
		size_t n = o->n / o->workers + (w < o->n % o->workers);
		size_t batch = o->batch / o->workers + (w < o->batch % o->workers);

		pids[w] = fork();
		if (pids[w] < 0)
			break;
		if (pids[w] == 0) {
			close(p[0]);
			_exit(run_sessions(o, n, batch ? batch : 1, p[1]));
		}
		started++;
	}
	close(p[1]);
	in = fdopen(p[0], "r");
	if (in && started == o->workers)
		merge(in, o->workers, o->n); /* until every worker has exited */
	for (w = 0; w < started; w++)
		kill(pids[w], SIGTERM);
	for (w = 0; w < started; w++)
		if (waitpid(pids[w], &st, 0) != pids[w] || !WIFEXITED(st) || WEXITSTATUS(st))
			rc = 1;
	if (in)
		fclose(in);
	else
		close(p[0]);
	return started == o->workers ? rc : 1;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'c' },
		{ "token", required_argument, NULL, 't' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "workers", required_argument, NULL, 'w' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .host = "127.0.0.1", .n = 100, .batch = 100, .workers = 1 };
	struct sigaction sa = { .sa_handler = on_stop };
	struct rlimit rl;
	int c;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'h': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'c': o.ca = optarg; break;
		case 't': o.token = optarg; break;
		case 'n': o.n = strtoul(optarg, NULL, 10); break;
		case 'b': o.batch = strtoul(optarg, NULL, 10); break;
		case 'w': o.workers = strtoul(optarg, NULL, 10); break;
		case 's': o.end = time_mono_ns() + strtoull(optarg, NULL, 10) * NSEC_PER_SEC; break;
		default: return 2;
		}
	}
	if (!o.port || !o.ca || !o.token || !o.n || !o.batch || !o.workers ||
	    o.workers > MAX_WORKERS || o.workers > o.n || sodium_init() < 0)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* no SA_RESTART: the merge's read returns on a signal, and workers stop */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (o.workers == 1)
		return run_sessions(&o, o.n, o.batch, STDOUT_FILENO);
	return run_workers(&o);
}
