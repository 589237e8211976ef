/* mac1, mac2 and cookie replies: WireGuard's DoS protection for handshakes.
 *
 * The checker is the receiving side: it validates mac1 (always, in constant
 * time, before any DH), mac2 when the device is under load, and answers an
 * initiation or response that lacks a valid mac2 with a cookie reply. The maker
 * is the sending side, one per peer: it adds mac1 and mac2 to outgoing handshake
 * messages and keeps the latest cookie the peer handed us.
 *
 * Times are the caller's monotonic clock (time_boot_ns) in nanoseconds, passed
 * in so tests can drive rotation and expiry. The device decides when it is under
 * load and rate-limits per source; src is the sender's address in any encoding
 * the device uses consistently (e.g. IP bytes || port), since only the checker
 * that issues a cookie ever verifies it. Functions taking a struct wg_crypto use
 * it as scratch; none of these objects lock. */
#ifndef SLUICE_WG_COOKIE_H
#define SLUICE_WG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/crypto.h"
#include "wg/wg_wire.h"

struct cookie_checker;
struct cookie_maker;

enum cookie_result {
	COOKIE_INVALID = 0,	/* not a handshake message, or a bad mac1: drop */
	COOKIE_VALID_MAC1_ONLY,	/* mac1 good; mac2 unchecked, missing or stale */
	COOKIE_VALID_MAC2,	/* mac1 and mac2 good */
};

/* local_pub may be NULL (no private key yet): everything is then INVALID. */
int wg_cookie_checker_new(struct wg_crypto *c, const uint8_t local_pub[WG_KEY_LEN],
			  struct cookie_checker **out);
/* After the interface's private key changes. */
int wg_cookie_checker_set_key(struct wg_crypto *c, struct cookie_checker *ck,
			      const uint8_t local_pub[WG_KEY_LEN]);
void wg_cookie_checker_free(struct cookie_checker *ck);

/* msg is a whole initiation or response. */
enum cookie_result wg_cookie_check(struct wg_crypto *c, struct cookie_checker *ck,
				   const uint8_t *msg, size_t len, const void *src, size_t srclen,
				   bool check_mac2, uint64_t now);
/* Builds the 64-byte cookie reply to msg (whose mac1 the caller has checked),
 * addressed to msg's sender index. */
int wg_cookie_reply_create(struct wg_crypto *c, struct cookie_checker *ck,
			   uint8_t out[WG_COOKIE_REPLY_LEN], const uint8_t *msg, size_t len,
			   const void *src, size_t srclen, uint64_t now);

int wg_cookie_maker_new(struct wg_crypto *c, const uint8_t peer_pub[WG_KEY_LEN],
			struct cookie_maker **out);
void wg_cookie_maker_free(struct cookie_maker *m);
/* Fills the last 32 bytes of an outgoing initiation or response: mac1, and mac2
 * from a cookie younger than 115 s (else zeros). */
int wg_cookie_add_macs(struct wg_crypto *c, struct cookie_maker *m, uint8_t *msg, size_t len,
		       uint64_t now);
/* Takes a cookie reply the device matched to this peer by receiver index.
 * -EINVAL if malformed or no mac1 is outstanding, -EBADMSG if it does not
 * authenticate against the last mac1 we sent. */
int wg_cookie_consume_reply(struct cookie_maker *m, const uint8_t *msg, size_t len, uint64_t now);

#endif
