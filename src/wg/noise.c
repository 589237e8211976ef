/* Noise_IKpsk2 as WireGuard runs it (the WireGuard paper's messages, and the
 * kernel's noise.c). Every step works on local copies and commits to the peer only
 * once the whole message has checked out, so a forged or corrupt message never
 * disturbs a pending handshake; every secret on the stack is wiped on the way
 * out. */
#include "wg/noise.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cursor.h"

struct noise_local {
	bool has_identity;
	uint8_t priv[WG_KEY_LEN];
	uint8_t pub[WG_KEY_LEN];
	uint8_t c0[WG_HASH_LEN];	/* HASH(CONSTRUCTION) */
	uint8_t h0[WG_HASH_LEN];	/* HASH(C0 || IDENTIFIER) */
	uint8_t h_self[WG_HASH_LEN];	/* HASH(H0 || our public key): a responder's H */
	struct noise_index_ops ops;
	void *ops_arg;
};

struct noise_handshake {
	enum noise_state state;
	bool has_index;
	uint32_t local_index;
	uint32_t remote_index;
	uint8_t eph_priv[WG_KEY_LEN];
	uint8_t remote_eph[WG_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];
	uint8_t ck[WG_HASH_LEN];
};

struct noise_peer {
	struct noise_local *local;
	void *user;
	uint8_t remote_pub[WG_KEY_LEN];
	bool ss_valid;
	uint8_t ss[WG_KEY_LEN];	/* DH(S_local, S_remote), fixed per key pair */
	uint8_t psk[WG_KEY_LEN];
	uint8_t latest_ts[WG_TAI64N_LEN];	/* newest TAI64N consumed */
	bool has_consumed;
	uint64_t last_consumed;	/* when the last initiation was consumed */
	struct noise_handshake hs;
};

/* H = HASH(H || data) */
static int mix_hash(struct wg_crypto *c, uint8_t h[WG_HASH_LEN], const void *data, size_t len)
{
	return wg_hash(c, h, h, WG_HASH_LEN, data, len);
}

/* (C, k) = KDF2(C, dh); k may be NULL for KDF1. */
static int mix_key(struct wg_crypto *c, uint8_t ck[WG_HASH_LEN], uint8_t *key, const uint8_t *dh)
{
	return wg_kdf(c, ck, key, NULL, ck, WG_HASH_LEN, dh, WG_KEY_LEN);
}

/* DH then mix: an all-zero DH (low-order point) is an error, not a key. */
static int mix_dh(struct wg_crypto *c, uint8_t ck[WG_HASH_LEN], uint8_t *key,
		  const uint8_t priv[WG_KEY_LEN], const uint8_t pub[WG_KEY_LEN])
{
	uint8_t dh[WG_KEY_LEN];
	int err = wg_dh(dh, priv, pub);

	if (!err)
		err = mix_key(c, ck, key, dh);
	wg_wipe(dh, sizeof(dh));
	return err;
}

/* C = KDF1(C, e); H = HASH(H || e) */
static int mix_ephemeral(struct wg_crypto *c, uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN],
			 const uint8_t e[WG_KEY_LEN])
{
	int err = wg_kdf(c, ck, NULL, NULL, ck, WG_HASH_LEN, e, WG_KEY_LEN);

	return err ? err : mix_hash(c, h, e, WG_KEY_LEN);
}

/* dst = AEAD(key, 0, src, H) (len + 16 bytes); H = HASH(H || dst) */
static int seal_and_hash(struct wg_crypto *c, uint8_t *dst, const uint8_t *src, size_t len,
			 const uint8_t key[WG_KEY_LEN], uint8_t h[WG_HASH_LEN])
{
	int err;

	if (len)
		memcpy(dst, src, len);
	err = wg_aead_seal(wg_crypto_aead(c), key, 0, h, WG_HASH_LEN, dst, len, dst + len);
	return err ? err : mix_hash(c, h, dst, len + WG_TAG_LEN);
}

/* dst = AEAD-open(key, 0, src, H) (src is len + 16 bytes); H = HASH(H || src) */
static int open_and_hash(struct wg_crypto *c, uint8_t *dst, const uint8_t *src, size_t len,
			 const uint8_t key[WG_KEY_LEN], uint8_t h[WG_HASH_LEN])
{
	int err;

	if (len)
		memcpy(dst, src, len);
	err = wg_aead_open(wg_crypto_aead(c), key, 0, h, WG_HASH_LEN, dst, len, src + len);
	return err ? err : mix_hash(c, h, src, len + WG_TAG_LEN);
}

static int index_assign(struct wg_crypto *c, struct noise_peer *p, uint32_t *index)
{
	struct noise_local *l = p->local;

	if (l->ops.assign)
		return l->ops.assign(l->ops_arg, p, index);
	return wg_random(c, index, sizeof(*index));
}

static void index_release(struct noise_peer *p)
{
	struct noise_local *l = p->local;

	if (p->hs.has_index && l->ops.release)
		l->ops.release(l->ops_arg, p, p->hs.local_index);
	p->hs.has_index = false;
}

/* Replaces p's handshake with hs, which takes the freshly assigned index. */
static void handshake_commit(struct noise_peer *p, struct noise_handshake *hs, uint32_t index,
			     enum noise_state state)
{
	index_release(p);
	p->hs = *hs;
	p->hs.has_index = true;
	p->hs.local_index = index;
	p->hs.state = state;
}

int wg_noise_local_new(struct noise_local **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void wg_noise_local_free(struct noise_local *l)
{
	if (!l)
		return;
	wg_wipe(l, sizeof(*l));
	free(l);
}

int wg_noise_local_set_private(struct wg_crypto *c, struct noise_local *l,
			       const uint8_t priv[WG_KEY_LEN])
{
	int err;

	l->has_identity = false;
	wg_wipe(l->priv, sizeof(l->priv));
	memset(l->pub, 0, sizeof(l->pub));
	if (!priv)
		return 0;
	memcpy(l->priv, priv, WG_KEY_LEN);
	wg_key_clamp(l->priv);
	err = wg_key_public(l->pub, l->priv);
	if (!err)
		err = wg_hash(c, l->c0, WG_CONSTRUCTION, sizeof(WG_CONSTRUCTION) - 1, NULL, 0);
	if (!err)
		err = wg_hash(c, l->h0, l->c0, WG_HASH_LEN, WG_IDENTIFIER,
			      sizeof(WG_IDENTIFIER) - 1);
	if (!err)
		err = wg_hash(c, l->h_self, l->h0, WG_HASH_LEN, l->pub, WG_KEY_LEN);
	if (err) {
		wg_wipe(l->priv, sizeof(l->priv));
		return err;
	}
	l->has_identity = true;
	return 0;
}

bool wg_noise_local_public(const struct noise_local *l, uint8_t pub[WG_KEY_LEN])
{
	if (l->has_identity)
		memcpy(pub, l->pub, WG_KEY_LEN);
	return l->has_identity;
}

void wg_noise_local_set_index_ops(struct noise_local *l, const struct noise_index_ops *ops,
				  void *arg)
{
	l->ops = ops ? *ops : (struct noise_index_ops){ 0 };
	l->ops_arg = ops ? arg : NULL;
}

int wg_noise_peer_new(struct noise_local *l, const uint8_t remote_pub[WG_KEY_LEN], void *user,
		      struct noise_peer **out)
{
	struct noise_peer *p = calloc(1, sizeof(*p));
	int err;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->local = l;
	p->user = user;
	memcpy(p->remote_pub, remote_pub, WG_KEY_LEN);
	err = wg_noise_peer_precompute(p);
	if (err) {
		wg_noise_peer_free(p);
		return err;
	}
	*out = p;
	return 0;
}

void wg_noise_peer_free(struct noise_peer *p)
{
	if (!p)
		return;
	index_release(p);
	wg_wipe(p, sizeof(*p));
	free(p);
}

int wg_noise_peer_precompute(struct noise_peer *p)
{
	int err;

	wg_noise_peer_clear(p);
	p->ss_valid = false;
	wg_wipe(p->ss, sizeof(p->ss));
	if (!p->local->has_identity)
		return 0;
	err = wg_dh(p->ss, p->local->priv, p->remote_pub);
	p->ss_valid = err == 0;
	return err;
}

void wg_noise_peer_set_psk(struct noise_peer *p, const uint8_t psk[WG_KEY_LEN])
{
	if (psk)
		memcpy(p->psk, psk, WG_KEY_LEN);
	else
		wg_wipe(p->psk, sizeof(p->psk));
}

void wg_noise_peer_remote_public(const struct noise_peer *p, uint8_t pub[WG_KEY_LEN])
{
	memcpy(pub, p->remote_pub, WG_KEY_LEN);
}

void *wg_noise_peer_user(const struct noise_peer *p)
{
	return p->user;
}

enum noise_state wg_noise_peer_state(const struct noise_peer *p)
{
	return p->hs.state;
}

bool wg_noise_peer_local_index(const struct noise_peer *p, uint32_t *index)
{
	if (p->hs.has_index)
		*index = p->hs.local_index;
	return p->hs.has_index;
}

void wg_noise_peer_clear(struct noise_peer *p)
{
	index_release(p);
	wg_wipe(&p->hs, sizeof(p->hs));
	p->hs.state = NOISE_ZEROED;
}

int wg_noise_create_initiation(struct wg_crypto *c, struct noise_peer *p,
			       uint8_t msg[WG_INITIATION_LEN], uint64_t real_ns)
{
	struct noise_local *l = p->local;
	struct noise_handshake hs = { 0 };
	uint8_t key[WG_KEY_LEN], eph_pub[WG_KEY_LEN], ts[WG_TAI64N_LEN];
	uint8_t *enc_static, *enc_ts;
	struct cursor w;
	uint32_t index;
	int err;

	if (!l->has_identity || !p->ss_valid)
		return -ENOKEY;
	cur_init(&w, msg, WG_INITIATION_LEN);
	cur_put_le32(&w, WG_MSG_INITIATION);
	cur_put_le32(&w, 0); /* sender index, once assigned */
	cur_put_zero(&w, WG_KEY_LEN); /* ephemeral, once generated */
	enc_static = cur_reserve(&w, WG_KEY_LEN + WG_TAG_LEN);
	enc_ts = cur_reserve(&w, WG_TAI64N_LEN + WG_TAG_LEN);
	cur_put_zero(&w, 2 * WG_MAC_LEN); /* mac1, mac2: wg_cookie_add_macs */
	if (w.err)
		return w.err;

	memcpy(hs.ck, l->c0, WG_HASH_LEN);
	err = wg_hash(c, hs.hash, l->h0, WG_HASH_LEN, p->remote_pub, WG_KEY_LEN);
	/* e */
	if (!err)
		err = wg_key_generate(c, hs.eph_priv, eph_pub);
	if (!err)
		err = mix_ephemeral(c, hs.ck, hs.hash, eph_pub);
	/* es, s */
	if (!err)
		err = mix_dh(c, hs.ck, key, hs.eph_priv, p->remote_pub);
	if (!err)
		err = seal_and_hash(c, enc_static, l->pub, WG_KEY_LEN, key, hs.hash);
	/* ss (precomputed), {t} */
	if (!err)
		err = mix_key(c, hs.ck, key, p->ss);
	if (!err) {
		wg_tai64n(ts, real_ns);
		err = seal_and_hash(c, enc_ts, ts, WG_TAI64N_LEN, key, hs.hash);
	}
	if (!err)
		err = index_assign(c, p, &index);
	if (err)
		goto out;
	cur_seek(&w, WG_INIT_OFF_SENDER);
	cur_put_le32(&w, index);
	cur_put_bytes(&w, eph_pub, WG_KEY_LEN);
	handshake_commit(p, &hs, index, NOISE_CREATED_INITIATION);
out:
	wg_wipe(&hs, sizeof(hs));
	wg_wipe(key, sizeof(key));
	return err;
}

int wg_noise_consume_initiation(struct wg_crypto *c, struct noise_local *l, const uint8_t *msg,
				size_t len, uint64_t now, noise_lookup_fn lookup, void *arg,
				struct noise_peer **out)
{
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], key[WG_KEY_LEN];
	uint8_t s_pub[WG_KEY_LEN], ts[WG_TAI64N_LEN];
	const uint8_t *e, *enc_static, *enc_ts;
	struct noise_peer *p = NULL;
	struct cursor r;
	uint32_t sender;
	int err;

	*out = NULL;
	if (!l->has_identity)
		return -ENOKEY;
	if (wg_wire_classify(msg, len) != WG_MSG_INITIATION)
		return -EINVAL;
	cur_init_ro(&r, msg, len);
	cur_skip(&r, 4);
	sender = cur_le32(&r);
	e = cur_take(&r, WG_KEY_LEN);
	enc_static = cur_take(&r, WG_KEY_LEN + WG_TAG_LEN);
	enc_ts = cur_take(&r, WG_TAI64N_LEN + WG_TAG_LEN);
	if (r.err)
		return -EINVAL;

	memcpy(ck, l->c0, WG_HASH_LEN);
	memcpy(h, l->h_self, WG_HASH_LEN);
	/* e, es, s */
	err = mix_ephemeral(c, ck, h, e);
	if (!err)
		err = mix_dh(c, ck, key, l->priv, e);
	if (!err)
		err = open_and_hash(c, s_pub, enc_static, WG_KEY_LEN, key, h);
	if (err)
		goto out;
	p = lookup(arg, s_pub);
	if (!p || p->local != l) {
		err = -ENOENT;
		goto out;
	}
	if (!p->ss_valid) {
		err = -ENOKEY;
		goto out;
	}
	/* ss, {t} */
	err = mix_key(c, ck, key, p->ss);
	if (!err)
		err = open_and_hash(c, ts, enc_ts, WG_TAI64N_LEN, key, h);
	if (err)
		goto out;
	/* Only a strictly newer timestamp, and at most 50 per second: replayed or
	 * flooded initiations must not reset a peer's session. Timestamps are
	 * authenticated by now, so plain memcmp is fine. */
	if (memcmp(ts, p->latest_ts, WG_TAI64N_LEN) <= 0) {
		err = -EALREADY;
		goto out;
	}
	if (p->has_consumed && now < p->last_consumed + WG_INITIATION_MIN_INTERVAL) {
		err = -EBUSY;
		goto out;
	}
	memcpy(p->latest_ts, ts, WG_TAI64N_LEN);
	p->last_consumed = now;
	p->has_consumed = true;
	/* A crossing initiation of ours is superseded; its index stays registered
	 * until create_response replaces it. */
	wg_wipe(p->hs.eph_priv, sizeof(p->hs.eph_priv));
	memcpy(p->hs.remote_eph, e, WG_KEY_LEN);
	memcpy(p->hs.ck, ck, WG_HASH_LEN);
	memcpy(p->hs.hash, h, WG_HASH_LEN);
	p->hs.remote_index = sender;
	p->hs.state = NOISE_CONSUMED_INITIATION;
	*out = p;
out:
	wg_wipe(ck, sizeof(ck));
	wg_wipe(h, sizeof(h));
	wg_wipe(key, sizeof(key));
	return err;
}

/* (C, tau, k) = KDF3(C, Q); H = HASH(H || tau) */
static int mix_psk(struct wg_crypto *c, uint8_t ck[WG_HASH_LEN], uint8_t h[WG_HASH_LEN],
		   uint8_t key[WG_KEY_LEN], const uint8_t psk[WG_KEY_LEN])
{
	uint8_t tau[WG_HASH_LEN];
	int err = wg_kdf(c, ck, tau, key, ck, WG_HASH_LEN, psk, WG_KEY_LEN);

	if (!err)
		err = mix_hash(c, h, tau, sizeof(tau));
	wg_wipe(tau, sizeof(tau));
	return err;
}

int wg_noise_create_response(struct wg_crypto *c, struct noise_peer *p,
			     uint8_t msg[WG_RESPONSE_LEN])
{
	struct noise_handshake hs;
	uint8_t key[WG_KEY_LEN], eph_pub[WG_KEY_LEN];
	uint8_t *enc_empty;
	struct cursor w;
	uint32_t index;
	int err;

	if (p->hs.state != NOISE_CONSUMED_INITIATION)
		return -EINVAL;
	if (!p->local->has_identity)
		return -ENOKEY;
	cur_init(&w, msg, WG_RESPONSE_LEN);
	cur_put_le32(&w, WG_MSG_RESPONSE);
	cur_put_le32(&w, 0); /* sender index, once assigned */
	cur_put_le32(&w, p->hs.remote_index);
	cur_put_zero(&w, WG_KEY_LEN); /* ephemeral, once generated */
	enc_empty = cur_reserve(&w, WG_TAG_LEN);
	cur_put_zero(&w, 2 * WG_MAC_LEN);
	if (w.err)
		return w.err;

	hs = p->hs;
	/* e, ee, se, psk, {} */
	err = wg_key_generate(c, hs.eph_priv, eph_pub);
	if (!err)
		err = mix_ephemeral(c, hs.ck, hs.hash, eph_pub);
	if (!err)
		err = mix_dh(c, hs.ck, NULL, hs.eph_priv, hs.remote_eph);
	if (!err)
		err = mix_dh(c, hs.ck, NULL, hs.eph_priv, p->remote_pub);
	if (!err)
		err = mix_psk(c, hs.ck, hs.hash, key, p->psk);
	if (!err)
		err = seal_and_hash(c, enc_empty, NULL, 0, key, hs.hash);
	if (!err)
		err = index_assign(c, p, &index);
	if (err)
		goto out;
	cur_seek(&w, WG_RESP_OFF_SENDER);
	cur_put_le32(&w, index);
	cur_seek(&w, WG_RESP_OFF_EPHEMERAL);
	cur_put_bytes(&w, eph_pub, WG_KEY_LEN);
	handshake_commit(p, &hs, index, NOISE_CREATED_RESPONSE);
out:
	wg_wipe(&hs, sizeof(hs));
	wg_wipe(key, sizeof(key));
	return err;
}

int wg_noise_consume_response(struct wg_crypto *c, struct noise_peer *p, const uint8_t *msg,
			      size_t len)
{
	struct noise_local *l = p->local;
	uint8_t ck[WG_HASH_LEN], h[WG_HASH_LEN], key[WG_KEY_LEN];
	const uint8_t *e, *enc_empty;
	uint32_t sender, receiver;
	struct cursor r;
	int err;

	if (wg_wire_classify(msg, len) != WG_MSG_RESPONSE)
		return -EINVAL;
	cur_init_ro(&r, msg, len);
	cur_skip(&r, 4);
	sender = cur_le32(&r);
	receiver = cur_le32(&r);
	e = cur_take(&r, WG_KEY_LEN);
	enc_empty = cur_take(&r, WG_TAG_LEN);
	if (r.err)
		return -EINVAL;
	if (p->hs.state != NOISE_CREATED_INITIATION || !p->hs.has_index ||
	    p->hs.local_index != receiver)
		return -EINVAL;
	if (!l->has_identity)
		return -ENOKEY;

	memcpy(ck, p->hs.ck, WG_HASH_LEN);
	memcpy(h, p->hs.hash, WG_HASH_LEN);
	/* e, ee, se, psk, {} */
	err = mix_ephemeral(c, ck, h, e);
	if (!err)
		err = mix_dh(c, ck, NULL, p->hs.eph_priv, e);
	if (!err)
		err = mix_dh(c, ck, NULL, l->priv, e);
	if (!err)
		err = mix_psk(c, ck, h, key, p->psk);
	if (!err)
		err = open_and_hash(c, NULL, enc_empty, 0, key, h);
	if (err)
		goto out;
	wg_wipe(p->hs.eph_priv, sizeof(p->hs.eph_priv));
	memcpy(p->hs.remote_eph, e, WG_KEY_LEN);
	memcpy(p->hs.ck, ck, WG_HASH_LEN);
	memcpy(p->hs.hash, h, WG_HASH_LEN);
	p->hs.remote_index = sender;
	p->hs.state = NOISE_CONSUMED_RESPONSE;
out:
	wg_wipe(ck, sizeof(ck));
	wg_wipe(h, sizeof(h));
	wg_wipe(key, sizeof(key));
	return err;
}

int wg_noise_begin_session(struct wg_crypto *c, struct noise_peer *p, struct noise_keypair *kp,
			   uint64_t now)
{
	uint8_t t1[WG_KEY_LEN], t2[WG_KEY_LEN];
	bool initiator;
	int err;

	if (p->hs.state == NOISE_CONSUMED_RESPONSE)
		initiator = true;
	else if (p->hs.state == NOISE_CREATED_RESPONSE)
		initiator = false;
	else
		return -EINVAL;
	/* (T1, T2) = KDF2(C, empty): the initiator sends with T1. */
	err = wg_kdf(c, t1, t2, NULL, p->hs.ck, WG_HASH_LEN, NULL, 0);
	if (err)
		goto out;
	memcpy(kp->send_key, initiator ? t1 : t2, WG_KEY_LEN);
	memcpy(kp->recv_key, initiator ? t2 : t1, WG_KEY_LEN);
	kp->local_index = p->hs.local_index;
	kp->remote_index = p->hs.remote_index;
	kp->created = now;
	kp->is_initiator = initiator;
	atomic_store_explicit(&kp->send_counter, 0, memory_order_relaxed);
	/* The index now names the keypair: the device re-types it, not released. */
	p->hs.has_index = false;
	wg_noise_peer_clear(p);
out:
	wg_wipe(t1, sizeof(t1));
	wg_wipe(t2, sizeof(t2));
	return err;
}

int wg_noise_keypair_next_counter(struct noise_keypair *kp, uint64_t *counter)
{
	uint64_t n = atomic_fetch_add_explicit(&kp->send_counter, 1, memory_order_relaxed);

	if (n >= WG_REJECT_AFTER_MESSAGES) {
		/* Pin it so a later wrap can never hand out a used nonce. */
		atomic_store_explicit(&kp->send_counter, WG_REJECT_AFTER_MESSAGES,
				      memory_order_relaxed);
		return -EKEYEXPIRED;
	}
	*counter = n;
	return 0;
}

void wg_noise_keypair_wipe(struct noise_keypair *kp)
{
	wg_wipe(kp->send_key, sizeof(kp->send_key));
	wg_wipe(kp->recv_key, sizeof(kp->recv_key));
	kp->local_index = 0;
	kp->remote_index = 0;
	kp->created = 0;
	atomic_store_explicit(&kp->send_counter, WG_REJECT_AFTER_MESSAGES, memory_order_relaxed);
}
