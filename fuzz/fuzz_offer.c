/* Fuzzes the offer option and the gateway's binding of an answer.
 *
 * 1. The whole input as option DATA: offer_decode() must not crash, and what
 *    it accepts must encode back to the very same bytes.
 * 2. The input split: the first 3 + 4*n4 + 16*n6 bytes (as bytes 1 and 2
 *    claim) are an offer — decoded, or if it does not decode, taken raw as a
 *    hand-made struct offer would be — and the rest a DNS answer. The answer
 *    goes through dns_msg_parse() and binding_apply() on a fresh table, and
 *    the output must hold no address but offered ones (so no real address of
 *    the input unless the client offered it itself), only the records the
 *    rewrite allows, bindings that map back, and the client's reading of the
 *    answer (offer_used) must agree with the gateway's. The same answer again,
 *    with no offer, must give the same addresses: bindings are stable. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/binding.h"
#include "dns/offer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): release builds define NDEBUG. */
#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static void check_round_trip(const uint8_t *data, size_t size)
{
	struct offer o;
	uint8_t buf[OFFER_DATA_MAX];
	size_t len = 0;
	int r = offer_decode(data, size, &o);

	if (r < 0) {
		CHECK(r == -EBADMSG || r == -EPROTONOSUPPORT);
		CHECK(o.n4 == 0 && o.n6 == 0);
		return;
	}
	CHECK(o.n4 <= OFFER_MAX4 && o.n6 <= OFFER_MAX6);
	CHECK(offer_encode(&o, buf, sizeof(buf), &len) == 0);
	CHECK(len == size && memcmp(buf, data, size) == 0);
}

static bool in_offer(const struct offer *o, const uint8_t *a, size_t alen)
{
	unsigned n = alen == 4 ? o->n4 : o->n6;

	for (unsigned k = 0; k < n; k++)
		if (!memcmp(alen == 4 ? o->v4[k] : o->v6[k], a, alen))
			return true;
	return false;
}

struct reals {
	uint8_t (*a)[16];
	uint8_t *len;
	size_t n;
};

static bool is_real(const struct reals *rs, const uint8_t *a, size_t alen)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->len[i] == alen && !memcmp(rs->a[i], a, alen))
			return true;
	return false;
}

static void check_output(const struct binding_table *t, const struct dns_msg *m,
			 const struct offer *o, const struct reals *rs)
{
	size_t alen = m->q.type == DNS_T_A ? 4 : 16;

	CHECK(m->count[DNS_SEC_ADDITIONAL] == 0);
	CHECK(m->count[DNS_SEC_AUTHORITY] == 0 || m->count[DNS_SEC_ANSWER] == 0);
	CHECK(!(m->flags & DNS_F_AD));
	CHECK(m->edns.opts_len == 0);
	for (size_t i = 0; i < dns_msg_rr_count(m); i++) {
		const struct dns_rr *rr = &m->rr[i];
		struct dns_name n;
		uint8_t real[16], back[16];

		if (dns_msg_rr_section(m, i) == DNS_SEC_AUTHORITY) {
			CHECK(rr->type == DNS_T_SOA);
			continue;
		}
		CHECK(rr->type == m->q.type && rr->cls == DNS_C_IN && rr->rdlen == alen);
		CHECK(dns_name_equal(&rr->name, &m->q.name));
		/* Fresh table: every address out was offered in this very query. */
		CHECK(in_offer(o, rr->rdata, alen));
		CHECK(!is_real(rs, rr->rdata, alen) || in_offer(o, rr->rdata, alen));
		CHECK(binding_lookup_proxy(t, rr->rdata, alen, &n, real) == 0);
		CHECK(dns_name_equal(&n, &m->q.name));
		CHECK(is_real(rs, real, alen));
		CHECK(binding_lookup(t, &m->q.name, real, alen, back) == 0);
		CHECK(!memcmp(back, rr->rdata, alen));
	}
}

/* The client's view (offer_used) against the gateway's report. */
static void check_use(const struct offer *o, const struct dns_msg *m, const struct offer_use *u)
{
	struct offer_use cu;

	offer_used(o, m, &cu);
	CHECK((u->used4 & u->refused4) == 0 && (u->used6 & u->refused6) == 0);
	CHECK((u->used4 & ~cu.used4) == 0 && (u->used6 & ~cu.used6) == 0);
	/* The client may also mark a duplicate of a used entry. */
	for (unsigned k = 0; k < o->n4; k++)
		if ((cu.used4 & ~u->used4) & (1u << k)) {
			bool dup = false;

			for (unsigned j = 0; j < o->n4; j++)
				dup |= (u->used4 >> j & 1) && !memcmp(o->v4[j], o->v4[k], 4);
			CHECK(dup);
		}
	for (unsigned k = 0; k < o->n6; k++)
		if ((cu.used6 & ~u->used6) & (1u << k)) {
			bool dup = false;

			for (unsigned j = 0; j < o->n6; j++)
				dup |= (u->used6 >> j & 1) && !memcmp(o->v6[j], o->v6[k], 16);
			CHECK(dup);
		}
}

static void collect_reals(const struct dns_msg *m, struct reals *rs)
{
	size_t n = dns_msg_rr_count(m);

	rs->a = malloc((n ? n : 1) * sizeof(*rs->a));
	rs->len = malloc(n ? n : 1);
	rs->n = 0;
	CHECK(rs->a && rs->len);
	for (size_t i = 0; i < n; i++) {
		const struct dns_rr *rr = &m->rr[i];

		if ((rr->type == DNS_T_A && rr->rdlen == 4) ||
		    (rr->type == DNS_T_AAAA && rr->rdlen == 16)) {
			memcpy(rs->a[rs->n], rr->rdata, rr->rdlen);
			rs->len[rs->n++] = (uint8_t)rr->rdlen;
		}
	}
}

static void check_binding(const uint8_t *data, size_t size)
{
	static uint8_t wire[65535];
	struct dns_msg m, again, back;
	struct offer o, found;
	struct offer_use u, u2;
	struct binding_table *t;
	struct reals rs;
	size_t olen, len;
	bool trunc;
	int rc, rc2;

	if (size < 3)
		return;
	olen = 3 + 4 * (size_t)data[1] + 16 * (size_t)data[2];
	if (olen > size)
		olen = size;
	if (offer_decode(data, olen, &o) < 0) {
		/* What a careless caller might hand over: no decoder in the way. */
		size_t p = 3;

		memset(&o, 0, sizeof(o));
		o.n4 = data[1] % (OFFER_MAX4 + 1);
		o.n6 = data[2] % (OFFER_MAX6 + 1);
		for (unsigned k = 0; k < o.n4 && p + 4 <= olen; k++, p += 4)
			memcpy(o.v4[k], data + p, 4);
		for (unsigned k = 0; k < o.n6 && p + 16 <= olen; k++, p += 16)
			memcpy(o.v6[k], data + p, 16);
	}

	dns_msg_init(&m);
	if (dns_msg_parse(&m, data + olen, size - olen) < 0) {
		dns_msg_free(&m);
		return;
	}
	/* The options of the answer, as a gateway reads a query's. */
	rc = offer_find(&m.edns, &found);
	CHECK(rc == 0 || rc == -ENOENT || rc == -EBADMSG || rc == -EPROTONOSUPPORT);
	{
		static uint8_t obuf[65535 + OFFER_OPT_MAX];
		struct dns_edns e = m.edns;

		rc = offer_edns_set(&e, &o, obuf, sizeof(obuf));
		CHECK(rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE);
		if (rc == 0) {
			CHECK(offer_find(&e, &found) == 0);
			CHECK(found.n4 == o.n4 && found.n6 == o.n6);
			CHECK(!memcmp(found.v4, o.v4, sizeof(o.v4)) &&
			      !memcmp(found.v6, o.v6, sizeof(o.v6)));
		}
	}

	collect_reals(&m, &rs);
	t = binding_table_new(size & 1 ? 3 : BINDING_DEFAULT_MAX);
	CHECK(t);
	rc = binding_apply(t, &m, &o, &u);
	CHECK(rc == 0 || rc == -EINVAL || rc == -EOPNOTSUPP || rc == -ENOBUFS || rc == -ENOSPC);
	CHECK(binding_count(t) == (size_t)__builtin_popcount(u.used4 | u.used6));
	if (rc < 0) {
		CHECK(dns_msg_rr_count(&m) == 0);
		CHECK(binding_count(t) == 0);
		CHECK((m.flags & DNS_F_RCODE_MASK) == DNS_RCODE_SERVFAIL);
	} else {
		check_output(t, &m, &o, &rs);
		check_use(&o, &m, &u);
		/* What leaves the gateway, read back by the client. */
		if (dns_msg_write(&m, wire, sizeof(wire), sizeof(wire), &len, &trunc) == 0) {
			dns_msg_init(&back);
			CHECK(dns_msg_parse(&back, wire, len) == 0);
			check_output(t, &back, &o, &rs);
			dns_msg_free(&back);
		}
	}

	/* Stable: the same answer again, with no offer. */
	dns_msg_init(&again);
	CHECK(dns_msg_parse(&again, data + olen, size - olen) == 0);
	rc2 = binding_apply(t, &again, NULL, &u2);
	CHECK(u2.used4 == 0 && u2.used6 == 0);
	if (rc == 0) {
		CHECK(rc2 == 0);
		CHECK(again.count[DNS_SEC_ANSWER] == m.count[DNS_SEC_ANSWER]);
		for (size_t i = 0; i < m.count[DNS_SEC_ANSWER]; i++)
			CHECK(again.rr[i].rdlen == m.rr[i].rdlen &&
			      !memcmp(again.rr[i].rdata, m.rr[i].rdata, m.rr[i].rdlen));
	} else {
		CHECK(rc2 < 0);
	}
	dns_msg_free(&again);

	binding_table_free(t);
	free(rs.a);
	free(rs.len);
	dns_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_round_trip(data, size);
	check_binding(data, size);
	return 0;
}
