/* Which X25519 public keys sluice accepts, everywhere one arrives (the portal,
 * the control messages, sluice-wg's UAPI): 32 bytes that
 *   - are the canonical encoding of u: top bit clear and u < 2^255 - 19. Every
 *     real key is one (X25519's output is reduced and canonical); the other
 *     encodings are aliases that WireGuard never matches against a handshake's
 *     static key, and that would let one identity be registered twice;
 *   - are not a point of small order (0, 1, p - 1, the two points of order 8):
 *     the DH with any private key is all zeros, which libsodium and every
 *     WireGuard refuses.
 * libsodium only, no other part of src/wg: the portal links just this. */
#ifndef SLUICE_WG_PUBKEY_H
#define SLUICE_WG_PUBKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_PUBKEY_LEN 32
#define WG_PUBKEY_B64_LEN 44 /* without the NUL */

/* 0, -ERANGE (the top bit or u >= p: not canonical) or -EDOM (small order). */
int wg_pubkey_check(const uint8_t key[WG_PUBKEY_LEN]);
static inline bool wg_pubkey_ok(const uint8_t key[WG_PUBKEY_LEN])
{
	return wg_pubkey_check(key) == 0;
}

/* s is exactly the canonical base64 (44 characters, '=' padded, unused bits
 * zero) of a key wg_pubkey_check() accepts. 0, -EINVAL (base64), or
 * wg_pubkey_check()'s -ERANGE / -EDOM; out is
 * written only on success (may be NULL: a check only). */
int wg_pubkey_from_base64(uint8_t out[WG_PUBKEY_LEN], const char *s);

/* The same for len bytes not NUL-terminated (headers, UAPI values). */
int wg_pubkey_from_base64n(uint8_t out[WG_PUBKEY_LEN], const char *s, size_t len);

/* What is wrong with a key, for messages: "not canonical", "small order". */
const char *wg_pubkey_strerror(int r);

#endif
