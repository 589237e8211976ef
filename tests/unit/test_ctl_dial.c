/* ctl/dial: the portal URLs accepted and refused, and the token file (its
 * first word; blank, too long and missing files refused). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl/dial.h"

static void accept_url(const char *url, const char *host, uint16_t port, const char *prefix,
		       bool is_ip)
{
	struct ctl_portal p;
	char err[256] = "";

	if (ctl_portal_parse(url, &p, err, sizeof(err)) != 0)
		fail_msg("refused %s: %s", url, err);
	assert_string_equal(p.host, host);
	assert_int_equal(p.port, port);
	assert_string_equal(p.prefix, prefix);
	assert_int_equal(p.host_is_ip, is_ip);
}

static void refuse_url(const char *url, const char *why)
{
	struct ctl_portal p;
	char err[256] = "";

	if (ctl_portal_parse(url, &p, err, sizeof(err)) != -EINVAL)
		fail_msg("accepted %s (host %s port %u prefix %s)", url, p.host, p.port,
			 p.prefix);
	if (!strstr(err, why))
		fail_msg("%s: \"%s\" does not say \"%s\"", url, err, why);
	assert_string_equal(p.host, ""); /* nothing half-parsed is left */
}

static void test_url_accepted(void **state)
{
	char host[CTL_HOST_MAX], url[CTL_HOST_MAX + 32];

	(void)state;
	accept_url("https://portal.example", "portal.example", CTL_PORTAL_PORT, "", false);
	accept_url("HTTPS://Portal.Example:443", "Portal.Example", 443, "", false);
	accept_url("https://p_1-x.test:1", "p_1-x.test", 1, "", false);
	accept_url("https://198.51.100.7:65535", "198.51.100.7", 65535, "", true);
	accept_url("https://[::1]", "::1", CTL_PORTAL_PORT, "", true);
	accept_url("https://[fd00:2021:1111::1]:9443/", "fd00:2021:1111::1", 9443, "", true);
	accept_url("https://[::ffff:198.51.100.7]:8443", "::ffff:198.51.100.7", 8443, "", true);
	/* a prefix keeps its inner slashes and loses the trailing ones */
	accept_url("https://p.test/", "p.test", CTL_PORTAL_PORT, "", false);
	accept_url("https://p.test:9443/sluice/api//", "p.test", 9443, "/sluice/api", false);
	accept_url("https://p.test/a%20b", "p.test", CTL_PORTAL_PORT, "/a%20b", false);
	accept_url("https://p.test:08443", "p.test", 8443, "", false);
	/* the longest host: 255 bytes */
	memset(host, 'h', CTL_HOST_MAX - 1);
	host[CTL_HOST_MAX - 1] = '\0';
	snprintf(url, sizeof(url), "https://%s:1", host);
	accept_url(url, host, 1, "", false);
}

static void test_url_refused(void **state)
{
	static const char bad[] = "not a portal URL";
	char url[CTL_HOST_MAX + CTL_PREFIX_MAX + 32];

	(void)state;
	refuse_url("http://p.test", "must start with https://");
	refuse_url("wss://p.test", "must start with https://");
	refuse_url("p.test:8443", "must start with https://");
	refuse_url("", "must start with https://");
	refuse_url("https://", bad);
	refuse_url("https:///prefix", bad);
	refuse_url("https://:8443", bad);
	/* ports */
	refuse_url("https://p.test:", bad);
	refuse_url("https://p.test:0", bad);
	refuse_url("https://p.test:65536", bad);
	refuse_url("https://p.test:99999999999999999999", bad);
	refuse_url("https://p.test:-1", bad);
	refuse_url("https://p.test:+443", bad);
	refuse_url("https://p.test: 443", bad);
	refuse_url("https://p.test:443x", bad);
	refuse_url("https://p.test:443:1", bad);
	/* brackets hold an IPv6 address, and an IPv6 address needs them */
	refuse_url("https://::1", bad);
	refuse_url("https://fd00::1:8443", bad);
	refuse_url("https://[::1", bad);
	refuse_url("https://[]:8443", bad);
	refuse_url("https://[p.test]:8443", bad);
	refuse_url("https://[198.51.100.7]", bad);
	refuse_url("https://[fe80::1%eth0]", bad);
	refuse_url("https://[::1]x", bad);
	refuse_url("https://[::1]8443", bad);
	/* user info, query, fragment */
	refuse_url("https://user@p.test", bad);
	refuse_url("https://user:secret@p.test:8443", bad);
	refuse_url("https://p.test/a@b", bad);
	refuse_url("https://p.test?x=1", bad);
	refuse_url("https://p.test:8443?x=1", bad);
	refuse_url("https://p.test/api?x=1", bad);
	refuse_url("https://p.test#top", bad);
	refuse_url("https://p.test/api#top", bad);
	/* nothing that would break a request line or a header */
	refuse_url("https://p test", bad);
	refuse_url("https://p.test/a b", bad);
	refuse_url("https://p.test/a\r\nX-Evil: 1", bad);
	refuse_url("https://p.test\t", bad);
	refuse_url("https://p\x7f.test", bad);
	refuse_url("https://p%2e.test", bad);
	refuse_url("https://p\xc3\xa9.test", bad);
	refuse_url("https://p.test/caf\xc3\xa9", bad);
	/* a host of 256 bytes, a prefix of 257 */
	memset(url, 0, sizeof(url));
	memcpy(url, "https://", 8);
	memset(url + 8, 'h', CTL_HOST_MAX);
	refuse_url(url, bad);
	snprintf(url, sizeof(url), "https://p.test/");
	memset(url + strlen(url), 'a', CTL_PREFIX_MAX - 1);
	refuse_url(url, bad);
	url[strlen(url) - 1] = '\0'; /* 256 bytes: the longest prefix */
	accept_url(url, "p.test", CTL_PORTAL_PORT, url + strlen("https://p.test"), false);
}

struct tmpdir {
	char dir[64], file[96];
};

static int setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/sluice-dial.XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	snprintf(t->file, sizeof(t->file), "%s/token", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmpdir *t = *state;

	unlink(t->file);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Writes text, reads it back into a buffer of len bytes. */
static int read_text(const struct tmpdir *t, const char *text, char *tok, size_t len,
		     char *err, size_t errlen)
{
	write_file(t->file, text, strlen(text));
	memset(tok, 'X', len);
	err[0] = '\0';
	return ctl_token_read(t->file, tok, len, err, errlen);
}

static void test_token_file(void **state)
{
	struct tmpdir *t = *state;
	char tok[CTL_TOKEN_MAX], err[256], big[CTL_TOKEN_MAX + 8];

	/* the first word of the first line */
	assert_int_equal(read_text(t, "sl_abc\n", tok, sizeof(tok), err, sizeof(err)), 0);
	assert_string_equal(tok, "sl_abc");
	assert_int_equal(read_text(t, "sl_abc", tok, sizeof(tok), err, sizeof(err)), 0);
	assert_string_equal(tok, "sl_abc");
	assert_int_equal(read_text(t, " \t sl_abc  # a comment\nsl_other\n", tok, sizeof(tok),
				   err, sizeof(err)), 0);
	assert_string_equal(tok, "sl_abc");
	assert_int_equal(read_text(t, "sl_abc\r\n", tok, sizeof(tok), err, sizeof(err)), 0);
	assert_string_equal(tok, "sl_abc");
	assert_int_equal(read_text(t, "sl_abc\tsl_def", tok, sizeof(tok), err, sizeof(err)), 0);
	assert_string_equal(tok, "sl_abc");

	/* no token: empty, blank, or a blank first line */
	assert_int_equal(read_text(t, "", tok, sizeof(tok), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not hold a token"));
	assert_non_null(strstr(err, t->file));
	assert_int_equal(read_text(t, " \t \n", tok, sizeof(tok), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not hold a token"));
	assert_int_equal(read_text(t, "\nsl_abc\n", tok, sizeof(tok), err, sizeof(err)), -EINVAL);
	assert_int_equal(read_text(t, "  \r\nsl_abc\n", tok, sizeof(tok), err, sizeof(err)),
			 -EINVAL);

	/* a token that does not fit the buffer (NUL included) */
	assert_int_equal(read_text(t, "abcd\n", tok, 5, err, sizeof(err)), 0);
	assert_string_equal(tok, "abcd");
	assert_int_equal(read_text(t, "abcde\n", tok, 5, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not hold a token"));

	/* a file of CTL_TOKEN_MAX bytes is read; one byte more is refused whole */
	memset(big, 'a', sizeof(big));
	big[CTL_TOKEN_MAX - 2] = '\n';
	big[CTL_TOKEN_MAX - 1] = '\0'; /* 510 a's and a newline: 511 bytes */
	assert_int_equal(read_text(t, big, tok, sizeof(tok), err, sizeof(err)), 0);
	assert_int_equal(strlen(tok), CTL_TOKEN_MAX - 2);
	big[CTL_TOKEN_MAX - 2] = 'a';
	big[CTL_TOKEN_MAX - 1] = 'a';
	big[CTL_TOKEN_MAX] = '\0'; /* 512 a's: no room for the NUL */
	assert_int_equal(read_text(t, big, tok, sizeof(tok), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not hold a token"));
	memcpy(big, "sl_abc\n", 7); /* a short token, but 512 bytes in all */
	assert_int_equal(read_text(t, big, tok, sizeof(tok), err, sizeof(err)), 0);
	assert_string_equal(tok, "sl_abc");
	big[CTL_TOKEN_MAX] = 'a';
	big[CTL_TOKEN_MAX + 1] = '\0'; /* 513 bytes */
	assert_int_equal(read_text(t, big, tok, sizeof(tok), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not hold a token"));

	/* no file; a directory */
	unlink(t->file);
	err[0] = '\0';
	assert_int_equal(ctl_token_read(t->file, tok, sizeof(tok), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot read the token file"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	err[0] = '\0';
	assert_true(ctl_token_read(t->dir, tok, sizeof(tok), err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot read the token file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_accepted),
		cmocka_unit_test(test_url_refused),
		cmocka_unit_test_setup_teardown(test_token_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
