/* The DNS-over-TCP slot policy (dns/tcpslots.h) on a fake clock: the idle
 * allowance and its shortening over half full, the whole-query deadline that
 * trickled bytes do not move, eviction order, and busy slots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>

#include "dns/tcpslots.h"

#define MS(x) ((uint64_t)(x) * 1000000ull)
#define T0 MS(1000000)

struct fake {
	struct tcpslot slot;
	bool busy, closed;
};

static bool fake_busy(const struct tcpslot *s)
{
	return ((const struct fake *)s)->busy;
}

static void fake_close(void *arg, struct tcpslot *s)
{
	((struct fake *)s)->closed = true;
	tcpslots_remove(arg, s);
}

static void test_defaults(void **state)
{
	struct tcpslots t;

	(void)state;
	tcpslots_init(&t, 0, 0, NULL);
	assert_int_equal(t.max, TCPSLOT_MAX);
	assert_int_equal(t.idle_ms, TCPSLOT_IDLE_MS);
	assert_int_equal(tcpslots_next(&t), UINT64_MAX);
	assert_null(tcpslots_victim(&t));
}

/* Quiet: the configured idle time, counted from the last activity. */
static void test_idle(void **state)
{
	struct tcpslots t;
	struct fake a = { 0 };

	(void)state;
	tcpslots_init(&t, 4, 10000, fake_busy);
	tcpslots_add(&t, &a.slot, T0);
	assert_int_equal(tcpslots_deadline(&t, &a.slot), T0 + MS(10000));
	/* A whole query, nothing left over: active again, no query clock. */
	tcpslots_read(&t, &a.slot, T0 + MS(3000), 1, 0);
	assert_int_equal(tcpslots_deadline(&t, &a.slot), T0 + MS(13000));
	tcpslots_sent(&t, &a.slot, T0 + MS(4000));
	assert_int_equal(tcpslots_deadline(&t, &a.slot), T0 + MS(14000));
	tcpslots_expire(&t, T0 + MS(13999), fake_close, &t);
	assert_false(a.closed);
	tcpslots_expire(&t, T0 + MS(14000), fake_close, &t);
	assert_true(a.closed);
	assert_int_equal(t.n, 0);
}

/* A query begun must be whole within TCPSLOT_MSG_MS; later bytes of it do not
 * move that, nor the idle clock. */
static void test_message_deadline(void **state)
{
	struct tcpslots t;
	struct fake a = { 0 };

	(void)state;
	tcpslots_init(&t, 4, 10000, fake_busy);
	tcpslots_add(&t, &a.slot, T0);
	tcpslots_read(&t, &a.slot, T0 + MS(500), 0, 1);
	assert_int_equal(tcpslots_deadline(&t, &a.slot), T0 + MS(500 + TCPSLOT_MSG_MS));
	for (int i = 1; i < 10; i++)
		tcpslots_read(&t, &a.slot, T0 + MS(500 + 100 * i), 0, 1 + (size_t)i);
	assert_int_equal(tcpslots_deadline(&t, &a.slot), T0 + MS(500 + TCPSLOT_MSG_MS));
	/* It completes, and the next one starts in the same read: a new clock. */
	tcpslots_read(&t, &a.slot, T0 + MS(1800), 1, 3);
	assert_int_equal(tcpslots_deadline(&t, &a.slot), T0 + MS(1800 + TCPSLOT_MSG_MS));
	/* Completed with nothing over: idle again. */
	tcpslots_read(&t, &a.slot, T0 + MS(1900), 1, 0);
	assert_int_equal(a.slot.msg_start, 0);
	assert_int_equal(tcpslots_deadline(&t, &a.slot), T0 + MS(11900));
	/* An empty message (took 0, nothing left) is no activity. */
	tcpslots_read(&t, &a.slot, T0 + MS(5000), 0, 0);
	assert_int_equal(tcpslots_deadline(&t, &a.slot), T0 + MS(11900));
}

/* Over half the slots open: the short allowance, for all of them; back to the
 * long one when they go. */
static void test_pressure(void **state)
{
	struct tcpslots t;
	struct fake f[4] = { 0 };

	(void)state;
	tcpslots_init(&t, 4, 10000, fake_busy);
	tcpslots_add(&t, &f[0].slot, T0);
	tcpslots_add(&t, &f[1].slot, T0);
	assert_int_equal(tcpslots_deadline(&t, &f[0].slot), T0 + MS(10000));
	tcpslots_add(&t, &f[2].slot, T0);
	assert_int_equal(tcpslots_deadline(&t, &f[0].slot), T0 + MS(TCPSLOT_IDLE_BUSY_MS));
	assert_int_equal(tcpslots_next(&t), T0 + MS(TCPSLOT_IDLE_BUSY_MS));
	/* A configured idle below the short one is kept. */
	t.idle_ms = 300;
	assert_int_equal(tcpslots_deadline(&t, &f[0].slot), T0 + MS(300));
	t.idle_ms = 10000;
	tcpslots_remove(&t, &f[2].slot);
	assert_int_equal(tcpslots_deadline(&t, &f[0].slot), T0 + MS(10000));
	/* A partial query under pressure: whichever comes first. */
	tcpslots_add(&t, &f[2].slot, T0);
	tcpslots_read(&t, &f[1].slot, T0 + MS(100), 0, 1);
	assert_int_equal(tcpslots_deadline(&t, &f[1].slot), T0 + MS(100 + TCPSLOT_IDLE_BUSY_MS));
}

/* Full: the victim is the one active least recently, never a busy one. */
static void test_victim(void **state)
{
	struct tcpslots t;
	struct fake f[3] = { 0 };

	(void)state;
	tcpslots_init(&t, 3, 0, fake_busy);
	for (int i = 0; i < 3; i++)
		tcpslots_add(&t, &f[i].slot, T0 + MS(i));
	assert_true(tcpslots_full(&t));
	assert_ptr_equal(tcpslots_victim(&t), &f[0].slot);
	tcpslots_read(&t, &f[0].slot, T0 + MS(10), 1, 0); /* f0 asks: now the newest */
	assert_ptr_equal(tcpslots_victim(&t), &f[1].slot);
	f[1].busy = true;
	assert_ptr_equal(tcpslots_victim(&t), &f[2].slot);
	/* The first byte of a query is activity; the bytes trickled after it
	 * are not. */
	tcpslots_read(&t, &f[2].slot, T0 + MS(20), 0, 1);
	assert_ptr_equal(tcpslots_victim(&t), &f[0].slot);
	tcpslots_read(&t, &f[0].slot, T0 + MS(25), 1, 0);
	assert_ptr_equal(tcpslots_victim(&t), &f[2].slot);
	tcpslots_read(&t, &f[2].slot, T0 + MS(30), 0, 2);
	assert_ptr_equal(tcpslots_victim(&t), &f[2].slot);
	f[0].busy = f[2].busy = true;
	assert_null(tcpslots_victim(&t));
	tcpslots_remove(&t, &f[1].slot);
	assert_false(tcpslots_full(&t));
}

/* Busy slots are never expired and do not set the next wake-up. */
static void test_busy(void **state)
{
	struct tcpslots t;
	struct fake a = { .busy = true }, b = { 0 };

	(void)state;
	tcpslots_init(&t, 8, 1000, fake_busy);
	tcpslots_add(&t, &a.slot, T0);
	assert_int_equal(tcpslots_next(&t), UINT64_MAX);
	tcpslots_add(&t, &b.slot, T0 + MS(5));
	assert_int_equal(tcpslots_next(&t), T0 + MS(1005));
	tcpslots_expire(&t, T0 + MS(60000), fake_close, &t);
	assert_false(a.closed);
	assert_true(b.closed);
	assert_int_equal(t.n, 1);
	assert_ptr_equal(t.head, &a.slot);
	assert_ptr_equal(t.tail, &a.slot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_message_deadline),
		cmocka_unit_test(test_pressure),
		cmocka_unit_test(test_victim),
		cmocka_unit_test(test_busy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
