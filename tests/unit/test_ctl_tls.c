/* The control-plane session's TLS checks (ctl/tlscheck.h, ctl/session.c) over
 * real TLS: the project's WSS server (portal/http.c) runs in a thread with a
 * certificate for portal.test and 127.0.0.1 only; sessions that dial another
 * name or address, or trust another CA, must be refused before the upgrade,
 * with a reason that says so. IPv6 is the case libwebsockets 4.1 itself does
 * not check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "ctl/session.h"
#include "ctl/tlscheck.h"
#include "tls_env_test.h"

/* Two lws TLS contexts in one process: see test_cli_https.c. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libcrypto.so\n";
}

struct env {
	struct tls_env t;
};

static int ws_open(void *arg, struct http_session *s, unsigned endpoint,
		   const struct http_request *req)
{
	(void)arg, (void)s, (void)endpoint, (void)req;
	return 0;
}

static void ws_message(void *arg, struct http_session *s, const char *text, size_t len)
{
	(void)arg, (void)s, (void)text, (void)len;
}

static void ws_closed(void *arg, struct http_session *s)
{
	(void)arg, (void)s;
}

static const struct http_ws_ops ops = { ws_open, ws_message, ws_closed };
static const char *const paths[] = { "/client/ws", NULL };

static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct http_config cfg = { .ws_paths = paths, .ws = &ops };

	if (!e || tls_env_start(&e->t, &cfg, "/tmp/sluice-ctltls-XXXXXX") != 0)
		return -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	int r = tls_env_stop(&e->t);

	free(e);
	return r;
}

struct outcome {
	bool connected, lost;
	char why[256];
};

static void on_event(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why)
{
	struct outcome *o = arg;

	(void)s;
	if (ev == CTL_EV_CONNECTED)
		o->connected = true;
	if (ev == CTL_EV_DISCONNECTED) {
		o->lost = true;
		snprintf(o->why, sizeof(o->why), "%s", why ? why : "");
	}
}

static void on_message(void *arg, struct ctl_session *s, const struct ctl_msg *m)
{
	(void)arg, (void)s, (void)m;
}

/* Dials host with ca and waits for the first verdict. */
static struct outcome dial(const struct env *e, const char *ca, const char *host)
{
	struct outcome o = { 0 };
	struct ctl_session_config cfg = {
		.host = host, .port = (uint16_t)e->t.port, .path = "/client/ws",
		.token = "sl_x", .public_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		.role = CTL_ROLE_CLIENT, .no_reconnect = true,
		.on_message = on_message, .on_event = on_event, .arg = &o,
	};
	struct ctl_loop *l;
	struct ctl_session *s;

	assert_int_equal(ctl_loop_new(ca, &l), 0);
	assert_int_equal(ctl_session_open(l, &cfg, &s), 0);
	for (int i = 0; i < 100 && !o.connected && !o.lost; i++)
		ctl_loop_run(l, 50);
	ctl_session_close(s);
	ctl_loop_free(l);
	return o;
}

static void test_names_checked(void **state)
{
	const struct env *e = *state;
	struct outcome o;

	o = dial(e, e->t.ca, "127.0.0.1");
	assert_true(o.connected);

	o = dial(e, e->t.ca, "localhost"); /* reaches the server; not a name it holds */
	assert_false(o.connected);
	assert_true(o.lost);
	assert_non_null(strstr(o.why, "TLS"));

	if (have_ipv6_loopback()) {
		o = dial(e, e->t.ca, "::1");
		assert_false(o.connected);
		assert_true(o.lost);
		assert_non_null(strstr(o.why, "not valid for ::1"));
	}
}

static void test_only_the_given_ca(void **state)
{
	const struct env *e = *state;
	struct outcome o = dial(e, e->t.other_ca, "127.0.0.1");

	assert_false(o.connected);
	assert_true(o.lost);
}

static void test_init(void **state)
{
	struct tlscheck t;
	char longname[300];

	(void)state;
	assert_int_equal(tlscheck_init(&t, "[fd00::1]"), 0);
	assert_string_equal(t.host, "fd00::1");
	assert_true(t.is_ip);
	assert_int_equal(tlscheck_init(&t, "198.51.100.30"), 0);
	assert_true(t.is_ip);
	assert_int_equal(tlscheck_init(&t, "portal.test"), 0);
	assert_false(t.is_ip);
	assert_false(t.checked);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(tlscheck_init(&t, longname), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test_setup_teardown(test_names_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_the_given_ca, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
