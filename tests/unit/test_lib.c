/* src/lib: the capped buffer, the CSPRNG wrapper, the rate limiter, JSON helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/buf.h"
#include "lib/jsonx.h"
#include "lib/log.h"
#include "lib/rand.h"
#include "lib/tbucket.h"
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

/* Runs fn with stderr into a pipe; returns what it wrote (caller frees). */
static char *capture_stderr(void (*fn)(void))
{
	int p[2], saved = dup(2);
	char *out = calloc(1, 8192);
	ssize_t n, got = 0;

	assert_int_equal(pipe(p), 0);
	fflush(stderr);
	dup2(p[1], 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	while ((n = read(p[0], out + got, 8191 - (size_t)got)) > 0)
		got += n;
	close(p[0]);
	return out;
}

static void log_json_lines(void)
{
	json_t *o = json_pack("{sisI}", "client_id", 7, "rx_bytes", (json_int_t)1234);

	log_set_json(true);
	log_info("hello %s", "w\"orld");
	log_info("bad utf-8 \xff from a packet");
	log_event(LOG_LVL_INFO, "flow", o);
	log_set_json(false);
	log_event(LOG_LVL_INFO, "flow", o);
	json_decref(o);
}

/* --log-json: every line one JSON object with time, level, ident and the
 * message (even one that is not UTF-8); events carry their fields. */
static void test_log_json(void **state)
{
	char *out, *line, *save = NULL;
	json_t *j[4];
	int n = 0;

	(void)state;
	log_setup(LOG_LVL_INFO, "test");
	out = capture_stderr(log_json_lines);
	for (line = strtok_r(out, "\n", &save); line && n < 4; line = strtok_r(NULL, "\n", &save)) {
		j[n] = n < 3 ? json_loads(line, 0, NULL) : json_string(line);
		n++;
	}
	assert_int_equal(n, 4);
	for (int i = 0; i < 3; i++) {
		assert_non_null(j[i]);
		assert_string_equal(json_string_value(json_object_get(j[i], "level")), "info");
		assert_string_equal(json_string_value(json_object_get(j[i], "ident")), "test");
		assert_non_null(strchr(json_string_value(json_object_get(j[i], "time")), 'T'));
	}
	assert_string_equal(json_string_value(json_object_get(j[0], "msg")), "hello w\"orld");
	assert_string_equal(json_string_value(json_object_get(j[1], "msg")),
			    "bad utf-8 ? from a packet");
	assert_string_equal(json_string_value(json_object_get(j[2], "event")), "flow");
	assert_int_equal(json_integer_value(json_object_get(j[2], "rx_bytes")), 1234);
	/* text mode: the event and its fields as compact JSON */
	assert_non_null(strstr(json_string_value(j[3]),
				"test info: flow {\"client_id\":7,\"rx_bytes\":1234}"));
	for (int i = 0; i < 4; i++)
		json_decref(j[i]);
	free(out);
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

/* burst at once, then one per 1/rate s; idle time refills, up to burst */
static void test_tbucket(void **state)
{
	const uint64_t t0 = 5 * NSEC_PER_SEC, ms = NSEC_PER_MSEC;
	struct tbucket b = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		assert_true(tbucket_take(&b, 10, 100, t0));
	assert_false(tbucket_take(&b, 10, 100, t0));
	assert_false(tbucket_take(&b, 10, 100, t0 + 99 * ms));
	assert_true(tbucket_take(&b, 10, 100, t0 + 100 * ms));
	assert_false(tbucket_take(&b, 10, 100, t0 + 150 * ms));
	/* a refused take costs nothing: the next one is due at 200 ms */
	assert_true(tbucket_take(&b, 10, 100, t0 + 200 * ms));
	/* 3 s idle: 30 tokens back, not more */
	for (i = 0; i < 30; i++)
		assert_true(tbucket_take(&b, 10, 100, t0 + 3200 * ms));
	assert_false(tbucket_take(&b, 10, 100, t0 + 3200 * ms));
	/* an hour idle: full, burst and no more */
	for (i = 0; i < 100; i++)
		assert_true(tbucket_take(&b, 10, 100, t0 + 3600 * NSEC_PER_SEC));
	assert_false(tbucket_take(&b, 10, 100, t0 + 3600 * NSEC_PER_SEC));
	/* the rate raised: the empty bucket refills at the new rate at once
	 * (not after the old rate's 10 s); 0 is no limit */
	assert_false(tbucket_take(&b, 1000, 100, t0 + 3600 * NSEC_PER_SEC + 1 * ms / 2));
	assert_true(tbucket_take(&b, 1000, 100, t0 + 3600 * NSEC_PER_SEC + 2 * ms));
	for (i = 0; i < 10000; i++)
		assert_true(tbucket_take(&b, 0, 1, t0));
	/* burst 0 is 1; extreme values do not overflow */
	b = (struct tbucket){ 0 };
	assert_true(tbucket_take(&b, 1, 0, t0));
	assert_false(tbucket_take(&b, 1, 0, t0 + 999 * ms));
	assert_true(tbucket_take(&b, 1, 0, t0 + NSEC_PER_SEC));
	b = (struct tbucket){ 0 };
	for (i = 0; i < 1000; i++)
		assert_true(tbucket_take(&b, UINT32_MAX, UINT32_MAX, t0));
	b = (struct tbucket){ 0 };
	assert_true(tbucket_take(&b, 1, UINT32_MAX, 0));
	assert_true(tbucket_take(&b, 1, UINT32_MAX, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_consume_printf),
		cmocka_unit_test(test_rand),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_tbucket),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_log_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
