/* The WireGuard handshake (noise.c) and its DoS layer (cookie.c): a transcript
 * checked against an independent implementation, round trips, every rejection
 * path (replay, flood, unknown key, lengths, types, bit flips, low-order keys,
 * wrong state) and the cookie exchange with secret rotation. Time is injected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wg/cookie.h"
#include "wg/crypto.h"
#include "wg/noise.h"
#include "wg/wg_wire.h"

/* One end of a tunnel: its identity, its view of the other end, and a toy index
 * table that records what noise.c asks of it. */
struct side {
	struct wg_crypto *c;
	struct noise_local *l;
	struct cookie_checker *ck;
	uint8_t priv[32], pub[32];
	struct noise_peer *peer;	/* the other end */
	struct cookie_maker *maker;	/* macs on messages to the other end */
	uint32_t next_index;
	unsigned assigned, released;
	uint32_t last_released;
};

static const uint8_t src_a[] = { 192, 0, 2, 1, 0x30, 0x39 }; /* 192.0.2.1:12345 */
static const uint8_t src_b[] = { 192, 0, 2, 2, 0x30, 0x39 };
#define T0 (1000 * NSEC_PER_SEC)	/* monotonic start */
#define R0 (1609459200ull * NSEC_PER_SEC + 987654321ull)	/* realtime start */
#define MS NSEC_PER_MSEC
#define SEC NSEC_PER_SEC

static int idx_assign(void *arg, struct noise_peer *p, uint32_t *index)
{
	struct side *s = arg;

	(void)p;
	*index = s->next_index++;
	s->assigned++;
	return 0;
}

static void idx_release(void *arg, struct noise_peer *p, uint32_t index)
{
	struct side *s = arg;

	(void)p;
	s->released++;
	s->last_released = index;
}

static const struct noise_index_ops idx_ops = { idx_assign, idx_release };

static struct noise_peer *lookup(void *arg, const uint8_t pub[32])
{
	struct side *s = arg;
	uint8_t have[32];

	if (!s->peer)
		return NULL;
	wg_noise_peer_remote_public(s->peer, have);
	return memcmp(have, pub, 32) == 0 ? s->peer : NULL;
}

static void side_init(struct side *s, const uint8_t *priv, uint32_t first_index)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(wg_crypto_new(&s->c), 0);
	assert_int_equal(wg_noise_local_new(&s->l), 0);
	if (priv)
		memcpy(s->priv, priv, 32);
	else
		assert_int_equal(wg_key_generate(s->c, s->priv, s->pub), 0);
	assert_int_equal(wg_noise_local_set_private(s->c, s->l, s->priv), 0);
	assert_true(wg_noise_local_public(s->l, s->pub));
	assert_int_equal(wg_cookie_checker_new(s->c, s->pub, &s->ck), 0);
	s->next_index = first_index;
	wg_noise_local_set_index_ops(s->l, &idx_ops, s);
}

static void side_meet(struct side *s, const struct side *other, const uint8_t *psk)
{
	assert_int_equal(wg_noise_peer_new(s->l, other->pub, s, &s->peer), 0);
	wg_noise_peer_set_psk(s->peer, psk);
	assert_int_equal(wg_cookie_maker_new(s->c, other->pub, &s->maker), 0);
}

static void side_free(struct side *s)
{
	wg_noise_peer_free(s->peer);
	wg_cookie_maker_free(s->maker);
	wg_cookie_checker_free(s->ck);
	wg_noise_local_free(s->l);
	wg_crypto_free(s->c);
}

static void pair(struct side *a, struct side *b, const uint8_t *psk)
{
	side_init(a, NULL, 100);
	side_init(b, NULL, 200);
	side_meet(a, b, psk);
	side_meet(b, a, psk);
}

static void unpair(struct side *a, struct side *b)
{
	side_free(a);
	side_free(b);
}

/* s adds its macs to msg for the other end. */
static int macs(struct side *s, uint8_t *msg, size_t len, uint64_t now)
{
	return wg_cookie_add_macs(s->c, s->maker, msg, len, now);
}

/* s's checker answers msg from src with a cookie reply. */
static int reply_to(struct side *s, uint8_t reply[64], const uint8_t *msg, size_t len,
		    const uint8_t *src, uint64_t now)
{
	return wg_cookie_reply_create(s->c, s->ck, reply, msg, len, src, 6, now);
}

/* What s's checker says of msg from src when under load. */
static enum cookie_result loaded(struct side *s, const uint8_t *msg, size_t len,
				 const uint8_t *src, uint64_t now)
{
	return wg_cookie_check(s->c, s->ck, msg, len, src, 6, true, now);
}

/* a -> b: a complete initiation with macs. */
static void make_init(struct side *a, uint8_t msg[148], uint64_t real, uint64_t now)
{
	assert_int_equal(wg_noise_create_initiation(a->c, a->peer, msg, real), 0);
	assert_int_equal(macs(a, msg, 148, now), 0);
	assert_int_equal(wg_noise_peer_state(a->peer), NOISE_CREATED_INITIATION);
}

/* Consumes an initiation, macs unchecked. */
static int raw_init(struct side *b, const uint8_t *msg, size_t len, uint64_t now)
{
	struct noise_peer *p = (struct noise_peer *)1;
	int err = wg_noise_consume_initiation(b->c, b->l, msg, len, now, lookup, b, &p);

	assert_ptr_equal(p, err ? NULL : b->peer);
	return err;
}

/* mac1 (as the device does, not under load), then Noise. */
static int take_init(struct side *b, const uint8_t msg[148], uint64_t now)
{
	if (wg_cookie_check(b->c, b->ck, msg, 148, src_a, 6, false, now) == COOKIE_INVALID)
		return -EPERM;
	return raw_init(b, msg, 148, now);
}

static void make_resp(struct side *b, uint8_t msg[92], uint64_t now)
{
	assert_int_equal(wg_noise_create_response(b->c, b->peer, msg), 0);
	assert_int_equal(macs(b, msg, 92, now), 0);
}

static int take_resp(struct side *a, const uint8_t msg[92], uint64_t now)
{
	if (wg_cookie_check(a->c, a->ck, msg, 92, src_b, 6, false, now) == COOKIE_INVALID)
		return -EPERM;
	return wg_noise_consume_response(a->c, a->peer, msg, 92);
}

/* Runs a whole handshake a -> b and checks the keypairs mirror each other. */
static void handshake(struct side *a, struct side *b, uint64_t real, uint64_t now,
		      struct noise_keypair *ka, struct noise_keypair *kb)
{
	uint8_t init[148], resp[92];

	make_init(a, init, real, now);
	assert_int_equal(take_init(b, init, now), 0);
	assert_int_equal(wg_noise_peer_state(b->peer), NOISE_CONSUMED_INITIATION);
	make_resp(b, resp, now);
	assert_int_equal(wg_noise_peer_state(b->peer), NOISE_CREATED_RESPONSE);
	assert_int_equal(take_resp(a, resp, now), 0);
	assert_int_equal(wg_noise_peer_state(a->peer), NOISE_CONSUMED_RESPONSE);
	assert_int_equal(wg_noise_begin_session(a->c, a->peer, ka, now), 0);
	assert_int_equal(wg_noise_begin_session(b->c, b->peer, kb, now), 0);
	assert_int_equal(wg_noise_peer_state(a->peer), NOISE_ZEROED);
	assert_int_equal(wg_noise_peer_state(b->peer), NOISE_ZEROED);
	assert_memory_equal(ka->send_key, kb->recv_key, 32);
	assert_memory_equal(ka->recv_key, kb->send_key, 32);
	assert_memory_not_equal(ka->send_key, ka->recv_key, 32);
	assert_int_equal(ka->local_index, kb->remote_index);
	assert_int_equal(ka->remote_index, kb->local_index);
	assert_true(ka->is_initiator);
	assert_false(kb->is_initiator);
	assert_true(ka->created == now && kb->created == now);
}

/* Sends a transport payload each way with the session keys. */
static void transport_both_ways(struct side *a, struct side *b, struct noise_keypair *ka,
				struct noise_keypair *kb)
{
	static const char ping[] = "ping over the tunnel";
	uint8_t buf[sizeof(ping)], tag[16];
	const size_t n = sizeof(buf);
	uint64_t ctr;

	for (int dir = 0; dir < 2; dir++) {
		struct noise_keypair *tx = dir ? kb : ka, *rx = dir ? ka : kb;
		struct wg_aead *sa = wg_crypto_aead(dir ? b->c : a->c);
		struct wg_aead *ra = wg_crypto_aead(dir ? a->c : b->c);
		const uint8_t *sk = tx->send_key, *rk = rx->recv_key;

		for (uint64_t i = 0; i < 3; i++) {
			assert_int_equal(wg_noise_keypair_next_counter(tx, &ctr), 0);
			assert_true(ctr == i);
			memcpy(buf, ping, n);
			assert_int_equal(wg_aead_seal(sa, sk, ctr, NULL, 0, buf, n, tag), 0);
			assert_int_equal(wg_aead_open(ra, rk, ctr, NULL, 0, buf, n, tag), 0);
			assert_memory_equal(buf, ping, n);
		}
		/* The sender's own receive key must not open it. */
		assert_int_equal(wg_aead_seal(sa, tx->send_key, 9, NULL, 0, buf, n, tag), 0);
		assert_int_equal(wg_aead_open(ra, rx->send_key, 9, NULL, 0, buf, n, tag), -EBADMSG);
	}
}

static void assert_hex(const uint8_t *got, const char *hex, size_t n)
{
	uint8_t want[WG_INITIATION_LEN];

	assert_true(strlen(hex) >= 2 * n && n <= sizeof(want));
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		want[i] = (uint8_t)v;
	}
	assert_memory_equal(got, want, n);
}

/* A scripted randomness source: hands out exactly the bytes queued. */
struct script {
	uint8_t bytes[64];
	size_t len, pos;
};

static int script_rng(void *arg, void *buf, size_t len)
{
	struct script *s = arg;

	if (len > s->len - s->pos)
		return -EIO;
	memcpy(buf, s->bytes + s->pos, len);
	s->pos += len;
	return 0;
}

/* Expected bytes and keys come from an independent implementation of the same
 * handshake (Python: hashlib.blake2s, hmac, pyca/cryptography X25519 and
 * ChaCha20Poly1305), run with these exact keys, ephemerals, indices, time.
 * The PSK enters only at the response: both runs share one initiation. */
static const char kat_init[] =
	"01000000443322115651098f1681fd1b4212036c3c3ab99e8d051eef37f4920b8e482ba3e56a7129"
	"8d2196a2c52905525e43ae4ee3f533d94b49bac92ac54e53a63e80fe61992ce82b56bae7a1a140a0"
	"1162e803f20e06dc7c06178c41eba7969436a501ea27b9747f873899b0fb64dcc84b0a03cbdda076"
	"7893757cd41398824c6a606a00000000000000000000000000000000";
/* Per PSK (none, then 32 x 0xaa): response || T1 || T2 || "ping" sealed with T1. */
static const char *const kat[2] = {
	"020000008877665544332211e6c595d7351396cfa1d4526b496a8536e06691e4a5474fc6f2846a3d"
	"0a62981a58dc7f1d56313153b3b421242411d78a15aa972a8e82ac4f206dfc271c88b7e400000000"
	"0000000000000000000000002ba5d30a05517c737f243df4f8957c4a612ddc308d02591a99f6d1d8"
	"94b4c6b9e220b0049f4fea8031ae7c7af37246e1ed989cd889706c194c99b04e90fd24496abac66c"
	"1b27c728f238a19cf93c6a3952e467e7",
	"020000008877665544332211e6c595d7351396cfa1d4526b496a8536e06691e4a5474fc6f2846a3d"
	"0a62981a360f01c9ef4493ce0d28b2ea01aef5c49ce46ad4e3d5fea1ec0b1034af2c587700000000"
	"000000000000000000000000c171190241aab34e2ce5c901964eba3ab38b088c9a7e2ade512ff624"
	"5ea03b9d7fd8588a124d3f14cfca91420095caaed4b5a394c341cf8463c45714b8fc7c02ddec7aa7"
	"c854471ffc931303f80f19ea62bf5268",
};
static const char kat_si_pub[] = "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c";
static const char kat_sr_pub[] = "5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b";

static void kat_run(const uint8_t *psk, int k)
{
	struct side a, b;
	struct script ra = { .len = 32 }, rb = { .len = 32 };
	uint8_t priv[32], init[148], resp[92], want[20], buf[4], tag[16];
	struct noise_keypair ka, kb;

	for (int i = 0; i < 32; i++) {
		priv[i] = (uint8_t)(i + 1);
		ra.bytes[i] = (uint8_t)(0xe0 + i % 16);
		rb.bytes[i] = (uint8_t)(0x90 + i % 7);
	}
	side_init(&a, priv, 0x11223344);
	for (int i = 0; i < 32; i++)
		priv[i] = (uint8_t)(i + 33);
	side_init(&b, priv, 0x55667788);
	side_meet(&a, &b, psk);
	side_meet(&b, &a, psk);
	assert_hex(a.pub, kat_si_pub, 32);
	assert_hex(b.pub, kat_sr_pub, 32);

	wg_crypto_set_rng(a.c, script_rng, &ra);
	wg_crypto_set_rng(b.c, script_rng, &rb);
	assert_int_equal(wg_noise_create_initiation(a.c, a.peer, init, R0), 0);
	assert_int_equal(macs(&a, init, sizeof(init), T0), 0);
	assert_hex(init, kat_init, 148);
	assert_int_equal(take_init(&b, init, T0), 0);
	assert_int_equal(wg_noise_create_response(b.c, b.peer, resp), 0);
	assert_int_equal(macs(&b, resp, sizeof(resp), T0), 0);
	assert_hex(resp, kat[k], 92);
	assert_int_equal(take_resp(&a, resp, T0), 0);
	assert_int_equal(wg_noise_begin_session(a.c, a.peer, &ka, T0), 0);
	assert_int_equal(wg_noise_begin_session(b.c, b.peer, &kb, T0), 0);
	assert_hex(ka.send_key, kat[k] + 2 * 92, 32);
	assert_hex(kb.recv_key, kat[k] + 2 * 92, 32);
	assert_hex(ka.recv_key, kat[k] + 2 * 124, 32);
	assert_hex(kb.send_key, kat[k] + 2 * 124, 32);
	memcpy(buf, "ping", 4);
	assert_int_equal(wg_aead_seal(wg_crypto_aead(a.c), ka.send_key, 0, NULL, 0, buf, 4, tag),
			 0);
	memcpy(want, buf, 4);
	memcpy(want + 4, tag, 16);
	assert_hex(want, kat[k] + 2 * 156, 20);
	assert_int_equal(ra.pos, 32); /* exactly one ephemeral each, nothing else */
	assert_int_equal(rb.pos, 32);
	unpair(&a, &b);
}

static void test_handshake_kat(void **state)
{
	uint8_t psk[32];

	(void)state;
	kat_run(NULL, 0);
	memset(psk, 0xaa, sizeof(psk));
	kat_run(psk, 1);
}

static void test_round_trips(void **state)
{
	uint8_t psk[32], init[148], resp[92];
	struct noise_keypair ka, kb, ka2, kb2;
	struct side a, b;

	(void)state;
	for (int i = 0; i < 8; i++) {
		memset(psk, i, sizeof(psk));
		pair(&a, &b, i % 2 ? psk : NULL);
		handshake(&a, &b, R0, T0, &ka, &kb);
		transport_both_ways(&a, &b, &ka, &kb);
		/* A second handshake, the other way round: fresh keys and indices. */
		handshake(&b, &a, R0 + SEC, T0 + SEC, &kb2, &ka2);
		transport_both_ways(&b, &a, &kb2, &ka2);
		assert_memory_not_equal(ka.send_key, ka2.send_key, 32);
		assert_int_not_equal(ka.local_index, ka2.local_index);
		wg_noise_keypair_wipe(&ka);
		assert_true(wg_is_zero(ka.send_key, 32) && wg_is_zero(ka.recv_key, 32));
		unpair(&a, &b);
	}
	/* Mismatched PSKs: the responder cannot tell (the PSK enters only at the
	 * response); the initiator rejects the response and keeps waiting. */
	memset(psk, 7, sizeof(psk));
	pair(&a, &b, NULL);
	wg_noise_peer_set_psk(b.peer, psk);
	make_init(&a, init, R0, T0);
	assert_int_equal(take_init(&b, init, T0), 0);
	make_resp(&b, resp, T0);
	assert_int_equal(take_resp(&a, resp, T0), -EBADMSG);
	assert_int_equal(wg_noise_peer_state(a.peer), NOISE_CREATED_INITIATION);
	wg_noise_peer_set_psk(a.peer, psk);
	assert_int_equal(take_resp(&a, resp, T0), 0);
	unpair(&a, &b);
}

static void test_initiation_replay_and_flood(void **state)
{
	struct side a, b;
	uint8_t old[148], init[148], same_slot[148];

	(void)state;
	pair(&a, &b, NULL);
	make_init(&a, old, R0, T0);
	make_init(&a, init, R0 + SEC, T0);
	assert_int_equal(take_init(&b, init, T0), 0);
	/* The very same message again, long after the flood window. */
	assert_int_equal(take_init(&b, init, T0 + SEC), -EALREADY);
	/* A genuine but older initiation delivered late. */
	assert_int_equal(take_init(&b, old, T0 + 2 * SEC), -EALREADY);
	/* A new one inside the same whitened 2^24 ns slot is not newer either. */
	make_init(&a, same_slot, R0 + SEC + 1, T0);
	assert_int_equal(take_init(&b, same_slot, T0 + 3 * SEC), -EALREADY);
	/* The responder's handshake was untouched by all that: it still answers. */
	assert_int_equal(wg_noise_peer_state(b.peer), NOISE_CONSUMED_INITIATION);
	make_init(&a, init, R0 + 2 * SEC, T0);
	assert_int_equal(take_init(&b, init, T0 + 4 * SEC), 0);
	/* Flood: newer timestamps, but less than 20 ms after the last consumed. */
	make_init(&a, old, R0 + 3 * SEC, T0);
	assert_int_equal(take_init(&b, old, T0 + 4 * SEC + 20 * MS - 1), -EBUSY);
	/* The refused one left no trace: the same message is fine 20 ms on. */
	assert_int_equal(take_init(&b, old, T0 + 4 * SEC + 20 * MS), 0);
	make_init(&a, init, R0 + 4 * SEC, T0);
	assert_int_equal(take_init(&b, init, T0 + 4 * SEC + 39 * MS), -EBUSY);
	assert_int_equal(take_init(&b, init, T0 + 4 * SEC + 40 * MS), 0);
	unpair(&a, &b);
}

static void test_lengths_and_types(void **state)
{
	struct side a, b;
	uint8_t init[148], resp[92], big[256], reply[64];

	(void)state;
	pair(&a, &b, NULL);
	make_init(&a, init, R0, T0);
	memset(big, 0, sizeof(big));
	memcpy(big, init, sizeof(init));
	for (size_t len = 0; len < sizeof(big); len++) {
		if (len == 148)
			continue;
		assert_int_equal(raw_init(&b, big, len, T0), -EINVAL);
		assert_int_equal(loaded(&b, big, len, src_a, T0), COOKIE_INVALID);
		assert_int_equal(wg_noise_consume_response(a.c, a.peer, big, len), -EINVAL);
		assert_int_equal(wg_cookie_consume_reply(a.maker, big, len, T0), -EINVAL);
	}
	/* Type word: each of the 4 bytes, every value but the right one. */
	for (int byte = 0; byte < 4; byte++) {
		for (int v = 0; v < 256; v++) {
			memcpy(big, init, 148);
			big[byte] = (uint8_t)v;
			if (big[0] == 1 && !big[1] && !big[2] && !big[3])
				continue;
			assert_int_equal(raw_init(&b, big, 148, T0), -EINVAL);
			assert_int_not_equal(wg_wire_classify(big, 148), WG_MSG_INITIATION);
		}
	}
	assert_int_equal(take_init(&b, init, T0), 0);
	make_resp(&b, resp, T0);
	for (int byte = 0; byte < 4; byte++) {
		memcpy(big, resp, 92);
		big[byte] ^= byte ? 0x01 : 0x03; /* type 1, or nonzero reserved */
		assert_int_equal(wg_noise_consume_response(a.c, a.peer, big, 92), -EINVAL);
	}
	/* A response is not a cookie reply, nor the reverse. */
	assert_int_equal(wg_cookie_consume_reply(a.maker, resp, 92, T0), -EINVAL);
	assert_int_equal(reply_to(&b, reply, init, 148, src_a, T0), 0);
	assert_int_equal(wg_noise_consume_response(a.c, a.peer, reply, 64), -EINVAL);
	assert_int_equal(macs(&a, reply, 64, T0), -EINVAL);
	assert_int_equal(take_resp(&a, resp, T0), 0); /* none of that hurt */
	unpair(&a, &b);
}

static void test_initiation_bit_flips(void **state)
{
	struct side a, b;
	uint8_t init[148], m[148];

	(void)state;
	pair(&a, &b, NULL);
	make_init(&a, init, R0, T0);
	for (size_t bit = 0; bit < 148 * 8; bit++) {
		size_t byte = bit / 8;
		int err;

		memcpy(m, init, sizeof(m));
		m[byte] ^= (uint8_t)(1u << (bit % 8));
		if (byte < WG_INIT_OFF_MAC2) /* mac1 covers everything before mac2 */
			assert_int_equal(take_init(&b, m, T0), -EPERM);
		if (byte >= WG_INIT_OFF_MAC1)
			continue;
		if (byte < 4) { /* no longer an initiation at all */
			assert_int_equal(macs(&a, m, 148, T0), -EINVAL);
			assert_int_equal(raw_init(&b, m, 148, T0), -EINVAL);
			continue;
		}
		/* Reseal mac1 over the flipped body to reach Noise itself. The sender
		 * index is the one field Noise does not authenticate (mac1 does). */
		if (byte >= WG_INIT_OFF_SENDER && byte < WG_INIT_OFF_EPHEMERAL)
			continue;
		assert_int_equal(macs(&a, m, 148, T0), 0);
		err = take_init(&b, m, T0);
		assert_true(err == -EBADMSG || err == -EINVAL);
	}
	/* Nothing was accepted, so the genuine message still is. */
	assert_int_equal(wg_noise_peer_state(b.peer), NOISE_ZEROED);
	assert_int_equal(macs(&a, init, 148, T0), 0);
	assert_int_equal(take_init(&b, init, T0), 0);
	unpair(&a, &b);
}

static void test_response_bit_flips(void **state)
{
	struct side a, b;
	uint8_t init[148], resp[92], m[92];
	struct noise_keypair ka, kb;

	(void)state;
	pair(&a, &b, NULL);
	make_init(&a, init, R0, T0);
	assert_int_equal(take_init(&b, init, T0), 0);
	make_resp(&b, resp, T0);
	for (size_t bit = 0; bit < 92 * 8; bit++) {
		size_t byte = bit / 8;

		memcpy(m, resp, sizeof(m));
		m[byte] ^= (uint8_t)(1u << (bit % 8));
		if (byte < WG_RESP_OFF_MAC2)
			assert_int_equal(take_resp(&a, m, T0), -EPERM); /* mac1 */
		if (byte >= WG_RESP_OFF_MAC1 ||
		    (byte >= WG_RESP_OFF_SENDER && byte < WG_RESP_OFF_RECEIVER))
			continue; /* macs; sender index (not a Noise field) */
		if (byte < 4) {
			assert_int_equal(wg_noise_consume_response(a.c, a.peer, m, 92), -EINVAL);
			continue;
		}
		assert_int_equal(macs(&b, m, 92, T0), 0);
		if (byte >= WG_RESP_OFF_EPHEMERAL)
			assert_int_not_equal(take_resp(&a, m, T0), 0);
		else
			assert_int_equal(take_resp(&a, m, T0), -EINVAL); /* receiver index */
		/* A bad response never disturbs the pending handshake. */
		assert_int_equal(wg_noise_peer_state(a.peer), NOISE_CREATED_INITIATION);
	}
	assert_int_equal(take_resp(&a, resp, T0), 0);
	assert_int_equal(wg_noise_begin_session(a.c, a.peer, &ka, T0), 0);
	assert_int_equal(wg_noise_begin_session(b.c, b.peer, &kb, T0), 0);
	transport_both_ways(&a, &b, &ka, &kb);
	unpair(&a, &b);
}

/* Keys that must not get anywhere: unknown statics, low-order points. */
static void test_bad_keys(void **state)
{
	static const uint8_t p1[32] = { 1 };
	uint8_t zero[32] = { 0 }, init[148], resp[92], m[148];
	struct side a, b, c;
	struct noise_peer *p;

	(void)state;
	pair(&a, &b, NULL);
	side_init(&c, NULL, 300);
	side_meet(&c, &b, NULL); /* c knows b, b does not know c */
	make_init(&c, init, R0, T0);
	assert_int_equal(take_init(&b, init, T0), -ENOENT);
	/* A lookup handing back another interface's peer is refused too. */
	assert_int_equal(wg_noise_consume_initiation(b.c, b.l, init, 148, T0, lookup, &c, &p),
			 -ENOENT);
	assert_null(p);
	side_free(&c);
	/* A peer whose static key is low order is refused outright. */
	assert_int_equal(wg_noise_peer_new(a.l, zero, NULL, &p), -EINVAL);
	assert_null(p);
	assert_int_equal(wg_noise_peer_new(a.l, p1, NULL, &p), -EINVAL);
	/* An all-zero ephemeral in an initiation (macs resealed): es is zero. */
	make_init(&a, init, R0, T0);
	memcpy(m, init, 148);
	memset(m + WG_INIT_OFF_EPHEMERAL, 0, 32);
	assert_int_equal(macs(&a, m, 148, T0), 0);
	assert_int_equal(take_init(&b, m, T0), -EINVAL);
	/* ... and in a response: ee is zero; the pending handshake survives. */
	assert_int_equal(macs(&a, init, 148, T0), 0);
	assert_int_equal(take_init(&b, init, T0), 0);
	make_resp(&b, resp, T0);
	memcpy(m, resp, 92);
	memcpy(m + WG_RESP_OFF_EPHEMERAL, p1, 32);
	assert_int_equal(macs(&b, m, 92, T0), 0);
	assert_int_equal(take_resp(&a, m, T0), -EINVAL);
	assert_int_equal(wg_noise_peer_state(a.peer), NOISE_CREATED_INITIATION);
	assert_int_equal(take_resp(&a, resp, T0), 0);
	unpair(&a, &b);
}

static void test_state_machine(void **state)
{
	struct side a, b;
	uint8_t init[148], resp[92];
	struct noise_keypair kp, ka, kb;
	uint32_t idx;

	(void)state;
	pair(&a, &b, NULL);
	assert_int_equal(wg_noise_create_response(b.c, b.peer, resp), -EINVAL);
	assert_int_equal(wg_noise_begin_session(a.c, a.peer, &kp, T0), -EINVAL);
	make_init(&a, init, R0, T0);
	assert_int_equal(wg_noise_begin_session(a.c, a.peer, &kp, T0), -EINVAL);
	assert_int_equal(wg_noise_create_response(a.c, a.peer, resp), -EINVAL);
	assert_int_equal(take_init(&b, init, T0), 0);
	assert_int_equal(wg_noise_begin_session(b.c, b.peer, &kp, T0), -EINVAL);
	make_resp(&b, resp, T0);
	assert_int_equal(wg_noise_create_response(b.c, b.peer, resp), -EINVAL);
	/* A response is only good for the initiator, once. */
	assert_int_equal(take_resp(&b, resp, T0), -EPERM); /* mac1 is for a's key */
	assert_int_equal(wg_noise_consume_response(b.c, b.peer, resp, 92), -EINVAL);
	assert_int_equal(take_resp(&a, resp, T0), 0);
	assert_int_equal(take_resp(&a, resp, T0), -EINVAL);
	assert_int_equal(wg_noise_begin_session(a.c, a.peer, &kp, T0), 0);
	assert_int_equal(wg_noise_begin_session(a.c, a.peer, &kp, T0), -EINVAL);
	assert_int_equal(take_resp(&a, resp, T0), -EINVAL);
	unpair(&a, &b);

	/* What the index table hears along the way. */
	pair(&a, &b, NULL);
	assert_false(wg_noise_peer_local_index(a.peer, &idx));
	make_init(&a, init, R0, T0);
	assert_true(wg_noise_peer_local_index(a.peer, &idx));
	assert_int_equal(idx, 100);
	make_init(&a, init, R0 + SEC, T0); /* a retry replaces the index */
	assert_int_equal(a.assigned, 2);
	assert_int_equal(a.released, 1);
	assert_int_equal(a.last_released, 100);
	assert_int_equal(take_init(&b, init, T0), 0);
	assert_int_equal(b.assigned, 0); /* consuming takes no index */
	make_resp(&b, resp, T0);
	assert_int_equal(take_resp(&a, resp, T0), 0);
	assert_int_equal(wg_noise_begin_session(a.c, a.peer, &ka, T0), 0);
	assert_int_equal(wg_noise_begin_session(b.c, b.peer, &kb, T0), 0);
	/* The handshake's index became the keypair's, unreleased. */
	assert_int_equal(ka.local_index, 101);
	assert_int_equal(kb.local_index, 200);
	assert_int_equal(ka.remote_index, 200);
	assert_int_equal(a.released, 1);
	assert_int_equal(b.released, 0);
	assert_false(wg_noise_peer_local_index(a.peer, &idx));
	/* A crossing initiation keeps our index until we respond with a new one. */
	make_init(&a, init, R0 + 2 * SEC, T0 + SEC);
	make_init(&b, init, R0 + 2 * SEC, T0 + SEC);
	assert_int_equal(take_init(&a, init, T0 + SEC), 0);
	assert_true(wg_noise_peer_local_index(a.peer, &idx));
	assert_int_equal(idx, 102);
	make_resp(&a, resp, T0 + SEC);
	assert_int_equal(a.last_released, 102);
	wg_noise_peer_clear(a.peer);
	assert_int_equal(a.last_released, 103);
	assert_int_equal(a.released, 3);
	wg_noise_peer_free(b.peer); /* frees release too */
	b.peer = NULL;
	assert_int_equal(b.last_released, 201);
	unpair(&a, &b);
}

static void test_no_identity(void **state)
{
	struct wg_crypto *c;
	struct noise_local *l;
	struct noise_peer *p, *got;
	struct cookie_checker *ck;
	uint8_t priv[32], pub[32], msg[148] = { 1 };

	(void)state;
	assert_int_equal(wg_crypto_new(&c), 0);
	assert_int_equal(wg_noise_local_new(&l), 0);
	assert_false(wg_noise_local_public(l, pub));
	assert_int_equal(wg_key_generate(c, priv, pub), 0);
	assert_int_equal(wg_noise_peer_new(l, pub, NULL, &p), 0); /* allowed, unusable */
	assert_int_equal(wg_noise_create_initiation(c, p, msg, R0), -ENOKEY);
	assert_int_equal(wg_noise_consume_initiation(c, l, msg, 148, T0, lookup, NULL, &got),
			 -ENOKEY);
	assert_int_equal(wg_cookie_checker_new(c, NULL, &ck), 0);
	assert_int_equal(wg_cookie_check(c, ck, msg, 148, src_a, 6, false, T0), COOKIE_INVALID);
	assert_int_equal(wg_cookie_reply_create(c, ck, msg, msg, 148, src_a, 6, T0), -EINVAL);
	/* Keys arrive: the peer works once precomputed. */
	assert_int_equal(wg_key_generate(c, priv, pub), 0);
	assert_int_equal(wg_noise_local_set_private(c, l, priv), 0);
	assert_int_equal(wg_noise_create_initiation(c, p, msg, R0), -ENOKEY);
	assert_int_equal(wg_noise_peer_precompute(p), 0);
	assert_int_equal(wg_noise_create_initiation(c, p, msg, R0), 0);
	/* Removing the key makes everything refuse again. */
	assert_int_equal(wg_noise_local_set_private(c, l, NULL), 0);
	assert_int_equal(wg_noise_peer_precompute(p), 0);
	assert_int_equal(wg_noise_peer_state(p), NOISE_ZEROED);
	assert_int_equal(wg_noise_create_initiation(c, p, msg, R0), -ENOKEY);
	wg_cookie_checker_free(ck);
	wg_noise_peer_free(p);
	wg_noise_local_free(l);
	wg_crypto_free(c);
}

static void test_cookie_flow(void **state)
{
	struct side a, b, c;
	uint8_t init[148], reply[64], reply2[64], resp[92];
	enum cookie_result res;
	uint32_t sender;

	(void)state;
	pair(&a, &b, NULL);
	make_init(&a, init, R0, T0);
	/* Under load without a cookie: mac1 only; answer with a cookie reply. */
	assert_int_equal(loaded(&b, init, 148, src_a, T0), COOKIE_VALID_MAC1_ONLY);
	assert_int_equal(reply_to(&b, reply, init, 148, src_a, T0), 0);
	assert_int_equal(wg_wire_classify(reply, 64), WG_MSG_COOKIE_REPLY);
	memcpy(&sender, init + WG_INIT_OFF_SENDER, 4);
	assert_memory_equal(reply + WG_COOKIE_OFF_RECEIVER, &sender, 4);
	/* Tampered replies fail; the good one is taken once. */
	memcpy(reply2, reply, 64);
	reply2[40] ^= 1;
	assert_int_equal(wg_cookie_consume_reply(a.maker, reply2, 64, T0), -EBADMSG);
	memcpy(reply2, reply, 64);
	reply2[10] ^= 1; /* nonce */
	assert_int_equal(wg_cookie_consume_reply(a.maker, reply2, 64, T0), -EBADMSG);
	/* no mac1 sent */
	assert_int_equal(wg_cookie_consume_reply(b.maker, reply, 64, T0), -EINVAL);
	assert_int_equal(wg_cookie_consume_reply(a.maker, reply, 64, T0), 0);
	assert_int_equal(wg_cookie_consume_reply(a.maker, reply, 64, T0), -EINVAL);
	/* The retry carries mac2, valid from the same source only. */
	make_init(&a, init, R0 + SEC, T0 + 5 * SEC);
	assert_false(wg_is_zero(init + WG_INIT_OFF_MAC2, 16));
	assert_int_equal(loaded(&b, init, 148, src_a, T0 + 5 * SEC), COOKIE_VALID_MAC2);
	assert_int_equal(loaded(&b, init, 148, src_b, T0 + 5 * SEC), COOKIE_VALID_MAC1_ONLY);
	res = wg_cookie_check(b.c, b.ck, init, 148, src_a, 5, true, T0 + 5 * SEC); /* 1 byte off */
	assert_int_equal(res, COOKIE_VALID_MAC1_ONLY);
	res = wg_cookie_check(b.c, b.ck, init, 148, src_a, 6, false, T0 + 5 * SEC); /* no load */
	assert_int_equal(res, COOKIE_VALID_MAC1_ONLY);
	init[WG_INIT_OFF_MAC2] ^= 1;
	assert_int_equal(loaded(&b, init, 148, src_a, T0 + 5 * SEC), COOKIE_VALID_MAC1_ONLY);
	init[WG_INIT_OFF_MAC2] ^= 1;
	assert_int_equal(take_init(&b, init, T0 + 5 * SEC), 0);
	/* A reply to a message we have since superseded does not authenticate. */
	assert_int_equal(reply_to(&b, reply, init, 148, src_a, T0 + 6 * SEC), 0);
	make_init(&a, init, R0 + 2 * SEC, T0 + 6 * SEC);
	assert_int_equal(wg_cookie_consume_reply(a.maker, reply, 64, T0 + 6 * SEC), -EBADMSG);
	/* The cookie works on responses too (b -> a). */
	make_resp(&b, resp, T0 + 6 * SEC);
	assert_int_equal(loaded(&a, resp, 92, src_b, T0 + 6 * SEC), COOKIE_VALID_MAC1_ONLY);
	assert_int_equal(reply_to(&a, reply, resp, 92, src_b, T0 + 6 * SEC), 0);
	assert_int_equal(wg_cookie_consume_reply(b.maker, reply, 64, T0 + 6 * SEC), 0);
	assert_int_equal(macs(&b, resp, 92, T0 + 7 * SEC), 0);
	assert_int_equal(loaded(&a, resp, 92, src_b, T0 + 7 * SEC), COOKIE_VALID_MAC2);
	/* mac1 for the wrong responder key: invalid, whatever the cookie. */
	side_init(&c, NULL, 300);
	assert_int_equal(loaded(&c, init, 148, src_a, T0), COOKIE_INVALID);
	side_free(&c);
	unpair(&a, &b);
}

static void test_cookie_expiry_and_rotation(void **state)
{
	struct side a, b;
	uint8_t init[148], reply[64];

	(void)state;
	pair(&a, &b, NULL);
	/* The checker's secret is born at T0. */
	make_init(&a, init, R0, T0);
	assert_int_equal(reply_to(&b, reply, init, 148, src_a, T0), 0);
	assert_int_equal(wg_cookie_consume_reply(a.maker, reply, 64, T0), 0);
	/* The maker uses its cookie for 115 s, then sends zeros. */
	assert_int_equal(macs(&a, init, 148, T0 + 115 * SEC - 1), 0);
	assert_int_equal(loaded(&b, init, 148, src_a, T0 + 115 * SEC - 1), COOKIE_VALID_MAC2);
	assert_int_equal(macs(&a, init, 148, T0 + 115 * SEC), 0);
	assert_true(wg_is_zero(init + WG_INIT_OFF_MAC2, 16));
	/* A cookie fetched at T0+110 s is fresh for the maker but comes from the
	 * secret born at T0, which the checker replaces at T0+120 s. */
	assert_int_equal(reply_to(&b, reply, init, 148, src_a, T0 + 110 * SEC), 0);
	assert_int_equal(wg_cookie_consume_reply(a.maker, reply, 64, T0 + 110 * SEC), 0);
	assert_int_equal(macs(&a, init, 148, T0 + 120 * SEC - 1), 0);
	assert_int_equal(loaded(&b, init, 148, src_a, T0 + 120 * SEC - 1), COOKIE_VALID_MAC2);
	assert_int_equal(macs(&a, init, 148, T0 + 120 * SEC), 0);
	assert_false(wg_is_zero(init + WG_INIT_OFF_MAC2, 16));
	assert_int_equal(loaded(&b, init, 148, src_a, T0 + 120 * SEC), COOKIE_VALID_MAC1_ONLY);
	/* A new reply from the new secret restores mac2. */
	assert_int_equal(reply_to(&b, reply, init, 148, src_a, T0 + 121 * SEC), 0);
	assert_int_equal(wg_cookie_consume_reply(a.maker, reply, 64, T0 + 121 * SEC), 0);
	assert_int_equal(macs(&a, init, 148, T0 + 122 * SEC), 0);
	assert_int_equal(loaded(&b, init, 148, src_a, T0 + 122 * SEC), COOKIE_VALID_MAC2);
	unpair(&a, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_kat),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_initiation_replay_and_flood),
		cmocka_unit_test(test_lengths_and_types),
		cmocka_unit_test(test_initiation_bit_flips),
		cmocka_unit_test(test_response_bit_flips),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_state_machine),
		cmocka_unit_test(test_no_identity),
		cmocka_unit_test(test_cookie_flow),
		cmocka_unit_test(test_cookie_expiry_and_rotation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
