/* DNS messages, reading: the query and reply fast paths and the full parse
 * (with RDATA decompression), on real captures and on hand-built attacks:
 * RFC 9267's bug classes and the CVEs of dns-behaviour.md §12. Inputs are
 * copied to the heap at their exact size so ASan sees any read past them.
 * Writing is in test_dns_msg_write.c, names in test_dns_name.c. */
#include "dns_msg_test.h"

/* ---- dns_query_parse / dns_reply_parse ---- */

static void test_query_captured(void **state)
{
	static const struct {
		const uint8_t *b;
		size_t len;
		uint16_t id, flags, type;
		const char *qname;
		bool edns, do_bit;
		uint16_t udp, opts_len;
	} t[] = {
		{ v_a_query, sizeof(v_a_query), 0x7c5e, 0x0120, DNS_T_A, "www.example.test",
		  true, false, 1232, 12 },
		{ v_aaaa_query, sizeof(v_aaaa_query), 0x5a30, 0x0120, DNS_T_AAAA,
		  "www.example.test", true, true, 1232, 12 },
		{ v_noedns_query, sizeof(v_noedns_query), 0xa5b7, 0x0120, DNS_T_A,
		  "www.example.test", false, false, 0, 0 },
		{ v_nocookie_query, sizeof(v_nocookie_query), 0xc6a6, 0x0130, DNS_T_AAAA,
		  "www.example.test", true, false, 1232, 0 },
		{ v_cname_chain6_query, sizeof(v_cname_chain6_query), 0x8be4, 0x0120, DNS_T_AAAA,
		  "A.Chain.TEST", false, false, 0, 0 },
		{ v_ptr_query, sizeof(v_ptr_query), 0xdd86, 0x0120, DNS_T_PTR,
		  "1.2.0.192.in-addr.arpa", true, false, 1232, 12 },
	};

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		uint8_t *b = dup(t[i].b, t[i].len);
		struct dns_name want = name(t[i].qname);
		struct dns_query q;

		assert_int_equal(dns_query_parse(b, t[i].len, &q), 0);
		assert_int_equal(q.id, t[i].id);
		assert_int_equal(q.flags, t[i].flags);
		assert_int_equal(q.q.type, t[i].type);
		assert_int_equal(q.q.cls, DNS_C_IN);
		assert_int_equal(q.q.name.len, want.len);
		assert_memory_equal(q.q.name.data, want.data, want.len); /* case kept */
		assert_int_equal(q.question_end, DNS_HDR_LEN + want.len + 4);
		assert_int_equal(q.edns.present, t[i].edns);
		assert_int_equal(q.edns.do_bit, t[i].do_bit);
		assert_int_equal(q.edns.udp_size, t[i].udp);
		assert_int_equal(q.edns.opts_len, t[i].opts_len);
		if (t[i].opts_len) { /* dig's client cookie */
			assert_int_equal(g16(q.edns.opts), DNS_OPT_COOKIE);
			assert_int_equal(g16(q.edns.opts + 2), 8);
			assert_ptr_equal(q.edns.opts, b + t[i].len - 12);
		}
		assert_int_equal(dns_reply_parse(b, t[i].len, &q), -EBADMSG); /* QR clear */
		free(b);
	}
}

static const struct qcase {
	const char *what;
	const uint8_t *b;
	size_t len;
	int ret;
	int edns;           /* for ret 0: -1 absent, else the opts_len */
} qcases[] = {
	{ "plain", B(QHDR(0x0100, 1, 0, 0, 0), QA), 0, -1 },
	{ "OPT", B(QHDR(0x0100, 1, 0, 0, 1), QA, OPT(0, 0)), 0, 0 },
	{ "OPT then a TSIG-like record", B(QHDR(0, 1, 0, 0, 2), QA, OPT(0, 0),
					   0xc0, 12, 0, 250, 0, 255, 0, 0, 0, 0, 0, 1, 9), 0, 0 },
	{ "OPT after another record", B(QHDR(0, 1, 0, 0, 2), QA,
					0xc0, 12, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0, OPT(0, 0)), 0, 0 },
	{ "cookie and sluice options tile", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 16),
		0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0xfd, 0xe9, 0, 0), 0, 16 },
	{ "trailing bytes ignored", B(QHDR(0, 1, 0, 0, 0), QA, 0xde, 0xad), 0, -1 },
	{ "QR set", B(QHDR(0x8100, 1, 0, 0, 0), QA), -EBADMSG, 0 },
	{ "opcode IQUERY", B(QHDR(0x0800, 1, 0, 0, 0), QA), -EOPNOTSUPP, 0 },
	{ "opcode STATUS", B(QHDR(0x1000, 1, 0, 0, 0), QA), -EOPNOTSUPP, 0 },
	{ "opcode UPDATE", B(QHDR(0x2800, 1, 0, 0, 0), QA), -EOPNOTSUPP, 0 },
	{ "opcode 15, no question", B(QHDR(0x7800, 0, 0, 0, 0)), -EOPNOTSUPP, 0 },
	{ "qdcount 0", B(QHDR(0, 0, 0, 0, 0)), -EBADMSG, 0 },
	{ "qdcount 2", B(QHDR(0, 2, 0, 0, 0), QA, QA), -EBADMSG, 0 },
	{ "an answer", B(QHDR(0, 1, 1, 0, 0), QA, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4,
			 1, 2, 3, 4), -EBADMSG, 0 },
	{ "an authority record", B(QHDR(0, 1, 0, 1, 0), QA, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0,
				   0, 4, 1, 2, 3, 4), -EBADMSG, 0 },
	{ "two OPTs", B(QHDR(0, 1, 0, 0, 2), QA, OPT(0, 0), OPT(0, 0)), -EBADMSG, 0 },
	{ "OPT with a name", B(QHDR(0, 1, 0, 0, 1), QA, 0xc0, 12, 0, 41, 0x10, 0, 0, 0, 0, 0,
			       0, 0), -EBADMSG, 0 },
	/* dnsmasq CVE-2017-14496: an option longer than what is left. */
	{ "option overruns RDATA", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 4), 0, 10, 0, 8),
	  -EBADMSG, 0 },
	{ "option length 0xffff", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 6), 0, 10, 0xff, 0xff, 1, 2),
	  -EBADMSG, 0 },
	{ "option overruns by one", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 7), 0, 10, 0, 4, 1, 2, 3),
	  -EBADMSG, 0 },
	{ "half an option header", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 2), 0, 10), -EBADMSG, 0 },
	{ "second option cut", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 7), 0, 10, 0, 0, 0, 8, 0),
	  -EBADMSG, 0 },
	{ "OPT RDLENGTH overruns", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 10), 0, 10, 0, 0),
	  -EBADMSG, 0 },
	{ "arcount 2, one record", B(QHDR(0, 1, 0, 0, 2), QA, OPT(0, 0)), -EBADMSG, 0 },
	{ "arcount 65535", B(QHDR(0, 1, 0, 0, 0), QA), -EBADMSG, 0 }, /* patched below */
	{ "record RDLENGTH overruns", B(QHDR(0, 1, 0, 0, 1), QA, 0xc0, 12, 0, 1, 0, 1, 0, 0,
					0, 0, 0, 5, 1, 2, 3, 4), -EBADMSG, 0 },
	{ "qname points into the header", B(QHDR(0, 1, 0, 0, 0), 0xc0, 2, 0, 1, 0, 1),
	  -EBADMSG, 0 },
	{ "qname points to itself", B(QHDR(0, 1, 0, 0, 0), 0xc0, 12, 0, 1, 0, 1), -EBADMSG, 0 },
	{ "qname 0x40 label", B(QHDR(0, 1, 0, 0, 0), 0x41, 'a', 0, 0, 1, 0, 1), -EBADMSG, 0 },
	{ "no type and class", B(QHDR(0, 1, 0, 0, 0), 1, 'a', 0, 0, 1, 0), -EBADMSG, 0 },
	{ "header only", B(QHDR(0, 1, 0, 0, 0)), -EBADMSG, 0 },
};

static void test_query_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(qcases); i++) {
		const struct qcase *c = &qcases[i];
		uint8_t *b = dup(c->b, c->len);
		struct dns_query q;
		int r;

		if (strcmp(c->what, "arcount 65535") == 0)
			b[DNS_OFF_ARCOUNT] = b[DNS_OFF_ARCOUNT + 1] = 0xff;
		r = dns_query_parse(b, c->len, &q);
		if (r != c->ret)
			fail_msg("%s: %d, want %d", c->what, r, c->ret);
		if (r == 0 || r == -EOPNOTSUPP || (r == -EBADMSG && !(b[2] & 0x80)))
			assert_int_equal(q.id, 0x1234); /* enough to answer FORMERR/NOTIMP */
		if (r == 0) {
			assert_int_equal(q.edns.present, c->edns >= 0);
			if (c->edns >= 0)
				assert_int_equal(q.edns.opts_len, c->edns);
		}
		free(b);
	}
}

static void test_query_edns_fields(void **state)
{
	/* udp 100, ext-rcode 1, version 2, DO and another flag bit. */
	static const uint8_t m[] = { QHDR(0, 1, 0, 0, 1), QA, 0, 0, 41, 0, 100, 1, 2, 0x80, 0x01,
				     0, 0 };
	uint8_t *b = dup(m, sizeof(m));
	struct dns_query q;

	(void)state;
	assert_int_equal(dns_query_parse(b, sizeof(m), &q), 0);
	assert_true(q.edns.present);
	assert_int_equal(q.edns.udp_size, 512); /* below 512 reads as 512 */
	assert_int_equal(q.edns.ext_rcode, 1);
	assert_int_equal(q.edns.version, 2);
	assert_true(q.edns.do_bit);
	assert_int_equal(dns_udp_limit(&q), 512);
	free(b);
}

static void test_reply_captured(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(replies); i++) {
		uint8_t *b = dup(replies[i].b, replies[i].len);
		struct dns_query q;

		if (dns_reply_parse(b, replies[i].len, &q) != 0)
			fail_msg("%s", replies[i].name);
		assert_int_equal(q.id, g16(b));
		assert_int_equal(q.question_end, DNS_HDR_LEN + q.q.name.len + 4);
		assert_int_equal(q.edns.present, b[replies[i].len - 11] == 0 &&
						 g16(b + replies[i].len - 10) == DNS_T_OPT);
		assert_int_equal(dns_query_parse(b, replies[i].len, &q), -EBADMSG);
		free(b);
	}
}

static const struct rcase {
	const char *what;
	const uint8_t *b;
	size_t len;
} rcases[] = {
	{ "OPT in the answers", B(QHDR(0x8180, 1, 1, 0, 0), QA, OPT(0, 0)) },
	{ "OPT in the authority", B(QHDR(0x8180, 1, 0, 1, 0), QA, OPT(0, 0)) },
	{ "two OPTs", B(QHDR(0x8180, 1, 0, 0, 2), QA, OPT(0, 0), OPT(0, 0)) },
	{ "OPT option overrun", B(QHDR(0x8180, 1, 0, 0, 1), QA, OPT(0, 4), 0, 10, 0, 1) },
	{ "answer count unbacked", B(QHDR(0x8180, 1, 2, 0, 0), QA, 0xc0, 12, 0, 1, 0, 1,
				     0, 0, 0, 0, 0, 4, 1, 2, 3, 4) },
	{ "RDLENGTH overrun", B(QHDR(0x8180, 1, 1, 0, 0), QA, 0xc0, 12, 0, 1, 0, 1,
				0, 0, 0, 0, 0, 5, 1, 2, 3, 4) },
	{ "owner forward pointer", B(QHDR(0x8180, 1, 1, 0, 0), QA, 0xc0, 40, 0, 1, 0, 1,
				     0, 0, 0, 0, 0, 0) },
	{ "qdcount 0", B(QHDR(0x8180, 0, 0, 0, 0)) },
	{ "QR clear", B(QHDR(0x0180, 1, 0, 0, 0), QA) },
};

static void test_reply_errors(void **state)
{

	(void)state;
	for (size_t i = 0; i < N(rcases); i++) {
		const struct rcase *t = &rcases[i];
		uint8_t *b = dup(t->b, t->len);
		struct dns_query q;
		struct dns_msg m;

		dns_msg_init(&m);
		if (dns_reply_parse(b, t->len, &q) != -EBADMSG)
			fail_msg("%s: accepted", t->what);
		if (i < 7 && dns_msg_parse(&m, b, t->len) != -EBADMSG)
			fail_msg("%s: dns_msg_parse accepted", t->what);
		dns_msg_free(&m);
		free(b);
	}
}

/* Every strict prefix of every capture fails every parser; 0..12 bytes too
 * (c-ares CVE-2023-32067: a 0-byte payload). */
static void test_truncation_sweep(void **state)
{
	struct dns_msg m;

	(void)state;
	dns_msg_init(&m);
	for (size_t i = 0; i < N(replies) + N(queries); i++) {
		const struct vec *v = i < N(replies) ? &replies[i] : &queries[i - N(replies)];

		for (size_t l = 0; l < v->len; l++) {
			uint8_t *b = dup(v->b, l);
			struct dns_query q;

			assert_int_not_equal(dns_query_parse(b, l, &q), 0);
			assert_int_not_equal(dns_reply_parse(b, l, &q), 0);
			assert_int_not_equal(dns_msg_parse(&m, b, l), 0);
			free(b);
		}
	}
	dns_msg_free(&m);
}

/* systemd-resolved CVE-2017-9445 style edges: sizes 0..12, and exactly 12. */
static void test_tiny_sizes(void **state)
{
	static const uint8_t empty[12] = { 0x12, 0x34, 0x81, 0x80 };
	struct dns_msg m;

	(void)state;
	dns_msg_init(&m);
	for (size_t l = 0; l <= 12; l++) {
		uint8_t *b = dup(empty, l);
		struct dns_query q;

		assert_int_equal(dns_query_parse(b, l, &q), -EBADMSG);
		assert_int_equal(dns_reply_parse(b, l, &q), -EBADMSG);
		/* A header with no question and no records is a message. */
		assert_int_equal(dns_msg_parse(&m, b, l), l == 12 ? 0 : -EBADMSG);
		free(b);
	}
	assert_int_equal(m.id, 0x1234);
	assert_false(m.has_question);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	assert_int_equal(round_trip(empty, 12), 12);
	assert_int_equal(dns_msg_parse(&m, NULL, 0), -EBADMSG);
	dns_msg_free(&m);
}

/* ---- dns_msg_parse ---- */

static void test_msg_captured(void **state)
{
	struct dns_msg m;
	size_t p;

	(void)state;
	dns_msg_init(&m);

	assert_int_equal(dns_msg_parse(&m, v_a_reply, sizeof(v_a_reply)), 0);
	assert_int_equal(m.id, 0x7c5e);
	assert_int_equal(m.flags, 0x8580);
	assert_true(m.has_question);
	assert_int_equal(m.count[0], 2);
	owner_is(&m.rr[0], "www.example.test", DNS_T_A);
	assert_int_equal(m.rr[0].ttl, 300);
	assert_int_equal(m.rr[0].rdlen, 4);
	assert_memory_equal(m.rr[0].rdata, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(m.rr[1].rdata, "\xc0\x00\x02\x02", 4);
	assert_true(m.edns.present);
	assert_int_equal(m.edns.udp_size, 1232);
	assert_int_equal(m.edns.opts_len, 0);

	assert_int_equal(dns_msg_parse(&m, v_aaaa_reply, sizeof(v_aaaa_reply)), 0);
	owner_is(&m.rr[0], "www.example.test", DNS_T_AAAA);
	assert_int_equal(m.rr[0].rdlen, 16);
	assert_memory_equal(m.rr[0].rdata, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	assert_true(m.edns.do_bit);

	/* dnsmasq: CNAME targets uncompressed, the next owner points into them. */
	assert_int_equal(dns_msg_parse(&m, v_cname_chain_reply, sizeof(v_cname_chain_reply)), 0);
	assert_int_equal(m.count[0], 3);
	owner_is(&m.rr[0], "a.chain.test", DNS_T_CNAME);
	p = 0;
	rdata_name(&m.rr[0], &p, "b.chain.test");
	assert_int_equal(p, m.rr[0].rdlen);
	owner_is(&m.rr[1], "b.chain.test", DNS_T_CNAME);
	p = 0;
	rdata_name(&m.rr[1], &p, "c.chain.test");
	owner_is(&m.rr[2], "c.chain.test", DNS_T_A);
	assert_int_equal(m.rr[0].ttl, 0);

	/* The same chain asked in mixed case: the question keeps it. */
	assert_int_equal(dns_msg_parse(&m, v_cname_chain6_reply, sizeof(v_cname_chain6_reply)), 0);
	assert_int_equal(m.q.name.data[1], 'A');
	owner_is(&m.rr[0], "A.Chain.TEST", DNS_T_CNAME);
	owner_is(&m.rr[2], "c.chain.test", DNS_T_AAAA);
	assert_false(m.edns.present);

	/* unbound: MX exchanges compressed against the owner. */
	assert_int_equal(dns_msg_parse(&m, v_mx_reply, sizeof(v_mx_reply)), 0);
	assert_int_equal(m.count[0], 2);
	owner_is(&m.rr[0], "example.test", DNS_T_MX);
	assert_int_equal(m.rr[0].rdlen, 2 + 19);
	assert_int_equal(g16(m.rr[0].rdata), 10);
	p = 2;
	rdata_name(&m.rr[0], &p, "mail.example.test");
	assert_int_equal(g16(m.rr[1].rdata), 20);
	p = 2;
	rdata_name(&m.rr[1], &p, "mail2.example.test");

	assert_int_equal(dns_msg_parse(&m, v_srv_reply, sizeof(v_srv_reply)), 0);
	owner_is(&m.rr[0], "_sip._tcp.example.test", DNS_T_SRV);
	assert_memory_equal(m.rr[0].rdata, "\x00\x0a\x00\x3c\x13\xc4", 6);
	p = 6;
	rdata_name(&m.rr[0], &p, "sip.example.test");
	assert_int_equal(p, m.rr[0].rdlen);
	p = 6;
	rdata_name(&m.rr[1], &p, "sip2.example.test");

	/* NXDOMAIN: the SOA in the authority, both names compressed. */
	assert_int_equal(dns_msg_parse(&m, v_nxdomain_reply, sizeof(v_nxdomain_reply)), 0);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	assert_int_equal(m.count[0], 0);
	assert_int_equal(m.count[1], 1);
	assert_int_equal(dns_msg_rr_section(&m, 0), DNS_SEC_AUTHORITY);
	owner_is(&m.rr[0], "example.test", DNS_T_SOA);
	p = 0;
	rdata_name(&m.rr[0], &p, "ns1.example.test");
	rdata_name(&m.rr[0], &p, "hostmaster.example.test");
	assert_int_equal(m.rr[0].rdlen, p + 20);
	assert_memory_equal(m.rr[0].rdata + p, "\x78\xa3\xf1\x75\x00\x00\x1c\x20\x00\x00\x0e\x10"
						"\x00\x12\x75\x00\x00\x00\x01\x2c", 20);

	assert_int_equal(dns_msg_parse(&m, v_nodata_reply, sizeof(v_nodata_reply)), 0);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_NOERROR);
	assert_int_equal(m.count[1], 1);
	owner_is(&m.rr[0], "example.test", DNS_T_SOA);

	/* TXT: three strings, held raw. */
	assert_int_equal(dns_msg_parse(&m, v_txt_reply, sizeof(v_txt_reply)), 0);
	owner_is(&m.rr[0], "txt.example.test", DNS_T_TXT);
	assert_int_equal(m.rr[0].rdlen, 38);
	assert_memory_equal(m.rr[0].rdata, v_txt_reply + sizeof(v_txt_reply) - 11 - 38, 38);

	assert_int_equal(dns_msg_parse(&m, v_ptr_reply, sizeof(v_ptr_reply)), 0);
	owner_is(&m.rr[0], "1.2.0.192.in-addr.arpa", DNS_T_PTR);
	p = 0;
	rdata_name(&m.rr[0], &p, "www.example.test");

	assert_int_equal(dns_msg_parse(&m, v_ns_reply, sizeof(v_ns_reply)), 0);
	p = 0;
	rdata_name(&m.rr[1], &p, "ns2.example.test");

	/* unbound's own truncation: the question alone, TC set. */
	assert_int_equal(dns_msg_parse(&m, v_many_tc_reply, sizeof(v_many_tc_reply)), 0);
	assert_true(m.flags & DNS_F_TC);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	dns_msg_free(&m);
}

#define RHDR(qd, an, ns, ar) QHDR(0x8180, qd, an, ns, ar)
#define RR(type, rdlen) 0xc0, 12, 0, type, 0, 1, 0, 0, 0, 60, 0, rdlen

static const struct mcase {
	const char *what;
	const uint8_t *b;
	size_t len;
	int ret;
} mcases[] = {
	{ "counts claim more than fits", B(RHDR(1, 200, 0, 0), QA, RR(1, 4), 1, 2, 3, 4), -EBADMSG },
	{ "an 2, one record", B(RHDR(1, 2, 0, 0), QA, RR(1, 4), 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0,
				0, 0, 0), -EBADMSG }, /* a second record but for a byte */
	{ "RDLENGTH overruns", B(RHDR(1, 1, 0, 0), QA, RR(1, 5), 1, 2, 3, 4), -EBADMSG },
	{ "RDLENGTH 0xffff", B(RHDR(1, 1, 0, 0), QA, 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0xff, 0xff,
			       1, 2), -EBADMSG },
	{ "qdcount 2", B(RHDR(2, 0, 0, 0), QA, QA), -EBADMSG },
	{ "no question, an answer", B(RHDR(0, 1, 0, 0), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0), 0 },
	{ "OPT in the answers", B(RHDR(1, 1, 0, 0), QA, OPT(0, 0)), -EBADMSG },
	{ "OPT in the authority", B(RHDR(1, 0, 1, 0), QA, OPT(0, 0)), -EBADMSG },
	{ "OPT with a name", B(RHDR(1, 0, 0, 1), QA, RR(41, 0)), -EBADMSG },
	{ "two OPTs", B(RHDR(1, 0, 0, 2), QA, OPT(0, 0), OPT(0, 0)), -EBADMSG },
	{ "OPT between records", B(RHDR(1, 0, 0, 3), QA, RR(1, 0), OPT(0, 0), RR(1, 0)), 0 },
	{ "OPT option overrun", B(RHDR(1, 0, 0, 1), QA, OPT(0, 5), 0, 10, 0, 2, 1), -EBADMSG },
	{ "MX shorter than its preference", B(RHDR(1, 1, 0, 0), QA, RR(15, 1), 0), -EBADMSG },
	{ "MX name past RDATA", B(RHDR(1, 1, 0, 0), QA, RR(15, 4), 0, 10, 1, 'b', 0), -EBADMSG },
	{ "MX without a name", B(RHDR(1, 1, 0, 0), QA, RR(15, 2), 0, 10), -EBADMSG },
	{ "CNAME with a byte after the name", B(RHDR(1, 1, 0, 0), QA, RR(5, 3), 0xc0, 12, 'x'),
	  -EBADMSG },
	{ "CNAME pointing forward", B(RHDR(1, 1, 0, 0), QA, RR(5, 2), 0xc0, 33, 0), -EBADMSG },
	{ "CNAME pointing to itself", B(RHDR(1, 1, 0, 0), QA, RR(5, 2), 0xc0, 31), -EBADMSG },
	{ "CNAME pointing into the header", B(RHDR(1, 1, 0, 0), QA, RR(5, 2), 0xc0, 6), -EBADMSG },
	{ "CNAME to the question", B(RHDR(1, 1, 0, 0), QA, RR(5, 2), 0xc0, 12), 0 },
	{ "CNAME empty", B(RHDR(1, 1, 0, 0), QA, RR(5, 0)), -EBADMSG },
	{ "SOA with 19 numbers bytes", B(RHDR(1, 0, 1, 0), QA, RR(6, 21), 0, 0, 1, 2, 3, 4, 5, 6, 7,
					 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19), -EBADMSG },
	{ "SOA with 21", B(RHDR(1, 0, 1, 0), QA, RR(6, 23), 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
			   12, 13, 14, 15, 16, 17, 18, 19, 20, 21), -EBADMSG },
	{ "SOA with 20", B(RHDR(1, 0, 1, 0), QA, RR(6, 22), 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
			   12, 13, 14, 15, 16, 17, 18, 19, 20), 0 },
	{ "SRV shorter than its numbers", B(RHDR(1, 1, 0, 0), QA, RR(33, 5), 0, 1, 0, 2, 0),
	  -EBADMSG },
	{ "unknown type, raw", B(RHDR(1, 1, 0, 0), QA, RR(99, 3), 0xc0, 12, 0), 0 },
	/* Older types with names (RFC 3597 §4): expanded too, or their
	 * pointers would mean nothing outside this message. */
	{ "RP compressed", B(RHDR(1, 1, 0, 0), QA, RR(17, 4), 0xc0, 12, 0xc0, 12), 0 },
	{ "MINFO compressed", B(RHDR(1, 1, 0, 0), QA, RR(14, 5), 1, 'b', 0, 0xc0, 31), 0 },
	{ "AFSDB compressed", B(RHDR(1, 1, 0, 0), QA, RR(18, 4), 0, 1, 0xc0, 12), 0 },
	{ "MB with a byte after", B(RHDR(1, 1, 0, 0), QA, RR(7, 3), 0xc0, 12, 0), -EBADMSG },
	{ "A with 0 bytes (kept raw)", B(RHDR(1, 1, 0, 0), QA, RR(1, 0)), 0 },
	{ "owner 0x80 label", B(RHDR(1, 1, 0, 0), QA, 0x81, 'a', 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0),
	  -EBADMSG },
};

static void test_msg_table(void **state)
{
	struct dns_msg m;

	(void)state;
	dns_msg_init(&m);
	for (size_t i = 0; i < N(mcases); i++) {
		uint8_t *b = dup(mcases[i].b, mcases[i].len);
		int r = dns_msg_parse(&m, b, mcases[i].len);

		if (r != mcases[i].ret)
			fail_msg("%s: %d, want %d", mcases[i].what, r, mcases[i].ret);
		if (r == 0)
			round_trip(b, mcases[i].len);
		free(b);
	}
	/* The CNAME to the question came out expanded. */
	assert_string_equal(mcases[19].what, "CNAME to the question");
	assert_int_equal(dns_msg_parse(&m, mcases[19].b, mcases[19].len), 0);
	assert_int_equal(m.rr[0].rdlen, 3);
	assert_memory_equal(m.rr[0].rdata, "\1a", 3);
	for (size_t i = 0; i < N(mcases); i++) {
		if (strcmp(mcases[i].what, "RP compressed") == 0) {
			assert_int_equal(dns_msg_parse(&m, mcases[i].b, mcases[i].len), 0);
			assert_int_equal(m.rr[0].rdlen, 6);
			assert_memory_equal(m.rr[0].rdata, "\1a\0\1a", 6);
		} else if (strcmp(mcases[i].what, "MINFO compressed") == 0) {
			assert_int_equal(dns_msg_parse(&m, mcases[i].b, mcases[i].len), 0);
			assert_int_equal(m.rr[0].rdlen, 6);
			assert_memory_equal(m.rr[0].rdata, "\1b\0\1b", 6);
		}
	}
	dns_msg_free(&m);
}

/* A question of 255 bytes (63.63.63.61) for the records to point at. */
static void long_question(struct mb *b, unsigned type)
{
	char text[256];

	for (int l = 0; l < 4; l++) {
		memset(text + 64 * l, 'a' + l, 63);
		text[64 * l + 63] = '.';
	}
	text[253] = '\0';
	pname(b, text);
	p16(b, type);
	p16(b, DNS_C_IN);
}

/* Thousands of records, and reusing m for a small message after. */
static void test_msg_many_records(void **state)
{
	struct dns_msg m;
	struct mb b = mb_new(DNS_MSG_MAX);
	const unsigned n = 4000;

	(void)state;
	hdr(&b, 0x8180, 1, n, 0, 0);
	pname(&b, "many.example");
	p16(&b, DNS_T_A);
	p16(&b, DNS_C_IN);
	for (unsigned i = 0; i < n; i++) {
		size_t at = rr_begin(&b, NULL, 12, DNS_T_A);

		p32(&b, i);
		rd_end(&b, at);
	}
	dns_msg_init(&m);
	assert_int_equal(dns_msg_parse(&m, b.b, b.n), 0);
	assert_int_equal(m.count[0], n);
	assert_int_equal(g16(m.rr[n - 1].rdata + 2), n - 1);
	assert_int_equal(round_trip(b.b, b.n), b.n); /* same compression */
	assert_int_equal(dns_msg_parse(&m, v_a_reply, sizeof(v_a_reply)), 0);
	assert_int_equal(dns_msg_rr_count(&m), 2);
	assert_int_equal(m.arena_len, 8);
	dns_msg_free(&m);
	free(b.b);
}

/* A decompression bomb: CNAMEs of 2 bytes each pointing at a 255-byte name
 * expand 127-fold; the arena (256 KiB) holds 1028 of them, not 1029. */
static void test_msg_arena_limit(void **state)
{
	const unsigned fit = 256 * 1024 / DNS_NAME_MAX;
	struct dns_msg m;

	(void)state;
	dns_msg_init(&m);
	for (unsigned n = fit; n <= fit + 1; n++) {
		struct mb b = mb_new(DNS_MSG_MAX);

		hdr(&b, 0x8180, 1, n, 0, 0);
		long_question(&b, DNS_T_CNAME);
		for (unsigned i = 0; i < n; i++) {
			size_t at = rr_begin(&b, NULL, 12, DNS_T_CNAME);

			p16(&b, 0xc00c);
			rd_end(&b, at);
		}
		assert_int_equal(dns_msg_parse(&m, b.b, b.n), n == fit ? 0 : -EMSGSIZE);
		if (n == fit) {
			assert_int_equal(m.rr[n - 1].rdlen, DNS_NAME_MAX);
			assert_int_equal(round_trip(b.b, b.n), b.n);
		}
		free(b.b);
	}
	/* And the biggest bomb a message holds: refused, nothing overrun. */
	{
		struct mb b = mb_new(DNS_MSG_MAX);
		unsigned n = (DNS_MSG_MAX - 12 - 259) / 14;

		hdr(&b, 0x8180, 1, n, 0, 0);
		long_question(&b, DNS_T_CNAME);
		for (unsigned i = 0; i < n; i++) {
			size_t at = rr_begin(&b, NULL, 12, DNS_T_CNAME);

			p16(&b, 0xc00c);
			rd_end(&b, at);
		}
		assert_int_equal(dns_msg_parse(&m, b.b, b.n), -EMSGSIZE);
		free(b.b);
	}
	dns_msg_free(&m);
}

/* dnsmasq CVE-2017-14491 style, in records: owners and RDATA names that
 * expand past 255 bytes through pointers are refused. */
static void test_msg_expansion_attacks(void **state)
{
	struct dns_msg m;
	struct dns_query q;

	(void)state;
	dns_msg_init(&m);
	for (int where = 0; where < 3; where++) {
		struct mb b = mb_new(1024);
		size_t at;

		hdr(&b, 0x8180, 1, 1, 0, 0);
		long_question(&b, DNS_T_A);
		/* "\1x" + pointer to the 255-byte question: 257 bytes. */
		if (where == 0) { /* the owner */
			p8(&b, 1), p8(&b, 'x'), p16(&b, 0xc00c);
			p16(&b, DNS_T_A), p16(&b, DNS_C_IN), p32(&b, 1);
			at = b.n;
			p16(&b, 0);
			p32(&b, 0x01020304);
		} else { /* a CNAME target, an MX exchange */
			at = rr_begin(&b, NULL, 12, where == 1 ? DNS_T_CNAME : DNS_T_MX);
			if (where == 2)
				p16(&b, 10);
			p8(&b, 1), p8(&b, 'x'), p16(&b, 0xc00c);
		}
		rd_end(&b, at);
		assert_int_equal(dns_msg_parse(&m, b.b, b.n), -EBADMSG);
		assert_int_equal(dns_reply_parse(b.b, b.n, &q), where == 0 ? -EBADMSG : 0);
		free(b.b);
	}
	dns_msg_free(&m);
}

/* The FreeBSD 2025 advisory: unbounded decompression work. Every owner is a
 * pointer into a chain of 31 more, so each name costs 32 hops (the limit) and
 * the work is bounded by records x 32; one more hop and it is refused. */
static void test_msg_pointer_chain_work(void **state)
{
	struct dns_msg m;

	(void)state;
	dns_msg_init(&m);
	for (unsigned chain = DNS_PTR_HOPS_MAX - 1; chain <= DNS_PTR_HOPS_MAX; chain++) {
		struct mb b = mb_new(DNS_MSG_MAX);
		size_t first, last, n;

		hdr(&b, 0x8180, 1, 0, 0, 0);
		pname(&b, "x");
		p16(&b, DNS_T_A);
		p16(&b, DNS_C_IN);
		/* The chain sits in the RDATA of a first, unknown-type record. */
		first = rr_begin(&b, NULL, 12, 999);
		last = 12;
		for (unsigned i = 0; i < chain; i++) {
			size_t here = b.n;

			p16(&b, 0xc000 | last);
			last = here;
		}
		rd_end(&b, first);
		n = 1;
		while (b.cap - b.n >= 12) {
			rr_begin(&b, NULL, last, DNS_T_A);
			n++;
		}
		set16(&b, DNS_OFF_ANCOUNT, (unsigned)n);
		assert_int_equal(dns_msg_parse(&m, b.b, b.n),
				 chain < DNS_PTR_HOPS_MAX ? 0 : -EBADMSG);
		if (chain < DNS_PTR_HOPS_MAX) {
			assert_int_equal(m.count[0], n);
			assert_true(n > 5000);
			round_trip(b.b, b.n);
		}
		free(b.b);
	}
	dns_msg_free(&m);
}
/* ---- deterministic mutation ---- */

/* Every byte of every capture set to a few telling values: no parser may
 * crash, and whatever dns_msg_parse takes must survive a round trip. */
static void test_mutations(void **state)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x3f, 0x40, 0x80, 0xc0, 0xff };
	struct dns_msg m;
	unsigned ok = 0, runs = 0;

	(void)state;
	dns_msg_init(&m);
	for (size_t i = 0; i < N(replies) + N(queries); i++) {
		const struct vec *v = i < N(replies) ? &replies[i] : &queries[i - N(replies)];

		for (size_t at = 0; at < v->len; at++) {
			for (size_t k = 0; k <= N(vals); k++) {
				uint8_t *b = dup(v->b, v->len);
				struct dns_query q;

				b[at] = k < N(vals) ? vals[k] : (uint8_t)(b[at] + 1);
				(void)dns_query_parse(b, v->len, &q);
				(void)dns_reply_parse(b, v->len, &q);
				if (dns_msg_parse(&m, b, v->len) == 0) {
					round_trip(b, v->len);
					ok++;
				}
				runs++;
				free(b);
			}
		}
	}
	assert_true(ok > runs / 4);
	dns_msg_free(&m);
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_captured),
		cmocka_unit_test(test_query_table),
		cmocka_unit_test(test_query_edns_fields),
		cmocka_unit_test(test_reply_captured),
		cmocka_unit_test(test_reply_errors),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_tiny_sizes),
		cmocka_unit_test(test_msg_captured),
		cmocka_unit_test(test_msg_table),
		cmocka_unit_test(test_msg_many_records),
		cmocka_unit_test(test_msg_arena_limit),
		cmocka_unit_test(test_msg_expansion_attacks),
		cmocka_unit_test(test_msg_pointer_chain_work),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
