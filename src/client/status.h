/* sluice-client's local status socket, read by `sluice status` (docs/cli.md).
 *
 * A unix stream socket (default STATUS_DEFAULT_PATH; its directory created 0755,
 * the socket 0600): each connection is accepted, its peer's credentials checked
 * (SO_PEERCRED: uid 0 only; any other gets {"error":...} and is closed), then
 * answered with one JSON document and a newline, and closed. Nothing is read
 * from the peer.
 *
 * Served from the owner's loop through one pollable fd, never blocking: an
 * answer the socket does not take at once is finished on later dispatches; a
 * peer that has not taken its whole answer STATUS_PEER_TIMEOUT_MS after it was
 * accepted is dropped; at most STATUS_MAX_CONNS are served at once, later ones
 * wait in the listen backlog until a slot frees.
 *
 * Locking: none. snapshot() is called from status_dispatch(), in the owner's
 * thread, once per accepted root peer; it may read whatever the owner's loop
 * owns. It must not call status_close(). */
#ifndef SLUICE_CLIENT_STATUS_H
#define SLUICE_CLIENT_STATUS_H

#include <jansson.h>

#define STATUS_DEFAULT_PATH "/run/sluice/client.sock"

enum {
	STATUS_MAX_CONNS = 16,
	STATUS_PEER_TIMEOUT_MS = 2000,
	STATUS_MAX_DOC = 16 << 20, /* a larger snapshot is answered with an error */
};

struct status_server;

/* snapshot: builds the document (a new reference, the server takes it); NULL ->
 * {"error":...}. path NULL: STATUS_DEFAULT_PATH. */
struct status_config {
	const char *path;
	json_t *(*snapshot)(void *arg);
	void *arg;
};

/* Creates the socket's directory if missing (0755; only the last component),
 * binds and listens. A stale socket file (nobody answering: a killed run) is
 * replaced; -EADDRINUSE if a live server answers on it, -EEXIST if the path is
 * something other than a socket, -ENAMETOOLONG past sun_path. 0 or -errno. */
int status_open(const struct status_config *c, struct status_server **out);
/* Poll level-triggered for EPOLLIN; readable when status_dispatch() has work. */
int status_fd(const struct status_server *s);
/* Accepts, answers, finishes pending writes and drops late peers. Never blocks. */
void status_dispatch(struct status_server *s);
/* Closes every connection; removes the socket file if it is still ours. NULL is
 * fine. */
void status_close(struct status_server *s);

#endif
