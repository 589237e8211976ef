/* The portal's transport against real clients, WebSocket side: portal-echo
 * (tests/tools) as a child process, and a client written on lws's client API:
 * handshake refusals, fragments both ways, caps, 200 connections at once, a
 * reader that stops reading, pings, and shutdown. */
#include "portal_http_test.h"

#include <libwebsockets.h>

#include "lib/buf.h"
#include "lib/time.h"

/* ---- a WebSocket client on lws ---------------------------------------------- */

enum { WSC_CONNECTING, WSC_OPEN, WSC_CLOSED, WSC_FAILED };

struct frame {
	unsigned char *data; /* LWS_PRE + len */
	size_t len;
	int flags;
};

struct wsc {
	struct lws *wsi;
	const char *auth;
	int state, http_status;
	int close_code;
	char close_reason[128];
	struct buf rx;
	unsigned n_msgs;
	char *last;
	size_t last_len, total_rx;
	struct frame out[64];
	unsigned n_out, out_pos;
	bool want_close;
};

struct wsclient {
	struct lws_context *ctx;
	lws_sorted_usec_list_t sul;
};

static int wsc_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len)
{
	struct wsc *c = lws_get_opaque_user_data(wsi);

	(void)user;
	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in, *end = *p + len;

		if (c->auth && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
				(const unsigned char *)c->auth, (int)strlen(c->auth), p, end))
			return -1;
		return 0;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->state = WSC_OPEN;
		if (c->out_pos < c->n_out || c->want_close)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		assert_int_equal(buf_append(&c->rx, in, len), 0);
		c->total_rx += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
			return 0;
		c->n_msgs++;
		free(c->last);
		c->last = strndup((const char *)c->rx.data ? (const char *)c->rx.data : "",
				  c->rx.len);
		c->last_len = c->rx.len;
		buf_reset(&c->rx);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c->out_pos < c->n_out) {
			struct frame *f = &c->out[c->out_pos++];

			if (lws_write(wsi, f->data + LWS_PRE, f->len,
				      (enum lws_write_protocol)f->flags) < (int)f->len)
				return -1;
			if (c->out_pos < c->n_out || c->want_close)
				lws_callback_on_writable(wsi);
			return 0;
		}
		if (c->want_close) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
			return -1;
		}
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2) {
			const unsigned char *b = in;

			c->close_code = b[0] << 8 | b[1];
			snprintf(c->close_reason, sizeof(c->close_reason), "%.*s",
				 (int)len - 2, (const char *)in + 2);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		c->http_status = (int)lws_http_client_http_response(wsi);
		c->state = WSC_FAILED;
		c->wsi = NULL;
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		c->state = WSC_CLOSED;
		c->wsi = NULL;
		return 0;
	default:
		return 0;
	}
}

static void wake_cb(lws_sorted_usec_list_t *sul)
{
	struct wsclient *cl = lws_container_of(sul, struct wsclient, sul);

	/* lws_service() sleeps until something happens: make sure something does */
	lws_sul_schedule(cl->ctx, 0, &cl->sul, wake_cb, 20 * LWS_US_PER_MS);
}

static void client_new(struct wsclient *cl)
{
	static const struct lws_protocols protocols[] = {
		{ .name = "test", .callback = wsc_cb }, { 0 },
	};
	struct lws_context_creation_info info = { 0 };

	memset(cl, 0, sizeof(*cl)); /* the sul must start zeroed */
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.protocols = protocols;
	info.client_ssl_ca_filepath = E->ca;
	cl->ctx = lws_create_context(&info);
	assert_non_null(cl->ctx);
	lws_sul_schedule(cl->ctx, 0, &cl->sul, wake_cb, 20 * LWS_US_PER_MS);
}

static void client_free(struct wsclient *cl)
{
	lws_sul_cancel(&cl->sul);
	lws_context_destroy(cl->ctx);
}

static void wsc_connect(struct wsclient *cl, struct wsc *c, int port, const char *path,
			const char *host, const char *auth)
{
	struct lws_client_connect_info i = { 0 };

	memset(c, 0, sizeof(*c));
	buf_init(&c->rx, 8 << 20);
	c->auth = auth;
	i.context = cl->ctx;
	i.address = "127.0.0.1";
	i.port = port;
	i.path = path;
	i.host = host;
	i.origin = host;
	i.ssl_connection = LCCSCF_USE_SSL;
	i.local_protocol_name = "test";
	i.opaque_user_data = c;
	i.pwsi = &c->wsi;
	assert_non_null(lws_client_connect_via_info(&i));
}

static void wsc_free(struct wsc *c)
{
	for (unsigned i = 0; i < c->n_out; i++)
		free(c->out[i].data);
	free(c->last);
	buf_free(&c->rx);
}

/* Queues text as nfrag frames (a fragmented message when nfrag > 1). */
static void wsc_send_frags(struct wsc *c, const char *text, size_t len, unsigned nfrag,
			   int type)
{
	size_t per = (len + nfrag - 1) / nfrag, off = 0;

	for (unsigned k = 0; k < nfrag; k++) {
		size_t n = len - off < per ? len - off : per;
		struct frame *f = &c->out[c->n_out++];

		assert_true(c->n_out <= 64);
		f->data = malloc(LWS_PRE + n + 1);
		memcpy(f->data + LWS_PRE, text + off, n);
		f->len = n;
		f->flags = lws_write_ws_flags(type, k == 0, k == nfrag - 1);
		off += n;
	}
	if (c->wsi && c->state == WSC_OPEN)
		lws_callback_on_writable(c->wsi);
}

static void wsc_send(struct wsc *c, const char *text)
{
	wsc_send_frags(c, text, strlen(text), 1, LWS_WRITE_TEXT);
}

typedef bool (*cond_fn)(struct wsc *cs, size_t n, unsigned arg);

/* Services the client until cond holds for the connections; false on timeout. */
static bool run_until(struct wsclient *cl, struct wsc *cs, size_t n, cond_fn cond,
		      unsigned arg, unsigned timeout_ms)
{
	uint64_t end = time_mono_ns() + (uint64_t)timeout_ms * 1000000;

	while (!cond(cs, n, arg)) {
		if (time_mono_ns() > end)
			return false;
		lws_service(cl->ctx, 0);
	}
	return true;
}

static bool all_msgs(struct wsc *cs, size_t n, unsigned want)
{
	for (size_t i = 0; i < n; i++)
		if (cs[i].n_msgs < want)
			return false;
	return true;
}

static bool all_done(struct wsc *cs, size_t n, unsigned unused)
{
	(void)unused;
	for (size_t i = 0; i < n; i++)
		if (cs[i].state != WSC_CLOSED && cs[i].state != WSC_FAILED)
			return false;
	return true;
}

static bool never(struct wsc *cs, size_t n, unsigned unused)
{
	(void)cs, (void)n, (void)unused;
	return false;
}

static void test_ws_basic(void **state)
{
	struct env *e = *state;
	struct wsclient cl;
	struct wsc c, g;
	char *big;
	json_t *j;

	client_new(&cl);
	wsc_connect(&cl, &c, e->srv.port, "/client/ws", "portal.test", "Bearer alice");
	wsc_connect(&cl, &g, e->srv.port, "/gateway/ws", "portal.test", NULL);
	assert_true(run_until(&cl, &c, 1, all_msgs, 1, 5000));
	assert_true(run_until(&cl, &g, 1, all_msgs, 1, 5000));
	/* the hello sent from open(): endpoint and Authorization as the server saw them */
	j = json_loads(c.last, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "hello");
	assert_int_equal(json_integer_value(json_object_get(j, "endpoint")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "authorization")),
			    "Bearer alice");
	assert_string_equal(json_string_value(json_object_get(j, "peer")), "127.0.0.1");
	json_decref(j);
	j = json_loads(g.last, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(j, "endpoint")), 1);
	assert_true(json_is_null(json_object_get(j, "authorization")));
	json_decref(j);

	wsc_send(&c, "{\"type\":\"ping\"}");
	assert_true(run_until(&cl, &c, 1, all_msgs, 2, 5000));
	assert_string_equal(c.last, "{\"type\":\"ping\"}");
	/* a message in 5 fragments comes back as one */
	wsc_send_frags(&c, "0123456789abcdefghij", 20, 5, LWS_WRITE_TEXT);
	assert_true(run_until(&cl, &c, 1, all_msgs, 3, 5000));
	assert_string_equal(c.last, "0123456789abcdefghij");
	/* UTF-8 passes whole; an empty message too */
	wsc_send(&c, "gr\xc3\xbc\xc3\x9f");
	wsc_send(&c, "");
	assert_true(run_until(&cl, &c, 1, all_msgs, 5, 5000));
	assert_int_equal(c.last_len, 0);
	/* 300 kB from the server, sent in 32 KiB frames, reassembled here */
	wsc_send(&c, "!big 300000");
	assert_true(run_until(&cl, &c, 1, all_msgs, 6, 5000));
	assert_int_equal(c.last_len, 300000);
	big = calloc(1, 300001);
	memset(big, 'x', 300000);
	assert_memory_equal(c.last, big, 300000);
	/* and a message just under the 1 MiB cap, from the client in fragments */
	big = realloc(big, 1 << 20);
	memset(big, 'z', 1 << 20);
	wsc_send_frags(&c, big, 1 << 20, 8, LWS_WRITE_TEXT);
	assert_true(run_until(&cl, &c, 1, all_msgs, 7, 10000));
	assert_int_equal(c.last_len, 1 << 20);
	free(big);
	/* a burst: order kept */
	wsc_send(&c, "!burst 100 1000");
	assert_true(run_until(&cl, &c, 1, all_msgs, 107, 5000));
	/* closed by the server: the queued message first, then 1000 "bye" */
	wsc_send(&c, "!close");
	assert_true(run_until(&cl, &c, 1, all_done, 0, 5000));
	assert_string_equal(c.last, "closing");
	assert_int_equal(c.close_code, 1000);
	assert_string_equal(c.close_reason, "bye");
	/* closed by the client */
	g.want_close = true;
	lws_callback_on_writable(g.wsi);
	assert_true(run_until(&cl, &g, 1, all_done, 0, 5000));
	assert_int_equal(g.state, WSC_CLOSED);
	wsc_free(&c);
	wsc_free(&g);
	client_free(&cl);
}

static void test_ws_refused(void **state)
{
	static const struct { const char *path, *auth; int status; } cases[] = {
		{ "/client/ws", "Bearer bad", 401 },
		{ "/gateway/ws", "Bearer forbidden", 403 },
		{ "/client/ws", "Bearer busy", 503 },
		{ "/other/ws", NULL, 404 },
		{ "/api/v1/echo", NULL, 404 },
	};
	struct env *e = *state;
	struct wsclient cl;
	struct wsc c;

	client_new(&cl);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wsc_connect(&cl, &c, e->srv.port, cases[i].path, "portal.test", cases[i].auth);
		assert_true(run_until(&cl, &c, 1, all_done, 0, 5000));
		assert_int_equal(c.state, WSC_FAILED);
		assert_int_equal(c.http_status, cases[i].status);
		wsc_free(&c);
	}
	/* a host name the certificate does not carry fails verification */
	wsc_connect(&cl, &c, e->srv.port, "/client/ws", "other.test", NULL);
	assert_true(run_until(&cl, &c, 1, all_done, 0, 5000));
	assert_int_equal(c.state, WSC_FAILED);
	assert_int_equal(c.n_msgs, 0);
	wsc_free(&c);
	assert_int_equal(stat_get(e->srv.port, "sessions_open"), 0);
	client_free(&cl);
}

static void test_ws_limits(void **state)
{
	struct env *e = *state;
	struct wsclient cl;
	struct wsc c[4];
	char *big = malloc((1 << 20) + 1);

	memset(big, 'o', (1 << 20) + 1);
	client_new(&cl);
	for (int i = 0; i < 4; i++)
		wsc_connect(&cl, &c[i], e->srv.port, "/client/ws", "portal.test", NULL);
	assert_true(run_until(&cl, c, 4, all_msgs, 1, 5000));
	/* one byte over the cap, in one frame and in fragments: 1009 */
	wsc_send_frags(&c[0], big, (1 << 20) + 1, 1, LWS_WRITE_TEXT);
	wsc_send_frags(&c[1], big, (1 << 20) + 1, 9, LWS_WRITE_TEXT);
	/* binary frames are not part of the protocol: 1003 */
	wsc_send_frags(&c[2], "\x01\x02", 2, 1, LWS_WRITE_BINARY);
	/* text that is not UTF-8: 1007, from lws itself */
	wsc_send(&c[3], "ok \xff\xfe");
	assert_true(run_until(&cl, c, 4, all_done, 0, 10000));
	assert_int_equal(c[0].close_code, 1009);
	assert_string_equal(c[0].close_reason, "message too big");
	assert_int_equal(c[1].close_code, 1009);
	assert_int_equal(c[2].close_code, 1003);
	assert_int_equal(c[3].close_code, 1007);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(c[i].n_msgs, 1); /* the hello only */
		wsc_free(&c[i]);
	}
	free(big);
	client_free(&cl);
	assert_int_equal(stat_get(e->srv.port, "sessions_open"), 0);
}

static void test_ws_many(void **state)
{
	enum { N = 200 };
	struct env *e = *state;
	struct wsclient cl;
	struct wsc *c = calloc(N, sizeof(*c));
	char msg[32];

	client_new(&cl);
	for (int i = 0; i < N; i++)
		wsc_connect(&cl, &c[i], e->srv.port, i % 2 ? "/gateway/ws" : "/client/ws",
			    "portal.test", "Bearer many");
	assert_true(run_until(&cl, c, N, all_msgs, 1, 30000));
	assert_int_equal(stat_get(e->srv.port, "sessions_open"), N);
	for (int i = 0; i < N; i++) {
		snprintf(msg, sizeof(msg), "message %d", i);
		wsc_send(&c[i], msg);
	}
	assert_true(run_until(&cl, c, N, all_msgs, 2, 30000));
	for (int i = 0; i < N; i++) {
		snprintf(msg, sizeof(msg), "message %d", i);
		assert_string_equal(c[i].last, msg);
	}
	wsc_send(&c[7], "!broadcast to everyone");
	assert_true(run_until(&cl, c, N, all_msgs, 3, 30000));
	for (int i = 0; i < N; i++)
		assert_string_equal(c[i].last, "to everyone");
	for (int i = 0; i < N; i++) {
		c[i].want_close = true;
		lws_callback_on_writable(c[i].wsi);
	}
	assert_true(run_until(&cl, c, N, all_done, 0, 30000));
	for (int i = 0; i < N; i++) {
		assert_int_equal(c[i].state, WSC_CLOSED);
		wsc_free(&c[i]);
	}
	free(c);
	client_free(&cl);
	for (int i = 0; i < 50 && stat_get(e->srv.port, "sessions_open") != 0; i++)
		usleep(100000);
	assert_int_equal(stat_get(e->srv.port, "sessions_open"), 0);
	assert_int_equal(stat_get(e->srv.port, "echo_sessions"), 0);
}

static void test_ws_slow_reader(void **state)
{
	struct env *e = *state;
	struct wsclient cl;
	struct wsc c, ok;
	long long before = stat_get(e->srv.port, "slow_disconnects");
	int i;

	client_new(&cl);
	wsc_connect(&cl, &c, e->srv.port, "/client/ws", "portal.test", NULL);
	wsc_connect(&cl, &ok, e->srv.port, "/client/ws", "portal.test", NULL);
	assert_true(run_until(&cl, &c, 1, all_msgs, 1, 5000));
	assert_true(run_until(&cl, &ok, 1, all_msgs, 1, 5000));
	wsc_send(&c, "!flood");
	run_until(&cl, &c, 1, never, 0, 200); /* the command goes out */
	lws_rx_flow_control(c.wsi, 0);        /* and the client stops reading */
	for (i = 0; i < 100 && stat_get(e->srv.port, "slow_disconnects") == before; i++)
		run_until(&cl, &c, 1, never, 0, 100);
	assert_int_equal(stat_get(e->srv.port, "slow_disconnects"), before + 1);
	/* reading again, it finds the connection gone; the other session is fine */
	if (c.wsi)
		lws_rx_flow_control(c.wsi, 1);
	assert_true(run_until(&cl, &c, 1, all_done, 0, 20000));
	assert_true(c.total_rx > 1000000);
	wsc_send(&ok, "still here");
	assert_true(run_until(&cl, &ok, 1, all_msgs, 2, 5000));
	assert_string_equal(ok.last, "still here");
	ok.want_close = true;
	lws_callback_on_writable(ok.wsi);
	assert_true(run_until(&cl, &ok, 1, all_done, 0, 5000));
	wsc_free(&c);
	wsc_free(&ok);
	client_free(&cl);
}

/* A client that connects and then stops servicing its loop altogether (in a
 * child process, so that not even lws answers pings for it). */
static pid_t mute_client(int port)
{
	struct wsclient cl;
	struct wsc c;
	int p[2];
	char b;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		client_new(&cl);
		wsc_connect(&cl, &c, port, "/client/ws", "portal.test", NULL);
		if (run_until(&cl, &c, 1, all_msgs, 1, 5000))
			(void)!write(p[1], "x", 1);
		sleep(30);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &b, 1), 1);
	close(p[0]);
	return pid;
}

/* A server with 1 s pings and a 3 s idle limit (checked every 0.5 s): a client
 * that answers pings stays, one that does not is dropped after 3 s. */
static void test_ws_ping(void **state)
{
	static const char *const args[] = { "--ping", "1", "--idle", "3", NULL };
	struct server s;
	struct wsclient cl;
	struct wsc live;
	uint64_t t0;
	pid_t mute;

	(void)state;
	server_start(&s, args);
	mute = mute_client(s.port);
	client_new(&cl);
	wsc_connect(&cl, &live, s.port, "/client/ws", "portal.test", NULL);
	assert_true(run_until(&cl, &live, 1, all_msgs, 1, 5000));
	assert_int_equal(stat_get(s.port, "sessions_open"), 2);
	t0 = time_mono_ns();
	while (stat_get(s.port, "sessions_open") != 1 && time_mono_ns() - t0 < 20000000000ull)
		run_until(&cl, &live, 1, never, 0, 100);
	/* dropped at once (no close handshake with a peer that is not there) */
	assert_int_equal(stat_get(s.port, "sessions_open"), 1);
	assert_true(time_mono_ns() - t0 > 2500000000ull);
	assert_true(time_mono_ns() - t0 < 6000000000ull);
	assert_int_equal(stat_get(s.port, "idle_disconnects"), 1);
	/* the live one sends nothing itself: only its pongs keep it */
	run_until(&cl, &live, 1, never, 0, 4000);
	assert_int_equal(live.state, WSC_OPEN);
	assert_int_equal(stat_get(s.port, "sessions_open"), 1);
	assert_int_equal(stat_get(s.port, "idle_disconnects"), 1);
	assert_int_equal(stat_get(s.port, "slow_disconnects"), 0);
	wsc_send(&live, "after pings");
	assert_true(run_until(&cl, &live, 1, all_msgs, 2, 5000));
	live.want_close = true;
	lws_callback_on_writable(live.wsi);
	assert_true(run_until(&cl, &live, 1, all_done, 0, 5000));
	wsc_free(&live);
	client_free(&cl);
	kill(mute, SIGKILL);
	waitpid(mute, NULL, 0);
	assert_int_equal(server_stop(&s), 0);
}

/* Queues one frame of len 'x' bytes: the first of a message or a continuation,
 * the last one or not. */
static void wsc_send_part(struct wsc *c, size_t len, bool first, bool fin)
{
	struct frame *f = &c->out[c->n_out++];

	assert_true(c->n_out <= 64);
	f->data = malloc(LWS_PRE + len + 1);
	memset(f->data + LWS_PRE, 'x', len);
	f->len = len;
	f->flags = lws_write_ws_flags(first ? LWS_WRITE_TEXT : LWS_WRITE_CONTINUATION,
				      first, fin);
	if (c->wsi && c->state == WSC_OPEN)
		lws_callback_on_writable(c->wsi);
}

/* Services the clients until the server's counter name is want; false after 5 s. */
static bool serve_until_stat(struct wsclient *cl, struct wsc *cs, size_t n, int port,
			     const char *name, long long want)
{
	uint64_t end = time_mono_ns() + 5000000000ull;

	while (stat_get(port, name) != want) {
		if (time_mono_ns() > end)
			return false;
		run_until(cl, cs, n, never, 0, 20);
	}
	return true;
}

static bool any_done(struct wsc *cs, size_t n, unsigned unused)
{
	(void)unused;
	for (size_t i = 0; i < n; i++)
		if (cs[i].state == WSC_CLOSED || cs[i].state == WSC_FAILED)
			return true;
	return false;
}

static bool share_closed(const struct wsc *c)
{
	return c->state == WSC_CLOSED && c->close_code == 1009 &&
	       strcmp(c->close_reason, "message buffers full: over this session's share") == 0;
}

/* Incomplete messages share 128 KiB (64 KiB each at most): two fill it; a third
 * under its share makes room by closing the one holding most; a fourth over its
 * share is closed itself; what stays is served and freed. */
static void test_ws_share(void **state)
{
	static const char *const args[] = { "--max-message", "65536", "--max-rx-total",
					     "131072", NULL };
	struct server s;
	struct wsclient cl;
	struct wsc c[4];
	int kept;

	(void)state;
	server_start(&s, args);
	client_new(&cl);
	for (int i = 0; i < 4; i++)
		wsc_connect(&cl, &c[i], s.port, "/client/ws", "portal.test", NULL);
	assert_true(run_until(&cl, c, 4, all_msgs, 1, 5000));
	wsc_send_part(&c[0], 40000, true, false); /* a 64 KiB buffer each */
	wsc_send_part(&c[1], 40000, true, false);
	assert_true(serve_until_stat(&cl, c, 4, s.port, "rx_bytes", 131072));
	wsc_send_part(&c[2], 10000, true, false); /* needs 16 KiB, share 42 KiB */
	assert_true(serve_until_stat(&cl, c, 4, s.port, "rx_over_share", 1));
	assert_true(run_until(&cl, c, 2, any_done, 0, 5000));
	assert_true(share_closed(&c[0]) != share_closed(&c[1]));
	kept = share_closed(&c[0]) ? 1 : 0;
	assert_int_equal(stat_get(s.port, "rx_bytes"), 65536 + 16384);
	wsc_send_part(&c[3], 60000, true, false); /* 64 KiB over a share of 42 */
	assert_true(run_until(&cl, &c[3], 1, all_done, 0, 5000));
	assert_true(share_closed(&c[3]));
	assert_int_equal(stat_get(s.port, "rx_over_share"), 2);
	assert_int_equal(stat_get(s.port, "rx_bytes"), 65536 + 16384);
	/* the two left finish their messages: echoed whole, the buffers freed */
	wsc_send_part(&c[2], 100, false, true);
	wsc_send_part(&c[kept], 20000, false, true);
	assert_true(run_until(&cl, &c[2], 1, all_msgs, 2, 5000));
	assert_true(run_until(&cl, &c[kept], 1, all_msgs, 2, 5000));
	assert_int_equal(c[2].last_len, 10100);
	assert_int_equal(c[kept].last_len, 60000);
	assert_int_equal(stat_get(s.port, "rx_bytes"), 0);
	assert_int_equal(stat_get(s.port, "sessions_open"), 2);
	for (int i = 2; i >= 1; i--) {
		c[i == 1 ? kept : 2].want_close = true;
		lws_callback_on_writable(c[i == 1 ? kept : 2].wsi);
	}
	assert_true(run_until(&cl, c, 4, all_done, 0, 5000));
	for (int i = 0; i < 4; i++)
		wsc_free(&c[i]);
	client_free(&cl);
	assert_int_equal(server_stop(&s), 0);
}

/* SIGTERM: sessions get 1001 and the server exits cleanly, without waiting
 * long for a peer that does not read. */
static void test_ws_shutdown(void **state)
{
	struct server s;
	struct wsclient cl;
	struct wsc c[3];
	uint64_t t0;
	pid_t mute;

	(void)state;
	server_start(&s, NULL);
	mute = mute_client(s.port);
	client_new(&cl);
	for (int i = 0; i < 3; i++)
		wsc_connect(&cl, &c[i], s.port, "/client/ws", "portal.test", NULL);
	assert_true(run_until(&cl, c, 3, all_msgs, 1, 5000));
	t0 = time_mono_ns();
	kill(s.pid, SIGTERM);
	assert_true(run_until(&cl, c, 3, all_done, 0, 5000));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(c[i].close_code, 1001);
		assert_string_equal(c[i].close_reason, "portal shutting down");
		wsc_free(&c[i]);
	}
	client_free(&cl);
	assert_int_equal(server_wait(&s), 0); /* closed() came for the mute one too */
	assert_true(time_mono_ns() - t0 < 4500000000ull); /* 2 s of goodbye, not 5 or 30 */
	kill(mute, SIGKILL);
	waitpid(mute, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ws_basic),
		cmocka_unit_test(test_ws_refused),
		cmocka_unit_test(test_ws_limits),
		cmocka_unit_test(test_ws_many),
		cmocka_unit_test(test_ws_slow_reader),
		cmocka_unit_test(test_ws_ping),
		cmocka_unit_test(test_ws_share),
		cmocka_unit_test(test_ws_shutdown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
