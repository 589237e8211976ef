/* The anti-replay window of a receiving keypair: RFC 6479's ring of bitmap
 * words, 8192 bits, as the Linux module's counter_validate() and wireguard-go's
 * replay.Filter, so both accept and reject exactly the same counters.
 *
 * A public value struct because each keypair embeds one. Not thread-safe: the
 * keypair's receive lock (or its single receive worker) serialises calls. */
#ifndef SLUICE_WG_REPLAY_H
#define SLUICE_WG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

enum {
	REPLAY_BITS_TOTAL = 8192,
	/* One word of the ring is always being recycled, so 64 bits less. */
	REPLAY_WINDOW_SIZE = REPLAY_BITS_TOTAL - 64,
};

struct replay_window {
	uint64_t next; /* highest accepted counter + 1; 0 until the first */
	uint64_t ring[REPLAY_BITS_TOTAL / 64];
};

void wg_replay_reset(struct replay_window *w);
/* Would the counter be accepted? Lets a receiver drop stale packets before paying
 * for the AEAD; it proves nothing, so wg_replay_check_update() still decides. */
bool wg_replay_check(const struct replay_window *w, uint64_t counter, uint64_t limit);
/* Call only after the AEAD verified the packet. Accepts each counter below limit
 * (REJECT_AFTER_MESSAGES) at most once, counter 0 included, and none older than
 * REPLAY_WINDOW_SIZE behind the newest. O(1): at most 128 words are touched. */
bool wg_replay_check_update(struct replay_window *w, uint64_t counter, uint64_t limit);

#endif
