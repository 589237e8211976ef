/* DNS resource patterns: match tables (apex, '**' anywhere, '?', partial '*',
 * case, trailing dot, names that are not host names), validation with the exact
 * message, and precedence, including Firezone's ordering vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/pattern.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct pattern *compile_or_die(const char *text)
{
	struct pattern *p;
	char err[160];
	int r = pattern_compile(text, &p, err, sizeof(err));

	if (r)
		fail_msg("'%s' does not compile: %s", text, err);
	return p;
}

struct match_case {
	const char *pattern;
	const char *name;
	bool match;
};

static const struct match_case match_table[] = {
	/* exact: case-insensitive both ways, one trailing dot on either side */
	{ "gitlab.company.com", "gitlab.company.com", true },
	{ "gitlab.company.com", "GitLab.Company.COM", true },
	{ "GITLAB.company.com.", "gitlab.company.com.", true },
	{ "gitlab.company.com", "gitlab.company.com..", false },
	{ "gitlab.company.com", "gitlab.company.co", false },
	{ "gitlab.company.com", "xgitlab.company.com", false },
	{ "gitlab.company.com", "a.gitlab.company.com", false },
	{ "gitlab.company.com", "", false },
	{ "_sip._tcp.example.com", "_SIP._tcp.example.com", true },
	{ "intranet", "INTRANET.", true },
	/* '*': one label, or the bare parent when it is the leftmost label */
	{ "*.slack.com", "slack.com", true },
	{ "*.slack.com", "a.slack.com", true },
	{ "*.slack.com", "A.Slack.Com.", true },
	{ "*.slack.com", "a.b.slack.com", false },
	{ "*.slack.com", "xslack.com", false },
	{ "*.slack.com", "slack.com.evil.net", false },
	{ "*.slack.com", "com", false },
	{ "*.slack.com", "slack.com..", false },          /* one trailing dot, not two */
	{ "*.slack.com", "a.slack.com..", false },
	{ "**.slack.com", "slack.com..", false },
	{ "foo.*.example.com", "foo.bar.example.com", true },
	{ "foo.*.example.com", "foo.example.com", false }, /* only a leading '*' may vanish */
	{ "foo.*.example.com", "foo.a.b.example.com", false },
	{ "app.*.*.example.com", "app.foo.bar.example.com", true },
	{ "app.*.*.example.com", "app.foo.example.com", false },
	{ "*.*.example.com", "a.b.example.com", true },
	{ "*.*.example.com", "b.example.com", true },     /* the leading one vanishes */
	{ "*.*.example.com", "example.com", false },      /* but only once */
	{ "*.com", "example.com", true },
	{ "*.com", "com", true },
	{ "*.com", "a.example.com", false },
	/* '**': zero or more labels, anywhere */
	{ "**.example.com", "example.com", true },
	{ "**.example.com", "a.example.com", true },
	{ "**.example.com", "a.b.c.example.com", true },
	{ "**.example.com", "example.com.", true },
	{ "**.example.com", "notexample.com", false },
	{ "**.example.com", "example.org", false },
	{ "**.corp.example", "Deep.Er.Corp.Example", true },
	{ "app.**.example.com", "app.bar.foo.example.com", true },
	{ "app.**.example.com", "app.example.com", true },
	{ "app.**.example.com", "x.app.example.com", false },
	{ "app.**.web.**.example.com", "app.web.example.com", true },
	{ "app.**.web.**.example.com", "app.x.web.example.com", true },
	{ "app.**.web.**.example.com", "app.web.y.example.com", true },
	{ "app.**.web.**.example.com", "app.x.y.web.z.w.example.com", true },
	{ "app.**.web.**.example.com", "app.web.web.web.example.com", true },
	{ "app.**.web.**.example.com", "app.x.example.com", false },
	{ "app.**.web.**.example.com", "app.example.com", false },
	{ "app.**.web.**.example.com", "x.app.web.example.com", false },
	{ "app.**.web.**.example.com", "app.webx.example.com", false },
	{ "*.**.example.com", "example.com", true },
	{ "*.**.example.com", "a.b.c.example.com", true },
	{ "**.**.example.com", "example.com", true },
	{ "**.**.example.com", "a.b.example.com", true },
	{ "**.a.**.a.**.a.com", "a.a.a.com", true },
	{ "**.a.**.a.**.a.com", "a.x.a.com", false },
	/* '?': one character, never a dot */
	{ "app.f??.example.com", "app.foo.example.com", true },
	{ "app.f??.example.com", "app.FOO.example.com", true },
	{ "app.f??.example.com", "app.fo.example.com", false },
	{ "app.f??.example.com", "app.fooo.example.com", false },
	{ "app?.x.com", "app1.x.com", true },
	{ "app?.x.com", "app.x.com", false },
	{ "app?.x.com", "app12.x.com", false },
	{ "a?c.com", "a.c.com", false },
	{ "?.example.com", "a.example.com", true },
	{ "?.example.com", "example.com", false },
	{ "?.example.com", "\xc3.example.com", true },    /* bytes, not characters */
	{ "?.example.com", "\xc3\xa9.example.com", false },
	/* '*' inside a label: zero or more characters of that label */
	{ "*ample.com", "example.com", true },
	{ "*ample.com", "ample.com", true },
	{ "*ample.com", "SAMPLE.com", true },
	{ "*ample.com", "x.example.com", false },
	{ "*ample.com", "examples.com", false },
	{ "app*.x.com", "app.x.com", true },
	{ "app*.x.com", "app-1.x.com", true },
	{ "app*.x.com", "ap.x.com", false },
	{ "app*.x.com", "a.app.x.com", false },
	{ "app*.x.com", "x.com", false },
	{ "a*b.com", "a.b.com", false },
	{ "a*b*c.com", "abc.com", true },
	{ "a*b*c.com", "axxbyybc.com", true },
	{ "a*b*c.com", "axxbyybcd.com", false },
	{ "*?*.example.com", "app.example.com", true },
	{ "*?*.example.com", "example.com", false },
	{ "?*.example.com", "a.example.com", true },
	{ "*-*.example.com", "a-b.example.com", true },
	{ "*-*.example.com", "ab.example.com", false },
	/* names that are not host names match nothing, not even '**' */
	{ "**.example.com", "a..example.com", false },
	{ "**.example.com", ".example.com", false },
	{ "**.example.com", "a\\.b.example.com", false },
	{ "**.example.com", "a\\046b.example.com", false },
	{ "**.example.com", ".", false },
	{ "**.example.com", "", false },
};

static void test_match_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(match_table); i++) {
		const struct match_case *c = &match_table[i];
		struct pattern *p = compile_or_die(c->pattern);
		bool got = pattern_match(p, c->name, strlen(c->name));

		if (got != c->match)
			fail_msg("case %zu: '%s' vs '%s': got %d want %d", i, c->pattern,
				 c->name, got, c->match);
		pattern_free(p);
	}
}

/* The length is what counts, not a NUL: matching a prefix of a longer buffer. */
static void test_match_len(void **state)
{
	struct pattern *p = compile_or_die("*.example.com");
	const char *buf = "a.example.comXYZ";

	(void)state;
	assert_true(pattern_match(p, buf, 13));
	assert_false(pattern_match(p, buf, 14));
	assert_false(pattern_match(p, buf, 12));
	pattern_free(p);
}

/* Split once, match many: the same answers as pattern_match. */
static void test_split_name(void **state)
{
	static const char *const pats[] = {
		"*.slack.com", "**.slack.com", "slack.com", "a?.slack.com", "x*.**.com",
	};
	static const char *const names[] = {
		"slack.com", "A.Slack.Com.", "ab.slack.com", "xy.q.slack.com", "slack.com..",
		"a..slack.com", "",
	};
	struct pattern_name n;

	(void)state;
	assert_true(pattern_name_split(&n, "Www.Example.com.", 16));
	assert_int_equal(n.nlabels, 3);
	assert_int_equal(n.len, 15);
	assert_int_equal(n.labels[1].off, 4);
	assert_int_equal(n.labels[1].len, 7);
	assert_int_equal(n.labels[2].off, 12);
	assert_false(pattern_name_split(&n, "a..b", 4));
	assert_int_equal(n.nlabels, 0);
	assert_false(pattern_name_split(&n, "a.b..", 5));
	assert_false(pattern_name_split(&n, ".", 1));

	for (size_t i = 0; i < ARRAY_SIZE(pats); i++) {
		struct pattern *p = compile_or_die(pats[i]);

		for (size_t j = 0; j < ARRAY_SIZE(names); j++) {
			size_t len = strlen(names[j]);

			pattern_name_split(&n, names[j], len);
			assert_int_equal(pattern_match_name(p, &n), pattern_match(p, names[j], len));
		}
		pattern_free(p);
	}
}

static void fill_labels(char *out, size_t labels, size_t label_len, const char *tail)
{
	size_t n = 0;

	for (size_t i = 0; i < labels; i++) {
		memset(out + n, 'a' + (char)(i % 26), label_len);
		n += label_len;
		out[n++] = '.';
	}
	strcpy(out + n, tail);
}

static void test_match_limits(void **state)
{
	struct pattern *p = compile_or_die("**.example.com");
	char name[600];

	(void)state;
	/* 63-character labels are fine, 64 is not a host name */
	fill_labels(name, 1, 63, "example.com");
	assert_true(pattern_match(p, name, strlen(name)));
	fill_labels(name, 1, 64, "example.com");
	assert_false(pattern_match(p, name, strlen(name)));
	/* 253 characters is the longest name (plus one trailing dot) */
	fill_labels(name, 120, 1, "example.com"); /* 240 + 11 = 251 */
	assert_int_equal(strlen(name), 251);
	assert_true(pattern_match(p, name, strlen(name)));
	strcpy(name, "b.");
	fill_labels(name + 2, 120, 1, "example.com");
	assert_int_equal(strlen(name), 253);
	assert_true(pattern_match(p, name, strlen(name)));
	strcat(name, ".");
	assert_true(pattern_match(p, name, strlen(name)));
	strcpy(name, "ab.");
	fill_labels(name + 3, 120, 1, "example.com");
	assert_int_equal(strlen(name), 254);
	assert_false(pattern_match(p, name, strlen(name)));
	pattern_free(p);
}

/* Many '**' against a long name that just fails: bounded work, no blow-up. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_match_no_blowup(void **state)
{
	char pat[260], name[260];
	struct pattern *p;
	uint64_t t0, spent;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 40; i++) {
		memcpy(pat + n, "**.a.", 5);
		n += 5;
	}
	strcpy(pat + n, "b.com");
	p = compile_or_die(pat);
	fill_labels(name, 120, 1, "c.com");
	for (size_t i = 0; i < 240; i += 2)
		name[i] = 'a';
	t0 = cpu_ns();
	for (int k = 0; k < 1000; k++)
		assert_false(pattern_match(p, name, strlen(name)));
	spent = cpu_ns() - t0;
	pattern_free(p);
	/* 40 "**" against 120 labels: a match that tried every way of splitting
	 * the labels among the wildcards would not end; one linear in pattern
	 * times name is about 5000 steps, 1000 times well under 100 ms even under
	 * ASan. The bound is the process's CPU time, not the wall clock: a
	 * loaded machine does not make it fail. */
	fprintf(stderr, "# 1000 matches: %.1f ms of CPU\n", (double)spent / 1e6);
	assert_true(spent < 500000000ull);
}

struct valid_case {
	const char *text;
	const char *err; /* NULL: valid */
};

static const struct valid_case valid_table[] = {
	{ "example.com", NULL },
	{ "Example.COM.", NULL },
	{ "*.slack.com", NULL },
	{ "**.corp.example", NULL },
	{ "app?.x.com", NULL },
	{ "app.**.web.**.example.com", NULL },
	{ "*ample.com", NULL },
	{ "app*.x.com", NULL },
	{ "*?*.example.com", NULL },
	{ "_sip._tcp.example.com", NULL },
	{ "*.com", NULL },
	{ "a-b.c_d.example", NULL },
	{ "-a-.example", NULL },
	{ "xn--bcher-kva.example", NULL },
	{ "intranet", NULL },
	{ "1.2.3.example", NULL },
	{ "10.0.0.1.example.com", NULL },
	{ "localhost.example.com", NULL },
	{ "", "empty pattern" },
	{ ".", "empty pattern" },
	{ ".example.com", "empty label at offset 0" },
	{ "a..com", "empty label at offset 2" },
	{ "example.com..", "empty label at offset 12" },
	{ "a b.com", "character ' ' at offset 1 is not allowed (letters, digits, '-', '_', '*', '?')" },
	{ "a\tb.com", "byte 0x09 at offset 1 is not allowed (letters, digits, '-', '_', '*', '?')" },
	{ "caf\xc3\xa9.com", "byte 0xc3 at offset 3 is not allowed (letters, digits, '-', '_', '*', '?')" },
	{ "a\\.b.com", "character '\\' at offset 1 is not allowed (letters, digits, '-', '_', '*', '?')" },
	{ "[x].com", "character '[' at offset 0 is not allowed (letters, digits, '-', '_', '*', '?')" },
	{ "example.com:443", "':' at offset 11: a pattern has no port (use the resource's filters)" },
	{ "*.example.com:8080", "':' at offset 13: a pattern has no port (use the resource's filters)" },
	{ "::1", "an IPv6 address is not a name: use an IP or CIDR resource" },
	{ "2001:db8::1", "an IPv6 address is not a name: use an IP or CIDR resource" },
	{ "[2001:db8::1]", "an IPv6 address is not a name: use an IP or CIDR resource" },
	{ "[2001:db8::1]:443", "an IPv6 address is not a name: use an IP or CIDR resource" },
	{ "2001:db8::/32", "an IPv6 address is not a name: use an IP or CIDR resource" },
	{ "fe80::1%eth0", "an IPv6 address is not a name: use an IP or CIDR resource" },
	{ "::ffff:10.0.0.1", "an IPv6 address is not a name: use an IP or CIDR resource" },
	{ "10.0.0.1", "an IPv4 address is not a name: use an IP or CIDR resource" },
	{ "10.0.0.1.", "an IPv4 address is not a name: use an IP or CIDR resource" },
	{ "10.0.0.0/8", "'/' at offset 8: address ranges need a CIDR resource" },
	{ "10.0.0.01", "last label '01' is numeric: an IP address needs an IP resource" },
	{ "1.2.3", "last label '3' is numeric: an IP address needs an IP resource" },
	{ "example.123", "last label '123' is numeric: an IP address needs an IP resource" },
	{ "10.0.0.*", "wildcard in the last label '*'" },
	{ "example.*", "wildcard in the last label '*'" },
	{ "example.c?m", "wildcard in the last label 'c?m'" },
	{ "example.**", "wildcard in the last label '**'" },
	{ "example.co*", "wildcard in the last label 'co*'" },
	{ "*", "pattern is made of wildcards only" },
	{ "**", "pattern is made of wildcards only" },
	{ "?", "pattern is made of wildcards only" },
	{ "*.*", "pattern is made of wildcards only" },
	{ "**.*.?", "pattern is made of wildcards only" },
	{ "*?.??*", "pattern is made of wildcards only" },
	{ "a**.example.com", "'**' must be a whole label (label at offset 0)" },
	{ "x.**b.example.com", "'**' must be a whole label (label at offset 2)" },
	{ "***.example.com", "'**' must be a whole label (label at offset 0)" },
	{ "localhost", "'localhost' names are answered by the host itself" },
	{ "*.LOCALHOST.", "'localhost' names are answered by the host itself" },
};

static void test_validate_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(valid_table); i++) {
		const struct valid_case *c = &valid_table[i];
		char err[160] = "untouched";
		struct pattern *p;
		int r = pattern_validate(c->text, err, sizeof(err));

		if (!c->err) {
			if (r)
				fail_msg("case %zu '%s': rejected: %s", i, c->text, err);
			assert_int_equal(pattern_compile(c->text, &p, err, sizeof(err)), 0);
			pattern_free(p);
			continue;
		}
		if (r != -EINVAL)
			fail_msg("case %zu '%s': accepted", i, c->text);
		if (strcmp(err, c->err))
			fail_msg("case %zu '%s': message '%s', want '%s'", i, c->text, err, c->err);
		p = (struct pattern *)1;
		assert_int_equal(pattern_compile(c->text, &p, err, sizeof(err)), -EINVAL);
		assert_null(p);
		assert_string_equal(err, c->err);
	}
}

static void test_validate_lengths(void **state)
{
	char buf[600], err[160];

	(void)state;
	/* labels: 63 yes, 64 no */
	fill_labels(buf, 1, 63, "com");
	assert_int_equal(pattern_validate(buf, err, sizeof(err)), 0);
	fill_labels(buf, 1, 64, "com");
	assert_int_equal(pattern_validate(buf, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "label at offset 0 is 64 characters; at most 63");
	fill_labels(buf, 2, 1, "");
	memset(buf + 4, 'x', 64);
	buf[68] = '\0';
	assert_int_equal(pattern_validate(buf, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "label at offset 4 is 64 characters; at most 63");
	/* names: 253 yes (and a trailing dot), 254 no */
	fill_labels(buf, 4, 62, "");
	buf[252] = 'x';
	buf[253] = '\0';
	assert_int_equal(strlen(buf), 253);
	assert_int_equal(pattern_validate(buf, err, sizeof(err)), 0);
	strcat(buf, ".");
	assert_int_equal(pattern_validate(buf, err, sizeof(err)), 0);
	buf[253] = 'z';
	assert_int_equal(pattern_validate(buf, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "pattern is 254 characters; at most 253");
	/* the most labels a pattern can have: 127 */
	fill_labels(buf, 126, 1, "x");
	assert_int_equal(strlen(buf), 253);
	assert_int_equal(pattern_validate(buf, err, sizeof(err)), 0);
	/* a NULL err, or a tiny one, is fine */
	assert_int_equal(pattern_validate("a..b", NULL, 0), -EINVAL);
	assert_int_equal(pattern_validate("a..b", err, 4), -EINVAL);
	assert_string_equal(err, "emp");
	assert_int_equal(pattern_validate(NULL, err, sizeof(err)), -EINVAL);
}

static void test_accessors(void **state)
{
	static const struct {
		const char *text, *canon, *suffix;
		bool exact;
	} t[] = {
		{ "Gitlab.Company.com.", "gitlab.company.com", "gitlab.company.com", true },
		{ "*.Slack.com", "*.slack.com", "slack.com", false },
		{ "app.**.web.**.example.com", "app.**.web.**.example.com", "example.com", false },
		{ "app?.x.com", "app?.x.com", "x.com", false },
		{ "*ample.com", "*ample.com", "com", false },
		{ "a.*.b.c", "a.*.b.c", "b.c", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct pattern *p = compile_or_die(t[i].text);

		assert_string_equal(pattern_text(p), t[i].canon);
		assert_string_equal(pattern_suffix(p), t[i].suffix);
		assert_int_equal(pattern_is_exact(p), t[i].exact);
		pattern_free(p);
	}
}

static int cmp_sign(int r)
{
	return (r > 0) - (r < 0);
}

static int qsort_cmp(const void *a, const void *b)
{
	return pattern_compare(*(struct pattern *const *)a, *(struct pattern *const *)b);
}

/* Sorts the texts through pattern_compare and checks the result is want. */
static void check_order(const char *const *want, size_t n)
{
	struct pattern *p[16];

	assert_true(n <= ARRAY_SIZE(p));
	/* compile in reverse so that sorting has work to do */
	for (size_t i = 0; i < n; i++)
		p[i] = compile_or_die(want[n - 1 - i]);
	qsort(p, n, sizeof(p[0]), qsort_cmp);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pattern_text(p[i]), want[i]))
			fail_msg("position %zu: got '%s' want '%s'", i, pattern_text(p[i]), want[i]);
		for (size_t j = 0; j < n; j++) {
			int r = pattern_compare(p[i], p[j]);

			assert_int_equal(cmp_sign(r), (i > j) - (i < j));
		}
	}
	for (size_t i = 0; i < n; i++)
		pattern_free(p[i]);
}

/* Firezone's Ord test vector (dns/pattern.rs), in Firezone's order. */
static const char *const firezone_order[] = {
	"example.com", "bar.example.com", "*.bar.example.com", "foo.example.com",
	"?.example.com", "*.example.com", "**.example.com", "*ample.com", "*.com",
};

/* The same set in DESIGN's order. It differs from Firezone's only between
 * patterns that no one name can match: Firezone sorts those shortest first and
 * compares characters reverse-lexically; DESIGN breaks ties by the longer
 * pattern and ranks whole labels. */
static const char *const design_order[] = {
	"bar.example.com", "foo.example.com", "*.bar.example.com", "?.example.com",
	"example.com", "*.example.com", "**.example.com", "*ample.com", "*.com",
};

static void test_precedence_firezone_vector(void **state)
{
	static const char *const probes[] = {
		"example.com", "bar.example.com", "foo.example.com", "x.bar.example.com",
		"a.example.com", "a.b.example.com", "ample.com", "sample.com", "x.com", "com",
		"b.example.com", "x.y.bar.example.com",
	};
	size_t n = ARRAY_SIZE(firezone_order);
	struct pattern *fz[ARRAY_SIZE(firezone_order)];
	unsigned overlapping = 0;

	(void)state;
	check_order(design_order, ARRAY_SIZE(design_order));

	/* Wherever a name matches two of them, both orders agree: the same one wins. */
	for (size_t i = 0; i < n; i++)
		fz[i] = compile_or_die(firezone_order[i]);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			for (size_t k = 0; k < ARRAY_SIZE(probes); k++) {
				const char *s = probes[k];

				if (!pattern_match(fz[i], s, strlen(s)) ||
				    !pattern_match(fz[j], s, strlen(s)))
					continue;
				overlapping++;
				if (pattern_compare(fz[i], fz[j]) >= 0)
					fail_msg("'%s' matches '%s' and '%s': Firezone prefers the first",
						 s, firezone_order[i], firezone_order[j]);
			}
		}
	}
	assert_true(overlapping > 20);
	for (size_t i = 0; i < n; i++)
		pattern_free(fz[i]);
}

static void test_precedence_pairs(void **state)
{
	/* first is more specific than second */
	static const struct {
		const char *a, *b;
	} t[] = {
		{ "example.com", "*.example.com" },           /* exact beats the apex rule */
		{ "example.com", "**.example.com" },
		{ "a.example.com", "?.example.com" },         /* exact < ? */
		{ "?.example.com", "a*.example.com" },        /* ? < partial * */
		{ "a*.example.com", "*.example.com" },        /* partial * < * */
		{ "*.example.com", "**.example.com" },        /* * < ** */
		{ "a.**.example.com", "**.example.com" },     /* more labels where one ends */
		{ "?.**.example.com", "**.example.com" },
		{ "a*.**.example.com", "**.example.com" },
		{ "**.example.com", "*.**.example.com" },     /* same names; the shorter */
		{ "**.b.example.com", "*.example.com" },      /* compared from the right */
		{ "*.b.example.com", "a.*.example.com" },
		{ "app?.x.com", "?.x.com" },                  /* a tie: longer first */
		{ "app*.x.com", "a*.x.com" },
		{ "*.*.x.com", "**.x.com" },
		{ "a.example.com", "b.example.com" },         /* then the text */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct pattern *a = compile_or_die(t[i].a);
		struct pattern *b = compile_or_die(t[i].b);

		if (!strcmp(t[i].a, t[i].b)) {
			assert_int_equal(pattern_compare(a, b), 0);
		} else {
			if (pattern_compare(a, b) >= 0 || pattern_compare(b, a) <= 0)
				fail_msg("'%s' should precede '%s'", t[i].a, t[i].b);
		}
		pattern_free(a);
		pattern_free(b);
	}
}

/* A case-only difference is the same pattern. */
static void test_precedence_equal(void **state)
{
	struct pattern *a = compile_or_die("*.Example.COM.");
	struct pattern *b = compile_or_die("*.example.com");

	(void)state;
	assert_int_equal(pattern_compare(a, b), 0);
	assert_int_equal(pattern_compare(b, a), 0);
	pattern_free(a);
	pattern_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_match_len),
		cmocka_unit_test(test_split_name),
		cmocka_unit_test(test_match_limits),
		cmocka_unit_test(test_match_no_blowup),
		cmocka_unit_test(test_validate_table),
		cmocka_unit_test(test_validate_lengths),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_precedence_firezone_vector),
		cmocka_unit_test(test_precedence_pairs),
		cmocka_unit_test(test_precedence_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
