/* DNS wire format (RFC 1035, 3597, 6891): the header layout, flags, codes, types
 * and the limits every parser here enforces, in one place. Integers on the wire
 * are big-endian. */
#ifndef SLUICE_DNS_WIRE_H
#define SLUICE_DNS_WIRE_H

enum dns_limits {
	DNS_HDR_LEN = 12,
	DNS_NAME_MAX = 255,        /* wire form, root label included */
	DNS_LABEL_MAX = 63,
	DNS_NAME_TEXT_MAX = 1024,  /* presentation form with \DDD escapes */
	DNS_UDP_PLAIN_MAX = 512,   /* a UDP answer to a query without EDNS */
	DNS_EDNS_MAX = 1232,       /* DNS Flag Day 2020: what we advertise and answer up to */
	DNS_MSG_MAX = 65535,       /* TCP: a two-byte length */
	DNS_PTR_HOPS_MAX = 32,     /* compression pointers followed in one name */
	DNS_PTR_OFF_MAX = 0x3fff,  /* the farthest offset a pointer reaches */
	DNS_RR_MIN_LEN = 11,       /* root owner + type, class, TTL, rdlength */
	DNS_OPT_HDR_LEN = 4,       /* an EDNS option: code, length */
};

enum dns_hdr_off {
	DNS_OFF_ID = 0,
	DNS_OFF_FLAGS = 2,
	DNS_OFF_QDCOUNT = 4,
	DNS_OFF_ANCOUNT = 6,
	DNS_OFF_NSCOUNT = 8,
	DNS_OFF_ARCOUNT = 10,
};

enum dns_flags {
	DNS_F_QR = 0x8000,
	DNS_F_OPCODE_MASK = 0x7800,
	DNS_F_AA = 0x0400,
	DNS_F_TC = 0x0200,
	DNS_F_RD = 0x0100,
	DNS_F_RA = 0x0080,
	DNS_F_AD = 0x0020,
	DNS_F_CD = 0x0010,
	DNS_F_RCODE_MASK = 0x000f,
};

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_MB = 7,
	DNS_T_MG = 8,
	DNS_T_MR = 9,
	DNS_T_PTR = 12,
	DNS_T_MINFO = 14,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_RP = 17,
	DNS_T_AFSDB = 18,
	DNS_T_RT = 21,
	DNS_T_PX = 26,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_KX = 36,
	DNS_T_DNAME = 39,
	DNS_T_OPT = 41,
	DNS_T_SVCB = 64,
	DNS_T_HTTPS = 65,
	DNS_T_ANY = 255,
};

enum dns_class {
	DNS_C_IN = 1,
	DNS_C_ANY = 255,
};

/* EDNS(0): the OPT record's TTL field carries extended rcode, version, flags. */
enum dns_edns_bits {
	DNS_EDNS_DO = 0x8000,
	DNS_OPT_COOKIE = 10,       /* RFC 7873 */
	/* sluice's own option, from the local/experimental range (RFC 6891 §9):
	 * the client's offer of free proxy IPs, specified in docs/protocol.md. */
	DNS_OPT_SLUICE_OFFER = 65001,
};

#endif
