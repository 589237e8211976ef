#include "net/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Big enough for a dump batch of routes (libmnl's own MNL_SOCKET_DUMP_SIZE). */
#define NL_BUF_SIZE 32768

struct nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	uint8_t buf[NL_BUF_SIZE];
};

int nl_open(struct nl **out)
{
	struct nl *nl = calloc(1, sizeof(*nl));
	int err;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		err = -errno;
		goto fail_free;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail_close;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	*out = nl;
	return 0;

fail_close:
	mnl_socket_close(nl->sock);
fail_free:
	free(nl);
	return err;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

int nl_link_index(const char *ifname)
{
	unsigned idx = if_nametoindex(ifname);

	return idx ? (int)idx : -ENODEV;
}

static struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* Sends one request and runs the replies through cb until the ACK (or the end of
 * a dump). The kernel's error comes back from mnl_cb_run as -1 with errno. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	unsigned seq = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, arg);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static int nl_link_change(struct nl *nl, int ifindex, unsigned flags, unsigned change,
			  const unsigned *mtu)
{
	struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, *mtu);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_link_set_up(struct nl *nl, int ifindex, bool up)
{
	return nl_link_change(nl, ifindex, up ? IFF_UP : 0, IFF_UP, NULL);
}

int nl_link_set_mtu(struct nl *nl, int ifindex, unsigned mtu)
{
	return nl_link_change(nl, ifindex, 0, 0, &mtu);
}

static int family_len(int family, unsigned prefixlen)
{
	if (family == AF_INET)
		return prefixlen <= 32 ? 4 : -EINVAL;
	if (family == AF_INET6)
		return prefixlen <= 128 ? 16 : -EINVAL;
	return -EAFNOSUPPORT;
}

static int nl_addr(struct nl *nl, uint16_t type, uint16_t flags, int ifindex, int family,
		   const void *addr, unsigned prefixlen)
{
	int alen = family_len(family, prefixlen);
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (alen < 0)
		return alen;
	if (ifindex <= 0)
		return -ENODEV;
	nlh = nl_msg(nl, type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefixlen;
	ifa->ifa_index = (unsigned)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, IFA_LOCAL, (size_t)alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, (size_t)alen, addr);
	/* No DAD for IPv6: the address must be usable at once, as on a TUN. */
	if (family == AF_INET6)
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr, unsigned prefixlen)
{
	return nl_addr(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, family, addr,
		       prefixlen);
}

int nl_addr_del(struct nl *nl, int ifindex, int family, const void *addr, unsigned prefixlen)
{
	return nl_addr(nl, RTM_DELADDR, 0, ifindex, family, addr, prefixlen);
}

/* A route's destination must be the network itself: no bits past the prefix. */
static bool host_bits_clear(const uint8_t *a, int alen, unsigned prefixlen)
{
	for (int i = 0; i < alen; i++) {
		unsigned bits = prefixlen > (unsigned)i * 8 ? prefixlen - (unsigned)i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		if (a[i] & ~mask)
			return false;
	}
	return true;
}

/* rtype RTN_UNICAST: a device route through ifindex; RTN_PROHIBIT and the
 * like: no device. */
static int nl_route(struct nl *nl, uint16_t type, uint16_t flags, int ifindex, int family,
		    const void *dst, unsigned prefixlen, uint8_t rtype)
{
	int alen = family_len(family, prefixlen);
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (alen < 0)
		return alen;
	if (!host_bits_clear(dst, alen, prefixlen))
		return -EINVAL;
	if (rtype == RTN_UNICAST && ifindex <= 0)
		return -ENODEV;
	nlh = nl_msg(nl, type, flags);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)prefixlen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = rtype == RTN_UNICAST ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	rtm->rtm_type = rtype;
	mnl_attr_put(nlh, RTA_DST, (size_t)alen, dst);
	if (rtype == RTN_UNICAST)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_route_add(struct nl *nl, int ifindex, int family, const void *dst, unsigned prefixlen)
{
	return nl_route(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, ifindex, family, dst,
			prefixlen, RTN_UNICAST);
}

int nl_route_del(struct nl *nl, int ifindex, int family, const void *dst, unsigned prefixlen)
{
	return nl_route(nl, RTM_DELROUTE, 0, ifindex, family, dst, prefixlen, RTN_UNICAST);
}

int nl_route_add_prohibit(struct nl *nl, int family, const void *dst, unsigned prefixlen)
{
	return nl_route(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, 0, family, dst, prefixlen,
			RTN_PROHIBIT);
}

int nl_route_del_prohibit(struct nl *nl, int family, const void *dst, unsigned prefixlen)
{
	return nl_route(nl, RTM_DELROUTE, 0, 0, family, dst, prefixlen, RTN_PROHIBIT);
}

struct dump_ctx {
	int (*fn)(const struct nl_route *r, void *arg);
	void *arg;
	int stop;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK; /* newer kernel's attribute: not ours to read */
	tb[type] = attr;
	return MNL_CB_OK;
}

/* The fields of one RTM_NEWROUTE message. -EINVAL when it is cut short. */
static int route_parse(const struct nlmsghdr *nlh, struct nl_route *r)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	size_t alen;

	memset(r, 0, sizeof(*r));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*rtm))
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb) < 0)
		return -EINVAL;
	r->family = rtm->rtm_family;
	alen = r->family == AF_INET ? 4 : 16;
	r->prefixlen = rtm->rtm_dst_len;
	r->type = rtm->rtm_type;
	r->protocol = rtm->rtm_protocol;
	r->table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == alen)
		memcpy(r->dst, mnl_attr_get_payload(tb[RTA_DST]), alen);
	if (tb[RTA_OIF] && mnl_attr_get_payload_len(tb[RTA_OIF]) == 4)
		r->ifindex = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == alen) {
		memcpy(r->gateway, mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
		r->has_gateway = true;
	}
	if (tb[RTA_PRIORITY] && mnl_attr_get_payload_len(tb[RTA_PRIORITY]) == 4)
		r->priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	return 0;
}

static int route_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	struct nl_route r;

	if (route_parse(nlh, &r) < 0)
		return MNL_CB_ERROR;
	/* Once the caller has stopped, the rest of the dump is read and dropped, so
	 * the socket is left clean for the next request. */
	if (ctx->stop >= 0)
		ctx->stop = ctx->fn(&r, ctx->arg);
	return MNL_CB_OK;
}

int nl_route_dump(struct nl *nl, int family,
		  int (*fn)(const struct nl_route *r, void *arg), void *arg)
{
	struct dump_ctx ctx = { .fn = fn, .arg = arg };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int r;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	nlh = nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP);
	nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK; /* a dump ends with NLMSG_DONE */
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	r = nl_talk(nl, nlh, route_msg_cb, &ctx);
	return ctx.stop < 0 ? ctx.stop : r;
}

static int nl_route_ex(struct nl *nl, uint16_t type, uint16_t flags, const struct nl_route *r)
{
	int alen = family_len(r->family, r->prefixlen);
	uint8_t rtype = r->type ? r->type : RTN_UNICAST;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (alen < 0)
		return alen;
	if (!host_bits_clear(r->dst, alen, r->prefixlen))
		return -EINVAL;
	if (type == RTM_NEWROUTE && rtype == RTN_UNICAST && r->ifindex <= 0 && !r->has_gateway)
		return -ENODEV;
	nlh = nl_msg(nl, type, flags);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)r->family;
	rtm->rtm_dst_len = (uint8_t)r->prefixlen;
	/* ids past 255 only fit RTA_TABLE (below) */
	rtm->rtm_table = !r->table ? RT_TABLE_MAIN
		       : r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = r->protocol ? r->protocol : RTPROT_STATIC;
		rtm->rtm_scope = rtype == RTN_UNICAST && !r->has_gateway ? RT_SCOPE_LINK
									  : RT_SCOPE_UNIVERSE;
		rtm->rtm_type = rtype;
	} else {
		/* zero and NOWHERE are the kernel's "any" when it matches */
		rtm->rtm_protocol = r->protocol;
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
		rtm->rtm_type = r->type;
	}
	if (r->table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (r->prefixlen)
		mnl_attr_put(nlh, RTA_DST, (size_t)alen, r->dst);
	if (r->ifindex > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->ifindex);
	if (r->has_gateway)
		mnl_attr_put(nlh, RTA_GATEWAY, (size_t)alen, r->gateway);
	if (r->priority)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->priority);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_route_add_ex(struct nl *nl, const struct nl_route *r)
{
	return nl_route_ex(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r);
}

int nl_route_del_ex(struct nl *nl, const struct nl_route *r)
{
	return nl_route_ex(nl, RTM_DELROUTE, 0, r);
}

struct get_ctx {
	struct nl_route *out;
	int n;
};

static int route_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_ctx *ctx = data;

	if (nlh->nlmsg_type != RTM_NEWROUTE || ctx->n++ > 0)
		return MNL_CB_OK;
	return route_parse(nlh, ctx->out) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int nl_route_get(struct nl *nl, int family, const void *dst, struct nl_route *out)
{
	int alen = family_len(family, 0);
	struct get_ctx ctx = { .out = out };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int r;

	if (alen < 0)
		return alen;
	nlh = nl_msg(nl, RTM_GETROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)(alen * 8);
	/* the FIB entry that matched, not the cached next hop: its prefix,
	 * protocol and table are what callers decide on */
	rtm->rtm_flags = RTM_F_FIB_MATCH;
	mnl_attr_put(nlh, RTA_DST, (size_t)alen, dst);
	r = nl_talk(nl, nlh, route_get_cb, &ctx);
	if (r < 0)
		return r;
	return ctx.n ? 0 : -EIO;
}
