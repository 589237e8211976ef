/* dns/stub's seams for the client daemon, with the stub in an owner's loop and
 * real sockets on 127.0.0.1; the resolver is the test (it keeps the tunnelled
 * queries and answers as a gateway would, or as a hostile one would): the
 * answer filter against a hostile resolver, the offer preference and refresh,
 * restored bindings, remove (FREED, cancel, pool_release), fail, and cancel on
 * a timeout and at stub_free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stub_res_test.h"

static struct dns_msg reply_msg;

static void set_resource(struct harness *h, uint64_t id, const char *pattern)
{
	char err[128];

	assert_int_equal(stub_resource_set(h->stub, id, pattern, err, sizeof(err)), 0);
}

static void assert_reply(struct harness *h, int fd, bool tcp, uint16_t id, unsigned rcode,
			 const char *addrs)
{
	char got[512];

	h_reply(h, fd, tcp, &reply_msg);
	assert_int_equal(reply_msg.id, id);
	assert_int_equal(reply_msg.flags & DNS_F_RCODE_MASK, rcode);
	h_addrs(&reply_msg, got, sizeof(got));
	assert_string_equal(got, addrs);
}

static void assert_lookup(struct harness *h, const char *addr, const char *want)
{
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16];
	struct dns_name n;
	char text[DNS_NAME_TEXT_MAX];
	int r;

	assert_int_equal(inet_pton(family, addr, a), 1);
	r = stub_proxy_lookup(h->stub, family, a, &n, NULL);
	if (!want) {
		if (r != -ENOENT)
			fail_msg("%s is bound", addr);
		return;
	}
	assert_int_equal(r, 0);
	assert_true(dns_name_to_text(&n, text, sizeof(text)) > 0);
	assert_string_equal(text, want);
}

static void assert_event(const struct harness *h, unsigned i, enum stub_proxy_event ev,
			 const char *addr, const char *name, uint64_t rid)
{
	const struct proxy_event *e = &h->events[i];
	char a[INET6_ADDRSTRLEN];

	assert_true(i < h->n_events);
	assert_int_equal(e->ev, ev);
	assert_string_equal(ntop(e->family, e->addr, a), addr);
	assert_string_equal(e->name, name);
	assert_int_equal(e->resource_id, rid);
}

static const struct sent_query *sent_of_type(const struct harness *h, unsigned from,
					     uint16_t type)
{
	for (unsigned i = from; i < h->n_sent; i++)
		if (h->sent[i].q.q.type == type)
			return &h->sent[i];
	fail_msg("no query of type %u sent", type);
	return NULL;
}

/* The resolver answers with addresses it was not offered: a real-looking one, a
 * proxy IP bound to another name, one outside the proxy range, one inside it
 * but not offered. The asker gets only what was offered and used; on_proxy and
 * the proxy table know nothing of the rest. */
static void test_hostile_resolver(void **state)
{
	struct harness h;
	char b_ip[INET6_ADDRSTRLEN], a0[INET6_ADDRSTRLEN], v6_0[INET6_ADDRSTRLEN];
	uint64_t avail4;
	int fd;

	(void)state;
	h_setup(&h, 10000, 4);
	set_resource(&h, 1, "*.corp.test");
	avail4 = pool_available(h.pool, AF_INET);

	fd = h_ask_udp(&h, 0x101, "b.corp.test", DNS_T_A);
	h_wait_sent(&h, 1);
	offer_at(&h.sent[0].offer, AF_INET, 0, b_ip);
	assert_string_equal(b_ip, "100.96.0.1");
	h_give(&h, &h.sent[0], (const char *const[]){ b_ip, "" });
	assert_reply(&h, fd, false, 0x101, DNS_RCODE_NOERROR, "100.96.0.1");
	assert_int_equal(h.n_events, 1);
	assert_event(&h, 0, STUB_PROXY_BOUND, "100.96.0.1", "b.corp.test", 1);
	assert_int_equal(h.events[0].answered_before, 0);

	fd = h_ask_udp(&h, 0x102, "a.corp.test", DNS_T_A);
	h_wait_sent(&h, 2);
	assert_int_equal(h.sent[1].offer.n4, 4);
	offer_at(&h.sent[1].offer, AF_INET, 0, a0);
	h_give(&h, &h.sent[1], (const char *const[]){ "203.0.113.7", b_ip, a0, "100.95.255.1",
						       "100.96.200.1", "198.51.100.9", "" });
	assert_reply(&h, fd, false, 0x102, DNS_RCODE_NOERROR, a0);
	assert_int_equal(h.n_events, 2);
	assert_event(&h, 1, STUB_PROXY_BOUND, a0, "a.corp.test", 1);
	assert_int_equal(h.events[1].answered_before, 0);
	assert_lookup(&h, "203.0.113.7", NULL);
	assert_lookup(&h, "100.95.255.1", NULL);
	assert_lookup(&h, "100.96.200.1", NULL);
	assert_lookup(&h, "198.51.100.9", NULL);
	assert_lookup(&h, b_ip, "b.corp.test");
	assert_lookup(&h, a0, "a.corp.test");

	/* the cached answer is the filtered one */
	fd = h_ask_udp(&h, 0x103, "A.corp.test", DNS_T_A);
	assert_reply(&h, fd, false, 0x103, DNS_RCODE_NOERROR, a0);
	assert_int_equal(h.n_sent, 2);

	/* AAAA over TCP: an address of the range not offered, a foreign one, and
	 * another name's IPv4 proxy IP; the one offered and used stays */
	fd = h_ask_tcp(&h, 0x104, "a.corp.test", DNS_T_AAAA);
	h_wait_sent(&h, 3);
	offer_at(&h.sent[2].offer, AF_INET6, 0, v6_0);
	h_give(&h, &h.sent[2], (const char *const[]){ "fd00:2021:1111:8000::99", "2001:db8::1",
						       b_ip, "fd00:2021:1111:8000:100:100:111:1",
						       v6_0, "" });
	assert_reply(&h, fd, true, 0x104, DNS_RCODE_NOERROR, v6_0);
	assert_int_equal(h.n_events, 3);
	assert_event(&h, 2, STUB_PROXY_BOUND, v6_0, "a.corp.test", 1);
	assert_lookup(&h, "fd00:2021:1111:8000::99", NULL);
	assert_lookup(&h, "2001:db8::1", NULL);
	assert_lookup(&h, b_ip, "b.corp.test");

	/* what was offered and not used went back */
	assert_int_equal(pool_available(h.pool, AF_INET), avail4 - 2);
	h_teardown(&h);
}

/* A name's bound proxy IPs lead its next offers, in the order they were bound;
 * refresh re-offers them for every name of the resource. */
static void test_offer_preference_refresh(void **state)
{
	struct harness h;
	const struct sent_query *sq;
	struct stub_stats st;
	char a[INET6_ADDRSTRLEN];
	uint64_t avail4;
	int fd;

	(void)state;
	h_setup(&h, 10000, 4);
	set_resource(&h, 1, "*.corp.test");
	set_resource(&h, 2, "*.other.test");
	avail4 = pool_available(h.pool, AF_INET);

	fd = h_ask_udp(&h, 1, "x.corp.test", DNS_T_A);
	h_wait_sent(&h, 1);
	/* the gateway uses .3 and .1 of .1-.4, in its order */
	h_give(&h, &h.sent[0], (const char *const[]){ "100.96.0.3", "100.96.0.1", "" });
	assert_reply(&h, fd, false, 1, DNS_RCODE_NOERROR, "100.96.0.3 100.96.0.1");
	assert_int_equal(h.n_events, 2);

	/* after a flush the query goes out again: bound ones first (.1 bound
	 * first: it leads the offer), then .2 and .4 as returned */
	stub_resource_flush(h.stub, 1);
	fd = h_ask_udp(&h, 2, "X.CORP.TEST", DNS_T_A);
	h_wait_sent(&h, 2);
	sq = &h.sent[1];
	assert_int_equal(sq->offer.n4, 4);
	assert_int_equal(sq->offer.n6, 0);
	assert_string_equal(offer_at(&sq->offer, AF_INET, 0, a), "100.96.0.1");
	assert_string_equal(offer_at(&sq->offer, AF_INET, 1, a), "100.96.0.3");
	assert_string_equal(offer_at(&sq->offer, AF_INET, 2, a), "100.96.0.2");
	assert_string_equal(offer_at(&sq->offer, AF_INET, 3, a), "100.96.0.4");
	h_give(&h, sq, (const char *const[]){ "100.96.0.3", "" });
	assert_reply(&h, fd, false, 2, DNS_RCODE_NOERROR, "100.96.0.3");
	assert_int_equal(h.n_events, 2); /* bound already: no event */
	assert_lookup(&h, "100.96.0.1", "x.corp.test"); /* kept for good */

	fd = h_ask_udp(&h, 3, "y.corp.test", DNS_T_AAAA);
	h_wait_sent(&h, 3);
	h_give(&h, &h.sent[2], (const char *const[]){ "fd00:2021:1111:8000::2", "" });
	assert_reply(&h, fd, false, 3, DNS_RCODE_NOERROR, "fd00:2021:1111:8000::2");
	fd = h_ask_udp(&h, 4, "z.other.test", DNS_T_A);
	h_wait_sent(&h, 4);
	h_give(&h, &h.sent[3], (const char *const[]){ "100.96.0.2", "" });
	assert_reply(&h, fd, false, 4, DNS_RCODE_NOERROR, "100.96.0.2");
	assert_int_equal(h.n_events, 4);

	/* failover: resource 1 again, x's A and y's AAAA, nothing of resource 2 */
	assert_int_equal(stub_resource_refresh(h.stub, 1), 2);
	assert_int_equal(h.n_sent, 6);
	sq = sent_of_type(&h, 4, DNS_T_A);
	assert_int_equal(sq->resource_id, 1);
	assert_int_equal(sq->offer.n4, 4);
	assert_string_equal(offer_at(&sq->offer, AF_INET, 0, a), "100.96.0.1");
	assert_string_equal(offer_at(&sq->offer, AF_INET, 1, a), "100.96.0.3");
	assert_string_equal(offer_at(&sq->offer, AF_INET, 2, a), "100.96.0.4");
	assert_string_equal(offer_at(&sq->offer, AF_INET, 3, a), "100.96.0.5");
	/* the new gateway binds them again: nobody waits, nothing is new */
	h_give(&h, sq, (const char *const[]){ "100.96.0.1", "100.96.0.3", "" });
	sq = sent_of_type(&h, 4, DNS_T_AAAA);
	assert_int_equal(sq->offer.n6, 4);
	assert_string_equal(offer_at(&sq->offer, AF_INET6, 0, a), "fd00:2021:1111:8000::2");
	h_give(&h, sq, (const char *const[]){ "fd00:2021:1111:8000::2", "" });
	assert_int_equal(h.n_events, 4);

	/* the refresh answer is in the cache: no query goes out */
	fd = h_ask_udp(&h, 5, "x.corp.test", DNS_T_A);
	assert_reply(&h, fd, false, 5, DNS_RCODE_NOERROR, "100.96.0.1 100.96.0.3");
	assert_int_equal(h.n_sent, 6);

	assert_int_equal(stub_resource_refresh(h.stub, 3), 0);
	/* a refresh the resolver cannot take */
	h.send_result = -ENETUNREACH;
	assert_int_equal(stub_resource_refresh(h.stub, 2), -ENETUNREACH);
	h.send_result = 0;
	stub_get_stats(h.stub, &st);
	assert_int_equal(st.resource_queries, 6);
	assert_int_equal(st.proxies, 4);
	assert_int_equal(pool_available(h.pool, AF_INET), avail4 - 3);
	assert_int_equal(h.n_cancel, 0);
	h_teardown(&h);
}

static int count_walk(void *arg, const struct stub_proxy *p)
{
	unsigned *n = arg;
	struct dns_name z;

	assert_int_equal(dns_name_from_text(&z, "z.corp.test"), 0);
	assert_true(dns_name_equal(p->name, &z));
	assert_memory_equal(p->name->data, z.data, z.len); /* lowercased */
	assert_int_equal(p->resource_id, 7);
	return ++*n == 99 ? 5 : 0;
}

static int stop_walk(void *arg, const struct stub_proxy *p)
{
	(void)arg;
	(void)p;
	return 42;
}

/* A binding from an earlier run: out of the pool, PTR, lookup, offered first. */
static void test_restore(void **state)
{
	struct harness h;
	struct dns_name want;
	struct stub_stats st;
	uint8_t a[16], a6[16];
	char t[INET6_ADDRSTRLEN];
	uint64_t id = 0;
	unsigned n = 0;
	int fd;

	(void)state;
	h_setup(&h, 10000, 4);
	assert_int_equal(inet_pton(AF_INET, "100.96.5.5", a), 1);
	assert_int_equal(inet_pton(AF_INET6, "fd00:2021:1111:8000::50", a6), 1);
	/* before the resource is set */
	assert_int_equal(stub_proxy_restore(h.stub, AF_INET, a, "Z.Corp.Test.", 7), 0);
	assert_int_equal(stub_proxy_restore(h.stub, AF_INET, a, "other.corp.test", 7), -EEXIST);
	assert_int_equal(stub_proxy_restore(h.stub, AF_INET, a, "z.corp.test", 7), 0);
	assert_int_equal(stub_proxy_restore(h.stub, AF_INET6, a6, "z.corp.test", 7), 0);
	assert_int_equal(inet_pton(AF_INET, "203.0.113.1", t), 1);
	assert_int_equal(stub_proxy_restore(h.stub, AF_INET, (uint8_t *)t, "z.corp.test", 7),
			 -EINVAL);
	assert_int_equal(inet_pton(AF_INET, "100.100.111.5", t), 1); /* the sentinels */
	assert_int_equal(stub_proxy_restore(h.stub, AF_INET, (uint8_t *)t, "z.corp.test", 7),
			 -EINVAL);
	assert_int_equal(inet_pton(AF_INET, "100.96.5.6", t), 1);
	assert_int_equal(stub_proxy_restore(h.stub, AF_INET, (uint8_t *)t, "", 7), -EINVAL);
	assert_int_equal(stub_proxy_restore(h.stub, AF_INET, (uint8_t *)t, "a..b", 7), -EINVAL);
	assert_int_equal(stub_proxy_restore(h.stub, AF_UNIX, (uint8_t *)t, "a.b", 7), -EINVAL);
	assert_int_equal(pool_restore(h.pool, AF_INET, a), -EALREADY);
	assert_int_equal(pool_restore(h.pool, AF_INET, t), 0); /* .6 was not taken */
	stub_get_stats(h.stub, &st);
	assert_int_equal(st.proxies, 2);
	assert_int_equal(h.n_events, 0);
	assert_int_equal(stub_proxy_lookup(h.stub, AF_INET, a, NULL, &id), 0);
	assert_int_equal(id, 7);

	set_resource(&h, 7, "*.corp.test");
	/* PTR for the restored address */
	fd = h_ask_udp(&h, 9, "5.5.96.100.in-addr.arpa", DNS_T_PTR);
	h_reply(&h, fd, false, &reply_msg);
	assert_int_equal(reply_msg.flags & DNS_F_RCODE_MASK, DNS_RCODE_NOERROR);
	assert_int_equal(reply_msg.count[0], 1);
	assert_int_equal(reply_msg.rr[0].type, DNS_T_PTR);
	assert_int_equal(dns_name_from_text(&want, "z.corp.test"), 0);
	assert_int_equal(reply_msg.rr[0].rdlen, want.len);
	assert_memory_equal(reply_msg.rr[0].rdata, want.data, want.len);

	/* the restored address leads the offer; fresh ones follow */
	fd = h_ask_udp(&h, 10, "z.corp.test", DNS_T_A);
	h_wait_sent(&h, 1);
	assert_int_equal(h.sent[0].offer.n4, 4);
	assert_string_equal(offer_at(&h.sent[0].offer, AF_INET, 0, t), "100.96.5.5");
	assert_string_equal(offer_at(&h.sent[0].offer, AF_INET, 1, t), "100.96.0.1");
	h_give(&h, &h.sent[0], (const char *const[]){ "100.96.5.5", "" });
	assert_reply(&h, fd, false, 10, DNS_RCODE_NOERROR, "100.96.5.5");
	assert_int_equal(h.n_events, 0);
	fd = h_ask_udp(&h, 11, "z.corp.test", DNS_T_AAAA);
	h_wait_sent(&h, 2);
	assert_string_equal(offer_at(&h.sent[1].offer, AF_INET6, 0, t), "fd00:2021:1111:8000::50");
	assert_string_equal(offer_at(&h.sent[1].offer, AF_INET6, 1, t), "fd00:2021:1111:8000::1");

	assert_int_equal(stub_proxy_walk(h.stub, count_walk, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(stub_proxy_walk(h.stub, stop_walk, NULL), 42);
	h_teardown(&h);
}

/* Removing a resource: FREED for each of its proxy IPs, its query in flight
 * failed (SERVFAIL over UDP and TCP, cancel once), its addresses back in the
 * pool after the returned ones; another resource's stay. */
static void test_remove(void **state)
{
	struct harness h;
	struct stub_stats st;
	uint8_t got[8][16], got4[8][4];
	char t[INET6_ADDRSTRLEN];
	unsigned tcp_n = 1;
	uint64_t token;
	int fd, fd2;

	(void)state;
	h_setup(&h, 10000, 2);
	set_resource(&h, 1, "*.corp.test");
	set_resource(&h, 2, "*.other.test");
	fd = h_ask_udp(&h, 1, "a.corp.test", DNS_T_A);
	h_wait_sent(&h, 1);
	h_give(&h, &h.sent[0], (const char *const[]){ "100.96.0.1", "100.96.0.2", "" });
	assert_reply(&h, fd, false, 1, DNS_RCODE_NOERROR, "100.96.0.1 100.96.0.2");
	fd = h_ask_udp(&h, 2, "b.corp.test", DNS_T_AAAA);
	h_wait_sent(&h, 2);
	h_give(&h, &h.sent[1], (const char *const[]){ "fd00:2021:1111:8000::1", "" });
	assert_reply(&h, fd, false, 2, DNS_RCODE_NOERROR, "fd00:2021:1111:8000::1");
	fd = h_ask_udp(&h, 3, "c.other.test", DNS_T_A);
	h_wait_sent(&h, 3);
	h_give(&h, &h.sent[2], (const char *const[]){ "100.96.0.3", "" });
	assert_reply(&h, fd, false, 3, DNS_RCODE_NOERROR, "100.96.0.3");
	assert_int_equal(h.n_events, 4);

	/* in flight: a UDP asker and a TCP one sharing one round trip (.4, .5) */
	fd = h_ask_udp(&h, 4, "d.corp.test", DNS_T_A);
	h_wait_sent(&h, 4);
	token = h.sent[3].token;
	fd2 = h_ask_tcp(&h, 5, "d.corp.test", DNS_T_A);
	h_turn(&h, tcp_queries_reach, &tcp_n);
	assert_int_equal(h.n_sent, 4);

	assert_int_equal(stub_resource_remove(h.stub, 1), 0);
	assert_int_equal(h.n_cancel, 1);
	assert_int_equal(h.cancelled[0], token);
	assert_int_equal(h.n_events, 7);
	/* FREED in table order: check the set */
	for (unsigned i = 4; i < 7; i++) {
		const struct proxy_event *e = &h.events[i];

		assert_int_equal(e->ev, STUB_PROXY_FREED);
		assert_int_equal(e->resource_id, 1);
		ntop(e->family, e->addr, t);
		if (strcmp(t, "fd00:2021:1111:8000::1") == 0)
			assert_string_equal(e->name, "b.corp.test");
		else if (strcmp(t, "100.96.0.1") && strcmp(t, "100.96.0.2"))
			fail_msg("FREED %s", t);
		else
			assert_string_equal(e->name, "a.corp.test");
	}
	assert_reply(&h, fd, false, 4, DNS_RCODE_SERVFAIL, "");
	assert_reply(&h, fd2, true, 5, DNS_RCODE_SERVFAIL, "");
	assert_lookup(&h, "100.96.0.1", NULL);
	assert_lookup(&h, "fd00:2021:1111:8000::1", NULL);
	assert_lookup(&h, "100.96.0.3", "c.other.test");
	stub_get_stats(h.stub, &st);
	assert_int_equal(st.proxies, 1);

	/* the pool hands them out again: the returned ones first (.4, .5 of the
	 * failed query), then the released ones */
	assert_int_equal(pool_take(h.pool, AF_INET, 4, got4), 4);
	assert_string_equal(ntop(AF_INET, got4[0], t), "100.96.0.4");
	assert_string_equal(ntop(AF_INET, got4[1], t), "100.96.0.5");
	assert_true(strcmp(ntop(AF_INET, got4[2], t), "100.96.0.1") == 0 ||
		    strcmp(t, "100.96.0.2") == 0);
	assert_true(strcmp(ntop(AF_INET, got4[3], t), "100.96.0.1") == 0 ||
		    strcmp(t, "100.96.0.2") == 0);
	assert_true(memcmp(got4[2], got4[3], 4) != 0);
	assert_int_equal(pool_bind(h.pool, AF_INET, got4[2]), 0);
	assert_int_equal(pool_take(h.pool, AF_INET6, 2, got), 2);
	assert_string_equal(ntop(AF_INET6, got[0], t), "fd00:2021:1111:8000::2");
	assert_string_equal(ntop(AF_INET6, got[1], t), "fd00:2021:1111:8000::1");

	/* gone already: no events, no cancel */
	assert_int_equal(stub_resource_remove(h.stub, 1), -ENOENT);
	assert_int_equal(h.n_events, 7);
	assert_int_equal(h.n_cancel, 1);
	h_teardown(&h);
}

/* stub_resource_fail answers every asker at once, UDP and TCP, without cancel;
 * a send() that fails gets SERVFAIL; a fail from inside send() is safe. */
static void test_fail(void **state)
{
	struct harness h;
	struct stub_stats st;
	uint64_t avail4, t0;
	unsigned tcp_n = 1;
	int fd, fd2;

	(void)state;
	h_setup(&h, 30000, 4);
	set_resource(&h, 1, "*.corp.test");
	avail4 = pool_available(h.pool, AF_INET);
	fd = h_ask_udp(&h, 1, "q.corp.test", DNS_T_A);
	h_wait_sent(&h, 1);
	fd2 = h_ask_tcp(&h, 2, "q.corp.test", DNS_T_A);
	h_turn(&h, tcp_queries_reach, &tcp_n);
	assert_int_equal(h.n_sent, 1);
	t0 = time_mono_ns();
	stub_resource_fail(h.stub, h.sent[0].token, DNS_RCODE_REFUSED);
	assert_reply(&h, fd, false, 1, DNS_RCODE_REFUSED, "");
	assert_reply(&h, fd2, true, 2, DNS_RCODE_REFUSED, "");
	assert_true(time_mono_ns() - t0 < 2000 * NSEC_PER_MSEC); /* the timeout is 30 s */
	assert_int_equal(h.n_cancel, 0);
	assert_int_equal(pool_available(h.pool, AF_INET), avail4);
	stub_resource_fail(h.stub, h.sent[0].token, DNS_RCODE_SERVFAIL); /* gone: no-op */
	stub_resource_fail(h.stub, 12345, DNS_RCODE_SERVFAIL);
	stub_get_stats(h.stub, &st);
	assert_int_equal(st.resource_failed, 1);
	assert_int_equal(st.resource_queries, 1);

	/* send() fails: SERVFAIL, even over UDP, no cancel */
	h.send_result = -EHOSTUNREACH;
	fd = h_ask_udp(&h, 3, "r.corp.test", DNS_T_A);
	assert_reply(&h, fd, false, 3, DNS_RCODE_SERVFAIL, "");
	/* send() fails the token itself, then returns an error or 0 */
	h.fail_in_send = DNS_RCODE_REFUSED;
	fd = h_ask_udp(&h, 4, "s.corp.test", DNS_T_A);
	assert_reply(&h, fd, false, 4, DNS_RCODE_REFUSED, "");
	h.send_result = 0;
	fd = h_ask_udp(&h, 5, "t.corp.test", DNS_T_A);
	assert_reply(&h, fd, false, 5, DNS_RCODE_REFUSED, "");
	assert_int_equal(h.n_cancel, 0);
	assert_int_equal(pool_available(h.pool, AF_INET), avail4);
	stub_get_stats(h.stub, &st);
	assert_int_equal(st.resource_failed, 3);
	h_teardown(&h);
}

/* A timeout cancels the token once; a late answer is dropped; stub_free
 * cancels what is still in flight. */
static void test_timeout_cancel(void **state)
{
	struct harness h;
	struct stub_stats st;
	uint64_t avail4;
	unsigned one = 1, tcp_n = 1;
	int fd, fd2;

	(void)state;
	h_setup(&h, 200, 4);
	set_resource(&h, 1, "*.corp.test");
	avail4 = pool_available(h.pool, AF_INET);
	fd = h_ask_udp(&h, 1, "slow.corp.test", DNS_T_A);
	h_wait_sent(&h, 1);
	fd2 = h_ask_tcp(&h, 2, "slow.corp.test", DNS_T_A);
	h_turn(&h, tcp_queries_reach, &tcp_n);
	h_turn(&h, cancel_reaches, &one);
	assert_int_equal(h.cancelled[0], h.sent[0].token);
	/* TCP gets SERVFAIL, UDP silence (the application retries) */
	assert_reply(&h, fd2, true, 2, DNS_RCODE_SERVFAIL, "");
	assert_false(fd_readable(&h, &fd));
	assert_int_equal(h.n_cancel, 1);
	/* late */
	h_give(&h, &h.sent[0], (const char *const[]){ "100.96.0.1", "" });
	assert_int_equal(h.n_events, 0);
	assert_lookup(&h, "100.96.0.1", NULL);
	assert_int_equal(pool_available(h.pool, AF_INET), avail4);
	stub_get_stats(h.stub, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.proxies, 0);

	h_ask_udp(&h, 3, "other.corp.test", DNS_T_A);
	h_wait_sent(&h, 2);
	assert_int_equal(h.n_cancel, 1);
	stub_free(h.stub);
	h.stub = NULL;
	assert_int_equal(h.n_cancel, 2);
	assert_int_equal(h.cancelled[1], h.sent[1].token);
	assert_int_equal(pool_available(h.pool, AF_INET), avail4);
	h_teardown(&h);
}

static int group_teardown(void **state)
{
	(void)state;
	dns_msg_free(&reply_msg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_resolver),
		cmocka_unit_test(test_offer_preference_refresh),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_timeout_cancel),
	};

	dns_msg_init(&reply_msg);
	return cmocka_run_group_tests_name("stub_res", tests, NULL, group_teardown);
}
