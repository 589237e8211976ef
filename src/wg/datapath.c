/* What the data-path threads (tx.c, rx.c) share: padding, sealing, sending one
 * datagram, waiting, and starting and stopping the threads. Both threads work in
 * batches, encrypt and decrypt in place in buffers made once, and never wait on
 * the control thread: a packet that needs a handshake is staged and the control
 * thread is woken. */
#include "wg/device_priv.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


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

int wg_datapath_seal(struct wg_aead *a, struct wg_keypair *kp, uint64_t counter,
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

int wg_datapath_send(struct wg_device *dev, const union wg_endpoint *ep, const void *buf,
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

bool wg_datapath_wait(struct wg_device *dev, int fd1, int fd2)
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

int wg_datapath_start(struct wg_device *dev)
{
	int r;

	atomic_store(&dev->threads_stop, false);
	r = pthread_create(&dev->tx_tid, NULL, wg_tx_thread, dev);
	if (r)
		return -r;
	r = pthread_create(&dev->rx_tid, NULL, wg_rx_thread, dev);
	if (r) {
		atomic_store(&dev->threads_stop, true);
		uint64_t one = 1;
		if (write(dev->stop_efd, &one, sizeof(one)) < 0)
			abort();
		pthread_join(dev->tx_tid, NULL);
		return -r;
	}
	dev->threads_running = true;
	return 0;
}

void wg_datapath_stop(struct wg_device *dev)
{
	uint64_t one = 1, v;

	if (!dev->threads_running)
		return;
	atomic_store(&dev->threads_stop, true);
	if (write(dev->stop_efd, &one, sizeof(one)) < 0)
		log_err("%s: waking the data path: %s", dev->ifname, strerror(errno));
	pthread_join(dev->tx_tid, NULL);
	pthread_join(dev->rx_tid, NULL);
	/* Drain the eventfd so a restart does not see a stale stop. */
	if (read(dev->stop_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_err("%s: eventfd: %s", dev->ifname, strerror(errno));
	dev->threads_running = false;
}
