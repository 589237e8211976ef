/* What `sluice status` prints from the daemon's document (cli/status.h): the
 * sample of docs/cli.md as text, null and missing fields as "-", a portal's
 * states, expired and unset expiries, names sanitized, byte counts and ages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/status.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1765000112

static char *render(const char *json)
{
	json_error_t je;
	json_t *doc = json_loads(json, 0, &je);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!doc)
		fail_msg("bad test JSON: %s", je.text);
	assert_non_null(f);
	assert_int_equal(cli_status_render(f, doc, NOW), 0);
	fclose(f);
	json_decref(doc);
	return text;
}

static const char sample[] =
	"{\"user\":{\"id\":1,\"name\":\"alice\"},\"device\":{\"id\":3,\"name\":\"laptop\"},"
	"\"portal\":{\"url\":\"https://198.51.100.30:8443\",\"connected\":true,\"since\":1765000000},"
	"\"tunnel\":{\"interface\":\"sluice0\",\"ipv4\":\"100.64.0.2\",\"ipv6\":\"fd00:2021:1111::2\"},"
	"\"resources\":[{\"id\":1,\"name\":\"NAS\",\"type\":\"dns\",\"address\":\"nas.home.int\","
	"\"state\":\"granted\",\"gateway_id\":1,\"expires_at\":1765003600,"
	"\"proxy_ips\":[{\"ip\":\"100.96.0.1\",\"name\":\"nas.home.int\"}]},"
	"{\"id\":2,\"name\":\"Lab\",\"type\":\"dns\",\"address\":\"*.lab.int\",\"state\":\"requesting\","
	"\"gateway_id\":0,\"expires_at\":0,\"proxy_ips\":[{\"ip\":\"100.96.0.2\",\"name\":\"a.lab.int\"},"
	"{\"ip\":\"100.96.0.3\",\"name\":\"b.lab.int\"}]}],"
	"\"gateways\":[{\"id\":1,\"public_key\":\"base64\",\"endpoint\":\"198.51.100.20:51820\","
	"\"tunnel_ipv4\":\"100.64.0.1\",\"tunnel_ipv6\":\"fd00:2021:1111::1\","
	"\"last_handshake\":1765000100,\"rx_bytes\":1234,\"tx_bytes\":5678},"
	"{\"id\":2,\"endpoint\":\"203.0.113.5:51820\",\"last_handshake\":0,\"rx_bytes\":0,"
	"\"tx_bytes\":3221225472}],"
	"\"dns\":{\"sentinels\":[{\"address\":\"100.100.111.1\",\"upstream\":\"198.51.100.53\"}],"
	"\"queries_udp\":10,\"queries_tcp\":0,\"forwarded\":4,\"answered_local\":3,"
	"\"resource_queries\":3,\"resource_failed\":0,\"timeouts\":0,\"spoofed_dropped\":0,"
	"\"truncated\":0,\"formerr\":0}}";

static void test_sample(void **state)
{
	char *text = render(sample);

	(void)state;
	assert_string_equal(text,
		"user:    alice (1)\n"
		"device:  laptop (3)\n"
		"portal:  https://198.51.100.30:8443, connected since "
		"2025-12-06 05:46:40 UTC (1m ago)\n"
		"tunnel:  sluice0  100.64.0.2  fd00:2021:1111::2\n"
		"\n"
		"RESOURCES\n"
		"ID  NAME  ADDRESS       STATE       GATEWAY  EXPIRES  PROXY IPS\n"
		"1   NAS   nas.home.int  granted     1        in 58m   100.96.0.1\n"
		"2   Lab   *.lab.int     requesting  -        -        "
		"100.96.0.2 (a.lab.int), 100.96.0.3 (b.lab.int)\n"
		"\n"
		"GATEWAYS\n"
		"ID  ENDPOINT             HANDSHAKE  RX       TX\n"
		"1   198.51.100.20:51820  12s ago    1.2 KiB  5.5 KiB\n"
		"2   203.0.113.5:51820    never      0 B      3.0 GiB\n"
		"\n"
		"DNS\n"
		"sentinels:                100.100.111.1 -> 198.51.100.53\n"
		"queries (UDP):            10\n"
		"queries (TCP):            0\n"
		"forwarded:                4\n"
		"answered locally:         3\n"
		"resource queries:         3\n"
		"resource queries failed:  0\n"
		"timeouts:                 0\n"
		"spoofed answers dropped:  0\n"
		"truncated:                0\n"
		"FORMERR:                  0\n");
	free(text);
}

static void test_missing(void **state)
{
	char *text;

	(void)state;
	text = render("{\"user\":null}");
	assert_string_equal(text,
		"user:    -\n"
		"device:  -\n"
		"portal:  -\n"
		"tunnel:  -  -  -\n"
		"\n"
		"RESOURCES\n"
		"none\n"
		"\n"
		"GATEWAYS\n"
		"none\n"
		"\n"
		"DNS\n"
		"sentinels:                -\n"
		"queries (UDP):            -\n"
		"queries (TCP):            -\n"
		"forwarded:                -\n"
		"answered locally:         -\n"
		"resource queries:         -\n"
		"resource queries failed:  -\n"
		"timeouts:                 -\n"
		"spoofed answers dropped:  -\n"
		"truncated:                -\n"
		"FORMERR:                  -\n");
	free(text);

	/* Wrong types read as missing; a resource of only an id; two sentinels. */
	text = render("{\"user\":{\"name\":\"bob\"},\"device\":{\"id\":\"x\",\"name\":\"pc\"},"
		      "\"portal\":{\"url\":\"https://203.0.113.9\",\"connected\":false},"
		      "\"tunnel\":{\"interface\":\"sluice0\"},"
		      "\"resources\":[{\"id\":7},{\"id\":8,\"name\":\"old\",\"state\":\"denied\","
		      "\"gateway_id\":\"2\",\"expires_at\":1764999000,\"proxy_ips\":[]}],"
		      "\"gateways\":[{\"id\":4,\"rx_bytes\":-5}],"
		      "\"dns\":{\"sentinels\":[{\"address\":\"100.100.111.1\"},"
		      "{\"address\":\"100.100.111.2\",\"upstream\":\"198.51.100.54\"}],"
		      "\"timeouts\":2}}");
	assert_string_equal(text,
		"user:    bob\n"
		"device:  pc\n"
		"portal:  https://203.0.113.9, disconnected\n"
		"tunnel:  sluice0  -  -\n"
		"\n"
		"RESOURCES\n"
		"ID  NAME  ADDRESS  STATE   GATEWAY  EXPIRES  PROXY IPS\n"
		"7   -     -        -       -        -        -\n"
		"8   old   -        denied  -        expired  -\n"
		"\n"
		"GATEWAYS\n"
		"ID  ENDPOINT  HANDSHAKE  RX  TX\n"
		"4   -         -          -   -\n"
		"\n"
		"DNS\n"
		"sentinels:                100.100.111.1 -> -\n"
		"                          100.100.111.2 -> 198.51.100.54\n"
		"queries (UDP):            -\n"
		"queries (TCP):            -\n"
		"forwarded:                -\n"
		"answered locally:         -\n"
		"resource queries:         -\n"
		"resource queries failed:  -\n"
		"timeouts:                 2\n"
		"spoofed answers dropped:  -\n"
		"truncated:                -\n"
		"FORMERR:                  -\n");
	free(text);
}

/* Names come from the portal: nothing printed may drive the terminal. */
static void test_sanitized(void **state)
{
	char *text;

	(void)state;
	text = render("{\"user\":{\"id\":1,\"name\":\"\\u001b[2Jeve\"},"
		      "\"resources\":[{\"id\":1,\"name\":\"a\\nb\",\"address\":\"x\\u202ey\","
		      "\"proxy_ips\":[{\"ip\":\"100.96.0.9\",\"name\":\"\\u001b]0;t\\u0007\"}]}]}");
	assert_null(strchr(text, '\x1b'));
	assert_null(strchr(text, '\a'));
	assert_null(strstr(text, "\xe2\x80\xae"));
	assert_non_null(strstr(text, "user:    ?[2Jeve (1)\n"));
	assert_non_null(strstr(text, "1   a b   x\xef\xbf\xbdy"));
	assert_non_null(strstr(text, "100.96.0.9 (?]0;t?)"));
	free(text);
}

static void test_units(void **state)
{
	static const struct { uint64_t n; const char *s; } bytes[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.0 KiB" }, { 1536, "1.5 KiB" },
		{ 1048576, "1.0 MiB" }, { 5ull << 30, "5.0 GiB" }, { 3ull << 40, "3.0 TiB" },
		{ UINT64_MAX, "16.0 EiB" },
	};
	static const struct { int64_t s; const char *t; } ages[] = {
		{ -5, "0s" }, { 0, "0s" }, { 59, "59s" }, { 60, "1m" }, { 3599, "59m" },
		{ 3600, "1h 0m" }, { 7500, "2h 5m" }, { 86400, "1d 0h" }, { 273600, "3d 4h" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bytes); i++) {
		cli_status_bytes(buf, sizeof(buf), bytes[i].n);
		assert_string_equal(buf, bytes[i].s);
	}
	for (size_t i = 0; i < ARRAY_SIZE(ages); i++) {
		cli_status_duration(buf, sizeof(buf), ages[i].s);
		assert_string_equal(buf, ages[i].t);
	}
}

/* Usage errors never reach a socket. */
static void test_usage(void **state)
{
	static const char *const bad[][3] = {
		{ "status", "--socket", NULL }, { "status", "--socket=", NULL },
		{ "status", "extra", NULL }, { "status", "--jsn", NULL },
	};
	char *out = NULL, *err = NULL;
	size_t lo, le;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		FILE *fo = open_memstream(&out, &lo), *fe = open_memstream(&err, &le);
		int argc = bad[i][2] ? 3 : 2;

		assert_int_equal(cli_status_main(argc, (char *const *)bad[i], fo, fe),
				 CLI_STATUS_EXIT_USAGE);
		fclose(fo);
		fclose(fe);
		assert_non_null(strstr(err, "Usage: sluice status"));
		free(out);
		free(err);
	}
	{
		FILE *fo = open_memstream(&out, &lo), *fe = open_memstream(&err, &le);

		assert_int_equal(cli_status_main(2, (char *const[]){ "status", "--help", NULL },
						 fo, fe), 0);
		fclose(fo);
		fclose(fe);
		assert_non_null(strstr(out, "--socket PATH"));
		free(out);
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_sanitized),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
