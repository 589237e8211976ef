#include "gateway/nat_text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static const char *const kind_name[] = {
	[NAT_KIND_PORT] = "port", [NAT_KIND_PROTO] = "proto", [NAT_KIND_ANY] = "any",
	[NAT_KIND_HOST] = "host",
};

static bool chars_ok(const char *s, size_t max, const char *extra)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char ch = s[n];

		if (n >= max)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || strchr(extra, ch)))
			return false;
	}
	return n > 0;
}

bool nat_text_name_ok(const char *s)
{
	return chars_ok(s, NAT_TABLE_NAME_MAX, "");
}

bool nat_text_ifname_ok(const char *s)
{
	return chars_ok(s, IFNAMSIZ - 1, ".-");
}

int nat_rule_norm(const struct nat_rule *in, struct nat_rule *out, enum nat_kind *kind)
{
	struct net_prefix p = { .family = in->family };
	unsigned alen = prefix_addr_len(in->family);
	struct nat_rule r = { .family = in->family };

	if (!alen)
		return -EAFNOSUPPORT;
	if (in->prefix > alen * 8)
		return -EINVAL;
	memcpy(r.client, in->client, alen);
	/* Keep only the prefix's bits, as the kernel's interval would. */
	for (unsigned i = 0; i < alen; i++) {
		unsigned bits = in->prefix > i * 8 ? in->prefix - i * 8 : 0;

		p.addr[i] = in->dst[i] & (bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits));
	}
	memcpy(r.dst, p.addr, alen);
	r.prefix = in->prefix;
	switch (in->proto) {
	case 0:
		*kind = in->prefix == alen * 8 ? NAT_KIND_HOST : NAT_KIND_ANY;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		r.proto = in->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		*kind = NAT_KIND_PROTO;
		break;
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		r.proto = in->proto;
		if (in->port_lo > in->port_hi)
			return -EINVAL;
		r.port_lo = in->port_lo;
		r.port_hi = in->port_lo == 0 && in->port_hi == 0 ? 65535 : in->port_hi;
		*kind = NAT_KIND_PORT;
		break;
	default:
		return -EINVAL;
	}
	*out = r;
	return 0;
}

static int put_addr(struct buf *b, int family, const uint8_t *a)
{
	char s[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, a, s, sizeof(s)))
		return -EAFNOSUPPORT;
	return buf_printf(b, "%s", s);
}

static int put_prefix(struct buf *b, const struct net_prefix *p)
{
	int err = put_addr(b, p->family, p->addr);

	if (!err && p->len != prefix_addr_len(p->family) * 8)
		err = buf_printf(b, "/%u", p->len);
	return err;
}

/* "{ a, b/n }" of the prefixes of one family into a fresh buffer the caller
 * frees; an empty string when there are none. */
static int prefix_set(struct buf *set, const struct net_prefix *p, size_t n, int family)
{
	int err = buf_printf(set, "%s", "");

	for (size_t i = 0; i < n && !err; i++) {
		if (p[i].family != family)
			continue;
		err = buf_printf(set, "%s", set->len ? ", " : "{ ");
		if (!err)
			err = put_prefix(set, &p[i]);
	}
	if (!err && set->len)
		err = buf_printf(set, " }");
	return err;
}

static bool prefixes_ok(const struct net_prefix *p, size_t n, bool full)
{
	if (n > NAT_MAX_RANGES || (n && !p))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!prefix_valid(&p[i]) || (full && p[i].len != prefix_addr_len(p[i].family) * 8))
			return false;
	return true;
}

static const struct net_prefix default_ranges[] = {
	{ .family = AF_INET, .addr = { 100, 64 }, .len = 11 },
	{ .family = AF_INET6, .addr = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 }, .len = 107 },
};

/* One family's part of a chain: fmt is printed with the family's words. */
struct fam {
	int family;
	const char *ip;   /* "ip" / "ip6" */
	const char *tag;  /* "4" / "6" */
	const char *icmp; /* "icmp" / "icmpv6" */
};

static const struct fam fams[] = {
	{ AF_INET, "ip", "4", "icmp" },
	{ AF_INET6, "ip6", "6", "icmpv6" },
};

static int table_sets(struct buf *b)
{
	static const char *const addr_type[] = { "ipv4_addr", "ipv6_addr" };
	int err = 0;

	for (unsigned f = 0; f < 2 && !err; f++) {
		const char *t = addr_type[f];

		err = buf_printf(b, "\tmap dnat%s {\n\t\ttype %s . %s : %s\n\t}\n", fams[f].tag, t,
				 t, t);
		if (!err)
			err = buf_printf(b, "\tset allow%s_host {\n\t\ttype %s . %s\n\t}\n",
					 fams[f].tag, t, t);
		for (unsigned l = 0; l < NAT_LAYERS && !err; l++)
			err = buf_printf(b,
					 "\tset allow%s_port_%u {\n\t\ttype %s . %s . inet_proto . inet_service\n\t\tflags interval\n\t}\n"
					 "\tset allow%s_proto_%u {\n\t\ttype %s . %s . inet_proto\n\t\tflags interval\n\t}\n"
					 "\tset allow%s_any_%u {\n\t\ttype %s . %s\n\t\tflags interval\n\t}\n",
					 fams[f].tag, l, t, t, fams[f].tag, l, t, t, fams[f].tag, l, t, t);
	}
	return err;
}

static int table_from_tunnel(struct buf *b)
{
	/* An ICMP error about a reply of a flow (port unreachable from the
	 * client) belongs to that flow; it carries no data of its own. */
	int err = buf_printf(b, "\tchain from_tunnel {\n"
				"\t\tct state related meta l4proto { icmp, ipv6-icmp } accept\n");

	for (unsigned f = 0; f < 2 && !err; f++) {
		err = buf_printf(b, "\t\t%s saddr . ct original %s daddr @allow%s_host accept\n",
				 fams[f].ip, fams[f].ip, fams[f].tag);
		for (unsigned l = 0; l < NAT_LAYERS && !err; l++) {
			const char *ip = fams[f].ip, *tag = fams[f].tag;

			err = buf_printf(b,
					 "\t\t%s saddr . ct original %s daddr . meta l4proto . th dport @allow%s_port_%u accept\n"
					 "\t\t%s saddr . ct original %s daddr . meta l4proto @allow%s_proto_%u accept\n"
					 "\t\t%s saddr . ct original %s daddr @allow%s_any_%u accept\n",
					 ip, ip, tag, l, ip, ip, tag, l, ip, ip, tag, l);
		}
	}
	if (!err)
		err = buf_printf(b, "\t\tlimit name \"reject_rate\" reject with icmpx admin-prohibited\n"
				    "\t\tdrop\n\t}\n");
	return err;
}

static int table_to_gateway(struct buf *b, const struct nat_config *c, uint16_t port)
{
	int err = buf_printf(b, "\tchain to_gateway {\n"
				"\t\tct direction reply accept\n"
				"\t\tct state related meta l4proto { icmp, ipv6-icmp } accept\n"
				"\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n");

	for (unsigned f = 0; f < 2 && !err; f++) {
		struct buf set;

		buf_init(&set, 4096);
		err = prefix_set(&set, c->gw_addrs, c->n_gw_addrs, fams[f].family);
		if (!err && set.len)
			err = buf_printf(b,
					 "\t\t%s daddr %s meta l4proto { tcp, udp } th dport %u accept\n"
					 "\t\t%s daddr %s %s type echo-request accept\n",
					 fams[f].ip, (char *)set.data, port, fams[f].ip,
					 (char *)set.data, fams[f].icmp);
		buf_free(&set);
	}
	if (!err)
		err = buf_printf(b, "\t\tlimit name \"reject_rate\" reject with icmpx admin-prohibited\n"
				    "\t\tdrop\n\t}\n");
	return err;
}

static int table_masquerade(struct buf *b, const struct nat_config *c)
{
	const struct net_prefix *r = c->n_client_ranges ? c->client_ranges : default_ranges;
	size_t n = c->n_client_ranges ? c->n_client_ranges : 2;
	int err = 0;

	for (unsigned f = 0; f < 2 && !err; f++) {
		struct buf set;

		buf_init(&set, 4096);
		err = prefix_set(&set, r, n, fams[f].family);
		if (!err && set.len)
			err = buf_printf(b, "\t\toifname != \"%s\" %s saddr %s masquerade\n",
					 c->tun_ifname, fams[f].ip, (char *)set.data);
		buf_free(&set);
	}
	return err;
}

int nat_text_table(struct buf *b, const struct nat_config *c)
{
	const char *t = c->table, *tun = c->tun_ifname;
	uint16_t port = c->dns_port ? c->dns_port : NAT_DNS_PORT;
	unsigned rate = c->reject_rate ? c->reject_rate : NAT_REJECT_RATE;
	int err;

	if (!nat_text_name_ok(t) || !nat_text_ifname_ok(tun) ||
	    !prefixes_ok(c->client_ranges, c->n_client_ranges, false) ||
	    !prefixes_ok(c->gw_addrs, c->n_gw_addrs, true) || rate > 1000000)
		return -EINVAL;
	/* "add" makes sure there is a table to delete: the pair replaces a
	 * leftover and is harmless without one, all in one transaction. */
	err = buf_printf(b, "add table inet %s\ndelete table inet %s\ntable inet %s {\n", t, t, t);
	if (!err)
		err = buf_printf(b, "\tlimit reject_rate {\n\t\trate %u/second burst %u packets\n\t}\n",
				 rate, rate);
	if (!err)
		err = table_sets(b);
	if (!err)
		err = buf_printf(b,
				 "\tchain prerouting {\n"
				 "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
				 "\t\tiifname \"%s\" dnat ip to ip saddr . ip daddr map @dnat4\n"
				 "\t\tiifname \"%s\" dnat ip6 to ip6 saddr . ip6 daddr map @dnat6\n"
				 "\t}\n"
				 "\tchain forward {\n"
				 "\t\ttype filter hook forward priority filter; policy accept;\n"
				 "\t\tiifname \"%s\" jump from_tunnel\n"
				 "\t\toifname \"%s\" ct direction reply accept\n"
				 "\t\toifname \"%s\" drop\n"
				 "\t}\n",
				 tun, tun, tun, tun, tun);
	if (!err)
		err = table_from_tunnel(b);
	if (!err)
		err = buf_printf(b,
				 "\tchain input {\n"
				 "\t\ttype filter hook input priority filter; policy accept;\n"
				 "\t\tiifname \"%s\" jump to_gateway\n"
				 "\t}\n",
				 tun);
	if (!err)
		err = table_to_gateway(b, c, port);
	if (!err)
		err = buf_printf(b, "\tchain postrouting {\n"
				    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	if (!err)
		err = table_masquerade(b, c);
	if (!err)
		err = buf_printf(b, "\t}\n}\n");
	return err;
}

int nat_text_bind(struct buf *b, bool add, const char *table, int family,
		  const uint8_t *client, const uint8_t *proxy, const uint8_t *real)
{
	const char *tag = family == AF_INET ? "4" : "6";
	int err;

	if (!prefix_addr_len(family))
		return -EAFNOSUPPORT;
	if (!nat_text_name_ok(table) || (add && !real))
		return -EINVAL;
	err = buf_printf(b, "%s element inet %s dnat%s { ", add ? "add" : "delete", table, tag);
	if (!err)
		err = put_addr(b, family, client);
	if (!err)
		err = buf_printf(b, " . ");
	if (!err)
		err = put_addr(b, family, proxy);
	if (!err && add) {
		err = buf_printf(b, " : ");
		if (!err)
			err = put_addr(b, family, real);
	}
	if (!err)
		err = buf_printf(b, " }\n");
	return err;
}

int nat_text_allow(struct buf *b, bool add, const char *table, const struct nat_rule *r,
		   enum nat_kind kind, unsigned layer)
{
	struct net_prefix dst = { .family = r->family, .len = r->prefix };
	int err;

	if (!prefix_addr_len(r->family))
		return -EAFNOSUPPORT;
	if (!nat_text_name_ok(table) || layer >= NAT_LAYERS || kind > NAT_KIND_HOST ||
	    (kind == NAT_KIND_HOST && (layer || r->prefix != prefix_addr_len(r->family) * 8)))
		return -EINVAL;
	memcpy(dst.addr, r->dst, sizeof(dst.addr));
	if (!prefix_valid(&dst))
		return -EINVAL;
	if (kind == NAT_KIND_HOST)
		err = buf_printf(b, "%s element inet %s allow%s_host { ", add ? "add" : "delete",
				 table, r->family == AF_INET ? "4" : "6");
	else
		err = buf_printf(b, "%s element inet %s allow%s_%s_%u { ", add ? "add" : "delete",
				 table, r->family == AF_INET ? "4" : "6", kind_name[kind], layer);
	if (!err)
		err = put_addr(b, r->family, r->client);
	if (!err)
		err = buf_printf(b, " . ");
	if (!err)
		err = put_prefix(b, &dst);
	if (!err && kind == NAT_KIND_PROTO)
		err = buf_printf(b, " . %s", r->proto == IPPROTO_ICMP ? "icmp" : "ipv6-icmp");
	if (!err && kind == NAT_KIND_PORT) {
		err = buf_printf(b, " . %s . %u", r->proto == IPPROTO_TCP ? "tcp" : "udp",
				 r->port_lo);
		if (!err && r->port_hi != r->port_lo)
			err = buf_printf(b, "-%u", r->port_hi);
	}
	if (!err)
		err = buf_printf(b, " }\n");
	return err;
}
