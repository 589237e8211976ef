/* Proxy IP pool: the default plan's order and its sentinel gap, return and
 * reuse, bound addresses never coming back, exhaustion and the pending cap on
 * small ranges, both families, release and restore, randomized runs against a
 * model, and invalid configurations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/pool.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct pool_prefix px(const char *text, unsigned len)
{
	struct pool_prefix p = { .len = (uint8_t)len };

	p.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(p.family, text, p.addr), 1);
	return p;
}

static void take_one(struct pool *p, int family, char *out, size_t outlen)
{
	uint8_t a[16];

	assert_int_equal(pool_take(p, family, 1, a), 1);
	assert_non_null(inet_ntop(family, a, out, (socklen_t)outlen));
}

static void assert_addr(const uint8_t *a, int family, const char *want)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(family, a, s, sizeof(s));
	if (strcmp(s, want))
		fail_msg("got %s want %s", s, want);
}

static void test_default_sequence(void **state)
{
	struct pool_config c;
	struct pool *p;
	uint8_t a4[8][4], a6[8][16];
	char s[INET6_ADDRSTRLEN];

	(void)state;
	pool_config_default(&c);
	assert_int_equal(pool_new(&p, &c), 0);
	/* 2^21 - 2 addresses less the sentinel /24; 2^21 - 2 for IPv6 */
	assert_int_equal(pool_available(p, AF_INET), (1u << 21) - 2 - 256);
	assert_int_equal(pool_available(p, AF_INET6), (1u << 21) - 2);
	assert_int_equal(pool_take(p, AF_INET, 8, a4), 8);
	assert_int_equal(pool_take(p, AF_INET6, 8, a6), 8);
	assert_addr(a4[0], AF_INET, "100.96.0.1");
	assert_addr(a4[7], AF_INET, "100.96.0.8");
	assert_addr(a6[0], AF_INET6, "fd00:2021:1111:8000::1");
	assert_addr(a6[7], AF_INET6, "fd00:2021:1111:8000::8");
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pool_bind(p, AF_INET, a4[i]), 0);
		assert_int_equal(pool_bind(p, AF_INET6, a6[i]), 0);
	}
	take_one(p, AF_INET, s, sizeof(s));
	assert_string_equal(s, "100.96.0.9");
	assert_int_equal(pool_take(p, AF_INET, 0, NULL), 0);
	assert_int_equal(pool_take(p, AF_INET, 1, NULL), -EINVAL);
	assert_int_equal(pool_take(p, AF_UNIX, 1, a4), -EAFNOSUPPORT);
	assert_int_equal(pool_available(p, AF_UNIX), 0);
	pool_free(p);
	pool_free(NULL);
}

/* Walk the whole default IPv4 range: .255 and .0 inside it are handed out,
 * the sentinel /24 is not, the last address is not, then -ENOSPC. */
static void test_default_walk(void **state)
{
	struct pool_config c;
	struct pool *p;
	uint8_t a[64][4];
	uint32_t prev = 0, n = 0;
	int r;

	(void)state;
	pool_config_default(&c);
	assert_int_equal(pool_new(&p, &c), 0);
	while ((r = pool_take(p, AF_INET, 64, a)) > 0) {
		for (int i = 0; i < r; i++) {
			uint32_t v = (uint32_t)a[i][0] << 24 | a[i][1] << 16 | a[i][2] << 8 |
				     a[i][3];

			if (prev && v != prev + 1) {
				/* the one gap: 100.100.110.255 -> 100.100.112.0 */
				assert_int_equal(prev, 0x64646eff);
				assert_int_equal(v, 0x64647000);
			}
			assert_false((v >> 8) == 0x64646f);
			prev = v;
			n++;
			assert_int_equal(pool_bind(p, AF_INET, a[i]), 0);
		}
	}
	assert_int_equal(r, -ENOSPC);
	assert_int_equal(prev, 0x647ffffe); /* 100.127.255.254 */
	assert_int_equal(n, (1u << 21) - 2 - 256);
	assert_int_equal(pool_available(p, AF_INET), 0);
	pool_free(p);
}

static void small_config(struct pool_config *c, struct pool_prefix *ex, size_t n_ex)
{
	memset(c, 0, sizeof(*c));
	c->v4 = px("192.0.2.0", 28);
	c->v6 = px("2001:db8::", 124);
	c->exclude = ex;
	c->n_exclude = n_ex;
	c->max_pending = 64;
}

static void test_exhaust_small(void **state)
{
	struct pool_prefix ex[] = { px("192.0.2.4", 30), px("2001:db8::8", 126) };
	struct pool_config c;
	struct pool *p;
	uint8_t a[16][16], b[4][16];
	static const char *const v4[] = {
		"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.8", "192.0.2.9",
		"192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14",
	};

	(void)state;
	small_config(&c, ex, ARRAY_SIZE(ex));
	assert_int_equal(pool_new(&p, &c), 0);
	assert_int_equal(pool_available(p, AF_INET), 10);
	assert_int_equal(pool_available(p, AF_INET6), 10);

	/* a partial offer, then nothing */
	assert_int_equal(pool_take(p, AF_INET, 16, a), 10);
	for (size_t i = 0; i < 10; i++)
		assert_addr((uint8_t *)a + 4 * i, AF_INET, v4[i]);
	assert_int_equal(pool_take(p, AF_INET, 1, b), -ENOSPC);

	/* returned ones come back, oldest first */
	assert_int_equal(pool_return(p, AF_INET, (uint8_t *)a + 4 * 5), 0);
	assert_int_equal(pool_return(p, AF_INET, (uint8_t *)a + 4 * 2), 0);
	assert_int_equal(pool_return(p, AF_INET, (uint8_t *)a + 4 * 2), -ENOENT);
	assert_int_equal(pool_available(p, AF_INET), 2);
	assert_int_equal(pool_take(p, AF_INET, 4, b), 2);
	assert_addr(b[0], AF_INET, "192.0.2.10");
	assert_addr(b[0] + 4, AF_INET, "192.0.2.3");
	assert_int_equal(pool_take(p, AF_INET, 1, b), -ENOSPC);

	/* IPv6 alike: ::1-::7, ::c-::e */
	assert_int_equal(pool_take(p, AF_INET6, 16, a), 10);
	assert_addr(a[0], AF_INET6, "2001:db8::1");
	assert_addr(a[6], AF_INET6, "2001:db8::7");
	assert_addr(a[7], AF_INET6, "2001:db8::c");
	assert_addr(a[9], AF_INET6, "2001:db8::e");
	assert_int_equal(pool_take(p, AF_INET6, 1, b), -ENOSPC);
	assert_int_equal(pool_return(p, AF_INET6, a[9]), 0);
	assert_int_equal(pool_take(p, AF_INET6, 1, b), 1);
	assert_addr(b[0], AF_INET6, "2001:db8::e");
	pool_free(p);
}

static void test_bind_states(void **state)
{
	struct pool_config c;
	struct pool *p;
	uint8_t a[4][4], x[16];

	(void)state;
	small_config(&c, NULL, 0);
	assert_int_equal(pool_new(&p, &c), 0);
	assert_int_equal(pool_take(p, AF_INET, 4, a), 4);

	assert_int_equal(pool_bind(p, AF_INET, a[0]), 0);
	assert_int_equal(pool_bind(p, AF_INET, a[0]), -EALREADY);
	assert_int_equal(pool_return(p, AF_INET, a[0]), -ENOENT); /* bound for good */
	assert_int_equal(pool_return(p, AF_INET, a[1]), 0);
	assert_int_equal(pool_bind(p, AF_INET, a[1]), -ENOENT);   /* returned: not on offer */

	/* addresses never handed out, the network and the last one, other ranges */
	memcpy(x, (uint8_t[]){ 192, 0, 2, 9 }, 4);
	assert_int_equal(pool_bind(p, AF_INET, x), -ENOENT);
	assert_int_equal(pool_return(p, AF_INET, x), -ENOENT);
	memcpy(x, (uint8_t[]){ 192, 0, 2, 0 }, 4);
	assert_int_equal(pool_bind(p, AF_INET, x), -ENOENT);
	memcpy(x, (uint8_t[]){ 192, 0, 2, 15 }, 4);
	assert_int_equal(pool_bind(p, AF_INET, x), -ENOENT);
	memcpy(x, (uint8_t[]){ 192, 0, 2, 16 }, 4);
	assert_int_equal(pool_bind(p, AF_INET, x), -EINVAL);
	memcpy(x, (uint8_t[]){ 192, 0, 1, 255 }, 4);
	assert_int_equal(pool_return(p, AF_INET, x), -EINVAL);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:0:1::1", x), 1);
	assert_int_equal(pool_bind(p, AF_INET6, x), -EINVAL);
	assert_int_equal(pool_bind(p, AF_UNIX, x), -EAFNOSUPPORT);
	assert_int_equal(pool_return(p, 12345, x), -EAFNOSUPPORT);

	/* the bound one never comes back, the returned one first */
	{
		uint8_t all[16][4];
		int n = pool_take(p, AF_INET, 16, all);

		assert_int_equal(n, 14 - 4 + 1);
		assert_memory_equal(all[0], a[1], 4);
		for (int i = 0; i < n; i++)
			assert_memory_not_equal(all[i], a[0], 4);
	}
	pool_free(p);
}

static void test_pending_cap(void **state)
{
	struct pool_config c;
	struct pool *p;
	uint8_t a[8][4];

	(void)state;
	small_config(&c, NULL, 0);
	c.max_pending = 4;
	assert_int_equal(pool_new(&p, &c), 0);
	assert_int_equal(pool_take(p, AF_INET, 8, a), 4);
	assert_int_equal(pool_take(p, AF_INET, 1, a[4]), -ENOBUFS);
	/* a returned address still counts (it stays pending), and is taken first */
	assert_int_equal(pool_return(p, AF_INET, a[3]), 0);
	assert_int_equal(pool_take(p, AF_INET, 2, a[4]), 1);
	assert_memory_equal(a[4], a[3], 4);
	/* binding frees room */
	assert_int_equal(pool_bind(p, AF_INET, a[0]), 0);
	assert_int_equal(pool_bind(p, AF_INET, a[1]), 0);
	assert_int_equal(pool_take(p, AF_INET, 8, a), 2);
	assert_addr(a[0], AF_INET, "192.0.2.5");
	assert_addr(a[1], AF_INET, "192.0.2.6");
	pool_free(p);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random takes, returns and binds on a /22 with holes, against a model that
 * keeps one state per address. */
static void test_random_vs_model(void **state)
{
	enum { FREE, OFFERED, RETURNED, BOUND, EXCLUDED, SIZE = 1024 };
	struct pool_prefix ex[] = {
		px("198.51.100.0", 26), px("198.51.101.128", 25), px("198.51.103.252", 30),
	};
	struct pool_config c;
	struct pool *p;
	uint8_t st[SIZE];
	uint16_t fifo[SIZE];
	size_t fh = 0, fl = 0, next = 1, bound = 0, pending = 0, nfree = SIZE - 196;
	size_t nobufs = 0, nospc = 0;
	uint64_t s = 7;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.v4 = px("198.51.100.0", 22);
	c.v6 = px("2001:db8::", 120);
	c.exclude = ex;
	c.n_exclude = ARRAY_SIZE(ex);
	c.max_pending = 200;
	assert_int_equal(pool_new(&p, &c), 0);
	memset(st, FREE, sizeof(st));
	memset(st, EXCLUDED, 64);
	memset(st + 384, EXCLUDED, 128);
	memset(st + 1020, EXCLUDED, 4);
	st[SIZE - 1] = EXCLUDED; /* last (inside the /30 too) */
	st[0] = EXCLUDED;        /* network (inside the /26 too): 196 in all */

	for (int round = 0; round < 200000; round++) {
		unsigned op = rng_next(&s) % 3;
		uint16_t off = (uint16_t)(rng_next(&s) % SIZE);
		uint8_t a[16][4], x[4] = { 198, 51, (uint8_t)(100 + off / 256), (uint8_t)off };

		if (op == 0) {
			size_t n = 1 + rng_next(&s) % 16, got = 0;
			int r = pool_take(p, AF_INET, n, a), want_err = 0;

			/* the model: returned ones first, then fresh ones under the cap */
			while (got < n) {
				uint16_t o;

				if (fl) {
					o = fifo[fh++ % SIZE];
					fl--;
				} else {
					while (next < SIZE && st[next] != FREE)
						next++;
					if (next == SIZE) {
						want_err = -ENOSPC;
						break;
					}
					if (pending == 200) {
						want_err = -ENOBUFS;
						break;
					}
					o = (uint16_t)next;
					pending++;
					nfree--;
				}
				st[o] = OFFERED;
				if (r > (int)got &&
				    (a[got][2] != 100 + o / 256 || a[got][3] != o % 256))
					fail_msg("round %d: address %zu is .%u.%u, want offset %u",
						 round, got, a[got][2], a[got][3], o);
				got++;
			}
			if (r != (got ? (int)got : want_err))
				fail_msg("round %d: take %zu gave %d, want %zu/%d", round, n, r,
					 got, want_err);
			nobufs += r == -ENOBUFS;
			nospc += r == -ENOSPC;
		} else {
			int want = st[off] == OFFERED ? 0 : -ENOENT;
			int r;

			if (op == 1) {
				r = pool_return(p, AF_INET, x);
				if (!r) {
					st[off] = RETURNED;
					fifo[(fh + fl++) % SIZE] = off;
				}
			} else {
				if (st[off] == BOUND)
					want = -EALREADY;
				r = pool_bind(p, AF_INET, x);
				if (!r) {
					st[off] = BOUND;
					bound++;
					pending--;
				}
			}
			if (r != want)
				fail_msg("round %d: op %u on offset %u: %d, want %d", round, op,
					 off, r, want);
		}
		assert_int_equal(pool_available(p, AF_INET), fl + nfree);
	}
	/* every outcome happened, and the range was used up for good */
	print_message("random: %zu bound, %zu -ENOBUFS, %zu -ENOSPC\n", bound, nobufs, nospc);
	assert_true(bound > 100 && nobufs > 100 && nospc > 100);
	pool_free(p);
}

/* Release and restore on a small range: a released address comes back after
 * the returned ones, a restored one never comes back, one restored ahead of
 * the cursor and released is fresh again, the cap keeps a release out. */
static void test_release_restore(void **state)
{
	struct pool_prefix ex[] = { px("192.0.2.8", 30) };
	struct pool_config c;
	struct pool *p;
	uint8_t a[16][4], b[16][4], x[16];

	(void)state;
	small_config(&c, ex, ARRAY_SIZE(ex));
	c.max_pending = 6;
	assert_int_equal(pool_new(&p, &c), 0);
	/* .1-.7, .12-.14: 10 addresses */
	assert_int_equal(pool_take(p, AF_INET, 3, a), 3);
	assert_int_equal(pool_bind(p, AF_INET, a[0]), 0);
	assert_int_equal(pool_bind(p, AF_INET, a[1]), 0);
	assert_int_equal(pool_return(p, AF_INET, a[2]), 0);
	assert_int_equal(pool_available(p, AF_INET), 8);

	/* release: bound only */
	assert_int_equal(pool_release(p, AF_INET, a[2]), -ENOENT); /* returned */
	assert_int_equal(pool_release(p, AF_INET, a[0]), 0);
	assert_int_equal(pool_release(p, AF_INET, a[0]), -ENOENT); /* released already */
	assert_int_equal(pool_bind(p, AF_INET, a[0]), -ENOENT);    /* not on offer */
	assert_int_equal(pool_available(p, AF_INET), 9);
	memcpy(x, (uint8_t[]){ 192, 0, 2, 5 }, 4);
	assert_int_equal(pool_release(p, AF_INET, x), -ENOENT);    /* never handed out */
	memcpy(x, (uint8_t[]){ 192, 0, 2, 9 }, 4);
	assert_int_equal(pool_release(p, AF_INET, x), -ENOENT);    /* excluded */
	memcpy(x, (uint8_t[]){ 192, 0, 2, 16 }, 4);
	assert_int_equal(pool_release(p, AF_INET, x), -EINVAL);
	assert_int_equal(pool_release(p, AF_UNIX, x), -EAFNOSUPPORT);

	/* restore: .13 ahead of the cursor, .2 bound already, .3 returned */
	memcpy(x, (uint8_t[]){ 192, 0, 2, 13 }, 4);
	assert_int_equal(pool_restore(p, AF_INET, x), 0);
	assert_int_equal(pool_restore(p, AF_INET, x), -EALREADY);
	assert_int_equal(pool_bind(p, AF_INET, x), -EALREADY);
	assert_int_equal(pool_return(p, AF_INET, x), -ENOENT);
	assert_int_equal(pool_available(p, AF_INET), 8);
	assert_int_equal(pool_restore(p, AF_INET, a[1]), -EALREADY);
	assert_int_equal(pool_restore(p, AF_INET, a[2]), 0);        /* off the returned queue */
	assert_int_equal(pool_available(p, AF_INET), 7);
	memcpy(x, (uint8_t[]){ 192, 0, 2, 10 }, 4);
	assert_int_equal(pool_restore(p, AF_INET, x), -EINVAL);     /* excluded */
	memcpy(x, (uint8_t[]){ 192, 0, 2, 0 }, 4);
	assert_int_equal(pool_restore(p, AF_INET, x), -EINVAL);
	memcpy(x, (uint8_t[]){ 192, 0, 2, 15 }, 4);
	assert_int_equal(pool_restore(p, AF_INET, x), -EINVAL);
	memcpy(x, (uint8_t[]){ 192, 0, 3, 1 }, 4);
	assert_int_equal(pool_restore(p, AF_INET, x), -EINVAL);
	assert_int_equal(pool_restore(p, AF_UNIX, x), -EAFNOSUPPORT);
	memcpy(x, (uint8_t[]){ 192, 0, 2, 14 }, 4);
	assert_int_equal(pool_restore(p, AF_INET, x), 0);
	assert_int_equal(pool_release(p, AF_INET, x), 0);           /* fresh again */
	assert_int_equal(pool_available(p, AF_INET), 7);

	/* .1 (released) first, then fresh .4-.7, .12, .14: never .2, .3, .13 */
	assert_int_equal(pool_take(p, AF_INET, 16, b), 6);
	assert_addr(b[0], AF_INET, "192.0.2.1");
	assert_addr(b[1], AF_INET, "192.0.2.4");
	assert_addr(b[4], AF_INET, "192.0.2.7");
	assert_addr(b[5], AF_INET, "192.0.2.12");
	assert_int_equal(pool_restore(p, AF_INET, b[5]), -EBUSY);   /* on offer */
	assert_int_equal(pool_take(p, AF_INET, 1, b[6]), -ENOBUFS); /* 6 pending */
	/* the cap: a release past it keeps the address bound */
	assert_int_equal(pool_release(p, AF_INET, a[1]), -ENOBUFS);
	assert_int_equal(pool_bind(p, AF_INET, a[1]), -EALREADY);
	for (int i = 0; i < 6; i++)
		assert_int_equal(pool_bind(p, AF_INET, b[i]), 0);
	assert_int_equal(pool_take(p, AF_INET, 4, b), 1);
	assert_addr(b[0], AF_INET, "192.0.2.14");
	assert_int_equal(pool_take(p, AF_INET, 1, b[1]), -ENOSPC);
	/* .13, restored ahead and passed by the cursor: bound like any, releasable */
	memcpy(x, (uint8_t[]){ 192, 0, 2, 13 }, 4);
	assert_int_equal(pool_bind(p, AF_INET, x), -EALREADY);
	assert_int_equal(pool_release(p, AF_INET, x), 0);
	assert_int_equal(pool_take(p, AF_INET, 1, b[1]), 1);
	assert_addr(b[1], AF_INET, "192.0.2.13");
	pool_free(p);
}

/* Random takes, returns, binds, releases and restores on a /22 with holes,
 * against a model that keeps one state per address and the cursor. */
static void test_random_release_restore(void **state)
{
	enum { FREE, OFFERED, RETURNED, BOUND, EXCLUDED, SIZE = 1024, CAP = 100 };
	struct pool_prefix ex[] = { px("198.51.100.0", 26), px("198.51.103.252", 30) };
	struct pool_config c;
	struct pool *p;
	uint8_t st[SIZE];
	uint16_t fifo[SIZE];
	size_t fh = 0, fl = 0, next = 1, cur = 1, pending = 0, nfree = SIZE - 68;
	size_t n_ok[5] = { 0 };
	uint64_t s = 11;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.v4 = px("198.51.100.0", 22);
	c.v6 = px("2001:db8::", 120);
	c.exclude = ex;
	c.n_exclude = ARRAY_SIZE(ex);
	c.max_pending = CAP;
	assert_int_equal(pool_new(&p, &c), 0);
	memset(st, FREE, sizeof(st));
	memset(st, EXCLUDED, 64);
	memset(st + 1020, EXCLUDED, 4);

	for (int round = 0; round < 200000; round++) {
		unsigned op = rng_next(&s) % 5;
		uint16_t off = (uint16_t)(rng_next(&s) % SIZE);
		uint8_t a[16][4], x[4] = { 198, 51, (uint8_t)(100 + off / 256), (uint8_t)off };
		int r, want = 0;

		if (op == 0) {
			size_t n = 1 + rng_next(&s) % 8, got = 0;

			r = pool_take(p, AF_INET, n, a);
			while (got < n) {
				uint16_t o;

				if (fl) {
					o = fifo[fh++ % SIZE];
					fl--;
				} else {
					while (next < SIZE && st[next] != FREE)
						next++;
					if (next == SIZE) {
						want = -ENOSPC;
						break;
					}
					if (pending == CAP) {
						want = -ENOBUFS;
						break;
					}
					o = (uint16_t)next;
					cur = next + 1;
					pending++;
					nfree--;
				}
				st[o] = OFFERED;
				if (r > (int)got &&
				    (a[got][2] != 100 + o / 256 || a[got][3] != o % 256))
					fail_msg("round %d: address %zu is .%u.%u, want offset %u",
						 round, got, a[got][2], a[got][3], o);
				got++;
			}
			want = got ? (int)got : want;
		} else if (op == 1) {
			want = st[off] == OFFERED ? 0 : -ENOENT;
			r = pool_return(p, AF_INET, x);
			if (!r) {
				st[off] = RETURNED;
				fifo[(fh + fl++) % SIZE] = off;
			}
		} else if (op == 2) {
			want = st[off] == OFFERED ? 0 : st[off] == BOUND ? -EALREADY : -ENOENT;
			r = pool_bind(p, AF_INET, x);
			if (!r) {
				st[off] = BOUND;
				pending--;
			}
		} else if (op == 3) {
			want = st[off] != BOUND ? -ENOENT : off >= cur || pending < CAP ? 0 : -ENOBUFS;
			r = pool_release(p, AF_INET, x);
			if (!r && off >= cur) {
				st[off] = FREE; /* restored ahead of the cursor: fresh again */
				nfree++;
				if (off < next)
					next = off; /* the model's scan may have passed it */
			} else if (!r) {
				st[off] = RETURNED;
				fifo[(fh + fl++) % SIZE] = off;
				pending++;
			}
		} else {
			want = st[off] == EXCLUDED ? -EINVAL : st[off] == OFFERED ? -EBUSY :
			       st[off] == BOUND ? -EALREADY : 0;
			r = pool_restore(p, AF_INET, x);
			if (!r && st[off] == FREE) {
				nfree--;
			} else if (!r) {
				/* off the returned queue */
				size_t k = 0;

				for (size_t i = 0; i < fl; i++)
					if (fifo[(fh + i) % SIZE] != off)
						fifo[(fh + k++) % SIZE] = fifo[(fh + i) % SIZE];
				fl = k;
				pending--;
			}
			if (!r)
				st[off] = BOUND;
		}
		if (r != want)
			fail_msg("round %d: op %u on offset %u: %d, want %d", round, op, off, r,
				 want);
		n_ok[op] += r >= 0;
		assert_int_equal(pool_available(p, AF_INET), fl + nfree);
	}
	print_message("random: %zu takes, %zu returns, %zu binds, %zu releases, %zu restores\n",
		      n_ok[0], n_ok[1], n_ok[2], n_ok[3], n_ok[4]);
	for (int i = 0; i < 5; i++)
		assert_true(n_ok[i] > 100);
	pool_free(p);
}

static void test_invalid_configs(void **state)
{
	struct pool_prefix sentinel6 = px("fd00:2021:1111:8000:100:100:111:0", 120);
	struct pool_prefix in4 = px("192.0.2.8", 29), in4b = px("192.0.2.12", 30);
	struct pool_prefix big = px("192.0.0.0", 16), out4 = px("192.0.3.0", 28);
	struct pool_prefix all4 = px("192.0.2.0", 28), bad = px("192.0.2.1", 30);
	struct pool_prefix two[2] = { in4, in4b }, one[1];
	struct pool_config c, d;
	struct pool *p;

	(void)state;
	pool_config_default(&d);
	/* the default is valid, and the IPv6 sentinels are not inside its /107 */
	assert_int_equal(pool_new(&p, &d), 0);
	pool_free(p);
	c = d;
	c.exclude = &sentinel6;
	c.n_exclude = 1;
	assert_int_equal(pool_new(&p, &c), -EINVAL);
	assert_null(p);

#define BAD(expr)                                              \
	do {                                                   \
		small_config(&c, NULL, 0);                     \
		expr;                                          \
		assert_int_equal(pool_new(&p, &c), -EINVAL);   \
		assert_null(p);                                \
	} while (0)

	BAD(c.v4.len = 31);                   /* prefix too long */
	BAD(c.v4.len = 32);
	BAD(c.v4.len = 7);                    /* too short */
	BAD(c.v6.len = 127);
	BAD(c.v6.len = 95);
	BAD(c.v4 = px("192.0.2.1", 28));      /* host bits set */
	BAD(c.v6 = px("2001:db8::1", 124));
	BAD(c.v4.family = AF_INET6);          /* wrong family in a slot */
	BAD(c.v6 = px("192.0.2.0", 28));
	BAD(c.max_pending = 0);
	BAD(c.max_pending = (1u << 24) + 1);
	BAD(c.n_exclude = 1);                 /* no array */
	BAD((c.exclude = &out4, c.n_exclude = 1));  /* excluded outside the range */
	BAD((c.exclude = &big, c.n_exclude = 1));   /* contains the range */
	BAD((c.exclude = &bad, c.n_exclude = 1));   /* host bits set */
	BAD((c.exclude = &all4, c.n_exclude = 1));  /* nothing left */
	two[1] = in4b;
	BAD((c.exclude = two, c.n_exclude = 2));    /* overlapping exclusions */
	one[0] = in4;
	one[0].family = AF_UNIX;
	BAD((c.exclude = one, c.n_exclude = 1));
	one[0] = in4;
	one[0].len = 33;
	BAD((c.exclude = one, c.n_exclude = 1));
#undef BAD

	/* the edges are fine: exclusions that touch, one that covers all but one */
	{
		struct pool_prefix ok[] = { px("192.0.2.0", 29), px("192.0.2.8", 30),
					    px("192.0.2.12", 31) };
		uint8_t a[4][4];

		small_config(&c, ok, ARRAY_SIZE(ok));
		assert_int_equal(pool_new(&p, &c), 0);
		assert_int_equal(pool_available(p, AF_INET), 1);
		assert_int_equal(pool_take(p, AF_INET, 4, a), 1);
		assert_addr(a[0], AF_INET, "192.0.2.14");
		pool_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_sequence),
		cmocka_unit_test(test_default_walk),
		cmocka_unit_test(test_exhaust_small),
		cmocka_unit_test(test_bind_states),
		cmocka_unit_test(test_pending_cap),
		cmocka_unit_test(test_random_vs_model),
		cmocka_unit_test(test_release_restore),
		cmocka_unit_test(test_random_release_restore),
		cmocka_unit_test(test_invalid_configs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
