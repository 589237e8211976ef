/* net/prefix: parsing (syntax, lengths, host bits), text, containment and
 * overlap, as the gateway's and the client's ranges use them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "net/prefix.h"

static struct net_prefix pfx(const char *s)
{
	struct net_prefix p;

	assert_int_equal(prefix_parse(s, &p), 0);
	return p;
}

static void test_parse(void **state)
{
	static const char *const bad[] = {
		"", "/24", "1.2.3.4/", "1.2.3.4/33", "fd00::1/129", "1.2.3.1/24", "fd00::1/64",
		"1.2.3.0/+24", "1.2.3.0/ 24", "1.2.3.0/-1", "1.2.3.0/24x", "1.2.3.0/0024",
		"1.2.3", "x", "1.2.3.4/24/1", "fd00::/64 ",
		"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255x/128",
	};
	struct net_prefix p;
	char buf[PREFIX_STRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(prefix_parse(bad[i], &p), -EINVAL);
	p = pfx("100.96.0.0/11");
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 11);
	assert_string_equal(prefix_str(&p, buf, sizeof(buf)), "100.96.0.0/11");
	p = pfx("1.2.3.4"); /* a bare address: its full length */
	assert_int_equal(p.len, 32);
	assert_string_equal(prefix_str(&p, buf, sizeof(buf)), "1.2.3.4/32");
	p = pfx("fd00:2021:1111:8000::/107");
	assert_int_equal(p.family, AF_INET6);
	assert_string_equal(prefix_str(&p, buf, sizeof(buf)), "fd00:2021:1111:8000::/107");
	p = pfx("fd00::1");
	assert_int_equal(p.len, 128);
	p = pfx("0.0.0.0/0");
	assert_int_equal(p.len, 0);
	p = pfx("1.2.3.0/024"); /* up to 3 digits */
	assert_int_equal(p.len, 24);
	assert_true(prefix_valid(&p));
	p.addr[3] = 1;
	assert_false(prefix_valid(&p)); /* a host bit */
	p.family = AF_UNIX;
	assert_false(prefix_valid(&p));
	assert_int_equal(prefix_addr_len(AF_INET), 4);
	assert_int_equal(prefix_addr_len(AF_INET6), 16);
	assert_int_equal(prefix_addr_len(AF_UNIX), 0);
}

static void test_contains(void **state)
{
	uint8_t in[4] = { 100, 100, 111, 9 }, out[4] = { 100, 128, 0, 1 }, six[16];
	struct net_prefix a = pfx("100.96.0.0/11"), b;

	(void)state;
	assert_true(prefix_contains(&a, AF_INET, in));
	assert_false(prefix_contains(&a, AF_INET, out));
	assert_int_equal(inet_pton(AF_INET6, "fd00:2021:1111:8000::1", six), 1);
	assert_false(prefix_contains(&a, AF_INET6, six));
	b = pfx("0.0.0.0/0");
	assert_true(prefix_contains(&b, AF_INET, out));
	b = pfx("fd00:2021:1111:8000::/107");
	assert_true(prefix_contains(&b, AF_INET6, six));
	assert_false(prefix_contains(&b, AF_INET, in));
	/* built from an address with host bits (a resource's ip and length) */
	b = prefix_make(AF_INET, in, 16);
	assert_true(prefix_valid(&b));
	assert_int_equal(b.addr[2], 0);
	assert_true(prefix_contains(&b, AF_INET, in));
	assert_false(prefix_contains(&b, AF_INET, out));
	b = prefix_make(AF_INET, in, 40); /* clamped */
	assert_int_equal(b.len, 32);
	assert_true(prefix_contains(&b, AF_INET, in));
	b.addr[3] = 8;
	assert_false(prefix_contains(&b, AF_INET, in));
}

static void test_overlap(void **state)
{
	struct net_prefix a = pfx("100.96.0.0/11"), b = pfx("100.100.0.0/16");

	(void)state;
	assert_true(prefix_overlaps(&a, &b));
	assert_true(prefix_overlaps(&b, &a));
	assert_true(prefix_inside(&b, &a));
	assert_false(prefix_inside(&a, &b));
	assert_true(prefix_inside(&a, &a));
	b = pfx("100.128.0.0/9");
	assert_false(prefix_overlaps(&a, &b));
	assert_false(prefix_inside(&a, &b));
	b = pfx("0.0.0.0/0");
	assert_true(prefix_overlaps(&a, &b));
	assert_true(prefix_inside(&a, &b));
	b = pfx("::/0");
	assert_false(prefix_overlaps(&a, &b)); /* another family */
	assert_false(prefix_inside(&a, &b));
	a = pfx("fd00:2021:1111:8000::/107");
	b = pfx("fd00:2021:1111:8000:100:100:111:0/120");
	assert_false(prefix_overlaps(&a, &b));
	b = pfx("fd00:2021:1111:8000::1100/120");
	assert_true(prefix_inside(&b, &a));
	assert_true(prefix_overlaps(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_overlap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
