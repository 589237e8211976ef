/* gateway/dnsep: the DNS endpoint over real UDP and TCP sockets, in a network
 * namespace of the test's own, resolving with a real dnsmasq; the daemon's
 * side (which source is which client, which names its resources cover, its
 * binding table, installing bindings) is a fake of pure logic, with the
 * coverage decided by real dns/pattern rules. One check goes through the real
 * dig, so the offer's format is proven with a tool that is not ours. */
#include "gw_dns_test.h"

#include <netinet/tcp.h>

#include "dns/binding.h"
#include "dns/offer.h"
#include "dns/pattern.h"
#include "gateway/dnsep.h"
#include "gateway/resolver.h"

#define EP4 "127.0.0.1"
#define EP6 "::1"
#define CLIENT4 "127.0.0.10"    /* a client's tunnel address */
#define STRANGER4 "127.0.0.11"  /* nobody's */

struct fake {
	struct binding_table *t;
	struct pattern *pat[2];
	bool live;                  /* the client's authorization */
	int fail_bound;             /* bound() fails with this */
	unsigned bound_calls, client_calls;
	int watch_fd;               /* the asker's socket: nothing may be there yet */
	bool answer_before_bound;
	struct dns_name last_name;
	int last_family;
	uint8_t last_proxy[16], last_real[16];
};

struct env {
	struct dnsmasq dm;
	int hole;
	struct fake f;
	struct resolver *r;
	struct dnsep *ep;
	uint64_t udp_base;          /* queries_udp before the one awaited */
};

/* ---- the fake daemon ---- */

static void *fk_client(void *arg, int family, const uint8_t *src)
{
	struct fake *f = arg;
	uint8_t c4[4], c6[16];

	f->client_calls++;
	inet_pton(AF_INET, CLIENT4, c4);
	inet_pton(AF_INET6, EP6, c6); /* over IPv6 the client asks from ::1 */
	if (!f->live)
		return NULL;
	if ((family == AF_INET && memcmp(src, c4, 4) == 0) ||
	    (family == AF_INET6 && memcmp(src, c6, 16) == 0))
		return f;
	return NULL;
}

static bool fk_covers(void *arg, void *client, const struct dns_name *qname)
{
	struct fake *f = arg;
	char text[DNS_NAME_TEXT_MAX];
	int n = dns_name_to_text(qname, text, sizeof(text));

	assert_ptr_equal(client, f);
	for (size_t i = 0; n > 0 && i < 2; i++)
		if (pattern_match(f->pat[i], text, (size_t)n))
			return true;
	return false;
}

static struct binding_table *fk_bindings(void *arg, void *client)
{
	struct fake *f = arg;

	assert_ptr_equal(client, f);
	return f->t;
}

static int fk_bound(void *arg, void *client, const struct dns_name *name, int family,
		    const uint8_t *proxy, const uint8_t *real)
{
	struct fake *f = arg;
	struct pollfd p = { .fd = f->watch_fd, .events = POLLIN };

	assert_ptr_equal(client, f);
	f->bound_calls++;
	if (f->watch_fd >= 0 && poll(&p, 1, 0) == 1)
		f->answer_before_bound = true;
	f->last_name = *name;
	f->last_family = family;
	memcpy(f->last_proxy, proxy, family == AF_INET ? 4 : 16);
	memcpy(f->last_real, real, family == AF_INET ? 4 : 16);
	return f->fail_bound;
}

static const struct dnsep_ops fk_ops = { fk_client, fk_covers, fk_bindings, fk_bound };

/* ---- the loop ---- */

/* Runs both loops until fd is readable or ms pass. */
static bool run_until_fd(struct env *e, int fd, unsigned ms)
{
	uint64_t deadline = time_mono_ns() + ms * NSEC_PER_MSEC;

	for (;;) {
		struct pollfd p[3] = { { .fd = dnsep_fd(e->ep), .events = POLLIN },
				       { .fd = resolver_fd(e->r), .events = POLLIN },
				       { .fd = fd, .events = POLLIN } };
		int t1 = dnsep_timeout_ms(e->ep), t2 = resolver_timeout_ms(e->r), t = 20;

		if (poll(&p[2], 1, 0) == 1)
			return true;
		if (time_mono_ns() >= deadline)
			return false;
		if (t1 >= 0 && t1 < t)
			t = t1;
		if (t2 >= 0 && t2 < t)
			t = t2;
		poll(p, 3, t);
		dnsep_dispatch(e->ep);
		resolver_dispatch(e->r);
	}
}

static int udp_socket(int family, const char *src, const char *dst)
{
	struct sockaddr_storage a = { 0 }, b = { 0 };
	socklen_t len;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (family == AF_INET) {
		struct sockaddr_in *x = (struct sockaddr_in *)&a, *y = (struct sockaddr_in *)&b;

		x->sin_family = y->sin_family = AF_INET;
		inet_pton(AF_INET, src, &x->sin_addr);
		inet_pton(AF_INET, dst, &y->sin_addr);
		y->sin_port = htons(DNSEP_PORT);
		len = sizeof(*x);
	} else {
		struct sockaddr_in6 *x = (struct sockaddr_in6 *)&a, *y = (struct sockaddr_in6 *)&b;

		x->sin6_family = y->sin6_family = AF_INET6;
		inet_pton(AF_INET6, src, &x->sin6_addr);
		inet_pton(AF_INET6, dst, &y->sin6_addr);
		y->sin6_port = htons(DNSEP_PORT);
		len = sizeof(*x);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&b, len), 0);
	return fd;
}

/* One query over UDP from src; the answer's length, or -1 if none came. */
static ssize_t ask_udp(struct env *e, int family, const char *src, const char *dst,
		       const uint8_t *q, size_t qlen, uint8_t *ans, size_t cap)
{
	int fd = udp_socket(family, src, dst);
	ssize_t n = -1;

	e->f.watch_fd = fd;
	assert_int_equal(send(fd, q, qlen, 0), (ssize_t)qlen);
	if (run_until_fd(e, fd, 3000))
		n = recv(fd, ans, cap, 0);
	e->f.watch_fd = -1;
	close(fd);
	return n;
}

/* A query: name, type, RD, with EDNS and this offer if o, else without EDNS. */
static size_t make_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t type,
			 const struct offer *o)
{
	struct dns_msg m;
	uint8_t opts[OFFER_OPT_MAX];
	size_t len;
	bool trunc;

	dns_msg_init(&m);
	m.id = id;
	m.flags = DNS_F_RD;
	m.has_question = true;
	assert_int_equal(dns_name_from_text(&m.q.name, name), 0);
	m.q.type = type;
	m.q.cls = DNS_C_IN;
	if (o)
		assert_int_equal(offer_edns_set(&m.edns, o, opts, sizeof(opts)), 0);
	assert_int_equal(dns_msg_write(&m, buf, cap, cap, &len, &trunc), 0);
	dns_msg_free(&m);
	return len;
}

static void offer4(struct offer *o, const char *a, const char *b)
{
	memset(o, 0, sizeof(*o));
	if (a)
		inet_pton(AF_INET, a, o->v4[o->n4++]);
	if (b)
		inet_pton(AF_INET, b, o->v4[o->n4++]);
}

static uint16_t rcode_of(const uint8_t *ans)
{
	return ans[3] & 0x0f;
}

static void parse(struct dns_msg *m, const uint8_t *ans, ssize_t n)
{
	assert_true(n > 0);
	assert_int_equal(dns_msg_parse(m, ans, (size_t)n), 0);
}

static bool has_bytes(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
	return memmem(hay, n, needle, k) != NULL;
}

/* ---- tests ---- */

static void test_a_gets_offered_proxy(void **state)
{
	struct env *e = *state;
	uint8_t q[512], ans[2048], real[4], p1[4], p2[4];
	struct dns_msg m;
	struct offer o;
	struct dns_name want;
	size_t ql;
	ssize_t n;

	dns_msg_init(&m);
	inet_pton(AF_INET, "203.0.113.10", real);
	inet_pton(AF_INET, "100.96.0.1", p1);
	inet_pton(AF_INET, "100.96.0.2", p2);
	offer4(&o, "100.96.0.1", "100.96.0.2");
	ql = make_query(q, sizeof(q), 0x1234, "App.corp.test", DNS_T_A, &o);
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	parse(&m, ans, n);
	assert_int_equal(m.id, 0x1234);
	assert_int_equal(rcode_of(ans), DNS_RCODE_NOERROR);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 1);
	assert_int_equal(m.rr[0].type, DNS_T_A);
	assert_memory_equal(m.rr[0].rdata, p1, 4);
	assert_false(has_bytes(ans, (size_t)n, real, 4)); /* the real address never leaves */
	assert_memory_equal(ans + 12, q + 12, m.q.name.len); /* the question as asked */
	assert_true(m.edns.present);
	assert_int_equal(m.edns.opts_len, 0);               /* no offer back */
	/* bound() came first, with what the answer bound. */
	assert_int_equal(e->f.bound_calls, 1);
	assert_false(e->f.answer_before_bound);
	assert_int_equal(e->f.last_family, AF_INET);
	assert_memory_equal(e->f.last_proxy, p1, 4);
	assert_memory_equal(e->f.last_real, real, 4);
	assert_int_equal(dns_name_from_text(&want, "app.corp.test"), 0);
	assert_int_equal(e->f.last_name.len, want.len);
	assert_memory_equal(e->f.last_name.data, want.data, want.len); /* lowercased */

	/* Asked again with a fresh offer: the same proxy IP, nothing new bound. */
	offer4(&o, "100.96.0.3", NULL);
	ql = make_query(q, sizeof(q), 0x1235, "app.corp.test", DNS_T_A, &o);
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	parse(&m, ans, n);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 1);
	assert_memory_equal(m.rr[0].rdata, p1, 4);
	assert_int_equal(e->f.bound_calls, 1);

	/* Without any offer: the bindings the client has. */
	ql = make_query(q, sizeof(q), 0x1236, "app.corp.test", DNS_T_A, NULL);
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	parse(&m, ans, n);
	assert_false(m.edns.present);
	assert_memory_equal(m.rr[0].rdata, p1, 4);
	/* ...and SERVFAIL for a name it has none for. */
	ql = make_query(q, sizeof(q), 0x1237, "app2.corp.test", DNS_T_A, NULL);
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	assert_true(n >= 12);
	assert_int_equal(rcode_of(ans), DNS_RCODE_SERVFAIL);
	dns_msg_free(&m);
}

/* A gateway restart: a fresh table, the client re-offering its proxy IPs
 * first, gets the same ones back. Also over IPv6, for AAAA. */
static void test_restart_same_proxies(void **state)
{
	struct env *e = *state;
	uint8_t q[512], ans[2048], p6[16], real6[16];
	struct dns_msg m;
	struct offer o;
	size_t ql;
	ssize_t n;

	dns_msg_init(&m);
	memset(&o, 0, sizeof(o));
	inet_pton(AF_INET6, "fd00:2021:1111:8000::7", p6);
	inet_pton(AF_INET6, "2001:db8::10", real6);
	memcpy(o.v6[0], p6, 16);
	inet_pton(AF_INET6, "fd00:2021:1111:8000::8", o.v6[1]);
	o.n6 = 2;
	for (int round = 0; round < 2; round++) {
		binding_table_free(e->f.t);
		e->f.t = binding_table_new(BINDING_DEFAULT_MAX);
		ql = make_query(q, sizeof(q), (uint16_t)(7 + round), "app.corp.test", DNS_T_AAAA,
				&o);
		n = ask_udp(e, AF_INET6, EP6, EP6, q, ql, ans, sizeof(ans));
		parse(&m, ans, n);
		assert_int_equal(m.count[DNS_SEC_ANSWER], 1);
		assert_int_equal(m.rr[0].type, DNS_T_AAAA);
		assert_memory_equal(m.rr[0].rdata, p6, 16);
		assert_false(has_bytes(ans, (size_t)n, real6, 16));
		assert_int_equal(e->f.last_family, AF_INET6);
		assert_memory_equal(e->f.last_real, real6, 16);
	}
	dns_msg_free(&m);
}

static void test_refused(void **state)
{
	struct env *e = *state;
	uint8_t q[512], ans[2048];
	struct offer o;
	size_t ql;
	ssize_t n;

	offer4(&o, "100.96.0.20", NULL);
	/* Nobody's address. */
	ql = make_query(q, sizeof(q), 1, "app.corp.test", DNS_T_A, &o);
	n = ask_udp(e, AF_INET, STRANGER4, EP4, q, ql, ans, sizeof(ans));
	assert_true(n >= 12);
	assert_int_equal(rcode_of(ans), DNS_RCODE_REFUSED);
	assert_int_equal(ans[7], 0); /* no answers */
	/* A name no resource covers. */
	ql = make_query(q, sizeof(q), 2, "secret.other.test", DNS_T_A, &o);
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	assert_int_equal(rcode_of(ans), DNS_RCODE_REFUSED);
	/* Class CH, a zone transfer. */
	ql = make_query(q, sizeof(q), 3, "app.corp.test", DNS_T_A, &o);
	{
		size_t cls = 12 + 15 + 2; /* app.corp.test is 15 bytes */

		q[cls + 1] = 3;
		n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
		assert_int_equal(rcode_of(ans), DNS_RCODE_REFUSED);
	}
	ql = make_query(q, sizeof(q), 4, "corp.test", 252, NULL);
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	assert_int_equal(rcode_of(ans), DNS_RCODE_REFUSED);
	/* Revoked: no client, nothing covered, nothing bound. */
	e->f.live = false;
	ql = make_query(q, sizeof(q), 5, "app.corp.test", DNS_T_A, &o);
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	e->f.live = true;
	assert_int_equal(rcode_of(ans), DNS_RCODE_REFUSED);
	assert_int_equal(e->f.bound_calls, 0);
}

/* TXT, SRV, MX: dnsmasq's records, as dnsmasq gave them to anyone. */
static void test_pass_through(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *name;
		uint16_t type;
	} qs[] = { { "txt.corp.test", DNS_T_TXT },
		   { "_http._tcp.corp.test", DNS_T_SRV },
		   { "corp.test", DNS_T_MX } };
	uint8_t q[512], ans[2048], direct[2048];
	struct dns_msg m, d;

	dns_msg_init(&m);
	dns_msg_init(&d);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		size_t ql = make_query(q, sizeof(q), (uint16_t)(40 + i), qs[i].name, qs[i].type,
				       NULL);
		ssize_t n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
		ssize_t dn = gw_udp_ask(AF_INET, DM_ADDR, DM_PORT, NULL, q, ql, direct,
					sizeof(direct), 2000);

		parse(&m, ans, n);
		parse(&d, direct, dn);
		assert_int_equal(m.id, 40 + i);
		assert_int_equal(rcode_of(ans), DNS_RCODE_NOERROR);
		assert_int_equal(m.count[DNS_SEC_ANSWER], d.count[DNS_SEC_ANSWER]);
		assert_true(m.count[DNS_SEC_ANSWER] >= 1);
		for (size_t k = 0; k < m.count[DNS_SEC_ANSWER]; k++) {
			assert_int_equal(m.rr[k].type, d.rr[k].type);
			assert_true(dns_name_equal(&m.rr[k].name, &d.rr[k].name));
			assert_int_equal(m.rr[k].rdlen, d.rr[k].rdlen);
			assert_memory_equal(m.rr[k].rdata, d.rr[k].rdata, d.rr[k].rdlen);
			assert_true(m.rr[k].ttl <= d.rr[k].ttl);
		}
	}
	assert_int_equal(e->f.bound_calls, 0);
	dns_msg_free(&m);
	dns_msg_free(&d);
}

/* An HTTPS record passes without its address hints: they are real addresses. */
static void test_https_hints_cut(void **state)
{
	struct env *e = *state;
	static const uint8_t kept[] = { 0, 1, 0, 0, 1, 0, 3, 2, 'h', '2' };
	uint8_t q[512], ans[2048], real[4];
	struct dns_msg m;
	size_t ql = make_query(q, sizeof(q), 77, "https.corp.test", DNS_T_HTTPS, NULL);
	ssize_t n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));

	dns_msg_init(&m);
	parse(&m, ans, n);
	assert_int_equal(rcode_of(ans), DNS_RCODE_NOERROR);
	assert_int_equal(m.count[DNS_SEC_ANSWER], 1);
	assert_int_equal(m.rr[0].type, DNS_T_HTTPS);
	assert_int_equal(m.rr[0].rdlen, sizeof(kept));
	assert_memory_equal(m.rr[0].rdata, kept, sizeof(kept));
	inet_pton(AF_INET, "203.0.113.10", real);
	assert_false(has_bytes(ans, (size_t)n, real, 4));
	/* dnsmasq itself gave the hints. */
	n = gw_udp_ask(AF_INET, DM_ADDR, DM_PORT, NULL, q, ql, ans, sizeof(ans), 2000);
	assert_true(n > 0 && has_bytes(ans, (size_t)n, real, 4));
	dns_msg_free(&m);
}

static void test_formerr(void **state)
{
	struct env *e = *state;
	uint8_t q[512], ans[2048];
	struct offer o;
	size_t ql;
	ssize_t n;
	struct dnsep_stats st;

	offer4(&o, "100.96.0.30", NULL);
	ql = make_query(q, sizeof(q), 9, "app.corp.test", DNS_T_A, &o);
	/* The offer is the last 4 + 7 bytes: make its length claim one byte short
	 * of its counts (n4 1 needs 7). */
	assert_int_equal(q[ql - 11], 0xfd);
	assert_int_equal(q[ql - 10], 0xe9);
	q[ql - 6] = 2; /* n4 = 2, with room for one */
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	assert_true(n >= 12);
	assert_int_equal(rcode_of(ans), DNS_RCODE_FORMERR);
	assert_int_equal(ans[0], 0);
	assert_int_equal(ans[1], 9);
	/* An unknown version. */
	q[ql - 6] = 1;
	q[ql - 7] = 2;
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	assert_int_equal(rcode_of(ans), DNS_RCODE_FORMERR);
	/* A question cut short: FORMERR with the header alone. */
	ql = make_query(q, sizeof(q), 10, "app.corp.test", DNS_T_A, NULL);
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql - 3, ans, sizeof(ans));
	assert_int_equal(n, 12);
	assert_int_equal(rcode_of(ans), DNS_RCODE_FORMERR);
	/* No header at all, or an answer: dropped, no reply. */
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, 5, ans, sizeof(ans));
	assert_int_equal(n, -1);
	dnsep_get_stats(e->ep, &st);
	assert_true(st.dropped >= 1);
	assert_true(st.formerr >= 3);
	assert_int_equal(e->f.bound_calls, 0);
}

/* The daemon cannot install a binding: SERVFAIL, and the binding is gone, so
 * the same offer works once the daemon can. */
static void test_bound_fails(void **state)
{
	struct env *e = *state;
	uint8_t q[512], ans[2048], p[4], real[4];
	struct dns_msg m;
	struct offer o;
	size_t ql;
	ssize_t n;

	dns_msg_init(&m);
	inet_pton(AF_INET, "100.96.0.40", p);
	offer4(&o, "100.96.0.40", NULL);
	e->f.fail_bound = -ENOSPC;
	ql = make_query(q, sizeof(q), 11, "app2.corp.test", DNS_T_A, &o);
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	assert_true(n >= 12);
	assert_int_equal(rcode_of(ans), DNS_RCODE_SERVFAIL);
	assert_int_equal(ans[7], 0);
	assert_int_equal(e->f.bound_calls, 1);
	assert_int_equal(binding_count(e->f.t), 0);
	assert_int_equal(binding_lookup_proxy(e->f.t, p, 4, NULL, real), -ENOENT);

	e->f.fail_bound = 0;
	n = ask_udp(e, AF_INET, CLIENT4, EP4, q, ql, ans, sizeof(ans));
	parse(&m, ans, n);
	assert_int_equal(rcode_of(ans), DNS_RCODE_NOERROR);
	assert_memory_equal(m.rr[0].rdata, p, 4);
	assert_int_equal(e->f.bound_calls, 2);
	assert_int_equal(binding_count(e->f.t), 1);
	dns_msg_free(&m);
}

/* Revoked while the resolver worked: the answer is REFUSED, nothing bound. */
static bool query_read(struct env *e)
{
	struct dnsep_stats st;

	dnsep_get_stats(e->ep, &st);
	return st.queries_udp > e->udp_base;
}

/* Runs the endpoint alone (not the resolver) until it has read a query. */
static void endpoint_reads(struct env *e)
{
	uint64_t deadline = time_mono_ns() + 3 * NSEC_PER_SEC;

	while (!query_read(e)) {
		struct pollfd p = { .fd = dnsep_fd(e->ep), .events = POLLIN };

		assert_true(time_mono_ns() < deadline);
		poll(&p, 1, 20);
		dnsep_dispatch(e->ep);
	}
}

static void test_revoked_during_wait(void **state)
{
	struct env *e = *state;
	uint8_t q[512], ans[2048];
	struct offer o;
	size_t ql;
	int fd = udp_socket(AF_INET, CLIENT4, EP4);

	struct dnsep_stats st;

	dnsep_get_stats(e->ep, &st);
	e->udp_base = st.queries_udp;
	offer4(&o, "100.96.0.50", NULL);
	ql = make_query(q, sizeof(q), 12, "co.corp.test", DNS_T_A, &o); /* not cached yet */
	assert_int_equal(send(fd, q, ql, 0), (ssize_t)ql);
	/* The resolver's answer waits until the client is gone. */
	endpoint_reads(e);
	e->f.live = false;
	assert_true(run_until_fd(e, fd, 3000));
	e->f.live = true;
	assert_true(recv(fd, ans, sizeof(ans), 0) >= 12);
	assert_int_equal(rcode_of(ans), DNS_RCODE_REFUSED);
	assert_int_equal(e->f.bound_calls, 0);
	close(fd);
}

/* TCP: a length prefix each way, two queries on one connection. */
static void test_tcp(void **state)
{
	struct env *e = *state;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DNSEP_PORT) };
	struct sockaddr_in b = { .sin_family = AF_INET };
	uint8_t q[2 + 512], ans[4096], p[4];
	struct dns_msg m;
	struct offer o;
	size_t ql, have = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	dns_msg_init(&m);
	inet_pton(AF_INET, EP4, &a.sin_addr);
	inet_pton(AF_INET, CLIENT4, &b.sin_addr);
	inet_pton(AF_INET, "100.96.0.60", p);
	assert_int_equal(bind(fd, (struct sockaddr *)&b, sizeof(b)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0); /* the backlog takes it */
	offer4(&o, "100.96.0.60", NULL);
	for (uint16_t id = 100; id < 102; id++) {
		size_t want = 0;

		ql = make_query(q + 2, sizeof(q) - 2, id, id == 100 ? "short.corp.test" :
				"txt.corp.test", id == 100 ? DNS_T_A : DNS_T_TXT, &o);
		q[0] = (uint8_t)(ql >> 8);
		q[1] = (uint8_t)ql;
		assert_int_equal(send(fd, q, ql + 2, 0), (ssize_t)ql + 2);
		have = 0;
		for (;;) {
			ssize_t n;

			assert_true(run_until_fd(e, fd, 3000));
			n = recv(fd, ans + have, sizeof(ans) - have, 0);
			assert_true(n > 0);
			have += (size_t)n;
			if (have >= 2 && have >= 2 + (want = (size_t)ans[0] << 8 | ans[1]))
				break;
		}
		assert_int_equal(have, 2 + want);
		parse(&m, ans + 2, (ssize_t)want);
		assert_int_equal(m.id, id);
		assert_int_equal(rcode_of(ans + 2), DNS_RCODE_NOERROR);
		if (id == 100)
			assert_memory_equal(m.rr[0].rdata, p, 4);
		else
			assert_int_equal(m.rr[0].type, DNS_T_TXT);
	}
	close(fd);
	dns_msg_free(&m);
}

/* An idle TCP connection is closed (tcp_idle_ms is 300 here). */
static void test_tcp_idle(void **state)
{
	struct env *e = *state;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DNSEP_PORT) };
	uint8_t c;
	uint64_t t0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, EP4, &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	t0 = time_mono_ns();
	assert_true(run_until_fd(e, fd, 3000));
	assert_int_equal(recv(fd, &c, 1, 0), 0); /* EOF */
	assert_true(time_mono_ns() - t0 >= 250 * NSEC_PER_MSEC);
	close(fd);
}

/* A query trickled a byte every 100 ms: the bytes after the first do not keep
 * the connection (dns/tcpslots.h), so it is closed once the first one's
 * allowance (tcp_idle_ms, 300 here, below the 2 s query deadline) is out. */
static void test_tcp_trickle(void **state)
{
	struct env *e = *state;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DNSEP_PORT) };
	uint8_t c = 0, q[40] = { 0, 38 };
	uint64_t t0;
	size_t sent = 0;
	bool closed = false;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, EP4, &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	t0 = time_mono_ns();
	while (!closed && sent < sizeof(q)) {
		if (send(fd, q + sent++, 1, MSG_NOSIGNAL) != 1)
			break;
		if (run_until_fd(e, fd, 100))
			closed = recv(fd, &c, 1, 0) <= 0;
	}
	if (!closed) {
		assert_true(run_until_fd(e, fd, 3000));
		assert_true(recv(fd, &c, 1, 0) <= 0);
	}
	/* 300 ms, and the margin of a loaded machine; not the 4 s of bytes. */
	assert_true(time_mono_ns() - t0 < 1500 * NSEC_PER_MSEC);
	assert_true(sent < 15);
	close(fd);
}

/* The real dig, with the offer as a raw EDNS option (version 1, n4 1, n6 0,
 * 100.96.0.70). */
static void test_dig(void **state)
{
	struct env *e = *state;
	char out[256] = { 0 };
	int pipefd[2], status = -1;
	size_t have = 0;
	pid_t pid;
	uint64_t deadline = time_mono_ns() + 5 * NSEC_PER_SEC;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execlp("dig", "dig", "+short", "+tries=1", "+time=3", "+ednsopt=65001:01010064600046",
		       "-p", "53535", "-b", CLIENT4, "@" EP4, "app2.corp.test", "A", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n;

		assert_true(time_mono_ns() < deadline);
		run_until_fd(e, pipefd[0], 50);
		n = read(pipefd[0], out + have, sizeof(out) - 1 - have);
		if (n > 0)
			have += (size_t)n;
		if (n == 0 && waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	close(pipefd[0]);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(out, "100.96.0.70\n");
}

/* The resolver times out: SERVFAIL; and over max_pending: SERVFAIL at once. */
static void test_upstream_timeout(void **state)
{
	struct env *e = *state;
	struct resolver_config rc = { .servers = "127.0.0.3:5353", .timeout_ms = 200, .tries = 1 };
	struct sockaddr_storage addr = { 0 };
	struct dnsep_config cfg = { .addrs = &addr, .n_addrs = 1, .max_pending = 1 };
	struct sockaddr_in *a = (struct sockaddr_in *)&addr;
	struct resolver *saved_r = e->r;
	struct dnsep *saved_ep = e->ep;
	uint8_t q[512], ans[2048];
	struct dnsep_stats st;
	size_t ql;
	int fd1, fd2;

	a->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.4", &a->sin_addr);
	assert_int_equal(resolver_new(&rc, &e->r), 0);
	cfg.resolver = e->r;
	assert_int_equal(dnsep_new(&cfg, &fk_ops, &e->f, &e->ep), 0);
	e->udp_base = 0;
	ql = make_query(q, sizeof(q), 13, "app.corp.test", DNS_T_TXT, NULL);
	fd1 = udp_socket(AF_INET, CLIENT4, "127.0.0.4");
	fd2 = udp_socket(AF_INET, CLIENT4, "127.0.0.4");
	assert_int_equal(send(fd1, q, ql, 0), (ssize_t)ql);
	endpoint_reads(e);
	assert_int_equal(send(fd2, q, ql, 0), (ssize_t)ql);
	assert_true(run_until_fd(e, fd2, 3000));
	assert_true(recv(fd2, ans, sizeof(ans), 0) >= 12);
	assert_int_equal(rcode_of(ans), DNS_RCODE_SERVFAIL);
	assert_true(run_until_fd(e, fd1, 3000));
	assert_true(recv(fd1, ans, sizeof(ans), 0) >= 12);
	assert_int_equal(rcode_of(ans), DNS_RCODE_SERVFAIL);
	dnsep_get_stats(e->ep, &st);
	assert_int_equal(st.busy, 1);
	assert_int_equal(st.servfail, 2);
	close(fd1);
	close(fd2);
	dnsep_free(e->ep);
	resolver_free(e->r);
	e->ep = saved_ep;
	e->r = saved_r;
}

static int tcp_to(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DNSEP_PORT) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, ip, &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* All slots taken (2 here): a newcomer closes the least recently active
 * connection rather than being refused; over half taken, the idle allowance is
 * the short one (1 s, not tcp_idle_ms's 10 s). */
static void test_tcp_full(void **state)
{
	struct env *e = *state;
	struct sockaddr_storage addr = { 0 };
	struct dnsep_config cfg = { .addrs = &addr, .n_addrs = 1, .max_tcp_conns = 2 };
	struct sockaddr_in *a = (struct sockaddr_in *)&addr;
	struct dnsep *saved_ep = e->ep;
	struct dnsep_stats st;
	uint64_t t0;
	uint8_t c;
	int fd1, fd2, fd3;

	a->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.5", &a->sin_addr);
	cfg.resolver = e->r;
	assert_int_equal(dnsep_new(&cfg, &fk_ops, &e->f, &e->ep), 0);
	fd1 = tcp_to("127.0.0.5");
	assert_false(run_until_fd(e, fd1, 50)); /* accepted, kept */
	fd2 = tcp_to("127.0.0.5");
	t0 = time_mono_ns();
	assert_false(run_until_fd(e, fd2, 50));
	fd3 = tcp_to("127.0.0.5");
	assert_true(run_until_fd(e, fd1, 500));
	assert_int_equal(recv(fd1, &c, 1, 0), 0);
	assert_false(run_until_fd(e, fd3, 50));
	dnsep_get_stats(e->ep, &st);
	assert_int_equal(st.tcp_evicted, 1);
	/* fd2 and fd3: 2 of 2 taken, so 1 s idle each. */
	assert_true(run_until_fd(e, fd2, 3000));
	assert_int_equal(recv(fd2, &c, 1, 0), 0);
	assert_true(time_mono_ns() - t0 >= 900 * NSEC_PER_MSEC);
	assert_true(time_mono_ns() - t0 < 2500 * NSEC_PER_MSEC);
	dnsep_get_stats(e->ep, &st);
	assert_true(st.tcp_expired >= 1);
	close(fd1);
	close(fd2);
	close(fd3);
	dnsep_free(e->ep);
	e->ep = saved_ep;
}

/* The endpoint's own time for a new name, next to dnsmasq's: a diagnostic,
 * not a bound (the machine is shared). */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_timing(void **state)
{
	enum { N = 1000 };
	struct env *e = *state;
	static uint64_t via[N], direct[N];
	uint8_t q[512], ans[2048];
	int fd = udp_socket(AF_INET, CLIENT4, EP4);

	for (unsigned i = 0; i < N; i++) {
		char name[64];
		struct offer o = { .n4 = 1 };
		size_t ql;
		uint64_t t0;

		o.v4[0][0] = 100;
		o.v4[0][1] = 97;
		o.v4[0][2] = (uint8_t)(i >> 8);
		o.v4[0][3] = (uint8_t)(i + 1);
		snprintf(name, sizeof(name), "n%u.bulk.test", i);
		ql = make_query(q, sizeof(q), (uint16_t)i, name, DNS_T_A, &o);
		t0 = time_mono_ns();
		assert_int_equal(send(fd, q, ql, 0), (ssize_t)ql);
		assert_true(run_until_fd(e, fd, 3000));
		assert_true(recv(fd, ans, sizeof(ans), 0) > 12);
		via[i] = time_mono_ns() - t0;
		assert_int_equal(rcode_of(ans), DNS_RCODE_NOERROR);
		snprintf(name, sizeof(name), "d%u.bulk.test", i);
		ql = make_query(q, sizeof(q), (uint16_t)i, name, DNS_T_A, NULL);
		t0 = time_mono_ns();
		assert_true(gw_udp_ask(AF_INET, DM_ADDR, DM_PORT, NULL, q, ql, ans, sizeof(ans),
				       3000) > 12);
		direct[i] = time_mono_ns() - t0;
	}
	close(fd);
	qsort(via, N, sizeof(via[0]), cmp_u64);
	qsort(direct, N, sizeof(direct[0]), cmp_u64);
	fprintf(stderr,
		"# new name, median of %d: through the endpoint %.1f us, dnsmasq alone %.1f us, "
		"the endpoint's own %.1f us\n",
		N, via[N / 2] / 1e3, direct[N / 2] / 1e3,
		((double)via[N / 2] - (double)direct[N / 2]) / 1e3);
}

/* ---- setup ---- */

static int setup(void **state)
{
	static struct env e;
	struct resolver_config rc = { .servers = DM_SERVERS, .timeout_ms = 1000, .tries = 1 };
	struct sockaddr_storage addrs[2] = { 0 };
	struct dnsep_config cfg = { .addrs = addrs, .n_addrs = 2, .tcp_idle_ms = 300 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DM_PORT) };

	if (gw_netns("test_gw_dnsep") < 0)
		return -1;
	inet_pton(AF_INET, "127.0.0.3", &a.sin_addr);
	e.hole = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e.hole < 0 || bind(e.hole, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	if (dnsmasq_start(&e.dm) < 0) {
		dnsmasq_stop(&e.dm);
		return -1;
	}
	addrs[0].ss_family = AF_INET;
	inet_pton(AF_INET, EP4, &((struct sockaddr_in *)&addrs[0])->sin_addr);
	addrs[1].ss_family = AF_INET6;
	inet_pton(AF_INET6, EP6, &((struct sockaddr_in6 *)&addrs[1])->sin6_addr);
	if (resolver_new(&rc, &e.r) < 0)
		goto fail;
	cfg.resolver = e.r;
	if (dnsep_new(&cfg, &fk_ops, &e.f, &e.ep) < 0 ||
	    pattern_compile("**.corp.test", &e.f.pat[0], NULL, 0) < 0 ||
	    pattern_compile("*.bulk.test", &e.f.pat[1], NULL, 0) < 0)
		goto fail;
	*state = &e;
	return 0;
fail:
	dnsmasq_stop(&e.dm);
	return -1;
}

static int teardown(void **state)
{
	struct env *e = *state;

	dnsep_free(e->ep);
	resolver_free(e->r);
	pattern_free(e->f.pat[0]);
	pattern_free(e->f.pat[1]);
	dnsmasq_stop(&e->dm);
	close(e->hole);
	return 0;
}

/* Each test starts with a live client and an empty table. */
static int each(void **state)
{
	struct env *e = *state;

	binding_table_free(e->f.t);
	e->f.t = binding_table_new(BINDING_DEFAULT_MAX);
	e->f.live = true;
	e->f.fail_bound = 0;
	e->f.bound_calls = 0;
	e->f.answer_before_bound = false;
	e->f.watch_fd = -1;
	return e->f.t ? 0 : -1;
}

static int each_end(void **state)
{
	struct env *e = *state;

	binding_table_free(e->f.t);
	e->f.t = NULL;
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, each, each_end)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_a_gets_offered_proxy), T(test_restart_same_proxies), T(test_refused),
		T(test_pass_through),         T(test_https_hints_cut),      T(test_formerr),              T(test_bound_fails),
		T(test_revoked_during_wait),  T(test_tcp),                  T(test_tcp_idle),
		T(test_tcp_trickle),          T(test_dig),                  T(test_upstream_timeout),     T(test_tcp_full),
		T(test_timing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
