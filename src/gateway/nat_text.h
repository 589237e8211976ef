/* The nft command text of the NAT module: the table, its elements. Pure
 * functions (no kernel), so the text is checked by unit tests; nat.c runs it
 * through libnftables. Internal to src/gateway. */
#ifndef SLUICE_GATEWAY_NAT_TEXT_H
#define SLUICE_GATEWAY_NAT_TEXT_H

#include <stdbool.h>

#include "gateway/nat.h"
#include "lib/buf.h"

enum { NAT_TABLE_NAME_MAX = 32 };

/* Which set an allow rule goes to. */
enum nat_kind {
	NAT_KIND_PORT,  /* client . dst . l4proto . port range (tcp, udp) */
	NAT_KIND_PROTO, /* client . dst . l4proto (icmp, ipv6-icmp) */
	NAT_KIND_ANY,   /* client . dst prefix */
	/* client . dst, one address, any protocol: a set without the interval
	 * flag, one of a kind (no layers), since libnftables reads an interval
	 * set's elements on every add: a DNS binding's filter element would
	 * cost more with every binding. */
	NAT_KIND_HOST,
};

/* Whether s is a usable table name: [A-Za-z0-9_], 1..NAT_TABLE_NAME_MAX. */
bool nat_text_name_ok(const char *s);
/* Whether s is a usable interface name: [A-Za-z0-9_.-], 1..IFNAMSIZ-1. */
bool nat_text_ifname_ok(const char *s);

/* A rule checked and put in canonical form (family's ICMP, dst masked, ports
 * 0..65535 for both 0, ports zeroed when unused) with the kind of set it
 * belongs to. 0 or -EINVAL / -EAFNOSUPPORT. */
int nat_rule_norm(const struct nat_rule *in, struct nat_rule *out, enum nat_kind *kind);

/* The whole table, preceded by the commands that delete an existing one of
 * that name, so that one transaction replaces it. c is checked: -EINVAL. */
int nat_text_table(struct buf *b, const struct nat_config *c);
/* "add element inet T dnat4 { client . proxy : real }\n" (or delete, without
 * ": real"). */
int nat_text_bind(struct buf *b, bool add, const char *table, int family,
		  const uint8_t *client, const uint8_t *proxy, const uint8_t *real);
/* The element of a normalized rule in layer `layer` of its kind's sets. */
int nat_text_allow(struct buf *b, bool add, const char *table, const struct nat_rule *r,
		   enum nat_kind kind, unsigned layer);

#endif
