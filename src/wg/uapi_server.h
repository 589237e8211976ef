/* The UAPI socket, /var/run/wireguard/IFNAME.sock, served from the owner's poll
 * loop: one pollable fd, non-blocking connections, no threads. The device's
 * callbacks therefore run in the owner's thread and need no locking against the
 * server, and a stuck or slow client costs a connection slot, never a wait. */
#ifndef SLUICE_WG_UAPI_SERVER_H
#define SLUICE_WG_UAPI_SERVER_H

struct buf;
struct uapi_server;
struct uapi_set;

enum {
	UAPI_SERVER_MAX_CONNS = 16,
	UAPI_SERVER_IDLE_MS = 10000, /* a connection idle this long is dropped */
	UAPI_SERVER_MAX_REPLY = 64 << 20,
};

struct uapi_ops {
	/* Appends the state with wg_uapi_format_device() and wg_uapi_format_peer() per
	 * peer; 0 or -errno (the partial answer is then dropped). */
	int (*get)(void *arg, struct buf *out);
	/* Applies a whole parsed set, all or nothing; 0 or -errno, sent back as
	 * is (-EADDRINUSE when listen_port is taken, as wireguard-go). */
	int (*set)(void *arg, const struct uapi_set *set);
};

/* Creates /var/run/wireguard (0755) and listens on IFNAME.sock (0700, as
 * wireguard-go's umask 077). -EADDRINUSE if a live server answers there; a stale
 * socket file is replaced. -EINVAL for a name `wg` could not use. */
int wg_uapi_server_open(const char *ifname, struct uapi_server **out);
/* Readable when wg_uapi_server_handle() has work. */
int wg_uapi_server_fd(const struct uapi_server *srv);
/* Serves whatever is ready without blocking. 0, or -ENOENT once the socket file
 * was deleted or replaced: the xplatform spec asks the daemon to exit then. */
int wg_uapi_server_handle(struct uapi_server *srv, const struct uapi_ops *ops, void *arg);
void wg_uapi_server_set_idle_timeout(struct uapi_server *srv, unsigned ms);
/* Closes every connection; unlinks the socket file if it is still ours. */
void wg_uapi_server_close(struct uapi_server *srv);

#endif
