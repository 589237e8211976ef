/* DNS names: text forms, comparison and hashing, and dns_name_read() against
 * every compression trick of RFC 9267 (loops, forward and header pointers,
 * long chains, expansion past 255 bytes). Messages and the names under test
 * are on the heap at their exact size, so ASan sees any read past them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"

static void from_text_ok(const char *text, struct dns_name *n)
{
	int r = dns_name_from_text(n, text);

	if (r != 0)
		fail_msg("dns_name_from_text(\"%s\") = %d", text ? text : "(null)", r);
}

static struct {
	const char *in;
	const char *wire; /* labels; \0 ends */
	size_t wire_len;
	const char *out;  /* dns_name_to_text() of it */
} text_ok[] = {
	{ "www.example.com", "\3www\7example\3com", 17, "www.example.com" },
	{ "www.example.com.", "\3www\7example\3com", 17, "www.example.com" },
	{ "WwW.Example.COM", "\3WwW\7Example\3COM", 17, "WwW.Example.COM" },
	{ ".", "", 1, "." },
	{ "a", "\1a", 3, "a" },
	{ "_sip._tcp.example.com", "\4_sip\4_tcp\7example\3com", 23, "_sip._tcp.example.com" },
	{ "*.wild.test", "\1*\4wild\4test", 13, "*.wild.test" },
	{ "a\\.b.c", "\3a.b\1c", 7, "a\\046b.c" },
	{ "\\065bc", "\3Abc", 5, "Abc" },
	{ "\\Abc", "\3Abc", 5, "Abc" },
	{ "a\\\\b", "\3a\\b", 5, "a\\092b" },
	{ "a b", "\3a b", 5, "a\\032b" },
	{ "\\000\\255", "\2\0\377", 4, "\\000\\255" },
	{ "caf\xc3\xa9", "\5caf\xc3\xa9", 7, "caf\\195\\169" },
};

static void test_text_round_trips(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(text_ok) / sizeof(text_ok[0]); i++) {
		struct dns_name n, back;
		char out[DNS_NAME_TEXT_MAX];
		int r;

		from_text_ok(text_ok[i].in, &n);
		assert_int_equal(n.len, text_ok[i].wire_len);
		assert_memory_equal(n.data, text_ok[i].wire, n.len); /* the root too */
		r = dns_name_to_text(&n, out, sizeof(out));
		assert_int_equal(r, strlen(text_ok[i].out));
		assert_string_equal(out, text_ok[i].out);
		from_text_ok(out, &back);
		assert_int_equal(back.len, n.len);
		assert_memory_equal(back.data, n.data, n.len);
	}
}

static void test_text_rejects(void **state)
{
	static const char *bad[] = {
		"", "..", ".com", "a..b", "a..", "\\", "a\\", "\\256", "\\999", "\\1", "\\12",
		"\\1x", "\\12x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dns_name n;

		if (dns_name_from_text(&n, bad[i]) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	}
}

static void repeat(char *out, char c, size_t n)
{
	memset(out, c, n);
	out[n] = '\0';
}

static void test_text_limits(void **state)
{
	char text[600], out[DNS_NAME_TEXT_MAX];
	struct dns_name n;

	(void)state;
	repeat(text, 'a', 63);
	from_text_ok(text, &n);
	assert_int_equal(n.len, 65);
	repeat(text, 'a', 64);
	assert_int_equal(dns_name_from_text(&n, text), -EINVAL);
	/* Wire lengths 255 (the maximum), 256, 257: 63.63.63.61/62/63. */
	for (size_t last = 61; last <= 63; last++) {
		size_t o = 0;

		for (int l = 0; l < 3; l++, o += 64) {
			memset(text + o, 'a' + l, 63);
			text[o + 63] = '.';
		}
		repeat(text + o, 'z', last);
		assert_int_equal(strlen(text), 192 + last);
		assert_int_equal(dns_name_from_text(&n, text), last == 61 ? 0 : -EINVAL);
	}
	repeat(text + 192, 'z', 61);
	from_text_ok(text, &n);
	assert_int_equal(n.len, DNS_NAME_MAX);
	assert_int_equal(dns_name_to_text(&n, out, sizeof(out)), 253);
	assert_string_equal(out, text);
	/* 127 one-byte labels make 255 too; a 128th is too many. */
	for (size_t i = 0; i < 128; i++) {
		text[2 * i] = 'x';
		text[2 * i + 1] = '.';
	}
	text[2 * 127 - 1] = '\0';
	from_text_ok(text, &n);
	assert_int_equal(n.len, 255);
	text[2 * 127 - 1] = '.';
	text[2 * 128 - 1] = '\0';
	assert_int_equal(dns_name_from_text(&n, text), -EINVAL);
	/* The longest text form: 250 bytes all escaped, fits DNS_NAME_TEXT_MAX. */
	n.len = 0;
	for (int l = 0; l < 4; l++) {
		uint8_t ll = l < 3 ? 63 : 61;

		n.data[n.len++] = ll;
		memset(n.data + n.len, '.', ll);
		n.len = (uint8_t)(n.len + ll);
	}
	n.data[n.len++] = 0;
	assert_int_equal(n.len, 255);
	assert_int_equal(dns_name_to_text(&n, out, sizeof(out)), 250 * 4 + 3);
	assert_int_equal(dns_name_to_text(&n, out, 250 * 4 + 3), -EMSGSIZE);
}

/* Every output size: too small fails cleanly, writing nothing past cap. */
static void test_to_text_cap_sweep(void **state)
{
	static const char *names[] = { ".", "a", "www.example.com", "a\\.b.\\255x", "\\000" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct dns_name n;
		char full[DNS_NAME_TEXT_MAX];
		int len;

		from_text_ok(names[i], &n);
		len = dns_name_to_text(&n, full, sizeof(full));
		assert_true(len > 0);
		for (size_t cap = 0; cap <= (size_t)len + 1; cap++) {
			char *out = malloc(cap ? cap : 1);
			int r;

			assert_non_null(out);
			r = dns_name_to_text(&n, out, cap);
			if (cap <= (size_t)len) {
				assert_int_equal(r, -EMSGSIZE);
			} else {
				assert_int_equal(r, len);
				assert_string_equal(out, full);
			}
			free(out);
		}
	}
}

static void test_to_text_inconsistent(void **state)
{
	struct dns_name n = { .len = 3, .data = { 5, 'a', 'b' } };
	char out[64];

	(void)state;
	assert_int_equal(dns_name_to_text(&n, out, sizeof(out)), -EINVAL);
	n = (struct dns_name){ .len = 2, .data = { 1, 'a' } }; /* no root */
	assert_int_equal(dns_name_to_text(&n, out, sizeof(out)), -EINVAL);
}

static void test_equal_hash_lower(void **state)
{
	struct dns_name a, b, c, d;

	(void)state;
	from_text_ok("WWW.Example.COM", &a);
	from_text_ok("www.example.com.", &b);
	assert_true(dns_name_equal(&a, &b));
	assert_int_equal(dns_name_hash(&a), dns_name_hash(&b));
	from_text_ok("ab.c", &c);
	from_text_ok("a.bc", &d); /* same letters, other labels */
	assert_false(dns_name_equal(&c, &d));
	assert_int_not_equal(dns_name_hash(&c), dns_name_hash(&d));
	from_text_ok("www.example.co", &c);
	assert_false(dns_name_equal(&a, &c));
	from_text_ok("www.example.con", &c);
	assert_false(dns_name_equal(&a, &c));
	/* Only ASCII folds: 0xC9 ('É' in Latin-1) and 0xE9 stay apart, and
	 * '@' (0x40) and '`' (0x60) are not letters. */
	from_text_ok("\\201", &c);
	from_text_ok("\\233", &d);
	assert_false(dns_name_equal(&c, &d));
	from_text_ok("@", &c);
	from_text_ok("`", &d);
	assert_false(dns_name_equal(&c, &d));
	from_text_ok("Mixed-CASE.\\201Z", &c);
	dns_name_lower(&c);
	from_text_ok("mixed-case.\\201z", &d);
	assert_int_equal(c.len, d.len);
	assert_memory_equal(c.data, d.data, c.len);
	dns_name_lower(&a);
	assert_memory_equal(a.data, b.data, a.len);
}

/* ---- dns_name_read ---- */

/* A message: a zero header, then body placed at offset 12. Pointer offsets
 * in the bodies below are absolute. */
struct read_case {
	const char *what;
	const uint8_t *body;
	size_t body_len;
	size_t at;          /* where to read */
	int ret;
	const char *text;   /* expected name */
	size_t end;         /* expected *pos after */
};

#define B(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static const struct read_case read_cases[] = {
	{ "plain", B(3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0),
	  12, 0, "www.example.com", 29 },
	{ "one pointer", B(7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
			   3, 'w', 'w', 'w', 0xc0, 12),
	  25, 0, "www.example.com", 31 },
	{ "pointer to a pointer", B(3, 'c', 'o', 'm', 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				    0xc0, 12, 3, 'w', 'w', 'w', 0xc0, 17),
	  27, 0, "www.example.com", 33 },
	{ "bare pointer", B(1, 'a', 0, 0xc0, 12), 15, 0, "a", 17 },
	{ "root", B(0), 12, 0, ".", 13 },
	{ "pointer to root", B(0, 0xc0, 12), 13, 0, ".", 15 },
	{ "self pointer", B(0xc0, 12), 12, -EBADMSG, NULL, 0 },
	{ "two-pointer cycle", B(0xc0, 14, 0xc0, 12), 14, -EBADMSG, NULL, 0 },
	{ "two-pointer cycle, other end", B(0xc0, 14, 0xc0, 12), 12, -EBADMSG, NULL, 0 },
	{ "label then loop to itself", B(1, 'a', 0xc0, 12), 12, -EBADMSG, NULL, 0 },
	{ "forward pointer", B(0xc0, 14, 1, 'a', 0), 12, -EBADMSG, NULL, 0 },
	{ "pointer past the end", B(0xc0, 0xff), 12, -EBADMSG, NULL, 0 },
	{ "pointer far past the end", B(0xff, 0xff), 12, -EBADMSG, NULL, 0 },
	{ "pointer into the header", B(1, 'a', 0, 0xc0, 4), 15, -EBADMSG, NULL, 0 },
	{ "pointer to offset 0", B(0xc0, 0), 12, -EBADMSG, NULL, 0 },
	/* Inside the label "exa\3com" (offset 12) sits "\3com\0" at 16: a
	 * backwards pointer there reads it; harmless, and not detectable
	 * without tracking every label start. */
	{ "pointer into a label", B(7, 'e', 'x', 'a', 3, 'c', 'o', 'm', 0, 0xc0, 16),
	  21, 0, "com", 23 },
	{ "0x40 label type", B(0x41, 'a', 0), 12, -EBADMSG, NULL, 0 },
	{ "0x80 label type", B(0x81, 'a', 0), 12, -EBADMSG, NULL, 0 },
	{ "truncated pointer", B(3, 'w', 'w', 'w', 0xc0), 12, -EBADMSG, NULL, 0 },
	{ "label overruns", B(5, 'a', 'b'), 12, -EBADMSG, NULL, 0 },
	{ "no root label", B(3, 'w', 'w', 'w'), 12, -EBADMSG, NULL, 0 },
	{ "label length is the last byte", B(3), 12, -EBADMSG, NULL, 0 },
	{ "read at the end", B(0), 13, -EBADMSG, NULL, 0 },
	{ "read past the end", B(0), 99, -EBADMSG, NULL, 0 },
};

static uint8_t *make_msg(const uint8_t *body, size_t body_len, size_t *len)
{
	uint8_t *m;

	*len = DNS_HDR_LEN + body_len;
	m = malloc(*len);
	assert_non_null(m);
	memset(m, 0, DNS_HDR_LEN);
	memcpy(m + DNS_HDR_LEN, body, body_len);
	return m;
}

static void check_read(const char *what, const uint8_t *msg, size_t len, size_t at, int ret,
		       const char *text, size_t end)
{
	struct dns_name n, want;
	size_t pos = at;
	int r = dns_name_read(msg, len, &pos, &n);

	if (r != ret)
		fail_msg("%s: dns_name_read = %d, want %d", what, r, ret);
	if (r < 0) {
		assert_int_equal(pos, at); /* *pos untouched on error */
		return;
	}
	from_text_ok(text, &want);
	assert_int_equal(n.len, want.len);
	assert_memory_equal(n.data, want.data, n.len);
	if (pos != end)
		fail_msg("%s: pos %zu, want %zu", what, pos, end);
}

static void test_read_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]); i++) {
		const struct read_case *c = &read_cases[i];
		size_t len;
		uint8_t *m = make_msg(c->body, c->body_len, &len);

		check_read(c->what, m, len, c->at, c->ret, c->text, c->end);
		/* Every strict prefix that cuts the name must fail. */
		for (size_t l = c->at; c->ret == 0 && l < c->end; l++) {
			uint8_t *p = malloc(l ? l : 1);

			assert_non_null(p);
			memcpy(p, m, l);
			check_read(c->what, p, l, c->at, -EBADMSG, NULL, 0);
			free(p);
		}
		free(m);
	}
}

/* A chain: "\1a\0" at 12, then pointers each to the one before; reading the
 * last follows `hops` pointers. */
static void test_read_hop_limit(void **state)
{
	(void)state;
	for (unsigned hops = 1; hops <= DNS_PTR_HOPS_MAX + 2; hops++) {
		size_t len = DNS_HDR_LEN + 3 + 2 * (size_t)hops, pos;
		uint8_t *m = calloc(1, len);
		struct dns_name n;

		assert_non_null(m);
		memcpy(m + DNS_HDR_LEN, "\1a\0", 3);
		for (unsigned i = 0; i < hops; i++) {
			size_t at = DNS_HDR_LEN + 3 + 2 * (size_t)i;
			size_t to = i ? at - 2 : DNS_HDR_LEN;

			m[at] = (uint8_t)(0xc0 | to >> 8);
			m[at + 1] = (uint8_t)to;
		}
		pos = len - 2;
		assert_int_equal(dns_name_read(m, len, &pos, &n),
				 hops <= DNS_PTR_HOPS_MAX ? 0 : -EBADMSG);
		if (hops <= DNS_PTR_HOPS_MAX) {
			assert_int_equal(pos, len);
			assert_int_equal(n.len, 3);
		}
		free(m);
	}
}

/* dnsmasq CVE-2017-14491 style: each name adds a label to the one before
 * through a pointer, a few bytes on the wire each; past 255 bytes expanded
 * the read must fail, before writing past the struct. */
static void test_read_expansion_past_255(void **state)
{
	uint8_t *m = calloc(1, 4096);
	size_t len = DNS_HDR_LEN, starts[8];

	(void)state;
	assert_non_null(m);
	m[len++] = 0; /* the root, at 12 */
	starts[0] = DNS_HDR_LEN;
	for (int i = 1; i < 8; i++) {
		starts[i] = len;
		m[len++] = 63;
		memset(m + len, 'a' + i, 63);
		len += 63;
		m[len++] = (uint8_t)(0xc0 | starts[i - 1] >> 8);
		m[len++] = (uint8_t)starts[i - 1];
	}
	for (int i = 0; i < 8; i++) {
		struct dns_name n;
		size_t pos = starts[i];
		int r = dns_name_read(m, len, &pos, &n);

		/* i labels of 63: 1 + 64 i bytes; 3 fit, 4 make 257. */
		assert_int_equal(r, i <= 3 ? 0 : -EBADMSG);
		if (r == 0)
			assert_int_equal(n.len, 1 + 64 * i);
	}
	/* With one-byte labels, each pointer adds 2 bytes: the hop limit
	 * stops a chain long before 255 bytes (name k has k hops). */
	len = DNS_HDR_LEN;
	m[len++] = 0;
	for (size_t k = 1; k <= 128; k++) {
		size_t prev = k == 1 ? DNS_HDR_LEN : len - 4;

		m[len++] = 1;
		m[len++] = 'x';
		m[len++] = (uint8_t)(0xc0 | prev >> 8);
		m[len++] = (uint8_t)prev;
	}
	for (size_t k = 1; k <= 128; k++) {
		struct dns_name n;
		size_t pos = DNS_HDR_LEN + 1 + 4 * (k - 1);
		int r = dns_name_read(m, len, &pos, &n);

		assert_int_equal(r, k <= DNS_PTR_HOPS_MAX ? 0 : -EBADMSG);
		if (r == 0)
			assert_int_equal(n.len, 1 + 2 * k);
	}
	free(m);
}

/* A name of 127 literal one-byte labels is 255 bytes; 128 is too long. */
static void test_read_long_literal(void **state)
{
	(void)state;
	for (int labels = 126; labels <= 128; labels++) {
		size_t len = DNS_HDR_LEN + 2 * (size_t)labels + 1, pos = DNS_HDR_LEN;
		uint8_t *m = calloc(1, len);
		struct dns_name n;

		assert_non_null(m);
		for (int i = 0; i < labels; i++) {
			m[DNS_HDR_LEN + 2 * i] = 1;
			m[DNS_HDR_LEN + 2 * i + 1] = 'q';
		}
		assert_int_equal(dns_name_read(m, len, &pos, &n), labels <= 127 ? 0 : -EBADMSG);
		free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_round_trips),
		cmocka_unit_test(test_text_rejects),
		cmocka_unit_test(test_text_limits),
		cmocka_unit_test(test_to_text_cap_sweep),
		cmocka_unit_test(test_to_text_inconsistent),
		cmocka_unit_test(test_equal_hash_lower),
		cmocka_unit_test(test_read_table),
		cmocka_unit_test(test_read_hop_limit),
		cmocka_unit_test(test_read_expansion_past_255),
		cmocka_unit_test(test_read_long_literal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
