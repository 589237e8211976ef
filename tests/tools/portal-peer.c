/* portal-peer: one client or gateway session to a portal, written with the
 * project's control-plane library (src/ctl/session.h), for shell tests.
 *
 *   portal-peer --port N --ca FILE --token SECRET --key BASE64 [--host H]
 *               [--gateway ENDPOINT] [--name NAME] [--authorize]
 *               [--send FRAME]... [--until TYPE] [--seconds S]
 *
 * A gateway session with --gateway, else a client's. Every frame received is
 * printed on stdout as one line, in the canonical form ctl_msg_encode() writes.
 * Once the portal's init has come, each --send FRAME (JSON text, checked as the
 * portal will read it) is sent. --authorize: answer each authorize with
 * authorized. Exits 0 when a frame of type --until has come (after the sends),
 * 2 when the session is lost or refused (stderr says why), 1 after S seconds
 * (default 10) or on a bad argument. Without --until it runs until S seconds or
 * SIGTERM (exit 0). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/msg.h"
#include "ctl/session.h"
#include "lib/buf.h"
#include "lib/time.h"

enum { MAX_SENDS = 16 };

struct peer {
	const char *sends[MAX_SENDS];
	size_t nsends;
	enum ctl_role send_role; /* how the portal reads what this peer sends */
	const char *until;
	bool authorize, got_init, done, lost;
	int rc;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void send_all(struct peer *p, struct ctl_session *s)
{
	for (size_t i = 0; i < p->nsends; i++) {
		char err[256];
		struct ctl_msg m;

		if (ctl_msg_decode(p->sends[i], strlen(p->sends[i]), p->send_role, &m, err,
				   sizeof(err)) < 0) {
			fprintf(stderr, "portal-peer: --send %s: %s\n", p->sends[i], err);
			p->rc = 1;
			p->done = true;
			return;
		}
		if (ctl_session_send(s, &m) < 0) {
			fprintf(stderr, "portal-peer: sending %s failed\n", p->sends[i]);
			p->rc = 2;
			p->done = true;
		}
		ctl_msg_free(&m);
	}
}

static void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	struct peer *p = arg;
	struct buf b;

	buf_init(&b, 4 * CTL_FRAME_MAX);
	if (ctl_msg_encode(m, &b) == 0) {
		fwrite(b.data, 1, b.len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	buf_free(&b);
	if (m->type == CTL_AUTHORIZE && p->authorize) {
		struct ctl_msg a = { .type = CTL_AUTHORIZED, .ref = m->ref };

		ctl_session_send(s, &a);
	}
	if (!p->got_init && (m->type == CTL_INIT_CLIENT || m->type == CTL_INIT_GATEWAY)) {
		p->got_init = true;
		send_all(p, s);
	}
	if (p->until && p->got_init && !strcmp(ctl_type_name(m->type), p->until)) {
		p->rc = 0;
		p->done = true;
	}
}

static void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct peer *p = arg;

	(void)s;
	if (ev == CTL_EV_DISCONNECTED) {
		fprintf(stderr, "portal-peer: disconnected: %s\n", why ? why : "");
		p->lost = true;
	} else if (ev == CTL_EV_BAD_FRAME) {
		fprintf(stderr, "portal-peer: a bad frame: %s\n", why ? why : "");
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: portal-peer --port N --ca FILE --token SECRET --key BASE64 "
		"[--host H] [--gateway ENDPOINT] [--name NAME] [--authorize] [--send FRAME]... "
		"[--until TYPE] [--seconds S]\n");
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' }, { "ca", required_argument, NULL, 'c' },
		{ "token", required_argument, NULL, 't' }, { "key", required_argument, NULL, 'k' },
		{ "host", required_argument, NULL, 'H' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "name", required_argument, NULL, 'n' }, { "authorize", no_argument, NULL, 'a' },
		{ "send", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
		{ "seconds", required_argument, NULL, 'S' }, { 0 },
	};
	struct ctl_session_config cfg = { .host = "127.0.0.1", .no_reconnect = true,
					  .on_message = on_message, .on_event = on_event };
	struct peer p = { .rc = 1 };
	const char *ca = NULL;
	struct ctl_session *s = NULL;
	struct ctl_loop *loop = NULL;
	unsigned long seconds = 10;
	uint64_t end;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': cfg.port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'c': ca = optarg; break;
		case 't': cfg.token = optarg; break;
		case 'k': cfg.public_key = optarg; break;
		case 'H': cfg.host = optarg; break;
		case 'g': cfg.endpoint = optarg; break;
		case 'n': cfg.name = optarg; break;
		case 'a': p.authorize = true; break;
		case 's':
			if (p.nsends == MAX_SENDS)
				return usage();
			p.sends[p.nsends++] = optarg;
			break;
		case 'u': p.until = optarg; break;
		case 'S': seconds = strtoul(optarg, NULL, 10); break;
		default: return usage();
		}
	}
	if (optind != argc || !cfg.port || !cfg.token || !cfg.public_key)
		return usage();
	cfg.path = cfg.endpoint ? "/gateway/ws" : "/client/ws";
	cfg.role = cfg.endpoint ? CTL_ROLE_GATEWAY : CTL_ROLE_CLIENT;
	p.send_role = cfg.endpoint ? CTL_ROLE_PORTAL_FROM_GATEWAY : CTL_ROLE_PORTAL_FROM_CLIENT;
	if (!p.until)
		p.rc = 0; /* runs until the time is up or it is stopped */
	cfg.arg = &p;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (ctl_loop_new(ca, &loop) < 0 || ctl_session_open(loop, &cfg, &s) < 0) {
		fprintf(stderr, "portal-peer: cannot start a session\n");
		ctl_loop_free(loop);
		return 1;
	}
	end = time_mono_ns() + seconds * NSEC_PER_SEC;
	while (!stop && !p.done && !p.lost && time_mono_ns() < end)
		ctl_loop_run(loop, 50);
	if (p.lost && !p.done)
		p.rc = 2;
	ctl_session_close(s);
	ctl_loop_free(loop);
	return p.rc;
}
