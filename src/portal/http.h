/* The portal's one TLS port: the REST API (JSON under a prefix, /api/v1), static
 * files (the web UI) and WebSocket sessions (/client/ws, /gateway/ws), served by
 * libwebsockets on a single-threaded event loop that http_server_run() drives.
 *
 * Every callback below runs in that loop, one at a time; the API may be called
 * from any of them (and from the timer), never from another thread: only
 * http_server_stop() is safe elsewhere. Request bodies and WebSocket messages are
 * handed over whole and capped; what the server answers on its own (404, 413,
 * ...) carries the JSON error of docs/api.md. HTTP/1.1 only (see http.c). */
#ifndef SLUICE_PORTAL_HTTP_H
#define SLUICE_PORTAL_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct http_server;
struct http_session;
struct http_args;

enum http_method { HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE };

struct http_request {
	enum http_method method;
	const char *path;          /* decoded, without the query: "/api/v1/sites/3" */
	const char *authorization; /* the header's value; NULL when absent */
	const char *peer;          /* the client's address: "198.51.100.10", "2001:db8::1" */
	const char *body;          /* NUL-terminated (the NUL is not in body_len) */
	size_t body_len;
	const struct http_args *args; /* the query, for http_request_arg() */
};

/* The decoded value of the query argument name ("limit" in ?limit=5), NULL when
 * absent; an argument without '=' has the value "". */
const char *http_request_arg(const struct http_request *req, const char *name);
/* The i-th query argument as "name=value" (decoded), NULL past the last: for
 * handlers that refuse arguments they do not know. */
const char *http_request_arg_at(const struct http_request *req, unsigned i);

struct http_response {
	unsigned status; /* 0: 200 */
	json_t *body;    /* the server takes this reference; NULL: no body */
};

/* Answers one request under the API prefix. Returning -errno instead of 0 sends
 * 500 "internal" (whatever resp holds is released). */
typedef int (*http_api_fn)(void *arg, const struct http_request *req,
			   struct http_response *resp);

/* The token of an Authorization header value ("Bearer sl_..."), for the REST API
 * and the WebSocket upgrade alike (docs/api.md "Authentication"): one or more
 * spaces after the scheme (any case), trailing spaces and tabs dropped, the token
 * an RFC 6750 b64token. Copies it into out with its NUL; its length, -ENOENT
 * without a header, -EINVAL when malformed, -E2BIG when it does not fit in size. */
int http_bearer(const char *authorization, char *out, size_t size);

/* {"error": {"code": code, "message": ...}}, for handlers and the server alike. */
json_t *http_error_json(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* WebSocket sessions. open() sees the upgrade request (path, Authorization,
 * peer; no body) before it is answered: returning 0 accepts it, -EACCES answers
 * 401, -EPERM 403, anything else 503 (and the session is gone). open() may
 * already send: the messages wait for the upgrade. Every session that open()
 * accepted gets exactly one closed(), whatever ends it (peer, http_session_close(),
 * slow reader, oversized or binary message, ping timeout, shutdown,
 * http_server_free()); the session pointer is invalid once closed() returns.
 * message() gets each text message whole and NUL-terminated (lws has checked
 * the UTF-8). */
struct http_ws_ops {
	int (*open)(void *arg, struct http_session *s, unsigned endpoint,
		    const struct http_request *req);
	void (*message)(void *arg, struct http_session *s, const char *text, size_t len);
	void (*closed)(void *arg, struct http_session *s);
};

/* What one connection may hold, before and between requests (docs/security.md,
 * "Connections"). A zero field takes its default (HTTP_LIMIT_*). */
struct http_limits {
	unsigned head_timeout_ms;  /* accept (TLS handshake included) or the end of the
				    * previous answer, to the end of the request head */
	unsigned body_min_rate;    /* bytes/s a body must average: it gets
				    * body_grace_ms + Content-Length / body_min_rate */
	unsigned body_grace_ms;
	unsigned max_conns;        /* open connections in all; default: the file limit
				    * (RLIMIT_NOFILE) less HTTP_LIMIT_FD_RESERVE, and
				    * never more than that */
	unsigned max_conns_per_source; /* connections from one address not yet
				    * authenticated (by the early token check or a
				    * WebSocket open()) */
	unsigned accept_pause_ms;  /* accepting stops this long when accept() fails
				    * (EMFILE, ENFILE, ENOBUFS...) */
};

enum {
	HTTP_LIMIT_HEAD_TIMEOUT_MS = 10000,
	HTTP_LIMIT_BODY_MIN_RATE = 8192,
	HTTP_LIMIT_BODY_GRACE_MS = 5000,
	HTTP_LIMIT_MAX_CONNS_PER_SOURCE = 64,
	HTTP_LIMIT_ACCEPT_PAUSE_MS = 250,
	HTTP_LIMIT_FD_RESERVE = 64, /* files kept for the database, static files, logs */
	/* A refused body is read and dropped (so the close does not reset the answer
	 * away) for at most this long: what a client sent before it read the answer
	 * comes within a round trip, and a refused peer, usually an unauthenticated
	 * one, must not hold its header buffer from lws's pool (256) at the body rate.
	 * nginx's lingering close is the model. */
	HTTP_LIMIT_LINGER_MS = 1000,
};

struct http_config {
	const char *address;         /* listen address; NULL: all */
	int port;                    /* 0: a free port, see http_server_port() */
	const char *cert_path;       /* server certificate (PEM) */
	const char *key_path;
	const char *api_prefix;      /* NULL: "/api/v1" */
	http_api_fn api;
	void *api_arg;
	/* Optional, for API requests with a body, called with api_arg as soon as the
	 * head is in (req has no body yet): -EACCES answers 401 (WWW-Authenticate:
	 * Bearer) and closes before a body byte is read; 0 goes on (api() still
	 * decides). */
	int (*authorize)(void *arg, const struct http_request *req);
	const char *web_root;        /* static files for "/"; NULL: none */
	const char *const *ws_paths; /* NULL-terminated; endpoint = index in it */
	const struct http_ws_ops *ws;
	void *ws_arg;
	size_t max_body;             /* request body cap (413); 0: 1 MiB */
	size_t max_message;          /* inbound message cap (close 1009); 0: 1 MiB */
	size_t max_queue;            /* bytes queued to one session; 0: 4 MiB */
	/* Incomplete inbound messages (docs/security.md "WebSocket sessions"): the
	 * bytes buffered for all sessions together. When they would pass it, a
	 * session over its share (this / the sessions buffering) is closed 1009. */
	size_t max_rx_total;         /* 0: 32 MiB */
	unsigned ping_s;             /* ping a session silent this long (no frame, no
				      * pong from it); 0: 30 */
	unsigned idle_timeout_s;     /* drop one silent this long (no close handshake:
				      * it is not listening); 0: 3 * ping_s. Both are
				      * checked twice a second. */
	unsigned tick_ms;            /* tick() period (heartbeats, expiry); 0: none */
	void (*tick)(void *arg);
	void *tick_arg;
	struct http_limits limits;
};

/* Binds and listens (the certificate and key are read now). */
int http_server_new(const struct http_config *cfg, struct http_server **out);
int http_server_port(const struct http_server *srv);
/* Serves until http_server_stop(); then sessions are closed (1001) and given a
 * moment to say goodbye. 0 or -errno. */
int http_server_run(struct http_server *srv);
/* From the loop, another thread or a signal handler. */
void http_server_stop(struct http_server *srv);
/* Closes what is still open (closed() is called for each) and frees. */
void http_server_free(struct http_server *srv);

struct http_stats {
	uint64_t requests, sessions_open, sessions_total;
	uint64_t rejected_too_large, slow_disconnects, idle_disconnects;
	uint64_t rx_bytes, rx_over_share; /* buffered now; sessions closed for their share */
	uint64_t conns_open, conns_refused, head_timeouts, body_timeouts, early_401,
		accept_pauses;
};
void http_server_stats(const struct http_server *srv, struct http_stats *out);

/* Queues one text message (copied; big ones go out in 32 KiB fragments).
 * -ENOBUFS: the session's queue would pass max_queue, a peer that does not read:
 * it is disconnected (its closed() follows later in the loop, never from inside
 * this call); -EPIPE: the session is closing; -EMSGSIZE: len alone is over
 * max_queue (nothing happens to the session). */
int http_session_send(struct http_session *s, const char *text, size_t len);
int http_session_send_json(struct http_session *s, const json_t *msg);
/* Sends what is queued, then a close frame with code (1000: normal, 1008: policy)
 * and reason (at most 123 bytes); gives up on a peer that does not read within 5 s. */
void http_session_close(struct http_session *s, uint16_t code, const char *reason);
void http_session_set_user(struct http_session *s, void *user);
void *http_session_user(const struct http_session *s);
unsigned http_session_endpoint(const struct http_session *s);
/* Inside open() only (the upgrade's headers are gone once it returns): copies the
 * value of the request header name ("x-sluice-public-key", any case, no colon)
 * into out. Its length; -ENOENT when absent, -E2BIG when it does not fit in len
 * with its NUL, -EINVAL outside open(). */
int http_session_header(const struct http_session *s, const char *name, char *out,
			size_t len);
const char *http_session_peer(const struct http_session *s);
/* Inside open() only, before it returns -EACCES or -EPERM: the error code and
 * message of the refusal's JSON body instead of the generic ones. Both are
 * kept as pointers: string literals. */
void http_session_refuse(struct http_session *s, const char *code, const char *message);

#endif
