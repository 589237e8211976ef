/* Peers: creation and removal, the three keypair slots, the endpoint, and the
 * packets staged while no session exists. Locking rules: device_priv.h. */
#include "wg/device_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int wg_peer_new(struct wg_device *dev, const uint8_t pub[WG_KEY_LEN], struct wg_peer **out)
{
	struct wg_peer *p;
	int r;

	if (dev->n_peers >= WG_MAX_PEERS)
		return -ENOSPC;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dev = dev;
	memcpy(p->public_key, pub, WG_KEY_LEN);
	pthread_mutex_init(&p->mu, NULL);
	r = wg_noise_peer_new(dev->local, pub, p, &p->noise);
	if (r < 0)
		goto fail;
	r = wg_cookie_maker_new(dev->crypto, pub, &p->cookie);
	if (r < 0)
		goto fail_noise;
	p->next = dev->peers;
	dev->peers = p;
	dev->n_peers++;
	*out = p;
	return 0;

fail_noise:
	wg_noise_peer_free(p->noise);
fail:
	pthread_mutex_destroy(&p->mu);
	free(p);
	return r;
}

struct wg_peer *wg_peer_find(struct wg_device *dev, const uint8_t pub[WG_KEY_LEN])
{
	for (struct wg_peer *p = dev->peers; p; p = p->next)
		if (memcmp(p->public_key, pub, WG_KEY_LEN) == 0)
			return p;
	return NULL;
}

void wg_keypair_free(struct wg_device *dev, struct wg_keypair *kp)
{
	if (!kp)
		return;
	wg_index_remove(dev->index, kp->kp.local_index);
	wg_noise_keypair_wipe(&kp->kp);
	wg_wipe(kp, sizeof(*kp));
	free(kp);
}

void wg_peer_reap(struct wg_peer *p)
{
	struct wg_keypair *kp, *next;

	pthread_mutex_lock(&p->mu);
	kp = p->graveyard;
	p->graveyard = NULL;
	pthread_mutex_unlock(&p->mu);
	for (; kp; kp = next) {
		next = kp->next_dead;
		wg_keypair_free(p->dev, kp);
	}
}

void wg_peer_purge_staged(struct wg_peer *p)
{
	while (p->staged_count) {
		free(p->staged[p->staged_head]);
		p->staged[p->staged_head] = NULL;
		p->staged_head = (p->staged_head + 1) % WG_MAX_STAGED_PACKETS;
		p->staged_count--;
	}
}

void wg_peer_zero_keys(struct wg_peer *p)
{
	struct wg_keypair *dead[3];

	pthread_mutex_lock(&p->mu);
	dead[0] = p->cur;
	dead[1] = p->prev;
	dead[2] = p->next_kp;
	p->cur = p->prev = p->next_kp = NULL;
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < 3; i++)
		wg_keypair_free(p->dev, dead[i]);
	wg_peer_reap(p);
	wg_noise_peer_clear(p->noise);
}

void wg_peer_free(struct wg_peer *p)
{
	wg_peer_zero_keys(p);
	pthread_mutex_lock(&p->mu);
	wg_peer_purge_staged(p);
	pthread_mutex_unlock(&p->mu);
	wg_cookie_maker_free(p->cookie);
	wg_noise_peer_free(p->noise);
	pthread_mutex_destroy(&p->mu);
	wg_wipe(p, sizeof(*p));
	free(p);
}

void wg_peer_remove(struct wg_device *dev, struct wg_peer *p)
{
	for (struct wg_peer **pp = &dev->peers; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			dev->n_peers--;
			break;
		}
	}
	wg_allowedips_remove_peer(dev->aips, p);
	wg_device_queue_event(dev, WG_EVENT_REMOVED, p->public_key, p->owner);
	wg_peer_free(p);
}

void wg_peer_remove_all(struct wg_device *dev)
{
	while (dev->peers)
		wg_peer_remove(dev, dev->peers);
}

/* As the kernel's add_new_keypair: the initiator uses a new session at once; the
 * responder keeps it in `next` until the initiator proves it has it too. */
int wg_peer_install_keypair(struct wg_peer *p, struct wg_keypair *kp)
{
	struct wg_keypair *drop1 = NULL, *drop2 = NULL;

	pthread_mutex_lock(&p->mu);
	if (kp->kp.is_initiator) {
		if (p->next_kp) {
			drop1 = p->next_kp;
			p->next_kp = NULL;
			drop2 = p->prev;
			p->prev = NULL;
		} else {
			drop1 = p->prev;
			p->prev = p->cur;
		}
		p->cur = kp;
	} else {
		drop1 = p->next_kp;
		p->next_kp = kp;
		drop2 = p->prev;
		p->prev = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	wg_keypair_free(p->dev, drop1);
	wg_keypair_free(p->dev, drop2);
	return 0;
}

void wg_peer_received_with_keypair(struct wg_peer *p, struct wg_keypair *kp)
{
	struct wg_keypair *old;

	if (kp != p->next_kp) /* racy peek; confirmed under the lock below */
		return;
	pthread_mutex_lock(&p->mu);
	if (kp == p->next_kp) {
		old = p->prev;
		p->prev = p->cur;
		p->cur = kp;
		p->next_kp = NULL;
		/* The responder's handshake completes when the initiator first
		 * uses the new session (the kernel's wg_noise_received_with_keypair). */
		wg_timers_handshake_complete(p);
		if (old) {
			/* The TX thread may still hold it this batch: the control
			 * thread frees it under the write lock. */
			atomic_store(&old->recv_valid, false);
			old->next_dead = p->graveyard;
			p->graveyard = old;
		}
		atomic_store(&p->want_staged, true);
	}
	pthread_mutex_unlock(&p->mu);
	if (atomic_load(&p->want_staged))
		wg_device_wake(p->dev);
}

struct wg_keypair *wg_peer_send_keypair(struct wg_peer *p, uint64_t now)
{
	struct wg_keypair *kp = p->cur;

	if (!kp || !atomic_load(&kp->recv_valid))
		return NULL;
	if (now - kp->kp.created >= p->dev->timing.reject_after_time)
		return NULL;
	return kp;
}

void wg_peer_set_endpoint(struct wg_peer *p, const union wg_endpoint *ep)
{
	socklen_t len = ep->sa.sa_family == AF_INET ? sizeof(ep->in4) : sizeof(ep->in6);

	pthread_mutex_lock(&p->mu);
	if (memcmp(&p->endpoint, ep, len) != 0) {
		memset(&p->endpoint, 0, sizeof(p->endpoint));
		memcpy(&p->endpoint, ep, len);
	}
	pthread_mutex_unlock(&p->mu);
}

int wg_peer_stage(struct wg_peer *p, const uint8_t *pkt, size_t len)
{
	struct wg_staged *s;
	unsigned slot;

	s = malloc(sizeof(*s) + len);
	if (!s)
		return -ENOMEM;
	s->len = (uint16_t)len;
	memcpy(s->data, pkt, len);
	/* Full: the oldest packet goes, as the kernel's staged queue does. */
	if (p->staged_count == WG_MAX_STAGED_PACKETS) {
		free(p->staged[p->staged_head]);
		p->staged_head = (p->staged_head + 1) % WG_MAX_STAGED_PACKETS;
		p->staged_count--;
	}
	slot = (p->staged_head + p->staged_count) % WG_MAX_STAGED_PACKETS;
	p->staged[slot] = s;
	p->staged_count++;
	return 0;
}
