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
 * callback (the resolver's send, stub_add_fd's cb) runs in that one thread,
 * callbacks inside stub_run() or stub_dispatch(), which they must not call. */
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
	int (*send)(void *arg, uint64_t token, uint64_t resource_id, const uint8_t *query,
		    size_t len);
	void *arg;
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
int stub_resource_remove(struct stub *s, uint64_t id);
/* The resolver's answer to the query it got with token. */
void stub_resource_answer(struct stub *s, uint64_t token, const uint8_t *msg, size_t len);
/* Which name (lowercased) and resource a proxy IP was handed out for. */
int stub_proxy_lookup(const struct stub *s, int family, const uint8_t *addr,
		      struct dns_name *name, uint64_t *resource_id);
/* Runs cb in the stub's loop whenever fd is readable (for a resolver's socket). */
int stub_add_fd(struct stub *s, int fd, void (*cb)(void *arg), void *arg);

/* Counters, for tests and `sluice status`. */
struct stub_stats {
	uint64_t queries_udp, queries_tcp;
	uint64_t forwarded, answered_local;
	uint64_t formerr, timeouts, spoofed_dropped, truncated;
};
void stub_get_stats(const struct stub *s, struct stub_stats *out);

#endif
