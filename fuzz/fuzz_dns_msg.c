/* Fuzzes the DNS message parser and writer. The input is one message, as a
 * UDP payload or a TCP frame's body.
 *
 * Checked: dns_query_parse() and dns_reply_parse() return a known error or
 * succeed, and then agree with dns_msg_parse() on the header and question;
 * whatever dns_msg_parse() takes, dns_msg_write() writes (never -EINVAL)
 * into an exact-size heap buffer, and parsing that gives the same message
 * (names after the question compared case-insensitively, since compression
 * may point to another spelling), and writing that again gives the same
 * bytes. Then the same message against a limit one byte short of it, and
 * against 512: a TC answer with the question alone, inside the limit.
 *
 * Seeds (fuzz/corpus/dns_msg/): fuzz/corpus/dns_msg/.make_seeds.py. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): release builds define NDEBUG. */
#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* Where the names are in the RDATA of the types that hold some. */
static bool layout(uint16_t type, unsigned *pre, unsigned *names, unsigned *post)
{
	*pre = 0, *names = 1, *post = 0;
	switch (type) {
	case DNS_T_NS: case DNS_T_CNAME: case DNS_T_PTR: case DNS_T_DNAME:
	case DNS_T_MB: case DNS_T_MG: case DNS_T_MR:
		return true;
	case DNS_T_MINFO: case DNS_T_RP:
		*names = 2;
		return true;
	case DNS_T_MX: case DNS_T_AFSDB: case DNS_T_RT: case DNS_T_KX:
		*pre = 2;
		return true;
	case DNS_T_PX:
		*pre = 2, *names = 2;
		return true;
	case DNS_T_SRV:
		*pre = 6;
		return true;
	case DNS_T_SOA:
		*names = 2, *post = 20;
		return true;
	default:
		return false;
	}
}

static void rr_check_equal(const struct dns_rr *a, const struct dns_rr *b)
{
	unsigned pre, names, post;
	size_t pa, pb;

	CHECK(dns_name_equal(&a->name, &b->name));
	CHECK(a->type == b->type && a->cls == b->cls && a->ttl == b->ttl);
	CHECK(a->rdlen == b->rdlen);
	if (!layout(a->type, &pre, &names, &post)) {
		CHECK(memcmp(a->rdata, b->rdata, a->rdlen) == 0);
		return;
	}
	CHECK(a->rdlen >= pre && memcmp(a->rdata, b->rdata, pre) == 0);
	pa = pb = pre;
	for (unsigned i = 0; i < names; i++) {
		struct dns_name na, nb;

		CHECK(dns_name_read(a->rdata, a->rdlen, &pa, &na) == 0);
		CHECK(dns_name_read(b->rdata, b->rdlen, &pb, &nb) == 0);
		CHECK(dns_name_equal(&na, &nb));
	}
	CHECK(pa == pb && a->rdlen - pa == post);
	CHECK(memcmp(a->rdata + pa, b->rdata + pb, post) == 0);
}

static void question_check_equal(const struct dns_msg *a, const struct dns_msg *b)
{
	CHECK(a->has_question == b->has_question);
	if (!a->has_question)
		return;
	/* The question is written first, whole: its case survives (0x20). */
	CHECK(a->q.name.len == b->q.name.len);
	CHECK(memcmp(a->q.name.data, b->q.name.data, a->q.name.len) == 0);
	CHECK(a->q.type == b->q.type && a->q.cls == b->q.cls);
}

static void msg_check_equal(const struct dns_msg *a, const struct dns_msg *b)
{
	CHECK(a->id == b->id && a->flags == b->flags);
	question_check_equal(a, b);
	for (int s = 0; s < 3; s++)
		CHECK(a->count[s] == b->count[s]);
	for (size_t i = 0; i < dns_msg_rr_count(a); i++)
		rr_check_equal(&a->rr[i], &b->rr[i]);
	/* We write EDNS version 0 and DNS_EDNS_MAX; the rest must survive. */
	CHECK(a->edns.present == b->edns.present);
	if (a->edns.present) {
		CHECK(a->edns.do_bit == b->edns.do_bit && a->edns.ext_rcode == b->edns.ext_rcode);
		CHECK(b->edns.udp_size == DNS_EDNS_MAX && b->edns.version == 0);
		CHECK(a->edns.opts_len == b->edns.opts_len);
		CHECK(memcmp(a->edns.opts, b->edns.opts, a->edns.opts_len) == 0);
	}
}

/* m written against limit (cap the same, on the heap at that size): either
 * whole (full bytes long) or a TC answer with the question alone. */
static void check_limit(const struct dns_msg *m, size_t full, size_t limit)
{
	uint8_t *out = malloc(limit ? limit : 1);
	size_t len = 0, want;
	bool trunc = false;
	struct dns_msg t;
	int r;

	CHECK(out);
	r = dns_msg_write(m, out, limit, limit, &len, &trunc);
	want = 12 + (m->has_question ? m->q.name.len + 4u : 0) + (m->edns.present ? 11 : 0);
	if (full <= limit) {
		CHECK(r == 0 && !trunc && len == full);
	} else if (want > limit) {
		CHECK(r == -EMSGSIZE);
	} else {
		CHECK(r == 0 && trunc && len == want);
		dns_msg_init(&t);
		CHECK(dns_msg_parse(&t, out, len) == 0);
		CHECK(t.id == m->id && t.flags == (m->flags | DNS_F_TC));
		question_check_equal(m, &t);
		CHECK(dns_msg_rr_count(&t) == 0);
		CHECK(t.edns.present == m->edns.present && t.edns.opts_len == 0);
		dns_msg_free(&t);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query q, rq;
	struct dns_msg a, b;
	uint8_t *out, *again;
	size_t len = 0, len2 = 0;
	bool trunc = false;
	int r, rqr, rrr;

	rqr = dns_query_parse(data, size, &q);
	CHECK(rqr == 0 || rqr == -EBADMSG || rqr == -EOPNOTSUPP);
	rrr = dns_reply_parse(data, size, &rq);
	CHECK(rrr == 0 || rrr == -EBADMSG || rrr == -EOPNOTSUPP);
	CHECK(rqr != 0 || rrr != 0); /* QR decides */

	dns_msg_init(&a);
	r = dns_msg_parse(&a, data, size);
	CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE);
	if (r != 0) {
		dns_msg_free(&a);
		return 0;
	}
	/* The fast paths read what the full parse read. */
	if (rqr == 0 || rrr == 0) {
		const struct dns_query *f = rqr == 0 ? &q : &rq;

		CHECK(f->id == a.id && f->flags == a.flags && a.has_question);
		CHECK(f->q.name.len == a.q.name.len && f->q.type == a.q.type);
		CHECK(memcmp(f->q.name.data, a.q.name.data, a.q.name.len) == 0);
		CHECK(f->question_end == DNS_HDR_LEN + a.q.name.len + 4u);
		CHECK(f->edns.present == a.edns.present);
	}

	out = malloc(DNS_MSG_MAX);
	CHECK(out);
	r = dns_msg_write(&a, out, DNS_MSG_MAX, DNS_MSG_MAX, &len, &trunc);
	CHECK(r == 0); /* a TC answer if ever too long for 65535 */
	if (!trunc) {
		dns_msg_init(&b);
		CHECK(dns_msg_parse(&b, out, len) == 0);
		msg_check_equal(&a, &b);
		/* Written again: the same bytes, in a buffer of exactly that size. */
		again = malloc(len);
		CHECK(again);
		CHECK(dns_msg_write(&b, again, len, len, &len2, &trunc) == 0);
		CHECK(!trunc && len2 == len && memcmp(again, out, len) == 0);
		free(again);
		dns_msg_free(&b);
		check_limit(&a, len, len - 1);
		check_limit(&a, len, DNS_UDP_PLAIN_MAX);
	}
	free(out);
	dns_msg_free(&a);
	return 0;
}
