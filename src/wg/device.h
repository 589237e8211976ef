/* A userspace WireGuard interface: a TUN device, UDP sockets, peers, and the
 * threads that move packets between them. Configured through the UAPI socket
 * (/var/run/wireguard/IFNAME.sock), exactly as wireguard-go, so wg(8) drives it.
 *
 * wg_device_run() is the control thread (UAPI, handshakes, timers) and returns
 * when wg_device_stop() is called (async-signal-safe) or the UAPI socket file is
 * removed. The data path runs on two threads of its own. */
#ifndef SLUICE_WG_DEVICE_H
#define SLUICE_WG_DEVICE_H

struct wg_device;

struct wg_device_opts {
	const char *ifname;     /* TUN name; also the UAPI socket's */
	unsigned mtu;           /* 0: WG_MTU_DEFAULT */
	unsigned time_divisor;  /* tests only: every protocol timer / this; 0 or 1: none */
};

/* Creates the TUN device and the UAPI socket, binds UDP on a random port.
 * 0 or -errno (-EADDRINUSE: a daemon already serves this name). */
int wg_device_new(const struct wg_device_opts *opts, struct wg_device **out);
int wg_device_run(struct wg_device *dev);
void wg_device_stop(struct wg_device *dev);
/* Removes the UAPI socket and the TUN device; wipes the keys. */
void wg_device_free(struct wg_device *dev);

#endif
