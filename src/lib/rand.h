/* The kernel's CSPRNG (getrandom). Everything random in sluice comes from here:
 * keys, indices, DNS IDs and source ports, jitter. */
#ifndef SLUICE_LIB_RAND_H
#define SLUICE_LIB_RAND_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf; returns 0 or -errno (only if getrandom itself is unusable). */
int rand_bytes(void *buf, size_t len);
uint32_t rand_u32(void);
uint64_t rand_u64(void);
/* Uniform in [0, bound), without modulo bias; bound 0 returns 0. */
uint32_t rand_uniform(uint32_t bound);

#endif
