/* The control-plane session of a client or a gateway: a TLS WebSocket to the
 * portal (libwebsockets), with the bearer token and the device's public key in
 * the upgrade request, frames decoded into struct ctl_msg, an outgoing queue,
 * heartbeats (WebSocket pings), and reconnection with exponential backoff and
 * jitter after any loss. A reconnect is invisible to the data path: the owner
 * just gets CTL_EV_CONNECTED again, then a fresh "init".
 *
 * A struct ctl_loop is one libwebsockets client context; it carries any number
 * of sessions (the load tool opens thousands). Its owner drives it either with
 * ctl_loop_run() (a blocking loop of its own), or from the owner's own event
 * loop: wait until ctl_loop_fd() is readable or ctl_loop_timeout_ms() has
 * passed, then call ctl_loop_dispatch(), and again.
 *
 * Threads and locks: none. Not thread-safe: every function here, and every
 * callback (on_message, on_event), runs in the one thread that drives the
 * loop; callbacks run only inside ctl_loop_dispatch() or ctl_loop_run(), take
 * no lock, and may call ctl_session_send() (the frame leaves on a later pass),
 * but not ctl_loop_dispatch(), ctl_loop_run(), ctl_loop_free(), nor
 * ctl_session_close() of the session they are called for. */
#ifndef SLUICE_CTL_SESSION_H
#define SLUICE_CTL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/msg.h"

struct ctl_loop;
struct ctl_session;

enum ctl_event {
	CTL_EV_CONNECTED,     /* the upgrade succeeded */
	CTL_EV_DISCONNECTED,  /* lost, or refused (why says which, with the HTTP status
			       * or the close code); a retry is scheduled */
	CTL_EV_BAD_FRAME,     /* a frame that did not decode (why says why); ignored */
};

struct ctl_session_config {
	const char *host;       /* the portal: a name or address */
	uint16_t port;
	const char *path;       /* "/client/ws" or "/gateway/ws" */
	const char *token;      /* sent as "Authorization: Bearer ..." */
	const char *public_key; /* base64, sent as X-Sluice-Public-Key */
	const char *endpoint;   /* gateways: "host:port", sent as X-Sluice-Endpoint */
	const char *name;       /* optional: the device's or gateway's name, X-Sluice-Name */
	enum ctl_role role;     /* how frames are decoded */
	bool no_reconnect;      /* tests: stay down after a loss */
	unsigned ping_s;        /* ping after this long without a frame from the portal;
				 * 0: 15 (docs/protocol.md) */
	unsigned idle_s;        /* hang up (and reconnect) after this long; 0: 45;
				 * more than ping_s */
	void (*on_message)(void *arg, struct ctl_session *s, const struct ctl_msg *m);
	void (*on_event)(void *arg, struct ctl_session *s, enum ctl_event ev, const char *why);
	void *arg;
};

/* ca_file: the portal's CA (PEM), or NULL for the system's store. */
int ctl_loop_new(const char *ca_file, struct ctl_loop **out);
/* Closes every session still open, then the context. */
void ctl_loop_free(struct ctl_loop *l);
/* One descriptor (an epoll set of the loop's sockets) that is readable while
 * any of them has what the loop waits for. Poll it level-triggered (EPOLLIN,
 * without EPOLLET): a dispatch may leave work that the next one does. Owned by
 * the loop: never read or close it. */
int ctl_loop_fd(const struct ctl_loop *l);
/* One pass, never blocking: services the ready sockets, data already read
 * into TLS, and the timers due (backoff retries, heartbeats, lws's own
 * timeouts). 0, -EBUSY when called from inside a callback, or -EIO. */
int ctl_loop_dispatch(struct ctl_loop *l);
/* How long the owner may wait on ctl_loop_fd() before the next dispatch even
 * if it stays quiet: 0 when something is due now; at most 20 ms while a
 * session connects, else 500 ms (the heartbeat's tick, which also bounds how
 * late lws's own timeouts are met). Never -1. */
int ctl_loop_timeout_ms(const struct ctl_loop *l);
/* Waits and dispatches for up to about timeout_ms (at least one pass). 0 or
 * -errno. */
int ctl_loop_run(struct ctl_loop *l, int timeout_ms);

/* Starts connecting (asynchronously). The strings are copied. */
int ctl_session_open(struct ctl_loop *l, const struct ctl_session_config *cfg,
		     struct ctl_session **out);
/* Queues a message; -ENOTCONN while down (the caller decides whether to retry),
 * -ENOBUFS past the queue's cap. */
int ctl_session_send(struct ctl_session *s, const struct ctl_msg *m);
/* Queues raw text as one frame (tests: frames a real peer would never send). */
int ctl_session_send_raw(struct ctl_session *s, const char *frame, size_t len);
bool ctl_session_connected(const struct ctl_session *s);
/* The code of the portal's last close frame since the session last connected
 * (4001: token or device revoked, docs/protocol.md), 0 if none. After 4001 the
 * session stays down: reconnecting needs new credentials. */
uint16_t ctl_session_close_code(const struct ctl_session *s);
/* Closes (if open) and frees. Not from inside the session's own callbacks. */
void ctl_session_close(struct ctl_session *s);

#endif
