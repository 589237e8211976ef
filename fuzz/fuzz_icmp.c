/* Fuzzes icmp_prohibited(): whatever it answers is an ICMP or ICMPv6
 * "administratively prohibited" that parses, with right checksums, reversed
 * addresses, within the RFC sizes and the cap, quoting a prefix of the input
 * that itself parses as an inner packet; an ICMP error is never answered. The
 * first input byte picks the cap. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/csum.h"
#include "net/icmp.h"
#include "net/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { 1280, 2048, 576, 100, 56, 96, 48, 0 };
	uint8_t out[2048], again[2048], *in;
	struct pkt e, inner;
	size_t cap, hdr;
	int n;

	if (size < 1)
		return 0;
	cap = caps[data[0] % (sizeof(caps) / sizeof(caps[0]))];
	data++;
	size--;
	in = malloc(size + 1); /* a copy of its own: out of bounds reads show */
	if (!in)
		return 0;
	memcpy(in, data, size);
	n = icmp_prohibited(in, size, out, cap);
	CHECK(n == -EINVAL || n == -EMSGSIZE || n > 0);
	if (n > 0) {
		CHECK((size_t)n <= cap);
		CHECK(pkt_parse(&e, out, (size_t)n) == 0);
		CHECK(e.len == (size_t)n && (e.flags & PKT_F_ICMP_ERROR));
		CHECK(csum_l4_verify(&e) == 0);
		if (e.version == 4) {
			CHECK(n <= ICMP_ERR_MAX4 && e.icmp_type == 3 && e.icmp_code == 13);
			CHECK(e.proto == IP_PROTO_ICMP);
			hdr = 28;
		} else {
			CHECK(n <= ICMP_ERR_MAX6 && e.icmp_type == 1 && e.icmp_code == 1);
			CHECK(e.proto == IP_PROTO_ICMPV6 && e.ip_hlen == 40);
			hdr = 48;
		}
		CHECK(memcmp(out + hdr, in, (size_t)n - hdr) == 0);
		CHECK(memcmp(e.src, in + (e.version == 4 ? 16 : 24), e.addr_len) == 0);
		CHECK(memcmp(e.dst, in + (e.version == 4 ? 12 : 8), e.addr_len) == 0);
		CHECK(pkt_parse_inner(&inner, &e) == 0);
		/* Never an error about an error. */
		CHECK(icmp_prohibited(out, (size_t)n, again, sizeof(again)) == -EINVAL);
	}
	free(in);
	return 0;
}
