/* A userspace WireGuard interface: a TUN device, UDP sockets, peers, and the
 * threads that move packets between them, embeddable in a daemon's own event
 * loop.
 *
 * Two sides:
 *   - the data path: a TX thread (TUN -> encrypt -> UDP) and an RX thread
 *     (UDP -> decrypt -> TUN) of the device's own, started by wg_device_new();
 *   - the control side (handshakes, timers, the UAPI socket, events), which
 *     runs in the owner's thread: the owner polls wg_device_fd() in its own
 *     loop and calls wg_device_dispatch() when it is readable. wg_device_run()
 *     is that loop for a program that has nothing else to do (sluice-wg).
 *
 * Configuration is a struct uapi_set (wg/uapi.h), applied all or nothing,
 * either in process with wg_device_set() or as text through the UAPI socket
 * (/var/run/wireguard/IFNAME.sock, as wireguard-go, so wg(8) drives it): one
 * code path for both.
 *
 * Threads. "The owner's thread" below is the one thread that calls
 * wg_device_dispatch(); wg_device_set(), wg_device_port() and
 * wg_device_free() are called from it too (never concurrently with dispatch:
 * they share the control state). wg_device_stop() may be called from any
 * thread or a signal handler. wg_device_send() is the owner's too (it uses
 * the control side's cipher context), from on_event as well.
 * wg_device_tun_write() may be called from any thread but on_no_peer's.
 * wg_device_peer_set_owner(),
 * wg_device_peer_get(), wg_device_public_key() and wg_device_no_peer_drops()
 * take the device's own locks and may be called from any thread, on_event
 * included, but not from on_no_peer.
 *
 * Callbacks and their locking rules:
 *   - on_event runs in the owner's thread, inside wg_device_dispatch(), with
 *     no device lock held: it may call wg_device_set() (say, to remove the
 *     peer it is told about), wg_device_peer_*() and the getters. It must not
 *     call wg_device_dispatch(), wg_device_run() or wg_device_free(). Events
 *     its own calls cause come at the next dispatch (the fd is made readable).
 *   - on_no_peer runs on the TX thread with the device's lock held for
 *     reading, once per packet: it must copy what it keeps (pkt is the TX
 *     thread's buffer, valid during the call only), must not block, and must
 *     not call any wg_device_*() function (a wg_device_set() there would wait
 *     for ever on the lock its caller holds). Queue and wake your own loop. */
#ifndef SLUICE_WG_DEVICE_H
#define SLUICE_WG_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct wg_device;
struct uapi_set;

enum { WG_DEVICE_KEY_LEN = 32 };

/* The UAPI socket. RW is the default (0) so that sluice-wg, which sets
 * nothing, keeps serving wg(8) as before. */
enum wg_uapi_mode {
	WG_UAPI_RW = 0, /* get and set: wg(8) configures the device */
	WG_UAPI_RO,     /* get only (`wg show IFNAME` works); a set is answered -EPERM */
	WG_UAPI_OFF,    /* no socket: configured with wg_device_set() only */
};

enum wg_event_type {
	/* A handshake completed: a new session with the peer (initiator: on the
	 * response; responder: when the initiator first uses the session).
	 * Comes again on every rekey, about every 2 minutes under traffic. */
	WG_EVENT_HANDSHAKE = 1,
	/* The protocol gave up on the peer: it sent initiations for
	 * REKEY_ATTEMPT_TIME (90 s, 18 retries after the first) and no response
	 * came. This is how a silent peer is noticed: data sent and nothing
	 * received for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (15 s) starts those
	 * initiations, so a peer that vanished under traffic is reported within
	 * about 105 s. A peer without an endpoint is never initiated to, and so
	 * never reported. The peer stays configured; its staged packets go. */
	WG_EVENT_UNRESPONSIVE = 2,
	/* The peer was removed (by a set, through the UAPI or in process, or
	 * because a new private key made it the device's own). Not sent for the
	 * peers wg_device_free() removes. */
	WG_EVENT_REMOVED = 3,
};

struct wg_event {
	enum wg_event_type type;
	uint8_t public_key[WG_DEVICE_KEY_LEN];
	void *owner; /* the peer's owner pointer when the event was taken */
};

struct wg_device_opts {
	const char *ifname;      /* TUN name; also the UAPI socket's */
	unsigned mtu;            /* 0: WG_MTU_DEFAULT */
	unsigned time_divisor;   /* tests only: every protocol timer / this; 0 or 1: none */
	enum wg_uapi_mode uapi;  /* default WG_UAPI_RW */
	uint16_t listen_port;    /* UDP port, both families; 0: the kernel picks one */
	/* Optional (NULL: none). Locking rules at the top of this file. */
	void (*on_event)(void *arg, const struct wg_event *ev);
	/* A packet read from the TUN whose destination no peer's allowed IPs
	 * cover. Without a hook such packets are dropped and counted. */
	void (*on_no_peer)(void *arg, const uint8_t *pkt, size_t len);
	void *arg;               /* passed to both */
};

/* Creates the TUN device and (unless WG_UAPI_OFF) the UAPI socket, binds UDP
 * and starts the data path. 0 or -errno (-EADDRINUSE: a daemon already serves
 * this name, or listen_port is taken). */
int wg_device_new(const struct wg_device_opts *opts, struct wg_device **out);

/* One pollable descriptor (an epoll of the device's control fds): add it to
 * the owner's epoll for reading, level-triggered, and call
 * wg_device_dispatch() whenever it is readable. It fires at least every 50 ms
 * (the timer tick). Owned by the device. */
int wg_device_fd(const struct wg_device *dev);
/* Does whatever is ready, without blocking: queued handshake messages, due
 * timers, UAPI connections, then the events. 0, or -ENOENT once the UAPI
 * socket file was removed in WG_UAPI_RW mode (the xplatform spec asks the
 * daemon to exit then; a WG_UAPI_RO device just stops serving it). */
int wg_device_dispatch(struct wg_device *dev);
/* A loop over wg_device_fd() and wg_device_dispatch() until wg_device_stop()
 * or -ENOENT (which it returns as 0, having logged it). 0 or -errno. */
int wg_device_run(struct wg_device *dev);
/* Makes wg_device_run() return. Any thread; async-signal-safe. */
void wg_device_stop(struct wg_device *dev);
/* Stops the data path, removes the UAPI socket and the TUN device, wipes the
 * keys. Owner's thread; not from a callback. */
void wg_device_free(struct wg_device *dev);

/* Applies a whole set, all or nothing, exactly as a set through the UAPI
 * socket does (composing one by hand: wg/uapi.h). 0 or -errno: -EINVAL (a bad
 * key), -ENOSPC (past WG_MAX_PEERS or WG_MAX_ALLOWED_IPS), -EADDRINUSE (the
 * listen port is taken), -ENOMEM. Owner's thread, also from on_event. */
int wg_device_set(struct wg_device *dev, const struct uapi_set *set);

/* The UDP port bound now (it changes with a set of listen_port). Owner's thread. */
uint16_t wg_device_port(const struct wg_device *dev);
/* The device's public key; -ENOKEY while it has no private key. */
int wg_device_public_key(const struct wg_device *dev, uint8_t out[WG_DEVICE_KEY_LEN]);
/* Packets from the TUN dropped because no peer owns their destination and
 * there is no on_no_peer hook. */
uint64_t wg_device_no_peer_drops(const struct wg_device *dev);

/* Sends one IP packet into the tunnel as if the TX thread had read it from the TUN:
 * to the peer whose allowed IPs cover its destination (staged and a handshake
 * started if there is no session yet, as for TUN traffic; behind the packets
 * staged already). Owner's thread (the client daemon calls it once access is
 * granted, for packets that on_no_peer handed over earlier); takes the device's
 * lock for reading. 0, -EHOSTUNREACH (no peer covers it; on_no_peer is not called),
 * -EINVAL (not an IPv4/IPv6 packet), -EMSGSIZE (over the MTU), -ENOMEM, or a
 * send error of the UDP socket. */
int wg_device_send(struct wg_device *dev, const uint8_t *pkt, size_t len);
/* Writes one IP packet to the TUN, as if it came out of the tunnel (an ICMP error for
 * a local application, net/icmp.h). Any thread, on_event included, but not from
 * on_no_peer (its rules above); takes no device lock. 0 or -errno (-EINVAL: empty
 * or over 65535 bytes). */
int wg_device_tun_write(struct wg_device *dev, const uint8_t *pkt, size_t len);

/* Per-peer state, for the owner: a copy taken under the locks. */
struct wg_peer_info {
	void *owner;
	uint64_t rx_bytes, tx_bytes;       /* all WireGuard messages, as wg(8) counts */
	uint64_t last_handshake_ns;        /* CLOCK_REALTIME ns; 0: never */
	struct sockaddr_storage endpoint;  /* ss_family AF_UNSPEC: none */
};

/* Attaches an opaque pointer to the peer with that public key; events about
 * it carry it. It lives as long as the peer: a peer removed and added again
 * starts with NULL. 0 or -ENOENT. */
int wg_device_peer_set_owner(struct wg_device *dev, const uint8_t pub[WG_DEVICE_KEY_LEN],
			     void *owner);
/* 0 or -ENOENT. */
int wg_device_peer_get(struct wg_device *dev, const uint8_t pub[WG_DEVICE_KEY_LEN],
		       struct wg_peer_info *out);

#endif
