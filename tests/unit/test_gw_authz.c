/* The gateway's authorization table: put, replace, revoke, expiry, init's
 * retain, resource changes, one client's bad data refused alone, DNS coverage
 * by precedence, bindings forgotten with their resource, and the flow lookup. */
#include "binding_test.h"

#include <sys/socket.h>

#include "gateway/authz.h"

static void unused_helpers(void)
{
	(void)set16;
}

static void client(struct ctl_client *c, uint64_t id)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	memset(c->public_key, (int)id, sizeof(c->public_key));
	c->tunnel_ipv4.family = AF_INET;
	v4(c->tunnel_ipv4.addr, "100.64.0.0");
	c->tunnel_ipv4.addr[3] = (uint8_t)id;
	c->tunnel_ipv6.family = AF_INET6;
	v6(c->tunnel_ipv6.addr, "fd00:2021:1111::");
	c->tunnel_ipv6.addr[15] = (uint8_t)id;
}

static void res_dns(struct ctl_resource *r, uint64_t id, const char *pattern)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->type = CTL_RES_DNS;
	snprintf(r->address, sizeof(r->address), "%s", pattern);
	snprintf(r->name, sizeof(r->name), "r%llu", (unsigned long long)id);
}

static void res_cidr(struct ctl_resource *r, uint64_t id, const char *net, uint8_t prefix)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->type = prefix == 32 ? CTL_RES_IP : CTL_RES_CIDR;
	snprintf(r->address, sizeof(r->address), "%s/%u", net, prefix);
	snprintf(r->name, sizeof(r->name), "c%llu", (unsigned long long)id);
	r->ip.family = AF_INET;
	v4(r->ip.addr, net);
	r->prefix = prefix;
}

static void auth(struct ctl_authorization *a, uint64_t cid, const struct ctl_resource *r,
		 int64_t exp, uint8_t psk)
{
	memset(a, 0, sizeof(*a));
	a->ref = cid * 1000 + r->id;
	client(&a->client, cid);
	a->resource = *r;
	a->expires_at = exp;
	memset(a->psk, psk, sizeof(a->psk));
}

static size_t drain(struct authz *z)
{
	size_t n = 0;

	while (authz_take_dirty(z))
		n++;
	return n;
}

static void test_put_revoke_release(void **state)
{
	struct authz *z = authz_new(0);
	struct ctl_resource r1, r2;
	struct ctl_authorization a;
	struct authz_client *c;
	struct authz_grant g[4];
	uint8_t addr[16];

	(void)state;
	res_dns(&r1, 1, "nas.home.int");
	res_cidr(&r2, 2, "203.0.113.128", 25);
	auth(&a, 7, &r1, 1000, 0xaa);
	assert_int_equal(authz_put(z, &a), 0);
	auth(&a, 7, &r2, 500, 0xaa);
	assert_int_equal(authz_put(z, &a), 0);
	assert_int_equal(authz_count(z), 1);
	c = authz_client_by_id(z, 7);
	assert_non_null(c);
	v4(addr, "100.64.0.7");
	assert_ptr_equal(authz_client_by_addr(z, AF_INET, addr), c);
	v6(addr, "fd00:2021:1111::7");
	assert_ptr_equal(authz_client_by_addr(z, AF_INET6, addr), c);
	v4(addr, "100.64.0.8");
	assert_null(authz_client_by_addr(z, AF_INET, addr));
	assert_int_equal(authz_client_grants(c, g, 4), 2);
	assert_int_equal(authz_next_expiry(z), 500);
	assert_ptr_equal(authz_take_dirty(z), c); /* queued once for both */
	assert_null(authz_take_dirty(z));

	/* A replacement moves the expiry; a new PSK replaces the pair's. */
	auth(&a, 7, &r2, 2000, 0xbb);
	assert_int_equal(authz_put(z, &a), 0);
	assert_int_equal(authz_next_expiry(z), 1000);
	assert_int_equal(authz_client_psk(c)[0], 0xbb);
	assert_int_equal(drain(z), 1);

	assert_int_equal(authz_revoke(z, 7, 1), 0);
	assert_int_equal(authz_revoke(z, 7, 1), -ENOENT);
	assert_int_equal(authz_revoke(z, 9, 2), -ENOENT);
	assert_false(authz_client_empty(c));
	assert_int_equal(authz_revoke(z, 7, 2), 0);
	assert_true(authz_client_empty(c));
	assert_ptr_equal(authz_take_dirty(z), c); /* the daemon cleans up, then: */
	authz_client_release(z, c);
	assert_int_equal(authz_count(z), 0);
	v4(addr, "100.64.0.7");
	assert_null(authz_client_by_addr(z, AF_INET, addr));
	assert_int_equal(authz_next_expiry(z), INT64_MAX);
	authz_free(z);
}

static void test_bad_data_refused_alone(void **state)
{
	struct authz *z = authz_new(0);
	struct ctl_resource r;
	struct ctl_authorization a;

	(void)state;
	res_dns(&r, 1, "nas.home.int");
	auth(&a, 1, &r, 100, 1);
	assert_int_equal(authz_put(z, &a), 0);
	drain(z);

	/* Another id with client 1's tunnel address. */
	auth(&a, 2, &r, 100, 1);
	a.client.tunnel_ipv4.addr[3] = 1;
	assert_int_equal(authz_put(z, &a), -EEXIST);
	/* Another id with client 1's key. */
	auth(&a, 3, &r, 100, 1);
	memset(a.client.public_key, 1, sizeof(a.client.public_key));
	assert_int_equal(authz_put(z, &a), -EEXIST);
	/* Client 1 again with another key. */
	auth(&a, 1, &r, 100, 1);
	a.client.public_key[0] ^= 1;
	assert_int_equal(authz_put(z, &a), -EEXIST);
	/* A pattern the gateway cannot use. */
	auth(&a, 4, &r, 100, 1);
	snprintf(a.resource.address, sizeof(a.resource.address), "**");
	assert_int_equal(authz_put(z, &a), -EINVAL);
	assert_null(authz_client_by_id(z, 4));
	/* A missing family. */
	auth(&a, 5, &r, 100, 1);
	a.client.tunnel_ipv6.family = 0;
	assert_int_equal(authz_put(z, &a), -EINVAL);

	assert_int_equal(authz_count(z), 1);
	assert_int_equal(drain(z), 0); /* nothing of client 1 changed */
	auth(&a, 6, &r, 100, 1);
	assert_int_equal(authz_put(z, &a), 0); /* and others still come in */
	assert_int_equal(authz_count(z), 2);
	authz_free(z);
}

static void test_expiry_and_retain(void **state)
{
	struct authz *z = authz_new(0);
	struct ctl_resource r1, r2;
	struct ctl_authorization v[3];

	(void)state;
	res_dns(&r1, 1, "nas.home.int");
	res_dns(&r2, 2, "*.slack.saas.test");
	auth(&v[0], 1, &r1, 100, 1);
	auth(&v[1], 1, &r2, 200, 1);
	auth(&v[2], 2, &r2, 300, 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(authz_put(z, &v[i]), 0);
	drain(z);
	assert_int_equal(authz_expire(z, 99), 0);
	assert_int_equal(authz_expire(z, 100), 1); /* expires_at is the first second gone */
	assert_int_equal(authz_next_expiry(z), 200);
	assert_int_equal(drain(z), 1);

	/* init after a reconnect lists only client 2's: client 1's goes. */
	authz_retain_refs(z, &v[2], 1);
	assert_true(authz_client_empty(authz_client_by_id(z, 1)));
	assert_false(authz_client_empty(authz_client_by_id(z, 2)));
	/* An empty init ends everything. */
	authz_retain_refs(z, NULL, 0);
	assert_true(authz_client_empty(authz_client_by_id(z, 2)));
	authz_free(z);
}

/* Binds a real address for name through the client's table, as the DNS
 * endpoint does, and records it. */
static void bind_one(struct authz_client *c, const char *qname, const char *real, uint64_t rid,
		     unsigned base, uint8_t proxy[4])
{
	struct dns_msg m;
	struct offer o;
	struct offer_use u;
	struct authz_bind b = { .family = AF_INET, .resource_id = rid };

	const struct rr_spec rr = { DNS_SEC_ANSWER, qname, DNS_T_A, 60, real };

	make_offer(&o, base, 1, 0);
	build(&m, qname, DNS_T_A, DNS_RCODE_NOERROR, &rr, 1);
	assert_int_equal(binding_apply(authz_client_bindings(c), &m, &o, &u), 0);
	assert_int_equal(u.used4, 1);
	memcpy(b.proxy, o.v4[0], 4);
	v4(b.real, real);
	assert_int_equal(authz_bind_add(c, &b), 0);
	memcpy(proxy, o.v4[0], 4);
	dns_msg_free(&m);
}

static void test_dns_cover_and_binds(void **state)
{
	struct authz *z = authz_new(0);
	struct ctl_resource wide, exact, other, cidr;
	struct ctl_authorization a;
	struct authz_client *c;
	struct dns_name n;
	const struct authz_bind *bl;
	uint8_t p1[4], p2[4], dst[4];

	(void)state;
	res_dns(&wide, 1, "**.home.int");
	res_dns(&exact, 2, "nas.home.int");
	res_dns(&other, 3, "gitlab.company.com");
	res_cidr(&cidr, 4, "203.0.113.128", 25);
	auth(&a, 1, &wide, 1000, 1);
	assert_int_equal(authz_put(z, &a), 0);
	auth(&a, 1, &exact, 1000, 1);
	assert_int_equal(authz_put(z, &a), 0);
	auth(&a, 1, &cidr, 1000, 1);
	assert_int_equal(authz_put(z, &a), 0);
	auth(&a, 2, &other, 1000, 2); /* held by someone else only */
	assert_int_equal(authz_put(z, &a), 0);
	c = authz_client_by_id(z, 1);

	n = name("NAS.home.int");
	assert_int_equal(authz_client_covers(c, &n)->id, 2); /* exact wins */
	n = name("x.y.home.int");
	assert_int_equal(authz_client_covers(c, &n)->id, 1);
	n = name("gitlab.company.com");
	assert_null(authz_client_covers(c, &n)); /* not this client's */
	n = name("server.home.org");
	assert_null(authz_client_covers(c, &n));

	bind_one(c, "nas.home.int", "203.0.113.50", 2, 10, p1);
	bind_one(c, "x.home.int", "203.0.113.51", 1, 20, p2);
	assert_int_equal(authz_client_binds(c, &bl), 2);
	assert_int_equal(authz_client_resource_for(c, AF_INET, p1), 2);
	assert_int_equal(authz_client_resource_for(c, AF_INET, p2), 1);
	v4(dst, "203.0.113.200");
	assert_int_equal(authz_client_resource_for(c, AF_INET, dst), 4);
	v4(dst, "203.0.113.50"); /* a real address is nothing by itself */
	assert_int_equal(authz_client_resource_for(c, AF_INET, dst), 0);
	drain(z);

	/* Revoking the exact resource forgets its names only; the wider one
	 * still covers nas.home.int, which will bind afresh when asked. */
	assert_int_equal(authz_revoke(z, 1, 2), 0);
	assert_int_equal(authz_client_binds(c, &bl), 1);
	assert_memory_equal(bl[0].proxy, p2, 4);
	assert_int_equal(binding_count(authz_client_bindings(c)), 1);
	n = name("nas.home.int");
	assert_int_equal(authz_client_covers(c, &n)->id, 1);
	assert_int_equal(authz_client_resource_for(c, AF_INET, p1), 0);

	/* A pattern change ends the names bound under it; filters alone do not. */
	wide.n_filters = 1;
	wide.filters[0] = (struct ctl_filter){ CTL_PROTO_TCP, 443, 443 };
	drain(z);
	assert_int_equal(authz_resource_update(z, &wide), 0);
	assert_int_equal(authz_client_binds(c, &bl), 1);
	assert_int_equal(drain(z), 1);
	snprintf(wide.address, sizeof(wide.address), "*.home.int");
	assert_int_equal(authz_resource_update(z, &wide), 0);
	assert_int_equal(authz_client_binds(c, &bl), 0);
	assert_int_equal(authz_resource_update(z, &other), 0);
	res_dns(&other, 99, "nothing.test");
	assert_int_equal(authz_resource_update(z, &other), -ENOENT);

	/* resource_delete ends it for everyone who holds it. */
	assert_int_equal(authz_resource_delete(z, 1), 1);
	n = name("x.home.int");
	assert_null(authz_client_covers(c, &n));
	/* forget_name drops the record with the binding */
	bind_one(c, "q.home.int", "203.0.113.9", 4, 30, p1);
	n = name("q.home.int");
	authz_bind_forget_name(c, &n);
	assert_int_equal(authz_client_binds(c, &bl), 0);
	authz_free(z);
}

static int count_cb(struct authz_client *c, void *arg)
{
	(void)c;
	++*(size_t *)arg;
	return 0;
}

static int release_cb(struct authz_client *c, void *arg)
{
	authz_client_release(arg, c);
	return 0;
}

/* Many clients: the seeded index keeps every one findable through growth and
 * deletions, and a walk that releases as it goes visits everyone. */
static void test_many_clients(void **state)
{
	struct authz *z = authz_new(0);
	struct ctl_resource r;
	struct ctl_authorization a;
	size_t n = 0;

	(void)state;
	res_cidr(&r, 1, "203.0.113.0", 24);
	for (uint64_t id = 1; id <= 2000; id++) {
		auth(&a, id, &r, 100, 1);
		a.client.tunnel_ipv4.addr[2] = (uint8_t)(id >> 8);
		a.client.tunnel_ipv6.addr[14] = (uint8_t)(id >> 8);
		a.client.public_key[1] = (uint8_t)(id >> 8);
		assert_int_equal(authz_put(z, &a), 0);
	}
	assert_int_equal(authz_count(z), 2000);
	for (uint64_t id = 1; id <= 2000; id += 2)
		authz_client_release(z, authz_client_by_id(z, id));
	for (uint64_t id = 1; id <= 2000; id++) {
		uint8_t addr[4] = { 100, 64, (uint8_t)(id >> 8), (uint8_t)id };
		struct authz_client *c = authz_client_by_addr(z, AF_INET, addr);

		if (id % 2)
			assert_null(c);
		else
			assert_ptr_equal(c, authz_client_by_id(z, id));
	}
	authz_walk(z, count_cb, &n);
	assert_int_equal(n, 1000);
	authz_walk(z, release_cb, z);
	assert_int_equal(authz_count(z), 0);
	authz_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_revoke_release),
		cmocka_unit_test(test_bad_data_refused_alone),
		cmocka_unit_test(test_expiry_and_retain),
		cmocka_unit_test(test_dns_cover_and_binds),
		cmocka_unit_test(test_many_clients),
	};

	unused_helpers();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
