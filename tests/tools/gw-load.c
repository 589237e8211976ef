/* gw-load: many clients of one gateway, for bench/gateway.sh's memory figure.
 *
 *   gw-load --portal https://HOST:PORT --ca FILE --token-file F --resource ID
 *           --gateway IPV4:PORT --domain D [--clients N] [--flows F]
 *           [--flow-port P] [--window W]
 *
 * Each client is a device of its own (a fresh key) at the real portal, with the
 * same client token (as tests/tools/portal-load does), and a WireGuard peer of
 * its own at the gateway: one process holds N Noise sessions built with the
 * project's WireGuard library (src/wg/noise.h, cookie.h; one device could not,
 * a device has one key). In order:
 *   1. sessions: each client opens a session, gets init (its tunnel address),
 *      asks for resource ID (a DNS resource covering c<i>.D), gets the grant
 *      (the gateway's key, the PSK), and closes the session: the portal keeps
 *      a device's authorizations when it leaves (docs/protocol.md, Presence);
 *   2. handshakes: an initiation per client, to the gateway's UDP endpoint;
 *   3. dns: through its tunnel, each asks the gateway's DNS endpoint for
 *      A c<i>.D with an offer of one proxy IP (100.96.0.1) and checks that the
 *      answer is that proxy IP: one binding, one DNAT element per client;
 *   4. flows: F UDP datagrams per client, from ports 20000.. of its tunnel
 *      address to the proxy IP, ports P..P+F-1 (default 9000): F conntrack
 *      flows through DNAT, filter and masquerade; an echo server behind the
 *      gateway answers and the answers are counted.
 * Each phase keeps at most W clients waiting (default 32) and retries one after
 * 1 s, five times. One line per phase on stdout:
 *   sessions N granted G ms T | handshakes N done D ms T | dns N answered A ms T
 *   flows N answered A ms T
 * then "ready", and every 5 s one datagram per flow again (conntrack keeps
 * them, the tunnels stay up) until SIGINT or SIGTERM. Exit 1 if a phase did
 * not complete for every client, 2 on usage or setup errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/dial.h"
#include "ctl/session.h"
#include "dns/msg.h"
#include "lib/bytes.h"
#include "lib/cursor.h"
#include "lib/time.h"
#include "net/csum.h"
#include "net/packet.h"
#include "wg/cookie.h"
#include "wg/crypto.h"
#include "wg/noise.h"

enum {
	CLIENTS_MAX = 20000,
	FLOWS_MAX = 64,
	TRIES = 5,
	PKT_MAX = 1500,
	SPORT_BASE = 20000,
};

enum phase { PH_SESSIONS, PH_HANDSHAKE, PH_DNS, PH_FLOWS };

struct client {
	struct tool *t;
	unsigned idx;
	uint8_t priv[WG_KEY_LEN];
	struct ctl_session *s;
	bool init, granted, denied, lost;
	uint8_t tun4[4], gw4[4];
	uint8_t gw_pub[WG_KEY_LEN], psk[WG_KEY_LEN];
	struct noise_local *nl;
	struct noise_peer *np;
	struct cookie_maker *cm;
	struct noise_keypair kp;
	bool has_kp, dns_ok;
	uint64_t echoed;            /* bit j: flow j answered */
	uint64_t sent_ns;           /* the phase's last send; 0: not waiting */
	unsigned tries;
};

struct tool {
	struct client *c;
	unsigned n, flows, window;
	uint16_t flow_port;
	const char *domain;
	uint64_t resource;
	struct wg_crypto *crypto;
	struct wg_aead *aead;
	struct sockaddr_in gw;
	int fd;
	unsigned grants, denials;
	unsigned long rx_transport, rx_bad, rx_ip, rx_dns_bad; /* diagnostics on stderr */
};

static const uint8_t proxy4[4] = { 100, 96, 0, 1 };
static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: gw-load --portal https://HOST:PORT --ca FILE --token-file F "
		"--resource ID --gateway IPV4:PORT --domain D [--clients N] [--flows F] "
		"[--flow-port P] [--window W]\n");
	exit(2);
}

/* ---------------------------------------------------------------- sessions */

static void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	struct client *c = arg;

	if (m->type == CTL_INIT_CLIENT && !c->init) {
		struct ctl_msg r = { .type = CTL_ACCESS_REQUEST, .req = 1,
				     .resource_id = c->t->resource };

		c->init = true;
		memcpy(c->tun4, m->tunnel_ipv4.addr, 4);
		if (ctl_session_send(s, &r) < 0)
			c->lost = true;
	} else if (m->type == CTL_ACCESS_GRANTED && m->req == 1 && !c->granted) {
		c->granted = true;
		c->t->grants++;
		memcpy(c->gw_pub, m->gateway.public_key, WG_KEY_LEN);
		memcpy(c->psk, m->psk, WG_KEY_LEN);
		memcpy(c->gw4, m->gateway.tunnel_ipv4.addr, 4);
	} else if (m->type == CTL_ACCESS_DENIED && m->req == 1 && !c->denied) {
		c->denied = true;
		if (++c->t->denials <= 5)
			fprintf(stderr, "gw-load: client %u denied: %s\n", c->idx, m->reason);
	}
}

static void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct client *c = arg;

	(void)s;
	if (ev == CTL_EV_DISCONNECTED && !c->granted) {
		c->lost = true;
		fprintf(stderr, "gw-load: client %u lost its session: %s\n", c->idx,
			why ? why : "?");
	}
}

/* Opens the sessions W at a time; each is closed once answered. */
static int run_sessions(struct tool *t, const char *url, const char *ca, const char *token)
{
	struct ctl_portal portal;
	struct ctl_loop *l = NULL;
	char err[128], pub_b64[WG_KEY_B64_LEN];
	unsigned next = 0, open = 0, done = 0;
	uint64_t deadline = time_mono_ns() + 300 * NSEC_PER_SEC;
	int rc = -EIO;

	if (ctl_portal_parse(url, &portal, err, sizeof(err)) < 0) {
		fprintf(stderr, "gw-load: --portal: %s\n", err);
		return -EINVAL;
	}
	if (ctl_loop_new(ca, &l) < 0)
		return -EIO;
	while (done < t->n && !stop && time_mono_ns() < deadline) {
		while (next < t->n && open < t->window) {
			struct client *c = &t->c[next++];
			uint8_t pub[WG_KEY_LEN];
			struct ctl_session_config cfg = {
				.host = portal.host, .port = portal.port, .path = "/client/ws",
				.token = token, .role = CTL_ROLE_CLIENT, .no_reconnect = true,
				.on_message = on_message, .on_event = on_event, .arg = c,
			};

			if (wg_key_generate(t->crypto, c->priv, pub) < 0)
				goto out;
			wg_key_to_base64(pub_b64, pub);
			cfg.public_key = pub_b64;
			if (ctl_session_open(l, &cfg, &c->s) < 0)
				goto out;
			open++;
		}
		if (ctl_loop_run(l, 20) < 0)
			goto out;
		for (unsigned i = 0; i < next; i++) {
			struct client *c = &t->c[i];

			if (c->s && (c->granted || c->denied || c->lost)) {
				ctl_session_close(c->s);
				c->s = NULL;
				open--;
				done++;
			}
		}
	}
	rc = done == t->n ? 0 : -ETIMEDOUT;
out:
	for (unsigned i = 0; i < t->n; i++)
		if (t->c[i].s) {
			ctl_session_close(t->c[i].s);
			t->c[i].s = NULL;
		}
	ctl_loop_free(l);
	return rc;
}

/* ---------------------------------------------------------------- WireGuard */

static int send_initiation(struct tool *t, struct client *c)
{
	uint8_t msg[WG_INITIATION_LEN];
	int e;

	e = wg_noise_create_initiation(t->crypto, c->np, msg, time_real_ns());
	if (e == 0)
		e = wg_cookie_add_macs(t->crypto, c->cm, msg, sizeof(msg), time_boot_ns());
	if (e == 0 && send(t->fd, msg, sizeof(msg), 0) < 0)
		e = -errno;
	return e;
}

/* Seals one IP packet into a transport message to the gateway. */
static int send_ip(struct tool *t, struct client *c, const uint8_t *ip, size_t len)
{
	uint8_t msg[WG_TRANSPORT_OVERHEAD + PKT_MAX + WG_PADDING_MULTIPLE];
	size_t padded = (len + WG_PADDING_MULTIPLE - 1) & ~(size_t)(WG_PADDING_MULTIPLE - 1);
	struct cursor w;
	uint64_t counter;
	int e;

	if (len > PKT_MAX)
		return -EMSGSIZE;
	e = wg_noise_keypair_next_counter(&c->kp, &counter);
	if (e < 0)
		return e;
	cur_init(&w, msg, sizeof(msg));
	cur_put_le32(&w, WG_MSG_TRANSPORT);
	cur_put_le32(&w, c->kp.remote_index);
	cur_put_le64(&w, counter);
	cur_put_bytes(&w, ip, len);
	cur_put_zero(&w, padded - len);
	if (w.err)
		return w.err;
	e = wg_aead_seal(t->aead, c->kp.send_key, counter, NULL, 0, msg + WG_DATA_OFF_PAYLOAD,
			 padded, msg + WG_DATA_OFF_PAYLOAD + padded);
	if (e < 0)
		return e;
	if (send(t->fd, msg, WG_TRANSPORT_OVERHEAD + padded, 0) < 0)
		return -errno;
	return 0;
}

/* An IPv4/UDP packet from the client's tunnel address into buf. */
static int send_udp(struct tool *t, struct client *c, const uint8_t dst[4], uint16_t sport,
		    uint16_t dport, const uint8_t *data, size_t dlen)
{
	uint8_t buf[PKT_MAX];
	struct cursor w;
	struct pkt p;
	size_t len = IPV4_HDR_LEN + UDP_HDR_LEN + dlen;

	cur_init(&w, buf, sizeof(buf));
	cur_put_u8(&w, 0x45);
	cur_put_u8(&w, 0);
	cur_put_be16(&w, (uint16_t)len);
	cur_put_be16(&w, 0);
	cur_put_be16(&w, IPV4_FRAG_DF);
	cur_put_u8(&w, 64);
	cur_put_u8(&w, IP_PROTO_UDP);
	cur_put_be16(&w, 0);
	cur_put_bytes(&w, c->tun4, 4);
	cur_put_bytes(&w, dst, 4);
	cur_put_be16(&w, sport);
	cur_put_be16(&w, dport);
	cur_put_be16(&w, (uint16_t)(UDP_HDR_LEN + dlen));
	cur_put_be16(&w, 0);
	cur_put_bytes(&w, data, dlen);
	if (w.err)
		return w.err;
	put_be16(buf + IPV4_OFF_CSUM, csum_ipv4_header(buf, IPV4_HDR_LEN));
	if (pkt_parse(&p, buf, len) < 0 || csum_l4_fill(&p) < 0)
		return -EINVAL;
	return send_ip(t, c, buf, len);
}

/* A query for A c<idx>.<domain> offering proxy4 (docs/protocol.md: version 1,
 * one IPv4 address, no IPv6 one). */
static int send_dns(struct tool *t, struct client *c)
{
	uint8_t q[300];
	char text[DNS_NAME_TEXT_MAX];
	struct dns_name name;
	struct cursor w;

	snprintf(text, sizeof(text), "c%u.%s", c->idx, t->domain);
	if (dns_name_from_text(&name, text) < 0)
		return -EINVAL;
	cur_init(&w, q, sizeof(q));
	cur_put_be16(&w, (uint16_t)c->idx);
	cur_put_be16(&w, DNS_F_RD);
	cur_put_be16(&w, 1);
	cur_put_be16(&w, 0);
	cur_put_be16(&w, 0);
	cur_put_be16(&w, 1);
	cur_put_bytes(&w, name.data, name.len);
	cur_put_be16(&w, DNS_T_A);
	cur_put_be16(&w, DNS_C_IN);
	cur_put_u8(&w, 0);              /* OPT: root owner */
	cur_put_be16(&w, DNS_T_OPT);
	cur_put_be16(&w, 1232);
	cur_put_be32(&w, 0);
	cur_put_be16(&w, 4 + 3 + 4);    /* RDLENGTH: one option */
	cur_put_be16(&w, DNS_OPT_SLUICE_OFFER);
	cur_put_be16(&w, 3 + 4);
	cur_put_u8(&w, 1);              /* version */
	cur_put_u8(&w, 1);              /* IPv4 addresses */
	cur_put_u8(&w, 0);              /* IPv6 addresses */
	cur_put_bytes(&w, proxy4, 4);
	if (w.err)
		return w.err;
	return send_udp(t, c, c->gw4, SPORT_BASE - 1, 53535, q, w.pos);
}

static int send_flows(struct tool *t, struct client *c, bool all)
{
	static const uint8_t data[] = "gw-load";
	int e = 0;

	for (unsigned j = 0; j < t->flows && e == 0; j++)
		if (all || !(c->echoed & (1ull << j)))
			e = send_udp(t, c, proxy4, (uint16_t)(SPORT_BASE + j),
				     (uint16_t)(t->flow_port + j), data, sizeof(data) - 1);
	return e;
}

static struct client *by_local_index(struct tool *t, uint32_t idx, bool keypair)
{
	for (unsigned i = 0; i < t->n; i++) {
		struct client *c = &t->c[i];
		uint32_t li;

		if (!c->np)
			continue;
		if (keypair ? (c->has_kp && c->kp.local_index == idx)
			    : (wg_noise_peer_local_index(c->np, &li) && li == idx))
			return c;
	}
	return NULL;
}

/* A decrypted packet to client c: the DNS answer or a flow's echo. */
static void on_ip(struct tool *t, struct client *c, uint8_t *ip, size_t len)
{
	struct pkt p;

	if (pkt_parse(&p, ip, len) < 0 || p.version != 4 || p.proto != IP_PROTO_UDP || !p.payload)
		return;
	t->rx_ip++;
	if (p.sport == 53535 && p.dport == SPORT_BASE - 1) {
		struct dns_msg m;

		dns_msg_init(&m);
		if (dns_msg_parse(&m, p.payload, p.payload_len) == 0 && (m.flags & DNS_F_RCODE_MASK) == DNS_RCODE_NOERROR &&
		    m.count[DNS_SEC_ANSWER] >= 1 && m.rr[0].type == DNS_T_A &&
		    m.rr[0].rdlen == 4 && memcmp(m.rr[0].rdata, proxy4, 4) == 0)
			c->dns_ok = true;
		else
			t->rx_dns_bad++;
		dns_msg_free(&m);
	} else if (memcmp(p.src, proxy4, 4) == 0 && p.sport >= t->flow_port &&
		   p.sport < t->flow_port + t->flows && p.dport == SPORT_BASE + p.sport - t->flow_port) {
		c->echoed |= 1ull << (p.sport - t->flow_port);
	}
}

/* Reads whatever the gateway sent. */
static void receive(struct tool *t)
{
	uint8_t msg[2048];
	ssize_t n;

	while ((n = recv(t->fd, msg, sizeof(msg), MSG_DONTWAIT)) > 0) {
		struct client *c;
		struct cursor r;
		size_t len = (size_t)n;
		uint8_t type = msg[0];
		uint32_t at4, at8;
		uint64_t counter;

		cur_init_ro(&r, msg, len);
		cur_skip(&r, 4);
		at4 = cur_le32(&r);   /* cookie reply, transport: the receiver */
		at8 = cur_le32(&r);   /* response: the receiver */
		cur_seek(&r, WG_DATA_OFF_COUNTER);
		counter = cur_le64(&r);

		if (type == WG_MSG_RESPONSE && len == WG_RESPONSE_LEN) {
			c = by_local_index(t, at8, false);
			if (c && wg_noise_consume_response(t->crypto, c->np, msg, len) == 0 &&
			    wg_noise_begin_session(t->crypto, c->np, &c->kp, time_boot_ns()) == 0)
				c->has_kp = true;
		} else if (type == WG_MSG_COOKIE_REPLY && len == WG_COOKIE_REPLY_LEN) {
			/* the gateway is under load: the next initiation carries mac2 */
			c = by_local_index(t, at4, false);
			if (c)
				wg_cookie_consume_reply(c->cm, msg, len, time_boot_ns());
		} else if (type == WG_MSG_TRANSPORT && len >= WG_TRANSPORT_MIN_LEN) {
			size_t clen = len - WG_TRANSPORT_OVERHEAD;

			c = by_local_index(t, at4, true);
			if (c && wg_aead_open(t->aead, c->kp.recv_key,
					       counter, NULL, 0,
					       msg + WG_DATA_OFF_PAYLOAD, clen,
					       msg + WG_DATA_OFF_PAYLOAD + clen) < 0)
				c = NULL;
			if (!c) {
				t->rx_bad++;
				continue;
			}
			t->rx_transport++;
			if (clen > 0) /* 0: a keepalive */
				on_ip(t, c, msg + WG_DATA_OFF_PAYLOAD, clen);
		}
	}
}

static bool phase_done(const struct tool *t, const struct client *c, enum phase ph)
{
	switch (ph) {
	case PH_HANDSHAKE: return c->has_kp;
	case PH_DNS: return c->dns_ok;
	case PH_FLOWS: return c->echoed == (t->flows == 64 ? ~0ull : (1ull << t->flows) - 1);
	default: return true;
	}
}

static int phase_send(struct tool *t, struct client *c, enum phase ph)
{
	switch (ph) {
	case PH_HANDSHAKE: return send_initiation(t, c);
	case PH_DNS: return send_dns(t, c);
	case PH_FLOWS: return send_flows(t, c, false);
	default: return 0;
	}
}

/* Runs one phase over the granted clients, at most window waiting at once, a
 * retry after 1 s, TRIES sends each. Returns how many completed. */
static unsigned run_phase(struct tool *t, enum phase ph)
{
	unsigned next = 0, waiting = 0, done = 0, failed = 0, eligible = 0;

	for (unsigned i = 0; i < t->n; i++) {
		t->c[i].sent_ns = 0;
		t->c[i].tries = 0;
		if (t->c[i].granted)
			eligible++;
	}
	while (done + failed < eligible && !stop) {
		uint64_t now = time_mono_ns();
		struct pollfd pfd = { .fd = t->fd, .events = POLLIN };

		for (; next < t->n && waiting < t->window; next++) {
			struct client *c = &t->c[next];

			if (!c->granted)
				continue;
			if (phase_send(t, c, ph) < 0) {
				failed++;
				continue;
			}
			c->sent_ns = now;
			c->tries = 1;
			waiting++;
		}
		poll(&pfd, 1, 5);
		receive(t);
		now = time_mono_ns();
		for (unsigned i = 0; i < next; i++) {
			struct client *c = &t->c[i];

			if (!c->sent_ns)
				continue;
			if (phase_done(t, c, ph)) {
				c->sent_ns = 0;
				waiting--;
				done++;
			} else if (now - c->sent_ns > NSEC_PER_SEC) {
				if (c->tries == TRIES || phase_send(t, c, ph) < 0) {
					c->sent_ns = 0;
					waiting--;
					failed++;
					continue;
				}
				c->sent_ns = now;
				c->tries++;
			}
		}
	}
	return done;
}

static int setup_peers(struct tool *t)
{
	for (unsigned i = 0; i < t->n; i++) {
		struct client *c = &t->c[i];

		if (!c->granted)
			continue;
		if (wg_noise_local_new(&c->nl) < 0 ||
		    wg_noise_local_set_private(t->crypto, c->nl, c->priv) < 0 ||
		    wg_noise_peer_new(c->nl, c->gw_pub, c, &c->np) < 0 ||
		    wg_cookie_maker_new(t->crypto, c->gw_pub, &c->cm) < 0)
			return -ENOMEM;
		wg_noise_peer_set_psk(c->np, c->psk);
	}
	return 0;
}

static int parse_target(const char *s, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535)
		return -EINVAL;
	*out = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -EINVAL;
}

static unsigned long num(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		usage();
	return v;
}

static void report(const char *what, unsigned n, unsigned ok, uint64_t t0)
{
	printf("%s %u %s %u ms %llu\n", what, n,
	       strcmp(what, "handshakes") == 0 ? "done" :
	       strcmp(what, "sessions") == 0 ? "granted" : "answered", ok,
	       (unsigned long long)((time_mono_ns() - t0) / NSEC_PER_MSEC));
	fflush(stdout);
}

static void diag(const struct tool *t)
{
	fprintf(stderr, "gw-load: received %lu transport messages (%lu refused), %lu IP packets, "
		"%lu DNS answers not as expected\n", t->rx_transport, t->rx_bad, t->rx_ip,
		t->rx_dns_bad);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "portal", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'c' },
		{ "token-file", required_argument, NULL, 't' },
		{ "resource", required_argument, NULL, 'r' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "domain", required_argument, NULL, 'd' },
		{ "clients", required_argument, NULL, 'n' },
		{ "flows", required_argument, NULL, 'f' },
		{ "flow-port", required_argument, NULL, 'P' },
		{ "window", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct tool t = { .n = 1000, .flows = 10, .window = 32, .flow_port = 9000, .fd = -1 };
	const char *portal = NULL, *ca = NULL, *token_file = NULL;
	char token[CTL_TOKEN_MAX], err[128];
	bool have_gw = false;
	unsigned ok, failed_phases = 0;
	uint64_t t0;
	struct rlimit rl;
	int opt, rc = 2;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': portal = optarg; break;
		case 'c': ca = optarg; break;
		case 't': token_file = optarg; break;
		case 'r': t.resource = num(optarg, CTL_ID_MAX); break;
		case 'g': have_gw = parse_target(optarg, &t.gw) == 0; break;
		case 'd': t.domain = optarg; break;
		case 'n': t.n = (unsigned)num(optarg, CLIENTS_MAX); break;
		case 'f': t.flows = (unsigned)num(optarg, FLOWS_MAX); break;
		case 'P': t.flow_port = (uint16_t)num(optarg, 65535 - FLOWS_MAX); break;
		case 'w': t.window = (unsigned)num(optarg, 4096); break;
		default: usage();
		}
	}
	if (!portal || !ca || !token_file || !t.resource || !have_gw || !t.domain || optind != argc)
		usage();
	if (ctl_token_read(token_file, token, sizeof(token), err, sizeof(err)) < 0) {
		fprintf(stderr, "gw-load: --token-file: %s\n", err);
		return 2;
	}
	/* a session is a socket while it connects */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	t.c = calloc(t.n, sizeof(*t.c));
	if (!t.c || wg_crypto_new(&t.crypto) < 0 || wg_aead_new(&t.aead) < 0)
		goto out;
	for (unsigned i = 0; i < t.n; i++) {
		t.c[i].t = &t;
		t.c[i].idx = i;
	}
	t.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (t.fd < 0 || connect(t.fd, (struct sockaddr *)&t.gw, sizeof(t.gw)) < 0) {
		perror("gw-load: socket");
		goto out;
	}
	/* 10,000 echoes may arrive in one burst */
	setsockopt(t.fd, SOL_SOCKET, SO_RCVBUF, &(int){ 8 << 20 }, sizeof(int));

	t0 = time_mono_ns();
	if (run_sessions(&t, portal, ca, token) < 0 && !stop)
		fprintf(stderr, "gw-load: not every session was answered\n");
	report("sessions", t.n, t.grants, t0);
	failed_phases += t.grants != t.n;
	if (setup_peers(&t) < 0) {
		fprintf(stderr, "gw-load: could not set up the peers\n");
		goto out;
	}
	t0 = time_mono_ns();
	ok = run_phase(&t, PH_HANDSHAKE);
	report("handshakes", t.n, ok, t0);
	failed_phases += ok != t.n;
	t0 = time_mono_ns();
	ok = run_phase(&t, PH_DNS);
	report("dns", t.n, ok, t0);
	diag(&t);
	failed_phases += ok != t.n;
	t0 = time_mono_ns();
	ok = run_phase(&t, PH_FLOWS);
	report("flows", t.n * t.flows, ok * t.flows, t0);
	diag(&t);
	failed_phases += ok != t.n;
	printf("ready\n");
	fflush(stdout);
	rc = failed_phases ? 1 : 0;
	/* keep the flows and the tunnels alive */
	while (!stop) {
		uint64_t until = time_mono_ns() + 5 * NSEC_PER_SEC;

		while (!stop && time_mono_ns() < until) {
			struct pollfd pfd = { .fd = t.fd, .events = POLLIN };

			poll(&pfd, 1, 200);
			receive(&t);
		}
		for (unsigned i = 0; i < t.n && !stop; i++)
			if (t.c[i].has_kp)
				send_flows(&t, &t.c[i], true);
	}
out:
	if (t.fd >= 0)
		close(t.fd);
	for (unsigned i = 0; t.c && i < t.n; i++) {
		struct client *c = &t.c[i];

		if (c->cm)
			wg_cookie_maker_free(c->cm);
		if (c->np)
			wg_noise_peer_free(c->np);
		if (c->nl)
			wg_noise_local_free(c->nl);
		wg_noise_keypair_wipe(&c->kp);
		wg_wipe(c->priv, sizeof(c->priv));
		wg_wipe(c->psk, sizeof(c->psk));
	}
	free(t.c);
	wg_aead_free(t.aead);
	wg_crypto_free(t.crypto);
	explicit_bzero(token, sizeof(token));
	return rc;
}
