/* The device: its lifecycle, UDP sockets, the control side (dispatch, run in
 * the owner's loop), events, and configuration (a parsed set, from the UAPI
 * socket or in process, applied all at once or not at all). */
#include "wg/device_priv.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/rand.h"
#include "lib/time.h"
#include "net/netlink.h"
#include "net/tun.h"

/* Linux 6.2 names; older headers lack them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#include "wg/uapi.h"
#include "wg/uapi_server.h"

enum {
	WG_TICK_MS = 50,              /* timer resolution of the control thread */
	WG_MTU_EVERY_TICKS = 20,      /* the admin may change the MTU: look again */
	WG_SOCK_BUF = 7 << 20,        /* as wireguard-go: room for bursts */
};

void wg_device_wake(struct wg_device *dev)
{
	uint64_t one = 1;

	if (write(dev->ctl_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_rl(&dev->rl_hs, LOG_LVL_ERR, "%s: eventfd: %s", dev->ifname, strerror(errno));
}

static int index_assign(void *arg, struct noise_peer *peer, uint32_t *index)
{
	struct wg_device *dev = arg;

	return wg_index_insert(dev->index, INDEX_HANDSHAKE, wg_noise_peer_user(peer), index);
}

static void index_release(void *arg, struct noise_peer *peer, uint32_t index)
{
	(void)peer;
	wg_index_remove(((struct wg_device *)arg)->index, index);
}

static const struct noise_index_ops index_ops = { index_assign, index_release };

static int udp_socket(int family, uint16_t port, uint32_t fwmark)
{
	union wg_endpoint a = { 0 };
	int fd, one = 1, size = WG_SOCK_BUF, err;
	socklen_t alen;

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* FORCE needs CAP_NET_ADMIN; the plain call caps at rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		goto fail;
	/* UDP GRO: runs of datagrams from one sender arrive in one read (rx.c).
	 * Older kernels refuse it, and rx.c works without. */
	setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	if (family == AF_INET) {
		a.in4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port) };
		alen = sizeof(a.in4);
	} else {
		a.in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(port) };
		alen = sizeof(a.in6);
	}
	if (bind(fd, &a.sa, alen) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static uint16_t sock_port(int fd)
{
	union wg_endpoint a;
	socklen_t alen = sizeof(a);

	if (getsockname(fd, &a.sa, &alen) < 0)
		return 0;
	return ntohs(a.sa.sa_family == AF_INET ? a.in4.sin_port : a.in6.sin6_port);
}

/* Binds both families on one port (0: the kernel picks it for IPv4, and IPv6
 * follows). A host without IPv6 still gets an IPv4 socket. */
static int open_sockets(uint16_t port, uint32_t fwmark, int *s4, int *s6, uint16_t *bound)
{
	for (int attempt = 0; attempt < 10; attempt++) {
		int fd4 = udp_socket(AF_INET, port, fwmark), fd6;

		if (fd4 < 0)
			return fd4 == -EADDRINUSE ? -EADDRINUSE : fd4;
		*bound = sock_port(fd4);
		fd6 = udp_socket(AF_INET6, *bound, fwmark);
		if (fd6 == -EADDRINUSE && port == 0) {
			close(fd4); /* the random port is taken for IPv6: draw again */
			continue;
		}
		if (fd6 == -EADDRINUSE) {
			close(fd4);
			return -EADDRINUSE;
		}
		*s4 = fd4;
		*s6 = fd6 >= 0 ? fd6 : -1;
		return 0;
	}
	return -EADDRINUSE;
}

static unsigned tun_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned mtu = 0;

	if (s < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = (unsigned)ifr.ifr_mtu;
	close(s);
	return mtu;
}

/* ---- UAPI get ---- */

struct aip_collect {
	struct uapi_allowed_ip *v;
	size_t n, cap;
};

static int collect_aip(const struct allowedips_prefix *pfx, void *arg)
{
	struct aip_collect *c = arg;
	struct uapi_allowed_ip *a;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		void *v = realloc(c->v, cap * sizeof(*c->v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	a = &c->v[c->n++];
	memset(a, 0, sizeof(*a));
	a->family = (sa_family_t)pfx->family;
	a->cidr = pfx->cidr;
	if (pfx->family == AF_INET)
		memcpy(&a->ip4, pfx->addr, 4);
	else
		memcpy(&a->ip6, pfx->addr, 16);
	return 0;
}

static int dev_get(void *arg, struct buf *out)
{
	struct wg_device *dev = arg;
	struct uapi_device_info info = { .listen_port = dev->listen_port, .fwmark = dev->fwmark };
	struct aip_collect c = { 0 };
	int r;

	pthread_rwlock_rdlock(&dev->lock);
	if (dev->has_private)
		memcpy(info.private_key, dev->private_key, WG_KEY_LEN);
	r = wg_uapi_format_device(out, &info);
	wg_wipe(&info, sizeof(info));
	for (struct wg_peer *p = dev->peers; p && r == 0; p = p->next) {
		struct uapi_peer_info pi = { 0 };
		uint64_t hs = atomic_load(&p->last_handshake_real);

		memcpy(pi.public_key, p->public_key, WG_KEY_LEN);
		memcpy(pi.preshared_key, p->psk, WG_KEY_LEN);
		pthread_mutex_lock(&p->mu);
		memcpy(&pi.endpoint, &p->endpoint, sizeof(pi.endpoint));
		pthread_mutex_unlock(&p->mu);
		pi.last_handshake_sec = hs / NSEC_PER_SEC;
		pi.last_handshake_nsec = (uint32_t)(hs % NSEC_PER_SEC);
		pi.tx_bytes = atomic_load(&p->tx_bytes);
		pi.rx_bytes = atomic_load(&p->rx_bytes);
		pi.persistent_keepalive = p->keepalive_interval;
		c.n = 0;
		r = wg_allowedips_walk(dev->aips, p, collect_aip, &c);
		pi.allowed_ips = c.v;
		pi.n_allowed_ips = c.n;
		if (r == 0)
			r = wg_uapi_format_peer(out, &pi);
		wg_wipe(pi.preshared_key, sizeof(pi.preshared_key));
	}
	pthread_rwlock_unlock(&dev->lock);
	free(c.v);
	return r;
}

/* ---- UAPI set: check everything that can be refused, then apply ---- */

static bool is_zero_key(const uint8_t k[WG_KEY_LEN])
{
	return wg_is_zero(k, WG_KEY_LEN);
}

static int set_check(struct wg_device *dev, const struct uapi_set *set,
		     const uint8_t *priv, const uint8_t *pub)
{
	size_t aips = wg_allowedips_count(dev->aips), peers = dev->n_peers;

	for (size_t i = 0; i < set->n_peers; i++) {
		const struct uapi_set_peer *sp = &set->peers[i];
		uint8_t ss[WG_KEY_LEN];
		bool exists = wg_peer_find(dev, sp->public_key) != NULL;

		if (sp->flags & UAPI_PEER_REMOVE)
			continue;
		if (pub && memcmp(sp->public_key, pub, WG_KEY_LEN) == 0)
			continue;
		if (!exists && !(sp->flags & UAPI_PEER_UPDATE_ONLY))
			peers++;
		/* A low-order public key makes the static-static DH zero: refuse
		 * the whole request rather than half of it. */
		if (priv && wg_dh(ss, priv, sp->public_key) < 0)
			return -EINVAL;
		wg_wipe(ss, sizeof(ss));
		aips += sp->n_allowed_ips;
	}
	if (peers > WG_MAX_PEERS || aips > WG_MAX_ALLOWED_IPS)
		return -ENOSPC;
	return 0;
}

static int set_peer(struct wg_device *dev, const struct uapi_set_peer *sp, bool up)
{
	struct wg_peer *p = wg_peer_find(dev, sp->public_key);
	int r;

	if (sp->flags & UAPI_PEER_REMOVE) {
		if (p)
			wg_peer_remove(dev, p);
		return 0;
	}
	if (dev->has_private && memcmp(sp->public_key, dev->public_key, WG_KEY_LEN) == 0)
		return 0; /* our own key: wireguard-go ignores such a section */
	if (!p) {
		if (sp->flags & UAPI_PEER_UPDATE_ONLY)
			return 0;
		r = wg_peer_new(dev, sp->public_key, &p);
		if (r < 0)
			return r;
	}
	if (sp->flags & UAPI_PEER_PRESHARED_KEY) {
		memcpy(p->psk, sp->preshared_key, WG_KEY_LEN);
		wg_noise_peer_set_psk(p->noise, is_zero_key(p->psk) ? NULL : p->psk);
	}
	if (sp->flags & UAPI_PEER_ENDPOINT) {
		union wg_endpoint ep = { 0 };

		memcpy(&ep, &sp->endpoint, sizeof(sp->endpoint) < sizeof(ep) ? sizeof(sp->endpoint)
									      : sizeof(ep));
		wg_peer_set_endpoint(p, &ep);
	}
	if (sp->flags & UAPI_PEER_KEEPALIVE) {
		p->keepalive_interval = sp->persistent_keepalive;
		/* As wireguard-go: turning it on sends one at once. */
		if (sp->persistent_keepalive && up)
			atomic_store(&p->want_keepalive, true);
	}
	if (sp->flags & UAPI_PEER_REPLACE_ALLOWED_IPS)
		wg_allowedips_remove_peer(dev->aips, p);
	for (size_t j = 0; j < sp->n_allowed_ips; j++) {
		const struct uapi_allowed_ip *a = &sp->allowed_ips[j];

		if (a->remove)
			wg_allowedips_remove(dev->aips, a->family, &a->ip4, a->cidr, p);
		else if ((r = wg_allowedips_insert(dev->aips, a->family, &a->ip4, a->cidr, p)) < 0)
			return r;
	}
	return 0;
}

static int set_private_key(struct wg_device *dev, const uint8_t *priv)
{
	int r;

	r = wg_noise_local_set_private(dev->crypto, dev->local, priv);
	if (r < 0)
		return r;
	dev->has_private = priv != NULL;
	if (priv) {
		memcpy(dev->private_key, priv, WG_KEY_LEN);
		wg_noise_local_public(dev->local, dev->public_key);
	} else {
		wg_wipe(dev->private_key, WG_KEY_LEN);
		wg_wipe(dev->public_key, WG_KEY_LEN);
	}
	r = wg_cookie_checker_set_key(dev->crypto, dev->checker, priv ? dev->public_key : NULL);
	if (r < 0)
		return r;
	for (struct wg_peer *p = dev->peers, *next; p; p = next) {
		next = p->next;
		/* Sessions under the old identity are over. A peer that now has our
		 * own key, or a zero DH with it, goes, as in wireguard-go. */
		wg_peer_zero_keys(p);
		if ((priv && memcmp(p->public_key, dev->public_key, WG_KEY_LEN) == 0) ||
		    wg_noise_peer_precompute(p->noise) < 0)
			wg_peer_remove(dev, p);
	}
	return 0;
}

static int dev_set(void *arg, const struct uapi_set *set)
{
	struct wg_device *dev = arg;
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	const uint8_t *newpriv = dev->has_private ? dev->private_key : NULL;
	const uint8_t *newpub = dev->has_private ? dev->public_key : NULL;
	int s4 = -1, s6 = -1, r = 0;
	uint16_t port = dev->listen_port;
	uint32_t fwmark = set->flags & UAPI_SET_FWMARK ? set->fwmark : dev->fwmark;
	bool rebind;

	if (set->flags & UAPI_SET_PRIVATE_KEY) {
		newpriv = newpub = NULL;
		if (!is_zero_key(set->private_key)) {
			memcpy(priv, set->private_key, WG_KEY_LEN);
			wg_key_clamp(priv);
			if (wg_key_public(pub, priv) < 0)
				return -EINVAL;
			newpriv = priv;
			newpub = pub;
		}
	}
	pthread_rwlock_rdlock(&dev->lock);
	r = set_check(dev, set, newpriv, newpub);
	pthread_rwlock_unlock(&dev->lock);
	if (r < 0)
		goto out;
	rebind = ((set->flags & UAPI_SET_LISTEN_PORT) && set->listen_port != dev->listen_port) ||
		 fwmark != dev->fwmark;
	if (rebind) {
		if (set->flags & UAPI_SET_LISTEN_PORT)
			port = set->listen_port;
		r = open_sockets(port, fwmark, &s4, &s6, &port);
		if (r < 0)
			goto out;
		wg_datapath_stop(dev);
		close(dev->sock4);
		if (dev->sock6 >= 0)
			close(dev->sock6);
		dev->sock4 = s4;
		dev->sock6 = s6;
		dev->listen_port = port;
		dev->fwmark = fwmark;
		r = wg_datapath_start(dev);
		if (r < 0)
			goto out;
	}
	pthread_rwlock_wrlock(&dev->lock);
	if (set->flags & UAPI_SET_REPLACE_PEERS)
		wg_peer_remove_all(dev);
	if (set->flags & UAPI_SET_PRIVATE_KEY)
		r = set_private_key(dev, newpriv);
	for (size_t i = 0; r == 0 && i < set->n_peers; i++)
		r = set_peer(dev, &set->peers[i], true);
	pthread_rwlock_unlock(&dev->lock);
	wg_device_wake(dev);
out:
	wg_wipe(priv, sizeof(priv));
	return r;
}

static int dev_set_refused(void *arg, const struct uapi_set *set)
{
	(void)arg;
	(void)set;
	return -EPERM; /* WG_UAPI_RO: the owner configures the device */
}

static const struct uapi_ops uapi_ops_rw = { dev_get, dev_set };
static const struct uapi_ops uapi_ops_ro = { dev_get, dev_set_refused };

int wg_device_set(struct wg_device *dev, const struct uapi_set *set)
{
	return dev_set(dev, set);
}

/* ---- events ---- */

void wg_device_queue_event(struct wg_device *dev, enum wg_event_type type,
			   const uint8_t pub[WG_KEY_LEN], void *owner)
{
	struct wg_event *e;

	if (!dev->on_event)
		return;
	if (dev->evq_n == dev->evq_cap) {
		size_t cap = dev->evq_cap ? dev->evq_cap * 2 : 16;
		void *q = realloc(dev->evq, cap * sizeof(*dev->evq));

		if (!q) {
			log_rl(&dev->rl_hs, LOG_LVL_ERR, "%s: out of memory: an event is lost",
			       dev->ifname);
			return;
		}
		dev->evq = q;
		dev->evq_cap = cap;
	}
	e = &dev->evq[dev->evq_n++];
	e->type = type;
	memcpy(e->public_key, pub, WG_KEY_LEN);
	e->owner = owner;
}

/* The queue is taken whole first: the callback may call wg_device_set(), whose
 * events wait for the next dispatch (the wake keeps the fd readable). */
static void deliver_events(struct wg_device *dev)
{
	struct wg_event *q = dev->evq;
	size_t n = dev->evq_n;

	if (!n)
		return;
	dev->evq = NULL;
	dev->evq_n = dev->evq_cap = 0;
	for (size_t i = 0; i < n && dev->on_event; i++)
		dev->on_event(dev->cb_arg, &q[i]);
	free(q);
	if (dev->evq_n)
		wg_device_wake(dev);
}

/* ---- the owner's side ---- */

int wg_device_fd(const struct wg_device *dev)
{
	return dev->ep;
}

static int serve_uapi(struct wg_device *dev)
{
	const struct uapi_ops *ops = dev->uapi_mode == WG_UAPI_RO ? &uapi_ops_ro : &uapi_ops_rw;

	if (wg_uapi_server_handle(dev->uapi, ops, dev) != -ENOENT)
		return 0;
	if (dev->uapi_mode == WG_UAPI_RW)
		return -ENOENT;
	/* Read-only: the owner runs the device, not the socket; stop serving it. */
	log_info("%s: UAPI socket removed: no longer serving it", dev->ifname);
	epoll_ctl(dev->ep, EPOLL_CTL_DEL, wg_uapi_server_fd(dev->uapi), NULL);
	wg_uapi_server_close(dev->uapi);
	dev->uapi = NULL;
	return 0;
}

int wg_device_dispatch(struct wg_device *dev)
{
	struct epoll_event ev[3];
	bool work = false;
	uint64_t v;
	int n, r = 0;

	n = epoll_wait(dev->ep, ev, 3, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;

		if (fd == dev->ctl_efd) {
			if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_rl(&dev->rl_hs, LOG_LVL_ERR, "eventfd read failed");
			work = true;
		} else if (fd == dev->timer_fd) {
			if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_rl(&dev->rl_hs, LOG_LVL_ERR, "timerfd read failed");
			work = true;
			/* 0: the link is out of sight (moved to another netns):
			 * keep what we had. */
			if (++dev->ticks % WG_MTU_EVERY_TICKS == 0 && (v = tun_mtu(dev->ifname)))
				atomic_store(&dev->mtu, (unsigned)v);
		} else if (dev->uapi && fd == wg_uapi_server_fd(dev->uapi)) {
			r = serve_uapi(dev);
		}
	}
	if (work) {
		wg_hs_process_queue(dev);
		wg_timers_tick(dev);
	}
	deliver_events(dev);
	return r;
}

uint16_t wg_device_port(const struct wg_device *dev)
{
	return dev->listen_port;
}

int wg_device_public_key(const struct wg_device *dev, uint8_t out[WG_DEVICE_KEY_LEN])
{
	struct wg_device *d = (struct wg_device *)dev; /* the lock, not the state */
	int r = -ENOKEY;

	pthread_rwlock_rdlock(&d->lock);
	if (dev->has_private) {
		memcpy(out, dev->public_key, WG_KEY_LEN);
		r = 0;
	}
	pthread_rwlock_unlock(&d->lock);
	return r;
}

uint64_t wg_device_no_peer_drops(const struct wg_device *dev)
{
	return atomic_load_explicit(&dev->no_peer_drops, memory_order_relaxed);
}

int wg_device_peer_set_owner(struct wg_device *dev, const uint8_t pub[WG_DEVICE_KEY_LEN],
			     void *owner)
{
	struct wg_peer *p;

	pthread_rwlock_wrlock(&dev->lock);
	p = wg_peer_find(dev, pub);
	if (p)
		p->owner = owner;
	pthread_rwlock_unlock(&dev->lock);
	return p ? 0 : -ENOENT;
}

int wg_device_peer_get(struct wg_device *dev, const uint8_t pub[WG_DEVICE_KEY_LEN],
		       struct wg_peer_info *out)
{
	struct wg_peer *p;

	memset(out, 0, sizeof(*out));
	pthread_rwlock_rdlock(&dev->lock);
	p = wg_peer_find(dev, pub);
	if (p) {
		out->owner = p->owner;
		out->rx_bytes = atomic_load(&p->rx_bytes);
		out->tx_bytes = atomic_load(&p->tx_bytes);
		out->last_handshake_ns = atomic_load(&p->last_handshake_real);
		pthread_mutex_lock(&p->mu);
		memcpy(&out->endpoint, &p->endpoint, sizeof(p->endpoint));
		pthread_mutex_unlock(&p->mu);
	}
	pthread_rwlock_unlock(&dev->lock);
	return p ? 0 : -ENOENT;
}

/* ---- lifecycle ---- */

int wg_device_new(const struct wg_device_opts *opts, struct wg_device **out)
{
	struct wg_device *dev;
	pthread_rwlockattr_t attr;
	struct nl *nl = NULL;
	unsigned div = opts->time_divisor > 1 ? opts->time_divisor : 1;
	struct itimerspec tick = {
		.it_interval = { 0, WG_TICK_MS * 1000000L },
		.it_value = { 0, WG_TICK_MS * 1000000L },
	};
	int r;

	if (!opts->ifname || !*opts->ifname || strlen(opts->ifname) >= IFNAMSIZ ||
	    opts->uapi > WG_UAPI_OFF)
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	snprintf(dev->ifname, sizeof(dev->ifname), "%s", opts->ifname);
	dev->tun_fd = dev->sock4 = dev->sock6 = dev->ctl_efd = dev->stop_efd = dev->timer_fd = -1;
	dev->ep = -1;
	dev->uapi_mode = opts->uapi;
	dev->on_event = opts->on_event;
	dev->on_no_peer = opts->on_no_peer;
	dev->cb_arg = opts->arg;
	dev->timing = (struct wg_timing){
		.rekey_after_time = WG_REKEY_AFTER_TIME / div,
		.reject_after_time = WG_REJECT_AFTER_TIME / div,
		.rekey_timeout = WG_REKEY_TIMEOUT / div,
		.keepalive_timeout = WG_KEEPALIVE_TIMEOUT / div,
		.rekey_on_recv_age = WG_REKEY_ON_RECV_AGE / div,
		.zero_keys_after = WG_ZERO_KEYS_AFTER / div,
		.jitter_max = WG_REKEY_TIMEOUT_JITTER_MAX / div,
	};
	dev->rl_rx = dev->rl_tx = dev->rl_hs = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	pthread_rwlockattr_init(&attr);
	/* The data path holds read locks back to back: without writer preference
	 * a handshake or a `wg set` could wait for ever. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&dev->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&dev->hs_mu, NULL);

	r = -ENOMEM;
	dev->hs_queue = calloc(WG_HS_QUEUE_MAX, sizeof(*dev->hs_queue));
	dev->hs_prio = calloc(WG_HS_PRIO_MAX, sizeof(*dev->hs_prio));
	if (!dev->hs_queue || !dev->hs_prio)
		goto fail;
	if ((r = wg_allowedips_new(&dev->aips, WG_MAX_ALLOWED_IPS)) < 0 ||
	    (r = wg_index_table_new(&dev->index, 4 * (size_t)WG_MAX_PEERS, NULL, NULL)) < 0 ||
	    (r = wg_noise_local_new(&dev->local)) < 0 || (r = wg_crypto_new(&dev->crypto)) < 0 ||
	    (r = wg_aead_new(&dev->ctl_aead)) < 0 ||
	    (r = wg_cookie_checker_new(dev->crypto, NULL, &dev->checker)) < 0)
		goto fail;
	wg_noise_local_set_index_ops(dev->local, &index_ops, dev);
	if ((r = rand_bytes(dev->rl_key, sizeof(dev->rl_key))) < 0)
		goto fail;

	dev->ctl_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dev->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dev->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (dev->ctl_efd < 0 || dev->stop_efd < 0 || dev->timer_fd < 0 ||
	    timerfd_settime(dev->timer_fd, 0, &tick, NULL) < 0) {
		r = -errno;
		goto fail;
	}
	dev->ep = epoll_create1(EPOLL_CLOEXEC);
	if (dev->ep < 0) {
		r = -errno;
		goto fail;
	}
	if (dev->uapi_mode != WG_UAPI_OFF) {
		r = wg_uapi_server_open(dev->ifname, &dev->uapi);
		if (r < 0)
			goto fail;
	}
	for (int i = 0, fds[3] = { dev->ctl_efd, dev->timer_fd,
				   dev->uapi ? wg_uapi_server_fd(dev->uapi) : -1 };
	     i < 3 && fds[i] >= 0; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.fd = fds[i] };

		if (epoll_ctl(dev->ep, EPOLL_CTL_ADD, fds[i], &e) < 0) {
			r = -errno;
			goto fail;
		}
	}
	r = tun_open(dev->ifname, TUN_NONBLOCK | TUN_VNET_HDR, dev->ifname);
	if (r < 0)
		goto fail;
	dev->tun_fd = r;
	/* TSO from the TUN: the kernel hands over 64 KiB TCP super-packets and tx.c
	 * segments them. USO (UDP) needs Linux 6.2; without it UDP comes as is. */
	r = tun_set_offload(dev->tun_fd, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN |
					      TUN_F_USO4 | TUN_F_USO6);
	if (r < 0)
		r = tun_set_offload(dev->tun_fd, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
							 TUN_F_TSO_ECN);
	if (r < 0)
		goto fail;
	r = nl_open(&nl);
	if (r == 0) {
		r = nl_link_set_mtu(nl, nl_link_index(dev->ifname),
				    opts->mtu ? opts->mtu : WG_MTU_DEFAULT);
		nl_close(nl);
	}
	if (r < 0)
		goto fail;
	atomic_store(&dev->mtu, tun_mtu(dev->ifname));
	r = open_sockets(opts->listen_port, 0, &dev->sock4, &dev->sock6, &dev->listen_port);
	if (r < 0)
		goto fail;
	r = wg_datapath_start(dev);
	if (r < 0)
		goto fail;
	*out = dev;
	return 0;
fail:
	wg_device_free(dev);
	return r;
}

int wg_device_run(struct wg_device *dev)
{
	struct pollfd p = { .fd = dev->ep, .events = POLLIN };

	log_info("%s: up, listening on UDP port %u", dev->ifname, dev->listen_port);
	while (!atomic_load(&dev->stopping)) {
		int r;

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		r = wg_device_dispatch(dev);
		if (r == -ENOENT) {
			log_info("%s: UAPI socket removed: shutting down", dev->ifname);
			return 0;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

void wg_device_stop(struct wg_device *dev)
{
	uint64_t one = 1;

	atomic_store(&dev->stopping, true);
	/* Async-signal-safe: an atomic store and a write. */
	if (write(dev->ctl_efd, &one, sizeof(one)) < 0)
		return;
}

void wg_device_free(struct wg_device *dev)
{
	if (!dev)
		return;
	wg_datapath_stop(dev);
	if (dev->uapi)
		wg_uapi_server_close(dev->uapi);
	dev->on_event = NULL; /* the owner is tearing down: no removed events */
	free(dev->evq);
	dev->evq = NULL;
	dev->evq_n = 0;
	pthread_rwlock_wrlock(&dev->lock);
	if (dev->index)
		wg_peer_remove_all(dev);
	pthread_rwlock_unlock(&dev->lock);
	wg_cookie_checker_free(dev->checker);
	wg_aead_free(dev->ctl_aead);
	wg_crypto_free(dev->crypto);
	wg_noise_local_free(dev->local);
	wg_index_table_free(dev->index);
	wg_allowedips_free(dev->aips);
	if (dev->tun_fd >= 0)
		close(dev->tun_fd);
	if (dev->sock4 >= 0)
		close(dev->sock4);
	if (dev->sock6 >= 0)
		close(dev->sock6);
	if (dev->ctl_efd >= 0)
		close(dev->ctl_efd);
	if (dev->stop_efd >= 0)
		close(dev->stop_efd);
	if (dev->timer_fd >= 0)
		close(dev->timer_fd);
	if (dev->ep >= 0)
		close(dev->ep);
	free(dev->hs_queue);
	free(dev->hs_prio);
	pthread_mutex_destroy(&dev->hs_mu);
	pthread_rwlock_destroy(&dev->lock);
	wg_wipe(dev, sizeof(*dev));
	free(dev);
}
