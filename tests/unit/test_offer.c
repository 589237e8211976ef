/* The proxy-IP offer option: byte layout, every length checked, versions,
 * finding it among EDNS options, putting it into a query, reading back use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "dns/offer.h"

static void v4(uint8_t out[4], const char *s)
{
	assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

static void v6(uint8_t out[16], const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

/* n4 addresses 100.96.0.1.. and n6 fd00:2021:1111:8000::1.. */
static void make_offer(struct offer *o, unsigned n4, unsigned n6)
{
	memset(o, 0, sizeof(*o));
	o->n4 = (uint8_t)n4;
	o->n6 = (uint8_t)n6;
	for (unsigned i = 0; i < n4; i++) {
		v4(o->v4[i], "100.96.0.0");
		o->v4[i][3] = (uint8_t)(i + 1);
	}
	for (unsigned i = 0; i < n6; i++) {
		v6(o->v6[i], "fd00:2021:1111:8000::");
		o->v6[i][15] = (uint8_t)(i + 1);
	}
}

/* The example of docs/protocol.md, byte for byte. */
static const uint8_t doc_example[] = {
	0x01, 0x02, 0x01,                                /* version 1, 2 IPv4, 1 IPv6 */
	0x64, 0x60, 0x00, 0x01,                          /* 100.96.0.1 */
	0x64, 0x60, 0x00, 0x02,                          /* 100.96.0.2 */
	0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, 0x80, 0x00,  /* fd00:2021:1111:8000::1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

static void test_doc_example(void **state)
{
	struct offer o, d;
	uint8_t buf[OFFER_DATA_MAX];
	size_t len;

	(void)state;
	make_offer(&o, 2, 1);
	assert_int_equal(offer_encode(&o, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(doc_example));
	assert_memory_equal(buf, doc_example, len);
	assert_int_equal(offer_decode(doc_example, sizeof(doc_example), &d), 0);
	assert_memory_equal(&o, &d, sizeof(o));
}

/* The whole tunnelled query of docs/protocol.md: what the client writes, and
 * what the gateway's fast query parse finds in it. */
static const uint8_t doc_query[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x6e,
	0x61, 0x73, 0x04, 0x68, 0x6f, 0x6d, 0x65, 0x03, 0x69, 0x6e, 0x74, 0x00, 0x00, 0x01,
	0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0xfd,
	0xe9, 0x00, 0x1b, 0x01, 0x02, 0x01, 0x64, 0x60, 0x00, 0x01, 0x64, 0x60, 0x00, 0x02,
	0xfd, 0x00, 0x20, 0x21, 0x11, 0x11, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01,
};

static void test_doc_query(void **state)
{
	struct dns_msg q;
	struct dns_query pq;
	struct offer o, d;
	uint8_t obuf[OFFER_OPT_MAX], wire[512];
	size_t len;
	bool trunc;

	(void)state;
	dns_msg_init(&q);
	q.id = 0x1234;
	q.flags = DNS_F_RD;
	q.has_question = true;
	assert_int_equal(dns_name_from_text(&q.q.name, "nas.home.int"), 0);
	q.q.type = DNS_T_A;
	q.q.cls = DNS_C_IN;
	make_offer(&o, 2, 1);
	assert_int_equal(offer_edns_set(&q.edns, &o, obuf, sizeof(obuf)), 0);
	assert_int_equal(dns_msg_write(&q, wire, sizeof(wire), sizeof(wire), &len, &trunc), 0);
	assert_int_equal(len, sizeof(doc_query));
	assert_memory_equal(wire, doc_query, len);
	assert_int_equal(dns_query_parse(doc_query, sizeof(doc_query), &pq), 0);
	assert_int_equal(offer_find(&pq.edns, &d), 0);
	assert_memory_equal(&o, &d, sizeof(o));
	dns_msg_free(&q);
}

static void test_round_trip_sizes(void **state)
{
	static const struct { unsigned n4, n6; size_t len; } t[] = {
		{ 0, 0, 3 }, { 1, 0, 7 }, { 0, 1, 19 }, { 8, 8, 3 + 32 + 128 },
		{ 16, 0, 67 }, { 0, 16, 259 }, { 16, 16, OFFER_DATA_MAX },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct offer o, d;
		uint8_t buf[OFFER_DATA_MAX];
		size_t len;

		make_offer(&o, t[i].n4, t[i].n6);
		assert_int_equal(offer_encode(&o, buf, sizeof(buf), &len), 0);
		assert_int_equal(len, t[i].len);
		assert_int_equal(buf[0], OFFER_VERSION);
		assert_int_equal(offer_decode(buf, len, &d), 0);
		assert_memory_equal(&o, &d, sizeof(o));
		/* Every shorter output buffer is refused, never overrun. */
		for (size_t cap = 0; cap < len; cap++)
			assert_int_equal(offer_encode(&o, buf, cap, &len), -EMSGSIZE);
	}
}

static void test_encode_refuses_over_limit(void **state)
{
	struct offer o;
	uint8_t buf[1024];
	size_t len;

	(void)state;
	make_offer(&o, 16, 16);
	o.n4 = OFFER_MAX4 + 1;
	assert_int_equal(offer_encode(&o, buf, sizeof(buf), &len), -EINVAL);
	o.n4 = 0;
	o.n6 = OFFER_MAX6 + 1;
	assert_int_equal(offer_encode(&o, buf, sizeof(buf), &len), -EINVAL);
}

static void test_decode_errors(void **state)
{
	static const struct { const char *what; uint8_t b[24]; size_t len; int err; } t[] = {
		{ "empty", { 0 }, 0, -EBADMSG },
		{ "version only", { 1 }, 1, -EBADMSG },
		{ "no n6", { 1, 0 }, 2, -EBADMSG },
		{ "version 0", { 0, 0, 0 }, 3, -EPROTONOSUPPORT },
		{ "version 2", { 2, 0, 0 }, 3, -EPROTONOSUPPORT },
		{ "version 255 alone", { 255 }, 1, -EPROTONOSUPPORT },
		{ "n4 17", { 1, 17, 0 }, 3, -EBADMSG },
		{ "n6 17", { 1, 0, 17 }, 3, -EBADMSG },
		{ "n4 255", { 1, 255, 0 }, 3, -EBADMSG },
		{ "claims 1 v4, none there", { 1, 1, 0 }, 3, -EBADMSG },
		{ "claims 1 v4, 3 bytes", { 1, 1, 0, 100, 96, 0 }, 6, -EBADMSG },
		{ "trailing byte", { 1, 1, 0, 100, 96, 0, 1, 0 }, 8, -EBADMSG },
		{ "trailing on empty", { 1, 0, 0, 0 }, 4, -EBADMSG },
		{ "v6 short", { 1, 0, 1, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 18, -EBADMSG },
		{ "fine", { 1, 1, 0, 100, 96, 0, 1 }, 7, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct offer o;

		memset(&o, 0xaa, sizeof(o));
		print_message("%s\n", t[i].what);
		assert_int_equal(offer_decode(t[i].b, t[i].len, &o), t[i].err);
		if (t[i].err) {
			assert_int_equal(o.n4, 0); /* zeroed on failure */
			assert_int_equal(o.n6, 0);
		}
	}
	assert_int_equal(offer_decode(NULL, 0, &(struct offer){ 0 }), -EBADMSG);
}

/* Every prefix of a full offer but the whole is malformed; so is every
 * extension by one byte. */
static void test_truncation_sweep(void **state)
{
	struct offer o, d;
	uint8_t buf[OFFER_DATA_MAX + 1];
	size_t len;

	(void)state;
	make_offer(&o, 16, 16);
	assert_int_equal(offer_encode(&o, buf, sizeof(buf), &len), 0);
	for (size_t l = 0; l < len; l++)
		assert_int_equal(offer_decode(buf, l, &d), -EBADMSG);
	buf[len] = 0;
	assert_int_equal(offer_decode(buf, len + 1, &d), -EBADMSG);
	/* Counts that disagree with the length, one way or the other. */
	for (int n4 = 0; n4 <= 16; n4++) {
		for (int n6 = 0; n6 <= 16; n6++) {
			buf[1] = (uint8_t)n4;
			buf[2] = (uint8_t)n6;
			assert_int_equal(offer_decode(buf, len, &d),
					 n4 == 16 && n6 == 16 ? 0 : -EBADMSG);
		}
	}
}

/* Options for the EDNS tests: a cookie, an offer, padding. */
static size_t put_opt(uint8_t *p, uint16_t code, const uint8_t *data, uint16_t len)
{
	p[0] = (uint8_t)(code >> 8);
	p[1] = (uint8_t)code;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	if (len)
		memcpy(p + 4, data, len);
	return 4 + (size_t)len;
}

static const uint8_t cookie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void test_find(void **state)
{
	uint8_t opts[1024];
	struct dns_edns e = { .present = true, .opts = opts };
	struct offer o;
	size_t n;

	(void)state;
	assert_int_equal(offer_find(&(struct dns_edns){ 0 }, &o), -ENOENT);
	assert_int_equal(offer_find(&e, &o), -ENOENT); /* EDNS, no options */
	n = put_opt(opts, 10, cookie, 8);
	e.opts_len = (uint16_t)n;
	assert_int_equal(offer_find(&e, &o), -ENOENT); /* other options only */
	n += put_opt(opts + n, DNS_OPT_SLUICE_OFFER, doc_example, sizeof(doc_example));
	n += put_opt(opts + n, 12, NULL, 0);
	e.opts_len = (uint16_t)n;
	assert_int_equal(offer_find(&e, &o), 0);
	assert_int_equal(o.n4, 2);
	assert_int_equal(o.n6, 1);
	assert_int_equal(o.v4[1][3], 2);
	/* Options that do not tile: a length past the end. */
	e.opts_len = (uint16_t)(n - 1);
	assert_int_equal(offer_find(&e, &o), -EBADMSG);
	/* A dangling 3-byte option header. */
	e.opts_len = (uint16_t)(n + 3);
	opts[n] = opts[n + 1] = opts[n + 2] = 0;
	assert_int_equal(offer_find(&e, &o), -EBADMSG);
	/* Two offers. */
	e.opts_len = (uint16_t)(n + put_opt(opts + n, DNS_OPT_SLUICE_OFFER, doc_example,
					       sizeof(doc_example)));
	assert_int_equal(offer_find(&e, &o), -EBADMSG);
	/* A malformed offer, an unknown version. */
	n = put_opt(opts, DNS_OPT_SLUICE_OFFER, doc_example, sizeof(doc_example) - 1);
	e.opts_len = (uint16_t)n;
	assert_int_equal(offer_find(&e, &o), -EBADMSG);
	n = put_opt(opts, DNS_OPT_SLUICE_OFFER, (const uint8_t[]){ 2, 0, 0 }, 3);
	e.opts_len = (uint16_t)n;
	assert_int_equal(offer_find(&e, &o), -EPROTONOSUPPORT);
	/* An empty offer is an offer. */
	n = put_opt(opts, DNS_OPT_SLUICE_OFFER, (const uint8_t[]){ 1, 0, 0 }, 3);
	e.opts_len = (uint16_t)n;
	assert_int_equal(offer_find(&e, &o), 0);
	assert_int_equal(o.n4 + o.n6, 0);
}

static void test_edns_set(void **state)
{
	uint8_t old[256], buf[512];
	struct dns_edns e = { 0 };
	struct offer o, d;
	size_t n;

	(void)state;
	/* No EDNS yet: it is turned on, with the offer its only option. */
	make_offer(&o, 2, 1);
	assert_int_equal(offer_edns_set(&e, &o, buf, sizeof(buf)), 0);
	assert_true(e.present);
	assert_int_equal(e.udp_size, DNS_EDNS_MAX);
	assert_int_equal(e.opts_len, 4 + sizeof(doc_example));
	assert_int_equal(buf[0] << 8 | buf[1], DNS_OPT_SLUICE_OFFER);
	assert_int_equal(buf[2] << 8 | buf[3], sizeof(doc_example));
	assert_memory_equal(buf + 4, doc_example, sizeof(doc_example));
	assert_int_equal(offer_find(&e, &d), 0);
	assert_memory_equal(&o, &d, sizeof(o));

	/* Other options kept in order; an old offer replaced, not doubled. */
	n = put_opt(old, 10, cookie, 8);
	n += put_opt(old + n, DNS_OPT_SLUICE_OFFER, (const uint8_t[]){ 1, 0, 0 }, 3);
	n += put_opt(old + n, 12, NULL, 0);
	e = (struct dns_edns){ .present = true, .udp_size = 4096, .do_bit = true,
			       .opts = old, .opts_len = (uint16_t)n };
	assert_int_equal(offer_edns_set(&e, &o, buf, sizeof(buf)), 0);
	assert_int_equal(e.udp_size, 4096);
	assert_true(e.do_bit);
	assert_int_equal(e.opts_len, 12 + 4 + 4 + sizeof(doc_example));
	assert_memory_equal(buf, old, 12);
	assert_memory_equal(buf + 12, old + 19, 4);
	assert_int_equal(offer_find(&e, &d), 0);
	assert_memory_equal(&o, &d, sizeof(o));

	/* Too small a buffer, at every size. */
	for (size_t cap = 0; cap < 12 + 4 + 4 + sizeof(doc_example); cap++) {
		struct dns_edns f = { .present = true, .opts = old, .opts_len = (uint16_t)n };

		assert_int_equal(offer_edns_set(&f, &o, buf, cap), -EMSGSIZE);
		assert_ptr_equal(f.opts, old); /* untouched */
	}
	/* Existing options that do not tile. */
	e = (struct dns_edns){ .present = true, .opts = old, .opts_len = (uint16_t)(n - 1) };
	assert_int_equal(offer_edns_set(&e, &o, buf, sizeof(buf)), -EBADMSG);
}

/* The client's whole path: build the tunnelled query, write it, the gateway
 * parses it and finds the offer. */
static void test_query_on_the_wire(void **state)
{
	struct dns_msg q, p;
	struct offer o, d;
	uint8_t obuf[OFFER_OPT_MAX], wire[1024];
	size_t len;
	bool trunc;

	(void)state;
	dns_msg_init(&q);
	dns_msg_init(&p);
	q.id = 0x1234;
	q.flags = DNS_F_RD;
	q.has_question = true;
	assert_int_equal(dns_name_from_text(&q.q.name, "nas.home.int"), 0);
	q.q.type = DNS_T_A;
	q.q.cls = DNS_C_IN;
	make_offer(&o, 16, 16);
	assert_int_equal(offer_edns_set(&q.edns, &o, obuf, sizeof(obuf)), 0);
	assert_int_equal(dns_msg_write(&q, wire, sizeof(wire), sizeof(wire), &len, &trunc), 0);
	assert_false(trunc);
	assert_true(len <= DNS_EDNS_MAX);
	assert_int_equal(dns_msg_parse(&p, wire, len), 0);
	assert_true(p.edns.present);
	assert_int_equal(offer_find(&p.edns, &d), 0);
	assert_memory_equal(&o, &d, sizeof(o));
	dns_msg_free(&q);
	dns_msg_free(&p);
}

static void add_a(struct dns_msg *m, enum dns_section sec, uint16_t type, const uint8_t *a)
{
	struct dns_rr rr = { .type = type, .cls = DNS_C_IN, .ttl = 60,
			     .rdlen = type == DNS_T_A ? 4 : 16, .rdata = (uint8_t *)a };

	assert_int_equal(dns_name_from_text(&rr.name, "x.test"), 0);
	assert_int_equal(dns_msg_add_rr(m, sec, &rr), 0);
}

static void test_used(void **state)
{
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	uint8_t other[16];

	(void)state;
	make_offer(&o, 4, 4);
	dns_msg_init(&m);
	add_a(&m, DNS_SEC_ANSWER, DNS_T_A, o.v4[2]);
	add_a(&m, DNS_SEC_ANSWER, DNS_T_A, o.v4[0]);
	v4(other, "100.96.9.9"); /* bound earlier: not from this offer */
	add_a(&m, DNS_SEC_ANSWER, DNS_T_A, other);
	add_a(&m, DNS_SEC_ANSWER, DNS_T_AAAA, o.v6[3]);
	add_a(&m, DNS_SEC_ADDITIONAL, DNS_T_A, o.v4[1]); /* not in the answer section */
	u.dropped = 7;
	offer_used(&o, &m, &u);
	assert_int_equal(u.used4, 0x5);
	assert_int_equal(u.used6, 0x8);
	assert_int_equal(u.refused4 | u.refused6 | u.dropped, 0);
	dns_msg_free(&m);
}

static void test_addr_usable(void **state)
{
	static const struct { const char *a; bool ok; } t[] = {
		{ "100.96.0.1", true }, { "100.127.255.254", true }, { "10.0.0.1", true },
		{ "203.0.113.50", true }, { "0.0.0.0", false }, { "0.1.2.3", false },
		{ "127.0.0.1", false }, { "169.254.1.1", false }, { "224.0.0.1", false },
		{ "239.255.255.250", false }, { "240.0.0.1", false }, { "255.255.255.255", false },
		{ "fd00:2021:1111:8000::1", true }, { "2001:db8::1", true }, { "::", false },
		{ "::1", false }, { "::100.96.0.1", false }, { "::ffff:100.96.0.1", false },
		{ "fe80::1", false }, { "febf::1", false }, { "fec0::1", true },
		{ "ff02::1", false }, { "64:ff9b::1", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t a[16];
		size_t alen = strchr(t[i].a, ':') ? 16 : 4;

		assert_int_equal(inet_pton(alen == 4 ? AF_INET : AF_INET6, t[i].a, a), 1);
		print_message("%s\n", t[i].a);
		assert_int_equal(offer_addr_usable(a, alen), t[i].ok);
	}
	assert_false(offer_addr_usable((const uint8_t *)"abcdefgh", 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_example),
		cmocka_unit_test(test_doc_query),
		cmocka_unit_test(test_round_trip_sizes),
		cmocka_unit_test(test_encode_refuses_over_limit),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_edns_set),
		cmocka_unit_test(test_query_on_the_wire),
		cmocka_unit_test(test_used),
		cmocka_unit_test(test_addr_usable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
