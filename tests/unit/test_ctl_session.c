/* The control-plane client (src/ctl/session.c) against a real server:
 * portal-echo (tests/tools) as a child process.
 * - heartbeats: the server made to ping never, so that only the client's own
 *   pings keep the session alive; then stopped (SIGSTOP: its kernel still holds
 *   the connection, nothing answers), so that the client must notice the
 *   silence and hang up;
 * - a session driven only by an outside epoll loop (ctl_loop_fd, _dispatch,
 *   _timeout_ms), as the gateway daemon drives it. */
#include "portal_http_test.h"

#include <arpa/inet.h>
#include <sys/epoll.h>

#include "ctl/session.h"
#include "lib/time.h"

struct peer {
	unsigned connected, disconnected, bad, inits;
	char why[160];
	uint64_t disconnected_ns;
};

static void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct peer *p = arg;

	(void)s;
	if (ev == CTL_EV_CONNECTED)
		p->connected++;
	if (ev == CTL_EV_BAD_FRAME)
		p->bad++;
	if (ev == CTL_EV_DISCONNECTED) {
		p->disconnected_ns = time_mono_ns();
		p->disconnected++;
		snprintf(p->why, sizeof(p->why), "%s", why ? why : "");
	}
}

static void open_session(struct ctl_loop *l, int port, unsigned ping_s, unsigned idle_s,
			 struct peer *p, struct ctl_session **out)
{
	struct ctl_session_config cfg = {
		.host = "127.0.0.1", .port = (uint16_t)port, .path = "/client/ws",
		.token = "heartbeat", .public_key = "", .role = CTL_ROLE_CLIENT,
		.no_reconnect = true, .ping_s = ping_s, .idle_s = idle_s,
		.on_event = on_event, .arg = p,
	};

	assert_int_equal(ctl_session_open(l, &cfg, out), 0);
}

/* ping_s 1, idle_s 3: alive on its own pings for 5 s, gone within about 3 s of
 * the server stopping. */
static void test_heartbeat(void **state)
{
	static const char *const quiet[] = { "--ping", "600", "--idle", "1800", NULL };
	struct ctl_session *s;
	struct ctl_loop *l;
	struct server srv;
	struct peer p = { 0 };
	uint64_t t0;

	(void)state;
	server_start(&srv, quiet);
	assert_int_equal(ctl_loop_new(E->ca, &l), 0);
	open_session(l, srv.port, 1, 3, &p, &s);
	for (int i = 0; i < 100 && !p.connected; i++)
		assert_int_equal(ctl_loop_run(l, 50), 0);
	assert_int_equal(p.connected, 1);
	/* the server says nothing after its hello: only pongs are heard */
	assert_int_equal(ctl_loop_run(l, 5000), 0);
	assert_int_equal(p.disconnected, 0);
	assert_true(ctl_session_connected(s));
	assert_int_equal(stat_get(srv.port, "sessions_open"), 1);

	assert_int_equal(kill(srv.pid, SIGSTOP), 0);
	t0 = time_mono_ns();
	while (!p.disconnected && time_mono_ns() - t0 < 10 * NSEC_PER_SEC)
		assert_int_equal(ctl_loop_run(l, 50), 0);
	assert_int_equal(kill(srv.pid, SIGCONT), 0);
	assert_int_equal(p.disconnected, 1);
	assert_false(ctl_session_connected(s));
	assert_string_equal(p.why, "nothing from the portal for 3 s");
	/* silent since its last pong, at most 1 s before the stop */
	assert_true(time_mono_ns() - t0 > 1500 * NSEC_PER_MSEC);
	assert_true(time_mono_ns() - t0 < 5 * NSEC_PER_SEC);
	ctl_session_close(s);
	ctl_loop_free(l);
	assert_int_equal(server_stop(&srv), 0);
}

/* The defaults are docs/protocol.md's 15 s and 45 s; an idle limit that does
 * not exceed the ping interval is refused. */
static void test_config(void **state)
{
	struct ctl_session *s = NULL;
	struct ctl_loop *l;
	struct peer p = { 0 };
	struct ctl_session_config cfg = {
		.host = "127.0.0.1", .port = 1, .path = "/client/ws", .role = CTL_ROLE_CLIENT,
		.no_reconnect = true, .on_event = on_event, .arg = &p,
	};

	(void)state;
	assert_int_equal(ctl_loop_new(E->ca, &l), 0);
	cfg.ping_s = 5;
	cfg.idle_s = 5;
	assert_int_equal(ctl_session_open(l, &cfg, &s), -EINVAL);
	cfg.ping_s = 50; /* the default idle limit, 45, is below it */
	cfg.idle_s = 0;
	assert_int_equal(ctl_session_open(l, &cfg, &s), -EINVAL);
	cfg.ping_s = 0;
	cfg.idle_s = 15; /* not above the default ping interval, 15 */
	assert_int_equal(ctl_session_open(l, &cfg, &s), -EINVAL);
	cfg.idle_s = 16;
	assert_int_equal(ctl_session_open(l, &cfg, &s), 0);
	ctl_session_close(s);
	ctl_loop_free(l);
}

static void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	struct peer *p = arg;
	char a[INET_ADDRSTRLEN];

	(void)s;
	assert_int_equal(m->type, CTL_INIT_CLIENT);
	assert_int_equal(m->tunnel_ipv4.family, AF_INET);
	inet_ntop(AF_INET, m->tunnel_ipv4.addr, a, sizeof(a));
	assert_string_equal(a, "100.64.0.5");
	p->inits++;
}

/* The owner's loop: one epoll set holding the loop's descriptor (and what else
 * the owner has), slept on for no longer than ctl_loop_timeout_ms(). Counts the
 * wakes that had no event: those only the timeout brought. */
struct outside {
	int ep;
	unsigned quiet_wakes, wakes;
	uint64_t first_event_ns;  /* after `since`, the first wake with an event */
	uint64_t since;
};

static void outside_turn(struct outside *o, struct ctl_loop *l)
{
	struct epoll_event ev[4];
	int wait = ctl_loop_timeout_ms(l), n;

	assert_true(wait >= 0 && wait <= 500);
	n = epoll_wait(o->ep, ev, 4, wait);
	assert_true(n >= 0);
	o->wakes++;
	if (n == 0)
		o->quiet_wakes++;
	else if (o->since && !o->first_event_ns)
		o->first_event_ns = time_mono_ns();
	for (int i = 0; i < n; i++)
		assert_int_equal(ev[i].data.fd, ctl_loop_fd(l));
	assert_int_equal(ctl_loop_dispatch(l), 0);
}

/* Turns until *count reaches want, or fails at the deadline. */
static void outside_until(struct outside *o, struct ctl_loop *l, const unsigned *count,
			  unsigned want, unsigned ms, const char *what)
{
	uint64_t end = time_mono_ns() + (uint64_t)ms * NSEC_PER_MSEC;

	while (*count < want) {
		if (time_mono_ns() > end)
			fail_msg("%s: not within %u ms", what, ms);
		outside_turn(o, l);
	}
}

static void send_init(struct ctl_session *s)
{
	struct ctl_msg m = { .type = CTL_INIT_CLIENT };

	m.tunnel_ipv4.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "100.64.0.5", m.tunnel_ipv4.addr), 1);
	m.tunnel_ipv6.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "fd00:2021:1111::5", m.tunnel_ipv6.addr), 1);
	assert_int_equal(ctl_session_send(s, &m), 0);
}

/* Connects, hears the server, sends frames and gets them back (the echo of an
 * init decodes as the portal's init), is dropped by the server ("!close") and
 * reconnects after its backoff, which only ctl_loop_timeout_ms() can wake the
 * loop for: nothing happens on any socket meanwhile. */
static void test_outside_loop(void **state)
{
	struct ctl_session *s;
	struct ctl_loop *l;
	struct peer p = { 0 };
	struct outside o = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_session_config cfg = {
		.host = "127.0.0.1", .port = (uint16_t)E->srv.port, .path = "/client/ws",
		.token = "outside", .public_key = "", .role = CTL_ROLE_CLIENT,
		.on_message = on_message, .on_event = on_event, .arg = &p,
	};
	uint64_t delay;

	(void)state;
	assert_int_equal(ctl_loop_new(E->ca, &l), 0);
	o.ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(o.ep >= 0);
	ev.data.fd = ctl_loop_fd(l);
	assert_true(ev.data.fd >= 0);
	assert_int_equal(epoll_ctl(o.ep, EPOLL_CTL_ADD, ev.data.fd, &ev), 0);
	assert_int_equal(ctl_session_open(l, &cfg, &s), 0);

	outside_until(&o, l, &p.connected, 1, 10000, "connected");
	/* portal-echo's hello is no control message: refused, session kept */
	outside_until(&o, l, &p.bad, 1, 5000, "the hello");
	send_init(s);
	send_init(s);
	outside_until(&o, l, &p.inits, 2, 5000, "two inits echoed");

	assert_int_equal(ctl_session_send_raw(s, "!close", 6), 0);
	outside_until(&o, l, &p.disconnected, 1, 5000, "dropped by the server");
	assert_string_equal(p.why, "closed by the portal: 1000 bye");
	assert_false(ctl_session_connected(s));
	o.since = p.disconnected_ns;
	o.quiet_wakes = 0;
	outside_until(&o, l, &p.connected, 2, 10000, "reconnected");
	/* The retry (500-750 ms) came from a quiet wake: nothing stirred on any
	 * socket before it, and it was not late by most of a heartbeat's tick
	 * (500 ms; that tick alone would also bring a reconnect, late). */
	delay = o.first_event_ns - o.since;
	assert_true(o.quiet_wakes >= 1);
	assert_true(delay >= 500 * NSEC_PER_MSEC);
	assert_true(delay < 900 * NSEC_PER_MSEC);
	outside_until(&o, l, &p.bad, 2, 5000, "the second hello");
	send_init(s);
	outside_until(&o, l, &p.inits, 3, 5000, "an init after the reconnect");
	assert_int_equal(p.disconnected, 1);

	ctl_session_close(s);
	/* the close is queued in lws: due now, so the next sleep is none */
	assert_int_equal(ctl_loop_timeout_ms(l), 0);
	assert_int_equal(ctl_loop_dispatch(l), 0);
	ctl_loop_free(l);
	close(o.ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_outside_loop),
		cmocka_unit_test(test_config),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
