/* Wire layouts of IPv4, IPv6, UDP, TCP, ICMP and ICMPv6: sizes, field offsets
 * (from the start of each header), flags and limits. Fields are read through a
 * cursor or memcpy, never by casting a struct onto the buffer, so this header
 * names offsets instead of declaring packed structs. Multi-byte fields are big
 * endian on the wire.
 *
 * Protocol numbers are IANA's and equal libc's IPPROTO_* values; they carry
 * their own names so this header needs no system header and clashes with none. */
#ifndef SLUICE_NET_IP_WIRE_H
#define SLUICE_NET_IP_WIRE_H

enum ip_proto {
	IP_PROTO_HOPOPTS = 0,   /* IPv6 hop-by-hop options */
	IP_PROTO_ICMP = 1,
	IP_PROTO_TCP = 6,
	IP_PROTO_UDP = 17,
	IP_PROTO_ROUTING = 43,  /* IPv6 routing header */
	IP_PROTO_FRAGMENT = 44, /* IPv6 fragment header */
	IP_PROTO_ESP = 50,
	IP_PROTO_AH = 51,
	IP_PROTO_ICMPV6 = 58,
	IP_PROTO_NONE = 59,     /* IPv6 no next header */
	IP_PROTO_DSTOPTS = 60,  /* IPv6 destination options */
};

enum ipv4_wire {
	IPV4_ADDR_LEN = 4,
	IPV4_HDR_LEN = 20,      /* without options */
	IPV4_HDR_MAX = 60,      /* IHL is 4 bits of 32-bit words */
	IPV4_TOTAL_MAX = 65535,

	IPV4_OFF_VER_IHL = 0,   /* version << 4 | IHL */
	IPV4_OFF_TOS = 1,
	IPV4_OFF_TOT_LEN = 2,
	IPV4_OFF_ID = 4,
	IPV4_OFF_FRAG = 6,      /* flags << 13 | offset in 8-byte units */
	IPV4_OFF_TTL = 8,
	IPV4_OFF_PROTO = 9,
	IPV4_OFF_CSUM = 10,
	IPV4_OFF_SRC = 12,
	IPV4_OFF_DST = 16,

	IPV4_FRAG_RF = 0x8000,  /* reserved */
	IPV4_FRAG_DF = 0x4000,
	IPV4_FRAG_MF = 0x2000,
	IPV4_FRAG_OFF_MASK = 0x1fff,
};

enum ipv6_wire {
	IPV6_ADDR_LEN = 16,
	IPV6_HDR_LEN = 40,
	IPV6_PAYLOAD_MAX = 65535, /* jumbograms (RFC 2675) are not supported */

	IPV6_OFF_VER_TC_FL = 0, /* version << 28 | traffic class << 20 | flow label */
	IPV6_OFF_PAYLOAD_LEN = 4,
	IPV6_OFF_NEXT = 6,
	IPV6_OFF_HOP_LIMIT = 7,
	IPV6_OFF_SRC = 8,
	IPV6_OFF_DST = 24,

	/* Extension headers: next header, then a length whose unit depends on the
	 * type: (len + 1) * 8 bytes for hop-by-hop, routing and destination
	 * options; (len + 2) * 4 bytes for AH; the fragment header is fixed. */
	IPV6_EXT_OFF_NEXT = 0,
	IPV6_EXT_OFF_LEN = 1,
	IPV6_EXT_MIN = 8,
	IPV6_EXT_MAX = 8,       /* extension headers walked before giving up */

	IPV6_FRAG_HDR_LEN = 8,
	IPV6_FRAG_OFF_OFFLG = 2, /* offset in 8-byte units << 3 | M flag */
	IPV6_FRAG_OFF_ID = 4,
	IPV6_FRAG_OFF_MASK = 0xfff8,
	IPV6_FRAG_MF = 0x0001,
};

enum udp_wire {
	UDP_HDR_LEN = 8,
	UDP_OFF_SPORT = 0,
	UDP_OFF_DPORT = 2,
	UDP_OFF_LEN = 4,
	UDP_OFF_CSUM = 6,
};

enum tcp_wire {
	TCP_HDR_LEN = 20,       /* without options */
	TCP_HDR_MAX = 60,       /* data offset is 4 bits of 32-bit words */
	TCP_OFF_SPORT = 0,
	TCP_OFF_DPORT = 2,
	TCP_OFF_SEQ = 4,
	TCP_OFF_ACK = 8,
	TCP_OFF_DOFF = 12,      /* data offset << 4 */
	TCP_OFF_FLAGS = 13,
	TCP_OFF_WINDOW = 14,
	TCP_OFF_CSUM = 16,
	TCP_OFF_URG = 18,

	TCP_FLAG_FIN = 0x01,
	TCP_FLAG_SYN = 0x02,
	TCP_FLAG_RST = 0x04,
	TCP_FLAG_PSH = 0x08,
	TCP_FLAG_ACK = 0x10,
	TCP_FLAG_URG = 0x20,
};

/* ICMP and ICMPv6 share the first 8 bytes: type, code, checksum, then for echo
 * an identifier and a sequence number; errors quote the offending packet after
 * them. */
enum icmp_wire {
	ICMP_HDR_LEN = 8,
	ICMP_OFF_TYPE = 0,
	ICMP_OFF_CODE = 1,
	ICMP_OFF_CSUM = 2,
	ICMP_OFF_ID = 4,
	ICMP_OFF_SEQ = 6,

	ICMP_TYPE_ECHO_REPLY = 0,
	ICMP_TYPE_DEST_UNREACH = 3,
	ICMP_TYPE_SOURCE_QUENCH = 4,
	ICMP_TYPE_REDIRECT = 5,
	ICMP_TYPE_ECHO_REQUEST = 8,
	ICMP_TYPE_TIME_EXCEEDED = 11,
	ICMP_TYPE_PARAM_PROBLEM = 12,

	ICMP_CODE_ADMIN_PROHIBITED = 13, /* with ICMP_TYPE_DEST_UNREACH */
};

enum icmpv6_wire {
	ICMPV6_TYPE_DEST_UNREACH = 1,
	ICMPV6_TYPE_PKT_TOO_BIG = 2,
	ICMPV6_TYPE_TIME_EXCEEDED = 3,
	ICMPV6_TYPE_PARAM_PROBLEM = 4,
	ICMPV6_TYPE_ECHO_REQUEST = 128,
	ICMPV6_TYPE_ECHO_REPLY = 129,

	ICMPV6_CODE_ADMIN_PROHIBITED = 1, /* with ICMPV6_TYPE_DEST_UNREACH */
};

#endif
