/* The replay window: the Linux module's selftest (selftest/counter.c) case for
 * case, its bulk sequences around the window edge, and a randomized comparison
 * with an obviously correct model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wg/replay.h"

/* wireguard-go's value, 2^64 - 2^13 - 1; the kernel's is U64_MAX - 8128 - 1. */
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13))
#define REJECT_AFTER_MESSAGES_KERNEL (UINT64_MAX - REPLAY_WINDOW_SIZE - 1)
#define T_LIM ((uint64_t)REPLAY_WINDOW_SIZE + 1)

struct replay_case {
	uint64_t counter;
	bool rel; /* counter is the limit + off */
	int off;
	bool accept;
};

/* selftest/counter.c, numbered as there; the limit-relative cases take the
 * limit at run time so that both the go and the kernel value run the table. */
#define C(n, v) { (n), false, 0, (v) }
#define L(d, v) { 0, true, (d), (v) }
static const struct replay_case kernel_table[] = {
	/*  1 */ C(0, true),
	/*  2 */ C(1, true),
	/*  3 */ C(1, false),
	/*  4 */ C(9, true),
	/*  5 */ C(8, true),
	/*  6 */ C(7, true),
	/*  7 */ C(7, false),
	/*  8 */ C(T_LIM, true),
	/*  9 */ C(T_LIM - 1, true),
	/* 10 */ C(T_LIM - 1, false),
	/* 11 */ C(T_LIM - 2, true),
	/* 12 */ C(2, true),
	/* 13 */ C(2, false),
	/* 14 */ C(T_LIM + 16, true),
	/* 15 */ C(3, false),
	/* 16 */ C(T_LIM + 16, false),
	/* 17 */ C(T_LIM * 4, true),
	/* 18 */ C(T_LIM * 4 - (T_LIM - 1), true),
	/* 19 */ C(10, false),
	/* 20 */ C(T_LIM * 4 - T_LIM, false),
	/* 21 */ C(T_LIM * 4 - (T_LIM + 1), false),
	/* 22 */ C(T_LIM * 4 - (T_LIM - 2), true),
	/* 23 */ C(T_LIM * 4 + 1 - T_LIM, false),
	/* 24 */ C(0, false),
	/* 25 */ L(0, false),
	/* 26 */ L(-1, true),
	/* 27 */ L(0, false),
	/* 28 */ L(-1, false),
	/* 29 */ L(-2, true),
	/* 30 */ L(1, false),
	/* 31 */ L(2, false),
	/* 32 */ L(-2, false),
	/* 33 */ L(-3, true),
	/* 34 */ C(0, false),
};

static void run_table(uint64_t limit)
{
	struct replay_window w;
	size_t i;

	assert_int_equal(sizeof(kernel_table) / sizeof(kernel_table[0]), 34);
	wg_replay_reset(&w);
	for (i = 0; i < sizeof(kernel_table) / sizeof(kernel_table[0]); i++) {
		uint64_t c = kernel_table[i].counter;
		bool got;

		if (kernel_table[i].rel)
			c = limit + (uint64_t)(int64_t)kernel_table[i].off;
		/* The read-only check must predict the update, every time. */
		assert_int_equal(wg_replay_check(&w, c, limit), kernel_table[i].accept);
		got = wg_replay_check_update(&w, c, limit);
		if (got != kernel_table[i].accept)
			fail_msg("replay self-test %zu (counter %llu): got %d", i + 1,
				 (unsigned long long)c, got);
	}
}

static void test_kernel_table(void **state)
{
	(void)state;
	run_table(REJECT_AFTER_MESSAGES);
	run_table(REJECT_AFTER_MESSAGES_KERNEL);
}

#define T(w, n, v) assert_int_equal(wg_replay_check_update((w), (n), REJECT_AFTER_MESSAGES), (v))

/* The six bulk sequences after the table in selftest/counter.c. */
static void test_kernel_bulk(void **state)
{
	struct replay_window w;
	uint64_t i;

	(void)state;
	wg_replay_reset(&w);
	for (i = 1; i <= REPLAY_WINDOW_SIZE; ++i)
		T(&w, i, true);
	T(&w, 0, true);
	T(&w, 0, false);

	wg_replay_reset(&w);
	for (i = 2; i <= REPLAY_WINDOW_SIZE + 1; ++i)
		T(&w, i, true);
	T(&w, 1, true);
	T(&w, 0, false);

	wg_replay_reset(&w);
	for (i = REPLAY_WINDOW_SIZE + 1; i-- > 0;)
		T(&w, i, true);

	wg_replay_reset(&w);
	for (i = REPLAY_WINDOW_SIZE + 2; i-- > 1;)
		T(&w, i, true);
	T(&w, 0, false);

	wg_replay_reset(&w);
	for (i = REPLAY_WINDOW_SIZE + 1; i-- > 1;)
		T(&w, i, true);
	T(&w, REPLAY_WINDOW_SIZE + 1, true);
	T(&w, 0, false);

	wg_replay_reset(&w);
	for (i = REPLAY_WINDOW_SIZE + 1; i-- > 1;)
		T(&w, i, true);
	T(&w, 0, true);
	T(&w, REPLAY_WINDOW_SIZE + 1, true);
}

/* Zero is an ordinary counter (wireguard-lwip #5 rejected it), and a reset
 * window forgets everything. */
static void test_zero_and_reset(void **state)
{
	struct replay_window w;

	(void)state;
	wg_replay_reset(&w);
	T(&w, 0, true);
	T(&w, 0, false);
	T(&w, 5, true);
	T(&w, 5, false);
	wg_replay_reset(&w);
	T(&w, 5, true);
	T(&w, 0, true);
	/* limit 0 accepts nothing; limit 1 accepts only counter 0 */
	wg_replay_reset(&w);
	assert_false(wg_replay_check_update(&w, 0, 0));
	assert_true(wg_replay_check_update(&w, 0, 1));
	assert_false(wg_replay_check_update(&w, 1, 1));
}

/* Laps of the ring: after every bit has been set once, a jump of any size
 * (within a word, exactly one ring, a ring plus or minus a word, far away) must
 * leave no stale bit, keep the old counters still in the window, and drop the
 * ones that fell out of it. */
static void test_ring_laps(void **state)
{
	static const uint64_t jumps[] = { 1, 63, 64, 65, 127, 8127, 8128, 8129, 8191,
					  8192, 8193, 8256, 16384, 1000000 };
	const uint64_t filled = REPLAY_BITS_TOTAL + 30;
	struct replay_window w;
	uint64_t top, c, lo;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++) {
		wg_replay_reset(&w);
		for (c = 0; c <= filled; c++)
			T(&w, c, true);
		top = filled + jumps[i];
		T(&w, top, true);
		lo = top > REPLAY_BITS_TOTAL + 64 ? top - REPLAY_BITS_TOTAL - 64 : 0;
		for (c = lo; c <= top; c++) {
			bool in_window = c + REPLAY_WINDOW_SIZE >= top;
			bool want = in_window && c > filled && c != top;

			if (wg_replay_check_update(&w, c, REJECT_AFTER_MESSAGES) != want)
				fail_msg("jump %llu counter %llu: want %d",
					 (unsigned long long)jumps[i],
					 (unsigned long long)c, want);
		}
	}
}

/* Near 2^64 nothing may wrap, whatever limit the caller passes. */
static void test_no_wrap(void **state)
{
	struct replay_window w;

	(void)state;
	wg_replay_reset(&w);
	assert_true(wg_replay_check_update(&w, UINT64_MAX - 1, UINT64_MAX));
	assert_false(wg_replay_check_update(&w, UINT64_MAX - 1, UINT64_MAX));
	assert_false(wg_replay_check_update(&w, UINT64_MAX, UINT64_MAX));
	assert_true(wg_replay_check_update(&w, UINT64_MAX - 2, UINT64_MAX));
	assert_false(wg_replay_check_update(&w, 0, UINT64_MAX));
	assert_false(wg_replay_check_update(&w, UINT64_MAX - 2 - REPLAY_WINDOW_SIZE, UINT64_MAX));
	assert_true(wg_replay_check_update(&w, UINT64_MAX - 1 - REPLAY_WINDOW_SIZE, UINT64_MAX));
}

/* A deterministic xorshift so that a failure replays identically. */
static uint64_t xs_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The model: accept c once, unless c >= limit or c is more than the window
 * behind the newest accepted counter. The ring must agree on every packet of a
 * sender that reorders, duplicates, skips ahead and finally crosses the limit. */
static void test_random_vs_model(void **state)
{
	enum { SPAN = 1 << 21, ROUNDS = 400000 };
	uint8_t *seen = calloc(SPAN, 1);
	struct replay_window w;
	uint64_t s = 0x9e3779b97f4a7c15ull, next = 0, limit = 800000, sent = 0;
	unsigned accepted = 0, over_limit = 0;
	int r;

	(void)state;
	assert_non_null(seen);
	wg_replay_reset(&w);
	for (r = 0; r < ROUNDS; r++) {
		uint64_t x = xs_next(&s), d = (x >> 12) % 12000, c;
		bool want, got;

		sent += 1 + (x % 64 == 0 ? (x >> 20) % 200 : 0);
		switch ((x >> 8) % 16) {
		case 0: /* a recent duplicate, most likely */
			c = sent - (sent < d % 16 ? sent : d % 16);
			break;
		case 1: /* far back, often out of the window */
			c = sent - (sent < d ? sent : d);
			break;
		case 2: /* ahead */
			c = sent + d % 9000;
			break;
		default: /* ordinary reordering */
			c = sent - (sent < d % 300 ? sent : d % 300);
			break;
		}
		assert_true(c < SPAN);
		want = c < limit && !seen[c] &&
		       !(next > c + 1 && next - (c + 1) > REPLAY_WINDOW_SIZE);
		assert_int_equal(wg_replay_check(&w, c, limit), want);
		got = wg_replay_check_update(&w, c, limit);
		if (got != want)
			fail_msg("round %d counter %llu: got %d want %d", r,
				 (unsigned long long)c, got, want);
		if (want) {
			seen[c] = 1;
			accepted++;
			if (c + 1 > next)
				next = c + 1;
		}
		over_limit += c >= limit;
	}
	assert_true(accepted > ROUNDS / 5); /* the mix exercised both outcomes */
	assert_true(over_limit > 0);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_table),
		cmocka_unit_test(test_kernel_bulk),
		cmocka_unit_test(test_zero_and_reset),
		cmocka_unit_test(test_ring_laps),
		cmocka_unit_test(test_no_wrap),
		cmocka_unit_test(test_random_vs_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
