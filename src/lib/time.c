#include "lib/time.h"

#include <time.h>

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t time_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t time_boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t time_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}
