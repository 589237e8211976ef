/* The gateway's DNS endpoint: UDP and TCP port 53535 on the gateway's tunnel
 * addresses, for clients with a live authorization, for the names their
 * resources cover (docs/gateway.md "DNS endpoint"; the offer and the answer's
 * rewrite in docs/protocol.md "DNS: the proxy-IP offer option").
 *
 * A query is decided in this order:
 *   - no whole header, or QR set: dropped (rate-limited log);
 *   - a source address that is no client's with a live authorization:
 *     REFUSED (header only if the question cannot be read);
 *   - a question that does not parse: FORMERR (another opcode: NOTIMP),
 *     header only; an EDNS version other than 0: BADVERS; an offer that is
 *     malformed or of an unknown version (offer_find): FORMERR;
 *   - a class other than IN, a zone transfer, or a name no resource of the
 *     client covers: REFUSED;
 *   - otherwise the resolver is asked (resolver.h). Its answer to an A or AAAA
 *     question goes through binding_apply() with the client's offer (none:
 *     an empty one); every other type passes as resolved, with the client's
 *     ID and question, without the resolver's EDNS options, without any A
 *     or AAAA record and without the address hints of SVCB/HTTPS records
 *     (those would be real addresses). A resolver that fails
 *     or times out, or more queries waiting than max_pending: SERVFAIL.
 * When the answer arrives the client is looked up again by its address (it
 * may have been revoked meanwhile: REFUSED), and the name checked again.
 * Every binding the answer made is reported through ops->bound() before the
 * answer leaves; if one fails, the answer is SERVFAIL and that answer's new
 * bindings are forgotten again.
 *
 * Threading: none. Everything, the ops included, runs in the caller's thread,
 * inside dnsep_dispatch() or resolver_dispatch() (answers are sent from the
 * resolver's callbacks), or inside dnsep_query()/dnsep_answer(). */
#ifndef SLUICE_GATEWAY_DNSEP_H
#define SLUICE_GATEWAY_DNSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/msg.h"
#include "dns/offer.h"

enum { DNSEP_PORT = 53535 };

struct resolver;
struct binding_table;

/* The daemon's side, called synchronously in its thread. client handles are
 * opaque here and never kept across a wait for the resolver. */
struct dnsep_ops {
	/* The client whose tunnel address src (4 or 16 bytes by family) is, if
	 * it has a live authorization; else NULL. */
	void *(*client)(void *arg, int family, const uint8_t *src);
	/* Does a live authorized resource of this client cover the name? */
	bool (*covers)(void *arg, void *client, const struct dns_name *qname);
	/* The client's binding table (never NULL for a client). */
	struct binding_table *(*bindings)(void *arg, void *client);
	/* A binding the answer just made (name lowercased; proxy and real of
	 * the family's length): install what the data path needs. 0 or -errno. */
	int (*bound)(void *arg, void *client, const struct dns_name *name, int family,
		     const uint8_t *proxy, const uint8_t *real);
};

struct dnsep_config {
	/* Addresses to listen on (tunnel addresses; port 0: DNSEP_PORT). None:
	 * no sockets, only dnsep_query()/dnsep_answer() (the fuzz target). */
	const struct sockaddr_storage *addrs;
	size_t n_addrs;
	struct resolver *resolver;     /* the caller's; may be NULL without addrs */
	unsigned max_pending;          /* queries waiting for the resolver. 0: 4096 */
	unsigned max_tcp_conns;        /* 0: 256 */
	/* An idle TCP connection is closed. 0: 10000. Shorter while over half
	 * of max_tcp_conns are open; dns/tcpslots.h has the whole policy. */
	unsigned tcp_idle_ms;
};

struct dnsep;

/* 0, -EINVAL, -ENOMEM, or the -errno of a socket that could not be bound. */
int dnsep_new(const struct dnsep_config *cfg, const struct dnsep_ops *ops, void *arg,
	      struct dnsep **out);
/* Cancels what waits for the resolver (sending nothing) and closes it all.
 * Before resolver_free() of its resolver. */
void dnsep_free(struct dnsep *ep);

/* An epoll fd, readable when dnsep_dispatch() has work; the loop also calls
 * dnsep_dispatch() when dnsep_timeout_ms() (-1: none) elapses (TCP idle). */
int dnsep_fd(const struct dnsep *ep);
void dnsep_dispatch(struct dnsep *ep);
int dnsep_timeout_ms(const struct dnsep *ep);

/* ---- the query handling, without sockets ---- */

/* A query that waits for the resolver: all the answer needs of it. */
struct dnsep_req {
	int family;
	uint8_t src[16];
	uint16_t id, flags;         /* the query's */
	struct dns_question q;      /* as the client spelled it */
	bool edns, do_bit;
	size_t limit;               /* the largest answer the asker takes */
	struct offer offer;         /* empty without one */
};

enum dnsep_verdict {
	DNSEP_DROP,                 /* nothing to send */
	DNSEP_REPLY,                /* out holds the answer */
	DNSEP_RESOLVE,              /* ask the resolver for req->q, then dnsep_answer() */
};

/* Decides a query from src (family AF_INET or AF_INET6), received over TCP or
 * UDP. out needs room for a question and an OPT (DNS_HDR_LEN +
 * DNS_NAME_MAX + 4 + 11 bytes). */
enum dnsep_verdict dnsep_query(struct dnsep *ep, int family, const uint8_t *src,
			       const uint8_t *msg, size_t len, bool tcp, struct dnsep_req *req,
			       uint8_t *out, size_t cap, size_t *out_len);
/* The answer to req, from the resolver's err / answer (see resolver_cb).
 * Always an answer (REFUSED, SERVFAIL, ...) unless out is too small for even
 * that: 0 or -EMSGSIZE. */
int dnsep_answer(struct dnsep *ep, const struct dnsep_req *req, int err, const uint8_t *answer,
		 size_t alen, uint8_t *out, size_t cap, size_t *out_len);

struct dnsep_stats {
	uint64_t queries_udp, queries_tcp;
	uint64_t dropped;           /* unreadable */
	uint64_t refused, formerr, servfail;
	uint64_t busy;              /* over max_pending or the resolver's bounds */
	uint64_t bound_failed;
	uint64_t answered;          /* from the resolver, rewritten or passed */
	uint64_t tcp_expired;       /* TCP connections closed idle or mid-query */
	uint64_t tcp_evicted;       /* ... to make room for a new one */
};
void dnsep_get_stats(const struct dnsep *ep, struct dnsep_stats *out);

#endif
