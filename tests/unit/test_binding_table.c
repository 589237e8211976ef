/* The gateway's binding table: stability, sharing, exhaustion, bad offers,
 * forgetting, caps, and a seeded random walk checking that no real address leaks. */
#include "binding_test.h"

/* Round-robin DNS: the same addresses in another order keep their proxies,
 * and the output follows the new order. */
static void test_stable_across_queries(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o1, o2;
	struct offer_use u;
	uint8_t want[3][16];

	(void)state;
	make_offer(&o1, 1, 8, 8);
	make_offer(&o2, 2, 8, 8);
	BUILD(&m, "rr.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "rr.home.int", DNS_T_A, 5, "203.0.113.1" },
	      { DNS_SEC_ANSWER, "rr.home.int", DNS_T_A, 5, "203.0.113.2" },
	      { DNS_SEC_ANSWER, "rr.home.int", DNS_T_A, 5, "203.0.113.3" });
	assert_int_equal(binding_apply(t, &m, &o1, &u), 0);
	assert_int_equal(u.used4, 0x7);
	dns_msg_free(&m);

	BUILD(&m, "RR.home.INT", DNS_T_A, DNS_RCODE_NOERROR, /* another 0x20 casing */
	      { DNS_SEC_ANSWER, "rr.home.int", DNS_T_A, 5, "203.0.113.3" },
	      { DNS_SEC_ANSWER, "rr.home.int", DNS_T_A, 5, "203.0.113.1" },
	      { DNS_SEC_ANSWER, "rr.home.int", DNS_T_A, 5, "203.0.113.2" });
	assert_int_equal(binding_apply(t, &m, &o2, &u), 0);
	set16(want[0], o1.v4[2], 4);
	set16(want[1], o1.v4[0], 4);
	set16(want[2], o1.v4[1], 4);
	expect_answer(&m, DNS_T_A, want, NULL, 3);
	assert_int_equal(u.used4 | u.refused4 | u.dropped, 0); /* o2 all back to the pool */
	dns_msg_free(&m);

	/* A new address joins: it alone takes an offer entry. */
	BUILD(&m, "rr.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "rr.home.int", DNS_T_A, 5, "203.0.113.4" },
	      { DNS_SEC_ANSWER, "rr.home.int", DNS_T_A, 5, "203.0.113.2" });
	assert_int_equal(binding_apply(t, &m, &o2, &u), 0);
	set16(want[0], o2.v4[0], 4);
	set16(want[1], o1.v4[1], 4);
	expect_answer(&m, DNS_T_A, want, NULL, 2);
	assert_int_equal(u.used4, 0x1);
	assert_int_equal(binding_count(t), 4);
	dns_msg_free(&m);

	/* Even with no offer at all, known addresses are answered. */
	BUILD(&m, "rr.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "rr.home.int", DNS_T_A, 5, "203.0.113.2" });
	assert_int_equal(binding_apply(t, &m, NULL, &u), 0);
	set16(want[0], o1.v4[1], 4);
	expect_answer(&m, DNS_T_A, want, NULL, 1);
	dns_msg_free(&m);
	binding_table_free(t);
}

static void test_names_sharing_a_real_ip(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	struct dns_name n;
	uint8_t p1[4], p2[4], r[4], real[4];

	(void)state;
	make_offer(&o, 0, 8, 0);
	v4(real, "198.51.100.40");
	BUILD(&m, "github.saas.test", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "github.saas.test", DNS_T_A, 60, "198.51.100.40" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	memcpy(p1, m.rr[0].rdata, 4);
	dns_msg_free(&m);
	/* The client offers again what is still free in its pool. */
	memmove(o.v4[0], o.v4[1], 7 * 4);
	o.n4 = 7;
	BUILD(&m, "gist.github.saas.test", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "gist.github.saas.test", DNS_T_A, 60, "198.51.100.40" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	memcpy(p2, m.rr[0].rdata, 4);
	dns_msg_free(&m);
	assert_memory_not_equal(p1, p2, 4);
	assert_int_equal(binding_lookup_proxy(t, p1, 4, &n, r), 0);
	{
		struct dns_name g = name("github.saas.test"), gg = name("gist.github.saas.test");

		assert_true(dns_name_equal(&n, &g));
		assert_memory_equal(r, real, 4);
		assert_int_equal(binding_lookup_proxy(t, p2, 4, &n, r), 0);
		assert_true(dns_name_equal(&n, &gg));
		assert_memory_equal(r, real, 4);
	}
	assert_int_equal(binding_count(t), 2);
	binding_table_free(t);
}

static void test_offer_exhaustion(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	uint8_t want[3][16];

	(void)state;
	make_offer(&o, 0, 3, 0);
	BUILD(&m, "big.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.1" },
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.2" },
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.3" },
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.4" },
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.5" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	for (int i = 0; i < 3; i++)
		set16(want[i], o.v4[i], 4);
	expect_answer(&m, DNS_T_A, want, NULL, 3);
	assert_int_equal(u.used4, 0x7);
	assert_int_equal(u.dropped, 2);
	dns_msg_free(&m);

	/* Nothing bindable at all: an empty SERVFAIL, nothing bound. */
	BUILD(&m, "other.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "other.home.int", DNS_T_A, 60, "203.0.113.9" },
	      { DNS_SEC_ADDITIONAL, "x.home.int", DNS_T_A, 60, "203.0.113.10" });
	assert_int_equal(binding_apply(t, &m, NULL, &u), -ENOBUFS);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_SERVFAIL);
	assert_int_equal(u.dropped, 1);
	assert_int_equal(binding_count(t), 3);
	dns_msg_free(&m);

	/* An offer of the other family only does not help. */
	make_offer(&o, 1, 0, 16);
	BUILD(&m, "other.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "other.home.int", DNS_T_A, 60, "203.0.113.9" });
	assert_int_equal(binding_apply(t, &m, &o, &u), -ENOBUFS);
	assert_int_equal(u.used6, 0);
	dns_msg_free(&m);
	binding_table_free(t);
}

static void test_bad_offers(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	uint8_t want[3][16];

	(void)state;
	/* Duplicates: the second copy is refused, the next entry used. */
	make_offer(&o, 0, 4, 0);
	memcpy(o.v4[1], o.v4[0], 4);
	BUILD(&m, "dup.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "dup.home.int", DNS_T_A, 60, "203.0.113.1" },
	      { DNS_SEC_ANSWER, "dup.home.int", DNS_T_A, 60, "203.0.113.2" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	set16(want[0], o.v4[0], 4);
	set16(want[1], o.v4[2], 4);
	expect_answer(&m, DNS_T_A, want, NULL, 2);
	assert_int_equal(u.used4, 0x5);
	assert_int_equal(u.refused4, 0x2);
	dns_msg_free(&m);

	/* Addresses that cannot be proxy IPs, IPv4 in the IPv6 list. */
	memset(&o, 0, sizeof(o));
	o.n6 = 6;
	v6(o.v6[0], "::ffff:100.96.0.1");
	v6(o.v6[1], "::100.96.0.1");
	v6(o.v6[2], "::1");
	v6(o.v6[3], "ff02::1");
	v6(o.v6[4], "fe80::1");
	v6(o.v6[5], "fd00:2021:1111:8000::99");
	o.n4 = 6;
	v4(o.v4[0], "0.0.0.0");
	v4(o.v4[1], "127.0.0.1");
	v4(o.v4[2], "224.0.0.251");
	v4(o.v4[3], "255.255.255.255");
	v4(o.v4[4], "169.254.0.1");
	v4(o.v4[5], "100.96.5.5");
	BUILD(&m, "fam.home.int", DNS_T_AAAA, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "fam.home.int", DNS_T_AAAA, 60, "2001:db8::1" },
	      { DNS_SEC_ANSWER, "fam.home.int", DNS_T_AAAA, 60, "2001:db8::2" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	memcpy(want[0], o.v6[5], 16);
	expect_answer(&m, DNS_T_AAAA, want, NULL, 1);
	assert_int_equal(u.used6, 0x20);
	assert_int_equal(u.refused6, 0x1f);
	assert_int_equal(u.dropped, 1);
	assert_int_equal(u.used4 | u.refused4, 0); /* the IPv4 list was not looked at */
	dns_msg_free(&m);
	BUILD(&m, "fam.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "fam.home.int", DNS_T_A, 60, "203.0.113.7" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	set16(want[0], o.v4[5], 4);
	expect_answer(&m, DNS_T_A, want, NULL, 1);
	assert_int_equal(u.refused4, 0x1f);
	dns_msg_free(&m);

	/* An address the client already got back for another name. */
	make_offer(&o, 0, 4, 0); /* 100.96.0.1 went to dup.home.int above */
	BUILD(&m, "steal.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "steal.home.int", DNS_T_A, 60, "203.0.113.1" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	set16(want[0], o.v4[1], 4);
	expect_answer(&m, DNS_T_A, want, NULL, 1);
	assert_int_equal(u.refused4, 0x1);
	assert_int_equal(u.used4, 0x2);
	{
		struct dns_name n, d = name("dup.home.int");
		uint8_t r[4], w[4];

		assert_int_equal(binding_lookup_proxy(t, o.v4[0], 4, &n, r), 0);
		assert_true(dns_name_equal(&n, &d)); /* the old binding is untouched */
		v4(w, "203.0.113.1");
		assert_memory_equal(r, w, 4);
	}
	dns_msg_free(&m);
	/* Offering only taken addresses: nothing to bind with. */
	o.n4 = 1;
	BUILD(&m, "steal2.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "steal2.home.int", DNS_T_A, 60, "203.0.113.1" });
	assert_int_equal(binding_apply(t, &m, &o, &u), -ENOBUFS);
	assert_int_equal(u.refused4, 0x1);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	dns_msg_free(&m);
	binding_table_free(t);
}

static bool under_home(const struct dns_name *n, void *arg)
{
	const struct dns_name *zone = arg;

	return n->len >= zone->len &&
	       !memcmp(n->data + n->len - zone->len, zone->data, zone->len);
}

static void test_forget(void **state)
{
	struct binding_table *t = binding_table_new(BINDING_DEFAULT_MAX);
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	uint8_t r[4];
	struct dns_name a = name("NAS.home.int"), zone = name("home.int");

	(void)state;
	make_offer(&o, 0, 8, 0);
	BUILD(&m, "nas.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 60, "203.0.113.50" },
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 60, "203.0.113.51" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	dns_msg_free(&m);
	BUILD(&m, "gitlab.company.com", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "gitlab.company.com", DNS_T_A, 60, "203.0.113.60" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(u.refused4, 0x3); /* entries 0, 1 are nas's now */
	dns_msg_free(&m);
	BUILD(&m, "server.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "server.home.int", DNS_T_A, 60, "203.0.113.70" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	dns_msg_free(&m);
	assert_int_equal(binding_count(t), 4);

	assert_int_equal(binding_forget_name(t, &a), 2); /* case-insensitive */
	assert_int_equal(binding_forget_name(t, &a), 0);
	assert_int_equal(binding_count(t), 2);
	assert_int_equal(binding_lookup_proxy(t, o.v4[0], 4, NULL, r), -ENOENT);
	assert_int_equal(binding_lookup_proxy(t, o.v4[1], 4, NULL, r), -ENOENT);
	assert_int_equal(binding_lookup_proxy(t, o.v4[2], 4, NULL, r), 0);

	/* A forgotten proxy IP may be bound again, to something else. */
	BUILD(&m, "gist.github.saas.test", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "gist.github.saas.test", DNS_T_A, 60, "198.51.100.40" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(u.used4, 0x1);
	dns_msg_free(&m);

	assert_int_equal(binding_forget_if(t, under_home, &zone), 1); /* server.home.int */
	assert_int_equal(binding_count(t), 2);

	/* One binding by its proxy IP (an installation that failed): only it goes,
	 * and its proxy IP is free for another (name, real). */
	assert_int_equal(binding_lookup_proxy(t, o.v4[2], 4, NULL, r), 0);
	assert_int_equal(binding_forget_proxy(t, o.v4[2], 4), 0);
	assert_int_equal(binding_forget_proxy(t, o.v4[2], 4), -ENOENT);
	assert_int_equal(binding_forget_proxy(t, o.v4[2], 5), -ENOENT);
	assert_int_equal(binding_count(t), 1);
	assert_int_equal(binding_lookup_proxy(t, o.v4[2], 4, NULL, r), -ENOENT);
	assert_int_equal(binding_lookup_proxy(t, o.v4[0], 4, NULL, r), 0); /* gist's */
	BUILD(&m, "other.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "other.home.int", DNS_T_A, 60, "203.0.113.99" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(u.used4, 0x2); /* entry 0 is gist's; entry 1 is free again */
	dns_msg_free(&m);
	assert_int_equal(binding_forget_proxy(t, o.v4[1], 4), 0);
	assert_int_equal(binding_count(t), 1);
	binding_clear(t);
	assert_int_equal(binding_count(t), 0);
	assert_int_equal(binding_lookup_proxy(t, o.v4[2], 4, NULL, r), -ENOENT);
	/* Usable after clearing. */
	BUILD(&m, "nas.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "nas.home.int", DNS_T_A, 60, "203.0.113.50" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	assert_int_equal(binding_count(t), 1);
	dns_msg_free(&m);
	binding_table_free(t);
}

static void test_table_cap(void **state)
{
	struct binding_table *t;
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	uint8_t want[4][16];

	(void)state;
	errno = 0;
	assert_null(binding_table_new(0));
	assert_int_equal(errno, EINVAL);
	assert_null(binding_table_new((size_t)BINDING_MAX + 1));
	binding_table_free(NULL);

	t = binding_table_new(4);
	assert_non_null(t);
	make_offer(&o, 0, 16, 0);
	BUILD(&m, "big.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.1" },
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.2" },
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.3" },
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.4" },
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.5" },
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.6" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	for (int i = 0; i < 4; i++)
		set16(want[i], o.v4[i], 4);
	expect_answer(&m, DNS_T_A, want, NULL, 4);
	assert_int_equal(u.used4, 0xf); /* no entry spent on what could not be bound */
	assert_int_equal(u.dropped, 2);
	assert_int_equal(binding_count(t), 4);
	dns_msg_free(&m);

	/* Full: a new name fails, a known one still answers. */
	BUILD(&m, "new.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "new.home.int", DNS_T_A, 60, "203.0.113.1" });
	assert_int_equal(binding_apply(t, &m, &o, &u), -ENOSPC);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	assert_int_equal(u.used4 | u.refused4, 0);
	dns_msg_free(&m);
	BUILD(&m, "big.home.int", DNS_T_A, DNS_RCODE_NOERROR,
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.6" },
	      { DNS_SEC_ANSWER, "big.home.int", DNS_T_A, 60, "203.0.113.2" });
	assert_int_equal(binding_apply(t, &m, &o, &u), 0);
	set16(want[0], o.v4[1], 4);
	expect_answer(&m, DNS_T_A, want, NULL, 1);
	assert_int_equal(u.dropped, 1);
	dns_msg_free(&m);
	assert_int_equal(binding_count(t), 4);
	binding_table_free(t);
}

/* Many bindings: the table grows, rehashes, frees and reuses slots, and the
 * two indexes agree all along. */
static void test_growth_and_reuse(void **state)
{
	enum { N = 3000 };
	struct binding_table *t = binding_table_new(N);
	struct offer o;
	struct offer_use u;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.n4 = 1;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			struct dns_msg m;
			struct rr_spec s = { DNS_SEC_ANSWER, "n.test", DNS_T_A, 60, "203.0.113.1" };
			char qn[32];

			snprintf(qn, sizeof(qn), "n%d.test", i);
			s.owner = qn;
			BUILD_EMPTY(&m, qn, DNS_T_A, DNS_RCODE_NOERROR);
			add_rr(&m, &s);
			o.v4[0][0] = 100;
			o.v4[0][1] = (uint8_t)(96 + round);
			o.v4[0][2] = (uint8_t)(i >> 8);
			o.v4[0][3] = (uint8_t)i;
			assert_int_equal(binding_apply(t, &m, &o, &u), 0);
			dns_msg_free(&m);
		}
		assert_int_equal(binding_count(t), N);
		for (int i = 0; i < N; i++) {
			uint8_t p[4] = { 100, (uint8_t)(96 + round), (uint8_t)(i >> 8), (uint8_t)i };
			struct dns_name n;
			char qn[32];
			uint8_t r[4];
			struct dns_name want;

			snprintf(qn, sizeof(qn), "n%d.test", i);
			want = name(qn);
			assert_int_equal(binding_lookup_proxy(t, p, 4, &n, r), 0);
			assert_true(dns_name_equal(&n, &want));
		}
		/* Forget the odd ones, then all: slots go back to the free list. */
		for (int i = 1; i < N; i += 2) {
			char qn[32];
			struct dns_name n;

			snprintf(qn, sizeof(qn), "n%d.test", i);
			n = name(qn);
			assert_int_equal(binding_forget_name(t, &n), 1);
		}
		assert_int_equal(binding_count(t), N / 2);
		for (int i = 0; i < N; i += 2) {
			char qn[32];
			struct dns_name n;

			snprintf(qn, sizeof(qn), "n%d.test", i);
			n = name(qn);
			assert_int_equal(binding_forget_name(t, &n), 1);
		}
		assert_int_equal(binding_count(t), 0);
	}
	binding_table_free(t);
}

/* ---- the invariant, under a seeded random walk ---- */

struct rng {
	uint64_t s;
};

static uint32_t rnd(struct rng *r, uint32_t bound)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)((r->s >> 16) % bound);
}

enum { W_NAMES = 12, W_REALS = 24, W_ROUNDS = 4000 };

enum { W_SET = 1 << 18 }; /* > every address offered in W_ROUNDS rounds */

struct world {
	uint8_t real4[W_REALS][4], real6[W_REALS][16];
	/* every address the client ever offered (a client knows its own): an
	 * open-addressing set of (len, address), and a list to draw from */
	uint8_t set[W_SET][17];
	uint32_t list[W_SET];
	size_t n_offered;
	/* what the client saw: (name, real index) -> proxy, for stability */
	bool seen[W_NAMES][2][W_REALS];
	uint8_t seen_proxy[W_NAMES][2][W_REALS][16];
	uint32_t next_proxy;
};

static size_t set_slot(const struct world *w, const uint8_t *a, size_t alen)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (size_t k = 0; k < alen; k++)
		h = (h ^ a[k]) * 16777619u;
	for (i = h % W_SET; w->set[i][0]; i = (i + 1) % W_SET)
		if (w->set[i][0] == alen && !memcmp(w->set[i] + 1, a, alen))
			break;
	return i;
}

static bool was_offered(const struct world *w, const uint8_t *a, size_t alen)
{
	return w->set[set_slot(w, a, alen)][0] != 0;
}

static int real_index(const struct world *w, const uint8_t *a, size_t alen)
{
	for (int i = 0; i < W_REALS; i++)
		if (!memcmp(alen == 4 ? w->real4[i] : w->real6[i], a, alen))
			return i;
	return -1;
}

static void remember_offer(struct world *w, const uint8_t *a, size_t alen)
{
	size_t i = set_slot(w, a, alen);

	if (w->set[i][0])
		return;
	assert_true(w->n_offered < W_SET / 2);
	w->set[i][0] = (uint8_t)alen;
	memcpy(w->set[i] + 1, a, alen);
	w->list[w->n_offered++] = (uint32_t)i;
}

static void random_offer(struct rng *r, struct world *w, struct offer *o)
{
	memset(o, 0, sizeof(*o));
	o->n4 = (uint8_t)rnd(r, OFFER_MAX4 + 1);
	o->n6 = (uint8_t)rnd(r, OFFER_MAX6 + 1);
	for (unsigned i = 0; i < o->n4; i++) {
		uint32_t k = rnd(r, 10);

		if (k == 0 && w->n_offered) { /* re-offer something old (maybe taken) */
			const uint8_t *old = w->set[w->list[rnd(r, (uint32_t)w->n_offered)]];

			if (old[0] == 4) {
				memcpy(o->v4[i], old + 1, 4);
				continue;
			}
		}
		if (k == 1) { /* a malicious client offers a real address it guessed */
			memcpy(o->v4[i], w->real4[rnd(r, W_REALS)], 4);
		} else if (k == 2) {
			memcpy(o->v4[i], "\x7f\0\0\1", 4);
		} else {
			uint32_t p = w->next_proxy++;

			o->v4[i][0] = 100;
			o->v4[i][1] = (uint8_t)(96 | (p >> 16 & 0x1f));
			o->v4[i][2] = (uint8_t)(p >> 8);
			o->v4[i][3] = (uint8_t)p;
		}
		if (i && rnd(r, 8) == 0) /* duplicate */
			memcpy(o->v4[i], o->v4[i - 1], 4);
	}
	for (unsigned i = 0; i < o->n6; i++) {
		uint32_t k = rnd(r, 10);

		if (k == 1) {
			memcpy(o->v6[i], w->real6[rnd(r, W_REALS)], 16);
		} else if (k == 2) {
			v6(o->v6[i], "::ffff:100.96.0.1");
		} else {
			uint32_t p = w->next_proxy++;

			v6(o->v6[i], "fd00:2021:1111:8000::");
			o->v6[i][12] = (uint8_t)(p >> 24);
			o->v6[i][13] = (uint8_t)(p >> 16);
			o->v6[i][14] = (uint8_t)(p >> 8);
			o->v6[i][15] = (uint8_t)p;
		}
		if (i && rnd(r, 8) == 0)
			memcpy(o->v6[i], o->v6[i - 1], 16);
	}
	for (unsigned i = 0; i < o->n4; i++)
		remember_offer(w, o->v4[i], 4);
	for (unsigned i = 0; i < o->n6; i++)
		remember_offer(w, o->v6[i], 16);
}

static void random_answer(struct rng *r, struct world *w, struct dns_msg *m, int qn,
			  uint16_t qtype)
{
	static const uint16_t rcodes[] = { DNS_RCODE_NOERROR, DNS_RCODE_NOERROR,
					   DNS_RCODE_NOERROR, DNS_RCODE_NOERROR,
					   DNS_RCODE_NXDOMAIN, DNS_RCODE_SERVFAIL };
	char qname[32], cur[32], next[32];
	unsigned hops = rnd(r, 4), n = rnd(r, 12);
	struct dns_rr rr = { .cls = DNS_C_IN };
	uint8_t rdata[DNS_NAME_MAX];

	snprintf(qname, sizeof(qname), "n%d.corp.test", qn);
	if (rnd(r, 2))
		qname[0] = 'N'; /* 0x20 casing */
	build(m, qname, qtype, rcodes[rnd(r, 6)], NULL, 0);
	snprintf(cur, sizeof(cur), "%s", qname);
	for (unsigned h = 0; h < hops; h++) {
		struct dns_name tn;

		snprintf(next, sizeof(next), "c%u.cdn%d.test", h, (int)rnd(r, 3));
		rr.name = name(cur);
		rr.type = DNS_T_CNAME;
		rr.ttl = rnd(r, 1000);
		tn = name(next);
		memcpy(rdata, tn.data, tn.len);
		rr.rdata = rdata;
		rr.rdlen = tn.len;
		assert_int_equal(dns_msg_add_rr(m, DNS_SEC_ANSWER, &rr), 0);
		snprintf(cur, sizeof(cur), "%s", next);
	}
	for (unsigned i = 0; i < n; i++) {
		uint16_t type = rnd(r, 5) ? qtype : (qtype == DNS_T_A ? DNS_T_AAAA : DNS_T_A);
		enum dns_section sec = rnd(r, 6) ? DNS_SEC_ANSWER : (enum dns_section)(1 + rnd(r, 2));
		int ri = (int)rnd(r, W_REALS);

		rr.name = name(rnd(r, 8) ? cur : "stray.test");
		rr.type = type;
		rr.ttl = rnd(r, 100000);
		rr.rdata = type == DNS_T_A ? w->real4[ri] : w->real6[ri];
		rr.rdlen = type == DNS_T_A ? 4 : 16;
		assert_int_equal(dns_msg_add_rr(m, sec, &rr), 0);
	}
	if (rnd(r, 2)) {
		struct rr_spec s = { DNS_SEC_AUTHORITY, "corp.test", DNS_T_SOA, 60, "" };

		add_rr(m, &s);
	}
	if (rnd(r, 2)) {
		struct rr_spec s = { DNS_SEC_AUTHORITY, "corp.test", DNS_T_NS, 60, "ns.corp.test" };

		add_rr(m, &s);
	}
}

/* Checks one rewritten answer against everything the client may know. */
static void check_output(struct binding_table *t, struct world *w, const struct dns_msg *m,
			 int qn, uint16_t qtype)
{
	size_t alen = qtype == DNS_T_A ? 4 : 16;

	for (size_t i = 0; i < dns_msg_rr_count(m); i++) {
		const struct dns_rr *rr = &m->rr[i];
		enum dns_section sec = dns_msg_rr_section(m, i);

		if (sec != DNS_SEC_ANSWER) {
			/* Only the SOA of a negative answer. */
			assert_int_equal(sec, DNS_SEC_AUTHORITY);
			assert_int_equal(rr->type, DNS_T_SOA);
			assert_int_equal(m->count[DNS_SEC_ANSWER], 0);
			continue;
		}
		assert_int_equal(rr->type, qtype);
		assert_int_equal(rr->rdlen, alen);
		assert_true(dns_name_equal(&rr->name, &m->q.name));
		/* THE invariant: every address out is one the client offered at
		 * some point; so a real address only if the client itself chose it. */
		assert_true(was_offered(w, rr->rdata, alen));
		{
			struct dns_name n;
			uint8_t real[16], back[16];
			int ri;
			int fam = alen == 4 ? 0 : 1;

			assert_int_equal(binding_lookup_proxy(t, rr->rdata, alen, &n, real), 0);
			assert_true(dns_name_equal(&n, &m->q.name));
			assert_int_equal(binding_lookup(t, &n, real, alen, back), 0);
			assert_memory_equal(back, rr->rdata, alen);
			ri = real_index(w, real, alen);
			assert_true(ri >= 0);
			/* Stable: a (name, real) seen before has the same proxy. */
			if (w->seen[qn][fam][ri])
				assert_memory_equal(w->seen_proxy[qn][fam][ri], rr->rdata, alen);
			w->seen[qn][fam][ri] = true;
			memcpy(w->seen_proxy[qn][fam][ri], rr->rdata, alen);
		}
	}
}

static void test_random_invariant(void **state)
{
	struct rng r = { 0x5eed5eed12345678ull };
	struct binding_table *t = binding_table_new(256); /* full at times */
	struct world *w = calloc(1, sizeof(*w));
	unsigned ok = 0, fails = 0, full = 0, answers = 0;

	(void)state;
	assert_non_null(w);
	for (int i = 0; i < W_REALS; i++) {
		w->real4[i][0] = 203;
		w->real4[i][1] = 0;
		w->real4[i][2] = 113;
		w->real4[i][3] = (uint8_t)(1 + i);
		v6(w->real6[i], "2001:db8::");
		w->real6[i][15] = (uint8_t)(1 + i);
	}
	/* A few real addresses inside the proxy range, to tempt a mix-up. */
	memcpy(w->real4[0], "\x64\x60\x00\x01", 4);
	v6(w->real6[0], "fd00:2021:1111:8000::1");
	for (int round = 0; round < W_ROUNDS; round++) {
		struct dns_msg m, back;
		struct offer o;
		struct offer_use u;
		int qn = (int)rnd(&r, W_NAMES), rc;
		uint16_t qtype = rnd(&r, 2) ? DNS_T_A : DNS_T_AAAA;
		size_t before = binding_count(t);

		random_offer(&r, w, &o);
		random_answer(&r, w, &m, qn, qtype);
		rc = binding_apply(t, &m, rnd(&r, 10) ? &o : NULL, &u);
		assert_true(rc == 0 || rc == -ENOBUFS || rc == -ENOSPC);
		if (rc) {
			fails++;
			full += rc == -ENOSPC;
			assert_int_equal(dns_msg_rr_count(&m), 0);
			assert_int_equal(binding_count(t), before);
		} else {
			ok++;
			answers += m.count[DNS_SEC_ANSWER];
		}
		assert_int_equal(u.used4 & u.refused4, 0);
		assert_int_equal(u.used6 & u.refused6, 0);
		assert_int_equal(binding_count(t),
				 before + (unsigned)__builtin_popcount(u.used4 | u.used6));
		check_output(t, w, &m, qn, qtype);
		/* And what reaches the client after the wire. */
		wire_round_trip(&m, &back);
		check_output(t, w, &back, qn, qtype);
		dns_msg_free(&back);
		dns_msg_free(&m);
		if (rnd(&r, 50) == 0) {
			int fq = (int)rnd(&r, W_NAMES);
			char qname[32];
			struct dns_name n;

			snprintf(qname, sizeof(qname), "N%d.CORP.test", fq);
			n = name(qname);
			binding_forget_name(t, &n);
			/* The client forgets too: its proxies may come back different. */
			memset(w->seen[fq], 0, sizeof(w->seen[fq]));
		}
	}
	print_message("%u answers with %u addresses, %u SERVFAIL (%u table full), %zu bindings\n",
		      ok, answers, fails, full, binding_count(t));
	assert_true(ok > W_ROUNDS / 2);
	assert_true(answers > W_ROUNDS);
	assert_true(full > 0 && full < fails); /* both ways of running out were taken */
	free(w);
	binding_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stable_across_queries),
		cmocka_unit_test(test_names_sharing_a_real_ip),
		cmocka_unit_test(test_offer_exhaustion),
		cmocka_unit_test(test_bad_offers),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_table_cap),
		cmocka_unit_test(test_growth_and_reuse),
		cmocka_unit_test(test_random_invariant),
	};

	return cmocka_run_group_tests_name("binding_table", tests, NULL, NULL);
}
