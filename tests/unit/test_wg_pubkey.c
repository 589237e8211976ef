/* Public key validation (wg/pubkey.h): every point of small order of
 * Curve25519 in each of its 32-byte encodings (libsodium's has_small_order
 * list and the top-bit variants), u >= p, and base64 that is not canonical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "wg/pubkey.h"

/* The points of order 1, 2, 4 and 8, canonical (u < p). */
static const uint8_t small_order[][32] = {
	/* 0 (order 4) */
	{ 0 },
	/* 1 (order 1) */
	{ 1 },
	/* p - 1 (order 2) */
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0x7f },
	/* 325606250916557431795983626356110631294008115727848805560023387167927233504
	 * (order 8) */
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f,
	  0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16,
	  0x5f, 0x49, 0xb8, 0x00 },
	/* 39382357235489614581723060781553021112529911719440698176882885853963445705823
	 * (order 8) */
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83,
	  0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd,
	  0xd0, 0x9f, 0x11, 0x57 },
};

/* u with 0 <= u < 2^255 as p + d (d = 0..18: the only non-canonical values
 * below 2^255; p and p + 1 are 0 and 1 again). */
static void p_plus(uint8_t k[32], unsigned d)
{
	memset(k, 0xff, 32);
	k[0] = (uint8_t)(0xed + d);
	k[31] = 0x7f;
}

static void b64(char out[WG_PUBKEY_B64_LEN + 1], const uint8_t k[32])
{
	sodium_bin2base64(out, WG_PUBKEY_B64_LEN + 1, k, 32, sodium_base64_VARIANT_ORIGINAL);
}

static void test_real_keys_pass(void **state)
{
	uint8_t sk[32], pk[32], back[32];
	char s[WG_PUBKEY_B64_LEN + 1];

	(void)state;
	for (int i = 0; i < 200; i++) {
		randombytes_buf(sk, sizeof(sk));
		assert_int_equal(crypto_scalarmult_curve25519_base(pk, sk), 0);
		assert_int_equal(wg_pubkey_check(pk), 0);
		b64(s, pk);
		assert_int_equal(wg_pubkey_from_base64(back, s), 0);
		assert_memory_equal(back, pk, 32);
	}
	/* p - 2 and 2 are neither small order nor non-canonical */
	p_plus(pk, 0);
	pk[0] = 0xeb;
	assert_int_equal(wg_pubkey_check(pk), 0);
	memset(pk, 0, 32);
	pk[0] = 9; /* the base point */
	assert_int_equal(wg_pubkey_check(pk), 0);
}

static void test_small_order_refused(void **state)
{
	char s[WG_PUBKEY_B64_LEN + 1];
	uint8_t k[32], out[32] = { 0x55 };

	(void)state;
	for (size_t i = 0; i < sizeof(small_order) / sizeof(small_order[0]); i++) {
		memcpy(k, small_order[i], 32);
		assert_int_equal(wg_pubkey_check(k), -EDOM);
		b64(s, k);
		assert_int_equal(wg_pubkey_from_base64(out, s), -EDOM);
		assert_int_equal(out[0], 0x55); /* untouched on failure */
		/* the same point with the top bit set (X25519 ignores that bit) */
		k[31] |= 0x80;
		assert_int_equal(wg_pubkey_check(k), -ERANGE);
		b64(s, k);
		assert_int_equal(wg_pubkey_from_base64(NULL, s), -ERANGE);
	}
}

/* The list is what small order means: X25519 with any clamped scalar (a
 * multiple of 8) sends each listed point to 0 (libsodium answers -1), and no key
 * that passes the check goes there. */
static void test_small_order_is_x25519s(void **state)
{
	uint8_t sk[32], k[32], out[32];

	(void)state;
	randombytes_buf(sk, sizeof(sk));
	for (size_t i = 0; i < sizeof(small_order) / sizeof(small_order[0]); i++)
		assert_int_equal(crypto_scalarmult_curve25519(out, sk, small_order[i]), -1);
	for (int i = 0; i < 2000; i++) {
		randombytes_buf(k, sizeof(k));
		k[31] &= 0x7f;
		if (wg_pubkey_check(k) == 0)
			assert_int_equal(crypto_scalarmult_curve25519(out, sk, k), 0);
	}
}

static void test_non_canonical_refused(void **state)
{
	uint8_t k[32];

	(void)state;
	/* p (= 0), p + 1 (= 1): small order, non-canonical; p + 2 .. p + 18 */
	for (unsigned d = 0; d <= 18; d++) {
		p_plus(k, d);
		assert_int_equal(wg_pubkey_check(k), -ERANGE);
		k[31] |= 0x80;
		assert_int_equal(wg_pubkey_check(k), -ERANGE);
	}
	memset(k, 0xff, 32); /* 2^256 - 1 */
	assert_int_equal(wg_pubkey_check(k), -ERANGE);
	/* a real key with the top bit set: an alias of it */
	memset(k, 0, 32);
	k[0] = 9;
	k[31] = 0x80;
	assert_int_equal(wg_pubkey_check(k), -ERANGE);
}

static void test_base64_forms(void **state)
{
	uint8_t k[32] = { 9 }, out[32];
	char s[WG_PUBKEY_B64_LEN + 1], t[WG_PUBKEY_B64_LEN + 8];

	(void)state;
	b64(s, k); /* CQAA...AAA= */
	assert_int_equal(wg_pubkey_from_base64(out, s), 0);
	/* set padding bits: the same bytes, another text */
	strcpy(t, s);
	t[42] = 'B';
	assert_int_equal(wg_pubkey_from_base64(out, t), -EINVAL);
	/* no padding, two paddings, spaces, URL-safe alphabet, 33 bytes, 31 bytes */
	snprintf(t, sizeof(t), "%.43s", s);
	assert_int_equal(wg_pubkey_from_base64(out, t), -EINVAL);
	snprintf(t, sizeof(t), "%s=", s);
	assert_int_equal(wg_pubkey_from_base64(out, t), -EINVAL);
	snprintf(t, sizeof(t), " %.43s", s);
	assert_int_equal(wg_pubkey_from_base64(out, t), -EINVAL);
	snprintf(t, sizeof(t), "%s\n", s);
	assert_int_equal(wg_pubkey_from_base64(out, t), -EINVAL);
	assert_int_equal(wg_pubkey_from_base64(out, "CQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_="),
			 -EINVAL);
	assert_int_equal(wg_pubkey_from_base64(out, "CQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="),
			 -EINVAL);
	assert_int_equal(wg_pubkey_from_base64(out, "CQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="),
			 -EINVAL);
	assert_int_equal(wg_pubkey_from_base64(out, ""), -EINVAL);
	/* a length-bounded view stops where it is told */
	snprintf(t, sizeof(t), "%sXYZ", s);
	assert_int_equal(wg_pubkey_from_base64n(out, t, WG_PUBKEY_B64_LEN), 0);
	assert_int_equal(wg_pubkey_from_base64n(out, t, WG_PUBKEY_B64_LEN + 3), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_keys_pass),
		cmocka_unit_test(test_small_order_refused),
		cmocka_unit_test(test_small_order_is_x25519s),
		cmocka_unit_test(test_non_canonical_refused),
		cmocka_unit_test(test_base64_forms),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
