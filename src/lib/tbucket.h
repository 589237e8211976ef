/* A token bucket as the generic cell rate algorithm: one 64-bit time per bucket
 * (the theoretical arrival time), no timer, and the rate and burst passed at
 * each call so that a caller's settings change applies to every bucket at once.
 *
 *	struct tbucket b = { 0 };  (full)
 *	if (!tbucket_take(&b, rate, burst, time_mono_ns())) ... over the limit
 *
 * burst requests at once, then one every 1/rate s; an idle bucket fills up
 * again at the same rate. */
#ifndef SLUICE_LIB_TBUCKET_H
#define SLUICE_LIB_TBUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct tbucket {
	uint64_t tat_ns; /* when the bucket is full again; 0: full */
};

/* Takes one token at now_ns (a monotonic clock): true if there was one. rate:
 * tokens per second, 0 for no limit (always true); burst: the bucket's size,
 * 0 taken as 1. */
bool tbucket_take(struct tbucket *b, uint32_t rate, uint32_t burst, uint64_t now_ns);

#endif
