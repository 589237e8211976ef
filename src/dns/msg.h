/* DNS messages: names, the fast query parse of the stub's hot path, a full
 * message parse for answers, and the writer (name compression, EDNS, truncation).
 *
 * Every length and count on the wire is a claim: a name stops at 255 bytes, a
 * label at 63, compression pointers must point strictly backwards and are
 * followed at most DNS_PTR_HOPS_MAX times, RDLENGTH must fit, counts must be
 * backed by records, and only one OPT, with the root name, in the additional
 * section. Errors: -EBADMSG (malformed: drop, or FORMERR if the header was
 * read), -EOPNOTSUPP (an opcode other than QUERY: NOTIMP), -EMSGSIZE (the
 * output buffer or arena is too small), -EINVAL (bad text or arguments). */
#ifndef SLUICE_DNS_MSG_H
#define SLUICE_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_wire.h"

/* A name in uncompressed wire form, root label included (len >= 1). */
struct dns_name {
	uint8_t len;
	uint8_t data[DNS_NAME_MAX];
};

struct dns_question {
	struct dns_name name;
	uint16_t type;
	uint16_t cls;
};

struct dns_edns {
	bool present;
	uint16_t udp_size;     /* the sender's payload size; values below 512 read as 512 */
	uint8_t ext_rcode;
	uint8_t version;
	bool do_bit;
	uint16_t opts_len;
	const uint8_t *opts;   /* options, raw, inside the parsed buffer */
};

/* Header and question of a message, nothing else parsed but the OPT record:
 * all the stub needs to route a query or to match an answer to its query. */
struct dns_query {
	uint16_t id;
	uint16_t flags;
	uint16_t ancount, nscount, arcount;
	struct dns_question q;
	struct dns_edns edns;
	size_t question_end;   /* offset just past the question */
};

/* Parses a query (QR clear, one question). -EBADMSG before the header is read
 * whole, or for QR set: drop. After that, q->id is valid and -EBADMSG means
 * FORMERR, -EOPNOTSUPP NOTIMP. */
int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q);
/* The same for an answer (QR set), without checking the sections past the
 * question except for the OPT record; for matching answers to queries. */
int dns_reply_parse(const uint8_t *msg, size_t len, struct dns_query *q);

/* Names. */
int dns_name_from_text(struct dns_name *n, const char *text);
/* Presentation form without the trailing dot ("." for the root), with \DDD for
 * bytes that are not LDH, '_', '*' or '?'. Returns the length, -EMSGSIZE, or
 * -EINVAL for a struct whose labels overrun its len. DNS_NAME_TEXT_MAX always
 * suffices. dns_name_from_text takes that form back (and \X for any non-digit
 * X), with or without the trailing dot; "" and empty labels are -EINVAL. */
int dns_name_to_text(const struct dns_name *n, char *out, size_t cap);
bool dns_name_equal(const struct dns_name *a, const struct dns_name *b); /* ASCII case-insensitive */
void dns_name_lower(struct dns_name *n);
uint32_t dns_name_hash(const struct dns_name *n); /* case-insensitive */
/* Reads a name at *pos of msg (compression allowed), moving *pos past it.
 * A pointer must point strictly before where the name (or the previous
 * pointer's target) started, and not into the 12-byte header: so a question
 * is never compressed and its wire length is out->len. */
int dns_name_read(const uint8_t *msg, size_t len, size_t *pos, struct dns_name *out);

/* A resource record. rdata is held decompressed: for the types whose RDATA
 * holds names at fixed places (NS, CNAME, SOA, PTR, MX, SRV, DNAME, and MB,
 * MG, MR, MINFO, RP, AFSDB, RT, PX, KX) the names are expanded, so a record
 * means the same outside its message. */
struct dns_rr {
	struct dns_name name;
	uint16_t type;
	uint16_t cls;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata;
};

enum dns_section { DNS_SEC_ANSWER, DNS_SEC_AUTHORITY, DNS_SEC_ADDITIONAL };

/* A whole message. Owns its records and an arena for their RDATA. */
struct dns_msg {
	uint16_t id;
	uint16_t flags;
	bool has_question;
	struct dns_question q;
	struct dns_rr *rr;     /* answers, then authority, then additional (OPT excluded) */
	uint16_t count[3];     /* records per section */
	size_t rr_cap;
	struct dns_edns edns;  /* opts point into the arena */
	uint8_t *arena;
	size_t arena_len, arena_cap;
};

void dns_msg_init(struct dns_msg *m);
void dns_msg_free(struct dns_msg *m);
/* Parses buf into m (reusing m's memory); 0, -EBADMSG, -ENOMEM, or -EMSGSIZE
 * when the expanded RDATA outgrows the arena (256 KiB: a decompression bomb).
 * On error m holds nothing usable but may be parsed into again or freed. */
int dns_msg_parse(struct dns_msg *m, const uint8_t *buf, size_t len);
static inline size_t dns_msg_rr_count(const struct dns_msg *m)
{
	return (size_t)m->count[0] + m->count[1] + m->count[2];
}
/* Appends a record to a section (copying rdata into the arena): -EINVAL for
 * an OPT (that is m->edns) or a bad section, -EMSGSIZE if full, -ENOMEM. */
int dns_msg_add_rr(struct dns_msg *m, enum dns_section sec, const struct dns_rr *rr);
/* Removes record i (index into m->rr). */
void dns_msg_remove_rr(struct dns_msg *m, size_t i);
enum dns_section dns_msg_rr_section(const struct dns_msg *m, size_t i);

/* Writes m into buf (at most cap bytes). If the message is longer than limit
 * (the UDP size the asker accepts) and limit <= cap, writes only header,
 * question and OPT (without options) with TC set and every other count zero
 * (*truncated true); that too must fit the limit. -EMSGSIZE if it does not,
 * or if cap < limit and the message is longer than cap; -EINVAL for a record
 * whose RDATA names are malformed. Names are compressed (case-insensitively)
 * in owners, the question and RFC 1035 types' RDATA, never in SRV's and the
 * later types'. The OPT record says version 0 and DNS_EDNS_MAX. */
int dns_msg_write(const struct dns_msg *m, uint8_t *buf, size_t cap, size_t limit,
		  size_t *out_len, bool *truncated);

/* A reply to q built from scratch: the question echoed, rcode, answers, and an
 * OPT record if the query had one, truncated as dns_msg_write does. rcode is
 * up to 4095 with EDNS (the OPT carries its upper bits), 15 without (else
 * -EINVAL). If q's question was never read (q->q.name.len == 0), the reply
 * has no question. */
int dns_reply_write(const struct dns_query *q, uint16_t rcode, const struct dns_rr *answers,
		    size_t n, uint8_t *buf, size_t cap, size_t limit, size_t *out_len);

/* The UDP payload size an answer to q may use: 512 without EDNS, otherwise the
 * asker's size capped at DNS_EDNS_MAX. */
size_t dns_udp_limit(const struct dns_query *q);

#endif
