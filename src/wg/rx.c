/* The RX thread: UDP → decrypt → TUN.
 *
 * With UDP GRO the socket hands over runs of datagrams from one sender in one
 * buffer. Each is authenticated and decrypted in place; the inner packets are
 * then written in order, consecutive TCP segments of one flow joined into one
 * super-packet (a virtio-net GSO write), so the kernel takes dozens of segments
 * per write. Handshake messages go to the control thread's queue. */
#include "wg/device_priv.h"

#include <endian.h>
#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/time.h"
#include "net/gso.h"
#include "net/ip_wire.h"

enum {
	RX_BUFS = 32,
	RX_BUF_CAP = 65535 + 64,  /* one UDP GRO buffer */
	RX_MAX_PKTS = RX_BUFS * 64,
	GRO_CAP = VNET_HDR_LEN + 65535,
};

struct rx_state {
	uint8_t *buf[RX_BUFS];
	union wg_endpoint addr[RX_BUFS];
	uint16_t gso[RX_BUFS];
	struct iovec iov[RX_BUFS];
	struct mmsghdr mm[RX_BUFS];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cmsg[RX_BUFS];
	uint8_t *pkt[RX_MAX_PKTS];
	size_t plen[RX_MAX_PKTS];
	struct gro gro;
	uint8_t *grobuf;
	struct wg_aead *aead;
};

static void rx_free(struct rx_state *r)
{
	for (int i = 0; i < RX_BUFS; i++)
		free(r->buf[i]);
	free(r->grobuf);
	wg_aead_free(r->aead);
	free(r);
}

static struct rx_state *rx_new(void)
{
	struct rx_state *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	for (int i = 0; i < RX_BUFS; i++)
		if (!(r->buf[i] = malloc(RX_BUF_CAP)))
			goto fail;
	r->grobuf = malloc(GRO_CAP);
	if (!r->grobuf || wg_aead_new(&r->aead) < 0)
		goto fail;
	gro_init(&r->gro, r->grobuf, GRO_CAP);
	return r;
fail:
	rx_free(r);
	return NULL;
}

/* The decrypted inner packet must be a whole IPv4/IPv6 packet whose source
 * the sending peer owns. Returns its length without padding, or 0 to drop. */
static size_t rx_inner(struct wg_device *dev, struct wg_peer *p, const uint8_t *pkt, size_t len)
{
	size_t tot;
	int family;
	uint16_t v;

	if (len >= IPV4_HDR_LEN && pkt[0] >> 4 == 4) {
		memcpy(&v, pkt + IPV4_OFF_TOT_LEN, 2);
		tot = be16toh(v);
		family = AF_INET;
		if (tot < IPV4_HDR_LEN)
			return 0;
	} else if (len >= IPV6_HDR_LEN && pkt[0] >> 4 == 6) {
		memcpy(&v, pkt + IPV6_OFF_PAYLOAD_LEN, 2);
		tot = IPV6_HDR_LEN + (size_t)be16toh(v);
		family = AF_INET6;
	} else {
		return 0;
	}
	if (tot > len)
		return 0;
	if (wg_allowedips_lookup(dev->aips, family,
				 pkt + (family == AF_INET ? IPV4_OFF_SRC : IPV6_OFF_SRC)) != p) {
		log_rl(&dev->rl_rx, LOG_LVL_INFO,
		       "%s: dropped a packet from a peer with a source it does not own",
		       dev->ifname);
		return 0;
	}
	return tot;
}

/* One transport message: authenticate, replay-check, roam. Returns the length
 * of the inner packet to write to the TUN (0: nothing to write). */
static size_t rx_transport(struct wg_device *dev, struct wg_aead *aead, uint8_t *msg,
			   size_t len, const union wg_endpoint *src, uint64_t now, bool *wake)
{
	size_t plen = len - WG_TRANSPORT_OVERHEAD;
	struct wg_keypair *kp;
	struct wg_peer *p;
	uint32_t idx;
	uint64_t counter;

	memcpy(&idx, msg + WG_DATA_OFF_RECEIVER, 4);
	memcpy(&counter, msg + WG_DATA_OFF_COUNTER, 8);
	counter = le64toh(counter);
	kp = wg_index_lookup(dev->index, le32toh(idx), INDEX_KEYPAIR, NULL);
	if (!kp || !atomic_load(&kp->recv_valid) ||
	    now - kp->kp.created >= dev->timing.reject_after_time ||
	    !wg_replay_check(&kp->replay, counter, WG_REJECT_AFTER_MESSAGES))
		return 0;
	if (wg_aead_open(aead, kp->kp.recv_key, counter, NULL, 0, msg + WG_DATA_OFF_PAYLOAD,
			 plen, msg + WG_DATA_OFF_PAYLOAD + plen) < 0) {
		log_rl(&dev->rl_rx, LOG_LVL_DEBUG, "%s: a transport message did not authenticate",
		       dev->ifname);
		return 0;
	}
	if (!wg_replay_check_update(&kp->replay, counter, WG_REJECT_AFTER_MESSAGES))
		return 0;
	p = kp->peer;
	wg_peer_received_with_keypair(p, kp);
	/* Roaming: the endpoint follows the last authenticated packet. */
	wg_peer_set_endpoint(p, src);
	atomic_fetch_add_explicit(&p->rx_bytes, len, memory_order_relaxed);
	pthread_mutex_lock(&p->mu);
	wg_timers_any_authenticated_packet_received(p);
	wg_timers_any_authenticated_packet_traversal(p, now);
	if (plen)
		wg_timers_data_received(p, now);
	/* An initiator whose session nears its end starts one last handshake. */
	if (kp == p->cur && kp->kp.is_initiator && !p->sent_lastminute_handshake &&
	    now - kp->kp.created >= dev->timing.rekey_on_recv_age) {
		p->sent_lastminute_handshake = true;
		atomic_store(&p->want_handshake, true);
		*wake = true;
	}
	pthread_mutex_unlock(&p->mu);
	if (plen == 0)
		return 0; /* keepalive */
	return rx_inner(dev, p, msg + WG_DATA_OFF_PAYLOAD, plen);
}

/* Receives up to RX_BUFS messages and notes each one's GRO segment size. */
static unsigned rx_recv(int fd, struct rx_state *r)
{
	int n;

	if (fd < 0)
		return 0;
	for (int i = 0; i < RX_BUFS; i++) {
		r->iov[i] = (struct iovec){ .iov_base = r->buf[i], .iov_len = RX_BUF_CAP };
		r->mm[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &r->addr[i],
			.msg_namelen = sizeof(r->addr[i]),
			.msg_iov = &r->iov[i],
			.msg_iovlen = 1,
			.msg_control = r->cmsg[i].buf,
			.msg_controllen = sizeof(r->cmsg[i].buf),
		} };
	}
	n = recvmmsg(fd, r->mm, RX_BUFS, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &r->mm[i].msg_hdr;

		r->gso[i] = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
			int v;

			if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO ||
			    c->cmsg_len < CMSG_LEN(sizeof(v)))
				continue;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			r->gso[i] = v > 0 && v < 65536 ? (uint16_t)v : 0;
		}
	}
	return (unsigned)n;
}

static void tun_write(struct wg_device *dev, const uint8_t *buf, size_t len)
{
	if (write(dev->tun_fd, buf, len) < 0)
		log_rl(&dev->rl_rx, LOG_LVL_WARN, "%s: TUN write: %s", dev->ifname,
		       strerror(errno));
}

static void rx_flush_gro(struct wg_device *dev, struct rx_state *r)
{
	size_t n = gro_flush(&r->gro);

	if (n)
		tun_write(dev, r->gro.buf, n);
}

/* Writes the inner packets in order, joining TCP segments of one flow. */
static void rx_deliver(struct wg_device *dev, struct rx_state *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = r->pkt[i];

		if (gro_add(&r->gro, p, r->plen[i]) == 1)
			continue;
		rx_flush_gro(dev, r);
		if (gro_add(&r->gro, p, r->plen[i]) == 1)
			continue;
		/* Alone: its virtio header goes over the spent WireGuard header. */
		gro_plain_hdr(p - VNET_HDR_LEN);
		tun_write(dev, p - VNET_HDR_LEN, r->plen[i] + VNET_HDR_LEN);
	}
	rx_flush_gro(dev, r);
}

static void rx_batch(struct wg_device *dev, struct rx_state *r, unsigned nmsg)
{
	uint64_t now = time_boot_ns();
	unsigned npkt = 0;
	bool wake = false;

	pthread_rwlock_rdlock(&dev->lock);
	for (unsigned i = 0; i < nmsg; i++) {
		size_t len = r->mm[i].msg_len, step = r->gso[i] ? r->gso[i] : len;

		for (size_t off = 0; off < len && npkt < RX_MAX_PKTS; off += step) {
			uint8_t *msg = r->buf[i] + off;
			size_t dlen = len - off < step ? len - off : step, inner;

			switch (wg_wire_classify(msg, dlen)) {
			case WG_MSG_TRANSPORT:
				inner = rx_transport(dev, r->aead, msg, dlen, &r->addr[i], now,
						     &wake);
				if (inner) {
					r->pkt[npkt] = msg + WG_DATA_OFF_PAYLOAD;
					r->plen[npkt++] = inner;
				}
				break;
			case WG_MSG_INITIATION:
			case WG_MSG_RESPONSE:
			case WG_MSG_COOKIE_REPLY:
				wg_hs_enqueue(dev, msg, dlen, &r->addr[i]);
				break;
			default:
				break; /* not WireGuard: silence */
			}
		}
	}
	pthread_rwlock_unlock(&dev->lock);
	rx_deliver(dev, r, npkt);
	if (wake)
		wg_device_wake(dev);
}

void *wg_rx_thread(void *arg)
{
	struct wg_device *dev = arg;
	struct rx_state *r = rx_new();

	if (!r) {
		log_err("%s: RX thread: out of memory", dev->ifname);
		return NULL;
	}
	while (wg_datapath_wait(dev, dev->sock4, dev->sock6)) {
		unsigned n4, n6;

		/* Alternate, so a flood on one family cannot starve the other. */
		do {
			n4 = rx_recv(dev->sock4, r);
			if (n4)
				rx_batch(dev, r, n4);
			n6 = rx_recv(dev->sock6, r);
			if (n6)
				rx_batch(dev, r, n6);
		} while (n4 || n6);
	}
	rx_free(r);
	return NULL;
}

/* The owner's packets (wg_device_tun_write): one write of a plain virtio
 * header and the packet. A TUN takes each write whole, so the RX thread's
 * writes and these never interleave. */
int wg_device_tun_write(struct wg_device *dev, const uint8_t *pkt, size_t len)
{
	uint8_t vh[VNET_HDR_LEN];
	struct iovec iov[2] = {
		{ .iov_base = vh, .iov_len = sizeof(vh) },
		{ .iov_base = (void *)pkt, .iov_len = len },
	};

	if (!len || len > 65535)
		return -EINVAL;
	gro_plain_hdr(vh);
	if (writev(dev->tun_fd, iov, 2) < 0)
		return -errno;
	return 0;
}
