/* Fuzzes gso_split(), gso_complete_csum() and GRO. The input is a vnet
 * header (10 bytes, host order) and the packet after it, as a TUN read gives
 * them. hdr_len, which gso_split() must ignore, picks the out-buffer size,
 * headroom and segment limit, so one input replays exactly.
 *
 * Checked: nothing is written outside the out buffers (each exactly cap
 * bytes on the heap) or into their headroom, the input is not touched, every
 * GSO segment parses and its checksum verifies, the payloads add up; then the
 * segments go through gro_add()/gro_flush(), and each batch, split again,
 * gives back exactly the segments that went in.
 *
 * Seeds (fuzz/corpus/gso/): fuzz/corpus/gso/.make_seeds.py. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/csum.h"
#include "net/gso.h"
#include "net/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): release builds define NDEBUG. */
#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

enum { MAX_SEGS = 64, GUARD = 0xa5, GRO_CAP = VNET_HDR_LEN + 65535 };

static uint16_t g16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

struct bufs {
	uint8_t *o[MAX_SEGS];
	size_t lens[MAX_SEGS];
	unsigned n;
};

static void bufs_alloc(struct bufs *b, unsigned n, size_t cap)
{
	b->n = n;
	for (unsigned i = 0; i < n; i++) {
		b->o[i] = malloc(cap);
		CHECK(b->o[i]);
		memset(b->o[i], GUARD, cap);
	}
}

static void bufs_free(struct bufs *b)
{
	for (unsigned i = 0; i < b->n; i++)
		free(b->o[i]);
}

/* Flushes the batch made of segments [a, b) and checks that it splits back
 * into them (a batch of one goes out as it came). */
static void flush_check(struct gro *g, const struct bufs *segs, unsigned a, unsigned b,
			size_t cap)
{
	size_t w = gro_flush(g);
	struct vnet_hdr h;
	struct bufs again;
	int n;

	CHECK(g->len == 0 && g->segs == 0);
	if (a == b) {
		CHECK(w == 0);
		return;
	}
	CHECK(w > VNET_HDR_LEN && w <= GRO_CAP);
	vnet_hdr_decode(&h, g->buf);
	if (b - a == 1) { /* as it came, but for bytes past the IP length */
		const uint8_t *s = segs->o[a];
		size_t tot = s[0] >> 4 == 4 ? g16(s + 2) : 40 + (size_t)g16(s + 4);

		CHECK(h.gso_type == VNET_GSO_NONE && h.flags == 0);
		CHECK(w - VNET_HDR_LEN == tot && tot <= segs->lens[a]);
		CHECK(!memcmp(g->buf + VNET_HDR_LEN, s, tot));
		return;
	}
	CHECK(h.gso_type == VNET_GSO_TCPV4 || h.gso_type == VNET_GSO_TCPV6);
	CHECK(h.flags == VNET_F_NEEDS_CSUM);
	bufs_alloc(&again, b - a, cap);
	n = gso_split(g->buf + VNET_HDR_LEN, w - VNET_HDR_LEN, &h, again.o, cap, 0, again.lens,
		      b - a);
	CHECK(n == (int)(b - a));
	for (int i = 0; i < n; i++) {
		CHECK(again.lens[i] == segs->lens[a + i]);
		CHECK(!memcmp(again.o[i], segs->o[a + i], again.lens[i]));
	}
	bufs_free(&again);
}

/* The segments, one after the other, as the receive path offers them. */
static void gro_segments(const struct bufs *segs, size_t headroom, size_t cap)
{
	uint8_t *gbuf = malloc(GRO_CAP);
	struct bufs plain = { .n = segs->n };
	struct gro g;
	unsigned first = 0;

	CHECK(gbuf);
	/* Without headroom, so a batch compares byte for byte. */
	for (unsigned i = 0; i < segs->n; i++) {
		plain.o[i] = segs->o[i] + headroom;
		plain.lens[i] = segs->lens[i];
	}
	gro_init(&g, gbuf, GRO_CAP);
	for (unsigned i = 0; i < plain.n; i++) {
		if (gro_add(&g, plain.o[i], plain.lens[i]))
			continue;
		flush_check(&g, &plain, first, i, cap);
		first = i;
		if (!gro_add(&g, plain.o[i], plain.lens[i])) {
			CHECK(g.len == 0);
			first = i + 1; /* written alone */
		}
	}
	flush_check(&g, &plain, first, plain.n, cap);
	free(gbuf);
}

/* What the split gave: inside the room, the headroom untouched, and for GSO
 * types segments that parse, verify and carry the whole payload. */
static void check_segments(const struct bufs *segs, const struct vnet_hdr *h, const uint8_t *pkt,
			   size_t len, size_t cap, size_t headroom)
{
	size_t payload = 0, tot;
	struct pkt p;

	for (unsigned i = 0; i < segs->n; i++)
		CHECK(segs->lens[i] <= cap - headroom);
	if (h->gso_type == VNET_GSO_NONE) {
		CHECK(segs->n == 1 && segs->lens[0] == len);
		if (!(h->flags & VNET_F_NEEDS_CSUM))
			CHECK(!memcmp(segs->o[0] + headroom, pkt, len));
		return;
	}
	for (unsigned i = 0; i < segs->n; i++) {
		CHECK(pkt_parse(&p, segs->o[i] + headroom, segs->lens[i]) == 0);
		CHECK(p.len == segs->lens[i] && p.l4);
		CHECK(csum_l4_verify(&p) == 0);
		if (i + 1 < segs->n)
			CHECK(p.payload_len == h->gso_size);
		payload += p.payload_len;
	}
	/* The headers repeat, so the payloads add up to the super-packet's. */
	tot = pkt[0] >> 4 == 4 ? g16(pkt + 2) : 40 + (size_t)g16(pkt + 4);
	CHECK(pkt_parse(&p, segs->o[0] + headroom, segs->lens[0]) == 0);
	CHECK(payload + p.ip_hlen + p.l4_hlen == tot);
}

static bool all_guard(const uint8_t *p, size_t n)
{
	uint8_t guard[256];

	memset(guard, GUARD, sizeof(guard));
	for (size_t k; n; p += k, n -= k) {
		k = n < sizeof(guard) ? n : sizeof(guard);
		if (memcmp(p, guard, k))
			return false;
	}
	return true;
}

/* Nothing written but the segments: not the headroom, not past a segment,
 * not a buffer beyond the last one (nor any, on an error). */
static void check_untouched(const struct bufs *b, int n, size_t cap, size_t headroom)
{
	for (unsigned i = 0; i < b->n; i++) {
		if ((int)i >= n) {
			CHECK(all_guard(b->o[i], cap));
			continue;
		}
		CHECK(b->lens[i] <= cap - headroom);
		CHECK(all_guard(b->o[i], headroom));
		CHECK(all_guard(b->o[i] + headroom + b->lens[i], cap - headroom - b->lens[i]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet_hdr h;
	struct bufs segs;
	uint8_t *pkt, *orig, *gbuf;
	size_t len, cap, headroom, had;
	unsigned max_segs;
	struct gro g;
	int n;

	if (size < VNET_HDR_LEN || size > VNET_HDR_LEN + 65535 + 64)
		return 0;
	vnet_hdr_decode(&h, data);
	len = size - VNET_HDR_LEN;
	/* Exactly len bytes on the heap, so any read past the end is seen. */
	pkt = malloc(len + 1);
	orig = malloc(len + 1);
	CHECK(pkt && orig);
	memcpy(pkt, data + VNET_HDR_LEN, len);
	memcpy(orig, pkt, len);
	cap = 40 + (size_t)(h.hdr_len & 0x3ff) * 2;
	headroom = (h.hdr_len >> 10) & 0xf;
	max_segs = 1 + (unsigned)(h.hdr_len >> 14) * 21;

	bufs_alloc(&segs, max_segs, cap);
	n = gso_split(pkt, len, &h, segs.o, cap, headroom, segs.lens, max_segs);
	CHECK(n == -EBADMSG || n == -EMSGSIZE || (n >= 1 && (unsigned)n <= max_segs));
	CHECK(!memcmp(pkt, orig, len));
	check_untouched(&segs, n, cap, headroom);
	if (n > 0) {
		segs.n = (unsigned)n;
		check_segments(&segs, &h, pkt, len, cap, headroom);
		gro_segments(&segs, headroom, cap);
		segs.n = max_segs;
	}
	bufs_free(&segs);

	/* Completing a checksum in place stays inside the packet. */
	if (gso_complete_csum(pkt, len, &h) == 0 && (h.flags & VNET_F_NEEDS_CSUM))
		CHECK((size_t)h.csum_start + h.csum_offset + 2 <= len);

	/* The raw packet offered to GRO: it starts a batch or nothing. */
	gbuf = malloc(GRO_CAP);
	CHECK(gbuf);
	gro_init(&g, gbuf, GRO_CAP);
	if (gro_add(&g, orig, len)) {
		CHECK(g.segs == 1 && g.len <= len);
		CHECK(!gro_add(&g, orig, len)); /* the same seq cannot follow itself */
		had = g.len;
		CHECK(gro_flush(&g) == VNET_HDR_LEN + had);
		CHECK(!memcmp(gbuf + VNET_HDR_LEN, orig, had));
	} else {
		CHECK(g.len == 0 && gro_flush(&g) == 0);
	}
	free(gbuf);
	free(orig);
	free(pkt);
	return 0;
}
