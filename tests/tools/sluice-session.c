/* sluice-session: a client of the portal for integration tests of the gateway
 * (tests/tools, never installed).
 *
 *   sluice-session --portal https://HOST:PORT --ca FILE --token-file F --key-file F
 *                  [--name N] [--timeout S] [--stay] init | request RESOURCE_ID...
 *
 * Opens a client session (/client/ws) with the token (first line of F) and the
 * public key of the device's private key (base64, first line of F), waits for
 * init, then:
 *   init      prints {"type":"init","tunnel":{"ipv4","ipv6"}};
 *   request   sends access_request (req 1, 2...) for each id and prints each
 *             answer, access_granted or access_denied, as the portal's frame:
 *             one JSON line (docs/protocol.md), as ctl_msg_encode() writes it.
 * With --stay it then prints every later frame the same way (access_revoked,
 * resource_delete...) until SIGTERM or SIGINT.
 * Exit: 0 all granted (init: init came), 1 any denied, 2 usage, connection or
 * protocol error (an error frame, a lost session, no answer within --timeout,
 * default 10 s). Diagnostics go to stderr. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctl/msg.h"
#include "ctl/session.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/time.h"
#include "wg/crypto.h"

enum { IDS_MAX = 64 };

struct tool {
	bool init_only, stay, got_init, failed;
	uint64_t ids[IDS_MAX];
	size_t n_ids, answered, denied;
	struct ctl_session *s;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: sluice-session --portal https://HOST:PORT --ca FILE "
		"--token-file F --key-file F [--name N] [--timeout S] [--stay] "
		"init | request RESOURCE_ID...\n");
	exit(2);
}

/* The first line of path, without its newline, into out. */
static int read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return -errno;
	ok = fgets(out, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return -EINVAL;
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] ? 0 : -EINVAL;
}

/* https://HOST:PORT, HOST a name, an IPv4 address or [an IPv6 one]. */
static int parse_portal(const char *url, char *host, size_t hostlen, uint16_t *port)
{
	const char *h, *end, *colon;
	char *tail;
	unsigned long p;

	if (strncmp(url, "https://", 8) != 0)
		return -EINVAL;
	h = url + 8;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		colon = end + 1;
		h++;
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return -EINVAL;
		end = colon;
	}
	if (end == h || (size_t)(end - h) >= hostlen)
		return -EINVAL;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &tail, 10);
	if (errno || p == 0 || p > 65535 || (*tail && strcmp(tail, "/") != 0))
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

/* The frame as the portal sent it (canonical), on one line. */
static void print_msg(const struct ctl_msg *m)
{
	struct buf b;

	buf_init(&b, CTL_FRAME_MAX);
	if (ctl_msg_encode(m, &b) == 0)
		printf("%.*s\n", (int)b.len, (const char *)b.data);
	else
		fprintf(stderr, "sluice-session: could not print a %s\n", ctl_type_name(m->type));
	buf_wipe(&b); /* a grant holds a PSK */
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

static void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	struct tool *t = arg;

	if (m->type == CTL_INIT_CLIENT && !t->got_init) {
		t->got_init = true;
		if (t->init_only) {
			print_init(m);
			return;
		}
		for (size_t i = 0; i < t->n_ids; i++) {
			struct ctl_msg r = { .type = CTL_ACCESS_REQUEST, .req = i + 1,
					     .resource_id = t->ids[i] };
			int e = ctl_session_send(s, &r);

			if (e < 0) {
				fprintf(stderr, "sluice-session: sending access_request: %s\n",
					strerror(-e));
				t->failed = true;
			}
		}
		return;
	}
	if (m->type == CTL_ERROR) {
		fprintf(stderr, "sluice-session: the portal says %s: %s\n", m->code, m->message);
		t->failed = true;
	}
	if ((m->type == CTL_ACCESS_GRANTED || m->type == CTL_ACCESS_DENIED) &&
	    m->req >= 1 && m->req <= t->n_ids) {
		t->answered++;
		if (m->type == CTL_ACCESS_DENIED)
			t->denied++;
		print_msg(m);
		return;
	}
	if (t->stay)
		print_msg(m);
}

static void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct tool *t = arg;

	(void)s;
	if (ev == CTL_EV_DISCONNECTED) {
		fprintf(stderr, "sluice-session: session lost: %s\n", why ? why : "");
		t->failed = true;
	} else if (ev == CTL_EV_BAD_FRAME) {
		fprintf(stderr, "sluice-session: a frame refused: %s\n", why ? why : "");
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "portal", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'c' },
		{ "token-file", required_argument, NULL, 't' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "stay", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *portal = NULL, *ca = NULL, *token_file = NULL, *key_file = NULL;
	const char *name = NULL;
	char host[256], token[512], key_b64[128], pub_b64[WG_KEY_B64_LEN];
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct tool t = { 0 };
	struct ctl_loop *l = NULL;
	struct ctl_session_config cfg = { .path = "/client/ws", .role = CTL_ROLE_CLIENT,
					  .no_reconnect = true };
	unsigned long timeout_s = 10;
	uint64_t deadline;
	uint16_t port;
	int c, rc = 2;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': portal = optarg; break;
		case 'c': ca = optarg; break;
		case 't': token_file = optarg; break;
		case 'k': key_file = optarg; break;
		case 'n': name = optarg; break;
		case 'T': timeout_s = strtoul(optarg, NULL, 10); break;
		case 's': t.stay = true; break;
		default: usage();
		}
	}
	if (!portal || !ca || !token_file || !key_file || optind >= argc || !timeout_s)
		usage();
	if (strcmp(argv[optind], "init") == 0 && optind + 1 == argc) {
		t.init_only = true;
	} else if (strcmp(argv[optind], "request") == 0 && optind + 1 < argc) {
		for (int i = optind + 1; i < argc; i++) {
			char *end;

			errno = 0;
			if (t.n_ids == IDS_MAX)
				usage();
			t.ids[t.n_ids] = strtoull(argv[i], &end, 10);
			if (errno || *end || !t.ids[t.n_ids] || t.ids[t.n_ids] > CTL_ID_MAX)
				usage();
			t.n_ids++;
		}
	} else {
		usage();
	}
	if (parse_portal(portal, host, sizeof(host), &port) < 0) {
		fprintf(stderr, "sluice-session: --portal: expected https://HOST:PORT\n");
		return 2;
	}
	if (read_line(token_file, token, sizeof(token)) < 0 ||
	    read_line(key_file, key_b64, sizeof(key_b64)) < 0 ||
	    wg_key_from_base64(priv, key_b64) < 0 || wg_key_public(pub, priv) < 0) {
		fprintf(stderr, "sluice-session: could not read the token or the key\n");
		goto out;
	}
	wg_key_to_base64(pub_b64, pub);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	cfg.host = host;
	cfg.port = port;
	cfg.token = token;
	cfg.public_key = pub_b64;
	cfg.name = name;
	cfg.on_message = on_message;
	cfg.on_event = on_event;
	cfg.arg = &t;
	if (ctl_loop_new(ca, &l) < 0 || ctl_session_open(l, &cfg, &t.s) < 0) {
		fprintf(stderr, "sluice-session: could not open a session\n");
		goto out;
	}
	deadline = time_mono_ns() + timeout_s * NSEC_PER_SEC;
	/* until init and every answer, or a failure */
	while (!stop && !t.failed && !(t.got_init && t.answered == t.n_ids)) {
		if (time_mono_ns() > deadline) {
			fprintf(stderr, "sluice-session: %s within %lu s\n", t.got_init ?
				"not every answer" : "no init", timeout_s);
			t.failed = true;
			break;
		}
		if (ctl_loop_run(l, 100) < 0)
			t.failed = true;
	}
	if (!t.failed && t.got_init)
		rc = t.denied ? 1 : 0;
	/* --stay: every later frame, until a signal or the session's end */
	while (t.stay && rc != 2 && !stop && ctl_session_connected(t.s))
		if (ctl_loop_run(l, 100) < 0)
			break;
	if (t.stay && rc != 2 && !stop)
		rc = 2; /* the portal went away */
out:
	if (t.s)
		ctl_session_close(t.s);
	ctl_loop_free(l);
	explicit_bzero(token, sizeof(token));
	explicit_bzero(key_b64, sizeof(key_b64));
	wg_wipe(priv, sizeof(priv));
	return rc;
}
