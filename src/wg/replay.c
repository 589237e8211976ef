#include "wg/replay.h"

#include <string.h>

#define RING_WORDS (REPLAY_BITS_TOTAL / 64)

/* Positions are counter + 1 throughout, so that a zeroed window (next == 0)
 * still accepts counter 0: WireGuard's first data message carries nonce 0. */

void wg_replay_reset(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

static bool too_old(const struct replay_window *w, uint64_t pos)
{
	/* Written as a difference so that no sum can wrap near 2^64. */
	return w->next > pos && w->next - pos > REPLAY_WINDOW_SIZE;
}

bool wg_replay_check(const struct replay_window *w, uint64_t counter, uint64_t limit)
{
	uint64_t pos;

	if (counter >= limit)
		return false;
	pos = counter + 1;
	if (too_old(w, pos))
		return false;
	if (pos > w->next)
		return true; /* its word is stale and would be cleared first */
	return !(w->ring[(pos / 64) % RING_WORDS] & (1ull << (pos % 64)));
}

bool wg_replay_check_update(struct replay_window *w, uint64_t counter, uint64_t limit)
{
	uint64_t pos, word, cur, n, i, bit;

	if (counter >= limit)
		return false;
	pos = counter + 1;
	if (too_old(w, pos))
		return false;
	word = pos / 64;
	if (pos > w->next) {
		/* Moving ahead: the words between the old top and the new one belong
		 * to counters never seen, so clear them (a full lap clears all). */
		cur = w->next / 64;
		n = word - cur < RING_WORDS ? word - cur : RING_WORDS;
		for (i = 1; i <= n; i++)
			w->ring[(cur + i) % RING_WORDS] = 0;
		w->next = pos;
	}
	bit = 1ull << (pos % 64);
	if (w->ring[word % RING_WORDS] & bit)
		return false;
	w->ring[word % RING_WORDS] |= bit;
	return true;
}
