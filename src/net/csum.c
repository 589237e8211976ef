#include "net/csum.h"
#include "lib/bytes.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "net/ip_wire.h"
#include "net/packet.h"

static uint64_t load64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

/* 2^16 is 1 modulo 0xffff, so folding the high bits down keeps a ones'
 * complement sum. */
static uint32_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;
	uint64_t acc = 0, w;

	/* The 32-bit halves of 64-bit loads go into a 64-bit accumulator, so no
	 * carry needs handling before 2^32 loads. Words are added in memory order
	 * and the result swapped once: the sum does not depend on byte order
	 * (RFC 1071 2.B). Two accumulators keep the adds independent. */
	if (len >= 32) {
		uint64_t acc2 = 0;

		do {
			w = load64(b);
			acc += (w & 0xffffffff) + (w >> 32);
			w = load64(b + 8);
			acc2 += (w & 0xffffffff) + (w >> 32);
			w = load64(b + 16);
			acc += (w & 0xffffffff) + (w >> 32);
			w = load64(b + 24);
			acc2 += (w & 0xffffffff) + (w >> 32);
			b += 32;
			len -= 32;
		} while (len >= 32);
		acc = fold(acc) + fold(acc2);
	}
	while (len >= 8) {
		w = load64(b);
		acc += (w & 0xffffffff) + (w >> 32);
		b += 8;
		len -= 8;
	}
	if (len) {
		/* Zero padding after the tail is what RFC 1071 asks of an odd byte. */
		uint8_t tail[8] = { 0 };

		memcpy(tail, b, len);
		w = load64(tail);
		acc += (w & 0xffffffff) + (w >> 32);
	}
	return fold((uint64_t)be16toh((uint16_t)fold(acc)) + sum);
}

uint16_t csum_fold(uint32_t sum)
{
	return (uint16_t)~fold(sum);
}

uint16_t csum_replace2(uint16_t check, uint16_t old, uint16_t new)
{
	return csum_fold((uint32_t)(uint16_t)~check + (uint16_t)~old + new);
}

uint16_t csum_replace4(uint16_t check, uint32_t old, uint32_t new)
{
	uint32_t s = (uint16_t)~check;

	s += (uint16_t)~(old >> 16) + (uint16_t)~old;
	s += (new >> 16) + (new & 0xffff);
	return csum_fold(s);
}

uint16_t csum_replace16(uint16_t check, const uint8_t old[16], const uint8_t new[16])
{
	uint32_t s = (uint16_t)~check;

	for (size_t i = 0; i < 16; i += 2)
		s += (uint16_t)~get_be16(old + i) + get_be16(new + i);
	return csum_fold(s);
}

uint32_t csum_ipv4_pseudo(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
			  uint16_t len)
{
	uint32_t s = csum_partial(src, IPV4_ADDR_LEN, 0);

	s = csum_partial(dst, IPV4_ADDR_LEN, s);
	return fold((uint64_t)s + proto + len);
}

uint32_t csum_ipv6_pseudo(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
			  uint32_t len)
{
	uint32_t s = csum_partial(src, IPV6_ADDR_LEN, 0);

	s = csum_partial(dst, IPV6_ADDR_LEN, s);
	return fold((uint64_t)s + proto + (len >> 16) + (len & 0xffff));
}

uint16_t csum_ipv4_header(const uint8_t *hdr, size_t hlen)
{
	uint32_t s = csum_partial(hdr, IPV4_OFF_CSUM, 0);

	return csum_fold(csum_partial(hdr + IPV4_OFF_CSUM + 2, hlen - IPV4_OFF_CSUM - 2, s));
}

uint16_t csum_l4(const struct pkt *p)
{
	uint32_t s = 0;

	if (!p->l4)
		return 0xffff; /* nothing verifies */
	if (p->version == 4 && p->proto != IP_PROTO_ICMP)
		s = csum_ipv4_pseudo(p->src, p->dst, p->proto, (uint16_t)p->l4_len);
	else if (p->version == 6)
		s = csum_ipv6_pseudo(p->src, p->dst, p->proto, (uint32_t)p->l4_len);
	return csum_fold(csum_partial(p->l4, p->l4_len, s));
}

/* The L4 checksum field, or NULL when the whole segment is not here. */
static uint8_t *l4_csum_field(const struct pkt *p)
{
	if (!p->l4 || (p->flags & (PKT_F_FRAG | PKT_F_INNER)))
		return NULL;
	switch (p->proto) {
	case IP_PROTO_TCP:
		return p->l4 + TCP_OFF_CSUM;
	case IP_PROTO_UDP:
		return p->l4 + UDP_OFF_CSUM;
	default:
		return p->l4 + ICMP_OFF_CSUM;
	}
}

int csum_l4_verify(const struct pkt *p)
{
	const uint8_t *f = l4_csum_field(p);

	if (!f)
		return -EOPNOTSUPP;
	if (p->proto == IP_PROTO_UDP && get_be16(f) == 0)
		return p->version == 4 ? 0 : -EBADMSG;
	return csum_l4(p) == 0 ? 0 : -EBADMSG;
}

int csum_l4_fill(struct pkt *p)
{
	uint8_t *f = l4_csum_field(p);
	uint16_t c;

	if (!f)
		return -EOPNOTSUPP;
	put_be16(f, 0);
	c = csum_l4(p);
	/* 0 on the wire means "no checksum" to UDP; 0xffff is the same sum. */
	if (c == 0 && p->proto == IP_PROTO_UDP)
		c = 0xffff;
	put_be16(f, c);
	return 0;
}
