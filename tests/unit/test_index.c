/* The receiver-index table: uniqueness, never 0, typed lookups, the handshake to
 * keypair hand-over, removal and reuse, the cap, and a randomized comparison
 * with a plain array under heavy collisions (to exercise backward-shift
 * deletion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wg/index.h"

static struct index_table *table_new(size_t max, uint32_t (*rng)(void *), void *ctx)
{
	struct index_table *t = NULL;

	assert_int_equal(wg_index_table_new(&t, max, rng, ctx), 0);
	assert_non_null(t);
	return t;
}

/* An rng that replays a script, then repeats its last value. */
struct script {
	const uint32_t *v;
	size_t n, pos;
};

static uint32_t script_rng(void *ctx)
{
	struct script *s = ctx;
	uint32_t v = s->v[s->pos < s->n ? s->pos : s->n - 1];

	if (s->pos < s->n)
		s->pos++;
	return v;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void test_many_unique(void **state)
{
	enum { N = 50000 };
	struct index_table *t = table_new(N, NULL, NULL);
	uint32_t *idx = calloc(N, sizeof(*idx)), *sorted = calloc(N, sizeof(*idx));
	char *objs = calloc(N, 1);
	size_t i;

	(void)state;
	assert_non_null(idx);
	assert_non_null(sorted);
	assert_non_null(objs);
	for (i = 0; i < N; i++) {
		assert_int_equal(wg_index_insert(t, i % 2 ? INDEX_KEYPAIR : INDEX_HANDSHAKE,
						 &objs[i], &idx[i]), 0);
		assert_int_not_equal(idx[i], 0);
	}
	assert_int_equal(wg_index_count(t), N);
	memcpy(sorted, idx, N * sizeof(*idx));
	qsort(sorted, N, sizeof(*sorted), cmp_u32);
	for (i = 1; i < N; i++)
		assert_int_not_equal(sorted[i - 1], sorted[i]);
	for (i = 0; i < N; i++)
		assert_ptr_equal(wg_index_lookup(t, idx[i], INDEX_ANY, NULL), &objs[i]);
	/* remove every other one; the rest must stay reachable past the holes */
	for (i = 0; i < N; i += 2)
		assert_int_equal(wg_index_remove(t, idx[i]), 0);
	assert_int_equal(wg_index_count(t), N / 2);
	for (i = 0; i < N; i++)
		assert_ptr_equal(wg_index_lookup(t, idx[i], INDEX_ANY, NULL),
				 i % 2 ? &objs[i] : NULL);
	wg_index_table_free(t);
	free(idx);
	free(sorted);
	free(objs);
}

static void test_typed_lookup(void **state)
{
	struct index_table *t = table_new(16, NULL, NULL);
	int handshake, keypair, next;
	enum index_type type = 0;
	uint32_t hi, ki, absent;

	(void)state;
	assert_int_equal(wg_index_insert(t, INDEX_HANDSHAKE, &handshake, &hi), 0);
	assert_int_equal(wg_index_insert(t, INDEX_KEYPAIR, &keypair, &ki), 0);
	assert_int_not_equal(hi, ki);

	/* transport data: keypairs only */
	assert_null(wg_index_lookup(t, hi, INDEX_KEYPAIR, NULL));
	assert_ptr_equal(wg_index_lookup(t, ki, INDEX_KEYPAIR, NULL), &keypair);
	/* handshake response: handshakes only */
	assert_ptr_equal(wg_index_lookup(t, hi, INDEX_HANDSHAKE, &type), &handshake);
	assert_int_equal(type, INDEX_HANDSHAKE);
	assert_null(wg_index_lookup(t, ki, INDEX_HANDSHAKE, NULL));
	/* cookie reply: either, and says which */
	assert_ptr_equal(wg_index_lookup(t, ki, INDEX_ANY, &type), &keypair);
	assert_int_equal(type, INDEX_KEYPAIR);
	assert_ptr_equal(wg_index_lookup(t, hi, INDEX_ANY, &type), &handshake);
	assert_int_equal(type, INDEX_HANDSHAKE);
	assert_null(wg_index_lookup(t, hi, 0, NULL));
	assert_null(wg_index_lookup(t, 0, INDEX_ANY, NULL));

	/* a finished handshake hands its index to the new keypair */
	assert_int_equal(wg_index_replace(t, hi, INDEX_KEYPAIR, &next), 0);
	assert_ptr_equal(wg_index_lookup(t, hi, INDEX_KEYPAIR, NULL), &next);
	assert_null(wg_index_lookup(t, hi, INDEX_HANDSHAKE, NULL));
	assert_int_equal(wg_index_count(t), 2);
	assert_int_equal(wg_index_replace(t, 0, INDEX_KEYPAIR, &next), -ENOENT);
	for (absent = 1; wg_index_lookup(t, absent, INDEX_ANY, NULL); absent++)
		;
	assert_int_equal(wg_index_replace(t, absent, INDEX_KEYPAIR, &next), -ENOENT);
	assert_int_equal(wg_index_remove(t, absent), -ENOENT);
	assert_int_equal(wg_index_replace(t, hi, INDEX_ANY, &next), -EINVAL);
	assert_int_equal(wg_index_replace(t, hi, INDEX_KEYPAIR, NULL), -EINVAL);

	/* bad inserts */
	assert_int_equal(wg_index_insert(t, INDEX_ANY, &next, &hi), -EINVAL);
	assert_int_equal(wg_index_insert(t, 0, &next, &hi), -EINVAL);
	assert_int_equal(wg_index_insert(t, INDEX_KEYPAIR, NULL, &hi), -EINVAL);
	assert_int_equal(wg_index_count(t), 2);

	assert_int_equal(wg_index_remove(t, ki), 0);
	assert_int_equal(wg_index_remove(t, ki), -ENOENT);
	assert_int_equal(wg_index_remove(t, 0), -ENOENT);
	assert_null(wg_index_lookup(t, ki, INDEX_ANY, NULL));
	wg_index_table_free(t);
	wg_index_table_free(NULL);
}

/* Zero is never handed out, a collision draws again, a freed index can come
 * back, and an rng stuck on one value fails cleanly instead of looping. */
static void test_collision_zero_reuse(void **state)
{
	static const uint32_t seq[] = { 0, 5, 5, 0, 7, 5, 9, 9 };
	struct script sc = { seq, sizeof(seq) / sizeof(seq[0]), 0 };
	struct index_table *t = table_new(16, script_rng, &sc);
	int a, b, c, d;
	uint32_t i;

	(void)state;
	assert_int_equal(wg_index_insert(t, INDEX_HANDSHAKE, &a, &i), 0);
	assert_int_equal(i, 5);
	assert_int_equal(wg_index_insert(t, INDEX_HANDSHAKE, &b, &i), 0);
	assert_int_equal(i, 7); /* skipped 5 (taken) and 0 */
	assert_int_equal(wg_index_remove(t, 5), 0);
	assert_int_equal(wg_index_insert(t, INDEX_KEYPAIR, &c, &i), 0);
	assert_int_equal(i, 5); /* reused */
	assert_ptr_equal(wg_index_lookup(t, 5, INDEX_KEYPAIR, NULL), &c);
	assert_int_equal(wg_index_insert(t, INDEX_KEYPAIR, &d, &i), 0);
	assert_int_equal(i, 9);
	/* the script is now stuck on 9 */
	assert_int_equal(wg_index_insert(t, INDEX_KEYPAIR, &d, &i), -EAGAIN);
	assert_int_equal(wg_index_count(t), 3);
	wg_index_table_free(t);
}

static void test_cap(void **state)
{
	struct index_table *t = table_new(3, NULL, NULL);
	uint32_t i[4];
	int o[4];

	(void)state;
	assert_int_equal(wg_index_insert(t, INDEX_HANDSHAKE, &o[0], &i[0]), 0);
	assert_int_equal(wg_index_insert(t, INDEX_HANDSHAKE, &o[1], &i[1]), 0);
	assert_int_equal(wg_index_insert(t, INDEX_KEYPAIR, &o[2], &i[2]), 0);
	assert_int_equal(wg_index_insert(t, INDEX_KEYPAIR, &o[3], &i[3]), -ENOSPC);
	assert_int_equal(wg_index_remove(t, i[1]), 0);
	assert_int_equal(wg_index_insert(t, INDEX_KEYPAIR, &o[3], &i[3]), 0);
	assert_int_equal(wg_index_count(t), 3);
	wg_index_table_free(t);

	t = table_new(0, NULL, NULL);
	assert_int_equal(wg_index_insert(t, INDEX_KEYPAIR, &o[0], &i[0]), -ENOSPC);
	wg_index_table_free(t);
	assert_int_equal(wg_index_table_new(&t, ((size_t)1 << 30) + 1, NULL, NULL), -EINVAL);
}

/* Indices drawn from a tiny range collide constantly and form long runs, so
 * every branch of the backward shift runs, including across the wrap. */
static uint32_t small_rng(void *ctx)
{
	uint64_t *s = ctx;

	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s % 3000);
}

static void test_random_vs_array(void **state)
{
	enum { RANGE = 3000, MAX = 1000, ROUNDS = 200000 };
	uint64_t seed = 0x1dea5eedull, pick = 0x0ddba11ull;
	struct index_table *t = table_new(MAX, small_rng, &seed);
	static char objs[RANGE];
	static uint8_t model[RANGE]; /* 0 none, else type */
	size_t n = 0;
	uint32_t v;
	int r;

	(void)state;
	memset(model, 0, sizeof(model));
	for (r = 0; r < ROUNDS; r++) {
		pick ^= pick << 13;
		pick ^= pick >> 7;
		pick ^= pick << 17;
		v = (uint32_t)(pick % RANGE);
		if (pick >> 62 && n < MAX) {
			enum index_type type = (pick >> 40) & 1 ? INDEX_KEYPAIR : INDEX_HANDSHAKE;
			uint32_t got;
			int e = wg_index_insert(t, type, &objs[v], &got);

			if (e == -EAGAIN)
				continue; /* the tiny range is full enough to repeat */
			assert_int_equal(e, 0);
			assert_int_not_equal(got, 0);
			assert_int_equal(model[got], 0);
			assert_true(got < RANGE);
			model[got] = (uint8_t)type;
			/* store where lookups can check the pointer: objs[got] */
			assert_int_equal(wg_index_replace(t, got, type, &objs[got]), 0);
			n++;
		} else {
			assert_int_equal(wg_index_remove(t, v), model[v] ? 0 : -ENOENT);
			if (model[v])
				n--;
			model[v] = 0;
		}
		assert_int_equal(wg_index_count(t), n);
		if (r % 1000 == 0) {
			for (v = 0; v < RANGE; v++) {
				enum index_type ty;
				void *p = wg_index_lookup(t, v, INDEX_ANY, &ty);

				assert_ptr_equal(p, model[v] ? &objs[v] : NULL);
				if (p)
					assert_int_equal(ty, model[v]);
			}
		}
	}
	wg_index_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_unique),
		cmocka_unit_test(test_typed_lookup),
		cmocka_unit_test(test_collision_zero_reuse),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_random_vs_array),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
