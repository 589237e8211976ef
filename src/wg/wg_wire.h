/* The WireGuard wire format and protocol constants, all in one place.
 *
 * Every integer on the wire is little-endian. Layouts are given as byte offsets
 * (read and written through lib/cursor.h or memcpy), never as packed structs:
 * a packet buffer has no alignment promise. Sizes and values follow the kernel's
 * messages.h and wireguard-go's device/constants.go; and the WireGuard paper
 * (wireguard.com/papers/wireguard.pdf) for the protocol. */
#ifndef SLUICE_WG_WIRE_H
#define SLUICE_WG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/time.h"

/* Noise_IKpsk2 names, hashed into the initial chaining key and hash. No NUL is
 * hashed: use sizeof - 1. */
#define WG_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define WG_IDENTIFIER "WireGuard v1 zx2c4 Jason@zx2c4.com"
#define WG_LABEL_MAC1 "mac1----"
#define WG_LABEL_COOKIE "cookie--"

enum wg_sizes {
	WG_KEY_LEN = 32,	/* X25519 keys, symmetric keys, PSK */
	WG_HASH_LEN = 32,	/* BLAKE2s-256 output, chaining key */
	WG_MAC_LEN = 16,	/* keyed BLAKE2s-128: mac1, mac2, cookie */
	WG_TAG_LEN = 16,	/* Poly1305 tag */
	WG_TAI64N_LEN = 12,
	WG_COOKIE_LEN = 16,
	WG_COOKIE_NONCE_LEN = 24,	/* XChaCha20-Poly1305 nonce */
	WG_AEAD_NONCE_LEN = 12,	/* 4 zero bytes || u64 LE counter */
};

enum wg_msg_type {
	WG_MSG_INITIATION = 1,
	WG_MSG_RESPONSE = 2,
	WG_MSG_COOKIE_REPLY = 3,
	WG_MSG_TRANSPORT = 4,
};

/* Handshake messages must be exactly their size; transport at least its header
 * plus a tag (an empty one is a keepalive). */
enum wg_msg_len {
	WG_INITIATION_LEN = 148,
	WG_RESPONSE_LEN = 92,
	WG_COOKIE_REPLY_LEN = 64,
	WG_TRANSPORT_HDR_LEN = 16,
	WG_TRANSPORT_MIN_LEN = 32,
	WG_TRANSPORT_OVERHEAD = WG_TRANSPORT_HDR_LEN + WG_TAG_LEN,
};

/* Every message starts with a u32 LE whose low byte is the type and whose other
 * three bytes are reserved zeros. */
enum wg_hdr_off {
	WG_OFF_TYPE = 0,
	WG_OFF_SENDER = 4,	/* initiation, response: sender index */
};

enum wg_initiation_off {
	WG_INIT_OFF_SENDER = 4,
	WG_INIT_OFF_EPHEMERAL = 8,
	WG_INIT_OFF_STATIC = 40,	/* 32 + 16 tag */
	WG_INIT_OFF_TIMESTAMP = 88,	/* 12 + 16 tag */
	WG_INIT_OFF_MAC1 = 116,
	WG_INIT_OFF_MAC2 = 132,
};

enum wg_response_off {
	WG_RESP_OFF_SENDER = 4,
	WG_RESP_OFF_RECEIVER = 8,
	WG_RESP_OFF_EPHEMERAL = 12,
	WG_RESP_OFF_EMPTY = 44,	/* tag only */
	WG_RESP_OFF_MAC1 = 60,
	WG_RESP_OFF_MAC2 = 76,
};

enum wg_cookie_reply_off {
	WG_COOKIE_OFF_RECEIVER = 4,
	WG_COOKIE_OFF_NONCE = 8,
	WG_COOKIE_OFF_COOKIE = 32,	/* 16 + 16 tag */
};

enum wg_transport_off {
	WG_DATA_OFF_RECEIVER = 4,
	WG_DATA_OFF_COUNTER = 8,
	WG_DATA_OFF_PAYLOAD = 16,
};

_Static_assert(WG_INIT_OFF_MAC2 + WG_MAC_LEN == WG_INITIATION_LEN, "initiation layout");
_Static_assert(WG_RESP_OFF_MAC2 + WG_MAC_LEN == WG_RESPONSE_LEN, "response layout");
_Static_assert(WG_COOKIE_OFF_COOKIE + WG_COOKIE_LEN + WG_TAG_LEN == WG_COOKIE_REPLY_LEN,
	       "cookie reply layout");

/* mac1 and mac2 are the last 32 bytes of a handshake message. */
#define WG_MAC1_OFF(len) ((len) - 2 * WG_MAC_LEN)
#define WG_MAC2_OFF(len) ((len) - WG_MAC_LEN)

/* Padding and MTU: 1420 = 1500 - 40 (IPv6) - 8 (UDP) - 32 (overhead). */
#define WG_PADDING_MULTIPLE 16
#define WG_MTU_DEFAULT 1420

/* Key lifetimes (messages) */
#define WG_REKEY_AFTER_MESSAGES (1ull << 60)
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13))	/* 2^64 - 2^13 - 1, as go */

/* Timers, in nanoseconds */
#define WG_REKEY_AFTER_TIME (120 * NSEC_PER_SEC)
#define WG_REJECT_AFTER_TIME (180 * NSEC_PER_SEC)
#define WG_REKEY_ATTEMPT_TIME (90 * NSEC_PER_SEC)
#define WG_REKEY_TIMEOUT (5 * NSEC_PER_SEC)
#define WG_REKEY_TIMEOUT_JITTER_MAX (333 * NSEC_PER_MSEC)
#define WG_KEEPALIVE_TIMEOUT (10 * NSEC_PER_SEC)
/* An initiator's key this old on receive triggers one last handshake: 180-10-5. */
#define WG_REKEY_ON_RECV_AGE (WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT - WG_REKEY_TIMEOUT)
/* No handshake for 3 * REJECT_AFTER_TIME: zero every key. */
#define WG_ZERO_KEYS_AFTER (3 * WG_REJECT_AFTER_TIME)
#define WG_MAX_TIMER_HANDSHAKES (WG_REKEY_ATTEMPT_TIME / WG_REKEY_TIMEOUT)	/* 18 */
#define WG_MAX_STAGED_PACKETS 128

/* Handshake flood protection: per peer, initiations are consumed at most 50/s,
 * i.e. at least 20 ms apart. TAI64N nanoseconds are rounded down to 2^24 ns
 * (the largest power of two <= 1e9 / 50) so they leak no fine timing. */
#define WG_INITIATIONS_PER_SECOND 50
#define WG_INITIATION_MIN_INTERVAL (NSEC_PER_SEC / WG_INITIATIONS_PER_SECOND)
#define WG_TAI64N_WHITEN_MASK ((1u << 24) - 1)
#define WG_TAI64N_BASE 0x400000000000000aull

/* Cookies: the responder's secret rotates every 120 s; an initiator stops using
 * a cookie 5 s before the secret it was made from could have rotated. */
#define WG_COOKIE_SECRET_MAX_AGE (120 * NSEC_PER_SEC)
#define WG_COOKIE_SECRET_LATENCY (5 * NSEC_PER_SEC)
#define WG_COOKIE_REFRESH_TIME WG_COOKIE_SECRET_MAX_AGE

/* Under load: a handshake queue this deep (wireguard-go 1024/8), and for 1 s
 * after; then mac2 is required and each source IP gets 20 handshakes/s, burst 5. */
#define WG_UNDER_LOAD_QUEUE 128
#define WG_UNDER_LOAD_AFTER_TIME (1 * NSEC_PER_SEC)
#define WG_HANDSHAKE_RATE_PER_SEC 20
#define WG_HANDSHAKE_RATE_BURST 5

/* Reads the type word and checks the length it demands: returns the
 * enum wg_msg_type, or 0 for anything malformed (short, unknown type, a nonzero
 * reserved byte, a handshake message of the wrong size). */
static inline int wg_wire_classify(const uint8_t *msg, size_t len)
{
	uint32_t type;

	if (len < 4)
		return 0;
	type = (uint32_t)msg[0] | (uint32_t)msg[1] << 8 | (uint32_t)msg[2] << 16 |
	       (uint32_t)msg[3] << 24;
	switch (type) {
	case WG_MSG_INITIATION:
		return len == WG_INITIATION_LEN ? WG_MSG_INITIATION : 0;
	case WG_MSG_RESPONSE:
		return len == WG_RESPONSE_LEN ? WG_MSG_RESPONSE : 0;
	case WG_MSG_COOKIE_REPLY:
		return len == WG_COOKIE_REPLY_LEN ? WG_MSG_COOKIE_REPLY : 0;
	case WG_MSG_TRANSPORT:
		return len >= WG_TRANSPORT_MIN_LEN ? WG_MSG_TRANSPORT : 0;
	default:
		return 0;
	}
}

#endif
