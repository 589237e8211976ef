/* WireGuard's per-peer timers (the kernel's timers.c), as deadlines that the
 * control thread checks on every tick. Events are called with peer->mu held.
 * The tick also turns the peers' event bits into the owner's events. */
#include "wg/device_priv.h"

#include "lib/rand.h"
#include "lib/time.h"

uint64_t wg_timers_jitter(struct wg_device *dev)
{
	return rand_u64() % (dev->timing.jitter_max + 1);
}

/* Data sent: expect an answer within keepalive + rekey timeout, else rehandshake. */
void wg_timers_data_sent(struct wg_peer *p, uint64_t now)
{
	if (!p->t_new_handshake)
		p->t_new_handshake = now + p->dev->timing.keepalive_timeout +
				     p->dev->timing.rekey_timeout + wg_timers_jitter(p->dev);
}

/* Data received: answer with a keepalive if we send nothing within 10 s. */
void wg_timers_data_received(struct wg_peer *p, uint64_t now)
{
	if (!p->t_send_keepalive)
		p->t_send_keepalive = now + p->dev->timing.keepalive_timeout;
	else
		p->need_another_keepalive = true;
}

void wg_timers_any_authenticated_packet_sent(struct wg_peer *p)
{
	p->t_send_keepalive = 0;
}

void wg_timers_any_authenticated_packet_received(struct wg_peer *p)
{
	p->t_new_handshake = 0;
}

void wg_timers_any_authenticated_packet_traversal(struct wg_peer *p, uint64_t now)
{
	if (p->keepalive_interval)
		p->t_persistent = now + (uint64_t)p->keepalive_interval * NSEC_PER_SEC;
}

void wg_timers_handshake_initiated(struct wg_peer *p, uint64_t now)
{
	p->t_retransmit = now + p->dev->timing.rekey_timeout + wg_timers_jitter(p->dev);
}

void wg_timers_handshake_complete(struct wg_peer *p)
{
	p->t_retransmit = 0;
	p->handshake_attempts = 0;
	p->sent_lastminute_handshake = false;
	atomic_store(&p->last_handshake_real, time_real_ns());
	atomic_fetch_or(&p->events, WG_PEV_HANDSHAKE);
}

void wg_timers_session_derived(struct wg_peer *p, uint64_t now)
{
	p->t_zero_keys = now + p->dev->timing.zero_keys_after;
}

enum timer_action {
	ACT_RETRANSMIT = 1 << 0,
	ACT_GIVE_UP = 1 << 1,
	ACT_KEEPALIVE = 1 << 2,
	ACT_NEW_HANDSHAKE = 1 << 3,
	ACT_ZERO_KEYS = 1 << 4,
};

/* Decides under mu what is due; the actions run after, without mu. */
static unsigned timers_due(struct wg_peer *p, uint64_t now)
{
	unsigned act = 0;

	if (p->t_retransmit && now >= p->t_retransmit) {
		p->t_retransmit = 0;
		if (p->handshake_attempts > WG_MAX_TIMER_HANDSHAKES) {
			act |= ACT_GIVE_UP;
			atomic_fetch_or(&p->events, WG_PEV_UNRESPONSIVE);
			p->t_send_keepalive = 0;
			wg_peer_purge_staged(p);
			if (!p->t_zero_keys)
				p->t_zero_keys = now + p->dev->timing.zero_keys_after;
		} else {
			p->handshake_attempts++;
			act |= ACT_RETRANSMIT;
		}
	}
	if (p->t_send_keepalive && now >= p->t_send_keepalive) {
		p->t_send_keepalive = 0;
		act |= ACT_KEEPALIVE;
		if (p->need_another_keepalive) {
			p->need_another_keepalive = false;
			p->t_send_keepalive = now + p->dev->timing.keepalive_timeout;
		}
	}
	if (p->t_persistent && now >= p->t_persistent) {
		p->t_persistent = 0;
		if (p->keepalive_interval)
			act |= ACT_KEEPALIVE;
	}
	if (p->t_new_handshake && now >= p->t_new_handshake) {
		p->t_new_handshake = 0;
		act |= ACT_NEW_HANDSHAKE;
	}
	if (p->t_zero_keys && now >= p->t_zero_keys) {
		p->t_zero_keys = 0;
		act |= ACT_ZERO_KEYS;
	}
	return act;
}

void wg_timers_tick(struct wg_device *dev)
{
	uint64_t now = time_boot_ns();

	pthread_rwlock_wrlock(&dev->lock);
	for (struct wg_peer *p = dev->peers; p; p = p->next) {
		unsigned act;

		wg_peer_reap(p);
		pthread_mutex_lock(&p->mu);
		act = timers_due(p, now);
		pthread_mutex_unlock(&p->mu);
		if (act & ACT_ZERO_KEYS) {
			log_debug("%s: peer %02x%02x…: zeroing keys after %llus idle", dev->ifname,
				  p->public_key[0], p->public_key[1],
				  (unsigned long long)(dev->timing.zero_keys_after / NSEC_PER_SEC));
			wg_peer_zero_keys(p);
		}
		if (act & ACT_RETRANSMIT)
			wg_hs_send_initiation(dev, p, true);
		if (act & ACT_NEW_HANDSHAKE)
			wg_hs_send_initiation(dev, p, false);
		if (act & ACT_KEEPALIVE)
			wg_hs_send_data(dev, p, NULL, 0);
		/* Requests from the data path. */
		if (atomic_exchange(&p->want_handshake, false))
			wg_hs_send_initiation(dev, p, false);
		if (atomic_exchange(&p->want_staged, false))
			wg_hs_flush_staged(dev, p);
		if (atomic_exchange(&p->want_keepalive, false))
			wg_hs_send_data(dev, p, NULL, 0);
		/* Last: a handshake completed by the actions above is reported now. */
		if (atomic_load_explicit(&p->events, memory_order_relaxed)) {
			unsigned ev = atomic_exchange(&p->events, 0);

			if (ev & WG_PEV_HANDSHAKE)
				wg_device_queue_event(dev, WG_EVENT_HANDSHAKE, p->public_key,
						      p->owner);
			if (ev & WG_PEV_UNRESPONSIVE)
				wg_device_queue_event(dev, WG_EVENT_UNRESPONSIVE, p->public_key,
						      p->owner);
		}
	}
	pthread_rwlock_unlock(&dev->lock);
}
