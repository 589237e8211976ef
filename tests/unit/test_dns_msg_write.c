/* DNS messages, writing: name compression, EDNS, truncation to the asker's
 * limit (and the CVE-2015-7547 / CVE-2017-9445 size edges), the reply
 * builder, dns_udp_limit, and records added by hand. */
#include "dns_msg_test.h"

/* ---- dns_msg_write ---- */

/* parse -> write -> parse gives the same message; unbound compresses as we
 * do, so its answers come back byte for byte; dnsmasq leaves some names
 * whole, so ours are no longer. */
static void test_write_captured(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(replies) + N(queries); i++) {
		const struct vec *v = i < N(replies) ? &replies[i] : &queries[i - N(replies)];
		uint8_t *b = dup(v->b, v->len);
		size_t olen = round_trip(b, v->len);
		bool dnsmasq = v == &replies[2] || v == &replies[3] || v == &replies[5];

		if (dnsmasq ? olen >= v->len : olen != v->len)
			fail_msg("%s: %zu bytes written, %zu read", v->name, olen, v->len);
		if (!dnsmasq) {
			struct dns_msg m;
			uint8_t out[1024];
			bool trunc;

			dns_msg_init(&m);
			assert_int_equal(dns_msg_parse(&m, b, v->len), 0);
			assert_int_equal(dns_msg_write(&m, out, sizeof(out), sizeof(out), &olen,
						       &trunc), 0);
			if (memcmp(out, v->b, v->len) != 0)
				fail_msg("%s: not the same bytes", v->name);
			dns_msg_free(&m);
		}
		free(b);
	}
}

static struct dns_rr mkrr(const char *owner, uint16_t type, const void *rdata, size_t rdlen)
{
	return (struct dns_rr){ .name = name(owner), .type = type, .cls = DNS_C_IN, .ttl = 60,
				.rdlen = (uint16_t)rdlen, .rdata = (uint8_t *)(uintptr_t)rdata };
}

/* A record to pass by address. */
#define MKRR(...) (&(struct dns_rr[]){ mkrr(__VA_ARGS__) }[0])

static void msg_with_question(struct dns_msg *m, const char *qname, uint16_t type)
{
	dns_msg_init(m);
	m->id = 0x4242;
	m->flags = DNS_F_QR | DNS_F_RD | DNS_F_RA;
	m->has_question = true;
	m->q = (struct dns_question){ .name = name(qname), .type = type, .cls = DNS_C_IN };
}

static size_t write_ok(const struct dns_msg *m, uint8_t *out, size_t cap, size_t limit,
		       bool want_trunc)
{
	size_t len = 0;
	bool trunc = !want_trunc;

	assert_int_equal(dns_msg_write(m, out, cap, limit, &len, &trunc), 0);
	assert_int_equal(trunc, want_trunc);
	assert_true(len <= cap && len <= limit);
	return len;
}

/* Ten records of one long owner: the owner is written once, then pointers;
 * MX, NS, CNAME and SOA names compress too, against owners and each other. */
static void test_write_compression(void **state)
{
	static const char owner[] = "a-rather-long-owner-name.example.org"; /* 38 bytes */
	struct dns_msg m;
	uint8_t out[2048];
	struct dns_name mx = name("mail.example.org"), ns = name("EXAMPLE.org");
	uint8_t rd[300];
	size_t len;

	(void)state;
	msg_with_question(&m, owner, DNS_T_A);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER, &(struct dns_rr){
			.name = name(owner), .type = DNS_T_A, .cls = DNS_C_IN, .ttl = 60,
			.rdlen = 4, .rdata = (uint8_t *)&i }), 0);
	len = write_ok(&m, out, sizeof(out), sizeof(out), false);
	assert_int_equal(len, 12 + 38 + 4 + 10 * (2 + 10 + 4)); /* 38 * 10 bytes saved */
	for (int i = 0; i < 10; i++)
		assert_int_equal(g16(out + 54 + 16 * i), 0xc000 | 12);
	/* MX exchange: "mail" then a pointer to "example.org" inside the owner. */
	rd[0] = 0, rd[1] = 5;
	memcpy(rd + 2, mx.data, mx.len);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER,
					&(struct dns_rr){ .name = name(owner), .type = DNS_T_MX,
							  .cls = 1, .rdlen = (uint16_t)(2 + mx.len),
							  .rdata = rd }), 0);
	/* NS in the authority, other case: compressed all the same. */
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_AUTHORITY,
					&(struct dns_rr){ .name = name("example.org"), .type = DNS_T_NS,
							  .cls = 1, .rdlen = ns.len, .rdata = ns.data }), 0);
	len = write_ok(&m, out, sizeof(out), sizeof(out), false);
	{
		size_t at = 12 + 38 + 4 + 160; /* the MX */

		assert_int_equal(g16(out + at), 0xc00c);
		assert_int_equal(g16(out + at + 10), 2 + 5 + 2);         /* RDLENGTH */
		assert_memory_equal(out + at + 14, "\4mail", 5);
		assert_int_equal(g16(out + at + 19), 0xc000 | (12 + 25)); /* example.org */
		at += 21;                                                  /* the NS */
		assert_int_equal(g16(out + at), 0xc000 | (12 + 25));
		assert_int_equal(g16(out + at + 10), 2);
		assert_int_equal(g16(out + at + 12), 0xc000 | (12 + 25));
		assert_int_equal(len, at + 14);
	}
	round_trip(out, len);
	dns_msg_free(&m);
}

/* SRV, DNAME and RP names are written whole (RFC 2782, 6672, 3597 §4), even
 * when the same name was written just before; RFC 1035 types compress. */
static void test_write_uncompressed_types(void **state)
{
	static const uint16_t types[] = { DNS_T_SRV, DNS_T_DNAME, DNS_T_RP, DNS_T_AFSDB,
					  DNS_T_CNAME };
	static const char target[] = "sip.example.com";

	(void)state;
	for (size_t i = 0; i < N(types); i++) {
		struct dns_msg m;
		struct dns_name t = name(target);
		uint8_t rd[600], out[1024];
		size_t pre = types[i] == DNS_T_SRV ? 6 : types[i] == DNS_T_AFSDB ? 2 : 0, rdl, len;

		memset(rd, 7, pre);
		memcpy(rd + pre, t.data, t.len);
		rdl = pre + t.len;
		if (types[i] == DNS_T_RP) {
			memcpy(rd + rdl, t.data, t.len);
			rdl += t.len;
		}
		msg_with_question(&m, target, types[i]);
		assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER,
						&(struct dns_rr){ .name = name(target),
								  .type = types[i], .cls = 1,
								  .rdlen = (uint16_t)rdl,
								  .rdata = rd }), 0);
		len = write_ok(&m, out, sizeof(out), sizeof(out), false);
		if (types[i] == DNS_T_CNAME) {
			assert_int_equal(g16(out + 12 + 17 + 4 + 10), 2);
		} else {
			assert_int_equal(g16(out + 12 + 17 + 4 + 10), rdl);
			assert_memory_equal(out + len - rdl, rd, rdl);
		}
		round_trip(out, len);
		dns_msg_free(&m);
	}
}

/* Sixty A records (unbound's "many" answer) as a message of ~1 KB. */
static void many_a(struct dns_msg *m, bool edns)
{
	msg_with_question(m, "many.example.test", DNS_T_A);
	m->flags |= DNS_F_AA | DNS_RCODE_NXDOMAIN; /* kept by the truncation */
	for (uint32_t i = 0; i < 60; i++) {
		uint8_t a[4] = { 198, 51, 100, (uint8_t)i };

		assert_int_equal(dns_msg_add_rr(m, DNS_SEC_ANSWER,
						&(struct dns_rr){ .name = name("many.example.test"),
								  .type = DNS_T_A, .cls = 1,
								  .ttl = 300, .rdlen = 4,
								  .rdata = a }), 0);
	}
	if (edns) {
		static const uint8_t cookie[] = { 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

		m->edns = (struct dns_edns){ .present = true, .do_bit = true, .opts = cookie,
					     .opts_len = sizeof(cookie) };
	}
}

static void check_truncated(const uint8_t *out, size_t len, const struct dns_msg *orig)
{
	struct dns_msg t;

	dns_msg_init(&t);
	assert_int_equal(dns_msg_parse(&t, out, len), 0);
	assert_int_equal(t.id, orig->id);
	assert_int_equal(t.flags, orig->flags | DNS_F_TC);
	assert_int_equal(dns_msg_rr_count(&t), 0);
	assert_int_equal(g16(out + DNS_OFF_ARCOUNT), orig->edns.present);
	assert_int_equal(t.edns.present, orig->edns.present);
	assert_int_equal(t.edns.do_bit, orig->edns.do_bit);
	assert_int_equal(t.edns.opts_len, 0);
	assert_int_equal(t.q.name.len, orig->q.name.len);
	assert_memory_equal(t.q.name.data, orig->q.name.data, t.q.name.len);
	assert_int_equal(len, 12 + orig->q.name.len + 4 + (orig->edns.present ? 11 : 0));
	dns_msg_free(&t);
}

static void test_write_truncation(void **state)
{
	uint8_t *out = malloc(4096);
	struct dns_msg m;
	size_t full, len;

	(void)state;
	assert_non_null(out);
	for (int edns = 0; edns < 2; edns++) {
		many_a(&m, edns);
		full = write_ok(&m, out, 4096, 4096, false);
		assert_int_equal(full, 12 + 23 + 60 * 16 + (edns ? 23 : 0));
		/* Larger than the asker takes: TC, whatever cap is (cap == limit
		 * is the common call, and used to give -EMSGSIZE). */
		for (size_t limit = 512; limit <= full; limit += 100) {
			len = write_ok(&m, out, 4096, limit, true);
			check_truncated(out, len, &m);
			len = write_ok(&m, out, limit, limit, true);
			check_truncated(out, len, &m);
		}
		/* The boundary: exactly full fits, one less truncates. */
		assert_int_equal(write_ok(&m, out, 4096, full, false), full);
		assert_int_equal(write_ok(&m, out, full, full, false), full);
		len = write_ok(&m, out, full - 1, full - 1, true);
		check_truncated(out, len, &m);
		/* The buffer, not the asker, is short: an error, not a TC. */
		assert_int_equal(dns_msg_write(&m, out, full - 1, full, &len, &(bool){ 0 }),
				 -EMSGSIZE);
		assert_int_equal(dns_msg_write(&m, out, 100, 1232, &len, &(bool){ 0 }), -EMSGSIZE);
		/* Not even the question fits the limit. */
		assert_int_equal(dns_msg_write(&m, out, 4096, 12 + 23 - 1, &len, &(bool){ 0 }),
				 -EMSGSIZE);
		assert_int_equal(dns_msg_write(&m, out, 4096, 0, &len, &(bool){ 0 }), -EMSGSIZE);
		dns_msg_free(&m);
	}
	free(out);
}

/* A 3000-byte TXT answer against 1232 and 512; and glibc CVE-2015-7547's
 * "responses over 2048 bytes": every limit around 2048 either fits whole or
 * truncates, never anything in between. */
static void test_write_big_txt(void **state)
{
	uint8_t txt[3000], *out = malloc(DNS_MSG_MAX);
	struct dns_msg m;
	size_t full, len;

	(void)state;
	assert_non_null(out);
	for (size_t i = 0; i < sizeof(txt); i += 250) {
		txt[i] = 249;
		memset(txt + i + 1, 'a' + (int)(i / 250), 249);
	}
	msg_with_question(&m, "big.example.test", DNS_T_TXT);
	m.edns.present = true;
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER,
					MKRR("big.example.test", DNS_T_TXT, txt, sizeof(txt))), 0);
	full = write_ok(&m, out, DNS_MSG_MAX, DNS_MSG_MAX, false);
	assert_int_equal(full, 12 + 22 + 12 + 3000 + 11);
	round_trip(out, full);
	check_truncated(out, write_ok(&m, out, DNS_MSG_MAX, 1232, true), &m);
	check_truncated(out, write_ok(&m, out, 512, 512, true), &m);
	dns_msg_remove_rr(&m, 0);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER,
					MKRR("big.example.test", DNS_T_TXT, txt, 2048 - 57)), 0);
	full = write_ok(&m, out, DNS_MSG_MAX, DNS_MSG_MAX, false);
	assert_int_equal(full, 2048);
	for (size_t limit = 2040; limit <= 2056; limit++) {
		len = write_ok(&m, out, limit, limit, limit < full);
		if (limit < full)
			check_truncated(out, len, &m);
		else
			assert_int_equal(len, full);
	}
	dns_msg_free(&m);
	free(out);
}

/* systemd-resolved CVE-2017-9445 style: a message of exactly 65535 bytes. */
static void test_write_65535(void **state)
{
	struct mb b = mb_new(DNS_MSG_MAX + 1);
	uint8_t *out = malloc(DNS_MSG_MAX);
	struct dns_msg m;
	size_t at, len;

	(void)state;
	assert_non_null(out);
	hdr(&b, 0x8180, 1, 1, 0, 0);
	pname(&b, "a");
	p16(&b, DNS_T_TXT);
	p16(&b, DNS_C_IN);
	at = rr_begin(&b, NULL, 12, DNS_T_TXT);
	while (b.n < DNS_MSG_MAX)
		p8(&b, b.n % 200 ? 'x' : 0);
	rd_end(&b, at);
	assert_int_equal(b.n, DNS_MSG_MAX);
	dns_msg_init(&m);
	assert_int_equal(dns_msg_parse(&m, b.b, b.n), 0);
	assert_int_equal(m.rr[0].rdlen, DNS_MSG_MAX - 31);
	assert_int_equal(write_ok(&m, out, DNS_MSG_MAX, DNS_MSG_MAX, false), DNS_MSG_MAX);
	assert_memory_equal(out, b.b, DNS_MSG_MAX);
	assert_int_equal(dns_msg_write(&m, out, DNS_MSG_MAX - 1, DNS_MSG_MAX, &len, &(bool){ 0 }),
			 -EMSGSIZE);
	check_truncated(out, write_ok(&m, out, DNS_MSG_MAX, DNS_MSG_MAX - 1, true), &m);
	/* One byte more than RDLENGTH leaves: refused. A byte after: ignored. */
	assert_int_equal(dns_msg_parse(&m, b.b, b.n - 1), -EBADMSG);
	p8(&b, 0);
	assert_int_equal(dns_msg_parse(&m, b.b, b.n), 0);
	dns_msg_free(&m);
	free(out);
	free(b.b);
}

static void test_write_bad_records(void **state)
{
	static const uint8_t bad_name[] = { 5, 'a', 'b' }, soa_short[] = { 0, 0, 1, 2, 3 };
	struct dns_msg m;
	uint8_t out[512];
	size_t len;
	bool trunc;

	(void)state;
	msg_with_question(&m, "x", DNS_T_A);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER,
					MKRR("x", DNS_T_CNAME, bad_name, sizeof(bad_name))), 0);
	assert_int_equal(dns_msg_write(&m, out, sizeof(out), sizeof(out), &len, &trunc), -EINVAL);
	dns_msg_remove_rr(&m, 0);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER,
					MKRR("x", DNS_T_SOA, soa_short, sizeof(soa_short))), 0);
	assert_int_equal(dns_msg_write(&m, out, sizeof(out), sizeof(out), &len, &trunc), -EINVAL);
	dns_msg_remove_rr(&m, 0);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER, MKRR("x", DNS_T_MX, bad_name, 1)), 0);
	assert_int_equal(dns_msg_write(&m, out, sizeof(out), sizeof(out), &len, &trunc), -EINVAL);
	dns_msg_remove_rr(&m, 0);
	/* Owners made by hand: a label past len, a 0x40 "label". */
	{
		struct dns_rr r = mkrr("x", DNS_T_A, soa_short, 4);

		r.name = (struct dns_name){ .len = 3, .data = { 5, 'a', 'b' } };
		assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER, &r), 0);
		assert_int_equal(dns_msg_write(&m, out, sizeof(out), sizeof(out), &len, &trunc),
				 -EINVAL);
		dns_msg_remove_rr(&m, 0);
		r.name = (struct dns_name){ .len = 4, .data = { 0x41, 'a', 'b', 0 } };
		assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER, &r), 0);
		assert_int_equal(dns_msg_write(&m, out, sizeof(out), sizeof(out), &len, &trunc),
				 -EINVAL);
	}
	dns_msg_free(&m);
}

/* A full buffer mid-name must not leave the compressor reading what was
 * never written: write a message into every cap from 0 up. */
static void test_write_cap_sweep(void **state)
{
	struct dns_msg m;
	uint8_t *ref = malloc(4096);
	size_t full;

	(void)state;
	assert_non_null(ref);
	dns_msg_init(&m);
	assert_int_equal(dns_msg_parse(&m, v_nxdomain_reply, sizeof(v_nxdomain_reply)), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ADDITIONAL, &m.rr[0]), 0);
	full = write_ok(&m, ref, 4096, 4096, false);
	for (size_t cap = 0; cap <= full; cap++) {
		uint8_t *out = malloc(cap ? cap : 1);
		size_t len = 0;
		bool trunc;
		int r;

		assert_non_null(out);
		r = dns_msg_write(&m, out, cap, DNS_MSG_MAX, &len, &trunc);
		assert_int_equal(r, cap < full ? -EMSGSIZE : 0);
		if (r == 0)
			assert_memory_equal(out, ref, full);
		/* As the asker's limit: a TC answer once the question fits. */
		r = dns_msg_write(&m, out, cap, cap, &len, &trunc);
		assert_int_equal(r, cap < 12 + 23 + 11 ? -EMSGSIZE : 0);
		if (r == 0 && cap < full)
			check_truncated(out, len, &m);
		free(out);
	}
	dns_msg_free(&m);
	free(ref);
}

/* ---- dns_reply_write, dns_udp_limit ---- */

static void parse_query(const uint8_t *b, size_t len, struct dns_query *q)
{
	assert_int_equal(dns_query_parse(b, len, q), 0);
}

static void test_reply_write(void **state)
{
	struct dns_query q, aq;
	struct dns_msg m;
	uint8_t out[DNS_EDNS_MAX];
	size_t len;
	struct dns_rr ans[3];
	uint8_t a1[4] = { 192, 0, 2, 1 }, cname[32];
	struct dns_name target = name("www.example.test");

	(void)state;
	dns_msg_init(&m);
	/* NXDOMAIN to dig's query: RD kept (AD not), RA said, OPT echoed
	 * without the cookie, the question as asked. */
	parse_query(v_a_query, sizeof(v_a_query), &q);
	assert_int_equal(dns_reply_write(&q, DNS_RCODE_NXDOMAIN, NULL, 0, out, sizeof(out),
					 dns_udp_limit(&q), &len), 0);
	assert_int_equal(dns_reply_parse(out, len, &aq), 0);
	assert_int_equal(aq.id, q.id);
	assert_int_equal(aq.flags, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_RCODE_NXDOMAIN);
	assert_int_equal(aq.ancount + aq.nscount, 0);
	assert_true(aq.edns.present);
	assert_false(aq.edns.do_bit);
	assert_int_equal(aq.edns.opts_len, 0);
	assert_int_equal(aq.edns.udp_size, DNS_EDNS_MAX);
	assert_memory_equal(out + 12, v_a_query + 12, q.question_end - 12);
	assert_int_equal(len, q.question_end + 11);

	/* NODATA, no EDNS in the query: none in the reply; case kept. */
	parse_query(v_cname_chain6_query, sizeof(v_cname_chain6_query), &q);
	assert_int_equal(dns_reply_write(&q, DNS_RCODE_NOERROR, NULL, 0, out, sizeof(out),
					 dns_udp_limit(&q), &len), 0);
	assert_int_equal(len, sizeof(v_cname_chain6_query));
	assert_int_equal(g16(out + 2), DNS_F_QR | DNS_F_RD | DNS_F_RA);
	assert_memory_equal(out + 4, v_cname_chain6_query + 4, len - 4); /* counts, question */

	/* CD kept, DO echoed. */
	parse_query(v_nocookie_query, sizeof(v_nocookie_query), &q);
	assert_int_equal(dns_reply_write(&q, DNS_RCODE_SERVFAIL, NULL, 0, out, sizeof(out),
					 dns_udp_limit(&q), &len), 0);
	assert_int_equal(dns_reply_parse(out, len, &aq), 0);
	assert_int_equal(aq.flags, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_F_CD | DNS_RCODE_SERVFAIL);
	parse_query(v_aaaa_query, sizeof(v_aaaa_query), &q);
	assert_int_equal(dns_reply_write(&q, DNS_RCODE_NOERROR, NULL, 0, out, sizeof(out),
					 dns_udp_limit(&q), &len), 0);
	assert_int_equal(dns_reply_parse(out, len, &aq), 0);
	assert_true(aq.edns.do_bit);

	/* Answers: a CNAME to www and its A, compressed against the question. */
	parse_query(v_a_query, sizeof(v_a_query), &q);
	memcpy(cname, target.data, target.len);
	ans[0] = mkrr("alias.example.test", DNS_T_CNAME, cname, target.len);
	ans[1] = mkrr("www.example.test", DNS_T_A, a1, 4);
	assert_int_equal(dns_reply_write(&q, DNS_RCODE_NOERROR, ans, 2, out, sizeof(out),
					 dns_udp_limit(&q), &len), 0);
	assert_int_equal(dns_msg_parse(&m, out, len), 0);
	assert_int_equal(m.count[0], 2);
	rr_equal(&m.rr[0], &ans[0]);
	rr_equal(&m.rr[1], &ans[1]);
	/* "\5alias" + a pointer to example.test, type... RDATA: the question */
	assert_int_equal(g16(out + q.question_end + 6), 0xc000 | 16);
	assert_int_equal(g16(out + q.question_end + 18), 0xc00c);
	assert_int_equal(g16(out + q.question_end + 20), 0xc00c); /* www's owner */

	/* Too many answers for 512: TC. */
	parse_query(v_noedns_query, sizeof(v_noedns_query), &q);
	{
		struct dns_rr many[40];

		for (int i = 0; i < 40; i++)
			many[i] = mkrr("www.example.test", DNS_T_A, a1, 4);
		assert_int_equal(dns_reply_write(&q, 0, many, 40, out, sizeof(out),
						 dns_udp_limit(&q), &len), 0);
		assert_int_equal(len, q.question_end);
		assert_int_equal(g16(out + 2), DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_F_TC);
		assert_int_equal(dns_reply_write(&q, 0, many, 29, out, sizeof(out),
						 dns_udp_limit(&q), &len), 0);
		assert_int_equal(len, q.question_end + 29 * 16);
	}
	assert_int_equal(dns_reply_write(&q, 0, ans, 65536, out, sizeof(out), 512, &len),
			 -EMSGSIZE);

	/* Rcodes over 15 need EDNS (BADVERS = 16). */
	assert_int_equal(dns_reply_write(&q, 16, NULL, 0, out, sizeof(out), 512, &len), -EINVAL);
	parse_query(v_a_query, sizeof(v_a_query), &q);
	assert_int_equal(dns_reply_write(&q, 16, NULL, 0, out, sizeof(out), 512, &len), 0);
	assert_int_equal(dns_reply_parse(out, len, &aq), 0);
	assert_int_equal(aq.flags & DNS_F_RCODE_MASK, 0);
	assert_int_equal(aq.edns.ext_rcode, 1);
	assert_int_equal(dns_reply_write(&q, 0x1000, NULL, 0, out, sizeof(out), 512, &len),
			 -EINVAL);

	/* The query's question never read (opcode UPDATE): a header alone. */
	{
		static const uint8_t upd[] = { QHDR(0x2800, 1, 0, 0, 0), QA };

		assert_int_equal(dns_query_parse(upd, sizeof(upd), &q), -EOPNOTSUPP);
		assert_int_equal(dns_reply_write(&q, DNS_RCODE_NOTIMP, NULL, 0, out, sizeof(out),
						 512, &len), 0);
		assert_int_equal(len, DNS_HDR_LEN);
		assert_int_equal(g16(out), 0x1234);
		assert_int_equal(g16(out + 2), DNS_F_QR | DNS_F_RA | DNS_RCODE_NOTIMP);
		assert_int_equal(g16(out + 4), 0);
	}
	dns_msg_free(&m);
}

static void test_udp_limit(void **state)
{
	static const struct {
		bool edns;
		uint16_t udp;
		size_t limit;
	} t[] = {
		{ false, 0, 512 },  { false, 4096, 512 }, { true, 0, 512 },     { true, 100, 512 },
		{ true, 511, 512 }, { true, 512, 512 },   { true, 1000, 1000 }, { true, 1232, 1232 },
		{ true, 1400, 1232 }, { true, 4096, 1232 }, { true, 65535, 1232 },
	};

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		struct dns_query q = { .edns = { .present = t[i].edns, .udp_size = t[i].udp } };

		assert_int_equal(dns_udp_limit(&q), t[i].limit);
	}
	/* Through the parser: dig's 1232, and +bufsize=4096. */
	{
		struct dns_query q;
		uint8_t b[sizeof(v_a_query)];

		memcpy(b, v_a_query, sizeof(b));
		parse_query(b, sizeof(b), &q);
		assert_int_equal(dns_udp_limit(&q), 1232);
		b[sizeof(b) - 12 - 11 + 3] = 0x10, b[sizeof(b) - 12 - 11 + 4] = 0;
		parse_query(b, sizeof(b), &q);
		assert_int_equal(q.edns.udp_size, 4096);
		assert_int_equal(dns_udp_limit(&q), 1232);
		parse_query(v_noedns_query, sizeof(v_noedns_query), &q);
		assert_int_equal(dns_udp_limit(&q), 512);
	}
}

/* ---- records by hand ---- */

static void test_add_remove(void **state)
{
	struct dns_msg m;
	uint8_t rd[4] = { 1, 2, 3, 4 }, out[512];
	size_t len;
	bool trunc;

	(void)state;
	msg_with_question(&m, "x", DNS_T_A);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ADDITIONAL, MKRR("c", DNS_T_A, rd, 4)), 0);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER, MKRR("a", DNS_T_A, rd, 4)), 0);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_AUTHORITY, MKRR("b", DNS_T_A, rd, 4)), 0);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER, MKRR("a2", DNS_T_A, rd, 4)), 0);
	rd[0] = 9; /* copied, not referenced */
	assert_int_equal(m.rr[0].rdata[0], 1);
	assert_int_equal(dns_msg_rr_count(&m), 4);
	assert_int_equal(m.rr[1].name.data[2], '2');
	assert_int_equal(m.rr[2].name.data[1], 'b');
	assert_int_equal(m.rr[3].name.data[1], 'c');
	assert_int_equal(dns_msg_rr_section(&m, 1), DNS_SEC_ANSWER);
	assert_int_equal(dns_msg_rr_section(&m, 2), DNS_SEC_AUTHORITY);
	assert_int_equal(dns_msg_rr_section(&m, 3), DNS_SEC_ADDITIONAL);
	/* A copy of one of m's own records, while m->rr grows. */
	for (int i = 0; i < 40; i++)
		assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ADDITIONAL, &m.rr[0]), 0);
	assert_int_equal(m.count[2], 41);
	assert_int_equal(m.rr[43].rdata[0], 1);
	assert_int_equal(m.rr[43].name.data[1], 'a');
	for (int i = 0; i < 40; i++)
		dns_msg_remove_rr(&m, 4);
	dns_msg_remove_rr(&m, 1);
	dns_msg_remove_rr(&m, 99);
	assert_int_equal(m.count[0], 1);
	assert_int_equal(m.count[1], 1);
	assert_int_equal(m.count[2], 1);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER, MKRR("e", DNS_T_A, NULL, 0)), 0);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ANSWER, MKRR("e", DNS_T_A, NULL, 4)),
			 -EINVAL);
	assert_int_equal(dns_msg_add_rr(&m, DNS_SEC_ADDITIONAL, MKRR(".", DNS_T_OPT, NULL, 0)),
			 -EINVAL);
	assert_int_equal(dns_msg_add_rr(&m, (enum dns_section)3, MKRR("e", DNS_T_A, rd, 4)),
			 -EINVAL);
	assert_int_equal(dns_msg_write(&m, out, sizeof(out), sizeof(out), &len, &trunc), 0);
	round_trip(out, len);
	dns_msg_free(&m);
	dns_msg_free(&m); /* twice is fine */
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_captured),
		cmocka_unit_test(test_write_compression),
		cmocka_unit_test(test_write_uncompressed_types),
		cmocka_unit_test(test_write_truncation),
		cmocka_unit_test(test_write_big_txt),
		cmocka_unit_test(test_write_65535),
		cmocka_unit_test(test_write_bad_records),
		cmocka_unit_test(test_write_cap_sweep),
		cmocka_unit_test(test_reply_write),
		cmocka_unit_test(test_udp_limit),
		cmocka_unit_test(test_add_remove),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
