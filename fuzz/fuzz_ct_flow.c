/* Fuzzes ct_flow_parse(): a ctnetlink message as the kernel would send it
 * (seeds: real NEW and DESTROY events of ICMP, ICMPv6, TCP and UDP flows). The
 * parse must stay inside the message and report only the family's addresses. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gateway/conntrack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Netlink messages arrive 4-byte aligned; an exact-size copy lets ASan see
	 * any read past the end. */
	uint32_t *copy = malloc(size ? size : 1);
	struct ct_flow f;
	int r;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	r = ct_flow_parse(copy, size, &f);
	CHECK(r == 0 || r == -EINVAL);
	if (r == 0) {
		CHECK(f.family == AF_INET || f.family == AF_INET6);
		if (f.family == AF_INET)
			for (int i = 4; i < 16; i++)
				CHECK(f.src[i] == 0 && f.dst[i] == 0);
	}
	free(copy);
	return 0;
}
