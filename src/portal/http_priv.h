/* Shared by http.c (server, REST, static files) and http_ws.c (sessions); no one
 * else includes it. libwebsockets is included here and nowhere else. */
#ifndef SLUICE_PORTAL_HTTP_PRIV_H
#define SLUICE_PORTAL_HTTP_PRIV_H

#include <signal.h>
#include <stdbool.h>

#include <libwebsockets.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "portal/http.h"

enum {
	HTTP_MAX_ARGS = 32,       /* query arguments (414) */
	HTTP_MAX_REQINFO = 16384, /* path, authorization and query of one request */
};

/* What a request head may hold (http_req.c, docs/security.md); the lead joins
 * them with struct http_limits. */
enum {
	HTTP_MAX_URI = 4096,      /* path, each argument, all of them (414): lws's cap */
	HTTP_MAX_FIELD = 4096,    /* one header value lws knows by name (431): its cap */
	HTTP_MAX_HEAD = 8192,     /* the values of the headers lws knows by name (431) */
	HTTP_AH_SIZE = 16384,     /* lws's head buffer: a head past it that no cap
				   * truncated (unknown names) is closed unanswered */
	HTTP_AH_POOL = 256,       /* head buffers; further connections wait unread */
	HTTP_MAX_VERSION = 16,    /* "HTTP/1.1" (its cap) */
	HTTP_MAX_LENGTH_DIGITS = 19, /* Content-Length < 10^19 < 2^64 */
};

struct http_args {
	unsigned n;
	const char *v[HTTP_MAX_ARGS]; /* "name=value", decoded */
};

/* What the request line and headers said, copied out of lws's header table
 * (which does not outlive the transaction, nor a WebSocket upgrade). */
struct http_reqinfo {
	struct http_request req;
	struct http_args args;
	char peer[64];
	char data[]; /* the strings */
};

struct http_conns;

struct http_server {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct lws_protocols protocols[2];
	lws_retry_bo_t retry; /* all zero: no lws validity timers (http_ws.c) */
	struct lws_token_limits token_limits; /* http_req_limits() */
	lws_sorted_usec_list_t tick_sul, drain_sul, heartbeat_sul;
	volatile sig_atomic_t stop;
	bool draining;

	char *api_prefix;
	size_t api_prefix_len;
	char *web_root; /* realpath */
	size_t web_root_len;
	char **ws_paths;
	unsigned n_ws_paths;
	http_api_fn api;
	void *api_arg;
	int (*authorize)(void *arg, const struct http_request *req);
	const struct http_ws_ops *ws;
	void *ws_arg;
	size_t max_body, max_message, max_queue;
	uint64_t ping_ns, idle_ns; /* heartbeats, see http_ws_heartbeat() */
	unsigned tick_ms;
	void (*tick)(void *arg);
	void *tick_arg;

	struct http_conns *conns;      /* every accepted connection (http_conn.c) */
	struct http_session *sessions; /* every accepted session, for shutdown */
	/* incomplete inbound messages (http_ws.c): the cap of their bytes (counted
	 * in stats.rx_bytes), the sessions holding some */
	size_t max_rx_total;
	unsigned rx_sessions;
	struct http_stats stats;
	struct log_ratelimit rl;
};

static inline struct http_server *http_server_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* http.c */
int http_reqinfo_new(struct lws *wsi, const char *path, struct http_reqinfo **out);
/* Writes a whole small JSON answer at once (for refusals made inside lws's own
 * upgrade handling, where the writeable callback is not ours to wait for). */
int http_respond_now(struct lws *wsi, unsigned status, json_t *body);

/* http_req.c */
struct http_req_head {
	enum http_method method;
	bool head;                         /* HEAD: a GET answered without its body */
	unsigned long long content_length; /* 0 when absent */
	unsigned status;                   /* 0, or the refusal's status */
	const char *code, *message;        /* the refusal's JSON error */
};
/* The caps at which lws stops storing a field (info.token_limits). */
void http_req_limits(struct lws_token_limits *tl);
/* At LWS_CALLBACK_HTTP: 0 to serve the request, else the status (> 0) to
 * refuse it with; h says what was asked or why not. */
int http_req_check(struct lws *wsi, struct http_req_head *h);
/* The LWS_CALLBACK_RAW_* reasons: a connection lws turned raw gets 501. */
int http_req_raw(struct lws *wsi, enum lws_callback_reasons reason);

/* http_ws.c */
/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: >0 refused (answered), 0 go on, <0 hang up */
int http_ws_confirm(struct lws *wsi, struct http_server *srv);
/* The WebSocket and teardown reasons of the protocol callback. */
int http_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *in,
		     size_t len);
void http_ws_close_all(struct http_server *srv, uint16_t code, const char *reason);
/* Heartbeats, from one periodic timer: pings each session silent for ping_ns,
 * drops each silent for idle_ns. */
void http_ws_heartbeat(struct http_server *srv, uint64_t now_ns);

/* http_conn.c: the connection table. Every accepted connection has an entry
 * from LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED to LWS_CALLBACK_WSI_DESTROY,
 * with its source address's count and at most one deadline, which
 * http_conn_sweep() enforces from the heartbeat timer (no lws timer per
 * connection). */
int http_conns_new(const struct http_limits *lim, struct http_conns **out);
/* Before the lws context goes: cancels the timer that ends a pause. */
void http_conns_stop(struct http_conns *c);
void http_conns_free(struct http_conns *c);
/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION (wsi: the listener): 0 accepts fd,
 * -EUSERS refuses it (a cap is reached). */
int http_conn_filter(struct http_server *srv, struct lws *listener, int fd);
/* LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: the head deadline starts. */
int http_conn_add(struct http_server *srv, struct lws *wsi);
/* LWS_CALLBACK_WSI_DESTROY (any wsi: unknown ones are ignored). */
void http_conn_remove(struct http_server *srv, struct lws *wsi);
/* The head is in: no deadline while the answer is made. */
void http_conn_head_done(struct http_server *srv, struct lws *wsi);
/* A body of len bytes is read (or drained): it gets grace + len / min rate. */
void http_conn_body(struct http_server *srv, struct lws *wsi, unsigned long long len);
/* The same for a refused body being dropped: at most HTTP_LIMIT_LINGER_MS. */
void http_conn_linger(struct http_server *srv, struct lws *wsi, unsigned long long len);
/* The answer is out and the connection kept: the next head's deadline starts. */
void http_conn_idle(struct http_server *srv, struct lws *wsi);
/* The connection proved a token (early check, WebSocket open()): it leaves its
 * source's count. */
void http_conn_authenticated(struct http_server *srv, struct lws *wsi);
/* Upgraded to a WebSocket session: no deadline (the session heartbeat rules). */
void http_conn_upgraded(struct http_server *srv, struct lws *wsi);
/* Closes every connection past its deadline. */
void http_conn_sweep(struct http_server *srv, uint64_t now_ns);
/* Called after each lws_service(): stops accepting for accept_pause_ms if an
 * accept() failed since the last call. */
void http_conn_check_accept(struct http_server *srv);
/* From lws's log hook: lws said accept() failed. Process-wide, like EMFILE. */
void http_conn_accept_failed(void);

#endif
