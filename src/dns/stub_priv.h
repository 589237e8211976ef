/* Internals shared by stub.c (loop, sentinels, routing, replies), stub_fwd.c
 * (forwarding) and stub_tcp.c (TCP). Only those include it. */
#ifndef SLUICE_DNS_STUB_PRIV_H
#define SLUICE_DNS_STUB_PRIV_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/msg.h"
#include "dns/stub.h"
#include "dns/tcpslots.h"
#include "lib/buf.h"
#include "lib/log.h"

/* Every fd in the epoll set is registered with one of these first in its object.
 * An object freed while events for it may still wait in the current epoll batch
 * is buried instead (stub_bury): its kind becomes W_DEAD, so those events are
 * skipped, and the memory goes at the end of the batch. */
enum stub_kind { W_STOP, W_TIMER, W_UDP, W_LISTEN, W_CONN, W_FWD, W_FSOCK, W_EXT, W_DEAD };

struct stub_watch {
	enum stub_kind kind;
	struct stub_watch *dead_next;
};

/* How long one UDP socket to an upstream (one source port) serves new queries:
 * at most FSOCK_USES of them and FSOCK_AGE_MS; it closes when the last answer is
 * in. See stub_fwd.c for why this keeps RFC 5452's protection. */
enum { FSOCK_USES = 64, FSOCK_AGE_MS = 1000 };

struct stub_fsock;

struct stub_sentinel {
	struct stub_watch wu, wl;  /* W_UDP, W_LISTEN */
	struct stub_fsock *fsock;  /* the UDP socket new forwards use, or NULL */
	struct sockaddr_storage addr, upstream;
	struct sockaddr_storage host_upstream; /* the one given at stub_new */
	socklen_t addrlen, uplen;
	int udp_fd, tcp_fd;
};

struct stub_conn;

/* Who asked, and how to answer them. */
struct stub_client {
	struct stub_sentinel *sen;
	struct stub_conn *conn;        /* TCP, or NULL for UDP */
	struct sockaddr_storage addr;  /* UDP */
	socklen_t addrlen;
	uint16_t id;
	uint16_t qflags;               /* the query's RD and CD, echoed */
	bool edns, do_bit;
	size_t limit;                  /* the largest answer the asker takes */
};

/* A UDP socket to an upstream, connected (so the kernel drops datagrams from any
 * other address or port), shared by the forwards in slot[], found by their IDs. */
struct stub_fsock {
	struct stub_watch w;           /* W_FSOCK */
	int fd;
	unsigned uses, inflight;
	bool retired;                  /* takes no new forwards; closes when idle */
	uint64_t born;
	struct stub_fwd *slot[FSOCK_USES];
};

/* A forwarded query in flight. */
struct stub_fwd {
	struct stub_watch w;           /* W_FWD (TCP only: UDP ones wait on their fsock) */
	int fd;                        /* TCP */
	struct stub_fsock *fs;         /* UDP */
	unsigned slot;                 /* in fs */
	bool tcp;                      /* to upstream over TCP */
	bool connected;
	struct stub_client cl;
	struct dns_question q;
	uint16_t new_id;
	uint64_t deadline;
	struct stub_fwd *prev, *next;  /* in deadline order (all share one timeout) */
	struct buf out, in;            /* TCP framing */
};

struct stub_conn {
	struct stub_watch w;           /* W_CONN */
	int fd;
	struct stub_sentinel *sen;
	struct buf in, out;
	unsigned pending;              /* forwards that will answer on it */
	bool closed;                   /* fd gone; freed when pending reaches 0 */
	bool want_out;
	struct tcpslot slot;           /* while open */
	struct stub_conn *prev, *next;
};

struct stub_ext {
	struct stub_watch w;           /* W_EXT */
	struct stub_ext *next;
	void (*cb)(void *arg);
	void *arg;
};

struct proxy_table;
struct res_pending;
struct restable;
struct dns_cache;

struct stub {
	struct stub_config cfg;
	struct stub_sentinel *sen;
	size_t n_sen;
	int ep;
	struct stub_watch w_stop, w_timer;
	int stop_efd, timer_fd;
	bool stopping;
	struct stub_fwd *fwd_head, *fwd_tail;
	unsigned n_fwd;
	struct stub_watch *graveyard;  /* buried objects, freed after the batch */
	uint8_t rnd[256];              /* getrandom output, drawn 2 bytes a query */
	size_t rnd_pos;
	struct stub_conn *conns;       /* open ones, and closed ones still pending */
	struct tcpslots slots;         /* the open ones */
	struct stub_stats stats;
	struct log_ratelimit rl;
	void *udp_buf;                 /* recvmmsg buffers of the sentinels */
	struct stub_ext *ext;
	/* resources (stub_res.c) */
	struct restable *resources;
	struct dns_cache *cache;
	struct proxy_table *proxy;     /* proxy IP <-> name, resource (stub_proxy.c) */
	struct res_pending *res_pending;
	unsigned n_res_pending;
	uint64_t next_token;
	struct dns_msg res_msg;
};

int stub_watch(struct stub *s, int fd, uint32_t events, struct stub_watch *w);
int stub_rewatch(struct stub *s, int fd, uint32_t events, struct stub_watch *w);
/* w must be the first member of a malloc()ed object, whose fd is closed. */
void stub_bury(struct stub *s, struct stub_watch *w);
void stub_graveyard_empty(struct stub *s); /* only where no event batch is pending */
uint16_t stub_rand16(struct stub *s);

/* stub.c */
void stub_handle_query(struct stub *s, struct stub_client *cl, const uint8_t *msg, size_t len);
void stub_reply(struct stub *s, struct stub_client *cl, const uint8_t *msg, size_t len);
void stub_reply_rcode(struct stub *s, struct stub_client *cl, const struct dns_query *q,
		      uint16_t rcode);
/* One recvmmsg from fd: fn gets each datagram (trunc: it was longer than the
 * UDP_QUERY_MAX bytes kept). The buffers are reused by the next call. Returns
 * the count, 0 when nothing waits, or -errno. */
enum { UDP_QUERY_MAX = 4096 };
typedef void (*stub_dgram_fn)(struct stub *s, void *arg, uint8_t *msg, size_t len, bool trunc,
			      const struct sockaddr_storage *from, socklen_t fromlen);
int stub_udp_recv(struct stub *s, int fd, stub_dgram_fn fn, void *arg);
/* Queues a datagram on a connected UDP socket, sent with the batch's answers. */
void stub_udp_queue(struct stub *s, int fd, const uint8_t *msg, size_t len);

/* stub_res.c */
int stub_res_init(struct stub *s);
void stub_res_free(struct stub *s);
/* true if the query was a resource's (answered or under way), false to forward */
bool stub_res_query(struct stub *s, struct stub_client *cl, const uint8_t *msg,
		    const struct dns_query *q);
void stub_res_expire(struct stub *s, uint64_t now);

/* stub_proxy.c */
int stub_proxy_init(struct stub *s);
void stub_proxy_free_all(struct stub *s);
/* 1: newly bound (on_proxy BOUND if notify), 0: bound to that name already
 * (its resource updated), -EEXIST: bound to another name, -ENOMEM. The pool is
 * the caller's business. */
int stub_proxy_bind(struct stub *s, int family, const uint8_t *a, const struct dns_name *name,
		    uint64_t resource_id, bool notify);
bool stub_proxy_bound_to(const struct stub *s, int family, const uint8_t *a,
			 const struct dns_name *name);
/* The name's proxy IPs of family in bind order, at most max, into out (4 or 16
 * bytes each); returns how many. */
unsigned stub_proxy_of_name(const struct stub *s, const struct dns_name *name, int family,
			    uint8_t *out, unsigned max);
/* on_proxy FREED, pool_release and gone, for every proxy IP of resource id. */
void stub_proxy_free_resource(struct stub *s, uint64_t id);
/* The names holding proxy IPs of resource id (a malloc()ed copy, *out NULL if none). */
struct stub_proxy_ref {
	struct dns_name name;
	bool has4, has6;
};
int stub_proxy_names(const struct stub *s, uint64_t id, struct stub_proxy_ref **out,
		     size_t *n_out);

/* stub_fwd.c */
void stub_forward(struct stub *s, struct stub_client *cl, const uint8_t *msg, size_t len,
		  const struct dns_query *q);
void stub_fwd_event(struct stub *s, struct stub_fwd *f, uint32_t events);
void stub_fsock_event(struct stub *s, struct stub_fsock *fs);
/* One datagram read from fs (trunc: cut to UDP_QUERY_MAX); exposed for the fuzzer. */
void stub_fwd_answer(struct stub *s, struct stub_fsock *fs, uint8_t *ans, size_t len, bool trunc);
void stub_fwd_expire(struct stub *s, uint64_t now);
void stub_fwd_free_all(struct stub *s);
/* New forwards of sen leave from a new socket (its upstream changed); the
 * ones in flight finish on theirs. */
void stub_fwd_retire(struct stub *s, struct stub_sentinel *sen);

/* stub_tcp.c */
void stub_tcp_init(struct stub *s); /* before the first listen */
int stub_tcp_listen(struct stub *s, struct stub_sentinel *sen);
void stub_tcp_accept(struct stub *s, struct stub_sentinel *sen);
void stub_conn_event(struct stub *s, struct stub_conn *c, uint32_t events);
void stub_tcp_send(struct stub *s, struct stub_conn *c, const uint8_t *msg, size_t len);
void stub_conn_release(struct stub *s, struct stub_conn *c); /* a forward is done with it */
void stub_conn_expire(struct stub *s, uint64_t now);
void stub_conn_free_all(struct stub *s);

#endif
