/* The server: one lws context, one vhost, one protocol whose callback serves the
 * REST API, static files and (through http_ws.c) WebSocket sessions.
 *
 * Only HTTP/1.1 is offered (ALPN "http/1.1"): lws 4.1's HTTP/2 path takes
 * WebSocket upgrades (RFC 8441) and bodies without Content-Length through code
 * this module could not test, and an admin API gains nothing from it. */
#include "portal/http_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "lib/time.h"

enum {
	DEFAULT_MAX_BODY = 1 << 20,
	DEFAULT_MAX_MESSAGE = 1 << 20,
	DEFAULT_MAX_QUEUE = 4 << 20,
	DEFAULT_MAX_RX_TOTAL = 32 << 20,
	DEFAULT_PING_S = 30,
	WRITE_CHUNK = 16384,
	/* A refused body up to this size is read and dropped before the connection
	 * closes: closing on unread bytes sends a RST, which can destroy the answer
	 * before the client reads it. Past it, the client has to use Expect. */
	DRAIN_MAX = 16 << 20,
	SHUTDOWN_MS = 2000, /* how long sessions get to say goodbye */
	HEARTBEAT_MS = 500, /* pings and hang-ups are this late at most */
};

/* One HTTP transaction (lws's per-connection user space, zeroed at bind). */
struct http_txn {
	struct http_reqinfo *ri;
	struct buf body;
	bool waiting_body, answered, close_after;
	bool head; /* HEAD: the headers of the answer, not its body */
	bool drain, out_done; /* refused body being read and dropped */
	unsigned char *out; /* LWS_PRE + out_len */
	size_t out_len, out_off;
};

static void txn_reset(struct http_txn *t)
{
	free(t->ri);
	buf_free(&t->body);
	free(t->out);
	*t = (struct http_txn){ 0 };
}

json_t *http_error_json(const char *code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
}

/* lws logs errors that a peer can provoke: through our log, rate-limited. lws's
 * log hook has no user pointer and its level is process-wide, hence the one
 * static bucket. */
static void lws_log_emit(int level, const char *line)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT;
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	/* lws 4.1's only word of its listener's accept() failing (EMFILE...) */
	if (strncmp(line, "accept: errno ", 14) == 0)
		http_conn_accept_failed();
	log_rl(&rl, level == LLL_ERR ? LOG_LVL_WARN : LOG_LVL_DEBUG, "lws: %.*s", (int)n,
	       line);
}

/* ---- responses ---------------------------------------------------------- */

static int headers_write(struct lws *wsi, unsigned status, size_t len, bool close)
{
	unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start;
	unsigned char *end = hdr + sizeof(hdr) - 1;

	if (lws_add_http_common_headers(wsi, status, len ? "application/json" : NULL,
					status == 204 ? LWS_ILLEGAL_HTTP_CONTENT_LEN : len,
					&p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
					(const unsigned char *)"nosniff", 7, &p, end))
		return -1;
	if (status == 401 &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
					(const unsigned char *)"Bearer", 6, &p, end))
		return -1;
	if (close &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
					(const unsigned char *)"close", 5, &p, end))
		return -1;
	return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

/* Serializes body with LWS_PRE bytes of headroom, as lws_write() wants. */
static unsigned char *json_out(json_t *body, size_t *len)
{
	size_t n = json_dumpb(body, NULL, 0, JSON_COMPACT);
	unsigned char *out;

	if (n == 0)
		return NULL;
	out = malloc(LWS_PRE + n);
	if (out && json_dumpb(body, (char *)out + LWS_PRE, n, JSON_COMPACT) != n) {
		free(out);
		out = NULL;
	}
	*len = n;
	return out;
}

/* Starts the answer: headers now, the body from the writeable callback. Takes
 * the reference to body. Returns what the lws callback should. */
static int respond(struct lws *wsi, struct http_txn *t, unsigned status, json_t *body,
		   bool close)
{
	size_t len = 0;

	free(t->out);
	t->out = NULL;
	if (body) {
		t->out = json_out(body, &len);
		json_decref(body);
		if (!t->out)
			return -1;
	}
	t->out_len = t->head ? 0 : len; /* HEAD: Content-Length says len, no body */
	t->out_off = 0;
	t->answered = true;
	t->waiting_body = false;
	t->close_after = close;
	if (headers_write(wsi, status, len, close) < 0)
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int respond_error(struct lws *wsi, struct http_txn *t, unsigned status,
			 const char *code, const char *msg, bool close)
{
	return respond(wsi, t, status, http_error_json(code, "%s", msg), close);
}

int http_respond_now(struct lws *wsi, unsigned status, json_t *body)
{
	size_t len = 0;
	unsigned char *out = body ? json_out(body, &len) : NULL;
	int r = -1;

	json_decref(body);
	if (body && !out)
		return -1;
	if (headers_write(wsi, status, len, false) == 0) {
		if (len == 0 || lws_write(wsi, out + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) ==
				(int)len)
			r = 0;
	}
	free(out);
	return r;
}

/* The answer is out: the connection waits for its next head (or closes). */
static int txn_completed(struct lws *wsi)
{
	http_conn_idle(http_server_of(wsi), wsi);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int writeable(struct lws *wsi, struct http_txn *t)
{
	bool close;

	if (!t->answered)
		return 0;
	if (t->out_off < t->out_len) {
		size_t n = t->out_len - t->out_off;
		bool last = n <= WRITE_CHUNK;

		if (!last)
			n = WRITE_CHUNK;
		if (lws_write(wsi, t->out + LWS_PRE + t->out_off, n,
			      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
			return -1;
		t->out_off += n;
		if (!last) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	if (t->drain) {
		t->out_done = true; /* closed once the body is in */
		return 0;
	}
	close = t->close_after;
	txn_reset(t);
	if (close)
		return -1;
	return txn_completed(wsi);
}

/* ---- static files ------------------------------------------------------- */

static const char *mime_type(const char *file)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".map", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".woff2", "font/woff2" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	size_t n = strlen(file);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && strcasecmp(file + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

/* lws already folds "/../" away; refuse every dot segment and hidden file
 * anyway, and control characters, so nothing depends on that. */
static bool path_ok(const char *path)
{
	if (path[0] != '/')
		return false;
	for (const char *p = path; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == '\\')
			return false;
		if (p[0] == '/' && p[1] == '.')
			return false;
	}
	return true;
}

/* The file under the web root for path, resolved (symlinks included) and
 * checked to lie inside the root; a directory means its index.html. */
static int static_resolve(const struct http_server *srv, const char *path,
			  char real[PATH_MAX])
{
	char full[PATH_MAX];
	struct stat st;
	int n;

	if (!path_ok(path))
		return -EACCES;
	for (int pass = 0; pass < 2; pass++) {
		n = snprintf(full, sizeof(full), "%s%s%s", pass ? real : srv->web_root,
			     pass ? "/index.html" : path,
			     !pass && path[strlen(path) - 1] == '/' ? "index.html" : "");
		if (n < 0 || (size_t)n >= sizeof(full) || !realpath(full, real))
			return -ENOENT;
		if (strncmp(real, srv->web_root, srv->web_root_len) != 0 ||
		    real[srv->web_root_len] != '/')
			return -EACCES;
		if (stat(real, &st) < 0)
			return -ENOENT;
		if (S_ISREG(st.st_mode))
			return 0;
		if (!S_ISDIR(st.st_mode))
			return -ENOENT;
	}
	return -ENOENT;
}

static int static_serve(struct lws *wsi, struct http_server *srv, struct http_txn *t)
{
	static const char extra[] = "x-content-type-options: nosniff\x0d\x0a"
				    "cache-control: no-cache\x0d\x0a";
	char real[PATH_MAX];
	int r = static_resolve(srv, t->ri->req.path, real);

	if (r == -EACCES)
		log_rl(&srv->rl, LOG_LVL_WARN, "http: %s: refused static path outside the root",
		       t->ri->peer);
	if (r < 0)
		return respond_error(wsi, t, 404, "not_found", "no such file", false);
	txn_reset(t);
	r = lws_serve_http_file(wsi, real, mime_type(real), extra, (int)sizeof(extra) - 1);
	if (r < 0 || (r > 0 && txn_completed(wsi)))
		return -1;
	return 0;
}

/* ---- routing ------------------------------------------------------------ */

static int ws_endpoint(const struct http_server *srv, const char *path)
{
	for (unsigned i = 0; i < srv->n_ws_paths; i++)
		if (strcmp(path, srv->ws_paths[i]) == 0)
			return (int)i;
	return -1;
}

static int api_call(struct lws *wsi, struct http_server *srv, struct http_txn *t)
{
	struct http_response resp = { 0 };
	int r;

	if (t->body.len) {
		if (buf_reserve(&t->body, 1) < 0) /* the cap is max_body + 1 for this NUL */
			return -1;
		t->body.data[t->body.len] = '\0';
		t->ri->req.body = (const char *)t->body.data;
	}
	t->ri->req.body_len = t->body.len;
	r = srv->api(srv->api_arg, &t->ri->req, &resp);
	if (r < 0 || resp.status > 599 || (resp.status && resp.status < 200)) {
		log_rl(&srv->rl, LOG_LVL_WARN, "http: handler failed on %s (%d, status %u)",
		       t->ri->req.path, r, resp.status);
		json_decref(resp.body);
		return respond_error(wsi, t, 500, "internal", "internal error", false);
	}
	return respond(wsi, t, resp.status ? resp.status : 200, resp.body, false);
}

static bool is_api_path(const struct http_server *srv, const char *path)
{
	size_t n = srv->api_prefix_len;

	return srv->api && strncmp(path, srv->api_prefix, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

static int route(struct lws *wsi, struct http_server *srv, struct http_txn *t)
{
	const char *path = t->ri->req.path;
	size_t n = srv->api_prefix_len;

	if (is_api_path(srv, path))
		return api_call(wsi, srv, t);
	if (ws_endpoint(srv, path) >= 0)
		return respond_error(wsi, t, 426, "bad_request", "WebSocket only", false);
	if (srv->web_root && t->ri->req.method == HTTP_GET)
		return static_serve(wsi, srv, t);
	if (srv->web_root && strncmp(path, srv->api_prefix, n) != 0)
		return respond_error(wsi, t, 405, "method_not_allowed", "method not allowed", false);
	return respond_error(wsi, t, 404, "not_found", "no such path", false);
}

/* Answers before the body is read; the body is dropped and the connection
 * closed. */
static int refuse_body(struct lws *wsi, struct http_txn *t, unsigned status,
		       json_t *body, unsigned long long len)
{
	t->drain = len > 0 && len <= DRAIN_MAX;
	if (t->drain)
		http_conn_linger(http_server_of(wsi), wsi, len);
	return respond(wsi, t, status, body, true);
}

/* The token, before a body byte is read: an unauthenticated peer cannot make
 * the portal hold a body. 1: refused (answered), 0: go on, -1: hang up. */
static int early_auth(struct lws *wsi, struct http_server *srv, struct http_txn *t,
		      unsigned long long len)
{
	int r;

	if (!srv->authorize || !is_api_path(srv, t->ri->req.path))
		return 0;
	r = srv->authorize(srv->api_arg, &t->ri->req);
	if (r == 0) {
		http_conn_authenticated(srv, wsi);
		return 0;
	}
	if (r != -EACCES)
		return 0; /* api() answers what went wrong */
	srv->stats.early_401++;
	return refuse_body(wsi, t, 401, http_error_json("unauthorized",
			   "a valid admin token is required (Authorization: Bearer ...)"),
			   len) < 0 ? -1 : 1;
}

/* LWS_CALLBACK_HTTP: the request line and headers are in. */
static int request_start(struct lws *wsi, struct http_server *srv, struct http_txn *t,
			 const char *path)
{
	struct http_req_head h;
	unsigned long long len;
	int r;

	txn_reset(t); /* whether or not lws re-zeroed it between requests */
	srv->stats.requests++;
	http_conn_head_done(srv, wsi);
	r = http_req_check(wsi, &h);
	t->head = h.head;
	len = h.content_length;
	if (r > 0)
		return refuse_body(wsi, t, h.status, http_error_json(h.code, "%s", h.message),
				   len);
	r = http_reqinfo_new(wsi, path, &t->ri);
	if (r == -ENOMEM)
		return -1;
	if (r < 0)
		return respond_error(wsi, t, 414, "uri_too_long", "request line too large", true);
	t->ri->req.method = h.method;
	if (len > srv->max_body) {
		srv->stats.rejected_too_large++;
		return refuse_body(wsi, t, 413, http_error_json("too_large",
				   "request body over %zu bytes", srv->max_body), len);
	}
	if (len == 0)
		return route(wsi, srv, t);
	r = early_auth(wsi, srv, t, len);
	if (r)
		return r < 0 ? -1 : 0;
	buf_init(&t->body, srv->max_body + 1); /* + 1: the NUL for the handler */
	t->waiting_body = true;
	http_conn_body(srv, wsi, len);
	return 0;
}

static int body_data(struct lws *wsi, struct http_server *srv, struct http_txn *t,
		     const void *in, size_t len)
{
	if (!t->waiting_body)
		return 0;
	if (t->body.len + len > srv->max_body || buf_append(&t->body, in, len) < 0) {
		srv->stats.rejected_too_large++;
		return respond(wsi, t, 413, http_error_json("too_large",
			       "request body over %zu bytes", srv->max_body), true);
	}
	return 0;
}

static int protocol_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		       void *in, size_t len)
{
	struct http_server *srv;
	struct http_txn *t = user;
	int r;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return request_start(wsi, http_server_of(wsi), t, in);
	case LWS_CALLBACK_HTTP_BODY:
		return body_data(wsi, http_server_of(wsi), t, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (t->drain) {
			t->drain = false; /* the answer closes when out, if not yet */
			return t->out_done ? -1 : 0;
		}
		if (!t->waiting_body)
			return 0;
		t->waiting_body = false;
		return route(wsi, http_server_of(wsi), t);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return writeable(wsi, t);
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		return txn_completed(wsi);
	case LWS_CALLBACK_RAW_ADOPT:
	case LWS_CALLBACK_RAW_RX:
	case LWS_CALLBACK_RAW_WRITEABLE:
		return http_req_raw(wsi, reason);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		srv = http_server_of(wsi);
		if (t)
			txn_reset(t);
		http_conn_head_done(srv, wsi);
		r = http_ws_confirm(wsi, srv);
		if (r == 0)
			http_conn_upgraded(srv, wsi);
		return r;
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return http_conn_filter(http_server_of(wsi), wsi,
					(int)(lws_intptr_t)in) < 0 ? -1 : 0;
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		return http_conn_add(http_server_of(wsi), wsi) < 0 ? -1 : 0;
	case LWS_CALLBACK_WSI_DESTROY:
		http_conn_remove(http_server_of(wsi), wsi);
		return http_ws_callback(wsi, reason, in, len);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (t)
			txn_reset(t);
		return http_ws_callback(wsi, reason, in, len);
	default:
		return http_ws_callback(wsi, reason, in, len);
	}
}

/* ---- the server --------------------------------------------------------- */

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	struct http_server *srv = lws_container_of(sul, struct http_server, tick_sul);

	lws_sul_schedule(srv->ctx, 0, &srv->tick_sul, tick_cb,
			 (lws_usec_t)srv->tick_ms * LWS_US_PER_MS);
	srv->tick(srv->tick_arg);
}

/* One timer for every session's heartbeat: lws 4.1 keeps all of a thread's
 * timers in one sorted list, so a timer per session (its validity policy) made
 * each pong and ping an O(sessions) insert. */
static void heartbeat_cb(lws_sorted_usec_list_t *sul)
{
	struct http_server *srv = lws_container_of(sul, struct http_server, heartbeat_sul);

	lws_sul_schedule(srv->ctx, 0, &srv->heartbeat_sul, heartbeat_cb,
			 (lws_usec_t)HEARTBEAT_MS * LWS_US_PER_MS);
	http_ws_heartbeat(srv, time_mono_ns());
	http_conn_sweep(srv, time_mono_ns());
}

static void drain_cb(lws_sorted_usec_list_t *sul)
{
	struct http_server *srv = lws_container_of(sul, struct http_server, drain_sul);

	srv->draining = false;
}

static int config_copy(struct http_server *srv, const struct http_config *cfg)
{
	char real[PATH_MAX];
	unsigned n = 0;
	uint64_t ping, idle;

	srv->api_prefix = strdup(cfg->api_prefix ? cfg->api_prefix : "/api/v1");
	if (!srv->api_prefix)
		return -ENOMEM;
	srv->api_prefix_len = strlen(srv->api_prefix);
	if (cfg->web_root) {
		if (!realpath(cfg->web_root, real))
			return -errno;
		srv->web_root = strdup(real);
		if (!srv->web_root)
			return -ENOMEM;
		srv->web_root_len = strlen(real);
	}
	while (cfg->ws_paths && cfg->ws_paths[n])
		n++;
	if (n && !cfg->ws)
		return -EINVAL;
	srv->ws_paths = calloc(n + 1, sizeof(char *));
	if (!srv->ws_paths)
		return -ENOMEM;
	for (srv->n_ws_paths = 0; srv->n_ws_paths < n; srv->n_ws_paths++) {
		srv->ws_paths[srv->n_ws_paths] = strdup(cfg->ws_paths[srv->n_ws_paths]);
		if (!srv->ws_paths[srv->n_ws_paths])
			return -ENOMEM;
	}
	srv->api = cfg->api;
	srv->api_arg = cfg->api_arg;
	srv->authorize = cfg->authorize;
	srv->ws = cfg->ws;
	srv->ws_arg = cfg->ws_arg;
	srv->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
	srv->max_message = cfg->max_message ? cfg->max_message : DEFAULT_MAX_MESSAGE;
	srv->max_queue = cfg->max_queue ? cfg->max_queue : DEFAULT_MAX_QUEUE;
	srv->max_rx_total = cfg->max_rx_total ? cfg->max_rx_total : DEFAULT_MAX_RX_TOTAL;
	srv->tick_ms = cfg->tick ? cfg->tick_ms : 0;
	srv->tick = cfg->tick;
	srv->tick_arg = cfg->tick_arg;
	ping = cfg->ping_s ? cfg->ping_s : DEFAULT_PING_S;
	idle = cfg->idle_timeout_s ? cfg->idle_timeout_s : 3 * ping;
	if (idle <= ping)
		return -EINVAL;
	srv->ping_ns = (uint64_t)ping * NSEC_PER_SEC;
	srv->idle_ns = (uint64_t)idle * NSEC_PER_SEC;
	srv->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	return 0;
}

int http_server_new(const struct http_config *cfg, struct http_server **out)
{
	struct lws_context_creation_info info = { 0 };
	struct http_server *srv;
	int r;

	if (!cfg->cert_path || !cfg->key_path || (cfg->tick && !cfg->tick_ms))
		return -EINVAL;
	if (access(cfg->cert_path, R_OK) < 0 || access(cfg->key_path, R_OK) < 0)
		return -errno;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	r = config_copy(srv, cfg);
	if (r < 0)
		goto fail;
	r = http_conns_new(&cfg->limits, &srv->conns);
	if (r < 0)
		goto fail;

	srv->protocols[0] = (struct lws_protocols){
		.name = "sluice",
		.callback = protocol_cb,
		.per_session_data_size = sizeof(struct http_txn),
		.rx_buffer_size = 0,
	};
	lws_set_log_level(LLL_ERR | LLL_WARN | (log_get_level() >= LOG_LVL_DEBUG ?
						LLL_NOTICE : 0), lws_log_emit);

	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       LWS_SERVER_OPTION_VALIDATE_UTF8 |
		       LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
		       /* a method lws has no name for goes raw: http_req_raw() */
		       LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG;
	info.iface = cfg->address;
	/* lws 4.1 binds an IPv4 iface on a dual-stack socket as the wildcard:
	 * an IPv4 listen address gets an IPv4-only socket. */
	if (cfg->address && strchr(cfg->address, '.') && !strchr(cfg->address, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.port = cfg->port;
	info.protocols = srv->protocols;
	info.vhost_name = "portal";
	info.ssl_cert_filepath = cfg->cert_path;
	info.ssl_private_key_filepath = cfg->key_path;
	info.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
	info.alpn = "http/1.1";
	info.server_string = "sluice-portal";
	/* caps that make lws truncate a long field (answered 414/431) rather
	 * than drop the connection; see http_req.c */
	http_req_limits(&srv->token_limits);
	info.token_limits = &srv->token_limits;
	info.max_http_header_data = HTTP_AH_SIZE;
	info.max_http_header_pool = HTTP_AH_POOL;
	/* a policy of zeros turns lws's per-connection validity timers off: the
	 * heartbeat above does their work */
	info.retry_and_idle_policy = &srv->retry;
	info.user = srv;
	srv->ctx = lws_create_context(&info);
	if (!srv->ctx) {
		r = -EADDRNOTAVAIL; /* lws says which in its log */
		goto fail;
	}
	srv->vh = lws_get_vhost_by_name(srv->ctx, "portal");
	if (!srv->vh) {
		r = -EIO;
		goto fail;
	}
	if (srv->tick)
		lws_sul_schedule(srv->ctx, 0, &srv->tick_sul, tick_cb,
				 (lws_usec_t)srv->tick_ms * LWS_US_PER_MS);
	lws_sul_schedule(srv->ctx, 0, &srv->heartbeat_sul, heartbeat_cb,
			 (lws_usec_t)HEARTBEAT_MS * LWS_US_PER_MS);
	*out = srv;
	return 0;
fail:
	http_server_free(srv);
	return r;
}

int http_server_port(const struct http_server *srv)
{
	return lws_get_vhost_listen_port(srv->vh);
}

int http_server_run(struct http_server *srv)
{
	while (!srv->stop) {
		if (lws_service(srv->ctx, 0) < 0)
			return -EIO;
		http_conn_check_accept(srv);
	}
	/* goodbye: close frames out, then a bounded wait for the peers */
	http_ws_close_all(srv, 1001, "portal shutting down");
	srv->draining = true;
	lws_sul_schedule(srv->ctx, 0, &srv->drain_sul, drain_cb,
			 (lws_usec_t)SHUTDOWN_MS * LWS_US_PER_MS);
	while (srv->sessions && srv->draining)
		if (lws_service(srv->ctx, 0) < 0)
			break;
	lws_sul_cancel(&srv->drain_sul);
	return 0;
}

void http_server_stop(struct http_server *srv)
{
	srv->stop = 1;
	lws_cancel_service(srv->ctx);
}

void http_server_free(struct http_server *srv)
{
	if (!srv)
		return;
	if (srv->ctx) {
		lws_sul_cancel(&srv->tick_sul);
		lws_sul_cancel(&srv->drain_sul);
		lws_sul_cancel(&srv->heartbeat_sul);
		http_conns_stop(srv->conns);
		lws_context_destroy(srv->ctx); /* closes what is open: closed() for each */
	}
	http_conns_free(srv->conns);
	for (unsigned i = 0; i < srv->n_ws_paths; i++)
		free(srv->ws_paths[i]);
	free(srv->ws_paths);
	free(srv->web_root);
	free(srv->api_prefix);
	free(srv);
}

void http_server_stats(const struct http_server *srv, struct http_stats *out)
{
	*out = srv->stats;
}
