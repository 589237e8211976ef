/* The TX thread: TUN → encrypt → UDP.
 *
 * The TUN hands over TCP super-packets of up to 64 KiB (TSO, through the
 * virtio-net header), so one read replaces dozens. They are split into
 * MTU-sized segments straight into per-datagram slots, sealed in place, and runs
 * of same-size datagrams to one endpoint leave in one sendmsg with UDP_SEGMENT
 * (UDP GSO): the kernel builds the datagrams at the bottom of its stack. */
#include "wg/device_priv.h"

#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/time.h"
#include "net/gso.h"
#include "net/ip_wire.h"
#include "net/udpbatch.h"

enum {
	TX_SLOTS = 128,
	TX_SLOT_CAP = 9216 + 64,  /* the largest MTU we segment for, plus WG overhead */
	TX_READ_CAP = VNET_HDR_LEN + 65535,
	GSO_MAX_SEGS = 64,        /* the kernel's UDP_MAX_SEGMENTS */
	GSO_MAX_BYTES = 65000,    /* what one UDP send may carry, headers aside */
};

struct tx_state {
	uint8_t *rd;
	uint8_t *slot[TX_SLOTS];
	size_t seglen[TX_SLOTS];
	size_t sealed[TX_SLOTS];  /* 0: dropped or staged */
	union wg_endpoint ep[TX_SLOTS];
	struct iovec iov[TX_SLOTS];
	struct mmsghdr mm4[TX_SLOTS], mm6[TX_SLOTS];
	union udpbatch_cmsg cmsg[TX_SLOTS];
	struct wg_aead *aead;
	bool gso_ok;
};

/* The segments of one super-packet share a destination: one lookup serves all. */
struct dst_cache {
	struct wg_peer *peer;
	int family;
	uint8_t addr[16];
};

static void tx_free(struct tx_state *t)
{
	free(t->rd);
	for (int i = 0; i < TX_SLOTS; i++)
		free(t->slot[i]);
	wg_aead_free(t->aead);
	free(t);
}

static struct tx_state *tx_new(void)
{
	struct tx_state *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->rd = malloc(TX_READ_CAP);
	for (int i = 0; i < TX_SLOTS; i++)
		if (!(t->slot[i] = malloc(TX_SLOT_CAP)))
			goto fail;
	if (!t->rd || wg_aead_new(&t->aead) < 0)
		goto fail;
	t->gso_ok = true;
	return t;
fail:
	tx_free(t);
	return NULL;
}

/* Reads super-packets until the TUN is empty or the slots might not hold one
 * more; returns the number of segments. */
static unsigned tx_read(struct wg_device *dev, struct tx_state *t)
{
	unsigned n = 0;

	while (TX_SLOTS - n >= GSO_MAX_SEGS) {
		struct vnet_hdr h;
		ssize_t r = read(dev->tun_fd, t->rd, TX_READ_CAP);
		int segs;

		if (r < 0)
			break; /* EAGAIN: empty */
		if (r <= VNET_HDR_LEN)
			continue;
		vnet_hdr_decode(&h, t->rd);
		segs = gso_split(t->rd + VNET_HDR_LEN, (size_t)r - VNET_HDR_LEN, &h, &t->slot[n],
				 TX_SLOT_CAP - WG_TAG_LEN - WG_PADDING_MULTIPLE,
				 WG_DATA_OFF_PAYLOAD, &t->seglen[n], TX_SLOTS - n);
		if (segs < 0) {
			log_rl(&dev->rl_tx, LOG_LVL_WARN, "%s: dropped a packet from the TUN: %s",
			       dev->ifname, strerror(-segs));
			continue;
		}
		n += (unsigned)segs;
	}
	return n;
}

static struct wg_peer *tx_lookup(struct wg_device *dev, struct dst_cache *c, int family,
				 const uint8_t *dst)
{
	size_t alen = family == AF_INET ? 4 : 16;

	if (c->family != family || memcmp(c->addr, dst, alen) != 0) {
		c->family = family;
		memcpy(c->addr, dst, alen);
		c->peer = wg_allowedips_lookup(dev->aips, family, dst);
	}
	return c->peer;
}

/* One segment: find its peer by destination, take a counter, seal in place.
 * Returns true if the control thread must be woken. */
static bool tx_one(struct wg_device *dev, struct tx_state *t, unsigned i, uint64_t now,
		   unsigned mtu, struct dst_cache *cache)
{
	uint8_t *pkt = t->slot[i] + WG_DATA_OFF_PAYLOAD;
	size_t len = t->seglen[i];
	struct wg_peer *p;
	struct wg_keypair *kp;
	uint64_t counter;

	t->sealed[i] = 0;
	if (len >= IPV4_HDR_LEN && pkt[0] >> 4 == 4)
		p = tx_lookup(dev, cache, AF_INET, pkt + IPV4_OFF_DST);
	else if (len >= IPV6_HDR_LEN && pkt[0] >> 4 == 6)
		p = tx_lookup(dev, cache, AF_INET6, pkt + IPV6_OFF_DST);
	else
		return false;
	if (!p) {
		/* No peer owns that address: the owner's hook may want it (the
		 * client asks for access meanwhile); else dropped, as the kernel does. */
		if (dev->on_no_peer)
			dev->on_no_peer(dev->cb_arg, pkt, len);
		else
			atomic_fetch_add_explicit(&dev->no_peer_drops, 1, memory_order_relaxed);
		return false;
	}

	pthread_mutex_lock(&p->mu);
	kp = wg_peer_send_keypair(p, now);
	t->ep[i] = p->endpoint;
	if (!kp || t->ep[i].sa.sa_family == AF_UNSPEC ||
	    wg_noise_keypair_next_counter(&kp->kp, &counter) < 0) {
		wg_peer_stage(p, pkt, len);
		pthread_mutex_unlock(&p->mu);
		atomic_store(&p->want_handshake, true);
		return true;
	}
	wg_timers_any_authenticated_packet_traversal(p, now);
	wg_timers_any_authenticated_packet_sent(p);
	wg_timers_data_sent(p, now);
	pthread_mutex_unlock(&p->mu);

	if (wg_datapath_seal(t->aead, kp, counter, pkt, len, mtu, t->slot[i], &t->sealed[i]) < 0)
		return false;
	atomic_fetch_add_explicit(&p->tx_bytes, t->sealed[i], memory_order_relaxed);
	/* Keep the session fresh: the initiator rekeys after 2^60 messages or 120 s. */
	return kp->kp.is_initiator &&
	       (counter > WG_REKEY_AFTER_MESSAGES ||
		now - kp->kp.created >= dev->timing.rekey_after_time) &&
	       !atomic_exchange(&p->want_handshake, true);
}

static socklen_t ep_len(const union wg_endpoint *ep)
{
	return ep->sa.sa_family == AF_INET ? sizeof(ep->in4) : sizeof(ep->in6);
}

static bool same_ep(const union wg_endpoint *a, const union wg_endpoint *b)
{
	return a->sa.sa_family == b->sa.sa_family && memcmp(a, b, ep_len(a)) == 0;
}

/* Sends the messages of one family with as few syscalls as it takes, through
 * net/udpbatch's loop: a kernel that refuses UDP GSO gets that run one datagram
 * at a time, and GSO is then off for good. */
static void send_batch(struct wg_device *dev, struct tx_state *t, int fd, struct mmsghdr *msg,
		       unsigned n)
{
	bool was = t->gso_ok;
	int err = 0;
	unsigned lost = udpbatch_sendmmsg(fd, msg, n, &t->gso_ok, &err);

	if (was && !t->gso_ok)
		log_warn("%s: the kernel refuses UDP GSO: sending one by one", dev->ifname);
	if (lost)
		log_rl(&dev->rl_tx, LOG_LVL_WARN, "%s: send: %u datagrams lost: %s", dev->ifname,
		       lost, strerror(err));
}

/* Groups sealed datagrams into messages: with GSO, a run to one endpoint in
 * which every datagram but the last has the first one's size. */
static void tx_send(struct wg_device *dev, struct tx_state *t, unsigned n)
{
	unsigned n4 = 0, n6 = 0, i = 0;

	while (i < n) {
		unsigned j, segs = 0;
		size_t size = t->sealed[i], total = 0;
		struct mmsghdr *m;

		if (!size) {
			i++;
			continue;
		}
		for (j = i; j < n && segs < (t->gso_ok ? GSO_MAX_SEGS : 1u); j++) {
			size_t s = t->sealed[j];

			if (!s || (j > i && (!same_ep(&t->ep[j], &t->ep[i]) || s > size ||
					     total + s > GSO_MAX_BYTES)))
				break;
			t->iov[j] = (struct iovec){ .iov_base = t->slot[j], .iov_len = s };
			total += s;
			segs++;
			if (s < size) {
				j++;
				break; /* a shorter datagram ends the run */
			}
		}
		m = t->ep[i].sa.sa_family == AF_INET ? &t->mm4[n4++] : &t->mm6[n6++];
		*m = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &t->ep[i],
			.msg_namelen = ep_len(&t->ep[i]),
			.msg_iov = &t->iov[i],
			.msg_iovlen = segs,
		} };
		if (segs > 1)
			udpbatch_cmsg_segment(&m->msg_hdr, &t->cmsg[i], (uint16_t)size);
		i = j;
	}
	if (n4)
		send_batch(dev, t, dev->sock4, t->mm4, n4);
	if (n6)
		send_batch(dev, t, dev->sock6, t->mm6, n6);
}

void *wg_tx_thread(void *arg)
{
	struct wg_device *dev = arg;
	struct tx_state *t = tx_new();

	if (!t) {
		log_err("%s: TX thread: out of memory", dev->ifname);
		return NULL;
	}
	while (wg_datapath_wait(dev, dev->tun_fd, -1)) {
		unsigned n = tx_read(dev, t), mtu = atomic_load(&dev->mtu);
		uint64_t now = time_boot_ns();
		struct dst_cache cache = { 0 };
		bool wake = false;

		if (!n)
			continue;
		pthread_rwlock_rdlock(&dev->lock);
		for (unsigned i = 0; i < n; i++)
			wake |= tx_one(dev, t, i, now, mtu, &cache);
		tx_send(dev, t, n);
		pthread_rwlock_unlock(&dev->lock);
		if (wake)
			wg_device_wake(dev);
	}
	tx_free(t);
	return NULL;
}

/* The owner's packets (wg_device_send): the TX thread's path, one packet at a
 * time, sealed with the control side's AEAD context, which is the owner's
 * thread's own. */
int wg_device_send(struct wg_device *dev, const uint8_t *pkt, size_t len)
{
	const uint8_t *dst;
	struct wg_peer *p;
	int family, r = 0;
	bool stage, have_kp;

	if (len >= IPV4_HDR_LEN && pkt[0] >> 4 == 4) {
		family = AF_INET;
		dst = pkt + IPV4_OFF_DST;
	} else if (len >= IPV6_HDR_LEN && pkt[0] >> 4 == 6) {
		family = AF_INET6;
		dst = pkt + IPV6_OFF_DST;
	} else {
		return -EINVAL;
	}
	if (len > atomic_load(&dev->mtu))
		return -EMSGSIZE;
	pthread_rwlock_rdlock(&dev->lock);
	p = wg_allowedips_lookup(dev->aips, family, dst);
	if (!p) {
		pthread_rwlock_unlock(&dev->lock);
		return -EHOSTUNREACH;
	}
	pthread_mutex_lock(&p->mu);
	have_kp = wg_peer_send_keypair(p, time_boot_ns()) && p->endpoint.sa.sa_family != AF_UNSPEC;
	/* Behind packets already staged, so that the flow keeps its order. */
	stage = !have_kp || p->staged_count;
	if (stage)
		r = wg_peer_stage(p, pkt, len);
	pthread_mutex_unlock(&p->mu);
	if (!stage) {
		r = wg_hs_send_data(dev, p, pkt, len);
		if (r == -ENOKEY) {
			/* The session expired in between: wait for the next one. */
			pthread_mutex_lock(&p->mu);
			r = wg_peer_stage(p, pkt, len);
			pthread_mutex_unlock(&p->mu);
			stage = true;
			have_kp = false;
		}
	}
	if (stage)
		atomic_store(have_kp ? &p->want_staged : &p->want_handshake, true);
	pthread_rwlock_unlock(&dev->lock);
	if (stage)
		wg_device_wake(dev);
	return r;
}
