/* Internals shared by the device's files (device.c, peer.c, handshake.c,
 * timers.c, datapath.c, tx.c, rx.c). Nothing outside src/wg includes this;
 * device.h is the public API.
 *
 * Threads and locks:
 *   - the control side runs in the owner's thread (wg_device_dispatch(), and
 *     wg_device_set() and the peer functions, never concurrently with it): it
 *     serves UAPI, processes handshake messages, runs timers, sends
 *     initiations and delivers events; "control thread" below means it;
 *   - the TX thread reads the TUN, encrypts and sends;
 *   - the RX thread receives, decrypts and writes the TUN.
 * dev->lock (a writer-preferring rwlock) guards the peer list, allowed IPs, the
 * index table, peers' owner pointers, and the lifetime of peers and keypairs:
 * the data path holds it for reading across a whole batch, crypto included,
 * so nothing it points at can be freed under it; the control thread takes it
 * for writing to change any of those. peer->mu guards a peer's keypair slots,
 * endpoint and timer deadlines, which both data-path threads touch. A keypair
 * is only freed under the write lock; the RX thread, which promotes keypairs
 * under peer->mu, parks the one it drops on the peer's graveyard for the
 * control thread to free. Each receiving keypair's replay window is touched
 * only by the RX thread.
 *
 * Events: a data-path thread only sets a bit in peer->events (atomic) and
 * wakes the control thread; wg_timers_tick() turns the bits into entries of
 * dev->evq (control thread only), and wg_device_dispatch() hands them to the
 * owner's callback after every lock is released. */
#ifndef SLUICE_WG_DEVICE_PRIV_H
#define SLUICE_WG_DEVICE_PRIV_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "wg/allowedips.h"
#include "wg/cookie.h"
#include "wg/crypto.h"
#include "wg/device.h"
#include "wg/index.h"
#include "wg/noise.h"
#include "wg/replay.h"
#include "wg/wg_wire.h"

enum {
	WG_HS_QUEUE_MAX = 1024,      /* queued handshake messages (wireguard-go) */
	WG_HS_PRIO_MAX = 128,        /* ... of which carry a mac2: a lane of their own */
	WG_MAX_PEERS = 100000,
	WG_MAX_ALLOWED_IPS = 1000000,
	WG_RATELIMIT_SLOTS = 4096,   /* per-source handshake buckets under load */
};

union wg_endpoint {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* Timer lengths, in ns. The defaults are the protocol's; tests may divide them
 * (SLUICE_WG_TEST_TIME_DIVISOR) to see rekeys within seconds. */
struct wg_timing {
	uint64_t rekey_after_time;
	uint64_t reject_after_time;
	uint64_t rekey_timeout;
	uint64_t keepalive_timeout;
	uint64_t rekey_on_recv_age;
	uint64_t zero_keys_after;
	uint64_t jitter_max;
};

struct wg_keypair {
	struct noise_keypair kp;
	struct wg_peer *peer;
	struct replay_window replay;      /* RX thread only */
	_Atomic bool recv_valid;
	struct wg_keypair *next_dead;     /* graveyard link */
};

struct wg_staged {
	uint16_t len;
	uint8_t data[];
};

struct wg_peer {
	struct wg_device *dev;
	struct wg_peer *next;             /* dev->peers list */
	uint8_t public_key[WG_KEY_LEN];
	struct noise_peer *noise;
	struct cookie_maker *cookie;
	uint16_t keepalive_interval;      /* persistent keepalive, seconds */
	uint8_t psk[WG_KEY_LEN];          /* as configured, for UAPI get */

	pthread_mutex_t mu;
	struct wg_keypair *cur, *prev, *next_kp;
	struct wg_keypair *graveyard;
	union wg_endpoint endpoint;       /* sa_family AF_UNSPEC: unknown */
	/* staged packets waiting for a session: a ring of WG_MAX_STAGED_PACKETS */
	struct wg_staged *staged[WG_MAX_STAGED_PACKETS];
	unsigned staged_head, staged_count;

	/* timer deadlines (boot clock ns, 0 = not armed) and their state, under mu */
	uint64_t t_retransmit, t_send_keepalive, t_new_handshake, t_zero_keys, t_persistent;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
	unsigned handshake_attempts;
	uint64_t last_initiation_sent;    /* boot ns; at most one per rekey_timeout */

	_Atomic bool want_handshake;      /* data path asks control to initiate */
	_Atomic bool want_keepalive;      /* control sends a keepalive */
	_Atomic bool want_staged;         /* control flushes staged packets */
	_Atomic uint64_t rx_bytes, tx_bytes;
	_Atomic uint64_t last_handshake_real; /* ns since the epoch, 0 = never */
	_Atomic unsigned events;          /* WG_PEV_*: for the control thread to report */
	void *owner;                      /* the owner's pointer; under dev->lock */
};

enum {
	WG_PEV_HANDSHAKE = 1 << 0,
	WG_PEV_UNRESPONSIVE = 1 << 1,
};

/* A handshake message waiting for the control thread. */
struct wg_hs_msg {
	union wg_endpoint src;
	uint16_t len;
	uint8_t data[WG_INITIATION_LEN];
};

struct wg_ratelimit_slot {
	uint8_t key[16];
	uint64_t last;   /* boot ns */
	uint64_t tokens; /* in ns of credit, as the kernel's ratelimiter */
};

struct wg_device {
	char ifname[16];
	int tun_fd;
	int sock4, sock6;
	uint16_t listen_port;
	uint32_t fwmark;
	_Atomic unsigned mtu;
	struct wg_timing timing;

	pthread_rwlock_t lock;
	struct wg_peer *peers;
	size_t n_peers;
	struct allowedips *aips;
	struct index_table *index;
	struct noise_local *local;
	struct cookie_checker *checker;
	bool has_private;
	uint8_t private_key[WG_KEY_LEN];
	uint8_t public_key[WG_KEY_LEN];

	/* control thread only */
	struct wg_crypto *crypto;
	struct wg_aead *ctl_aead;
	struct uapi_server *uapi;
	enum wg_uapi_mode uapi_mode;
	int ep;            /* epoll of ctl_efd, timer_fd and the UAPI socket */
	unsigned ticks;
	struct wg_event *evq; /* events waiting for dispatch */
	size_t evq_n, evq_cap;
	void (*on_event)(void *arg, const struct wg_event *ev);
	void (*on_no_peer)(void *arg, const uint8_t *pkt, size_t len);
	void *cb_arg;
	_Atomic uint64_t no_peer_drops;
	int ctl_efd;       /* wakes the control thread */
	int stop_efd;      /* tells every thread to stop */
	int timer_fd;
	uint64_t last_under_load;
	struct wg_ratelimit_slot rl[WG_RATELIMIT_SLOTS];
	uint8_t rl_key[16];  /* SipHash key of rl's slots, random per device */

	pthread_mutex_t hs_mu;
	struct wg_hs_msg *hs_queue; /* ring of WG_HS_QUEUE_MAX */
	unsigned hs_head, hs_count;
	struct wg_hs_msg *hs_prio;  /* ring of WG_HS_PRIO_MAX: messages with a mac2 */
	unsigned prio_head, prio_count;

	/* log lines a remote packet can trigger */
	struct log_ratelimit rl_rx, rl_tx, rl_hs;

	pthread_t tx_tid, rx_tid;
	bool threads_running;
	_Atomic bool stopping;
	_Atomic bool threads_stop;
};

/* peer.c */
int wg_peer_new(struct wg_device *dev, const uint8_t pub[WG_KEY_LEN], struct wg_peer **out);
void wg_peer_free(struct wg_peer *p);            /* under the write lock, unlinked */
struct wg_peer *wg_peer_find(struct wg_device *dev, const uint8_t pub[WG_KEY_LEN]);
void wg_peer_remove(struct wg_device *dev, struct wg_peer *p); /* write lock */
void wg_peer_remove_all(struct wg_device *dev);                /* write lock */
/* A new session from a handshake: write lock. */
int wg_peer_install_keypair(struct wg_peer *p, struct wg_keypair *kp);
/* RX: kp authenticated a packet; promotes a waiting keypair. Takes mu. */
void wg_peer_received_with_keypair(struct wg_peer *p, struct wg_keypair *kp);
/* Frees parked keypairs: write lock. */
void wg_peer_reap(struct wg_peer *p);
void wg_peer_zero_keys(struct wg_peer *p);        /* write lock */
void wg_keypair_free(struct wg_device *dev, struct wg_keypair *kp); /* write lock */
/* Under mu: a usable sending keypair, or NULL. */
struct wg_keypair *wg_peer_send_keypair(struct wg_peer *p, uint64_t now);
void wg_peer_set_endpoint(struct wg_peer *p, const union wg_endpoint *ep); /* takes mu */
int wg_peer_stage(struct wg_peer *p, const uint8_t *pkt, size_t len);   /* under mu */
void wg_peer_purge_staged(struct wg_peer *p);                              /* under mu */

/* handshake.c (control thread) */
void wg_hs_enqueue(struct wg_device *dev, const uint8_t *msg, size_t len,
		   const union wg_endpoint *src); /* any thread */
void wg_hs_process_queue(struct wg_device *dev);
/* Sends an initiation unless one went out within rekey_timeout (retry: always). */
void wg_hs_send_initiation(struct wg_device *dev, struct wg_peer *p, bool retry);
/* Encrypts and sends one packet (or a keepalive if len 0) with a current session,
 * from the control thread; under the read or write lock. 0 or -errno. */
int wg_hs_send_data(struct wg_device *dev, struct wg_peer *p, const uint8_t *pkt, size_t len);
void wg_hs_flush_staged(struct wg_device *dev, struct wg_peer *p);

/* timers.c: events (under mu unless said) and the control thread's tick */
uint64_t wg_timers_jitter(struct wg_device *dev);
void wg_timers_data_sent(struct wg_peer *p, uint64_t now);
void wg_timers_data_received(struct wg_peer *p, uint64_t now);
void wg_timers_any_authenticated_packet_sent(struct wg_peer *p);
void wg_timers_any_authenticated_packet_received(struct wg_peer *p);
void wg_timers_any_authenticated_packet_traversal(struct wg_peer *p, uint64_t now);
void wg_timers_handshake_initiated(struct wg_peer *p, uint64_t now);
void wg_timers_handshake_complete(struct wg_peer *p);
void wg_timers_session_derived(struct wg_peer *p, uint64_t now);
void wg_timers_tick(struct wg_device *dev); /* control thread */

/* datapath.c */
int wg_datapath_start(struct wg_device *dev);
void wg_datapath_stop(struct wg_device *dev);
/* Writes a transport message for pkt (NULL for a keepalive) into out: header,
 * padded ciphertext, tag. pkt may already sit at out + 16. */
int wg_datapath_seal(struct wg_aead *a, struct wg_keypair *kp, uint64_t counter,
		     const uint8_t *pkt, size_t len, unsigned mtu, uint8_t *out, size_t *outlen);
/* Sends one datagram to ep on the right socket. 0 or -errno. */
int wg_datapath_send(struct wg_device *dev, const union wg_endpoint *ep, const void *buf,
		     size_t len);
size_t wg_padded_len(size_t len, unsigned mtu);
/* Waits for fd1 or fd2 (-1: none) to be readable; false once the threads must stop. */
bool wg_datapath_wait(struct wg_device *dev, int fd1, int fd2);
void *wg_tx_thread(void *arg); /* tx.c */
void *wg_rx_thread(void *arg); /* rx.c */

/* device.c */
void wg_device_wake(struct wg_device *dev);
/* Queues an event for the next dispatch (control thread; nothing without an
 * on_event callback). */
void wg_device_queue_event(struct wg_device *dev, enum wg_event_type type,
			   const uint8_t pub[WG_KEY_LEN], void *owner);

#endif
