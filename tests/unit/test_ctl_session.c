/* The control-plane client's heartbeats (src/ctl/session.c) against a real
 * server: portal-echo (tests/tools) as a child process, made to ping never, so
 * that only the client's own pings keep the session alive; then stopped
 * (SIGSTOP: its kernel still holds the connection, nothing answers), so that
 * the client must notice the silence and hang up. */
#include "portal_http_test.h"

#include "ctl/session.h"
#include "lib/time.h"

struct peer {
	unsigned connected, disconnected;
	char why[160];
};

static void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct peer *p = arg;

	(void)s;
	if (ev == CTL_EV_CONNECTED)
		p->connected++;
	if (ev == CTL_EV_DISCONNECTED) {
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_config),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
