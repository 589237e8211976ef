/* Fuzzes the handshake receivers: wg_noise_consume_initiation, wg_noise_consume_response,
 * wg_cookie_check / wg_cookie_reply_create / wg_cookie_consume_reply, and the transport
 * AEAD, between two fixed identities with deterministic randomness.
 *
 * Input: one flags byte, then the message.
 *   bits 0-1  target: 0 initiation to R, 1 response to I's pending initiation,
 *             2 cookie reply to I, 3 transport packet after a full handshake
 *   bit 2     XOR the message onto the genuine one (reaches deep paths quickly)
 *   bit 3     reseal mac1/mac2 over the fuzzed body (to get past mac1)
 *   bit 4     R is under load (mac2 checked, cookie replies sent)
 *   bit 5     both sides use a PSK; bit 6: only R does (mismatch)
 *   bit 7     target 0: the initiation comes from X, a stranger to R
 *
 * Oracle, besides the sanitizers: whatever Noise accepts must equal the genuine
 * message in every authenticated byte; an accepted cookie must validate. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wg/cookie.h"
#include "wg/crypto.h"
#include "wg/noise.h"
#include "wg/wg_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	F_TARGET = 3, F_XOR = 1 << 2, F_MACS = 1 << 3, F_LOAD = 1 << 4, F_PSK = 1 << 5,
	F_PSK_R = 1 << 6, F_STRANGER = 1 << 7,
};

#define NOW (1000 * NSEC_PER_SEC)
#define REAL (1609459200ull * NSEC_PER_SEC)
static const uint8_t src[] = { 198, 51, 100, 7, 0xca, 0xfe };

struct end {
	struct noise_local *l;
	struct noise_peer *peer;
	struct cookie_checker *ck;
	struct cookie_maker *maker;
	uint8_t pub[WG_KEY_LEN];
};

/* splitmix64: reproducible "randomness" so every input replays exactly. */
static int fuzz_rng(void *arg, void *buf, size_t len)
{
	uint64_t *st = arg;
	uint8_t *p = buf;

	while (len) {
		uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
		size_t n = len < 8 ? len : 8;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(p, &z, n);
		p += n;
		len -= n;
	}
	return 0;
}

static struct noise_peer *lookup(void *arg, const uint8_t pub[WG_KEY_LEN])
{
	struct end *e = arg;
	uint8_t have[WG_KEY_LEN];

	wg_noise_peer_remote_public(e->peer, have);
	return memcmp(have, pub, WG_KEY_LEN) == 0 ? e->peer : NULL;
}

static int end_init(struct wg_crypto *c, struct end *e, uint8_t seed)
{
	uint8_t priv[WG_KEY_LEN];

	memset(e, 0, sizeof(*e));
	memset(priv, seed, sizeof(priv));
	if (wg_noise_local_new(&e->l) || wg_noise_local_set_private(c, e->l, priv))
		return -1;
	wg_noise_local_public(e->l, e->pub);
	return wg_cookie_checker_new(c, e->pub, &e->ck);
}

static int end_meet(struct wg_crypto *c, struct end *e, const struct end *other,
		    const uint8_t *psk)
{
	if (wg_noise_peer_new(e->l, other->pub, e, &e->peer) ||
	    wg_cookie_maker_new(c, other->pub, &e->maker))
		return -1;
	wg_noise_peer_set_psk(e->peer, psk);
	return 0;
}

static void end_free(struct end *e)
{
	wg_noise_peer_free(e->peer);
	wg_cookie_maker_free(e->maker);
	wg_cookie_checker_free(e->ck);
	wg_noise_local_free(e->l);
}

/* The message under test: the fuzzed bytes, or those XORed onto base. */
static size_t build(uint8_t *msg, size_t cap, const uint8_t *base, size_t base_len,
		    const uint8_t *data, size_t size, int flags)
{
	size_t len = size < cap ? size : cap;

	memcpy(msg, data, len);
	for (size_t i = 0; (flags & F_XOR) && i < len && i < base_len; i++)
		msg[i] ^= base[i];
	return len;
}

static void same_or_die(const uint8_t *a, const uint8_t *b, size_t from, size_t to)
{
	if (memcmp(a + from, b + from, to - from) != 0)
		abort(); /* Noise accepted a message that was not the genuine one */
}

/* Sends a packet each way on the session: exercises the keys just derived. */
static void use_session(struct wg_crypto *c, struct noise_keypair *ki, struct noise_keypair *kr,
			const uint8_t *data, size_t size)
{
	uint8_t buf[256], tag[WG_TAG_LEN];
	size_t n = size < sizeof(buf) ? size : sizeof(buf);
	uint64_t ctr;

	memcpy(buf, data, n);
	if (wg_noise_keypair_next_counter(ki, &ctr) ||
	    wg_aead_seal(wg_crypto_aead(c), ki->send_key, ctr, NULL, 0, buf, n, tag) ||
	    wg_aead_open(wg_crypto_aead(c), kr->recv_key, ctr, NULL, 0, buf, n, tag) ||
	    memcmp(buf, data, n) != 0)
		abort();
	/* And the packet as a forged transport message from I to R. */
	if (size >= WG_TRANSPORT_MIN_LEN && size - WG_TRANSPORT_OVERHEAD <= sizeof(buf)) {
		n = size - WG_TRANSPORT_OVERHEAD;
		memcpy(buf, data + WG_DATA_OFF_PAYLOAD, n);
		memcpy(&ctr, data + WG_DATA_OFF_COUNTER, sizeof(ctr));
		(void)wg_aead_open(wg_crypto_aead(c), kr->recv_key, ctr, NULL, 0, buf, n,
				   data + WG_DATA_OFF_PAYLOAD + n);
	}
}

static void run(struct wg_crypto *c, struct end *i, struct end *r, struct end *x,
		const uint8_t *data, size_t size, int flags)
{
	uint8_t init[WG_INITIATION_LEN], resp[WG_RESPONSE_LEN], reply[WG_COOKIE_REPLY_LEN];
	uint8_t msg[512];
	struct noise_keypair ki, kr;
	struct noise_peer *got;
	enum cookie_result res;
	bool load = flags & F_LOAD;
	size_t len;

	/* The genuine initiation, which the other targets build on. */
	if (wg_noise_create_initiation(c, i->peer, init, REAL) ||
	    wg_cookie_add_macs(c, i->maker, init, sizeof(init), NOW))
		abort();

	if ((flags & F_TARGET) == 0) {
		if (x) {
			i = x; /* X's initiation to R; R has no peer for X */
			if (wg_noise_create_initiation(c, i->peer, init, REAL) ||
			    wg_cookie_add_macs(c, i->maker, init, sizeof(init), NOW))
				abort();
		}
		len = build(msg, sizeof(msg), init, sizeof(init), data, size, flags);
		if (flags & F_MACS)
			(void)wg_cookie_add_macs(c, i->maker, msg, len, NOW);
		res = wg_cookie_check(c, r->ck, msg, len, src, sizeof(src), load, NOW);
		if (res == COOKIE_INVALID)
			return;
		if (load && res != COOKIE_VALID_MAC2) {
			if (wg_cookie_reply_create(c, r->ck, reply, msg, len, src, sizeof(src),
						   NOW))
				abort();
			(void)wg_cookie_consume_reply(i->maker, reply, sizeof(reply), NOW);
			return;
		}
		if (wg_noise_consume_initiation(c, r->l, msg, len, NOW, lookup, r, &got))
			return;
		if (x)
			abort(); /* a stranger got in */
		same_or_die(msg, init, 0, 4);
		same_or_die(msg, init, WG_INIT_OFF_EPHEMERAL, WG_INIT_OFF_MAC1);
		if (got != r->peer)
			abort();
		/* Once consumed, the same initiation is a replay, now and later. */
		if (wg_noise_consume_initiation(c, r->l, msg, len, NOW, lookup, r, &got) != -EALREADY ||
		    wg_noise_consume_initiation(c, r->l, msg, len, NOW + NSEC_PER_SEC, lookup, r,
						&got) != -EALREADY)
			abort();
		if (wg_noise_create_response(c, r->peer, resp) ||
		    wg_cookie_add_macs(c, r->maker, resp, sizeof(resp), NOW))
			abort();
		/* Only the genuine sender index gets the response back to I. */
		if (wg_noise_consume_response(c, i->peer, resp, sizeof(resp)) == 0 &&
		    (wg_noise_begin_session(c, i->peer, &ki, NOW) ||
		     wg_noise_begin_session(c, r->peer, &kr, NOW)))
			abort();
		return;
	}

	/* Everything else starts from R having consumed I's initiation. */
	if (wg_noise_consume_initiation(c, r->l, init, sizeof(init), NOW, lookup, r, &got))
		abort();
	switch (flags & F_TARGET) {
	case 1:
		if (wg_noise_create_response(c, r->peer, resp) ||
		    wg_cookie_add_macs(c, r->maker, resp, sizeof(resp), NOW))
			abort();
		len = build(msg, sizeof(msg), resp, sizeof(resp), data, size, flags);
		if (flags & F_MACS)
			(void)wg_cookie_add_macs(c, r->maker, msg, len, NOW);
		if (wg_cookie_check(c, i->ck, msg, len, src, sizeof(src), load, NOW) ==
		    COOKIE_INVALID)
			return;
		if (wg_noise_consume_response(c, i->peer, msg, len)) {
			if (wg_noise_peer_state(i->peer) != NOISE_CREATED_INITIATION)
				abort(); /* a bad response disturbed the pending handshake */
			return;
		}
		same_or_die(msg, resp, 0, 4);
		same_or_die(msg, resp, WG_RESP_OFF_RECEIVER, WG_RESP_OFF_MAC1);
		if (wg_noise_begin_session(c, i->peer, &ki, NOW) ||
		    wg_noise_begin_session(c, r->peer, &kr, NOW))
			abort();
		use_session(c, &ki, &kr, data, size);
		return;
	case 2:
		if (wg_cookie_reply_create(c, r->ck, reply, init, sizeof(init), src, sizeof(src),
					   NOW))
			abort();
		len = build(msg, sizeof(msg), reply, sizeof(reply), data, size, flags);
		if (wg_cookie_consume_reply(i->maker, msg, len, NOW))
			return;
		same_or_die(msg, reply, 0, 4);
		same_or_die(msg, reply, WG_COOKIE_OFF_NONCE, WG_COOKIE_REPLY_LEN);
		if (wg_noise_create_initiation(c, i->peer, init, REAL + NSEC_PER_SEC) ||
		    wg_cookie_add_macs(c, i->maker, init, sizeof(init), NOW) ||
		    wg_cookie_check(c, r->ck, init, sizeof(init), src, sizeof(src), true, NOW) !=
			    COOKIE_VALID_MAC2)
			abort();
		return;
	default:
		if (wg_noise_create_response(c, r->peer, resp) ||
		    wg_noise_consume_response(c, i->peer, resp, sizeof(resp)))
			return; /* a PSK mismatch ends it here */
		if (wg_noise_begin_session(c, i->peer, &ki, NOW) ||
		    wg_noise_begin_session(c, r->peer, &kr, NOW))
			abort();
		use_session(c, &ki, &kr, data, size);
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wg_crypto *c; /* libFuzzer gives no other place to keep it */
	uint8_t psk[WG_KEY_LEN];
	struct end i, r, x, *stranger = NULL;
	uint64_t seed = 0x5eed;
	int flags;

	if (size < 1)
		return 0;
	if (!c && wg_crypto_new(&c))
		abort();
	flags = data[0];
	wg_crypto_set_rng(c, fuzz_rng, &seed);
	memset(psk, 0x42, sizeof(psk));
	if (end_init(c, &i, 0x11) || end_init(c, &r, 0x22) ||
	    end_meet(c, &i, &r, flags & F_PSK ? psk : NULL) ||
	    end_meet(c, &r, &i, flags & (F_PSK | F_PSK_R) ? psk : NULL))
		abort();
	if ((flags & F_STRANGER) && !(flags & F_TARGET)) {
		if (end_init(c, &x, 0x33) || end_meet(c, &x, &r, NULL))
			abort();
		stranger = &x;
	}
	run(c, &i, &r, stranger, data + 1, size - 1, flags);
	if (stranger)
		end_free(stranger);
	end_free(&i);
	end_free(&r);
	return 0;
}
