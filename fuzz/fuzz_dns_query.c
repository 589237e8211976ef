/* Fuzzes the stub's query path: dns_query_parse() on a query from a client,
 * then the answers the stub makes itself with dns_reply_write().
 *
 * Checked: the parse returns 0, -EBADMSG or -EOPNOTSUPP; on success the
 * question is uncompressed right after the header and the UDP limit is in
 * [512, 1232]. SERVFAIL, NODATA and NXDOMAIN replies and an answer (a record
 * for the question's own name and type) are written into exact-size heap
 * buffers of that limit, and read back by dns_reply_parse() and
 * dns_msg_parse(): the same ID and question, byte for byte (0x20), RD and CD
 * copied, OPT echoed exactly when the query had one (with its DO bit), and
 * nothing longer than the limit. A query that failed after its header still
 * gets a well-formed FORMERR or NOTIMP.
 *
 * Seeds (fuzz/corpus/dns_query/): fuzz/corpus/dns_msg/.make_seeds.py. */
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

static void check_reply(const struct dns_query *q, uint16_t rcode, const struct dns_rr *ans,
			size_t n)
{
	size_t limit = dns_udp_limit(q), len = 0;
	uint8_t *out = malloc(limit);
	struct dns_query aq;
	struct dns_msg m;
	uint16_t want_flags;

	CHECK(out);
	CHECK(dns_reply_write(q, rcode, ans, n, out, limit, limit, &len) == 0);
	CHECK(len <= limit);
	CHECK(dns_reply_parse(out, len, &aq) == 0);
	CHECK(aq.id == q->id);
	want_flags = (uint16_t)(DNS_F_QR | DNS_F_RA | (q->flags & (DNS_F_RD | DNS_F_CD)) | rcode);
	CHECK((aq.flags & ~DNS_F_TC) == want_flags);
	CHECK(aq.q.type == q->q.type && aq.q.cls == q->q.cls);
	CHECK(aq.q.name.len == q->q.name.len);
	CHECK(memcmp(aq.q.name.data, q->q.name.data, q->q.name.len) == 0);
	CHECK(memcmp(out + DNS_HDR_LEN, q->q.name.data, q->q.name.len) == 0);
	CHECK(aq.edns.present == q->edns.present);
	CHECK(!aq.edns.present || (aq.edns.do_bit == q->edns.do_bit && aq.edns.opts_len == 0));
	CHECK(aq.ancount == ((aq.flags & DNS_F_TC) ? 0 : n) && aq.nscount == 0);
	dns_msg_init(&m);
	CHECK(dns_msg_parse(&m, out, len) == 0);
	CHECK(m.count[0] == aq.ancount);
	for (size_t i = 0; i < m.count[0]; i++) {
		CHECK(dns_name_equal(&m.rr[i].name, &ans[i].name));
		CHECK(m.rr[i].rdlen == ans[i].rdlen);
	}
	dns_msg_free(&m);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query q;
	int r = dns_query_parse(data, size, &q);

	CHECK(r == 0 || r == -EBADMSG || r == -EOPNOTSUPP);
	if (r == 0) {
		size_t limit = dns_udp_limit(&q);
		uint8_t rd[4] = { 192, 0, 2, 1 };
		struct dns_rr ans[2] = {
			{ .name = q.q.name, .type = q.q.type, .cls = q.q.cls, .ttl = 60,
			  .rdlen = sizeof(rd), .rdata = rd },
			{ .name = q.q.name, .type = DNS_T_TXT, .cls = DNS_C_IN, .ttl = 0,
			  .rdlen = sizeof(rd), .rdata = rd },
		};

		CHECK(size >= q.question_end && q.question_end == DNS_HDR_LEN + q.q.name.len + 4u);
		CHECK(memcmp(data + DNS_HDR_LEN, q.q.name.data, q.q.name.len) == 0);
		CHECK(limit >= DNS_UDP_PLAIN_MAX && limit <= DNS_EDNS_MAX);
		CHECK(!q.edns.present || q.edns.udp_size >= DNS_UDP_PLAIN_MAX);
		CHECK(q.edns.opts_len == 0 || (q.edns.opts >= data &&
					       q.edns.opts + q.edns.opts_len <= data + size));
		check_reply(&q, DNS_RCODE_SERVFAIL, NULL, 0);
		check_reply(&q, DNS_RCODE_NOERROR, NULL, 0);
		check_reply(&q, DNS_RCODE_NXDOMAIN, NULL, 0);
		/* RDATA of a name type would have to be a name: use A's shape
		 * only where the type takes any bytes. */
		if (q.q.type == DNS_T_A || q.q.type == DNS_T_TXT || q.q.type >= 256)
			check_reply(&q, DNS_RCODE_NOERROR, ans, 2);
	} else if (size >= DNS_HDR_LEN && !(data[DNS_OFF_FLAGS] & 0x80)) {
		/* FORMERR or NOTIMP: q->id is valid, the rest what was read. */
		uint8_t out[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
		size_t len = 0;
		struct dns_msg m;

		CHECK(q.id == (uint16_t)(data[0] << 8 | data[1]));
		CHECK(dns_reply_write(&q, r == -EOPNOTSUPP ? DNS_RCODE_NOTIMP : DNS_RCODE_FORMERR,
				      NULL, 0, out, sizeof(out), sizeof(out), &len) == 0);
		dns_msg_init(&m);
		CHECK(dns_msg_parse(&m, out, len) == 0);
		CHECK(m.id == q.id && (m.flags & DNS_F_QR));
		CHECK(m.has_question == (q.q.name.len > 0));
		dns_msg_free(&m);
	}
	return 0;
}
