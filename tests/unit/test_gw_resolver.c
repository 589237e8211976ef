/* gateway/resolver: c-ares against a real dnsmasq in a network namespace of
 * the test's own: every record type, NXDOMAIN, the cache (seen from dnsmasq's
 * query log), TTLs counting down and expiring, a server that never answers
 * (timeout), the bound on queries in flight, and coalescing. Negative caching
 * by the SOA against a real unbound (dnsmasq sends no SOA with NXDOMAIN). */
#include "gw_dns_test.h"

#include "gateway/resolver.h"

/* unbound on UB_ADDR:5353: two static zones whose negative answers carry a
 * SOA, with negative TTLs of 2 s and 600 s. */
#define UB_ADDR "127.0.0.5"
static const char ub_conf[] =
	"server:\n"
	"  interface: " UB_ADDR "\n  port: 5353\n  do-daemonize: no\n  username: \"\"\n"
	"  chroot: \"\"\n  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n"
	"  do-ip6: no\n  access-control: 127.0.0.0/8 allow\n"
	"  local-zone: \"neg.test.\" static\n"
	"  local-data: \"neg.test. 30 IN SOA ns.neg.test. hm.neg.test. 1 3600 600 86400 2\"\n"
	"  local-data: \"there.neg.test. 30 IN A 203.0.113.20\"\n"
	"  local-zone: \"neg2.test.\" static\n"
	"  local-data: \"neg2.test. 600 IN SOA ns.neg2.test. hm.neg2.test. 1 3600 600 86400 600\"\n";

struct env {
	struct dnsmasq dm;
	pid_t unbound;
	char ub_conf[64];
	int hole;              /* a UDP socket on 127.0.0.3:5353 that never answers */
};

/* What a callback got. */
struct got {
	unsigned calls;
	int err;
	uint8_t ans[4096];
	size_t len;
};

static void on_answer(void *arg, int err, const uint8_t *ans, size_t len)
{
	struct got *g = arg;

	g->calls++;
	g->err = err;
	g->len = 0;
	if (!err) {
		assert_true(len <= sizeof(g->ans));
		memcpy(g->ans, ans, len);
		g->len = len;
	}
}

/* Runs the resolver's loop until g has n calls or ms pass. */
static bool run_until(struct resolver *r, struct got *g, unsigned n, unsigned ms)
{
	uint64_t deadline = time_mono_ns() + ms * NSEC_PER_MSEC;

	while (g->calls < n) {
		struct pollfd p = { .fd = resolver_fd(r), .events = POLLIN };
		uint64_t now = time_mono_ns();
		int t = resolver_timeout_ms(r), left;

		if (now >= deadline)
			return false;
		left = (int)((deadline - now) / NSEC_PER_MSEC) + 1;
		poll(&p, 1, t < 0 || t > left ? left : t);
		resolver_dispatch(r);
	}
	return true;
}

static struct resolver *new_resolver(const char *servers, unsigned timeout_ms, unsigned inflight)
{
	struct resolver_config cfg = { .servers = servers, .timeout_ms = timeout_ms, .tries = 1,
				       .max_inflight = inflight };
	struct resolver *r;

	assert_int_equal(resolver_new(&cfg, &r), 0);
	return r;
}

/* Resolves and waits for the answer, parsed into m. */
static int resolve(struct resolver *r, const char *name, uint16_t type, struct dns_msg *m)
{
	struct dns_name n;
	struct got g = { 0 };
	uint64_t id;
	int rc;

	assert_int_equal(dns_name_from_text(&n, name), 0);
	rc = resolver_query(r, &n, type, on_answer, &g, &id);
	assert_true(rc == 0 || rc == 1);
	assert_true(run_until(r, &g, 1, 5000));
	assert_int_equal(g.calls, 1);
	if (g.err)
		return g.err;
	assert_int_equal(dns_msg_parse(m, g.ans, g.len), 0);
	return rc;
}

static const struct dns_rr *first_of(const struct dns_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->count[DNS_SEC_ANSWER]; i++)
		if (m->rr[i].type == type)
			return &m->rr[i];
	fail_msg("no record of type %u", type);
	return NULL;
}

static void test_types(void **state)
{
	struct resolver *r = new_resolver(DM_SERVERS, 1000, 0);
	struct dns_msg m;
	const struct dns_rr *rr;
	struct dns_name n;
	uint8_t a[16];
	size_t p;

	(void)state;
	dns_msg_init(&m);
	assert_int_equal(resolve(r, "app.corp.test", DNS_T_A, &m), 0);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_NOERROR);
	rr = first_of(&m, DNS_T_A);
	inet_pton(AF_INET, "203.0.113.10", a);
	assert_int_equal(rr->rdlen, 4);
	assert_memory_equal(rr->rdata, a, 4);
	assert_int_equal(rr->ttl, 30);

	assert_int_equal(resolve(r, "APP.corp.test", DNS_T_AAAA, &m), 0);
	rr = first_of(&m, DNS_T_AAAA);
	inet_pton(AF_INET6, "2001:db8::10", a);
	assert_int_equal(rr->rdlen, 16);
	assert_memory_equal(rr->rdata, a, 16);

	assert_int_equal(resolve(r, "txt.corp.test", DNS_T_TXT, &m), 0);
	rr = first_of(&m, DNS_T_TXT);
	assert_int_equal(rr->rdlen, 12);
	assert_memory_equal(rr->rdata, "\x0bhello world", 12);

	assert_int_equal(resolve(r, "_http._tcp.corp.test", DNS_T_SRV, &m), 0);
	rr = first_of(&m, DNS_T_SRV);
	assert_memory_equal(rr->rdata, "\x00\x01\x00\x02\x1f\x90", 6); /* 1 2 8080 */
	p = 6;
	assert_int_equal(dns_name_read(rr->rdata, rr->rdlen, &p, &n), 0);
	{
		struct dns_name want;

		assert_int_equal(dns_name_from_text(&want, "app.corp.test"), 0);
		assert_true(dns_name_equal(&n, &want));
	}

	assert_int_equal(resolve(r, "corp.test", DNS_T_MX, &m), 0);
	rr = first_of(&m, DNS_T_MX);
	assert_memory_equal(rr->rdata, "\x00\x0a", 2);
	{
		struct dns_name want;

		p = 2;
		assert_int_equal(dns_name_read(rr->rdata, rr->rdlen, &p, &n), 0);
		assert_int_equal(dns_name_from_text(&want, "mail.corp.test"), 0);
		assert_true(dns_name_equal(&n, &want));
	}

	/* A CNAME chain comes whole. */
	assert_int_equal(resolve(r, "alias.corp.test", DNS_T_A, &m), 0);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 2);
	first_of(&m, DNS_T_CNAME);

	assert_int_equal(resolve(r, "nope.corp.test", DNS_T_A, &m), 0);
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 0);
	dns_msg_free(&m);
	resolver_free(r);
}

/* The second query is answered from the cache (synchronously) and never
 * reaches dnsmasq; its TTL counts down; once it expires, dnsmasq is asked. */
static void test_cache(void **state)
{
	struct env *e = *state;
	struct resolver *r = new_resolver(DM_SERVERS, 1000, 0);
	struct resolver_stats st;
	struct dns_msg m;
	uint64_t deadline;
	bool saw_one = false;
	int rc;

	dns_msg_init(&m);
	assert_int_equal(resolve(r, "app2.corp.test", DNS_T_A, &m), 0);
	assert_true(dnsmasq_wait_count(&e->dm, "query[A] app2.corp.test ", 1, 2000));
	assert_int_equal(resolve(r, "App2.Corp.Test", DNS_T_A, &m), 1); /* a hit, in the call */
	assert_true(first_of(&m, DNS_T_A)->ttl <= 30);
	/* A marker query that does reach dnsmasq: logged after anything before it. */
	assert_int_equal(resolve(r, "txt.corp.test", DNS_T_TXT, &m), 0);
	assert_true(dnsmasq_wait_count(&e->dm, "query[TXT] txt.corp.test ", 1, 2000));
	assert_int_equal(dnsmasq_count(&e->dm, "query[A] app2.corp.test "), 1);
	resolver_get_stats(r, &st);
	assert_int_equal(st.cache_hits, 1);
	assert_int_equal(st.upstream, 2);

	/* short.corp.test has TTL 2: served from the cache, counting down, then
	 * gone from it and asked again. */
	assert_int_equal(resolve(r, "short.corp.test", DNS_T_A, &m), 0);
	assert_int_equal(first_of(&m, DNS_T_A)->ttl, 2);
	deadline = time_mono_ns() + 4 * NSEC_PER_SEC;
	for (;;) {
		assert_true(time_mono_ns() < deadline);
		rc = resolve(r, "short.corp.test", DNS_T_A, &m);
		if (rc == 0)
			break; /* expired: went upstream */
		assert_int_equal(rc, 1);
		assert_true(first_of(&m, DNS_T_A)->ttl <= 2);
		saw_one |= first_of(&m, DNS_T_A)->ttl == 1;
		poll(NULL, 0, 50);
	}
	assert_true(saw_one);
	assert_true(dnsmasq_wait_count(&e->dm, "query[A] short.corp.test ", 2, 2000));
	assert_int_equal(dnsmasq_count(&e->dm, "query[A] short.corp.test "), 2);
	dns_msg_free(&m);
	resolver_free(r);
}

/* Counting down is seen, not assumed: a hit a second later says less. */
static void test_ttl_counts_down(void **state)
{
	struct resolver *r = new_resolver(DM_SERVERS, 1000, 0);
	struct dns_msg m;
	uint64_t deadline = time_mono_ns() + 3 * NSEC_PER_SEC;

	(void)state;
	dns_msg_init(&m);
	assert_int_equal(resolve(r, "app.corp.test", DNS_T_A, &m), 0);
	assert_int_equal(first_of(&m, DNS_T_A)->ttl, 30);
	for (;;) {
		assert_true(time_mono_ns() < deadline);
		assert_int_equal(resolve(r, "app.corp.test", DNS_T_A, &m), 1);
		if (first_of(&m, DNS_T_A)->ttl < 30)
			break;
		poll(NULL, 0, 50);
	}
	assert_int_equal(first_of(&m, DNS_T_A)->ttl, 29);
	dns_msg_free(&m);
	resolver_free(r);
}

static void test_timeout(void **state)
{
	struct resolver *r = new_resolver("127.0.0.3:5353", 200, 0);
	struct resolver_stats st;
	struct dns_name n;
	struct got g = { 0 };
	uint64_t id, t0 = time_mono_ns();

	(void)state;
	assert_int_equal(dns_name_from_text(&n, "app.corp.test"), 0);
	assert_int_equal(resolver_query(r, &n, DNS_T_A, on_answer, &g, &id), 0);
	assert_true(id != 0);
	assert_true(resolver_timeout_ms(r) >= 0);
	assert_true(run_until(r, &g, 1, 3000));
	assert_int_equal(g.err, -ETIMEDOUT);
	assert_true(time_mono_ns() - t0 >= 150 * NSEC_PER_MSEC);
	resolver_get_stats(r, &st);
	assert_int_equal(st.timeouts, 1);
	resolver_free(r);
}

/* Two upstream queries may be in flight; the third is refused, and counted. */
static void test_inflight_bound(void **state)
{
	struct resolver *r = new_resolver("127.0.0.3:5353", 300, 2);
	struct resolver_stats st;
	struct dns_name a, b, c;
	struct got g = { 0 };
	uint64_t id1, id2, id3;

	(void)state;
	assert_int_equal(dns_name_from_text(&a, "a.corp.test"), 0);
	assert_int_equal(dns_name_from_text(&b, "b.corp.test"), 0);
	assert_int_equal(dns_name_from_text(&c, "c.corp.test"), 0);
	assert_int_equal(resolver_query(r, &a, DNS_T_A, on_answer, &g, &id1), 0);
	assert_int_equal(resolver_query(r, &b, DNS_T_A, on_answer, &g, &id2), 0);
	assert_int_equal(resolver_query(r, &c, DNS_T_A, on_answer, &g, &id3), -EBUSY);
	assert_int_equal(g.calls, 0);
	resolver_get_stats(r, &st);
	assert_int_equal(st.busy, 1);
	/* A cancelled one never calls back, but holds its slot until answered. */
	resolver_cancel(r, id2);
	assert_true(run_until(r, &g, 1, 3000));
	assert_int_equal(g.err, -ETIMEDOUT);
	assert_false(run_until(r, &g, 2, 600));
	assert_int_equal(g.calls, 1);
	/* Slots free again. */
	assert_int_equal(resolver_query(r, &c, DNS_T_A, on_answer, &g, &id3), 0);
	resolver_free(r);
}

/* Three askers of one question: one upstream query, three answers; a
 * cancelled fourth gets nothing. */
static void test_coalesce(void **state)
{
	struct env *e = *state;
	struct resolver *r = new_resolver(DM_SERVERS, 1000, 0);
	struct resolver_stats st;
	struct dns_name n, n2;
	struct got g[4] = { 0 };
	uint64_t id[4];

	assert_int_equal(dns_name_from_text(&n, "co.corp.test"), 0);
	assert_int_equal(dns_name_from_text(&n2, "CO.corp.test"), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(resolver_query(r, i & 1 ? &n2 : &n, DNS_T_A, on_answer, &g[i],
						&id[i]), 0);
	resolver_cancel(r, id[3]);
	resolver_cancel(r, 999999); /* unknown: ignored */
	assert_true(run_until(r, &g[2], 1, 3000));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].err, 0);
		assert_int_equal(g[i].len, g[0].len);
	}
	assert_int_equal(g[3].calls, 0);
	resolver_get_stats(r, &st);
	assert_int_equal(st.upstream, 1);
	assert_int_equal(st.coalesced, 3);
	assert_true(dnsmasq_wait_count(&e->dm, "query[A] co.corp.test ", 1, 2000));
	/* Same type only: AAAA is another question. */
	assert_int_equal(resolver_query(r, &n, DNS_T_AAAA, on_answer, &g[3], &id[3]), 0);
	assert_true(run_until(r, &g[3], 1, 3000));
	assert_int_equal(dnsmasq_count(&e->dm, "query[A] co.corp.test "), 1);
	resolver_free(r);
}

/* Cached until what: the first query after the answer expired goes upstream
 * (resolve() returns 0, not 1). Returns the seconds that took. */
static double cached_for(struct resolver *r, const char *name, uint16_t type, uint16_t rcode,
			 unsigned max_ms)
{
	struct dns_msg m;
	uint64_t t0, deadline;
	int rc;

	dns_msg_init(&m);
	assert_int_equal(resolve(r, name, type, &m), 0);
	t0 = time_mono_ns();
	deadline = t0 + max_ms * NSEC_PER_MSEC;
	assert_int_equal(m.flags & DNS_F_RCODE_MASK, rcode);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 0);
	assert_int_equal(m.count[DNS_SEC_AUTHORITY], 1);
	assert_int_equal(m.rr[0].type, DNS_T_SOA);
	for (;;) {
		assert_true(time_mono_ns() < deadline);
		rc = resolve(r, name, type, &m);
		if (rc == 0)
			break;
		assert_int_equal(rc, 1);
		assert_int_equal(m.flags & DNS_F_RCODE_MASK, rcode);
		poll(NULL, 0, 50);
	}
	dns_msg_free(&m);
	return (double)(time_mono_ns() - t0) / 1e9;
}

/* Negative answers are kept by their SOA (2 s here, not the 300 s cap), and
 * capped (a 600 s SOA, a 1 s cap). */
static void test_negative_cache(void **state)
{
	struct resolver_config cfg = { .servers = UB_ADDR ":5353", .timeout_ms = 1000, .tries = 1 };
	struct resolver *r;
	double t;

	(void)state;
	assert_int_equal(resolver_new(&cfg, &r), 0);
	t = cached_for(r, "nope.neg.test", DNS_T_A, DNS_RCODE_NXDOMAIN, 4000);
	assert_true(t >= 1.0 && t <= 3.0);
	t = cached_for(r, "there.neg.test", DNS_T_TXT, DNS_RCODE_NOERROR, 4000); /* NODATA */
	assert_true(t >= 1.0 && t <= 3.0);
	resolver_free(r);

	cfg.neg_max_ttl = 1;
	assert_int_equal(resolver_new(&cfg, &r), 0);
	t = cached_for(r, "nope.neg2.test", DNS_T_A, DNS_RCODE_NXDOMAIN, 3000);
	assert_true(t >= 0.5 && t <= 2.0);
	resolver_free(r);
}

/* Freeing with queries in flight calls nothing and leaks nothing. */
static void test_free_in_flight(void **state)
{
	struct resolver *r = new_resolver("127.0.0.3:5353", 1000, 0);
	struct dns_name n;
	struct got g = { 0 };
	uint64_t id;

	(void)state;
	assert_int_equal(dns_name_from_text(&n, "x.corp.test"), 0);
	assert_int_equal(resolver_query(r, &n, DNS_T_A, on_answer, &g, &id), 0);
	assert_int_equal(resolver_query(r, &n, DNS_T_A, on_answer, &g, &id), 0);
	resolver_free(r);
	assert_int_equal(g.calls, 0);
}

static void unbound_stop(struct env *e)
{
	if (e->unbound > 0) {
		kill(e->unbound, SIGTERM);
		waitpid(e->unbound, NULL, 0);
		e->unbound = 0;
	}
	if (e->ub_conf[0])
		unlink(e->ub_conf);
	e->ub_conf[0] = 0;
}

static int unbound_start(struct env *e)
{
	uint64_t deadline = time_mono_ns() + 10 * NSEC_PER_SEC;
	int fd;

	snprintf(e->ub_conf, sizeof(e->ub_conf), "/tmp/sluice-gwdns-ub-XXXXXX");
	fd = mkstemp(e->ub_conf);
	if (fd < 0)
		return -1;
	if (write(fd, ub_conf, sizeof(ub_conf) - 1) != (ssize_t)sizeof(ub_conf) - 1) {
		close(fd);
		return -1;
	}
	close(fd);
	e->unbound = fork();
	if (e->unbound < 0)
		return -1;
	if (e->unbound == 0) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(null, 2); /* its start line */
		execlp("unbound", "unbound", "-d", "-c", e->ub_conf, (char *)NULL);
		_exit(127);
	}
	while (time_mono_ns() < deadline) {
		uint8_t q[64], a[512];
		size_t ql = gw_make_query(q, 1, "there.neg.test", DNS_T_A);

		if (gw_udp_ask(AF_INET, UB_ADDR, 5353, NULL, q, ql, a, sizeof(a), 100) > 0)
			return 0;
		if (waitpid(e->unbound, NULL, WNOHANG) == e->unbound) {
			e->unbound = 0;
			return -1;
		}
	}
	return -1;
}

static int setup(void **state)
{
	static struct env e;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DM_PORT) };

	if (gw_netns("test_gw_resolver") < 0)
		return -1;
	inet_pton(AF_INET, "127.0.0.3", &a.sin_addr);
	e.hole = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e.hole < 0 || bind(e.hole, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	if (dnsmasq_start(&e.dm) < 0 || unbound_start(&e) < 0) {
		unbound_stop(&e);
		dnsmasq_stop(&e.dm);
		return -1;
	}
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	unbound_stop(e);
	dnsmasq_stop(&e->dm);
	close(e->hole);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_ttl_counts_down),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_inflight_bound),
		cmocka_unit_test(test_coalesce),
		cmocka_unit_test(test_free_in_flight),
		cmocka_unit_test(test_negative_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
