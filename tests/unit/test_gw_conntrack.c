/* gateway/conntrack against the kernel, with gateway/nat's table in front of
 * it, in gw_nat_test.h's namespaces: revocation (the next packet of an
 * established flow is refused, its conntrack entries deleted), DESTROY events
 * with packets, bytes and times each way, live counters read and zeroed,
 * lost events counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gw_nat_test.h"

#include <netinet/tcp.h>

#include "gateway/conntrack.h"
#include "gateway/nat.h"

struct fx {
	struct gw_world w;
	struct nat *nat;
	struct ct *ct;
	uint8_t client[4];
};

static struct fx fx;

static const struct net_prefix gw_addrs[] = {
	{ .family = AF_INET, .addr = { 100, 64, 0, 1 }, .len = 32 },
};

static int setup(void **state)
{
	struct nat_config c = { .table = "sl_tnat_ct", .tun_ifname = "sl-tnat-gc",
				.gw_addrs = gw_addrs, .n_gw_addrs = 1 };

	if (world_up(&fx.w) < 0 || nat_new(&c, &fx.nat) < 0 || ct_open(NULL, &fx.ct) < 0)
		return -1;
	addr_parse("100.64.0.2", fx.client);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ct_close(fx.ct);
	nat_free(fx.nat);
	world_down(&fx.w);
	return 0;
}

struct flows {
	struct ct_flow f[64];
	size_t n;
};

static void collect(void *arg, const struct ct_flow *f)
{
	struct flows *fl = arg;

	if (fl->n < 64)
		fl->f[fl->n++] = *f;
}

/* Events until one with this destination port came, or the deadline. */
static const struct ct_flow *wait_event(struct flows *fl, uint16_t dport, int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;

	for (;;) {
		for (size_t i = 0; i < fl->n; i++)
			if (fl->f[i].dport == dport)
				return &fl->f[i];
		uint64_t now = now_ns();

		if (now >= end)
			return NULL;
		if (wait_fd(ct_events_fd(fx.ct), POLLIN, (int)((end - now) / 1000000u) + 1))
			assert_true(ct_events_dispatch(fx.ct, collect, fl) >= 0);
	}
}

static struct nat_rule rule(const char *dst, uint8_t prefix, uint8_t proto, uint16_t port)
{
	struct nat_rule r = { .family = AF_INET, .prefix = prefix, .proto = proto,
			      .port_lo = port, .port_hi = port };

	memcpy(r.client, fx.client, 4);
	addr_parse(dst, r.dst);
	return r;
}

static void bind_ok(const char *proxy, const char *real)
{
	uint8_t p[4], r[4];

	addr_parse(proxy, p);
	addr_parse(real, r);
	assert_int_equal(nat_bind_add(fx.nat, AF_INET, fx.client, p, r), 0);
}

static void test_parse_rejects(void **state)
{
	struct ct_flow f;
	uint8_t junk[64] = { 0 };

	(void)state;
	assert_int_equal(ct_flow_parse(junk, 3, &f), -EINVAL);
	assert_int_equal(ct_flow_parse(junk, sizeof(junk), &f), -EINVAL);
	assert_int_equal(ct_delete(fx.ct, AF_UNIX, fx.client, NULL, 0), -EAFNOSUPPORT);
	assert_int_equal(ct_delete(fx.ct, AF_INET, fx.client, fx.client, 33), -EINVAL);
}

/* TCP: after the authorization goes, the next segment of the established
 * connection is refused (the client is told), and ct_delete ends the flow:
 * its DESTROY event carries bytes both ways. */
static void test_revoke_tcp(void **state)
{
	struct nat_rule r = rule("100.96.0.20", 32, IPPROTO_TCP, 8080);
	struct flows fl = { .n = 0 };
	const struct ct_flow *f;
	uint8_t proxy[4];
	char buf[16];
	int srv, cli, conn, one = 1, err = 0;
	socklen_t len = sizeof(err);

	(void)state;
	bind_ok("100.96.0.20", "203.0.113.50");
	assert_int_equal(nat_allow_add(fx.nat, &r), 0);
	srv = sock_in(&fx.w, fx.w.l, SOCK_STREAM, "203.0.113.50", 8080, NULL, 0);
	cli = sock_in(&fx.w, fx.w.c, SOCK_STREAM, NULL, 0, "100.96.0.20", 8080);
	assert_true(srv >= 0 && cli >= 0);
	/* ICMP errors as hard errors on an established connection. */
	assert_int_equal(setsockopt(cli, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)), 0);
	assert_int_equal(connect_wait(cli, 2000), 0);
	assert_true(wait_fd(srv, POLLIN, 2000) & POLLIN);
	conn = accept(srv, NULL, NULL);
	assert_true(conn >= 0);
	assert_int_equal(send(cli, "request", 7, 0), 7);
	assert_int_equal(recv_wait(conn, buf, sizeof(buf), NULL, 2000), 7);
	assert_int_equal(send(conn, "answer!!", 8, 0), 8);
	assert_int_equal(recv_wait(cli, buf, sizeof(buf), NULL, 2000), 8);

	assert_int_equal(nat_allow_del(fx.nat, &r), 0);
	assert_int_equal(send(cli, "more", 4, 0), 4);
	assert_true(wait_fd(cli, POLLERR, 2000) & POLLERR);
	assert_int_equal(getsockopt(cli, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, EHOSTUNREACH);

	addr_parse("100.96.0.20", proxy);
	assert_int_equal(ct_delete(fx.ct, AF_INET, fx.client, proxy, 32), 1);
	assert_int_equal(ct_delete(fx.ct, AF_INET, fx.client, proxy, 32), 0);
	f = wait_event(&fl, 8080, 2000);
	assert_non_null(f);
	assert_int_equal(f->family, AF_INET);
	assert_memory_equal(f->src, fx.client, 4);
	assert_memory_equal(f->dst, proxy, 4);
	assert_int_equal(f->proto, IPPROTO_TCP);
	/* SYN, ACK, "request" at least from the client; SYN-ACK and "answer!!". */
	assert_true(f->orig_packets >= 3 && f->reply_packets >= 2);
	assert_true(f->orig_bytes >= 3 * 40 + 7 && f->reply_bytes >= 2 * 40 + 8);
	assert_true(f->start_ns > 0 && f->stop_ns >= f->start_ns);
	close(conn);
	close(cli);
	close(srv);
	assert_int_equal(nat_client_flush(fx.nat, AF_INET, fx.client), 0);
}

/* UDP to a CIDR resource, no translation: live counters by dump (read, then
 * read and zeroed), the end by ct_delete of the prefix, revocation of the
 * next packet. */
static void test_dump_and_revoke_cidr(void **state)
{
	struct nat_rule r = rule("203.0.113.0", 24, IPPROTO_UDP, 9000);
	struct flows live = { .n = 0 }, ended = { .n = 0 };
	const struct ct_flow *f;
	uint8_t net[4];
	char buf[64];
	struct sockaddr_storage from;
	int srv, cli;

	(void)state;
	assert_int_equal(nat_allow_add(fx.nat, &r), 0);
	srv = sock_in(&fx.w, fx.w.l, SOCK_DGRAM, "203.0.113.60", 9000, NULL, 0);
	cli = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, NULL, 0, "203.0.113.60", 9000);
	assert_true(srv >= 0 && cli >= 0);
	assert_int_equal(send(cli, "0123456789", 10, 0), 10);
	assert_int_equal(recv_wait(srv, buf, sizeof(buf), &from, 2000), 10);
	assert_int_equal(sendto(srv, "abc", 3, 0, (struct sockaddr *)&from,
				sizeof(struct sockaddr_in)), 3);
	assert_int_equal(recv_wait(cli, buf, sizeof(buf), NULL, 2000), 3);

	assert_true(ct_flows_dump(fx.ct, true, collect, &live) >= 1);
	f = NULL;
	for (size_t i = 0; i < live.n; i++)
		if (live.f[i].dport == 9000)
			f = &live.f[i];
	assert_non_null(f);
	assert_int_equal(f->orig_packets, 1);
	assert_int_equal(f->orig_bytes, 20 + 8 + 10);
	assert_int_equal(f->reply_packets, 1);
	assert_int_equal(f->reply_bytes, 20 + 8 + 3);
	assert_int_equal(f->stop_ns, 0);
	/* Zeroed by that dump: the next one starts over. */
	live.n = 0;
	assert_true(ct_flows_dump(fx.ct, false, collect, &live) >= 1);
	for (size_t i = 0; i < live.n; i++)
		if (live.f[i].dport == 9000)
			assert_int_equal(live.f[i].orig_packets + live.f[i].reply_packets, 0);
	assert_int_equal(send(cli, "x", 1, 0), 1);
	assert_int_equal(recv_wait(srv, buf, sizeof(buf), &from, 2000), 1);

	/* Revocation: the element goes, the flow is refused and deleted. */
	assert_int_equal(nat_allow_del(fx.nat, &r), 0);
	assert_int_equal(send(cli, "y", 1, 0), 1);
	assert_int_equal(recv_wait(cli, buf, sizeof(buf), NULL, 2000), -EHOSTUNREACH);
	addr_parse("203.0.113.0", net);
	assert_int_equal(ct_delete(fx.ct, AF_INET, fx.client, net, 24), 1);
	f = wait_event(&ended, 9000, 2000);
	assert_non_null(f);
	/* Only what came after the zeroing: "x", and the refused "y". */
	assert_int_equal(f->orig_packets, 2);
	assert_int_equal(f->orig_bytes, 2 * (20 + 8 + 1));
	assert_int_equal(f->reply_packets, 0);
	close(cli);
	close(srv);
}

/* A socket buffer too small for the events: the loss is counted, and the
 * socket goes on delivering. */
static void test_events_lost(void **state)
{
	struct nat_rule r = rule("203.0.113.60", 32, IPPROTO_UDP, 0);
	struct flows fl = { .n = 0 };
	int small = 1, srv, n;
	uint8_t dst[4];

	(void)state;
	r.port_hi = 0;
	assert_int_equal(nat_allow_add(fx.nat, &r), 0);
	srv = sock_in(&fx.w, fx.w.l, SOCK_DGRAM, "203.0.113.60", 9100, NULL, 0);
	assert_true(srv >= 0);
	assert_int_equal(setsockopt(ct_events_fd(fx.ct), SOL_SOCKET, SO_RCVBUF, &small,
				    sizeof(small)), 0);
	for (int i = 0; i < 40; i++) {
		/* A source port each: a closed socket's port may be drawn again,
		 * and two sockets on one port are one flow. */
		int cli = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, "0.0.0.0", (uint16_t)(20000 + i),
				  "203.0.113.60", 9100);
		char buf[8];

		assert_true(cli >= 0);
		assert_int_equal(send(cli, "z", 1, 0), 1);
		assert_int_equal(recv_wait(srv, buf, sizeof(buf), NULL, 2000), 1);
		close(cli);
	}
	addr_parse("203.0.113.60", dst);
	n = ct_delete(fx.ct, AF_INET, fx.client, dst, 32);
	assert_int_equal(n, 40);
	assert_true(ct_events_dispatch(fx.ct, collect, &fl) >= 0);
	assert_true(ct_events_lost(fx.ct) >= 1);
	assert_true(fl.n < 40);
	/* Still working: one more flow, one more event. */
	small = 1 << 20;
	assert_int_equal(setsockopt(ct_events_fd(fx.ct), SOL_SOCKET, SO_RCVBUF, &small,
				    sizeof(small)), 0);
	fl.n = 0;
	int cli = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, NULL, 0, "203.0.113.60", 9100);
	char buf[8];

	assert_int_equal(send(cli, "z", 1, 0), 1);
	assert_int_equal(recv_wait(srv, buf, sizeof(buf), NULL, 2000), 1);
	assert_int_equal(ct_delete(fx.ct, AF_INET, fx.client, NULL, 0), 1);
	assert_non_null(wait_event(&fl, 9100, 2000));
	close(cli);
	close(srv);
	assert_int_equal(nat_allow_del(fx.nat, &r), 0);
}

/* IPv6, several destinations at once: only the flows to them go. */
static void test_delete_set_ipv6(void **state)
{
	struct nat_rule r = { .family = AF_INET6, .prefix = 64, .proto = IPPROTO_UDP };
	struct net_prefix dsts[2] = { { .family = AF_INET6, .len = 128 },
				     { .family = AF_INET6, .len = 128 } };
	struct flows fl = { .n = 0 };
	const struct ct_flow *f;
	uint8_t client6[16];
	int srv, keep, gone;
	char buf[16];

	(void)state;
	addr_parse("fd00:2021:1111::2", client6);
	memcpy(r.client, client6, 16);
	addr_parse("fd00:2021:1111:ff00::", r.dst);
	assert_int_equal(nat_allow_add(fx.nat, &r), 0);
	srv = sock_in(&fx.w, fx.w.l, SOCK_DGRAM, "::", 9200, NULL, 0);
	gone = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, NULL, 0, "fd00:2021:1111:ff00::50", 9200);
	assert_true(srv >= 0 && gone >= 0);
	assert_int_equal(world_sh(&fx.w, fx.w.l, "ip addr add fd00:2021:1111:ff00::51/64 "
						 "dev sl-tnat-l nodad"), 0);
	keep = sock_in(&fx.w, fx.w.c, SOCK_DGRAM, NULL, 0, "fd00:2021:1111:ff00::51", 9200);
	assert_true(keep >= 0);
	assert_int_equal(send(gone, "abcd", 4, 0), 4);
	assert_int_equal(recv_wait(srv, buf, sizeof(buf), NULL, 2000), 4);
	assert_int_equal(send(keep, "efgh", 4, 0), 4);
	assert_int_equal(recv_wait(srv, buf, sizeof(buf), NULL, 2000), 4);

	addr_parse("fd00:2021:1111:ff00::50", dsts[0].addr);
	addr_parse("fd00:2021:1111:ff00::99", dsts[1].addr);
	assert_int_equal(ct_delete_set(fx.ct, AF_INET6, client6, dsts, 2), 1);
	f = wait_event(&fl, 9200, 2000);
	assert_non_null(f);
	assert_int_equal(f->family, AF_INET6);
	assert_memory_equal(f->src, client6, 16);
	assert_memory_equal(f->dst, dsts[0].addr, 16);
	assert_int_equal(f->orig_packets, 1);
	assert_int_equal(f->orig_bytes, 40 + 8 + 4);
	/* The other flow is still there, and goes with "all of the client". */
	assert_int_equal(ct_delete(fx.ct, AF_INET6, client6, NULL, 0), 1);
	dsts[1].len = 200;
	assert_int_equal(ct_delete_set(fx.ct, AF_INET6, client6, dsts, 2), -EINVAL);
	close(keep);
	close(gone);
	close(srv);
	assert_int_equal(nat_allow_del(fx.nat, &r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_revoke_tcp),
		cmocka_unit_test(test_dump_and_revoke_cidr),
		cmocka_unit_test(test_events_lost),
		cmocka_unit_test(test_delete_set_ipv6),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
