/* What `sluice admin` prints: terminal widths of UTF-8 text, sanitizing of
 * what the portal sends (controls, bidi overrides, malformed UTF-8), aligned
 * tables with wide and combining characters, caps, value formats (filters,
 * conditions, null, booleans), entity tables and the error line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/render.h"
#include "cli/table.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FFFD "\xef\xbf\xbd"

/* Output into a string. */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static FILE *cap_open(struct capture *c)
{
	*c = (struct capture){ 0 };
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
	return c->f;
}

static const char *cap_text(struct capture *c)
{
	fclose(c->f);
	c->f = NULL;
	return c->text;
}

static void test_width(void **state)
{
	static const struct { const char *s; size_t w; } cases[] = {
		{ "", 0 }, { "abc", 3 }, { "Zürich", 6 }, { "e\xcc\x81", 1 },
		{ "日本語", 6 }, { "東京 office", 11 }, { "한국어", 6 }, { "ｗｉｄｅ", 8 },
		{ "😀", 2 }, { "👍🏽", 2 }, { "a\xe2\x80\x8b" "b", 2 }, { "✓", 1 },
		{ "\xff", 1 }, { "\xe6\x97", 2 }, { "ｱ", 1 } /* halfwidth katakana */,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (table_text_width(cases[i].s) != cases[i].w)
			fail_msg("width(\"%s\") = %zu, want %zu", cases[i].s,
				 table_text_width(cases[i].s), cases[i].w);
}

static void test_sanitize(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain", "plain" },
		{ "a\nb\tc\rd", "a b c d" },
		{ "\x1b[31mred\x1b[0m", "?[31mred?[0m" },
		{ "\x07\x7f", "??" },
		{ "c1 \xc2\x9b" "2J", "c1 ?2J" },              /* C1 CSI */
		{ "abc\xe2\x80\xae" "fdp.exe", "abc" FFFD "fdp.exe" }, /* RLO */
		{ "\xe2\x81\xa6x", FFFD "x" },                 /* LRI */
		{ "\xc0\xaf", FFFD FFFD },                       /* overlong '/' */
		{ "\xed\xa0\x80", FFFD FFFD FFFD },              /* a surrogate */
		{ "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD },     /* past U+10FFFF */
		{ "ok \xe6\x97", "ok " FFFD FFFD },              /* cut short */
		{ "日本 ü", "日本 ü" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *s = table_sanitize(cases[i].in);

		assert_non_null(s);
		if (strcmp(s, cases[i].out) != 0)
			fail_msg("sanitize(\"%s\") = \"%s\", want \"%s\"", cases[i].in, s,
				 cases[i].out);
		free(s);
	}
}

static const char *print(struct capture *c, struct table *t, int no_header)
{
	assert_int_equal(table_print(t, cap_open(c), no_header), 0);
	return cap_text(c);
}

static void test_table(void **state)
{
	static const char *const headers[] = { "ID", "NAME", "NOTE" };
	struct capture c;
	struct table *t;

	(void)state;
	assert_int_equal(table_new(3, headers, &t), 0);
	assert_int_equal(table_add_row(t, (const char *[]){ "1", "東京", "wide" }), 0);
	assert_int_equal(table_add_row(t, (const char *[]){ "22", "Zu\xcc\x88rich", "" }), 0);
	assert_int_equal(table_add_row(t, (const char *[]){ "333", "a\nb", NULL }), 0);
	assert_int_equal(table_add_row(t, (const char *[]){ "4", "😀x", "\x1b]0;pwned\x07" }), 0);
	assert_int_equal(table_rows(t), 4);
	/* Columns line up on screen: 東京 takes four columns, "Zü" (u and a
	 * combining diaeresis) two; no blanks trail a line. */
	assert_string_equal(print(&c, t, 0),
			    "ID   NAME    NOTE\n"
			    "1    東京    wide\n"
			    "22   Zu\xcc\x88rich\n"
			    "333  a b\n"
			    "4    😀x     ?]0;pwned?\n");
	free(c.text);
	assert_string_equal(print(&c, t, 1),
			    "1    東京    wide\n"
			    "22   Zu\xcc\x88rich\n"
			    "333  a b\n"
			    "4    😀x     ?]0;pwned?\n");
	free(c.text);
	table_free(t);

	/* Caps cut at a character boundary, by columns, not bytes. */
	assert_int_equal(table_new(2, (const char *[]){ "A", "B" }, &t), 0);
	table_set_max(t, 0, 5);
	table_set_max(t, 1, 5);
	assert_int_equal(table_add_row(t, (const char *[]){ "abcdefgh", "日本語日本" }), 0);
	assert_int_equal(table_add_row(t, (const char *[]){ "abcde", "日本x" }), 0);
	assert_int_equal(table_add_row(t, (const char *[]){ "abce\xcc\x81xyz", "a日本語" }), 0);
	assert_string_equal(print(&c, t, 0),
			    "A      B\n"
			    "abcd…  日本…\n"
			    "abcde  日本x\n"
			    "abce\xcc\x81…  a日…\n");
	free(c.text);
	table_free(t);

	assert_int_equal(table_new(0, headers, &t), -EINVAL);
}

static void test_values(void **state)
{
	static const struct { const char *field, *json, *text; } cases[] = {
		{ "name", "\"Zürich\"", "Zürich" },
		{ "id", "42", "42" },
		{ "expires_at", "null", "-" },
		{ "online", "true", "yes" },
		{ "disabled", "false", "no" },
		{ "upstream_dns", "[\"9.9.9.9\",\"2620:fe::fe\"]", "9.9.9.9, 2620:fe::fe" },
		{ "upstream_dns", "[]", "-" },
		{ "filters", "[]", "all" },
		{ "filters", "[{\"protocol\":\"tcp\",\"ports\":\"443\"},{\"protocol\":\"udp\","
		  "\"ports\":\"8000-8100\"},{\"protocol\":\"icmp\"}]",
		  "tcp:443, udp:8000-8100, icmp" },
		{ "conditions", "{}", "-" },
		{ "conditions", "{\"time_windows\":[{\"days\":[\"mon\",\"tue\",\"wed\",\"fri\"],"
		  "\"start\":\"09:00\",\"end\":\"17:00\"},{\"days\":[\"sat\",\"sun\"],"
		  "\"start\":\"22:00\",\"end\":\"02:00\"}],\"time_zone\":\"Europe/Berlin\","
		  "\"source_cidrs\":[\"198.51.100.0/24\",\"2001:db8::/32\"]}",
		  "mon-wed,fri 09:00-17:00, sat,sun 22:00-02:00 Europe/Berlin; from "
		  "198.51.100.0/24, 2001:db8::/32" },
		{ "conditions", "{\"time_zone\":\"Asia/Tokyo\"}", "tz Asia/Tokyo" },
		{ "conditions", "{\"source_cidrs\":[\"10.0.0.0/8\"]}", "from 10.0.0.0/8" },
		{ "conditions", "{\"time_windows\":[{\"days\":[\"mon\",\"tue\",\"wed\",\"thu\","
		  "\"fri\",\"sat\",\"sun\"],\"start\":\"00:00\",\"end\":\"24:00\"}]}",
		  "mon-sun 00:00-24:00" },
		{ "detail", "{\"name\":\"x\",\"n\":[1,2]}", "{\"name\":\"x\",\"n\":[1,2]}" },
		{ "ids", "[1,2]", "[1,2]" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		char *s;

		assert_non_null(v);
		s = render_value(cases[i].field, v);
		assert_non_null(s);
		if (strcmp(s, cases[i].text) != 0)
			fail_msg("%s %s: \"%s\", want \"%s\"", cases[i].field, cases[i].json, s,
				 cases[i].text);
		free(s);
		json_decref(v);
	}
}

static void test_lists(void **state)
{
	json_t *items = json_loads(
		"[{\"id\":1,\"site_id\":1,\"type\":\"dns\",\"address\":\"*.slack.saas.test\","
		"\"name\":\"Slack\",\"description\":\"\",\"filters\":[],\"created_at\":\"x\"},"
		"{\"id\":12,\"site_id\":1,\"type\":\"cidr\",\"address\":\"203.0.113.128/25\","
		"\"name\":\"研究所 LAN\",\"description\":\"the lab\\nfloor 2\","
		"\"filters\":[{\"protocol\":\"tcp\",\"ports\":\"22\"}],\"created_at\":\"x\"}]",
		0, NULL);
	json_t *empty = json_array();
	json_t *odd = json_loads("[{\"zone\":\"a\",\"count\":3},{\"zone\":\"bb\"}]", 0, NULL);
	json_t *obj = json_loads("{\"id\":3,\"kind\":\"site\",\"name\":\"gw\",\"user_id\":null,"
				 "\"site_id\":1,\"expires_at\":null}", 0, NULL);
	struct capture c;

	(void)state;
	assert_int_equal(render_list(cap_open(&c), "resources", items, false), 0);
	assert_string_equal(cap_text(&c),
		"ID  SITE  TYPE  ADDRESS            NAME        FILTERS  DESCRIPTION\n"
		"1   1     dns   *.slack.saas.test  Slack       all\n"
		"12  1     cidr  203.0.113.128/25   研究所 LAN  tcp:22   the lab floor 2\n");
	free(c.text);

	/* An empty list: the headers alone; without them, nothing. */
	assert_int_equal(render_list(cap_open(&c), "groups", empty, false), 0);
	assert_string_equal(cap_text(&c), "ID  NAME  CREATED\n");
	free(c.text);
	assert_int_equal(render_list(cap_open(&c), "groups", empty, true), 0);
	assert_string_equal(cap_text(&c), "");
	free(c.text);

	/* A view it does not know: the first item's fields. */
	assert_int_equal(render_list(cap_open(&c), "planets", odd, false), 0);
	assert_string_equal(cap_text(&c), "zone  count\na     3\nbb    -\n");
	free(c.text);

	assert_int_equal(render_object(cap_open(&c), obj), 0);
	assert_string_equal(cap_text(&c),
			    "id          3\nkind        site\nname        gw\nuser_id     -\n"
			    "site_id     1\nexpires_at  -\n");
	free(c.text);
	json_decref(items);
	json_decref(odd);
	json_decref(obj);
	json_decref(empty);
}

/* The flows log: events and traffic in one table, each row filling what it
 * has (a traffic row: its flow's start and end, protocol and port, bytes each
 * way; an event: its time and reason). */
static void test_flows(void **state)
{
	json_t *items = json_loads(
		"[{\"id\":1,\"time\":\"2026-12-07T18:00:00Z\",\"event\":\"granted\","
		"\"client_id\":7,\"user_id\":4,\"resource_id\":3,\"gateway_id\":2,"
		"\"reason\":null,\"protocol\":null,\"port\":null,\"rx_bytes\":null,"
		"\"tx_bytes\":null,\"start\":null,\"end\":null},"
		"{\"id\":2,\"time\":\"2026-12-07T18:00:01Z\",\"event\":\"denied\","
		"\"client_id\":7,\"user_id\":4,\"resource_id\":9,\"gateway_id\":null,"
		"\"reason\":\"no_policy\",\"protocol\":null,\"port\":null,"
		"\"rx_bytes\":null,\"tx_bytes\":null,\"start\":null,\"end\":null},"
		"{\"id\":3,\"time\":\"2026-12-07T18:06:00Z\",\"event\":\"traffic\","
		"\"client_id\":7,\"user_id\":4,\"resource_id\":3,\"gateway_id\":2,"
		"\"reason\":null,\"protocol\":\"tcp\",\"port\":443,\"rx_bytes\":120345,"
		"\"tx_bytes\":5120,\"start\":\"2026-12-07T18:00:02Z\","
		"\"end\":\"2026-12-07T18:05:40Z\"},"
		"{\"id\":4,\"time\":\"2026-12-07T18:06:00Z\",\"event\":\"traffic\","
		"\"client_id\":7,\"user_id\":4,\"resource_id\":3,\"gateway_id\":2,"
		"\"reason\":null,\"protocol\":\"icmp\",\"port\":0,\"rx_bytes\":84,"
		"\"tx_bytes\":84,\"start\":\"2026-12-07T18:00:03Z\","
		"\"end\":\"2026-12-07T18:00:03Z\"}]", 0, NULL);
	struct capture c;

	(void)state;
	assert_non_null(items);
	assert_int_equal(render_list(cap_open(&c), "flows", items, false), 0);
	assert_string_equal(cap_text(&c),
		"ID  EVENT    TIME                  END                   CLIENT  USER  "
		"RESOURCE  GATEWAY  PROTO    RX      TX    REASON\n"
		"1   granted  2026-12-07T18:00:00Z  -                     7       4     "
		"3         2        -        -       -     -\n"
		"2   denied   2026-12-07T18:00:01Z  -                     7       4     "
		"9         -        -        -       -     no_policy\n"
		"3   traffic  2026-12-07T18:00:02Z  2026-12-07T18:05:40Z  7       4     "
		"3         2        tcp/443  120345  5120  -\n"
		"4   traffic  2026-12-07T18:00:03Z  2026-12-07T18:00:03Z  7       4     "
		"3         2        icmp     84      84    -\n");
	free(c.text);
	json_decref(items);
}

static void test_errors(void **state)
{
	static const struct { unsigned status; const char *body, *line; } cases[] = {
		{ 400, "{\"error\":{\"code\":\"validation\",\"message\":\"must be 1-64 "
		  "characters\",\"field\":\"name\"}}",
		  "sluice admin: validation: name: must be 1-64 characters (HTTP 400)\n" },
		{ 409, "{\"error\":{\"code\":\"conflict\",\"message\":\"name in use\"}}",
		  "sluice admin: conflict: name in use (HTTP 409)\n" },
		{ 401, "{\"error\":{\"code\":\"unauthorized\"}}",
		  "sluice admin: unauthorized (HTTP 401)\n" },
		{ 404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no \\u001b[2Jsite\"}}",
		  "sluice admin: not_found: no ?[2Jsite (HTTP 404)\n" },
		{ 502, "<html>Bad\ngateway</html>",
		  "sluice admin: HTTP 502 from the portal: <html>Bad gateway</html>\n" },
		{ 500, "", "sluice admin: HTTP 500 from the portal\n" },
	};
	struct capture c;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		render_error(cap_open(&c), "sluice admin", cases[i].status, cases[i].body,
			     strlen(cases[i].body));
		assert_string_equal(cap_text(&c), cases[i].line);
		free(c.text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_flows),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
