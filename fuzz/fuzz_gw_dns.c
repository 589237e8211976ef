/* Fuzzes the gateway DNS endpoint's query handling: dnsep_query() on a query
 * from the input, then dnsep_answer() with a resolver answer made from the
 * input too, against a fake daemon whose choices the input also makes.
 *
 * Input: byte 0 = choices (bit 0 TCP, 1 the client is live, 2 its resources
 * cover the name, 3 bound() fails, 4 the resolver failed, 5 IPv6 source),
 * bytes 1-2 the query's length, the query, then the resolver's answer: its
 * 12-byte header, then (the question is the query's own, copied in, so the
 * answer matches) its records.
 *
 * Checked: a reply to the query carries its ID; an answer to an A or AAAA
 * question holds no address but offered ones (the table starts empty, so no
 * real address gets out); other types hold no A or AAAA record at all; a
 * failed bound() leaves SERVFAIL and an empty table; a client that is not
 * there gets REFUSED. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/binding.h"
#include "gateway/dnsep.h"
#include "lib/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

struct fake {
	uint8_t choices;
	struct binding_table *t;
	unsigned bound_calls;
};

static void *fk_client(void *arg, int family, const uint8_t *src)
{
	struct fake *f = arg;

	(void)family;
	(void)src;
	return f->choices & 2 ? f : NULL;
}

static bool fk_covers(void *arg, void *client, const struct dns_name *qname)
{
	struct fake *f = arg;

	CHECK(client == f);
	CHECK(qname->len >= 1);
	return f->choices & 4;
}

static struct binding_table *fk_bindings(void *arg, void *client)
{
	struct fake *f = arg;

	CHECK(client == f);
	return f->t;
}

static int fk_bound(void *arg, void *client, const struct dns_name *name, int family,
		    const uint8_t *proxy, const uint8_t *real)
{
	struct fake *f = arg;

	(void)name;
	(void)family;
	(void)proxy;
	(void)real;
	CHECK(client == f);
	f->bound_calls++;
	return f->choices & 8 ? -ENOMEM : 0;
}

static const struct dnsep_ops ops = { fk_client, fk_covers, fk_bindings, fk_bound };

static bool offered(const struct offer *o, const uint8_t *a, size_t alen)
{
	unsigned n = alen == 4 ? o->n4 : o->n6;

	for (unsigned k = 0; k < n; k++)
		if (!memcmp(alen == 4 ? o->v4[k] : o->v6[k], a, alen))
			return true;
	return false;
}

static void check_answer(const struct fake *f, const struct dnsep_req *req, const uint8_t *out,
			 size_t len)
{
	struct dns_msg m;
	uint16_t rcode;

	CHECK(len >= 12);
	CHECK(get_be16(out) == req->id);
	CHECK(!(req->edns == false && len > 512 && !(f->choices & 1)));
	rcode = out[3] & 0x0f;
	if (!(f->choices & 2) || !(f->choices & 4))
		CHECK(rcode == 5); /* REFUSED */
	dns_msg_init(&m);
	if (dns_msg_parse(&m, out, len) == 0) {
		bool addr_q = req->q.type == 1 || req->q.type == 28;

		for (size_t i = 0; i < dns_msg_rr_count(&m); i++) {
			const struct dns_rr *rr = &m.rr[i];

			if (rr->type != 1 && rr->type != 28)
				continue;
			CHECK(addr_q && rr->rdlen == (rr->type == 1 ? 4 : 16));
			CHECK(offered(&req->offer, rr->rdata, rr->rdlen));
		}
	}
	dns_msg_free(&m);
	if (f->bound_calls && (f->choices & 8)) {
		CHECK(rcode == 2); /* SERVFAIL */
		CHECK(binding_count(f->t) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One endpoint (no sockets) for the run; its ops' arg is the static fake,
	 * reset for each input. */
	static struct fake f;
	static struct dnsep *ep;
	static uint8_t out[65536], ans[65536];
	struct dnsep_config cfg = { 0 };
	struct dnsep_req req;
	uint8_t src[16] = { 100, 64, 0, 1 };
	size_t qlen, out_len = 0, alen;
	enum dnsep_verdict v;

	if (size < 3)
		return 0;
	if (!ep && dnsep_new(&cfg, &ops, &f, &ep) < 0)
		abort();
	memset(&f, 0, sizeof(f));
	f.choices = data[0];
	qlen = get_be16(data + 1);
	data += 3;
	size -= 3;
	if (qlen > size)
		qlen = size;
	f.t = binding_table_new(64);
	if (!f.t)
		abort();
	v = dnsep_query(ep, f.choices & 32 ? AF_INET6 : AF_INET, src, data, qlen, f.choices & 1,
			&req, out, sizeof(out), &out_len);
	CHECK(v == DNSEP_DROP || v == DNSEP_REPLY || v == DNSEP_RESOLVE);
	if (v == DNSEP_REPLY) {
		CHECK(out_len >= 12 && out_len <= sizeof(out));
		CHECK(!memcmp(out, data, 2));
		CHECK(out[2] & 0x80);
		if (!(f.choices & 2))
			CHECK((out[3] & 0x0f) == 5); /* REFUSED */
	}
	if (v == DNSEP_RESOLVE) {
		const uint8_t *rest = data + qlen;
		size_t rlen = size - qlen, qsec = DNS_HDR_LEN + (size_t)req.q.name.len + 4;

		CHECK((f.choices & 6) == 6);
		/* The answer: its header, the query's question, its records. */
		alen = 0;
		if (rlen >= DNS_HDR_LEN && qsec <= qlen && qsec + rlen <= sizeof(ans)) {
			memcpy(ans, rest, DNS_HDR_LEN);
			put_be16(ans + DNS_OFF_QDCOUNT, 1);
			memcpy(ans + DNS_HDR_LEN, data + DNS_HDR_LEN, qsec - DNS_HDR_LEN);
			memcpy(ans + qsec, rest + DNS_HDR_LEN, rlen - DNS_HDR_LEN);
			alen = qsec + rlen - DNS_HDR_LEN;
		}
		CHECK(dnsep_answer(ep, &req, f.choices & 16 ? -ETIMEDOUT : 0, ans, alen, out,
				   sizeof(out), &out_len) == 0);
		check_answer(&f, &req, out, out_len);
	}
	binding_table_free(f.t);
	return 0;
}
