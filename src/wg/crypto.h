/* WireGuard's primitives over OpenSSL 3 and libsodium; nothing here is home-made.
 *
 *   HASH, MAC, HMAC, KDF  BLAKE2s via OpenSSL EVP (libsodium has only BLAKE2b)
 *   DH                    X25519 via libsodium crypto_scalarmult
 *   AEAD                  ChaCha20-Poly1305, in place: OpenSSL EVP over a reusable
 *                         cipher context for full-size packets (faster per byte),
 *                         libsodium below 1 KiB (less fixed cost per call)
 *   XAEAD                 XChaCha20-Poly1305 via libsodium (cookie replies)
 *
 * A struct wg_crypto holds the fetched algorithms and reusable contexts: make one
 * per thread and never share it. A struct wg_aead is the data path's own cipher
 * context, also one per thread. Errors are 0 / -errno: -EINVAL for bad
 * arguments or an all-zero DH result, -EBADMSG for an authentication failure,
 * -ENOMEM or -EIO when the library fails. */
#ifndef SLUICE_WG_CRYPTO_H
#define SLUICE_WG_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/wg_wire.h"

struct wg_crypto;
struct wg_aead;

int wg_crypto_new(struct wg_crypto **out);
void wg_crypto_free(struct wg_crypto *c);

/* Where this context's randomness comes from (ephemeral keys, cookie secrets and
 * nonces, default indices). The default is the kernel CSPRNG (lib/rand.h); tests
 * and the fuzzer install a deterministic source. fn NULL restores the default. */
typedef int (*wg_rng_fn)(void *arg, void *buf, size_t len);
void wg_crypto_set_rng(struct wg_crypto *c, wg_rng_fn fn, void *arg);
int wg_random(struct wg_crypto *c, void *buf, size_t len);

/* HASH(a || b); b may be NULL with blen 0. */
int wg_hash(struct wg_crypto *c, uint8_t out[WG_HASH_LEN], const void *a, size_t alen,
	    const void *b, size_t blen);
/* Keyed BLAKE2s with outlen bytes of output (WireGuard's MAC is outlen 16).
 * key: 1..32 bytes; outlen: 1..32. */
int wg_mac(struct wg_crypto *c, uint8_t *out, size_t outlen, const void *key, size_t keylen,
	   const void *in, size_t inlen);
/* HMAC-BLAKE2s-256. */
int wg_hmac(struct wg_crypto *c, uint8_t out[WG_HASH_LEN], const void *key, size_t keylen,
	    const void *in, size_t inlen);
/* KDF1/2/3 in one: t1 is required, t2 and t3 may be NULL (t3 needs t2). */
int wg_kdf(struct wg_crypto *c, uint8_t t1[WG_HASH_LEN], uint8_t *t2, uint8_t *t3,
	   const void *key, size_t keylen, const void *in, size_t inlen);

/* X25519. Private keys are clamped the way every WireGuard does it. */
void wg_key_clamp(uint8_t key[WG_KEY_LEN]);
int wg_key_generate(struct wg_crypto *c, uint8_t priv[WG_KEY_LEN], uint8_t pub[WG_KEY_LEN]);
int wg_key_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN]);
/* -EINVAL when the result is all zeros (a low-order public key). */
int wg_dh(uint8_t out[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN], const uint8_t pub[WG_KEY_LEN]);

/* ChaCha20-Poly1305 in place: buf holds len bytes of plaintext (seal) or
 * ciphertext (open); the tag travels separately, so a packet's tag can sit right
 * after its payload. The nonce is 4 zero bytes || counter (u64 LE). A failed
 * open wipes buf and returns -EBADMSG. ad may be NULL with adlen 0. */
int wg_aead_new(struct wg_aead **out);
void wg_aead_free(struct wg_aead *a);
int wg_aead_seal(struct wg_aead *a, const uint8_t key[WG_KEY_LEN], uint64_t counter,
		 const void *ad, size_t adlen, uint8_t *buf, size_t len, uint8_t tag[WG_TAG_LEN]);
int wg_aead_open(struct wg_aead *a, const uint8_t key[WG_KEY_LEN], uint64_t counter,
		 const void *ad, size_t adlen, uint8_t *buf, size_t len,
		 const uint8_t tag[WG_TAG_LEN]);
/* The same with a raw 96-bit nonce (RFC 8439 test vectors, nothing else). */
int wg_aead_seal_nonce(struct wg_aead *a, const uint8_t key[WG_KEY_LEN],
		       const uint8_t nonce[WG_AEAD_NONCE_LEN], const void *ad, size_t adlen,
		       uint8_t *buf, size_t len, uint8_t tag[WG_TAG_LEN]);
int wg_aead_open_nonce(struct wg_aead *a, const uint8_t key[WG_KEY_LEN],
		       const uint8_t nonce[WG_AEAD_NONCE_LEN], const void *ad, size_t adlen,
		       uint8_t *buf, size_t len, const uint8_t tag[WG_TAG_LEN]);
/* The handshake's cipher context inside c. */
struct wg_aead *wg_crypto_aead(struct wg_crypto *c);

/* XChaCha20-Poly1305: out gets len + 16 bytes (ciphertext || tag) on seal; open
 * reads inlen >= 16 bytes and writes inlen - 16. */
int wg_xaead_seal(uint8_t *out, const uint8_t *in, size_t len, const void *ad, size_t adlen,
		  const uint8_t nonce[WG_COOKIE_NONCE_LEN], const uint8_t key[WG_KEY_LEN]);
int wg_xaead_open(uint8_t *out, const uint8_t *in, size_t inlen, const void *ad, size_t adlen,
		  const uint8_t nonce[WG_COOKIE_NONCE_LEN], const uint8_t key[WG_KEY_LEN]);

/* TAI64N of a CLOCK_REALTIME reading, nanoseconds whitened to a multiple of 2^24. */
void wg_tai64n(uint8_t out[WG_TAI64N_LEN], uint64_t real_ns);

/* Constant-time helpers. */
bool wg_equal(const void *a, const void *b, size_t len);
bool wg_is_zero(const void *p, size_t len);
void wg_wipe(void *p, size_t len);

/* Keys as wg(8) and the UAPI write them: base64 (44 chars) and hex (64 chars).
 * The out buffers take the trailing NUL. Decoding is strict (exact length,
 * canonical padding) and returns -EINVAL otherwise. */
#define WG_KEY_B64_LEN 45
#define WG_KEY_HEX_LEN 65
void wg_key_to_base64(char out[WG_KEY_B64_LEN], const uint8_t key[WG_KEY_LEN]);
int wg_key_from_base64(uint8_t key[WG_KEY_LEN], const char *s);
void wg_key_to_hex(char out[WG_KEY_HEX_LEN], const uint8_t key[WG_KEY_LEN]);
int wg_key_from_hex(uint8_t key[WG_KEY_LEN], const char *s);

#endif
