/* The proxy-IP offer option: encoding, decoding, finding it among EDNS options,
 * putting it into a query, and reading back which entries an answer used. */
#include "dns/offer.h"

#include <errno.h>
#include <string.h>

#include "lib/cursor.h"

_Static_assert(OFFER_MAX4 <= 32 && OFFER_MAX6 <= 32, "offer_use bitmaps are 32 bits");
_Static_assert(OFFER_OPT_MAX <= UINT16_MAX, "an option length is 16 bits");

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
static const uint8_t zero12[12];

bool offer_addr_usable(const uint8_t *a, size_t alen)
{
	if (alen == 4) {
		if (a[0] == 0 || a[0] == 127 || a[0] >= 224) /* this net, loopback, 224/4, 240/4 */
			return false;
		return !(a[0] == 169 && a[1] == 254);        /* link-local */
	}
	if (alen != 16)
		return false;
	if (!memcmp(a, zero12, 12) || !memcmp(a, v4mapped, 12))
		return false; /* ::, ::1, ::a.b.c.d, ::ffff:a.b.c.d */
	if (a[0] == 0xff)
		return false; /* multicast */
	return !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80); /* fe80::/10 */
}

int offer_encode(const struct offer *o, uint8_t *buf, size_t cap, size_t *len)
{
	struct cursor c;

	if (o->n4 > OFFER_MAX4 || o->n6 > OFFER_MAX6)
		return -EINVAL;
	cur_init(&c, buf, cap);
	cur_put_u8(&c, OFFER_VERSION);
	cur_put_u8(&c, o->n4);
	cur_put_u8(&c, o->n6);
	cur_put_bytes(&c, o->v4, (size_t)o->n4 * 4);
	cur_put_bytes(&c, o->v6, (size_t)o->n6 * 16);
	if (c.err)
		return -EMSGSIZE;
	*len = c.pos;
	return 0;
}

int offer_decode(const uint8_t *data, size_t len, struct offer *o)
{
	struct cursor c;
	uint8_t version, n4, n6;

	memset(o, 0, sizeof(*o));
	cur_init_ro(&c, data, len);
	version = cur_u8(&c);
	if (c.err)
		return -EBADMSG;
	/* Everything after the version byte belongs to that version. */
	if (version != OFFER_VERSION)
		return -EPROTONOSUPPORT;
	n4 = cur_u8(&c);
	n6 = cur_u8(&c);
	if (c.err || n4 > OFFER_MAX4 || n6 > OFFER_MAX6 ||
	    cur_remaining(&c) != (size_t)n4 * 4 + (size_t)n6 * 16)
		return -EBADMSG;
	cur_bytes(&c, o->v4, (size_t)n4 * 4);
	cur_bytes(&c, o->v6, (size_t)n6 * 16);
	if (c.err) {
		memset(o, 0, sizeof(*o));
		return -EBADMSG;
	}
	o->n4 = n4;
	o->n6 = n6;
	return 0;
}

/* Walks the options: returns the offset of the next option at or after *pos,
 * its code and data length, or -ENOENT at the end, -EBADMSG if they do not tile. */
static int next_opt(const struct dns_edns *e, size_t *pos, uint16_t *code, uint16_t *dlen)
{
	struct cursor c;

	if (*pos == e->opts_len)
		return -ENOENT;
	cur_init_ro(&c, e->opts, e->opts_len);
	cur_seek(&c, *pos);
	*code = cur_be16(&c);
	*dlen = cur_be16(&c);
	cur_skip(&c, *dlen);
	if (c.err)
		return -EBADMSG;
	*pos = c.pos;
	return 0;
}

int offer_find(const struct dns_edns *e, struct offer *o)
{
	size_t pos = 0, found = SIZE_MAX;
	uint16_t code, dlen, flen = 0;
	int r;

	memset(o, 0, sizeof(*o));
	if (!e->present || (e->opts_len && !e->opts))
		return -ENOENT;
	while ((r = next_opt(e, &pos, &code, &dlen)) == 0) {
		if (code != DNS_OPT_SLUICE_OFFER)
			continue;
		if (found != SIZE_MAX)
			return -EBADMSG; /* two offers: which one? */
		found = pos - dlen;
		flen = dlen;
	}
	if (r != -ENOENT)
		return r;
	if (found == SIZE_MAX)
		return -ENOENT;
	return offer_decode(e->opts + found, flen, o);
}

int offer_edns_set(struct dns_edns *e, const struct offer *o, uint8_t *buf, size_t cap)
{
	struct cursor c;
	size_t pos = 0, start, dlen;
	uint16_t code, olen;
	uint8_t *hdr;
	int r;

	cur_init(&c, buf, cap);
	if (e->present && e->opts_len) {
		if (!e->opts)
			return -EINVAL;
		/* Keep every other option, in order; drop any earlier offer. */
		for (start = 0; (r = next_opt(e, &pos, &code, &olen)) == 0; start = pos)
			if (code != DNS_OPT_SLUICE_OFFER)
				cur_put_bytes(&c, e->opts + start, pos - start);
		if (r != -ENOENT)
			return r;
	}
	hdr = cur_reserve(&c, DNS_OPT_HDR_LEN);
	if (!hdr || c.err)
		return -EMSGSIZE;
	r = offer_encode(o, buf + c.pos, cap - c.pos, &dlen);
	if (r < 0)
		return r;
	cur_skip(&c, dlen);
	if (c.err || c.pos > UINT16_MAX)
		return -EMSGSIZE;
	hdr[0] = (uint8_t)(DNS_OPT_SLUICE_OFFER >> 8);
	hdr[1] = (uint8_t)DNS_OPT_SLUICE_OFFER;
	hdr[2] = (uint8_t)(dlen >> 8);
	hdr[3] = (uint8_t)dlen;
	if (!e->present) {
		memset(e, 0, sizeof(*e));
		e->present = true;
		e->udp_size = DNS_EDNS_MAX;
	}
	e->opts = buf;
	e->opts_len = (uint16_t)c.pos;
	return 0;
}

void offer_used(const struct offer *o, const struct dns_msg *answer, struct offer_use *u)
{
	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < answer->count[DNS_SEC_ANSWER]; i++) {
		const struct dns_rr *rr = &answer->rr[i];

		if (rr->cls != DNS_C_IN)
			continue;
		if (rr->type == DNS_T_A && rr->rdlen == 4) {
			for (unsigned k = 0; k < o->n4 && k < OFFER_MAX4; k++)
				if (!memcmp(o->v4[k], rr->rdata, 4))
					u->used4 |= 1u << k;
		} else if (rr->type == DNS_T_AAAA && rr->rdlen == 16) {
			for (unsigned k = 0; k < o->n6 && k < OFFER_MAX6; k++)
				if (!memcmp(o->v6[k], rr->rdata, 16))
					u->used6 |= 1u << k;
		}
	}
}
