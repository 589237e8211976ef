/* The cursor: every read and write in bounds, the first error kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "lib/cursor.h"

static void test_read_endianness(void **state)
{
	static const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				     0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	struct cursor c;

	(void)state;
	cur_init_ro(&c, b, sizeof(b));
	assert_int_equal(cur_u8(&c), 0x01);
	assert_int_equal(cur_be16(&c), 0x0203);
	assert_int_equal(cur_le16(&c), 0x0504);
	assert_int_equal(cur_be16(&c), 0x0607);
	assert_int_equal(cur_u8(&c), 0x08);
	cur_seek(&c, 0);
	assert_int_equal(cur_be32(&c), 0x01020304);
	assert_int_equal(cur_le32(&c), 0x08070605);
	assert_true(cur_be64(&c) == 0x1122334455667788ull);
	cur_seek(&c, 8);
	assert_true(cur_le64(&c) == 0x8877665544332211ull);
	assert_int_equal(c.err, 0);
	assert_int_equal(cur_remaining(&c), 0);
}

static void test_read_past_end_is_sticky(void **state)
{
	static const uint8_t b[] = { 0xaa, 0xbb, 0xcc };
	struct cursor c;
	uint8_t out[4] = { 1, 2, 3, 4 };

	(void)state;
	cur_init_ro(&c, b, sizeof(b));
	assert_int_equal(cur_be16(&c), 0xaabb);
	assert_int_equal(cur_be16(&c), 0); /* only one byte left */
	assert_int_equal(c.err, -EBADMSG);
	assert_int_equal(c.pos, 2);       /* position unchanged by the failed read */
	assert_int_equal(cur_u8(&c), 0);  /* would fit, but the error sticks */
	assert_int_equal(cur_remaining(&c), 0);
	cur_bytes(&c, out, sizeof(out));
	assert_memory_equal(out, "\0\0\0\0", 4); /* failed reads yield zeros */
	assert_null(cur_take(&c, 0));
	assert_int_equal(cur_fail(&c, -EINVAL), -EBADMSG); /* first error wins */
}

static void test_every_width_fails_cleanly(void **state)
{
	static const uint8_t b[8];

	(void)state;
	for (size_t len = 0; len < 8; len++) {
		struct cursor c;

		cur_init_ro(&c, b, len);
		if (len < 2) { cur_be16(&c); assert_int_equal(c.err, -EBADMSG); }
		cur_init_ro(&c, b, len);
		if (len < 4) { cur_le32(&c); assert_int_equal(c.err, -EBADMSG); }
		cur_init_ro(&c, b, len);
		cur_be64(&c);
		assert_int_equal(c.err, -EBADMSG);
		cur_init_ro(&c, b, len);
		cur_skip(&c, len + 1);
		assert_int_equal(c.err, -EBADMSG);
		cur_init_ro(&c, b, len);
		cur_seek(&c, len + 1);
		assert_int_equal(c.err, -EBADMSG);
	}
}

static void test_huge_length_claim(void **state)
{
	static const uint8_t b[4];
	struct cursor c;

	(void)state;
	cur_init_ro(&c, b, sizeof(b));
	cur_u8(&c);
	/* A length field claiming SIZE_MAX must not wrap the bounds check. */
	assert_null(cur_take(&c, SIZE_MAX));
	assert_int_equal(c.err, -EBADMSG);
}

static void test_write(void **state)
{
	uint8_t b[15];
	struct cursor c;
	uint8_t *r;

	(void)state;
	memset(b, 0xee, sizeof(b));
	cur_init(&c, b, sizeof(b));
	cur_put_u8(&c, 0x01);
	cur_put_be16(&c, 0x0203);
	cur_put_le16(&c, 0x0504);
	cur_put_be32(&c, 0x06070809);
	cur_put_le32(&c, 0x0d0c0b0a);
	r = cur_reserve(&c, 1);
	assert_non_null(r);
	*r = 0x0e;
	assert_int_equal(c.err, 0);
	cur_put_be16(&c, 0xffff); /* one byte left: fails, writes nothing */
	assert_int_equal(c.err, -ENOBUFS);
	assert_int_equal(b[14], 0xee);
	for (int i = 0; i < 14; i++)
		assert_int_equal(b[i], i + 1);
}

static void test_write_64_and_zero(void **state)
{
	uint8_t b[20];
	struct cursor c;

	(void)state;
	cur_init(&c, b, sizeof(b));
	cur_put_be64(&c, 0x0102030405060708ull);
	cur_put_le64(&c, 0x0102030405060708ull);
	cur_put_zero(&c, 4);
	assert_int_equal(c.err, 0);
	assert_memory_equal(b, "\1\2\3\4\5\6\7\x08\x08\7\6\5\4\3\2\1\0\0\0\0", 20);
	cur_put_zero(&c, 1);
	assert_int_equal(c.err, -ENOBUFS);
}

static void test_readonly_refuses_writes(void **state)
{
	static const uint8_t b[4];
	struct cursor c;

	(void)state;
	cur_init_ro(&c, b, sizeof(b));
	cur_put_u8(&c, 1);
	assert_int_equal(c.err, -EPERM);
}

static void test_roundtrip_and_take(void **state)
{
	uint8_t b[32];
	struct cursor w, r;
	const uint8_t *p;

	(void)state;
	cur_init(&w, b, sizeof(b));
	cur_put_be16(&w, 5);
	cur_put_bytes(&w, "hello", 5);
	cur_init_ro(&r, b, w.pos);
	p = cur_take(&r, cur_be16(&r)); /* a length field, checked by take */
	assert_non_null(p);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(cur_remaining(&r), 0);
	assert_true(cur_need(&r, 0));
	assert_false(cur_need(&r, 1));
}

static void test_null_buffer(void **state)
{
	struct cursor c;

	(void)state;
	cur_init(&c, NULL, 100); /* no buffer means no room, whatever len says */
	assert_int_equal(cur_remaining(&c), 0);
	cur_put_u8(&c, 1);
	assert_int_equal(c.err, -ENOBUFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_endianness),
		cmocka_unit_test(test_read_past_end_is_sticky),
		cmocka_unit_test(test_every_width_fails_cleanly),
		cmocka_unit_test(test_huge_length_claim),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_write_64_and_zero),
		cmocka_unit_test(test_readonly_refuses_writes),
		cmocka_unit_test(test_roundtrip_and_take),
		cmocka_unit_test(test_null_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
