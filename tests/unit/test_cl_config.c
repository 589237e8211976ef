/* sluice-client's settings: flags, environment, defaults, the ranges' rules
 * and the refusals. The prefix helpers they rest on: test_prefix.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "client/config.h"

#define CONFIG_TEST_ARGV0 "sluice-client"
#include "config_test.h"

#define PARSE(c, env, ...) cl_config_parse(c, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), env_get, \
					   env, err, sizeof(err))
#define BASE "--portal", "https://198.51.100.30:8443", "--token-file", "/t", "--ca", "/c"

static void assert_prefix(const struct net_prefix *p, const char *text)
{
	char buf[PREFIX_STRLEN];

	assert_string_equal(prefix_str(p, buf, sizeof(buf)), text);
}

static void test_defaults(void **state)
{
	struct env e = { NULL };
	struct cl_config c;
	char err[512];

	(void)state;
	assert_int_equal(PARSE(&c, &e, BASE), 0);
	assert_string_equal(c.portal.host, "198.51.100.30");
	assert_int_equal(c.portal.port, 8443);
	assert_string_equal(c.token_file, "/t");
	assert_string_equal(c.ca_file, "/c");
	assert_string_equal(c.state_dir, "/var/lib/sluice-client");
	assert_string_equal(c.name, "");
	assert_string_equal(c.ifname, "sluice0");
	assert_string_equal(c.status_socket, "/run/sluice/client.sock");
	assert_string_equal(c.resolv_conf, "/etc/resolv.conf");
	assert_string_equal(c.dns_backup, "/etc/resolv.conf.sluice-backup");
	assert_int_equal(c.proxy4.family, AF_INET);
	assert_prefix(&c.proxy4, "100.96.0.0/11");
	assert_int_equal(c.proxy6.family, AF_INET6);
	assert_prefix(&c.proxy6, "fd00:2021:1111:8000::/107");
	assert_prefix(&c.sentinel4, "100.100.111.0/24");
	assert_prefix(&c.sentinel6, "fd00:2021:1111:8000:100:100:111:0/120");
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_false(c.log_json);
	assert_string_equal(err, "");
}

static void test_flags(void **state)
{
	struct env e = { NULL };
	struct cl_config c;
	char err[512];

	(void)state;
	assert_int_equal(PARSE(&c, &e, BASE, "--state", "/s", "--name=laptop", "--ifname", "sl1",
			       "--status-socket", "/run/x.sock", "--resolv-conf", "/r/resolv",
			       "--proxy4", "100.64.0.0/16", "--proxy6=fd00:2021:1111:9000::/112",
			       "--sentinel4", "100.64.200.0/27", "--sentinel6",
			       "fd00:2021:1111:9001::/123", "--log-level", "debug", "--log-json"),
			 0);
	assert_string_equal(c.state_dir, "/s");
	assert_string_equal(c.name, "laptop");
	assert_string_equal(c.ifname, "sl1");
	assert_string_equal(c.status_socket, "/run/x.sock");
	assert_string_equal(c.resolv_conf, "/r/resolv");
	assert_string_equal(c.dns_backup, "/r/resolv.sluice-backup"); /* next to it */
	assert_prefix(&c.proxy4, "100.64.0.0/16");
	assert_prefix(&c.proxy6, "fd00:2021:1111:9000::/112");
	assert_prefix(&c.sentinel4, "100.64.200.0/27");
	assert_prefix(&c.sentinel6, "fd00:2021:1111:9001::/123");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_true(c.log_json);
	assert_int_equal(PARSE(&c, &e, BASE, "--dns-backup", "/b/backup"), 0);
	assert_string_equal(c.dns_backup, "/b/backup");
	/* the extremes of each range's length */
	assert_int_equal(PARSE(&c, &e, BASE, "--proxy4", "100.0.0.0/8", "--sentinel4",
			       "198.18.0.0/16", "--proxy6", "fd00:2021:1111::/96"), 0);
	assert_int_equal(PARSE(&c, &e, BASE, "--proxy4", "100.100.112.0/30", "--proxy6",
			       "fd00:2021:1111::/126"), 0);
}

static void test_environment(void **state)
{
	static const char *const kv[] = {
		"SLUICE_PORTAL", "https://portal.example:9000", "SLUICE_TOKEN_FILE", "/env-t",
		"SLUICE_CA", "/env-ca", "SLUICE_STATE", "/env-s", "SLUICE_NAME", "n1",
		"SLUICE_IFNAME", "envif", "SLUICE_STATUS_SOCKET", "/env.sock",
		"SLUICE_DNS_BACKUP", "/env-backup", "SLUICE_RESOLV_CONF", "/env-resolv",
		"SLUICE_PROXY4", "100.64.0.0/12", "SLUICE_PROXY6", "fd00:2021:1111:a000::/100",
		"SLUICE_SENTINEL4", "100.80.0.0/24", "SLUICE_SENTINEL6",
		"fd00:2021:1111:b000::/120", "SLUICE_LOG_LEVEL", "warn", "SLUICE_LOG_JSON", "1",
		NULL
	};
	struct env e = { kv };
	struct cl_config c;
	char err[512];

	(void)state;
	assert_int_equal(cl_config_parse(&c, 1, ARGV(NULL), env_get, &e, err, sizeof(err)), 0);
	assert_string_equal(c.portal.host, "portal.example");
	assert_int_equal(c.portal.port, 9000);
	assert_string_equal(c.token_file, "/env-t");
	assert_string_equal(c.ca_file, "/env-ca");
	assert_string_equal(c.state_dir, "/env-s");
	assert_string_equal(c.name, "n1");
	assert_string_equal(c.ifname, "envif");
	assert_string_equal(c.status_socket, "/env.sock");
	assert_string_equal(c.dns_backup, "/env-backup");
	assert_string_equal(c.resolv_conf, "/env-resolv");
	assert_prefix(&c.proxy4, "100.64.0.0/12");
	assert_prefix(&c.proxy6, "fd00:2021:1111:a000::/100");
	assert_prefix(&c.sentinel4, "100.80.0.0/24");
	assert_prefix(&c.sentinel6, "fd00:2021:1111:b000::/120");
	assert_int_equal(c.log_level, LOG_LVL_WARN);
	assert_true(c.log_json);
	/* the command line wins */
	assert_int_equal(PARSE(&c, &e, "--proxy4", "100.96.0.0/11", "--token-file", "/cli-t",
			       "--log-level", "err"), 0);
	assert_prefix(&c.proxy4, "100.96.0.0/11");
	assert_string_equal(c.token_file, "/cli-t");
	assert_int_equal(c.log_level, LOG_LVL_ERR);
	assert_prefix(&c.proxy6, "fd00:2021:1111:a000::/100");
}

static void refused(const char *flag, const char *value, const char *needle)
{
	struct env e = { NULL };
	struct cl_config c;
	char err[512], f[32], v[256];

	snprintf(f, sizeof(f), "%s", flag);
	snprintf(v, sizeof(v), "%s", value);
	err[0] = '\0';
	if (PARSE(&c, &e, BASE, f, v) != -EINVAL || !strstr(err, needle)) {
		fail_msg("%s %s: expected a refusal naming \"%s\", got \"%s\"", flag, value,
			 needle, err);
	}
}

static void test_refusals(void **state)
{
	static const char *const bad_env[] = { "SLUICE_PROXY6", "100.96.0.0/11", NULL };
	struct env none = { NULL }, bad = { bad_env };
	struct cl_config c;
	char err[512], longpath[200];

	(void)state;
	assert_int_equal(PARSE(&c, &none, "--token-file", "/t", "--ca", "/c"), -EINVAL);
	assert_non_null(strstr(err, "--portal is required (or SLUICE_PORTAL)"));
	assert_int_equal(PARSE(&c, &none, "--portal", "https://p", "--ca", "/c"), -EINVAL);
	assert_non_null(strstr(err, "--token-file is required"));
	assert_int_equal(PARSE(&c, &none, "--portal", "https://p", "--token-file", "/t"),
			 -EINVAL);
	assert_non_null(strstr(err, "--ca is required"));
	assert_int_equal(PARSE(&c, &none, BASE, "--bogus"), -EINVAL);
	assert_non_null(strstr(err, "unknown argument: --bogus"));
	assert_int_equal(PARSE(&c, &none, BASE, "--proxy4"), -EINVAL);
	assert_non_null(strstr(err, "--proxy4 needs a value"));
	assert_int_equal(PARSE(&c, &none, BASE, "--log-json=1"), -EINVAL); /* a switch */
	assert_int_equal(PARSE(&c, &none, "--portal", "http://p", "--token-file", "/t", "--ca",
			       "/c"), -EINVAL);
	assert_non_null(strstr(err, "https://"));
	assert_int_equal(PARSE(&c, &bad, BASE), -EINVAL);
	assert_non_null(strstr(err, "SLUICE_PROXY6"));

	/* family, syntax, host bits, lengths */
	refused("--proxy4", "fd00:2021:1111:8000::/107", "IPv4 prefix /8 to /30");
	refused("--proxy4", "100.96.0.0", "--proxy4");
	refused("--proxy4", "100.96.0.1/11", "--proxy4");
	refused("--proxy4", "100.96.0.0/7", "--proxy4");
	refused("--proxy4", "100.96.0.0/31", "--proxy4");
	refused("--proxy4", "100.96.0.0/+11", "--proxy4");
	refused("--proxy4", "100.96.0.0/ 11", "--proxy4");
	refused("--proxy4", "100.96.0.0/0011", "--proxy4");
	refused("--proxy4", "100.96.0.0/11x", "--proxy4");
	refused("--proxy4", "100.96.0.0/", "--proxy4");
	refused("--proxy4", "/11", "--proxy4");
	refused("--proxy4", "", "--proxy4");
	refused("--proxy6", "100.96.0.0/11", "IPv6 prefix /96 to /126");
	refused("--proxy6", "fd00:2021:1111:8000::/95", "--proxy6");
	refused("--proxy6", "fd00:2021:1111:8000::/127", "--proxy6");
	refused("--proxy6", "fd00:2021:1111:8000::1/107", "--proxy6");
	refused("--sentinel4", "100.100.111.0/28", "IPv4 prefix /16 to /27");
	refused("--sentinel4", "100.100.0.0/15", "--sentinel4");
	refused("--sentinel4", "100.100.111.1/24", "--sentinel4");
	refused("--sentinel6", "fd00:2021:1111:8000:100:100:111:0/124", "/112 to /123");
	refused("--sentinel6", "fd00:2021:1111:8000:100:100::/111", "--sentinel6");
	refused("--sentinel6", "100.100.111.0/24", "--sentinel6");
	/* a sentinel range around its proxy range */
	assert_int_equal(PARSE(&c, &none, BASE, "--proxy4", "100.100.111.0/26"), -EINVAL);
	assert_non_null(strstr(err, "--sentinel4 100.100.111.0/24 covers --proxy4 "
				    "100.100.111.0/26"));
	assert_int_equal(PARSE(&c, &none, BASE, "--proxy4", "100.100.111.0/24"), -EINVAL);
	assert_int_equal(PARSE(&c, &none, BASE, "--proxy6", "fd00:2021:1111:8000:100:100:111:0/"
							  "122"), -EINVAL);
	assert_non_null(strstr(err, "--sentinel6"));
	/* inside (as the IPv4 default) and outside (as the IPv6 default) are fine */
	assert_int_equal(PARSE(&c, &none, BASE, "--sentinel4", "198.18.0.0/24"), 0);
	assert_int_equal(PARSE(&c, &none, BASE, "--sentinel6", "fd00:2021:1111:8000::/120"), 0);

	refused("--ifname", "a-very-long-ifname", "not an interface name");
	refused("--ifname", "a/b", "--ifname");
	refused("--ifname", "..", "--ifname");
	refused("--log-level", "loud", "--log-level");
	refused("--name", "", "--name: empty");
	refused("--state", "", "--state: empty");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	refused("--status-socket", longpath, "--status-socket: too long"); /* sun_path */
	longpath[CL_SOCKET_MAX - 1] = '\0';
	assert_int_equal(PARSE(&c, &none, BASE, "--status-socket", longpath), 0);
	refused("--dns-backup", "/etc/resolv.conf", "must differ");
	char big[2048];

	assert_int_equal(cl_config_parse(&c, 2, ARGV("--help"), env_get, &none, big,
					 sizeof(big)), 1);
	assert_string_equal(big, cl_config_usage());
	assert_int_equal(PARSE(&c, &none, BASE, "-h"), 1);
	assert_non_null(strstr(err, "usage: sluice-client")); /* cut to fit err */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
