/* DNS-over-TCP connection slots (RFC 7766 section 6.2.3): when a connection
 * holding one of a server's few slots has used it too little and is closed,
 * and which one gives way to a newcomer.
 * Pure bookkeeping, no I/O: the DNS stub (dns/stub_tcp.c) and the gateway's
 * DNS endpoint (gateway/dnsep.c) embed a tcpslot in each connection. Threads:
 * none; the caller's.
 *
 * The policy (docs/security.md "The DNS stub's TCP"):
 *   - a connection is active when it is accepted, when a whole query has
 *     come in, when an answer is queued, and when the first byte of a query
 *     arrives; the other bytes of a query are not activity;
 *   - idle: closed idle_ms after its last activity, or TCPSLOT_IDLE_BUSY_MS
 *     while more than half the slots are taken (unbound's practice);
 *   - a query begun must be whole within TCPSLOT_MSG_MS of its first byte
 *     (Knot's tcp-io-timeout): trickling bytes buys nothing;
 *   - all slots taken: a new connection evicts the one active least recently
 *     rather than being refused, so a burst of stalled connections cannot
 *     lock legitimate clients out;
 *   - a connection with work in flight (an answer it still waits for) is
 *     neither closed nor evicted: the forwarding timeout bounds that. */
#ifndef SLUICE_DNS_TCPSLOTS_H
#define SLUICE_DNS_TCPSLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	/* Knot's tcp-idle-timeout default; long enough for a client to
	 * pipeline a page load's queries on one connection. */
	TCPSLOT_IDLE_MS = 10000,
	/* Over half the slots taken: a legitimate client sends its query
	 * right after connecting or after an answer, within a round trip;
	 * unbound drops to 1% of its configured idle there. One second leaves
	 * room for a lossy tunnel's retransmission. */
	TCPSLOT_IDLE_BUSY_MS = 1000,
	/* A whole query (at most 64 KiB, in practice one segment) within
	 * this of its first byte: two initial TCP retransmission timeouts. */
	TCPSLOT_MSG_MS = 2000,
	TCPSLOT_MAX = 256,           /* slots per server, unless configured */
};

struct tcpslot {
	struct tcpslot *prev, *next; /* least recently active first */
	uint64_t active;             /* ns, CLOCK_MONOTONIC */
	uint64_t msg_start;          /* first byte of the query partly in; 0: none */
};

struct tcpslots {
	struct tcpslot *head, *tail;
	unsigned n, max;
	unsigned idle_ms;
	/* Work in flight on s: it is neither expired nor evicted. */
	bool (*busy)(const struct tcpslot *s);
};

/* max 0: TCPSLOT_MAX; idle_ms 0: TCPSLOT_IDLE_MS. */
void tcpslots_init(struct tcpslots *t, unsigned max, unsigned idle_ms,
		   bool (*busy)(const struct tcpslot *s));
bool tcpslots_full(const struct tcpslots *t);
/* The connection to close to make room for a new one (it is not removed:
 * closing it does that), or NULL if every one is busy. */
struct tcpslot *tcpslots_victim(const struct tcpslots *t);
void tcpslots_add(struct tcpslots *t, struct tcpslot *s, uint64_t now);
void tcpslots_remove(struct tcpslots *t, struct tcpslot *s);
/* After a read's bytes were buffered and its whole queries taken out: took,
 * how many were taken; left, the bytes of the next one already in. */
void tcpslots_read(struct tcpslots *t, struct tcpslot *s, uint64_t now, unsigned took,
		   size_t left);
void tcpslots_sent(struct tcpslots *t, struct tcpslot *s, uint64_t now);
/* When s is to be closed, as things stand (the allowance depends on t->n). */
uint64_t tcpslots_deadline(const struct tcpslots *t, const struct tcpslot *s);
/* Calls fn for every slot past its deadline and not busy; fn must close it
 * (tcpslots_remove) and may not touch other slots. */
void tcpslots_expire(struct tcpslots *t, uint64_t now, void (*fn)(void *arg, struct tcpslot *s),
		     void *arg);
/* The earliest deadline of a slot that is not busy; UINT64_MAX if none. */
uint64_t tcpslots_next(const struct tcpslots *t);

#endif
