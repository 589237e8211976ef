/* DNS messages: parsing queries and answers, and writing them back with name
 * compression and truncation. */
#include "dns/msg.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cursor.h"

enum {
	MSG_ARENA_CAP = 256 * 1024, /* decompressed RDATA of one message, at most */
	COMPRESS_MAX = 128,         /* names remembered for compression */
};

static inline uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return be16toh(v);
}

/* The OPT pseudo-record (RFC 6891): root owner, in the additional section,
 * at most once. Its class is the payload size, its TTL ext-rcode/version/flags. */
static int parse_opt(const uint8_t *msg, size_t len, size_t *pos, struct dns_edns *e)
{
	struct cursor c;
	uint16_t rdlen;
	uint32_t ttl;

	if (e->present)
		return -EBADMSG;
	cur_init_ro(&c, msg, len);
	cur_seek(&c, *pos);
	if (cur_u8(&c) != 0 || cur_be16(&c) != DNS_T_OPT)
		return -EBADMSG;
	e->udp_size = cur_be16(&c);
	ttl = cur_be32(&c);
	rdlen = cur_be16(&c);
	e->opts = cur_take(&c, rdlen);
	if (c.err)
		return -EBADMSG;
	/* Options must tile the RDATA exactly. */
	for (size_t o = 0; o < rdlen;) {
		if (rdlen - o < DNS_OPT_HDR_LEN ||
		    rd16(e->opts + o + 2) > rdlen - o - DNS_OPT_HDR_LEN)
			return -EBADMSG;
		o += DNS_OPT_HDR_LEN + rd16(e->opts + o + 2);
	}
	if (e->udp_size < DNS_UDP_PLAIN_MAX)
		e->udp_size = DNS_UDP_PLAIN_MAX;
	e->present = true;
	e->ext_rcode = (uint8_t)(ttl >> 24);
	e->version = (uint8_t)(ttl >> 16);
	e->do_bit = ttl & DNS_EDNS_DO;
	e->opts_len = rdlen;
	*pos = c.pos;
	return 0;
}

/* Steps over one record; if it is an OPT, parses it into e. */
static int skip_rr(const uint8_t *msg, size_t len, size_t *pos, bool additional,
		   struct dns_edns *e)
{
	struct dns_name n;
	size_t p = *pos;
	uint16_t rdlen;

	if (additional && p + 3 <= len && msg[p] == 0 && rd16(msg + p + 1) == DNS_T_OPT)
		return parse_opt(msg, len, pos, e);
	if (dns_name_read(msg, len, &p, &n) < 0 || len - p < 10)
		return -EBADMSG;
	if (rd16(msg + p) == DNS_T_OPT)
		return -EBADMSG; /* OPT with a name, or outside the additional section */
	rdlen = rd16(msg + p + 8);
	if (len - p - 10 < rdlen)
		return -EBADMSG;
	*pos = p + 10 + rdlen;
	return 0;
}

static int parse_head(const uint8_t *msg, size_t len, struct dns_query *q, bool reply)
{
	uint16_t qd;
	size_t p = DNS_HDR_LEN;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	q->id = rd16(msg + DNS_OFF_ID);
	q->flags = rd16(msg + DNS_OFF_FLAGS);
	if (!!(q->flags & DNS_F_QR) != reply)
		return -EBADMSG;
	qd = rd16(msg + DNS_OFF_QDCOUNT);
	q->ancount = rd16(msg + DNS_OFF_ANCOUNT);
	q->nscount = rd16(msg + DNS_OFF_NSCOUNT);
	q->arcount = rd16(msg + DNS_OFF_ARCOUNT);
	if (q->flags & DNS_F_OPCODE_MASK)
		return -EOPNOTSUPP;
	if (qd != 1)
		return -EBADMSG;
	if (dns_name_read(msg, len, &p, &q->q.name) < 0 || len - p < 4)
		return -EBADMSG;
	q->q.type = rd16(msg + p);
	q->q.cls = rd16(msg + p + 2);
	q->question_end = p + 4;
	return 0;
}

int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q)
{
	size_t p;
	int r = parse_head(msg, len, q, false);

	if (r < 0)
		return r;
	/* A query carries no answers; its additional section holds at most an OPT
	 * (and perhaps TSIG or a cookie, which we step over). */
	if (q->ancount || q->nscount > 0)
		return -EBADMSG;
	p = q->question_end;
	for (unsigned i = 0; i < q->arcount; i++)
		if (skip_rr(msg, len, &p, true, &q->edns) < 0)
			return -EBADMSG;
	return 0;
}

int dns_reply_parse(const uint8_t *msg, size_t len, struct dns_query *q)
{
	size_t p;
	unsigned total;
	int r = parse_head(msg, len, q, true);

	if (r < 0)
		return r;
	p = q->question_end;
	total = (unsigned)q->ancount + q->nscount + q->arcount;
	for (unsigned i = 0; i < total; i++)
		if (skip_rr(msg, len, &p, i >= (unsigned)q->ancount + q->nscount, &q->edns) < 0)
			return -EBADMSG;
	return 0;
}

/* ---- full messages ---- */

void dns_msg_init(struct dns_msg *m)
{
	memset(m, 0, sizeof(*m));
}

void dns_msg_free(struct dns_msg *m)
{
	free(m->rr);
	free(m->arena);
	dns_msg_init(m);
}

/* The arena never moves (records point into it), so it is taken whole on first
 * use: -ENOMEM if malloc fails, -EMSGSIZE once it is full. */
static int arena_alloc(struct dns_msg *m, size_t n, uint8_t **out)
{
	if (!m->arena) {
		m->arena = malloc(MSG_ARENA_CAP);
		if (!m->arena)
			return -ENOMEM;
		m->arena_cap = MSG_ARENA_CAP;
	}
	if (n > m->arena_cap - m->arena_len)
		return -EMSGSIZE;
	*out = m->arena + m->arena_len;
	m->arena_len += n;
	return 0;
}

static int rr_reserve(struct dns_msg *m, size_t n)
{
	struct dns_rr *v;

	if (n <= m->rr_cap)
		return 0;
	v = realloc(m->rr, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	m->rr = v;
	m->rr_cap = n;
	return 0;
}

/* Where the names are in the RDATA of the types that hold any: a fixed prefix
 * before the first name, how many names, a fixed suffix after. Receivers
 * decompress all of these (RFC 3597 §4 and its list of types compressed in the
 * past); a writer compresses only RFC 1035's own types (compress), never SRV,
 * DNAME and the later ones. */
struct rd_layout {
	uint8_t pre, names, post;
	bool compress;
};

static bool rdata_layout(uint16_t type, struct rd_layout *l)
{
	*l = (struct rd_layout){ .names = 1, .compress = true };
	switch (type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_MB:
	case DNS_T_MG:
	case DNS_T_MR:
		return true;
	case DNS_T_MINFO:
		l->names = 2;
		return true;
	case DNS_T_MX:
		l->pre = 2;
		return true;
	case DNS_T_SOA:
		l->names = 2;
		l->post = 20;
		return true;
	case DNS_T_DNAME:
		l->compress = false;
		return true;
	case DNS_T_SRV:
		l->pre = 6;
		l->compress = false;
		return true;
	case DNS_T_RP:
		l->names = 2;
		l->compress = false;
		return true;
	case DNS_T_AFSDB:
	case DNS_T_RT:
	case DNS_T_KX:
		l->pre = 2;
		l->compress = false;
		return true;
	case DNS_T_PX:
		l->pre = 2;
		l->names = 2;
		l->compress = false;
		return true;
	default:
		return false;
	}
}

/* Copies RDATA into the arena, expanding the names it holds. */
static int read_rdata(struct dns_msg *m, const uint8_t *msg, size_t p,
		      uint16_t rdlen, struct dns_rr *rr)
{
	struct rd_layout l;
	uint8_t buf[6 + 2 * DNS_NAME_MAX + 20];
	size_t o = 0, q = p, end = p + rdlen;
	int r;

	if (!rdata_layout(rr->type, &l)) {
		r = arena_alloc(m, rdlen ? rdlen : 1, &rr->rdata);
		if (r < 0)
			return r;
		memcpy(rr->rdata, msg + p, rdlen);
		rr->rdlen = rdlen;
		return 0;
	}
	if (rdlen < l.pre)
		return -EBADMSG;
	memcpy(buf, msg + q, l.pre);
	o = l.pre;
	q += l.pre;
	for (unsigned i = 0; i < l.names; i++) {
		struct dns_name n;

		/* The name may point anywhere before, but must start and end
		 * inside the RDATA. */
		if (dns_name_read(msg, end, &q, &n) < 0)
			return -EBADMSG;
		memcpy(buf + o, n.data, n.len);
		o += n.len;
	}
	if (end - q != l.post)
		return -EBADMSG;
	memcpy(buf + o, msg + q, l.post);
	o += l.post;
	r = arena_alloc(m, o, &rr->rdata);
	if (r < 0)
		return r;
	memcpy(rr->rdata, buf, o);
	rr->rdlen = (uint16_t)o;
	return 0;
}

int dns_msg_parse(struct dns_msg *m, const uint8_t *buf, size_t len)
{
	uint16_t qd, counts[3];
	size_t p = DNS_HDR_LEN, total;
	int r;

	m->arena_len = 0;
	memset(m->count, 0, sizeof(m->count));
	memset(&m->edns, 0, sizeof(m->edns));
	m->has_question = false;
	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	m->id = rd16(buf + DNS_OFF_ID);
	m->flags = rd16(buf + DNS_OFF_FLAGS);
	qd = rd16(buf + DNS_OFF_QDCOUNT);
	for (int s = 0; s < 3; s++)
		counts[s] = rd16(buf + DNS_OFF_ANCOUNT + 2 * s);
	total = (size_t)counts[0] + counts[1] + counts[2];
	/* Counts are claims: every record takes at least 11 bytes. */
	if (qd > 1 || total > (len - DNS_HDR_LEN) / DNS_RR_MIN_LEN)
		return -EBADMSG;
	if (qd) {
		if (dns_name_read(buf, len, &p, &m->q.name) < 0 || len - p < 4)
			return -EBADMSG;
		m->q.type = rd16(buf + p);
		m->q.cls = rd16(buf + p + 2);
		p += 4;
		m->has_question = true;
	}
	r = rr_reserve(m, total ? total : 1);
	if (r < 0)
		return r;
	for (int s = 0; s < 3; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			struct dns_rr *rr = &m->rr[dns_msg_rr_count(m)];
			uint16_t rdlen;

			if (s == DNS_SEC_ADDITIONAL && p + 3 <= len && buf[p] == 0 &&
			    rd16(buf + p + 1) == DNS_T_OPT) {
				if (parse_opt(buf, len, &p, &m->edns) < 0)
					return -EBADMSG;
				continue;
			}
			if (dns_name_read(buf, len, &p, &rr->name) < 0 || len - p < 10)
				return -EBADMSG;
			rr->type = rd16(buf + p);
			rr->cls = rd16(buf + p + 2);
			memcpy(&rr->ttl, buf + p + 4, 4);
			rr->ttl = be32toh(rr->ttl);
			rdlen = rd16(buf + p + 8);
			p += 10;
			if (rr->type == DNS_T_OPT || len - p < rdlen)
				return -EBADMSG;
			r = read_rdata(m, buf, p, rdlen, rr);
			if (r < 0)
				return r;
			p += rdlen;
			m->count[s]++;
		}
	}
	/* The options must outlive buf: keep a copy in the arena. */
	if (m->edns.present && m->edns.opts_len) {
		uint8_t *o;

		r = arena_alloc(m, m->edns.opts_len, &o);
		if (r < 0)
			return r;
		memcpy(o, m->edns.opts, m->edns.opts_len);
		m->edns.opts = o;
	}
	return 0;
}

enum dns_section dns_msg_rr_section(const struct dns_msg *m, size_t i)
{
	if (i < m->count[0])
		return DNS_SEC_ANSWER;
	if (i < (size_t)m->count[0] + m->count[1])
		return DNS_SEC_AUTHORITY;
	return DNS_SEC_ADDITIONAL;
}

int dns_msg_add_rr(struct dns_msg *m, enum dns_section sec, const struct dns_rr *rr)
{
	size_t at = 0, n = dns_msg_rr_count(m);
	struct dns_rr copy = *rr; /* rr may be one of m's own */
	const uint8_t *src = rr->rdata; /* the caller's, or in the arena: stays put */
	int r;

	if ((unsigned)sec > DNS_SEC_ADDITIONAL || rr->type == DNS_T_OPT ||
	    (rr->rdlen && !rr->rdata))
		return -EINVAL; /* OPT is m->edns */
	if (m->count[sec] == UINT16_MAX)
		return -EMSGSIZE;
	if (n + 1 > m->rr_cap) {
		r = rr_reserve(m, m->rr_cap < 8 ? 8 : 2 * m->rr_cap);
		if (r < 0)
			return r;
	}
	for (int s = 0; s <= (int)sec; s++)
		at += m->count[s];
	/* From here on rr may dangle (it may have been in the old m->rr). */
	r = arena_alloc(m, copy.rdlen ? copy.rdlen : 1, &copy.rdata);
	if (r < 0)
		return r;
	if (copy.rdlen)
		memcpy(copy.rdata, src, copy.rdlen);
	memmove(&m->rr[at + 1], &m->rr[at], (n - at) * sizeof(*m->rr));
	m->rr[at] = copy;
	m->count[sec]++;
	return 0;
}

void dns_msg_remove_rr(struct dns_msg *m, size_t i)
{
	size_t n = dns_msg_rr_count(m);

	if (i >= n)
		return;
	m->count[dns_msg_rr_section(m, i)]--;
	memmove(&m->rr[i], &m->rr[i + 1], (n - i - 1) * sizeof(*m->rr));
}

/* ---- writing ---- */

struct writer {
	struct cursor c;
	uint16_t off[COMPRESS_MAX];  /* where names (and their suffixes) start */
	uint8_t slen[COMPRESS_MAX];  /* the expanded length of the suffix there */
	unsigned n;
};

static void writer_init(struct writer *w, uint8_t *buf, size_t len)
{
	memset(w, 0, sizeof(*w));
	cur_init(&w->c, buf, len);
}

/* Does the name written at off (possibly compressed) equal the labels of n
 * from position i? Compares label by label, following pointers in what we
 * wrote, which all point to labels written whole before them. */
static bool suffix_at(const struct writer *w, size_t off, const struct dns_name *n, size_t i)
{
	const uint8_t *b = w->c.base;

	for (;;) {
		uint8_t l = b[off];

		if ((l & 0xc0) == 0xc0) {
			off = ((size_t)(l & 0x3f) << 8) | b[off + 1];
			continue;
		}
		if (l != n->data[i])
			return false;
		if (l == 0)
			return true;
		for (uint8_t k = 1; k <= l; k++)
			if (lower(b[off + k]) != lower(n->data[i + k]))
				return false;
		off += 1 + (size_t)l;
		i += 1 + (size_t)l;
	}
}

/* Writes n, uncompressed or pointing to the longest suffix already written.
 * Once the cursor has failed nothing more is written or looked at: the
 * offsets remembered are those of labels written whole. Only suffixes of the
 * same expanded length are compared, which bounds the work per name. */
static void write_name(struct writer *w, const struct dns_name *n, bool compress)
{
	size_t i = 0;

	while (i < n->len && n->data[i]) {
		size_t at = w->c.pos;

		if (w->c.err)
			return;
		if (n->data[i] > DNS_LABEL_MAX || i + 1 + n->data[i] >= n->len) {
			cur_fail(&w->c, -EINVAL); /* a name made by hand, badly */
			return;
		}
		if (compress) {
			for (unsigned k = 0; k < w->n; k++) {
				if (w->slen[k] == n->len - i && suffix_at(w, w->off[k], n, i)) {
					cur_put_be16(&w->c, (uint16_t)(0xc000 | w->off[k]));
					return;
				}
			}
		}
		cur_put_bytes(&w->c, n->data + i, 1 + (size_t)n->data[i]);
		if (compress && !w->c.err && w->n < COMPRESS_MAX && at <= DNS_PTR_OFF_MAX) {
			w->off[w->n] = (uint16_t)at;
			w->slen[w->n++] = (uint8_t)(n->len - i);
		}
		i += 1 + (size_t)n->data[i];
	}
	cur_put_u8(&w->c, 0);
}

static void write_rr(struct writer *w, const struct dns_rr *rr)
{
	struct rd_layout l;
	size_t len_at;
	uint8_t *lenp;

	write_name(w, &rr->name, true);
	cur_put_be16(&w->c, rr->type);
	cur_put_be16(&w->c, rr->cls);
	cur_put_be32(&w->c, rr->ttl);
	lenp = cur_reserve(&w->c, 2);
	len_at = w->c.pos;
	if (rdata_layout(rr->type, &l)) {
		struct dns_name n;
		size_t p = l.pre;

		/* RDATA names are held expanded; each is checked as it is read. */
		if (rr->rdlen < l.pre) {
			cur_fail(&w->c, -EINVAL);
			return;
		}
		cur_put_bytes(&w->c, rr->rdata, l.pre);
		for (unsigned i = 0; i < l.names; i++) {
			if (dns_name_read(rr->rdata, rr->rdlen, &p, &n) < 0) {
				cur_fail(&w->c, -EINVAL);
				return;
			}
			write_name(w, &n, l.compress);
		}
		if (rr->rdlen - p != l.post) {
			cur_fail(&w->c, -EINVAL);
			return;
		}
		cur_put_bytes(&w->c, rr->rdata + p, l.post);
	} else {
		cur_put_bytes(&w->c, rr->rdata, rr->rdlen);
	}
	if (lenp) {
		uint16_t v = htobe16((uint16_t)(w->c.pos - len_at));

		memcpy(lenp, &v, 2);
	}
}

/* We speak EDNS version 0 and offer DNS_EDNS_MAX, whatever the parsed
 * message said; the extended rcode, DO and the options are kept. */
static void write_opt(struct writer *w, const struct dns_edns *e)
{
	cur_put_u8(&w->c, 0);
	cur_put_be16(&w->c, DNS_T_OPT);
	cur_put_be16(&w->c, DNS_EDNS_MAX);
	cur_put_be32(&w->c, (uint32_t)e->ext_rcode << 24 | (e->do_bit ? DNS_EDNS_DO : 0));
	cur_put_be16(&w->c, e->opts_len);
	cur_put_bytes(&w->c, e->opts, e->opts_len);
}

static void write_header(struct writer *w, uint16_t id, uint16_t flags, uint16_t qd,
			 uint16_t an, uint16_t ns, uint16_t ar)
{
	cur_put_be16(&w->c, id);
	cur_put_be16(&w->c, flags);
	cur_put_be16(&w->c, qd);
	cur_put_be16(&w->c, an);
	cur_put_be16(&w->c, ns);
	cur_put_be16(&w->c, ar);
}

static void write_question(struct writer *w, const struct dns_question *q)
{
	write_name(w, &q->name, true);
	cur_put_be16(&w->c, q->type);
	cur_put_be16(&w->c, q->cls);
}

int dns_msg_write(const struct dns_msg *m, uint8_t *buf, size_t cap, size_t limit,
		  size_t *out_len, bool *truncated)
{
	struct writer w;
	size_t room = cap < limit ? cap : limit;
	size_t ar = (size_t)m->count[2] + (m->edns.present ? 1 : 0);

	*truncated = false;
	if (ar > UINT16_MAX)
		return -EMSGSIZE;
	writer_init(&w, buf, room);
	write_header(&w, m->id, m->flags, m->has_question, m->count[0], m->count[1],
		     (uint16_t)ar);
	if (m->has_question)
		write_question(&w, &m->q);
	for (size_t i = 0; i < dns_msg_rr_count(m); i++) {
		if (i == (size_t)m->count[0] + m->count[1] && m->edns.present)
			write_opt(&w, &m->edns);
		write_rr(&w, &m->rr[i]);
	}
	if (m->count[2] == 0 && m->edns.present)
		write_opt(&w, &m->edns);
	if (w.c.err == -ENOBUFS && limit <= cap) {
		/* Too long for the asker (not merely for buf): the question
		 * alone, with TC, and it too must fit the limit. */
		writer_init(&w, buf, room);
		write_header(&w, m->id, m->flags | DNS_F_TC, m->has_question, 0, 0,
			     m->edns.present);
		if (m->has_question)
			write_question(&w, &m->q);
		if (m->edns.present) {
			struct dns_edns e = m->edns;

			e.opts_len = 0; /* options may be what made it long */
			write_opt(&w, &e);
		}
		*truncated = true;
	}
	if (w.c.err)
		return w.c.err == -ENOBUFS ? -EMSGSIZE : -EINVAL;
	*out_len = w.c.pos;
	return 0;
}

int dns_reply_write(const struct dns_query *q, uint16_t rcode, const struct dns_rr *answers,
		    size_t n, uint8_t *buf, size_t cap, size_t limit, size_t *out_len)
{
	struct dns_msg m;
	bool trunc;

	/* Rcodes above 15 need the OPT record's upper eight bits. */
	if (rcode > 0xfff || (rcode > DNS_F_RCODE_MASK && !q->edns.present))
		return -EINVAL;
	if (n > UINT16_MAX)
		return -EMSGSIZE;
	dns_msg_init(&m);
	m.id = q->id;
	/* Keep RD and CD from the query; say RA, since we recurse for it. */
	m.flags = (uint16_t)(DNS_F_QR | DNS_F_RA | (q->flags & (DNS_F_RD | DNS_F_CD)) |
			     (rcode & DNS_F_RCODE_MASK));
	/* No question if the query's was never read (dns_query_parse failed
	 * before it): a header-only reply, as RFC 1035 allows. */
	m.has_question = q->q.name.len > 0;
	m.q = q->q;
	m.rr = (struct dns_rr *)answers; /* written, never modified */
	m.count[0] = (uint16_t)n;
	if (q->edns.present) {
		m.edns.present = true;
		m.edns.do_bit = q->edns.do_bit;
		m.edns.ext_rcode = (uint8_t)(rcode >> 4);
	}
	return dns_msg_write(&m, buf, cap, limit, out_len, &trunc);
}

size_t dns_udp_limit(const struct dns_query *q)
{
	if (!q->edns.present || q->edns.udp_size <= DNS_UDP_PLAIN_MAX)
		return DNS_UDP_PLAIN_MAX;
	return q->edns.udp_size < DNS_EDNS_MAX ? q->edns.udp_size : DNS_EDNS_MAX;
}
