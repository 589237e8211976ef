/* The data path: TUN → encrypt → UDP on the TX thread, UDP → decrypt → TUN on
 * the RX thread. Both work in batches (read until the TUN is empty or the batch
 * is full; recvmmsg/sendmmsg), encrypt and decrypt in place in buffers made once,
 * and never wait on the control thread: a packet that needs a handshake is
 * staged and the control thread is woken. */
#include "wg/device_priv.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/time.h"
#include "net/ip_wire.h"

/* wireguard-go's calculatePaddingSize: pad to 16, but never past the MTU. */
size_t wg_padded_len(size_t len, unsigned mtu)
{
	size_t last = len, padded;

	if (mtu == 0)
		return (len + WG_PADDING_MULTIPLE - 1) & ~(size_t)(WG_PADDING_MULTIPLE - 1);
	if (last > mtu)
		last %= mtu;
	padded = (last + WG_PADDING_MULTIPLE - 1) & ~(size_t)(WG_PADDING_MULTIPLE - 1);
	if (padded > mtu)
		padded = mtu;
	return len + (padded - last);
}

int datapath_seal(struct wg_aead *a, struct wg_keypair *kp, uint64_t counter,
		  const uint8_t *pkt, size_t len, unsigned mtu, uint8_t *out, size_t *outlen)
{
	size_t padded = wg_padded_len(len, mtu);
	uint8_t *payload = out + WG_DATA_OFF_PAYLOAD;
	uint32_t type = htole32(WG_MSG_TRANSPORT), idx = htole32(kp->kp.remote_index);
	uint64_t ctr = htole64(counter);
	int r;

	if (pkt && pkt != payload)
		memmove(payload, pkt, len);
	memset(payload + len, 0, padded - len);
	memcpy(out + WG_OFF_TYPE, &type, 4);
	memcpy(out + WG_DATA_OFF_RECEIVER, &idx, 4);
	memcpy(out + WG_DATA_OFF_COUNTER, &ctr, 8);
	r = wg_aead_seal(a, kp->kp.send_key, counter, NULL, 0, payload, padded, payload + padded);
	if (r < 0)
		return r;
	*outlen = WG_TRANSPORT_OVERHEAD + padded;
	return 0;
}

int datapath_send(struct wg_device *dev, const union wg_endpoint *ep, const void *buf,
		  size_t len)
{
	int fd = ep->sa.sa_family == AF_INET ? dev->sock4 : dev->sock6;
	socklen_t alen = ep->sa.sa_family == AF_INET ? sizeof(ep->in4) : sizeof(ep->in6);

	if (fd < 0)
		return -EAFNOSUPPORT;
	if (sendto(fd, buf, len, MSG_DONTWAIT, &ep->sa, alen) < 0)
		return -errno;
	return 0;
}

struct batch {
	uint8_t *buf[WG_BATCH];
	size_t len[WG_BATCH];
	union wg_endpoint addr[WG_BATCH];
	struct iovec iov[WG_BATCH];
	struct mmsghdr msg[WG_BATCH];
	struct wg_aead *aead;
};

static int batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	for (int i = 0; i < WG_BATCH; i++) {
		b->buf[i] = malloc(WG_PKT_BUF);
		if (!b->buf[i])
			return -ENOMEM;
	}
	return wg_aead_new(&b->aead);
}

static void batch_free(struct batch *b)
{
	for (int i = 0; i < WG_BATCH; i++)
		free(b->buf[i]);
	wg_aead_free(b->aead);
}

/* Sends the queued datagrams of one family with as few syscalls as it takes. */
static void send_batch(struct wg_device *dev, int fd, struct mmsghdr *msg, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		int r = sendmmsg(fd, msg + done, n - done, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_rl(&dev->rl_tx, LOG_LVL_WARN, "%s: send: %s", dev->ifname,
			       strerror(errno));
			done++; /* skip the one that failed (e.g. no route) */
			continue;
		}
		done += (unsigned)r;
	}
}

static bool wait_readable(struct wg_device *dev, int fd1, int fd2)
{
	struct pollfd pfd[3] = {
		{ .fd = dev->stop_efd, .events = POLLIN },
		{ .fd = fd1, .events = POLLIN },
		{ .fd = fd2, .events = POLLIN },
	};

	while (poll(pfd, fd2 >= 0 ? 3 : 2, -1) < 0)
		if (errno != EINTR)
			return false;
	return !atomic_load(&dev->threads_stop);
}

/* One TUN packet: find its peer by destination, encrypt, queue for sending.
 * Returns the peer if the control thread must be woken for it. */
static struct wg_peer *tx_one(struct wg_device *dev, struct batch *b, int i, uint64_t now,
			      unsigned mtu, struct mmsghdr *out)
{
	uint8_t *pkt = b->buf[i] + WG_DATA_OFF_PAYLOAD;
	size_t len = b->len[i], sealed;
	struct wg_peer *p = NULL;
	struct wg_keypair *kp;
	uint64_t counter;
	int family = 0;

	if (len >= IPV4_HDR_LEN && pkt[0] >> 4 == 4)
		family = AF_INET;
	else if (len >= IPV6_HDR_LEN && pkt[0] >> 4 == 6)
		family = AF_INET6;
	if (family)
		p = allowedips_lookup(dev->aips, family,
				      pkt + (family == AF_INET ? IPV4_OFF_DST : IPV6_OFF_DST));
	if (!p)
		return NULL; /* no peer has that address: dropped, as the kernel does */

	pthread_mutex_lock(&p->mu);
	kp = peer_send_keypair(p, now);
	b->addr[i] = p->endpoint;
	if (!kp || b->addr[i].sa.sa_family == AF_UNSPEC ||
	    noise_keypair_next_counter(&kp->kp, &counter) < 0) {
		peer_stage(p, pkt, len);
		pthread_mutex_unlock(&p->mu);
		atomic_store(&p->want_handshake, true);
		return p;
	}
	timers_any_authenticated_packet_traversal(p, now);
	timers_any_authenticated_packet_sent(p);
	timers_data_sent(p, now);
	pthread_mutex_unlock(&p->mu);

	if (datapath_seal(b->aead, kp, counter, pkt, len, mtu, b->buf[i], &sealed) < 0)
		return NULL;
	atomic_fetch_add_explicit(&p->tx_bytes, sealed, memory_order_relaxed);
	b->iov[i] = (struct iovec){ .iov_base = b->buf[i], .iov_len = sealed };
	*out = (struct mmsghdr){ .msg_hdr = {
		.msg_name = &b->addr[i],
		.msg_namelen = b->addr[i].sa.sa_family == AF_INET ? sizeof(struct sockaddr_in)
								   : sizeof(struct sockaddr_in6),
		.msg_iov = &b->iov[i],
		.msg_iovlen = 1,
	} };
	/* Keep the session fresh: the initiator rekeys after 2^60 messages or 120 s. */
	if (kp->kp.is_initiator && (counter > WG_REKEY_AFTER_MESSAGES ||
				    now - kp->kp.created >= dev->timing.rekey_after_time) &&
	    !atomic_exchange(&p->want_handshake, true))
		return p;
	return NULL;
}

static void *tx_thread(void *arg)
{
	struct wg_device *dev = arg;
	struct mmsghdr out4[WG_BATCH], out6[WG_BATCH];
	struct batch b;

	if (batch_init(&b) < 0) {
		log_err("%s: TX thread: out of memory", dev->ifname);
		batch_free(&b);
		return NULL;
	}
	while (wait_readable(dev, dev->tun_fd, -1)) {
		unsigned n = 0, n4 = 0, n6 = 0, mtu = atomic_load(&dev->mtu);
		uint64_t now = time_boot_ns();
		bool wake = false;

		while (n < WG_BATCH) {
			ssize_t r = read(dev->tun_fd, b.buf[n] + WG_DATA_OFF_PAYLOAD,
					 WG_PKT_BUF - WG_TRANSPORT_OVERHEAD - WG_PADDING_MULTIPLE);

			if (r < 0)
				break; /* EAGAIN: the TUN is empty */
			if (r > 0)
				b.len[n++] = (size_t)r;
		}
		pthread_rwlock_rdlock(&dev->lock);
		for (unsigned i = 0; i < n; i++) {
			struct mmsghdr m = { 0 };

			if (tx_one(dev, &b, (int)i, now, mtu, &m))
				wake = true;
			if (!m.msg_hdr.msg_iov)
				continue;
			if (b.addr[i].sa.sa_family == AF_INET)
				out4[n4++] = m;
			else
				out6[n6++] = m;
		}
		if (n4)
			send_batch(dev, dev->sock4, out4, n4);
		if (n6)
			send_batch(dev, dev->sock6, out6, n6);
		pthread_rwlock_unlock(&dev->lock);
		if (wake)
			device_wake(dev);
	}
	batch_free(&b);
	return NULL;
}

/* Checks the decrypted inner packet: a whole IPv4/IPv6 packet whose source the
 * sending peer owns. Returns its length without padding, or 0 to drop. */
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
	if (allowedips_lookup(dev->aips, family,
			      pkt + (family == AF_INET ? IPV4_OFF_SRC : IPV6_OFF_SRC)) != p) {
		log_rl(&dev->rl_rx, LOG_LVL_INFO,
		       "%s: dropped a packet from a peer with a source it does not own",
		       dev->ifname);
		return 0;
	}
	return tot;
}

/* One transport message: authenticate, replay-check, roam, hand back the
 * length of the inner packet to write to the TUN (0: nothing to write). */
static size_t rx_transport(struct wg_device *dev, struct batch *b, int i, uint64_t now,
			   bool *wake)
{
	uint8_t *msg = b->buf[i];
	size_t len = b->len[i], plen = len - WG_TRANSPORT_OVERHEAD;
	struct wg_keypair *kp;
	struct wg_peer *p;
	uint32_t idx;
	uint64_t counter;

	memcpy(&idx, msg + WG_DATA_OFF_RECEIVER, 4);
	memcpy(&counter, msg + WG_DATA_OFF_COUNTER, 8);
	counter = le64toh(counter);
	kp = index_lookup(dev->index, le32toh(idx), INDEX_KEYPAIR, NULL);
	if (!kp || !atomic_load(&kp->recv_valid) ||
	    now - kp->kp.created >= dev->timing.reject_after_time ||
	    !replay_check(&kp->replay, counter, WG_REJECT_AFTER_MESSAGES))
		return 0;
	if (wg_aead_open(b->aead, kp->kp.recv_key, counter, NULL, 0, msg + WG_DATA_OFF_PAYLOAD,
			 plen, msg + WG_DATA_OFF_PAYLOAD + plen) < 0) {
		log_rl(&dev->rl_rx, LOG_LVL_DEBUG, "%s: a transport message did not authenticate",
		       dev->ifname);
		return 0;
	}
	if (!replay_check_update(&kp->replay, counter, WG_REJECT_AFTER_MESSAGES))
		return 0;
	p = kp->peer;
	peer_received_with_keypair(p, kp);
	/* Roaming: the endpoint follows the last authenticated packet. */
	peer_set_endpoint(p, &b->addr[i]);
	atomic_fetch_add_explicit(&p->rx_bytes, len, memory_order_relaxed);
	pthread_mutex_lock(&p->mu);
	timers_any_authenticated_packet_received(p);
	timers_any_authenticated_packet_traversal(p, now);
	if (plen)
		timers_data_received(p, now);
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

static unsigned rx_recv(int fd, struct batch *b, struct mmsghdr *msg)
{
	int r;

	if (fd < 0)
		return 0;
	for (int i = 0; i < WG_BATCH; i++) {
		b->iov[i] = (struct iovec){ .iov_base = b->buf[i], .iov_len = WG_PKT_BUF };
		msg[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &b->addr[i],
			.msg_namelen = sizeof(b->addr[i]),
			.msg_iov = &b->iov[i],
			.msg_iovlen = 1,
		} };
	}
	r = recvmmsg(fd, msg, WG_BATCH, MSG_DONTWAIT, NULL);
	if (r <= 0)
		return 0;
	for (int i = 0; i < r; i++)
		b->len[i] = msg[i].msg_len;
	return (unsigned)r;
}

static void rx_batch(struct wg_device *dev, struct batch *b, unsigned n)
{
	size_t out[WG_BATCH] = { 0 };
	uint64_t now = time_boot_ns();
	bool wake = false;

	pthread_rwlock_rdlock(&dev->lock);
	for (unsigned i = 0; i < n; i++) {
		switch (wg_wire_classify(b->buf[i], b->len[i])) {
		case WG_MSG_TRANSPORT:
			out[i] = rx_transport(dev, b, (int)i, now, &wake);
			break;
		case WG_MSG_INITIATION:
		case WG_MSG_RESPONSE:
		case WG_MSG_COOKIE_REPLY:
			hs_enqueue(dev, b->buf[i], b->len[i], &b->addr[i]);
			break;
		default:
			break; /* not WireGuard: silence */
		}
	}
	pthread_rwlock_unlock(&dev->lock);
	for (unsigned i = 0; i < n; i++) {
		if (out[i] && write(dev->tun_fd, b->buf[i] + WG_DATA_OFF_PAYLOAD, out[i]) < 0)
			log_rl(&dev->rl_rx, LOG_LVL_WARN, "%s: TUN write: %s", dev->ifname,
			       strerror(errno));
	}
	if (wake)
		device_wake(dev);
}

static void *rx_thread(void *arg)
{
	struct wg_device *dev = arg;
	struct mmsghdr msg[WG_BATCH];
	struct batch b;

	if (batch_init(&b) < 0) {
		log_err("%s: RX thread: out of memory", dev->ifname);
		batch_free(&b);
		return NULL;
	}
	while (wait_readable(dev, dev->sock4, dev->sock6)) {
		unsigned n4, n6;

		/* Alternate, so a flood on one family cannot starve the other. */
		do {
			n4 = rx_recv(dev->sock4, &b, msg);
			if (n4)
				rx_batch(dev, &b, n4);
			n6 = rx_recv(dev->sock6, &b, msg);
			if (n6)
				rx_batch(dev, &b, n6);
		} while (n4 || n6);
	}
	batch_free(&b);
	return NULL;
}

int datapath_start(struct wg_device *dev)
{
	int r;

	atomic_store(&dev->threads_stop, false);
	r = pthread_create(&dev->tx_thread, NULL, tx_thread, dev);
	if (r)
		return -r;
	r = pthread_create(&dev->rx_thread, NULL, rx_thread, dev);
	if (r) {
		atomic_store(&dev->threads_stop, true);
		uint64_t one = 1;
		if (write(dev->stop_efd, &one, sizeof(one)) < 0)
			abort();
		pthread_join(dev->tx_thread, NULL);
		return -r;
	}
	dev->threads_running = true;
	return 0;
}

void datapath_stop(struct wg_device *dev)
{
	uint64_t one = 1, v;

	if (!dev->threads_running)
		return;
	atomic_store(&dev->threads_stop, true);
	if (write(dev->stop_efd, &one, sizeof(one)) < 0)
		log_err("%s: waking the data path: %s", dev->ifname, strerror(errno));
	pthread_join(dev->tx_thread, NULL);
	pthread_join(dev->rx_thread, NULL);
	/* Drain the eventfd so a restart does not see a stale stop. */
	if (read(dev->stop_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_err("%s: eventfd: %s", dev->ifname, strerror(errno));
	dev->threads_running = false;
}
