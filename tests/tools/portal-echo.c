/* portal-echo: the portal's transport (src/portal/http.c) with an echo
 * application on top, for tests.
 *
 *   portal-echo --cert FILE --key FILE [--listen ADDR] [--port N] [--web-root DIR]
 *               [--max-body N] [--max-message N] [--max-queue N]
 *               [--ping S] [--idle S] [--log-level L]
 *
 * Prints "port N" on stdout once listening; SIGINT/SIGTERM stop it.
 *
 * REST, under /api/v1:
 *   ANY  /echo          {"method","path","authorization","peer","body","json",
 *                        "limit","after"}  (json: the body parsed, when it is JSON)
 *   GET  /stats         the server's counters, and the echo sessions open
 *   GET  /status/N      answers status N with an error body (204: none)
 *   GET  /big?n=N       a response of about N bytes
 *   GET  /fail          the handler fails (the server answers 500)
 *   else                404
 * WebSocket, /client/ws and /gateway/ws: the Authorization header decides:
 *   "Bearer bad" 401, "Bearer forbidden" 403, "Bearer busy" 503, else accepted
 *   with a first message {"type":"hello","endpoint":N,"authorization":...}.
 *   Every message is echoed, except these commands:
 *   "!close" (1000 "bye"), "!policy" (1008 "policy"), "!big N" (one N-byte
 *   message), "!burst N SIZE" (N messages at once), "!flood" (64 KiB messages
 *   every tick until the queue overflows), "!broadcast TEXT" (TEXT to all). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonx.h"
#include "lib/log.h"
#include "portal/http.h"

struct echo_sess {
	struct http_session *s;
	struct echo_sess *prev, *next;
	bool flood;
};

struct echo {
	struct http_server *srv;
	struct echo_sess *sessions;
	unsigned open;
};

static struct http_server *the_server; /* for the signal handler only */

static void on_signal(int sig)
{
	(void)sig;
	if (the_server)
		http_server_stop(the_server);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int api(void *arg, const struct http_request *req, struct http_response *resp)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
	struct echo *e = arg;
	const char *p = req->path + strlen("/api/v1");

	if (strcmp(p, "/echo") == 0) {
		char err[128];
		json_t *parsed = req->body_len ?
			jsonx_load_object(req->body, req->body_len, req->body_len, err,
					  sizeof(err)) : NULL;

		resp->body = json_pack("{s:s,s:s,s:o,s:s,s:s%,s:o,s:o,s:o}",
				       "method", methods[req->method], "path", req->path,
				       "authorization", str_or_null(req->authorization),
				       "peer", req->peer, "body", req->body, req->body_len,
				       "json", parsed ? parsed : json_null(),
				       "limit", str_or_null(http_request_arg(req, "limit")),
				       "after", str_or_null(http_request_arg(req, "after")));
		return resp->body ? 0 : -ENOMEM;
	}
	if (strcmp(p, "/stats") == 0) {
		struct http_stats st;

		http_server_stats(e->srv, &st);
		resp->body = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i}",
				       "requests", (json_int_t)st.requests,
				       "sessions_open", (json_int_t)st.sessions_open,
				       "sessions_total", (json_int_t)st.sessions_total,
				       "rejected_too_large", (json_int_t)st.rejected_too_large,
				       "slow_disconnects", (json_int_t)st.slow_disconnects,
				       "idle_disconnects", (json_int_t)st.idle_disconnects,
				       "rx_bytes", (json_int_t)st.rx_bytes,
				       "rx_over_share", (json_int_t)st.rx_over_share,
				       "echo_sessions", (int)e->open);
		return 0;
	}
	if (strncmp(p, "/status/", 8) == 0) {
		resp->status = (unsigned)atoi(p + 8);
		if (resp->status != 204)
			resp->body = http_error_json("bad_request", "status %u as asked",
						     resp->status);
		return 0;
	}
	if (strcmp(p, "/big") == 0) {
		const char *n = http_request_arg(req, "n");
		size_t len = n ? strtoul(n, NULL, 10) : 0;
		char *s = malloc(len + 1);

		if (!s)
			return -ENOMEM;
		memset(s, 'b', len);
		s[len] = '\0';
		resp->body = json_pack("{s:s}", "data", s);
		free(s);
		return 0;
	}
	if (strcmp(p, "/fail") == 0)
		return -EIO;
	resp->status = 404;
	resp->body = http_error_json("not_found", "no such thing");
	return 0;
}

static int ws_open(void *arg, struct http_session *s, unsigned endpoint,
		   const struct http_request *req)
{
	struct echo *e = arg;
	const char *auth = req->authorization;
	struct echo_sess *es;
	json_t *hello;

	if (auth && strcmp(auth, "Bearer bad") == 0)
		return -EACCES;
	if (auth && strcmp(auth, "Bearer forbidden") == 0)
		return -EPERM;
	if (auth && strcmp(auth, "Bearer busy") == 0)
		return -EAGAIN;
	es = calloc(1, sizeof(*es));
	if (!es)
		return -ENOMEM;
	es->s = s;
	es->next = e->sessions;
	if (es->next)
		es->next->prev = es;
	e->sessions = es;
	e->open++;
	http_session_set_user(s, es);
	/* sent from open(), before the upgrade is even answered: queued */
	hello = json_pack("{s:s,s:i,s:o,s:s}", "type", "hello", "endpoint", (int)endpoint,
			  "authorization", str_or_null(auth), "peer", http_session_peer(s));
	http_session_send_json(s, hello);
	json_decref(hello);
	return 0;
}

static void send_filled(struct http_session *s, size_t n, char c)
{
	char *m = malloc(n ? n : 1);

	if (!m)
		return;
	memset(m, c, n);
	http_session_send(s, m, n);
	free(m);
}

static void ws_message(void *arg, struct http_session *s, const char *text, size_t len)
{
	struct echo *e = arg;
	struct echo_sess *es = http_session_user(s);
	unsigned long n, size;

	if (strcmp(text, "!close") == 0) {
		http_session_send(s, "closing", 7);
		http_session_close(s, 1000, "bye");
	} else if (strcmp(text, "!policy") == 0) {
		http_session_close(s, 1008, "policy");
	} else if (sscanf(text, "!big %lu", &n) == 1) {
		send_filled(s, n, 'x');
	} else if (sscanf(text, "!burst %lu %lu", &n, &size) == 2) {
		for (unsigned long i = 0; i < n; i++)
			send_filled(s, size, 'y');
	} else if (strcmp(text, "!flood") == 0) {
		es->flood = true;
	} else if (strncmp(text, "!broadcast ", 11) == 0) {
		for (struct echo_sess *o = e->sessions; o; o = o->next)
			http_session_send(o->s, text + 11, len - 11);
	} else {
		http_session_send(s, text, len);
	}
}

static void ws_closed(void *arg, struct http_session *s)
{
	struct echo *e = arg;
	struct echo_sess *es = http_session_user(s);

	if (es->prev)
		es->prev->next = es->next;
	else
		e->sessions = es->next;
	if (es->next)
		es->next->prev = es->prev;
	e->open--;
	free(es);
}

static void tick(void *arg)
{
	struct echo *e = arg;
	enum { CHUNK = 65536 };
	char *m = NULL;

	for (struct echo_sess *es = e->sessions; es; es = es->next) {
		if (!es->flood)
			continue;
		if (!m && !(m = calloc(1, CHUNK)))
			return;
		memset(m, 'f', CHUNK);
		for (int i = 0; i < 4; i++)
			if (http_session_send(es->s, m, CHUNK) < 0) {
				es->flood = false; /* the session is on its way out */
				break;
			}
	}
	free(m);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "web-root", required_argument, NULL, 'w' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "max-message", required_argument, NULL, 'm' },
		{ "max-queue", required_argument, NULL, 'q' },
		{ "max-rx-total", required_argument, NULL, 'R' },
		{ "ping", required_argument, NULL, 'P' },
		{ "idle", required_argument, NULL, 'I' },
		{ "log-level", required_argument, NULL, 'L' },
		{ 0 },
	};
	static const char *const ws_paths[] = { "/client/ws", "/gateway/ws", NULL };
	static const struct http_ws_ops ops = { ws_open, ws_message, ws_closed };
	struct echo e = { 0 };
	struct http_config cfg = {
		.ws_paths = ws_paths, .ws = &ops, .ws_arg = &e, .api = api, .api_arg = &e,
		.tick_ms = 10, .tick = tick, .tick_arg = &e,
		/* the tests open hundreds of sessions at once from 127.0.0.1 */
		.limits.max_conns_per_source = 100000,
	};
	enum log_level level = LOG_LVL_INFO;
	struct sigaction sa = { .sa_handler = on_signal };
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg.cert_path = optarg; break;
		case 'k': cfg.key_path = optarg; break;
		case 'l': cfg.address = optarg; break;
		case 'p': cfg.port = atoi(optarg); break;
		case 'w': cfg.web_root = optarg; break;
		case 'b': cfg.max_body = strtoul(optarg, NULL, 10); break;
		case 'm': cfg.max_message = strtoul(optarg, NULL, 10); break;
		case 'q': cfg.max_queue = strtoul(optarg, NULL, 10); break;
		case 'R': cfg.max_rx_total = strtoul(optarg, NULL, 10); break;
		case 'P': cfg.ping_s = (unsigned)atoi(optarg); break;
		case 'I': cfg.idle_timeout_s = (unsigned)atoi(optarg); break;
		case 'L':
			if (log_level_parse(optarg, &level) < 0)
				return 2;
			break;
		default:
			return 2;
		}
	}
	log_setup(level, "portal-echo");
	r = http_server_new(&cfg, &e.srv);
	if (r < 0) {
		log_err("http_server_new: %s", strerror(-r));
		return 1;
	}
	the_server = e.srv;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("port %d\n", http_server_port(e.srv));
	fflush(stdout);
	r = http_server_run(e.srv);
	the_server = NULL;
	http_server_free(e.srv);
	log_info("stopped (%d), %u echo sessions left", r, e.open);
	return r < 0 || e.open ? 1 : 0;
}
