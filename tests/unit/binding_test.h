/* Shared by the binding tests: building answers and offers, and checking them.
 * Static inline so each program takes what it uses. */
#ifndef SLUICE_TEST_BINDING_H
#define SLUICE_TEST_BINDING_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/binding.h"

/* ---- building answers ---- */

static void v4(uint8_t out[4], const char *s)
{
	assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

static void v6(uint8_t out[16], const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static inline struct dns_name name(const char *s)
{
	struct dns_name n;

	assert_int_equal(dns_name_from_text(&n, s), 0);
	return n;
}

/* An answer's record, in text: data is an address (A, AAAA), a name (CNAME,
 * DNAME, NS) or anything for SOA (a fixed SOA). */
struct rr_spec {
	enum dns_section sec;
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	const char *data;
};

static inline void add_rr(struct dns_msg *m, const struct rr_spec *s)
{
	uint8_t rdata[2 * DNS_NAME_MAX + 20];
	struct dns_rr rr = { .type = s->type, .cls = DNS_C_IN, .ttl = s->ttl, .rdata = rdata };
	struct dns_name n;

	rr.name = name(s->owner);
	switch (s->type) {
	case DNS_T_A:
		v4(rdata, s->data);
		rr.rdlen = 4;
		break;
	case DNS_T_AAAA:
		v6(rdata, s->data);
		rr.rdlen = 16;
		break;
	case DNS_T_SOA: {
		static const uint8_t nums[20] = { 0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 0x02, 0x58,
						  0, 0x09, 0x3a, 0x80, 0, 0, 0x01, 0x2c };
		struct dns_name r = name("hostmaster.home.int");

		n = name("ns1.home.int");
		memcpy(rdata, n.data, n.len);
		memcpy(rdata + n.len, r.data, r.len);
		memcpy(rdata + n.len + r.len, nums, 20);
		rr.rdlen = (uint16_t)(n.len + r.len + 20);
		break;
	}
	default:
		n = name(s->data);
		memcpy(rdata, n.data, n.len);
		rr.rdlen = n.len;
	}
	assert_int_equal(dns_msg_add_rr(m, s->sec, &rr), 0);
}

static inline void build(struct dns_msg *m, const char *qname, uint16_t qtype, uint16_t rcode,
		  const struct rr_spec *rrs, size_t n)
{
	dns_msg_init(m);
	m->id = 0xbeef;
	m->flags = (uint16_t)(DNS_F_QR | DNS_F_RD | DNS_F_RA | rcode);
	m->has_question = true;
	m->q.name = name(qname);
	m->q.type = qtype;
	m->q.cls = DNS_C_IN;
	for (size_t i = 0; i < n; i++)
		add_rr(m, &rrs[i]);
}

#define BUILD(m, q, t, rc, ...) do { \
	static const struct rr_spec rrs_[] = { __VA_ARGS__ }; \
	build(m, q, t, rc, rrs_, sizeof(rrs_) / sizeof(rrs_[0])); \
} while (0)
#define BUILD_EMPTY(m, q, t, rc) build(m, q, t, rc, NULL, 0)

/* n4 addresses 100.96.<base>.1.. and n6 fd00:2021:1111:8000::<base>:1.. */
static inline void make_offer(struct offer *o, unsigned base, unsigned n4, unsigned n6)
{
	memset(o, 0, sizeof(*o));
	o->n4 = (uint8_t)n4;
	o->n6 = (uint8_t)n6;
	for (unsigned i = 0; i < n4; i++) {
		v4(o->v4[i], "100.96.0.0");
		o->v4[i][2] = (uint8_t)base;
		o->v4[i][3] = (uint8_t)(i + 1);
	}
	for (unsigned i = 0; i < n6; i++) {
		v6(o->v6[i], "fd00:2021:1111:8000::");
		o->v6[i][13] = (uint8_t)base;
		o->v6[i][15] = (uint8_t)(i + 1);
	}
}

/* The answer section must be exactly these addresses, each owned by the
 * question name, with these TTLs (NULL: any). */
static inline void expect_answer(const struct dns_msg *m, uint16_t type, const uint8_t (*addr)[16],
			  const uint32_t *ttl, size_t n)
{
	size_t alen = type == DNS_T_A ? 4 : 16;

	assert_int_equal(m->count[DNS_SEC_ANSWER], n);
	for (size_t i = 0; i < n; i++) {
		const struct dns_rr *rr = &m->rr[i];

		assert_int_equal(rr->type, type);
		assert_int_equal(rr->cls, DNS_C_IN);
		assert_int_equal(rr->rdlen, alen);
		assert_memory_equal(rr->rdata, addr[i], alen);
		assert_int_equal(rr->name.len, m->q.name.len);
		assert_memory_equal(rr->name.data, m->q.name.data, m->q.name.len); /* case too */
		if (ttl)
			assert_int_equal(rr->ttl, ttl[i]);
	}
}

static void set16(uint8_t out[16], const uint8_t *a, size_t alen)
{
	memset(out, 0, 16);
	memcpy(out, a, alen);
}

/* Writes the message and parses it back: what the client would receive. */
static inline void wire_round_trip(const struct dns_msg *m, struct dns_msg *back)
{
	static uint8_t wire[65535];
	size_t len;
	bool trunc;

	assert_int_equal(dns_msg_write(m, wire, sizeof(wire), sizeof(wire), &len, &trunc), 0);
	assert_false(trunc);
	dns_msg_init(back);
	assert_int_equal(dns_msg_parse(back, wire, len), 0);
}

/* ---- answers ---- */

#endif
