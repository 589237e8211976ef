/* Handshake messages on the control thread: the queue the RX thread fills, the
 * DoS defences (mac1 always; under load mac2, cookie replies and a per-source
 * rate limit), initiations and responses, and sending on a session from the
 * control thread (keepalives, staged packets). */
#include "wg/device_priv.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/time.h"

/* A flood of initiations without cookies must not crowd out the peer that
 * answered our cookie reply: messages that carry a mac2 (they cannot be
 * verified here, but a flood without cookies leaves it zero) queue in a lane of
 * their own that the control thread serves first. A flood that forges mac2 only
 * fills that lane, and meets the same cookie and rate-limit checks. */
static bool has_mac2(const uint8_t *msg, size_t len)
{
	if (len != WG_INITIATION_LEN && len != WG_RESPONSE_LEN)
		return false;
	return !wg_is_zero(msg + WG_MAC2_OFF(len), WG_MAC_LEN);
}

void wg_hs_enqueue(struct wg_device *dev, const uint8_t *msg, size_t len,
		   const union wg_endpoint *src)
{
	struct wg_hs_msg *m = NULL;
	bool wake = false;

	if (len > sizeof(m->data))
		return;
	pthread_mutex_lock(&dev->hs_mu);
	if (has_mac2(msg, len) && dev->prio_count < WG_HS_PRIO_MAX) {
		m = &dev->hs_prio[(dev->prio_head + dev->prio_count++) % WG_HS_PRIO_MAX];
	} else if (dev->hs_count < WG_HS_QUEUE_MAX) {
		m = &dev->hs_queue[(dev->hs_head + dev->hs_count++) % WG_HS_QUEUE_MAX];
	}
	if (m) {
		m->src = *src;
		m->len = (uint16_t)len;
		memcpy(m->data, msg, len);
		wake = dev->hs_count + dev->prio_count == 1;
	}
	pthread_mutex_unlock(&dev->hs_mu);
	if (wake)
		wg_device_wake(dev);
}

/* The sender's address as the cookie binds it: IP bytes || port. */
static size_t src_key(const union wg_endpoint *ep, uint8_t out[18])
{
	if (ep->sa.sa_family == AF_INET) {
		memcpy(out, &ep->in4.sin_addr, 4);
		memcpy(out + 4, &ep->in4.sin_port, 2);
		return 6;
	}
	memcpy(out, &ep->in6.sin6_addr, 16);
	memcpy(out + 16, &ep->in6.sin6_port, 2);
	return 18;
}

/* The kernel's ratelimiter: a token bucket per source IP (IPv6 per /64), 20
 * handshakes a second with a burst of 5, in a fixed table where a colliding
 * source simply takes the slot over. The slot comes from SipHash under a key
 * drawn per device: a flood cannot aim its sources at one slot to evict a
 * legitimate peer's bucket. */
_Static_assert(sizeof(((struct wg_device *)0)->rl_key) == crypto_shorthash_KEYBYTES,
	       "the rate limiter's key is a SipHash key");

static bool ratelimit_allow(struct wg_device *dev, const union wg_endpoint *ep, uint64_t now)
{
	const uint64_t cost = NSEC_PER_SEC / WG_HANDSHAKE_RATE_PER_SEC;
	const uint64_t max = cost * WG_HANDSHAKE_RATE_BURST;
	uint8_t key[16] = { 0 };
	struct wg_ratelimit_slot *s;
	uint8_t hash[crypto_shorthash_BYTES];
	uint64_t h, tokens;

	if (ep->sa.sa_family == AF_INET)
		memcpy(key, &ep->in4.sin_addr, 4);
	else
		memcpy(key + 4, &ep->in6.sin6_addr, 8);
	crypto_shorthash(hash, key, sizeof(key), dev->rl_key);
	memcpy(&h, hash, sizeof(h));
	s = &dev->rl[h % WG_RATELIMIT_SLOTS];
	if (memcmp(s->key, key, sizeof(key)) != 0 || s->last == 0) {
		memcpy(s->key, key, sizeof(key));
		s->last = now;
		s->tokens = max - cost;
		return true;
	}
	tokens = s->tokens + (now - s->last);
	if (tokens > max)
		tokens = max;
	s->last = now;
	if (tokens < cost) {
		s->tokens = tokens;
		return false;
	}
	s->tokens = tokens - cost;
	return true;
}

static struct noise_peer *lookup_static(void *arg, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer *p = wg_peer_find(arg, pub);

	return p ? p->noise : NULL;
}

static void send_msg(struct wg_device *dev, struct wg_peer *p, const union wg_endpoint *ep,
		     const uint8_t *msg, size_t len)
{
	int r = wg_datapath_send(dev, ep, msg, len);

	if (r < 0)
		log_rl(&dev->rl_hs, LOG_LVL_WARN, "%s: sending a handshake message: %s",
		       dev->ifname, strerror(-r));
	else if (p)
		atomic_fetch_add(&p->tx_bytes, len);
}

static struct wg_keypair *new_session(struct wg_device *dev, struct wg_peer *p, uint64_t now)
{
	struct wg_keypair *kp = calloc(1, sizeof(*kp));

	if (!kp)
		return NULL;
	if (wg_noise_begin_session(dev->crypto, p->noise, &kp->kp, now) < 0) {
		free(kp);
		return NULL;
	}
	kp->peer = p;
	wg_replay_reset(&kp->replay);
	atomic_store(&kp->recv_valid, true);
	/* The handshake's index now names the session. */
	wg_index_replace(dev->index, kp->kp.local_index, INDEX_KEYPAIR, kp);
	wg_peer_install_keypair(p, kp);
	return kp;
}

static void handle_initiation(struct wg_device *dev, struct wg_hs_msg *m, uint64_t now)
{
	uint8_t resp[WG_RESPONSE_LEN];
	struct noise_peer *np;
	struct wg_peer *p;
	int r;

	r = wg_noise_consume_initiation(dev->crypto, dev->local, m->data, m->len, now,
					lookup_static, dev, &np);
	if (r < 0) {
		log_rl(&dev->rl_hs, LOG_LVL_DEBUG, "%s: initiation refused: %s", dev->ifname,
		       strerror(-r));
		return;
	}
	p = wg_noise_peer_user(np);
	atomic_fetch_add(&p->rx_bytes, m->len);
	wg_peer_set_endpoint(p, &m->src);
	if (wg_noise_create_response(dev->crypto, np, resp) < 0 ||
	    wg_cookie_add_macs(dev->crypto, p->cookie, resp, sizeof(resp), now) < 0 ||
	    !new_session(dev, p, now))
		return;
	pthread_mutex_lock(&p->mu);
	wg_timers_any_authenticated_packet_received(p);
	wg_timers_any_authenticated_packet_traversal(p, now);
	wg_timers_any_authenticated_packet_sent(p);
	wg_timers_session_derived(p, now);
	pthread_mutex_unlock(&p->mu);
	send_msg(dev, p, &m->src, resp, sizeof(resp));
}

static void handle_response(struct wg_device *dev, struct wg_hs_msg *m, uint64_t now)
{
	uint32_t idx;
	struct wg_peer *p;
	int r;

	memcpy(&idx, m->data + WG_RESP_OFF_RECEIVER, 4);
	p = wg_index_lookup(dev->index, le32toh(idx), INDEX_HANDSHAKE, NULL);
	if (!p)
		return;
	r = wg_noise_consume_response(dev->crypto, p->noise, m->data, m->len);
	if (r < 0) {
		log_rl(&dev->rl_hs, LOG_LVL_DEBUG, "%s: response refused: %s", dev->ifname,
		       strerror(-r));
		return;
	}
	atomic_fetch_add(&p->rx_bytes, m->len);
	wg_peer_set_endpoint(p, &m->src);
	if (!new_session(dev, p, now))
		return;
	pthread_mutex_lock(&p->mu);
	wg_timers_session_derived(p, now);
	wg_timers_handshake_complete(p);
	wg_timers_any_authenticated_packet_received(p);
	wg_timers_any_authenticated_packet_traversal(p, now);
	pthread_mutex_unlock(&p->mu);
	/* The initiator speaks first on a new session: staged data, or a keepalive
	 * so that the responder can start using it. */
	if (p->staged_count)
		wg_hs_flush_staged(dev, p);
	else
		wg_hs_send_data(dev, p, NULL, 0);
}

static void handle_cookie_reply(struct wg_device *dev, struct wg_hs_msg *m, uint64_t now)
{
	enum index_type type;
	uint32_t idx;
	void *obj;
	struct wg_peer *p;

	memcpy(&idx, m->data + WG_COOKIE_OFF_RECEIVER, 4);
	obj = wg_index_lookup(dev->index, le32toh(idx), INDEX_ANY, &type);
	if (!obj)
		return;
	p = type == INDEX_KEYPAIR ? ((struct wg_keypair *)obj)->peer : obj;
	if (wg_cookie_consume_reply(p->cookie, m->data, m->len, now) < 0)
		log_rl(&dev->rl_hs, LOG_LVL_DEBUG, "%s: cookie reply refused", dev->ifname);
}

static void handle_one(struct wg_device *dev, struct wg_hs_msg *m, unsigned queued)
{
	uint64_t now = time_boot_ns();
	int type = wg_wire_classify(m->data, m->len);
	bool under_load;
	uint8_t key[18];
	size_t keylen;
	enum cookie_result res;

	if (type == WG_MSG_COOKIE_REPLY) {
		pthread_rwlock_wrlock(&dev->lock);
		handle_cookie_reply(dev, m, now);
		pthread_rwlock_unlock(&dev->lock);
		return;
	}
	if (type != WG_MSG_INITIATION && type != WG_MSG_RESPONSE)
		return;
	under_load = queued >= WG_UNDER_LOAD_QUEUE;
	if (under_load)
		dev->last_under_load = now;
	else
		under_load = dev->last_under_load &&
			     now - dev->last_under_load < WG_UNDER_LOAD_AFTER_TIME;
	keylen = src_key(&m->src, key);
	/* mac1 first, before any DH; mac2 only matters under load. */
	res = wg_cookie_check(dev->crypto, dev->checker, m->data, m->len, key, keylen, under_load,
			      now);
	if (res == COOKIE_INVALID)
		return;
	if (under_load) {
		if (res != COOKIE_VALID_MAC2) {
			uint8_t reply[WG_COOKIE_REPLY_LEN];

			if (wg_cookie_reply_create(dev->crypto, dev->checker, reply, m->data,
						   m->len, key, keylen, now) == 0)
				send_msg(dev, NULL, &m->src, reply, sizeof(reply));
			return;
		}
		if (!ratelimit_allow(dev, &m->src, now))
			return;
	}
	pthread_rwlock_wrlock(&dev->lock);
	if (type == WG_MSG_INITIATION)
		handle_initiation(dev, m, now);
	else
		handle_response(dev, m, now);
	pthread_rwlock_unlock(&dev->lock);
}

void wg_hs_process_queue(struct wg_device *dev)
{
	struct wg_hs_msg m;
	unsigned queued;

	/* Bounded per call so timers and UAPI still run during a flood. */
	for (int i = 0; i < WG_HS_QUEUE_MAX; i++) {
		pthread_mutex_lock(&dev->hs_mu);
		/* Load is judged by the main queue: the flood lives there. */
		queued = dev->hs_count;
		if (dev->prio_count) {
			m = dev->hs_prio[dev->prio_head];
			dev->prio_head = (dev->prio_head + 1) % WG_HS_PRIO_MAX;
			dev->prio_count--;
		} else if (dev->hs_count) {
			m = dev->hs_queue[dev->hs_head];
			dev->hs_head = (dev->hs_head + 1) % WG_HS_QUEUE_MAX;
			dev->hs_count--;
		} else {
			pthread_mutex_unlock(&dev->hs_mu);
			return;
		}
		pthread_mutex_unlock(&dev->hs_mu);
		handle_one(dev, &m, queued);
	}
	wg_device_wake(dev); /* more left: come back after the other work */
}

void wg_hs_send_initiation(struct wg_device *dev, struct wg_peer *p, bool retry)
{
	uint8_t msg[WG_INITIATION_LEN];
	union wg_endpoint ep;
	uint64_t now = time_boot_ns();

	pthread_mutex_lock(&p->mu);
	if (!retry)
		p->handshake_attempts = 0;
	if (p->last_initiation_sent && now - p->last_initiation_sent < dev->timing.rekey_timeout) {
		pthread_mutex_unlock(&p->mu);
		return;
	}
	ep = p->endpoint;
	pthread_mutex_unlock(&p->mu);
	if (ep.sa.sa_family == AF_UNSPEC || !dev->has_private)
		return;
	if (wg_noise_create_initiation(dev->crypto, p->noise, msg, time_real_ns()) < 0 ||
	    wg_cookie_add_macs(dev->crypto, p->cookie, msg, sizeof(msg), now) < 0)
		return;
	pthread_mutex_lock(&p->mu);
	p->last_initiation_sent = now;
	wg_timers_any_authenticated_packet_traversal(p, now);
	wg_timers_any_authenticated_packet_sent(p);
	wg_timers_handshake_initiated(p, now);
	pthread_mutex_unlock(&p->mu);
	send_msg(dev, p, &ep, msg, sizeof(msg));
}

int wg_hs_send_data(struct wg_device *dev, struct wg_peer *p, const uint8_t *pkt, size_t len)
{
	uint8_t *buf;
	struct wg_keypair *kp;
	union wg_endpoint ep;
	uint64_t now = time_boot_ns(), counter;
	size_t out;
	int r;

	buf = malloc(WG_TRANSPORT_OVERHEAD + len + WG_PADDING_MULTIPLE);
	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&p->mu);
	kp = wg_peer_send_keypair(p, now);
	ep = p->endpoint;
	pthread_mutex_unlock(&p->mu);
	if (!kp || ep.sa.sa_family == AF_UNSPEC) {
		atomic_store(&p->want_handshake, true);
		r = -ENOKEY;
		goto out;
	}
	r = wg_noise_keypair_next_counter(&kp->kp, &counter);
	if (r < 0) {
		atomic_store(&p->want_handshake, true);
		goto out;
	}
	r = wg_datapath_seal(dev->ctl_aead, kp, counter, pkt, len, atomic_load(&dev->mtu), buf,
			     &out);
	if (r < 0)
		goto out;
	r = wg_datapath_send(dev, &ep, buf, out);
	if (r < 0)
		goto out;
	atomic_fetch_add(&p->tx_bytes, out);
	pthread_mutex_lock(&p->mu);
	wg_timers_any_authenticated_packet_traversal(p, now);
	wg_timers_any_authenticated_packet_sent(p);
	if (len)
		wg_timers_data_sent(p, now);
	pthread_mutex_unlock(&p->mu);
out:
	free(buf);
	return r;
}

void wg_hs_flush_staged(struct wg_device *dev, struct wg_peer *p)
{
	for (;;) {
		struct wg_staged *s;

		pthread_mutex_lock(&p->mu);
		if (!p->staged_count || !wg_peer_send_keypair(p, time_boot_ns())) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		s = p->staged[p->staged_head];
		p->staged[p->staged_head] = NULL;
		p->staged_head = (p->staged_head + 1) % WG_MAX_STAGED_PACKETS;
		p->staged_count--;
		pthread_mutex_unlock(&p->mu);
		wg_hs_send_data(dev, p, s->data, s->len);
		free(s);
	}
}
