#include "wg/cookie.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cursor.h"

struct cookie_checker {
	bool has_key;
	uint8_t mac1_key[WG_HASH_LEN];	/* HASH(LABEL_MAC1 || our public key) */
	uint8_t cookie_key[WG_HASH_LEN];	/* HASH(LABEL_COOKIE || our public key) */
	bool has_secret;
	uint8_t secret[WG_HASH_LEN];	/* R: rotated every 120 s, lazily */
	uint64_t secret_born;
};

struct cookie_maker {
	uint8_t mac1_key[WG_HASH_LEN];	/* HASH(LABEL_MAC1 || peer's public key) */
	uint8_t cookie_key[WG_HASH_LEN];	/* HASH(LABEL_COOKIE || peer's public key) */
	bool cookie_valid;
	uint8_t cookie[WG_COOKIE_LEN];
	uint64_t cookie_born;
	/* A reply is authenticated against the mac1 it answers: only the last one we
	 * sent is acceptable, and only once. */
	bool have_sent_mac1;
	uint8_t last_mac1[WG_MAC_LEN];
};

static int derive_keys(struct wg_crypto *c, const uint8_t pub[WG_KEY_LEN],
		       uint8_t mac1_key[WG_HASH_LEN], uint8_t cookie_key[WG_HASH_LEN])
{
	int err = wg_hash(c, mac1_key, WG_LABEL_MAC1, sizeof(WG_LABEL_MAC1) - 1, pub, WG_KEY_LEN);

	return err ? err : wg_hash(c, cookie_key, WG_LABEL_COOKIE, sizeof(WG_LABEL_COOKIE) - 1,
				   pub, WG_KEY_LEN);
}

static bool is_handshake(const uint8_t *msg, size_t len)
{
	int type = wg_wire_classify(msg, len);

	return type == WG_MSG_INITIATION || type == WG_MSG_RESPONSE;
}

int wg_cookie_checker_new(struct wg_crypto *c, const uint8_t local_pub[WG_KEY_LEN],
			  struct cookie_checker **out)
{
	struct cookie_checker *ck = calloc(1, sizeof(*ck));
	int err;

	*out = NULL;
	if (!ck)
		return -ENOMEM;
	err = wg_cookie_checker_set_key(c, ck, local_pub);
	if (err) {
		wg_cookie_checker_free(ck);
		return err;
	}
	*out = ck;
	return 0;
}

int wg_cookie_checker_set_key(struct wg_crypto *c, struct cookie_checker *ck,
			      const uint8_t local_pub[WG_KEY_LEN])
{
	int err = 0;

	ck->has_key = false;
	if (local_pub) {
		err = derive_keys(c, local_pub, ck->mac1_key, ck->cookie_key);
		ck->has_key = err == 0;
	}
	if (!ck->has_key) {
		wg_wipe(ck->mac1_key, sizeof(ck->mac1_key));
		wg_wipe(ck->cookie_key, sizeof(ck->cookie_key));
	}
	return err;
}

void wg_cookie_checker_free(struct cookie_checker *ck)
{
	if (!ck)
		return;
	wg_wipe(ck, sizeof(*ck));
	free(ck);
}

/* cookie = MAC(R, src), with R renewed once it is 120 s old. */
static int make_cookie(struct wg_crypto *c, struct cookie_checker *ck,
		       uint8_t cookie[WG_COOKIE_LEN], const void *src, size_t srclen, uint64_t now)
{
	int err;

	if (!ck->has_secret || now - ck->secret_born >= WG_COOKIE_SECRET_MAX_AGE ||
	    now < ck->secret_born) {
		err = wg_random(c, ck->secret, sizeof(ck->secret));
		if (err)
			return err;
		ck->has_secret = true;
		ck->secret_born = now;
	}
	return wg_mac(c, cookie, WG_COOKIE_LEN, ck->secret, sizeof(ck->secret), src, srclen);
}

enum cookie_result wg_cookie_check(struct wg_crypto *c, struct cookie_checker *ck,
				   const uint8_t *msg, size_t len, const void *src, size_t srclen,
				   bool check_mac2, uint64_t now)
{
	uint8_t mac[WG_MAC_LEN], cookie[WG_COOKIE_LEN];
	enum cookie_result ret = COOKIE_INVALID;

	if (!ck->has_key || !is_handshake(msg, len))
		return COOKIE_INVALID;
	if (wg_mac(c, mac, WG_MAC_LEN, ck->mac1_key, sizeof(ck->mac1_key), msg,
		   WG_MAC1_OFF(len)) ||
	    !wg_equal(mac, msg + WG_MAC1_OFF(len), WG_MAC_LEN))
		goto out;
	ret = COOKIE_VALID_MAC1_ONLY;
	if (!check_mac2)
		goto out;
	if (make_cookie(c, ck, cookie, src, srclen, now) ||
	    wg_mac(c, mac, WG_MAC_LEN, cookie, sizeof(cookie), msg, WG_MAC2_OFF(len)))
		goto out;
	if (wg_equal(mac, msg + WG_MAC2_OFF(len), WG_MAC_LEN))
		ret = COOKIE_VALID_MAC2;
out:
	wg_wipe(cookie, sizeof(cookie));
	return ret;
}

int wg_cookie_reply_create(struct wg_crypto *c, struct cookie_checker *ck,
			   uint8_t out[WG_COOKIE_REPLY_LEN], const uint8_t *msg, size_t len,
			   const void *src, size_t srclen, uint64_t now)
{
	uint8_t cookie[WG_COOKIE_LEN], nonce[WG_COOKIE_NONCE_LEN];
	struct cursor in, w;
	uint32_t sender;
	int err;

	if (!ck->has_key || !is_handshake(msg, len))
		return -EINVAL;
	cur_init_ro(&in, msg, len);
	cur_seek(&in, WG_OFF_SENDER);
	sender = cur_le32(&in);
	err = wg_random(c, nonce, sizeof(nonce));
	if (!err)
		err = make_cookie(c, ck, cookie, src, srclen, now);
	if (err)
		goto out;
	cur_init(&w, out, WG_COOKIE_REPLY_LEN);
	cur_put_le32(&w, WG_MSG_COOKIE_REPLY);
	cur_put_le32(&w, sender);
	cur_put_bytes(&w, nonce, sizeof(nonce));
	if (in.err || w.err) {
		err = -EINVAL;
		goto out;
	}
	/* The AD binds the reply to the message it answers. */
	err = wg_xaead_seal(out + WG_COOKIE_OFF_COOKIE, cookie, sizeof(cookie),
			    msg + WG_MAC1_OFF(len), WG_MAC_LEN, nonce, ck->cookie_key);
out:
	wg_wipe(cookie, sizeof(cookie));
	return err;
}

int wg_cookie_maker_new(struct wg_crypto *c, const uint8_t peer_pub[WG_KEY_LEN],
			struct cookie_maker **out)
{
	struct cookie_maker *m = calloc(1, sizeof(*m));
	int err;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	err = derive_keys(c, peer_pub, m->mac1_key, m->cookie_key);
	if (err) {
		wg_cookie_maker_free(m);
		return err;
	}
	*out = m;
	return 0;
}

void wg_cookie_maker_free(struct cookie_maker *m)
{
	if (!m)
		return;
	wg_wipe(m, sizeof(*m));
	free(m);
}

int wg_cookie_add_macs(struct wg_crypto *c, struct cookie_maker *m, uint8_t *msg, size_t len,
		       uint64_t now)
{
	uint8_t *mac1, *mac2;
	int err;

	/* The length first: the mac offsets count back from the end, and a short
	 * message would put them before the buffer. */
	if (!is_handshake(msg, len))
		return -EINVAL;
	mac1 = msg + WG_MAC1_OFF(len);
	mac2 = msg + WG_MAC2_OFF(len);
	err = wg_mac(c, mac1, WG_MAC_LEN, m->mac1_key, sizeof(m->mac1_key), msg,
		     WG_MAC1_OFF(len));
	if (err)
		return err;
	memcpy(m->last_mac1, mac1, WG_MAC_LEN);
	m->have_sent_mac1 = true;
	/* Stop 5 s before the responder's secret could rotate under the cookie. */
	if (m->cookie_valid && now >= m->cookie_born &&
	    now - m->cookie_born < WG_COOKIE_SECRET_MAX_AGE - WG_COOKIE_SECRET_LATENCY)
		return wg_mac(c, mac2, WG_MAC_LEN, m->cookie, sizeof(m->cookie), msg,
			      WG_MAC2_OFF(len));
	memset(mac2, 0, WG_MAC_LEN);
	return 0;
}

int wg_cookie_consume_reply(struct cookie_maker *m, const uint8_t *msg, size_t len, uint64_t now)
{
	uint8_t cookie[WG_COOKIE_LEN];
	int err;

	if (wg_wire_classify(msg, len) != WG_MSG_COOKIE_REPLY || !m->have_sent_mac1)
		return -EINVAL;
	err = wg_xaead_open(cookie, msg + WG_COOKIE_OFF_COOKIE, WG_COOKIE_LEN + WG_TAG_LEN,
			    m->last_mac1, WG_MAC_LEN, msg + WG_COOKIE_OFF_NONCE, m->cookie_key);
	if (!err) {
		memcpy(m->cookie, cookie, sizeof(cookie));
		m->cookie_born = now;
		m->cookie_valid = true;
		m->have_sent_mac1 = false;
	}
	wg_wipe(cookie, sizeof(cookie));
	return err;
}
