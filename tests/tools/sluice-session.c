/* sluice-session: one session to the portal, a client's or a gateway's, for
 * the integration tests (tests/tools, never installed).
 *
 *   sluice-session --portal URL --ca FILE --token-file F --key-file F [--name N]
 *                  [--gateway ENDPOINT [--authorize]] [--send FRAME]...
 *                  [--until TYPE] [--timeout S] [--stay] [--seconds S]
 *                  init | request RESOURCE_ID... | watch | flood RESOURCE_ID
 *
 * Opens a client session (/client/ws), or with --gateway a gateway's
 * (/gateway/ws, announcing ENDPOINT), with the token (the first word of the
 * token file) and the public key of the private key in the key file (base64,
 * as `wg genkey` writes it); the URL's prefix, if any, goes before the path.
 * Once the portal's init has come it sends each --send FRAME (JSON text,
 * checked as the portal will read it), then:
 *   init      (a client) prints {"type":"init","tunnel":{"ipv4","ipv6"}};
 *   request   (a client) sends access_request (req 1, 2...) for each id and
 *             prints each answer, access_granted or access_denied;
 *   watch     prints every frame, the init first, and stays (as --stay)
 *             unless --until is given;
 *   flood     (a client) asks for RESOURCE_ID again and again for --seconds S
 *             (default 5) or until SIGTERM or SIGINT, FLOOD_WINDOW requests
 *             unanswered at a time (as fast as the portal answers), then
 *             prints one line
 *             {"type":"flood","sent","granted","denied","rate_limited"}
 *             (rate_limited: the denials of that reason, also in denied).
 * A frame is printed as one JSON line, as ctl_msg_encode() writes it
 * (docs/protocol.md).
 *   --until TYPE  also waits for a frame of TYPE ("access_granted", "init"...)
 *                 after the init, and prints it;
 *   --authorize   (a gateway) answers each authorize with authorized;
 *   --timeout S   what is waited for (the init, every answer, --until) must
 *                 come within S seconds (default 10);
 *   --stay        then prints every later frame until SIGTERM or SIGINT, the
 *                 session's end, or --seconds S (default: no limit).
 * Exit: 0 done, every request granted; 1 a request denied; 2 usage, connection
 * or protocol error: a bad --send frame, an error frame or nothing within
 * --timeout while waiting, a session lost (also while staying). Diagnostics go
 * to stderr. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctl/dial.h"
#include "ctl/msg.h"
#include "ctl/session.h"
#include "lib/buf.h"
#include "lib/time.h"
#include "wg/crypto.h"

enum { IDS_MAX = 64, SENDS_MAX = 16, FLOOD_WINDOW = 512 };

static const char prog[] = "sluice-session";

enum mode { MODE_INIT, MODE_REQUEST, MODE_WATCH, MODE_FLOOD };

struct tool {
	enum mode mode;
	bool authorize, stay;
	const char *until;             /* a wire name, checked */
	const char *sends[SENDS_MAX];
	size_t n_sends;
	enum ctl_role send_role;       /* how the portal reads what we send */
	uint64_t ids[IDS_MAX];
	size_t n_ids;
	/* the state */
	bool got_init, got_until, waited, failed;
	size_t answered, denied;
	uint64_t sent, granted, rate_limited; /* flood */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s --portal URL --ca FILE --token-file F --key-file F "
		"[--name N] [--gateway ENDPOINT [--authorize]] [--send FRAME]... "
		"[--until TYPE] [--timeout S] [--stay] [--seconds S] "
		"init | request RESOURCE_ID... | watch | flood RESOURCE_ID\n", prog);
	exit(2);
}

/* The frame as the portal sent it (canonical), on one line. */
static void print_msg(const struct ctl_msg *m)
{
	struct buf b;

	buf_init(&b, CTL_FRAME_MAX);
	if (ctl_msg_encode(m, &b) == 0)
		printf("%.*s\n", (int)b.len, (const char *)b.data);
	else
		fprintf(stderr, "%s: could not print a %s\n", prog, ctl_type_name(m->type));
	buf_wipe(&b); /* a grant, an authorize, a gateway's init hold PSKs */
	fflush(stdout);
}

static void print_init(const struct ctl_msg *m)
{
	char v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET, m->tunnel_ipv4.addr, v4, sizeof(v4));
	inet_ntop(AF_INET6, m->tunnel_ipv6.addr, v6, sizeof(v6));
	printf("{\"type\":\"init\",\"tunnel\":{\"ipv4\":\"%s\",\"ipv6\":\"%s\"}}\n", v4, v6);
	fflush(stdout);
}

/* Every --send frame, then every access request. */
static void send_all(struct tool *t, struct ctl_session *s)
{
	char err[256];
	int e;

	for (size_t i = 0; i < t->n_sends && !t->failed; i++) {
		struct ctl_msg m;

		if (ctl_msg_decode(t->sends[i], strlen(t->sends[i]), t->send_role, &m, err,
				   sizeof(err)) < 0) {
			fprintf(stderr, "%s: --send %s: %s\n", prog, t->sends[i], err);
			t->failed = true;
			break;
		}
		e = ctl_session_send(s, &m);
		if (e < 0) {
			fprintf(stderr, "%s: sending %s: %s\n", prog, ctl_type_name(m.type),
				strerror(-e));
			t->failed = true;
		}
		ctl_msg_free(&m);
	}
	for (size_t i = 0; i < t->n_ids && !t->failed; i++) {
		struct ctl_msg r = { .type = CTL_ACCESS_REQUEST, .req = i + 1,
				     .resource_id = t->ids[i] };

		e = ctl_session_send(s, &r);
		if (e < 0) {
			fprintf(stderr, "%s: sending access_request: %s\n", prog, strerror(-e));
			t->failed = true;
		}
	}
}

/* flood: one more request, unless FLOOD_WINDOW are unanswered */
static void flood_send(struct tool *t, struct ctl_session *s)
{
	while (t->sent - t->answered < FLOOD_WINDOW) {
		struct ctl_msg r = { .type = CTL_ACCESS_REQUEST, .req = t->sent + 1,
				     .resource_id = t->ids[0] };

		if (ctl_session_send(s, &r) < 0)
			return; /* the queue is full: again at the next answer */
		t->sent++;
	}
}

/* Everything waited for has come. */
static bool all_in(const struct tool *t)
{
	return t->got_init && t->answered == t->n_ids && (!t->until || t->got_until);
}

static void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	struct tool *t = arg;
	bool init = m->type == CTL_INIT_CLIENT || m->type == CTL_INIT_GATEWAY;
	bool printed = false;

	/* after the wait every frame is printed; in watch mode, every one */
	if (t->mode == MODE_WATCH || t->waited) {
		print_msg(m);
		printed = true;
	}
	if (m->type == CTL_AUTHORIZE && t->authorize) {
		struct ctl_msg a = { .type = CTL_AUTHORIZED, .ref = m->ref };
		int e = ctl_session_send(s, &a);

		if (e < 0)
			fprintf(stderr, "%s: answering authorize %" PRIu64 ": %s\n", prog, m->ref,
				strerror(-e));
	}
	if (t->waited)
		return;
	if (t->mode == MODE_FLOOD) {
		if (init && !t->got_init)
			t->got_init = true;
		else if (m->type == CTL_ACCESS_GRANTED || m->type == CTL_ACCESS_DENIED) {
			t->answered++;
			t->granted += m->type == CTL_ACCESS_GRANTED;
			t->denied += m->type == CTL_ACCESS_DENIED;
			t->rate_limited += m->type == CTL_ACCESS_DENIED &&
					   !strcmp(m->reason, "rate_limited");
		}
		if (t->got_init)
			flood_send(t, s);
		return;
	}
	if (init && !t->got_init) {
		t->got_init = true;
		if (t->mode == MODE_INIT)
			print_init(m);
		send_all(t, s);
		if (t->until && !strcmp(t->until, "init"))
			t->got_until = true;
		return;
	}
	if (!t->got_init)
		return;
	if (m->type == CTL_ERROR) {
		fprintf(stderr, "%s: the portal says %s: %s\n", prog, m->code, m->message);
		t->failed = true;
	}
	if (t->mode == MODE_REQUEST && m->req >= 1 && m->req <= t->n_ids &&
	    (m->type == CTL_ACCESS_GRANTED || m->type == CTL_ACCESS_DENIED)) {
		t->answered++;
		if (m->type == CTL_ACCESS_DENIED)
			t->denied++;
		if (!printed)
			print_msg(m);
		printed = true;
	}
	if (t->until && !strcmp(ctl_type_name(m->type), t->until)) {
		t->got_until = true;
		if (!printed)
			print_msg(m);
	}
}

static void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct tool *t = arg;

	(void)s;
	if (ev == CTL_EV_DISCONNECTED) {
		fprintf(stderr, "%s: session lost: %s\n", prog, why ? why : "");
		t->failed = true;
	} else if (ev == CTL_EV_BAD_FRAME) {
		fprintf(stderr, "%s: a frame refused: %s\n", prog, why ? why : "");
	}
}

static unsigned long seconds_arg(const char *opt, const char *v)
{
	char *end;
	unsigned long s;

	errno = 0;
	s = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || !s || s > 86400) {
		fprintf(stderr, "%s: --%s: a number of seconds, 1 to 86400\n", prog, opt);
		usage();
	}
	return s;
}

static bool known_type(const char *name)
{
	for (int ty = CTL_INIT_CLIENT; ty <= CTL_ERROR; ty++)
		if (!strcmp(ctl_type_name((enum ctl_type)ty), name))
			return true;
	return false;
}

/* The command and the options that go with it, into t. */
static void parse_command(struct tool *t, bool gateway, int argc, char **argv)
{
	if (optind >= argc)
		usage();
	if (!strcmp(argv[optind], "init") && optind + 1 == argc && !gateway) {
		t->mode = MODE_INIT;
	} else if (!strcmp(argv[optind], "request") && optind + 1 < argc && !gateway) {
		t->mode = MODE_REQUEST;
		for (int i = optind + 1; i < argc; i++) {
			char *end;

			errno = 0;
			if (t->n_ids == IDS_MAX)
				usage();
			t->ids[t->n_ids] = strtoull(argv[i], &end, 10);
			if (errno || *end || argv[i][0] == '-' || !t->ids[t->n_ids] ||
			    t->ids[t->n_ids] > CTL_ID_MAX)
				usage();
			t->n_ids++;
		}
	} else if (!strcmp(argv[optind], "flood") && optind + 2 == argc && !gateway) {
		char *end;

		t->mode = MODE_FLOOD;
		errno = 0;
		t->ids[0] = strtoull(argv[optind + 1], &end, 10);
		if (errno || *end || argv[optind + 1][0] == '-' || !t->ids[0] ||
		    t->ids[0] > CTL_ID_MAX)
			usage();
		t->n_ids = 1;
	} else if (!strcmp(argv[optind], "watch") && optind + 1 == argc) {
		t->mode = MODE_WATCH;
		if (!t->until)
			t->stay = true;
	} else {
		usage();
	}
	if ((t->authorize && !gateway) || (t->until && !known_type(t->until)))
		usage();
}

/* The token and the public key of the key file's private key. */
static int credentials(const char *token_file, const char *key_file, char *token, size_t len,
		       char pub_b64[WG_KEY_B64_LEN])
{
	char err[512], key_b64[WG_KEY_B64_LEN + 1];
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	int r;

	if (ctl_token_read(token_file, token, len, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -EINVAL;
	}
	/* the key file is read as a token file is: its first word */
	r = ctl_token_read(key_file, key_b64, sizeof(key_b64), err, sizeof(err));
	if (r == 0)
		r = wg_key_from_base64(priv, key_b64);
	if (r == 0)
		r = wg_key_public(pub, priv);
	if (r < 0)
		fprintf(stderr, "%s: %s does not hold a base64 X25519 private key\n", prog,
			key_file);
	else
		wg_key_to_base64(pub_b64, pub);
	wg_wipe(key_b64, sizeof(key_b64));
	wg_wipe(priv, sizeof(priv));
	return r < 0 ? -EINVAL : 0;
}

/* The flood: the init within timeout_s, then seconds of requests; 0, or 2 if
 * the session failed. */
static int flood(struct tool *t, struct ctl_loop *l, unsigned long timeout_s,
		 unsigned long seconds)
{
	uint64_t deadline = time_mono_ns() + timeout_s * NSEC_PER_SEC;

	while (!stop && !t->failed && !t->got_init && time_mono_ns() < deadline)
		if (ctl_loop_run(l, 100) < 0)
			t->failed = true;
	if (!t->got_init) {
		fprintf(stderr, "%s: no init within %lu s\n", prog, timeout_s);
		return 2;
	}
	deadline = time_mono_ns() + seconds * NSEC_PER_SEC;
	while (!stop && !t->failed && time_mono_ns() < deadline)
		if (ctl_loop_run(l, 100) < 0)
			t->failed = true;
	printf("{\"type\":\"flood\",\"sent\":%" PRIu64 ",\"granted\":%" PRIu64
	       ",\"denied\":%zu,\"rate_limited\":%" PRIu64 "}\n", t->sent, t->granted,
	       t->denied, t->rate_limited);
	fflush(stdout);
	return t->failed ? 2 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "portal", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'c' },
		{ "token-file", required_argument, NULL, 't' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "authorize", no_argument, NULL, 'a' },
		{ "send", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "stay", no_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *ca = NULL, *token_file = NULL, *key_file = NULL;
	char token[CTL_TOKEN_MAX], pub_b64[WG_KEY_B64_LEN], path[CTL_PREFIX_MAX + 16];
	char err[512];
	struct ctl_portal portal;
	struct tool t = { 0 };
	struct ctl_loop *l = NULL;
	struct ctl_session *s = NULL;
	struct ctl_session_config cfg = { .no_reconnect = true, .on_message = on_message,
					  .on_event = on_event, .arg = &t };
	unsigned long timeout_s = 10, stay_s = 0;
	uint64_t deadline;
	int c, rc = 2;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': url = optarg; break;
		case 'c': ca = optarg; break;
		case 't': token_file = optarg; break;
		case 'k': key_file = optarg; break;
		case 'n': cfg.name = optarg; break;
		case 'g': cfg.endpoint = optarg; break;
		case 'a': t.authorize = true; break;
		case 'S':
			if (t.n_sends == SENDS_MAX)
				usage();
			t.sends[t.n_sends++] = optarg;
			break;
		case 'u': t.until = optarg; break;
		case 'T': timeout_s = seconds_arg("timeout", optarg); break;
		case 's': t.stay = true; break;
		case 'd': stay_s = seconds_arg("seconds", optarg); break;
		default: usage();
		}
	}
	if (!url || !ca || !token_file || !key_file)
		usage();
	parse_command(&t, cfg.endpoint != NULL, argc, argv);
	if (ctl_portal_parse(url, &portal, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: --portal: %s\n", prog, err);
		return 2;
	}
	cfg.role = cfg.endpoint ? CTL_ROLE_GATEWAY : CTL_ROLE_CLIENT;
	t.send_role = cfg.endpoint ? CTL_ROLE_PORTAL_FROM_GATEWAY : CTL_ROLE_PORTAL_FROM_CLIENT;
	snprintf(path, sizeof(path), "%s/%s/ws", portal.prefix, cfg.endpoint ? "gateway" : "client");
	if (credentials(token_file, key_file, token, sizeof(token), pub_b64) < 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	cfg.host = portal.host;
	cfg.port = portal.port;
	cfg.path = path;
	cfg.token = token;
	cfg.public_key = pub_b64;
	if (ctl_loop_new(ca, &l) < 0 || ctl_session_open(l, &cfg, &s) < 0) {
		fprintf(stderr, "%s: could not open a session\n", prog);
		goto out;
	}
	if (t.mode == MODE_FLOOD) {
		rc = flood(&t, l, timeout_s, stay_s ? stay_s : 5);
		goto out;
	}
	deadline = time_mono_ns() + timeout_s * NSEC_PER_SEC;
	while (!stop && !t.failed && !all_in(&t)) {
		if (time_mono_ns() > deadline) {
			fprintf(stderr, "%s: %s within %lu s\n", prog,
				!t.got_init ? "no init" : t.answered < t.n_ids ?
				"not every answer" : "no frame of the type --until names",
				timeout_s);
			t.failed = true;
			break;
		}
		if (ctl_loop_run(l, 100) < 0)
			t.failed = true;
	}
	if (t.failed || !all_in(&t))
		goto out; /* 2, also when a signal cut the wait short */
	rc = t.denied ? 1 : 0;
	if (!t.stay)
		goto out;
	/* every later frame, until a signal, the time, or the session's end */
	t.waited = true;
	deadline = stay_s ? time_mono_ns() + stay_s * NSEC_PER_SEC : UINT64_MAX;
	while (!stop && !t.failed && time_mono_ns() < deadline)
		if (ctl_loop_run(l, 100) < 0)
			t.failed = true;
	if (t.failed)
		rc = 2; /* the portal went away */
out:
	if (s)
		ctl_session_close(s);
	ctl_loop_free(l);
	explicit_bzero(token, sizeof(token));
	return rc;
}
