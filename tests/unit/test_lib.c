/* src/lib: the capped buffer, the CSPRNG wrapper, the rate limiter, JSON helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/jsonx.h"
#include "lib/log.h"
#include "lib/rand.h"
#include "lib/time.h"

static void test_buf_cap(void **state)
{
	struct buf b;
	uint8_t chunk[100];

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	buf_init(&b, 250);
	assert_int_equal(buf_append(&b, chunk, 100), 0);
	assert_int_equal(buf_append(&b, chunk, 100), 0);
	assert_int_equal(buf_append(&b, chunk, 100), -EMSGSIZE);
	assert_int_equal(b.len, 200); /* the refused append lost nothing */
	assert_int_equal(buf_append(&b, chunk, 50), 0);
	assert_int_equal(b.len, 250);
	assert_true(b.cap <= 250);
	assert_int_equal(buf_reserve(&b, 1), -EMSGSIZE);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -EMSGSIZE);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.max, 250);
}

static void test_buf_consume_printf(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(buf_printf(&b, "%s-%d", "abc", 42), 0);
	assert_int_equal(b.len, 6);
	assert_string_equal((char *)b.data, "abc-42");
	buf_consume(&b, 4);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "42", 2);
	assert_int_equal(buf_printf(&b, "%070d", 1), -EMSGSIZE);
	assert_int_equal(b.len, 2);
	buf_consume(&b, 10);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "secret", 6), 0);
	buf_wipe(&b);
	assert_null(b.data);
}

static void test_rand(void **state)
{
	uint8_t a[32] = { 0 }, z[32] = { 0 };
	unsigned hist[5] = { 0 };

	(void)state;
	assert_int_equal(rand_bytes(a, sizeof(a)), 0);
	assert_memory_not_equal(a, z, sizeof(a));
	assert_int_equal(rand_uniform(0), 0);
	assert_int_equal(rand_uniform(1), 0);
	for (int i = 0; i < 5000; i++) {
		uint32_t v = rand_uniform(5);

		assert_true(v < 5);
		hist[v]++;
	}
	/* Each bucket expects 1000; 700 is > 10 standard deviations away. */
	for (int i = 0; i < 5; i++)
		assert_true(hist[i] > 700);
	assert_true(rand_u64() != rand_u64() || rand_u64() != rand_u64());
}

static void test_ratelimit(void **state)
{
	struct log_ratelimit rl = { .interval_ns = 60 * NSEC_PER_SEC, .burst = 3 };
	enum log_level lvl;

	(void)state;
	log_setup(LOG_LVL_INFO, "test");
	for (int i = 0; i < 10; i++)
		log_rl(&rl, LOG_LVL_WARN, "remote line %d", i);
	assert_int_equal(rl.count, 3);
	assert_int_equal(rl.suppressed, 7);
	/* A new window reports the suppressed count and starts again. */
	rl.window_start -= 61 * NSEC_PER_SEC;
	log_rl(&rl, LOG_LVL_WARN, "after the window");
	assert_int_equal(rl.count, 1);
	assert_int_equal(rl.suppressed, 0);
	/* Lines below the level neither print nor spend the budget. */
	log_rl(&rl, LOG_LVL_DEBUG, "hidden");
	assert_int_equal(rl.count, 1);

	assert_int_equal(log_level_parse("debug", &lvl), 0);
	assert_int_equal(lvl, LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("verbose", &lvl), -EINVAL);
}

static void test_json(void **state)
{
	const char *doc = "{\"type\":\"init\",\"n\":7,\"ok\":true,\"list\":[1],"
			  "\"obj\":{},\"nul\":null,\"big\":99999999999}";
	char err[128];
	json_t *o, *v;
	const char *s;
	int64_t i;
	bool b;

	(void)state;
	o = jsonx_load_object(doc, strlen(doc), 4096, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(jsonx_get_str(o, "type", &s), 0);
	assert_string_equal(s, "init");
	assert_int_equal(jsonx_get_str(o, "n", &s), -EINVAL);
	assert_int_equal(jsonx_get_str(o, "missing", &s), -ENOENT);
	assert_int_equal(jsonx_get_str(o, "nul", &s), -ENOENT);
	assert_int_equal(jsonx_get_int(o, "n", 0, 10, &i), 0);
	assert_int_equal(i, 7);
	assert_int_equal(jsonx_get_int(o, "n", 8, 10, &i), -EINVAL);
	assert_int_equal(jsonx_get_int(o, "big", 0, UINT32_MAX, &i), -EINVAL);
	assert_int_equal(jsonx_get_bool(o, "ok", &b), 0);
	assert_true(b);
	assert_int_equal(jsonx_get_bool(o, "n", &b), -EINVAL);
	assert_int_equal(jsonx_get_array(o, "list", &v), 0);
	assert_int_equal(jsonx_get_array(o, "obj", &v), -EINVAL);
	assert_int_equal(jsonx_get_object(o, "obj", &v), 0);
	assert_int_equal(jsonx_get_object(NULL, "obj", &v), -ENOENT);
	json_decref(o);

	assert_null(jsonx_load_object(doc, strlen(doc), 10, err, sizeof(err)));
	assert_non_null(strstr(err, "too large"));
	assert_null(jsonx_load_object("[1,2]", 5, 100, err, sizeof(err)));
	assert_string_equal(err, "not a JSON object");
	assert_null(jsonx_load_object("{\"a\":1,\"a\":2}", 13, 100, err, sizeof(err)));
	assert_null(jsonx_load_object("{\"a\":", 5, 100, err, sizeof(err)));
	assert_true(err[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_consume_printf),
		cmocka_unit_test(test_rand),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
