/* DNS messages: the query and reply fast paths, the full parse (with RDATA
 * decompression), the writer (compression, EDNS, truncation) and the reply
 * builder, on real captures (unbound 1.17 and dnsmasq 2.90 answering dig
 * 9.18) and on hand-built attacks: RFC 9267's bug classes and the CVEs of
 * dns-behaviour.md §12. Inputs are copied to the heap at their exact size so
 * ASan sees any read past them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"

/* ---- captured messages (see fuzz/corpus/dns_msg/.make_seeds.py) ---- */

static const uint8_t v_a_reply[] = {
	0x7c, 0x5e, 0x85, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
	0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c,
	0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0xc0, 0x00,
	0x02, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c,
	0x00, 0x04, 0xc0, 0x00, 0x02, 0x02, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t v_aaaa_reply[] = {
	0x5a, 0x30, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x1c, 0x00, 0x01, 0xc0, 0x0c,
	0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x10, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00,
	0x00,
};
static const uint8_t v_cname_chain_reply[] = {
	0x43, 0x42, 0x85, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
	0x01, 0x61, 0x05, 0x63, 0x68, 0x61, 0x69, 0x6e, 0x04, 0x74, 0x65, 0x73,
	0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x01, 0x62, 0x05, 0x63, 0x68, 0x61,
	0x69, 0x6e, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0xc0, 0x2a, 0x00, 0x05,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x01, 0x63, 0x05, 0x63,
	0x68, 0x61, 0x69, 0x6e, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0xc0, 0x44,
	0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xc0, 0x00,
	0x02, 0x09, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00,
};
static const uint8_t v_cname_chain6_reply[] = {
	0x8b, 0xe4, 0x85, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x41, 0x05, 0x43, 0x68, 0x61, 0x69, 0x6e, 0x04, 0x54, 0x45, 0x53,
	0x54, 0x00, 0x00, 0x1c, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x01, 0x62, 0x05, 0x63, 0x68, 0x61,
	0x69, 0x6e, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0xc0, 0x2a, 0x00, 0x05,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x01, 0x63, 0x05, 0x63,
	0x68, 0x61, 0x69, 0x6e, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0xc0, 0x44,
	0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x09,
};
static const uint8_t v_mx_reply[] = {
	0xde, 0xe2, 0x85, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
	0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73,
	0x74, 0x00, 0x00, 0x0f, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01,
	0x00, 0x00, 0x01, 0x2c, 0x00, 0x09, 0x00, 0x0a, 0x04, 0x6d, 0x61, 0x69,
	0x6c, 0xc0, 0x0c, 0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x01,
	0x2c, 0x00, 0x0a, 0x00, 0x14, 0x05, 0x6d, 0x61, 0x69, 0x6c, 0x32, 0xc0,
	0x0c, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t v_mx_dm_reply[] = {
	0xc0, 0xe3, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x05, 0x63, 0x68, 0x61, 0x69, 0x6e, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00,
	0x00, 0x0f, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x11, 0x00, 0x05, 0x02, 0x6d, 0x78, 0x05, 0x63, 0x68,
	0x61, 0x69, 0x6e, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x00, 0x29,
	0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t v_srv_reply[] = {
	0x9e, 0x72, 0x85, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
	0x04, 0x5f, 0x73, 0x69, 0x70, 0x04, 0x5f, 0x74, 0x63, 0x70, 0x07, 0x65,
	0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00,
	0x00, 0x21, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00,
	0x01, 0x2c, 0x00, 0x18, 0x00, 0x0a, 0x00, 0x3c, 0x13, 0xc4, 0x03, 0x73,
	0x69, 0x70, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74,
	0x65, 0x73, 0x74, 0x00, 0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00,
	0x01, 0x2c, 0x00, 0x19, 0x00, 0x14, 0x00, 0x28, 0x13, 0xc5, 0x04, 0x73,
	0x69, 0x70, 0x32, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04,
	0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};
static const uint8_t v_txt_reply[] = {
	0x60, 0x04, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x03, 0x74, 0x78, 0x74, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x10, 0x00, 0x01, 0xc0, 0x0c,
	0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x26, 0x07, 0x22,
	0x76, 0x3d, 0x73, 0x70, 0x66, 0x31, 0x05, 0x2d, 0x61, 0x6c, 0x6c, 0x22,
	0x07, 0x22, 0x73, 0x65, 0x63, 0x6f, 0x6e, 0x64, 0x07, 0x73, 0x74, 0x72,
	0x69, 0x6e, 0x67, 0x22, 0x07, 0x22, 0x74, 0x68, 0x69, 0x72, 0x64, 0x22,
	0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t v_nxdomain_reply[] = {
	0xee, 0xd1, 0x85, 0x83, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	0x04, 0x6e, 0x6f, 0x70, 0x65, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
	0x65, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0,
	0x11, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x27, 0x03,
	0x6e, 0x73, 0x31, 0xc0, 0x11, 0x0a, 0x68, 0x6f, 0x73, 0x74, 0x6d, 0x61,
	0x73, 0x74, 0x65, 0x72, 0xc0, 0x11, 0x78, 0xa3, 0xf1, 0x75, 0x00, 0x00,
	0x1c, 0x20, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x12, 0x75, 0x00, 0x00, 0x00,
	0x01, 0x2c, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00,
};
static const uint8_t v_nodata_reply[] = {
	0xfd, 0x7a, 0x85, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x0f, 0x00, 0x01, 0xc0, 0x10,
	0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x27, 0x03, 0x6e,
	0x73, 0x31, 0xc0, 0x10, 0x0a, 0x68, 0x6f, 0x73, 0x74, 0x6d, 0x61, 0x73,
	0x74, 0x65, 0x72, 0xc0, 0x10, 0x78, 0xa3, 0xf1, 0x75, 0x00, 0x00, 0x1c,
	0x20, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x12, 0x75, 0x00, 0x00, 0x00, 0x01,
	0x2c, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t v_ns_reply[] = {
	0x16, 0x14, 0x85, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
	0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73,
	0x74, 0x00, 0x00, 0x02, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x02, 0x00, 0x01,
	0x00, 0x00, 0x0e, 0x10, 0x00, 0x06, 0x03, 0x6e, 0x73, 0x31, 0xc0, 0x0c,
	0xc0, 0x0c, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x06,
	0x03, 0x6e, 0x73, 0x32, 0xc0, 0x0c, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t v_ptr_reply[] = {
	0xdd, 0x86, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x01, 0x31, 0x01, 0x32, 0x01, 0x30, 0x03, 0x31, 0x39, 0x32, 0x07, 0x69,
	0x6e, 0x2d, 0x61, 0x64, 0x64, 0x72, 0x04, 0x61, 0x72, 0x70, 0x61, 0x00,
	0x00, 0x0c, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00,
	0x01, 0x2c, 0x00, 0x12, 0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61,
	0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x00,
	0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t v_noedns_reply[] = {
	0xa5, 0xb7, 0x85, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c,
	0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0xc0, 0x00,
	0x02, 0x02, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c,
	0x00, 0x04, 0xc0, 0x00, 0x02, 0x01,
};
static const uint8_t v_many_tc_reply[] = {
	0x85, 0xc6, 0x87, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x04, 0x6d, 0x61, 0x6e, 0x79, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
	0x65, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01,
};
static const uint8_t v_a_query[] = {
	0x7c, 0x5e, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
	0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00,
	0x08, 0xb9, 0x70, 0xde, 0x5f, 0xbc, 0x24, 0x42, 0x8e,
};
static const uint8_t v_aaaa_query[] = {
	0x5a, 0x30, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
	0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00,
	0x08, 0xbc, 0x21, 0x72, 0x5d, 0x03, 0x29, 0xb7, 0x57,
};
static const uint8_t v_noedns_query[] = {
	0xa5, 0xb7, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x01, 0x00, 0x01,
};
static const uint8_t v_nocookie_query[] = {
	0xc6, 0xa6, 0x01, 0x30, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
	0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t v_cname_chain6_query[] = {
	0x8b, 0xe4, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x41, 0x05, 0x43, 0x68, 0x61, 0x69, 0x6e, 0x04, 0x54, 0x45, 0x53,
	0x54, 0x00, 0x00, 0x1c, 0x00, 0x01,
};
static const uint8_t v_ptr_query[] = {
	0xdd, 0x86, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x01, 0x31, 0x01, 0x32, 0x01, 0x30, 0x03, 0x31, 0x39, 0x32, 0x07, 0x69,
	0x6e, 0x2d, 0x61, 0x64, 0x64, 0x72, 0x04, 0x61, 0x72, 0x70, 0x61, 0x00,
	0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08, 0xaa, 0xb6, 0xb3, 0x25, 0x75,
	0x03, 0x08, 0xed,
};

#define V(x) { #x, x, sizeof(x) }
static const struct vec {
	const char *name;
	const uint8_t *b;
	size_t len;
} replies[] = {
	V(v_a_reply), V(v_aaaa_reply), V(v_cname_chain_reply), V(v_cname_chain6_reply),
	V(v_mx_reply), V(v_mx_dm_reply), V(v_srv_reply), V(v_txt_reply), V(v_nxdomain_reply),
	V(v_nodata_reply), V(v_ns_reply), V(v_ptr_reply), V(v_noedns_reply), V(v_many_tc_reply),
}, queries[] = {
	V(v_a_query), V(v_aaaa_query), V(v_noedns_query), V(v_nocookie_query),
	V(v_cname_chain6_query), V(v_ptr_query),
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

static uint8_t *dup(const void *b, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, b, len);
	return p;
}

static struct dns_name name(const char *text)
{
	struct dns_name n;

	assert_int_equal(dns_name_from_text(&n, text), 0);
	return n;
}

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A message builder over a heap buffer. */
struct mb {
	uint8_t *b;
	size_t n, cap;
};

static struct mb mb_new(size_t cap)
{
	struct mb m = { .b = calloc(1, cap), .cap = cap };

	assert_non_null(m.b);
	return m;
}

static void p8(struct mb *m, unsigned v)
{
	assert_true(m->n < m->cap);
	m->b[m->n++] = (uint8_t)v;
}

static void p16(struct mb *m, unsigned v)
{
	p8(m, v >> 8);
	p8(m, v);
}

static void p32(struct mb *m, uint32_t v)
{
	p16(m, v >> 16);
	p16(m, v & 0xffff);
}

static void pbytes(struct mb *m, const void *b, size_t n)
{
	assert_true(n <= m->cap - m->n);
	memcpy(m->b + m->n, b, n);
	m->n += n;
}

static void pname(struct mb *m, const char *text)
{
	struct dns_name n = name(text);

	pbytes(m, n.data, n.len);
}

static void hdr(struct mb *m, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	p16(m, 0x1234);
	p16(m, flags);
	p16(m, qd);
	p16(m, an);
	p16(m, ns);
	p16(m, ar);
}

/* Owner (text, or a pointer if text is NULL), type, class IN, TTL; returns
 * where RDLENGTH goes, for rd_end() to fill. */
static size_t rr_begin(struct mb *m, const char *owner, unsigned ptr, unsigned type)
{
	size_t at;

	if (owner)
		pname(m, owner);
	else
		p16(m, 0xc000 | ptr);
	p16(m, type);
	p16(m, DNS_C_IN);
	p32(m, 300);
	at = m->n;
	p16(m, 0);
	return at;
}

static void rd_end(struct mb *m, size_t at)
{
	size_t l = m->n - at - 2;

	m->b[at] = (uint8_t)(l >> 8);
	m->b[at + 1] = (uint8_t)l;
}

static void set16(struct mb *m, size_t off, unsigned v)
{
	m->b[off] = (uint8_t)(v >> 8);
	m->b[off + 1] = (uint8_t)v;
}

/* The types whose RDATA holds names, and where: for comparing records with
 * the names in them compared case-insensitively, the rest exactly. */
static bool layout(uint16_t type, unsigned *pre, unsigned *names, unsigned *post)
{
	*pre = 0, *names = 1, *post = 0;
	switch (type) {
	case DNS_T_NS: case DNS_T_CNAME: case DNS_T_PTR: case DNS_T_DNAME:
	case DNS_T_MB: case DNS_T_MG: case DNS_T_MR:
		return true;
	case DNS_T_MINFO: case DNS_T_RP:
		*names = 2;
		return true;
	case DNS_T_MX: case DNS_T_AFSDB: case DNS_T_RT: case DNS_T_KX:
		*pre = 2;
		return true;
	case DNS_T_PX:
		*pre = 2, *names = 2;
		return true;
	case DNS_T_SRV:
		*pre = 6;
		return true;
	case DNS_T_SOA:
		*names = 2, *post = 20;
		return true;
	default:
		return false;
	}
}

static void rr_equal(const struct dns_rr *a, const struct dns_rr *b)
{
	unsigned pre, names, post;

	assert_true(dns_name_equal(&a->name, &b->name));
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->cls, b->cls);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->rdlen, b->rdlen);
	if (!layout(a->type, &pre, &names, &post)) {
		assert_memory_equal(a->rdata, b->rdata, a->rdlen);
		return;
	}
	size_t pa = pre, pb = pre;

	assert_memory_equal(a->rdata, b->rdata, pre);
	for (unsigned i = 0; i < names; i++) {
		struct dns_name na, nb;

		assert_int_equal(dns_name_read(a->rdata, a->rdlen, &pa, &na), 0);
		assert_int_equal(dns_name_read(b->rdata, b->rdlen, &pb, &nb), 0);
		assert_true(dns_name_equal(&na, &nb));
	}
	assert_int_equal(pa, pb);
	assert_memory_equal(a->rdata + pa, b->rdata + pb, post);
}

/* What survives a write: all but the OPT's version and payload size (we say
 * 0 and DNS_EDNS_MAX) and the case of names after the question. */
static void msg_equal(const struct dns_msg *a, const struct dns_msg *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->has_question, b->has_question);
	if (a->has_question) {
		assert_int_equal(a->q.name.len, b->q.name.len); /* exact: 0x20 */
		assert_memory_equal(a->q.name.data, b->q.name.data, a->q.name.len);
		assert_int_equal(a->q.type, b->q.type);
		assert_int_equal(a->q.cls, b->q.cls);
	}
	for (int s = 0; s < 3; s++)
		assert_int_equal(a->count[s], b->count[s]);
	for (size_t i = 0; i < dns_msg_rr_count(a); i++)
		rr_equal(&a->rr[i], &b->rr[i]);
	assert_int_equal(a->edns.present, b->edns.present);
	if (a->edns.present) {
		assert_int_equal(a->edns.do_bit, b->edns.do_bit);
		assert_int_equal(a->edns.ext_rcode, b->edns.ext_rcode);
		assert_int_equal(b->edns.udp_size, DNS_EDNS_MAX);
		assert_int_equal(a->edns.opts_len, b->edns.opts_len);
		if (a->edns.opts_len)
			assert_memory_equal(a->edns.opts, b->edns.opts, a->edns.opts_len);
	}
}

/* parse, write, parse: the same message. Returns the written length. */
static size_t round_trip(const uint8_t *in, size_t len)
{
	struct dns_msg a, b;
	uint8_t *out = malloc(DNS_MSG_MAX);
	size_t olen = 0;
	bool trunc = true;

	assert_non_null(out);
	dns_msg_init(&a);
	dns_msg_init(&b);
	assert_int_equal(dns_msg_parse(&a, in, len), 0);
	assert_int_equal(dns_msg_write(&a, out, DNS_MSG_MAX, DNS_MSG_MAX, &olen, &trunc), 0);
	assert_false(trunc);
	assert_int_equal(dns_msg_parse(&b, out, olen), 0);
	msg_equal(&a, &b);
	dns_msg_free(&a);
	dns_msg_free(&b);
	free(out);
	return olen;
}

/* The name at *pos of rr's RDATA is text, exactly (case too). */
static void rdata_name(const struct dns_rr *rr, size_t *pos, const char *text)
{
	struct dns_name n, want = name(text);

	assert_int_equal(dns_name_read(rr->rdata, rr->rdlen, pos, &n), 0);
	assert_int_equal(n.len, want.len);
	assert_memory_equal(n.data, want.data, n.len);
}

static void owner_is(const struct dns_rr *rr, const char *text, uint16_t type)
{
	struct dns_name want = name(text);

	assert_int_equal(rr->name.len, want.len);
	assert_memory_equal(rr->name.data, want.data, want.len);
	assert_int_equal(rr->type, type);
	assert_int_equal(rr->cls, DNS_C_IN);
}

/* ---- dns_query_parse / dns_reply_parse ---- */

static void test_query_captured(void **state)
{
	static const struct {
		const uint8_t *b;
		size_t len;
		uint16_t id, flags, type;
		const char *qname;
		bool edns, do_bit;
		uint16_t udp, opts_len;
	} t[] = {
		{ v_a_query, sizeof(v_a_query), 0x7c5e, 0x0120, DNS_T_A, "www.example.test",
		  true, false, 1232, 12 },
		{ v_aaaa_query, sizeof(v_aaaa_query), 0x5a30, 0x0120, DNS_T_AAAA,
		  "www.example.test", true, true, 1232, 12 },
		{ v_noedns_query, sizeof(v_noedns_query), 0xa5b7, 0x0120, DNS_T_A,
		  "www.example.test", false, false, 0, 0 },
		{ v_nocookie_query, sizeof(v_nocookie_query), 0xc6a6, 0x0130, DNS_T_AAAA,
		  "www.example.test", true, false, 1232, 0 },
		{ v_cname_chain6_query, sizeof(v_cname_chain6_query), 0x8be4, 0x0120, DNS_T_AAAA,
		  "A.Chain.TEST", false, false, 0, 0 },
		{ v_ptr_query, sizeof(v_ptr_query), 0xdd86, 0x0120, DNS_T_PTR,
		  "1.2.0.192.in-addr.arpa", true, false, 1232, 12 },
	};

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		uint8_t *b = dup(t[i].b, t[i].len);
		struct dns_name want = name(t[i].qname);
		struct dns_query q;

		assert_int_equal(dns_query_parse(b, t[i].len, &q), 0);
		assert_int_equal(q.id, t[i].id);
		assert_int_equal(q.flags, t[i].flags);
		assert_int_equal(q.q.type, t[i].type);
		assert_int_equal(q.q.cls, DNS_C_IN);
		assert_int_equal(q.q.name.len, want.len);
		assert_memory_equal(q.q.name.data, want.data, want.len); /* case kept */
		assert_int_equal(q.question_end, DNS_HDR_LEN + want.len + 4);
		assert_int_equal(q.edns.present, t[i].edns);
		assert_int_equal(q.edns.do_bit, t[i].do_bit);
		assert_int_equal(q.edns.udp_size, t[i].udp);
		assert_int_equal(q.edns.opts_len, t[i].opts_len);
		if (t[i].opts_len) { /* dig's client cookie */
			assert_int_equal(g16(q.edns.opts), DNS_OPT_COOKIE);
			assert_int_equal(g16(q.edns.opts + 2), 8);
			assert_ptr_equal(q.edns.opts, b + t[i].len - 12);
		}
		assert_int_equal(dns_reply_parse(b, t[i].len, &q), -EBADMSG); /* QR clear */
		free(b);
	}
}

#define QHDR(flags, qd, an, ns, ar) 0x12, 0x34, (flags) >> 8, (flags) & 0xff, 0, qd, 0, an, 0, ns, 0, ar
#define QA 1, 'a', 0, 0, 1, 0, 1
#define OPT(ttl2, rdlen) 0, 0, 41, 0x10, 0x00, 0, 0, ttl2, 0, 0, rdlen
#define B(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static const struct qcase {
	const char *what;
	const uint8_t *b;
	size_t len;
	int ret;
	int edns;           /* for ret 0: -1 absent, else the opts_len */
} qcases[] = {
	{ "plain", B(QHDR(0x0100, 1, 0, 0, 0), QA), 0, -1 },
	{ "OPT", B(QHDR(0x0100, 1, 0, 0, 1), QA, OPT(0, 0)), 0, 0 },
	{ "OPT then a TSIG-like record", B(QHDR(0, 1, 0, 0, 2), QA, OPT(0, 0),
					   0xc0, 12, 0, 250, 0, 255, 0, 0, 0, 0, 0, 1, 9), 0, 0 },
	{ "OPT after another record", B(QHDR(0, 1, 0, 0, 2), QA,
					0xc0, 12, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0, OPT(0, 0)), 0, 0 },
	{ "cookie and sluice options tile", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 16),
		0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0xfd, 0xe9, 0, 0), 0, 16 },
	{ "trailing bytes ignored", B(QHDR(0, 1, 0, 0, 0), QA, 0xde, 0xad), 0, -1 },
	{ "QR set", B(QHDR(0x8100, 1, 0, 0, 0), QA), -EBADMSG, 0 },
	{ "opcode IQUERY", B(QHDR(0x0800, 1, 0, 0, 0), QA), -EOPNOTSUPP, 0 },
	{ "opcode STATUS", B(QHDR(0x1000, 1, 0, 0, 0), QA), -EOPNOTSUPP, 0 },
	{ "opcode UPDATE", B(QHDR(0x2800, 1, 0, 0, 0), QA), -EOPNOTSUPP, 0 },
	{ "opcode 15, no question", B(QHDR(0x7800, 0, 0, 0, 0)), -EOPNOTSUPP, 0 },
	{ "qdcount 0", B(QHDR(0, 0, 0, 0, 0)), -EBADMSG, 0 },
	{ "qdcount 2", B(QHDR(0, 2, 0, 0, 0), QA, QA), -EBADMSG, 0 },
	{ "an answer", B(QHDR(0, 1, 1, 0, 0), QA, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4,
			 1, 2, 3, 4), -EBADMSG, 0 },
	{ "an authority record", B(QHDR(0, 1, 0, 1, 0), QA, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0,
				   0, 4, 1, 2, 3, 4), -EBADMSG, 0 },
	{ "two OPTs", B(QHDR(0, 1, 0, 0, 2), QA, OPT(0, 0), OPT(0, 0)), -EBADMSG, 0 },
	{ "OPT with a name", B(QHDR(0, 1, 0, 0, 1), QA, 0xc0, 12, 0, 41, 0x10, 0, 0, 0, 0, 0,
			       0, 0), -EBADMSG, 0 },
	/* dnsmasq CVE-2017-14496: an option longer than what is left. */
	{ "option overruns RDATA", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 4), 0, 10, 0, 8),
	  -EBADMSG, 0 },
	{ "option length 0xffff", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 6), 0, 10, 0xff, 0xff, 1, 2),
	  -EBADMSG, 0 },
	{ "option overruns by one", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 7), 0, 10, 0, 4, 1, 2, 3),
	  -EBADMSG, 0 },
	{ "half an option header", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 2), 0, 10), -EBADMSG, 0 },
	{ "second option cut", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 7), 0, 10, 0, 0, 0, 8, 0),
	  -EBADMSG, 0 },
	{ "OPT RDLENGTH overruns", B(QHDR(0, 1, 0, 0, 1), QA, OPT(0, 10), 0, 10, 0, 0),
	  -EBADMSG, 0 },
	{ "arcount 2, one record", B(QHDR(0, 1, 0, 0, 2), QA, OPT(0, 0)), -EBADMSG, 0 },
	{ "arcount 65535", B(QHDR(0, 1, 0, 0, 0), QA), -EBADMSG, 0 }, /* patched below */
	{ "record RDLENGTH overruns", B(QHDR(0, 1, 0, 0, 1), QA, 0xc0, 12, 0, 1, 0, 1, 0, 0,
					0, 0, 0, 5, 1, 2, 3, 4), -EBADMSG, 0 },
	{ "qname points into the header", B(QHDR(0, 1, 0, 0, 0), 0xc0, 2, 0, 1, 0, 1),
	  -EBADMSG, 0 },
	{ "qname points to itself", B(QHDR(0, 1, 0, 0, 0), 0xc0, 12, 0, 1, 0, 1), -EBADMSG, 0 },
	{ "qname 0x40 label", B(QHDR(0, 1, 0, 0, 0), 0x41, 'a', 0, 0, 1, 0, 1), -EBADMSG, 0 },
	{ "no type and class", B(QHDR(0, 1, 0, 0, 0), 1, 'a', 0, 0, 1, 0), -EBADMSG, 0 },
	{ "header only", B(QHDR(0, 1, 0, 0, 0)), -EBADMSG, 0 },
};

static void test_query_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(qcases); i++) {
		const struct qcase *c = &qcases[i];
		uint8_t *b = dup(c->b, c->len);
		struct dns_query q;
		int r;

		if (strcmp(c->what, "arcount 65535") == 0)
			b[DNS_OFF_ARCOUNT] = b[DNS_OFF_ARCOUNT + 1] = 0xff;
		r = dns_query_parse(b, c->len, &q);
		if (r != c->ret)
			fail_msg("%s: %d, want %d", c->what, r, c->ret);
		if (r == 0 || r == -EOPNOTSUPP || (r == -EBADMSG && !(b[2] & 0x80)))
			assert_int_equal(q.id, 0x1234); /* enough to answer FORMERR/NOTIMP */
		if (r == 0) {
			assert_int_equal(q.edns.present, c->edns >= 0);
			if (c->edns >= 0)
				assert_int_equal(q.edns.opts_len, c->edns);
		}
		free(b);
	}
}

static void test_query_edns_fields(void **state)
{
	/* udp 100, ext-rcode 1, version 2, DO and another flag bit. */
	static const uint8_t m[] = { QHDR(0, 1, 0, 0, 1), QA, 0, 0, 41, 0, 100, 1, 2, 0x80, 0x01,
				     0, 0 };
	uint8_t *b = dup(m, sizeof(m));
	struct dns_query q;

	(void)state;
	assert_int_equal(dns_query_parse(b, sizeof(m), &q), 0);
	assert_true(q.edns.present);
	assert_int_equal(q.edns.udp_size, 512); /* below 512 reads as 512 */
	assert_int_equal(q.edns.ext_rcode, 1);
	assert_int_equal(q.edns.version, 2);
	assert_true(q.edns.do_bit);
	assert_int_equal(dns_udp_limit(&q), 512);
	free(b);
}

static void test_reply_captured(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(replies); i++) {
		uint8_t *b = dup(replies[i].b, replies[i].len);
		struct dns_query q;

		if (dns_reply_parse(b, replies[i].len, &q) != 0)
			fail_msg("%s", replies[i].name);
		assert_int_equal(q.id, g16(b));
		assert_int_equal(q.question_end, DNS_HDR_LEN + q.q.name.len + 4);
		assert_int_equal(q.edns.present, b[replies[i].len - 11] == 0 &&
						 g16(b + replies[i].len - 10) == DNS_T_OPT);
		assert_int_equal(dns_query_parse(b, replies[i].len, &q), -EBADMSG);
		free(b);
	}
}

static const struct rcase {
	const char *what;
	const uint8_t *b;
	size_t len;
} rcases[] = {
	{ "OPT in the answers", B(QHDR(0x8180, 1, 1, 0, 0), QA, OPT(0, 0)) },
	{ "OPT in the authority", B(QHDR(0x8180, 1, 0, 1, 0), QA, OPT(0, 0)) },
	{ "two OPTs", B(QHDR(0x8180, 1, 0, 0, 2), QA, OPT(0, 0), OPT(0, 0)) },
	{ "OPT option overrun", B(QHDR(0x8180, 1, 0, 0, 1), QA, OPT(0, 4), 0, 10, 0, 1) },
	{ "answer count unbacked", B(QHDR(0x8180, 1, 2, 0, 0), QA, 0xc0, 12, 0, 1, 0, 1,
				     0, 0, 0, 0, 0, 4, 1, 2, 3, 4) },
	{ "RDLENGTH overrun", B(QHDR(0x8180, 1, 1, 0, 0), QA, 0xc0, 12, 0, 1, 0, 1,
				0, 0, 0, 0, 0, 5, 1, 2, 3, 4) },
	{ "owner forward pointer", B(QHDR(0x8180, 1, 1, 0, 0), QA, 0xc0, 40, 0, 1, 0, 1,
				     0, 0, 0, 0, 0, 0) },
	{ "qdcount 0", B(QHDR(0x8180, 0, 0, 0, 0)) },
	{ "QR clear", B(QHDR(0x0180, 1, 0, 0, 0), QA) },
};

static void test_reply_errors(void **state)
{

	(void)state;
	for (size_t i = 0; i < N(rcases); i++) {
		const struct rcase *t = &rcases[i];
		uint8_t *b = dup(t->b, t->len);
		struct dns_query q;
		struct dns_msg m;

		dns_msg_init(&m);
		if (dns_reply_parse(b, t->len, &q) != -EBADMSG)
			fail_msg("%s: accepted", t->what);
		if (i < 7 && dns_msg_parse(&m, b, t->len) != -EBADMSG)
			fail_msg("%s: dns_msg_parse accepted", t->what);
		dns_msg_free(&m);
		free(b);
	}
}

/* Every strict prefix of every capture fails every parser; 0..12 bytes too
 * (c-ares CVE-2023-32067: a 0-byte payload). */
static void test_truncation_sweep(void **state)
{
	struct dns_msg m;

	(void)state;
	dns_msg_init(&m);
	for (size_t i = 0; i < N(replies) + N(queries); i++) {
		const struct vec *v = i < N(replies) ? &replies[i] : &queries[i - N(replies)];

		for (size_t l = 0; l < v->len; l++) {
			uint8_t *b = dup(v->b, l);
			struct dns_query q;

			assert_int_not_equal(dns_query_parse(b, l, &q), 0);
			assert_int_not_equal(dns_reply_parse(b, l, &q), 0);
			assert_int_not_equal(dns_msg_parse(&m, b, l), 0);
			free(b);
		}
	}
	dns_msg_free(&m);
}

/* systemd-resolved CVE-2017-9445 style edges: sizes 0..12, and exactly 12. */
static void test_tiny_sizes(void **state)
{
	static const uint8_t empty[12] = { 0x12, 0x34, 0x81, 0x80 };
	struct dns_msg m;

	(void)state;
	dns_msg_init(&m);
	for (size_t l = 0; l <= 12; l++) {
		uint8_t *b = dup(empty, l);
		struct dns_query q;

		assert_int_equal(dns_query_parse(b, l, &q), -EBADMSG);
		assert_int_equal(dns_reply_parse(b, l, &q), -EBADMSG);
		/* A header with no question and no records is a message. */
		assert_int_equal(dns_msg_parse(&m, b, l), l == 12 ? 0 : -EBADMSG);
		free(b);
	}
	assert_int_equal(m.id, 0x1234);
	assert_false(m.has_question);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	assert_int_equal(round_trip(empty, 12), 12);
	assert_int_equal(dns_msg_parse(&m, NULL, 0), -EBADMSG);
	dns_msg_free(&m);
}

/* ---- dns_msg_parse ---- */

static void test_msg_captured(void **state)
{
	struct dns_msg m;
	size_t p;

	(void)state;
	dns_msg_init(&m);

	assert_int_equal(dns_msg_parse(&m, v_a_reply, sizeof(v_a_reply)), 0);
	assert_int_equal(m.id, 0x7c5e);
	assert_int_equal(m.flags, 0x8580);
	assert_true(m.has_question);
	assert_int_equal(m.count[0], 2);
	owner_is(&m.rr[0], "www.example.test", DNS_T_A);
	assert_int_equal(m.rr[0].ttl, 300);
	assert_int_equal(m.rr[0].rdlen, 4);
	assert_memory_equal(m.rr[0].rdata, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(m.rr[1].rdata, "\xc0\x00\x02\x02", 4);
	assert_true(m.edns.present);
	assert_int_equal(m.edns.udp_size, 1232);
	assert_int_equal(m.edns.opts_len, 0);

	assert_int_equal(dns_msg_parse(&m, v_aaaa_reply, sizeof(v_aaaa_reply)), 0);
	owner_is(&m.rr[0], "www.example.test", DNS_T_AAAA);
	assert_int_equal(m.rr[0].rdlen, 16);
	assert_memory_equal(m.rr[0].rdata, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	assert_true(m.edns.do_bit);

	/* dnsmasq: CNAME targets uncompressed, the next owner points into them. */
	assert_int_equal(dns_msg_parse(&m, v_cname_chain_reply, sizeof(v_cname_chain_reply)), 0);
	assert_int_equal(m.count[0], 3);
	owner_is(&m.rr[0], "a.chain.test", DNS_T_CNAME);
	p = 0;
	rdata_name(&m.rr[0], &p, "b.chain.test");
	assert_int_equal(p, m.rr[0].rdlen);
	owner_is(&m.rr[1], "b.chain.test", DNS_T_CNAME);
	p = 0;
	rdata_name(&m.rr[1], &p, "c.chain.test");
	owner_is(&m.rr[2], "c.chain.test", DNS_T_A);
	assert_int_equal(m.rr[0].ttl, 0);

	/* The same chain asked in mixed case: the question keeps it. */
	assert_int_equal(dns_msg_parse(&m, v_cname_chain6_reply, sizeof(v_cname_chain6_reply)), 0);
	assert_int_equal(m.q.name.data[1], 'A');
	owner_is(&m.rr[0], "A.Chain.TEST", DNS_T_CNAME);
	owner_is(&m.rr[2], "c.chain.test", DNS_T_AAAA);
	assert_false(m.edns.present);

	/* unbound: MX exchanges compressed against the owner. */
	assert_int_equal(dns_msg_parse(&m, v_mx_reply, sizeof(v_mx_reply)), 0);
	assert_int_equal(m.count[0], 2);
	owner_is(&m.rr[0], "example.test", DNS_T_MX);
	assert_int_equal(m.rr[0].rdlen, 2 + 19);
	assert_int_equal(g16(m.rr[0].rdata), 10);
	p = 2;
	rdata_name(&m.rr[0], &p, "mail.example.test");
	assert_int_equal(g16(m.rr[1].rdata), 20);
	p = 2;
	rdata_name(&m.rr[1], &p, "mail2.example.test");

	assert_int_equal(dns_msg_parse(&m, v_srv_reply, sizeof(v_srv_reply)), 0);
	owner_is(&m.rr[0], "_sip._tcp.example.test", DNS_T_SRV);
	assert_memory_equal(m.rr[0].rdata, "\x00\x0a\x00\x3c\x13\xc4", 6);
	p = 6;
	rdata_name(&m.rr[0], &p, "sip.example.test");
	assert_int_equal(p, m.rr[0].rdlen);
	p = 6;
	rdata_name(&m.rr[1], &p, "sip2.example.test");

	/* NXDOMAIN: the SOA in the authority, both names compressed. */
	assert_int_equal(dns_msg_parse(&m, v_nxdomain_reply, sizeof(v_nxdomain_reply)), 0);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	assert_int_equal(m.count[0], 0);
	assert_int_equal(m.count[1], 1);
	assert_int_equal(dns_msg_rr_section(&m, 0), DNS_SEC_AUTHORITY);
	owner_is(&m.rr[0], "example.test", DNS_T_SOA);
	p = 0;
	rdata_name(&m.rr[0], &p, "ns1.example.test");
	rdata_name(&m.rr[0], &p, "hostmaster.example.test");
	assert_int_equal(m.rr[0].rdlen, p + 20);
	assert_memory_equal(m.rr[0].rdata + p, "\x78\xa3\xf1\x75\x00\x00\x1c\x20\x00\x00\x0e\x10"
						"\x00\x12\x75\x00\x00\x00\x01\x2c", 20);

	assert_int_equal(dns_msg_parse(&m, v_nodata_reply, sizeof(v_nodata_reply)), 0);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_NOERROR);
	assert_int_equal(m.count[1], 1);
	owner_is(&m.rr[0], "example.test", DNS_T_SOA);

	/* TXT: three strings, held raw. */
	assert_int_equal(dns_msg_parse(&m, v_txt_reply, sizeof(v_txt_reply)), 0);
	owner_is(&m.rr[0], "txt.example.test", DNS_T_TXT);
	assert_int_equal(m.rr[0].rdlen, 38);
	assert_memory_equal(m.rr[0].rdata, v_txt_reply + sizeof(v_txt_reply) - 11 - 38, 38);

	assert_int_equal(dns_msg_parse(&m, v_ptr_reply, sizeof(v_ptr_reply)), 0);
	owner_is(&m.rr[0], "1.2.0.192.in-addr.arpa", DNS_T_PTR);
	p = 0;
	rdata_name(&m.rr[0], &p, "www.example.test");

	assert_int_equal(dns_msg_parse(&m, v_ns_reply, sizeof(v_ns_reply)), 0);
	p = 0;
	rdata_name(&m.rr[1], &p, "ns2.example.test");

	/* unbound's own truncation: the question alone, TC set. */
	assert_int_equal(dns_msg_parse(&m, v_many_tc_reply, sizeof(v_many_tc_reply)), 0);
	assert_true(m.flags & DNS_F_TC);
	assert_int_equal(dns_msg_rr_count(&m), 0);
	dns_msg_free(&m);
}

#define RHDR(qd, an, ns, ar) QHDR(0x8180, qd, an, ns, ar)
#define RR(type, rdlen) 0xc0, 12, 0, type, 0, 1, 0, 0, 0, 60, 0, rdlen

static const struct mcase {
	const char *what;
	const uint8_t *b;
	size_t len;
	int ret;
} mcases[] = {
	{ "counts claim more than fits", B(RHDR(1, 200, 0, 0), QA, RR(1, 4), 1, 2, 3, 4), -EBADMSG },
	{ "an 2, one record", B(RHDR(1, 2, 0, 0), QA, RR(1, 4), 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0,
				0, 0, 0), -EBADMSG }, /* a second record but for a byte */
	{ "RDLENGTH overruns", B(RHDR(1, 1, 0, 0), QA, RR(1, 5), 1, 2, 3, 4), -EBADMSG },
	{ "RDLENGTH 0xffff", B(RHDR(1, 1, 0, 0), QA, 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0xff, 0xff,
			       1, 2), -EBADMSG },
	{ "qdcount 2", B(RHDR(2, 0, 0, 0), QA, QA), -EBADMSG },
	{ "no question, an answer", B(RHDR(0, 1, 0, 0), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0), 0 },
	{ "OPT in the answers", B(RHDR(1, 1, 0, 0), QA, OPT(0, 0)), -EBADMSG },
	{ "OPT in the authority", B(RHDR(1, 0, 1, 0), QA, OPT(0, 0)), -EBADMSG },
	{ "OPT with a name", B(RHDR(1, 0, 0, 1), QA, RR(41, 0)), -EBADMSG },
	{ "two OPTs", B(RHDR(1, 0, 0, 2), QA, OPT(0, 0), OPT(0, 0)), -EBADMSG },
	{ "OPT between records", B(RHDR(1, 0, 0, 3), QA, RR(1, 0), OPT(0, 0), RR(1, 0)), 0 },
	{ "OPT option overrun", B(RHDR(1, 0, 0, 1), QA, OPT(0, 5), 0, 10, 0, 2, 1), -EBADMSG },
	{ "MX shorter than its preference", B(RHDR(1, 1, 0, 0), QA, RR(15, 1), 0), -EBADMSG },
	{ "MX name past RDATA", B(RHDR(1, 1, 0, 0), QA, RR(15, 4), 0, 10, 1, 'b', 0), -EBADMSG },
	{ "MX without a name", B(RHDR(1, 1, 0, 0), QA, RR(15, 2), 0, 10), -EBADMSG },
	{ "CNAME with a byte after the name", B(RHDR(1, 1, 0, 0), QA, RR(5, 3), 0xc0, 12, 'x'),
	  -EBADMSG },
	{ "CNAME pointing forward", B(RHDR(1, 1, 0, 0), QA, RR(5, 2), 0xc0, 33, 0), -EBADMSG },
	{ "CNAME pointing to itself", B(RHDR(1, 1, 0, 0), QA, RR(5, 2), 0xc0, 31), -EBADMSG },
	{ "CNAME pointing into the header", B(RHDR(1, 1, 0, 0), QA, RR(5, 2), 0xc0, 6), -EBADMSG },
	{ "CNAME to the question", B(RHDR(1, 1, 0, 0), QA, RR(5, 2), 0xc0, 12), 0 },
	{ "CNAME empty", B(RHDR(1, 1, 0, 0), QA, RR(5, 0)), -EBADMSG },
	{ "SOA with 19 numbers bytes", B(RHDR(1, 0, 1, 0), QA, RR(6, 21), 0, 0, 1, 2, 3, 4, 5, 6, 7,
					 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19), -EBADMSG },
	{ "SOA with 21", B(RHDR(1, 0, 1, 0), QA, RR(6, 23), 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
			   12, 13, 14, 15, 16, 17, 18, 19, 20, 21), -EBADMSG },
	{ "SOA with 20", B(RHDR(1, 0, 1, 0), QA, RR(6, 22), 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
			   12, 13, 14, 15, 16, 17, 18, 19, 20), 0 },
	{ "SRV shorter than its numbers", B(RHDR(1, 1, 0, 0), QA, RR(33, 5), 0, 1, 0, 2, 0),
	  -EBADMSG },
	{ "unknown type, raw", B(RHDR(1, 1, 0, 0), QA, RR(99, 3), 0xc0, 12, 0), 0 },
	{ "A with 0 bytes (kept raw)", B(RHDR(1, 1, 0, 0), QA, RR(1, 0)), 0 },
	{ "owner 0x80 label", B(RHDR(1, 1, 0, 0), QA, 0x81, 'a', 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0),
	  -EBADMSG },
};

static void test_msg_table(void **state)
{
	struct dns_msg m;

	(void)state;
	dns_msg_init(&m);
	for (size_t i = 0; i < N(mcases); i++) {
		uint8_t *b = dup(mcases[i].b, mcases[i].len);
		int r = dns_msg_parse(&m, b, mcases[i].len);

		if (r != mcases[i].ret)
			fail_msg("%s: %d, want %d", mcases[i].what, r, mcases[i].ret);
		if (r == 0)
			round_trip(b, mcases[i].len);
		free(b);
	}
	/* The CNAME to the question came out expanded. */
	assert_string_equal(mcases[19].what, "CNAME to the question");
	assert_int_equal(dns_msg_parse(&m, mcases[19].b, mcases[19].len), 0);
	assert_int_equal(m.rr[0].rdlen, 3);
	assert_memory_equal(m.rr[0].rdata, "\1a", 3);
	dns_msg_free(&m);
}

/* A question of 255 bytes (63.63.63.61) for the records to point at. */
static void long_question(struct mb *b, unsigned type)
{
	char text[256];

	for (int l = 0; l < 4; l++) {
		memset(text + 64 * l, 'a' + l, 63);
		text[64 * l + 63] = '.';
	}
	text[253] = '\0';
	pname(b, text);
	p16(b, type);
	p16(b, DNS_C_IN);
}

/* Thousands of records, and reusing m for a small message after. */
static void test_msg_many_records(void **state)
{
	struct dns_msg m;
	struct mb b = mb_new(DNS_MSG_MAX);
	const unsigned n = 4000;

	(void)state;
	hdr(&b, 0x8180, 1, n, 0, 0);
	pname(&b, "many.example");
	p16(&b, DNS_T_A);
	p16(&b, DNS_C_IN);
	for (unsigned i = 0; i < n; i++) {
		size_t at = rr_begin(&b, NULL, 12, DNS_T_A);

		p32(&b, i);
		rd_end(&b, at);
	}
	dns_msg_init(&m);
	assert_int_equal(dns_msg_parse(&m, b.b, b.n), 0);
	assert_int_equal(m.count[0], n);
	assert_int_equal(g16(m.rr[n - 1].rdata + 2), n - 1);
	assert_int_equal(round_trip(b.b, b.n), b.n); /* same compression */
	assert_int_equal(dns_msg_parse(&m, v_a_reply, sizeof(v_a_reply)), 0);
	assert_int_equal(dns_msg_rr_count(&m), 2);
	assert_int_equal(m.arena_len, 8);
	dns_msg_free(&m);
	free(b.b);
}

/* A decompression bomb: CNAMEs of 2 bytes each pointing at a 255-byte name
 * expand 127-fold; the arena (256 KiB) holds 1028 of them, not 1029. */
static void test_msg_arena_limit(void **state)
{
	const unsigned fit = 256 * 1024 / DNS_NAME_MAX;
	struct dns_msg m;

	(void)state;
	dns_msg_init(&m);
	for (unsigned n = fit; n <= fit + 1; n++) {
		struct mb b = mb_new(DNS_MSG_MAX);

		hdr(&b, 0x8180, 1, n, 0, 0);
		long_question(&b, DNS_T_CNAME);
		for (unsigned i = 0; i < n; i++) {
			size_t at = rr_begin(&b, NULL, 12, DNS_T_CNAME);

			p16(&b, 0xc00c);
			rd_end(&b, at);
		}
		assert_int_equal(dns_msg_parse(&m, b.b, b.n), n == fit ? 0 : -EMSGSIZE);
		if (n == fit) {
			assert_int_equal(m.rr[n - 1].rdlen, DNS_NAME_MAX);
			assert_int_equal(round_trip(b.b, b.n), b.n);
		}
		free(b.b);
	}
	/* And the biggest bomb a message holds: refused, nothing overrun. */
	{
		struct mb b = mb_new(DNS_MSG_MAX);
		unsigned n = (DNS_MSG_MAX - 12 - 259) / 14;

		hdr(&b, 0x8180, 1, n, 0, 0);
		long_question(&b, DNS_T_CNAME);
		for (unsigned i = 0; i < n; i++) {
			size_t at = rr_begin(&b, NULL, 12, DNS_T_CNAME);

			p16(&b, 0xc00c);
			rd_end(&b, at);
		}
		assert_int_equal(dns_msg_parse(&m, b.b, b.n), -EMSGSIZE);
		free(b.b);
	}
	dns_msg_free(&m);
}

/* dnsmasq CVE-2017-14491 style, in records: owners and RDATA names that
 * expand past 255 bytes through pointers are refused. */
static void test_msg_expansion_attacks(void **state)
{
	struct dns_msg m;
	struct dns_query q;

	(void)state;
	dns_msg_init(&m);
	for (int where = 0; where < 3; where++) {
		struct mb b = mb_new(1024);
		size_t at;

		hdr(&b, 0x8180, 1, 1, 0, 0);
		long_question(&b, DNS_T_A);
		/* "\1x" + pointer to the 255-byte question: 257 bytes. */
		if (where == 0) { /* the owner */
			p8(&b, 1), p8(&b, 'x'), p16(&b, 0xc00c);
			p16(&b, DNS_T_A), p16(&b, DNS_C_IN), p32(&b, 1);
			at = b.n;
			p16(&b, 0);
			p32(&b, 0x01020304);
		} else { /* a CNAME target, an MX exchange */
			at = rr_begin(&b, NULL, 12, where == 1 ? DNS_T_CNAME : DNS_T_MX);
			if (where == 2)
				p16(&b, 10);
			p8(&b, 1), p8(&b, 'x'), p16(&b, 0xc00c);
		}
		rd_end(&b, at);
		assert_int_equal(dns_msg_parse(&m, b.b, b.n), -EBADMSG);
		assert_int_equal(dns_reply_parse(b.b, b.n, &q), where == 0 ? -EBADMSG : 0);
		free(b.b);
	}
	dns_msg_free(&m);
}

/* The FreeBSD 2025 advisory: unbounded decompression work. Every owner is a
 * pointer into a chain of 31 more, so each name costs 32 hops (the limit) and
 * the work is bounded by records x 32; one more hop and it is refused. */
static void test_msg_pointer_chain_work(void **state)
{
	struct dns_msg m;

	(void)state;
	dns_msg_init(&m);
	for (unsigned chain = DNS_PTR_HOPS_MAX - 1; chain <= DNS_PTR_HOPS_MAX; chain++) {
		struct mb b = mb_new(DNS_MSG_MAX);
		size_t first, last, n;

		hdr(&b, 0x8180, 1, 0, 0, 0);
		pname(&b, "x");
		p16(&b, DNS_T_A);
		p16(&b, DNS_C_IN);
		/* The chain sits in the RDATA of a first, unknown-type record. */
		first = rr_begin(&b, NULL, 12, 999);
		last = 12;
		for (unsigned i = 0; i < chain; i++) {
			size_t here = b.n;

			p16(&b, 0xc000 | last);
			last = here;
		}
		rd_end(&b, first);
		n = 1;
		while (b.cap - b.n >= 12) {
			rr_begin(&b, NULL, last, DNS_T_A);
			n++;
		}
		set16(&b, DNS_OFF_ANCOUNT, (unsigned)n);
		assert_int_equal(dns_msg_parse(&m, b.b, b.n),
				 chain < DNS_PTR_HOPS_MAX ? 0 : -EBADMSG);
		if (chain < DNS_PTR_HOPS_MAX) {
			assert_int_equal(m.count[0], n);
			assert_true(n > 5000);
			round_trip(b.b, b.n);
		}
		free(b.b);
	}
	dns_msg_free(&m);
}

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

/* ---- deterministic mutation ---- */

/* Every byte of every capture set to a few telling values: no parser may
 * crash, and whatever dns_msg_parse takes must survive a round trip. */
static void test_mutations(void **state)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x3f, 0x40, 0x80, 0xc0, 0xff };
	struct dns_msg m;
	unsigned ok = 0, runs = 0;

	(void)state;
	dns_msg_init(&m);
	for (size_t i = 0; i < N(replies) + N(queries); i++) {
		const struct vec *v = i < N(replies) ? &replies[i] : &queries[i - N(replies)];

		for (size_t at = 0; at < v->len; at++) {
			for (size_t k = 0; k <= N(vals); k++) {
				uint8_t *b = dup(v->b, v->len);
				struct dns_query q;

				b[at] = k < N(vals) ? vals[k] : (uint8_t)(b[at] + 1);
				(void)dns_query_parse(b, v->len, &q);
				(void)dns_reply_parse(b, v->len, &q);
				if (dns_msg_parse(&m, b, v->len) == 0) {
					round_trip(b, v->len);
					ok++;
				}
				runs++;
				free(b);
			}
		}
	}
	assert_true(ok > runs / 4);
	dns_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_captured),
		cmocka_unit_test(test_query_table),
		cmocka_unit_test(test_query_edns_fields),
		cmocka_unit_test(test_reply_captured),
		cmocka_unit_test(test_reply_errors),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_tiny_sizes),
		cmocka_unit_test(test_msg_captured),
		cmocka_unit_test(test_msg_table),
		cmocka_unit_test(test_msg_many_records),
		cmocka_unit_test(test_msg_arena_limit),
		cmocka_unit_test(test_msg_expansion_attacks),
		cmocka_unit_test(test_msg_pointer_chain_work),
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
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
