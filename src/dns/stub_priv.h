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
#include "lib/buf.h"
#include "lib/log.h"

/* Every fd in the epoll set is registered with one of these first in its object. */
enum stub_kind { W_STOP, W_TIMER, W_UDP, W_LISTEN, W_CONN, W_FWD, W_EXT };

struct stub_watch {
	enum stub_kind kind;
};

struct stub_sentinel {
	struct stub_watch wu, wl;  /* W_UDP, W_LISTEN */
	struct sockaddr_storage addr, upstream;
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
	bool edns, do_bit;
	size_t limit;                  /* the largest answer the asker takes */
};

/* A forwarded query in flight. */
struct stub_fwd {
	struct stub_watch w;           /* W_FWD */
	int fd;
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
	uint64_t idle_deadline;
	struct stub_conn *prev, *next;
};

struct stub_ext {
	struct stub_watch w;           /* W_EXT */
	struct stub_ext *next;
	void (*cb)(void *arg);
	void *arg;
};

struct proxy_entry;
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
	struct stub_conn *conns;
	unsigned n_conns;
	struct stub_stats stats;
	struct log_ratelimit rl;
	void *udp_buf;                 /* recvmmsg buffers of the sentinels */
	struct stub_ext *ext;
	/* resources (stub_res.c) */
	struct restable *resources;
	struct dns_cache *cache;
	struct proxy_entry **proxy;    /* proxy IP -> name, resource */
	struct res_pending *res_pending;
	unsigned n_res_pending;
	uint64_t next_token;
	struct dns_msg res_msg;
};

int stub_watch(struct stub *s, int fd, uint32_t events, struct stub_watch *w);
int stub_rewatch(struct stub *s, int fd, uint32_t events, struct stub_watch *w);

/* stub.c */
void stub_handle_query(struct stub *s, struct stub_client *cl, const uint8_t *msg, size_t len);
void stub_reply(struct stub *s, struct stub_client *cl, const uint8_t *msg, size_t len);
void stub_reply_rcode(struct stub *s, struct stub_client *cl, const struct dns_query *q,
		      uint16_t rcode);

/* stub_res.c */
int stub_res_init(struct stub *s);
void stub_res_free(struct stub *s);
/* true if the query was a resource's (answered or under way), false to forward */
bool stub_res_query(struct stub *s, struct stub_client *cl, const uint8_t *msg,
		    const struct dns_query *q);
void stub_res_expire(struct stub *s, uint64_t now);

/* stub_fwd.c */
void stub_forward(struct stub *s, struct stub_client *cl, const uint8_t *msg, size_t len,
		  const struct dns_query *q);
void stub_fwd_event(struct stub *s, struct stub_fwd *f, uint32_t events);
void stub_fwd_expire(struct stub *s, uint64_t now);
void stub_fwd_free_all(struct stub *s);

/* stub_tcp.c */
int stub_tcp_listen(struct stub *s, struct stub_sentinel *sen);
void stub_tcp_accept(struct stub *s, struct stub_sentinel *sen);
void stub_conn_event(struct stub *s, struct stub_conn *c, uint32_t events);
void stub_tcp_send(struct stub *s, struct stub_conn *c, const uint8_t *msg, size_t len);
void stub_conn_release(struct stub *s, struct stub_conn *c); /* a forward is done with it */
void stub_conn_expire(struct stub *s, uint64_t now);
void stub_conn_free_all(struct stub *s);

#endif
