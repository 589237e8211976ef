/* portal/http_bearer.c: the one Authorization parse of the REST API and the
 * WebSocket upgrade (RFC 6750 2.1). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "portal/http.h"

static void expect(const char *header, int want, const char *token)
{
	char out[64];
	int r = http_bearer(header, out, sizeof(out));

	if (r != want)
		print_error("'%s': got %d, want %d\n", header ? header : "(null)", r, want);
	assert_int_equal(r, want);
	if (r >= 0)
		assert_string_equal(out, token);
}

static void test_accepted(void **state)
{
	(void)state;
	expect("Bearer sl_abc", 6, "sl_abc");
	expect("bearer sl_abc", 6, "sl_abc");
	expect("BEARER sl_abc", 6, "sl_abc");
	expect("Bearer  sl_abc", 6, "sl_abc");      /* 1*SP */
	expect("Bearer sl_abc ", 6, "sl_abc");      /* trailing OWS is not the value's */
	expect("Bearer sl_abc \t ", 6, "sl_abc");
	expect("Bearer   sl_abc  ", 6, "sl_abc");
	expect("Bearer aZ09-._~+/==", 12, "aZ09-._~+/==");
}

static void test_refused(void **state)
{
	(void)state;
	expect(NULL, -ENOENT, NULL);
	expect("", -EINVAL, NULL);
	expect("Bearer", -EINVAL, NULL);
	expect("Bearer ", -EINVAL, NULL);
	expect("Bearer    ", -EINVAL, NULL);
	expect("Bearersl_abc", -EINVAL, NULL);
	expect("Bearer\tsl_abc", -EINVAL, NULL);   /* 1*SP: a tab is not a space */
	expect("Basic dXNlcjpwYXNz", -EINVAL, NULL);
	expect("Bearer sl abc", -EINVAL, NULL);    /* one token */
	expect("Bearer sl_abc,x", -EINVAL, NULL);
	expect("Bearer =abc", -EINVAL, NULL);      /* '=' pads the end only */
	expect("Bearer ab=c", -EINVAL, NULL);
	expect("Bearer sl_\x1b", -EINVAL, NULL);
	expect("Bearer sl_\xc3\xa9", -EINVAL, NULL);
}

static void test_size(void **state)
{
	char out[7];

	(void)state;
	assert_int_equal(http_bearer("Bearer sl_abc", out, sizeof(out)), 6);
	assert_int_equal(http_bearer("Bearer sl_abcd", out, sizeof(out)), -E2BIG);
	assert_int_equal(http_bearer("Bearer sl_abcd   ", out, sizeof(out)), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
