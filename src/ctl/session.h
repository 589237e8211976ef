/* The control-plane session of a client or a gateway: a TLS WebSocket to the
 * portal (libwebsockets), with the bearer token and the device's public key in
 * the upgrade request, frames decoded into struct ctl_msg, an outgoing queue,
 * heartbeats (WebSocket pings), and reconnection with exponential backoff and
 * jitter after any loss. A reconnect is invisible to the data path: the owner
 * just gets CTL_EV_CONNECTED again, then a fresh "init".
 *
 * A struct ctl_loop is one libwebsockets client context, serviced by its owner's
 * thread with ctl_loop_run(); it carries any number of sessions (the load tool
 * opens thousands). Not thread-safe: everything happens in that thread. */
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
/* Services events for up to about timeout_ms. 0 or -errno. */
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
