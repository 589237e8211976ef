/* Clocks: monotonic for timers and intervals, real time for TAI64N and logs. */
#ifndef SLUICE_LIB_TIME_H
#define SLUICE_LIB_TIME_H

#include <stdint.h>

#define NSEC_PER_SEC 1000000000ull
#define NSEC_PER_MSEC 1000000ull

uint64_t time_mono_ns(void);  /* CLOCK_MONOTONIC; never goes back */
uint64_t time_boot_ns(void);  /* CLOCK_BOOTTIME; counts suspend too (WireGuard timers) */
uint64_t time_real_ns(void);  /* CLOCK_REALTIME, nanoseconds since the epoch */

#endif
