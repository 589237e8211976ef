/* The Noise_IKpsk2 handshake of WireGuard: building and consuming initiations
 * and responses, and deriving the transport keys.
 *
 * A struct noise_local is the interface's static identity; a struct noise_peer
 * is one remote peer's handshake state (state machine, remote static key, the
 * precomputed static-static DH, PSK, replay and flood bookkeeping). Nothing
 * here locks: the caller serialises all calls that touch a peer (one handshake
 * thread, or a lock it takes in the lookup callback for consume_initiation) and
 * passes its thread's struct wg_crypto to each call. The module keeps no global
 * table: the device finds a peer by static key through noise_lookup_fn, and a
 * handshake by receiver index in its own index table, which learns of new local
 * indices through struct noise_index_ops.
 *
 * Messages are checked for length and type here; mac1/mac2 are cookie.h's job
 * and must be checked before consuming (and added after creating). Errors:
 *   -EINVAL   malformed message, wrong state or index, all-zero DH
 *   -ENOKEY   no local private key, or this peer's static-static DH is unusable
 *   -EBADMSG  an AEAD did not authenticate
 *   -ENOENT   the initiator's static key belongs to no peer
 *   -EALREADY the initiation's timestamp is not newer than the last one (replay)
 *   -EBUSY    an initiation within 20 ms of the last one consumed (flood) */
#ifndef SLUICE_WG_NOISE_H
#define SLUICE_WG_NOISE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/crypto.h"
#include "wg/wg_wire.h"

struct noise_local;
struct noise_peer;

enum noise_state {
	NOISE_ZEROED,
	NOISE_CREATED_INITIATION,
	NOISE_CONSUMED_INITIATION,
	NOISE_CREATED_RESPONSE,
	NOISE_CONSUMED_RESPONSE,
};

/* How a handshake gets its local (sender) index. assign picks a u32 unique among
 * the device's live handshakes and keypairs and registers it to peer; release
 * forgets an index whose handshake was superseded or cleared. An index that
 * becomes a keypair's (wg_noise_begin_session) is not released: the device re-types
 * its table entry. Without ops, indices are random and nothing is registered. */
struct noise_index_ops {
	int (*assign)(void *arg, struct noise_peer *peer, uint32_t *index);
	void (*release)(void *arg, struct noise_peer *peer, uint32_t index);
};

/* Finds the peer whose static public key is pub, or NULL. */
typedef struct noise_peer *(*noise_lookup_fn)(void *arg, const uint8_t pub[WG_KEY_LEN]);

/* A session's keys, filled by wg_noise_begin_session into caller-owned storage. */
struct noise_keypair {
	uint8_t send_key[WG_KEY_LEN];
	uint8_t recv_key[WG_KEY_LEN];
	uint32_t local_index;	/* packets to us carry this as receiver */
	uint32_t remote_index;	/* we write this as receiver */
	uint64_t created;	/* the caller's monotonic clock, ns */
	bool is_initiator;
	_Atomic uint64_t send_counter;	/* next nonce; see wg_noise_keypair_next_counter */
};

int wg_noise_local_new(struct noise_local **out);
void wg_noise_local_free(struct noise_local *l);
/* Sets (clamping a copy) or, with NULL, clears the private key. Peers must then
 * be refreshed with wg_noise_peer_precompute. */
int wg_noise_local_set_private(struct wg_crypto *c, struct noise_local *l,
			       const uint8_t priv[WG_KEY_LEN]);
/* Copies the public key out; false if there is no private key. */
bool wg_noise_local_public(const struct noise_local *l, uint8_t pub[WG_KEY_LEN]);
void wg_noise_local_set_index_ops(struct noise_local *l, const struct noise_index_ops *ops,
				  void *arg);

/* -EINVAL if the static-static DH with this key is all zeros (a low-order key):
 * such a peer must be refused. With no local key yet, the DH waits for
 * wg_noise_peer_precompute. user is returned by wg_noise_peer_user. */
int wg_noise_peer_new(struct noise_local *l, const uint8_t remote_pub[WG_KEY_LEN], void *user,
		      struct noise_peer **out);
/* Clears the handshake (releasing its index) and wipes everything. */
void wg_noise_peer_free(struct noise_peer *p);
/* Recomputes DH(S_local, S_remote) after a local key change; clears the
 * handshake. -EINVAL (and the peer is unusable) if it is all zeros. */
int wg_noise_peer_precompute(struct noise_peer *p);
/* psk NULL means none (32 zero bytes). */
void wg_noise_peer_set_psk(struct noise_peer *p, const uint8_t psk[WG_KEY_LEN]);
void wg_noise_peer_remote_public(const struct noise_peer *p, uint8_t pub[WG_KEY_LEN]);
void *wg_noise_peer_user(const struct noise_peer *p);
enum noise_state wg_noise_peer_state(const struct noise_peer *p);
/* The pending handshake's local index; false if it has none. */
bool wg_noise_peer_local_index(const struct noise_peer *p, uint32_t *index);
/* Zeroes the handshake state (releasing its index), e.g. when keys expire. */
void wg_noise_peer_clear(struct noise_peer *p);

/* Builds an initiation to p in msg, all but mac1/mac2. real_ns is CLOCK_REALTIME
 * (for the TAI64N). */
int wg_noise_create_initiation(struct wg_crypto *c, struct noise_peer *p,
			       uint8_t msg[WG_INITIATION_LEN], uint64_t real_ns);
/* Consumes an initiation to l whose macs were checked; *out gets the peer.
 * now is the monotonic clock (flood rule). */
int wg_noise_consume_initiation(struct wg_crypto *c, struct noise_local *l, const uint8_t *msg,
				size_t len, uint64_t now, noise_lookup_fn lookup, void *arg,
				struct noise_peer **out);
/* Answers the initiation p has consumed, all but mac1/mac2. */
int wg_noise_create_response(struct wg_crypto *c, struct noise_peer *p,
			     uint8_t msg[WG_RESPONSE_LEN]);
/* Consumes a response that the device matched to p by its receiver index. On any
 * failure p's pending initiation is left exactly as it was. */
int wg_noise_consume_response(struct wg_crypto *c, struct noise_peer *p, const uint8_t *msg,
			      size_t len);
/* After create_response (responder) or consume_response (initiator): derives the
 * keypair into kp, hands it the handshake's index and zeroes the handshake. */
int wg_noise_begin_session(struct wg_crypto *c, struct noise_peer *p, struct noise_keypair *kp,
			   uint64_t now);

/* Takes the next send counter; -EKEYEXPIRED once REJECT_AFTER_MESSAGES is reached. */
int wg_noise_keypair_next_counter(struct noise_keypair *kp, uint64_t *counter);
void wg_noise_keypair_wipe(struct noise_keypair *kp);

#endif
