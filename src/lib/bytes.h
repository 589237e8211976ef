/* Loads and stores of big- and little-endian integers at any alignment, for the
 * places that patch a field in place rather than walk a buffer with the cursor.
 * memcpy keeps them free of unaligned-access undefined behaviour; compilers turn
 * each into one instruction. */
#ifndef SLUICE_LIB_BYTES_H
#define SLUICE_LIB_BYTES_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t get_be16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline uint32_t get_be32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline void put_be16(void *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_be32(void *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

#endif
