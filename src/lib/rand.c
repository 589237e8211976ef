#include "lib/rand.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

int rand_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A CSPRNG that fails leaves nothing safe to do: keys and DNS IDs would be
 * predictable. getrandom only fails on kernels older than 3.17. */
static void rand_must(void *buf, size_t len)
{
	if (rand_bytes(buf, len) < 0)
		abort();
}

uint32_t rand_u32(void)
{
	uint32_t v;

	rand_must(&v, sizeof(v));
	return v;
}

uint64_t rand_u64(void)
{
	uint64_t v;

	rand_must(&v, sizeof(v));
	return v;
}

uint32_t rand_uniform(uint32_t bound)
{
	uint32_t min, r;

	if (bound < 2)
		return 0;
	min = -bound % bound; /* 2^32 mod bound: values below it would bias */
	do
		r = rand_u32();
	while (r < min);
	return r % bound;
}
