/* sluice-gateway's settings (flags, environment, defaults, refusals) and its
 * key file (created 0600 once, reused, refused when others can read it). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/config.h"

#define CONFIG_TEST_ARGV0 "sluice-gateway"
#include "config_test.h"
#include "wg/keyfile.h"

#define PARSE(c, env, ...) gw_config_parse(c, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), env_get, \
					   env, err, sizeof(err))

static void test_flags_and_defaults(void **state)
{
	struct gw_config c;
	struct env e = { NULL };
	char err[512];

	(void)state;
	assert_int_equal(PARSE(&c, &e, "--portal", "https://198.51.100.30:8443", "--token-file",
			       "/t", "--ca=/ca.pem", "--endpoint", "198.51.100.20:51820"), 0);
	assert_string_equal(c.portal.host, "198.51.100.30");
	assert_int_equal(c.portal.port, 8443);
	assert_string_equal(c.token_file, "/t");
	assert_string_equal(c.ca_file, "/ca.pem");
	assert_string_equal(c.endpoint, "198.51.100.20:51820");
	assert_string_equal(c.state_dir, "/var/lib/sluice-gateway");
	assert_string_equal(c.ifname, "sluice-gw");
	assert_int_equal(c.listen_port, 51820);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_false(c.log_json);

	assert_int_equal(PARSE(&c, &e, "--portal", "https://[2001:db8::1]", "--token-file", "/t",
			       "--ca", "/c", "--endpoint", "[2001:db8::2]:1", "--state", "/s",
			       "--name", "gw-1", "--listen-port", "4000", "--ifname", "sl0",
			       "--log-level", "debug", "--log-json"), 0);
	assert_string_equal(c.portal.host, "2001:db8::1");
	assert_true(c.portal.host_is_ip);
	assert_string_equal(c.state_dir, "/s");
	assert_string_equal(c.name, "gw-1");
	assert_int_equal(c.listen_port, 4000);
	assert_string_equal(c.ifname, "sl0");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_true(c.log_json);
}

static void test_environment(void **state)
{
	static const char *const kv[] = {
		"SLUICE_PORTAL", "https://portal.example:9000", "SLUICE_TOKEN_FILE", "/env-t",
		"SLUICE_CA", "/env-ca", "SLUICE_ENDPOINT", "gw.example:51820",
		"SLUICE_LISTEN_PORT", "5000", "SLUICE_LOG_JSON", "1", NULL
	};
	struct env e = { kv };
	struct gw_config c;
	char err[512];

	(void)state;
	assert_int_equal(gw_config_parse(&c, 1, ARGV(NULL), env_get, &e, err, sizeof(err)), 0);
	assert_string_equal(c.portal.host, "portal.example");
	assert_int_equal(c.portal.port, 9000);
	assert_int_equal(c.listen_port, 5000);
	assert_true(c.log_json);
	/* The command line wins. */
	assert_int_equal(PARSE(&c, &e, "--listen-port", "6000", "--token-file", "/cli-t"), 0);
	assert_int_equal(c.listen_port, 6000);
	assert_string_equal(c.token_file, "/cli-t");
}

static void test_refusals(void **state)
{
	static const char *const bad_env[] = { "SLUICE_LISTEN_PORT", "0", NULL };
	struct env none = { NULL }, bad = { bad_env };
	struct gw_config c;
	char err[512];

	(void)state;
#define BASE "--portal", "https://p", "--token-file", "/t", "--ca", "/c"
	assert_int_equal(PARSE(&c, &none, BASE), -EINVAL);
	assert_non_null(strstr(err, "--endpoint"));
	assert_int_equal(PARSE(&c, &none, "--token-file", "/t", "--ca", "/c", "--endpoint",
			       "h:1"), -EINVAL);
	assert_non_null(strstr(err, "--portal is required"));
	assert_int_equal(PARSE(&c, &none, BASE, "--endpoint", "h:1", "--bogus"), -EINVAL);
	assert_non_null(strstr(err, "unknown argument: --bogus"));
	assert_int_equal(PARSE(&c, &none, BASE, "--endpoint"), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(PARSE(&c, &none, "--portal", "http://p", "--token-file", "/t", "--ca",
			       "/c", "--endpoint", "h:1"), -EINVAL);
	assert_non_null(strstr(err, "https://"));
	static const char *const bad_endpoints[] = { "h", "h:0", "h:65536", ":1", "h:-1", "h:1x",
						     "[::1:1", "[h]:1", "-h:1", "a b:1", "h:01" };
	for (size_t i = 0; i < sizeof(bad_endpoints) / sizeof(bad_endpoints[0]); i++) {
		char ep[32];

		snprintf(ep, sizeof(ep), "%s", bad_endpoints[i]);
		assert_int_equal(PARSE(&c, &none, BASE, "--endpoint", ep), -EINVAL);
		assert_non_null(strstr(err, "--endpoint"));
	}
	assert_int_equal(PARSE(&c, &none, BASE, "--endpoint", "h:1", "--listen-port", "+1"),
			 -EINVAL);
	assert_int_equal(PARSE(&c, &none, BASE, "--endpoint", "h:1", "--ifname",
			       "a-very-long-ifname"), -EINVAL);
	assert_int_equal(PARSE(&c, &none, BASE, "--endpoint", "h:1", "--ifname", "a/b"), -EINVAL);
	assert_int_equal(PARSE(&c, &none, BASE, "--endpoint", "h:1", "--log-level", "loud"),
			 -EINVAL);
	assert_int_equal(PARSE(&c, &none, BASE, "--endpoint", "h:1", "--name", ""), -EINVAL);
	assert_int_equal(PARSE(&c, &bad, BASE, "--endpoint", "h:1"), -EINVAL);
	assert_non_null(strstr(err, "SLUICE_LISTEN_PORT"));
	assert_int_equal(PARSE(&c, &none, "--help"), 1);
	assert_non_null(strstr(err, "usage: sluice-gateway"));
#undef BASE
}

static void test_keyfile(void **state)
{
	char dir[] = "/tmp/sluice-keyfile-XXXXXX", sub[64], path[96], err[256];
	uint8_t k1[32], k2[32];
	struct stat st;
	bool created;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/state", dir);
	snprintf(path, sizeof(path), "%s/private.key", sub);
	assert_int_equal(keyfile_load(sub, "private.key", k1, &created, err, sizeof(err)), 0);
	assert_true(created);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(keyfile_load(sub, "private.key", k2, &created, err, sizeof(err)), 0);
	assert_false(created);
	assert_memory_equal(k1, k2, 32);

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(keyfile_load(sub, "private.key", k2, &created, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a key\n", f);
	fclose(f);
	assert_int_equal(keyfile_load(sub, "private.key", k2, &created, err, sizeof(err)),
			 -EINVAL);
	assert_false(created); /* refused, not replaced */
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_and_defaults),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_keyfile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
