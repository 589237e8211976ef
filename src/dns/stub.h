/* The stub resolver: listens on the sentinel addresses (UDP and TCP port 53),
 * answers what is sluice's to answer, and forwards everything else, unchanged,
 * to the upstream behind the sentinel the query arrived on.
 *
 * Forwarding follows RFC 5452: each UDP query leaves from a random source port
 * (a socket serves at most 64 queries within 1 s; see stub_fwd.c) with a
 * random ID, distinct among those in flight on its socket, and an answer counts
 * only if it comes from that upstream's address and port (connected), carries that
 * ID and the same question; anything else is dropped and the wait goes on. A
 * UDP query that times out gets no answer (the application retries as it would
 * without sluice); a TCP one gets SERVFAIL. Answers longer than the asker takes
 * over UDP go back truncated with TC; over TCP they go back whole.
 *
 * The stub runs in the caller's thread: either its own loop (stub_run), or
 * passes driven from the caller's loop: whenever stub_fd() is readable, call
 * stub_dispatch(). Its timers (forwarding and TCP timeouts, cache expiry) are
 * a timerfd inside that epoll set: no timeout to keep besides the fd.
 * Threads and locks: none; every function here (but stub_stop) and every
 * callback (the resolver's send and cancel, on_proxy, stub_add_fd's cb) runs in
 * that one thread, callbacks inside stub_run(), stub_dispatch() or the stub_*
 * call that triggered them. No callback may call stub_run, stub_dispatch or
 * stub_free; cancel, on_proxy and stub_proxy_walk's fn may only read
 * (stub_proxy_lookup, stub_get_stats); send and stub_add_fd's cb may also call
 * stub_resource_answer and stub_resource_fail (even for the token being sent).
 *
 * Resource names and proxy IPs (docs/dns.md, "Proxy IPs"): an A/AAAA query for a
 * resource name goes to the resolver with an offer of proxy IPs: the name's
 * proxy IPs of that family first, in the order they were bound, then fresh ones
 * from the pool, offer_size in all. The answer keeps only A/AAAA records whose
 * address is bound to the name (offered and used now, or before): whatever the
 * resolver answers, it cannot make the client route other traffic. */
#ifndef SLUICE_DNS_STUB_H
#define SLUICE_DNS_STUB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct stub;
struct pool;
struct dns_name;

/* Where queries for resource names go: the gateway, through the tunnel. The
 * query carries the client's offer of proxy IPs in its OPT record; the answer
 * must come back through stub_resource_answer() with the same token. */
struct stub_resolver {
	/* 0: the answer (or stub_resource_fail) will come with token; < 0: the
	 * stub answers SERVFAIL itself (no cancel follows). */
	int (*send)(void *arg, uint64_t token, uint64_t resource_id, const uint8_t *query,
		    size_t len);
	/* Optional. The stub gave up on token (its timeout, stub_resource_remove,
	 * stub_free): no answer for it will be taken, so the resolver forgets it.
	 * Called exactly once per such token; never for a token answered or failed
	 * (stub_resource_answer, stub_resource_fail), nor for one whose send()
	 * returned < 0. */
	void (*cancel)(void *arg, uint64_t token);
	void *arg;
};

/* A proxy IP bound to a name (the gateway used it in an answer) or freed (its
 * resource was removed). */
enum stub_proxy_event { STUB_PROXY_BOUND = 1, STUB_PROXY_FREED = 2 };
struct stub_proxy {
	int family;                   /* AF_INET, AF_INET6 */
	uint8_t addr[16];             /* network order; AF_INET fills 4 */
	const struct dns_name *name;  /* lowercased; valid during the call */
	uint64_t resource_id;
};

struct stub_config {
	/* sentinels[i] (port 53 unless set) stands for upstreams[i]. */
	const struct sockaddr_storage *sentinels;
	const struct sockaddr_storage *upstreams;
	size_t n;
	unsigned timeout_ms;      /* forwarding timeout; 0: 5000 */
	unsigned max_pending;     /* forwarded queries in flight; 0: 4096 */
	unsigned max_tcp_conns;   /* per stub; 0: 256 */
	/* Resources (optional: without them every query is forwarded). */
	const struct stub_resolver *resolver;
	struct pool *pool;        /* proxy IPs; the caller's */
	unsigned offer_size;      /* addresses offered per A/AAAA query; 0: 8 */
	unsigned max_ttl;         /* seconds an answer may be kept; 0: 86400 */
	size_t cache_max;         /* cached answers; 0: 10000 */
	/* Optional. BOUND: from stub_resource_answer(), for each proxy IP newly
	 * bound to the query's name, before any asker is answered (so the daemon
	 * routes it before the application can connect); not for one bound to that
	 * name already, nor for stub_proxy_restore. FREED: from
	 * stub_resource_remove(), for each proxy IP of the resource, before it goes
	 * back to the pool. */
	void (*on_proxy)(void *arg, enum stub_proxy_event ev, const struct stub_proxy *p);
	void *proxy_arg;
};

int stub_new(const struct stub_config *cfg, struct stub **out);
/* Serves until stub_stop(). 0 or -errno. */
int stub_run(struct stub *s);
/* The stub's epoll set: readable when a pass has work. Poll it level-triggered
 * (EPOLLIN); never read or close it. */
int stub_fd(const struct stub *s);
/* One pass, never blocking: handles what is ready (queries, answers, timers)
 * and sends what it queued. 0; 1 once stub_stop() was called (the owner's loop
 * may end); -errno. */
int stub_dispatch(struct stub *s);
/* Async-signal-safe. Ends stub_run(); stub_dispatch() returns 1 from then on. */
void stub_stop(struct stub *s);
void stub_free(struct stub *s);

/* Resources, by id: a DNS pattern (docs/dns.md, dns/pattern.h). Adding or
 * changing one takes effect for the next query; removing one forgets its cached
 * answers. Call from the stub's thread (or before stub_run). */
int stub_resource_set(struct stub *s, uint64_t id, const char *pattern, char *err,
		      size_t errlen);
/* Also frees the resource's proxy IPs (on_proxy FREED for each, then
 * pool_release: they may be handed out again, to other names) and fails its
 * queries in flight: SERVFAIL to every asker, the resolver's cancel for each.
 * 0, or -ENOENT if no resource had that id (its proxy IPs are freed all the same). */
int stub_resource_remove(struct stub *s, uint64_t id);
/* Authorization revoked or expired: forgets the resource's cached answers (the
 * next query goes to the resolver again); its proxy IPs stay bound to their
 * names. */
void stub_resource_flush(struct stub *s, uint64_t id);
/* Re-offer (failover to another gateway, or after a restart): for each name
 * holding proxy IPs of resource id, sends the resolver a query (A if the name
 * holds IPv4 proxy IPs, AAAA if IPv6; both if both) whose offer lists that
 * name's proxy IPs first, so the new gateway binds the same ones again. Nobody
 * waits on these (an asker of the same question joins one); their answers are
 * taken like any other (bindings, cache). Returns how many queries were sent
 * (0: no such name), or -errno if none could be and one failed: -EINVAL (no
 * resolver or pool), -ENOBUFS (max_pending in flight), -ENOMEM, or send()'s. */
int stub_resource_refresh(struct stub *s, uint64_t id);
/* The resolver's answer to the query it got with token. */
void stub_resource_answer(struct stub *s, uint64_t token, const uint8_t *msg, size_t len);
/* Answers every asker waiting on token at once with rcode (DNS_RCODE_REFUSED:
 * access denied; DNS_RCODE_SERVFAIL: no gateway), over UDP and TCP alike; its
 * fresh offer goes back to the pool; the resolver's cancel is NOT called (the
 * resolver asked for it). Unknown token: no-op. */
void stub_resource_fail(struct stub *s, uint64_t token, uint16_t rcode);
/* Which name (lowercased) and resource a proxy IP is bound to. 0 or -ENOENT. */
int stub_proxy_lookup(const struct stub *s, int family, const uint8_t *addr,
		      struct dns_name *name, uint64_t *resource_id);
/* A binding from an earlier run (the client's state file), given before or
 * after the resource is set: the address (inside the pool's range) is taken
 * out of the pool for good (pool_restore) and maps to name (text, any case,
 * optional trailing dot) and resource_id again: PTR, stub_proxy_lookup, the
 * offer preference. on_proxy is not called. Restoring an address bound to the
 * same name again only updates its resource. 0; -EEXIST (bound to another
 * name), -EINVAL (no pool, not inside the pool's ranges, or a bad name),
 * -EBUSY (on offer in a query in flight), -ENOMEM. */
int stub_proxy_restore(struct stub *s, int family, const uint8_t *addr, const char *name,
		       uint64_t resource_id);
/* Every bound proxy IP, in no particular order; fn returns nonzero to stop
 * (that value is returned; 0 once all were seen). */
int stub_proxy_walk(const struct stub *s, int (*fn)(void *arg, const struct stub_proxy *p),
		    void *arg);
/* The admin's nameservers (the portal's dns settings) instead of the host's:
 * sentinel i forwards to up[i % n] from now on; n == 0 goes back to the
 * upstreams given at stub_new. Queries in flight finish with the upstream
 * they went to. 0 or -EAFNOSUPPORT (nothing changed). */
int stub_upstreams_set(struct stub *s, const struct sockaddr_storage *up, size_t n);
/* Runs cb in the stub's loop whenever fd is readable (for a resolver's socket). */
int stub_add_fd(struct stub *s, int fd, void (*cb)(void *arg), void *arg);

/* Counters, for tests and `sluice status`. */
struct stub_stats {
	uint64_t queries_udp, queries_tcp;
	uint64_t forwarded, answered_local;
	uint64_t formerr, timeouts, spoofed_dropped, truncated;
	uint64_t resource_queries; /* sent to the resolver (send() returned 0) */
	uint64_t resource_failed;  /* stub_resource_fail */
	uint64_t proxies;          /* proxy IPs bound now */
	uint64_t tcp_expired;      /* TCP connections closed idle or mid-query */
	uint64_t tcp_evicted;      /* ... to make room for a new one */
};
void stub_get_stats(const struct stub *s, struct stub_stats *out);

#endif
