/* The endpoint's query handling, without sockets (the fuzz target drives
 * it): which queries are refused or malformed, and what an answer from the
 * resolver becomes before the client sees it. */
#include "gateway/dnsep_priv.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/binding.h"
#include "lib/bytes.h"
#include "lib/cursor.h"

enum {
	T_AXFR = 252,
	T_IXFR = 251,
	RCODE_BADVERS = 16,
};

static void query_of(const struct dnsep_req *req, struct dns_query *dq)
{
	memset(dq, 0, sizeof(*dq));
	dq->id = req->id;
	dq->flags = req->flags;
	dq->q = req->q;
	dq->edns.present = req->edns;
	dq->edns.do_bit = req->do_bit;
	dq->question_end = DNS_HDR_LEN + (size_t)req->q.name.len + 4;
}

enum dnsep_verdict dnsep_reply_rcode(struct dnsep *ep, const struct dnsep_req *req,
				     uint16_t rcode, uint8_t *out, size_t cap, size_t *out_len)
{
	struct dns_query dq;

	query_of(req, &dq);
	if (rcode == DNS_RCODE_REFUSED)
		ep->st.refused++;
	else if (rcode == DNS_RCODE_SERVFAIL)
		ep->st.servfail++;
	else
		ep->st.formerr++;
	if (dns_reply_write(&dq, rcode, NULL, 0, out, cap, cap, out_len) < 0)
		return DNSEP_DROP;
	return DNSEP_REPLY;
}

/* For a query whose question could not be read: the header alone, as RFC 1035
 * allows, with the opcode echoed. */
static enum dnsep_verdict reply_header_only(struct dnsep *ep, const uint8_t *msg, uint16_t rcode,
					    uint8_t *out, size_t cap, size_t *out_len)
{
	uint16_t flags = get_be16(msg + DNS_OFF_FLAGS);
	struct cursor c;

	if (rcode == DNS_RCODE_REFUSED)
		ep->st.refused++;
	else
		ep->st.formerr++;
	cur_init(&c, out, cap);
	cur_put_bytes(&c, msg, 2);
	cur_put_be16(&c, (uint16_t)(DNS_F_QR | (flags & (DNS_F_OPCODE_MASK | DNS_F_RD)) | rcode));
	cur_put_zero(&c, 8);
	if (c.err)
		return DNSEP_DROP;
	*out_len = c.pos;
	return DNSEP_REPLY;
}

enum dnsep_verdict dnsep_query(struct dnsep *ep, int family, const uint8_t *src,
			       const uint8_t *msg, size_t len, bool tcp, struct dnsep_req *req,
			       uint8_t *out, size_t cap, size_t *out_len)
{
	struct dns_query q;
	void *cl;
	int r = dns_query_parse(msg, len, &q);

	memset(req, 0, sizeof(*req));
	if (r < 0 && (len < DNS_HDR_LEN || (msg[DNS_OFF_FLAGS] & 0x80))) {
		/* No header, or an answer sent to a server: never reflect. */
		ep->st.dropped++;
		log_rl(&ep->rl, LOG_LVL_INFO, "dnsep: unreadable query (%zu bytes) dropped", len);
		return DNSEP_DROP;
	}
	req->family = family;
	memcpy(req->src, src, family == AF_INET ? 4 : 16);
	cl = ep->ops.client(ep->arg, family, src);
	if (r < 0)
		return reply_header_only(ep, msg, cl ? (r == -EOPNOTSUPP ? DNS_RCODE_NOTIMP
							 : DNS_RCODE_FORMERR)
						      : DNS_RCODE_REFUSED, out, cap, out_len);
	req->id = q.id;
	req->flags = q.flags;
	req->q = q.q;
	req->edns = q.edns.present;
	req->do_bit = q.edns.do_bit;
	req->limit = tcp ? DNS_MSG_MAX : dns_udp_limit(&q);
	if (!cl)
		return dnsep_reply_rcode(ep, req, DNS_RCODE_REFUSED, out, cap, out_len);
	/* RFC 6891 §6.1.3: an EDNS version we do not speak gets BADVERS. */
	if (q.edns.present && q.edns.version > 0)
		return dnsep_reply_rcode(ep, req, RCODE_BADVERS, out, cap, out_len);
	r = offer_find(&q.edns, &req->offer);
	if (r == -ENOENT)
		memset(&req->offer, 0, sizeof(req->offer));
	else if (r < 0)
		return dnsep_reply_rcode(ep, req, DNS_RCODE_FORMERR, out, cap, out_len);
	if (q.q.cls != DNS_C_IN || q.q.type == T_AXFR || q.q.type == T_IXFR ||
	    !ep->ops.covers(ep->arg, cl, &q.q.name))
		return dnsep_reply_rcode(ep, req, DNS_RCODE_REFUSED, out, cap, out_len);
	return DNSEP_RESOLVE;
}

/* ---- the answer ---- */

/* SVCB and HTTPS records (RFC 9460) carry addresses too: their ipv4hint and
 * ipv6hint parameters are cut out, in place. false if the RDATA is malformed. */
static bool svcb_drop_hints(struct dns_rr *rr)
{
	struct dns_name target;
	struct cursor c;
	size_t pos = 2, w;

	if (rr->rdlen < 3 || dns_name_read(rr->rdata, rr->rdlen, &pos, &target) < 0)
		return false;
	cur_init(&c, rr->rdata + pos, rr->rdlen - pos);
	w = pos;
	while (cur_remaining(&c) > 0) {
		size_t at = pos + c.pos;
		uint16_t key = cur_be16(&c), len = cur_be16(&c);

		cur_skip(&c, len);
		if (c.err)
			return false;
		if (key == 4 || key == 6) /* ipv4hint, ipv6hint */
			continue;
		memmove(rr->rdata + w, rr->rdata + at, 4 + (size_t)len);
		w += 4 + (size_t)len;
	}
	rr->rdlen = (uint16_t)w;
	return true;
}

/* Passing an answer on: no real address anywhere (A or AAAA records, as glue
 * or in an ANY answer; SVCB/HTTPS address hints). */
static void strip_addresses(struct dns_msg *m)
{
	for (size_t i = dns_msg_rr_count(m); i-- > 0;) {
		struct dns_rr *rr = &m->rr[i];

		if (rr->type == DNS_T_A || rr->type == DNS_T_AAAA ||
		    ((rr->type == DNS_T_SVCB || rr->type == DNS_T_HTTPS) && !svcb_drop_hints(rr)))
			dns_msg_remove_rr(m, i);
	}
}

/* Reports the bindings this answer made (u's used entries); if the daemon
 * fails one, forgets them all again. */
static int report_bound(struct dnsep *ep, void *cl, struct binding_table *t,
			const struct dnsep_req *req, const struct offer_use *u)
{
	bool v4 = req->q.type == DNS_T_A;
	uint32_t used = v4 ? u->used4 : u->used6;
	size_t alen = v4 ? 4 : 16;
	unsigned n = v4 ? req->offer.n4 : req->offer.n6; /* used only marks these */
	struct dns_name lname = req->q.name;
	uint8_t real[16];
	int r = 0;

	dns_name_lower(&lname);
	for (unsigned k = 0; k < n && !r; k++) {
		const uint8_t *proxy;

		if (!(used & (1u << k)))
			continue;
		proxy = v4 ? req->offer.v4[k] : req->offer.v6[k];
		r = binding_lookup_proxy(t, proxy, alen, NULL, real);
		if (!r)
			r = ep->ops.bound(ep->arg, cl, &lname, v4 ? AF_INET : AF_INET6, proxy, real);
	}
	if (!r)
		return 0;
	ep->st.bound_failed++;
	for (unsigned k = 0; k < n; k++)
		if (used & (1u << k))
			binding_forget_proxy(t, v4 ? req->offer.v4[k] : req->offer.v6[k], alen);
	return r;
}

int dnsep_answer(struct dnsep *ep, const struct dnsep_req *req, int err, const uint8_t *answer,
		 size_t alen, uint8_t *out, size_t cap, size_t *out_len)
{
	struct dns_msg *m = &ep->msg;
	void *cl = ep->ops.client(ep->arg, req->family, req->src);
	uint16_t rcode = DNS_RCODE_SERVFAIL;
	bool trunc;

	/* Revoked while the resolver worked: the client is gone, or the name. */
	if (!cl || !ep->ops.covers(ep->arg, cl, &req->q.name))
		rcode = DNS_RCODE_REFUSED;
	else if (err || dns_msg_parse(m, answer, alen) < 0 || !m->has_question ||
		 m->q.type != req->q.type || !dns_name_equal(&m->q.name, &req->q.name))
		; /* SERVFAIL */
	else if (m->edns.ext_rcode && !req->edns)
		; /* an rcode the asker cannot read */
	else {
		m->id = req->id;
		m->q = req->q;
		/* Not an authority; RD and CD echoed. */
		m->flags = (uint16_t)(DNS_F_QR | DNS_F_RA | (req->flags & (DNS_F_RD | DNS_F_CD)) |
				      (m->flags & (DNS_F_AD | DNS_F_RCODE_MASK)));
		if (req->q.type == DNS_T_A || req->q.type == DNS_T_AAAA) {
			struct binding_table *t = ep->ops.bindings(ep->arg, cl);
			struct offer_use u;

			if (binding_apply(t, m, &req->offer, &u) == 0 &&
			    report_bound(ep, cl, t, req, &u) < 0)
				goto fail;
		} else {
			strip_addresses(m);
		}
		m->edns.present = req->edns;
		m->edns.do_bit = req->do_bit;
		m->edns.version = 0;
		m->edns.opts = NULL;
		m->edns.opts_len = 0;
		if (dns_msg_write(m, out, cap, req->limit, out_len, &trunc) == 0) {
			if ((m->flags & DNS_F_RCODE_MASK) == DNS_RCODE_SERVFAIL)
				ep->st.servfail++;
			else
				ep->st.answered++;
			return 0;
		}
	}
fail:
	return dnsep_reply_rcode(ep, req, rcode, out, cap, out_len) == DNSEP_REPLY ? 0 : -EMSGSIZE;
}
