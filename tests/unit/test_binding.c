/* The gateway's bindings: answers rewritten to proxy IPs (order, CNAME
 * flattening, negative answers, sections scrubbed), bindings stable and
 * one-to-one, bad offers refused entry by entry, caps, revocation, and the
 * invariant that no real address ever leaves, under a seeded random walk. */
#include "binding_test.h"

static void test_single_a(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m, back;
	struct offer o;
	struct offer_use u;
	struct dns_name n;
	uint8_t want[1][16], real[4];

	(void)state;
	BUILD(&m, "nas.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 300, "203.0.113.50" });
	make_offer(&o, 0, 8, 8);
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	set16(want[0], o.v4[0], 4);
	expect_answer(&m, DNS_T_A, want, (const uint32_t[]){ 300 }, 1);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_NOERROR);
	assert_int_equal(u.used4, 0x1);
	assert_int_equal(u.used6 | u.refused4 | u.refused6 | u.dropped, 0);
	assert_int_equal(binding_count(t), 1);
	/* The data path finds it; the client would mark the same entry used. */
	assert_int_equal(binding_lookup_proxy(t, o.v4[0], 4, &n, real), 0);
	assert_true(dns_name_equal(&n, &m.q.name));
	v4(want[0], "203.0.113.50");
	assert_memory_equal(real, want[0], 4);
	assert_int_equal(binding_lookup_proxy(t, o.v4[1], 4, &n, real), -ENOENT);
	assert_int_equal(binding_lookup_proxy(t, o.v4[0], 16, &n, real), -ENOENT);
	wire_round_trip(&m, &back);
	{
		struct offer_use cu;

		offer_used(&o, &back, &cu);
		assert_int_equal(cu.used4, u.used4);
		assert_int_equal(cu.used6, u.used6);
	}
	dns_msg_free(&back);
	dns_msg_free(&m);
	binding_table_free(t);
}

static void test_several_a_order_kept(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	uint8_t want[4][16];

	(void)state;
	BUILD(&m, "gitlab.company.com", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "gitlab.company.com", DNS_T_A, 30, "203.0.113.62" },
	      { DNS_SEC_ANSWER, "gitlab.company.com", DNS_T_A, 31, "203.0.113.60" },
	      { DNS_SEC_ANSWER, "gitlab.company.com", DNS_T_A, 32, "203.0.113.61" },
	      { DNS_SEC_ANSWER, "gitlab.company.com", DNS_T_A, 33, "10.9.9.9" });
	make_offer(&o, 0, 8, 0);
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	for (int i = 0; i < 4; i++)
		set16(want[i], o.v4[i], 4);
	expect_answer(&m, DNS_T_A, want, (const uint32_t[]){ 30, 31, 32, 33 }, 4);
	assert_int_equal(u.used4, 0xf);
	assert_int_equal(binding_count(t), 4);
	/* Each proxy maps back to its own real address. */
	{
		static const char *real[] = { "203.0.113.62", "203.0.113.60", "203.0.113.61",
					      "10.9.9.9" };

		for (int i = 0; i < 4; i++) {
			uint8_t r[4], w[4];

			assert_int_equal(binding_lookup_proxy(t, o.v4[i], 4, NULL, r), 0);
			v4(w, real[i]);
			assert_memory_equal(r, w, 4);
		}
	}
	dns_msg_free(&m);
	binding_table_free(t);
}

static void test_aaaa(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	uint8_t want[2][16], real[16], w[16];

	(void)state;
	BUILD(&m, "nas.home.int", DNS_T_AAAA, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_AAAA, 60, "2001:db8::50" },
	      /* An A record in an AAAA answer is not what was asked: dropped. */
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 60, "203.0.113.50" },
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_AAAA, 60, "2001:db8::51" });
	make_offer(&o, 0, 8, 8);
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	memcpy(want[0], o.v6[0], 16);
	memcpy(want[1], o.v6[1], 16);
	expect_answer(&m, DNS_T_AAAA, want, NULL, 2);
	assert_int_equal(u.used6, 0x3);
	assert_int_equal(u.used4, 0);
	assert_int_equal(binding_lookup_proxy(t, o.v6[1], 16, NULL, real), 0);
	v6(w, "2001:db8::51");
	assert_memory_equal(real, w, 16);
	assert_int_equal(binding_lookup(t, &m.q.name, w, 16, real), 0);
	assert_memory_equal(real, o.v6[1], 16);
	dns_msg_free(&m);
	binding_table_free(t);
}

static void test_cname_chain_flattened(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m, back;
	struct offer o;
	struct offer_use u;
	uint8_t want[3][16], r[4], w[4];

	(void)state;
	BUILD(&m, "WWW.Example.Corp", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "www.example.corp", DNS_T_CNAME, 3600, "cdn.example.net" },
	      { DNS_SEC_ANSWER, "cdn.example.net", DNS_T_CNAME, 120, "edge.cdn.example.net" },
	      { DNS_SEC_ANSWER, "edge.cdn.example.net", DNS_T_A, 300, "198.18.0.1" },
	      { DNS_SEC_ANSWER, "edge.cdn.example.net", DNS_T_A, 20, "198.18.0.2" },
	      /* Not on the chain: a resolver would not send it; never bound. */
	      { DNS_SEC_ANSWER, "evil.example.org", DNS_T_A, 300, "198.18.9.9" },
	      { DNS_SEC_ANSWER, "EDGE.cdn.example.net", DNS_T_A, 300, "198.18.0.3" },
	      { DNS_SEC_AUTHORITY, "cdn.example.net", DNS_T_NS, 300, "ns1.cdn.example.net" },
	      { DNS_SEC_ADDITIONAL, "ns1.cdn.example.net", DNS_T_A, 300, "198.18.0.53" },
	      { DNS_SEC_ADDITIONAL, "ns1.cdn.example.net", DNS_T_AAAA, 300, "2001:db8::53" });
	make_offer(&o, 0, 8, 8);
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	for (int i = 0; i < 3; i++)
		set16(want[i], o.v4[i], 4);
	/* TTL: the smallest on the way (CNAME 120). */
	expect_answer(&m, DNS_T_A, want, (const uint32_t[]){ 120, 20, 120 }, 3);
	assert_int_equal(m.count[DNS_SEC_AUTHORITY], 0);
	assert_int_equal(m.count[DNS_SEC_ADDITIONAL], 0);
	assert_int_equal(u.used4, 0x7);
	assert_int_equal(binding_count(t), 3);
	/* Bound to the question name, not to the CNAME target. */
	assert_int_equal(binding_lookup_proxy(t, o.v4[2], 4, NULL, r), 0);
	v4(w, "198.18.0.3");
	assert_memory_equal(r, w, 4);
	{
		struct dns_name q = name("www.example.corp"), target = name("edge.cdn.example.net");

		assert_int_equal(binding_lookup(t, &q, w, 4, r), 0);
		assert_memory_equal(r, o.v4[2], 4);
		assert_int_equal(binding_lookup(t, &target, w, 4, r), -ENOENT);
	}
	wire_round_trip(&m, &back);
	expect_answer(&back, DNS_T_A, want, NULL, 3);
	dns_msg_free(&back);
	dns_msg_free(&m);
	binding_table_free(t);
}

static void test_cname_loop_and_long_chain(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	char owner[32], target[32];
	struct rr_spec s;

	(void)state;
	/* A loop a -> b -> a, with an A at b: bound once, no hang. */
	BUILD(&m, "a.test", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "a.test", DNS_T_CNAME, 60, "b.test" },
	      { DNS_SEC_ANSWER, "b.test", DNS_T_CNAME, 60, "a.test" },
	      { DNS_SEC_ANSWER, "b.test", DNS_T_A, 60, "198.18.1.1" });
	make_offer(&o, 0, 4, 0);
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 1);
	dns_msg_free(&m);

	/* A chain one hop longer than followed: its end is not reached. */
	BUILD_EMPTY(&m, "h0.test", DNS_T_A, DNS_RCODE_NOERROR);
	for (int i = 0; i <= BINDING_CNAME_HOPS; i++) {
		snprintf(owner, sizeof(owner), "h%d.test", i);
		snprintf(target, sizeof(target), "h%d.test", i + 1);
		s = (struct rr_spec){ DNS_SEC_ANSWER, owner, DNS_T_CNAME, 60, target };
		add_rr(&m, &s);
	}
	snprintf(owner, sizeof(owner), "h%d.test", BINDING_CNAME_HOPS + 1);
	s = (struct rr_spec){ DNS_SEC_ANSWER, owner, DNS_T_A, 60, "198.18.1.2" };
	add_rr(&m, &s);
	snprintf(owner, sizeof(owner), "h%d.test", BINDING_CNAME_HOPS);
	s = (struct rr_spec){ DNS_SEC_ANSWER, owner, DNS_T_A, 60, "198.18.1.3" };
	add_rr(&m, &s);
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 1); /* only the one at the last hop followed */
	{
		uint8_t r[4], w[4];

		assert_int_equal(binding_lookup_proxy(t, m.rr[0].rdata, 4, NULL, r), 0);
		v4(w, "198.18.1.3");
		assert_memory_equal(r, w, 4);
	}
	dns_msg_free(&m);
	binding_table_free(t);
}

static void test_nxdomain_with_soa(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m, back;
	struct offer o;
	struct offer_use u;

	(void)state;
	BUILD(&m, "nope.home.int", DNS_T_A, DNS_RCODE_NXDOMAIN,
	      { DNS_SEC_ANSWER, "nope.home.int", DNS_T_CNAME, 60, "gone.home.int" },
	      { DNS_SEC_AUTHORITY, "home.int", DNS_T_SOA, 600, "" },
	      { DNS_SEC_AUTHORITY, "home.int", DNS_T_NS, 600, "ns1.home.int" },
	      { DNS_SEC_ADDITIONAL, "ns1.home.int", DNS_T_A, 600, "203.0.113.53" });
	m.flags |= DNS_F_AD;
	make_offer(&o, 0, 8, 8);
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	assert_int_equal(m.flags & DNS_F_AD, 0);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 0);
	assert_int_equal(m.count[DNS_SEC_AUTHORITY], 1);
	assert_int_equal(m.count[DNS_SEC_ADDITIONAL], 0);
	assert_int_equal(m.rr[0].type, DNS_T_SOA);
	assert_int_equal(m.rr[0].ttl, 600);
	assert_int_equal(u.used4 | u.used6 | u.dropped, 0);
	assert_int_equal(binding_count(t), 0);
	wire_round_trip(&m, &back);
	assert_int_equal(back.count[DNS_SEC_AUTHORITY], 1);
	assert_int_equal(back.rr[0].type, DNS_T_SOA);
	dns_msg_free(&back);
	dns_msg_free(&m);
	binding_table_free(t);
}

static void test_nodata(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o;
	struct offer_use u;

	(void)state;
	make_offer(&o, 0, 8, 8);
	/* AAAA for an IPv4-only name. */
	BUILD(&m, "nas.home.int", DNS_T_AAAA, DNS_RCODE_NOERROR,
	      { DNS_SEC_AUTHORITY, "home.int", DNS_T_SOA, 300, "" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_NOERROR);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 0);
	assert_int_equal(m.count[DNS_SEC_AUTHORITY], 1);
	assert_int_equal(m.rr[0].type, DNS_T_SOA);
	assert_int_equal(u.used6, 0);
	dns_msg_free(&m);

	/* Through a CNAME, with records of the other type at the end. */
	BUILD(&m, "www.home.int", DNS_T_AAAA, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "www.home.int", DNS_T_CNAME, 300, "nas.home.int" },
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 300, "203.0.113.50" },
	      { DNS_SEC_AUTHORITY, "home.int", DNS_T_NS, 300, "ns1.home.int" },
	      { DNS_SEC_AUTHORITY, "home.int", DNS_T_SOA, 300, "" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 0);
	assert_int_equal(m.count[DNS_SEC_AUTHORITY], 1);
	assert_int_equal(m.rr[0].type, DNS_T_SOA);
	assert_int_equal(binding_count(t), 0);
	dns_msg_free(&m);

	/* No SOA at all: still NODATA. */
	BUILD_EMPTY(&m, "nas.home.int", DNS_T_AAAA, DNS_RCODE_NOERROR);
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	dns_msg_free(&m);
	binding_table_free(t);
}

static void test_other_rcodes_and_types(void **state)
{
	static const uint16_t rcodes[] = { DNS_RCODE_SERVFAIL, DNS_RCODE_REFUSED,
					   DNS_RCODE_FORMERR, DNS_RCODE_NOTIMP };
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o;
	struct offer_use u;

	(void)state;
	make_offer(&o, 0, 8, 8);
	for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++) {
		/* Whatever such an answer holds, none of it goes out. */
		BUILD(&m, "nas.home.int", DNS_T_A, 0,
		      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 300, "203.0.113.50" },
		      { DNS_SEC_AUTHORITY, "home.int", DNS_T_SOA, 300, "" },
		      { DNS_SEC_ADDITIONAL, "x.home.int", DNS_T_A, 300, "203.0.113.51" });
		m.flags |= rcodes[i];
		assert_int_equal(binding_apply(t, &m, &o, &u), 0);
		assert_int_equal(m.flags & DNS_F_RCODE_MASK, rcodes[i]);
		assert_int_equal(dns_msg_rr_count(&m), 0);
		dns_msg_free(&m);
	}
	/* An extended rcode (BADVERS = 16: low bits 0) is not NOERROR. */
	BUILD(&m, "nas.home.int", DNS_T_A, 0,
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 300, "203.0.113.50" });
	m.edns.present = true;
	m.edns.ext_rcode = 1;
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	assert_int_equal(m.edns.ext_rcode, 1);
	dns_msg_free(&m);
	/* Only IN A and IN AAAA are bound; anything else is refused, emptied. */
	BUILD(&m, "nas.home.int", DNS_T_MX, DNS_RCODE_NOERROR,
	      { DNS_SEC_ADDITIONAL, "mx.home.int", DNS_T_A, 300, "203.0.113.25" });
	assert_int_equal(binding_apply(t, &m, &o, &u), -EOPNOTSUPP);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_SERVFAIL);
	dns_msg_free(&m);
	BUILD(&m, "nas.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 300, "203.0.113.50" });
	m.q.cls = DNS_C_ANY;
	assert_int_equal(binding_apply(t, &m, &o, &u), -EOPNOTSUPP);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	m.has_question = false;
	assert_int_equal(binding_apply(t, &m, &o, &u), -EINVAL);
	dns_msg_free(&m);
	BUILD(&m, "nas.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 300, "203.0.113.50" });
	o.n4 = OFFER_MAX4 + 1; /* a hand-made offer over the limit */
	assert_int_equal(binding_apply(t, &m, &o, &u), -EINVAL);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	dns_msg_free(&m);
	assert_int_equal(binding_count(t), 0);
	binding_table_free(t);
}

/* The resolver's EDNS options (cookies, NSID) and its AD claim stay behind. */
static void test_edns_options_dropped(void **state)
{
	static const uint8_t nsid[] = { 0, 3, 0, 4, 'l', 'a', 'n', '1' };
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m, back;
	struct offer o, f;
	struct offer_use u;

	(void)state;
	BUILD(&m, "nas.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 300, "203.0.113.50" });
	m.flags |= DNS_F_AD;
	m.edns.present = true;
	m.edns.opts = nsid;
	m.edns.opts_len = sizeof(nsid);
	make_offer(&o, 0, 1, 0);
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(m.flags & DNS_F_AD, 0);
	assert_true(m.edns.present);
	assert_int_equal(m.edns.opts_len, 0);
	wire_round_trip(&m, &back);
	assert_true(back.edns.present);
	assert_int_equal(back.edns.opts_len, 0);
	assert_int_equal(offer_find(&back.edns, &f), -ENOENT); /* no offer comes back */
	dns_msg_free(&back);
	dns_msg_free(&m);
	binding_table_free(t);
}

/* The input parsed from hand-written wire bytes, as the resolver sends it. */
static void test_from_wire(void **state)
{
	static const uint8_t wire[] = {
		0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0,
		/* question: www.home.int A IN */
		3, 'w', 'w', 'w', 4, 'h', 'o', 'm', 'e', 3, 'i', 'n', 't', 0, 0, 1, 0, 1,
		/* www.home.int CNAME nas.home.int, compressed */
		0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'n', 'a', 's', 0xc0, 16,
		/* nas.home.int A 203.0.113.50, TTL 300 */
		0xc0, 42, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 203, 0, 113, 50,
		/* nas.home.int A 203.0.113.51 */
		0xc0, 42, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 203, 0, 113, 51,
	};
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	uint8_t want[2][16];

	(void)state;
	dns_msg_init(&m);
	assert_int_equal(dns_msg_parse(&m, wire, sizeof(wire)), 0);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 3);
	make_offer(&o, 7, 2, 0);
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	set16(want[0], o.v4[0], 4);
	set16(want[1], o.v4[1], 4);
	expect_answer(&m, DNS_T_A, want, (const uint32_t[]){ 60, 60 }, 2);
	dns_msg_free(&m);
	binding_table_free(t);
}

/* ---- the table's rules ---- */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_a),
		cmocka_unit_test(test_several_a_order_kept),
		cmocka_unit_test(test_aaaa),
		cmocka_unit_test(test_cname_chain_flattened),
		cmocka_unit_test(test_cname_loop_and_long_chain),
		cmocka_unit_test(test_nxdomain_with_soa),
		cmocka_unit_test(test_nodata),
		cmocka_unit_test(test_other_rcodes_and_types),
		cmocka_unit_test(test_edns_options_dropped),
		cmocka_unit_test(test_from_wire),
	};

	return cmocka_run_group_tests_name("binding", tests, NULL, NULL);
}
