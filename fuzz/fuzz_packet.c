/* Fuzzes pkt_parse() and pkt_parse_inner(), then every rewrite on whatever
 * parses, checking the invariants NAT relies on: the view stays inside the
 * buffer, a rewrite changes only what it names, a checksum verifies afterwards
 * exactly when it did before, and parsing again gives the same view. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/csum.h"
#include "net/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): release builds define NDEBUG. */
#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static bool inside(const uint8_t *p, size_t n, const uint8_t *lo, const uint8_t *hi)
{
	return p >= lo && p <= hi && n <= (size_t)(hi - p);
}

static void check_view(const struct pkt *p, const uint8_t *b, size_t len)
{
	const uint8_t *end = b + p->len;

	CHECK(p->buf == b && p->len <= len);
	CHECK(p->version == 4 || p->version == 6);
	CHECK(p->addr_len == (p->version == 4 ? 4 : 16));
	CHECK(p->ip_hlen <= p->len);
	CHECK(inside(p->src, p->addr_len, b, b + p->ip_hlen));
	CHECK(inside(p->dst, p->addr_len, b, b + p->ip_hlen));
	CHECK(inside(p->payload, p->payload_len, b, end));
	CHECK(p->payload + p->payload_len <= end);
	if (p->l4) {
		CHECK(p->l4 == b + p->ip_hlen);
		CHECK(inside(p->l4, p->l4_len, b, end));
		CHECK(p->l4_hlen <= p->l4_len && p->l4_len >= 8);
		CHECK(p->payload == p->l4 + p->l4_hlen);
		CHECK(p->payload_len == p->l4_len - p->l4_hlen);
	} else {
		CHECK(p->payload == b + p->ip_hlen);
		CHECK(!(p->flags & (PKT_F_ECHO | PKT_F_ICMP_ERROR)));
	}
	if (p->flags & PKT_F_MORE_FRAGS)
		CHECK(p->flags & PKT_F_FRAG);
	if (p->frag_off)
		CHECK(!p->l4);
	CHECK(!(p->flags & PKT_F_TRUNCATED) || (p->flags & PKT_F_INNER));
}

static bool same_shape(const struct pkt *a, const struct pkt *b)
{
	return a->buf == b->buf && a->len == b->len && a->ip_hlen == b->ip_hlen &&
	       a->version == b->version && a->proto == b->proto && a->flags == b->flags &&
	       a->frag_off == b->frag_off && a->l4 == b->l4 && a->l4_len == b->l4_len &&
	       a->l4_hlen == b->l4_hlen && a->icmp_type == b->icmp_type &&
	       a->icmp_code == b->icmp_code;
}

/* Marks the bytes a rewrite may touch: the addresses, the IPv4 header
 * checksum, the ports or echo id, the L4 checksum. */
static void mark(uint8_t *may, const struct pkt *p, const uint8_t *b)
{
	memset(may + (p->src - b), 1, p->addr_len);
	memset(may + (p->dst - b), 1, p->addr_len);
	if (p->version == 4)
		memset(may + (p->buf - b) + IPV4_OFF_CSUM, 1, 2);
	if (!p->l4)
		return;
	if (p->proto == IP_PROTO_TCP || p->proto == IP_PROTO_UDP)
		memset(may + (p->l4 - b), 1, 4);
	if (p->flags & PKT_F_ECHO)
		memset(may + (p->l4 - b) + ICMP_OFF_ID, 1, 2);
	if (p->proto == IP_PROTO_TCP && p->l4_hlen >= TCP_OFF_CSUM + 2)
		memset(may + (p->l4 - b) + TCP_OFF_CSUM, 1, 2);
	else if (p->proto == IP_PROTO_UDP)
		memset(may + (p->l4 - b) + UDP_OFF_CSUM, 1, 2);
	else if (p->proto != IP_PROTO_TCP)
		memset(may + (p->l4 - b) + ICMP_OFF_CSUM, 1, 2);
}

/* Rewrites with values taken from the input itself, so that a finding
 * replays. Returns the new ports/id for checking. */
static void rewrite(struct pkt *p, const uint8_t *data, size_t size, uint16_t v[3])
{
	uint8_t a[16], c[16];
	bool tcpudp = p->l4 && (p->proto == IP_PROTO_TCP || p->proto == IP_PROTO_UDP);

	for (size_t i = 0; i < 16; i++) {
		a[i] = (uint8_t)(data[(i * 7) % size] ^ 0x5a);
		c[i] = (uint8_t)(data[(i * 13 + 1) % size] + i);
	}
	v[0] = (uint16_t)(data[size - 1] << 8 | data[size / 2]);
	v[1] = (uint16_t)(v[0] * 31 + 7);
	v[2] = (uint16_t)(v[0] ^ 0xa5c3);
	CHECK(pkt_set_src_addr(p, a, p->addr_len) == 0);
	CHECK(pkt_set_dst_addr(p, c, p->addr_len) == 0);
	CHECK(pkt_set_dst_addr(p, c, 3) == -EINVAL);
	CHECK(pkt_set_src_port(p, v[0]) == (tcpudp ? 0 : -EOPNOTSUPP));
	CHECK(pkt_set_dst_port(p, v[1]) == (tcpudp ? 0 : -EOPNOTSUPP));
	CHECK(pkt_set_icmp_id(p, v[2]) == (p->flags & PKT_F_ECHO ? 0 : -EOPNOTSUPP));
	CHECK(!memcmp(p->src, a, p->addr_len) && !memcmp(p->dst, c, p->addr_len));
	if (tcpudp)
		CHECK(p->sport == v[0] && p->dport == v[1]);
	if (p->flags & PKT_F_ECHO)
		CHECK(p->icmp_id == v[2]);
}

static bool ipv4_hdr_ok(const struct pkt *p)
{
	uint16_t want, have;
	bool ok;

	if (p->version != 4)
		return true;
	ok = csum_fold(csum_partial(p->buf, p->ip_hlen, 0)) == 0;
	/* The computed checksum agrees, up to ones' complement's two zeros. */
	want = csum_ipv4_header(p->buf, p->ip_hlen);
	have = (uint16_t)(p->buf[IPV4_OFF_CSUM] << 8 | p->buf[IPV4_OFF_CSUM + 1]);
	CHECK(ok == (want == have || (want == 0 && have == 0xffff) || (want == 0xffff && have == 0)));
	return ok;
}

/* Whether a rewrite keeps this view's own L4 checksum: its field is there
 * (a quoted TCP header may be cut before it), UDP carries one, and the
 * message is not all zero bytes; see below. */
static bool l4_csum_kept(const struct pkt *p)
{
	if (!p->l4)
		return false;
	if (p->proto == IP_PROTO_TCP)
		return p->l4_hlen >= TCP_OFF_CSUM + 2;
	if (p->proto == IP_PROTO_UDP)
		return p->l4[UDP_OFF_CSUM] || p->l4[UDP_OFF_CSUM + 1];
	if (p->proto == IP_PROTO_ICMP)
		return csum_partial(p->l4, p->l4_len, 0) != 0;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b, *orig, *may;
	struct pkt p, q, in, in2;
	int ret, l4ok, inner;
	bool kept, in_kept = false, in_l4ok = false, in_hdrok = false;
	uint16_t v[3];

	if (size == 0 || size > 70000)
		return 0;
	/* Exactly size bytes on the heap, so any read past the end is seen. */
	b = malloc(size);
	orig = malloc(size);
	may = calloc(size, 1);
	CHECK(b && orig && may);
	memcpy(b, data, size);
	memcpy(orig, data, size);

	ret = pkt_parse(&p, b, size);
	CHECK(ret == 0 || ret == -EBADMSG || ret == -EPROTONOSUPPORT || ret == -EILSEQ);
	if (ret != 0 && ret != -EILSEQ)
		goto out;
	check_view(&p, b, size);
	CHECK((ret == -EILSEQ) == !ipv4_hdr_ok(&p));
	CHECK(pkt_parse(&q, b, size) == ret && same_shape(&p, &q));
	l4ok = csum_l4_verify(&p);
	CHECK(l4ok == 0 || l4ok == -EBADMSG || l4ok == -EOPNOTSUPP);
	CHECK((l4ok == -EOPNOTSUPP) == (!p.l4 || (p.flags & PKT_F_FRAG)));
	/* An ICMP message of all zero bytes with checksum 0 fails, and any
	 * change to it makes that 0 right: ones' complement has two zeros, and
	 * only there does a receiver tell them apart. Everywhere else a rewrite
	 * keeps the verdict. */
	kept = l4_csum_kept(&p) || (p.l4 && p.proto == IP_PROTO_UDP);

	inner = pkt_parse_inner(&in, &p);
	CHECK(inner == 0 || inner == -EINVAL || inner == -EBADMSG || inner == -EPROTONOSUPPORT);
	CHECK((inner == -EINVAL) == !(p.flags & PKT_F_ICMP_ERROR));
	if (!inner) {
		check_view(&in, p.l4 + ICMP_HDR_LEN, p.l4_len - ICMP_HDR_LEN);
		CHECK(in.flags & PKT_F_INNER);
		CHECK(in.outer_csum == p.l4 + ICMP_OFF_CSUM);
		CHECK(csum_l4_verify(&in) == -EOPNOTSUPP);
		CHECK(pkt_parse_inner(&in2, &in) == -EINVAL);
		in_kept = l4_csum_kept(&in);
		in_l4ok = csum_l4(&in) == 0;
		in_hdrok = ipv4_hdr_ok(&in);
	}

	mark(may, &p, b);
	rewrite(&p, data, size, v);
	if (!inner) {
		mark(may, &in, b);
		memset(may + (p.l4 - b) + ICMP_OFF_CSUM, 1, 2);
		rewrite(&in, data, size, v);
		CHECK(pkt_parse_inner(&in2, &p) == 0 && same_shape(&in, &in2));
		CHECK(ipv4_hdr_ok(&in) == in_hdrok);
		if (in_kept)
			CHECK((csum_l4(&in) == 0) == in_l4ok);
	}
	for (size_t i = 0; i < size; i++)
		CHECK(may[i] || b[i] == orig[i]);

	/* Same view, same header checksum verdict, same L4 verdict. */
	CHECK(pkt_parse(&q, b, size) == ret && same_shape(&p, &q));
	if (kept)
		CHECK(csum_l4_verify(&q) == l4ok);
	else if (l4ok == 0)
		CHECK(csum_l4_verify(&q) == 0);
	if (csum_l4_fill(&q) == 0)
		CHECK(csum_l4_verify(&q) == 0);
	else
		CHECK(l4ok == -EOPNOTSUPP);
out:
	free(may);
	free(orig);
	free(b);
	return 0;
}
