/* ctnetlink through libmnl: one socket for requests (dump, delete), one for
 * DESTROY events. Message layout: <linux/netfilter/nfnetlink_conntrack.h>. */
#include "gateway/conntrack.h"

#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "net/sysctl.h"
#include "lib/log.h"

/* A dump batch (libmnl's MNL_SOCKET_DUMP_SIZE is 32 KiB; more is fewer reads). */
#define CT_BUF_SIZE 65536
/* Event socket buffer: a burst of flow ends must fit while the loop is busy. */
#define CT_EVENT_RCVBUF (8 << 20)
/* Reads per ct_events_dispatch() call. */
#define CT_DISPATCH_READS 64
/* A CTA_TUPLE_ORIG is about 100 bytes for IPv6; anything larger is not one. */
#define CT_TUPLE_MAX 256

struct ct {
	struct mnl_socket *req, *ev;
	unsigned portid, seq;
	struct net_prefix clients[CT_MAX_CLIENT_RANGES];
	size_t n_clients;
	uint64_t lost;
	struct log_ratelimit rl;
	char old_acct[SYSCTL_VALUE_MAX], old_tstamp[SYSCTL_VALUE_MAX];
	bool set_acct, set_tstamp;
	alignas(8) uint8_t buf[CT_BUF_SIZE]; /* netlink headers are read in place */
};

static const char sysctl_acct[] = "net/netfilter/nf_conntrack_acct";
static const char sysctl_tstamp[] = "net/netfilter/nf_conntrack_timestamp";

static const struct net_prefix default_clients[] = {
	{ .family = AF_INET, .addr = { 100, 64 }, .len = 11 },
	{ .family = AF_INET6, .addr = { 0xfd, 0x00, 0x20, 0x21, 0x11, 0x11 }, .len = 107 },
};

/* Parsing: every attribute's length checked by libmnl before use. */

struct attrs {
	const struct nlattr **tb;
	uint16_t max;
};

static int collect_cb(const struct nlattr *a, void *data)
{
	struct attrs *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

static int parse_nest(const struct nlattr *a, const struct nlattr **tb, uint16_t max)
{
	struct attrs t = { tb, max };

	memset(tb, 0, ((size_t)max + 1) * sizeof(*tb));
	if (!a || mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
		return -EINVAL;
	return mnl_attr_parse_nested(a, collect_cb, &t) == MNL_CB_ERROR ? -EINVAL : 0;
}

static bool get_u8(const struct nlattr *a, uint8_t *v)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U8) < 0)
		return false;
	*v = mnl_attr_get_u8(a);
	return true;
}

static bool get_be16(const struct nlattr *a, uint16_t *v)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U16) < 0)
		return false;
	*v = be16toh(mnl_attr_get_u16(a));
	return true;
}

static bool get_be32(const struct nlattr *a, uint32_t *v)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return false;
	*v = be32toh(mnl_attr_get_u32(a));
	return true;
}

static bool get_be64(const struct nlattr *a, uint64_t *v)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return false;
	*v = be64toh(mnl_attr_get_u64(a));
	return true;
}

static bool get_addr(const struct nlattr *a, size_t alen, uint8_t *out)
{
	if (!a || mnl_attr_get_payload_len(a) != alen)
		return false;
	memcpy(out, mnl_attr_get_payload(a), alen);
	return true;
}

static int parse_tuple(const struct nlattr *a, struct ct_flow *f)
{
	const struct nlattr *tt[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1],
		*pr[CTA_PROTO_MAX + 1];
	bool v4 = f->family == AF_INET;
	size_t alen = v4 ? 4 : 16;

	if (parse_nest(a, tt, CTA_TUPLE_MAX) || parse_nest(tt[CTA_TUPLE_IP], ip, CTA_IP_MAX) ||
	    parse_nest(tt[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX))
		return -EINVAL;
	if (!get_addr(ip[v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC], alen, f->src) ||
	    !get_addr(ip[v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST], alen, f->dst) ||
	    !get_u8(pr[CTA_PROTO_NUM], &f->proto))
		return -EINVAL;
	if (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) {
		if (!get_be16(pr[f->proto == IPPROTO_ICMP ? CTA_PROTO_ICMP_ID : CTA_PROTO_ICMPV6_ID],
			      &f->sport))
			f->sport = 0;
	} else if (!get_be16(pr[CTA_PROTO_SRC_PORT], &f->sport) ||
		   !get_be16(pr[CTA_PROTO_DST_PORT], &f->dport)) {
		/* Protocols without ports (GRE, ESP, ...) have none to report. */
		f->sport = f->dport = 0;
	}
	return 0;
}

static void parse_counters(const struct nlattr *a, uint64_t *packets, uint64_t *bytes)
{
	const struct nlattr *tb[CTA_COUNTERS_MAX + 1];
	uint32_t v32;

	if (parse_nest(a, tb, CTA_COUNTERS_MAX))
		return;
	if (!get_be64(tb[CTA_COUNTERS_PACKETS], packets) &&
	    get_be32(tb[CTA_COUNTERS32_PACKETS], &v32))
		*packets = v32;
	if (!get_be64(tb[CTA_COUNTERS_BYTES], bytes) && get_be32(tb[CTA_COUNTERS32_BYTES], &v32))
		*bytes = v32;
}

/* orig: the raw CTA_TUPLE_ORIG, for a delete that names the flow exactly. */
static int flow_parse(const struct nlmsghdr *nlh, struct ct_flow *f, const struct nlattr **orig)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };
	struct attrs t = { tb, CTA_MAX };
	const struct nfgenmsg *nfg;
	const struct nlattr *ts[CTA_TIMESTAMP_MAX + 1];

	memset(f, 0, sizeof(*f));
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg))
		return -EINVAL;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != AF_INET && nfg->nfgen_family != AF_INET6)
		return -EINVAL;
	f->family = nfg->nfgen_family;
	if (mnl_attr_parse(nlh, sizeof(*nfg), collect_cb, &t) == MNL_CB_ERROR)
		return -EINVAL;
	if (parse_tuple(tb[CTA_TUPLE_ORIG], f))
		return -EINVAL;
	parse_counters(tb[CTA_COUNTERS_ORIG], &f->orig_packets, &f->orig_bytes);
	parse_counters(tb[CTA_COUNTERS_REPLY], &f->reply_packets, &f->reply_bytes);
	if (!parse_nest(tb[CTA_TIMESTAMP], ts, CTA_TIMESTAMP_MAX)) {
		get_be64(ts[CTA_TIMESTAMP_START], &f->start_ns);
		get_be64(ts[CTA_TIMESTAMP_STOP], &f->stop_ns);
	}
	get_be32(tb[CTA_ID], &f->id);
	get_be16(tb[CTA_ZONE], &f->zone);
	if (orig)
		*orig = tb[CTA_TUPLE_ORIG];
	return 0;
}

/* mnl_nlmsg_ok() compares the length field as an int (a huge one passes), and
 * libmnl walks attributes up to the aligned end: the padding must be there too
 * (the kernel always sends it). */
static bool msg_ok(const struct nlmsghdr *nlh, size_t len)
{
	return len >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       NLMSG_ALIGN((size_t)nlh->nlmsg_len) <= len;
}

int ct_flow_parse(const void *msg, size_t len, struct ct_flow *f)
{
	const struct nlmsghdr *nlh = msg;

	if (!msg_ok(nlh, len))
		return -EINVAL;
	return flow_parse(nlh, f, NULL);
}

static bool is_client(const struct ct *c, const struct ct_flow *f)
{
	for (size_t i = 0; i < c->n_clients; i++)
		if (prefix_contains(&c->clients[i], f->family, f->src))
			return true;
	return false;
}

/* Sockets. */

int ct_open(const struct ct_config *cfg, struct ct **out)
{
	const struct net_prefix *cl = cfg && cfg->n_clients ? cfg->clients : default_clients;
	size_t ncl = cfg && cfg->n_clients ? cfg->n_clients : 2;
	int rcvbuf = CT_EVENT_RCVBUF, err;
	struct ct *c;

	if (ncl > CT_MAX_CLIENT_RANGES || !cl)
		return -EINVAL;
	for (size_t i = 0; i < ncl; i++)
		if (!prefix_valid(&cl[i]))
			return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	memcpy(c->clients, cl, ncl * sizeof(*cl));
	c->n_clients = ncl;
	c->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	c->seq = (unsigned)time(NULL);
	c->req = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!c->req) {
		err = -errno;
		goto fail_free;
	}
	if (mnl_socket_bind(c->req, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail_req;
	}
	c->portid = mnl_socket_get_portid(c->req);
	c->ev = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!c->ev) {
		err = -errno;
		goto fail_req;
	}
	if (mnl_socket_bind(c->ev, NF_NETLINK_CONNTRACK_DESTROY, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail_ev;
	}
	/* FORCE needs CAP_NET_ADMIN, which the gateway has; else the capped size. */
	if (setsockopt(mnl_socket_get_fd(c->ev), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(mnl_socket_get_fd(c->ev), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	/* The sockets above load conntrack if it was not yet: its sysctls exist now. */
	err = sysctl_swap(sysctl_acct, "1", c->old_acct);
	if (err) {
		log_err("conntrack: cannot turn on %s: %s", sysctl_acct, strerror(-err));
		goto fail_ev;
	}
	c->set_acct = true;
	err = sysctl_swap(sysctl_tstamp, "1", c->old_tstamp);
	if (err) {
		log_err("conntrack: cannot turn on %s: %s", sysctl_tstamp, strerror(-err));
		goto fail_acct;
	}
	c->set_tstamp = true;
	*out = c;
	return 0;

fail_acct:
	sysctl_write(sysctl_acct, c->old_acct);
fail_ev:
	mnl_socket_close(c->ev);
fail_req:
	mnl_socket_close(c->req);
fail_free:
	free(c);
	return err;
}

void ct_close(struct ct *c)
{
	if (!c)
		return;
	if (c->set_tstamp)
		sysctl_write(sysctl_tstamp, c->old_tstamp);
	if (c->set_acct)
		sysctl_write(sysctl_acct, c->old_acct);
	mnl_socket_close(c->ev);
	mnl_socket_close(c->req);
	free(c);
}

int ct_events_fd(const struct ct *c)
{
	return mnl_socket_get_fd(c->ev);
}

uint64_t ct_events_lost(const struct ct *c)
{
	return c->lost;
}

static struct nlmsghdr *ct_msg(struct ct *c, uint8_t type, uint16_t flags, int family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(c->buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++c->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

/* Sends one request and runs the replies through cb until the ACK or the end
 * of the dump. */
static int ct_talk(struct ct *c, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	unsigned seq = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	if (mnl_socket_sendto(c->req, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(c->req, c->buf, sizeof(c->buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(c->buf, (size_t)n, seq, c->portid, cb, arg);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

/* Dumps. */

struct dump_ctx {
	struct ct *c;
	ct_flow_fn *fn;
	void *arg;
	int count;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct ct_flow f;

	if (flow_parse(nlh, &f, NULL) == 0 && is_client(d->c, &f)) {
		d->fn(d->arg, &f);
		d->count++;
	}
	return MNL_CB_OK;
}

int ct_flows_dump(struct ct *c, bool zero, ct_flow_fn *fn, void *arg)
{
	struct dump_ctx d = { c, fn, arg, 0 };
	struct nlmsghdr *nlh;
	int err;

	if (!fn)
		return -EINVAL;
	nlh = ct_msg(c, zero ? IPCTNL_MSG_CT_GET_CTRZERO : IPCTNL_MSG_CT_GET,
		     NLM_F_DUMP | NLM_F_ACK, AF_UNSPEC);
	err = ct_talk(c, nlh, dump_cb, &d);
	return err ? err : d.count;
}

/* Deletes: dump, keep what matches, then delete each by its exact tuple and
 * id (a flow that ended in between is simply gone: -ENOENT, not an error). */

struct victim {
	uint32_t id;
	uint16_t zone;
	uint16_t tuple_len;
	uint8_t tuple[CT_TUPLE_MAX];
};

struct match_ctx {
	int family;
	const uint8_t *client;
	const struct net_prefix *dsts; /* NULL: any destination */
	size_t n_dsts;
	struct victim *v;
	size_t n, cap;
	int err;
};

static bool dst_matches(const struct match_ctx *m, const struct ct_flow *f)
{
	if (!m->dsts)
		return true;
	for (size_t i = 0; i < m->n_dsts; i++)
		if (prefix_contains(&m->dsts[i], f->family, f->dst))
			return true;
	return false;
}

static int match_cb(const struct nlmsghdr *nlh, void *data)
{
	struct match_ctx *m = data;
	const struct nlattr *orig;
	struct ct_flow f;
	uint16_t len;

	if (flow_parse(nlh, &f, &orig) || f.family != m->family ||
	    memcmp(f.src, m->client, prefix_addr_len(f.family)) || !dst_matches(m, &f))
		return MNL_CB_OK;
	len = mnl_attr_get_payload_len(orig);
	if (len > CT_TUPLE_MAX)
		return MNL_CB_OK;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		void *p = reallocarray(m->v, cap, sizeof(*m->v));

		if (!p) {
			m->err = -ENOMEM;
			return MNL_CB_OK;
		}
		m->v = p;
		m->cap = cap;
	}
	m->v[m->n].id = f.id;
	m->v[m->n].zone = f.zone;
	m->v[m->n].tuple_len = len;
	memcpy(m->v[m->n].tuple, mnl_attr_get_payload(orig), len);
	m->n++;
	return MNL_CB_OK;
}

static int delete_matching(struct ct *c, struct match_ctx *m)
{
	int err, deleted = 0;

	err = ct_talk(c, ct_msg(c, IPCTNL_MSG_CT_GET, NLM_F_DUMP | NLM_F_ACK, m->family),
		      match_cb, m);
	if (!err)
		err = m->err;
	for (size_t i = 0; i < m->n && !err; i++) {
		struct nlmsghdr *nlh = ct_msg(c, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, m->family);
		int r;

		mnl_attr_put(nlh, CTA_TUPLE_ORIG | NLA_F_NESTED, m->v[i].tuple_len, m->v[i].tuple);
		mnl_attr_put_u32(nlh, CTA_ID, htobe32(m->v[i].id));
		if (m->v[i].zone)
			mnl_attr_put_u16(nlh, CTA_ZONE, htobe16(m->v[i].zone));
		r = ct_talk(c, nlh, NULL, NULL);
		if (r == 0)
			deleted++;
		else if (r != -ENOENT)
			err = r;
	}
	free(m->v);
	return err ? err : deleted;
}

int ct_delete_set(struct ct *c, int family, const uint8_t *client, const struct net_prefix *dsts,
		  size_t n_dsts)
{
	struct match_ctx m = { .family = family, .client = client, .dsts = dsts,
			       .n_dsts = n_dsts };

	if (!prefix_addr_len(family))
		return -EAFNOSUPPORT;
	if (!client || !dsts)
		return -EINVAL;
	for (size_t i = 0; i < n_dsts; i++)
		if (dsts[i].family != family || !prefix_valid(&dsts[i]))
			return -EINVAL;
	return n_dsts ? delete_matching(c, &m) : 0;
}

int ct_delete(struct ct *c, int family, const uint8_t *client, const uint8_t *dst,
	      uint8_t prefix)
{
	struct match_ctx m = { .family = family, .client = client };
	unsigned alen = prefix_addr_len(family);
	struct net_prefix p = { .family = family, .len = prefix };

	if (!alen)
		return -EAFNOSUPPORT;
	if (!client || prefix > alen * 8)
		return -EINVAL;
	if (dst) {
		/* Bits past the prefix are ignored. */
		for (unsigned i = 0; i < alen; i++) {
			unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;

			p.addr[i] = dst[i] & (bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits));
		}
		m.dsts = &p;
		m.n_dsts = 1;
	}
	return delete_matching(c, &m);
}

/* Events. */

int ct_events_dispatch(struct ct *c, ct_flow_fn *fn, void *arg)
{
	int count = 0;

	if (!fn)
		return -EINVAL;
	for (int reads = 0; reads < CT_DISPATCH_READS; reads++) {
		ssize_t n = recv(mnl_socket_get_fd(c->ev), c->buf, sizeof(c->buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)c->buf;
		int left;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno == ENOBUFS) {
				c->lost++;
				log_rl(&c->rl, LOG_LVL_WARN,
				       "conntrack: event buffer overrun, flow ends lost (%llu times)",
				       (unsigned long long)c->lost);
				continue;
			}
			return -errno;
		}
		left = (int)n;
		for (; left > 0 && msg_ok(nlh, (size_t)left); nlh = mnl_nlmsg_next(nlh, &left)) {
			struct ct_flow f;

			if (NFNL_MSG_TYPE(nlh->nlmsg_type) != IPCTNL_MSG_CT_DELETE ||
			    flow_parse(nlh, &f, NULL) || !is_client(c, &f))
				continue;
			fn(arg, &f);
			count++;
		}
	}
	return count;
}
