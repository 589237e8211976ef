/* Internals shared by dnsep.c (sockets, waits, the loop) and dnsep_msg.c (the
 * query decision and the answer's rewrite, without sockets). Only those
 * include it. */
#ifndef SLUICE_GATEWAY_DNSEP_PRIV_H
#define SLUICE_GATEWAY_DNSEP_PRIV_H

#include "dns/tcpslots.h"
#include "gateway/dnsep.h"
#include "lib/log.h"

struct sock;
struct conn;
struct wait;
struct udpbatch;

struct dnsep {
	struct dnsep_config cfg;
	struct dnsep_ops ops;
	void *arg;
	int epfd;
	struct sock *socks;
	size_t n_socks;
	struct conn *conns, *dead;
	struct tcpslots slots;         /* the open conns */
	struct wait *waits;
	unsigned n_waits;
	struct udpbatch *out;
	bool in_dispatch;              /* UDP answers wait for the end of it */
	struct dns_msg msg;
	uint8_t *abuf;                 /* DNS_MSG_MAX bytes */
	struct dnsep_stats st;
	struct log_ratelimit rl;
};

/* dnsep_msg.c: an empty reply to req with rcode (counted), into out. */
enum dnsep_verdict dnsep_reply_rcode(struct dnsep *ep, const struct dnsep_req *req,
				     uint16_t rcode, uint8_t *out, size_t cap, size_t *out_len);

#endif
